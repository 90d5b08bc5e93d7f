// SPDX-License-Identifier: MIT
/*
 * The modern virtio PCI transport (virtio 1.2 §4.1), modern-only: the PCI
 * function of a virtio_dev. This file has its identity, capabilities and
 * BAR layout (pci_internal.h draws it), the BAR and config-space dispatch
 * including the VIRTIO_PCI_CAP_PCI_CFG window, and its lifetime; the
 * registers, kicks and interrupts are in pci_common.c, pci_notify.c and
 * pci_msix.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/pci/host.h"
#include "core/pci/msix.h"
#include "core/util.h"
#include "emul-devices/virtio/pci_internal.h"
#include "emul-devices/virtio/pci_regs.h"

#define VP_VENDOR          0x1af4
#define VP_DEVICE_BASE     0x1040
#define VP_SUBSYS          0x1100 /* as QEMU */
#define VP_REVISION        1      /* §4.1.2.1: modern-only devices */

#define VP_CAP_ID_VNDR     0x09
#define VP_CAP_LEN         16
#define VP_CAP_NOTIFY_LEN  20
#define VP_CAP_PCI_CFG_LEN 20

#define MIN_U64(a, b)      ((uint64_t)(a) < (uint64_t)(b) ? (uint64_t)(a) : (uint64_t)(b))

/* ---- BAR 4 ---- */

static void vp_cfg_bar_read(struct virtio_pci *vp, uint64_t off, void *data,
			    uint32_t len)
{
	struct virtio_dev *dev = vp->t.dev;

	memset(data, 0, len);
	if (off < VP_COMMON_OFF + VP_COMMON_SIZE) {
		vp_common_read(vp, off - VP_COMMON_OFF, data, len);
	} else if (off < VP_ISR_OFF + VP_ISR_SIZE) {
		/* §4.1.4.5.1: reading the ISR clears it. */
		if (off == VP_ISR_OFF)
			*(uint8_t *)data = virtio_transport_isr_take(&vp->t);
	} else if (off < VP_DEVCFG_OFF + VP_DEVCFG_SIZE) {
		off -= VP_DEVCFG_OFF;
		if (off < dev->cfg_size && dev->ops->cfg_read)
			dev->ops->cfg_read(dev, (uint32_t)off, data,
					   (uint32_t)MIN_U64(len, dev->cfg_size - off));
	}
	/* Notification slots read as 0. */
}

static void vp_cfg_bar_write(struct virtio_pci *vp, uint64_t off,
			     const void *data, uint32_t len)
{
	struct virtio_dev *dev = vp->t.dev;

	if (off < VP_COMMON_OFF + VP_COMMON_SIZE) {
		vp_common_write(vp, off - VP_COMMON_OFF, data, len);
	} else if (off >= VP_DEVCFG_OFF && off < VP_DEVCFG_OFF + VP_DEVCFG_SIZE) {
		off -= VP_DEVCFG_OFF;
		if (off < dev->cfg_size && dev->ops->cfg_write)
			dev->ops->cfg_write(dev, (uint32_t)off, data,
					    (uint32_t)MIN_U64(len, dev->cfg_size - off));
	}
	/* The ISR is read-only. */
}

static int vp_bar_read(struct pci_dev *pdev, unsigned bar, uint64_t off,
		       void *data, uint32_t len)
{
	struct virtio_pci *vp = container_of(pdev, struct virtio_pci, pdev);

	if (bar == VP_BAR_MSIX) {
		if (!pci_msix_bar_read(vp->msix, bar, off, data, len))
			memset(data, 0, len);
		return 0;
	}
	memset(data, 0, len);
	if (bar != VP_BAR_CFG || off >= VP_BAR_CFG_SIZE)
		return 0;
	pthread_mutex_lock(&vp->t.dev->lock);
	vp_cfg_bar_read(vp, off, data, len);
	pthread_mutex_unlock(&vp->t.dev->lock);
	return 0;
}

