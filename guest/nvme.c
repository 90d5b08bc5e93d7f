/* SPDX-License-Identifier: MIT */
/*
 * NVMe driver for the guest kit (see guest/nvme.h). Section numbers are
 * NVM Express Base Specification 2.0 unless noted. One command is in
 * flight per queue at a time: the tests measure per-command latency and
 * count one MSI-X message per completion, and a single outstanding
 * command keeps the queue logic obviously correct.
 */
#include "guest/nvme.h"

/* Controller registers (§3.1.3). */
#define NVME_CAP 0x00
#define NVME_VS 0x08
#define NVME_CC 0x14
#define NVME_CSTS 0x1c
#define NVME_AQA 0x24
#define NVME_ASQ 0x28
#define NVME_ACQ 0x30
#define NVME_DOORBELLS 0x1000

#define CAP_MQES(c) ((uint32_t)((c) & 0xffff))
#define CAP_TO(c) ((uint32_t)(((c) >> 24) & 0xff)) /* 500 ms units */
#define CAP_DSTRD(c) ((uint32_t)(((c) >> 32) & 0xf))
#define CAP_CSS_NVM(c) (((c) >> 37) & 1)
#define CAP_MPSMIN(c) ((uint32_t)(((c) >> 48) & 0xf))

#define CC_EN 0x1u
#define CC_IOSQES (6u << 16) /* 64-byte SQ entries */
#define CC_IOCQES (4u << 20) /* 16-byte CQ entries */
#define CSTS_RDY 0x1u
#define CSTS_CFS 0x2u

/* Admin opcodes (§5, Figure 139) and NVM opcodes (NVM spec §3). */
#define ADM_DELETE_SQ 0x00
#define ADM_CREATE_SQ 0x01
#define ADM_DELETE_CQ 0x04
#define ADM_CREATE_CQ 0x05
#define ADM_IDENTIFY 0x06
#define ADM_SET_FEATURES 0x09
#define NVM_WRITE 0x01
#define NVM_READ 0x02
#define CNS_NS 0x00
#define CNS_CTRL 0x01
#define FEAT_NUM_QUEUES 0x07

#define PCI_COMMAND 0x04
#define PCI_CMD_MEM 0x2
#define PCI_CMD_MASTER 0x4
#define PCI_CAP_MSIX 0x11
#define MSIX_CTRL_ENABLE 0x8000u
#define MSIX_CTRL_FMASK 0x4000u
#define MSIX_ENTRY 16

#define NVME_STATUS_OK(s) (((s) & 0x7ff) == 0) /* SC and SCT zero */

static uint32_t rd32(const struct kit_nvme *n, unsigned int off)
{
	return kit_mmio_read32(n->regs + off);
}

static void wr32(const struct kit_nvme *n, unsigned int off, uint32_t v)
{
	kit_mmio_write32(n->regs + off, v);
}

/* 64-bit registers as two dword accesses, low first (§3.1.3, note). */
static void wr64(const struct kit_nvme *n, unsigned int off, uint64_t v)
{
	wr32(n, off, (uint32_t)v);
	wr32(n, off + 4, (uint32_t)(v >> 32));
}

/*
 * Wait for CSTS.RDY == rdy; -1 on timeout or a vanished device (all-ones
 * reads), and while enabling also on Controller Fatal Status. A reset
 * (rdy = 0) is how a controller leaves CFS, so it is not fatal then.
 */
static int wait_rdy(const struct kit_nvme *n, uint32_t rdy, uint64_t limit)
{
	uint64_t t0 = kit_rdtsc();

	for (;;) {
		uint32_t s = rd32(n, NVME_CSTS);

		if (s == UINT32_MAX || (rdy && (s & CSTS_CFS)))
			return -1;
		if ((s & CSTS_RDY) == rdy)
			return 0;
		if (kit_rdtsc() - t0 > limit)
			return -1;
		kit_pause();
	}
}

