/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk driver (virtio 1.2 §5.2), poll mode, one request queue.
 * A request is a device-readable 16-byte header {type, reserved, sector},
 * the data segments (device-readable for OUT, writable for IN/GET_ID) and
 * a device-writable status byte (§5.2.6); with indirect=1 the whole chain
 * goes into the request's indirect table. Sectors are always 512 bytes.
 */
#include "guest/virtio.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VBLK_CFG_CAPACITY 0
#define VBLK_CFG_SIZE_MAX 8
#define VBLK_CFG_SEG_MAX 12
#define VBLK_STATUS_UNSET 0xff

struct kit_vblk_req {
	/* struct virtio_blk_req's header, as the device reads it. */
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
	/* Written by the device; 0xff until then. */
	uint8_t status;
	uint8_t pad[7];
	uint64_t tag;
};

static int vblk_negotiate(struct kit_vblk *b, const struct kit_vblk_cfg *cfg,
			  const char **reason)
{
	uint64_t req = 0, opt = KIT_BIT(VIRTIO_BLK_F_SIZE_MAX) |
				KIT_BIT(VIRTIO_BLK_F_SEG_MAX) |
				KIT_BIT(VIRTIO_BLK_F_BLK_SIZE) |
				KIT_BIT(VIRTIO_BLK_F_FLUSH);

	if (cfg->packed)
		req |= KIT_BIT(KIT_VIRTIO_F_RING_PACKED);
	if (cfg->indirect)
		req |= KIT_BIT(KIT_VIRTIO_F_INDIRECT_DESC);
	if (cfg->event_idx)
		opt |= KIT_BIT(KIT_VIRTIO_F_EVENT_IDX);
	if (kit_virtio_negotiate(&b->v, req, opt, reason) == 0)
		return 0;
	if (b->v.offered && cfg->indirect &&
	    !(b->v.offered & KIT_BIT(KIT_VIRTIO_F_INDIRECT_DESC)))
		*reason = "no-indirect";
	return -1;
}

static void vblk_read_config(struct kit_vblk *b)
{
	uint64_t f = b->v.features;

	b->capacity = kit_virtio_cfg_read(&b->v, VBLK_CFG_CAPACITY, 8);
	b->size_max = f & KIT_BIT(VIRTIO_BLK_F_SIZE_MAX)
			      ? (uint32_t)kit_virtio_cfg_read(
					&b->v, VBLK_CFG_SIZE_MAX, 4)
			      : 0;
	b->seg_max = f & KIT_BIT(VIRTIO_BLK_F_SEG_MAX)
			     ? (uint32_t)kit_virtio_cfg_read(&b->v,
							     VBLK_CFG_SEG_MAX, 4)
			     : 0;
	b->flush = f & KIT_BIT(VIRTIO_BLK_F_FLUSH);
}

int kit_vblk_open(struct kit_vblk *b, const struct kit_vblk_cfg *cfg,
		  const char **reason)
{
	memset(b, 0, sizeof(*b));
	if (kit_virtio_find(KIT_VIRTIO_ID_BLK_MODERN, KIT_VIRTIO_ID_BLK_TRANS,
			    &b->v, reason) < 0 ||
	    vblk_negotiate(b, cfg, reason) < 0)
		return -1;
	vblk_read_config(b);
	b->use_indirect = cfg->indirect;
	if (kit_virtio_setup_vq(&b->v, &b->vq, 0, cfg->qsize, reason) < 0)
		goto fail;
	b->nreqs = b->vq.size;
	b->reqs = kit_alloc(sizeof(*b->reqs) * b->nreqs, 64);
	b->req_free = kit_alloc(2ULL * b->nreqs, 64);
	if (!b->reqs || !b->req_free) {
		*reason = "no-memory";
		goto fail;
	}
	for (uint16_t i = 0; i < b->nreqs; i++)
		b->req_free[i] = i;
	b->req_top = b->nreqs;
	kit_virtio_driver_ok(&b->v);
	return 0;
fail:
	kit_virtio_reset(&b->v);
	return -1;
}

/* Data segments for len bytes: size_max bounds each (§5.2.4). */
static unsigned int vblk_segments(const struct kit_vblk *b, uint32_t len)
{
	if (!len)
		return 0;
	if (!b->size_max)
		return 1;
	return (unsigned int)((len + (uint64_t)b->size_max - 1) / b->size_max);
}

int kit_vblk_max_bytes(const struct kit_vblk *b, uint32_t *out)
{
	unsigned int segs = KIT_VQ_MAX_SG - 2;
	uint64_t max;

	if (b->seg_max && b->seg_max < segs)
		segs = b->seg_max;
	max = b->size_max ? (uint64_t)b->size_max * segs : 1ULL << 20;
	if (max > (1ULL << 20))
		max = 1ULL << 20;
	*out = (uint32_t)(max & ~511ULL);
	return *out ? 0 : -1;
}

int kit_vblk_submit(struct kit_vblk *b, uint32_t type, uint64_t sector,
		    void *buf, uint32_t len, uint64_t tag)
{
	struct kit_sg sg[KIT_VQ_MAX_SG];
	unsigned int segs = vblk_segments(b, len), n = 0;
	bool dev_writes = type != KIT_VIRTIO_BLK_T_OUT;
	uint64_t a = (uint64_t)(uintptr_t)buf;
	struct kit_vblk_req *r;

	if (segs + 2 > KIT_VQ_MAX_SG)
		return -2;
	if (!b->req_top || !kit_vq_has_room(&b->vq, segs + 2, b->use_indirect))
		return -1;
	r = &b->reqs[b->req_free[--b->req_top]];
	r->type = type;
	r->reserved = 0;
	r->sector = sector;
	r->status = VBLK_STATUS_UNSET;
	r->tag = tag;
	sg[n++] = (struct kit_sg){ (uint64_t)(uintptr_t)r, 16, false };
	for (uint32_t left = len; left;) {
		uint32_t l = b->size_max && left > b->size_max ? b->size_max
								: left;

		sg[n++] = (struct kit_sg){ a, l, dev_writes };
		a += l;
		left -= l;
	}
	sg[n++] = (struct kit_sg){ (uint64_t)(uintptr_t)&r->status, 1, true };
	kit_vq_add(&b->vq, sg, n, b->use_indirect, r);
	return 0;
}

void kit_vblk_kick(struct kit_vblk *b)
{
	kit_vq_kick(&b->vq, false);
}

int kit_vblk_complete(struct kit_vblk *b, uint64_t *tag, uint8_t *status)
{
	uint32_t len;
	struct kit_vblk_req *r = kit_vq_get_used(&b->vq, &len);

	if (!r)
		return 0;
	*tag = r->tag;
	*status = r->status;
	b->req_free[b->req_top++] = (uint16_t)(r - b->reqs);
	return 1;
}
