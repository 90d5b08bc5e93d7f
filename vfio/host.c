// SPDX-License-Identifier: MIT
/*
 * Host PCI devices for VFIO, seen through sysfs (Documentation/ABI/testing/
 * sysfs-bus-pci): discovery, group viability, and driver hand-over through
 * driver_override. See vfio/host.h for the rules and the error contract.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sysfs.h"
#include "core/util.h"
#include "vfio/host.h"

#define HOST_DRV_VFIO "vfio-pci"

/* ---- the real host ---- */

static int real_write(const struct vfio_host_env *env, const char *path,
		      const char *val)
{
	return sysfs_write_attr(path, val);
}

/*
 * Linux allows one open of a group node at a time (6.1 vfio_group_fops_open:
 * -EBUSY when group->opened_file is set), so a failed open with EBUSY is the
 * kernel saying "a VM holds it". Opening and closing an unattached group
 * has no side effect.
 */
static int real_group_busy(const struct vfio_host_env *env, int group)
{
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%d", env->dev_vfio,
			     group) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EBUSY)
		return 1;
	if (errno == ENOENT || errno == ENODEV)
		return 0;
	return -errno;
}

const struct vfio_host_ops vfio_host_sysfs_ops = {
	.write = real_write,
	.group_busy = real_group_busy,
};

/* Not thread-safe: the state path lives in a static buffer. */
void vfio_host_env_default(struct vfio_host_env *env)
{
	static char state[PATH_MAX];
	const char *s;

	memset(env, 0, sizeof(*env));
	s = getenv("IOVMM_SYSFS_ROOT");
	env->sysfs = s && *s ? s : "/sys";
	s = getenv("IOVMM_RUN_DIR");
	snprintf(state, sizeof(state), "%s/vfio", s && *s ? s : "/run/iovmm");
	env->state_dir = state;
	s = getenv("IOVMM_DEV_VFIO");
	env->dev_vfio = s && *s ? s : "/dev/vfio";
	env->ops = &vfio_host_sysfs_ops;
}

/* ---- BDF syntax ---- */

static bool hex_field(const char *s, size_t n, unsigned long max,
		      unsigned long *out)
{
	unsigned long v = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return false;
		v = v * 16 + (unsigned long)(isdigit((unsigned char)s[i]) ?
			s[i] - '0' : tolower((unsigned char)s[i]) - 'a' + 10);
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* [dddd:]bb:dd.f exactly: each field its full width, nothing after. */
static bool parse_bdf_word(const char *s, bool need_domain,
			   unsigned long v[4])
{
	size_t len = strlen(s);

	v[0] = 0;
	if (len == 12) {
		if (s[4] != ':' || !hex_field(s, 4, 0xffff, &v[0]))
			return false;
		s += 5;
		len -= 5;
	} else if (need_domain || len != 7) {
		return false;
	}
	return s[2] == ':' && s[5] == '.' && hex_field(s, 2, 0xff, &v[1]) &&
	       hex_field(s + 3, 2, 0x1f, &v[2]) &&
	       hex_field(s + 6, 1, 7, &v[3]);
}

int vfio_host_parse_bdf(const char *s, char out[VFIO_HOST_BDF_SIZE],
			char *err, size_t errlen)
{
	char word[PATH_MAX];
	unsigned long v[4];
	const char *slash;
	bool path;
	size_t len;

	if (!s || !*s) {
		log_errf(err, errlen, "missing PCI address (e.g. 0000:01:00.1)");
		return -EINVAL;
	}
	/* A sysfs path: its last component must be a full BDF. */
	path = strchr(s, '/') != NULL;
	len = strlen(s);
	if (len >= sizeof(word))
		goto bad;
	memcpy(word, s, len + 1);
	while (path && len > 1 && word[len - 1] == '/')
		word[--len] = '\0';
	slash = strrchr(word, '/');
	if (!parse_bdf_word(slash ? slash + 1 : word, path, v))
		goto bad;
	snprintf(out, VFIO_HOST_BDF_SIZE, "%04lx:%02lx:%02lx.%lx", v[0], v[1],
		 v[2], v[3]);
	return 0;
bad:
	log_errf(err, errlen,
		 "'%s' is not a PCI address: use DDDD:BB:DD.F or BB:DD.F "
		 "(e.g. 0000:01:00.1) or a /sys/bus/pci/devices path", s);
	return -EINVAL;
}

/* ---- devices and groups ---- */

bool vfio_host_driver_dma_safe(const char *driver)
{
	static const char *const safe[] = { HOST_DRV_VFIO, "pci-stub",
					    "pcieport" };
	size_t n = strlen(driver);

	if (!*driver)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(safe); i++)
		if (!strcmp(driver, safe[i]))
			return true;
	/* Vendor variant drivers: mlx5_vfio_pci, hisi_acc_vfio_pci, ... */
	return n > 9 && !strcmp(driver + n - 9, "_vfio_pci");
}

