/* SPDX-License-Identifier: MIT */
/*
 * What every `iovmm bench` driver shares (tools/bench.h): the RESULT-line
 * parser, medians, child processes with a timeout and their output, finding
 * the build's artifacts next to the running binary, and the number parsing
 * and formatting of the command lines and tables.
 */
#include <errno.h>
#include <fcntl.h>
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

/* ---- line parser ------------------------------------------------------ */

static int bench_is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static int bench_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Parses one "key=value" token of `n` bytes into `kv`. */
static int bench_kv_token(const char *p, size_t n, struct bench_kv *kv)
{
	const char *eq = memchr(p, '=', n);
	size_t klen, vlen;

	if (!eq || eq == p || eq == p + n - 1)
		return -EINVAL;
	klen = (size_t)(eq - p);
	vlen = n - klen - 1;
	for (size_t i = 0; i < klen; i++)
		if (!bench_is_key_char(p[i]))
			return -EINVAL;
	if (klen >= BENCH_KEY_MAX || vlen >= BENCH_VAL_MAX)
		return -E2BIG;
	memcpy(kv->key, p, klen);
	kv->key[klen] = '\0';
	memcpy(kv->val, eq + 1, vlen);
	kv->val[vlen] = '\0';
	return 0;
}

int bench_kv_parse(const char *line, size_t len, const char *tag,
		   struct bench_kvs *out)
{
	const char *nl = memchr(line, '\n', len);
	const char *end = nl ? nl : line + len;
	const char *p = line;
	size_t tlen = strlen(tag);
	int ret;

	out->n = 0;
	while (p < end && bench_is_space(*p))
		p++;
	if ((size_t)(end - p) < tlen || memcmp(p, tag, tlen) != 0)
		return -ENOENT;
	p += tlen;
	/* The tag must be a whole word: "RESULTS" is not "RESULT". */
	if (p < end && !bench_is_space(*p))
		return -ENOENT;
	for (;;) {
		const char *tok;

		while (p < end && bench_is_space(*p))
			p++;
		if (p == end)
			return 0;
		tok = p;
		while (p < end && !bench_is_space(*p))
			p++;
		if (out->n == BENCH_KV_MAX)
			return -E2BIG;
		ret = bench_kv_token(tok, (size_t)(p - tok), &out->kv[out->n]);
		if (ret < 0)
			return ret;
		out->n++;
	}
}

const char *bench_kv_get(const struct bench_kvs *kvs, const char *key)
{
	for (size_t i = 0; i < kvs->n; i++)
		if (strcmp(kvs->kv[i].key, key) == 0)
			return kvs->kv[i].val;
	return NULL;
}

int bench_kv_get_double(const struct bench_kvs *kvs, const char *key,
			double *out)
{
	const char *s = bench_kv_get(kvs, key);
	char *end;
	double v;

	if (!s)
		return -ENOENT;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int bench_kv_get_u64(const struct bench_kvs *kvs, const char *key,
		     uint64_t *out)
{
	const char *s = bench_kv_get(kvs, key);
	char *end;
	unsigned long long v;

	if (!s)
		return -ENOENT;
	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int bench_find_line(const char *buf, size_t len, const char *tag,
		    const char *test, struct bench_kvs *out)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (bench_kv_parse(p, n, tag, out) == 0) {
			const char *t = bench_kv_get(out, "test");

			if (!test || (t && strcmp(t, test) == 0))
				return 0;
		}
		p += n + 1;
	}
	out->n = 0;
	return -ENOENT;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
	size_t m = 0;

	/* Move the valid samples to the front, then sort only those. */
	for (size_t i = 0; i < n; i++) {
		if (!isnan(v[i])) {
			double t = v[m];

			v[m++] = v[i];
			v[i] = t;
		}
	}
	if (m == 0)
		return NAN;
	qsort(v, m, sizeof(*v), bench_cmp_double);
	return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

/* ---- child processes -------------------------------------------------- */

/* Captured output is capped: a runaway guest must not eat the host's RAM. */
#define BENCH_CAPTURE_MAX (4u << 20)


static double bench_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void bench_buf_append(struct bench_buf *b, const char *p, size_t n)
{
	if (b->len + n > BENCH_CAPTURE_MAX)
		n = BENCH_CAPTURE_MAX - b->len;
	if (n == 0)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *q;

		while (cap < b->len + n + 1)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q)
			return;	/* keep what we have; the parse will tell */
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void bench_proc_free(struct bench_proc *r)
{
	free(r->out.p);
	free(r->err.p);
	memset(r, 0, sizeof(*r));
}

/* Drains fds[0] (stdout) and fds[1] (stderr) until EOF or the deadline. */
static void bench_collect(pid_t pid, int fds[2], const struct timespec *t0,
			  double timeout_ms, struct bench_proc *r)
{
	struct pollfd pfd[2] = {
		{ .fd = fds[0], .events = POLLIN },
		{ .fd = fds[1], .events = POLLIN },
	};
	char chunk[4096];

	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		double left = timeout_ms - bench_ms_since(t0);

		if (left <= 0) {
			kill(pid, SIGKILL);
			r->timed_out = 1;
			break;
		}
		if (poll(pfd, 2, (int)left + 1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n = read(pfd[i].fd, chunk, sizeof(chunk));
			if (n <= 0) {
				pfd[i].fd = -1;
				continue;
			}
			if (i == 0 && isnan(r->first_line_ms) &&
			    memchr(chunk, '\n', (size_t)n))
				r->first_line_ms = bench_ms_since(t0);
			bench_buf_append(i == 0 ? &r->out : &r->err, chunk,
					 (size_t)n);
		}
	}
}

int bench_spawn(char *const argv[], double timeout_s,
		       struct bench_proc *r)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, fds[2], ret = 0;
	struct timespec t0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->first_line_ms = NAN;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		ret = -errno;
		goto out_close;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto out_close;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 ||
		    dup2(err[1], 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		dprintf(2, "bench: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;
	fds[0] = out[0];
	fds[1] = err[0];
	bench_collect(pid, fds, &t0, timeout_s * 1e3, r);
	while (wait4(pid, &r->status, 0, &r->ru) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			break;
		}
	}
out_close:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return ret;
}

/* ---- locating the pieces ---------------------------------------------- */

/*
 * Finds `rel` next to the running binary: the build tree has tools/iovmm,
 * guest/kit.elf and tests/bench/rawkvm, so try <dir>/../rel, then <dir>/rel.
 */
int bench_locate(const char *self, const char *rel, int mode, char *out,
			size_t len)
{
	char dir[PATH_MAX];
	static const char *const up[] = { "/..", "" };
	char *slash;

	snprintf(dir, sizeof(dir), "%s", self);
	slash = strrchr(dir, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(up); i++) {
		if (snprintf(out, len, "%s%s/%s", dir, up[i], rel) >= (int)len)
			continue;
		if (access(out, mode) == 0)
			return 0;
	}
	return -ENOENT;
}

/* True when `prog` (a path, or a name looked up in $PATH) is executable. */
int bench_have_prog(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	while (path && *path) {
		size_t n = strcspn(path, ":");

		if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog) <
			    (int)sizeof(buf) && access(buf, X_OK) == 0)
			return 1;
		path += n + (path[n] == ':');
	}
	return 0;
}

int bench_artifact(const char *rel, int mode, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -errno;
	self[n] = '\0';
	return bench_locate(self, rel, mode, out, len);
}

const char *bench_fmt(char *buf, size_t len, double v, int prec,
		      const char *suffix)
{
	if (isnan(v) || isinf(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f%s", prec, v, suffix);
	return buf;
}

int bench_parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}
