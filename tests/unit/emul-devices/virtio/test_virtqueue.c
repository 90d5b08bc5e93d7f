// SPDX-License-Identifier: MIT
/*
 * Virtqueue walking (split and packed) against a driver built in a real
 * gmem: chains, indirect tables, index wrap at 65535, unpop, notification
 * suppression in both directions, every malformed-ring rule, and
 * randomised hostile rings (every iovec must stay inside RAM).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/gmem.h"
#include "core/layout.h"
#include "core/util.h"
#include "emul-devices/virtio/virtqueue.h"
#include "vq_driver.h"

#define RAM_SIZE   (16 * MiB)
#define DESC_GPA   0x10000ULL
#define AVAIL_GPA  0x30000ULL
#define USED_GPA   0x40000ULL
#define IND_GPA    0x100000ULL
#define DATA_GPA   0x800000ULL

static struct gmem *mem;
static struct virtq vq;
static struct drv_vq drv;
static struct virtq_elem elem;

static void setup(void)
{
	struct gmem_opts o = { .size = RAM_SIZE, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };

	ck_assert_int_eq(gmem_create(&o, &mem), 0);
	memset(&vq, 0, sizeof(vq));
}

static void teardown(void)
{
	drv_vq_free(&drv);
	gmem_destroy(mem);
}

static struct virtq_config qcfg(uint16_t size, bool packed, bool event_idx,
				bool indirect)
{
	return (struct virtq_config){
		.size = size, .packed = packed, .event_idx = event_idx,
		.indirect = indirect, .desc_gpa = DESC_GPA,
		.avail_gpa = AVAIL_GPA, .used_gpa = USED_GPA,
	};
}

/* Driver and device on the same fresh queue. */
static void both_init(uint16_t size, bool packed, bool event_idx, bool indirect)
{
	struct virtq_config c = qcfg(size, packed, event_idx, indirect);

	drv_vq_free(&drv);
	ck_assert_int_eq(drv_vq_init(&drv, mem, &c, IND_GPA), 0);
	ck_assert_int_eq(virtq_init(&vq, mem, &c), 0);
}

static uint16_t add1(uint64_t out_gpa, uint32_t out_len, uint64_t in_gpa,
		     uint32_t in_len, bool indirect)
{
	struct drv_seg s[2] = {
		{ out_gpa, out_len, false }, { in_gpa, in_len, true },
	};
	uint16_t id;

	ck_assert_int_eq(drv_add(&drv, s, 2, indirect, &id), 0);
	return id;
}

static void check_iov(unsigned i, uint64_t gpa, uint32_t len)
{
	ck_assert_ptr_eq(elem.iov[i].iov_base, gmem_ptr(mem, gpa, len));
	ck_assert_uint_eq(elem.iov[i].iov_len, len);
}

/* ---- ring walking ---- */

static void basic_roundtrip(bool packed, bool indirect)
{
	uint16_t id, uid;
	uint32_t ulen;

	both_init(16, packed, false, indirect);
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EAGAIN);
	ck_assert(!virtq_has_avail(&vq));
	id = add1(DATA_GPA, 100, DATA_GPA + 4096, 200, indirect);
	ck_assert(virtq_has_avail(&vq));
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	ck_assert_uint_eq(elem.id, id);
	ck_assert_uint_eq(elem.ndescs, 1 + (packed && !indirect));
	ck_assert_uint_eq(elem.nr_out, 1);
	ck_assert_uint_eq(elem.nr_in, 1);
	ck_assert_uint_eq(elem.out_len, 100);
	ck_assert_uint_eq(elem.in_len, 200);
	check_iov(0, DATA_GPA, 100);
	check_iov(1, DATA_GPA + 4096, 200);
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EAGAIN);
	ck_assert_int_eq(drv_get_used(&drv, &uid, &ulen), -EAGAIN);
	ck_assert_int_eq(virtq_push(&vq, &elem, 201), -EINVAL);
	ck_assert_int_eq(virtq_push(&vq, &elem, 150), 0);
	ck_assert_int_eq(drv_get_used(&drv, &uid, &ulen), 0);
	ck_assert_uint_eq(uid, id);
	ck_assert_uint_eq(ulen, 150);
	ck_assert_int_eq(drv_get_used(&drv, &uid, &ulen), -EAGAIN);
}

START_TEST(split_basic)
{
	basic_roundtrip(false, false);
}
END_TEST

START_TEST(split_indirect)
{
	basic_roundtrip(false, true);
}
END_TEST

START_TEST(packed_basic)
{
	basic_roundtrip(true, false);
}
END_TEST

