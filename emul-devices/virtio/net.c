// SPDX-License-Identifier: MIT
/*
 * virtio-net (virtio 1.2 §5.1).
 *
 * Data path, all on the I/O thread under vdev.lock:
 *  - TX: a kick on transmitq N runs vnet_tx(): kicks off, pop/send/push until
 *    the ring is empty, kicks on, pop once more (virtq_pop() re-checks after
 *    publishing avail_event, so no kick is lost), one interrupt decision per
 *    batch. A batch is capped at VNET_TX_BUDGET frames; the rest is deferred
 *    through work_fd so the back end (e.g. loopback delivering our own frames)
 *    and other devices get the I/O thread in between.
 *  - RX: the back end calls vnet_rx() per frame. The frame is copied once,
 *    straight from the back end's buffer into the guest's buffers. With
 *    MRG_RXBUF it spans as many buffers as it needs (num_buffers, §5.1.6.4);
 *    buffers are only pushed once the whole frame fits, otherwise they are
 *    unpopped and the back end keeps the frame (-EAGAIN) until the guest
 *    kicks a receive queue (net_backend_rx_ready()). RX kicks are only
 *    requested while the device is waiting for buffers.
 *  - A frame larger than every buffer the guest could give is dropped and
 *    counted (rx_too_big), never truncated.
 * The guest is hostile: a malformed chain, an RX buffer that is not
 * device-writable, a TX buffer shorter than the header -> virtio_dev_fail().
 */
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/iov.h"
#include "core/log.h"
#include "core/util.h"
#include "emul-devices/net/backend.h"
#include "emul-devices/virtio/net.h"
#include "emul-devices/virtio/net_ctrl.h"
#include "emul-devices/virtio/virtio.h"

/* Feature bits (§5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_MQ 22
#define BIT(n) (1ULL << (n))

#define VIRTIO_NET_S_LINK_UP 1

/* struct virtio_net_hdr_v1 (§5.1.6). */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN 0x80

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
static_assert(sizeof(struct vnet_hdr) == NET_VNET_HDR_LEN, "virtio_net_hdr_v1");
#define VNET_HDR_LEN sizeof(struct vnet_hdr)

/* Device configuration layout (§5.1.4); mtu is read-only 1500, F_MTU is
 * not offered. */
struct vnet_cfg {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

#define VNET_QUEUE_SIZE 256
#define VNET_TX_BUDGET 128
#define VNET_FLOWS 256
#define VNET_NO_QUEUE UINT32_MAX

/* One RX buffer taken for a merged frame: what virtq_push/unpop need. */
struct vnet_rx_rec {
	uint16_t id;
	uint16_t ndescs;
	uint32_t len;
};

struct virtio_net {
	struct virtio_dev vdev;
	struct net_backend *be;        /* owned */
	struct ioloop *io;             /* borrowed */
	int work_fd;                   /* eventfd: deferred work; owned */
	bool work_added;
	bool be_vnet;                  /* back end frames carry a vnet header */
	unsigned be_offloads;          /* NET_OFFLOAD_* the back end accepted */
	unsigned max_pairs;
	uint8_t mac[6];
	char name[32];

	/* Everything below: vdev.lock. */
	uint16_t link;                 /* VIRTIO_NET_S_* */
	unsigned curr_pairs;           /* VQ_PAIRS_SET; 1 after reset */
	uint32_t ctrl_q;               /* controlq index, or VNET_NO_QUEUE */
	bool mrg_rxbuf, guest_csum, guest_tso4, guest_tso6, mq;
	bool rx_kicks[VIRTIO_NET_MAX_PAIRS]; /* RX kicks requested */
	uint32_t deferred;             /* bit q: queue q has work left */
	uint8_t flow_pair[VNET_FLOWS]; /* flow hash -> pair it was sent on */
	struct virtio_net_stats stats;
	struct vnet_rx_rec *recs;      /* VNET_QUEUE_SIZE entries; owned */
	struct virtq_elem elem[2];     /* scratch: [0] TX/ctrl/RX head, [1] RX */
};

static inline size_t vnet_min(size_t a, size_t b)
{
	return a < b ? a : b;
}

static struct virtio_net *vnet_of(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_net, vdev);
}

