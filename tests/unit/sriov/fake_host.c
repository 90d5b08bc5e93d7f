// SPDX-License-Identifier: MIT
/*
 * The fake SR-IOV host (see fake_host.h): sysfs on disk, a fake kernel for
 * sysfs writes, a fake PF network driver for rtnetlink.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "tests/unit/sriov/fake_host.h"

struct fake_host fh;

/* A PF model: where it sits, what its capability says. */
struct fh_pf {
	const char *bdf, *port, *vendor, *device, *class, *driver;
	const char *netdev;
	int ifindex, group, vf_group_base;
	unsigned int cap_total, sysfs_total, offset, stride;
	uint16_t vf_device;
	const char *vf_driver; /* what autoprobe binds to a VF */
};

static const struct fh_pf fh_pfs[] = {
	{ FH_NIC_PF, "0000:00:03.0", "0x8086", "0x10fb", "0x020000", "ixgbe",
	  FH_NIC_NETDEV, FH_NIC_IFINDEX, 30, 100, 64, 63, 128, 2, 0x10ed,
	  "ixgbevf" },
	{ FH_NVME_PF, "0000:00:01.0", "0x1b36", "0x0010", "0x010802", "nvme",
	  NULL, 0, 3, 200, 2, 2, 1, 1, 0x0010, "nvme" },
};

static const char *const fh_drivers[] = {
	"pcieport", "ixgbe", "ixgbevf", "nvme", "ahci", "vfio-pci",
};

#define SRIOV_CAP 0x160 /* where the capability sits in config space */

static void vpath(char *buf, size_t len, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, len, fmt, ap);

	ck_assert_msg(n >= 0 && (size_t)n < len, "path too long");
}

__attribute__((format(printf, 1, 2)))
static void xmkdir(const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s",
		      path);
}

__attribute__((format(printf, 2, 3)))
static void xfile(const char *val, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "create %s", path);
	fputs(val, f);
	fclose(f);
}

__attribute__((format(printf, 2, 3)))
static void xlink(const char *target, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	unlink(path);
	ck_assert_msg(symlink(target, path) == 0, "symlink %s", path);
}

static void rm_rf(const char *path)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (lstat(path, &st))
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		rm_rf(sub);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

static const struct fh_pf *pf_model(const char *bdf)
{
	for (size_t i = 0; i < ARRAY_SIZE(fh_pfs); i++)
		if (!strcmp(fh_pfs[i].bdf, bdf))
			return &fh_pfs[i];
	return NULL;
}

/* The real directory of a device (its bus/pci/devices link's target). */
static void dev_dir(const char *bdf, char *buf, size_t len)
{
	char link[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/bus/pci/devices/%s", fh.sysfs, bdf);
	n = readlink(link, buf, len - 1);
	ck_assert_msg(n > 0, "no device %s", bdf);
	buf[n] = '\0';
}

static int read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

void fh_attr(const char *bdf, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", fh.sysfs, bdf,
		 attr);
	read_text(path, buf, len);
}

void fh_driver_of(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", fh.sysfs,
		 bdf);
	n = readlink(path, target, sizeof(target) - 1);
	buf[0] = '\0';
	if (n > 0) {
		target[n] = '\0';
		snprintf(buf, len, "%s", strrchr(target, '/') + 1);
	}
}

/* Config space: a PCIe capability at 0x40 (libpci only walks extended
 * capabilities of PCIe functions) and, for a PF, SR-IOV at SRIOV_CAP. */
