// SPDX-License-Identifier: MIT
/*
 * MSI emulation (routes + irqfds, as fake_irq records them), and the edu device:
 * registers, access-size rules, interrupts (INTx and MSI) and DMA bounds.
 */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "core/gmem.h"
#include "core/irq.h"
#include "core/pci/host.h"
#include "core/pci/msi.h"
#include "core/util.h"
#include "emul-devices/testdevs.h"
#include "fake_irq.h"
#include "pci_test_util.h"

#define RAM_SIZE (16 * MiB)

static struct irq *irq;
static struct fake_irq *fake;
static struct bus *bus;
static struct pci_host *host;
static struct gmem *mem;

static void setup(void)
{
	struct gmem_opts o = { .size = RAM_SIZE, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };

	ck_assert_int_eq(fake_irq_create(&irq, &fake), 0);
	ck_assert_int_eq(bus_create(&bus), 0);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
	ck_assert_int_eq(gmem_create(&o, &mem), 0);
}

static void teardown(void)
{
	pci_host_destroy(host);
	bus_destroy(bus);
	gmem_destroy(mem);
	irq_destroy(irq);
}

static const struct pci_dev_ops plain_ops = { 0 };

/* Walk the capability list like a guest; returns the MSI cap offset. */
static uint32_t find_msi(unsigned slot)
{
	uint32_t off;
	int n = 0;

	ck_assert(t_cf8_read(bus, slot, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	off = t_cf8_read(bus, slot, PCI_CAPABILITY_LIST, 1);
	while (off && n++ < 48) {
		if (t_cf8_read(bus, slot, off, 1) == PCI_CAP_ID_MSI)
			return off;
		off = t_cf8_read(bus, slot, off + 1, 1);
	}
	return 0;
}

START_TEST(msi_route_mask_pending)
{
	static const struct pci_id id = { .vendor = 0x1af4, .device = 0x1234 };
	struct pci_dev dev;
	struct pci_msi *msi;
	uint32_t cap, gsi[4], g;
	uint64_t sent;

	ck_assert_int_eq(pci_dev_init(&dev, &plain_ops, "msi4", &id), 0);
	ck_assert_int_eq(pci_msi_create(&dev, irq, 3, true, &msi), -EINVAL);
	ck_assert_int_eq(pci_msi_create(&dev, irq, 4, true, &msi), 0);
	ck_assert_int_eq(pci_host_add(host, &dev), 0);
	cap = find_msi(1);
	ck_assert_uint_eq(cap, 0x40);
	/* 64-bit, per-vector masking, MMC = log2(4). */
	ck_assert_uint_eq(t_cf8_read(bus, 1, cap + 2, 2), 0x0184);
	ck_assert_int_eq(pci_msi_notify(&dev, 0), -EAGAIN);

	t_cf8_write(bus, 1, cap + 4, 0xfee00000, 4);
	t_cf8_write(bus, 1, cap + 8, 0, 4);
	t_cf8_write(bus, 1, cap + 12, 0x4040, 2);
	/* Enable with MME = 2 (4 vectors); MMC is read-only. */
	t_cf8_write(bus, 1, cap + 2, 0x0021 | 0x000e, 2);
	ck_assert_uint_eq(t_cf8_read(bus, 1, cap + 2, 2), 0x01a5);
	ck_assert(pci_msi_enabled(&dev));
	for (unsigned v = 0; v < 4; v++) {
		ck_assert_int_eq(pci_msi_vector_gsi(&dev, v, &gsi[v]), 0);
		ck_assert_uint_ge(gsi[v], LAYOUT_GSI_IOAPIC_PINS);
		for (unsigned w = 0; w < v; w++)
			ck_assert_uint_ne(gsi[v], gsi[w]);
	}
	for (unsigned v = 0; v < 4; v++) {
		uint64_t a;
		uint32_t d;

		/* Multiple Message: the vector number in the low data bits. */
		ck_assert(fake_irq_route(fake, gsi[v], &a, &d));
		ck_assert_uint_eq(a, 0xfee00000ULL);
		ck_assert_uint_eq(d, 0x4040 + v);
	}
	ck_assert_int_eq(pci_msi_vector_gsi(&dev, 4, &g), -ENOENT);
	ck_assert_int_eq(pci_msi_notify(&dev, 4), -EAGAIN);
	sent = pci_msi_delivered(&dev);
	ck_assert_int_eq(pci_msi_notify(&dev, 3), 0);
	ck_assert_uint_eq(pci_msi_delivered(&dev), sent + 1);
	ck_assert_uint_eq(fake_irq_poll(fake), 1);
	ck_assert_uint_eq(fake_irq_msi_get(fake, fake_irq_msi_count(fake) - 1).data,
			  0x4043);

	/* Masked vector 1: pending bit instead, delivered on unmask. */
	t_cf8_write(bus, 1, cap + 16, 0x2, 4);
	ck_assert_int_eq(pci_msi_notify(&dev, 1), 0);
	ck_assert_uint_eq(pci_msi_delivered(&dev), sent + 1);
	ck_assert_uint_eq(t_cf8_read(bus, 1, cap + 20, 4), 0x2);
	/* Pending is read-only for the guest. */
	t_cf8_write(bus, 1, cap + 20, 0, 4);
	ck_assert_uint_eq(t_cf8_read(bus, 1, cap + 20, 4), 0x2);
	t_cf8_write(bus, 1, cap + 16, 0x0, 4);
	ck_assert_uint_eq(pci_msi_delivered(&dev), sent + 2);
	ck_assert_uint_eq(t_cf8_read(bus, 1, cap + 20, 4), 0);
	/* Only the 4 implemented mask bits are writable. */
	t_cf8_write(bus, 1, cap + 16, 0xffffffff, 4);
	ck_assert_uint_eq(t_cf8_read(bus, 1, cap + 16, 4), 0xf);
	t_cf8_write(bus, 1, cap + 16, 0, 4);

	/* Rewriting data keeps the GSIs (routes are updated in place). */
	t_cf8_write(bus, 1, cap + 12, 0x4050, 2);
	ck_assert_int_eq(pci_msi_vector_gsi(&dev, 0, &g), 0);
	ck_assert_uint_eq(g, gsi[0]);
	{
		uint64_t a;
		uint32_t d;

		ck_assert(fake_irq_route(fake, gsi[2], &a, &d));
		ck_assert_uint_eq(d, 0x4052);
	}
	/* Shrinking to 1 vector re-allocates. */
	t_cf8_write(bus, 1, cap + 2, 0x0001, 2);
	ck_assert_int_eq(pci_msi_vector_gsi(&dev, 1, &g), -ENOENT);
	ck_assert_int_eq(pci_msi_notify(&dev, 1), -EAGAIN);
	ck_assert_int_eq(pci_msi_notify(&dev, 0), 0);
	/* Disable: routes freed. */
	t_cf8_write(bus, 1, cap + 2, 0x0000, 2);
	ck_assert(!pci_msi_enabled(&dev));
	ck_assert_uint_eq(fake_irq_msi_routes(fake), 0);
	ck_assert_uint_eq(fake_irq_irqfds(fake), 0);
	ck_assert_int_eq(pci_msi_vector_gsi(&dev, 0, &g), -ENOENT);
	ck_assert_int_eq(pci_msi_notify(&dev, 0), -EAGAIN);

	pci_host_destroy(host);
	host = NULL;
	pci_msi_destroy(msi);
	ck_assert_ptr_null(dev.msi);
	pci_dev_fini(&dev);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
}
END_TEST

/* Without KVM the vector eventfds are readable: one signal per notify. */
START_TEST(msi_eventfd_only)
{
	static const struct pci_id id = { .vendor = 0x1af4, .device = 0x1234 };
	struct pci_dev dev;
	struct pci_msi *msi;
	uint64_t v = 0;
	int fd;

	ck_assert_int_eq(pci_dev_init(&dev, &plain_ops, "msi1", &id), 0);
	ck_assert_int_eq(pci_msi_create(&dev, NULL, 1, false, &msi), 0);
	ck_assert_uint_eq(pci_cfg_find_cap(&dev.cfg, PCI_CAP_ID_MSI), 0x40);
	pthread_mutex_lock(&dev.lock);
	pci_dev_cfg_write(&dev, 0x40 + 2, 1, 2);
	pthread_mutex_unlock(&dev.lock);
	fd = pci_msi_vector_fd(&dev, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pci_msi_notify(&dev, 0), 0);
	ck_assert_int_eq(pci_msi_notify(&dev, 0), 0);
	ck_assert_int_eq(read(fd, &v, sizeof(v)), (int)sizeof(v));
	ck_assert_uint_eq(v, 2);
	pci_msi_destroy(msi);
	pci_dev_fini(&dev);
}
END_TEST

static uint64_t edu_base;

static uint32_t edu_rd(uint64_t off)
{
	return (uint32_t)t_mmio_read(bus, edu_base + off, 4);
}

static void edu_wr(uint64_t off, uint64_t v, uint32_t len)
{
	t_mmio_write(bus, edu_base + off, v, len);
}

static struct edu *edu_plug(void)
{
	struct pci_dev_ctx ctx = { .mem = mem, .irq = irq, .bus = bus };
	struct edu *e;

	ck_assert_int_eq(edu_create(&ctx, &e), 0);
	ck_assert_int_eq(pci_host_add(host, edu_pci(e)), 0);
	ck_assert_uint_eq(t_cf8_read(bus, 1, 0, 4), 0x11e81234);
	ck_assert_uint_eq(t_cf8_read(bus, 1, 8, 1), 0x10);
	ck_assert_uint_eq(t_cf8_read(bus, 1, PCI_INTERRUPT_PIN, 1), 1);
	edu_base = t_cf8_read(bus, 1, 0x10, 4) & ~0xfULL;
	t_cf8_write(bus, 1, 0x10, 0xffffffff, 4);
	ck_assert_uint_eq(t_cf8_read(bus, 1, 0x10, 4), 0xfff00000);
	t_cf8_write(bus, 1, 0x10, (uint32_t)edu_base, 4);
	return e;
}

static void edu_unplug(struct edu *e)
{
	pci_host_destroy(host);
	host = NULL;
	edu_destroy(e);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
}

START_TEST(edu_registers)
{
	struct edu *e = edu_plug();
	uint64_t v;

	ck_assert_uint_eq(edu_rd(0x00), 0x010000ed);
	edu_wr(0x04, 0x12345678, 4);
	ck_assert_uint_eq(edu_rd(0x04), ~0x12345678u);
	/* Access sizes: 4 only below 0x80, 4 or 8 above. */
	ck_assert_uint_eq(t_mmio_read(bus, edu_base, 2), 0xffff);
	ck_assert_uint_eq(t_mmio_read(bus, edu_base, 8), UINT64_MAX);
	edu_wr(0x04, 0, 2); /* ignored */
	ck_assert_uint_eq(edu_rd(0x04), ~0x12345678u);
	edu_wr(0x80, 0x1122334455667788ULL, 8);
	ck_assert_uint_eq(t_mmio_read(bus, edu_base + 0x80, 8),
			  0x1122334455667788ULL);
	edu_wr(0x80, 0x1, 2); /* ignored */
	ck_assert_uint_eq(t_mmio_read(bus, edu_base + 0x80, 8),
			  0x1122334455667788ULL);
	/* Unknown registers read all-ones. */
	ck_assert_uint_eq(edu_rd(0x10), 0xffffffff);
	/* Factorial, with the status semantics kept. */
	edu_wr(0x08, 5, 4);
	ck_assert_uint_eq(edu_rd(0x20) & 1, 0);
	ck_assert_uint_eq(edu_rd(0x08), 120);
	edu_wr(0x08, 13, 4);
	ck_assert_uint_eq(edu_rd(0x08), 1932053504u); /* 13! mod 2^32 */
	/* Status: only IRQFACT is writable. */
	edu_wr(0x20, 0xff, 4);
	ck_assert_uint_eq(edu_rd(0x20), 0x80);
	edu_wr(0x08, 3, 4);
	ck_assert_uint_eq(edu_rd(0x24), 0x1); /* FACT irq raised */
	edu_wr(0x64, 0x1, 4);
	ck_assert_uint_eq(edu_rd(0x24), 0);
	v = t_mmio_read(bus, edu_base + 0x98, 8);
	ck_assert_uint_eq(v, 0);
	edu_unplug(e);
}
END_TEST

START_TEST(edu_interrupts)
{
	struct edu *e = edu_plug();
	uint32_t cap, gsi;

	/*
	 * INTx: the host bridge wired INTA# of slot 1 to its _PRT GSI and
	 * wrote it to Interrupt Line; the line follows the device's
	 * interrupt state, STATUS.INTERRUPT too, INTx Disable masks the line.
	 */
	gsi = layout_pci_intx_gsi(1, 0);
	ck_assert_uint_eq(t_cf8_read(bus, 1, PCI_INTERRUPT_LINE, 1), gsi);
	edu_wr(0x60, 0x40, 4);
	ck_assert_uint_eq(edu_rd(0x24), 0x40);
	ck_assert(t_cf8_read(bus, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	ck_assert_int_eq(fake_irq_line(fake, gsi), 1);
	t_cf8_write(bus, 1, PCI_COMMAND,
		    t_cf8_read(bus, 1, PCI_COMMAND, 2) | PCI_COMMAND_INTX_DISABLE, 2);
	edu_wr(0x60, 0x40, 4); /* re-evaluated on the next change */
	ck_assert_int_eq(fake_irq_line(fake, gsi), 0);
	t_cf8_write(bus, 1, PCI_COMMAND,
		    t_cf8_read(bus, 1, PCI_COMMAND, 2) & ~PCI_COMMAND_INTX_DISABLE, 2);
	edu_wr(0x64, 0x40, 4);
	ck_assert(!(t_cf8_read(bus, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT));
	ck_assert_int_eq(fake_irq_line(fake, gsi), 0);

	/* MSI: one vector, 64-bit, no masking (like QEMU's edu). */
	cap = find_msi(1);
	ck_assert_uint_ne(cap, 0);
	ck_assert_uint_eq(t_cf8_read(bus, 1, cap + 2, 2), 0x0080);
	t_cf8_write(bus, 1, cap + 4, 0xfee00000, 4);
	t_cf8_write(bus, 1, cap + 12, 0x0031, 2);
	t_cf8_write(bus, 1, cap + 2, 1, 2);
	ck_assert_int_eq(pci_msi_vector_gsi(edu_pci(e), 0, &gsi), 0);
	edu_wr(0x60, 0x2, 4);
	ck_assert_uint_eq(pci_msi_delivered(edu_pci(e)), 1);
	ck_assert(!(t_cf8_read(bus, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT));
	/* Each raise while MSI is on sends a message, like QEMU. */
	edu_wr(0x60, 0x4, 4);
	ck_assert_uint_eq(pci_msi_delivered(edu_pci(e)), 2);
	ck_assert_uint_eq(edu_rd(0x24), 0x6);
	edu_wr(0x64, 0x6, 4);
	ck_assert_uint_eq(edu_rd(0x24), 0);
	edu_unplug(e);
}
END_TEST

START_TEST(edu_dma_bounds)
{
	struct edu *e = edu_plug();
	uint8_t pat[256], back[256];

	for (unsigned i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 7 + 1);
	ck_assert_int_eq(gmem_write(mem, 0x10000, pat, sizeof(pat)), 0);
	/* RAM -> buffer at 0x40100, then buffer -> RAM elsewhere. */
	edu_wr(0x80, 0x10000, 8);
	edu_wr(0x88, 0x40100, 8);
	edu_wr(0x90, sizeof(pat), 8);
	edu_wr(0x98, 0x1, 8);
	ck_assert_uint_eq(t_mmio_read(bus, edu_base + 0x98, 8) & 1, 0);
	edu_wr(0x80, 0x40100, 8);
	edu_wr(0x88, 0x20000, 8);
	edu_wr(0x98, 0x3 | 0x4, 8);
	ck_assert_int_eq(gmem_read(mem, 0x20000, back, sizeof(back)), 0);
	ck_assert_mem_eq(back, pat, sizeof(pat));
	ck_assert_uint_eq(edu_rd(0x24), 0x100); /* DMA irq */
	edu_wr(0x64, 0x100, 4);
	ck_assert_uint_eq(edu_dma_errors(e), 0);

	/* Past the end of the buffer: refused, but RUN still clears. */
	edu_wr(0x80, 0x10000, 8);
	edu_wr(0x88, 0x40000 + 4000, 8);
	edu_wr(0x90, 200, 8);
	edu_wr(0x98, 0x1, 8);
	ck_assert_uint_eq(edu_dma_errors(e), 1);
	ck_assert_uint_eq(t_mmio_read(bus, edu_base + 0x98, 8) & 1, 0);
	/* Whole buffer is fine; one byte more is not; below it is not. */
	edu_wr(0x88, 0x40000, 8);
	edu_wr(0x90, 4096, 8);
	edu_wr(0x98, 0x1, 8);
	ck_assert_uint_eq(edu_dma_errors(e), 1);
	edu_wr(0x90, 4097, 8);
	edu_wr(0x98, 0x1, 8);
	ck_assert_uint_eq(edu_dma_errors(e), 2);
	edu_wr(0x88, 0x3ffff, 8);
	edu_wr(0x90, 16, 8);
	edu_wr(0x98, 0x1, 8);
	ck_assert_uint_eq(edu_dma_errors(e), 3);
	/* Huge counts and wrapping addresses. */
	edu_wr(0x88, UINT64_MAX, 8);
	edu_wr(0x90, UINT64_MAX, 8);
	edu_wr(0x98, 0x1, 8);
	ck_assert_uint_eq(edu_dma_errors(e), 4);
	/* RAM side outside guest RAM (16 MiB): refused by gmem. */
	edu_wr(0x80, 0x40000, 8);
	edu_wr(0x88, 0x0fffff00, 8);
	edu_wr(0x90, 0x100, 8);
	edu_wr(0x98, 0x3, 8);
	ck_assert_uint_eq(edu_dma_errors(e), 5);
	edu_wr(0x88, RAM_SIZE - 0x80, 8); /* straddles the end of RAM */
	edu_wr(0x98, 0x3, 8);
	ck_assert_uint_eq(edu_dma_errors(e), 6);
	edu_unplug(e);
}
END_TEST

static Suite *pci_msi_suite(void)
{
	Suite *s = suite_create("pci_msi");
	TCase *tc = tcase_create("msi");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, msi_route_mask_pending);
	tcase_add_test(tc, msi_eventfd_only);
	tcase_add_test(tc, edu_registers);
	tcase_add_test(tc, edu_interrupts);
	tcase_add_test(tc, edu_dma_bounds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(pci_msi_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
