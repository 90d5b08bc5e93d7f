/* SPDX-License-Identifier: MIT */
/*
 * Network back ends shared by every emulated NIC (virtio-net, e1000): where
 * the frames a guest sends go, and where the frames it receives come from.
 *
 *   tap:NAME   a Linux tap device (/dev/net/tun, IFF_TAP | IFF_NO_PI |
 *              IFF_VNET_HDR; see net_backend_set_vnet_hdr)
 *   tap-fd:N   the same, opened and attached by the caller and inherited
 *              as fd N (borrowed: the back end works on a duplicate)
 *   loopback   every frame sent is received back (in order, bounded queue)
 *   null       a sink for TX; never receives (benchmarks)
 *
 * A front end sends with net_backend_send(); received frames are delivered
 * on the I/O thread through the rx callback the front end registers, which
 * returns -EAGAIN when the guest has no RX buffer: the back end then keeps
 * the frame (bounded; it drops and counts beyond that) and stops delivering
 * until net_backend_rx_ready() is called.
 *
 * Threads: net_backend_send() may be called from any one thread at a time
 * (a vCPU thread for e1000, the I/O thread for virtio-net); the rx callback
 * runs only on the I/O thread and is never called from inside
 * net_backend_send(), so a front end may hold its own lock across a send.
 * net_backend_rx_ready() may be called from any thread, with or without the
 * front end's lock held (it never calls the rx callback itself).
 */
#ifndef IOVMM_NET_BACKEND_H
#define IOVMM_NET_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/ioloop.h"

/* struct virtio_net_hdr_v1, when vnet headers are on (12 bytes). */
#define NET_VNET_HDR_LEN 12
#define NET_MAX_FRAME 65562 /* 64 KiB TSO frame + vnet header */

struct net_backend;

/*
 * Called on the I/O thread with one received frame (vnet header first when
 * enabled). Return 0 when consumed (delivered or deliberately dropped by the
 * front end), -EAGAIN to have it kept and retried after rx_ready.
 */
typedef int (*net_rx_fn)(void *opaque, const struct iovec *iov, int iovcnt,
			 size_t len);

struct net_backend_stats {
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes, rx_dropped;
	uint64_t tx_dropped; /* back end full or host error: frame lost */
};

/*
 * spec: "tap:NAME", "tap-fd:N", "loopback" or "null". io is borrowed and must outlive
 * the back end; the back end registers its fds with it at create time.
 * err receives a one-line reason (e.g. "tap0: /dev/net/tun: permission
 * denied"). Returns 0, -EINVAL (bad spec), or the -errno of the failure.
 */
int net_backend_create(const char *spec, struct ioloop *io,
		       struct net_backend **out, char *err, size_t errlen);
/*
 * Unregisters from the I/O loop and frees. Call with the I/O thread stopped,
 * or at least with no rx callback in flight for this back end (the front end
 * destroys its back end before itself). Idempotent on NULL.
 */
void net_backend_destroy(struct net_backend *be);

/* Front end registration; call once, before traffic. */
void net_backend_set_rx(struct net_backend *be, net_rx_fn fn, void *opaque);
/*
 * Front ends that speak virtio-net headers ask for them; frames sent then
 * start with a 12-byte virtio_net_hdr_v1 and frames received do too.
 * tap: the device is always opened with IFF_VNET_HDR and TUNSETVNETHDRSZ 12
 * (the flag cannot change after TUNSETIFF), and without vnet headers the back
 * end adds a zero header on send and strips it on receive.
 * loopback: passes the header through; null: ignores. 0 or -EOPNOTSUPP.
 */
int net_backend_set_vnet_hdr(struct net_backend *be, bool enable);
/* Offloads the back end can honour (tap: TUNSETOFFLOAD); bit set of
 * NET_OFFLOAD_*. Only meaningful with vnet headers on (0 without). Returns
 * what was accepted. */
#define NET_OFFLOAD_CSUM 1u
#define NET_OFFLOAD_TSO4 2u
#define NET_OFFLOAD_TSO6 4u
unsigned net_backend_set_offloads(struct net_backend *be, unsigned offloads);

/*
 * Send one frame (called from the front end's TX processing). Like a wire,
 * a full back end drops the frame and counts it in tx_dropped (returns 0);
 * it never returns -EAGAIN. -EMSGSIZE for a frame over NET_MAX_FRAME or
 * shorter than an Ethernet header (plus vnet header), -EIO when the host
 * device failed (the front end may count and continue).
 */
int net_backend_send(struct net_backend *be, const struct iovec *iov,
		     int iovcnt);
/* The front end has RX buffers again: resume delivery (any thread). */
void net_backend_rx_ready(struct net_backend *be);

void net_backend_stats(const struct net_backend *be,
		       struct net_backend_stats *out);

/*
 * Open tap device ifname as the tap back end does (IFF_TAP | IFF_NO_PI,
 * IFF_VNET_HDR when the kernel has it, with *has_vnet set, a 12-byte
 * header, no offloads; non-blocking) and return the fd (the caller owns
 * it), for users that hand the tap to someone else (the kernel's vhost-net,
 * vhost-user/kernel.h). -errno with a one-line reason in err.
 */
int net_tap_open(const char *ifname, bool *has_vnet, char *err, size_t errlen);

#endif
