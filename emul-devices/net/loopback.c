// SPDX-License-Identifier: MIT
/*
 * loopback: every frame sent comes back as a received frame, in order.
 *
 * The queue is single-producer (the sending thread) / single-consumer (the
 * I/O thread) and lock-free: a ring of LB_SLOTS slot records plus one
 * LB_BYTES byte ring that holds each frame contiguously (a frame that would
 * straddle the end starts again at offset 0; the skipped tail is reclaimed
 * when that frame is). Nothing is allocated per frame. A full queue drops
 * the frame and counts it in rx_dropped, like a switch whose port buffer
 * overflowed.
 *
 * Wake-ups: the consumer announces "sleeping" before it waits in epoll; the
 * producer writes the eventfd only when it finds that flag set, so a burst
 * of frames costs one eventfd write, not one per frame. A frame the front
 * end refused (-EAGAIN) stays at the head; delivery resumes on the kick
 * from net_backend_rx_ready().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "emul-devices/net/backend-impl.h"

#define LB_SLOTS 256u           /* power of two */
#define LB_BYTES (4u * 1024 * 1024)
#define LB_PUBLISH_EVERY 32u    /* consumer frees slots in batches */

struct lb_slot {
	uint64_t start; /* free-running byte position of the frame */
	uint32_t len;
};

struct net_loopback {
	struct net_backend be;
	int efd;         /* wakes the I/O thread; owned */
	bool registered; /* efd is in the ioloop */

	/* Written by the producer only. */
	_Atomic uint32_t tail;
	uint64_t byte_tail;
	/* Written by the consumer only. */
	_Atomic uint32_t head;
	_Atomic uint64_t byte_head;
	/* Consumer sets it before waiting; producer clears it to wake. */
	atomic_bool sleeping;

	struct lb_slot slots[LB_SLOTS];
	uint8_t *data; /* LB_BYTES; owned */
};

static struct net_loopback *lb_of(struct net_backend *be)
{
	return container_of(be, struct net_loopback, be);
}

