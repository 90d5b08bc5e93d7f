// SPDX-License-Identifier: MIT
/*
 * The admin command set (Base §5): queue creation and deletion (physically
 * contiguous queues only, CAP.CQR = 1), Get/Set Features, Abort,
 * Asynchronous Event Request; Identify and Get Log Page live in
 * identify.c. Opcodes and features are tables; an opcode that is not in
 * the table (including every optional command: Firmware, Format, Namespace
 * Management, Security, ...) is Invalid Command Opcode.
 */
#include <string.h>

#include "core/util.h"
#include "emul-devices/nvme/nvme-internal.h"

#define FEAT_TEMP_OVER_DEFAULT 0x157 /* 343 K, the warning level (WCTEMP) */

static struct nvme_cpl st(uint16_t status)
{
	return (struct nvme_cpl){ .status = status };
}

/* ---- queues (§5.4-5.7) ---- */

/* Checks Create I/O CQ and SQ share: QSIZE, PC, the queue memory. */
static uint16_t queue_common(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			     uint32_t esize, uint32_t *size)
{
	uint32_t qsize = (sqe->cdw10 >> 16) + 1;

	if (qsize < 2 || qsize > NVME_MQES + 1)
		return NVME_SC_QSIZE_INVALID | NVME_DNR;
	/* CAP.CQR: physically contiguous only (PC = 0 is Invalid Field). */
	if (!(sqe->cdw11 & 1))
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	if (sqe->prp1 & NVME_PAGE_MASK)
		return NVME_SC_PRP_OFFSET | NVME_DNR;
	/*
	 * The spec has no status for a queue outside memory; refusing it
	 * here (the PRP1 field is invalid) means later fetches and posts
	 * cannot leave guest RAM.
	 */
	if (!gmem_is_ram(c->mem, sqe->prp1, (uint64_t)qsize * esize))
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	*size = qsize;
	return 0;
}

static struct nvme_cpl adm_create_cq(struct nvme_ctrl *c,
				     const struct nvme_sqe *sqe)
{
	uint32_t qid = sqe->cdw10 & 0xffff, iv = sqe->cdw11 >> 16, size;
	uint16_t s;

	if (qid == 0 || qid > c->feat.ncqa || c->cq[qid].live)
		return st(NVME_SC_QID_INVALID | NVME_DNR);
	s = queue_common(c, sqe, NVME_CQE_SIZE, &size);
	if (s)
		return st(s);
	if (iv >= NVME_CTRL_VECTORS)
		return st(NVME_SC_INVALID_VECTOR | NVME_DNR);
	c->cq[qid] = (struct nvme_cq){
		.live = true, .ien = sqe->cdw11 & 2, .vector = (uint16_t)iv,
		.size = size, .base = sqe->prp1, .phase = 1,
	};
	return st(0);
}

static struct nvme_cpl adm_create_sq(struct nvme_ctrl *c,
				     const struct nvme_sqe *sqe)
{
	uint32_t qid = sqe->cdw10 & 0xffff, cqid = sqe->cdw11 >> 16, size;
	uint16_t s;

	if (qid == 0 || qid > c->feat.nsqa || c->sq[qid].live)
		return st(NVME_SC_QID_INVALID | NVME_DNR);
	/* The admin CQ takes admin commands only. */
	if (cqid == 0 || cqid > NVME_MAX_IOQ || !c->cq[cqid].live)
		return st(NVME_SC_CQ_INVALID | NVME_DNR);
	s = queue_common(c, sqe, NVME_SQE_SIZE, &size);
	if (s)
		return st(s);
	/* QPRIO (CDW11 2:1) only matters with weighted round robin. */
	c->sq[qid] = (struct nvme_sq){
		.live = true, .cqid = (uint16_t)cqid, .size = size,
		.base = sqe->prp1,
	};
	c->cq[cqid].nsq++;
	return st(0);
}

static struct nvme_cpl adm_delete_sq(struct nvme_ctrl *c,
				     const struct nvme_sqe *sqe)
{
	uint32_t qid = sqe->cdw10 & 0xffff;

	if (qid == 0 || qid > NVME_MAX_IOQ || !c->sq[qid].live)
		return st(NVME_SC_QID_INVALID | NVME_DNR);
	/* Nothing is in flight: every I/O command completed when fetched. */
	c->cq[c->sq[qid].cqid].nsq--;
	memset(&c->sq[qid], 0, sizeof(c->sq[qid]));
	return st(0);
}