START_TEST(packed_indirect)
{
	basic_roundtrip(true, true);
}
END_TEST

/* Many buffers through a small ring: index wrap at 65535, ring wrap. */
static void long_run(bool packed, bool indirect, unsigned iters)
{
	uint16_t ids[4], uid;
	uint32_t ulen;

	both_init(8, packed, false, indirect);
	for (unsigned it = 0; it < iters; it++) {
		unsigned nb = 1 + it % 4;

		for (unsigned b = 0; b < nb; b++)
			ids[b] = add1(DATA_GPA + b * 64, 16 + b,
				      DATA_GPA + 4096 + b * 64, 32 + (it & 7),
				      indirect);
		for (unsigned b = 0; b < nb; b++) {
			ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
			ck_assert_uint_eq(elem.id, ids[b]);
			ck_assert_uint_eq(elem.out_len, 16 + b);
			ck_assert_int_eq(virtq_push(&vq, &elem, it & 7), 0);
		}
		ck_assert_int_eq(virtq_pop(&vq, &elem), -EAGAIN);
		for (unsigned b = 0; b < nb; b++) {
			ck_assert_int_eq(drv_get_used(&drv, &uid, &ulen), 0);
			ck_assert_uint_eq(uid, ids[b]);
			ck_assert_uint_eq(ulen, it & 7);
		}
	}
	if (!packed) {
		/* The 16-bit indices really wrapped. */
		ck_assert_uint_lt(vq.last_avail, 65535);
		ck_assert_uint_eq(vq.last_avail, drv.avail_idx);
		ck_assert_uint_eq(drv.used->idx, drv.avail_idx);
	}
}

START_TEST(split_wrap_65535)
{
	long_run(false, false, 30000); /* 75000 buffers */
}
END_TEST

START_TEST(split_wrap_indirect)
{
	long_run(false, true, 3000);
}
END_TEST

START_TEST(packed_wrap)
{
	long_run(true, false, 30000);
}
END_TEST

START_TEST(packed_wrap_indirect)
{
	long_run(true, true, 3000);
}
END_TEST

/* A packed chain that runs off the end of the ring continues at slot 0. */
START_TEST(packed_chain_across_end)
{
	struct drv_seg s[3] = {
		{ DATA_GPA, 10, false }, { DATA_GPA + 100, 20, false },
		{ DATA_GPA + 200, 30, true },
	};
	uint16_t id, uid;
	uint32_t ulen;

	both_init(5, true, false, false); /* packed: any size */
	for (int round = 0; round < 7; round++) {
		ck_assert_int_eq(drv_add(&drv, s, 3, false, &id), 0);
		ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
		ck_assert_uint_eq(elem.id, id);
		ck_assert_uint_eq(elem.ndescs, 3);
		ck_assert_uint_eq(elem.nr_out, 2);
		ck_assert_uint_eq(elem.nr_in, 1);
		ck_assert_uint_eq(elem.in_len, 30);
		ck_assert_int_eq(virtq_push(&vq, &elem, 30), 0);
		ck_assert_int_eq(drv_get_used(&drv, &uid, &ulen), 0);
		ck_assert_uint_eq(uid, id);
	}
}
END_TEST

/* Zero-length segments count as descriptors but produce no iovec. */
START_TEST(zero_length_segment)
{
	struct drv_seg s[3] = {
		{ DATA_GPA, 10, false }, { 0, 0, false },
		{ DATA_GPA + 200, 30, true },
	};
	uint16_t id;

	both_init(8, false, false, false);
	ck_assert_int_eq(drv_add(&drv, s, 3, false, &id), 0);
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	ck_assert_uint_eq(elem.nr_out, 1);
	ck_assert_uint_eq(elem.nr_in, 1);
	check_iov(1, DATA_GPA + 200, 30);
}
END_TEST

/* ---- unpop ---- */

