// SPDX-License-Identifier: MIT
/*
 * The emulated NVMe controller's PCI function, registers, enable/reset
 * state machine and admin command set, driven like a guest driver would.
 */
#include "nvme_test_util.h"

START_TEST(pci_function)
{
	struct tnv t;
	uint32_t cap;
	uint64_t c;

	t_open(&t, false);
	ck_assert_uint_eq(cfg_rd(&t, PCI_VENDOR_ID, 2), 0x1b36);
	ck_assert_uint_eq(cfg_rd(&t, PCI_DEVICE_ID, 2), 0x0010);
	ck_assert_uint_eq(cfg_rd(&t, PCI_REVISION_ID, 4) >> 8, 0x010802);
	ck_assert_uint_eq(cfg_rd(&t, PCI_INTERRUPT_PIN, 1), 1);
	ck_assert_uint_eq(cfg_rd(&t, PCI_BASE_ADDRESS_0, 4) & 0x7,
			  PCI_BAR_MEM64_FLAG);
	cap = pci_cfg_find_cap(&nvme_pci(t.n)->cfg, PCI_CAP_ID_MSIX);
	ck_assert_uint_ne(cap, 0);
	ck_assert_uint_eq((cfg_rd(&t, cap + 2, 2) & 0x7ff) + 1, 65);
	ck_assert_uint_eq(cfg_rd(&t, cap + 4, 4), 0x2000); /* BIR 0 */
	ck_assert_uint_eq(cfg_rd(&t, cap + 8, 4), 0x3000);

	/* CAP (Base §3.1.4.1), as a qword and as two dwords. */
	c = rd64(&t, NVME_REG_CAP);
	ck_assert_uint_eq(c, rd32(&t, 0) | (uint64_t)rd32(&t, 4) << 32);
	ck_assert_uint_eq(c & 0xffff, 4095);           /* MQES */
	ck_assert_uint_eq((c >> 16) & 1, 1);           /* CQR */
	ck_assert_uint_eq((c >> 17) & 3, 0);           /* AMS */
	ck_assert_uint_ne((c >> 24) & 0xff, 0);        /* TO */
	ck_assert_uint_eq((c >> 32) & 0xf, 0);         /* DSTRD */
	ck_assert_uint_eq((c >> 37) & 0xff, 1);        /* CSS: NVM */
	ck_assert_uint_eq((c >> 48) & 0xff, 0);        /* MPSMIN/MAX 4 KiB */
	ck_assert_uint_eq(rd32(&t, NVME_REG_VS), 0x00010400);
	/* Read-only registers ignore writes; reserved ones read 0. */
	wr32(&t, NVME_REG_CAP, 0);
	wr32(&t, NVME_REG_VS, 0);
	wr32(&t, NVME_REG_CSTS, 0xffffffff);
	ck_assert_uint_eq(rd64(&t, NVME_REG_CAP), c);
	ck_assert_uint_eq(rd32(&t, NVME_REG_VS), 0x00010400);
	ck_assert_uint_eq(rd32(&t, NVME_REG_CSTS), 0);
	wr32(&t, 0x38, 0xffffffff);
	ck_assert_uint_eq(rd32(&t, 0x38), 0);
	ck_assert_uint_eq(rd32(&t, NVME_REG_NSSR), 0);
	/* Doorbells read as 0, and the rest of BAR0 past the PBA too. */
	ck_assert_uint_eq(rd32(&t, NVME_REG_DB), 0);
	ck_assert_uint_eq(rd32(&t, 0x3ffc), 0);
	t_close(&t);
}
END_TEST

START_TEST(register_widths)
{
	struct tnv t;

	t_open(&t, false);
	/* AQA reserved bits stay 0; ASQ/ACQ low 12 bits are reserved. */
	wr32(&t, NVME_REG_AQA, 0xffffffff);
	ck_assert_uint_eq(rd32(&t, NVME_REG_AQA), 0x0fff0fff);
	wrn(&t, NVME_REG_ASQ, 0x123456789abcdefULL, 8);
	ck_assert_uint_eq(rd64(&t, NVME_REG_ASQ), 0x123456789abc000ULL);
	wr64(&t, NVME_REG_ACQ, 0xfedcba9876543fffULL);
	ck_assert_uint_eq(rd64(&t, NVME_REG_ACQ), 0xfedcba9876543000ULL);
	/* Byte and word writes merge into the dword. */
	wrn(&t, NVME_REG_AQA + 2, 0x07, 1);
	ck_assert_uint_eq(rd32(&t, NVME_REG_AQA), 0x0f070fff);
	wrn(&t, NVME_REG_AQA, 0x0003, 2);
	ck_assert_uint_eq(rd32(&t, NVME_REG_AQA), 0x0f070003);
	/* INTMS sets, INTMC clears; both read the mask. */
	wr32(&t, NVME_REG_INTMS, 0x5);
	wr32(&t, NVME_REG_INTMS, 0x2);
	ck_assert_uint_eq(rd32(&t, NVME_REG_INTMS), 0x7);
	wr32(&t, NVME_REG_INTMC, 0x5);
	ck_assert_uint_eq(rd32(&t, NVME_REG_INTMC), 0x2);
	/* A dword read straddling VS and INTMS takes a half of each. */
	ck_assert_uint_eq(rd32(&t, NVME_REG_VS + 2), 0x00020001);
	t_close(&t);
}
END_TEST

