// SPDX-License-Identifier: MIT
/* The scriptable vhost-user back end of fake_backend.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "emul-devices/virtio/virtio.h"
#include "fake_backend.h"

void fb_init(struct fb *fb, const char *path)
{
	memset(fb, 0, sizeof(*fb));
	snprintf(fb->path, sizeof(fb->path), "%s", path);
	fb->features = 1ULL << VIRTIO_F_VERSION_1 |
		       1ULL << VHU_F_PROTOCOL_FEATURES |
		       1ULL << VIRTIO_F_EVENT_IDX | 1ULL << 15 /* MRG_RXBUF */;
	fb->protocol = 1ULL << VHU_PROTOCOL_F_MQ |
		       1ULL << VHU_PROTOCOL_F_REPLY_ACK |
		       1ULL << VHU_PROTOCOL_F_STATUS;
	fb->queue_num = 8;
	fb->max_mem_slots = 8;
	fb->mem_fd = fb->inflight_made = fb->inflight_got = -1;
	fb->listen_fd = fb->sock = -1;
	for (unsigned i = 0; i < FB_MAX_VRINGS; i++) {
		fb->kick_fd[i] = fb->call_fd[i] = -1;
		fb->enabled[i] = -1;
	}
	pthread_mutex_init(&fb->lock, NULL);
	pthread_cond_init(&fb->cond, NULL);
}

static void fb_keep(int *slot, int *fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = *fd;
	*fd = -1;
}

static uint32_t fb_vring(const struct vhu_msg *m)
{
	return (uint32_t)(m->payload.u64 & VHU_VRING_IDX_MASK);
}

/* Requests that carry or answer something (lock held). */
static int fb_handle_locked(struct fb *fb, struct vhu_req *req)
{
	const struct vhu_msg *m = req->msg;
	union vhu_payload *r = &req->reply->payload;
	int fd;

	switch (m->request) {
	case VHU_GET_FEATURES: r->u64 = fb->features; break;
	case VHU_SET_FEATURES: fb->acked_features = m->payload.u64; break;
	case VHU_GET_PROTOCOL_FEATURES: r->u64 = fb->protocol; break;
	case VHU_SET_PROTOCOL_FEATURES: fb->acked_protocol = m->payload.u64; break;
	case VHU_GET_QUEUE_NUM: r->u64 = fb->queue_num; break;
	case VHU_GET_MAX_MEM_SLOTS: r->u64 = fb->max_mem_slots; break;
	case VHU_SET_MEM_TABLE:
		fb->mem = m->payload.mem;
		fb->mem_fds = (unsigned)req->nfds;
		fb_keep(&fb->mem_fd, &req->fds[0]);
		break;
	case VHU_ADD_MEM_REG:
		if (fb->nadded < 8)
			fb->added[fb->nadded++] = m->payload.mem_reg.region;
		fb->mem_fds = 1;
		fb_keep(&fb->mem_fd, &req->fds[0]);
		break;
	case VHU_SET_VRING_NUM:
		fb->vring_num[m->payload.state.index] = m->payload.state.num;
		break;
	case VHU_SET_VRING_BASE:
		fb->vring_base_set[m->payload.state.index] = m->payload.state.num;
		break;
	case VHU_GET_VRING_BASE: r->state.num = fb->vring_base; break;
	case VHU_SET_VRING_ADDR:
		fb->vring_addr[m->payload.addr.index] = m->payload.addr;
		break;
	case VHU_SET_VRING_KICK:
		if (req->nfds)
			fb_keep(&fb->kick_fd[fb_vring(m)], &req->fds[0]);
		break;
	case VHU_SET_VRING_CALL:
		if (req->nfds)
			fb_keep(&fb->call_fd[fb_vring(m)], &req->fds[0]);
		break;
	case VHU_SET_VRING_ENABLE:
		fb->enabled[m->payload.state.index] = (int)m->payload.state.num;
		break;
	case VHU_SET_STATUS: fb->status = m->payload.u64; break;
	case VHU_GET_INFLIGHT_FD:
		fb->inflight_req = m->payload.inflight;
		if (fb->inflight_eventfd)
			fd = eventfd(0, EFD_CLOEXEC);
		else
			fd = memfd_create("fb-inflight", MFD_CLOEXEC);
		if (fd < 0 || (!fb->inflight_eventfd && ftruncate(fd, 4096) < 0))
			return -errno;
		fb_keep(&fb->inflight_made, &fd);
		r->inflight = m->payload.inflight;
		r->inflight.mmap_size = 4096;
		r->inflight.mmap_offset = 0;
		req->reply_fd = fb->inflight_made;
		break;
	case VHU_SET_INFLIGHT_FD:
		fb->inflight_set = m->payload.inflight;
		fb_keep(&fb->inflight_got, &req->fds[0]);
		break;
	}
	return 0;
}

