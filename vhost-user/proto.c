// SPDX-License-Identifier: MIT
/*
 * vhost-user wire protocol: the message tables, the validator, socket I/O
 * with SCM_RIGHTS, the dispatcher and the request/reply helper.
 * Spec: QEMU docs/interop/vhost-user.rst. Everything a peer sends is
 * hostile: the reader and validator run before any handler sees a message,
 * and every fd that is not handed to a handler is closed.
 */
#include "vhost-user/proto.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

#define MIN_I64(a, b) \
	((int64_t)(a) < (int64_t)(b) ? (int64_t)(a) : (int64_t)(b))
#define MIN_SZ(a, b) ((size_t)(a) < (size_t)(b) ? (size_t)(a) : (size_t)(b))

/* --- the descriptor tables ---------------------------------------------- */

typedef int (*vhu_check_fn)(const struct vhu_state *st,
			    const struct vhu_msg *msg,
			    const struct vhu_msg *req);

struct vhu_size_rule {
	uint32_t min;
	uint32_t max;
	vhu_check_fn check;     /* payload content; NULL = any */
};

enum vhu_fd_rule { FDR_0, FDR_1, FDR_REGIONS, FDR_NOFD, FDR_OPT };
enum vhu_vq_rule { VQR_NONE, VQR_STATE, VQR_ADDR, VQR_U64 };
enum vhu_need { NEED_NONE, NEED_PF, NEED_OFFERED, NEED_NEGOTIATED };
enum vhu_st_rule { STR_ANY, STR_OWNER, STR_MEM };

struct vhu_desc {
	const char *name;       /* NULL: unknown id */
	struct vhu_size_rule req_size;
	uint8_t req_fds;        /* enum vhu_fd_rule */
	uint8_t vq;             /* enum vhu_vq_rule */
	uint8_t need;           /* enum vhu_need */
	uint8_t pf_bit;         /* for NEED_PF */
	uint8_t state;          /* enum vhu_st_rule */
	bool has_reply;         /* always answered with a body */
	struct vhu_size_rule rep_size;
	uint8_t rep_fds;
	size_t handler_off;     /* offsetof(struct vhu_handlers, member) */
};

static int chk_mem_table(const struct vhu_state *st, const struct vhu_msg *msg,
			 const struct vhu_msg *req);
static int chk_mem_reg(const struct vhu_state *st, const struct vhu_msg *msg,
		       const struct vhu_msg *req);
static int chk_vring_num(const struct vhu_state *st, const struct vhu_msg *msg,
			 const struct vhu_msg *req);
static int chk_vring_addr(const struct vhu_state *st, const struct vhu_msg *msg,
			  const struct vhu_msg *req);
static int chk_same_vring(const struct vhu_state *st, const struct vhu_msg *msg,
			  const struct vhu_msg *req);
static int chk_vring_fd(const struct vhu_state *st, const struct vhu_msg *msg,
			const struct vhu_msg *req);
static int chk_vring_bool(const struct vhu_state *st, const struct vhu_msg *msg,
			  const struct vhu_msg *req);
static int chk_vring_zero(const struct vhu_state *st, const struct vhu_msg *msg,
			  const struct vhu_msg *req);
static int chk_vring_area(const struct vhu_state *st, const struct vhu_msg *msg,
			  const struct vhu_msg *req);
static int chk_protocol_features(const struct vhu_state *st,
				 const struct vhu_msg *msg,
				 const struct vhu_msg *req);
static int chk_config(const struct vhu_state *st, const struct vhu_msg *msg,
		      const struct vhu_msg *req);
static int chk_config_reply(const struct vhu_state *st,
			    const struct vhu_msg *msg,
			    const struct vhu_msg *req);
static int chk_inflight_req(const struct vhu_state *st,
			    const struct vhu_msg *msg,
			    const struct vhu_msg *req);
static int chk_inflight(const struct vhu_state *st, const struct vhu_msg *msg,
			const struct vhu_msg *req);
