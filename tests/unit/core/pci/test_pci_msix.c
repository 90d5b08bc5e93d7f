// SPDX-License-Identifier: MIT
/*
 * MSI-X: capability, table/PBA through a BAR on the bus, routes and irqfds
 * as the interrupt controller sees them (fake_irq); vectors signalled
 * outside iovmm (VFIO's case) and sources bound to vectors (vhost-user
 * call eventfds), with the owner's hooks.
 */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/irq.h"
#include "core/pci/host.h"
#include "core/pci/msix.h"
#include "core/util.h"
#include "fake_irq.h"
#include "pci_test_util.h"

static struct irq *irq;
static struct fake_irq *fake;
static struct bus *bus;
static struct pci_host *host;

struct xdev {
	struct pci_dev pdev;
	struct pci_msix *msix;
};

static int xdev_read(struct pci_dev *dev, unsigned bar, uint64_t off,
		     void *data, uint32_t len)
{
	if (!pci_msix_bar_read(dev->msix, bar, off, data, len))
		memset(data, 0xee, len);
	return 0;
}

static int xdev_write(struct pci_dev *dev, unsigned bar, uint64_t off,
		      const void *data, uint32_t len)
{
	pci_msix_bar_write(dev->msix, bar, off, data, len);
	return 0;
}

static const struct pci_dev_ops xdev_ops = {
	.bar_read = xdev_read,
	.bar_write = xdev_write,
};

static void xdev_init(struct xdev *x, struct irq *i)
{
	static const struct pci_id id = { .vendor = 0x1af4, .device = 0x1041 };

	ck_assert_int_eq(pci_dev_init(&x->pdev, &xdev_ops, "xdev", &id), 0);
	ck_assert_int_eq(pci_cfg_add_bar(&x->pdev.cfg, 0, PCI_BAR_MEM32,
					 0x4000, false), 0);
	ck_assert_int_eq(pci_msix_create(&x->pdev, i, 8, 1, 0, 0x2000, &x->msix),
			 -EINVAL); /* BAR1 not implemented */
	ck_assert_int_eq(pci_msix_create(&x->pdev, i, 8, 0, 0, 0x40, &x->msix),
			 -EINVAL); /* table and PBA overlap */
	ck_assert_int_eq(pci_msix_create(&x->pdev, i, 8, 0, 0, 0x2000, &x->msix),
			 0);
}

static void setup(void)
{
	ck_assert_int_eq(fake_irq_create(&irq, &fake), 0);
	ck_assert_int_eq(bus_create(&bus), 0);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
}

static void teardown(void)
{
	pci_host_destroy(host);
	bus_destroy(bus);
	irq_destroy(irq);
}

/* gsi's committed route is (addr, data). */
static void t_expect_route(uint32_t gsi, uint64_t addr, uint32_t data)
{
	uint64_t a;
	uint32_t d;

	ck_assert(fake_irq_route(fake, gsi, &a, &d));
	ck_assert_uint_eq(a, addr);
	ck_assert_uint_eq(d, data);
}

/* Polling the irqfds delivers n interrupts, the last being (addr, data). */
static void t_expect_msis(unsigned n, uint64_t addr, uint32_t data)
{
	unsigned before = fake_irq_msi_count(fake);
	struct fake_irq_msi m;

	ck_assert_uint_eq(fake_irq_poll(fake), n);
	ck_assert_uint_eq(fake_irq_msi_count(fake), before + n);
	m = fake_irq_msi_get(fake, before + n - 1);
	ck_assert_uint_eq(m.addr, addr);
	ck_assert_uint_eq(m.data, data);
}

