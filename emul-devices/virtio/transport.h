/* SPDX-License-Identifier: MIT */
/*
 * The transport-independent half of a virtio device (virtio 1.2 §2-§3),
 * for transports, not for device models: feature negotiation, the device
 * status state machine, reset, and each queue's configuration (size,
 * rings, enable), plus the ISR and configuration generation every
 * transport reports. A transport embeds struct virtio_transport, encodes
 * this state in its registers (PCI: the common configuration structure,
 * §4.1.4.3), calls the functions below for what the driver writes, and
 * implements struct virtio_transport_ops for what only it knows: how a
 * queue is kicked and how the driver is interrupted.
 *
 * Everything here runs with dev->lock held unless said otherwise.
 */
#ifndef IOVMM_VIRTIO_TRANSPORT_H
#define IOVMM_VIRTIO_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "emul-devices/virtio/virtio.h"

/* ISR status bits (§4.1.4.5; MMIO's InterruptStatus, §4.2.2, alike). */
#define VIRTIO_ISR_QUEUE  0x1
#define VIRTIO_ISR_CONFIG 0x2

/* "The configuration" where ops take a queue index. */
#define VIRTIO_CONFIG_IRQ UINT32_MAX

struct virtio_transport;

struct virtio_transport_ops {
	/* Interrupt the driver for queue qidx or VIRTIO_CONFIG_IRQ. */
	void (*interrupt)(struct virtio_transport *t, unsigned qidx);
	/* Queue qidx's rings are live now: start taking its kicks. */
	void (*queue_enabled)(struct virtio_transport *t, unsigned qidx);
	/* Queue qidx is reset (before its rings are): stop taking kicks. */
	void (*queue_reset)(struct virtio_transport *t, unsigned qidx);
	/* Device reset: the transport's own registers to reset values. */
	void (*reset)(struct virtio_transport *t);
	/* Signal queue qidx's kick eventfd as a guest kick does. */
	int (*kick)(struct virtio_transport *t, unsigned qidx);
	/* The transport's part of a queue snapshot: eventfds, vector. */
	void (*queue_info)(struct virtio_transport *t, unsigned qidx,
			   struct virtio_queue_info *out);
	/* Free the transport (virtio_dev_exit(); dev->lock not held). */
	void (*destroy)(struct virtio_transport *t);
};

/* A queue as the driver configured it (§2.7, §4.1.4.3). */
struct virtio_tq {
	uint16_t size;
	bool enabled;
	uint64_t desc, driver, device; /* descriptor / driver / device area */
};

struct virtio_transport {
	const struct virtio_transport_ops *ops;
	enum virtio_transport_kind kind;
	struct virtio_dev *dev;      /* borrowed */
	uint64_t offered;            /* device features, transport-filtered */
	/* dev->lock: */
	uint64_t driver_features;    /* as the driver wrote them */
	uint8_t isr;                 /* VIRTIO_ISR_*, read-to-clear */
	uint8_t config_generation;
	struct virtio_tq q[VIRTIO_MAX_QUEUES];
};

/*
 * Check dev's static description, initialise dev->lock, compute the offer
 * and put the state at reset values; sets dev->transport = t. ops and dev
 * borrowed. -EINVAL (bad dev fields), -errno from pthread_mutex_init().
 * No op is called.
 */
int virtio_transport_init(struct virtio_transport *t,
			  const struct virtio_transport_ops *ops,
			  enum virtio_transport_kind kind, struct virtio_dev *dev);
/* Destroy dev->lock, clear dev->transport (not locked). */
void virtio_transport_fini(struct virtio_transport *t);

/* Device features, 32 bits at a time (sel 0, 1; 0 beyond). */
uint32_t virtio_transport_features(const struct virtio_transport *t,
				   uint32_t sel);
/* The driver's features, 32 bits at a time; fixed after FEATURES_OK. */
void virtio_transport_set_driver_features(struct virtio_transport *t,
					  uint32_t sel, uint32_t v);
/* A device_status write (§2.1, §3.1.1); 0 resets the device (§2.4). */
void virtio_transport_set_status(struct virtio_transport *t, uint8_t val);
/* Device reset: the model first, then every queue, the ops, the state. */
void virtio_transport_reset(struct virtio_transport *t);

/* May the driver change queue qidx's registers (off, before DRIVER_OK)? */
bool virtio_transport_queue_writable(const struct virtio_transport *t,
				     unsigned qidx);
/* queue_enable = 1: map the rings; a bad size or ring fails the device. */
void virtio_transport_queue_enable(struct virtio_transport *t, unsigned qidx);

/* Latch isr and interrupt the driver for qidx (or VIRTIO_CONFIG_IRQ). */
void virtio_transport_raise(struct virtio_transport *t, uint8_t isr,
			    unsigned qidx);
/* Read the ISR and clear it (§4.1.4.5.1). */
uint8_t virtio_transport_isr_take(struct virtio_transport *t);

#endif