static int fb_handle(void *opaque, struct vhu_req *req)
{
	struct fb *fb = opaque;
	int ret;

	pthread_mutex_lock(&fb->lock);
	ret = fb_handle_locked(fb, req);
	pthread_cond_broadcast(&fb->cond);
	pthread_mutex_unlock(&fb->lock);
	return ret;
}

#define H(U, l, ...) .l = fb_handle,
static const struct vhu_handlers fb_handlers = {
	VHU_MAIN_MSGS(H)
};
#undef H

/* A reply the validator must refuse: REPLY set, 4 bytes instead of 8. */
static void fb_bad_reply(struct fb *fb, const struct vhu_msg *req)
{
	struct vhu_msg r;

	vhu_msg_init(&r, req->request, 4);
	r.flags |= VHU_FLAG_REPLY;
	vhu_msg_send(fb->sock, &r, NULL, 0);
}

/* Log a request and apply any scripted misbehaviour; false: hang up. */
static bool fb_script(struct fb *fb, struct vhu_msg *m, int *fds, int nfds,
		      bool *handled)
{
	bool keep = true;

	pthread_mutex_lock(&fb->lock);
	if (fb->nlog < FB_MAX_LOG) {
		fb->log_flags[fb->nlog] = m->flags;
		fb->log[fb->nlog++] = m->request;
	}
	*handled = true;
	if (fb->hangup_at == m->request) {
		fb->hangup_at = 0;
		keep = false;
	} else if (fb->silent_at == m->request) {
		fb->silent_at = 0;
	} else if (fb->bad_reply_at == m->request) {
		fb->bad_reply_at = 0;
		fb_bad_reply(fb, m);
	} else {
		*handled = false;
	}
	pthread_cond_broadcast(&fb->cond);
	pthread_mutex_unlock(&fb->lock);
	if (*handled)
		vhu_close_fds(fds, nfds);
	return keep;
}

static void fb_serve(struct fb *fb, int sock)
{
	int fds[VHU_MAX_FDS], nfds, ret;
	struct vhu_msg m;
	bool handled;

	for (;;) {
		ret = vhu_msg_recv_timeout(sock, &m, fds, &nfds, 50);
		if (ret == -ETIMEDOUT && !__atomic_load_n(&fb->stop, __ATOMIC_ACQUIRE))
			continue;
		if (ret)
			return;
		if (!fb_script(fb, &m, fds, nfds, &handled))
			return;
		if (handled)
			continue;
		ret = vhu_dispatch(&fb_handlers, fb, &m, fds, nfds, &fb->st);
		if (ret && ret != -EREMOTEIO) {
			pthread_mutex_lock(&fb->lock);
			fb->dispatch_errors++;
			pthread_mutex_unlock(&fb->lock);
		}
	}
}

