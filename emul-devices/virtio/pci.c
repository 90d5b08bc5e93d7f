// SPDX-License-Identifier: MIT
/*
 * The modern virtio PCI transport (virtio 1.2 §4.1), modern-only: 1af4:1040
 * + device type, revision 1 (§4.1.2.1), the ids QEMU uses with
 * disable-legacy=on.
 *
 * BAR 1 (32-bit MMIO): MSI-X table and PBA, one vector for configuration
 * changes plus one per queue. BAR 4 (64-bit prefetchable MMIO, 16 KiB),
 * laid out like QEMU's so drivers see familiar offsets:
 *   0x0000 common configuration (§4.1.4.3)
 *   0x1000 ISR status (§4.1.4.5), read-to-clear
 *   0x2000 device configuration (§4.1.4.6), forwarded to ops->cfg_read/write
 *   0x3000 notifications (§4.1.4.4), notify_off_multiplier 4: queue q at
 *          0x3000 + 4q, each slot a KVM ioeventfd on the queue's eventfd.
 * A VIRTIO_PCI_CAP_PCI_CFG window (§4.1.4.9) gives config-space access to
 * both BARs. There is no INTx: interrupts are MSI-X only (the ISR still
 * latches its bits for drivers that poll it).
 *
 * External queues (dev->external_queues, rings served by a vhost-user back
 * end): the queue's kick eventfd is still the KVM ioeventfd but nobody in
 * iovmm reads it - the back end does. Each such queue also has a call
 * eventfd that the back end writes; while the queue's MSI-X vector can
 * deliver (MSI-X enabled, function and vector unmasked) it is a KVM irqfd
 * on an MSI route of its own that mirrors the vector's table entry, so
 * neither direction of the data path enters iovmm. Otherwise (masked, no
 * vector, MSI-X off, no route left) the I/O thread reads it and raises the
 * interrupt through pci_msix_notify(), which latches the pending bit of a
 * masked vector (PCI 3.0 sec 6.8.2.9) - QEMU's "masked notifier" idea.
 * Every guest write that can change that decision (queue_msix_vector,
 * MSI-X table entries, the MSI-X message control, reset) re-wires it.
 *
 * Locking: vdev->lock (the virtio_dev's) guards everything here except
 * the constant fields set at creation. Lock order: pci_dev.lock (config
 * space, BAR moves), then vdev->lock, then the MSI-X lock. BAR handlers
 * run without pci_dev.lock, so they only ever take vdev->lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pci/host.h"
#include "core/pci/msix.h"
#include "core/util.h"
#include "emul-devices/virtio/virtio.h"

#define VP_VENDOR          0x1af4
#define VP_DEVICE_BASE     0x1040
#define VP_SUBSYS          0x1100 /* as QEMU */
#define VP_REVISION        1      /* §4.1.2.1: modern-only devices */

#define VP_BAR_MSIX        1
#define VP_BAR_CFG         4
#define VP_BAR_CFG_SIZE    0x4000
#define VP_COMMON_OFF      0x0000
#define VP_COMMON_SIZE     0x1000
#define VP_ISR_OFF         0x1000
#define VP_ISR_SIZE        0x1000
#define VP_DEVCFG_OFF      0x2000
#define VP_DEVCFG_SIZE     0x1000
#define VP_NOTIFY_OFF      0x3000
#define VP_NOTIFY_SIZE     0x1000
#define VP_NOTIFY_MULT     4

/* struct virtio_pci_cap cfg_type (§4.1.4). */
#define VP_CAP_COMMON      1
#define VP_CAP_NOTIFY      2
#define VP_CAP_ISR         3
#define VP_CAP_DEVICE      4
#define VP_CAP_PCI_CFG     5
#define VP_CAP_ID_VNDR     0x09
#define VP_CAP_LEN         16
#define VP_CAP_NOTIFY_LEN  20
#define VP_CAP_PCI_CFG_LEN 20
/* Offsets inside struct virtio_pci_cap. */
#define VP_CAP_BAR         4
#define VP_CAP_OFFSET      8
#define VP_CAP_LENGTH      12
#define VP_CAP_DATA        16 /* notify multiplier, or pci_cfg_data */

/* struct virtio_pci_common_cfg (§4.1.4.3). */
#define VP_C_DFSELECT      0x00
#define VP_C_DF            0x04
#define VP_C_GFSELECT      0x08
#define VP_C_GF            0x0c
#define VP_C_MSIX          0x10
#define VP_C_NUMQ          0x12
#define VP_C_STATUS        0x14
#define VP_C_CFGGEN        0x15
#define VP_C_Q_SELECT      0x16
#define VP_C_Q_SIZE        0x18
#define VP_C_Q_MSIX        0x1a
#define VP_C_Q_ENABLE      0x1c
#define VP_C_Q_NOFF        0x1e
#define VP_C_Q_DESCLO      0x20
#define VP_C_Q_DESCHI      0x24
#define VP_C_Q_AVAILLO     0x28
#define VP_C_Q_AVAILHI     0x2c
#define VP_C_Q_USEDLO      0x30
#define VP_C_Q_USEDHI      0x34
#define VP_C_REGS          0x40 /* 0x38-0x3f: notify data, reset: read 0 */

