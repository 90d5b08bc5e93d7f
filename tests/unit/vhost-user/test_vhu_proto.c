// SPDX-License-Identifier: MIT
/*
 * vhost-user protocol layer: socketpair round trips of every message of
 * both channels, and hostile input (truncated, oversized, wrong fd count,
 * unknown ids, out-of-order, MSG_CTRUNC). Every test checks that no fd
 * leaks (the set of open fds is the same before and after).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "vhost-user/proto.h"

#define ALL_PROTOCOL ((1ull << (VHU_PROTOCOL_F_STATUS + 1)) - 1)
#define NO_REPLY_ACK (ALL_PROTOCOL & ~(1ull << VHU_PROTOCOL_F_REPLY_ACK))
#define MAX_TEST_FD 1024

/* --- fd accounting -------------------------------------------------------- */

static int count_open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < MAX_TEST_FD; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static int new_fd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* --- a recording handler for every message -------------------------------- */

struct rec {
	enum vhu_chan chan;
	int calls[2][VHU_MAIN_MAX];
	int nfds_seen[2][VHU_MAIN_MAX];
	int kept_fd;            /* SET_VRING_KICK's fd, kept by the handler */
	int reply_fd;           /* lent for GET_INFLIGHT_FD/POSTCOPY_ADVISE */
	int fail;               /* return this from the next handler */
};

static int rec_handler(void *opaque, struct vhu_req *req)
{
	struct rec *r = opaque;
	const struct vhu_msg *m = req->msg;
	union vhu_payload *p = &req->reply->payload;
	int rc = r->fail;

	ck_assert_uint_lt(m->request, VHU_MAIN_MAX);
	r->calls[r->chan][m->request]++;
	r->nfds_seen[r->chan][m->request] = req->nfds;
	r->fail = 0;
	if (rc)
		return rc;
	if (r->chan == VHU_CHAN_BACKEND)
		return 0;
	switch (m->request) {
	case VHU_GET_FEATURES:
		p->u64 = ~0ull;
		break;
	case VHU_GET_PROTOCOL_FEATURES:
		p->u64 = ALL_PROTOCOL;
		break;
	case VHU_GET_QUEUE_NUM:
		p->u64 = 4;
		break;
	case VHU_GET_VRING_BASE:
		p->state.num = 42;
		break;
	case VHU_GET_CONFIG:
		memset(p->config.region, 0xab, p->config.size);
		break;
	case VHU_GET_INFLIGHT_FD:
		p->inflight.mmap_size = 4096;
		req->reply_fd = r->reply_fd;
		break;
	case VHU_POSTCOPY_ADVISE:
		req->reply_fd = r->reply_fd;
		break;
	case VHU_GET_MAX_MEM_SLOTS:
		p->u64 = 8;
		break;
	case VHU_GET_STATUS:
		p->u64 = 0xf;
		break;
	case VHU_SET_VRING_KICK:
		if (req->nfds == 1) {
			if (r->kept_fd >= 0)
				close(r->kept_fd);
			r->kept_fd = req->fds[0];
			req->fds[0] = -1;
		}
		break;
	}
	return 0;
}

#define H(U, l, ...) .l = rec_handler,
static const struct vhu_handlers all_handlers = {
	VHU_MAIN_MSGS(H)
	VHU_BACKEND_MSGS(H)
};
#undef H

static const struct vhu_handlers no_handlers;

static void rec_init(struct rec *r, enum vhu_chan chan)
{
	memset(r, 0, sizeof(*r));
	r->chan = chan;
	r->kept_fd = -1;
	r->reply_fd = -1;
}

/* A session past negotiation: owner, memory, every protocol feature. */
static void state_ready(struct vhu_state *st, enum vhu_chan chan, int sock,
			uint64_t protocol)
{
	vhu_state_init(st, chan, sock);
	st->features_offered = ~0ull;
	st->protocol_offered = ALL_PROTOCOL;
	st->protocol_features = protocol;
	st->protocol_negotiated = true;
	st->owner = true;
	st->mem_set = true;
}

/* --- a valid example of every message ------------------------------------- */

static void region(struct vhu_mem_region *r, uint64_t gpa, uint64_t size)
{
	r->gpa = gpa;
	r->size = size;
	r->uaddr = 0x7f0000000000ull + gpa;
	r->mmap_offset = gpa;
}

