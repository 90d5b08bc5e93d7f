/* SPDX-License-Identifier: MIT */
/*
 * Per-operation latency for the ping-pong modes of net-loopback, blk-rw and
 * nvme (pingpong=1: one frame or one 4 KiB read in flight): every operation
 * is timed with the TSC into an array, and the RESULT line gets the 50th and
 * 99th percentiles (nearest rank) in ns, which `iovmm bench io` reads.
 */
#include "guest/lat.h"

int kit_lat_init(struct kit_lat *l, uint64_t max)
{
	l->n = 0;
	l->max = max;
	l->v = max ? kit_alloc(max * sizeof(*l->v), 64) : NULL;
	return l->v ? 0 : -1;
}

/* Heap sort: no recursion, no scratch memory, O(n log n) on any input. */
static void lat_sift(uint64_t *v, uint64_t root, uint64_t n)
{
	for (;;) {
		uint64_t c = 2 * root + 1, t;

		if (c >= n)
			return;
		if (c + 1 < n && v[c + 1] > v[c])
			c++;
		if (v[root] >= v[c])
			return;
		t = v[root];
		v[root] = v[c];
		v[c] = t;
		root = c;
	}
}

static void lat_sort(uint64_t *v, uint64_t n)
{
	for (uint64_t i = n / 2; i-- > 0;)
		lat_sift(v, i, n);
	for (uint64_t end = n; end-- > 1;) {
		uint64_t t = v[0];

		v[0] = v[end];
		v[end] = t;
		lat_sift(v, 0, end);
	}
}

/* Nearest rank: the smallest sample with at least pct % at or below it. */
static uint64_t lat_rank(const struct kit_lat *l, unsigned int pct)
{
	uint64_t k = (l->n * pct + 99) / 100;

	return l->v[k ? k - 1 : 0];
}

static void lat_add_ns(struct kit_result *r, const char *key, uint64_t cycles)
{
	uint64_t ns10 = kit_cycles_to_ns10(cycles, 1);

	kit_res_add(r, "%s=%lu.%lu", key, ns10 / 10, ns10 % 10);
}

void kit_lat_report(struct kit_lat *l, struct kit_result *r)
{
	if (!l->n)
		return;
	lat_sort(l->v, l->n);
	kit_res_add(r, "lat_n=%lu", l->n);
	if (!kit_plat.tsc_khz) {
		kit_res_add(r, "lat_p50_cycles=%lu lat_p99_cycles=%lu",
			    lat_rank(l, 50), lat_rank(l, 99));
		return;
	}
	lat_add_ns(r, "lat_p50_ns", lat_rank(l, 50));
	lat_add_ns(r, "lat_p99_ns", lat_rank(l, 99));
}