/*
 * Header type from the config space's first 64 bytes (world-readable in
 * sysfs), else guessed from the class: bridges are class 06 subclass 04
 * (PCI-to-PCI), 07 (CardBus) or 09 (semi-transparent).
 */
static bool dev_is_bridge(const char *dir, uint32_t class_code)
{
	unsigned char cfg[64];
	char path[PATH_MAX];
	ssize_t n = -1;
	int fd;

	if (!sysfs_pathf(path, sizeof(path), "%s/config", dir)) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, cfg, sizeof(cfg));
			close(fd);
		}
	}
	if (n > 0x0e)
		return (cfg[0x0e] & 0x7f) != 0;
	return (class_code >> 16) == 0x06 &&
	       (((class_code >> 8) & 0xff) == 0x04 ||
		((class_code >> 8) & 0xff) == 0x07 ||
		((class_code >> 8) & 0xff) == 0x09);
}

static void dev_read_sriov(const char *dir, struct vfio_host_dev *d)
{
	char path[PATH_MAX];
	unsigned long v;

	if (!sysfs_pathf(path, sizeof(path), "%s/sriov_totalvfs", dir) &&
	    !sysfs_read_ulong(path, 10, &v)) {
		d->role = VFIO_HOST_SRIOV_PF;
		d->totalvfs = (unsigned int)v;
		if (!sysfs_pathf(path, sizeof(path), "%s/sriov_numvfs", dir) &&
		    !sysfs_read_ulong(path, 10, &v))
			d->numvfs = (unsigned int)v;
		return;
	}
	if (!sysfs_pathf(path, sizeof(path), "%s/physfn", dir) &&
	    !sysfs_read_link_base(path, d->physfn, sizeof(d->physfn)))
		d->role = VFIO_HOST_SRIOV_VF;
}

int vfio_host_dev_read(const struct vfio_host_env *env, const char *bdf,
		       struct vfio_host_dev *out, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX], buf[32];
	unsigned long v;
	struct stat st;

	memset(out, 0, sizeof(*out));
	out->group = -1;
	if (strlen(bdf) >= sizeof(out->bdf) ||
	    sysfs_pathf(dir, sizeof(dir), "%s/bus/pci/devices/%s", env->sysfs,
			bdf))
		return -ENAMETOOLONG;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		log_errf(err, errlen, "no PCI device %s on this host "
			 "(see iovmm vfio list or lspci -D)", bdf);
		return -ENODEV;
	}
	strcpy(out->bdf, bdf);
	if (!sysfs_pathf(path, sizeof(path), "%s/vendor", dir) &&
	    !sysfs_read_ulong(path, 16, &v))
		out->vendor = (uint16_t)v;
	if (!sysfs_pathf(path, sizeof(path), "%s/device", dir) &&
	    !sysfs_read_ulong(path, 16, &v))
		out->device = (uint16_t)v;
	if (!sysfs_pathf(path, sizeof(path), "%s/class", dir) &&
	    !sysfs_read_ulong(path, 16, &v))
		out->class_code = (uint32_t)v & 0xffffff;
	out->bridge = dev_is_bridge(dir, out->class_code);
	if (!sysfs_pathf(path, sizeof(path), "%s/driver", dir))
		sysfs_read_link_base(path, out->driver, sizeof(out->driver));
	/* Unset reads back as "(null)" (drivers/pci/pci-sysfs.c). */
	if (!sysfs_pathf(path, sizeof(path), "%s/driver_override", dir) &&
	    !sysfs_read_attr(path, out->override, sizeof(out->override)) &&
	    !strcmp(out->override, "(null)"))
		out->override[0] = '\0';
	if (!sysfs_pathf(path, sizeof(path), "%s/iommu_group", dir) &&
	    !sysfs_read_link_base(path, buf, sizeof(buf))) {
		char *end;

		errno = 0;
		v = strtoul(buf, &end, 10);
		if (!errno && end != buf && !*end && v <= INT_MAX)
			out->group = (int)v;
	}
	dev_read_sriov(dir, out);
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct vfio_host_dev *)a)->bdf,
		      ((const struct vfio_host_dev *)b)->bdf);
}

