// SPDX-License-Identifier: MIT
/*
 * The 82540EM's serial EEPROM and its PHY.
 *
 * EEPROM (SDM 5.3, 5.6): 64 words of Microwire (93C46-like) storage. Words
 * 0-2 hold the MAC address, 0x0b-0x0e the PCI ids, and word 0x3f makes the
 * sum of all 64 words 0xBABA (SDM 5.6.16), which drivers verify. It can be
 * read two ways: bit-banged through EECD (request/grant, CS, SK, DI/DO:
 * start bit, opcode 10b, 6 address bits, then 16 data bits per word, MSB
 * first, with sequential reads continuing at the next word - what Linux's
 * e1000 does for this MAC type), or one word at a time through EERD. The
 * model is read-only: write/erase opcodes are clocked in and ignored.
 *
 * PHY (SDM 13.4.7 MDIC, and the Marvell 88E1011 register set the 82540EM
 * integrates, PHY address 1): the IEEE registers say link up, autonegotiation
 * complete, 1000BASE-T full duplex; reads of other PHY addresses set MDIC.E.
 */
#include <string.h>

#include "core/log.h"
#include "emul-devices/e1000/e1000-internal.h"

#define EEPROM_CHECKSUM_WORD 0x3f
#define EEPROM_SUM           0xbaba
#define MW_READ_OPCODE       0x6  /* start bit + 10b */
#define MW_ADDR_BITS         6

#define PHY_ADDR             1
#define PHY_CTRL             0
#define  PHY_CTRL_RESET      0x8000
#define  PHY_CTRL_RESTART_AN 0x0200
#define PHY_STATUS           1

void e1000_eeprom_init(struct e1000 *e, const uint8_t mac[6])
{
	uint16_t *w = e->eeprom;
	uint16_t sum = 0;

	/* Unprogrammed words read as erased cells. */
	for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++)
		w[i] = 0xffff;
	for (unsigned i = 0; i < 3; i++)
		w[i] = mac[2 * i] | (uint16_t)(mac[2 * i + 1] << 8);
	w[0x03] = 0x0000;   /* compatibility: no special features */
	w[0x04] = 0xffff;   /* LED configuration: hardware default */
	w[0x05] = 0x0000;   /* image version */
	w[0x08] = 0x0000;   /* PBA number */
	w[0x09] = 0x0000;
	w[0x0a] = 0x0000;   /* init control 1: no APM, no PHY power down */
	w[0x0b] = 0x001e;   /* subsystem id (PRO/1000 MT Desktop) */
	w[0x0c] = 0x8086;   /* subsystem vendor */
	w[0x0d] = 0x100e;   /* device id */
	w[0x0e] = 0x8086;   /* vendor */
	w[0x0f] = 0x0000;   /* init control 2: no flow control advertised */
	w[0x24] = 0x0000;   /* init control 3: no wake-up */
	for (unsigned i = 0; i < EEPROM_CHECKSUM_WORD; i++)
		sum += w[i];
	w[EEPROM_CHECKSUM_WORD] = (uint16_t)(EEPROM_SUM - sum);
	memset(&e->mw, 0, sizeof(e->mw));
	e->mw.out_bits = -1;
}

/* EERD (SDM 13.4.5): START at bit 0, address 15:8, DONE at 4, data 31:16. */
void e1000_eerd_write(struct e1000 *e, uint32_t val)
{
	uint32_t addr = (val >> E1000_EERD_ADDR_SHIFT) & 0xff;
	uint16_t data;

	if (!(val & E1000_EERD_START)) {
		e1000_set_reg(e, E1000_EERD, val & ~E1000_EERD_DONE);
		return;
	}
	/* A 64-word part ignores the high address bits, like the chip. */
	data = e->eeprom[addr % E1000_EEPROM_WORDS];
	e1000_set_reg(e, E1000_EERD, (addr << E1000_EERD_ADDR_SHIFT) |
		      E1000_EERD_DONE |
		      ((uint32_t)data << E1000_EERD_DATA_SHIFT));
}

static void mw_clock(struct e1000 *e, bool di)
{
	if (e->mw.reading) {
		/* Each rising edge presents the next data bit on DO. */
		if (e->mw.out_bits == 0) {
			e->mw.addr = (e->mw.addr + 1) % E1000_EEPROM_WORDS;
			e->mw.out = e->eeprom[e->mw.addr];
			e->mw.out_bits = 16;
		}
		e->mw.out_bits--;
		return;
	}
	/* Leading zeros before the start bit are ignored (93C46). */
	if (e->mw.nbits == 0 && !di)
		return;
	if (e->mw.nbits >= 3 + MW_ADDR_BITS)
		return; /* a write/erase we do not implement: ignore its bits */
	e->mw.bits = (e->mw.bits << 1) | di;
	e->mw.nbits++;
	if (e->mw.nbits == 3 + MW_ADDR_BITS &&
	    (e->mw.bits >> MW_ADDR_BITS) == MW_READ_OPCODE) {
		e->mw.reading = true;
		e->mw.addr = e->mw.bits & ((1u << MW_ADDR_BITS) - 1);
		e->mw.out = e->eeprom[e->mw.addr];
		e->mw.out_bits = 16;
	}
}

