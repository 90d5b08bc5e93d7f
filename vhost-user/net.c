// SPDX-License-Identifier: MIT
/*
 * vhost-user-net device model (see net.h): a virtio_dev whose data queues
 * are external (emul-devices/virtio/virtio.h) and handed to a vhost-user
 * back end through the front-end (vhost-user/frontend.h).
 *
 * Ring restoration. The back end keeps last_avail_idx; when it dies that
 * number is lost. For a split ring the guest's used->idx is a safe place
 * to resume (QEMU does the same when GET_VRING_BASE cannot be asked): every
 * buffer below it was completed, every buffer from it on is processed
 * again. A vhost-user net back end (DPDK's included) publishes a TX buffer
 * as used before it forwards the frame and an RX buffer after the frame is
 * fully written, so resuming there neither duplicates a frame nor exposes
 * a half-written one; frames the dead back end held are lost, as on a
 * cable pulled out. With INFLIGHT_SHMFD the front-end also hands the
 * inflight region over, for back ends that track buffers out of order.
 *
 * Threads: config space and status changes on vCPU threads (under
 * vdev.lock, taken by the transport); connection events on the I/O
 * thread (the front-end takes vdev.lock); the control queue on the I/O
 * thread (transport kick, under vdev.lock).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/iov.h"
#include "core/log.h"
#include "core/util.h"
#include "emul-devices/net/backend.h"
#include "emul-devices/virtio/net_ctrl.h"
#include "emul-devices/virtio/virtio.h"
#include "vhost-user/frontend.h"
#include "vhost-user/kernel.h"
#include "vhost-user/net.h"

/* Feature bits (§5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_MQ 22
#define BIT(n) (1ULL << (n))

/* What the back end implements and the guest may use. MQ goes to the
 * back end only; the guest's MQ/CTRL_VQ are iovmm's (queues > 1). */
#define VHU_NET_BACKEND_BITS                                               \
	(BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |           \
	 BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |     \
	 BIT(VIRTIO_NET_F_GUEST_ECN) | BIT(VIRTIO_NET_F_GUEST_UFO) |       \
	 BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |       \
	 BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_HOST_UFO) |         \
	 BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_MQ) |              \
	 BIT(VIRTIO_F_INDIRECT_DESC) | BIT(VIRTIO_F_EVENT_IDX) |           \
	 BIT(VIRTIO_F_VERSION_1))

#define VIRTIO_NET_S_LINK_UP 1

/* Device configuration layout (§5.1.4); F_MTU is not offered. */
struct vhu_net_cfg {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
} __attribute__((packed));

struct vhu_net;

/*
 * Who serves the rings: a vhost-user back end through the front end, or
 * the kernel's vhost-net. Both start and stop the rings through the same
 * hand-over (vhost.h); they differ in connection handling.
 */
struct vn_backend_ops {
	int (*start)(struct vhu_net *n, const struct vhost_ring *rings,
		     unsigned nr);
	int (*stop)(struct vhu_net *n);
	bool (*connected)(const struct vhu_net *n);
	bool (*started)(const struct vhu_net *n);
};

struct vhu_net {
	struct virtio_dev vdev;
	const struct vn_backend_ops *be;
	struct vhu_frontend *fe;       /* owned; vhost-user only */
	struct vhk *vhk;               /* owned; kernel vhost-net only */
	int err_fd[VHK_NR_VRINGS];     /* kernel: ring error eventfds; owned */
	bool err_polled;               /* err_fd are on the I/O loop */
	struct ioloop *io;             /* borrowed */
	unsigned max_pairs;
	uint8_t mac[6];
	char name[32];

	/* Everything below: vdev.lock. */
	uint16_t link;                 /* VIRTIO_NET_S_* */
	bool active;                   /* DRIVER_OK seen, not reset since */
	bool ever_started;             /* the rings ran since DRIVER_OK */
	bool mq;                       /* MQ negotiated */
	unsigned curr_pairs;           /* VQ_PAIRS_SET; 1 after reset */
	uint64_t ctrl_cmds;
	uint64_t starts;               /* kernel: ring starts */
	uint64_t ring_errors;          /* kernel: VHOST_SET_VRING_ERR signals */
	struct virtq_elem elem;        /* control queue scratch */
};

