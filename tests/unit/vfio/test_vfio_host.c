// SPDX-License-Identifier: MIT
/*
 * vfio/host.c over a fake sysfs tree shaped like the lab's L1 (QEMU q35:
 * ICH9 functions sharing one group, a PCIe root port with an SR-IOV NVMe
 * PF and its VF, an e1000e behind another port). The shared fake host
 * (tests/unit/fakes/fake_sysfs.h) plays the kernel's part through
 * vfio_host_ops: writes to driver_override, unbind and drivers_probe move
 * the `driver` symlinks the way the PCI core does (override first; a VF of
 * a PF with autoprobe off only probes with an override; vfio-pci refuses
 * bridges and PFs with VFs enabled) and are logged in order.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "tools/vfio_cmd.h"
#include "vfio/host.h"

#include "fake_sysfs.h"

/* The NVMe PF's capability: 2 VFs from 01:00.1, the VF in group 3. */
static const struct fake_sysfs_sriov nvme_sriov = {
	.cap_total = 2, .sysfs_total = 2, .offset = 1, .stride = 1,
	.vf_device = 0x0010, .vf_driver = "nvme", .vf_group = 3,
};

static const struct fake_sysfs_dev fake_devs[] = {
	{ .bdf = "0000:00:00.0", .vendor = 0x8086, .device = 0x29c0,
	  .class_code = 0x060000, .group = 0 },
	{ .bdf = "0000:00:01.0", .vendor = 0x1b36, .device = 0x000c,
	  .class_code = 0x060400, .driver = "pcieport", .group = 1 },
	{ .bdf = "0000:01:00.0", .parent = "0000:00:01.0", .vendor = 0x1b36,
	  .device = 0x0010, .class_code = 0x010802, .driver = "nvme",
	  .group = 2, .sriov = &nvme_sriov },
	/* No config file: the class code says "bridge". */
	{ .bdf = "0000:00:02.0", .vendor = 0x1b36, .device = 0x000c,
	  .class_code = 0x060400, .driver = "pcieport", .group = 4,
	  .no_config = true },
	{ .bdf = "0000:02:00.0", .parent = "0000:00:02.0", .vendor = 0x8086,
	  .device = 0x10d3, .class_code = 0x020000, .driver = "e1000e",
	  .group = 10 },
	{ .bdf = "0000:00:1f.0", .vendor = 0x8086, .device = 0x2918,
	  .class_code = 0x060100, .driver = "lpc_ich", .group = 5 },
	{ .bdf = "0000:00:1f.2", .vendor = 0x8086, .device = 0x2922,
	  .class_code = 0x010601, .driver = "ahci", .group = 5 },
	{ .bdf = "0000:00:1f.3", .vendor = 0x8086, .device = 0x2930,
	  .class_code = 0x0c0500, .native = "i801_smbus", .group = 5 },
};

static struct fake_sysfs fs;

/* snprintf that fails the test instead of truncating. */
__attribute__((format(printf, 3, 4)))
static void pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	ck_assert_msg(n >= 0 && (size_t)n < len, "path too long: %s", fmt);
}

/* The drivers not bound at start are loaded too; the PF has its VF, with
 * sriov_drivers_autoprobe off (no driver takes it), as in the lab. */
static void fake_setup(void)
{
	fake_sysfs_create(&fs, "iovmm-vfio-host");
	fake_sysfs_add_driver(&fs, "i801_smbus");
	fake_sysfs_add_driver(&fs, "vfio-pci");
	for (size_t i = 0; i < ARRAY_SIZE(fake_devs); i++)
		fake_sysfs_add(&fs, &fake_devs[i]);
	fake_sysfs_enable_vfs(&fs, "0000:01:00.0", 1, false);
}

static void fake_teardown(void)
{
	fake_sysfs_destroy(&fs);
}

static const char *driver_of(const char *bdf)
{
	static char buf[64];

	fake_sysfs_driver(&fs, bdf, buf, sizeof(buf));
	return buf;
}

static const char *override_of(const char *bdf)
{
	static char buf[64];

	ck_assert_int_eq(fake_sysfs_attr(&fs, bdf, "driver_override", buf,
					 sizeof(buf)), 0);
	return buf;
}

