// SPDX-License-Identifier: MIT
/*
 * tap back end against the real kernel, inside a network namespace each test
 * creates for itself (Check runs every test in a forked child, so the host's
 * namespace is never touched). Frames go guest -> tap -> AF_PACKET socket
 * and back. Skips (77) only without root or /dev/net/tun.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ioloop.h"
#include "emul-devices/net/backend.h"
#include "tests/unit/emul-devices/net/net_test_util.h"

#define TEST_ETHERTYPE 0x88b5

struct tenv {
	struct ioloop *io;
	struct net_backend *be;
	struct test_fe fe;
	int pkt;       /* AF_PACKET socket bound to the tap */
	int ifindex;
};

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
		close(fd);
	}
}

static void if_up(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	ck_assert_int_ge(s, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	ck_assert_int_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

static void tenv_open(struct tenv *t, const char *name, bool vnet)
{
	char err[160] = "", path[128];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };

	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s",
		      strerror(errno));
	ck_assert_int_eq(ioloop_create(&t->io), 0);
	snprintf(path, sizeof(path), "tap:%s", name);
	ck_assert_msg(net_backend_create(path, t->io, &t->be, err,
					 sizeof(err)) == 0, "%s", err);
	if (vnet)
		ck_assert_int_eq(net_backend_set_vnet_hdr(t->be, true), 0);
	fe_init(&t->fe, -1);
	net_backend_set_rx(t->be, fe_rx, &t->fe);
	/* No IPv6 autoconfiguration chatter on our wire. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 name);
	write_file(path, "1\n");
	if_up(name);
	t->ifindex = (int)if_nametoindex(name);
	ck_assert_int_gt(t->ifindex, 0);
	t->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ck_assert_int_ge(t->pkt, 0);
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = t->ifindex;
	ck_assert_int_eq(bind(t->pkt, (struct sockaddr *)&sll, sizeof(sll)), 0);
	ck_assert_int_eq(ioloop_start(t->io), 0);
}

static void tenv_close(struct tenv *t)
{
	ioloop_stop(t->io);
	net_backend_destroy(t->be);
	ioloop_destroy(t->io);
	close(t->pkt);
	fe_fini(&t->fe);
}

/* Next test frame seen by the packet socket; its length, or -1. */
static ssize_t pkt_recv(struct tenv *t, uint8_t *buf, size_t len)
{
	for (int tries = 0; tries < 100; tries++) {
		struct pollfd p = { .fd = t->pkt, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0)
			return -1;
		n = recv(t->pkt, buf, len, 0);
		if (n >= 14 && buf[12] == (TEST_ETHERTYPE >> 8) &&
		    buf[13] == (TEST_ETHERTYPE & 0xff))
			return n;
	}
	return -1;
}

static void pkt_send(struct tenv *t, const uint8_t *frame, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = t->ifindex,
		.sll_halen = 6,
	};

	memcpy(sll.sll_addr, frame, 6);
	ck_assert_int_eq(sendto(t->pkt, frame, len, 0, (struct sockaddr *)&sll,
				sizeof(sll)), (ssize_t)len);
}

/* Index of the n-th received test frame (skipping kernel chatter). */
static int fe_find(struct test_fe *fe, size_t off, int nth)
{
	for (unsigned i = 0; i < fe->nframes; i++) {
		const uint8_t *d = fe->frames[i].data + off;

		if (fe->frames[i].len >= off + 14 &&
		    d[12] == (TEST_ETHERTYPE >> 8) && d[13] == 0xb5 &&
		    nth-- == 0)
			return (int)i;
	}
	return -1;
}

static void wait_test_frames(struct tenv *t, size_t off, int n)
{
	for (int i = 0; i < 200 && fe_find(&t->fe, off, n - 1) < 0; i++)
		fe_wait(&t->fe, fe_total(&t->fe) + 1, 0, 10);
	pthread_mutex_lock(&t->fe.lock);
	ck_assert_int_ge(fe_find(&t->fe, off, n - 1), 0);
	pthread_mutex_unlock(&t->fe.lock);
}

