/* SPDX-License-Identifier: MIT */
/*
 * The NVMe controller model, without a transport: the register file, the
 * doorbells, admin and I/O queues, the PRP walker, the admin and NVM command
 * sets and one namespace on a file descriptor. The PCI function around it
 * (config space, BAR0, MSI-X table, INTx pin) is emul-devices/nvme/pci.c;
 * the fuzz target drives this API directly.
 *
 * The transport hands every access to the controller's register window
 * (BAR0 offsets 0x0000-0x1fff: registers, then the doorbells) to
 * nvme_ctrl_mmio_read/write and gets interrupts back through
 * struct nvme_ctrl_ops. Everything is serialised by one mutex inside the
 * controller; the ops run with it held and must not call back into
 * nvme_ctrl_* (lock order: transport config lock, controller lock, then
 * whatever the ops take, e.g. the MSI-X lock).
 */
#ifndef IOVMM_NVME_CTRL_H
#define IOVMM_NVME_CTRL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/gmem.h"

/* The controller's register window: 4 KiB of registers, then doorbells. */
#define NVME_CTRL_MMIO_SIZE 0x2000u
/* MSI-X vectors the controller can name (admin CQ + one per I/O CQ). */
#define NVME_CTRL_VECTORS 65u

struct nvme_ctrl;

struct nvme_ctrl_ops {
	/*
	 * A completion queue with interrupts enabled got new entries while
	 * MSI-X is on (nvme_ctrl_set_msix): send MSI-X vector `vector`
	 * (< NVME_CTRL_VECTORS). Controller lock held.
	 */
	void (*msix_notify)(void *opaque, unsigned vector);
	/*
	 * The pin-based interrupt (INTA#) changed level; only called while
	 * MSI-X is off, and only on changes. Controller lock held.
	 */
	void (*intx_set)(void *opaque, bool level);
};

struct nvme_ctrl_params {
	struct gmem *mem;          /* borrowed: all DMA goes through it */
	int fd;                    /* namespace 1's data; borrowed */
	uint64_t nlb;              /* namespace size in 512-byte blocks, >= 1 */
	bool readonly;             /* write-protected namespace */
	const char *name;          /* for logs; copied */
	const char *serial;        /* Identify SN, <= 20 bytes used; copied */
	uint16_t vid, ssvid;       /* Identify VID/SSVID (the PCI ids) */
	const struct nvme_ctrl_ops *ops; /* borrowed; callbacks may be NULL */
	void *opaque;
};

/* 0, -EINVAL (nlb 0, no mem or fd), -ENOMEM. */
int nvme_ctrl_create(const struct nvme_ctrl_params *p, struct nvme_ctrl **out);
/* Idempotent on NULL. Does not close the fd. */
void nvme_ctrl_destroy(struct nvme_ctrl *c);

/*
 * One guest access to the register window: off + len <= NVME_CTRL_MMIO_SIZE,
 * len 1, 2, 4 or 8. Reads fill all len bytes. A doorbell write runs the
 * queues it affects before returning (see queue.c for why).
 */
void nvme_ctrl_mmio_read(struct nvme_ctrl *c, uint32_t off, void *data,
			 uint32_t len);
void nvme_ctrl_mmio_write(struct nvme_ctrl *c, uint32_t off,
			  const void *data, uint32_t len);

/*
 * The transport's interrupt mode: MSI-X enabled (messages per CQ vector)
 * or not (INTA#, level-triggered, masked by INTMS bit 0). Re-evaluates
 * the pin.
 */
void nvme_ctrl_set_msix(struct nvme_ctrl *c, bool on);

/* Conventional/function-level reset: registers to reset values, queues gone. */
void nvme_ctrl_reset(struct nvme_ctrl *c);

struct nvme_ctrl_stats {
	uint64_t reads, writes, flushes, write_zeroes;
	uint64_t bytes_read, bytes_written;
	uint64_t admin_cmds;
	uint64_t errors;      /* completions with a non-zero status */
	uint64_t irqs;        /* MSI-X messages asked for */
	bool ready, fatal;    /* CSTS.RDY, CSTS.CFS */
	bool intx;            /* pin level as last reported */
};
void nvme_ctrl_get_stats(struct nvme_ctrl *c, struct nvme_ctrl_stats *out);

#endif
