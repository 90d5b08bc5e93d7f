// SPDX-License-Identifier: MIT
/*
 * e1000 data paths through a loopback back end: TX descriptors in, RX
 * descriptors out, with offloads, ring wrap, back-pressure and a hostile
 * driver.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>

#include "tests/unit/emul-devices/e1000/e1000_test_util.h"

#define RCTL_STD (E1000_RCTL_BAM | E1000_RCTL_SECRC) /* 2 KiB buffers */
#define CMD_STD  (E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS)

static uint8_t rxbuf[65536];

static uint32_t seq_at(const uint8_t *f)
{
	uint32_t s;

	memcpy(&s, f + 14, 4);
	return s;
}

/* RDH and ICR are updated just after the DD bits a driver polls. */
static void wait_rdh(struct tdev *t, uint32_t want)
{
	uint64_t end = t_ms() + 2000;

	while (rd(t, E1000_RDH) != want && t_ms() < end)
		usleep(100);
	ck_assert_uint_eq(rd(t, E1000_RDH), want);
}

START_TEST(test_tx_loopback_rx)
{
	struct tdev t;
	struct e1000_stats s;
	uint8_t f[1514];
	uint32_t idx[4], icr;

	t_open(&t, "loopback");
	t_rx_setup(&t, 16, 15, RCTL_STD);
	t_tx_setup(&t, 8);
	for (uint32_t i = 0; i < 4; i++) {
		t_frame(f, 60 + i * 400, i % 2 ? t_mac : (const uint8_t *)
			"\xff\xff\xff\xff\xff\xff", i);
		idx[i] = t_tx_queue(&t, f, 60 + i * 400, CMD_STD);
	}
	t_tx_kick(&t);
	/* TX is synchronous with the TDT write: DD, TDH and ICR at once. */
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(t_tx_status(&t, idx[i]) & E1000_TXD_STA_DD,
				  E1000_TXD_STA_DD);
	ck_assert_uint_eq(rd(&t, E1000_TDH), 4);
	/* RX may already have run on the I/O thread: keep what ICR said. */
	icr = rd(&t, E1000_ICR);
	ck_assert(icr & E1000_ICR_TXDW);
	for (uint32_t i = 0; i < 4; i++) {
		long n = t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000, true, NULL);

		ck_assert_int_eq(n, 60 + i * 400);
		t_frame(f, n, i % 2 ? t_mac : (const uint8_t *)
			"\xff\xff\xff\xff\xff\xff", i);
		ck_assert_mem_eq(rxbuf, f, n);
	}
	wait_rdh(&t, 4);
	icr |= rd(&t, E1000_ICR);
	ck_assert(icr & E1000_ICR_RXT0);
	ck_assert_uint_eq(rd(&t, E1000_GPRC), 4);
	ck_assert_uint_eq(rd(&t, E1000_BPRC), 2);
	e1000_get_stats(t.e, &s);
	ck_assert_uint_eq(s.tx_frames, 4);
	ck_assert_uint_eq(s.rx_frames, 4);
	ck_assert_uint_eq(s.tx_errors, 0);
	t_close(&t);
}
END_TEST

START_TEST(test_rings_wrap)
{
	struct tdev t;
	uint8_t f[200];
	uint32_t seq = 0, got = 0;

	t_open(&t, "loopback");
	t_rx_setup(&t, 8, 7, RCTL_STD);
	t_tx_setup(&t, 8);
	/* 40 frames in batches of 5 through 8-entry rings: both wrap. */
	for (int batch = 0; batch < 8; batch++) {
		for (int i = 0; i < 5; i++) {
			t_frame(f, sizeof(f), t_mac, seq++);
			t_tx_queue(&t, f, sizeof(f), CMD_STD);
		}
		t_tx_kick(&t);
		ck_assert_uint_eq(rd(&t, E1000_TDH), t.tx_tail);
		for (int i = 0; i < 5; i++) {
			long n = t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000,
					   true, NULL);
			uint32_t s;

			ck_assert_int_eq(n, sizeof(f));
			memcpy(&s, rxbuf + 14, 4);
			ck_assert_uint_eq(s, got++);
		}
	}
	ck_assert_uint_eq(got, 40);
	t_close(&t);
}
END_TEST

