/* SPDX-License-Identifier: MIT */
/*
 * Guest memory: RAM backed by one memfd (so vhost-user back ends and VFIO can
 * map the same pages), split into up to two regions around the 32-bit MMIO
 * hole, and the only sanctioned way to touch guest-physical addresses.
 *
 * Every access goes through gmem_ptr()/gmem_read()/gmem_write(), which fail
 * unless [gpa, gpa + len) lies entirely inside one RAM region. Callers that
 * parse guest structures copy them out first and validate the copy (the guest
 * may change the original while we look at it).
 */
#ifndef IOVMM_GMEM_H
#define IOVMM_GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GMEM_MAX_REGIONS 2

struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;       /* mapping of the memfd at fd_offset */
	uint64_t fd_offset; /* offset of this region inside the memfd */
};

struct gmem {
	int fd;             /* memfd holding all of guest RAM; owned */
	uint64_t size;      /* total RAM bytes */
	uint64_t page_size; /* 4 KiB, or 2 MiB with hugepages */
	uint8_t *base;      /* one mapping of the whole memfd; owned */
	unsigned nr_regions;
	struct gmem_region regions[GMEM_MAX_REGIONS];
};

struct gmem_opts {
	uint64_t size;      /* bytes; multiple of the page size */
	bool hugepages;     /* MFD_HUGETLB (2 MiB); fails if none are free */
	uint64_t low_max;   /* highest end of the low region (layout.h) */
	uint64_t high_base; /* where RAM beyond low_max resumes */
};

/* Create and map guest RAM. Returns 0 or -errno (-ENOMEM, -EINVAL...). */
int gmem_create(const struct gmem_opts *opts, struct gmem **out);
/* Unmap and close. Idempotent on NULL. */
void gmem_destroy(struct gmem *mem);

/*
 * Host pointer for [gpa, gpa + len), or NULL when the range is not entirely
 * inside one RAM region (including when it wraps). len == 0 is refused.
 * Inline: it is on every data path (virtqueues, e1000 rings, DMA).
 */
static inline void *gmem_ptr(const struct gmem *mem, uint64_t gpa,
			     uint64_t len)
{
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct gmem_region *r = &mem->regions[i];
		/* Unsigned: a gpa below the region wraps to a huge offset. */
		uint64_t off = gpa - r->gpa;

		if (off < r->size && len && len <= r->size - off)
			return r->hva + off;
	}
	return NULL;
}

/* Copy in/out of guest RAM. 0, or -EFAULT when the range is not RAM. */
int gmem_read(const struct gmem *mem, uint64_t gpa, void *buf, size_t len);
int gmem_write(const struct gmem *mem, uint64_t gpa, const void *buf,
	       size_t len);
/* Zero a guest range. 0 or -EFAULT. */
int gmem_zero(const struct gmem *mem, uint64_t gpa, size_t len);

/* True when [gpa, gpa + len) is entirely RAM. */
bool gmem_is_ram(const struct gmem *mem, uint64_t gpa, uint64_t len);

/* Highest RAM address + 1 (end of the last region). */
uint64_t gmem_end(const struct gmem *mem);

#endif
