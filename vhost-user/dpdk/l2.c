// SPDX-License-Identifier: MIT
/*
 * Lock-free MAC learning table (see l2.h for the concurrency contract).
 *
 * Layout: a power-of-two array of 16-byte entries grouped in buckets of
 * VSW_L2_BUCKET; a MAC hashes to one bucket and lives anywhere in it.
 * Entry word: bit 63 valid, bits 62..48 port, bits 47..0 the MAC.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vhost-user/dpdk/l2.h"

#define L2_VALID (1ULL << 63)
#define L2_PORT_SHIFT 48
#define L2_MAC_MASK ((1ULL << 48) - 1)
#define L2_CAS_TRIES 4

struct vsw_l2_entry {
	uint64_t word;		/* atomic: L2_VALID | port << 48 | mac */
	uint64_t seen;		/* atomic: last time the MAC was learned */
};

struct vsw_l2 {
	uint32_t mask;		/* bucket index mask */
	uint64_t age;		/* 0 = never */
	uint64_t refresh;	/* rewrite `seen` when older than this */
	struct vsw_l2_entry *e;
};

static inline uint64_t l2_mac(const uint8_t *m)
{
	return (uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 |
	       (uint64_t)m[2] << 24 | (uint64_t)m[3] << 16 |
	       (uint64_t)m[4] << 8 | m[5];
}

static inline uint32_t l2_bucket(const struct vsw_l2 *t, uint64_t mac)
{
	/* Fibonacci hashing: the multiply mixes every MAC bit into the top. */
	return (uint32_t)((mac * 0x9e3779b97f4a7c15ULL) >> 32) & t->mask;
}

static inline bool l2_live(const struct vsw_l2 *t, uint64_t seen, uint64_t now)
{
	return !t->age || now - seen < t->age || seen > now;
}

int vsw_l2_create(uint32_t entries, uint64_t age, struct vsw_l2 **out)
{
	struct vsw_l2 *t;
	uint32_t n = VSW_L2_BUCKET;

	*out = NULL;
	if (!entries || entries > (1u << 24))
		return -EINVAL;
	while (n < entries)
		n <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->e = aligned_alloc(64, (size_t)n * sizeof(*t->e));
	if (!t->e) {
		free(t);
		return -ENOMEM;
	}
	memset(t->e, 0, (size_t)n * sizeof(*t->e));
	t->mask = n / VSW_L2_BUCKET - 1;
	t->age = age;
	t->refresh = age ? age / 8 : UINT64_MAX;
	*out = t;
	return 0;
}

void vsw_l2_destroy(struct vsw_l2 *t)
{
	if (!t)
		return;
	free(t->e);
	free(t);
}

uint32_t vsw_l2_capacity(const struct vsw_l2 *t)
{
	return (t->mask + 1) * VSW_L2_BUCKET;
}

/* Replaces `old` in entry `e` with `word`, then stamps it: true on success. */
static bool l2_claim(struct vsw_l2_entry *e, uint64_t old, uint64_t word,
		     uint64_t now)
{
	if (!__atomic_compare_exchange_n(&e->word, &old, word, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return false;
	__atomic_store_n(&e->seen, now, __ATOMIC_RELEASE);
	return true;
}

/*
 * One pass over the bucket: refresh/move the MAC if present, else claim a
 * free, aged-out or (bucket full) the oldest entry. Returns false when a
 * compare-and-swap lost a race and the caller should look again.
 */
static bool l2_learn_once(struct vsw_l2 *t, struct vsw_l2_entry *b,
			  uint64_t mac, uint64_t word, uint64_t now)
{
	struct vsw_l2_entry *victim = NULL;
	uint64_t victim_word = 0, oldest = UINT64_MAX;
	bool victim_free = false;

	for (unsigned i = 0; i < VSW_L2_BUCKET; i++) {
		uint64_t w = __atomic_load_n(&b[i].word, __ATOMIC_ACQUIRE);
		uint64_t seen = __atomic_load_n(&b[i].seen, __ATOMIC_RELAXED);

		if ((w & L2_VALID) && (w & L2_MAC_MASK) == mac) {
			if (w != word)	/* the station moved to another port */
				return l2_claim(&b[i], w, word, now);
			if (now > seen && now - seen >= t->refresh)
				__atomic_store_n(&b[i].seen, now, __ATOMIC_RELAXED);
			return true;
		}
		if (victim_free)
			continue;	/* keep looking for the MAC only */
		if (!(w & L2_VALID) || !l2_live(t, seen, now)) {
			victim = &b[i];
			victim_word = w;
			victim_free = true;
		} else if (!victim || seen < oldest) {
			victim = &b[i];
			victim_word = w;
			oldest = seen;
		}
	}
	return l2_claim(victim, victim_word, word, now);
}

int vsw_l2_learn(struct vsw_l2 *t, const uint8_t *mac, uint16_t port,
		 uint64_t now)
{
	uint64_t m = l2_mac(mac);
	uint64_t word = L2_VALID | (uint64_t)port << L2_PORT_SHIFT | m;
	struct vsw_l2_entry *b = &t->e[(size_t)l2_bucket(t, m) * VSW_L2_BUCKET];

	if (port > VSW_L2_MAX_PORT)
		return -EINVAL;
	/* A lost race means another lcore just changed this bucket: look again
	 * (bounded; the table is a cache and the next frame learns anyway). */
	for (int i = 0; i < L2_CAS_TRIES; i++)
		if (l2_learn_once(t, b, m, word, now))
			break;
	return 0;
}

int vsw_l2_lookup(struct vsw_l2 *t, const uint8_t *mac, uint64_t now)
{
	uint64_t m = l2_mac(mac);
	struct vsw_l2_entry *b = &t->e[(size_t)l2_bucket(t, m) * VSW_L2_BUCKET];

	for (unsigned i = 0; i < VSW_L2_BUCKET; i++) {
		uint64_t w = __atomic_load_n(&b[i].word, __ATOMIC_ACQUIRE);

		if ((w & L2_VALID) && (w & L2_MAC_MASK) == m) {
			uint64_t seen = __atomic_load_n(&b[i].seen, __ATOMIC_RELAXED);

			if (!l2_live(t, seen, now))
				return -1;
			return (int)((w >> L2_PORT_SHIFT) & VSW_L2_MAX_PORT);
		}
	}
	return -1;
}

unsigned vsw_l2_flush_port(struct vsw_l2 *t, uint16_t port)
{
	size_t n = (size_t)vsw_l2_capacity(t);
	unsigned flushed = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t w = __atomic_load_n(&t->e[i].word, __ATOMIC_ACQUIRE);

		/* A failed CAS means a forwarding lcore re-learned the entry
		 * meanwhile: it is then current and stays. */
		if ((w & L2_VALID) &&
		    ((w >> L2_PORT_SHIFT) & VSW_L2_MAX_PORT) == port &&
		    __atomic_compare_exchange_n(&t->e[i].word, &w, 0, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			flushed++;
	}
	return flushed;
}

unsigned vsw_l2_count(struct vsw_l2 *t, uint64_t now)
{
	size_t n = (size_t)vsw_l2_capacity(t);
	unsigned live = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t w = __atomic_load_n(&t->e[i].word, __ATOMIC_ACQUIRE);
		uint64_t seen = __atomic_load_n(&t->e[i].seen, __ATOMIC_RELAXED);

		if ((w & L2_VALID) && l2_live(t, seen, now))
			live++;
	}
	return live;
}