/* Fills msg and returns how many fds it carries. */
static int build_main(uint32_t id, struct vhu_msg *m)
{
	vhu_msg_init(m, id, 0);
	switch (id) {
	case VHU_GET_FEATURES: case VHU_SET_OWNER: case VHU_RESET_OWNER:
	case VHU_GET_PROTOCOL_FEATURES: case VHU_GET_QUEUE_NUM:
	case VHU_POSTCOPY_ADVISE: case VHU_POSTCOPY_LISTEN:
	case VHU_POSTCOPY_END: case VHU_RESET_DEVICE:
	case VHU_GET_MAX_MEM_SLOTS: case VHU_GET_STATUS:
		return 0;
	case VHU_SET_LOG_FD: case VHU_SET_BACKEND_REQ_FD:
	case VHU_GPU_SET_SOCKET:
		return 1;
	case VHU_SET_FEATURES:
		m->size = 8;
		m->payload.u64 = (1ull << 32) | (1ull << VHU_F_PROTOCOL_FEATURES);
		return 0;
	case VHU_SET_PROTOCOL_FEATURES:
		m->size = 8;
		m->payload.u64 = ALL_PROTOCOL;
		return 0;
	case VHU_SET_MEM_TABLE:
		m->size = VHU_MEM_TABLE_SIZE(2);
		m->payload.mem.nregions = 2;
		region(&m->payload.mem.regions[0], 0, 0xc0000000);
		region(&m->payload.mem.regions[1], 0x100000000ull, 1ull << 30);
		return 2;
	case VHU_SET_LOG_BASE:
		m->size = 16;
		m->payload.log.size = 4096;
		return 1;
	case VHU_SET_VRING_NUM:
		m->size = 8;
		m->payload.state = (struct vhu_vring_state){ 1, 256 };
		return 0;
	case VHU_SET_VRING_ADDR:
		m->size = 40;
		m->payload.addr = (struct vhu_vring_addr){
			.index = 1, .desc = 0x10000, .avail = 0x11000,
			.used = 0x12000,
		};
		return 0;
	case VHU_SET_VRING_BASE: case VHU_GET_VRING_BASE:
	case VHU_VRING_KICK:
		m->size = 8;
		m->payload.state = (struct vhu_vring_state){ 1, 0 };
		return 0;
	case VHU_SET_VRING_KICK: case VHU_SET_VRING_CALL:
	case VHU_SET_VRING_ERR:
		m->size = 8;
		m->payload.u64 = 1;
		return 1;
	case VHU_SET_VRING_ENABLE: case VHU_SET_VRING_ENDIAN:
		m->size = 8;
		m->payload.state = (struct vhu_vring_state){ 1, 1 };
		return 0;
	case VHU_SEND_RARP: case VHU_NET_SET_MTU:
		m->size = 8;
		m->payload.u64 = 1500;
		return 0;
	case VHU_IOTLB_MSG:
		m->size = 32;
		return 0;
	case VHU_GET_CONFIG: case VHU_SET_CONFIG:
		m->size = VHU_CONFIG_HDR_SIZE + 6;
		m->payload.config.size = 6;
		return 0;
	case VHU_GET_INFLIGHT_FD:
		m->size = 24;
		m->payload.inflight.num_queues = 2;
		m->payload.inflight.queue_size = 256;
		return 0;
	case VHU_SET_INFLIGHT_FD:
		m->size = 24;
		m->payload.inflight = (struct vhu_inflight){
			.mmap_size = 4096, .num_queues = 2, .queue_size = 256,
		};
		return 1;
	case VHU_ADD_MEM_REG: case VHU_REM_MEM_REG:
		m->size = 40;
		region(&m->payload.mem_reg.region, 0x100000000ull, 1 << 20);
		return id == VHU_ADD_MEM_REG ? 1 : 0;
	case VHU_SET_STATUS:
		m->size = 8;
		m->payload.u64 = 0xf;
		return 0;
	}
	ck_abort_msg("no example for main message %u", id);
	return -1;
}

static int build_backend(uint32_t id, struct vhu_msg *m)
{
	vhu_msg_init(m, id, 0);
	switch (id) {
	case VHU_BACKEND_IOTLB_MSG:
		m->size = 32;
		return 0;
	case VHU_BACKEND_CONFIG_CHANGE_MSG:
		return 0;
	case VHU_BACKEND_VRING_HOST_NOTIFIER_MSG:
		m->size = 24;
		m->payload.area = (struct vhu_vring_area){ 1, 4096, 0 };
		return 1;
	case VHU_BACKEND_VRING_CALL: case VHU_BACKEND_VRING_ERR:
		m->size = 8;
		m->payload.state = (struct vhu_vring_state){ 1, 0 };
		return 0;
	}
	ck_abort_msg("no example for back-end message %u", id);
	return -1;
}

static int build(enum vhu_chan chan, uint32_t id, struct vhu_msg *m)
{
	return chan == VHU_CHAN_MAIN ? build_main(id, m) : build_backend(id, m);
}

/* --- a dispatching peer on its own thread ---------------------------------- */

struct server {
	pthread_t thread;
	struct vhu_state st;
	const struct vhu_handlers *h;
	struct rec rec;
	int last_rc;
	int nmsgs;
};

static void *server_main(void *arg)
{
	struct server *s = arg;

	for (;;) {
		struct vhu_msg msg;
		int fds[VHU_MAX_FDS], nfds, rc;

		rc = vhu_msg_recv(s->st.sock, &msg, fds, &nfds);
		if (rc) {
			s->last_rc = rc;
			break;
		}
		s->nmsgs++;
		s->last_rc = vhu_dispatch(s->h, &s->rec, &msg, fds, nfds,
					  &s->st);
	}
	return NULL;
}

/* protocol: the negotiated protocol features, or ~0 for a fresh session. */
static void server_start(struct server *s, int sock, enum vhu_chan chan,
			 uint64_t protocol)
{
	memset(s, 0, sizeof(*s));
	s->h = &all_handlers;
	rec_init(&s->rec, chan);
	s->rec.reply_fd = new_fd();
	if (protocol == ~0ull)
		vhu_state_init(&s->st, chan, sock);
	else
		state_ready(&s->st, chan, sock, protocol);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_join(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->rec.reply_fd);
	if (s->rec.kept_fd >= 0)
		close(s->rec.kept_fd);
}

static void pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
}

/* --- round trips ---------------------------------------------------------- */

/*
 * Every message of the channel goes through vhu_call() -> socket ->
 * vhu_msg_recv() -> vhu_dispatch() -> handler -> reply/ACK -> checked reply.
 * NEED_REPLY is set on everything, so each call waits for its handler.
 */