static int queue_alloc(struct kit_nvme *n, struct kit_nvme_queue *q,
		       uint16_t qid, uint16_t depth)
{
	/* Page-aligned and physically contiguous (CAP.CQR, PC = 1). */
	q->sq = kit_alloc(KIT_ALIGN_UP((uint64_t)depth * 64, KIT_NVME_PAGE),
			  KIT_NVME_PAGE);
	q->cq = kit_alloc(KIT_ALIGN_UP((uint64_t)depth * 16, KIT_NVME_PAGE),
			  KIT_NVME_PAGE);
	if (!q->sq || !q->cq)
		return -1;
	q->qid = qid;
	q->depth = depth;
	q->sq_tail = 0;
	q->cq_head = 0;
	q->phase = 1; /* the CQ is zeroed: the first pass writes P = 1 */
	/* §3.1.3.23-24: SQyTDBL at 1000h + (2y) * stride, CQyHDBL next. */
	q->sq_db = n->regs + NVME_DOORBELLS + (2u * qid) * n->db_stride;
	q->cq_db = n->regs + NVME_DOORBELLS + (2u * qid + 1) * n->db_stride;
	return 0;
}

static int map_regs(struct kit_nvme *n, struct kit_pci_dev *d,
		    const char **reason)
{
	const struct kit_pci_bar *b = &d->bar[0];
	uint32_t cmd;

	/* §3.8.1 (PCIe transport): registers at BAR0/1, 16 KiB minimum in
	 * practice; doorbells start at 4 KiB. */
	if (!b->base || b->io || b->size < 0x2000) {
		*reason = "bad-bar0";
		return -1;
	}
	n->pci = d;
	n->regs = b->base;
	cmd = kit_pci_cfg_read(d, PCI_COMMAND, 2);
	kit_pci_cfg_write(d, PCI_COMMAND, 2,
			  cmd | PCI_CMD_MEM | PCI_CMD_MASTER);
	return 0;
}

int kit_nvme_init(struct kit_nvme *n, struct kit_pci_dev *d,
		  uint16_t admin_depth, uint64_t timeout_ms,
		  const char **reason)
{
	uint64_t rdy_limit;
	uint32_t cc;

	memset(n, 0, sizeof(*n));
	if (map_regs(n, d, reason) < 0)
		return -1;
	n->cap = rd32(n, NVME_CAP) | (uint64_t)rd32(n, NVME_CAP + 4) << 32;
	n->vs = rd32(n, NVME_VS);
	if (n->cap == UINT64_MAX) {
		*reason = "dead";
		return -1;
	}
	if (!CAP_CSS_NVM(n->cap) || CAP_MPSMIN(n->cap) != 0) {
		*reason = "unsupported-cap";
		return -1;
	}
	n->db_stride = 4u << CAP_DSTRD(n->cap);
	n->timeout = kit_ms_to_cycles(timeout_ms);
	/* CAP.TO is the worst case for CSTS.RDY to follow CC.EN (§3.1.3.1). */
	rdy_limit = kit_ms_to_cycles((uint64_t)CAP_TO(n->cap) * 500 + 100);
	if (admin_depth < 2 || admin_depth > 4096)
		admin_depth = 32;
	if (admin_depth > CAP_MQES(n->cap) + 1)
		admin_depth = (uint16_t)(CAP_MQES(n->cap) + 1);
	n->prp_list = kit_alloc(KIT_NVME_PAGE, KIT_NVME_PAGE);
	if (!n->prp_list || queue_alloc(n, &n->admin, 0, admin_depth) < 0) {
		*reason = "no-memory";
		return -1;
	}
	/* §3.5.1 (initialization) and §3.5.2 (reset): disable first. */
	cc = rd32(n, NVME_CC);
	if (cc & CC_EN)
		wr32(n, NVME_CC, cc & ~CC_EN);
	if (wait_rdy(n, 0, rdy_limit) < 0) {
		*reason = "reset-timeout";
		return -1;
	}
	wr32(n, NVME_AQA, (uint32_t)(admin_depth - 1) << 16 |
			  (uint32_t)(admin_depth - 1));
	wr64(n, NVME_ASQ, (uint64_t)(uintptr_t)n->admin.sq);
	wr64(n, NVME_ACQ, (uint64_t)(uintptr_t)n->admin.cq);
	/* NVM command set, 4 KiB pages, round-robin arbitration. */
	wr32(n, NVME_CC, CC_IOCQES | CC_IOSQES | CC_EN);
	if (wait_rdy(n, CSTS_RDY, rdy_limit) < 0) {
		*reason = "enable-timeout";
		return -1;
	}
	return 0;
}

