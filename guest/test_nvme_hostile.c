/* SPDX-License-Identifier: MIT */
/*
 * nvme-hostile: a hostile host driver against an NVMe controller (issue
 * 12). Every case below is run in turn on one controller; each must end in
 * the outcome the NVMe specification gives it, and the controller must
 * work again afterwards: without a reset after a per-command error, after
 * a controller reset (CC.EN 1 -> 0, CSTS.RDY = 0, re-initialisation)
 * after a fatal one. "Works" is one verified Write + Read round trip.
 * Section numbers are NVM Express Base 1.4 (the version iovmm's controller
 * reports) unless noted.
 *
 * Per-command errors (the command completes with this status, CSTS.CFS
 * stays 0; §4.6.1.2.1 generic, §4.6.1.2.2 command specific status):
 *   prp1-offset      PRP1 not dword aligned (§4.3: bits 1:0 are 0)
 *                    -> PRP Offset Invalid (SCT 0, SC 13h)
 *   prp2-offset      PRP2 as the second data page with an offset
 *                    -> PRP Offset Invalid
 *   list-offset      a PRP list entry with an offset (§4.3: list entries
 *                    after the first have offset 0) -> PRP Offset Invalid
 *   list-misaligned  PRP2 pointing at a PRP list that is not qword aligned
 *                    (§4.3: the list pointer's bits 2:0 are 0)
 *                    -> PRP Offset Invalid
 *   list-oob         PRP2 list pointer outside RAM -> Data Transfer Error
 *                    (SC 04h: the transfer cannot happen)
 *   entry-oob        a list entry outside RAM -> Data Transfer Error
 *   cq-reuse         Create I/O CQ with the id of a live CQ (§5.3)
 *                    -> Invalid Queue Identifier (SCT 1, SC 01h)
 *   sq-reuse         Create I/O SQ with the id of a live SQ (§5.4)
 *                    -> Invalid Queue Identifier
 *   sq-no-cq         Create I/O SQ on a CQ that does not exist (§5.4),
 *                    with a free SQ id in range (SQ 1, deleted first)
 *                    -> Completion Queue Invalid (SCT 1, SC 00h)
 *   delete-admin     Delete I/O SQ 0 (§5.6: the admin queue)
 *                    -> Invalid Queue Identifier
 *   delete-cq-busy   Delete I/O CQ 1 while SQ 1 still completes there
 *                    (§5.5) -> Invalid Queue Deletion (SCT 1, SC 0Ch)
 * Invalid doorbell writes (§4.1): with an Asynchronous Event Request
 * outstanding they are reported through it (§5.2, asynchronous event
 * information for type 0 "error status": 00h "write to invalid doorbell
 * register", 01h "invalid doorbell write value", log page 01h), and the
 * controller goes on:
 *   db-aer           SQ 1 tail past the queue, then (after Get Log Page
 *                    01h with RAE = 0 unmasked error events, §5.2) the
 *                    tail doorbell of an SQ that was never created
 * Without one the spec defines no outcome; an error that cannot be
 * reported in a completion queue is what CSTS.CFS is for (§3.1.6:
 * "a fatal controller error occurred that could not be communicated in
 * the appropriate Completion Queue"), so iovmm sets CFS:
 *   db-sq-past       SQ 1 tail doorbell = queue size
 *   db-cq-past       CQ 1 head doorbell = queue size
 *   db-no-queue      tail doorbell of SQ 5, never created
 * db_fatal=0 accepts a controller that ignores these writes instead
 * (QEMU 7.2 does): then CFS must stay 0 and the controller keep working.
 * Fatal by construction (no command status exists for a bad admin queue,
 * the controller cannot fetch a command):
 *   bad-asq          ASQ at 1 TiB, outside RAM, then enable and ring the
 *                    admin doorbell: CFS = 1 at enable (iovmm checks the
 *                    queue memory) or at the first fetch (QEMU).
 *
 * keys: vendor= device= (as `nvme`) nsid=1 lba=0 timeout_ms=5000
 *       case=NAME (one case; default all) seed=N (round-trip pattern)
 *       Knobs for controllers that take a path the spec leaves open (each
 *       case's line still prints what happened), all default 1 (iovmm):
 *       db_fatal=0   db-sq-past, db-cq-past, db-no-queue: the write may be
 *                    ignored (CFS must then stay 0, no reset needed);
 *       prp_align=0  prp1-offset, list-misaligned: the controller may
 *                    ignore the low bits and succeed (§4.6.1.2.1 says PRP
 *                    Offset Invalid "may occur" for them);
 *       oob_data=0   entry-oob: a data page outside RAM may "succeed"
 *                    (the DMA goes nowhere, as without an IOMMU).
 * RESULT: cases ok fatal recovered [bad=NAME,...]; a line per case before
 * it: case, sct, sc, expected status, AER DW0, cfs, detail, after=ok (the
 * round trip that followed), ok or the check that failed.
 */
