/* SPDX-License-Identifier: MIT */
/*
 * lat.c: per-operation latency of the ping-pong modes (pingpong=1 of
 * net-loopback, blk-rw and nvme). Up to `max` samples of TSC cycles;
 * kit_lat_report() sorts them and adds lat_n, lat_p50_ns and lat_p99_ns
 * (nearest rank; lat_p*_cycles when the TSC rate is unknown) to the
 * RESULT line. Uses only kit_alloc, kit_res_add and kit_cycles_to_ns10, so
 * it also builds for the host over the unit tests' kit shim.
 */
#ifndef IOVMM_GUEST_LAT_H
#define IOVMM_GUEST_LAT_H

#include "guest/kit.h"

struct kit_lat {
	uint64_t *v;
	uint64_t n, max;
};

/* Room for `max` samples (kit_alloc); 0, or -1 when memory is short. */
int kit_lat_init(struct kit_lat *l, uint64_t max);

/* One sample; those beyond `max` are dropped. */
static inline void kit_lat_add(struct kit_lat *l, uint64_t cycles)
{
	if (l->n < l->max)
		l->v[l->n++] = cycles;
}

/* Sorts the samples (in place) and adds the lat_* keys; none when empty. */
void kit_lat_report(struct kit_lat *l, struct kit_result *r);

#endif
