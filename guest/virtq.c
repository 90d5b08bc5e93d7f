/* SPDX-License-Identifier: MIT */
/*
 * Driver-side virtqueues: split (virtio 1.2 §2.7) and packed (§2.8), with
 * indirect descriptors (§2.7.5.3, §2.8.19) and EVENT_IDX (§2.7.10, §2.8.10).
 *
 * Poll mode: the driver never wants an interrupt. Split rings set
 * VRING_AVAIL_F_NO_INTERRUPT and, with EVENT_IDX (where the device ignores
 * that flag), keep used_event half the index space ahead of the last used
 * entry consumed: the device's "new used entries" window is never wider
 * than the ring, so it can never contain the event index. Packed rings set
 * the driver event suppression flags to DISABLE.
 *
 * The device model is another host thread: x86 TSO orders stores and loads
 * among themselves; kit_mb() is needed only between publishing an index
 * and reading the device's suppression state (§2.7.13.3 / §2.8.21.3).
 */
#include "guest/virtio.h"

#define VQ_SPLIT_USED_ALIGN 64
#define VQ_PACKED_EVENT_WRAP 15

/* §2.7.10: the event index lies in the window (old, new]. */
static bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static uint64_t split_avail_off(uint16_t size)
{
	return 16ULL * size;
}

static uint64_t split_used_off(uint16_t size)
{
	return KIT_ALIGN_UP(split_avail_off(size) + 6 + 2ULL * size,
			    VQ_SPLIT_USED_ALIGN);
}

static uint64_t vq_ring_bytes(uint16_t size, bool packed)
{
	if (packed)
		return 16ULL * size + 8;
	return split_used_off(size) + 6 + 8ULL * size;
}

static void vq_init_split(struct kit_vq *vq, uint8_t *ring)
{
	uint16_t n = vq->size;
	uint8_t *avail = ring + split_avail_off(n);
	uint8_t *used = ring + split_used_off(n);

	vq->desc = (struct kit_vring_desc *)ring;
	vq->avail_flags = (volatile uint16_t *)avail;
	vq->avail_idx_p = (volatile uint16_t *)(avail + 2);
	vq->avail_ring = (volatile uint16_t *)(avail + 4);
	vq->used_event = vq->avail_ring + n;
	vq->used_flags = (volatile uint16_t *)used;
	vq->used_idx_p = (volatile uint16_t *)(used + 2);
	vq->used_ring = (volatile struct kit_vring_used_elem *)(used + 4);
	vq->avail_event = (volatile uint16_t *)(used + 4 + 8ULL * n);
	for (uint16_t i = 0; i < n; i++)
		vq->desc[i].next = (uint16_t)(i + 1);
	vq->free_head = 0;
	*vq->avail_flags = KIT_VRING_AVAIL_F_NO_INTERRUPT;
	*vq->used_event = 0x8000;
}

static void vq_init_packed(struct kit_vq *vq, uint8_t *ring)
{
	vq->pdesc = (volatile struct kit_vring_pdesc *)ring;
	vq->drv_event = (volatile struct kit_vring_event *)(ring +
							      16ULL * vq->size);
	vq->dev_event = vq->drv_event + 1;
	vq->drv_event->flags = KIT_VRING_EVENT_DISABLE;
	/* §2.8.1: both wrap counters start at 1. */
	vq->avail_wrap = true;
	vq->used_wrap = true;
	for (uint16_t i = 0; i < vq->size; i++)
		vq->id_free[i] = (uint16_t)(vq->size - 1 - i);
	vq->id_top = vq->size;
}

int kit_vq_init(struct kit_vq *vq, uint16_t index, uint16_t size, bool packed,
		bool event_idx, bool indirect)
{
	uint8_t *ring;

	memset(vq, 0, sizeof(*vq));
	if (size == 0 || (!packed && (size & (size - 1))) || size > 32768)
		return -1;
	vq->index = index;
	vq->size = size;
	vq->packed = packed;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->num_free = size;
	ring = kit_alloc(vq_ring_bytes(size, packed), 4096);
	vq->cookie = kit_alloc(sizeof(void *) * size, 64);
	vq->ndesc = kit_alloc(sizeof(uint16_t) * size, 64);
	vq->id_free = kit_alloc(sizeof(uint16_t) * size, 64);
	if (indirect)
		vq->itables = kit_alloc(sizeof(struct kit_vring_desc) *
					KIT_VQ_MAX_SG * size, 64);
	if (!ring || !vq->cookie || !vq->ndesc || !vq->id_free ||
	    (indirect && !vq->itables))
		return -1;
	if (packed)
		vq_init_packed(vq, ring);
	else
		vq_init_split(vq, ring);
	return 0;
}