/* The CQE at the head, if the device has posted it (phase tag, §4.6). */
static bool cqe_ready(const struct kit_nvme_queue *q)
{
	uint32_t dw3 = q->cq[q->cq_head * 4 + 3];

	return ((dw3 >> 16) & 1) == q->phase;
}

static void cqe_take(struct kit_nvme_queue *q, struct kit_nvme_cqe *cqe)
{
	const volatile uint32_t *e = &q->cq[q->cq_head * 4];
	uint32_t dw2, dw3;

	kit_rmb(); /* the phase bit first, then the rest of the entry */
	cqe->dw0 = e[0];
	dw2 = e[2];
	dw3 = e[3];
	cqe->sqhd = (uint16_t)dw2;
	cqe->sqid = (uint16_t)(dw2 >> 16);
	cqe->cid = (uint16_t)dw3;
	cqe->status = (uint16_t)(dw3 >> 17);
	if (++q->cq_head == q->depth) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
	kit_mmio_write32(q->cq_db, q->cq_head);
}

uint16_t kit_nvme_post(struct kit_nvme *n, struct kit_nvme_queue *q,
			struct kit_nvme_cmd *cmd)
{
	volatile uint32_t *slot = &q->sq[q->sq_tail * 16];
	uint16_t cid;

	/* CID FFFFh is reserved (§4.2, Figure 92 note). */
	if (q->next_cid == 0xffff)
		q->next_cid = 0;
	cid = q->next_cid++;

	cmd->cdw[0] = (cmd->cdw[0] & 0xffff) | (uint32_t)cid << 16;
	for (unsigned int i = 0; i < 16; i++)
		slot[i] = cmd->cdw[i];
	if (++q->sq_tail == q->depth)
		q->sq_tail = 0;
	/* x86 keeps stores in order: the entry is visible before the
	 * doorbell store (which is uncached MMIO) reaches the device. */
	kit_wmb();
	kit_mmio_write32(q->sq_db, q->sq_tail);
	n->cmds++;
	return cid;
}

int kit_nvme_wait(struct kit_nvme *n, struct kit_nvme_queue *q, uint16_t cid,
		  uint16_t ncid, struct kit_nvme_cqe *cqe)
{
	uint64_t t0 = kit_rdtsc();

	for (;;) {
		while (cqe_ready(q)) {
			cqe_take(q, cqe);
			/* Anything but what we wait for is stale or bogus;
			 * skip it rather than trust it. */
			if ((uint16_t)(cqe->cid - cid) < ncid &&
			    cqe->sqid == q->qid)
				return NVME_STATUS_OK(cqe->status) ? 0
								   : cqe->status;
		}
		if (kit_rdtsc() - t0 > n->timeout) {
			n->timeouts++;
			return KIT_NVME_TIMEOUT;
		}
		kit_pause();
	}
}

int kit_nvme_submit(struct kit_nvme *n, struct kit_nvme_queue *q,
		    struct kit_nvme_cmd *cmd, struct kit_nvme_cqe *cqe)
{
	return kit_nvme_wait(n, q, kit_nvme_post(n, q, cmd), 1, cqe);
}

