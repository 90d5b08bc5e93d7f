// SPDX-License-Identifier: MIT
/*
 * The vhost-user front-end against a scripted back end (fake_backend.c,
 * which answers through the real validating dispatcher): handshake and
 * its refusals, the ring start/stop sequence and every value sent (memory
 * table = the guest memfd at its offsets, vring addresses = iovmm's
 * mapping, kick/call = our eventfds), REPLY_ACK, CONFIGURE_MEM_SLOTS,
 * INFLIGHT_SHMFD across back ends, reconnection with back-off (client and
 * server), malformed replies, silent back ends, and no fd leak.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/gmem.h"
#include "core/ioloop.h"
#include "core/util.h"
#include "emul-devices/virtio/virtio.h"
#include "vhost-user/frontend.h"
#include "fake_backend.h"

#define F_MRG (1ULL << 15)
#define F_BASE (1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_EVENT_IDX | F_MRG)
#define RING_SIZE 256

static char path[108];
static struct gmem *mem;
static struct ioloop *io;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct fb fb;
static struct vhu_frontend *fe;
static unsigned nconnected, ndisconnected;
static int kick[2], call[2];
static int fds_before;

static int count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void on_connected(void *opaque)
{
	nconnected++;
}

static void on_disconnected(void *opaque)
{
	ndisconnected++;
}

static const struct vhu_frontend_ops ops = {
	.connected = on_connected,
	.disconnected = on_disconnected,
};

static struct vhu_frontend_config cfg_default(void)
{
	return (struct vhu_frontend_config){
		.path = path, .name = "test-fe", .nr_vrings = 2, .nr_pairs = 1,
		.features = F_BASE | 1ULL << VIRTIO_F_INDIRECT_DESC,
		.mem = mem, .io = io, .lock = &lock, .ops = &ops,
		.timeout_ms = 500,
	};
}

static void setup(void)
{
	/* Two RAM regions (16 MiB low, 16 MiB high), like a big guest. */
	struct gmem_opts o = { .size = 32 * MiB, .low_max = 16 * MiB,
			       .high_base = 4 * GiB };

	fds_before = count_fds();
	snprintf(path, sizeof(path), "/tmp/vhu-fe-test-%d.sock", getpid());
	ck_assert_int_eq(gmem_create(&o, &mem), 0);
	ck_assert_uint_eq(mem->nr_regions, 2);
	ck_assert_int_eq(ioloop_create(&io), 0);
	ck_assert_int_eq(ioloop_start(io), 0);
	fb_init(&fb, path);
	nconnected = ndisconnected = 0;
	for (int i = 0; i < 2; i++) {
		kick[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		call[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}
	fe = NULL;
}

static void teardown(void)
{
	ioloop_stop(io);
	vhu_fe_destroy(fe);
	fb_stop(&fb);
	ioloop_destroy(io);
	gmem_destroy(mem);
	for (int i = 0; i < 2; i++) {
		close(kick[i]);
		close(call[i]);
	}
	unlink(path);
	ck_assert_int_eq(count_fds(), fds_before);
}

static void rings(struct vhost_ring *r, uint16_t base)
{
	for (uint32_t i = 0; i < 2; i++)
		r[i] = (struct vhost_ring){
			.index = i, .size = RING_SIZE, .base = base,
			.enabled = true,
			.desc_gpa = 0x100000 + i * 0x10000,
			.avail_gpa = 0x104000 + i * 0x10000,
			.used_gpa = 0x108000 + i * 0x10000,
			.kick_fd = kick[i], .call_fd = call[i],
		};
}

static int create(struct vhu_frontend_config *c, char *err)
{
	int ret = vhu_fe_create(c, &fe, err, 200);

	if (!ret)
		ck_assert_int_eq(vhu_fe_run(fe), 0);
	return ret;
}

static int start(uint64_t features, uint16_t base)
{
	struct vhost_ring r[2];
	int ret;

	rings(r, base);
	pthread_mutex_lock(&lock);
	ret = vhu_fe_start(fe, features, r, 2, 0xf);
	pthread_mutex_unlock(&lock);
	return ret;
}

static bool pred_connections(struct fb *f, void *arg)
{
	return f->connections >= *(unsigned *)arg;
}

static bool pred_kicks(struct fb *f, void *arg)
{
	return f->kick_fd[0] >= 0 && f->kick_fd[1] >= 0;
}

static bool fe_is_connected(void)
{
	bool c;

	pthread_mutex_lock(&lock);
	c = vhu_fe_connected(fe);
	pthread_mutex_unlock(&lock);
	return c;
}

/* Poll (the front-end reconnects on its own thread) for up to ms. */
static bool wait_fe(bool want_connected, unsigned want_connects, int ms)
{
	struct vhu_fe_stats s;

	for (int t = 0; t < ms; t += 5) {
		pthread_mutex_lock(&lock);
		vhu_fe_get_stats(fe, &s);
		bool ok = vhu_fe_connected(fe) == want_connected &&
			  s.connects >= want_connects;
		pthread_mutex_unlock(&lock);
		if (ok)
			return true;
		usleep(5000);
	}
	return false;
}

/* Is the fd the back end received the same eventfd as ours? */
static void same_eventfd(int ours, int theirs)
{
	uint64_t v = 0;

	ck_assert_int_ge(theirs, 0);
	ck_assert_int_eq(write(ours, &(uint64_t){ 3 }, 8), 8);
	ck_assert_int_eq(read(theirs, &v, 8), 8);
	ck_assert_uint_eq(v, 3);
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

/* ---- tests ---- */

START_TEST(handshake_start_stop)
{
	struct vhu_frontend_config c = cfg_default();
	static const uint32_t want[] = {
		VHU_GET_FEATURES, VHU_GET_PROTOCOL_FEATURES,
		VHU_SET_PROTOCOL_FEATURES, VHU_SET_OWNER, VHU_SET_FEATURES,
		VHU_SET_MEM_TABLE,
		VHU_SET_VRING_NUM, VHU_SET_VRING_BASE, VHU_SET_VRING_ADDR,
		VHU_SET_VRING_CALL,
		VHU_SET_VRING_NUM, VHU_SET_VRING_BASE, VHU_SET_VRING_ADDR,
		VHU_SET_VRING_CALL,
		VHU_SET_VRING_KICK, VHU_SET_VRING_KICK,
		VHU_SET_VRING_ENABLE, VHU_SET_VRING_ENABLE, VHU_SET_STATUS,
	};
	uint16_t bases[VHU_FE_MAX_VRINGS] = { 0 };
	char err[200];

	fb.vring_base = 77;
	fb_start(&fb);
	ck_assert_int_eq(create(&c, err), 0);
	ck_assert_uint_eq(vhu_fe_backend_features(fe), fb.features);
	/* Only the wanted protocol features are taken. */
	ck_assert_uint_eq(fb.acked_protocol, fb.protocol);
	/* Guest features are filtered to the pass-through mask and offer. */
	ck_assert_int_eq(start(F_BASE | 1ULL << 5 /* MAC */ |
			       1ULL << VIRTIO_F_INDIRECT_DESC, 0), 0);
	ck_assert_uint_eq(fb.acked_features,
			  F_BASE | 1ULL << VHU_F_PROTOCOL_FEATURES);
	ck_assert_uint_eq(fb.nlog, ARRAY_SIZE(want));
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
		ck_assert_msg(fb.log[i] == want[i], "msg %u: got %u want %u", i,
			      fb.log[i], want[i]);
		/* REPLY_ACK: everything without its own reply asks for one. */
		if (i >= 4 && want[i] != VHU_GET_VRING_BASE)
			ck_assert(fb.log_flags[i] & VHU_FLAG_NEED_REPLY);
	}
	/* Memory table: the guest memfd at each region's offset. */
	ck_assert_uint_eq(fb.mem.nregions, 2);
	ck_assert_uint_eq(fb.mem_fds, 2);
	ck_assert(same_file(fb.mem_fd, mem->fd));
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_uint_eq(fb.mem.regions[i].gpa, mem->regions[i].gpa);
		ck_assert_uint_eq(fb.mem.regions[i].size, mem->regions[i].size);
		ck_assert_uint_eq(fb.mem.regions[i].uaddr,
				  (uintptr_t)mem->regions[i].hva);
		ck_assert_uint_eq(fb.mem.regions[i].mmap_offset,
				  mem->regions[i].fd_offset);
	}
	/* Rings: our mapping of the guest's rings, our eventfds. */
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_uint_eq(fb.vring_num[i], RING_SIZE);
		ck_assert_uint_eq(fb.vring_base_set[i], 0);
		ck_assert_uint_eq(fb.vring_addr[i].desc,
				  (uintptr_t)gmem_ptr(mem, 0x100000 + i * 0x10000, 1));
		ck_assert_uint_eq(fb.vring_addr[i].avail,
				  (uintptr_t)gmem_ptr(mem, 0x104000 + i * 0x10000, 1));
		ck_assert_uint_eq(fb.vring_addr[i].used,
				  (uintptr_t)gmem_ptr(mem, 0x108000 + i * 0x10000, 1));
		ck_assert_int_eq(fb.enabled[i], 1);
		same_eventfd(kick[i], fb.kick_fd[i]);
		same_eventfd(fb.call_fd[i], call[i]);
	}
	ck_assert_uint_eq(fb.status, 0xf);
	ck_assert(vhu_fe_started(fe));

	/* Stop: disable, GET_VRING_BASE per ring, status 0. */
	fb_clear_log(&fb);
	pthread_mutex_lock(&lock);
	ck_assert_int_eq(vhu_fe_stop(fe, bases, false), 0);
	pthread_mutex_unlock(&lock);
	ck_assert_uint_eq(bases[0], 77);
	ck_assert_uint_eq(bases[1], 77);
	ck_assert_uint_eq(fb_count(&fb, VHU_GET_VRING_BASE), 2);
	ck_assert_int_lt(fb_find(&fb, VHU_SET_VRING_ENABLE, 0),
			 fb_find(&fb, VHU_GET_VRING_BASE, 0));
	ck_assert_uint_eq(fb.status, 0);
	ck_assert(!vhu_fe_started(fe));
	/* A restart after a reset sends no second memory table. */
	fb_clear_log(&fb);
	ck_assert_int_eq(start(F_BASE, 0), 0);
	ck_assert_uint_eq(fb_count(&fb, VHU_SET_MEM_TABLE), 0);
	ck_assert_uint_eq(fb.dispatch_errors, 0);
}
END_TEST

