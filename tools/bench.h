/* SPDX-License-Identifier: MIT */
/*
 * `iovmm bench`: benchmark drivers that run iovmm, QEMU and the raw KVM
 * floor (tests/bench/rawkvm) on the same guest kit, in one run, and compare
 * medians. See docs/benchmarks.md.
 *
 * The line parser and the median are exposed for the unit tests in
 * tests/bench/; they allocate nothing and keep no state.
 */
#ifndef IOVMM_TOOLS_BENCH_H
#define IOVMM_TOOLS_BENCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

/* Entry point for `iovmm bench <subcommand> ...`; argv[0] is "bench".
 * Returns the process exit status: 0 ok, 1 a measurement failed,
 * 2 usage error or missing kit/rawkvm. */
int bench_main(int argc, char **argv);
/* `iovmm bench net` (tools/bench_net.c); argv[0] is "net". */
int bench_net_main(int argc, char **argv);
/* `iovmm bench vhost` (tools/bench_vhost.c); argv[0] is "vhost". */
int bench_vhost_main(int argc, char **argv);
/* `iovmm bench io` (tools/bench_io.c); argv[0] is "io". */
int bench_io_main(int argc, char **argv);

/* `iovmm bench reconnect` (tools/bench_reconnect.c); argv[0] is "reconnect". */
int bench_reconnect_main(int argc, char **argv);

/*
 * The guest kit under a vhost-user-net front end: QEMU's (microvm, shared
 * memfd RAM, reconnect=1 when `reconnect`) or iovmm's (`--net vhost-user`,
 * which reconnects by itself), optionally pinned to CPU 1 with taskset.
 * bench_vhu_vm_argv() fills argv (NULL-terminated; words point into the
 * struct and the strings it borrows).
 */
struct bench_vhu_vm {
	const char *self, *kit, *sock, *cmdline;	/* borrowed */
	bool qemu, reconnect, taskset;
	char chardev[PATH_MAX + 48], net[PATH_MAX + 32];
	char *argv[40];
};
void bench_vhu_vm_argv(struct bench_vhu_vm *vm);
/* This executable, the guest kit and iovmm-vswitch, into PATH_MAX buffers;
 * 0, or -ENOENT after a message that starts with `who`. */
int bench_vhost_tools(const char *who, char *self, char *kit, char *vswitch);

#define BENCH_KV_MAX 24		/* key=value pairs kept per line */
#define BENCH_KEY_MAX 32	/* bytes per key, including the NUL */
#define BENCH_VAL_MAX 96	/* bytes per value, including the NUL */

struct bench_kv {
	char key[BENCH_KEY_MAX];
	char val[BENCH_VAL_MAX];
};

/* One parsed "<tag> key=value key=value ..." line. */
struct bench_kvs {
	size_t n;
	struct bench_kv kv[BENCH_KV_MAX];
};

/*
 * Parses one line that starts with `tag` (e.g. "RESULT" or "iovmm-stats:")
 * followed by whitespace-separated key=value tokens. Leading whitespace and a
 * trailing "\r\n" are ignored; the line ends at the first '\n' or at `len`.
 * Keys are [A-Za-z0-9_.-]+; values are non-empty and contain no whitespace.
 * Returns 0, -ENOENT when the line does not start with `tag`, -EINVAL when a
 * token is malformed, -E2BIG when a key/value is too long or there are more
 * than BENCH_KV_MAX tokens. `out` is valid only when 0 is returned.
 */
int bench_kv_parse(const char *line, size_t len, const char *tag,
		   struct bench_kvs *out);

/* Value of `key` (first occurrence), or NULL. */
const char *bench_kv_get(const struct bench_kvs *kvs, const char *key);

/* `key` as a finite, non-negative number: 0, -ENOENT or -EINVAL. */
int bench_kv_get_double(const struct bench_kvs *kvs, const char *key,
			double *out);

/*
 * A command-line number: decimal digits only (no sign, no blanks), within
 * [min, max]. 0 and *out, or -EINVAL.
 */
