/* SPDX-License-Identifier: MIT */
/* Unit tests for the line parser and median of tools/bench.c. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/bench.h"
#include "tools/bench_io.h"

static int parse(const char *line, const char *tag, struct bench_kvs *kvs)
{
	return bench_kv_parse(line, strlen(line), tag, kvs);
}

START_TEST(test_result_line)
{
	struct bench_kvs kvs;
	uint64_t count;
	double ns;

	ck_assert_int_eq(parse("RESULT test=mmio status=pass count=1000 "
			       "ns_per_op=26012.5\r\n", "RESULT", &kvs), 0);
	ck_assert_uint_eq(kvs.n, 4);
	ck_assert_str_eq(bench_kv_get(&kvs, "test"), "mmio");
	ck_assert_str_eq(bench_kv_get(&kvs, "status"), "pass");
	ck_assert_int_eq(bench_kv_get_u64(&kvs, "count", &count), 0);
	ck_assert_uint_eq(count, 1000);
	ck_assert_int_eq(bench_kv_get_double(&kvs, "ns_per_op", &ns), 0);
	ck_assert_double_eq_tol(ns, 26012.5, 1e-9);
	ck_assert_ptr_null(bench_kv_get(&kvs, "missing"));
	ck_assert_int_eq(bench_kv_get_double(&kvs, "missing", &ns), -ENOENT);
}
END_TEST

START_TEST(test_whitespace_and_end)
{
	struct bench_kvs kvs;

	/* Leading blanks, tabs, runs of spaces; the line stops at '\n'. */
	ck_assert_int_eq(parse("  RESULT\ttest=a   x=1 \nRESULT test=b y=2",
			       "RESULT", &kvs), 0);
	ck_assert_uint_eq(kvs.n, 2);
	ck_assert_str_eq(bench_kv_get(&kvs, "test"), "a");
	ck_assert_ptr_null(bench_kv_get(&kvs, "y"));
	/* A tag with nothing after it is a valid, empty line. */
	ck_assert_int_eq(parse("RESULT", "RESULT", &kvs), 0);
	ck_assert_uint_eq(kvs.n, 0);
	/* `len` bounds the scan even without a NUL or newline. */
	ck_assert_int_eq(bench_kv_parse("RESULT test=abcdef", 13, "RESULT",
					&kvs), 0);
	ck_assert_str_eq(bench_kv_get(&kvs, "test"), "a");
}
END_TEST

START_TEST(test_not_a_result)
{
	struct bench_kvs kvs;

	ck_assert_int_eq(parse("hello from the guest", "RESULT", &kvs), -ENOENT);
	ck_assert_int_eq(parse("RESULTS test=a", "RESULT", &kvs), -ENOENT);
	ck_assert_int_eq(parse("xRESULT test=a", "RESULT", &kvs), -ENOENT);
	ck_assert_int_eq(parse("", "RESULT", &kvs), -ENOENT);
	ck_assert_int_eq(parse("RESU", "RESULT", &kvs), -ENOENT);
}
END_TEST

START_TEST(test_malformed)
{
	struct bench_kvs kvs;
	char big[512];

	ck_assert_int_eq(parse("RESULT test", "RESULT", &kvs), -EINVAL);
	ck_assert_int_eq(parse("RESULT =x", "RESULT", &kvs), -EINVAL);
	ck_assert_int_eq(parse("RESULT x=", "RESULT", &kvs), -EINVAL);
	ck_assert_int_eq(parse("RESULT k!y=1", "RESULT", &kvs), -EINVAL);
	/* An over-long value. */
	memset(big, 'v', sizeof(big));
	memcpy(big, "RESULT k=", 9);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(parse(big, "RESULT", &kvs), -E2BIG);
	/* More tokens than BENCH_KV_MAX. */
	big[0] = '\0';
	strcat(big, "RESULT");
	for (int i = 0; i <= BENCH_KV_MAX; i++)
		strcat(big, " a=1");
	ck_assert_int_eq(parse(big, "RESULT", &kvs), -E2BIG);
}
END_TEST

