// SPDX-License-Identifier: MIT
/*
 * The 82540EM register file as a table (8254x SDM table 13-2 and the
 * register descriptions of section 13.4): offset -> {name, reset value,
 * writable mask, clear-on-read, handlers}. The dispatcher applies the mask
 * and the read side effects, so only registers with behaviour beyond
 * "store the writable bits" have a handler. Offsets that are not in the
 * table read 0 and ignore writes, as reserved registers do.
 */
#include <pthread.h>

#include "core/log.h"
#include "core/util.h"
#include "emul-devices/e1000/e1000-internal.h"

#define REG_COR 0x1 /* clear on read (statistics, SDM 13.7) */

struct e1000_reg_desc {
	uint32_t off;
	uint16_t count;  /* consecutive dwords sharing this description */
	uint8_t flags;
	const char *name;
	uint32_t reset;
	uint32_t wmask;
	/* Replaces the stored value on read (lock held). */
	uint32_t (*read)(struct e1000 *e, uint32_t off);
	/* After the masked store; val is what the guest wrote (lock held). */
	void (*write)(struct e1000 *e, uint32_t off, uint32_t val,
		      uint32_t old);
};

static void wr_ctrl(struct e1000 *e, uint32_t off, uint32_t val, uint32_t old)
{
	/* RST and PHY_RST are self-clearing (SDM 13.4.1). */
	if (val & E1000_CTRL_RST) {
		e1000_device_reset(e);
		return;
	}
	if (val & E1000_CTRL_PHY_RST)
		e1000_phy_reset(e);
}

static uint32_t rd_eecd(struct e1000 *e, uint32_t off)
{
	return e1000_eecd_read(e);
}

static void wr_eecd(struct e1000 *e, uint32_t off, uint32_t val, uint32_t old)
{
	e1000_eecd_write(e, val);
}

static void wr_eerd(struct e1000 *e, uint32_t off, uint32_t val, uint32_t old)
{
	e1000_eerd_write(e, val);
}

static void wr_mdic(struct e1000 *e, uint32_t off, uint32_t val, uint32_t old)
{
	e1000_mdic_write(e, val);
}

/* ICR: reading returns the causes and clears them all (SDM 13.4.17). */
static uint32_t rd_icr(struct e1000 *e, uint32_t off)
{
	uint32_t v = e1000_reg(e, E1000_ICR);

	e1000_set_reg(e, E1000_ICR, 0);
	e1000_update_irq(e);
	return v;
}

/* Writing 1s to ICR clears those causes. */
static void wr_icr(struct e1000 *e, uint32_t off, uint32_t val, uint32_t old)
{
	e1000_set_reg(e, E1000_ICR, old & ~val);
	e1000_update_irq(e);
}

/* ICS is write-only; reads show the pending causes without clearing. */
static uint32_t rd_ics(struct e1000 *e, uint32_t off)
{
	return e1000_reg(e, E1000_ICR);
}

static void wr_ics(struct e1000 *e, uint32_t off, uint32_t val, uint32_t old)
{
	e1000_set_ics(e, val);
}

static uint32_t rd_ims(struct e1000 *e, uint32_t off)
{
	return e1000_reg(e, E1000_IMS);
}

static void wr_ims(struct e1000 *e, uint32_t off, uint32_t val, uint32_t old)
{
	e1000_set_reg(e, E1000_IMS, e1000_reg(e, E1000_IMS) |
		      (val & E1000_ICR_ALL));
	e1000_update_irq(e);
}

static uint32_t rd_zero(struct e1000 *e, uint32_t off)
{
	return 0;
}

static void wr_imc(struct e1000 *e, uint32_t off, uint32_t val, uint32_t old)
{
	e1000_set_reg(e, E1000_IMS, e1000_reg(e, E1000_IMS) & ~val);
	e1000_update_irq(e);
}

static void wr_rx_kick(struct e1000 *e, uint32_t off, uint32_t val,
		       uint32_t old)
{
	/* New descriptors or a receiver just enabled: resume delivery. */
	if (e1000_reg(e, E1000_RCTL) & E1000_RCTL_EN)
		net_backend_rx_ready(e->be);
}

static void wr_tx_kick(struct e1000 *e, uint32_t off, uint32_t val,
		       uint32_t old)
{
	e1000_tx_process(e);
}

/* Odd dwords of the RA array are RAH: AV, AS and 16 address bits. */
static void wr_ra(struct e1000 *e, uint32_t off, uint32_t val, uint32_t old)
{
	if ((off - E1000_RA) & 4)
		e1000_set_reg(e, off, val & 0x8003ffffu);
}

