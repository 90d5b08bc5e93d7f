// SPDX-License-Identifier: MIT
/*
 * core/memslot.c's slot numbering and checks, and the contract every back
 * end keeps (t_backend.h): with --kvm the same cases run against KVM.
 */
#include <check.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/memslot.h"
#include "fake_memslot.h"
#include "t_backend.h"

#define PAGE 4096

static struct memslots *ms;
static struct fake_memslots *fake; /* NULL on KVM */
static int vm_fd = -1;
static uint8_t *mem; /* 4 pages */

static void setup(void)
{
	mem = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(mem != MAP_FAILED);
	if (t_kvm) {
		vm_fd = t_kvm_vm();
		ck_assert_int_ge(vm_fd, 0);
		ck_assert_int_eq(memslots_kvm_create(vm_fd, &ms), 0);
		fake = NULL;
		return;
	}
	ck_assert_int_eq(fake_memslots_create(&ms, &fake), 0);
}

static void teardown(void)
{
	memslots_destroy(ms);
	if (vm_fd >= 0)
		close(vm_fd);
	munmap(mem, 4 * PAGE);
}

START_TEST(add_overlap_del)
{
	int a, b, c;

	a = memslot_add(ms, 0x100000, 2 * PAGE, mem, false);
	ck_assert_int_ge(a, 0);
	/* Overlapping another slot: the hypervisor's -EEXIST. */
	ck_assert_int_eq(memslot_add(ms, 0x101000, 2 * PAGE, mem + 2 * PAGE,
				     false), -EEXIST);
	b = memslot_add(ms, 0x102000, 2 * PAGE, mem + 2 * PAGE, true);
	ck_assert_int_ge(b, 0);
	ck_assert_int_ne(a, b);
	if (fake) {
		struct fake_memslot m;

		ck_assert(fake_memslots_lookup(fake, 0x103fff, &m));
		ck_assert_ptr_eq(m.hva, mem + 2 * PAGE);
		ck_assert(m.readonly);
		ck_assert_uint_eq(fake_memslots_count(fake), 2);
	}
	ck_assert_int_eq(memslot_del(ms, a), 0);
	ck_assert_int_eq(memslot_del(ms, a), -ENOENT);
	/* The range and the slot id are free again. */
	c = memslot_add(ms, 0x101000, PAGE, mem, false);
	ck_assert_int_eq(c, a);
	ck_assert_int_eq(memslot_del(ms, c), 0);
	ck_assert_int_eq(memslot_del(ms, b), 0);
	if (fake)
		ck_assert_uint_eq(fake_memslots_count(fake), 0);
}
END_TEST

START_TEST(refused_before_the_backend)
{
	ck_assert_int_eq(memslot_add(ms, 0x100800, PAGE, mem, false), -EINVAL);
	ck_assert_int_eq(memslot_add(ms, 0x100000, PAGE + 1, mem, false), -EINVAL);
	ck_assert_int_eq(memslot_add(ms, 0x100000, PAGE, mem + 1, false), -EINVAL);
	ck_assert_int_eq(memslot_add(ms, 0x100000, 0, mem, false), -EINVAL);
	ck_assert_int_eq(memslot_add(ms, ~0ULL & ~(uint64_t)(PAGE - 1),
				     2 * PAGE, mem, false), -EINVAL);
	ck_assert_int_eq(memslot_del(ms, -1), -ENOENT);
	ck_assert_int_eq(memslot_del(ms, 100000), -ENOENT);
}
END_TEST

/* Slot ids run out: -ENOSPC (the fake has FAKE_MEMSLOT_NR of them). */
START_TEST(slots_run_out)
{
	int n = 0, ret;

	while ((ret = memslot_add(ms, (uint64_t)n * 0x100000, PAGE, mem,
				  false)) >= 0)
		n++;
	ck_assert_int_eq(ret, -ENOSPC);
	ck_assert_int_eq(n, FAKE_MEMSLOT_NR);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("memslot");
	TCase *tc = tcase_create("contract");
	SRunner *sr;
	int failed, ret = t_backend_select(argc, argv);

	if (ret)
		return ret;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, add_overlap_del);
	tcase_add_test(tc, refused_before_the_backend);
	if (!t_kvm) /* KVM has hundreds */
		tcase_add_test(tc, slots_run_out);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