/* ---- iovec helpers ---- */

/* A read position in the back end's frame, kept across RX buffers. */
struct vnet_cursor {
	const struct iovec *iov;
	unsigned cnt, idx;
	size_t off;
};

static void vnet_cursor_init(struct vnet_cursor *c, const struct iovec *iov,
			     unsigned cnt, size_t skip)
{
	*c = (struct vnet_cursor){ .iov = iov, .cnt = cnt };
	while (c->idx < cnt && skip >= iov[c->idx].iov_len)
		skip -= iov[c->idx++].iov_len;
	c->off = skip;
}

/* Copy len bytes from the cursor into dst (from dst offset doff). */
static size_t vnet_cursor_copy(struct vnet_cursor *c, const struct iovec *dst,
			       unsigned dcnt, size_t doff, size_t len)
{
	size_t done = 0;
	unsigned d = 0;

	while (d < dcnt && doff >= dst[d].iov_len)
		doff -= dst[d++].iov_len;
	while (done < len && d < dcnt && c->idx < c->cnt) {
		size_t sl = c->iov[c->idx].iov_len - c->off;
		size_t dl = dst[d].iov_len - doff;
		size_t l = vnet_min(vnet_min(sl, dl), len - done);

		memcpy((uint8_t *)dst[d].iov_base + doff,
		       (const uint8_t *)c->iov[c->idx].iov_base + c->off, l);
		done += l;
		c->off += l;
		doff += l;
		if (c->off == c->iov[c->idx].iov_len) {
			c->idx++;
			c->off = 0;
		}
		if (doff == dst[d].iov_len) {
			d++;
			doff = 0;
		}
	}
	return done;
}

/* ---- multiqueue steering ---- */

static uint32_t vnet_rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t vnet_rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/*
 * A symmetric flow hash (addresses and TCP/UDP ports XORed, so both
 * directions of a flow hash alike) used to keep a flow's received frames on
 * the receiveq paired with the transmitq it used (§5.1.6.5.5 "SHOULD steer").
 */
static unsigned vnet_flow_hash(const uint8_t *f, size_t len)
{
	size_t off = 14, l4 = 0;
	uint16_t type;
	uint32_t h = 0;
	uint8_t proto = 0;

	if (len < 14)
		return 0;
	type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x8100 && len >= 18) {
		type = (uint16_t)(f[16] << 8 | f[17]);
		off = 18;
	}
	if (type == 0x0800 && len >= off + 20) {
		h = vnet_rd32(f + off + 12) ^ vnet_rd32(f + off + 16);
		l4 = off + (f[off] & 0xfu) * 4;
		/* Fragments after the first carry no ports. */
		if (!(vnet_rd16(f + off + 6) & htobe16(0x3fff)))
			proto = f[off + 9];
	} else if (type == 0x86dd && len >= off + 40) {
		for (unsigned i = 0; i < 8; i++)
			h ^= vnet_rd32(f + off + 8 + 4 * i);
		proto = f[off + 6];
		l4 = off + 40;
	}
	if ((proto == 6 || proto == 17) && len >= l4 + 4)
		h ^= (uint32_t)(vnet_rd16(f + l4) ^ vnet_rd16(f + l4 + 2));
	h ^= h >> 16;
	h ^= h >> 8;
	return h % VNET_FLOWS;
}

static unsigned vnet_frame_hash(const struct iovec *iov, unsigned cnt,
				size_t off)
{
	uint8_t buf[128];

	return vnet_flow_hash(buf, iov_to_buf(iov, cnt, off, buf,
						   sizeof(buf)));
}

/* ---- deferred work ---- */

