/* SPDX-License-Identifier: MIT */
/*
 * Reading and writing sysfs (Documentation/filesystems/sysfs.rst): an
 * attribute is one value in one file, read with one read() and set with
 * one write(); links such as driver, iommu_group, physfn and virtfnN name
 * their target in its last path component. Callers build every path, so
 * the same code runs over a fake tree in the unit tests. Each function
 * returns 0 or -errno.
 */
#ifndef IOVMM_SYSFS_H
#define IOVMM_SYSFS_H

#include <stddef.h>
#include <sys/types.h>

/* snprintf into a path buffer: -ENAMETOOLONG instead of truncating. */
__attribute__((format(printf, 3, 4)))
int sysfs_pathf(char *buf, size_t len, const char *fmt, ...);

/* A one-line attribute into buf (len > 0), without its newline. */
int sysfs_read_attr(const char *path, char *buf, size_t len);

/* An attribute holding one number in `base` (strtoul); -EINVAL when not. */
int sysfs_read_ulong(const char *path, int base, unsigned long *out);

/*
 * The last component of a symlink's target ("nvme" for driver ->
 * ../../../bus/pci/drivers/nvme); -ENAMETOOLONG when it does not fit.
 */
int sysfs_read_link_base(const char *path, char *buf, size_t len);

/*
 * Write val in one write(): the result is the kernel's verdict (-EBUSY,
 * -ENODEV, -EACCES, ...); -EIO for a short write.
 */
int sysfs_write_attr(const char *path, const char *val);

/*
 * mkdir -p for run-time state (/run/iovmm/...): missing parents get 0755,
 * dir itself `mode`; directories that exist already are fine.
 */
int sysfs_mkdir_p(const char *dir, mode_t mode);

#endif
