/* SPDX-License-Identifier: MIT */
/*
 * Network tests over struct kit_nic (virtio-net or e1000):
 *   net-loopback  send `count` frames of `size` bytes and receive them back
 *                 (the VMM's loopback back end, or QEMU's UDP socket looped
 *                 to itself); every byte, the count and the order checked;
 *   net-tx        transmit only (a null back end), completions counted.
 *
 * Test frame (size bytes, 60..1514): dst = own MAC or broadcast, src = own
 * MAC, EtherType 0x88b5 (IEEE 802 local experimental), "iokt", the
 * sequence number and the size (little endian), then a pattern that
 * depends on the sequence number, so a frame delivered twice, truncated,
 * or with its header or payload damaged is caught.
 *
 * allow_loss=1 (net-loopback) is for a back end that restarts mid-run
 * (vhost-user reconnection): frames may be lost, never duplicated,
 * damaged or reordered. In-flight frames with no reply for loss_ms are
 * written off so sending goes on (not after the window: the last frames
 * get timeout_ms), and the run passes only if the last frame sent came
 * back (traffic resumed). duration_ms=N stops sending after N ms (count
 * is then an upper bound), so a test can outlast a
 * back-end restart whatever the packet rate.
 *
 * pingpong=1 (net-loopback) keeps one frame in flight (batch=1): each frame
 * is timed from just before it is posted to its arrival back, and the
 * RESULT line adds the p50/p99 of those round trips (lat_* keys, lat.c).
 *
 * Two guests on one switch: net-echo sends every frame of the test's
 * ethertype back to its sender (addresses swapped), and net-loopback
 * peer=1 talks to such a guest instead of to a loopback back end. Its
 * warm-up is a broadcast, repeated until an echo arrives; the echo's
 * source is the peer's MAC, and every test frame is then addressed to the
 * peer (dst=self) or broadcast, and must come back from the peer to us.
 */
#include "guest/lat.h"
#include "guest/nic.h"

#define NET_ETHERTYPE_HI 0x88
#define NET_ETHERTYPE_LO 0xb5
#define NET_MAGIC 0x746b6f69u /* "iokt" */
#define NET_MAGIC_WARMUP 0x776b6f69u /* "iokw" */
#define NET_WARMUP_MIN_MS 3000
#define NET_HDR_LEN 24
#define NET_PAT_LEN (KIT_NIC_BUF + 256)
#define NET_MAX_COUNT 100000000ULL
#define NET_DEFAULT_COUNT 10000
#define NET_DEFAULT_SIZE 64
#define NET_DEFAULT_TIMEOUT_MS 3000
#define NET_PEER_RETRY_MS 100
#define NET_DEFAULT_PEER_WAIT_MS 30000

enum net_dst { NET_DST_SELF, NET_DST_BCAST, NET_DST_MIX };

typedef uint64_t __attribute__((may_alias, aligned(1))) net_u64u;
typedef uint32_t __attribute__((may_alias, aligned(1))) net_u32u;
typedef uint16_t __attribute__((may_alias, aligned(1))) net_u16u;

struct net_params {
	uint32_t magic;
	uint64_t count;
	uint32_t size;
	uint32_t batch;
	uint64_t timeout_ms;
	enum net_dst dst;
	bool any_order;
	bool skip_foreign; /* ignore frames that are not test frames at all */
	bool allow_loss;
	uint64_t loss_ms;     /* allow_loss: write off after this long */
	uint64_t duration_ms; /* stop sending after this long (0: count) */
	bool peer;            /* frames go to a net-echo guest, not a loopback */
	bool pingpong;        /* one frame in flight, each round trip timed */
	uint8_t peer_mac[6];  /* peer: learned from the warm-up echo */
	uint64_t peer_wait_ms;
};

struct net_stats {
	uint64_t sent, received, ok, corrupted, dup, reordered, next_seq;
	uint64_t written_off; /* allow_loss: frames given up, not received */
	uint64_t wo_mark;     /* every frame below it was received or given up */
	uint64_t t0, t_last;
	uint8_t *seen; /* bitmap of sequence numbers received intact */
};

