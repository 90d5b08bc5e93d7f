// SPDX-License-Identifier: MIT
/*
 * VF pools: `--device vfio-pci,pf=PF` takes any free VF of PF for the life
 * of one iovmm process.
 *
 * Leases. A VF is taken by holding an exclusive flock() on
 * run_dir/leases/VF_BDF for as long as the VM runs. flock() locks belong
 * to the open file description, so two threads of one process exclude
 * each other like two processes do, and the kernel drops the lock when the
 * process dies however it dies: a lease file that nobody holds locked but
 * that still has a record in it was left by a crash. The record says what
 * to undo (the VF settings the lease changed, the vfio-pci bind), and
 * whoever locks the file next does so before using the VF ("repair").
 *
 * Taking a lock: open (creating), flock(LOCK_EX | LOCK_NB), then check
 * that the path still names the inode we locked: a releaser unlinks the
 * file while holding the lock, so a racer may lock an orphan inode; it
 * then retries. Releasing: undo, unlink, close. A lease file therefore
 * exists only while a VF is leased, being repaired, or was left by a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "core/log.h"
#include "core/sysfs.h"
#include "sriov/sriov_internal.h"

#define LEASE_RECORD_MAX 1024

struct sriov_lease {
	struct sriov_env env; /* copied; its strings are borrowed */
	int fd;
	char pf[SRIOV_BDF_SIZE], vf[SRIOV_BDF_SIZE];
	char pf_driver[SRIOV_NAME_SIZE];
	unsigned int index;
	int ifindex;
	bool bound;                    /* we handed the VF to vfio-pci */
	struct sriov_vf_settings undo; /* restores what the lease changed */
};

int sriov_lease_path(const struct sriov_env *env, const char *vf_bdf,
		     char *buf, size_t len)
{
	return sysfs_pathf(buf, len, "%s/leases/%s", env->run_dir, vf_bdf);
}

/* ---- records ---- */

struct lease_record {
	pid_t pid;
	char pf[SRIOV_BDF_SIZE], vf[SRIOV_BDF_SIZE];
	unsigned int index;
	bool has_index, bound;
	char undo[512];
};

/* Whatever the file says is untrusted: bounded fields, checked values. */
static void record_parse(const char *text, struct lease_record *r)
{
	char line[600];
	const char *p = text;

	memset(r, 0, sizeof(*r));
	while (*p) {
		size_t n = strcspn(p, "\n");
		char *end;
		unsigned long v;

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		if (!strncmp(line, "pid=", 4)) {
			v = strtoul(line + 4, &end, 10);
			if (!*end && v > 0 && v <= INT_MAX)
				r->pid = (pid_t)v;
		} else if (!strncmp(line, "pf=", 3)) {
			vfio_host_parse_bdf(line + 3, r->pf, NULL, 0);
		} else if (!strncmp(line, "vf=", 3)) {
			vfio_host_parse_bdf(line + 3, r->vf, NULL, 0);
		} else if (!strncmp(line, "index=", 6)) {
			v = strtoul(line + 6, &end, 10);
			if (!*end && v < 65536) {
				r->index = (unsigned int)v;
				r->has_index = true;
			}
		} else if (!strcmp(line, "bound=1")) {
			r->bound = true;
		} else if (!strncmp(line, "undo=", 5)) {
			snprintf(r->undo, sizeof(r->undo), "%.*s",
				 (int)sizeof(r->undo) - 1, line + 5);
		}
	}
}

