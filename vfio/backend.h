/* SPDX-License-Identifier: MIT */
/*
 * A VFIO backend: how one VM reaches host functions for assignment. It
 * opens a function as a struct vfio_device (vfio/device.h: regions, IRQs,
 * resets), maps the VM's guest RAM for the functions' DMA (the policy of
 * iommu/dma.h over the backend's own mapper), and owns what the host
 * functions are opened through (type1: the container and its IOMMU groups;
 * iommufd: /dev/iommu, its IOAS and the vfio cdevs; vfio-user: sockets).
 *
 * One backend instance per VM, chosen once: every assigned device of the
 * VM is opened through it and shares its IOMMU domain and guest RAM
 * mapping. The passthrough PCI device (vfio/vfio.h) is built on an opened
 * struct vfio_device and knows nothing of the backend. Models: crosvm's
 * VfioContainerManager, rust-vmm vfio-ioctls' VfioOps.
 *
 * Lifetime: the backend outlives every device opened through it (release
 * each device, i.e. vfio_pci_destroy(), before vfio_backend_destroy()).
 * Main thread only: used while the VM is built and torn down.
 */
#ifndef IOVMM_VFIO_BACKEND_H
#define IOVMM_VFIO_BACKEND_H

#include <stddef.h>

#include "core/gmem.h"
#include "iommu/dma.h"
#include "vfio/device.h"

/*
 * Told once that the host no longer holds a function open through the
 * backend, so the function may change driver (a pooled SR-IOV VF going
 * back to its pool). What "closed" is depends on the backend: type1 keeps
 * a function's IOMMU group open until the backend is destroyed (a bus
 * reset at teardown needs every group of the bus, and the container's last
 * group takes the IOMMU domain with it), so closed() runs right after that
 * group's fd is closed; a backend without groups calls it once the device
 * itself is closed. Embedded by the owner (container_of); the backend
 * borrows it until closed(), which may free it.
 */
struct vfio_group_hook {
	void (*closed)(struct vfio_group_hook *h);
	struct vfio_group_hook *next;   /* the backend's list, until closed() */
};

/* Where a backend finds the host, and the guest RAM it maps. */
struct vfio_backend_cfg {
	const struct gmem *mem;   /* borrowed, outlives the backend */
	const char *sysfs_root;   /* NULL: "/sys" (tests use a fake tree); copied */
	const char *dev_root;     /* NULL: "/dev"; copied */
};

/* One function to open. Every pointer is borrowed for the call only. */
struct vfio_open_req {
	/* "0000:01:00.1", "01:00.1" or a sysfs device path. */
	const char *host;
	/*
	 * The VF token (a UUID string) when host is a VF of a PF owned by
	 * vfio-pci (sriov_vf_token()), else NULL.
	 */
	const char *vf_token;
	/*
	 * NULL, or a hook the backend takes whatever open_device returns: it
	 * calls it once what the function was opened through is closed, at
	 * once when the open failed before anything was opened.
	 */
	struct vfio_group_hook *on_closed;
};

struct vfio_backend;

struct vfio_backend_ops {
	/*
	 * Check and open req->host for assignment (the backend's own host
	 * checks first, with vfio_backend_type.host_check's messages). The
	 * first open sets up the IOMMU domain and maps guest RAM for DMA.
	 * *out is released with (*out)->ops->release(), before the backend
	 * is destroyed. -errno and a one-line reason in err.
	 */
	int (*open_device)(struct vfio_backend *b, const struct vfio_open_req *req,
			   struct vfio_device **out, char *err, size_t errlen);
	/* Guest RAM DMA mapping statistics (zeros before the first open). */
	void (*dma_stats)(const struct vfio_backend *b,
			  struct iommu_dma_stats *out);
	/*
	 * Unmap guest RAM, close everything, call every hook not called yet,
	 * free b.
	 */
	void (*destroy)(struct vfio_backend *b);
};

struct vfio_backend_type;

/* Embedded by each backend's instance (container_of). */
struct vfio_backend {
	const struct vfio_backend_ops *ops;
	const struct vfio_backend_type *type;
};

/* A kind of backend: what the machine picks once per VM. */
struct vfio_backend_type {
	const char *name;         /* "type1", for messages */
	/*
	 * Read-only checks that host can be opened through this kind of
	 * backend (it exists, is bound to vfio-pci, its IOMMU group is
	 * viable...), to refuse a bad --device before any VM exists; cfg->mem
	 * is not used. Leaves the host unchanged. Errors as open_device's.
	 */
	int (*host_check)(const struct vfio_backend_cfg *cfg, const char *host,
			  char *err, size_t errlen);
	/*
	 * A backend for one VM. Opens nothing on the host yet (the first
	 * open_device does), so a VM without assigned devices costs nothing.
	 */
	int (*create)(const struct vfio_backend_cfg *cfg, struct vfio_backend **out,
		      char *err, size_t errlen);
};

/*
 * The kernel's type1 container with IOMMU groups (vfio/container.c). Its
 * refusals, e.g.
 *   -ENODEV "VFIO is not available: load vfio-pci (modprobe vfio-pci)"
 *   -ENODEV "vfio-pci: no PCI device 0000:01:00.7 (see iovmm vfio list)"
 *   -EBUSY  "0000:01:00.1 is bound to nvme, not vfio-pci: run iovmm vfio
 *            bind 0000:01:00.1"
 *   -EBUSY  "IOMMU group 7 is not viable: 0000:00:1f.3 in the same group
 *            is bound to snd_hda_intel..."
 *   -EPERM  "host has no interrupt remapping; refusing (set
 *            vfio_iommu_type1.allow_unsafe_interrupts=1 to override)"
 */
extern const struct vfio_backend_type vfio_type1_backend;

/* Guest RAM DMA statistics of b; zeros when b is NULL. */
static inline void vfio_backend_dma_stats(const struct vfio_backend *b,
					  struct iommu_dma_stats *out)
{
	if (b) {
		b->ops->dma_stats(b, out);
		return;
	}
	iommu_dma_get_stats(NULL, out);
}

/* Idempotent on NULL. */
static inline void vfio_backend_destroy(struct vfio_backend *b)
{
	if (b)
		b->ops->destroy(b);
}

#endif
