// SPDX-License-Identifier: MIT
/*
 * vfio/host.c over a fake sysfs tree shaped like the lab's L1 (QEMU q35:
 * ICH9 functions sharing one group, a PCIe root port with an SR-IOV NVMe
 * PF and its VF, an e1000e behind another port). The test plays the
 * kernel's part through vfio_host_ops: writes to driver_override, unbind
 * and drivers_probe move the `driver` symlinks the way the PCI core does
 * (override first; a VF of a PF with autoprobe off only probes with an
 * override; vfio-pci refuses bridges and PFs with VFs enabled).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "tools/vfio_cmd.h"
#include "vfio/host.h"

struct fake_dev {
	const char *bdf, *parent, *vendor, *device, *class;
	const char *driver; /* bound at start, NULL for none */
	const char *native; /* what the kernel would bind without override */
	int group;
	int hdr_type;       /* -1: no config file (class decides) */
	int totalvfs, numvfs; /* totalvfs < 0: not a PF */
	const char *physfn;
};

static const struct fake_dev fake_devs[] = {
	{ "0000:00:00.0", NULL, "0x8086", "0x29c0", "0x060000", NULL, NULL,
	  0, 0, -1, 0, NULL },
	{ "0000:00:01.0", NULL, "0x1b36", "0x000c", "0x060400", "pcieport",
	  "pcieport", 1, 1, -1, 0, NULL },
	{ "0000:01:00.0", "0000:00:01.0", "0x1b36", "0x0010", "0x010802",
	  "nvme", "nvme", 2, 0, 2, 1, NULL },
	{ "0000:01:00.1", "0000:00:01.0", "0x1b36", "0x0010", "0x010802",
	  NULL, NULL /* sriov_drivers_autoprobe=0 */, 3, 0, -1, 0,
	  "0000:01:00.0" },
	/* No config file: the class code says "bridge". */
	{ "0000:00:02.0", NULL, "0x1b36", "0x000c", "0x060400", "pcieport",
	  "pcieport", 4, -1, -1, 0, NULL },
	{ "0000:02:00.0", "0000:00:02.0", "0x8086", "0x10d3", "0x020000",
	  "e1000e", "e1000e", 10, 0, -1, 0, NULL },
	{ "0000:00:1f.0", NULL, "0x8086", "0x2918", "0x060100", "lpc_ich",
	  "lpc_ich", 5, 0, -1, 0, NULL },
	{ "0000:00:1f.2", NULL, "0x8086", "0x2922", "0x010601", "ahci",
	  "ahci", 5, 0, -1, 0, NULL },
	{ "0000:00:1f.3", NULL, "0x8086", "0x2930", "0x0c0500", NULL,
	  "i801_smbus", 5, 0, -1, 0, NULL },
};

static const char *const fake_drivers[] = {
	"pcieport", "nvme", "e1000e", "lpc_ich", "ahci", "i801_smbus",
	"vfio-pci",
};

#define MAX_WRITES 64

static struct fake_host {
	char root[PATH_MAX];
	char sysfs[PATH_MAX], state[PATH_MAX], devvfio[PATH_MAX];
	struct vfio_host_env env;
	char writes[MAX_WRITES][256]; /* "relative/path=value" */
	int nwrites;
	int busy_group;         /* group the "VM" holds open, or -1 */
	int fail_errno;         /* every write fails with this, if set */
	const char *vfio_refuses; /* vfio-pci probe fails for this BDF */
} fk;

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

static void xmkdir(const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s",
		      path);
}

static void xfile(const char *val, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "create %s", path);
	fputs(val, f);
	fclose(f);
}

static void xlink(const char *target, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	unlink(path);
	ck_assert_msg(symlink(target, path) == 0, "symlink %s", path);
}

static const struct fake_dev *fake_find(const char *bdf)
{
	for (size_t i = 0; i < ARRAY_SIZE(fake_devs); i++)
		if (!strcmp(fake_devs[i].bdf, bdf))
			return &fake_devs[i];
	return NULL;
}

static void dev_dir(const struct fake_dev *d, char *buf, size_t len)
{
	if (d->parent)
		pathf(buf, len, "%s/devices/pci0000:00/%s/%s", fk.sysfs,
			 d->parent, d->bdf);
	else
		pathf(buf, len, "%s/devices/pci0000:00/%s", fk.sysfs,
			 d->bdf);
}

