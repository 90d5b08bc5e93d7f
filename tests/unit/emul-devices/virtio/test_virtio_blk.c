// SPDX-License-Identifier: MIT
/*
 * virtio-blk driven like a guest would (real PCI host + bus, gmem, I/O
 * thread) against a temporary raw image.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "emul-devices/virtio/blk.h"
#include "emul-devices/virtio/virtio.h"
#include "vdrv.h"

#define F(b) (1ULL << (b))
#define F_SIZE_MAX 1
#define F_SEG_MAX 2
#define F_RO 5
#define F_BLK_SIZE 6
#define F_FLUSH 9
#define F_DISCARD 13
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2
#define IMG_SECTORS 2048 /* 1 MiB */
#define WAIT_MS 2000

struct tblk {
	struct vdrv_env env;
	struct virtio_blk *b;
	struct vdrv d;
	struct vqd q;
	char path[64];
	int fd; /* our own view of the image */
};

static void tblk_create(struct tblk *t, bool readonly, const char *serial,
			off_t extra)
{
	struct virtio_blk_config cfg = { .readonly = readonly, .serial = serial,
					 .name = "vblk-test", .packed = true };
	char err[160] = "";

	vdrv_env_init(&t->env);
	snprintf(t->path, sizeof(t->path), "/tmp/vblk-test-XXXXXX");
	t->fd = mkstemp(t->path);
	ck_assert_int_ge(t->fd, 0);
	ck_assert_int_eq(ftruncate(t->fd, IMG_SECTORS * 512 + extra), 0);
	cfg.path = t->path;
	ck_assert_msg(virtio_blk_create(&(struct pci_dev_ctx)VDRV_CTX(&t->env),
					&cfg, &t->b, err, sizeof(err)) == 0,
		      "create: %s", err);
	ck_assert_int_eq(pci_host_add(t->env.host, virtio_blk_pci(t->b)), 0);
	ck_assert_int_eq(vdrv_probe(&t->d, &t->env, 2), 0);
}

static void tblk_start(struct tblk *t, bool packed)
{
	ck_assert_int_eq(vdrv_negotiate(&t->d, F(VIRTIO_F_VERSION_1) |
					 F(VIRTIO_F_EVENT_IDX) | F(F_FLUSH) |
					 F(F_DISCARD) | F(F_RO) | F(F_BLK_SIZE) |
					 (packed ? F(VIRTIO_F_RING_PACKED) : 0)), 0);
	ck_assert_int_eq(vqd_setup(&t->q, &t->d, 0, 0), 0);
	vdrv_driver_ok(&t->d);
}

static void tblk_destroy(struct tblk *t)
{
	vdrv_env_stop(&t->env);
	virtio_blk_destroy(t->b);
	vdrv_env_fini(&t->env);
	close(t->fd);
	unlink(t->path);
}

/*
 * One request: header (split over two descriptors), data in `dparts`
 * descriptors, status byte. Returns the status; *used gets the used length.
 */
static uint8_t tblk_req(struct tblk *t, uint32_t type, uint64_t sector,
			void *data, uint32_t len, unsigned dparts, uint32_t *used)
{
	bool in = type == T_IN || type == T_GET_ID;
	uint64_t gpa = vdrv_alloc(&t->env, 16 + len + 1, 64);
	uint8_t *p = vdrv_ptr(&t->env, gpa, 16 + len + 1);
	struct vseg s[8];
	unsigned n = 0;
	uint16_t id;
	uint32_t ulen;

	memcpy(p, &type, 4);
	memset(p + 4, 0, 4);
	memcpy(p + 8, &sector, 8);
	if (!in && len)
		memcpy(p + 16, data, len);
	p[16 + len] = 0xee;
	s[n++] = (struct vseg){ gpa, 5, false };
	s[n++] = (struct vseg){ gpa + 5, 11, false };
	for (unsigned i = 0; len && i < dparts; i++) {
		uint32_t l = len / dparts + (i == dparts - 1 ? len % dparts : 0);

		s[n++] = (struct vseg){ gpa + 16 + (uint64_t)(len / dparts) * i,
					l, in };
	}
	s[n++] = (struct vseg){ gpa + 16 + len, 1, true };
	ck_assert_int_ge(vqd_add(&t->q, s, n), 0);
	vqd_kick(&t->q);
	ck_assert_msg(vqd_wait_used(&t->q, &id, &ulen, WAIT_MS), "no completion");
	if (in && len)
		memcpy(data, p + 16, len);
	if (used)
		*used = ulen;
	return p[16 + len];
}