START_TEST(no_protocol_features)
{
	struct vhu_frontend_config c = cfg_default();
	char err[200];

	fb.features = F_BASE; /* a back end without PROTOCOL_FEATURES */
	fb_start(&fb);
	ck_assert_int_eq(create(&c, err), 0);
	ck_assert_int_eq(start(F_BASE, 5), 0);
	/* Nothing acks: wait until the back end has read the last kick. */
	ck_assert(fb_wait(&fb, pred_kicks, NULL, 2000));
	/* No protocol messages, no ENABLE (rings run on their kick fd). */
	ck_assert_uint_eq(fb_count(&fb, VHU_GET_PROTOCOL_FEATURES), 0);
	ck_assert_uint_eq(fb_count(&fb, VHU_SET_VRING_ENABLE), 0);
	ck_assert_uint_eq(fb_count(&fb, VHU_SET_STATUS), 0);
	ck_assert_uint_eq(fb.vring_base_set[1], 5);
	ck_assert_uint_eq(fb.acked_features, F_BASE);
	for (unsigned i = 0; i < fb.nlog; i++)
		ck_assert(!(fb.log_flags[i] & VHU_FLAG_NEED_REPLY));
	ck_assert_uint_eq(fb.dispatch_errors, 0);
}
END_TEST

START_TEST(refusals_at_start)
{
	struct vhu_frontend_config c = cfg_default();
	char err[200] = "";
	int s;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	/* No socket file. */
	ck_assert_int_eq(create(&c, err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "does not exist"));
	/* A socket file nobody listens on. */
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(create(&c, err), -ECONNREFUSED);
	ck_assert_ptr_nonnull(strstr(err, "refused"));
	close(s);
	unlink(path);
	/* A back end without VERSION_1. */
	fb.features &= ~(1ULL << VIRTIO_F_VERSION_1);
	fb_start(&fb);
	ck_assert_int_eq(create(&c, err), -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(err, "VERSION_1"));
	/* Multiqueue asked, back end serves fewer pairs. */
	fb.features |= 1ULL << VIRTIO_F_VERSION_1;
	fb.queue_num = 1;
	c.nr_vrings = 4;
	c.nr_pairs = 2;
	ck_assert_int_eq(create(&c, err), -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(err, "queue pairs"));
	fb.protocol &= ~(1ULL << VHU_PROTOCOL_F_MQ);
	ck_assert_int_eq(create(&c, err), -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(err, "multiqueue"));
	/* A path too long for sun_path. */
	char longpath[160];

	memset(longpath, 'x', 150);
	longpath[150] = '\0';
	c.path = longpath;
	ck_assert_int_eq(create(&c, err), -ENAMETOOLONG);
	fe = NULL;
}
END_TEST