static int chk_status(const struct vhu_state *st, const struct vhu_msg *msg,
		      const struct vhu_msg *req);
static int chk_features(const struct vhu_state *st, const struct vhu_msg *msg,
			const struct vhu_msg *req);

/* The rule notation of the lists in proto.h. */
#define EXACT(n) { (n), (n), NULL }
#define EXACT_FN(n, fn) { (n), (n), fn }
#define VAR(lo, hi, fn) { (lo), (hi), fn }
#define FDS_0 FDR_0
#define FDS_1 FDR_1
#define FDS_REGIONS FDR_REGIONS
#define FDS_NOFD FDR_NOFD
#define FDS_OPT FDR_OPT
#define VQ_NONE VQR_NONE
#define VQ_STATE VQR_STATE
#define VQ_ADDR VQR_ADDR
#define VQ_U64 VQR_U64
#define ACK .has_reply = false
#define REPLY(sz, f) .has_reply = true, .rep_size = sz, .rep_fds = f
#define PF_NONE .need = NEED_NONE
#define PF(b) .need = NEED_PF, .pf_bit = VHU_PROTOCOL_F_##b
#define PF_OFFERED .need = NEED_OFFERED
#define PF_NEGOTIATED .need = NEED_NEGOTIATED
#define ANY STR_ANY
#define OWNER STR_OWNER
#define MEM STR_MEM

#define VHU_X_DESC(U, l, id, p_size, p_fds, p_vq, p_reply, p_need, p_state) \
	[id] = {                                                          \
		.name = "VHOST_USER_" #U,                                 \
		.req_size = p_size,                                       \
		.req_fds = p_fds,                                         \
		.vq = p_vq,                                               \
		p_reply,                                                  \
		p_need,                                                   \
		.state = p_state,                                         \
		.handler_off = offsetof(struct vhu_handlers, l),          \
	},

static const struct vhu_desc vhu_main_desc[VHU_MAIN_MAX] = {
	VHU_MAIN_MSGS(VHU_X_DESC)
};

static const struct vhu_desc vhu_backend_desc[VHU_BACKEND_MAX] = {
	VHU_BACKEND_MSGS(VHU_X_DESC)
};

#undef VHU_X_DESC
#undef EXACT
#undef EXACT_FN
#undef VAR
#undef ACK
#undef REPLY
#undef PF
#undef ANY
#undef OWNER
#undef MEM

static const struct vhu_desc *vhu_desc(enum vhu_chan chan, uint32_t request)
{
	const struct vhu_desc *d = NULL;

	if (chan == VHU_CHAN_MAIN && request < ARRAY_SIZE(vhu_main_desc))
		d = &vhu_main_desc[request];
	else if (chan == VHU_CHAN_BACKEND &&
		 request < ARRAY_SIZE(vhu_backend_desc))
		d = &vhu_backend_desc[request];
	return d && d->name ? d : NULL;
}

const char *vhu_msg_name(enum vhu_chan chan, uint32_t request)
{
	const struct vhu_desc *d = vhu_desc(chan, request);

	return d ? d->name : NULL;
}

bool vhu_msg_always_replies(enum vhu_chan chan, uint32_t request)
{
	const struct vhu_desc *d = vhu_desc(chan, request);

	return d && d->has_reply;
}

void vhu_state_init(struct vhu_state *st, enum vhu_chan chan, int sock)
{
	memset(st, 0, sizeof(*st));
	st->chan = chan;
	st->sock = sock;
	st->max_vrings = VHU_MAX_VRINGS;
	st->timeout_ms = VHU_REPLY_TIMEOUT_MS;
}

void vhu_msg_init(struct vhu_msg *msg, uint32_t request, uint32_t size)
{
	memset(msg, 0, sizeof(*msg));
	msg->request = request;
	msg->flags = VHU_VERSION;
	msg->size = size;
}

