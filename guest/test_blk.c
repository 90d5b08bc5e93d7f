/* SPDX-License-Identifier: MIT */
/*
 * blk-rw: write a pattern over `sectors` sectors from `start`, FLUSH (when
 * the device offers it), read everything back into a zeroed buffer and
 * compare; then GET_ID. The pattern mixes a per-run seed (the TSC unless
 * seed= is given) with the sector number, so stale data from an earlier
 * run, a misplaced sector or a read that never reached memory all fail.
 *
 * Keys: sectors=N (default 256), start=S (0), req_sectors=R (128, capped by
 * the device's segment limits), depth=D (requests in flight, 16),
 * ring=split|packed, event_idx=0|1, indirect=0|1, qsize=N, expect_id=STR,
 * timeout_ms=T (no-progress limit, 5000). mbps_* are 10^6 bytes/s.
 * pingpong=1: one 4 KiB request in flight (req_sectors=8 depth=1); each
 * read of the read-back pass is timed from submission to completion, and
 * the RESULT line adds reads=, iops_read= and the p50/p99 (lat_*, lat.c).
 */
#include "guest/lat.h"
#include "guest/virtio.h"

#define BLK_SECTOR 512
#define BLK_DEFAULT_SECTORS 256
#define BLK_MAX_SECTORS (1ULL << 22) /* 2 GiB */
#define BLK_DEFAULT_REQ 128
#define BLK_DEFAULT_DEPTH 16
#define BLK_DEFAULT_TIMEOUT_MS 5000
#define BLK_ID_SHOWN 20

typedef uint64_t __attribute__((may_alias)) blk_u64;

struct blk_params {
	uint64_t sectors, start, seed, timeout_ms;
	uint32_t req_sectors, depth;
	bool pingpong;
	const char *expect_id;
	size_t expect_id_len;
	struct kit_vblk_cfg cfg;
};

static uint64_t blk_word(uint64_t seed, uint64_t sector, unsigned int w)
{
	uint64_t x = seed ^ (sector * 0x9e3779b97f4a7c15ULL) ^
		     ((uint64_t)w << 56);

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 29);
}

static void blk_fill(uint8_t *buf, const struct blk_params *p)
{
	for (uint64_t s = 0; s < p->sectors; s++) {
		blk_u64 *w = (blk_u64 *)(buf + s * BLK_SECTOR);

		for (unsigned int i = 0; i < BLK_SECTOR / 8; i++)
			w[i] = blk_word(p->seed, p->start + s, i);
	}
}

static uint64_t blk_verify(const uint8_t *buf, const struct blk_params *p)
{
	uint64_t bad = 0;

	for (uint64_t s = 0; s < p->sectors; s++) {
		const blk_u64 *w = (const blk_u64 *)(buf + s * BLK_SECTOR);

		for (unsigned int i = 0; i < BLK_SECTOR / 8; i++) {
			if (w[i] != blk_word(p->seed, p->start + s, i)) {
				bad++;
				break;
			}
		}
	}
	return bad;
}

/*
 * Move p->sectors sectors between buf and the disk; *cycles for it all.
 * With `lat` (pingpong: depth 1) each request is timed on its own.
 */
static int blk_transfer(struct kit_vblk *b, const struct blk_params *p,
			uint32_t type, uint8_t *buf, uint64_t *cycles,
			struct kit_lat *lat, const char **reason)
{
	uint64_t next = 0, done = 0, inflight = 0, tag, t0, idle, t_sub = 0;
	uint64_t limit = kit_ms_to_cycles(p->timeout_ms);
	uint8_t st;

