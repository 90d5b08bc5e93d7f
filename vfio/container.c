// SPDX-License-Identifier: MIT
/*
 * Kernel VFIO type1 backend: host checks, container, groups, device fds
 * (Documentation/driver-api/vfio.rst, linux/vfio.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "vfio/container.h"
#include "vfio/sysfs.h"

struct vfio_group {
	int id;
	int fd;                        /* owned, closed by container_free() */
	struct vfio_group_hook *hooks; /* called once fd is closed */
};

/* The type1 instance of struct vfio_backend. */
struct vfio_container {
	struct vfio_backend be;
	int fd;                       /* owned; -1 until the first open_device */
	const struct gmem *mem;       /* borrowed */
	char dev_root[128];
	char sysfs_root[128];
	bool iommu_set;
	unsigned nr_groups;
	struct vfio_group groups[VFIO_MAX_GROUPS];
	struct vfio_iommu_caps caps;
	struct iommu_dma_mapper mapper;
	struct iommu_dma *dma;
	struct vfio_kdev *devs;       /* open devices, to refuse duplicates */
};

/* A device fd of this container, as a struct vfio_device. */
struct vfio_kdev {
	struct vfio_device dev;
	struct vfio_container *c;     /* borrowed: the backend outlives it */
	int fd;                       /* owned */
	struct vfio_kdev *next;       /* c->devs */
};

static const char *const who = "vfio";

uint32_t vfio_info_cap_find(const void *buf, size_t len, uint32_t first,
			    uint16_t id)
{
	const uint8_t *b = buf;
	uint32_t off = first;

	/* 64 hops is far more than any kernel reports; it stops a loop. */
	for (int n = 0; off && n < 64; n++) {
		struct vfio_info_cap_header h;

		if (off < sizeof(h) || off > len || len - off < sizeof(h))
			return 0;
		memcpy(&h, b + off, sizeof(h));
		if (h.id == id)
			return off;
		off = h.next;
	}
	return 0;
}

/* ---- the DMA mapper (iommu/dma.h) over VFIO_IOMMU_MAP_DMA ---- */

static int type1_map(struct iommu_dma_mapper *m, const struct iommu_dma_entry *e)
{
	struct vfio_container *c = container_of(m, struct vfio_container, mapper);
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)e->hva,
		.iova = e->iova,
		.size = e->size,
	};

	return ioctl(c->fd, VFIO_IOMMU_MAP_DMA, &map) < 0 ? -errno : 0;
}

static int type1_unmap(struct iommu_dma_mapper *m,
		       const struct iommu_dma_entry *e)
{
	struct vfio_container *c = container_of(m, struct vfio_container, mapper);
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = e->iova,
		.size = e->size,
	};

	if (ioctl(c->fd, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0)
		return -errno;
	return unmap.size == e->size ? 0 : -EIO;
}

static const struct iommu_dma_mapper_ops type1_mapper_ops = {
	.map = type1_map,
	.unmap = type1_unmap,
};

/* ---- container ---- */

static void hooks_call(struct vfio_group_hook *h)
{
	while (h) {
		struct vfio_group_hook *next = h->next;

		h->closed(h); /* may free h */
		h = next;
	}
}

