// SPDX-License-Identifier: MIT
/* Config-space masks, BAR sizing, capability chains, and the range allocator. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/pci/alloc.h"
#include "core/pci/pci.h"
#include "core/util.h"

static const struct pci_id test_id = {
	.vendor = 0x1af4, .device = 0x1041, .revision = 3,
	.class_code = 0x020000, .int_pin = 1,
	.subsys_vendor = 0x1af4, .subsys = 0x0001,
};

START_TEST(cfg_masks)
{
	static struct pci_cfg c;

	pci_cfg_init(&c, &test_id);
	ck_assert_uint_eq(pci_cfg_read(&c, 0, 4), 0x10411af4);
	ck_assert_uint_eq(pci_cfg_read(&c, 8, 4), 0x02000003);
	ck_assert_uint_eq(pci_cfg_read(&c, 0x2c, 4), 0x00011af4);
	/* Read-only bits stay. */
	pci_cfg_write(&c, 0, 0, 4);
	pci_cfg_write(&c, 8, 0xffffffff, 4);
	ck_assert_uint_eq(pci_cfg_read(&c, 0, 4), 0x10411af4);
	ck_assert_uint_eq(pci_cfg_read(&c, 8, 4), 0x02000003);
	/* COMMAND: only the implemented bits. */
	pci_cfg_write(&c, PCI_COMMAND, 0xffff, 2);
	ck_assert_uint_eq(pci_cfg_read(&c, PCI_COMMAND, 2), 0x0547);
	/* STATUS error bits are write-1-to-clear; others read-only. */
	pci_cfg_set(&c, PCI_STATUS, 0xf908, 2);
	pci_cfg_write(&c, PCI_STATUS, 0x2000, 2);
	ck_assert_uint_eq(pci_cfg_read(&c, PCI_STATUS, 2), 0xd908);
	pci_cfg_write(&c, PCI_STATUS, 0xffff, 2);
	ck_assert_uint_eq(pci_cfg_read(&c, PCI_STATUS, 2), 0x0008);
	/* A dword write over COMMAND+STATUS applies both masks. */
	pci_cfg_set(&c, PCI_STATUS, 0x8000, 2);
	pci_cfg_write(&c, PCI_COMMAND, 0x80000002, 4);
	ck_assert_uint_eq(pci_cfg_read(&c, PCI_COMMAND, 4), 0x00000002);
	/* Interrupt line RW, pin RO. */
	pci_cfg_write(&c, PCI_INTERRUPT_LINE, 0x0b0b, 2);
	ck_assert_uint_eq(pci_cfg_read(&c, PCI_INTERRUPT_LINE, 2), 0x010b);
	/* Out of range accesses. */
	ck_assert_uint_eq(pci_cfg_read(&c, 4094, 4), 0xffffffff);
	ck_assert_uint_eq(pci_cfg_read(&c, 4096, 1), 0xffffffff);
	ck_assert_uint_eq(pci_cfg_read(&c, 0, 3), 0xffffffff);
	pci_cfg_write(&c, 4095, 0xff, 2); /* dropped, no crash */
	/* Reset restores. */
	pci_cfg_reset(&c);
	ck_assert_uint_eq(pci_cfg_read(&c, PCI_COMMAND, 4), 0);
	ck_assert_uint_eq(pci_cfg_read(&c, PCI_INTERRUPT_LINE, 1), 0);
	/* Declared registers. */
	ck_assert_int_eq(pci_cfg_declare(&c, 0x200, 4, 0xa5a5a5a5, 0x0000ffff,
					 0xff000000), 0);
	pci_cfg_write(&c, 0x200, 0x0f001234, 4);
	ck_assert_uint_eq(pci_cfg_read(&c, 0x200, 4), 0xa0a51234);
	ck_assert_int_eq(pci_cfg_declare(&c, 4094, 4, 0, 0, 0), -EINVAL);
}
END_TEST