#include "guest/nvme.h"

#define NH_VENDOR 0x1b36
#define NH_DEVICE 0x0010
#define NH_OOB (1ULL << 40) /* far above any test VM's RAM and BARs */
#define NH_QDEPTH 16
#define NH_BLOCKS 8         /* 4 KiB with 512-byte blocks */

/* Status field without the phase tag: SC 7:0, SCT 10:8 (§4.6.1). */
#define ST(sct, sc) ((uint16_t)((sct) << 8 | (sc)))
#define SC_INVALID_FIELD ST(0, 0x02)
#define SC_DATA_XFER ST(0, 0x04)
#define SC_PRP_OFFSET ST(0, 0x13)
#define SC_CQ_INVALID ST(1, 0x00)
#define SC_QID_INVALID ST(1, 0x01)
#define SC_QUEUE_DELETION ST(1, 0x0c)

#define REG_CC 0x14
#define REG_CSTS 0x1c
#define REG_AQA 0x24
#define REG_ASQ 0x28
#define REG_ACQ 0x30
#define CSTS_RDY 1u
#define CSTS_CFS 2u

struct nh {
	struct kit_nvme n;
	struct kit_pci_dev *pci;
	uint64_t nsid, lba, timeout_ms, seed;
	bool db_fatal, prp_align, oob_data;
	uint8_t *wbuf, *rbuf, *list, *log;
	/* What the current case saw. */
	int status;        /* completion status, KIT_NVME_TIMEOUT, or -2 */
	uint32_t aer_dw0;
	const char *detail;
	unsigned int ok, fatal, recovered, cases;
	char bad[160];
	size_t bad_len;
};

enum nh_class {
	NH_CMD,   /* per-command error: status must match, CFS stays 0 */
	NH_FATAL, /* CFS must reach 1 (or, with db_fatal=0, stay 0) */
	NH_AER,   /* reported through AERs; CFS stays 0 */
};

/* What a knob may excuse (see the header comment). */
enum nh_lax {
	NH_STRICT,
	NH_LAX_ALIGN,  /* prp_align=0: success accepted */
	NH_LAX_OOB,    /* oob_data=0: success accepted */
	NH_LAX_DB,     /* db_fatal=0: CFS must stay 0 instead */
};

struct nh_case {
	const char *name;
	enum nh_class cls;
	uint16_t expect;   /* NH_CMD: status */
	enum nh_lax lax;
	bool (*run)(struct nh *h);
};

static uint32_t csts(const struct nh *h)
{
	return kit_mmio_read32(h->n.regs + REG_CSTS);
}

/* CFS within a short bound: QEMU moves its queues from a timer. */
static bool wait_cfs(const struct nh *h, uint64_t ms)
{
	uint64_t t0 = kit_rdtsc(), lim = kit_ms_to_cycles(ms);

	do {
		if (csts(h) & CSTS_CFS)
			return true;
		kit_pause();
	} while (kit_rdtsc() - t0 < lim);
	return false;
}