static uint8_t net_pat[NET_PAT_LEN];
static bool net_pat_ready;

static void net_pat_init(void)
{
	uint32_t x = 0x9e3779b9u;

	if (net_pat_ready)
		return;
	for (unsigned int i = 0; i < NET_PAT_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		net_pat[i] = (uint8_t)x;
	}
	net_pat_ready = true;
}

static const uint8_t *net_pat_for(uint64_t seq)
{
	return net_pat + (((uint32_t)seq * 167u + 13u) & 255u);
}

static bool net_is_bcast(enum net_dst dst, uint64_t seq)
{
	return dst == NET_DST_BCAST || (dst == NET_DST_MIX && (seq & 1));
}

static void net_build(uint8_t *f, const struct kit_nic *n, uint64_t seq,
		      const struct net_params *p)
{
	uint32_t size = p->size;
	enum net_dst dst = p->dst;

	if (net_is_bcast(dst, seq))
		memset(f, 0xff, 6);
	else
		memcpy(f, p->peer ? p->peer_mac : n->mac, 6);
	memcpy(f + 6, n->mac, 6);
	f[12] = NET_ETHERTYPE_HI;
	f[13] = NET_ETHERTYPE_LO;
	*(net_u32u *)(f + 14) = p->magic;
	*(net_u32u *)(f + 18) = (uint32_t)seq;
	*(net_u16u *)(f + 22) = (uint16_t)size;
	memcpy(f + NET_HDR_LEN, net_pat_for(seq), size - NET_HDR_LEN);
}

static bool net_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		if (*(const net_u64u *)(a + i) != *(const net_u64u *)(b + i))
			return false;
	for (; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* 0 and the frame's sequence number if every byte is as sent, else -1. */
static int net_check(const uint8_t *f, uint32_t len, const struct kit_nic *n,
		     const struct net_params *p, uint64_t *seq_out)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint64_t seq;
	const uint8_t *dst;

	if (len != p->size || *(const net_u32u *)(f + 14) != p->magic ||
	    *(const net_u16u *)(f + 22) != p->size ||
	    f[12] != NET_ETHERTYPE_HI || f[13] != NET_ETHERTYPE_LO ||
	    !net_equal(f + 6, p->peer ? p->peer_mac : n->mac, 6))
		return -1;
	seq = *(const net_u32u *)(f + 18);
	/* An echo always comes back to us, whatever we sent it to. */
	dst = p->peer || !net_is_bcast(p->dst, seq) ? n->mac : bcast;
	if (seq >= p->count || !net_equal(f, dst, 6) ||
	    !net_equal(f + NET_HDR_LEN, net_pat_for(seq),
		       p->size - NET_HDR_LEN))
		return -1;
	*seq_out = seq;
	return 0;
}

static void net_account(struct net_stats *s, const struct net_params *p,
			const uint8_t *f, uint32_t len,
			const struct kit_nic *n)
{
	uint64_t seq;

	/* Echoes of repeated warm-up broadcasts may trail in. */
	if (p->peer && len >= NET_HDR_LEN &&
	    *(const net_u32u *)(f + 14) == NET_MAGIC_WARMUP)
		return;
	if (p->skip_foreign && (len < NET_HDR_LEN ||
				f[12] != NET_ETHERTYPE_HI ||
				f[13] != NET_ETHERTYPE_LO ||
				*(const net_u32u *)(f + 14) != p->magic))
		return;
	s->received++;
	if (net_check(f, len, n, p, &seq) < 0) {
		s->corrupted++;
		return;
	}
	if (s->seen[seq >> 3] & (1u << (seq & 7))) {
		s->dup++;
		return;
	}
	s->seen[seq >> 3] |= (uint8_t)(1u << (seq & 7));
	if (p->allow_loss) {
		/* A gap is a loss; only an older frame is out of order. */
		if (seq < s->next_seq)
			s->reordered++;
		else
			s->next_seq = seq + 1;
		/* A frame given up came after all: not lost, not in flight. */
		if (seq < s->wo_mark && s->written_off)
			s->written_off--;
	} else {
		if (seq != s->next_seq)
			s->reordered++;
		s->next_seq = seq + 1;
	}
	s->ok++;
}

