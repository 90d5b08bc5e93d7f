// SPDX-License-Identifier: MIT
/* Back-end tests that need no privileges: spec parsing, null, loopback. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/ioloop.h"
#include "emul-devices/net/backend.h"
#include "tests/unit/emul-devices/net/net_test_util.h"

struct env {
	struct ioloop *io;
	struct net_backend *be;
	struct test_fe fe;
};

static void env_open(struct env *e, const char *spec, long credits)
{
	char err[128] = "";

	ck_assert_int_eq(ioloop_create(&e->io), 0);
	ck_assert_msg(net_backend_create(spec, e->io, &e->be, err,
					 sizeof(err)) == 0, "%s", err);
	fe_init(&e->fe, credits);
	net_backend_set_rx(e->be, fe_rx, &e->fe);
	ck_assert_int_eq(ioloop_start(e->io), 0);
}

static void env_close(struct env *e)
{
	ioloop_stop(e->io);
	net_backend_destroy(e->be);
	ioloop_destroy(e->io);
	fe_fini(&e->fe);
}

static int send_frame(struct net_backend *be, size_t len, uint32_t seq)
{
	static uint8_t buf[NET_MAX_FRAME + 16];
	struct iovec iov[2] = {
		{ buf, len / 3 },
		{ buf + len / 3, len - len / 3 },
	};

	fe_make_frame(buf, len, seq);
	return net_backend_send(be, iov, 2);
}

/* rx_frames is counted just after the front end accepted the frame. */
static void wait_rx_stats(struct net_backend *be, uint64_t n,
			  struct net_backend_stats *st)
{
	for (int i = 0; i < 2000; i++) {
		net_backend_stats(be, st);
		if (st->rx_frames + st->rx_dropped >= n)
			return;
		usleep(1000);
	}
}

START_TEST(test_spec_parsing)
{
	static const char *const bad[] = {
		"", "bogus", "tap", "tap:", "tap:a/b", "tap:a b",
		"tap:0123456789abcdef", "tap:eth%d", "Loopback", "null ",
		"tap-fd:", "tap-fd:x", "tap-fd:-1", "tap-fd:3 ",
		"tap-fd:99999999999",
		/* stdin here is not an attached tap (emul-devices/net/tap.c) */
		"tap-fd:0",
	};
	struct ioloop *io;
	struct net_backend *be = (void *)1;
	char err[160];

	ck_assert_int_eq(ioloop_create(&io), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		int ret = net_backend_create(bad[i], io, &be, err, sizeof(err));

		ck_assert_msg(ret == -EINVAL || (!strcmp(bad[i], "tap-fd:0") &&
						 ret < 0),
			      "'%s': %d", bad[i], ret);
		ck_assert_ptr_null(be);
		ck_assert_msg(strlen(err) > 10, "no message for '%s'", bad[i]);
	}
	ck_assert_int_eq(net_backend_create(NULL, io, &be, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "expected tap:NAME, loopback or null"));
	net_backend_destroy(NULL);
	ioloop_destroy(io);
}
END_TEST

START_TEST(test_null_counts_and_drops)
{
	struct env e;
	struct net_backend_stats st;

	env_open(&e, "null", -1);
	for (uint32_t i = 0; i < 10; i++)
		ck_assert_int_eq(send_frame(e.be, 100, i), 0);
	ck_assert_int_eq(send_frame(e.be, 13, 0), -EMSGSIZE);
	ck_assert_int_eq(send_frame(e.be, NET_MAX_FRAME + 1, 0), -EMSGSIZE);
	ck_assert_int_eq(net_backend_set_vnet_hdr(e.be, true), 0);
	net_backend_rx_ready(e.be);
	usleep(20000);
	net_backend_stats(e.be, &st);
	ck_assert_uint_eq(st.tx_frames, 10);
	ck_assert_uint_eq(st.tx_bytes, 1000);
	ck_assert_uint_eq(st.rx_frames, 0);
	ck_assert_uint_eq(fe_total(&e.fe), 0);
	env_close(&e);
}
END_TEST

START_TEST(test_loopback_order_and_content)
{
	struct env e;
	struct net_backend_stats st;
	uint8_t want[2000];
	const unsigned n = 200;

	env_open(&e, "loopback", -1);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_int_eq(send_frame(e.be, 60 + (i * 37) % 1900, i), 0);
	ck_assert(fe_wait(&e.fe, n, 0, 2000));
	for (uint32_t i = 0; i < n; i++) {
		size_t len = 60 + (i * 37) % 1900;

		ck_assert_uint_eq(e.fe.frames[i].len, len);
		fe_make_frame(want, len, i);
		ck_assert_mem_eq(e.fe.frames[i].data, want, len);
	}
	wait_rx_stats(e.be, n, &st);
	ck_assert_uint_eq(st.tx_frames, n);
	ck_assert_uint_eq(st.rx_frames, n);
	ck_assert_uint_eq(st.rx_dropped, 0);
	ck_assert_uint_eq(st.tx_bytes, st.rx_bytes);
	env_close(&e);
}
END_TEST

