// SPDX-License-Identifier: MIT
/* BAR layout: region info + MSI-X table/PBA -> mmapped and trapped spans. */
#include <check.h>
#include <errno.h>
#include <linux/vfio.h>

#include "vfio/layout.h"

#define PG 0x1000ULL
#define RWM (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | \
	     VFIO_REGION_INFO_FLAG_MMAP)

static struct vfio_region region(uint64_t size, uint32_t flags)
{
	return (struct vfio_region){ .size = size, .flags = flags };
}

static void span_is(const struct vfio_bar_span *s, uint64_t off, uint64_t size,
		    bool mmap)
{
	ck_assert_msg(s->off == off && s->size == size && s->mmap == mmap,
		      "span {0x%llx, 0x%llx, %d}, want {0x%llx, 0x%llx, %d}",
		      (unsigned long long)s->off, (unsigned long long)s->size,
		      s->mmap, (unsigned long long)off,
		      (unsigned long long)size, mmap);
}

START_TEST(whole_bar_mmapped)
{
	struct vfio_region r = region(0x20000, RWM);
	struct vfio_bar_span s[8];

	ck_assert_int_eq(vfio_bar_layout(&r, true, NULL, 0, PG, s, 8), 1);
	span_is(&s[0], 0, 0x20000, true);
	/* no-mmap, no MMAP flag, and sub-page BARs are trapped whole. */
	ck_assert_int_eq(vfio_bar_layout(&r, false, NULL, 0, PG, s, 8), 1);
	span_is(&s[0], 0, 0x20000, false);
	r.flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
	ck_assert_int_eq(vfio_bar_layout(&r, true, NULL, 0, PG, s, 8), 1);
	span_is(&s[0], 0, 0x20000, false);
	r = region(0x100, RWM);
	ck_assert_int_eq(vfio_bar_layout(&r, true, NULL, 0, PG, s, 8), 1);
	span_is(&s[0], 0, 0x100, false);
	r = region(0, 0);
	ck_assert_int_eq(vfio_bar_layout(&r, true, NULL, 0, PG, s, 8), 0);
}
END_TEST

/* The lab's NVMe VF: 16 KiB, table at 0x2000 (1 vector), PBA at 0x3000. */
START_TEST(msix_pages_trapped)
{
	struct vfio_region r = region(0x4000, RWM);
	struct vfio_range ex[2] = { { 0x2000, 16 }, { 0x3000, 8 } };
	struct vfio_bar_span s[8];

	ck_assert_int_eq(vfio_bar_layout(&r, true, ex, 2, PG, s, 8), 2);
	span_is(&s[0], 0, 0x2000, true);
	span_is(&s[1], 0x2000, 0x2000, false);
	/* Table in the middle of a big BAR: mmap | trap | mmap. */
	r = region(0x100000, RWM);
	ex[0] = (struct vfio_range){ 0x80010, 2048 * 16 }; /* straddles pages */
	ck_assert_int_eq(vfio_bar_layout(&r, true, ex, 1, PG, s, 8), 3);
	span_is(&s[0], 0, 0x80000, true);
	span_is(&s[1], 0x80000, 0x9000, false);
	span_is(&s[2], 0x89000, 0x100000 - 0x89000, true);
	/* 64 KiB host pages widen the trapped range to 64 KiB. */
	ex[0] = (struct vfio_range){ 0x2000, 16 };
	r = region(0x40000, RWM);
	ck_assert_int_eq(vfio_bar_layout(&r, true, ex, 1, 0x10000, s, 8), 2);
	span_is(&s[0], 0, 0x10000, false);
	span_is(&s[1], 0x10000, 0x30000, true);
	/* An exclusion running past the end is clipped. */
	ex[0] = (struct vfio_range){ 0x3ff00, 0x1000 };
	ck_assert_int_eq(vfio_bar_layout(&r, true, ex, 1, PG, s, 8), 2);
	span_is(&s[1], 0x3f000, 0x1000, false);
}
END_TEST

START_TEST(sparse_areas)
{
	/* What vfio-pci reports when the MSI-X table may not be mmapped. */
	struct vfio_region r = region(0x10000, RWM);
	struct vfio_range ex[2] = { { 0x8000, 64 }, { 0x9000, 8 } };
	struct vfio_bar_span s[8];

	r.sparse = true;
	r.nr_areas = 2;
	r.areas[0] = (struct vfio_mmap_area){ 0, 0x8000 };
	r.areas[1] = (struct vfio_mmap_area){ 0x9000, 0x7000 };
	/* The PBA page 0x9000 is inside area 1 but must be trapped anyway. */
	ck_assert_int_eq(vfio_bar_layout(&r, true, ex, 2, PG, s, 8), 3);
	span_is(&s[0], 0, 0x8000, true);
	span_is(&s[1], 0x8000, 0x2000, false);
	span_is(&s[2], 0xa000, 0x6000, true);
	/* Areas not on page boundaries shrink to whole pages. */
	r.nr_areas = 1;
	r.areas[0] = (struct vfio_mmap_area){ 0x800, 0x3000 };
	ck_assert_int_eq(vfio_bar_layout(&r, true, NULL, 0, PG, s, 8), 3);
	span_is(&s[0], 0, 0x1000, false);
	span_is(&s[1], 0x1000, 0x2000, true);
	span_is(&s[2], 0x3000, 0xd000, false);
	/* A sparse cap with no areas: nothing is mmapped. */
	r.nr_areas = 0;
	ck_assert_int_eq(vfio_bar_layout(&r, true, NULL, 0, PG, s, 8), 1);
	span_is(&s[0], 0, 0x10000, false);
	/* Hostile areas (past the end, wrapping) are clipped. */
	r.nr_areas = 2;
	r.areas[0] = (struct vfio_mmap_area){ 0xf000, 0x100000 };
	r.areas[1] = (struct vfio_mmap_area){ UINT64_MAX - 0xfff, 0x2000 };
	ck_assert_int_eq(vfio_bar_layout(&r, true, NULL, 0, PG, s, 8), 2);
	span_is(&s[0], 0, 0xf000, false);
	span_is(&s[1], 0xf000, 0x1000, true);
}
END_TEST

START_TEST(limits)
{
	struct vfio_region r = region(0x10000, RWM);
	struct vfio_range ex[4] = { { 0x1000, 8 }, { 0x3000, 8 }, { 0x5000, 8 },
				    { 0x7000, 8 } };
	struct vfio_bar_span s[16];

	ck_assert_int_eq(vfio_bar_layout(&r, true, ex, 4, PG, s, 16), 9);
	ck_assert_int_eq(vfio_bar_layout(&r, true, ex, 4, PG, s, 4), -E2BIG);
	ck_assert_int_eq(vfio_bar_layout(&r, true, ex, 4, 3000, s, 16), -EINVAL);
	/* Spans cover the BAR exactly, in order. */
	{
		int n = vfio_bar_layout(&r, true, ex, 4, PG, s, 16);
		uint64_t at = 0;

		for (int i = 0; i < n; i++) {
			ck_assert_uint_eq(s[i].off, at);
			at += s[i].size;
		}
		ck_assert_uint_eq(at, r.size);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vfio-layout");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, whole_bar_mmapped);
	tcase_add_test(tc, msix_pages_trapped);
	tcase_add_test(tc, sparse_areas);
	tcase_add_test(tc, limits);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
