// SPDX-License-Identifier: MIT
/*
 * The emulated NVMe controller's data path: Read/Write through every PRP
 * shape (Base §4.1.1), Flush, Write Zeroes, LBA and MDTS checks, a
 * read-only namespace, the CQ phase tag over several laps and CQ-full
 * back-pressure. Data is checked against the image file itself.
 */
#include <fcntl.h>

#include "nvme_test_util.h"

/* Fill guest [gpa, gpa + len) with the pattern of `seed`. */
static void fill(struct tnv *t, uint64_t gpa, uint32_t len, uint32_t seed)
{
	uint8_t *p = gp(t, gpa, len);

	for (uint32_t i = 0; i < len; i++)
		p[i] = t_pat(i, seed);
}

/* The image at block slba holds the pattern of `seed` for len bytes. */
static void check_file(struct tnv *t, uint64_t slba, uint32_t len,
		       uint32_t seed)
{
	uint8_t *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pread(t->fd, buf, len, (off_t)slba * 512), (ssize_t)len);
	for (uint32_t i = 0; i < len; i++)
		ck_assert_msg(buf[i] == t_pat(i, seed),
			      "LBA %llu byte %u: 0x%02x", (unsigned long long)slba,
			      i, buf[i]);
	free(buf);
}

static void check_guest(struct tnv *t, uint64_t gpa, uint32_t len,
			uint32_t seed)
{
	const uint8_t *p = gp(t, gpa, len);

	for (uint32_t i = 0; i < len; i++)
		ck_assert_msg(p[i] == t_pat(i, seed), "gpa 0x%llx: 0x%02x",
			      (unsigned long long)(gpa + i), p[i]);
}

/* Write from one buffer shape, read back into another, compare both. */
static void round_trip(struct tnv *t, uint64_t slba, uint32_t nlb,
		       uint64_t w1, uint64_t w2, uint64_t r1, uint64_t r2,
		       uint32_t seed)
{
	uint32_t len = nlb * 512;

	fill(t, w1, len, seed);
	ck_assert_uint_eq(t_rw(t, true, slba, nlb, w1, w2), 0);
	check_file(t, slba, len, seed);
	memset(gp(t, r1, len), 0xa5, len);
	ck_assert_uint_eq(t_rw(t, false, slba, nlb, r1, r2), 0);
	check_guest(t, r1, len, seed);
}

/*
 * A buffer at gpa that is contiguous for the guest is described page by
 * page anyway; the helpers below scatter the pages instead, so a bug in
 * page order shows up.
 */
#define T_FIRST (T_BUF + 384 * T_PAGE) /* PRP1's page, clear of the rest */

static uint64_t scatter_page(unsigned i)
{
	/* Pages in reverse order, one page apart: pages 42..300 of T_BUF. */
	return T_BUF + (uint64_t)(300 - 2 * i) * T_PAGE;
}

/* Copy a linear pattern into scattered pages (first page from off). */
static void fill_scattered(struct tnv *t, uint64_t first, uint32_t off,
			   unsigned npages, uint32_t len, uint32_t seed)
{
	uint32_t done = 0;

	for (unsigned i = 0; i <= npages && done < len; i++) {
		uint64_t a = i ? scatter_page(i) : first + off;
		uint32_t n = i ? T_PAGE : T_PAGE - off;
		uint8_t *p;

		if (n > len - done)
			n = len - done;
		p = gp(t, a, n);
		for (uint32_t k = 0; k < n; k++)
			p[k] = t_pat(done + k, seed);
		done += n;
	}
}

START_TEST(prp1_only)
{
	struct tnv t;

	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	round_trip(&t, 0, 1, T_BUF, 0, T_BUF2, 0, 1);
	round_trip(&t, 7, 8, T_BUF, 0, T_BUF2, 0, 2);          /* one page */
	/* Offset inside the page, still within it: PRP2 is ignored. */
	round_trip(&t, 100, 2, T_BUF + 1024, 0xdead, T_BUF2 + 3072, 0xbeef, 3);
	/* A dword-aligned (not block-aligned) offset is allowed. */
	round_trip(&t, 200, 1, T_BUF + 4, 0, T_BUF2 + 8, 0, 4);
	t_close(&t);
}
END_TEST

