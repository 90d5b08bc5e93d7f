/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2 §5.2) over the modern PCI transport, backed by a
 * raw image file (or a block device).
 *
 * One request queue. Requests are served synchronously on the I/O thread
 * when the guest kicks (preadv/pwritev straight into the guest's buffers):
 * simple and copy-free, at the price that a slow disk delays the other
 * I/O-thread work (a later issue can move this to io_uring or a worker).
 * Data safety: the device offers FLUSH (a write-back cache, §5.2.6.4),
 * FLUSH is fdatasync(), and destroy runs fdatasync() before close().
 */
#ifndef IOVMM_VIRTIO_BLK_H
#define IOVMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gmem.h"
#include "core/ioloop.h"
#include "core/irq.h"
#include "core/pci/pci.h"

struct pci_host;
struct virtio_blk;

struct virtio_blk_config {
	const char *path;    /* raw image or block device */
	bool readonly;       /* O_RDONLY and VIRTIO_BLK_F_RO */
	const char *name;    /* for logs; NULL: "virtio-blk" */
	const char *serial;  /* GET_ID (at most 20 bytes used); NULL: the
	                        file's base name */
	bool packed;         /* offer VIRTIO_F_RING_PACKED */
};

struct virtio_blk_stats {
	uint64_t reads, writes, flushes, discards, get_ids;
	uint64_t bytes_read, bytes_written;
	uint64_t ioerr;       /* requests answered VIRTIO_BLK_S_IOERR */
	uint64_t unsupp;      /* requests answered VIRTIO_BLK_S_UNSUPP */
};

/*
 * Open the image and create the virtio function on ctx's mem, irq and io;
 * the caller plugs virtio_blk_pci(b), whose destroy frees the whole
 * device. 0, or -errno with a one-line reason in err: the open() error
 * ("disk.img: No such file or directory"), -EINVAL (not a regular file or
 * block device).
 */
int virtio_blk_create(const struct pci_dev_ctx *ctx,
		      const struct virtio_blk_config *cfg,
		      struct virtio_blk **out, char *err, size_t errlen);
/* The PCI function to plug into the host bridge. */
struct pci_dev *virtio_blk_pci(struct virtio_blk *b);
/*
 * fdatasync() and close the image, free the device. Call after
 * pci_host_destroy() and with the I/O thread stopped (vm_destroy() order).
 * Idempotent on NULL.
 */
void virtio_blk_destroy(struct virtio_blk *b);

/* Capacity in 512-byte sectors. */
uint64_t virtio_blk_capacity(const struct virtio_blk *b);
void virtio_blk_stats(struct virtio_blk *b, struct virtio_blk_stats *out);

#endif