START_TEST(test_numbers)
{
	struct bench_kvs kvs;
	uint64_t u;
	double d;

	ck_assert_int_eq(parse("RESULT a=-1 b=1e400 c=nan d=12x e=0.5 f=007 "
			       "g=18446744073709551616", "RESULT", &kvs), 0);
	ck_assert_int_eq(bench_kv_get_double(&kvs, "a", &d), -EINVAL);
	ck_assert_int_eq(bench_kv_get_double(&kvs, "b", &d), -EINVAL);
	ck_assert_int_eq(bench_kv_get_double(&kvs, "c", &d), -EINVAL);
	ck_assert_int_eq(bench_kv_get_double(&kvs, "d", &d), -EINVAL);
	ck_assert_int_eq(bench_kv_get_double(&kvs, "e", &d), 0);
	ck_assert_double_eq_tol(d, 0.5, 1e-12);
	ck_assert_int_eq(bench_kv_get_u64(&kvs, "a", &u), -EINVAL);
	ck_assert_int_eq(bench_kv_get_u64(&kvs, "e", &u), -EINVAL);
	ck_assert_int_eq(bench_kv_get_u64(&kvs, "f", &u), 0);
	ck_assert_uint_eq(u, 7);
	ck_assert_int_eq(bench_kv_get_u64(&kvs, "g", &u), -EINVAL);
}
END_TEST

START_TEST(test_stats_line)
{
	static const char err[] =
		"iovmm: uart0: something\n"
		"iovmm-stats: rss_hwm_kb=4100 rss_anon_kb=900 rss_file_kb=1200 "
		"rss_shmem_kb=2000 guest_ram_touched_kb=2000 exits=10042\n";
	struct bench_kvs kvs;
	uint64_t v;

	ck_assert_int_eq(bench_find_line(err, strlen(err), "iovmm-stats:",
					 NULL, &kvs), 0);
	ck_assert_int_eq(bench_kv_get_u64(&kvs, "rss_hwm_kb", &v), 0);
	ck_assert_uint_eq(v, 4100);
	ck_assert_int_eq(bench_kv_get_u64(&kvs, "exits", &v), 0);
	ck_assert_uint_eq(v, 10042);
}
END_TEST

START_TEST(test_find_line)
{
	static const char out[] =
		"kit: booting\r\n"
		"RESULT test=hello status=pass\r\n"
		"RESULT broken\r\n"
		"RESULT test=mmio status=pass ns_per_op=3";
	struct bench_kvs kvs;

	ck_assert_int_eq(bench_find_line(out, strlen(out), "RESULT", "mmio",
					 &kvs), 0);
	ck_assert_str_eq(bench_kv_get(&kvs, "ns_per_op"), "3");
	ck_assert_int_eq(bench_find_line(out, strlen(out), "RESULT", NULL,
					 &kvs), 0);
	ck_assert_str_eq(bench_kv_get(&kvs, "test"), "hello");
	ck_assert_int_eq(bench_find_line(out, strlen(out), "RESULT", "pio",
					 &kvs), -ENOENT);
	ck_assert_int_eq(bench_find_line("", 0, "RESULT", NULL, &kvs), -ENOENT);
}
END_TEST

START_TEST(test_median)
{
	double odd[] = { 5, 1, 3 };
	double even[] = { 4, 1, 3, 2 };
	double holes[] = { NAN, 10, NAN, 30, 20 };
	double none[] = { NAN, NAN };

	ck_assert_double_eq(bench_median(odd, 3), 3);
	ck_assert_double_eq(bench_median(even, 4), 2.5);
	ck_assert_double_eq(bench_median(holes, 5), 20);
	ck_assert(isnan(bench_median(none, 2)));
	ck_assert(isnan(bench_median(none, 0)));
}
END_TEST