START_TEST(prp1_prp2)
{
	struct tnv t;

	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	/* Two whole pages, not adjacent in guest memory. */
	fill_scattered(&t, T_BUF + 0x10000, 0, 1, 8192, 5);
	ck_assert_uint_eq(t_rw(&t, true, 16, 16, T_BUF + 0x10000,
			       scatter_page(1)), 0);
	check_file(&t, 16, 8192, 5);
	/* Read back with an offset: 512 in page one, the rest in page two. */
	ck_assert_uint_eq(t_rw(&t, false, 16, 8, T_BUF2 + 3584, T_BUF2 + 8192),
			  0);
	{
		uint8_t *a = gp(&t, T_BUF2 + 3584, 512), *b = gp(&t, T_BUF2 + 8192, 3584);

		for (uint32_t i = 0; i < 512; i++)
			ck_assert_uint_eq(a[i], t_pat(i, 5));
		for (uint32_t i = 0; i < 3584; i++)
			ck_assert_uint_eq(b[i], t_pat(512 + i, 5));
	}
	t_close(&t);
}
END_TEST

/* The kit's third shape: `xfer` bytes 512 into a page, PRP list in PRP2. */
START_TEST(prp_list)
{
	const uint32_t len = 65536;
	uint64_t *list;
	struct tnv t;
	unsigned pages = (len - (T_PAGE - 512) + T_PAGE - 1) / T_PAGE;

	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	list = gp(&t, T_LIST, T_PAGE);
	for (unsigned i = 0; i < pages; i++)
		list[i] = scatter_page(i + 1);
	fill_scattered(&t, T_FIRST, 512, pages, len, 6);
	ck_assert_uint_eq(t_rw(&t, true, 1000, len / 512, T_FIRST + 512,
			       T_LIST), 0);
	check_file(&t, 1000, len, 6);
	/* And read back into a contiguous buffer through a list. */
	for (unsigned i = 0; i < 16; i++)
		list[i] = T_BUF2 + (i + 1) * (uint64_t)T_PAGE;
	memset(gp(&t, T_BUF2, 17 * T_PAGE), 0, 17 * T_PAGE);
	ck_assert_uint_eq(t_rw(&t, false, 1000, len / 512, T_BUF2, T_LIST), 0);
	check_guest(&t, T_BUF2, len, 6);
	/* The list may start inside its page (qword aligned). */
	memmove(gp(&t, T_LIST + 8, 16 * 8), list, 16 * 8);
	memset(gp(&t, T_BUF2, 17 * T_PAGE), 0, 17 * T_PAGE);
	ck_assert_uint_eq(t_rw(&t, false, 1000, len / 512, T_BUF2, T_LIST + 8),
			  0);
	check_guest(&t, T_BUF2, len, 6);
	t_close(&t);
}
END_TEST

/* Read [slba, +len) into T_BUF2 (contiguous) through a list; compare. */
static void read_linear(struct tnv *t, uint64_t slba, uint32_t len,
			uint32_t seed)
{
	uint64_t *list = gp(t, T_LIST + 16 * T_PAGE, T_PAGE);
	unsigned pages = (len + T_PAGE - 1) / T_PAGE;

	for (unsigned i = 1; i < pages; i++)
		list[i - 1] = T_BUF2 + (uint64_t)i * T_PAGE;
	memset(gp(t, T_BUF2, len), 0, len);
	ck_assert_uint_eq(t_rw(t, false, slba, len / 512, T_BUF2,
			       pages == 2 ? T_BUF2 + T_PAGE : T_LIST + 16 * T_PAGE),
			  0);
	check_guest(t, T_BUF2, len, seed);
}

