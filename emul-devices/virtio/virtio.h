/* SPDX-License-Identifier: MIT */
/*
 * Virtio devices (virtio 1.2), as device models see them: a model (net,
 * blk, vhost-user-net) embeds struct virtio_dev, fills in its ops and static
 * description, and calls virtio_dev_init() with the transport to put it on.
 * The device does not know its transport (kvmtool's virtio_init(..., trans)
 * idea): feature negotiation, the status state machine and queue
 * configuration are transport-independent (transport.h), and a transport
 * (the modern PCI one, pci.h, is the only one for now) encodes them in its
 * registers and carries notifications:
 *   - guest kick -> KVM ioeventfd -> the queue's kick eventfd -> the I/O
 *     thread calls ops->queue_notify(dev, qidx);
 *   - virtio_dev_notify() -> the transport's interrupt for the queue (PCI:
 *     its MSI-X vector -> irqfd, core/irq.c).
 * Device models never see PCI or KVM.
 *
 * External queues (dev->external_queues): rings served by another process
 * (a vhost-user back end), so that the data path never enters iovmm:
 *   - guest kick -> KVM ioeventfd -> the queue's kick eventfd, which the
 *     device hands to the back end; the I/O thread does not read it and
 *     ops->queue_notify is never called for the queue;
 *   - back end -> the queue's call eventfd -> KVM irqfd while the queue's
 *     interrupt can be delivered that way (PCI: its MSI-X vector is live);
 *     otherwise the transport reads the call eventfd on the I/O thread and
 *     raises the interrupt itself (pending bits, ISR).
 * virtio_dev_queue_info() gives the device both eventfds and the rings.
 *
 * Locking: dev->lock protects the device and its queues. The transport takes
 * it around every callback; callbacks must not take it again. Device code
 * running outside a callback (e.g. a back end's RX on the I/O thread) takes
 * dev->lock itself before touching dev->vqs or calling virtio_dev_*().
 * Lock order: the transport's bus-side lock (pci_dev.lock), then dev->lock,
 * then the transport's interrupt lock (MSI-X).
 */
#ifndef IOVMM_VIRTIO_H
#define IOVMM_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/gmem.h"
#include "core/ioloop.h"
#include "core/irq.h"
#include "emul-devices/virtio/virtqueue.h"

struct pci_dev;
struct pci_host;
struct virtio_dev;
struct virtio_transport;

#define VIRTIO_MAX_QUEUES 64

/* Feature bits (virtio 1.2 §6) the transport handles itself. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34

/* Device status bits (§2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* "No MSI-X vector" for config_msix_vector / queue_msix_vector (§4.1.5.1.2). */
#define VIRTIO_MSI_NO_VECTOR 0xffff

struct virtio_dev_ops {
	/* Device-specific config space (§2.5), offset from its start. */
	void (*cfg_read)(struct virtio_dev *dev, uint32_t off, void *data,
			 uint32_t len);
	void (*cfg_write)(struct virtio_dev *dev, uint32_t off,
			  const void *data, uint32_t len);
	/* The driver accepted `features` (FEATURES_OK); -errno refuses them. */
	int (*set_features)(struct virtio_dev *dev, uint64_t features);
	/* DRIVER_OK: queues are configured; start processing. */
	int (*activate)(struct virtio_dev *dev);
	/* Guest kick on queue qidx (I/O thread), only while the queue is live
	 * (virtio_dev_queue_live()). */
	void (*queue_notify)(struct virtio_dev *dev, unsigned qidx);
	/* Device reset: stop using the queues; the transport resets them. */
	void (*reset)(struct virtio_dev *dev);
	/*
	 * Free the device model (which calls virtio_dev_exit()): the PCI
	 * function's destroy (core/pci/pci.h) ends here. NULL for devices
	 * whose owner frees them itself (tests).
	 */
	void (*destroy)(struct virtio_dev *dev);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	const char *name;          /* for logs, e.g. "virtio-net0" */
	uint16_t device_id;        /* virtio device type (§5): net 1, blk 2 */
	uint16_t pci_class;        /* PCI transport: 0x0200 ethernet, 0x0180 storage */
	/*
	 * Offered features. The transport adds VERSION_1 and withholds the
	 * transport bits (28..41) it does not implement: it implements
	 * INDIRECT_DESC, EVENT_IDX and RING_PACKED when the model offers them.
	 */
	uint64_t host_features;
	uint32_t cfg_size;         /* device config space bytes */
	unsigned nr_queues;        /* queues the device exposes, 1..64 */
	uint16_t queue_max_size;   /* per queue; a power of two <= 32768 */
	struct gmem *mem;          /* borrowed */
	/* Bit q: queue q is external (see above); only bits < nr_queues. */
	uint64_t external_queues;

