/* SPDX-License-Identifier: MIT */
/*
 * A driver-side virtqueue for tests: builds split (virtio 1.2 §2.7) or
 * packed (§2.8) rings in a real gmem, adds buffers (direct or through an
 * indirect table), reaps used buffers and answers "would the driver kick /
 * does the device want an interrupt" the way a Linux driver decides.
 * Header-only so any test (and the virtio-devs tests) can include it.
 *
 * Memory: the rings live at the GPAs given to drv_vq_init(); indirect
 * tables are carved from [ind_gpa, ind_gpa + size * DRV_IND_STRIDE).
 */
#ifndef IOVMM_TEST_VQ_DRIVER_H
#define IOVMM_TEST_VQ_DRIVER_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/gmem.h"
#include "emul-devices/virtio/virtqueue.h"

#define DRV_IND_STRIDE 4096 /* one indirect table slot per buffer id */
#define DRV_MAX_SEGS 64

struct drv_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

struct drv_vq {
	struct gmem *mem;
	struct virtq_config cfg;
	uint64_t ind_gpa;
	/* split */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t free_head, num_free;
	uint16_t avail_idx, last_used;
	uint16_t kick_old;          /* avail idx at the last kick decision */
	/* packed */
	struct virtq_pdesc *pdesc;
	struct virtq_event *drv_evt, *dev_evt;
	uint16_t next_avail, next_used;
	bool avail_wrap, used_wrap;
	uint16_t *ndescs;           /* per buffer id, packed */
	uint16_t *free_ids;         /* packed id stack */
	uint16_t nfree_ids;
	uint16_t inflight;          /* packed: ring slots not yet used */
	uint16_t avail_total;       /* packed: slots made available, mod 2^16 */
	uint16_t *chain_len;        /* split: descriptors per head */
};

static inline void *drv_ptr(struct drv_vq *d, uint64_t gpa, uint64_t len)
{
	return gmem_ptr(d->mem, gpa, len);
}

static inline void drv_vq_free(struct drv_vq *d)
{
	free(d->ndescs);
	free(d->free_ids);
	free(d->chain_len);
	d->ndescs = d->free_ids = d->chain_len = NULL;
}

/* Lay out a fresh queue (the memory is zeroed) as a driver does. */
static inline int drv_vq_init(struct drv_vq *d, struct gmem *mem,
			      const struct virtq_config *cfg, uint64_t ind_gpa)
{
	uint16_t n = cfg->size;

	memset(d, 0, sizeof(*d));
	d->mem = mem;
	d->cfg = *cfg;
	d->ind_gpa = ind_gpa;
	d->ndescs = calloc(n, sizeof(*d->ndescs));
	d->free_ids = calloc(n, sizeof(*d->free_ids));
	d->chain_len = calloc(n, sizeof(*d->chain_len));
	if (!d->ndescs || !d->free_ids || !d->chain_len)
		return -ENOMEM;
	gmem_zero(mem, cfg->desc_gpa, 16ULL * n);
	if (cfg->packed) {
		gmem_zero(mem, cfg->avail_gpa, 4);
		gmem_zero(mem, cfg->used_gpa, 4);
		d->pdesc = drv_ptr(d, cfg->desc_gpa, 16ULL * n);
		d->drv_evt = drv_ptr(d, cfg->avail_gpa, 4);
		d->dev_evt = drv_ptr(d, cfg->used_gpa, 4);
		d->avail_wrap = d->used_wrap = true;
		for (uint16_t i = 0; i < n; i++)
			d->free_ids[i] = (uint16_t)(n - 1 - i);
		d->nfree_ids = n;
	} else {
		gmem_zero(mem, cfg->avail_gpa, virtq_split_avail_size(n));
		gmem_zero(mem, cfg->used_gpa, virtq_split_used_size(n));
		d->desc = drv_ptr(d, cfg->desc_gpa, 16ULL * n);
		d->avail = drv_ptr(d, cfg->avail_gpa, virtq_split_avail_size(n));
		d->used = drv_ptr(d, cfg->used_gpa, virtq_split_used_size(n));
		for (uint16_t i = 0; i + 1 < n; i++)
			d->desc[i].next = (uint16_t)(i + 1);
		d->free_head = 0;
		d->num_free = n;
	}
	return 0;
}

static inline uint16_t drv_seg_flags(const struct drv_seg *s)
{
	return s->write ? VIRTQ_DESC_F_WRITE : 0;
}