START_TEST(test_loopback_backpressure)
{
	struct env e;
	struct net_backend_stats st;

	env_open(&e, "loopback", 0);
	for (uint32_t i = 0; i < 10; i++)
		ck_assert_int_eq(send_frame(e.be, 64, i), 0);
	/* The front end refuses: the head frame is kept, nothing is lost. */
	ck_assert(fe_wait(&e.fe, 0, 1, 2000));
	usleep(20000);
	ck_assert_uint_eq(fe_total(&e.fe), 0);

	fe_add_credits(&e.fe, 4);
	net_backend_rx_ready(e.be);
	ck_assert(fe_wait(&e.fe, 4, 0, 2000));
	usleep(20000);
	ck_assert_uint_eq(fe_total(&e.fe), 4);

	/* More frames while stalled do not wake anything by themselves. */
	for (uint32_t i = 10; i < 15; i++)
		ck_assert_int_eq(send_frame(e.be, 64, i), 0);
	usleep(20000);
	ck_assert_uint_eq(fe_total(&e.fe), 4);

	fe_add_credits(&e.fe, -1);
	net_backend_rx_ready(e.be);
	ck_assert(fe_wait(&e.fe, 15, 0, 2000));
	for (uint32_t i = 0; i < 15; i++)
		ck_assert_uint_eq(fe_frame_seq(&e.fe.frames[i], 0), i);
	wait_rx_stats(e.be, 15, &st);
	ck_assert_uint_eq(st.rx_frames, 15);
	ck_assert_uint_eq(st.rx_dropped, 0);
	env_close(&e);
}
END_TEST

START_TEST(test_loopback_drops_counted_slots)
{
	struct env e;
	struct net_backend_stats st;

	env_open(&e, "loopback", 0);
	for (uint32_t i = 0; i < 300; i++)
		ck_assert_int_eq(send_frame(e.be, 64, i), 0);
	/* 256 slots; the refused head frame still occupies one of them. */
	net_backend_stats(e.be, &st);
	ck_assert_uint_eq(st.tx_frames, 300);
	ck_assert_uint_eq(st.rx_dropped, 300 - 256);
	fe_add_credits(&e.fe, -1);
	net_backend_rx_ready(e.be);
	ck_assert(fe_wait(&e.fe, 256, 0, 2000));
	usleep(20000); /* let the I/O thread publish the freed slots */
	for (uint32_t i = 0; i < 256; i++)
		ck_assert_uint_eq(fe_frame_seq(&e.fe.frames[i], 0), i);
	/* And the queue works again after draining. */
	ck_assert_int_eq(send_frame(e.be, 64, 999), 0);
	ck_assert(fe_wait(&e.fe, 257, 0, 2000));
	ck_assert_uint_eq(fe_frame_seq(&e.fe.frames[256], 0), 999);
	env_close(&e);
}
END_TEST

START_TEST(test_loopback_drops_counted_bytes)
{
	struct env e;
	struct net_backend_stats st;
	const size_t len = 60000;

	env_open(&e, "loopback", 0);
	for (uint32_t i = 0; i < 100; i++)
		ck_assert_int_eq(send_frame(e.be, len, i), 0);
	/* 4 MiB of frame storage holds 69 frames of 60000 bytes. */
	net_backend_stats(e.be, &st);
	ck_assert_uint_eq(st.rx_dropped, 31);
	fe_add_credits(&e.fe, -1);
	net_backend_rx_ready(e.be);
	ck_assert(fe_wait(&e.fe, 69, 0, 2000));
	usleep(20000); /* let the I/O thread publish the freed bytes */
	/* The byte ring wraps: frames keep coming back intact. */
	for (uint32_t i = 100; i < 300; i++) {
		ck_assert_int_eq(send_frame(e.be, len - i, i), 0);
		ck_assert(fe_wait(&e.fe, 69 + i - 99, 0, 2000));
	}
	for (uint32_t i = 0; i < 69 + 200; i++) {
		struct fe_frame *f = &e.fe.frames[i];
		uint32_t seq = fe_frame_seq(f, 0);
		static uint8_t want[60000];

		ck_assert_uint_eq(seq, i < 69 ? i : i - 69 + 100);
		fe_make_frame(want, f->len, seq);
		ck_assert_mem_eq(f->data, want, f->len);
	}
	env_close(&e);
}
END_TEST

