// SPDX-License-Identifier: MIT
/*
 * Interrupts of the virtio PCI transport (virtio 1.2 §4.1.5.3-4): MSI-X
 * only, one vector for configuration changes plus one per queue, on the
 * MSI-X model of core/pci/msix.c. The ISR latches its bits as well, for
 * drivers that poll it.
 *
 * External queues (rings served by a vhost-user back end): the back end
 * writes the queue's call eventfd. It is a source of the MSI-X model bound
 * to the queue's vector, so it is a KVM irqfd on that vector's route
 * exactly while the vector can deliver (MSI-X enabled, function and vector
 * unmasked) and neither direction of the data path enters iovmm. While it
 * cannot (masked, no vector, MSI-X off, no route left) the model lets go of
 * it, and the I/O thread reads it and raises the interrupt through
 * pci_msix_notify(), which latches the pending bit of a masked vector (PCI
 * 3.0 §6.8.2.9) - QEMU's "masked notifier" idea. The model follows table
 * entries and the message control itself; the transport re-binds on
 * queue_msix_vector writes and reset.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pci/msix.h"
#include "emul-devices/virtio/pci_internal.h"

uint16_t vp_vector(const struct virtio_pci *vp, uint16_t v)
{
	return v < vp->nvec ? v : VIRTIO_MSI_NO_VECTOR;
}

void vp_interrupt(struct virtio_transport *t, unsigned qidx)
{
	struct virtio_pci *vp = vp_of(t);
	uint16_t v = qidx == VIRTIO_CONFIG_IRQ ? vp->config_vector :
						 vp->q[qidx].msix_vector;

	if (v != VIRTIO_MSI_NO_VECTOR)
		pci_msix_notify(&vp->pdev, v); /* -EAGAIN: MSI-X off */
}

/* ---- external queues: the call eventfd (back end -> guest) ---- */

/*
 * The back end signalled a queue whose vector cannot take an irqfd now.
 * The count was consumed, so the interrupt is raised whatever the wiring
 * has become meanwhile: a masked vector latches its pending bit.
 */
static int vp_call_ready(void *opaque, int fd, uint32_t events)
{
	struct vp_queue *q = opaque;
	struct virtio_dev *dev = q->vp->t.dev;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	pthread_mutex_lock(&dev->lock);
	if (dev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_transport_raise(&q->vp->t, VIRTIO_ISR_QUEUE, q->idx);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

/* The I/O thread reads q's call eventfd (poll) or leaves it to KVM. */
static void vp_call_poll(struct virtio_pci *vp, struct vp_queue *q, bool poll)
{
	int ret;

	if (!poll) {
		if (q->call_polled)
			ioloop_del(vp->io, q->call_fd);
		q->call_polled = false;
		return;
	}
	if (q->call_polled || !vp->io)
		return;
	ret = ioloop_add(vp->io, q->call_fd, EPOLLIN, vp_call_ready, q);
	if (ret)
		log_ratelimited(LOG_WARN, vp_name(vp),
				"queue %u: call eventfd not polled: %s", q->idx,
				strerror(-ret));
	else
		q->call_polled = true;
}

/*
 * The model's word on source src (= the queue index). MSI-X lock held:
 * only call_polled and the ioloop are touched. On the way in the irqfd is
 * attached first, on the way out the I/O thread polls first, so a signal
 * racing with the switch is taken by one of them (KVM consumes an irqfd's
 * count synchronously and injects on assign when it is already signalled).
 */
static void vp_call_wired(struct pci_dev *pdev, unsigned src, bool irqfd)
{
	struct virtio_pci *vp = container_of(pdev, struct virtio_pci, pdev);

	vp_call_poll(vp, &vp->q[src], !irqfd);
}

static const struct pci_msix_hooks vp_msix_hooks = {
	.source_wired = vp_call_wired,
};

void vp_call_rebind(struct virtio_pci *vp, struct vp_queue *q)
{
	if (q->external && q->call_fd >= 0)
		pci_msix_source_bind(vp->msix, q->idx, q->call_fd,
				     q->msix_vector);
}

/* ---- creation ---- */

static int vp_calls_init(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < vp->t.dev->nr_queues; i++) {
		struct vp_queue *q = &vp->q[i];

		if (!q->external)
			continue;
		q->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->call_fd < 0)
			return -errno;
		/* No vector yet: the I/O thread takes the calls. */
		vp_call_poll(vp, q, true);
		vp_call_rebind(vp, q);
	}
	return 0;
}

/* BAR 1: the table, then the PBA on the next 64-byte boundary. */
int vp_msix_init(struct virtio_pci *vp)
{
	uint32_t tsize = vp->nvec * PCI_MSIX_ENTRY_SIZE;
	uint32_t pba_off = ALIGN_UP(tsize, 64);
	uint64_t size = 4096;
	struct pci_msix_config c = {
		.nr_vectors = vp->nvec,
		.table_bar = VP_BAR_MSIX, .table_off = 0,
		.pba_bar = VP_BAR_MSIX, .pba_off = pba_off,
		.nr_sources = vp->t.dev->nr_queues,
		.hooks = &vp_msix_hooks,
	};
	int ret;

	while (size < pba_off + (vp->nvec + 63) / 64 * 8)
		size <<= 1;
	ret = pci_cfg_add_bar(&vp->pdev.cfg, VP_BAR_MSIX, PCI_BAR_MEM32, size,
			      false);
	if (!ret)
		ret = pci_msix_create_cfg(&vp->pdev, vp->irq, &c, &vp->msix);
	if (!ret)
		ret = vp_calls_init(vp);
	return ret;
}

void vp_msix_fini(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vp_call_poll(vp, &vp->q[i], false);
	/* Detaches the call eventfds; no hook runs. */
	pci_msix_destroy(vp->msix);
	vp->msix = NULL;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		if (vp->q[i].call_fd >= 0)
			close(vp->q[i].call_fd);
		vp->q[i].call_fd = -1;
	}
}
