// SPDX-License-Identifier: MIT
/*
 * Back-end dispatch: spec parsing, the frame-size checks every back end
 * shares, statistics and the rx stall/resume protocol.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "emul-devices/net/backend-impl.h"

#define ETH_HDR_LEN 14

void net_backend_init(struct net_backend *be, const struct net_backend_ops *ops,
		      struct ioloop *io, const char *name)
{
	be->ops = ops;
	be->io = io;
	atomic_init(&be->rx_stalled, false);
	snprintf(be->name, sizeof(be->name), "%s", name);
}

/* A tap name the kernel will take verbatim (no "%d" template, no path). */
static bool net_ifname_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= IFNAMSIZ || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= ' ' || c >= 0x7f || c == '/' || c == ':' || c == '%')
			return false;
	}
	return true;
}

int net_backend_create(const char *spec, struct ioloop *io,
		       struct net_backend **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!spec)
		spec = "";
	if (!strcmp(spec, "loopback"))
		return net_loopback_create(io, out, err, errlen);
	if (!strcmp(spec, "null"))
		return net_null_create(io, out, err, errlen);
	if (!strncmp(spec, "tap:", 4)) {
		if (!net_ifname_ok(spec + 4)) {
			snprintf(err, errlen,
				 "net back end '%s': bad interface name (1-%d "
				 "characters, no '/', ':', '%%' or spaces)",
				 spec, IFNAMSIZ - 1);
			return -EINVAL;
		}
		return net_tap_create(spec + 4, io, out, err, errlen);
	}
	if (!strncmp(spec, "tap-fd:", 7)) {
		char *end;
		long fd;

		errno = 0;
		fd = strtol(spec + 7, &end, 10);
		if (errno || *end || end == spec + 7 || fd < 0 || fd > INT_MAX) {
			snprintf(err, errlen, "net back end '%s': bad fd", spec);
			return -EINVAL;
		}
		return net_tap_create_fd((int)fd, io, out, err, errlen);
	}
	snprintf(err, errlen,
		 "unknown net back end '%s' (expected tap:NAME, loopback or null)",
		 spec);
	return -EINVAL;
}

void net_backend_destroy(struct net_backend *be)
{
	if (be)
		be->ops->destroy(be);
}

void net_backend_set_rx(struct net_backend *be, net_rx_fn fn, void *opaque)
{
	be->rx_opaque = opaque;
	be->rx_fn = fn;
}

int net_backend_set_vnet_hdr(struct net_backend *be, bool enable)
{
	int ret = 0;

	if (be->ops->set_vnet_hdr)
		ret = be->ops->set_vnet_hdr(be, enable);
	if (ret == 0)
		be->vnet_hdr = enable;
	return ret;
}

unsigned net_backend_set_offloads(struct net_backend *be, unsigned offloads)
{
	offloads &= NET_OFFLOAD_CSUM | NET_OFFLOAD_TSO4 | NET_OFFLOAD_TSO6;
	/* Without a vnet header there is nowhere to describe an offload. */
	if (!be->vnet_hdr)
		offloads = 0;
	if (be->ops->set_offloads)
		return be->ops->set_offloads(be, offloads);
	return offloads;
}

int net_backend_send(struct net_backend *be, const struct iovec *iov,
		     int iovcnt)
{
	size_t len = 0, min = ETH_HDR_LEN + (be->vnet_hdr ? NET_VNET_HDR_LEN : 0);

	if (iovcnt < 0 || (iovcnt > 0 && !iov))
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++) {
		len += iov[i].iov_len;
		if (len > NET_MAX_FRAME)
			return -EMSGSIZE;
	}
	if (len < min)
		return -EMSGSIZE;
	return be->ops->send(be, iov, iovcnt, len);
}

/*
 * The stall protocol, between the I/O thread (here) and whichever thread
 * gives the guest's buffers back (rx_ready):
 *   I/O thread:   rx() -> -EAGAIN; store stalled = 1; rx() again
 *   front end:    publish buffers (under its lock); if xchg(stalled, 0): kick
 * Either the retry sees the new buffers, or rx_ready sees stalled == 1 and
 * kicks (sequentially consistent store/exchange), so a frame is never stuck
 * while the guest has buffers, and rx_ready costs no syscall while traffic
 * flows (e1000 calls it on every RDT write).
 */
int net_backend_deliver(struct net_backend *be, const struct iovec *iov,
			int iovcnt, size_t len)
{
	int ret;

	if (!be->rx_fn) {
		net_stat_add(&be->rx_dropped, 1);
		return 0;
	}
	ret = be->rx_fn(be->rx_opaque, iov, iovcnt, len);
	if (ret == -EAGAIN) {
		atomic_store(&be->rx_stalled, true);
		ret = be->rx_fn(be->rx_opaque, iov, iovcnt, len);
		if (ret == -EAGAIN)
			return -EAGAIN;
		atomic_store(&be->rx_stalled, false);
	}
	if (ret < 0) {
		/* The front end refused it for good (e.g. too big): dropped. */
		net_stat_add(&be->rx_dropped, 1);
		return 0;
	}
	net_stat_add(&be->rx_frames, 1);
	net_stat_add(&be->rx_bytes, len);
	return 0;
}

void net_backend_rx_ready(struct net_backend *be)
{
	/*
	 * The fence orders the front end's buffer publication before the load
	 * (store-load order is the one x86 relaxes); the common case, nothing
	 * stalled, then costs no locked write to a shared line.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&be->rx_stalled, memory_order_relaxed) &&
	    atomic_exchange(&be->rx_stalled, false) && be->ops->kick)
		be->ops->kick(be);
}

void net_backend_stats(const struct net_backend *be,
		       struct net_backend_stats *out)
{
	struct net_backend *b = (struct net_backend *)be;

	out->tx_frames = atomic_load_explicit(&b->tx_frames, memory_order_relaxed);
	out->tx_bytes = atomic_load_explicit(&b->tx_bytes, memory_order_relaxed);
	out->tx_dropped = atomic_load_explicit(&b->tx_dropped, memory_order_relaxed);
	out->rx_frames = atomic_load_explicit(&b->rx_frames, memory_order_relaxed);
	out->rx_bytes = atomic_load_explicit(&b->rx_bytes, memory_order_relaxed);
	out->rx_dropped = atomic_load_explicit(&b->rx_dropped, memory_order_relaxed);
}
