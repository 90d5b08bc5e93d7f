// SPDX-License-Identifier: MIT
/*
 * A hostile guest against the emulated NVMe controller (issue 12): bad PRP
 * lists, doorbells past a queue or of queues that do not exist, queue-id
 * reuse, queues and buffers outside RAM, garbage commands, odd register
 * accesses. Each case ends in the status the spec gives it, or in
 * CSTS.CFS where the spec leaves the behaviour undefined, and the
 * controller always comes back with a reset.
 */
#include "nvme_test_util.h"

static bool fatal(struct tnv *t)
{
	return rd32(t, NVME_REG_CSTS) & NVME_CSTS_CFS;
}

/* After CFS: a reset clears it and the controller works again. */
static void recover(struct tnv *t)
{
	t_disable(t);
	ck_assert_uint_eq(rd32(t, NVME_REG_CSTS), 0);
	t_up(t, 16, 16, false, 0);
	ck_assert_uint_eq(t_rw(t, false, 0, 8, T_BUF, 0), 0);
	ck_assert(!fatal(t));
}

START_TEST(sq_doorbell_past_queue)
{
	struct tnv t;
	struct tcqe e;

	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	/* No AER outstanding: undefined by the spec, fatal here. */
	wr32(&t, t_db_sq(1), 16);
	ck_assert(fatal(&t));
	ck_assert_uint_eq(rd32(&t, NVME_REG_CSTS) & NVME_CSTS_RDY, NVME_CSTS_RDY);
	/* A failed controller ignores the doorbells. */
	{
		struct nvme_sqe c = t_rw_sqe(false, 0, 1, T_BUF, 0);

		t_put(&t, &t.io, &c);
		t_ring(&t, &t.io);
		ck_assert(!t_peek(&t, &t.io, &e));
	}
	recover(&t);
	/* Reserved upper bits are ignored, 0xffff is still past the queue. */
	wr32(&t, t_db_sq(1), 0x10000u | t.io.tail);
	ck_assert(!fatal(&t));
	wr32(&t, t_db_sq(1), 0xffff);
	ck_assert(fatal(&t));
	recover(&t);
	/* The admin SQ too. */
	wr32(&t, t_db_sq(0), 32);
	ck_assert(fatal(&t));
	recover(&t);
	t_close(&t);
}
END_TEST

START_TEST(cq_doorbell_bad)
{
	struct tnv t;

	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	/* Past the queue. */
	wr32(&t, t_db_cq(1), 16);
	ck_assert(fatal(&t));
	recover(&t);
	/* Consuming entries that were never posted (recover() left one). */
	wr32(&t, t_db_cq(1), t.io.head + 1u);
	ck_assert(fatal(&t));
	recover(&t);
	/* Moving the head back over consumed entries is the same thing. */
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_BUF, 0), 0);
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_BUF, 0), 0);
	wr32(&t, t_db_cq(1), 0);
	ck_assert(fatal(&t));
	recover(&t);
	/* Writing the same head again is harmless. */
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_BUF, 0), 0);
	wr32(&t, t_db_cq(1), t.io.head);
	ck_assert(!fatal(&t));
	t_close(&t);
}
END_TEST

START_TEST(doorbell_no_queue)
{
	static const uint32_t offs[] = {
		0x1000 + 8 * 2,       /* SQ 2 tail: never created */
		0x1000 + 8 * 7 + 4,   /* CQ 7 head */
		0x1000 + 8 * 64,      /* SQ 64 */
		0x1000 + 8 * 65,      /* past the last queue */
		0x1ffc,               /* the last doorbell slot of the window */
	};
	struct tnv t;

	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	for (size_t i = 0; i < ARRAY_SIZE(offs); i++) {
		wr32(&t, offs[i], 0);
		ck_assert_msg(fatal(&t), "doorbell 0x%x", offs[i]);
		recover(&t);
	}
	/* A deleted queue's doorbell. */
	ck_assert_uint_eq(t_delete(&t, NVME_ADM_DELETE_SQ, 1), 0);
	wr32(&t, t_db_sq(1), 1);
	ck_assert(fatal(&t));
	recover(&t);
	/* Narrow or misaligned doorbell writes are dropped. */
	wrn(&t, t_db_sq(1), 0xffff, 2);
	wrn(&t, t_db_sq(1) + 1, 0xff, 1);
	wrn(&t, t_db_sq(1) + 2, 0xffffffff, 4);
	ck_assert(!fatal(&t));
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_BUF, 0), 0);
	/* A qword write rings two doorbells (SQ 1 tail + CQ 1 head). */
	{
		struct nvme_sqe c = t_rw_sqe(false, 0, 1, T_BUF, 0);
		struct tcqe e;

		t_put(&t, &t.io, &c);
		wrn(&t, t_db_sq(1), (uint64_t)t.io.head << 32 | t.io.tail, 8);
		ck_assert(t_pop(&t, &t.io, &e, true));
		ck_assert_uint_eq(e.status, 0);
	}
	ck_assert(!fatal(&t));
	t_close(&t);
}
END_TEST

