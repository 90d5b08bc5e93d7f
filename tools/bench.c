/* SPDX-License-Identifier: MIT */
/*
 * `iovmm bench exits`: exit cost, startup time and memory footprint of iovmm,
 * compared in one run with the raw KVM floor (tests/bench/rawkvm) and with
 * QEMU running the same guest kit. This host is shared and noisy, so every
 * figure is a median over --runs runs and the comparison that matters is the
 * ratio measured in the same run (docs/benchmarks.md).
 *
 * Everything is a child process: iovmm runs as `<self> run ...`, so a crash
 * or hang of the VMM under test cannot take the driver down, and the
 * driver's own footprint never pollutes the numbers.
 *
 * Time per exit depends on the host (tens of microseconds on a paravirtual
 * KVM, ~1-3 us on hardware), so the exit path is also measured in a unit
 * that does not: instructions executed in userspace per exit, counted by
 * valgrind's callgrind (KVM_RUN passes through it; the guest runs natively
 * and is not counted) in two runs that differ only in the exit count, so
 * start-up and shutdown cancel out of the slope.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "tools/bench.h"

/* ---- configuration and the test table --------------------------------- */

#define BENCH_MAX_RUNS 100
#define BENCH_QEMU_MACHINE "microvm,pcie=on"

enum bench_impl { BENCH_IOVMM, BENCH_RAW, BENCH_QEMU, BENCH_NIMPL };

static const char *const bench_impl_name[BENCH_NIMPL] = {
	[BENCH_IOVMM] = "iovmm", [BENCH_RAW] = "raw", [BENCH_QEMU] = "qemu",
};

/*
 * One row per exit test. `kit` and `raw` are the test names in the guest kit
 * (guest/main.c) and in rawkvm; `target` is the iovmm/raw ratio to meet (0:
 * informational). QEMU's machine type is per test: microvm,pcie=on boots in
 * ~50 ms (q35 takes ~4 s in SeaBIOS here) and the kit finds its ECAM-only
 * PCIe through ACPI MCFG (guest/README.md).
 */
struct bench_exit_test {
	const char *label;
	const char *kit;
	const char *raw;
	const char *qemu_machine;
	double target;
	int insn;	/* exits to userspace: instructions per exit measured */
};

static const struct bench_exit_test bench_exit_tests[] = {
	{ .label = "mmio (cpl3)", .kit = "mmio", .raw = "mmio",
	  .qemu_machine = BENCH_QEMU_MACHINE, .target = 1.10, .insn = 1 },
	{ .label = "ioeventfd", .kit = "ioeventfd", .raw = "ioeventfd",
	  .qemu_machine = BENCH_QEMU_MACHINE, .target = 0 },
	/* microvm's PCIe host has no I/O window for pci-testdev's PIO BAR. */
	{ .label = "pio (cpl0)", .kit = "pio", .raw = "pio",
	  .qemu_machine = "q35", .target = 1.10, .insn = 1 },
};
#define BENCH_NTESTS ARRAY_SIZE(bench_exit_tests)

#define BENCH_STARTUP_TARGET_MS 10.0
#define BENCH_RSS_TARGET_MIB 3.0
#define BENCH_GUEST_MEM_MIB 256
/* iovmm's userspace instructions per exit vs the raw loop's (issue 13). */
#define BENCH_INSN_TARGET 2.0
/*
 * The files whose outgoing calls are the bus handlers (the device models):
 * the bus, and its read side inlined into the vCPU loop from its headers.
 */
#define BENCH_BUS_FILE "/core/bus.c:/core/bus.h:/core/bus_reader.h"

/* Instruction series per exit test. */
enum bench_insn_series {
	BENCH_INSN_IOVMM,	/* all of iovmm's userspace */
	BENCH_INSN_RAW,		/* all of rawkvm's userspace */
	BENCH_INSN_HANDLERS,	/* iovmm, inside the bus handlers (devices) */
	BENCH_INSN_PATH,	/* iovmm minus its handlers: the exit path */
	BENCH_NINSN
};

static const char *const bench_insn_name[BENCH_NINSN] = {
	[BENCH_INSN_IOVMM] = "iovmm", [BENCH_INSN_RAW] = "raw",
	[BENCH_INSN_HANDLERS] = "iovmm_handlers",
	[BENCH_INSN_PATH] = "iovmm_path",
};

struct bench_cfg {
	unsigned int runs;
	uint64_t count;
	double timeout_s;
	const char *json;
	const char *kit;
	const char *raw;
	const char *qemu;		/* NULL: --no-qemu */
	const char *qemu_machine;	/* overrides the table when set */
	const char *iovmm;		/* NULL: --no-iovmm */
	const char *valgrind;		/* NULL: --no-insn */
	int timed;			/* 0: --insn-only */
	uint64_t insn_lo, insn_hi;	/* exit counts of the two callgrind runs */
	char self[PATH_MAX];
	char kit_buf[PATH_MAX];
	char raw_buf[PATH_MAX];
};

