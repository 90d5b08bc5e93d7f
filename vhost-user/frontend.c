// SPDX-License-Identifier: MIT
/*
 * vhost-user front-end: connection management, handshake, memory table,
 * vring start/stop and reconnection (see frontend.h for the sequence).
 *
 * All messages go through vhu_call() (vhost-user/proto.h), which checks
 * our request against the message table and the reply against the reply
 * rule before we look at it: a back end that sends a malformed, oversized
 * or out-of-step reply, or an fd where none belongs, is dropped, never
 * trusted. Any failed exchange drops the connection; the back end is then
 * retried with back-off and, on return, given everything again.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "emul-devices/virtio/virtio.h"
#include "vhost-user/frontend.h"
#include "vhost-user/vhost.h"

struct vhu_frontend {
	struct vhu_frontend_config cfg; /* path and name point at our copies */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char name[48];
	int listen_fd;             /* server mode; owned */
	int timer_fd;              /* client reconnect timer; owned */
	bool running;              /* vhu_fe_run() registered the handlers */
	/* Everything below: *cfg.lock once running. */
	int sock;                  /* the connection, -1 when down; owned */
	bool sock_polled;
	struct vhu_state st;       /* session state of this connection */
	uint64_t first_offer;      /* first back end's features */
	uint64_t offer;            /* this connection's back end's features */
	uint64_t required;         /* first_offer & cfg.features */
	uint64_t protocol;         /* negotiated on this connection */
	bool mem_sent;             /* memory table given on this connection */
	struct vhost_dev dev;      /* the rings (vhost.h), over vhu_vhost_ops */
	int inflight_fd;           /* inflight region, kept across back ends */
	struct vhu_inflight inflight;
	unsigned backoff_ms;
	struct vhu_fe_stats stats;
};

static bool fe_has(const struct vhu_frontend *fe, enum vhu_protocol_feature f)
{
	return (fe->protocol >> f) & 1;
}

/* ---- the connection ---- */

/*
 * Exchange one message; any failure means the stream can no longer be
 * trusted, so the caller drops the connection. With REPLY_ACK every
 * request that has no reply of its own asks for an ack.
 */
static int fe_call(struct vhu_frontend *fe, struct vhu_msg *m, const int *fds,
		   int nfds, struct vhu_msg *reply, int *reply_fd)
{
	struct vhu_msg ack;
	int ret;

	if (fe->sock < 0)
		return -ENOTCONN;
	if (!vhu_msg_always_replies(VHU_CHAN_MAIN, m->request) &&
	    vhu_has_protocol(&fe->st, VHU_PROTOCOL_F_REPLY_ACK))
		m->flags |= VHU_FLAG_NEED_REPLY;
	ret = vhu_call(&fe->st, m, fds, nfds, reply ? reply : &ack, reply_fd);
	if (ret)
		log_warn(fe->name, "%s: %s", vhu_msg_name(VHU_CHAN_MAIN, m->request),
			 ret == -EREMOTEIO ? "refused by the back end" :
					     strerror(-ret));
	return ret;
}

static int fe_call_u64(struct vhu_frontend *fe, uint32_t req, uint64_t v)
{
	struct vhu_msg m;

	vhu_msg_init(&m, req, sizeof(uint64_t));
	m.payload.u64 = v;
	return fe_call(fe, &m, NULL, 0, NULL, NULL);
}

static int fe_get_u64(struct vhu_frontend *fe, uint32_t req, uint64_t *v)
{
	struct vhu_msg m, r;
	int ret;

	vhu_msg_init(&m, req, 0);
	ret = fe_call(fe, &m, NULL, 0, &r, NULL);
	if (!ret)
		*v = r.payload.u64;
	return ret;
}

static int fe_call_state(struct vhu_frontend *fe, uint32_t req, uint32_t idx,
			 uint32_t num)
{
	struct vhu_msg m;

	vhu_msg_init(&m, req, sizeof(struct vhu_vring_state));
	m.payload.state = (struct vhu_vring_state){ .index = idx, .num = num };
	return fe_call(fe, &m, NULL, 0, NULL, NULL);
}