static int cmp_group(const void *a, const void *b)
{
	int x = ((const struct vfio_host_group *)a)->id;
	int y = ((const struct vfio_host_group *)b)->id;

	return (x > y) - (x < y);
}

static void group_eval(struct vfio_host_group *g)
{
	g->viable = true;
	g->blocker = -1;
	for (size_t i = 0; i < g->ndevs; i++) {
		if (!vfio_host_driver_dma_safe(g->devs[i].driver)) {
			g->viable = false;
			g->blocker = (int)i;
			return;
		}
	}
}

int vfio_host_group_read(const struct vfio_host_env *env, int id,
		      struct vfio_host_group *g, char *err, size_t errlen)
{
	char path[PATH_MAX], bdf[VFIO_HOST_BDF_SIZE];
	struct dirent *de;
	size_t cap = 0;
	DIR *dir;
	int ret = 0;

	memset(g, 0, sizeof(*g));
	g->id = id;
	if (sysfs_pathf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices",
			env->sysfs, id))
		return -ENAMETOOLONG;
	dir = opendir(path);
	if (!dir) {
		ret = -errno;
		log_errf(err, errlen, "no IOMMU group %d (%s)", id,
			 strerror(-ret));
		return ret;
	}
	while ((de = readdir(dir))) {
		struct vfio_host_dev *d;

		if (de->d_name[0] == '.' ||
		    vfio_host_parse_bdf(de->d_name, bdf, NULL, 0) ||
		    strcmp(bdf, de->d_name))
			continue;
		if (g->ndevs == cap) {
			size_t ncap = cap ? cap * 2 : 4;

			d = realloc(g->devs, ncap * sizeof(*d));
			if (!d) {
				ret = -ENOMEM;
				break;
			}
			g->devs = d;
			cap = ncap;
		}
		if (vfio_host_dev_read(env, bdf, &g->devs[g->ndevs], NULL, 0))
			continue;
		g->ndevs++;
	}
	closedir(dir);
	if (ret) {
		free(g->devs);
		g->devs = NULL;
		g->ndevs = 0;
		log_errf(err, errlen, "out of memory");
		return ret;
	}
	qsort(g->devs, g->ndevs, sizeof(*g->devs), cmp_dev);
	group_eval(g);
	return 0;
}

void vfio_host_group_free(struct vfio_host_group *g)
{
	if (!g)
		return;
	free(g->devs);
	g->devs = NULL;
	g->ndevs = 0;
}

void vfio_host_list_free(struct vfio_host_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->ngroups; i++)
		vfio_host_group_free(&list->groups[i]);
	free(list->groups);
	list->groups = NULL;
	list->ngroups = 0;
}

static bool parse_group_name(const char *s, int *id)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > INT_MAX)
		return false;
	*id = (int)v;
	return true;
}