void vhu_close_fds(int *fds, int nfds)
{
	for (int i = 0; i < nfds; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* --- payload checks ------------------------------------------------------ */

/*
 * A region must be non-empty and no range it names may wrap: the back end
 * computes uaddr + off, gpa + off and mmap_offset + off from it.
 */
static int chk_region(const struct vhu_mem_region *r)
{
	if (r->size == 0 || range_overflows(r->gpa, r->size) ||
	    range_overflows(r->uaddr, r->size) ||
	    range_overflows(r->mmap_offset, r->size))
		return -EBADMSG;
	return 0;
}

/* SET_MEM_TABLE: 8 + nregions * 32 bytes, sane regions, disjoint GPAs. */
static int chk_mem_table(const struct vhu_state *st, const struct vhu_msg *msg,
			 const struct vhu_msg *req)
{
	const struct vhu_mem_table *t = &msg->payload.mem;

	if (t->nregions > VHU_MAX_REGIONS ||
	    msg->size != VHU_MEM_TABLE_SIZE(t->nregions))
		return -EBADMSG;
	for (uint32_t i = 0; i < t->nregions; i++) {
		if (chk_region(&t->regions[i]))
			return -EBADMSG;
		for (uint32_t j = 0; j < i; j++)
			if (ranges_overlap(t->regions[i].gpa,
					   t->regions[i].size,
					   t->regions[j].gpa,
					   t->regions[j].size))
				return -EBADMSG;
	}
	return 0;
}

static int chk_mem_reg(const struct vhu_state *st, const struct vhu_msg *msg,
		       const struct vhu_msg *req)
{
	return chk_region(&msg->payload.mem_reg.region);
}

/* Queue Size: 1..32768 (virtio 1.2 §4.1.4.3; packed rings need no pow2). */
static int chk_vring_num(const struct vhu_state *st, const struct vhu_msg *msg,
			 const struct vhu_msg *req)
{
	uint32_t num = msg->payload.state.num;

	return num >= 1 && num <= VHU_MAX_VRING_SIZE ? 0 : -EBADMSG;
}

/*
 * Only VHOST_VRING_F_LOG is defined. Alignments are the virtio ones
 * (1.2 §2.7: descriptors 16, available ring 2, used ring 4; the packed
 * ring's event areas, §2.8.10, are 4-aligned and sent as avail/used).
 */
static int chk_vring_addr(const struct vhu_state *st, const struct vhu_msg *msg,
			  const struct vhu_msg *req)
{
	const struct vhu_vring_addr *a = &msg->payload.addr;

	if (a->flags & ~VHU_VRING_F_LOG)
		return -EBADMSG;
	if (!IS_ALIGNED(a->desc, 16) || !IS_ALIGNED(a->avail, 2) ||
	    !IS_ALIGNED(a->used, 4))
		return -EBADMSG;
	return 0;
}

/* GET_VRING_BASE reply: the state of the ring that was asked about. */
static int chk_same_vring(const struct vhu_state *st, const struct vhu_msg *msg,
			  const struct vhu_msg *req)
{
	return msg->payload.state.index == req->payload.state.index ?
		0 : -EBADMSG;
}

/* SET_VRING_KICK/CALL/ERR: bits 0-7 index, bit 8 NOFD, the rest reserved. */
static int chk_vring_fd(const struct vhu_state *st, const struct vhu_msg *msg,
			const struct vhu_msg *req)
{
	return msg->payload.u64 & ~(VHU_VRING_IDX_MASK | VHU_VRING_NOFD) ?
		-EBADMSG : 0;
}

/* SET_VRING_ENABLE (0/1), SET_VRING_ENDIAN (0 little, 1 big). */
static int chk_vring_bool(const struct vhu_state *st, const struct vhu_msg *msg,
			  const struct vhu_msg *req)
{
	return msg->payload.state.num <= 1 ? 0 : -EBADMSG;
}

/* In-band VRING_KICK / BACKEND_VRING_CALL/ERR: "state.num ... must be 0". */
static int chk_vring_zero(const struct vhu_state *st, const struct vhu_msg *msg,
			  const struct vhu_msg *req)
{
	return msg->payload.state.num == 0 ? 0 : -EBADMSG;
}

static int chk_vring_area(const struct vhu_state *st, const struct vhu_msg *msg,
			  const struct vhu_msg *req)
{
	const struct vhu_vring_area *a = &msg->payload.area;

	if (a->u64 & ~(VHU_VRING_IDX_MASK | VHU_VRING_NOFD))
		return -EBADMSG;
	return range_overflows(a->offset, a->size) ? -EBADMSG : 0;
}

/* The front end may only ack what the back end offered. */
static int chk_features(const struct vhu_state *st, const struct vhu_msg *msg,
			const struct vhu_msg *req)
{
	return msg->payload.u64 & ~st->features_offered ? -EBADMSG : 0;
}

static int chk_protocol_features(const struct vhu_state *st,
				 const struct vhu_msg *msg,
				 const struct vhu_msg *req)
{
	return msg->payload.u64 & ~st->protocol_offered ? -EBADMSG : 0;
}

/* GET/SET_CONFIG: header + size bytes inside the config space; flags 0/1. */
static int chk_config(const struct vhu_state *st, const struct vhu_msg *msg,
		      const struct vhu_msg *req)
{
	const struct vhu_config *c = &msg->payload.config;

	if (c->size > VHU_MAX_CONFIG_SIZE ||
	    c->offset > VHU_MAX_CONFIG_SIZE - c->size ||
	    msg->size != VHU_CONFIG_HDR_SIZE + c->size || c->flags > 1)
		return -EBADMSG;
	return 0;
}

/*
 * GET_CONFIG reply: "back-end's payload size MUST match the front-end's
 * request, ... zero length of payload to indicate an error".
 */
static int chk_config_reply(const struct vhu_state *st,
			    const struct vhu_msg *msg,
			    const struct vhu_msg *req)
{
	if (msg->size == 0)
		return 0;
	if (msg->size != req->size ||
	    msg->payload.config.size != req->payload.config.size ||
	    msg->payload.config.offset != req->payload.config.offset)
		return -EBADMSG;
	return 0;
}

static int chk_inflight_req(const struct vhu_state *st,
			    const struct vhu_msg *msg,
			    const struct vhu_msg *req)
{
	const struct vhu_inflight *f = &msg->payload.inflight;

	if (f->num_queues == 0 || f->num_queues > st->max_vrings ||
	    f->queue_size == 0 || f->queue_size > VHU_MAX_VRING_SIZE)
		return -EBADMSG;
	return 0;
}

static int chk_inflight(const struct vhu_state *st, const struct vhu_msg *msg,
			const struct vhu_msg *req)
{
	const struct vhu_inflight *f = &msg->payload.inflight;

	if (f->mmap_size == 0 || range_overflows(f->mmap_offset, f->mmap_size))
		return -EBADMSG;
	/* A reply must describe the queues that were asked for. */
	if (req && (f->num_queues != req->payload.inflight.num_queues ||
		    f->queue_size != req->payload.inflight.queue_size))
		return -EBADMSG;
	return chk_inflight_req(st, msg, req);
}

/* Device status is the 8-bit virtio status field (virtio 1.2 §2.1). */
static int chk_status(const struct vhu_state *st, const struct vhu_msg *msg,
		      const struct vhu_msg *req)
{
	return msg->payload.u64 > 0xff ? -EBADMSG : 0;
}

/* --- validation ---------------------------------------------------------- */

static int check_size(const struct vhu_size_rule *r, const struct vhu_state *st,
		      const struct vhu_msg *msg, const struct vhu_msg *req)
{
	if (msg->size < r->min || msg->size > r->max)
		return -EBADMSG;
	return r->check ? r->check(st, msg, req) : 0;
}

static int check_fds(uint8_t rule, const struct vhu_msg *msg, int nfds)
{
	switch (rule) {
	case FDR_0:
		return nfds == 0 ? 0 : -EBADMSG;
	case FDR_1:
		return nfds == 1 ? 0 : -EBADMSG;
	case FDR_REGIONS:
		return (uint32_t)nfds == msg->payload.mem.nregions ? 0 : -EBADMSG;
	case FDR_NOFD:
		/* u64 is the first field of both u64 and vring area payloads. */
		if (msg->payload.u64 & VHU_VRING_NOFD)
			return nfds == 0 ? 0 : -EBADMSG;
		return nfds == 1 ? 0 : -EBADMSG;
	case FDR_OPT:
		return nfds <= 1 ? 0 : -EBADMSG;
	}
	return -EBADMSG;
}

static int check_vring_index(uint8_t rule, const struct vhu_state *st,
			     const struct vhu_msg *msg)
{
	uint64_t idx;

	switch (rule) {
	case VQR_STATE:
		idx = msg->payload.state.index;
		break;
	case VQR_ADDR:
		idx = msg->payload.addr.index;
		break;
	case VQR_U64:
		idx = msg->payload.u64 & VHU_VRING_IDX_MASK;
		break;
	default:
		return 0;
	}
	return idx < st->max_vrings ? 0 : -ERANGE;
}

static int check_need(const struct vhu_desc *d, const struct vhu_state *st)
{
	switch (d->need) {
	case NEED_PF:
		return vhu_has_protocol(st, d->pf_bit) ? 0 : -EOPNOTSUPP;
	case NEED_OFFERED:
		return (st->features_offered >> VHU_F_PROTOCOL_FEATURES) & 1 ?
			0 : -EOPNOTSUPP;
	case NEED_NEGOTIATED:
		return st->protocol_negotiated ? 0 : -EOPNOTSUPP;
	}
	return 0;
}

static int check_state(const struct vhu_desc *d, const struct vhu_state *st)
{
	if (d->state >= STR_OWNER && !st->owner)
		return -EPERM;
	if (d->state >= STR_MEM && !st->mem_set)
		return -EPERM;
	return 0;
}

static int check_version(uint32_t flags)
{
	if ((flags & VHU_FLAG_VERSION_MASK) != VHU_VERSION ||
	    (flags & ~VHU_FLAG_KNOWN))
		return -EPROTO;
	return 0;
}

int vhu_msg_validate(const struct vhu_state *st, const struct vhu_msg *msg,
		     int nfds)
{
	const struct vhu_desc *d;
	int rc;

	if (check_version(msg->flags) || (msg->flags & VHU_FLAG_REPLY))
		return -EPROTO;
	d = vhu_desc(st->chan, msg->request);
	if (!d)
		return -ENOSYS;
	if (nfds < 0 || nfds > VHU_MAX_FDS || msg->size > VHU_MAX_PAYLOAD)
		return -EBADMSG;
	rc = check_need(d, st);
	if (!rc)
		rc = check_state(d, st);
	if (!rc)
		rc = check_size(&d->req_size, st, msg, NULL);
	if (!rc)
		rc = check_vring_index(d->vq, st, msg);
	if (!rc)
		rc = check_fds(d->req_fds, msg, nfds);
	return rc;
}

int vhu_reply_validate(const struct vhu_state *st, const struct vhu_msg *req,
		       const struct vhu_msg *reply, int nfds)
{
	const struct vhu_desc *d = vhu_desc(st->chan, req->request);

	if (!d)
		return -ENOSYS;
	if (check_version(reply->flags) || !(reply->flags & VHU_FLAG_REPLY) ||
	    (reply->flags & VHU_FLAG_NEED_REPLY) ||
	    reply->request != req->request)
		return -EPROTO;
	if (nfds < 0 || nfds > VHU_MAX_FDS || reply->size > VHU_MAX_PAYLOAD)
		return -EBADMSG;
	if (!d->has_reply) /* REPLY_ACK: "a Payload VhostUserMsg" u64 */
		return reply->size == 8 && nfds == 0 ? 0 : -EBADMSG;
	if (check_size(&d->rep_size, st, reply, req))
		return -EBADMSG;
	/* An error GET_CONFIG reply (size 0) carries nothing. */
	return check_fds(d->rep_fds, reply, nfds);
}

/* The session facts both ends track (see struct vhu_state). */
static void vhu_state_update(struct vhu_state *st, const struct vhu_msg *req,
			     const struct vhu_msg *reply)
{
	if (st->chan != VHU_CHAN_MAIN)
		return;
	switch (req->request) {
	case VHU_GET_FEATURES:
		st->features_offered = reply->payload.u64;
		break;
	case VHU_SET_FEATURES:
		st->features = req->payload.u64;
		break;
	case VHU_GET_PROTOCOL_FEATURES:
		st->protocol_offered = reply->payload.u64;
		break;
	case VHU_SET_PROTOCOL_FEATURES:
		st->protocol_features = req->payload.u64;
		st->protocol_negotiated = true;
		break;
	case VHU_SET_OWNER:
		st->owner = true;
		break;
	case VHU_SET_MEM_TABLE:
		st->mem_set = req->payload.mem.nregions > 0;
		break;
	case VHU_ADD_MEM_REG:
		st->mem_set = true;
		break;
	case VHU_RESET_OWNER:
	case VHU_RESET_DEVICE:
		st->mem_set = false;
		break;
	}
}

/* --- socket I/O ---------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `events` until deadline (ms, CLOCK_MONOTONIC; < 0 = forever). */
static int wait_fd(int sock, short events, int64_t deadline)
{
	struct pollfd p = { .fd = sock, .events = events };

	for (;;) {
		int tmo = -1, r;

		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			tmo = left > 0 ? (int)MIN_I64(left, 1 << 30) : 0;
		}
		r = poll(&p, 1, tmo);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		/* POLLHUP/POLLERR: the next recvmsg/sendmsg says what. */
		return 0;
	}
}

int vhu_msg_send(int sock, const struct vhu_msg *msg, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_FDS)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov[2] = {
		{ .iov_base = (void *)msg, .iov_len = VHU_HDR_SIZE },
		{ .iov_base = (void *)&msg->payload, .iov_len = msg->size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	int64_t deadline = -1;

	if (msg->size > VHU_MAX_PAYLOAD || nfds < 0 || nfds > VHU_MAX_FDS)
		return -EINVAL;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	while (mh.msg_iovlen > 0) {
		ssize_t r = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc;

			if (deadline < 0)
				deadline = now_ms() + VHU_STALL_TIMEOUT_MS;
			rc = wait_fd(sock, POLLOUT, deadline);
			if (rc)
				return rc;
			continue;
		}
		if (r < 0)
			return -errno;
		/* The fds went with the first byte. */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		while (r > 0 && mh.msg_iovlen > 0) {
			size_t n = MIN_SZ((size_t)r, mh.msg_iov->iov_len);

			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + n;
			mh.msg_iov->iov_len -= n;
			r -= n;
			if (mh.msg_iov->iov_len == 0) {
				mh.msg_iov++;
				mh.msg_iovlen--;
			}
		}
		while (mh.msg_iovlen > 0 && mh.msg_iov->iov_len == 0) {
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
	}
	return 0;
}

/* Bytes and fds of one message being read. */
struct vhu_rx {
	int sock;
	int *fds;
	int nfds;
	bool overflow;          /* more fds than VHU_MAX_FDS, or MSG_CTRUNC */
	bool started;           /* a byte of this message has arrived */
	int64_t deadline;       /* < 0: forever */
	int first_timeout;      /* timeout_ms of the caller */
};

static void rx_take_fds(struct vhu_rx *rx, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (rx->nfds < VHU_MAX_FDS) {
				rx->fds[rx->nfds++] = fd;
			} else {
				close(fd);
				rx->overflow = true;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		rx->overflow = true;
}

/* Read exactly len bytes, collecting fds. */
static int rx_read(struct vhu_rx *rx, void *buf, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_FDS)];
		struct cmsghdr align;
	} cbuf;
	size_t done = 0;

	while (done < len) {
		struct iovec iov = {
			.iov_base = (char *)buf + done, .iov_len = len - done,
		};
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
		};
		ssize_t r = recvmsg(rx->sock, &mh,
				    MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc;

			if (!rx->started && rx->first_timeout == 0)
				return -EAGAIN;
			rc = wait_fd(rx->sock, POLLIN, rx->deadline);
			if (rc)
				return rc;
			continue;
		}
		if (r < 0)
			return -errno;
		rx_take_fds(rx, &mh);
		if (rx->overflow)
			return -ENOBUFS;
		if (r == 0)
			return -ECONNRESET;
		if (!rx->started) {
			rx->started = true;
			rx->deadline = now_ms() + VHU_STALL_TIMEOUT_MS;
		}
		done += r;
	}
	return 0;
}