#define MIN_U64(a, b)      ((uint64_t)(a) < (uint64_t)(b) ? (uint64_t)(a) : (uint64_t)(b))

#define VP_ISR_QUEUE       0x1
#define VP_ISR_CONFIG      0x2

/*
 * Transport feature bits (§6) we implement; the others in 28..41 are
 * withheld even if a device model offers them.
 */
#define VP_TRANSPORT_MASK  (((1ULL << 42) - 1) & ~((1ULL << 28) - 1))
#define VP_TRANSPORT_OK    (1ULL << VIRTIO_F_INDIRECT_DESC |           \
			    1ULL << VIRTIO_F_EVENT_IDX |               \
			    1ULL << VIRTIO_F_VERSION_1 |               \
			    1ULL << VIRTIO_F_RING_PACKED)

struct vp_queue {
	struct virtio_pci *vp;  /* back pointer for the kick handler */
	unsigned idx;
	int kick_fd;            /* eventfd; owned */
	bool polled;            /* kick_fd is in the ioloop */
	bool external;          /* rings served outside iovmm (constant) */
	int call_fd;            /* external only: back end -> guest; owned */
	/* lock: vdev->lock */
	bool call_polled;       /* call_fd is in the ioloop */
	bool call_routed;       /* call_fd is an irqfd on call_gsi */
	uint32_t call_gsi;
	uint64_t call_addr;     /* MSI message call_gsi routes */
	uint32_t call_data;
	/* lock: vdev->lock */
	uint16_t size;
	uint16_t msix_vector;
	bool enabled;
	uint64_t desc, driver, device;
	uint8_t ioev_lens;      /* bit n: ioeventfd of len n registered */
};

struct virtio_pci {
	struct pci_dev pdev;
	struct virtio_dev *vdev;   /* borrowed */
	struct irq *irq;           /* borrowed, may be NULL (tests) */
	struct ioloop *io;         /* borrowed, may be NULL (tests) */
	struct pci_msix *msix;
	unsigned nvec;
	uint32_t pcicfg_cap;       /* offset of the PCI_CFG capability */
	uint64_t offered;          /* device features, transport-filtered */
	/* lock: vdev->lock */
	uint64_t driver_features;
	uint32_t dfselect, gfselect;
	uint16_t config_vector;
	uint16_t queue_select;
	uint8_t isr;
	uint8_t config_generation;
	uint64_t bar4;             /* where BAR 4 decodes, or PCI_BAR_UNMAPPED */
	uint32_t msix_cap;         /* MSI-X capability offset (constant) */
	uint16_t msix_ctrl;        /* its message control, as last written */
	struct vp_queue q[VIRTIO_MAX_QUEUES];
};

static const char *vp_name(const struct virtio_pci *vp)
{
	return vp->vdev->name ? vp->vdev->name : "virtio";
}

/* ---- kicks: ioeventfds and the I/O thread ---- */

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

static void vp_ioev_unregister(struct virtio_pci *vp, struct vp_queue *q)
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
static void vp_ioev_register(struct virtio_pci *vp, struct vp_queue *q)
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