static void fake_bind_link(const char *bdf, const char *drv)
{
	char dir[PATH_MAX], target[PATH_MAX];

	dev_dir(fake_find(bdf), dir, sizeof(dir));
	pathf(target, sizeof(target), "%s/bus/pci/drivers/%s", fk.sysfs,
		 drv);
	xlink(target, "%s/driver", dir);
}

static void fake_make_dev(const struct fake_dev *d)
{
	char dir[PATH_MAX];

	dev_dir(d, dir, sizeof(dir));
	xmkdir("%s", dir);
	xfile(d->vendor, "%s/vendor", dir);
	xfile(d->device, "%s/device", dir);
	xfile(d->class, "%s/class", dir);
	xfile("(null)\n", "%s/driver_override", dir);
	if (d->hdr_type >= 0) {
		unsigned char cfg[64] = { 0 };
		FILE *f;
		char path[PATH_MAX];

		cfg[0x0e] = (unsigned char)d->hdr_type;
		pathf(path, sizeof(path), "%s/config", dir);
		f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fwrite(cfg, 1, sizeof(cfg), f);
		fclose(f);
	}
	if (d->totalvfs >= 0) {
		char v[16];

		pathf(v, sizeof(v), "%d\n", d->totalvfs);
		xfile(v, "%s/sriov_totalvfs", dir);
		pathf(v, sizeof(v), "%d\n", d->numvfs);
		xfile(v, "%s/sriov_numvfs", dir);
		xfile("0\n", "%s/sriov_drivers_autoprobe", dir);
		xlink("../0000:01:00.1", "%s/virtfn0", dir);
	}
	if (d->physfn)
		xlink("../0000:01:00.0", "%s/physfn", dir);
	xmkdir("%s/kernel/iommu_groups/%d", fk.sysfs, d->group);
	xmkdir("%s/kernel/iommu_groups/%d/devices", fk.sysfs, d->group);
	{
		char target[PATH_MAX];

		pathf(target, sizeof(target), "../../../kernel/iommu_groups/%d",
			 d->group);
		xlink(target, "%s/iommu_group", dir);
	}
	xlink(dir, "%s/kernel/iommu_groups/%d/devices/%s", fk.sysfs, d->group,
	      d->bdf);
	xlink(dir, "%s/bus/pci/devices/%s", fk.sysfs, d->bdf);
	if (d->driver)
		fake_bind_link(d->bdf, d->driver);
}

/* ---- the fake kernel ---- */

static int fake_read(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static void fake_driver_of(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	pathf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", fk.sysfs,
		 bdf);
	n = readlink(path, target, sizeof(target) - 1);
	buf[0] = '\0';
	if (n > 0) {
		target[n] = '\0';
		pathf(buf, len, "%s", strrchr(target, '/') + 1);
	}
}

static int fake_probe(const char *bdf)
{
	const struct fake_dev *d = fake_find(bdf);
	char path[PATH_MAX], ovr[64], drv[64], npath[PATH_MAX];
	const char *pick;
	struct stat st;

	if (!d)
		return -ENODEV;
	fake_driver_of(bdf, drv, sizeof(drv));
	if (drv[0])
		return 0; /* bus_rescan_devices_helper: already bound */
	pathf(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override",
		 fk.sysfs, bdf);
	fake_read(path, ovr, sizeof(ovr));
	pick = strcmp(ovr, "(null)") ? ovr : d->native;
	if (!pick)
		return 0;
	pathf(npath, sizeof(npath), "%s/bus/pci/drivers/%s", fk.sysfs,
		 pick);
	if (stat(npath, &st))
		return 0;
	/* vfio_pci_probe(): normal headers only, no PF with VFs enabled. */
	if (!strcmp(pick, "vfio-pci") &&
	    ((d->hdr_type > 0 || (d->hdr_type < 0 &&
				  !strcmp(d->class, "0x060400"))) ||
	     d->numvfs > 0 ||
	     (fk.vfio_refuses && !strcmp(fk.vfio_refuses, bdf))))
		return 0; /* probe failure is swallowed by drivers_probe */
	fake_bind_link(bdf, pick);
	return 0;
}