static void rw_cmd(struct nh *h, struct kit_nvme_cmd *c, uint8_t opc,
		   uint32_t nblk)
{
	memset(c, 0, sizeof(*c));
	c->cdw[0] = opc;
	c->cdw[1] = (uint32_t)h->n.nsid;
	c->cdw[10] = (uint32_t)h->lba;
	c->cdw[11] = (uint32_t)(h->lba >> 32);
	c->cdw[12] = nblk - 1;
}

static void set_prp(struct kit_nvme_cmd *c, uint64_t p1, uint64_t p2)
{
	c->cdw[6] = (uint32_t)p1;
	c->cdw[7] = (uint32_t)(p1 >> 32);
	c->cdw[8] = (uint32_t)p2;
	c->cdw[9] = (uint32_t)(p2 >> 32);
}

/* A Read of `bytes` with the given PRPs; the status lands in h->status. */
static bool read_with(struct nh *h, uint32_t bytes, uint64_t p1, uint64_t p2)
{
	struct kit_nvme_cmd c;
	struct kit_nvme_cqe cqe;

	rw_cmd(h, &c, 0x02, bytes / h->n.lba_size);
	set_prp(&c, p1, p2);
	h->status = kit_nvme_submit(&h->n, &h->n.io, &c, &cqe);
	return true;
}

static uint64_t buf(const struct nh *h)
{
	return (uint64_t)(uintptr_t)h->rbuf;
}

static uint64_t list(const struct nh *h)
{
	return (uint64_t)(uintptr_t)h->list;
}

static bool c_prp1_offset(struct nh *h)
{
	return read_with(h, h->n.lba_size, buf(h) + 2, 0);
}

static bool c_prp2_offset(struct nh *h)
{
	return read_with(h, 2 * KIT_NVME_PAGE, buf(h),
			 buf(h) + KIT_NVME_PAGE + 512);
}

static bool c_list_offset(struct nh *h)
{
	uint64_t *l = (uint64_t *)(uintptr_t)h->list;

	l[0] = buf(h) + KIT_NVME_PAGE;
	l[1] = buf(h) + 2 * KIT_NVME_PAGE + 8;
	return read_with(h, 3 * KIT_NVME_PAGE, buf(h), list(h));
}

static bool c_list_misaligned(struct nh *h)
{
	uint64_t *l = (uint64_t *)(uintptr_t)(h->list + 64);

	l[0] = buf(h) + KIT_NVME_PAGE;
	l[1] = buf(h) + 2 * KIT_NVME_PAGE;
	return read_with(h, 3 * KIT_NVME_PAGE, buf(h), list(h) + 64 + 4);
}

static bool c_list_oob(struct nh *h)
{
	return read_with(h, 3 * KIT_NVME_PAGE, buf(h), NH_OOB);
}

static bool c_entry_oob(struct nh *h)
{
	uint64_t *l = (uint64_t *)(uintptr_t)h->list;

	l[0] = buf(h) + KIT_NVME_PAGE;
	l[1] = NH_OOB;
	return read_with(h, 3 * KIT_NVME_PAGE, buf(h), list(h));
}

static bool admin(struct nh *h, uint8_t opc, uint64_t prp1, uint32_t cdw10,
		  uint32_t cdw11)
{
	struct kit_nvme_cmd c = { { opc } };
	struct kit_nvme_cqe cqe;

	set_prp(&c, prp1, 0);
	c.cdw[10] = cdw10;
	c.cdw[11] = cdw11;
	h->status = kit_nvme_submit(&h->n, &h->n.admin, &c, &cqe);
	return true;
}

/* §5.3/§5.4: QSIZE 31:16 (0's based) | QID in CDW10. */
static bool c_cq_reuse(struct nh *h)
{
	return admin(h, 0x05, buf(h), (NH_QDEPTH - 1) << 16 | 1, 1);
}

static bool c_sq_reuse(struct nh *h)
{
	return admin(h, 0x01, buf(h), (NH_QDEPTH - 1) << 16 | 1, 1u << 16 | 1);
}

/*
 * Number of Queues is 1 + 1 here, so the only SQ id in range is 1: free
 * it, try it on CQ 9, then put SQ 1 back on CQ 1 (head and tail 0 again).
 */