START_TEST(enable_reset)
{
	struct tnv t;
	struct tcqe e;
	struct nvme_sqe c;

	t_open(&t, false);
	ck_assert_uint_eq(t_enable(&t, 4), NVME_CSTS_RDY);
	/* Eight admin commands on a 4-entry queue: two laps of the phase. */
	for (int i = 0; i < 8; i++) {
		ck_assert_uint_eq(t_identify(&t, 1, 0, T_ID, 0), 0);
	}
	ck_assert_uint_eq(t.admin.phase, 1);
	t_disable(&t);
	ck_assert_uint_eq(rd32(&t, NVME_REG_CSTS), 0);
	/* AQA/ASQ/ACQ survive a controller reset (§3.7.2). */
	ck_assert_uint_eq(rd64(&t, NVME_REG_ASQ), T_ASQ);
	/* A doorbell while disabled is ignored. */
	c = t_sqe(NVME_ADM_IDENTIFY);
	c.cdw10 = 1;
	c.prp1 = T_ID;
	t_put(&t, &t.admin, &c);
	t_ring(&t, &t.admin);
	ck_assert(!t_peek(&t, &t.admin, &e));
	ck_assert_uint_eq(rd32(&t, NVME_REG_CSTS), 0);
	/* Re-enable: queues start over at slot 0 with phase 1. */
	ck_assert_uint_eq(t_enable(&t, 8), NVME_CSTS_RDY);
	ck_assert_uint_eq(t_identify(&t, 1, 0, T_ID, 0), 0);
	t_close(&t);
}
END_TEST

/* Every bad enable sets CFS; CC.EN = 0 clears it. */
static void bad_enable(struct tnv *t, uint32_t aqa, uint64_t asq, uint64_t acq,
		       uint32_t cc)
{
	wr32(t, NVME_REG_AQA, aqa);
	wr64(t, NVME_REG_ASQ, asq);
	wr64(t, NVME_REG_ACQ, acq);
	wr32(t, NVME_REG_CC, cc);
	ck_assert_uint_eq(rd32(t, NVME_REG_CSTS), NVME_CSTS_CFS);
	wr32(t, NVME_REG_CC, 0);
	ck_assert_uint_eq(rd32(t, NVME_REG_CSTS), 0);
}

START_TEST(enable_bad)
{
	const uint32_t cc = 4u << 20 | 6u << 16 | NVME_CC_EN;
	const uint32_t aqa = 31u << 16 | 31u;
	struct tnv t;

	t_open(&t, false);
	bad_enable(&t, aqa, T_OUTSIDE, T_ACQ, cc);            /* ASQ not RAM */
	bad_enable(&t, aqa, T_ASQ, T_OUTSIDE, cc);            /* ACQ not RAM */
	/* ASQ starts in RAM but runs past its end. */
	bad_enable(&t, 0x0fff0fffu, T_RAM - 4096, T_ACQ, cc);
	bad_enable(&t, 0, T_ASQ, T_ACQ, cc);                  /* 1-entry queues */
	bad_enable(&t, aqa, T_ASQ, T_ACQ, cc | 1u << 7);      /* MPS 8 KiB */
	bad_enable(&t, aqa, T_ASQ, T_ACQ, cc | 7u << 4);      /* CSS admin only */
	bad_enable(&t, aqa, T_ASQ, T_ACQ, cc | 1u << 11);     /* AMS WRR */
	bad_enable(&t, aqa, T_ASQ, T_ACQ, NVME_CC_EN);        /* IOSQES 0 */
	bad_enable(&t, aqa, T_ASQ, T_ACQ, 5u << 20 | 6u << 16 | NVME_CC_EN);
	/* And a good one still works afterwards. */
	ck_assert_uint_eq(t_enable(&t, 32), NVME_CSTS_RDY);
	ck_assert_uint_eq(t_identify(&t, 1, 0, T_ID, 0), 0);
	t_close(&t);
}
END_TEST

START_TEST(shutdown)
{
	struct tnv t;
	uint32_t cc;

	t_open(&t, false);
	ck_assert_uint_eq(t_enable(&t, 32), NVME_CSTS_RDY);
	cc = rd32(&t, NVME_REG_CC);
	wr32(&t, NVME_REG_CC, cc | 1u << 14);   /* SHN normal */
	ck_assert_uint_eq(rd32(&t, NVME_REG_CSTS),
			  NVME_CSTS_RDY | NVME_CSTS_SHST_DONE);
	wr32(&t, NVME_REG_CC, cc);
	ck_assert_uint_eq(rd32(&t, NVME_REG_CSTS), NVME_CSTS_RDY);
	wr32(&t, NVME_REG_CC, cc | 2u << 14);   /* abrupt, then reset */
	wr32(&t, NVME_REG_CC, (cc | 2u << 14) & ~NVME_CC_EN);
	ck_assert_uint_eq(rd32(&t, NVME_REG_CSTS), NVME_CSTS_SHST_DONE);
	t_close(&t);
}
END_TEST

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

