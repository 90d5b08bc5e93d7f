// SPDX-License-Identifier: MIT
/*
 * e1000 receive (8254x SDM 3.2): the back end's rx callback, on the I/O
 * thread. A frame that passes the address filters (SDM 3.2.1: exact
 * unicast RAL/RAH, broadcast with BAM, multicast via the MTA hash, UPE/MPE
 * promiscuity) is copied into the buffers of descriptors RDH..RDT-1, as
 * many as RCTL's buffer size requires (EOP on the last), with the 4-byte
 * FCS appended unless RCTL.SECRC strips it (Linux's e1000 expects it and
 * trims 4 bytes). Not enough descriptors: -EAGAIN, and the back end keeps
 * the frame until an RDT write calls net_backend_rx_ready().
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "emul-devices/e1000/e1000-internal.h"

#define ETH_HLEN        14
#define ETH_FCS_LEN     4
#define RX_MAX_STD      1522u    /* 1518 + 802.1Q tag, without LPE */
#define RX_MAX_LPE      16384u   /* SDM 13.4.22: LPE allows up to 16 KiB */

/* IEEE 802.3 CRC-32 (reflected 0xedb88320), slicing by 8. */
static uint32_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^
					crc_tab[0][crc_tab[t - 1][i] & 0xff];
}