static struct vhu_net *vn_of(struct virtio_dev *dev)
{
	return container_of(dev, struct vhu_net, vdev);
}

static unsigned vn_ctrl_q(const struct vhu_net *n)
{
	return 2 * n->max_pairs; /* only exists with max_pairs > 1 */
}

/* Link status follows the back end; a change is a config interrupt. */
static void vn_set_link(struct vhu_net *n, bool up)
{
	uint16_t link = up ? VIRTIO_NET_S_LINK_UP : 0;

	if (link == n->link)
		return;
	n->link = link;
	log_info(n->name, "link %s", up ? "up" : "down");
	virtio_dev_config_changed(&n->vdev);
}

/* ---- starting the back end's rings ---- */

/*
 * Where the back end resumes a split ring: 0 on a fresh start, the
 * guest's used index after the back end was lost (see the top comment).
 */
static uint16_t vn_ring_base(struct vhu_net *n, uint64_t used_gpa,
			     bool restore)
{
	const uint16_t *idx;

	if (!restore)
		return 0;
	idx = gmem_ptr(n->vdev.mem, used_gpa + 2, sizeof(*idx));
	return idx ? __atomic_load_n(idx, __ATOMIC_ACQUIRE) : 0;
}

/* Tell the back end about every ring the driver enabled, and start. */
static int vn_start(struct vhu_net *n, bool restore)
{
	struct vhost_ring rings[2 * VHU_NET_MAX_PAIRS];
	unsigned nr = 0, live = n->mq ? n->curr_pairs : 1;
	struct virtio_queue_info qi;
	int ret;

	for (unsigned q = 0; q < 2 * n->max_pairs; q++) {
		if (virtio_dev_queue_info(&n->vdev, q, &qi) || !qi.enabled)
			continue;
		rings[nr++] = (struct vhost_ring){
			.index = q, .size = qi.size,
			.base = vn_ring_base(n, qi.device, restore),
			.enabled = q < 2 * live,
			.desc_gpa = qi.desc, .avail_gpa = qi.driver,
			.used_gpa = qi.device,
			.kick_fd = qi.kick_fd, .call_fd = qi.call_fd,
			.err_fd = q < VHK_NR_VRINGS ? n->err_fd[q] : -1,
		};
	}
	if (!nr) {
		/* A driver with no data queue: nothing for the back end. */
		vn_set_link(n, n->be->connected(n));
		return 0;
	}
	ret = n->be->start(n, rings, nr);
	if (ret) {
		if (ret != -ENOTCONN)
			log_warn(n->name, "cannot start the back end's rings: %s",
				 strerror(-ret));
		vn_set_link(n, false);
		return ret;
	}
	n->ever_started = true;
	vn_set_link(n, true);
	return 0;
}

/* ---- the two back ends ---- */

static int vn_user_start(struct vhu_net *n, const struct vhost_ring *rings,
			 unsigned nr)
{
	return vhu_fe_start(n->fe, n->vdev.features, rings, nr, n->vdev.status);
}

static int vn_user_stop(struct vhu_net *n)
{
	return vhu_fe_stop(n->fe, NULL, false);
}

static bool vn_user_connected(const struct vhu_net *n)
{
	return vhu_fe_connected(n->fe);
}

static bool vn_user_started(const struct vhu_net *n)
{
	return vhu_fe_started(n->fe);
}

static const struct vn_backend_ops vn_user_ops = {
	.start = vn_user_start,
	.stop = vn_user_stop,
	.connected = vn_user_connected,
	.started = vn_user_started,
};

/*
 * The kernel checks what it is given against the memory table (ring
 * addresses, alignment) that the guest chose: a refusal is the guest's
 * doing, so the device fails (DEVICE_NEEDS_RESET) rather than waiting
 * for a back end that will never take those rings.
 */