START_TEST(identify_ctrl)
{
	struct tnv t;
	uint8_t *id;

	t_open(&t, false);
	ck_assert_uint_eq(t_enable(&t, 32), NVME_CSTS_RDY);
	id = gp(&t, T_ID, 4096);
	memset(id, 0xee, 4096);
	ck_assert_uint_eq(t_identify(&t, 1, 0, T_ID, 0), 0);
	ck_assert_uint_eq(id[0] | id[1] << 8, 0x1b36);           /* VID */
	ck_assert_mem_eq(id + 4, "TESTSERIAL01        ", 20);   /* SN */
	ck_assert_mem_eq(id + 24, "iovmm NVMe Ctrl ", 16);      /* MN */
	ck_assert_uint_eq(id[77], 7);                             /* MDTS */
	ck_assert_uint_eq(le32(id + 80), 0x00010400);             /* VER */
	ck_assert_uint_eq(id[111], 1);                            /* CNTRLTYPE */
	ck_assert_uint_eq(id[259], 3);                            /* AERL */
	ck_assert_uint_eq(id[512], 0x66);                         /* SQES */
	ck_assert_uint_eq(id[513], 0x44);                         /* CQES */
	ck_assert_uint_eq(le32(id + 516), 1);                     /* NN */
	ck_assert_uint_eq(id[520] & 0x8, 0x8);                    /* ONCS WZ */
	ck_assert_uint_eq(id[525] & 1, 1);                        /* VWC */
	ck_assert_uint_eq(le32(id + 536), 0);                     /* SGLS */
	ck_assert_int_eq(memcmp(id + 768, "nqn.", 4), 0);         /* SUBNQN */
	ck_assert_uint_eq(id[4095], 0);    /* the whole page was written */

	/* 4 KiB from 512 bytes into a page: PRP1 + PRP2. */
	memset(gp(&t, T_BUF, 8192), 0xee, 8192);
	ck_assert_uint_eq(t_identify(&t, 1, 0, T_BUF + 512, T_BUF + 4096), 0);
	ck_assert_mem_eq(gp(&t, T_BUF + 512, 4096), id, 4096);
	ck_assert_uint_eq(*(uint8_t *)gp(&t, T_BUF + 511, 1), 0xee);
	ck_assert_uint_eq(*(uint8_t *)gp(&t, T_BUF + 4608, 1), 0xee);
	t_close(&t);
}
END_TEST

START_TEST(identify_ns)
{
	struct tnv t;
	uint8_t *id, nguid[16];

	t_open(&t, false);
	ck_assert_uint_eq(t_enable(&t, 32), NVME_CSTS_RDY);
	id = gp(&t, T_ID, 4096);
	ck_assert_uint_eq(t_identify(&t, 0, 1, T_ID, 0), 0);
	ck_assert_uint_eq(le64(id), T_BLOCKS);        /* NSZE */
	ck_assert_uint_eq(le64(id + 8), T_BLOCKS);    /* NCAP */
	ck_assert_uint_eq(id[25], 0);                 /* NLBAF */
	ck_assert_uint_eq(id[26], 0);                 /* FLBAS */
	ck_assert_uint_eq(id[128 + 2], 9);            /* LBAF0.LBADS */
	ck_assert_uint_eq(id[99], 0);                 /* NSATTR */
	memcpy(nguid, id + 104, 16);
	/* Descriptor list: the same NGUID. */
	ck_assert_uint_eq(t_identify(&t, 3, 1, T_ID, 0), 0);
	ck_assert_uint_eq(id[0], 2);
	ck_assert_uint_eq(id[1], 16);
	ck_assert_mem_eq(id + 4, nguid, 16);
	ck_assert_uint_eq(id[20], 0);
	/* Active namespace list. */
	ck_assert_uint_eq(t_identify(&t, 2, 0, T_ID, 0), 0);
	ck_assert_uint_eq(le32(id), 1);
	ck_assert_uint_eq(le32(id + 4), 0);
	ck_assert_uint_eq(t_identify(&t, 2, 1, T_ID, 0), 0);
	ck_assert_uint_eq(le32(id), 0);
	ck_assert_uint_eq(t_identify(&t, 2, 0xfffffffe, T_ID, 0),
			  ST(NVME_SC_INVALID_NS));
	/* Not namespace 1 (no namespace management): Invalid Namespace. */
	ck_assert_uint_eq(t_identify(&t, 0, 0, T_ID, 0), ST(NVME_SC_INVALID_NS));
	ck_assert_uint_eq(t_identify(&t, 0, 2, T_ID, 0), ST(NVME_SC_INVALID_NS));
	ck_assert_uint_eq(t_identify(&t, 0, 0xffffffff, T_ID, 0),
			  ST(NVME_SC_INVALID_NS));
	ck_assert_uint_eq(t_identify(&t, 3, 2, T_ID, 0), ST(NVME_SC_INVALID_NS));
	/* Unsupported CNS. */
	ck_assert_uint_eq(t_identify(&t, 0x10, 0, T_ID, 0),
			  ST(NVME_SC_INVALID_FIELD));
	ck_assert_uint_eq(t_identify(&t, 0xff, 0, T_ID, 0),
			  ST(NVME_SC_INVALID_FIELD));
	t_close(&t);
}
END_TEST

START_TEST(unknown_opcodes)
{
	static const uint8_t ops[] = { 0x03, 0x07, 0x0b, 0x0d, 0x10, 0x11,
				       0x14, 0x18, 0x7c, 0x80, 0x81, 0x82,
				       0xc0, 0xff };
	struct tnv t;
	struct nvme_sqe c;

	t_open(&t, false);
	ck_assert_uint_eq(t_enable(&t, 8), NVME_CSTS_RDY);
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		c = t_sqe(ops[i]);
		ck_assert_uint_eq(t_cmd(&t, &t.admin, &c, NULL),
				  ST(NVME_SC_INVALID_OPCODE));
	}
	/* Fused and SGL commands are refused. */
	c = t_sqe(NVME_ADM_IDENTIFY);
	c.cdw10 = 1;
	c.prp1 = T_ID;
	c.flags = 0x40; /* PSDT: SGL */
	ck_assert_uint_eq(t_cmd(&t, &t.admin, &c, NULL),
			  ST(NVME_SC_INVALID_FIELD));
	c.flags = 0x01; /* FUSE: first */
	ck_assert_uint_eq(t_cmd(&t, &t.admin, &c, NULL),
			  ST(NVME_SC_INVALID_FIELD));
	t_close(&t);
}
END_TEST

static uint16_t feat(struct tnv *t, bool set, uint32_t cdw10, uint32_t cdw11,
		     uint32_t *dw0)
{
	struct nvme_sqe c = t_sqe(set ? NVME_ADM_SET_FEAT : NVME_ADM_GET_FEAT);
	struct tcqe e;
	uint16_t s;

	c.cdw10 = cdw10;
	c.cdw11 = cdw11;
	s = t_cmd(t, &t->admin, &c, &e);
	if (dw0)
		*dw0 = e.dw0;
	return s;
}

