// SPDX-License-Identifier: MIT
/*
 * sysfs checks against a fake tree shaped like the lab's host (an SR-IOV
 * NVMe PF and its VF, an e1000e, a group shared by two functions), and
 * the clear errors the type1 backend gives before it touches /dev/vfio
 * (and its pre-VM host check, the same ones).
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
#include "core/util.h"
#include "vfio/backend.h"
#include "vfio/sysfs.h"

#include "fake_sysfs.h"

static struct fake_sysfs fs;
static const char *root = fs.sys;  /* fake /sys */
static const char *droot = fs.dev; /* fake /dev */

static const struct fake_sysfs_dev devs[] = {
	/* An SR-IOV PF and its VF (only drivers and groups matter here). */
	{ .bdf = "0000:01:00.0", .driver = "nvme", .group = 4 },
	{ .bdf = "0000:01:00.1", .driver = "vfio-pci", .group = 6 },
	{ .bdf = "0000:02:00.0", .driver = "e1000e", .group = 5 },
	/* Group 7: one function ready, one busy. */
	{ .bdf = "0000:03:00.0", .driver = "vfio-pci", .group = 7 },
	{ .bdf = "0000:03:00.1", .driver = "snd_hda_intel", .group = 7 },
	/* No IOMMU. */
	{ .bdf = "0000:04:00.0", .driver = "vfio-pci",
	  .group = FAKE_SYSFS_NO_GROUP },
	/* Group 8: an unbound function and one on pcieport (DMA-safe). */
	{ .bdf = "0000:05:00.0", .group = 8 },
	{ .bdf = "0000:05:00.1", .driver = "pcieport", .group = 8 },
	{ .bdf = "0000:06:00.0", .driver = "mlx5_vfio_pci", .group = 9 },
};

static void setup(void)
{
	fake_sysfs_create(&fs, "iovmm-vfio-sysfs");
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++)
		fake_sysfs_add(&fs, &devs[i]);
}

static void teardown(void)
{
	fake_sysfs_destroy(&fs);
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

/* A hook that counts its calls (vfio/backend.h). */
struct count_hook {
	struct vfio_group_hook h;
	unsigned calls;
};

static void count_closed(struct vfio_group_hook *h)
{
	((struct count_hook *)h)->calls++;
}

/*
 * The type1 backend opening host on the fake tree: every refusal says
 * what to do, the pre-VM check says the same, nothing is handed out, and
 * the open's hook has run by the time the backend is gone (at once when
 * nothing was opened).
 */
static int try_create(const char *host, char *err, size_t errlen)
{
	struct gmem_opts o = { .size = 2 * 1024 * 1024, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };
	struct vfio_backend_cfg cfg = { .sysfs_root = root, .dev_root = droot };
	struct count_hook hook = { .h.closed = count_closed };
	struct vfio_open_req req = { .host = host, .on_closed = &hook.h };
	struct vfio_device *d = NULL;
	struct vfio_backend *b;
	char check[512];
	struct gmem *mem;
	int ret;

	ck_assert_int_eq(gmem_create(&o, &mem), 0);
	cfg.mem = mem;
	ck_assert_int_eq(vfio_type1_backend.create(&cfg, &b, err, errlen), 0);
	ck_assert_ptr_eq(b->type, &vfio_type1_backend);
	err[0] = '\0';
	ret = b->ops->open_device(b, &req, &d, err, errlen);
	ck_assert_ptr_null(d);
	ck_assert_uint_eq(hook.calls, 1);
	vfio_backend_destroy(b);
	ck_assert_uint_eq(hook.calls, 1);
	gmem_destroy(mem);
	/* The check before any VM gives the same answer, as far as it goes. */
	check[0] = '\0';
	ck_assert_int_eq(vfio_type1_backend.host_check(&cfg, host, check,
						       sizeof(check)),
			 ret >= 0 || strstr(err, "vfio/vfio") ? 0 : ret);
	if (ret < 0 && !strstr(err, "vfio/vfio"))
		ck_assert_str_eq(check, err);
	return ret;
}

START_TEST(create_refusals)
{
	char err[512], path[PATH_MAX];

	ck_assert_int_eq(try_create("bogus", err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "bogus") && strstr(err, "PCI address"), "%s", err);
	ck_assert_int_eq(try_create("0000:09:00.0", err, sizeof(err)), -ENODEV);
	ck_assert_str_eq(err, "vfio-pci: no PCI device 0000:09:00.0 (see iovmm vfio list)");
	/* No /dev/vfio/vfio yet. */
	ck_assert_int_eq(try_create("01:00.1", err, sizeof(err)), -ENODEV);
	ck_assert_str_eq(err, "VFIO is not available: load vfio-pci (modprobe vfio-pci)");
	fake_sysfs_add_devnode(&fs, "vfio/vfio");
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