static int vp_kick(void *opaque, int fd, uint32_t events)
{
	struct vp_queue *q = opaque;
	struct virtio_dev *dev = q->vp->vdev;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0; /* spurious wake-up (EAGAIN) */
	pthread_mutex_lock(&dev->lock);
	if (virtio_dev_queue_live(dev, q->idx) && dev->ops->queue_notify)
		dev->ops->queue_notify(dev, q->idx);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static void vp_signal_kick(struct virtio_pci *vp, unsigned qidx)
{
	uint64_t one = 1;

	if (write(vp->q[qidx].kick_fd, &one, sizeof(one)) != sizeof(one))
		log_ratelimited(LOG_WARN, vp_name(vp), "kick queue %u: %m",
				qidx);
}

/* A kick that trapped (no ioeventfd for this width): same path. */
static void vp_notify_write(struct virtio_pci *vp, uint64_t off)
{
	unsigned qidx = (unsigned)(off / VP_NOTIFY_MULT);

	if (qidx < vp->vdev->nr_queues)
		vp_signal_kick(vp, qidx);
}

/* ---- interrupts ---- */

static void vp_raise(struct virtio_pci *vp, uint8_t isr, uint16_t vector)
{
	vp->isr |= isr;
	if (vector != VIRTIO_MSI_NO_VECTOR)
		pci_msix_notify(&vp->pdev, vector); /* -EAGAIN: MSI-X off */
}

void virtio_dev_notify(struct virtio_dev *dev, unsigned qidx)
{
	struct virtio_pci *vp = dev->transport;

	if (!virtio_dev_queue_live(dev, qidx))
		return;
	if (virtq_should_notify(&dev->vqs[qidx]))
		vp_raise(vp, VP_ISR_QUEUE, vp->q[qidx].msix_vector);
}

void virtio_dev_config_changed(struct virtio_dev *dev)
{
	struct virtio_pci *vp = dev->transport;

	vp->config_generation++;
	if (dev->status & VIRTIO_STATUS_DRIVER_OK)
		vp_raise(vp, VP_ISR_CONFIG, vp->config_vector);
}

void virtio_dev_fail(struct virtio_dev *dev, const char *why)
{
	struct virtio_pci *vp = dev->transport;

	if (dev->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_ratelimited(LOG_WARN, vp_name(vp), "device needs reset: %s", why);
	dev->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* §2.1.2: with DRIVER_OK set, tell the driver through a config irq. */
	if (dev->status & VIRTIO_STATUS_DRIVER_OK) {
		vp->config_generation++;
		vp_raise(vp, VP_ISR_CONFIG, vp->config_vector);
	}
}

bool virtio_dev_queue_live(struct virtio_dev *dev, unsigned qidx)
{
	struct virtio_pci *vp = dev->transport;

	return qidx < dev->nr_queues &&
	       (dev->status & (VIRTIO_STATUS_DRIVER_OK |
			       VIRTIO_STATUS_NEEDS_RESET)) ==
		       VIRTIO_STATUS_DRIVER_OK &&
	       vp->q[qidx].enabled;
}

/* ---- external queues: the call eventfd (back end -> guest) ---- */

/*
 * Can vector v deliver now, and with which message? The table entry is
 * read through the MSI-X BAR accessor, the enable/mask bits from the
 * message control as last written (cached: BAR handlers run without the
 * pci_dev lock that guards config space).
 */
static bool vp_vector_target(struct virtio_pci *vp, uint16_t v,
			     uint64_t *addr, uint32_t *data)
{
	uint32_t e[4];

	if (!vp->msix || v >= vp->nvec ||
	    !(vp->msix_ctrl & PCI_MSIX_FLAGS_ENABLE) ||
	    (vp->msix_ctrl & PCI_MSIX_FLAGS_MASKALL))
		return false;
	for (unsigned i = 0; i < ARRAY_SIZE(e); i++)
		if (!pci_msix_bar_read(vp->msix, VP_BAR_MSIX,
				       (uint64_t)v * PCI_MSIX_ENTRY_SIZE + 4 * i,
				       &e[i], 4))
			return false;
	if (e[3] & PCI_MSIX_ENTRY_CTRL_MASKBIT)
		return false;
	*addr = e[0] | (uint64_t)e[1] << 32;
	*data = e[2];
	return true;
}

static void vp_call_unroute(struct virtio_pci *vp, struct vp_queue *q)
{
	if (!q->call_routed)
		return;
	irq_irqfd_detach(vp->irq, q->call_gsi, q->call_fd);
	irq_msi_route_del(vp->irq, q->call_gsi);
	q->call_routed = false;
}

/* Point q's own MSI route at (addr, data), creating route and irqfd. */
static int vp_call_route(struct virtio_pci *vp, struct vp_queue *q,
			 uint64_t addr, uint32_t data)
{
	int ret;

	if (q->call_routed) {
		if (q->call_addr == addr && q->call_data == data)
			return 0;
		ret = irq_msi_route_update(vp->irq, q->call_gsi, addr, data);
	} else {
		ret = irq_msi_route_add(vp->irq, addr, data, &q->call_gsi);
		if (!ret) {
			ret = irq_irqfd_attach(vp->irq, q->call_gsi, q->call_fd,
					       -1);
			if (ret)
				irq_msi_route_del(vp->irq, q->call_gsi);
			else
				q->call_routed = true;
		}
	}
	if (!ret) {
		q->call_addr = addr;
		q->call_data = data;
	}
	return ret;
}

/*
 * The back end signalled a queue whose vector cannot take an irqfd now.
 * The count was consumed, so the interrupt is raised whatever the wiring
 * has become meanwhile: a masked vector latches its pending bit.
 */
static int vp_call(void *opaque, int fd, uint32_t events)
{
	struct vp_queue *q = opaque;
	struct virtio_pci *vp = q->vp;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	pthread_mutex_lock(&vp->vdev->lock);
	if (vp->vdev->status & VIRTIO_STATUS_DRIVER_OK)
		vp_raise(vp, VP_ISR_QUEUE, q->msix_vector);
	pthread_mutex_unlock(&vp->vdev->lock);
	return 0;
}

/*
 * Choose between irqfd and I/O-thread delivery for q's call eventfd. The
 * new path is set up before the old one goes, so a signal racing with the
 * switch is delivered by one of them (KVM consumes the count of an irqfd
 * synchronously and injects on assign when it is already signalled).
 */
static void vp_call_rewire(struct virtio_pci *vp, struct vp_queue *q)
{
	uint64_t addr;
	uint32_t data;
	int ret;

	if (!q->external || q->call_fd < 0)
		return;
	if (vp->irq && vp_vector_target(vp, q->msix_vector, &addr, &data)) {
		ret = vp_call_route(vp, q, addr, data);
		if (!ret) {
			if (q->call_polled)
				ioloop_del(vp->io, q->call_fd);
			q->call_polled = false;
			return;
		}
		log_ratelimited(LOG_WARN, vp_name(vp),
				"queue %u: no irqfd (interrupts via the I/O thread): %s",
				q->idx, strerror(-ret));
	}
	if (!q->call_polled && vp->io) {
		ret = ioloop_add(vp->io, q->call_fd, EPOLLIN, vp_call, q);
		if (ret)
			log_ratelimited(LOG_WARN, vp_name(vp),
					"queue %u: call eventfd not polled: %s",
					q->idx, strerror(-ret));
		else
			q->call_polled = true;
	}
	vp_call_unroute(vp, q);
}

static void vp_call_rewire_all(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < vp->vdev->nr_queues; i++)
		vp_call_rewire(vp, &vp->q[i]);
}

/* ---- status machine (§2.1, §3.1.1) ---- */

static void vp_queue_reset(struct virtio_pci *vp, struct vp_queue *q)
{
	vp_ioev_unregister(vp, q);
	virtq_reset(&vp->vdev->vqs[q->idx]);
	q->size = vp->vdev->queue_max_size;
	q->msix_vector = VIRTIO_MSI_NO_VECTOR;
	q->enabled = false;
	q->desc = q->driver = q->device = 0;
	vp_call_rewire(vp, q);
}

/* Transport state after reset (§2.4), without telling the device model. */
static void vp_reset_state(struct virtio_pci *vp)
{
	struct virtio_dev *dev = vp->vdev;

	for (unsigned i = 0; i < dev->nr_queues; i++)
		vp_queue_reset(vp, &vp->q[i]);
	dev->features = 0;
	dev->status = 0;
	vp->driver_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->queue_select = 0;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	vp->isr = 0;
}

/* §2.4: writing 0 to device_status resets the device. */
static void vp_reset(struct virtio_pci *vp)
{
	struct virtio_dev *dev = vp->vdev;

	/* The model first: it stops using the queues before they go. */
	if (dev->ops->reset)
		dev->ops->reset(dev);
	vp_reset_state(vp);
}

/*
 * §3.1.1 step 5-6: FEATURES_OK sticks only when the driver accepted a
 * subset of the offer that includes VERSION_1 (a modern-only device,
 * §7.2.1), and the device model agrees.
 */
static bool vp_features_ok(struct virtio_pci *vp)
{
	struct virtio_dev *dev = vp->vdev;
	uint64_t f = vp->driver_features;

	if (f & ~vp->offered || !(f & (1ULL << VIRTIO_F_VERSION_1)))
		return false;
	if (dev->ops->set_features && dev->ops->set_features(dev, f))
		return false;
	dev->features = f;
	return true;
}

static void vp_set_status(struct virtio_pci *vp, uint8_t val)
{
	struct virtio_dev *dev = vp->vdev;
	uint8_t old = dev->status, add;

	if (val == 0) {
		vp_reset(vp);
		return;
	}
	/* Bits only accumulate until reset; NEEDS_RESET is the device's. */
	add = val & ~old & ~VIRTIO_STATUS_NEEDS_RESET;
	if ((add & VIRTIO_STATUS_FEATURES_OK) && !vp_features_ok(vp))
		add &= ~VIRTIO_STATUS_FEATURES_OK;
	if ((add & VIRTIO_STATUS_DRIVER_OK) &&
	    !((old | add) & VIRTIO_STATUS_FEATURES_OK)) {
		log_ratelimited(LOG_WARN, vp_name(vp),
				"DRIVER_OK without FEATURES_OK ignored");
		add &= ~VIRTIO_STATUS_DRIVER_OK;
	}
	dev->status = old | add;
	if (!(add & VIRTIO_STATUS_DRIVER_OK))
		return;
	if (dev->ops->activate && dev->ops->activate(dev)) {
		virtio_dev_fail(dev, "device activation failed");
		return;
	}
	/*
	 * One kick per enabled queue, through the I/O thread: buffers a
	 * driver made available (and kicked) before DRIVER_OK are not lost.
	 */
	for (unsigned i = 0; i < dev->nr_queues; i++)
		if (vp->q[i].enabled)
			vp_signal_kick(vp, i);
}

/* ---- queue configuration (§4.1.5.1.3) ---- */

static struct vp_queue *vp_cur_queue(struct virtio_pci *vp)
{
	return vp->queue_select < vp->vdev->nr_queues ?
		       &vp->q[vp->queue_select] : NULL;
}

/* Queue registers are writable before DRIVER_OK while the queue is off. */
static bool vp_queue_writable(struct virtio_pci *vp, struct vp_queue *q)
{
	return q && !q->enabled &&
	       !(vp->vdev->status & VIRTIO_STATUS_DRIVER_OK);
}

static void vp_queue_enable(struct virtio_pci *vp, struct vp_queue *q)
{
	struct virtio_dev *dev = vp->vdev;
	struct virtq_config cfg = {
		.size = q->size,
		.packed = dev->features & (1ULL << VIRTIO_F_RING_PACKED),
		.event_idx = dev->features & (1ULL << VIRTIO_F_EVENT_IDX),
		.indirect = dev->features & (1ULL << VIRTIO_F_INDIRECT_DESC),
		.desc_gpa = q->desc,
		.avail_gpa = q->driver,
		.used_gpa = q->device,
	};
	char why[64];

	if (!(dev->status & VIRTIO_STATUS_FEATURES_OK)) {
		log_ratelimited(LOG_WARN, vp_name(vp),
				"queue %u enabled before FEATURES_OK", q->idx);
		return;
	}
	if (q->size > dev->queue_max_size ||
	    virtq_init(&dev->vqs[q->idx], dev->mem, &cfg)) {
		snprintf(why, sizeof(why), "queue %u: invalid size or rings",
			 q->idx);
		virtio_dev_fail(dev, why);
		return;
	}
	q->enabled = true;
	vp_ioev_register(vp, q);
}

/* ---- common configuration: a register file read and written bytewise ---- */

static void put16(uint8_t *r, uint32_t off, uint16_t v)
{
	memcpy(r + off, &v, 2);
}

static void put32(uint8_t *r, uint32_t off, uint32_t v)
{
	memcpy(r + off, &v, 4);
}

static void vp_common_snapshot(struct virtio_pci *vp, uint8_t *r)
{
	struct virtio_dev *dev = vp->vdev;
	struct vp_queue *q = vp_cur_queue(vp);

	memset(r, 0, VP_C_REGS);
	put32(r, VP_C_DFSELECT, vp->dfselect);
	if (vp->dfselect < 2)
		put32(r, VP_C_DF, (uint32_t)(vp->offered >> (32 * vp->dfselect)));
	put32(r, VP_C_GFSELECT, vp->gfselect);
	if (vp->gfselect < 2)
		put32(r, VP_C_GF,
		      (uint32_t)(vp->driver_features >> (32 * vp->gfselect)));
	put16(r, VP_C_MSIX, vp->config_vector);
	put16(r, VP_C_NUMQ, (uint16_t)dev->nr_queues);
	r[VP_C_STATUS] = dev->status;
	r[VP_C_CFGGEN] = vp->config_generation;
	put16(r, VP_C_Q_SELECT, vp->queue_select);
	if (!q)
		return; /* §4.1.4.3: an absent queue reads queue_size 0 */
	put16(r, VP_C_Q_SIZE, q->size);
	put16(r, VP_C_Q_MSIX, q->msix_vector);
	put16(r, VP_C_Q_ENABLE, q->enabled);
	put16(r, VP_C_Q_NOFF, (uint16_t)q->idx);
	put32(r, VP_C_Q_DESCLO, (uint32_t)q->desc);
	put32(r, VP_C_Q_DESCHI, (uint32_t)(q->desc >> 32));
	put32(r, VP_C_Q_AVAILLO, (uint32_t)q->driver);
	put32(r, VP_C_Q_AVAILHI, (uint32_t)(q->driver >> 32));
	put32(r, VP_C_Q_USEDLO, (uint32_t)q->device);
	put32(r, VP_C_Q_USEDHI, (uint32_t)(q->device >> 32));
}

/* §4.1.5.1.2: a vector the device cannot use reads back as NO_VECTOR. */
static uint16_t vp_vector(struct virtio_pci *vp, uint16_t v)
{
	return v < vp->nvec ? v : VIRTIO_MSI_NO_VECTOR;
}

static void vp_set_half(uint64_t *reg, bool hi, uint32_t v)
{
	if (hi)
		*reg = (*reg & 0xffffffffULL) | (uint64_t)v << 32;
	else
		*reg = (*reg & ~0xffffffffULL) | v;
}

/* Apply one 32-bit-or-smaller field whose bytes the driver wrote. */
static void vp_common_apply(struct virtio_pci *vp, uint32_t field, uint32_t v)
{
	struct vp_queue *q = vp_cur_queue(vp);
	bool qw = vp_queue_writable(vp, q);

	switch (field) {
	case VP_C_DFSELECT: vp->dfselect = v; break;
	case VP_C_GFSELECT: vp->gfselect = v; break;
	case VP_C_GF:
		/* §3.1.1: features are fixed once FEATURES_OK is set. */
		if (vp->gfselect < 2 &&
		    !(vp->vdev->status & VIRTIO_STATUS_FEATURES_OK))
			vp_set_half(&vp->driver_features, vp->gfselect, v);
		break;
	case VP_C_MSIX: vp->config_vector = vp_vector(vp, (uint16_t)v); break;
	case VP_C_STATUS: vp_set_status(vp, (uint8_t)v); break;
	case VP_C_Q_SELECT: vp->queue_select = (uint16_t)v; break;
	case VP_C_Q_SIZE: if (qw) q->size = (uint16_t)v; break;
	case VP_C_Q_MSIX:
		if (q) {
			q->msix_vector = vp_vector(vp, (uint16_t)v);
			vp_call_rewire(vp, q);
		}
		break;
	case VP_C_Q_ENABLE:
		/* Writing 0 is meaningless without VIRTIO_F_RING_RESET. */
		if (qw && (v & 1))
			vp_queue_enable(vp, q);
		break;
	case VP_C_Q_DESCLO: case VP_C_Q_DESCHI:
		if (qw)
			vp_set_half(&q->desc, field == VP_C_Q_DESCHI, v);
		break;
	case VP_C_Q_AVAILLO: case VP_C_Q_AVAILHI:
		if (qw)
			vp_set_half(&q->driver, field == VP_C_Q_AVAILHI, v);
		break;
	case VP_C_Q_USEDLO: case VP_C_Q_USEDHI:
		if (qw)
			vp_set_half(&q->device, field == VP_C_Q_USEDHI, v);
		break;
	}
}

/* Writable fields in address order: {offset, size}. 64-bit fields are
 * two 32-bit halves, so an 8-byte write applies both (§4.1.3.1). */
static const struct { uint8_t off, size; } vp_common_fields[] = {
	{ VP_C_DFSELECT, 4 }, { VP_C_GFSELECT, 4 }, { VP_C_GF, 4 },
	{ VP_C_MSIX, 2 }, { VP_C_STATUS, 1 }, { VP_C_Q_SELECT, 2 },
	{ VP_C_Q_SIZE, 2 }, { VP_C_Q_MSIX, 2 }, { VP_C_Q_ENABLE, 2 },
	{ VP_C_Q_DESCLO, 4 }, { VP_C_Q_DESCHI, 4 }, { VP_C_Q_AVAILLO, 4 },
	{ VP_C_Q_AVAILHI, 4 }, { VP_C_Q_USEDLO, 4 }, { VP_C_Q_USEDHI, 4 },
};

static void vp_common_write(struct virtio_pci *vp, uint64_t off,
			    const void *data, uint32_t len)
{
	uint8_t r[VP_C_REGS];

	if (off >= VP_C_REGS || len > VP_C_REGS - off)
		return;
	/*
	 * Merge the written bytes into the current values, then apply every
	 * field they touch, in address order: partial writes of a field keep
	 * its other bytes, as on a real register file.
	 */
	vp_common_snapshot(vp, r);
	memcpy(r + off, data, len);
	for (unsigned i = 0; i < ARRAY_SIZE(vp_common_fields); i++) {
		uint32_t f = vp_common_fields[i].off, sz = vp_common_fields[i].size;
		uint32_t v = 0;

		if (!ranges_overlap(off, len, f, sz))
			continue;
		memcpy(&v, r + f, sz);
		vp_common_apply(vp, f, v);
	}
}

/* ---- BAR 4 ---- */

static void vp_cfg_bar_read(struct virtio_pci *vp, uint64_t off, void *data,
			    uint32_t len)
{
	struct virtio_dev *dev = vp->vdev;
	uint8_t r[VP_C_REGS];

	memset(data, 0, len);
	if (off < VP_COMMON_OFF + VP_COMMON_SIZE) {
		if (off < VP_C_REGS && len <= VP_C_REGS - off) {
			vp_common_snapshot(vp, r);
			memcpy(data, r + off, len);
		}
	} else if (off < VP_ISR_OFF + VP_ISR_SIZE) {
		/* §4.1.4.5.1: reading the ISR clears it. */
		if (off == VP_ISR_OFF) {
			*(uint8_t *)data = vp->isr;
			vp->isr = 0;
		}
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
	struct virtio_dev *dev = vp->vdev;

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
	pthread_mutex_lock(&vp->vdev->lock);
	vp_cfg_bar_read(vp, off, data, len);
	pthread_mutex_unlock(&vp->vdev->lock);
	return 0;
}

static int vp_bar_write(struct pci_dev *pdev, unsigned bar, uint64_t off,
			const void *data, uint32_t len)
{
	struct virtio_pci *vp = container_of(pdev, struct virtio_pci, pdev);

	if (bar == VP_BAR_MSIX) {
		pci_msix_bar_write(vp->msix, bar, off, data, len);
		/* A table entry of an external queue's vector may have changed. */
		if (vp->vdev->external_queues) {
			pthread_mutex_lock(&vp->vdev->lock);
			vp_call_rewire_all(vp);
			pthread_mutex_unlock(&vp->vdev->lock);
		}
		return 0;
	}
	if (bar != VP_BAR_CFG || off >= VP_BAR_CFG_SIZE)
		return 0;
	if (off >= VP_NOTIFY_OFF) {
		/* Lock-free: the kick goes through the queue's eventfd. */
		vp_notify_write(vp, off - VP_NOTIFY_OFF);
		return 0;
	}
	pthread_mutex_lock(&vp->vdev->lock);
	vp_cfg_bar_write(vp, off, data, len);
	pthread_mutex_unlock(&vp->vdev->lock);
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

	*bar = pci_cfg_read(cfg, c + VP_CAP_BAR, 1);
	*off = pci_cfg_read(cfg, c + VP_CAP_OFFSET, 4);
	*len = pci_cfg_read(cfg, c + VP_CAP_LENGTH, 4);
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
	uint32_t data_off = vp->pcicfg_cap + VP_CAP_DATA, v = 0, boff, blen;
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
	uint32_t data_off = vp->pcicfg_cap + VP_CAP_DATA, v, boff, blen;
	unsigned bar;

	pci_dev_cfg_write(pdev, off, val, len);
	if (ranges_overlap(off, len, vp->msix_cap, 4)) {
		pthread_mutex_lock(&vp->vdev->lock);
		vp->msix_ctrl = (uint16_t)pci_cfg_read(&pdev->cfg,
						       vp->msix_cap + PCI_MSIX_FLAGS, 2);
		vp_call_rewire_all(vp);
		pthread_mutex_unlock(&vp->vdev->lock);
	}
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
	struct virtio_dev *dev = vp->vdev;

	if (bar != VP_BAR_CFG)
		return;
	pthread_mutex_lock(&dev->lock);
	for (unsigned i = 0; i < dev->nr_queues; i++)
		vp_ioev_unregister(vp, &vp->q[i]);
	vp->bar4 = new_addr;
	for (unsigned i = 0; i < dev->nr_queues; i++)
		if (vp->q[i].enabled)
			vp_ioev_register(vp, &vp->q[i]);
	pthread_mutex_unlock(&dev->lock);
}

/* Function-level reset through the PCI host (pci_dev.lock held). */
static void vp_pci_reset(struct pci_dev *pdev)
{
	struct virtio_pci *vp = container_of(pdev, struct virtio_pci, pdev);

	pthread_mutex_lock(&vp->vdev->lock);
	vp->msix_ctrl = (uint16_t)pci_cfg_read(&pdev->cfg,
					       vp->msix_cap + PCI_MSIX_FLAGS, 2);
	vp_reset(vp);
	pthread_mutex_unlock(&vp->vdev->lock);
}

static const struct pci_dev_ops vp_pci_ops = {
	.cfg_read = vp_pci_cfg_read,
	.cfg_write = vp_pci_cfg_write,
	.bar_read = vp_bar_read,
	.bar_write = vp_bar_write,
	.bar_moved = vp_bar_moved,
	.reset = vp_pci_reset,
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
	pci_cfg_declare(cfg, c + 2, 1, caplen, 0, 0);
	pci_cfg_declare(cfg, c + 3, 1, type, 0, 0);
	pci_cfg_declare(cfg, c + VP_CAP_BAR, 1, VP_BAR_CFG, 0, 0);
	pci_cfg_declare(cfg, c + VP_CAP_OFFSET, 4, off, 0, 0);
	pci_cfg_declare(cfg, c + VP_CAP_LENGTH, 4, len, 0, 0);
	if (cap_out)
		*cap_out = c;
	return 0;
}

static int vp_add_caps(struct virtio_pci *vp)
{
	struct pci_cfg *cfg = &vp->pdev.cfg;
	uint32_t c;
	int ret;

	ret = vp_add_cap(vp, VP_CAP_COMMON, VP_CAP_LEN, VP_COMMON_OFF,
			 VP_COMMON_SIZE, NULL);
	if (!ret)
		ret = vp_add_cap(vp, VP_CAP_ISR, VP_CAP_LEN, VP_ISR_OFF,
				 VP_ISR_SIZE, NULL);
	if (!ret && vp->vdev->cfg_size)
		ret = vp_add_cap(vp, VP_CAP_DEVICE, VP_CAP_LEN, VP_DEVCFG_OFF,
				 VP_DEVCFG_SIZE, NULL);
	if (!ret)
		ret = vp_add_cap(vp, VP_CAP_NOTIFY, VP_CAP_NOTIFY_LEN,
				 VP_NOTIFY_OFF, VP_NOTIFY_SIZE, &c);
	if (ret)
		return ret;
	pci_cfg_declare(cfg, c + VP_CAP_DATA, 4, VP_NOTIFY_MULT, 0, 0);
	/* §4.1.4.9: bar, offset, length and the data window are writable. */
	ret = vp_add_cap(vp, VP_CAP_PCI_CFG, VP_CAP_PCI_CFG_LEN, 0, 0,
			 &vp->pcicfg_cap);
	if (ret)
		return ret;
	c = vp->pcicfg_cap;
	pci_cfg_declare(cfg, c + VP_CAP_BAR, 1, 0, 0xff, 0);
	pci_cfg_declare(cfg, c + VP_CAP_OFFSET, 4, 0, 0xffffffff, 0);
	pci_cfg_declare(cfg, c + VP_CAP_LENGTH, 4, 0, 0xffffffff, 0);
	pci_cfg_declare(cfg, c + VP_CAP_DATA, 4, 0, 0xffffffff, 0);
	return 0;
}

static int vp_add_msix(struct virtio_pci *vp, struct irq *irq)
{
	uint32_t tsize = vp->nvec * PCI_MSIX_ENTRY_SIZE;
	uint32_t pba_off = ALIGN_UP(tsize, 64);
	uint64_t size = 4096;
	int ret;

	while (size < pba_off + (vp->nvec + 63) / 64 * 8)
		size <<= 1;
	ret = pci_cfg_add_bar(&vp->pdev.cfg, VP_BAR_MSIX, PCI_BAR_MEM32, size,
			      false);
	if (ret)
		return ret;
	ret = pci_msix_create(&vp->pdev, irq, vp->nvec, VP_BAR_MSIX, 0,
			      pba_off, &vp->msix);
	if (ret)
		return ret;
	vp->msix_cap = pci_cfg_find_cap(&vp->pdev.cfg, PCI_CAP_ID_MSIX);
	return 0;
}

/*
 * Every queue gets its kick eventfd; an external queue's is read by the
 * back end, not by the I/O thread, and it gets a call eventfd as well.
 */
static int vp_init_queues(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < vp->vdev->nr_queues; i++) {
		struct vp_queue *q = &vp->q[i];

		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0)
			return -errno;
		if (q->external) {
			q->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (q->call_fd < 0)
				return -errno;
			pthread_mutex_lock(&vp->vdev->lock);
			vp_call_rewire(vp, q);
			pthread_mutex_unlock(&vp->vdev->lock);
			continue;
		}
		if (vp->io) {
			int ret = ioloop_add(vp->io, q->kick_fd, EPOLLIN,
					     vp_kick, q);
			if (ret)
				return ret;
			q->polled = true;
		}
	}
	return 0;
}

