// SPDX-License-Identifier: MIT
/* CPUID patching, against what KVM really reports on this host. */
#include <check.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/cpu.h"

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static struct kvm_cpuid2 *supported(void)
{
	struct kvm_cpuid2 *c = NULL;
	int fd = open("/dev/kvm", O_RDWR);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(cpu_supported_cpuid(fd, &c), 0);
	close(fd);
	return c;
}

START_TEST(test_apic_ids_and_hypervisor_bit)
{
	struct kvm_cpuid2 *c = supported();
	struct kvm_cpuid_entry2 *e;

	cpu_patch_cpuid(c, 3, 4, 2500000);
	e = find(c, 1, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->ebx >> 24, 3);
	ck_assert_uint_eq((e->ebx >> 16) & 0xff, 4);
	ck_assert(e->ecx & (1u << 31));
	e = find(c, 0x40000000, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_ge(e->eax, 0x40000010);
	e = find(c, 0x40000010, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->eax, 2500000);
	e = find(c, 0xb, 1);
	if (e) {
		ck_assert_uint_eq(e->edx, 3);
		ck_assert_uint_eq(e->ebx, 4);
		ck_assert_uint_eq(e->eax, 2);
	}
	free(c);
}
END_TEST

START_TEST(test_no_tsc_leaf_without_frequency)
{
	struct kvm_cpuid2 *c = supported();
	uint32_t before = c->nent;

	cpu_patch_cpuid(c, 0, 1, 0);
	ck_assert_uint_eq(c->nent, before);
	ck_assert_ptr_null(find(c, 0x40000010, 0));
	free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpu");
	TCase *tc = tcase_create("cpuid");
	SRunner *sr;
	int failed;

	if (access("/dev/kvm", R_OK | W_OK)) {
		puts("SKIP: /dev/kvm not usable");
		return 77;
	}
	tcase_add_test(tc, test_apic_ids_and_hypervisor_bit);
	tcase_add_test(tc, test_no_tsc_leaf_without_frequency);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
