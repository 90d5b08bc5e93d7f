// SPDX-License-Identifier: MIT
/*
 * The bus's lock-free readers (core/bus.c): lookups from reader threads
 * while other threads register, unregister and move ranges, as vCPUs
 * dispatching exits while a guest (on a vCPU thread) or the main thread
 * moves BARs.
 *
 * What would show a reclamation bug: a replaced array freed while a reader
 * still searches it. bus.c clears an array before freeing it, so such a
 * reader finds nothing where a range that is never unregistered lives (a
 * "stable miss"), or reads memory malloc has handed out again (a wrong
 * device or offset); under ASan (`make asan`) it is a heap-use-after-free,
 * under TSan (-Db_sanitize=thread) a race with free().
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "core/bus.h"
#include "core/bus_reader.h"
#include "core/util.h"

/* A device that checks every offset it is given against its range. */
struct chk_dev {
	struct bus_dev dev;
	uint64_t len;
	_Atomic uint64_t hits;
	_Atomic uint64_t bad_off;	/* offsets outside [0, len - len) */
	/* For the self-moving device: where it is and where it goes next. */
	struct bus *bus;
	uint64_t base, other;
};

static int chk_access(struct chk_dev *c, uint64_t off, uint32_t len)
{
	if (off + len > c->len)
		atomic_fetch_add(&c->bad_off, 1);
	atomic_fetch_add(&c->hits, 1);
	return 0;
}

static int chk_read(struct bus_dev *d, uint64_t off, void *data, uint32_t len)
{
	struct chk_dev *c = container_of(d, struct chk_dev, dev);

	memset(data, 0x5a, len);
	return chk_access(c, off, len);
}

static int chk_write(struct bus_dev *d, uint64_t off, const void *data,
		     uint32_t len)
{
	return chk_access(container_of(d, struct chk_dev, dev), off, len);
}

static const struct bus_dev_ops chk_ops = { .read = chk_read,
					    .write = chk_write };

static void chk_init(struct chk_dev *c, const char *name, uint64_t len)
{
	memset(c, 0, sizeof(*c));
	c->dev = (struct bus_dev){ &chk_ops, name };
	c->len = len;
}

/* Same answers as bus_access(), including across changes of the array. */
START_TEST(test_reader_dispatch)
{
	struct chk_dev a, b;
	struct bus_reader *r, *r2;
	struct bus *bus;
	uint8_t buf[8];
	uint32_t v = 1;

	chk_init(&a, "a", 0x100);
	chk_init(&b, "b", 0x10);
	ck_assert_int_eq(bus_create(&bus), 0);
	ck_assert_int_eq(bus_reader_register(bus, &r), 0);
	/* Empty bus: a miss, reads all-ones. */
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(bus_reader_access(r, BUS_MMIO, 0x1000, buf, 4, false),
			 -ENODEV);
	ck_assert_uint_eq(buf[3], 0xff);
	ck_assert_int_eq(bus_register(bus, BUS_MMIO, 0x1000, 0x100, &a.dev), 0);
	ck_assert_int_eq(bus_reader_access(r, BUS_MMIO, 0x10fc, &v, 4, true), 0);
	ck_assert_uint_eq(a.hits, 1);
	/* Straddling the end, other space, bad lengths and spaces. */
	ck_assert_int_eq(bus_reader_access(r, BUS_MMIO, 0x10fe, &v, 4, true),
			 -ENODEV);
	ck_assert_int_eq(bus_reader_access(r, BUS_PIO, 0x1000, &v, 4, true),
			 -ENODEV);
	ck_assert_int_eq(bus_reader_access(r, BUS_MMIO, 0x1000, buf, 0, false),
			 -EINVAL);
	ck_assert_int_eq(bus_reader_access(r, BUS_MMIO, 0x1000, buf, 9, false),
			 -EINVAL);
	ck_assert_int_eq(bus_reader_access(r, BUS_NR_SPACES, 0x1000, buf, 1,
					   false), -EINVAL);
	/* Below a, so a's index changes: the reader's hint must not lie. */
	ck_assert_int_eq(bus_register(bus, BUS_MMIO, 0x800, 0x10, &b.dev), 0);
	ck_assert_int_eq(bus_reader_access(r, BUS_MMIO, 0x1000, &v, 4, true), 0);
	ck_assert_uint_eq(a.hits, 2);
	ck_assert_int_eq(bus_reader_access(r, BUS_MMIO, 0x80f, buf, 1, false), 0);
	ck_assert_uint_eq(b.hits, 1);
	ck_assert_uint_eq(buf[0], 0x5a);
	ck_assert_int_eq(bus_unregister(bus, BUS_MMIO, 0x800, &b.dev), 0);
	/* The hint points past the end of the smaller array now. */
	ck_assert_int_eq(bus_reader_access(r, BUS_MMIO, 0x1000, &v, 4, true), 0);
	ck_assert_int_eq(bus_reader_access(r, BUS_MMIO, 0x800, &v, 4, true),
			 -ENODEV);
	ck_assert_int_eq(bus_unregister(bus, BUS_MMIO, 0x1000, &a.dev), 0);
	ck_assert_int_eq(bus_reader_access(r, BUS_MMIO, 0x1000, &v, 4, true),
			 -ENODEV);
	ck_assert_uint_eq(a.hits, 3);
	ck_assert_uint_eq(a.bad_off + b.bad_off, 0);
	/* A slot given back is reused; one still registered is freed by
	 * bus_destroy() (ASan's leak check tells). */
	bus_reader_unregister(r);
	ck_assert_int_eq(bus_reader_register(bus, &r2), 0);
	ck_assert_ptr_eq(r, r2);
	bus_reader_unregister(NULL);
	bus_destroy(bus);
}
END_TEST

