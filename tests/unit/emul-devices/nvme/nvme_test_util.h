/* SPDX-License-Identifier: MIT */
/*
 * A small NVMe driver for the unit tests: a real gmem, the controller on a
 * real PCI host and bus, a temporary raw image. Registers and doorbells are
 * accessed through the bus like a vCPU would; queues, PRP lists and buffers
 * live in guest RAM and are written the way a driver writes them. No
 * /dev/kvm: interrupts go to the recording irq back end (fake_irq.h), so
 * the tests see the INTx line level and every MSI-X message delivered.
 */
#ifndef NVME_TEST_UTIL_H
#define NVME_TEST_UTIL_H

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bus.h"
#include "core/gmem.h"
#include "core/layout.h"
#include "core/pci/host.h"
#include "core/pci/msix.h"
#include "core/util.h"
#include "emul-devices/nvme/nvme-internal.h"
#include "emul-devices/nvme/nvme.h"
#include "fake_irq.h"

#define T_RAM        (64 * MiB)
#define T_ASQ        0x010000ull
#define T_ACQ        0x020000ull
#define T_IOSQ       0x040000ull   /* up to 4096 x 64 bytes */
#define T_IOCQ       0x080000ull   /* up to 4096 x 16 bytes */
#define T_LIST       0x100000ull   /* PRP list pages */
#define T_ID         0x1f0000ull   /* Identify / log buffers */
#define T_BUF        0x200000ull   /* data buffers, 4 MiB */
#define T_BUF2       0x600000ull   /* read-back buffers */
#define T_BLOCKS     8192u         /* 4 MiB image */
#define T_OUTSIDE    0x3f00000000ull /* not RAM */
#define T_PAGE       4096u

struct tq {
	uint64_t sq, cq;
	uint16_t qid, depth, cq_depth, tail, head, next_cid;
	uint8_t phase;
};

struct tcqe {
	uint32_t dw0;
	uint16_t sqhd, sqid, cid, status;
};

struct tnv {
	struct irq *irq;
	struct fake_irq *fake;
	struct gmem *mem;
	struct bus *bus;
	struct pci_host *host;
	struct nvme *n;
	uint64_t bar0;
	uint8_t devfn;
	char path[64];
	int fd;           /* our view of the image */
	struct tq admin, io;
};

static inline void *gp(struct tnv *t, uint64_t gpa, size_t len)
{
	void *p = gmem_ptr(t->mem, gpa, len);

	ck_assert_ptr_nonnull(p);
	return p;
}

static inline uint32_t rd32(struct tnv *t, uint32_t off)
{
	uint32_t v = 0;

	bus_access(t->bus, BUS_MMIO, t->bar0 + off, &v, 4, false);
	return v;
}

static inline uint64_t rd64(struct tnv *t, uint32_t off)
{
	uint64_t v = 0;

	bus_access(t->bus, BUS_MMIO, t->bar0 + off, &v, 8, false);
	return v;
}

static inline void wr32(struct tnv *t, uint32_t off, uint32_t v)
{
	bus_access(t->bus, BUS_MMIO, t->bar0 + off, &v, 4, true);
}

static inline void wrn(struct tnv *t, uint32_t off, uint64_t v, uint32_t len)
{
	bus_access(t->bus, BUS_MMIO, t->bar0 + off, &v, len, true);
}

/* 64-bit registers the kit's way: two dwords, low first. */
static inline void wr64(struct tnv *t, uint32_t off, uint64_t v)
{
	wr32(t, off, (uint32_t)v);
	wr32(t, off + 4, (uint32_t)(v >> 32));
}

static inline uint32_t cfg_rd(struct tnv *t, uint32_t off, uint32_t len)
{
	return pci_host_cfg_read(t->host, t->devfn, off, len);
}

static inline void cfg_wr(struct tnv *t, uint32_t off, uint32_t v,
			  uint32_t len)
{
	pci_host_cfg_write(t->host, t->devfn, off, v, len);
}

/* The level of the device's INTA# line as the interrupt controller sees it. */
static inline int t_pin(struct tnv *t)
{
	return fake_irq_line(t->fake, cfg_rd(t, PCI_INTERRUPT_LINE, 1));
}

static inline struct nvme_ctrl_stats t_stats(struct tnv *t)
{
	struct nvme_ctrl_stats s;

	nvme_get_stats(t->n, &s);
	return s;
}

