// SPDX-License-Identifier: MIT
/*
 * The shared vhost ring hand-over (vhost-user/vhost.c) driving the kernel
 * vhost-net transport (vhost-user/kernel.c) against a fake kernel that
 * records every ioctl: the order of the start sequence and every value
 * (features filtered to the kernel's offer, the tap's header size, the
 * memory table = guest RAM's regions and mappings, ring addresses in
 * iovmm's mapping, the eventfds, the tap attached as the backend), the
 * stop (backend detached before VHOST_GET_VRING_BASE, bases returned), a
 * failure mid-sequence, rings refused before any ioctl, and no fd leak.
 * The same sequence as vhost-user messages is covered by
 * test_vhu_frontend.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/gmem.h"
#include "core/util.h"
#include "emul-devices/virtio/virtio.h"
#include "vhost-user/kernel.h"
#include "vhost-user/vhost.h"

#define RING_SIZE 256
#define F_MRG_RXBUF (1ULL << 15)
#define F_VERSION_1 (1ULL << VIRTIO_F_VERSION_1)
#define F_EVENT_IDX (1ULL << VIRTIO_F_EVENT_IDX)
#define F_MAC (1ULL << 5)
#define KERNEL_OFFER (F_VERSION_1 | F_MRG_RXBUF | F_EVENT_IDX | (1ULL << VHOST_F_LOG_ALL))

/* One recorded ioctl, its argument decoded by request. */
struct call {
	int fd;
	unsigned long req;
	uint64_t a, b, c, d;
	struct vhost_memory_region r[GMEM_MAX_REGIONS];
};

static struct call calls[64];
static unsigned ncalls;
static unsigned long fail_req;  /* fail this request (0: none) */
static int fail_errno;
static uint64_t offer;
static struct gmem *mem;
static int vfd, tfd, kick[2], call_fd[2], err_fd[2];
static int fds_before;

static int count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void record(struct call *c, unsigned long req, void *arg)
{
	const struct vhost_vring_state *s = arg;
	const struct vhost_vring_file *f = arg;
	const struct vhost_vring_addr *a = arg;
	const struct vhost_memory *m = arg;

	switch (req) {
	case VHOST_SET_FEATURES:
		c->a = *(uint64_t *)arg;
		break;
	case TUNSETVNETHDRSZ:
		c->a = (uint64_t)*(int *)arg;
		break;
	case TUNSETOFFLOAD:
		c->a = (uint64_t)(uintptr_t)arg;
		break;
	case VHOST_SET_MEM_TABLE:
		c->a = m->nregions;
		memcpy(c->r, m->regions, m->nregions * sizeof(c->r[0]));
		break;
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
		c->a = s->index;
		c->b = s->num;
		break;
	case VHOST_SET_VRING_ADDR:
		c->a = a->index;
		c->b = a->desc_user_addr;
		c->c = a->avail_user_addr;
		c->d = a->used_user_addr;
		break;
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_ERR:
	case VHOST_NET_SET_BACKEND:
		c->a = f->index;
		c->b = (uint64_t)(int64_t)f->fd;
		break;
	}
}

/* The fake kernel: records, answers GET_FEATURES and GET_VRING_BASE. */
static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	struct call *c = &calls[ncalls < 64 ? ncalls++ : 63];

	*c = (struct call){ .fd = fd, .req = req };
	record(c, req, arg);
	if (req == fail_req) {
		errno = fail_errno;
		return -1;
	}
	if (req == VHOST_GET_FEATURES)
		*(uint64_t *)arg = offer;
	if (req == VHOST_GET_VRING_BASE)
		((struct vhost_vring_state *)arg)->num = 40 + ((struct vhost_vring_state *)arg)->index;
	return 0;
}

