// SPDX-License-Identifier: MIT
/*
 * The type1 backend (vfio/container.c) against a fake kernel: open64(),
 * ioctl() and close() on the fake /dev/vfio are wrapped at link time
 * (-Wl,--wrap, as libvfio-user's tests do), everything else goes to the
 * real calls. The fake keeps what the kernel keeps (groups attached to the
 * container, the IOMMU model, DMA mappings) and a log of events, so the
 * tests see the order of unmaps, group closes and hooks:
 *  - every device of a VM shares one container and one guest RAM mapping;
 *  - a hook runs exactly once, right after its function's group is closed
 *    (at destroy), or at once when the group never opened;
 *  - guest RAM is unmapped while the IOMMU is still there.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gmem.h"
#include "core/layout.h"
#include "core/util.h"
#include "vfio/backend.h"
#include "vfio/container.h"

#include "fake_sysfs.h"

int __real_open64(const char *path, int flags, ...);
int __real_ioctl(int fd, unsigned long req, ...);
int __real_close(int fd);
int __wrap_open64(const char *path, int flags, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);
int __wrap_close(int fd);

/* ---- the fake kernel ---- */

#define FK_BASE 5000 /* fake fds: far above any real one of this process */
#define FK_MAX  32
#define TOKEN   "2c2f4d6e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"

enum fk_kind { FK_FREE, FK_CONTAINER, FK_GROUP, FK_DEVICE };

struct fk_fd {
	enum fk_kind kind;
	int group;       /* FK_GROUP */
	bool attached;   /* FK_GROUP: in the container */
};

/* The host's functions: BDF -> IOMMU group (as the fake sysfs says). */
static const struct { const char *bdf; int group; bool vf; } fk_devs[] = {
	{ "0000:01:00.1", 6, true },  /* a VF of a vfio-pci PF: token */
	{ "0000:02:00.0", 5, false },
	{ "0000:0a:00.0", 10, false }, /* two functions, one group */
	{ "0000:0a:00.1", 10, false },
	{ "0000:07:00.0", 7, false },  /* viable in sysfs, not to the kernel */
	{ "0000:08:00.0", 8, false },  /* group open in another process */
};

static struct {
	struct fk_fd fds[FK_MAX];
	unsigned containers;  /* /dev/vfio/vfio opens */
	unsigned attached;    /* groups in the container */
	unsigned set_iommu;   /* VFIO_SET_IOMMU calls that succeeded */
	int set_iommu_errno;  /* make VFIO_SET_IOMMU fail */
	bool iommu_set;
	unsigned maps, unmaps;
	uint64_t mapped;
	char last_name[128];  /* VFIO_GROUP_GET_DEVICE_FD's argument */
	char log[1024];
} fk;

static struct fake_sysfs fs;

static void fk_log(const char *fmt, ...)
{
	size_t n = strlen(fk.log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fk.log + n, sizeof(fk.log) - n, fmt, ap);
	va_end(ap);
	n = strlen(fk.log);
	snprintf(fk.log + n, sizeof(fk.log) - n, " ");
}

static struct fk_fd *fk_get(int fd)
{
	if (fd < FK_BASE || fd >= FK_BASE + FK_MAX ||
	    fk.fds[fd - FK_BASE].kind == FK_FREE)
		return NULL;
	return &fk.fds[fd - FK_BASE];
}

static int fk_new(enum fk_kind kind, int group)
{
	for (int i = 0; i < FK_MAX; i++) {
		if (fk.fds[i].kind == FK_FREE) {
			fk.fds[i] = (struct fk_fd){ .kind = kind, .group = group };
			return FK_BASE + i;
		}
	}
	errno = EMFILE;
	return -1;
}

static unsigned fk_open_fds(void)
{
	unsigned n = 0;

	for (int i = 0; i < FK_MAX; i++)
		n += fk.fds[i].kind != FK_FREE;
	return n;
}

int __wrap_open64(const char *path, int flags, ...)
{
	char pfx[160];
	mode_t mode = 0;
	va_list ap;
	int g;

	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = va_arg(ap, mode_t);
	va_end(ap);
	snprintf(pfx, sizeof(pfx), "%s/vfio/", fs.dev);
	if (strncmp(path, pfx, strlen(pfx)))
		return __real_open64(path, flags, mode);
	path += strlen(pfx);
	if (!strcmp(path, "vfio")) {
		fk.containers++;
		return fk_new(FK_CONTAINER, -1);
	}
	g = atoi(path);
	if (g == 8) {
		errno = EBUSY;
		return -1;
	}
	return fk_new(FK_GROUP, g);
}

