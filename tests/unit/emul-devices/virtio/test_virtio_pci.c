// SPDX-License-Identifier: MIT
/*
 * The modern virtio PCI transport on a real PCI host and bus, with the
 * recording interrupt back end (fake_irq: MSI routes, irqfds and
 * ioeventfds as KVM would receive them), driven like a guest driver through
 * config space and BAR MMIO: identity and capabilities, feature
 * negotiation, the status machine, queue setup, kicks (trapped and
 * ioeventfd registration, following BAR moves), MSI-X vectors, device
 * config forwarding (BAR and the PCI_CFG window), reset and NEEDS_RESET.
 * The device model is a tiny echo device defined here.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/gmem.h"
#include "core/ioloop.h"
#include "core/irq.h"
#include "core/pci/host.h"
#include "core/pci/msix.h"
#include "core/util.h"
#include "emul-devices/virtio/pci.h"
#include "emul-devices/virtio/pci_regs.h"
#include "emul-devices/virtio/virtio.h"
#include "tests/unit/core/pci/pci_test_util.h"
#include "fake_irq.h"
#include "vq_driver.h"

#define RAM_SIZE   (16 * MiB)
#define SLOT       1
#define NQ         3
#define QMAX       64
#define DESC_GPA   0x10000ULL
#define AVAIL_GPA  0x30000ULL
#define USED_GPA   0x40000ULL
#define IND_GPA    0x100000ULL
#define DATA_GPA   0x800000ULL

#define F_DEV_BIT   5   /* a device feature the model accepts */
#define F_REFUSED   7   /* offered, but set_features refuses it */

static struct irq *irq;
static struct fake_irq *fake;
static struct bus *bus;
static struct pci_host *host;
static struct gmem *mem;
static struct ioloop *io;

/* ---- the test device model ---- */

struct tdev {
	struct virtio_dev vdev;
	struct virtio_pci *vp;
	uint8_t cfg[12];
	unsigned resets, activates;
	unsigned notifies[NQ];
	uint64_t features_seen;
	int activate_ret;
	int notify_efd;       /* signalled after every queue_notify */
	struct virtq_elem elem;
};

static struct tdev td;

static void td_cfg_read(struct virtio_dev *d, uint32_t off, void *data,
			uint32_t len)
{
	struct tdev *t = container_of(d, struct tdev, vdev);

	ck_assert_uint_le(off + len, sizeof(t->cfg));
	memcpy(data, t->cfg + off, len);
}

static void td_cfg_write(struct virtio_dev *d, uint32_t off, const void *data,
			 uint32_t len)
{
	struct tdev *t = container_of(d, struct tdev, vdev);

	ck_assert_uint_le(off + len, sizeof(t->cfg));
	memcpy(t->cfg + off, data, len);
}

static int td_set_features(struct virtio_dev *d, uint64_t f)
{
	struct tdev *t = container_of(d, struct tdev, vdev);

	t->features_seen = f;
	return f & (1ULL << F_REFUSED) ? -EINVAL : 0;
}

static int td_activate(struct virtio_dev *d)
{
	struct tdev *t = container_of(d, struct tdev, vdev);

	t->activates++;
	return t->activate_ret;
}

/* Echo: every buffer is used with its in length; malformed -> fail. */
static void td_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct tdev *t = container_of(d, struct tdev, vdev);
	uint64_t one = 1;
	int ret;

	t->notifies[q]++;
	while ((ret = virtq_pop(&d->vqs[q], &t->elem)) == 0)
		virtq_push(&d->vqs[q], &t->elem, (uint32_t)t->elem.in_len);
	if (ret == -EINVAL)
		virtio_dev_fail(d, "malformed chain");
	virtio_dev_notify(d, q);
	ck_assert_int_eq(write(t->notify_efd, &one, 8), 8);
}

static void td_reset(struct virtio_dev *d)
{
	container_of(d, struct tdev, vdev)->resets++;
}

static const struct virtio_dev_ops td_ops = {
	.cfg_read = td_cfg_read,
	.cfg_write = td_cfg_write,
	.set_features = td_set_features,
	.activate = td_activate,
	.queue_notify = td_queue_notify,
	.reset = td_reset,
};

/* ---- fixture ---- */