/* Frames sent and neither received nor written off. */
static uint64_t net_in_flight(const struct net_stats *s)
{
	uint64_t done = s->received + s->written_off;

	return done < s->sent ? s->sent - done : 0;
}

/* Post frames while fewer than `batch` are in flight; one doorbell. */
static void net_fill(struct kit_nic *n, const struct net_params *p,
		     struct net_stats *s, uint64_t target)
{
	while (s->sent < target && net_in_flight(s) < p->batch) {
		uint8_t *buf = n->ops->tx_buf(n);

		if (!buf)
			break;
		net_build(buf, n, s->sent, p);
		n->ops->tx_post(n, p->size);
		s->sent++;
	}
	n->ops->tx_flush(n);
}

static unsigned int net_drain(struct kit_nic *n, const struct net_params *p,
			      struct net_stats *s)
{
	const uint8_t *f;
	unsigned int got = 0;
	uint32_t len;

	while ((f = n->ops->rx(n, &len))) {
		net_account(s, p, f, len, n);
		n->ops->rx_done(n);
		got++;
	}
	if (got) {
		n->ops->rx_flush(n);
		s->t_last = kit_rdtsc();
	}
	return got;
}

static void net_run(struct kit_nic *n, const struct net_params *p,
		    struct net_stats *s)
{
	uint64_t limit = kit_ms_to_cycles(p->timeout_ms), idle, now;
	uint64_t loss = kit_ms_to_cycles(p->loss_ms);
	uint64_t end = kit_ms_to_cycles(p->duration_ms);
	uint64_t target = p->count;
	bool draining = false;

	s->t0 = s->t_last = idle = kit_rdtsc();
	while (s->received + s->written_off < target) {
		if (p->duration_ms && !draining && kit_rdtsc() - s->t0 > end) {
			target = s->sent > 0 ? s->sent : 1; /* drain, then stop */
			draining = true;
		}
		net_fill(n, p, s, target);
		n->ops->tx_reclaim(n);
		if (net_drain(n, p, s)) {
			idle = s->t_last;
			/* allow_loss: the last frame sent is back, so whatever
			 * is still missing was lost earlier. */
			if (draining && p->allow_loss && s->next_seq >= s->sent) {
				s->written_off = s->sent - s->received;
				s->wo_mark = s->sent;
			}
			continue;
		}
		now = kit_rdtsc();
		if (now - idle > limit)
			break;
		/*
		 * allow_loss: frames unanswered for loss_ms are written off so
		 * sending goes on. Not while draining: nothing more is sent,
		 * and the frames in flight then are the proof that traffic
		 * resumed; a back end that is slow (a busy host) rather than
		 * gone gets until timeout_ms to return them.
		 */
		if (p->allow_loss && !draining && now - idle > loss && net_in_flight(s)) {
			s->written_off = s->sent - s->received;
			s->wo_mark = s->sent;
		}
	}
	/* Rx errors the driver dropped count as corrupted frames. */
	s->corrupted += n->rx_errors;
}

/*
 * pingpong=1: one frame at a time, each timed from just before it is
 * posted to the drain that brings it back (s->t_last).
 */
static void net_pingpong(struct kit_nic *n, const struct net_params *p,
			 struct net_stats *s, struct kit_lat *lat)
{
	uint64_t limit = kit_ms_to_cycles(p->timeout_ms);