void e1000_eecd_write(struct e1000 *e, uint32_t val)
{
	/* Software owns SK, CS, DI, FWE and REQ; the rest is the device's. */
	uint32_t sw = val & (E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI |
			     0x30u | E1000_EECD_REQ);
	bool rising = (val & E1000_EECD_SK) && !(e->mw.last & E1000_EECD_SK);

	if (!(val & E1000_EECD_CS)) {
		/* Deselect ends any command. */
		e->mw.bits = 0;
		e->mw.nbits = 0;
		e->mw.reading = false;
		e->mw.out_bits = -1;
	} else if (rising) {
		mw_clock(e, val & E1000_EECD_DI);
	}
	e->mw.last = sw;
	e1000_set_reg(e, E1000_EECD, sw);
}

uint32_t e1000_eecd_read(struct e1000 *e)
{
	uint32_t v = e1000_reg(e, E1000_EECD) | E1000_EECD_PRES;

	/* The EEPROM is never busy elsewhere: a request is granted at once. */
	if (v & E1000_EECD_REQ)
		v |= E1000_EECD_GNT;
	if (e->mw.reading && e->mw.out_bits >= 0 && e->mw.out_bits < 16 &&
	    ((e->mw.out >> e->mw.out_bits) & 1))
		v |= E1000_EECD_DO;
	return v;
}

/* 88E1011 register values after reset (IEEE 802.3 clause 22 + Marvell). */
static const uint16_t phy_reset_values[E1000_PHY_REGS] = {
	[0] = 0x1140,   /* autoneg on, full duplex, 1000 Mb/s */
	[1] = 0x796d,   /* caps, autoneg complete, link up, extended */
	[2] = 0x0141,   /* PHY id: Marvell 88E1011 (0x01410c20) */
	[3] = 0x0c20,
	[4] = 0x0de1,   /* advertised: pause, 10/100 half/full */
	[5] = 0x41e1,   /* link partner: same, acknowledged */
	[6] = 0x0001,   /* link partner autoneg able */
	[9] = 0x0e00,   /* advertise 1000BASE-T full/half */
	[10] = 0x3c00,  /* local/remote receiver ok, partner 1000 FD/HD */
	[15] = 0x3000,  /* extended status: 1000BASE-T FD/HD */
	[16] = 0x0068,  /* PHY specific control */
	[17] = 0xac00,  /* 1000 Mb/s, full duplex, resolved, link up */
	[20] = 0x0c60,  /* extended PHY specific control */
};

/* Registers a driver may write; everything else is read-only. */
static const uint32_t phy_writable = 1u << 0 | 1u << 4 | 1u << 9 | 1u << 16 |
	1u << 18 | 1u << 20 | 1u << 22 | 1u << 24 | 1u << 26 | 1u << 29 |
	1u << 30;

void e1000_phy_reset(struct e1000 *e)
{
	memcpy(e->phy, phy_reset_values, sizeof(e->phy));
}

void e1000_mdic_write(struct e1000 *e, uint32_t val)
{
	uint32_t phy = (val >> E1000_MDIC_PHY_SHIFT) & 0x1f;
	uint32_t reg = (val >> E1000_MDIC_REG_SHIFT) & 0x1f;
	uint32_t op = val & (E1000_MDIC_OP_READ | E1000_MDIC_OP_WRITE);
	uint32_t res = (val & ~(E1000_MDIC_READY | E1000_MDIC_ERROR)) |
		       E1000_MDIC_READY;

	if (phy != PHY_ADDR || op == 0 ||
	    op == (E1000_MDIC_OP_READ | E1000_MDIC_OP_WRITE)) {
		res |= E1000_MDIC_ERROR;
	} else if (op == E1000_MDIC_OP_READ) {
		res = (res & ~E1000_MDIC_DATA) | e->phy[reg];
	} else if (phy_writable & (1u << reg)) {
		uint16_t v = val & E1000_MDIC_DATA;

		if (reg == PHY_CTRL && (v & PHY_CTRL_RESET)) {
			e1000_phy_reset(e);
		} else {
			/* Autoneg restarts and completes at once. */
			if (reg == PHY_CTRL)
				v &= ~(PHY_CTRL_RESET | PHY_CTRL_RESTART_AN);
			e->phy[reg] = v;
		}
	}
	e1000_set_reg(e, E1000_MDIC, res);
	if (val & E1000_MDIC_INT_EN)
		e1000_set_ics(e, E1000_ICR_MDAC);
}