START_TEST(msix_table_and_routes)
{
	struct xdev x;
	uint64_t base, pba;
	uint32_t cap, gsi, g2;

	xdev_init(&x, irq);
	ck_assert_int_eq(pci_host_add(host, &x.pdev), 0);
	base = t_cf8_read(bus, 1, 0x10, 4) & ~0xfULL;
	cap = pci_cfg_find_cap(&x.pdev.cfg, PCI_CAP_ID_MSIX);
	ck_assert_uint_ne(cap, 0);
	ck_assert_uint_eq(t_cf8_read(bus, 1, cap, 1), PCI_CAP_ID_MSIX);
	ck_assert_uint_eq(t_cf8_read(bus, 1, cap + 2, 2), 7);
	ck_assert_uint_eq(t_cf8_read(bus, 1, cap + 4, 4), 0);
	ck_assert_uint_eq(t_cf8_read(bus, 1, cap + 8, 4), 0x2000);
	/* Table size and offsets are read-only. */
	t_cf8_write(bus, 1, cap + 2, 0x07ff, 2);
	ck_assert_uint_eq(t_cf8_read(bus, 1, cap + 2, 2), 7);
	t_cf8_write(bus, 1, cap + 4, 0xffffffff, 4);
	ck_assert_uint_eq(t_cf8_read(bus, 1, cap + 4, 4), 0);
	/* Entries reset masked. */
	ck_assert_uint_eq(t_mmio_read(bus, base + 12, 4), 1);
	ck_assert_int_eq(pci_msix_notify(&x.pdev, 0), -EAGAIN);
	ck_assert_int_eq(pci_msix_notify(&x.pdev, 8), -EINVAL);

	/* Program entry 0 (qword address), entry 1 (dwords). */
	t_mmio_write(bus, base + 0, 0xfee00000ULL, 8);
	t_mmio_write(bus, base + 8, 0x41, 4);
	t_mmio_write(bus, base + 12, 0, 4);
	t_mmio_write(bus, base + 16, 0xfee01000, 4);
	t_mmio_write(bus, base + 20, 0, 4);
	t_mmio_write(bus, base + 24, 0x42, 4);
	ck_assert_uint_eq(t_mmio_read(bus, base + 8, 4), 0x41);
	ck_assert_uint_eq(t_mmio_read(bus, base + 16, 8), 0xfee01000ULL);
	/* Misaligned or narrow: ignored, reads 0. */
	t_mmio_write(bus, base + 2, 0xffff, 2);
	ck_assert_uint_eq(t_mmio_read(bus, base + 0, 4), 0xfee00000);
	ck_assert_uint_eq(t_mmio_read(bus, base + 2, 2), 0);
	/* Outside table/PBA: the device's own registers. */
	ck_assert_uint_eq(t_mmio_read(bus, base + 0x1000, 4), 0xeeeeeeee);

	t_cf8_write(bus, 1, cap + 2, PCI_MSIX_FLAGS_ENABLE, 2);
	ck_assert_int_eq(pci_msix_notify(&x.pdev, 0), 0);
	ck_assert_uint_eq(pci_msix_delivered(&x.pdev), 1);
	ck_assert_int_eq(pci_msix_vector_gsi(&x.pdev, 0, &gsi), 0);
	ck_assert_uint_ge(gsi, LAYOUT_GSI_IOAPIC_PINS);
	/* The interrupt controller got the route and the irqfd, and the
	 * notification arrives as the entry's message. */
	t_expect_route(gsi, 0xfee00000ULL, 0x41);
	ck_assert_int_eq(fake_irq_irqfd_gsi(fake, pci_msix_vector_fd(&x.pdev, 0),
					    &g2), 0);
	ck_assert_uint_eq(g2, gsi);
	ck_assert_int_eq(fake_irq_irqfd_resample(fake,
			 pci_msix_vector_fd(&x.pdev, 0)), -1);
	t_expect_msis(1, 0xfee00000ULL, 0x41);

	/* Vector 1 is masked: PBA bit, then delivery on unmask. */
	ck_assert_int_eq(pci_msix_notify(&x.pdev, 1), 0);
	ck_assert_uint_eq(pci_msix_delivered(&x.pdev), 1);
	pba = t_mmio_read(bus, base + 0x2000, 8);
	ck_assert_uint_eq(pba, 0x2);
	t_mmio_write(bus, base + 0x2000, 0, 8); /* PBA is read-only */
	ck_assert_uint_eq(t_mmio_read(bus, base + 0x2000, 8), 0x2);
	ck_assert_uint_eq(fake_irq_poll(fake), 0);
	t_mmio_write(bus, base + 28, 0, 4);
	ck_assert_uint_eq(pci_msix_delivered(&x.pdev), 2);
	ck_assert_uint_eq(t_mmio_read(bus, base + 0x2000, 8), 0);
	ck_assert_int_eq(pci_msix_vector_gsi(&x.pdev, 1, &g2), 0);
	ck_assert_uint_ne(g2, gsi);
	t_expect_route(g2, 0xfee01000ULL, 0x42);
	t_expect_msis(1, 0xfee01000ULL, 0x42);

	/* The guest masks vector 1, retargets it, unmasks: the message
	 * pending meanwhile goes out through the new route, never the old. */
	t_mmio_write(bus, base + 28, PCI_MSIX_ENTRY_CTRL_MASKBIT, 4);
	t_mmio_write(bus, base + 16, 0xfee02000, 4);
	t_mmio_write(bus, base + 24, 0x62, 4);
	ck_assert_int_eq(pci_msix_notify(&x.pdev, 1), 0);
	ck_assert_uint_eq(fake_irq_poll(fake), 0);
	t_expect_route(g2, 0xfee01000ULL, 0x42);
	t_mmio_write(bus, base + 28, 0, 4);
	t_expect_route(g2, 0xfee02000ULL, 0x62);
	t_expect_msis(1, 0xfee02000ULL, 0x62);
	ck_assert_uint_eq(pci_msix_delivered(&x.pdev), 3);

	/* Function mask. */
	t_cf8_write(bus, 1, cap + 2,
		    PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	ck_assert_int_eq(pci_msix_notify(&x.pdev, 0), 0);
	ck_assert_uint_eq(pci_msix_delivered(&x.pdev), 3);
	ck_assert_uint_eq(t_mmio_read(bus, base + 0x2000, 4), 0x1);
	ck_assert_uint_eq(fake_irq_poll(fake), 0);
	t_cf8_write(bus, 1, cap + 2, PCI_MSIX_FLAGS_ENABLE, 2);
	ck_assert_uint_eq(pci_msix_delivered(&x.pdev), 4);
	t_expect_msis(1, 0xfee00000ULL, 0x41);

	/* A new message data keeps the GSI (route updated). */
	t_mmio_write(bus, base + 8, 0x51, 4);
	ck_assert_int_eq(pci_msix_notify(&x.pdev, 0), 0);
	ck_assert_int_eq(pci_msix_vector_gsi(&x.pdev, 0, &g2), 0);
	ck_assert_uint_eq(g2, gsi);
	ck_assert_uint_eq(pci_msix_delivered(&x.pdev), 5);
	t_expect_route(gsi, 0xfee00000ULL, 0x51);
	t_expect_msis(1, 0xfee00000ULL, 0x51);

	/* Disable frees routes, in the interrupt controller too. */
	ck_assert_uint_eq(fake_irq_msi_routes(fake), 2);
	t_cf8_write(bus, 1, cap + 2, 0, 2);
	ck_assert_uint_eq(fake_irq_msi_routes(fake), 0);
	ck_assert_uint_eq(fake_irq_irqfds(fake), 0);
	ck_assert_int_eq(pci_msix_vector_gsi(&x.pdev, 0, &g2), -ENOENT);
	ck_assert_int_eq(pci_msix_notify(&x.pdev, 0), -EAGAIN);

	pci_host_destroy(host);
	host = NULL;
	pci_msix_destroy(x.msix);
	ck_assert_ptr_null(x.pdev.msix);
	pci_dev_fini(&x.pdev);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
}
END_TEST

START_TEST(msix_eventfd_only)
{
	struct xdev x;
	uint64_t v = 0, entry[2] = { 0xfee00000ULL, 0x30 };
	int fd;

	xdev_init(&x, NULL);
	pci_msix_bar_write(x.msix, 0, 0, &entry[0], 8);
	pci_msix_bar_write(x.msix, 0, 8, &entry[1], 8); /* data + unmask */
	pthread_mutex_lock(&x.pdev.lock);
	pci_dev_cfg_write(&x.pdev, 0x40 + 2, PCI_MSIX_FLAGS_ENABLE, 2);
	pthread_mutex_unlock(&x.pdev.lock);
	ck_assert_int_eq(pci_msix_notify(&x.pdev, 0), 0);
	ck_assert_int_eq(pci_msix_notify(&x.pdev, 0), 0);
	fd = pci_msix_vector_fd(&x.pdev, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, &v, sizeof(v)), (int)sizeof(v));
	ck_assert_uint_eq(v, 2);
	pci_msix_destroy(x.msix);
	pci_dev_fini(&x.pdev);
}
END_TEST

