/* SPDX-License-Identifier: MIT */
/*
 * SR-IOV management: physical functions (PFs) and their virtual functions
 * (VFs). Discovery (the SR-IOV extended capability through libpci, checked
 * against sysfs), VF lifecycle (create, destroy), per-VF settings over
 * rtnetlink (MAC, VLAN, spoof checking, trust, rates, link state), VF pools
 * with crash-safe leases, and the VFIO VF token of PFs owned by vfio-pci.
 *
 * Library code: every function returns 0 or -errno and, when it fails,
 * writes one human-readable sentence into `err` (what went wrong and what
 * to do about it). Nothing here exits or prints.
 *
 * Where things live is a struct sriov_env, so the unit tests run the same
 * code over a fake sysfs tree and a fake netlink peer:
 *   host.sysfs      "/sys" (IOVMM_SYSFS_ROOT): bus/pci/devices/BDF with
 *                   sriov_totalvfs, sriov_numvfs, sriov_drivers_autoprobe,
 *                   virtfnN, physfn, net/IFNAME, config; class/net/IFNAME
 *   host.state_dir  "/run/iovmm/vfio": vfio/host.c's bind records
 *   run_dir         "/run/iovmm/sriov" (IOVMM_RUN_DIR + "/sriov"): leases/
 *                   (one file per leased VF) and tokens/ (VF tokens)
 *   nl              how rtnetlink requests reach the kernel
 * Every sysfs write goes through host.ops->write (vfio/host.h), which the
 * tests replace with a fake kernel.
 */
#ifndef IOVMM_SRIOV_H
#define IOVMM_SRIOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/mac.h"
#include "vfio/host.h"

#define SRIOV_BDF_SIZE    VFIO_HOST_BDF_SIZE
#define SRIOV_NAME_SIZE   VFIO_HOST_NAME_SIZE
#define SRIOV_IFNAME_SIZE 16 /* IFNAMSIZ */
#define SRIOV_TOKEN_SIZE  37 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" + NUL */
#define SRIOV_MAC_STR_SIZE MAC_STR_SIZE

struct nl_msg;
struct sriov_env;

/*
 * The rtnetlink transport. transact() sends `req` (a complete rtnetlink
 * request, borrowed) and waits for the answer:
 *   - a request with NLM_F_ACK: 0 when acknowledged, else the kernel's
 *     -errno, with the extended-ack text (if any) in ack_msg;
 *   - RTM_GETLINK: 0 and the RTM_NEWLINK answer in *reply (the caller
 *     frees it with nlmsg_free()), or -errno.
 */
struct sriov_nl_ops {
	int (*transact)(const struct sriov_env *env, struct nl_msg *req,
			struct nl_msg **reply, char *ack_msg, size_t len);
};
/* A NETLINK_ROUTE socket per transaction (libnl-3). */
extern const struct sriov_nl_ops sriov_nl_kernel_ops;

struct sriov_env {
	struct vfio_host_env host; /* sysfs, bind records, sysfs writes */
	const char *run_dir;       /* borrowed */
	const struct sriov_nl_ops *nl;
	void *opaque;              /* for test ops */
};

/*
 * The real host: vfio_host_env_default() plus run_dir from IOVMM_RUN_DIR.
 * Not thread-safe (paths live in static buffers); call once.
 */
void sriov_env_default(struct sriov_env *env);

/* ---- discovery --------------------------------------------------------- */

/*
 * The SR-IOV Extended Capability (PCIe Base 6.0 §9.3.3), as libpci reads
 * it from config space. Reading past the first 64 bytes of config space
 * needs root: without it `present` is false and `note` says why.
 */
struct sriov_cap {
	bool present;
	uint16_t offset;     /* in config space */
	uint32_t caps;       /* SR-IOV Capabilities (§9.3.3.2) */
	uint16_t ctrl;       /* SR-IOV Control (§9.3.3.3): VF Enable, MSE, ARI */
	uint16_t initial_vfs, total_vfs, num_vfs;
	uint16_t vf_offset, vf_stride; /* First VF Offset, VF Stride */
	uint16_t vf_device;  /* VF Device ID (§9.3.3.11) */
	uint32_t supported_page_sizes, system_page_size; /* bit n: 4 KiB << n */
};