void kit_vq_areas(const struct kit_vq *vq, uint64_t *desc, uint64_t *driver,
		  uint64_t *device)
{
	if (vq->packed) {
		*desc = (uint64_t)(uintptr_t)vq->pdesc;
		*driver = (uint64_t)(uintptr_t)vq->drv_event;
		*device = (uint64_t)(uintptr_t)vq->dev_event;
		return;
	}
	*desc = (uint64_t)(uintptr_t)vq->desc;
	*driver = (uint64_t)(uintptr_t)vq->avail_flags;
	*device = (uint64_t)(uintptr_t)vq->used_flags;
}

bool kit_vq_has_room(const struct kit_vq *vq, unsigned int n,
		     bool use_indirect)
{
	unsigned int need = use_indirect && vq->indirect ? 1 : n;

	if (n == 0 || n > KIT_VQ_MAX_SG)
		return false;
	if (vq->packed && vq->id_top == 0)
		return false;
	return vq->num_free >= need;
}

/*
 * Fill buffer id's indirect table; returns its single ring descriptor.
 * The table uses the ring's own descriptor layout: split entries chain
 * with NEXT/next (§2.7.5.3), packed entries are struct pvirtq_desc and
 * are simply consecutive (§2.8.19).
 */
static struct kit_vring_desc vq_indirect(struct kit_vq *vq, uint16_t id,
					 const struct kit_sg *sg,
					 unsigned int n)
{
	struct kit_vring_desc *t = &vq->itables[(uint64_t)id * KIT_VQ_MAX_SG];
	struct kit_vring_desc d;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t w = sg[i].write ? KIT_VRING_DESC_F_WRITE : 0;

		if (vq->packed) {
			struct kit_vring_pdesc *p = (struct kit_vring_pdesc *)&t[i];

			*p = (struct kit_vring_pdesc){ sg[i].addr, sg[i].len, 0,
						       w };
			continue;
		}
		t[i].addr = sg[i].addr;
		t[i].len = sg[i].len;
		t[i].flags = (uint16_t)(w | (i + 1 < n ? KIT_VRING_DESC_F_NEXT
						       : 0));
		t[i].next = (uint16_t)(i + 1);
	}
	d.addr = (uint64_t)(uintptr_t)t;
	d.len = (uint32_t)(n * sizeof(*t));
	d.flags = KIT_VRING_DESC_F_INDIRECT;
	d.next = 0;
	return d;
}

static void vq_add_split(struct kit_vq *vq, const struct kit_sg *sg,
			 unsigned int n, bool ind, void *cookie)
{
	uint16_t head = vq->free_head, i = head;

	if (ind) {
		struct kit_vring_desc d = vq_indirect(vq, head, sg, n);

		vq->desc[head].addr = d.addr;
		vq->desc[head].len = d.len;
		vq->desc[head].flags = d.flags;
		i = vq->desc[head].next;
		n = 1;
	} else {
		/* The free list's links double as the chain's links. */
		for (unsigned int k = 0; k < n; k++) {
			vq->desc[i].addr = sg[k].addr;
			vq->desc[i].len = sg[k].len;
			vq->desc[i].flags = (uint16_t)(
				(sg[k].write ? KIT_VRING_DESC_F_WRITE : 0) |
				(k + 1 < n ? KIT_VRING_DESC_F_NEXT : 0));
			i = vq->desc[i].next;
		}
	}
	vq->free_head = i;
	vq->num_free = (uint16_t)(vq->num_free - n);
	vq->ndesc[head] = (uint16_t)n;
	vq->cookie[head] = cookie;
	vq->avail_ring[vq->avail_idx & (vq->size - 1)] = head;
	/* §2.7.13.2: the ring entry before the index that publishes it. */
	kit_wmb();
	vq->avail_idx++;
	*vq->avail_idx_p = vq->avail_idx;
	vq->added++;
}

