/* SPDX-License-Identifier: MIT */
/*
 * The virtio PCI transport's state, shared by its files (pci.h lists
 * them). Not an interface: nothing outside emul-devices/virtio/pci*.c
 * includes it.
 *
 * The function (1af4:1040 + device type, revision 1, §4.1.2.1; the ids
 * QEMU uses with disable-legacy=on) has two BARs:
 *   BAR 1 (32-bit MMIO): MSI-X table and PBA, one vector for configuration
 *         changes plus one per queue;
 *   BAR 4 (64-bit prefetchable MMIO, 16 KiB), laid out like QEMU's so
 *         drivers see familiar offsets:
 *     0x0000 common configuration (§4.1.4.3)
 *     0x1000 ISR status (§4.1.4.5), read-to-clear
 *     0x2000 device configuration (§4.1.4.6), the model's cfg_read/write
 *     0x3000 notifications (§4.1.4.4), notify_off_multiplier 4: queue q at
 *            0x3000 + 4q, each slot a KVM ioeventfd on the queue's eventfd.
 * A VIRTIO_PCI_CAP_PCI_CFG window (§4.1.4.9) gives config-space access to
 * both BARs. There is no INTx: interrupts are MSI-X only (the ISR still
 * latches its bits for drivers that poll it).
 *
 * Locking: vdev->lock (the virtio_dev's) guards everything here except
 * the constant fields set at creation and what the comments name. Lock
 * order: pci_dev.lock (config space, BAR moves), then vdev->lock, then the
 * MSI-X lock. BAR handlers run without pci_dev.lock, so they only ever
 * take vdev->lock.
 */
#ifndef IOVMM_VIRTIO_PCI_INTERNAL_H
#define IOVMM_VIRTIO_PCI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ioloop.h"
#include "core/irq.h"
#include "core/pci/pci.h"
#include "core/util.h"
#include "emul-devices/virtio/pci.h"
#include "emul-devices/virtio/transport.h"

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

/* Registers of the common configuration; 0x38-0x3f (notify data, queue
 * reset) are not offered and read 0. */
#define VP_COMMON_REGS     0x40

struct vp_queue {
	struct virtio_pci *vp;  /* back pointer for the ioloop handlers */
	unsigned idx;
	bool external;          /* rings served outside iovmm (constant) */
	int kick_fd;            /* eventfd; owned */
	bool polled;            /* kick_fd is in the ioloop */
	int call_fd;            /* external only: back end -> guest; owned */
	/* call_fd is in the ioloop: set by the MSI-X model's source_wired
	 * hook, i.e. under the MSI-X lock. */
	bool call_polled;
	/* lock: vdev->lock */
	uint16_t msix_vector;
	uint8_t ioev_lens;      /* bit n: ioeventfd of len n registered */
};

struct virtio_pci {
	struct virtio_transport t; /* t.dev: the device, borrowed */
	struct pci_dev pdev;
	struct irq *irq;           /* borrowed, may be NULL (tests) */
	struct ioloop *io;         /* borrowed, may be NULL (tests) */
	struct pci_msix *msix;     /* owned */
	unsigned nvec;
	uint32_t pcicfg_cap;       /* offset of the PCI_CFG capability */
	/* lock: vdev->lock */
	uint32_t dfselect, gfselect;
	uint16_t config_vector;
	uint16_t queue_select;
	uint64_t bar4;             /* where BAR 4 decodes, or PCI_BAR_UNMAPPED */
	struct vp_queue q[VIRTIO_MAX_QUEUES];
};

static inline struct virtio_pci *vp_of(struct virtio_transport *t)
{
	return container_of(t, struct virtio_pci, t);
}

static inline const char *vp_name(const struct virtio_pci *vp)
{
	return vp->t.dev->name ? vp->t.dev->name : "virtio";
}

/* pci_common.c: BAR 4's common configuration, offset from its start. */
void vp_common_read(struct virtio_pci *vp, uint64_t off, void *data,
		    uint32_t len);
void vp_common_write(struct virtio_pci *vp, uint64_t off, const void *data,
		     uint32_t len);

/* pci_notify.c: kick eventfds, their ioeventfds and ioloop handlers. */
int vp_kicks_init(struct virtio_pci *vp);
void vp_kicks_fini(struct virtio_pci *vp);
void vp_ioev_register(struct virtio_pci *vp, struct vp_queue *q);
void vp_ioev_unregister(struct virtio_pci *vp, struct vp_queue *q);
/* BAR 4 moved (vdev->lock held): the ioeventfds of live queues follow. */
void vp_notify_moved(struct virtio_pci *vp, uint64_t bar4);
/* A kick that trapped: offset in the notification area. Lock-free. */
void vp_notify_write(struct virtio_pci *vp, uint64_t off);
int vp_kick(struct virtio_transport *t, unsigned qidx);

/* pci_msix.c: vectors, interrupts and external queues' call eventfds. */
int vp_msix_init(struct virtio_pci *vp);
void vp_msix_fini(struct virtio_pci *vp);
/* §4.1.5.1.2: a vector the device cannot use reads back as NO_VECTOR. */
uint16_t vp_vector(const struct virtio_pci *vp, uint16_t v);
/* Queue q's vector changed: its call eventfd follows. vdev->lock held. */
void vp_call_rebind(struct virtio_pci *vp, struct vp_queue *q);
void vp_interrupt(struct virtio_transport *t, unsigned qidx);

#endif