int bench_parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* The guest kit's largest net-loopback count= (guest/test_net.c). */
#define BENCH_KIT_MAX_COUNT 100000000ULL

/* v as "%.<prec>f<suffix>" in buf, or "-" for a failed (NaN) or
 * meaningless (infinite) figure; returns buf. */
const char *bench_fmt(char *buf, size_t len, double v, int prec,
		      const char *suffix);

/* `key` as an unsigned decimal integer: 0, -ENOENT or -EINVAL. */
int bench_kv_get_u64(const struct bench_kvs *kvs, const char *key,
		     uint64_t *out);

/*
 * Scans `len` bytes of captured output line by line for the first line that
 * parses with `tag` and, when `test` is not NULL, has test=<test>.
 * Returns 0 and fills `out`, or -ENOENT.
 */
int bench_find_line(const char *buf, size_t len, const char *tag,
		    const char *test, struct bench_kvs *out);

/*
 * Median of the non-NaN values among v[0..n) (NaN marks a failed run);
 * the mean of the two middle values when their number is even. Reorders v.
 * Returns NaN when no value is valid.
 */
double bench_median(double *v, size_t n);

/* Largest series bench_median_of() and bench_range() take. */
#define BENCH_SERIES_MAX 128
/* Median of a copy of v[0..n) (v is left alone); NaN when none is valid. */
double bench_median_of(const double *v, size_t n);
/* Smallest and largest non-NaN value of v[0..n); both NaN when none. */
void bench_range(const double *v, size_t n, double *min, double *max);

/* JSON output: a string (escaped; null for NULL), a number (null for NaN
 * or infinity), an array, and "key": {"runs": [...], "median": m}<sep>. */
void bench_json_str(FILE *f, const char *s);
void bench_json_num(FILE *f, double v);
void bench_json_array(FILE *f, const double *v, size_t n);
void bench_json_series(FILE *f, const char *key, const double *v, size_t n,
		       const char *sep);

struct bench_buf {
	char *p;
	size_t len, cap;
};

/* A finished child process and what it printed. */
struct bench_proc {
	int status;		/* wait4() status */
	struct rusage ru;
	double first_line_ms;	/* fork to first complete stdout line; NaN */
	int timed_out;
	struct bench_buf out, err;
};

/*
 * Runs argv (PATH lookup for argv[0]), capturing stdout and stderr (each
 * capped at 4 MiB); stdin is /dev/null. The clock starts right before fork();
 * the child is killed after timeout_s. Returns 0 once the child has been
 * reaped (whatever its status), -errno when it could not be run. Free the
 * captured output with bench_proc_free().
 */
int bench_spawn(char *const argv[], double timeout_s, struct bench_proc *r);
/*
 * bench_spawn() that also calls fn(child pid, arg) about every 50 ms while
 * the child runs (e.g. to sample a kernel thread working for it, which
 * the child's rusage does not include).
 */
typedef void bench_watch_fn(pid_t pid, void *arg);
int bench_spawn_watch(char *const argv[], double timeout_s, bench_watch_fn *fn,
		      void *arg, struct bench_proc *r);
void bench_proc_free(struct bench_proc *r);

/* "bench: <who> <test>: <why>" and how the child ended, its stderr's tail. */
void bench_warn(const char *who, const char *test, const char *why,
		const struct bench_proc *r);
/*
 * A kit run passed: isa-debug-exit status 1 (value 0 << 1 | 1) and a
 * "RESULT test=<test> status=pass" line on stdout, parsed into `res`.
 * 0, or -EPROTO after a bench_warn() saying what was wrong.
 */
int bench_kit_ok(const char *who, const char *test, const struct bench_proc *r,
		 struct bench_kvs *res);
/* exits= of the "iovmm-stats:" line (iovmm run --stats) on stderr. */
int bench_iovmm_exits(const struct bench_proc *r, uint64_t *exits);
/* User + system CPU seconds of a rusage (every thread, reaped children). */
double bench_rusage_cpu_s(const struct rusage *ru);
/* utime + stime (clock ticks) of a /proc/PID/stat line: 0 or -EPROTO. */
int bench_stat_cpu_ticks(const char *stat, uint64_t *ticks);
/* utime + stime of a running process, all its threads, from /proc: 0,
 * -errno or -EPROTO. */