static void container_free(struct vfio_container *c)
{
	if (c->devs)
		log_warn(who, "%s still open as the backend goes (a caller bug)",
			 c->devs->dev.name);
	/* Unmap while the IOMMU is still there (groups attached). */
	iommu_dma_destroy(c->dma);
	/*
	 * Closing a group detaches it; the last one tears the IOMMU down.
	 * Only then may its functions change driver: their hooks run now.
	 */
	for (unsigned i = c->nr_groups; i-- > 0;) {
		close(c->groups[i].fd);
		hooks_call(c->groups[i].hooks);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static int container_open(struct vfio_container *c, char *err, size_t errlen)
{
	char path[160];
	int ver;

	snprintf(path, sizeof(path), "%s/vfio/vfio", c->dev_root);
	c->fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		int ret = -errno;

		if (ret == -ENOENT || ret == -ENODEV || ret == -ENXIO) {
			log_errf(err, errlen,
				 "VFIO is not available: load vfio-pci (modprobe vfio-pci)");
			return -ENODEV;
		}
		log_errf(err, errlen, "%s: %s%s", path, strerror(-ret),
			 ret == -EACCES || ret == -EPERM ? " (needs root)" : "");
		return ret;
	}
	ver = ioctl(c->fd, VFIO_GET_API_VERSION);
	if (ver != VFIO_API_VERSION) {
		log_errf(err, errlen, "%s: unsupported VFIO API version %d",
			 path, ver);
		goto err_close;
	}
	if (ioctl(c->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		log_errf(err, errlen,
			 "VFIO has no type1v2 IOMMU (load vfio_iommu_type1; is the host IOMMU on?)");
		goto err_close;
	}
	return 0;

err_close:
	/* Not a container we can use: the next open_device tries again. */
	close(c->fd);
	c->fd = -1;
	return -ENOTSUP;
}

void vfio_type1_iommu_caps(const struct vfio_backend *b,
			   struct vfio_iommu_caps *out)
{
	*out = container_of(b, struct vfio_container, be)->caps;
}

/* VFIO_IOMMU_GET_INFO with its capability chain (IOVA ranges, DMA avail). */
static int container_iommu_info(struct vfio_container *c)
{
	struct vfio_iommu_type1_info *info;
	uint32_t argsz = sizeof(*info), off;
	int ret = 0;

	for (int pass = 0; pass < 2; pass++) {
		info = calloc(1, argsz);
		if (!info)
			return -ENOMEM;
		info->argsz = argsz;
		if (ioctl(c->fd, VFIO_IOMMU_GET_INFO, info) < 0) {
			ret = -errno;
			free(info);
			return ret;
		}
		if (info->argsz <= argsz || pass == 1)
			break;
		argsz = info->argsz; /* the chain needs a bigger buffer */
		free(info);
	}
	c->caps.pgsizes = info->flags & VFIO_IOMMU_INFO_PGSIZES ?
				  info->iova_pgsizes : 4096;
	if (!(info->flags & VFIO_IOMMU_INFO_CAPS) || argsz < info->argsz)
		goto out;
	off = vfio_info_cap_find(info, argsz, info->cap_offset,
				 VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	if (off) {
		struct vfio_iommu_type1_info_cap_iova_range *cap =
			(void *)((uint8_t *)info + off);
		uint32_t n = cap->nr_iovas;

		if (n > (argsz - off - sizeof(*cap)) / sizeof(cap->iova_ranges[0]))
			n = 0; /* truncated chain: trust nothing */
		if (n > VFIO_MAX_IOVA_RANGES) {
			log_warn(who, "IOMMU reports %u IOVA ranges; using the first %u",
				 n, VFIO_MAX_IOVA_RANGES);
			n = VFIO_MAX_IOVA_RANGES;
		}
		for (uint32_t i = 0; i < n; i++) {
			c->caps.ranges[i].start = cap->iova_ranges[i].start;
			c->caps.ranges[i].last = cap->iova_ranges[i].end;
		}
		c->caps.nr_ranges = n;
	}
	off = vfio_info_cap_find(info, argsz, info->cap_offset,
				 VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	if (off && argsz - off >= sizeof(struct vfio_iommu_type1_info_dma_avail)) {
		struct vfio_iommu_type1_info_dma_avail *cap =
			(void *)((uint8_t *)info + off);

		c->caps.dma_avail = cap->avail;
	}
out:
	free(info);
	return ret;
}

static void ir_refusal(const struct vfio_container *c, char *err, size_t errlen)
{
	/*
	 * type1 refuses to attach a group (-EPERM) when the IOMMU cannot
	 * remap interrupts and allow_unsafe_interrupts is off: a device
	 * could otherwise forge MSI writes to any vector of the host.
	 */
	log_errf(err, errlen,
		 "host has no interrupt remapping; refusing (set vfio_iommu_type1.allow_unsafe_interrupts=1 to override)");
}

/* The first group: IOMMU model, its limits, and guest RAM mapped. */
static int container_setup_iommu(struct vfio_container *c, char *err,
				 size_t errlen)
{
	struct iommu_dma_limits lim;
	struct iommu_dma_stats st;
	int ret;

	if (ioctl(c->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		ret = -errno;
		if (ret == -EPERM)
			ir_refusal(c, err, errlen);
		else
			log_errf(err, errlen, "VFIO_SET_IOMMU(type1v2): %s",
				 strerror(-ret));
		return ret;
	}
	c->iommu_set = true;
	ret = container_iommu_info(c);
	if (ret) {
		log_errf(err, errlen, "VFIO_IOMMU_GET_INFO: %s", strerror(-ret));
		return ret;
	}
	lim = (struct iommu_dma_limits){
		.ranges = c->caps.nr_ranges ? c->caps.ranges : NULL,
		.nr_ranges = c->caps.nr_ranges,
		.pgsize_mask = c->caps.pgsizes,
		.max_entries = c->caps.dma_avail,
	};
	ret = iommu_dma_create(&c->mapper, c->mem, &lim, &c->dma, err, errlen);
	if (ret)
		return ret;
	iommu_dma_get_stats(c->dma, &st);
	log_info(who, "guest RAM mapped for DMA: %llu MiB in %u entries, %llu us",
		 (unsigned long long)(st.bytes >> 20), st.entries,
		 (unsigned long long)(st.map_ns / 1000));
	return 0;
}

static void group_blocker_msg(const struct vfio_container *c, int group,
			      char *err, size_t errlen)
{
	char bdf[VFIO_BDF_LEN], drv[VFIO_DRV_LEN];

	if (vfio_sysfs_group_blocker(c->sysfs_root, group, bdf, drv,
				     sizeof(drv)) == -EBUSY)
		log_errf(err, errlen,
			 "IOMMU group %d is not viable: %s in the same group is bound to %s; bind the whole group to vfio-pci (iovmm vfio bind --group %s) or unbind it",
			 group, bdf, drv, bdf);
	else
		log_errf(err, errlen,
			 "IOMMU group %d is not viable: every device in it must be bound to vfio-pci or to no driver",
			 group);
}

static int group_open(struct vfio_container *c, int id, char *err,
		      size_t errlen)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct vfio_group *g;
	char path[160];
	int fd, ret;

	if (c->nr_groups == VFIO_MAX_GROUPS) {
		log_errf(err, errlen, "more than %d IOMMU groups", VFIO_MAX_GROUPS);
		return -ENOSPC;
	}
	snprintf(path, sizeof(path), "%s/vfio/%d", c->dev_root, id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret == -EBUSY)
			log_errf(err, errlen,
				 "IOMMU group %d is in use by another process (%s is open)",
				 id, path);
		else if (ret == -ENOENT)
			log_errf(err, errlen,
				 "%s does not exist: no device of IOMMU group %d is bound to vfio-pci",
				 path, id);
		else
			log_errf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st) < 0) {
		ret = -errno;
		log_errf(err, errlen, "%s: VFIO_GROUP_GET_STATUS: %s", path,
			 strerror(-ret));
		goto err_close;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		group_blocker_msg(c, id, err, errlen);
		ret = -EBUSY;
		goto err_close;
	}
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &c->fd) < 0) {
		ret = -errno;
		if (ret == -EPERM)
			ir_refusal(c, err, errlen);
		else
			log_errf(err, errlen, "IOMMU group %d: VFIO_GROUP_SET_CONTAINER: %s",
				 id, strerror(-ret));
		goto err_close;
	}
	g = &c->groups[c->nr_groups++];
	g->id = id;
	g->fd = fd;
	if (!c->iommu_set) {
		ret = container_setup_iommu(c, err, errlen);
		if (ret) {
			/*
			 * Closing the group fd takes it out of the container;
			 * the last group out takes the IOMMU model with it.
			 */
			c->nr_groups--;
			iommu_dma_destroy(c->dma);
			c->dma = NULL;
			c->iommu_set = false;
			goto err_close;
		}
	}
	return 0;

err_close:
	close(fd);
	return ret;
}