static void setup(void)
{
	struct gmem_opts o = { .size = RAM_SIZE, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };

	ck_assert_int_eq(fake_irq_create(&irq, &fake), 0);
	ck_assert_int_eq(bus_create(&bus), 0);
	ck_assert_int_eq(pci_host_create(bus, irq, 0, 0, &host), 0);
	ck_assert_int_eq(gmem_create(&o, &mem), 0);
	ck_assert_int_eq(ioloop_create(&io), 0);
	ck_assert_int_eq(ioloop_start(io), 0);

	memset(&td, 0, sizeof(td));
	td.notify_efd = eventfd(0, EFD_CLOEXEC);
	ck_assert_int_ge(td.notify_efd, 0);
	memcpy(td.cfg, "\x52\x54\x00\x12\x34\x56\x01\x00\x02\x00\x00\x00", 12);
	td.vdev = (struct virtio_dev){
		.ops = &td_ops, .name = "virtio-test", .device_id = 1,
		.pci_class = 0x0200, .cfg_size = sizeof(td.cfg),
		.nr_queues = NQ, .queue_max_size = QMAX, .mem = mem,
		.host_features = 1ULL << F_DEV_BIT | 1ULL << F_REFUSED |
				 1ULL << VIRTIO_F_INDIRECT_DESC |
				 1ULL << VIRTIO_F_EVENT_IDX |
				 1ULL << VIRTIO_F_RING_PACKED |
				 1ULL << VIRTIO_F_ACCESS_PLATFORM,
	};
	ck_assert_int_eq(virtio_pci_create(&td.vdev, irq, io, &td.vp), 0);
	ck_assert_int_eq(pci_host_add(host, virtio_pci_dev(td.vp)), 0);
}

static void teardown(void)
{
	ioloop_stop(io);
	pci_host_destroy(host);
	virtio_pci_destroy(td.vp);
	close(td.notify_efd);
	ioloop_destroy(io);
	gmem_destroy(mem);
	bus_destroy(bus);
	irq_destroy(irq);
}

/* ---- guest-side helpers ---- */

static uint32_t cfg_rd(uint32_t off, uint32_t len)
{
	return t_cf8_read(bus, SLOT, off, len);
}

static void cfg_wr(uint32_t off, uint32_t v, uint32_t len)
{
	t_cf8_write(bus, SLOT, off, v, len);
}

/* Offset of the vendor capability of cfg_type, or 0. */
static uint32_t find_vcap(uint8_t type)
{
	uint32_t off = cfg_rd(PCI_CAPABILITY_LIST, 1);

	for (int n = 0; off && n < 48; n++) {
		if (cfg_rd(off, 1) == 0x09 && cfg_rd(off + 3, 1) == type)
			return off;
		off = cfg_rd(off + 1, 1);
	}
	return 0;
}

static uint32_t find_cap(uint8_t id)
{
	uint32_t off = cfg_rd(PCI_CAPABILITY_LIST, 1);

	for (int n = 0; off && n < 48; n++) {
		if (cfg_rd(off, 1) == id)
			return off;
		off = cfg_rd(off + 1, 1);
	}
	return 0;
}

static uint64_t bar_addr(unsigned bar)
{
	uint64_t lo = cfg_rd(PCI_BASE_ADDRESS_0 + 4 * bar, 4);

	if (lo & PCI_BAR_MEM64_FLAG)
		lo |= (uint64_t)cfg_rd(PCI_BASE_ADDRESS_0 + 4 * bar + 4, 4) << 32;
	return lo & ~0xfULL;
}

/* Address of a region described by a virtio capability. */
static uint64_t region(uint8_t type)
{
	uint32_t c = find_vcap(type);

	ck_assert_uint_ne(c, 0);
	return bar_addr(cfg_rd(c + 4, 1)) + cfg_rd(c + 8, 4);
}

static uint64_t common_rd(uint32_t off, uint32_t len)
{
	return t_mmio_read(bus, region(1) + off, len);
}

static void common_wr(uint32_t off, uint64_t v, uint32_t len)
{
	t_mmio_write(bus, region(1) + off, v, len);
}

static uint8_t status(void)
{
	return (uint8_t)common_rd(VIRTIO_PCI_COMMON_STATUS, 1);
}