/* Non-blocking connect; -ENOENT / -ECONNREFUSED are the usual answers. */
static int fe_connect(const struct vhu_frontend *fe)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int ret;

	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, fe->path, strlen(fe->path));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* EAGAIN: the listener's backlog is full; try again later. */
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static void fe_arm_timer(struct vhu_frontend *fe)
{
	struct itimerspec its = {
		.it_value = {
			.tv_sec = fe->backoff_ms / 1000,
			.tv_nsec = (long)(fe->backoff_ms % 1000) * 1000000L,
		},
	};

	if (fe->timer_fd < 0)
		return;
	timerfd_settime(fe->timer_fd, 0, &its, NULL);
	fe->backoff_ms = fe->backoff_ms * 2 > VHU_FE_BACKOFF_MAX_MS ?
				 VHU_FE_BACKOFF_MAX_MS : fe->backoff_ms * 2;
}

/* Forget the connection; a client schedules the next attempt. */
static void fe_drop(struct vhu_frontend *fe, const char *why)
{
	if (fe->sock < 0)
		return;
	log_warn(fe->name, "back end disconnected (%s); link down, retrying",
		 why);
	if (fe->sock_polled)
		ioloop_del(fe->cfg.io, fe->sock);
	fe->sock_polled = false;
	close(fe->sock);
	fe->sock = -1;
	fe->dev.started = false;
	fe->dev.started_mask = 0;
	fe->mem_sent = false;
	fe->protocol = 0;
	fe->stats.disconnects++;
	if (fe->running && !fe->cfg.server)
		fe_arm_timer(fe);
}

void vhu_fe_disconnect(struct vhu_frontend *fe, const char *why)
{
	fe_drop(fe, why);
}

/* ---- handshake ---- */

/*
 * The default reply timeout, stretched by IOVMM_TIME_SCALE (a whole number,
 * 1-20) on a host known to be slow: inside the lab's TCG L1 a DPDK back
 * end takes more than 5 s to map a 256 MiB guest in 4 KiB pages
 * (VHOST_USER_SET_MEM_TABLE), and the front end would give up on a back
 * end that is only slow (docs/testing.md, "The nested run").
 */
static int fe_default_timeout_ms(void)
{
	const char *s = getenv("IOVMM_TIME_SCALE");
	char *end;
	long scale = s && *s ? strtol(s, &end, 10) : 1;

	if (!s || !*s || *end || scale < 1 || scale > 20)
		scale = 1;
	return VHU_FE_REPLY_TIMEOUT_MS * (int)scale;
}

