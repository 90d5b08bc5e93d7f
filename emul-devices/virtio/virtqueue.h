/* SPDX-License-Identifier: MIT */
/*
 * Virtqueues, device side (virtio 1.2 §2.7 split, §2.8 packed). The guest
 * owns the ring memory and may change it at any moment, so every descriptor
 * is copied out of guest RAM once and validated on the copy: address and
 * length inside RAM (gmem), index below the queue size, chain length and
 * total size bounded, no loops, indirect tables well-formed (§2.7.5.3.1),
 * driver-readable before device-writable (§2.7.4.2). A violation returns
 * -EINVAL; the device then puts itself in DEVICE_NEEDS_RESET
 * (virtio_dev_fail()) and stops touching the queue.
 *
 * Limits a chain must respect (else -EINVAL):
 *   - at most VIRTQ_MAX_SG descriptors in total (direct + indirect entries),
 *     and at most the queue size in the ring itself (loop detection);
 *   - the sum of all segment lengths <= VIRTQ_MAX_TOTAL (4 GiB - 1): the
 *     used length is 32 bits, so a larger buffer could not be reported;
 *   - every segment [addr, addr + len) inside one RAM region; zero-length
 *     segments are allowed and dropped from the iovec.
 *
 * Notification suppression (§2.7.7, §2.7.10, §2.8.10): when the device
 * wants kicks, virtq_pop() publishes avail_event (split) or the device
 * event suppression structure (packed) each time it finds the ring empty,
 * followed by a full barrier and a re-check, so a device that simply pops
 * until -EAGAIN never misses a kick, and the driver does not kick while the
 * device is still draining.
 *
 * Not thread-safe: a queue is used by one thread at a time (the I/O thread,
 * or a vCPU thread under the device lock).
 */
#ifndef IOVMM_VIRTQUEUE_H
#define IOVMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/gmem.h"

#define VIRTQ_MAX_SIZE 32768 /* split: power of two <= 32768; packed: any <= 32768 */
#define VIRTQ_MAX_SG 1024    /* descriptors in one chain (incl. indirect) */
#define VIRTQ_MAX_TOTAL 0xffffffffULL /* bytes in one chain, out + in */

/* ---- ring layouts (little-endian in guest memory; iovmm is x86-64) ---- */

/* Descriptor flags (§2.7.5, §2.8.2). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_DESC_F_AVAIL (1 << 7)  /* packed */
#define VIRTQ_DESC_F_USED (1 << 15)  /* packed */

/* Split ring flags (§2.7.6, §2.7.8). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

/* Packed event suppression flags (§2.8.10). */
#define VIRTQ_EVENT_F_ENABLE 0
#define VIRTQ_EVENT_F_DISABLE 1
#define VIRTQ_EVENT_F_DESC 2

/* Split descriptor (§2.7.5). */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Packed descriptor (§2.8.13). */
struct virtq_pdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

/* Split available ring (§2.7.6); used_event follows ring[size]. */
struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* Split used ring (§2.7.8); avail_event follows ring[size]. */
struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

/* Packed driver/device event suppression structure (§2.8.10). */
struct virtq_event {
	uint16_t off_wrap; /* bits 0-14 offset, bit 15 wrap counter */
	uint16_t flags;
};

/* The sizes (bytes) of the split areas for a queue of `size` entries. */
static inline uint64_t virtq_split_avail_size(uint16_t size)
{
	return 4 + 2ULL * size + 2; /* used_event included */
}

static inline uint64_t virtq_split_used_size(uint16_t size)
{
	return 4 + 8ULL * size + 2; /* avail_event included */
}

/*
 * vring_need_event() of the spec (§2.7.7.2, §2.7.10): true when the index
 * `event` lies in [old, new), all in 16-bit arithmetic.
 */
