/* SPDX-License-Identifier: MIT */
/*
 * Private to emul-devices/nvme/: the controller structure, the spec's
 * register offsets, opcodes and status codes, and the functions the files
 * of the controller model share. Section and figure numbers are NVM
 * Express Base Specification 2.0 ("Base") and NVM Command Set
 * Specification 1.0 ("NVM") unless noted; the controller reports
 * version 1.4 (VS), whose mandatory feature set it implements.
 */
#ifndef IOVMM_NVME_INTERNAL_H
#define IOVMM_NVME_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "emul-devices/nvme/ctrl.h"

/* ---- what this controller is ---- */

#define NVME_PAGE          4096u   /* CC.MPS = 0, CAP.MPSMIN = MPSMAX = 0 */
#define NVME_PAGE_MASK     (NVME_PAGE - 1)
#define NVME_MAX_IOQ       64u     /* I/O SQ/CQ ids 1..64 */
#define NVME_NR_QUEUES     (NVME_MAX_IOQ + 1)
#define NVME_MQES          4095u   /* CAP.MQES: 4096 entries per queue */
#define NVME_MDTS          7u      /* 2^7 pages = 512 KiB, as QEMU's nvme */
#define NVME_MAX_XFER      (NVME_PAGE << NVME_MDTS)
#define NVME_MAX_IOV       (NVME_MAX_XFER / NVME_PAGE + 1)
#define NVME_LBA_SHIFT     9u      /* 512-byte blocks */
#define NVME_AERL          3u      /* 4 Asynchronous Event Requests */
#define NVME_ACL           3u      /* 4 Abort commands */
#define NVME_ERRLOG_N      4u      /* ELPE + 1 error log entries */
#define NVME_AER_QUEUE     4u      /* events waiting for an admin CQ slot */
#define NVME_NSID          1u      /* the one namespace */
#define NVME_SQES          6u      /* 64-byte SQ entries */
#define NVME_CQES          4u      /* 16-byte CQ entries */
#define NVME_SQE_SIZE      (1u << NVME_SQES)
#define NVME_CQE_SIZE      (1u << NVME_CQES)
#define NVME_VERSION       0x00010400u /* 1.4.0 */
#define NVME_CAP_TO        1u      /* 500 ms: RDY follows EN at once */

/* ---- controller registers (Base §3.1.3) ---- */

#define NVME_REG_CAP       0x00
#define NVME_REG_VS        0x08
#define NVME_REG_INTMS     0x0c
#define NVME_REG_INTMC     0x10
#define NVME_REG_CC        0x14
#define NVME_REG_CSTS      0x1c
#define NVME_REG_NSSR      0x20
#define NVME_REG_AQA       0x24
#define NVME_REG_ASQ       0x28
#define NVME_REG_ACQ       0x30
#define NVME_REG_END       0x40    /* registers kept in ctrl->regs */
#define NVME_REG_DB        0x1000  /* SQ0TDBL; CAP.DSTRD = 0 (4 bytes) */

#define NVME_CAP_CQR       (1u << 16)           /* contiguous queues */
#define NVME_CAP_CSS_NVM   (1u << (37 - 32))    /* in the high dword */

#define NVME_CC_EN         0x1u
#define NVME_CC_CSS(cc)    (((cc) >> 4) & 0x7)
#define NVME_CC_MPS(cc)    (((cc) >> 7) & 0xf)
#define NVME_CC_AMS(cc)    (((cc) >> 11) & 0x7)
#define NVME_CC_SHN(cc)    (((cc) >> 14) & 0x3)
#define NVME_CC_IOSQES(cc) (((cc) >> 16) & 0xf)
#define NVME_CC_IOCQES(cc) (((cc) >> 20) & 0xf)
#define NVME_CC_WMASK      0x00fffff1u /* EN, CSS..IOCQES; CRIME no */

#define NVME_CSTS_RDY      0x1u
#define NVME_CSTS_CFS      0x2u
#define NVME_CSTS_SHST_MASK (0x3u << 2)
#define NVME_CSTS_SHST_DONE (0x2u << 2)

/* ---- opcodes (Base §5, NVM §3) ---- */

#define NVME_ADM_DELETE_SQ 0x00
#define NVME_ADM_CREATE_SQ 0x01
#define NVME_ADM_GET_LOG   0x02
#define NVME_ADM_DELETE_CQ 0x04
#define NVME_ADM_CREATE_CQ 0x05
#define NVME_ADM_IDENTIFY  0x06
#define NVME_ADM_ABORT     0x08
#define NVME_ADM_SET_FEAT  0x09
#define NVME_ADM_GET_FEAT  0x0a
#define NVME_ADM_AER       0x0c