#define R(o, n, rst, wm) { .off = (o), .count = 1, .name = (n), \
			   .reset = (rst), .wmask = (wm) }
#define RA_(o, cnt, n, wm) { .off = (o), .count = (cnt), .name = (n), \
			     .wmask = (wm) }

static const struct e1000_reg_desc e1000_regs[] = {
	{ .off = E1000_CTRL, .count = 1, .name = "CTRL",
	  .reset = E1000_CTRL_FD | E1000_CTRL_SLU | E1000_CTRL_SPD_1000,
	  .wmask = ~(E1000_CTRL_RST | E1000_CTRL_PHY_RST), .write = wr_ctrl },
	/* Link up, 1000 Mb/s full duplex, always (SDM 13.4.2). */
	R(E1000_STATUS, "STATUS", E1000_STATUS_FD | E1000_STATUS_LU |
	  E1000_STATUS_SPEED_1000 | E1000_STATUS_ASDV_1000, 0),
	{ .off = E1000_EECD, .count = 1, .name = "EECD",
	  .reset = E1000_EECD_PRES, .read = rd_eecd, .write = wr_eecd },
	{ .off = E1000_EERD, .count = 1, .name = "EERD", .write = wr_eerd },
	R(E1000_CTRL_EXT, "CTRL_EXT", 0, 0xffffffffu),
	R(E1000_FLA, "FLA", 0, 0xffffffffu),
	{ .off = E1000_MDIC, .count = 1, .name = "MDIC",
	  .reset = E1000_MDIC_READY, .write = wr_mdic },
	R(E1000_FCAL, "FCAL", 0, 0xffffffffu),
	R(E1000_FCAH, "FCAH", 0, 0xffffu),
	R(E1000_FCT, "FCT", 0, 0xffffu),
	R(E1000_VET, "VET", 0x8100, 0xffffu),
	{ .off = E1000_ICR, .count = 1, .name = "ICR", .read = rd_icr,
	  .write = wr_icr },
	R(E1000_ITR, "ITR", 0, 0xffffu),
	{ .off = E1000_ICS, .count = 1, .name = "ICS", .read = rd_ics,
	  .write = wr_ics },
	{ .off = E1000_IMS, .count = 1, .name = "IMS", .read = rd_ims,
	  .write = wr_ims },
	{ .off = E1000_IMC, .count = 1, .name = "IMC", .read = rd_zero,
	  .write = wr_imc },
	{ .off = E1000_RCTL, .count = 1, .name = "RCTL", .wmask = 0x07c3b3feu,
	  .write = wr_rx_kick },
	R(E1000_FCTTV, "FCTTV", 0, 0xffffu),
	R(E1000_TXCW, "TXCW", 0, 0xc000ffffu),
	R(E1000_RXCW, "RXCW", 0, 0),
	{ .off = E1000_TCTL, .count = 1, .name = "TCTL", .reset = 0x8,
	  .wmask = 0x07fffffau, .write = wr_tx_kick },
	R(E1000_TIPG, "TIPG", 0, 0x3fffffffu),
	R(E1000_LEDCTL, "LEDCTL", 0x07068302u, 0xffffffffu),
	/* 48 KiB RX / 16 KiB TX packet buffer; TXA is read-only. */
	R(E1000_PBA, "PBA", 0x00100030u, 0xffffu),
	R(E1000_FCRTL, "FCRTL", 0, 0x8000fff8u),
	R(E1000_FCRTH, "FCRTH", 0, 0xfff8u),
	R(E1000_RDBAL, "RDBAL", 0, 0xfffffff0u),
	R(E1000_RDBAH, "RDBAH", 0, 0xffffffffu),
	/* Ring lengths are multiples of 128 bytes (SDM 13.4.28). */
	R(E1000_RDLEN, "RDLEN", 0, 0x000fff80u),
	R(E1000_RDH, "RDH", 0, 0xffffu),
	{ .off = E1000_RDT, .count = 1, .name = "RDT", .wmask = 0xffffu,
	  .write = wr_rx_kick },
	R(E1000_RDTR, "RDTR", 0, 0x8000ffffu),
	R(E1000_RXDCTL, "RXDCTL", 0x00010000u, 0x013f3f3fu),
	R(E1000_RADV, "RADV", 0, 0xffffu),
	R(E1000_RSRPD, "RSRPD", 0, 0xfffu),
	R(E1000_TXDMAC, "TXDMAC", 0, 0x1u),
	R(E1000_TDBAL, "TDBAL", 0, 0xfffffff0u),
	R(E1000_TDBAH, "TDBAH", 0, 0xffffffffu),
	R(E1000_TDLEN, "TDLEN", 0, 0x000fff80u),
	R(E1000_TDH, "TDH", 0, 0xffffu),
	{ .off = E1000_TDT, .count = 1, .name = "TDT", .wmask = 0xffffu,
	  .write = wr_tx_kick },
	R(E1000_TIDV, "TIDV", 0, 0xffffu),
	R(E1000_TXDCTL, "TXDCTL", 0x00010000u, 0x013f3f3fu),
	R(E1000_TADV, "TADV", 0, 0xffffu),
	R(E1000_TSPMT, "TSPMT", 0x01000400u, 0xffffffffu),
	{ .off = E1000_STATS, .count = 64, .flags = REG_COR, .name = "STATS" },
	R(E1000_RXCSUM, "RXCSUM", 0x00000300u, 0x7ffu),
	RA_(E1000_MTA, 128, "MTA", 0xffffffffu),
	{ .off = E1000_RA, .count = 32, .name = "RA", .wmask = 0xffffffffu,
	  .write = wr_ra },
	RA_(E1000_VFTA, 128, "VFTA", 0xffffffffu),
	R(E1000_WUC, "WUC", 0, 0x1fu),
	R(E1000_WUFC, "WUFC", 0, 0x000f00ffu),
	R(E1000_WUS, "WUS", 0, 0),
	R(E1000_MANC, "MANC", 0, 0xffffffffu),
	R(E1000_IPAV, "IPAV", 0, 0x10001u),
	RA_(E1000_IP4AT, 8, "IP4AT", 0xffffffffu),
	RA_(E1000_IP6AT, 4, "IP6AT", 0xffffffffu),
	R(E1000_WUPL, "WUPL", 0, 0xfffu),
	RA_(E1000_WUPM, 32, "WUPM", 0xffffffffu),
	RA_(E1000_FFLT, 8, "FFLT", 0x7ffu),
	RA_(E1000_FFMT, 256, "FFMT", 0xfu),
	RA_(E1000_FFVT, 256, "FFVT", 0xffffffffu),
};