static bool c_sq_no_cq(struct nh *h)
{
	uint64_t sq = (uint64_t)(uintptr_t)h->n.io.sq;
	int st;

	admin(h, 0x00, 0, 1, 0);
	if (h->status != 0) {
		h->detail = "delete-sq";
		return false;
	}
	admin(h, 0x01, sq, (NH_QDEPTH - 1) << 16 | 1, 9u << 16 | 1);
	st = h->status;
	admin(h, 0x01, sq, (uint32_t)(h->n.io.depth - 1) << 16 | 1,
	      1u << 16 | 1);
	if (h->status != 0)
		h->detail = "recreate-sq";
	h->n.io.sq_tail = 0;
	h->status = st;
	return true;
}

static bool c_delete_admin(struct nh *h)
{
	return admin(h, 0x00, 0, 0, 0);
}

static bool c_delete_cq_busy(struct nh *h)
{
	return admin(h, 0x04, 0, 1, 0);
}

static uint64_t db_addr(const struct nh *h, unsigned int qid, bool cq)
{
	return h->n.regs + 0x1000 + (2u * qid + (cq ? 1 : 0)) * h->n.db_stride;
}

static bool c_db_sq_past(struct nh *h)
{
	kit_mmio_write32(h->n.io.sq_db, h->n.io.depth);
	return true;
}

static bool c_db_cq_past(struct nh *h)
{
	kit_mmio_write32(h->n.io.cq_db, h->n.io.depth);
	return true;
}

static bool c_db_no_queue(struct nh *h)
{
	kit_mmio_write32(db_addr(h, 5, false), 1);
	return true;
}

/*
 * Wait for one of the AERs [cid, cid + n) to complete with DW0 `want`;
 * *done gets its CID. Which outstanding AER a controller completes is
 * not specified (QEMU takes the newest, iovmm the oldest).
 */
static bool aer_wait(struct nh *h, uint16_t cid, uint16_t n, uint32_t want,
		     uint16_t *done)
{
	struct kit_nvme_cqe cqe;
	int rc = kit_nvme_wait(&h->n, &h->n.admin, cid, n, &cqe);

	h->status = rc;
	if (rc != 0) {
		h->detail = rc == KIT_NVME_TIMEOUT ? "no-aer" : "aer-error";
		return false;
	}
	h->aer_dw0 = cqe.dw0;
	*done = cqe.cid;
	if (cqe.dw0 != want) {
		h->detail = "aer-dw0";
		return false;
	}
	return true;
}

static bool c_db_aer(struct nh *h)
{
	struct kit_nvme_cmd c = { { 0x0c } };
	uint16_t a1, a2, done;

	a1 = kit_nvme_post(&h->n, &h->n.admin, &c);
	c.cdw[0] = 0x0c;
	a2 = kit_nvme_post(&h->n, &h->n.admin, &c);
	/*
	 * An AER is outstanding once fetched; a controller that fetches
	 * from a timer (QEMU) may not have yet. Commands are fetched in
	 * order, so a Get Features (Number of Queues) that completed
	 * proves both were.
	 */
	admin(h, 0x0a, 0, 0x07, 0);
	if (h->status != 0) {
		h->detail = "get-features";
		return false;
	}
	/* §5.2 DW0: log page 01h << 16 | info << 8 | type 0 (error). */
	kit_mmio_write32(h->n.io.sq_db, h->n.io.depth + 5u);
	if (a2 != (uint16_t)(a1 + 1)) {
		h->detail = "cid-wrap";
		return false;
	}
	if (!aer_wait(h, a1, 2, 0x01u << 16 | 0x01u << 8, &done))
		return false;
	if (csts(h) & CSTS_CFS) {
		h->detail = "cfs-with-aer";
		return false;
	}
	/* Error Information log (LID 01h), one 64-byte entry, RAE = 0. */
	admin(h, 0x02, (uint64_t)(uintptr_t)h->log, 15u << 16 | 0x01, 0);
	if (h->status != 0) {
		h->detail = "get-log";
		return false;
	}
	kit_mmio_write32(db_addr(h, 7, false), 1);
	if (!aer_wait(h, done == a1 ? a2 : a1, 1, 0x01u << 16 | 0x00u << 8,
		      &done))
		return false;
	h->status = 0;
	return true;
}