/* Come back to queue q on a later I/O-thread iteration (kicks stay off). */
static void vnet_defer(struct virtio_net *n, unsigned q)
{
	uint64_t one = 1;
	bool idle = !n->deferred;

	n->deferred |= 1u << q;
	if (idle && write(n->work_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_ratelimited(LOG_ERR, n->name, "eventfd write: %m");
}

/* ---- TX (§5.1.6.2) ---- */

/* Send one popped buffer. -EINVAL when the guest broke the framing. */
static int vnet_tx_one(struct virtio_net *n, unsigned pair,
		       struct virtq_elem *e)
{
	struct iovec *iov = e->iov;
	unsigned cnt = e->nr_out;
	int ret;

	/* §5.1.6.2: every packet is preceded by a struct virtio_net_hdr. */
	if (e->out_len < VNET_HDR_LEN)
		return -EINVAL;
	if (n->curr_pairs > 1)
		n->flow_pair[vnet_frame_hash(iov, cnt, VNET_HDR_LEN)] =
			(uint8_t)pair;
	if (!n->be_vnet) {
		/* The back end speaks plain Ethernet: strip the header in
		 * place (elem is our scratch copy). */
		size_t skip = VNET_HDR_LEN;

		while (cnt && skip >= iov->iov_len) {
			skip -= iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (uint8_t *)iov->iov_base + skip;
			iov->iov_len -= skip;
		}
	}
	ret = net_backend_send(n->be, iov, (int)cnt);
	if (ret) {
		n->stats.tx_dropped++;
		log_ratelimited(LOG_WARN, n->name, "TX frame of %llu bytes dropped: %s",
				(unsigned long long)(e->out_len - VNET_HDR_LEN),
				strerror(-ret));
		return 0;
	}
	n->stats.tx_frames++;
	n->stats.tx_bytes += e->out_len - VNET_HDR_LEN;
	return 0;
}

static void vnet_tx(struct virtio_net *n, unsigned pair)
{
	unsigned q = 2 * pair + 1, done = 0;
	struct virtq *vq = &n->vdev.vqs[q];
	struct virtq_elem *e = &n->elem[0];
	bool kicks = false;
	int ret;

	if (!virtio_dev_queue_live(&n->vdev, q))
		return;
	virtq_set_kicks(vq, false);
	for (;;) {
		if (done == VNET_TX_BUDGET) {
			/* Kicks stay off: the deferred run picks up the rest. */
			vnet_defer(n, q);
			break;
		}
		ret = virtq_pop(vq, e);
		if (ret == -EAGAIN) {
			if (kicks)
				break;
			/* Empty: ask for kicks, then look once more. */
			virtq_set_kicks(vq, true);
			kicks = true;
			continue;
		}
		if (ret) {
			virtio_dev_fail(&n->vdev,
					"transmitq: malformed descriptor chain");
			return;
		}
		if (kicks) {
			virtq_set_kicks(vq, false);
			kicks = false;
		}
		if (vnet_tx_one(n, pair, e)) {
			virtio_dev_fail(&n->vdev, "transmitq: buffer shorter "
					"than virtio_net_hdr");
			return;
		}
		virtq_push(vq, e, 0);
		done++;
	}
	if (done)
		virtio_dev_notify(&n->vdev, q);
}

/* ---- RX (§5.1.6.3, §5.1.6.4) ---- */

/*
 * Pop one receive buffer. RX kicks are requested only while we are out of
 * buffers (enable, then pop again: virtq_pop re-checks after publishing).
 * Returns 0, -EAGAIN, or -EINVAL (malformed; caller fails the device).
 */
static int vnet_rx_pop(struct virtio_net *n, unsigned pair,
		       struct virtq_elem *e)
{
	struct virtq *vq = &n->vdev.vqs[2 * pair];
	int ret = virtq_pop(vq, e);

	if (ret == -EAGAIN) {
		virtq_set_kicks(vq, true);
		n->rx_kicks[pair] = true;
		ret = virtq_pop(vq, e);
	}
	if (ret)
		return ret;
	if (n->rx_kicks[pair]) {
		virtq_set_kicks(vq, false);
		n->rx_kicks[pair] = false;
	}
	/* §5.1.6.3.1: receive buffers are device-writable, and each one at
	 * least holds the header. */
	if (e->nr_out || e->in_len < VNET_HDR_LEN) {
		virtq_unpop(vq, e);
		return -EINVAL;
	}
	return 0;
}

/* Undo the pops of a frame that does not fit yet, newest first. */
static void vnet_rx_unpop(struct virtio_net *n, struct virtq *vq,
			  unsigned nbuf)
{
	struct virtq_elem *shell = &n->elem[1];

	while (nbuf-- > 1) {
		shell->id = n->recs[nbuf].id;
		shell->ndescs = n->recs[nbuf].ndescs;
		virtq_unpop(vq, shell);
	}
	virtq_unpop(vq, &n->elem[0]);
}

static void vnet_rx_fail(struct virtio_net *n)
{
	n->stats.rx_dropped++;
	virtio_dev_fail(&n->vdev, "receiveq: malformed buffer");
}

/*
 * Copy header + frame into as many buffers as it takes. Returns 0 (frame
 * delivered or dropped) or -EAGAIN (not enough buffers yet; nothing used).
 */
static int vnet_rx_frame(struct virtio_net *n, unsigned pair,
			 struct vnet_hdr *hdr, struct vnet_cursor *src,
			 size_t left)
{
	struct virtq *vq = &n->vdev.vqs[2 * pair];
	struct virtq_elem *e0 = &n->elem[0], *e = &n->elem[1];
	size_t total = VNET_HDR_LEN + left, k;
	unsigned nbuf = 1, max = vnet_min(vq->cfg.size, VNET_QUEUE_SIZE);
	int ret = vnet_rx_pop(n, pair, e0);

	if (ret == -EINVAL)
		vnet_rx_fail(n);
	if (ret)
		return ret == -EAGAIN ? -EAGAIN : 0;
	if (!n->mrg_rxbuf && e0->in_len < total) {
		/* One buffer per frame and this one is too small: keep the
		 * buffer for the next frame. */
		virtq_unpop(vq, e0);
		goto too_big;
	}
	k = vnet_cursor_copy(src, e0->iov, e0->nr_in, VNET_HDR_LEN,
			     vnet_min(e0->in_len - VNET_HDR_LEN, left));
	left -= k;
	n->recs[0] = (struct vnet_rx_rec){ e0->id, e0->ndescs,
					   (uint32_t)(VNET_HDR_LEN + k) };
	while (left) {
		/* The ring cannot hold more buffers than its size: if even
		 * that is not enough, the frame can never be received. */
		if (nbuf >= max) {
			vnet_rx_unpop(n, vq, nbuf);
			goto too_big;
		}
		ret = vnet_rx_pop(n, pair, e);
		if (ret) {
			vnet_rx_unpop(n, vq, nbuf);
			if (ret == -EAGAIN)
				return -EAGAIN;
			vnet_rx_fail(n);
			return 0;
		}
		k = vnet_cursor_copy(src, e->iov, e->nr_in, 0,
				     vnet_min(e->in_len, left));
		left -= k;
		n->recs[nbuf++] = (struct vnet_rx_rec){ e->id, e->ndescs,
							(uint32_t)k };
	}
	hdr->num_buffers = (uint16_t)nbuf;
	iov_from_buf(e0->iov, e0->nr_in, 0, hdr, VNET_HDR_LEN);
	virtq_push(vq, e0, n->recs[0].len);
	for (unsigned i = 1; i < nbuf; i++) {
		e->id = n->recs[i].id;
		e->ndescs = n->recs[i].ndescs;
		e->in_len = n->recs[i].len;
		virtq_push(vq, e, n->recs[i].len);
	}
	n->stats.rx_frames++;
	n->stats.rx_bytes += total - VNET_HDR_LEN;
	virtio_dev_notify(&n->vdev, 2 * pair);
	return 0;
too_big:
	n->stats.rx_too_big++;
	log_ratelimited(LOG_WARN, n->name,
			"RX frame of %zu bytes dropped: larger than the guest's "
			"receive buffers", total - VNET_HDR_LEN);
	return 0;
}

/*
 * Offloads the driver did not accept must not reach it (§5.1.6.4.1): the
 * back end normally honours net_backend_set_offloads(), this catches the
 * rest (e.g. loopback echoing a guest's own TSO frame).
 */
static bool vnet_rx_hdr_ok(struct virtio_net *n, struct vnet_hdr *hdr)
{
	uint8_t gso = hdr->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (!n->guest_csum)
		hdr->flags &= ~VIRTIO_NET_HDR_F_DATA_VALID;
	if ((hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !n->guest_csum)
		return false;
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return true;
	return (gso == VIRTIO_NET_HDR_GSO_TCPV4 && n->guest_tso4) ||
	       (gso == VIRTIO_NET_HDR_GSO_TCPV6 && n->guest_tso6);
}

static unsigned vnet_rx_pair(struct virtio_net *n, const struct iovec *iov,
			     unsigned cnt, size_t off)
{
	unsigned h, pair;

	if (n->curr_pairs <= 1)
		return 0;
	h = vnet_frame_hash(iov, cnt, off);
	pair = n->flow_pair[h];
	return pair < n->curr_pairs ? pair : h % n->curr_pairs;
}

static int vnet_rx_locked(struct virtio_net *n, const struct iovec *iov,
			  unsigned cnt, size_t len)
{
	struct vnet_hdr hdr = { 0 };
	struct vnet_cursor src;
	size_t skip = 0;
	unsigned pair;

	if (n->be_vnet) {
		if (len < VNET_HDR_LEN ||
		    iov_to_buf(iov, cnt, 0, &hdr, VNET_HDR_LEN) != VNET_HDR_LEN)
			goto drop;
		skip = VNET_HDR_LEN;
	}
	if (!vnet_rx_hdr_ok(n, &hdr))
		goto drop;
	pair = vnet_rx_pair(n, iov, cnt, skip);
	/* Not DRIVER_OK, queue not enabled, or failed: the link is as good
	 * as down, the frame is lost (as on a wire). */
	if (!virtio_dev_queue_live(&n->vdev, 2 * pair))
		goto drop;
	vnet_cursor_init(&src, iov, cnt, skip);
	return vnet_rx_frame(n, pair, &hdr, &src, len - skip);
drop:
	n->stats.rx_dropped++;
	return 0;
}

static int vnet_rx(void *opaque, const struct iovec *iov, int iovcnt,
		   size_t len)
{
	struct virtio_net *n = opaque;
	int ret;

	pthread_mutex_lock(&n->vdev.lock);
	ret = vnet_rx_locked(n, iov, (unsigned)iovcnt, len);
	pthread_mutex_unlock(&n->vdev.lock);
	return ret;
}

/* ---- control queue (§5.1.6.5) ---- */

static uint8_t vnet_ctrl_cmd(void *opaque, const uint8_t *cmd, size_t len)
{
	struct virtio_net *n = opaque;
	uint16_t pairs;

	/* §5.1.6.5.5: pairs between 1 and max_virtqueue_pairs. Applied
	 * before the ack is used, so no frame lands on a disabled queue
	 * after the driver sees it. */
	if (cmd[0] == VIRTIO_NET_CTRL_MQ &&
	    cmd[1] == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET && n->mq && len >= 4) {
		pairs = (uint16_t)(cmd[2] | cmd[3] << 8);
		if (pairs < 1 || pairs > n->max_pairs)
			return VIRTIO_NET_ERR;
		n->curr_pairs = pairs;
		return VIRTIO_NET_OK;
	}
	/* Every other class needs a feature we do not offer (CTRL_RX,
	 * CTRL_VLAN, GUEST_ANNOUNCE, CTRL_MAC_ADDR, ...). */
	return VIRTIO_NET_ERR;
}

static void vnet_ctrl(struct virtio_net *n, unsigned q)
{
	if (!virtio_dev_queue_live(&n->vdev, q))
		return;
	if (virtio_net_ctrl_run(&n->vdev, q, &n->elem[0], vnet_ctrl_cmd, n,
				&n->stats.ctrl_cmds) == -EAGAIN)
		vnet_defer(n, q); /* a flood of commands: yield */
}

/* ---- virtio_dev_ops ---- */

static void vnet_cfg_read(struct virtio_dev *dev, uint32_t off, void *data,
			  uint32_t len)
{
	struct virtio_net *n = vnet_of(dev);
	struct vnet_cfg c = {
		.status = n->link,
		.max_virtqueue_pairs = (uint16_t)n->max_pairs,
		.mtu = 1500,
	};

	memcpy(c.mac, n->mac, sizeof(c.mac));
	memset(data, 0, len);
	if (off < sizeof(c))
		memcpy(data, (uint8_t *)&c + off, vnet_min(len, sizeof(c) - off));
}

static void vnet_cfg_write(struct virtio_dev *dev, uint32_t off,
			   const void *data, uint32_t len)
{
	/* §5.1.4.2: the driver must not write the config space (the MAC is
	 * writable only through the legacy interface); ignored. */
}

static int vnet_set_features(struct virtio_dev *dev, uint64_t f)
{
	struct virtio_net *n = vnet_of(dev);
	unsigned offl = 0;

	/* §5.1.3.1 feature dependencies: refuse a set that breaks them. */
	if (((f & BIT(VIRTIO_NET_F_MQ)) && !(f & BIT(VIRTIO_NET_F_CTRL_VQ))) ||
	    ((f & (BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6))) &&
	     !(f & BIT(VIRTIO_NET_F_GUEST_CSUM))) ||
	    ((f & (BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6))) &&
	     !(f & BIT(VIRTIO_NET_F_CSUM))))
		return -EINVAL;
	n->mrg_rxbuf = f & BIT(VIRTIO_NET_F_MRG_RXBUF);
	n->guest_csum = f & BIT(VIRTIO_NET_F_GUEST_CSUM);
	n->guest_tso4 = f & BIT(VIRTIO_NET_F_GUEST_TSO4);
	n->guest_tso6 = f & BIT(VIRTIO_NET_F_GUEST_TSO6);
	n->mq = f & BIT(VIRTIO_NET_F_MQ);
	/* §5.1.2: controlq is 2N, N = max pairs with MQ, else 1. */
	n->ctrl_q = !(f & BIT(VIRTIO_NET_F_CTRL_VQ)) ? VNET_NO_QUEUE :
		    n->mq ? 2 * n->max_pairs : 2;
	/* Tell the back end what the guest can receive (tap: TUNSETOFFLOAD),
	 * so partial checksums and GSO frames only reach a driver that
	 * asked for them. */
	if (n->be_vnet && n->be_offloads) {
		offl |= n->guest_csum ? NET_OFFLOAD_CSUM : 0;
		offl |= n->guest_tso4 ? NET_OFFLOAD_TSO4 : 0;
		offl |= n->guest_tso6 ? NET_OFFLOAD_TSO6 : 0;
		net_backend_set_offloads(n->be, offl);
	}
	return 0;
}

static int vnet_activate(struct virtio_dev *dev)
{
	struct virtio_net *n = vnet_of(dev);

	for (unsigned i = 0; i < VIRTIO_NET_MAX_PAIRS; i++)
		n->rx_kicks[i] = true;
	/* A frame the back end kept from before a reset gets its retry. */
	net_backend_rx_ready(n->be);
	return 0;
}

/* Work on a queue: a kick, or deferred work (then `kick` is false). */
static void vnet_process(struct virtio_net *n, unsigned qidx, bool kick)
{
	if (qidx == n->ctrl_q)
		vnet_ctrl(n, qidx);
	else if (qidx >= 2 * n->max_pairs)
		return;
	else if (qidx & 1)
		vnet_tx(n, qidx / 2);
	else if (kick)
		net_backend_rx_ready(n->be); /* new RX buffers */
}

static void vnet_queue_notify(struct virtio_dev *dev, unsigned qidx)
{
	vnet_process(vnet_of(dev), qidx, true);
}

static void vnet_reset(struct virtio_dev *dev)
{
	struct virtio_net *n = vnet_of(dev);

	n->curr_pairs = 1;
	n->ctrl_q = VNET_NO_QUEUE;
	n->mrg_rxbuf = n->guest_csum = n->guest_tso4 = n->guest_tso6 = false;
	n->mq = false;
	n->deferred = 0;
	memset(n->flow_pair, 0xff, sizeof(n->flow_pair));
}

static void vnet_destroy(struct virtio_dev *dev)
{
	virtio_net_destroy(container_of(dev, struct virtio_net, vdev));
}

static const struct virtio_dev_ops vnet_ops = {
	.cfg_read = vnet_cfg_read,
	.cfg_write = vnet_cfg_write,
	.set_features = vnet_set_features,
	.activate = vnet_activate,
	.queue_notify = vnet_queue_notify,
	.reset = vnet_reset,
	.destroy = vnet_destroy,
};

/* ---- lifetime ---- */

static int vnet_work(void *opaque, int fd, uint32_t events)
{
	struct virtio_net *n = opaque;
	uint64_t v;
	uint32_t pending;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_ratelimited(LOG_ERR, n->name, "eventfd read: %m");
	pthread_mutex_lock(&n->vdev.lock);
	pending = n->deferred;
	n->deferred = 0;
	for (unsigned q = 0; pending; q++, pending >>= 1)
		if (pending & 1)
			vnet_process(n, q, false);
	pthread_mutex_unlock(&n->vdev.lock);
	return 0;
}

static uint64_t vnet_features(struct virtio_net *n, bool packed)
{
	uint64_t f = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_EVENT_IDX) |
		     BIT(VIRTIO_F_INDIRECT_DESC) | BIT(VIRTIO_NET_F_MAC) |
		     BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_MRG_RXBUF);

	if (packed)
		f |= BIT(VIRTIO_F_RING_PACKED);
	if (n->max_pairs > 1)
		f |= BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_CTRL_VQ);
	/* Offloads both ways, only as far as the back end honours them. */
	if (n->be_offloads & NET_OFFLOAD_CSUM) {
		f |= BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM);
		if (n->be_offloads & NET_OFFLOAD_TSO4)
			f |= BIT(VIRTIO_NET_F_HOST_TSO4) |
			     BIT(VIRTIO_NET_F_GUEST_TSO4);
		if (n->be_offloads & NET_OFFLOAD_TSO6)
			f |= BIT(VIRTIO_NET_F_HOST_TSO6) |
			     BIT(VIRTIO_NET_F_GUEST_TSO6);
	}
	return f;
}

