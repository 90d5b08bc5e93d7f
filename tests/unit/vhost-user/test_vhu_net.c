// SPDX-License-Identifier: MIT
/*
 * vhost-user-net (vhost-user/net.c) on a real PCI host with the recording
 * interrupt back end (fake_irq), and a
 * scripted back end: the guest-visible features and config, rings handed
 * over at DRIVER_OK (guest GPAs -> iovmm addresses, the transport's
 * eventfds), link down/up around a back-end restart with the rings resumed
 * at the guest's used index, GET_VRING_BASE on reset, a back end missing at
 * DRIVER_OK, and multiqueue through the control queue (VQ_PAIRS_SET ->
 * SET_VRING_ENABLE).
 */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/gmem.h"
#include "core/ioloop.h"
#include "core/irq.h"
#include "core/pci/host.h"
#include "core/util.h"
#include "vhost-user/net.h"
#include "tests/unit/emul-devices/virtio/vq_driver.h"
#include "fake_backend.h"
#include "fake_irq.h"
#include "guest_pci.h"

#define F_MAC (1ULL << 5)
#define F_STATUS (1ULL << 16)
#define F_CTRL_VQ (1ULL << 17)
#define F_MQ (1ULL << 22)
#define F_MRG (1ULL << 15)
#define F_V1 (1ULL << VIRTIO_F_VERSION_1)
#define QSIZE 64
#define RING_GPA(q) (0x100000ULL + (q) * 0x10000ULL)
#define CTRL_BUF 0x800000ULL

struct bus *gp_bus;
unsigned gp_slot = 1;

static struct irq *irq;
static struct pci_dev_ctx ctx; /* the device's creation context */
static struct fake_irq *fake;
static struct pci_host *host;
static struct gmem *mem;
static struct ioloop *io;
static struct fb fb;
static struct vhu_net *n;
static char path[108];
static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

static void setup(void)
{
	struct gmem_opts o = { .size = 16 * MiB, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };

	ck_assert_int_eq(fake_irq_create(&irq, &fake), 0);
	ck_assert_int_eq(bus_create(&gp_bus), 0);
	ck_assert_int_eq(pci_host_create(gp_bus, irq, 0, 0, &host), 0);
	ck_assert_int_eq(gmem_create(&o, &mem), 0);
	ck_assert_int_eq(ioloop_create(&io), 0);
	ck_assert_int_eq(ioloop_start(io), 0);
	ctx = (struct pci_dev_ctx){ .mem = mem, .irq = irq, .io = io,
				    .bus = gp_bus, .cancel_fd = -1 };
	snprintf(path, sizeof(path), "/tmp/vhu-net-test-%d.sock", getpid());
	fb_init(&fb, path);
	fb.features |= 1ULL << VIRTIO_F_RING_PACKED | 1ULL << 0 /* CSUM */ |
		       1ULL << 21 /* GUEST_ANNOUNCE */;
	n = NULL;
}

static void teardown(void)
{
	ioloop_stop(io);
	pci_host_destroy(host);
	vhu_net_destroy(n);
	fb_stop(&fb);
	ioloop_destroy(io);
	gmem_destroy(mem);
	bus_destroy(gp_bus);
	irq_destroy(irq);
}