static void roundtrip_channel(enum vhu_chan chan, int max)
{
	struct server srv;
	struct vhu_state st;
	int sv[2], before = count_open_fds(), n = 0;

	pair(sv);
	server_start(&srv, sv[1], chan, ALL_PROTOCOL);
	state_ready(&st, chan, sv[0], ALL_PROTOCOL);
	for (int id = 0; id < max; id++) {
		struct vhu_msg req, reply;
		int fds[VHU_MAX_FDS], nfds, rfd = -2, rc;

		if (!vhu_msg_name(chan, id))
			continue;
		nfds = build(chan, id, &req);
		for (int i = 0; i < nfds; i++)
			fds[i] = new_fd();
		req.flags |= VHU_FLAG_NEED_REPLY;
		rc = vhu_call(&st, &req, fds, nfds, &reply, &rfd);
		ck_assert_msg(rc == 0, "%s: %d", vhu_msg_name(chan, id), rc);
		close_all(fds, nfds);
		ck_assert_uint_eq(reply.request, id);
		ck_assert(reply.flags & VHU_FLAG_REPLY);
		if (chan == VHU_CHAN_MAIN && (id == VHU_GET_INFLIGHT_FD ||
					      id == VHU_POSTCOPY_ADVISE)) {
			ck_assert_int_ge(rfd, 0);
			close(rfd);
		} else {
			ck_assert_int_eq(rfd, -1);
		}
		if (chan == VHU_CHAN_MAIN && id == VHU_GET_VRING_BASE)
			ck_assert_uint_eq(reply.payload.state.num, 42);
		if (chan == VHU_CHAN_MAIN && id == VHU_GET_CONFIG)
			ck_assert_uint_eq(reply.payload.config.region[5], 0xab);
		if (!vhu_msg_always_replies(chan, id))
			ck_assert_uint_eq(reply.payload.u64, 0);
		n++;
	}
	close(sv[0]);
	server_join(&srv);
	ck_assert_int_eq(srv.last_rc, -ECONNRESET);
	ck_assert_int_eq(srv.nmsgs, n);
	for (int id = 0; id < max; id++) {
		struct vhu_msg m;

		if (!vhu_msg_name(chan, id))
			continue;
		ck_assert_msg(srv.rec.calls[chan][id] == 1, "%s called %d",
			      vhu_msg_name(chan, id), srv.rec.calls[chan][id]);
		/* REM_MEM_REG's optional fd never reaches the handler. */
		ck_assert_int_eq(srv.rec.nfds_seen[chan][id],
				 build(chan, id, &m));
	}
	close(sv[1]);
	ck_assert_int_eq(count_open_fds(), before);
}

START_TEST(roundtrip_main)
{
	roundtrip_channel(VHU_CHAN_MAIN, VHU_MAIN_MAX);
}
END_TEST

START_TEST(roundtrip_backend)
{
	roundtrip_channel(VHU_CHAN_BACKEND, VHU_BACKEND_MAX);
}
END_TEST

