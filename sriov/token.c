// SPDX-License-Identifier: MIT
/*
 * The VFIO VF token (Linux 5.7+, drivers/vfio/pci/vfio_pci_core.c). When a
 * PF is bound to vfio-pci, its VFs serve a userspace PF driver that can
 * see and disturb their traffic, so the kernel only opens such a VF for a
 * user who presents the UUID the PF's owner chose: the PF owner sets it
 * with VFIO_DEVICE_FEATURE(SET | PCI_VF_TOKEN), the VF user appends
 * " vf_token=UUID" to the device name in VFIO_GROUP_GET_DEVICE_FD. Until
 * someone sets it the token is a random UUID nobody knows.
 *
 * iovmm keeps one token per PF under run_dir/tokens/PF_BDF (mode 0600):
 * generated here and handed to the PF driver (e.g. DPDK's
 * --vfio-vf-token), or given by the operator, or programmed into a PF that
 * no userspace driver holds (sriov_token_apply).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sysfs.h"
#include "sriov/sriov_internal.h"

static int token_path(const struct sriov_env *env, const char *pf_bdf,
		      char *buf, size_t len)
{
	return sysfs_pathf(buf, len, "%s/tokens/%s", env->run_dir, pf_bdf);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 4122 text form: 8-4-4-4-12 hex digits; 16 bytes into `bytes`. */
static int uuid_parse(const char *s, uint8_t bytes[16])
{
	int b = 0;

	if (strlen(s) != SRIOV_TOKEN_SIZE - 1)
		return -EINVAL;
	for (int i = 0; i < SRIOV_TOKEN_SIZE - 1;) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return -EINVAL;
			continue;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		bytes[b++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

static void uuid_format(const uint8_t u[16], char out[SRIOV_TOKEN_SIZE])
{
	snprintf(out, SRIOV_TOKEN_SIZE,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4],
		 u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		 u[14], u[15]);
}

/* The PF's canonical BDF; a VF's argument is refused by resolve. */
static int token_pf(const struct sriov_env *env, const char *pf,
		    char bdf[SRIOV_BDF_SIZE], char *err, size_t errlen)
{
	return sriov_pf_resolve(env, pf, bdf, err, errlen);
}

static int token_read(const char *path, char token[SRIOV_TOKEN_SIZE])
{
	uint8_t u[16];
	char buf[64];
	int ret = sysfs_read_attr(path, buf, sizeof(buf));

	if (ret)
		return ret;
	if (uuid_parse(buf, u))
		return -EBADMSG;
	uuid_format(u, token);
	return 0;
}

/* Write the token file atomically (tmp + rename), 0600. */
static int token_store(const struct sriov_env *env, const char *pf_bdf,
		       const char *token, bool exclusive)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
	size_t len = strlen(token);
	int fd, ret;

	if (sysfs_pathf(dir, sizeof(dir), "%s/tokens", env->run_dir) ||
	    token_path(env, pf_bdf, path, sizeof(path)) ||
	    sysfs_pathf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()))
		return -ENAMETOOLONG;
	ret = sysfs_mkdir_p(dir, 0700);
	if (ret)
		return ret;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, token, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	/* exclusive: link() fails if another process stored one first. */
	if (!ret && exclusive && link(tmp, path))
		ret = -errno;
	else if (!ret && !exclusive && rename(tmp, path))
		ret = -errno;
	unlink(tmp);
	return ret;
}

int sriov_token_get(const struct sriov_env *env, const char *pf, bool create,
		    char token[SRIOV_TOKEN_SIZE], char *err, size_t errlen)
{
	char bdf[SRIOV_BDF_SIZE], path[PATH_MAX];
	uint8_t u[16];
	int ret;

	token[0] = '\0';
	ret = token_pf(env, pf, bdf, err, errlen);
	if (ret)
		return ret;
	if (token_path(env, bdf, path, sizeof(path)))
		return -ENAMETOOLONG;
	ret = token_read(path, token);
	if (ret != -ENOENT || !create) {
		if (ret == -ENOENT)
			log_errf(err, errlen, "no VF token stored for %s "
				 "(iovmm sriov token %s --generate or --set "
				 "UUID)", bdf, bdf);
		else if (ret == -EBADMSG)
			log_errf(err, errlen, "%s does not hold a UUID", path);
		else if (ret)
			log_errf(err, errlen, "reading %s: %s", path,
				 strerror(-ret));
		return ret;
	}
	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u))
		return -EIO;
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 (RFC 4122 §4.4) */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* variant 10 */
	uuid_format(u, token);
	ret = token_store(env, bdf, token, true);
	if (ret == -EEXIST)
		return token_read(path, token); /* another process won */
	if (ret)
		log_errf(err, errlen, "storing the VF token of %s under "
			 "%s/tokens: %s%s", bdf, env->run_dir, strerror(-ret),
			 ret == -EACCES ? " (needs root)" : "");
	return ret;
}

