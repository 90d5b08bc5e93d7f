// SPDX-License-Identifier: MIT
/*
 * The NVM command set (NVM Command Set Specification 1.0, §3) on namespace
 * 1: Read, Write, Flush and Write Zeroes against a file or block device,
 * 512-byte blocks at offset 0 of the file.
 *
 * Data moves with preadv/pwritev straight between the file and the guest
 * pages the PRP walker resolved (no bounce buffer). Checks, in the order a
 * command meets them: namespace (Invalid Namespace or Format), LBA range
 * (LBA Out of Range), transfer size against MDTS (Invalid Field in
 * Command, Base §5.17.2.1 "MDTS"), write protection (Namespace is Write
 * Protected), then the PRPs (prp.c). A host I/O error is Internal Error
 * without DNR: the host may retry.
 *
 * Durability: the controller has a volatile write cache (the host page
 * cache); Flush is fdatasync(). With the cache disabled (Set Features
 * VWC, WCE = 0) or FUA set, a Write is fdatasync()ed before it completes.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/iov.h"
#include "core/log.h"
#include "core/util.h"
#include "emul-devices/nvme/nvme-internal.h"

#define NVME_NSID_ALL    0xffffffffu
#define RW_FUA           (1u << 30)   /* CDW12 */
#define ZERO_CHUNK       (64u * 1024)

static struct nvme_cpl st(uint16_t status)
{
	return (struct nvme_cpl){ .status = status };
}

int nvme_ns_flush(struct nvme_ctrl *c)
{
	if (c->readonly)
		return 0;
	c->stats.flushes++;
	if (fdatasync(c->fd) < 0) {
		log_ratelimited(LOG_ERR, c->name, "fdatasync: %m");
		return -errno;
	}
	return 0;
}

/* SLBA (CDW10-11) and NLB (CDW12 15:0, 0's based) inside the namespace. */
static uint16_t lba_range(const struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			  uint64_t *slba, uint32_t *nlb)
{
	*slba = sqe->cdw10 | (uint64_t)sqe->cdw11 << 32;
	*nlb = (sqe->cdw12 & 0xffff) + 1;
	if (sqe->nsid != NVME_NSID)
		return NVME_SC_INVALID_NS | NVME_DNR;
	if (*slba >= c->nlb || *nlb > c->nlb - *slba)
		return NVME_SC_LBA_RANGE | NVME_DNR;
	return 0;
}

/* preadv/pwritev until done; iov (c->iov) is consumed. */
static uint16_t rw_file(struct nvme_ctrl *c, unsigned cnt, uint64_t slba,
			bool write)
{
	struct iovec *iov = c->iov;
	off_t off = (off_t)(slba << NVME_LBA_SHIFT);
	ssize_t r;

	while (cnt) {
		r = write ? pwritev(c->fd, iov, (int)cnt, off) :
			    preadv(c->fd, iov, (int)cnt, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* r == 0: the file shrank under us. */
			log_ratelimited(LOG_ERR, c->name, "%s at LBA %llu: %s",
					write ? "write" : "read",
					(unsigned long long)slba,
					r ? strerror(errno) : "end of file");
			return NVME_SC_INTERNAL;
		}
		off += r;
		iov_pull(&iov, &cnt, (size_t)r);
	}
	return 0;
}

static struct nvme_cpl io_rw(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			     bool write)
{
	uint64_t slba;
	uint32_t nlb, len;
	unsigned cnt;
	uint16_t s = lba_range(c, sqe, &slba, &nlb);

	if (s)
		return st(s);
	len = nlb << NVME_LBA_SHIFT; /* <= 32 MiB: no overflow */
	if (len > NVME_MAX_XFER)
		return st(NVME_SC_INVALID_FIELD | NVME_DNR);
	if (write && c->readonly)
		return st(NVME_SC_NS_WRITE_PROTECTED | NVME_DNR);
	s = nvme_prp_map(c, sqe->prp1, sqe->prp2, len, &cnt);
	if (!s)
		s = rw_file(c, cnt, slba, write);
	if (!s && write && ((sqe->cdw12 & RW_FUA) || !c->feat.wce) &&
	    nvme_ns_flush(c))
		s = NVME_SC_INTERNAL;
	if (s)
		return st(s);
	if (write) {
		c->stats.writes++;
		c->stats.bytes_written += len;
	} else {
		c->stats.reads++;
		c->stats.bytes_read += len;
	}
	return st(0);
}

static struct nvme_cpl io_read(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	return io_rw(c, sqe, false);
}

static struct nvme_cpl io_write(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	return io_rw(c, sqe, true);
}

/* NVM §3.2.4 (Base §7.1): NSID 1, or FFFFFFFFh (VWC bits 2:1 = 11b). */
static struct nvme_cpl io_flush(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	if (sqe->nsid != NVME_NSID && sqe->nsid != NVME_NSID_ALL)
		return st(NVME_SC_INVALID_NS | NVME_DNR);
	return st(nvme_ns_flush(c) ? NVME_SC_INTERNAL : 0);
}

/*
 * NVM §3.2.8: no data transfer, so MDTS does not apply (WZSL = 0: no
 * limit beyond NLB's 65536 blocks). The file gets a zeroed range when it
 * can (fallocate), else explicit zeroes. DEAC is a hint we may ignore.
 */
static struct nvme_cpl io_write_zeroes(struct nvme_ctrl *c,
				       const struct nvme_sqe *sqe)
{
	static const uint8_t zeroes[ZERO_CHUNK];
	uint64_t slba;
	uint32_t nlb;
	uint16_t s = lba_range(c, sqe, &slba, &nlb);
	off_t off, end;

	if (s)
		return st(s);
	if (c->readonly)
		return st(NVME_SC_NS_WRITE_PROTECTED | NVME_DNR);
	off = (off_t)(slba << NVME_LBA_SHIFT);
	end = off + ((off_t)nlb << NVME_LBA_SHIFT);
	if (fallocate(c->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off,
		      end - off) < 0) {
		while (off < end) {
			size_t n = (size_t)(end - off) < ZERO_CHUNK ?
				   (size_t)(end - off) : ZERO_CHUNK;
			ssize_t r = pwrite(c->fd, zeroes, n, off);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				log_ratelimited(LOG_ERR, c->name,
						"write zeroes at LBA %llu: %s",
						(unsigned long long)slba,
						r ? strerror(errno) : "end of file");
				return st(NVME_SC_INTERNAL);
			}
			off += r;
		}
	}
	if (!c->feat.wce && nvme_ns_flush(c))
		return st(NVME_SC_INTERNAL);
	c->stats.write_zeroes++;
	return st(0);
}

struct nvme_io_desc {
	const char *name;
	struct nvme_cpl (*run)(struct nvme_ctrl *c, const struct nvme_sqe *sqe);
};

static const struct nvme_io_desc nvme_io[256] = {
	[NVME_CMD_FLUSH] = { "flush", io_flush },
	[NVME_CMD_WRITE] = { "write", io_write },
	[NVME_CMD_READ] = { "read", io_read },
	[NVME_CMD_WRITE_ZEROES] = { "write zeroes", io_write_zeroes },
};

struct nvme_cpl nvme_io_cmd(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	const struct nvme_io_desc *d = &nvme_io[sqe->opcode];

	if (!d->run)
		return st(NVME_SC_INVALID_OPCODE | NVME_DNR);
	/* No fused operations, no SGLs (Base §4.2). */
	if (sqe->flags & 0xc3)
		return st(NVME_SC_INVALID_FIELD | NVME_DNR);
	return d->run(c, sqe);
}