	/* Set by virtio_dev_init() (the lock too). */
	pthread_mutex_t lock;
	uint64_t features;         /* negotiated; lock */
	uint8_t status;            /* lock */
	struct virtq vqs[VIRTIO_MAX_QUEUES]; /* lock */
	struct virtio_transport *transport; /* owned, opaque to the model */
};

enum virtio_transport_kind {
	VIRTIO_TRANSPORT_PCI,   /* modern virtio PCI (§4.1), emul-devices/virtio/pci.h */
};

/* Where a device goes and what its transport may use; all borrowed. */
struct virtio_transport_ctx {
	enum virtio_transport_kind kind;
	struct irq *irq;         /* NULL: no KVM ioeventfds (kicks trap), no irqfds */
	struct ioloop *io;       /* NULL: no kicks are delivered (unit tests) */
};

/*
 * Put dev on the transport ctx names (PCI: a function the caller plugs
 * into the host bridge, virtio_dev_pci()): dev (and dev->mem) and
 * everything in ctx must outlive the device. Initialises dev->lock and
 * sets dev->transport. Each queue gets a kick eventfd served by ctx->io.
 * -EINVAL (bad dev fields or kind), -ENOMEM, -ENOSPC (ioloop full), -errno
 * from eventfd().
 */
int virtio_dev_init(struct virtio_dev *dev,
		    const struct virtio_transport_ctx *ctx);
/*
 * Free the transport (ioeventfds, ioloop handlers, eventfds) and destroy
 * dev->lock. Call after the vCPUs and the I/O thread have stopped and after
 * the transport's bus is gone (pci_host_destroy(): no hot-unplug).
 * Idempotent, and a no-op when virtio_dev_init() was not called (or
 * failed) on a zeroed dev.
 */
void virtio_dev_exit(struct virtio_dev *dev);
/* The PCI function of a device on the PCI transport, else NULL. */
struct pci_dev *virtio_dev_pci(struct virtio_dev *dev);

/* A queue as the driver configured it (§4.1.4.3), for external queues. */
struct virtio_queue_info {
	uint16_t size;
	bool enabled;          /* queue_enable (set before DRIVER_OK, §3.1.1) */
	uint16_t msix_vector;  /* PCI; or VIRTIO_MSI_NO_VECTOR */
	uint64_t desc, driver, device; /* ring GPAs (desc/avail/used) */
	int kick_fd;           /* eventfd KVM signals on a guest kick */
	int call_fd;           /* external queues: eventfd that interrupts
				* the guest for this queue; else -1 */
	bool call_irqfd;       /* call_fd is a KVM irqfd right now */
};
/*
 * Snapshot of queue qidx. Both eventfds are owned by the transport and stay
 * open (the same fds) until virtio_dev_exit(); pass them on by dup or
 * SCM_RIGHTS. Call with dev->lock held. -EINVAL: no such queue.
 */
int virtio_dev_queue_info(struct virtio_dev *dev, unsigned qidx,
			  struct virtio_queue_info *out);

/*
 * Interrupt the driver for queue qidx if virtq_should_notify() says so.
 * Call with dev->lock held, after one or more virtq_push().
 */
void virtio_dev_notify(struct virtio_dev *dev, unsigned qidx);
/*
 * Config space changed (e.g. link status): bump config_generation and send
 * a config interrupt once DRIVER_OK is set (§2.5.2). Call with dev->lock held.
 */
void virtio_dev_config_changed(struct virtio_dev *dev);
/*
 * The guest broke the protocol (malformed ring...): set DEVICE_NEEDS_RESET,
 * send a config interrupt, stop processing until the driver resets the
 * device, and log `why` once (rate-limited). Call with dev->lock held.
 */
void virtio_dev_fail(struct virtio_dev *dev, const char *why);
/* True while the device may process queue qidx (DRIVER_OK, queue enabled,
 * not failed). Call with dev->lock held. */
bool virtio_dev_queue_live(struct virtio_dev *dev, unsigned qidx);
/*
 * Signal queue qidx's kick eventfd as a guest kick would, so that
 * ops->queue_notify runs again on the I/O thread: how a device that stopped
 * at a work budget comes back to the rest after other work had its turn.
 * Not for external queues (-EINVAL); -errno if the eventfd write fails.
 */
int virtio_dev_queue_rekick(struct virtio_dev *dev, unsigned qidx);

#endif