START_TEST(mem_slots_and_inflight)
{
	struct vhu_frontend_config c = cfg_default();
	unsigned one = 1, two = 2;
	uint8_t *p;
	char err[200];

	fb.protocol |= 1ULL << VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS |
		       1ULL << VHU_PROTOCOL_F_INFLIGHT_SHMFD |
		       1ULL << VHU_PROTOCOL_F_CONFIG;
	fb_start(&fb);
	ck_assert_int_eq(create(&c, err), 0);
	ck_assert(fb_wait(&fb, pred_connections, &one, 1000));
	ck_assert_uint_eq(fb_count(&fb, VHU_GET_MAX_MEM_SLOTS), 1);
	ck_assert_int_eq(start(F_BASE, 0), 0);
	/* One ADD_MEM_REG (one fd) per region, no SET_MEM_TABLE. */
	ck_assert_uint_eq(fb_count(&fb, VHU_SET_MEM_TABLE), 0);
	ck_assert_uint_eq(fb_count(&fb, VHU_ADD_MEM_REG), 2);
	ck_assert_uint_eq(fb.nadded, 2);
	ck_assert_uint_eq(fb.added[1].gpa, 4 * GiB);
	ck_assert_uint_eq(fb.added[1].mmap_offset, mem->regions[1].fd_offset);
	ck_assert(same_file(fb.mem_fd, mem->fd));
	/* Inflight: asked for all vrings, handed back, before the kicks. */
	ck_assert_uint_eq(fb.inflight_req.num_queues, 2);
	ck_assert_uint_eq(fb.inflight_req.queue_size, RING_SIZE);
	ck_assert(same_file(fb.inflight_got, fb.inflight_made));
	ck_assert_int_lt(fb_find(&fb, VHU_SET_INFLIGHT_FD, 0),
			 fb_find(&fb, VHU_SET_VRING_KICK, 0));
	ck_assert_int_gt(fb_find(&fb, VHU_SET_INFLIGHT_FD, 0),
			 fb_find(&fb, VHU_SET_VRING_CALL, 1));
	/* The back end writes its inflight state, then dies. */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fb.inflight_made, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	p[100] = 0x5a;
	munmap(p, 4096);
	fb_clear_log(&fb);
	fb_hangup(&fb);
	ck_assert(fb_wait(&fb, pred_connections, &two, 3000));
	ck_assert(wait_fe(true, 2, 3000));
	/* Its successor gets the same region (no new GET_INFLIGHT_FD). */
	ck_assert_int_eq(start(F_BASE, 9), 0);
	ck_assert_uint_eq(fb_count(&fb, VHU_GET_INFLIGHT_FD), 0);
	ck_assert_uint_eq(fb_count(&fb, VHU_ADD_MEM_REG), 2);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fb.inflight_got, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_uint_eq(p[100], 0x5a);
	munmap(p, 4096);
	ck_assert_uint_eq(fb.vring_base_set[0], 9);
	/* A device reset forgets it: the next start asks afresh. */
	pthread_mutex_lock(&lock);
	ck_assert_int_eq(vhu_fe_stop(fe, NULL, false), 0);
	pthread_mutex_unlock(&lock);
	ck_assert_int_eq(start(F_BASE, 0), 0);
	ck_assert_uint_eq(fb_count(&fb, VHU_GET_INFLIGHT_FD), 1);
	ck_assert_uint_eq(fb.dispatch_errors, 0);
}
END_TEST

