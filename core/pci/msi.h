/* SPDX-License-Identifier: MIT */
/*
 * MSI capability emulation (PCI 3.0 sec 6.8.1): 64-bit message address,
 * 1-32 vectors, with or without per-vector masking.
 *
 * While the guest has MSI enabled, every enabled vector owns a GSI routed to
 * its (address, data) (irq_msi_route_add) and an eventfd attached to that GSI
 * with irq_irqfd_attach, so pci_msi_notify() is one eventfd write, from any
 * thread. Rewriting address/data updates the routes; disabling detaches and
 * frees them. A masked vector latches its pending bit instead and fires when
 * unmasked (sec 6.8.1.7).
 *
 * With irq == NULL (unit tests, no KVM) the eventfds exist but are attached
 * to nothing: pci_msi_vector_fd() lets a test read them.
 */
#ifndef IOVMM_PCI_MSI_H
#define IOVMM_PCI_MSI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/irq.h"
#include "core/pci/pci.h"

#define PCI_MSI_FLAGS         2    /* Message Control, from the cap start */
#define  PCI_MSI_FLAGS_ENABLE 0x0001
#define  PCI_MSI_FLAGS_QMASK  0x000e
#define  PCI_MSI_FLAGS_QSIZE  0x0070
#define  PCI_MSI_FLAGS_64BIT  0x0080
#define  PCI_MSI_FLAGS_MASKBIT 0x0100
#define PCI_MSI_ADDRESS_LO    4
#define PCI_MSI_ADDRESS_HI    8
#define PCI_MSI_DATA_64       12
#define PCI_MSI_MASK_64       16
#define PCI_MSI_PENDING_64    20

struct pci_msi;

/*
 * Add an MSI capability to dev (after pci_dev_init(), before
 * pci_host_add()) and set dev->msi. nr_vectors is a power of two <= 32.
 * irq is borrowed (may be NULL, see above). -EINVAL, -ENOSPC, -ENOMEM.
 */
int pci_msi_create(struct pci_dev *dev, struct irq *irq, unsigned nr_vectors,
		   bool per_vector_mask, struct pci_msi **out);
/* Tear down routes and eventfds; clears dev->msi. Idempotent on NULL. */
void pci_msi_destroy(struct pci_msi *msi);

/*
 * Signal vector. 0 when delivered or latched as pending (masked);
 * -EAGAIN when MSI is disabled or the vector is not enabled (not latched).
 */
int pci_msi_notify(struct pci_dev *dev, unsigned vector);
bool pci_msi_enabled(struct pci_dev *dev);

/* Introspection for tests: number of messages sent, per-vector GSI and fd. */
uint64_t pci_msi_delivered(struct pci_dev *dev);
int pci_msi_vector_gsi(struct pci_dev *dev, unsigned vector, uint32_t *gsi);
int pci_msi_vector_fd(struct pci_dev *dev, unsigned vector);

/*
 * Hooks of the generic config path (pci_dev_cfg_read/write), called with
 * dev->lock held: refresh device-owned bytes before a read, and apply the
 * guest's changes after a write. Any (off, len) may be passed.
 */
void pci_msi_cfg_sync(struct pci_msi *msi, struct pci_cfg *cfg, uint32_t off,
		      uint32_t len);
void pci_msi_cfg_written(struct pci_msi *msi, struct pci_cfg *cfg,
			 uint32_t off, uint32_t len);

#endif
