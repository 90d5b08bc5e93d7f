// SPDX-License-Identifier: MIT
/*
 * Host DMA policy (iommu/dma.c) with a recording mapper, and the parsing of
 * VFIO's info capability chains (vfio/container.c).
 */
#include <check.h>
#include <errno.h>
#include <linux/vfio.h>
#include <string.h>

#include "core/gmem.h"
#include "core/layout.h"
#include "core/util.h"
#include "iommu/dma.h"
#include "vfio/container.h"

struct rec_mapper {
	struct iommu_dma_mapper m;
	unsigned maps, unmaps;
	int fail_at;  /* map call number that fails (1-based), 0: none */
	struct iommu_dma_entry last;
	uint64_t mapped; /* bytes currently mapped */
};

static int rec_map(struct iommu_dma_mapper *m, const struct iommu_dma_entry *e)
{
	struct rec_mapper *r = container_of(m, struct rec_mapper, m);

	if (++r->maps == (unsigned)r->fail_at)
		return -ENOMEM;
	r->last = *e;
	r->mapped += e->size;
	return 0;
}

static int rec_unmap(struct iommu_dma_mapper *m, const struct iommu_dma_entry *e)
{
	struct rec_mapper *r = container_of(m, struct rec_mapper, m);

	r->unmaps++;
	r->mapped -= e->size;
	return 0;
}

static const struct iommu_dma_mapper_ops rec_ops = {
	.map = rec_map,
	.unmap = rec_unmap,
};

/* The lab host's type1 answer: everything but the MSI window, 39 bits. */
static const struct iommu_iova_range lab_ranges[] = {
	{ 0, 0xfedfffff },
	{ 0xfef00000, 0x7fffffffffULL },
};

static const struct iommu_dma_limits lab_limits = {
	.ranges = lab_ranges, .nr_ranges = 2,
	.pgsize_mask = 0x40201000, .max_entries = 65535,
};