/* Parses a callgrind output file held in memory. */
static int cg_parse(const char *text, const char *from, struct bench_insn *out)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	ck_assert_ptr_nonnull(f);
	ret = bench_callgrind_parse(f, from, out);
	fclose(f);
	return ret;
}

/*
 * The shape callgrind writes: compressed names, relative positions, a call
 * from vcpu.c into bus.c, and from bus.c one call into libc (another object:
 * not a handler), one into a device (counted) and one to a bus.c function
 * (no cfi=: the caller's file, not a handler). vcpu.c also calls the device
 * from code inlined from bus.h (fi=), and, back in its own lines (fe=), a
 * helper; the next function (fn=, same fl=) starts in vcpu.c again.
 */
static const char cg_file[] =
	"# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\n"
	"cmd:  iovmm run --cmdline test=mmio count=10\npart: 1\n\n"
	"positions: line\nevents: Ir\nsummary: 1999\n\n"
	"ob=(1) /b/tools/iovmm\nfl=(1) /b/../core/vcpu.c\nfn=(1) vcpu_thread\n"
	"10 100\ncfi=(2) /b/../core/bus.c\ncfn=(2) bus_access\ncalls=5 20\n"
	"11 600\n"
	"fi=(5) /b/../core/bus.h\ncfi=(4) /b/../core/pci/cfg.c\n"
	"cfn=(4) pci_bar_bus_write\ncalls=2 300\n12 70\n"
	"fe=(1)\ncfi=(6) /b/../core/other.c\ncfn=(6) helper\ncalls=1 5\n"
	"13 9\nfi=(5)\n"
	"fn=(7) vcpu_loop\n20 1\ncfi=(4)\ncfn=(4)\ncalls=1 300\n21 3\n\n"
	"fl=(2)\nfn=(2)\n20 50\n"
	"cob=(2) /usr/lib/libc.so.6\ncfi=(3) ./nptl/rwlock.c\n"
	"cfn=(3) pthread_rwlock_rdlock\ncalls=5 1\n+1 40\n"
	"cfi=(4) /b/../core/pci/cfg.c\ncfn=(4) pci_bar_bus_write\n"
	"calls=5 300\n* 500\n"
	"cfn=(5) bus_lookup\ncalls=5 +3\n-1 10\n"
	"fn=(5)\n30 10\n\n"
	"fl=(4)\nfn=(4)\n300 500\n\n"
	"ob=(2)\nfl=(3)\nfn=(3)\n1 40\n"
	"totals: 1000\n";

START_TEST(test_callgrind)
{
	struct bench_insn in;

	ck_assert_int_eq(cg_parse(cg_file, "/core/bus.c", &in), 0);
	ck_assert_uint_eq(in.total, 1000);	/* totals: wins over summary: */
	ck_assert_uint_eq(in.below, 500);
	/* With the inlined bus.h code; bus.c <-> bus.h calls are internal. */
	ck_assert_int_eq(cg_parse(cg_file, "/core/bus.c:/core/bus.h", &in), 0);
	ck_assert_uint_eq(in.below, 570);
	ck_assert_int_eq(cg_parse(cg_file, "/core/vcpu.c", &in), 0);
	ck_assert_uint_eq(in.below, 600 + 9 + 3);
	ck_assert_int_eq(cg_parse(cg_file, NULL, &in), 0);
	ck_assert_uint_eq(in.below, 0);
	/* Two position columns (--dump-instr=yes); summary: alone. */
	ck_assert_int_eq(cg_parse("positions: instr line\nevents: Ir\n"
				  "fl=(1) core/bus.c\nfn=(1) f\n0x10 3 7\n"
				  "cfl=(2) dev.c\ncfn=(2) g\ncalls=1 0x20 4\n"
				  "+3 * 70\nsummary: 77\n", "core/bus.c", &in), 0);
	ck_assert_uint_eq(in.total, 77);
	ck_assert_uint_eq(in.below, 70);
	/* Not callgrind's: no events, another first event, no totals. */
	ck_assert_int_eq(cg_parse("hello\n", NULL, &in), -EPROTO);
	ck_assert_int_eq(cg_parse("events: Dr Ir\ntotals: 5\n", NULL, &in),
			 -EPROTO);
	ck_assert_int_eq(cg_parse("events: Ir\nfn=(1) f\n1 5\n", NULL, &in),
			 -EPROTO);
	ck_assert_int_eq(cg_parse("events: Ir\nfl=(x) f\ntotals: 5\n", NULL,
				  &in), -EPROTO);
}
END_TEST