static inline void t_open(struct tnv *t, bool readonly)
{
	struct gmem_opts o = { .size = T_RAM, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };
	struct nvme_config cfg = { .readonly = readonly, .name = "nvme-test",
				   .serial = "TESTSERIAL01" };
	char err[160] = "";

	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "/tmp/nvme-test-XXXXXX");
	t->fd = mkstemp(t->path);
	ck_assert_int_ge(t->fd, 0);
	ck_assert_int_eq(ftruncate(t->fd, (off_t)T_BLOCKS * 512), 0);
	cfg.path = t->path;
	ck_assert_int_eq(fake_irq_create(&t->irq, &t->fake), 0);
	ck_assert_int_eq(gmem_create(&o, &t->mem), 0);
	ck_assert_int_eq(bus_create(&t->bus), 0);
	ck_assert_int_eq(pci_host_create(t->bus, t->irq, 0, 0, &t->host), 0);
	ck_assert_msg(nvme_create(&(struct pci_dev_ctx){ .mem = t->mem,
							 .irq = t->irq },
				  &cfg, &t->n, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(pci_host_add(t->host, nvme_pci(t->n)), 0);
	t->bar0 = pci_dev_bar_mapped(nvme_pci(t->n), 0);
	ck_assert_uint_ne(t->bar0, PCI_BAR_UNMAPPED);
	t->devfn = nvme_pci(t->n)->devfn;
	cfg_wr(t, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

static inline void t_close(struct tnv *t)
{
	pci_host_destroy(t->host);
	nvme_destroy(t->n);
	bus_destroy(t->bus);
	gmem_destroy(t->mem);
	irq_destroy(t->irq);
	close(t->fd);
	unlink(t->path);
}

static inline void t_queue(struct tq *q, uint16_t qid, uint16_t depth,
			   uint64_t sq, uint64_t cq)
{
	*q = (struct tq){ .qid = qid, .depth = depth, .cq_depth = depth,
			  .sq = sq, .cq = cq, .phase = 1 };
}

static inline uint32_t t_db_sq(uint16_t qid)
{
	return NVME_REG_DB + 8u * qid;
}

static inline uint32_t t_db_cq(uint16_t qid)
{
	return NVME_REG_DB + 8u * qid + 4;
}

/* Program the admin queue (depth entries each) and enable; returns CSTS. */
static inline uint32_t t_enable(struct tnv *t, uint16_t depth)
{
	memset(gp(t, T_ASQ, (size_t)depth * 64), 0, (size_t)depth * 64);
	memset(gp(t, T_ACQ, (size_t)depth * 16), 0, (size_t)depth * 16);
	t_queue(&t->admin, 0, depth, T_ASQ, T_ACQ);
	wr32(t, NVME_REG_AQA, (uint32_t)(depth - 1) << 16 | (depth - 1u));
	wr64(t, NVME_REG_ASQ, T_ASQ);
	wr64(t, NVME_REG_ACQ, T_ACQ);
	wr32(t, NVME_REG_CC, 4u << 20 | 6u << 16 | NVME_CC_EN);
	return rd32(t, NVME_REG_CSTS);
}

static inline void t_disable(struct tnv *t)
{
	wr32(t, NVME_REG_CC, rd32(t, NVME_REG_CC) & ~NVME_CC_EN);
	ck_assert_uint_eq(rd32(t, NVME_REG_CSTS) & NVME_CSTS_RDY, 0);
}

/* Put one entry at the tail (CID filled in); returns the CID. */
static inline uint16_t t_put(struct tnv *t, struct tq *q, struct nvme_sqe *c)
{
	c->cid = q->next_cid++;
	memcpy(gp(t, q->sq + (uint64_t)q->tail * 64, 64), c, 64);
	q->tail = (uint16_t)((q->tail + 1) % q->depth);
	return c->cid;
}

static inline void t_ring(struct tnv *t, struct tq *q)
{
	wr32(t, t_db_sq(q->qid), q->tail);
}

/* The CQE at the head, if posted (phase tag). */
static inline bool t_peek(struct tnv *t, struct tq *q, struct tcqe *e)
{
	const uint32_t *p = gp(t, q->cq + (uint64_t)q->head * 16, 16);

	if (((p[3] >> 16) & 1) != q->phase)
		return false;
	e->dw0 = p[0];
	e->sqhd = (uint16_t)p[2];
	e->sqid = (uint16_t)(p[2] >> 16);
	e->cid = (uint16_t)p[3];
	e->status = (uint16_t)(p[3] >> 17);
	return true;
}

/* Take the CQE at the head; ring the CQ head doorbell when asked. */
static inline bool t_pop(struct tnv *t, struct tq *q, struct tcqe *e,
			 bool ring)
{
	if (!t_peek(t, q, e))
		return false;
	if (++q->head == q->cq_depth) {
		q->head = 0;
		q->phase ^= 1;
	}
	if (ring)
		wr32(t, t_db_cq(q->qid), q->head);
	return true;
}

/* Submit one command and take its completion (must be there at once). */
static inline uint16_t t_cmd(struct tnv *t, struct tq *q, struct nvme_sqe *c,
			     struct tcqe *out)
{
	struct tcqe e;
	uint16_t cid = t_put(t, q, c);

	t_ring(t, q);
	ck_assert_msg(t_pop(t, q, &e, true), "no completion for opcode 0x%x",
		      c->opcode);
	ck_assert_uint_eq(e.cid, cid);
	ck_assert_uint_eq(e.sqid, q->qid);
	ck_assert_uint_eq(e.sqhd, q->tail);
	if (out)
		*out = e;
	return e.status;
}

static inline struct nvme_sqe t_sqe(uint8_t opcode)
{
	struct nvme_sqe c;

	memset(&c, 0, sizeof(c));
	c.opcode = opcode;
	return c;
}

static inline uint16_t t_identify(struct tnv *t, uint8_t cns, uint32_t nsid,
				  uint64_t prp1, uint64_t prp2)
{
	struct nvme_sqe c = t_sqe(NVME_ADM_IDENTIFY);

	c.nsid = nsid;
	c.cdw10 = cns;
	c.prp1 = prp1;
	c.prp2 = prp2;
	return t_cmd(t, &t->admin, &c, NULL);
}

static inline uint16_t t_create_cq(struct tnv *t, uint16_t qid,
				   uint16_t depth, uint64_t base, bool ien,
				   uint16_t iv)
{
	struct nvme_sqe c = t_sqe(NVME_ADM_CREATE_CQ);

	c.prp1 = base;
	c.cdw10 = (uint32_t)(depth - 1) << 16 | qid;
	c.cdw11 = (uint32_t)iv << 16 | (ien ? 2u : 0u) | 1u;
	return t_cmd(t, &t->admin, &c, NULL);
}

static inline uint16_t t_create_sq(struct tnv *t, uint16_t qid,
				   uint16_t depth, uint64_t base,
				   uint16_t cqid)
{
	struct nvme_sqe c = t_sqe(NVME_ADM_CREATE_SQ);

	c.prp1 = base;
	c.cdw10 = (uint32_t)(depth - 1) << 16 | qid;
	c.cdw11 = (uint32_t)cqid << 16 | 1u;
	return t_cmd(t, &t->admin, &c, NULL);
}

static inline uint16_t t_delete(struct tnv *t, uint8_t opcode, uint16_t qid)
{
	struct nvme_sqe c = t_sqe(opcode);

	c.cdw10 = qid;
	return t_cmd(t, &t->admin, &c, NULL);
}

/* Enable with a 32-entry admin queue and make I/O queue pair 1. */
static inline void t_up(struct tnv *t, uint16_t sq_depth, uint16_t cq_depth,
			bool ien, uint16_t iv)
{
	ck_assert_uint_eq(t_enable(t, 32), NVME_CSTS_RDY);
	memset(gp(t, T_IOSQ, (size_t)sq_depth * 64), 0, (size_t)sq_depth * 64);
	memset(gp(t, T_IOCQ, (size_t)cq_depth * 16), 0, (size_t)cq_depth * 16);
	ck_assert_uint_eq(t_create_cq(t, 1, cq_depth, T_IOCQ, ien, iv), 0);
	ck_assert_uint_eq(t_create_sq(t, 1, sq_depth, T_IOSQ, 1), 0);
	t_queue(&t->io, 1, sq_depth, T_IOSQ, T_IOCQ);
	t->io.cq_depth = cq_depth;
}

static inline struct nvme_sqe t_rw_sqe(bool write, uint64_t slba,
				       uint32_t nlb, uint64_t prp1,
				       uint64_t prp2)
{
	struct nvme_sqe c = t_sqe(write ? NVME_CMD_WRITE : NVME_CMD_READ);

	c.nsid = NVME_NSID;
	c.cdw10 = (uint32_t)slba;
	c.cdw11 = (uint32_t)(slba >> 32);
	c.cdw12 = nlb - 1;
	c.prp1 = prp1;
	c.prp2 = prp2;
	return c;
}

static inline uint16_t t_rw(struct tnv *t, bool write, uint64_t slba,
			    uint32_t nlb, uint64_t prp1, uint64_t prp2)
{
	struct nvme_sqe c = t_rw_sqe(write, slba, nlb, prp1, prp2);

	return t_cmd(t, &t->io, &c, NULL);
}

/* A byte pattern of (lba, offset, seed). */
static inline uint8_t t_pat(uint64_t byte, uint32_t seed)
{
	uint64_t x = (byte + 1) * 0x9e3779b97f4a7c15ULL ^ seed;

	return (uint8_t)(x >> 29 ^ x);
}

/* Status field as a test names it: SC plus SCT << 8, DNR. */
#define ST(sc) ((uint16_t)((sc) | NVME_DNR))

#endif