static void write_config(const char *dir, uint16_t vendor, uint16_t device,
			 const struct fh_pf *pf, unsigned int numvfs)
{
	uint8_t cfg[4096] = { 0 };
	char path[PATH_MAX];
	FILE *f;

	cfg[0] = vendor & 0xff;
	cfg[1] = vendor >> 8;
	cfg[2] = device & 0xff;
	cfg[3] = device >> 8;
	cfg[0x06] = 0x10;  /* Status: Capabilities List */
	cfg[0x34] = 0x40;
	cfg[0x40] = 0x10;  /* PCI Express */
	cfg[0x42] = 0x02;  /* version 2, endpoint */
	/* An AER header first, so the walk has to follow a next pointer. */
	cfg[0x100] = 0x01;
	cfg[0x102] = 0x01 | ((SRIOV_CAP & 0xf) << 4);
	cfg[0x103] = SRIOV_CAP >> 4;
	if (pf) {
		uint8_t *c = cfg + SRIOV_CAP;

		c[0] = 0x10;  /* SR-IOV, version 1, last */
		c[2] = 0x01;
		c[0x08] = numvfs ? 0x19 : 0x10; /* VFE | MSE | ARI */
		c[0x0c] = (uint8_t)pf->cap_total; /* InitialVFs */
		c[0x0e] = (uint8_t)pf->cap_total;
		c[0x10] = (uint8_t)numvfs;
		c[0x14] = (uint8_t)pf->offset;
		c[0x16] = (uint8_t)pf->stride;
		c[0x1a] = pf->vf_device & 0xff;
		c[0x1b] = pf->vf_device >> 8;
		c[0x1c] = 0x53; /* 4K, 8K, 64K, 256K (0x553 on real parts) */
		c[0x1d] = 0x05;
		c[0x20] = 0x01; /* system page size 4K */
	}
	snprintf(path, sizeof(path), "%s/config", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(cfg, 1, sizeof(cfg), f), sizeof(cfg));
	fclose(f);
}

static void make_group(int group, const char *dir, const char *bdf)
{
	xmkdir("%s/kernel/iommu_groups/%d", fh.sysfs, group);
	xmkdir("%s/kernel/iommu_groups/%d/devices", fh.sysfs, group);
	xlink(dir, "%s/kernel/iommu_groups/%d/devices/%s", fh.sysfs, group,
	      bdf);
	{
		char target[PATH_MAX];

		snprintf(target, sizeof(target), "%s/kernel/iommu_groups/%d",
			 fh.sysfs, group);
		xlink(target, "%s/iommu_group", dir);
	}
}

static void make_dev(const char *dir, const char *bdf, const char *vendor,
		     const char *device, const char *class, int group)
{
	xmkdir("%s", dir);
	xfile(vendor, "%s/vendor", dir);
	xfile(device, "%s/device", dir);
	xfile(class, "%s/class", dir);
	xfile("(null)\n", "%s/driver_override", dir);
	write_config(dir, (uint16_t)strtoul(vendor, NULL, 16),
		     (uint16_t)strtoul(device, NULL, 16), NULL, 0);
	make_group(group, dir, bdf);
	xlink(dir, "%s/bus/pci/devices/%s", fh.sysfs, bdf);
}

void fh_bind(const char *bdf, const char *drv)
{
	char dir[PATH_MAX], target[PATH_MAX];

	dev_dir(bdf, dir, sizeof(dir));
	snprintf(target, sizeof(target), "%s/bus/pci/drivers/%s", fh.sysfs,
		 drv);
	xlink(target, "%s/driver", dir);
	/* ixgbevf makes a network interface for its VF. */
	if (!strcmp(drv, "ixgbevf")) {
		char name[32], mac[32];
		unsigned int dev, fn;

		sscanf(bdf + 8, "%x.%x", &dev, &fn);
		snprintf(name, sizeof(name), "enp59s%uf%u", dev, fn);
		snprintf(mac, sizeof(mac), "02:00:00:3b:%02x:%02x\n", dev, fn);
		xmkdir("%s/net", dir);
		xmkdir("%s/net/%s", dir, name);
		xfile(mac, "%s/net/%s/address", dir, name);
	}
}