static int vp_bar_write(struct pci_dev *pdev, unsigned bar, uint64_t off,
			const void *data, uint32_t len)
{
	struct virtio_pci *vp = container_of(pdev, struct virtio_pci, pdev);

	if (bar == VP_BAR_MSIX) {
		/* The model re-wires external queues' call eventfds itself. */
		pci_msix_bar_write(vp->msix, bar, off, data, len);
		return 0;
	}
	if (bar != VP_BAR_CFG || off >= VP_BAR_CFG_SIZE)
		return 0;
	if (off >= VP_NOTIFY_OFF) {
		/* Lock-free: the kick goes through the queue's eventfd. */
		vp_notify_write(vp, off - VP_NOTIFY_OFF);
		return 0;
	}
	pthread_mutex_lock(&vp->t.dev->lock);
	vp_cfg_bar_write(vp, off, data, len);
	pthread_mutex_unlock(&vp->t.dev->lock);
	return 0;
}

/* ---- PCI config space: the PCI_CFG access window (§4.1.4.9) ---- */

/*
 * The window's bar/offset/length select a BAR access of 1, 2 or 4
 * naturally aligned bytes; anything else is ignored (reads 0).
 */
static bool vp_pcicfg_target(struct virtio_pci *vp, unsigned *bar,
			     uint32_t *off, uint32_t *len)
{
	const struct pci_cfg *cfg = &vp->pdev.cfg;
	uint32_t c = vp->pcicfg_cap;

	*bar = pci_cfg_read(cfg, c + VIRTIO_PCI_CAP_BAR, 1);
	*off = pci_cfg_read(cfg, c + VIRTIO_PCI_CAP_OFFSET, 4);
	*len = pci_cfg_read(cfg, c + VIRTIO_PCI_CAP_LENGTH, 4);
	if (*bar != VP_BAR_CFG && *bar != VP_BAR_MSIX)
		return false;
	if ((*len != 1 && *len != 2 && *len != 4) || *off % *len ||
	    *off >= vp->pdev.cfg.bars[*bar].size)
		return false;
	return true;
}

static uint32_t vp_pci_cfg_read(struct pci_dev *pdev, uint32_t off,
				uint32_t len)
{
	struct virtio_pci *vp = container_of(pdev, struct virtio_pci, pdev);
	uint32_t data_off = vp->pcicfg_cap + VIRTIO_PCI_CFG_CAP_DATA;
	uint32_t v = 0, boff, blen;
	unsigned bar;

	if (ranges_overlap(off, len, data_off, 4)) {
		if (vp_pcicfg_target(vp, &bar, &boff, &blen))
			vp_bar_read(pdev, bar, boff, &v, blen);
		pci_cfg_set(&pdev->cfg, data_off, v, 4);
	}
	return pci_dev_cfg_read(pdev, off, len);
}

static void vp_pci_cfg_write(struct pci_dev *pdev, uint32_t off, uint32_t val,
			     uint32_t len)
{
	struct virtio_pci *vp = container_of(pdev, struct virtio_pci, pdev);
	uint32_t data_off = vp->pcicfg_cap + VIRTIO_PCI_CFG_CAP_DATA;
	uint32_t v, boff, blen;
	unsigned bar;

	/* Includes MSI-X's message control: the model follows it. */
	pci_dev_cfg_write(pdev, off, val, len);
	if (!ranges_overlap(off, len, data_off, 4) ||
	    !vp_pcicfg_target(vp, &bar, &boff, &blen))
		return;
	v = pci_cfg_read(&pdev->cfg, data_off, 4);
	vp_bar_write(pdev, bar, boff, &v, blen);
}

/* BAR 4 moved (pci_dev.lock held): the notify ioeventfds follow it. */
static void vp_bar_moved(struct pci_dev *pdev, unsigned bar, uint64_t old_addr,
			 uint64_t new_addr)
{
	struct virtio_pci *vp = container_of(pdev, struct virtio_pci, pdev);

	if (bar != VP_BAR_CFG)
		return;
	pthread_mutex_lock(&vp->t.dev->lock);
	vp_notify_moved(vp, new_addr);
	pthread_mutex_unlock(&vp->t.dev->lock);
}

/* Function-level reset through the PCI host (pci_dev.lock held). */
static void vp_pci_reset(struct pci_dev *pdev)
{
	struct virtio_pci *vp = container_of(pdev, struct virtio_pci, pdev);

	pthread_mutex_lock(&vp->t.dev->lock);
	virtio_transport_reset(&vp->t);
	pthread_mutex_unlock(&vp->t.dev->lock);
}