static bool state_exists(const char *bdf)
{
	char path[PATH_MAX];

	pathf(path, sizeof(path), "%s/%s", fs.state, bdf);
	return access(path, F_OK) == 0;
}

#define WRITE_EQ(i, s) ck_assert_str_eq(fs.writes[i], s)

/* ---- tests ---- */

START_TEST(bdf_syntax)
{
	char out[VFIO_HOST_BDF_SIZE], err[256];

	ck_assert_int_eq(vfio_host_parse_bdf("0000:01:00.1", out, err, 256), 0);
	ck_assert_str_eq(out, "0000:01:00.1");
	ck_assert_int_eq(vfio_host_parse_bdf("01:00.1", out, err, 256), 0);
	ck_assert_str_eq(out, "0000:01:00.1");
	ck_assert_int_eq(vfio_host_parse_bdf("0001:AF:1F.7", out, err, 256), 0);
	ck_assert_str_eq(out, "0001:af:1f.7");
	ck_assert_int_eq(vfio_host_parse_bdf(
		"/sys/bus/pci/devices/0000:02:00.0/", out, err, 256), 0);
	ck_assert_str_eq(out, "0000:02:00.0");
	ck_assert_int_eq(vfio_host_parse_bdf(
		"/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0", out, err,
		256), 0);
	ck_assert_str_eq(out, "0000:01:00.0");

	static const char *const bad[] = {
		"", "1:00.1", "01:00", "01:00.8", "01:20.0", "0000:01:00.10",
		"000:01:00.1", "0000-01:00.1", "0000:01:00.1x", "zz:00.0",
		" 01:00.1", "01:00.1 ", "/sys/bus/pci/devices/01:00.1",
		"/sys/bus/pci/devices/", "0000:01:0.1", "0000:01:00:1",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		ck_assert_msg(vfio_host_parse_bdf(bad[i], out, err, 256) ==
			      -EINVAL, "accepted '%s'", bad[i]);
		ck_assert_msg(strstr(err, "PCI address") != NULL, "%s", err);
	}
	ck_assert_int_eq(vfio_host_parse_bdf(NULL, out, err, 256), -EINVAL);
}
END_TEST

START_TEST(dma_safe_drivers)
{
	ck_assert(vfio_host_driver_dma_safe(""));
	ck_assert(vfio_host_driver_dma_safe("vfio-pci"));
	ck_assert(vfio_host_driver_dma_safe("pci-stub"));
	ck_assert(vfio_host_driver_dma_safe("pcieport"));
	ck_assert(vfio_host_driver_dma_safe("mlx5_vfio_pci"));
	ck_assert(!vfio_host_driver_dma_safe("_vfio_pci"));
	ck_assert(!vfio_host_driver_dma_safe("nvme"));
	ck_assert(!vfio_host_driver_dma_safe("e1000e"));
	ck_assert(!vfio_host_driver_dma_safe("vfio-pci2"));
}
END_TEST

START_TEST(read_pf_vf)
{
	struct vfio_host_dev d;
	char err[256] = "";

	ck_assert_int_eq(vfio_host_dev_read(&fs.env, "0000:01:00.0", &d, err,
					    256), 0);
	ck_assert_uint_eq(d.vendor, 0x1b36);
	ck_assert_uint_eq(d.device, 0x0010);
	ck_assert_uint_eq(d.class_code, 0x010802);
	ck_assert_str_eq(d.driver, "nvme");
	ck_assert_str_eq(d.override, "");
	ck_assert_int_eq(d.group, 2);
	ck_assert_int_eq(d.role, VFIO_HOST_SRIOV_PF);
	ck_assert_uint_eq(d.totalvfs, 2);
	ck_assert_uint_eq(d.numvfs, 1);
	ck_assert(!d.bridge);

	ck_assert_int_eq(vfio_host_dev_read(&fs.env, "0000:01:00.1", &d, err,
					    256), 0);
	ck_assert_int_eq(d.role, VFIO_HOST_SRIOV_VF);
	ck_assert_str_eq(d.physfn, "0000:01:00.0");
	ck_assert_str_eq(d.driver, "");
	ck_assert_int_eq(d.group, 3);

	/* Bridges: from the config header, or from the class without one. */
	ck_assert_int_eq(vfio_host_dev_read(&fs.env, "0000:00:01.0", &d, err,
					    256), 0);
	ck_assert(d.bridge);
	ck_assert_int_eq(vfio_host_dev_read(&fs.env, "0000:00:02.0", &d, err,
					    256), 0);
	ck_assert(d.bridge);
	ck_assert_int_eq(vfio_host_dev_read(&fs.env, "0000:00:1f.0", &d, err,
					    256), 0);
	ck_assert(!d.bridge); /* ISA bridge class 0601, header type 0 */

	ck_assert_int_eq(vfio_host_dev_read(&fs.env, "0000:09:00.0", &d, err,
					    256), -ENODEV);
	ck_assert_msg(strstr(err, "no PCI device 0000:09:00.0"), "%s", err);
}
END_TEST

