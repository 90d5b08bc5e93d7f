/* SPDX-License-Identifier: MIT */
/*
 * virtio-net driver (virtio 1.2 §5.1), poll mode: RX queue 0, TX queue 1,
 * the 12-byte struct virtio_net_hdr_v1 in front of every frame (§5.1.6).
 * TX frames sit in per-slot buffers right behind their header, so a frame
 * is one descriptor (tx_sg=1), header + data (tx_sg=2), or an indirect
 * table (indirect=1). RX buffers are pre-posted, one descriptor each;
 * with MRG_RXBUF a frame may span several (num_buffers, §5.1.6.4).
 */
#include "guest/nic.h"

#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VNET_HDR_NUM_BUFFERS 10
#define VNET_RX_QUEUE 0
#define VNET_TX_QUEUE 1
/* §5.1.6.3.1: without MRG_RXBUF (or GSO) each buffer holds a whole frame. */
#define VNET_RX_MIN_PLAIN (KIT_VNET_HDR_LEN + KIT_NIC_MAX_FRAME)
#define VNET_RX_MIN_MRG 256
#define VNET_USED_WAIT_MS 100

static struct kit_vnet *to_vnet(struct kit_nic *n)
{
	return (struct kit_vnet *)n; /* nic is the first member */
}

static uint8_t *vnet_tx_buf(struct kit_nic *n)
{
	struct kit_vnet *vn = to_vnet(n);
	unsigned int segs = vn->cfg.tx_sg;

	if (vn->tx_cur >= 0)
		return vn->txbufs + (uint64_t)vn->tx_cur * KIT_NIC_BUF +
		       KIT_VNET_HDR_LEN;
	if (!vn->tx_top || !kit_vq_has_room(&vn->txq, segs, vn->cfg.indirect))
		return NULL;
	vn->tx_cur = vn->tx_free[--vn->tx_top];
	return vn->txbufs + (uint64_t)vn->tx_cur * KIT_NIC_BUF +
	       KIT_VNET_HDR_LEN;
}

static void vnet_tx_post(struct kit_nic *n, uint32_t len)
{
	struct kit_vnet *vn = to_vnet(n);
	uint64_t buf;
	struct kit_sg sg[2];
	unsigned int segs = 1;

	if (vn->tx_cur < 0 || len > KIT_NIC_MAX_FRAME)
		return;
	buf = (uint64_t)(uintptr_t)vn->txbufs +
	      (uint64_t)vn->tx_cur * KIT_NIC_BUF;
	/* flags 0, gso_type NONE: a plain frame (§5.1.6.2). */
	memset((void *)(uintptr_t)buf, 0, KIT_VNET_HDR_LEN);
	sg[0] = (struct kit_sg){ buf, KIT_VNET_HDR_LEN + len, false };
	if (vn->cfg.tx_sg == 2) {
		sg[0].len = KIT_VNET_HDR_LEN;
		sg[1] = (struct kit_sg){ buf + KIT_VNET_HDR_LEN, len, false };
		segs = 2;
	}
	/* Room was checked by tx_buf; cookie 0 would read as "none". */
	kit_vq_add(&vn->txq, sg, segs, vn->cfg.indirect,
		   (void *)(uintptr_t)(vn->tx_cur + 1));
	vn->tx_cur = -1;
}

static void vnet_tx_flush(struct kit_nic *n)
{
	struct kit_vnet *vn = to_vnet(n);

	if (kit_vq_kick(&vn->txq, false))
		n->doorbells++;
}

static unsigned int vnet_tx_reclaim(struct kit_nic *n)
{
	struct kit_vnet *vn = to_vnet(n);
	unsigned int done = 0;
	uint32_t len;
	void *c;

	while ((c = kit_vq_get_used(&vn->txq, &len))) {
		uintptr_t slot = (uintptr_t)c - 1;

		if (slot < vn->nic.tx_slots)
			vn->tx_free[vn->tx_top++] = (uint16_t)slot;
		done++;
	}
	return done;
}

static void vnet_rx_post(struct kit_vnet *vn, uint8_t *buf)
{
	struct kit_sg sg = { (uint64_t)(uintptr_t)buf, vn->cfg.rx_buf, true };

	kit_vq_add(&vn->rxq, &sg, 1, false, buf);
}

/* A merged frame's later buffers are published with its first one, but
 * wait a little in case a device publishes them one by one. */
static uint8_t *vnet_rx_next_buf(struct kit_vnet *vn, uint32_t *len)
{
	uint64_t t0 = kit_rdtsc(), limit = kit_ms_to_cycles(VNET_USED_WAIT_MS);
	void *c;

	while (!(c = kit_vq_get_used(&vn->rxq, len))) {
		if (kit_rdtsc() - t0 > limit)
			return NULL;
		kit_pause();
	}
	return c;
}