static uint64_t dev_features(void)
{
	common_wr(VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	uint64_t f = common_rd(VIRTIO_PCI_COMMON_DF, 4);

	common_wr(VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	return f | common_rd(VIRTIO_PCI_COMMON_DF, 4) << 32;
}

static void drv_features(uint64_t f)
{
	common_wr(VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	common_wr(VIRTIO_PCI_COMMON_GF, (uint32_t)f, 4);
	common_wr(VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	common_wr(VIRTIO_PCI_COMMON_GF, f >> 32, 4);
}

/* §3.1.1 steps 1-6; returns the status read back. */
static uint8_t negotiate(uint64_t f)
{
	common_wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	common_wr(VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	common_wr(VIRTIO_PCI_COMMON_STATUS,
		  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	drv_features(f);
	common_wr(VIRTIO_PCI_COMMON_STATUS,
		  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		  VIRTIO_STATUS_FEATURES_OK, 1);
	return status();
}

static void enable_msix(void)
{
	uint32_t cap = find_cap(PCI_CAP_ID_MSIX);
	uint64_t t;
	unsigned n;

	ck_assert_uint_ne(cap, 0);
	n = (cfg_rd(cap + 2, 2) & PCI_MSIX_FLAGS_QSIZE) + 1;
	t = bar_addr(cfg_rd(cap + 4, 4) & 7) + (cfg_rd(cap + 4, 4) & ~7u);
	for (unsigned v = 0; v < n; v++) {
		t_mmio_write(bus, t + 16 * v, 0xfee00000, 4);
		t_mmio_write(bus, t + 16 * v + 4, 0, 4);
		t_mmio_write(bus, t + 16 * v + 8, 0x40 + v, 4);
		t_mmio_write(bus, t + 16 * v + 12, 0, 4);
	}
	cfg_wr(cap + 2, PCI_MSIX_FLAGS_ENABLE, 2);
}

static struct drv_vq drv;

/* Program queue q with rings at the default GPAs and enable it. */
static void setup_queue(unsigned q, uint16_t size, bool packed,
			bool event_idx, uint16_t vector)
{
	struct virtq_config c = {
		.size = size, .packed = packed, .event_idx = event_idx,
		.desc_gpa = DESC_GPA, .avail_gpa = AVAIL_GPA,
		.used_gpa = USED_GPA,
	};

	drv_vq_free(&drv);
	ck_assert_int_eq(drv_vq_init(&drv, mem, &c, IND_GPA), 0);
	common_wr(VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	common_wr(VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	common_wr(VIRTIO_PCI_COMMON_Q_MSIX, vector, 2);
	common_wr(VIRTIO_PCI_COMMON_Q_DESCLO, DESC_GPA, 8);
	/* 64-bit fields as two halves, as some drivers write them */
	common_wr(VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)AVAIL_GPA, 4);
	common_wr(VIRTIO_PCI_COMMON_Q_AVAILLO + 4, 0, 4);
	common_wr(VIRTIO_PCI_COMMON_Q_USEDLO, USED_GPA, 8);
	common_wr(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

/* Kick queue q with a 16-bit write to its notify slot (trapped here). */
static void kick(unsigned q)
{
	uint32_t c = find_vcap(2);
	uint32_t mult = cfg_rd(c + 16, 4);

	common_wr(VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	t_mmio_write(bus, region(2) + mult * common_rd(VIRTIO_PCI_COMMON_Q_NOFF,
						       2), q, 2);
}

static bool wait_notify(int ms);

static void driver_ok(void)
{
	common_wr(VIRTIO_PCI_COMMON_STATUS, status() | VIRTIO_STATUS_DRIVER_OK,
		  1);
}

/* DRIVER_OK, then the transport's activation kick of each enabled queue. */
static void driver_ok_wait(unsigned nr_enabled)
{
	driver_ok();
	for (unsigned i = 0; i < nr_enabled; i++)
		ck_assert(wait_notify(2000));
}

static bool wait_notify(int ms)
{
	struct pollfd p = { .fd = td.notify_efd, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, ms) != 1)
		return false;
	ck_assert_int_eq(read(td.notify_efd, &v, 8), 8);
	return true;
}

static void add_buf(void)
{
	struct drv_seg s[2] = {
		{ DATA_GPA, 64, false }, { DATA_GPA + 4096, 128, true },
	};
	uint16_t id;

	ck_assert_int_eq(drv_add(&drv, s, 2, false, &id), 0);
}

/* Would a fresh ioeventfd at (addr, len) collide with ours? */
static bool ioev_taken(uint64_t addr, uint32_t len)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	struct irq_ioeventfd ev = { .space = BUS_MMIO, .addr = addr,
				    .len = len, .efd = efd };
	int ret = irq_ioeventfd_add(irq, &ev);

	if (ret == 0)
		irq_ioeventfd_del(irq, &ev);
	close(efd);
	ck_assert(ret == 0 || ret == -EEXIST);
	return ret == -EEXIST;
}

/* ---- tests ---- */

START_TEST(identity_and_caps)
{
	uint32_t c, msix;

	ck_assert_uint_eq(cfg_rd(PCI_VENDOR_ID, 2), 0x1af4);
	ck_assert_uint_eq(cfg_rd(PCI_DEVICE_ID, 2), 0x1041);
	ck_assert_uint_eq(cfg_rd(PCI_REVISION_ID, 1), 1);
	ck_assert_uint_eq(cfg_rd(PCI_REVISION_ID, 4) >> 8, 0x020000);
	ck_assert_uint_eq(cfg_rd(PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	ck_assert_uint_eq(cfg_rd(PCI_INTERRUPT_PIN, 1), 0); /* MSI-X only */
	/* BAR4: 64-bit prefetchable memory. */
	ck_assert_uint_eq(cfg_rd(PCI_BASE_ADDRESS_0 + 16, 4) & 0xf, 0xc);
	ck_assert_uint_ne(bar_addr(4), 0);
	for (uint8_t type = 1; type <= 5; type++) {
		c = find_vcap(type);
		ck_assert_msg(c != 0, "cap type %u", type);
		ck_assert_uint_ge(cfg_rd(c + 2, 1), type == 2 || type == 5 ? 20 : 16);
		if (type != 5)
			ck_assert_uint_eq(cfg_rd(c + 4, 1), 4);
	}
	ck_assert_uint_eq(cfg_rd(find_vcap(2) + 16, 4), 4);
	ck_assert_uint_ge(cfg_rd(find_vcap(4) + 12, 4), sizeof(td.cfg));
	msix = find_cap(PCI_CAP_ID_MSIX);
	ck_assert_uint_ne(msix, 0);
	ck_assert_uint_eq((cfg_rd(msix + 2, 2) & PCI_MSIX_FLAGS_QSIZE) + 1, NQ + 1);
	ck_assert_uint_eq(cfg_rd(msix + 4, 4) & 7, 1); /* table in BAR 1 */
	/* Read-only capability fields stay put. */
	c = find_vcap(1);
	cfg_wr(c + 8, 0x1234, 4);
	ck_assert_uint_eq(cfg_rd(c + 8, 4), 0);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_MSIX, 2),
			  VIRTIO_MSI_NO_VECTOR);
	for (unsigned q = 0; q < NQ; q++) {
		common_wr(VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
		ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_NOFF, 2), q);
		ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_MSIX, 2),
				  VIRTIO_MSI_NO_VECTOR);
		ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	}
	common_wr(VIRTIO_PCI_COMMON_Q_SELECT, NQ, 2);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_SIZE, 2),
			  0); /* no such queue */
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_SELECT, 2), NQ);
}
END_TEST

START_TEST(feature_negotiation)
{
	uint64_t f = dev_features();
	uint64_t good = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << F_DEV_BIT |
			1ULL << VIRTIO_F_EVENT_IDX;

	ck_assert(f & (1ULL << VIRTIO_F_VERSION_1)); /* added by the transport */
	ck_assert(f & (1ULL << F_DEV_BIT));
	ck_assert(f & (1ULL << VIRTIO_F_RING_PACKED));
	ck_assert(!(f & (1ULL << VIRTIO_F_ACCESS_PLATFORM))); /* withheld */
	common_wr(VIRTIO_PCI_COMMON_DFSELECT, 2, 4);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_DF, 4), 0);

	/* Without VERSION_1: FEATURES_OK does not stick (§7.2.1). */
	ck_assert(!(negotiate(1ULL << F_DEV_BIT) & VIRTIO_STATUS_FEATURES_OK));
	/* A feature that was not offered. */
	ck_assert(!(negotiate(good | 1ULL << 6) & VIRTIO_STATUS_FEATURES_OK));
	ck_assert(!(negotiate(good | 1ULL << VIRTIO_F_ACCESS_PLATFORM) &
		    VIRTIO_STATUS_FEATURES_OK));
	/* The model refuses one. */
	ck_assert(!(negotiate(good | 1ULL << F_REFUSED) &
		    VIRTIO_STATUS_FEATURES_OK));
	ck_assert_uint_eq(td.features_seen, good | 1ULL << F_REFUSED);
	ck_assert_uint_eq(td.vdev.features, 0);
	/* A good set sticks and is what the device sees. */
	ck_assert(negotiate(good) & VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(td.vdev.features, good);
	common_wr(VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_GF, 4), (uint32_t)good);
	/* After FEATURES_OK the driver features are frozen (§3.1.1). */
	common_wr(VIRTIO_PCI_COMMON_GF, 0, 4);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_GF, 4), (uint32_t)good);
	ck_assert_uint_eq(td.vdev.features, good);
}
END_TEST