START_TEST(inflight_must_be_memory)
{
	struct vhu_frontend_config c = cfg_default();
	char err[200];

	fb.protocol |= 1ULL << VHU_PROTOCOL_F_INFLIGHT_SHMFD;
	fb.inflight_eventfd = true;
	fb_start(&fb);
	ck_assert_int_eq(create(&c, err), 0);
	/* An eventfd is not an inflight region: refused, never passed on. */
	ck_assert_int_eq(start(F_BASE, 0), -EBADMSG);
	ck_assert(!vhu_fe_started(fe));
	ck_assert_uint_eq(fb_count(&fb, VHU_SET_INFLIGHT_FD), 0);
}
END_TEST

START_TEST(reconnect_client)
{
	struct vhu_frontend_config c = cfg_default();
	unsigned two = 2;
	struct vhu_fe_stats s;
	struct timespec t0, t1;
	char err[200];

	fb_start(&fb);
	ck_assert_int_eq(create(&c, err), 0);
	ck_assert_int_eq(start(F_BASE, 0), 0);
	/* The back end dies: link-down callback, quick reconnection. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fb_hangup(&fb);
	ck_assert(fb_wait(&fb, pred_connections, &two, 2000));
	ck_assert(wait_fe(true, 2, 2000));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000 +
			 (t1.tv_nsec - t0.tv_nsec) / 1000000, 1000);
	pthread_mutex_lock(&lock);
	ck_assert_uint_eq(ndisconnected, 1);
	ck_assert_uint_eq(nconnected, 1);
	ck_assert(!vhu_fe_started(fe));
	pthread_mutex_unlock(&lock);

	/* Gone for a while: attempts back off but never stop. */
	fb_stop(&fb);
	ck_assert(wait_fe(false, 2, 2000));
	usleep(700 * 1000);
	pthread_mutex_lock(&lock);
	vhu_fe_get_stats(fe, &s);
	pthread_mutex_unlock(&lock);
	/* 10, 20, 40, 80, 160, 320 ms...: a handful, not hundreds. */
	ck_assert_uint_ge(s.attempts, 4);
	ck_assert_uint_le(s.attempts, 12);
	fb_init(&fb, path);
	fb_start(&fb);
	ck_assert(wait_fe(true, 3, 3000));
	pthread_mutex_lock(&lock);
	ck_assert_uint_eq(nconnected, 2);
	pthread_mutex_unlock(&lock);
}
END_TEST

