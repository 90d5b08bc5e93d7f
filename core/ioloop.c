// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/ioloop.h"
#include "core/log.h"
#include "core/sandbox.h"

#define IOLOOP_MAX_HANDLERS 512

struct ioloop_handler {
	int fd; /* -1 when the slot is free */
	ioloop_fn fn;
	void *opaque;
};

#define IOLOOP_SLOT_STOP UINT32_MAX
#define IOLOOP_SLOT_PAUSE (UINT32_MAX - 1)

struct ioloop {
	int epfd;
	int stop_fd;  /* eventfd that wakes the loop to exit */
	int pause_fd; /* eventfd that wakes the loop to park (ioloop_pause) */
	bool running;
	uint64_t events;   /* handler calls; the I/O thread writes (relaxed) */
	pthread_t thread;
	int start_ret; /* the thread's sandbox_enter(); read after start_sem */
	sem_t start_sem;
	pthread_mutex_t lock;
	pthread_cond_t pause_cond; /* lock: lock */
	bool pause_req;            /* lock: lock */
	bool paused;               /* lock: lock; the thread is parked */
	/* lock: lock (the thread copies a handler before calling it) */
	struct ioloop_handler handlers[IOLOOP_MAX_HANDLERS];
};

int ioloop_create(struct ioloop **out)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = IOLOOP_SLOT_STOP };
	struct epoll_event pev = { .events = EPOLLIN,
				   .data.u32 = IOLOOP_SLOT_PAUSE };
	struct ioloop *loop = calloc(1, sizeof(*loop));
	int ret;

	if (!loop)
		return -ENOMEM;
	for (int i = 0; i < IOLOOP_MAX_HANDLERS; i++)
		loop->handlers[i].fd = -1;
	pthread_mutex_init(&loop->lock, NULL);
	pthread_cond_init(&loop->pause_cond, NULL);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	loop->pause_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->stop_fd < 0 || loop->pause_fd < 0 ||
	    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->stop_fd, &ev) < 0 ||
	    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->pause_fd, &pev) < 0) {
		ret = -errno;
		ioloop_destroy(loop);
		return ret;
	}
	*out = loop;
	return 0;
}

void ioloop_destroy(struct ioloop *loop)
{
	if (!loop)
		return;
	ioloop_stop(loop);
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->stop_fd >= 0)
		close(loop->stop_fd);
	if (loop->pause_fd >= 0)
		close(loop->pause_fd);
	pthread_cond_destroy(&loop->pause_cond);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
}

int ioloop_add(struct ioloop *loop, int fd, uint32_t events, ioloop_fn fn,
	       void *opaque)
{
	struct epoll_event ev = { .events = events };
	int ret = -ENOSPC;

	pthread_mutex_lock(&loop->lock);
	for (uint32_t i = 0; i < IOLOOP_MAX_HANDLERS; i++) {
		if (loop->handlers[i].fd >= 0)
			continue;
		ev.data.u32 = i;
		if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			ret = -errno;
			break;
		}
		loop->handlers[i] = (struct ioloop_handler){ fd, fn, opaque };
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&loop->lock);
	return ret;
}

static void ioloop_del_locked(struct ioloop *loop, int fd)
{
	for (int i = 0; i < IOLOOP_MAX_HANDLERS; i++) {
		if (loop->handlers[i].fd == fd) {
			epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
			loop->handlers[i].fd = -1;
		}
	}
}

int ioloop_del(struct ioloop *loop, int fd)
{
	pthread_mutex_lock(&loop->lock);
	ioloop_del_locked(loop, fd);
	pthread_mutex_unlock(&loop->lock);
	return 0;
}