	s->t0 = s->t_last = kit_rdtsc();
	for (uint64_t i = 0; i < p->count; i++) {
		uint64_t t0 = kit_rdtsc(), got = s->received;

		while (s->received == got) {
			if (s->sent <= i)
				net_fill(n, p, s, i + 1);
			n->ops->tx_reclaim(n);
			if (!net_drain(n, p, s) && kit_rdtsc() - t0 > limit)
				goto out;
		}
		kit_lat_add(lat, s->t_last - t0);
	}
out:
	s->corrupted += n->rx_errors;
}

/* count= is what the test asked for; rates are over the `done` frames. */
static void net_res_rates(struct kit_result *r, uint64_t count, uint64_t done,
			  uint32_t size, uint64_t cycles)
{
	uint64_t pps = kit_per_second(done, cycles);
	uint64_t ns10 = kit_cycles_to_ns10(cycles, done);

	kit_res_add(r, "count=%lu size=%u pps=%lu bytes_per_s=%lu", count,
		    size, pps, kit_muldiv(pps, size, 1));
	kit_res_add(r, "ns_per_pkt=%lu.%lu", ns10 / 10, ns10 % 10);
}

static int net_params_parse(struct net_params *p, struct kit_nic_cfg *cfg,
			    const char **kind, size_t *kind_len)
{
	static const char *const dsts[] = { "self", "bcast", "mix", NULL };
	static const char *const orders[] = { "strict", "any", NULL };
	bool bad = kit_nic_parse(cfg, kind, kind_len) < 0;

	p->magic = NET_MAGIC;
	p->count = kit_cmdline_u64("count", NET_DEFAULT_COUNT, &bad);
	p->size = (uint32_t)kit_cmdline_u64("size", NET_DEFAULT_SIZE, &bad);
	p->batch = (uint32_t)kit_cmdline_u64("batch", 0, &bad);
	p->timeout_ms = kit_cmdline_u64("timeout_ms", NET_DEFAULT_TIMEOUT_MS,
					&bad);
	p->dst = (enum net_dst)kit_cmdline_choice("dst", dsts, NET_DST_MIX,
						  &bad);
	p->any_order = kit_cmdline_choice("order", orders, 0, &bad) == 1;
	p->allow_loss = kit_cmdline_u64("allow_loss", 0, &bad) != 0;
	p->loss_ms = kit_cmdline_u64("loss_ms", 100, &bad);
	p->duration_ms = kit_cmdline_u64("duration_ms", 0, &bad);
	p->peer = kit_cmdline_u64("peer", 0, &bad) != 0;
	p->pingpong = kit_cmdline_u64("pingpong", 0, &bad) != 0;
	if (p->pingpong)
		p->batch = 1;
	p->peer_wait_ms = kit_cmdline_u64("peer_wait_ms",
					  NET_DEFAULT_PEER_WAIT_MS, &bad);
	if (bad || p->count == 0 || p->count > NET_MAX_COUNT ||
	    p->size < KIT_NIC_MIN_FRAME || p->size > KIT_NIC_MAX_FRAME ||
	    p->batch > 65536 || p->timeout_ms == 0 || p->timeout_ms > 600000 ||
	    p->loss_ms == 0 || p->duration_ms > 600000 ||
	    p->peer_wait_ms == 0 || p->peer_wait_ms > 600000)
		return -1;
	return 0;
}

static int net_open(struct net_params *p, struct kit_nic **n,
		    struct kit_result *r)
{
	struct kit_nic_cfg cfg;
	const char *kind, *reason;
	size_t kind_len;

	if (net_params_parse(p, &cfg, &kind, &kind_len) < 0)
		return kit_fail(r, "bad-param");
	net_pat_init();
	if (kit_nic_open(kind, kind_len, &cfg, n, &reason) < 0)
		return kit_fail(r, reason);
	if (!p->batch) {
		uint32_t slots = (*n)->tx_slots < (*n)->rx_slots
					 ? (*n)->tx_slots
					 : (*n)->rx_slots;

		p->batch = slots / 2 ? slots / 2 : 1;
	}
	kit_res_add(r, "nic=%s ring=%s", (*n)->name,
		    cfg.packed ? "packed" : "split");
	return 0;
}