START_TEST(status_machine)
{
	uint64_t good = 1ULL << VIRTIO_F_VERSION_1;
	unsigned resets = td.resets;

	common_wr(VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	/* DRIVER_OK before FEATURES_OK does not stick, activates nothing. */
	common_wr(VIRTIO_PCI_COMMON_STATUS,
		  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			    VIRTIO_STATUS_DRIVER_OK, 1);
	ck_assert_uint_eq(status(), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	ck_assert_uint_eq(td.activates, 0);
	/* A queue enabled before FEATURES_OK stays off. */
	setup_queue(0, 16, false, false, VIRTIO_MSI_NO_VECTOR);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	/* The driver cannot set NEEDS_RESET itself. */
	common_wr(VIRTIO_PCI_COMMON_STATUS,
		  status() | VIRTIO_STATUS_NEEDS_RESET, 1);
	ck_assert(!(status() & VIRTIO_STATUS_NEEDS_RESET));

	ck_assert(negotiate(good) & VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(td.resets, resets + 1);
	setup_queue(0, 16, false, false, 1);
	common_wr(VIRTIO_PCI_COMMON_MSIX, 0, 2);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	/* An enabled queue's registers are frozen (no RING_RESET). */
	common_wr(VIRTIO_PCI_COMMON_Q_DESCLO, 0x5000, 8);
	common_wr(VIRTIO_PCI_COMMON_Q_SIZE, 8, 2);
	common_wr(VIRTIO_PCI_COMMON_Q_ENABLE, 0, 2);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_DESCLO, 8), DESC_GPA);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	driver_ok_wait(1);
	ck_assert_uint_eq(td.activates, 1);
	ck_assert(status() & VIRTIO_STATUS_DRIVER_OK);
	ck_assert(virtio_dev_queue_live(&td.vdev, 0));
	ck_assert(!virtio_dev_queue_live(&td.vdev, 1));
	/* Queue registers are frozen once DRIVER_OK is set. */
	common_wr(VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	common_wr(VIRTIO_PCI_COMMON_Q_SIZE, 8, 2);
	common_wr(VIRTIO_PCI_COMMON_Q_DESCLO, 0x5000, 8);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);

	/* Reset: everything back to its initial value. */
	common_wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	ck_assert_uint_eq(td.resets, resets + 2);
	ck_assert_uint_eq(status(), 0);
	ck_assert_uint_eq(td.vdev.features, 0);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_MSIX, 2),
			  VIRTIO_MSI_NO_VECTOR);
	common_wr(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_MSIX, 2),
			  VIRTIO_MSI_NO_VECTOR);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
	ck_assert(!td.vdev.vqs[0].ready);
	common_wr(VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_GF, 4), 0);

	/* Activation failure: NEEDS_RESET. */
	td.activate_ret = -EIO;
	ck_assert(negotiate(good) & VIRTIO_STATUS_FEATURES_OK);
	driver_ok();
	ck_assert(status() & VIRTIO_STATUS_NEEDS_RESET);
}
END_TEST

