// SPDX-License-Identifier: MIT
/* Host DMA policy: guest RAM at IOVA = GPA, few entries, never in a hole. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "iommu/dma.h"

struct iommu_dma {
	struct iommu_dma_mapper *m; /* borrowed */
	unsigned nr;
	struct iommu_dma_entry e[IOMMU_DMA_MAX_ENTRIES];
	struct iommu_dma_stats stats;
};

static const char *const who = "iommu-dma";

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Smallest IOMMU page: every entry must start and end on it. */
static uint64_t min_page(const struct iommu_dma_limits *lim)
{
	uint64_t m = lim->pgsize_mask;

	return m ? m & -m : 4096;
}

static const struct iommu_iova_range all_of_64 = { 0, UINT64_MAX };

/*
 * Cut one region [gpa, end] against the valid ranges. Pieces go to out;
 * the bytes of the region outside every range are counted in *holes and
 * the first of them is reported through *hole_at.
 */
static int plan_region(const struct gmem_region *r,
		       const struct iommu_dma_limits *lim, uint64_t page,
		       struct iommu_dma_entry *out, unsigned max, unsigned *n,
		       uint64_t *holes, uint64_t *hole_at)
{
	const struct iommu_iova_range *rg = lim->ranges ? lim->ranges : &all_of_64;
	unsigned nr = lim->ranges ? lim->nr_ranges : 1;
	uint64_t last = r->gpa + r->size - 1, covered = 0;
	bool first_hole = *holes == 0;

	for (unsigned i = 0; i < nr; i++) {
		uint64_t s = rg[i].start > r->gpa ? rg[i].start : r->gpa;
		uint64_t e = rg[i].last < last ? rg[i].last : last;

		if (rg[i].start > rg[i].last || s > e)
			continue;
		/* A range edge inside a page: only whole pages are mapped. */
		s = ALIGN_UP(s, page);
		if (e != UINT64_MAX)
			e = ALIGN_DOWN(e + 1, page) - 1;
		if (s > e || s < r->gpa)
			continue;
		if (*n >= max)
			return -ENOSPC;
		out[*n] = (struct iommu_dma_entry){
			.iova = s, .size = e - s + 1,
			.hva = r->hva + (s - r->gpa),
		};
		covered += e - s + 1;
		(*n)++;
	}
	if (covered < r->size) {
		if (first_hole) {
			/* Report the first uncovered address of the region. */
			uint64_t at = r->gpa;

			for (unsigned i = 0; i < *n; i++)
				if (out[i].iova == at)
					at += out[i].size;
			*hole_at = at;
		}
		*holes += r->size - covered;
	}
	return 0;
}

int iommu_dma_plan(const struct gmem_region *regions, unsigned nr,
		   const struct iommu_dma_limits *lim,
		   struct iommu_dma_entry *out, unsigned max, unsigned *nr_out,
		   uint64_t *hole_bytes, char *err, size_t errlen)
{
	uint64_t page = min_page(lim), holes = 0, hole_at = 0;
	unsigned n = 0;
	int ret;

	for (unsigned i = 0; i < nr; i++) {
		const struct gmem_region *r = &regions[i];

		if (!r->size)
			continue;
		if (range_overflows(r->gpa, r->size) || !IS_ALIGNED(r->gpa, page) ||
		    !IS_ALIGNED(r->size, page)) {
			log_errf(err, errlen,
				 "guest RAM 0x%llx+0x%llx is not aligned to the host IOMMU page size 0x%llx",
				 (unsigned long long)r->gpa,
				 (unsigned long long)r->size,
				 (unsigned long long)page);
			return -ERANGE;
		}
		ret = plan_region(r, lim, page, out, max, &n, &holes, &hole_at);
		if (ret) {
			log_errf(err, errlen,
				 "guest RAM needs more than %u IOMMU mappings",
				 max);
			return ret;
		}
	}
	if (holes && !lim->allow_holes) {
		log_errf(err, errlen,
			 "guest RAM at 0x%llx (%llu KiB in all) lies outside the IOVA ranges the host IOMMU can map (reserved or beyond its address width); a device DMA there would fault: use less guest RAM",
			 (unsigned long long)hole_at,
			 (unsigned long long)(holes >> 10));
		return -ERANGE;
	}
	if (lim->max_entries && n > lim->max_entries) {
		log_errf(err, errlen,
			 "guest RAM needs %u IOMMU mappings but the host allows only %u more (vfio_iommu_type1.dma_entry_limit)",
			 n, lim->max_entries);
		return -ENOSPC;
	}
	*nr_out = n;
	if (hole_bytes)
		*hole_bytes = holes;
	return 0;
}

int iommu_dma_create(struct iommu_dma_mapper *m, const struct gmem *mem,
		     const struct iommu_dma_limits *lim, struct iommu_dma **out,
		     char *err, size_t errlen)
{
	struct iommu_dma *d = calloc(1, sizeof(*d));
	uint64_t t0;
	int ret;

	if (!d)
		return -ENOMEM;
	d->m = m;
	ret = iommu_dma_plan(mem->regions, mem->nr_regions, lim, d->e,
			     IOMMU_DMA_MAX_ENTRIES, &d->nr,
			     &d->stats.hole_bytes, err, errlen);
	if (ret)
		goto err_free;
	t0 = now_ns();
	for (unsigned i = 0; i < d->nr; i++) {
		ret = m->ops->map(m, &d->e[i]);
		if (ret) {
			log_errf(err, errlen,
				 "cannot map guest RAM 0x%llx+0x%llx for DMA: %s%s",
				 (unsigned long long)d->e[i].iova,
				 (unsigned long long)d->e[i].size,
				 strerror(-ret),
				 ret == -ENOMEM ? " (locked memory limit? ulimit -l)" : "");
			while (i-- > 0)
				m->ops->unmap(m, &d->e[i]);
			goto err_free;
		}
		d->stats.bytes += d->e[i].size;
	}
	d->stats.map_ns = now_ns() - t0;
	d->stats.entries = d->nr;
	d->stats.page_size = mem->page_size;
	if (d->stats.hole_bytes)
		log_warn(who, "%llu KiB of guest RAM is not DMA-mapped (reserved IOVA ranges)",
			 (unsigned long long)(d->stats.hole_bytes >> 10));
	*out = d;
	return 0;

err_free:
	free(d);
	return ret;
}

void iommu_dma_destroy(struct iommu_dma *d)
{
	if (!d)
		return;
	for (unsigned i = d->nr; i-- > 0;) {
		int ret = d->m->ops->unmap(d->m, &d->e[i]);

		if (ret)
			log_warn(who, "unmapping IOVA 0x%llx+0x%llx: %s",
				 (unsigned long long)d->e[i].iova,
				 (unsigned long long)d->e[i].size,
				 strerror(-ret));
	}
	free(d);
}

void iommu_dma_get_stats(const struct iommu_dma *d, struct iommu_dma_stats *s)
{
	if (!d) {
		memset(s, 0, sizeof(*s));
		return;
	}
	*s = d->stats;
}

const struct iommu_dma_entry *iommu_dma_entries(const struct iommu_dma *d,
						 unsigned *nr)
{
	*nr = d ? d->nr : 0;
	return d ? d->e : NULL;
}
