/* SPDX-License-Identifier: MIT */
/*
 * The legacy PC devices every iovmm machine has: COM1 (16550A UART), a
 * debug-exit port (QEMU isa-debug-exit semantics), the CMOS/RTC and the
 * i8042 controller's reset line. Each lives in its own file; this header
 * builds them as one set, since the machine always wants all of them.
 */
#ifndef IOVMM_LEGACY_H
#define IOVMM_LEGACY_H

#include <stddef.h>

#include "core/bus.h"
#include "core/ioloop.h"
#include "core/irq.h"

/* Where COM1 goes. */
enum legacy_serial { LEGACY_SERIAL_STDIO, LEGACY_SERIAL_FILE, LEGACY_SERIAL_NONE };

/* Called from a vCPU thread when the guest asks to stop the machine. */
typedef void (*legacy_stop_fn)(void *opaque, int status);

struct legacy_config {
	enum legacy_serial serial;
	/* LEGACY_SERIAL_FILE: the open output file; legacy_devices_create()
	 * takes ownership of it, also when it fails. */
	int serial_fd;
	legacy_stop_fn on_stop;
	void *opaque;
};

struct legacy_devices;

int legacy_devices_create(struct bus *bus, struct irq *irq, struct ioloop *io,
			  const struct legacy_config *cfg,
			  struct legacy_devices **out, char *err, size_t errlen);
/* Write out buffered serial output (at VM stop). */
void legacy_devices_flush(struct legacy_devices *devs);
void legacy_devices_destroy(struct legacy_devices *devs);

/* --- individual devices (used by legacy.c and the unit tests) --- */

struct uart;
/* out_fd/in_fd are borrowed (-1: none); in_fd is polled on io. */
int uart_create(struct irq *irq, struct ioloop *io, int out_fd, int in_fd,
		struct uart **out);
struct bus_dev *uart_bus_dev(struct uart *uart);
void uart_flush(struct uart *uart);
void uart_destroy(struct uart *uart);

struct debug_exit;
int debug_exit_create(legacy_stop_fn on_stop, void *opaque,
		      struct debug_exit **out);
struct bus_dev *debug_exit_bus_dev(struct debug_exit *dev);
void debug_exit_destroy(struct debug_exit *dev);

struct cmos;
int cmos_create(struct cmos **out);
struct bus_dev *cmos_bus_dev(struct cmos *cmos);
void cmos_destroy(struct cmos *cmos);

struct i8042;
int i8042_create(legacy_stop_fn on_stop, void *opaque, struct i8042 **out);
struct bus_dev *i8042_bus_dev(struct i8042 *kbc);
void i8042_destroy(struct i8042 *kbc);

#endif
