/* SPDX-License-Identifier: MIT */
/*
 * Host-side PCI discovery for VFIO: IOMMU groups, their devices and drivers
 * (read from sysfs), PCI names (libpci and the pci.ids database), and
 * handing a device to vfio-pci and back (driver_override, unbind,
 * drivers_probe). Library code: every function returns 0 or -errno and,
 * when it fails, writes one human-readable sentence into `err`.
 *
 * Where things are read and written is a struct vfio_host_env, so the unit
 * tests run the same code over a fake sysfs tree they build themselves:
 *   sysfs      "/sys" (IOVMM_SYSFS_ROOT overrides): bus/pci/devices/BDF,
 *              bus/pci/drivers/NAME, bus/pci/drivers_probe,
 *              kernel/iommu_groups/N/devices
 *   state_dir  "/run/iovmm/vfio" (IOVMM_RUN_DIR overrides "/run/iovmm"):
 *              one file per bound device remembering its original driver
 *   dev_vfio   "/dev/vfio" (IOVMM_DEV_VFIO overrides): group nodes, opened
 *              only to ask whether a group is in use
 *
 * Group viability follows Linux 6.1 (drivers/vfio/group.c,
 * VFIO_GROUP_GET_STATUS): a group is viable when no device in it is bound
 * to a driver that lets the kernel's DMA API own the IOMMU domain. Since
 * 5.19 (iommu "DMA ownership" series) that is every driver except the few
 * that set `driver_managed_dma`: vfio-pci and its vendor variants
 * (*_vfio_pci), pci-stub, and pcieport (PCIe ports do no DMA of their own;
 * commit "PCI: portdrv: Set driver_managed_dma"). A device with no driver
 * is fine. Before 5.19 the rule was "vfio-pci, pci-stub, no driver, or any
 * driver on a bridge"; pcieport is the only bridge driver in practice, so
 * the two rules agree on real systems.
 */
#ifndef IOVMM_VFIO_HOST_H
#define IOVMM_VFIO_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "dddd:bb:dd.f" plus NUL; sysfs names use a 4-digit domain. */
#define VFIO_HOST_BDF_SIZE 16
#define VFIO_HOST_NAME_SIZE 64

struct vfio_host_env;

/*
 * The two host interactions that have side effects, so tests can play
 * the kernel's part. Both take absolute paths already built from `env`.
 *   write:      write `val` to a sysfs attribute; 0 or -errno (the
 *               kernel's answer, e.g. -EBUSY, -ENODEV, -EACCES).
 *   group_busy: 1 when /dev/vfio/N is held open by someone (the kernel
 *               allows one opener: a second open fails with EBUSY), 0 when
 *               it is free or absent, -errno when it cannot be told.
 */
struct vfio_host_ops {
	int (*write)(const struct vfio_host_env *env, const char *path,
		     const char *val);
	int (*group_busy)(const struct vfio_host_env *env, int group);
};

struct vfio_host_env {
	const char *sysfs;     /* borrowed */
	const char *state_dir; /* borrowed */
	const char *dev_vfio;  /* borrowed */
	const struct vfio_host_ops *ops;
	void *opaque; /* for test ops */
};

/* The real host's sysfs and /dev (with the environment overrides above). */
void vfio_host_env_default(struct vfio_host_env *env);
extern const struct vfio_host_ops vfio_host_sysfs_ops;

enum vfio_host_sriov_role {
	VFIO_HOST_SRIOV_NONE,
	VFIO_HOST_SRIOV_PF, /* has sriov_totalvfs */
	VFIO_HOST_SRIOV_VF, /* has physfn */
};

struct vfio_host_dev {
	char bdf[VFIO_HOST_BDF_SIZE];
	uint16_t vendor, device;
	uint32_t class_code; /* 24 bits: base class, subclass, prog-if */
	bool bridge;         /* header type 1/2 (from the class code) */
	char driver[VFIO_HOST_NAME_SIZE];   /* "" when none */
	char override[VFIO_HOST_NAME_SIZE]; /* driver_override, "" when none */
	int group;           /* IOMMU group, -1 when the device has none */
	enum vfio_host_sriov_role role;
	unsigned int totalvfs, numvfs;      /* PF */
	char physfn[VFIO_HOST_BDF_SIZE];    /* VF: its PF */
};

struct vfio_host_group {
	int id;
	size_t ndevs;
	struct vfio_host_dev *devs; /* sorted by BDF */
	bool viable;
	int blocker; /* index of the first device that blocks it, or -1 */
};