static struct vfio_group *group_find(struct vfio_container *c, int id)
{
	for (unsigned i = 0; i < c->nr_groups; i++)
		if (c->groups[i].id == id)
			return &c->groups[i];
	return NULL;
}

/* ---- struct vfio_device over a kernel device fd ---- */

static int kdev_region_info(struct vfio_device *d, unsigned index,
			    struct vfio_region *out)
{
	struct vfio_kdev *k = container_of(d, struct vfio_kdev, dev);
	struct vfio_region_info *ri;
	uint32_t argsz = sizeof(*ri), off;
	int ret = 0;

	for (int pass = 0; pass < 2; pass++) {
		ri = calloc(1, argsz);
		if (!ri)
			return -ENOMEM;
		ri->argsz = argsz;
		ri->index = index;
		if (ioctl(k->fd, VFIO_DEVICE_GET_REGION_INFO, ri) < 0) {
			ret = -errno;
			free(ri);
			return ret;
		}
		if (ri->argsz <= argsz || pass == 1)
			break;
		argsz = ri->argsz;
		free(ri);
	}
	memset(out, 0, sizeof(*out));
	out->index = index;
	out->flags = ri->flags;
	out->size = ri->size;
	out->offset = ri->offset;
	if ((ri->flags & VFIO_REGION_INFO_FLAG_CAPS) && argsz >= ri->argsz &&
	    (off = vfio_info_cap_find(ri, argsz, ri->cap_offset,
				      VFIO_REGION_INFO_CAP_SPARSE_MMAP))) {
		struct vfio_region_info_cap_sparse_mmap *sp =
			(void *)((uint8_t *)ri + off);
		uint32_t n = sp->nr_areas;

		out->sparse = true;
		if (n > (argsz - off - sizeof(*sp)) / sizeof(sp->areas[0]))
			n = 0;
		/* Areas we cannot record stay trapped: slower, still correct. */
		if (n > VFIO_MAX_AREAS)
			n = VFIO_MAX_AREAS;
		for (uint32_t i = 0; i < n; i++) {
			out->areas[i].off = sp->areas[i].offset;
			out->areas[i].size = sp->areas[i].size;
		}
		out->nr_areas = n;
	}
	free(ri);
	return 0;
}