START_TEST(test_rx_backpressure)
{
	struct tdev t;
	struct e1000_stats s;
	uint32_t rnbc = 0;
	uint8_t f[300];

	t_open(&t, "loopback");
	t_rx_setup(&t, 16, 0, RCTL_STD); /* no descriptors posted */
	t_tx_setup(&t, 8);
	for (uint32_t i = 0; i < 5; i++) {
		t_frame(f, sizeof(f), t_mac, i);
		t_tx_queue(&t, f, sizeof(f), CMD_STD);
	}
	t_tx_kick(&t);
	/* The I/O thread finds no descriptor (RNBC, clear on read, counts
	 * it); a loaded host may take a while to get there: wait, bounded. */
	for (int ms = 0; ms < 5000 && !rnbc; ms += 10) {
		usleep(10000);
		rnbc += rd(&t, E1000_RNBC);
	}
	ck_assert_uint_ge(rnbc, 1);
	ck_assert_uint_eq(rd(&t, E1000_RDH), 0);
	e1000_get_stats(t.e, &s);
	ck_assert_uint_eq(s.rx_frames, 0);
	ck_assert_uint_eq(s.rx_dropped, 0);
	/* Two descriptors: two frames, then stall again. */
	t.rx_tail = 2;
	wr(&t, E1000_RDT, 2);
	for (uint32_t i = 0; i < 2; i++) {
		ck_assert_int_eq(t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000,
					   false, NULL), sizeof(f));
		ck_assert_uint_eq(seq_at(rxbuf), i);
	}
	wait_rdh(&t, 2);
	usleep(20000);
	ck_assert_uint_eq(rd(&t, E1000_RDH), 2);
	/* Plenty: the rest arrives, in order, nothing lost. */
	t.rx_tail = 15;
	wr(&t, E1000_RDT, 15);
	for (uint32_t i = 2; i < 5; i++) {
		ck_assert_int_eq(t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000,
					   false, NULL), sizeof(f));
		ck_assert_uint_eq(seq_at(rxbuf), i);
	}
	e1000_get_stats(t.e, &s);
	ck_assert_uint_eq(s.rx_frames, 5);
	ck_assert_uint_eq(s.rx_dropped, 0);
	t_close(&t);
}
END_TEST

static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
	uint32_t c = ~0u;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

START_TEST(test_rx_fcs_and_multi_descriptor)
{
	struct tdev t;
	uint8_t f[1000];
	unsigned nd;
	uint32_t crc;
	long n;

	t_open(&t, "loopback");
	/* 256-byte buffers (BSIZE 11b), FCS kept (no SECRC). */
	t_rx_setup(&t, 16, 15, E1000_RCTL_BAM | 3u << E1000_RCTL_BSIZE_SHIFT);
	t_tx_setup(&t, 8);
	t_frame(f, sizeof(f), t_mac, 77);
	t_tx_queue(&t, f, sizeof(f), CMD_STD);
	t_tx_kick(&t);
	n = t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000, true, &nd);
	ck_assert_int_eq(n, sizeof(f) + 4);
	ck_assert_uint_eq(nd, 4); /* 1004 bytes in 256-byte buffers */
	ck_assert_mem_eq(rxbuf, f, sizeof(f));
	crc = crc32_ref(f, sizeof(f));
	ck_assert_mem_eq(rxbuf + sizeof(f), &crc, 4);
	wait_rdh(&t, 4);
	t_close(&t);
}
END_TEST

