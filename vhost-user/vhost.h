/* SPDX-License-Identifier: MIT */
/*
 * The vhost ring hand-over shared by iovmm's two vhost back-end transports:
 * vhost-user messages to another process (frontend.c) and the kernel's
 * vhost ioctls on /dev/vhost-net (kernel.c). Both protocols describe the
 * same thing - the guest's memory map and, per ring, its size, base index,
 * addresses in the VMM's address space, kick and call eventfds - so the
 * order in which that is done, the checks on the rings before anything is
 * sent, and the stop (disable, GET_VRING_BASE) live here once, over an ops
 * table of transport primitives, as QEMU's hw/virtio/vhost.c does over
 * VhostOps.
 *
 * Start (vhost_dev_start), in this order:
 *   set_features -> set_mem_table -> per ring set_vring_num, set_vring_base,
 *   set_vring_addr, set_vring_call, [set_vring_err] -> [rings_described]
 *   -> per ring set_vring_kick -> per ring set_vring_enable
 *   -> [set_status]
 * Rings are fully described before any is kicked off; the transport's
 * rings_described hook runs in between (vhost-user: the inflight region,
 * which DPDK attaches only to rings it already knows).
 *
 * Stop (vhost_dev_stop): per started ring set_vring_enable(0), then
 * get_vring_base (after which the back end no longer touches the ring:
 * vhost-user GET_VRING_BASE, kernel VHOST_GET_VRING_BASE once its backend
 * is detached), then [set_status(0)].
 *
 * Brackets: optional ops (NULL: skipped). Every op returns 0 or -errno; the
 * first failure ends the sequence and is returned. Not thread-safe: the
 * owner serialises calls (the device's lock).
 */
#ifndef IOVMM_VHOST_USER_VHOST_H
#define IOVMM_VHOST_USER_VHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/gmem.h"

#define VHOST_MAX_VRINGS 64
#define VHOST_MAX_VRING_SIZE 32768 /* split ring: virtio 1.2 §2.7 */

struct vhost_dev;

/* One ring as the device describes it to vhost_dev_start(). */
struct vhost_ring {
	uint32_t index;            /* vring index (virtqueue number) */
	uint16_t size;
	uint16_t base;             /* next avail index the back end reads */
	bool enabled;              /* set_vring_enable value */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	int kick_fd, call_fd;      /* borrowed eventfds */
	int err_fd;                /* borrowed eventfd; -1 or 0: none (0 so
	                            * that zeroed rings have none) */
};

/* A ring's three areas in the VMM's address space (both protocols). */
struct vhost_ring_hva {
	uint32_t index;
	uint64_t desc, avail, used;
};

struct vhost_ops {
	/* features: what the driver accepted; the transport filters them
	 * to what its back end understands. */
	int (*set_features)(struct vhost_dev *d, uint64_t features);
	/* The guest RAM map (d->mem). */
	int (*set_mem_table)(struct vhost_dev *d);
	int (*set_vring_num)(struct vhost_dev *d, uint32_t index, uint16_t num);
	int (*set_vring_base)(struct vhost_dev *d, uint32_t index, uint16_t base);
	int (*set_vring_addr)(struct vhost_dev *d, const struct vhost_ring_hva *a);
	int (*set_vring_call)(struct vhost_dev *d, uint32_t index, int fd);
	int (*set_vring_err)(struct vhost_dev *d, uint32_t index, int fd);
	int (*rings_described)(struct vhost_dev *d, uint16_t max_size);
	int (*set_vring_kick)(struct vhost_dev *d, uint32_t index, int fd);
	/* Start/stop serving one described ring (vhost-user
	 * SET_VRING_ENABLE; vhost-net: attach or detach the tap). */
	int (*set_vring_enable)(struct vhost_dev *d, uint32_t index, bool on);
	int (*get_vring_base)(struct vhost_dev *d, uint32_t index, uint16_t *base);
	int (*set_status)(struct vhost_dev *d, uint8_t status);
};

/* Embedded in a transport's own struct (container_of). */
struct vhost_dev {
	const struct vhost_ops *ops;
	struct gmem *mem;          /* borrowed */
	unsigned nr_vrings;        /* ring indexes the device may use, <= 64 */
	bool started;
	uint64_t started_mask;     /* bit i: ring i was kicked off */
};

/*
 * Every ring inside guest RAM, a power-of-two size up to
 * VHOST_MAX_VRING_SIZE, an index below nr_vrings and not repeated, with
 * kick and call fds; nr in 1..nr_vrings. 0 or -EINVAL; *max_size: the
 * largest ring.
 */
int vhost_check_rings(const struct vhost_dev *d, const struct vhost_ring *rings,
		      unsigned nr, uint16_t *max_size);
/* Host addresses of a split ring's areas (virtio 1.2 §2.7); -EINVAL when
 * any is not entirely in guest RAM. */
int vhost_ring_hva(const struct vhost_dev *d, const struct vhost_ring *r,
		   struct vhost_ring_hva *a);

/*
 * The start sequence above, after vhost_check_rings(). 0, -EINVAL (bad
 * rings: nothing was sent) or the failing op's error (then the back end
 * may hold part of the set-up: the caller stops or drops it). features and
 * status are the driver's.
 */
int vhost_dev_start(struct vhost_dev *d, uint64_t features,
		    const struct vhost_ring *rings, unsigned nr, uint8_t status);
/*
 * The stop sequence on every started ring. bases (NULL, or
 * VHOST_MAX_VRINGS entries indexed by ring) receive get_vring_base's
 * answers. The device counts as stopped afterwards whatever the result.
 * 0 or the first error (the rest of the sequence is skipped).
 */
int vhost_dev_stop(struct vhost_dev *d, uint16_t *bases);
/* set_vring_enable on a started ring: -EINVAL when it is not one. */
int vhost_dev_vring_enable(struct vhost_dev *d, uint32_t index, bool on);

#endif
