// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the legacy PC devices (emul-devices: uart8250.c,
 * cmos.c, i8042.c, debug_exit.c, assembled by legacy.c): a guest doing
 * port I/O of any width on COM1 (0x3f8, output to /dev/null), the RTC/CMOS
 * index and data ports (0x70-0x71), the i8042 (0x60-0x64) and the
 * debug-exit port (0xf4), plus a second UART on COM2 (0x2f8) whose input
 * side receives the bytes the script types (through a pipe, delivered by
 * the I/O loop as the I/O thread would), with the recording interrupt
 * controller watching both UARTs' lines.
 *
 * Input: a flags byte (unused), le16 script length, the script (fz.h;
 * windows 0 COM1, 1 CMOS, 2 i8042, 3 debug-exit, 4 COM2). Own operation:
 *   3  u8 n and n bytes typed on COM2's input
 * Stop requests (debug-exit, i8042 reset) are recorded; the status a
 * debug-exit write asks for must be (value << 1) | 1, as QEMU's
 * isa-debug-exit defines it; the i8042 asks for a power-off.
 */
#include <fcntl.h>
#include <unistd.h>

#include "core/vm.h"
#include "emul-devices/legacy.h"
#include "fz.h"

#define FUZZ_COM2 0x2f8

struct fz_legacy {
	int pipe[2];
	int stops, last_status;
};

static void on_stop(void *opaque, int status)
{
	struct fz_legacy *t = opaque;

	t->stops++;
	t->last_status = status;
	/* A process exit status: power-off (0) or an odd byte. */
	CHECK(status == VM_EXIT_POWEROFF || ((status & 1) && status <= 0xff));
}

static bool legacy_op(struct fz_vm *vm, void *opaque, uint8_t op,
		      struct fz_in *in)
{
	struct fz_legacy *t = opaque;
	uint8_t n = fz_u8(in), buf[256];
	ssize_t w;

	if (!fz_take(in, buf, n))
		return false;
	/* A full pipe keeps what fits: the UART's input is bounded too. */
	w = write(t->pipe[1], buf, n);
	(void)w;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct legacy_config cfg = { .serial = LEGACY_SERIAL_FILE };
	struct fz_legacy t = { .pipe = { -1, -1 } };
	struct legacy_devices *devs = NULL;
	struct fz_in hdr, script, rest;
	struct uart *com2 = NULL;
	struct fake_irq *fake;
	struct fz_vm vm = { 0 };
	char err[128];
	int null_fd = -1;

	if (!fz_split(data, size, 1, &hdr, &script, &rest))
		return 0;
	if (!fz_vm_open_fake_irq(&vm, &fake, 4096, false))
		return 0;
	vm.poll_io = true; /* COM2's input arrives through the I/O loop */
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null_fd < 0 || pipe2(t.pipe, O_CLOEXEC | O_NONBLOCK))
		goto out;
	cfg.serial_fd = null_fd;
	cfg.on_stop = on_stop;
	cfg.opaque = &t;
	/* It takes null_fd, also when it fails; COM2 borrows it. */
	if (legacy_devices_create(vm.bus, vm.irq, vm.io, &cfg, &devs, err,
				  sizeof(err))) {
		null_fd = -1;
		goto out;
	}
	if (uart_create(vm.irq, vm.io, null_fd, t.pipe[0], &com2) ||
	    bus_register(vm.bus, BUS_PIO, FUZZ_COM2, 8, uart_bus_dev(com2)))
		goto out;
	fz_win_add(&vm, BUS_PIO, LAYOUT_PORT_COM1, 8);
	fz_win_add(&vm, BUS_PIO, LAYOUT_PORT_CMOS, 2);
	fz_win_add(&vm, BUS_PIO, LAYOUT_PORT_I8042, 5);
	fz_win_add(&vm, BUS_PIO, LAYOUT_PORT_DEBUG_EXIT, 4);
	fz_win_add(&vm, BUS_PIO, FUZZ_COM2, 8);
	fz_script(&vm, &script, legacy_op, &t, NULL);
	legacy_devices_flush(devs);
	uart_flush(com2);
out:
	if (com2)
		bus_unregister(vm.bus, BUS_PIO, FUZZ_COM2, uart_bus_dev(com2));
	uart_destroy(com2);
	if (devs)
		legacy_devices_destroy(devs);
	else if (null_fd >= 0)
		close(null_fd);
	for (int i = 0; i < 2; i++)
		if (t.pipe[i] >= 0)
			close(t.pipe[i]);
	fz_vm_close(&vm);
	return 0;
}
