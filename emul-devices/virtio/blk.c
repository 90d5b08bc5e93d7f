// SPDX-License-Identifier: MIT
/*
 * virtio-blk (virtio 1.2 §5.2) on a raw image.
 *
 * A request (§5.2.6) is a 16-byte header {type, reserved, sector} the device
 * reads, data, and a status byte the device writes last. Framing is free
 * (§2.6.4): the header may be split over several segments and the data
 * shares segments with it, so the header is gathered from the out iovec and
 * the data iovec is the rest, trimmed in place (elem is our scratch copy).
 *
 * Status choices (the spec leaves the device side open in places):
 *   - header shorter than 16 bytes or no writable byte for the status: the
 *     request cannot even be answered -> DEVICE_NEEDS_RESET (virtio_dev_fail),
 *     like a malformed chain;
 *   - IN/OUT length not a multiple of 512, range beyond capacity, write or
 *     discard on a read-only disk, host I/O error -> VIRTIO_BLK_S_IOERR;
 *   - unknown type, discard with the unmap or a reserved flag (§5.2.6.2),
 *     discard the host file system cannot do -> VIRTIO_BLK_S_UNSUPP.
 *
 * Requests are served on the I/O thread at kick time, at most
 * VBLK_BUDGET per run; the rest is deferred through work_fd so one busy
 * guest cannot monopolise the I/O thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/iov.h"
#include "core/log.h"
#include "core/util.h"
#include "emul-devices/virtio/blk.h"
#include "emul-devices/virtio/virtio.h"

/* Feature bits (§5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define BIT(n) (1ULL << (n))

/* Request types and status (§5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_DISCARD_F_UNMAP 1

#define VBLK_SECTOR 512
#define VBLK_QUEUE_SIZE 256
#define VBLK_BUDGET 64
#define VBLK_SEG_MAX (VBLK_QUEUE_SIZE - 2) /* header and status take 2 */
#define VBLK_SIZE_MAX (4u << 20)
#define VBLK_DISCARD_SECTORS (1u << 22)    /* 2 GiB per segment */
#define VBLK_DISCARD_SEG 32

struct vblk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct vblk_discard {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* Device configuration layout (§5.2.4) up to the discard/write-zeroes
 * fields; what lies beyond reads as zero. */
struct vblk_cfg {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));
_Static_assert(sizeof(struct vblk_cfg) == 60, "virtio_blk_config");

struct virtio_blk {
	struct virtio_dev vdev;
	struct ioloop *io;          /* borrowed */
	int fd;                     /* the image; owned */
	int work_fd;                /* eventfd: deferred requests; owned */
	bool work_added;
	bool readonly;
	uint64_t capacity;          /* sectors */
	char name[32];
	char serial[VIRTIO_BLK_ID_BYTES];

	/* Below: vdev.lock. */
	bool deferred;
	struct virtio_blk_stats stats;
	struct virtq_elem elem;     /* scratch */
};

static struct virtio_blk *vblk_of(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_blk, vdev);
}

/* ---- requests ---- */

static bool vblk_range_ok(const struct virtio_blk *b, uint64_t sector,
			  uint64_t nsect)
{
	return sector <= b->capacity && nsect <= b->capacity - sector;
}

/*
 * preadv/pwritev straight between the image and guest RAM, looping over
 * short transfers. iov is consumed.
 */
static uint8_t vblk_rw(struct virtio_blk *b, const struct vblk_req_hdr *h,
		       struct iovec *iov, unsigned cnt, uint64_t len, bool write)
{
	off_t off = (off_t)(h->sector * VBLK_SECTOR);
	ssize_t r;

