// SPDX-License-Identifier: MIT
/*
 * The fake host's /sys and the fake kernel behind its writes (see
 * fake_sysfs.h).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_sysfs.h"

/* ---- paths and files ---- */

static void vpathf(char *buf, size_t len, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, len, fmt, ap);

	ck_assert_msg(n >= 0 && (size_t)n < len, "path too long: %s", fmt);
}

__attribute__((format(printf, 3, 4)))
static void pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpathf(buf, len, fmt, ap);
	va_end(ap);
}

/* A path by value, so that one formatter serves every call. */
struct fpath {
	char s[PATH_MAX];
};

/* A path below sys. */
__attribute__((format(printf, 1, 2)))
static struct fpath relf(const char *fmt, ...)
{
	struct fpath p;
	va_list ap;

	va_start(ap, fmt);
	vpathf(p.s, sizeof(p.s), fmt, ap);
	va_end(ap);
	return p;
}

/* The same, as an absolute path: sys/REL. */
__attribute__((format(printf, 2, 3)))
static struct fpath sysf(const struct fake_sysfs *fs, const char *fmt, ...)
{
	struct fpath rel, p;
	va_list ap;

	va_start(ap, fmt);
	vpathf(rel.s, sizeof(rel.s), fmt, ap);
	va_end(ap);
	pathf(p.s, sizeof(p.s), "%s/%s", fs->sys, rel.s);
	return p;
}

void fake_sysfs_mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	pathf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		ck_assert_msg(mkdir(tmp, 0755) == 0 || errno == EEXIST,
			      "mkdir %s", tmp);
		*p = '/';
	}
	ck_assert_msg(mkdir(tmp, 0755) == 0 || errno == EEXIST, "mkdir %s",
		      tmp);
}

void fake_sysfs_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "create %s", path);
	fputs(text, f);
	fclose(f);
}

/*
 * A symlink at sys/LINK to sys/TARGET (both relative to sys), itself
 * relative as the kernel's are: up to sys, then down to the target, so
 * its last component is the target's name.
 */
static void sys_link(const struct fake_sysfs *fs, const char *target,
		     const char *rel)
{
	char path[PATH_MAX], up[PATH_MAX];
	size_t n = 0;

	for (const char *p = rel; (p = strchr(p, '/')); p++) {
		ck_assert_uint_lt(n + 3, sizeof(up));
		memcpy(up + n, "../", 3);
		n += 3;
	}
	pathf(up + n, sizeof(up) - n, "%s", target);
	pathf(path, sizeof(path), "%s/%s", fs->sys, rel);
	unlink(path);
	ck_assert_msg(symlink(up, path) == 0, "symlink %s -> %s", path, up);
}

static int rm_entry(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	return remove(path) ? -errno : 0;
}