/* The bytes on the wire are the spec's: 12-byte header, then the payload. */
START_TEST(wire_layout)
{
	struct vhu_msg m, got;
	uint8_t buf[64];
	int sv[2], fds[VHU_MAX_FDS], nfds;

	pair(sv);
	build_main(VHU_SET_VRING_NUM, &m);
	ck_assert_int_eq(vhu_msg_send(sv[0], &m, NULL, 0), 0);
	ck_assert_int_eq(read(sv[1], buf, sizeof(buf)), 20);
	ck_assert_uint_eq(buf[0], VHU_SET_VRING_NUM);
	ck_assert_uint_eq(buf[4], 1);           /* version */
	ck_assert_uint_eq(buf[8], 8);           /* size */
	ck_assert_uint_eq(buf[12], 1);          /* state.index */
	ck_assert_uint_eq(buf[17], 1);          /* state.num = 256 */
	/* And back: raw bytes parse into the same message. */
	ck_assert_int_eq(write(sv[0], buf, 20), 20);
	ck_assert_int_eq(vhu_msg_recv(sv[1], &got, fds, &nfds), 0);
	ck_assert_int_eq(nfds, 0);
	ck_assert_uint_eq(got.payload.state.num, 256);
	ck_assert_uint_eq(sizeof(struct vhu_vring_addr), 40);
	ck_assert_uint_eq(sizeof(struct vhu_mem_single), 40);
	ck_assert_uint_eq(sizeof(struct vhu_inflight), 24);
	ck_assert_uint_eq(sizeof(struct vhu_iotlb), 32);
	ck_assert_uint_eq(offsetof(struct vhu_config, region), 12);
	ck_assert_uint_eq(offsetof(struct vhu_mem_table, regions), 8);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* --- the reader on hostile bytes ------------------------------------------- */

/* Write raw bytes (optionally with n fresh fds), then maybe shut down. */
static void raw_send(int sock, const void *buf, size_t len, int nfds,
		     bool shut)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[16];

	ck_assert_int_le(nfds, 16);
	for (int i = 0; i < nfds; i++)
		fds[i] = new_fd();
	if (nfds) {
		struct cmsghdr *c;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ck_assert_int_eq(sendmsg(sock, &mh, 0), (ssize_t)len);
	close_all(fds, nfds);
	if (shut)
		shutdown(sock, SHUT_WR);
}

static int raw_recv(const void *buf, size_t len, int nfds, bool shut)
{
	struct vhu_msg m;
	int sv[2], fds[VHU_MAX_FDS], got = -1, rc, before;

	pair(sv);
	before = count_open_fds();
	raw_send(sv[0], buf, len, nfds, shut);
	rc = vhu_msg_recv_timeout(sv[1], &m, fds, &got, 3000);
	if (rc == 0)
		close_all(fds, got);
	else
		ck_assert_int_eq(got, 0);
	ck_assert_int_eq(count_open_fds(), before);
	close(sv[0]);
	close(sv[1]);
	return rc;
}

struct hdr {
	uint32_t request, flags, size;
	uint8_t payload[16];
};

START_TEST(truncated_header)
{
	struct hdr h = { VHU_GET_FEATURES, VHU_VERSION, 0 };

	ck_assert_int_eq(raw_recv(&h, 5, 2, true), -ECONNRESET);
	ck_assert_int_eq(raw_recv(&h, 0, 0, true), -ECONNRESET);
}
END_TEST

START_TEST(truncated_payload)
{
	struct hdr h = { VHU_SET_VRING_KICK, VHU_VERSION, 8 };

	ck_assert_int_eq(raw_recv(&h, 12 + 4, 1, true), -ECONNRESET);
	ck_assert_int_eq(raw_recv(&h, 12, 1, true), -ECONNRESET);
}
END_TEST

/* A peer that starts a message and stalls cannot hang the reader. */
START_TEST(stalled_payload)
{
	struct hdr h = { VHU_SET_VRING_KICK, VHU_VERSION, 8 };
	struct timespec a, b;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(raw_recv(&h, 12 + 3, 1, false), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	ck_assert_int_ge(ms, VHU_STALL_TIMEOUT_MS - 50);
	ck_assert_int_lt(ms, VHU_STALL_TIMEOUT_MS + 2000);
}
END_TEST

START_TEST(nothing_to_read)
{
	struct vhu_msg m;
	int sv[2], fds[VHU_MAX_FDS], n;

	pair(sv);
	ck_assert_int_eq(vhu_msg_recv_timeout(sv[1], &m, fds, &n, 0), -EAGAIN);
	ck_assert_int_eq(vhu_msg_recv_timeout(sv[1], &m, fds, &n, 50),
			 -ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(oversized_size)
{
	struct hdr h = { VHU_SET_MEM_TABLE, VHU_VERSION, VHU_MAX_PAYLOAD + 1 };

	ck_assert_int_eq(raw_recv(&h, sizeof(h), 3, true), -EMSGSIZE);
	h.size = 0xffffffff;
	ck_assert_int_eq(raw_recv(&h, sizeof(h), 1, true), -EMSGSIZE);
}
END_TEST

START_TEST(bad_flags)
{
	struct hdr h = { VHU_GET_FEATURES, 2, 0 };

	ck_assert_int_eq(raw_recv(&h, 12, 1, true), -EPROTO);
	h.flags = 0;
	ck_assert_int_eq(raw_recv(&h, 12, 0, true), -EPROTO);
	h.flags = VHU_VERSION | 0x10;
	ck_assert_int_eq(raw_recv(&h, 12, 1, true), -EPROTO);
	h.flags = VHU_VERSION | VHU_FLAG_NEED_REPLY;
	ck_assert_int_eq(raw_recv(&h, 12, 0, true), 0);
}
END_TEST

/* More fds than the ancillary buffer holds: MSG_CTRUNC, all closed. */
START_TEST(ctrunc)
{
	struct hdr h = { VHU_SET_MEM_TABLE, VHU_VERSION, 0 };

	ck_assert_int_eq(raw_recv(&h, 12, VHU_MAX_FDS + 1, true), -ENOBUFS);
	ck_assert_int_eq(raw_recv(&h, 12, 16, true), -ENOBUFS);
	ck_assert_int_eq(raw_recv(&h, 12, VHU_MAX_FDS, true), 0);
}
END_TEST

/* A peer writing a byte at a time (fds with a later byte) still works. */
struct dribble {
	int sock;
	struct vhu_msg msg;
	int fd;
};

static void *dribble_main(void *arg)
{
	struct dribble *d = arg;
	const uint8_t *hdr = (const uint8_t *)&d->msg;
	const uint8_t *pl = (const uint8_t *)&d->msg.payload;

	for (unsigned int i = 0; i < 12 + d->msg.size; i++) {
		const uint8_t *b = i < 12 ? hdr + i : pl + i - 12;
		union {
			char c[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} cbuf;
		struct iovec iov = { (void *)b, 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (i == 13) {
			struct cmsghdr *c;

			memset(&cbuf, 0, sizeof(cbuf));
			mh.msg_control = cbuf.c;
			mh.msg_controllen = sizeof(cbuf.c);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &d->fd, sizeof(int));
		}
		if (sendmsg(d->sock, &mh, 0) != 1)
			return NULL;
		usleep(2000);
	}
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

START_TEST(short_reads_and_eintr)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { { 0, 3000 }, { 0, 3000 } };
	sigset_t set;
	struct dribble d;
	struct vhu_msg m;
	struct vhu_state st;
	pthread_t t;
	int sv[2], fds[VHU_MAX_FDS], n, before = count_open_fds();

	/* No SA_RESTART: the timer interrupts poll()/recvmsg() with EINTR. */
	sigaction(SIGALRM, &sa, NULL);
	pair(sv);
	d.sock = sv[0];
	d.fd = new_fd();
	build_main(VHU_SET_VRING_CALL, &d.msg);
	/* The writer thread keeps SIGALRM blocked; only the reader sees it. */
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	ck_assert_int_eq(pthread_create(&t, NULL, dribble_main, &d), 0);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	ck_assert_int_eq(vhu_msg_recv(sv[1], &m, fds, &n), 0);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	pthread_join(t, NULL);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(m.payload.u64, 1);
	state_ready(&st, VHU_CHAN_MAIN, sv[1], ALL_PROTOCOL);
	ck_assert_int_eq(vhu_msg_validate(&st, &m, n), 0);
	close_all(fds, n);
	close(d.fd);
	close(sv[0]);
	close(sv[1]);
	ck_assert_int_eq(count_open_fds(), before);
}
END_TEST

START_TEST(send_to_closed_peer)
{
	struct vhu_msg m;
	int sv[2];

	pair(sv);
	close(sv[1]);
	build_main(VHU_GET_FEATURES, &m);
	ck_assert_int_eq(vhu_msg_send(sv[0], &m, NULL, 0), -EPIPE);
	m.size = VHU_MAX_PAYLOAD + 1;
	ck_assert_int_eq(vhu_msg_send(sv[0], &m, NULL, 0), -EINVAL);
	m.size = 0;
	ck_assert_int_eq(vhu_msg_send(sv[0], &m, NULL, VHU_MAX_FDS + 1),
			 -EINVAL);
	close(sv[0]);
}
END_TEST

/* --- the dispatcher on invalid messages ------------------------------------- */

/*
 * Send `m` with nfds fresh fds through a socketpair, dispatch it on the
 * receiving side, and return the dispatcher's result. Asserts that the
 * handler did not run when dispatch fails validation, and that no fd leaks.
 */
static int dispatch_one(struct vhu_state *st, struct rec *r,
			const struct vhu_msg *m, int nfds)
{
	struct vhu_msg got;
	int sv[2], fds[VHU_MAX_FDS], sfds[VHU_MAX_FDS], n, rc, before, calls;

	pair(sv);
	before = count_open_fds();
	for (int i = 0; i < nfds; i++)
		sfds[i] = new_fd();
	ck_assert_int_eq(vhu_msg_send(sv[0], m, sfds, nfds), 0);
	close_all(sfds, nfds);
	ck_assert_int_eq(vhu_msg_recv(sv[1], &got, fds, &n), 0);
	ck_assert_int_eq(n, nfds);
	st->sock = sv[1];
	calls = r->calls[st->chan][m->request % VHU_MAIN_MAX];
	rc = vhu_dispatch(&all_handlers, r, &got, fds, n, st);
	if (rc && rc != -EIO)
		ck_assert_int_eq(r->calls[st->chan][m->request % VHU_MAIN_MAX],
				 calls);
	if (r->kept_fd >= 0) {
		close(r->kept_fd);
		r->kept_fd = -1;
	}
	ck_assert_int_eq(count_open_fds(), before);
	close(sv[0]);
	close(sv[1]);
	return rc;
}

static int dispatch_ready(const struct vhu_msg *m, int nfds)
{
	struct vhu_state st;
	struct rec r;

	rec_init(&r, VHU_CHAN_MAIN);
	state_ready(&st, VHU_CHAN_MAIN, -1, NO_REPLY_ACK);
	return dispatch_one(&st, &r, m, nfds);
}

START_TEST(wrong_fd_count)
{
	struct vhu_msg m;

	build_main(VHU_SET_VRING_KICK, &m);
	ck_assert_int_eq(dispatch_ready(&m, 1), 0);
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
	ck_assert_int_eq(dispatch_ready(&m, 2), -EBADMSG);
	m.payload.u64 |= VHU_VRING_NOFD;
	ck_assert_int_eq(dispatch_ready(&m, 0), 0);
	ck_assert_int_eq(dispatch_ready(&m, 1), -EBADMSG);

	build_main(VHU_SET_MEM_TABLE, &m);
	ck_assert_int_eq(dispatch_ready(&m, 2), 0);
	ck_assert_int_eq(dispatch_ready(&m, 1), -EBADMSG);
	ck_assert_int_eq(dispatch_ready(&m, 3), -EBADMSG);

	build_main(VHU_SET_OWNER, &m);
	ck_assert_int_eq(dispatch_ready(&m, 1), -EBADMSG);
	build_main(VHU_SET_LOG_FD, &m);
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
	build_main(VHU_ADD_MEM_REG, &m);
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
	/* REM_MEM_REG: one fd is tolerated (and closed), two are not. */
	build_main(VHU_REM_MEM_REG, &m);
	ck_assert_int_eq(dispatch_ready(&m, 1), 0);
	ck_assert_int_eq(dispatch_ready(&m, 2), -EBADMSG);
}
END_TEST

START_TEST(wrong_size)
{
	struct vhu_msg m;

	build_main(VHU_SET_VRING_NUM, &m);
	m.size = 4;
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
	m.size = 16;
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
	build_main(VHU_GET_FEATURES, &m);
	m.size = 8;
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
	build_main(VHU_SET_MEM_TABLE, &m);
	m.size = VHU_MEM_TABLE_SIZE(3);
	ck_assert_int_eq(dispatch_ready(&m, 2), -EBADMSG);
	m.size = VHU_MEM_TABLE_SIZE(2);
	m.payload.mem.nregions = 9;
	ck_assert_int_eq(dispatch_ready(&m, 2), -EBADMSG);
	build_main(VHU_SET_CONFIG, &m);
	m.payload.config.size = 7;
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
	m.payload.config.size = 0xfffffff0;
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
}
END_TEST

START_TEST(bad_payload)
{
	struct vhu_msg m;

	build_main(VHU_SET_MEM_TABLE, &m);
	m.payload.mem.regions[1].gpa = 0x1000;          /* overlaps region 0 */
	ck_assert_int_eq(dispatch_ready(&m, 2), -EBADMSG);
	build_main(VHU_SET_MEM_TABLE, &m);
	m.payload.mem.regions[1].uaddr = ~0ull - 10;    /* wraps */
	ck_assert_int_eq(dispatch_ready(&m, 2), -EBADMSG);
	build_main(VHU_SET_MEM_TABLE, &m);
	m.payload.mem.regions[0].size = 0;
	ck_assert_int_eq(dispatch_ready(&m, 2), -EBADMSG);
	build_main(VHU_SET_VRING_NUM, &m);
	m.payload.state.num = 0;
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
	m.payload.state.num = 65536;
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
	build_main(VHU_SET_VRING_ADDR, &m);
	m.payload.addr.flags = 2;
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
	build_main(VHU_SET_VRING_ADDR, &m);
	m.payload.addr.desc += 8;                       /* misaligned */
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
	build_main(VHU_SET_VRING_CALL, &m);
	m.payload.u64 |= 1ull << 9;                     /* reserved bit */
	ck_assert_int_eq(dispatch_ready(&m, 1), -EBADMSG);
	build_main(VHU_SET_VRING_ENABLE, &m);
	m.payload.state.num = 2;
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
	build_main(VHU_SET_STATUS, &m);
	m.payload.u64 = 0x100;
	ck_assert_int_eq(dispatch_ready(&m, 0), -EBADMSG);
	build_main(VHU_SET_INFLIGHT_FD, &m);
	m.payload.inflight.num_queues = 0;
	ck_assert_int_eq(dispatch_ready(&m, 1), -EBADMSG);
}
END_TEST

START_TEST(vring_index_range)
{
	struct vhu_state st;
	struct vhu_msg m;
	struct rec r;

	rec_init(&r, VHU_CHAN_MAIN);
	state_ready(&st, VHU_CHAN_MAIN, -1, NO_REPLY_ACK);
	st.max_vrings = 2;
	build_main(VHU_SET_VRING_NUM, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), 0);
	m.payload.state.index = 2;
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), -ERANGE);
	build_main(VHU_SET_VRING_ADDR, &m);
	m.payload.addr.index = 7;
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), -ERANGE);
	build_main(VHU_SET_VRING_KICK, &m);
	m.payload.u64 = 2;
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 1), -ERANGE);
}
END_TEST