#define NVME_CMD_FLUSH     0x00
#define NVME_CMD_WRITE     0x01
#define NVME_CMD_READ      0x02
#define NVME_CMD_WRITE_ZEROES 0x08

/* ---- status field (Base §4.6.1.2): SC 7:0, SCT 10:8, DNR 14 ---- */

#define NVME_SCT_CMD       0x100  /* command specific */
#define NVME_DNR           0x4000

#define NVME_SC_SUCCESS          0x00
#define NVME_SC_INVALID_OPCODE   0x01
#define NVME_SC_INVALID_FIELD    0x02
#define NVME_SC_DATA_XFER_ERROR  0x04
#define NVME_SC_INTERNAL         0x06
#define NVME_SC_INVALID_NS       0x0b
#define NVME_SC_CMD_SEQ_ERROR    0x0c
#define NVME_SC_PRP_OFFSET       0x13
#define NVME_SC_NS_WRITE_PROTECTED 0x20
#define NVME_SC_LBA_RANGE        0x80
/* SCT 1: command specific (§4.6.1.2.2) */
#define NVME_SC_CQ_INVALID       (NVME_SCT_CMD | 0x00)
#define NVME_SC_QID_INVALID      (NVME_SCT_CMD | 0x01)
#define NVME_SC_QSIZE_INVALID    (NVME_SCT_CMD | 0x02)
#define NVME_SC_AER_LIMIT        (NVME_SCT_CMD | 0x05)
#define NVME_SC_INVALID_VECTOR   (NVME_SCT_CMD | 0x08)
#define NVME_SC_INVALID_LOG_PAGE (NVME_SCT_CMD | 0x09)
#define NVME_SC_QUEUE_DELETION   (NVME_SCT_CMD | 0x0c)
#define NVME_SC_NOT_SAVEABLE     (NVME_SCT_CMD | 0x0d)

/* Asynchronous events (Base §5.2). */
#define NVME_AER_TYPE_ERROR      0u
#define NVME_AER_TYPE_SMART      1u
#define NVME_AER_ERR_INVALID_DB  0x00u /* write to invalid doorbell register */
#define NVME_AER_ERR_DB_VALUE    0x01u /* invalid doorbell write value */
#define NVME_LOG_ERROR           0x01u
#define NVME_LOG_SMART           0x02u
#define NVME_LOG_FW_SLOT         0x03u

/* ---- queue entries ---- */

/* Submission queue entry (Base §4.2), copied out of guest RAM. */
struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags;     /* FUSE 1:0, PSDT 7:6 */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2, cdw3;
	uint64_t mptr;
	uint64_t prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == 64, "SQE is 64 bytes");

/* What a command handler answers; `defer`: no completion now (AER). */
struct nvme_cpl {
	uint32_t dw0;
	uint16_t status;
	bool defer;
};

struct nvme_sq {
	bool live;
	uint16_t cqid;
	uint32_t size;       /* entries */
	uint64_t base;       /* GPA, checked to be RAM at creation */
	uint32_t head, tail;
};

struct nvme_cq {
	bool live;
	bool ien;            /* interrupts enabled */
	bool posted;         /* entries posted since the last interrupt */
	uint16_t vector;
	uint32_t size;
	uint64_t base;
	uint32_t head, tail;
	uint8_t phase;       /* phase tag the controller writes now */
	uint32_t nsq;        /* SQs completing here (Invalid Queue Deletion) */
};

/* Set Features values (Base §5.27.1); reset on controller reset. */
struct nvme_features {
	uint32_t arbitration;
	uint32_t power_mgmt;
	uint16_t temp_over, temp_under;
	uint32_t err_recovery;
	bool wce;                        /* volatile write cache enable */
	uint16_t nsqa, ncqa;             /* queues allocated (1-based) */
	uint32_t int_coalescing;         /* stored, not acted upon */
	uint8_t vector_cd[(NVME_CTRL_VECTORS + 7) / 8]; /* coalescing disable */
	uint32_t write_atomicity;
	uint32_t async_config;
};

struct nvme_aer_event {
	uint8_t type, info, lid;
};

struct nvme_err_entry {
	uint64_t count;
	uint16_t sqid, cid, status, loc;
	uint64_t lba;
	uint32_t nsid;
};