static int vn_kernel_start(struct vhu_net *n, const struct vhost_ring *rings,
			   unsigned nr)
{
	struct vhost_dev *d = vhk_dev(n->vhk);
	char why[96];
	int ret;

	ret = vhost_dev_start(d, n->vdev.features, rings, nr, n->vdev.status);
	if (ret) {
		vhost_dev_stop(d, NULL);
		snprintf(why, sizeof(why), "vhost-net refused the rings: %s",
			 strerror(-ret));
		virtio_dev_fail(&n->vdev, why);
		return ret;
	}
	n->starts++;
	log_info(n->name, "%u vring(s) started on the kernel's vhost-net", nr);
	return 0;
}

/* VHOST_NET_SET_BACKEND -1 and VHOST_GET_VRING_BASE per ring: once they
 * return, the kernel's worker no longer touches the rings. */
static int vn_kernel_stop(struct vhu_net *n)
{
	int ret = vhost_dev_stop(vhk_dev(n->vhk), NULL);

	if (ret)
		log_err(n->name, "cannot stop the kernel's rings: %s",
			strerror(-ret));
	return ret;
}

static bool vn_kernel_connected(const struct vhu_net *n)
{
	return true; /* the kernel does not go away */
}

static bool vn_kernel_started(const struct vhu_net *n)
{
	return vhk_dev(n->vhk)->started;
}

static const struct vn_backend_ops vn_kernel_ops = {
	.start = vn_kernel_start,
	.stop = vn_kernel_stop,
	.connected = vn_kernel_connected,
	.started = vn_kernel_started,
};

/* VHOST_SET_VRING_ERR fired (I/O thread): the kernel met a ring it could
 * not use (a descriptor outside guest RAM...) and stopped serving it. */
static int vn_ring_error(void *opaque, int fd, uint32_t events)
{
	struct vhu_net *n = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	pthread_mutex_lock(&n->vdev.lock);
	n->ring_errors++;
	virtio_dev_fail(&n->vdev, "vhost-net reported a ring error");
	pthread_mutex_unlock(&n->vdev.lock);
	return 0;
}

/* ---- front-end callbacks (I/O thread, vdev.lock held) ---- */

static void vn_connected(void *opaque)
{
	struct vhu_net *n = opaque;

	if (n->active && !(n->vdev.status & VIRTIO_STATUS_NEEDS_RESET))
		vn_start(n, n->ever_started);
	else
		vn_set_link(n, true);
}

static void vn_disconnected(void *opaque)
{
	vn_set_link(opaque, false);
}

static const struct vhu_frontend_ops vn_fe_ops = {
	.connected = vn_connected,
	.disconnected = vn_disconnected,
};

/* ---- control queue (§5.1.6.5), served by iovmm ---- */

/* VQ_PAIRS_SET: rings of pairs >= n stop being served (§5.1.6.5.5). */
static uint8_t vn_set_pairs(struct vhu_net *n, uint16_t pairs)
{
	if (pairs < 1 || pairs > n->max_pairs)
		return VIRTIO_NET_ERR;
	n->curr_pairs = pairs;
	if (!n->fe || !vhu_fe_started(n->fe))
		return VIRTIO_NET_OK; /* applied when the rings start */
	for (unsigned q = 0; q < 2 * n->max_pairs; q++) {
		/* -EINVAL: a ring the driver did not enable; skipped. */
		vhu_fe_vring_enable(n->fe, q, q < 2u * pairs);
		if (!vhu_fe_connected(n->fe)) {
			/* Applied when the back end is back. */
			vn_set_link(n, false);
			break;
		}
	}
	return VIRTIO_NET_OK;
}

static uint8_t vn_ctrl_cmd(void *opaque, const uint8_t *cmd, size_t len)
{
	struct vhu_net *n = opaque;

	if (cmd[0] == VIRTIO_NET_CTRL_MQ &&
	    cmd[1] == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET && n->mq && len >= 4)
		return vn_set_pairs(n, (uint16_t)(cmd[2] | cmd[3] << 8));
	/* Every other class needs a feature we do not offer. */
	return VIRTIO_NET_ERR;
}

