// SPDX-License-Identifier: MIT
/*
 * virtio-net driven like a guest would: a real PCI host + bus, real gmem,
 * the loopback back end on a running I/O thread, split and packed rings.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "core/util.h"
#include "emul-devices/net/backend.h"
#include "emul-devices/virtio/net.h"
#include "emul-devices/virtio/virtio.h"
#include "vdrv.h"

#define F(b) (1ULL << (b))
#define F_MAC 5
#define F_GUEST_TSO4 7
#define F_MRG 15
#define F_STATUS 16
#define F_CTRL_VQ 17
#define F_MQ 22
#define HDR 12
#define WAIT_MS 2000

static const uint8_t test_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct tnet {
	struct vdrv_env env;
	struct virtio_net *n;
	struct vdrv d;
	struct vqd rx, tx;
	uint64_t rx_buf[5][VQD_MAX]; /* RX buffer gpa by queue, id */
	uint32_t rx_len[5][VQD_MAX];
};

static void tnet_create(struct tnet *t, unsigned queues, bool packed)
{
	struct virtio_net_config cfg = {
		.backend = "loopback", .has_mac = true, .queues = queues,
		.packed = packed, .name = "vnet-test",
	};
	char err[128] = "";

	memcpy(cfg.mac, test_mac, 6);
	vdrv_env_init(&t->env);
	ck_assert_msg(virtio_net_create(&(struct pci_dev_ctx)VDRV_CTX(&t->env),
					&cfg, &t->n, err, sizeof(err)) == 0,
		      "create: %s", err);
	ck_assert_int_eq(pci_host_add(t->env.host, virtio_net_pci(t->n)), 0);
	ck_assert_int_eq(vdrv_probe(&t->d, &t->env, 1), 0);
}

static void tnet_destroy(struct tnet *t)
{
	vdrv_env_stop(&t->env);
	virtio_net_destroy(t->n);
	vdrv_env_fini(&t->env);
}

/* Negotiate, set up receiveq 0 / transmitq 1 and go. */
static void tnet_start(struct tnet *t, uint64_t want, uint16_t rx_size)
{
	ck_assert_int_eq(vdrv_negotiate(&t->d, want | F(VIRTIO_F_VERSION_1)), 0);
	ck_assert_int_eq(vqd_setup(&t->rx, &t->d, 0, rx_size), 0);
	ck_assert_int_eq(vqd_setup(&t->tx, &t->d, 1, 0), 0);
	vdrv_driver_ok(&t->d);
	ck_assert_uint_eq(vdrv_status(&t->d) & VIRTIO_STATUS_DRIVER_OK,
			  VIRTIO_STATUS_DRIVER_OK);
}

/* Post one RX buffer of len bytes, split in `parts` descriptors. */
static void tnet_post_rx(struct tnet *t, struct vqd *q, uint32_t len,
			 unsigned parts)
{
	uint64_t gpa = vdrv_alloc(&t->env, len, 64);
	struct vseg s[4];
	int id;

	for (unsigned i = 0; i < parts; i++) {
		uint32_t l = len / parts + (i == parts - 1 ? len % parts : 0);

		s[i] = (struct vseg){ gpa + (uint64_t)(len / parts) * i, l, true };
	}
	id = vqd_add(q, s, parts);
	ck_assert_int_ge(id, 0);
	t->rx_buf[q->idx][id] = gpa;
	t->rx_len[q->idx][id] = len;
}

static void make_frame(uint8_t *f, size_t len, unsigned seq)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seq * 31 + i * 7);
	if (len > 15) {
		f[14] = (uint8_t)seq;
		f[15] = (uint8_t)(seq >> 8);
	}
}