int vhu_msg_recv_timeout(int sock, struct vhu_msg *msg, int *fds, int *nfds,
			 int timeout_ms)
{
	struct vhu_rx rx = {
		.sock = sock, .fds = fds, .first_timeout = timeout_ms,
		.deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms,
	};
	int rc;

	*nfds = 0;
	msg->pad = 0;
	rc = rx_read(&rx, msg, VHU_HDR_SIZE);
	if (rc)
		goto fail;
	if (check_version(msg->flags)) {
		rc = -EPROTO;
		goto fail;
	}
	if (msg->size > VHU_MAX_PAYLOAD) {
		rc = -EMSGSIZE;
		goto fail;
	}
	memset(&msg->payload, 0, sizeof(msg->payload));
	rc = rx_read(&rx, &msg->payload, msg->size);
	if (rc)
		goto fail;
	*nfds = rx.nfds;
	return 0;

fail:
	vhu_close_fds(fds, rx.nfds);
	return rc;
}

int vhu_msg_recv(int sock, struct vhu_msg *msg, int *fds, int *nfds)
{
	return vhu_msg_recv_timeout(sock, msg, fds, nfds, -1);
}

/* --- dispatch ------------------------------------------------------------ */

/* Pre-set the reply a handler fills for a message that always replies. */
static void reply_preset(const struct vhu_desc *d, const struct vhu_msg *msg,
			 struct vhu_msg *reply)
{
	vhu_msg_init(reply, msg->request, d->rep_size.max);
	reply->flags |= VHU_FLAG_REPLY;
	if (d->rep_size.check == chk_config_reply) {
		reply->size = msg->size;
		reply->payload.config.offset = msg->payload.config.offset;
		reply->payload.config.size = msg->payload.config.size;
		reply->payload.config.flags = msg->payload.config.flags;
	} else if (d->rep_size.check == chk_same_vring) {
		reply->payload.state.index = msg->payload.state.index;
	} else if (d->rep_size.check == chk_inflight) {
		reply->payload.inflight.num_queues =
			msg->payload.inflight.num_queues;
		reply->payload.inflight.queue_size =
			msg->payload.inflight.queue_size;
	}
}