/* dword index -> table entry + 1 (0: not a register). Built once. */
static uint8_t e1000_reg_index[E1000_NREGS];
static pthread_once_t e1000_reg_once = PTHREAD_ONCE_INIT;

static void e1000_build_index(void)
{
	_Static_assert(ARRAY_SIZE(e1000_regs) < 255, "index is a byte");
	for (size_t i = 0; i < ARRAY_SIZE(e1000_regs); i++) {
		const struct e1000_reg_desc *d = &e1000_regs[i];

		for (unsigned j = 0; j < d->count; j++)
			e1000_reg_index[(d->off >> 2) + j] = (uint8_t)(i + 1);
	}
}

static const struct e1000_reg_desc *e1000_reg_find(uint32_t off)
{
	unsigned i;

	pthread_once(&e1000_reg_once, e1000_build_index);
	i = e1000_reg_index[(off & (E1000_MMIO_SIZE - 1)) >> 2];
	return i ? &e1000_regs[i - 1] : NULL;
}

uint32_t e1000_mmio_read(struct e1000 *e, uint32_t off)
{
	const struct e1000_reg_desc *d = e1000_reg_find(off);
	uint32_t v;

	off &= ~3u;
	if (!d)
		return 0;
	if (d->read)
		return d->read(e, off);
	v = e1000_reg(e, off);
	if (d->flags & REG_COR)
		e1000_set_reg(e, off, 0);
	return v;
}

void e1000_mmio_write(struct e1000 *e, uint32_t off, uint32_t val)
{
	const struct e1000_reg_desc *d = e1000_reg_find(off);
	uint32_t old;

	off &= ~3u;
	if (!d) {
		log_ratelimited(LOG_DEBUG, e->name,
				"write 0x%x to unimplemented register 0x%x",
				val, off);
		return;
	}
	old = e1000_reg(e, off);
	e1000_set_reg(e, off, (old & ~d->wmask) | (val & d->wmask));
	if (d->write)
		d->write(e, off, val, old);
}

void e1000_regs_reset(struct e1000 *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(e1000_regs); i++) {
		const struct e1000_reg_desc *d = &e1000_regs[i];

		for (unsigned j = 0; j < d->count; j++)
			e->regs[(d->off >> 2) + j] = d->reset;
	}
}

/* For log lines and tests. */
const char *e1000_reg_name(uint32_t off)
{
	const struct e1000_reg_desc *d = e1000_reg_find(off);

	return d ? d->name : "reserved";
}