/* Queue one frame (header + frame, in `parts` descriptors) on q. */
static void tnet_send_on(struct tnet *t, struct vqd *q, const uint8_t *frame,
			 size_t len, unsigned parts)
{
	uint64_t gpa = vdrv_alloc(&t->env, HDR + len, 64);
	uint8_t *p = vdrv_ptr(&t->env, gpa, HDR + len);
	struct vseg s[2];

	memset(p, 0, HDR);
	memcpy(p + HDR, frame, len);
	if (parts == 1) {
		s[0] = (struct vseg){ gpa, (uint32_t)(HDR + len), false };
	} else {
		s[0] = (struct vseg){ gpa, 7, false }; /* header split, too */
		s[1] = (struct vseg){ gpa + 7, (uint32_t)(HDR + len - 7), false };
	}
	ck_assert_int_ge(vqd_add(q, s, parts), 0);
}

static void tnet_send_parts(struct tnet *t, size_t len, unsigned seq,
			    bool kick, unsigned parts)
{
	uint8_t f[2048];

	make_frame(f, len, seq);
	tnet_send_on(t, &t->tx, f, len, parts);
	if (kick)
		vqd_kick(&t->tx);
}

static void tnet_send(struct tnet *t, size_t len, unsigned seq, bool kick)
{
	tnet_send_parts(t, len, seq, kick, 1 + seq % 2);
}

/* Receive one frame into buf (concatenating merged buffers). */
static size_t tnet_recv_on(struct tnet *t, struct vqd *q, uint8_t *buf,
			   size_t cap, uint16_t *nbufs)
{
	uint16_t id, num;
	uint32_t len;
	size_t got;

	ck_assert_msg(vqd_wait_used(q, &id, &len, WAIT_MS), "no RX frame");
	ck_assert_uint_ge(len, HDR);
	ck_assert_uint_le(len, t->rx_len[q->idx][id]);
	memcpy(&num, (uint8_t *)vdrv_ptr(&t->env, t->rx_buf[q->idx][id], HDR) + 10, 2);
	ck_assert_uint_ge(num, 1);
	ck_assert_uint_eq(*(uint8_t *)vdrv_ptr(&t->env, t->rx_buf[q->idx][id], 1), 0);
	got = len - HDR;
	ck_assert_uint_le(got, cap);
	memcpy(buf, (uint8_t *)vdrv_ptr(&t->env, t->rx_buf[q->idx][id], len) + HDR, got);
	for (uint16_t i = 1; i < num; i++) {
		ck_assert_msg(vqd_wait_used(q, &id, &len, WAIT_MS), "missing buffer");
		ck_assert_uint_le(got + len, cap);
		memcpy(buf + got, vdrv_ptr(&t->env, t->rx_buf[q->idx][id], len), len);
		got += len;
	}
	*nbufs = num;
	return got;
}

static void tnet_expect(struct tnet *t, struct vqd *q, size_t len, unsigned seq)
{
	uint8_t want[2048], got[4096];
	uint16_t nb;
	size_t n = tnet_recv_on(t, q, got, sizeof(got), &nb);

	make_frame(want, len, seq);
	ck_assert_uint_eq(n, len);
	ck_assert_msg(!memcmp(want, got, len), "frame %u corrupted", seq);
}

static void tnet_wait_status(struct tnet *t, uint8_t bit)
{
	for (int i = 0; i < WAIT_MS && !(vdrv_status(&t->d) & bit); i++)
		vdrv_msleep(1);
	ck_assert_uint_eq(vdrv_status(&t->d) & bit, bit);
}

/* ---- tests ---- */

START_TEST(net_config_and_features)
{
	struct tnet t;
	uint64_t f;
	uint8_t mac[6];

	tnet_create(&t, 1, _i);
	f = vdrv_device_features(&t.d);
	ck_assert(f & F(VIRTIO_F_VERSION_1));
	ck_assert(f & F(F_MAC) && f & F(F_STATUS) && f & F(F_MRG));
	ck_assert(f & F(VIRTIO_F_EVENT_IDX) && f & F(VIRTIO_F_INDIRECT_DESC));
	ck_assert_uint_eq(!!(f & F(VIRTIO_F_RING_PACKED)), _i);
	ck_assert(!(f & F(F_MQ)) && !(f & F(F_CTRL_VQ)));
	/* loopback passes vnet headers through: offloads are offered. */
	ck_assert(f & F(F_GUEST_TSO4));
	ck_assert_uint_eq(vdrv_num_queues(&t.d), 2);
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)vdrv_cfg_read(&t.d, i, 1);
	ck_assert(!memcmp(mac, test_mac, 6));
	ck_assert_uint_eq(vdrv_cfg_read(&t.d, 6, 2), 1); /* LINK_UP */
	ck_assert_uint_eq(vdrv_cfg_read(&t.d, 8, 2), 1); /* max pairs */
	virtio_net_set_link(t.n, false);
	ck_assert_uint_eq(vdrv_cfg_read(&t.d, 6, 2), 0);
	virtio_net_set_link(t.n, true);
	ck_assert_uint_eq(vdrv_cfg_read(&t.d, 6, 2), 1);
	tnet_destroy(&t);
}
END_TEST

