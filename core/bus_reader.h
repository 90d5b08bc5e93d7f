/* SPDX-License-Identifier: MIT */
/*
 * The bus's lock-free read side, for the vCPU exit loop (core/vcpu.c) and
 * the bus's tests only: the layout of the range arrays and of a reader, and
 * the lookup and dispatch, inline. Every instruction here runs once per
 * PIO/MMIO exit (docs/benchmarks.md, instructions per exit), so the exit
 * loop gets them inline and keeps its registers across the handler call.
 * Everyone else uses core/bus.h.
 */
#ifndef IOVMM_BUS_READER_H
#define IOVMM_BUS_READER_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/bus.h"

/* 32 bytes, so that indexing is a shift. */
struct bus_range {
	uint64_t base;
	uint64_t span;	/* len - 1 */
	struct bus_dev *dev;
	uint64_t pad;
};

/* One space's ranges, sorted by base; never modified once published. */
struct bus_table {
	size_t nr;
	struct bus_range ranges[];
};

#define BUS_CACHELINE 64

/*
 * A vCPU thread's read-side state, alone on its cache line: its thread
 * writes seq twice per access and no other vCPU should share the line.
 * Kept until bus_destroy() (retired arrays may point at it) and reused
 * after bus_reader_unregister().
 */
struct bus_reader {
	_Atomic uint64_t seq;		/* odd inside a search; owner writes */
	/* bus->tables, one load less per access; immutable. */
	_Atomic(struct bus_table *) *tables;
	/*
	 * Per space, the index of the owner's last hit: a vCPU hits the same
	 * device again and again. Only a hint, checked against the array in
	 * hand, so a stale one costs a binary search. Owner only.
	 */
	size_t hint[BUS_NR_SPACES];
	struct bus *bus;		/* immutable */
	struct bus_reader *next;	/* lock: bus->lock */
	bool in_use;			/* lock: bus->lock */
} __attribute__((aligned(BUS_CACHELINE)));

/* The device a lookup found (NULL: none) and addr's offset in its range. */
struct bus_hit {
	struct bus_dev *dev;
	uint64_t off;
};

/*
 * bus_reader_find() when the reader's hint does not hold: the binary search,
 * then the end of the section (seq = s + 2). Out of line.
 */
struct bus_hit bus_reader_search(struct bus_reader *reader,
				 const struct bus_table *t,
				 enum bus_space space, uint64_t addr,
				 uint32_t len, uint64_t s);

/* True when r holds all of [addr, addr + len), len >= 1. */
static inline bool bus_range_holds(const struct bus_range *r, uint64_t addr,
				   uint32_t len)
{
	uint64_t off = addr - r->base;	/* huge when addr < base */

	return off <= r->span && len - 1 <= r->span - off;
}

/*
 * The lookup alone, lock-free, from the reader's thread; space and len must
 * be valid (bus_reader_access() checks them). The read-side protocol is at
 * the top of core/bus.c.
 */
static inline struct bus_hit
bus_reader_find(struct bus_reader *reader, enum bus_space space,
		uint64_t addr, uint32_t len)
{
	uint64_t s = atomic_load_explicit(&reader->seq, memory_order_relaxed);
	const struct bus_table *t;
	size_t h = reader->hint[space];

	/* The section: odd seq, load, search, even seq (core/bus.c). */
	atomic_store_explicit(&reader->seq, s + 1, memory_order_seq_cst);
	t = atomic_load_explicit(&reader->tables[space], memory_order_seq_cst);
	if (h < t->nr && bus_range_holds(&t->ranges[h], addr, len)) {
		struct bus_hit hit = { t->ranges[h].dev, addr - t->ranges[h].base };

		atomic_store_explicit(&reader->seq, s + 2, memory_order_release);
		return hit;
	}
	return bus_reader_search(reader, t, space, addr, len, s);
}

/* Out of line, for bus_dispatch(): an unclaimed access; a failed handler. */
int bus_dispatch_miss(void *data, uint32_t len, bool is_write);
int bus_dispatch_failed(const struct bus_dev *dev, enum bus_space space,
			uint64_t addr, uint32_t len, bool is_write, int err);

static inline bool bus_bad_access(enum bus_space space, uint32_t len)
{
	return (unsigned int)space >= BUS_NR_SPACES || len - 1 > 7;
}

/* Calls the handler a lookup found, after the lookup has ended. */
static inline int bus_dispatch(struct bus_hit hit, enum bus_space space,
			       uint64_t addr, void *data, uint32_t len,
			       bool is_write)
{
	int ret;

	if (__builtin_expect(!hit.dev, 0))
		return bus_dispatch_miss(data, len, is_write);
	if (is_write) {
		if (!hit.dev->ops->write)
			return 0;
		ret = hit.dev->ops->write(hit.dev, hit.off, data, len);
	} else {
		if (!hit.dev->ops->read)
			return (memset(data, 0xff, len), 0);
		ret = hit.dev->ops->read(hit.dev, hit.off, data, len);
	}
	if (__builtin_expect(ret < 0, 0)) {
		if (!is_write)
			memset(data, 0xff, len);
		return bus_dispatch_failed(hit.dev, space, addr, len, is_write,
					   ret);
	}
	return ret;
}

/*
 * bus_access(), lock-free, from the thread that registered `reader` (the
 * vCPU exit path): the same answers, the same handler calls and logging.
 */
static inline int bus_reader_access(struct bus_reader *reader,
				    enum bus_space space, uint64_t addr,
				    void *data, uint32_t len, bool is_write)
{
	if (bus_bad_access(space, len))
		return -EINVAL;
	return bus_dispatch(bus_reader_find(reader, space, addr, len), space,
			    addr, data, len, is_write);
}

#endif