static int send_ack(const struct vhu_state *st, const struct vhu_msg *msg,
		    int rc)
{
	struct vhu_msg ack;

	vhu_msg_init(&ack, msg->request, 8);
	ack.flags |= VHU_FLAG_REPLY;
	ack.payload.u64 = rc ? 1 : 0;
	return vhu_msg_send(st->sock, &ack, NULL, 0);
}

static int send_body(const struct vhu_state *st, const struct vhu_desc *d,
		     const struct vhu_msg *msg, struct vhu_req *r)
{
	int nrfd = r->reply_fd >= 0 ? 1 : 0;

	/* Our own handler broke the reply rule: a bug, but not the peer's. */
	r->reply->request = msg->request;
	r->reply->flags = VHU_VERSION | VHU_FLAG_REPLY;
	if (vhu_reply_validate(st, msg, r->reply, nrfd))
		return -EINVAL;
	return vhu_msg_send(st->sock, r->reply, &r->reply_fd, nrfd);
}

int vhu_dispatch(const struct vhu_handlers *h, void *opaque,
		 struct vhu_msg *msg, int *fds, int nfds, struct vhu_state *st)
{
	const struct vhu_desc *d;
	struct vhu_msg reply;
	struct vhu_req r;
	vhu_handler_fn fn;
	int rc, src;

