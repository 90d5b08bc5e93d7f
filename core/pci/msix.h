/* SPDX-License-Identifier: MIT */
/*
 * MSI-X capability emulation (PCI 3.0 sec 6.8.2): a table of
 * {address, data, vector control} entries and a pending-bit array (PBA),
 * both living in a memory BAR of the device.
 *
 * Each unmasked vector with a valid entry, while MSI-X is enabled and the
 * function is not masked, owns a GSI routed to its (address, data) and an
 * eventfd attached to it (core/irq.h), so pci_msix_notify() is one eventfd
 * write. Masked vectors latch their PBA bit and fire on unmask
 * (sec 6.8.2.9). The table is written by vCPU threads through the BAR while
 * other threads notify: msix->lock guards it.
 */
#ifndef IOVMM_PCI_MSIX_H
#define IOVMM_PCI_MSIX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/irq.h"
#include "core/pci/pci.h"

#define PCI_MSIX_FLAGS          2
#define  PCI_MSIX_FLAGS_QSIZE   0x07ff
#define  PCI_MSIX_FLAGS_MASKALL 0x4000
#define  PCI_MSIX_FLAGS_ENABLE  0x8000
#define PCI_MSIX_TABLE          4
#define PCI_MSIX_PBA            8
#define PCI_MSIX_ENTRY_SIZE     16
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 1
#define PCI_MSIX_MAX_VECTORS    2048

struct pci_msix;

/*
 * Add an MSI-X capability for nr_vectors (1..2048) whose table sits at
 * table_off and PBA at pba_off inside BAR bar (both 8-byte aligned; the
 * caller sizes the BAR). Sets dev->msix. irq borrowed (NULL: eventfds only,
 * for tests). -EINVAL, -ENOSPC, -ENOMEM.
 */
int pci_msix_create(struct pci_dev *dev, struct irq *irq, unsigned nr_vectors,
		    unsigned bar, uint32_t table_off, uint32_t pba_off,
		    struct pci_msix **out);
void pci_msix_destroy(struct pci_msix *msix);

/* 0 delivered or latched pending; -EAGAIN disabled; -EINVAL bad vector. */
int pci_msix_notify(struct pci_dev *dev, unsigned vector);

/*
 * BAR access helpers for the device's bar_read/bar_write: true when
 * [off, off + len) is in the table or PBA (and was handled).
 */
bool pci_msix_bar_read(struct pci_msix *msix, unsigned bar, uint64_t off,
		       void *data, uint32_t len);
bool pci_msix_bar_write(struct pci_msix *msix, unsigned bar, uint64_t off,
			const void *data, uint32_t len);

/* Introspection for tests. */
uint64_t pci_msix_delivered(struct pci_dev *dev);
int pci_msix_vector_gsi(struct pci_dev *dev, unsigned vector, uint32_t *gsi);
int pci_msix_vector_fd(struct pci_dev *dev, unsigned vector);

/* Generic config path hooks, with dev->lock held (see msi.h). */
void pci_msix_cfg_sync(struct pci_msix *msix, struct pci_cfg *cfg,
		       uint32_t off, uint32_t len);
void pci_msix_cfg_written(struct pci_msix *msix, struct pci_cfg *cfg,
			  uint32_t off, uint32_t len);

#endif