/*
 * Disable, point ASQ outside RAM, enable, ring the admin tail doorbell
 * (a command "is" at 1 TiB now): the controller can only give up.
 */
static bool c_bad_asq(struct nh *h)
{
	uint64_t t0, lim = kit_ms_to_cycles(h->timeout_ms);
	uint64_t regs = h->n.regs;
	uint32_t s;

	kit_mmio_write32(regs + REG_CC, kit_mmio_read32(regs + REG_CC) & ~1u);
	for (t0 = kit_rdtsc(); csts(h) & CSTS_RDY;) {
		if (kit_rdtsc() - t0 > lim) {
			h->detail = "disable-timeout";
			return false;
		}
		kit_pause();
	}
	kit_mmio_write32(regs + REG_ASQ, (uint32_t)NH_OOB);
	kit_mmio_write32(regs + REG_ASQ + 4, (uint32_t)(NH_OOB >> 32));
	kit_mmio_write32(regs + REG_CC, (6u << 16) | (4u << 20) | 1u);
	for (t0 = kit_rdtsc();;) {
		s = csts(h);
		if (s & (CSTS_RDY | CSTS_CFS))
			break;
		if (kit_rdtsc() - t0 > lim) {
			h->detail = "enable-timeout";
			return false;
		}
		kit_pause();
	}
	h->detail = (s & CSTS_CFS) ? "at-enable" : "at-fetch";
	if (!(s & CSTS_CFS))
		kit_mmio_write32(db_addr(h, 0, false), 1);
	return true;
}

static const struct nh_case nh_cases[] = {
	{ "prp1-offset", NH_CMD, SC_PRP_OFFSET, NH_LAX_ALIGN, c_prp1_offset },
	{ "prp2-offset", NH_CMD, SC_PRP_OFFSET, NH_STRICT, c_prp2_offset },
	{ "list-offset", NH_CMD, SC_PRP_OFFSET, NH_STRICT, c_list_offset },
	{ "list-misaligned", NH_CMD, SC_PRP_OFFSET, NH_LAX_ALIGN,
	  c_list_misaligned },
	{ "list-oob", NH_CMD, SC_DATA_XFER, NH_STRICT, c_list_oob },
	{ "entry-oob", NH_CMD, SC_DATA_XFER, NH_LAX_OOB, c_entry_oob },
	{ "cq-reuse", NH_CMD, SC_QID_INVALID, NH_STRICT, c_cq_reuse },
	{ "sq-reuse", NH_CMD, SC_QID_INVALID, NH_STRICT, c_sq_reuse },
	{ "sq-no-cq", NH_CMD, SC_CQ_INVALID, NH_STRICT, c_sq_no_cq },
	{ "delete-admin", NH_CMD, SC_QID_INVALID, NH_STRICT, c_delete_admin },
	{ "delete-cq-busy", NH_CMD, SC_QUEUE_DELETION, NH_STRICT,
	  c_delete_cq_busy },
	{ "db-aer", NH_AER, 0, NH_STRICT, c_db_aer },
	{ "db-sq-past", NH_FATAL, 0, NH_LAX_DB, c_db_sq_past },
	{ "db-cq-past", NH_FATAL, 0, NH_LAX_DB, c_db_cq_past },
	{ "db-no-queue", NH_FATAL, 0, NH_LAX_DB, c_db_no_queue },
	{ "bad-asq", NH_FATAL, 0, NH_STRICT, c_bad_asq },
};

static uint64_t pat(uint64_t seed, uint64_t i)
{
	uint64_t x = seed + i * 0x9e3779b97f4a7c15ULL;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 29);
}