int sriov_token_set(const struct sriov_env *env, const char *pf,
		    const char *uuid, char *err, size_t errlen)
{
	char bdf[SRIOV_BDF_SIZE], token[SRIOV_TOKEN_SIZE];
	uint8_t u[16];
	int ret;

	if (!uuid || uuid_parse(uuid, u)) {
		log_errf(err, errlen, "invalid VF token '%s': expected a UUID "
			 "such as 4d3cd8a2-8f45-4b7e-9a1c-2e6f0b5d7c91",
			 uuid ? uuid : "");
		return -EINVAL;
	}
	ret = token_pf(env, pf, bdf, err, errlen);
	if (ret)
		return ret;
	uuid_format(u, token);
	ret = token_store(env, bdf, token, false);
	if (ret)
		log_errf(err, errlen, "storing the VF token of %s: %s%s", bdf,
			 strerror(-ret), ret == -EACCES ? " (needs root)" : "");
	return ret;
}

/* ---- VFIO ---- */

struct vfio_fds {
	int container, group, device;
};

static void vfio_close(struct vfio_fds *f)
{
	if (f->device >= 0)
		close(f->device);
	if (f->group >= 0)
		close(f->group);
	if (f->container >= 0)
		close(f->container);
	f->device = f->group = f->container = -1;
}

