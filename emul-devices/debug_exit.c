// SPDX-License-Identifier: MIT
/*
 * QEMU's isa-debug-exit: a write of value v ends the VM with process status
 * (v << 1) | 1. Status 0 stays free for "the guest powered off normally", so
 * tests can tell a guest that reported from one that merely stopped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "emul-devices/legacy.h"

struct debug_exit {
	struct bus_dev dev;
	legacy_stop_fn on_stop;
	void *opaque;
};

static int debug_exit_read(struct bus_dev *dev, uint64_t offset, void *data,
			   uint32_t len)
{
	memset(data, 0xff, len);
	return 0;
}

static int debug_exit_write(struct bus_dev *dev, uint64_t offset,
			    const void *data, uint32_t len)
{
	struct debug_exit *d = container_of(dev, struct debug_exit, dev);
	uint64_t v = 0;

	memcpy(&v, data, len);
	d->on_stop(d->opaque, (int)(((v << 1) | 1) & 0xff));
	return 0;
}

static const struct bus_dev_ops debug_exit_ops = {
	.read = debug_exit_read,
	.write = debug_exit_write,
};

int debug_exit_create(legacy_stop_fn on_stop, void *opaque,
		      struct debug_exit **out)
{
	struct debug_exit *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->dev = (struct bus_dev){ .ops = &debug_exit_ops, .name = "debug-exit" };
	d->on_stop = on_stop;
	d->opaque = opaque;
	*out = d;
	return 0;
}

struct bus_dev *debug_exit_bus_dev(struct debug_exit *dev)
{
	return &dev->dev;
}

void debug_exit_destroy(struct debug_exit *dev)
{
	free(dev);
}
