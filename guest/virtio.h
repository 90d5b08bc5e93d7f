/* SPDX-License-Identifier: MIT */
/*
 * The kit's virtio driver core: the modern PCI transport (virtio 1.2 §4.1)
 * and driver-side virtqueues, split (§2.7) and packed (§2.8). Poll mode:
 * interrupts are suppressed on every queue and the function's INTx is
 * disabled; the driver notifies the device only when the device asks for
 * it (used->flags / avail_event, or the packed device event suppression).
 * Everything here runs at CPL3 on identity-mapped memory and BARs.
 */
#ifndef IOVMM_GUEST_VIRTIO_H
#define IOVMM_GUEST_VIRTIO_H

#include "guest/kit.h"

#define KIT_VIRTIO_VENDOR 0x1af4
/* Modern device ids are 0x1040 + type (§4.1.2.1); transitional 0x1000+. */
#define KIT_VIRTIO_ID_NET_MODERN 0x1041
#define KIT_VIRTIO_ID_BLK_MODERN 0x1042
#define KIT_VIRTIO_ID_NET_TRANS 0x1000
#define KIT_VIRTIO_ID_BLK_TRANS 0x1001

/* Feature bits (§6 and the device sections). */
#define KIT_VIRTIO_F_INDIRECT_DESC 28
#define KIT_VIRTIO_F_EVENT_IDX 29
#define KIT_VIRTIO_F_VERSION_1 32
#define KIT_VIRTIO_F_RING_PACKED 34
#define KIT_BIT(n) (1ULL << (n))

/* Device status (§2.1). */
#define KIT_VIRTIO_S_ACK 1
#define KIT_VIRTIO_S_DRIVER 2
#define KIT_VIRTIO_S_DRIVER_OK 4
#define KIT_VIRTIO_S_FEATURES_OK 8
#define KIT_VIRTIO_S_NEEDS_RESET 64
#define KIT_VIRTIO_S_FAILED 128

/* Descriptor flags, shared by split and packed layouts (§2.7.5, §2.8.13). */
#define KIT_VRING_DESC_F_NEXT 1
#define KIT_VRING_DESC_F_WRITE 2
#define KIT_VRING_DESC_F_INDIRECT 4
#define KIT_VRING_PACKED_F_AVAIL (1u << 7)
#define KIT_VRING_PACKED_F_USED (1u << 15)
/* Split: used->flags / avail->flags (§2.7.7, §2.7.10). */
#define KIT_VRING_USED_F_NO_NOTIFY 1
#define KIT_VRING_AVAIL_F_NO_INTERRUPT 1
/* Packed event suppression flags (§2.8.10). */
#define KIT_VRING_EVENT_ENABLE 0
#define KIT_VRING_EVENT_DISABLE 1
#define KIT_VRING_EVENT_DESC 2

/* Most descriptors one buffer may use (direct chain or indirect table). */
#define KIT_VQ_MAX_SG 8

struct kit_vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct kit_vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct kit_vring_pdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct kit_vring_event {
	uint16_t off_wrap;
	uint16_t flags;
};

struct kit_sg {
	uint64_t addr;
	uint32_t len;
	bool write; /* device-writable */
};

struct kit_vq {
	uint16_t index;
	uint16_t size;
	bool packed;
	bool event_idx;
	bool indirect;       /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint64_t notify;     /* address of this queue's notify register */
	uint16_t num_free;   /* descriptors free in the ring */
	uint16_t added;      /* since the last kick: buffers (split), descs (packed) */
	/* Per buffer id: the caller's cookie and the descriptors it holds. */
	void **cookie;
	uint16_t *ndesc;
	/* Indirect tables, KIT_VQ_MAX_SG entries per buffer id, in the ring's
	 * descriptor layout (struct kit_vring_pdesc when packed). */
	struct kit_vring_desc *itables;

	/* Split ring (§2.7). */
	struct kit_vring_desc *desc;
	volatile uint16_t *avail_flags;
	volatile uint16_t *avail_idx_p;
	volatile uint16_t *avail_ring;
	volatile uint16_t *used_event;   /* avail->ring[size] (EVENT_IDX) */
	volatile uint16_t *used_flags;
	volatile uint16_t *used_idx_p;
	volatile struct kit_vring_used_elem *used_ring;
	volatile uint16_t *avail_event;  /* used->ring[size] (EVENT_IDX) */
	uint16_t free_head;
	uint16_t avail_idx;              /* last published avail->idx */
	uint16_t last_used;

	/* Packed ring (§2.8). */
	volatile struct kit_vring_pdesc *pdesc;
	volatile struct kit_vring_event *drv_event; /* driver area */
	volatile struct kit_vring_event *dev_event; /* device area */
	uint16_t next_avail;
	uint16_t next_used;
	bool avail_wrap;
	bool used_wrap;
	uint16_t *id_free;         /* stack of free buffer ids */
	uint16_t id_top;

	/* Statistics: notifications written and avoided. */
	uint64_t kicks;
	uint64_t kicks_avoided;
};

struct kit_virtio {
	struct kit_pci_dev *pci;
	uint64_t common;
	uint64_t notify_base;
	uint32_t notify_mult;
	uint32_t notify_len;
	uint64_t isr;
	uint64_t device;
	uint32_t device_len;
	uint64_t offered;   /* device features */
	uint64_t features;  /* negotiated */
	uint16_t num_queues;
};

/* ---- virtio.c: the PCI transport ---- */
/*
 * Find a virtio function of the given modern id (or its transitional id,
 * accepted only if it carries the modern capabilities) and map its
 * structures. Returns 0, or -1 with *reason set ("no-device", "no-caps").
 */
int kit_virtio_find(uint16_t modern_id, uint16_t trans_id,
		    struct kit_virtio *v, const char **reason);
