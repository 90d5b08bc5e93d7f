// SPDX-License-Identifier: MIT
/*
 * `iovmm bench reconnect`: how fast a vhost-user front end gets traffic
 * going again when its back end dies under load and a new one starts, on
 * iovmm and on QEMU, in one run (docs/benchmarks.md, "vhost-user
 * reconnection").
 *
 * Per run and front end: iovmm-vswitch (loopback, server socket) a; the
 * guest kit's net-loopback (allow_loss=1, duration_ms) on the front end as
 * the socket's client; once frames flow through a, a is killed with
 * SIGKILL; after --gap seconds iovmm-vswitch b starts on the same socket.
 * b stamps, in CLOCK_MONOTONIC, when its socket listens, when the front
 * end's rings are set up on it (device-up) and when its first frame
 * arrives (vhost-user/dpdk/stats.c "vswitch-event" lines). Reported:
 * listen -> rings up, listen -> first frame (the figure the issue asks
 * for), frames lost (the kit's count: sent and never received) and
 * frames corrupted, duplicated or reordered (must be 0).
 *
 * Same on both sides: the back end binary, the guest kit and its
 * parameters, the kill and the gap. What differs is the front end's
 * reconnection: QEMU's chardev retries every reconnect=1 second (its
 * smallest period); iovmm's client retries with a 10 ms..1 s back-off and
 * watches the socket's directory, so it connects when the socket appears.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "tools/bench.h"

#define RC_MAX_RUNS 20
#define RC_WINDOW_MS 8000	/* the kit's traffic window: outlasts kill + gap */
/*
 * The kit writes frames off after this long without a reply. Frames the
 * killed back end took are lost; when it took every frame in flight, the
 * kit sends again only after this wait, which then counts in listen ->
 * first frame on both VMMs alike (listen -> rings up is the front end's
 * own figure). Long enough that a poller descheduled on a loaded 2-core
 * host is not mistaken for a loss (the run passes only if the last frame
 * sent comes back).
 */
#define RC_LOSS_MS 500

enum { RC_IOVMM, RC_QEMU, RC_NFE };
static const char *const rc_fe_name[RC_NFE] = { "iovmm", "qemu" };

/* Per-run figures; NaN marks a failed run. */
enum { RC_SETUP_MS, RC_FIRST_MS, RC_LOST, RC_BAD, RC_NFIG };
static const char *const rc_fig_key[RC_NFIG] = {
	"rings_up_ms", "first_frame_ms", "frames_lost", "frames_bad",
};

struct rc_cfg {
	unsigned runs;
	double gap_s;
	const char *json;
	bool fe_on[RC_NFE];
	bool keep;
	char self[PATH_MAX], kit[PATH_MAX], vswitch[PATH_MAX];
	char dir[64];
};

struct rc_data {
	double v[RC_NFE][RC_NFIG][RC_MAX_RUNS];
	unsigned failures;
};

/* ---- one measurement ---------------------------------------------------- */

static int rc_vswitch_start(const struct rc_cfg *cfg, const char *name,
			    struct bench_bg *bg)
{
	char sock[PATH_MAX], log[PATH_MAX];
	int ret;

	snprintf(sock, sizeof(sock), "%s/vh.sock", cfg->dir);
	snprintf(log, sizeof(log), "%s/%s.log", cfg->dir, name);
	ret = bench_vswitch_start(cfg->vswitch, sock, log, bg);
	if (ret) {
		bench_bg_show_log("bench reconnect", "iovmm-vswitch did not start", log);
		bench_bg_stop(bg);
	}
	return ret;
}

/* The mono_ns= of the vswitch-event line with `what` for port 0; 0 if none. */
static uint64_t rc_event_ns(const char *log, const char *what)
{
	char needle[64];
	const char *p;

	snprintf(needle, sizeof(needle), "vswitch-event: port=0 %s mono_ns=", what);
	p = log ? strstr(log, needle) : NULL;
	return p ? strtoull(p + strlen(needle), NULL, 10) : 0;
}