static void unpop_case(bool packed)
{
	uint16_t a, b;

	both_init(4, packed, false, false);
	for (int round = 0; round < 5; round++) { /* crosses the ring end */
		a = add1(DATA_GPA, 8, DATA_GPA + 64, 8, false);
		b = add1(DATA_GPA + 128, 8, DATA_GPA + 192, 8, false);
		ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
		ck_assert_uint_eq(elem.id, a);
		struct virtq_elem *e2 = malloc(sizeof(*e2));

		ck_assert_ptr_nonnull(e2);
		ck_assert_int_eq(virtq_pop(&vq, e2), 0);
		ck_assert_uint_eq(e2->id, b);
		virtq_unpop(&vq, e2);
		virtq_unpop(&vq, &elem);
		ck_assert(virtq_has_avail(&vq));
		ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
		ck_assert_uint_eq(elem.id, a);
		ck_assert_int_eq(virtq_push(&vq, &elem, 0), 0);
		ck_assert_int_eq(virtq_pop(&vq, e2), 0);
		ck_assert_uint_eq(e2->id, b);
		ck_assert_int_eq(virtq_push(&vq, e2, 8), 0);
		ck_assert_int_eq(virtq_pop(&vq, e2), -EAGAIN);
		free(e2);
		uint16_t id;
		uint32_t len;

		ck_assert_int_eq(drv_get_used(&drv, &id, &len), 0);
		ck_assert_int_eq(drv_get_used(&drv, &id, &len), 0);
		ck_assert_uint_eq(len, 8);
	}
}

START_TEST(split_unpop)
{
	unpop_case(false);
}
END_TEST

START_TEST(packed_unpop)
{
	unpop_case(true);
}
END_TEST

/* ---- notification suppression ---- */

START_TEST(event_math)
{
	/* vring_need_event: event in [old, new). */
	ck_assert(virtq_need_event(5, 6, 5));
	ck_assert(!virtq_need_event(6, 6, 5));
	ck_assert(!virtq_need_event(4, 6, 5));
	ck_assert(virtq_need_event(65535, 0, 65535));
	ck_assert(virtq_need_event(65535, 2, 65534));
	ck_assert(virtq_need_event(0, 2, 65534));
	ck_assert(!virtq_need_event(2, 2, 65534));
	ck_assert(!virtq_need_event(65533, 2, 65534));
	ck_assert(!virtq_need_event(7, 7, 7));
}
END_TEST

/* Split without EVENT_IDX: NO_INTERRUPT / NO_NOTIFY flags. */
START_TEST(split_flags_suppression)
{
	both_init(8, false, false, false);
	ck_assert(!virtq_should_notify(&vq)); /* nothing pushed */
	add1(DATA_GPA, 8, DATA_GPA + 64, 8, false);
	ck_assert(drv_split_kick_needed(&drv));
	virtq_set_kicks(&vq, false);
	ck_assert_uint_eq(drv.used->flags, VIRTQ_USED_F_NO_NOTIFY);
	add1(DATA_GPA, 8, DATA_GPA + 64, 8, false);
	ck_assert(!drv_split_kick_needed(&drv));
	virtq_set_kicks(&vq, true);
	ck_assert_uint_eq(drv.used->flags, 0);

	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	ck_assert_int_eq(virtq_push(&vq, &elem, 0), 0);
	ck_assert(virtq_should_notify(&vq));
	ck_assert(!virtq_should_notify(&vq)); /* nothing new */
	drv_split_set_no_interrupt(&drv, true);
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	ck_assert_int_eq(virtq_push(&vq, &elem, 0), 0);
	ck_assert(!virtq_should_notify(&vq));
}
END_TEST

/*
 * Split EVENT_IDX, starting near 65535 so used_event/avail_event wrap:
 * the driver asks for an interrupt after used idx passes used_event.
 */
START_TEST(split_event_idx_wrap)
{
	uint16_t id;
	uint32_t len;

	both_init(8, false, true, false);
	/* Walk both sides to idx 65530. */
	for (unsigned i = 0; i < 65530; i++) {
		add1(DATA_GPA, 8, DATA_GPA + 64, 8, false);
		ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
		ck_assert_int_eq(virtq_push(&vq, &elem, 1), 0);
		ck_assert_int_eq(drv_get_used(&drv, &id, &len), 0);
	}
	virtq_should_notify(&vq);
	ck_assert_uint_eq(vq.used_idx, 65530);
	/* Interrupt when the used entry with index 65534 is written. */
	drv_split_set_used_event(&drv, 65534);
	for (unsigned i = 0; i < 8; i++) {
		uint16_t before = vq.used_idx;
		bool want;

		add1(DATA_GPA, 8, DATA_GPA + 64, 8, false);
		ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
		ck_assert_int_eq(virtq_push(&vq, &elem, 1), 0);
		want = before == 65534;
		ck_assert_msg(virtq_should_notify(&vq) == want,
			      "push of idx %u", before);
		ck_assert_int_eq(drv_get_used(&drv, &id, &len), 0);
	}
	ck_assert_uint_eq(vq.used_idx, 2); /* wrapped */
	/* A batch that jumps over used_event still interrupts once. */
	drv_split_set_used_event(&drv, 3);
	for (unsigned i = 0; i < 4; i++) {
		add1(DATA_GPA, 8, DATA_GPA + 64, 8, false);
		ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
		ck_assert_int_eq(virtq_push(&vq, &elem, 1), 0);
	}
	ck_assert(virtq_should_notify(&vq));
	ck_assert(!virtq_should_notify(&vq));
}
END_TEST

