// SPDX-License-Identifier: MIT
/*
 * VF lifecycle through sysfs (Documentation/PCI/pci-iov-howto.rst):
 * writing N to sriov_numvfs makes the PF's driver enable N VFs
 * (pci_enable_sriov() from its sriov_configure hook), writing 0 removes
 * them; the kernel refuses to go from one non-zero count to another.
 * sriov_drivers_autoprobe = 0, written first, keeps host drivers off the
 * new VFs, which are meant for guests. And the per-VF settings entry point
 * (the netlink work is in netlink.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "sriov/sriov_internal.h"

/* Turn the kernel's answer to an sriov_numvfs write into advice. */
static void numvfs_error(const struct sriov_pf *pf, unsigned int n, int ret,
			 char *err, size_t errlen)
{
	switch (ret) {
	case -EACCES:
	case -EPERM:
		log_errf(err, errlen, "enabling VFs on %s needs root", pf->bdf);
		break;
	case -ENOENT:
	case -EOPNOTSUPP:
		/* sriov_numvfs_store(): no driver, or no sriov_configure. */
		if (!pf->driver[0])
			log_errf(err, errlen, "%s has no driver: VFs are "
				 "enabled by the PF's driver, bind it first",
				 pf->bdf);
		else if (!strcmp(pf->driver, "vfio-pci"))
			log_errf(err, errlen, "%s is bound to vfio-pci, which "
				 "enables VFs only with its enable_sriov "
				 "parameter (echo 1 > /sys/module/vfio_pci/"
				 "parameters/enable_sriov)", pf->bdf);
		else
			log_errf(err, errlen, "PF driver %s cannot enable VFs "
				 "through sysfs", pf->driver);
		break;
	case -ENOMEM:
	case -ENOSPC:
	case -EIO:
		log_errf(err, errlen, "the kernel could not enable %u VF%s on "
			 "%s (%s): not enough bus numbers or MMIO space for "
			 "the VF BARs? see dmesg", n, n == 1 ? "" : "s",
			 pf->bdf, strerror(-ret));
		break;
	default:
		log_errf(err, errlen, "enabling %u VF%s on %s: %s (see dmesg)",
			 n, n == 1 ? "" : "s", pf->bdf, strerror(-ret));
		break;
	}
}

int sriov_create(const struct sriov_env *env, const char *arg, unsigned int n,
		 unsigned int flags, char *err, size_t errlen)
{
	struct sriov_pf *pf;
	char val[16];
	int ret;

	ret = sriov_pf_read(env, arg, 0, &pf, err, errlen);
	if (ret)
		return ret;
	if (n == 0) {
		log_errf(err, errlen, "--vfs must be at least 1 (iovmm sriov "
			 "destroy %s removes the VFs)", pf->bdf);
		ret = -EINVAL;
	} else if (n > pf->totalvfs) {
		log_errf(err, errlen, "%s supports at most %u VF%s "
			 "(sriov_totalvfs), not %u", pf->bdf, pf->totalvfs,
			 pf->totalvfs == 1 ? "" : "s", n);
		ret = -ERANGE;
	} else if (pf->numvfs == n) {
		ret = 0; /* already there */
	} else if (pf->numvfs) {
		log_errf(err, errlen, "%s already has %u VF%s: the kernel only "
			 "changes the count through 0 (iovmm sriov destroy %s "
			 "first)", pf->bdf, pf->numvfs,
			 pf->numvfs == 1 ? "" : "s", pf->bdf);
		ret = -EBUSY;
	} else {
		ret = sriov_dev_write(env, pf->bdf, "sriov_drivers_autoprobe",
				      flags & SRIOV_CREATE_AUTOPROBE ? "1" : "0",
				      err, errlen);
		snprintf(val, sizeof(val), "%u", n);
		if (!ret) {
			ret = sriov_dev_write(env, pf->bdf, "sriov_numvfs", val,
					      NULL, 0);
			if (ret)
				numvfs_error(pf, n, ret, err, errlen);
		}
	}
	if (!ret && pf->numvfs != n) {
		struct sriov_pf *now;

		/* The write is synchronous (the VFs exist when it returns);
		 * read back what the kernel made. */
		ret = sriov_pf_read(env, pf->bdf, 0, &now, err, errlen);
		if (!ret && (now->numvfs != n || now->nvfs != n)) {
			log_errf(err, errlen, "%s: asked for %u VFs, the kernel "
				 "reports %u (%zu virtfn links)", pf->bdf, n,
				 now->numvfs, now->nvfs);
			ret = -EIO;
		}
		sriov_pf_free(now);
	}
	sriov_pf_free(pf);
	return ret;
}