int bench_pid_cpu_s(pid_t pid, double *out);

/*
 * Path of a build artifact relative to the build dir ("guest/kit.elf"),
 * looked for next to this executable: <dir>/../REL, then <dir>/REL.
 * 0, or -ENOENT when neither exists with access `mode`.
 */
int bench_artifact(const char *rel, int mode, char *out, size_t len);
/*
 * The same, next to `self` (a binary's path): <dir>/../rel, then
 * <dir>/rel. 0, or -ENOENT.
 */
int bench_locate(const char *self, const char *rel, int mode, char *out,
		 size_t len);
/* True when `prog` (a path, or a name looked up in $PATH) is executable. */
int bench_have_prog(const char *prog);

/* ---- instruction counts (valgrind --tool=callgrind) ---- */

struct bench_insn {
	uint64_t total;	/* instructions the process executed in userspace */
	/*
	 * Inclusive cost of the calls that code from the files `from` names
	 * (':'-separated path suffixes, e.g. "/core/bus.c:/core/bus.h"; code
	 * inlined from those files elsewhere counts) made to functions of the
	 * same program in other files: for the bus, its handlers, i.e. the
	 * device models. Calls into shared libraries (libc) are not counted.
	 */
	uint64_t below;
};

/*
 * Reads a callgrind output file (positions: line or instr line; the first
 * event must be Ir). `from` may be NULL (below = 0). 0, -EPROTO when the
 * file is not callgrind's or has no totals, -ENOMEM.
 */
int bench_callgrind_parse(FILE *f, const char *from, struct bench_insn *out);
/*
 * bench_spawn() of `valgrind --tool=callgrind -q argv...` with its output
 * file in /tmp (removed afterwards), then bench_callgrind_parse() of it.
 * `r` holds the child's output and status whenever the child ran (free it
 * with bench_proc_free() in every case); 0 when the counts were read.
 */
int bench_callgrind(const char *valgrind, char *const argv[], double timeout_s,
		    const char *from, struct bench_proc *r,
		    struct bench_insn *out);

/* ---- background processes (tools/bench_bg.c) ---- */

/* CLOCK_MONOTONIC in seconds; a sleep that resumes after signals. */
double bench_now(void);
void bench_sleep(double s);

struct bench_bg {
	pid_t pid;		/* 0 once reaped */
	char log[PATH_MAX];	/* its stdout and stderr */
};

/* Run argv (PATH lookup) in the background, output to log. 0 or -errno. */
int bench_bg_start(char *const argv[], const char *log, struct bench_bg *bg);
/* Until needle appears in the log: 0, -ECHILD (it exited) or -ETIMEDOUT. */
int bench_bg_wait(struct bench_bg *bg, const char *needle, double timeout_s);
/* Until it exits by itself: 0 and its wait status, -ETIMEDOUT, or
 * -ECHILD when it was already reaped. */
int bench_bg_wait_exit(struct bench_bg *bg, double timeout_s, int *status);
/* SIGINT, up to 10 s to exit, then SIGKILL. Returns the wait status. */
int bench_bg_stop(struct bench_bg *bg);
/*
 * iovmm-vswitch serving one vhost-user socket in loopback mode, its
 * forwarding lcore on CPU 0 (main lcore, asleep, on CPU 1), output to log;
 * returns once it says it is ready: 0, or bench_bg_start/_wait's error
 * (the caller shows the log and stops it).
 */
int bench_vswitch_start(const char *vswitch, const char *sock, const char *log,
			struct bench_bg *bg);
/* The first 2 MiB of a file, NUL-terminated (free() it), or NULL. */
char *bench_slurp(const char *path);
/* "<who>: <what>; end of <path>:" and the last 15 lines, on stderr. */
void bench_bg_show_log(const char *who, const char *what, const char *path);

#endif