/*
 * Split EVENT_IDX, device side: popping until empty publishes
 * avail_event = last_avail, so the driver kicks exactly for the next
 * buffer; while the device is still draining, no kicks.
 */
START_TEST(split_avail_event)
{
	uint16_t *avail_event;

	both_init(8, false, true, false);
	avail_event = (uint16_t *)&drv.used->ring[8];
	ck_assert_uint_eq(*avail_event, 0);
	add1(DATA_GPA, 8, DATA_GPA + 64, 8, false);
	ck_assert(drv_split_kick_needed(&drv));
	add1(DATA_GPA, 8, DATA_GPA + 64, 8, false);
	ck_assert(!drv_split_kick_needed(&drv)); /* device not idle yet */
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	ck_assert_uint_eq(*avail_event, 0);
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EAGAIN);
	ck_assert_uint_eq(*avail_event, 2);
	add1(DATA_GPA, 8, DATA_GPA + 64, 8, false);
	ck_assert(drv_split_kick_needed(&drv));
	/* Kicks off: an empty ring does not republish. */
	virtq_set_kicks(&vq, false);
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EAGAIN);
	ck_assert_uint_eq(*avail_event, 2);
	add1(DATA_GPA, 8, DATA_GPA + 64, 8, false);
	ck_assert(!drv_split_kick_needed(&drv));
	/* Re-enabling publishes, and the caller's re-check finds the buffer. */
	virtq_set_kicks(&vq, true);
	ck_assert_uint_eq(*avail_event, 3);
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
}
END_TEST

/* Buffers published after the device cached avail->idx are still found. */
START_TEST(split_pop_rereads_idx)
{
	both_init(8, false, true, false);
	add1(DATA_GPA, 8, DATA_GPA + 64, 8, false);
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	/* The driver publishes idx 2 but the device still caches 1. */
	add1(DATA_GPA, 8, DATA_GPA + 64, 8, false);
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EAGAIN);
}
END_TEST

static uint16_t push_one(void)
{
	uint16_t id, uid;
	uint32_t len;

	id = add1(DATA_GPA, 8, DATA_GPA + 64, 8, false);
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	ck_assert_int_eq(virtq_push(&vq, &elem, 4), 0);
	ck_assert_int_eq(drv_get_used(&drv, &uid, &len), 0);
	ck_assert_uint_eq(uid, id);
	return id;
}

/* Packed driver event suppression: ENABLE, DISABLE, DESC with wrap. */
START_TEST(packed_driver_events)
{
	both_init(6, true, true, false); /* each buffer takes 2 slots */
	drv_packed_set_event(&drv, VIRTQ_EVENT_F_ENABLE, 0, false);
	push_one();
	ck_assert(virtq_should_notify(&vq));
	ck_assert(!virtq_should_notify(&vq));
	drv_packed_set_event(&drv, VIRTQ_EVENT_F_DISABLE, 0, false);
	push_one();
	ck_assert(!virtq_should_notify(&vq));
	/* next_used is slot 4, wrap 1. Ask for slot 0 of the next lap. */
	ck_assert_uint_eq(vq.next_used, 4);
	drv_packed_set_event(&drv, VIRTQ_EVENT_F_DESC, 0, false);
	push_one(); /* uses slots 4,5 -> next_used 0, wrap 0 */
	ck_assert(!virtq_should_notify(&vq));
	push_one(); /* uses 0,1: slot 0 with wrap 0 crossed */
	ck_assert(virtq_should_notify(&vq));
	push_one(); /* 2,3 */
	ck_assert(!virtq_should_notify(&vq));
	/* An event already behind us in this lap does not fire again. */
	drv_packed_set_event(&drv, VIRTQ_EVENT_F_DESC, 1, false);
	push_one(); /* 4,5 */
	ck_assert(!virtq_should_notify(&vq));
	/* An event on slot 3 of this lap, crossed inside a batch of two. */
	drv_packed_set_event(&drv, VIRTQ_EVENT_F_DESC, 3, true);
	push_one(); /* 0,1 (wrap 1) */
	push_one(); /* 2,3 */
	ck_assert(virtq_should_notify(&vq));
	/* Slot 5 of lap "wrap 1", crossed by a batch that wraps the ring. */
	drv_packed_set_event(&drv, VIRTQ_EVENT_F_DESC, 5, true);
	push_one(); /* 4,5 -> next_used 0, wrap 0 */
	push_one(); /* 0,1 */
	ck_assert_uint_eq(vq.used_wrap, false);
	ck_assert(virtq_should_notify(&vq));
}
END_TEST