static void vn_ctrl(struct vhu_net *n, unsigned q)
{
	if (!virtio_dev_queue_live(&n->vdev, q))
		return;
	/* A flood of commands: yield the I/O thread, come back to the rest. */
	if (virtio_net_ctrl_run(&n->vdev, q, &n->elem, vn_ctrl_cmd, n,
				&n->ctrl_cmds) == -EAGAIN)
		virtio_dev_queue_rekick(&n->vdev, q);
}

/* ---- virtio_dev_ops ---- */

static void vn_cfg_read(struct virtio_dev *dev, uint32_t off, void *data,
			uint32_t len)
{
	struct vhu_net *n = vn_of(dev);
	struct vhu_net_cfg c = {
		.status = n->link,
		.max_virtqueue_pairs = (uint16_t)n->max_pairs,
	};

	memcpy(c.mac, n->mac, sizeof(c.mac));
	memset(data, 0, len);
	if (off < sizeof(c))
		memcpy(data, (uint8_t *)&c + off,
		       len < sizeof(c) - off ? len : sizeof(c) - off);
}

static int vn_set_features(struct virtio_dev *dev, uint64_t f)
{
	struct vhu_net *n = vn_of(dev);

	/* §5.1.3.1: MQ needs CTRL_VQ; CTRL_VQ alone would put the control
	 * queue at index 2, which is the back end's receiveq1 here. */
	if ((f & BIT(VIRTIO_NET_F_MQ)) && !(f & BIT(VIRTIO_NET_F_CTRL_VQ)))
		return -EINVAL;
	if (n->max_pairs > 1 && (f & BIT(VIRTIO_NET_F_CTRL_VQ)) &&
	    !(f & BIT(VIRTIO_NET_F_MQ)))
		return -EINVAL;
	n->mq = f & BIT(VIRTIO_NET_F_MQ);
	return 0;
}

/*
 * DRIVER_OK. A missing back end is not the guest's fault: the device
 * stays usable with the link down and starts when one connects.
 */
static int vn_activate(struct virtio_dev *dev)
{
	struct vhu_net *n = vn_of(dev);

	n->active = true;
	n->ever_started = false;
	n->curr_pairs = 1;
	vn_start(n, false);
	return 0;
}

static void vn_queue_notify(struct virtio_dev *dev, unsigned qidx)
{
	struct vhu_net *n = vn_of(dev);

	/* Only the control queue is polled by the transport. */
	if (n->max_pairs > 1 && qidx == vn_ctrl_q(n))
		vn_ctrl(n, qidx);
}

/*
 * Device reset: the back end must stop touching the rings before the
 * driver reuses their memory, so GET_VRING_BASE is asked synchronously.
 */
static void vn_reset(struct virtio_dev *dev)
{
	struct vhu_net *n = vn_of(dev);

	n->be->stop(n);
	n->active = false;
	n->ever_started = false;
	n->mq = false;
	n->curr_pairs = 1;
	n->link = n->be->connected(n) ? VIRTIO_NET_S_LINK_UP : 0;
}

static void vn_destroy(struct virtio_dev *dev)
{
	vhu_net_destroy(container_of(dev, struct vhu_net, vdev));
}

static const struct virtio_dev_ops vn_ops = {
	.cfg_read = vn_cfg_read,
	.set_features = vn_set_features,
	.activate = vn_activate,
	.queue_notify = vn_queue_notify,
	.reset = vn_reset,
	.destroy = vn_destroy,
};

/* ---- creation ---- */

static int vn_check_cfg(const struct vhu_net_config *cfg, char *err,
			size_t errlen)
{
	static const uint8_t zero[6];
	unsigned pairs = cfg->queues ? cfg->queues : 1;
	bool sock = cfg->socket && cfg->socket[0], tap = cfg->tap && cfg->tap[0];

	if (sock == tap) {
		snprintf(err, errlen, "vhost: exactly one of a vhost-user socket and a tap is required");
		return -EINVAL;
	}
	if (pairs > (tap ? 1 : VHU_NET_MAX_PAIRS)) {
		snprintf(err, errlen, "%s: queues must be 1..%u",
			 tap ? "vhost-net" : "vhost-user",
			 tap ? 1 : VHU_NET_MAX_PAIRS);
		return -EINVAL;
	}
	if ((cfg->mac[0] & 1) || !memcmp(cfg->mac, zero, 6)) {
		snprintf(err, errlen, "vhost: MAC address is multicast or zero");
		return -EINVAL;
	}
	return 0;
}