static int vp_check_dev(const struct virtio_dev *dev)
{
	if (!dev->ops || !dev->mem || dev->nr_queues == 0 ||
	    dev->nr_queues > VIRTIO_MAX_QUEUES || dev->cfg_size > VP_DEVCFG_SIZE)
		return -EINVAL;
	if (dev->nr_queues < 64 && dev->external_queues >> dev->nr_queues)
		return -EINVAL;
	/* The default queue size must be valid for split rings too. */
	if (!IS_POW2(dev->queue_max_size) ||
	    dev->queue_max_size > VIRTQ_MAX_SIZE)
		return -EINVAL;
	return 0;
}

int virtio_pci_create(struct virtio_dev *dev, struct irq *irq,
		      struct ioloop *io, struct pci_host *host,
		      struct virtio_pci **out)
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

	ret = vp_check_dev(dev);
	if (ret)
		return ret;
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	vp->vdev = dev;
	vp->irq = irq;
	vp->io = io;
	vp->nvec = dev->nr_queues + 1;
	vp->bar4 = PCI_BAR_UNMAPPED;
	vp->offered = (dev->host_features & ~VP_TRANSPORT_MASK) |
		      (dev->host_features & VP_TRANSPORT_OK) |
		      1ULL << VIRTIO_F_VERSION_1;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vp->q[i] = (struct vp_queue){
			.vp = vp, .idx = i, .kick_fd = -1, .call_fd = -1,
			.external = dev->external_queues >> i & 1,
		};
	ret = -pthread_mutex_init(&dev->lock, NULL);
	if (ret)
		goto err_free;
	dev->transport = vp;
	memset(dev->vqs, 0, sizeof(dev->vqs));
	vp_reset_state(vp);
	ret = pci_dev_init(&vp->pdev, &vp_pci_ops, vp_name(vp), &id);
	if (ret)
		goto err_mutex;
	ret = pci_cfg_add_bar(&vp->pdev.cfg, VP_BAR_CFG, PCI_BAR_MEM64,
			      VP_BAR_CFG_SIZE, true);
	if (!ret)
		ret = vp_add_msix(vp, irq);
	if (!ret)
		ret = vp_add_caps(vp);
	if (!ret)
		ret = vp_init_queues(vp);
	if (!ret)
		ret = pci_host_add(host, &vp->pdev);
	if (ret)
		goto err_destroy;
	*out = vp;
	return 0;