/* Packed device event suppression written by set_kicks / empty pop. */
START_TEST(packed_device_events)
{
	both_init(8, true, false, false);
	ck_assert_uint_eq(drv.dev_evt->flags, VIRTQ_EVENT_F_ENABLE);
	virtq_set_kicks(&vq, false);
	ck_assert_uint_eq(drv.dev_evt->flags, VIRTQ_EVENT_F_DISABLE);
	virtq_set_kicks(&vq, true);
	ck_assert_uint_eq(drv.dev_evt->flags, VIRTQ_EVENT_F_ENABLE);

	both_init(8, true, true, false);
	ck_assert_uint_eq(drv.dev_evt->flags, VIRTQ_EVENT_F_DESC);
	ck_assert_uint_eq(drv.dev_evt->off_wrap, 0x8000);
	push_one();
	push_one();
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EAGAIN);
	ck_assert_uint_eq(drv.dev_evt->off_wrap, 0x8000 | 4);
	for (int i = 0; i < 2; i++)
		push_one();
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EAGAIN);
	ck_assert_uint_eq(drv.dev_evt->off_wrap, 0); /* slot 0, wrap 0 */
}
END_TEST

/* ---- malformed rings ---- */

static struct virtq_desc *sdesc(unsigned i)
{
	return &drv.desc[i];
}

/* Publish head as the next avail entry, as a hostile driver would. */
static void publish_head(uint16_t head)
{
	drv.avail->ring[drv.avail_idx & (drv.cfg.size - 1)] = head;
	drv.avail_idx++;
	drv.avail->idx = drv.avail_idx;
}

static void expect_einval(void)
{
	uint16_t before = vq.last_avail;

	ck_assert_int_eq(virtq_pop(&vq, &elem), -EINVAL);
	ck_assert_uint_eq(vq.last_avail, before); /* state unchanged */
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	*sdesc(i) = (struct virtq_desc){ addr, len, flags, next };
}