/* Every sample of one invocation; NaN marks a failed or skipped run. */
struct bench_data {
	double ns[BENCH_NTESTS][BENCH_NIMPL][BENCH_MAX_RUNS];
	double raw_host_ns[BENCH_NTESTS][BENCH_MAX_RUNS];
	double iovmm_exits[BENCH_NTESTS][BENCH_MAX_RUNS];
	double startup_ms[2][BENCH_MAX_RUNS];	/* [0] iovmm, [1] qemu */
	double maxrss_kb[2][BENCH_MAX_RUNS];
	double hwm_kb[BENCH_MAX_RUNS];		/* iovmm-stats */
	double shmem_kb[BENCH_MAX_RUNS];
	double beyond_kb[BENCH_MAX_RUNS];
	double insn[BENCH_NTESTS][BENCH_NINSN][BENCH_MAX_RUNS];
	/* Only doubles above this line: bench_data_init() relies on it. */
	unsigned int runs;
	unsigned int failures;
};

/* Medians derived from bench_data. */
struct bench_summary {
	double ns[BENCH_NTESTS][BENCH_NIMPL];
	double insn[BENCH_NTESTS][BENCH_NINSN];
	double startup_ms[2];
	double maxrss_kb[2];
	double beyond_kb;
};

/* ---- running the three implementations -------------------------------- */

static void bench_kit_cmdline(char *buf, size_t len, const char *test,
			      uint64_t count)
{
	if (count)
		snprintf(buf, len, "test=%s count=%" PRIu64, test, count);
	else
		snprintf(buf, len, "test=%s", test);
}

/* Runs the kit once under iovmm (impl 0) or QEMU (impl 1). */
static int bench_run_kit(const struct bench_cfg *cfg, int qemu,
			 const char *machine, const char *test, uint64_t count,
			 struct bench_proc *r, struct bench_kvs *res)
{
	char cmdline[128];
	int ret;

	bench_kit_cmdline(cmdline, sizeof(cmdline), test, count);
	if (qemu) {
		char *const argv[] = {
			(char *)cfg->qemu, "-accel", "kvm", "-M", (char *)machine,
			"-m", "256", "-nographic", "-no-reboot", "-nodefaults",
			"-serial", "stdio", "-kernel", (char *)cfg->kit,
			"-append", cmdline,
			"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
			"-device", "pci-testdev", "-device", "edu", NULL
		};
		ret = bench_spawn(argv, cfg->timeout_s, r);
	} else {
		char *const argv[] = {
			(char *)cfg->iovmm, "run", "--kernel", (char *)cfg->kit,
			"--mem", "256M", "--device", "pci-testdev",
			"--device", "edu", "--cmdline", cmdline, "--stats", NULL
		};
		ret = bench_spawn(argv, cfg->timeout_s, r);
	}
	if (ret < 0) {
		bench_warn(qemu ? "qemu" : "iovmm", test, strerror(-ret), NULL);
		return ret;
	}
	return bench_kit_ok(qemu ? "qemu" : "iovmm", test, r, res);
}

static double bench_ns_per_op(const char *who, const char *test,
			      const struct bench_kvs *res)
{
	double v;

	if (bench_kv_get_double(res, "ns_per_op", &v) < 0) {
		bench_warn(who, test, "RESULT line has no valid ns_per_op", NULL);
		return NAN;
	}
	return v;
}

static void bench_exit_iovmm(const struct bench_cfg *cfg, size_t t,
			     unsigned int run, struct bench_data *d)
{
	const struct bench_exit_test *et = &bench_exit_tests[t];
	struct bench_kvs res, stats;
	struct bench_proc r;
	uint64_t exits;

	if (bench_run_kit(cfg, 0, NULL, et->kit, cfg->count, &r, &res) == 0) {
		d->ns[t][BENCH_IOVMM][run] = bench_ns_per_op("iovmm", et->kit, &res);
		if (bench_find_line(r.err.p ? r.err.p : "", r.err.len,
				    "iovmm-stats:", NULL, &stats) == 0 &&
		    bench_kv_get_u64(&stats, "exits", &exits) == 0)
			d->iovmm_exits[t][run] = (double)exits;
	}
	bench_proc_free(&r);
}

static void bench_exit_qemu(const struct bench_cfg *cfg, size_t t,
			    unsigned int run, struct bench_data *d)
{
	const struct bench_exit_test *et = &bench_exit_tests[t];
	const char *machine = cfg->qemu_machine ? cfg->qemu_machine
						: et->qemu_machine;
	struct bench_kvs res;
	struct bench_proc r;

	if (bench_run_kit(cfg, 1, machine, et->kit, cfg->count, &r, &res) == 0)
		d->ns[t][BENCH_QEMU][run] = bench_ns_per_op("qemu", et->kit, &res);
	bench_proc_free(&r);
}

/* One rawkvm process measures every exit test of this run. */
static void bench_exit_raw(const struct bench_cfg *cfg, unsigned int run,
			   struct bench_data *d)
{
	char count[32];
	char *argv[4 + BENCH_NTESTS] = { (char *)cfg->raw, "--count", count };
	struct bench_kvs res;
	struct bench_proc r;
	const char *st;
	double host;

