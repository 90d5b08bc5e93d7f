// SPDX-License-Identifier: MIT
/*
 * Submission and completion queues (Base §3.3.1, §4.1), doorbells, the
 * completion queue entry and its phase tag (§4.6), interrupts (MSI-X or
 * INTA#, NVMe 1.4 §7.5) and asynchronous events (§5.2).
 *
 * Processing model: a doorbell write arrives as an MMIO exit on the vCPU
 * that wrote it, and the queues it affects are run right there, inside the
 * write. An ioeventfd would spare the exit but carries no data, and an
 * NVMe doorbell *is* its data (the new tail or head); QEMU only uses
 * ioeventfds together with shadow doorbells (the Doorbell Buffer Config
 * command), a later optimisation. Running on the vCPU also keeps the
 * model simple: one mutex, no I/O thread handoff, and a command's
 * completion is in the CQ by the time the doorbell write retires. The
 * cost is that a slow disk stalls the writing vCPU (bounded: at most a
 * queue's worth of commands of at most MDTS each per doorbell).
 *
 * Flow control: a command is fetched only when its CQ has a free slot, so
 * a completion is never dropped or overwritten; a full CQ stops its SQs
 * until the host moves the CQ head doorbell, which resumes them (§3.3.1,
 * "full queue"). Every command but an Asynchronous Event Request
 * completes before the next is fetched.
 *
 * Hostile hosts (NVMe 1.3d §4.1, as QEMU quotes it): a doorbell of a
 * queue that does not exist, a value at or past the queue size, or a CQ
 * head that releases entries the controller never posted is reported as an
 * error asynchronous event when an AER is outstanding and that event type
 * is not masked; otherwise the spec leaves the behaviour undefined and the
 * controller sets CSTS.CFS (fatal) and stops, until a reset. Queue memory
 * is checked to be RAM when a queue is created, so fetching an SQE or
 * posting a CQE cannot leave guest RAM; should either fail anyway the
 * controller goes fatal rather than lose a completion.
 */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "emul-devices/nvme/nvme-internal.h"

bool nvme_cq_full(const struct nvme_cq *cq)
{
	return (cq->tail + 1) % cq->size == cq->head;
}

void nvme_fatal(struct nvme_ctrl *c, const char *why)
{
	uint32_t csts = nvme_reg(c, NVME_REG_CSTS);

	if (!(csts & NVME_CSTS_CFS))
		log_ratelimited(LOG_WARN, c->name, "controller fatal status: %s",
				why);
	nvme_set_reg(c, NVME_REG_CSTS, csts | NVME_CSTS_CFS);
}

/* ---- interrupts ---- */

/*
 * INTA# (pin-based, NVMe 1.4 §7.5.1): asserted while a CQ with
 * interrupts enabled holds entries the host has not consumed, unless
 * INTMS bit 0 masks it.
 * With pin-based interrupts every CQ uses vector 0, hence one mask bit.
 */
void nvme_irq_update(struct nvme_ctrl *c)
{
	bool level = false;

	if (!c->msix && !(nvme_reg(c, NVME_REG_INTMS) & 1)) {
		for (unsigned q = 0; q < NVME_NR_QUEUES && !level; q++) {
			const struct nvme_cq *cq = &c->cq[q];

			level = cq->live && cq->ien && cq->head != cq->tail;
		}
	}
	if (level == c->intx_level)
		return;
	c->intx_level = level;
	if (c->ops && c->ops->intx_set)
		c->ops->intx_set(c->opaque, level);
}

/* One message per CQ that got entries since the last call (MSI-X). */
static void nvme_irq_flush(struct nvme_ctrl *c)
{
	for (unsigned q = 0; q < NVME_NR_QUEUES; q++) {
		struct nvme_cq *cq = &c->cq[q];

		if (!cq->posted)
			continue;
		cq->posted = false;
		if (cq->ien && c->msix && c->ops && c->ops->msix_notify) {
			c->ops->msix_notify(c->opaque, cq->vector);
			c->stats.irqs++;
		}
	}
	nvme_irq_update(c);
}

/* ---- completions ---- */

void nvme_errlog_add(struct nvme_ctrl *c, uint16_t sqid, uint16_t cid,
		     uint16_t status, uint64_t lba)
{
	c->errlog_pos = (c->errlog_pos + 1) % NVME_ERRLOG_N;
	c->errlog[c->errlog_pos] = (struct nvme_err_entry){
		.count = ++c->err_count, /* §5.16.1.2: never 0 */
		.sqid = sqid, .cid = cid, .status = status, .loc = 0xffff,
		.lba = lba, .nsid = NVME_NSID,
	};
}

/*
 * Post one CQE for a command of SQ sqid (§4.6): DW0 command
 * specific, DW2 SQ head and SQ id, DW3 CID, phase tag and status. The
 * dword with the phase tag is stored last, with release ordering, so a
 * host that sees the new phase sees the whole entry. The caller made
 * sure the CQ has room (nvme_cq_full).
 */