/*
 * §4.1.1 chaining: a list that starts 16 bytes before the end of its page
 * has room for two entries; with more pages to go, the second points at
 * the next list page. Then the degenerate case: a list with room for one
 * entry only, which must be the chain pointer.
 */
START_TEST(prp_chain)
{
	const uint32_t len = 512 * 1024;          /* MDTS */
	const uint32_t pages = (len - (T_PAGE - 512) + T_PAGE - 1) / T_PAGE;
	uint64_t *l1, *l2;
	struct tnv t;

	ck_assert_uint_eq(pages, 128);
	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	l1 = gp(&t, T_LIST + T_PAGE - 16, 16);
	l2 = gp(&t, T_LIST + 4 * T_PAGE, T_PAGE);
	l1[0] = scatter_page(1);
	l1[1] = T_LIST + 4 * T_PAGE;
	for (unsigned i = 1; i < pages; i++)
		l2[i - 1] = scatter_page(i + 1);
	fill_scattered(&t, T_FIRST, 512, pages, len, 7);
	ck_assert_uint_eq(t_rw(&t, true, 2048, len / 512, T_FIRST + 512,
			       T_LIST + T_PAGE - 16), 0);
	check_file(&t, 2048, len, 7);
	read_linear(&t, 2048, len, 7);

	/* One slot left in the first list page: it is the chain. */
	l1[1] = T_LIST + 6 * T_PAGE;
	l2 = gp(&t, T_LIST + 6 * T_PAGE, T_PAGE);
	for (unsigned i = 0; i < pages; i++)
		l2[i] = scatter_page(i + 1);
	fill_scattered(&t, T_FIRST, 512, pages, len, 8);
	ck_assert_uint_eq(t_rw(&t, true, 4096, len / 512, T_FIRST + 512,
			       T_LIST + T_PAGE - 8), 0);
	check_file(&t, 4096, len, 8);
	read_linear(&t, 4096, len, 8);
	t_close(&t);
}
END_TEST

START_TEST(limits)
{
	struct tnv t;
	uint64_t *list;

	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	list = gp(&t, T_LIST, T_PAGE);
	for (unsigned i = 0; i < 512; i++)
		list[i] = T_BUF2 + (uint64_t)(i + 1) * T_PAGE;
	/* MDTS: 1024 blocks go, 1025 do not. */
	ck_assert_uint_eq(t_rw(&t, false, 0, 1024, T_BUF2, T_LIST), 0);
	ck_assert_uint_eq(t_rw(&t, false, 0, 1025, T_BUF2, T_LIST),
			  ST(NVME_SC_INVALID_FIELD));
	/* LBA range: the last block, then one past, then a wrap. */
	ck_assert_uint_eq(t_rw(&t, false, T_BLOCKS - 1, 1, T_BUF2, 0), 0);
	ck_assert_uint_eq(t_rw(&t, false, T_BLOCKS - 1, 2, T_BUF2, T_BUF2 + T_PAGE),
			  ST(NVME_SC_LBA_RANGE));
	ck_assert_uint_eq(t_rw(&t, true, T_BLOCKS, 1, T_BUF2, 0),
			  ST(NVME_SC_LBA_RANGE));
	ck_assert_uint_eq(t_rw(&t, false, UINT64_MAX, 1, T_BUF2, 0),
			  ST(NVME_SC_LBA_RANGE));
	ck_assert_uint_eq(t_rw(&t, false, UINT64_MAX - 3, 8, T_BUF2, 0),
			  ST(NVME_SC_LBA_RANGE));
	/* Namespace ids. */
	{
		struct nvme_sqe c = t_rw_sqe(false, 0, 1, T_BUF2, 0);

		c.nsid = 2;
		ck_assert_uint_eq(t_cmd(&t, &t.io, &c, NULL),
				  ST(NVME_SC_INVALID_NS));
		c.nsid = 0;
		ck_assert_uint_eq(t_cmd(&t, &t.io, &c, NULL),
				  ST(NVME_SC_INVALID_NS));
		c.nsid = 0xffffffff;
		ck_assert_uint_eq(t_cmd(&t, &t.io, &c, NULL),
				  ST(NVME_SC_INVALID_NS));
	}
	/* Admin opcodes on an I/O queue, unknown I/O opcodes. */
	{
		static const uint8_t ops[] = { 0x04, 0x05, 0x06, 0x09, 0x0c,
					       0x11, 0x80, 0xff };

		for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
			struct nvme_sqe c = t_sqe(ops[i]);

			c.nsid = 1;
			ck_assert_uint_eq(t_cmd(&t, &t.io, &c, NULL),
					  ST(NVME_SC_INVALID_OPCODE));
		}
	}
	t_close(&t);
}
END_TEST