START_TEST(test_rx_filters)
{
	static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x07 };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	struct tdev t;
	struct e1000_stats s;
	uint8_t f[64];
	uint32_t hash;

	t_open(&t, "loopback");
	t_rx_setup(&t, 16, 15, E1000_RCTL_SECRC); /* no BAM */
	t_tx_setup(&t, 16);
	t_frame(f, sizeof(f), other, 1);
	t_tx_queue(&t, f, sizeof(f), CMD_STD);
	t_frame(f, sizeof(f), (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 2);
	t_tx_queue(&t, f, sizeof(f), CMD_STD);
	t_frame(f, sizeof(f), mcast, 3);
	t_tx_queue(&t, f, sizeof(f), CMD_STD);
	t_frame(f, sizeof(f), t_mac, 4); /* the only one accepted */
	t_tx_queue(&t, f, sizeof(f), CMD_STD);
	t_tx_kick(&t);
	ck_assert_int_eq(t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000, true, NULL),
			 64);
	ck_assert_uint_eq(seq_at(rxbuf), 4);
	e1000_get_stats(t.e, &s);
	ck_assert_uint_eq(s.rx_dropped, 3);

	/* MTA hash (MO = 00: address bits 47:36) admits the multicast. */
	hash = (mcast[4] >> 4 | (uint32_t)mcast[5] << 4) & 0xfff;
	wr(&t, E1000_MTA + (hash >> 5) * 4, 1u << (hash & 31));
	t_frame(f, sizeof(f), mcast, 5);
	t_tx_queue(&t, f, sizeof(f), CMD_STD);
	/* UPE admits any unicast. */
	t_tx_kick(&t);
	ck_assert_int_eq(t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000, true, NULL),
			 64);
	ck_assert_uint_eq(seq_at(rxbuf), 5);
	wr(&t, E1000_RCTL, rd(&t, E1000_RCTL) | E1000_RCTL_UPE);
	t_frame(f, sizeof(f), other, 6);
	t_tx_queue(&t, f, sizeof(f), CMD_STD);
	t_tx_kick(&t);
	ck_assert_int_eq(t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000, true, NULL),
			 64);
	ck_assert_uint_eq(seq_at(rxbuf), 6);
	ck_assert_uint_eq(rd(&t, E1000_MPRC), 1);
	t_close(&t);
}
END_TEST

/* ---- offloads ---- */

static uint16_t csum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Ethernet + IPv4 + TCP (no options) with payload; checksums left as a
 * driver leaves them for offload (IP 0, TCP = pseudo-header sum). */
