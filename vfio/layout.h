/* SPDX-License-Identifier: MIT */
/*
 * How one BAR of an assigned device is presented to the guest: which parts
 * are host mmaps registered as KVM memory slots (guest accesses never exit)
 * and which are trapped (iovmm emulates or forwards them).
 *
 * Trapped: everything VFIO does not let us mmap (no MMAP flag, outside the
 * sparse mmap areas), BARs smaller than a page (a memory slot is whole
 * pages), BARs the user asked not to mmap, and the pages holding the MSI-X
 * table and PBA, which iovmm must emulate (the guest's MSI-X entries carry
 * guest addresses; the host owns the real table, PCI 3.0 sec 6.8.2) even
 * when the kernel would let us map them (VFIO_REGION_INFO_CAP_MSIX_MAPPABLE).
 */
#ifndef IOVMM_VFIO_LAYOUT_H
#define IOVMM_VFIO_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "vfio/device.h"

#define VFIO_BAR_MAX_SPANS 24

struct vfio_range {
	uint64_t off;
	uint64_t size;
};

struct vfio_bar_span {
	uint64_t off;
	uint64_t size;
	bool mmap;     /* true: host mmap + memslot; false: trapped */
};

/*
 * Cut region r (a BAR) into consecutive spans covering [0, r->size), in
 * order, adjacent spans of the same kind merged. allow_mmap false traps it
 * all. excl are ranges that must be trapped (MSI-X table, PBA); they are
 * widened to page_size boundaries. Returns the number of spans, or -E2BIG
 * when more than max are needed, -EINVAL for a bad page size.
 */
int vfio_bar_layout(const struct vfio_region *r, bool allow_mmap,
		    const struct vfio_range *excl, unsigned nr_excl,
		    uint64_t page_size, struct vfio_bar_span *out,
		    unsigned max);

#endif
