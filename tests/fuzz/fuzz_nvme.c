// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the emulated NVMe controller (emul-devices/nvme,
 * the controller model without its PCI function): the input is a hostile
 * guest driving the register window and the doorbells, writing submission
 * queue entries and PRP lists into a 64 KiB guest RAM, plus direct calls
 * of the PRP walker. The namespace is a 128 KiB memfd.
 *
 * Input layout:
 *   byte 0      flags: bit 0 bring the admin queues up first (AQA 16/16,
 *               ASQ 0x1000, ACQ 0x2000, CC.EN), bit 1 MSI-X on
 *   bytes 1-2   script length (le16)
 *   script      operations, each an op byte (kind in bits 2:0) and its
 *               operands (see run_op); a truncated operation ends it
 *   the rest    initial contents of guest RAM from GPA 0
 *
 * After every operation the controller's queue state is checked (sizes,
 * heads and tails in range, queue memory inside RAM, SQ/CQ bindings
 * consistent, AER bookkeeping bounded), every MSI-X vector asked for is in
 * range, and every mapping the PRP walker returns lies inside RAM, adds up
 * to the length asked for and stays within MDTS. A violation traps (this
 * is a test program; libFuzzer reports the crash).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/gmem.h"
#include "core/layout.h"
#include "emul-devices/nvme/nvme-internal.h"

#define FUZZ_RAM (64 * 1024)
#define FUZZ_NS_BLOCKS 256
#define FUZZ_MAX_OPS 256

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gmem *mem;
static struct nvme_ctrl *ctrl;
static int ns_fd = -1;

static void fz_msix(void *opaque, unsigned vector)
{
	CHECK(vector < NVME_CTRL_VECTORS);
}

static void fz_intx(void *opaque, bool level)
{
}

static const struct nvme_ctrl_ops fz_ops = {
	.msix_notify = fz_msix,
	.intx_set = fz_intx,
};

struct cursor {
	const uint8_t *p;
	size_t n;
};

static bool take(struct cursor *c, void *out, size_t len)
{
	if (c->n < len)
		return false;
	memcpy(out, c->p, len);
	c->p += len;
	c->n -= len;
	return true;
}

static bool in_ram(uint64_t gpa, uint64_t len)
{
	return gmem_is_ram(mem, gpa, len);
}

static void check_state(void)
{
	const struct nvme_ctrl *c = ctrl;
	unsigned nsq[NVME_NR_QUEUES] = { 0 };

	for (unsigned q = 0; q < NVME_NR_QUEUES; q++) {
		const struct nvme_sq *sq = &c->sq[q];

		if (!sq->live)
			continue;
		CHECK(sq->size >= 2 && sq->size <= NVME_MQES + 1);
		CHECK(sq->head < sq->size && sq->tail < sq->size);
		CHECK(in_ram(sq->base, (uint64_t)sq->size * NVME_SQE_SIZE));
		CHECK(sq->cqid < NVME_NR_QUEUES && c->cq[sq->cqid].live);
		CHECK((q == 0) == (sq->cqid == 0));
		nsq[sq->cqid]++;
	}
	for (unsigned q = 0; q < NVME_NR_QUEUES; q++) {
		const struct nvme_cq *cq = &c->cq[q];

		if (!cq->live)
			continue;
		CHECK(cq->size >= 2 && cq->size <= NVME_MQES + 1);
		CHECK(cq->head < cq->size && cq->tail < cq->size);
		CHECK(cq->phase <= 1);
		CHECK(cq->vector < NVME_CTRL_VECTORS);
		CHECK(in_ram(cq->base, (uint64_t)cq->size * NVME_CQE_SIZE));
		CHECK(cq->nsq == nsq[q]);
	}
	CHECK(c->aer_n <= NVME_AERL + 1);
	CHECK(c->aer_ev_n <= NVME_AER_QUEUE);
	CHECK(c->feat.nsqa >= 1 && c->feat.nsqa <= NVME_MAX_IOQ);
	CHECK(c->feat.ncqa >= 1 && c->feat.ncqa <= NVME_MAX_IOQ);
}

static void check_prp(uint64_t prp1, uint64_t prp2, uint32_t len)
{
	const uint8_t *lo = gmem_ptr(mem, 0, FUZZ_RAM), *hi = lo + FUZZ_RAM;
	unsigned cnt = 0;
	uint64_t total = 0;
	uint16_t st = nvme_prp_map(ctrl, prp1, prp2, len, &cnt);

	if (st) {
		CHECK(cnt == 0);
		return;
	}
	CHECK(len <= NVME_MAX_XFER);
	CHECK(cnt <= NVME_MAX_IOV);
	for (unsigned i = 0; i < cnt; i++) {
		const uint8_t *b = ctrl->iov[i].iov_base;
		size_t l = ctrl->iov[i].iov_len;

		CHECK(l > 0);
		CHECK(b >= lo && l <= (size_t)(hi - b));
		total += l;
	}
	CHECK(total == len);
}

static void mmio_write(uint32_t off, uint64_t val, uint32_t len)
{
	nvme_ctrl_mmio_write(ctrl, off, &val, len);
}

static void bring_up(void)
{
	mmio_write(NVME_REG_AQA, 15u << 16 | 15u, 4);
	mmio_write(NVME_REG_ASQ, 0x1000, 8);
	mmio_write(NVME_REG_ACQ, 0x2000, 8);
	mmio_write(NVME_REG_CC, 4u << 20 | 6u << 16 | NVME_CC_EN, 4);
}

/*
 * Put an SQE at the tail of queue qid (as the controller last saw the
 * tail) and ring. Bits of `op` nudge it towards reachable paths: 3 sets
 * NSID 1, 4 points the PRPs into RAM, 5 keeps the LBA range small.
 */