/* Why VF vf cannot go away now, or 0. Its lease is already ours. */
static int vf_busy(const struct sriov_env *env, const struct sriov_vf *vf,
		   char *err, size_t errlen)
{
	int busy;

	if (vf->group < 0 || strcmp(vf->driver, "vfio-pci"))
		return 0;
	busy = env->host.ops->group_busy(&env->host, vf->group);
	if (busy == 1) {
		log_errf(err, errlen, "VF %s (vf %u) is in use: its VFIO group "
			 "%d is open (a VM assigned it with host=; stop it "
			 "first)", vf->bdf, vf->index, vf->group);
		return -EBUSY;
	}
	return 0;
}

int sriov_destroy(const struct sriov_env *env, const char *arg, char *err,
		  size_t errlen)
{
	char record[64];
	struct sriov_pf *pf;
	size_t locked = 0;
	int *fds = NULL, ret;

	ret = sriov_pf_read(env, arg, 0, &pf, err, errlen);
	if (ret)
		return ret;
	if (!pf->numvfs && !pf->nvfs)
		goto out; /* nothing to do */
	fds = calloc(pf->nvfs ? pf->nvfs : 1, sizeof(*fds));
	if (!fds) {
		ret = -ENOMEM;
		goto out;
	}
	snprintf(record, sizeof(record), "pid=%ld\npurpose=destroy\n",
		 (long)getpid());
	/* Hold every lease: no iovmm can take a VF while they go away. */
	for (; locked < pf->nvfs; locked++) {
		const struct sriov_vf *vf = &pf->vfs[locked];
		pid_t pid = 0;

		ret = sriov_lease_lock(env, vf->bdf, &fds[locked], NULL);
		if (ret == -EWOULDBLOCK) {
			sriov_lease_peek(env, vf->bdf, &pid);
			log_errf(err, errlen, "VF %s (vf %u) is assigned to a "
				 "running guest (iovmm pid %ld): stop that VM "
				 "first", vf->bdf, vf->index, (long)pid);
			ret = -EBUSY;
		} else if (ret) {
			log_errf(err, errlen, "cannot lock the lease of VF %s "
				 "under %s: %s", vf->bdf, env->run_dir,
				 strerror(-ret));
		}
		if (ret)
			break;
		sriov_lease_write(fds[locked], record);
		ret = vf_busy(env, vf, err, errlen);
		if (ret) {
			locked++;
			break;
		}
	}
	if (!ret) {
		ret = sriov_dev_write(env, pf->bdf, "sriov_numvfs", "0", err,
				      errlen);
		if (ret && ret != -EACCES && ret != -EPERM)
			log_errf(err, errlen, "disabling the VFs of %s: %s "
				 "(see dmesg)", pf->bdf, strerror(-ret));
	}
	while (locked--)
		sriov_lease_unlock(env, pf->vfs[locked].bdf, fds[locked]);
out:
	free(fds);
	sriov_pf_free(pf);
	return ret;
}

int sriov_vf_set(const struct sriov_env *env, const char *arg, const char *vfarg,
		 const struct sriov_vf_settings *s, char *err, size_t errlen)
{
	const struct sriov_vf *vf;
	struct sriov_pf *pf;
	int ret;

	ret = sriov_settings_check(s, err, errlen);
	if (ret)
		return ret;
	if (!s->set) {
		log_errf(err, errlen, "no VF setting given (mac=, vlan=, "
			 "spoofchk=, trust=, max-rate=, min-rate=, link=)");
		return -EINVAL;
	}
	ret = sriov_pf_read(env, arg, 0, &pf, err, errlen);
	if (ret)
		return ret;
	vf = sriov_pf_find_vf(pf, vfarg, err, errlen);
	if (!vf) {
		ret = -ENOENT;
	} else if (pf->ifindex <= 0) {
		log_errf(err, errlen, "%s (driver %s) has no network "
			 "interface: VF MAC, VLAN, trust... are settings of "
			 "network PFs", pf->bdf,
			 pf->driver[0] ? pf->driver : "none");
		ret = -EOPNOTSUPP;
	} else {
		ret = sriov_nl_apply(env, pf->ifindex, pf->driver, vf->index,
				     s, err, errlen);
	}
	sriov_pf_free(pf);
	return ret;
}