__attribute__((format(printf, 4, 5)))
__attribute__((format(printf, 4, 5)))
static int fe_err(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verrf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

static int fe_check_features(struct vhu_frontend *fe, uint64_t f, char *err,
			     size_t errlen)
{
	if (!(f & (1ULL << VIRTIO_F_VERSION_1)))
		return fe_err(err, errlen, -EPROTONOSUPPORT,
			      "back end lacks VIRTIO_F_VERSION_1");
	if (fe->required & ~f)
		return fe_err(err, errlen, -EPROTONOSUPPORT,
			      "back end lacks features %#llx that the first back end offered",
			      (unsigned long long)(fe->required & ~f));
	return 0;
}

/* GET/SET_PROTOCOL_FEATURES and what they unlock (MQ, mem slots). */
static int fe_protocol(struct vhu_frontend *fe, char *err, size_t errlen)
{
	uint64_t pf, n;
	int ret;

	ret = fe_get_u64(fe, VHU_GET_PROTOCOL_FEATURES, &pf);
	if (!ret)
		ret = fe_call_u64(fe, VHU_SET_PROTOCOL_FEATURES,
				  pf & VHU_FE_PROTOCOL_WANTED);
	if (ret)
		return fe_err(err, errlen, ret, "protocol features: %s",
			      strerror(-ret));
	fe->protocol = pf & VHU_FE_PROTOCOL_WANTED;
	if (fe->cfg.nr_pairs > 1) {
		if (!fe_has(fe, VHU_PROTOCOL_F_MQ))
			return fe_err(err, errlen, -EPROTONOSUPPORT,
				      "back end has no multiqueue (PROTOCOL_F_MQ)");
		ret = fe_get_u64(fe, VHU_GET_QUEUE_NUM, &n);
		if (ret)
			return fe_err(err, errlen, ret, "GET_QUEUE_NUM: %s",
				      strerror(-ret));
		if (n < fe->cfg.nr_pairs)
			return fe_err(err, errlen, -EPROTONOSUPPORT,
				      "back end serves only %llu queue pairs (%u asked)",
				      (unsigned long long)n, fe->cfg.nr_pairs);
	}
	if (fe_has(fe, VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
		ret = fe_get_u64(fe, VHU_GET_MAX_MEM_SLOTS, &n);
		if (ret)
			return fe_err(err, errlen, ret, "GET_MAX_MEM_SLOTS: %s",
				      strerror(-ret));
		if (n < fe->cfg.mem->nr_regions)
			return fe_err(err, errlen, -EPROTONOSUPPORT,
				      "back end has too few memory slots");
	}
	return 0;
}

/*
 * Everything up to SET_OWNER on a fresh socket. On failure the socket is
 * closed and a one-line reason is in err.
 */
static int fe_handshake(struct vhu_frontend *fe, int sock, char *err,
			size_t errlen)
{
	struct vhu_msg m;
	uint64_t f;
	int ret;

	fe->sock = sock;
	vhu_state_init(&fe->st, VHU_CHAN_MAIN, sock);
	fe->st.max_vrings = fe->cfg.nr_vrings;
	fe->st.timeout_ms = fe->cfg.timeout_ms;
	fe->protocol = 0;
	fe->mem_sent = false;
	fe->stats.attempts++;
	ret = fe_get_u64(fe, VHU_GET_FEATURES, &f);
	if (ret) {
		fe_err(err, errlen, ret, "GET_FEATURES: %s", strerror(-ret));
		goto fail;
	}
	if (!fe->stats.connects) {
		fe->first_offer = f;
		fe->required = f & fe->cfg.features;
	}
	ret = fe_check_features(fe, f, err, errlen);
	if (!ret && (f & (1ULL << VHU_F_PROTOCOL_FEATURES)))
		ret = fe_protocol(fe, err, errlen);
	else if (!ret && fe->cfg.nr_pairs > 1)
		ret = fe_err(err, errlen, -EPROTONOSUPPORT,
			     "back end has no protocol features (multiqueue)");
	if (ret)
		goto fail;
	fe->offer = f;
	vhu_msg_init(&m, VHU_SET_OWNER, 0);
	ret = fe_call(fe, &m, NULL, 0, NULL, NULL);
	if (ret) {
		fe_err(err, errlen, ret, "SET_OWNER: %s", strerror(-ret));
		goto fail;
	}
	fe->stats.connects++;
	return 0;

fail:
	close(sock);
	fe->sock = -1;
	fe->protocol = 0;
	return ret;
}

/* ---- starting and stopping rings ---- */

static int fe_send_mem(struct vhu_frontend *fe)
{
	const struct gmem *mem = fe->cfg.mem;
	int fds[GMEM_MAX_REGIONS];
	struct vhu_msg m;
	int ret = 0;

	if (fe->mem_sent)
		return 0;
	if (fe_has(fe, VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
		/* ADD_MEM_REG: one region (and its fd) per message. */
		for (unsigned i = 0; i < mem->nr_regions && !ret; i++) {
			const struct gmem_region *r = &mem->regions[i];

			vhu_msg_init(&m, VHU_ADD_MEM_REG, sizeof(struct vhu_mem_single));
			m.payload.mem_reg.region = (struct vhu_mem_region){
				.gpa = r->gpa, .size = r->size,
				.uaddr = (uint64_t)(uintptr_t)r->hva,
				.mmap_offset = r->fd_offset,
			};
			ret = fe_call(fe, &m, &mem->fd, 1, NULL, NULL);
		}
	} else {
		/* One fd per region, all the same memfd at their offsets. */
		vhu_msg_init(&m, VHU_SET_MEM_TABLE,
			     VHU_MEM_TABLE_SIZE(mem->nr_regions));
		m.payload.mem.nregions = mem->nr_regions;
		for (unsigned i = 0; i < mem->nr_regions; i++) {
			const struct gmem_region *r = &mem->regions[i];

			m.payload.mem.regions[i] = (struct vhu_mem_region){
				.gpa = r->gpa, .size = r->size,
				.uaddr = (uint64_t)(uintptr_t)r->hva,
				.mmap_offset = r->fd_offset,
			};
			fds[i] = mem->fd;
		}
		ret = fe_call(fe, &m, fds, (int)mem->nr_regions, NULL, NULL);
	}
	if (!ret)
		fe->mem_sent = true;
	return ret;
}

/*
 * The inflight region (GET_INFLIGHT_FD) is asked for once and then given
 * to every back end (SET_INFLIGHT_FD): a back end that died with buffers
 * in flight left their state there for its successor to resubmit.
 */
static int fe_send_inflight(struct vhu_frontend *fe, uint16_t queue_size)
{
	struct vhu_msg m, r;
	struct stat st;
	int fd = -1, ret;

	if (!fe_has(fe, VHU_PROTOCOL_F_INFLIGHT_SHMFD))
		return 0;
	if (fe->inflight_fd >= 0 && fe->inflight.queue_size != queue_size) {
		close(fe->inflight_fd);
		fe->inflight_fd = -1;
	}
	if (fe->inflight_fd < 0) {
		vhu_msg_init(&m, VHU_GET_INFLIGHT_FD, sizeof(struct vhu_inflight));
		m.payload.inflight = (struct vhu_inflight){
			.num_queues = (uint16_t)fe->cfg.nr_vrings,
			.queue_size = queue_size,
		};
		ret = fe_call(fe, &m, NULL, 0, &r, &fd);
		if (ret)
			return ret;
		/*
		 * Kept and handed to the next back end: only shared memory
		 * (a memfd or file), never a socket or device of this one's.
		 */
		if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
			if (fd >= 0)
				close(fd);
			return -EBADMSG;
		}
		fe->inflight_fd = fd;
		fe->inflight = r.payload.inflight;
	}
	vhu_msg_init(&m, VHU_SET_INFLIGHT_FD, sizeof(struct vhu_inflight));
	m.payload.inflight = fe->inflight;
	return fe_call(fe, &m, &fe->inflight_fd, 1, NULL, NULL);
}

/* ---- the vhost transport primitives (vhost.h) as vhost-user messages ---- */

static struct vhu_frontend *fe_of(struct vhost_dev *d)
{
	return container_of(d, struct vhu_frontend, dev);
}

/* The driver's features the back end offered, and PROTOCOL_FEATURES
 * (which must stay set once negotiated). */
static int fe_set_features(struct vhost_dev *d, uint64_t features)
{
	struct vhu_frontend *fe = fe_of(d);

	return fe_call_u64(fe, VHU_SET_FEATURES,
			   (features & fe->cfg.features & fe->offer) |
			   (fe->offer & (1ULL << VHU_F_PROTOCOL_FEATURES)));
}

static int fe_set_mem_table(struct vhost_dev *d)
{
	return fe_send_mem(fe_of(d));
}

static int fe_set_vring_num(struct vhost_dev *d, uint32_t index, uint16_t num)
{
	return fe_call_state(fe_of(d), VHU_SET_VRING_NUM, index, num);
}

static int fe_set_vring_base(struct vhost_dev *d, uint32_t index, uint16_t base)
{
	return fe_call_state(fe_of(d), VHU_SET_VRING_BASE, index, base);
}

static int fe_set_vring_addr(struct vhost_dev *d, const struct vhost_ring_hva *a)
{
	struct vhu_msg m;

	vhu_msg_init(&m, VHU_SET_VRING_ADDR, sizeof(struct vhu_vring_addr));
	m.payload.addr = (struct vhu_vring_addr){
		.index = a->index, .desc = a->desc, .avail = a->avail,
		.used = a->used,
	};
	return fe_call(fe_of(d), &m, NULL, 0, NULL, NULL);
}

/* SET_VRING_CALL / KICK: the ring index in the u64, the fd alongside. */
static int fe_vring_fd(struct vhost_dev *d, uint32_t req, uint32_t index,
		       int fd)
{
	struct vhu_msg m;

	vhu_msg_init(&m, req, sizeof(uint64_t));
	m.payload.u64 = index;
	return fe_call(fe_of(d), &m, &fd, 1, NULL, NULL);
}

static int fe_set_vring_call(struct vhost_dev *d, uint32_t index, int fd)
{
	return fe_vring_fd(d, VHU_SET_VRING_CALL, index, fd);
}

static int fe_set_vring_kick(struct vhost_dev *d, uint32_t index, int fd)
{
	return fe_vring_fd(d, VHU_SET_VRING_KICK, index, fd);
}

static int fe_rings_described(struct vhost_dev *d, uint16_t max_size)
{
	return fe_send_inflight(fe_of(d), max_size);
}

/* Without PROTOCOL_FEATURES a ring is enabled by its kick fd and stopped
 * by GET_VRING_BASE: nothing to send. */
static int fe_set_vring_enable(struct vhost_dev *d, uint32_t index, bool on)
{
	struct vhu_frontend *fe = fe_of(d);

	if (!(fe->offer & (1ULL << VHU_F_PROTOCOL_FEATURES)))
		return 0;
	return fe_call_state(fe, VHU_SET_VRING_ENABLE, index, on);
}

static int fe_get_vring_base(struct vhost_dev *d, uint32_t index,
			     uint16_t *base)
{
	struct vhu_msg m, r;
	int ret;

	vhu_msg_init(&m, VHU_GET_VRING_BASE, sizeof(struct vhu_vring_state));
	m.payload.state.index = index;
	ret = fe_call(fe_of(d), &m, NULL, 0, &r, NULL);
	if (!ret)
		*base = (uint16_t)r.payload.state.num;
	return ret;
}

static int fe_set_status(struct vhost_dev *d, uint8_t status)
{
	struct vhu_frontend *fe = fe_of(d);

	if (!fe_has(fe, VHU_PROTOCOL_F_STATUS))
		return 0;
	return fe_call_u64(fe, VHU_SET_STATUS, status);
}

static const struct vhost_ops vhu_vhost_ops = {
	.set_features = fe_set_features,
	.set_mem_table = fe_set_mem_table,
	.set_vring_num = fe_set_vring_num,
	.set_vring_base = fe_set_vring_base,
	.set_vring_addr = fe_set_vring_addr,
	.set_vring_call = fe_set_vring_call,
	.rings_described = fe_rings_described,
	.set_vring_kick = fe_set_vring_kick,
	.set_vring_enable = fe_set_vring_enable,
	.get_vring_base = fe_get_vring_base,
	.set_status = fe_set_status,
};

int vhu_fe_start(struct vhu_frontend *fe, uint64_t features,
		 const struct vhost_ring *rings, unsigned nr, uint8_t status)
{
	uint16_t max_size;
	int ret;

	if (fe->sock < 0)
		return -ENOTCONN;
	ret = vhost_check_rings(&fe->dev, rings, nr, &max_size);
	if (ret)
		return ret;
	ret = vhost_dev_start(&fe->dev, features, rings, nr, status);
	if (ret) {
		fe_drop(fe, "ring setup failed");
		return ret;
	}
	fe->stats.starts++;
	fe->backoff_ms = VHU_FE_BACKOFF_MIN_MS;
	log_info(fe->name, "%u vring(s) started on the back end", nr);
	return 0;
}

int vhu_fe_stop(struct vhu_frontend *fe, uint16_t *bases, bool keep_inflight)
{
	int ret;

	if (!keep_inflight && fe->inflight_fd >= 0) {
		close(fe->inflight_fd);
		fe->inflight_fd = -1;
	}
	if (fe->sock < 0 || !fe->dev.started) {
		fe->dev.started = false;
		return fe->sock < 0 ? -ENOTCONN : 0;
	}
	/* GET_VRING_BASE: the back end stops the ring and says where. */
	ret = vhost_dev_stop(&fe->dev, bases);
	if (ret)
		fe_drop(fe, "ring stop failed");
	return ret;
}

int vhu_fe_vring_enable(struct vhu_frontend *fe, uint32_t index, bool on)
{
	int ret;

	if (fe->sock < 0)
		return -ENOTCONN;
	if (index >= fe->cfg.nr_vrings || !(fe->dev.started_mask >> index & 1))
		return -EINVAL;
	if (!(fe->offer & (1ULL << VHU_F_PROTOCOL_FEATURES)))
		return -EOPNOTSUPP;
	ret = vhost_dev_vring_enable(&fe->dev, index, on);
	if (ret)
		fe_drop(fe, "SET_VRING_ENABLE failed");
	return ret;
}

/* ---- the I/O thread: hang-ups, reconnection ---- */

static int fe_sock_event(void *opaque, int fd, uint32_t events);

/* A fresh socket (client connect or server accept): handshake, watch it. */
static void fe_attach_watch(struct vhu_frontend *fe, int sock)
{
	char err[160];
	int ret;

	ret = fe_handshake(fe, sock, err, sizeof(err));
	if (ret) {
		log_ratelimited(LOG_WARN, fe->name, "back end refused: %s", err);
		fe->stats.disconnects++;
		if (!fe->cfg.server)
			fe_arm_timer(fe);
		return;
	}
	/*
	 * EPOLLRDHUP only: replies are read by whoever sent the request, so
	 * the I/O thread must not wake for them, just for the hang-up.
	 */
	ret = ioloop_add(fe->cfg.io, sock, EPOLLRDHUP, fe_sock_event, fe);
	if (ret) {
		fe_drop(fe, "cannot watch the socket");
		return;
	}
	fe->sock_polled = true;
	log_info(fe->name, "back end connected");
	if (fe->cfg.ops && fe->cfg.ops->connected)
		fe->cfg.ops->connected(fe->cfg.opaque);
	/* A back end the device did not start (driver not running) is fine. */
	if (fe->sock >= 0 && !fe->dev.started)
		fe->backoff_ms = VHU_FE_BACKOFF_MIN_MS;
}

static int fe_sock_event(void *opaque, int fd, uint32_t events)
{
	struct vhu_frontend *fe = opaque;
	char c;
	ssize_t n;

	pthread_mutex_lock(fe->cfg.lock);
	if (fd != fe->sock) {
		pthread_mutex_unlock(fe->cfg.lock);
		return 0; /* stale event for a socket already dropped */
	}
	/*
	 * The socket itself says what happened: the event may be stale (the
	 * connection it was for was dropped by a failed request and the fd
	 * number reused since).
	 */
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		pthread_mutex_unlock(fe->cfg.lock);
		return 0;
	}
	/* EOF, an error, or bytes nobody asked for: the stream is gone. */
	fe_drop(fe, n == 0 ? "end of file" : n > 0 ? "unsolicited message" :
						 "socket error");
	if (fe->cfg.ops && fe->cfg.ops->disconnected)
		fe->cfg.ops->disconnected(fe->cfg.opaque);
	pthread_mutex_unlock(fe->cfg.lock);
	return 0;
}

static int fe_timer_event(void *opaque, int fd, uint32_t events)
{
	struct vhu_frontend *fe = opaque;
	uint64_t n;
	int sock;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	pthread_mutex_lock(fe->cfg.lock);
	if (fe->sock < 0) {
		sock = fe_connect(fe);
		if (sock < 0) {
			fe->stats.attempts++;
			fe_arm_timer(fe);
		} else {
			fe_attach_watch(fe, sock);
		}
	}
	pthread_mutex_unlock(fe->cfg.lock);
	return 0;
}

static int fe_listen_event(void *opaque, int fd, uint32_t events)
{
	struct vhu_frontend *fe = opaque;
	int sock = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (sock < 0)
		return 0;
	pthread_mutex_lock(fe->cfg.lock);
	if (fe->sock >= 0) {
		log_ratelimited(LOG_WARN, fe->name,
				"second back end refused: one is connected");
		close(sock);
	} else {
		fe_attach_watch(fe, sock);
	}
	pthread_mutex_unlock(fe->cfg.lock);
	return 0;
}

int vhu_fe_run(struct vhu_frontend *fe)
{
	int ret;

	if (!fe->cfg.io)
		return 0;
	pthread_mutex_lock(fe->cfg.lock);
	fe->running = true;
	if (fe->listen_fd >= 0) {
		ret = ioloop_add(fe->cfg.io, fe->listen_fd, EPOLLIN,
				 fe_listen_event, fe);
	} else {
		ret = ioloop_add(fe->cfg.io, fe->timer_fd, EPOLLIN,
				 fe_timer_event, fe);
	}
	if (!ret && fe->sock >= 0) {
		ret = ioloop_add(fe->cfg.io, fe->sock, EPOLLRDHUP,
				 fe_sock_event, fe);
		fe->sock_polled = !ret;
	} else if (!ret && !fe->cfg.server) {
		fe_arm_timer(fe);
	}
	pthread_mutex_unlock(fe->cfg.lock);
	return ret;
}

/* ---- creation ---- */

/*
 * Server socket at path. A leftover socket file nobody listens on (a
 * previous run) is replaced; a live one, or any other file, is not.
 */
static int fe_listen(struct vhu_frontend *fe, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat stbuf;
	int fd, ret;

	if (lstat(fe->path, &stbuf) == 0) {
		if (!S_ISSOCK(stbuf.st_mode))
			return fe_err(err, errlen, -EADDRINUSE,
				      "%s exists and is not a socket", fe->path);
		fd = fe_connect(fe);
		if (fd >= 0) {
			close(fd);
			return fe_err(err, errlen, -EADDRINUSE,
				      "%s: another process listens there", fe->path);
		}
		unlink(fe->path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fe_err(err, errlen, -errno, "socket: %s", strerror(errno));
	memcpy(sa.sun_path, fe->path, strlen(fe->path));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4) < 0) {
		ret = -errno;
		close(fd);
		return fe_err(err, errlen, ret, "cannot listen on %s",
			      fe->path);
	}
	fe->listen_fd = fd;
	return 0;
}

/* Server: wait for the first back end (it decides the guest's features). */
static int fe_first_accept(struct vhu_frontend *fe, char *err, size_t errlen)
{
	struct pollfd p[2] = {
		{ .fd = fe->listen_fd, .events = POLLIN },
		{ .fd = fe->cfg.cancel_fd > 0 ? fe->cfg.cancel_fd : -1,
		  .events = POLLIN },
	};
	int tmo = fe->cfg.accept_timeout_ms > 0 ? fe->cfg.accept_timeout_ms : -1;
	int ret, sock;

	log_info(fe->name, "waiting for a vhost-user back end on %s", fe->path);
	do {
		ret = poll(p, 2, tmo);
	} while (ret < 0 && errno == EINTR);
	if (ret > 0 && p[1].revents)
		return fe_err(err, errlen, -ECANCELED,
			      "gave up waiting for a back end on %s", fe->path);
	if (ret == 0)
		return fe_err(err, errlen, -ETIMEDOUT,
			      "no back end connected to %s", fe->path);
	if (ret < 0)
		return fe_err(err, errlen, -errno, "poll: %s", strerror(errno));
	sock = accept4(fe->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (sock < 0)
		return fe_err(err, errlen, -errno, "accept: %s", strerror(errno));
	return sock;
}

static int fe_first_connect(struct vhu_frontend *fe, char *err, size_t errlen)
{
	int sock, ret;
	char why[200];

	if (fe->cfg.server) {
		ret = fe_listen(fe, err, errlen);
		if (ret)
			return ret;
		sock = fe_first_accept(fe, err, errlen);
	} else {
		sock = fe_connect(fe);
		if (sock == -ENOENT)
			return fe_err(err, errlen, sock,
				      "vhost-user socket %s does not exist (is the back end running?)",
				      fe->path);
		if (sock == -ECONNREFUSED)
			return fe_err(err, errlen, sock,
				      "connection refused on %s (no back end listening)",
				      fe->path);
		if (sock < 0)
			return fe_err(err, errlen, sock, "cannot connect to %s",
				      fe->path);
	}
	if (sock < 0)
		return sock;
	ret = fe_handshake(fe, sock, why, sizeof(why));
	if (ret)
		return fe_err(err, errlen, ret, "%s", why);
	return 0;
}

static int fe_check_cfg(const struct vhu_frontend_config *cfg)
{
	if (!cfg->path || !cfg->path[0] || !cfg->mem || !cfg->lock ||
	    cfg->nr_vrings == 0 || cfg->nr_vrings > VHU_FE_MAX_VRINGS ||
	    cfg->nr_pairs * 2 > cfg->nr_vrings)
		return -EINVAL;
	if (strlen(cfg->path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int vhu_fe_create(const struct vhu_frontend_config *cfg,
		  struct vhu_frontend **out, char *err, size_t errlen)
{
	struct vhu_frontend *fe;
	int ret;

	ret = fe_check_cfg(cfg);
	if (ret)
		return fe_err(err, errlen, ret, "vhost-user: bad configuration%s",
			      ret == -ENAMETOOLONG ? " (socket path too long)" : "");
	fe = calloc(1, sizeof(*fe));
	if (!fe)
		return fe_err(err, errlen, -ENOMEM, "out of memory");
	fe->cfg = *cfg;
	snprintf(fe->path, sizeof(fe->path), "%s", cfg->path);
	snprintf(fe->name, sizeof(fe->name), "%s", cfg->name ? cfg->name : "vhost-user");
	fe->cfg.path = fe->path;
	fe->cfg.name = fe->name;
	if (fe->cfg.timeout_ms <= 0)
		fe->cfg.timeout_ms = fe_default_timeout_ms();
	fe->sock = fe->listen_fd = fe->timer_fd = fe->inflight_fd = -1;
	fe->dev = (struct vhost_dev){
		.ops = &vhu_vhost_ops, .mem = cfg->mem, .nr_vrings = cfg->nr_vrings,
	};
	fe->backoff_ms = VHU_FE_BACKOFF_MIN_MS;
	if (cfg->io && !cfg->server) {
		fe->timer_fd = timerfd_create(CLOCK_MONOTONIC,
					      TFD_CLOEXEC | TFD_NONBLOCK);
		if (fe->timer_fd < 0) {
			ret = fe_err(err, errlen, -errno, "timerfd: %s",
				     strerror(errno));
			goto fail;
		}
	}
	ret = fe_first_connect(fe, err, errlen);
	if (ret)
		goto fail;
	*out = fe;
	return 0;

fail:
	vhu_fe_destroy(fe);
	return ret;
}

void vhu_fe_destroy(struct vhu_frontend *fe)
{
	if (!fe)
		return;
	if (fe->running) {
		if (fe->sock_polled)
			ioloop_del(fe->cfg.io, fe->sock);
		ioloop_del(fe->cfg.io, fe->listen_fd >= 0 ? fe->listen_fd :
							  fe->timer_fd);
	}
	if (fe->sock >= 0)
		close(fe->sock);
	if (fe->listen_fd >= 0) {
		close(fe->listen_fd);
		unlink(fe->path);
	}
	if (fe->timer_fd >= 0)
		close(fe->timer_fd);
	if (fe->inflight_fd >= 0)
		close(fe->inflight_fd);
	free(fe);
}

/* ---- introspection ---- */

uint64_t vhu_fe_backend_features(const struct vhu_frontend *fe)
{
	return fe->first_offer;
}

uint64_t vhu_fe_protocol_features(const struct vhu_frontend *fe)
{
	return fe->protocol;
}

bool vhu_fe_connected(const struct vhu_frontend *fe)
{
	return fe->sock >= 0;
}

bool vhu_fe_started(const struct vhu_frontend *fe)
{
	return fe->dev.started;
}

void vhu_fe_get_stats(const struct vhu_frontend *fe, struct vhu_fe_stats *out)
{
	*out = fe->stats;
}