static void unbind(const char *bdf)
{
	char dir[PATH_MAX], path[PATH_MAX];

	dev_dir(bdf, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/driver", dir);
	ck_assert_int_eq(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/net", dir);
	rm_rf(path);
}

static void make_pf(const struct fh_pf *pf)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/devices/pci0000:00/%s/%s", fh.sysfs,
		 pf->port, pf->bdf);
	make_dev(dir, pf->bdf, pf->vendor, pf->device, pf->class, pf->group);
	write_config(dir, (uint16_t)strtoul(pf->vendor, NULL, 16),
		     (uint16_t)strtoul(pf->device, NULL, 16), pf, 0);
	xfile("0\n", "%s/sriov_numvfs", dir);
	{
		char v[16];

		snprintf(v, sizeof(v), "%u\n", pf->sysfs_total);
		xfile(v, "%s/sriov_totalvfs", dir);
	}
	xfile("1\n", "%s/sriov_drivers_autoprobe", dir);
	if (pf->netdev) {
		char v[16];

		xmkdir("%s/net", dir);
		xmkdir("%s/net/%s", dir, pf->netdev);
		snprintf(v, sizeof(v), "%d\n", pf->ifindex);
		xfile(v, "%s/net/%s/ifindex", dir, pf->netdev);
		xfile("90:e2:ba:00:00:01\n", "%s/net/%s/address", dir,
		      pf->netdev);
		{
			char target[PATH_MAX];

			snprintf(target, sizeof(target), "%s/net/%s", dir,
				 pf->netdev);
			xlink(target, "%s/class/net/%s", fh.sysfs, pf->netdev);
			xlink(dir, "%s/net/%s/device", dir, pf->netdev);
		}
	}
	fh_bind(pf->bdf, pf->driver);
}

/* VF n's BDF from the model (what the kernel computes). */
static void vf_bdf(const struct fh_pf *pf, unsigned int n, char *out,
		   size_t len)
{
	unsigned int dom, bus, dev, fn, rid;

	sscanf(pf->bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn);
	rid = (bus << 8 | dev << 3 | fn) + pf->offset + n * pf->stride;
	snprintf(out, len, "%04x:%02x:%02x.%x", dom, rid >> 8, (rid >> 3) & 31,
		 rid & 7);
}

/* sriov_numvfs as pci_enable_sriov()/pci_disable_sriov() would. */
static int set_numvfs(const struct fh_pf *pf, unsigned int n)
{
	char pfdir[PATH_MAX], dir[PATH_MAX], bdf[32], buf[32], v[16];
	unsigned int cur;
	bool autoprobe;

	dev_dir(pf->bdf, pfdir, sizeof(pfdir));
	fh_attr(pf->bdf, "sriov_numvfs", buf, sizeof(buf));
	cur = (unsigned int)strtoul(buf, NULL, 10);
	fh_driver_of(pf->bdf, buf, sizeof(buf));
	if (!buf[0])
		return -ENOENT; /* no driver: no sriov_configure */
	if (n > pf->sysfs_total)
		return -ERANGE;
	if (n == cur)
		return 0;
	if (n && cur)
		return -EBUSY;
	fh_attr(pf->bdf, "sriov_drivers_autoprobe", buf, sizeof(buf));
	autoprobe = buf[0] == '1';
	for (unsigned int i = 0; i < (n ? n : cur); i++) {
		vf_bdf(pf, i, bdf, sizeof(bdf));
		snprintf(dir, sizeof(dir), "%s/%s", pfdir, bdf);
		if (!n) {
			char grp[PATH_MAX];

			snprintf(grp, sizeof(grp), "%s/kernel/iommu_groups/%d",
				 fh.sysfs, pf->vf_group_base + (int)i);
			rm_rf(grp);
			snprintf(grp, sizeof(grp), "%s/bus/pci/devices/%s",
				 fh.sysfs, bdf);
			unlink(grp);
			rm_rf(dir);
			snprintf(dir, sizeof(dir), "%s/virtfn%u", pfdir, i);
			unlink(dir);
			continue;
		}
		make_dev(dir, bdf, pf->vendor, "0x0000", pf->class,
			 pf->vf_group_base + (int)i);
		snprintf(v, sizeof(v), "0x%04x\n", pf->vf_device);
		xfile(v, "%s/device", dir);
		{
			char target[64];

			snprintf(target, sizeof(target), "../%s", pf->bdf);
			xlink(target, "%s/physfn", dir);
		}
		{
			char target[64];

			snprintf(target, sizeof(target), "../%s", bdf);
			xlink(target, "%s/virtfn%u", pfdir, i);
		}
		if (autoprobe)
			fh_bind(bdf, pf->vf_driver);
	}
	snprintf(v, sizeof(v), "%u\n", n);
	xfile(v, "%s/sriov_numvfs", pfdir);
	write_config(pfdir, (uint16_t)strtoul(pf->vendor, NULL, 16),
		     (uint16_t)strtoul(pf->device, NULL, 16), pf, n);
	return 0;
}

