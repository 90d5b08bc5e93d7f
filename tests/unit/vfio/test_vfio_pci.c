// SPDX-License-Identifier: MIT
/*
 * The passthrough PCI device over a fake VFIO transport holding config
 * spaces captured from real functions (captured.h), with the recording
 * back ends of core's seams for the interrupt plumbing (fake_irq: GSI
 * routes, irqfds) and the BAR memory slots (fake_memslot).
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>

#include "core/irq.h"
#include "core/memslot.h"
#include "core/pci/host.h"
#include "core/pci/msi.h"
#include "core/pci/msix.h"
#include "core/util.h"
#include "fake_irq.h"
#include "fake_memslot.h"
#include "fake_vfio.h"
#include "tests/unit/core/pci/pci_test_util.h"
#include "vfio/pci_internal.h"

#define MMIO64_BASE (64 * GiB)

static struct irq *irq;
static struct fake_irq *fake;
static struct fake_memslots *fslots;
static struct bus *bus;
static struct pci_host *host;
static struct memslots *slots;
static struct vfio_ctx ctx;

static void setup(void)
{
	ck_assert_int_eq(fake_irq_create(&irq, &fake), 0);
	ck_assert_int_eq(bus_create(&bus), 0);
	ck_assert_int_eq(pci_host_create(bus, irq, MMIO64_BASE, LAYOUT_MMIO64_SIZE,
					 &host), 0);
	ck_assert_int_eq(fake_memslots_create(&slots, &fslots), 0);
	ctx = (struct vfio_ctx){ .irq = irq, .bus = bus, .slots = slots };
}

static void teardown(void)
{
	pci_host_destroy(host);
	memslots_destroy(slots);
	bus_destroy(bus);
	irq_destroy(irq);
}

/* Config accesses through ECAM (reaches the extended space too). */
static uint32_t rd(unsigned slot, uint32_t off, uint32_t len)
{
	return (uint32_t)t_mmio_read(bus, t_ecam(slot, off), len);
}

static void wr(unsigned slot, uint32_t off, uint32_t v, uint32_t len)
{
	t_mmio_write(bus, t_ecam(slot, off), v, len);
}

static struct vfio_pci *make(struct fake_vfio *f,
			     const struct vfio_pci_config *cfg)
{
	struct vfio_pci *v = NULL;
	char err[256] = "";
	int ret;

	f->keep_alive = true;
	ret = vfio_pci_create(&f->dev, cfg, &ctx, &v, err, sizeof(err));
	ck_assert_msg(ret == 0, "create: %d %s", ret, err);
	ck_assert_int_eq(pci_host_add(host, vfio_pci_dev(v)), 0);
	return v;
}