/*
 * A handler that moves its own range (a guest writing a BAR from a vCPU):
 * the handler runs after the lookup has ended, so it can write the bus.
 */
static int mover_write(struct bus_dev *d, uint64_t off, const void *data,
		       uint32_t len)
{
	struct chk_dev *c = container_of(d, struct chk_dev, dev);
	uint64_t to = c->other;

	chk_access(c, off, len);
	if (bus_unregister(c->bus, BUS_MMIO, c->base, d) != 0 ||
	    bus_register(c->bus, BUS_MMIO, to, c->len, d) != 0)
		atomic_fetch_add(&c->bad_off, 1);
	c->other = c->base;
	c->base = to;
	return 0;
}

static const struct bus_dev_ops mover_ops = { .write = mover_write };

START_TEST(test_handler_moves_its_range)
{
	struct chk_dev m;
	struct bus_reader *r;
	struct bus *bus;
	uint32_t v = 0;

	chk_init(&m, "mover", 0x1000);
	m.dev.ops = &mover_ops;
	m.base = 0xa0000;
	m.other = 0xb0000;
	ck_assert_int_eq(bus_create(&bus), 0);
	m.bus = bus;
	ck_assert_int_eq(bus_reader_register(bus, &r), 0);
	ck_assert_int_eq(bus_register(bus, BUS_MMIO, m.base, m.len, &m.dev), 0);
	for (int i = 0; i < 100; i++) {
		uint64_t at = m.base;

		ck_assert_int_eq(bus_reader_access(r, BUS_MMIO, at + 8, &v, 4,
						   true), 0);
		ck_assert_uint_eq(m.base, at == 0xa0000 ? 0xb0000 : 0xa0000);
		ck_assert_int_eq(bus_reader_access(r, BUS_MMIO, at + 8, &v, 4,
						   true), -ENODEV);
	}
	/* The same through the locked path. */
	ck_assert_int_eq(bus_access(bus, BUS_MMIO, m.base, &v, 4, true), 0);
	ck_assert_uint_eq(m.hits, 101);
	ck_assert_uint_eq(m.bad_off, 0);
	bus_destroy(bus);
}
END_TEST

/* ---- readers against writers ------------------------------------------ */

#define NR_READERS 3
#define NR_CHURN 8
#define STABLE_BASE 0x100000ULL
#define CHURN_BASE 0x200000ULL
#define CHURN_STRIDE 0x1000ULL

struct stress {
	struct bus *bus;
	struct chk_dev stable[2];		/* never unregistered */
	struct chk_dev churn[NR_CHURN];	/* registered, moved, removed */
	_Atomic bool stop;
	_Atomic uint64_t stable_miss, lookups;
	uint64_t short_lookups;		/* per short-lived reader */
	unsigned int updates;			/* per writer */
};

/* Deterministic per-thread pseudo-random numbers (xorshift64). */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Until st->stop, or `limit` lookups when it is not 0. */
static void *reader_loop(struct stress *st, uint64_t limit)
{
	struct bus_reader *r;
	uint64_t seed = (uint64_t)(uintptr_t)&r | 1, n = 0;
	uint32_t v = 0;

	if (bus_reader_register(st->bus, &r) != 0)
		return (void *)1;
	while (!atomic_load(&st->stop) && (!limit || n < limit)) {
		uint64_t x = next_rand(&seed);
		int s = (int)(x & 1);

		/* The stable ranges must always be found, wherever the
		 * lookups before went. */
		if (bus_reader_access(r, BUS_MMIO, STABLE_BASE + s * 0x10000 +
				      (x >> 8) % 0x100, &v, 1, x & 2) != 0)
			atomic_fetch_add(&st->stable_miss, 1);
		/* Somewhere in the churn window: a hit or a miss, either is
		 * right; the device checks the offset it gets. */
		bus_reader_access(r, BUS_MMIO,
				  CHURN_BASE + (x >> 16) % (4 * NR_CHURN *
							    CHURN_STRIDE),
				  &v, 4, x & 4);
		n += 2;
	}
	atomic_fetch_add(&st->lookups, n);
	bus_reader_unregister(r);
	return NULL;
}

