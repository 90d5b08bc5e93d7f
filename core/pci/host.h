/* SPDX-License-Identifier: MIT */
/*
 * The PCI host bridge: bus 0 with a Q35-like host bridge (8086:29c0) at
 * 00:00.0, configuration mechanism #1 at ports 0xcf8-0xcff (PCI 3.0 sec
 * 3.2.2.3.2) and ECAM at LAYOUT_ECAM_START (PCIe 6.0 sec 7.2.2). Devices are
 * single-function, slots 1-31.
 *
 * pci_host_add() assigns BAR addresses like firmware does and turns decoding
 * on. Afterwards the guest owns the BARs: every config write is followed by
 * a comparison of where each BAR decodes; the host moves the BAR's bus range
 * and, when the new range cannot be registered (overlap), restores the old
 * BAR value (Cloud Hypervisor's model).
 */
#ifndef IOVMM_PCI_HOST_H
#define IOVMM_PCI_HOST_H

#include <stdint.h>

#include "core/bus.h"
#include "core/irq.h"
#include "core/pci/pci.h"

#define PCI_HOST_VENDOR  0x8086
#define PCI_HOST_DEVICE  0x29c0
#define PCI_HOST_SLOTS   32

struct pci_host;

/*
 * Create the host and register CF8/CFC (PIO) and ECAM (MMIO) on bus. bus and
 * irq are borrowed (irq may be NULL: the host itself raises nothing). 64-bit
 * memory BARs are assigned from [mmio64_base, mmio64_base + mmio64_size)
 * (above RAM, chosen by the VM); with mmio64_size 0 they go to the 32-bit
 * window. -EINVAL, -EEXIST (ports or ECAM taken), -ENOMEM.
 */
int pci_host_create(struct bus *bus, struct irq *irq, uint64_t mmio64_base,
		    uint64_t mmio64_size, struct pci_host **out);
/* Unregister every BAR and the config mechanisms. Devices are not freed. */
void pci_host_destroy(struct pci_host *h);

/*
 * Put dev in the next free slot, assign all its BARs (naturally aligned;
 * memory from the 32-bit window or, for 64-bit BARs, the 64-bit window; I/O
 * from LAYOUT_PIO_PCI_START) and set COMMAND.IO|MEMORY so the BARs decode at
 * once. dev is borrowed and must outlive the host. -ENOSPC (no slot or no
 * room for a BAR), -EEXIST (a BAR range is taken on the bus), -EBUSY (dev
 * already added).
 */
int pci_host_add(struct pci_host *h, struct pci_dev *dev);

/*
 * One config access to bus 0 as both mechanisms see it (exposed for tests
 * and for VMM-internal users): devfn = slot << 3 | function. Reads of absent
 * devices return all-ones. off + len must stay within 4 KiB.
 */
uint32_t pci_host_cfg_read(struct pci_host *h, uint8_t devfn, uint32_t off,
			   uint32_t len);
void pci_host_cfg_write(struct pci_host *h, uint8_t devfn, uint32_t off,
			uint32_t val, uint32_t len);

/* Device reset (FLR-like): config to reset values, BARs off the bus, ops->reset. */
void pci_host_reset_dev(struct pci_host *h, struct pci_dev *dev);

/* pci_host_reset_dev() on every device on the bus (a machine reset). */
void pci_host_reset_all(struct pci_host *h);

/* The host bridge device itself (00:00.0). */
struct pci_dev *pci_host_bridge(struct pci_host *h);

#endif