void nvme_post(struct nvme_ctrl *c, uint16_t sqid, uint16_t cid,
	       const struct nvme_cpl *cpl)
{
	struct nvme_sq *sq = &c->sq[sqid];
	struct nvme_cq *cq = &c->cq[sq->cqid];
	uint32_t dw[3] = { cpl->dw0, 0, sq->head | (uint32_t)sqid << 16 };
	uint32_t dw3 = cid | (uint32_t)cq->phase << 16 |
		       (uint32_t)cpl->status << 17;
	uint8_t *p;

	if (!nvme_ready(c))
		return;
	if (!cq->live || nvme_cq_full(cq)) {
		nvme_fatal(c, "completion queue overflow");
		return;
	}
	p = gmem_ptr(c->mem, cq->base + (uint64_t)cq->tail * NVME_CQE_SIZE,
		     NVME_CQE_SIZE);
	if (!p) {
		nvme_fatal(c, "completion queue is not guest RAM");
		return;
	}
	memcpy(p, dw, sizeof(dw));
	__atomic_store_n((uint32_t *)(p + 12), dw3, __ATOMIC_RELEASE);
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase ^= 1; /* §4.6: inverted on every pass */
	}
	cq->posted = true;
	if (cpl->status) {
		c->stats.errors++;
		nvme_errlog_add(c, sqid, cid, cpl->status, 0);
	}
}

/* ---- asynchronous events ---- */

/* Complete outstanding AERs with waiting events while the admin CQ has room. */
void nvme_aer_flush(struct nvme_ctrl *c)
{
	while (c->aer_n && c->aer_ev_n && nvme_ready(c) &&
	       !nvme_cq_full(&c->cq[0])) {
		struct nvme_aer_event ev = c->aer_ev[0];
		struct nvme_cpl cpl = {
			/* §5.2, DW0: type 2:0, info 15:8, log page 23:16 */
			.dw0 = ev.type | (uint32_t)ev.info << 8 |
			       (uint32_t)ev.lid << 16,
		};
		uint16_t cid = c->aer_cid[0];

		memmove(c->aer_ev, c->aer_ev + 1,
			--c->aer_ev_n * sizeof(c->aer_ev[0]));
		memmove(c->aer_cid, c->aer_cid + 1,
			--c->aer_n * sizeof(c->aer_cid[0]));
		nvme_post(c, 0, cid, &cpl);
	}
}

/*
 * Report an event of `type`. §5.2: once reported, events of that type are
 * masked until the host reads the log page (RAE = 0). The caller decided
 * that it can be reported (an AER is outstanding, the type not masked).
 */
void nvme_aer_event(struct nvme_ctrl *c, uint8_t type, uint8_t info,
		    uint8_t lid)
{
	if (c->aer_ev_n == NVME_AER_QUEUE) {
		nvme_fatal(c, "asynchronous event queue overflow");
		return;
	}
	c->aer_ev[c->aer_ev_n++] = (struct nvme_aer_event){ type, info, lid };
	c->aer_masked |= 1u << type;
	nvme_aer_flush(c);
}

static void nvme_db_error(struct nvme_ctrl *c, uint8_t info, uint32_t off,
			  uint32_t val)
{
	const char *what = info == NVME_AER_ERR_INVALID_DB ?
			   "write to invalid doorbell register" :
			   "invalid doorbell write value";

	log_ratelimited(LOG_WARN, c->name, "%s (0x%x := %u)", what, off, val);
	nvme_errlog_add(c, 0xffff, 0xffff, 0, 0);
	if (c->aer_n && !(c->aer_masked & 1u << NVME_AER_TYPE_ERROR))
		nvme_aer_event(c, NVME_AER_TYPE_ERROR, info, NVME_LOG_ERROR);
	else
		nvme_fatal(c, what);
}

/* ---- queue processing ---- */

static void nvme_sq_run(struct nvme_ctrl *c, uint16_t qid)
{
	struct nvme_sq *sq = &c->sq[qid];
	struct nvme_sqe sqe;
	struct nvme_cpl cpl;

	while (nvme_ready(c) && sq->live && sq->head != sq->tail) {
		if (nvme_cq_full(&c->cq[sq->cqid]))
			break; /* resumed by the CQ head doorbell */
		/* Copy the entry once; the handlers only see the copy. */
		if (gmem_read(c->mem, sq->base + (uint64_t)sq->head *
			      NVME_SQE_SIZE, &sqe, sizeof(sqe))) {
			nvme_fatal(c, "submission queue is not guest RAM");
			break;
		}
		sq->head = (sq->head + 1) % sq->size;
		cpl = qid ? nvme_io_cmd(c, &sqe) : nvme_admin_cmd(c, &sqe);
		if (!cpl.defer)
			nvme_post(c, qid, sqe.cid, &cpl);
	}
}

