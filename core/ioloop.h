/* SPDX-License-Identifier: MIT */
/*
 * The I/O thread: one epoll loop for device back ends that are not
 * exit-driven (serial input now; tap, vhost-user control, vfio-user sockets
 * and timers later). Callbacks run on the I/O thread only.
 */
#ifndef IOVMM_IOLOOP_H
#define IOVMM_IOLOOP_H

#include <stdint.h>

struct ioloop;

/* events: EPOLLIN etc. Return < 0 to have the fd removed. */
typedef int (*ioloop_fn)(void *opaque, int fd, uint32_t events);

int ioloop_create(struct ioloop **out);
void ioloop_destroy(struct ioloop *loop);
/* fd is borrowed and must stay open until ioloop_del() or destroy. */
int ioloop_add(struct ioloop *loop, int fd, uint32_t events, ioloop_fn fn,
	       void *opaque);
int ioloop_del(struct ioloop *loop, int fd);
/* Start/stop the thread. stop() waits for it to exit. */
int ioloop_start(struct ioloop *loop);
void ioloop_stop(struct ioloop *loop);
/*
 * Park the thread between callbacks: returns once no callback runs and
 * none will until ioloop_resume() (a VM pause: device back ends quiet, so
 * nothing writes guest memory or raises interrupts). Events that arrive
 * meanwhile wait in the kernel (level-triggered). 0 or -errno; a loop that
 * is not running counts as paused. ioloop_stop() resumes a parked thread.
 */
int ioloop_pause(struct ioloop *loop);
void ioloop_resume(struct ioloop *loop);
/*
 * Handler calls so far (any thread): the I/O thread's work, e.g. per
 * packet on a path the VMM serves and none on one it hands to a vhost
 * back end.
 */
uint64_t ioloop_event_count(const struct ioloop *loop);
/*
 * Without the thread: wait up to timeout_ms (0: don't wait) and run, on the
 * calling thread, the callbacks of the fds that are ready. For programs that
 * drive devices step by step (the fuzzers, tests/fuzz/) and must not race an
 * I/O thread. Returns how many callbacks ran, -EBUSY while the thread runs,
 * -ECANCELED after ioloop_stop() woke the loop, or -errno of epoll_wait.
 */
int ioloop_poll(struct ioloop *loop, int timeout_ms);

#endif