static int vnet_mac(struct virtio_net *n, const struct virtio_net_config *cfg)
{
	if (cfg->has_mac) {
		static const uint8_t zero[6];

		/* Neither a multicast nor the all-zero address can be a
		 * station address. */
		if ((cfg->mac[0] & 1) || !memcmp(cfg->mac, zero, 6))
			return -EINVAL;
		memcpy(n->mac, cfg->mac, 6);
		return 0;
	}
	/* 52:54:00 (locally administered, the prefix QEMU users know). */
	n->mac[0] = 0x52;
	n->mac[1] = 0x54;
	n->mac[2] = 0x00;
	if (getrandom(n->mac + 3, 3, 0) != 3)
		return -errno;
	return 0;
}

static int vnet_setup_io(struct virtio_net *n, const struct virtio_net_config *cfg,
			 struct ioloop *io, char *err, size_t errlen)
{
	int ret = net_backend_create(cfg->backend, io, &n->be, err, errlen);

	if (ret)
		return ret;
	n->be_vnet = net_backend_set_vnet_hdr(n->be, true) == 0;
	if (n->be_vnet)
		n->be_offloads = net_backend_set_offloads(n->be,
			NET_OFFLOAD_CSUM | NET_OFFLOAD_TSO4 | NET_OFFLOAD_TSO6);
	n->work_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->work_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: eventfd: %s", n->name, strerror(-ret));
		return ret;
	}
	ret = ioloop_add(io, n->work_fd, EPOLLIN, vnet_work, n);
	if (ret) {
		snprintf(err, errlen, "%s: ioloop_add: %s", n->name, strerror(-ret));
		return ret;
	}
	n->work_added = true;
	return 0;
}

