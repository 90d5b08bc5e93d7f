// SPDX-License-Identifier: MIT
/* The test driver of vdrv.h: virtio 1.2 §3.1 init, §2.7/§2.8 driver side. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/layout.h"
#include "core/util.h"
#include "emul-devices/virtio/pci_regs.h"
#include "emul-devices/virtio/virtio.h"
#include "vdrv.h"

#define RAM_SIZE (64 * MiB)

void vdrv_msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

void vdrv_env_init(struct vdrv_env *env)
{
	struct gmem_opts o = { .size = RAM_SIZE, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };

	memset(env, 0, sizeof(*env));
	ck_assert_int_eq(fake_irq_create(&env->irq, &env->fake_irq), 0);
	ck_assert_int_eq(bus_create(&env->bus), 0);
	ck_assert_int_eq(pci_host_create(env->bus, env->irq, 0, 0, &env->host), 0);
	ck_assert_int_eq(gmem_create(&o, &env->mem), 0);
	ck_assert_int_eq(ioloop_create(&env->io), 0);
	ck_assert_int_eq(ioloop_start(env->io), 0);
	env->next_gpa = 1 * MiB;
}

void vdrv_env_stop(struct vdrv_env *env)
{
	ioloop_stop(env->io);
	pci_host_destroy(env->host);
	env->host = NULL;
}

void vdrv_env_fini(struct vdrv_env *env)
{
	ioloop_destroy(env->io);
	gmem_destroy(env->mem);
	bus_destroy(env->bus);
	irq_destroy(env->irq);
}

uint64_t vdrv_alloc(struct vdrv_env *env, uint64_t size, uint64_t align)
{
	uint64_t gpa = ALIGN_UP(env->next_gpa, align);

	ck_assert_uint_le(gpa + size, RAM_SIZE);
	env->next_gpa = gpa + size;
	memset(vdrv_ptr(env, gpa, size), 0, size);
	return gpa;
}

void *vdrv_ptr(struct vdrv_env *env, uint64_t gpa, uint64_t len)
{
	void *p = gmem_ptr(env->mem, gpa, len);

	ck_assert_ptr_nonnull(p);
	return p;
}

/* ---- MMIO and config space as a guest does them ---- */

static uint64_t mmio_rd(struct vdrv *d, uint64_t a, uint32_t len)
{
	uint64_t v = 0;

	bus_access(d->env->bus, BUS_MMIO, a, &v, len, false);
	return v;
}

static void mmio_wr(struct vdrv *d, uint64_t a, uint64_t v, uint32_t len)
{
	bus_access(d->env->bus, BUS_MMIO, a, &v, len, true);
}

static uint32_t cfg_rd(struct vdrv *d, uint32_t off, uint32_t len)
{
	return pci_host_cfg_read(d->env->host, d->devfn, off, len);
}

static uint64_t bar_addr(struct vdrv *d, unsigned bar)
{
	uint32_t lo = cfg_rd(d, 0x10 + 4 * bar, 4);
	uint64_t a = lo & ~0xfULL;

	if (((lo >> 1) & 3) == 2)
		a |= (uint64_t)cfg_rd(d, 0x14 + 4 * bar, 4) << 32;
	return a;
}

static void vdrv_caps(struct vdrv *d)
{
	uint32_t ptr = cfg_rd(d, 0x34, 1) & 0xfc;

	for (int guard = 0; ptr && guard < 48; guard++) {
		if (cfg_rd(d, ptr, 1) == 0x09) {
			uint8_t type = (uint8_t)cfg_rd(d, ptr + 3, 1);
			uint64_t a = bar_addr(d, cfg_rd(d, ptr + 4, 1)) +
				     cfg_rd(d, ptr + 8, 4);

			if (type == 1)
				d->common = a;
			else if (type == 2) {
				d->notify = a;
				d->notify_mult = cfg_rd(d, ptr + 16, 4);
			} else if (type == 3)
				d->isr = a;
			else if (type == 4)
				d->device = a;
		}
		ptr = cfg_rd(d, ptr + 1, 1) & 0xfc;
	}
}

