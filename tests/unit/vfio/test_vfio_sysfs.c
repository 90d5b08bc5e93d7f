// SPDX-License-Identifier: MIT
/*
 * sysfs checks against a fake tree shaped like the lab's host (an SR-IOV
 * NVMe PF and its VF, an e1000e, a group shared by two functions), and
 * the clear errors vfio_pci_create() gives before it touches /dev/vfio.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/gmem.h"
#include "core/layout.h"
#include "vfio/sysfs.h"
#include "vfio/vfio.h"

static char base[64];  /* the temporary directory */
static char root[128]; /* fake /sys */
static char droot[128]; /* fake /dev */

static void mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
	mkdir(tmp, 0755);
}

static void link_to(const char *target, const char *link)
{
	ck_assert_msg(symlink(target, link) == 0, "%s -> %s", link, target);
}

/* A device under /sys/devices, linked from bus/pci/devices, in group g. */
static void add_dev(const char *bdf, const char *drv, int g)
{
	char dev[PATH_MAX], p[PATH_MAX], t[PATH_MAX];

	snprintf(dev, sizeof(dev), "%s/devices/pci0000:00/%s", root, bdf);
	mkdirs(dev);
	snprintf(p, sizeof(p), "%s/bus/pci/devices", root);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/bus/pci/devices/%s", root, bdf);
	snprintf(t, sizeof(t), "../../../devices/pci0000:00/%s", bdf);
	link_to(t, p);
	if (drv) {
		snprintf(p, sizeof(p), "%s/bus/pci/drivers/%s", root, drv);
		mkdirs(p);
		snprintf(p, sizeof(p), "%s/devices/pci0000:00/%s/driver", root, bdf);
		snprintf(t, sizeof(t), "../../../bus/pci/drivers/%s", drv);
		link_to(t, p);
	}
	if (g >= 0) {
		snprintf(p, sizeof(p), "%s/kernel/iommu_groups/%d/devices", root, g);
		mkdirs(p);
		snprintf(p, sizeof(p), "%s/devices/pci0000:00/%s/iommu_group", root,
			 bdf);
		snprintf(t, sizeof(t), "../../../kernel/iommu_groups/%d", g);
		link_to(t, p);
		snprintf(p, sizeof(p), "%s/kernel/iommu_groups/%d/devices/%s", root,
			 g, bdf);
		snprintf(t, sizeof(t), "../../../../devices/pci0000:00/%s", bdf);
		link_to(t, p);
	}
}