	rc = vhu_msg_validate(st, msg, nfds);
	if (rc)
		goto out;
	d = vhu_desc(st->chan, msg->request);
	/* REM_MEM_REG: "If a file descriptor is passed, the back-end MUST
	 * close it without using it otherwise." */
	if (d->req_fds == FDR_OPT) {
		vhu_close_fds(fds, nfds);
		nfds = 0;
	}
	memcpy(&fn, (const char *)h + d->handler_off, sizeof(fn));
	r = (struct vhu_req){
		.msg = msg, .fds = fds, .nfds = nfds, .reply = &reply,
		.reply_fd = -1,
	};
	if (d->has_reply)
		reply_preset(d, msg, &reply);
	rc = fn ? fn(opaque, &r) : -EOPNOTSUPP;
	vhu_close_fds(fds, nfds);
	nfds = 0;

	if (d->has_reply) {
		if (rc)
			return rc;
		rc = send_body(st, d, msg, &r);
	} else if ((msg->flags & VHU_FLAG_NEED_REPLY) &&
		   vhu_has_protocol(st, VHU_PROTOCOL_F_REPLY_ACK)) {
		src = send_ack(st, msg, rc);
		if (!rc)
			rc = src;
	}
	if (!rc)
		vhu_state_update(st, msg, &reply);
	return rc;

out:
	vhu_close_fds(fds, nfds);
	return rc;
}

