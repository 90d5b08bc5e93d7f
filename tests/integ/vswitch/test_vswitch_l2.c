// SPDX-License-Identifier: MIT
/* iovmm-vswitch's MAC learning table (vhost-user/dpdk/l2.c): no DPDK. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "vhost-user/dpdk/l2.h"

static void mac_of(uint32_t n, uint8_t mac[6])
{
	mac[0] = 0x02;	/* locally administered unicast */
	mac[1] = 0x00;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

START_TEST(test_create_args)
{
	struct vsw_l2 *t = (void *)1;

	ck_assert_int_eq(vsw_l2_create(0, 10, &t), -EINVAL);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(vsw_l2_create((1u << 24) + 1, 10, &t), -EINVAL);
	ck_assert_int_eq(vsw_l2_create(100, 10, &t), 0);
	ck_assert_uint_eq(vsw_l2_capacity(t), 128);
	vsw_l2_destroy(t);
	ck_assert_int_eq(vsw_l2_create(1, 10, &t), 0);
	ck_assert_uint_eq(vsw_l2_capacity(t), VSW_L2_BUCKET);
	vsw_l2_destroy(t);
	vsw_l2_destroy(NULL);
}
END_TEST

START_TEST(test_learn_lookup_move)
{
	struct vsw_l2 *t;
	uint8_t a[6], b[6];

	mac_of(1, a);
	mac_of(2, b);
	ck_assert_int_eq(vsw_l2_create(64, 1000, &t), 0);
	ck_assert_int_eq(vsw_l2_lookup(t, a, 0), -1);
	ck_assert_int_eq(vsw_l2_learn(t, a, 3, 10), 0);
	ck_assert_int_eq(vsw_l2_learn(t, b, 0, 10), 0);
	ck_assert_int_eq(vsw_l2_lookup(t, a, 11), 3);
	ck_assert_int_eq(vsw_l2_lookup(t, b, 11), 0);
	/* The station moved: one entry, new port. */
	ck_assert_int_eq(vsw_l2_learn(t, a, 7, 20), 0);
	ck_assert_int_eq(vsw_l2_lookup(t, a, 21), 7);
	ck_assert_uint_eq(vsw_l2_count(t, 21), 2);
	ck_assert_int_eq(vsw_l2_learn(t, a, VSW_L2_MAX_PORT + 1, 20), -EINVAL);
	ck_assert_int_eq(vsw_l2_learn(t, a, VSW_L2_MAX_PORT, 20), 0);
	ck_assert_int_eq(vsw_l2_lookup(t, a, 21), VSW_L2_MAX_PORT);
	vsw_l2_destroy(t);
}
END_TEST

START_TEST(test_ageing)
{
	struct vsw_l2 *t;
	uint8_t a[6], b[6];

	mac_of(1, a);
	mac_of(2, b);
	ck_assert_int_eq(vsw_l2_create(64, 1000, &t), 0);
	vsw_l2_learn(t, a, 1, 0);
	vsw_l2_learn(t, b, 2, 0);
	ck_assert_int_eq(vsw_l2_lookup(t, a, 999), 1);
	/* b keeps talking: refreshed (after age/8) and stays. */
	vsw_l2_learn(t, b, 2, 500);
	ck_assert_int_eq(vsw_l2_lookup(t, a, 1000), -1);
	ck_assert_int_eq(vsw_l2_lookup(t, b, 1000), 2);
	ck_assert_uint_eq(vsw_l2_count(t, 1000), 1);
	ck_assert_int_eq(vsw_l2_lookup(t, b, 1499), 2);
	ck_assert_int_eq(vsw_l2_lookup(t, b, 1500), -1);
	ck_assert_uint_eq(vsw_l2_count(t, 1500), 0);
	/* An aged-out MAC is learned again. */
	vsw_l2_learn(t, a, 4, 5000);
	ck_assert_int_eq(vsw_l2_lookup(t, a, 5001), 4);
	/* A refresh inside age/8 is skipped, so the entry keeps its first
	 * time: learned at 5000, refreshed at 5100 (skipped), gone at 6000. */
	vsw_l2_learn(t, a, 4, 5100);
	ck_assert_int_eq(vsw_l2_lookup(t, a, 6000), -1);
	vsw_l2_destroy(t);
}
END_TEST

