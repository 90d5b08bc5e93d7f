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

/* A watcher called about every BENCH_WATCH_MS while the child runs. */
struct bench_watch {
	bench_watch_fn *fn;
	void *arg;
};

#define BENCH_WATCH_MS 50

/*
 * Drains fds[0] (stdout) and fds[1] (stderr) until EOF or the deadline,
 * calling the watcher (if any) between reads.
 */
static void bench_collect(pid_t pid, int fds[2], const struct timespec *t0,
			  double timeout_ms, const struct bench_watch *w,
			  struct bench_proc *r)
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
		if (w->fn && left > BENCH_WATCH_MS)
			left = BENCH_WATCH_MS;
		if (poll(pfd, 2, (int)left + 1) < 0 && errno != EINTR)
			break;
		if (w->fn)
			w->fn(pid, w->arg);
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

int bench_spawn(char *const argv[], double timeout_s, struct bench_proc *r)
{
	return bench_spawn_watch(argv, timeout_s, NULL, NULL, r);
}

int bench_spawn_watch(char *const argv[], double timeout_s, bench_watch_fn *fn,
		      void *arg, struct bench_proc *r)
{
	const struct bench_watch w = { fn, arg };
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
	bench_collect(pid, fds, &t0, timeout_s * 1e3, &w, r);
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


/* ---- what a run of the kit left: RESULT, --stats, CPU time ------------ */

void bench_warn(const char *who, const char *test, const char *why,
		       const struct bench_proc *r)
{
	fprintf(stderr, "bench: %s %s: %s", who, test, why);
	if (r && r->timed_out)
		fprintf(stderr, " (timed out)");
	else if (r && WIFEXITED(r->status))
		fprintf(stderr, " (exit status %d)", WEXITSTATUS(r->status));
	else if (r && WIFSIGNALED(r->status))
		fprintf(stderr, " (signal %d)", WTERMSIG(r->status));
	fputc('\n', stderr);
	/* The tail of stderr usually says why. */
	if (r && r->err.len) {
		size_t off = r->err.len > 600 ? r->err.len - 600 : 0;

		fprintf(stderr, "bench:   stderr: ...%s\n", r->err.p + off);
	}
}

/*
 * Validates a guest-kit run: isa-debug-exit status 1 (value 0 << 1 | 1) and a
 * "RESULT test=<test> status=pass" line on the serial console.
 */
int bench_kit_ok(const char *who, const char *test,
			const struct bench_proc *r, struct bench_kvs *res)
{
	const char *st;

	if (r->timed_out || !WIFEXITED(r->status) || WEXITSTATUS(r->status) != 1) {
		bench_warn(who, test, "guest did not pass", r);
		return -EPROTO;
	}
	if (bench_find_line(r->out.p ? r->out.p : "", r->out.len, "RESULT",
			    test, res) < 0) {
		bench_warn(who, test, "no RESULT line on the serial console", r);
		return -EPROTO;
	}
	st = bench_kv_get(res, "status");
	if (!st || strcmp(st, "pass") != 0) {
		bench_warn(who, test, "RESULT status is not pass", r);
		return -EPROTO;
	}
	return 0;
}

int bench_iovmm_exits(const struct bench_proc *r, uint64_t *exits)
{
	struct bench_kvs stats;

	if (bench_find_line(r->err.p ? r->err.p : "", r->err.len,
			    "iovmm-stats:", NULL, &stats) < 0)
		return -ENOENT;
	return bench_kv_get_u64(&stats, "exits", exits);
}

double bench_rusage_cpu_s(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
	       (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

/*
 * /proc/PID/stat (proc(5)): "pid (comm) state ..." where comm may hold
 * spaces and parentheses, so fields are counted after the last ')';
 * utime and stime are fields 14 and 15, in clock ticks, summed over every
 * thread of the process.
 */
int bench_stat_cpu_ticks(const char *stat, uint64_t *ticks)
{
	unsigned long long ut, st;
	const char *p = strrchr(stat, ')');

	/* After ')': state (3), fields 4..13, then utime stime. */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
				"%llu %llu", &ut, &st) != 2)
		return -EPROTO;
	*ticks = ut + st;
	return 0;
}

int bench_pid_cpu_s(pid_t pid, double *out)
{
	char path[64], buf[1024];
	uint64_t ticks;
	size_t n;
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	ret = bench_stat_cpu_ticks(buf, &ticks);
	if (ret == 0)
		*out = (double)ticks / (double)sysconf(_SC_CLK_TCK);
	return ret;
}

/* ---- medians and JSON ------------------------------------------------- */

double bench_median_of(const double *v, size_t n)
{
	double tmp[BENCH_SERIES_MAX];

	if (n > BENCH_SERIES_MAX)
		n = BENCH_SERIES_MAX;
	memcpy(tmp, v, n * sizeof(*v));
	return bench_median(tmp, n);
}

void bench_range(const double *v, size_t n, double *min, double *max)
{
	*min = *max = NAN;
	for (size_t i = 0; i < n; i++) {
		if (isnan(v[i]))
			continue;
		if (isnan(*min) || v[i] < *min)
			*min = v[i];
		if (isnan(*max) || v[i] > *max)
			*max = v[i];
	}
}

void bench_json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void bench_json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.3f", v);
}