/* Bring-up, a trapped kick, the echo, and the MSI-X interrupt. */
static void bringup_and_echo(bool packed, bool event_idx)
{
	uint64_t f = 1ULL << VIRTIO_F_VERSION_1;
	uint64_t sent;
	uint16_t id;
	uint32_t len;

	if (packed)
		f |= 1ULL << VIRTIO_F_RING_PACKED;
	if (event_idx)
		f |= 1ULL << VIRTIO_F_EVENT_IDX;
	enable_msix();
	ck_assert(negotiate(f) & VIRTIO_STATUS_FEATURES_OK);
	common_wr(VIRTIO_PCI_COMMON_MSIX, 0, 2);
	setup_queue(1, 32, packed, event_idx, 2);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_DESCLO, 8), DESC_GPA);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_AVAILLO, 8), AVAIL_GPA);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_USEDLO, 8), USED_GPA);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_MSIX, 2), 2);
	/* A buffer kicked before DRIVER_OK waits for activation. */
	add_buf();
	kick(1);
	ck_assert(!wait_notify(100));
	ck_assert_uint_eq(td.notifies[1], 0);
	sent = pci_msix_delivered(virtio_pci_dev(td.vp));
	driver_ok_wait(1);
	ck_assert(!(status() & VIRTIO_STATUS_NEEDS_RESET));
	ck_assert_int_eq(drv_get_used(&drv, &id, &len), 0);
	ck_assert_uint_eq(len, 128);
	if (event_idx && !packed)
		drv_split_set_used_event(&drv, drv.last_used);
	ck_assert_uint_eq(pci_msix_delivered(virtio_pci_dev(td.vp)), sent + 1);

	sent = pci_msix_delivered(virtio_pci_dev(td.vp));
	fake_irq_poll(fake);
	for (int i = 0; i < 40; i++) { /* wraps the 32-entry ring */
		struct fake_irq_msi m;

		add_buf();
		kick(1);
		ck_assert(wait_notify(2000));
		ck_assert_int_eq(drv_get_used(&drv, &id, &len), 0);
		ck_assert_uint_eq(len, 128);
		/* The queue's call eventfd fired: the interrupt controller
		 * delivers vector 2's message. */
		ck_assert_uint_eq(fake_irq_poll(fake), 1);
		m = fake_irq_msi_get(fake, fake_irq_msi_count(fake) - 1);
		ck_assert_uint_eq(m.addr, 0xfee00000);
		ck_assert_uint_eq(m.data, 0x42);
		/* Linux's virtqueue_enable_cb: interrupt me for the next one. */
		if (event_idx && !packed)
			drv_split_set_used_event(&drv, drv.last_used);
	}
	ck_assert_uint_eq(td.notifies[1], 41);
	ck_assert_uint_eq(pci_msix_delivered(virtio_pci_dev(td.vp)), sent + 40);
	/* The vector's route exists in the interrupt controller. */
	uint32_t gsi;
	uint64_t addr;
	uint32_t data;

	ck_assert_int_eq(pci_msix_vector_gsi(virtio_pci_dev(td.vp), 2, &gsi), 0);
	ck_assert(fake_irq_route(fake, gsi, &addr, &data));
	ck_assert_uint_eq(data, 0x42);
	/* ISR latched the queue interrupt; reading clears it. */
	ck_assert_uint_eq(t_mmio_read(bus, region(3), 1), 1);
	ck_assert_uint_eq(t_mmio_read(bus, region(3), 1), 0);
	/* A kick for a queue that is not enabled reaches nobody. */
	kick(0);
	ck_assert(!wait_notify(100));
	ck_assert_uint_eq(td.notifies[0], 0);
}

