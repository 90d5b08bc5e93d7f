// SPDX-License-Identifier: MIT
/*
 * Virtqueues, device side: split (virtio 1.2 §2.7) and packed (§2.8) rings.
 *
 * The ring areas are validated once in virtq_init() and kept as host
 * pointers (guest RAM is one mapping for the life of the VM). Every field
 * the driver writes is then read exactly once, with __atomic loads, into a
 * local copy that is validated before use: the guest may rewrite the ring
 * while we walk it, and a torn or changed value must at worst produce
 * -EINVAL, never an access outside RAM.
 *
 * Barriers (§2.7.13, §2.8.21):
 *   - split pop: avail->idx is read with acquire semantics before the ring
 *     entries and descriptors it publishes (the spec's read barrier);
 *   - packed pop: the head descriptor's flags are read with acquire before
 *     the rest of the chain;
 *   - push: used entry (split) or id/len (packed) first, then a release
 *     store of used->idx (split) or the descriptor flags (packed);
 *   - notification decisions and kick re-enabling use a full barrier,
 *     because they order our stores against our later loads (the driver
 *     does the mirror image: store idx, full barrier, load the event).
 */
#include <errno.h>
#include <string.h>

#include "core/util.h"
#include "emul-devices/virtio/virtqueue.h"

#define load_acq(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define load_rlx(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define store_rel(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define store_rlx(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define full_barrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)

/* A descriptor as copied out of guest memory (split and packed alike). */
struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next_or_id;
};

/* State of one chain walk, shared by split and packed. */
struct vq_walk {
	struct virtq_elem *elem;
	const struct gmem *mem;
	uint32_t ndesc;      /* descriptors seen, direct + indirect */
	uint64_t total;      /* bytes, out + in */
	bool seen_in;
};

/*
 * Copy one 16-byte descriptor with two single-copy-atomic 8-byte loads:
 * each half is read exactly once, whatever the guest does meanwhile.
 * Split: addr, len, flags (byte 12), next (byte 14).
 */
static inline struct vq_desc vq_read_desc(const void *slot)
{
	const uint64_t *w = slot;
	uint64_t hi = load_rlx(&w[1]);

	return (struct vq_desc){
		.addr = load_rlx(&w[0]),
		.len = (uint32_t)hi,
		.flags = (uint16_t)(hi >> 32),
		.next_or_id = (uint16_t)(hi >> 48),
	};
}

/* Packed: addr, len, id (byte 12), flags (byte 14). */
static inline struct vq_desc vq_read_pdesc(const void *slot)
{
	const uint64_t *w = slot;
	uint64_t hi = load_rlx(&w[1]);

	return (struct vq_desc){
		.addr = load_rlx(&w[0]),
		.len = (uint32_t)hi,
		.next_or_id = (uint16_t)(hi >> 32),
		.flags = (uint16_t)(hi >> 48),
	};
}

/* Add one segment to the element (§2.7.4.2: all reads before all writes). */
static int vq_add_seg(struct vq_walk *w, uint64_t addr, uint32_t len,
		      bool write)
{
	struct virtq_elem *e = w->elem;
	void *p;

	if (++w->ndesc > VIRTQ_MAX_SG)
		return -EINVAL;
	if (write)
		w->seen_in = true;
	else if (w->seen_in)
		return -EINVAL;
	w->total += len;
	if (w->total > VIRTQ_MAX_TOTAL)
		return -EINVAL;
	if (len == 0)
		return 0;
	p = gmem_ptr(w->mem, addr, len);
	if (!p)
		return -EINVAL;
	e->iov[e->nr_out + e->nr_in] = (struct iovec){ p, len };
	if (write) {
		e->nr_in++;
		e->in_len += len;
	} else {
		e->nr_out++;
		e->out_len += len;
	}
	return 0;
}