static uint64_t vn_host_features(const struct vhu_net *n, uint64_t offer)
{
	uint64_t f = (offer & VHU_NET_BACKEND_BITS & ~BIT(VIRTIO_NET_F_MQ)) |
		     BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS);

	if (n->max_pairs > 1)
		f |= BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_CTRL_VQ);
	return f;
}

/* vhost-user: connect to (or wait for) the back end. Its offer. */
static int vn_connect_user(struct vhu_net *n, const struct pci_dev_ctx *ctx,
			   const struct vhu_net_config *cfg, uint64_t *offer,
			   char *err, size_t errlen)
{
	struct vhu_frontend_config fcfg = {
		.path = cfg->socket, .server = cfg->server, .name = n->name,
		.nr_vrings = 2 * n->max_pairs, .nr_pairs = n->max_pairs,
		.features = VHU_NET_BACKEND_BITS, .mem = ctx->mem, .io = ctx->io,
		.lock = &n->vdev.lock, .ops = &vn_fe_ops, .opaque = n,
		.timeout_ms = cfg->timeout_ms,
		.cancel_fd = cfg->cancel_fd,
	};
	char why[200];
	int ret;

	n->be = &vn_user_ops;
	ret = vhu_fe_create(&fcfg, &n->fe, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s: %s", n->name, why);
		return ret;
	}
	*offer = vhu_fe_backend_features(n->fe);
	return 0;
}

/*
 * Kernel vhost-net: the tap (with virtio-net headers, which vhost-net
 * passes through), /dev/vhost-net, and one error eventfd per ring.
 */
static int vn_connect_kernel(struct vhu_net *n, const struct pci_dev_ctx *ctx,
			     const struct vhu_net_config *cfg, uint64_t *offer,
			     char *err, size_t errlen)
{
	char why[200];
	bool vnet;
	int tap, ret;

	n->be = &vn_kernel_ops;
	tap = net_tap_open(cfg->tap, &vnet, why, sizeof(why));
	if (tap < 0) {
		snprintf(err, errlen, "%s: %s", n->name, why);
		return tap;
	}
	if (!vnet) {
		close(tap);
		snprintf(err, errlen, "%s: tap %s: no IFF_VNET_HDR, which vhost-net needs",
			 n->name, cfg->tap);
		return -EOPNOTSUPP;
	}
	ret = vhk_create(&(struct vhk_config){
		.vhost_fd = cfg->vhost_fd > 0 ? cfg->vhost_fd : -1,
		.tap_fd = tap, .mem = ctx->mem, .name = n->name,
	}, &n->vhk, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s: %s", n->name, why);
		return ret;
	}
	for (unsigned i = 0; i < VHK_NR_VRINGS; i++) {
		n->err_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (n->err_fd[i] < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: eventfd: %s", n->name,
				 strerror(-ret));
			return ret;
		}
	}
	*offer = vhk_features(n->vhk);
	return 0;
}

/* The kernel's ring errors, watched once the device lock exists. */
static int vn_watch_errors(struct vhu_net *n)
{
	int ret = 0;

	for (unsigned i = 0; i < VHK_NR_VRINGS && !ret && n->io; i++) {
		ret = ioloop_add(n->io, n->err_fd[i], EPOLLIN, vn_ring_error, n);
		if (ret)
			while (i--)
				ioloop_del(n->io, n->err_fd[i]);
	}
	n->err_polled = !ret && n->io;
	return ret;
}