static void submit(uint8_t op, uint8_t qsel, struct nvme_sqe *sqe)
{
	unsigned qid = qsel % NVME_NR_QUEUES;
	const struct nvme_sq *sq = &ctrl->sq[qid];
	uint32_t tail;

	if (!sq->live)
		return;
	if (op & 0x08)
		sqe->nsid = 1;
	if (op & 0x10) {
		sqe->prp1 &= FUZZ_RAM - 4;
		sqe->prp2 &= FUZZ_RAM - NVME_PAGE;
	}
	if (op & 0x20) {
		sqe->cdw10 &= FUZZ_NS_BLOCKS - 1;
		sqe->cdw11 = 0;
		sqe->cdw12 &= 0x3f;
	}
	tail = sq->tail;
	if (gmem_write(mem, sq->base + (uint64_t)tail * NVME_SQE_SIZE, sqe,
		       sizeof(*sqe)))
		return;
	tail = (tail + 1) % sq->size;
	mmio_write(NVME_REG_DB + 8 * qid, tail, 4);
}

/* One operation; false when the script ran out. */
static bool run_op(struct cursor *c)
{
	uint8_t op, b, n, buf[64];
	uint16_t off;
	uint32_t len32, v32;
	uint64_t v, a, a2;
	struct nvme_sqe sqe;

	if (!take(c, &op, 1))
		return false;
	switch (op & 7) {
	case 0: /* register write: off le16, value le64 */
	case 1: /* register read: off le16 */
		if (!take(c, &off, 2))
			return false;
		len32 = 1u << ((op >> 3) & 3);
		off = (uint16_t)((off % NVME_CTRL_MMIO_SIZE) & ~(len32 - 1));
		if ((op & 7) == 1) {
			nvme_ctrl_mmio_read(ctrl, off, &v, len32);
			break;
		}
		if (!take(c, &v, 8))
			return false;
		nvme_ctrl_mmio_write(ctrl, off, &v, len32);
		break;
	case 2: /* doorbell: queue byte (0-255), value le32; bit 3: CQ */
		if (!take(c, &b, 1) || !take(c, &v32, 4))
			return false;
		mmio_write(NVME_REG_DB + (2u * b + ((op >> 3) & 1)) * 4, v32, 4);
		break;
	case 3: /* submit: queue byte, 64-byte SQE */
		if (!take(c, &b, 1) || !take(c, &sqe, sizeof(sqe)))
			return false;
		submit(op, b, &sqe);
		break;
	case 4: /* guest RAM poke: gpa le16, length byte (<= 64), bytes */
		if (!take(c, &off, 2) || !take(c, &n, 1))
			return false;
		n %= sizeof(buf) + 1;
		if (!take(c, buf, n))
			return false;
		if (n)
			gmem_write(mem, off, buf, n);
		break;
	case 5: /* the driver consumes all of CQ b (head := tail) */
		if (!take(c, &b, 1))
			return false;
		b %= NVME_NR_QUEUES;
		if (ctrl->cq[b].live)
			mmio_write(NVME_REG_DB + 8u * b + 4, ctrl->cq[b].tail, 4);
		break;
	case 6: /* the PRP walker alone: prp1, prp2 le64, length le32 */
		if (!take(c, &a, 8) || !take(c, &a2, 8) || !take(c, &len32, 4))
			return false;
		check_prp(a, a2, len32 % (NVME_MAX_XFER + 2 * NVME_PAGE));
		break;
	default:
		switch ((op >> 3) & 3) {
		case 0:
			nvme_ctrl_reset(ctrl);
			break;
		case 1:
			nvme_ctrl_set_msix(ctrl, op & 0x20);
			break;
		case 2:
			bring_up();
			break;
		default:
			break;
		}
		break;
	}
	return true;
}

static int init(void)
{
	struct gmem_opts o = { .size = FUZZ_RAM, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };
	struct nvme_ctrl_params p = {
		.nlb = FUZZ_NS_BLOCKS, .name = "fuzz-nvme", .serial = "FUZZ",
		.vid = 0x1b36, .ssvid = 0x1af4, .ops = &fz_ops,
	};

	if (gmem_create(&o, &mem))
		return -1;
	ns_fd = memfd_create("fuzz-nvme-ns", MFD_CLOEXEC);
	if (ns_fd < 0 || ftruncate(ns_fd, FUZZ_NS_BLOCKS * 512) < 0)
		return -1;
	p.mem = mem;
	p.fd = ns_fd;
	return nvme_ctrl_create(&p, &ctrl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c;
	uint16_t script_len;
	uint8_t flags;

	if (!ctrl && init())
		__builtin_trap();
	if (size < 3)
		return 0;
	flags = data[0];
	memcpy(&script_len, data + 1, 2);
	data += 3;
	size -= 3;
	if (script_len > size)
		script_len = (uint16_t)size;
	/* A fresh controller and RAM for every input. */
	nvme_ctrl_reset(ctrl);
	nvme_ctrl_set_msix(ctrl, flags & 2);
	memset(gmem_ptr(mem, 0, FUZZ_RAM), 0, FUZZ_RAM);
	memcpy(gmem_ptr(mem, 0, FUZZ_RAM), data + script_len,
	       size - script_len < FUZZ_RAM ? size - script_len : FUZZ_RAM);
	if (flags & 1)
		bring_up();
	check_state();
	c = (struct cursor){ .p = data, .n = script_len };
	for (unsigned i = 0; i < FUZZ_MAX_OPS && run_op(&c); i++)
		check_state();
	return 0;
}
