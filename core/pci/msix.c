// SPDX-License-Identifier: MIT
/* TEMPORARY: hooks only; the MSI-X implementation follows. */
#include "core/pci/msix.h"

void pci_msix_cfg_sync(struct pci_msix *msix, struct pci_cfg *cfg,
		       uint32_t off, uint32_t len)
{
}

void pci_msix_cfg_written(struct pci_msix *msix, struct pci_cfg *cfg,
			  uint32_t off, uint32_t len)
{
}
