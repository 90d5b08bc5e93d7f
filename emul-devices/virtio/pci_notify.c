// SPDX-License-Identifier: MIT
/*
 * Kicks of the virtio PCI transport (virtio 1.2 §4.1.4.4, §4.1.5.2): each
 * queue has an eventfd; a guest write to the queue's notify slot in BAR 4
 * is a KVM ioeventfd on it, so the kick never leaves the kernel, and the I/O
 * thread reads it and calls the model's queue_notify. An external queue's
 * eventfd is read by its back end instead and is not in the ioloop. Writes
 * KVM does not catch trap to vp_notify_write(), which signals the same
 * eventfd.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "emul-devices/virtio/pci_internal.h"

static void vp_ioev_fill(struct virtio_pci *vp, struct vp_queue *q,
			 uint32_t len, struct irq_ioeventfd *ev)
{
	*ev = (struct irq_ioeventfd){
		.space = BUS_MMIO,
		.addr = vp->bar4 + VP_NOTIFY_OFF + VP_NOTIFY_MULT * q->idx,
		.len = len,
		.efd = q->kick_fd,
	};
}

void vp_ioev_unregister(struct virtio_pci *vp, struct vp_queue *q)
{
	struct irq_ioeventfd ev;

	for (uint32_t len = 0; len <= 4; len++) {
		if (!(q->ioev_lens & (1u << len)))
			continue;
		vp_ioev_fill(vp, q, len, &ev);
		irq_ioeventfd_del(vp->irq, &ev);
	}
	q->ioev_lens = 0;
}

/*
 * Linux writes the 16-bit queue index (iowrite16, §4.1.5.2); other drivers
 * may write 32 bits. A wildcard-length ioeventfd catches both; without
 * KVM_CAP_IOEVENTFD_ANY_LENGTH register 2 and 4. Any other access still
 * traps to vp_notify_write(), which signals the same eventfd.
 */
void vp_ioev_register(struct virtio_pci *vp, struct vp_queue *q)
{
	static const uint32_t fallback[] = { 2, 4 };
	struct irq_ioeventfd ev;
	int ret;

	if (!vp->irq || vp->bar4 == PCI_BAR_UNMAPPED || q->ioev_lens)
		return;
	vp_ioev_fill(vp, q, 0, &ev);
	ret = irq_ioeventfd_add(vp->irq, &ev);
	if (!ret) {
		q->ioev_lens = 1;
		return;
	}
	for (unsigned i = 0; ret == -EOPNOTSUPP && i < ARRAY_SIZE(fallback); i++) {
		vp_ioev_fill(vp, q, fallback[i], &ev);
		if (irq_ioeventfd_add(vp->irq, &ev) == 0)
			q->ioev_lens |= 1u << fallback[i];
	}
	if (!q->ioev_lens)
		log_ratelimited(LOG_WARN, vp_name(vp),
				"queue %u: no ioeventfd (kicks will trap): %s",
				q->idx, strerror(-ret));
}

void vp_notify_moved(struct virtio_pci *vp, uint64_t bar4)
{
	unsigned n = vp->t.dev->nr_queues;

	for (unsigned i = 0; i < n; i++)
		vp_ioev_unregister(vp, &vp->q[i]);
	vp->bar4 = bar4;
	for (unsigned i = 0; i < n; i++)
		if (vp->t.q[i].enabled)
			vp_ioev_register(vp, &vp->q[i]);
}

/* The I/O thread: a kick of an internal queue reaches the model. */
static int vp_kick_ready(void *opaque, int fd, uint32_t events)
{
	struct vp_queue *q = opaque;
	struct virtio_dev *dev = q->vp->t.dev;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0; /* spurious wake-up (EAGAIN) */
	pthread_mutex_lock(&dev->lock);
	if (virtio_dev_queue_live(dev, q->idx) && dev->ops->queue_notify)
		dev->ops->queue_notify(dev, q->idx);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

int vp_kick(struct virtio_transport *t, unsigned qidx)
{
	struct virtio_pci *vp = vp_of(t);
	uint64_t one = 1;

	if (qidx >= t->dev->nr_queues || vp->q[qidx].kick_fd < 0)
		return -EINVAL;
	if (write(vp->q[qidx].kick_fd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 0;
}

void vp_notify_write(struct virtio_pci *vp, uint64_t off)
{
	unsigned qidx = (unsigned)(off / VP_NOTIFY_MULT);
	int ret;

	if (qidx >= vp->t.dev->nr_queues)
		return;
	ret = vp_kick(&vp->t, qidx);
	if (ret)
		log_ratelimited(LOG_WARN, vp_name(vp), "kick queue %u: %s",
				qidx, strerror(-ret));
}

/*
 * Every queue gets its kick eventfd; an external queue's is read by the
 * back end, not by the I/O thread.
 */
int vp_kicks_init(struct virtio_pci *vp)
{
	int ret;

	for (unsigned i = 0; i < vp->t.dev->nr_queues; i++) {
		struct vp_queue *q = &vp->q[i];

		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0)
			return -errno;
		if (q->external || !vp->io)
			continue;
		ret = ioloop_add(vp->io, q->kick_fd, EPOLLIN, vp_kick_ready, q);
		if (ret)
			return ret;
		q->polled = true;
	}
	return 0;
}

void vp_kicks_fini(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct vp_queue *q = &vp->q[i];

		vp_ioev_unregister(vp, q);
		if (q->polled)
			ioloop_del(vp->io, q->kick_fd);
		q->polled = false;
		if (q->kick_fd >= 0)
			close(q->kick_fd);
		q->kick_fd = -1;
	}
}