static ssize_t kdev_read(struct vfio_device *d, const struct vfio_region *r,
			 uint64_t off, void *buf, size_t len)
{
	struct vfio_kdev *k = container_of(d, struct vfio_kdev, dev);
	ssize_t n;

	do {
		n = pread(k->fd, buf, len, (off_t)(r->offset + off));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? n : -EIO;
}

static ssize_t kdev_write(struct vfio_device *d, const struct vfio_region *r,
			  uint64_t off, const void *buf, size_t len)
{
	struct vfio_kdev *k = container_of(d, struct vfio_kdev, dev);
	ssize_t n;

	do {
		n = pwrite(k->fd, buf, len, (off_t)(r->offset + off));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? n : -EIO;
}

static int kdev_mmap(struct vfio_device *d, const struct vfio_region *r,
		     uint64_t off, uint64_t len, void **out)
{
	struct vfio_kdev *k = container_of(d, struct vfio_kdev, dev);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, k->fd,
		       (off_t)(r->offset + off));

	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

static int kdev_irq_info(struct vfio_device *d, unsigned index,
			 struct vfio_irq *out)
{
	struct vfio_kdev *k = container_of(d, struct vfio_kdev, dev);
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = index };

	if (ioctl(k->fd, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0)
		return -errno;
	out->count = info.count;
	out->flags = info.flags;
	return 0;
}

static int kdev_irq_set(struct vfio_device *d, unsigned index, uint32_t action,
			unsigned start, unsigned count, const int *fds)
{
	struct vfio_kdev *k = container_of(d, struct vfio_kdev, dev);
	size_t data = fds ? (size_t)count * sizeof(int32_t) : 0;
	struct vfio_irq_set *set;
	int ret = 0;

	if (count > 4096)
		return -EINVAL;
	set = calloc(1, sizeof(*set) + data);
	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)(sizeof(*set) + data);
	set->flags = action | (fds ? VFIO_IRQ_SET_DATA_EVENTFD :
				     VFIO_IRQ_SET_DATA_NONE);
	set->index = index;
	set->start = start;
	set->count = count;
	for (unsigned i = 0; fds && i < count; i++) {
		int32_t fd = fds[i];

		memcpy(set->data + i * sizeof(fd), &fd, sizeof(fd));
	}
	if (ioctl(k->fd, VFIO_DEVICE_SET_IRQS, set) < 0)
		ret = -errno;
	free(set);
	return ret;
}

static int kdev_reset(struct vfio_device *d)
{
	struct vfio_kdev *k = container_of(d, struct vfio_kdev, dev);

	if (!(d->flags & VFIO_DEVICE_FLAGS_RESET))
		return -ENOTTY;
	return ioctl(k->fd, VFIO_DEVICE_RESET) < 0 ? -errno : 0;
}

static struct vfio_pci_hot_reset_info *hot_reset_info(int fd, int *ret)
{
	struct vfio_pci_hot_reset_info *info;
	uint32_t argsz = sizeof(*info);

	/* The first call says how many devices the reset reaches (-ENOSPC). */
	for (int pass = 0; pass < 2; pass++) {
		info = calloc(1, argsz);
		if (!info) {
			*ret = -ENOMEM;
			return NULL;
		}
		info->argsz = argsz;
		if (ioctl(fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info) == 0) {
			*ret = 0;
			return info;
		}
		*ret = -errno;
		if (*ret != -ENOSPC || pass == 1 || info->count > 256) {
			free(info);
			return NULL;
		}
		argsz = sizeof(*info) + info->count * sizeof(info->devices[0]);
		free(info);
	}
	return NULL;
}

static int kdev_hot_reset(struct vfio_device *d, char *err, size_t errlen)
{
	struct vfio_kdev *k = container_of(d, struct vfio_kdev, dev);
	struct vfio_pci_hot_reset_info *info;
	struct vfio_pci_hot_reset *rst = NULL;
	int ret;

	info = hot_reset_info(k->fd, &ret);
	if (!info) {
		log_errf(err, errlen, "%s: no bus reset: %s", d->name,
			 strerror(-ret));
		return ret;
	}
	rst = calloc(1, sizeof(*rst) + info->count * sizeof(int32_t));
	if (!rst) {
		ret = -ENOMEM;
		goto out;
	}
	/* PCI reset reaches the whole bus: every group on it must be ours. */
	for (uint32_t i = 0; i < info->count; i++) {
		const struct vfio_pci_dependent_device *dep = &info->devices[i];
		struct vfio_group *g = group_find(k->c, (int)dep->group_id);
		bool seen = false;

		if (!g) {
			log_errf(err, errlen,
				 "%s: a bus reset would also reset %04x:%02x:%02x.%u of IOMMU group %u, which this VM does not own; refusing",
				 d->name, dep->segment, dep->bus, dep->devfn >> 3,
				 dep->devfn & 7, dep->group_id);
			ret = -EPERM;
			goto out;
		}
		for (uint32_t j = 0; j < rst->count; j++)
			seen |= rst->group_fds[j] == g->fd;
		if (!seen)
			rst->group_fds[rst->count++] = g->fd;
	}
	rst->argsz = (uint32_t)(sizeof(*rst) + rst->count * sizeof(int32_t));
	ret = ioctl(k->fd, VFIO_DEVICE_PCI_HOT_RESET, rst) < 0 ? -errno : 0;
	if (ret)
		log_errf(err, errlen, "%s: VFIO_DEVICE_PCI_HOT_RESET: %s",
			 d->name, strerror(-ret));
out:
	free(rst);
	free(info);
	return ret;
}

static void kdev_release(struct vfio_device *d)
{
	struct vfio_kdev *k = container_of(d, struct vfio_kdev, dev);
	struct vfio_kdev **pp = &k->c->devs;

	while (*pp && *pp != k)
		pp = &(*pp)->next;
	if (*pp)
		*pp = k->next;
	close(k->fd);
	free(k);
}

static const struct vfio_device_ops kdev_ops = {
	.region_info = kdev_region_info,
	.region_read = kdev_read,
	.region_write = kdev_write,
	.region_mmap = kdev_mmap,
	.irq_info = kdev_irq_info,
	.irq_set = kdev_irq_set,
	.reset = kdev_reset,
	.hot_reset = kdev_hot_reset,
	.release = kdev_release,
};

/*
 * Open device bdf of IOMMU group `group`: the container is opened the
 * first time, the group is opened and attached the first time
 * (viability, interrupt remapping, IOMMU setup and the guest RAM mapping
 * happen then). vf_token (NULL: none) is the UUID a VF of a vfio-pci-owned
 * PF must present.
 */
static int container_open_device(struct vfio_container *c, int group,
				 const char *bdf, const char *vf_token,
				 struct vfio_device **out, char *err,
				 size_t errlen)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_group *g = group_find(c, group);
	struct vfio_kdev *k;
	char name[128];
	int fd, ret;

	for (k = c->devs; k; k = k->next) {
		if (!strcmp(k->dev.name, bdf)) {
			log_errf(err, errlen, "%s is assigned twice", bdf);
			return -EBUSY;
		}
	}
	if (c->fd < 0) {
		ret = container_open(c, err, errlen);
		if (ret)
			return ret;
	}
	if (!g) {
		ret = group_open(c, group, err, errlen);
		if (ret)
			return ret;
		g = group_find(c, group);
	}
	/* A VF of a PF owned by vfio-pci opens only as "BDF vf_token=UUID"
	 * (drivers/vfio/pci/vfio_pci_core.c, vfio_pci_core_match()). */
	if ((size_t)snprintf(name, sizeof(name), "%s%s%s", bdf,
			     vf_token ? " vf_token=" : "",
			     vf_token ? vf_token : "") >= sizeof(name)) {
		log_errf(err, errlen, "%s: VF token too long", bdf);
		return -EINVAL;
	}
	fd = ioctl(g->fd, VFIO_GROUP_GET_DEVICE_FD, name);
	if (fd < 0) {
		ret = -errno;
		log_errf(err, errlen, "%s: VFIO_GROUP_GET_DEVICE_FD%s: %s%s", bdf,
			 vf_token ? " with a VF token" : "", strerror(-ret),
			 ret == -EBUSY ? " (already open)" :
			 ret == -EACCES && vf_token ?
				 " (the token is not the one the PF driver set)" :
			 ret == -EACCES ?
				 " (a VF of a vfio-pci PF needs its VF token: iovmm sriov token)" :
				 "");
		return ret;
	}
	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info) < 0 ||
	    !(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		log_errf(err, errlen, "%s: not a VFIO PCI device", bdf);
		close(fd);
		return -ENODEV;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		close(fd);
		return -ENOMEM;
	}
	k->dev.ops = &kdev_ops;
	snprintf(k->dev.name, sizeof(k->dev.name), "%s", bdf);
	k->dev.flags = info.flags;
	k->dev.num_regions = info.num_regions;
	k->dev.num_irqs = info.num_irqs;
	k->c = c;
	k->fd = fd;
	k->next = c->devs;
	c->devs = k;
	*out = &k->dev;
	return 0;
}