/* Fill an indirect table for buffer `slot`; returns its gpa. */
static inline uint64_t drv_fill_indirect(struct drv_vq *d, uint16_t slot,
					 const struct drv_seg *segs, unsigned n)
{
	uint64_t gpa = d->ind_gpa + (uint64_t)slot * DRV_IND_STRIDE;
	struct virtq_desc *t = drv_ptr(d, gpa, 16ULL * n);
	struct virtq_pdesc *pt = (struct virtq_pdesc *)t;

	for (unsigned i = 0; i < n; i++) {
		if (d->cfg.packed) {
			/* §2.8.7: consecutive entries, only WRITE is used */
			pt[i] = (struct virtq_pdesc){
				.addr = segs[i].gpa, .len = segs[i].len,
				.flags = drv_seg_flags(&segs[i]),
			};
			continue;
		}
		t[i] = (struct virtq_desc){
			.addr = segs[i].gpa, .len = segs[i].len,
			.flags = drv_seg_flags(&segs[i]) |
				 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0),
			.next = (uint16_t)(i + 1),
		};
	}
	return gpa;
}

static inline int drv_split_add(struct drv_vq *d, const struct drv_seg *segs,
				unsigned n, bool indirect, uint16_t *head_out)
{
	unsigned need = indirect ? 1 : n;
	uint16_t head = d->free_head, i = head;
	uint16_t size = d->cfg.size;

	if (n == 0 || n > DRV_MAX_SEGS || need > d->num_free)
		return -ENOSPC;
	if (indirect) {
		d->desc[i].addr = drv_fill_indirect(d, head, segs, n);
		d->desc[i].len = 16 * n;
		d->desc[i].flags = VIRTQ_DESC_F_INDIRECT;
		i = d->desc[i].next;
	} else {
		for (unsigned k = 0; k < n; k++) {
			d->desc[i].addr = segs[k].gpa;
			d->desc[i].len = segs[k].len;
			d->desc[i].flags = drv_seg_flags(&segs[k]) |
					   (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
			i = d->desc[i].next;
		}
	}
	d->free_head = i;
	d->num_free -= need;
	d->chain_len[head] = (uint16_t)need;
	d->avail->ring[d->avail_idx & (size - 1)] = head;
	d->avail_idx++;
	__atomic_store_n(&d->avail->idx, d->avail_idx, __ATOMIC_RELEASE);
	*head_out = head;
	return 0;
}

static inline int drv_packed_add(struct drv_vq *d, const struct drv_seg *segs,
				 unsigned n, bool indirect, uint16_t *id_out)
{
	unsigned need = indirect ? 1 : n;
	uint16_t size = d->cfg.size, id, head = d->next_avail, head_flags = 0;
	uint16_t i = d->next_avail;
	bool wrap = d->avail_wrap;

	if (n == 0 || n > DRV_MAX_SEGS || !d->nfree_ids ||
	    d->inflight + need > size)
		return -ENOSPC;
	id = d->free_ids[--d->nfree_ids];
	for (unsigned k = 0; k < need; k++) {
		uint16_t flags = wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
		struct virtq_pdesc *p = &d->pdesc[i];

		if (indirect) {
			p->addr = drv_fill_indirect(d, id, segs, n);
			p->len = 16 * n;
			flags |= VIRTQ_DESC_F_INDIRECT;
		} else {
			p->addr = segs[k].gpa;
			p->len = segs[k].len;
			flags |= drv_seg_flags(&segs[k]);
			if (k + 1 < need)
				flags |= VIRTQ_DESC_F_NEXT;
		}
		p->id = id;
		if (k == 0)
			head_flags = flags; /* published last */
		else
			__atomic_store_n(&p->flags, flags, __ATOMIC_RELEASE);
		if (++i == size) {
			i = 0;
			wrap = !wrap;
		}
	}
	d->ndescs[id] = (uint16_t)need;
	d->inflight += need;
	d->avail_total += need;
	d->next_avail = i;
	d->avail_wrap = wrap;
	__atomic_store_n(&d->pdesc[head].flags, head_flags, __ATOMIC_RELEASE);
	*id_out = id;
	return 0;
}

/* Add a buffer and make it available. *id_out: split head / packed id. */
static inline int drv_add(struct drv_vq *d, const struct drv_seg *segs,
			  unsigned n, bool indirect, uint16_t *id_out)
{
	return d->cfg.packed ? drv_packed_add(d, segs, n, indirect, id_out)
			     : drv_split_add(d, segs, n, indirect, id_out);
}

/* Reap one used buffer: 0 and its id/len, or -EAGAIN. */
static inline int drv_get_used(struct drv_vq *d, uint16_t *id, uint32_t *len)
{
	if (!d->cfg.packed) {
		uint16_t head;

		if (__atomic_load_n(&d->used->idx, __ATOMIC_ACQUIRE) == d->last_used)
			return -EAGAIN;
		head = (uint16_t)d->used->ring[d->last_used & (d->cfg.size - 1)].id;
		*id = head;
		*len = d->used->ring[d->last_used & (d->cfg.size - 1)].len;
		d->last_used++;
		if (head < d->cfg.size && d->chain_len[head]) {
			/* Return the chain to the free list (LIFO). */
			uint16_t tail = head;

			for (uint16_t k = 1; k < d->chain_len[head]; k++)
				tail = d->desc[tail].next;
			d->desc[tail].next = d->free_head;
			d->free_head = head;
			d->num_free += d->chain_len[head];
			d->chain_len[head] = 0;
		}
		return 0;
	}
	{
		struct virtq_pdesc *p = &d->pdesc[d->next_used];
		uint16_t f = __atomic_load_n(&p->flags, __ATOMIC_ACQUIRE);
		bool a = f & VIRTQ_DESC_F_AVAIL, u = f & VIRTQ_DESC_F_USED;

		if (a != d->used_wrap || u != d->used_wrap)
			return -EAGAIN;
		*id = p->id;
		*len = p->len;
		if (*id >= d->cfg.size || !d->ndescs[*id])
			return -EINVAL;
		d->next_used += d->ndescs[*id];
		d->inflight -= d->ndescs[*id];
		if (d->next_used >= d->cfg.size) {
			d->next_used -= d->cfg.size;
			d->used_wrap = !d->used_wrap;
		}
		d->ndescs[*id] = 0;
		d->free_ids[d->nfree_ids++] = *id;
		return 0;
	}
}

/*
 * Split, after adding buffers: would the driver kick now? used->flags or
 * avail_event (§2.7.10), against the avail idx of the previous decision.
 */
static inline bool drv_split_kick_needed(struct drv_vq *d)
{
	uint16_t old = d->kick_old, new_idx = d->avail_idx;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	d->kick_old = new_idx;
	if (d->cfg.event_idx)
		return virtq_need_event(
			__atomic_load_n((uint16_t *)&d->used->ring[d->cfg.size],
					__ATOMIC_RELAXED),
			new_idx, old);
	return !(d->used->flags & VIRTQ_USED_F_NO_NOTIFY);
}

/*
 * Packed, after adding buffers: would the driver kick now? The device
 * event suppression structure (§2.8.10); in DESC mode, kick when the slot
 * (off, wrap) was made available since the last decision. Positions are
 * counted in slots made available (avail_total), as the device does.
 */
static inline bool drv_packed_kick_needed(struct drv_vq *d)
{
	uint16_t old = d->kick_old, flags, ow, off;
	uint32_t back;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	d->kick_old = d->avail_total;
	flags = __atomic_load_n(&d->dev_evt->flags, __ATOMIC_RELAXED);
	if (flags != VIRTQ_EVENT_F_DESC)
		return flags != VIRTQ_EVENT_F_DISABLE;
	ow = __atomic_load_n(&d->dev_evt->off_wrap, __ATOMIC_RELAXED);
	off = ow & 0x7fff;
	if (!!(ow >> 15) == d->avail_wrap)
		back = (uint32_t)d->next_avail - off;
	else
		back = (uint32_t)d->next_avail + d->cfg.size - off;
	return virtq_need_event((uint16_t)(d->avail_total - back),
				d->avail_total, old);
}

static inline bool drv_kick_needed(struct drv_vq *d)
{
	return d->cfg.packed ? drv_packed_kick_needed(d)
			     : drv_split_kick_needed(d);
}

/* Split: the used_event the driver publishes (EVENT_IDX). */
static inline void drv_split_set_used_event(struct drv_vq *d, uint16_t v)
{
	__atomic_store_n(&d->avail->ring[d->cfg.size], v, __ATOMIC_RELAXED);
}

static inline void drv_split_set_no_interrupt(struct drv_vq *d, bool on)
{
	d->avail->flags = on ? VIRTQ_AVAIL_F_NO_INTERRUPT : 0;
}

static inline void drv_packed_set_event(struct drv_vq *d, uint16_t flags,
					uint16_t off, bool wrap)
{
	d->drv_evt->off_wrap = (uint16_t)(off | (wrap ? 0x8000 : 0));
	__atomic_store_n(&d->drv_evt->flags, flags, __ATOMIC_RELEASE);
}

#endif