START_TEST(test_no_ageing)
{
	struct vsw_l2 *t;
	uint8_t a[6];

	mac_of(9, a);
	ck_assert_int_eq(vsw_l2_create(16, 0, &t), 0);
	vsw_l2_learn(t, a, 5, 1);
	ck_assert_int_eq(vsw_l2_lookup(t, a, UINT64_MAX / 2), 5);
	vsw_l2_destroy(t);
}
END_TEST

/* More MACs than the table holds: every lookup is right or a miss, the most
 * recent ones are all found, the count never exceeds the capacity. */
START_TEST(test_full_table_evicts_oldest)
{
	struct vsw_l2 *t;
	uint8_t m[6];
	unsigned found = 0;

	ck_assert_int_eq(vsw_l2_create(256, 0, &t), 0);
	for (uint32_t i = 0; i < 4096; i++) {
		mac_of(i, m);
		vsw_l2_learn(t, m, (uint16_t)(i % 100), i);
	}
	ck_assert_uint_le(vsw_l2_count(t, 5000), 256);
	for (uint32_t i = 0; i < 4096; i++) {
		int p;

		mac_of(i, m);
		p = vsw_l2_lookup(t, m, 5000);
		if (p >= 0) {
			ck_assert_int_eq(p, (int)(i % 100));
			found++;
		}
	}
	ck_assert_uint_gt(found, 128);
	/* The newest entry of any bucket survives: the last MAC learned. */
	mac_of(4095, m);
	ck_assert_int_eq(vsw_l2_lookup(t, m, 5000), 4095 % 100);
	vsw_l2_destroy(t);
}
END_TEST

START_TEST(test_flush_port)
{
	struct vsw_l2 *t;
	uint8_t m[6];

	ck_assert_int_eq(vsw_l2_create(1024, 0, &t), 0);
	for (uint32_t i = 0; i < 300; i++) {
		mac_of(i, m);
		vsw_l2_learn(t, m, (uint16_t)(i % 3), 1);
	}
	ck_assert_uint_eq(vsw_l2_count(t, 2), 300);
	ck_assert_uint_eq(vsw_l2_flush_port(t, 1), 100);
	ck_assert_uint_eq(vsw_l2_count(t, 2), 200);
	for (uint32_t i = 0; i < 300; i++) {
		mac_of(i, m);
		ck_assert_int_eq(vsw_l2_lookup(t, m, 2), i % 3 == 1 ? -1 : (int)(i % 3));
	}
	vsw_l2_destroy(t);
}
END_TEST

struct race {
	struct vsw_l2 *t;
	uint16_t port;
	int bad;
};

/* Learners and readers at once: a reader must never see a MAC with a port
 * that no thread ever learned it on (a torn entry). */
static void *race_thread(void *arg)
{
	struct race *r = arg;
	uint8_t m[6];

	for (uint32_t round = 0; round < 200; round++) {
		for (uint32_t i = 0; i < 512; i++) {
			int p;

			mac_of(i, m);
			vsw_l2_learn(r->t, m, (uint16_t)(r->port + (i & 1)), round);
			p = vsw_l2_lookup(r->t, m, round);
			/* Thread k learns MAC i on port 10k + (i & 1). */
			if (p >= 0 && (p % 10) != (int)(i & 1))
				r->bad++;
		}
	}
	return NULL;
}

START_TEST(test_concurrent)
{
	struct race r[4];
	pthread_t th[4];
	struct vsw_l2 *t;

	ck_assert_int_eq(vsw_l2_create(2048, 0, &t), 0);
	for (int k = 0; k < 4; k++) {
		r[k] = (struct race){ .t = t, .port = (uint16_t)(10 * k) };
		ck_assert_int_eq(pthread_create(&th[k], NULL, race_thread, &r[k]), 0);
	}
	for (int k = 0; k < 4; k++) {
		pthread_join(th[k], NULL);
		ck_assert_int_eq(r[k].bad, 0);
	}
	ck_assert_uint_le(vsw_l2_count(t, 300), 2048);
	ck_assert_uint_ge(vsw_l2_count(t, 300), 512);
	vsw_l2_destroy(t);
}
END_TEST

static Suite *l2_suite(void)
{
	Suite *s = suite_create("vswitch-l2");
	TCase *tc = tcase_create("l2");

	tcase_add_test(tc, test_create_args);
	tcase_add_test(tc, test_learn_lookup_move);
	tcase_add_test(tc, test_ageing);
	tcase_add_test(tc, test_no_ageing);
	tcase_add_test(tc, test_full_table_evicts_oldest);
	tcase_add_test(tc, test_flush_port);
	tcase_add_test(tc, test_concurrent);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(l2_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