START_TEST(split_queue_echo)
{
	bringup_and_echo(false, false);
}
END_TEST

START_TEST(split_event_idx_echo)
{
	bringup_and_echo(false, true);
}
END_TEST

START_TEST(packed_queue_echo)
{
	bringup_and_echo(true, true);
}
END_TEST

/* The notify ioeventfds are registered on enable and follow BAR 4. */
START_TEST(ioeventfd_follows_bar)
{
	uint64_t notify, old_bar, new_bar;
	uint32_t lo;

	ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1) &
		  VIRTIO_STATUS_FEATURES_OK);
	notify = region(2);
	ck_assert(!ioev_taken(notify + 4 * 1, 2));
	setup_queue(1, 16, false, false, VIRTIO_MSI_NO_VECTOR);
	ck_assert(ioev_taken(notify + 4 * 1, 2));
	ck_assert(!ioev_taken(notify + 4 * 0, 2));

	/* Move BAR 4 up by 1 MiB, as a guest OS re-assigning resources. */
	old_bar = bar_addr(4);
	new_bar = old_bar + 1 * MiB;
	lo = cfg_rd(PCI_BASE_ADDRESS_0 + 16, 4);
	cfg_wr(PCI_BASE_ADDRESS_0 + 16, (uint32_t)new_bar | (lo & 0xf), 4);
	cfg_wr(PCI_BASE_ADDRESS_0 + 20, (uint32_t)(new_bar >> 32), 4);
	ck_assert_uint_eq(bar_addr(4), new_bar);
	ck_assert(!ioev_taken(notify + 4, 2));
	ck_assert(ioev_taken(region(2) + 4, 2));
	/* Memory decoding off: no ioeventfd anywhere. */
	cfg_wr(PCI_COMMAND, cfg_rd(PCI_COMMAND, 2) & ~PCI_COMMAND_MEMORY, 2);
	ck_assert(!ioev_taken(region(2) + 4, 2));
	cfg_wr(PCI_COMMAND, cfg_rd(PCI_COMMAND, 2) | PCI_COMMAND_MEMORY, 2);
	ck_assert(ioev_taken(region(2) + 4, 2));
	/* Reset drops it. */
	common_wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	ck_assert(!ioev_taken(region(2) + 4, 2));

	/* A trapped kick at the new address reaches the device. */
	ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1) &
		  VIRTIO_STATUS_FEATURES_OK);
	setup_queue(1, 16, false, false, VIRTIO_MSI_NO_VECTOR);
	ck_assert(ioev_taken(region(2) + 4, 2));
	driver_ok_wait(1);
	add_buf();
	kick(1);
	ck_assert(wait_notify(2000));
	ck_assert_uint_eq(td.notifies[1], 2); /* activation + this kick */
	/* The guest's write as KVM turns it into an ioeventfd signal. */
	add_buf();
	ck_assert(fake_irq_kick(fake, BUS_MMIO, region(2) + 4, 2, 1));
	ck_assert(wait_notify(2000));
	ck_assert_uint_eq(td.notifies[1], 3);
}
END_TEST

START_TEST(msix_vectors_and_config_irq)
{
	uint64_t sent;
	uint8_t gen;

	enable_msix();
	common_wr(VIRTIO_PCI_COMMON_MSIX, NQ + 1,
		  2); /* nvec = NQ + 1: out of range */
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_MSIX, 2),
			  VIRTIO_MSI_NO_VECTOR);
	common_wr(VIRTIO_PCI_COMMON_MSIX, NQ, 2);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_MSIX, 2), NQ);
	common_wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 2);
	common_wr(VIRTIO_PCI_COMMON_Q_MSIX, 0x1234, 2);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_MSIX, 2),
			  VIRTIO_MSI_NO_VECTOR);
	common_wr(VIRTIO_PCI_COMMON_Q_MSIX, 0, 2);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_MSIX, 2), 0);

	/* Config change before DRIVER_OK: generation moves, no interrupt. */
	sent = pci_msix_delivered(virtio_pci_dev(td.vp));
	gen = (uint8_t)common_rd(VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	pthread_mutex_lock(&td.vdev.lock);
	virtio_dev_config_changed(&td.vdev);
	pthread_mutex_unlock(&td.vdev.lock);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_CFGGENERATION, 1),
			  (uint8_t)(gen + 1));
	ck_assert_uint_eq(pci_msix_delivered(virtio_pci_dev(td.vp)), sent);

	ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1) &
		  VIRTIO_STATUS_FEATURES_OK);
	common_wr(VIRTIO_PCI_COMMON_MSIX, NQ, 2);
	driver_ok();
	pthread_mutex_lock(&td.vdev.lock);
	virtio_dev_config_changed(&td.vdev);
	pthread_mutex_unlock(&td.vdev.lock);
	ck_assert_uint_eq(pci_msix_delivered(virtio_pci_dev(td.vp)), sent + 1);
	ck_assert_uint_eq(t_mmio_read(bus, region(3), 1), 2); /* config bit */
	/* NO_VECTOR: ISR only. */
	common_wr(VIRTIO_PCI_COMMON_MSIX, VIRTIO_MSI_NO_VECTOR, 2);
	pthread_mutex_lock(&td.vdev.lock);
	virtio_dev_config_changed(&td.vdev);
	pthread_mutex_unlock(&td.vdev.lock);
	ck_assert_uint_eq(pci_msix_delivered(virtio_pci_dev(td.vp)), sent + 1);
	ck_assert_uint_eq(t_mmio_read(bus, region(3), 1), 2);
}
END_TEST