START_TEST(features)
{
	struct tnv t;
	uint32_t v;

	t_open(&t, false);
	ck_assert_uint_eq(t_enable(&t, 32), NVME_CSTS_RDY);
	/* Number of Queues: default 64/64, then as the kit asks (1 + 1). */
	ck_assert_uint_eq(feat(&t, false, 0x07, 0, &v), 0);
	ck_assert_uint_eq(v, 63u << 16 | 63u);
	ck_assert_uint_eq(feat(&t, true, 0x07, 0, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_uint_eq(feat(&t, true, 0x07, 1000u << 16 | 2, &v), 0);
	ck_assert_uint_eq(v, 63u << 16 | 2);
	ck_assert_uint_eq(feat(&t, true, 0x07, 0xffff, &v),
			  ST(NVME_SC_INVALID_FIELD));
	ck_assert_uint_eq(feat(&t, true, 0x07, 0, &v), 0);
	/* Only QID 1 now; 2 is beyond what was allocated. */
	ck_assert_uint_eq(t_create_cq(&t, 2, 8, T_IOCQ, false, 0),
			  ST(NVME_SC_QID_INVALID));
	ck_assert_uint_eq(t_create_cq(&t, 1, 8, T_IOCQ, false, 0), 0);
	/* After an I/O queue exists: Command Sequence Error. */
	ck_assert_uint_eq(feat(&t, true, 0x07, 0, &v),
			  ST(NVME_SC_CMD_SEQ_ERROR));
	/* Get defaults (SEL 1) and capabilities (SEL 3). */
	ck_assert_uint_eq(feat(&t, false, 0x07 | 1u << 8, 0, &v), 0);
	ck_assert_uint_eq(v, 63u << 16 | 63u);
	ck_assert_uint_eq(feat(&t, false, 0x07 | 3u << 8, 0, &v), 0);
	ck_assert_uint_eq(v, 0x4);
	ck_assert_uint_eq(feat(&t, false, 0x07 | 4u << 8, 0, &v),
			  ST(NVME_SC_INVALID_FIELD));
	/* Volatile write cache. */
	ck_assert_uint_eq(feat(&t, false, 0x06, 0, &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_uint_eq(feat(&t, true, 0x06, 0, NULL), 0);
	ck_assert_uint_eq(feat(&t, false, 0x06, 0, &v), 0);
	ck_assert_uint_eq(v, 0);
	/* Interrupt coalescing: kept, reported. */
	ck_assert_uint_eq(feat(&t, true, 0x08, 0x0a04, NULL), 0);
	ck_assert_uint_eq(feat(&t, false, 0x08, 0, &v), 0);
	ck_assert_uint_eq(v, 0x0a04);
	/* Interrupt vector configuration: per vector, bounded. */
	ck_assert_uint_eq(feat(&t, true, 0x09, 1u << 16 | 5, NULL), 0);
	ck_assert_uint_eq(feat(&t, false, 0x09, 5, &v), 0);
	ck_assert_uint_eq(v, 1u << 16 | 5);
	ck_assert_uint_eq(feat(&t, false, 0x09, 4, &v), 0);
	ck_assert_uint_eq(v, 4);
	ck_assert_uint_eq(feat(&t, false, 0x09, 65, &v),
			  ST(NVME_SC_INVALID_FIELD));
	/* Temperature threshold: composite only. */
	ck_assert_uint_eq(feat(&t, false, 0x04, 0, &v), 0);
	ck_assert_uint_eq(v, 0x157);
	ck_assert_uint_eq(feat(&t, true, 0x04, 0x150, NULL), 0);
	ck_assert_uint_eq(feat(&t, false, 0x04, 0, &v), 0);
	ck_assert_uint_eq(v, 0x150);
	ck_assert_uint_eq(feat(&t, false, 0x04, 1u << 16, &v),
			  ST(NVME_SC_INVALID_FIELD));
	/* Power management: one power state. */
	ck_assert_uint_eq(feat(&t, true, 0x02, 1, NULL),
			  ST(NVME_SC_INVALID_FIELD));
	ck_assert_uint_eq(feat(&t, true, 0x02, 0, NULL), 0);
	/* Arbitration, error recovery, write atomicity, async config. */
	ck_assert_uint_eq(feat(&t, true, 0x01, 0x03, NULL), 0);
	ck_assert_uint_eq(feat(&t, false, 0x01, 0, &v), 0);
	ck_assert_uint_eq(v, 0x03);
	ck_assert_uint_eq(feat(&t, true, 0x05, 1u << 16, NULL),
			  ST(NVME_SC_INVALID_FIELD));
	ck_assert_uint_eq(feat(&t, true, 0x0a, 1, NULL), 0);
	ck_assert_uint_eq(feat(&t, true, 0x0b, 0x1ff, NULL), 0);
	/* Not saveable; unknown features. */
	ck_assert_uint_eq(feat(&t, true, 0x06 | 1u << 31, 1, NULL),
			  ST(NVME_SC_NOT_SAVEABLE));
	ck_assert_uint_eq(feat(&t, true, 0x03, 0, NULL),
			  ST(NVME_SC_INVALID_FIELD));
	ck_assert_uint_eq(feat(&t, false, 0x0c, 0, NULL),
			  ST(NVME_SC_INVALID_FIELD));
	ck_assert_uint_eq(feat(&t, false, 0x80, 0, NULL),
			  ST(NVME_SC_INVALID_FIELD));
	/* A controller reset brings the defaults back. */
	t_disable(&t);
	ck_assert_uint_eq(t_enable(&t, 32), NVME_CSTS_RDY);
	ck_assert_uint_eq(feat(&t, false, 0x06, 0, &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_uint_eq(feat(&t, false, 0x07, 0, &v), 0);
	ck_assert_uint_eq(v, 63u << 16 | 63u);
	t_close(&t);
}
END_TEST

START_TEST(queue_admin)
{
	struct tnv t;

	t_open(&t, false);
	ck_assert_uint_eq(t_enable(&t, 32), NVME_CSTS_RDY);
	/* Create I/O CQ (§5.4). */
	ck_assert_uint_eq(t_create_cq(&t, 0, 8, T_IOCQ, true, 0),
			  ST(NVME_SC_QID_INVALID));
	ck_assert_uint_eq(t_create_cq(&t, 65, 8, T_IOCQ, true, 0),
			  ST(NVME_SC_QID_INVALID));
	ck_assert_uint_eq(t_create_cq(&t, 1, 1, T_IOCQ, true, 0),
			  ST(NVME_SC_QSIZE_INVALID));
	ck_assert_uint_eq(t_create_cq(&t, 1, 0, T_IOCQ, true, 0),
			  ST(NVME_SC_QSIZE_INVALID)); /* QSIZE 0xffff */
	ck_assert_uint_eq(t_create_cq(&t, 1, 8, T_IOCQ + 16, true, 0),
			  ST(NVME_SC_PRP_OFFSET));
	ck_assert_uint_eq(t_create_cq(&t, 1, 8, T_OUTSIDE, true, 0),
			  ST(NVME_SC_INVALID_FIELD));
	ck_assert_uint_eq(t_create_cq(&t, 1, 8, T_IOCQ, true, 65),
			  ST(NVME_SC_INVALID_VECTOR));
	{
		struct nvme_sqe c = t_sqe(NVME_ADM_CREATE_CQ);

		c.prp1 = T_IOCQ;
		c.cdw10 = 7u << 16 | 1; /* PC = 0 */
		ck_assert_uint_eq(t_cmd(&t, &t.admin, &c, NULL),
				  ST(NVME_SC_INVALID_FIELD));
	}
	ck_assert_uint_eq(t_create_cq(&t, 1, 8, T_IOCQ, true, 64), 0);
	ck_assert_uint_eq(t_create_cq(&t, 1, 8, T_IOCQ, true, 0),
			  ST(NVME_SC_QID_INVALID)); /* reuse */
	ck_assert_uint_eq(t_create_cq(&t, 64, 4096, T_IOCQ + 0x10000, false, 0),
			  0);
	/* Create I/O SQ (§5.5). */
	ck_assert_uint_eq(t_create_sq(&t, 1, 8, T_IOSQ, 0),
			  ST(NVME_SC_CQ_INVALID));
	ck_assert_uint_eq(t_create_sq(&t, 1, 8, T_IOSQ, 2),
			  ST(NVME_SC_CQ_INVALID));
	ck_assert_uint_eq(t_create_sq(&t, 1, 8, T_IOSQ, 0xffff),
			  ST(NVME_SC_CQ_INVALID));
	ck_assert_uint_eq(t_create_sq(&t, 0, 8, T_IOSQ, 1),
			  ST(NVME_SC_QID_INVALID));
	ck_assert_uint_eq(t_create_sq(&t, 1, 8, T_OUTSIDE, 1),
			  ST(NVME_SC_INVALID_FIELD));
	ck_assert_uint_eq(t_create_sq(&t, 1, 4097, T_IOSQ, 1),
			  ST(NVME_SC_QSIZE_INVALID));
	ck_assert_uint_eq(t_create_sq(&t, 1, 8, T_IOSQ, 1), 0);
	ck_assert_uint_eq(t_create_sq(&t, 1, 8, T_IOSQ, 1),
			  ST(NVME_SC_QID_INVALID)); /* reuse */
	ck_assert_uint_eq(t_create_sq(&t, 2, 8, T_IOSQ + 0x1000, 1), 0);
	/* Deletion (§5.6-5.7): SQs first. */
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_CQ, 1),
			  ST(NVME_SC_QUEUE_DELETION));
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_SQ, 0),
			  ST(NVME_SC_QID_INVALID));
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_CQ, 0),
			  ST(NVME_SC_QID_INVALID));
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_SQ, 3),
			  ST(NVME_SC_QID_INVALID));
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_SQ, 1), 0);
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_SQ, 1),
			  ST(NVME_SC_QID_INVALID));
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_CQ, 1),
			  ST(NVME_SC_QUEUE_DELETION));
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_SQ, 2), 0);
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_CQ, 1), 0);
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_CQ, 64), 0);
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_CQ, 1),
			  ST(NVME_SC_QID_INVALID));
	/* The ids are free again. */
	ck_assert_uint_eq(t_create_cq(&t, 1, 8, T_IOCQ, true, 1), 0);
	ck_assert_uint_eq(t_create_sq(&t, 1, 8, T_IOSQ, 1), 0);
	t_close(&t);
}
END_TEST

