// SPDX-License-Identifier: MIT
/*
 * `iovmm bench net`: the guest kit's net-loopback test over an emulated
 * e1000 and over virtio-net (split and packed rings) served in the VMM, on
 * iovmm and on QEMU, in one run. iovmm's NICs use the in-process loopback
 * back end; QEMU's use a UDP socket looped to itself (QEMU has no loopback
 * net back end), which is the cheapest loop QEMU offers. Both are userspace
 * device models: no vhost on either side.
 *
 * Reported per (frame size, NIC): packets/s and bytes/s medians, the
 * iovmm/QEMU ratio, and iovmm's userspace exits per packet (from
 * `iovmm run --stats`; QEMU does not expose its exit count).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "tools/bench.h"

#define NET_MAX_RUNS 50
#define NET_TARGET_RATIO 1.2
#define NET_QEMU_MACHINE "microvm,pcie=on"

struct net_nic {
	const char *label;
	const char *nic;  /* kit nic= */
	const char *ring; /* kit ring=, NULL for e1000 */
};

static const struct net_nic net_nics[] = {
	{ "e1000", "e1000", NULL },
	{ "virtio split", "virtio", "split" },
	{ "virtio packed", "virtio", "packed" },
};
static const unsigned net_sizes[] = { 64, 1500 };
/*
 * Frames in flight (the kit's batch=). QEMU's UDP socket loop drops frames
 * once its socket buffer (net.core.rmem_default, ~208 KiB) is full, which
 * 128 full-size frames overflow; the same window is used on both VMMs.
 */
static const unsigned net_batch[] = { 128, 64 };

#define NET_NNICS ARRAY_SIZE(net_nics)
#define NET_NSIZES ARRAY_SIZE(net_sizes)

enum { NET_IOVMM, NET_QEMU, NET_NIMPL };

struct net_cfg {
	unsigned runs;
	uint64_t count;
	double timeout_s;
	const char *json;
	bool qemu;
	const char *qemu_machine;
	char self[PATH_MAX];
	char kit[PATH_MAX];
};

struct net_data {
	double pps[NET_NSIZES][NET_NNICS][NET_NIMPL][NET_MAX_RUNS];
	double bps[NET_NSIZES][NET_NNICS][NET_NIMPL][NET_MAX_RUNS];
	double exits[NET_NSIZES][NET_NNICS][NET_MAX_RUNS];
	unsigned failures;
};

static void net_cmdline(char *buf, size_t len, const struct net_cfg *cfg,
			const struct net_nic *nic, unsigned size)
{
	unsigned batch = 64;

	for (size_t i = 0; i < NET_NSIZES; i++)
		if (net_sizes[i] == size)
			batch = net_batch[i];
	snprintf(buf, len,
		 "test=net-loopback nic=%s count=%" PRIu64 " size=%u batch=%u%s%s",
		 nic->nic, cfg->count, size, batch, nic->ring ? " ring=" : "",
		 nic->ring ? nic->ring : "");
}

static int net_spawn_iovmm(const struct net_cfg *cfg, const struct net_nic *nic,
			   const char *cmdline, struct bench_proc *p)
{
	char netopt[96];

	snprintf(netopt, sizeof(netopt), "%s,backend=loopback%s%s",
		 nic->nic, nic->ring ? ",ring=" : "", nic->ring ? nic->ring : "");
	char *const argv[] = {
		(char *)cfg->self, "run", "--kernel", (char *)cfg->kit,
		"--mem", "256M", "--net", netopt, "--cmdline", (char *)cmdline,
		"--stats", NULL
	};
	return bench_spawn(argv, cfg->timeout_s, p);
}

static int net_spawn_qemu(const struct net_cfg *cfg, const struct net_nic *nic,
			  const char *cmdline, unsigned port,
			  struct bench_proc *p)
{
	char netdev[128], device[128];

	snprintf(netdev, sizeof(netdev),
		 "socket,id=n0,udp=127.0.0.1:%u,localaddr=127.0.0.1:%u", port, port);
	if (nic->ring)
		snprintf(device, sizeof(device),
			 "virtio-net-pci,netdev=n0,disable-legacy=on%s",
			 strcmp(nic->ring, "packed") ? "" : ",packed=on");
	else
		snprintf(device, sizeof(device), "e1000,netdev=n0");
	char *const argv[] = {
		"qemu-system-x86_64", "-accel", "kvm", "-M",
		(char *)cfg->qemu_machine, "-m", "256", "-nographic",
		"-no-reboot", "-nodefaults", "-serial", "stdio",
		"-kernel", (char *)cfg->kit, "-append", (char *)cmdline,
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
		"-netdev", netdev, "-device", device, NULL
	};
	return bench_spawn(argv, cfg->timeout_s, p);
}