static size_t build_tcp(uint8_t *p, size_t payload, bool tso)
{
	size_t len = 14 + 20 + 20 + payload;
	uint8_t *ip = p + 14, *tcp = ip + 20;
	uint32_t ps;

	memset(p, 0, 54);
	memcpy(p, t_mac, 6);
	memcpy(p + 6, "\x52\x54\x00\x01\x02\x03", 6);
	p[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = tso ? 0 : (uint8_t)((20 + 20 + payload) >> 8);
	ip[3] = tso ? 0 : (uint8_t)(20 + 20 + payload);
	ip[4] = 0x12; ip[5] = 0x34;              /* id */
	ip[8] = 64; ip[9] = 6;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	tcp[0] = 0x30; tcp[1] = 0x39; tcp[2] = 0x00; tcp[3] = 0x50;
	memcpy(tcp + 4, "\x10\x20\x30\x40", 4);   /* seq */
	tcp[12] = 0x50;
	tcp[13] = 0x18 | (tso ? 0x01 : 0);       /* ACK|PSH (+FIN) */
	tcp[14] = 0xff; tcp[15] = 0xff;
	for (size_t i = 0; i < payload; i++)
		tcp[20 + i] = (uint8_t)(i * 7 + 3);
	/* Pseudo header: addresses, protocol, and length unless TSO. */
	ps = csum16(ip + 12, 8, 6 + (tso ? 0 : 20 + payload));
	tcp[16] = ps >> 8;
	tcp[17] = ps & 0xff;
	return len;
}

static void queue_ctx(struct tdev *t, bool tse, uint32_t paylen, uint16_t mss)
{
	uint8_t *d = gp(t, T_TX_RING + t->tx_tail * 16, 16);
	uint32_t lower = (paylen & 0xfffff) | 0u << 20 |
			 (uint32_t)(E1000_TXD_CMD_DEXT |
				    (tse ? E1000_TXD_CMD_TSE : 0) |
				    E1000_TUCMD_IP | E1000_TUCMD_TCP) << 24;

	d[0] = 14;                /* IPCSS */
	d[1] = 14 + 10;           /* IPCSO */
	d[2] = 14 + 19; d[3] = 0; /* IPCSE */
	d[4] = 34;                /* TUCSS */
	d[5] = 34 + 16;           /* TUCSO */
	d[6] = 0; d[7] = 0;       /* TUCSE: end of packet */
	memcpy(d + 8, &lower, 4);
	d[12] = 0;
	d[13] = 54;               /* HDRLEN */
	d[14] = mss & 0xff;
	d[15] = mss >> 8;
	t->tx_tail = (t->tx_tail + 1) % t->tx_n;
}

/* The packet as data descriptors of at most `chunk` bytes each. */
static void queue_data(struct tdev *t, const uint8_t *pkt, size_t len,
		       size_t chunk, bool tse)
{
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		uint64_t buf = T_TX_BUFS + (uint64_t)t->tx_tail * T_TX_BUF_SZ;
		uint8_t *d = gp(t, T_TX_RING + t->tx_tail * 16, 16);
		uint8_t dcmd = E1000_TXD_CMD_DEXT | E1000_TXD_CMD_IFCS |
			       (tse ? E1000_TXD_CMD_TSE : 0) |
			       (off + n == len ? E1000_TXD_CMD_EOP |
						 E1000_TXD_CMD_RS : 0);
		uint32_t lower = (uint32_t)n | 1u << 20 | (uint32_t)dcmd << 24;

		memcpy(gp(t, buf, n), pkt + off, n);
		memcpy(d, &buf, 8);
		memcpy(d + 8, &lower, 4);
		d[12] = 0;
		d[13] = E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM;
		d[14] = d[15] = 0;
		t->tx_tail = (t->tx_tail + 1) % t->tx_n;
	}
}

static void check_tcp_csums(const uint8_t *p, size_t len)
{
	const uint8_t *ip = p + 14;
	size_t l4 = len - 34;

	ck_assert_uint_eq(csum16(ip, 20, 0), 0xffff);
	ck_assert_uint_eq((size_t)(ip[2] << 8 | ip[3]), len - 14);
	ck_assert_uint_eq(csum16(ip + 34 - 14, l4,
				 csum16(ip + 12, 8, 6 + (uint32_t)l4)), 0xffff);
}

START_TEST(test_tx_checksum_offload)
{
	struct tdev t;
	uint8_t pkt[1514];
	size_t len = build_tcp(pkt, 1000, false);
	long n;

	t_open(&t, "loopback");
	t_rx_setup(&t, 16, 15, RCTL_STD);
	t_tx_setup(&t, 16);
	queue_ctx(&t, false, 0, 0);
	queue_data(&t, pkt, len, 300, false); /* split over 4 descriptors */
	t_tx_kick(&t);
	n = t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000, true, NULL);
	ck_assert_int_eq(n, len);
	check_tcp_csums(rxbuf, n);
	/* Payload untouched. */
	ck_assert_mem_eq(rxbuf + 54, pkt + 54, len - 54);
	t_close(&t);
}
END_TEST

