// SPDX-License-Identifier: MIT
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "core/bus.h"
#include "core/util.h"

struct rec_dev {
	struct bus_dev dev;
	uint64_t last_off;
	uint32_t last_len;
	uint64_t last_val;
	int writes, reads;
};

static int rec_read(struct bus_dev *d, uint64_t off, void *data, uint32_t len)
{
	struct rec_dev *r = container_of(d, struct rec_dev, dev);
	uint64_t v = 0x1122334455667788ULL;

	r->reads++;
	r->last_off = off;
	r->last_len = len;
	memcpy(data, &v, len);
	return 0;
}

static int rec_write(struct bus_dev *d, uint64_t off, const void *data,
		     uint32_t len)
{
	struct rec_dev *r = container_of(d, struct rec_dev, dev);

	r->writes++;
	r->last_off = off;
	r->last_len = len;
	r->last_val = 0;
	memcpy(&r->last_val, data, len);
	return 0;
}

static int fail_write(struct bus_dev *d, uint64_t off, const void *data,
		      uint32_t len)
{
	return -EIO;
}

static const struct bus_dev_ops rec_ops = { .read = rec_read, .write = rec_write };
static const struct bus_dev_ops fail_ops = { .write = fail_write };

START_TEST(test_register_overlap)
{
	struct rec_dev a = { .dev = { &rec_ops, "a" } }, b = { .dev = { &rec_ops, "b" } };
	struct bus *bus;

	ck_assert_int_eq(bus_create(&bus), 0);
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0x100, 0x10, &a.dev), 0);
	/* Every kind of overlap is refused. */
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0x100, 0x10, &b.dev), -EEXIST);
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0x10f, 1, &b.dev), -EEXIST);
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0xf0, 0x11, &b.dev), -EEXIST);
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0x0, 0x1000, &b.dev), -EEXIST);
	/* Adjacent ranges and other spaces are fine. */
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0x110, 0x10, &b.dev), 0);
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0xf0, 0x10, &b.dev), 0);
	ck_assert_int_eq(bus_register(bus, BUS_MMIO, 0x100, 0x10, &b.dev), 0);
	/* Degenerate ranges. */
	ck_assert_int_eq(bus_register(bus, BUS_MMIO, 0x5000, 0, &b.dev), -EINVAL);
	ck_assert_int_eq(bus_register(bus, BUS_MMIO, UINT64_MAX - 4, 16, &b.dev), -EINVAL);
	ck_assert_int_eq(bus_register(bus, BUS_MMIO, UINT64_MAX - 15, 16, &b.dev), 0);
	bus_destroy(bus);
}
END_TEST

START_TEST(test_dispatch)
{
	struct rec_dev a = { .dev = { &rec_ops, "a" } };
	struct bus *bus;
	uint32_t v = 0xdeadbeef;
	uint8_t buf[8];

	ck_assert_int_eq(bus_create(&bus), 0);
	ck_assert_int_eq(bus_register(bus, BUS_MMIO, 0x1000, 0x100, &a.dev), 0);
	ck_assert_int_eq(bus_access(bus, BUS_MMIO, 0x1004, &v, 4, true), 0);
	ck_assert_int_eq(a.writes, 1);
	ck_assert_uint_eq(a.last_off, 4);
	ck_assert_uint_eq(a.last_val, 0xdeadbeef);
	ck_assert_int_eq(bus_access(bus, BUS_MMIO, 0x10f8, buf, 8, false), 0);
	ck_assert_uint_eq(a.last_off, 0xf8);
	ck_assert_uint_eq(buf[0], 0x88);
	/* Unclaimed: reads all-ones, writes dropped, -ENODEV. */
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(bus_access(bus, BUS_MMIO, 0x2000, buf, 4, false), -ENODEV);
	ck_assert_uint_eq(buf[0], 0xff);
	ck_assert_uint_eq(buf[3], 0xff);
	/* Straddling the end of the range is not passed to the device. */
	ck_assert_int_eq(bus_access(bus, BUS_MMIO, 0x10fe, buf, 4, true), -ENODEV);
	ck_assert_int_eq(a.writes, 1);
	/* Same address in the other space misses. */
	ck_assert_int_eq(bus_access(bus, BUS_PIO, 0x1004, &v, 4, true), -ENODEV);
	/* Bad lengths. */
	ck_assert_int_eq(bus_access(bus, BUS_MMIO, 0x1000, buf, 0, false), -EINVAL);
	ck_assert_int_eq(bus_access(bus, BUS_MMIO, 0x1000, buf, 9, false), -EINVAL);
	bus_destroy(bus);
}
END_TEST

START_TEST(test_unregister_and_errors)
{
	struct rec_dev a = { .dev = { &rec_ops, "a" } }, b = { .dev = { &rec_ops, "b" } };
	struct bus_dev f = { &fail_ops, "fail" };
	struct bus *bus;
	uint32_t v = 1;
	uint8_t buf[4] = { 0 };

	ck_assert_int_eq(bus_create(&bus), 0);
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0x60, 5, &a.dev), 0);
	ck_assert_int_eq(bus_unregister(bus, BUS_PIO, 0x60, &b.dev), -ENOENT);
	ck_assert_int_eq(bus_unregister(bus, BUS_PIO, 0x61, &a.dev), -ENOENT);
	ck_assert_int_eq(bus_unregister(bus, BUS_PIO, 0x60, &a.dev), 0);
	ck_assert_int_eq(bus_access(bus, BUS_PIO, 0x60, &v, 1, true), -ENODEV);
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0x60, 5, &b.dev), 0);
	/* A device without a read op reads as all-ones; errors propagate. */
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0x80, 1, &f), 0);
	ck_assert_int_eq(bus_access(bus, BUS_PIO, 0x80, buf, 1, false), 0);
	ck_assert_uint_eq(buf[0], 0xff);
	ck_assert_int_eq(bus_access(bus, BUS_PIO, 0x80, &v, 1, true), -EIO);
	bus_destroy(bus);
}
END_TEST

/* Many ranges inserted out of order: every lookup still finds its owner. */
START_TEST(test_many_ranges)
{
	static struct rec_dev devs[200];
	struct bus *bus;
	uint8_t b;

	ck_assert_int_eq(bus_create(&bus), 0);
	for (int i = 0; i < 200; i++) {
		int slot = (i * 37) % 200;

		devs[slot].dev = (struct bus_dev){ &rec_ops, "r" };
		ck_assert_int_eq(bus_register(bus, BUS_MMIO, 0x10000 + slot * 0x100,
					      0x80, &devs[slot].dev), 0);
	}
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(bus_access(bus, BUS_MMIO, 0x10000 + i * 0x100 + 0x7f,
					    &b, 1, false), 0);
		ck_assert_int_eq(devs[i].reads, 1);
		ck_assert_int_eq(bus_access(bus, BUS_MMIO, 0x10000 + i * 0x100 + 0x80,
					    &b, 1, false), -ENODEV);
	}
	bus_destroy(bus);
}
END_TEST

static Suite *bus_suite(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_register_overlap);
	tcase_add_test(tc, test_dispatch);
	tcase_add_test(tc, test_unregister_and_errors);
	tcase_add_test(tc, test_many_ranges);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(bus_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