/* ---- host checks (sysfs, read only) ---- */

static int host_checks(const char *sys, const char *dev_root, const char *bdf,
		       int *group, char *err, size_t errlen)
{
	char drv[VFIO_DRV_LEN], blk[VFIO_BDF_LEN], path[256];
	int ret;

	if (!vfio_sysfs_dev_exists(sys, bdf)) {
		log_errf(err, errlen, "vfio-pci: no PCI device %s (see iovmm vfio list)",
			 bdf);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "%s/vfio/vfio", dev_root);
	if (access(path, F_OK)) {
		log_errf(err, errlen, "VFIO is not available: load vfio-pci (modprobe vfio-pci)");
		return -ENODEV;
	}
	ret = vfio_sysfs_driver(sys, bdf, drv, sizeof(drv));
	if (ret || strcmp(drv, "vfio-pci")) {
		if (!ret && drv[0])
			log_errf(err, errlen, "%s is bound to %s, not vfio-pci: run iovmm vfio bind %s",
				 bdf, drv, bdf);
		else
			log_errf(err, errlen, "%s has no driver, not vfio-pci: run iovmm vfio bind %s",
				 bdf, bdf);
		return ret ? ret : -EBUSY;
	}
	ret = vfio_sysfs_group(sys, bdf, group);
	if (ret) {
		log_errf(err, errlen, "%s has no IOMMU group: the host IOMMU is off or absent (boot with intel_iommu=on or amd_iommu=on)",
			 bdf);
		return -ENODEV;
	}
	ret = vfio_sysfs_group_blocker(sys, *group, blk, drv, sizeof(drv));
	if (ret == -EBUSY) {
		log_errf(err, errlen, "IOMMU group %d is not viable: %s in the same group is bound to %s; bind the whole group to vfio-pci (iovmm vfio bind --group %s) or unbind it",
			 *group, blk, drv, bdf);
		return ret;
	}
	return 0;
}