int vfio_host_list_groups(const struct vfio_host_env *env,
			  struct vfio_host_list *out, char *err,
			  size_t errlen)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t cap = 0;
	DIR *dir;
	int ret = 0, id;

	memset(out, 0, sizeof(*out));
	if (sysfs_pathf(path, sizeof(path), "%s/kernel/iommu_groups",
			env->sysfs))
		return -ENAMETOOLONG;
	dir = opendir(path);
	if (!dir && errno != ENOENT) {
		ret = -errno;
		log_errf(err, errlen, "cannot read %s: %s", path,
			 strerror(-ret));
		return ret;
	}
	while (dir && (de = readdir(dir))) {
		if (!parse_group_name(de->d_name, &id))
			continue;
		if (out->ngroups == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct vfio_host_group *g;

			g = realloc(out->groups, ncap * sizeof(*g));
			if (!g) {
				ret = -ENOMEM;
				log_errf(err, errlen, "out of memory");
				break;
			}
			out->groups = g;
			cap = ncap;
		}
		ret = vfio_host_group_read(env, id, &out->groups[out->ngroups], err,
				 errlen);
		if (ret)
			break;
		out->ngroups++;
	}
	if (dir)
		closedir(dir);
	if (ret) {
		vfio_host_list_free(out);
		return ret;
	}
	if (!out->ngroups) {
		vfio_host_list_free(out);
		log_errf(err, errlen, "no IOMMU groups: the IOMMU is off "
			 "(intel_iommu=on?) or absent");
		return -ENOENT;
	}
	qsort(out->groups, out->ngroups, sizeof(*out->groups), cmp_group);
	return 0;
}

static void blocker_msg(const struct vfio_host_group *g, char *err,
			size_t errlen)
{
	const struct vfio_host_dev *d = &g->devs[g->blocker];

	log_errf(err, errlen, "group %d is not viable: %s is bound to %s "
		 "(every device of a group must be on vfio-pci or have no "
		 "driver: iovmm vfio bind --group %s)", g->id, d->bdf,
		 d->driver, d->bdf);
}

int vfio_host_group_check(const struct vfio_host_env *env, int group,
			  char *err, size_t errlen)
{
	struct vfio_host_group g;
	int ret;

	ret = vfio_host_group_read(env, group, &g, err, errlen);
	if (ret)
		return ret;
	if (!g.viable) {
		blocker_msg(&g, err, errlen);
		ret = -EPERM;
	}
	free(g.devs);
	return ret;
}

/* ---- writes, state files ---- */

/* Every sysfs write goes through here: one place turns errno into advice. */
static int host_write(const struct vfio_host_env *env, const char *path,
		      const char *val, char *err, size_t errlen)
{
	int ret = env->ops->write(env, path, val);

	if (ret == -EACCES || ret == -EPERM)
		log_errf(err, errlen, "writing %s: %s: iovmm vfio bind/unbind "
			 "needs root", path, strerror(-ret));
	else if (ret)
		log_errf(err, errlen, "writing '%.*s' to %s: %s",
			 (int)strcspn(val, "\n"), val, path, strerror(-ret));
	return ret;
}

static int dev_write(const struct vfio_host_env *env, const char *bdf,
		     const char *attr, const char *val, char *err,
		     size_t errlen)
{
	char path[PATH_MAX];

	if (sysfs_pathf(path, sizeof(path), "%s/bus/pci/devices/%s/%s",
			env->sysfs, bdf, attr))
		return -ENAMETOOLONG;
	return host_write(env, path, val, err, errlen);
}

static int drv_write(const struct vfio_host_env *env, const char *drv,
		     const char *attr, const char *bdf, char *err,
		     size_t errlen)
{
	char path[PATH_MAX];

	if (sysfs_pathf(path, sizeof(path), "%s/bus/pci/drivers/%s/%s",
			env->sysfs, drv, attr))
		return -ENAMETOOLONG;
	return host_write(env, path, bdf, err, errlen);
}

static int probe_write(const struct vfio_host_env *env, const char *bdf,
		       char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (sysfs_pathf(path, sizeof(path), "%s/bus/pci/drivers_probe",
			env->sysfs))
		return -ENAMETOOLONG;
	return host_write(env, path, bdf, err, errlen);
}