static uint16_t get_log(struct tnv *t, uint32_t lid, bool rae, uint32_t numd,
			uint64_t lpo, uint64_t buf)
{
	struct nvme_sqe c = t_sqe(NVME_ADM_GET_LOG);

	c.nsid = 0xffffffff;
	c.cdw10 = lid | (rae ? 0x8000u : 0) | ((numd - 1) & 0xffff) << 16;
	c.cdw11 = (numd - 1) >> 16;
	c.cdw12 = (uint32_t)lpo;
	c.cdw13 = (uint32_t)(lpo >> 32);
	c.prp1 = buf;
	return t_cmd(t, &t->admin, &c, NULL);
}

START_TEST(log_pages)
{
	struct tnv t;
	uint8_t *d;

	t_open(&t, false);
	t_up(&t, 8, 8, false, 0);
	d = gp(&t, T_ID, 4096);
	/* One error (Invalid Field) for the error log. */
	ck_assert_uint_eq(t_identify(&t, 0x42, 0, T_ID, 0),
			  ST(NVME_SC_INVALID_FIELD));
	memset(d, 0xee, 4096);
	ck_assert_uint_eq(get_log(&t, NVME_LOG_ERROR, false, 64, 0, T_ID), 0);
	ck_assert_uint_ne(le64(d), 0);                        /* error count */
	ck_assert_uint_eq(d[8] | d[9] << 8, 0);               /* SQID */
	ck_assert_uint_eq((d[12] | d[13] << 8) >> 1,
			  ST(NVME_SC_INVALID_FIELD));         /* status */
	ck_assert_uint_eq(d[255], 0);
	ck_assert_uint_eq(d[256], 0xee);                      /* 64 dwords */
	/* SMART counters move with I/O. */
	ck_assert_uint_eq(t_rw(&t, true, 0, 8, T_BUF, 0), 0);
	ck_assert_uint_eq(t_rw(&t, false, 0, 8, T_BUF, 0), 0);
	ck_assert_uint_eq(get_log(&t, NVME_LOG_SMART, false, 128, 0, T_ID), 0);
	ck_assert_uint_eq(d[3], 100);
	ck_assert_uint_eq(le64(d + 32), 1);   /* data units read */
	ck_assert_uint_eq(le64(d + 48), 1);   /* data units written */
	ck_assert_uint_eq(le64(d + 64), 1);   /* host reads */
	ck_assert_uint_eq(le64(d + 80), 1);   /* host writes */
	/* With an offset; past the end is refused. */
	ck_assert_uint_eq(get_log(&t, NVME_LOG_SMART, true, 1, 64, T_ID), 0);
	ck_assert_uint_eq(le32(d), 1);
	ck_assert_uint_eq(get_log(&t, NVME_LOG_SMART, true, 1, 512, T_ID),
			  ST(NVME_SC_INVALID_FIELD));
	ck_assert_uint_eq(get_log(&t, NVME_LOG_SMART, true, 1, 2, T_ID),
			  ST(NVME_SC_INVALID_FIELD));
	/* More than the log: zero-filled. */
	memset(d, 0xee, 4096);
	ck_assert_uint_eq(get_log(&t, NVME_LOG_FW_SLOT, false, 1024, 0, T_ID), 0);
	ck_assert_uint_eq(d[0], 1);
	ck_assert_mem_eq(d + 8, "1.0     ", 8);
	ck_assert_uint_eq(d[4095], 0);
	ck_assert_uint_eq(get_log(&t, 0x05, false, 1, 0, T_ID),
			  ST(NVME_SC_INVALID_LOG_PAGE));
	ck_assert_uint_eq(get_log(&t, 0xc0, false, 1, 0, T_ID),
			  ST(NVME_SC_INVALID_LOG_PAGE));
	/* More than MDTS. */
	ck_assert_uint_eq(get_log(&t, NVME_LOG_ERROR, false, 0x40000, 0, T_ID),
			  ST(NVME_SC_INVALID_FIELD));
	t_close(&t);
}
END_TEST