/* The CQ head moved: its SQs may go on, and queued events may land. */
static void nvme_cq_resume(struct nvme_ctrl *c, uint16_t cqid)
{
	if (cqid == 0)
		nvme_aer_flush(c);
	for (uint16_t q = 0; q < NVME_NR_QUEUES; q++)
		if (c->sq[q].live && c->sq[q].cqid == cqid)
			nvme_sq_run(c, q);
}

/*
 * §3.1.3.23-24 (CAP.DSTRD = 0): SQyTDBL at 1000h + 8y, CQyHDBL at
 * 1000h + 8y + 4. Bits 31:16 are reserved and ignored.
 */
void nvme_doorbell(struct nvme_ctrl *c, uint32_t off, uint32_t val)
{
	uint32_t idx = (off - NVME_REG_DB) / 4, qid = idx / 2;
	bool is_cq = idx & 1;
	uint32_t v = val & 0xffff;

	/* Doorbells of a disabled or failed controller are ignored. */
	if (!nvme_ready(c))
		return;
	if (qid >= NVME_NR_QUEUES ||
	    !(is_cq ? c->cq[qid].live : c->sq[qid].live)) {
		nvme_db_error(c, NVME_AER_ERR_INVALID_DB, off, val);
		goto out;
	}
	if (is_cq) {
		struct nvme_cq *cq = &c->cq[qid];
		uint32_t posted = (cq->tail + cq->size - cq->head) % cq->size;
		uint32_t release = (v + cq->size - cq->head) % cq->size;

		/* Past the queue, or consuming entries never posted. */
		if (v >= cq->size || release > posted) {
			nvme_db_error(c, NVME_AER_ERR_DB_VALUE, off, val);
			goto out;
		}
		cq->head = v;
		nvme_cq_resume(c, (uint16_t)qid);
	} else {
		struct nvme_sq *sq = &c->sq[qid];

		if (v >= sq->size) {
			nvme_db_error(c, NVME_AER_ERR_DB_VALUE, off, val);
			goto out;
		}
		sq->tail = v;
		nvme_sq_run(c, (uint16_t)qid);
	}
out:
	nvme_irq_flush(c);
}

/* ---- enable and reset ---- */

/* CC.EN 0 -> 1 (§3.5.1, initialization): check CC and the admin queues. */
int nvme_queues_enable(struct nvme_ctrl *c, const char **why)
{
	uint32_t cc = nvme_reg(c, NVME_REG_CC), aqa = nvme_reg(c, NVME_REG_AQA);
	uint64_t asq = nvme_reg(c, NVME_REG_ASQ) |
		       (uint64_t)nvme_reg(c, NVME_REG_ASQ + 4) << 32;
	uint64_t acq = nvme_reg(c, NVME_REG_ACQ) |
		       (uint64_t)nvme_reg(c, NVME_REG_ACQ + 4) << 32;
	uint32_t asqs = (aqa & 0xfff) + 1, acqs = ((aqa >> 16) & 0xfff) + 1;

	if (NVME_CC_CSS(cc) != 0)
		*why = "CC.CSS: only the NVM command set";
	else if (NVME_CC_MPS(cc) != 0)
		*why = "CC.MPS: only 4 KiB memory pages";
	else if (NVME_CC_AMS(cc) != 0)
		*why = "CC.AMS: only round robin arbitration";
	else if (NVME_CC_IOSQES(cc) != NVME_SQES ||
		 NVME_CC_IOCQES(cc) != NVME_CQES)
		*why = "CC.IOSQES/IOCQES: only 64/16-byte entries";
	else if (asqs < 2 || acqs < 2)
		*why = "AQA: admin queues need 2 entries or more";
	else if (!gmem_is_ram(c->mem, asq, (uint64_t)asqs * NVME_SQE_SIZE))
		*why = "ASQ: admin submission queue is not guest RAM";
	else if (!gmem_is_ram(c->mem, acq, (uint64_t)acqs * NVME_CQE_SIZE))
		*why = "ACQ: admin completion queue is not guest RAM";
	else
		*why = NULL;
	if (*why)
		return -1;
	c->sq[0] = (struct nvme_sq){ .live = true, .cqid = 0, .size = asqs,
				     .base = asq };
	c->cq[0] = (struct nvme_cq){ .live = true, .ien = true, .vector = 0,
				     .size = acqs, .base = acq, .phase = 1,
				     .nsq = 1 };
	return 0;
}

/*
 * §3.7.2 (controller level reset): every queue deleted, outstanding
 * commands (AERs) dropped.
 */
void nvme_queues_reset(struct nvme_ctrl *c)
{
	memset(c->sq, 0, sizeof(c->sq));
	memset(c->cq, 0, sizeof(c->cq));
	c->aer_n = 0;
	c->aer_ev_n = 0;
	c->aer_masked = 0;
	nvme_features_reset(c);
	nvme_irq_update(c);
}