/*
 * One round trip before the measured run, so the run sees a device that
 * is ready: QEMU's e1000 refuses RX for 1 s (virtual time) after every
 * RCTL write, and the first kick of a queue may set up host state.
 */
static int net_warmup(struct kit_nic *n, const struct net_params *p,
		      struct kit_result *r)
{
	uint64_t ms = p->timeout_ms > NET_WARMUP_MIN_MS ? p->timeout_ms
							: NET_WARMUP_MIN_MS;
	const char *reason;

	if (kit_net_roundtrip(n, p->size, ms, false, &reason) == 0)
		return 0;
	n->ops->close(n);
	kit_res_add(r, "warmup=%s", reason);
	return kit_fail(r, "warmup-failed");
}

/* Send one frame of our ethertype; false while the TX ring is full. */
static bool net_send(struct kit_nic *n, const uint8_t *frame, uint32_t len)
{
	uint8_t *buf = n->ops->tx_buf(n);

	if (!buf)
		return false;
	memcpy(buf, frame, len);
	n->ops->tx_post(n, len);
	n->ops->tx_flush(n);
	return true;
}

/*
 * peer=1: broadcast a warm-up frame every NET_PEER_RETRY_MS (the peer may
 * still be booting) until an echo addressed to us arrives; its source is
 * the peer. The broadcast also teaches a learning switch where we are.
 */
static int net_peer_discover(struct kit_nic *n, struct net_params *p,
			     struct kit_result *r)
{
	struct net_params wp = {
		.magic = NET_MAGIC_WARMUP, .count = 1, .size = p->size,
		.dst = NET_DST_BCAST,
	};
	uint8_t frame[KIT_NIC_MAX_FRAME];
	uint64_t t0 = kit_rdtsc(), last = 0;
	uint64_t wait = kit_ms_to_cycles(p->peer_wait_ms);
	uint64_t retry = kit_ms_to_cycles(NET_PEER_RETRY_MS);

	net_build(frame, n, 0, &wp);
	while (kit_rdtsc() - t0 < wait) {
		const uint8_t *f;
		uint32_t len;

		if (!last || kit_rdtsc() - last > retry) {
			n->ops->tx_reclaim(n);
			if (net_send(n, frame, wp.size))
				last = kit_rdtsc();
		}
		while ((f = n->ops->rx(n, &len))) {
			bool echo = len >= NET_HDR_LEN &&
				    f[12] == NET_ETHERTYPE_HI &&
				    f[13] == NET_ETHERTYPE_LO &&
				    *(const net_u32u *)(f + 14) == NET_MAGIC_WARMUP &&
				    net_equal(f, n->mac, 6) &&
				    !net_equal(f + 6, n->mac, 6);

			if (echo)
				memcpy(p->peer_mac, f + 6, 6);
			n->ops->rx_done(n);
			n->ops->rx_flush(n);
			if (echo) {
				kit_res_add(r, "peer=%02x:%02x:%02x:%02x:%02x:%02x",
					    p->peer_mac[0], p->peer_mac[1],
					    p->peer_mac[2], p->peer_mac[3],
					    p->peer_mac[4], p->peer_mac[5]);
				return 0;
			}
		}
	}
	n->ops->close(n);
	return kit_fail(r, "no-peer");
}