START_TEST(net_create_errors)
{
	struct vdrv_env env;
	struct virtio_net *n = (void *)1;
	struct virtio_net_config cfg = { .backend = "bogus" };
	char err[128] = "";

	vdrv_env_init(&env);
	ck_assert_int_eq(virtio_net_create(&(struct pci_dev_ctx)VDRV_CTX(&env), &cfg,
					   &n, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(n);
	ck_assert_msg(strstr(err, "bogus"), "err: %s", err);
	cfg.backend = "loopback";
	cfg.queues = 9;
	ck_assert_int_eq(virtio_net_create(&(struct pci_dev_ctx)VDRV_CTX(&env), &cfg,
					   &n, err, sizeof(err)), -EINVAL);
	cfg.queues = 1;
	cfg.has_mac = true;
	ck_assert_int_eq(virtio_net_create(&(struct pci_dev_ctx)VDRV_CTX(&env), &cfg,
					   &n, err, sizeof(err)), -EINVAL);
	cfg.mac[0] = 0x01; /* multicast */
	ck_assert_int_eq(virtio_net_create(&(struct pci_dev_ctx)VDRV_CTX(&env), &cfg,
					   &n, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "multicast"), "err: %s", err);
	/* A random MAC is unicast and locally administered. */
	cfg.has_mac = false;
	ck_assert_int_eq(virtio_net_create(&(struct pci_dev_ctx)VDRV_CTX(&env), &cfg,
					   &n, err, sizeof(err)), 0);
	ck_assert_int_eq(pci_host_add(env.host, virtio_net_pci(n)), 0);
	{
		struct vdrv d;

		ck_assert_int_eq(vdrv_probe(&d, &env, 1), 0);
		ck_assert_uint_eq(vdrv_cfg_read(&d, 0, 1) & 3, 2);
	}
	vdrv_env_stop(&env);
	virtio_net_destroy(n);
	virtio_net_destroy(NULL);
	vdrv_env_fini(&env);
}
END_TEST

/* TX to loopback comes back on RX byte-exact, in order. _i: packed. */
START_TEST(net_loopback_roundtrip)
{
	struct tnet t;
	struct virtio_net_stats st;
	uint16_t id;
	uint32_t len;
	unsigned txed = 0;

	tnet_create(&t, 1, _i);
	tnet_start(&t, F(F_MAC) | F(VIRTIO_F_EVENT_IDX) |
		       F(VIRTIO_F_RING_PACKED), 0);
	ck_assert_uint_eq(!!(t.d.features & F(VIRTIO_F_RING_PACKED)), _i);
	for (unsigned i = 0; i < 32; i++)
		tnet_post_rx(&t, &t.rx, 2048, 1 + i % 2);
	vqd_kick(&t.rx);
	/* Frames of 60..1514 bytes, one at a time and in a batch. */
	for (unsigned i = 0; i < 10; i++) {
		size_t l = 60 + i * 145;

		tnet_send(&t, l, i, true);
		tnet_expect(&t, &t.rx, l, i);
	}
	for (unsigned i = 10; i < 30; i++)
		tnet_send(&t, 60 + (i * 53) % 1455, i, false);
	vqd_kick(&t.tx);
	for (unsigned i = 10; i < 30; i++)
		tnet_expect(&t, &t.rx, 60 + (i * 53) % 1455, i);
	while (vqd_get_used(&t.tx, &id, &len)) {
		ck_assert_uint_eq(len, 0);
		txed++;
	}
	ck_assert_uint_eq(txed, 30);
	virtio_net_stats(t.n, &st);
	ck_assert_uint_eq(st.tx_frames, 30);
	ck_assert_uint_eq(st.rx_frames, 30);
	ck_assert_uint_eq(st.rx_dropped + st.rx_too_big + st.tx_dropped, 0);
	ck_assert_uint_eq(vdrv_status(&t.d) & VIRTIO_STATUS_NEEDS_RESET, 0);
	tnet_destroy(&t);
}
END_TEST

/* MRG_RXBUF: one frame across several 2-descriptor buffers. */
START_TEST(net_mrg_rxbuf)
{
	struct tnet t;
	uint8_t want[1000], got[4096];
	uint16_t nb;

	tnet_create(&t, 1, _i);
	tnet_start(&t, F(F_MRG) | F(VIRTIO_F_EVENT_IDX) |
		       F(VIRTIO_F_RING_PACKED), 0);
	for (unsigned i = 0; i < 16; i++)
		tnet_post_rx(&t, &t.rx, 256, 2);
	vqd_kick(&t.rx);
	tnet_send(&t, 1000, 7, true);
	make_frame(want, 1000, 7);
	ck_assert_uint_eq(tnet_recv_on(&t, &t.rx, got, sizeof(got), &nb), 1000);
	ck_assert_uint_eq(nb, 4); /* 12 + 1000 = 3 x 256 + 244 */
	ck_assert(!memcmp(want, got, 1000));
	/* A small frame still takes exactly one buffer. */
	tnet_send(&t, 100, 8, true);
	make_frame(want, 100, 8);
	ck_assert_uint_eq(tnet_recv_on(&t, &t.rx, got, sizeof(got), &nb), 100);
	ck_assert_uint_eq(nb, 1);
	ck_assert(!memcmp(want, got, 100));
	tnet_destroy(&t);
}
END_TEST

/* No RX buffer: frames wait (none lost), the device asks for an RX kick,
 * and delivery resumes in order once buffers come. */
START_TEST(net_rx_backpressure)
{
	struct tnet t;
	struct virtio_net_stats st;
	struct net_backend_stats bs;
	uint16_t id;
	uint32_t len;

	tnet_create(&t, 1, _i);
	tnet_start(&t, F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_F_RING_PACKED), 0);
	for (unsigned i = 0; i < 3; i++)
		tnet_send(&t, 200 + i, i, true);
	for (int i = 0; i < WAIT_MS; i++) {
		virtio_net_stats(t.n, &st);
		if (st.tx_frames == 3)
			break;
		vdrv_msleep(1);
	}
	ck_assert_uint_eq(st.tx_frames, 3);
	vdrv_msleep(50);
	ck_assert(!vqd_get_used(&t.rx, &id, &len));
	for (unsigned i = 0; i < 3; i++)
		tnet_post_rx(&t, &t.rx, 1600, 1);
	/* The device is out of buffers, so it must have asked for kicks. */
	ck_assert(vqd_kick(&t.rx));
	for (unsigned i = 0; i < 3; i++)
		tnet_expect(&t, &t.rx, 200 + i, i);
	virtio_net_stats(t.n, &st);
	ck_assert_uint_eq(st.rx_frames, 3);
	ck_assert_uint_eq(st.rx_dropped + st.rx_too_big, 0);
	(void)bs;
	/* And again: buffers refilled one at a time. */
	for (unsigned i = 3; i < 6; i++)
		tnet_send(&t, 300, i, true);
	for (unsigned i = 3; i < 6; i++) {
		tnet_post_rx(&t, &t.rx, 1600, 1);
		vqd_kick(&t.rx);
		tnet_expect(&t, &t.rx, 300, i);
	}
	tnet_destroy(&t);
}
END_TEST

/* A frame bigger than the guest's buffers is dropped and counted. */
START_TEST(net_rx_too_big)
{
	struct tnet t;
	struct virtio_net_stats st;

	tnet_create(&t, 1, _i);
	tnet_start(&t, F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_F_RING_PACKED), 0);
	/* One buffer: the dropped frame must leave it to the next one. */
	tnet_post_rx(&t, &t.rx, 512, 1);
	vqd_kick(&t.rx);
	tnet_send(&t, 1000, 0, true);
	tnet_send(&t, 100, 1, true);
	tnet_expect(&t, &t.rx, 100, 1);
	virtio_net_stats(t.n, &st);
	ck_assert_uint_eq(st.rx_too_big, 1);
	ck_assert_uint_eq(st.rx_frames, 1);
	tnet_destroy(&t);

	/* Mergeable, but the whole ring (4 x 64 bytes) cannot hold it. */
	tnet_create(&t, 1, _i);
	tnet_start(&t, F(F_MRG) | F(VIRTIO_F_RING_PACKED), 4);
	ck_assert_uint_eq(t.rx.size, 4);
	for (unsigned i = 0; i < 4; i++)
		tnet_post_rx(&t, &t.rx, 64, 1);
	vqd_kick(&t.rx);
	tnet_send(&t, 1000, 2, true);
	tnet_send(&t, 80, 3, true); /* 92 bytes: two buffers */
	tnet_expect(&t, &t.rx, 80, 3);
	virtio_net_stats(t.n, &st);
	ck_assert_uint_eq(st.rx_too_big, 1);
	tnet_destroy(&t);
}
END_TEST