static uint16_t packed_avail_flags(const struct kit_vq *vq)
{
	return vq->avail_wrap ? KIT_VRING_PACKED_F_AVAIL
			      : KIT_VRING_PACKED_F_USED;
}

static void packed_advance(struct kit_vq *vq)
{
	if (++vq->next_avail == vq->size) {
		vq->next_avail = 0;
		vq->avail_wrap = !vq->avail_wrap;
	}
}

static void vq_add_packed(struct kit_vq *vq, const struct kit_sg *sg,
			  unsigned int n, bool ind, void *cookie)
{
	uint16_t id = vq->id_free[--vq->id_top];
	uint16_t head = vq->next_avail, head_flags = 0;
	volatile struct kit_vring_pdesc *d;

	if (ind) {
		struct kit_vring_desc t = vq_indirect(vq, id, sg, n);

		d = &vq->pdesc[head];
		d->addr = t.addr;
		d->len = t.len;
		d->id = id;
		head_flags = (uint16_t)(t.flags | packed_avail_flags(vq));
		packed_advance(vq);
		n = 1;
	} else {
		for (unsigned int k = 0; k < n; k++) {
			uint16_t f = (uint16_t)(
				(sg[k].write ? KIT_VRING_DESC_F_WRITE : 0) |
				(k + 1 < n ? KIT_VRING_DESC_F_NEXT : 0) |
				packed_avail_flags(vq));

			d = &vq->pdesc[vq->next_avail];
			d->addr = sg[k].addr;
			d->len = sg[k].len;
			d->id = id;
			if (k == 0)
				head_flags = f;
			else
				d->flags = f;
			packed_advance(vq);
		}
	}
	vq->num_free = (uint16_t)(vq->num_free - n);
	vq->ndesc[id] = (uint16_t)n;
	vq->cookie[id] = cookie;
	/* Packed event offsets count descriptors, not buffers. */
	vq->added = (uint16_t)(vq->added + n);
	/* §2.8.21.1: the head's flags last, so the device sees a whole chain. */
	kit_wmb();
	vq->pdesc[head].flags = head_flags;
}

int kit_vq_add(struct kit_vq *vq, const struct kit_sg *sg, unsigned int n,
	       bool use_indirect, void *cookie)
{
	bool ind = use_indirect && vq->indirect;

	if (!kit_vq_has_room(vq, n, use_indirect))
		return -1;
	if (vq->packed)
		vq_add_packed(vq, sg, n, ind, cookie);
	else
		vq_add_split(vq, sg, n, ind, cookie);
	return 0;
}

void kit_vq_notify(struct kit_vq *vq)
{
	/* §4.1.4.4: without NOTIFICATION_DATA the queue index, 16 bits. */
	kit_mmio_write16(vq->notify, vq->index);
	vq->kicks++;
}

static bool vq_packed_need_kick(const struct kit_vq *vq)
{
	uint32_t snap = *(volatile uint32_t *)vq->dev_event;
	uint16_t flags = (uint16_t)(snap >> 16), off_wrap = (uint16_t)snap;
	uint16_t new_idx = vq->next_avail;
	uint16_t old = (uint16_t)(new_idx - vq->added), event;

	if (flags == KIT_VRING_EVENT_DISABLE)
		return false;
	if (flags != KIT_VRING_EVENT_DESC || !vq->event_idx)
		return true;
	/* §2.8.10: off_wrap's event index is in the ring of its wrap
	 * counter; shift it back a lap when that is not ours. */
	event = off_wrap & 0x7fff;
	if ((bool)(off_wrap >> VQ_PACKED_EVENT_WRAP) != vq->avail_wrap)
		event = (uint16_t)(event - vq->size);
	return vring_need_event(event, new_idx, old);
}

bool kit_vq_kick(struct kit_vq *vq, bool force)
{
	bool need;

	if (!vq->added && !force)
		return false;
	kit_mb();
	if (force)
		need = true;
	else if (vq->packed)
		need = vq_packed_need_kick(vq);
	else if (vq->event_idx)
		need = vring_need_event(*vq->avail_event, vq->avail_idx,
					(uint16_t)(vq->avail_idx - vq->added));
	else
		need = !(*vq->used_flags & KIT_VRING_USED_F_NO_NOTIFY);
	vq->added = 0;
	if (need)
		kit_vq_notify(vq);
	else
		vq->kicks_avoided++;
	return need;
}