/* The function goes with its device model (which ends the transport). */
static void vp_pci_destroy(struct pci_dev *pdev)
{
	struct virtio_pci *vp = container_of(pdev, struct virtio_pci, pdev);
	struct virtio_dev *dev = vp->t.dev;

	if (dev->ops->destroy)
		dev->ops->destroy(dev);
	else
		virtio_pci_destroy(vp);
}

static const struct pci_dev_ops vp_pci_ops = {
	.cfg_read = vp_pci_cfg_read,
	.cfg_write = vp_pci_cfg_write,
	.bar_read = vp_bar_read,
	.bar_write = vp_bar_write,
	.bar_moved = vp_bar_moved,
	.reset = vp_pci_reset,
	.destroy = vp_pci_destroy,
};

/* ---- the transport's ops (transport.h), vdev->lock held ---- */

static void vp_queue_enabled(struct virtio_transport *t, unsigned qidx)
{
	struct virtio_pci *vp = vp_of(t);

	vp_ioev_register(vp, &vp->q[qidx]);
}

static void vp_queue_reset(struct virtio_transport *t, unsigned qidx)
{
	struct virtio_pci *vp = vp_of(t);
	struct vp_queue *q = &vp->q[qidx];

	vp_ioev_unregister(vp, q);
	q->msix_vector = VIRTIO_MSI_NO_VECTOR;
	vp_call_rebind(vp, q);
}

static void vp_reset(struct virtio_transport *t)
{
	struct virtio_pci *vp = vp_of(t);

	vp->dfselect = vp->gfselect = 0;
	vp->queue_select = 0;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
}

static void vp_queue_info(struct virtio_transport *t, unsigned qidx,
			  struct virtio_queue_info *out)
{
	struct virtio_pci *vp = vp_of(t);
	const struct vp_queue *q = &vp->q[qidx];

	out->msix_vector = q->msix_vector;
	out->kick_fd = q->kick_fd;
	out->call_fd = q->call_fd;
	out->call_irqfd = q->external &&
			  pci_msix_source_irqfd(vp->msix, q->idx);
}

static void vp_destroy(struct virtio_transport *t)
{
	virtio_pci_destroy(vp_of(t));
}

static const struct virtio_transport_ops vp_transport_ops = {
	.interrupt = vp_interrupt,
	.queue_enabled = vp_queue_enabled,
	.queue_reset = vp_queue_reset,
	.reset = vp_reset,
	.kick = vp_kick,
	.queue_info = vp_queue_info,
	.destroy = vp_destroy,
};

/* ---- creation ---- */

/* One struct virtio_pci_cap (§4.1.4), read-only; returns its offset. */
static int vp_add_cap(struct virtio_pci *vp, uint8_t type, uint32_t caplen,
		      uint32_t off, uint32_t len, uint32_t *cap_out)
{
	struct pci_cfg *cfg = &vp->pdev.cfg;
	uint32_t c;
	int ret;

	ret = pci_cfg_add_cap(cfg, VP_CAP_ID_VNDR, caplen, &c);
	if (ret)
		return ret;
	pci_cfg_declare(cfg, c + VIRTIO_PCI_CAP_LEN, 1, caplen, 0, 0);
	pci_cfg_declare(cfg, c + VIRTIO_PCI_CAP_CFG_TYPE, 1, type, 0, 0);
	pci_cfg_declare(cfg, c + VIRTIO_PCI_CAP_BAR, 1, VP_BAR_CFG, 0, 0);
	pci_cfg_declare(cfg, c + VIRTIO_PCI_CAP_OFFSET, 4, off, 0, 0);
	pci_cfg_declare(cfg, c + VIRTIO_PCI_CAP_LENGTH, 4, len, 0, 0);
	if (cap_out)
		*cap_out = c;
	return 0;
}