/* Reset and prove the device works again. */
static void tnet_restart_and_check(struct tnet *t, bool packed)
{
	tnet_start(t, F(VIRTIO_F_EVENT_IDX) |
		       (packed ? F(VIRTIO_F_RING_PACKED) : 0), 0);
	ck_assert_uint_eq(vdrv_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET, 0);
	tnet_post_rx(t, &t->rx, 2048, 1);
	vqd_kick(&t->rx);
	tnet_send(t, 64, 42, true);
	tnet_expect(t, &t->rx, 64, 42);
}

/* Malformed chains put the device in NEEDS_RESET; a reset recovers. */
START_TEST(net_malformed)
{
	struct tnet t;
	struct vseg bad = { 0x700000000000ULL, 100, false };
	struct vseg shorty;

	tnet_create(&t, 1, _i);
	/* 1. A TX buffer outside guest RAM. */
	tnet_start(&t, F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_F_RING_PACKED), 0);
	ck_assert_int_ge(vqd_add(&t.tx, &bad, 1), 0);
	vqd_kick(&t.tx);
	tnet_wait_status(&t, VIRTIO_STATUS_NEEDS_RESET);
	tnet_restart_and_check(&t, _i);

	/* 2. A TX buffer shorter than the virtio-net header. */
	shorty = (struct vseg){ vdrv_alloc(&t.env, 64, 64), 8, false };
	ck_assert_int_ge(vqd_add(&t.tx, &shorty, 1), 0);
	vqd_kick(&t.tx);
	tnet_wait_status(&t, VIRTIO_STATUS_NEEDS_RESET);
	tnet_restart_and_check(&t, _i);

	/* 3. An RX buffer the device may not write. */
	tnet_start(&t, F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_F_RING_PACKED), 0);
	shorty = (struct vseg){ vdrv_alloc(&t.env, 2048, 64), 2048, false };
	ck_assert_int_ge(vqd_add(&t.rx, &shorty, 1), 0);
	vqd_kick(&t.rx);
	tnet_send(&t, 64, 1, true);
	tnet_wait_status(&t, VIRTIO_STATUS_NEEDS_RESET);
	tnet_restart_and_check(&t, _i);
	tnet_destroy(&t);
}
END_TEST