START_TEST(plan_one_entry_per_region)
{
	uint8_t fake_ram[1];
	struct gmem_region r[2] = {
		{ .gpa = 0, .size = 3 * GiB, .hva = fake_ram },
		{ .gpa = 4 * GiB, .size = 5 * GiB, .hva = fake_ram + 0 },
	};
	struct iommu_dma_entry e[8];
	uint64_t holes = 1;
	unsigned n = 0;
	char err[256];

	ck_assert_int_eq(iommu_dma_plan(r, 2, &lab_limits, e, 8, &n, &holes, err,
					sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(holes, 0);
	ck_assert(e[0].iova == 0 && e[0].size == 3 * GiB && e[0].hva == fake_ram);
	ck_assert(e[1].iova == 4 * GiB && e[1].size == 5 * GiB);
	/* No ranges reported: the whole space. */
	{
		struct iommu_dma_limits all = { 0 };

		ck_assert_int_eq(iommu_dma_plan(r, 2, &all, e, 8, &n, NULL, err,
						sizeof(err)), 0);
		ck_assert_uint_eq(n, 2);
	}
}
END_TEST

START_TEST(plan_reserved_ranges)
{
	uint8_t *base = (uint8_t *)0x100000000000ULL; /* never dereferenced */
	/* RAM over the MSI window (a layout iovmm never makes, on purpose). */
	struct gmem_region r = { .gpa = 0xfe000000, .size = 0x2000000, .hva = base };
	struct iommu_dma_limits lim = lab_limits;
	struct iommu_dma_entry e[8];
	uint64_t holes;
	unsigned n;
	char err[256] = "";

	ck_assert_int_eq(iommu_dma_plan(&r, 1, &lim, e, 8, &n, &holes, err,
					sizeof(err)), -ERANGE);
	ck_assert_msg(strstr(err, "0xfee00000") && strstr(err, "1024 KiB"), "%s", err);
	/* With holes allowed: split around it, the hole reported. */
	lim.allow_holes = true;
	ck_assert_int_eq(iommu_dma_plan(&r, 1, &lim, e, 8, &n, &holes, err,
					sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(e[0].iova == 0xfe000000 && e[0].size == 0xe00000 &&
		  e[0].hva == base);
	ck_assert(e[1].iova == 0xfef00000 && e[1].size == 0x1100000 &&
		  e[1].hva == base + 0xf00000);
	ck_assert_uint_eq(holes, 0x100000);
	/* RAM beyond the IOMMU's 39-bit address width is refused. */
	lim.allow_holes = false;
	r = (struct gmem_region){ .gpa = 0x7f00000000ULL, .size = 8 * GiB, .hva = base };
	ck_assert_int_eq(iommu_dma_plan(&r, 1, &lim, e, 8, &n, &holes, err,
					sizeof(err)), -ERANGE);
	ck_assert_msg(strstr(err, "0x8000000000"), "%s", err);
	/* Unaligned to the smallest IOMMU page. */
	r = (struct gmem_region){ .gpa = 0x800, .size = 0x1000, .hva = base };
	ck_assert_int_eq(iommu_dma_plan(&r, 1, &lim, e, 8, &n, &holes, err,
					sizeof(err)), -ERANGE);
	/* A range edge inside a page maps whole pages only. */
	{
		struct iommu_iova_range odd[] = { { 0, 0x10800 } };
		struct iommu_dma_limits l2 = { .ranges = odd, .nr_ranges = 1,
					       .allow_holes = true };

		r = (struct gmem_region){ .gpa = 0, .size = 0x20000, .hva = base };
		ck_assert_int_eq(iommu_dma_plan(&r, 1, &l2, e, 8, &n, &holes, err,
						sizeof(err)), 0);
		ck_assert_uint_eq(n, 1);
		ck_assert_uint_eq(e[0].size, 0x10000);
		ck_assert_uint_eq(holes, 0x10000);
	}
}
END_TEST

START_TEST(plan_entry_limits)
{
	uint8_t *base = (uint8_t *)0x100000000000ULL;
	struct gmem_region r[2] = {
		{ .gpa = 0, .size = 1 * GiB, .hva = base },
		{ .gpa = 4 * GiB, .size = 1 * GiB, .hva = base },
	};
	struct iommu_dma_limits lim = lab_limits;
	struct iommu_dma_entry e[8];
	unsigned n;
	char err[256];

	lim.max_entries = 1;
	ck_assert_int_eq(iommu_dma_plan(r, 2, &lim, e, 8, &n, NULL, err,
					sizeof(err)), -ENOSPC);
	ck_assert_msg(strstr(err, "dma_entry_limit"), "%s", err);
	lim.max_entries = 0;
	ck_assert_int_eq(iommu_dma_plan(r, 2, &lim, e, 1, &n, NULL, err,
					sizeof(err)), -ENOSPC);
}
END_TEST

START_TEST(map_guest_ram_and_unmap)
{
	struct gmem_opts o = { .size = 8 * MiB, .low_max = 4 * MiB,
			       .high_base = LAYOUT_RAM_HIGH_START };
	struct rec_mapper rm = { .m.ops = &rec_ops };
	struct iommu_dma_stats st;
	const struct iommu_dma_entry *ents;
	struct iommu_dma *d;
	struct gmem *mem;
	unsigned n;
	char err[256];

	/* 8 MiB split 4 + 4 around the (tiny, for the test) low limit. */
	ck_assert_int_eq(gmem_create(&o, &mem), 0);
	ck_assert_int_eq(iommu_dma_create(&rm.m, mem, &lab_limits, &d, err,
					  sizeof(err)), 0);
	ck_assert_uint_eq(rm.maps, 2);
	ck_assert_uint_eq(rm.last.iova, LAYOUT_RAM_HIGH_START);
	ck_assert_ptr_eq(rm.last.hva, mem->regions[1].hva);
	iommu_dma_get_stats(d, &st);
	ck_assert_uint_eq(st.entries, 2);
	ck_assert_uint_eq(st.bytes, 8 * MiB);
	ck_assert_uint_gt(st.map_ns, 0);
	ck_assert_uint_eq(st.page_size, 4096);
	ents = iommu_dma_entries(d, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(ents[0].iova, 0);
	iommu_dma_destroy(d);
	ck_assert_uint_eq(rm.unmaps, 2);
	ck_assert_uint_eq(rm.mapped, 0);
	iommu_dma_destroy(NULL);

	/* A failing map unwinds what was mapped and explains. */
	rm = (struct rec_mapper){ .m.ops = &rec_ops, .fail_at = 2 };
	ck_assert_int_eq(iommu_dma_create(&rm.m, mem, &lab_limits, &d, err,
					  sizeof(err)), -ENOMEM);
	ck_assert_uint_eq(rm.unmaps, 1);
	ck_assert_uint_eq(rm.mapped, 0);
	ck_assert_msg(strstr(err, "ulimit -l"), "%s", err);
	gmem_destroy(mem);
}
END_TEST

/* VFIO info capability chains, as the kernel lays them out. */
START_TEST(info_cap_chain)
{
	uint8_t buf[128] = { 0 };
	struct vfio_info_cap_header h;

	h = (struct vfio_info_cap_header){ .id = 1, .version = 1, .next = 48 };
	memcpy(buf + 24, &h, sizeof(h));
	h = (struct vfio_info_cap_header){ .id = 3, .version = 1, .next = 0 };
	memcpy(buf + 48, &h, sizeof(h));
	ck_assert_uint_eq(vfio_info_cap_find(buf, sizeof(buf), 24, 1), 24);
	ck_assert_uint_eq(vfio_info_cap_find(buf, sizeof(buf), 24, 3), 48);
	ck_assert_uint_eq(vfio_info_cap_find(buf, sizeof(buf), 24, 2), 0);
	ck_assert_uint_eq(vfio_info_cap_find(buf, sizeof(buf), 0, 1), 0);
	/* A loop ends; an offset past the buffer is refused. */
	h = (struct vfio_info_cap_header){ .id = 3, .version = 1, .next = 24 };
	memcpy(buf + 48, &h, sizeof(h));
	ck_assert_uint_eq(vfio_info_cap_find(buf, sizeof(buf), 24, 2), 0);
	ck_assert_uint_eq(vfio_info_cap_find(buf, sizeof(buf), 124, 3), 0);
	ck_assert_uint_eq(vfio_info_cap_find(buf, sizeof(buf), 4000, 3), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("iommu-dma");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, plan_one_entry_per_region);
	tcase_add_test(tc, plan_reserved_ranges);
	tcase_add_test(tc, plan_entry_limits);
	tcase_add_test(tc, map_guest_ram_and_unmap);
	tcase_add_test(tc, info_cap_chain);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
