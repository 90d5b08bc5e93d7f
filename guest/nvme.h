/* SPDX-License-Identifier: MIT */
/*
 * The kit's NVMe driver (NVM Express Base Specification 2.0, "NVMe 2.0"
 * below): controller reset and enable, the admin queue, Identify, one I/O
 * queue pair, Read/Write with PRPs, completions by phase-bit polling with
 * MSI-X delivery counted on the side. Written for assigned functions (the
 * lab's SR-IOV VF of QEMU's NVMe controller under VFIO) and QEMU's emulated
 * nvme; nothing here is device-specific beyond the spec.
 *
 * Memory: queues, PRP lists and buffers come from kit_alloc(), which
 * hands out identity-mapped RAM, so a pointer is its own DMA address
 * (IOVA = GPA under iovmm's VFIO policy). Page size is fixed at 4 KiB
 * (CC.MPS = 0); a controller whose CAP.MPSMIN is larger is refused.
 */
#ifndef IOVMM_GUEST_NVME_H
#define IOVMM_GUEST_NVME_H

#include "guest/kit.h"

#define KIT_NVME_PAGE 4096u
/* One PRP list page, no chaining: 512 entries after PRP1's page. */
#define KIT_NVME_MAX_XFER (512u * KIT_NVME_PAGE)
#define KIT_NVME_TIMEOUT (-1)

/* Submission queue entry (NVMe 2.0 §4.2): 16 dwords. */
struct kit_nvme_cmd {
	uint32_t cdw[16];
};

/* What the driver keeps of a completion queue entry (§4.6). */
struct kit_nvme_cqe {
	uint32_t dw0;
	uint16_t sqhd, sqid, cid;
	uint16_t status; /* status field without the phase bit: SC 7:0,
			    SCT 10:8, CRD 12:11, M 13, DNR 14 */
};

struct kit_nvme_queue {
	volatile uint32_t *sq; /* depth * 16 dwords */
	volatile uint32_t *cq; /* depth * 4 dwords */
	uint64_t sq_db, cq_db; /* doorbell addresses */
	uint16_t qid, depth, sq_tail, cq_head, next_cid;
	uint8_t phase;
};

struct kit_nvme {
	struct kit_pci_dev *pci;
	uint64_t regs;
	uint64_t cap;
	uint32_t vs;
	uint32_t db_stride;    /* bytes between doorbells (4 << CAP.DSTRD) */
	uint64_t timeout;      /* TSC cycles for one command */
	struct kit_nvme_queue admin, io;
	bool io_ready;
	uint64_t *prp_list;    /* one page */
	/* Identify Controller (§5.17.2.1). */
	char model[41], serial[21], firmware[9];
	uint8_t mdts;
	uint16_t cntlid;
	uint32_t nn;
	uint32_t max_xfer;     /* bytes per command: MDTS, capped */
	/* Identify Namespace (NVM Command Set spec §4.1.5.1). */
	uint32_t nsid;
	uint64_t nsze;         /* blocks */
	uint32_t lba_size;
	/* MSI-X (PCI 3.0 §6.8.2). */
	unsigned int msix_cap;
	uint16_t msix_vectors;
	uint64_t msix_table;
	bool msix_on;
	/* Counters. */
	uint64_t cmds, timeouts;
};

/*
 * Reset the controller (CC.EN = 0, wait CSTS.RDY = 0), set up an admin
 * queue of `admin_depth` entries and enable it. `timeout_ms` bounds every
 * later command too. On failure returns -1 and sets *reason.
 */
int kit_nvme_init(struct kit_nvme *n, struct kit_pci_dev *d,
		  uint16_t admin_depth, uint64_t timeout_ms,
		  const char **reason);
/* Identify Controller into n (model, serial, MDTS, NN). */
int kit_nvme_identify_ctrl(struct kit_nvme *n, const char **reason);
/* Identify Namespace `nsid`: size and LBA format. -1 if inactive. */
int kit_nvme_identify_ns(struct kit_nvme *n, uint32_t nsid,
			 const char **reason);
/*
 * Set Features Number of Queues (1+1, tolerated if refused), then Create
 * I/O CQ 1 (interrupts on MSI-X `vector` when `irq`) and I/O SQ 1.
 */
int kit_nvme_create_io(struct kit_nvme *n, uint16_t depth, bool irq,
		       uint16_t vector, const char **reason);
/*
 * Program MSI-X table entry `vector` to deliver IDT vector `idt` to this
 * CPU and enable MSI-X (function mask cleared). -1 without MSI-X. Call it
 * before kit_nvme_create_io(): QEMU's NVMe (7.2, nvme_init_cq) only
 * claims the vector of a CQ created while MSI-X is enabled, and Linux
 * orders it the same way.
 */
int kit_nvme_msix_enable(struct kit_nvme *n, uint16_t vector, uint8_t idt,
			 const char **reason);
void kit_nvme_msix_disable(struct kit_nvme *n);

/*
 * Submit one command on `q` (the CID is filled in) and poll for its
 * completion. Returns 0 on success, the status field (> 0) on an error
 * completion, KIT_NVME_TIMEOUT when nothing arrives in time.
 */
int kit_nvme_submit(struct kit_nvme *n, struct kit_nvme_queue *q,
		    struct kit_nvme_cmd *cmd, struct kit_nvme_cqe *cqe);
/*
 * The two halves of kit_nvme_submit, for commands that complete late or
 * never (an Asynchronous Event Request): put `cmd` in q's next slot with a
 * fresh CID (returned) and ring the tail doorbell; then wait for the
 * completion of any CID in [cid, cid + ncid) (commands posted one after
 * the other have consecutive CIDs), skipping any other entry; same
 * returns as submit, the entry in *cqe.
 */
uint16_t kit_nvme_post(struct kit_nvme *n, struct kit_nvme_queue *q,
		       struct kit_nvme_cmd *cmd);
int kit_nvme_wait(struct kit_nvme *n, struct kit_nvme_queue *q, uint16_t cid,
		  uint16_t ncid, struct kit_nvme_cqe *cqe);
/*
 * Fill PRP1/PRP2 (cdw 6-9) for [buf, buf + len): PRP1 alone, PRP1+PRP2,
 * or PRP2 pointing at n->prp_list. buf must be dword aligned. -1 when
 * len is 0 or needs more than one list page.
 */
int kit_nvme_prp(struct kit_nvme *n, struct kit_nvme_cmd *cmd, uint64_t buf,
		 uint32_t len);
/* NVM Read/Write of `nblocks` blocks at `slba` through the I/O queue. */
int kit_nvme_rw(struct kit_nvme *n, bool write, uint64_t slba,
		uint32_t nblocks, void *buf, struct kit_nvme_cqe *cqe);
/*
 * Delete the I/O queues, disable MSI-X and reset the controller, so the
 * function does no more DMA. Returns -1 if any step failed.
 */
int kit_nvme_shutdown(struct kit_nvme *n);

/* Tests (test_nvme.c). */
int kit_test_nvme(struct kit_result *r);
int kit_test_nvme_dma_fault(struct kit_result *r);
int kit_test_nvme_hostile(struct kit_result *r); /* test_nvme_hostile.c */

#endif