/* Reads back end b's events into the run's figures; 0 or -EPROTO. */
static int rc_read_events(const struct bench_bg *b, double *fig)
{
	char *log = bench_slurp(b->log);
	uint64_t listen = rc_event_ns(log, "listening");
	uint64_t up = rc_event_ns(log, "device-up");
	uint64_t first = rc_event_ns(log, "first-frame");

	free(log);
	if (!listen || up < listen || first < listen)
		return -EPROTO;
	fig[RC_SETUP_MS] = (double)(up - listen) / 1e6;
	fig[RC_FIRST_MS] = (double)(first - listen) / 1e6;
	return 0;
}

/* The kit's RESULT: must pass; frames lost and damaged into fig. */
static int rc_read_result(const struct bench_bg *vm, double *fig)
{
	char *log = bench_slurp(vm->log);
	struct bench_kvs res;
	const char *status;
	uint64_t lost, bad = 0, n;
	static const char *const damage[] = { "corrupted", "dup", "reordered" };
	int ret = -EPROTO;

	if (log && !bench_find_line(log, strlen(log), "RESULT", "net-loopback", &res) &&
	    (status = bench_kv_get(&res, "status")) && !strcmp(status, "pass") &&
	    !bench_kv_get_u64(&res, "lost", &lost)) {
		for (size_t i = 0; i < ARRAY_SIZE(damage); i++)
			if (!bench_kv_get_u64(&res, damage[i], &n))
				bad += n;
		fig[RC_LOST] = (double)lost;
		fig[RC_BAD] = (double)bad;
		ret = 0;
	}
	free(log);
	return ret;
}

static int rc_sample(const struct rc_cfg *cfg, int fe, double *fig)
{
	char sock[PATH_MAX], cmdline[200], vmlog[PATH_MAX];
	struct bench_vhu_vm vm = {
		.self = cfg->self, .kit = cfg->kit, .sock = sock, .cmdline = cmdline,
		.qemu = fe == RC_QEMU, .reconnect = true,
	};
	struct bench_bg a = { 0 }, b = { 0 }, guest = { 0 };
	int ret, status;

	snprintf(sock, sizeof(sock), "%s/vh.sock", cfg->dir);
	snprintf(vmlog, sizeof(vmlog), "%s/vm.log", cfg->dir);
	snprintf(cmdline, sizeof(cmdline),
		 "test=net-loopback nic=virtio count=100000000 size=64 allow_loss=1 "
		 "loss_ms=%u duration_ms=%u timeout_ms=30000", RC_LOSS_MS, RC_WINDOW_MS);
	unlink(sock);
	ret = rc_vswitch_start(cfg, "a", &a);
	if (ret)
		return ret;
	bench_vhu_vm_argv(&vm);
	ret = bench_bg_start(vm.argv, vmlog, &guest);
	if (!ret && (ret = bench_bg_wait(&a, "first-frame", 60)))
		bench_bg_show_log("bench reconnect", "no traffic through the first back end",
				  vmlog);
	if (!ret) {
		kill(a.pid, SIGKILL);
		bench_bg_stop(&a);
		bench_sleep(cfg->gap_s);
		ret = rc_vswitch_start(cfg, "b", &b);
	}
	if (!ret && (ret = bench_bg_wait(&b, "first-frame", 30)))
		bench_bg_show_log("bench reconnect", "no frame through the new back end",
				  b.log);
	if (!ret && (ret = rc_read_events(&b, fig)))
		bench_bg_show_log("bench reconnect", "incomplete back-end events", b.log);
	/* The kit stops sending after its window, prints its RESULT, exits. */
	if (!ret && bench_bg_wait_exit(&guest, RC_WINDOW_MS / 1000 + 60, &status)) {
		bench_bg_show_log("bench reconnect", "the guest did not finish", vmlog);
		ret = -ETIMEDOUT;
	}
	if (!ret && (ret = rc_read_result(&guest, fig)))
		bench_bg_show_log("bench reconnect", "the kit did not pass", vmlog);
	bench_bg_stop(&guest);
	bench_bg_stop(&b);
	bench_bg_stop(&a);
	return ret;
}

/* ---- report ------------------------------------------------------------- */