/* Gather buffers 2..nbuf of a merged frame behind the first one. */
static const uint8_t *vnet_rx_merge(struct kit_vnet *vn, uint32_t first_len,
				    uint16_t nbuf, uint32_t *flen)
{
	uint32_t total = first_len - KIT_VNET_HDR_LEN, len;

	memcpy(vn->rx_scratch, vn->rx_cur[0] + KIT_VNET_HDR_LEN, total);
	for (uint16_t k = 1; k < nbuf; k++) {
		uint8_t *b = vnet_rx_next_buf(vn, &len);

		if (!b)
			return NULL;
		vn->rx_cur[vn->rx_ncur++] = b;
		if (len > vn->cfg.rx_buf || total + len > KIT_NIC_BUF)
			return NULL;
		memcpy(vn->rx_scratch + total, b, len);
		total += len;
	}
	*flen = total;
	return vn->rx_scratch;
}

static const uint8_t *vnet_rx(struct kit_nic *n, uint32_t *flen)
{
	struct kit_vnet *vn = to_vnet(n);
	const uint8_t *frame;
	uint16_t nbuf = 1;
	uint32_t len;
	uint8_t *b;

	if (vn->rx_ncur)
		n->ops->rx_done(n); /* caller skipped rx_done */
	b = kit_vq_get_used(&vn->rxq, &len);
	if (!b)
		return NULL;
	vn->rx_cur[0] = b;
	vn->rx_ncur = 1;
	if (vn->mrg) /* le16 num_buffers */
		nbuf = (uint16_t)(b[VNET_HDR_NUM_BUFFERS] |
				  b[VNET_HDR_NUM_BUFFERS + 1] << 8);
	if (len < KIT_VNET_HDR_LEN || len > vn->cfg.rx_buf || nbuf == 0 ||
	    nbuf > KIT_VNET_RX_MAX_BUFS)
		goto bad;
	if (nbuf == 1) {
		*flen = len - KIT_VNET_HDR_LEN;
		return b + KIT_VNET_HDR_LEN;
	}
	frame = vnet_rx_merge(vn, len, nbuf, flen);
	if (frame)
		return frame;
bad:
	n->rx_errors++;
	n->ops->rx_done(n);
	return NULL;
}

static void vnet_rx_done(struct kit_nic *n)
{
	struct kit_vnet *vn = to_vnet(n);

	for (unsigned int i = 0; i < vn->rx_ncur; i++)
		vnet_rx_post(vn, vn->rx_cur[i]);
	vn->rx_ncur = 0;
}

static void vnet_rx_flush(struct kit_nic *n)
{
	struct kit_vnet *vn = to_vnet(n);

	if (kit_vq_kick(&vn->rxq, false))
		n->doorbells++;
}

static void vnet_close(struct kit_nic *n)
{
	kit_virtio_reset(&to_vnet(n)->v);
}

static const struct kit_nic_ops vnet_ops = {
	.tx_buf = vnet_tx_buf,
	.tx_post = vnet_tx_post,
	.tx_flush = vnet_tx_flush,
	.tx_reclaim = vnet_tx_reclaim,
	.rx = vnet_rx,
	.rx_done = vnet_rx_done,
	.rx_flush = vnet_rx_flush,
	.close = vnet_close,
};

static int vnet_negotiate(struct kit_vnet *vn, const char **reason)
{
	const struct kit_nic_cfg *c = &vn->cfg;
	uint64_t req = 0, opt = KIT_BIT(VIRTIO_NET_F_MAC) |
				KIT_BIT(VIRTIO_NET_F_STATUS);

	if (c->packed)
		req |= KIT_BIT(KIT_VIRTIO_F_RING_PACKED);
	if (c->indirect)
		req |= KIT_BIT(KIT_VIRTIO_F_INDIRECT_DESC);
	if (c->mrg_rxbuf)
		req |= KIT_BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (c->event_idx)
		opt |= KIT_BIT(KIT_VIRTIO_F_EVENT_IDX);
	if (kit_virtio_negotiate(&vn->v, req, opt, reason) < 0) {
		/* offered stays 0 when negotiation failed before reading it. */
		uint64_t missing = vn->v.offered ? req & ~vn->v.offered : 0;

		/* Name the missing feature the test asked for. */
		if (missing & KIT_BIT(KIT_VIRTIO_F_RING_PACKED))
			*reason = "no-packed";
		else if (missing & KIT_BIT(KIT_VIRTIO_F_INDIRECT_DESC))
			*reason = "no-indirect";
		else if (missing & KIT_BIT(VIRTIO_NET_F_MRG_RXBUF))
			*reason = "no-mrg-rxbuf";
		return -1;
	}
	vn->mrg = vn->v.features & KIT_BIT(VIRTIO_NET_F_MRG_RXBUF);
	return 0;
}