START_TEST(device_config)
{
	uint64_t dc = region(4);
	uint32_t w, c5;

	ck_assert_uint_eq(t_mmio_read(bus, dc, 4), 0x12005452);
	ck_assert_uint_eq(t_mmio_read(bus, dc + 4, 2), 0x5634);
	ck_assert_uint_eq(t_mmio_read(bus, dc + 8, 1), 2);
	/* Past the model's config: zeroes, and the model never sees it. */
	ck_assert_uint_eq(t_mmio_read(bus, dc + 12, 4), 0);
	ck_assert_uint_eq(t_mmio_read(bus, dc + 10, 4), 0); /* straddles end */
	t_mmio_write(bus, dc + 10, 0xaabbccdd, 4);
	ck_assert_uint_eq(td.cfg[10], 0xdd);
	ck_assert_uint_eq(td.cfg[11], 0xcc);
	t_mmio_write(bus, dc + 6, 0x0303, 2);
	ck_assert_uint_eq(td.cfg[6], 3);

	/* The PCI_CFG window (§4.1.4.9): BAR 4 through config space. */
	c5 = find_vcap(5);
	cfg_wr(c5 + 4, 4, 1);
	cfg_wr(c5 + 8, 0x2000, 4);
	cfg_wr(c5 + 12, 4, 4);
	ck_assert_uint_eq(cfg_rd(c5 + 16, 4), 0x12005452);
	cfg_wr(c5 + 16, 0x11223344, 4);
	memcpy(&w, td.cfg, 4);
	ck_assert_uint_eq(w, 0x11223344);
	cfg_wr(c5 + 8, VIRTIO_PCI_COMMON_NUMQ, 4);
	cfg_wr(c5 + 12, 2, 4);
	ck_assert_uint_eq(cfg_rd(c5 + 16, 4) & 0xffff, NQ);
	/* Misaligned or bad length or bad BAR: reads 0, writes dropped. */
	cfg_wr(c5 + 8, 0x2001, 4);
	ck_assert_uint_eq(cfg_rd(c5 + 16, 4), 0);
	cfg_wr(c5 + 8, 0x2000, 4);
	cfg_wr(c5 + 12, 3, 4);
	ck_assert_uint_eq(cfg_rd(c5 + 16, 4), 0);
	cfg_wr(c5 + 12, 4, 4);
	cfg_wr(c5 + 4, 2, 1);
	cfg_wr(c5 + 16, 0, 4);
	ck_assert_uint_eq(t_mmio_read(bus, dc, 4), 0x11223344);
	/* Status through the window: the state machine runs. */
	cfg_wr(c5 + 4, 4, 1);
	cfg_wr(c5 + 8, VIRTIO_PCI_COMMON_STATUS, 4);
	cfg_wr(c5 + 12, 1, 4);
	cfg_wr(c5 + 16, VIRTIO_STATUS_ACKNOWLEDGE, 4);
	ck_assert_uint_eq(status(), VIRTIO_STATUS_ACKNOWLEDGE);
}
END_TEST