/* drivers_probe: override first, else the native driver; a VF of a PF
 * with autoprobe off only probes with an override (pci_device_can_probe). */
static int probe(const char *bdf)
{
	char ovr[64], drv[64], path[PATH_MAX], pfbdf[64] = "";
	const char *pick = NULL;
	const struct fh_pf *pf = pf_model(bdf);
	struct stat st;

	fh_driver_of(bdf, drv, sizeof(drv));
	if (drv[0])
		return 0;
	fh_attr(bdf, "driver_override", ovr, sizeof(ovr));
	if (strcmp(ovr, "(null)") && ovr[0]) {
		pick = ovr;
	} else if (pf) {
		pick = pf->driver;
	} else {
		char l[PATH_MAX], t[PATH_MAX];
		ssize_t n;

		snprintf(l, sizeof(l), "%s/bus/pci/devices/%s/physfn", fh.sysfs,
			 bdf);
		n = readlink(l, t, sizeof(t) - 1);
		if (n > 0) {
			char ap[8];
			char dir[PATH_MAX];

			/* The PF is the parent directory. */
			dev_dir(bdf, dir, sizeof(dir));
			*strrchr(dir, '/') = '\0';
			snprintf(pfbdf, sizeof(pfbdf), "%s",
				 strrchr(dir, '/') + 1);
			fh_attr(pfbdf, "sriov_drivers_autoprobe", ap,
				sizeof(ap));
			pf = pf_model(pfbdf);
			if (ap[0] == '1' && pf)
				pick = pf->vf_driver;
		}
	}
	if (!pick)
		return 0;
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s", fh.sysfs, pick);
	if (stat(path, &st))
		return 0;
	fh_bind(bdf, pick);
	return 0;
}

static int fake_write(const struct vfio_host_env *env, const char *path,
		      const char *val)
{
	size_t rl = strlen(fh.sysfs);
	char bdf[32], drv[64], attr[64], cur[64];
	const struct fh_pf *pf;
	const char *rel;

	ck_assert_msg(!strncmp(path, fh.sysfs, rl), "write outside: %s", path);
	rel = path + rl + 1;
	pthread_mutex_lock(&fh.lock);
	fh.sysfs_writes++;
	pthread_mutex_unlock(&fh.lock);
	if (fh.write_errno)
		return -fh.write_errno;
	if (sscanf(rel, "bus/pci/devices/%31[^/]/%63s", bdf, attr) == 2) {
		pf = pf_model(bdf);
		if (!strcmp(attr, "driver_override")) {
			xfile(val[0] == '\n' ? "(null)\n" : val, "%s", path);
			return 0;
		}
		if (!strcmp(attr, "sriov_drivers_autoprobe") && pf) {
			xfile(val, "%s", path);
			return 0;
		}
		if (!strcmp(attr, "sriov_numvfs") && pf)
			return set_numvfs(pf, (unsigned int)strtoul(val, NULL,
								    10));
	}
	if (sscanf(rel, "bus/pci/drivers/%63[^/]/unbind", drv) == 1) {
		fh_driver_of(val, cur, sizeof(cur));
		if (strcmp(cur, drv))
			return -ENODEV;
		unbind(val);
		return 0;
	}
	if (!strcmp(rel, "bus/pci/drivers_probe"))
		return probe(val);
	ck_abort_msg("unexpected write %s", rel);
	return -EINVAL;
}

static int fake_group_busy(const struct vfio_host_env *env, int group)
{
	return group == fh.busy_group;
}

static const struct vfio_host_ops fake_ops = {
	.write = fake_write,
	.group_busy = fake_group_busy,
};

/* ---- the PF network driver ---- */

