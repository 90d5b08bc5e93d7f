// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the vhost-user message reader and the validating
 * dispatcher (vhost-user/proto.c), both sides of the protocol: the input is
 * a hostile peer's byte stream plus the fds it attaches. Layout:
 *
 *   byte 0      mode: bits 0-1 side (0: back end dispatching front-end
 *               requests, 1: front end dispatching back-end-channel
 *               requests, 2: front end calling and reading replies, 3: back
 *               end with a fresh session); bits 2-7 session state (owner,
 *               memory table, protocol features negotiated, F_PROTOCOL
 *               offered, REPLY_ACK, every other protocol feature)
 *   byte 1      max_vrings (0 means VHU_MAX_VRINGS)
 *   then chunks [ctl][len lo][len hi][len bytes]: ctl bits 0-3 = number of
 *               /dev/null fds attached (9..15 overflow VHU_MAX_FDS), bit 4 =
 *               split the chunk in two writes, bit 5 = fds on the second
 *               write, bits 6-7 (mode 2) = which request the front end sends
 *
 * All chunks are written into one end of a socketpair, which is then shut
 * down for writing, so the reader always reaches EOF; the other end runs
 * vhu_msg_recv + vhu_dispatch (or vhu_call) until an error. Invariants:
 * no crash (ASan/UBSan), no fd leaked or wrongly closed, and a handler only
 * ever sees a message that passes vhu_msg_validate().
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost-user/proto.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)
#define FUZZ_MAX_MSGS 64
#define FUZZ_FD_SCAN 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int devnull = -1;
static struct vhu_state *cur_st;

static int count_open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < FUZZ_FD_SCAN; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/* The "no-op" handler: takes and closes one fd, answers with zeros. */
static int fuzz_handler(void *opaque, struct vhu_req *req)
{
	/* Handlers only ever see valid messages. */
	CHECK(vhu_msg_validate(cur_st, req->msg, req->nfds) == 0);
	for (int i = 0; i < req->nfds; i++)
		CHECK(fcntl(req->fds[i], F_GETFD) >= 0);
	if (req->nfds > 0) {
		close(req->fds[0]);
		req->fds[0] = -1;
	}
	if (cur_st->chan == VHU_CHAN_MAIN &&
	    (req->msg->request == VHU_GET_INFLIGHT_FD ||
	     req->msg->request == VHU_POSTCOPY_ADVISE)) {
		req->reply->payload.inflight.mmap_size = 4096;
		req->reply_fd = devnull;
	}
	return opaque ? -EIO : 0;
}

#define H(U, l, ...) .l = fuzz_handler,
static const struct vhu_handlers handlers = {
	VHU_MAIN_MSGS(H)
	VHU_BACKEND_MSGS(H)
};
#undef H

static void send_chunk(int sock, const uint8_t *buf, size_t len, int nfds)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[16];

	if (len == 0)
		return;         /* fds need at least one byte to ride on */
	for (int i = 0; i < nfds; i++)
		fds[i] = dup(devnull);
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
	(void)sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

/* Returns the request selectors of mode 2 (bits 6-7 of each ctl). */
static size_t write_chunks(int sock, const uint8_t *p, size_t n,
			   uint8_t *sel, size_t max_sel)
{
	size_t nsel = 0;

	while (n >= 3) {
		uint8_t ctl = p[0];
		size_t len = p[1] | (size_t)p[2] << 8;
		int nfds = ctl & 0xf;

		p += 3;
		n -= 3;
		if (len > n)
			len = n;
		if (nsel < max_sel)
			sel[nsel++] = ctl >> 6;
		if ((ctl & 0x10) && len > 1) {
			size_t half = len / 2;

			send_chunk(sock, p, half, ctl & 0x20 ? 0 : nfds);
			send_chunk(sock, p + half, len - half,
				   ctl & 0x20 ? nfds : 0);
		} else {
			send_chunk(sock, p, len, nfds);
		}
		p += len;
		n -= len;
	}
	shutdown(sock, SHUT_WR);
	return nsel;
}