static void vq_walk_start(struct vq_walk *w, struct virtq *vq,
			  struct virtq_elem *elem)
{
	*w = (struct vq_walk){ .elem = elem, .mem = vq->mem };
	elem->nr_out = elem->nr_in = 0;
	elem->out_len = elem->in_len = 0;
}

/*
 * Map an indirect table (§2.7.5.3, §2.8.7): the feature must be negotiated,
 * INDIRECT and NEXT are exclusive, the length is a non-zero multiple of 16
 * and the table lies in RAM. Returns the table and its entry count.
 */
static const void *vq_indirect_table(struct virtq *vq, const struct vq_desc *d,
				     uint32_t *n)
{
	if (!vq->cfg.indirect || (d->flags & VIRTQ_DESC_F_NEXT))
		return NULL;
	if (d->len == 0 || d->len % 16 || d->len / 16 > VIRTQ_MAX_SG)
		return NULL;
	*n = d->len / 16;
	return gmem_ptr(vq->mem, d->addr, d->len);
}

/*
 * Split indirect table (§2.7.5.3.1): a chain inside the table through
 * next, starting at entry 0, never INDIRECT again.
 */
static int vq_split_indirect(struct virtq *vq, const struct vq_desc *id,
			     struct vq_walk *w)
{
	const struct virtq_desc *table;
	uint32_t n, i = 0, count = 0;
	struct vq_desc d;
	int ret;

	table = vq_indirect_table(vq, id, &n);
	if (!table)
		return -EINVAL;
	for (;;) {
		if (++count > n)
			return -EINVAL; /* a loop inside the table */
		d = vq_read_desc(&table[i]);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return -EINVAL;
		ret = vq_add_seg(w, d.addr, d.len, d.flags & VIRTQ_DESC_F_WRITE);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next_or_id;
		if (i >= n)
			return -EINVAL;
	}
}

static int vq_split_walk(struct virtq *vq, uint16_t head,
			 struct virtq_elem *elem)
{
	const struct virtq_desc *table = vq->desc;
	uint32_t i = head, count = 0;
	struct vq_walk w;
	struct vq_desc d;
	int ret;

	vq_walk_start(&w, vq, elem);
	for (;;) {
		if (i >= vq->cfg.size || ++count > vq->cfg.size)
			return -EINVAL;
		d = vq_read_desc(&table[i]);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return vq_split_indirect(vq, &d, &w);
		ret = vq_add_seg(&w, d.addr, d.len, d.flags & VIRTQ_DESC_F_WRITE);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next_or_id;
	}
}

static uint16_t *vq_avail_event(struct virtq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->cfg.size];
}

static uint16_t *vq_used_event(struct virtq *vq)
{
	return &vq->avail->ring[vq->cfg.size];
}

/*
 * The ring looks empty. With kicks wanted and EVENT_IDX, tell the driver
 * where we stopped (avail_event, §2.7.10) and look again after a full
 * barrier: a buffer added before the driver could see our avail_event is
 * caught here, any later one gets a kick.
 */
static bool vq_split_recheck(struct virtq *vq)
{
	if (!vq->cfg.event_idx || !vq->notify_enabled)
		return false;
	store_rlx(vq_avail_event(vq), vq->last_avail);
	full_barrier();
	vq->shadow_avail = load_acq(&vq->avail->idx);
	return vq->shadow_avail != vq->last_avail;
}

static int vq_split_pop(struct virtq *vq, struct virtq_elem *elem)
{
	uint16_t head;
	int ret;

	if (vq->last_avail == vq->shadow_avail) {
		/* acquire: ring entries are read after the index (§2.7.13.3) */
		vq->shadow_avail = load_acq(&vq->avail->idx);
		if (vq->shadow_avail == vq->last_avail &&
		    !vq_split_recheck(vq))
			return -EAGAIN;
	}
	/* The driver cannot have more than size buffers outstanding. */
	if ((uint16_t)(vq->shadow_avail - vq->last_avail) > vq->cfg.size)
		return -EINVAL;
	head = load_rlx(&vq->avail->ring[vq->last_avail & (vq->cfg.size - 1)]);
	ret = vq_split_walk(vq, head, elem);
	if (ret)
		return ret;
	elem->id = head;
	elem->ndescs = 1;
	vq->last_avail++;
	return 0;
}