START_TEST(test_tx_tso)
{
	struct tdev t;
	static uint8_t pkt[54 + 4000];
	size_t len = build_tcp(pkt, 4000, true);
	uint32_t seq0 = 0x10203040;

	t_open(&t, "loopback");
	t_rx_setup(&t, 16, 15, RCTL_STD);
	t_tx_setup(&t, 32);
	queue_ctx(&t, true, 4000, 1460);
	queue_data(&t, pkt, len, 4096, true);
	t_tx_kick(&t);
	/* 1460 + 1460 + 1080. */
	for (int i = 0; i < 3; i++) {
		size_t want = 54 + (i < 2 ? 1460 : 1080);
		long n = t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000, true, NULL);
		uint32_t seq;

		ck_assert_int_eq(n, want);
		check_tcp_csums(rxbuf, n);
		ck_assert_uint_eq(rxbuf[14 + 4] << 8 | rxbuf[14 + 5],
				  0x1234 + i);
		memcpy(&seq, rxbuf + 34 + 4, 4);
		ck_assert_uint_eq(ntohl(seq), seq0 + 1460u * i);
		/* FIN/PSH only on the last segment. */
		ck_assert_uint_eq(rxbuf[34 + 13], i < 2 ? 0x10 : 0x19);
		ck_assert_mem_eq(rxbuf + 54, pkt + 54 + 1460 * i, n - 54);
	}
	ck_assert_uint_eq(rd(&t, E1000_TSCTC), 1);
	ck_assert_uint_eq(rd(&t, E1000_GPTC), 3);
	t_close(&t);
}
END_TEST

/* ---- hostile driver ---- */

START_TEST(test_hostile_tx_ring)
{
	struct tdev t;
	struct e1000_stats s;
	uint8_t f[100];
	uint8_t *d;
	uint64_t bad;
	uint32_t lower;

	t_open(&t, "loopback");
	t_rx_setup(&t, 16, 15, RCTL_STD);
	t_tx_setup(&t, 8);
	/* TDT beyond the ring: nothing processed, nothing hangs. */
	wr(&t, E1000_TDT, 5000);
	ck_assert_uint_eq(rd(&t, E1000_TDH), 0);
	/* Huge TDLEN with the ring running past the end of RAM. */
	wr(&t, E1000_TDBAL, (uint32_t)(T_RAM - 4096));
	wr(&t, E1000_TDLEN, 0xfff80);
	wr(&t, E1000_TDT, 0xfff0);
	/* A ring entirely outside RAM. */
	wr(&t, E1000_TDBAH, 0x7fff);
	wr(&t, E1000_TDT, 100);
	e1000_get_stats(t.e, &s);
	ck_assert_uint_eq(s.tx_errors, 3);
	/* Descriptors pointing outside RAM, and one with no EOP ever:
	 * every TDT write does at most a ring's worth of work. */
	t_tx_setup(&t, 8);
	for (int i = 0; i < 7; i++) {
		d = gp(&t, T_TX_RING + i * 16, 16);
		bad = i < 3 ? 0xfffffffff000ull : T_TX_BUFS;
		lower = 0xffff | (uint32_t)(i < 3 ? CMD_STD :
					    E1000_TXD_CMD_RS) << 24;
		memcpy(d, &bad, 8);
		memcpy(d + 8, &lower, 4);
	}
	wr(&t, E1000_TDT, 7);
	ck_assert_uint_eq(rd(&t, E1000_TDH), 7);
	/* Unfinished packet: its RS descriptors wait for the EOP. */
	e1000_get_stats(t.e, &s);
	ck_assert_uint_eq(s.tx_errors, 6);
	ck_assert_uint_eq(s.tx_frames, 0);
	/* The bad packets' RS descriptors were written back, the open
	 * packet's were not. */
	ck_assert_uint_eq(t_tx_status(&t, 0), E1000_TXD_STA_DD);
	ck_assert_uint_eq(t_tx_status(&t, 2), E1000_TXD_STA_DD);
	ck_assert_uint_eq(t_tx_status(&t, 3), 0);
	/* Bad descriptor type (DEXT with DTYP 0xf). */
	d = gp(&t, T_TX_RING + 7 * 16, 16);
	lower = 100 | 0xfu << 20 | (uint32_t)(E1000_TXD_CMD_DEXT | CMD_STD) << 24;
	memcpy(d + 8, &lower, 4);
	wr(&t, E1000_TDT, 0);
	ck_assert_uint_eq(rd(&t, E1000_TDH), 0);

	/* Reset, and the device works again. */
	wr(&t, E1000_CTRL, E1000_CTRL_RST);
	t_rx_setup(&t, 16, 15, RCTL_STD);
	t_tx_setup(&t, 8);
	t_frame(f, sizeof(f), t_mac, 9);
	t_tx_queue(&t, f, sizeof(f), CMD_STD);
	t_tx_kick(&t);
	ck_assert_int_eq(t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000, true, NULL),
			 sizeof(f));
	ck_assert_mem_eq(rxbuf, f, sizeof(f));
	t_close(&t);
}
END_TEST