/* "host=" as a canonical BDF, or -EINVAL with the reason. */
static int host_bdf(const char *host, char bdf[VFIO_BDF_LEN], char *err,
		    size_t errlen)
{
	if (!host || vfio_sysfs_parse_bdf(host, bdf)) {
		log_errf(err, errlen, "vfio-pci: host=%s is neither a PCI address (0000:01:00.1) nor a sysfs device path",
			 host ? host : "");
		return -EINVAL;
	}
	return 0;
}

static const char *dev_root_of(const char *root)
{
	return root && *root ? root : "/dev";
}

static int type1_host_check(const struct vfio_backend_cfg *cfg,
			    const char *host, char *err, size_t errlen)
{
	char bdf[VFIO_BDF_LEN];
	int group, ret;

	if (err && errlen)
		err[0] = '\0';
	ret = host_bdf(host, bdf, err, errlen);
	return ret ? ret : host_checks(vfio_sysfs_root(cfg->sysfs_root),
				       dev_root_of(cfg->dev_root), bdf, &group,
				       err, errlen);
}

/* ---- the backend (vfio/backend.h) ---- */

static int type1_open_device(struct vfio_backend *b,
			     const struct vfio_open_req *req,
			     struct vfio_device **out, char *err, size_t errlen)
{
	struct vfio_container *c = container_of(b, struct vfio_container, be);
	struct vfio_group_hook *hook = req->on_closed;
	char bdf[VFIO_BDF_LEN];
	struct vfio_group *g;
	int group = -1, ret;