/* Writing a lone newline clears driver_override (driver_set_override()). */
static int set_override(const struct vfio_host_env *env, const char *bdf,
			const char *drv, char *err, size_t errlen)
{
	return dev_write(env, bdf, "driver_override", *drv ? drv : "\n", err,
			 errlen);
}

struct host_state {
	char driver[VFIO_HOST_NAME_SIZE];
	char override[VFIO_HOST_NAME_SIZE];
};

static int state_save(const struct vfio_host_env *env,
		      const struct vfio_host_dev *d, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f;
	int ret;

	ret = sysfs_mkdir_p(env->state_dir, 0755);
	if (!ret && (sysfs_pathf(path, sizeof(path), "%s/%s", env->state_dir,
				 d->bdf) ||
		     sysfs_pathf(tmp, sizeof(tmp), "%s.tmp", path)))
		ret = -ENAMETOOLONG;
	if (ret)
		goto fail;
	/* Written then renamed: a crash never leaves half a record. */
	f = fopen(tmp, "we");
	if (!f) {
		ret = -errno;
		goto fail;
	}
	fprintf(f, "driver=%s\noverride=%s\n", d->driver, d->override);
	if (fclose(f)) {
		ret = -errno;
		unlink(tmp);
		goto fail;
	}
	if (rename(tmp, path)) {
		ret = -errno;
		unlink(tmp);
		goto fail;
	}
	return 0;
fail:
	log_errf(err, errlen, "cannot record %s's driver under %s: %s%s",
		 d->bdf, env->state_dir, strerror(-ret),
		 ret == -EACCES ? " (needs root)" : "");
	return ret;
}

/* A name that does not fit is dropped, never truncated into another. */
static void copy_name(char dst[VFIO_HOST_NAME_SIZE], const char *src)
{
	size_t n = strlen(src);

	if (n >= VFIO_HOST_NAME_SIZE)
		n = 0;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* 1 when a record exists (and was read), 0 when there is none. */
static int state_load(const struct vfio_host_env *env, const char *bdf,
		      struct host_state *st)
{
	char path[PATH_MAX], line[128];
	FILE *f;

	memset(st, 0, sizeof(*st));
	if (sysfs_pathf(path, sizeof(path), "%s/%s", env->state_dir, bdf))
		return 0;
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "driver=", 7))
			copy_name(st->driver, line + 7);
		else if (!strncmp(line, "override=", 9))
			copy_name(st->override, line + 9);
	}
	fclose(f);
	/* A driver name is a plain word: never let a record build paths. */
	if (strchr(st->driver, '/') || !strcmp(st->driver, "..") ||
	    !strcmp(st->driver, "."))
		st->driver[0] = '\0';
	return 1;
}

static void state_drop(const struct vfio_host_env *env, const char *bdf)
{
	char path[PATH_MAX];

	if (!sysfs_pathf(path, sizeof(path), "%s/%s", env->state_dir, bdf))
		unlink(path);
}

/* ---- bind / unbind ---- */

static int group_busy_check(const struct vfio_host_env *env, int group,
			    char *err, size_t errlen)
{
	int ret;

	if (group < 0)
		return 0;
	ret = env->ops->group_busy(env, group);
	if (ret == 1) {
		log_errf(err, errlen, "group %d is in use: %s/%d is open "
			 "(a VM is using it; stop it first)", group,
			 env->dev_vfio, group);
		return -EBUSY;
	}
	if (ret < 0) {
		log_errf(err, errlen, "cannot tell whether group %d is in use "
			 "(%s/%d: %s)%s", group, env->dev_vfio, group,
			 strerror(-ret),
			 ret == -EACCES ? ": needs root" : "");
		return ret;
	}
	return 0;
}

/*
 * The devices to act on, as a group: BDF alone, or with VFIO_HOST_GROUP
 * every device of its group. On success t->devs is the caller's to free.
 */