START_TEST(needs_reset)
{
	uint64_t f = 1ULL << VIRTIO_F_VERSION_1, sent;
	struct virtq_desc *d;
	unsigned n;

	/* A ring outside RAM at enable time. */
	enable_msix();
	ck_assert(negotiate(f) & VIRTIO_STATUS_FEATURES_OK);
	common_wr(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	common_wr(VIRTIO_PCI_COMMON_Q_DESCLO, RAM_SIZE - 16, 8);
	common_wr(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	ck_assert(status() & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(common_rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	/* A size that is not a power of two (split). */
	ck_assert(negotiate(f) & VIRTIO_STATUS_FEATURES_OK);
	ck_assert(!(status() & VIRTIO_STATUS_NEEDS_RESET));
	setup_queue(0, 24, false, false, 1);
	ck_assert(status() & VIRTIO_STATUS_NEEDS_RESET);
	/* Larger than the maximum. */
	ck_assert(negotiate(f) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(0, QMAX * 2, false, false, 1);
	ck_assert(status() & VIRTIO_STATUS_NEEDS_RESET);

	/* A malformed chain found by the device after DRIVER_OK. */
	ck_assert(negotiate(f) & VIRTIO_STATUS_FEATURES_OK);
	common_wr(VIRTIO_PCI_COMMON_MSIX, 0, 2);
	setup_queue(0, 16, false, false, 1);
	driver_ok_wait(1);
	sent = pci_msix_delivered(virtio_pci_dev(td.vp));
	add_buf();
	d = drv.desc;
	d[0].next = 200; /* NEXT to a descriptor outside the table */
	kick(0);
	ck_assert(wait_notify(2000));
	ck_assert(status() & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert(status() & VIRTIO_STATUS_DRIVER_OK);
	/* §2.1.2: a configuration interrupt tells the driver. */
	ck_assert_uint_eq(pci_msix_delivered(virtio_pci_dev(td.vp)), sent + 1);
	ck_assert_uint_eq(t_mmio_read(bus, region(3), 1) & 2, 2);
	/* No more processing until reset. */
	n = td.notifies[0];
	kick(0);
	ck_assert(!wait_notify(200));
	ck_assert_uint_eq(td.notifies[0], n);
	ck_assert(!virtio_dev_queue_live(&td.vdev, 0));
	/* Reset and a clean bring-up work again. */
	ck_assert(negotiate(f) & VIRTIO_STATUS_FEATURES_OK);
	ck_assert(!(status() & VIRTIO_STATUS_NEEDS_RESET));
	setup_queue(0, 16, false, false, 1);
	driver_ok_wait(1);
	n = td.notifies[0];
	add_buf();
	kick(0);
	ck_assert(wait_notify(2000));
	ck_assert_uint_eq(td.notifies[0], n + 1);
}
END_TEST

/*
 * A driver thread (this one) and the device on the I/O thread race for
 * real: the driver kicks only when the device's avail_event / event
 * suppression structure asks for it. Every buffer must be used - a lost
 * kick (a missing barrier or re-check in virtq_pop) stalls the queue.
 */
static void no_lost_kicks(bool packed)
{
	uint64_t f = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_EVENT_IDX;
	const unsigned total = 20000;
	unsigned added = 0, used = 0, kicks = 0, spins = 0;
	uint16_t id;
	uint32_t len;

	if (packed)
		f |= 1ULL << VIRTIO_F_RING_PACKED;
	ck_assert(negotiate(f) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(2, 64, packed, true, VIRTIO_MSI_NO_VECTOR);
	driver_ok_wait(1);
	while (used < total) {
		bool progress = false;

		while (added < total && (packed ? drv.inflight + 2 <= 64
						: drv.num_free >= 2)) {
			add_buf();
			added++;
			progress = true;
			if (drv_kick_needed(&drv)) {
				kick(2);
				kicks++;
			}
		}
		while (drv_get_used(&drv, &id, &len) == 0) {
			used++;
			progress = true;
		}
		if (progress) {
			spins = 0;
		} else {
			ck_assert_msg(++spins < 2000000,
				      "stalled: %u added, %u used", added, used);
			sched_yield();
		}
	}
	ck_assert_uint_eq(used, total);
	/* Suppression worked: far fewer kicks than buffers. */
	ck_assert_uint_lt(kicks, total);
	ck_assert(!(status() & VIRTIO_STATUS_NEEDS_RESET));
}

START_TEST(no_lost_kicks_split)
{
	no_lost_kicks(false);
}
END_TEST

START_TEST(no_lost_kicks_packed)
{
	no_lost_kicks(true);
}
END_TEST

/* Hostile register traffic: odd widths and offsets never crash. */
START_TEST(register_fuzz)
{
	uint64_t base = bar_addr(4);
	uint64_t s = 0x1234567;

	for (int i = 0; i < 20000; i++) {
		static const uint32_t lens[] = { 1, 2, 4, 8 };
		uint32_t len = lens[(s >> 7) % 4];
		uint64_t off = (s >> 13) % 0x4000;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		if (off + len > 0x4000)
			continue;
		/* Leave RAM alone: never point rings at the scribbled area. */
		if (s & 1)
			t_mmio_write(bus, base + off, s, len);
		else
			t_mmio_read(bus, base + off, len);
	}
	common_wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	ck_assert_uint_eq(status(), 0);
}
END_TEST

static Suite *virtio_pci_suite(void)
{
	Suite *s = suite_create("virtio-pci");
	TCase *tc = tcase_create("transport");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, identity_and_caps);
	tcase_add_test(tc, feature_negotiation);
	tcase_add_test(tc, status_machine);
	tcase_add_test(tc, split_queue_echo);
	tcase_add_test(tc, split_event_idx_echo);
	tcase_add_test(tc, packed_queue_echo);
	tcase_add_test(tc, ioeventfd_follows_bar);
	tcase_add_test(tc, msix_vectors_and_config_irq);
	tcase_add_test(tc, device_config);
	tcase_add_test(tc, needs_reset);
	tcase_add_test(tc, no_lost_kicks_split);
	tcase_add_test(tc, no_lost_kicks_packed);
	tcase_add_test(tc, register_fuzz);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(virtio_pci_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