START_TEST(split_malformed)
{
	struct virtq_desc *t = gmem_ptr(mem, IND_GPA, 4096);

	/* Head index out of range. */
	both_init(8, false, false, true);
	set_desc(0, DATA_GPA, 8, 0, 0);
	publish_head(8);
	expect_einval();
	/* next out of range. */
	both_init(8, false, false, true);
	set_desc(0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 9);
	publish_head(0);
	expect_einval();
	/* A loop 0 -> 1 -> 0. */
	both_init(8, false, false, true);
	set_desc(0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	publish_head(0);
	expect_einval();
	/* Buffer outside RAM, straddling the end of RAM, wrapping. */
	both_init(8, false, false, true);
	set_desc(0, RAM_SIZE - 4, 8, 0, 0);
	publish_head(0);
	expect_einval();
	set_desc(0, LAYOUT_MMIO32_START, 8, 0, 0);
	expect_einval();
	set_desc(0, UINT64_MAX - 3, 8, 0, 0);
	expect_einval();
	/* Device-readable after device-writable (§2.7.4.2). */
	set_desc(0, DATA_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA, 8, 0, 0);
	expect_einval();
	/* INDIRECT without the feature. */
	both_init(8, false, false, false);
	set_desc(0, IND_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	t[0] = (struct virtq_desc){ DATA_GPA, 8, 0, 0 };
	publish_head(0);
	expect_einval();
	/* INDIRECT | NEXT. */
	both_init(8, false, false, true);
	set_desc(0, IND_GPA, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA, 8, 0, 0);
	publish_head(0);
	expect_einval();
	/* Table length 0, not a multiple of 16, outside RAM. */
	set_desc(0, IND_GPA, 0, VIRTQ_DESC_F_INDIRECT, 0);
	expect_einval();
	set_desc(0, IND_GPA, 24, VIRTQ_DESC_F_INDIRECT, 0);
	expect_einval();
	set_desc(0, RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_einval();
	/* Nested indirect. */
	set_desc(0, IND_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	t[0] = (struct virtq_desc){ DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1 };
	t[1] = (struct virtq_desc){ IND_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0 };
	expect_einval();
	/* next past the table, loop inside the table. */
	t[1] = (struct virtq_desc){ DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 2 };
	expect_einval();
	t[1] = (struct virtq_desc){ DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0 };
	expect_einval();
	/* Write-then-read inside the table. */
	t[0] = (struct virtq_desc){ DATA_GPA, 8,
				    VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1 };
	t[1] = (struct virtq_desc){ DATA_GPA, 8, 0, 0 };
	expect_einval();
	/* A table over VIRTQ_MAX_SG entries. */
	set_desc(0, IND_GPA, 16 * (VIRTQ_MAX_SG + 1), VIRTQ_DESC_F_INDIRECT, 0);
	expect_einval();
	/* Fixed up, the same queue works again. */
	t[0] = (struct virtq_desc){ DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1 };
	t[1] = (struct virtq_desc){ DATA_GPA, 8, VIRTQ_DESC_F_WRITE, 0 };
	set_desc(0, IND_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	ck_assert_uint_eq(elem.nr_out + elem.nr_in, 2);
	/* The driver claims more buffers than the ring holds. */
	both_init(8, false, false, true);
	set_desc(0, DATA_GPA, 8, 0, 0);
	drv.avail->idx = 9;
	expect_einval();
}
END_TEST

/*
 * Total length: 512 overlapping 8 MiB segments are 4 GiB, one byte over
 * VIRTQ_MAX_TOTAL; one byte less is accepted.
 */
START_TEST(total_length_limit)
{
	struct virtq_desc *t = gmem_ptr(mem, IND_GPA, 16 * 512);
	uint32_t seg = 8 * MiB;

	both_init(8, false, false, true);
	for (unsigned i = 0; i < 512; i++)
		t[i] = (struct virtq_desc){ RAM_SIZE - seg, seg,
			(uint16_t)(i + 1 < 512 ? VIRTQ_DESC_F_NEXT : 0),
			(uint16_t)(i + 1) };
	set_desc(0, IND_GPA, 16 * 512, VIRTQ_DESC_F_INDIRECT, 0);
	publish_head(0);
	expect_einval();
	t[511].len = seg - 1;
	t[511].addr = RAM_SIZE - seg + 1;
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	ck_assert_uint_eq(elem.out_len, VIRTQ_MAX_TOTAL);
}
END_TEST

/* Chain of exactly VIRTQ_MAX_SG indirect entries is fine; +1 in the ring is not. */
START_TEST(sg_limits)
{
	struct virtq_desc *t = gmem_ptr(mem, IND_GPA, 16 * VIRTQ_MAX_SG);

	both_init(8, false, false, true);
	for (unsigned i = 0; i < VIRTQ_MAX_SG; i++)
		t[i] = (struct virtq_desc){ DATA_GPA + i, 1,
			(uint16_t)(i + 1 < VIRTQ_MAX_SG ? VIRTQ_DESC_F_NEXT : 0),
			(uint16_t)(i + 1) };
	set_desc(0, IND_GPA, 16 * VIRTQ_MAX_SG, VIRTQ_DESC_F_INDIRECT, 0);
	publish_head(0);
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	ck_assert_uint_eq(elem.nr_out, VIRTQ_MAX_SG);
	/* One direct descriptor before the full table: too many. */
	set_desc(1, DATA_GPA, 1, VIRTQ_DESC_F_NEXT, 0);
	publish_head(1);
	expect_einval();
}
END_TEST

START_TEST(packed_malformed)
{
	struct virtq_pdesc *t = gmem_ptr(mem, IND_GPA, 4096);
	struct drv_seg s = { RAM_SIZE - 4, 8, false };
	uint16_t id;

	/* Outside RAM. */
	both_init(8, true, false, true);
	ck_assert_int_eq(drv_add(&drv, &s, 1, false, &id), 0);
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EINVAL);
	ck_assert_uint_eq(vq.next_avail, 0);
	/* A chain that never ends (every slot has NEXT). */
	both_init(4, true, false, true);
	for (unsigned i = 0; i < 4; i++)
		drv.pdesc[i] = (struct virtq_pdesc){ DATA_GPA, 8, 0,
			VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_AVAIL };
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EINVAL);
	/* Indirect without the feature, INDIRECT|NEXT, bad table length. */
	both_init(4, true, false, false);
	drv.pdesc[0] = (struct virtq_pdesc){ IND_GPA, 16, 0,
		VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_AVAIL };
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EINVAL);
	both_init(4, true, false, true);
	t[0] = (struct virtq_pdesc){ DATA_GPA, 8, 0, 0 };
	drv.pdesc[0] = (struct virtq_pdesc){ IND_GPA, 16, 0,
		VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_AVAIL };
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EINVAL);
	drv.pdesc[0].flags = VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_AVAIL;
	drv.pdesc[0].len = 20;
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EINVAL);
	/* Write before read inside the table. */
	drv.pdesc[0].len = 32;
	t[0] = (struct virtq_pdesc){ DATA_GPA, 8, 0, VIRTQ_DESC_F_WRITE };
	t[1] = (struct virtq_pdesc){ DATA_GPA, 8, 0, 0 };
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EINVAL);
	/* Fixed: the id comes from the ring descriptor. */
	t[0].flags = 0;
	t[1].flags = VIRTQ_DESC_F_WRITE;
	drv.pdesc[0].id = 3;
	ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
	ck_assert_uint_eq(elem.id, 3);
	ck_assert_uint_eq(elem.nr_in, 1);
	/* Not available: AVAIL == USED == wrap means "used". */
	drv.pdesc[1] = (struct virtq_pdesc){ DATA_GPA, 8, 0,
		VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED };
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EAGAIN);
}
END_TEST