int kit_test_net_loopback(struct kit_result *r)
{
	struct net_params p;
	struct net_stats s;
	struct kit_lat lat = { 0 };
	struct kit_nic *n;
	uint64_t lost, last;
	bool resumed;

	if (net_open(&p, &n, r) < 0)
		return -1;
	if (p.peer ? net_peer_discover(n, &p, r) < 0 : net_warmup(n, &p, r) < 0)
		return -1;
	memset(&s, 0, sizeof(s));
	n->doorbells = 0;
	n->rx_errors = 0;
	s.seen = kit_alloc(p.count / 8 + 1, 64);
	if (!s.seen || (p.pingpong && kit_lat_init(&lat, p.count) < 0)) {
		n->ops->close(n);
		return kit_fail(r, "no-memory");
	}
	if (p.pingpong)
		net_pingpong(n, &p, &s, &lat);
	else
		net_run(n, &p, &s);
	if (kit_plat.verbose && n->name[0] == 'v') {
		struct kit_vnet *vn = (struct kit_vnet *)n;
		kit_printf("dbg tx: kicks=%lu avoided=%lu num_free=%u na=%u nu=%u aw=%d uw=%d devev=%x status=%x sent=%lu\n",
			   vn->txq.kicks, vn->txq.kicks_avoided, vn->txq.num_free, vn->txq.next_avail, vn->txq.next_used, vn->txq.avail_wrap, vn->txq.used_wrap,
			   vn->txq.packed ? *(volatile uint32_t *)vn->txq.dev_event : 0, kit_virtio_status(&vn->v), s.sent);
	}
	n->ops->close(n);
	lost = (p.duration_ms ? s.sent : p.count) - s.ok;
	net_res_rates(r, p.count, s.ok, p.size, s.t_last - s.t0);
	kit_res_add(r, "lost=%lu corrupted=%lu", lost, s.corrupted);
	kit_res_add(r, "batch=%u doorbells=%lu reordered=%lu dup=%lu", p.batch,
		    n->doorbells, s.reordered, s.dup);
	kit_lat_report(&lat, r);
	/* Traffic resumed after any loss: the last frame sent came back. */
	last = s.sent ? s.sent - 1 : 0;
	resumed = s.sent && (s.seen[last >> 3] & (1u << (last & 7)));
	if (p.allow_loss || p.duration_ms)
		kit_res_add(r, "sent=%lu resumed=%d", s.sent, resumed);
	if (s.corrupted)
		return kit_fail(r, "corrupted");
	if (p.allow_loss && !resumed)
		return kit_fail(r, "not-resumed");
	if (lost && !p.allow_loss)
		return kit_fail(r, "lost");
	if (s.dup)
		return kit_fail(r, "duplicate");
	if (s.reordered && !p.any_order)
		return kit_fail(r, "reordered");
	return 0;
}

/* Transmit only: a frame counts once the device has completed it. */
int kit_test_net_tx(struct kit_result *r)
{
	struct net_params p;
	struct net_stats s;
	struct kit_nic *n;
	uint64_t done = 0, idle, limit, rx = 0, t_end;
	const uint8_t *f;
	uint32_t len;

	if (net_open(&p, &n, r) < 0)
		return -1;
	memset(&s, 0, sizeof(s));
	limit = kit_ms_to_cycles(p.timeout_ms);
	s.t0 = t_end = idle = kit_rdtsc();
	while (done < p.count) {
		unsigned int got;

		/* In flight here means "not yet completed". */
		s.received = done;
		net_fill(n, &p, &s, p.count);
		got = n->ops->tx_reclaim(n);
		/* Whatever comes back is returned to the device unread. */
		while ((f = n->ops->rx(n, &len))) {
			n->ops->rx_done(n);
			rx++;
		}
		n->ops->rx_flush(n);
		if (got) {
			done += got;
			idle = t_end = kit_rdtsc();
		} else if (kit_rdtsc() - idle > limit) {
			break;
		}
	}
	n->ops->close(n);
	net_res_rates(r, p.count, done, p.size, t_end - s.t0);
	kit_res_add(r, "batch=%u doorbells=%lu rx=%lu", p.batch, n->doorbells,
		    rx);
	if (done != p.count)
		return kit_fail(r, "tx-stalled");
	return 0;
}

/*
 * net-echo: every frame of the test ethertype goes back to its sender from
 * our address, unchanged otherwise. Waits peer_wait_ms for the first one,
 * then runs until timeout_ms pass without a frame. Pass: something was
 * echoed and no frame had to be dropped for want of a TX slot.
 */