static int targets_get(const struct vfio_host_env *env, const char *arg,
		       unsigned int flags, struct vfio_host_group *t,
		       char *err, size_t errlen)
{
	char bdf[VFIO_HOST_BDF_SIZE];
	struct vfio_host_dev d;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = vfio_host_parse_bdf(arg, bdf, err, errlen);
	if (!ret)
		ret = vfio_host_dev_read(env, bdf, &d, err, errlen);
	if (ret)
		return ret;
	if (d.group < 0) {
		log_errf(err, errlen, "%s has no IOMMU group: the IOMMU is off "
			 "(intel_iommu=on?) or absent, and vfio-pci needs it",
			 bdf);
		return -ENODEV;
	}
	if (flags & VFIO_HOST_GROUP)
		return vfio_host_group_read(env, d.group, t, err, errlen);
	t->id = d.group;
	t->devs = malloc(sizeof(d));
	if (!t->devs)
		return -ENOMEM;
	t->devs[0] = d;
	t->ndevs = 1;
	return 0;
}

static int bind_precheck(const struct vfio_host_env *env,
			 const struct vfio_host_dev *d, bool group,
			 char *err, size_t errlen)
{
	if (d->bridge) {
		if (group)
			return 0; /* left to pcieport, which keeps it viable */
		log_errf(err, errlen, "%s is a PCI bridge: vfio-pci only takes "
			 "endpoints (assign the devices behind it)", d->bdf);
		return -EINVAL;
	}
	if (d->role == VFIO_HOST_SRIOV_PF && d->numvfs > 0) {
		log_errf(err, errlen, "%s is an SR-IOV PF with %u VF%s enabled "
			 "and vfio-pci refuses it: disable its VFs first "
			 "(iovmm sriov destroy %s)", d->bdf, d->numvfs,
			 d->numvfs == 1 ? "" : "s", d->bdf);
		return -EBUSY;
	}
	return 0;
}

static int bind_one(const struct vfio_host_env *env,
		    const struct vfio_host_dev *d, char *err, size_t errlen)
{
	struct vfio_host_dev now;
	int ret;

	if (d->bridge || !strcmp(d->driver, HOST_DRV_VFIO))
		return 0;
	ret = state_save(env, d, err, errlen);
	if (ret)
		return ret;
	ret = set_override(env, d->bdf, HOST_DRV_VFIO, err, errlen);
	if (!ret && d->driver[0])
		ret = drv_write(env, d->driver, "unbind", d->bdf, err, errlen);
	if (!ret)
		ret = probe_write(env, d->bdf, err, errlen);
	if (ret)
		goto rollback;
	ret = vfio_host_dev_read(env, d->bdf, &now, err, errlen);
	if (ret)
		goto rollback;
	if (strcmp(now.driver, HOST_DRV_VFIO)) {
		log_errf(err, errlen, "vfio-pci did not take %s (driver now: "
			 "%s; see dmesg)", d->bdf,
			 now.driver[0] ? now.driver : "none");
		ret = -EIO;
		goto rollback;
	}
	return 0;
rollback:
	/* Best effort: put the original override and driver back. */
	set_override(env, d->bdf, d->driver[0] ? d->driver : d->override,
		     NULL, 0);
	if (d->driver[0]) {
		if (vfio_host_dev_read(env, d->bdf, &now, NULL, 0) == 0 &&
		    !now.driver[0])
			probe_write(env, d->bdf, NULL, 0);
		set_override(env, d->bdf, d->override, NULL, 0);
	}
	state_drop(env, d->bdf);
	return ret;
}

static int vfio_driver_check(const struct vfio_host_env *env, char *err,
			     size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;

	if (sysfs_pathf(path, sizeof(path), "%s/bus/pci/drivers/%s", env->sysfs,
			HOST_DRV_VFIO))
		return -ENAMETOOLONG;
	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		log_errf(err, errlen, "the vfio-pci driver is not loaded "
			 "(modprobe vfio-pci)");
		return -ENOENT;
	}
	return 0;
}