/* One measurement; NaN on failure (with the reason on stderr). */
static void net_sample(const struct net_cfg *cfg, int impl, size_t s, size_t n,
		       unsigned run, struct net_data *d)
{
	const struct net_nic *nic = &net_nics[n];
	struct bench_kvs res, stats;
	struct bench_proc p;
	char cmdline[160];
	const char *status;
	double pps, bps;
	uint64_t exits;
	int ret;

	d->pps[s][n][impl][run] = d->bps[s][n][impl][run] = NAN;
	if (impl == NET_IOVMM)
		d->exits[s][n][run] = NAN;
	net_cmdline(cmdline, sizeof(cmdline), cfg, nic, net_sizes[s]);
	ret = impl == NET_IOVMM ?
		      net_spawn_iovmm(cfg, nic, cmdline, &p) :
		      net_spawn_qemu(cfg, nic, cmdline,
				     20000 + (unsigned)(getpid() % 20000), &p);
	if (ret < 0) {
		fprintf(stderr, "bench net: cannot run %s: %s\n",
			impl == NET_IOVMM ? "iovmm" : "qemu", strerror(-ret));
		d->failures++;
		return;
	}
	if (bench_find_line(p.out.p ? p.out.p : "", p.out.len, "RESULT",
			    "net-loopback", &res) ||
	    !(status = bench_kv_get(&res, "status")) || strcmp(status, "pass") ||
	    bench_kv_get_double(&res, "pps", &pps) ||
	    bench_kv_get_double(&res, "bytes_per_s", &bps)) {
		fprintf(stderr, "bench net: %s %s %uB: no passing RESULT (exit %d%s)\n%s%s",
			impl == NET_IOVMM ? "iovmm" : "qemu", nic->label,
			net_sizes[s], WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1,
			p.timed_out ? ", timed out" : "",
			p.out.p ? p.out.p : "", p.err.p ? p.err.p : "");
		d->failures++;
		bench_proc_free(&p);
		return;
	}
	d->pps[s][n][impl][run] = pps;
	d->bps[s][n][impl][run] = bps;
	if (impl == NET_IOVMM &&
	    bench_find_line(p.err.p ? p.err.p : "", p.err.len, "iovmm-stats:",
			    NULL, &stats) == 0 &&
	    bench_kv_get_u64(&stats, "exits", &exits) == 0 && cfg->count)
		d->exits[s][n][run] = (double)exits / (double)cfg->count;
	bench_proc_free(&p);
}

static void net_print(const struct net_cfg *cfg, const struct net_data *d)
{
	printf("iovmm bench net: %u runs, count=%" PRIu64 ", medians; iovmm: loopback "
	       "back end, QEMU (%s): UDP socket looped to itself\n",
	       cfg->runs, cfg->count, cfg->qemu ? cfg->qemu_machine : "not run");
	printf("%-5s %-14s %12s %12s %10s %12s %10s  %s\n", "size", "nic",
	       "iovmm pps", "qemu pps", "iovmm/qemu", "iovmm MB/s", "exits/pkt",
	       "target");
	for (size_t s = 0; s < NET_NSIZES; s++) {
		for (size_t n = 0; n < NET_NNICS; n++) {
			double ip = bench_median_of(d->pps[s][n][NET_IOVMM], cfg->runs);
			double qp = bench_median_of(d->pps[s][n][NET_QEMU], cfg->runs);
			double ib = bench_median_of(d->bps[s][n][NET_IOVMM], cfg->runs);
			double ex = bench_median_of(d->exits[s][n], cfg->runs);
			double ratio = ip / qp;
			const char *verdict = isnan(ratio) ? "-" :
					      ratio >= NET_TARGET_RATIO ? "PASS" : "MISS";
			char b[5][32];

			printf("%-5u %-14s %12s %12s %10s %12s %10s  %s (>= %.1fx qemu)\n",
			       net_sizes[s], net_nics[n].label,
			       bench_fmt(b[0], 32, ip, 0, ""), bench_fmt(b[1], 32, qp, 0, ""),
			       bench_fmt(b[2], 32, ratio, 2, "x"),
			       bench_fmt(b[3], 32, ib / 1e6, 1, ""),
			       bench_fmt(b[4], 32, ex, 3, ""), verdict, NET_TARGET_RATIO);
		}
	}
}

static void net_json_series(FILE *f, const char *key, const double *v,
			    unsigned n)
{
	fprintf(f, "\"%s\": [", key);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, i ? ", %.6g" : "%.6g", isnan(v[i]) ? -1.0 : v[i]);
	fprintf(f, "], \"%s_median\": %.6g", key,
		isnan(bench_median_of(v, n)) ? -1.0 : bench_median_of(v, n));
}