static int read_fd_text(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

int sriov_lease_write(int fd, const char *text)
{
	size_t len = strlen(text);

	if (ftruncate(fd, 0) < 0)
		return -errno;
	if (pwrite(fd, text, len, 0) != (ssize_t)len)
		return -EIO;
	return 0;
}

static int lease_save(const struct sriov_lease *l)
{
	char text[LEASE_RECORD_MAX], undo[512] = "";

	sriov_settings_format(&l->undo, undo, sizeof(undo));
	snprintf(text, sizeof(text),
		 "pid=%ld\nsince=%ld\npf=%s\nvf=%s\nindex=%u\n%s%s%s%s",
		 (long)getpid(), (long)time(NULL), l->pf, l->vf, l->index,
		 l->bound ? "bound=1\n" : "", undo[0] ? "undo=" : "", undo,
		 undo[0] ? "\n" : "");
	return sriov_lease_write(l->fd, text);
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

enum sriov_vf_use sriov_lease_peek(const struct sriov_env *env,
				   const char *vf_bdf, pid_t *pid)
{
	char path[PATH_MAX], text[LEASE_RECORD_MAX];
	struct lease_record r;
	int fd, ret;

	*pid = 0;
	if (sriov_lease_path(env, vf_bdf, path, sizeof(path)))
		return SRIOV_VF_FREE;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SRIOV_VF_FREE;
	ret = read_fd_text(fd, text, sizeof(text));
	close(fd);
	if (ret || !text[0])
		return SRIOV_VF_FREE; /* being created: not a lease yet */
	record_parse(text, &r);
	*pid = r.pid;
	/* Without a lock: a listing must never make an acquirer skip a VF.
	 * A recycled pid can make a stale lease look live; the lock, which
	 * acquire and destroy use, is never wrong. */
	return pid_alive(r.pid) ? SRIOV_VF_LEASED : SRIOV_VF_STALE;
}

/* ---- repair ---- */

static void repair_settings(const struct sriov_env *env,
			    const struct lease_record *r)
{
	struct sriov_vf_settings undo = { 0 };
	struct vfio_host_dev pf;
	char err[256];
	int ifindex;

	if (!r->undo[0] || !r->pf[0] || !r->has_index)
		return;
	if (sriov_settings_parse_list(&undo, r->undo, err, sizeof(err))) {
		log_warn("sriov", "stale lease of %s: bad undo record: %s",
			 r->vf, err);
		return;
	}
	/* The PF's ifindex now (its netdev may have been re-created). */
	sriov_dev_netdev(env, r->pf, NULL, &ifindex, NULL);
	if (vfio_host_dev_read(&env->host, r->pf, &pf, NULL, 0) || !ifindex)
		return;
	if (sriov_nl_apply(env, ifindex, pf.driver, r->index, &undo, err,
			   sizeof(err)))
		log_warn("sriov", "stale lease of %s: restoring %s: %s", r->vf,
			 r->undo, err);
}

static void repair(const struct sriov_env *env, const char *vf_bdf,
		   const char *text)
{
	struct vfio_host_dev d;
	struct lease_record r;
	char err[256];

	record_parse(text, &r);
	/* The file name is the authority on which VF this is. */
	snprintf(r.vf, sizeof(r.vf), "%s", vf_bdf);
	repair_settings(env, &r);
	if (r.bound && !vfio_host_dev_read(&env->host, vf_bdf, &d, NULL, 0) &&
	    !strcmp(d.driver, "vfio-pci") &&
	    vfio_host_unbind(&env->host, vf_bdf, 0, err, sizeof(err)))
		log_warn("sriov", "stale lease of %s: %s", vf_bdf, err);
	log_info("sriov", "repaired the lease of VF %s left by iovmm pid %ld",
		 vf_bdf, (long)r.pid);
}

/* ---- locking ---- */

int sriov_lease_lock(const struct sriov_env *env, const char *vf_bdf,
		     int *out, bool *repaired)
{
	char path[PATH_MAX], dir[PATH_MAX], text[LEASE_RECORD_MAX];
	struct stat a, b;
	int fd, ret;

	*out = -1;
	if (repaired)
		*repaired = false;
	if (sriov_lease_path(env, vf_bdf, path, sizeof(path)) ||
	    sysfs_pathf(dir, sizeof(dir), "%s/leases", env->run_dir))
		return -ENAMETOOLONG;
	ret = sysfs_mkdir_p(dir, 0755);
	if (ret)
		return ret;
	for (int tries = 0; tries < 100; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			ret = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
			close(fd);
			return ret;
		}
		/* Locked an inode a releaser has just unlinked? Again. */
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		return -EAGAIN;
	ret = read_fd_text(fd, text, sizeof(text));
	if (!ret && text[0]) {
		repair(env, vf_bdf, text);
		ret = sriov_lease_write(fd, "");
		if (repaired)
			*repaired = true;
	}
	if (ret) {
		sriov_lease_unlock(env, vf_bdf, fd);
		return ret;
	}
	*out = fd;
	return 0;
}

void sriov_lease_unlock(const struct sriov_env *env, const char *vf_bdf,
			int fd)
{
	char path[PATH_MAX];

	if (fd < 0)
		return;
	/* Unlink while still locked: see the top of this file. */
	if (!sriov_lease_path(env, vf_bdf, path, sizeof(path)))
		unlink(path);
	close(fd);
}

int sriov_pool_repair(const struct sriov_env *env, char *err, size_t errlen)
{
	char dir[PATH_MAX], bdf[SRIOV_BDF_SIZE];
	struct dirent *de;
	bool repaired;
	int fd, count = 0;
	DIR *d;

	if (sysfs_pathf(dir, sizeof(dir), "%s/leases", env->run_dir))
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (vfio_host_parse_bdf(de->d_name, bdf, NULL, 0) ||
		    strcmp(bdf, de->d_name))
			continue;
		if (sriov_lease_lock(env, bdf, &fd, &repaired))
			continue; /* held: a live lease */
		count += repaired;
		sriov_lease_unlock(env, bdf, fd);
	}
	closedir(d);
	return count;
}

/* ---- acquire / release ---- */

struct pick_stats {
	unsigned int leased, host, in_use, gone;
	char holders[128];
};

/*
 * Lock VF vf if it can serve a guest: still a VF of this PF, driverless
 * or on vfio-pci, its group not open. 0 with *fd, or -EBUSY (skip it).
 */
static int pick_one(const struct sriov_env *env, const struct sriov_pf *pf,
		    const struct sriov_vf *vf, int *fd, struct pick_stats *st)
{
	struct vfio_host_dev d;
	pid_t pid = 0;
	int ret;

	if (vf->use == SRIOV_VF_HOST) {
		st->host++;
		return -EBUSY;
	}
	ret = sriov_lease_lock(env, vf->bdf, fd, NULL);
	if (ret == -EWOULDBLOCK) {
		size_t used = strlen(st->holders);

		st->leased++;
		sriov_lease_peek(env, vf->bdf, &pid);
		if (pid && used + 16 < sizeof(st->holders))
			snprintf(st->holders + used, sizeof(st->holders) - used,
				 "%s%ld", used ? ", " : "", (long)pid);
		return -EBUSY;
	}
	if (ret)
		return ret;
	/* Read again under the lock: a repair may have moved it, a destroy
	 * may have removed it. */
	ret = vfio_host_dev_read(&env->host, vf->bdf, &d, NULL, 0);
	if (ret || d.role != VFIO_HOST_SRIOV_VF || strcmp(d.physfn, pf->bdf)) {
		st->gone++;
		ret = -EBUSY;
	} else if (d.driver[0] && strcmp(d.driver, "vfio-pci")) {
		st->host++;
		ret = -EBUSY;
	} else if (d.driver[0] && d.group >= 0 &&
		   env->host.ops->group_busy(&env->host, d.group) == 1) {
		st->in_use++;
		ret = -EBUSY;
	}
	if (ret) {
		sriov_lease_unlock(env, vf->bdf, *fd);
		*fd = -1;
	}
	return ret;
}

static void no_free_vf(const struct sriov_pf *pf, const struct pick_stats *st,
		       char *err, size_t errlen)
{
	log_errf(err, errlen, "no free VF on %s: %zu VF%s, %u leased by "
		 "running iovmm%s%s%s, %u bound to host drivers, %u in use "
		 "through VFIO%s", pf->bdf, pf->nvfs, pf->nvfs == 1 ? "" : "s",
		 st->leased, st->holders[0] ? " (pid " : "", st->holders,
		 st->holders[0] ? ")" : "", st->host, st->in_use,
		 st->host ? " (host-bound VFs are never taken: iovmm sriov "
			    "create sets autoprobe off)" : "");
}

/* Record, apply the settings, bind: the lease is locked and empty. */
static int lease_setup(struct sriov_lease *l, const struct sriov_vf_settings *s,
		       char *err, size_t errlen)
{
	const struct sriov_env *env = &l->env;
	struct sriov_vf_config *cfg;
	struct vfio_host_dev d;
	unsigned int nvfs;
	int ret = lease_save(l);

	if (!ret && s && s->set) {
		cfg = calloc(SRIOV_NL_MAX_VFS, sizeof(*cfg));
		if (!cfg)
			return -ENOMEM;
		ret = l->index < SRIOV_NL_MAX_VFS ?
			      sriov_nl_query(env, l->ifindex, cfg,
					     SRIOV_NL_MAX_VFS, &nvfs, err,
					     errlen) : -ERANGE;
		if (ret == -ERANGE)
			log_errf(err, errlen, "VF %u: settings beyond VF %d "
				 "are not supported", l->index,
				 SRIOV_NL_MAX_VFS - 1);
		if (!ret)
			sriov_settings_undo(s, &cfg[l->index], &l->undo);
		free(cfg);
		/* The undo record is on disk before the first change. */
		if (!ret)
			ret = lease_save(l);
		if (!ret)
			ret = sriov_nl_apply(env, l->ifindex, l->pf_driver,
					     l->index, s, err, errlen);
	}
	if (ret)
		return ret;
	/* A VF already on vfio-pci stays there when the lease ends. */
	if (vfio_host_dev_read(&env->host, l->vf, &d, err, errlen))
		return -ENODEV;
	if (!strcmp(d.driver, "vfio-pci"))
		return 0;
	l->bound = true;
	ret = lease_save(l);
	if (!ret)
		ret = vfio_host_bind(&env->host, l->vf, 0, err, errlen);
	return ret;
}

/* Undo what lease_setup did, as far as it got. */
static void lease_teardown(struct sriov_lease *l)
{
	struct vfio_host_dev d;
	char err[256];

	if (l->undo.set &&
	    sriov_nl_apply(&l->env, l->ifindex, l->pf_driver, l->index,
			   &l->undo, err, sizeof(err)))
		log_warn("sriov", "VF %s: restoring its settings: %s", l->vf,
			 err);
	if (l->bound && !vfio_host_dev_read(&l->env.host, l->vf, &d, NULL, 0) &&
	    !strcmp(d.driver, "vfio-pci") &&
	    vfio_host_unbind(&l->env.host, l->vf, 0, err, sizeof(err)))
		log_warn("sriov", "VF %s stays on vfio-pci: %s", l->vf, err);
	sriov_lease_unlock(&l->env, l->vf, l->fd);
	l->fd = -1;
}

/*
 * Repair every stale lease of the PF, not only the one a pick lands on: a
 * crashed VM's VF may have been left on vfio-pci with changed settings,
 * and the PF's VFs should look as the operator left them whichever VF
 * this VM gets. A lease that cannot be locked is live (or being repaired
 * by someone else) and is left alone.
 */
static void pool_repair_pf(const struct sriov_env *env,
			   const struct sriov_pf *pf)
{
	int fd;

	for (size_t i = 0; i < pf->nvfs; i++) {
		if (pf->vfs[i].use != SRIOV_VF_STALE ||
		    sriov_lease_lock(env, pf->vfs[i].bdf, &fd, NULL))
			continue;
		sriov_lease_unlock(env, pf->vfs[i].bdf, fd);
	}
}

static int pool_pick(const struct sriov_env *env, const struct sriov_pf *pf,
		     size_t *which, int *fd, char *err, size_t errlen)
{
	struct pick_stats st;
	int ret = -EBUSY;

	/* Twice: a VF whose stale lease was being repaired by another
	 * process a moment ago may be free now. */
	for (int pass = 0; pass < 2 && ret == -EBUSY; pass++) {
		memset(&st, 0, sizeof(st));
		if (pass)
			usleep(50 * 1000);
		for (size_t i = 0; i < pf->nvfs; i++) {
			ret = pick_one(env, pf, &pf->vfs[i], fd, &st);
			if (ret != -EBUSY) {
				*which = i;
				break;
			}
		}
	}
	if (ret == -EBUSY)
		no_free_vf(pf, &st, err, errlen);
	else if (ret)
		log_errf(err, errlen, "cannot take a lease under %s/leases: "
			 "%s%s", env->run_dir, strerror(-ret),
			 ret == -EACCES ? " (needs root)" : "");
	return ret;
}

int sriov_pool_acquire(const struct sriov_env *env, const char *arg,
		       const struct sriov_vf_settings *s,
		       struct sriov_lease **out, char *vf_bdf, size_t len,
		       char *err, size_t errlen)
{
	struct sriov_lease *l = NULL;
	struct sriov_pf *pf;
	size_t which = 0;
	int fd = -1, ret;

	*out = NULL;
	if (s && (ret = sriov_settings_check(s, err, errlen)))
		return ret;
	ret = sriov_pf_read(env, arg, 0, &pf, err, errlen);
	if (ret)
		return ret;
	if (!pf->nvfs) {
		log_errf(err, errlen, "%s has no VFs: create them first "
			 "(iovmm sriov create %s --vfs N)", pf->bdf, pf->bdf);
		ret = -ENODEV;
	} else if (s && s->set && pf->ifindex <= 0) {
		log_errf(err, errlen, "%s (driver %s) has no network "
			 "interface: mac=, vlan=, trust=... need a network "
			 "PF", pf->bdf, pf->driver[0] ? pf->driver : "none");
		ret = -EOPNOTSUPP;
	}
	if (!ret) {
		pool_repair_pf(env, pf);
		ret = pool_pick(env, pf, &which, &fd, err, errlen);
	}
	if (!ret && !(l = calloc(1, sizeof(*l))))
		ret = -ENOMEM;
	if (ret) {
		sriov_lease_unlock(env, fd >= 0 ? pf->vfs[which].bdf : "", fd);
		sriov_pf_free(pf);
		return ret;
	}
	l->env = *env;
	l->fd = fd;
	snprintf(l->pf, sizeof(l->pf), "%s", pf->bdf);
	snprintf(l->vf, sizeof(l->vf), "%s", pf->vfs[which].bdf);
	snprintf(l->pf_driver, sizeof(l->pf_driver), "%s", pf->driver);
	l->index = pf->vfs[which].index;
	l->ifindex = pf->ifindex;
	sriov_pf_free(pf);
	ret = lease_setup(l, s, err, errlen);
	if (!ret && (size_t)snprintf(vf_bdf, len, "%s", l->vf) >= len)
		ret = -ENAMETOOLONG;
	if (ret) {
		lease_teardown(l);
		free(l);
		return ret;
	}
	*out = l;
	return 0;
}

void sriov_pool_release(struct sriov_lease *l)
{
	if (!l)
		return;
	lease_teardown(l);
	free(l);
}

const char *sriov_lease_vf(const struct sriov_lease *l)
{
	return l->vf;
}

const char *sriov_lease_pf(const struct sriov_lease *l)
{
	return l->pf;
}
