// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/ioloop.h"
#include "core/log.h"

#define IOLOOP_MAX_HANDLERS 512

struct ioloop_handler {
	int fd; /* -1 when the slot is free */
	ioloop_fn fn;
	void *opaque;
};

struct ioloop {
	int epfd;
	int stop_fd; /* eventfd that wakes the loop to exit */
	bool running;
	pthread_t thread;
	pthread_mutex_t lock;
	/* lock: lock (the thread copies a handler before calling it) */
	struct ioloop_handler handlers[IOLOOP_MAX_HANDLERS];
};

int ioloop_create(struct ioloop **out)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
	struct ioloop *loop = calloc(1, sizeof(*loop));
	int ret;

	if (!loop)
		return -ENOMEM;
	for (int i = 0; i < IOLOOP_MAX_HANDLERS; i++)
		loop->handlers[i].fd = -1;
	pthread_mutex_init(&loop->lock, NULL);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->stop_fd < 0 ||
	    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->stop_fd, &ev) < 0) {
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

		if (slot == UINT32_MAX)
			return -ECANCELED; /* stop_fd */
		pthread_mutex_lock(&loop->lock);
		h = loop->handlers[slot];
		pthread_mutex_unlock(&loop->lock);
		if (h.fd < 0)
			continue;
		ran++;
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
	int ret = pthread_create(&loop->thread, NULL, ioloop_thread, loop);

	if (ret)
		return -ret;
	pthread_setname_np(loop->thread, "iovmm-io");
	loop->running = true;
	return 0;
}

void ioloop_stop(struct ioloop *loop)
{
	uint64_t one = 1;

	if (!loop->running)
		return;
	if (write(loop->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_err("ioloop", "cannot wake the I/O thread: %m");
	pthread_join(loop->thread, NULL);
	loop->running = false;
}
