// SPDX-License-Identifier: MIT
/* sysfs lookups for VFIO: device, driver, IOMMU group, group viability. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio/sysfs.h"

const char *vfio_sysfs_root(const char *root)
{
	return root && *root ? root : "/sys";
}

static bool hexn(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "DDDD:BB:DD.F" or "BB:DD.F", exactly (no trailing characters). */
static int bdf_parse_plain(const char *s, char out[VFIO_BDF_LEN])
{
	size_t n = strlen(s);
	const char *p = s;
	char dom[5] = "0000";
	unsigned slot;

	if (n == 12) {
		if (!hexn(s, 4) || s[4] != ':')
			return -EINVAL;
		memcpy(dom, s, 4);
		p = s + 5;
	} else if (n != 7) {
		return -EINVAL;
	}
	/* p: "BB:DD.F"; slots are 0-0x1f and functions 0-7. */
	if (!hexn(p, 2) || p[2] != ':' || !hexn(p + 3, 2) || p[5] != '.' ||
	    p[6] < '0' || p[6] > '7')
		return -EINVAL;
	slot = (unsigned)strtoul((char[]){ p[3], p[4], 0 }, NULL, 16);
	if (slot > 0x1f)
		return -EINVAL;
	snprintf(out, VFIO_BDF_LEN, "%.4s:%.2s:%.2s.%c", dom, p, p + 3, p[6]);
	for (char *c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

int vfio_sysfs_parse_bdf(const char *in, char out[VFIO_BDF_LEN])
{
	char buf[PATH_MAX];
	const char *base;
	size_t n;

	if (!in || !*in)
		return -EINVAL;
	if (in[0] != '/')
		return bdf_parse_plain(in, out);
	n = strlen(in);
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, in, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	base = strrchr(buf, '/') + 1;
	return bdf_parse_plain(base, out);
}

static int dev_path(char *p, size_t len, const char *root, const char *bdf,
		    const char *leaf)
{
	int n = snprintf(p, len, "%s/bus/pci/devices/%s%s%s",
			 vfio_sysfs_root(root), bdf, leaf ? "/" : "",
			 leaf ? leaf : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool vfio_sysfs_dev_exists(const char *root, const char *bdf)
{
	char p[PATH_MAX];
	struct stat st;

	return !dev_path(p, sizeof(p), root, bdf, NULL) && stat(p, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

/* Last path component of a symlink's target, e.g. driver -> .../nvme. */
static int link_base(const char *path, char *out, size_t len)
{
	char t[PATH_MAX];
	ssize_t n = readlink(path, t, sizeof(t) - 1);
	const char *b;

	if (n < 0)
		return -errno;
	t[n] = '\0';
	b = strrchr(t, '/');
	b = b ? b + 1 : t;
	if (strlen(b) >= len)
		return -ENAMETOOLONG;
	strcpy(out, b);
	return 0;
}

int vfio_sysfs_driver(const char *root, const char *bdf, char *drv,
		      size_t len)
{
	char p[PATH_MAX];
	int ret;

	if (!len)
		return -EINVAL;
	drv[0] = '\0';
	if (!vfio_sysfs_dev_exists(root, bdf))
		return -ENOENT;
	ret = dev_path(p, sizeof(p), root, bdf, "driver");
	if (ret)
		return ret;
	ret = link_base(p, drv, len);
	if (ret == -ENOENT) { /* no driver bound */
		drv[0] = '\0';
		return 0;
	}
	return ret;
}

int vfio_sysfs_group(const char *root, const char *bdf, int *group)
{
	char p[PATH_MAX], name[32], *end;
	long g;
	int ret = dev_path(p, sizeof(p), root, bdf, "iommu_group");

	if (ret)
		return ret;
	ret = link_base(p, name, sizeof(name));
	if (ret)
		return ret;
	errno = 0;
	g = strtol(name, &end, 10);
	if (errno || *end || end == name || g < 0 || g > INT_MAX)
		return -EINVAL;
	*group = (int)g;
	return 0;
}

bool vfio_sysfs_driver_viable(const char *drv)
{
	return !drv[0] || !strncmp(drv, "vfio", 4) || !strcmp(drv, "pci-stub") ||
	       !strcmp(drv, "pcieport");
}

int vfio_sysfs_group_blocker(const char *root, int group,
			     char blocker[VFIO_BDF_LEN], char *drv,
			     size_t drvlen)
{
	char p[PATH_MAX], d[VFIO_DRV_LEN];
	struct dirent *de;
	DIR *dir;
	int n, ret = 0;

	n = snprintf(p, sizeof(p), "%s/kernel/iommu_groups/%d/devices",
		     vfio_sysfs_root(root), group);
	if (n < 0 || (size_t)n >= sizeof(p))
		return -ENAMETOOLONG;
	dir = opendir(p);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char lp[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		n = snprintf(lp, sizeof(lp), "%s/%s/driver", p, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(lp))
			continue;
		if (link_base(lp, d, sizeof(d)))
			d[0] = '\0';
		if (vfio_sysfs_driver_viable(d))
			continue;
		if (blocker)
			snprintf(blocker, VFIO_BDF_LEN, "%.15s", de->d_name);
		if (drv && drvlen)
			snprintf(drv, drvlen, "%s", d);
		ret = -EBUSY;
		break;
	}
	closedir(dir);
	return ret;
}
