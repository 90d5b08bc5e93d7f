// SPDX-License-Identifier: MIT
/*
 * Cross-check the ACPI tables with ACPICA's iasl: every table is written to
 * a file and disassembled (iasl -d; it cannot read a bare RSDP, which
 * test_acpi checks byte by byte); the DSDT's disassembly is compiled back
 * (iasl). Any error, warning or checksum complaint fails the test. Exits 77
 * when iasl is not installed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/boot/acpi.h"
#include "core/layout.h"
#include "boot_test_util.h"

static const char *iasl;
static char dir[64];

/* Run a shell command, capture its output into *out; returns exit status. */
static int run(const char *cmd, char **out)
{
	char buf[4096];
	size_t len = 0, n;
	FILE *p = popen(cmd, "r");
	int st;

	ck_assert_ptr_nonnull(p);
	*out = calloc(1, 1);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		*out = realloc(*out, len + n + 1);
		memcpy(*out + len, buf, n);
		len += n;
		(*out)[len] = '\0';
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	ck_assert_msg(f != NULL, "missing %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

static void dump(struct gmem *mem, uint64_t gpa, uint32_t len, const char *name)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(gmem_ptr(mem, gpa, len), 1, len, f), len);
	fclose(f);
}

/* Disassemble name.dat; fail on errors/warnings or bad checksums. */
static void disasm(const char *name)
{
	char cmd[512], path[128], *out, *dsl;
	int st;

	snprintf(cmd, sizeof(cmd), "cd %s && '%s' -d %s.dat 2>&1", dir, iasl, name);
	st = run(cmd, &out);
	ck_assert_msg(st == 0, "iasl -d %s failed (%d):\n%s", name, st, out);
	ck_assert_msg(!strstr(out, "Error") && !strstr(out, "Warning"),
		      "iasl -d %s:\n%s", name, out);
	snprintf(path, sizeof(path), "%s/%s.dsl", dir, name);
	dsl = slurp(path);
	ck_assert_msg(!strstr(dsl, "Incorrect") && !strstr(dsl, "Invalid") &&
		      !strstr(dsl, "**** "),
		      "iasl complains in %s.dsl:\n%s", name, dsl);
	free(dsl);
	free(out);
}

START_TEST(iasl_accepts_tables)
{
	struct gmem *mem = tb_gmem(64 * 1024 * 1024);
	struct acpi_cfg c;
	uint64_t rsdp, x, f;
	uint8_t *r, *xs, *fa;
	const char *names[] = { "facp", "apic", "mcfg" };
	char cmd[512], *out;
	int st;

	acpi_cfg_default(&c, 2, gmem_end(mem));
	ck_assert_int_eq(acpi_build(mem, &c, &rsdp), 0);
	r = gmem_ptr(mem, rsdp, 36);
	x = tb_le64(r, 24);
	xs = gmem_ptr(mem, x, 36);
	dump(mem, x, tb_le32(xs, 4), "xsdt");
	dump(mem, tb_le32(r, 16), tb_le32(gmem_ptr(mem, tb_le32(r, 16), 36), 4),
	     "rsdt");
	for (int i = 0; i < 3; i++) {
		uint64_t t = tb_le64(xs, 36 + 8 * i);

		dump(mem, t, tb_le32(gmem_ptr(mem, t, 36), 4), names[i]);
	}
	f = tb_le64(xs, 36);
	fa = gmem_ptr(mem, f, 276);
	dump(mem, tb_le64(fa, 140), tb_le32(gmem_ptr(mem, tb_le64(fa, 140), 36), 4),
	     "dsdt");

	disasm("xsdt");
	disasm("rsdt");
	disasm("facp");
	disasm("apic");
	disasm("mcfg");
	disasm("dsdt");

	/* The disassembled DSDT must compile again without errors. */
	snprintf(cmd, sizeof(cmd), "cd %s && '%s' -p recompiled dsdt.dsl 2>&1",
		 dir, iasl);
	st = run(cmd, &out);
	ck_assert_msg(st == 0 && strstr(out, "0 Errors"),
		      "iasl dsdt.dsl failed (%d):\n%s", st, out);
	ck_assert_msg(strstr(out, "0 Warnings"), "iasl warnings:\n%s", out);
	free(out);
	gmem_destroy(mem);
}
END_TEST

int main(void)
{
	SRunner *sr;
	Suite *s;
	TCase *t;
	char cmd[128];
	int failed;

	iasl = getenv("IASL");
	if (!iasl || !*iasl)
		iasl = access("/usr/bin/iasl", X_OK) == 0 ? "/usr/bin/iasl" : NULL;
	if (!iasl) {
		printf("SKIP: iasl (acpica-tools) is not installed\n");
		return 77;
	}
	snprintf(dir, sizeof(dir), "/tmp/iovmm-iasl-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	s = suite_create("iasl");
	t = tcase_create("iasl");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, iasl_accepts_tables);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (!failed) {
		FILE *p = popen(cmd, "r");

		if (p)
			pclose(p);
	} else {
		printf("iasl outputs kept in %s\n", dir);
	}
	return failed ? 1 : 0;
}