	if (len % VBLK_SECTOR || !vblk_range_ok(b, h->sector, len / VBLK_SECTOR))
		return VIRTIO_BLK_S_IOERR;
	if (write && b->readonly)
		return VIRTIO_BLK_S_IOERR;
	while (cnt) {
		r = write ? pwritev(b->fd, iov, (int)cnt, off) :
			    preadv(b->fd, iov, (int)cnt, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* r == 0: the image shrank under us. */
			log_ratelimited(LOG_ERR, b->name, "%s at sector %llu: %s",
					write ? "write" : "read",
					(unsigned long long)h->sector,
					r ? strerror(errno) : "end of file");
			return VIRTIO_BLK_S_IOERR;
		}
		off += r;
		iov_pull(&iov, &cnt, (size_t)r);
	}
	if (write) {
		b->stats.writes++;
		b->stats.bytes_written += len;
	} else {
		b->stats.reads++;
		b->stats.bytes_read += len;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t vblk_flush(struct virtio_blk *b)
{
	b->stats.flushes++;
	if (!b->readonly && fdatasync(b->fd) < 0) {
		log_ratelimited(LOG_ERR, b->name, "fdatasync: %m");
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t vblk_get_id(struct virtio_blk *b, const struct iovec *iov,
			   unsigned cnt, uint64_t len)
{
	size_t n = len < VIRTIO_BLK_ID_BYTES ? (size_t)len : VIRTIO_BLK_ID_BYTES;
	size_t done = 0;

	for (unsigned i = 0; i < cnt && done < n; i++) {
		size_t l = iov[i].iov_len < n - done ? iov[i].iov_len : n - done;

		memcpy(iov[i].iov_base, b->serial + done, l);
		done += l;
	}
	b->stats.get_ids++;
	return VIRTIO_BLK_S_OK;
}

/* §5.2.6: data is an array of struct virtio_blk_discard_write_zeroes. */
static uint8_t vblk_discard(struct virtio_blk *b, const struct iovec *iov,
			    unsigned cnt, uint64_t len)
{
	struct vblk_discard d;

	if (b->readonly || len == 0 || len % sizeof(d) ||
	    len / sizeof(d) > VBLK_DISCARD_SEG)
		return VIRTIO_BLK_S_IOERR;
	for (uint64_t off = 0; off < len; off += sizeof(d)) {
		iov_to_buf(iov, cnt, off, &d, sizeof(d));
		/* §5.2.6.2: unmap is a write-zeroes flag; the rest reserved. */
		if (d.flags)
			return VIRTIO_BLK_S_UNSUPP;
		if (d.num_sectors > VBLK_DISCARD_SECTORS ||
		    !vblk_range_ok(b, d.sector, d.num_sectors))
			return VIRTIO_BLK_S_IOERR;
		if (!d.num_sectors)
			continue;
		/* A hole reads back as zeroes; the file keeps its size. */
		if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(d.sector * VBLK_SECTOR),
			      (off_t)d.num_sectors * VBLK_SECTOR) < 0) {
			if (errno == EOPNOTSUPP)
				return VIRTIO_BLK_S_UNSUPP;
			log_ratelimited(LOG_ERR, b->name, "discard: %m");
			return VIRTIO_BLK_S_IOERR;
		}
	}
	b->stats.discards++;
	return VIRTIO_BLK_S_OK;
}

/*
 * Serve one request. Returns -EINVAL when it cannot be answered at all;
 * else 0 with *written = bytes of the in part covered.
 */
static int vblk_req(struct virtio_blk *b, struct virtq_elem *e,
		    uint32_t *written)
{
	struct iovec *out = e->iov, *in = e->iov + e->nr_out, *last;
	unsigned nout = e->nr_out, nin = e->nr_in;
	struct vblk_req_hdr h;
	uint8_t *status, st;

	if (e->out_len < sizeof(h) || e->in_len < 1 || !nin)
		return -EINVAL;
	iov_to_buf(out, nout, 0, &h, sizeof(h));
	iov_pull(&out, &nout, sizeof(h));
	/* The status byte is the last writable byte; data is what precedes
	 * it (zero-length segments never reach us, see virtqueue.h). */
	last = &in[nin - 1];
	status = (uint8_t *)last->iov_base + last->iov_len - 1;
	if (--last->iov_len == 0)
		nin--;

	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		st = vblk_rw(b, &h, in, nin, e->in_len - 1, false);
		break;
	case VIRTIO_BLK_T_OUT:
		st = vblk_rw(b, &h, out, nout, e->out_len - sizeof(h), true);
		break;
	case VIRTIO_BLK_T_FLUSH:
		st = vblk_flush(b);
		break;
	case VIRTIO_BLK_T_GET_ID:
		st = vblk_get_id(b, in, nin, e->in_len - 1);
		break;
	case VIRTIO_BLK_T_DISCARD:
		st = vblk_discard(b, out, nout, e->out_len - sizeof(h));
		break;
	default:
		st = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	if (st == VIRTIO_BLK_S_IOERR)
		b->stats.ioerr++;
	else if (st == VIRTIO_BLK_S_UNSUPP)
		b->stats.unsupp++;
	*status = st;
	*written = (uint32_t)e->in_len;
	return 0;
}

static void vblk_defer(struct virtio_blk *b)
{
	uint64_t one = 1;

	if (b->deferred)
		return;
	b->deferred = true;
	if (write(b->work_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_ratelimited(LOG_ERR, b->name, "eventfd write: %m");
}

/* Drain the request queue (same kick suppression as virtio-net TX). */
static void vblk_process(struct virtio_blk *b)
{
	struct virtq *vq = &b->vdev.vqs[0];
	struct virtq_elem *e = &b->elem;
	unsigned done = 0;
	bool kicks = false;
	uint32_t written;
	int ret;

	if (!virtio_dev_queue_live(&b->vdev, 0))
		return;
	virtq_set_kicks(vq, false);
	for (;;) {
		if (done == VBLK_BUDGET) {
			vblk_defer(b);
			break;
		}
		ret = virtq_pop(vq, e);
		if (ret == -EAGAIN) {
			if (kicks)
				break;
			virtq_set_kicks(vq, true);
			kicks = true;
			continue;
		}
		if (ret == 0 && kicks) {
			virtq_set_kicks(vq, false);
			kicks = false;
		}
		if (ret || vblk_req(b, e, &written)) {
			virtio_dev_fail(&b->vdev, ret ? "requestq: malformed "
					"descriptor chain" : "requestq: request "
					"without header or status byte");
			return;
		}
		virtq_push(vq, e, written);
		done++;
	}
	if (done)
		virtio_dev_notify(&b->vdev, 0);
}

/* ---- virtio_dev_ops ---- */

static void vblk_cfg_read(struct virtio_dev *dev, uint32_t off, void *data,
			  uint32_t len)
{
	struct virtio_blk *b = vblk_of(dev);
	struct vblk_cfg c = {
		.capacity = b->capacity,
		.size_max = VBLK_SIZE_MAX,
		.seg_max = VBLK_SEG_MAX,
		.blk_size = VBLK_SECTOR,
		.num_queues = 1,
		.max_discard_sectors = VBLK_DISCARD_SECTORS,
		.max_discard_seg = VBLK_DISCARD_SEG,
		.discard_sector_alignment = 1,
	};

	memset(data, 0, len);
	if (off < sizeof(c))
		memcpy(data, (uint8_t *)&c + off,
		       len < sizeof(c) - off ? len : sizeof(c) - off);
}

static void vblk_cfg_write(struct virtio_dev *dev, uint32_t off,
			   const void *data, uint32_t len)
{
	/* writeback is writable only with CONFIG_WCE, not offered. */
}

static int vblk_set_features(struct virtio_dev *dev, uint64_t features)
{
	return 0;
}

static int vblk_activate(struct virtio_dev *dev)
{
	return 0;
}

static void vblk_queue_notify(struct virtio_dev *dev, unsigned qidx)
{
	if (qidx == 0)
		vblk_process(vblk_of(dev));
}

static void vblk_reset(struct virtio_dev *dev)
{
	vblk_of(dev)->deferred = false;
}

static void vblk_destroy(struct virtio_dev *dev)
{
	virtio_blk_destroy(container_of(dev, struct virtio_blk, vdev));
}

static const struct virtio_dev_ops vblk_ops = {
	.cfg_read = vblk_cfg_read,
	.cfg_write = vblk_cfg_write,
	.set_features = vblk_set_features,
	.activate = vblk_activate,
	.queue_notify = vblk_queue_notify,
	.reset = vblk_reset,
	.destroy = vblk_destroy,
};

/* ---- lifetime ---- */

static int vblk_work(void *opaque, int fd, uint32_t events)
{
	struct virtio_blk *b = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_ratelimited(LOG_ERR, b->name, "eventfd read: %m");
	pthread_mutex_lock(&b->vdev.lock);
	if (b->deferred) {
		b->deferred = false;
		vblk_process(b);
	}
	pthread_mutex_unlock(&b->vdev.lock);
	return 0;
}

static int vblk_open(struct virtio_blk *b, const struct virtio_blk_config *cfg,
		     char *err, size_t errlen)
{
	struct stat st;
	uint64_t size;
	int ret;

	b->fd = open(cfg->path, (cfg->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s: %s", b->name, cfg->path,
			 strerror(-ret));
		return ret;
	}
	if (fstat(b->fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s: %s", b->name, cfg->path,
			 strerror(-ret));
		return ret;
	}
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &size) < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s: BLKGETSIZE64: %s",
				 b->name, cfg->path, strerror(-ret));
			return ret;
		}
	} else {
		snprintf(err, errlen, "%s: %s: not a regular file or block device",
			 b->name, cfg->path);
		return -EINVAL;
	}
	if (size % VBLK_SECTOR)
		log_warn(b->name, "%s: size %llu is not a multiple of 512; the "
			 "last %llu bytes are not visible to the guest",
			 cfg->path, (unsigned long long)size,
			 (unsigned long long)(size % VBLK_SECTOR));
	b->capacity = size / VBLK_SECTOR;
	return 0;
}