static void setup(void)
{
	struct gmem_opts o = { .size = 32 * MiB, .low_max = 16 * MiB,
			       .high_base = 64 * MiB };

	fds_before = count_fds();
	ck_assert_int_eq(gmem_create(&o, &mem), 0);
	ck_assert_uint_eq(mem->nr_regions, 2);
	for (int i = 0; i < 2; i++) {
		kick[i] = eventfd(0, EFD_CLOEXEC);
		call_fd[i] = eventfd(0, EFD_CLOEXEC);
		err_fd[i] = eventfd(0, EFD_CLOEXEC);
	}
	/* Stand-ins the fake kernel never reads. */
	vfd = eventfd(0, EFD_CLOEXEC);
	tfd = eventfd(0, EFD_CLOEXEC);
	ncalls = 0;
	fail_req = 0;
	offer = KERNEL_OFFER;
}

static void teardown(void)
{
	gmem_destroy(mem);
	for (int i = 0; i < 2; i++) {
		close(kick[i]);
		close(call_fd[i]);
		close(err_fd[i]);
	}
	ck_assert_int_eq(count_fds(), fds_before);
}

static struct vhk *create(void)
{
	struct vhk *k;
	char err[200];

	ck_assert_int_eq(vhk_create(&(struct vhk_config){
		.vhost_fd = vfd, .tap_fd = tfd, .mem = mem, .ioctl = fake_ioctl,
	}, &k, err, sizeof(err)), 0);
	return k;
}

static void rings(struct vhost_ring *r)
{
	for (uint32_t i = 0; i < 2; i++)
		r[i] = (struct vhost_ring){
			.index = i, .size = RING_SIZE, .base = (uint16_t)(7 * i),
			.enabled = true,
			.desc_gpa = 0x100000 + i * 0x10000,
			.avail_gpa = 0x104000 + i * 0x10000,
			.used_gpa = 0x108000 + i * 0x10000,
			.kick_fd = kick[i], .call_fd = call_fd[i],
			.err_fd = err_fd[i],
		};
}

static uint64_t hva(uint64_t gpa)
{
	return (uint64_t)(uintptr_t)gmem_ptr(mem, gpa, 1);
}

START_TEST(create_owns_then_asks_features)
{
	struct vhk *k = create();

	ck_assert_uint_eq(ncalls, 2);
	ck_assert_uint_eq(calls[0].req, VHOST_SET_OWNER);
	ck_assert_int_eq(calls[0].fd, vfd);
	ck_assert_uint_eq(calls[1].req, VHOST_GET_FEATURES);
	ck_assert_uint_eq(vhk_features(k), KERNEL_OFFER);
	vhk_destroy(k);
}
END_TEST

START_TEST(create_refusals_close_both_fds)
{
	struct vhk *k;
	char err[200];

	fail_req = VHOST_SET_OWNER;
	fail_errno = EBUSY;
	ck_assert_int_eq(vhk_create(&(struct vhk_config){
		.vhost_fd = vfd, .tap_fd = tfd, .mem = mem, .ioctl = fake_ioctl,
	}, &k, err, sizeof(err)), -EBUSY);
	ck_assert_ptr_null(k);
	ck_assert_ptr_nonnull(strstr(err, "already has an owner"));
	fail_req = 0;
	offer = F_MRG_RXBUF; /* no VERSION_1 */
	vfd = eventfd(0, EFD_CLOEXEC);
	tfd = eventfd(0, EFD_CLOEXEC);
	ck_assert_int_eq(vhk_create(&(struct vhk_config){
		.vhost_fd = vfd, .tap_fd = tfd, .mem = mem, .ioctl = fake_ioctl,
	}, &k, err, sizeof(err)), -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(err, "VERSION_1"));
	/* teardown counts the fds: both were closed each time */
}
END_TEST