START_TEST(reconnect_needs_same_features)
{
	struct vhu_frontend_config c = cfg_default();
	struct vhu_fe_stats s;
	char err[200];

	fb_start(&fb);
	ck_assert_int_eq(create(&c, err), 0);
	/* The next back end lacks MRG_RXBUF, which the first one offered. */
	pthread_mutex_lock(&fb.lock);
	fb.features &= ~F_MRG;
	pthread_mutex_unlock(&fb.lock);
	fb_hangup(&fb);
	usleep(400 * 1000);
	ck_assert(!fe_is_connected());
	pthread_mutex_lock(&lock);
	vhu_fe_get_stats(fe, &s);
	pthread_mutex_unlock(&lock);
	ck_assert_uint_eq(s.connects, 1);
	ck_assert_uint_ge(s.attempts, 3);
	/* A proper one is accepted. */
	pthread_mutex_lock(&fb.lock);
	fb.features |= F_MRG;
	pthread_mutex_unlock(&fb.lock);
	ck_assert(wait_fe(true, 2, 3000));
}
END_TEST

START_TEST(malformed_reply_drops)
{
	struct vhu_frontend_config c = cfg_default();
	unsigned two = 2;
	char err[200];

	fb.bad_reply_at = VHU_SET_VRING_ADDR;
	fb_start(&fb);
	ck_assert_int_eq(create(&c, err), 0);
	ck_assert_int_eq(start(F_BASE, 0), -EBADMSG);
	ck_assert(!vhu_fe_started(fe));
	/* Dropped, then reconnected (the script fired once). */
	ck_assert(fb_wait(&fb, pred_connections, &two, 2000));
	ck_assert(wait_fe(true, 2, 2000));
	ck_assert_int_eq(start(F_BASE, 0), 0);
}
END_TEST