/* More frames in one kick than one TX run handles: the rest is deferred,
 * nothing is lost or reordered. */
START_TEST(net_tx_batch)
{
	struct tnet t;
	struct virtio_net_stats st;

	tnet_create(&t, 1, _i);
	tnet_start(&t, F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_F_RING_PACKED), 0);
	for (unsigned i = 0; i < 250; i++)
		tnet_post_rx(&t, &t.rx, 1600, 1);
	vqd_kick(&t.rx);
	for (unsigned i = 0; i < 200; i++)
		tnet_send_parts(&t, 60 + i, i, false, 1);
	ck_assert(vqd_kick(&t.tx));
	for (unsigned i = 0; i < 200; i++)
		tnet_expect(&t, &t.rx, 60 + i, i);
	virtio_net_stats(t.n, &st);
	ck_assert_uint_eq(st.tx_frames, 200);
	ck_assert_uint_eq(st.rx_frames, 200);
	tnet_destroy(&t);
}
END_TEST

/* ---- multiqueue ---- */

static uint8_t ctrl_cmd(struct tnet *t, struct vqd *cq, const uint8_t *cmd,
			size_t len)
{
	uint64_t gpa = vdrv_alloc(&t->env, len + 1, 8);
	uint8_t *p = vdrv_ptr(&t->env, gpa, len + 1);
	struct vseg s[2] = { { gpa, (uint32_t)len, false },
			     { gpa + len, 1, true } };
	uint16_t id;
	uint32_t ulen;

	memcpy(p, cmd, len);
	p[len] = 0xee;
	ck_assert_int_ge(vqd_add(cq, s, 2), 0);
	vqd_kick(cq);
	ck_assert(vqd_wait_used(cq, &id, &ulen, WAIT_MS));
	ck_assert_uint_eq(ulen, 1);
	return p[len];
}