static void vnet_read_mac(struct kit_vnet *vn)
{
	/* Without VIRTIO_NET_F_MAC the device takes any source address:
	 * use a locally administered one ("kit"). */
	static const uint8_t fallback[6] = { 0x02, 0x6b, 0x69, 0x74, 0, 1 };

	if (!(vn->v.features & KIT_BIT(VIRTIO_NET_F_MAC))) {
		memcpy(vn->nic.mac, fallback, 6);
		return;
	}
	for (unsigned int i = 0; i < 6; i++)
		vn->nic.mac[i] = (uint8_t)kit_virtio_cfg_read(&vn->v, i, 1);
}

static int vnet_alloc(struct kit_vnet *vn, const char **reason)
{
	uint16_t per_frame = vn->cfg.indirect ? 1 : vn->cfg.tx_sg;

	vn->nic.tx_slots = (uint16_t)(vn->txq.size / per_frame);
	vn->nic.rx_slots = vn->rxq.size;
	vn->txbufs = kit_alloc((uint64_t)vn->nic.tx_slots * KIT_NIC_BUF, 4096);
	vn->tx_free = kit_alloc(2ULL * vn->nic.tx_slots, 64);
	vn->rxbufs = kit_alloc((uint64_t)vn->rxq.size * vn->cfg.rx_buf, 4096);
	vn->rx_scratch = kit_alloc(KIT_NIC_BUF, 64);
	if (!vn->txbufs || !vn->tx_free || !vn->rxbufs || !vn->rx_scratch) {
		*reason = "no-memory";
		return -1;
	}
	for (uint16_t i = 0; i < vn->nic.tx_slots; i++)
		vn->tx_free[i] = (uint16_t)(vn->nic.tx_slots - 1 - i);
	vn->tx_top = vn->nic.tx_slots;
	vn->tx_cur = -1;
	return 0;
}

static int vnet_check_cfg(const struct kit_nic_cfg *c, const char **reason)
{
	uint32_t min = c->mrg_rxbuf ? VNET_RX_MIN_MRG : VNET_RX_MIN_PLAIN;

	if ((c->tx_sg != 1 && c->tx_sg != 2) || c->rx_buf < min ||
	    c->rx_buf > KIT_NIC_BUF) {
		*reason = "bad-param";
		return -1;
	}
	return 0;
}

int kit_vnet_open(struct kit_vnet *vn, const struct kit_nic_cfg *cfg,
		  const char **reason)
{
	memset(vn, 0, sizeof(*vn));
	vn->cfg = *cfg;
	if (!vn->cfg.rx_buf)
		vn->cfg.rx_buf = KIT_NIC_BUF;
	if (!vn->cfg.tx_sg)
		vn->cfg.tx_sg = 1;
	if (vnet_check_cfg(&vn->cfg, reason) < 0)
		return -1;
	vn->nic.ops = &vnet_ops;
	vn->nic.name = "virtio";
	if (kit_virtio_find(KIT_VIRTIO_ID_NET_MODERN, KIT_VIRTIO_ID_NET_TRANS,
			    &vn->v, reason) < 0 ||
	    vnet_negotiate(vn, reason) < 0)
		return -1;
	vnet_read_mac(vn);
	if (kit_virtio_setup_vq(&vn->v, &vn->rxq, VNET_RX_QUEUE, cfg->qsize,
				reason) < 0 ||
	    kit_virtio_setup_vq(&vn->v, &vn->txq, VNET_TX_QUEUE, cfg->qsize,
				reason) < 0 ||
	    vnet_alloc(vn, reason) < 0) {
		kit_virtio_reset(&vn->v);
		return -1;
	}
	/* §3.1.1: populate the RX queue before DRIVER_OK, notify after. */
	for (uint16_t i = 0; i < vn->rxq.size; i++)
		vnet_rx_post(vn, vn->rxbufs + (uint64_t)i * vn->cfg.rx_buf);
	kit_virtio_driver_ok(&vn->v);
	if (kit_virtio_status(&vn->v) & KIT_VIRTIO_S_NEEDS_RESET) {
		*reason = "device-needs-reset";
		kit_virtio_reset(&vn->v);
		return -1;
	}
	vnet_rx_flush(&vn->nic);
	return 0;
}