START_TEST(unknown_request)
{
	struct vhu_state st;
	struct vhu_msg m;
	struct rec r;
	const uint32_t ids[] = { 0, 26, 27, 41, 1000, 0xffffffff };

	for (unsigned int i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		vhu_msg_init(&m, ids[i], 8);
		ck_assert_int_eq(dispatch_ready(&m, 0), -ENOSYS);
		ck_assert_int_eq(dispatch_ready(&m, 2), -ENOSYS);
		ck_assert_ptr_null(vhu_msg_name(VHU_CHAN_MAIN, ids[i]));
	}
	/* A main-channel id means nothing on the back-end channel. */
	rec_init(&r, VHU_CHAN_BACKEND);
	state_ready(&st, VHU_CHAN_BACKEND, -1, ALL_PROTOCOL);
	build_main(VHU_SET_VRING_KICK, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 1), -ENOSYS);
	/* A reply where a request is due. */
	build_main(VHU_SET_OWNER, &m);
	m.flags |= VHU_FLAG_REPLY;
	ck_assert_int_eq(dispatch_ready(&m, 0), -EPROTO);
}
END_TEST

/* Messages out of the order of the spec's session. */
START_TEST(out_of_order)
{
	struct vhu_state st;
	struct vhu_msg m;
	struct rec r;

	rec_init(&r, VHU_CHAN_MAIN);
	vhu_state_init(&st, VHU_CHAN_MAIN, -1);

	build_main(VHU_SET_VRING_ADDR, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), -EPERM);
	build_main(VHU_SET_MEM_TABLE, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 2), -EPERM);
	build_main(VHU_SET_VRING_KICK, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 1), -EPERM);
	/* Protocol features before GET_FEATURES offered them. */
	build_main(VHU_GET_PROTOCOL_FEATURES, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), -EOPNOTSUPP);
	build_main(VHU_SET_PROTOCOL_FEATURES, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), -EOPNOTSUPP);
	/* GET_FEATURES (handler offers everything) unlocks them. */
	build_main(VHU_GET_FEATURES, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), 0);
	ck_assert_uint_eq(st.features_offered, ~0ull);
	/* SET_PROTOCOL_FEATURES before GET_PROTOCOL_FEATURES: nothing
	 * offered yet, so any bit is refused. */
	build_main(VHU_SET_PROTOCOL_FEATURES, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), -EBADMSG);
	build_main(VHU_GET_QUEUE_NUM, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), -EOPNOTSUPP);
	build_main(VHU_SET_VRING_ENABLE, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), -EOPNOTSUPP);

	build_main(VHU_SET_OWNER, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), 0);
	ck_assert(st.owner);
	/* Owner but no memory table: rings cannot be placed yet. */
	build_main(VHU_SET_VRING_ADDR, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), -EPERM);
	build_main(VHU_SET_MEM_TABLE, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 2), 0);
	ck_assert(st.mem_set);
	build_main(VHU_SET_VRING_ADDR, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), 0);
	/* ADD_MEM_REG needs CONFIGURE_MEM_SLOTS negotiated. */
	build_main(VHU_ADD_MEM_REG, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 1), -EOPNOTSUPP);
	/* RESET_OWNER drops the memory table. */
	build_main(VHU_RESET_OWNER, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), 0);
	build_main(VHU_SET_VRING_ADDR, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), -EPERM);
	/* SET_FEATURES may only ack offered bits. */
	st.features_offered = 1ull << 32;
	build_main(VHU_SET_FEATURES, &m);
	ck_assert_int_eq(dispatch_one(&st, &r, &m, 0), -EBADMSG);
}
END_TEST

