// SPDX-License-Identifier: MIT
/*
 * PIO/MMIO dispatch. Each space is a sorted array of non-overlapping ranges,
 * searched by binary search. A handful of ranges exist per VM and they
 * change only when a guest moves a BAR, so a sorted array beats a tree on
 * both code size and cache behaviour.
 *
 * The array is read on every PIO/MMIO exit and written almost never, so it
 * is copy-on-write (read-copy-update): a writer builds a new array under
 * bus->lock and publishes it with one atomic pointer store, and vCPU threads
 * (each with a struct bus_reader) search whichever array they load, without
 * a lock. An old array is freed only once no reader can still be searching
 * it, which each reader's own counter tells:
 *
 *   reader                              writer (bus->lock held)
 *   seq = s + 1, odd       [seq_cst]    tables[space] = new       [seq_cst]
 *   t = tables[space]      [seq_cst]    each reader: v = its seq  [seq_cst]
 *   search t, copy the hit              v odd: it may be searching `old`;
 *   seq = s + 2, even      [release]    free `old` once its seq != v
 *
 * In the single total order of the seq_cst operations either the writer's
 * store of `new` comes first, and the reader searches `new` (or later), or
 * the reader's odd store does, and the writer sees it inside. Neither side
 * waits: an array that may still be searched goes on a retired list with
 * the counter values it waits for, and the next writer, reader
 * (un)registration or bus_destroy() frees it once they have all moved (a
 * search is a few dozen instructions). The handler is called after the
 * reader's section has ended, so a handler that registers or unregisters
 * ranges (a BAR move on a vCPU thread) never waits for itself.
 *
 * Threads without a reader (the main thread, unit tests) search under
 * bus->lock, which every writer holds while it publishes and reclaims, so
 * the array they search cannot be freed under them.
 *
 * The layouts of the arrays and of a reader, and the reader's lookup and
 * dispatch, are in core/bus_reader.h: inline in the vCPU exit loop.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/bus_reader.h"
#include "core/log.h"
#include "core/util.h"

/* A reader that was inside a search when an array was replaced. */
struct bus_wait {
	struct bus_reader *reader;
	uint64_t seq;	/* its odd counter then; any other value: it left */
};

/* A replaced array that a reader may still be searching. */
struct bus_retired {
	struct bus_retired *next;
	struct bus_table *table;
	size_t nr;
	struct bus_wait wait[];
};

struct bus {
	/* Serializes writers, the readers' registry and readerless lookups. */
	pthread_mutex_t lock;
	/* Current arrays, never NULL; stored under lock, loaded by anyone. */
	_Atomic(struct bus_table *) tables[BUS_NR_SPACES];
	struct bus_reader *readers;	/* lock: lock */
	size_t nr_readers;		/* lock: lock; includes unused ones */
	struct bus_retired *retired;	/* lock: lock */
};

static const char *const space_name[BUS_NR_SPACES] = {
	[BUS_PIO] = "pio", [BUS_MMIO] = "mmio",
};

int bus_create(struct bus **out)
{
	struct bus *bus = calloc(1, sizeof(*bus));
	int ret;

	if (!bus)
		return -ENOMEM;
	ret = pthread_mutex_init(&bus->lock, NULL);
	if (ret) {
		free(bus);
		return -ret;
	}
	for (int s = 0; s < BUS_NR_SPACES; s++) {
		struct bus_table *t = calloc(1, sizeof(*t));

		atomic_init(&bus->tables[s], t);
		if (!t) {
			bus_destroy(bus);
			return -ENOMEM;
		}
	}
	*out = bus;
	return 0;
}