START_TEST(test_loopback_vnet_hdr_passthrough)
{
	struct env e;
	uint8_t hdr[NET_VNET_HDR_LEN], frame[100];
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { frame, sizeof(frame) } };

	env_open(&e, "loopback", -1);
	ck_assert_int_eq(net_backend_set_vnet_hdr(e.be, true), 0);
	ck_assert_uint_eq(net_backend_set_offloads(e.be, NET_OFFLOAD_CSUM |
						   NET_OFFLOAD_TSO4 | 0x80),
			  NET_OFFLOAD_CSUM | NET_OFFLOAD_TSO4);
	for (unsigned i = 0; i < sizeof(hdr); i++)
		hdr[i] = 0xa0 + i;
	fe_make_frame(frame, sizeof(frame), 42);
	ck_assert_int_eq(net_backend_send(e.be, iov, 2), 0);
	/* 12 + 13 bytes is no frame once the header is accounted for. */
	iov[1].iov_len = 13;
	ck_assert_int_eq(net_backend_send(e.be, iov, 2), -EMSGSIZE);
	ck_assert(fe_wait(&e.fe, 1, 0, 2000));
	ck_assert_uint_eq(e.fe.frames[0].len, sizeof(hdr) + sizeof(frame));
	ck_assert_mem_eq(e.fe.frames[0].data, hdr, sizeof(hdr));
	ck_assert_mem_eq(e.fe.frames[0].data + sizeof(hdr), frame,
			 sizeof(frame));
	env_close(&e);
}
END_TEST

struct stress {
	struct net_backend *be;
	unsigned n;
};

static void *stress_sender(void *arg)
{
	struct stress *s = arg;
	uint8_t buf[1600];
	struct iovec iov = { buf, 0 };

	for (uint32_t i = 0; i < s->n; i++) {
		iov.iov_len = 60 + i % 1500;
		fe_make_frame(buf, iov.iov_len, i);
		if (net_backend_send(s->be, &iov, 1))
			return (void *)1;
	}
	return NULL;
}

/* Sender thread vs I/O thread: every frame arrives once, in order, or is
 * counted as dropped; never a lost wake-up. */
START_TEST(test_loopback_threaded_stress)
{
	struct env e;
	struct net_backend_stats st;
	struct stress s = { .n = 200000 };
	pthread_t t;
	void *ret;

	env_open(&e, "loopback", -1);
	e.fe.record = false;
	s.be = e.be;
	ck_assert_int_eq(pthread_create(&t, NULL, stress_sender, &s), 0);
	pthread_join(t, &ret);
	ck_assert_ptr_null(ret);
	net_backend_stats(e.be, &st);
	ck_assert(fe_wait(&e.fe, s.n - st.rx_dropped, 0, 5000));
	wait_rx_stats(e.be, s.n, &st);
	ck_assert_uint_eq(st.tx_frames, s.n);
	ck_assert_uint_eq(st.rx_frames + st.rx_dropped, s.n);
	ck_assert_uint_eq(fe_total(&e.fe), st.rx_frames);
	env_close(&e);
}
END_TEST

/* A front end that runs out of buffers every few frames, with a separate
 * thread handing buffers back (like e1000's RDT writes on a vCPU). */
struct refill {
	struct test_fe *fe;
	struct net_backend *be;
	unsigned long target;
};

static void *refill_thread(void *arg)
{
	struct refill *r = arg;

	while (fe_total(r->fe) < r->target) {
		bool refilled = false;

		pthread_mutex_lock(&r->fe->lock);
		if (r->fe->credits == 0) {
			r->fe->credits = 3;
			refilled = true;
		}
		pthread_mutex_unlock(&r->fe->lock);
		/* Once per refill, as a NIC register write would: a lost
		 * wake-up here leaves the frames stuck and the test fails. */
		if (refilled)
			net_backend_rx_ready(r->be);
		sched_yield();
	}
	return NULL;
}

START_TEST(test_loopback_stall_resume_race)
{
	struct env e;
	struct refill r;
	struct net_backend_stats st;
	pthread_t t;
	uint32_t sent = 0;

	env_open(&e, "loopback", 0);
	r = (struct refill){ &e.fe, e.be, 20000 };
	ck_assert_int_eq(pthread_create(&t, NULL, refill_thread, &r), 0);
	/* Send in small bursts so the queue never overflows. */
	while (sent < r.target) {
		net_backend_stats(e.be, &st);
		if (sent - fe_total(&e.fe) < 128)
			ck_assert_int_eq(send_frame(e.be, 64, sent++), 0);
		else
			sched_yield();
	}
	ck_assert(fe_wait(&e.fe, r.target, 0, 5000));
	pthread_join(t, NULL);
	net_backend_stats(e.be, &st);
	ck_assert_uint_eq(st.rx_dropped, 0);
	for (uint32_t i = 0; i < FE_MAX_FRAMES; i++)
		ck_assert_uint_eq(fe_frame_seq(&e.fe.frames[i], 0), i);
	env_close(&e);
}
END_TEST

static Suite *net_suite(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("backends");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_spec_parsing);
	tcase_add_test(tc, test_null_counts_and_drops);
	tcase_add_test(tc, test_loopback_order_and_content);
	tcase_add_test(tc, test_loopback_backpressure);
	tcase_add_test(tc, test_loopback_drops_counted_slots);
	tcase_add_test(tc, test_loopback_drops_counted_bytes);
	tcase_add_test(tc, test_loopback_vnet_hdr_passthrough);
	tcase_add_test(tc, test_loopback_threaded_stress);
	tcase_add_test(tc, test_loopback_stall_resume_race);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(net_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