/* One Write of a fresh pattern and a Read that must bring it back. */
static int roundtrip(struct nh *h)
{
	struct kit_nvme_cqe cqe;
	uint64_t *w = (uint64_t *)(uintptr_t)h->wbuf;
	uint64_t *r = (uint64_t *)(uintptr_t)h->rbuf;
	uint32_t words = NH_BLOCKS * h->n.lba_size / 8;

	h->seed++;
	for (uint32_t i = 0; i < words; i++) {
		w[i] = pat(h->seed, i);
		r[i] = ~w[i];
	}
	if (kit_nvme_rw(&h->n, true, h->lba, NH_BLOCKS, h->wbuf, &cqe) != 0 ||
	    kit_nvme_rw(&h->n, false, h->lba, NH_BLOCKS, h->rbuf, &cqe) != 0)
		return -1;
	return memcmp(h->wbuf, h->rbuf, words * 8) ? -2 : 0;
}

/* Reset (kit_nvme_init disables first), re-initialise, I/O queues. */
static int bring_up(struct nh *h, const char **why)
{
	if (kit_nvme_init(&h->n, h->pci, 32, h->timeout_ms, why) < 0 ||
	    kit_nvme_identify_ctrl(&h->n, why) < 0 ||
	    kit_nvme_identify_ns(&h->n, (uint32_t)h->nsid, why) < 0 ||
	    kit_nvme_create_io(&h->n, NH_QDEPTH, false, 0, why) < 0)
		return -1;
	if (h->n.lba_size * NH_BLOCKS > KIT_NVME_PAGE) {
		*why = "lba-too-big";
		return -1;
	}
	return 0;
}

static void note_bad(struct nh *h, const char *name)
{
	int n = kit_snprintf(h->bad + h->bad_len, sizeof(h->bad) - h->bad_len,
			     "%s%s", h->bad_len ? "," : "", name);

	if (n > 0 && h->bad_len + (size_t)n < sizeof(h->bad))
		h->bad_len += (size_t)n;
}

/* Did the case end as the spec (and the knobs) say? */
static bool judge(const struct nh *h, const struct nh_case *k, bool ran,
		  bool cfs, const char **what)
{
	bool lax = (k->lax == NH_LAX_ALIGN && !h->prp_align) ||
		   (k->lax == NH_LAX_OOB && !h->oob_data);

	switch (k->cls) {
	case NH_CMD:
		*what = "status";
		if (cfs || h->status < 0)
			return false;
		if (((uint16_t)h->status & 0x7ff) == k->expect)
			return true;
		*what = "excused"; /* printed when the knob lets it pass */
		return lax && h->status == 0;
	case NH_AER:
		*what = "aer";
		return ran && !cfs;
	default:
		*what = "cfs";
		if (!ran)
			return false;
		return k->lax == NH_LAX_DB && !h->db_fatal ? !cfs : cfs;
	}
}

static int run_case(struct nh *h, const struct nh_case *k,
		    struct kit_result *r)
{
	const char *what, *why = NULL;
	bool ran, cfs, good;
	int rt;

	h->status = -2;
	h->aer_dw0 = 0;
	h->detail = "";
	ran = k->run(h);
	cfs = k->cls == NH_FATAL ? wait_cfs(h, 200) : (csts(h) & CSTS_CFS);
	good = judge(h, k, ran, cfs, &what);
	if (cfs)
		h->fatal++;
	/* After CFS only a reset helps (§3.1.6); otherwise none is needed
	 * (an ignored doorbell write with db_fatal=0 included). */
	if (cfs || (k->cls == NH_FATAL && k->lax != NH_LAX_DB)) {
		rt = bring_up(h, &why) < 0 ? -3 : roundtrip(h);
		if (rt == 0 && cfs)
			h->recovered++;
	} else {
		rt = roundtrip(h);
	}
	kit_printf("nvme-hostile: case=%s sct=%d sc=0x%x expect=0x%x aer=0x%x "
		   "cfs=%u %s%s after=%s %s\n", k->name,
		   h->status >= 0 ? (h->status >> 8) & 7 : -1,
		   h->status >= 0 ? h->status & 0xff : 0, k->expect,
		   h->aer_dw0, cfs ? 1 : 0, h->detail, *h->detail ? "" : "-",
		   rt == 0 ? "ok" : rt == -3 ? (why ? why : "reinit") :
		   rt == -2 ? "data-mismatch" : "io-error",
		   good && *what != 'e' ? "ok" : what);
	h->cases++;
	if (!good || rt != 0) {
		note_bad(h, k->name);
		/* Leave a working controller for the next case. */
		if (rt != 0 && bring_up(h, &why) < 0)
			return kit_fail(r, "dead");
		return 0;
	}
	h->ok++;
	return 0;
}

