/* SPDX-License-Identifier: MIT */
/*
 * The kernel VFIO type1 transport: one container (/dev/vfio/vfio) per VM,
 * the IOMMU groups it owns (/dev/vfio/N, whole groups are assigned: every
 * device of a group shares the group fd), and device fds wrapped as
 * struct vfio_device (vfio/device.h).
 *
 * The first group attached sets the IOMMU model (VFIO_TYPE1v2_IOMMU), reads
 * the IOMMU's IOVA ranges and DMA-entry limit, and maps all guest RAM at
 * IOVA = GPA (iommu/dma.h) before any device is handed out. Not
 * thread-safe: used at VM creation and destruction only.
 */
#ifndef IOVMM_VFIO_CONTAINER_H
#define IOVMM_VFIO_CONTAINER_H

#include <stddef.h>

#include "core/gmem.h"
#include "iommu/dma.h"
#include "vfio/device.h"

#define VFIO_MAX_GROUPS      16
#define VFIO_MAX_IOVA_RANGES 16

struct vfio_container;

/*
 * Take a reference on *slot, creating the container first when *slot is
 * NULL (open and check /dev/vfio/vfio; mem is borrowed, for the DMA map;
 * dev_root/sysfs_root NULL for "/dev" and "/sys", copied).
 */
int vfio_container_get(struct vfio_container **slot, const struct gmem *mem,
		       const char *dev_root, const char *sysfs_root, char *err,
		       size_t errlen);
/* Drop a reference; the last one unmaps guest RAM, closes all, NULLs *slot. */
void vfio_container_put(struct vfio_container **slot);

/*
 * Open device bdf of IOMMU group `group`: the group is opened and attached
 * the first time (viability, interrupt remapping, IOMMU setup and the guest
 * RAM mapping happen then). vf_token (NULL: none) is the UUID a VF of a
 * vfio-pci-owned PF must present. The device is released with
 * d->ops->release().
 */
int vfio_container_open_device(struct vfio_container *c, int group,
			       const char *bdf, const char *vf_token,
			       struct vfio_device **out, char *err,
			       size_t errlen);

/* What the IOMMU reported (after the first group). For logs and tests. */
struct vfio_iommu_caps {
	uint64_t pgsizes;
	unsigned nr_ranges;
	struct iommu_iova_range ranges[VFIO_MAX_IOVA_RANGES];
	uint32_t dma_avail;  /* 0: not reported */
};
void vfio_container_iommu_caps(const struct vfio_container *c,
			       struct vfio_iommu_caps *out);

/*
 * Walk a VFIO info capability chain in buf[0, len) starting at first;
 * returns the offset of capability id or 0. Bounded against loops and
 * out-of-range offsets (exposed for the unit tests).
 */
uint32_t vfio_info_cap_find(const void *buf, size_t len, uint32_t first,
			    uint16_t id);

#endif