/* --- REPLY_ACK -------------------------------------------------------------- */

static int read_ack(int sock, uint32_t id, uint64_t *val)
{
	struct vhu_msg m;
	int fds[VHU_MAX_FDS], n, rc;

	rc = vhu_msg_recv_timeout(sock, &m, fds, &n, 0);
	if (rc)
		return rc;
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(m.request, id);
	ck_assert_uint_eq(m.flags, VHU_VERSION | VHU_FLAG_REPLY);
	ck_assert_uint_eq(m.size, 8);
	*val = m.payload.u64;
	return 0;
}

START_TEST(reply_ack)
{
	struct vhu_state st;
	struct vhu_msg m, got;
	struct rec r;
	int sv[2], fds[VHU_MAX_FDS], n, before = count_open_fds();
	uint64_t v;

	pair(sv);
	rec_init(&r, VHU_CHAN_MAIN);
	state_ready(&st, VHU_CHAN_MAIN, sv[1], ALL_PROTOCOL);
	/* NEED_REPLY + REPLY_ACK negotiated: u64 0 on success. */
	build_main(VHU_SET_VRING_NUM, &m);
	m.flags |= VHU_FLAG_NEED_REPLY;
	ck_assert_int_eq(vhu_msg_send(sv[0], &m, NULL, 0), 0);
	ck_assert_int_eq(vhu_msg_recv(sv[1], &got, fds, &n), 0);
	ck_assert_int_eq(vhu_dispatch(&all_handlers, &r, &got, fds, n, &st), 0);
	ck_assert_int_eq(read_ack(sv[0], VHU_SET_VRING_NUM, &v), 0);
	ck_assert_uint_eq(v, 0);
	/* Handler failure: non-zero ACK, the error is returned. */
	r.fail = -EIO;
	ck_assert_int_eq(vhu_dispatch(&all_handlers, &r, &got, fds, n, &st),
			 -EIO);
	ck_assert_int_eq(read_ack(sv[0], VHU_SET_VRING_NUM, &v), 0);
	ck_assert_uint_ne(v, 0);
	/* No handler: -EOPNOTSUPP, still NACKed so the peer does not hang. */
	ck_assert_int_eq(vhu_dispatch(&no_handlers, &r, &got, fds, n, &st),
			 -EOPNOTSUPP);
	ck_assert_int_eq(read_ack(sv[0], VHU_SET_VRING_NUM, &v), 0);
	ck_assert_uint_ne(v, 0);
	/* Without NEED_REPLY: silence. */
	got.flags = VHU_VERSION;
	ck_assert_int_eq(vhu_dispatch(&all_handlers, &r, &got, fds, n, &st), 0);
	ck_assert_int_eq(read_ack(sv[0], VHU_SET_VRING_NUM, &v), -EAGAIN);
	/* NEED_REPLY but REPLY_ACK not negotiated: silence. */
	got.flags = VHU_VERSION | VHU_FLAG_NEED_REPLY;
	st.protocol_features = NO_REPLY_ACK;
	ck_assert_int_eq(vhu_dispatch(&all_handlers, &r, &got, fds, n, &st), 0);
	ck_assert_int_eq(read_ack(sv[0], VHU_SET_VRING_NUM, &v), -EAGAIN);
	/* A message with a reply body never gets an extra ACK. */
	st.protocol_features = ALL_PROTOCOL;
	build_main(VHU_GET_FEATURES, &got);
	got.flags |= VHU_FLAG_NEED_REPLY;
	ck_assert_int_eq(vhu_dispatch(&all_handlers, &r, &got, fds, 0, &st), 0);
	ck_assert_int_eq(vhu_msg_recv_timeout(sv[0], &m, fds, &n, 0), 0);
	ck_assert_uint_eq(m.size, 8);
	ck_assert_uint_eq(m.payload.u64, ~0ull);
	ck_assert_int_eq(read_ack(sv[0], VHU_GET_FEATURES, &v), -EAGAIN);
	close(sv[0]);
	close(sv[1]);
	ck_assert_int_eq(count_open_fds(), before);
}
END_TEST