static void nl_log(int ifindex, uint32_t vf, int attr, int result)
{
	if (fh.nlog < FH_LOG_MAX)
		fh.log[fh.nlog++] = (struct fh_req){ ifindex, vf, attr, result };
}

int fh_count(int attr, int vf)
{
	int n = 0;

	pthread_mutex_lock(&fh.lock);
	for (int i = 0; i < fh.nlog; i++)
		n += fh.log[i].attr == attr && fh.log[i].result == 0 &&
		     (vf < 0 || fh.log[i].vf == (uint32_t)vf);
	pthread_mutex_unlock(&fh.lock);
	return n;
}

static unsigned int nic_numvfs(void)
{
	char buf[16];

	fh_attr(FH_NIC_PF, "sriov_numvfs", buf, sizeof(buf));
	return (unsigned int)strtoul(buf, NULL, 10);
}

/* One IFLA_VF_* attribute, as ixgbe's ndo_set_vf_* would take it. */
static int nic_set(int type, struct nlattr *a, uint32_t *vfp)
{
	const uint32_t *vf = nla_data(a);
	struct fh_vf_state *s;

	if (type == IFLA_VF_VLAN_LIST) {
		struct nlattr *e = nla_data(a);
		const struct ifla_vf_vlan_info *vi;

		ck_assert_int_eq(nla_type(e), IFLA_VF_VLAN_INFO);
		ck_assert_int_eq(nla_len(e), sizeof(*vi));
		vi = nla_data(e);
		*vfp = vi->vf;
		if (vi->vf >= nic_numvfs())
			return -EINVAL;
		if (ntohs(vi->vlan_proto) == ETH_P_8021AD &&
		    (fh.refuse & FH_NO_QINQ))
			return -EPROTONOSUPPORT;
		if (vi->vlan > 4095 || vi->qos > 7)
			return -EINVAL;
		s = &fh.vfs[vi->vf];
		s->vlan = (uint16_t)vi->vlan;
		s->qos = (uint8_t)vi->qos;
		s->proto = ntohs(vi->vlan_proto);
		return 0;
	}
	*vfp = *vf;
	if (*vf >= nic_numvfs())
		return -EINVAL;
	s = &fh.vfs[*vf];
	switch (type) {
	case IFLA_VF_MAC:
		memcpy(s->mac, ((const struct ifla_vf_mac *)vf)->mac, 6);
		return 0;
	case IFLA_VF_SPOOFCHK:
		if (fh.refuse & FH_NO_SPOOFCHK)
			return -EOPNOTSUPP;
		s->spoofchk = ((const struct ifla_vf_spoofchk *)vf)->setting;
		return 0;
	case IFLA_VF_TRUST:
		if (fh.refuse & FH_NO_TRUST)
			return -EOPNOTSUPP;
		s->trust = ((const struct ifla_vf_trust *)vf)->setting;
		return 0;
	case IFLA_VF_RATE: {
		const struct ifla_vf_rate *r = (const void *)vf;

		if (r->min_tx_rate && (fh.refuse & FH_NO_MIN_RATE))
			return -EINVAL;
		s->min_rate = r->min_tx_rate;
		s->max_rate = r->max_tx_rate;
		return 0;
	}
	case IFLA_VF_LINK_STATE:
		s->link = ((const struct ifla_vf_link_state *)vf)->link_state;
		return 0;
	}
	ck_abort_msg("unexpected IFLA_VF attribute %d", type);
	return -EINVAL;
}

