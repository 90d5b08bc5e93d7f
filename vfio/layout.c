// SPDX-License-Identifier: MIT
/* BAR layout: mmapped spans vs trapped spans (see layout.h). */
#include <errno.h>
#include <linux/vfio.h>
#include <stdlib.h>

#include "core/util.h"
#include "vfio/layout.h"

/* Boundaries: 0, size, and both ends of every area and exclusion. */
#define MAX_CUTS (2 + 2 * VFIO_MAX_AREAS + 2 * 8)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool in_any(uint64_t at, const struct vfio_range *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (at >= r[i].off && at - r[i].off < r[i].size)
			return true;
	return false;
}

/* Can [at, ...) be mmapped: inside a (page-trimmed) area, not excluded? */
static bool span_mappable(uint64_t at, const struct vfio_range *areas,
			  unsigned na, const struct vfio_range *ex, unsigned ne)
{
	return in_any(at, areas, na) && !in_any(at, ex, ne);
}

int vfio_bar_layout(const struct vfio_region *r, bool allow_mmap,
		    const struct vfio_range *excl, unsigned nr_excl,
		    uint64_t page_size, struct vfio_bar_span *out,
		    unsigned max)
{
	struct vfio_range areas[VFIO_MAX_AREAS], ex[8];
	uint64_t cuts[MAX_CUTS];
	unsigned na = 0, ne = 0, nc = 0;
	int n = 0;

	if (!IS_POW2(page_size) || nr_excl > 8)
		return -EINVAL;
	if (!r->size)
		return 0;
	if (allow_mmap && (r->flags & VFIO_REGION_INFO_FLAG_MMAP) &&
	    r->size >= page_size) {
		if (!r->sparse) {
			areas[na++] = (struct vfio_range){ 0, r->size };
		} else {
			for (unsigned i = 0; i < r->nr_areas && i < VFIO_MAX_AREAS; i++) {
				/* Only whole pages inside the region. */
				uint64_t s = ALIGN_UP(r->areas[i].off, page_size);
				uint64_t e = r->areas[i].off + r->areas[i].size;

				if (range_overflows(r->areas[i].off, r->areas[i].size) ||
				    e > r->size)
					e = r->size;
				e = ALIGN_DOWN(e, page_size);
				if (s < e)
					areas[na++] = (struct vfio_range){ s, e - s };
			}
		}
	}
	for (unsigned i = 0; i < nr_excl; i++) {
		uint64_t s, e;

		if (!excl[i].size || excl[i].off >= r->size)
			continue;
		s = ALIGN_DOWN(excl[i].off, page_size);
		e = excl[i].size > r->size - excl[i].off ? r->size :
			excl[i].off + excl[i].size;
		e = ALIGN_UP(e, page_size);
		if (e > r->size)
			e = r->size;
		ex[ne++] = (struct vfio_range){ s, e - s };
	}
	cuts[nc++] = 0;
	cuts[nc++] = r->size;
	for (unsigned i = 0; i < na; i++) {
		cuts[nc++] = areas[i].off;
		cuts[nc++] = areas[i].off + areas[i].size;
	}
	for (unsigned i = 0; i < ne; i++) {
		cuts[nc++] = ex[i].off;
		cuts[nc++] = ex[i].off + ex[i].size;
	}
	qsort(cuts, nc, sizeof(cuts[0]), cmp_u64);
	for (unsigned i = 0; i + 1 < nc; i++) {
		uint64_t s = cuts[i], e = cuts[i + 1];
		bool mm;

		if (s == e || e > r->size)
			continue;
		mm = span_mappable(s, areas, na, ex, ne);
		if (n > 0 && out[n - 1].mmap == mm &&
		    out[n - 1].off + out[n - 1].size == s) {
			out[n - 1].size += e - s;
			continue;
		}
		if ((unsigned)n == max)
			return -E2BIG;
		out[n++] = (struct vfio_bar_span){ .off = s, .size = e - s,
						   .mmap = mm };
	}
	return n;
}
