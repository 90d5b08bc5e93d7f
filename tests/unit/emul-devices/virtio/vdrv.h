/* SPDX-License-Identifier: MIT */
/*
 * A small virtio 1.x driver for the device-model tests: it finds a modern
 * virtio PCI function on a real PCI host + bus, negotiates features and
 * sets up split or packed rings in a real gmem, exactly as a guest would
 * (config space, BAR 4 MMIO through bus_access), then adds buffers, kicks
 * (honouring the device's kick suppression) and polls the used ring.
 * Nothing here knows the device's internals.
 */
#ifndef IOVMM_TEST_VDRV_H
#define IOVMM_TEST_VDRV_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/gmem.h"
#include "core/ioloop.h"
#include "core/irq.h"
#include "fake_irq.h"
#include "core/pci/host.h"

/* The machine around the device under test. */
struct vdrv_env {
	struct irq *irq;
	struct fake_irq *fake_irq; /* irq's back end */
	struct bus *bus;
	struct pci_host *host;
	struct gmem *mem;
	struct ioloop *io;
	uint64_t next_gpa; /* bump allocator */
};

/* The creation context of a device on env (core/pci/pci.h). */
#define VDRV_CTX(env) { .mem = (env)->mem, .irq = (env)->irq, .io = (env)->io, \
			.bus = (env)->bus, .cancel_fd = -1 }

/* Interrupts go to a recording fake (fake_irq.h). The ioloop is started. */
void vdrv_env_init(struct vdrv_env *env);
/* Stop the I/O thread and the host bridge (before destroying devices). */
void vdrv_env_stop(struct vdrv_env *env);
/* Free what is left (after the devices). */
void vdrv_env_fini(struct vdrv_env *env);
uint64_t vdrv_alloc(struct vdrv_env *env, uint64_t size, uint64_t align);
void *vdrv_ptr(struct vdrv_env *env, uint64_t gpa, uint64_t len);

struct vdrv {
	struct vdrv_env *env;
	uint8_t devfn;
	uint64_t common, isr, device, notify; /* absolute MMIO addresses */
	uint32_t notify_mult;
	uint64_t features;                    /* accepted */
};

/* Find the first 1af4:(0x1040 + type) function. 0 or -ENODEV. */
int vdrv_probe(struct vdrv *d, struct vdrv_env *env, uint16_t type);
uint64_t vdrv_device_features(struct vdrv *d);
uint8_t vdrv_status(struct vdrv *d);
void vdrv_set_status(struct vdrv *d, uint8_t s);
/* Reset, ACK, DRIVER, features = offer & want, FEATURES_OK. Returns 0,
 * or -1 when FEATURES_OK did not stick. */
int vdrv_negotiate(struct vdrv *d, uint64_t want);
void vdrv_driver_ok(struct vdrv *d);
uint32_t vdrv_cfg_read(struct vdrv *d, uint32_t off, uint32_t len);
uint16_t vdrv_num_queues(struct vdrv *d);

struct vseg {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

#define VQD_MAX 1024

struct vqd {
	struct vdrv *d;
	unsigned idx;
	uint16_t size;
	bool packed, event_idx;
	uint64_t desc_gpa, drv_gpa, dev_gpa;
	void *desc, *drv, *dev;
	/* split */
	uint16_t free_head, num_free, avail_idx, last_used, kicked_avail;
	uint16_t next_free[VQD_MAX];
	/* packed */
	uint16_t next_avail, p_last_used, added;
	bool avail_wrap, used_wrap;
	uint16_t free_ids[VQD_MAX], nfree_ids;
	/* both: descriptors per outstanding buffer id */
	uint16_t chain_len[VQD_MAX];
};

/* Configure and enable queue idx with `size` entries (0: device max). */
int vqd_setup(struct vqd *q, struct vdrv *d, unsigned idx, uint16_t size);
/* Make a buffer available; returns its id, or -1 when the ring is full. */
int vqd_add(struct vqd *q, const struct vseg *segs, unsigned n);
/* Would a kick now be needed (device's suppression state)? Also records the
 * point of this decision, like virtqueue_kick_prepare(). */
bool vqd_kick_prepare(struct vqd *q);
void vqd_notify(struct vqd *q);
/* kick_prepare + notify. Returns whether it notified. */
bool vqd_kick(struct vqd *q);
/* One used buffer, if any: true and id/len. */
bool vqd_get_used(struct vqd *q, uint16_t *id, uint32_t *len);
/* Poll for a used buffer up to timeout_ms. */
bool vqd_wait_used(struct vqd *q, uint16_t *id, uint32_t *len, int timeout_ms);

/* Milliseconds sleep. */
void vdrv_msleep(int ms);

#endif
