/* SPDX-License-Identifier: MIT */
/*
 * The modern virtio PCI transport (virtio 1.2 §4.1): a virtio_dev as a PCI
 * function. Device models reach it through virtio_dev_init() (virtio.h);
 * this header is for that dispatcher and for the transport's tests.
 *
 * Files: pci.c (the function: identity, capabilities, BAR layout and
 * dispatch, the PCI_CFG window, lifetime), pci_common.c (the common
 * configuration register file), pci_notify.c (kicks: eventfds,
 * ioeventfds, the I/O thread), pci_msix.c (interrupts: MSI-X vectors and
 * external queues' call eventfds on core/pci/msix.c); shared state in
 * pci_internal.h, register offsets in pci_regs.h.
 */
#ifndef IOVMM_VIRTIO_PCI_H
#define IOVMM_VIRTIO_PCI_H

#include "core/ioloop.h"
#include "core/irq.h"
#include "core/pci/pci.h"
#include "emul-devices/virtio/virtio.h"

struct pci_host;
struct virtio_pci;

/*
 * Wrap dev in a virtio PCI function, for the caller to plug into the host
 * bridge (virtio_pci_dev()): virtio_dev_init() with VIRTIO_TRANSPORT_PCI.
 * dev (and dev->mem), irq and io are borrowed and must outlive the device.
 * Each queue gets an eventfd registered with io (one ioloop handler per
 * queue); irq may be NULL (no KVM ioeventfds: kicks trap), io may be NULL
 * (no kicks are delivered; unit tests). -EINVAL (bad dev fields), -ENOMEM,
 * -ENOSPC (ioloop full), -errno from eventfd().
 */
int virtio_pci_create(struct virtio_dev *dev, struct irq *irq,
		      struct ioloop *io, struct virtio_pci **out);
/*
 * Unregister the ioeventfds and ioloop handlers, free the transport and
 * destroy dev->lock: virtio_dev_exit(). Call after the vCPUs and the I/O
 * thread have stopped and after pci_host_destroy() (the host has no
 * hot-unplug). Idempotent on NULL.
 */
void virtio_pci_destroy(struct virtio_pci *vp);
/* The PCI function (for tests and the VMM's bookkeeping). */
struct pci_dev *virtio_pci_dev(struct virtio_pci *vp);

#endif
