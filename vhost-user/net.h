/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-net: a virtio-net PCI function (virtio 1.2 §5.1) whose data
 * queues are served by a vhost-user back end (a DPDK vhost PMD,
 * iovmm-vswitch...). iovmm serves the device configuration (MAC, link
 * status, max_virtqueue_pairs) and, with several queue pairs, the control
 * queue (VQ_PAIRS_SET becomes SET_VRING_ENABLE); the back end reads and
 * writes the rings in guest memory, is kicked by KVM ioeventfds and
 * interrupts the guest through KVM irqfds: no packet enters iovmm.
 *
 * Queues: receiveq N = 2N, transmitq N = 2N + 1; with queues > 1 the
 * device offers MQ + CTRL_VQ and the control queue is 2 * queues. A driver
 * taking CTRL_VQ without MQ on such a device is refused (FEATURES_OK stays
 * clear): its control queue would be index 2, a data ring of the back end.
 *
 * The guest sees the virtio-net features the first back end offers among
 * those iovmm passes through (checksum/TSO offloads, MRG_RXBUF,
 * INDIRECT_DESC, EVENT_IDX) plus MAC and STATUS; packed rings are not
 * offered, because restoring a ring after a back end died is defined here
 * for the split ring (last_avail_idx = used->idx).
 *
 * Link: up while a back end is connected and, once the driver is running,
 * serving the rings. When the back end dies the link goes down (config
 * interrupt), the guest keeps running, iovmm reconnects with back-off and
 * restarts the rings where the guest's used ring says, then link up.
 */
#ifndef IOVMM_VHOST_USER_NET_H
#define IOVMM_VHOST_USER_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gmem.h"
#include "core/ioloop.h"
#include "core/irq.h"
#include "core/pci/pci.h"

struct pci_host;
struct vhu_net;

#define VHU_NET_MAX_PAIRS 8
#define VHU_NET_QUEUE_SIZE 1024 /* largest ring the driver may choose */

struct vhu_net_config {
	/* Exactly one of socket (vhost-user) and tap (kernel vhost-net). */
	const char *socket;   /* AF_UNIX path of the back end; borrowed */
	const char *tap;      /* tap interface the kernel's vhost-net serves
			       * the rings on (queues 1); borrowed */
	int vhost_fd;         /* with tap: a pre-opened /dev/vhost-net whose
			       * ownership passes to the device (also on
			       * failure); -1 or 0: open /dev/vhost-net */
	bool server;          /* listen on socket (wait for the back end at
			       * start) instead of connecting to it */
	unsigned queues;      /* queue pairs, 1..VHU_NET_MAX_PAIRS; 0 means 1 */
	uint8_t mac[6];       /* required: the caller picks it */
	const char *name;     /* for logs; NULL: "vhost-user-net" */
	int timeout_ms;       /* back-end reply timeout; 0: 5000 ms */
	int cancel_fd;        /* server: eventfd that ends the wait for the
			       * first back end (-ECANCELED); -1 or 0: none */
};

struct vhu_net_stats {
	bool connected;       /* a back end is there now */
	bool started;         /* the back end serves the rings now */
	bool link_up;
	uint64_t connects;    /* handshakes that succeeded (first one incl.) */
	uint64_t disconnects;
	uint64_t starts;      /* ring starts (DRIVER_OK, reconnections) */
	uint64_t ctrl_cmds;   /* control-queue commands handled */
	uint64_t ring_errors; /* kernel vhost-net: VHOST_SET_VRING_ERR signals */
};

/*
 * Connect to (or wait for) the back end, negotiate and create the virtio
 * function on ctx's mem, irq and io; the caller plugs vhu_net_pci(n),
 * whose destroy frees the whole device. 0, or -errno with a one-line
 * reason in err:
 *   -EINVAL           bad config (no socket, queues out of range)
 *   -ENOENT           client: the socket does not exist
 *   -ECONNREFUSED     client: nobody listens on it
 *   -EADDRINUSE       server: the path is taken
 *   -EPROTONOSUPPORT  the back end lacks VERSION_1, MQ or queue pairs
 *   other -errno      protocol or socket errors
 * A missing back end at start is an error (the caller exits); one that
 * dies later is reconnected forever.
 */
int vhu_net_create(const struct pci_dev_ctx *ctx,
		   const struct vhu_net_config *cfg, struct vhu_net **out,
		   char *err, size_t errlen);
/*
 * Free the device and close the connection. Call after pci_host_destroy()
 * and with the I/O thread stopped (vm_destroy() order). Idempotent on NULL.
 */
void vhu_net_destroy(struct vhu_net *n);

void vhu_net_get_stats(struct vhu_net *n, struct vhu_net_stats *out);
/* The PCI function (tests). */
struct pci_dev *vhu_net_pci(struct vhu_net *n);

#endif