struct vfio_host_list {
	size_t ngroups;
	struct vfio_host_group *groups; /* sorted by id */
};

/*
 * Canonical BDF from "0000:01:00.1", "01:00.1" (domain 0) or a sysfs path
 * ending in a full BDF ("/sys/bus/pci/devices/0000:01:00.1"). Hex digits in
 * either case. -EINVAL (with a message) for anything else.
 */
int vfio_host_parse_bdf(const char *s, char out[VFIO_HOST_BDF_SIZE],
			char *err, size_t errlen);

/* True for drivers under which a group stays viable (see above). */
bool vfio_host_driver_dma_safe(const char *driver);

/*
 * One device's sysfs view. -ENODEV with "no PCI device BDF" when it does
 * not exist.
 */
int vfio_host_dev_read(const struct vfio_host_env *env, const char *bdf,
		       struct vfio_host_dev *out, char *err, size_t errlen);

/*
 * Every IOMMU group and its devices. -ENOENT with the "IOMMU is off"
 * message when /sys/kernel/iommu_groups is missing or empty. The list is
 * the caller's: free it with vfio_host_list_free() (idempotent).
 */
int vfio_host_list_groups(const struct vfio_host_env *env,
			  struct vfio_host_list *out, char *err,
			  size_t errlen);
void vfio_host_list_free(struct vfio_host_list *list);

/*
 * One group's PCI devices (other bus types in the group are skipped).
 * -ENOENT (with a message) for no such group. Free with
 * vfio_host_group_free() (idempotent).
 */
int vfio_host_group_read(const struct vfio_host_env *env, int group,
			 struct vfio_host_group *out, char *err,
			 size_t errlen);
void vfio_host_group_free(struct vfio_host_group *g);

/*
 * One group (0 = viable). -EPERM when a device blocks it, with "group N is
 * not viable: BDF is bound to DRIVER" in err; -ENOENT for no such group.
 */
int vfio_host_group_check(const struct vfio_host_env *env, int group,
			  char *err, size_t errlen);

#define VFIO_HOST_GROUP 0x1 /* every device of the BDF's group */

/*
 * Hand BDF (or its group) to vfio-pci: remember the original driver and
 * driver_override in state_dir, write "vfio-pci" to driver_override,
 * unbind the current driver, write BDF to drivers_probe, then check that
 * vfio-pci took it. Every device is checked before anything is written.
 * Refusals (-errno, message): ENODEV no such device; EINVAL a bridge (not
 * with VFIO_HOST_GROUP, where bridges are left to pcieport); EBUSY a PF
 * with VFs enabled, or a group held open through /dev/vfio/N; ENOENT
 * vfio-pci is not loaded; EACCES not root; EIO vfio-pci did not bind.
 * A device already on vfio-pci is left alone.
 */
int vfio_host_bind(const struct vfio_host_env *env, const char *bdf,
		   unsigned int flags, char *err, size_t errlen);

/*
 * Give BDF (or its group) back: refuse (-EBUSY) while the group is open,
 * clear driver_override, unbind from vfio-pci and rebind the driver
 * remembered at bind time (through a temporary driver_override, which also
 * works for VFs whose PF has sriov_drivers_autoprobe=0); a device bound
 * by someone else is reprobed and gets whatever the kernel picks; one that
 * had no driver is left without. -EINVAL when BDF is not on vfio-pci.
 */
int vfio_host_unbind(const struct vfio_host_env *env, const char *bdf,
		     unsigned int flags, char *err, size_t errlen);

/*
 * PCI names from the pci.ids database through libpci (udev's hwdb and DNS
 * lookups are off: the answer depends only on the file). Owns a
 * struct pci_access. Not thread-safe; one per thread.
 */
struct vfio_host_names;

/* ids: a pci.ids path, or NULL for libpci's default. */
int vfio_host_names_create(const char *ids, struct vfio_host_names **out);
void vfio_host_names_destroy(struct vfio_host_names *n);
/* Each writes the name, or "" when the database does not know the id. */
void vfio_host_names_vendor(struct vfio_host_names *n, uint16_t vendor,
			    char *buf, size_t len);
void vfio_host_names_device(struct vfio_host_names *n, uint16_t vendor,
			    uint16_t device, char *buf, size_t len);
/* class_code: 24 bits; the prog-if name is appended when it has one. */
void vfio_host_names_class(struct vfio_host_names *n, uint32_t class_code,
			   char *buf, size_t len);

#endif
