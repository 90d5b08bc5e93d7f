// SPDX-License-Identifier: MIT
/*
 * The ring hand-over shared by the vhost-user and vhost-kernel transports
 * (see vhost.h for the sequence and why it is shared).
 */
#include <errno.h>
#include <stddef.h>

#include "core/util.h"
#include "emul-devices/virtio/virtqueue.h"
#include "vhost-user/vhost.h"

int vhost_ring_hva(const struct vhost_dev *d, const struct vhost_ring *r,
		   struct vhost_ring_hva *a)
{
	void *desc = gmem_ptr(d->mem, r->desc_gpa, 16ULL * r->size);
	void *avail = gmem_ptr(d->mem, r->avail_gpa,
			       virtq_split_avail_size(r->size));
	void *used = gmem_ptr(d->mem, r->used_gpa,
			      virtq_split_used_size(r->size));

	if (!desc || !avail || !used)
		return -EINVAL;
	*a = (struct vhost_ring_hva){
		.index = r->index,
		.desc = (uint64_t)(uintptr_t)desc,
		.avail = (uint64_t)(uintptr_t)avail,
		.used = (uint64_t)(uintptr_t)used,
	};
	return 0;
}

int vhost_check_rings(const struct vhost_dev *d, const struct vhost_ring *rings,
		      unsigned nr, uint16_t *max_size)
{
	struct vhost_ring_hva a;
	uint64_t seen = 0;

	*max_size = 0;
	if (nr == 0 || nr > d->nr_vrings || d->nr_vrings > VHOST_MAX_VRINGS)
		return -EINVAL;
	for (unsigned i = 0; i < nr; i++) {
		const struct vhost_ring *r = &rings[i];

		if (r->index >= d->nr_vrings || (seen >> r->index & 1) ||
		    !IS_POW2(r->size) || r->size > VHOST_MAX_VRING_SIZE ||
		    r->kick_fd < 0 || r->call_fd < 0 || vhost_ring_hva(d, r, &a))
			return -EINVAL;
		seen |= 1ULL << r->index;
		if (r->size > *max_size)
			*max_size = r->size;
	}
	return 0;
}

/* NUM, BASE, ADDR, CALL and ERR: everything about a ring but its kick. */
static int vhost_describe_ring(struct vhost_dev *d, const struct vhost_ring *r)
{
	const struct vhost_ops *ops = d->ops;
	struct vhost_ring_hva a;
	int ret;

	ret = ops->set_vring_num(d, r->index, r->size);
	if (!ret)
		ret = ops->set_vring_base(d, r->index, r->base);
	if (!ret)
		ret = vhost_ring_hva(d, r, &a);
	if (!ret)
		ret = ops->set_vring_addr(d, &a);
	if (!ret)
		ret = ops->set_vring_call(d, r->index, r->call_fd);
	if (!ret && ops->set_vring_err && r->err_fd > 0)
		ret = ops->set_vring_err(d, r->index, r->err_fd);
	return ret;
}

int vhost_dev_start(struct vhost_dev *d, uint64_t features,
		    const struct vhost_ring *rings, unsigned nr, uint8_t status)
{
	const struct vhost_ops *ops = d->ops;
	uint16_t max_size;
	int ret;

	ret = vhost_check_rings(d, rings, nr, &max_size);
	if (ret)
		return ret;
	d->started = false;
	d->started_mask = 0;
	ret = ops->set_features(d, features);
	if (!ret)
		ret = ops->set_mem_table(d);
	for (unsigned i = 0; i < nr && !ret; i++)
		ret = vhost_describe_ring(d, &rings[i]);
	if (!ret && ops->rings_described)
		ret = ops->rings_described(d, max_size);
	for (unsigned i = 0; i < nr && !ret; i++) {
		ret = ops->set_vring_kick(d, rings[i].index, rings[i].kick_fd);
		if (!ret)
			d->started_mask |= 1ULL << rings[i].index;
	}
	for (unsigned i = 0; i < nr && !ret; i++)
		ret = ops->set_vring_enable(d, rings[i].index, rings[i].enabled);
	if (!ret && ops->set_status)
		ret = ops->set_status(d, status);
	d->started = !ret;
	return ret;
}

int vhost_dev_stop(struct vhost_dev *d, uint16_t *bases)
{
	const struct vhost_ops *ops = d->ops;
	uint16_t base;
	int ret = 0;

	for (unsigned i = 0; i < d->nr_vrings && !ret; i++) {
		if (!(d->started_mask >> i & 1))
			continue;
		ret = ops->set_vring_enable(d, i, false);
		if (!ret)
			ret = ops->get_vring_base(d, i, &base);
		if (!ret && bases)
			bases[i] = base;
	}
	if (!ret && d->started && ops->set_status)
		ret = ops->set_status(d, 0);
	d->started = false;
	d->started_mask = 0;
	return ret;
}

int vhost_dev_vring_enable(struct vhost_dev *d, uint32_t index, bool on)
{
	if (index >= d->nr_vrings || !(d->started_mask >> index & 1))
		return -EINVAL;
	return d->ops->set_vring_enable(d, index, on);
}