	snprintf(count, sizeof(count), "%" PRIu64, cfg->count);
	for (size_t t = 0; t < BENCH_NTESTS; t++)
		argv[3 + t] = (char *)bench_exit_tests[t].raw;
	if (bench_spawn(argv, cfg->timeout_s, &r) < 0) {
		bench_warn("raw", "*", "cannot run rawkvm", NULL);
		return;
	}
	if (r.timed_out || !WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
		bench_warn("raw", "*", "rawkvm failed", &r);
	for (size_t t = 0; t < BENCH_NTESTS; t++) {
		const char *name = bench_exit_tests[t].raw;

		if (bench_find_line(r.out.p ? r.out.p : "", r.out.len, "RESULT",
				    name, &res) < 0 ||
		    !(st = bench_kv_get(&res, "status")) || strcmp(st, "pass")) {
			bench_warn("raw", name, "no passing RESULT line", NULL);
			continue;
		}
		d->ns[t][BENCH_RAW][run] = bench_ns_per_op("raw", name, &res);
		if (bench_kv_get_double(&res, "host_ns_per_op", &host) == 0)
			d->raw_host_ns[t][run] = host;
	}
	bench_proc_free(&r);
}

/* ---- instructions per exit (callgrind) -------------------------------- */

/* One counted run of the kit on iovmm: instructions and iovmm's exit count. */
static int bench_insn_iovmm(const struct bench_cfg *cfg, const char *test,
			    uint64_t count, struct bench_insn *insn,
			    uint64_t *exits)
{
	char cmdline[128];
	char *const argv[] = {
		(char *)cfg->iovmm, "run", "--kernel", (char *)cfg->kit,
		"--mem", "256M", "--device", "pci-testdev", "--device", "edu",
		"--cmdline", cmdline, "--stats",
		/* valgrind has no seccomp(2); filters run in the kernel,
		 * which callgrind does not count anyway. */
		"--seccomp=off", NULL
	};
	struct bench_kvs res, stats;
	struct bench_proc r;
	int ret;

	bench_kit_cmdline(cmdline, sizeof(cmdline), test, count);
	ret = bench_callgrind(cfg->valgrind, argv, cfg->timeout_s * 4,
			      BENCH_BUS_FILE, &r, insn);
	if (ret < 0) {
		bench_warn("iovmm (callgrind)", test, "no callgrind counts", &r);
	} else if (bench_kit_ok("iovmm (callgrind)", test, &r, &res) < 0) {
		ret = -EPROTO;
	} else if (bench_find_line(r.err.p ? r.err.p : "", r.err.len,
				   "iovmm-stats:", NULL, &stats) < 0 ||
		   bench_kv_get_u64(&stats, "exits", exits) < 0) {
		bench_warn("iovmm (callgrind)", test, "no exits in --stats", &r);
		ret = -EPROTO;
	}
	bench_proc_free(&r);
	return ret;
}

/* One counted rawkvm run of one test. */
static int bench_insn_raw(const struct bench_cfg *cfg, const char *test,
			  uint64_t count, struct bench_insn *insn,
			  uint64_t *exits)
{
	char n[32];
	char *const argv[] = { (char *)cfg->raw, "--count", n, (char *)test,
			       NULL };
	struct bench_kvs res;
	struct bench_proc r;
	const char *st;
	int ret;

	snprintf(n, sizeof(n), "%" PRIu64, count);
	ret = bench_callgrind(cfg->valgrind, argv, cfg->timeout_s * 4, NULL,
			      &r, insn);
	if (ret < 0) {
		bench_warn("raw (callgrind)", test, "no callgrind counts", &r);
	} else if (bench_find_line(r.out.p ? r.out.p : "", r.out.len, "RESULT",
				   test, &res) < 0 ||
		   !(st = bench_kv_get(&res, "status")) || strcmp(st, "pass") ||
		   bench_kv_get_u64(&res, "exits", exits) < 0) {
		bench_warn("raw (callgrind)", test, "no passing RESULT line", &r);
		ret = -EPROTO;
	}
	bench_proc_free(&r);
	return ret;
}

typedef int bench_insn_fn(const struct bench_cfg *cfg, const char *test,
			  uint64_t count, struct bench_insn *insn,
			  uint64_t *exits);

/*
 * Instructions per exit as the slope between a run with insn_lo and one
 * with insn_hi exits: (I_hi - I_lo) / (exits_hi - exits_lo), with each
 * program's own exit count. Fills [0] the total and [1] the handlers' part.
 */
static void bench_insn_slope(const struct bench_cfg *cfg, bench_insn_fn *fn,
			     const char *test, double out[2])
{
	struct bench_insn lo, hi;
	uint64_t e_lo, e_hi;

	out[0] = out[1] = NAN;
	if (fn(cfg, test, cfg->insn_lo, &lo, &e_lo) < 0 ||
	    fn(cfg, test, cfg->insn_hi, &hi, &e_hi) < 0)
		return;
	if (e_hi <= e_lo) {
		bench_warn("callgrind", test, "exit count did not grow", NULL);
		return;
	}
	out[0] = ((double)hi.total - (double)lo.total) / (double)(e_hi - e_lo);
	out[1] = ((double)hi.below - (double)lo.below) / (double)(e_hi - e_lo);
}

static void bench_insn_test(const struct bench_cfg *cfg, size_t t,
			    unsigned int run, struct bench_data *d)
{
	const struct bench_exit_test *et = &bench_exit_tests[t];
	double v[2];

	bench_insn_slope(cfg, bench_insn_raw, et->raw, v);
	d->insn[t][BENCH_INSN_RAW][run] = v[0];
	if (!cfg->iovmm)
		return;
	bench_insn_slope(cfg, bench_insn_iovmm, et->kit, v);
	d->insn[t][BENCH_INSN_IOVMM][run] = v[0];
	d->insn[t][BENCH_INSN_HANDLERS][run] = v[1];
	d->insn[t][BENCH_INSN_PATH][run] = v[0] - v[1];
}

/*
 * Startup and footprint from a `test=hello` run: fork/exec to the first
 * guest line, wait4()'s ru_maxrss, and for iovmm its own --stats line.
 * Guest RAM is a memfd, i.e. shmem, so RSS beyond guest RAM is
 * rss_hwm_kb - rss_shmem_kb.
 */
static void bench_startup(const struct bench_cfg *cfg, int qemu,
			  unsigned int run, struct bench_data *d)
{
	const char *machine = cfg->qemu_machine ? cfg->qemu_machine
						: BENCH_QEMU_MACHINE;
	struct bench_kvs res, stats;
	struct bench_proc r;
	uint64_t hwm, shmem;

	if (bench_run_kit(cfg, qemu, machine, "hello", 0, &r, &res) == 0) {
		d->startup_ms[qemu][run] = r.first_line_ms;
		d->maxrss_kb[qemu][run] = (double)r.ru.ru_maxrss;
		if (!qemu &&
		    bench_find_line(r.err.p ? r.err.p : "", r.err.len,
				    "iovmm-stats:", NULL, &stats) == 0 &&
		    bench_kv_get_u64(&stats, "rss_hwm_kb", &hwm) == 0 &&
		    bench_kv_get_u64(&stats, "rss_shmem_kb", &shmem) == 0) {
			d->hwm_kb[run] = (double)hwm;
			d->shmem_kb[run] = (double)shmem;
			d->beyond_kb[run] = hwm > shmem ? (double)(hwm - shmem) : 0;
		} else if (!qemu) {
			bench_warn("iovmm", "hello", "no iovmm-stats line", &r);
		}
	}
	bench_proc_free(&r);
}

static void bench_data_init(struct bench_data *d, unsigned int runs)
{
	double *all = (double *)d;
	size_t n = offsetof(struct bench_data, runs) / sizeof(double);

	/* Every sample starts as "not measured". */
	for (size_t i = 0; i < n; i++)
		all[i] = NAN;
	d->runs = runs;
	d->failures = 0;
}

/* Interleaves the implementations so that host noise hits all of them. */
static void bench_collect_all(const struct bench_cfg *cfg, struct bench_data *d)
{
	for (unsigned int run = 0; run < cfg->runs; run++) {
		fprintf(stderr, "bench: run %u/%u\n", run + 1, cfg->runs);
		for (size_t t = 0; cfg->valgrind && t < BENCH_NTESTS; t++)
			if (bench_exit_tests[t].insn)
				bench_insn_test(cfg, t, run, d);
		if (!cfg->timed)
			continue;
		bench_exit_raw(cfg, run, d);
		for (size_t t = 0; t < BENCH_NTESTS; t++) {
			if (cfg->iovmm)
				bench_exit_iovmm(cfg, t, run, d);
			if (cfg->qemu)
				bench_exit_qemu(cfg, t, run, d);
		}
		if (cfg->iovmm)
			bench_startup(cfg, 0, run, d);
		if (cfg->qemu)
			bench_startup(cfg, 1, run, d);
	}
}

/* ---- summary, table, JSON --------------------------------------------- */

static void bench_summarize(const struct bench_data *d, struct bench_summary *s)
{
	for (size_t t = 0; t < BENCH_NTESTS; t++)
		for (int i = 0; i < BENCH_NIMPL; i++)
			s->ns[t][i] = bench_median_of(d->ns[t][i], d->runs);
	for (size_t t = 0; t < BENCH_NTESTS; t++)
		for (int i = 0; i < BENCH_NINSN; i++)
			s->insn[t][i] = bench_median_of(d->insn[t][i], d->runs);
	for (int i = 0; i < 2; i++) {
		s->startup_ms[i] = bench_median_of(d->startup_ms[i], d->runs);
		s->maxrss_kb[i] = bench_median_of(d->maxrss_kb[i], d->runs);
	}
	s->beyond_kb = bench_median_of(d->beyond_kb, d->runs);
}

/* "PASS"/"MISS" when the value is known, "n/a" otherwise. */
static const char *bench_verdict(double value, double target)
{
	if (isnan(value))
		return "n/a";
	return value <= target ? "PASS" : "MISS";
}

/* Table cell: v with `prec` decimals and a suffix, or "n/a". */
static void bench_cell(char *buf, size_t len, double v, int prec,
		       const char *suffix)
{
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.*f%s", prec, v, suffix);
}

/*
 * Instructions per exit: iovmm and raw, their ratio against the target, and
 * iovmm split into the bus handlers (device models) and the rest (the exit
 * path: the vCPU loop, KVM_RUN's wrapper, the bus dispatch).
 */
static void bench_print_insn(FILE *f, const struct bench_cfg *cfg,
			     const struct bench_summary *s)
{
	char c[6][32], target[48];

	fprintf(f, "userspace instructions per exit (callgrind, slope of "
		   "count=%" PRIu64 " and %" PRIu64 ")\n",
		cfg->insn_lo, cfg->insn_hi);
	fprintf(f, "%-12s %8s %8s %10s  %-20s %9s %8s %9s\n", "test", "iovmm",
		"raw", "iovmm/raw", "target", "handlers", "path", "path/raw");
	for (size_t t = 0; t < BENCH_NTESTS; t++) {
		const double *v = s->insn[t];
		double ratio = v[BENCH_INSN_IOVMM] / v[BENCH_INSN_RAW];

		if (!bench_exit_tests[t].insn)
			continue;
		bench_cell(c[0], sizeof(c[0]), v[BENCH_INSN_IOVMM], 1, "");
		bench_cell(c[1], sizeof(c[1]), v[BENCH_INSN_RAW], 1, "");
		bench_cell(c[2], sizeof(c[2]), ratio, 2, "x");
		bench_cell(c[3], sizeof(c[3]), v[BENCH_INSN_HANDLERS], 1, "");
		bench_cell(c[4], sizeof(c[4]), v[BENCH_INSN_PATH], 1, "");
		bench_cell(c[5], sizeof(c[5]),
			   v[BENCH_INSN_PATH] / v[BENCH_INSN_RAW], 2, "x");
		snprintf(target, sizeof(target), "%s (<= %.2fx raw)",
			 bench_verdict(ratio, BENCH_INSN_TARGET),
			 BENCH_INSN_TARGET);
		fprintf(f, "%-12s %8s %8s %10s  %-20s %9s %8s %9s\n",
			bench_exit_tests[t].label, c[0], c[1], c[2], target,
			c[3], c[4], c[5]);
	}
}

static void bench_print_table(FILE *f, const struct bench_summary *s)
{
	char c[5][32];

	fprintf(f, "%-12s %13s %11s %12s %11s %12s  %s\n", "test", "iovmm ns/op",
		"raw ns/op", "qemu ns/op", "iovmm/raw", "iovmm/qemu", "target");
	for (size_t t = 0; t < BENCH_NTESTS; t++) {
		const struct bench_exit_test *et = &bench_exit_tests[t];
		double r_raw = s->ns[t][BENCH_IOVMM] / s->ns[t][BENCH_RAW];
		double r_qemu = s->ns[t][BENCH_IOVMM] / s->ns[t][BENCH_QEMU];
		char target[48] = "-";

		bench_cell(c[0], sizeof(c[0]), s->ns[t][BENCH_IOVMM], 0, "");
		bench_cell(c[1], sizeof(c[1]), s->ns[t][BENCH_RAW], 0, "");
		bench_cell(c[2], sizeof(c[2]), s->ns[t][BENCH_QEMU], 0, "");
		bench_cell(c[3], sizeof(c[3]), r_raw, 2, "x");
		bench_cell(c[4], sizeof(c[4]), r_qemu, 2, "x");
		if (et->target > 0)
			snprintf(target, sizeof(target), "%s (<= %.2fx raw)",
				 bench_verdict(r_raw, et->target), et->target);
		fprintf(f, "%-12s %13s %11s %12s %11s %12s  %s\n", et->label,
			c[0], c[1], c[2], c[3], c[4], target);
	}
	bench_cell(c[0], sizeof(c[0]), s->startup_ms[0], 1, "");
	bench_cell(c[1], sizeof(c[1]), s->startup_ms[1], 1, "");
	fprintf(f, "startup ms  (first guest line)  iovmm %s  qemu %s  %s (<= %.0f ms)\n",
		c[0], c[1], bench_verdict(s->startup_ms[0], BENCH_STARTUP_TARGET_MS),
		BENCH_STARTUP_TARGET_MS);
	bench_cell(c[0], sizeof(c[0]), s->maxrss_kb[0] / 1024, 1, "");
	bench_cell(c[1], sizeof(c[1]), s->beyond_kb / 1024, 1, "");
	bench_cell(c[2], sizeof(c[2]), s->maxrss_kb[1] / 1024, 1, "");
	fprintf(f, "rss (peak)  iovmm %s MiB (%s MiB beyond guest RAM)  qemu %s MiB  %s (<= %.0f MiB beyond)\n",
		c[0], c[1], c[2],
		bench_verdict(s->beyond_kb / 1024, BENCH_RSS_TARGET_MIB),
		BENCH_RSS_TARGET_MIB);
}

/* The instructions-per-exit fields of one test (null where not measured). */
static void bench_json_insn(FILE *f, size_t t, const struct bench_data *d,
			    const struct bench_summary *s)
{
	const double *v = s->insn[t];
	double ratio = v[BENCH_INSN_IOVMM] / v[BENCH_INSN_RAW];

	fputs(",\n     \"insn_per_exit\": ", f);
	if (!bench_exit_tests[t].insn) {
		fputs("null, \"ratio_insn_iovmm_raw\": null, "
		      "\"ratio_insn_path_raw\": null, \"target_insn_ratio\": "
		      "null, \"insn_verdict\": \"-\"", f);
		return;
	}
	fputc('{', f);
	for (int i = 0; i < BENCH_NINSN; i++)
		bench_json_series(f, bench_insn_name[i], d->insn[t][i], d->runs,
				  i + 1 < BENCH_NINSN ? ", " : "");
	fputs("},\n     \"ratio_insn_iovmm_raw\": ", f);
	bench_json_num(f, ratio);
	fputs(", \"ratio_insn_path_raw\": ", f);
	bench_json_num(f, v[BENCH_INSN_PATH] / v[BENCH_INSN_RAW]);
	fprintf(f, ", \"target_insn_ratio\": %.2f, \"insn_verdict\": ",
		BENCH_INSN_TARGET);
	bench_json_str(f, bench_verdict(ratio, BENCH_INSN_TARGET));
}

static void bench_json_test(FILE *f, const struct bench_cfg *cfg, size_t t,
			    const struct bench_data *d,
			    const struct bench_summary *s)
{
	const struct bench_exit_test *et = &bench_exit_tests[t];
	double r_raw = s->ns[t][BENCH_IOVMM] / s->ns[t][BENCH_RAW];

	fputs("    {\"name\": ", f);
	bench_json_str(f, et->kit);
	fputs(", \"label\": ", f);
	bench_json_str(f, et->label);
	fputs(", \"qemu_machine\": ", f);
	bench_json_str(f, cfg->qemu_machine ? cfg->qemu_machine : et->qemu_machine);
	fputs(",\n     \"ns_per_op\": {", f);
	for (int i = 0; i < BENCH_NIMPL; i++)
		bench_json_series(f, bench_impl_name[i], d->ns[t][i], d->runs,
				  ", ");
	bench_json_series(f, "raw_host_clock", d->raw_host_ns[t], d->runs, "");
	fputs("},\n     \"iovmm_exits\": ", f);
	bench_json_array(f, d->iovmm_exits[t], d->runs);
	fputs(",\n     \"ratio_iovmm_raw\": ", f);
	bench_json_num(f, r_raw);
	fputs(", \"ratio_iovmm_qemu\": ", f);
	bench_json_num(f, s->ns[t][BENCH_IOVMM] / s->ns[t][BENCH_QEMU]);
	fputs(", \"target_ratio\": ", f);
	bench_json_num(f, et->target > 0 ? et->target : NAN);
	fputs(", \"verdict\": ", f);
	bench_json_str(f, et->target > 0 ? bench_verdict(r_raw, et->target) : "-");
	bench_json_insn(f, t, d, s);
	fprintf(f, "}%s\n", t + 1 < BENCH_NTESTS ? "," : "");
}

static void bench_json_footprint(FILE *f, const struct bench_data *d,
				 const struct bench_summary *s)
{
	fputs("  \"startup_ms\": {", f);
	bench_json_series(f, "iovmm", d->startup_ms[0], d->runs, ", ");
	bench_json_series(f, "qemu", d->startup_ms[1], d->runs, ", ");
	fprintf(f, "\"target\": %.1f, \"verdict\": ", BENCH_STARTUP_TARGET_MS);
	bench_json_str(f, bench_verdict(s->startup_ms[0], BENCH_STARTUP_TARGET_MS));
	fputs("},\n  \"rss_kb\": {", f);
	bench_json_series(f, "iovmm_maxrss", d->maxrss_kb[0], d->runs, ", ");
	bench_json_series(f, "qemu_maxrss", d->maxrss_kb[1], d->runs, ",\n    ");
	bench_json_series(f, "iovmm_rss_hwm", d->hwm_kb, d->runs, ", ");
	bench_json_series(f, "iovmm_rss_shmem", d->shmem_kb, d->runs, ", ");
	bench_json_series(f, "iovmm_beyond_guest_ram", d->beyond_kb, d->runs,
			  ",\n    ");
	fprintf(f, "\"guest_ram_mib\": %d, \"target_beyond_mib\": %.1f, \"verdict\": ",
		BENCH_GUEST_MEM_MIB, BENCH_RSS_TARGET_MIB);
	bench_json_str(f, bench_verdict(s->beyond_kb / 1024, BENCH_RSS_TARGET_MIB));
	fputs("}\n", f);
}

static int bench_write_json(const struct bench_cfg *cfg,
			    const struct bench_data *d,
			    const struct bench_summary *s)
{
	FILE *f = fopen(cfg->json, "w");

	if (!f)
		return -errno;
	fprintf(f, "{\n  \"benchmark\": \"exits\",\n  \"runs\": %u, \"count\": %" PRIu64
		   ", \"failures\": %u,\n  \"paths\": {\"iovmm\": ",
		d->runs, cfg->count, d->failures);
	bench_json_str(f, cfg->iovmm);
	fputs(", \"kit\": ", f);
	bench_json_str(f, cfg->kit);
	fputs(", \"raw\": ", f);
	bench_json_str(f, cfg->raw);
	fputs(", \"qemu\": ", f);
	bench_json_str(f, cfg->qemu);
	fputs(", \"valgrind\": ", f);
	bench_json_str(f, cfg->valgrind);
	fputs("},\n  \"insn\": ", f);
	if (cfg->valgrind)
		fprintf(f, "{\"tool\": \"callgrind\", \"counts\": [%" PRIu64
			   ", %" PRIu64 "], \"handlers_below\": \"%s\"}",
			cfg->insn_lo, cfg->insn_hi, BENCH_BUS_FILE);
	else
		fputs("null", f);
	fputs(",\n  \"tests\": [\n", f);
	for (size_t t = 0; t < BENCH_NTESTS; t++)
		bench_json_test(f, cfg, t, d, s);
	fputs("  ],\n", f);
	bench_json_footprint(f, d, s);
	fputs("}\n", f);
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

static int bench_resolve(struct bench_cfg *cfg)
{
	ssize_t n = readlink("/proc/self/exe", cfg->self, sizeof(cfg->self) - 1);

	if (n <= 0)
		return -errno;
	cfg->self[n] = '\0';
	if (!cfg->kit) {
		if (bench_locate(cfg->self, "guest/kit.elf", R_OK, cfg->kit_buf,
				 sizeof(cfg->kit_buf)) < 0) {
			fprintf(stderr, "bench: guest kit not found next to %s "
					"(../guest/kit.elf); build it or pass --kit PATH\n",
				cfg->self);
			return -ENOENT;
		}
		cfg->kit = cfg->kit_buf;
	}
	if (access(cfg->kit, R_OK) < 0) {
		fprintf(stderr, "bench: guest kit %s: %s\n", cfg->kit, strerror(errno));
		return -ENOENT;
	}
	if (!cfg->raw) {
		if (bench_locate(cfg->self, "tests/bench/rawkvm", X_OK,
				 cfg->raw_buf, sizeof(cfg->raw_buf)) < 0) {
			fprintf(stderr, "bench: rawkvm not found next to %s "
					"(../tests/bench/rawkvm); pass --raw PATH\n",
				cfg->self);
			return -ENOENT;
		}
		cfg->raw = cfg->raw_buf;
	}
	if (access(cfg->raw, X_OK) < 0) {
		fprintf(stderr, "bench: rawkvm %s: %s\n", cfg->raw, strerror(errno));
		return -ENOENT;
	}
	if (cfg->valgrind && !bench_have_prog(cfg->valgrind)) {
		fprintf(stderr, "bench: %s not found; instructions per exit will "
				"be n/a (scripts/deps.sh installs valgrind; "
				"--no-insn to silence)\n", cfg->valgrind);
		cfg->valgrind = NULL;
	}
	if (cfg->qemu && !bench_have_prog(cfg->qemu)) {
		fprintf(stderr, "bench: %s not found; QEMU columns will be n/a "
				"(use --no-qemu to silence)\n", cfg->qemu);
		cfg->qemu = NULL;
	}
	return 0;
}

/* ---- command line ----------------------------------------------------- */

static void bench_exits_usage(FILE *f)
{
	fprintf(f,
		"usage: iovmm bench exits [options]\n"
		"  --runs N          repetitions, medians reported (default 5)\n"
		"  --count N         exits per measurement (default 10000)\n"
		"  --json FILE       raw numbers and medians (default ./bench-exits.json)\n"
		"  --kit PATH        guest kit ELF (default <build>/guest/kit.elf)\n"
		"  --raw PATH        rawkvm (default <build>/tests/bench/rawkvm)\n"
		"  --qemu PATH       QEMU binary (default qemu-system-x86_64)\n"
		"  --qemu-machine M  QEMU -M for every test (default: per-test table)\n"
		"  --no-qemu         skip QEMU\n"
		"  --iovmm PATH      iovmm binary (default: this binary)\n"
		"  --no-iovmm        skip iovmm (compare QEMU with the raw floor only)\n"
		"  --timeout SEC     per child process (default 60 + count/1000)\n"
		"  --valgrind PATH   valgrind for the instruction counts (default valgrind)\n"
		"  --no-insn         skip the instruction counts\n"
		"  --insn-only       only the instruction counts (no timing, QEMU, startup)\n");
}

enum { OPT_NO_QEMU = 256, OPT_NO_IOVMM, OPT_QEMU_MACHINE, OPT_IOVMM,
       OPT_TIMEOUT, OPT_VALGRIND, OPT_NO_INSN, OPT_INSN_ONLY };

/* Numeric options: --runs, --count, --timeout. */
static int bench_exits_num_opt(int opt, const char *arg, struct bench_cfg *cfg)
{
	uint64_t v;

	switch (opt) {
	case 'r':
		if (bench_parse_num(arg, 1, BENCH_MAX_RUNS, &v) < 0)
			return -EINVAL;
		cfg->runs = (unsigned int)v;
		return 0;
	case 'c':
		if (bench_parse_num(arg, 1, 1ULL << 32, &v) < 0)
			return -EINVAL;
		cfg->count = v;
		return 0;
	default:
		if (bench_parse_num(arg, 1, 86400, &v) < 0)
			return -EINVAL;
		cfg->timeout_s = (double)v;
		return 0;
	}
}

static int bench_exits_parse(int argc, char **argv, struct bench_cfg *cfg)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "json", required_argument, NULL, 'j' },
		{ "kit", required_argument, NULL, 'k' },
		{ "raw", required_argument, NULL, 'w' },
		{ "qemu", required_argument, NULL, 'q' },
		{ "qemu-machine", required_argument, NULL, OPT_QEMU_MACHINE },
		{ "no-qemu", no_argument, NULL, OPT_NO_QEMU },
		{ "iovmm", required_argument, NULL, OPT_IOVMM },
		{ "no-iovmm", no_argument, NULL, OPT_NO_IOVMM },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "valgrind", required_argument, NULL, OPT_VALGRIND },
		{ "no-insn", no_argument, NULL, OPT_NO_INSN },
		{ "insn-only", no_argument, NULL, OPT_INSN_ONLY },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int opt, no_qemu = 0, no_iovmm = 0, no_insn = 0;

	optind = 0;	/* glibc: full re-initialisation after iovmm's own getopt */
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': case 'c': case OPT_TIMEOUT:
			if (bench_exits_num_opt(opt, optarg, cfg) < 0) {
				fprintf(stderr, "bench: bad value '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'j': cfg->json = optarg; break;
		case 'k': cfg->kit = optarg; break;
		case 'w': cfg->raw = optarg; break;
		case 'q': cfg->qemu = optarg; break;
		case OPT_QEMU_MACHINE: cfg->qemu_machine = optarg; break;
		case OPT_NO_QEMU: no_qemu = 1; break;
		case OPT_IOVMM: cfg->iovmm = optarg; break;
		case OPT_NO_IOVMM: no_iovmm = 1; break;
		case OPT_VALGRIND: cfg->valgrind = optarg; break;
		case OPT_NO_INSN: no_insn = 1; break;
		case OPT_INSN_ONLY: cfg->timed = 0; break;
		case 'h': bench_exits_usage(stdout); return 1;
		default: bench_exits_usage(stderr); return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "bench: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (no_qemu)
		cfg->qemu = NULL;
	if (no_iovmm)
		cfg->iovmm = NULL;
	if (no_insn)
		cfg->valgrind = NULL;
	if (!cfg->timed && !cfg->valgrind) {
		fprintf(stderr, "bench: --insn-only and --no-insn leave nothing to do\n");
		return -EINVAL;
	}
	/* Two runs with 10x as many exits; the slope cancels start-up. */
	cfg->insn_lo = cfg->count / 10 ? cfg->count / 10 : 1;
	cfg->insn_hi = cfg->count > cfg->insn_lo ? cfg->count : cfg->insn_lo + 1;
	return 0;
}

static unsigned int bench_count_failures(const struct bench_cfg *cfg,
					 const struct bench_data *d)
{
	unsigned int n = 0;

	for (unsigned int run = 0; run < d->runs; run++) {
		for (size_t t = 0; cfg->valgrind && t < BENCH_NTESTS; t++) {
			if (!bench_exit_tests[t].insn)
				continue;
			n += isnan(d->insn[t][BENCH_INSN_RAW][run]);
			n += cfg->iovmm && isnan(d->insn[t][BENCH_INSN_IOVMM][run]);
		}
		if (!cfg->timed)
			continue;
		for (size_t t = 0; t < BENCH_NTESTS; t++) {
			n += isnan(d->ns[t][BENCH_RAW][run]);
			n += cfg->iovmm && isnan(d->ns[t][BENCH_IOVMM][run]);
			n += cfg->qemu && isnan(d->ns[t][BENCH_QEMU][run]);
		}
		n += cfg->iovmm && isnan(d->startup_ms[0][run]);
		n += cfg->qemu && isnan(d->startup_ms[1][run]);
	}
	return n;
}

static int bench_exits(int argc, char **argv)
{
	struct bench_cfg cfg = {
		.runs = 5, .count = 10000, .json = "bench-exits.json",
		.qemu = "qemu-system-x86_64", .iovmm = "/proc/self/exe",
		.valgrind = "valgrind", .timed = 1,
	};
	struct bench_summary sum;
	struct bench_data *d;
	int ret;

	ret = bench_exits_parse(argc, argv, &cfg);
	if (ret != 0)
		return ret > 0 ? 0 : 2;
	if (cfg.timeout_s == 0)
		cfg.timeout_s = 60 + (double)cfg.count / 1000;
	if (bench_resolve(&cfg) < 0)
		return 2;
	if (cfg.iovmm && strcmp(cfg.iovmm, "/proc/self/exe") == 0)
		cfg.iovmm = cfg.self;

	d = malloc(sizeof(*d));
	if (!d) {
		fprintf(stderr, "bench: out of memory\n");
		return 1;
	}
	bench_data_init(d, cfg.runs);
	bench_collect_all(&cfg, d);
	d->failures = bench_count_failures(&cfg, d);
	bench_summarize(d, &sum);
	printf("iovmm bench exits: %u runs, count=%" PRIu64 ", medians%s\n",
	       cfg.runs, cfg.count,
	       cfg.timed ? " (ns/op from the guest's rdtsc)" : "");
	if (cfg.timed)
		bench_print_table(stdout, &sum);
	if (cfg.valgrind)
		bench_print_insn(stdout, &cfg, &sum);
	ret = bench_write_json(&cfg, d, &sum);
	if (ret < 0)
		fprintf(stderr, "bench: writing %s: %s\n", cfg.json, strerror(-ret));
	else
		printf("json: %s\n", cfg.json);
	if (d->failures)
		fprintf(stderr, "bench: %u measurement(s) failed (see above)\n",
			d->failures);
	ret = ret < 0 || d->failures ? 1 : 0;
	free(d);
	return ret;
}

int bench_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: iovmm bench <benchmark> [options]\n"
			"  exits   exit cost, startup time and RSS vs raw KVM and QEMU\n"
			"  net     e1000 vs virtio-net packet rate, iovmm vs QEMU\n"
			"  vhost   vhost-user back ends and front ends: iovmm-vswitch vs\n"
			"          testpmd, iovmm vs QEMU (needs root, DPDK)\n"
			"  io      emulated vs virtio vs vhost vs passthrough, network and\n"
			"          storage, same back end on iovmm and QEMU\n"
			"  reconnect  vhost-user back end killed and restarted under\n"
			"          traffic: time to the first frame, iovmm vs QEMU\n");
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "exits") == 0)
		return bench_exits(argc - 1, argv + 1);
	if (strcmp(argv[1], "net") == 0)
		return bench_net_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "vhost") == 0)
		return bench_vhost_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "io") == 0)
		return bench_io_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "reconnect") == 0)
		return bench_reconnect_main(argc - 1, argv + 1);
	fprintf(stderr, "bench: unknown benchmark '%s' (try: exits, net, vhost, io, reconnect)\n",
		argv[1]);
	return 2;
}
