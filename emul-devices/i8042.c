// SPDX-License-Identifier: MIT
/*
 * The part of the i8042 keyboard controller a VMM needs: the CPU reset line.
 * Writing command 0xfe (pulse output port bit 0) to port 0x64 is how Linux
 * (reboot=k, its default fallback) and many boot loaders reset the machine;
 * iovmm ends the VM cleanly instead of resetting it, like QEMU -no-reboot.
 * The controller reports no keyboard and an empty buffer, so probing drivers
 * give up quickly. Registered as one 5-byte range: 0x60 data, 0x64 command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/vm.h"
#include "emul-devices/legacy.h"

#define I8042_DATA 0
#define I8042_COMMAND 4
#define I8042_CMD_RESET 0xfe

struct i8042 {
	struct bus_dev dev;
	legacy_stop_fn on_stop;
	void *opaque;
};

static int i8042_read(struct bus_dev *dev, uint64_t offset, void *data,
		      uint32_t len)
{
	/* Status 0: output buffer empty, input buffer empty. Data: 0. */
	memset(data, offset == I8042_DATA || offset == I8042_COMMAND ? 0 : 0xff,
	       len);
	return 0;
}

static int i8042_write(struct bus_dev *dev, uint64_t offset, const void *data,
		       uint32_t len)
{
	struct i8042 *k = container_of(dev, struct i8042, dev);

	if (offset == I8042_COMMAND && *(const uint8_t *)data == I8042_CMD_RESET)
		k->on_stop(k->opaque, VM_EXIT_POWEROFF);
	return 0;
}

static const struct bus_dev_ops i8042_ops = {
	.read = i8042_read,
	.write = i8042_write,
};

int i8042_create(legacy_stop_fn on_stop, void *opaque, struct i8042 **out)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	k->dev = (struct bus_dev){ .ops = &i8042_ops, .name = "i8042" };
	k->on_stop = on_stop;
	k->opaque = opaque;
	*out = k;
	return 0;
}

struct bus_dev *i8042_bus_dev(struct i8042 *kbc)
{
	return &kbc->dev;
}

void i8042_destroy(struct i8042 *kbc)
{
	free(kbc);
}
