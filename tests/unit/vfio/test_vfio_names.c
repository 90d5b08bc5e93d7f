// SPDX-License-Identifier: MIT
/*
 * PCI names through libpci and the pci.ids database (Debian package
 * pci.ids). The ids are the lab's devices; the expected strings are the
 * database's. Exits 77 when the database is not installed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfio/host.h"

#define IDS "/usr/share/misc/pci.ids"

START_TEST(names_real_ids)
{
	struct vfio_host_names *n;
	char buf[256];

	ck_assert_int_eq(vfio_host_names_create(IDS, &n), 0);
	vfio_host_names_device(n, 0x8086, 0x10d3, buf, sizeof(buf));
	ck_assert_str_eq(buf, "82574L Gigabit Network Connection");
	vfio_host_names_vendor(n, 0x8086, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Intel Corporation");
	vfio_host_names_device(n, 0x1b36, 0x0010, buf, sizeof(buf));
	ck_assert_str_eq(buf, "QEMU NVM Express Controller");
	vfio_host_names_vendor(n, 0x1b36, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Red Hat, Inc.");
	vfio_host_names_class(n, 0x010802, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Non-Volatile memory controller (NVM Express)");
	vfio_host_names_class(n, 0x020000, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Ethernet controller");
	vfio_host_names_class(n, 0x060400, buf, sizeof(buf));
	ck_assert_str_eq(buf, "PCI bridge (Normal decode)");
	/* Unknown ids: empty, never a number or "<unknown>". */
	vfio_host_names_device(n, 0x1b36, 0x7777, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	vfio_host_names_vendor(n, 0x0002, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	vfio_host_names_class(n, 0xfe0000, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	/* A small buffer truncates, NUL-terminated. */
	vfio_host_names_device(n, 0x8086, 0x10d3, buf, 7);
	ck_assert_str_eq(buf, "82574L");
	vfio_host_names_destroy(n);
	vfio_host_names_destroy(NULL);
}
END_TEST

/* A database libpci cannot parse: its error hook would exit(); ours
 * returns to the caller and every lookup answers "". */
START_TEST(names_broken_db)
{
	char path[] = "/tmp/iovmm-pciids-XXXXXX";
	struct vfio_host_names *n;
	char buf[64] = "x";
	int fd = mkstemp(path);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("8086  Intel Corporation\n\tzzzz  not hex\n\t\t\tjunk\n", f);
	fclose(f);
	ck_assert_int_eq(vfio_host_names_create(path, &n), 0);
	vfio_host_names_vendor(n, 0x8086, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	vfio_host_names_device(n, 0x8086, 0x10d3, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	vfio_host_names_destroy(n);
	unlink(path);

	ck_assert_int_eq(vfio_host_names_create("/nonexistent/pci.ids", &n),
			 0);
	vfio_host_names_vendor(n, 0x8086, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	vfio_host_names_destroy(n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vfio_names");
	TCase *tc = tcase_create("names");
	SRunner *sr;
	int failed;

	if (access(IDS, R_OK)) {
		printf("SKIP: %s is missing (Debian package pci.ids)\n", IDS);
		return 77;
	}
	tcase_add_test(tc, names_real_ids);
	tcase_add_test(tc, names_broken_db);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