static int fake_write(const struct vfio_host_env *env, const char *path,
		      const char *val)
{
	size_t rl = strlen(fk.sysfs);
	const char *rel;
	char bdf[32], drv[64], cur[64];

	ck_assert_msg(!strncmp(path, fk.sysfs, rl), "write outside: %s", path);
	rel = path + rl + 1;
	ck_assert_int_lt(fk.nwrites, MAX_WRITES);
	pathf(fk.writes[fk.nwrites++], sizeof(fk.writes[0]), "%s=%.*s",
		 rel, (int)strcspn(val, "\n"), val);
	if (fk.fail_errno)
		return -fk.fail_errno;
	if (sscanf(rel, "bus/pci/devices/%31[^/]/driver_override", bdf) == 1) {
		xfile(val[0] == '\n' ? "(null)\n" : val, "%s", path);
		return 0;
	}
	if (sscanf(rel, "bus/pci/drivers/%63[^/]/unbind", drv) == 1) {
		fake_driver_of(val, cur, sizeof(cur));
		if (strcmp(cur, drv))
			return -ENODEV;
		pathf(cur, sizeof(cur), "%s", val);
		{
			char l[PATH_MAX];

			pathf(l, sizeof(l), "%s/bus/pci/devices/%s/driver",
				 fk.sysfs, cur);
			ck_assert_int_eq(unlink(l), 0);
		}
		return 0;
	}
	if (!strcmp(rel, "bus/pci/drivers_probe"))
		return fake_probe(val);
	ck_abort_msg("unexpected write %s", rel);
	return -EINVAL;
}

static int fake_group_busy(const struct vfio_host_env *env, int group)
{
	return group == fk.busy_group;
}

static const struct vfio_host_ops fake_ops = {
	.write = fake_write,
	.group_busy = fake_group_busy,
};