static void pattern(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 13 + (i >> 9));
}

START_TEST(blk_config)
{
	struct tblk t;
	uint64_t f, cap;

	tblk_create(&t, false, NULL, 300); /* not a multiple of 512 */
	f = vdrv_device_features(&t.d);
	ck_assert(f & F(VIRTIO_F_VERSION_1) && f & F(F_FLUSH));
	ck_assert(f & F(F_SIZE_MAX) && f & F(F_SEG_MAX) && f & F(F_BLK_SIZE));
	ck_assert(f & F(F_DISCARD) && !(f & F(F_RO)));
	ck_assert(f & F(VIRTIO_F_EVENT_IDX) && f & F(VIRTIO_F_INDIRECT_DESC));
	cap = vdrv_cfg_read(&t.d, 0, 4) | (uint64_t)vdrv_cfg_read(&t.d, 4, 4) << 32;
	ck_assert_uint_eq(cap, IMG_SECTORS); /* rounded down */
	ck_assert_uint_eq(virtio_blk_capacity(t.b), IMG_SECTORS);
	ck_assert_uint_gt(vdrv_cfg_read(&t.d, 12, 4), 0); /* seg_max */
	ck_assert_uint_eq(vdrv_cfg_read(&t.d, 20, 4), 512); /* blk_size */
	ck_assert_uint_gt(vdrv_cfg_read(&t.d, 36, 4), 0); /* max_discard_sectors */
	ck_assert_uint_gt(vdrv_cfg_read(&t.d, 40, 4), 0); /* max_discard_seg */
	ck_assert_uint_eq(vdrv_num_queues(&t.d), 1);
	tblk_destroy(&t);
}
END_TEST