static struct nvme_cpl adm_delete_cq(struct nvme_ctrl *c,
				     const struct nvme_sqe *sqe)
{
	uint32_t qid = sqe->cdw10 & 0xffff;

	if (qid == 0 || qid > NVME_MAX_IOQ || !c->cq[qid].live)
		return st(NVME_SC_QID_INVALID | NVME_DNR);
	/* §5.6: its SQs must be deleted first. */
	if (c->cq[qid].nsq)
		return st(NVME_SC_QUEUE_DELETION | NVME_DNR);
	memset(&c->cq[qid], 0, sizeof(c->cq[qid]));
	nvme_irq_update(c); /* its unconsumed entries no longer hold INTA# */
	return st(0);
}

/* ---- Abort (§5.1), Asynchronous Event Request (§5.2) ---- */

static struct nvme_cpl adm_abort(struct nvme_ctrl *c,
				 const struct nvme_sqe *sqe)
{
	/*
	 * Commands complete before the next is fetched, so the only thing
	 * that could be in flight is an AER; the spec lets a controller
	 * decline: DW0 bit 0 = 1, "command not aborted".
	 */
	return (struct nvme_cpl){ .dw0 = 1 };
}

static struct nvme_cpl adm_aer(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	if (c->aer_n > NVME_AERL)
		return st(NVME_SC_AER_LIMIT | NVME_DNR);
	c->aer_cid[c->aer_n++] = sqe->cid;
	/* A waiting event completes it now; the fetch left a CQ slot. */
	nvme_aer_flush(c);
	return (struct nvme_cpl){ .defer = true };
}

/* ---- Features (§5.27.1) ---- */

struct nvme_feat_desc {
	uint8_t fid;
	const char *name;
	uint16_t (*get)(const struct nvme_features *f, const struct nvme_sqe *sqe,
			uint32_t *dw0);
	uint16_t (*set)(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			uint32_t *dw0);
};

static void feat_defaults(struct nvme_features *f)
{
	*f = (struct nvme_features){
		.temp_over = FEAT_TEMP_OVER_DEFAULT,
		.wce = true,
		.nsqa = NVME_MAX_IOQ,
		.ncqa = NVME_MAX_IOQ,
	};
}

void nvme_features_reset(struct nvme_ctrl *c)
{
	feat_defaults(&c->feat);
}

static uint16_t get_arb(const struct nvme_features *f,
			const struct nvme_sqe *sqe, uint32_t *dw0)
{
	*dw0 = f->arbitration;
	return 0;
}

static uint16_t set_arb(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			uint32_t *dw0)
{
	/* AB 2:0, LPW, MPW, HPW: kept; round robin ignores the weights. */
	c->feat.arbitration = sqe->cdw11 & 0xffffff07u;
	return 0;
}

static uint16_t get_pm(const struct nvme_features *f,
		       const struct nvme_sqe *sqe, uint32_t *dw0)
{
	*dw0 = f->power_mgmt;
	return 0;
}

static uint16_t set_pm(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
		       uint32_t *dw0)
{
	/* One power state (NPSS = 0): PS must be 0. */
	if (sqe->cdw11 & 0x1f)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	c->feat.power_mgmt = sqe->cdw11 & 0xe0;
	return 0;
}

/* Temperature Threshold: TMPSEL 19:16 (0 = composite, the only sensor),
 * THSEL 21:20 (0 over, 1 under). */
static uint16_t temp_sel(const struct nvme_sqe *sqe, bool *under)
{
	uint32_t tmpsel = (sqe->cdw11 >> 16) & 0xf, thsel = (sqe->cdw11 >> 20) & 3;

	if (tmpsel != 0 || thsel > 1)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	*under = thsel == 1;
	return 0;
}

static uint16_t get_temp(const struct nvme_features *f,
			 const struct nvme_sqe *sqe, uint32_t *dw0)
{
	bool under;
	uint16_t s = temp_sel(sqe, &under);

	if (!s)
		*dw0 = under ? f->temp_under : f->temp_over;
	return s;
}

static uint16_t set_temp(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			 uint32_t *dw0)
{
	bool under;
	uint16_t s = temp_sel(sqe, &under);

	if (!s) {
		if (under)
			c->feat.temp_under = (uint16_t)sqe->cdw11;
		else
			c->feat.temp_over = (uint16_t)sqe->cdw11;
	}
	return s;
}

static uint16_t get_err(const struct nvme_features *f,
			const struct nvme_sqe *sqe, uint32_t *dw0)
{
	*dw0 = f->err_recovery;
	return 0;
}