static void setup(void)
{
	snprintf(base, sizeof(base), "/tmp/iovmm-vfio-sysfs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	snprintf(root, sizeof(root), "%s/sys", base);
	snprintf(droot, sizeof(droot), "%s/dev", base);
	mkdirs(root);
	mkdirs(droot);
	add_dev("0000:01:00.0", "nvme", 4);      /* the PF */
	add_dev("0000:01:00.1", "vfio-pci", 6);  /* its VF */
	add_dev("0000:02:00.0", "e1000e", 5);
	add_dev("0000:03:00.0", "vfio-pci", 7);  /* shares group 7 ... */
	add_dev("0000:03:00.1", "snd_hda_intel", 7); /* ... with a busy one */
	add_dev("0000:04:00.0", "vfio-pci", -1); /* no IOMMU */
	add_dev("0000:05:00.0", NULL, 8);        /* unbound */
	add_dev("0000:05:00.1", "pcieport", 8);
	add_dev("0000:06:00.0", "mlx5_vfio_pci", 9);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(parse_bdf)
{
	char b[VFIO_BDF_LEN];

	ck_assert_int_eq(vfio_sysfs_parse_bdf("0000:01:00.1", b), 0);
	ck_assert_str_eq(b, "0000:01:00.1");
	ck_assert_int_eq(vfio_sysfs_parse_bdf("01:00.1", b), 0);
	ck_assert_str_eq(b, "0000:01:00.1");
	ck_assert_int_eq(vfio_sysfs_parse_bdf("0001:3B:1F.7", b), 0);
	ck_assert_str_eq(b, "0001:3b:1f.7");
	ck_assert_int_eq(vfio_sysfs_parse_bdf("/sys/bus/pci/devices/0000:01:00.1/", b), 0);
	ck_assert_str_eq(b, "0000:01:00.1");
	ck_assert_int_eq(vfio_sysfs_parse_bdf("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1", b), 0);
	ck_assert_str_eq(b, "0000:01:00.1");
	ck_assert_int_eq(vfio_sysfs_parse_bdf("01:20.0", b), -EINVAL); /* slot > 31 */
	ck_assert_int_eq(vfio_sysfs_parse_bdf("01:00.8", b), -EINVAL);
	ck_assert_int_eq(vfio_sysfs_parse_bdf("0000:01:00.1x", b), -EINVAL);
	ck_assert_int_eq(vfio_sysfs_parse_bdf("", b), -EINVAL);
	ck_assert_int_eq(vfio_sysfs_parse_bdf("nvme0", b), -EINVAL);
	ck_assert_int_eq(vfio_sysfs_parse_bdf("/", b), -EINVAL);
}
END_TEST

START_TEST(driver_group_viability)
{
	char drv[VFIO_DRV_LEN], blk[VFIO_BDF_LEN];
	int g;

	ck_assert(vfio_sysfs_dev_exists(root, "0000:01:00.1"));
	ck_assert(!vfio_sysfs_dev_exists(root, "0000:09:00.0"));
	ck_assert_int_eq(vfio_sysfs_driver(root, "0000:01:00.0", drv, sizeof(drv)), 0);
	ck_assert_str_eq(drv, "nvme");
	ck_assert_int_eq(vfio_sysfs_driver(root, "0000:05:00.0", drv, sizeof(drv)), 0);
	ck_assert_str_eq(drv, "");
	ck_assert_int_eq(vfio_sysfs_driver(root, "0000:09:00.0", drv, sizeof(drv)), -ENOENT);
	ck_assert_int_eq(vfio_sysfs_group(root, "0000:01:00.1", &g), 0);
	ck_assert_int_eq(g, 6);
	ck_assert_int_eq(vfio_sysfs_group(root, "0000:04:00.0", &g), -ENOENT);
	ck_assert_int_eq(vfio_sysfs_group_blocker(root, 6, blk, drv, sizeof(drv)), 0);
	ck_assert_int_eq(vfio_sysfs_group_blocker(root, 8, blk, drv, sizeof(drv)), 0);
	ck_assert_int_eq(vfio_sysfs_group_blocker(root, 7, blk, drv, sizeof(drv)), -EBUSY);
	ck_assert_str_eq(blk, "0000:03:00.1");
	ck_assert_str_eq(drv, "snd_hda_intel");
	ck_assert_int_eq(vfio_sysfs_group_blocker(root, 4, blk, drv, sizeof(drv)), -EBUSY);
	ck_assert_int_eq(vfio_sysfs_group_blocker(root, 99, NULL, NULL, 0), -ENOENT);
	/* A vendor variant of vfio-pci leaves its group viable (vfio/host.h). */
	ck_assert_int_eq(vfio_sysfs_group_blocker(root, 9, blk, drv, sizeof(drv)), 0);
}
END_TEST

/* vfio_pci_create() on the fake tree: every refusal says what to do. */
static int try_create(const char *host, char *err, size_t errlen)
{
	struct gmem_opts o = { .size = 2 * 1024 * 1024, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };
	struct vfio_container *c = NULL;
	struct vfio_pci_config cfg = { .host = host };
	struct vfio_ctx ctx = { .container = &c, .sysfs_root = root,
				.dev_root = droot };
	struct vfio_pci *v = NULL;
	struct gmem *mem;
	int ret;

	ck_assert_int_eq(gmem_create(&o, &mem), 0);
	ctx.mem = mem;
	err[0] = '\0';
	ret = vfio_pci_create(&cfg, &ctx, &v, err, errlen);
	ck_assert_ptr_null(v);
	ck_assert_ptr_null(c); /* nothing left behind */
	gmem_destroy(mem);
	return ret;
}

START_TEST(create_refusals)
{
	char err[512], path[PATH_MAX];
	int fd;

	ck_assert_int_eq(try_create("bogus", err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "bogus") && strstr(err, "PCI address"), "%s", err);
	ck_assert_int_eq(try_create("0000:09:00.0", err, sizeof(err)), -ENODEV);
	ck_assert_str_eq(err, "vfio-pci: no PCI device 0000:09:00.0 (see iovmm vfio list)");
	/* No /dev/vfio/vfio yet. */
	ck_assert_int_eq(try_create("01:00.1", err, sizeof(err)), -ENODEV);
	ck_assert_str_eq(err, "VFIO is not available: load vfio-pci (modprobe vfio-pci)");
	snprintf(path, sizeof(path), "%s/vfio", droot);
	mkdirs(path);
	snprintf(path, sizeof(path), "%s/vfio/vfio", droot);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(try_create("0000:01:00.0", err, sizeof(err)), -EBUSY);
	ck_assert_str_eq(err, "0000:01:00.0 is bound to nvme, not vfio-pci: run iovmm vfio bind 0000:01:00.0");
	ck_assert_int_eq(try_create("05:00.0", err, sizeof(err)), -EBUSY);
	ck_assert_str_eq(err, "0000:05:00.0 has no driver, not vfio-pci: run iovmm vfio bind 0000:05:00.0");
	ck_assert_int_eq(try_create("0000:04:00.0", err, sizeof(err)), -ENODEV);
	ck_assert_msg(strstr(err, "no IOMMU group"), "%s", err);
	ck_assert_int_eq(try_create("0000:03:00.0", err, sizeof(err)), -EBUSY);
	ck_assert_msg(strstr(err, "IOMMU group 7 is not viable: 0000:03:00.1") &&
		      strstr(err, "snd_hda_intel"), "%s", err);
	/* Past the sysfs checks: the fake /dev/vfio/vfio is no VFIO device. */
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:01:00.1", root);
	ck_assert_int_lt(try_create(path, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "vfio/vfio"), "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vfio-sysfs");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, parse_bdf);
	tcase_add_test(tc, driver_group_viability);
	tcase_add_test(tc, create_refusals);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