int kit_nvme_prp(struct kit_nvme *n, struct kit_nvme_cmd *cmd, uint64_t buf,
		 uint32_t len)
{
	uint64_t first = KIT_NVME_PAGE - (buf & (KIT_NVME_PAGE - 1));
	uint64_t prp2 = 0;

	if (len == 0 || (buf & 3))
		return -1;
	if (len > first) {
		uint64_t rest = len - first, next = buf + first;
		uint64_t pages = (rest + KIT_NVME_PAGE - 1) / KIT_NVME_PAGE;

		if (pages == 1) {
			prp2 = next;
		} else {
			/* §4.3.1: a list of page addresses; no chaining. */
			if (pages > KIT_NVME_PAGE / 8)
				return -1;
			for (uint64_t i = 0; i < pages; i++)
				n->prp_list[i] = next + i * KIT_NVME_PAGE;
			prp2 = (uint64_t)(uintptr_t)n->prp_list;
		}
	}
	cmd->cdw[6] = (uint32_t)buf;
	cmd->cdw[7] = (uint32_t)(buf >> 32);
	cmd->cdw[8] = (uint32_t)prp2;
	cmd->cdw[9] = (uint32_t)(prp2 >> 32);
	return 0;
}

/* Printable copy of a space-padded ASCII identify field. */
static void id_string(char *dst, const uint8_t *src, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	for (size_t i = 0; i < len; i++)
		if (dst[i] != ' ')
			n = i + 1;
	dst[n] = '\0';
}

