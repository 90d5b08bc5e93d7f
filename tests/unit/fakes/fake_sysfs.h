/* SPDX-License-Identifier: MIT */
/*
 * A fake host for the tests of vfio/ and sriov/: a temporary directory
 * with a /sys tree laid out and linked the way the kernel does it, an
 * empty /dev and a run directory, and a fake kernel behind vfio_host_ops
 * (fs->env) that answers sysfs writes as the PCI core does.
 *
 * The tree: PCI functions under devices/pci0000:00/[BRIDGE/]BDF with
 * vendor, device, class, driver_override and a config file (4 KiB: a PCI
 * Express capability, an AER header to walk past, and for a PF the SR-IOV
 * capability at FAKE_SYSFS_SRIOV_CAP; header type 1 for a PCI-PCI bridge),
 * linked from bus/pci/devices/BDF; driver links into bus/pci/drivers/DRV
 * (each driver with bind and unbind files); iommu_group links and
 * kernel/iommu_groups/G/devices/BDF; for a PF sriov_totalvfs,
 * sriov_numvfs, sriov_drivers_autoprobe and virtfnN links, for a VF a
 * physfn link; network interfaces as net/NAME/{ifindex,address} with
 * class/net/NAME and NAME/device links. Every link is relative, as the
 * kernel's are.
 *
 * The fake kernel (fs->env.ops->write, as pci-sysfs.c and pci-driver.c):
 *  - devices/BDF/driver_override: stored; "" or "\n" clears it ("(null)");
 *  - drivers/DRV/unbind: unlinks the driver (and the function's network
 *    interfaces) when DRV has it, else -ENODEV;
 *  - drivers_probe: binds the override, else the function's native driver
 *    (for a VF: its PF's VF driver, only while the PF's
 *    sriov_drivers_autoprobe is 1), if that driver is loaded (has a
 *    directory). vfio-pci's probe refuses a bridge, a PF with VFs enabled
 *    and fs->vfio_refuses; the refusal is swallowed (no driver, return 0);
 *  - PF sriov_drivers_autoprobe: stored;
 *  - PF sriov_numvfs: VFs appear or go as pci_enable_sriov() and
 *    pci_disable_sriov() make them (siblings of the PF, at First VF Offset
 *    and VF Stride, each in its own group); -ENOENT when the PF has no
 *    driver, -ERANGE above sriov_totalvfs, -EBUSY from one non-zero count
 *    to another;
 *  - any other write fails the test.
 * Every write is counted and the first FAKE_SYSFS_LOG are logged as
 * "path/below/sys=value" (the value up to its newline) before write_errno
 * is applied. group_busy() is true for busy_group.
 *
 * What the kernel keeps is on disk, so forked children see and change the
 * same host; the log, the knobs and the device models are per process.
 * Writes are serialized (thread-safe); the set-up calls are not.
 * Everything asserts (Check) instead of returning errors.
 */
#ifndef IOVMM_TEST_FAKE_SYSFS_H
#define IOVMM_TEST_FAKE_SYSFS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/host.h"

#define FAKE_SYSFS_NO_GROUP -1
#define FAKE_SYSFS_SRIOV_CAP 0x160 /* where a PF's SR-IOV capability sits */
#define FAKE_SYSFS_MAX_DEVS 32     /* fake_sysfs_add()s; VFs do not count */
#define FAKE_SYSFS_LOG 64

/* An SR-IOV PF: its capability (PCIe 6.0 §9.3.3) and its driver. */
struct fake_sysfs_sriov {
	unsigned int cap_total;    /* TotalVFs and InitialVFs */
	unsigned int sysfs_total;  /* sriov_totalvfs (a driver may lower it) */
	unsigned int offset, stride; /* First VF Offset, VF Stride */
	uint16_t vf_device;        /* VF Device ID */
	const char *vf_driver;     /* what autoprobe binds to a VF, or NULL */
	int vf_group;              /* VF n is alone in group vf_group + n */
};