/* vhu_call() turns a NACK into -EREMOTEIO. */
START_TEST(call_nack)
{
	struct server srv;
	struct vhu_state st;
	struct vhu_msg m;
	int sv[2];

	pair(sv);
	server_start(&srv, sv[1], VHU_CHAN_MAIN, ALL_PROTOCOL);
	srv.rec.fail = -EINVAL;
	state_ready(&st, VHU_CHAN_MAIN, sv[0], ALL_PROTOCOL);
	build_main(VHU_SET_VRING_BASE, &m);
	m.flags |= VHU_FLAG_NEED_REPLY;
	ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, NULL, NULL), -EREMOTEIO);
	ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, NULL, NULL), 0);
	/* vhu_call refuses to send what the table forbids. */
	m.payload.state.index = 1000;
	ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, NULL, NULL), -ERANGE);
	close(sv[0]);
	server_join(&srv);
	close(sv[1]);
}
END_TEST

/* --- replies ----------------------------------------------------------------- */

START_TEST(reply_validation)
{
	struct vhu_state st;
	struct vhu_msg req, rep;

	state_ready(&st, VHU_CHAN_MAIN, -1, ALL_PROTOCOL);
	build_main(VHU_GET_VRING_BASE, &req);
	vhu_msg_init(&rep, VHU_GET_VRING_BASE, 8);
	rep.payload.state = req.payload.state;
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 0), -EPROTO);
	rep.flags |= VHU_FLAG_REPLY;
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 0), 0);
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 1), -EBADMSG);
	rep.payload.state.index = 0;
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 0), -EBADMSG);
	rep.payload.state.index = 1;
	rep.request = VHU_GET_FEATURES;
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 0), -EPROTO);
	rep.request = VHU_GET_VRING_BASE;
	rep.flags |= VHU_FLAG_NEED_REPLY;
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 0), -EPROTO);

	/* GET_CONFIG: the requested size, or empty for an error. */
	build_main(VHU_GET_CONFIG, &req);
	rep = req;
	rep.flags |= VHU_FLAG_REPLY;
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 0), 0);
	rep.size = 0;
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 0), 0);
	rep.size = VHU_CONFIG_HDR_SIZE + 4;
	rep.payload.config.size = 4;
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 0), -EBADMSG);

	/* GET_INFLIGHT_FD: one fd, the asked-for queues. */
	build_main(VHU_GET_INFLIGHT_FD, &req);
	rep = req;
	rep.flags |= VHU_FLAG_REPLY;
	rep.payload.inflight.mmap_size = 4096;
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 1), 0);
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 0), -EBADMSG);
	rep.payload.inflight.num_queues = 3;
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 1), -EBADMSG);

	/* An ACK is a u64 and nothing else. */
	build_main(VHU_SET_OWNER, &req);
	vhu_msg_init(&rep, VHU_SET_OWNER, 8);
	rep.flags |= VHU_FLAG_REPLY;
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 0), 0);
	rep.size = 4;
	ck_assert_int_eq(vhu_reply_validate(&st, &req, &rep, 0), -EBADMSG);
}
END_TEST

/* A full session driven by vhu_call(): both ends track the same state. */
START_TEST(session)
{
	struct server srv;
	struct vhu_state st;
	struct vhu_msg m, rep;
	int sv[2], fds[2], before = count_open_fds();

	pair(sv);
	server_start(&srv, sv[1], VHU_CHAN_MAIN, ~0ull);
	vhu_state_init(&st, VHU_CHAN_MAIN, sv[0]);

	build_main(VHU_GET_FEATURES, &m);
	ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, &rep, NULL), 0);
	ck_assert_uint_eq(st.features_offered, ~0ull);
	build_main(VHU_GET_PROTOCOL_FEATURES, &m);
	ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, &rep, NULL), 0);
	ck_assert_uint_eq(st.protocol_offered, ALL_PROTOCOL);
	build_main(VHU_SET_PROTOCOL_FEATURES, &m);
	m.payload.u64 = (1ull << VHU_PROTOCOL_F_REPLY_ACK) |
			(1ull << VHU_PROTOCOL_F_MQ);
	ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, NULL, NULL), 0);
	build_main(VHU_GET_QUEUE_NUM, &m);
	ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, &rep, NULL), 0);
	ck_assert_uint_eq(rep.payload.u64, 4);
	build_main(VHU_SET_OWNER, &m);
	m.flags |= VHU_FLAG_NEED_REPLY;
	ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, NULL, NULL), 0);
	build_main(VHU_SET_FEATURES, &m);
	m.flags |= VHU_FLAG_NEED_REPLY;
	ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, NULL, NULL), 0);
	fds[0] = new_fd();
	fds[1] = new_fd();
	build_main(VHU_SET_MEM_TABLE, &m);
	m.flags |= VHU_FLAG_NEED_REPLY;
	ck_assert_int_eq(vhu_call(&st, &m, fds, 2, NULL, NULL), 0);
	build_main(VHU_SET_VRING_ADDR, &m);
	m.flags |= VHU_FLAG_NEED_REPLY;
	ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, NULL, NULL), 0);
	build_main(VHU_SET_VRING_KICK, &m);
	m.flags |= VHU_FLAG_NEED_REPLY;
	ck_assert_int_eq(vhu_call(&st, &m, fds, 1, NULL, NULL), 0);
	/* Not negotiated: refused before it reaches the wire. */
	build_main(VHU_SET_STATUS, &m);
	ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, NULL, NULL), -EOPNOTSUPP);
	close_all(fds, 2);
	close(sv[0]);
	server_join(&srv);
	ck_assert_int_eq(srv.last_rc, -ECONNRESET);
	ck_assert(srv.st.owner && srv.st.mem_set && st.owner && st.mem_set);
	ck_assert_uint_eq(srv.st.protocol_features, st.protocol_features);
	ck_assert_uint_eq(srv.st.features, st.features);
	ck_assert_int_eq(srv.rec.calls[0][VHU_SET_STATUS], 0);
	close(sv[1]);
	ck_assert_int_eq(count_open_fds(), before);
}
END_TEST

