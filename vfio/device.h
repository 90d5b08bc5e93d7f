/* SPDX-License-Identifier: MIT */
/*
 * A VFIO device as the passthrough PCI model sees it: regions (config
 * space, BARs, ROM) to read, write and mmap, interrupt indexes to wire to
 * eventfds, and resets. A VM's backend (vfio/backend.h) opens functions as
 * these: the kernel's type1 container/group (vfio/container.c) today;
 * iommufd cdevs and vfio-user later; an in-memory fake in the unit tests.
 *
 * Region and IRQ indexes and flag bits are VFIO's (linux/vfio.h):
 * VFIO_PCI_BAR0_REGION_INDEX..., VFIO_REGION_INFO_FLAG_*,
 * VFIO_PCI_MSIX_IRQ_INDEX..., VFIO_IRQ_INFO_*, VFIO_IRQ_SET_ACTION_*.
 */
#ifndef IOVMM_VFIO_DEVICE_H
#define IOVMM_VFIO_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VFIO_MAX_AREAS 8

/* A part of a region that may be mmapped (sparse mmap capability). */
struct vfio_mmap_area {
	uint64_t off;
	uint64_t size;
};

struct vfio_region {
	uint32_t index;
	uint32_t flags;     /* VFIO_REGION_INFO_FLAG_* */
	uint64_t size;      /* 0: not implemented */
	uint64_t offset;    /* transport-private (kernel: device fd offset) */
	/*
	 * With VFIO_REGION_INFO_FLAG_MMAP: sparse says whether only the
	 * areas may be mmapped (VFIO_REGION_INFO_CAP_SPARSE_MMAP); without
	 * it the whole region may.
	 */
	bool sparse;
	unsigned nr_areas;
	struct vfio_mmap_area areas[VFIO_MAX_AREAS];
};

struct vfio_irq {
	uint32_t count;     /* 0: index not implemented */
	uint32_t flags;     /* VFIO_IRQ_INFO_* */
};

struct vfio_device;

struct vfio_device_ops {
	int (*region_info)(struct vfio_device *d, unsigned index,
			   struct vfio_region *out);
	/* Exactly len bytes or -errno (a short access is -EIO). */
	ssize_t (*region_read)(struct vfio_device *d, const struct vfio_region *r,
			       uint64_t off, void *buf, size_t len);
	ssize_t (*region_write)(struct vfio_device *d,
				const struct vfio_region *r, uint64_t off,
				const void *buf, size_t len);
	/* Map [off, off + len) of r shared read/write; unmapped with munmap. */
	int (*region_mmap)(struct vfio_device *d, const struct vfio_region *r,
			   uint64_t off, uint64_t len, void **out);
	int (*irq_info)(struct vfio_device *d, unsigned index,
			struct vfio_irq *out);
	/*
	 * VFIO_DEVICE_SET_IRQS: action is one VFIO_IRQ_SET_ACTION_*; fds
	 * holds count eventfds (-1 to leave one unassigned), or is NULL for
	 * DATA_NONE (count 0 with TRIGGER disables the index).
	 */
	int (*irq_set)(struct vfio_device *d, unsigned index, uint32_t action,
		       unsigned start, unsigned count, const int *fds);
	/* Function reset (FLR or equivalent); -ENOTTY when unsupported. */
	int (*reset)(struct vfio_device *d);
	/*
	 * Secondary bus reset of everything the reset reaches, only when the
	 * transport owns every affected device; else -EPERM and a reason.
	 */
	int (*hot_reset)(struct vfio_device *d, char *err, size_t errlen);
	/* Close the device and free d. */
	void (*release)(struct vfio_device *d);
};

struct vfio_device {
	const struct vfio_device_ops *ops;
	char name[32];        /* "0000:01:00.1", for logs */
	uint32_t flags;       /* VFIO_DEVICE_FLAGS_* */
	unsigned num_regions;
	unsigned num_irqs;
};

#endif