enum sriov_vf_use {
	SRIOV_VF_FREE,      /* no lease, VFIO group not open */
	SRIOV_VF_LEASED,    /* a live iovmm holds its lease (lease_pid) */
	SRIOV_VF_STALE,     /* its lease's owner died: repaired at next use */
	SRIOV_VF_IN_USE,    /* no lease, but its VFIO group is open */
	SRIOV_VF_HOST,      /* bound to a host driver (not vfio-pci) */
};

/* Per-VF settings as the PF driver reports them (RTM_GETLINK). */
struct sriov_vf_config {
	bool valid;          /* the PF's netlink answer had this VF */
	uint8_t mac[6];
	uint16_t vlan, vlan_proto; /* proto: ETH_P_8021Q/AD, host order */
	uint8_t qos;
	int spoofchk, trust; /* 0/1, -1 when the driver does not say */
	uint32_t min_rate, max_rate; /* Mbps, 0 = unlimited */
	int link_state;      /* IFLA_VF_LINK_STATE_*, -1 unknown */
};

struct sriov_vf {
	unsigned int index;  /* n of the PF's virtfnN; netlink's VF number */
	char bdf[SRIOV_BDF_SIZE];
	uint16_t device;
	char driver[SRIOV_NAME_SIZE]; /* "" when none */
	int group;           /* IOMMU group, -1 when none */
	char netdev[SRIOV_IFNAME_SIZE]; /* the VF's own netdev (host driver) */
	char mac[SRIOV_MAC_STR_SIZE];   /* that netdev's address, else "" */
	enum sriov_vf_use use;
	pid_t lease_pid;     /* LEASED/STALE: the lease owner */
	struct sriov_vf_config cfg;     /* from the PF driver, if it has one */
};

struct sriov_pf {
	char bdf[SRIOV_BDF_SIZE];
	uint16_t vendor, device;
	char driver[SRIOV_NAME_SIZE];
	int group;
	char netdev[SRIOV_IFNAME_SIZE]; /* "" for a PF without one (NVMe) */
	int ifindex;         /* 0 without a netdev */
	unsigned int totalvfs, numvfs; /* sysfs */
	int autoprobe;       /* sriov_drivers_autoprobe, -1 unreadable */
	struct sriov_cap cap;
	size_t nvfs;
	struct sriov_vf *vfs; /* by index */
	/* Disagreements between the capability and sysfs, and notes
	 * ("capability not readable: needs root"), one per line. */
	char notes[512];
};

/*
 * Resolve `pf` (a BDF in any form vfio_host_parse_bdf() takes, or a
 * network interface name) to the PF's canonical BDF. Errors: -ENODEV
 * "unknown PF", -EINVAL "not an SR-IOV device" / "is a VF of ...".
 */
int sriov_pf_resolve(const struct sriov_env *env, const char *pf,
		     char bdf[SRIOV_BDF_SIZE], char *err, size_t errlen);

#define SRIOV_READ_NETLINK 0x1 /* ask the PF driver for VF settings */

/*
 * Everything about one PF and its VFs: sysfs, the capability (libpci), VF
 * use (leases, groups) and, with SRIOV_READ_NETLINK and a PF netdev, the
 * driver's per-VF settings (a failure there only adds a note). *out is the
 * caller's: free with sriov_pf_free() (idempotent).
 */
int sriov_pf_read(const struct sriov_env *env, const char *pf,
		  unsigned int flags, struct sriov_pf **out, char *err,
		  size_t errlen);
void sriov_pf_free(struct sriov_pf *pf);

/* Every SR-IOV capable PF (sysfs has sriov_totalvfs), sorted by BDF. */
int sriov_pf_list(const struct sriov_env *env, char (**bdfs)[SRIOV_BDF_SIZE],
		  size_t *n, char *err, size_t errlen);

/*
 * Read the SR-IOV capability of `bdf` with libpci (its sysfs access
 * method, rooted at env->host.sysfs). -ENOENT: no such capability;
 * -EACCES: config space past 64 bytes is not readable (not root).
 */
int sriov_cap_read(const struct sriov_env *env, const char *bdf,
		   struct sriov_cap *cap);

/*
 * BDF of VF n from the capability's routing fields (§9.3.3.10: VF n's
 * Routing ID = PF's + First VF Offset + n * VF Stride). -ERANGE when it
 * leaves the bus number space.
 */
int sriov_vf_bdf(const char *pf_bdf, const struct sriov_cap *cap,
		 unsigned int n, char out[SRIOV_BDF_SIZE]);

/* ---- lifecycle ----------------------------------------------------------- */

