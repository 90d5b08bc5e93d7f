// SPDX-License-Identifier: MIT
/*
 * Identify (Base §5.17) and Get Log Page (Base §5.16): the data structures
 * the controller describes itself with, built in a zeroed scratch page and
 * copied out through the command's PRPs.
 *
 * What the kit's driver (guest/nvme.c) and Linux read, and what we say:
 * SN/MN/FR, MDTS = 7 (512 KiB, as QEMU's nvme), CNTLID 0, NN = 1, SQES
 * 0x66 and CQES 0x44, a volatile write cache (so Flush means fdatasync),
 * Write Zeroes in ONCS, one LBA format of 512 bytes, NSATTR write-protect
 * for a read-only namespace, an NGUID for the namespace. No SGLs, no
 * namespace management, no firmware commands, one power state.
 */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "emul-devices/nvme/nvme-internal.h"

#define NVME_MODEL     "iovmm NVMe Ctrl"
#define NVME_FIRMWARE  "1.0"
#define NVME_SUBNQN    "nqn.2026-01.org.iovmm:nvme:"
#define NVME_TEMP_K    323   /* composite temperature reported: 50 C */
#define NVME_WCTEMP    0x157 /* 343 K */
#define NVME_CCTEMP    0x175 /* 373 K */

#define CNS_NS         0x00
#define CNS_CTRL       0x01
#define CNS_NS_ACTIVE  0x02
#define CNS_NS_DESCS   0x03

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Identify's ASCII fields are space padded, not NUL terminated. */
static void put_str(uint8_t *p, const char *s, size_t len)
{
	size_t n = strnlen(s, len);

	memset(p, ' ', len);
	memcpy(p, s, n);
}

/* A namespace GUID from the serial (FNV-1a, twice): stable per image. */
static void ns_nguid(const struct nvme_ctrl *c, uint8_t out[16])
{
	uint64_t h[2] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };

	for (unsigned k = 0; k < 2; k++) {
		for (size_t i = 0; i < sizeof(c->serial); i++) {
			h[k] ^= (uint8_t)c->serial[i];
			h[k] *= 0x100000001b3ULL;
		}
		h[k] ^= c->nlb + k;
		h[k] *= 0x100000001b3ULL;
	}
	memcpy(out, h, 16);
}

/* Identify Controller data structure (Base Figure 275). */
static void id_ctrl(struct nvme_ctrl *c, uint8_t *d)
{
	char nqn[256];
	uint8_t *psd0 = d + 2048;

	put16(d + 0, c->vid);
	put16(d + 2, c->ssvid);
	memcpy(d + 4, c->serial, 20);
	put_str(d + 24, NVME_MODEL, 40);
	put_str(d + 64, NVME_FIRMWARE, 8);
	d[72] = 6;                 /* RAB: recommended arbitration burst */
	d[77] = NVME_MDTS;
	put16(d + 78, 0);          /* CNTLID */
	put32(d + 80, NVME_VERSION);
	d[111] = 1;                /* CNTRLTYPE: I/O controller */
	put16(d + 256, 0);         /* OACS: no optional admin commands */
	d[258] = NVME_ACL;
	d[259] = NVME_AERL;
	d[260] = 0x3;              /* FRMW: one slot, read-only */
	d[261] = 0x4;              /* LPA: extended data (NUMDU, LPO) */
	d[262] = NVME_ERRLOG_N - 1; /* ELPE */
	d[263] = 0;                /* NPSS: one power state */
	put16(d + 266, NVME_WCTEMP);
	put16(d + 268, NVME_CCTEMP);
	d[512] = NVME_SQES << 4 | NVME_SQES;
	d[513] = NVME_CQES << 4 | NVME_CQES;
	put32(d + 516, 1);         /* NN */
	put16(d + 520, 1u << 3);   /* ONCS: Write Zeroes */
	/* VWC: present; Flush with NSID FFFFFFFFh supported (bits 2:1). */
	d[525] = 0x7;
	d[530] = 1;                /* NVSCC: standard vendor specific format */
	snprintf(nqn, sizeof(nqn), NVME_SUBNQN "%.20s", c->serial);
	for (size_t i = strlen(nqn); i > 0 && nqn[i - 1] == ' '; i--)
		nqn[i - 1] = '\0';
	memcpy(d + 768, nqn, strlen(nqn));
	/* Power state descriptor 0: 25.00 W, operational. */
	put16(psd0 + 0, 2500);
	put32(psd0 + 4, 16);       /* ENLAT, us */
	put32(psd0 + 8, 4);        /* EXLAT, us */
}

/* Identify Namespace, NVM command set (NVM Figure 97). */
static void id_ns(struct nvme_ctrl *c, uint8_t *d)
{
	put64(d + 0, c->nlb);      /* NSZE */
	put64(d + 8, c->nlb);      /* NCAP */
	put64(d + 16, c->nlb);     /* NUSE */
	d[25] = 0;                 /* NLBAF: one format */
	d[26] = 0;                 /* FLBAS: format 0, no metadata */
	/* NVMCAP (16 bytes): the namespace in bytes. */
	put64(d + 48, c->nlb << NVME_LBA_SHIFT);
	d[99] = c->readonly;       /* NSATTR bit 0: write protected */
	ns_nguid(c, d + 104);
	d[128 + 2] = NVME_LBA_SHIFT; /* LBAF0: MS 0, LBADS 9, RP 0 */
}

