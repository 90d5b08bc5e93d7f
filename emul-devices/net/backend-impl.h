/* SPDX-License-Identifier: MIT */
/*
 * Private to emul-devices/net/: the interface each back end implements and
 * the shared delivery logic (rx stall/resume protocol, statistics).
 */
#ifndef IOVMM_NET_BACKEND_IMPL_H
#define IOVMM_NET_BACKEND_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>

#include "emul-devices/net/backend.h"

struct net_backend_ops {
	/* len: total bytes of iov, already checked against the limits. */
	int (*send)(struct net_backend *be, const struct iovec *iov,
		    int iovcnt, size_t len);
	/* Wake the I/O thread so it retries delivery (any thread). */
	void (*kick)(struct net_backend *be);
	/* Optional; NULL means "accept and ignore". */
	int (*set_vnet_hdr)(struct net_backend *be, bool enable);
	unsigned (*set_offloads)(struct net_backend *be, unsigned offloads);
	/* Unregister and free everything, including be itself. */
	void (*destroy)(struct net_backend *be);
};

struct net_backend {
	const struct net_backend_ops *ops;
	struct ioloop *io;       /* borrowed */
	net_rx_fn rx_fn;         /* set once before traffic */
	void *rx_opaque;
	bool vnet_hdr;           /* written by set_vnet_hdr before traffic */
	/*
	 * Set by the I/O thread when the front end refused a frame; cleared
	 * (with a kick) by net_backend_rx_ready(). Dekker-style: the I/O thread
	 * stores it and then retries once, rx_ready exchanges it after the front
	 * end published its new buffers, so no wake-up is lost (see deliver).
	 */
	atomic_bool rx_stalled;
	/* Counters: relaxed atomics, any thread. */
	_Atomic uint64_t tx_frames, tx_bytes, tx_dropped;
	_Atomic uint64_t rx_frames, rx_bytes, rx_dropped;
	char name[24];           /* for log lines: "tap0", "loopback" */
};

void net_backend_init(struct net_backend *be, const struct net_backend_ops *ops,
		      struct ioloop *io, const char *name);

/*
 * I/O thread: hand one frame to the front end. 0 when consumed (or dropped
 * because no front end is registered), -EAGAIN when the front end has no
 * buffer: the caller keeps the frame and delivers nothing more until its
 * kick() runs.
 */
int net_backend_deliver(struct net_backend *be, const struct iovec *iov,
			int iovcnt, size_t len);

static inline void net_stat_add(_Atomic uint64_t *ctr, uint64_t v)
{
	atomic_fetch_add_explicit(ctr, v, memory_order_relaxed);
}

int net_loopback_create(struct ioloop *io, struct net_backend **out,
			char *err, size_t errlen);
int net_null_create(struct ioloop *io, struct net_backend **out, char *err,
		    size_t errlen);
int net_tap_create(const char *ifname, struct ioloop *io,
		   struct net_backend **out, char *err, size_t errlen);
/* fd: a tap the caller opened (borrowed: the back end uses a duplicate). */
int net_tap_create_fd(int fd, struct ioloop *io, struct net_backend **out,
		      char *err, size_t errlen);

#endif
