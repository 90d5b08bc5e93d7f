// SPDX-License-Identifier: MIT
/*
 * Guest RAM. One memfd holds all of it so the same pages can later be handed
 * to a vhost-user back end (VHOST_USER_SET_MEM_TABLE carries the fd) and
 * mapped for DMA by VFIO. The memfd is sealed against shrinking: a peer that
 * maps it must never see its mapping truncated under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/gmem.h"
#include "core/util.h"

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21 << 26)
#endif

static int gmem_open_memfd(const struct gmem_opts *opts, uint64_t *page_size)
{
	unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int fd;

	*page_size = 4 * KiB;
	if (opts->hugepages) {
		flags |= MFD_HUGETLB | MFD_HUGE_2MB;
		*page_size = 2 * MiB;
	}
	fd = memfd_create("iovmm-ram", flags);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)opts->size) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	/* Hugetlbfs memfds do not support sealing; that is not an error. */
	if (!opts->hugepages)
		(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL);
	return fd;
}

static void gmem_layout(struct gmem *mem, const struct gmem_opts *opts)
{
	uint64_t low = opts->size < opts->low_max ? opts->size : opts->low_max;

	mem->regions[0] = (struct gmem_region){
		.gpa = 0, .size = low, .hva = mem->base, .fd_offset = 0,
	};
	mem->nr_regions = 1;
	if (opts->size > low) {
		mem->regions[1] = (struct gmem_region){
			.gpa = opts->high_base,
			.size = opts->size - low,
			.hva = mem->base + low,
			.fd_offset = low,
		};
		mem->nr_regions = 2;
	}
}

int gmem_create(const struct gmem_opts *opts, struct gmem **out)
{
	struct gmem *mem;
	uint64_t page_size;
	int ret;

	if (!opts->size || !opts->low_max || opts->high_base < opts->low_max ||
	    range_overflows(opts->high_base, opts->size))
		return -EINVAL;
	mem = calloc(1, sizeof(*mem));
	if (!mem)
		return -ENOMEM;
	mem->fd = gmem_open_memfd(opts, &page_size);
	if (mem->fd < 0) {
		ret = mem->fd;
		goto err_free;
	}
	if (!IS_ALIGNED(opts->size, page_size) ||
	    !IS_ALIGNED(opts->low_max, page_size)) {
		ret = -EINVAL;
		goto err_close;
	}
	/*
	 * Ordinary RAM is MAP_NORESERVE: it is allocated as the guest touches
	 * it, so a 2 GiB guest that uses 4 MiB costs 4 MiB. Hugepages must be
	 * reserved here instead: without the reservation a guest touching a
	 * page the pool cannot supply would kill iovmm with SIGBUS.
	 */
	mem->base = mmap(NULL, opts->size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | (opts->hugepages ? 0 : MAP_NORESERVE),
			 mem->fd, 0);
	if (mem->base == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	(void)madvise(mem->base, opts->size, MADV_DONTDUMP);
	mem->size = opts->size;
	mem->page_size = page_size;
	gmem_layout(mem, opts);
	*out = mem;
	return 0;

err_close:
	close(mem->fd);
err_free:
	free(mem);
	return ret;
}

void gmem_destroy(struct gmem *mem)
{
	if (!mem)
		return;
	if (mem->base)
		munmap(mem->base, mem->size);
	if (mem->fd >= 0)
		close(mem->fd);
	free(mem);
}

bool gmem_is_ram(const struct gmem *mem, uint64_t gpa, uint64_t len)
{
	return gmem_ptr(mem, gpa, len) != NULL;
}

int gmem_read(const struct gmem *mem, uint64_t gpa, void *buf, size_t len)
{
	void *p;

	if (!len)
		return 0;
	p = gmem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int gmem_write(const struct gmem *mem, uint64_t gpa, const void *buf,
	       size_t len)
{
	void *p;

	if (!len)
		return 0;
	p = gmem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

int gmem_zero(const struct gmem *mem, uint64_t gpa, size_t len)
{
	void *p;

	if (!len)
		return 0;
	p = gmem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memset(p, 0, len);
	return 0;
}

uint64_t gmem_end(const struct gmem *mem)
{
	const struct gmem_region *last = &mem->regions[mem->nr_regions - 1];

	return last->gpa + last->size;
}