static void *vq_get_used_split(struct kit_vq *vq, uint32_t *len)
{
	uint16_t slot, id, i;
	void *c;

	if (*vq->used_idx_p == vq->last_used)
		return NULL;
	/* §2.7.13: read the index, then the entries it covers. */
	kit_rmb();
	slot = vq->last_used & (vq->size - 1);
	id = (uint16_t)vq->used_ring[slot].id;
	*len = vq->used_ring[slot].len;
	if (vq->used_ring[slot].id >= vq->size || !vq->cookie[id])
		return NULL; /* device bug: leave the entry, caller times out */
	vq->last_used++;
	if (vq->event_idx)
		*vq->used_event = (uint16_t)(vq->last_used + 0x8000);
	/* Return the chain to the free list. */
	i = id;
	for (uint16_t k = 1; k < vq->ndesc[id]; k++)
		i = vq->desc[i].next;
	vq->desc[i].next = vq->free_head;
	vq->free_head = id;
	vq->num_free = (uint16_t)(vq->num_free + vq->ndesc[id]);
	c = vq->cookie[id];
	vq->cookie[id] = NULL;
	return c;
}

static void *vq_get_used_packed(struct kit_vq *vq, uint32_t *len)
{
	volatile struct kit_vring_pdesc *d = &vq->pdesc[vq->next_used];
	uint16_t flags = d->flags, id;
	bool avail = flags & KIT_VRING_PACKED_F_AVAIL;
	bool used = flags & KIT_VRING_PACKED_F_USED;
	void *c;

	/* §2.8.1: used when both bits equal the used wrap counter. */
	if (avail != used || used != vq->used_wrap)
		return NULL;
	kit_rmb();
	id = d->id;
	*len = d->len;
	if (id >= vq->size || !vq->cookie[id])
		return NULL;
	vq->next_used = (uint16_t)(vq->next_used + vq->ndesc[id]);
	if (vq->next_used >= vq->size) {
		vq->next_used = (uint16_t)(vq->next_used - vq->size);
		vq->used_wrap = !vq->used_wrap;
	}
	vq->num_free = (uint16_t)(vq->num_free + vq->ndesc[id]);
	vq->id_free[vq->id_top++] = id;
	c = vq->cookie[id];
	vq->cookie[id] = NULL;
	return c;
}

void *kit_vq_get_used(struct kit_vq *vq, uint32_t *len)
{
	return vq->packed ? vq_get_used_packed(vq, len)
			  : vq_get_used_split(vq, len);
}

void kit_vq_raw_split(struct kit_vq *vq, const struct kit_vring_desc *d,
		      unsigned int first, unsigned int n, uint16_t head)
{
	for (unsigned int i = 0; i < n && first + i < vq->size; i++)
		vq->desc[first + i] = d[i];
	vq->avail_ring[vq->avail_idx & (vq->size - 1)] = head;
	kit_wmb();
	vq->avail_idx++;
	*vq->avail_idx_p = vq->avail_idx;
	vq->added++;
}

void kit_vq_raw_packed(struct kit_vq *vq, const struct kit_vring_pdesc *d,
		       unsigned int n)
{
	uint16_t head = vq->next_avail, head_flags = 0;

	for (unsigned int i = 0; i < n; i++) {
		volatile struct kit_vring_pdesc *p = &vq->pdesc[vq->next_avail];
		uint16_t f = (uint16_t)((d[i].flags & ~(KIT_VRING_PACKED_F_AVAIL |
						      KIT_VRING_PACKED_F_USED)) |
					packed_avail_flags(vq));

		p->addr = d[i].addr;
		p->len = d[i].len;
		p->id = d[i].id;
		if (i == 0)
			head_flags = f;
		else
			p->flags = f;
		packed_advance(vq);
	}
	kit_wmb();
	if (n)
		vq->pdesc[head].flags = head_flags;
	vq->added = (uint16_t)(vq->added + n);
}