/* IPv4/UDP frame between fixed hosts with the given ports. */
static void make_udp(uint8_t *f, size_t len, uint16_t sport, uint16_t dport)
{
	memset(f, 0, len);
	memcpy(f, test_mac, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x45;
	f[23] = 17;
	memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	f[34] = (uint8_t)(sport >> 8);
	f[35] = (uint8_t)sport;
	f[36] = (uint8_t)(dport >> 8);
	f[37] = (uint8_t)dport;
	for (size_t i = 42; i < len; i++)
		f[i] = (uint8_t)(i + sport);
}

START_TEST(net_mq_ctrl)
{
	struct tnet t;
	struct vqd rx1, tx1, cq;
	uint8_t set2[] = { 4, 0, 2, 0 }, set3[] = { 4, 0, 3, 0 },
		set0[] = { 4, 0, 0, 0 }, promisc[] = { 0, 0, 1 }, shortmq[] = { 4, 0 };
	uint8_t fa[128], fb[128], got[256];
	uint16_t nb, id;
	uint32_t len;

	tnet_create(&t, 2, false);
	ck_assert_uint_eq(vdrv_num_queues(&t.d), 5);
	ck_assert_uint_eq(vdrv_cfg_read(&t.d, 8, 2), 2);
	/* §5.1.3.1: MQ needs CTRL_VQ. */
	ck_assert_int_eq(vdrv_negotiate(&t.d, F(VIRTIO_F_VERSION_1) | F(F_MQ)), -1);

	ck_assert_int_eq(vdrv_negotiate(&t.d, F(VIRTIO_F_VERSION_1) | F(F_MQ) |
					 F(F_CTRL_VQ) | F(VIRTIO_F_EVENT_IDX)), 0);
	ck_assert_int_eq(vqd_setup(&t.rx, &t.d, 0, 0), 0);
	ck_assert_int_eq(vqd_setup(&t.tx, &t.d, 1, 0), 0);
	ck_assert_int_eq(vqd_setup(&rx1, &t.d, 2, 0), 0);
	ck_assert_int_eq(vqd_setup(&tx1, &t.d, 3, 0), 0);
	ck_assert_int_eq(vqd_setup(&cq, &t.d, 4, 0), 0);
	vdrv_driver_ok(&t.d);

	ck_assert_uint_eq(ctrl_cmd(&t, &cq, set2, sizeof(set2)), 0);
	ck_assert_uint_eq(ctrl_cmd(&t, &cq, set3, sizeof(set3)), 1);
	ck_assert_uint_eq(ctrl_cmd(&t, &cq, set0, sizeof(set0)), 1);
	ck_assert_uint_eq(ctrl_cmd(&t, &cq, promisc, sizeof(promisc)), 1);
	ck_assert_uint_eq(ctrl_cmd(&t, &cq, shortmq, sizeof(shortmq)), 1);

	for (unsigned i = 0; i < 4; i++) {
		tnet_post_rx(&t, &t.rx, 2048, 1);
		tnet_post_rx(&t, &rx1, 2048, 1);
	}
	vqd_kick(&t.rx);
	vqd_kick(&rx1);
	/* A flow sent on pair 1 comes back on receiveq 1, and one sent on
	 * pair 0 on receiveq 0 (§5.1.6.5.5 steering). */
	make_udp(fa, sizeof(fa), 1000, 2000);
	make_udp(fb, sizeof(fb), 3000, 4000);
	tnet_send_on(&t, &tx1, fa, sizeof(fa), 1);
	vqd_kick(&tx1);
	ck_assert_uint_eq(tnet_recv_on(&t, &rx1, got, sizeof(got), &nb), sizeof(fa));
	ck_assert(!memcmp(got, fa, sizeof(fa)));
	tnet_send_on(&t, &t.tx, fb, sizeof(fb), 1);
	vqd_kick(&t.tx);
	ck_assert_uint_eq(tnet_recv_on(&t, &t.rx, got, sizeof(got), &nb), sizeof(fb));
	ck_assert(!memcmp(got, fb, sizeof(fb)));
	/* Back to one pair: everything lands on receiveq 0. */
	set2[2] = 1;
	ck_assert_uint_eq(ctrl_cmd(&t, &cq, set2, sizeof(set2)), 0);
	tnet_send_on(&t, &tx1, fa, sizeof(fa), 1);
	vqd_kick(&tx1);
	ck_assert_uint_eq(tnet_recv_on(&t, &t.rx, got, sizeof(got), &nb), sizeof(fa));
	ck_assert(!vqd_get_used(&rx1, &id, &len));

	/* A flood of commands in one kick (more than one run handles). */
	{
		uint64_t gpa = vdrv_alloc(&t.env, 100 * 8, 8);
		uint8_t *p = vdrv_ptr(&t.env, gpa, 100 * 8);

		for (unsigned i = 0; i < 100; i++) {
			struct vseg s[2] = { { gpa + i * 8, 4, false },
					     { gpa + i * 8 + 4, 1, true } };

			memcpy(p + i * 8, set2, 4);
			p[i * 8 + 4] = 0xee;
			ck_assert_int_ge(vqd_add(&cq, s, 2), 0);
		}
		vqd_kick(&cq);
		for (unsigned i = 0; i < 100; i++)
			ck_assert(vqd_wait_used(&cq, &id, &len, WAIT_MS));
		for (unsigned i = 0; i < 100; i++)
			ck_assert_uint_eq(p[i * 8 + 4], 0);
	}

	/* CTRL_VQ without MQ: the control queue is 2 (§5.1.2). */
	ck_assert_int_eq(vdrv_negotiate(&t.d, F(VIRTIO_F_VERSION_1) |
					 F(F_CTRL_VQ)), 0);
	ck_assert_int_eq(vqd_setup(&cq, &t.d, 2, 0), 0);
	vdrv_driver_ok(&t.d);
	set2[2] = 2;
	ck_assert_uint_eq(ctrl_cmd(&t, &cq, set2, sizeof(set2)), 1);
	tnet_destroy(&t);
}
END_TEST

static Suite *vnet_suite(void)
{
	Suite *s = suite_create("virtio_net");
	TCase *tc = tcase_create("net");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, net_config_and_features, 0, 2);
	tcase_add_test(tc, net_create_errors);
	tcase_add_loop_test(tc, net_loopback_roundtrip, 0, 2);
	tcase_add_loop_test(tc, net_mrg_rxbuf, 0, 2);
	tcase_add_loop_test(tc, net_rx_backpressure, 0, 2);
	tcase_add_loop_test(tc, net_rx_too_big, 0, 2);
	tcase_add_loop_test(tc, net_malformed, 0, 2);
	tcase_add_loop_test(tc, net_tx_batch, 0, 2);
	tcase_add_test(tc, net_mq_ctrl);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vnet_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