	t0 = idle = kit_rdtsc();
	while (done < p->sectors) {
		bool got = false;

		while (next < p->sectors && inflight < p->depth) {
			uint64_t n = p->sectors - next < p->req_sectors
					     ? p->sectors - next
					     : p->req_sectors;

			if (kit_vblk_submit(b, type, p->start + next,
					    buf + next * BLK_SECTOR,
					    (uint32_t)(n * BLK_SECTOR), n) < 0)
				break;
			next += n;
			inflight++;
			t_sub = kit_rdtsc();
		}
		kit_vblk_kick(b);
		while (kit_vblk_complete(b, &tag, &st)) {
			if (st != KIT_VIRTIO_BLK_S_OK) {
				*reason = "io-error";
				return -1;
			}
			if (lat)
				kit_lat_add(lat, kit_rdtsc() - t_sub);
			done += tag;
			inflight--;
			got = true;
		}
		if (got)
			idle = kit_rdtsc();
		else if (kit_rdtsc() - idle > limit) {
			*reason = "timeout";
			return -1;
		}
	}
	*cycles = kit_rdtsc() - t0;
	return 0;
}

/* One request without data sectors (FLUSH, GET_ID); its status byte. */
static int blk_one(struct kit_vblk *b, const struct blk_params *p,
		   uint32_t type, void *buf, uint32_t len, uint8_t *st)
{
	uint64_t t0 = kit_rdtsc(), limit = kit_ms_to_cycles(p->timeout_ms);
	uint64_t tag;

	if (kit_vblk_submit(b, type, 0, buf, len, 0) < 0)
		return -1;
	kit_vblk_kick(b);
	while (!kit_vblk_complete(b, &tag, st)) {
		if (kit_rdtsc() - t0 > limit)
			return -1;
		kit_pause();
	}
	return 0;
}

static void blk_res_mbps(struct kit_result *r, const char *key,
			 uint64_t bytes, uint64_t cycles)
{
	uint64_t bps = kit_per_second(bytes, cycles);

	kit_res_add(r, "%s=%lu.%lu", key, bps / 1000000, bps / 100000 % 10);
}

/* GET_ID (§5.2.6): up to 20 bytes, NUL-terminated only when shorter. */
static int blk_get_id(struct kit_vblk *b, const struct blk_params *p,
		      struct kit_result *r)
{
	static uint8_t raw[KIT_VIRTIO_BLK_ID_BYTES];
	char id[BLK_ID_SHOWN + 1];
	size_t n = 0;
	uint8_t st;

	memset(raw, 0, sizeof(raw));
	if (blk_one(b, p, KIT_VIRTIO_BLK_T_GET_ID, raw, sizeof(raw), &st) < 0)
		return kit_fail(r, "get-id-timeout");
	if (st != KIT_VIRTIO_BLK_S_OK) {
		kit_res_add(r, "id=unsupported");
		return p->expect_id ? kit_fail(r, "id-mismatch") : 0;
	}
	for (; n < sizeof(raw) && raw[n]; n++)
		id[n] = raw[n] > ' ' && raw[n] < 0x7f ? (char)raw[n] : '_';
	id[n] = '\0';
	kit_res_add(r, "id=%s", n ? id : "none");
	if (p->expect_id && (p->expect_id_len != n ||
			     memcmp(p->expect_id, id, n)))
		return kit_fail(r, "id-mismatch");
	return 0;
}

static int blk_parse(struct blk_params *p)
{
	static const char *const rings[] = { "split", "packed", NULL };
	bool bad = false;
	uint64_t q, ev, ind;

	memset(p, 0, sizeof(*p));
	p->sectors = kit_cmdline_u64("sectors", BLK_DEFAULT_SECTORS, &bad);
	p->start = kit_cmdline_u64("start", 0, &bad);
	p->seed = kit_cmdline_u64("seed", kit_rdtsc(), &bad);
	p->timeout_ms = kit_cmdline_u64("timeout_ms", BLK_DEFAULT_TIMEOUT_MS,
					&bad);
	p->req_sectors = (uint32_t)kit_cmdline_u64("req_sectors",
						   BLK_DEFAULT_REQ, &bad);
	p->depth = (uint32_t)kit_cmdline_u64("depth", BLK_DEFAULT_DEPTH, &bad);
	p->expect_id = kit_cmdline_get("expect_id", &p->expect_id_len);
	p->cfg.packed = kit_cmdline_choice("ring", rings, 0, &bad) == 1;
	q = kit_cmdline_u64("qsize", 0, &bad);
	ev = kit_cmdline_u64("event_idx", 1, &bad);
	ind = kit_cmdline_u64("indirect", 0, &bad);
	p->pingpong = kit_cmdline_u64("pingpong", 0, &bad) != 0;
	if (p->pingpong) {
		p->req_sectors = 4096 / BLK_SECTOR;
		p->depth = 1;
	}
	p->cfg.qsize = (uint16_t)q;
	p->cfg.event_idx = ev == 1;
	p->cfg.indirect = ind == 1;
	if (bad || p->sectors == 0 || p->sectors > BLK_MAX_SECTORS ||
	    p->start > UINT64_MAX / 2 || p->req_sectors == 0 ||
	    p->depth == 0 || p->depth > 1024 || q > 32768 || ev > 1 ||
	    ind > 1 || p->timeout_ms == 0 || p->timeout_ms > 600000 ||
	    (p->expect_id && p->expect_id_len > BLK_ID_SHOWN))
		return -1;
	return 0;
}

