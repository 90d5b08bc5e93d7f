/* SPDX-License-Identifier: MIT */
/*
 * An emulated NVMe controller (NVM Express Base 2.0 / 1.4, NVM command
 * set) as a PCI function, with one namespace on a raw image file or a
 * block device (512-byte blocks).
 *
 * PCI: 1b36:0010 (the ids of QEMU's nvme, so the guest kit's `nvme` test
 * finds it with the same command line on both VMMs; drivers bind by class
 * anyway), class 01/08/02 (NVM Express), INTA#, an MSI-X capability with
 * 65 vectors (admin queue + 64 I/O queues). BAR0 (64-bit memory, 16 KiB):
 *   0x0000 controller registers (CAP, VS, INTMS/INTMC, CC, CSTS, AQA,
 *          ASQ, ACQ), 0x1000 doorbells (CAP.DSTRD = 0),
 *   0x2000 MSI-X table, 0x3000 MSI-X PBA.
 * The controller model (queues, commands, registers) lives behind
 * emul-devices/nvme/ctrl.h; this is its PCI transport.
 *
 * Doorbell writes are served on the vCPU thread that writes them (see
 * queue.c for the reasoning); no I/O thread is involved.
 */
#ifndef IOVMM_NVME_H
#define IOVMM_NVME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gmem.h"
#include "core/irq.h"
#include "core/pci/pci.h"
#include "emul-devices/nvme/ctrl.h"

struct nvme;

struct nvme_config {
	const char *path;     /* raw image or block device */
	bool readonly;        /* O_RDONLY; the namespace is write protected */
	const char *name;     /* for logs; NULL: "nvme". Borrowed. */
	const char *serial;   /* Identify SN (20 bytes used); NULL: the
	                         image's base name */
};

/*
 * Open the image and create the controller on ctx->mem and ctx->irq (may
 * be NULL: unit tests, MSI-X then only signals its eventfds); the caller
 * plugs nvme_pci(n) into the host bridge, which wires INTA#. err receives
 * a one-line reason. 0, or -errno: the open() error, -EINVAL (no path, not
 * a regular file or block device, smaller than one block), -ENOMEM.
 */
int nvme_create(const struct pci_dev_ctx *ctx, const struct nvme_config *cfg,
		struct nvme **out, char *err, size_t errlen);
/*
 * fdatasync() and close the image, free the device. Call after the vCPUs
 * have stopped and after pci_host_destroy(). Idempotent on NULL. The same
 * as pci_dev_destroy(nvme_pci(n)).
 */
void nvme_destroy(struct nvme *n);

/* The PCI function (tests and the VMM's bookkeeping). */
struct pci_dev *nvme_pci(struct nvme *n);
/* Namespace size in 512-byte blocks. */
uint64_t nvme_capacity(const struct nvme *n);
void nvme_get_stats(struct nvme *n, struct nvme_ctrl_stats *out);

#endif