/*
 * With an Asynchronous Event Request outstanding the same errors are
 * reported through it (§5.2: error status, Invalid Doorbell Register 0h,
 * Invalid Doorbell Write Value 1h, log page 01h), and the controller
 * keeps working. A second error before the host read the error log is
 * masked: fatal. Reading the log (RAE = 0) unmasks.
 */
START_TEST(doorbell_aer)
{
	struct tnv t;
	struct nvme_sqe c;
	struct tcqe e;
	uint16_t cid;

	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	c = t_sqe(NVME_ADM_AER);
	cid = t_put(&t, &t.admin, &c);
	c = t_sqe(NVME_ADM_AER);
	t_put(&t, &t.admin, &c);
	t_ring(&t, &t.admin);
	ck_assert(!t_peek(&t, &t.admin, &e));

	wr32(&t, t_db_sq(1), 99);
	ck_assert(!fatal(&t));
	ck_assert(t_pop(&t, &t.admin, &e, true));
	ck_assert_uint_eq(e.cid, cid);
	ck_assert_uint_eq(e.status, 0);
	ck_assert_uint_eq(e.dw0, 0x01u << 16 | 0x01u << 8 | 0);
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_BUF, 0), 0);

	/* Masked until the error log is read: the next one is fatal. */
	wr32(&t, t_db_sq(9), 1);
	ck_assert(fatal(&t));
	recover(&t);

	/* Again, and this time the host reads the log in between. */
	c = t_sqe(NVME_ADM_AER);
	t_put(&t, &t.admin, &c);
	c = t_sqe(NVME_ADM_AER);
	t_put(&t, &t.admin, &c);
	t_ring(&t, &t.admin);
	wr32(&t, t_db_cq(5), 0);
	ck_assert(t_pop(&t, &t.admin, &e, true));
	ck_assert_uint_eq(e.dw0, 0x01u << 16 | 0x00u << 8 | 0);
	c = t_sqe(NVME_ADM_GET_LOG);
	c.cdw10 = NVME_LOG_ERROR | 15u << 16;
	c.prp1 = T_ID;
	ck_assert_uint_eq(t_cmd(&t, &t.admin, &c, NULL), 0);
	wr32(&t, t_db_cq(1), 7);
	ck_assert(!fatal(&t));
	ck_assert(t_pop(&t, &t.admin, &e, true));
	ck_assert_uint_eq(e.dw0, 0x01u << 16 | 0x01u << 8 | 0);
	/* No AER left: fatal. */
	wr32(&t, t_db_cq(1), 7);
	ck_assert(fatal(&t));
	t_close(&t);
}
END_TEST

/* An AER event that finds the admin CQ full waits for a free slot. */
START_TEST(aer_cq_full)
{
	struct tnv t;
	struct nvme_sqe c;
	struct tcqe e;
	uint16_t aer;

	t_open(&t, false);
	ck_assert_uint_eq(t_enable(&t, 4), NVME_CSTS_RDY);
	/* A 4-entry SQ holds 3 commands: AER + 2 Identify, then 1 more. */
	c = t_sqe(NVME_ADM_AER);
	aer = t_put(&t, &t.admin, &c);
	for (int i = 0; i < 3; i++) {
		c = t_sqe(NVME_ADM_IDENTIFY);
		c.cdw10 = 1;
		c.prp1 = T_ID;
		t_put(&t, &t.admin, &c);
		if (i != 0)
			t_ring(&t, &t.admin);
	}
	/* Three completions fill the 4-entry CQ; now a bad doorbell. */
	wr32(&t, t_db_sq(3), 1);
	ck_assert(!fatal(&t));
	for (int i = 0; i < 3; i++) {
		ck_assert(t_pop(&t, &t.admin, &e, false));
		ck_assert_uint_ne(e.cid, aer);
	}
	ck_assert(!t_peek(&t, &t.admin, &e));
	wr32(&t, t_db_cq(0), t.admin.head);
	ck_assert(t_pop(&t, &t.admin, &e, true));
	ck_assert_uint_eq(e.cid, aer);
	ck_assert_uint_eq(e.dw0, 0x01u << 16);
	ck_assert(!fatal(&t));
	t_close(&t);
}
END_TEST

