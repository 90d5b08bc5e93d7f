// SPDX-License-Identifier: MIT
/*
 * The I/O loop driven without its thread (ioloop_poll, for the fuzzers in
 * tests/fuzz): ready callbacks run on the caller, once per readiness, a
 * callback returning < 0 is removed, and polling is refused while the
 * thread runs.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/ioloop.h"

static int calls;

static int on_ready(void *opaque, int fd, uint32_t events)
{
	uint64_t v;

	calls++;
	ck_assert_int_eq(read(fd, &v, sizeof(v)), sizeof(v));
	return opaque ? -1 : 0; /* opaque set: ask to be removed */
}

static void signal_fd(int fd)
{
	uint64_t one = 1;

	ck_assert_int_eq(write(fd, &one, sizeof(one)), sizeof(one));
}

START_TEST(poll_runs_ready_callbacks_here)
{
	struct ioloop *loop;
	int a = eventfd(0, EFD_NONBLOCK), b = eventfd(0, EFD_NONBLOCK);

	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(b, 0);
	ck_assert_int_eq(ioloop_create(&loop), 0);
	ck_assert_int_eq(ioloop_add(loop, a, EPOLLIN, on_ready, NULL), 0);
	ck_assert_int_eq(ioloop_add(loop, b, EPOLLIN, on_ready, &calls), 0);
	calls = 0;
	ck_assert_int_eq(ioloop_poll(loop, 0), 0); /* nothing ready */
	signal_fd(a);
	signal_fd(b);
	ck_assert_int_eq(ioloop_poll(loop, 0), 2);
	ck_assert_int_eq(calls, 2);
	ck_assert_int_eq(ioloop_poll(loop, 0), 0); /* both drained */
	/* b's callback asked to go: only a is still watched. */
	signal_fd(a);
	signal_fd(b);
	ck_assert_int_eq(ioloop_poll(loop, 10), 1);
	ck_assert_int_eq(calls, 3);
	/* The thread owns the loop while it runs. */
	ck_assert_int_eq(ioloop_start(loop), 0);
	ck_assert_int_eq(ioloop_poll(loop, 0), -EBUSY);
	ioloop_stop(loop);
	ioloop_destroy(loop);
	close(a);
	close(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ioloop");
	TCase *tc = tcase_create("poll");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, poll_runs_ready_callbacks_here);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