/* --- calling -------------------------------------------------------------- */

static int call_wait_reply(struct vhu_state *st, const struct vhu_msg *req,
			   struct vhu_msg *reply, int *reply_fd)
{
	int rfds[VHU_MAX_FDS];
	int nr, rc;

	rc = vhu_msg_recv_timeout(st->sock, reply, rfds, &nr, st->timeout_ms);
	if (rc)
		return rc;
	rc = vhu_reply_validate(st, req, reply, nr);
	if (rc) {
		vhu_close_fds(rfds, nr);
		return rc;
	}
	if (!vhu_msg_always_replies(st->chan, req->request))
		return reply->payload.u64 ? -EREMOTEIO : 0;
	if (nr == 1 && reply_fd)
		*reply_fd = rfds[0];
	else
		vhu_close_fds(rfds, nr);
	return 0;
}

int vhu_call(struct vhu_state *st, struct vhu_msg *req, const int *fds,
	     int nfds, struct vhu_msg *reply, int *reply_fd)
{
	struct vhu_msg local;
	bool body, ack;
	int rc;

	if (reply_fd)
		*reply_fd = -1;
	rc = vhu_msg_validate(st, req, nfds);
	if (rc)
		return rc;
	body = vhu_msg_always_replies(st->chan, req->request);
	ack = !body && (req->flags & VHU_FLAG_NEED_REPLY) &&
	      vhu_has_protocol(st, VHU_PROTOCOL_F_REPLY_ACK);
	/*
	 * Ask only for an ACK that is due: DPDK's rte_vhost (22.11) answers
	 * NEED_REPLY even without REPLY_ACK negotiated, and an answer nobody
	 * reads would put the stream out of step. QEMU does the same.
	 */
	if (!ack)
		req->flags &= ~VHU_FLAG_NEED_REPLY;
	rc = vhu_msg_send(st->sock, req, fds, nfds);
	if (rc)
		return rc;
	if (!reply)
		reply = &local;
	if (body || ack) {
		rc = call_wait_reply(st, req, reply, reply_fd);
		if (rc)
			return rc;
	}
	vhu_state_update(st, req, reply);
	return 0;
}
