// SPDX-License-Identifier: MIT
/*
 * PF and VF discovery: sysfs (Documentation/ABI/testing/sysfs-bus-pci:
 * sriov_totalvfs, sriov_numvfs, sriov_drivers_autoprobe, virtfnN, physfn)
 * read through vfio/host.c where it already knows how (BDF syntax, driver,
 * group, SR-IOV role), the SR-IOV Extended Capability read with libpci,
 * and the two checked against each other.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sysfs.h"
#include "core/util.h"
#include "sriov/sriov_internal.h"

/* ---- small helpers ---- */

int sriov_dev_write(const struct sriov_env *env, const char *bdf,
		    const char *attr, const char *val, char *err,
		    size_t errlen)
{
	char path[PATH_MAX];
	int ret;

	if (sysfs_pathf(path, sizeof(path), "%s/bus/pci/devices/%s/%s",
			env->host.sysfs, bdf, attr))
		return -ENAMETOOLONG;
	ret = env->host.ops->write(&env->host, path, val);
	if (ret == -EACCES || ret == -EPERM)
		log_errf(err, errlen, "writing %s: %s: SR-IOV changes need "
			 "root", path, strerror(-ret));
	else if (ret)
		log_errf(err, errlen, "writing '%.*s' to %s: %s",
			 (int)strcspn(val, "\n"), val, path, strerror(-ret));
	return ret;
}

/* ---- environment ---- */

void sriov_env_default(struct sriov_env *env)
{
	static char run[PATH_MAX];
	const char *s;

	memset(env, 0, sizeof(*env));
	vfio_host_env_default(&env->host);
	s = getenv("IOVMM_RUN_DIR");
	snprintf(run, sizeof(run), "%s/sriov", s && *s ? s : "/run/iovmm");
	env->run_dir = run;
	env->nl = &sriov_nl_kernel_ops;
}

/* ---- the SR-IOV capability, through libpci ---- */

/*
 * libpci's error hook must not return and by default calls exit(): the
 * hook jumps back to the read in progress on this thread instead.
 */
static __thread jmp_buf *cap_jmp;

__attribute__((noreturn)) static void cap_error(char *msg, ...)
{
	longjmp(*cap_jmp, 1);
}

static void cap_quiet(char *msg, ...)
{
}

/*
 * Linux lets only CAP_SYS_ADMIN read config space past the first 64
 * bytes (drivers/pci/pci-sysfs.c, pci_read_config), so probe the first
 * extended-capability dword directly: libpci would only see 0xff there.
 */
static int cap_config_access(const char *sysfs, const char *bdf)
{
	char path[PATH_MAX];
	uint32_t hdr;
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	if (sysfs_pathf(path, sizeof(path), "%s/bus/pci/devices/%s/config",
			sysfs, bdf))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && st.st_size <= 0x100) {
		ret = -ENOENT; /* conventional PCI: no extended space */
	} else {
		n = pread(fd, &hdr, sizeof(hdr), 0x100);
		if (n != (ssize_t)sizeof(hdr))
			ret = -EACCES;
	}
	close(fd);
	return ret;
}

static void cap_fill(struct pci_dev *d, int pos, struct sriov_cap *cap)
{
	cap->present = true;
	cap->offset = (uint16_t)pos;
	cap->caps = pci_read_long(d, pos + PCI_IOV_CAP);
	cap->ctrl = pci_read_word(d, pos + PCI_IOV_CTRL);
	cap->initial_vfs = pci_read_word(d, pos + PCI_IOV_INITIALVF);
	cap->total_vfs = pci_read_word(d, pos + PCI_IOV_TOTALVF);
	cap->num_vfs = pci_read_word(d, pos + PCI_IOV_NUMVF);
	cap->vf_offset = pci_read_word(d, pos + PCI_IOV_OFFSET);
	cap->vf_stride = pci_read_word(d, pos + PCI_IOV_STRIDE);
	cap->vf_device = pci_read_word(d, pos + PCI_IOV_DID);
	cap->supported_page_sizes = pci_read_long(d, pos + PCI_IOV_SUPPS);
	cap->system_page_size = pci_read_long(d, pos + PCI_IOV_SYSPS);
}

int sriov_cap_read(const struct sriov_env *env, const char *bdf,
		   struct sriov_cap *cap)
{
	char sysfs_pci[PATH_MAX];
	unsigned int dom, bus, dev, fn;
	struct pci_access *volatile a = NULL;
	struct pci_dev *volatile d = NULL;
	jmp_buf jb, *saved = cap_jmp;
	volatile int ret;