static double rc_stat(const double *v, unsigned n, int which)
{
	double c[RC_MAX_RUNS], r = NAN;

	memcpy(c, v, n * sizeof(*v));
	if (which == 0)
		return bench_median(c, n);
	for (unsigned i = 0; i < n; i++)
		if (!isnan(c[i]) && (isnan(r) || (which < 0 ? c[i] < r : c[i] > r)))
			r = c[i];
	return r;
}

static void rc_print(const struct rc_cfg *cfg, const struct rc_data *d)
{
	static const char *const head[RC_NFIG] = {
		"listen->rings up ms", "listen->1st frame ms", "frames lost",
		"bad frames",
	};
	char b[3][32];

	printf("\nvhost-user reconnection: iovmm-vswitch killed under traffic, a new one\n"
	       "started %.1f s later on the same socket; medians of %u run%s [min-max]\n",
	       cfg->gap_s, cfg->runs, cfg->runs == 1 ? "" : "s");
	printf("%-8s", "front");
	for (int k = 0; k < RC_NFIG; k++)
		printf(" %24s", head[k]);
	printf("\n");
	for (int fe = 0; fe < RC_NFE; fe++) {
		if (!cfg->fe_on[fe])
			continue;
		printf("%-8s", rc_fe_name[fe]);
		for (int k = 0; k < RC_NFIG; k++) {
			char cell[80];
			int prec = k <= RC_FIRST_MS ? 1 : 0;

			snprintf(cell, sizeof(cell), "%s [%s-%s]",
				 bench_fmt(b[0], sizeof(b[0]), rc_stat(d->v[fe][k], cfg->runs, 0), prec, ""),
				 bench_fmt(b[1], sizeof(b[1]), rc_stat(d->v[fe][k], cfg->runs, -1), prec, ""),
				 bench_fmt(b[2], sizeof(b[2]), rc_stat(d->v[fe][k], cfg->runs, 1), prec, ""));
			printf(" %24s", cell);
		}
		printf("\n");
	}
	if (cfg->fe_on[RC_IOVMM] && cfg->fe_on[RC_QEMU]) {
		double i = rc_stat(d->v[RC_IOVMM][RC_FIRST_MS], cfg->runs, 0);
		double q = rc_stat(d->v[RC_QEMU][RC_FIRST_MS], cfg->runs, 0);

		printf("listen->1st frame, qemu/iovmm: %s (target > 1: iovmm faster)\n",
		       bench_fmt(b[0], sizeof(b[0]), q / i, 1, "x"));
	}
}

static int rc_write_json(const struct rc_cfg *cfg, const struct rc_data *d)
{
	FILE *f = fopen(cfg->json, "w");

	if (!f) {
		fprintf(stderr, "bench reconnect: %s: %s\n", cfg->json, strerror(errno));
		return -errno;
	}
	fprintf(f, "{\"benchmark\": \"reconnect\", \"runs\": %u, \"gap_s\": %.2f, "
		   "\"failed_value\": null, \"frontends\": {", cfg->runs, cfg->gap_s);
	for (int fe = 0, first = 1; fe < RC_NFE; fe++) {
		if (!cfg->fe_on[fe])
			continue;
		fprintf(f, "%s\n  \"%s\": {", first ? "" : ",", rc_fe_name[fe]);
		first = 0;
		for (int k = 0; k < RC_NFIG; k++) {
			fprintf(f, "%s\"%s\": [", k ? ", " : "", rc_fig_key[k]);
			for (unsigned r = 0; r < cfg->runs; r++) {
				double x = d->v[fe][k][r];

				fprintf(f, r ? ", " : "");
				if (isnan(x))
					fprintf(f, "null");
				else
					fprintf(f, "%.3f", x);
			}
			fprintf(f, "]");
		}
		fprintf(f, "}");
	}
	fprintf(f, "}}\n");
	return fclose(f) ? -errno : 0;
}

/* ---- set-up ------------------------------------------------------------- */

static const char rc_usage[] =
	"usage: iovmm bench reconnect [--runs N] [--gap SECONDS] [--json FILE]\n"
	"                             [--no-qemu] [--no-iovmm] [--keep]\n"
	"Kill the vhost-user back end (iovmm-vswitch) under the guest kit's traffic,\n"
	"start a new one after --gap s (default 0.5): time from its socket to the\n"
	"front end's rings and first frame, frames lost and damaged, iovmm vs QEMU.\n";

