// SPDX-License-Identifier: MIT
/*
 * e1000 transmit (8254x SDM 3.3): a TDT write processes descriptors from
 * TDH up to TDT, at most one ring's worth per write, so a hostile ring
 * cannot keep a vCPU busy for longer than that.
 *
 * Descriptors are copied out of guest memory once, then parsed from the
 * copy. A packet's buffers are gathered as host pointers (bounds-checked
 * through gmem) and handed to the back end without a copy when no offload
 * asks for changes; checksum insertion (legacy IC, data-descriptor IXSM/
 * TXSM), TCP segmentation (TSE) and VLAN insertion work on a linear copy.
 * Descriptors that asked for a status report (RS) get DD written back only
 * once their packet has left, since the guest may reuse the buffer then.
 */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "emul-devices/e1000/e1000-internal.h"

#define ETH_HLEN       14
#define ETH_ZLEN       60       /* minimum frame without FCS */
#define VLAN_HLEN      4
/* The largest (jumbo) packet the 82540EM transmits without TSE (SDM 3.3). */
#define TX_MAX_FRAME   16288u

static const uint8_t tx_zero_pad[ETH_ZLEN];

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static inline uint16_t ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t ld32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t ld16_be(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void st16_be(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* RFC 1071 ones' complement sum of [p, p + len), not yet complemented. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += ld16_be(p + i);
	if (i < len)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * Insert ~sum(buf[start..end]) at buf[off] (SDM 3.3.6: end inclusive, 0
 * meaning the end of the packet). The guest pre-loads the field (pseudo
 * header for TCP/UDP, 0 for IP), which is why it is summed as found.
 * extra is added to the sum (TSO: the segment's TCP length).
 */
static bool tx_csum_insert(uint8_t *buf, size_t len, uint32_t start,
			   uint32_t end, uint32_t off, uint32_t extra)
{
	uint16_t c;

	if (end == 0 || end >= len)
		end = len - 1;
	if (start > end || off + 2 > len)
		return false;
	c = ~csum_fold(csum_add(extra, buf + start, end - start + 1));
	st16_be(buf + off, c);
	return true;
}

static void tx_count(struct e1000 *e, const struct iovec *iov, int iovcnt,
		     size_t len)
{
	uint8_t dst[6];
	size_t got = 0;

	/* The first buffer may be shorter than the address: gather it. */
	for (int i = 0; i < iovcnt && got < 6; i++) {
		size_t n = iov[i].iov_len < 6 - got ? iov[i].iov_len : 6 - got;

		memcpy(dst + got, iov[i].iov_base, n);
		got += n;
	}
	e1000_stat_inc(e, E1000_GPTC, 1);
	e1000_stat_inc(e, E1000_TPT, 1);
	e1000_stat_add64(e, E1000_GOTCL, len);
	e1000_stat_add64(e, E1000_TOTL, len);
	if (dst[0] & 1)
		e1000_stat_inc(e, memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6) ?
			       E1000_MPTC : E1000_BPTC, 1);
	e->tx_frames++;
}

/* One frame out: VLAN tag insertion, short-packet padding, statistics. */
static void tx_emit(struct e1000 *e, const struct iovec *iov, int iovcnt,
		    size_t len)
{
	struct iovec v[E1000_TX_MAX_IOV + 3];
	uint8_t tag[VLAN_HLEN];
	const uint8_t *hdr = iov[0].iov_base;
	int n = 0, ret;

	if (e->tx.vle && (e1000_reg(e, E1000_CTRL) & 0x40000000u) &&
	    iovcnt == 1 && len >= 12) {
		/* 802.1Q tag after the addresses (SDM 3.3.3.1, CTRL.VME). */
		st16_be(tag, (uint16_t)e1000_reg(e, E1000_VET));
		st16_be(tag + 2, e->tx.vlan);
		v[n++] = (struct iovec){ (void *)hdr, 12 };
		v[n++] = (struct iovec){ tag, VLAN_HLEN };
		v[n++] = (struct iovec){ (void *)(hdr + 12), len - 12 };
		len += VLAN_HLEN;
	} else {
		memcpy(v, iov, iovcnt * sizeof(*iov));
		n = iovcnt;
	}
	if ((e1000_reg(e, E1000_TCTL) & E1000_TCTL_PSP) && len < ETH_ZLEN) {
		v[n++] = (struct iovec){ (void *)tx_zero_pad, ETH_ZLEN - len };
		len = ETH_ZLEN;
	}
	ret = net_backend_send(e->be, v, n);
	if (ret < 0) {
		e->tx_errors++;
		log_ratelimited(LOG_WARN, e->name, "TX of %zu bytes failed: %s",
				len, strerror(-ret));
		return;
	}
	tx_count(e, v, n, len);
}

static void tx_emit_linear(struct e1000 *e, uint8_t *buf, size_t len)
{
	struct iovec iov = { buf, len };

	tx_emit(e, &iov, 1, len);
}

/* TCP segmentation (SDM 3.5): headers replicated, fields fixed per segment. */
static void tx_tso(struct e1000 *e, const uint8_t *pkt, size_t len)
{
	const struct e1000_tx *t = &e->tx;
	uint32_t hdr = t->hdr_len, mss = t->mss, off;
	bool ipv4 = t->tucmd & E1000_TUCMD_IP, tcp = t->tucmd & E1000_TUCMD_TCP;
	uint16_t ip_id = 0;
	uint32_t seq = 0;
	uint8_t *seg = e->seg_buf;

	uint32_t ipcss = t->ipcss, tucss = t->tucss, tucso = t->tucso;

	if (hdr == 0 || hdr >= len || mss == 0 ||
	    ipcss + (ipv4 ? 20u : 40u) > hdr ||
	    tucss + (tcp ? 20u : 8u) > hdr || tucso + 2u > hdr ||
	    (ipv4 && t->ipcso + 2u > hdr) || hdr + mss > E1000_TX_BUF_LEN) {
		e->tx_errors++;
		log_ratelimited(LOG_WARN, e->name,
				"TSO context unusable (hdr %u mss %u): dropped",
				hdr, mss);
		return;
	}
	if (ipv4)
		ip_id = ld16_be(pkt + t->ipcss + 4);
	if (tcp)
		seq = (uint32_t)ld16_be(pkt + t->tucss + 4) << 16 |
		      ld16_be(pkt + t->tucss + 6);
	for (off = hdr; off < len; off += mss) {
		uint32_t seglen = min_u32(mss, (uint32_t)(len - off));
		bool last = off + seglen >= len;
		uint32_t l4len = hdr - t->tucss + seglen;

		memcpy(seg, pkt, hdr);
		memcpy(seg + hdr, pkt + off, seglen);
		if (ipv4) {
			st16_be(seg + t->ipcss + 2, hdr - t->ipcss + seglen);
			st16_be(seg + t->ipcss + 4, ip_id++);
			st16_be(seg + t->ipcso, 0);
			tx_csum_insert(seg, hdr + seglen, t->ipcss,
				       t->ipcse ? t->ipcse : hdr - 1, t->ipcso,
				       0);
		} else {
			/* IPv6 payload length: everything after 40 bytes. */
			st16_be(seg + t->ipcss + 4,
				hdr - t->ipcss - 40 + seglen);
		}
		if (tcp) {
			uint32_t s = seq + (off - hdr);

			st16_be(seg + t->tucss + 4, s >> 16);
			st16_be(seg + t->tucss + 6, s & 0xffff);
			if (!last) /* FIN and PSH only on the last segment */
				seg[t->tucss + 13] &= ~0x09;
		} else {
			st16_be(seg + t->tucss + 4, l4len);
		}
		/* The field holds the pseudo-header sum without the length. */
		tx_csum_insert(seg, hdr + seglen, t->tucss, 0, t->tucso, l4len);
		tx_emit_linear(e, seg, hdr + seglen);
	}
	e1000_stat_inc(e, E1000_TSCTC, 1);
}

static size_t tx_linearise(struct e1000 *e)
{
	uint8_t *p = e->tx_buf;

	for (unsigned i = 0; i < e->tx.iovcnt; i++) {
		memcpy(p, e->tx.iov[i].iov_base, e->tx.iov[i].iov_len);
		p += e->tx.iov[i].iov_len;
	}
	return e->tx.len;
}

/* The packet is complete (EOP): offloads, then out. */
static void tx_send_packet(struct e1000 *e)
{
	struct e1000_tx *t = &e->tx;
	bool tse = t->ext && (t->dcmd & E1000_TXD_CMD_TSE);
	bool ixsm = t->ext && (t->popts & E1000_TXD_POPTS_IXSM);
	bool txsm = t->ext && (t->popts & E1000_TXD_POPTS_TXSM);
	size_t len;

	if (t->bad || t->overflow || t->len < ETH_HLEN ||
	    (!tse && t->len > TX_MAX_FRAME)) {
		e->tx_errors++;
		log_ratelimited(LOG_WARN, e->name,
				"TX packet dropped (%zu bytes%s%s)", t->len,
				t->bad ? ", buffer outside RAM" : "",
				t->overflow ? ", too many buffers" : "");
		return;
	}
	if (!tse && !ixsm && !txsm && !t->legacy_ic && !t->vle) {
		tx_emit(e, t->iov, (int)t->iovcnt, t->len);
		return;
	}
	len = tx_linearise(e);
	if (tse) {
		tx_tso(e, e->tx_buf, len);
		return;
	}
	if (ixsm) {
		if (t->ipcso + 2u <= len)
			st16_be(e->tx_buf + t->ipcso, 0);
		tx_csum_insert(e->tx_buf, len, t->ipcss, t->ipcse, t->ipcso, 0);
	}
	if (txsm)
		tx_csum_insert(e->tx_buf, len, t->tucss, t->tucse, t->tucso, 0);
	if (t->legacy_ic)
		tx_csum_insert(e->tx_buf, len, t->css, 0, t->cso, 0);
	if (t->vle) {
		/* tx_emit inserts the tag only into a single buffer. */
		struct iovec iov = { e->tx_buf, len };

		tx_emit(e, &iov, 1, len);
		return;
	}
	tx_emit_linear(e, e->tx_buf, len);
}

static void tx_write_dd(struct e1000 *e, uint64_t desc_gpa)
{
	uint8_t sta = E1000_TXD_STA_DD;

	/* The ring was readable a moment ago; a failure is the guest's. */
	if (gmem_write(e->mem, desc_gpa + 12, &sta, 1))
		e->tx_errors++;
}

static void tx_packet_done(struct e1000 *e)
{
	tx_send_packet(e);
	for (unsigned i = 0; i < e->tx.nwb; i++)
		tx_write_dd(e, e->tx.wb[i]);
	e->tx.nwb = 0;
	e->tx.iovcnt = 0;
	e->tx.len = 0;
	e->tx.bad = e->tx.overflow = e->tx.legacy_ic = e->tx.vle = false;
	e->tx.ext = false;
	e->tx.popts = e->tx.dcmd = 0;
}

static void tx_add_buffer(struct e1000 *e, uint64_t addr, uint32_t len)
{
	struct e1000_tx *t = &e->tx;
	void *p;

	if (len == 0 || t->bad || t->overflow)
		return;
	if (t->iovcnt == E1000_TX_MAX_IOV ||
	    t->len + len > E1000_TX_BUF_LEN - 256) {
		t->overflow = true;
		return;
	}
	p = gmem_ptr(e->mem, addr, len);
	if (!p) {
		t->bad = true;
		return;
	}
	t->iov[t->iovcnt++] = (struct iovec){ p, len };
	t->len += len;
}

static void tx_context(struct e1000 *e, const uint8_t *d)
{
	struct e1000_tx *t = &e->tx;

	t->ipcss = d[0];
	t->ipcso = d[1];
	t->ipcse = ld16(d + 2);
	t->tucss = d[4];
	t->tucso = d[5];
	t->tucse = ld16(d + 6);
	t->paylen = ld32(d + 8) & 0xfffff;
	t->tucmd = d[11];
	t->hdr_len = d[13];
	t->mss = ld16(d + 14);
}

/*
 * Parse one descriptor copy. *eop: it ended a packet; *now: it holds no
 * buffer (context or invalid), so its status may be written back at once.
 * Returns true when it asked for a status report (RS).
 */
static bool tx_desc(struct e1000 *e, const uint8_t *d, bool *eop, bool *now)
{
	uint64_t addr = (uint64_t)ld32(d + 4) << 32 | ld32(d);
	uint32_t lower = ld32(d + 8);
	uint8_t cmd = lower >> 24;
	struct e1000_tx *t = &e->tx;

	*eop = false;
	*now = true;
	if (!(cmd & E1000_TXD_CMD_DEXT)) {
		/* Legacy (SDM 3.3.3): length 15:0, CSO 23:16, CMD 31:24. */
		tx_add_buffer(e, addr, lower & 0xffff);
		if (cmd & E1000_TXD_CMD_IC) {
			t->legacy_ic = true;
			t->cso = (lower >> 16) & 0xff;
			t->css = d[13];
		}
	} else if (((lower >> 20) & 0xf) == E1000_TXD_DTYP_CTX) {
		tx_context(e, d);
		return cmd & E1000_TXD_CMD_RS;
	} else if (((lower >> 20) & 0xf) == E1000_TXD_DTYP_DATA) {
		/* POPTS and TSE count from the first data descriptor. */
		if (!t->ext && t->iovcnt == 0 && !t->bad && !t->overflow) {
			t->ext = true;
			t->popts = d[13];
			t->dcmd = cmd;
		}
		tx_add_buffer(e, addr, lower & 0xfffff);
	} else {
		e->tx_errors++;
		log_ratelimited(LOG_WARN, e->name, "TX descriptor type %u",
				(lower >> 20) & 0xf);
		return cmd & E1000_TXD_CMD_RS;
	}
	*now = false;
	if (cmd & E1000_TXD_CMD_EOP) {
		*eop = true;
		t->vle = cmd & E1000_TXD_CMD_VLE;
		t->vlan = ld16(d + 14);
	}
	return cmd & E1000_TXD_CMD_RS;
}

void e1000_tx_process(struct e1000 *e)
{
	uint64_t base = (uint64_t)e1000_reg(e, E1000_TDBAH) << 32 |
			e1000_reg(e, E1000_TDBAL);
	uint32_t n = e1000_reg(e, E1000_TDLEN) / E1000_DESC_LEN;
	uint32_t head = e1000_reg(e, E1000_TDH), tail = e1000_reg(e, E1000_TDT);
	uint32_t causes = 0, budget = n;

	if (!(e1000_reg(e, E1000_TCTL) & E1000_TCTL_EN) || n == 0 ||
	    head == tail)
		return;
	if (head >= n || tail >= n) {
		e->tx_errors++;
		log_ratelimited(LOG_WARN, e->name,
				"TDH %u / TDT %u outside a %u-entry ring", head,
				tail, n);
		return;
	}
	while (head != tail && budget--) {
		uint64_t gpa = base + (uint64_t)head * E1000_DESC_LEN;
		uint8_t d[E1000_DESC_LEN];
		bool rs, eop, now;

		if (gmem_read(e->mem, gpa, d, sizeof(d))) {
			e->tx_errors++;
			log_ratelimited(LOG_WARN, e->name,
					"TX ring at 0x%llx is not RAM",
					(unsigned long long)base);
			break;
		}
		rs = tx_desc(e, d, &eop, &now);
		if (rs) {
			causes |= E1000_ICR_TXDW;
			/*
			 * A buffer is reported once its packet has gone (a
			 * packet may span TDT writes); the list is bounded
			 * like the packet's buffers, and an overflowing
			 * packet is dropped anyway.
			 */
			if (!now && e->tx.nwb < E1000_TX_MAX_WB)
				e->tx.wb[e->tx.nwb++] = gpa;
			else
				tx_write_dd(e, gpa);
		}
		if (eop)
			tx_packet_done(e);
		head = (head + 1) % n;
	}
	e1000_set_reg(e, E1000_TDH, head);
	if (head == tail)
		causes |= E1000_ICR_TXQE;
	if (causes)
		e1000_set_ics(e, causes);
}

void e1000_tx_reset(struct e1000 *e)
{
	memset(&e->tx, 0, sizeof(e->tx));
}
