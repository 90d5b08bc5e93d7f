/* SPDX-License-Identifier: MIT */
/*
 * The L2 learning table: MAC address -> port, with ageing. Pure C (no DPDK)
 * so it is unit-tested on its own.
 *
 * Concurrency: any number of forwarding lcores learn and look up at once
 * with no lock. Each entry's {valid, port, MAC} is one 64-bit word changed
 * only by compare-and-swap, so a reader never sees a MAC paired with
 * another entry's port; the last-seen time is a second word. The table is
 * a cache: two lcores learning the same new MAC in the same instant may
 * (rarely) both insert it; lookups return the first, the other ages out.
 * Times are in any monotonic unit the caller chooses (iovmm-vswitch uses
 * milliseconds), as long as `now` and `age` agree.
 */
#ifndef IOVMM_VSW_L2_H
#define IOVMM_VSW_L2_H

#include <stdint.h>

#define VSW_L2_MAX_PORT 0x7fff
#define VSW_L2_BUCKET 8		/* entries probed per MAC (two cache lines) */

struct vsw_l2;

/*
 * `entries` is rounded up to a power of two (at least one bucket); `age` is
 * how long an entry lives without being refreshed (0 = forever).
 * 0, -EINVAL (entries 0 or above 2^24) or -ENOMEM.
 */
int vsw_l2_create(uint32_t entries, uint64_t age, struct vsw_l2 **out);
void vsw_l2_destroy(struct vsw_l2 *t);	/* NULL is fine */

/*
 * Records that `mac` (6 bytes, a unicast source address) was seen on
 * `port` at `now`: inserts, moves (a station that changed port) or
 * refreshes. The last-seen time is rewritten only once it is older than
 * age/8 (never when nothing ages), so steady traffic does not bounce the
 * entry's cache line between lcores. When the bucket is full of live
 * entries the least recently seen one is replaced.
 * Returns 0, or -EINVAL for a port above VSW_L2_MAX_PORT.
 */
int vsw_l2_learn(struct vsw_l2 *t, const uint8_t *mac, uint16_t port,
		 uint64_t now);

/* The port `mac` was last seen on, or -1 when unknown or aged out. */
int vsw_l2_lookup(struct vsw_l2 *t, const uint8_t *mac, uint64_t now);

/* Forgets every entry that points at `port` (the port went down). */
unsigned vsw_l2_flush_port(struct vsw_l2 *t, uint16_t port);

/* Live (not aged-out) entries; walks the whole table, for statistics. */
unsigned vsw_l2_count(struct vsw_l2 *t, uint64_t now);

/* Capacity after rounding. */
uint32_t vsw_l2_capacity(const struct vsw_l2 *t);

#endif