err_destroy:
	virtio_pci_destroy(vp);
	return ret;
err_mutex:
	pthread_mutex_destroy(&dev->lock);
err_free:
	dev->transport = NULL;
	free(vp);
	return ret;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	struct virtio_dev *dev;

	if (!vp)
		return;
	dev = vp->vdev;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct vp_queue *q = &vp->q[i];

		vp_ioev_unregister(vp, q);
		if (q->polled)
			ioloop_del(vp->io, q->kick_fd);
		if (q->kick_fd >= 0)
			close(q->kick_fd);
		vp_call_unroute(vp, q);
		if (q->call_polled)
			ioloop_del(vp->io, q->call_fd);
		if (q->call_fd >= 0)
			close(q->call_fd);
	}
	pci_msix_destroy(vp->msix);
	pci_dev_fini(&vp->pdev);
	pthread_mutex_destroy(&dev->lock);
	dev->transport = NULL;
	free(vp);
}

struct pci_dev *virtio_pci_dev(struct virtio_pci *vp)
{
	return &vp->pdev;
}

int virtio_dev_queue_rekick(struct virtio_dev *dev, unsigned qidx)
{
	struct virtio_pci *vp = dev->transport;
	uint64_t one = 1;

	if (!vp || qidx >= dev->nr_queues || vp->q[qidx].external ||
	    vp->q[qidx].kick_fd < 0)
		return -EINVAL;
	/* EAGAIN: the counter is saturated, a kick is pending anyway. */
	if (write(vp->q[qidx].kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

int virtio_dev_queue_info(struct virtio_dev *dev, unsigned qidx,
			  struct virtio_queue_info *out)
{
	struct virtio_pci *vp = dev->transport;
	const struct vp_queue *q;

	if (!vp || qidx >= dev->nr_queues)
		return -EINVAL;
	q = &vp->q[qidx];
	*out = (struct virtio_queue_info){
		.size = q->size,
		.enabled = q->enabled,
		.msix_vector = q->msix_vector,
		.desc = q->desc,
		.driver = q->driver,
		.device = q->device,
		.kick_fd = q->kick_fd,
		.call_fd = q->call_fd,
		.call_irqfd = q->call_routed,
	};
	return 0;
}