START_TEST(aer_abort)
{
	struct tnv t;
	struct nvme_sqe c;
	struct tcqe e;

	t_open(&t, false);
	ck_assert_uint_eq(t_enable(&t, 32), NVME_CSTS_RDY);
	/* AERL + 1 = 4 stay outstanding; the fifth is refused. */
	for (int i = 0; i < 4; i++) {
		c = t_sqe(NVME_ADM_AER);
		t_put(&t, &t.admin, &c);
	}
	t_ring(&t, &t.admin);
	ck_assert(!t_peek(&t, &t.admin, &e));
	c = t_sqe(NVME_ADM_AER);
	ck_assert_uint_eq(t_cmd(&t, &t.admin, &c, &e), ST(NVME_SC_AER_LIMIT));
	/* Abort never aborts: DW0 bit 0 = 1. */
	c = t_sqe(NVME_ADM_ABORT);
	c.cdw10 = 0u << 16 | 0;
	ck_assert_uint_eq(t_cmd(&t, &t.admin, &c, &e), 0);
	ck_assert_uint_eq(e.dw0 & 1, 1);
	/* A reset drops them without completions. */
	t_disable(&t);
	ck_assert_uint_eq(t_enable(&t, 32), NVME_CSTS_RDY);
	c = t_sqe(NVME_ADM_AER);
	t_put(&t, &t.admin, &c);
	t_ring(&t, &t.admin);
	ck_assert(!t_peek(&t, &t.admin, &e));
	t_close(&t);
}
END_TEST

static void identify_nowait(struct tnv *t)
{
	struct nvme_sqe c = t_sqe(NVME_ADM_IDENTIFY);

	c.cdw10 = 1;
	c.prp1 = T_ID;
	t_put(t, &t->admin, &c);
	t_ring(t, &t->admin);
}