int __wrap_close(int fd)
{
	struct fk_fd *f = fk_get(fd);

	if (!f)
		return __real_close(fd);
	if (f->kind == FK_GROUP) {
		fk_log("close-group:%d", f->group);
		/* The last group out takes the IOMMU and its mappings along. */
		if (f->attached && !--fk.attached) {
			fk.iommu_set = false;
			fk.mapped = 0;
		}
	} else if (f->kind == FK_CONTAINER) {
		fk_log("close-container");
	}
	f->kind = FK_FREE;
	return 0;
}

static int fk_errno(int e)
{
	errno = e;
	return -1;
}

/* VFIO_IOMMU_GET_INFO: 4K/2M/1G pages, two IOVA ranges around the MSI
 * window, 65535 DMA entries; the chain only when argsz has room for it. */
static int fk_iommu_info(struct vfio_iommu_type1_info *info)
{
	struct vfio_iommu_type1_info_cap_iova_range *r;
	struct vfio_iommu_type1_info_dma_avail *a;
	uint32_t roff = sizeof(*info);
	uint32_t aoff = roff + sizeof(*r) + 2 * sizeof(r->iova_ranges[0]);
	uint32_t need = aoff + sizeof(*a);
	uint32_t argsz = info->argsz;

	if (!fk.iommu_set)
		return fk_errno(EINVAL);
	info->flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	info->iova_pgsizes = 0x40201000ull;
	info->cap_offset = 0;
	info->argsz = need;
	if (argsz < need)
		return 0;
	info->cap_offset = roff;
	r = (void *)((uint8_t *)info + roff);
	r->header = (struct vfio_info_cap_header){
		.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, .version = 1,
		.next = aoff };
	r->nr_iovas = 2;
	r->iova_ranges[0].start = 0;
	r->iova_ranges[0].end = 0xfedfffff;
	r->iova_ranges[1].start = 0xfef00000;
	r->iova_ranges[1].end = (1ull << 48) - 1;
	a = (void *)((uint8_t *)info + aoff);
	a->header = (struct vfio_info_cap_header){
		.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, .version = 1 };
	a->avail = 65535;
	return 0;
}

static int fk_container_ioctl(unsigned long req, void *arg)
{
	switch (req) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return (int)(uintptr_t)arg == VFIO_TYPE1v2_IOMMU;
	case VFIO_SET_IOMMU:
		if (!fk.attached || fk.iommu_set)
			return fk_errno(EINVAL);
		if (fk.set_iommu_errno)
			return fk_errno(fk.set_iommu_errno);
		fk.iommu_set = true;
		fk.set_iommu++;
		fk_log("set-iommu");
		return 0;
	case VFIO_IOMMU_GET_INFO:
		return fk_iommu_info(arg);
	case VFIO_IOMMU_MAP_DMA: {
		struct vfio_iommu_type1_dma_map *m = arg;

		if (!fk.iommu_set)
			return fk_errno(EINVAL);
		fk.maps++;
		fk.mapped += m->size;
		fk_log("map");
		return 0;
	}
	case VFIO_IOMMU_UNMAP_DMA: {
		struct vfio_iommu_type1_dma_unmap *u = arg;

		/* After the last group the mappings are gone already. */
		if (!fk.iommu_set)
			return fk_errno(EINVAL);
		fk.unmaps++;
		fk.mapped -= u->size;
		fk_log("unmap");
		return 0;
	}
	}
	return fk_errno(ENOTTY);
}

