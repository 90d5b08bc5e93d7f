/* SPDX-License-Identifier: MIT */
/*
 * A fake host for the vfio/ unit tests: a temporary directory with a /sys
 * tree (PCI devices, their drivers and IOMMU groups, linked as the kernel
 * links them) and an empty /dev, passed to vfio/ as its roots.
 */
#ifndef IOVMM_TEST_FAKE_SYSFS_H
#define IOVMM_TEST_FAKE_SYSFS_H

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fake_tree {
	char base[64];   /* the temporary directory */
	char root[128];  /* fake /sys */
	char droot[128]; /* fake /dev */
};

static inline void fake_mkdirs(const char *path)
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

static inline void fake_link(const char *target, const char *link)
{
	ck_assert_msg(symlink(target, link) == 0, "%s -> %s", link, target);
}

static inline void fake_tree_create(struct fake_tree *t)
{
	snprintf(t->base, sizeof(t->base), "/tmp/iovmm-vfio-sysfs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->base));
	snprintf(t->root, sizeof(t->root), "%s/sys", t->base);
	snprintf(t->droot, sizeof(t->droot), "%s/dev", t->base);
	fake_mkdirs(t->root);
	fake_mkdirs(t->droot);
}

/* A device under /sys/devices, linked from bus/pci/devices, bound to drv
 * (NULL: none), in IOMMU group g (-1: none). */
static inline void fake_tree_add_dev(const struct fake_tree *t,
				     const char *bdf, const char *drv, int g)
{
	char dev[PATH_MAX], p[PATH_MAX], tg[PATH_MAX];
	const char *root = t->root;

	snprintf(dev, sizeof(dev), "%s/devices/pci0000:00/%s", root, bdf);
	fake_mkdirs(dev);
	snprintf(p, sizeof(p), "%s/bus/pci/devices", root);
	fake_mkdirs(p);
	snprintf(p, sizeof(p), "%s/bus/pci/devices/%s", root, bdf);
	snprintf(tg, sizeof(tg), "../../../devices/pci0000:00/%s", bdf);
	fake_link(tg, p);
	if (drv) {
		snprintf(p, sizeof(p), "%s/bus/pci/drivers/%s", root, drv);
		fake_mkdirs(p);
		snprintf(p, sizeof(p), "%s/devices/pci0000:00/%s/driver", root, bdf);
		snprintf(tg, sizeof(tg), "../../../bus/pci/drivers/%s", drv);
		fake_link(tg, p);
	}
	if (g >= 0) {
		snprintf(p, sizeof(p), "%s/kernel/iommu_groups/%d/devices", root, g);
		fake_mkdirs(p);
		snprintf(p, sizeof(p), "%s/devices/pci0000:00/%s/iommu_group", root,
			 bdf);
		snprintf(tg, sizeof(tg), "../../../kernel/iommu_groups/%d", g);
		fake_link(tg, p);
		snprintf(p, sizeof(p), "%s/kernel/iommu_groups/%d/devices/%s", root,
			 g, bdf);
		snprintf(tg, sizeof(tg), "../../../../devices/pci0000:00/%s", bdf);
		fake_link(tg, p);
	}
}

/* An empty file at /dev/REL (e.g. "vfio/vfio"), its directory made. */
static inline void fake_tree_add_devnode(const struct fake_tree *t,
					 const char *rel)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", t->droot, rel);
	*strrchr(p, '/') = '\0';
	fake_mkdirs(p);
	snprintf(p, sizeof(p), "%s/%s", t->droot, rel);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
}

static inline void fake_tree_destroy(const struct fake_tree *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->base);
	ck_assert_int_eq(system(cmd), 0);
}

#endif