static void lb_kick(struct net_backend *be)
{
	uint64_t one = 1;
	struct net_loopback *lb = lb_of(be);

	/* EAGAIN means the counter is already non-zero: a wake is pending. */
	if (write(lb->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_ratelimited(LOG_ERR, be->name, "eventfd write: %m");
}

static int lb_send(struct net_backend *be, const struct iovec *iov,
		   int iovcnt, size_t len)
{
	struct net_loopback *lb = lb_of(be);
	uint32_t tail = atomic_load_explicit(&lb->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&lb->head, memory_order_acquire);
	uint64_t byte_head, pos, start;
	uint8_t *dst;

	net_stat_add(&be->tx_frames, 1);
	net_stat_add(&be->tx_bytes, len);
	if (tail - head >= LB_SLOTS)
		goto drop;
	byte_head = atomic_load_explicit(&lb->byte_head, memory_order_acquire);
	pos = lb->byte_tail % LB_BYTES;
	start = lb->byte_tail + (LB_BYTES - pos < len ? LB_BYTES - pos : 0);
	if (start + len - byte_head > LB_BYTES)
		goto drop;

	dst = lb->data + start % LB_BYTES;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(dst, iov[i].iov_base, iov[i].iov_len);
		dst += iov[i].iov_len;
	}
	lb->slots[tail % LB_SLOTS] = (struct lb_slot){ start, (uint32_t)len };
	lb->byte_tail = start + len;
	/* seq_cst store then load: pairs with the consumer's sleep check. */
	atomic_store(&lb->tail, tail + 1);
	if (atomic_load(&lb->sleeping) &&
	    atomic_exchange(&lb->sleeping, false))
		lb_kick(be);
	return 0;
drop:
	net_stat_add(&be->rx_dropped, 1);
	return 0;
}

static void lb_publish(struct net_loopback *lb, uint32_t head)
{
	const struct lb_slot *last = &lb->slots[(head - 1) % LB_SLOTS];

	atomic_store_explicit(&lb->byte_head, last->start + last->len,
			      memory_order_release);
	atomic_store_explicit(&lb->head, head, memory_order_release);
}

/*
 * Deliver up to LB_SLOTS frames. Returns true when the queue was seen empty
 * (the caller may sleep), false when stalled or when the budget ran out.
 */
static bool lb_drain(struct net_loopback *lb, bool *stalled)
{
	uint32_t head = atomic_load_explicit(&lb->head, memory_order_relaxed);
	uint32_t start_head = head, published = head;
	uint32_t tail = atomic_load_explicit(&lb->tail, memory_order_acquire);
	bool empty = false;

	*stalled = false;
	for (;;) {
		if (head == tail) {
			tail = atomic_load_explicit(&lb->tail,
						    memory_order_acquire);
			if (head == tail) {
				empty = true;
				break;
			}
		}
		if (head - start_head >= LB_SLOTS)
			break;
		const struct lb_slot *s = &lb->slots[head % LB_SLOTS];
		struct iovec iov = {
			.iov_base = lb->data + s->start % LB_BYTES,
			.iov_len = s->len,
		};

		if (net_backend_deliver(&lb->be, &iov, 1, s->len) == -EAGAIN) {
			*stalled = true;
			break;
		}
		head++;
		if (head - published >= LB_PUBLISH_EVERY) {
			lb_publish(lb, head);
			published = head;
		}
	}
	if (head != published)
		lb_publish(lb, head);
	return empty;
}

static int lb_on_event(void *opaque, int fd, uint32_t events)
{
	struct net_loopback *lb = opaque;
	uint64_t cnt;
	bool stalled;

	if (read(fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		log_ratelimited(LOG_ERR, lb->be.name, "eventfd read: %m");
	for (;;) {
		if (!lb_drain(lb, &stalled)) {
			/* Out of budget: come back after the other fds. */
			if (!stalled)
				lb_kick(&lb->be);
			return 0;
		}
		/* seq_cst store then load: pairs with lb_send. */
		atomic_store(&lb->sleeping, true);
		if (atomic_load(&lb->tail) ==
		    atomic_load_explicit(&lb->head, memory_order_relaxed))
			return 0;
		/* A frame raced in; whoever clears the flag owns the wake. */
		if (!atomic_exchange(&lb->sleeping, false))
			return 0;
	}
}

static void lb_destroy(struct net_backend *be)
{
	struct net_loopback *lb = lb_of(be);

	if (lb->registered)
		ioloop_del(be->io, lb->efd);
	if (lb->efd >= 0)
		close(lb->efd);
	free(lb->data);
	free(lb);
}

static const struct net_backend_ops lb_ops = {
	.send = lb_send,
	.kick = lb_kick,
	/* Headers and offloads pass through untouched: accept everything. */
	.set_vnet_hdr = NULL,
	.set_offloads = NULL,
	.destroy = lb_destroy,
};

int net_loopback_create(struct ioloop *io, struct net_backend **out,
			char *err, size_t errlen)
{
	struct net_loopback *lb = calloc(1, sizeof(*lb));
	int ret;

	if (!lb) {
		snprintf(err, errlen, "loopback: out of memory");
		return -ENOMEM;
	}
	net_backend_init(&lb->be, &lb_ops, io, "loopback");
	atomic_init(&lb->sleeping, true);
	lb->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (lb->efd < 0) {
		ret = -errno;
		snprintf(err, errlen, "loopback: eventfd: %s", strerror(-ret));
		goto fail;
	}
	lb->data = malloc(LB_BYTES);
	if (!lb->data) {
		ret = -ENOMEM;
		snprintf(err, errlen, "loopback: out of memory");
		goto fail;
	}
	ret = ioloop_add(io, lb->efd, EPOLLIN, lb_on_event, lb);
	if (ret < 0) {
		snprintf(err, errlen, "loopback: ioloop_add: %s",
			 strerror(-ret));
		goto fail;
	}
	lb->registered = true;
	*out = &lb->be;
	return 0;
fail:
	lb_destroy(&lb->be);
	return ret;
}