static int fk_group_ioctl(struct fk_fd *g, unsigned long req, void *arg)
{
	switch (req) {
	case VFIO_GROUP_GET_STATUS: {
		struct vfio_group_status *st = arg;

		st->flags = (g->group == 7 ? 0 : VFIO_GROUP_FLAGS_VIABLE) |
			    (g->attached ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0);
		return 0;
	}
	case VFIO_GROUP_SET_CONTAINER:
		if (g->attached || !fk_get(*(int *)arg))
			return fk_errno(EINVAL);
		g->attached = true;
		fk.attached++;
		fk_log("attach:%d", g->group);
		return 0;
	case VFIO_GROUP_GET_DEVICE_FD: {
		const char *name = arg;
		size_t n = strcspn(name, " ");

		snprintf(fk.last_name, sizeof(fk.last_name), "%s", name);
		if (!g->attached || !fk.iommu_set)
			return fk_errno(EINVAL);
		for (size_t i = 0; i < ARRAY_SIZE(fk_devs); i++) {
			if (strlen(fk_devs[i].bdf) != n ||
			    strncmp(fk_devs[i].bdf, name, n))
				continue;
			if (fk_devs[i].group != g->group)
				return fk_errno(ENODEV);
			/* vfio_pci_core_match(): a VF of a vfio-pci PF. */
			if (fk_devs[i].vf && strcmp(name + n, " vf_token=" TOKEN))
				return fk_errno(EACCES);
			return fk_new(FK_DEVICE, g->group);
		}
		return fk_errno(ENODEV);
	}
	}
	return fk_errno(ENOTTY);
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	struct fk_fd *f = fk_get(fd);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!f)
		return __real_ioctl(fd, req, arg);
	if (f->kind == FK_CONTAINER)
		return fk_container_ioctl(req, arg);
	if (f->kind == FK_GROUP)
		return fk_group_ioctl(f, req, arg);
	if (req == VFIO_DEVICE_GET_INFO) {
		struct vfio_device_info *info = arg;

		info->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		info->num_regions = VFIO_PCI_NUM_REGIONS;
		info->num_irqs = VFIO_PCI_NUM_IRQS;
		return 0;
	}
	return fk_errno(ENOTTY);
}

/* ---- fixture ---- */

struct name_hook {
	struct vfio_group_hook h;
	const char *name;
	unsigned calls;
};

static void name_closed(struct vfio_group_hook *h)
{
	struct name_hook *nh = container_of(h, struct name_hook, h);

	nh->calls++;
	fk_log("hook:%s", nh->name);
}

static struct gmem *mem;
static struct vfio_backend *be;

static void setup(void)
{
	struct gmem_opts o = { .size = 4 * 1024 * 1024,
			       .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };
	struct vfio_backend_cfg cfg;
	char err[256];

	memset(&fk, 0, sizeof(fk));
	fake_sysfs_create(&fs, "iovmm-vfio-type1");
	for (size_t i = 0; i < ARRAY_SIZE(fk_devs); i++)
		fake_sysfs_add(&fs, &(struct fake_sysfs_dev){
			.bdf = fk_devs[i].bdf, .driver = "vfio-pci",
			.group = fk_devs[i].group });
	fake_sysfs_add_devnode(&fs, "vfio/vfio");
	ck_assert_int_eq(gmem_create(&o, &mem), 0);
	cfg = (struct vfio_backend_cfg){ .mem = mem, .sysfs_root = fs.sys,
					 .dev_root = fs.dev };
	ck_assert_int_eq(vfio_type1_backend.create(&cfg, &be, err, sizeof(err)), 0);
}

static void teardown(void)
{
	vfio_backend_destroy(be);
	be = NULL;
	gmem_destroy(mem);
	fake_sysfs_destroy(&fs);
	ck_assert_uint_eq(fk_open_fds(), 0);
}

static int open_dev(const char *bdf, const char *token, struct name_hook *h,
		    struct vfio_device **d, char *err, size_t errlen)
{
	struct vfio_open_req req = { .host = bdf, .vf_token = token,
				     .on_closed = h ? &h->h : NULL };

	*d = NULL;
	return be->ops->open_device(be, &req, d, err, errlen);
}

/* The log from the first occurrence of `from` on. */
static const char *log_from(const char *from)
{
	const char *p = strstr(fk.log, from);

	ck_assert_msg(p, "no '%s' in: %s", from, fk.log);
	return p;
}

/* ---- tests ---- */

START_TEST(no_device_opens_nothing)
{
	struct iommu_dma_stats st;

	vfio_backend_dma_stats(be, &st);
	ck_assert_uint_eq(st.entries, 0);
	vfio_backend_dma_stats(NULL, &st);
	ck_assert_uint_eq(st.entries, 0);
	vfio_backend_destroy(be);
	be = NULL;
	ck_assert_uint_eq(fk.containers, 0);
	ck_assert_str_eq(fk.log, "");
}
END_TEST

