// SPDX-License-Identifier: MIT
/*
 * The PRP walker (Base §4.1.1, "Physical Region Page Entry and List"),
 * memory page size 4 KiB (CC.MPS = 0):
 *   - PRP1 is the first data page and may carry a dword-aligned offset;
 *   - when the data runs past PRP1's page by at most one page, PRP2 is
 *     that page (offset 0);
 *   - otherwise PRP2 points at a PRP list (qword aligned, may start inside
 *     its page); every list entry is a data page with offset 0, and when
 *     more pages are needed than the list page has entries left, its last
 *     entry points at the next list page instead (chaining).
 * Violations complete the command with PRP Offset Invalid; a data page or
 * a list page outside guest RAM with Data Transfer Error (what a DMA to
 * nowhere gives on real hardware behind an IOMMU). List entries are copied
 * out of guest memory once and the copy is checked; every data page is
 * resolved with gmem_ptr() over exactly the bytes transferred, so no
 * mapping can reach past guest RAM.
 *
 * Termination: each data entry consumes a page of the transfer (<= MDTS,
 * checked by the callers), and every list page after the first starts at
 * offset 0, so it yields 511 data entries or ends the transfer.
 */
#include <string.h>

#include "core/iov.h"
#include "core/util.h"
#include "emul-devices/nvme/nvme-internal.h"

#define PRP_PER_PAGE (NVME_PAGE / 8)

struct prp_walk {
	struct nvme_ctrl *c;
	unsigned cnt;
};

/* Append [addr, addr + len) (within one page) to the iovec. */
static uint16_t prp_add(struct prp_walk *w, uint64_t addr, uint32_t len)
{
	struct iovec *iov = w->c->iov;
	uint8_t *p = gmem_ptr(w->c->mem, addr, len);

	if (!p)
		return NVME_SC_DATA_XFER_ERROR | NVME_DNR;
	/* Guest-contiguous pages are host-contiguous within a region. */
	if (w->cnt && (uint8_t *)iov[w->cnt - 1].iov_base +
			      iov[w->cnt - 1].iov_len == p) {
		iov[w->cnt - 1].iov_len += len;
		return 0;
	}
	if (w->cnt == NVME_MAX_IOV)
		return NVME_SC_INVALID_FIELD | NVME_DNR; /* past MDTS */
	iov[w->cnt].iov_base = p;
	iov[w->cnt].iov_len = len;
	w->cnt++;
	return 0;
}

/* The data pages listed from `list` on, for `rem` bytes. */
static uint16_t prp_list(struct prp_walk *w, uint64_t list, uint64_t rem)
{
	uint64_t ent[PRP_PER_PAGE];
	unsigned pages_left = NVME_MAX_IOV + 2; /* loop bound, see above */
	uint16_t st;

	if (list & 7)
		return NVME_SC_PRP_OFFSET | NVME_DNR;
	while (rem) {
		uint64_t need = (rem + NVME_PAGE - 1) / NVME_PAGE;
		unsigned avail = (unsigned)((NVME_PAGE - (list & NVME_PAGE_MASK)) / 8);
		bool chain = need > avail;
		unsigned n = chain ? avail : (unsigned)need;
		unsigned ndata = chain ? n - 1 : n;

		if (!pages_left--)
			return NVME_SC_INVALID_FIELD | NVME_DNR;
		if (gmem_read(w->c->mem, list, ent, (size_t)n * 8))
			return NVME_SC_DATA_XFER_ERROR | NVME_DNR;
		for (unsigned i = 0; i < ndata; i++) {
			uint32_t len = rem < NVME_PAGE ? (uint32_t)rem : NVME_PAGE;

			if (ent[i] & NVME_PAGE_MASK)
				return NVME_SC_PRP_OFFSET | NVME_DNR;
			st = prp_add(w, ent[i], len);
			if (st)
				return st;
			rem -= len;
		}
		if (!chain)
			break;
		list = ent[n - 1];
		/* The next list page is a page: offset 0 (as QEMU checks). */
		if (list & NVME_PAGE_MASK)
			return NVME_SC_PRP_OFFSET | NVME_DNR;
	}
	return 0;
}

uint16_t nvme_prp_map(struct nvme_ctrl *c, uint64_t prp1, uint64_t prp2,
		      uint32_t len, unsigned *cnt)
{
	struct prp_walk w = { .c = c };
	uint32_t first = NVME_PAGE - (uint32_t)(prp1 & NVME_PAGE_MASK);
	uint32_t rem;
	uint16_t st;

	*cnt = 0;
	if (len == 0)
		return 0;
	if (len > NVME_MAX_XFER)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	/* §4.1.1: PRP1's offset is dword aligned (bits 1:0 cleared). */
	if (prp1 & 3)
		return NVME_SC_PRP_OFFSET | NVME_DNR;
	if (first > len)
		first = len;
	st = prp_add(&w, prp1, first);
	rem = len - first;
	if (!st && rem) {
		if (rem <= NVME_PAGE)
			st = (prp2 & NVME_PAGE_MASK) ?
			     (uint16_t)(NVME_SC_PRP_OFFSET | NVME_DNR) :
			     prp_add(&w, prp2, rem);
		else
			st = prp_list(&w, prp2, rem);
	}
	if (!st)
		*cnt = w.cnt;
	return st;
}

uint16_t nvme_prp_to_host(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			  const void *buf, uint32_t n, uint32_t len)
{
	unsigned cnt;
	size_t done;
	uint16_t st;

	/* Identify and log data go through PRPs only (PSDT = 0, §4.1.1). */
	st = nvme_prp_map(c, sqe->prp1, sqe->prp2, len, &cnt);
	if (st)
		return st;
	done = iov_from_buf(c->iov, cnt, 0, buf, n < len ? n : len);
	/* Past the controller's data: zeroes, not stale guest bytes. */
	for (unsigned i = 0; i < cnt; i++) {
		size_t l = c->iov[i].iov_len;

		if (done < l)
			memset((uint8_t *)c->iov[i].iov_base + done, 0, l - done);
		done = done > l ? done - l : 0;
	}
	return 0;
}
