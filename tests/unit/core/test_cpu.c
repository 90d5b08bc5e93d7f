// SPDX-License-Identifier: MIT
/*
 * CPUID patching: on a table shaped like KVM's (suite 'unit'), and with
 * --kvm on what KVM really reports on this host (suite 'integ').
 */
#include <check.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cpu.h"
#include "core/util.h"
#include "t_backend.h"

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

/*
 * What KVM_GET_SUPPORTED_CPUID gives on an AMD EPYC host under KVM, cut to
 * the leaves cpu_patch_cpuid() reads or writes, with room to add some.
 */
static struct kvm_cpuid2 *recorded(void)
{
	static const struct kvm_cpuid_entry2 leaves[] = {
		{ .function = 0, .eax = 0x10, .ebx = 0x68747541,
		  .ecx = 0x444d4163, .edx = 0x69746e65 },
		{ .function = 1, .eax = 0x00a00f11, .ebx = 0x00000800,
		  .ecx = 0x76f8320b, .edx = 0x078bfbff },
		{ .function = 0xb, .index = 0,
		  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0, .ebx = 1,
		  .ecx = 0x100, .edx = 0 },
		{ .function = 0xb, .index = 1,
		  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0, .ebx = 1,
		  .ecx = 0x201, .edx = 0 },
		{ .function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b,
		  .ecx = 0x564b4d56, .edx = 0x4d },
		{ .function = 0x40000001, .eax = 0x01007afb },
		{ .function = 0x80000000, .eax = 0x80000021 },
	};
	size_t room = ARRAY_SIZE(leaves) + 8;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + room * sizeof(c->entries[0]));

	ck_assert_ptr_nonnull(c);
	c->nent = ARRAY_SIZE(leaves);
	memcpy(c->entries, leaves, sizeof(leaves));
	return c;
}

static bool use_kvm;

static struct kvm_cpuid2 *supported(void)
{
	struct kvm_cpuid2 *c = NULL;
	int fd;

	if (!use_kvm)
		return recorded();
	fd = open("/dev/kvm", O_RDWR);
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

int main(int argc, char **argv)
{
	Suite *s = suite_create("cpu");
	TCase *tc = tcase_create("cpuid");
	SRunner *sr;
	int failed, ret = t_backend_select(argc, argv);

	if (ret)
		return ret;
	use_kvm = t_kvm;
	tcase_add_test(tc, test_apic_ids_and_hypervisor_bit);
	tcase_add_test(tc, test_no_tsc_leaf_without_frequency);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