	if (err && errlen)
		err[0] = '\0';
	ret = host_bdf(req->host, bdf, err, errlen);
	if (!ret)
		ret = host_checks(c->sysfs_root, c->dev_root, bdf, &group, err,
				  errlen);
	if (!ret)
		ret = container_open_device(c, group, bdf, req->vf_token, out,
					    err, errlen);
	/*
	 * The hook goes with the group, open or not: a group that opened and
	 * attached stays so (even when the device fd was refused) until
	 * container_free(); one that never opened holds nothing.
	 */
	g = hook ? group_find(c, group) : NULL;
	if (g) {
		hook->next = g->hooks;
		g->hooks = hook;
	} else if (hook) {
		hook->next = NULL;
		hook->closed(hook);
	}
	return ret;
}

static void type1_dma_stats(const struct vfio_backend *b,
			    struct iommu_dma_stats *out)
{
	iommu_dma_get_stats(container_of(b, struct vfio_container, be)->dma,
			    out);
}

static void type1_destroy(struct vfio_backend *b)
{
	container_free(container_of(b, struct vfio_container, be));
}

static const struct vfio_backend_ops type1_ops = {
	.open_device = type1_open_device,
	.dma_stats = type1_dma_stats,
	.destroy = type1_destroy,
};

static int type1_create(const struct vfio_backend_cfg *cfg,
			struct vfio_backend **out, char *err, size_t errlen)
{
	struct vfio_container *c;

	if (!cfg->mem) {
		log_errf(err, errlen, "vfio type1: no guest memory to map");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->be = (struct vfio_backend){ .ops = &type1_ops,
				       .type = &vfio_type1_backend };
	c->fd = -1;
	c->mem = cfg->mem;
	c->mapper.ops = &type1_mapper_ops;
	snprintf(c->dev_root, sizeof(c->dev_root), "%s",
		 dev_root_of(cfg->dev_root));
	snprintf(c->sysfs_root, sizeof(c->sysfs_root), "%s",
		 vfio_sysfs_root(cfg->sysfs_root));
	*out = &c->be;
	return 0;
}

const struct vfio_backend_type vfio_type1_backend = {
	.name = "type1",
	.host_check = type1_host_check,
	.create = type1_create,
};