/* What a bench io run inside L1 prints with --raw, read back. */
START_TEST(test_io_raw)
{
	static const char out[] =
		"bench io: run 1/2\n"
		"BENCH-IO row=nvme-vf impl=iovmm run=0 throughput=5000 "
		"lat_p50_us=150.5 lat_p99_us=300 exits_per_op=0.02 cpu_us_per_op=210\n"
		"  BENCH-IO row=nvme-vf impl=qemu run=1 throughput=4000\r\n"
		"BENCH-IO row=nvme-vf impl=qemu run=2 throughput=1\n"	/* run >= runs */
		"BENCH-IO row=nope impl=iovmm run=0 throughput=1\n"
		"BENCH-IO row=nvme-vf impl=xen run=0 throughput=1\n"
		"BENCH-IO row=nvme-vf impl=iovmm run=1 bogus=1\n"
		"BENCH-IO row=nvme-vf impl=iovmm run=1 throughput=-5\n"
		"BENCH-IO row=nvme-vf impl=iovmm throughput=5\n"	/* no run */
		"BENCH-IO garbage\n"
		"BENCH-IO row=vhost-net status=skip\n"
		"BENCH-IOX row=nvme-vf impl=iovmm run=1 throughput=7\n";
	static struct io_data d;
	int vf = bench_io_row("nvme-vf"), vn = bench_io_row("vhost-net");
	unsigned rows = 0;

	ck_assert_int_ge(vf, 0);
	ck_assert_int_ge(vn, 0);
	ck_assert_int_eq(bench_io_row("nope"), -1);
	memset(&d, 0, sizeof(d));
	for (int i = 0; i < IO_NFIG; i++)
		for (int k = 0; k < IO_MAX_RUNS; k++)
			d.v[vf][IO_IOVMM][i][k] = d.v[vf][IO_QEMU][i][k] = NAN;
	ck_assert_uint_eq(bench_io_parse_raw(out, sizeof(out) - 1, "lab L1", 2,
					     &d, &rows), 7);
	ck_assert_uint_eq(rows, 2);
	ck_assert_double_eq(d.v[vf][IO_IOVMM][IO_TPUT][0], 5000);
	ck_assert_double_eq(d.v[vf][IO_IOVMM][IO_P50][0], 150.5);
	ck_assert_double_eq(d.v[vf][IO_IOVMM][IO_P99][0], 300);
	ck_assert_double_eq(d.v[vf][IO_IOVMM][IO_EXITS][0], 0.02);
	ck_assert_double_eq(d.v[vf][IO_IOVMM][IO_CPU][0], 210);
	ck_assert_double_eq(d.v[vf][IO_QEMU][IO_TPUT][1], 4000);
	ck_assert(isnan(d.v[vf][IO_QEMU][IO_TPUT][0]));
	ck_assert(isnan(d.v[vf][IO_IOVMM][IO_TPUT][1]));
	ck_assert_str_eq(d.where[vf], "lab L1");
	ck_assert_ptr_null(d.why[vf]);
	ck_assert_str_eq(d.where[vn], "lab L1");
	ck_assert_ptr_nonnull(d.why[vn]);
	/* Nothing at all: no rows, nothing ignored. */
	ck_assert_uint_eq(bench_io_parse_raw("", 0, "x", 1, &d, &rows), 0);
	ck_assert_uint_eq(rows, 0);
}
END_TEST

