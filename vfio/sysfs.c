// SPDX-License-Identifier: MIT
/*
 * sysfs lookups for VFIO (device, driver, IOMMU group, group viability):
 * vfio/host.c's, over a bare sysfs root.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vfio/host.h"
#include "vfio/sysfs.h"

const char *vfio_sysfs_root(const char *root)
{
	return root && *root ? root : "/sys";
}

/* Only the sysfs root: these lookups read and never write. */
static void root_env(const char *root, struct vfio_host_env *env)
{
	memset(env, 0, sizeof(*env));
	env->sysfs = vfio_sysfs_root(root);
}

static int dev_read(const char *root, const char *bdf,
		    struct vfio_host_dev *d)
{
	struct vfio_host_env env;

	root_env(root, &env);
	return vfio_host_dev_read(&env, bdf, d, NULL, 0);
}

int vfio_sysfs_parse_bdf(const char *in, char out[VFIO_BDF_LEN])
{
	return vfio_host_parse_bdf(in, out, NULL, 0);
}

bool vfio_sysfs_dev_exists(const char *root, const char *bdf)
{
	struct vfio_host_dev d;

	return dev_read(root, bdf, &d) == 0;
}

int vfio_sysfs_driver(const char *root, const char *bdf, char *drv,
		      size_t len)
{
	struct vfio_host_dev d;

	if (!len)
		return -EINVAL;
	drv[0] = '\0';
	if (dev_read(root, bdf, &d))
		return -ENOENT;
	if (strlen(d.driver) >= len)
		return -ENAMETOOLONG;
	strcpy(drv, d.driver);
	return 0;
}

int vfio_sysfs_group(const char *root, const char *bdf, int *group)
{
	struct vfio_host_dev d;

	if (dev_read(root, bdf, &d) || d.group < 0)
		return -ENOENT;
	*group = d.group;
	return 0;
}

int vfio_sysfs_group_blocker(const char *root, int group,
			     char blocker[VFIO_BDF_LEN], char *drv,
			     size_t drvlen)
{
	struct vfio_host_env env;
	struct vfio_host_group g;
	int ret;

	root_env(root, &env);
	ret = vfio_host_group_read(&env, group, &g, NULL, 0);
	if (ret)
		return ret;
	if (!g.viable) {
		const struct vfio_host_dev *d = &g.devs[g.blocker];

		if (blocker)
			snprintf(blocker, VFIO_BDF_LEN, "%s", d->bdf);
		if (drv && drvlen)
			snprintf(drv, drvlen, "%s", d->driver);
		ret = -EBUSY;
	}
	vfio_host_group_free(&g);
	return ret;
}