#define SRIOV_CREATE_AUTOPROBE 0x1 /* let host drivers bind the new VFs */

/*
 * Enable n VFs: sriov_drivers_autoprobe (0 unless SRIOV_CREATE_AUTOPROBE,
 * so no host driver grabs them), then sriov_numvfs. Idempotent when the
 * PF already has n VFs. Errors: -EINVAL n is 0 or the PF is not SR-IOV,
 * -ERANGE n > TotalVFs, -EBUSY the PF has another number of VFs (the
 * kernel changes the count only through 0), -ENOENT the PF has no driver
 * or its driver cannot enable VFs, -EACCES not root.
 */
int sriov_create(const struct sriov_env *env, const char *pf, unsigned int n,
		 unsigned int flags, char *err, size_t errlen);

/*
 * Disable every VF (sriov_numvfs = 0). Refused (-EBUSY, naming the VF and
 * the holder) while a VF is leased by a running iovmm or its VFIO group is
 * open. Stale leases are repaired first. While it runs it holds every VF's
 * lease, so no iovmm can take a VF in the middle.
 */
int sriov_destroy(const struct sriov_env *env, const char *pf, char *err,
		  size_t errlen);

/* ---- per-VF settings ------------------------------------------------------ */

enum sriov_key {
	SRIOV_KEY_MAC,
	SRIOV_KEY_VLAN,      /* vlan, qos, vlan_proto together */
	SRIOV_KEY_SPOOFCHK,
	SRIOV_KEY_TRUST,
	SRIOV_KEY_RATE,      /* min_rate and max_rate together */
	SRIOV_KEY_LINK,
	SRIOV_KEY_COUNT,
};

/* `set` bits */
#define SRIOV_SET(k) (1u << (k))

struct sriov_vf_settings {
	unsigned int set;    /* SRIOV_SET(key) for each key given */
	uint8_t mac[6];
	uint16_t vlan;       /* 0-4095; 0 = no VLAN */
	uint8_t qos;         /* 0-7 (802.1p priority) */
	uint16_t vlan_proto; /* ETH_P_8021Q (default) or ETH_P_8021AD */
	bool has_qos, has_vlan_proto; /* given explicitly (need vlan=) */
	bool spoofchk, trust;
	bool has_min_rate, has_max_rate;
	uint32_t min_rate, max_rate; /* Mbps; 0 = no limit */
	int link_state;      /* IFLA_VF_LINK_STATE_AUTO/ENABLE/DISABLE */
};

/* "mac", "vlan", ... (the CLI's key for each setting). */
const char *sriov_key_name(enum sriov_key key);
/* "auto", "enable", "disable" for IFLA_VF_LINK_STATE_*; "?" otherwise. */
const char *sriov_link_state_name(int state);

/*
 * Parse one key=value: mac=52:54:00:..., vlan=N, qos=N,
 * vlan-proto=802.1Q|802.1ad, spoofchk=on|off, trust=on|off,
 * max-rate=Mbps, min-rate=Mbps, link=auto|enable|disable. -ENOENT (no
 * message) for a key that is not a VF setting, so a caller can try its
 * own keys; -EINVAL with a message for a bad value (invalid MAC, VLAN
 * outside 0-4095, qos > 7, ...). sriov_settings_check() then checks the
 * whole set (qos or vlan-proto without vlan, min-rate > max-rate).
 */
int sriov_settings_parse(struct sriov_vf_settings *s, const char *key,
			 const char *val, char *err, size_t errlen);
int sriov_settings_check(const struct sriov_vf_settings *s, char *err,
			 size_t errlen);
/* Every key=value of `list` (separated by spaces or commas), then the
 * check; an unknown key is -EINVAL with the list of known ones. */
int sriov_settings_parse_list(struct sriov_vf_settings *s, const char *list,
			      char *err, size_t errlen);
/* The settings as key=value words ("mac=... vlan=100 qos=0 ..."). */
void sriov_settings_format(const struct sriov_vf_settings *s, char *buf,
			   size_t len);

/*
 * Apply settings to VF `vf` (its index, or its BDF) of PF `pf`, one
 * RTM_SETLINK per setting so a refusal names the setting: "PF driver
 * ixgbe does not support trust" (-EOPNOTSUPP), "... rejected VLAN 4095"
 * (-EINVAL), "needs root (CAP_NET_ADMIN)" (-EPERM). Settings before the
 * failing one stay applied. A PF without a netdev: -EOPNOTSUPP.
 */