/* §2.8.1: available when AVAIL matches the wrap counter and USED does not. */
static inline bool vq_pdesc_avail(uint16_t flags, bool wrap)
{
	return !!(flags & VIRTQ_DESC_F_AVAIL) == wrap &&
	       !!(flags & VIRTQ_DESC_F_USED) != wrap;
}

/*
 * Packed indirect table (§2.8.7): entries are consecutive; only WRITE is
 * meaningful, NEXT, INDIRECT and the buffer id are reserved and ignored.
 */
static int vq_packed_indirect(struct virtq *vq, const struct vq_desc *id,
			      struct vq_walk *w)
{
	const struct virtq_pdesc *table;
	uint32_t n;
	int ret;

	table = vq_indirect_table(vq, id, &n);
	if (!table)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		struct vq_desc d = vq_read_pdesc(&table[i]);

		ret = vq_add_seg(w, d.addr, d.len, d.flags & VIRTQ_DESC_F_WRITE);
		if (ret)
			return ret;
	}
	return 0;
}

static void vq_packed_publish_event(struct virtq *vq)
{
	if (vq->cfg.event_idx) {
		store_rlx(&vq->dev_evt->off_wrap,
			  (uint16_t)(vq->next_avail | vq->avail_wrap << 15));
		store_rlx(&vq->dev_evt->flags, (uint16_t)VIRTQ_EVENT_F_DESC);
	} else {
		store_rlx(&vq->dev_evt->flags, (uint16_t)VIRTQ_EVENT_F_ENABLE);
	}
}

/* Packed counterpart of vq_split_recheck(), on the device event structure. */
static bool vq_packed_recheck(struct virtq *vq)
{
	const struct virtq_pdesc *ring = vq->desc;

	if (!vq->cfg.event_idx || !vq->notify_enabled)
		return false;
	vq_packed_publish_event(vq);
	full_barrier();
	return vq_pdesc_avail(load_acq(&ring[vq->next_avail].flags),
			      vq->avail_wrap);
}

static int vq_packed_walk(struct virtq *vq, struct virtq_elem *elem,
			  uint16_t *ndescs)
{
	const struct virtq_pdesc *ring = vq->desc;
	uint32_t i = vq->next_avail, count = 0;
	struct vq_walk w;
	struct vq_desc d;
	int ret;

	vq_walk_start(&w, vq, elem);
	for (;;) {
		if (++count > vq->cfg.size)
			return -EINVAL;
		d = vq_read_pdesc(&ring[i]);
		elem->id = d.next_or_id; /* the last descriptor's id counts */
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			ret = vq_packed_indirect(vq, &d, &w);
		else
			ret = vq_add_seg(&w, d.addr, d.len,
					 d.flags & VIRTQ_DESC_F_WRITE);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (++i == vq->cfg.size)
			i = 0;
	}
	*ndescs = (uint16_t)count;
	return 0;
}

static int vq_packed_pop(struct virtq *vq, struct virtq_elem *elem)
{
	const struct virtq_pdesc *ring = vq->desc;
	uint16_t flags, ndescs;
	int ret;

	/* acquire: the chain is read after the head's flags (§2.8.21.1) */
	flags = load_acq(&ring[vq->next_avail].flags);
	if (!vq_pdesc_avail(flags, vq->avail_wrap) && !vq_packed_recheck(vq))
		return -EAGAIN;
	ret = vq_packed_walk(vq, elem, &ndescs);
	if (ret)
		return ret;
	elem->ndescs = ndescs;
	vq->next_avail += ndescs;
	if (vq->next_avail >= vq->cfg.size) {
		vq->next_avail -= vq->cfg.size;
		vq->avail_wrap = !vq->avail_wrap;
	}
	return 0;
}