START_TEST(test_hostile_rx_ring)
{
	struct tdev t;
	struct e1000_stats s;
	uint8_t f[100], *d;
	uint64_t bad = 0xfffffffff000ull;

	t_open(&t, "loopback");
	t_tx_setup(&t, 8);
	/* RDT beyond the ring: frames dropped, not stuck, not crashing. */
	t_rx_setup(&t, 8, 7, RCTL_STD);
	wr(&t, E1000_RDT, 1000);
	t_frame(f, sizeof(f), t_mac, 1);
	t_tx_queue(&t, f, sizeof(f), CMD_STD);
	t_tx_kick(&t);
	/* The I/O thread drops it; a loaded host may take a while. */
	e1000_get_stats(t.e, &s);
	for (int ms = 0; ms < 5000 && !s.rx_dropped; ms += 10) {
		usleep(10000);
		e1000_get_stats(t.e, &s);
	}
	ck_assert_uint_eq(s.rx_dropped, 1);
	/* A buffer outside RAM: error status written, frame dropped. */
	t_rx_setup(&t, 8, 7, RCTL_STD);
	d = gp(&t, T_RX_RING, 16);
	memcpy(d, &bad, 8);
	t_tx_queue(&t, f, sizeof(f), CMD_STD);
	t_tx_kick(&t);
	ck_assert_int_eq(t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000, true, NULL),
			 0);
	ck_assert_uint_eq(d[13], E1000_RXD_ERR_RXE);
	/* The next frame lands in the next descriptor. */
	t_frame(f, sizeof(f), t_mac, 2);
	t_tx_queue(&t, f, sizeof(f), CMD_STD);
	t_tx_kick(&t);
	ck_assert_int_eq(t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000, true, NULL),
			 sizeof(f));
	ck_assert_mem_eq(rxbuf, f, sizeof(f));
	/* A ring too small for a frame: dropped rather than stalled. */
	wr(&t, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC |
	   E1000_RCTL_LPE | 3u << E1000_RCTL_BSIZE_SHIFT);
	{
		/* 3000 bytes need 12 256-byte buffers; 8 entries hold 7. */
		static uint8_t big[3000];

		t_frame(big, sizeof(big), t_mac, 3);
		t_tx_queue(&t, big, sizeof(big), CMD_STD);
		t_frame(f, sizeof(f), t_mac, 4);
		t_tx_queue(&t, f, sizeof(f), CMD_STD);
		t_tx_kick(&t);
	}
	ck_assert_int_eq(t_rx_wait(&t, rxbuf, sizeof(rxbuf), 2000, true, NULL),
			 sizeof(f));
	ck_assert_mem_eq(rxbuf, f, sizeof(f));
	e1000_get_stats(t.e, &s);
	ck_assert_uint_eq(s.rx_dropped, 3);
	t_close(&t);
}
END_TEST

static Suite *data_suite(void)
{
	Suite *s = suite_create("e1000-data");
	TCase *tc = tcase_create("data");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_tx_loopback_rx);
	tcase_add_test(tc, test_rings_wrap);
	tcase_add_test(tc, test_rx_backpressure);
	tcase_add_test(tc, test_rx_fcs_and_multi_descriptor);
	tcase_add_test(tc, test_rx_filters);
	tcase_add_test(tc, test_tx_checksum_offload);
	tcase_add_test(tc, test_tx_tso);
	tcase_add_test(tc, test_hostile_tx_ring);
	tcase_add_test(tc, test_hostile_rx_ring);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(data_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