static void roundtrip(bool vnet)
{
	struct tenv t;
	uint8_t hdr[NET_VNET_HDR_LEN] = { 0 }, frame[300], got[2048];
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { frame, sizeof(frame) } };
	size_t off = vnet ? NET_VNET_HDR_LEN : 0;
	struct net_backend_stats st;
	ssize_t n;
	int i;

	tenv_open(&t, "iovt0", vnet);
	/* Guest -> tap: the host stack sees exactly the frame. */
	fe_make_frame(frame, sizeof(frame), 7);
	ck_assert_int_eq(net_backend_send(t.be, vnet ? iov : iov + 1,
					  vnet ? 2 : 1), 0);
	n = pkt_recv(&t, got, sizeof(got));
	ck_assert_int_eq(n, sizeof(frame));
	ck_assert_mem_eq(got, frame, sizeof(frame));

	/* Tap -> guest, with the vnet header only when asked for. */
	fe_make_frame(frame, sizeof(frame), 8);
	pkt_send(&t, frame, sizeof(frame));
	wait_test_frames(&t, off, 1);
	i = fe_find(&t.fe, off, 0);
	ck_assert_uint_eq(t.fe.frames[i].len, off + sizeof(frame));
	ck_assert_mem_eq(t.fe.frames[i].data + off, frame, sizeof(frame));
	if (vnet) /* no offloads enabled: no GSO, no partial checksum */
		ck_assert_uint_eq(t.fe.frames[i].data[1], 0);
	/* Counted just after the front end took the frame. */
	for (int k = 0; k < 100; k++) {
		net_backend_stats(t.be, &st);
		if (st.rx_frames >= 1)
			break;
		usleep(1000);
	}
	ck_assert_uint_eq(st.tx_frames, 1);
	ck_assert_uint_ge(st.rx_frames, 1);
	tenv_close(&t);
}

START_TEST(test_tap_roundtrip)
{
	roundtrip(false);
}
END_TEST

START_TEST(test_tap_roundtrip_vnet_hdr)
{
	roundtrip(true);
}
END_TEST

START_TEST(test_tap_backpressure)
{
	struct tenv t;
	uint8_t frame[100];

	tenv_open(&t, "iovt0", false);
	fe_add_credits(&t.fe, 0);
	pthread_mutex_lock(&t.fe.lock);
	t.fe.credits = 0;
	pthread_mutex_unlock(&t.fe.lock);
	for (uint32_t i = 0; i < 5; i++) {
		fe_make_frame(frame, sizeof(frame), i);
		pkt_send(&t, frame, sizeof(frame));
	}
	ck_assert(fe_wait(&t.fe, 0, 1, 2000));
	usleep(50000);
	ck_assert_uint_eq(fe_total(&t.fe), 0);
	/* Resume: everything the kernel queued meanwhile arrives, in order. */
	fe_add_credits(&t.fe, -1);
	net_backend_rx_ready(t.be);
	wait_test_frames(&t, 0, 5);
	pthread_mutex_lock(&t.fe.lock);
	for (int i = 0; i < 5; i++)
		ck_assert_uint_eq(fe_frame_seq(&t.fe.frames[fe_find(&t.fe, 0, i)],
					       0), (uint32_t)i);
	pthread_mutex_unlock(&t.fe.lock);
	/* And polling resumed: a later frame arrives without any kick. */
	fe_make_frame(frame, sizeof(frame), 5);
	pkt_send(&t, frame, sizeof(frame));
	wait_test_frames(&t, 0, 6);
	tenv_close(&t);
}
END_TEST

START_TEST(test_tap_errors)
{
	struct ioloop *io;
	struct net_backend *a, *b;
	char err[160] = "";

	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	ck_assert_int_eq(ioloop_create(&io), 0);
	ck_assert_int_eq(net_backend_create("tap:iovt1", io, &a, err,
					    sizeof(err)), 0);
	ck_assert_int_eq(net_backend_create("tap:iovt1", io, &b, err,
					    sizeof(err)), -EBUSY);
	ck_assert_msg(strstr(err, "tap iovt1: device busy"), "%s", err);
	ck_assert_int_eq(net_backend_create("tap:lo", io, &b, err,
					    sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "tap lo:") && strstr(err, "not a tap"),
		      "%s", err);
	net_backend_destroy(a);
	/* Closed: the name is free again. */
	ck_assert_int_eq(net_backend_create("tap:iovt1", io, &a, err,
					    sizeof(err)), 0);
	net_backend_destroy(a);
	ioloop_destroy(io);
}
END_TEST

static Suite *tap_suite(void)
{
	Suite *s = suite_create("net-tap");
	TCase *tc = tcase_create("tap");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_tap_roundtrip);
	tcase_add_test(tc, test_tap_roundtrip_vnet_hdr);
	tcase_add_test(tc, test_tap_backpressure);
	tcase_add_test(tc, test_tap_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		printf("SKIP: tap tests need root (network namespaces, tap)\n");
		return 77;
	}
	if (access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("SKIP: /dev/net/tun: %s\n", strerror(errno));
		return 77;
	}
	sr = srunner_create(tap_suite());
	/* Every test unshares its network namespace: it must be a child. */
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