int virtq_pop(struct virtq *vq, struct virtq_elem *elem)
{
	if (!vq->ready)
		return -EAGAIN;
	return vq->cfg.packed ? vq_packed_pop(vq, elem) : vq_split_pop(vq, elem);
}

void virtq_unpop(struct virtq *vq, const struct virtq_elem *elem)
{
	if (!vq->ready)
		return;
	if (!vq->cfg.packed) {
		vq->last_avail--;
		return;
	}
	if (elem->ndescs > vq->next_avail) {
		vq->next_avail += vq->cfg.size;
		vq->avail_wrap = !vq->avail_wrap;
	}
	vq->next_avail -= elem->ndescs;
}

static void vq_split_push(struct virtq *vq, uint16_t id, uint32_t written)
{
	struct virtq_used_elem *u;

	u = &vq->used->ring[vq->used_idx & (vq->cfg.size - 1)];
	store_rlx(&u->id, (uint32_t)id);
	store_rlx(&u->len, written);
	vq->used_idx++;
	/* release: the entry is visible before the index (§2.7.13.3.1) */
	store_rel(&vq->used->idx, vq->used_idx);
}

static void vq_packed_push(struct virtq *vq, uint16_t id, uint16_t ndescs,
			   uint32_t written)
{
	struct virtq_pdesc *d = &((struct virtq_pdesc *)vq->desc)[vq->next_used];
	uint16_t flags = 0;

	if (vq->used_wrap)
		flags = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	if (written)
		flags |= VIRTQ_DESC_F_WRITE;
	store_rlx(&d->id, id);
	store_rlx(&d->len, written);
	/* release: id and len are visible before the flags (§2.8.21.2) */
	store_rel(&d->flags, flags);
	vq->used_idx += ndescs;
	vq->next_used += ndescs;
	if (vq->next_used >= vq->cfg.size) {
		vq->next_used -= vq->cfg.size;
		vq->used_wrap = !vq->used_wrap;
	}
}

int virtq_push(struct virtq *vq, const struct virtq_elem *elem, uint32_t written)
{
	if (!vq->ready || written > elem->in_len)
		return -EINVAL;
	if (vq->cfg.packed) {
		if (elem->ndescs == 0 || elem->ndescs > vq->cfg.size)
			return -EINVAL;
		vq_packed_push(vq, elem->id, elem->ndescs, written);
	} else {
		vq_split_push(vq, elem->id, written);
	}
	vq->pending_used++;
	return 0;
}

/*
 * Packed DESC mode (§2.8.10): interrupt once the device has used the
 * descriptor at (off, wrap). Work in "slots used" (vq->used_idx, mod 2^16):
 * the event slot is `back` slots behind the next slot to be used, and it
 * was crossed iff 1 <= back <= slots used since the last decision.
 */
static bool vq_packed_need_event(struct virtq *vq, uint16_t off_wrap,
				 uint16_t old_used)
{
	uint16_t off = off_wrap & 0x7fff;
	bool wrap = off_wrap >> 15;
	uint32_t back;

	if (wrap == vq->used_wrap)
		back = (uint32_t)vq->next_used - off; /* may wrap: "ahead" */
	else
		back = (uint32_t)vq->next_used + vq->cfg.size - off;
	return virtq_need_event((uint16_t)(vq->used_idx - back), vq->used_idx,
				old_used);
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, flags;
	bool valid = vq->signalled_valid;

	if (!vq->ready || !vq->pending_used)
		return false;
	vq->pending_used = 0;
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	/* Our used idx/flags stores before the driver's event loads. */
	full_barrier();
	if (!vq->cfg.packed) {
		if (!vq->cfg.event_idx)
			return !(load_rlx(&vq->avail->flags) &
				 VIRTQ_AVAIL_F_NO_INTERRUPT);
		return !valid || virtq_need_event(load_rlx(vq_used_event(vq)),
						  vq->used_idx, old);
	}
	flags = load_rlx(&vq->drv_evt->flags) & 3;
	if (flags == VIRTQ_EVENT_F_DISABLE)
		return false;
	if (flags != VIRTQ_EVENT_F_DESC || !vq->cfg.event_idx)
		return true; /* ENABLE, or DESC without EVENT_IDX: be safe */
	return !valid || vq_packed_need_event(vq, load_rlx(&vq->drv_evt->off_wrap),
					      old);
}

