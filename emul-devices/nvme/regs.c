// SPDX-License-Identifier: MIT
/*
 * The NVMe controller registers (Base §3.1.3, controller properties) as a
 * table: offset -> {name, reset, writable mask, write handler}. Offsets
 * not in the table (CMB, boot partitions, PMR, NSSR: none of them offered
 * in CAP) read 0 and drop writes. Everything is kept in dwords: the 64-bit
 * registers (CAP, ASQ, ACQ) take one 8-byte access or two 4-byte ones,
 * which the dispatcher splits, low dword first, so a driver's two halves
 * land exactly as one qword would.
 *
 * CC carries the state machine (Base §3.5.1 initialization, §3.6
 * shutdown, §3.7.2 controller level reset):
 *   EN 0 -> 1  validate AQA/ASQ/ACQ and CC, bring the admin queues up,
 *              CSTS.RDY = 1; a bad value sets CSTS.CFS instead;
 *   EN 1 -> 0  controller reset: every queue deleted, outstanding AERs
 *              dropped, features back to defaults, RDY = CFS = 0;
 *   SHN != 0   shutdown: flush the namespace, CSTS.SHST = complete.
 * RDY follows EN within the register write, so CAP.TO is the minimum.
 */
#include <pthread.h>

#include "core/log.h"
#include "core/util.h"
#include "emul-devices/nvme/nvme-internal.h"

struct nvme_reg_desc {
	uint32_t off;
	const char *name;
	uint32_t reset;
	uint32_t wmask;
	/* After the masked store; val is what the guest wrote (lock held). */
	void (*write)(struct nvme_ctrl *c, uint32_t val, uint32_t old);
	/* Replaces the stored value on read (lock held). */
	uint32_t (*read)(struct nvme_ctrl *c);
};

/* INTMS/INTMC (§3.1.3.3-4): set / clear mask bits; both read the mask. */
static void wr_intms(struct nvme_ctrl *c, uint32_t val, uint32_t old)
{
	nvme_set_reg(c, NVME_REG_INTMS, old | val);
	nvme_irq_update(c);
}

static void wr_intmc(struct nvme_ctrl *c, uint32_t val, uint32_t old)
{
	nvme_set_reg(c, NVME_REG_INTMS, nvme_reg(c, NVME_REG_INTMS) & ~val);
	nvme_irq_update(c);
}

static uint32_t rd_intm(struct nvme_ctrl *c)
{
	return nvme_reg(c, NVME_REG_INTMS);
}

static void cc_enable(struct nvme_ctrl *c)
{
	const char *why = NULL;
	uint32_t csts = nvme_reg(c, NVME_REG_CSTS) & ~NVME_CSTS_SHST_MASK;

	nvme_set_reg(c, NVME_REG_CSTS, csts);
	if (nvme_queues_enable(c, &why)) {
		/*
		 * §3.5.1 leaves a bad AQA/ASQ/ACQ or CC undefined; a fatal
		 * status tells the driver at once (it polls CSTS for RDY)
		 * instead of letting it wait CAP.TO for nothing.
		 */
		nvme_fatal(c, why);
		return;
	}
	nvme_set_reg(c, NVME_REG_CSTS, csts | NVME_CSTS_RDY);
}

static void wr_cc(struct nvme_ctrl *c, uint32_t val, uint32_t old)
{
	uint32_t cc = nvme_reg(c, NVME_REG_CC);

	if ((old & NVME_CC_EN) && !(cc & NVME_CC_EN)) {
		/* §3.7.2: controller reset; AQA/ASQ/ACQ keep their values. */
		nvme_queues_reset(c);
		nvme_set_reg(c, NVME_REG_CSTS, nvme_reg(c, NVME_REG_CSTS) &
			     NVME_CSTS_SHST_MASK);
	} else if (!(old & NVME_CC_EN) && (cc & NVME_CC_EN)) {
		cc_enable(c);
	}
	if (NVME_CC_SHN(cc) && !NVME_CC_SHN(old)) {
		/* §3.6: normal and abrupt alike; data reaches the disk. */
		nvme_ns_flush(c);
		nvme_set_reg(c, NVME_REG_CSTS,
			     (nvme_reg(c, NVME_REG_CSTS) & ~NVME_CSTS_SHST_MASK) |
			     NVME_CSTS_SHST_DONE);
	} else if (!NVME_CC_SHN(cc) && NVME_CC_SHN(old)) {
		nvme_set_reg(c, NVME_REG_CSTS, nvme_reg(c, NVME_REG_CSTS) &
			     ~NVME_CSTS_SHST_MASK);
	}
}