START_TEST(init_validation)
{
	struct virtq_config c = qcfg(8, false, false, false);

	ck_assert_int_eq(virtq_init(&vq, mem, &c), 0);
	c.size = 0;
	ck_assert_int_eq(virtq_init(&vq, mem, &c), -EINVAL);
	ck_assert(!vq.ready);
	ck_assert_int_eq(virtq_pop(&vq, &elem), -EAGAIN);
	ck_assert_int_eq(virtq_push(&vq, &elem, 0), -EINVAL);
	c.size = 6; /* split needs a power of two */
	ck_assert_int_eq(virtq_init(&vq, mem, &c), -EINVAL);
	c.packed = true;
	ck_assert_int_eq(virtq_init(&vq, mem, &c), 0);
	c = qcfg(8, false, false, false);
	c.desc_gpa = DESC_GPA + 8; /* 16-byte alignment */
	ck_assert_int_eq(virtq_init(&vq, mem, &c), -EINVAL);
	c = qcfg(8, false, false, false);
	c.avail_gpa = AVAIL_GPA + 1;
	ck_assert_int_eq(virtq_init(&vq, mem, &c), -EINVAL);
	c = qcfg(8, false, false, false);
	c.used_gpa = USED_GPA + 2;
	ck_assert_int_eq(virtq_init(&vq, mem, &c), -EINVAL);
	c = qcfg(8, false, false, false);
	c.used_gpa = RAM_SIZE - 32; /* the used ring runs past RAM */
	ck_assert_int_eq(virtq_init(&vq, mem, &c), -EINVAL);
	c = qcfg(32768, false, false, false);
	ck_assert_int_eq(virtq_init(&vq, mem, &c), 0);
	c.desc_gpa = RAM_SIZE - 16 * 32768 + 16;
	ck_assert_int_eq(virtq_init(&vq, mem, &c), -EINVAL);
	c = qcfg(8, true, false, false);
	c.used_gpa = USED_GPA + 2;
	ck_assert_int_eq(virtq_init(&vq, mem, &c), -EINVAL);
}
END_TEST

/* ---- randomised hostile rings ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Addresses that are mostly plausible, sometimes hostile. */
static uint64_t rnd_addr(void)
{
	switch (rnd() % 8) {
	case 0: return rnd();
	case 1: return RAM_SIZE - (rnd() % 64);
	case 2: return IND_GPA + (rnd() % 8) * 16;
	default: return DATA_GPA + rnd() % (4 * MiB);
	}
}

static uint16_t rnd_flags(bool packed)
{
	uint16_t f = rnd() & 7;

	if (packed && rnd() % 4)
		f |= rnd() % 2 ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
	return f;
}

static void scribble_packed(uint16_t size)
{
	struct virtq_pdesc *d = gmem_ptr(mem, DESC_GPA, 16ULL * size);
	struct virtq_pdesc *t = gmem_ptr(mem, IND_GPA, 4096);

	for (unsigned i = 0; i < size; i++)
		d[i] = (struct virtq_pdesc){ rnd_addr(), (uint32_t)(rnd() % 5000),
					     (uint16_t)rnd(), rnd_flags(true) };
	for (unsigned i = 0; i < 256; i++)
		t[i] = (struct virtq_pdesc){ rnd_addr(), (uint32_t)(rnd() % 3000),
					     (uint16_t)rnd(), rnd_flags(true) };
}