void virtq_set_kicks(struct virtq *vq, bool enable)
{
	if (!vq->ready)
		return;
	vq->notify_enabled = enable;
	if (vq->cfg.packed) {
		if (enable)
			vq_packed_publish_event(vq);
		else
			store_rlx(&vq->dev_evt->flags,
				  (uint16_t)VIRTQ_EVENT_F_DISABLE);
	} else if (vq->cfg.event_idx) {
		/*
		 * Disabling needs no store: avail_event stays behind
		 * last_avail, so the driver will not cross it again.
		 */
		if (enable)
			store_rlx(vq_avail_event(vq), vq->last_avail);
	} else {
		store_rlx(&vq->used->flags,
			  (uint16_t)(enable ? 0 : VIRTQ_USED_F_NO_NOTIFY));
	}
	if (enable)
		full_barrier(); /* before the caller's re-check of the ring */
}

bool virtq_has_avail(struct virtq *vq)
{
	const struct virtq_pdesc *ring = vq->desc;

	if (!vq->ready)
		return false;
	if (vq->cfg.packed)
		return vq_pdesc_avail(load_acq(&ring[vq->next_avail].flags),
				      vq->avail_wrap);
	if (vq->last_avail != vq->shadow_avail)
		return true;
	vq->shadow_avail = load_acq(&vq->avail->idx);
	return vq->shadow_avail != vq->last_avail;
}

/* Map [gpa, gpa + len) with the given alignment, or NULL. */
static void *vq_map(struct gmem *mem, uint64_t gpa, uint64_t len,
		    uint64_t align)
{
	if (!IS_ALIGNED(gpa, align))
		return NULL;
	return gmem_ptr(mem, gpa, len);
}

int virtq_init(struct virtq *vq, struct gmem *mem, const struct virtq_config *cfg)
{
	uint16_t n = cfg->size;

	virtq_reset(vq);
	/* §2.7: split sizes are powers of two; §2.8: packed any, <= 32768. */
	if (n == 0 || n > VIRTQ_MAX_SIZE || (!cfg->packed && !IS_POW2(n)))
		return -EINVAL;
	/* Alignments of §2.7 table "Virtqueue Part Alignment" / §2.8.10.1. */
	vq->desc = vq_map(mem, cfg->desc_gpa, 16ULL * n, 16);
	if (cfg->packed) {
		vq->drv_evt = vq_map(mem, cfg->avail_gpa, 4, 4);
		vq->dev_evt = vq_map(mem, cfg->used_gpa, 4, 4);
		if (!vq->desc || !vq->drv_evt || !vq->dev_evt)
			goto err;
		vq->avail_wrap = vq->used_wrap = true;
	} else {
		vq->avail = vq_map(mem, cfg->avail_gpa,
				   virtq_split_avail_size(n), 2);
		vq->used = vq_map(mem, cfg->used_gpa,
				  virtq_split_used_size(n), 4);
		if (!vq->desc || !vq->avail || !vq->used)
			goto err;
	}
	vq->mem = mem;
	vq->cfg = *cfg;
	vq->signalled_valid = true;
	vq->ready = true;
	virtq_set_kicks(vq, true);
	return 0;

err:
	virtq_reset(vq);
	return -EINVAL;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}