START_TEST(flush_zeroes_fua)
{
	struct tnv t;
	struct nvme_sqe c;
	struct nvme_ctrl_stats s0, s1;

	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	s0 = t_stats(&t);
	c = t_sqe(NVME_CMD_FLUSH);
	c.nsid = 1;
	ck_assert_uint_eq(t_cmd(&t, &t.io, &c, NULL), 0);
	c.nsid = 0xffffffff;
	ck_assert_uint_eq(t_cmd(&t, &t.io, &c, NULL), 0);
	c.nsid = 3;
	ck_assert_uint_eq(t_cmd(&t, &t.io, &c, NULL), ST(NVME_SC_INVALID_NS));
	s1 = t_stats(&t);
	ck_assert_uint_eq(s1.flushes, s0.flushes + 2);

	/* Write Zeroes over a written range, one block short of its end. */
	round_trip(&t, 300, 16, T_BUF, T_BUF + T_PAGE, T_BUF2, T_BUF2 + T_PAGE, 9);
	c = t_sqe(NVME_CMD_WRITE_ZEROES);
	c.nsid = 1;
	c.cdw10 = 300;
	c.cdw12 = 14; /* 15 blocks */
	ck_assert_uint_eq(t_cmd(&t, &t.io, &c, NULL), 0);
	{
		uint8_t buf[16 * 512], zero[15 * 512] = { 0 };

		ck_assert_int_eq(pread(t.fd, buf, sizeof(buf), 300 * 512),
				 (ssize_t)sizeof(buf));
		ck_assert_mem_eq(buf, zero, sizeof(zero));
		for (uint32_t i = 15 * 512; i < 16 * 512; i++)
			ck_assert_uint_eq(buf[i], t_pat(i, 9));
	}
	c.cdw10 = T_BLOCKS - 1;
	c.cdw12 = 1;
	ck_assert_uint_eq(t_cmd(&t, &t.io, &c, NULL), ST(NVME_SC_LBA_RANGE));
	/* The whole namespace in one command (65536-block limit is NLB's). */
	c.cdw10 = 0;
	c.cdw12 = T_BLOCKS - 1;
	ck_assert_uint_eq(t_cmd(&t, &t.io, &c, NULL), 0);

	/* FUA and a disabled write cache make writes durable: they flush. */
	s0 = t_stats(&t);
	c = t_rw_sqe(true, 0, 1, T_BUF, 0);
	c.cdw12 |= 1u << 30;
	ck_assert_uint_eq(t_cmd(&t, &t.io, &c, NULL), 0);
	c = t_sqe(NVME_ADM_SET_FEAT);
	c.cdw10 = 0x06;
	c.cdw11 = 0;
	ck_assert_uint_eq(t_cmd(&t, &t.admin, &c, NULL), 0);
	ck_assert_uint_eq(t_rw(&t, true, 1, 1, T_BUF, 0), 0);
	s1 = t_stats(&t);
	ck_assert_uint_ge(s1.flushes, s0.flushes + 2);
	t_close(&t);
}
END_TEST

