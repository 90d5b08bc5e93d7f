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

#include <stddef.h>
#include <stdint.h>

/* Entry point for `iovmm bench <subcommand> ...`; argv[0] is "bench".
 * Returns the process exit status: 0 ok, 1 a measurement failed,
 * 2 usage error or missing kit/rawkvm. */
int bench_main(int argc, char **argv);

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

#endif
