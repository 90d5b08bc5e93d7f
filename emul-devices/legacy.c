// SPDX-License-Identifier: MIT
/* Assembles the legacy PC devices and puts them on the PIO bus. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/layout.h"
#include "emul-devices/legacy.h"

struct legacy_devices {
	struct bus *bus;
	int serial_fd; /* owned when serial is a file, else -1 */
	struct uart *uart;
	struct debug_exit *debug_exit;
	struct cmos *cmos;
	struct i8042 *i8042;
};

static int legacy_serial_fds(const struct legacy_config *cfg,
			     struct legacy_devices *devs, int *out_fd,
			     int *in_fd)
{
	*out_fd = *in_fd = -1;
	switch (cfg->serial) {
	case LEGACY_SERIAL_STDIO:
		*out_fd = STDOUT_FILENO;
		*in_fd = STDIN_FILENO;
		return 0;
	case LEGACY_SERIAL_FILE:
		*out_fd = devs->serial_fd;
		return 0;
	case LEGACY_SERIAL_NONE:
		return 0;
	}
	return -EINVAL;
}

int legacy_devices_create(struct bus *bus, struct irq *irq, struct ioloop *io,
			  const struct legacy_config *cfg,
			  struct legacy_devices **out, char *err, size_t errlen)
{
	struct legacy_devices *devs = calloc(1, sizeof(*devs));
	int out_fd, in_fd, ret;

	if (!devs) {
		if (cfg->serial == LEGACY_SERIAL_FILE)
			close(cfg->serial_fd);
		return -ENOMEM;
	}
	devs->bus = bus;
	devs->serial_fd = cfg->serial == LEGACY_SERIAL_FILE ? cfg->serial_fd : -1;
	ret = legacy_serial_fds(cfg, devs, &out_fd, &in_fd);
	if (ret)
		goto err_msg;
	if ((ret = uart_create(irq, io, out_fd, in_fd, &devs->uart)) ||
	    (ret = debug_exit_create(cfg->on_stop, cfg->opaque,
				     &devs->debug_exit)) ||
	    (ret = cmos_create(&devs->cmos)) ||
	    (ret = i8042_create(cfg->on_stop, cfg->opaque, &devs->i8042)))
		goto err_msg;
	if ((ret = bus_register(bus, BUS_PIO, LAYOUT_PORT_COM1, 8,
				uart_bus_dev(devs->uart))) ||
	    (ret = bus_register(bus, BUS_PIO, LAYOUT_PORT_DEBUG_EXIT, 4,
				debug_exit_bus_dev(devs->debug_exit))) ||
	    (ret = bus_register(bus, BUS_PIO, LAYOUT_PORT_CMOS, 2,
				cmos_bus_dev(devs->cmos))) ||
	    (ret = bus_register(bus, BUS_PIO, LAYOUT_PORT_I8042, 5,
				i8042_bus_dev(devs->i8042))))
		goto err_msg;
	*out = devs;
	return 0;

err_msg:
	snprintf(err, errlen, "legacy devices: %s", strerror(-ret));
	legacy_devices_destroy(devs);
	return ret;
}

void legacy_devices_flush(struct legacy_devices *devs)
{
	if (devs && devs->uart)
		uart_flush(devs->uart);
}

void legacy_devices_destroy(struct legacy_devices *devs)
{
	if (!devs)
		return;
	/* bus_unregister fails harmlessly for ranges never registered. */
	if (devs->uart)
		bus_unregister(devs->bus, BUS_PIO, LAYOUT_PORT_COM1,
			       uart_bus_dev(devs->uart));
	if (devs->debug_exit)
		bus_unregister(devs->bus, BUS_PIO, LAYOUT_PORT_DEBUG_EXIT,
			       debug_exit_bus_dev(devs->debug_exit));
	if (devs->cmos)
		bus_unregister(devs->bus, BUS_PIO, LAYOUT_PORT_CMOS,
			       cmos_bus_dev(devs->cmos));
	if (devs->i8042)
		bus_unregister(devs->bus, BUS_PIO, LAYOUT_PORT_I8042,
			       i8042_bus_dev(devs->i8042));
	uart_destroy(devs->uart);
	debug_exit_destroy(devs->debug_exit);
	cmos_destroy(devs->cmos);
	i8042_destroy(devs->i8042);
	if (devs->serial_fd >= 0)
		close(devs->serial_fd);
	free(devs);
}
