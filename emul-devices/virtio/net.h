/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (virtio 1.2 §5.1) over the modern PCI transport, with frames
 * going to and coming from a network back end (emul-devices/net/backend.h).
 *
 * Queues: receiveq N = 2N, transmitq N = 2N + 1 for N < queues; with
 * queues > 1 the device offers MQ + CTRL_VQ and the control queue is 2 *
 * queues (index 2 when the driver does not negotiate MQ, §5.1.2).
 *
 * Threads: TX runs on the I/O thread (queue kick), RX on the I/O thread (the
 * back end's rx callback); both under the virtio device lock. Nothing runs
 * on vCPU threads except config-space accesses and status changes.
 */
#ifndef IOVMM_VIRTIO_NET_H
#define IOVMM_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gmem.h"
#include "core/ioloop.h"
#include "core/irq.h"
#include "core/pci/pci.h"

struct pci_host;
struct virtio_net;

#define VIRTIO_NET_MAX_PAIRS 8

struct virtio_net_config {
	const char *backend; /* "tap:NAME", "loopback", "null" */
	uint8_t mac[6];
	bool has_mac;        /* else a random locally administered 52:54:00:xx */
	unsigned queues;     /* queue pairs, 1..VIRTIO_NET_MAX_PAIRS; 0 means 1 */
	bool packed;         /* offer VIRTIO_F_RING_PACKED */
	const char *name;    /* for logs; NULL: "virtio-net" */
};

/* Device-side counters (the back end keeps its own, net_backend_stats). */
struct virtio_net_stats {
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_dropped;      /* refused by the back end (size, host error) */
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_too_big;      /* frame larger than the guest's buffers */
	uint64_t rx_dropped;      /* driver not ready, or an offload it refused */
	uint64_t ctrl_cmds;       /* control-queue commands handled */
};

/*
 * Create the back end named by cfg->backend and the virtio function on
 * ctx's mem, irq and io; the caller plugs virtio_dev_pci(&n->vdev), whose
 * destroy frees the whole device. 0, or -errno with a one-line reason in
 * err: -EINVAL (bad config), the back end's error.
 */
int virtio_net_create(const struct pci_dev_ctx *ctx,
		      const struct virtio_net_config *cfg,
		      struct virtio_net **out, char *err, size_t errlen);
/* The PCI function to plug into the host bridge. */
struct pci_dev *virtio_net_pci(struct virtio_net *n);
/*
 * Free the device and its back end. Call after pci_host_destroy() and with
 * the I/O thread stopped (vm_destroy() order). Idempotent on NULL.
 */
void virtio_net_destroy(struct virtio_net *n);

/* Link up/down (config status, §5.1.4) with a config interrupt. */
void virtio_net_set_link(struct virtio_net *n, bool up);
void virtio_net_stats(struct virtio_net *n, struct virtio_net_stats *out);

#endif