static uint32_t crc_update(uint32_t c, const uint8_t *p, size_t len)
{
	while (len >= 8) {
		uint32_t a = c ^ (p[0] | p[1] << 8 | p[2] << 16 |
				  (uint32_t)p[3] << 24);
		uint32_t b = p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24;

		c = crc_tab[7][a & 0xff] ^ crc_tab[6][(a >> 8) & 0xff] ^
		    crc_tab[5][(a >> 16) & 0xff] ^ crc_tab[4][a >> 24] ^
		    crc_tab[3][b & 0xff] ^ crc_tab[2][(b >> 8) & 0xff] ^
		    crc_tab[1][(b >> 16) & 0xff] ^ crc_tab[0][b >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

static uint32_t rx_buf_size(uint32_t rctl)
{
	static const uint32_t std[4] = { 2048, 1024, 512, 256 };
	static const uint32_t ext[4] = { 2048, 16384, 8192, 4096 };
	unsigned bs = (rctl >> E1000_RCTL_BSIZE_SHIFT) & 3;

	/* BSEX with BSIZE 00 is reserved; treat it as 2048. */
	return rctl & E1000_RCTL_BSEX ? ext[bs] : std[bs];
}

/* SDM 13.5.1: which 12 destination-address bits index the MTA. */
static bool rx_mta_match(struct e1000 *e, const uint8_t *dst, uint32_t rctl)
{
	static const unsigned shift[4] = { 4, 3, 2, 0 };
	unsigned mo = (rctl >> E1000_RCTL_MO_SHIFT) & 3;
	uint32_t hash = ((dst[4] >> shift[mo]) |
			 ((uint32_t)dst[5] << (8 - shift[mo]))) & 0xfff;

	return e1000_reg(e, E1000_MTA + (hash >> 5) * 4) & (1u << (hash & 31));
}

static bool rx_filter(struct e1000 *e, const uint8_t *dst, uint32_t rctl)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (!memcmp(dst, bcast, 6))
		return rctl & (E1000_RCTL_BAM | E1000_RCTL_MPE);
	if (dst[0] & 1)
		return (rctl & E1000_RCTL_MPE) || rx_mta_match(e, dst, rctl);
	if (rctl & E1000_RCTL_UPE)
		return true;
	for (unsigned i = 0; i < 16; i++) {
		uint32_t ral = e1000_reg(e, E1000_RA + i * 8);
		uint32_t rah = e1000_reg(e, E1000_RA + i * 8 + 4);

		/* AS (17:16) = 00: the entry matches destination addresses. */
		if ((rah & E1000_RAH_AV) && !(rah & 0x30000u) &&
		    dst[0] == (ral & 0xff) && dst[1] == ((ral >> 8) & 0xff) &&
		    dst[2] == ((ral >> 16) & 0xff) && dst[3] == ral >> 24 &&
		    dst[4] == (rah & 0xff) && dst[5] == ((rah >> 8) & 0xff))
			return true;
	}
	return false;
}

/* A cursor over the frame's iovec followed by its FCS. */
struct rx_src {
	const struct iovec *iov;
	int iovcnt, i;
	size_t off;
	const uint8_t *fcs;
	size_t fcs_len, fcs_off;
};

static void rx_copy(struct rx_src *s, uint8_t *dst, size_t len)
{
	while (len && s->i < s->iovcnt) {
		size_t n = s->iov[s->i].iov_len - s->off;

		if (n > len)
			n = len;
		memcpy(dst, (const uint8_t *)s->iov[s->i].iov_base + s->off, n);
		dst += n;
		len -= n;
		s->off += n;
		if (s->off == s->iov[s->i].iov_len) {
			s->i++;
			s->off = 0;
		}
	}
	if (len) {
		memcpy(dst, s->fcs + s->fcs_off, len);
		s->fcs_off += len;
	}
}

static void rx_count(struct e1000 *e, const uint8_t *dst, size_t len)
{
	e1000_stat_inc(e, E1000_GPRC, 1);
	e1000_stat_inc(e, E1000_TPR, 1);
	e1000_stat_add64(e, E1000_GORCL, len);
	e1000_stat_add64(e, E1000_TORL, len);
	if (dst[0] & 1)
		e1000_stat_inc(e, memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6) ?
			       E1000_MPRC : E1000_BPRC, 1);
	e->rx_frames++;
}

/*
 * Write one RX descriptor's status half (length, checksum, status, errors,
 * special: bytes 8-15), after the data (SDM 3.2.3).
 */
static void rx_write_desc(struct e1000 *e, uint64_t gpa, uint16_t len,
			  uint8_t status, uint8_t errors)
{
	uint8_t wb[8] = { len & 0xff, len >> 8, 0, 0, status, errors, 0, 0 };

	/* The guest polls DD: the buffer must be visible first. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	gmem_write(e->mem, gpa + 8, wb, sizeof(wb));
}

/* The FCS of the frame, least significant byte first on the wire. */
static void rx_fcs(const struct iovec *iov, int iovcnt, uint8_t fcs[4])
{
	uint32_t c = ~0u;

	pthread_once(&crc_once, crc_init);
	for (int i = 0; i < iovcnt; i++)
		c = crc_update(c, iov[i].iov_base, iov[i].iov_len);
	c = ~c;
	memcpy(fcs, &c, 4);
}

/*
 * Copy total bytes into the descriptors from *head on (the caller checked
 * there are enough). false when a buffer was not RAM: that descriptor is
 * reported with RXE and the rest of the frame is dropped.
 */
static bool rx_fill(struct e1000 *e, struct rx_src *src, size_t total,
		    uint32_t bsize, uint32_t *head)
{
	uint64_t base = (uint64_t)e1000_reg(e, E1000_RDBAH) << 32 |
			e1000_reg(e, E1000_RDBAL);
	uint32_t n = e1000_reg(e, E1000_RDLEN) / E1000_DESC_LEN;
	size_t pos = 0;

	while (pos < total) {
		uint64_t gpa = base + (uint64_t)*head * E1000_DESC_LEN, addr;
		uint32_t chunk = (uint32_t)(total - pos < bsize ? total - pos : bsize);
		bool last = pos + chunk == total;
		uint8_t *buf;

		if (gmem_read(e->mem, gpa, &addr, sizeof(addr)))
			return false;
		*head = (*head + 1) % n;
		buf = gmem_ptr(e->mem, addr, chunk);
		if (!buf) {
			rx_write_desc(e, gpa, 0, E1000_RXD_STA_DD |
				      E1000_RXD_STA_EOP | E1000_RXD_STA_IXSM,
				      E1000_RXD_ERR_RXE);
			log_ratelimited(LOG_WARN, e->name,
					"RX buffer 0x%llx is not RAM",
					(unsigned long long)addr);
			return false;
		}
		rx_copy(src, buf, chunk);
		/* IXSM: no checksum was verified, the driver checks. */
		rx_write_desc(e, gpa, (uint16_t)chunk, E1000_RXD_STA_DD |
			      E1000_RXD_STA_IXSM | (last ? E1000_RXD_STA_EOP : 0),
			      0);
		pos += chunk;
	}
	return true;
}

static int rx_locked(struct e1000 *e, const struct iovec *iov, int iovcnt,
		     size_t len)
{
	uint32_t rctl = e1000_reg(e, E1000_RCTL);
	uint32_t n = e1000_reg(e, E1000_RDLEN) / E1000_DESC_LEN;
	uint32_t head = e1000_reg(e, E1000_RDH), tail = e1000_reg(e, E1000_RDT);
	uint32_t bsize = rx_buf_size(rctl), need, avail, causes = E1000_ICR_RXT0;
	uint8_t dst[6], fcs[ETH_FCS_LEN];
	struct rx_src src = { .iov = iov, .iovcnt = iovcnt, .fcs = fcs };
	size_t total;
	bool ok;

	if (!(rctl & E1000_RCTL_EN) || len < ETH_HLEN)
		goto drop;
	if (len > ((rctl & E1000_RCTL_LPE) ? RX_MAX_LPE : RX_MAX_STD)) {
		e1000_stat_inc(e, E1000_ROC, 1);
		goto drop;
	}
	rx_copy(&(struct rx_src){ .iov = iov, .iovcnt = iovcnt }, dst, 6);
	if (!rx_filter(e, dst, rctl))
		goto drop;
	src.fcs_len = rctl & E1000_RCTL_SECRC ? 0 : ETH_FCS_LEN;
	total = len + src.fcs_len;
	need = (uint32_t)((total + bsize - 1) / bsize);
	/* A ring that can never hold the frame would stall us for good. */
	if (n == 0 || head >= n || tail >= n || need > n - 1)
		goto drop_bad_ring;
	avail = (tail + n - head) % n;
	if (avail < need) {
		e1000_stat_inc(e, E1000_RNBC, 1);
		return -EAGAIN;
	}
	if (src.fcs_len)
		rx_fcs(iov, iovcnt, fcs);
	ok = rx_fill(e, &src, total, bsize, &head);
	e1000_set_reg(e, E1000_RDH, head);
	if (ok)
		rx_count(e, dst, total);
	else
		e->rx_dropped++;
	/* SDM 13.4.22 RDMTS: free descriptors at 1/2, 1/4 or 1/8 of the ring. */
	avail = (tail + n - head) % n;
	if (avail <= n >> (1 + ((rctl >> E1000_RCTL_RDMTS_SHIFT) & 3)))
		causes |= E1000_ICR_RXDMT0;
	e1000_set_ics(e, causes);
	return 0;

drop_bad_ring:
	log_ratelimited(LOG_WARN, e->name,
			"RX ring unusable (RDLEN %u, RDH %u, RDT %u): dropped",
			e1000_reg(e, E1000_RDLEN), head, tail);
drop:
	e->rx_dropped++;
	return 0;
}

int e1000_rx(void *opaque, const struct iovec *iov, int iovcnt, size_t len)
{
	struct e1000 *e = opaque;
	int ret;

	pthread_mutex_lock(&e->lock);
	ret = rx_locked(e, iov, iovcnt, len);
	pthread_mutex_unlock(&e->lock);
	return ret;
}