static int net_write_json(const struct net_cfg *cfg, const struct net_data *d)
{
	FILE *f = fopen(cfg->json, "w");

	if (!f) {
		fprintf(stderr, "bench net: %s: %s\n", cfg->json, strerror(errno));
		return -errno;
	}
	fprintf(f, "{\"benchmark\": \"net\", \"runs\": %u, \"count\": %" PRIu64
		   ", \"qemu_machine\": \"%s\", \"failed_value\": -1, \"rows\": [\n",
		cfg->runs, cfg->count, cfg->qemu ? cfg->qemu_machine : "");
	for (size_t s = 0; s < NET_NSIZES; s++) {
		for (size_t n = 0; n < NET_NNICS; n++) {
			fprintf(f, "  {\"size\": %u, \"nic\": \"%s\", ", net_sizes[s],
				net_nics[n].label);
			fprintf(f, "\"iovmm\": {");
			net_json_series(f, "pps", d->pps[s][n][NET_IOVMM], cfg->runs);
			fprintf(f, ", ");
			net_json_series(f, "bytes_per_s", d->bps[s][n][NET_IOVMM], cfg->runs);
			fprintf(f, ", ");
			net_json_series(f, "exits_per_pkt", d->exits[s][n], cfg->runs);
			fprintf(f, "}, \"qemu\": {");
			net_json_series(f, "pps", d->pps[s][n][NET_QEMU], cfg->runs);
			fprintf(f, ", ");
			net_json_series(f, "bytes_per_s", d->bps[s][n][NET_QEMU], cfg->runs);
			fprintf(f, "}}%s\n",
				s + 1 == NET_NSIZES && n + 1 == NET_NNICS ? "" : ",");
		}
	}
	fprintf(f, "]}\n");
	return fclose(f) ? -errno : 0;
}

static const char net_usage[] =
	"usage: iovmm bench net [--runs N] [--count N] [--json FILE] [--no-qemu]\n"
	"                       [--qemu-machine M]\n"
	"Guest-kit net-loopback over e1000 and virtio-net (split, packed), 64 and\n"
	"1500-byte frames, on iovmm and QEMU in one run; medians of N runs.\n";

static int net_parse(int argc, char **argv, struct net_cfg *cfg)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "json", required_argument, NULL, 'j' },
		{ "no-qemu", no_argument, NULL, 'n' },
		{ "qemu-machine", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (bench_parse_num(optarg, 1, NET_MAX_RUNS, &v)) {
				fprintf(stderr, "bench net: --runs: 1 to %d\n", NET_MAX_RUNS);
				return -EINVAL;
			}
			cfg->runs = (unsigned)v;
			break;
		case 'c':
			if (bench_parse_num(optarg, 1, BENCH_KIT_MAX_COUNT, &cfg->count)) {
				fprintf(stderr, "bench net: --count: 1 to %llu\n",
					BENCH_KIT_MAX_COUNT);
				return -EINVAL;
			}
			break;
		case 'j': cfg->json = optarg; break;
		case 'n': cfg->qemu = false; break;
		case 'm': cfg->qemu_machine = optarg; break;
		case 'h': fputs(net_usage, stdout); return 1;
		default: fputs(net_usage, stderr); return -EINVAL;
		}
	}
	return 0;
}

int bench_net_main(int argc, char **argv)
{
	struct net_cfg cfg = {
		.runs = 3, .count = 200000, .timeout_s = 120,
		.json = "bench-net.json", .qemu = true,
		.qemu_machine = NET_QEMU_MACHINE,
	};
	struct net_data *d;
	ssize_t n;
	int ret = net_parse(argc, argv, &cfg);

	if (ret)
		return ret > 0 ? 0 : 2;
	n = readlink("/proc/self/exe", cfg.self, sizeof(cfg.self) - 1);
	if (n <= 0 || bench_artifact("guest/kit.elf", R_OK, cfg.kit, sizeof(cfg.kit))) {
		fprintf(stderr, "bench net: guest kit not found next to iovmm\n");
		return 2;
	}
	cfg.self[n] = '\0';
	d = calloc(1, sizeof(*d));
	if (!d)
		return 1;
	for (unsigned run = 0; run < cfg.runs; run++) {
		fprintf(stderr, "bench net: run %u/%u\n", run + 1, cfg.runs);
		for (size_t s = 0; s < NET_NSIZES; s++) {
			for (size_t i = 0; i < NET_NNICS; i++) {
				net_sample(&cfg, NET_IOVMM, s, i, run, d);
				if (cfg.qemu)
					net_sample(&cfg, NET_QEMU, s, i, run, d);
				else
					d->pps[s][i][NET_QEMU][run] =
						d->bps[s][i][NET_QEMU][run] = NAN;
			}
		}
	}
	net_print(&cfg, d);
	ret = net_write_json(&cfg, d);
	if (!ret)
		printf("json: %s\n", cfg.json);
	ret = ret || d->failures ? 1 : 0;
	free(d);
	return ret;
}
