/* SPDX-License-Identifier: MIT */
/*
 * Host DMA policy for assigned devices: what of guest memory the host IOMMU
 * maps, where, and in how many pieces.
 *
 * Policy: all guest RAM is mapped at IOVA = GPA before the guest runs, so a
 * device the guest programs with guest-physical addresses reaches exactly
 * guest RAM and nothing else (a DMA to any other address faults in the host
 * IOMMU). One entry per RAM region (the IOMMU driver picks its largest page
 * sizes itself, 2 MiB/1 GiB for hugepage-backed RAM), which keeps far below
 * the host's DMA-entry limit (vfio_iommu_type1.dma_entry_limit, 65535 by
 * default).
 *
 * The IOMMU reports the IOVA ranges it can map; the rest is reserved (on
 * x86 at least the MSI window 0xfee00000-0xfeefffff, plus RMRRs and the
 * address-width limit). Guest RAM never overlaps the MSI window in iovmm's
 * layout (core/layout.h), but a host with a narrow IOMMU address width or
 * an RMRR inside low RAM may cut a RAM region. Default: refuse with a clear
 * error, because a device DMA to the unmapped part would fault and the guest
 * would lose data silently; with allow_holes the region is split around the
 * reserved range and the holes are reported.
 *
 * The mapper itself is an ops table, so the policy runs unchanged over the
 * kernel's type1 container (vfio/container.c), iommufd later, or a test
 * double that records the calls.
 */
#ifndef IOVMM_IOMMU_DMA_H
#define IOVMM_IOMMU_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gmem.h"

#define IOMMU_DMA_MAX_ENTRIES 64

/* An IOVA range the IOMMU can map: [start, last], inclusive like VFIO's. */
struct iommu_iova_range {
	uint64_t start;
	uint64_t last;
};

struct iommu_dma_limits {
	const struct iommu_iova_range *ranges; /* sorted; NULL: all of 64 bits */
	unsigned nr_ranges;
	uint64_t pgsize_mask;  /* supported IOMMU page sizes; 0: 4 KiB */
	uint32_t max_entries;  /* mappings still available; 0: unknown */
	bool allow_holes;      /* split RAM around reserved ranges */
};

struct iommu_dma_entry {
	uint64_t iova;
	uint64_t size;
	void *hva;
};

struct iommu_dma_mapper;
struct iommu_dma_mapper_ops {
	/* Map e read/write for the device. 0 or -errno. */
	int (*map)(struct iommu_dma_mapper *m, const struct iommu_dma_entry *e);
	int (*unmap)(struct iommu_dma_mapper *m,
		     const struct iommu_dma_entry *e);
};
/* Embedded by the transport; container_of() gets back to it. */
struct iommu_dma_mapper {
	const struct iommu_dma_mapper_ops *ops;
};

/*
 * Pure planning: cut nr RAM regions into IOVA = GPA entries that fit the
 * limits. On success *nr_out entries are in out (at most max) and
 * *hole_bytes says how much RAM was left out (0 unless allow_holes).
 * Errors, with a one-line reason in err: -ERANGE (RAM in a reserved range,
 * or not aligned to the IOMMU page size), -ENOSPC (more entries than
 * max_entries or max).
 */
int iommu_dma_plan(const struct gmem_region *regions, unsigned nr,
		   const struct iommu_dma_limits *lim,
		   struct iommu_dma_entry *out, unsigned max, unsigned *nr_out,
		   uint64_t *hole_bytes, char *err, size_t errlen);

struct iommu_dma;

/*
 * Plan and map all of mem's RAM through m, timing it. m and mem are
 * borrowed and must outlive the returned object. On a mapping failure
 * everything mapped so far is unmapped again.
 */
int iommu_dma_create(struct iommu_dma_mapper *m, const struct gmem *mem,
		     const struct iommu_dma_limits *lim, struct iommu_dma **out,
		     char *err, size_t errlen);
/* Unmap every entry (timed) and free. Idempotent on NULL. */
void iommu_dma_destroy(struct iommu_dma *d);

struct iommu_dma_stats {
	unsigned entries;
	uint64_t bytes;       /* RAM mapped */
	uint64_t hole_bytes;  /* RAM left unmapped (allow_holes) */
	uint64_t map_ns;      /* wall time of all map calls */
	uint64_t page_size;   /* backing page size of guest RAM */
};
void iommu_dma_get_stats(const struct iommu_dma *d, struct iommu_dma_stats *s);
/* The mapped entries, for logs and tests. */
const struct iommu_dma_entry *iommu_dma_entries(const struct iommu_dma *d,
						 unsigned *nr);

#endif
