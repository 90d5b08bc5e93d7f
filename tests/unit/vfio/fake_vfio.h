/* SPDX-License-Identifier: MIT */
/*
 * An in-memory VFIO transport (vfio/device.h) for the unit tests: config
 * space from a captured device, BARs backed by memfds (so mmap and
 * pread/pwrite see the same bytes, as with a real BAR), and a recorder of
 * VFIO_DEVICE_SET_IRQS that keeps the eventfds the kernel would hold, so a
 * test can "raise" a device interrupt by writing one.
 */
#ifndef IOVMM_TEST_FAKE_VFIO_H
#define IOVMM_TEST_FAKE_VFIO_H

#include <errno.h>
#include <linux/vfio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "captured.h"
#include "vfio/device.h"

#define FAKE_MAX_SETS 64
#define FAKE_MAX_FDS 64

struct fake_set {
	unsigned index;
	uint32_t action;
	unsigned start, count;
	bool has_fds;
};

struct fake_vfio {
	struct vfio_device dev;
	uint8_t cfg[4096];
	struct vfio_region regions[VFIO_PCI_NUM_REGIONS];
	int bar_fd[VFIO_PCI_NUM_REGIONS]; /* memfd backing BARs and the ROM */
	struct vfio_irq irqs[VFIO_PCI_NUM_IRQS];
	struct fake_set sets[FAKE_MAX_SETS];
	unsigned nr_sets;
	/* What the "kernel" holds now, per index: trigger and unmask fds. */
	int trigger[VFIO_PCI_NUM_IRQS][FAKE_MAX_FDS];
	int unmask[FAKE_MAX_FDS];
	unsigned resets;
	unsigned cfg_writes;
	bool released;
	bool keep_alive; /* the test frees it, not release() */
};

static inline struct fake_vfio *fake_of(struct vfio_device *d)
{
	return (struct fake_vfio *)((char *)d - offsetof(struct fake_vfio, dev));
}