static int vp_add_caps(struct virtio_pci *vp)
{
	struct pci_cfg *cfg = &vp->pdev.cfg;
	uint32_t c;
	int ret;

	ret = vp_add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VP_CAP_LEN,
			 VP_COMMON_OFF, VP_COMMON_SIZE, NULL);
	if (!ret)
		ret = vp_add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VP_CAP_LEN,
				 VP_ISR_OFF, VP_ISR_SIZE, NULL);
	if (!ret && vp->t.dev->cfg_size)
		ret = vp_add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VP_CAP_LEN,
				 VP_DEVCFG_OFF, VP_DEVCFG_SIZE, NULL);
	if (!ret)
		ret = vp_add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VP_CAP_NOTIFY_LEN,
				 VP_NOTIFY_OFF, VP_NOTIFY_SIZE, &c);
	if (ret)
		return ret;
	pci_cfg_declare(cfg, c + VIRTIO_PCI_NOTIFY_CAP_MULT, 4, VP_NOTIFY_MULT,
			0, 0);
	/* §4.1.4.9: bar, offset, length and the data window are writable. */
	ret = vp_add_cap(vp, VIRTIO_PCI_CAP_PCI_CFG, VP_CAP_PCI_CFG_LEN, 0, 0,
			 &vp->pcicfg_cap);
	if (ret)
		return ret;
	c = vp->pcicfg_cap;
	pci_cfg_declare(cfg, c + VIRTIO_PCI_CAP_BAR, 1, 0, 0xff, 0);
	pci_cfg_declare(cfg, c + VIRTIO_PCI_CAP_OFFSET, 4, 0, 0xffffffff, 0);
	pci_cfg_declare(cfg, c + VIRTIO_PCI_CAP_LENGTH, 4, 0, 0xffffffff, 0);
	pci_cfg_declare(cfg, c + VIRTIO_PCI_CFG_CAP_DATA, 4, 0, 0xffffffff, 0);
	return 0;
}

int virtio_pci_create(struct virtio_dev *dev, struct irq *irq,
		      struct ioloop *io, struct virtio_pci **out)
{
	struct pci_id id = {
		.vendor = VP_VENDOR,
		.device = (uint16_t)(VP_DEVICE_BASE + dev->device_id),
		.subsys_vendor = VP_VENDOR,
		.subsys = VP_SUBSYS,
		.revision = VP_REVISION,
		.class_code = (uint32_t)dev->pci_class << 8,
	};
	struct virtio_pci *vp;
	int ret;

	if (dev->cfg_size > VP_DEVCFG_SIZE)
		return -EINVAL;
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	ret = virtio_transport_init(&vp->t, &vp_transport_ops,
				    VIRTIO_TRANSPORT_PCI, dev);
	if (ret) {
		free(vp);
		return ret;
	}
	vp->irq = irq;
	vp->io = io;
	vp->nvec = dev->nr_queues + 1;
	vp->bar4 = PCI_BAR_UNMAPPED;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vp->q[i] = (struct vp_queue){
			.vp = vp, .idx = i, .kick_fd = -1, .call_fd = -1,
			.external = dev->external_queues >> i & 1,
			.msix_vector = VIRTIO_MSI_NO_VECTOR,
		};
	ret = pci_dev_init(&vp->pdev, &vp_pci_ops, vp_name(vp), &id);
	if (ret) {
		virtio_transport_fini(&vp->t);
		free(vp);
		return ret;
	}
	ret = pci_cfg_add_bar(&vp->pdev.cfg, VP_BAR_CFG, PCI_BAR_MEM64,
			      VP_BAR_CFG_SIZE, true);
	if (!ret)
		ret = vp_msix_init(vp);
	if (!ret)
		ret = vp_add_caps(vp);
	if (!ret)
		ret = vp_kicks_init(vp);
	if (ret) {
		virtio_pci_destroy(vp);
		return ret;
	}
	*out = vp;
	return 0;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	vp_kicks_fini(vp);
	vp_msix_fini(vp);
	pci_dev_fini(&vp->pdev);
	virtio_transport_fini(&vp->t);
	free(vp);
}

struct pci_dev *virtio_pci_dev(struct virtio_pci *vp)
{
	return &vp->pdev;
}

struct pci_dev *virtio_dev_pci(struct virtio_dev *dev)
{
	struct virtio_transport *t = dev->transport;

	if (!t || t->kind != VIRTIO_TRANSPORT_PCI)
		return NULL;
	return &vp_of(t)->pdev;
}