static void vblk_serial(struct virtio_blk *b, const struct virtio_blk_config *cfg)
{
	const char *s = cfg->serial, *slash;

	if (!s) {
		slash = strrchr(cfg->path, '/');
		s = slash ? slash + 1 : cfg->path;
	}
	/* 20 bytes, zero-padded, not NUL-terminated when full (§5.2.6). */
	memcpy(b->serial, s, strnlen(s, sizeof(b->serial)));
}

static int vblk_setup_work(struct virtio_blk *b, char *err, size_t errlen)
{
	int ret;

	b->work_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->work_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: eventfd: %s", b->name, strerror(-ret));
		return ret;
	}
	ret = ioloop_add(b->io, b->work_fd, EPOLLIN, vblk_work, b);
	if (ret) {
		snprintf(err, errlen, "%s: ioloop_add: %s", b->name,
			 strerror(-ret));
		return ret;
	}
	b->work_added = true;
	return 0;
}

int virtio_blk_create(const struct pci_dev_ctx *ctx,
		      const struct virtio_blk_config *cfg,
		      struct virtio_blk **out, char *err, size_t errlen)
{
	struct ioloop *io = ctx->io;
	struct virtio_blk *b;
	uint64_t features;
	int ret;

	*out = NULL;
	if (!cfg->path || !*cfg->path) {
		snprintf(err, errlen, "virtio-blk: no image path given");
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "virtio-blk: out of memory");
		return -ENOMEM;
	}
	b->fd = b->work_fd = -1;
	b->io = io;
	b->readonly = cfg->readonly;
	snprintf(b->name, sizeof(b->name), "%s", cfg->name ? cfg->name : "virtio-blk");
	vblk_serial(b, cfg);
	ret = vblk_open(b, cfg, err, errlen);
	if (!ret)
		ret = vblk_setup_work(b, err, errlen);
	if (ret)
		goto fail;

	features = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_EVENT_IDX) |
		   BIT(VIRTIO_F_INDIRECT_DESC) | BIT(VIRTIO_BLK_F_SIZE_MAX) |
		   BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
		   BIT(VIRTIO_BLK_F_FLUSH);
	features |= cfg->readonly ? BIT(VIRTIO_BLK_F_RO) : BIT(VIRTIO_BLK_F_DISCARD);
	if (cfg->packed)
		features |= BIT(VIRTIO_F_RING_PACKED);
	b->vdev = (struct virtio_dev){
		.ops = &vblk_ops,
		.name = b->name,
		.device_id = 2,
		.pci_class = 0x0180,
		.host_features = features,
		.cfg_size = sizeof(struct vblk_cfg),
		.nr_queues = 1,
		.queue_max_size = VBLK_QUEUE_SIZE,
		.mem = ctx->mem,
	};
	ret = virtio_dev_init(&b->vdev, &(struct virtio_transport_ctx){
		.kind = VIRTIO_TRANSPORT_PCI, .irq = ctx->irq, .io = io,
	});
	if (ret) {
		snprintf(err, errlen, "%s: virtio transport: %s", b->name,
			 strerror(-ret));
		goto fail;
	}
	*out = b;
	return 0;
fail:
	virtio_blk_destroy(b);
	return ret;
}

struct pci_dev *virtio_blk_pci(struct virtio_blk *b)
{
	return virtio_dev_pci(&b->vdev);
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (!b)
		return;
	if (b->work_added)
		ioloop_del(b->io, b->work_fd);
	if (b->work_fd >= 0)
		close(b->work_fd);
	if (b->fd >= 0) {
		/* No data lost: whatever the guest wrote reaches the disk
		 * (only a created device can have been written to). */
		if (b->vdev.transport && !b->readonly && fdatasync(b->fd) < 0)
			log_err(b->name, "fdatasync: %m");
		close(b->fd);
	}
	virtio_dev_exit(&b->vdev);
	free(b);
}

uint64_t virtio_blk_capacity(const struct virtio_blk *b)
{
	return b->capacity;
}

void virtio_blk_stats(struct virtio_blk *b, struct virtio_blk_stats *out)
{
	pthread_mutex_lock(&b->vdev.lock);
	*out = b->stats;
	pthread_mutex_unlock(&b->vdev.lock);
}