int sriov_vf_set(const struct sriov_env *env, const char *pf, const char *vf,
		 const struct sriov_vf_settings *s, char *err, size_t errlen);

/* Find VF `vf` (decimal index or BDF) of pf; -ENOENT with a message. */
const struct sriov_vf *sriov_pf_find_vf(const struct sriov_pf *pf,
					const char *vf, char *err,
					size_t errlen);

/* ---- pools ----------------------------------------------------------------- */

struct sriov_lease;

/*
 * Take a free VF of PF `pf` (BDF or netdev) for this process: repair the
 * PF's stale leases, lock a free VF's lease (driverless or on vfio-pci, no
 * live lease, VFIO group closed), apply `s` (may be NULL; the values they
 * replace are recorded in the lease), bind the VF to vfio-pci. The lease
 * lives as long as *out: an flock()ed file under run_dir/leases, so it
 * ends with the process even if it crashes, and the next user repairs it.
 * The VF's BDF goes to vf_bdf. -EBUSY "no free VF" (with who holds them).
 */
int sriov_pool_acquire(const struct sriov_env *env, const char *pf,
		       const struct sriov_vf_settings *s,
		       struct sriov_lease **out, char *vf_bdf, size_t len,
		       char *err, size_t errlen);

/*
 * Give the VF back: restore the settings the lease changed, hand the VF
 * back to the driver it had (vfio/host.c's record), drop the lease. Call
 * after the VF's VFIO device and group are closed (otherwise the VF stays
 * on vfio-pci, which a later acquire accepts). Idempotent on NULL.
 */
void sriov_pool_release(struct sriov_lease *l);

/* The leased VF's BDF and its PF's. */
const char *sriov_lease_vf(const struct sriov_lease *l);
const char *sriov_lease_pf(const struct sriov_lease *l);

/*
 * Repair every stale lease (of every PF): restore settings, unbind, remove
 * the file. Returns the number repaired, or -errno.
 */
int sriov_pool_repair(const struct sriov_env *env, char *err, size_t errlen);

/* ---- VF token (PF owned by vfio-pci) --------------------------------------- */

/*
 * When a PF is bound to vfio-pci (a userspace PF driver, e.g. DPDK), Linux
 * only opens its VFs through VFIO with the UUID the PF's owner set
 * (VFIO_DEVICE_FEATURE_PCI_VF_TOKEN; "BDF vf_token=UUID" on
 * VFIO_GROUP_GET_DEVICE_FD). iovmm keeps one token per PF in
 * run_dir/tokens/PF (mode 0600).
 *
 * sriov_token_get: the stored token; with `create`, generate a random
 * (version 4) UUID when there is none. -ENOENT without one.
 * sriov_token_set: store an operator-given UUID (-EINVAL if malformed).
 * sriov_token_apply: program the stored token into the PF through VFIO
 * (for a PF bound to vfio-pci that no userspace driver holds open).
 */
int sriov_token_get(const struct sriov_env *env, const char *pf, bool create,
		    char token[SRIOV_TOKEN_SIZE], char *err, size_t errlen);
int sriov_token_set(const struct sriov_env *env, const char *pf,
		    const char *uuid, char *err, size_t errlen);
int sriov_token_apply(const struct sriov_env *env, const char *pf, char *err,
		      size_t errlen);

/*
 * For the VFIO device open of `bdf` (what vfio/container.c calls): when
 * bdf is a VF whose PF is bound to vfio-pci, the PF's stored token
 * (token[0] != 0); otherwise token = "" and 0 (no token needed). A VF of
 * a vfio-pci PF with no stored token: -ENOKEY and how to provide one.
 * Uses the default environment (sriov_env_default()).
 */
int sriov_vf_token(const char *bdf, char token[SRIOV_TOKEN_SIZE], char *err,
		   size_t errlen);
int sriov_vf_token_env(const struct sriov_env *env, const char *bdf,
		       char token[SRIOV_TOKEN_SIZE], char *err, size_t errlen);

/*
 * Open `bdf` through VFIO (a throw-away container) as a VM would, passing
 * `token` when non-NULL, and close it again: 0 when the kernel accepts,
 * else its -errno (-EACCES for a missing or wrong VF token). For
 * `iovmm sriov token --check` and the lab.
 */
int sriov_vfio_open_check(const struct sriov_env *env, const char *bdf,
			  const char *token, char *err, size_t errlen);

#endif