static void *reader_thread(void *arg)
{
	return reader_loop(arg, 0);
}

static void *short_reader_thread(void *arg)
{
	struct stress *st = arg;

	return reader_loop(st, st->short_lookups);
}

/* Registers, moves (unregister + register elsewhere) and removes ranges. */
static void *writer_thread(void *arg)
{
	struct stress *st = arg;
	uint64_t seed = (uint64_t)(uintptr_t)&seed | 1;
	uint64_t where[NR_CHURN] = { 0 };	/* 0: not registered */

	for (unsigned int i = 0; i < st->updates; i++) {
		uint64_t x = next_rand(&seed);
		unsigned int k = (unsigned int)(x % NR_CHURN);
		struct chk_dev *c = &st->churn[k];
		uint64_t to = CHURN_BASE +
			      ((x >> 8) % (4 * NR_CHURN)) * CHURN_STRIDE;

		if (where[k] && bus_unregister(st->bus, BUS_MMIO, where[k],
					       &c->dev) != 0)
			return (void *)1;
		where[k] = 0;
		if ((x >> 40) % 4 != 0 &&
		    bus_register(st->bus, BUS_MMIO, to, c->len, &c->dev) == 0)
			where[k] = to;	/* -EEXIST: a slot another one holds */
	}
	for (unsigned int k = 0; k < NR_CHURN; k++)
		if (where[k])
			bus_unregister(st->bus, BUS_MMIO, where[k],
				       &st->churn[k].dev);
	return NULL;
}

/*
 * Two writers (the main thread and a "vCPU" moving BARs share the bus)
 * against NR_READERS lock-free readers, with readers coming and going.
 */
START_TEST(test_lookup_vs_update)
{
	static struct stress st;
	pthread_t rd[NR_READERS], wr[2];
	uint64_t bad = 0;
	void *res;

	memset(&st, 0, sizeof(st));
	st.updates = 20000;
	ck_assert_int_eq(bus_create(&st.bus), 0);
	for (int s = 0; s < 2; s++) {
		chk_init(&st.stable[s], "stable", 0x100);
		ck_assert_int_eq(bus_register(st.bus, BUS_MMIO,
					      STABLE_BASE + s * 0x10000, 0x100,
					      &st.stable[s].dev), 0);
	}
	/* Both writers place the same devices (a device may own several
	 * ranges); each removes only what it placed. */
	for (int k = 0; k < NR_CHURN; k++)
		chk_init(&st.churn[k], "churn", CHURN_STRIDE / (1 + k % 3));
	for (int i = 0; i < NR_READERS; i++)
		ck_assert_int_eq(pthread_create(&rd[i], NULL, reader_thread,
						&st), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&wr[i], NULL, writer_thread,
						&st), 0);
	/* Readers come and go while the writers run (slots are reused). */
	st.short_lookups = 2000;
	for (int i = 0; i < 20; i++) {
		pthread_t extra;

		ck_assert_int_eq(pthread_create(&extra, NULL,
						short_reader_thread, &st), 0);
		ck_assert_int_eq(pthread_join(extra, &res), 0);
		ck_assert_ptr_null(res);
	}
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_join(wr[i], &res), 0);
		ck_assert_ptr_null(res);
	}
	atomic_store(&st.stop, true);
	for (int i = 0; i < NR_READERS; i++) {
		ck_assert_int_eq(pthread_join(rd[i], &res), 0);
		ck_assert_ptr_null(res);
	}
	ck_assert_uint_eq(st.stable_miss, 0);
	for (int s = 0; s < 2; s++)
		bad += st.stable[s].bad_off;
	for (int k = 0; k < NR_CHURN; k++)
		bad += st.churn[k].bad_off;
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_gt(st.lookups, 0);
	bus_destroy(st.bus);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bus-concurrent");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_reader_dispatch);
	tcase_add_test(tc, test_handler_moves_its_range);
	tcase_add_test(tc, test_lookup_vs_update);
	/* Generous for sanitizer builds on a busy 2-core host. */
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