static int identify(struct kit_nvme *n, uint32_t cns, uint32_t nsid,
		    uint8_t *buf)
{
	struct kit_nvme_cmd c = { { ADM_IDENTIFY } };
	struct kit_nvme_cqe cqe;

	c.cdw[1] = nsid;
	c.cdw[10] = cns;
	if (kit_nvme_prp(n, &c, (uint64_t)(uintptr_t)buf, KIT_NVME_PAGE) < 0)
		return -1;
	return kit_nvme_submit(n, &n->admin, &c, &cqe);
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

int kit_nvme_identify_ctrl(struct kit_nvme *n, const char **reason)
{
	uint8_t *id = kit_alloc(KIT_NVME_PAGE, KIT_NVME_PAGE);
	uint64_t max;

	if (!id) {
		*reason = "no-memory";
		return -1;
	}
	if (identify(n, CNS_CTRL, 0, id) != 0) {
		*reason = "identify-ctrl";
		return -1;
	}
	/* Figure 275: SN 23:04, MN 63:24, FR 71:64, MDTS 77, CNTLID 79:78,
	 * NN 519:516. */
	id_string(n->serial, id + 4, 20);
	id_string(n->model, id + 24, 40);
	id_string(n->firmware, id + 64, 8);
	n->mdts = id[77];
	n->cntlid = (uint16_t)(id[78] | id[79] << 8);
	n->nn = le32(id + 516);
	/* MDTS is a power of two in units of CAP.MPSMIN (4 KiB here). */
	max = n->mdts && n->mdts < 20 ? (uint64_t)KIT_NVME_PAGE << n->mdts
				       : KIT_NVME_MAX_XFER;
	n->max_xfer = (uint32_t)(max < KIT_NVME_MAX_XFER ? max
							 : KIT_NVME_MAX_XFER);
	return 0;
}

int kit_nvme_identify_ns(struct kit_nvme *n, uint32_t nsid,
			 const char **reason)
{
	uint8_t *id = kit_alloc(KIT_NVME_PAGE, KIT_NVME_PAGE);
	unsigned int fmt, lbads;

	if (!id) {
		*reason = "no-memory";
		return -1;
	}
	if (nsid == 0 || nsid > n->nn) {
		*reason = "no-namespace";
		return -1;
	}
	if (identify(n, CNS_NS, nsid, id) != 0) {
		*reason = "identify-ns";
		return -1;
	}
	/* NVM spec Figure 97: NSZE 7:0, FLBAS 26 (format index 3:0, 6:5 on
	 * >16 formats), LBAF0 at 128, 4 bytes each, LBADS in bits 23:16. */
	n->nsze = le64(id);
	fmt = (id[26] & 0xf) | ((id[26] >> 5) & 3) << 4;
	if (fmt > 63) {
		*reason = "bad-lbaf";
		return -1;
	}
	lbads = id[128 + 4 * fmt + 2];
	if (n->nsze == 0) {
		*reason = "no-namespace"; /* inactive NSID: all zeroes */
		return -1;
	}
	if (lbads < 9 || lbads > 12) {
		*reason = "bad-lba-size";
		return -1;
	}
	n->nsid = nsid;
	n->lba_size = 1u << lbads;
	return 0;
}

int kit_nvme_create_io(struct kit_nvme *n, uint16_t depth, bool irq,
		       uint16_t vector, const char **reason)
{
	struct kit_nvme_cmd c = { { ADM_SET_FEATURES } };
	struct kit_nvme_cqe cqe;
	uint64_t sq, cq;

	if (depth < 2)
		depth = 2;
	if (depth > CAP_MQES(n->cap) + 1)
		depth = (uint16_t)(CAP_MQES(n->cap) + 1);
	if (queue_alloc(n, &n->io, 1, depth) < 0) {
		*reason = "no-memory";
		return -1;
	}
	/* §5.27.1.5: one SQ and one CQ (0-based). A controller that already
	 * had its queue count set answers Command Sequence Error: fine. */
	c.cdw[10] = FEAT_NUM_QUEUES;
	c.cdw[11] = 0;
	if (kit_nvme_submit(n, &n->admin, &c, &cqe) == KIT_NVME_TIMEOUT) {
		*reason = "set-features-timeout";
		return -1;
	}
	cq = (uint64_t)(uintptr_t)n->io.cq;
	sq = (uint64_t)(uintptr_t)n->io.sq;
	/* §5.4: QSIZE 31:16 | QID; CDW11 IV 31:16, IEN bit 1, PC bit 0. */
	memset(&c, 0, sizeof(c));
	c.cdw[0] = ADM_CREATE_CQ;
	c.cdw[6] = (uint32_t)cq;
	c.cdw[7] = (uint32_t)(cq >> 32);
	c.cdw[10] = (uint32_t)(depth - 1) << 16 | 1;
	c.cdw[11] = (irq ? (uint32_t)vector << 16 | 2u : 0) | 1u;
	if (kit_nvme_submit(n, &n->admin, &c, &cqe) != 0) {
		*reason = "create-cq";
		return -1;
	}
	/* §5.5: CDW11 CQID 31:16, QPRIO 2:1 (unused with RR), PC bit 0. */
	memset(&c, 0, sizeof(c));
	c.cdw[0] = ADM_CREATE_SQ;
	c.cdw[6] = (uint32_t)sq;
	c.cdw[7] = (uint32_t)(sq >> 32);
	c.cdw[10] = (uint32_t)(depth - 1) << 16 | 1;
	c.cdw[11] = 1u << 16 | 1u;
	if (kit_nvme_submit(n, &n->admin, &c, &cqe) != 0) {
		*reason = "create-sq";
		return -1;
	}
	n->io_ready = true;
	return 0;
}

int kit_nvme_msix_enable(struct kit_nvme *n, uint16_t vector, uint8_t idt,
			 const char **reason)
{
	struct kit_pci_dev *d = n->pci;
	unsigned int cap = kit_pci_find_cap(d, PCI_CAP_MSIX);
	uint32_t ctrl, tbl, bir;
	uint64_t entry;

	if (!cap) {
		*reason = "no-msix";
		return -1;
	}
	ctrl = kit_pci_cfg_read(d, cap + 2, 2);
	tbl = kit_pci_cfg_read(d, cap + 4, 4);
	bir = tbl & 7;
	n->msix_vectors = (uint16_t)((ctrl & 0x7ff) + 1);
	/* The table must lie inside a memory BAR we know (PCI 3.0 §6.8.2.4). */
	if (vector >= n->msix_vectors || bir > 5 || d->bar[bir].io ||
	    !d->bar[bir].base ||
	    (uint64_t)(tbl & ~7u) + (uint64_t)n->msix_vectors * MSIX_ENTRY >
		    d->bar[bir].size) {
		*reason = "bad-msix";
		return -1;
	}
	n->msix_cap = cap;
	n->msix_table = d->bar[bir].base + (tbl & ~7u);
	/* §6.8.2.3: enable with the function masked, program, unmask. */
	kit_pci_cfg_write(d, cap + 2, 2,
			  ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	entry = n->msix_table + (uint64_t)vector * MSIX_ENTRY;
	kit_mmio_write32(entry + 0, 0xfee00000u | (kit_lapic_id() & 0xff) << 12);
	kit_mmio_write32(entry + 4, 0);
	kit_mmio_write32(entry + 8, idt);
	kit_mmio_write32(entry + 12, 0); /* vector control: unmasked */
	kit_pci_cfg_write(d, cap + 2, 2,
			  (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_FMASK);
	if (!(kit_pci_cfg_read(d, cap + 2, 2) & MSIX_CTRL_ENABLE)) {
		*reason = "msix-enable";
		return -1;
	}
	n->msix_on = true;
	if (kit_plat.verbose)
		kit_printf("nvme: msix cap=0x%x ctrl=0x%x vectors=%u table=0x%lx "
			   "entry%u=%x/%x/%x/%x\n", cap,
			   kit_pci_cfg_read(d, cap + 2, 2), n->msix_vectors,
			   n->msix_table, vector, kit_mmio_read32(entry),
			   kit_mmio_read32(entry + 4), kit_mmio_read32(entry + 8),
			   kit_mmio_read32(entry + 12));
	return 0;
}

void kit_nvme_msix_disable(struct kit_nvme *n)
{
	uint32_t ctrl;

	if (!n->msix_on)
		return;
	ctrl = kit_pci_cfg_read(n->pci, n->msix_cap + 2, 2);
	kit_pci_cfg_write(n->pci, n->msix_cap + 2, 2,
			  ctrl & ~(MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK));
	n->msix_on = false;
}

int kit_nvme_rw(struct kit_nvme *n, bool write, uint64_t slba,
		uint32_t nblocks, void *buf, struct kit_nvme_cqe *cqe)
{
	struct kit_nvme_cmd c = { { write ? NVM_WRITE : NVM_READ } };
	uint64_t len = (uint64_t)nblocks * n->lba_size;

	if (!n->io_ready || nblocks == 0 || nblocks > 65536 ||
	    len > n->max_xfer ||
	    kit_nvme_prp(n, &c, (uint64_t)(uintptr_t)buf, (uint32_t)len) < 0)
		return -1;
	/* NVM spec §3.2.4/§3.2.6: SLBA in CDW10-11, NLB (0-based) 15:0. */
	c.cdw[1] = n->nsid;
	c.cdw[10] = (uint32_t)slba;
	c.cdw[11] = (uint32_t)(slba >> 32);
	c.cdw[12] = nblocks - 1;
	return kit_nvme_submit(n, &n->io, &c, cqe);
}

int kit_nvme_shutdown(struct kit_nvme *n)
{
	struct kit_nvme_cmd c;
	struct kit_nvme_cqe cqe;
	int rc = 0;

	if (!n->regs)
		return 0;
	if (n->io_ready) {
		/* §5.6/§5.7: the SQ goes before its CQ. */
		memset(&c, 0, sizeof(c));
		c.cdw[0] = ADM_DELETE_SQ;
		c.cdw[10] = 1;
		rc |= kit_nvme_submit(n, &n->admin, &c, &cqe) != 0;
		memset(&c, 0, sizeof(c));
		c.cdw[0] = ADM_DELETE_CQ;
		c.cdw[10] = 1;
		rc |= kit_nvme_submit(n, &n->admin, &c, &cqe) != 0;
		n->io_ready = false;
	}
	kit_nvme_msix_disable(n);
	wr32(n, NVME_CC, rd32(n, NVME_CC) & ~CC_EN);
	rc |= wait_rdy(n, 0, kit_ms_to_cycles((uint64_t)CAP_TO(n->cap) * 500 +
					      100)) != 0;
	return rc ? -1 : 0;
}