	memset(cap, 0, sizeof(*cap));
	/* bdf is canonical (vfio_host_parse_bdf), so this cannot fail. */
	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return -EINVAL;
	ret = cap_config_access(env->host.sysfs, bdf);
	if (ret)
		return ret;
	if (sysfs_pathf(sysfs_pci, sizeof(sysfs_pci), "%s/bus/pci",
			env->host.sysfs))
		return -ENAMETOOLONG;
	a = pci_alloc();
	if (!a)
		return -ENOMEM;
	a->error = cap_error;
	a->warning = cap_quiet;
	a->debug = cap_quiet;
	a->method = PCI_ACCESS_SYS_BUS_PCI;
	cap_jmp = &jb;
	if (setjmp(jb) == 0) {
		struct pci_cap *c;

		pci_set_param(a, "sysfs.path", sysfs_pci);
		pci_init(a);
		d = pci_get_dev(a, (int)dom, (int)bus, (int)dev, (int)fn);
		pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CAPS |
				 PCI_FILL_EXT_CAPS);
		c = pci_find_cap(d, PCI_EXT_CAP_ID_SRIOV, PCI_CAP_EXTENDED);
		if (c)
			cap_fill(d, c->addr, cap);
		ret = c ? 0 : -ENOENT;
	} else {
		ret = -EIO; /* libpci gave up (its message is dropped) */
	}
	cap_jmp = saved;
	if (d)
		pci_free_dev(d);
	pci_cleanup(a);
	return ret;
}

