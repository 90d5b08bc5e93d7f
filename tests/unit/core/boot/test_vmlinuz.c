// SPDX-License-Identifier: MIT
/*
 * Load a real distribution bzImage (the newest /boot/vmlinuz-*, or
 * $IOVMM_TEST_BZIMAGE) and check the parsed header and entry state.
 * Exits 77 when no such kernel exists on this machine.
 */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/boot/boot.h"
#include "boot_test_util.h"

static const char *kernel;

START_TEST(vmlinuz_header)
{
	struct gmem *mem = tb_gmem(512ULL * 1024 * 1024);
	struct boot_cfg cfg = { .kernel_path = kernel, .cmdline = "console=ttyS0",
				.rsdp_gpa = 0xe0000 };
	struct boot_entry e;
	char err[256];
	uint8_t zp[4096], kbytes[0x200];
	FILE *f;
	long setup;
	int ret;

	ret = boot_load(mem, &cfg, &e, err, sizeof(err));
	ck_assert_msg(ret == 0, "boot_load(%s) = %d: %s", kernel, ret, err);
	printf("%s\n", err);
	ck_assert_int_eq(e.protocol, BOOT_LINUX64);
	ck_assert_uint_eq(e.rip, e.kernel_start + 0x200);
	ck_assert_int_eq(gmem_read(mem, e.rsi, zp, sizeof(zp)), 0);
	ck_assert_mem_eq(zp + 0x202, "HdrS", 4);
	ck_assert_uint_ge(tb_le16(zp, 0x206), 0x020c);
	ck_assert_uint_ne(tb_le16(zp, 0x236) & 1, 0);
	ck_assert_uint_eq(zp[0x210], 0xff);
	ck_assert_uint_eq(tb_le32(zp, 0x228), 0x2100);
	/* The bytes at the load address are the file's protected-mode part. */
	f = fopen(kernel, "rb");
	ck_assert_ptr_nonnull(f);
	setup = (zp[0x1f1] ? zp[0x1f1] : 4) + 1;
	ck_assert_int_eq(fseek(f, setup * 512, SEEK_SET), 0);
	ck_assert_uint_eq(fread(kbytes, 1, sizeof(kbytes), f), sizeof(kbytes));
	fclose(f);
	ck_assert_mem_eq(gmem_ptr(mem, e.kernel_start, sizeof(kbytes)), kbytes,
			 sizeof(kbytes));
	gmem_destroy(mem);
}
END_TEST

int main(void)
{
	static char found[4096];
	glob_t g;
	SRunner *sr;
	Suite *s;
	TCase *t;
	int failed;

	/*
	 * Where a Debian kernel can be: named explicitly, fetched by
	 * scripts/fetch-kernel.sh (make check runs it), or installed.
	 */
	static const char *const patterns[] = {
		"/var/cache/iovmm/kernel/boot/vmlinuz-*",
		"/boot/vmlinuz-*",
	};

	kernel = getenv("IOVMM_TEST_BZIMAGE");
	for (size_t i = 0; !kernel && i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		if (glob(patterns[i], 0, NULL, &g) == 0) {
			snprintf(found, sizeof(found), "%s", g.gl_pathv[g.gl_pathc - 1]);
			kernel = found;
		}
		globfree(&g);
	}
	if (!kernel) {
		printf("SKIP: no Debian kernel: run scripts/fetch-kernel.sh, or set IOVMM_TEST_BZIMAGE\n");
		return 77;
	}
	s = suite_create("vmlinuz");
	t = tcase_create("vmlinuz");
	tcase_add_test(t, vmlinuz_header);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