static int nh_params(struct nh *h, const struct nh_case **only,
		     struct kit_result *r)
{
	bool bad = false;
	uint64_t vendor = kit_cmdline_u64("vendor", NH_VENDOR, &bad);
	uint64_t device = kit_cmdline_u64("device", NH_DEVICE, &bad);
	uint64_t dbf = kit_cmdline_u64("db_fatal", 1, &bad);
	uint64_t align = kit_cmdline_u64("prp_align", 1, &bad);
	uint64_t oob = kit_cmdline_u64("oob_data", 1, &bad);
	size_t len;
	const char *name = kit_cmdline_get("case", &len);

	h->nsid = kit_cmdline_u64("nsid", 1, &bad);
	h->lba = kit_cmdline_u64("lba", 0, &bad);
	h->timeout_ms = kit_cmdline_u64("timeout_ms", 5000, &bad);
	h->seed = kit_cmdline_u64("seed", kit_rdtsc(), &bad);
	h->db_fatal = dbf != 0;
	h->prp_align = align != 0;
	h->oob_data = oob != 0;
	*only = NULL;
	for (size_t i = 0; name && i < KIT_ARRAY_SIZE(nh_cases); i++)
		if (kit_strlen(nh_cases[i].name) == len &&
		    !memcmp(nh_cases[i].name, name, len))
			*only = &nh_cases[i];
	if (bad || vendor > 0xffff || device > 0xffff || dbf > 1 ||
	    align > 1 || oob > 1 ||
	    h->nsid == 0 || h->nsid > 0xffffffffULL || h->timeout_ms == 0 ||
	    h->timeout_ms > 600000 || (name && !*only))
		return kit_fail(r, "bad-param");
	h->pci = kit_pci_find((uint16_t)vendor, (uint16_t)device);
	if (!h->pci)
		return kit_fail(r, "no-nvme");
	h->wbuf = kit_alloc(4 * KIT_NVME_PAGE, KIT_NVME_PAGE);
	h->rbuf = kit_alloc(4 * KIT_NVME_PAGE, KIT_NVME_PAGE);
	h->list = kit_alloc(KIT_NVME_PAGE, KIT_NVME_PAGE);
	h->log = kit_alloc(KIT_NVME_PAGE, KIT_NVME_PAGE);
	if (!h->wbuf || !h->rbuf || !h->list || !h->log)
		return kit_fail(r, "no-memory");
	return 0;
}

int kit_test_nvme_hostile(struct kit_result *r)
{
	static struct nh h;
	const struct nh_case *only;
	const char *why = NULL;

	if (nh_params(&h, &only, r) < 0)
		return -1;
	if (bring_up(&h, &why) < 0)
		return kit_fail(r, why);
	if (roundtrip(&h) != 0)
		return kit_fail(r, "baseline-io");
	for (unsigned int i = 0; i < KIT_ARRAY_SIZE(nh_cases); i++) {
		if (only && only != &nh_cases[i])
			continue;
		if (run_case(&h, &nh_cases[i], r) < 0)
			break;
	}
	kit_res_add(r, "cases=%u ok=%u fatal=%u recovered=%u", h.cases, h.ok,
		    h.fatal, h.recovered);
	if (h.bad_len)
		kit_res_add(r, "bad=%s", h.bad);
	kit_nvme_shutdown(&h.n);
	if (r->reason)
		return -1;
	return h.ok == h.cases ? 0 : kit_fail(r, "unexpected-outcome");
}