/* One PCI function (its strings are borrowed until fake_sysfs_destroy). */
struct fake_sysfs_dev {
	const char *bdf;         /* "0000:01:00.0" */
	const char *parent;      /* the bridge it sits behind (added before
				  * it); NULL: the root bus */
	uint16_t vendor, device;
	uint32_t class_code;     /* 24 bits */
	const char *driver;      /* bound when added; NULL: none */
	const char *native;      /* what drivers_probe binds without an
				  * override; NULL: the same as driver */
	int group;               /* IOMMU group, or FAKE_SYSFS_NO_GROUP */
	bool no_config;          /* no config file (the class says "bridge") */
	const struct fake_sysfs_sriov *sriov; /* a PF (0 VFs); NULL: not one */
};

struct fake_sysfs {
	char root[64];   /* the temporary directory */
	char sys[96];    /* its /sys */
	char dev[96];    /* its /dev */
	char run[96];    /* its /run/iovmm (not created) */
	char state[128]; /* run/vfio: vfio/host.c's bind records */
	char dev_vfio[128];
	/* sysfs = sys, state_dir = state, dev_vfio, ops = the fake kernel,
	 * opaque = this (copies work: the kernel finds fs through opaque). */
	struct vfio_host_env env;

	/* Knobs of the fake kernel, set by the tests. */
	int busy_group;           /* group_busy() for it; -1: none */
	int write_errno;          /* every write fails with it, if set */
	const char *vfio_refuses; /* vfio-pci's probe fails on this BDF */
	/* Called after a driver is bound (also by drivers_probe and
	 * autoprobe), e.g. to give the function a network interface. */
	void (*on_bind)(struct fake_sysfs *fs, const char *bdf,
			const char *drv);

	/* The kernel's log: tests may reset nwrites. */
	int nwrites;
	char writes[FAKE_SYSFS_LOG][256];

	/* Private. */
	pthread_mutex_t lock;
	struct fake_sysfs_dev devs[FAKE_SYSFS_MAX_DEVS];
	size_t ndevs;
};

/* A new host under /tmp/NAME-XXXXXX: the empty skeleton of /sys (bus/pci,
 * class/net, kernel/iommu_groups, devices/pci0000:00) and /dev. */
void fake_sysfs_create(struct fake_sysfs *fs, const char *name);
/* Removes the directory; idempotent. */
void fake_sysfs_destroy(struct fake_sysfs *fs);

/* A loaded driver: bus/pci/drivers/DRV with bind and unbind files. */
void fake_sysfs_add_driver(struct fake_sysfs *fs, const char *drv);
/* A function as described; its driver is loaded and bound. */
void fake_sysfs_add(struct fake_sysfs *fs, const struct fake_sysfs_dev *d);
/* A network interface of bdf (ifindex > 0, mac "aa:bb:..."). */
void fake_sysfs_add_netdev(struct fake_sysfs *fs, const char *bdf,
			   const char *name, int ifindex, const char *mac);
/* An empty file at /dev/REL (e.g. "vfio/vfio"), its directories made. */
void fake_sysfs_add_devnode(struct fake_sysfs *fs, const char *rel);

/* Links bdf to drv directly (a host driver has it), loading drv. */
void fake_sysfs_bind(struct fake_sysfs *fs, const char *bdf, const char *drv);
/* n VFs of pf, as the kernel would on sriov_numvfs (with autoprobe set
 * first); neither logged nor failed by write_errno; asserts success. */
void fake_sysfs_enable_vfs(struct fake_sysfs *fs, const char *pf,
			   unsigned int n, bool autoprobe);

/* The first line of sys/REL into buf: 0 or -errno (buf then ""). */
int fake_sysfs_read(const struct fake_sysfs *fs, const char *rel, char *buf,
		    size_t len);
/* The same for bus/pci/devices/BDF/ATTR. */
int fake_sysfs_attr(const struct fake_sysfs *fs, const char *bdf,
		    const char *attr, char *buf, size_t len);
/* The driver bdf is bound to, "" when none. */
void fake_sysfs_driver(const struct fake_sysfs *fs, const char *bdf,
		       char *buf, size_t len);

/* File helpers for the tests' own fixtures: mkdir -p, and a file that
 * holds text (replaced). */
void fake_sysfs_mkdirs(const char *path);
void fake_sysfs_put(const char *path, const char *text);

#endif
