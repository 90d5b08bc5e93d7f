// SPDX-License-Identifier: MIT
/*
 * `iovmm bench vhost`: vhost-user back ends and front ends side by side, in
 * one run, 64 and 1500-byte frames (docs/vswitch.md, "Benchmark").
 *
 * Back ends (each serves one vhost-user socket and sends every frame back
 * out of the port it came in on): iovmm-vswitch in loopback mode, and the
 * reference, dpdk-testpmd's vhost PMD in io forwarding with a looped port
 * (docs/../shared PEERS command line). Front ends:
 *  - dpdk-testpmd's virtio-user PMD, io forwarding after one --tx-first
 *    burst: frames/s received per direction (testpmd's Rx-pps, median of
 *    the periodic samples after a warm-up);
 *  - the guest kit's net-loopback (a poll-mode virtio-net driver) under
 *    QEMU's vhost-user-net front end and under iovmm's (`--net vhost-user`):
 *    round-trip frames/s as the kit measures them, and for iovmm the
 *    userspace exits per frame (`iovmm run --stats`).
 * Ratios: iovmm-vswitch / testpmd for every front end (target >= 1.0),
 * iovmm / QEMU front end on the same back end (target >= 1.3).
 *
 * CPU placement (a 2-core host): every back end's forwarding lcore on CPU 0
 * (its main lcore, asleep, on CPU 1); every front end's busy part on CPU 1
 * (testpmd's forwarding lcore; QEMU and iovmm through taskset). The
 * virtio-user front end needs hugepages: the benchmark reserves them as
 * root and gives them back.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "tools/bench.h"

#define VH_MAX_RUNS 20
#define VH_HUGEPAGES 96		/* 2 MiB pages: testpmd virtio-user -m 128 */
#define VH_TARGET_BACKEND 1.0
#define VH_TARGET_FRONTEND 1.3
#define VH_WARMUP_SAMPLES 2

enum { VH_VSWITCH, VH_TESTPMD, VH_NBE };
enum { VH_FE_VU, VH_FE_QEMU, VH_FE_IOVMM, VH_NFE };

static const char *const vh_be_name[VH_NBE] = { "iovmm-vswitch", "testpmd-vhost" };
static const char *const vh_fe_name[VH_NFE] = {
	"dpdk virtio-user", "kit on qemu", "kit on iovmm",
};
static const unsigned vh_sizes[] = { 64, 1500 };
#define VH_NSIZES ARRAY_SIZE(vh_sizes)

struct vh_cfg {
	unsigned runs;
	double seconds;		/* virtio-user measurement window */
	uint64_t count;		/* kit frames per run */
	const char *json;
	bool fe_on[VH_NFE];
	bool taskset;
	bool keep;		/* keep the scratch directory (logs) */
	char self[PATH_MAX], kit[PATH_MAX], vswitch[PATH_MAX];
	char dir[64];		/* scratch: sockets and logs */
};

struct vh_data {
	double pps[VH_NSIZES][VH_NFE][VH_NBE][VH_MAX_RUNS];
	double exits[VH_NSIZES][VH_NBE][VH_MAX_RUNS];
	unsigned failures;
};

/* ---- hugepages for the virtio-user front end --------------------------- */

static long vh_huge_old = -1;

