/* SPDX-License-Identifier: MIT */
/*
 * The PIO/MMIO bus: one registry of address ranges per space, one handler
 * signature for every trapped access (kvmtool's model). vCPU threads look up
 * and call handlers concurrently; registration may happen from a vCPU thread
 * (a guest moving a BAR) or from the main thread.
 *
 * A lookup copies {dev, base} and calls the handler after the lookup has
 * ended, so a handler may itself register or unregister ranges (BAR moves).
 * Devices must therefore outlive the vCPUs: they are destroyed only after
 * vm_destroy() has joined every vCPU thread.
 *
 * vCPU threads look up without a lock (bus_reader_access(), the exit path);
 * every other caller uses bus_access(), which takes the writers' mutex.
 */
#ifndef IOVMM_BUS_H
#define IOVMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

enum bus_space { BUS_PIO, BUS_MMIO, BUS_NR_SPACES };

struct bus_dev;

/*
 * offset is relative to the start of the registered range; len is 1, 2, 4 or
 * 8 and offset + len never exceeds the range (the bus checks before calling).
 * Reads fill all len bytes (little-endian). Return 0, or -errno to have the
 * bus log (rate-limited) and complete the access as ignored/all-ones.
 */
struct bus_dev_ops {
	int (*read)(struct bus_dev *dev, uint64_t offset, void *data,
		    uint32_t len);
	int (*write)(struct bus_dev *dev, uint64_t offset, const void *data,
		     uint32_t len);
};

struct bus_dev {
	const struct bus_dev_ops *ops;
	const char *name; /* for logs; borrowed, must outlive registration */
};

struct bus;

int bus_create(struct bus **out);
void bus_destroy(struct bus *bus);

/*
 * Register [base, base + len) in space for dev. -EEXIST when it overlaps a
 * registered range, -EINVAL for len == 0 or a range that wraps, -ENOMEM.
 * The same dev may own several ranges.
 */
int bus_register(struct bus *bus, enum bus_space space, uint64_t base,
		 uint64_t len, struct bus_dev *dev);
/*
 * Remove the range that starts exactly at base and belongs to dev. -ENOENT,
 * or -ENOMEM (the range stays registered: the new array is a copy).
 */
int bus_unregister(struct bus *bus, enum bus_space space, uint64_t base,
		   struct bus_dev *dev);

/*
 * A thread that dispatches many accesses (a vCPU) registers as a reader and
 * then looks ranges up without taking any lock: each space's ranges are an
 * immutable sorted array, replaced as a whole by writers and freed only once
 * every reader that could still be searching it has moved on (the reader's
 * own counter tells). The reader is owned by the bus; only the thread that
 * registered it may use it. bus_destroy() frees readers still registered.
 * -ENOMEM.
 */
struct bus_reader;

int bus_reader_register(struct bus *bus, struct bus_reader **out);
/* NULL is a no-op; the reader must not be used afterwards. */
void bus_reader_unregister(struct bus_reader *reader);

/*
 * Dispatch one guest access. Unclaimed reads return all-ones and unclaimed
 * writes are dropped (as on real hardware), returning -ENODEV so callers can
 * count them. An access that straddles the end of a range is refused the same
 * way.
 */
int bus_access(struct bus *bus, enum bus_space space, uint64_t addr,
	       void *data, uint32_t len, bool is_write);

/*
 * The lock-free lookup and dispatch for a registered reader,
 * bus_reader_access(), is in core/bus_reader.h: inline, for the vCPU exit
 * loop.
 */

#endif