/* RTM_SETLINK: exactly one IFLA_VF_INFO with exactly one attribute. */
static int nic_setlink(struct nlmsghdr *h)
{
	struct nlattr *tb[IFLA_MAX + 1], *vfi[IFLA_VF_MAX + 1], *info;
	const struct ifinfomsg *ifi = nlmsg_data(h);
	uint32_t vf = 0;
	int rem, type = -1, n = 0, ret;

	ck_assert_int_eq(nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL), 0);
	ck_assert_ptr_nonnull(tb[IFLA_VFINFO_LIST]);
	if (ifi->ifi_index != FH_NIC_IFINDEX)
		return -ENODEV;
	nla_for_each_nested(info, tb[IFLA_VFINFO_LIST], rem) {
		ck_assert_int_eq(nla_type(info), IFLA_VF_INFO);
		n++;
	}
	ck_assert_int_eq(n, 1);
	info = nla_data(tb[IFLA_VFINFO_LIST]);
	ck_assert_int_eq(nla_parse_nested(vfi, IFLA_VF_MAX, info, NULL), 0);
	n = 0;
	for (int t = 1; t <= IFLA_VF_MAX; t++) {
		if (vfi[t]) {
			type = t;
			n++;
		}
	}
	ck_assert_int_eq(n, 1);
	ret = fh.nl_errno ? -fh.nl_errno : nic_set(type, vfi[type], &vf);
	nl_log(ifi->ifi_index, vf, type, ret);
	return ret;
}

/* RTM_NEWLINK the way rtnl_fill_vfinfo() writes it. */
static struct nl_msg *nic_getlink(struct nlmsghdr *h)
{
	struct ifinfomsg ifi = { .ifi_index = FH_NIC_IFINDEX };
	unsigned int n = nic_numvfs();
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	struct nlattr *list;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
	nla_put_string(m, IFLA_IFNAME, FH_NIC_NETDEV);
	nla_put_u32(m, IFLA_NUM_VF, n);
	list = nla_nest_start(m, IFLA_VFINFO_LIST);
	for (uint32_t i = 0; i < n; i++) {
		const struct fh_vf_state *s = &fh.vfs[i];
		struct ifla_vf_mac mac = { .vf = i };
		struct ifla_vf_vlan vlan = { i, s->vlan, s->qos };
		struct ifla_vf_vlan_info vi = { i, s->vlan, s->qos,
						htons(s->proto) };
		struct ifla_vf_tx_rate tx = { i, s->max_rate };
		struct ifla_vf_rate rate = { i, s->min_rate, s->max_rate };
		struct ifla_vf_spoofchk sc = { i, s->spoofchk };
		struct ifla_vf_link_state ls = { i, s->link };
		struct ifla_vf_trust tr = { i, (fh.refuse & FH_NO_TRUST) ?
						       (uint32_t)-1 : s->trust };
		struct nlattr *info = nla_nest_start(m, IFLA_VF_INFO), *vl;

		memcpy(mac.mac, s->mac, 6);
		nla_put(m, IFLA_VF_MAC, sizeof(mac), &mac);
		nla_put(m, IFLA_VF_VLAN, sizeof(vlan), &vlan);
		vl = nla_nest_start(m, IFLA_VF_VLAN_LIST);
		nla_put(m, IFLA_VF_VLAN_INFO, sizeof(vi), &vi);
		nla_nest_end(m, vl);
		nla_put(m, IFLA_VF_TX_RATE, sizeof(tx), &tx);
		nla_put(m, IFLA_VF_RATE, sizeof(rate), &rate);
		nla_put(m, IFLA_VF_SPOOFCHK, sizeof(sc), &sc);
		nla_put(m, IFLA_VF_LINK_STATE, sizeof(ls), &ls);
		nla_put(m, IFLA_VF_TRUST, sizeof(tr), &tr);
		nla_nest_end(m, info);
	}
	nla_nest_end(m, list);
	return m;
}

static int fake_transact(const struct sriov_env *env, struct nl_msg *req,
			 struct nl_msg **reply, char *ack, size_t len)
{
	struct nlmsghdr *h = nlmsg_hdr(req);
	int ret = 0;

	if (ack && len)
		ack[0] = '\0';
	pthread_mutex_lock(&fh.lock);
	if (h->nlmsg_type == RTM_GETLINK) {
		const struct ifinfomsg *ifi = nlmsg_data(h);

		ck_assert_ptr_nonnull(reply);
		if (fh.nl_errno)
			ret = -fh.nl_errno;
		else if (ifi->ifi_index != FH_NIC_IFINDEX)
			ret = -ENODEV;
		else
			*reply = nic_getlink(h);
		nl_log(ifi->ifi_index, 0, -1, ret);
	} else {
		ck_assert_int_eq(h->nlmsg_type, RTM_SETLINK);
		ck_assert(h->nlmsg_flags & NLM_F_ACK);
		ret = nic_setlink(h);
		if (ret == -EINVAL && ack && len)
			snprintf(ack, len, "fake driver: value out of range");
	}
	pthread_mutex_unlock(&fh.lock);
	return ret;
}