START_TEST(list_groups)
{
	struct vfio_host_list l;
	char err[256] = "";
	static const int ids[] = { 0, 1, 2, 3, 4, 5, 10 };

	ck_assert_int_eq(vfio_host_list_groups(&fs.env, &l, err, 256), 0);
	ck_assert_uint_eq(l.ngroups, ARRAY_SIZE(ids));
	for (size_t i = 0; i < l.ngroups; i++)
		ck_assert_int_eq(l.groups[i].id, ids[i]);
	/* 0: host bridge, no driver; 1: pcieport; 3: the driverless VF. */
	ck_assert(l.groups[0].viable);
	ck_assert(l.groups[1].viable);
	ck_assert(!l.groups[2].viable);
	ck_assert_int_eq(l.groups[2].blocker, 0);
	ck_assert(l.groups[3].viable);
	ck_assert_str_eq(l.groups[3].devs[0].bdf, "0000:01:00.1");
	/* ICH9: three functions, sorted, the LPC bridge blocks first. */
	ck_assert_uint_eq(l.groups[5].ndevs, 3);
	ck_assert_str_eq(l.groups[5].devs[0].bdf, "0000:00:1f.0");
	ck_assert_str_eq(l.groups[5].devs[2].bdf, "0000:00:1f.3");
	ck_assert(!l.groups[5].viable);
	ck_assert_int_eq(l.groups[5].blocker, 0);
	ck_assert(!l.groups[6].viable);
	vfio_host_list_free(&l);
	vfio_host_list_free(&l); /* idempotent */

	ck_assert_int_eq(vfio_host_group_check(&fs.env, 5, err, 256), -EPERM);
	ck_assert_msg(strstr(err, "0000:00:1f.0 is bound to lpc_ich"), "%s",
		      err);
	ck_assert_int_eq(vfio_host_group_check(&fs.env, 3, err, 256), 0);
	ck_assert_int_eq(vfio_host_group_check(&fs.env, 99, err, 256),
			 -ENOENT);
}
END_TEST

START_TEST(list_no_groups)
{
	struct vfio_host_list l;
	char err[256] = "", cmd[PATH_MAX + 64];

	pathf(cmd, sizeof(cmd), "rm -rf '%s/kernel/iommu_groups'/*",
		 fs.sys);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(vfio_host_list_groups(&fs.env, &l, err, 256),
			 -ENOENT);
	ck_assert_msg(strstr(err, "no IOMMU groups: the IOMMU is off "
			      "(intel_iommu=on?) or absent"), "%s", err);
	pathf(cmd, sizeof(cmd), "rm -rf '%s/kernel/iommu_groups'",
		 fs.sys);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(vfio_host_list_groups(&fs.env, &l, err, 256),
			 -ENOENT);
	ck_assert_ptr_null(l.groups);
}
END_TEST

