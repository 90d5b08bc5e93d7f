// SPDX-License-Identifier: MIT
/*
 * core/event.c (the VM event ring) and the I/O thread's pause
 * (core/ioloop.c: ioloop_pause/ioloop_resume).
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/event.h"
#include "core/ioloop.h"

/* The ring is per process: each test starts after what is already there. */
static uint64_t newest(void)
{
	struct event e;
	uint64_t dropped, last;

	event_wait(UINT64_MAX - 1, 0, &e, 0, &dropped, &last);
	return last;
}

START_TEST(test_post_and_read)
{
	uint64_t base = newest(), dropped, last;
	struct event ev[4];
	unsigned n;

	event_post("vm-paused", "vm", "parked %d vCPUs", 2);
	event_post("device-needs-reset", "a-very-long-source-name-that-is-cut-to-fit",
		   "%s", "bad ring");
	n = event_wait(base, 0, ev, 4, &dropped, &last);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(dropped, 0);
	ck_assert_uint_eq(last, base + 2);
	ck_assert_uint_eq(ev[0].seq, base + 1);
	ck_assert_str_eq(ev[0].type, "vm-paused");
	ck_assert_str_eq(ev[0].detail, "parked 2 vCPUs");
	ck_assert_uint_eq(strlen(ev[1].source), EVENT_SOURCE_LEN - 1);
	ck_assert_uint_gt(ev[1].time_ms, 0);
	/* Nothing newer: no wait with timeout 0. */
	ck_assert_uint_eq(event_wait(last, 0, ev, 4, &dropped, &last), 0);
	/* A bound of one. */
	ck_assert_uint_eq(event_wait(base, 0, ev, 1, &dropped, &last), 1);
	ck_assert_uint_eq(ev[0].seq, base + 1);
}
END_TEST

START_TEST(test_overwrite)
{
	uint64_t base = newest(), dropped, last;
	struct event ev[EVENT_RING_SIZE];
	unsigned n;

	for (unsigned i = 0; i < EVENT_RING_SIZE + 10; i++)
		event_post("t", "s", "%u", i);
	n = event_wait(base, 0, ev, EVENT_RING_SIZE, &dropped, &last);
	ck_assert_uint_eq(n, EVENT_RING_SIZE);
	ck_assert_uint_eq(dropped, 10);
	ck_assert_uint_eq(ev[0].seq, base + 11);
	ck_assert_str_eq(ev[0].detail, "10");
	ck_assert_uint_eq(last, base + EVENT_RING_SIZE + 10);
}
END_TEST

static void *poster(void *arg)
{
	usleep(20000);
	event_post("guest-exit", "vm", "status %d", 0);
	return NULL;
}

/* A waiter wakes on a post, well before its timeout. */
START_TEST(test_wait_wakes)
{
	uint64_t base = newest(), dropped, last;
	struct timespec t0, t1;
	struct event ev;
	pthread_t t;
	unsigned n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&t, NULL, poster, NULL);
	n = event_wait(base, 20000, &ev, 1, &dropped, &last);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(t, NULL);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(ev.type, "guest-exit");
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 10);
}
END_TEST

static atomic_int handled;

static int on_event(void *opaque, int fd, uint32_t events)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) == sizeof(v))
		atomic_fetch_add(&handled, (int)v);
	return 0;
}

static bool wait_handled(int want)
{
	for (int i = 0; i < 5000; i++) {
		if (atomic_load(&handled) == want)
			return true;
		usleep(1000);
	}
	return false;
}

/* While paused no callback runs; what came meanwhile runs after resume. */
START_TEST(test_ioloop_pause)
{
	struct ioloop *loop;
	uint64_t one = 1;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	atomic_store(&handled, 0);
	ck_assert_int_eq(ioloop_create(&loop), 0);
	ck_assert_int_eq(ioloop_pause(loop), 0); /* not running: a no-op */
	ck_assert_int_eq(ioloop_add(loop, efd, EPOLLIN, on_event, NULL), 0);
	ck_assert_int_eq(ioloop_start(loop), 0);
	ck_assert_int_eq(write(efd, &one, sizeof(one)), sizeof(one));
	ck_assert(wait_handled(1));
	ck_assert_int_eq(ioloop_pause(loop), 0);
	ck_assert_int_eq(write(efd, &one, sizeof(one)), sizeof(one));
	usleep(50000);
	ck_assert_int_eq(atomic_load(&handled), 1);
	ioloop_resume(loop);
	ck_assert(wait_handled(2));
	/* A stop ends a pause. */
	ck_assert_int_eq(ioloop_pause(loop), 0);
	ioloop_stop(loop);
	ioloop_destroy(loop);
	close(efd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("core-event");
	TCase *tc = tcase_create("event");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_post_and_read);
	tcase_add_test(tc, test_overwrite);
	tcase_add_test(tc, test_wait_wakes);
	tcase_add_test(tc, test_ioloop_pause);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
