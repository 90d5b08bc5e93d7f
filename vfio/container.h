/* SPDX-License-Identifier: MIT */
/*
 * The kernel VFIO type1 backend (vfio/backend.h: vfio_type1_backend): one
 * container (/dev/vfio/vfio) per VM, the IOMMU groups it owns (/dev/vfio/N,
 * whole groups are assigned: every device of a group shares the group fd),
 * and device fds wrapped as struct vfio_device (vfio/device.h).
 *
 * The container is opened by the first open_device; the first group
 * attached sets the IOMMU model (VFIO_TYPE1v2_IOMMU), reads the IOMMU's
 * IOVA ranges and DMA-entry limit, and maps all guest RAM at IOVA = GPA
 * (iommu/dma.h) before any device is handed out. Groups stay attached until
 * the backend is destroyed (see struct vfio_group_hook). Not thread-safe:
 * used at VM creation and destruction only.
 *
 * What is left here is type1's own, for the unit tests and logs.
 */
#ifndef IOVMM_VFIO_CONTAINER_H
#define IOVMM_VFIO_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "iommu/dma.h"
#include "vfio/backend.h"

#define VFIO_MAX_GROUPS      16
#define VFIO_MAX_IOVA_RANGES 16

/* What the IOMMU reported (after the first group). */
struct vfio_iommu_caps {
	uint64_t pgsizes;
	unsigned nr_ranges;
	struct iommu_iova_range ranges[VFIO_MAX_IOVA_RANGES];
	uint32_t dma_avail;  /* 0: not reported */
};
/* b must be a vfio_type1_backend instance. */
void vfio_type1_iommu_caps(const struct vfio_backend *b,
			   struct vfio_iommu_caps *out);

/*
 * Walk a VFIO info capability chain in buf[0, len) starting at first;
 * returns the offset of capability id or 0. Bounded against loops and
 * out-of-range offsets (exposed for the unit tests).
 */
uint32_t vfio_info_cap_find(const void *buf, size_t len, uint32_t first,
			    uint16_t id);

#endif