START_TEST(cfg_bar_sizing)
{
	static struct pci_cfg c;

	pci_cfg_init(&c, &test_id);
	ck_assert_int_eq(pci_cfg_add_bar(&c, 0, PCI_BAR_MEM32, 4096, false), 0);
	ck_assert_int_eq(pci_cfg_add_bar(&c, 1, PCI_BAR_IO, 64, false), 0);
	ck_assert_int_eq(pci_cfg_add_bar(&c, 2, PCI_BAR_MEM64, 1ULL << 33, true), 0);
	ck_assert_int_eq(pci_cfg_add_bar(&c, 3, PCI_BAR_MEM32, 4096, false), -EBUSY);
	ck_assert_int_eq(pci_cfg_add_bar(&c, 5, PCI_BAR_MEM64, 4096, false), -EINVAL);
	ck_assert_int_eq(pci_cfg_add_bar(&c, 4, PCI_BAR_MEM32, 3000, false), -EINVAL);
	ck_assert_int_eq(pci_cfg_add_bar(&c, 4, PCI_BAR_IO, 512, false), -EINVAL);
	ck_assert_int_eq(pci_cfg_add_bar(&c, 4, PCI_BAR_MEM32, 8, false), -EINVAL);
	ck_assert_int_eq(pci_cfg_add_bar(&c, 0, PCI_BAR_MEM32, 4096, false), -EBUSY);
	for (uint32_t off = 0x10; off < 0x28; off += 4)
		pci_cfg_write(&c, off, 0xffffffff, 4);
	ck_assert_uint_eq(pci_cfg_read(&c, 0x10, 4), 0xfffff000);
	ck_assert_uint_eq(pci_cfg_read(&c, 0x14, 4), 0xffffffc1);
	ck_assert_uint_eq(pci_cfg_read(&c, 0x18, 4), 0x0000000c);
	ck_assert_uint_eq(pci_cfg_read(&c, 0x1c, 4), 0xfffffffe);
	ck_assert_uint_eq(pci_cfg_read(&c, 0x20, 4), 0);
	/* Sized BARs (all-ones) never decode, even with decoding on. */
	pci_cfg_write(&c, PCI_COMMAND, 3, 2);
	for (unsigned b = 0; b < PCI_NR_BARS; b++)
		ck_assert_uint_eq(pci_cfg_bar_decode(&c, b), PCI_BAR_UNMAPPED);
	pci_cfg_write(&c, 0x10, 0xc0001000, 4);
	pci_cfg_write(&c, 0x14, 0x1040, 4);
	pci_cfg_write(&c, 0x18, 0, 4);
	pci_cfg_write(&c, 0x1c, 0x80, 4);
	ck_assert_uint_eq(pci_cfg_bar_decode(&c, 0), 0xc0001000);
	ck_assert_uint_eq(pci_cfg_bar_decode(&c, 1), 0x1040);
	ck_assert_uint_eq(pci_cfg_bar_decode(&c, 2), 0x8000000000ULL);
	ck_assert_uint_eq(pci_cfg_bar_decode(&c, 3), PCI_BAR_UNMAPPED);
	/* Decode bits gate each space. */
	pci_cfg_write(&c, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	ck_assert_uint_eq(pci_cfg_bar_decode(&c, 1), PCI_BAR_UNMAPPED);
	ck_assert_uint_eq(pci_cfg_bar_decode(&c, 0), 0xc0001000);
	pci_cfg_write(&c, PCI_COMMAND, PCI_COMMAND_IO, 2);
	ck_assert_uint_eq(pci_cfg_bar_decode(&c, 0), PCI_BAR_UNMAPPED);
	/* I/O beyond 64 KiB does not decode on x86. */
	pci_cfg_write(&c, 0x14, 0x10000, 4);
	ck_assert_uint_eq(pci_cfg_bar_decode(&c, 1), PCI_BAR_UNMAPPED);
	/* set_addr keeps the flag bits. */
	pci_cfg_bar_set_addr(&c, 2, 0x123400000000ULL);
	ck_assert_uint_eq(pci_cfg_read(&c, 0x18, 4), 0x0000000c);
	ck_assert_uint_eq(pci_cfg_bar_addr(&c, 2), 0x123400000000ULL);
	pci_cfg_bar_set_addr(&c, 1, 0x2000);
	ck_assert_uint_eq(pci_cfg_read(&c, 0x14, 4), 0x2001);
}
END_TEST

START_TEST(cfg_cap_chain)
{
	static struct pci_cfg c;
	uint32_t a, b, d, e1, e2, off, n = 0;

	pci_cfg_init(&c, &test_id);
	ck_assert_uint_eq(pci_cfg_read(&c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	ck_assert_uint_eq(pci_cfg_find_cap(&c, 0x09), 0);
	ck_assert_int_eq(pci_cfg_add_cap(&c, 0x09, 6, &a), 0);
	ck_assert_int_eq(pci_cfg_add_cap(&c, 0x05, 24, &b), 0);
	ck_assert_int_eq(pci_cfg_add_cap(&c, 0x11, 12, &d), 0);
	ck_assert_uint_eq(a, 0x40);
	ck_assert_uint_eq(b, 0x48); /* dword aligned */
	ck_assert_uint_eq(d, 0x60);
	ck_assert(pci_cfg_read(&c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* Walk it like a guest. */
	const uint8_t ids[] = { 0x09, 0x05, 0x11 };
	for (off = pci_cfg_read(&c, PCI_CAPABILITY_LIST, 1); off;
	     off = pci_cfg_read(&c, off + 1, 1)) {
		ck_assert_uint_lt(n, 3);
		ck_assert_uint_eq(pci_cfg_read(&c, off, 1), ids[n++]);
	}
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(pci_cfg_find_cap(&c, 0x11), d);
	/* Headers are read-only. */
	pci_cfg_write(&c, a, 0xffff, 2);
	ck_assert_uint_eq(pci_cfg_read(&c, a, 2), 0x4809);
	/* Full. */
	ck_assert_int_eq(pci_cfg_add_cap(&c, 0x10, 0x100, &off), -ENOSPC);
	ck_assert_int_eq(pci_cfg_add_cap(&c, 0x10, 1, &off), -ENOSPC);
	/* Extended capabilities from 0x100. */
	ck_assert_int_eq(pci_cfg_add_ecap(&c, 0x0001, 2, 0x40, &e1), 0);
	ck_assert_int_eq(pci_cfg_add_ecap(&c, 0x0010, 1, 0x40, &e2), 0);
	ck_assert_uint_eq(e1, 0x100);
	ck_assert_uint_eq(e2, 0x140);
	ck_assert_uint_eq(pci_cfg_read(&c, 0x100, 4), 0x14020001);
	ck_assert_uint_eq(pci_cfg_read(&c, 0x140, 4), 0x00010010);
	ck_assert_int_eq(pci_cfg_add_ecap(&c, 0x0002, 1, 0x1000, &off), -ENOSPC);
	/* A list corrupted into a loop cannot hang find_cap. */
	pci_cfg_set(&c, d + 1, a, 1);
	ck_assert_uint_eq(pci_cfg_find_cap(&c, 0x42), 0);
}
END_TEST

/* ---- allocator ---- */

START_TEST(alloc_edges)
{
	struct range_alloc *ra;
	uint64_t a;

	ck_assert_int_eq(range_alloc_create(0, 0, &ra), -EINVAL);
	ck_assert_int_eq(range_alloc_create(UINT64_MAX, 2, &ra), -EINVAL);
	/* A window ending exactly at 2^64. */
	ck_assert_int_eq(range_alloc_create(UINT64_MAX - 0xffff, 0x10000, &ra), 0);
	ck_assert_int_eq(range_alloc_alloc(ra, 0, 1, &a), -EINVAL);
	ck_assert_int_eq(range_alloc_alloc(ra, 16, 0, &a), -EINVAL);
	ck_assert_int_eq(range_alloc_alloc(ra, 16, 3, &a), -EINVAL);
	ck_assert_int_eq(range_alloc_alloc(ra, 0x10001, 1, &a), -ENOSPC);
	/* Alignment that would wrap past 2^64. */
	ck_assert_int_eq(range_alloc_alloc(ra, 1, 1ULL << 63, &a), -ENOSPC);
	ck_assert_int_eq(range_alloc_alloc(ra, 0x8000, 0x8000, &a), 0);
	ck_assert_uint_eq(a, UINT64_MAX - 0xffff);
	ck_assert_int_eq(range_alloc_alloc(ra, 0x8000, 1, &a), 0);
	ck_assert_uint_eq(a, UINT64_MAX - 0x7fff);
	ck_assert_int_eq(range_alloc_alloc(ra, 1, 1, &a), -ENOSPC);
	ck_assert_int_eq(range_alloc_free(ra, UINT64_MAX - 0x7fff), 0);
	ck_assert_int_eq(range_alloc_free(ra, UINT64_MAX - 0x7fff), -ENOENT);
	ck_assert_int_eq(range_alloc_free(ra, UINT64_MAX - 0x7ffe), -ENOENT);
	/* The very last byte. */
	ck_assert_int_eq(range_alloc_reserve(ra, UINT64_MAX, 1), 0);
	ck_assert_int_eq(range_alloc_reserve(ra, UINT64_MAX, 2), -EINVAL);
	ck_assert_int_eq(range_alloc_reserve(ra, UINT64_MAX - 1, 2), -EEXIST);
	ck_assert_int_eq(range_alloc_reserve(ra, 0, 16), -EINVAL);
	ck_assert_int_eq(range_alloc_reserve(ra, UINT64_MAX - 0x8000, 0), -EINVAL);
	ck_assert_int_eq(range_alloc_alloc(ra, 0x7fff, 1, &a), 0);
	ck_assert_uint_eq(a, UINT64_MAX - 0x7fff);
	ck_assert_int_eq(range_alloc_alloc(ra, 1, 1, &a), -ENOSPC);
	range_alloc_destroy(ra);
	range_alloc_destroy(NULL);

	/* The full 64-bit space minus one byte, at base 0. */
	ck_assert_int_eq(range_alloc_create(0, UINT64_MAX, &ra), 0);
	ck_assert_int_eq(range_alloc_alloc(ra, 1ULL << 63, 1ULL << 63, &a), 0);
	ck_assert_uint_eq(a, 0);
	ck_assert_int_eq(range_alloc_alloc(ra, 1ULL << 63, 1ULL << 63, &a),
			 -ENOSPC); /* would need the byte at 2^64 - 1 too */
	ck_assert_int_eq(range_alloc_alloc(ra, (1ULL << 63) - 1, 1, &a), 0);
	ck_assert_uint_eq(a, 1ULL << 63);
	range_alloc_destroy(ra);

	/* Reserve then alloc around it (BAR windows with fixed holes). */
	ck_assert_int_eq(range_alloc_create(0x1000, 0xf000, &ra), 0);
	ck_assert_int_eq(range_alloc_reserve(ra, 0x1000, 0x100), 0);
	ck_assert_int_eq(range_alloc_reserve(ra, 0x10ff, 1), -EEXIST);
	ck_assert_int_eq(range_alloc_alloc(ra, 0x100, 0x100, &a), 0);
	ck_assert_uint_eq(a, 0x1100);
	ck_assert_int_eq(range_alloc_alloc(ra, 0x1000, 0x1000, &a), 0);
	ck_assert_uint_eq(a, 0x2000);
	ck_assert_int_eq(range_alloc_alloc(ra, 4, 4, &a), 0);
	ck_assert_uint_eq(a, 0x1200);
	range_alloc_destroy(ra);
}
END_TEST

/*
 * Randomised against a reference bitmap: every allocation must be the
 * lowest aligned fit, reservations and frees must agree with the map. The
 * window sits at the top of the 64-bit space to exercise the wrap checks.
 */
#define REF_UNITS 1024

struct ref_alloc {
	uint64_t start;
	uint64_t size;
};

static bool ref_free_range(const uint8_t *map, uint64_t s, uint64_t n)
{
	for (uint64_t i = s; i < s + n; i++)
		if (map[i])
			return false;
	return true;
}

static int ref_first_fit(const uint8_t *map, uint64_t base, uint64_t size,
			 uint64_t align, uint64_t *out)
{
	/* base is aligned to REF_UNITS so offsets align like addresses. */
	for (uint64_t s = 0; s + size <= REF_UNITS; s += align) {
		if (ref_free_range(map, s, size)) {
			*out = s;
			return 0;
		}
	}
	(void)base;
	return -ENOSPC;
}

START_TEST(alloc_random)
{
	const uint64_t base = 0ULL - REF_UNITS; /* ends exactly at 2^64 */
	static struct ref_alloc live[REF_UNITS];
	static uint8_t map[REF_UNITS];
	struct range_alloc *ra;
	unsigned nlive = 0;

	srand(12345);
	memset(map, 0, sizeof(map));
	ck_assert_int_eq(range_alloc_create(base, REF_UNITS, &ra), 0);
	for (int step = 0; step < 20000; step++) {
		int op = rand() % 10;

		if (op < 5) {
			uint64_t align = 1ULL << (rand() % 8);
			uint64_t size = 1 + rand() % 64, want, got = 0;
			int r1 = ref_first_fit(map, base, size, align, &want);
			int r2 = range_alloc_alloc(ra, size, align, &got);

			ck_assert_int_eq(r2, r1);
			if (r1)
				continue;
			ck_assert_uint_eq(got, base + want);
			memset(&map[want], 1, size);
			live[nlive++] = (struct ref_alloc){ want, size };
		} else if (op < 7) {
			uint64_t s = rand() % REF_UNITS;
			uint64_t n = 1 + rand() % 32;
			int expect;

			if (s + n > REF_UNITS)
				expect = -EINVAL;
			else
				expect = ref_free_range(map, s, n) ? 0 : -EEXIST;
			ck_assert_int_eq(range_alloc_reserve(ra, base + s, n),
					 expect);
			if (expect)
				continue;
			memset(&map[s], 1, n);
			live[nlive++] = (struct ref_alloc){ s, n };
		} else if (nlive) {
			unsigned i = rand() % nlive;

			ck_assert_int_eq(range_alloc_free(ra, base + live[i].start), 0);
			memset(&map[live[i].start], 0, live[i].size);
			live[i] = live[--nlive];
			/* A random non-start address is never freeable. */
			uint64_t s = rand() % REF_UNITS;
			bool is_start = false;
			for (unsigned j = 0; j < nlive; j++)
				is_start |= live[j].start == s;
			if (!is_start)
				ck_assert_int_eq(range_alloc_free(ra, base + s),
						 -ENOENT);
		}
	}
	range_alloc_destroy(ra);
}
END_TEST

static Suite *pci_cfg_suite(void)
{
	Suite *s = suite_create("pci_cfg");
	TCase *tc = tcase_create("cfg");

	tcase_add_test(tc, cfg_masks);
	tcase_add_test(tc, cfg_bar_sizing);
	tcase_add_test(tc, cfg_cap_chain);
	tcase_add_test(tc, alloc_edges);
	tcase_add_test(tc, alloc_random);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pci_cfg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