void bus_destroy(struct bus *bus)
{
	if (!bus)
		return;
	while (bus->retired) {
		struct bus_retired *r = bus->retired;

		bus->retired = r->next;
		free(r->table);
		free(r);
	}
	for (int s = 0; s < BUS_NR_SPACES; s++)
		free(atomic_load_explicit(&bus->tables[s], memory_order_relaxed));
	while (bus->readers) {
		struct bus_reader *r = bus->readers;

		bus->readers = r->next;
		free(r);
	}
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

/* Index of the first range whose base is > addr. */
static size_t upper_bound(const struct bus_table *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The range that holds all of [addr, addr + len), or NULL. */
static inline const struct bus_range *bus_find(const struct bus_table *t,
					       uint64_t addr, uint32_t len)
{
	size_t pos = upper_bound(t, addr);

	if (pos == 0 || !bus_range_holds(&t->ranges[pos - 1], addr, len))
		return NULL;
	return &t->ranges[pos - 1];
}



/* ---- writers (bus->lock held) ----------------------------------------- */

/*
 * Cleared first, so that a reader that outlived its array (a bug) finds no
 * range rather than a device that may be gone; the concurrency tests count
 * on it (tests/unit/core/test_bus_concurrent.c).
 */
static void bus_table_free(struct bus_table *t)
{
	if (t)
		explicit_bzero(t, sizeof(*t) + t->nr * sizeof(t->ranges[0]));
	free(t);
}

static bool bus_wait_over(const struct bus_wait *w)
{
	return atomic_load_explicit(&w->reader->seq, memory_order_acquire) !=
	       w->seq;
}

/* Frees the retired arrays that no reader can still be searching. */
static void bus_reclaim(struct bus *bus)
{
	struct bus_retired **pp = &bus->retired;

	while (*pp) {
		struct bus_retired *r = *pp;
		size_t i = 0;

		while (i < r->nr && bus_wait_over(&r->wait[i]))
			i++;
		if (i < r->nr) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		bus_table_free(r->table);
		free(r);
	}
}

/*
 * A new array of nr ranges and the record that may retire the current one
 * (room for every registered reader), allocated before anything changes so
 * that publishing cannot fail.
 */
static int bus_prepare(struct bus *bus, size_t nr, struct bus_table **table,
		       struct bus_retired **rec)
{
	*table = malloc(sizeof(**table) + nr * sizeof((*table)->ranges[0]));
	*rec = malloc(sizeof(**rec) + bus->nr_readers * sizeof((*rec)->wait[0]));
	if (!*table || !*rec) {
		free(*table);
		free(*rec);
		return -ENOMEM;
	}
	(*table)->nr = nr;
	return 0;
}

/* Makes `table` space's array; retires or frees the one it replaces. */
static void bus_publish(struct bus *bus, enum bus_space space,
			struct bus_table *table, struct bus_retired *rec)
{
	struct bus_table *old =
		atomic_load_explicit(&bus->tables[space], memory_order_relaxed);

	atomic_store_explicit(&bus->tables[space], table, memory_order_seq_cst);
	rec->table = old;
	rec->nr = 0;
	for (struct bus_reader *r = bus->readers; r; r = r->next) {
		uint64_t v = atomic_load_explicit(&r->seq, memory_order_seq_cst);

		if (v & 1)
			rec->wait[rec->nr++] = (struct bus_wait){ r, v };
	}
	if (rec->nr == 0) {
		bus_table_free(old);
		free(rec);
	} else {
		rec->next = bus->retired;
		bus->retired = rec;
	}
	bus_reclaim(bus);
}

int bus_register(struct bus *bus, enum bus_space space, uint64_t base,
		 uint64_t len, struct bus_dev *dev)
{
	const struct bus_table *cur;
	struct bus_table *t;
	struct bus_retired *rec;
	size_t pos, nr;
	int ret;

	if (space >= BUS_NR_SPACES || !len || range_overflows(base, len) ||
	    !dev || !dev->ops)
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	cur = atomic_load_explicit(&bus->tables[space], memory_order_relaxed);
	nr = cur ? cur->nr : 0;
	pos = upper_bound(cur, base);
	if ((pos > 0 && cur->ranges[pos - 1].base + cur->ranges[pos - 1].span >=
			base) ||
	    (pos < nr && cur->ranges[pos].base <= base + len - 1)) {
		ret = -EEXIST;
		goto out;
	}
	ret = bus_prepare(bus, nr + 1, &t, &rec);
	if (ret)
		goto out;
	if (pos)
		memcpy(t->ranges, cur->ranges, pos * sizeof(t->ranges[0]));
	t->ranges[pos] = (struct bus_range){ .base = base, .span = len - 1,
					     .dev = dev };
	if (nr > pos)
		memcpy(&t->ranges[pos + 1], &cur->ranges[pos],
		       (nr - pos) * sizeof(t->ranges[0]));
	bus_publish(bus, space, t, rec);
out:
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, enum bus_space space, uint64_t base,
		   struct bus_dev *dev)
{
	const struct bus_table *cur;
	struct bus_table *t;
	struct bus_retired *rec;
	size_t pos;
	int ret = -ENOENT;

	if (space >= BUS_NR_SPACES)
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	cur = atomic_load_explicit(&bus->tables[space], memory_order_relaxed);
	pos = upper_bound(cur, base);
	if (pos == 0 || cur->ranges[pos - 1].base != base ||
	    cur->ranges[pos - 1].dev != dev)
		goto out;
	ret = bus_prepare(bus, cur->nr - 1, &t, &rec);
	if (ret)
		goto out;
	/* Everything but ranges[pos - 1]. */
	memcpy(t->ranges, cur->ranges, (pos - 1) * sizeof(t->ranges[0]));
	memcpy(&t->ranges[pos - 1], &cur->ranges[pos],
	       (cur->nr - pos) * sizeof(t->ranges[0]));
	bus_publish(bus, space, t, rec);
out:
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

/* ---- readers ---------------------------------------------------------- */

int bus_reader_register(struct bus *bus, struct bus_reader **out)
{
	struct bus_reader *r;
	int ret = 0;

	pthread_mutex_lock(&bus->lock);
	for (r = bus->readers; r && r->in_use; r = r->next)
		;
	if (!r) {
		r = aligned_alloc(BUS_CACHELINE, sizeof(*r));
		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		memset(r, 0, sizeof(*r));
		atomic_init(&r->seq, 0);
		r->tables = bus->tables;
		r->bus = bus;
		r->next = bus->readers;
		bus->readers = r;
		bus->nr_readers++;
	}
	r->in_use = true;
	*out = r;
	bus_reclaim(bus);
out:
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

void bus_reader_unregister(struct bus_reader *reader)
{
	struct bus *bus;

	if (!reader)
		return;
	bus = reader->bus;
	pthread_mutex_lock(&bus->lock);
	reader->in_use = false;
	bus_reclaim(bus);
	pthread_mutex_unlock(&bus->lock);
}

/* ---- dispatch ---------------------------------------------------------- */

int bus_dispatch_miss(void *data, uint32_t len, bool is_write)
{
	if (!is_write)
		memset(data, 0xff, len);
	return -ENODEV;
}

int bus_dispatch_failed(const struct bus_dev *dev, enum bus_space space,
			uint64_t addr, uint32_t len, bool is_write, int err)
{
	log_ratelimited(LOG_WARN, dev->name,
			"%s %s of %u bytes at 0x%llx failed: %s",
			space_name[space], is_write ? "write" : "read", len,
			(unsigned long long)addr, strerror(-err));
	return err;
}

int bus_access(struct bus *bus, enum bus_space space, uint64_t addr,
	       void *data, uint32_t len, bool is_write)
{
	const struct bus_range *r;
	struct bus_hit hit = { 0 };

	if (bus_bad_access(space, len))
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	r = bus_find(atomic_load_explicit(&bus->tables[space],
					  memory_order_relaxed), addr, len);
	if (r)
		hit = (struct bus_hit){ r->dev, addr - r->base };
	pthread_mutex_unlock(&bus->lock);
	return bus_dispatch(hit, space, addr, data, len, is_write);
}

/* The end of bus_reader_find() when the reader's hint is not it. */
struct bus_hit bus_reader_search(struct bus_reader *reader,
				 const struct bus_table *t,
				 enum bus_space space, uint64_t addr,
				 uint32_t len, uint64_t s)
{
	const struct bus_range *r = bus_find(t, addr, len);
	struct bus_hit hit = { 0 };

	if (r) {
		reader->hint[space] = (size_t)(r - t->ranges);
		hit = (struct bus_hit){ r->dev, addr - r->base };
	}
	atomic_store_explicit(&reader->seq, s + 2, memory_order_release);
	return hit;
}