int kit_test_net_echo(struct kit_result *r)
{
	struct kit_nic_cfg cfg;
	const char *kind, *reason;
	size_t kind_len;
	bool bad = kit_nic_parse(&cfg, &kind, &kind_len) < 0;
	uint64_t timeout_ms = kit_cmdline_u64("timeout_ms", NET_DEFAULT_TIMEOUT_MS, &bad);
	uint64_t wait_ms = kit_cmdline_u64("peer_wait_ms", NET_DEFAULT_PEER_WAIT_MS, &bad);
	uint64_t echoed = 0, ignored = 0, stalled = 0, idle, limit;
	struct kit_nic *n;

	if (bad || !timeout_ms || timeout_ms > 600000 || !wait_ms ||
	    wait_ms > 600000)
		return kit_fail(r, "bad-param");
	if (kit_nic_open(kind, kind_len, &cfg, &n, &reason) < 0)
		return kit_fail(r, reason);
	kit_res_add(r, "nic=%s ring=%s", n->name, cfg.packed ? "packed" : "split");
	idle = kit_rdtsc();
	limit = kit_ms_to_cycles(wait_ms);
	for (;;) {
		const uint8_t *f;
		uint32_t len;
		unsigned got = 0;

		while ((f = n->ops->rx(n, &len))) {
			uint8_t *buf;
			uint64_t spin = kit_rdtsc();

			got++;
			if (len < NET_HDR_LEN || f[12] != NET_ETHERTYPE_HI ||
			    f[13] != NET_ETHERTYPE_LO) {
				ignored++;
				n->ops->rx_done(n);
				continue;
			}
			/*
			 * The sender waits for this frame: wait for a slot
			 * (ring the doorbell first, a full ring may hold
			 * frames the device was not told about yet).
			 */
			while (!(buf = n->ops->tx_buf(n)) &&
			       kit_rdtsc() - spin < kit_ms_to_cycles(timeout_ms)) {
				n->ops->tx_flush(n);
				n->ops->tx_reclaim(n);
			}
			if (!buf) {
				stalled++;
				n->ops->rx_done(n);
				continue;
			}
			memcpy(buf, f + 6, 6);
			memcpy(buf + 6, n->mac, 6);
			memcpy(buf + 12, f + 12, len - 12);
			n->ops->tx_post(n, len);
			n->ops->rx_done(n);
			echoed++;
		}
		if (got) {
			n->ops->tx_flush(n);
			n->ops->rx_flush(n);
			idle = kit_rdtsc();
			limit = kit_ms_to_cycles(timeout_ms);
			continue;
		}
		n->ops->tx_reclaim(n);
		if (kit_rdtsc() - idle > limit)
			break;
	}
	n->ops->close(n);
	kit_res_add(r, "echoed=%lu ignored=%lu stalled=%lu", echoed, ignored,
		    stalled);
	if (!echoed)
		return kit_fail(r, "nothing-received");
	if (stalled)
		return kit_fail(r, "tx-stalled");
	return 0;
}

int kit_net_roundtrip(struct kit_nic *n, uint32_t size, uint64_t timeout_ms,
		      bool skip_foreign, const char **reason)
{
	struct net_params p = {
		.magic = NET_MAGIC_WARMUP,
		.count = 1, .size = size, .batch = 1,
		.timeout_ms = timeout_ms, .dst = NET_DST_SELF,
		.skip_foreign = skip_foreign,
	};
	uint8_t seen = 0;
	struct net_stats s = { .seen = &seen };

	net_pat_init();
	n->rx_errors = 0;
	net_run(n, &p, &s);
	if (s.sent != 1) {
		*reason = "tx-full";
		return -1;
	}
	if (s.corrupted || s.dup) {
		*reason = "corrupted";
		return -1;
	}
	if (s.ok != 1) {
		*reason = "lost";
		return -1;
	}
	return 0;
}