/* The statistics of the tables: median of a copy, min-max, NaN skipped. */
START_TEST(test_median_of_range)
{
	double v[] = { 3, NAN, 1, 7, 2 }, lo, hi;
	double none[] = { NAN, NAN };

	ck_assert_double_eq(bench_median_of(v, 5), 2.5);
	ck_assert_double_eq(v[0], 3);	/* left alone */
	ck_assert(isnan(v[1]));
	bench_range(v, 5, &lo, &hi);
	ck_assert_double_eq(lo, 1);
	ck_assert_double_eq(hi, 7);
	bench_range(none, 2, &lo, &hi);
	ck_assert(isnan(lo) && isnan(hi));
	ck_assert(isnan(bench_median_of(none, 2)));
	ck_assert_double_eq(bench_median_of(v, 1), 3);
}
END_TEST

/* /proc/PID/stat: utime + stime after the last ')' of a hostile comm. */
START_TEST(test_stat_cpu)
{
	uint64_t t = 0;
	double s = -1;

	ck_assert_int_eq(bench_stat_cpu_ticks("42 (a) (b c)) S 1 2 3 4 5 6 7 8 "
					      "9 10 111 222 0 0 20 0 1 0\n", &t), 0);
	ck_assert_uint_eq(t, 333);
	ck_assert_int_eq(bench_stat_cpu_ticks("42 (x S 1 2", &t), -EPROTO);
	ck_assert_int_eq(bench_stat_cpu_ticks("42 (x) S 1 2 3", &t), -EPROTO);
	ck_assert_int_eq(bench_pid_cpu_s(getpid(), &s), 0);
	ck_assert_double_ge(s, 0);
	/* Beyond pid_max (at most 2^22): no such process. */
	ck_assert_int_eq(bench_pid_cpu_s(1 << 23, &s), -ENOENT);
}
END_TEST

START_TEST(test_io_usage)
{
	char *badrow[] = { "io", "--rows", "e1000,nope", NULL };
	char *badruns[] = { "io", "--runs", "21", NULL };
	char *badblk[] = { "io", "--blk-count", "16385", NULL };
	char *extra[] = { "io", "stray", NULL };
	char *help[] = { "io", "--help", NULL };
	char *badvf[] = { "io", "--vf", "../../../etc", NULL };
	char *shortvf[] = { "io", "--vf", "01:00.1", NULL };

	ck_assert_int_eq(bench_io_main(3, badrow), 2);
	ck_assert_int_eq(bench_io_main(3, badruns), 2);
	ck_assert_int_eq(bench_io_main(3, badblk), 2);
	ck_assert_int_eq(bench_io_main(2, extra), 2);
	ck_assert_int_eq(bench_io_main(2, help), 0);
	ck_assert_int_eq(bench_io_main(3, badvf), 2);
	ck_assert_int_eq(bench_io_main(3, shortvf), 2);
}
END_TEST

START_TEST(test_main_usage)
{
	char *none[] = { "bench", NULL };
	char *bad[] = { "bench", "nope", NULL };
	char *badopt[] = { "bench", "exits", "--runs", "0", NULL };
	char *nothing[] = { "bench", "exits", "--insn-only", "--no-insn", NULL };

	ck_assert_int_eq(bench_main(1, none), 2);
	ck_assert_int_eq(bench_main(2, bad), 2);
	ck_assert_int_eq(bench_main(4, badopt), 2);
	ck_assert_int_eq(bench_main(4, nothing), 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bench");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_result_line);
	tcase_add_test(tc, test_whitespace_and_end);
	tcase_add_test(tc, test_not_a_result);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_stats_line);
	tcase_add_test(tc, test_find_line);
	tcase_add_test(tc, test_median);
	tcase_add_test(tc, test_callgrind);
	tcase_add_test(tc, test_main_usage);
	tcase_add_test(tc, test_io_raw);
	tcase_add_test(tc, test_median_of_range);
	tcase_add_test(tc, test_stat_cpu);
	tcase_add_test(tc, test_io_usage);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