int virtio_net_create(const struct pci_dev_ctx *ctx,
		      const struct virtio_net_config *cfg,
		      struct virtio_net **out, char *err, size_t errlen)
{
	struct ioloop *io = ctx->io;
	unsigned pairs = cfg->queues ? cfg->queues : 1;
	struct virtio_net *n;
	int ret;

	*out = NULL;
	if (pairs > VIRTIO_NET_MAX_PAIRS || !cfg->backend) {
		snprintf(err, errlen, "virtio-net: %s", !cfg->backend ?
			 "no back end given" : "queues must be 1..8");
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "virtio-net: out of memory");
		return -ENOMEM;
	}
	n->work_fd = -1;
	n->io = io;
	n->max_pairs = pairs;
	n->link = VIRTIO_NET_S_LINK_UP;
	snprintf(n->name, sizeof(n->name), "%s", cfg->name ? cfg->name : "virtio-net");
	vnet_reset(&n->vdev);
	ret = vnet_mac(n, cfg);
	if (ret) {
		snprintf(err, errlen, "%s: %s", n->name, ret == -EINVAL ?
			 "MAC address is multicast or zero" : "no random MAC");
		goto fail;
	}
	n->recs = calloc(VNET_QUEUE_SIZE, sizeof(*n->recs));
	if (!n->recs) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", n->name);
		goto fail;
	}
	ret = vnet_setup_io(n, cfg, io, err, errlen);
	if (ret)
		goto fail;

	n->vdev = (struct virtio_dev){
		.ops = &vnet_ops,
		.name = n->name,
		.device_id = 1,
		.pci_class = 0x0200,
		.host_features = vnet_features(n, cfg->packed),
		.cfg_size = sizeof(struct vnet_cfg),
		.nr_queues = pairs > 1 ? 2 * pairs + 1 : 2,
		.queue_max_size = VNET_QUEUE_SIZE,
		.mem = ctx->mem,
	};
	ret = virtio_dev_init(&n->vdev, &(struct virtio_transport_ctx){
		.kind = VIRTIO_TRANSPORT_PCI, .irq = ctx->irq, .io = io,
	});
	if (ret) {
		snprintf(err, errlen, "%s: virtio transport: %s", n->name,
			 strerror(-ret));
		goto fail;
	}
	/* Only now is vdev.lock initialised: frames may flow. */
	net_backend_set_rx(n->be, vnet_rx, n);
	*out = n;
	return 0;
fail:
	virtio_net_destroy(n);
	return ret;
}

void virtio_net_destroy(struct virtio_net *n)
{
	if (!n)
		return;
	net_backend_destroy(n->be);
	virtio_dev_exit(&n->vdev);
	if (n->work_added)
		ioloop_del(n->io, n->work_fd);
	if (n->work_fd >= 0)
		close(n->work_fd);
	free(n->recs);
	free(n);
}

struct pci_dev *virtio_net_pci(struct virtio_net *n)
{
	return virtio_dev_pci(&n->vdev);
}

void virtio_net_set_link(struct virtio_net *n, bool up)
{
	pthread_mutex_lock(&n->vdev.lock);
	n->link = up ? VIRTIO_NET_S_LINK_UP : 0;
	virtio_dev_config_changed(&n->vdev);
	pthread_mutex_unlock(&n->vdev.lock);
}

void virtio_net_stats(struct virtio_net *n, struct virtio_net_stats *out)
{
	pthread_mutex_lock(&n->vdev.lock);
	*out = n->stats;
	pthread_mutex_unlock(&n->vdev.lock);
}