/* Bad PRPs complete with the spec's status; nothing outside RAM is hit. */
START_TEST(bad_prps)
{
	struct tnv t;
	uint64_t *list;

	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	list = gp(&t, T_LIST, T_PAGE);
	/* PRP1 outside RAM, or straddling RAM's end. */
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_OUTSIDE, 0),
			  ST(NVME_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(t_rw(&t, true, 0, 1, T_OUTSIDE, 0),
			  ST(NVME_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_RAM - 256, T_RAM),
			  ST(NVME_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(t_rw(&t, false, 0, 16, T_RAM - T_PAGE, T_RAM),
			  ST(NVME_SC_DATA_XFER_ERROR));
	/* PRP1 not dword aligned. */
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_BUF + 2, 0),
			  ST(NVME_SC_PRP_OFFSET));
	/* PRP2 as the second page must have offset 0. */
	ck_assert_uint_eq(t_rw(&t, false, 0, 16, T_BUF, T_BUF + T_PAGE + 512),
			  ST(NVME_SC_PRP_OFFSET));
	/* PRP2 as a list pointer: qword aligned, in RAM. */
	ck_assert_uint_eq(t_rw(&t, false, 0, 24, T_BUF, T_LIST + 4),
			  ST(NVME_SC_PRP_OFFSET));
	ck_assert_uint_eq(t_rw(&t, false, 0, 24, T_BUF, T_OUTSIDE),
			  ST(NVME_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(t_rw(&t, false, 0, 24, T_BUF, T_RAM),
			  ST(NVME_SC_DATA_XFER_ERROR));
	/* List entries: offset 0, in RAM. */
	list[0] = T_BUF + T_PAGE;
	list[1] = T_BUF + 2 * T_PAGE + 8;
	ck_assert_uint_eq(t_rw(&t, false, 0, 24, T_BUF, T_LIST),
			  ST(NVME_SC_PRP_OFFSET));
	list[1] = T_OUTSIDE;
	ck_assert_uint_eq(t_rw(&t, false, 0, 24, T_BUF, T_LIST),
			  ST(NVME_SC_DATA_XFER_ERROR));
	list[1] = T_BUF + 2 * T_PAGE;
	ck_assert_uint_eq(t_rw(&t, false, 0, 24, T_BUF, T_LIST), 0);
	/* A chain pointer with an offset, or outside RAM. */
	{
		uint64_t *l = gp(&t, T_LIST + T_PAGE - 8, 8);

		*l = T_LIST + 8;
		ck_assert_uint_eq(t_rw(&t, false, 0, 24, T_BUF, T_LIST + T_PAGE - 8),
				  ST(NVME_SC_PRP_OFFSET));
		*l = T_OUTSIDE;
		ck_assert_uint_eq(t_rw(&t, false, 0, 24, T_BUF, T_LIST + T_PAGE - 8),
				  ST(NVME_SC_DATA_XFER_ERROR));
		/* A chain to itself terminates: the next page has room. */
		*l = T_LIST;
		ck_assert_uint_eq(t_rw(&t, false, 0, 24, T_BUF, T_LIST + T_PAGE - 8),
				  0);
	}
	/* Identify into nowhere, then a good one (the kit's dma-fault test). */
	ck_assert_uint_eq(t_identify(&t, 1, 0, T_OUTSIDE, 0),
			  ST(NVME_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(t_identify(&t, 1, 0, T_ID + 8, T_OUTSIDE),
			  ST(NVME_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(t_identify(&t, 1, 0, T_ID, 0), 0);
	ck_assert(!fatal(&t));
	ck_assert_uint_eq(t_stats(&t).errors, 15);
	t_close(&t);
}
END_TEST

/* Queue-id reuse and queues outside RAM: error statuses, not fatal. */
START_TEST(queue_abuse)
{
	struct tnv t;

	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	ck_assert_uint_eq(t_create_cq(&t, 1, 16, T_IOCQ, false, 0),
			  ST(NVME_SC_QID_INVALID));
	ck_assert_uint_eq(t_create_sq(&t, 1, 16, T_IOSQ, 1),
			  ST(NVME_SC_QID_INVALID));
	/* The queue that exists is untouched by the failed re-creation. */
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_BUF, 0), 0);
	/* Queues running off the end of RAM. */
	ck_assert_uint_eq(t_create_cq(&t, 2, 4096, T_RAM - 0x8000, false, 0),
			  ST(NVME_SC_INVALID_FIELD));
	ck_assert_uint_eq(t_create_sq(&t, 2, 4096, T_RAM - 0x8000, 1),
			  ST(NVME_SC_INVALID_FIELD));
	/* A queue overlapping the admin queues is the guest's business. */
	ck_assert_uint_eq(t_create_cq(&t, 2, 16, T_ACQ, false, 0), 0);
	ck_assert(!fatal(&t));
	t_close(&t);
}
END_TEST

/* Random bytes as commands on both queues: every one completes. */
START_TEST(garbage_commands)
{
	struct tnv t;
	struct tcqe e;
	uint64_t x = 0x243f6a8885a308d3ULL;

	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	for (unsigned n = 0; n < 2000; n++) {
		struct tq *q = n & 1 ? &t.io : &t.admin;
		struct nvme_sqe c;
		uint64_t *w = (uint64_t *)&c;

		for (unsigned i = 0; i < 8; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			w[i] = x;
		}
		if (x & 1) {
			c.prp1 = T_BUF + (c.prp1 & 0x3ffffc);
			c.prp2 = T_BUF + (c.prp2 & 0x3ff000);
		}
		if (x & 2)
			c.opcode &= 0x0f;
		if (x & 4)
			c.flags = 0;
		/* Sometimes a plausible I/O: namespace 1, small, in range. */
		if (x & 8) {
			c.nsid = 1;
			c.cdw10 &= 0x1fff;
			c.cdw11 = 0;
			c.cdw12 &= 0x3f;
		}
		/* Keep the queues alive; an AER would not complete. */
		if (q == &t.admin && (c.opcode == NVME_ADM_DELETE_SQ ||
				      c.opcode == NVME_ADM_DELETE_CQ ||
				      c.opcode == NVME_ADM_AER ||
				      c.opcode == NVME_ADM_CREATE_CQ ||
				      c.opcode == NVME_ADM_CREATE_SQ))
			c.opcode = NVME_ADM_IDENTIFY;
		t_put(&t, q, &c);
		t_ring(&t, q);
		ck_assert_msg(t_pop(&t, q, &e, true), "command %u (0x%x)", n,
			      c.opcode);
		ck_assert(!fatal(&t));
	}
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_BUF, 0), 0);
	t_close(&t);
}
END_TEST

/* Every register offset at every width, reads and writes: no crash. */
START_TEST(register_sweep)
{
	static const uint32_t lens[] = { 1, 2, 4, 8 };
	struct tnv t;

	t_open(&t, false);
	t_up(&t, 16, 16, false, 0);
	for (uint32_t off = 0; off < 0x4000; off++) {
		for (size_t l = 0; l < ARRAY_SIZE(lens); l++) {
			uint64_t v = 0;

			if (off + lens[l] > 0x4000)
				continue;
			bus_access(t.bus, BUS_MMIO, t.bar0 + off, &v, lens[l],
				   false);
		}
	}
	/* Writes of junk to the registers (not the doorbells). */
	for (uint32_t off = 0; off < 0x1000; off += 4) {
		if (off == NVME_REG_CC)
			continue;
		wr32(&t, off, 0xffffffff);
	}
	ck_assert(!fatal(&t));
	ck_assert_uint_eq(t_rw(&t, false, 0, 1, T_BUF, 0), 0);
	/* CC junk while enabled: EN stays, nothing explodes. */
	wr32(&t, NVME_REG_CC, 0xffffffff);
	ck_assert_uint_eq(rd32(&t, NVME_REG_CC), NVME_CC_WMASK);
	t_close(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nvme-hostile");
	TCase *tc = tcase_create("hostile");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sq_doorbell_past_queue);
	tcase_add_test(tc, cq_doorbell_bad);
	tcase_add_test(tc, doorbell_no_queue);
	tcase_add_test(tc, doorbell_aer);
	tcase_add_test(tc, aer_cq_full);
	tcase_add_test(tc, bad_prps);
	tcase_add_test(tc, queue_abuse);
	tcase_add_test(tc, garbage_commands);
	tcase_add_test(tc, register_sweep);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