START_TEST(readonly)
{
	struct tnv t;
	struct nvme_sqe c;
	uint8_t *id;

	t_open(&t, true);
	/* Something to read. */
	{
		uint8_t blk[512];

		for (uint32_t i = 0; i < 512; i++)
			blk[i] = t_pat(i, 10);
		ck_assert_int_eq(pwrite(t.fd, blk, 512, 5 * 512), 512);
	}
	t_up(&t, 16, 16, false, 0);
	id = gp(&t, T_ID, 4096);
	ck_assert_uint_eq(t_identify(&t, 0, 1, T_ID, 0), 0);
	ck_assert_uint_eq(id[99] & 1, 1); /* NSATTR: write protected */
	ck_assert_uint_eq(t_rw(&t, false, 5, 1, T_BUF2, 0), 0);
	check_guest(&t, T_BUF2, 512, 10);
	ck_assert_uint_eq(t_rw(&t, true, 5, 1, T_BUF, 0),
			  ST(NVME_SC_NS_WRITE_PROTECTED));
	c = t_sqe(NVME_CMD_WRITE_ZEROES);
	c.nsid = 1;
	ck_assert_uint_eq(t_cmd(&t, &t.io, &c, NULL),
			  ST(NVME_SC_NS_WRITE_PROTECTED));
	c = t_sqe(NVME_CMD_FLUSH);
	c.nsid = 1;
	ck_assert_uint_eq(t_cmd(&t, &t.io, &c, NULL), 0);
	t_close(&t);
}
END_TEST

/*
 * The phase tag (§4.6) over several laps of a small CQ, with a bigger SQ,
 * one command at a time, every CQE's SQ head, SQ id and CID checked (by
 * t_cmd), and every block's data.
 */
START_TEST(phase_laps)
{
	struct tnv t;
	unsigned flips = 0;
	uint8_t phase;

	t_open(&t, false);
	t_up(&t, 5, 3, false, 0);
	phase = t.io.phase;
	for (unsigned i = 0; i < 23; i++) {
		fill(&t, T_BUF, 512, 100 + i);
		ck_assert_uint_eq(t_rw(&t, true, i, 1, T_BUF, 0), 0);
		if (t.io.phase != phase) {
			flips++;
			phase = t.io.phase;
		}
	}
	ck_assert_uint_eq(flips, 23 / 3);
	for (unsigned i = 0; i < 23; i++) {
		ck_assert_uint_eq(t_rw(&t, false, i, 1, T_BUF2, 0), 0);
		check_guest(&t, T_BUF2, 512, 100 + i);
	}
	t_close(&t);
}
END_TEST

/* Several commands behind one doorbell, completions in order. */
START_TEST(batch)
{
	struct tnv t;
	struct tcqe e;
	uint16_t cid[6];

	t_open(&t, false);
	t_up(&t, 8, 8, false, 0);
	for (unsigned i = 0; i < 6; i++) {
		struct nvme_sqe c = t_rw_sqe(false, i, 1, T_BUF + i * T_PAGE, 0);

		cid[i] = t_put(&t, &t.io, &c);
	}
	t_ring(&t, &t.io);
	for (unsigned i = 0; i < 6; i++) {
		ck_assert(t_pop(&t, &t.io, &e, false));
		ck_assert_uint_eq(e.cid, cid[i]);
		ck_assert_uint_eq(e.sqhd, i + 1);
		ck_assert_uint_eq(e.status, 0);
	}
	ck_assert(!t_peek(&t, &t.io, &e));
	wr32(&t, t_db_cq(1), t.io.head);
	t_close(&t);
}
END_TEST

/*
 * CQ full (§3.3.1.x): a 4-entry CQ holds 3 completions. Ten commands on
 * a 16-entry SQ: three complete, the rest wait in the SQ (their SQ head
 * stays put) until the host moves the CQ head; nothing is overwritten.
 */