static long vh_meminfo(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

static int vh_huge_reserve(unsigned n)
{
	const char *nr = "/proc/sys/vm/nr_hugepages";
	FILE *f = fopen(nr, "r");

	if (!f || fscanf(f, "%ld", &vh_huge_old) != 1) {
		if (f)
			fclose(f);
		return -EIO;
	}
	fclose(f);
	f = fopen(nr, "w");
	if (!f)
		return -errno;
	fprintf(f, "%ld\n", vh_huge_old + n);
	if (fclose(f))
		return -errno;
	return vh_meminfo("HugePages_Free:") >= (long)n ? 0 : -ENOMEM;
}

static void vh_huge_restore(void)
{
	FILE *f;

	if (vh_huge_old < 0)
		return;
	f = fopen("/proc/sys/vm/nr_hugepages", "w");
	if (f) {
		fprintf(f, "%ld\n", vh_huge_old);
		fclose(f);
	}
	vh_huge_old = -1;
}

/* ---- back ends ---------------------------------------------------------- */

static int vh_backend_start(const struct vh_cfg *cfg, int be, const char *sock,
			    struct bench_bg *bg)
{
	char vdev[PATH_MAX + 64], log[PATH_MAX];
	int ret;

	unlink(sock);
	snprintf(log, sizeof(log), "%s/backend.log", cfg->dir);
	if (be == VH_VSWITCH) {
		ret = bench_vswitch_start(cfg->vswitch, sock, log, bg);
	} else {
		snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1", sock);
		char *const argv[] = {
			"dpdk-testpmd", "--lcores", "0@1,1@0", "--no-pci", "--no-huge",
			"-m", "256", "--no-shconf", "--vdev", vdev, "--",
			"--nb-cores=1", "--forward-mode=io", "--port-topology=loop",
			"--stats-period", "1", "--total-num-mbufs=32768", NULL
		};
		ret = bench_bg_start(argv, log, bg);
		if (!ret)
			ret = bench_bg_wait(bg, "Checking link statuses", 30);
	}
	if (ret) {
		bench_bg_show_log("bench vhost", "the back end did not start", log);
		bench_bg_stop(bg);
	}
	return ret;
}

/* ---- front ends --------------------------------------------------------- */

/* Occurrences of `needle` in the file at `path`. */
static unsigned vh_count(const char *path, const char *needle)
{
	char *log = bench_slurp(path);
	unsigned n = 0;

	for (const char *p = log; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	free(log);
	return n;
}

/* Median of testpmd's "Rx-pps:" samples after the warm-up ones; NaN. */
static double vh_testpmd_pps(const char *log)
{
	double v[512];
	size_t n = 0, seen = 0;

	for (const char *p = log; (p = strstr(p, "Rx-pps:")) && n < ARRAY_SIZE(v);
	     p += 7) {
		double x = strtod(p + 7, NULL);

		if (seen++ >= VH_WARMUP_SAMPLES)
			v[n++] = x;
	}
	return n ? bench_median(v, n) : NAN;
}

static double vh_virtio_user(const struct vh_cfg *cfg, const char *sock,
			     unsigned size)
{
	char vdev[PATH_MAX + 64], txpkts[32], log[PATH_MAX], *out;
	struct bench_bg bg = { 0 };
	double pps = NAN;
	int ret;

	snprintf(vdev, sizeof(vdev), "net_virtio_user0,path=%s,queues=1", sock);
	snprintf(txpkts, sizeof(txpkts), "--txpkts=%u", size);
	snprintf(log, sizeof(log), "%s/virtio-user.log", cfg->dir);
	char *const argv[] = {
		"dpdk-testpmd", "--lcores", "0@0,1@1", "--no-pci", "-m", "128",
		"--in-memory", "--single-file-segments", "--vdev", vdev, "--",
		"--nb-cores=1", "--forward-mode=io", "--port-topology=loop",
		"--tx-first", "--stats-period", "1", "--total-num-mbufs=16384",
		txpkts, NULL
	};
	ret = bench_bg_start(argv, log, &bg);
	if (!ret)
		ret = bench_bg_wait(&bg, "Rx-pps", 60);
	if (!ret) {
		/* testpmd prints a sample about every second, later when its
		 * main lcore shares a CPU with a poller: count samples. */
		unsigned want = VH_WARMUP_SAMPLES + (unsigned)ceil(cfg->seconds);
		double end = bench_now() + 3 * cfg->seconds + 20;

		while (vh_count(log, "Rx-pps:") < want && bench_now() < end)
			bench_sleep(0.25);
		bench_bg_stop(&bg);
		out = bench_slurp(log);
		pps = out ? vh_testpmd_pps(out) : NAN;
		free(out);
	}
	if (isnan(pps))
		bench_bg_show_log("bench vhost", "testpmd virtio-user gave no rate", log);
	bench_bg_stop(&bg);
	return pps;
}

void bench_vhu_vm_argv(struct bench_vhu_vm *vm)
{
	static char *const qemu[] = {
		"qemu-system-x86_64", "-accel", "kvm", "-M",
		"microvm,pcie=on,memory-backend=mem", "-object",
		"memory-backend-memfd,id=mem,size=256M,share=on", "-m", "256",
		"-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
		"-netdev", "vhost-user,id=n0,chardev=c0", "-device",
		"virtio-net-pci,netdev=n0,disable-legacy=on", "-device",
		"isa-debug-exit,iobase=0xf4,iosize=0x04", NULL
	};
	char **argv = vm->argv;
	int a = 0;

	if (vm->taskset) {
		argv[a++] = "taskset";
		argv[a++] = "-c";
		argv[a++] = "1";
	}
	if (vm->qemu) {
		/* reconnect=1: QEMU's shortest retry period (whole seconds). */
		snprintf(vm->chardev, sizeof(vm->chardev), "socket,id=c0,path=%s%s",
			 vm->sock, vm->reconnect ? ",reconnect=1" : "");
		for (int i = 0; qemu[i]; i++)
			argv[a++] = qemu[i];
		argv[a++] = "-chardev";
		argv[a++] = vm->chardev;
		argv[a++] = "-kernel";
		argv[a++] = (char *)vm->kit;
		argv[a++] = "-append";
		argv[a++] = (char *)vm->cmdline;
	} else {
		/* iovmm's client reconnects by itself (vhost-user/frontend.h). */
		snprintf(vm->net, sizeof(vm->net), "vhost-user,socket=%s", vm->sock);
		char *const iovmm[] = {
			(char *)vm->self, "run", "--kernel", (char *)vm->kit, "--mem",
			"256M", "--net", vm->net, "--cmdline", (char *)vm->cmdline,
			"--stats", NULL
		};
		for (int i = 0; iovmm[i]; i++)
			argv[a++] = iovmm[i];
	}
	argv[a] = NULL;
}

/* The kit's net-loopback under QEMU or iovmm; NaN on failure. */
static double vh_kit(const struct vh_cfg *cfg, int fe, int be, const char *sock,
		     unsigned size, double *exits)
{
	char cmdline[160];
	struct bench_vhu_vm vm = {
		.self = cfg->self, .kit = cfg->kit, .sock = sock, .cmdline = cmdline,
		.qemu = fe == VH_FE_QEMU, .taskset = cfg->taskset,
	};
	struct bench_kvs res, stats;
	struct bench_proc p;
	const char *status;
	uint64_t nexits;
	double pps = NAN;
	char **argv = vm.argv;
	int ret;

	snprintf(cmdline, sizeof(cmdline),
		 "test=net-loopback nic=virtio count=%" PRIu64 " size=%u batch=128",
		 cfg->count, size);
	bench_vhu_vm_argv(&vm);
	ret = bench_spawn(argv, 120, &p);
	if (ret < 0) {
		fprintf(stderr, "bench vhost: cannot run %s: %s\n", argv[0], strerror(-ret));
		return NAN;
	}
	if (bench_find_line(p.out.p ? p.out.p : "", p.out.len, "RESULT",
			    "net-loopback", &res) ||
	    !(status = bench_kv_get(&res, "status")) || strcmp(status, "pass") ||
	    bench_kv_get_double(&res, "pps", &pps)) {
		fprintf(stderr, "bench vhost: %s %uB on %s: no passing RESULT (exit %d%s)\n%s%s",
			vh_fe_name[fe], size, vh_be_name[be],
			WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1,
			p.timed_out ? ", timed out" : "", p.out.p ? p.out.p : "",
			p.err.p ? p.err.p : "");
		pps = NAN;
	} else if (fe == VH_FE_IOVMM && exits &&
		   bench_find_line(p.err.p ? p.err.p : "", p.err.len,
				   "iovmm-stats:", NULL, &stats) == 0 &&
		   bench_kv_get_u64(&stats, "exits", &nexits) == 0) {
		*exits = (double)nexits / (double)cfg->count;
	}
	bench_proc_free(&p);
	return pps;
}

/* One measurement: a fresh back end, one front end run, back end stopped. */
static void vh_sample(const struct vh_cfg *cfg, size_t s, int fe, int be,
		      unsigned run, struct vh_data *d)
{
	char sock[PATH_MAX];
	struct bench_bg bg = { 0 };
	double pps, exits = NAN;

	d->pps[s][fe][be][run] = NAN;
	if (fe == VH_FE_IOVMM)
		d->exits[s][be][run] = NAN;
	snprintf(sock, sizeof(sock), "%s/vhost.sock", cfg->dir);
	if (vh_backend_start(cfg, be, sock, &bg)) {
		d->failures++;
		return;
	}
	if (fe == VH_FE_VU)
		pps = vh_virtio_user(cfg, sock, vh_sizes[s]);
	else
		pps = vh_kit(cfg, fe, be, sock, vh_sizes[s], &exits);
	bench_bg_stop(&bg);
	if (isnan(pps)) {
		/* Its final counters say whether it dropped frames. */
		bench_bg_show_log("bench vhost", "the back end after that run", bg.log);
		d->failures++;
	}
	d->pps[s][fe][be][run] = pps;
	if (fe == VH_FE_IOVMM)
		d->exits[s][be][run] = exits;
}

/* ---- report ------------------------------------------------------------- */

static const char *vh_verdict(double ratio, double target)
{
	return isnan(ratio) ? "-" : ratio >= target ? "PASS" : "MISS";
}

static void vh_print_backends(const struct vh_cfg *cfg, const struct vh_data *d)
{
	printf("%-5s %-17s %14s %14s %9s  %s\n", "size", "front end",
	       "vswitch pps", "testpmd pps", "ratio", "target");
	for (size_t s = 0; s < VH_NSIZES; s++) {
		for (int fe = 0; fe < VH_NFE; fe++) {
			double v = bench_median_of(d->pps[s][fe][VH_VSWITCH], cfg->runs);
			double t = bench_median_of(d->pps[s][fe][VH_TESTPMD], cfg->runs);
			char b1[32], b2[32], b3[32];

			if (!cfg->fe_on[fe])
				continue;
			printf("%-5u %-17s %14s %14s %9s  %s (iovmm-vswitch >= %.1fx testpmd)\n",
			       vh_sizes[s], vh_fe_name[fe], bench_fmt(b1, 32, v, 0, ""),
			       bench_fmt(b2, 32, t, 0, ""), bench_fmt(b3, 32, v / t, 2, "x"),
			       vh_verdict(v / t, VH_TARGET_BACKEND),
			       VH_TARGET_BACKEND);
		}
	}
}

static void vh_print_frontends(const struct vh_cfg *cfg, const struct vh_data *d)
{
	printf("%-5s %-14s %12s %12s %9s %10s  %s\n", "size", "back end",
	       "iovmm pps", "qemu pps", "ratio", "exits/pkt", "target");
	for (size_t s = 0; s < VH_NSIZES; s++) {
		for (int be = 0; be < VH_NBE; be++) {
			double i = bench_median_of(d->pps[s][VH_FE_IOVMM][be], cfg->runs);
			double q = bench_median_of(d->pps[s][VH_FE_QEMU][be], cfg->runs);
			double ex = bench_median_of(d->exits[s][be], cfg->runs);
			char b1[32], b2[32], b3[32], b4[32];

			printf("%-5u %-14s %12s %12s %9s %10s  %s (iovmm >= %.1fx qemu, exits ~0)\n",
			       vh_sizes[s], vh_be_name[be], bench_fmt(b1, 32, i, 0, ""),
			       bench_fmt(b2, 32, q, 0, ""), bench_fmt(b3, 32, i / q, 2, "x"),
			       bench_fmt(b4, 32, ex, 3, ""),
			       vh_verdict(i / q, VH_TARGET_FRONTEND),
			       VH_TARGET_FRONTEND);
		}
	}
}

static void vh_print(const struct vh_cfg *cfg, const struct vh_data *d)
{
	printf("iovmm bench vhost: %u runs, medians. virtio-user: frames/s received "
	       "per direction (testpmd Rx-pps, %.0f s); kit: round-trip frames/s "
	       "(count=%" PRIu64 ")\n", cfg->runs, cfg->seconds, cfg->count);
	printf("Back ends (same front end, same run):\n");
	vh_print_backends(cfg, d);
	if (!cfg->fe_on[VH_FE_IOVMM] && !cfg->fe_on[VH_FE_QEMU])
		return;
	printf("Front ends (same guest kit, same back end):\n");
	vh_print_frontends(cfg, d);
}

static void vh_json_series(FILE *f, const char *key, const double *v,
			   unsigned n)
{
	double m = bench_median_of(v, n);

	fprintf(f, "\"%s\": [", key);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, i ? ", %.6g" : "%.6g", isnan(v[i]) ? -1.0 : v[i]);
	/* -1 marks a failed or skipped measurement. */
	fprintf(f, "], \"%s_median\": %.6g", key, isnan(m) ? -1.0 : m);
}

static void vh_json_backends(FILE *f, const struct vh_cfg *cfg,
			     const struct vh_data *d)
{
	bool first = true;

	fprintf(f, "\"backends\": [\n");
	for (size_t s = 0; s < VH_NSIZES; s++) {
		for (int fe = 0; fe < VH_NFE; fe++) {
			if (!cfg->fe_on[fe])
				continue;
			fprintf(f, "%s  {\"size\": %u, \"frontend\": \"%s\", "
				   "\"target_ratio\": %.1f, ", first ? "" : ",\n",
				vh_sizes[s], vh_fe_name[fe], VH_TARGET_BACKEND);
			first = false;
			for (int be = 0; be < VH_NBE; be++) {
				fprintf(f, "\"%s\": {", vh_be_name[be]);
				vh_json_series(f, "pps", d->pps[s][fe][be], cfg->runs);
				fprintf(f, "}%s", be + 1 < VH_NBE ? ", " : "}");
			}
		}
	}
	fprintf(f, "\n]");
}

static void vh_json_frontends(FILE *f, const struct vh_cfg *cfg,
			      const struct vh_data *d)
{
	fprintf(f, "\"frontends\": [\n");
	for (size_t s = 0; s < VH_NSIZES; s++) {
		for (int be = 0; be < VH_NBE; be++) {
			fprintf(f, "  {\"size\": %u, \"backend\": \"%s\", "
				   "\"target_ratio\": %.1f, \"iovmm\": {",
				vh_sizes[s], vh_be_name[be], VH_TARGET_FRONTEND);
			vh_json_series(f, "pps", d->pps[s][VH_FE_IOVMM][be], cfg->runs);
			fprintf(f, ", ");
			vh_json_series(f, "exits_per_pkt", d->exits[s][be], cfg->runs);
			fprintf(f, "}, \"qemu\": {");
			vh_json_series(f, "pps", d->pps[s][VH_FE_QEMU][be], cfg->runs);
			fprintf(f, "}}%s\n",
				s + 1 == VH_NSIZES && be + 1 == VH_NBE ? "" : ",");
		}
	}
	fprintf(f, "]");
}

static int vh_write_json(const struct vh_cfg *cfg, const struct vh_data *d)
{
	FILE *f = fopen(cfg->json, "w");

	if (!f) {
		fprintf(stderr, "bench vhost: %s: %s\n", cfg->json, strerror(errno));
		return -errno;
	}
	fprintf(f, "{\"benchmark\": \"vhost\", \"runs\": %u, \"seconds\": %.1f, "
		   "\"count\": %" PRIu64 ", \"failed_value\": -1,\n",
		cfg->runs, cfg->seconds, cfg->count);
	vh_json_backends(f, cfg, d);
	fprintf(f, ",\n");
	vh_json_frontends(f, cfg, d);
	fprintf(f, "}\n");
	return fclose(f) ? -errno : 0;
}

/* ---- set-up ------------------------------------------------------------- */

static const char vh_usage[] =
	"usage: iovmm bench vhost [--runs N] [--seconds S] [--count N] [--json FILE]\n"
	"                         [--no-virtio-user] [--no-qemu] [--no-iovmm] [--keep]\n"
	"vhost-user back ends (iovmm-vswitch loopback vs testpmd's vhost PMD) and\n"
	"front ends (dpdk virtio-user, the guest kit on QEMU and on iovmm), 64 and\n"
	"1500-byte frames, one run; medians of N runs. Needs root (hugepages).\n";

static int vh_parse(int argc, char **argv, struct vh_cfg *cfg)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "json", required_argument, NULL, 'j' },
		{ "no-virtio-user", no_argument, NULL, 'V' },
		{ "no-qemu", no_argument, NULL, 'Q' },
		{ "no-iovmm", no_argument, NULL, 'I' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int opt;
	char *end;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (bench_parse_num(optarg, 1, VH_MAX_RUNS, &v)) {
				fprintf(stderr, "bench vhost: --runs: 1 to %d\n", VH_MAX_RUNS);
				return -EINVAL;
			}
			cfg->runs = (unsigned)v;
			break;
		case 's':
			cfg->seconds = strtod(optarg, &end);
			if (*end || !(cfg->seconds >= 1 && cfg->seconds <= 600)) {
				fprintf(stderr, "bench vhost: --seconds: 1 to 600\n");
				return -EINVAL;
			}
			break;
		case 'c':
			if (bench_parse_num(optarg, 1, BENCH_KIT_MAX_COUNT, &cfg->count)) {
				fprintf(stderr, "bench vhost: --count: 1 to %llu\n",
					BENCH_KIT_MAX_COUNT);
				return -EINVAL;
			}
			break;
		case 'j': cfg->json = optarg; break;
		case 'V': cfg->fe_on[VH_FE_VU] = false; break;
		case 'Q': cfg->fe_on[VH_FE_QEMU] = false; break;
		case 'I': cfg->fe_on[VH_FE_IOVMM] = false; break;
		case 'k': cfg->keep = true; break;
		case 'h': fputs(vh_usage, stdout); return 1;
		default: fputs(vh_usage, stderr); return -EINVAL;
		}
	}
	return 0;
}