/* INTA#: asserted while a CQ with IEN holds unconsumed entries. */
START_TEST(intx)
{
	struct tnv t;
	struct nvme_sqe c;
	struct tcqe e;

	t_open(&t, false);
	/* Interrupt Line: the slot's swizzled GSI (DSDT _PRT). */
	ck_assert_uint_eq(cfg_rd(&t, PCI_INTERRUPT_LINE, 1),
			  layout_pci_intx_gsi(t.devfn >> 3, 0));
	ck_assert_uint_eq(t_enable(&t, 8), NVME_CSTS_RDY);
	ck_assert_int_eq(t_pin(&t), 0);
	identify_nowait(&t);
	ck_assert_int_eq(t_pin(&t), 1);
	ck_assert(t_stats(&t).intx);
	ck_assert_uint_eq(cfg_rd(&t, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT,
			  PCI_STATUS_INTERRUPT);
	/* INTMS bit 0 masks it, INTMC unmasks. */
	wr32(&t, NVME_REG_INTMS, 1);
	ck_assert_int_eq(t_pin(&t), 0);
	wr32(&t, NVME_REG_INTMC, 1);
	ck_assert_int_eq(t_pin(&t), 1);
	/* COMMAND.INTX_DISABLE holds the pin low; STATUS still reports. */
	cfg_wr(&t, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
	       PCI_COMMAND_INTX_DISABLE, 2);
	ck_assert_int_eq(t_pin(&t), 0);
	ck_assert_uint_eq(cfg_rd(&t, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT,
			  PCI_STATUS_INTERRUPT);
	cfg_wr(&t, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ck_assert_int_eq(t_pin(&t), 1);
	/* Consuming the entry (CQ head doorbell) drops it. */
	ck_assert(t_pop(&t, &t.admin, &e, true));
	ck_assert_int_eq(t_pin(&t), 0);
	ck_assert_uint_eq(cfg_rd(&t, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	/* Two entries: the pin stays up until both are consumed. */
	identify_nowait(&t);
	identify_nowait(&t);
	ck_assert(t_pop(&t, &t.admin, &e, true));
	ck_assert_int_eq(t_pin(&t), 1);
	ck_assert(t_pop(&t, &t.admin, &e, true));
	ck_assert_int_eq(t_pin(&t), 0);
	/* An I/O CQ without IEN never raises it. */
	ck_assert_uint_eq(t_create_cq(&t, 1, 8, T_IOCQ, false, 0), 0);
	ck_assert_uint_eq(t_create_sq(&t, 1, 8, T_IOSQ, 1), 0);
	t_queue(&t.io, 1, 8, T_IOSQ, T_IOCQ);
	c = t_rw_sqe(false, 0, 1, T_BUF, 0);
	t_put(&t, &t.io, &c);
	t_ring(&t, &t.io);
	ck_assert(t_peek(&t, &t.io, &e));
	ck_assert_int_eq(t_pin(&t), 0);
	/* Deleting a CQ that holds entries, or a reset, deasserts. */
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_SQ, 1), 0);
	ck_assert_uint_eq(t_create_cq(&t, 2, 8, T_IOCQ + 0x1000, true, 0), 0);
	ck_assert_uint_eq(t_create_sq(&t, 2, 8, T_IOSQ + 0x1000, 2), 0);
	t_queue(&t.io, 2, 8, T_IOSQ + 0x1000, T_IOCQ + 0x1000);
	memset(gp(&t, T_IOCQ + 0x1000, 128), 0, 128);
	c = t_rw_sqe(false, 0, 1, T_BUF, 0);
	t_put(&t, &t.io, &c);
	t_ring(&t, &t.io);
	ck_assert_int_eq(t_pin(&t), 1);
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_SQ, 2), 0);
	ck_assert_int_eq(t_pin(&t), 1);
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_CQ, 2), 0);
	ck_assert_int_eq(t_pin(&t), 0);
	identify_nowait(&t);
	ck_assert_int_eq(t_pin(&t), 1);
	t_disable(&t);
	ck_assert_int_eq(t_pin(&t), 0);
	t_close(&t);
}
END_TEST

static void msix_on(struct tnv *t, unsigned nvec)
{
	uint32_t cap = pci_cfg_find_cap(&nvme_pci(t->n)->cfg, PCI_CAP_ID_MSIX);

	cfg_wr(t, cap + 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	for (unsigned v = 0; v < nvec; v++) {
		uint32_t e = 0x2000 + v * 16;

		wr32(t, e, 0xfee00000u);
		wr32(t, e + 4, 0);
		wr32(t, e + 8, 0x40 + v);
		wr32(t, e + 12, 0);
	}
	cfg_wr(t, cap + 2, PCI_MSIX_FLAGS_ENABLE, 2);
}

/* Polling the irqfds delivers one MSI, the one of `vector`. */
static void expect_msi(struct tnv *t, unsigned vector)
{
	unsigned before = fake_irq_msi_count(t->fake);
	struct fake_irq_msi m;

	ck_assert_uint_eq(fake_irq_poll(t->fake), 1);
	ck_assert_uint_eq(fake_irq_msi_count(t->fake), before + 1);
	m = fake_irq_msi_get(t->fake, before);
	ck_assert_uint_eq(m.addr, 0xfee00000u);
	ck_assert_uint_eq(m.data, 0x40 + vector);
}

START_TEST(msix)
{
	struct tnv t;
	struct pci_dev *pdev;
	struct nvme_sqe c;
	uint64_t before;
	struct tcqe e;

	t_open(&t, false);
	pdev = nvme_pci(t.n);
	msix_on(&t, 3);
	t_up(&t, 8, 8, true, 2);
	fake_irq_poll(t.fake); /* the admin completions' messages */
	before = pci_msix_delivered(pdev);
	/* One message per doorbell that completed something. */
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_BUF, 0), 0);
	ck_assert_uint_eq(pci_msix_delivered(pdev), before + 1);
	expect_msi(&t, 2);
	ck_assert_int_eq(t_pin(&t), 0);
	ck_assert(!t_stats(&t).intx);
	/* Three commands behind one doorbell: one message. */
	for (int i = 0; i < 3; i++) {
		c = t_rw_sqe(false, (uint64_t)i, 1, T_BUF, 0);
		t_put(&t, &t.io, &c);
	}
	t_ring(&t, &t.io);
	ck_assert_uint_eq(pci_msix_delivered(pdev), before + 2);
	expect_msi(&t, 2);
	for (int i = 0; i < 3; i++)
		ck_assert(t_pop(&t, &t.io, &e, true));
	ck_assert_uint_eq(fake_irq_poll(t.fake), 0);
	/* A masked vector latches in the PBA and fires on unmask. */
	wr32(&t, 0x2000 + 2 * 16 + 12, 1);
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_BUF, 0), 0);
	ck_assert_uint_eq(pci_msix_delivered(pdev), before + 2);
	ck_assert_uint_eq(fake_irq_poll(t.fake), 0);
	ck_assert_uint_eq(rd32(&t, 0x3000) & 4, 4);
	wr32(&t, 0x2000 + 2 * 16 + 12, 0);
	ck_assert_uint_eq(pci_msix_delivered(pdev), before + 3);
	expect_msi(&t, 2);
	/* Admin completions use vector 0. */
	ck_assert_uint_eq(t_identify(&t, 1, 0, T_ID, 0), 0);
	expect_msi(&t, 0);
	/* A CQ on a vector whose entry was never programmed: masked. */
	ck_assert_uint_eq(t_create_cq(&t, 2, 8, T_IOCQ + 0x1000, true, 64), 0);
	expect_msi(&t, 0);
	/* MSI-X off: the pin takes over, with the same CQ state. */
	cfg_wr(&t, pci_cfg_find_cap(&pdev->cfg, PCI_CAP_ID_MSIX) + 2, 0, 2);
	c = t_rw_sqe(false, 0, 1, T_BUF, 0);
	t_put(&t, &t.io, &c);
	t_ring(&t, &t.io);
	ck_assert_uint_eq(fake_irq_poll(t.fake), 0);
	ck_assert_int_eq(t_pin(&t), 1);
	/* Back on with an entry pending: the pin drops. */
	cfg_wr(&t, pci_cfg_find_cap(&pdev->cfg, PCI_CAP_ID_MSIX) + 2,
	       PCI_MSIX_FLAGS_ENABLE, 2);
	ck_assert_int_eq(t_pin(&t), 0);
	ck_assert(t_pop(&t, &t.io, &e, true));
	t_close(&t);
}
END_TEST