/* The lab's case: a driverless VF (autoprobe off) to vfio-pci and back. */
START_TEST(bind_vf)
{
	char err[256] = "";

	ck_assert_int_eq(vfio_host_bind(&fs.env, "01:00.1", 0, err, 256), 0);
	ck_assert_int_eq(fs.nwrites, 2);
	WRITE_EQ(0, "bus/pci/devices/0000:01:00.1/driver_override=vfio-pci");
	WRITE_EQ(1, "bus/pci/drivers_probe=0000:01:00.1");
	ck_assert_str_eq(driver_of("0000:01:00.1"), "vfio-pci");
	ck_assert(state_exists("0000:01:00.1"));
	/* Again: nothing to do. */
	ck_assert_int_eq(vfio_host_bind(&fs.env, "0000:01:00.1", 0, err, 256),
			 0);
	ck_assert_int_eq(fs.nwrites, 2);

	fs.nwrites = 0;
	ck_assert_int_eq(vfio_host_unbind(&fs.env, "0000:01:00.1", 0, err,
					  256), 0);
	/* It had no driver: none is probed for it afterwards. */
	ck_assert_int_eq(fs.nwrites, 3);
	WRITE_EQ(0, "bus/pci/devices/0000:01:00.1/driver_override=");
	WRITE_EQ(1, "bus/pci/drivers/vfio-pci/unbind=0000:01:00.1");
	WRITE_EQ(2, "bus/pci/devices/0000:01:00.1/driver_override=");
	ck_assert_str_eq(driver_of("0000:01:00.1"), "");
	ck_assert_str_eq(override_of("0000:01:00.1"), "(null)");
	ck_assert(!state_exists("0000:01:00.1"));
}
END_TEST

START_TEST(bind_e1000e_roundtrip)
{
	char err[256] = "";

	ck_assert_int_eq(vfio_host_bind(&fs.env,
					"/sys/bus/pci/devices/0000:02:00.0", 0,
					err, 256), 0);
	ck_assert_int_eq(fs.nwrites, 3);
	WRITE_EQ(0, "bus/pci/devices/0000:02:00.0/driver_override=vfio-pci");
	WRITE_EQ(1, "bus/pci/drivers/e1000e/unbind=0000:02:00.0");
	WRITE_EQ(2, "bus/pci/drivers_probe=0000:02:00.0");
	ck_assert_str_eq(driver_of("0000:02:00.0"), "vfio-pci");
	ck_assert_int_eq(vfio_host_group_check(&fs.env, 10, err, 256), 0);

	fs.nwrites = 0;
	ck_assert_int_eq(vfio_host_unbind(&fs.env, "02:00.0", 0, err, 256), 0);
	ck_assert_int_eq(fs.nwrites, 4);
	WRITE_EQ(0, "bus/pci/devices/0000:02:00.0/driver_override=e1000e");
	WRITE_EQ(1, "bus/pci/drivers/vfio-pci/unbind=0000:02:00.0");
	WRITE_EQ(2, "bus/pci/drivers_probe=0000:02:00.0");
	WRITE_EQ(3, "bus/pci/devices/0000:02:00.0/driver_override=");
	ck_assert_str_eq(driver_of("0000:02:00.0"), "e1000e");
	ck_assert_str_eq(override_of("0000:02:00.0"), "(null)");
	ck_assert(!state_exists("0000:02:00.0"));
}
END_TEST

START_TEST(bind_group)
{
	char err[256] = "";

	ck_assert_int_eq(vfio_host_bind(&fs.env, "0000:00:1f.2",
					VFIO_HOST_GROUP, err, 256), 0);
	ck_assert_str_eq(driver_of("0000:00:1f.0"), "vfio-pci");
	ck_assert_str_eq(driver_of("0000:00:1f.2"), "vfio-pci");
	ck_assert_str_eq(driver_of("0000:00:1f.3"), "vfio-pci");
	ck_assert_int_eq(vfio_host_group_check(&fs.env, 5, err, 256), 0);

	ck_assert_int_eq(vfio_host_unbind(&fs.env, "0000:00:1f.3",
					  VFIO_HOST_GROUP, err, 256), 0);
	ck_assert_str_eq(driver_of("0000:00:1f.0"), "lpc_ich");
	ck_assert_str_eq(driver_of("0000:00:1f.2"), "ahci");
	/* 1f.3 had no driver before: it stays without one. */
	ck_assert_str_eq(driver_of("0000:00:1f.3"), "");

	/* A group with a bridge: the port stays on pcieport. */
	ck_assert_int_eq(vfio_host_bind(&fs.env, "0000:00:02.0",
					VFIO_HOST_GROUP, err, 256), 0);
	ck_assert_str_eq(driver_of("0000:00:02.0"), "pcieport");
}
END_TEST

