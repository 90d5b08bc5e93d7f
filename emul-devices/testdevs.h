/* SPDX-License-Identifier: MIT */
/*
 * QEMU-compatible PCI test devices, so the guest kit runs the same tests
 * under iovmm and QEMU:
 *
 * pci-testdev (1b36:0005, QEMU docs/specs/pci-testdev.rst): BAR0 4 KiB MMIO,
 * BAR1 256 B I/O. Writing T (0..2) to offset 0 of a BAR selects test T of
 * that BAR: 0 no-eventfd (the VMM counts matching writes), 1
 * wildcard-eventfd, 2 datamatch-eventfd (a KVM ioeventfd takes the writes).
 * The selected test's header reads back byte-wise at offset 0.
 *
 * edu (1234:11e8 rev 0x10, QEMU docs/specs/edu.rst): BAR0 1 MiB MMIO with
 * identification, liveness, factorial, interrupt raise/ack and a DMA engine
 * with a 4 KiB buffer at device address 0x40000; one MSI vector and INTA#.
 */
#ifndef IOVMM_EMUL_TESTDEVS_H
#define IOVMM_EMUL_TESTDEVS_H

#include <stdint.h>

#include "core/gmem.h"
#include "core/irq.h"
#include "core/pci/pci.h"

struct pci_testdev;

/*
 * Uses ctx->irq (NULL: no KVM ioeventfds, writes are matched in
 * software); the caller plugs pci_testdev_pci(td).
 */
int pci_testdev_create(const struct pci_dev_ctx *ctx, struct pci_testdev **out);
/* Stops the running test (unregisters its ioeventfd). Idempotent on NULL. */
void pci_testdev_destroy(struct pci_testdev *td);
struct pci_dev *pci_testdev_pci(struct pci_testdev *td);
/*
 * Eventfd signals consumed so far (accumulated reads of the test eventfds,
 * done when the guest reads a header, as QEMU does, and by this call).
 */
uint64_t pci_testdev_ioeventfd_hits(struct pci_testdev *td);

struct edu;

/*
 * Uses ctx->mem (DMA) and ctx->irq (may be NULL: MSI then only signals
 * eventfds); INTA# is delivered once the host bridge wired it.
 */
int edu_create(const struct pci_dev_ctx *ctx, struct edu **out);
void edu_destroy(struct edu *edu);
struct pci_dev *edu_pci(struct edu *edu);
/* DMA transfers refused because they left guest RAM or the DMA buffer. */
uint64_t edu_dma_errors(struct edu *edu);

#endif