static inline bool virtq_need_event(uint16_t event, uint16_t new_idx,
				    uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* ---- device-side API ---- */

struct virtq_config {
	uint16_t size;       /* queue size negotiated by the driver */
	bool packed;         /* VIRTIO_F_RING_PACKED */
	bool event_idx;      /* VIRTIO_F_EVENT_IDX */
	bool indirect;       /* VIRTIO_F_INDIRECT_DESC */
	uint64_t desc_gpa;   /* split: descriptor table; packed: descriptor ring */
	uint64_t avail_gpa;  /* split: avail ring; packed: driver event suppression */
	uint64_t used_gpa;   /* split: used ring; packed: device event suppression */
};

/*
 * One buffer popped from the queue: out (driver->device) segments first,
 * then in (device->driver) segments, as host pointers into guest RAM.
 * 16 KiB: keep one per queue (or on a thread stack), not per request.
 */
struct virtq_elem {
	uint16_t id;       /* split: head index; packed: buffer id */
	uint16_t ndescs;   /* ring slots the buffer took (1 for split) */
	uint32_t nr_out;   /* iov[0 .. nr_out) */
	uint32_t nr_in;    /* iov[nr_out .. nr_out + nr_in) */
	uint64_t out_len;  /* total readable bytes */
	uint64_t in_len;   /* total writable bytes */
	struct iovec iov[VIRTQ_MAX_SG];
};

struct virtq {
	/* private to virtqueue.c; embedded so devices need no allocation */
	struct gmem *mem;
	struct virtq_config cfg;
	bool ready;
	/* Host views of the rings, validated once by virtq_init(). */
	void *desc;                  /* virtq_desc[] or virtq_pdesc[] */
	struct virtq_avail *avail;   /* split */
	struct virtq_used *used;     /* split */
	struct virtq_event *drv_evt; /* packed: driver event suppression */
	struct virtq_event *dev_evt; /* packed: device event suppression */
	uint16_t last_avail;      /* split: next avail idx to read */
	uint16_t shadow_avail;    /* split: avail->idx as last read */
	uint16_t used_idx;        /* split: next used idx; packed: slots used, mod 2^16 */
	uint16_t signalled_used;  /* used_idx at the last notify decision */
	bool signalled_valid;
	/* packed ring state (§2.8.1) */
	uint16_t next_avail;      /* next descriptor slot to read */
	bool avail_wrap;          /* driver ring wrap counter */
	uint16_t next_used;       /* next descriptor slot to write */
	bool used_wrap;           /* device ring wrap counter */
	uint16_t pending_used;    /* buffers pushed since last notify decision */
	bool notify_enabled;      /* device wants kicks */
};

/* Start using a queue the driver has enabled. -EINVAL for a bad config
 * (size, alignment §2.7/§2.8, rings outside RAM). */
int virtq_init(struct virtq *vq, struct gmem *mem, const struct virtq_config *cfg);
/* Forget the queue (device reset or queue disable). */
void virtq_reset(struct virtq *vq);

/*
 * Take the next available buffer. 0: *elem filled; -EAGAIN: nothing
 * available (or the queue is not initialised); -EINVAL: the guest wrote a
 * malformed ring or chain (the queue state is left unchanged).
 */
int virtq_pop(struct virtq *vq, struct virtq_elem *elem);
/*
 * Give back the last popped buffer without consuming it (e.g. RX has no
 * room for a whole frame yet). Several pops may be undone in reverse order.
 * O(1): no guest memory access.
 */
void virtq_unpop(struct virtq *vq, const struct virtq_elem *elem);
/*
 * Return a used buffer with `written` bytes written into its in segments.
 * -EINVAL when written > elem->in_len or the queue is not initialised.
 */
int virtq_push(struct virtq *vq, const struct virtq_elem *elem, uint32_t written);

/*
 * After one or more pushes: must the driver be interrupted? Honours
 * VRING_AVAIL_F_NO_INTERRUPT / used_event (split) and the driver event
 * suppression structure (packed), §2.7.7 / §2.8.10. False when nothing was
 * pushed since the last call.
 */
bool virtq_should_notify(struct virtq *vq);
/*
 * Ask the driver to kick (true) or not to bother (false) - used->flags /
 * avail_event (split), device event suppression (packed). After enabling,
 * callers re-check virtq_pop() to close the race with a concurrent add.
 */
void virtq_set_kicks(struct virtq *vq, bool enable);

/* True when a buffer is available now (no state change). */
bool virtq_has_avail(struct virtq *vq);

#endif