static void scribble(uint16_t size, bool packed)
{
	struct virtq_desc *d = gmem_ptr(mem, DESC_GPA, 16ULL * size);
	struct virtq_desc *t = gmem_ptr(mem, IND_GPA, 4096);

	if (packed) {
		scribble_packed(size);
		return;
	}
	for (unsigned i = 0; i < size; i++)
		d[i] = (struct virtq_desc){ rnd_addr(), (uint32_t)(rnd() % 5000),
					    rnd_flags(false),
					    (uint16_t)(rnd() % (size + 2)) };
	for (unsigned i = 0; i < 256; i++)
		t[i] = (struct virtq_desc){ rnd_addr(), (uint32_t)(rnd() % 3000),
					    rnd_flags(false),
					    (uint16_t)(rnd() % 260) };
	for (unsigned i = 0; i < size; i++)
		drv.avail->ring[i] = (uint16_t)(rnd() % (size + 1));
	drv.avail->idx = (uint16_t)(rnd() % (size + 2));
}

static void check_elem_sane(void)
{
	uint64_t out = 0, in = 0;

	ck_assert_uint_le(elem.nr_out + elem.nr_in, VIRTQ_MAX_SG);
	for (unsigned i = 0; i < elem.nr_out + elem.nr_in; i++) {
		uint8_t *p = elem.iov[i].iov_base;
		size_t len = elem.iov[i].iov_len;

		ck_assert_uint_gt(len, 0);
		ck_assert(p >= mem->base && p + len <= mem->base + mem->size);
		if (i < elem.nr_out)
			out += len;
		else
			in += len;
	}
	ck_assert_uint_eq(out, elem.out_len);
	ck_assert_uint_eq(in, elem.in_len);
	ck_assert_uint_le(out + in, VIRTQ_MAX_TOTAL);
}

static void random_rings(bool packed, unsigned rounds)
{
	unsigned ok = 0, bad = 0;

	rng_state = packed ? 0x9e3779b97f4a7c15ULL : 0x243f6a8885a308d3ULL;
	for (unsigned r = 0; r < rounds; r++) {
		uint16_t size = packed ? 1 + rnd() % 32 : 1u << (rnd() % 6);
		bool event_idx = rnd() & 1;

		both_init(size, packed, event_idx, rnd() % 4 != 0);
		scribble(size, packed);
		for (int n = 0; n < 3 * size + 2; n++) {
			int ret = virtq_pop(&vq, &elem);

			if (ret == -EAGAIN)
				break;
			if (ret == -EINVAL) {
				bad++;
				break;
			}
			ck_assert_int_eq(ret, 0);
			ok++;
			check_elem_sane();
			if (rnd() % 5 == 0) {
				virtq_unpop(&vq, &elem);
				/* Nothing changed: the same buffer again. */
				ck_assert_int_eq(virtq_pop(&vq, &elem), 0);
				check_elem_sane();
			}
			ck_assert_int_eq(virtq_push(&vq, &elem,
				(uint32_t)(elem.in_len ? rnd() % (elem.in_len + 1) : 0)), 0);
			virtq_should_notify(&vq);
		}
	}
	/* The generator must exercise both outcomes. */
	ck_assert_uint_gt(ok, rounds / 20);
	ck_assert_uint_gt(bad, rounds / 20);
}

START_TEST(split_random)
{
	random_rings(false, 20000);
}
END_TEST

START_TEST(packed_random)
{
	random_rings(true, 20000);
}
END_TEST

static Suite *virtqueue_suite(void)
{
	Suite *s = suite_create("virtqueue");
	TCase *tc = tcase_create("rings");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, split_basic);
	tcase_add_test(tc, split_indirect);
	tcase_add_test(tc, packed_basic);
	tcase_add_test(tc, packed_indirect);
	tcase_add_test(tc, split_wrap_65535);
	tcase_add_test(tc, split_wrap_indirect);
	tcase_add_test(tc, packed_wrap);
	tcase_add_test(tc, packed_wrap_indirect);
	tcase_add_test(tc, packed_chain_across_end);
	tcase_add_test(tc, zero_length_segment);
	tcase_add_test(tc, split_unpop);
	tcase_add_test(tc, packed_unpop);
	tcase_add_test(tc, event_math);
	tcase_add_test(tc, split_flags_suppression);
	tcase_add_test(tc, split_event_idx_wrap);
	tcase_add_test(tc, split_avail_event);
	tcase_add_test(tc, split_pop_rereads_idx);
	tcase_add_test(tc, packed_driver_events);
	tcase_add_test(tc, packed_device_events);
	tcase_add_test(tc, split_malformed);
	tcase_add_test(tc, sg_limits);
	tcase_add_test(tc, total_length_limit);
	tcase_add_test(tc, packed_malformed);
	tcase_add_test(tc, init_validation);
	tcase_add_test(tc, split_random);
	tcase_add_test(tc, packed_random);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(virtqueue_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