struct nvme_ctrl {
	const struct nvme_ctrl_ops *ops;  /* constant after create */
	void *opaque;
	struct gmem *mem;
	int fd;
	uint64_t nlb;
	bool readonly;
	uint16_t vid, ssvid;
	char name[32];
	char serial[20];                  /* space padded, not terminated */

	/* lock guards everything below. */
	pthread_mutex_t lock;
	uint32_t regs[NVME_REG_END / 4];
	bool msix;                        /* transport: MSI-X enabled */
	bool intx_level;                  /* as last reported to ops */
	struct nvme_sq sq[NVME_NR_QUEUES];
	struct nvme_cq cq[NVME_NR_QUEUES];
	struct nvme_features feat;
	/* Asynchronous Event Requests outstanding, events waiting. */
	uint16_t aer_cid[NVME_AERL + 1];
	unsigned aer_n;
	struct nvme_aer_event aer_ev[NVME_AER_QUEUE];
	unsigned aer_ev_n;
	uint8_t aer_masked;               /* bit per event type (§5.2) */
	struct nvme_err_entry errlog[NVME_ERRLOG_N]; /* newest at errlog_pos */
	unsigned errlog_pos;
	uint64_t err_count;
	struct nvme_ctrl_stats stats;
	struct iovec iov[NVME_MAX_IOV];   /* scratch for one command */
	uint8_t page[NVME_PAGE];          /* scratch: Identify, log pages */
};

static inline uint32_t nvme_reg(const struct nvme_ctrl *c, uint32_t off)
{
	return c->regs[off / 4];
}

static inline void nvme_set_reg(struct nvme_ctrl *c, uint32_t off, uint32_t v)
{
	c->regs[off / 4] = v;
}

static inline bool nvme_ready(const struct nvme_ctrl *c)
{
	uint32_t csts = nvme_reg(c, NVME_REG_CSTS);

	return (csts & NVME_CSTS_RDY) && !(csts & NVME_CSTS_CFS);
}

/* regs.c: the register file (lock held). */
uint32_t nvme_regs_read(struct nvme_ctrl *c, uint32_t off);
void nvme_regs_write(struct nvme_ctrl *c, uint32_t off, uint32_t val);
void nvme_regs_reset(struct nvme_ctrl *c);
const char *nvme_reg_name(uint32_t off);

/* queue.c: queues, doorbells, completions, interrupts (lock held). */
void nvme_doorbell(struct nvme_ctrl *c, uint32_t off, uint32_t val);
int nvme_queues_enable(struct nvme_ctrl *c, const char **why);
void nvme_queues_reset(struct nvme_ctrl *c);
void nvme_fatal(struct nvme_ctrl *c, const char *why);
void nvme_irq_update(struct nvme_ctrl *c);
bool nvme_cq_full(const struct nvme_cq *cq);
void nvme_post(struct nvme_ctrl *c, uint16_t sqid, uint16_t cid,
	       const struct nvme_cpl *cpl);
void nvme_aer_event(struct nvme_ctrl *c, uint8_t type, uint8_t info,
		    uint8_t lid);
void nvme_aer_flush(struct nvme_ctrl *c);
void nvme_errlog_add(struct nvme_ctrl *c, uint16_t sqid, uint16_t cid,
		     uint16_t status, uint64_t lba);

/*
 * prp.c: map the data buffer [prp1, prp2] of len bytes (<= NVME_MAX_XFER)
 * into c->iov. Returns 0 (with *cnt) or an NVMe status (§4.1.1 rules).
 */
uint16_t nvme_prp_map(struct nvme_ctrl *c, uint64_t prp1, uint64_t prp2,
		      uint32_t len, unsigned *cnt);
/*
 * Copy n bytes of a controller buffer to the host through the command's
 * PRPs, zero-filled up to len (the transfer the command describes).
 */
uint16_t nvme_prp_to_host(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			  const void *buf, uint32_t n, uint32_t len);

/* admin.c, identify.c, io.c: command sets (lock held). */
struct nvme_cpl nvme_admin_cmd(struct nvme_ctrl *c, const struct nvme_sqe *sqe);
struct nvme_cpl nvme_io_cmd(struct nvme_ctrl *c, const struct nvme_sqe *sqe);
uint16_t nvme_identify(struct nvme_ctrl *c, const struct nvme_sqe *sqe);
uint16_t nvme_get_log(struct nvme_ctrl *c, const struct nvme_sqe *sqe);
void nvme_features_reset(struct nvme_ctrl *c);
int nvme_ns_flush(struct nvme_ctrl *c);

#endif