START_TEST(cq_full)
{
	struct tnv t;
	struct tcqe e;
	uint16_t cid[10];
	unsigned got = 0;
	const uint32_t *cq;

	t_open(&t, false);
	t_up(&t, 16, 4, false, 0);
	for (unsigned i = 0; i < 10; i++) {
		struct nvme_sqe c = t_rw_sqe(false, i, 1, T_BUF, 0);

		cid[i] = t_put(&t, &t.io, &c);
	}
	t_ring(&t, &t.io);
	cq = gp(&t, T_IOCQ, 64);
	/* Slot 3 untouched: the CQ is full at 3 entries. */
	ck_assert_uint_eq(cq[3 * 4 + 3], 0);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert(t_pop(&t, &t.io, &e, false));
		ck_assert_uint_eq(e.cid, cid[got++]);
		ck_assert_uint_eq(e.sqhd, got);
	}
	ck_assert(!t_peek(&t, &t.io, &e));
	/* The SQ tail doorbell again changes nothing while the CQ is full. */
	t_ring(&t, &t.io);
	ck_assert(!t_peek(&t, &t.io, &e));
	/* Release one entry: exactly one more command runs. */
	wr32(&t, t_db_cq(1), 1);
	ck_assert(t_pop(&t, &t.io, &e, false));
	ck_assert_uint_eq(e.cid, cid[got++]);
	ck_assert(!t_peek(&t, &t.io, &e));
	/* Release all: the rest, three at a time. */
	while (got < 10) {
		wr32(&t, t_db_cq(1), t.io.head);
		while (t_pop(&t, &t.io, &e, false)) {
			ck_assert_uint_eq(e.cid, cid[got++]);
			ck_assert_uint_eq(e.sqhd, got);
		}
	}
	wr32(&t, t_db_cq(1), t.io.head);
	ck_assert(!t_peek(&t, &t.io, &e));
	ck_assert_uint_eq(rd32(&t, NVME_REG_CSTS), NVME_CSTS_RDY);
	t_close(&t);
}
END_TEST

/* Two SQs on one CQ, and an SQ on each of two CQs. */
START_TEST(many_queues)
{
	struct tnv t;
	struct tq q2, q3;
	struct tcqe e;

	t_open(&t, false);
	t_up(&t, 8, 16, false, 0);
	ck_assert_uint_eq(t_create_sq(&t, 2, 8, T_IOSQ + 0x1000, 1), 0);
	ck_assert_uint_eq(t_create_cq(&t, 3, 8, T_IOCQ + 0x1000, false, 0), 0);
	ck_assert_uint_eq(t_create_sq(&t, 3, 8, T_IOSQ + 0x2000, 3), 0);
	t_queue(&q2, 2, 8, T_IOSQ + 0x1000, T_IOCQ);
	t_queue(&q3, 3, 8, T_IOSQ + 0x2000, T_IOCQ + 0x1000);
	memset(gp(&t, T_IOCQ + 0x1000, 128), 0, 128);
	round_trip(&t, 50, 1, T_BUF, 0, T_BUF2, 0, 11);
	{
		struct nvme_sqe c = t_rw_sqe(false, 50, 1, T_BUF2, 0);

		t_put(&t, &q2, &c);
		t_ring(&t, &q2);
		/* SQ 2 completes on CQ 1. */
		ck_assert(t_pop(&t, &t.io, &e, true));
		ck_assert_uint_eq(e.sqid, 2);
		ck_assert_uint_eq(e.sqhd, 1);
		c = t_rw_sqe(false, 50, 1, T_BUF2, 0);
		ck_assert_uint_eq(t_cmd(&t, &q3, &c, NULL), 0);
	}
	check_guest(&t, T_BUF2, 512, 11);
	t_close(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nvme-io");
	TCase *tc = tcase_create("io");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, prp1_only);
	tcase_add_test(tc, prp1_prp2);
	tcase_add_test(tc, prp_list);
	tcase_add_test(tc, prp_chain);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, flush_zeroes_fua);
	tcase_add_test(tc, readonly);
	tcase_add_test(tc, phase_laps);
	tcase_add_test(tc, batch);
	tcase_add_test(tc, cq_full);
	tcase_add_test(tc, many_queues);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