static void fake_free(struct fake_vfio *f)
{
	f->keep_alive = false;
	fake_release(&f->dev);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void signal_fd(int fd)
{
	uint64_t one = 1;

	ck_assert_int_eq(write(fd, &one, 8), 8);
}

/* The guest's walk of the capability list: ids in order, 0-terminated. */
static unsigned cap_ids(unsigned slot, uint8_t *ids, uint32_t *offs)
{
	uint32_t off;
	unsigned n = 0;

	if (!(rd(slot, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	off = rd(slot, PCI_CAPABILITY_LIST, 1);
	while (off && n < 48) {
		ids[n] = (uint8_t)rd(slot, off, 1);
		offs[n++] = off;
		off = rd(slot, off + 1, 1) & 0xfc;
	}
	return n;
}

START_TEST(vf_config_virtualized)
{
	struct fake_vfio *f = fake_nvme_vf();
	struct vfio_pci_config cfg = { 0 };
	struct vfio_pci *v = make(f, &cfg);
	uint8_t ids[48];
	uint32_t offs[48];
	unsigned n;

	ck_assert_uint_eq(rd(1, PCI_VENDOR_ID, 4), 0x00101b36);
	ck_assert_uint_eq(rd(1, PCI_REVISION_ID, 4) >> 8, 0x010802);
	ck_assert_uint_eq(rd(1, PCI_HEADER_TYPE, 1), 0);
	/* MSI-X 0x40 -> PCIe 0x80 -> PM 0x60, as on the device. */
	n = cap_ids(1, ids, offs);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(ids[0], PCI_CAP_ID_MSIX);
	ck_assert_uint_eq(offs[0], 0x40);
	ck_assert_uint_eq(ids[1], PCI_CAP_ID_EXP);
	ck_assert_uint_eq(offs[1], 0x80);
	ck_assert_uint_eq(ids[2], PCI_CAP_ID_PM);
	ck_assert_uint_eq(offs[2], 0x60);
	/* An Endpoint on the root bus becomes an RC integrated endpoint. */
	ck_assert_uint_eq((rd(1, 0x82, 2) >> 4) & 0xf, PCI_EXP_TYPE_RC_END);
	ck_assert_uint_eq(rd(1, 0x82, 2) & 0xf, 2);
	ck_assert_uint_eq(rd(1, 0x8c, 4), 0); /* link capabilities: none */
	ck_assert(f->cfg[0x8c] != 0);         /* ...although the device has them */
	ck_assert(rd(1, 0x84, 4) & PCI_EXP_DEVCAP_FLR);
	/* Extended capabilities hidden (the VF has ARI at 0x100). */
	ck_assert_uint_eq(rd(1, 0x100, 4), 0);
	ck_assert_uint_ne(f->cfg[0x100], 0);
	/* No INTx on a VF; MSI-X: one vector, table in BAR0 at 0x2000. */
	ck_assert_uint_eq(rd(1, PCI_INTERRUPT_PIN, 1), 0);
	ck_assert_uint_eq(rd(1, 0x42, 2), 0);
	ck_assert_uint_eq(rd(1, 0x44, 4), 0x2000);
	ck_assert_uint_eq(rd(1, 0x48, 4), 0x3000);
	/* BAR0 is 64-bit, placed in the 64-bit window. */
	ck_assert_uint_eq(rd(1, PCI_BASE_ADDRESS_0, 4) & 0xf, PCI_BAR_MEM64_FLAG);
	ck_assert_uint_ge(pci_dev_bar_mapped(vfio_pci_dev(v), 0), MMIO64_BASE);
	ck_assert_int_eq(vfio_pci_set_intx_gsi(v, 10), -ENOTSUP);
	pci_host_destroy(host);
	host = NULL;
	vfio_pci_destroy(v);
	ck_assert(f->released);
	ck_assert_uint_eq(f->resets, 2); /* at start and at stop */
	fake_free(f);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
}
END_TEST

START_TEST(e1000e_bars_rom_command)
{
	struct fake_vfio *f = fake_e1000e();
	struct vfio_pci_config cfg = { 0 };
	struct vfio_pci *v = make(f, &cfg);
	uint8_t ids[48];
	uint32_t offs[48];
	uint64_t bar0;

	ck_assert_uint_eq(cap_ids(1, ids, offs), 4);
	ck_assert_uint_eq(ids[0], PCI_CAP_ID_PM);
	ck_assert_uint_eq(ids[1], PCI_CAP_ID_MSI);
	ck_assert_uint_eq(ids[2], PCI_CAP_ID_EXP); /* version 1, 0x14 bytes */
	ck_assert_uint_eq(ids[3], PCI_CAP_ID_MSIX);
	ck_assert_uint_eq(rd(1, 0x100, 4), 0); /* AER hidden */
	/* Decode on: the device was told (host's 0x0103 -> IO|MEM). */
	ck_assert_uint_eq(f->cfg[PCI_COMMAND] & 7, 3);
	/* BAR sizing (PCI 3.0 sec 6.2.5.1). */
	bar0 = rd(1, PCI_BASE_ADDRESS_0, 4);
	wr(1, PCI_COMMAND, 0, 2);
	ck_assert_uint_eq(f->cfg[PCI_COMMAND] & 7, 0);
	wr(1, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	ck_assert_uint_eq(rd(1, PCI_BASE_ADDRESS_0, 4), 0xfffe0000);
	wr(1, PCI_BASE_ADDRESS_0 + 8, 0xffffffff, 4);
	ck_assert_uint_eq(rd(1, PCI_BASE_ADDRESS_0 + 8, 4), 0xffffffe1);
	wr(1, PCI_BASE_ADDRESS_0 + 12, 0xffffffff, 4);
	ck_assert_uint_eq(rd(1, PCI_BASE_ADDRESS_0 + 12, 4), 0xffffc000);
	wr(1, PCI_BASE_ADDRESS_0, (uint32_t)bar0, 4);
	/* The device's own BARs are never written. */
	ck_assert_uint_eq(f->cfg[0x12], 0x24);
	/* Expansion ROM: 256 KiB, enable bit writable. */
	wr(1, PCI_ROM_ADDRESS, 0xffffffff, 4);
	ck_assert_uint_eq(rd(1, PCI_ROM_ADDRESS, 4), 0xfffc0001);
	/* ROM at 0xc8000000, readable through the ROM region. */
	ck_assert_int_eq(pwrite(f->bar_fd[VFIO_PCI_ROM_REGION_INDEX], "\x55\xaa", 2, 0), 2);
	wr(1, PCI_ROM_ADDRESS, 0xc8000001, 4);
	wr(1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ck_assert_uint_eq(f->cfg[PCI_COMMAND] & 7, 6);
	ck_assert_uint_eq(t_mmio_read(bus, 0xc8000000, 2), 0xaa55);
	wr(1, PCI_ROM_ADDRESS, 0xc8000000, 4); /* disabled: gone */
	ck_assert_uint_eq(t_mmio_read(bus, 0xc8000000, 2), 0xffff);
	/* STATUS: live from the device; RW1C error bits forwarded. */
	f->cfg[PCI_STATUS + 1] = 0x80;
	ck_assert_uint_eq(rd(1, PCI_STATUS, 2), 0x8010);
	f->cfg[PCI_STATUS + 1] = 0;
	wr(1, PCI_STATUS, 0x8000, 2);
	ck_assert_uint_eq(f->cfg[PCI_STATUS + 1], 0x80); /* the W1C write went through */
	pci_host_destroy(host);
	host = NULL;
	vfio_pci_destroy(v);
	fake_free(f);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);

	/* rom=off hides the ROM BAR. */
	f = fake_e1000e();
	cfg.rom_off = true;
	v = make(f, &cfg);
	wr(1, PCI_ROM_ADDRESS, 0xffffffff, 4);
	ck_assert_uint_eq(rd(1, PCI_ROM_ADDRESS, 4), 0);
	pci_host_destroy(host);
	host = NULL;
	vfio_pci_destroy(v);
	fake_free(f);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
}
END_TEST

/* The memory slot at gpa maps size bytes of hva, writable. */
static void t_expect_slot(uint64_t gpa, uint64_t size, void *hva)
{
	struct fake_memslot m;

	ck_assert(fake_memslots_lookup(fslots, gpa, &m));
	ck_assert_uint_eq(m.gpa, gpa);
	ck_assert_uint_eq(m.size, size);
	ck_assert_ptr_eq(m.hva, hva);
	ck_assert(!m.readonly);
}

/* Polling the irqfds delivers one MSI with this data. */
static void t_expect_msi(uint32_t data)
{
	ck_assert_uint_eq(fake_irq_poll(fake), 1);
	ck_assert_uint_eq(fake_irq_msi_get(fake, fake_irq_msi_count(fake) - 1).data,
			  data);
}

START_TEST(bar_memslots_follow_the_bar)
{
	struct fake_vfio *f = fake_nvme_vf();
	struct vfio_pci_config cfg = { 0 };
	struct vfio_pci *v = make(f, &cfg);
	struct vfio_pci_bar *b = &v->bars[0];
	uint64_t addr = pci_dev_bar_mapped(vfio_pci_dev(v), 0), moved;
	uint32_t x = 0x12345678, y = 0;

	/* Doorbells page mmapped, MSI-X table + PBA pages trapped. */
	ck_assert_uint_eq(b->nr_spans, 2);
	ck_assert(b->spans[0].mmap && b->spans[0].off == 0 &&
		  b->spans[0].size == 0x2000);
	ck_assert(!b->spans[1].mmap && b->spans[1].size == 0x2000);
	ck_assert_int_ge(b->slots[0], 0);
	ck_assert_uint_eq(b->gpa, addr);
	t_expect_slot(addr, 0x2000, b->maps[0]);
	/* The mmap is the device's memory: trapped reads see mmap writes. */
	memcpy((uint8_t *)b->maps[0] + 0x10, &x, 4);
	ck_assert_uint_eq(t_mmio_read(bus, addr + 0x10, 4), x);
	/* Trapped, non-MSI-X bytes of the table page reach the device. */
	t_mmio_write(bus, addr + 0x2800, 0xcafe, 4);
	ck_assert_int_eq(pread(f->bar_fd[0], &y, 4, 0x2800), 4);
	ck_assert_uint_eq(y, 0xcafe);
	/* The guest moves the BAR: the slot follows. */
	moved = addr + 0x100000;
	wr(1, PCI_BASE_ADDRESS_0, (uint32_t)moved | 4, 4);
	wr(1, PCI_BASE_ADDRESS_0 + 4, (uint32_t)(moved >> 32), 4);
	ck_assert_uint_eq(pci_dev_bar_mapped(vfio_pci_dev(v), 0), moved);
	ck_assert_uint_eq(b->gpa, moved);
	ck_assert_int_ge(b->slots[0], 0);
	t_expect_slot(moved, 0x2000, b->maps[0]);
	ck_assert(!fake_memslots_lookup(fslots, addr, &(struct fake_memslot){ 0 }));
	/* Memory decode off: no slot; on: back. */
	wr(1, PCI_COMMAND, 0, 2);
	ck_assert_int_eq(b->slots[0], -1);
	ck_assert_uint_eq(fake_memslots_count(fslots), 0);
	ck_assert_uint_eq(b->gpa, PCI_BAR_UNMAPPED);
	ck_assert_uint_eq(f->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY, 0);
	wr(1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	ck_assert_int_ge(b->slots[0], 0);
	ck_assert_uint_eq(f->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY,
			  PCI_COMMAND_MEMORY);
	pci_host_destroy(host);
	host = NULL;
	vfio_pci_destroy(v);
	fake_free(f);
	ck_assert_int_eq(pci_host_create(bus, irq, MMIO64_BASE, LAYOUT_MMIO64_SIZE,
					 &host), 0);

	/* no-mmap=0: the whole BAR is trapped, no slot. */
	f = fake_nvme_vf();
	cfg.no_mmap_bars = 1u << 0;
	v = make(f, &cfg);
	ck_assert_uint_eq(v->bars[0].nr_spans, 1);
	ck_assert(!v->bars[0].spans[0].mmap);
	ck_assert_int_eq(v->bars[0].slots[0], -1);
	addr = pci_dev_bar_mapped(vfio_pci_dev(v), 0);
	t_mmio_write(bus, addr + 0x1000, 0x77, 4);
	ck_assert_int_eq(pread(f->bar_fd[0], &y, 4, 0x1000), 4);
	ck_assert_uint_eq(y, 0x77);
	ck_assert_uint_ge(v->trapped, 1);
	pci_host_destroy(host);
	host = NULL;
	vfio_pci_destroy(v);
	fake_free(f);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
}
END_TEST

/*
 * Vector vec of v's MSI-X table model: 0 and its GSI, or -ENOENT when it
 * has no route; its eventfd (what VFIO was given) and whether that is an
 * irqfd now.
 */
static int msix_vec(struct vfio_pci *v, unsigned vec, uint32_t *gsi,
		    int *efd, bool *attached)
{
	struct pci_dev *d = vfio_pci_dev(v);

	*efd = pci_msix_vector_fd(d, vec);
	*attached = pci_msix_vector_irqfd(d, vec);
	return pci_msix_vector_gsi(d, vec, gsi);
}

/* e1000e MSI-X: table at BAR3+0, PBA at BAR3+0x2000, 5 vectors. */
static uint64_t msix_pba(uint64_t bar3)
{
	return t_mmio_read(bus, bar3 + 0x2000, 8);
}

static void msix_entry(uint64_t bar3, unsigned i, uint32_t addr,
		       uint32_t data, uint32_t ctrl)
{
	t_mmio_write(bus, bar3 + 16 * i, addr, 4);
	t_mmio_write(bus, bar3 + 16 * i + 4, 0, 4);
	t_mmio_write(bus, bar3 + 16 * i + 8, data, 4);
	t_mmio_write(bus, bar3 + 16 * i + 12, ctrl, 4);
}

START_TEST(msix_vectors_route_mask_pending)
{
	struct fake_vfio *f = fake_e1000e();
	struct vfio_pci_config cfg = { 0 };
	struct vfio_pci *v = make(f, &cfg);
	uint64_t bar3 = pci_dev_bar_mapped(vfio_pci_dev(v), 3);
	struct fake_set *s;
	uint32_t gsi, data;
	uint64_t addr;
	int efd;
	bool att;

	/* MSI-X table and PBA pages are trapped, nothing is mmapped in BAR3. */
	ck_assert(!v->bars[3].spans[0].mmap);
	ck_assert_uint_eq(rd(1, 0xa2, 2) & PCI_MSIX_FLAGS_QSIZE, 4);
	ck_assert_uint_eq(t_mmio_read(bus, bar3 + 12, 4), 1); /* masked at reset */
	wr(1, 0xa2, PCI_MSIX_FLAGS_ENABLE, 2);
	/* One vector handed to VFIO at enable. */
	s = &f->sets[f->nr_sets - 1];
	ck_assert(s->index == VFIO_PCI_MSIX_IRQ_INDEX && s->count == 1 && s->has_fds);
	ck_assert_uint_eq(vfio_pci_msix_hw_count(v), 1);
	/* Vector 0 went to VFIO masked: what the device sends on it waits in
	 * the eventfd and reads as its PBA bit (PCI 3.0 §6.8.2.9). */
	efd = f->trigger[VFIO_PCI_MSIX_IRQ_INDEX][0];
	signal_fd(efd);
	ck_assert_uint_eq(fake_irq_poll(fake), 0);
	ck_assert_uint_eq(msix_pba(bar3), 1);
	ck_assert_int_eq(read(efd, &(uint64_t){ 0 }, 8), 8);
	ck_assert_uint_eq(msix_pba(bar3), 0);
	/* Unmasking vector 1 grows to 2: NORESIZE means off, then on with 2. */
	msix_entry(bar3, 1, 0xfee00000, 0x41, 0);
	ck_assert_uint_eq(vfio_pci_msix_hw_count(v), 2);
	s = &f->sets[f->nr_sets - 2];
	ck_assert(s->count == 0 && !s->has_fds);
	s = &f->sets[f->nr_sets - 1];
	ck_assert(s->count == 2 && s->has_fds && s->start == 0);
	ck_assert_int_eq(msix_vec(v, 1, &gsi, &efd, &att), 0);
	ck_assert(att);
	ck_assert_uint_ge(gsi, LAYOUT_GSI_IOAPIC_PINS);
	ck_assert_int_eq(f->trigger[VFIO_PCI_MSIX_IRQ_INDEX][1], efd);
	ck_assert_uint_eq(t_mmio_read(bus, bar3 + 16 + 8, 4), 0x41);
	/* The device fires: the irqfd delivers the entry's message. */
	signal_fd(efd);
	t_expect_msi(0x41);
	ck_assert(!readable(efd));
	ck_assert_uint_eq(msix_pba(bar3), 0);
	/* Masked: the irqfd is detached, the message waits in the eventfd. */
	t_mmio_write(bus, bar3 + 16 + 12, 1, 4);
	ck_assert_int_eq(msix_vec(v, 1, &gsi, &efd, &att), 0);
	ck_assert(!att);
	ck_assert_int_eq(fake_irq_irqfd_gsi(fake, efd, &gsi), -ENOENT);
	signal_fd(efd);
	ck_assert_uint_eq(fake_irq_poll(fake), 0);
	ck_assert(readable(efd));
	ck_assert_uint_eq(msix_pba(bar3), 1u << 1);
	ck_assert_uint_eq(t_mmio_read(bus, bar3 + 0x2000, 4), 1u << 1);
	/* Address change while masked updates the route. */
	t_mmio_write(bus, bar3 + 16 + 8, 0x42, 4);
	/* Unmasked: re-attached, no longer pending. */
	t_mmio_write(bus, bar3 + 16 + 12, 0, 4);
	ck_assert_int_eq(msix_vec(v, 1, &gsi, &efd, &att), 0);
	ck_assert(att);
	ck_assert_uint_eq(msix_pba(bar3), 0);
	ck_assert(fake_irq_route(fake, gsi, &addr, &data));
	ck_assert_uint_eq(data, 0x42);
	/* ...and the message that waited goes out through the new route. */
	t_expect_msi(0x42);
	/* Function mask detaches every vector. */
	wr(1, 0xa2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	msix_vec(v, 1, &gsi, &efd, &att);
	ck_assert(!att);
	wr(1, 0xa2, PCI_MSIX_FLAGS_ENABLE, 2);
	msix_vec(v, 1, &gsi, &efd, &att);
	ck_assert(att);
	/* Hostile accesses: unaligned, wrong size, PBA writes: ignored. */
	t_mmio_write(bus, bar3 + 16 + 2, 0xffff, 2);
	t_mmio_write(bus, bar3 + 0x2000, ~0ULL, 8);
	ck_assert_uint_eq(t_mmio_read(bus, bar3 + 16, 4), 0xfee00000);
	/* Disable: VFIO's index off (INTx, wired at plug, comes back after
	 * it), routes and eventfds gone. */
	wr(1, 0xa2, 0, 2);
	s = &f->sets[f->nr_sets - 1];
	while (s > f->sets && s->index != VFIO_PCI_MSIX_IRQ_INDEX)
		s--;
	ck_assert(s->index == VFIO_PCI_MSIX_IRQ_INDEX && s->count == 0);
	ck_assert_int_eq(msix_vec(v, 1, &gsi, &efd, &att), -ENOENT);
	ck_assert_uint_eq(vfio_pci_msix_hw_count(v), 0);
	/* The table survives disable (it lives in the BAR). */
	ck_assert_uint_eq(t_mmio_read(bus, bar3 + 16 + 8, 4), 0x42);
	pci_host_destroy(host);
	host = NULL;
	vfio_pci_destroy(v);
	fake_free(f);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
}
END_TEST

START_TEST(msi_and_intx)
{
	struct fake_vfio *f = fake_e1000e();
	struct vfio_pci_config cfg = { 0 };
	struct vfio_pci *v = make(f, &cfg);
	uint32_t gsi;
	int fd;

	/*
	 * INTx: the host bridge wired INTA# of slot 1 when it plugged the
	 * function (intx_connect): the pin and the slot's _PRT GSI in
	 * config space, trigger + unmask eventfds in VFIO.
	 */
	uint32_t line = layout_pci_intx_gsi(1, 0);

	ck_assert_uint_eq(rd(1, PCI_INTERRUPT_PIN, 1), 1);
	ck_assert_uint_eq(rd(1, PCI_INTERRUPT_LINE, 1), line);
	fd = f->trigger[VFIO_PCI_INTX_IRQ_INDEX][0];
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(f->unmask[0], 0);
	/* A level-triggered irqfd whose resample fd is VFIO's unmask. */
	ck_assert_int_eq(fake_irq_irqfd_gsi(fake, fd, &gsi), 0);
	ck_assert_uint_eq(gsi, line);
	ck_assert_int_eq(fake_irq_irqfd_resample(fake, fd), f->unmask[0]);
	signal_fd(fd);
	ck_assert_uint_eq(fake_irq_poll(fake), 1);
	ck_assert_int_eq(fake_irq_line(fake, line), 1);
	ck_assert(!readable(fd));
	/* MSI (cap 0xd0, 64-bit, not maskable): INTx goes off. */
	wr(1, 0xd4, 0xfee00000, 4);
	wr(1, 0xd8, 0, 4);
	wr(1, 0xdc, 0x51, 2);
	wr(1, 0xd2, PCI_MSI_FLAGS_ENABLE, 2);
	ck_assert_int_eq(f->trigger[VFIO_PCI_INTX_IRQ_INDEX][0], -1);
	fd = f->trigger[VFIO_PCI_MSI_IRQ_INDEX][0];
	ck_assert_int_ge(fd, 0);
	ck_assert(v->msi.attached[0] && v->msi.routed[0]);
	ck_assert_int_eq(fake_irq_irqfd_gsi(fake, fd, &gsi), 0);
	ck_assert_uint_ge(gsi, LAYOUT_GSI_IOAPIC_PINS);
	signal_fd(fd);
	t_expect_msi(0x51);
	ck_assert(!readable(fd));
	/* Disable MSI: INTx comes back. */
	wr(1, 0xd2, 0, 2);
	ck_assert_int_eq(f->trigger[VFIO_PCI_MSI_IRQ_INDEX][0], -1);
	ck_assert_int_ge(f->trigger[VFIO_PCI_INTX_IRQ_INDEX][0], 0);
	pci_host_destroy(host);
	host = NULL;
	vfio_pci_destroy(v);
	ck_assert_int_eq(f->trigger[VFIO_PCI_INTX_IRQ_INDEX][0], -1);
	fake_free(f);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
}
END_TEST

START_TEST(flr_resets_device_and_model)
{
	struct fake_vfio *f = fake_nvme_vf();
	struct vfio_pci_config cfg = { 0 };
	struct vfio_pci *v = make(f, &cfg);
	unsigned resets = f->resets;

	wr(1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	wr(1, 0x40 + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	ck_assert_uint_eq(vfio_pci_msix_hw_count(v), 1);
	/* Device Control (cap 0x80 + 8), Initiate FLR. */
	wr(1, 0x88, 0x8000, 2);
	ck_assert_uint_eq(f->resets, resets + 1);
	ck_assert_uint_eq(rd(1, 0x88, 2) & 0x8000, 0);
	ck_assert_uint_eq(rd(1, PCI_COMMAND, 2), 0);
	ck_assert_uint_eq(rd(1, 0x42, 2) & PCI_MSIX_FLAGS_ENABLE, 0);
	ck_assert_uint_eq(vfio_pci_msix_hw_count(v), 0);
	ck_assert_uint_eq(pci_dev_bar_mapped(vfio_pci_dev(v), 0), PCI_BAR_UNMAPPED);
	ck_assert_int_eq(v->bars[0].slots[0], -1);
	pci_host_destroy(host);
	host = NULL;
	vfio_pci_destroy(v);
	fake_free(f);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
}
END_TEST

START_TEST(vendor_caps_hidden_unless_kept)
{
	struct vfio_pci_config cfg = { 0 };
	struct fake_vfio *f = fake_nvme_vf();
	struct vfio_pci *v;
	uint8_t ids[48];
	uint32_t offs[48];
	unsigned n;

	/* Append a vendor-specific capability (len 8) after PM. */
	f->cfg[0x61] = 0xc0;
	memcpy(&f->cfg[0xc0], "\x09\x00\x08\xaa\xbb\xcc\xdd\xee", 8);
	v = make(f, &cfg);
	n = cap_ids(1, ids, offs);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(rd(1, 0xc4, 4), 0); /* hidden bytes read zero */
	pci_host_destroy(host);
	host = NULL;
	vfio_pci_destroy(v);
	fake_free(f);
	ck_assert_int_eq(pci_host_create(bus, irq, MMIO64_BASE, LAYOUT_MMIO64_SIZE,
					 &host), 0);

	f = fake_nvme_vf();
	f->cfg[0x61] = 0xc0;
	memcpy(&f->cfg[0xc0], "\x09\x00\x08\xaa\xbb\xcc\xdd\xee", 8);
	cfg.keep_vendor_caps = true;
	v = make(f, &cfg);
	n = cap_ids(1, ids, offs);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(ids[3], PCI_CAP_ID_VNDR);
	ck_assert_uint_eq(rd(1, 0xc4, 4), 0xeeddccbb);
	wr(1, 0xc4, 0x01020304, 4); /* passed through to the device */
	ck_assert_uint_eq(f->cfg[0xc4], 0x04);
	ck_assert_uint_eq(rd(1, 0xc4, 4), 0x01020304);
	pci_host_destroy(host);
	host = NULL;
	vfio_pci_destroy(v);
	fake_free(f);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
}
END_TEST

START_TEST(hostile_capability_lists)
{
	struct vfio_pci_config cfg = { 0 };
	struct fake_vfio *f = fake_nvme_vf();
	struct vfio_pci *v = NULL;
	uint8_t ids[48];
	uint32_t offs[48];
	char err[256];

	/* A loop (PM -> MSI-X) must not hang: each cap is seen once. */
	f->cfg[0x61] = 0x40;
	v = make(f, &cfg);
	ck_assert_uint_eq(cap_ids(1, ids, offs), 3);
	pci_host_destroy(host);
	host = NULL;
	vfio_pci_destroy(v);
	fake_free(f);

	/* An MSI-X table outside its BAR: MSI-X hidden, device still usable. */
	f = fake_nvme_vf();
	f->cfg[0x45] = 0x40; /* table at 0x4000 = past the 16 KiB BAR */
	f->keep_alive = true;
	ck_assert_int_eq(vfio_pci_create(&f->dev, &cfg, &ctx, &v, err,
					    sizeof(err)), 0);
	ck_assert(!v->msix.present);
	ck_assert_uint_eq(pci_cfg_find_cap(&vfio_pci_dev(v)->cfg, PCI_CAP_ID_MSIX), 0);
	vfio_pci_destroy(v);
	fake_free(f);

	/* A function that does not answer is refused with a reason. */
	f = fake_nvme_vf();
	memset(f->cfg, 0xff, 4);
	f->keep_alive = true;
	err[0] = '\0';
	ck_assert_int_eq(vfio_pci_create(&f->dev, &cfg, &ctx, &v, err,
					    sizeof(err)), -EIO);
	ck_assert(strstr(err, "does not respond"));
	ck_assert(f->released);
	fake_free(f);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vfio-pci");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, vf_config_virtualized);
	tcase_add_test(tc, e1000e_bars_rom_command);
	tcase_add_test(tc, bar_memslots_follow_the_bar);
	tcase_add_test(tc, msix_vectors_route_mask_pending);
	tcase_add_test(tc, msi_and_intx);
	tcase_add_test(tc, flr_resets_device_and_model);
	tcase_add_test(tc, vendor_caps_hidden_unless_kept);
	tcase_add_test(tc, hostile_capability_lists);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
