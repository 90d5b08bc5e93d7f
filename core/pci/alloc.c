// SPDX-License-Identifier: MIT
/*
 * Range allocator: a sorted array of used [start, last] ranges. The number
 * of ranges is small (BARs, GSIs, IOVA mappings of one guest), so a flat
 * array with memmove beats a tree on simplicity and cache behaviour.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/pci/alloc.h"
#include "core/util.h"

struct ra_range {
	uint64_t start;
	uint64_t last; /* inclusive */
};

struct range_alloc {
	uint64_t base;
	uint64_t last;          /* inclusive end of the window */
	pthread_mutex_t lock;   /* guards used, nr, cap */
	struct ra_range *used;  /* sorted by start, disjoint */
	size_t nr;
	size_t cap;
};

int range_alloc_create(uint64_t base, uint64_t size, struct range_alloc **out)
{
	struct range_alloc *ra;

	if (size == 0 || range_overflows(base, size))
		return -EINVAL;
	ra = calloc(1, sizeof(*ra));
	if (!ra)
		return -ENOMEM;
	ra->base = base;
	ra->last = base + size - 1;
	pthread_mutex_init(&ra->lock, NULL);
	*out = ra;
	return 0;
}

void range_alloc_destroy(struct range_alloc *ra)
{
	if (!ra)
		return;
	pthread_mutex_destroy(&ra->lock);
	free(ra->used);
	free(ra);
}

/* Insert at index i; the caller checked that it keeps the array sorted. */
static int ra_insert(struct range_alloc *ra, size_t i, uint64_t start,
		     uint64_t last)
{
	if (ra->nr == ra->cap) {
		size_t cap = ra->cap ? ra->cap * 2 : 16;
		struct ra_range *n = realloc(ra->used, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		ra->used = n;
		ra->cap = cap;
	}
	memmove(&ra->used[i + 1], &ra->used[i], (ra->nr - i) * sizeof(*ra->used));
	ra->used[i] = (struct ra_range){ .start = start, .last = last };
	ra->nr++;
	return 0;
}

/*
 * Try to place size bytes aligned to align inside the gap [lo, hi]. The
 * arithmetic is done so that nothing wraps at 2^64.
 */
static bool ra_fit(uint64_t lo, uint64_t hi, uint64_t size, uint64_t align,
		   uint64_t *addr)
{
	uint64_t a = ALIGN_UP(lo, align);

	if (a < lo || a > hi) /* aligning wrapped, or left the gap */
		return false;
	if (size - 1 > hi - a)
		return false;
	*addr = a;
	return true;
}

int range_alloc_alloc(struct range_alloc *ra, uint64_t size, uint64_t align,
		      uint64_t *addr_out)
{
	uint64_t lo, addr;
	int ret = -ENOSPC;
	size_t i;

	if (size == 0 || !IS_POW2(align))
		return -EINVAL;
	pthread_mutex_lock(&ra->lock);
	lo = ra->base;
	for (i = 0; i <= ra->nr; i++) {
		bool last_gap = i == ra->nr;
		uint64_t hi;

		if (!last_gap && ra->used[i].start == lo) {
			/* no gap before this range */
		} else {
			hi = last_gap ? ra->last : ra->used[i].start - 1;
			if (ra_fit(lo, hi, size, align, &addr)) {
				ret = ra_insert(ra, i, addr, addr + size - 1);
				if (!ret)
					*addr_out = addr;
				break;
			}
		}
		if (last_gap || ra->used[i].last == ra->last)
			break;
		lo = ra->used[i].last + 1;
	}
	pthread_mutex_unlock(&ra->lock);
	return ret;
}

int range_alloc_reserve(struct range_alloc *ra, uint64_t addr, uint64_t size)
{
	uint64_t last;
	size_t i;
	int ret;

	if (size == 0 || range_overflows(addr, size))
		return -EINVAL;
	last = addr + size - 1;
	if (addr < ra->base || last > ra->last)
		return -EINVAL;
	pthread_mutex_lock(&ra->lock);
	for (i = 0; i < ra->nr && ra->used[i].start <= last; i++) {
		if (ra->used[i].last >= addr) {
			pthread_mutex_unlock(&ra->lock);
			return -EEXIST;
		}
	}
	ret = ra_insert(ra, i, addr, last);
	pthread_mutex_unlock(&ra->lock);
	return ret;
}

int range_alloc_free(struct range_alloc *ra, uint64_t addr)
{
	size_t lo = 0, hi;
	int ret = -ENOENT;

	pthread_mutex_lock(&ra->lock);
	hi = ra->nr;
	while (lo < hi) { /* binary search for start == addr */
		size_t mid = lo + (hi - lo) / 2;

		if (ra->used[mid].start < addr) {
			lo = mid + 1;
		} else if (ra->used[mid].start > addr) {
			hi = mid;
		} else {
			memmove(&ra->used[mid], &ra->used[mid + 1],
				(ra->nr - mid - 1) * sizeof(*ra->used));
			ra->nr--;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&ra->lock);
	return ret;
}
