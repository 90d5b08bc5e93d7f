// SPDX-License-Identifier: MIT
/*
 * VF tokens: generation (RFC 4122 version 4, stored 0600, one per PF even
 * with concurrent generators), operator-given tokens, and the answer for
 * a VF open: no token when the PF has a kernel driver, the stored one when
 * the PF is on vfio-pci, a clear refusal when none is stored.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sriov/sriov_internal.h"
#include "tests/unit/sriov/fake_host.h"

static char err[512];

START_TEST(test_generate)
{
	char t1[SRIOV_TOKEN_SIZE], t2[SRIOV_TOKEN_SIZE], path[600];
	struct stat st;

	ck_assert_int_eq(sriov_token_get(&fh.env, FH_NIC_PF, false, t1, err,
					 sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "no VF token stored for 0000:3b:00.0 (iovmm sriov "
			 "token 0000:3b:00.0 --generate or --set UUID)");
	ck_assert_int_eq(sriov_token_get(&fh.env, FH_NIC_NETDEV, true, t1, err,
					 sizeof(err)), 0);
	ck_assert_uint_eq(strlen(t1), 36);
	ck_assert_int_eq(t1[8], '-');
	ck_assert_int_eq(t1[14], '4'); /* version 4 */
	ck_assert_ptr_nonnull(strchr("89ab", t1[19])); /* variant 10 */
	ck_assert_int_eq(sriov_token_get(&fh.env, FH_NIC_PF, false, t2, err,
					 sizeof(err)), 0);
	ck_assert_str_eq(t1, t2);
	snprintf(path, sizeof(path), "%s/tokens/" FH_NIC_PF, fh.run);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	/* Another PF, another token. */
	ck_assert_int_eq(sriov_token_get(&fh.env, FH_NVME_PF, true, t2, err,
					 sizeof(err)), 0);
	ck_assert_str_ne(t1, t2);
	ck_assert_int_eq(sriov_token_get(&fh.env, FH_AHCI, true, t2, err,
					 sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(test_generate_race)
{
	char mine[SRIOV_TOKEN_SIZE], theirs[SRIOV_TOKEN_SIZE];
	int p[2], status;
	pid_t kids[6];

	ck_assert_int_eq(pipe(p), 0);
	for (int i = 0; i < 6; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			char t[SRIOV_TOKEN_SIZE];

			if (sriov_token_get(&fh.env, FH_NVME_PF, true, t, NULL,
					    0) ||
			    write(p[1], t, 36) != 36)
				_exit(1);
			_exit(0);
		}
	}
	ck_assert_int_eq(sriov_token_get(&fh.env, FH_NVME_PF, true, mine, err,
					 sizeof(err)), 0);
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(read(p[0], theirs, 36), 36);
		theirs[36] = '\0';
		ck_assert_str_eq(theirs, mine);
		waitpid(kids[i], &status, 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_set)
{
	char t[SRIOV_TOKEN_SIZE];

	ck_assert_int_eq(sriov_token_set(&fh.env, FH_NVME_PF,
					 "4D3CD8A2-8F45-4B7E-9A1C-2E6F0B5D7C91",
					 err, sizeof(err)), 0);
	ck_assert_int_eq(sriov_token_get(&fh.env, FH_NVME_PF, false, t, err,
					 sizeof(err)), 0);
	ck_assert_str_eq(t, "4d3cd8a2-8f45-4b7e-9a1c-2e6f0b5d7c91");
	{
		static const char *const bad[] = {
			"", "4d3cd8a2-8f45-4b7e-9a1c-2e6f0b5d7c9",
			"4d3cd8a2-8f45-4b7e-9a1c-2e6f0b5d7c911",
			"4d3cd8a28f45-4b7e-9a1c-2e6f0b5d7c91a",
			"4d3cd8a2-8f45-4b7e-9a1c-2e6f0b5d7cg1",
			"4d3cd8a2+8f45-4b7e-9a1c-2e6f0b5d7c91",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			ck_assert_int_eq(sriov_token_set(&fh.env, FH_NVME_PF,
							 bad[i], err,
							 sizeof(err)), -EINVAL);
	}
	ck_assert_ptr_nonnull(strstr(err, "invalid VF token"));
	/* The stored one survived the bad attempts. */
	ck_assert_int_eq(sriov_token_get(&fh.env, FH_NVME_PF, false, t, err,
					 sizeof(err)), 0);
	ck_assert_str_eq(t, "4d3cd8a2-8f45-4b7e-9a1c-2e6f0b5d7c91");
	/* A malformed file is an error, not a token. */
	{
		char path[600];
		FILE *f;

		snprintf(path, sizeof(path), "%s/tokens/" FH_NVME_PF, fh.run);
		f = fopen(path, "w");
		fputs("not-a-uuid\n", f);
		fclose(f);
	}
	ck_assert_int_eq(sriov_token_get(&fh.env, FH_NVME_PF, true, t, err,
					 sizeof(err)), -EBADMSG);
}
END_TEST

START_TEST(test_vf_token)
{
	char t[SRIOV_TOKEN_SIZE], stored[SRIOV_TOKEN_SIZE];

	fake_sysfs_enable_vfs(&fh.fs, FH_NVME_PF, 1, false);
	/* PF on its kernel driver: no token. Not a VF: no token. */
	ck_assert_int_eq(sriov_vf_token_env(&fh.env, "0000:01:00.1", t, err,
					    sizeof(err)), 0);
	ck_assert_str_eq(t, "");
	ck_assert_int_eq(sriov_vf_token_env(&fh.env, FH_AHCI, t, err,
					    sizeof(err)), 0);
	ck_assert_str_eq(t, "");
	ck_assert_int_eq(sriov_vf_token_env(&fh.env, "0000:99:00.0", t, err,
					    sizeof(err)), -ENODEV);
	/* PF owned by vfio-pci (a userspace PF driver). */
	fake_sysfs_bind(&fh.fs, FH_NVME_PF, "vfio-pci");
	ck_assert_int_eq(sriov_vf_token_env(&fh.env, "01:00.1", t, err,
					    sizeof(err)), -ENOKEY);
	ck_assert_str_eq(err, "0000:01:00.1 is a VF of 0000:01:00.0, which is "
			 "bound to vfio-pci: opening it needs the VF token its "
			 "PF driver set (iovmm sriov token 0000:01:00.0 --set "
			 "UUID)");
	ck_assert_int_eq(sriov_token_get(&fh.env, FH_NVME_PF, true, stored, err,
					 sizeof(err)), 0);
	ck_assert_int_eq(sriov_vf_token_env(&fh.env, "0000:01:00.1", t, err,
					    sizeof(err)), 0);
	ck_assert_str_eq(t, stored);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sriov-token");
	TCase *tc = tcase_create("all");

	tcase_add_checked_fixture(tc, fh_setup, fh_teardown);
	tcase_add_test(tc, test_generate);
	tcase_add_test(tc, test_generate_race);
	tcase_add_test(tc, test_set);
	tcase_add_test(tc, test_vf_token);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