START_TEST(refusals)
{
	char err[256] = "";

	ck_assert_int_eq(vfio_host_bind(&fs.env, "0000:01:00.0", 0, err, 256),
			 -EBUSY);
	ck_assert_msg(strstr(err, "SR-IOV PF with 1 VF enabled") &&
		      strstr(err, "disable its VFs first"), "%s", err);
	ck_assert_int_eq(vfio_host_bind(&fs.env, "0000:09:00.0", 0, err, 256),
			 -ENODEV);
	ck_assert_msg(strstr(err, "no PCI device 0000:09:00.0"), "%s", err);
	ck_assert_int_eq(vfio_host_bind(&fs.env, "9:00.0", 0, err, 256),
			 -EINVAL);
	ck_assert_int_eq(vfio_host_bind(&fs.env, "0000:00:01.0", 0, err, 256),
			 -EINVAL);
	ck_assert_msg(strstr(err, "is a PCI bridge"), "%s", err);
	ck_assert_int_eq(vfio_host_unbind(&fs.env, "0000:02:00.0", 0, err,
					  256), -EINVAL);
	ck_assert_msg(strstr(err, "not bound to vfio-pci (driver: e1000e)"),
		      "%s", err);
	/* A refusal writes nothing at all. */
	ck_assert_int_eq(fs.nwrites, 0);
	ck_assert(!state_exists("0000:01:00.0"));
}
END_TEST

START_TEST(refuse_busy_group)
{
	char err[256] = "";

	ck_assert_int_eq(vfio_host_bind(&fs.env, "0000:02:00.0", 0, err, 256),
			 0);
	fs.nwrites = 0;
	fs.busy_group = 10;
	ck_assert_int_eq(vfio_host_unbind(&fs.env, "0000:02:00.0", 0, err,
					  256), -EBUSY);
	ck_assert_msg(strstr(err, "group 10 is in use"), "%s", err);
	/* Binding what is already bound is fine even while in use. */
	ck_assert_int_eq(vfio_host_bind(&fs.env, "0000:02:00.0", 0, err, 256),
			 0);
	fs.busy_group = 5;
	ck_assert_int_eq(vfio_host_bind(&fs.env, "0000:00:1f.2", 0, err, 256),
			 -EBUSY);
	ck_assert_int_eq(fs.nwrites, 0);
	ck_assert_str_eq(driver_of("0000:02:00.0"), "vfio-pci");
}
END_TEST

START_TEST(refuse_no_vfio_driver)
{
	char err[256] = "", cmd[PATH_MAX + 64];

	pathf(cmd, sizeof(cmd), "rm -rf '%s/bus/pci/drivers/vfio-pci'",
		 fs.sys);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(vfio_host_bind(&fs.env, "0000:02:00.0", 0, err, 256),
			 -ENOENT);
	ck_assert_msg(strstr(err, "modprobe vfio-pci"), "%s", err);
	ck_assert_int_eq(fs.nwrites, 0);
}
END_TEST

START_TEST(needs_root)
{
	char err[256] = "";

	fs.write_errno = EACCES;
	ck_assert_int_eq(vfio_host_bind(&fs.env, "0000:02:00.0", 0, err, 256),
			 -EACCES);
	ck_assert_msg(strstr(err, "needs root"), "%s", err);
	ck_assert(!state_exists("0000:02:00.0"));
}
END_TEST

/* vfio-pci's probe fails: the original driver is put back. */
START_TEST(bind_rollback)
{
	char err[256] = "";

	fs.vfio_refuses = "0000:02:00.0";
	ck_assert_int_eq(vfio_host_bind(&fs.env, "0000:02:00.0", 0, err, 256),
			 -EIO);
	ck_assert_msg(strstr(err, "vfio-pci did not take 0000:02:00.0"), "%s",
		      err);
	ck_assert_str_eq(driver_of("0000:02:00.0"), "e1000e");
	ck_assert_str_eq(override_of("0000:02:00.0"), "(null)");
	ck_assert(!state_exists("0000:02:00.0"));
}
END_TEST