static void create(unsigned queues)
{
	struct vhu_net_config c = { .socket = path, .queues = queues,
				    .timeout_ms = 1000 };
	char err[200];

	memcpy(c.mac, mac, 6);
	fb_start(&fb);
	ck_assert_msg(vhu_net_create(&ctx, &c, &n, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(pci_host_add(host, vhu_net_pci(n)), 0);
}

static void queues_up(unsigned nq)
{
	for (unsigned q = 0; q < nq; q++)
		gp_queue(q, QSIZE, RING_GPA(q), RING_GPA(q) + 0x1000,
			 RING_GPA(q) + 0x2000, VIRTIO_MSI_NO_VECTOR);
}

static void set_used_idx(unsigned q, uint16_t idx)
{
	uint16_t *p = gmem_ptr(mem, RING_GPA(q) + 0x2000 + 2, 2);

	*p = idx;
}

static bool pred_connections(struct fb *f, void *arg)
{
	return f->connections >= *(unsigned *)arg;
}

static bool wait_link(bool up, int ms)
{
	struct vhu_net_stats s;

	for (int t = 0; t <= ms; t += 5) {
		vhu_net_get_stats(n, &s);
		if (s.link_up == up && (gp_devcfg_rd(6, 2) & 1) == up)
			return true;
		usleep(5000);
	}
	return false;
}

static bool wait_started(int ms)
{
	struct vhu_net_stats s;

	for (int t = 0; t <= ms; t += 5) {
		vhu_net_get_stats(n, &s);
		if (s.started)
			return true;
		usleep(5000);
	}
	return false;
}

START_TEST(features_and_config)
{
	uint64_t f;

	create(1);
	f = gp_dev_features();
	/* Offered: the back end's pass-through bits plus MAC and STATUS;
	 * never packed rings, never bits iovmm does not pass (ANNOUNCE). */
	ck_assert_uint_eq(f, F_V1 | 1ULL << VIRTIO_F_EVENT_IDX | F_MRG |
			     1ULL << 0 | F_MAC | F_STATUS);
	ck_assert_uint_eq(gp_cfg_rd(PCI_DEVICE_ID, 2), 0x1041);
	for (unsigned i = 0; i < 6; i++)
		ck_assert_uint_eq(gp_devcfg_rd(i, 1), mac[i]);
	ck_assert_uint_eq(gp_devcfg_rd(6, 2), 1);  /* link up */
	ck_assert_uint_eq(gp_devcfg_rd(8, 2), 1);  /* max_virtqueue_pairs */
	ck_assert_uint_eq(gp_common_rd(VIRTIO_PCI_COMMON_NUMQ, 2), 2);
	gp_common_wr(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	ck_assert_uint_eq(gp_common_rd(VIRTIO_PCI_COMMON_Q_SIZE, 2),
			  VHU_NET_QUEUE_SIZE);
}
END_TEST

START_TEST(driver_ok_starts_rings)
{
	struct vhu_net_stats s;

	create(1);
	ck_assert(gp_negotiate(F_V1 | F_MAC | F_STATUS | F_MRG) &
		  VIRTIO_STATUS_FEATURES_OK);
	queues_up(2);
	gp_driver_ok();
	/* Synchronous under REPLY_ACK: done when DRIVER_OK returns. */
	vhu_net_get_stats(n, &s);
	ck_assert(s.started);
	ck_assert_uint_eq(fb.acked_features,
			  F_V1 | F_MRG | 1ULL << VHU_F_PROTOCOL_FEATURES);
	ck_assert_uint_eq(fb.status, 0xf);
	for (unsigned q = 0; q < 2; q++) {
		ck_assert_uint_eq(fb.vring_num[q], QSIZE);
		ck_assert_uint_eq(fb.vring_base_set[q], 0);
		ck_assert_uint_eq(fb.vring_addr[q].desc,
				  (uintptr_t)gmem_ptr(mem, RING_GPA(q), 1));
		ck_assert_uint_eq(fb.vring_addr[q].avail,
				  (uintptr_t)gmem_ptr(mem, RING_GPA(q) + 0x1000, 1));
		ck_assert_uint_eq(fb.vring_addr[q].used,
				  (uintptr_t)gmem_ptr(mem, RING_GPA(q) + 0x2000, 1));
		ck_assert_int_eq(fb.enabled[q], 1);
	}
	/* A guest kick reaches the back end's kick fd, not iovmm. */
	uint64_t v;

	while (read(fb.kick_fd[1], &v, 8) == 8)
		; /* DRIVER_OK's activation kick */
	gp_kick(1);
	ck_assert_int_eq(read(fb.kick_fd[1], &v, 8), 8);
	ck_assert_uint_eq(fb.dispatch_errors, 0);
}
END_TEST

START_TEST(backend_restart_restores_rings)
{
	unsigned two = 2;
	uint8_t gen;

	create(1);
	ck_assert(gp_negotiate(F_V1 | F_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	queues_up(2);
	gp_driver_ok();
	ck_assert(wait_started(1000));
	/* The guest has had 7 RX and 3 TX buffers completed. */
	set_used_idx(0, 7);
	set_used_idx(1, 3);
	gen = (uint8_t)gp_common_rd(VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	fb_clear_log(&fb);
	fb_hangup(&fb);
	ck_assert(wait_link(false, 2000));
	ck_assert_uint_ne((uint8_t)gp_common_rd(VIRTIO_PCI_COMMON_CFGGENERATION,
						1), gen);
	/* It comes back: everything again, rings resumed at used->idx. */
	ck_assert(fb_wait(&fb, pred_connections, &two, 3000));
	ck_assert(wait_started(3000));
	ck_assert(wait_link(true, 2000));
	ck_assert_uint_eq(fb.vring_base_set[0], 7);
	ck_assert_uint_eq(fb.vring_base_set[1], 3);
	ck_assert_uint_eq(fb_count(&fb, VHU_SET_MEM_TABLE), 1);
	ck_assert_uint_eq(fb_count(&fb, VHU_SET_VRING_KICK), 2);
	ck_assert_uint_eq(fb.dispatch_errors, 0);
}
END_TEST

START_TEST(reset_asks_vring_base)
{
	create(1);
	ck_assert(gp_negotiate(F_V1) & VIRTIO_STATUS_FEATURES_OK);
	queues_up(2);
	gp_driver_ok();
	ck_assert(wait_started(1000));
	fb_clear_log(&fb);
	gp_common_wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	/* Synchronous: the back end has stopped both rings already. */
	ck_assert_uint_eq(fb_count(&fb, VHU_GET_VRING_BASE), 2);
	ck_assert_uint_eq(fb.status, 0);
	/* After a reset the next start is a fresh one (base 0). */
	set_used_idx(0, 9);
	ck_assert(gp_negotiate(F_V1) & VIRTIO_STATUS_FEATURES_OK);
	queues_up(2);
	gp_driver_ok();
	ck_assert(wait_started(1000));
	ck_assert_uint_eq(fb.vring_base_set[0], 0);
}
END_TEST

START_TEST(backend_missing_at_driver_ok)
{
	unsigned two = 2;

	create(1);
	/* Gone before the driver starts; refused while the guest boots. */
	pthread_mutex_lock(&fb.lock);
	fb.refuse = true;
	pthread_mutex_unlock(&fb.lock);
	fb_hangup(&fb);
	ck_assert(wait_link(false, 2000));
	ck_assert(gp_negotiate(F_V1 | F_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	queues_up(2);
	gp_driver_ok();
	/* The guest is not failed; the device waits with the link down. */
	ck_assert(gp_status() & VIRTIO_STATUS_DRIVER_OK);
	ck_assert(!(gp_status() & VIRTIO_STATUS_NEEDS_RESET));
	ck_assert_uint_eq(gp_devcfg_rd(6, 2), 0);
	set_used_idx(0, 4);
	pthread_mutex_lock(&fb.lock);
	fb.refuse = false;
	pthread_mutex_unlock(&fb.lock);
	ck_assert(fb_wait(&fb, pred_connections, &two, 3000));
	ck_assert(wait_started(3000));
	ck_assert(wait_link(true, 1000));
	/* The rings never ran: a fresh start, not a restore. */
	ck_assert_uint_eq(fb.vring_base_set[0], 0);
}
END_TEST

/* One control command through the control queue; returns the ack. */
static uint8_t ctrl_cmd(struct drv_vq *d, unsigned q, uint8_t cls,
			uint8_t cmd, uint16_t arg)
{
	uint8_t *buf = gmem_ptr(mem, CTRL_BUF, 16);
	struct drv_seg s[2] = {
		{ CTRL_BUF, 4, false }, { CTRL_BUF + 8, 1, true },
	};
	uint16_t id;
	uint32_t len;

	buf[0] = cls;
	buf[1] = cmd;
	buf[2] = (uint8_t)arg;
	buf[3] = (uint8_t)(arg >> 8);
	buf[8] = 0xee;
	ck_assert_int_eq(drv_add(d, s, 2, false, &id), 0);
	gp_kick(q);
	for (int t = 0; t < 400; t++) {
		if (drv_get_used(d, &id, &len) == 0)
			return buf[8];
		usleep(5000);
	}
	ck_abort_msg("control command not answered");
	return 0xff;
}

START_TEST(multiqueue)
{
	struct virtq_config vc = {
		.size = QSIZE, .desc_gpa = RING_GPA(4),
		.avail_gpa = RING_GPA(4) + 0x1000, .used_gpa = RING_GPA(4) + 0x2000,
	};
	struct drv_vq d = { 0 };

	fb.features |= F_MQ;
	create(2);
	ck_assert(gp_dev_features() & F_MQ);
	ck_assert(gp_dev_features() & F_CTRL_VQ);
	ck_assert_uint_eq(gp_devcfg_rd(8, 2), 2);
	ck_assert_uint_eq(gp_common_rd(VIRTIO_PCI_COMMON_NUMQ, 2), 5);
	/* CTRL_VQ without MQ would put the control queue on a data ring. */
	ck_assert(!(gp_negotiate(F_V1 | F_CTRL_VQ) & VIRTIO_STATUS_FEATURES_OK));
	ck_assert(gp_negotiate(F_V1 | F_CTRL_VQ | F_MQ) &
		  VIRTIO_STATUS_FEATURES_OK);
	queues_up(4);
	ck_assert_int_eq(drv_vq_init(&d, mem, &vc, 0x900000), 0);
	gp_queue(4, QSIZE, vc.desc_gpa, vc.avail_gpa, vc.used_gpa,
		 VIRTIO_MSI_NO_VECTOR);
	gp_driver_ok();
	ck_assert(wait_started(1000));
	/* §5.1.6.5.5: one pair until VQ_PAIRS_SET. */
	ck_assert_int_eq(fb.enabled[0], 1);
	ck_assert_int_eq(fb.enabled[1], 1);
	ck_assert_int_eq(fb.enabled[2], 0);
	ck_assert_int_eq(fb.enabled[3], 0);
	ck_assert_uint_eq(fb.acked_features & F_MQ, F_MQ);
	ck_assert_uint_eq(fb.acked_features & F_CTRL_VQ, 0);
	/* VIRTIO_NET_CTRL_MQ / VQ_PAIRS_SET 2. */
	ck_assert_uint_eq(ctrl_cmd(&d, 4, 4, 0, 2), 0);
	ck_assert_int_eq(fb.enabled[2], 1);
	ck_assert_int_eq(fb.enabled[3], 1);
	/* Out of range, and an unknown class: errors, nothing changes. */
	ck_assert_uint_eq(ctrl_cmd(&d, 4, 4, 0, 3), 1);
	ck_assert_uint_eq(ctrl_cmd(&d, 4, 0, 0, 0), 1);
	ck_assert_uint_eq(ctrl_cmd(&d, 4, 4, 0, 1), 0);
	ck_assert_int_eq(fb.enabled[2], 0);
	ck_assert_int_eq(fb.enabled[3], 0);
	drv_vq_free(&d);
	ck_assert_uint_eq(fb.dispatch_errors, 0);
}
END_TEST

/*
 * More commands than one pass may answer (VIRTIO_NET_CTRL_BUDGET) after a
 * single kick: the device yields the I/O thread and comes back for the
 * rest, so every command is answered without another kick.
 */
START_TEST(ctrl_flood)
{
	enum { CQ_SIZE = 256, NCMDS = 120 };
	struct virtq_config vc = {
		.size = CQ_SIZE, .desc_gpa = RING_GPA(4),
		.avail_gpa = RING_GPA(4) + 0x1000, .used_gpa = RING_GPA(4) + 0x2000,
	};
	struct drv_vq d = { 0 };
	unsigned answered = 0;
	uint16_t id;
	uint32_t len;

	fb.features |= F_MQ;
	create(2);
	ck_assert(gp_negotiate(F_V1 | F_CTRL_VQ | F_MQ) &
		  VIRTIO_STATUS_FEATURES_OK);
	queues_up(4);
	ck_assert_int_eq(drv_vq_init(&d, mem, &vc, 0x900000), 0);
	gp_queue(4, CQ_SIZE, vc.desc_gpa, vc.avail_gpa, vc.used_gpa,
		 VIRTIO_MSI_NO_VECTOR);
	gp_driver_ok();
	ck_assert(wait_started(1000));
	for (unsigned i = 0; i < NCMDS; i++) {
		uint64_t gpa = CTRL_BUF + 16ULL * i;
		uint8_t *buf = gmem_ptr(mem, gpa, 16);
		struct drv_seg s[2] = { { gpa, 4, false }, { gpa + 8, 1, true } };

		/* Odd commands: an unknown class (ERR); even: VQ_PAIRS_SET 1. */
		buf[0] = i & 1 ? 0 : 4;
		buf[1] = 0;
		buf[2] = 1;
		buf[3] = 0;
		buf[8] = 0xee;
		ck_assert_int_eq(drv_add(&d, s, 2, false, &id), 0);
	}
	gp_kick(4);
	for (int t = 0; t < 400 && answered < NCMDS; t++) {
		while (drv_get_used(&d, &id, &len) == 0)
			answered++;
		if (answered < NCMDS)
			usleep(5000);
	}
	ck_assert_uint_eq(answered, NCMDS);
	for (unsigned i = 0; i < NCMDS; i++)
		ck_assert_uint_eq(*(uint8_t *)gmem_ptr(mem, CTRL_BUF + 16ULL * i + 8, 1),
				  i & 1 ? 1 : 0);
	ck_assert(!(gp_status() & VIRTIO_STATUS_NEEDS_RESET));
	drv_vq_free(&d);
}
END_TEST

START_TEST(create_errors)
{
	struct vhu_net_config c = { .socket = path, .queues = 9 };
	char err[200];

	memcpy(c.mac, mac, 6);
	ck_assert_int_eq(vhu_net_create(&ctx, &c, &n, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "queues"));
	c.queues = 1;
	ck_assert_int_eq(vhu_net_create(&ctx, &c, &n, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "does not exist"));
	c.mac[0] = 1;
	ck_assert_int_eq(vhu_net_create(&ctx, &c, &n, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(n);
	fb_start(&fb); /* for teardown */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vhu-net");
	TCase *tc = tcase_create("device");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, features_and_config);
	tcase_add_test(tc, driver_ok_starts_rings);
	tcase_add_test(tc, backend_restart_restores_rings);
	tcase_add_test(tc, reset_asks_vring_base);
	tcase_add_test(tc, backend_missing_at_driver_ok);
	tcase_add_test(tc, multiqueue);
	tcase_add_test(tc, ctrl_flood);
	tcase_add_test(tc, create_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