/* Read and discard whatever the code under test wrote back. */
static void drain(int sock)
{
	struct vhu_msg m;
	int fds[VHU_MAX_FDS], n;

	while (vhu_msg_recv_timeout(sock, &m, fds, &n, 0) == 0)
		vhu_close_fds(fds, n);
	/* A malformed leftover stream: discard raw bytes. */
	for (;;) {
		char buf[4096];

		if (recv(sock, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
	}
}

static void state_from(struct vhu_state *st, enum vhu_chan chan, int sock,
		       uint8_t bits, uint8_t vrings)
{
	vhu_state_init(st, chan, sock);
	st->timeout_ms = 1000;
	if (vrings)
		st->max_vrings = vrings;
	st->owner = bits & 1;
	st->mem_set = bits & 2;
	st->protocol_negotiated = bits & 4;
	if (bits & 8)
		st->features_offered = ~0ull;
	if (bits & 16)
		st->protocol_features |= 1ull << VHU_PROTOCOL_F_REPLY_ACK;
	if (bits & 32)
		st->protocol_features |= ~0ull;
	st->protocol_offered = st->protocol_features;
}

static void run_dispatch(struct vhu_state *st, int peer, bool failing)
{
	for (int i = 0; i < FUZZ_MAX_MSGS; i++) {
		struct vhu_msg msg;
		int fds[VHU_MAX_FDS], nfds, rc;

		rc = vhu_msg_recv(st->sock, &msg, fds, &nfds);
		if (rc) {
			CHECK(nfds == 0);
			break;
		}
		CHECK(nfds >= 0 && nfds <= VHU_MAX_FDS);
		CHECK(msg.size <= VHU_MAX_PAYLOAD);
		rc = vhu_dispatch(&handlers, failing ? (void *)&devnull : NULL,
				  &msg, fds, nfds, st);
		CHECK(rc <= 0);
		drain(peer);
	}
}

/* Valid requests the front end sends in mode 2. */
static void build_call(uint8_t sel, struct vhu_msg *m)
{
	switch (sel) {
	case 0:
		vhu_msg_init(m, VHU_GET_FEATURES, 0);
		break;
	case 1:
		vhu_msg_init(m, VHU_GET_VRING_BASE, 8);
		m->payload.state.index = 0;
		break;
	case 2:
		vhu_msg_init(m, VHU_GET_CONFIG, VHU_CONFIG_HDR_SIZE + 6);
		m->payload.config.size = 6;
		break;
	default:
		vhu_msg_init(m, VHU_GET_INFLIGHT_FD, 24);
		m->payload.inflight.num_queues = 1;
		m->payload.inflight.queue_size = 256;
		break;
	}
	if (sel == 1)
		m->flags |= VHU_FLAG_NEED_REPLY;
}

static void run_calls(struct vhu_state *st, int peer, const uint8_t *sel,
		      size_t nsel)
{
	for (size_t i = 0; i < nsel && i < FUZZ_MAX_MSGS; i++) {
		struct vhu_msg req, reply;
		int rfd = -2, rc;

		build_call(sel[i], &req);
		rc = vhu_call(st, &req, NULL, 0, &reply, &rfd);
		drain(peer);
		if (rc == 0) {
			CHECK(vhu_reply_validate(st, &req, &reply,
						 rfd >= 0) == 0);
			if (rfd >= 0)
				close(rfd);
		} else {
			CHECK(rfd == -1);
			/* Validation failures leave the stream usable. */
			if (rc != -EBADMSG && rc != -EOPNOTSUPP &&
			    rc != -EPERM && rc != -ERANGE && rc != -EREMOTEIO)
				break;
		}
		/* Also a plain SET_VRING_NUM with an ACK asked for. */
		vhu_msg_init(&req, VHU_SET_VRING_NUM, 8);
		req.payload.state.num = 256;
		req.flags |= VHU_FLAG_NEED_REPLY;
		rc = vhu_call(st, &req, NULL, 0, NULL, NULL);
		drain(peer);
		if (rc && rc != -EBADMSG && rc != -EOPNOTSUPP && rc != -EPERM &&
		    rc != -EREMOTEIO)
			break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhu_state st;
	uint8_t sel[FUZZ_MAX_MSGS];
	size_t nsel;
	int sv[2], mode, baseline;

	if (devnull < 0) {
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		CHECK(devnull >= 0);
	}
	if (size < 2)
		return 0;
	/* Counted per input: libFuzzer's symbolizer pipes come and go. */
	baseline = count_open_fds();
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	/* Room for every chunk, so writing never blocks before reading. */
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &(int){ 1 << 20 }, sizeof(int));
	mode = data[0] & 3;
	state_from(&st, mode == 1 ? VHU_CHAN_BACKEND : VHU_CHAN_MAIN, sv[0],
		   mode == 3 ? 0 : data[0] >> 2, data[1]);
	cur_st = &st;
	nsel = write_chunks(sv[1], data + 2, size - 2, sel, sizeof(sel));
	if (mode == 2)
		run_calls(&st, sv[1], sel, nsel);
	else
		run_dispatch(&st, sv[1], size & 1);
	close(sv[0]);
	close(sv[1]);
	CHECK(fcntl(devnull, F_GETFD) >= 0);
	CHECK(count_open_fds() == baseline);
	return 0;
}
