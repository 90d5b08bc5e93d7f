/* SPDX-License-Identifier: MIT */
/*
 * VFIO passthrough: a host PCI function assigned to the guest behind the
 * host IOMMU (`--device vfio-pci,host=BDF[,no-mmap=N][,rom=off]`).
 *
 * The guest drives the real function directly: its BARs are mmapped from
 * VFIO and registered as KVM memory slots (guest MMIO never exits, except
 * the pages holding the MSI-X table and PBA, which are emulated), its DMA
 * goes through the host IOMMU, which maps all guest RAM at IOVA = GPA
 * (iommu/dma.h), and its MSI/MSI-X vectors are eventfds the kernel signals
 * and KVM injects (irqfd), so iovmm is out of the data path.
 *
 * This is the transport-neutral part: it is built on a function already
 * opened as a struct vfio_device (vfio/device.h), by the VM's VFIO backend
 * (vfio/backend.h: type1 container today; the backend also maps guest RAM
 * for DMA and owns groups and containers) or by a test double. Creation
 * and destruction run on the main thread only.
 */
#ifndef IOVMM_VFIO_H
#define IOVMM_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/irq.h"
#include "core/memslot.h"
#include "core/pci/pci.h"
#include "vfio/device.h"

struct vfio_pci_config {
	uint32_t no_mmap_bars;   /* bit n set: BAR n is trapped entirely */
	bool rom_off;            /* hide the expansion ROM */
	bool keep_vendor_caps;   /* x-keep-vendor-caps: expose vendor/unknown caps */
};

/* What a passthrough device needs from its VM. Everything is borrowed. */
struct vfio_ctx {
	struct irq *irq;
	struct bus *bus;              /* the expansion ROM's MMIO range */
	struct memslots *slots;       /* BAR mappings */
};

struct vfio_pci;

/*
 * Build the guest-visible PCI device on vdev: virtual config space (BARs
 * sized from the host's), MSI/MSI-X virtualization, BAR mmaps, device
 * reset. Takes ownership of vdev, also on failure (released with
 * vdev->ops->release(), by vfio_pci_destroy() on success); the backend
 * that opened it must outlive the device. cfg and ctx are copied. The
 * caller then plugs it with pci_host_add(host, vfio_pci_dev(v)), which
 * places the BARs and (through bar_moved) maps them into the guest.
 * -errno and a one-line reason in err (a config space VFIO will not read,
 * a capability chain that loops...).
 */
int vfio_pci_create(struct vfio_device *vdev,
		    const struct vfio_pci_config *cfg,
		    const struct vfio_ctx *ctx, struct vfio_pci **out,
		    char *err, size_t errlen);

/*
 * Tear down: interrupts off, BAR mappings removed, device reset, vdev
 * released (what it was opened through stays with the backend). Runs
 * after the vCPUs are joined and after pci_host_destroy() (or before
 * pci_host_add()). Idempotent on NULL.
 */
void vfio_pci_destroy(struct vfio_pci *v);

/* The PCI device to hand to pci_host_add(). */
struct pci_dev *vfio_pci_dev(struct vfio_pci *v);


/*
 * Secondary-bus (hot) reset: only when the VM's backend owns every group
 * the reset reaches, else -EPERM with the reason in err.
 */
int vfio_pci_hot_reset(struct vfio_pci *v, char *err, size_t errlen);

#endif
