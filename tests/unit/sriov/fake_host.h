/* SPDX-License-Identifier: MIT */
/*
 * A fake SR-IOV host for the sriov/ unit tests: the shared fake host
 * (tests/unit/fakes/fake_sysfs.h: a sysfs tree on disk and a fake kernel
 * behind vfio_host_ops for driver binding, sriov_numvfs and
 * sriov_drivers_autoprobe) with realistic PF/VF layouts, and a fake PF
 * network driver behind sriov_nl_ops that parses each rtnetlink request
 * with libnl and answers like a real one (or refuses like one).
 *
 * Everything the kernel part keeps is on disk, so child processes (the
 * pool tests fork) see and change the same host. The netlink driver's
 * per-VF settings live in this process's memory (each process has its
 * own NIC model); its request log too.
 *
 * Layouts:
 *  - FH_NIC: an Intel 82599 PF (8086:10fb, ixgbe) at 0000:3b:00.0 with
 *    netdev enp59s0f0 (ifindex 7), TotalVFs 64 in the capability but
 *    sriov_totalvfs 63 (ixgbe limits it), First VF Offset 128, VF Stride 2
 *    (VFs at 3b:10.0, 3b:10.2, ...), VF device 10ed, host VF driver
 *    ixgbevf (creates a netdev per VF), VF n in IOMMU group 100 + n;
 *  - FH_NVME: QEMU's NVMe PF (1b36:0010, nvme) at 0000:01:00.0, no
 *    netdev, TotalVFs 2, offset 1, stride 1, VF device 0010, VF n in
 *    group 200 + n;
 *  - plus an AHCI controller 0000:00:1f.2 (no SR-IOV) and the root ports.
 */
#ifndef IOVMM_TESTS_SRIOV_FAKE_HOST_H
#define IOVMM_TESTS_SRIOV_FAKE_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "fake_sysfs.h"
#include "sriov/sriov.h"

#define FH_NIC_PF "0000:3b:00.0"
#define FH_NIC_NETDEV "enp59s0f0"
#define FH_NIC_IFINDEX 7
#define FH_NVME_PF "0000:01:00.0"
#define FH_AHCI "0000:00:1f.2"

#define FH_MAX_VFS 64
#define FH_LOG_MAX 256

/* What the fake PF network driver refuses (bits). */
#define FH_NO_TRUST    0x1 /* no ndo_set_vf_trust: EOPNOTSUPP */
#define FH_NO_QINQ     0x2 /* 802.1ad: EPROTONOSUPPORT (ixgbe) */
#define FH_NO_MIN_RATE 0x4 /* min_tx_rate != 0: EINVAL (ixgbe) */
#define FH_NO_SPOOFCHK 0x8

struct fh_vf_state {
	uint8_t mac[6];
	uint16_t vlan, proto;
	uint8_t qos;
	uint32_t spoofchk, trust, min_rate, max_rate, link;
};

struct fh_req {
	int ifindex;
	uint32_t vf;
	int attr;        /* IFLA_VF_* of the request, or -1 for RTM_GETLINK */
	int result;
};

struct fake_host {
	struct fake_sysfs fs;    /* sysfs and the kernel: busy_group, ... */
	char run[160];           /* sriov/'s run dir (leases, tokens) */
	struct sriov_env env;
	/* netlink driver */
	pthread_mutex_t lock;
	unsigned int refuse;     /* FH_NO_* */
	int nl_errno;            /* every netlink request fails with it */
	struct fh_vf_state vfs[FH_MAX_VFS];
	struct fh_req log[FH_LOG_MAX];
	int nlog;
};

extern struct fake_host fh;

/* Build the host (both PFs, 0 VFs, drivers bound) under a new temp dir. */
void fh_setup(void);
void fh_teardown(void);
/* Count of netlink requests of one IFLA_VF_* type for vf (-1 = any). */
int fh_count(int attr, int vf);

#endif
