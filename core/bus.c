// SPDX-License-Identifier: MIT
/*
 * PIO/MMIO dispatch. Each space is a sorted array of non-overlapping ranges,
 * searched by binary search under a read lock. A handful of ranges exist per
 * VM and they change only when a guest moves a BAR, so a sorted array beats a
 * tree on both code size and cache behaviour.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/log.h"
#include "core/util.h"

struct bus_range {
	uint64_t base;
	uint64_t len;
	struct bus_dev *dev;
};

struct bus_space_map {
	struct bus_range *ranges; /* sorted by base; lock: bus->lock */
	size_t nr;                /* lock: bus->lock */
	size_t cap;               /* lock: bus->lock */
};

struct bus {
	pthread_rwlock_t lock;
	struct bus_space_map spaces[BUS_NR_SPACES];
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
	ret = pthread_rwlock_init(&bus->lock, NULL);
	if (ret) {
		free(bus);
		return -ret;
	}
	*out = bus;
	return 0;
}

void bus_destroy(struct bus *bus)
{
	if (!bus)
		return;
	for (int s = 0; s < BUS_NR_SPACES; s++)
		free(bus->spaces[s].ranges);
	pthread_rwlock_destroy(&bus->lock);
	free(bus);
}

/* Index of the first range whose base is > addr. */
static size_t upper_bound(const struct bus_space_map *map, uint64_t addr)
{
	size_t lo = 0, hi = map->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (map->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, enum bus_space space, uint64_t base,
		 uint64_t len, struct bus_dev *dev)
{
	struct bus_space_map *map;
	size_t pos;
	int ret = 0;

	if (space >= BUS_NR_SPACES || !len || range_overflows(base, len) ||
	    !dev || !dev->ops)
		return -EINVAL;
	map = &bus->spaces[space];
	pthread_rwlock_wrlock(&bus->lock);
	pos = upper_bound(map, base);
	if ((pos > 0 && ranges_overlap(map->ranges[pos - 1].base,
				       map->ranges[pos - 1].len, base, len)) ||
	    (pos < map->nr &&
	     ranges_overlap(map->ranges[pos].base, map->ranges[pos].len, base,
			    len))) {
		ret = -EEXIST;
		goto out;
	}
	if (map->nr == map->cap) {
		size_t cap = map->cap ? map->cap * 2 : 16;
		struct bus_range *r = realloc(map->ranges, cap * sizeof(*r));

		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		map->ranges = r;
		map->cap = cap;
	}
	memmove(&map->ranges[pos + 1], &map->ranges[pos],
		(map->nr - pos) * sizeof(*map->ranges));
	map->ranges[pos] = (struct bus_range){ base, len, dev };
	map->nr++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, enum bus_space space, uint64_t base,
		   struct bus_dev *dev)
{
	struct bus_space_map *map;
	size_t pos;
	int ret = -ENOENT;

	if (space >= BUS_NR_SPACES)
		return -EINVAL;
	map = &bus->spaces[space];
	pthread_rwlock_wrlock(&bus->lock);
	pos = upper_bound(map, base);
	if (pos > 0 && map->ranges[pos - 1].base == base &&
	    map->ranges[pos - 1].dev == dev) {
		memmove(&map->ranges[pos - 1], &map->ranges[pos],
			(map->nr - pos) * sizeof(*map->ranges));
		map->nr--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_access(struct bus *bus, enum bus_space space, uint64_t addr,
	       void *data, uint32_t len, bool is_write)
{
	struct bus_space_map *map;
	struct bus_range hit = { 0 };
	size_t pos;
	int ret;

	if (space >= BUS_NR_SPACES || !len || len > 8)
		return -EINVAL;
	map = &bus->spaces[space];
	pthread_rwlock_rdlock(&bus->lock);
	pos = upper_bound(map, addr);
	if (pos > 0) {
		const struct bus_range *r = &map->ranges[pos - 1];

		if (addr - r->base < r->len && len <= r->len - (addr - r->base))
			hit = *r;
	}
	pthread_rwlock_unlock(&bus->lock);

	if (!hit.dev) {
		if (!is_write)
			memset(data, 0xff, len);
		return -ENODEV;
	}
	if (is_write)
		ret = hit.dev->ops->write ?
			hit.dev->ops->write(hit.dev, addr - hit.base, data, len) :
			0;
	else if (hit.dev->ops->read)
		ret = hit.dev->ops->read(hit.dev, addr - hit.base, data, len);
	else
		ret = (memset(data, 0xff, len), 0);
	if (ret < 0) {
		log_ratelimited(LOG_WARN, hit.dev->name,
				"%s %s of %u bytes at 0x%llx failed: %s",
				space_name[space], is_write ? "write" : "read",
				len, (unsigned long long)addr, strerror(-ret));
		if (!is_write)
			memset(data, 0xff, len);
	}
	return ret;
}