static inline int fake_region_info(struct vfio_device *d, unsigned index,
				   struct vfio_region *out)
{
	if (index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	*out = fake_of(d)->regions[index];
	return 0;
}

static inline ssize_t fake_read(struct vfio_device *d,
				const struct vfio_region *r, uint64_t off,
				void *buf, size_t len)
{
	struct fake_vfio *f = fake_of(d);

	if (off > r->size || len > r->size - off)
		return -EINVAL;
	if (r->index == VFIO_PCI_CONFIG_REGION_INDEX) {
		memcpy(buf, f->cfg + off, len);
		return (ssize_t)len;
	}
	return pread(f->bar_fd[r->index], buf, len, (off_t)off);
}

static inline ssize_t fake_write(struct vfio_device *d,
				 const struct vfio_region *r, uint64_t off,
				 const void *buf, size_t len)
{
	struct fake_vfio *f = fake_of(d);

	if (off > r->size || len > r->size - off)
		return -EINVAL;
	if (r->index == VFIO_PCI_CONFIG_REGION_INDEX) {
		memcpy(f->cfg + off, buf, len);
		f->cfg_writes++;
		return (ssize_t)len;
	}
	return pwrite(f->bar_fd[r->index], buf, len, (off_t)off);
}

static inline int fake_mmap(struct vfio_device *d, const struct vfio_region *r,
			    uint64_t off, uint64_t len, void **out)
{
	struct fake_vfio *f = fake_of(d);
	void *p;

	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -EINVAL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 f->bar_fd[r->index], (off_t)off);
	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

static inline int fake_irq_info(struct vfio_device *d, unsigned index,
				struct vfio_irq *out)
{
	if (index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	*out = fake_of(d)->irqs[index];
	return 0;
}

/* Mirrors vfio-pci: TRIGGER with no data and count 0 disables the index. */
static inline int fake_irq_set(struct vfio_device *d, unsigned index,
			       uint32_t action, unsigned start, unsigned count,
			       const int *fds)
{
	struct fake_vfio *f = fake_of(d);

	if (index >= VFIO_PCI_NUM_IRQS || start + count > FAKE_MAX_FDS)
		return -EINVAL;
	if (f->nr_sets < FAKE_MAX_SETS)
		f->sets[f->nr_sets++] = (struct fake_set){
			.index = index, .action = action, .start = start,
			.count = count, .has_fds = fds != NULL };
	if (action == VFIO_IRQ_SET_ACTION_TRIGGER && !fds && !count) {
		for (unsigned i = 0; i < FAKE_MAX_FDS; i++)
			f->trigger[index][i] = -1;
		if (index == VFIO_PCI_INTX_IRQ_INDEX)
			for (unsigned i = 0; i < FAKE_MAX_FDS; i++)
				f->unmask[i] = -1;
		return 0;
	}
	if (start + count > f->irqs[index].count)
		return -EINVAL;
	for (unsigned i = 0; fds && i < count; i++) {
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			f->trigger[index][start + i] = fds[i];
		else if (action == VFIO_IRQ_SET_ACTION_UNMASK)
			f->unmask[start + i] = fds[i];
	}
	return 0;
}

static inline int fake_reset(struct vfio_device *d)
{
	fake_of(d)->resets++;
	return 0;
}

static inline void fake_release(struct vfio_device *d)
{
	struct fake_vfio *f = fake_of(d);

	f->released = true;
	if (f->keep_alive)
		return;
	for (unsigned i = 0; i < VFIO_PCI_NUM_REGIONS; i++)
		if (f->bar_fd[i] >= 0)
			close(f->bar_fd[i]);
	free(f);
}

static const struct vfio_device_ops fake_ops = {
	.region_info = fake_region_info,
	.region_read = fake_read,
	.region_write = fake_write,
	.region_mmap = fake_mmap,
	.irq_info = fake_irq_info,
	.irq_set = fake_irq_set,
	.reset = fake_reset,
	.release = fake_release,
};

static inline void fake_region(struct fake_vfio *f, unsigned index,
			       uint64_t size, uint32_t flags)
{
	f->regions[index] = (struct vfio_region){
		.index = index, .size = size, .flags = flags };
	if (size && index != VFIO_PCI_CONFIG_REGION_INDEX) {
		f->bar_fd[index] = memfd_create("fake-bar", MFD_CLOEXEC);
		if (f->bar_fd[index] < 0 || ftruncate(f->bar_fd[index], (off_t)size))
			abort();
	}
}

static inline struct fake_vfio *fake_new(const struct captured_row *rows,
					 size_t nr_rows, const char *name)
{
	struct fake_vfio *f = calloc(1, sizeof(*f));

	if (!f)
		abort();
	f->dev.ops = &fake_ops;
	snprintf(f->dev.name, sizeof(f->dev.name), "%s", name);
	f->dev.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	f->dev.num_regions = VFIO_PCI_NUM_REGIONS;
	f->dev.num_irqs = VFIO_PCI_NUM_IRQS;
	for (size_t i = 0; i < nr_rows; i++)
		memcpy(f->cfg + rows[i].off, rows[i].b, 16);
	for (unsigned i = 0; i < VFIO_PCI_NUM_REGIONS; i++)
		f->bar_fd[i] = -1;
	for (unsigned i = 0; i < VFIO_PCI_NUM_IRQS; i++)
		for (unsigned j = 0; j < FAKE_MAX_FDS; j++)
			f->trigger[i][j] = -1;
	for (unsigned j = 0; j < FAKE_MAX_FDS; j++)
		f->unmask[j] = -1;
	fake_region(f, VFIO_PCI_CONFIG_REGION_INDEX, 4096,
		    VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	return f;
}

#define RW (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)
#define RWM (RW | VFIO_REGION_INFO_FLAG_MMAP)

/* The lab's NVMe VF: BAR0 16 KiB (MSI-X table 0x2000, PBA 0x3000), 1 vector. */
static inline struct fake_vfio *fake_nvme_vf(void)
{
	struct fake_vfio *f = fake_new(captured_nvme_vf,
				       sizeof(captured_nvme_vf) /
					       sizeof(captured_nvme_vf[0]),
				       "0000:01:00.1");

	fake_region(f, 0, 0x4000, RWM);
	f->irqs[VFIO_PCI_INTX_IRQ_INDEX] = (struct vfio_irq){ 0, 0x7 };
	f->irqs[VFIO_PCI_MSI_IRQ_INDEX] = (struct vfio_irq){ 0, 0x9 };
	f->irqs[VFIO_PCI_MSIX_IRQ_INDEX] = (struct vfio_irq){ 1, 0x9 };
	return f;
}

/*
 * The lab's e1000e: BAR0/1 128 KiB, BAR2 I/O 32 bytes, BAR3 16 KiB (MSI-X
 * table 0, PBA 0x2000), ROM 256 KiB, INTx, MSI, 5 MSI-X vectors.
 */
static inline struct fake_vfio *fake_e1000e(void)
{
	struct fake_vfio *f = fake_new(captured_e1000e,
				       sizeof(captured_e1000e) /
					       sizeof(captured_e1000e[0]),
				       "0000:02:00.0");

	fake_region(f, 0, 0x20000, RWM);
	fake_region(f, 1, 0x20000, RWM);
	fake_region(f, 2, 0x20, RW);
	fake_region(f, 3, 0x4000, RWM);
	fake_region(f, VFIO_PCI_ROM_REGION_INDEX, 0x40000,
		    VFIO_REGION_INFO_FLAG_READ);
	f->irqs[VFIO_PCI_INTX_IRQ_INDEX] = (struct vfio_irq){ 1, 0x7 };
	f->irqs[VFIO_PCI_MSI_IRQ_INDEX] = (struct vfio_irq){ 1, 0x9 };
	f->irqs[VFIO_PCI_MSIX_IRQ_INDEX] = (struct vfio_irq){ 5, 0x9 };
	return f;
}

#endif