/* A function-level reset through the PCI host. */
START_TEST(pci_reset)
{
	struct tnv t;

	t_open(&t, false);
	t_up(&t, 8, 8, false, 0);
	wr32(&t, NVME_REG_INTMS, 1);
	pci_host_reset_dev(t.host, nvme_pci(t.n));
	t.bar0 = pci_dev_bar_mapped(nvme_pci(t.n), 0);
	ck_assert_uint_eq(t.bar0, PCI_BAR_UNMAPPED);
	/* Put BAR0 back where it was, as firmware would. */
	pci_cfg_bar_set_addr(&nvme_pci(t.n)->cfg, 0, LAYOUT_MMIO32_START);
	cfg_wr(&t, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	t.bar0 = pci_dev_bar_mapped(nvme_pci(t.n), 0);
	ck_assert_uint_ne(t.bar0, PCI_BAR_UNMAPPED);
	ck_assert_uint_eq(rd32(&t, NVME_REG_CC), 0);
	ck_assert_uint_eq(rd32(&t, NVME_REG_CSTS), 0);
	ck_assert_uint_eq(rd32(&t, NVME_REG_AQA), 0);
	ck_assert_uint_eq(rd32(&t, NVME_REG_INTMS), 0);
	t_up(&t, 8, 8, false, 0);
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_BUF, 0), 0);
	t_close(&t);
}
END_TEST

START_TEST(create_errors)
{
	struct nvme_config cfg = { 0 };
	struct nvme *n = NULL;
	char err[160] = "";
	struct gmem *mem;
	struct gmem_opts o = { .size = 2 * MiB, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };
	char path[] = "/tmp/nvme-test-XXXXXX";
	struct pci_dev_ctx ctx = { 0 };
	int fd;

	ck_assert_int_eq(gmem_create(&o, &mem), 0);
	ctx.mem = mem;
	ck_assert_int_eq(nvme_create(&ctx, &cfg, &n, err,
				     sizeof(err)), -EINVAL);
	cfg.path = "/nonexistent/disk.img";
	ck_assert_int_eq(nvme_create(&ctx, &cfg, &n, err,
				     sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	cfg.path = "/tmp";
	ck_assert_int_eq(nvme_create(&ctx, &cfg, &n, err,
				     sizeof(err)), -EISDIR);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	cfg.path = path;
	ck_assert_int_eq(nvme_create(&ctx, &cfg, &n, err,
				     sizeof(err)), -EINVAL); /* empty */
	ck_assert_ptr_nonnull(strstr(err, "smaller than one"));
	ck_assert_int_eq(ftruncate(fd, 1000), 0);   /* 1 block + 488 bytes */
	ck_assert_int_eq(nvme_create(&ctx, &cfg, &n, err,
				     sizeof(err)), 0);
	ck_assert_uint_eq(nvme_capacity(n), 1);
	nvme_destroy(n);
	nvme_destroy(NULL);
	close(fd);
	unlink(path);
	gmem_destroy(mem);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nvme-ctrl");
	TCase *tc = tcase_create("ctrl");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pci_function);
	tcase_add_test(tc, register_widths);
	tcase_add_test(tc, enable_reset);
	tcase_add_test(tc, enable_bad);
	tcase_add_test(tc, shutdown);
	tcase_add_test(tc, identify_ctrl);
	tcase_add_test(tc, identify_ns);
	tcase_add_test(tc, unknown_opcodes);
	tcase_add_test(tc, features);
	tcase_add_test(tc, queue_admin);
	tcase_add_test(tc, log_pages);
	tcase_add_test(tc, aer_abort);
	tcase_add_test(tc, intx);
	tcase_add_test(tc, msix);
	tcase_add_test(tc, pci_reset);
	tcase_add_test(tc, create_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