static int blk_run(struct kit_vblk *b, struct blk_params *p, uint8_t *buf,
		   struct kit_result *r)
{
	uint64_t bytes = p->sectors * BLK_SECTOR, cw, cr, bad;
	struct kit_lat lat = { 0 };
	const char *reason;
	uint8_t st;

	if (p->pingpong &&
	    kit_lat_init(&lat, p->sectors / p->req_sectors + 1) < 0)
		return kit_fail(r, "no-memory");
	blk_fill(buf, p);
	if (blk_transfer(b, p, KIT_VIRTIO_BLK_T_OUT, buf, &cw, NULL,
			 &reason) < 0)
		return kit_fail(r, reason);
	if (b->flush && (blk_one(b, p, KIT_VIRTIO_BLK_T_FLUSH, NULL, 0,
				 &st) < 0 ||
			 st != KIT_VIRTIO_BLK_S_OK))
		return kit_fail(r, "flush-failed");
	memset(buf, 0, bytes);
	if (blk_transfer(b, p, KIT_VIRTIO_BLK_T_IN, buf, &cr,
			 p->pingpong ? &lat : NULL, &reason) < 0)
		return kit_fail(r, reason);
	bad = blk_verify(buf, p);
	kit_res_add(r, "bytes=%lu", bytes);
	blk_res_mbps(r, "mbps_write", bytes, cw);
	blk_res_mbps(r, "mbps_read", bytes, cr);
	if (p->pingpong) {
		kit_res_add(r, "reads=%lu iops_read=%lu", lat.n,
			    kit_per_second(lat.n, cr));
		kit_lat_report(&lat, r);
	}
	kit_res_add(r, "flush=%u bad_sectors=%lu", b->flush ? 1 : 0, bad);
	if (bad)
		return kit_fail(r, "data-mismatch");
	return blk_get_id(b, p, r);
}

int kit_test_blk_rw(struct kit_result *r)
{
	static struct kit_vblk blk;
	struct blk_params p;
	const char *reason;
	uint32_t max_bytes;
	uint8_t *buf;
	int rc;

	if (blk_parse(&p) < 0)
		return kit_fail(r, "bad-param");
	if (kit_vblk_open(&blk, &p.cfg, &reason) < 0)
		return kit_fail(r, reason);
	kit_res_add(r, "ring=%s capacity=%lu", p.cfg.packed ? "packed" : "split",
		    blk.capacity);
	if (p.start > blk.capacity || p.sectors > blk.capacity - p.start) {
		kit_virtio_reset(&blk.v);
		return kit_fail(r, "disk-small");
	}
	if (kit_vblk_max_bytes(&blk, &max_bytes) < 0) {
		kit_virtio_reset(&blk.v);
		return kit_fail(r, "bad-seg-limits");
	}
	if (p.req_sectors > max_bytes / BLK_SECTOR)
		p.req_sectors = max_bytes / BLK_SECTOR;
	buf = kit_alloc(p.sectors * BLK_SECTOR, 4096);
	if (!buf) {
		kit_virtio_reset(&blk.v);
		return kit_fail(r, "no-memory");
	}
	rc = blk_run(&blk, &p, buf, r);
	kit_virtio_reset(&blk.v);
	return rc;
}