void bench_json_array(FILE *f, const double *v, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		bench_json_num(f, v[i]);
	}
	fputc(']', f);
}

/* "key": {"runs": [...], "median": x} */
void bench_json_series(FILE *f, const char *key, const double *v,
			      size_t n, const char *sep)
{
	fprintf(f, "\"%s\": {\"runs\": ", key);
	bench_json_array(f, v, n);
	fputs(", \"median\": ", f);
	bench_json_num(f, bench_median_of(v, n));
	fprintf(f, "}%s", sep);
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

/* ---- instruction counts (callgrind) ----------------------------------- */

/*
 * Callgrind's output (valgrind manual, "Callgrind Format Specification"):
 * names are compressed to "(id) name" the first time and "(id)" after;
 * fl= fi= fe= cfi= cfl= share one id space (files), ob= cob= another
 * (objects). A "calls=" line is followed by a cost line that carries the
 * inclusive cost of those calls; cob= and cfi=/cfl= name the callee of the
 * next "calls=" only and default to the caller's object and file. fi= and
 * fe= switch the file of the lines that follow (code inlined from another
 * file); fn= switches back to the function's own file (fl=).
 */
struct bench_cg_names {
	char **v;	/* by id; NULL where an id was never named */
	size_t n;
};

struct bench_cg {
	struct bench_cg_names files, objs;
	const char *from;	/* suffixes of the files whose calls are summed */
	long fn_file;		/* file id of the current function (fl=) */
	long cur_file;		/* file id of the current lines (fl= fi= fe=) */
	long ob;		/* current object id */
	long cob, cfile;	/* callee of the next calls=; -1: as the caller */
	int call_pending;	/* the next cost line is a call's inclusive cost */
	int call_counts;	/* ... and it is summed into `below` */
	unsigned int npos;	/* position columns per cost line */
	int have_events, have_totals;
	uint64_t total, summary, below;
};

static void bench_cg_names_free(struct bench_cg_names *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static int bench_cg_set(struct bench_cg_names *t, size_t id, const char *name)
{
	if (id >= t->n) {
		size_t n = t->n ? t->n : 64;
		char **v;

		while (n <= id)
			n *= 2;
		v = realloc(t->v, n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memset(v + t->n, 0, (n - t->n) * sizeof(*v));
		t->v = v;
		t->n = n;
	}
	if (!t->v[id] || strcmp(t->v[id], name) != 0) {
		char *s = strdup(name);

		if (!s)
			return -ENOMEM;
		free(t->v[id]);
		t->v[id] = s;
	}
	return 0;
}

/*
 * The id of a name field ("(id) name", "(id)" or an uncompressed "name",
 * which gets the id of an earlier equal name or a new one); -errno.
 */
static long bench_cg_intern(struct bench_cg_names *t, const char *val)
{
	size_t id;
	int ret;

	if (val[0] == '(') {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(val + 1, &end, 10);
		if (errno || end == val + 1 || *end != ')' || v > 1000000)
			return -EPROTO;
		if (end[1] == ' ' && end[2] && (ret = bench_cg_set(t, v, end + 2)))
			return ret;
		return (long)v;
	}
	for (id = 0; id < t->n; id++)
		if (t->v[id] && strcmp(t->v[id], val) == 0)
			return (long)id;
	while (id > 0 && !t->v[id - 1])
		id--;
	ret = bench_cg_set(t, id, val);
	return ret ? ret : (long)id;
}

/* True when file `id`'s name ends with one of the ':'-separated suffixes. */
static int bench_cg_file_is_from(const struct bench_cg *cg, long id)
{
	const char *name, *p = cg->from;
	size_t n;

	if (!p || id < 0 || (size_t)id >= cg->files.n ||
	    !(name = cg->files.v[id]))
		return 0;
	n = strlen(name);
	while (*p) {
		size_t m = strcspn(p, ":");

		if (m && n >= m && memcmp(name + n - m, p, m) == 0)
			return 1;
		p += m + (p[m] == ':');
	}
	return 0;
}

/* The first event (Ir) of a cost line: after the position columns. */
static uint64_t bench_cg_cost(const struct bench_cg *cg, const char *line)
{
	const char *p = line;

	for (unsigned int i = 0; i < cg->npos; i++) {
		p += strcspn(p, " \t");
		p += strspn(p, " \t");
	}
	return *p >= '0' && *p <= '9' ? strtoull(p, NULL, 10) : 0;
}

/* A "key=value" line; unknown keys are ignored. */
static int bench_cg_spec(struct bench_cg *cg, const char *key, size_t klen,
			 const char *val)
{
#define BENCH_CG_KEY(k) (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0)
	long id = 0;

	if (BENCH_CG_KEY("fl") || BENCH_CG_KEY("fi") || BENCH_CG_KEY("fe") ||
	    BENCH_CG_KEY("cfi") || BENCH_CG_KEY("cfl")) {
		if ((id = bench_cg_intern(&cg->files, val)) < 0)
			return (int)id;
		if (BENCH_CG_KEY("fl"))
			cg->fn_file = cg->cur_file = id;
		else if (key[0] == 'c')
			cg->cfile = id;
		else
			cg->cur_file = id;	/* fi= fe= */
	} else if (BENCH_CG_KEY("ob") || BENCH_CG_KEY("cob")) {
		if ((id = bench_cg_intern(&cg->objs, val)) < 0)
			return (int)id;
		if (key[0] == 'c')
			cg->cob = id;
		else
			cg->ob = id;
	} else if (BENCH_CG_KEY("fn")) {
		cg->cur_file = cg->fn_file;
	} else if (BENCH_CG_KEY("calls")) {
		long cfile = cg->cfile >= 0 ? cg->cfile : cg->cur_file;
		long cob = cg->cob >= 0 ? cg->cob : cg->ob;

		/* From code of `from` (inlined too) into the rest of the
		 * same program: a handler. */
		cg->call_pending = 1;
		cg->call_counts = bench_cg_file_is_from(cg, cg->cur_file) &&
				  !bench_cg_file_is_from(cg, cfile) &&
				  cob == cg->ob;
		cg->cob = cg->cfile = -1;
	}
	return 0;
#undef BENCH_CG_KEY
}

static int bench_cg_line(struct bench_cg *cg, const char *line)
{
	const char *eq;

	if ((line[0] >= '0' && line[0] <= '9') || line[0] == '+' ||
	    line[0] == '-' || line[0] == '*') {
		if (cg->call_pending && cg->call_counts)
			cg->below += bench_cg_cost(cg, line);
		cg->call_pending = 0;
		return 0;
	}
	if (strncmp(line, "positions:", 10) == 0) {
		/* "line", "instr line", ... */
		const char *p = line + 10;

		cg->npos = 0;
		while (*(p += strspn(p, " \t"))) {
			cg->npos++;
			p += strcspn(p, " \t");
		}
		return cg->npos ? 0 : -EPROTO;
	}
	if (strncmp(line, "events:", 7) == 0) {
		/* Only instruction counts are read: the first event must be Ir. */
		const char *p = line + 7 + strspn(line + 7, " \t");

		if (strncmp(p, "Ir", 2) != 0 || (p[2] && p[2] != ' '))
			return -EPROTO;
		cg->have_events = 1;
		return 0;
	}
	if (strncmp(line, "totals:", 7) == 0 || strncmp(line, "summary:", 8) == 0) {
		uint64_t v = strtoull(strchr(line, ':') + 1, NULL, 10);

		if (line[0] == 't')
			cg->total = v;
		else
			cg->summary = v;
		cg->have_totals |= line[0] == 't' ? 1 : 2;
		return 0;
	}
	eq = strchr(line, '=');
	if (eq && eq > line && (size_t)(eq - line) < 8 &&
	    strspn(line, "abcdefghijklmnopqrstuvwxyz") == (size_t)(eq - line))
		return bench_cg_spec(cg, line, (size_t)(eq - line), eq + 1);
	return 0;
}

int bench_callgrind_parse(FILE *f, const char *from, struct bench_insn *out)
{
	struct bench_cg cg = {
		.from = from, .fn_file = -1, .cur_file = -1, .ob = -1,
		.cob = -1, .cfile = -1, .npos = 1,
	};
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret = 0;

	while (ret == 0 && (n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		ret = bench_cg_line(&cg, line);
	}
	free(line);
	bench_cg_names_free(&cg.files);
	bench_cg_names_free(&cg.objs);
	if (ret)
		return ret;
	if (!cg.have_events || !cg.have_totals)
		return -EPROTO;
	out->total = cg.have_totals & 1 ? cg.total : cg.summary;
	out->below = cg.below;
	return 0;
}

int bench_callgrind(const char *valgrind, char *const argv[], double timeout_s,
		    const char *from, struct bench_proc *r,
		    struct bench_insn *out)
{
	char path[] = "/tmp/iovmm-callgrind.XXXXXX";
	char opt[sizeof(path) + 32];
	char *vargv[64] = { (char *)valgrind, "--tool=callgrind", "-q", opt };
	size_t n = 4;
	FILE *f;
	int fd, ret;

	memset(r, 0, sizeof(*r));
	r->first_line_ms = NAN;
	for (size_t i = 0; argv[i]; i++) {
		if (n + 1 >= ARRAY_SIZE(vargv))
			return -E2BIG;
		vargv[n++] = argv[i];
	}
	vargv[n] = NULL;
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	close(fd);
	snprintf(opt, sizeof(opt), "--callgrind-out-file=%s", path);
	ret = bench_spawn(vargv, timeout_s, r);
	if (ret == 0) {
		f = fopen(path, "r");
		if (!f)
			ret = -errno;
		else {
			ret = bench_callgrind_parse(f, from, out);
			fclose(f);
		}
	}
	unlink(path);
	return ret;
}