/* ---- the owner's side: hooks, external vectors, sources ---- */

static struct {
	unsigned enables, disables, span;
	unsigned live[16], nlive;
	int live_ret;
	unsigned wired_on[2], wired_off[2];
} hl;

static void h_enable(struct pci_dev *d, bool on, unsigned span)
{
	if (on) {
		hl.enables++;
		hl.span = span;
	} else {
		hl.disables++;
	}
}

static int h_live(struct pci_dev *d, unsigned v)
{
	hl.live[hl.nlive++ % 16] = v;
	return hl.live_ret;
}

static void h_wired(struct pci_dev *d, unsigned src, bool irqfd)
{
	if (irqfd)
		hl.wired_on[src]++;
	else
		hl.wired_off[src]++;
}

/* Entry v of a table at (bar, toff): address 0xfee00000, data, mask. */
static void entry_wr(struct pci_msix *m, unsigned bar, uint32_t toff,
		     unsigned v, uint32_t data, bool masked)
{
	uint64_t e[2] = { 0xfee00000ULL, data | (uint64_t)masked << 32 };

	ck_assert(pci_msix_bar_write(m, bar, toff + 16 * v, &e[0], 8));
	ck_assert(pci_msix_bar_write(m, bar, toff + 16 * v + 8, &e[1], 8));
}