START_TEST(silent_backend_times_out)
{
	struct vhu_frontend_config c = cfg_default();
	struct timespec t0, t1;
	long ms;
	char err[200];

	fb.silent_at = VHU_SET_MEM_TABLE;
	fb_start(&fb);
	c.timeout_ms = 300;
	ck_assert_int_eq(create(&c, err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(start(F_BASE, 0), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_ge(ms, 250);
	ck_assert_int_lt(ms, 2000);
	ck_assert(wait_fe(true, 2, 3000));
}
END_TEST

START_TEST(hangup_mid_handshake)
{
	struct vhu_frontend_config c = cfg_default();
	char err[200];

	fb.hangup_at = VHU_SET_OWNER;
	fb_start(&fb);
	ck_assert_int_ne(create(&c, err), 0);
	fe = NULL;
	/* The second attempt (script spent) works. */
	ck_assert_int_eq(create(&c, err), 0);
}
END_TEST

START_TEST(server_mode)
{
	struct vhu_frontend_config c = cfg_default();
	unsigned two = 2;
	char err[200];

	c.server = true;
	c.accept_timeout_ms = 3000;
	fb.connect_mode = true;
	fb_start(&fb);
	ck_assert_int_eq(create(&c, err), 0);
	ck_assert_int_eq(start(F_BASE, 0), 0);
	fb_hangup(&fb);
	ck_assert(fb_wait(&fb, pred_connections, &two, 2000));
	ck_assert(wait_fe(true, 2, 2000));
	pthread_mutex_lock(&lock);
	ck_assert_uint_eq(ndisconnected, 1);
	ck_assert_uint_eq(nconnected, 1);
	pthread_mutex_unlock(&lock);
	ck_assert_int_eq(start(F_BASE, 3), 0);
	ck_assert_uint_eq(fb.vring_base_set[0], 3);
}
END_TEST

START_TEST(server_mode_errors)
{
	struct vhu_frontend_config c = cfg_default();
	char err[200];
	int fd;

	c.server = true;
	c.accept_timeout_ms = 200;
	ck_assert_int_eq(create(&c, err), -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(err, "no back end"));
	/* A regular file in the way is not replaced. */
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(create(&c, err), -EADDRINUSE);
	ck_assert_ptr_nonnull(strstr(err, "not a socket"));
	unlink(path);
	/* Nor a live listener. */
	fb_start(&fb);
	ck_assert_int_eq(create(&c, err), -EADDRINUSE);
	fe = NULL;
}
END_TEST

START_TEST(bad_rings)
{
	struct vhu_frontend_config c = cfg_default();
	struct vhost_ring r[2];
	char err[200];

	fb_start(&fb);
	ck_assert_int_eq(create(&c, err), 0);
	rings(r, 0);
	pthread_mutex_lock(&lock);
	r[1].index = 0; /* twice the same ring */
	ck_assert_int_eq(vhu_fe_start(fe, F_BASE, r, 2, 0xf), -EINVAL);
	rings(r, 0);
	r[0].size = 100; /* not a power of two */
	ck_assert_int_eq(vhu_fe_start(fe, F_BASE, r, 2, 0xf), -EINVAL);
	rings(r, 0);
	r[0].desc_gpa = 1ULL << 40; /* outside guest RAM */
	ck_assert_int_eq(vhu_fe_start(fe, F_BASE, r, 2, 0xf), -EINVAL);
	rings(r, 0);
	r[1].index = 2; /* beyond nr_vrings */
	ck_assert_int_eq(vhu_fe_start(fe, F_BASE, r, 2, 0xf), -EINVAL);
	pthread_mutex_unlock(&lock);
	/* None of that reached the back end as a bad message. */
	ck_assert_uint_eq(fb.dispatch_errors, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vhu-frontend");
	TCase *tc = tcase_create("frontend");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, handshake_start_stop);
	tcase_add_test(tc, no_protocol_features);
	tcase_add_test(tc, refusals_at_start);
	tcase_add_test(tc, mem_slots_and_inflight);
	tcase_add_test(tc, inflight_must_be_memory);
	tcase_add_test(tc, reconnect_client);
	tcase_add_test(tc, reconnect_needs_same_features);
	tcase_add_test(tc, malformed_reply_drops);
	tcase_add_test(tc, silent_backend_times_out);
	tcase_add_test(tc, hangup_mid_handshake);
	tcase_add_test(tc, server_mode);
	tcase_add_test(tc, server_mode_errors);
	tcase_add_test(tc, bad_rings);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