static void fake_setup(void)
{
	memset(&fk, 0, sizeof(fk));
	pathf(fk.root, sizeof(fk.root), "/tmp/iovmm-vfio-host-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fk.root));
	pathf(fk.sysfs, sizeof(fk.sysfs), "%s/sys", fk.root);
	pathf(fk.state, sizeof(fk.state), "%s/run/iovmm/vfio", fk.root);
	pathf(fk.devvfio, sizeof(fk.devvfio), "%s/dev/vfio", fk.root);
	xmkdir("%s", fk.sysfs);
	xmkdir("%s/bus", fk.sysfs);
	xmkdir("%s/bus/pci", fk.sysfs);
	xmkdir("%s/bus/pci/devices", fk.sysfs);
	xmkdir("%s/bus/pci/drivers", fk.sysfs);
	xfile("", "%s/bus/pci/drivers_probe", fk.sysfs);
	for (size_t i = 0; i < ARRAY_SIZE(fake_drivers); i++) {
		xmkdir("%s/bus/pci/drivers/%s", fk.sysfs, fake_drivers[i]);
		xfile("", "%s/bus/pci/drivers/%s/bind", fk.sysfs,
		      fake_drivers[i]);
		xfile("", "%s/bus/pci/drivers/%s/unbind", fk.sysfs,
		      fake_drivers[i]);
	}
	xmkdir("%s/devices", fk.sysfs);
	xmkdir("%s/devices/pci0000:00", fk.sysfs);
	xmkdir("%s/kernel", fk.sysfs);
	xmkdir("%s/kernel/iommu_groups", fk.sysfs);
	for (size_t i = 0; i < ARRAY_SIZE(fake_devs); i++)
		fake_make_dev(&fake_devs[i]);
	fk.busy_group = -1;
	fk.env.sysfs = fk.sysfs;
	fk.env.state_dir = fk.state;
	fk.env.dev_vfio = fk.devvfio;
	fk.env.ops = &fake_ops;
}

static void fake_teardown(void)
{
	char cmd[PATH_MAX + 16];

	if (fk.root[0] && !strncmp(fk.root, "/tmp/iovmm-vfio-host-", 21)) {
		pathf(cmd, sizeof(cmd), "rm -rf '%s'", fk.root);
		ck_assert_int_eq(system(cmd), 0);
	}
}

static const char *driver_of(const char *bdf)
{
	static char buf[64];

	fake_driver_of(bdf, buf, sizeof(buf));
	return buf;
}

static const char *override_of(const char *bdf)
{
	static char buf[64];
	char path[PATH_MAX];

	pathf(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override",
		 fk.sysfs, bdf);
	ck_assert_int_eq(fake_read(path, buf, sizeof(buf)), 0);
	return buf;
}

static bool state_exists(const char *bdf)
{
	char path[PATH_MAX];

	pathf(path, sizeof(path), "%s/%s", fk.state, bdf);
	return access(path, F_OK) == 0;
}

#define WRITE_EQ(i, s) ck_assert_str_eq(fk.writes[i], s)

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

	ck_assert_int_eq(vfio_host_dev_read(&fk.env, "0000:01:00.0", &d, err,
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

	ck_assert_int_eq(vfio_host_dev_read(&fk.env, "0000:01:00.1", &d, err,
					    256), 0);
	ck_assert_int_eq(d.role, VFIO_HOST_SRIOV_VF);
	ck_assert_str_eq(d.physfn, "0000:01:00.0");
	ck_assert_str_eq(d.driver, "");
	ck_assert_int_eq(d.group, 3);

	/* Bridges: from the config header, or from the class without one. */
	ck_assert_int_eq(vfio_host_dev_read(&fk.env, "0000:00:01.0", &d, err,
					    256), 0);
	ck_assert(d.bridge);
	ck_assert_int_eq(vfio_host_dev_read(&fk.env, "0000:00:02.0", &d, err,
					    256), 0);
	ck_assert(d.bridge);
	ck_assert_int_eq(vfio_host_dev_read(&fk.env, "0000:00:1f.0", &d, err,
					    256), 0);
	ck_assert(!d.bridge); /* ISA bridge class 0601, header type 0 */

	ck_assert_int_eq(vfio_host_dev_read(&fk.env, "0000:09:00.0", &d, err,
					    256), -ENODEV);
	ck_assert_msg(strstr(err, "no PCI device 0000:09:00.0"), "%s", err);
}
END_TEST

START_TEST(list_groups)
{
	struct vfio_host_list l;
	char err[256] = "";
	static const int ids[] = { 0, 1, 2, 3, 4, 5, 10 };

	ck_assert_int_eq(vfio_host_list_groups(&fk.env, &l, err, 256), 0);
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

	ck_assert_int_eq(vfio_host_group_check(&fk.env, 5, err, 256), -EPERM);
	ck_assert_msg(strstr(err, "0000:00:1f.0 is bound to lpc_ich"), "%s",
		      err);
	ck_assert_int_eq(vfio_host_group_check(&fk.env, 3, err, 256), 0);
	ck_assert_int_eq(vfio_host_group_check(&fk.env, 99, err, 256),
			 -ENOENT);
}
END_TEST

START_TEST(list_no_groups)
{
	struct vfio_host_list l;
	char err[256] = "", cmd[PATH_MAX + 64];

	pathf(cmd, sizeof(cmd), "rm -rf '%s/kernel/iommu_groups'/*",
		 fk.sysfs);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(vfio_host_list_groups(&fk.env, &l, err, 256),
			 -ENOENT);
	ck_assert_msg(strstr(err, "no IOMMU groups: the IOMMU is off "
			      "(intel_iommu=on?) or absent"), "%s", err);
	pathf(cmd, sizeof(cmd), "rm -rf '%s/kernel/iommu_groups'",
		 fk.sysfs);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(vfio_host_list_groups(&fk.env, &l, err, 256),
			 -ENOENT);
	ck_assert_ptr_null(l.groups);
}
END_TEST

/* The lab's case: a driverless VF (autoprobe off) to vfio-pci and back. */
START_TEST(bind_vf)
{
	char err[256] = "";

	ck_assert_int_eq(vfio_host_bind(&fk.env, "01:00.1", 0, err, 256), 0);
	ck_assert_int_eq(fk.nwrites, 2);
	WRITE_EQ(0, "bus/pci/devices/0000:01:00.1/driver_override=vfio-pci");
	WRITE_EQ(1, "bus/pci/drivers_probe=0000:01:00.1");
	ck_assert_str_eq(driver_of("0000:01:00.1"), "vfio-pci");
	ck_assert(state_exists("0000:01:00.1"));
	/* Again: nothing to do. */
	ck_assert_int_eq(vfio_host_bind(&fk.env, "0000:01:00.1", 0, err, 256),
			 0);
	ck_assert_int_eq(fk.nwrites, 2);

	fk.nwrites = 0;
	ck_assert_int_eq(vfio_host_unbind(&fk.env, "0000:01:00.1", 0, err,
					  256), 0);
	/* It had no driver: none is probed for it afterwards. */
	ck_assert_int_eq(fk.nwrites, 3);
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

	ck_assert_int_eq(vfio_host_bind(&fk.env,
					"/sys/bus/pci/devices/0000:02:00.0", 0,
					err, 256), 0);
	ck_assert_int_eq(fk.nwrites, 3);
	WRITE_EQ(0, "bus/pci/devices/0000:02:00.0/driver_override=vfio-pci");
	WRITE_EQ(1, "bus/pci/drivers/e1000e/unbind=0000:02:00.0");
	WRITE_EQ(2, "bus/pci/drivers_probe=0000:02:00.0");
	ck_assert_str_eq(driver_of("0000:02:00.0"), "vfio-pci");
	ck_assert_int_eq(vfio_host_group_check(&fk.env, 10, err, 256), 0);

	fk.nwrites = 0;
	ck_assert_int_eq(vfio_host_unbind(&fk.env, "02:00.0", 0, err, 256), 0);
	ck_assert_int_eq(fk.nwrites, 4);
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

	ck_assert_int_eq(vfio_host_bind(&fk.env, "0000:00:1f.2",
					VFIO_HOST_GROUP, err, 256), 0);
	ck_assert_str_eq(driver_of("0000:00:1f.0"), "vfio-pci");
	ck_assert_str_eq(driver_of("0000:00:1f.2"), "vfio-pci");
	ck_assert_str_eq(driver_of("0000:00:1f.3"), "vfio-pci");
	ck_assert_int_eq(vfio_host_group_check(&fk.env, 5, err, 256), 0);

	ck_assert_int_eq(vfio_host_unbind(&fk.env, "0000:00:1f.3",
					  VFIO_HOST_GROUP, err, 256), 0);
	ck_assert_str_eq(driver_of("0000:00:1f.0"), "lpc_ich");
	ck_assert_str_eq(driver_of("0000:00:1f.2"), "ahci");
	/* 1f.3 had no driver before: it stays without one. */
	ck_assert_str_eq(driver_of("0000:00:1f.3"), "");

	/* A group with a bridge: the port stays on pcieport. */
	ck_assert_int_eq(vfio_host_bind(&fk.env, "0000:00:02.0",
					VFIO_HOST_GROUP, err, 256), 0);
	ck_assert_str_eq(driver_of("0000:00:02.0"), "pcieport");
}
END_TEST

START_TEST(refusals)
{
	char err[256] = "";

	ck_assert_int_eq(vfio_host_bind(&fk.env, "0000:01:00.0", 0, err, 256),
			 -EBUSY);
	ck_assert_msg(strstr(err, "SR-IOV PF with 1 VF enabled") &&
		      strstr(err, "disable its VFs first"), "%s", err);
	ck_assert_int_eq(vfio_host_bind(&fk.env, "0000:09:00.0", 0, err, 256),
			 -ENODEV);
	ck_assert_msg(strstr(err, "no PCI device 0000:09:00.0"), "%s", err);
	ck_assert_int_eq(vfio_host_bind(&fk.env, "9:00.0", 0, err, 256),
			 -EINVAL);
	ck_assert_int_eq(vfio_host_bind(&fk.env, "0000:00:01.0", 0, err, 256),
			 -EINVAL);
	ck_assert_msg(strstr(err, "is a PCI bridge"), "%s", err);
	ck_assert_int_eq(vfio_host_unbind(&fk.env, "0000:02:00.0", 0, err,
					  256), -EINVAL);
	ck_assert_msg(strstr(err, "not bound to vfio-pci (driver: e1000e)"),
		      "%s", err);
	/* A refusal writes nothing at all. */
	ck_assert_int_eq(fk.nwrites, 0);
	ck_assert(!state_exists("0000:01:00.0"));
}
END_TEST

START_TEST(refuse_busy_group)
{
	char err[256] = "";

	ck_assert_int_eq(vfio_host_bind(&fk.env, "0000:02:00.0", 0, err, 256),
			 0);
	fk.nwrites = 0;
	fk.busy_group = 10;
	ck_assert_int_eq(vfio_host_unbind(&fk.env, "0000:02:00.0", 0, err,
					  256), -EBUSY);
	ck_assert_msg(strstr(err, "group 10 is in use"), "%s", err);
	/* Binding what is already bound is fine even while in use. */
	ck_assert_int_eq(vfio_host_bind(&fk.env, "0000:02:00.0", 0, err, 256),
			 0);
	fk.busy_group = 5;
	ck_assert_int_eq(vfio_host_bind(&fk.env, "0000:00:1f.2", 0, err, 256),
			 -EBUSY);
	ck_assert_int_eq(fk.nwrites, 0);
	ck_assert_str_eq(driver_of("0000:02:00.0"), "vfio-pci");
}
END_TEST

START_TEST(refuse_no_vfio_driver)
{
	char err[256] = "", cmd[PATH_MAX + 64];

	pathf(cmd, sizeof(cmd), "rm -rf '%s/bus/pci/drivers/vfio-pci'",
		 fk.sysfs);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(vfio_host_bind(&fk.env, "0000:02:00.0", 0, err, 256),
			 -ENOENT);
	ck_assert_msg(strstr(err, "modprobe vfio-pci"), "%s", err);
	ck_assert_int_eq(fk.nwrites, 0);
}
END_TEST

START_TEST(needs_root)
{
	char err[256] = "";

	fk.fail_errno = EACCES;
	ck_assert_int_eq(vfio_host_bind(&fk.env, "0000:02:00.0", 0, err, 256),
			 -EACCES);
	ck_assert_msg(strstr(err, "needs root"), "%s", err);
	ck_assert(!state_exists("0000:02:00.0"));
}
END_TEST

/* vfio-pci's probe fails: the original driver is put back. */
START_TEST(bind_rollback)
{
	char err[256] = "";

	fk.vfio_refuses = "0000:02:00.0";
	ck_assert_int_eq(vfio_host_bind(&fk.env, "0000:02:00.0", 0, err, 256),
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

	fake_bind_link("0000:02:00.0", "vfio-pci");
	ck_assert_int_eq(vfio_host_unbind(&fk.env, "0000:02:00.0", 0, err,
					  256), 0);
	ck_assert_int_eq(fk.nwrites, 4);
	WRITE_EQ(0, "bus/pci/devices/0000:02:00.0/driver_override=");
	WRITE_EQ(2, "bus/pci/drivers_probe=0000:02:00.0");
	ck_assert_str_eq(driver_of("0000:02:00.0"), "e1000e");
}
END_TEST

/* A record that tries to escape the drivers directory is ignored. */
START_TEST(state_hostile)
{
	char err[256] = "", path[PATH_MAX];

	fake_bind_link("0000:02:00.0", "vfio-pci");
	xmkdir("%s/run", fk.root);
	xmkdir("%s/run/iovmm", fk.root);
	xmkdir("%s", fk.state);
	pathf(path, sizeof(path), "%s/0000:02:00.0", fk.state);
	xfile("driver=../../../../etc\noverride=x\n", "%s", path);
	ck_assert_int_eq(vfio_host_unbind(&fk.env, "0000:02:00.0", 0, err,
					  256), 0);
	for (int i = 0; i < fk.nwrites; i++)
		ck_assert_msg(!strstr(fk.writes[i], ".."), "%s", fk.writes[i]);
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
	pathf(path, sizeof(path), "%s/cli.out", fk.root);
	fflush(stdout);
	fflush(stderr);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	saved = dup(1);
	int saved2 = dup(2);

	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	setenv("IOVMM_SYSFS_ROOT", fk.sysfs, 1);
	setenv("IOVMM_DEV_VFIO", fk.devvfio, 1);
	{
		char run[PATH_MAX];

		pathf(run, sizeof(run), "%s/run/iovmm", fk.root);
		setenv("IOVMM_RUN_DIR", run, 1);
	}
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
	pathf(cmd, sizeof(cmd), "%s/bus/pci/drivers/e1000e/unbind", fk.sysfs);
	ck_assert_int_eq(fake_read(cmd, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "0000:02:00.0");
	pathf(cmd, sizeof(cmd), "%s/bus/pci/drivers_probe", fk.sysfs);
	ck_assert_int_eq(fake_read(cmd, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "0000:02:00.0");
	ck_assert_str_eq(override_of("0000:02:00.0"), "");
	pathf(cmd, sizeof(cmd), "%s/run/iovmm/vfio/0000:02:00.0", fk.root);
	ck_assert_int_ne(access(cmd, F_OK), 0);

	pathf(cmd, sizeof(cmd), "rm -rf '%s/kernel/iommu_groups'",
		 fk.sysfs);
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