/* Container + group + IOMMU model: what GET_DEVICE_FD requires. */
static int vfio_group_setup(const struct sriov_env *env, int group,
			    struct vfio_fds *f, char *err, size_t errlen)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[PATH_MAX];
	int ret;

	if (sysfs_pathf(path, sizeof(path), "%s/vfio", env->host.dev_vfio))
		return -ENAMETOOLONG;
	f->container = open(path, O_RDWR | O_CLOEXEC);
	if (f->container < 0) {
		ret = -errno;
		log_errf(err, errlen, "%s: %s (is vfio-pci loaded?)", path,
			 strerror(-ret));
		return ret;
	}
	if (sysfs_pathf(path, sizeof(path), "%s/%d", env->host.dev_vfio,
			group))
		return -ENAMETOOLONG;
	f->group = open(path, O_RDWR | O_CLOEXEC);
	if (f->group < 0) {
		ret = -errno;
		log_errf(err, errlen, "%s: %s%s", path, strerror(-ret),
			 ret == -EBUSY ? " (a VM or PF driver holds it)" : "");
		return ret;
	}
	if (ioctl(f->group, VFIO_GROUP_GET_STATUS, &st) < 0 ||
	    !(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		vfio_host_group_check(&env->host, group, err, errlen);
		return -EPERM;
	}
	if (ioctl(f->group, VFIO_GROUP_SET_CONTAINER, &f->container) < 0 ||
	    (ioctl(f->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 &&
	     ioctl(f->container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0)) {
		ret = -errno;
		log_errf(err, errlen, "VFIO container setup for group %d: %s",
			 group, strerror(-ret));
		return ret;
	}
	return 0;
}

static int vfio_open(const struct sriov_env *env, const char *bdf,
		     const char *token, struct vfio_fds *f, char *err,
		     size_t errlen)
{
	char name[SRIOV_BDF_SIZE + 16 + SRIOV_TOKEN_SIZE];
	struct vfio_host_dev d;
	int ret;

	f->container = f->group = f->device = -1;
	ret = vfio_host_dev_read(&env->host, bdf, &d, err, errlen);
	if (ret)
		return ret;
	if (strcmp(d.driver, "vfio-pci")) {
		log_errf(err, errlen, "%s is bound to %s, not vfio-pci", bdf,
			 d.driver[0] ? d.driver : "no driver");
		return -EINVAL;
	}
	ret = vfio_group_setup(env, d.group, f, err, errlen);
	if (ret)
		goto fail;
	snprintf(name, sizeof(name), "%s%s%s", bdf,
		 token ? " vf_token=" : "", token ? token : "");
	f->device = ioctl(f->group, VFIO_GROUP_GET_DEVICE_FD, name);
	if (f->device < 0) {
		ret = -errno;
		log_errf(err, errlen, "VFIO_GROUP_GET_DEVICE_FD %s%s: %s%s",
			 bdf, token ? " with its VF token" : "",
			 strerror(-ret), ret == -EACCES ?
			 " (missing or wrong VF token: see dmesg)" : "");
		goto fail;
	}
	return 0;
fail:
	vfio_close(f);
	return ret;
}

int sriov_vfio_open_check(const struct sriov_env *env, const char *arg,
			  const char *token, char *err, size_t errlen)
{
	char bdf[SRIOV_BDF_SIZE];
	struct vfio_fds f;
	int ret;

	ret = vfio_host_parse_bdf(arg, bdf, err, errlen);
	if (!ret)
		ret = vfio_open(env, bdf, token, &f, err, errlen);
	if (!ret)
		vfio_close(&f);
	return ret;
}

int sriov_token_apply(const struct sriov_env *env, const char *pf, char *err,
		      size_t errlen)
{
	struct {
		struct vfio_device_feature hdr;
		uint8_t uuid[16];
	} feat = { .hdr = {
		.argsz = sizeof(feat),
		.flags = VFIO_DEVICE_FEATURE_SET |
			 VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
	} };
	char bdf[SRIOV_BDF_SIZE], token[SRIOV_TOKEN_SIZE];
	struct vfio_fds f;
	int ret;

	ret = token_pf(env, pf, bdf, err, errlen);
	if (!ret)
		ret = sriov_token_get(env, bdf, true, token, err, errlen);
	if (!ret)
		ret = vfio_open(env, bdf, NULL, &f, err, errlen);
	if (ret)
		return ret;
	uuid_parse(token, feat.uuid);
	if (ioctl(f.device, VFIO_DEVICE_FEATURE, &feat) < 0) {
		ret = -errno;
		log_errf(err, errlen, "setting the VF token of %s: %s%s", bdf,
			 strerror(-ret), ret == -ENOTTY || ret == -EINVAL ?
			 " (kernel without VF tokens, or not an SR-IOV PF)" :
			 "");
	}
	vfio_close(&f);
	return ret;
}

int sriov_vf_token_env(const struct sriov_env *env, const char *arg,
		       char token[SRIOV_TOKEN_SIZE], char *err, size_t errlen)
{
	char bdf[SRIOV_BDF_SIZE];
	struct vfio_host_dev vf, pf;
	int ret;

	token[0] = '\0';
	ret = vfio_host_parse_bdf(arg, bdf, err, errlen);
	if (!ret)
		ret = vfio_host_dev_read(&env->host, bdf, &vf, err, errlen);
	if (ret)
		return ret;
	if (vf.role != VFIO_HOST_SRIOV_VF ||
	    vfio_host_dev_read(&env->host, vf.physfn, &pf, NULL, 0) ||
	    strcmp(pf.driver, "vfio-pci"))
		return 0; /* no token needed */
	ret = sriov_token_get(env, pf.bdf, false, token, NULL, 0);
	if (ret == -ENOENT) {
		log_errf(err, errlen, "%s is a VF of %s, which is bound to "
			 "vfio-pci: opening it needs the VF token its PF "
			 "driver set (iovmm sriov token %s --set UUID)", bdf,
			 pf.bdf, pf.bdf);
		return -ENOKEY;
	}
	if (ret)
		log_errf(err, errlen, "reading the VF token of %s: %s",
			 pf.bdf, strerror(-ret));
	return ret;
}

int sriov_vf_token(const char *bdf, char token[SRIOV_TOKEN_SIZE], char *err,
		   size_t errlen)
{
	struct sriov_env env;

	sriov_env_default(&env);
	return sriov_vf_token_env(&env, bdf, token, err, errlen);
}