int sriov_vf_bdf(const char *pf_bdf, const struct sriov_cap *cap,
		 unsigned int n, char out[SRIOV_BDF_SIZE])
{
	unsigned int dom, bus, dev, fn;
	unsigned long rid;

	if (sscanf(pf_bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return -EINVAL;
	/* Routing ID = bus << 8 | devfn (§2.2.6.2); VFs may sit on higher
	 * bus numbers than the PF (§9.2.1.2). */
	rid = (bus << 8 | dev << 3 | fn) + cap->vf_offset +
	      (unsigned long)n * cap->vf_stride;
	if (rid > 0xffff)
		return -ERANGE;
	snprintf(out, SRIOV_BDF_SIZE, "%04x:%02lx:%02lx.%lx", dom, rid >> 8,
		 (rid >> 3) & 0x1f, rid & 7);
	return 0;
}

/* ---- PFs and VFs in sysfs ---- */

int sriov_virtfn_bdf(const struct sriov_env *env, const char *pf_bdf,
		     unsigned int n, char out[SRIOV_BDF_SIZE])
{
	char path[PATH_MAX];
	int ret;

	if (sysfs_pathf(path, sizeof(path), "%s/bus/pci/devices/%s/virtfn%u",
			env->host.sysfs, pf_bdf, n))
		return -ENAMETOOLONG;
	ret = sysfs_read_link_base(path, out, SRIOV_BDF_SIZE);
	return ret == -ENAMETOOLONG ? -EINVAL : ret;
}

/* Sorted, so a PF with two ports (mlx4) always names the same one. */
void sriov_dev_netdev(const struct sriov_env *env, const char *bdf,
		      char out[SRIOV_IFNAME_SIZE], int *ifindex,
		      char mac[SRIOV_MAC_STR_SIZE])
{
	char path[PATH_MAX], name[SRIOV_IFNAME_SIZE] = "";
	struct dirent **ents = NULL;
	unsigned long v;
	int n;

	if (out)
		out[0] = '\0';
	if (ifindex)
		*ifindex = 0;
	if (mac)
		mac[0] = '\0';
	if (sysfs_pathf(path, sizeof(path), "%s/bus/pci/devices/%s/net",
			env->host.sysfs, bdf))
		return;
	n = scandir(path, &ents, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (!name[0] && ents[i]->d_name[0] != '.' &&
		    strlen(ents[i]->d_name) < SRIOV_IFNAME_SIZE)
			strcpy(name, ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	if (!name[0])
		return;
	if (out)
		strcpy(out, name);
	if (ifindex && !sysfs_pathf(path, sizeof(path),
				    "%s/bus/pci/devices/%s/net/%s/ifindex",
				    env->host.sysfs, bdf, name) &&
	    !sysfs_read_ulong(path, 10, &v) && v <= INT_MAX)
		*ifindex = (int)v;
	if (mac && !sysfs_pathf(path, sizeof(path),
				"%s/bus/pci/devices/%s/net/%s/address",
				env->host.sysfs, bdf, name))
		sysfs_read_attr(path, mac, SRIOV_MAC_STR_SIZE);
}

/* A network interface name: its device link names the PCI function. */
static int resolve_netdev(const struct sriov_env *env, const char *name,
			  char bdf[SRIOV_BDF_SIZE])
{
	char path[PATH_MAX], base[PATH_MAX];

	if (!*name || strchr(name, '/') || strlen(name) >= SRIOV_IFNAME_SIZE)
		return -ENODEV;
	if (sysfs_pathf(path, sizeof(path), "%s/class/net/%s/device",
			env->host.sysfs, name) ||
	    sysfs_read_link_base(path, base, sizeof(base)))
		return -ENODEV;
	return vfio_host_parse_bdf(base, bdf, NULL, 0) ? -ENODEV : 0;
}

int sriov_pf_resolve(const struct sriov_env *env, const char *pf,
		     char bdf[SRIOV_BDF_SIZE], char *err, size_t errlen)
{
	struct vfio_host_dev d;
	struct sriov_cap cap;
	int ret;

	if (!pf || !*pf) {
		log_errf(err, errlen, "missing PF (a PCI address such as "
			 "0000:3b:00.0, or a network interface)");
		return -EINVAL;
	}
	if (vfio_host_parse_bdf(pf, bdf, NULL, 0) &&
	    resolve_netdev(env, pf, bdf)) {
		log_errf(err, errlen, "unknown PF '%s': neither a PCI address "
			 "(0000:3b:00.0) nor a network interface of a PCI "
			 "device", pf);
		return -ENODEV;
	}
	ret = vfio_host_dev_read(&env->host, bdf, &d, err, errlen);
	if (ret) {
		log_errf(err, errlen, "unknown PF %s: no such PCI device "
			 "(see iovmm sriov list)", bdf);
		return ret;
	}
	if (d.role == VFIO_HOST_SRIOV_VF) {
		log_errf(err, errlen, "%s is a VF (of %s), not a PF", bdf,
			 d.physfn);
		return -EINVAL;
	}
	if (d.role != VFIO_HOST_SRIOV_PF) {
		if (sriov_cap_read(env, bdf, &cap) == 0)
			log_errf(err, errlen, "%s has an SR-IOV capability "
				 "but Linux did not set SR-IOV up for it (no "
				 "sriov_totalvfs; see dmesg, e.g. no room "
				 "for the VF BARs: pci=realloc)", bdf);
		else
			log_errf(err, errlen, "%s is not an SR-IOV device "
				 "(no SR-IOV capability)", bdf);
		return -EINVAL;
	}
	return 0;
}

static void note(struct sriov_pf *pf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct sriov_pf *pf, const char *fmt, ...)
{
	size_t used = strlen(pf->notes);
	va_list ap;

	if (used + 2 >= sizeof(pf->notes))
		return;
	if (used)
		pf->notes[used++] = '\n';
	va_start(ap, fmt);
	vsnprintf(pf->notes + used, sizeof(pf->notes) - used, fmt, ap);
	va_end(ap);
}

static void vf_read(const struct sriov_env *env, const char *bdf,
		    struct sriov_vf *vf)
{
	struct vfio_host_dev d;
	int busy;

	snprintf(vf->bdf, sizeof(vf->bdf), "%s", bdf);
	vf->group = -1;
	vf->cfg.spoofchk = vf->cfg.trust = vf->cfg.link_state = -1;
	if (vfio_host_dev_read(&env->host, bdf, &d, NULL, 0) == 0) {
		vf->device = d.device;
		snprintf(vf->driver, sizeof(vf->driver), "%s", d.driver);
		vf->group = d.group;
	}
	sriov_dev_netdev(env, bdf, vf->netdev, NULL, vf->mac);
	vf->use = sriov_lease_peek(env, bdf, &vf->lease_pid);
	if (vf->use != SRIOV_VF_FREE)
		return;
	if (vf->driver[0] && strcmp(vf->driver, "vfio-pci")) {
		vf->use = SRIOV_VF_HOST;
		return;
	}
	busy = vf->group >= 0 && !strcmp(vf->driver, "vfio-pci") ?
		       env->host.ops->group_busy(&env->host, vf->group) : 0;
	if (busy == 1)
		vf->use = SRIOV_VF_IN_USE;
}

/* The capability and sysfs tell the same story, or the notes say where
 * they differ (a driver may lower TotalVFs: pci_sriov_set_totalvfs()). */
static void pf_cross_check(const struct sriov_env *env, struct sriov_pf *pf)
{
	const struct sriov_cap *c = &pf->cap;
	char want[SRIOV_BDF_SIZE];

	if (c->total_vfs != pf->totalvfs)
		note(pf, "sriov_totalvfs is %u but the capability's TotalVFs "
		     "is %u (the driver limits it)", pf->totalvfs,
		     c->total_vfs);
	if (c->num_vfs != pf->numvfs)
		note(pf, "sriov_numvfs is %u but the capability's NumVFs is "
		     "%u", pf->numvfs, c->num_vfs);
	if (!!(c->ctrl & PCI_IOV_CTRL_VFE) != (pf->numvfs > 0))
		note(pf, "VF Enable is %s with %u VFs in sysfs",
		     c->ctrl & PCI_IOV_CTRL_VFE ? "set" : "clear",
		     pf->numvfs);
	for (size_t i = 0; i < pf->nvfs; i++) {
		const struct sriov_vf *vf = &pf->vfs[i];

		if (sriov_vf_bdf(pf->bdf, c, vf->index, want) == 0 &&
		    strcmp(want, vf->bdf))
			note(pf, "virtfn%u is %s but offset/stride place VF "
			     "%u at %s", vf->index, vf->bdf, vf->index, want);
		if (vf->device && vf->device != c->vf_device)
			note(pf, "VF %s has device ID %04x, the capability "
			     "says %04x", vf->bdf, vf->device, c->vf_device);
	}
}

static int pf_read_vfs(const struct sriov_env *env, struct sriov_pf *pf)
{
	char bdf[SRIOV_BDF_SIZE];
	unsigned int n;

	/* virtfnN links are dense from 0 to NumVFs - 1 (pci_iov_add_virtfn). */
	for (n = 0; n < 4096; n++) {
		if (sriov_virtfn_bdf(env, pf->bdf, n, bdf))
			break;
	}
	if (!n)
		return 0;
	pf->vfs = calloc(n, sizeof(*pf->vfs));
	if (!pf->vfs)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		if (sriov_virtfn_bdf(env, pf->bdf, i, bdf))
			break;
		pf->vfs[i].index = i;
		vf_read(env, bdf, &pf->vfs[i]);
		pf->nvfs = i + 1;
	}
	if (pf->nvfs != pf->numvfs)
		note(pf, "sriov_numvfs is %u but %zu virtfn links exist",
		     pf->numvfs, pf->nvfs);
	return 0;
}

static void pf_read_netlink(const struct sriov_env *env, struct sriov_pf *pf)
{
	struct sriov_vf_config *cfg;
	unsigned int nvfs = 0;
	char err[256] = "";
	int ret;

	cfg = calloc(SRIOV_NL_MAX_VFS, sizeof(*cfg));
	if (!cfg)
		return;
	ret = sriov_nl_query(env, pf->ifindex, cfg, SRIOV_NL_MAX_VFS, &nvfs,
			     err, sizeof(err));
	if (ret)
		note(pf, "VF settings not available: %s", err);
	for (size_t i = 0; !ret && i < pf->nvfs; i++)
		if (pf->vfs[i].index < SRIOV_NL_MAX_VFS)
			pf->vfs[i].cfg = cfg[pf->vfs[i].index];
	free(cfg);
}

int sriov_pf_read(const struct sriov_env *env, const char *arg,
		  unsigned int flags, struct sriov_pf **out, char *err,
		  size_t errlen)
{
	char path[PATH_MAX];
	struct vfio_host_dev d;
	struct sriov_pf *pf;
	unsigned long v;
	int ret;

	*out = NULL;
	pf = calloc(1, sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	ret = sriov_pf_resolve(env, arg, pf->bdf, err, errlen);
	if (!ret)
		ret = vfio_host_dev_read(&env->host, pf->bdf, &d, err, errlen);
	if (ret)
		goto fail;
	pf->vendor = d.vendor;
	pf->device = d.device;
	snprintf(pf->driver, sizeof(pf->driver), "%s", d.driver);
	pf->group = d.group;
	pf->totalvfs = d.totalvfs;
	pf->numvfs = d.numvfs;
	pf->autoprobe = -1;
	if (!sysfs_pathf(path, sizeof(path),
			 "%s/bus/pci/devices/%s/sriov_drivers_autoprobe",
			 env->host.sysfs, pf->bdf) &&
	    !sysfs_read_ulong(path, 10, &v))
		pf->autoprobe = v != 0;
	sriov_dev_netdev(env, pf->bdf, pf->netdev, &pf->ifindex, NULL);
	ret = pf_read_vfs(env, pf);
	if (ret)
		goto fail;
	ret = sriov_cap_read(env, pf->bdf, &pf->cap);
	if (ret == 0)
		pf_cross_check(env, pf);
	else if (ret == -EACCES)
		note(pf, "SR-IOV capability not readable (config space past "
		     "64 bytes needs root): sysfs values only");
	else
		note(pf, "SR-IOV capability not found in config space (%s)",
		     strerror(-ret));
	if ((flags & SRIOV_READ_NETLINK) && pf->ifindex > 0)
		pf_read_netlink(env, pf);
	*out = pf;
	return 0;
fail:
	sriov_pf_free(pf);
	return ret;
}

void sriov_pf_free(struct sriov_pf *pf)
{
	if (!pf)
		return;
	free(pf->vfs);
	free(pf);
}

static int cmp_bdf(const void *a, const void *b)
{
	return strcmp(a, b);
}

int sriov_pf_list(const struct sriov_env *env, char (**bdfs)[SRIOV_BDF_SIZE],
		  size_t *n, char *err, size_t errlen)
{
	char path[PATH_MAX], (*list)[SRIOV_BDF_SIZE] = NULL, (*grow)[SRIOV_BDF_SIZE];
	char bdf[SRIOV_BDF_SIZE];
	size_t cap = 0, count = 0;
	struct dirent *de;
	struct stat st;
	DIR *dir;

	*bdfs = NULL;
	*n = 0;
	if (sysfs_pathf(path, sizeof(path), "%s/bus/pci/devices",
			env->host.sysfs))
		return -ENAMETOOLONG;
	dir = opendir(path);
	if (!dir) {
		int ret = -errno;

		log_errf(err, errlen, "cannot read %s: %s", path,
			 strerror(-ret));
		return ret;
	}
	while ((de = readdir(dir))) {
		if (vfio_host_parse_bdf(de->d_name, bdf, NULL, 0) ||
		    strcmp(bdf, de->d_name) ||
		    sysfs_pathf(path, sizeof(path),
				"%s/bus/pci/devices/%s/sriov_totalvfs",
				env->host.sysfs, bdf) ||
		    stat(path, &st))
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			grow = realloc(list, cap * sizeof(*list));
			if (!grow) {
				free(list);
				closedir(dir);
				return -ENOMEM;
			}
			list = grow;
		}
		strcpy(list[count++], bdf);
	}
	closedir(dir);
	if (count)
		qsort(list, count, sizeof(*list), cmp_bdf);
	*bdfs = list;
	*n = count;
	return 0;
}

const struct sriov_vf *sriov_pf_find_vf(const struct sriov_pf *pf,
					const char *vf, char *err,
					size_t errlen)
{
	char bdf[SRIOV_BDF_SIZE], *end;
	unsigned long idx;

	if (vf && *vf >= '0' && *vf <= '9' && !strchr(vf, ':')) {
		errno = 0;
		idx = strtoul(vf, &end, 10);
		if (!errno && !*end) {
			for (size_t i = 0; i < pf->nvfs; i++)
				if (pf->vfs[i].index == idx)
					return &pf->vfs[i];
			log_errf(err, errlen, "PF %s has no VF %lu (it has %zu "
				 "VF%s)", pf->bdf, idx, pf->nvfs,
				 pf->nvfs == 1 ? "" : "s");
			return NULL;
		}
	}
	if (vfio_host_parse_bdf(vf, bdf, err, errlen))
		return NULL;
	for (size_t i = 0; i < pf->nvfs; i++)
		if (!strcmp(pf->vfs[i].bdf, bdf))
			return &pf->vfs[i];
	log_errf(err, errlen, "%s is not a VF of %s", bdf, pf->bdf);
	return NULL;
}
