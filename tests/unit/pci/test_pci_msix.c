// SPDX-License-Identifier: MIT
/* MSI-X: capability, table/PBA through a BAR on the bus, routes and irqfds as the interrupt controller sees them (fake_irq). */
#include <check.h>
#include <errno.h>
#include <string.h>
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

static Suite *pci_msix_suite(void)
{
	Suite *s = suite_create("pci_msix");
	TCase *tc = tcase_create("msix");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, msix_table_and_routes);
	tcase_add_test(tc, msix_eventfd_only);
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
