// SPDX-License-Identifier: MIT
/* Legacy devices driven through a real bus, as a vCPU would. */
#include <check.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/bus.h"
#include "core/layout.h"
#include "core/vm.h"
#include "emul-devices/legacy.h"

static int stop_status = -1;
static void on_stop(void *opaque, int status)
{
	stop_status = status;
}

static uint8_t inb(struct bus *bus, uint16_t port)
{
	uint8_t v = 0;

	bus_access(bus, BUS_PIO, port, &v, 1, false);
	return v;
}

static void outb(struct bus *bus, uint16_t port, uint8_t v)
{
	bus_access(bus, BUS_PIO, port, &v, 1, true);
}

START_TEST(test_debug_exit_status)
{
	struct debug_exit *d;
	struct bus *bus;
	uint32_t v = 0x21;

	ck_assert_int_eq(bus_create(&bus), 0);
	ck_assert_int_eq(debug_exit_create(on_stop, NULL, &d), 0);
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0xf4, 4, debug_exit_bus_dev(d)), 0);
	outb(bus, 0xf4, 0);
	ck_assert_int_eq(stop_status, 1);
	outb(bus, 0xf4, 1);
	ck_assert_int_eq(stop_status, 3);
	bus_access(bus, BUS_PIO, 0xf4, &v, 4, true);
	ck_assert_int_eq(stop_status, 0x43);
	debug_exit_destroy(d);
	bus_destroy(bus);
}
END_TEST

START_TEST(test_i8042_reset)
{
	struct i8042 *k;
	struct bus *bus;

	ck_assert_int_eq(bus_create(&bus), 0);
	ck_assert_int_eq(i8042_create(on_stop, NULL, &k), 0);
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0x60, 5, i8042_bus_dev(k)), 0);
	stop_status = -1;
	ck_assert_uint_eq(inb(bus, 0x64), 0); /* empty buffers */
	outb(bus, 0x64, 0xad);                /* disable keyboard: no effect */
	ck_assert_int_eq(stop_status, -1);
	outb(bus, 0x64, 0xfe);
	ck_assert_int_eq(stop_status, VM_EXIT_POWEROFF);
	i8042_destroy(k);
	bus_destroy(bus);
}
END_TEST

static int bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

START_TEST(test_cmos_clock_and_nvram)
{
	struct cmos *c;
	struct bus *bus;
	time_t now = time(NULL);
	struct tm tm;
	int year;

	gmtime_r(&now, &tm);
	ck_assert_int_eq(bus_create(&bus), 0);
	ck_assert_int_eq(cmos_create(&c), 0);
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0x70, 2, cmos_bus_dev(c)), 0);
	outb(bus, 0x70, 0x0a);
	ck_assert_uint_eq(inb(bus, 0x71) & 0x80, 0); /* never "update in progress" */
	outb(bus, 0x70, 0x0d);
	ck_assert_uint_eq(inb(bus, 0x71), 0x80);    /* battery good */
	outb(bus, 0x70, 0x09);
	year = bcd(inb(bus, 0x71));
	outb(bus, 0x70, 0x32 | 0x80);               /* NMI-mask bit is ignored */
	year += bcd(inb(bus, 0x71)) * 100;
	ck_assert_int_eq(year, tm.tm_year + 1900);
	outb(bus, 0x70, 0x08);
	ck_assert_int_eq(bcd(inb(bus, 0x71)), tm.tm_mon + 1);
	outb(bus, 0x70, 0x40);                      /* NVRAM byte */
	outb(bus, 0x71, 0x5a);
	outb(bus, 0x70, 0x40);
	ck_assert_uint_eq(inb(bus, 0x71), 0x5a);
	outb(bus, 0x70, 0x0b);                      /* binary mode */
	outb(bus, 0x71, 0x06);
	outb(bus, 0x70, 0x08);
	ck_assert_int_eq(inb(bus, 0x71), tm.tm_mon + 1);
	cmos_destroy(c);
	bus_destroy(bus);
}
END_TEST

START_TEST(test_uart_output_and_registers)
{
	struct uart *u;
	struct bus *bus;
	int p[2];
	char buf[64] = { 0 };
	const char *msg = "hi\n";

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(bus_create(&bus), 0);
	ck_assert_int_eq(uart_create(NULL, NULL, p[1], -1, &u), 0);
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0x3f8, 8, uart_bus_dev(u)), 0);
	ck_assert_uint_eq(inb(bus, 0x3fd) & 0x60, 0x60); /* THRE | TEMT */
	ck_assert_uint_eq(inb(bus, 0x3fa), 0x01);        /* no interrupt */
	/* Divisor latch is separate from THR/IER. */
	outb(bus, 0x3fb, 0x80);
	outb(bus, 0x3f8, 0x01);
	outb(bus, 0x3f9, 0x00);
	ck_assert_uint_eq(inb(bus, 0x3f8), 0x01);
	outb(bus, 0x3fb, 0x03);
	outb(bus, 0x3ff, 0xa5);
	ck_assert_uint_eq(inb(bus, 0x3ff), 0xa5);        /* scratch */
	for (const char *c = msg; *c; c++)
		outb(bus, 0x3f8, (uint8_t)*c);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), 3); /* one line, one write */
	ck_assert_str_eq(buf, msg);
	/* THRE interrupt: raised on IER enable, cleared by reading IIR. */
	outb(bus, 0x3f9, 0x02);
	ck_assert_uint_eq(inb(bus, 0x3fa) & 0x0f, 0x02);
	ck_assert_uint_eq(inb(bus, 0x3fa) & 0x0f, 0x01);
	/* Loopback: what we send comes back as RX data. */
	outb(bus, 0x3fc, 0x10);
	outb(bus, 0x3f8, 'x');
	ck_assert_uint_eq(inb(bus, 0x3fd) & 0x01, 0x01);
	ck_assert_uint_eq(inb(bus, 0x3f8), 'x');
	ck_assert_uint_eq(inb(bus, 0x3fd) & 0x01, 0x00);
	/* A partial line is written by flush. */
	outb(bus, 0x3fc, 0x00);
	outb(bus, 0x3f8, 'z');
	uart_flush(u);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), 1);
	uart_destroy(u);
	bus_destroy(bus);
	close(p[0]);
	close(p[1]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("legacy");
	TCase *tc = tcase_create("devices");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_debug_exit_status);
	tcase_add_test(tc, test_i8042_reset);
	tcase_add_test(tc, test_cmos_clock_and_nvram);
	tcase_add_test(tc, test_uart_output_and_registers);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