static bool vh_have(const char *prog)
{
	char *const argv[] = { "sh", "-c", "command -v \"$0\"", (char *)prog, NULL };
	struct bench_proc p;
	bool ok;

	if (bench_spawn(argv, 10, &p) < 0)
		return false;
	ok = WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0;
	bench_proc_free(&p);
	return ok;
}

int bench_vhost_tools(const char *who, char *self, char *kit, char *vswitch)
{
	ssize_t n = readlink("/proc/self/exe", self, PATH_MAX - 1);

	if (n <= 0 || bench_artifact("guest/kit.elf", R_OK, kit, PATH_MAX)) {
		fprintf(stderr, "%s: guest kit not found next to iovmm\n", who);
		return -ENOENT;
	}
	self[n] = '\0';
	if (bench_artifact("vhost-user/dpdk/iovmm-vswitch", X_OK, vswitch, PATH_MAX)) {
		fprintf(stderr, "%s: iovmm-vswitch not built (needs libdpdk-dev)\n", who);
		return -ENOENT;
	}
	return 0;
}

static int vh_resolve(struct vh_cfg *cfg)
{
	if (bench_vhost_tools("bench vhost", cfg->self, cfg->kit, cfg->vswitch))
		return -ENOENT;
	if (!vh_have("dpdk-testpmd")) {
		fprintf(stderr, "bench vhost: dpdk-testpmd not installed (Debian: dpdk)\n");
		return -ENOENT;
	}
	if (cfg->fe_on[VH_FE_QEMU] && !vh_have("qemu-system-x86_64")) {
		fprintf(stderr, "bench vhost: no qemu-system-x86_64: QEMU rows skipped\n");
		cfg->fe_on[VH_FE_QEMU] = false;
	}
	cfg->taskset = vh_have("taskset");
	snprintf(cfg->dir, sizeof(cfg->dir), "/tmp/iovmm-bench-vhost.XXXXXX");
	if (!mkdtemp(cfg->dir)) {
		fprintf(stderr, "bench vhost: mkdtemp: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

static void vh_cleanup_dir(const struct vh_cfg *cfg)
{
	static const char *const files[] = {
		"vhost.sock", "backend.log", "virtio-user.log", NULL
	};
	char path[PATH_MAX];

	if (cfg->keep) {
		fprintf(stderr, "bench vhost: logs kept in %s\n", cfg->dir);
		return;
	}
	for (int i = 0; files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->dir, files[i]);
		unlink(path);
	}
	rmdir(cfg->dir);
}

static void vh_run_all(const struct vh_cfg *cfg, struct vh_data *d)
{
	for (unsigned run = 0; run < cfg->runs; run++) {
		fprintf(stderr, "bench vhost: run %u/%u\n", run + 1, cfg->runs);
		for (size_t s = 0; s < VH_NSIZES; s++) {
			for (int fe = 0; fe < VH_NFE; fe++) {
				for (int k = 0; k < VH_NBE; k++) {
					/* Alternate which back end goes first,
					 * so slow drift of the host cancels. */
					int be = (k + (int)run) % VH_NBE;

					if (cfg->fe_on[fe])
						vh_sample(cfg, s, fe, be, run, d);
					else
						d->pps[s][fe][be][run] = NAN;
				}
			}
			for (int be = 0; be < VH_NBE; be++)
				if (!cfg->fe_on[VH_FE_IOVMM])
					d->exits[s][be][run] = NAN;
		}
	}
}

int bench_vhost_main(int argc, char **argv)
{
	struct vh_cfg cfg = {
		.runs = 3, .seconds = 5, .count = 200000, .json = "bench-vhost.json",
		.fe_on = { true, true, true },
	};
	struct vh_data *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return 1;
	ret = vh_parse(argc, argv, &cfg);
	if (ret || vh_resolve(&cfg)) {
		free(d);
		return ret > 0 ? 0 : 2;
	}
	if (cfg.fe_on[VH_FE_VU] && (ret = vh_huge_reserve(VH_HUGEPAGES))) {
		fprintf(stderr, "bench vhost: cannot reserve %d hugepages for virtio-user "
				"(%s; needs root): its rows are skipped\n", VH_HUGEPAGES,
			strerror(-ret));
		vh_huge_restore();
		cfg.fe_on[VH_FE_VU] = false;
	}
	vh_run_all(&cfg, d);
	vh_huge_restore();
	vh_cleanup_dir(&cfg);
	vh_print(&cfg, d);
	ret = vh_write_json(&cfg, d);
	if (!ret)
		printf("json: %s\n", cfg.json);
	ret = ret || d->failures ? 1 : 0;
	free(d);
	return ret;
}