static uint16_t set_err(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			uint32_t *dw0)
{
	/* DULBE (bit 16) needs deallocation support (NSFEAT bit 2): none. */
	if (sqe->cdw11 & 0x10000)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	c->feat.err_recovery = sqe->cdw11 & 0xffff;
	return 0;
}

static uint16_t get_vwc(const struct nvme_features *f,
			const struct nvme_sqe *sqe, uint32_t *dw0)
{
	*dw0 = f->wce;
	return 0;
}

static uint16_t set_vwc(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			uint32_t *dw0)
{
	bool wce = sqe->cdw11 & 1;

	/* Turning the cache off: what it held becomes durable first. */
	if (c->feat.wce && !wce && nvme_ns_flush(c))
		return NVME_SC_INTERNAL;
	c->feat.wce = wce;
	return 0;
}

static uint16_t get_numq(const struct nvme_features *f,
			 const struct nvme_sqe *sqe, uint32_t *dw0)
{
	*dw0 = (uint32_t)(f->ncqa - 1) << 16 | (uint32_t)(f->nsqa - 1);
	return 0;
}

/* Number of Queues (§5.27.1): NSQR 15:0, NCQR 31:16, 0's based; 65535
 * is invalid. */
static uint16_t set_numq(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			 uint32_t *dw0)
{
	uint32_t nsqr = sqe->cdw11 & 0xffff, ncqr = sqe->cdw11 >> 16;

	/* Only before any I/O queue exists (same section). */
	for (unsigned q = 1; q < NVME_NR_QUEUES; q++)
		if (c->sq[q].live || c->cq[q].live)
			return NVME_SC_CMD_SEQ_ERROR | NVME_DNR;
	if (nsqr == 0xffff || ncqr == 0xffff)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	c->feat.nsqa = (uint16_t)(nsqr < NVME_MAX_IOQ ? nsqr + 1 : NVME_MAX_IOQ);
	c->feat.ncqa = (uint16_t)(ncqr < NVME_MAX_IOQ ? ncqr + 1 : NVME_MAX_IOQ);
	return get_numq(&c->feat, sqe, dw0);
}

static uint16_t get_coal(const struct nvme_features *f,
			 const struct nvme_sqe *sqe, uint32_t *dw0)
{
	*dw0 = f->int_coalescing;
	return 0;
}

/*
 * Interrupt Coalescing (§5.27.1): aggregation threshold and time are
 * kept and reported but not acted upon: every doorbell's completions
 * raise one interrupt per CQ at once, which a driver must accept
 * (coalescing permits the controller to delay, it does not oblige it).
 */
static uint16_t set_coal(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			 uint32_t *dw0)
{
	c->feat.int_coalescing = sqe->cdw11 & 0xffff;
	return 0;
}

static uint16_t get_ivc(const struct nvme_features *f,
			const struct nvme_sqe *sqe, uint32_t *dw0)
{
	uint32_t iv = sqe->cdw11 & 0xffff;

	if (iv >= NVME_CTRL_VECTORS)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	*dw0 = iv | (uint32_t)((f->vector_cd[iv / 8] >> (iv % 8)) & 1) << 16;
	return 0;
}

static uint16_t set_ivc(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			uint32_t *dw0)
{
	uint32_t iv = sqe->cdw11 & 0xffff;

	if (iv >= NVME_CTRL_VECTORS)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	if (sqe->cdw11 & 0x10000)
		c->feat.vector_cd[iv / 8] |= (uint8_t)(1u << (iv % 8));
	else
		c->feat.vector_cd[iv / 8] &= (uint8_t)~(1u << (iv % 8));
	return 0;
}

static uint16_t get_wa(const struct nvme_features *f,
		       const struct nvme_sqe *sqe, uint32_t *dw0)
{
	*dw0 = f->write_atomicity;
	return 0;
}

static uint16_t set_wa(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
		       uint32_t *dw0)
{
	c->feat.write_atomicity = sqe->cdw11 & 1;
	return 0;
}

static uint16_t get_aec(const struct nvme_features *f,
			const struct nvme_sqe *sqe, uint32_t *dw0)
{
	*dw0 = f->async_config;
	return 0;
}

static uint16_t set_aec(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			uint32_t *dw0)
{
	/* Gates SMART and notice events, none of which this controller
	 * raises; error events cannot be masked (§5.2). */
	c->feat.async_config = sqe->cdw11;
	return 0;
}