/* Write status 0 and wait (bounded) until the device reads back 0. */
int kit_virtio_reset(struct kit_virtio *v);
uint8_t kit_virtio_status(const struct kit_virtio *v);
/*
 * ACKNOWLEDGE, DRIVER, then offer `required | (optional & offered)`;
 * VERSION_1 is always required. -1 with *reason: "missing-feature" (a
 * required bit not offered), "features-refused" (FEATURES_OK did not stick).
 */
int kit_virtio_negotiate(struct kit_virtio *v, uint64_t required,
			 uint64_t optional, const char **reason);
/*
 * Allocate and program queue `index` with `size` entries (0: the device's
 * maximum, capped at 256), packed or split as negotiated; interrupts
 * suppressed, MSI-X vector NO_VECTOR, queue enabled.
 */
int kit_virtio_setup_vq(struct kit_virtio *v, struct kit_vq *vq,
			uint16_t index, uint16_t size, const char **reason);
void kit_virtio_driver_ok(struct kit_virtio *v);
/* Device config space (§4.1.4.6), read under config_generation. */
uint64_t kit_virtio_cfg_read(const struct kit_virtio *v, unsigned int off,
			     unsigned int width);
/* Wait up to ms for `bits` in device_status; true if seen. */
bool kit_virtio_wait_status(const struct kit_virtio *v, uint8_t bits,
			    uint64_t ms);

/* ---- virtq.c: driver-side rings ---- */
/*
 * Make a buffer of n segments (readable ones first, then writable, §2.7.4.2)
 * available. With use_indirect (and INDIRECT_DESC negotiated) the segments
 * go into this buffer's indirect table and take one ring slot. Returns 0,
 * or -1 when the ring has no room (nothing is changed then).
 */
int kit_vq_add(struct kit_vq *vq, const struct kit_sg *sg, unsigned int n,
	       bool use_indirect, void *cookie);
/* Room for a buffer of n segments? */
bool kit_vq_has_room(const struct kit_vq *vq, unsigned int n,
		     bool use_indirect);
/*
 * Publish what was added and notify the device if it asked for it (or
 * always with force). Returns true if a notification was written.
 */
bool kit_vq_kick(struct kit_vq *vq, bool force);
/* Next used buffer's cookie (and bytes written in *len), or NULL. */
void *kit_vq_get_used(struct kit_vq *vq, uint32_t *len);
/* Write the queue's notify register (no suppression check). */
void kit_vq_notify(struct kit_vq *vq);
/*
 * Hostile tests: publish raw descriptors, bypassing every check.
 * Split: copy n descriptors to desc[first..], then make `head` available.
 * Packed: write n descriptors at the next positions (with the right
 * avail/used bits; first written last). Neither updates free accounting:
 * the queue must be reset afterwards.
 */
void kit_vq_raw_split(struct kit_vq *vq, const struct kit_vring_desc *d,
		      unsigned int first, unsigned int n, uint16_t head);
void kit_vq_raw_packed(struct kit_vq *vq, const struct kit_vring_pdesc *d,
		       unsigned int n);
/*
 * Allocate a ring of `size` entries and its driver state (indirect tables
 * only when `indirect`), with interrupts suppressed. -1: out of memory.
 * The ring's three areas are then at kit_vq_areas().
 */
int kit_vq_init(struct kit_vq *vq, uint16_t index, uint16_t size, bool packed,
		bool event_idx, bool indirect);
/* Descriptor area, driver area, device area (§2.6) of an initialised vq. */
void kit_vq_areas(const struct kit_vq *vq, uint64_t *desc, uint64_t *driver,
		  uint64_t *device);

/* ---- virtio_blk.c ---- */
#define KIT_VIRTIO_BLK_T_IN 0
#define KIT_VIRTIO_BLK_T_OUT 1
#define KIT_VIRTIO_BLK_T_FLUSH 4
#define KIT_VIRTIO_BLK_T_GET_ID 8
#define KIT_VIRTIO_BLK_ID_BYTES 20
#define KIT_VIRTIO_BLK_S_OK 0

struct kit_vblk_cfg {
	bool packed;
	bool event_idx;
	bool indirect;
	uint16_t qsize; /* 0: device max capped at 256 */
};

struct kit_vblk {
	struct kit_virtio v;
	struct kit_vq vq;
	uint64_t capacity;  /* 512-byte sectors */
	uint32_t size_max;  /* max bytes per segment (0: no limit) */
	uint32_t seg_max;   /* max data segments per request (0: no limit) */
	bool flush;         /* VIRTIO_BLK_F_FLUSH negotiated */
	bool use_indirect;
	/* Per-request header/status slots, indexed like ring entries. */
	struct kit_vblk_req *reqs;
	uint16_t nreqs;
	uint16_t *req_free;
	uint16_t req_top;
};

int kit_vblk_open(struct kit_vblk *b, const struct kit_vblk_cfg *cfg,
		  const char **reason);
/* Largest data length one request can carry (segment limits, <= 1 MiB). */
int kit_vblk_max_bytes(const struct kit_vblk *b, uint32_t *out);
/*
 * Queue one request (type, sector, data buffer of len bytes, split into
 * segments of at most size_max). Returns 0, -1 when the ring is full, -2
 * when len needs more segments than a request may have. `tag` is
 * returned by kit_vblk_complete.
 */
int kit_vblk_submit(struct kit_vblk *b, uint32_t type, uint64_t sector,
		    void *buf, uint32_t len, uint64_t tag);
/* Notify the device (when it asks). */
void kit_vblk_kick(struct kit_vblk *b);
/* One completed request: 1 and its tag/status, or 0 if none yet. */
int kit_vblk_complete(struct kit_vblk *b, uint64_t *tag, uint8_t *status);

#endif