static int rc_parse(int argc, char **argv, struct rc_cfg *cfg)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "gap", required_argument, NULL, 'g' },
		{ "json", required_argument, NULL, 'j' },
		{ "no-qemu", no_argument, NULL, 'Q' },
		{ "no-iovmm", no_argument, NULL, 'I' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	char *end;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (bench_parse_num(optarg, 1, RC_MAX_RUNS, &v)) {
				fprintf(stderr, "bench reconnect: --runs: 1 to %d\n", RC_MAX_RUNS);
				return -EINVAL;
			}
			cfg->runs = (unsigned)v;
			break;
		case 'g':
			cfg->gap_s = strtod(optarg, &end);
			if (*end || !(cfg->gap_s >= 0 && cfg->gap_s <= 5)) {
				fprintf(stderr, "bench reconnect: --gap: 0 to 5 seconds\n");
				return -EINVAL;
			}
			break;
		case 'j': cfg->json = optarg; break;
		case 'Q': cfg->fe_on[RC_QEMU] = false; break;
		case 'I': cfg->fe_on[RC_IOVMM] = false; break;
		case 'k': cfg->keep = true; break;
		case 'h': fputs(rc_usage, stdout); return 1;
		default: fputs(rc_usage, stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bench reconnect: unexpected argument '%s'\n%s", argv[optind],
			rc_usage);
		return -EINVAL;
	}
	return 0;
}

static int rc_resolve(struct rc_cfg *cfg)
{
	if (bench_vhost_tools("bench reconnect", cfg->self, cfg->kit, cfg->vswitch))
		return -ENOENT;
	if (cfg->fe_on[RC_QEMU] && !bench_have_prog("qemu-system-x86_64")) {
		fprintf(stderr, "bench reconnect: no qemu-system-x86_64: QEMU row skipped\n");
		cfg->fe_on[RC_QEMU] = false;
	}
	snprintf(cfg->dir, sizeof(cfg->dir), "/tmp/iovmm-bench-rc.XXXXXX");
	if (!mkdtemp(cfg->dir)) {
		fprintf(stderr, "bench reconnect: mkdtemp: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

static void rc_cleanup_dir(const struct rc_cfg *cfg)
{
	static const char *const files[] = { "vh.sock", "a.log", "b.log", "vm.log", NULL };
	char path[PATH_MAX];

	if (cfg->keep) {
		fprintf(stderr, "bench reconnect: logs kept in %s\n", cfg->dir);
		return;
	}
	for (int i = 0; files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->dir, files[i]);
		unlink(path);
	}
	rmdir(cfg->dir);
}

int bench_reconnect_main(int argc, char **argv)
{
	struct rc_cfg cfg = {
		.runs = 5, .gap_s = 0.5, .json = "bench-reconnect.json",
		.fe_on = { true, true },
	};
	struct rc_data d;
	int ret;

	ret = rc_parse(argc, argv, &cfg);
	if (ret || rc_resolve(&cfg))
		return ret > 0 ? 0 : 2;
	for (unsigned r = 0; r < cfg.runs; r++) {
		for (int k = 0; k < RC_NFE; k++) {
			/* Alternate who goes first, so slow drift cancels. */
			int fe = (k + (int)r) % RC_NFE;
			double one[RC_NFIG] = { NAN, NAN, NAN, NAN };

			if (cfg.fe_on[fe]) {
				fprintf(stderr, "bench reconnect: run %u/%u, %s\n", r + 1,
					cfg.runs, rc_fe_name[fe]);
				if (rc_sample(&cfg, fe, one)) {
					/* No half-measured run in the medians. */
					for (int i = 0; i < RC_NFIG; i++)
						one[i] = NAN;
					d.failures++;
				} else if (one[RC_BAD] > 0) {
					d.failures++;
				}
			}
			for (int i = 0; i < RC_NFIG; i++)
				d.v[fe][i][r] = one[i];
		}
	}
	rc_cleanup_dir(&cfg);
	rc_print(&cfg, &d);
	ret = rc_write_json(&cfg, &d);
	if (!ret)
		printf("json: %s\n", cfg.json);
	return ret || d.failures ? 1 : 0;
}