int vfio_host_bind(const struct vfio_host_env *env, const char *bdf,
		   unsigned int flags, char *err, size_t errlen)
{
	bool group = flags & VFIO_HOST_GROUP;
	struct vfio_host_group t;
	size_t i, todo = 0;
	int ret;

	ret = targets_get(env, bdf, flags, &t, err, errlen);
	if (ret)
		return ret;
	for (i = 0; i < t.ndevs; i++)
		todo += !t.devs[i].bridge &&
			strcmp(t.devs[i].driver, HOST_DRV_VFIO);
	/* Already there (or only bridges): nothing to check or write. */
	if (!todo && (group || !t.devs[0].bridge)) {
		vfio_host_group_free(&t);
		return 0;
	}
	ret = vfio_driver_check(env, err, errlen);
	for (i = 0; !ret && i < t.ndevs; i++)
		ret = bind_precheck(env, &t.devs[i], group, err, errlen);
	if (!ret)
		ret = group_busy_check(env, t.id, err, errlen);
	for (i = 0; !ret && i < t.ndevs; i++)
		ret = bind_one(env, &t.devs[i], err, errlen);
	vfio_host_group_free(&t);
	return ret;
}

static int unbind_one(const struct vfio_host_env *env,
		      const struct vfio_host_dev *d, char *err, size_t errlen)
{
	struct host_state st;
	struct vfio_host_dev now;
	bool known = state_load(env, d->bdf, &st) == 1;
	bool restore = known && st.driver[0];
	int ret;

	/* A temporary override steers the reprobe to the original driver
	 * even for a VF whose PF has sriov_drivers_autoprobe=0, which the
	 * PCI core otherwise refuses to probe (pci_device_can_probe()). */
	ret = set_override(env, d->bdf, restore ? st.driver : "", err,
			   errlen);
	if (!ret)
		ret = drv_write(env, HOST_DRV_VFIO, "unbind", d->bdf, err,
				errlen);
	if (ret)
		return ret;
	/* A device that had no driver before the bind gets none back. */
	if (!known || restore)
		ret = probe_write(env, d->bdf, err, errlen);
	if (!ret)
		ret = set_override(env, d->bdf, known ? st.override : "", err,
				   errlen);
	if (ret)
		return ret;
	state_drop(env, d->bdf);
	if (!restore)
		return 0;
	ret = vfio_host_dev_read(env, d->bdf, &now, err, errlen);
	if (!ret && strcmp(now.driver, st.driver)) {
		log_errf(err, errlen, "%s left vfio-pci but %s did not take it "
			 "back (driver now: %s; see dmesg)", d->bdf, st.driver,
			 now.driver[0] ? now.driver : "none");
		ret = -EIO;
	}
	return ret;
}

int vfio_host_unbind(const struct vfio_host_env *env, const char *bdf,
		     unsigned int flags, char *err, size_t errlen)
{
	struct vfio_host_group t;
	size_t i, n = 0;
	int ret;

	ret = targets_get(env, bdf, flags, &t, err, errlen);
	if (ret)
		return ret;
	for (i = 0; i < t.ndevs; i++)
		n += !strcmp(t.devs[i].driver, HOST_DRV_VFIO);
	if (!n) {
		const struct vfio_host_dev *d = &t.devs[0];

		if (flags & VFIO_HOST_GROUP)
			log_errf(err, errlen, "no device of group %d is bound "
				 "to vfio-pci", t.id);
		else
			log_errf(err, errlen, "%s is not bound to vfio-pci "
				 "(driver: %s)", d->bdf,
				 d->driver[0] ? d->driver : "none");
		ret = -EINVAL;
	}
	if (!ret)
		ret = group_busy_check(env, t.id, err, errlen);
	for (i = 0; !ret && i < t.ndevs; i++)
		if (!strcmp(t.devs[i].driver, HOST_DRV_VFIO))
			ret = unbind_one(env, &t.devs[i], err, errlen);
	vfio_host_group_free(&t);
	return ret;
}
