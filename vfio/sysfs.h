/* SPDX-License-Identifier: MIT */
/*
 * The sysfs facts the passthrough device checks before it touches
 * /dev/vfio: does the PCI function exist, which driver owns it, which IOMMU
 * group it is in, and which device (if any) keeps that group from being
 * viable. Every function takes the sysfs root ("/sys" on a host, a fake
 * tree in the unit tests), so none of them needs a real machine.
 *
 * vfio/host.c answers all of them (BDF syntax, the device's sysfs view and
 * the viability rule, documented in vfio/host.h), so `iovmm run` and
 * `iovmm vfio list|bind` agree. These write no message: the backend that
 * checks (vfio/container.c) words its own.
 */
#ifndef IOVMM_VFIO_SYSFS_H
#define IOVMM_VFIO_SYSFS_H

#include <stdbool.h>
#include <stddef.h>

#include "vfio/host.h"

#define VFIO_BDF_LEN   VFIO_HOST_BDF_SIZE  /* "0000:01:00.1" + NUL, with room */
#define VFIO_DRV_LEN   VFIO_HOST_NAME_SIZE

/* "/sys" unless root is non-NULL and non-empty. */
const char *vfio_sysfs_root(const char *root);

/*
 * vfio_host_parse_bdf() without the message: "DDDD:BB:DD.F" (lower case)
 * from "0000:01:00.1", "01:00.1" (domain 0), or a sysfs device path whose
 * last component is a full address (/sys/bus/pci/devices/0000:01:00.1, a
 * /sys/devices/... path; symlinks are not followed, so a fake tree works).
 * -EINVAL when it is none of these.
 */
int vfio_sysfs_parse_bdf(const char *in, char out[VFIO_BDF_LEN]);

/* True when <root>/bus/pci/devices/<bdf> exists. */
bool vfio_sysfs_dev_exists(const char *root, const char *bdf);

/*
 * Name of the driver bound to bdf ("" when none). -ENOENT when the device
 * does not exist, -ENAMETOOLONG when the name does not fit drv.
 */
int vfio_sysfs_driver(const char *root, const char *bdf, char *drv,
		      size_t len);

/* IOMMU group number of bdf. -ENOENT when it has none (IOMMU off). */
int vfio_sysfs_group(const char *root, const char *bdf, int *group);

/*
 * Check group's PCI devices. 0 when viable; -EBUSY with the first blocking
 * device (in BDF order) and its driver copied out (either pointer may be
 * NULL); -ENOENT when the group does not exist.
 */
int vfio_sysfs_group_blocker(const char *root, int group,
			     char blocker[VFIO_BDF_LEN], char *drv,
			     size_t drvlen);

#endif