static int fb_next_conn(struct fb *fb)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd p = { .fd = fb->listen_fd, .events = POLLIN };
	int fd;

	if (!fb->connect_mode) {
		if (poll(&p, 1, 20) != 1)
			return -1;
		return accept4(fb->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fb->path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	usleep(20000);
	return -1;
}

static void *fb_thread(void *arg)
{
	struct fb *fb = arg;

	while (!__atomic_load_n(&fb->stop, __ATOMIC_ACQUIRE)) {
		int sock = fb_next_conn(fb);

		if (sock < 0)
			continue;
		pthread_mutex_lock(&fb->lock);
		if (fb->refuse) {
			pthread_mutex_unlock(&fb->lock);
			close(sock);
			continue;
		}
		fb->sock = sock;
		fb->connections++;
		fb->connected = true;
		vhu_state_init(&fb->st, VHU_CHAN_MAIN, sock);
		pthread_cond_broadcast(&fb->cond);
		pthread_mutex_unlock(&fb->lock);

		fb_serve(fb, sock);

		pthread_mutex_lock(&fb->lock);
		close(sock);
		fb->sock = -1;
		fb->connected = false;
		fb->hangups++;
		pthread_cond_broadcast(&fb->cond);
		pthread_mutex_unlock(&fb->lock);
	}
	return NULL;
}

void fb_start(struct fb *fb)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (!fb->connect_mode) {
		unlink(fb->path);
		fb->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fb->path);
		if (fb->listen_fd < 0 ||
		    bind(fb->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(fb->listen_fd, 4)) {
			perror("fake back end: listen");
			return;
		}
	}
	fb->stop = false;
	pthread_create(&fb->thread, NULL, fb_thread, fb);
}

void fb_hangup(struct fb *fb)
{
	pthread_mutex_lock(&fb->lock);
	if (fb->sock >= 0)
		shutdown(fb->sock, SHUT_RDWR);
	pthread_mutex_unlock(&fb->lock);
}

void fb_stop(struct fb *fb)
{
	__atomic_store_n(&fb->stop, true, __ATOMIC_RELEASE);
	fb_hangup(fb);
	pthread_join(fb->thread, NULL);
	if (fb->listen_fd >= 0) {
		close(fb->listen_fd);
		unlink(fb->path);
		fb->listen_fd = -1;
	}
	vhu_close_fds(fb->kick_fd, FB_MAX_VRINGS);
	vhu_close_fds(fb->call_fd, FB_MAX_VRINGS);
	vhu_close_fds(&fb->mem_fd, 1);
	vhu_close_fds(&fb->inflight_made, 1);
	vhu_close_fds(&fb->inflight_got, 1);
	pthread_mutex_destroy(&fb->lock);
	pthread_cond_destroy(&fb->cond);
}

bool fb_wait(struct fb *fb, bool (*pred)(struct fb *fb, void *arg), void *arg,
	     int ms)
{
	struct timespec dl;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&fb->lock);
	while (!(ok = pred(fb, arg)))
		if (pthread_cond_timedwait(&fb->cond, &fb->lock, &dl) == ETIMEDOUT) {
			ok = pred(fb, arg);
			break;
		}
	pthread_mutex_unlock(&fb->lock);
	return ok;
}

int fb_find(struct fb *fb, uint32_t id, unsigned nth)
{
	int at = -1;

	pthread_mutex_lock(&fb->lock);
	for (unsigned i = 0; i < fb->nlog; i++)
		if (fb->log[i] == id && nth-- == 0) {
			at = (int)i;
			break;
		}
	pthread_mutex_unlock(&fb->lock);
	return at;
}

unsigned fb_count(struct fb *fb, uint32_t id)
{
	unsigned n = 0;

	pthread_mutex_lock(&fb->lock);
	for (unsigned i = 0; i < fb->nlog; i++)
		n += fb->log[i] == id;
	pthread_mutex_unlock(&fb->lock);
	return n;
}

void fb_clear_log(struct fb *fb)
{
	pthread_mutex_lock(&fb->lock);
	fb->nlog = 0;
	pthread_mutex_unlock(&fb->lock);
}