int vdrv_probe(struct vdrv *d, struct vdrv_env *env, uint16_t type)
{
	memset(d, 0, sizeof(*d));
	d->env = env;
	for (unsigned slot = 1; slot < 32; slot++) {
		d->devfn = (uint8_t)(slot << 3);
		if (cfg_rd(d, 0, 2) == 0x1af4 && cfg_rd(d, 2, 2) == 0x1040u + type) {
			/* Memory decode is on (pci_host_add); add bus master. */
			pci_host_cfg_write(env->host, d->devfn, 4,
					   cfg_rd(d, 4, 2) | 0x4, 2);
			vdrv_caps(d);
			ck_assert(d->common && d->notify && d->isr && d->device);
			return 0;
		}
	}
	return -ENODEV;
}

uint8_t vdrv_status(struct vdrv *d)
{
	return (uint8_t)mmio_rd(d, d->common + VIRTIO_PCI_COMMON_STATUS, 1);
}

void vdrv_set_status(struct vdrv *d, uint8_t s)
{
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_STATUS, s, 1);
}

uint64_t vdrv_device_features(struct vdrv *d)
{
	uint64_t f;

	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	f = mmio_rd(d, d->common + VIRTIO_PCI_COMMON_DF, 4);
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	return f | mmio_rd(d, d->common + VIRTIO_PCI_COMMON_DF, 4) << 32;
}

int vdrv_negotiate(struct vdrv *d, uint64_t want)
{
	uint64_t f;

	vdrv_set_status(d, 0);
	ck_assert_uint_eq(vdrv_status(d), 0);
	vdrv_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	vdrv_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	f = vdrv_device_features(d) & want;
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_GF, (uint32_t)f, 4);
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_GF, f >> 32, 4);
	vdrv_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			   VIRTIO_STATUS_FEATURES_OK);
	if (!(vdrv_status(d) & VIRTIO_STATUS_FEATURES_OK))
		return -1;
	d->features = f;
	return 0;
}

void vdrv_driver_ok(struct vdrv *d)
{
	vdrv_set_status(d, vdrv_status(d) | VIRTIO_STATUS_DRIVER_OK);
}

uint32_t vdrv_cfg_read(struct vdrv *d, uint32_t off, uint32_t len)
{
	return (uint32_t)mmio_rd(d, d->device + off, len);
}

uint16_t vdrv_num_queues(struct vdrv *d)
{
	return (uint16_t)mmio_rd(d, d->common + VIRTIO_PCI_COMMON_NUMQ, 2);
}

/* ---- rings ---- */

int vqd_setup(struct vqd *q, struct vdrv *d, unsigned idx, uint16_t size)
{
	struct vdrv_env *env = d->env;
	uint16_t max;

	memset(q, 0, sizeof(*q));
	q->d = d;
	q->idx = idx;
	q->packed = d->features & (1ULL << 34);
	q->event_idx = d->features & (1ULL << 29);
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_Q_SELECT, idx, 2);
	max = (uint16_t)mmio_rd(d, d->common + VIRTIO_PCI_COMMON_Q_SIZE, 2);
	if (!max)
		return -ENOENT;
	q->size = size && size < max ? size : max;
	ck_assert_uint_le(q->size, VQD_MAX);
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_Q_SIZE, q->size, 2);
	q->desc_gpa = vdrv_alloc(env, 16ULL * q->size, 16);
	if (q->packed) {
		q->drv_gpa = vdrv_alloc(env, 4, 4);
		q->dev_gpa = vdrv_alloc(env, 4, 4);
	} else {
		q->drv_gpa = vdrv_alloc(env, virtq_split_avail_size(q->size), 2);
		q->dev_gpa = vdrv_alloc(env, virtq_split_used_size(q->size), 4);
	}
	q->desc = vdrv_ptr(env, q->desc_gpa, 16ULL * q->size);
	q->drv = vdrv_ptr(env, q->drv_gpa, 4);
	q->dev = vdrv_ptr(env, q->dev_gpa, 4);
	/* §4.1.3.1: 64-bit fields as two 32-bit accesses. */
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_Q_DESCLO,
		(uint32_t)q->desc_gpa, 4);
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_Q_DESCLO + 4,
		q->desc_gpa >> 32, 4);
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_Q_AVAILLO,
		(uint32_t)q->drv_gpa, 4);
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_Q_AVAILLO + 4,
		q->drv_gpa >> 32, 4);
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)q->dev_gpa,
		4);
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_Q_USEDLO + 4, q->dev_gpa >> 32,
		4);
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_Q_MSIX, 0xffff, 2);
	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	q->num_free = q->size;
	for (unsigned i = 0; i < q->size; i++) {
		q->next_free[i] = (uint16_t)(i + 1);
		q->free_ids[i] = (uint16_t)(q->size - 1 - i);
	}
	q->nfree_ids = q->size;
	q->avail_wrap = q->used_wrap = true;
	return 0;
}