/* A reply that is not one: vhu_call() fails and closes its fds. */
struct liar {
	int sock;
	uint32_t flags;
	int nfds;
};

static void *liar_main(void *arg)
{
	struct liar *l = arg;
	struct vhu_msg m, rep;
	int fds[VHU_MAX_FDS], n, out[VHU_MAX_FDS];

	if (vhu_msg_recv(l->sock, &m, fds, &n))
		return NULL;
	close_all(fds, n);
	vhu_msg_init(&rep, m.request, 8);
	rep.flags = l->flags;
	for (int i = 0; i < l->nfds; i++)
		out[i] = eventfd(0, 0);
	vhu_msg_send(l->sock, &rep, out, l->nfds);
	close_all(out, l->nfds);
	return NULL;
}

START_TEST(call_bad_reply)
{
	const struct { uint32_t flags; int nfds; int rc; } cases[] = {
		{ VHU_VERSION, 0, -EPROTO },
		{ VHU_VERSION | VHU_FLAG_REPLY, 2, -EBADMSG },
		{ VHU_VERSION | VHU_FLAG_REPLY | VHU_FLAG_NEED_REPLY, 0,
		  -EPROTO },
		{ VHU_VERSION | VHU_FLAG_REPLY, 0, 0 },
	};
	int before = count_open_fds();

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct liar l = { .flags = cases[i].flags,
				  .nfds = cases[i].nfds };
		struct vhu_state st;
		struct vhu_msg m, rep;
		pthread_t t;
		int sv[2];

		pair(sv);
		l.sock = sv[1];
		state_ready(&st, VHU_CHAN_MAIN, sv[0], ALL_PROTOCOL);
		ck_assert_int_eq(pthread_create(&t, NULL, liar_main, &l), 0);
		build_main(VHU_GET_FEATURES, &m);
		ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, &rep, NULL),
				 cases[i].rc);
		pthread_join(t, NULL);
		close(sv[0]);
		close(sv[1]);
	}
	ck_assert_int_eq(count_open_fds(), before);
}
END_TEST

/* No ACK can come without REPLY_ACK: vhu_call() does not ask for one. */
START_TEST(call_clears_need_reply)
{
	struct vhu_state st;
	struct vhu_msg m, got;
	int sv[2], fds[VHU_MAX_FDS], n;

	pair(sv);
	state_ready(&st, VHU_CHAN_MAIN, sv[0], NO_REPLY_ACK);
	build_main(VHU_SET_VRING_NUM, &m);
	m.flags |= VHU_FLAG_NEED_REPLY;
	ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, NULL, NULL), 0);
	ck_assert_int_eq(vhu_msg_recv_timeout(sv[1], &got, fds, &n, 0), 0);
	ck_assert_uint_eq(got.flags, VHU_VERSION);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A back end that never answers: vhu_call() gives up after timeout_ms. */
START_TEST(call_timeout)
{
	struct vhu_state st;
	struct vhu_msg m;
	int sv[2];

	pair(sv);
	state_ready(&st, VHU_CHAN_MAIN, sv[0], ALL_PROTOCOL);
	st.timeout_ms = 100;
	build_main(VHU_GET_FEATURES, &m);
	ck_assert_int_eq(vhu_call(&st, &m, NULL, 0, NULL, NULL), -ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static Suite *proto_suite(void)
{
	Suite *s = suite_create("vhu_proto");
	TCase *tc = tcase_create("proto");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, roundtrip_main);
	tcase_add_test(tc, roundtrip_backend);
	tcase_add_test(tc, wire_layout);
	tcase_add_test(tc, truncated_header);
	tcase_add_test(tc, truncated_payload);
	tcase_add_test(tc, stalled_payload);
	tcase_add_test(tc, nothing_to_read);
	tcase_add_test(tc, oversized_size);
	tcase_add_test(tc, bad_flags);
	tcase_add_test(tc, ctrunc);
	tcase_add_test(tc, short_reads_and_eintr);
	tcase_add_test(tc, send_to_closed_peer);
	tcase_add_test(tc, wrong_fd_count);
	tcase_add_test(tc, wrong_size);
	tcase_add_test(tc, bad_payload);
	tcase_add_test(tc, vring_index_range);
	tcase_add_test(tc, unknown_request);
	tcase_add_test(tc, out_of_order);
	tcase_add_test(tc, reply_ack);
	tcase_add_test(tc, call_nack);
	tcase_add_test(tc, reply_validation);
	tcase_add_test(tc, session);
	tcase_add_test(tc, call_bad_reply);
	tcase_add_test(tc, call_clears_need_reply);
	tcase_add_test(tc, call_timeout);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
