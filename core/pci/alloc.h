/* SPDX-License-Identifier: MIT */
/*
 * A range allocator over [base, base + size) of a 64-bit space: PCI BAR
 * windows now, GSIs and IOVAs later. First fit, naturally aligned on request.
 * Internally locked: safe to call from any thread.
 *
 * Ranges are kept as inclusive [start, last] so a window may end exactly at
 * 2^64 without overflowing.
 */
#ifndef IOVMM_PCI_ALLOC_H
#define IOVMM_PCI_ALLOC_H

#include <stdint.h>

struct range_alloc;

/* -EINVAL when size == 0 or the window wraps past 2^64; -ENOMEM. */
int range_alloc_create(uint64_t base, uint64_t size, struct range_alloc **out);
void range_alloc_destroy(struct range_alloc *ra);

/*
 * Lowest free address aligned to align (a power of two) with size free
 * bytes after it. -EINVAL for size 0 or a bad align, -ENOSPC when nothing
 * fits, -ENOMEM.
 */
int range_alloc_alloc(struct range_alloc *ra, uint64_t size, uint64_t align,
		      uint64_t *addr_out);
/*
 * Mark [addr, addr + size) used. -EINVAL for size 0, a wrapping range or one
 * outside the window; -EEXIST when it overlaps a used range; -ENOMEM.
 */
int range_alloc_reserve(struct range_alloc *ra, uint64_t addr, uint64_t size);
/* Release the range that starts at addr. -ENOENT if none does. */
int range_alloc_free(struct range_alloc *ra, uint64_t addr);

#endif