START_TEST(start_sequence_and_values)
{
	struct vhk *k = create();
	struct vhost_dev *d = vhk_dev(k);
	struct vhost_ring r[2];
	unsigned i = 0;

	rings(r);
	ncalls = 0;
	ck_assert_int_eq(vhost_dev_start(d, F_VERSION_1 | F_MRG_RXBUF | F_MAC, r, 2, 0xf), 0);
	ck_assert(d->started);
	ck_assert_uint_eq(d->started_mask, 3);
	/* Only what the kernel offered: MAC is the device's, not vhost's. */
	ck_assert_uint_eq(calls[i].req, VHOST_SET_FEATURES);
	ck_assert_uint_eq(calls[i++].a, F_VERSION_1 | F_MRG_RXBUF);
	ck_assert_uint_eq(calls[i].req, TUNSETVNETHDRSZ);
	ck_assert_int_eq(calls[i].fd, tfd);
	ck_assert_uint_eq(calls[i++].a, 12);
	ck_assert_uint_eq(calls[i].req, TUNSETOFFLOAD);
	ck_assert_uint_eq(calls[i++].a, 0);
	ck_assert_uint_eq(calls[i].req, VHOST_SET_MEM_TABLE);
	ck_assert_uint_eq(calls[i].a, 2);
	for (unsigned m = 0; m < 2; m++) {
		ck_assert_uint_eq(calls[i].r[m].guest_phys_addr, mem->regions[m].gpa);
		ck_assert_uint_eq(calls[i].r[m].memory_size, mem->regions[m].size);
		ck_assert_uint_eq(calls[i].r[m].userspace_addr,
				  (uint64_t)(uintptr_t)mem->regions[m].hva);
	}
	i++;
	for (unsigned q = 0; q < 2; q++) {
		ck_assert_uint_eq(calls[i].req, VHOST_SET_VRING_NUM);
		ck_assert_uint_eq(calls[i].a, q);
		ck_assert_uint_eq(calls[i++].b, RING_SIZE);
		ck_assert_uint_eq(calls[i].req, VHOST_SET_VRING_BASE);
		ck_assert_uint_eq(calls[i++].b, 7 * q);
		ck_assert_uint_eq(calls[i].req, VHOST_SET_VRING_ADDR);
		ck_assert_uint_eq(calls[i].b, hva(r[q].desc_gpa));
		ck_assert_uint_eq(calls[i].c, hva(r[q].avail_gpa));
		ck_assert_uint_eq(calls[i++].d, hva(r[q].used_gpa));
		ck_assert_uint_eq(calls[i].req, VHOST_SET_VRING_CALL);
		ck_assert_uint_eq(calls[i++].b, (uint64_t)call_fd[q]);
		ck_assert_uint_eq(calls[i].req, VHOST_SET_VRING_ERR);
		ck_assert_uint_eq(calls[i++].b, (uint64_t)err_fd[q]);
	}
	/* Every ring described before any is kicked off. */
	for (unsigned q = 0; q < 2; q++) {
		ck_assert_uint_eq(calls[i].req, VHOST_SET_VRING_KICK);
		ck_assert_uint_eq(calls[i].a, q);
		ck_assert_uint_eq(calls[i++].b, (uint64_t)kick[q]);
	}
	for (unsigned q = 0; q < 2; q++) {
		ck_assert_uint_eq(calls[i].req, VHOST_NET_SET_BACKEND);
		ck_assert_uint_eq(calls[i].a, q);
		ck_assert_uint_eq(calls[i++].b, (uint64_t)tfd);
	}
	ck_assert_uint_eq(ncalls, i); /* no status on this transport */
	vhk_destroy(k);
}
END_TEST

START_TEST(stop_detaches_then_reads_bases)
{
	struct vhk *k = create();
	struct vhost_dev *d = vhk_dev(k);
	uint16_t bases[VHOST_MAX_VRINGS] = { 0 };
	struct vhost_ring r[2];

	rings(r);
	ck_assert_int_eq(vhost_dev_start(d, F_VERSION_1, r, 2, 0xf), 0);
	ncalls = 0;
	ck_assert_int_eq(vhost_dev_stop(d, bases), 0);
	ck_assert_uint_eq(ncalls, 4);
	for (unsigned q = 0; q < 2; q++) {
		ck_assert_uint_eq(calls[2 * q].req, VHOST_NET_SET_BACKEND);
		ck_assert_uint_eq(calls[2 * q].a, q);
		ck_assert_int_eq((int64_t)calls[2 * q].b, -1);
		ck_assert_uint_eq(calls[2 * q + 1].req, VHOST_GET_VRING_BASE);
		ck_assert_uint_eq(calls[2 * q + 1].a, q);
		ck_assert_uint_eq(bases[q], 40 + q);
	}
	ck_assert(!d->started);
	ck_assert_uint_eq(d->started_mask, 0);
	/* Stopped: nothing more to stop; a re-init starts again. */
	ncalls = 0;
	ck_assert_int_eq(vhost_dev_stop(d, NULL), 0);
	ck_assert_uint_eq(ncalls, 0);
	ck_assert_int_eq(vhost_dev_vring_enable(d, 0, true), -EINVAL);
	ck_assert_int_eq(vhost_dev_start(d, F_VERSION_1, r, 2, 0xf), 0);
	ck_assert(d->started);
	vhk_destroy(k);
}
END_TEST