/* Bound by someone else (no record): the kernel picks the driver. */
START_TEST(unbind_unknown_origin)
{
	char err[256] = "";

	fake_sysfs_bind(&fs, "0000:02:00.0", "vfio-pci");
	ck_assert_int_eq(vfio_host_unbind(&fs.env, "0000:02:00.0", 0, err,
					  256), 0);
	ck_assert_int_eq(fs.nwrites, 4);
	WRITE_EQ(0, "bus/pci/devices/0000:02:00.0/driver_override=");
	WRITE_EQ(2, "bus/pci/drivers_probe=0000:02:00.0");
	ck_assert_str_eq(driver_of("0000:02:00.0"), "e1000e");
}
END_TEST

/* A record that tries to escape the drivers directory is ignored. */
START_TEST(state_hostile)
{
	char err[256] = "", path[PATH_MAX];

	fake_sysfs_bind(&fs, "0000:02:00.0", "vfio-pci");
	fake_sysfs_mkdirs(fs.state);
	pathf(path, sizeof(path), "%s/0000:02:00.0", fs.state);
	fake_sysfs_put(path, "driver=../../../../etc\noverride=x\n");
	ck_assert_int_eq(vfio_host_unbind(&fs.env, "0000:02:00.0", 0, err,
					  256), 0);
	for (int i = 0; i < fs.nwrites; i++)
		ck_assert_msg(!strstr(fs.writes[i], ".."), "%s", fs.writes[i]);
	ck_assert_str_eq(override_of("0000:02:00.0"), "x");
}
END_TEST

/* ---- the CLI, with real sysfs writes into the fake tree ---- */

static int run_cli(char *out, size_t outlen, const char *const *args)
{
	char *argv[8], path[PATH_MAX];
	int argc = 0, fd, saved, ret;
	FILE *f;
	size_t n;

	for (; *args && argc < 7; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	pathf(path, sizeof(path), "%s/cli.out", fs.root);
	fflush(stdout);
	fflush(stderr);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	saved = dup(1);
	int saved2 = dup(2);

	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	setenv("IOVMM_SYSFS_ROOT", fs.sys, 1);
	setenv("IOVMM_DEV_VFIO", fs.dev_vfio, 1);
	setenv("IOVMM_RUN_DIR", fs.run, 1);
	ret = vfio_cmd_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, 1);
	dup2(saved2, 2);
	close(saved);
	close(saved2);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
	return ret;
}

#define CLI(out, ...) run_cli(out, sizeof(out), (const char *const[]){ __VA_ARGS__, NULL })

START_TEST(cli_list)
{
	static char out[16384];

	ck_assert_int_eq(CLI(out, "vfio", "list"), 0);
	ck_assert_msg(strstr(out, "GROUP") && strstr(out, "0000:01:00.1"), "%s",
		      out);
	ck_assert_msg(strstr(out, "VF of 0000:01:00.0"), "%s", out);
	ck_assert_msg(strstr(out, "PF 1/2 VFs"), "%s", out);
	ck_assert_msg(strstr(out, "8086:10d3"), "%s", out);
	ck_assert_msg(strstr(out, "group 5 is not viable: 0000:00:1f.0 is "
			      "bound to lpc_ich"), "%s", out);

	ck_assert_int_eq(CLI(out, "vfio", "list", "--json"), 0);
	ck_assert_msg(strstr(out, "{\"group\":3,\"viable\":true,\"blocker\""
			      ":null,\"devices\":[{\"bdf\":\"0000:01:00.1\""),
		      "%s", out);
	ck_assert_msg(strstr(out, "\"sriov\":{\"role\":\"vf\",\"physfn\":"
			      "\"0000:01:00.0\"}"), "%s", out);
	ck_assert_msg(strstr(out, "\"role\":\"pf\",\"totalvfs\":2,"
			      "\"numvfs\":1"), "%s", out);
	ck_assert_msg(strstr(out, "\"group\":5,\"viable\":false,\"blocker\":"
			      "\"0000:00:1f.0\""), "%s", out);

	ck_assert_int_eq(CLI(out, "vfio", "list", "--bogus"), 2);
	ck_assert_int_eq(CLI(out, "vfio"), 2);
	ck_assert_int_eq(CLI(out, "vfio", "frob"), 2);
	ck_assert_int_eq(CLI(out, "vfio", "--help"), 0);
	ck_assert_msg(strstr(out, "iovmm vfio bind BDF [--group]"), "%s", out);
}
END_TEST