/* The features an NVM controller on PCIe must support (§5.27.1). */
static const struct nvme_feat_desc nvme_feats[] = {
	{ 0x01, "arbitration", get_arb, set_arb },
	{ 0x02, "power management", get_pm, set_pm },
	{ 0x04, "temperature threshold", get_temp, set_temp },
	{ 0x05, "error recovery", get_err, set_err },
	{ 0x06, "volatile write cache", get_vwc, set_vwc },
	{ 0x07, "number of queues", get_numq, set_numq },
	{ 0x08, "interrupt coalescing", get_coal, set_coal },
	{ 0x09, "interrupt vector configuration", get_ivc, set_ivc },
	{ 0x0a, "write atomicity normal", get_wa, set_wa },
	{ 0x0b, "asynchronous event configuration", get_aec, set_aec },
};

static const struct nvme_feat_desc *feat_find(uint8_t fid)
{
	for (size_t i = 0; i < ARRAY_SIZE(nvme_feats); i++)
		if (nvme_feats[i].fid == fid)
			return &nvme_feats[i];
	return NULL;
}

static struct nvme_cpl adm_get_features(struct nvme_ctrl *c,
					const struct nvme_sqe *sqe)
{
	const struct nvme_feat_desc *d = feat_find((uint8_t)sqe->cdw10);
	unsigned sel = (sqe->cdw10 >> 8) & 7;
	struct nvme_features def;
	struct nvme_cpl cpl = { 0 };

	if (!d || sel > 3)
		return st(NVME_SC_INVALID_FIELD | NVME_DNR);
	switch (sel) {
	case 0: /* current */
		cpl.status = d->get(&c->feat, sqe, &cpl.dw0);
		break;
	case 1: /* default */
	case 2: /* saved: nothing is saveable, so the default */
		feat_defaults(&def);
		cpl.status = d->get(&def, sqe, &cpl.dw0);
		break;
	default: /* supported capabilities: changeable, not saveable */
		cpl.dw0 = 0x4;
		break;
	}
	return cpl;
}

static struct nvme_cpl adm_set_features(struct nvme_ctrl *c,
					const struct nvme_sqe *sqe)
{
	const struct nvme_feat_desc *d = feat_find((uint8_t)sqe->cdw10);
	struct nvme_cpl cpl = { 0 };

	if (sqe->cdw10 >> 31) /* SV */
		return st(NVME_SC_NOT_SAVEABLE | NVME_DNR);
	if (!d)
		return st(NVME_SC_INVALID_FIELD | NVME_DNR);
	cpl.status = d->set(c, sqe, &cpl.dw0);
	return cpl;
}

static struct nvme_cpl adm_identify(struct nvme_ctrl *c,
				    const struct nvme_sqe *sqe)
{
	return st(nvme_identify(c, sqe));
}

static struct nvme_cpl adm_get_log(struct nvme_ctrl *c,
				   const struct nvme_sqe *sqe)
{
	return st(nvme_get_log(c, sqe));
}

/* ---- dispatch ---- */

struct nvme_admin_desc {
	const char *name;
	struct nvme_cpl (*run)(struct nvme_ctrl *c, const struct nvme_sqe *sqe);
};

static const struct nvme_admin_desc nvme_admin[256] = {
	[NVME_ADM_DELETE_SQ] = { "delete I/O SQ", adm_delete_sq },
	[NVME_ADM_CREATE_SQ] = { "create I/O SQ", adm_create_sq },
	[NVME_ADM_GET_LOG] = { "get log page", adm_get_log },
	[NVME_ADM_DELETE_CQ] = { "delete I/O CQ", adm_delete_cq },
	[NVME_ADM_CREATE_CQ] = { "create I/O CQ", adm_create_cq },
	[NVME_ADM_IDENTIFY] = { "identify", adm_identify },
	[NVME_ADM_ABORT] = { "abort", adm_abort },
	[NVME_ADM_SET_FEAT] = { "set features", adm_set_features },
	[NVME_ADM_GET_FEAT] = { "get features", adm_get_features },
	[NVME_ADM_AER] = { "asynchronous event request", adm_aer },
};

struct nvme_cpl nvme_admin_cmd(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	const struct nvme_admin_desc *d = &nvme_admin[sqe->opcode];

	c->stats.admin_cmds++;
	if (!d->run)
		return st(NVME_SC_INVALID_OPCODE | NVME_DNR);
	/* No fused operations (FUSES = 0), no SGLs (SGLS = 0): §4.2. */
	if (sqe->flags & 0xc3)
		return st(NVME_SC_INVALID_FIELD | NVME_DNR);
	return d->run(c, sqe);
}