/* The back end is there: the device, then what watches the back end. */
static int vn_init_dev(struct vhu_net *n, const struct pci_dev_ctx *ctx,
		       uint64_t offer, char *err, size_t errlen)
{
	int ret;

	n->link = VIRTIO_NET_S_LINK_UP;
	n->vdev = (struct virtio_dev){
		.ops = &vn_ops,
		.name = n->name,
		.device_id = 1,
		.pci_class = 0x0200,
		.host_features = vn_host_features(n, offer),
		.cfg_size = sizeof(struct vhu_net_cfg),
		.nr_queues = n->max_pairs > 1 ? 2 * n->max_pairs + 1 : 2,
		.queue_max_size = VHU_NET_QUEUE_SIZE,
		.mem = ctx->mem,
		.external_queues = BIT(2 * n->max_pairs) - 1,
	};
	ret = virtio_dev_init(&n->vdev, &(struct virtio_transport_ctx){
		.kind = VIRTIO_TRANSPORT_PCI, .irq = ctx->irq, .io = ctx->io,
	});
	if (ret) {
		snprintf(err, errlen, "%s: virtio transport: %s", n->name,
			 strerror(-ret));
		return ret;
	}
	if (n->vhk) {
		ret = vn_watch_errors(n);
		if (ret)
			snprintf(err, errlen, "%s: ioloop_add: %s", n->name,
				 strerror(-ret));
		return ret;
	}
	/*
	 * vdev.lock exists now: the front-end may take it. A failure here
	 * only costs the reconnection, not the device.
	 */
	ret = vhu_fe_run(n->fe);
	if (ret)
		log_err(n->name, "cannot watch the back end (%s): no reconnection",
			strerror(-ret));
	return 0;
}

int vhu_net_create(const struct pci_dev_ctx *ctx,
		   const struct vhu_net_config *cfg, struct vhu_net **out,
		   char *err, size_t errlen)
{
	bool kernel = cfg->tap && cfg->tap[0];
	struct vhu_net *n;
	uint64_t offer;
	int ret;

	*out = NULL;
	ret = vn_check_cfg(cfg, err, errlen);
	if (ret)
		return ret;
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "vhost: out of memory");
		return -ENOMEM;
	}
	n->err_fd[0] = n->err_fd[1] = -1;
	n->io = ctx->io;
	n->max_pairs = cfg->queues ? cfg->queues : 1;
	n->curr_pairs = 1;
	memcpy(n->mac, cfg->mac, 6);
	snprintf(n->name, sizeof(n->name), "%s", cfg->name ? cfg->name :
		 kernel ? "vhost-net" : "vhost-user-net");
	ret = kernel ? vn_connect_kernel(n, ctx, cfg, &offer, err, errlen) :
		       vn_connect_user(n, ctx, cfg, &offer, err, errlen);
	if (!ret)
		ret = vn_init_dev(n, ctx, offer, err, errlen);
	if (ret) {
		vhu_net_destroy(n);
		return ret;
	}
	*out = n;
	return 0;
}

void vhu_net_destroy(struct vhu_net *n)
{
	if (!n)
		return;
	virtio_dev_exit(&n->vdev);
	for (unsigned i = 0; i < VHK_NR_VRINGS; i++) {
		if (n->err_polled)
			ioloop_del(n->io, n->err_fd[i]);
		if (n->err_fd[i] >= 0)
			close(n->err_fd[i]);
	}
	/* Closing the vhost fd stops the kernel's rings. */
	vhk_destroy(n->vhk);
	vhu_fe_destroy(n->fe);
	free(n);
}

void vhu_net_get_stats(struct vhu_net *n, struct vhu_net_stats *out)
{
	struct vhu_fe_stats fs = { .starts = 0 };

	pthread_mutex_lock(&n->vdev.lock);
	if (n->fe)
		vhu_fe_get_stats(n->fe, &fs);
	else
		fs = (struct vhu_fe_stats){ .connects = 1, .starts = n->starts };
	*out = (struct vhu_net_stats){
		.connected = n->be->connected(n),
		.started = n->be->started(n),
		.link_up = n->link & VIRTIO_NET_S_LINK_UP,
		.connects = fs.connects,
		.disconnects = fs.disconnects,
		.starts = fs.starts,
		.ctrl_cmds = n->ctrl_cmds,
		.ring_errors = n->ring_errors,
	};
	pthread_mutex_unlock(&n->vdev.lock);
}

struct pci_dev *vhu_net_pci(struct vhu_net *n)
{
	return virtio_dev_pci(&n->vdev);
}
