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
 * All devices of one VM share one VFIO container (one IOMMU domain, one
 * mapping of guest RAM): the VM owns a `struct vfio_container *` slot,
 * NULL at first; each vfio_pci_create() takes a reference (the first one
 * creates the container and maps guest RAM), each vfio_pci_destroy() drops
 * it, and the last one unmaps and closes everything and sets the slot back
 * to NULL. Creation and destruction run on the main thread only.
 */
#ifndef IOVMM_VFIO_H
#define IOVMM_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/gmem.h"
#include "core/irq.h"
#include "core/memslot.h"
#include "core/pci/pci.h"
#include "iommu/dma.h"

struct vfio_pci_config {
	/* "0000:01:00.1", "01:00.1" or a sysfs device path; borrowed. */
	const char *host;
	uint32_t no_mmap_bars;   /* bit n set: BAR n is trapped entirely */
	bool rom_off;            /* hide the expansion ROM */
	bool keep_vendor_caps;   /* x-keep-vendor-caps: expose vendor/unknown caps */
	/*
	 * The VF token (a UUID string) when host is a VF of a PF owned by
	 * vfio-pci (sriov_vf_token()), else NULL. Borrowed, used only while
	 * vfio_pci_create() opens the device.
	 */
	const char *vf_token;
};

/* What a passthrough device needs from its VM. Everything is borrowed. */
struct vfio_ctx {
	struct gmem *mem;
	struct irq *irq;
	struct bus *bus;              /* the expansion ROM's MMIO range */
	struct memslots *slots;       /* BAR mappings */
	struct vfio_container **container; /* the VM's container slot */
	const char *sysfs_root;       /* NULL: "/sys" (tests use a fake tree) */
	const char *dev_root;         /* NULL: "/dev" */
};

struct vfio_pci;

/*
 * The checks vfio_pci_create() makes of the host before it opens anything
 * (the function exists, VFIO is loaded, it is bound to vfio-pci, its IOMMU
 * group is viable), for refusing a bad --device before the VM is built.
 * Roots as in struct vfio_ctx (NULL: /sys, /dev). Same errors as below.
 */
int vfio_pci_host_check(const char *host, const char *sysfs_root,
			const char *dev_root, char *err, size_t errlen);

/*
 * Open host function cfg->host through VFIO and build the guest-visible PCI
 * device on it: virtual config space (BARs sized from the host's), MSI/MSI-X
 * virtualization, BAR mmaps, device reset. The caller then plugs it with
 * pci_host_add(host, vfio_pci_dev(v)), which places the BARs and (through
 * bar_moved) maps them into the guest. cfg and ctx are copied (the strings
 * too). On failure returns -errno and a one-line reason in err, e.g.
 *   -ENODEV "VFIO is not available: load vfio-pci (modprobe vfio-pci)"
 *   -ENODEV "vfio-pci: no PCI device 0000:01:00.7 (see iovmm vfio list)"
 *   -EBUSY  "0000:01:00.1 is bound to nvme, not vfio-pci: run iovmm vfio
 *            bind 0000:01:00.1"
 *   -EBUSY  "IOMMU group 7 is not viable: 0000:00:1f.3 in the same group
 *            is bound to snd_hda_intel..."
 *   -EPERM  "host has no interrupt remapping; refusing (set
 *            vfio_iommu_type1.allow_unsafe_interrupts=1 to override)"
 */
int vfio_pci_create(const struct vfio_pci_config *cfg,
		    const struct vfio_ctx *ctx, struct vfio_pci **out,
		    char *err, size_t errlen);

/*
 * Tear down: interrupts off, BAR mappings removed, device reset, container
 * reference dropped. Runs after the vCPUs are joined and after
 * pci_host_destroy() (or before pci_host_add()). Idempotent on NULL.
 */
void vfio_pci_destroy(struct vfio_pci *v);

/* The PCI device to hand to pci_host_add(). */
struct pci_dev *vfio_pci_dev(struct vfio_pci *v);

/*
 * Wire INTx to IOAPIC pin gsi (level, with KVM resample: EOI unmasks the
 * host line) and report it in INTERRUPT_LINE. Until this is called the
 * device reports no interrupt pin. -ENOTSUP when the function has no INTx.
 */
int vfio_pci_set_intx_gsi(struct vfio_pci *v, uint32_t gsi);
/* The host function's interrupt pin: 0 none, 1-4 INTA#-INTD#. */
unsigned vfio_pci_intx_pin(const struct vfio_pci *v);

/*
 * Secondary-bus (hot) reset: only when the VM's container owns every group
 * the reset reaches, else -EPERM with the reason in err.
 */
int vfio_pci_hot_reset(struct vfio_pci *v, char *err, size_t errlen);

/* Guest RAM DMA mapping statistics of a VM's container (zeros if NULL). */
struct vfio_container;
void vfio_container_dma_stats(const struct vfio_container *c,
			      struct iommu_dma_stats *out);

#endif