/* Namespace Identification Descriptor list (CNS 03h): the NGUID. */
static void id_ns_descs(struct nvme_ctrl *c, uint8_t *d)
{
	d[0] = 2;                  /* NIDT: NGUID */
	d[1] = 16;                 /* NIDL */
	ns_nguid(c, d + 4);
}

uint16_t nvme_identify(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	uint8_t cns = (uint8_t)sqe->cdw10;
	uint8_t *d = c->page;

	memset(d, 0, NVME_PAGE);
	switch (cns) {
	case CNS_NS:
	case CNS_NS_DESCS:
		/* No namespace management: FFFFFFFFh is invalid too. */
		if (sqe->nsid != NVME_NSID)
			return NVME_SC_INVALID_NS | NVME_DNR;
		if (cns == CNS_NS)
			id_ns(c, d);
		else
			id_ns_descs(c, d);
		break;
	case CNS_CTRL:
		id_ctrl(c, d);
		break;
	case CNS_NS_ACTIVE:
		/* Active NSIDs greater than NSID (§5.17.2.2). */
		if (sqe->nsid >= 0xfffffffeu)
			return NVME_SC_INVALID_NS | NVME_DNR;
		if (sqe->nsid < NVME_NSID)
			put32(d, NVME_NSID);
		break;
	default:
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	return nvme_prp_to_host(c, sqe, d, NVME_PAGE, NVME_PAGE);
}

/* ---- Get Log Page ---- */

/* 128-bit little-endian counter from a 64-bit one. */
static void put128(uint8_t *p, uint64_t v)
{
	put64(p, v);
	put64(p + 8, 0);
}

/* Error Information log (§5.16.1.2), newest first. */
static uint32_t log_error(struct nvme_ctrl *c, uint8_t *d)
{
	for (unsigned i = 0; i < NVME_ERRLOG_N; i++) {
		unsigned k = (c->errlog_pos + NVME_ERRLOG_N - i) % NVME_ERRLOG_N;
		const struct nvme_err_entry *e = &c->errlog[k];
		uint8_t *p = d + i * 64;

		if (!e->count)
			break;
		put64(p + 0, e->count);
		put16(p + 8, e->sqid);
		put16(p + 10, e->cid);
		put16(p + 12, (uint16_t)(e->status << 1)); /* bit 0: phase */
		put16(p + 14, e->loc);
		put64(p + 16, e->lba);
		put32(p + 24, e->nsid);
	}
	return NVME_ERRLOG_N * 64;
}

/* SMART / Health Information log (§5.16.1.3), controller wide. */
static uint32_t log_smart(struct nvme_ctrl *c, uint8_t *d)
{
	const struct nvme_ctrl_stats *s = &c->stats;

	put16(d + 1, NVME_TEMP_K);
	d[3] = 100;                /* available spare, % */
	d[4] = 10;                 /* available spare threshold */
	/* Data units: thousands of 512-byte units, rounded up. */
	put128(d + 32, (s->bytes_read / 512 + 999) / 1000);
	put128(d + 48, (s->bytes_written / 512 + 999) / 1000);
	put128(d + 64, s->reads);
	put128(d + 80, s->writes);
	put128(d + 112, 1);        /* power cycles */
	put128(d + 176, c->err_count);
	return 512;
}

/* Firmware Slot Information log (§5.16.1.4). */
static uint32_t log_fw(struct nvme_ctrl *c, uint8_t *d)
{
	d[0] = 1;                  /* AFI: slot 1 active */
	put_str(d + 8, NVME_FIRMWARE, 8);
	return 512;
}

/*
 * §5.16: LID 7:0, RAE 15, NUMDL 31:16 (CDW10); NUMDU 15:0 (CDW11); LPO
 * (CDW12-13, dword aligned). Reading a log with RAE = 0 unmasks the
 * asynchronous events of its type (§5.2).
 */
uint16_t nvme_get_log(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	uint8_t lid = (uint8_t)sqe->cdw10;
	bool rae = sqe->cdw10 & 0x8000;
	uint64_t numd = ((uint64_t)(sqe->cdw11 & 0xffff) << 16 |
			 sqe->cdw10 >> 16) + 1;
	uint64_t lpo = sqe->cdw12 | (uint64_t)sqe->cdw13 << 32;
	uint8_t *d = c->page;
	uint32_t size, len;
	uint16_t st;

	memset(d, 0, NVME_PAGE);
	switch (lid) {
	case NVME_LOG_ERROR:
		size = log_error(c, d);
		break;
	case NVME_LOG_SMART:
		size = log_smart(c, d);
		break;
	case NVME_LOG_FW_SLOT:
		size = log_fw(c, d);
		break;
	default:
		return NVME_SC_INVALID_LOG_PAGE | NVME_DNR;
	}
	if (numd * 4 > NVME_MAX_XFER || (lpo & 3) || lpo >= size)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	len = (uint32_t)numd * 4;
	st = nvme_prp_to_host(c, sqe, d + lpo, size - (uint32_t)lpo, len);
	if (st || rae)
		return st;
	if (lid == NVME_LOG_ERROR)
		c->aer_masked &= (uint8_t)~(1u << NVME_AER_TYPE_ERROR);
	else if (lid == NVME_LOG_SMART)
		c->aer_masked &= (uint8_t)~(1u << NVME_AER_TYPE_SMART);
	return 0;
}