START_TEST(cli_errors)
{
	static char out[4096];
	char cmd[PATH_MAX + 64];

	ck_assert_int_eq(CLI(out, "vfio", "bind", "0000:07:00.0"), 1);
	ck_assert_msg(strstr(out, "iovmm vfio bind: no PCI device "
			      "0000:07:00.0"), "%s", out);
	ck_assert_int_eq(CLI(out, "vfio", "bind", "07:00"), 1);
	ck_assert_msg(strstr(out, "is not a PCI address"), "%s", out);
	ck_assert_int_eq(CLI(out, "vfio", "bind"), 2);
	ck_assert_int_eq(CLI(out, "vfio", "bind", "01:00.0", "01:00.1"), 2);
	ck_assert_int_eq(CLI(out, "vfio", "bind", "--group", "01:00.0"), 1);
	ck_assert_msg(strstr(out, "disable its VFs first"), "%s", out);
	ck_assert_int_eq(CLI(out, "vfio", "unbind", "02:00.0"), 1);
	ck_assert_msg(strstr(out, "not bound to vfio-pci"), "%s", out);

	/* The real sysfs writer on plain files: nothing plays the kernel,
	 * so vfio-pci never binds; the tool must notice and roll back. */
	ck_assert_int_eq(CLI(out, "vfio", "bind", "02:00.0"), 1);
	ck_assert_msg(strstr(out, "vfio-pci did not take 0000:02:00.0 (driver "
			      "now: e1000e"), "%s", out);
	ck_assert_int_eq(fake_sysfs_read(&fs, "bus/pci/drivers/e1000e/unbind",
					 out, sizeof(out)), 0);
	ck_assert_str_eq(out, "0000:02:00.0");
	ck_assert_int_eq(fake_sysfs_read(&fs, "bus/pci/drivers_probe", out,
					 sizeof(out)), 0);
	ck_assert_str_eq(out, "0000:02:00.0");
	ck_assert_str_eq(override_of("0000:02:00.0"), "");
	pathf(cmd, sizeof(cmd), "%s/0000:02:00.0", fs.state);
	ck_assert_int_ne(access(cmd, F_OK), 0);

	pathf(cmd, sizeof(cmd), "rm -rf '%s/kernel/iommu_groups'",
		 fs.sys);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(CLI(out, "vfio", "list"), 1);
	ck_assert_msg(strstr(out, "no IOMMU groups: the IOMMU is off"), "%s",
		      out);
}
END_TEST

static Suite *vfio_host_suite(void)
{
	Suite *s = suite_create("vfio_host");
	TCase *pure = tcase_create("pure");
	TCase *tc = tcase_create("sysfs");

	tcase_add_test(pure, bdf_syntax);
	tcase_add_test(pure, dma_safe_drivers);
	suite_add_tcase(s, pure);
	tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
	tcase_add_test(tc, read_pf_vf);
	tcase_add_test(tc, list_groups);
	tcase_add_test(tc, list_no_groups);
	tcase_add_test(tc, bind_vf);
	tcase_add_test(tc, bind_e1000e_roundtrip);
	tcase_add_test(tc, bind_group);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, refuse_busy_group);
	tcase_add_test(tc, refuse_no_vfio_driver);
	tcase_add_test(tc, needs_root);
	tcase_add_test(tc, bind_rollback);
	tcase_add_test(tc, unbind_unknown_origin);
	tcase_add_test(tc, state_hostile);
	tcase_add_test(tc, cli_list);
	tcase_add_test(tc, cli_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vfio_host_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