START_TEST(blk_create_errors)
{
	struct vdrv_env env;
	struct virtio_blk *b = (void *)1;
	struct virtio_blk_config cfg = { .path = "/nonexistent/disk.img" };
	char err[160] = "";

	vdrv_env_init(&env);
	ck_assert_int_eq(virtio_blk_create(&(struct pci_dev_ctx)VDRV_CTX(&env), &cfg,
					   &b, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(err, "/nonexistent/disk.img"), "err: %s", err);
	cfg.path = "/tmp";
	ck_assert_int_eq(virtio_blk_create(&(struct pci_dev_ctx)VDRV_CTX(&env), &cfg,
					   &b, err, sizeof(err)), -EISDIR);
	cfg.path = "/dev/null";
	ck_assert_int_eq(virtio_blk_create(&(struct pci_dev_ctx)VDRV_CTX(&env), &cfg,
					   &b, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "not a regular file"), "err: %s", err);
	cfg.path = NULL;
	ck_assert_int_eq(virtio_blk_create(&(struct pci_dev_ctx)VDRV_CTX(&env), &cfg,
					   &b, err, sizeof(err)), -EINVAL);
	vdrv_env_stop(&env);
	virtio_blk_destroy(NULL);
	vdrv_env_fini(&env);
}
END_TEST

/* Write a pattern, FLUSH, read it back; the data really is in the file. */
START_TEST(blk_rw_flush)
{
	struct tblk t;
	static uint8_t w[64 * 512], r[64 * 512], f[64 * 512];
	struct virtio_blk_stats st;
	uint32_t used;

	tblk_create(&t, false, NULL, 0);
	tblk_start(&t, _i);
	pattern(w, sizeof(w), 5);
	ck_assert_uint_eq(tblk_req(&t, T_OUT, 100, w, sizeof(w), 3, &used), S_OK);
	ck_assert_uint_eq(used, 1);
	ck_assert_uint_eq(tblk_req(&t, T_FLUSH, 0, NULL, 0, 0, &used), S_OK);
	memset(r, 0, sizeof(r));
	ck_assert_uint_eq(tblk_req(&t, T_IN, 100, r, sizeof(r), 5, &used), S_OK);
	ck_assert_uint_eq(used, sizeof(r) + 1);
	ck_assert(!memcmp(w, r, sizeof(w)));
	ck_assert_int_eq(pread(t.fd, f, sizeof(f), 100 * 512), (int)sizeof(f));
	ck_assert(!memcmp(w, f, sizeof(w)));
	/* Last sector of the disk. */
	ck_assert_uint_eq(tblk_req(&t, T_OUT, IMG_SECTORS - 1, w, 512, 1, NULL), S_OK);
	ck_assert_uint_eq(tblk_req(&t, T_IN, IMG_SECTORS - 1, r, 512, 1, NULL), S_OK);
	ck_assert(!memcmp(w, r, 512));
	/* Many requests in one kick (more than one I/O-thread run). */
	for (unsigned i = 0; i < 80; i++) {
		uint64_t gpa = vdrv_alloc(&t.env, 16 + 512 + 1, 64);
		uint8_t *p = vdrv_ptr(&t.env, gpa, 16 + 513);
		uint32_t type = T_OUT;
		uint64_t sector = 200 + i;
		struct vseg s[3] = { { gpa, 16, false }, { gpa + 16, 512, false },
				     { gpa + 528, 1, true } };

		memcpy(p, &type, 4);
		memcpy(p + 8, &sector, 8);
		memset(p + 16, (int)i, 512);
		ck_assert_int_ge(vqd_add(&t.q, s, 3), 0);
	}
	vqd_kick(&t.q);
	for (unsigned i = 0; i < 80; i++) {
		uint16_t id;

		ck_assert(vqd_wait_used(&t.q, &id, &used, WAIT_MS));
	}
	for (unsigned i = 0; i < 80; i += 13) {
		ck_assert_uint_eq(tblk_req(&t, T_IN, 200 + i, r, 512, 1, NULL), S_OK);
		ck_assert_uint_eq(r[0], i);
		ck_assert_uint_eq(r[511], i);
	}
	virtio_blk_stats(t.b, &st);
	ck_assert_uint_eq(st.writes, 82);
	ck_assert_uint_eq(st.flushes, 1);
	ck_assert_uint_eq(st.ioerr + st.unsupp, 0);
	tblk_destroy(&t);
}
END_TEST

/* Out of range, bad lengths and unknown types: IOERR / UNSUPP, nothing
 * written. */
START_TEST(blk_errors)
{
	struct tblk t;
	static uint8_t w[1024], r[1024], zero[1024];
	struct virtio_blk_stats st;

	tblk_create(&t, false, NULL, 0);
	tblk_start(&t, _i);
	pattern(w, sizeof(w), 9);
	ck_assert_uint_eq(tblk_req(&t, T_OUT, IMG_SECTORS - 1, w, 1024, 1, NULL),
			  S_IOERR);
	ck_assert_uint_eq(tblk_req(&t, T_OUT, IMG_SECTORS, w, 512, 1, NULL), S_IOERR);
	ck_assert_uint_eq(tblk_req(&t, T_IN, UINT64_MAX, r, 512, 1, NULL), S_IOERR);
	ck_assert_uint_eq(tblk_req(&t, T_IN, UINT64_MAX / 512, r, 512, 1, NULL),
			  S_IOERR);
	ck_assert_uint_eq(tblk_req(&t, T_OUT, 0, w, 100, 1, NULL), S_IOERR);
	ck_assert_uint_eq(tblk_req(&t, 0x77, 0, NULL, 0, 0, NULL), S_UNSUPP);
	ck_assert_int_eq(pread(t.fd, r, 1024, (IMG_SECTORS - 1) * 512), 512);
	ck_assert(!memcmp(r, zero, 512));
	ck_assert_int_eq(pread(t.fd, r, 512, 0), 512);
	ck_assert(!memcmp(r, zero, 512));
	virtio_blk_stats(t.b, &st);
	ck_assert_uint_eq(st.ioerr, 5);
	ck_assert_uint_eq(st.unsupp, 1);
	ck_assert_uint_eq(vdrv_status(&t.d) & VIRTIO_STATUS_NEEDS_RESET, 0);
	tblk_destroy(&t);
}
END_TEST

START_TEST(blk_readonly)
{
	struct tblk t;
	static uint8_t w[4096], r[4096];
	uint64_t f;

	tblk_create(&t, true, NULL, 0);
	pattern(w, sizeof(w), 1);
	ck_assert_int_eq(pwrite(t.fd, w, sizeof(w), 512 * 8), (int)sizeof(w));
	f = vdrv_device_features(&t.d);
	ck_assert(f & F(F_RO));
	ck_assert(!(f & F(F_DISCARD)));
	tblk_start(&t, _i);
	ck_assert_uint_eq(tblk_req(&t, T_IN, 8, r, sizeof(r), 2, NULL), S_OK);
	ck_assert(!memcmp(w, r, sizeof(r)));
	memset(r, 0x5a, sizeof(r));
	ck_assert_uint_eq(tblk_req(&t, T_OUT, 8, r, sizeof(r), 1, NULL), S_IOERR);
	ck_assert_uint_eq(tblk_req(&t, T_FLUSH, 0, NULL, 0, 0, NULL), S_OK);
	ck_assert_int_eq(pread(t.fd, r, sizeof(r), 512 * 8), (int)sizeof(r));
	ck_assert(!memcmp(w, r, sizeof(r)));
	tblk_destroy(&t);
}
END_TEST

/* DISCARD punches a hole that reads back as zeroes. */
START_TEST(blk_discard)
{
	struct tblk t;
	static uint8_t w[16 * 4096], r[16 * 4096], zero[16 * 4096];
	struct { uint64_t sector; uint32_t num, flags; } d[2];
	struct stat st;

	tblk_create(&t, false, NULL, 0);
	tblk_start(&t, _i);
	pattern(w, sizeof(w), 3);
	ck_assert_uint_eq(tblk_req(&t, T_OUT, 0, w, sizeof(w), 2, NULL), S_OK);
	/* Two segments: sectors 8..23 and 64..79. */
	d[0].sector = 8, d[0].num = 16, d[0].flags = 0;
	d[1].sector = 64, d[1].num = 16, d[1].flags = 0;
	ck_assert_uint_eq(tblk_req(&t, T_DISCARD, 0, d, sizeof(d), 1, NULL), S_OK);
	ck_assert_uint_eq(tblk_req(&t, T_IN, 0, r, sizeof(r), 1, NULL), S_OK);
	ck_assert(!memcmp(r, w, 8 * 512));
	ck_assert(!memcmp(r + 8 * 512, zero, 16 * 512));
	ck_assert(!memcmp(r + 24 * 512, w + 24 * 512, 40 * 512));
	ck_assert(!memcmp(r + 64 * 512, zero, 16 * 512));
	ck_assert(!memcmp(r + 80 * 512, w + 80 * 512, 48 * 512));
	ck_assert_int_eq(fstat(t.fd, &st), 0);
	ck_assert_int_eq(st.st_size, IMG_SECTORS * 512);
	/* The unmap flag belongs to write-zeroes (§5.2.6.2). */
	d[0].flags = 1;
	ck_assert_uint_eq(tblk_req(&t, T_DISCARD, 0, d, 16, 1, NULL), S_UNSUPP);
	d[0].flags = 0;
	d[0].sector = IMG_SECTORS - 4;
	ck_assert_uint_eq(tblk_req(&t, T_DISCARD, 0, d, 16, 1, NULL), S_IOERR);
	ck_assert_uint_eq(tblk_req(&t, T_DISCARD, 0, d, 10, 1, NULL), S_IOERR);
	tblk_destroy(&t);
}
END_TEST

START_TEST(blk_get_id)
{
	struct tblk t;
	char id[20];
	const char *base;
	uint32_t used;

	tblk_create(&t, false, "serial-0123", 0);
	tblk_start(&t, _i);
	memset(id, 'x', sizeof(id));
	ck_assert_uint_eq(tblk_req(&t, T_GET_ID, 0, id, 20, 1, &used), S_OK);
	ck_assert_uint_eq(used, 21);
	ck_assert(!memcmp(id, "serial-0123\0\0\0\0\0\0\0\0\0", 20));
	tblk_destroy(&t);

	/* Default: the image's base name, cut at 20 bytes. */
	tblk_create(&t, false, NULL, 0);
	tblk_start(&t, _i);
	ck_assert_uint_eq(tblk_req(&t, T_GET_ID, 0, id, 20, 2, NULL), S_OK);
	base = strrchr(t.path, '/') + 1;
	ck_assert(!strncmp(id, base, 20));
	tblk_destroy(&t);
}
END_TEST

/*
 * A request that cannot be answered - header shorter than 16 bytes, or no
 * device-writable status byte - puts the device in NEEDS_RESET (we chose
 * this over IOERR: there is no trustworthy place to put a status).
 */
START_TEST(blk_truncated)
{
	struct tblk t;
	uint64_t gpa;
	struct vseg s[2];
	uint8_t r[512];

	tblk_create(&t, false, NULL, 0);
	tblk_start(&t, _i);
	gpa = vdrv_alloc(&t.env, 64, 64);
	s[0] = (struct vseg){ gpa, 8, false };
	s[1] = (struct vseg){ gpa + 8, 1, true };
	ck_assert_int_ge(vqd_add(&t.q, s, 2), 0);
	vqd_kick(&t.q);
	for (int i = 0; i < WAIT_MS && !(vdrv_status(&t.d) & 64); i++)
		vdrv_msleep(1);
	ck_assert_uint_eq(vdrv_status(&t.d) & VIRTIO_STATUS_NEEDS_RESET, 64);

	tblk_start(&t, _i); /* reset + re-init */
	ck_assert_uint_eq(tblk_req(&t, T_IN, 0, r, 512, 1, NULL), S_OK);
	s[0] = (struct vseg){ gpa, 16, false }; /* no status byte */
	ck_assert_int_ge(vqd_add(&t.q, s, 1), 0);
	vqd_kick(&t.q);
	for (int i = 0; i < WAIT_MS && !(vdrv_status(&t.d) & 64); i++)
		vdrv_msleep(1);
	ck_assert_uint_eq(vdrv_status(&t.d) & VIRTIO_STATUS_NEEDS_RESET, 64);
	tblk_start(&t, _i);
	ck_assert_uint_eq(tblk_req(&t, T_IN, 0, r, 512, 1, NULL), S_OK);
	tblk_destroy(&t);
}
END_TEST

/* Destroy makes the data durable (fdatasync) and closes the image. */
START_TEST(blk_destroy_syncs)
{
	struct tblk t;
	static uint8_t w[4096], r[4096];
	int fd;

	tblk_create(&t, false, NULL, 0);
	tblk_start(&t, _i);
	pattern(w, sizeof(w), 77);
	ck_assert_uint_eq(tblk_req(&t, T_OUT, 1000, w, sizeof(w), 1, NULL), S_OK);
	vdrv_env_stop(&t.env);
	virtio_blk_destroy(t.b);
	vdrv_env_fini(&t.env);
	fd = open(t.path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, r, sizeof(r), 1000 * 512), (int)sizeof(r));
	ck_assert(!memcmp(w, r, sizeof(r)));
	close(fd);
	close(t.fd);
	unlink(t.path);
}
END_TEST

static Suite *vblk_suite(void)
{
	Suite *s = suite_create("virtio_blk");
	TCase *tc = tcase_create("blk");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, blk_config);
	tcase_add_test(tc, blk_create_errors);
	tcase_add_loop_test(tc, blk_rw_flush, 0, 2);
	tcase_add_loop_test(tc, blk_errors, 0, 2);
	tcase_add_loop_test(tc, blk_readonly, 0, 2);
	tcase_add_loop_test(tc, blk_discard, 0, 2);
	tcase_add_loop_test(tc, blk_get_id, 0, 2);
	tcase_add_loop_test(tc, blk_truncated, 0, 2);
	tcase_add_loop_test(tc, blk_destroy_syncs, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vblk_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