static void ctrl_wr(struct pci_dev *d, uint32_t cap, uint16_t flags)
{
	pthread_mutex_lock(&d->lock);
	pci_dev_cfg_write(d, cap + PCI_MSIX_FLAGS, flags, 2);
	pthread_mutex_unlock(&d->lock);
}

static uint64_t pba_rd(struct pci_msix *m, unsigned bar, uint32_t off)
{
	uint64_t w = 0;

	ck_assert(pci_msix_bar_read(m, bar, off, &w, 8));
	return w;
}

static void signal_fd(int fd)
{
	ck_assert_int_eq(write(fd, &(uint64_t){ 1 }, 8), 8);
}

START_TEST(msix_external_vectors)
{
	static const struct pci_id id = { .vendor = 0x8086, .device = 0x10d3 };
	static const struct pci_msix_hooks hooks = {
		.enable = h_enable, .vector_live = h_live,
	};
	struct xdev x;
	struct pci_msix_config c;
	uint32_t cap, gsi, g, ctl = 0;
	int fd;

	memset(&hl, 0, sizeof(hl));
	ck_assert_int_eq(pci_dev_init(&x.pdev, &xdev_ops, "ext", &id), 0);
	ck_assert_int_eq(pci_cfg_add_bar(&x.pdev.cfg, 0, PCI_BAR_MEM32, 0x1000,
					 false), 0);
	ck_assert_int_eq(pci_cfg_add_bar(&x.pdev.cfg, 2, PCI_BAR_MEM64, 0x1000,
					 false), 0);
	/* The owner placed the capability (VFIO keeps the device's). */
	ck_assert_int_eq(pci_cfg_add_cap(&x.pdev.cfg, PCI_CAP_ID_MSIX,
					 PCI_MSIX_CAP_LEN, &cap), 0);
	c = (struct pci_msix_config){
		.nr_vectors = 4, .table_bar = 0, .table_off = 0,
		.pba_bar = 2, .pba_off = 0x1000, .cap = cap,
		.external = true, .hooks = &hooks,
	};
	/* A PBA past the end of its BAR is refused. */
	ck_assert_int_eq(pci_msix_create_cfg(&x.pdev, irq, &c, &x.msix), -EINVAL);
	c.pba_off = 0x800;
	ck_assert_int_eq(pci_msix_create_cfg(&x.pdev, irq, &c, &x.msix), 0);
	ck_assert_uint_eq(pci_cfg_read(&x.pdev.cfg, cap + PCI_MSIX_FLAGS, 2), 3);
	ck_assert_uint_eq(pci_cfg_read(&x.pdev.cfg, cap + PCI_MSIX_PBA, 4), 0x802);

	/* Unmasked while MSI-X is off: nothing is live yet. */
	entry_wr(x.msix, 0, 0, 2, 0x52, false);
	ck_assert_uint_eq(hl.nlive, 0);
	ctrl_wr(&x.pdev, cap, PCI_MSIX_FLAGS_ENABLE);
	ck_assert_uint_eq(hl.enables, 1);
	ck_assert_uint_eq(hl.span, 3);
	ck_assert_uint_eq(hl.nlive, 1);
	ck_assert_uint_eq(hl.live[0], 2);
	/* Live: the eventfd is an irqfd of a route to the entry. */
	fd = pci_msix_vector_fd(&x.pdev, 2);
	ck_assert_int_ge(fd, 0);
	ck_assert(pci_msix_vector_irqfd(&x.pdev, 2));
	ck_assert_int_eq(pci_msix_vector_gsi(&x.pdev, 2, &gsi), 0);
	t_expect_route(gsi, 0xfee00000ULL, 0x52);
	ck_assert_int_eq(fake_irq_irqfd_gsi(fake, fd, &g), 0);
	ck_assert_uint_eq(g, gsi);
	signal_fd(fd);
	t_expect_msis(1, 0xfee00000ULL, 0x52);

	/* Masked: detached, the message waits in the eventfd and reads as
	 * the PBA bit, in the other BAR. */
	entry_wr(x.msix, 0, 0, 2, 0x53, true);
	ck_assert(!pci_msix_vector_irqfd(&x.pdev, 2));
	signal_fd(fd);
	ck_assert_uint_eq(fake_irq_poll(fake), 0);
	ck_assert_uint_eq(pba_rd(x.msix, 2, 0x800), 1u << 2);
	ck_assert(!pci_msix_bar_read(x.msix, 0, 0x800, &ctl, 4));
	/* Unmasked: attached again through the new route; what waited goes. */
	entry_wr(x.msix, 0, 0, 2, 0x53, false);
	ck_assert(pci_msix_vector_irqfd(&x.pdev, 2));
	ck_assert_uint_eq(pba_rd(x.msix, 2, 0x800), 0);
	ck_assert_uint_eq(hl.nlive, 2);
	t_expect_route(gsi, 0xfee00000ULL, 0x53);
	t_expect_msis(1, 0xfee00000ULL, 0x53);
	/* Function mask: every vector lets go; unmask: back. */
	ctrl_wr(&x.pdev, cap, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	ck_assert(!pci_msix_vector_irqfd(&x.pdev, 2));
	ctrl_wr(&x.pdev, cap, PCI_MSIX_FLAGS_ENABLE);
	ck_assert(pci_msix_vector_irqfd(&x.pdev, 2));
	/* A vector_live hook that fails keeps the vector detached. */
	hl.live_ret = -EIO;
	entry_wr(x.msix, 0, 0, 1, 0x51, false);
	ck_assert(!pci_msix_vector_irqfd(&x.pdev, 1));
	hl.live_ret = 0;

	/* Function reset: off through the hook, nothing routed, the table
	 * masked again. */
	pci_msix_reset(x.msix);
	ck_assert_uint_eq(hl.disables, 1);
	ck_assert_uint_eq(fake_irq_msi_routes(fake), 0);
	ck_assert_uint_eq(fake_irq_irqfds(fake), 0);
	ck_assert_int_eq(pci_msix_vector_fd(&x.pdev, 2), -ENOENT);
	ck_assert(pci_msix_bar_read(x.msix, 0, 16 * 2 + 8, &ctl, 4));
	ck_assert_uint_eq(ctl, 0);
	ck_assert(pci_msix_bar_read(x.msix, 0, 16 * 2 + 12, &ctl, 4));
	ck_assert_uint_eq(ctl, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	pci_msix_destroy(x.msix);
	pci_dev_fini(&x.pdev);
}
END_TEST

START_TEST(msix_sources_follow_their_vector)
{
	static const struct pci_id id = { .vendor = 0x1af4, .device = 0x1041 };
	static const struct pci_msix_hooks hooks = { .source_wired = h_wired };
	struct pci_msix_config c = {
		.nr_vectors = 4, .table_bar = 0, .table_off = 0,
		.pba_bar = 0, .pba_off = 0x2000, .nr_sources = 2,
		.hooks = &hooks,
	};
	struct xdev x;
	uint32_t cap, g, g1, g2;
	int s0 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int s1 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	memset(&hl, 0, sizeof(hl));
	ck_assert_int_ge(s0, 0);
	ck_assert_int_ge(s1, 0);
	ck_assert_int_eq(pci_dev_init(&x.pdev, &xdev_ops, "src", &id), 0);
	ck_assert_int_eq(pci_cfg_add_bar(&x.pdev.cfg, 0, PCI_BAR_MEM32, 0x4000,
					 false), 0);
	ck_assert_int_eq(pci_msix_create_cfg(&x.pdev, irq, &c, &x.msix), 0);
	cap = pci_cfg_find_cap(&x.pdev.cfg, PCI_CAP_ID_MSIX);

	/* Bound while MSI-X is off: not an irqfd, the owner keeps it. */
	ck_assert_int_eq(pci_msix_source_bind(x.msix, 0, s0, 1), 0);
	ck_assert_int_eq(pci_msix_source_bind(x.msix, 2, s0, 1), -EINVAL);
	ck_assert(!pci_msix_source_irqfd(x.msix, 0));
	entry_wr(x.msix, 0, 0, 1, 0x41, false);
	entry_wr(x.msix, 0, 0, 2, 0x42, false);
	ck_assert(!pci_msix_source_irqfd(x.msix, 0));
	ctrl_wr(&x.pdev, cap, PCI_MSIX_FLAGS_ENABLE);
	ck_assert(pci_msix_source_irqfd(x.msix, 0));
	ck_assert_uint_eq(hl.wired_on[0], 1);
	/* On the vector's own route, which notify shares. */
	ck_assert_int_eq(pci_msix_vector_gsi(&x.pdev, 1, &g1), 0);
	ck_assert_int_eq(fake_irq_irqfd_gsi(fake, s0, &g), 0);
	ck_assert_uint_eq(g, g1);
	signal_fd(s0);
	t_expect_msis(1, 0xfee00000ULL, 0x41);
	ck_assert_int_eq(pci_msix_notify(&x.pdev, 1), 0);
	t_expect_msis(1, 0xfee00000ULL, 0x41);
	ck_assert_uint_eq(fake_irq_msi_routes(fake), 1);

	/* Vector masked: the owner hears it before KVM lets go. */
	entry_wr(x.msix, 0, 0, 1, 0x41, true);
	ck_assert(!pci_msix_source_irqfd(x.msix, 0));
	ck_assert_uint_eq(hl.wired_off[0], 1);
	/* Re-bound to a live vector: an irqfd again, on that route. */
	ck_assert_int_eq(pci_msix_source_bind(x.msix, 0, s0, 2), 0);
	ck_assert(pci_msix_source_irqfd(x.msix, 0));
	ck_assert_uint_eq(hl.wired_on[0], 2);
	ck_assert_int_eq(pci_msix_vector_gsi(&x.pdev, 2, &g2), 0);
	ck_assert_int_eq(fake_irq_irqfd_gsi(fake, s0, &g), 0);
	ck_assert_uint_eq(g, g2);
	/* Moved between two live vectors: the owner is not bothered, and a
	 * signal in between is delivered through the new route. */
	entry_wr(x.msix, 0, 0, 1, 0x41, false);
	signal_fd(s0);
	ck_assert_int_eq(pci_msix_source_bind(x.msix, 0, s0, 1), 0);
	ck_assert(pci_msix_source_irqfd(x.msix, 0));
	ck_assert_uint_eq(hl.wired_on[0], 2);
	ck_assert_uint_eq(hl.wired_off[0], 1);
	t_expect_msis(1, 0xfee00000ULL, 0x41);
	/* No vector (virtio's NO_VECTOR). */
	ck_assert_int_eq(pci_msix_source_bind(x.msix, 0, s0, 0xffff), 0);
	ck_assert(!pci_msix_source_irqfd(x.msix, 0));
	ck_assert_uint_eq(hl.wired_off[0], 2);
	/* A source on a masked vector: its count reads as the PBA bit. */
	ck_assert_int_eq(pci_msix_source_bind(x.msix, 1, s1, 3), 0);
	ck_assert(!pci_msix_source_irqfd(x.msix, 1));
	signal_fd(s1);
	ck_assert_uint_eq(pba_rd(x.msix, 0, 0x2000), 1u << 3);
	ck_assert_int_eq(read(s1, &(uint64_t){ 0 }, 8), 8);
	ck_assert_uint_eq(pba_rd(x.msix, 0, 0x2000), 0);

	/* MSI-X off: every source lets go, routes and irqfds are gone. */
	ck_assert_int_eq(pci_msix_source_bind(x.msix, 0, s0, 1), 0);
	ck_assert(pci_msix_source_irqfd(x.msix, 0));
	ctrl_wr(&x.pdev, cap, 0);
	ck_assert(!pci_msix_source_irqfd(x.msix, 0));
	ck_assert_uint_eq(hl.wired_off[0], 3);
	ck_assert_uint_eq(fake_irq_irqfds(fake), 0);
	ck_assert_uint_eq(fake_irq_msi_routes(fake), 0);
	/* Destroy detaches without a word to the owner. */
	ctrl_wr(&x.pdev, cap, PCI_MSIX_FLAGS_ENABLE);
	ck_assert(pci_msix_source_irqfd(x.msix, 0));
	pci_msix_destroy(x.msix);
	ck_assert_uint_eq(hl.wired_off[0], 3);
	ck_assert_uint_eq(fake_irq_irqfds(fake), 0);
	ck_assert_uint_eq(fake_irq_msi_routes(fake), 0);
	pci_dev_fini(&x.pdev);
	close(s0);
	close(s1);
}
END_TEST

static Suite *pci_msix_suite(void)
{
	Suite *s = suite_create("pci_msix");
	TCase *tc = tcase_create("msix");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, msix_table_and_routes);
	tcase_add_test(tc, msix_eventfd_only);
	tcase_add_test(tc, msix_external_vectors);
	tcase_add_test(tc, msix_sources_follow_their_vector);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(pci_msix_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