static int vqd_add_split(struct vqd *q, const struct vseg *s, unsigned n)
{
	struct virtq_desc *desc = q->desc;
	struct virtq_avail *avail = q->drv;
	uint16_t head = q->free_head, i = head, next = 0;

	for (unsigned k = 0; k < n; k++) {
		next = q->next_free[i];
		desc[i] = (struct virtq_desc){
			.addr = s[k].gpa, .len = s[k].len,
			.flags = (uint16_t)((s[k].write ? VIRTQ_DESC_F_WRITE : 0) |
					    (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			.next = k + 1 < n ? next : 0,
		};
		i = next;
	}
	q->free_head = next;
	q->num_free = (uint16_t)(q->num_free - n);
	q->chain_len[head] = (uint16_t)n;
	avail->ring[q->avail_idx & (q->size - 1)] = head;
	q->avail_idx++;
	__atomic_store_n(&avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	return head;
}

static int vqd_add_packed(struct vqd *q, const struct vseg *s, unsigned n)
{
	struct virtq_pdesc *ring = q->desc;
	uint16_t id = q->free_ids[--q->nfree_ids], head = q->next_avail;
	uint16_t head_flags = 0;

	for (unsigned k = 0; k < n; k++) {
		struct virtq_pdesc *pd = &ring[q->next_avail];
		uint16_t fl = (uint16_t)((s[k].write ? VIRTQ_DESC_F_WRITE : 0) |
					 (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
					 (q->avail_wrap ? VIRTQ_DESC_F_AVAIL :
							  VIRTQ_DESC_F_USED));

		pd->addr = s[k].gpa;
		pd->len = s[k].len;
		pd->id = id;
		if (k == 0)
			head_flags = fl;
		else
			pd->flags = fl;
		if (++q->next_avail == q->size) {
			q->next_avail = 0;
			q->avail_wrap = !q->avail_wrap;
		}
	}
	q->num_free = (uint16_t)(q->num_free - n);
	q->chain_len[id] = (uint16_t)n;
	q->added = (uint16_t)(q->added + n);
	/* §2.8.21.1: the head's flags last, after the rest is visible. */
	__atomic_store_n(&ring[head].flags, head_flags, __ATOMIC_RELEASE);
	return id;
}

int vqd_add(struct vqd *q, const struct vseg *segs, unsigned n)
{
	if (n == 0 || n > q->num_free || (q->packed && !q->nfree_ids))
		return -1;
	return q->packed ? vqd_add_packed(q, segs, n) : vqd_add_split(q, segs, n);
}

bool vqd_kick_prepare(struct vqd *q)
{
	uint16_t old, new_idx, event, flags;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->packed) {
		struct virtq_used *used = q->dev;

		old = q->kicked_avail;
		new_idx = q->avail_idx;
		q->kicked_avail = new_idx;
		if (!q->event_idx)
			return !(__atomic_load_n(&used->flags, __ATOMIC_RELAXED) &
				 VIRTQ_USED_F_NO_NOTIFY);
		event = __atomic_load_n((uint16_t *)&used->ring[q->size],
					__ATOMIC_RELAXED);
		return virtq_need_event(event, new_idx, old);
	}
	/* Packed (§2.8.10): `added` counts descriptors added since. */
	struct virtq_event *ev = q->dev;

	new_idx = q->next_avail;
	old = (uint16_t)(new_idx - q->added);
	q->added = 0;
	flags = __atomic_load_n(&ev->flags, __ATOMIC_RELAXED) & 3;
	if (flags != VIRTQ_EVENT_F_DESC)
		return flags != VIRTQ_EVENT_F_DISABLE;
	event = __atomic_load_n(&ev->off_wrap, __ATOMIC_RELAXED);
	if ((bool)(event >> 15) != q->avail_wrap)
		event = (uint16_t)((event & 0x7fff) - q->size);
	else
		event &= 0x7fff;
	return virtq_need_event(event, new_idx, old);
}

void vqd_notify(struct vqd *q)
{
	struct vdrv *d = q->d;
	uint16_t noff;

	mmio_wr(d, d->common + VIRTIO_PCI_COMMON_Q_SELECT, q->idx, 2);
	noff = (uint16_t)mmio_rd(d, d->common + VIRTIO_PCI_COMMON_Q_NOFF, 2);
	mmio_wr(d, d->notify + (uint64_t)noff * d->notify_mult, q->idx, 2);
}

bool vqd_kick(struct vqd *q)
{
	if (!vqd_kick_prepare(q))
		return false;
	vqd_notify(q);
	return true;
}

static void vqd_free_chain(struct vqd *q, uint16_t id)
{
	struct virtq_desc *desc = q->desc;
	uint16_t n = q->chain_len[id], i = id;

	ck_assert_uint_ne(n, 0);
	for (uint16_t k = 0; k < n; k++) {
		uint16_t next = desc[i].next;

		q->next_free[i] = q->free_head;
		q->free_head = i;
		i = next;
	}
	q->num_free = (uint16_t)(q->num_free + n);
	q->chain_len[id] = 0;
}

bool vqd_get_used(struct vqd *q, uint16_t *id, uint32_t *len)
{
	if (!q->packed) {
		struct virtq_used *used = q->dev;
		struct virtq_used_elem e;

		if (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) == q->last_used)
			return false;
		e = used->ring[q->last_used & (q->size - 1)];
		q->last_used++;
		ck_assert_uint_lt(e.id, q->size);
		vqd_free_chain(q, (uint16_t)e.id);
		*id = (uint16_t)e.id;
		*len = e.len;
		return true;
	}
	struct virtq_pdesc *pd = &((struct virtq_pdesc *)q->desc)[q->p_last_used];
	uint16_t fl = __atomic_load_n(&pd->flags, __ATOMIC_ACQUIRE), n;
	bool avail = fl & VIRTQ_DESC_F_AVAIL, used = fl & VIRTQ_DESC_F_USED;

	if (avail != used || used != q->used_wrap)
		return false;
	*id = pd->id;
	*len = pd->len;
	ck_assert_uint_lt(*id, q->size);
	n = q->chain_len[*id];
	ck_assert_uint_ne(n, 0);
	q->p_last_used = (uint16_t)(q->p_last_used + n);
	if (q->p_last_used >= q->size) {
		q->p_last_used = (uint16_t)(q->p_last_used - q->size);
		q->used_wrap = !q->used_wrap;
	}
	q->num_free = (uint16_t)(q->num_free + n);
	q->chain_len[*id] = 0;
	q->free_ids[q->nfree_ids++] = *id;
	return true;
}

bool vqd_wait_used(struct vqd *q, uint16_t *id, uint32_t *len, int timeout_ms)
{
	for (int t = 0; t <= timeout_ms; t++) {
		if (vqd_get_used(q, id, len))
			return true;
		vdrv_msleep(1);
	}
	return false;
}