#define CAP_LO (NVME_MQES | NVME_CAP_CQR | NVME_CAP_TO << 24)
/* DSTRD 0, NSSRS 0, CSS bit 0 (NVM command set), MPSMIN = MPSMAX = 0. */
#define CAP_HI (NVME_CAP_CSS_NVM)

static const struct nvme_reg_desc nvme_regs[] = {
	{ .off = NVME_REG_CAP, .name = "CAP", .reset = CAP_LO },
	{ .off = NVME_REG_CAP + 4, .name = "CAP.hi", .reset = CAP_HI },
	{ .off = NVME_REG_VS, .name = "VS", .reset = NVME_VERSION },
	{ .off = NVME_REG_INTMS, .name = "INTMS", .write = wr_intms,
	  .read = rd_intm },
	{ .off = NVME_REG_INTMC, .name = "INTMC", .write = wr_intmc,
	  .read = rd_intm },
	{ .off = NVME_REG_CC, .name = "CC", .wmask = NVME_CC_WMASK,
	  .write = wr_cc },
	{ .off = NVME_REG_CSTS, .name = "CSTS" },
	/* §3.1.3.8: ASQS 11:0, ACQS 27:16, 0's based. */
	{ .off = NVME_REG_AQA, .name = "AQA", .wmask = 0x0fff0fffu },
	/* §3.1.3.9-10: page aligned with CC.MPS = 0, low 12 bits reserved. */
	{ .off = NVME_REG_ASQ, .name = "ASQ", .wmask = ~NVME_PAGE_MASK },
	{ .off = NVME_REG_ASQ + 4, .name = "ASQ.hi", .wmask = 0xffffffffu },
	{ .off = NVME_REG_ACQ, .name = "ACQ", .wmask = ~NVME_PAGE_MASK },
	{ .off = NVME_REG_ACQ + 4, .name = "ACQ.hi", .wmask = 0xffffffffu },
};

/* dword index -> table entry + 1 (0: reserved). Built once. */
static uint8_t nvme_reg_index[NVME_REG_END / 4];
static pthread_once_t nvme_reg_once = PTHREAD_ONCE_INIT;

static void nvme_build_index(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(nvme_regs); i++)
		nvme_reg_index[nvme_regs[i].off / 4] = (uint8_t)(i + 1);
}

static const struct nvme_reg_desc *nvme_reg_find(uint32_t off)
{
	unsigned i;

	if (off >= NVME_REG_END)
		return NULL;
	pthread_once(&nvme_reg_once, nvme_build_index);
	i = nvme_reg_index[off / 4];
	return i ? &nvme_regs[i - 1] : NULL;
}

uint32_t nvme_regs_read(struct nvme_ctrl *c, uint32_t off)
{
	const struct nvme_reg_desc *d = nvme_reg_find(off & ~3u);

	if (!d)
		return 0;
	return d->read ? d->read(c) : nvme_reg(c, d->off);
}

void nvme_regs_write(struct nvme_ctrl *c, uint32_t off, uint32_t val)
{
	const struct nvme_reg_desc *d = nvme_reg_find(off & ~3u);
	uint32_t old;

	if (!d) {
		log_ratelimited(LOG_DEBUG, c->name,
				"write 0x%x to reserved register 0x%x", val, off);
		return;
	}
	old = nvme_reg(c, d->off);
	nvme_set_reg(c, d->off, (old & ~d->wmask) | (val & d->wmask));
	if (d->write)
		d->write(c, val, old);
}

void nvme_regs_reset(struct nvme_ctrl *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(c->regs); i++)
		c->regs[i] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(nvme_regs); i++)
		nvme_set_reg(c, nvme_regs[i].off, nvme_regs[i].reset);
}

const char *nvme_reg_name(uint32_t off)
{
	const struct nvme_reg_desc *d = nvme_reg_find(off & ~3u);

	if (d)
		return d->name;
	return off >= NVME_REG_DB ? "doorbell" : "reserved";
}