static void rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return;
	ck_assert_int_eq(nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

int fake_sysfs_read(const struct fake_sysfs *fs, const char *rel, char *buf,
		    size_t len)
{
	char path[PATH_MAX];
	FILE *f;
	size_t n;

	buf[0] = '\0';
	pathf(path, sizeof(path), "%s/%s", fs->sys, rel);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int fake_sysfs_attr(const struct fake_sysfs *fs, const char *bdf,
		    const char *attr, char *buf, size_t len)
{
	char rel[PATH_MAX];

	pathf(rel, sizeof(rel), "bus/pci/devices/%s/%s", bdf, attr);
	return fake_sysfs_read(fs, rel, buf, len);
}

/* The last component of the link sys/REL into buf, "" when none. */
static void link_base(const struct fake_sysfs *fs, const char *rel, char *buf,
		      size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	buf[0] = '\0';
	pathf(path, sizeof(path), "%s/%s", fs->sys, rel);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	pathf(buf, len, "%s", strrchr(target, '/') ? strrchr(target, '/') + 1 :
			       target);
}

void fake_sysfs_driver(const struct fake_sysfs *fs, const char *bdf,
		       char *buf, size_t len)
{
	char rel[PATH_MAX];

	pathf(rel, sizeof(rel), "bus/pci/devices/%s/driver", bdf);
	link_base(fs, rel, buf, len);
}

/* The directory of bdf relative to sys (devices/...), from its
 * bus/pci/devices link: 0, or -ENODEV when there is no such function. */
static int dev_dir(const struct fake_sysfs *fs, const char *bdf, char *buf,
		   size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *up = "../../../";
	ssize_t n;

	pathf(path, sizeof(path), "%s/bus/pci/devices/%s", fs->sys, bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return -ENODEV;
	target[n] = '\0';
	ck_assert_msg(!strncmp(target, up, strlen(up)), "%s -> %s", path,
		      target);
	pathf(buf, len, "%s", target + strlen(up));
	return 0;
}

static const struct fake_sysfs_dev *model(const struct fake_sysfs *fs,
					  const char *bdf)
{
	for (size_t i = 0; i < fs->ndevs; i++)
		if (!strcmp(fs->devs[i].bdf, bdf))
			return &fs->devs[i];
	return NULL;
}

static unsigned int read_uint(const struct fake_sysfs *fs, const char *bdf,
			      const char *attr)
{
	char buf[32];

	fake_sysfs_attr(fs, bdf, attr, buf, sizeof(buf));
	return (unsigned int)strtoul(buf, NULL, 10);
}

/* ---- building the tree ---- */

/*
 * Config space: a PCI Express capability at 0x40 (libpci only walks the
 * extended capabilities of PCIe functions), an AER header at 0x100 so the
 * walk has to follow a next pointer, and for a PF the SR-IOV capability
 * (PCIe 6.0 §9.3.3) at FAKE_SYSFS_SRIOV_CAP with NumVFs 0.
 */
static void write_config(const struct fake_sysfs *fs, const char *dir,
			 uint16_t vendor, uint16_t device, uint32_t class_code,
			 const struct fake_sysfs_sriov *sriov)
{
	bool bridge = (class_code >> 8) == 0x0604;
	uint8_t cfg[4096] = { 0 };
	char path[PATH_MAX];
	FILE *f;

	cfg[0x00] = vendor & 0xff;
	cfg[0x01] = vendor >> 8;
	cfg[0x02] = device & 0xff;
	cfg[0x03] = device >> 8;
	cfg[0x06] = 0x10;                 /* Status: Capabilities List */
	cfg[0x09] = class_code & 0xff;
	cfg[0x0a] = (class_code >> 8) & 0xff;
	cfg[0x0b] = class_code >> 16;
	cfg[0x0e] = bridge ? 0x01 : 0x00; /* header type */
	cfg[0x34] = 0x40;
	cfg[0x40] = 0x10;                 /* PCI Express */
	cfg[0x42] = bridge ? 0x42 : 0x02; /* v2, root port or endpoint */
	cfg[0x100] = 0x01;                /* AER, v1, next: SR-IOV's place */
	cfg[0x102] = 0x01 | ((FAKE_SYSFS_SRIOV_CAP & 0xf) << 4);
	cfg[0x103] = FAKE_SYSFS_SRIOV_CAP >> 4;
	if (sriov) {
		uint8_t *c = cfg + FAKE_SYSFS_SRIOV_CAP;

		c[0x00] = 0x10;  /* SR-IOV, version 1, last */
		c[0x02] = 0x01;
		c[0x08] = 0x10;  /* SR-IOV Control: ARI Capable Hierarchy */
		c[0x0c] = (uint8_t)sriov->cap_total; /* InitialVFs */
		c[0x0e] = (uint8_t)sriov->cap_total; /* TotalVFs */
		c[0x14] = (uint8_t)sriov->offset;
		c[0x16] = (uint8_t)sriov->stride;
		c[0x1a] = sriov->vf_device & 0xff;
		c[0x1b] = sriov->vf_device >> 8;
		c[0x1c] = 0x53;  /* 4K, 8K, 64K, 256K, 1M, 4M (0x553, as */
		c[0x1d] = 0x05;  /* real parts have) */
		c[0x20] = 0x01;  /* System Page Size 4K */
	}
	pathf(path, sizeof(path), "%s/%s/config", fs->sys, dir);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "create %s", path);
	ck_assert_uint_eq(fwrite(cfg, 1, sizeof(cfg), f), sizeof(cfg));
	fclose(f);
}

/* NumVFs and VF Enable/VF MSE in the PF's SR-IOV capability, in place. */
static void config_numvfs(const struct fake_sysfs *fs, const char *dir,
			  unsigned int n)
{
	uint8_t ctrl = n ? 0x19 : 0x10; /* ARI | VF MSE | VF Enable */
	uint8_t num[2] = { (uint8_t)n, (uint8_t)(n >> 8) };
	char path[PATH_MAX];
	FILE *f;

	pathf(path, sizeof(path), "%s/%s/config", fs->sys, dir);
	f = fopen(path, "r+");
	ck_assert_msg(f != NULL, "open %s", path);
	ck_assert_int_eq(fseek(f, FAKE_SYSFS_SRIOV_CAP + 0x08, SEEK_SET), 0);
	ck_assert_uint_eq(fwrite(&ctrl, 1, 1, f), 1);
	ck_assert_int_eq(fseek(f, FAKE_SYSFS_SRIOV_CAP + 0x10, SEEK_SET), 0);
	ck_assert_uint_eq(fwrite(num, 1, 2, f), 2);
	fclose(f);
}

void fake_sysfs_add_driver(struct fake_sysfs *fs, const char *drv)
{
	static const char *const files[] = { "bind", "unbind" };

	fake_sysfs_mkdirs(sysf(fs, "bus/pci/drivers/%s", drv).s);
	for (size_t i = 0; i < 2; i++) {
		struct fpath p = sysf(fs, "bus/pci/drivers/%s/%s", drv,
				      files[i]);

		if (access(p.s, F_OK))
			fake_sysfs_put(p.s, "");
	}
}

/* A function's directory, attributes and links (dir relative to sys). */
static void make_fn(struct fake_sysfs *fs, const char *dir, const char *bdf,
		    const struct fake_sysfs_dev *d)
{
	char v[16];

	fake_sysfs_mkdirs(sysf(fs, "%s", dir).s);
	pathf(v, sizeof(v), "0x%04x\n", d->vendor);
	fake_sysfs_put(sysf(fs, "%s/vendor", dir).s, v);
	pathf(v, sizeof(v), "0x%04x\n", d->device);
	fake_sysfs_put(sysf(fs, "%s/device", dir).s, v);
	pathf(v, sizeof(v), "0x%06x\n", d->class_code);
	fake_sysfs_put(sysf(fs, "%s/class", dir).s, v);
	fake_sysfs_put(sysf(fs, "%s/driver_override", dir).s, "(null)\n");
	if (!d->no_config)
		write_config(fs, dir, d->vendor, d->device, d->class_code,
			     d->sriov);
	if (d->group != FAKE_SYSFS_NO_GROUP) {
		char grp[64];

		pathf(grp, sizeof(grp), "kernel/iommu_groups/%d", d->group);
		fake_sysfs_mkdirs(sysf(fs, "%s/devices", grp).s);
		sys_link(fs, dir, relf("%s/devices/%s", grp, bdf).s);
		sys_link(fs, grp, relf("%s/iommu_group", dir).s);
	}
	sys_link(fs, dir, relf("bus/pci/devices/%s", bdf).s);
	if (d->sriov) {
		pathf(v, sizeof(v), "%u\n", d->sriov->sysfs_total);
		fake_sysfs_put(sysf(fs, "%s/sriov_totalvfs", dir).s, v);
		fake_sysfs_put(sysf(fs, "%s/sriov_numvfs", dir).s, "0\n");
		fake_sysfs_put(sysf(fs, "%s/sriov_drivers_autoprobe", dir).s,
			       "1\n");
	}
}

void fake_sysfs_bind(struct fake_sysfs *fs, const char *bdf, const char *drv)
{
	char dir[PATH_MAX], target[PATH_MAX];

	ck_assert_msg(dev_dir(fs, bdf, dir, sizeof(dir)) == 0, "no device %s",
		      bdf);
	fake_sysfs_add_driver(fs, drv);
	pathf(target, sizeof(target), "bus/pci/drivers/%s", drv);
	sys_link(fs, target, relf("%s/driver", dir).s);
	if (fs->on_bind)
		fs->on_bind(fs, bdf, drv);
}

/* The driver goes, and the network interfaces it made with it. */
static void unbind(struct fake_sysfs *fs, const char *bdf)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent **ents;
	int n;

	ck_assert_int_eq(dev_dir(fs, bdf, dir, sizeof(dir)), 0);
	pathf(path, sizeof(path), "%s/%s/driver", fs->sys, dir);
	ck_assert_int_eq(unlink(path), 0);
	pathf(path, sizeof(path), "%s/%s/net", fs->sys, dir);
	n = scandir(path, &ents, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.')
			unlink(sysf(fs, "class/net/%s", ents[i]->d_name).s);
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	rm_rf(path);
}

void fake_sysfs_add(struct fake_sysfs *fs, const struct fake_sysfs_dev *d)
{
	char dir[PATH_MAX];

	ck_assert_uint_lt(fs->ndevs, FAKE_SYSFS_MAX_DEVS);
	ck_assert_ptr_null(model(fs, d->bdf));
	if (d->parent) {
		char up[PATH_MAX];

		ck_assert_msg(dev_dir(fs, d->parent, up, sizeof(up)) == 0,
			      "%s: add its bridge %s first", d->bdf, d->parent);
		pathf(dir, sizeof(dir), "%s/%s", up, d->bdf);
	} else {
		pathf(dir, sizeof(dir), "devices/pci0000:00/%s", d->bdf);
	}
	fs->devs[fs->ndevs++] = *d;
	make_fn(fs, dir, d->bdf, d);
	if (d->driver)
		fake_sysfs_bind(fs, d->bdf, d->driver);
}

void fake_sysfs_add_netdev(struct fake_sysfs *fs, const char *bdf,
			   const char *name, int ifindex, const char *mac)
{
	char dir[PATH_MAX], net[PATH_MAX], v[32];

	ck_assert_int_gt(ifindex, 0);
	ck_assert_int_eq(dev_dir(fs, bdf, dir, sizeof(dir)), 0);
	pathf(net, sizeof(net), "%s/net/%s", dir, name);
	fake_sysfs_mkdirs(sysf(fs, "%s", net).s);
	pathf(v, sizeof(v), "%d\n", ifindex);
	fake_sysfs_put(sysf(fs, "%s/ifindex", net).s, v);
	pathf(v, sizeof(v), "%s\n", mac);
	fake_sysfs_put(sysf(fs, "%s/address", net).s, v);
	sys_link(fs, dir, relf("%s/device", net).s);
	sys_link(fs, net, relf("class/net/%s", name).s);
}

void fake_sysfs_add_devnode(struct fake_sysfs *fs, const char *rel)
{
	char path[PATH_MAX];

	pathf(path, sizeof(path), "%s/%s", fs->dev, rel);
	*strrchr(path, '/') = '\0';
	fake_sysfs_mkdirs(path);
	pathf(path, sizeof(path), "%s/%s", fs->dev, rel);
	fake_sysfs_put(path, "");
}

/* ---- the fake kernel ---- */

/* VF n's BDF: the PF's Routing ID + First VF Offset + n * VF Stride. */
static void vf_bdf(const char *pf, const struct fake_sysfs_sriov *s,
		   unsigned int n, char *out, size_t len)
{
	unsigned int dom, bus, dev, fn, rid;

	ck_assert_int_eq(sscanf(pf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn), 4);
	rid = (bus << 8 | dev << 3 | fn) + s->offset + n * s->stride;
	pathf(out, len, "%04x:%02x:%02x.%x", dom, rid >> 8, (rid >> 3) & 31,
	      rid & 7);
}

static int probe(struct fake_sysfs *fs, const char *bdf);

static void add_vf(struct fake_sysfs *fs, const struct fake_sysfs_dev *pf,
		   const char *pfdir, unsigned int i, bool autoprobe)
{
	const struct fake_sysfs_sriov *s = pf->sriov;
	char bdf[32], dir[PATH_MAX], base[PATH_MAX];
	struct fake_sysfs_dev vf = {
		.vendor = pf->vendor, .device = s->vf_device,
		.class_code = pf->class_code, .group = s->vf_group + (int)i,
	};

	vf_bdf(pf->bdf, s, i, bdf, sizeof(bdf));
	vf.bdf = bdf;
	pathf(base, sizeof(base), "%s", pfdir);
	*strrchr(base, '/') = '\0';  /* a sibling of its PF */
	pathf(dir, sizeof(dir), "%s/%s", base, bdf);
	make_fn(fs, dir, bdf, &vf);
	sys_link(fs, pfdir, relf("%s/physfn", dir).s);
	sys_link(fs, dir, relf("%s/virtfn%u", pfdir, i).s);
	if (autoprobe)
		probe(fs, bdf);
}

static void remove_vf(struct fake_sysfs *fs, const struct fake_sysfs_dev *pf,
		      const char *pfdir, unsigned int i)
{
	char bdf[32], dir[PATH_MAX], drv[64];

	vf_bdf(pf->bdf, pf->sriov, i, bdf, sizeof(bdf));
	fake_sysfs_driver(fs, bdf, drv, sizeof(drv));
	if (drv[0])
		unbind(fs, bdf);
	ck_assert_int_eq(dev_dir(fs, bdf, dir, sizeof(dir)), 0);
	rm_rf(sysf(fs, "kernel/iommu_groups/%d",
		   pf->sriov->vf_group + (int)i).s);
	unlink(sysf(fs, "bus/pci/devices/%s", bdf).s);
	rm_rf(sysf(fs, "%s", dir).s);
	unlink(sysf(fs, "%s/virtfn%u", pfdir, i).s);
}

/* sriov_numvfs, as sriov_numvfs_store() and pci_enable_sriov() /
 * pci_disable_sriov() would. */
static int set_numvfs(struct fake_sysfs *fs, const struct fake_sysfs_dev *pf,
		      unsigned int n)
{
	char dir[PATH_MAX], buf[32], v[16];
	unsigned int cur = read_uint(fs, pf->bdf, "sriov_numvfs");
	bool autoprobe;

	ck_assert_int_eq(dev_dir(fs, pf->bdf, dir, sizeof(dir)), 0);
	fake_sysfs_driver(fs, pf->bdf, buf, sizeof(buf));
	if (!buf[0])
		return -ENOENT; /* no driver: no sriov_configure */
	if (n > pf->sriov->sysfs_total)
		return -ERANGE;
	if (n == cur)
		return 0;
	if (n && cur)
		return -EBUSY;
	fake_sysfs_attr(fs, pf->bdf, "sriov_drivers_autoprobe", buf,
			sizeof(buf));
	autoprobe = buf[0] == '1';
	for (unsigned int i = 0; i < (n ? n : cur); i++) {
		if (n)
			add_vf(fs, pf, dir, i, autoprobe);
		else
			remove_vf(fs, pf, dir, i);
	}
	pathf(v, sizeof(v), "%u\n", n);
	fake_sysfs_put(sysf(fs, "%s/sriov_numvfs", dir).s, v);
	config_numvfs(fs, dir, n);
	return 0;
}

/* What drivers_probe binds without an override: the model's native
 * driver; for a VF, its PF's VF driver while autoprobe is on. */
static const char *native_driver(const struct fake_sysfs *fs, const char *bdf)
{
	const struct fake_sysfs_dev *m = model(fs, bdf);
	char rel[PATH_MAX], pf[32], ap[8];

	if (m)
		return m->native ? m->native : m->driver;
	pathf(rel, sizeof(rel), "bus/pci/devices/%s/physfn", bdf);
	link_base(fs, rel, pf, sizeof(pf));
	m = pf[0] ? model(fs, pf) : NULL;
	if (!m || !m->sriov)
		return NULL;
	fake_sysfs_attr(fs, pf, "sriov_drivers_autoprobe", ap, sizeof(ap));
	return ap[0] == '1' ? m->sriov->vf_driver : NULL;
}

/* Header type 1/2 in config space, else (no config) the class code. */
static bool is_bridge(const struct fake_sysfs *fs, const char *bdf)
{
	FILE *f = fopen(sysf(fs, "bus/pci/devices/%s/config", bdf).s, "r");
	unsigned char cfg[64];
	char buf[32];
	size_t n = 0;

	if (f) {
		n = fread(cfg, 1, sizeof(cfg), f);
		fclose(f);
	}
	if (n > 0x0e)
		return (cfg[0x0e] & 0x7f) != 0;
	fake_sysfs_attr(fs, bdf, "class", buf, sizeof(buf));
	return (strtoul(buf, NULL, 16) >> 8) == 0x0604;
}

/* drivers_probe: pci_bus_match() takes driver_override first. */
static int probe(struct fake_sysfs *fs, const char *bdf)
{
	const struct fake_sysfs_dev *m = model(fs, bdf);
	char dir[PATH_MAX], ovr[64], drv[64];
	const char *pick;
	struct stat st;

	if (dev_dir(fs, bdf, dir, sizeof(dir)))
		return -ENODEV;
	fake_sysfs_driver(fs, bdf, drv, sizeof(drv));
	if (drv[0])
		return 0; /* bus_rescan_devices_helper: already bound */
	fake_sysfs_attr(fs, bdf, "driver_override", ovr, sizeof(ovr));
	pick = ovr[0] && strcmp(ovr, "(null)") ? ovr : native_driver(fs, bdf);
	if (!pick)
		return 0;
	if (stat(sysf(fs, "bus/pci/drivers/%s", pick).s, &st))
		return 0; /* not loaded */
	/* vfio_pci_probe(): normal headers only, no PF with VFs enabled. */
	if (!strcmp(pick, "vfio-pci") &&
	    (is_bridge(fs, bdf) ||
	     (m && m->sriov && read_uint(fs, bdf, "sriov_numvfs")) ||
	     (fs->vfio_refuses && !strcmp(fs->vfio_refuses, bdf))))
		return 0; /* a probe failure is swallowed by drivers_probe */
	fake_sysfs_bind(fs, bdf, pick);
	return 0;
}

/* One write, fs->lock held. */
static int kernel_write(struct fake_sysfs *fs, const char *rel,
			const char *val)
{
	char bdf[32], drv[64], attr[64], cur[64], arg[64];
	const struct fake_sysfs_dev *m;

	pathf(arg, sizeof(arg), "%.*s", (int)strcspn(val, "\n"), val);
	if (sscanf(rel, "bus/pci/devices/%31[^/]/%63s", bdf, attr) == 2) {
		m = model(fs, bdf);
		if (!strcmp(attr, "driver_override")) {
			fake_sysfs_put(sysf(fs, "%s", rel).s,
				       arg[0] ? val : "(null)\n");
			return 0;
		}
		if (!strcmp(attr, "sriov_drivers_autoprobe") && m && m->sriov) {
			fake_sysfs_put(sysf(fs, "%s", rel).s, val);
			return 0;
		}
		if (!strcmp(attr, "sriov_numvfs") && m && m->sriov)
			return set_numvfs(fs, m,
					  (unsigned int)strtoul(val, NULL, 10));
	}
	if (sscanf(rel, "bus/pci/drivers/%63[^/]/unbind", drv) == 1) {
		fake_sysfs_driver(fs, arg, cur, sizeof(cur));
		if (strcmp(cur, drv))
			return -ENODEV;
		unbind(fs, arg);
		return 0;
	}
	if (!strcmp(rel, "bus/pci/drivers_probe"))
		return probe(fs, arg);
	ck_abort_msg("unexpected write %s", rel);
	return -EINVAL;
}

static int fake_write(const struct vfio_host_env *env, const char *path,
		      const char *val)
{
	struct fake_sysfs *fs = env->opaque;
	size_t sl = strlen(fs->sys);
	const char *rel;
	int ret;

	ck_assert_msg(!strncmp(path, fs->sys, sl) && path[sl] == '/',
		      "write outside the fake sysfs: %s", path);
	rel = path + sl + 1;
	pthread_mutex_lock(&fs->lock);
	if (fs->nwrites < FAKE_SYSFS_LOG)
		pathf(fs->writes[fs->nwrites], sizeof(fs->writes[0]),
		      "%s=%.*s", rel, (int)strcspn(val, "\n"), val);
	fs->nwrites++;
	ret = fs->write_errno ? -fs->write_errno : kernel_write(fs, rel, val);
	pthread_mutex_unlock(&fs->lock);
	return ret;
}

static int fake_group_busy(const struct vfio_host_env *env, int group)
{
	const struct fake_sysfs *fs = env->opaque;

	return group == fs->busy_group;
}

static const struct vfio_host_ops fake_kernel = {
	.write = fake_write,
	.group_busy = fake_group_busy,
};

void fake_sysfs_enable_vfs(struct fake_sysfs *fs, const char *pf,
			   unsigned int n, bool autoprobe)
{
	const struct fake_sysfs_dev *m = model(fs, pf);
	char rel[PATH_MAX];
	int ret;

	ck_assert_msg(m && m->sriov, "%s is no PF", pf);
	pathf(rel, sizeof(rel), "bus/pci/devices/%s/sriov_drivers_autoprobe",
	      pf);
	pthread_mutex_lock(&fs->lock);
	fake_sysfs_put(sysf(fs, "%s", rel).s, autoprobe ? "1\n" : "0\n");
	ret = set_numvfs(fs, m, n);
	pthread_mutex_unlock(&fs->lock);
	ck_assert_int_eq(ret, 0);
}

/* ---- the host ---- */

void fake_sysfs_create(struct fake_sysfs *fs, const char *name)
{
	memset(fs, 0, sizeof(*fs));
	pthread_mutex_init(&fs->lock, NULL);
	fs->busy_group = -1;
	pathf(fs->root, sizeof(fs->root), "/tmp/%s-XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(fs->root));
	pathf(fs->sys, sizeof(fs->sys), "%s/sys", fs->root);
	pathf(fs->dev, sizeof(fs->dev), "%s/dev", fs->root);
	pathf(fs->run, sizeof(fs->run), "%s/run/iovmm", fs->root);
	pathf(fs->state, sizeof(fs->state), "%s/vfio", fs->run);
	pathf(fs->dev_vfio, sizeof(fs->dev_vfio), "%s/vfio", fs->dev);
	fake_sysfs_mkdirs(sysf(fs, "bus/pci/devices").s);
	fake_sysfs_mkdirs(sysf(fs, "bus/pci/drivers").s);
	fake_sysfs_put(sysf(fs, "bus/pci/drivers_probe").s, "");
	fake_sysfs_mkdirs(sysf(fs, "class/net").s);
	fake_sysfs_mkdirs(sysf(fs, "kernel/iommu_groups").s);
	fake_sysfs_mkdirs(sysf(fs, "devices/pci0000:00").s);
	fake_sysfs_mkdirs(fs->dev);
	vfio_host_env_default(&fs->env);
	fs->env.sysfs = fs->sys;
	fs->env.state_dir = fs->state;
	fs->env.dev_vfio = fs->dev_vfio;
	fs->env.ops = &fake_kernel;
	fs->env.opaque = fs;
}

void fake_sysfs_destroy(struct fake_sysfs *fs)
{
	if (!fs->root[0])
		return;
	rm_rf(fs->root);
	fs->root[0] = '\0';
	pthread_mutex_destroy(&fs->lock);
}
