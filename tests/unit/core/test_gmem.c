// SPDX-License-Identifier: MIT
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "core/gmem.h"
#include "core/layout.h"
#include "core/util.h"

static struct gmem *make(uint64_t size, uint64_t low_max)
{
	struct gmem_opts o = { .size = size, .low_max = low_max,
			       .high_base = LAYOUT_RAM_HIGH_START };
	struct gmem *m = NULL;

	ck_assert_int_eq(gmem_create(&o, &m), 0);
	return m;
}

START_TEST(test_single_region)
{
	struct gmem *m = make(16 * MiB, LAYOUT_LOW_RAM_MAX);
	uint32_t v = 0x12345678, r = 0;

	ck_assert_uint_eq(m->nr_regions, 1);
	ck_assert_uint_eq(gmem_end(m), 16 * MiB);
	ck_assert_int_eq(gmem_write(m, 16 * MiB - 4, &v, 4), 0);
	ck_assert_int_eq(gmem_read(m, 16 * MiB - 4, &r, 4), 0);
	ck_assert_uint_eq(r, v);
	/* One byte past the end, or straddling it, is refused. */
	ck_assert_int_eq(gmem_write(m, 16 * MiB - 3, &v, 4), -EFAULT);
	ck_assert_int_eq(gmem_read(m, 16 * MiB, &r, 1), -EFAULT);
	ck_assert_ptr_null(gmem_ptr(m, 0, 0));
	ck_assert_ptr_null(gmem_ptr(m, UINT64_MAX - 1, 4));
	ck_assert_ptr_null(gmem_ptr(m, 8, UINT64_MAX));
	ck_assert(gmem_is_ram(m, 0, 16 * MiB));
	ck_assert(!gmem_is_ram(m, 0, 16 * MiB + 1));
	ck_assert_int_eq(gmem_read(m, 1 * GiB, &r, 0), 0); /* empty copy is a no-op */
	gmem_destroy(m);
}
END_TEST

/* RAM larger than the low limit continues at 4 GiB; the hole is not RAM. */
START_TEST(test_split_regions)
{
	struct gmem *m = make(64 * MiB, 32 * MiB);
	uint8_t *lo, *hi;
	uint64_t v = 0xfeedface;
	struct stat st;

	ck_assert_uint_eq(m->nr_regions, 2);
	ck_assert_uint_eq(m->regions[1].gpa, LAYOUT_RAM_HIGH_START);
	ck_assert_uint_eq(m->regions[1].size, 32 * MiB);
	ck_assert_uint_eq(m->regions[1].fd_offset, 32 * MiB);
	ck_assert_uint_eq(gmem_end(m), LAYOUT_RAM_HIGH_START + 32 * MiB);
	ck_assert(!gmem_is_ram(m, 32 * MiB, 1));
	ck_assert(!gmem_is_ram(m, 32 * MiB - 8, 16)); /* across the hole */
	lo = gmem_ptr(m, 32 * MiB - 8, 8);
	hi = gmem_ptr(m, LAYOUT_RAM_HIGH_START, 8);
	ck_assert_ptr_nonnull(lo);
	ck_assert_ptr_eq(hi, lo + 8); /* one memfd, contiguous in the file */
	ck_assert_int_eq(gmem_write(m, LAYOUT_RAM_HIGH_START + 32 * MiB - 8, &v, 8), 0);
	ck_assert_int_eq(fstat(m->fd, &st), 0);
	ck_assert_int_eq(st.st_size, 64 * MiB);
	gmem_destroy(m);
}
END_TEST

START_TEST(test_bad_opts)
{
	struct gmem *m = NULL;
	struct gmem_opts o = { .size = 0, .low_max = 32 * MiB,
			       .high_base = LAYOUT_RAM_HIGH_START };

	ck_assert_int_eq(gmem_create(&o, &m), -EINVAL);
	o.size = 16 * MiB + 1;
	ck_assert_int_eq(gmem_create(&o, &m), -EINVAL);
	o.size = 16 * MiB;
	o.high_base = 16 * MiB; /* high region below the low limit */
	ck_assert_int_eq(gmem_create(&o, &m), -EINVAL);
	gmem_destroy(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gmem");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_single_region);
	tcase_add_test(tc, test_split_regions);
	tcase_add_test(tc, test_bad_opts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
