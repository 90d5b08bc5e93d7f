/* SPDX-License-Identifier: MIT */
/*
 * Inside sriov/: helpers shared by its files, and the pieces the unit tests
 * reach directly (netlink message builders and parsers, lease records).
 * Not for other modules: use sriov/sriov.h.
 */
#ifndef IOVMM_SRIOV_INTERNAL_H
#define IOVMM_SRIOV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sriov/sriov.h"

struct nlmsghdr;

/* ---- small helpers (discovery.c) ---- */

/* Write attr of device bdf through env->host.ops (errno turned into a
 * sentence: "needs root" for EACCES/EPERM). */
int sriov_dev_write(const struct sriov_env *env, const char *bdf,
		    const char *attr, const char *val, char *err,
		    size_t errlen);
/* Milliseconds on CLOCK_MONOTONIC (for the timings the CLI prints). */

/* The first network interface of device bdf: name ("" when none), its
 * ifindex (0) and address (""); each output may be NULL. */
void sriov_dev_netdev(const struct sriov_env *env, const char *bdf,
		      char name[SRIOV_IFNAME_SIZE], int *ifindex,
		      char mac[SRIOV_MAC_STR_SIZE]);

/* VF index n of the PF from its virtfnN links; -ENOENT when absent. */
int sriov_virtfn_bdf(const struct sriov_env *env, const char *pf_bdf,
		     unsigned int n, char out[SRIOV_BDF_SIZE]);

/* ---- netlink (netlink.c) ---- */

/* The largest VF number the parser keeps (drivers go up to 256 VFs). */
#define SRIOV_NL_MAX_VFS 256

/*
 * RTM_SETLINK on PF ifindex with IFLA_VFINFO_LIST > IFLA_VF_INFO > the
 * attribute(s) of `key` for VF vf (NLM_F_REQUEST | NLM_F_ACK). -EINVAL
 * when s lacks what key needs.
 */
int sriov_nl_build_set(int ifindex, uint32_t vf, enum sriov_key key,
		       const struct sriov_vf_settings *s, struct nl_msg **out);
/* RTM_GETLINK for ifindex with IFLA_EXT_MASK = RTEXT_FILTER_VF. */
int sriov_nl_build_get(int ifindex, struct nl_msg **out);
/*
 * The VF settings in an RTM_NEWLINK answer: cfg[n] for VF n < max (valid
 * set for each VF present); *nvfs = IFLA_NUM_VF (0 when absent).
 * Malformed attributes are skipped, never trusted.
 */
int sriov_nl_parse_vfs(const struct nlmsghdr *nlh, struct sriov_vf_config *cfg,
		       size_t max, unsigned int *nvfs);
/* Query the PF driver (transport env->nl). */
int sriov_nl_query(const struct sriov_env *env, int ifindex,
		   struct sriov_vf_config *cfg, size_t max, unsigned int *nvfs,
		   char *err, size_t errlen);
/*
 * Apply the keys of s->set, one request each, in enum order; the driver's
 * refusal becomes a sentence naming the setting and `driver`.
 */
int sriov_nl_apply(const struct sriov_env *env, int ifindex,
		   const char *driver, uint32_t vf,
		   const struct sriov_vf_settings *s, char *err, size_t errlen);
/*
 * The settings that undo s, from the VF's current configuration: for each
 * key of s->set the value cur holds (for rates, the other bound too).
 */
void sriov_settings_undo(const struct sriov_vf_settings *s,
			 const struct sriov_vf_config *cur,
			 struct sriov_vf_settings *undo);
/* ---- leases (pool.c) ---- */

/* run_dir/leases/VF_BDF */
int sriov_lease_path(const struct sriov_env *env, const char *vf_bdf,
		     char *buf, size_t len);
/*
 * Who holds VF's lease, without locking (for listings): LEASED with the
 * owner's pid when it is alive, STALE when the file names a dead process,
 * FREE when there is no lease file.
 */
enum sriov_vf_use sriov_lease_peek(const struct sriov_env *env,
				   const char *vf_bdf, pid_t *pid);

/*
 * Lock VF's lease file (created if missing). 0 and *fd on success;
 * -EWOULDBLOCK when a live process holds it. A stale record found in the
 * file is repaired (its settings restored, the VF unbound; *repaired set)
 * before returning, and the file is left empty.
 */
int sriov_lease_lock(const struct sriov_env *env, const char *vf_bdf,
		     int *fd, bool *repaired);
/* Replace the locked lease file's content. */
int sriov_lease_write(int fd, const char *text);
/* Drop a lock taken by sriov_lease_lock: remove the file, close fd. */
void sriov_lease_unlock(const struct sriov_env *env, const char *vf_bdf,
			int fd);

#endif