START_TEST(devices_share_one_container_and_mapping)
{
	struct vfio_device *a, *b, *c, *again;
	struct vfio_iommu_caps caps;
	struct iommu_dma_stats st;
	char err[256];

	ck_assert_int_eq(open_dev("0000:01:00.1", TOKEN, NULL, &a, err, sizeof(err)), 0);
	ck_assert_str_eq(fk.last_name, "0000:01:00.1 vf_token=" TOKEN);
	ck_assert_str_eq(a->name, "0000:01:00.1");
	ck_assert(a->flags & VFIO_DEVICE_FLAGS_PCI);
	ck_assert_int_eq(open_dev("/sys/bus/pci/devices/0000:02:00.0", NULL, NULL,
				  &b, err, sizeof(err)), 0);
	ck_assert_str_eq(fk.last_name, "0000:02:00.0");
	ck_assert_int_eq(open_dev("0a:00.0", NULL, NULL, &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(fk.containers, 1);
	ck_assert_uint_eq(fk.attached, 3);
	ck_assert_uint_eq(fk.set_iommu, 1);
	/* Guest RAM (one region) mapped once, with the first group. */
	ck_assert_uint_eq(fk.maps, 1);
	ck_assert_uint_eq(fk.mapped, 4 * 1024 * 1024);
	ck_assert_str_eq(fk.log, "attach:6 set-iommu map attach:5 attach:10 ");
	vfio_backend_dma_stats(be, &st);
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_uint_eq(st.bytes, 4 * 1024 * 1024);
	vfio_type1_iommu_caps(be, &caps);
	ck_assert_uint_eq(caps.pgsizes, 0x40201000ull);
	ck_assert_uint_eq(caps.nr_ranges, 2);
	ck_assert_uint_eq(caps.ranges[1].start, 0xfef00000);
	ck_assert_uint_eq(caps.dma_avail, 65535);
	/* The same function twice: refused, the first stays. */
	ck_assert_int_eq(open_dev("0000:02:00.0", NULL, NULL, &again, err, sizeof(err)), -EBUSY);
	ck_assert_str_eq(err, "0000:02:00.0 is assigned twice");
	ck_assert_ptr_null(again);
	c->ops->release(c);
	a->ops->release(a);
	/* A released function opens again, its group still attached. */
	ck_assert_int_eq(open_dev("0000:01:00.1", TOKEN, NULL, &a, err, sizeof(err)), 0);
	ck_assert_uint_eq(fk.attached, 3);
	ck_assert_uint_eq(fk.maps, 1);
	/* Container, three groups, a and b. */
	ck_assert_uint_eq(fk_open_fds(), 1 + 3 + 2);
	a->ops->release(a);
	b->ops->release(b);
}
END_TEST

START_TEST(hooks_run_after_their_group_closes)
{
	struct name_hook ha = { .h.closed = name_closed, .name = "A" };
	struct name_hook hb = { .h.closed = name_closed, .name = "B" };
	struct name_hook hc = { .h.closed = name_closed, .name = "C" };
	struct name_hook hd = { .h.closed = name_closed, .name = "D" };
	struct vfio_device *a, *b, *c, *d;
	char err[256];

	ck_assert_int_eq(open_dev("0000:01:00.1", TOKEN, &ha, &a, err, sizeof(err)), 0);
	ck_assert_int_eq(open_dev("0000:02:00.0", NULL, &hb, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(open_dev("0000:0a:00.0", NULL, &hc, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(open_dev("0000:0a:00.1", NULL, &hd, &d, err, sizeof(err)), 0);
	/* Releasing the devices closes no group: no hook yet. */
	d->ops->release(d);
	c->ops->release(c);
	b->ops->release(b);
	a->ops->release(a);
	ck_assert_uint_eq(ha.calls + hb.calls + hc.calls + hd.calls, 0);
	ck_assert_uint_eq(fk.attached, 3);
	vfio_backend_destroy(be);
	be = NULL;
	/*
	 * Unmapped while the IOMMU is there, then groups in reverse order,
	 * each group's hooks right after its close, the container last.
	 */
	ck_assert_str_eq(log_from("unmap"),
			 "unmap close-group:10 hook:D hook:C close-group:5 hook:B "
			 "close-group:6 hook:A close-container ");
	ck_assert_uint_eq(ha.calls, 1);
	ck_assert_uint_eq(hb.calls, 1);
	ck_assert_uint_eq(hc.calls, 1);
	ck_assert_uint_eq(hd.calls, 1);
	ck_assert_uint_eq(fk.unmaps, 1);
}
END_TEST

START_TEST(hooks_on_refusals)
{
	struct name_hook h[6];
	struct vfio_device *d, *ok;
	char err[256];

	for (int i = 0; i < 6; i++)
		h[i] = (struct name_hook){ .h.closed = name_closed,
					   .name = (const char *[]){ "bad", "busy",
						"notviable", "token", "twice", "ok" }[i] };
	/* Nothing opened: the hook runs before open_device returns. */
	ck_assert_int_eq(open_dev("0000:09:00.0", NULL, &h[0], &d, err, sizeof(err)), -ENODEV);
	ck_assert_str_eq(err, "vfio-pci: no PCI device 0000:09:00.0 (see iovmm vfio list)");
	ck_assert_uint_eq(h[0].calls, 1);
	ck_assert_int_eq(open_dev("0000:08:00.0", NULL, &h[1], &d, err, sizeof(err)), -EBUSY);
	ck_assert_msg(strstr(err, "IOMMU group 8 is in use by another process"), "%s", err);
	ck_assert_uint_eq(h[1].calls, 1);
	/* Opened, refused and closed again: the hook runs after the close. */
	ck_assert_int_eq(open_dev("0000:07:00.0", NULL, &h[2], &d, err, sizeof(err)), -EBUSY);
	ck_assert_msg(strstr(err, "IOMMU group 7 is not viable"), "%s", err);
	ck_assert_uint_eq(h[2].calls, 1);
	ck_assert_str_eq(log_from("close-group:7"), "close-group:7 hook:notviable ");
	ck_assert_ptr_null(d);
	/* The group attaches, the device fd is refused: the group stays. */
	ck_assert_int_eq(open_dev("0000:01:00.1", NULL, &h[3], &d, err, sizeof(err)), -EACCES);
	ck_assert_msg(strstr(err, "needs its VF token"), "%s", err);
	ck_assert_uint_eq(h[3].calls, 0);
	ck_assert_int_eq(open_dev("0000:02:00.0", NULL, &h[5], &ok, err, sizeof(err)), 0);
	ck_assert_int_eq(open_dev("0000:02:00.0", NULL, &h[4], &d, err, sizeof(err)), -EBUSY);
	ck_assert_uint_eq(h[4].calls + h[5].calls, 0);
	ok->ops->release(ok);
	vfio_backend_destroy(be);
	be = NULL;
	ck_assert_str_eq(log_from("unmap"),
			 "unmap close-group:5 hook:twice hook:ok close-group:6 "
			 "hook:token close-container ");
	for (int i = 0; i < 6; i++)
		ck_assert_msg(h[i].calls == 1, "%s: %u calls", h[i].name, h[i].calls);
}
END_TEST

/*
 * No interrupt remapping: type1 refuses VFIO_SET_IOMMU. The group goes
 * again (and its hook runs); the next open tries from scratch.
 */
START_TEST(iommu_refusal_then_retry)
{
	struct name_hook h = { .h.closed = name_closed, .name = "A" };
	struct vfio_device *d;
	char err[256];

	fk.set_iommu_errno = EPERM;
	ck_assert_int_eq(open_dev("0000:02:00.0", NULL, &h, &d, err, sizeof(err)), -EPERM);
	ck_assert_msg(strstr(err, "host has no interrupt remapping; refusing"), "%s", err);
	ck_assert_uint_eq(h.calls, 1);
	ck_assert_uint_eq(fk.attached, 0);
	fk.set_iommu_errno = 0;
	ck_assert_int_eq(open_dev("0000:02:00.0", NULL, NULL, &d, err, sizeof(err)), 0);
	ck_assert_uint_eq(fk.set_iommu, 1);
	ck_assert_uint_eq(fk.maps, 1);
	ck_assert_uint_eq(fk.containers, 1);
	d->ops->release(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vfio-type1");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, no_device_opens_nothing);
	tcase_add_test(tc, devices_share_one_container_and_mapping);
	tcase_add_test(tc, hooks_run_after_their_group_closes);
	tcase_add_test(tc, hooks_on_refusals);
	tcase_add_test(tc, iommu_refusal_then_retry);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