/* The thread parks here between ioloop_pause() and ioloop_resume(). */
static void ioloop_park(struct ioloop *loop)
{
	uint64_t n;

	if (read(loop->pause_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_err("ioloop", "pause eventfd: %m");
	pthread_mutex_lock(&loop->lock);
	loop->paused = loop->pause_req;
	pthread_cond_broadcast(&loop->pause_cond);
	while (loop->pause_req)
		pthread_cond_wait(&loop->pause_cond, &loop->lock);
	loop->paused = false;
	pthread_mutex_unlock(&loop->lock);
}

/*
 * Wait up to timeout_ms (-1: forever) and run the callbacks of the fds that
 * are ready. Returns how many ran, -ECANCELED when stop_fd fired, or -errno.
 */
static int ioloop_dispatch(struct ioloop *loop, int timeout_ms)
{
	struct epoll_event evs[16];
	int n = epoll_wait(loop->epfd, evs, 16, timeout_ms);
	int ran = 0;

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct ioloop_handler h;
		uint32_t slot = evs[i].data.u32;

		if (slot == IOLOOP_SLOT_STOP)
			return -ECANCELED;
		if (slot == IOLOOP_SLOT_PAUSE) {
			ioloop_park(loop);
			continue;
		}
		pthread_mutex_lock(&loop->lock);
		h = loop->handlers[slot];
		pthread_mutex_unlock(&loop->lock);
		if (h.fd < 0)
			continue;
		ran++;
		__atomic_store_n(&loop->events, loop->events + 1, __ATOMIC_RELAXED);
		if (h.fn(h.opaque, h.fd, evs[i].events) < 0) {
			pthread_mutex_lock(&loop->lock);
			ioloop_del_locked(loop, h.fd);
			pthread_mutex_unlock(&loop->lock);
		}
	}
	return ran;
}

static void *ioloop_thread(void *arg)
{
	struct ioloop *loop = arg;

	/* Filtered before any back end runs; ioloop_start() reports a failure. */
	loop->start_ret = sandbox_enter(SANDBOX_IO, "iovmm-io");
	sem_post(&loop->start_sem);
	if (loop->start_ret)
		return NULL;
	for (;;) {
		int ret = ioloop_dispatch(loop, -1);

		if (ret == -ECANCELED)
			return NULL;
		if (ret < 0) {
			log_err("ioloop", "epoll_wait: %s", strerror(-ret));
			return NULL;
		}
	}
}

int ioloop_poll(struct ioloop *loop, int timeout_ms)
{
	if (loop->running)
		return -EBUSY;
	return ioloop_dispatch(loop, timeout_ms);
}

int ioloop_start(struct ioloop *loop)
{
	int ret;

	sem_init(&loop->start_sem, 0, 0);
	ret = pthread_create(&loop->thread, NULL, ioloop_thread, loop);
	if (ret) {
		sem_destroy(&loop->start_sem);
		return -ret;
	}
	pthread_setname_np(loop->thread, "iovmm-io");
	while (sem_wait(&loop->start_sem) < 0 && errno == EINTR)
		;
	sem_destroy(&loop->start_sem);
	if (loop->start_ret) {
		pthread_join(loop->thread, NULL);
		return loop->start_ret;
	}
	loop->running = true;
	return 0;
}

void ioloop_stop(struct ioloop *loop)
{
	uint64_t one = 1;

	if (!loop->running)
		return;
	ioloop_resume(loop); /* a parked thread must see the stop */
	if (write(loop->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_err("ioloop", "cannot wake the I/O thread: %m");
	pthread_join(loop->thread, NULL);
	loop->running = false;
}

uint64_t ioloop_event_count(const struct ioloop *loop)
{
	return __atomic_load_n(&loop->events, __ATOMIC_RELAXED);
}

int ioloop_pause(struct ioloop *loop)
{
	uint64_t one = 1;

	if (!loop->running)
		return 0;
	pthread_mutex_lock(&loop->lock);
	loop->pause_req = true;
	pthread_mutex_unlock(&loop->lock);
	if (write(loop->pause_fd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	pthread_mutex_lock(&loop->lock);
	while (!loop->paused && loop->pause_req)
		pthread_cond_wait(&loop->pause_cond, &loop->lock);
	pthread_mutex_unlock(&loop->lock);
	return 0;
}

void ioloop_resume(struct ioloop *loop)
{
	pthread_mutex_lock(&loop->lock);
	loop->pause_req = false;
	pthread_cond_broadcast(&loop->pause_cond);
	pthread_mutex_unlock(&loop->lock);
}