static const struct sriov_nl_ops fake_nl_ops = {
	.transact = fake_transact,
};

/* ---- setup ---- */

void fh_setup(void)
{
	memset(&fh, 0, sizeof(fh));
	pthread_mutex_init(&fh.lock, NULL);
	fh.busy_group = -1;
	snprintf(fh.root, sizeof(fh.root), "/tmp/iovmm-sriov-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fh.root));
	snprintf(fh.sysfs, sizeof(fh.sysfs), "%s/sys", fh.root);
	snprintf(fh.state, sizeof(fh.state), "%s/run/vfio", fh.root);
	snprintf(fh.run, sizeof(fh.run), "%s/run/sriov", fh.root);
	snprintf(fh.devvfio, sizeof(fh.devvfio), "%s/dev/vfio", fh.root);
	xmkdir("%s", fh.sysfs);
	xmkdir("%s/bus", fh.sysfs);
	xmkdir("%s/bus/pci", fh.sysfs);
	xmkdir("%s/bus/pci/devices", fh.sysfs);
	xmkdir("%s/bus/pci/drivers", fh.sysfs);
	xfile("", "%s/bus/pci/drivers_probe", fh.sysfs);
	for (size_t i = 0; i < ARRAY_SIZE(fh_drivers); i++)
		xmkdir("%s/bus/pci/drivers/%s", fh.sysfs, fh_drivers[i]);
	xmkdir("%s/class", fh.sysfs);
	xmkdir("%s/class/net", fh.sysfs);
	xmkdir("%s/kernel", fh.sysfs);
	xmkdir("%s/kernel/iommu_groups", fh.sysfs);
	xmkdir("%s/devices", fh.sysfs);
	xmkdir("%s/devices/pci0000:00", fh.sysfs);
	{
		static const struct {
			const char *bdf, *device, *class, *driver;
			int group;
		} plain[] = {
			{ "0000:00:01.0", "0x000c", "0x060400", "pcieport", 1 },
			{ "0000:00:03.0", "0x000c", "0x060400", "pcieport", 2 },
			{ FH_AHCI, "0x2922", "0x010601", "ahci", 5 },
		};
		char dir[PATH_MAX];

		for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
			snprintf(dir, sizeof(dir), "%s/devices/pci0000:00/%s",
				 fh.sysfs, plain[i].bdf);
			make_dev(dir, plain[i].bdf, "0x8086", plain[i].device,
				 plain[i].class, plain[i].group);
			fh_bind(plain[i].bdf, plain[i].driver);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(fh_pfs); i++)
		make_pf(&fh_pfs[i]);
	vfio_host_env_default(&fh.env.host);
	fh.env.host.sysfs = fh.sysfs;
	fh.env.host.state_dir = fh.state;
	fh.env.host.dev_vfio = fh.devvfio;
	fh.env.host.ops = &fake_ops;
	fh.env.run_dir = fh.run;
	fh.env.nl = &fake_nl_ops;
	for (int i = 0; i < FH_MAX_VFS; i++) {
		fh.vfs[i].proto = ETH_P_8021Q;
		fh.vfs[i].spoofchk = 1;
	}
}

void fh_teardown(void)
{
	rm_rf(fh.root);
	pthread_mutex_destroy(&fh.lock);
}

void fh_enable_vfs(const char *pf, unsigned int n, bool autoprobe)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path),
		 "%s/bus/pci/devices/%s/sriov_drivers_autoprobe", fh.sysfs, pf);
	ck_assert_int_eq(fake_write(&fh.env.host, path, autoprobe ? "1" : "0"),
			 0);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/sriov_numvfs",
		 fh.sysfs, pf);
	{
		char v[16];

		snprintf(v, sizeof(v), "%u", n);
		ck_assert_int_eq(fake_write(&fh.env.host, path, v), 0);
	}
}