START_TEST(legacy_header_without_version_1)
{
	struct vhk *k = create();
	struct vhost_ring r[2];

	rings(r);
	ncalls = 0;
	ck_assert_int_eq(vhost_dev_start(vhk_dev(k), F_EVENT_IDX, r, 2, 0xf), 0);
	ck_assert_uint_eq(calls[1].req, TUNSETVNETHDRSZ);
	ck_assert_uint_eq(calls[1].a, 10);
	vhk_destroy(k);
}
END_TEST

START_TEST(failure_mid_sequence_stops_there)
{
	struct vhk *k = create();
	struct vhost_dev *d = vhk_dev(k);
	struct vhost_ring r[2];

	rings(r);
	fail_req = VHOST_SET_VRING_ADDR;
	fail_errno = EFAULT;
	ncalls = 0;
	ck_assert_int_eq(vhost_dev_start(d, F_VERSION_1, r, 2, 0xf), -EFAULT);
	ck_assert(!d->started);
	ck_assert_uint_eq(d->started_mask, 0);
	/* FEATURES, HDRSZ, OFFLOAD, MEM_TABLE, NUM, BASE, ADDR: then nothing. */
	ck_assert_uint_eq(ncalls, 7);
	ck_assert_uint_eq(calls[6].req, VHOST_SET_VRING_ADDR);
	vhk_destroy(k);
}
END_TEST

START_TEST(bad_rings_refused_before_any_ioctl)
{
	struct vhk *k = create();
	struct vhost_dev *d = vhk_dev(k);
	struct vhost_ring r[2];

	ncalls = 0;
	rings(r);
	r[1].size = 100; /* not a power of two */
	ck_assert_int_eq(vhost_dev_start(d, F_VERSION_1, r, 2, 0xf), -EINVAL);
	rings(r);
	r[1].index = 0; /* the same ring twice */
	ck_assert_int_eq(vhost_dev_start(d, F_VERSION_1, r, 2, 0xf), -EINVAL);
	rings(r);
	r[0].used_gpa = 16 * MiB - 8; /* runs off the end of low RAM */
	ck_assert_int_eq(vhost_dev_start(d, F_VERSION_1, r, 2, 0xf), -EINVAL);
	rings(r);
	r[1].index = VHK_NR_VRINGS; /* vhost-net has two rings */
	ck_assert_int_eq(vhost_dev_start(d, F_VERSION_1, r, 2, 0xf), -EINVAL);
	rings(r);
	r[0].kick_fd = -1;
	ck_assert_int_eq(vhost_dev_start(d, F_VERSION_1, r, 2, 0xf), -EINVAL);
	ck_assert_int_eq(vhost_dev_start(d, F_VERSION_1, r, 0, 0xf), -EINVAL);
	ck_assert_uint_eq(ncalls, 0);
	ck_assert(!d->started);
	vhk_destroy(k);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vhost_kernel");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, create_owns_then_asks_features);
	tcase_add_test(tc, create_refusals_close_both_fds);
	tcase_add_test(tc, start_sequence_and_values);
	tcase_add_test(tc, stop_detaches_then_reads_bases);
	tcase_add_test(tc, legacy_header_without_version_1);
	tcase_add_test(tc, failure_mid_sequence_stops_there);
	tcase_add_test(tc, bad_rings_refused_before_any_ioctl);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
