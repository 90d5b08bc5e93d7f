// SPDX-License-Identifier: MIT
/*
 * `iovmm bench io`: every I/O path of both VMMs on the same guest workload,
 * one table (docs/benchmarks.md, "bench io").
 *
 * Rows: network (e1000 emulated, virtio-net in the VMM, kernel vhost-net,
 * vhost-user to iovmm-vswitch, a passthrough NIC VF; plus iovmm's
 * in-process loopback, iovmm only) and storage (emulated NVMe, virtio-blk,
 * an NVMe VF). Every network row but vhost-user and loopback uses one back
 * end for both VMMs: a tap in a private network namespace whose frames a tc
 * mirred action sends straight back (scripts/tap-reflector.sh), so no
 * process sits on the data path and an iovmm/QEMU ratio compares device
 * models. Storage rows share one backing file.
 *
 * Figures per row and VMM, medians of --runs with min-max:
 *  - throughput: the kit's net-loopback frames/s (64 B, its default window)
 *    or 4 KiB read IOPS at one command in flight (the ping-pong run);
 *  - latency p50/p99: the kit's ping-pong mode (pingpong=1: one frame or
 *    one 4 KiB read in flight, each timed with the TSC in the guest);
 *  - exits per operation: `iovmm run --stats` (QEMU does not report them);
 *  - host CPU per operation: utime + stime of the VMM process (every
 *    thread, the vCPU's time in the guest included: KVM charges it as user
 *    time) from wait4(), plus the back end's process (iovmm-vswitch) over
 *    the same run from /proc/PID/stat,
 *    plus the kernel's vhost-net worker where it is a kthread
 *    (io_vhost_sample); per op as the slope against a one-op run.
 *
 * Rows this host cannot run say why. Those that need the lab's L1 run there
 * on request: --lab (the NVMe VF, real SR-IOV behind VFIO and an emulated
 * VT-d: tests/lab/scenarios/bench-io.sh runs `iovmm bench io --raw` inside
 * L1) and --nested (kernel vhost-net, in the nested L1 that has
 * /dev/vhost-net). Their figures are TCG-lab figures: compare their
 * ratios, not their times.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "tools/bench.h"
#include "tools/bench_io.h"
#include "tools/nested-paths.h"	/* IOVMM_SOURCE_ROOT, IOVMM_BUILD_ROOT */

#define IO_QEMU_MACHINE "microvm,pcie=on"
#define IO_NET_SIZE 64
#define IO_DISK_MIB 64
#define IO_DISK_MAX_OPS (IO_DISK_MIB * 256)	/* 4 KiB blocks in the image */

enum io_be {
	IO_BE_TAP,		/* tap + in-kernel reflector, private netns */
	IO_BE_VHOST_NET,	/* the same tap, its rings served by vhost-net */
	IO_BE_VSWITCH,		/* iovmm-vswitch --mode loopback */
	IO_BE_LOOPBACK,		/* iovmm's in-process loopback */
	IO_BE_NET_VF,		/* an assigned NIC VF (--vf) */
	IO_BE_FILE,		/* the shared backing file */
	IO_BE_NVME_VF,		/* an assigned NVMe VF (--vf, the lab) */
};

/*
 * One row. `iovmm` is the --net/--disk/--device value and `qemu` the QEMU
 * arguments after the common ones (split at spaces); both take one %s: the
 * tap, the socket, the image or the VF's address. qemu NULL: QEMU has no
 * such path.
 */
struct io_row {
	const char *id;
	const char *label;
	bool net;
	enum io_be be;
	const char *iovmm_opt;	/* --net, --disk or --device */
	const char *iovmm;
	const char *qemu;
	const char *kit;	/* kit parameters naming the device */
};

#define IO_TAP_NETDEV "-netdev tap,id=n0,ifname=%s,script=no,downscript=no"

static const struct io_row io_rows[] = {
	{ "e1000", "e1000 (emulated)", true, IO_BE_TAP, "--net",
	  "e1000,backend=tap:%s", IO_TAP_NETDEV " -device e1000,netdev=n0",
	  "nic=e1000" },
	{ "virtio-net", "virtio-net in the VMM", true, IO_BE_TAP, "--net",
	  "virtio,backend=tap:%s",
	  IO_TAP_NETDEV ",vhost=off -device virtio-net-pci,netdev=n0,disable-legacy=on",
	  "nic=virtio" },
	{ "vhost-net", "vhost-net (kernel)", true, IO_BE_VHOST_NET, "--net",
	  "virtio,backend=tap:%s,vhost=on",
	  IO_TAP_NETDEV ",vhost=on -device virtio-net-pci,netdev=n0,disable-legacy=on",
	  "nic=virtio" },
	{ "vhost-user", "vhost-user, iovmm-vswitch", true, IO_BE_VSWITCH, "--net",
	  "vhost-user,socket=%s",
	  "-chardev socket,id=c0,path=%s -netdev vhost-user,id=n0,chardev=c0 "
	  "-device virtio-net-pci,netdev=n0,disable-legacy=on",
	  "nic=virtio" },
	{ "net-vf", "passthrough NIC VF", true, IO_BE_NET_VF, "--device",
	  "vfio-pci,host=%s", "-device vfio-pci,host=%s", NULL },
	{ "loopback-e1000", "e1000, loopback (iovmm only)", true, IO_BE_LOOPBACK,
	  "--net", "e1000,backend=loopback", NULL, "nic=e1000" },
	{ "loopback-virtio", "virtio-net, loopback (iovmm only)", true,
	  IO_BE_LOOPBACK, "--net", "virtio,backend=loopback", NULL, "nic=virtio" },
	{ "nvme", "NVMe (emulated)", false, IO_BE_FILE, "--disk", "nvme,path=%s",
	  "-drive file=%s,if=none,id=d0,format=raw -device nvme,drive=d0,serial=kit0",
	  "test=nvme" },
	{ "virtio-blk", "virtio-blk", false, IO_BE_FILE, "--disk",
	  "virtio,path=%s",
	  "-drive file=%s,if=none,id=d0,format=raw "
	  "-device virtio-blk-pci,drive=d0,disable-legacy=on",
	  "test=blk-rw" },
	{ "nvme-vf", "NVMe VF (passthrough)", false, IO_BE_NVME_VF, "--device",
	  "vfio-pci,host=%s", "-device vfio-pci,host=%s", "test=nvme" },
};
#define IO_NROWS ARRAY_SIZE(io_rows)
_Static_assert(ARRAY_SIZE(io_rows) <= IO_MAX_ROWS, "io_data holds IO_MAX_ROWS");

static const char *const io_impl_name[IO_NIMPL] = { "iovmm", "qemu" };
static const char *const io_fig_name[IO_NFIG] = {
	"throughput", "lat_p50_us", "lat_p99_us", "exits_per_op", "cpu_us_per_op",
};

struct io_cfg {
	unsigned runs;
	uint64_t net_count;	/* frames in the throughput run */
	uint64_t pp_count;	/* round trips in the ping-pong run */
	uint64_t blk_count;	/* 4 KiB writes, then as many reads */
	double timeout_s;
	const char *json;	/* NULL: none */
	bool chart;
	bool qemu;
	const char *qemu_bin;
	const char *qemu_bios;	/* -bios, or NULL */
	const char *vf;		/* --vf BDF */
	bool lab, nested, raw, short_form, taskset;
	bool row_on[IO_NROWS];
	char self[PATH_MAX], kit[PATH_MAX], vswitch[PATH_MAX];
	char reflector[PATH_MAX];
	char dir[64];		/* scratch: the image, sockets, logs */
	char image[PATH_MAX];
	char ns[32], tap[16];
	int tap_state;		/* 0 not tried, 1 up, -1 failed */
	char tap_why[160];
	const char *vf_nic;	/* the kit's nic= for a NIC VF */
	char vf_why[160];
};

/* ---- argument vectors ----------------------------------------------- */

#define IO_ARGV_MAX 64

struct io_argv {
	char *v[IO_ARGV_MAX];
	int n;
	char store[16][PATH_MAX + 128];
	int nstore;
};

static void io_arg(struct io_argv *a, const char *s)
{
	if (a->n < IO_ARGV_MAX - 1)
		a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

static char *io_argf(struct io_argv *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static char *io_argf(struct io_argv *a, const char *fmt, ...)
{
	char *s = a->store[a->nstore < 15 ? a->nstore++ : 15];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(a->store[0]), fmt, ap);
	va_end(ap);
	io_arg(a, s);
	return s;
}

/* `tmpl` with its "%s" (at most one) replaced by `param`, into a->store. */
static char *io_subst(struct io_argv *a, const char *tmpl, const char *param)
{
	char *s = a->store[a->nstore < 15 ? a->nstore++ : 15];
	const char *pct = strstr(tmpl, "%s");

	if (!pct)
		snprintf(s, sizeof(a->store[0]), "%s", tmpl);
	else
		snprintf(s, sizeof(a->store[0]), "%.*s%s%s", (int)(pct - tmpl),
			 tmpl, param, pct + 2);
	return s;
}

/* Words of `tmpl` (its %s: `param`) as separate arguments. */
static void io_args_split(struct io_argv *a, const char *tmpl,
			  const char *param)
{
	char *s = io_subst(a, tmpl, param), *save, *w;

	for (w = strtok_r(s, " ", &save); w; w = strtok_r(NULL, " ", &save))
		io_arg(a, w);
}

/* ---- what a row needs, and why it cannot run ------------------------ */

static bool io_is_root(void)
{
	return geteuid() == 0;
}

/* Creates the namespace, tap and reflector once; 0 or -1 (cfg->tap_why). */
static int io_tap_up(struct io_cfg *cfg)
{
	char *argv[] = { "sh", cfg->reflector, "up", cfg->ns, cfg->tap, NULL };
	struct bench_proc p;

	if (cfg->tap_state)
		return cfg->tap_state > 0 ? 0 : -1;
	cfg->tap_state = -1;
	if (!io_is_root()) {
		snprintf(cfg->tap_why, sizeof(cfg->tap_why),
			 "needs root (a tap in a private network namespace)");
		return -1;
	}
	if (access(cfg->reflector, R_OK) || access("/dev/net/tun", R_OK | W_OK) ||
	    !bench_have_prog("ip") || !bench_have_prog("tc")) {
		snprintf(cfg->tap_why, sizeof(cfg->tap_why),
			 "needs /dev/net/tun, iproute2 (ip, tc) and "
			 "scripts/tap-reflector.sh");
		return -1;
	}
	snprintf(cfg->ns, sizeof(cfg->ns), "iovmm-bio-%d", (int)getpid());
	snprintf(cfg->tap, sizeof(cfg->tap), "bio%d", (int)getpid() % 100000);
	argv[3] = cfg->ns;
	argv[4] = cfg->tap;
	if (bench_spawn(argv, 30, &p) < 0 || !WIFEXITED(p.status) ||
	    WEXITSTATUS(p.status)) {
		snprintf(cfg->tap_why, sizeof(cfg->tap_why),
			 "tap reflector did not come up: %.100s",
			 p.err.p ? p.err.p : "?");
		cfg->tap_why[strcspn(cfg->tap_why, "\n")] = '\0';
		bench_proc_free(&p);
		return -1;
	}
	bench_proc_free(&p);
	cfg->tap_state = 1;
	return 0;
}

static void io_tap_down(struct io_cfg *cfg)
{
	char *argv[] = { "sh", cfg->reflector, "down", cfg->ns, NULL };
	struct bench_proc p;

	if (cfg->tap_state <= 0)
		return;
	if (bench_spawn(argv, 30, &p) == 0)
		bench_proc_free(&p);
	cfg->tap_state = 0;
}

/* sysfs attribute of a PCI function as a number; -1 when unreadable. */
static long io_pci_attr(const char *bdf, const char *attr)
{
	char path[PATH_MAX], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? strtol(buf, NULL, 0) : -1;
}

/*
 * What --vf names: an NVMe function (class 01:08:02) serves the NVMe VF
 * row; a NIC serves the network row only when the kit has a driver for it
 * (82540EM e1000, modern virtio-net).
 */
static void io_vf_classify(struct io_cfg *cfg, bool *nvme)
{
	long cls = io_pci_attr(cfg->vf, "class");
	long ven = io_pci_attr(cfg->vf, "vendor");
	long dev = io_pci_attr(cfg->vf, "device");

	*nvme = false;
	cfg->vf_nic = NULL;
	if (cls < 0) {
		snprintf(cfg->vf_why, sizeof(cfg->vf_why),
			 "--vf %s: no such PCI function", cfg->vf);
	} else if ((cls >> 8) == 0x0108) {
		*nvme = true;
		snprintf(cfg->vf_why, sizeof(cfg->vf_why),
			 "--vf %s is an NVMe function, not a NIC", cfg->vf);
	} else if ((cls >> 16) != 0x02) {
		snprintf(cfg->vf_why, sizeof(cfg->vf_why),
			 "--vf %s is not a NIC (class 0x%06lx)", cfg->vf, cls);
	} else if (ven == 0x8086 && dev == 0x100e) {
		cfg->vf_nic = "nic=e1000";
	} else if (ven == 0x1af4 && dev == 0x1041) {
		cfg->vf_nic = "nic=virtio";
	} else {
		snprintf(cfg->vf_why, sizeof(cfg->vf_why),
			 "--vf %s (%04lx:%04lx): the guest kit has no driver for "
			 "this NIC (it drives e1000 8086:100e and virtio-net)",
			 cfg->vf, ven, dev);
	}
}

/*
 * NULL when row r can run here, else why not (also naming the option that
 * runs it elsewhere). Sets up the tap on first use.
 */
static const char *io_why_not(struct io_cfg *cfg, size_t r, char *buf,
			      size_t len)
{
	const struct io_row *row = &io_rows[r];
	bool vf_nvme = false;

	if (cfg->vf)
		io_vf_classify(cfg, &vf_nvme);
	switch (row->be) {
	case IO_BE_TAP:
		return io_tap_up(cfg) ? cfg->tap_why : NULL;
	case IO_BE_VHOST_NET:
		if (access("/dev/vhost-net", R_OK | W_OK)) {
			snprintf(buf, len, "no /dev/vhost-net here (vhost_net not "
				 "loaded or not built): --nested runs it in the nested L1");
			return buf;
		}
		return io_tap_up(cfg) ? cfg->tap_why : NULL;
	case IO_BE_VSWITCH:
		if (!cfg->vswitch[0])
			return "iovmm-vswitch not built (needs libdpdk-dev)";
		return io_is_root() ? NULL : "needs root (DPDK hugepage-less "
					     "vhost port, pinning)";
	case IO_BE_NET_VF:
		if (!cfg->vf)
			return "no VF: run in the lab or pass --vf BDF (the lab has "
			       "no network VF, only an SR-IOV NVMe)";
		return cfg->vf_nic ? NULL : cfg->vf_why;
	case IO_BE_NVME_VF:
		if (!cfg->vf)
			return "no VF here (no VFIO/IOMMU): --lab runs it in the "
			       "lab's L1 (SR-IOV NVMe VF), or pass --vf BDF";
		if (vf_nvme)
			return NULL;
		snprintf(buf, len, "--vf %s is not an NVMe function", cfg->vf);
		return buf;
	case IO_BE_FILE:
	case IO_BE_LOOPBACK:
		return NULL;
	}
	return "unknown back end";
}

/* ---- one VMM run ----------------------------------------------------- */

/*
 * The runs of one measurement: the main run (network: throughput at the
 * kit's window; storage: ping-pong, which gives IOPS and latency), the
 * network latency run (ping-pong), and a base run of one operation whose
 * exits and CPU time (boot, PCI set-up, shutdown) the per-op figures
 * subtract.
 */
enum io_run { IO_RUN_MAIN, IO_RUN_LAT, IO_RUN_BASE };

static uint64_t io_count(const struct io_cfg *cfg, const struct io_row *row,
			 enum io_run kind)
{
	if (kind == IO_RUN_BASE)
		return 1;
	if (!row->net)
		return cfg->blk_count;
	return kind == IO_RUN_LAT ? cfg->pp_count : cfg->net_count;
}

/* Operations a run did: frames, or 4 KiB writes + as many reads. */
static double io_ops(const struct io_cfg *cfg, const struct io_row *row,
		     enum io_run kind)
{
	return (double)io_count(cfg, row, kind) * (row->net ? 1 : 2);
}

/* The kit's command line for row r and one kind of run. */
static void io_cmdline(const struct io_cfg *cfg, const struct io_row *row,
		       enum io_run kind, char *buf, size_t len)
{
	const char *nic = row->be == IO_BE_NET_VF ? cfg->vf_nic : row->kit;
	uint64_t n = io_count(cfg, row, kind);

	if (row->net)
		snprintf(buf, len, "test=net-loopback %s count=%" PRIu64
			 " size=%d%s", nic, n, IO_NET_SIZE,
			 kind == IO_RUN_LAT ? " pingpong=1" : "");
	else if (!strcmp(row->kit, "test=nvme"))
		/* Polled like virtio-blk (irq=0), one page per command. */
		snprintf(buf, len, "test=nvme count=%" PRIu64 " irq=0 pingpong=1 "
			 "seed=1", n);
	else
		snprintf(buf, len, "test=blk-rw sectors=%" PRIu64 " pingpong=1 "
			 "seed=1", n * 8);
}

/* The row's parameter for its %s: tap, socket, image or VF. */
static const char *io_param(const struct io_cfg *cfg, const struct io_row *row,
			    const char *sock)
{
	switch (row->be) {
	case IO_BE_TAP:
	case IO_BE_VHOST_NET:
		return cfg->tap;
	case IO_BE_VSWITCH:
		return sock;
	case IO_BE_FILE:
		return cfg->image;
	case IO_BE_NET_VF:
	case IO_BE_NVME_VF:
		return cfg->vf;
	case IO_BE_LOOPBACK:
		break;
	}
	return "";
}

static void io_build_argv(const struct io_cfg *cfg, const struct io_row *row,
			  int impl, const char *cmdline, const char *sock,
			  struct io_argv *a)
{
	const char *param = io_param(cfg, row, sock);
	bool vf = row->be == IO_BE_NET_VF || row->be == IO_BE_NVME_VF;

	a->n = a->nstore = 0;
	if (row->be == IO_BE_TAP || row->be == IO_BE_VHOST_NET) {
		io_arg(a, "ip");
		io_arg(a, "netns");
		io_arg(a, "exec");
		io_arg(a, cfg->ns);
	}
	/* The switch's polling lcore has CPU 0: keep the vCPU off it. */
	if (row->be == IO_BE_VSWITCH && cfg->taskset) {
		io_arg(a, "taskset");
		io_arg(a, "-c");
		io_arg(a, "1");
	}
	if (impl == IO_IOVMM) {
		io_arg(a, cfg->self);
		io_arg(a, "run");
		io_arg(a, "--kernel");
		io_arg(a, cfg->kit);
		io_arg(a, "--mem");
		io_arg(a, vf ? "64M" : "256M");
		io_arg(a, row->iovmm_opt);
		io_arg(a, io_subst(a, row->iovmm, param));
		io_arg(a, "--cmdline");
		io_arg(a, cmdline);
		io_arg(a, "--stats");
		return;
	}
	io_arg(a, cfg->qemu_bin);
	io_args_split(a, "-accel kvm -nographic -no-reboot -nodefaults "
		      "-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04", "");
	io_arg(a, "-M");
	if (row->be == IO_BE_VSWITCH) {
		/* vhost-user: guest RAM the back end can map (PEERS.md). */
		io_arg(a, IO_QEMU_MACHINE ",memory-backend=mem");
		io_arg(a, "-object");
		io_arg(a, "memory-backend-memfd,id=mem,size=256M,share=on");
	} else {
		io_arg(a, IO_QEMU_MACHINE);
	}
	io_arg(a, "-m");
	io_arg(a, vf ? "64" : "256");
	if (cfg->qemu_bios) {
		io_arg(a, "-bios");
		io_arg(a, cfg->qemu_bios);
	}
	io_arg(a, "-kernel");
	io_arg(a, cfg->kit);
	io_arg(a, "-append");
	io_arg(a, cmdline);
	io_args_split(a, row->qemu, param);
}

/* Starts the row's back-end process, if it has one. */
static int io_backend_start(const struct io_cfg *cfg, const struct io_row *row,
			    char *sock, size_t len, struct bench_bg *bg)
{
	char log[PATH_MAX];
	int ret;

	snprintf(sock, len, "%s/vh.sock", cfg->dir);
	if (row->be != IO_BE_VSWITCH)
		return 0;
	unlink(sock);
	snprintf(log, sizeof(log), "%s/vswitch.log", cfg->dir);
	ret = bench_vswitch_start(cfg->vswitch, sock, log, bg);
	if (ret) {
		bench_bg_show_log("bench io", "iovmm-vswitch did not start", log);
		bench_bg_stop(bg);
	}
	return ret;
}

/*
 * The kernel's vhost-net worker of a VMM. Before Linux 6.4 it is a kthread
 * named "vhost-<tid>" after the VMM thread that called VHOST_SET_OWNER
 * (drivers/vhost/vhost.c), not part of the VMM, so wait4()'s rusage misses
 * it; it dies with the VMM's fd, so it is sampled while the VMM runs and
 * its last utime + stime kept (up to one sampling period, 50 ms, is lost at
 * the end). From 6.4 the worker is a thread of the VMM (vhost_task),
 * counted in its rusage already, and /proc's top level does not list it,
 * so it is not counted twice.
 */
#define IO_VHOST_WORKERS 4

struct io_vhost_watch {
	pid_t worker[IO_VHOST_WORKERS];
	double cpu_s[IO_VHOST_WORKERS];
	int n;
};

/* Looks for "vhost-<tid>" kthreads whose tid is a thread of `vmm`. */
static void io_vhost_scan(pid_t vmm, struct io_vhost_watch *w)
{
	DIR *proc = opendir("/proc");
	struct dirent *e;

	while (proc && (e = readdir(proc)) && w->n < IO_VHOST_WORKERS) {
		char path[PATH_MAX], comm[32] = "";
		long tid;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		if (strncmp(comm, "vhost-", 6) || (tid = strtol(comm + 6, NULL, 10)) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%ld", (int)vmm, tid);
		if (access(path, F_OK) == 0)
			w->worker[w->n++] = (pid_t)atoi(e->d_name);
	}
	if (proc)
		closedir(proc);
}

static void io_vhost_sample(pid_t vmm, void *arg)
{
	struct io_vhost_watch *w = arg;

	/* The worker appears at VHOST_SET_OWNER, early in the VMM's start. */
	if (!w->n)
		io_vhost_scan(vmm, w);
	for (int i = 0; i < w->n; i++)
		bench_pid_cpu_s(w->worker[i], &w->cpu_s[i]);
}

static double io_vhost_cpu_s(const struct io_vhost_watch *w)
{
	double s = 0;

	for (int i = 0; i < w->n; i++)
		s += w->cpu_s[i];
	return s;
}

/* What one VMM run gave: the kit's figures and the totals per-op needs. */
struct io_run_out {
	double fig[IO_NFIG];	/* IO_EXITS, IO_CPU: totals, not per op */
};

/*
 * One VMM run of row r; fills what it measured (NaN otherwise). CPU: the
 * VMM's rusage (every thread) plus the back end's /proc time over the
 * run. Returns 0 when the kit passed.
 */
static int io_sample(const struct io_cfg *cfg, size_t r, int impl,
		     enum io_run kind, struct io_run_out *o)
{
	static const char *const kind_name[] = { "", " (ping-pong)", " (base)" };
	const struct io_row *row = &io_rows[r];
	const char *test = row->net ? "net-loopback" : row->kit + 5;
	char cmdline[192], sock[PATH_MAX], who[96];
	struct io_vhost_watch vw = { .n = 0 };
	struct bench_bg bg = { 0 };
	double cpu0 = NAN, cpu1 = NAN, v;
	struct bench_kvs res;
	struct bench_proc p;
	struct io_argv a;
	uint64_t exits;
	int ret;

	for (int i = 0; i < IO_NFIG; i++)
		o->fig[i] = NAN;
	snprintf(who, sizeof(who), "%s %s%s", io_impl_name[impl], row->id,
		 kind_name[kind]);
	if (io_backend_start(cfg, row, sock, sizeof(sock), &bg))
		return -EIO;
	if (bg.pid > 0)
		bench_pid_cpu_s(bg.pid, &cpu0);
	io_cmdline(cfg, row, kind, cmdline, sizeof(cmdline));
	io_build_argv(cfg, row, impl, cmdline, sock, &a);
	ret = bench_spawn_watch(a.v, cfg->timeout_s, row->be == IO_BE_VHOST_NET ?
				io_vhost_sample : NULL, &vw, &p);
	if (bg.pid > 0 && bench_pid_cpu_s(bg.pid, &cpu1) == 0 && !isnan(cpu0))
		cpu1 -= cpu0;
	bench_bg_stop(&bg);
	if (ret < 0) {
		bench_warn(who, test, strerror(-ret), NULL);
		return ret;
	}
	ret = bench_kit_ok(who, test, &p, &res);
	if (ret == 0) {
		if (kind == IO_RUN_MAIN &&
		    bench_kv_get_double(&res, row->net ? "pps" : "iops_read",
					&v) == 0)
			o->fig[IO_TPUT] = v;
		if (bench_kv_get_double(&res, "lat_p50_ns", &v) == 0)
			o->fig[IO_P50] = v / 1e3;
		if (bench_kv_get_double(&res, "lat_p99_ns", &v) == 0)
			o->fig[IO_P99] = v / 1e3;
		if (impl == IO_IOVMM && bench_iovmm_exits(&p, &exits) == 0)
			o->fig[IO_EXITS] = (double)exits;
		o->fig[IO_CPU] = bench_rusage_cpu_s(&p.ru) +
				 (isnan(cpu1) ? 0 : cpu1) + io_vhost_cpu_s(&vw);
	}
	bench_proc_free(&p);
	return ret;
}

/* ---- collecting ------------------------------------------------------ */

static void io_data_init(struct io_data *d)
{
	memset(d, 0, sizeof(*d));
	for (size_t r = 0; r < IO_MAX_ROWS; r++)
		for (int i = 0; i < IO_NIMPL; i++)
			for (int f = 0; f < IO_NFIG; f++)
				for (int k = 0; k < IO_MAX_RUNS; k++)
					d->v[r][i][f][k] = NAN;
}

static bool io_has_qemu(const struct io_cfg *cfg, size_t r)
{
	return cfg->qemu && io_rows[r].qemu;
}

/*
 * One run of row r on one VMM: the base run, the main run and (network)
 * the latency run. Exits and CPU per operation are the slope between the
 * base and the main run, so boot and shutdown (QEMU's are much heavier
 * than iovmm's) do not land on the operations.
 */
static void io_measure(const struct io_cfg *cfg, size_t r, int impl,
		       unsigned run, struct io_data *d)
{
	const struct io_row *row = &io_rows[r];
	double a[IO_NFIG], dops = io_ops(cfg, row, IO_RUN_MAIN) -
				  io_ops(cfg, row, IO_RUN_BASE);
	struct io_run_out base, main, lat;
	int ret = io_sample(cfg, r, impl, IO_RUN_BASE, &base);

	ret |= io_sample(cfg, r, impl, IO_RUN_MAIN, &main);
	if (row->net)
		ret |= io_sample(cfg, r, impl, IO_RUN_LAT, &lat);
	else
		lat = main;
	if (ret)
		d->failures++;
	a[IO_TPUT] = main.fig[IO_TPUT];
	a[IO_P50] = lat.fig[IO_P50];
	a[IO_P99] = lat.fig[IO_P99];
	for (int f = IO_EXITS; f <= IO_CPU; f++) {
		double v = (main.fig[f] - base.fig[f]) / dops;

		/* CPU in us. A negative slope means the base run's noise
		 * outweighed the operations: no figure rather than a 0. */
		v *= f == IO_CPU ? 1e6 : 1;
		a[f] = dops > 0 && v >= 0 ? v : NAN;
	}
	for (int f = 0; f < IO_NFIG; f++)
		d->v[r][impl][f][run] = a[f];
	if (cfg->raw) {
		/* For the driver that ran us in L1 (io_remote). */
		printf("BENCH-IO row=%s impl=%s run=%u", io_rows[r].id,
		       io_impl_name[impl], run);
		for (int f = 0; f < IO_NFIG; f++)
			if (!isnan(a[f]))
				printf(" %s=%.6g", io_fig_name[f], a[f]);
		printf("\n");
		fflush(stdout);
	}
}

static void io_collect(struct io_cfg *cfg, struct io_data *d)
{
	for (size_t r = 0; r < IO_NROWS; r++) {
		if (!cfg->row_on[r] || d->where[r] || d->why[r])
			continue;
		d->why[r] = io_why_not(cfg, r, d->whybuf[r], sizeof(d->whybuf[r]));
		if (d->why[r] && cfg->raw)
			printf("BENCH-IO row=%s status=skip\n", io_rows[r].id);
	}
	for (unsigned run = 0; run < cfg->runs; run++) {
		fprintf(stderr, "bench io: run %u/%u\n", run + 1, cfg->runs);
		for (size_t r = 0; r < IO_NROWS; r++) {
			/* Alternate which VMM goes first, so drift cancels. */
			for (int k = 0; k < IO_NIMPL; k++) {
				int impl = (k + (int)run) % IO_NIMPL;

				if (!cfg->row_on[r] || d->why[r] || d->where[r] ||
				    (impl == IO_QEMU && !io_has_qemu(cfg, r)))
					continue;
				io_measure(cfg, r, impl, run, d);
			}
		}
	}
}

/* ---- rows run inside an L1 (--lab, --nested) ------------------------- */

int bench_io_row(const char *id)
{
	for (size_t r = 0; r < IO_NROWS; r++)
		if (!strcmp(io_rows[r].id, id))
			return (int)r;
	return -1;
}

/* One "BENCH-IO" line: 0, or -1 when it is ignored. */
static int io_parse_line(const struct bench_kvs *kv, const char *where,
			 unsigned runs, struct io_data *d, bool seen[])
{
	const char *id = bench_kv_get(kv, "row");
	const char *impl = bench_kv_get(kv, "impl");
	const char *st = bench_kv_get(kv, "status");
	int r = id ? bench_io_row(id) : -1, i = -1;
	uint64_t run;

	if (r < 0)
		return -1;
	if (st && !strcmp(st, "skip")) {
		snprintf(d->whybuf[r], sizeof(d->whybuf[r]),
			 "could not run in the %s either (its reason is above)", where);
		d->why[r] = d->whybuf[r];
		d->where[r] = where;
		seen[r] = true;
		return 0;
	}
	for (int k = 0; impl && k < IO_NIMPL; k++)
		if (!strcmp(impl, io_impl_name[k]))
			i = k;
	if (i < 0 || bench_kv_get_u64(kv, "run", &run) || run >= runs ||
	    run >= IO_MAX_RUNS)
		return -1;
	for (size_t k = 0; k < kv->n; k++) {
		const char *key = kv->kv[k].key;
		int f = -1;
		double v;

		for (int j = 0; j < IO_NFIG; j++)
			if (!strcmp(key, io_fig_name[j]))
				f = j;
		if (f < 0) {
			if (strcmp(key, "row") && strcmp(key, "impl") &&
			    strcmp(key, "run"))
				return -1;
			continue;
		}
		if (bench_kv_get_double(kv, key, &v))
			return -1;
		d->v[r][i][f][run] = v;
	}
	d->where[r] = where;
	d->why[r] = NULL;
	seen[r] = true;
	return 0;
}

unsigned bench_io_parse_raw(const char *buf, size_t len, const char *where,
			    unsigned runs, struct io_data *d, unsigned *rows)
{
	bool seen[IO_MAX_ROWS] = { false };
	const char *p = buf, *end = buf + len;
	unsigned bad = 0, n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct bench_kvs kv;
		int ret = bench_kv_parse(p, l, "BENCH-IO", &kv);

		if (ret != -ENOENT &&
		    (ret < 0 || io_parse_line(&kv, where, runs, d, seen) < 0))
			bad++;
		p += l + 1;
	}
	for (size_t r = 0; r < IO_MAX_ROWS; r++)
		n += seen[r];
	if (rows)
		*rows = n;
	return bad;
}

/* True when `id` is one of the comma-separated words of `list`. */
static bool io_in_list(const char *list, const char *id)
{
	size_t n = strlen(id);
	const char *p = list;

	for (;;) {
		if (!strncmp(p, id, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (!p)
			return false;
		p++;
	}
}

/*
 * Runs the rows `ids` (comma-separated) in an L1: the lab (its bench-io
 * scenario, which runs `iovmm bench io --raw` next to the VF) or the
 * nested runner (this binary again, with the host's files). Rows that come
 * back are marked with where they ran; the others say why not.
 */
static void io_remote(const struct io_cfg *cfg, bool lab, const char *ids,
		      struct io_data *d)
{
	const char *where = lab ? "lab L1" : "nested L1";
	char runs[16], append[96], log[PATH_MAX], why[160] = "";
	struct io_argv a = { .n = 0 };
	struct bench_proc p;
	char *out = NULL;
	unsigned rows = 0;
	int ret;

	snprintf(runs, sizeof(runs), "%u", cfg->runs);
	fprintf(stderr, "bench io: rows %s in the %s (one boot, about 1-3 "
		"minutes; TCG-relative times)\n", ids, where);
	if (lab) {
		snprintf(append, sizeof(append), "lab.bench_io_runs=%u "
			 "lab.bench_io_count=%" PRIu64, cfg->runs, cfg->blk_count);
		io_argf(&a, "%s/tests/lab/run.sh", IOVMM_SOURCE_ROOT);
		io_arg(&a, "--build");
		io_arg(&a, IOVMM_BUILD_ROOT);
		io_args_split(&a, "--timeout 900", "");
		io_arg(&a, "--append");
		io_arg(&a, append);
		io_arg(&a, "bench-io");
	} else {
		/* L1 sees the build tree, not our /tmp: start from there. */
		io_arg(&a, "env");
		io_arg(&a, "-C");
		io_arg(&a, IOVMM_BUILD_ROOT);
		io_argf(&a, "%s/tests/nested/run.sh", IOVMM_SOURCE_ROOT);
		io_arg(&a, "--build");
		io_arg(&a, IOVMM_BUILD_ROOT);
		io_args_split(&a, "--timeout 900 --", "");
		io_arg(&a, cfg->self);
		io_args_split(&a, "bench io --raw --no-json --no-chart --rows %s", ids);
		io_arg(&a, "--runs");
		io_arg(&a, runs);
		io_arg(&a, "--count");
		io_argf(&a, "%" PRIu64, cfg->net_count);
		io_arg(&a, "--pingpong");
		io_argf(&a, "%" PRIu64, cfg->pp_count);
	}
	ret = bench_spawn(a.v, 1000, &p);
	if (ret < 0) {
		snprintf(why, sizeof(why), "cannot start the %s runner: %s", where,
			 strerror(-ret));
	} else if (WIFEXITED(p.status) && WEXITSTATUS(p.status) == 77) {
		snprintf(why, sizeof(why), "the %s cannot run here (no QEMU or "
			 "no lab kernel)", where);
	} else {
		snprintf(log, sizeof(log), "%s/lab-work/last-run.log", IOVMM_BUILD_ROOT);
		out = lab ? bench_slurp(log) : NULL;
		if (lab && out)
			bench_io_parse_raw(out, strlen(out), where, cfg->runs, d, &rows);
		else if (!lab && p.out.p)
			bench_io_parse_raw(p.out.p, p.out.len, where, cfg->runs, d,
					   &rows);
		if (!rows)
			snprintf(why, sizeof(why), "the %s run gave no figures (exit "
				 "%d; %s)", where, WIFEXITED(p.status) ?
				 WEXITSTATUS(p.status) : -1,
				 lab ? "console: BUILD/lab-work/last-run.log" :
				       "its output is above");
	}
	if (ret == 0 && (!rows || !WIFEXITED(p.status) || WEXITSTATUS(p.status)))
		fprintf(stderr, "%s%s", p.out.p ? p.out.p : "", p.err.p ? p.err.p : "");
	if (ret == 0)
		bench_proc_free(&p);
	free(out);
	for (size_t r = 0; r < IO_NROWS; r++) {
		if (!io_in_list(ids, io_rows[r].id) || !cfg->row_on[r] ||
		    d->where[r])
			continue;
		snprintf(d->whybuf[r], sizeof(d->whybuf[r]), "%s",
			 why[0] ? why : "no figures from the L1 run");
		d->why[r] = d->whybuf[r];
		d->where[r] = where;
	}
}

/* ---- the table ------------------------------------------------------- */

/* Median with min-max as "m (lo-hi)", or just "m" for one run or --short. */
static void io_cell(char *buf, size_t len, const double *v, unsigned runs,
		    double scale, int prec, bool range)
{
	double m = bench_median_of(v, runs) * scale, lo, hi;

	bench_range(v, runs, &lo, &hi);
	if (isnan(m))
		snprintf(buf, len, "-");
	else if (!range || runs < 2 || lo == hi)
		snprintf(buf, len, "%.*f", prec, m);
	else
		snprintf(buf, len, "%.*f (%.*f-%.*f)", prec, m, prec, lo * scale,
			 prec, hi * scale);
}

static void io_print_vmm(const struct io_cfg *cfg, size_t r, int impl,
			 const struct io_data *d, const char *label)
{
	const double (*v)[IO_MAX_RUNS] = d->v[r][impl];
	bool range = !cfg->short_form;
	char c[IO_NFIG][48];

	io_cell(c[IO_TPUT], 48, v[IO_TPUT], cfg->runs,
		io_rows[r].net ? 1e-6 : 1e-3, io_rows[r].net ? 3 : 2, range);
	io_cell(c[IO_P50], 48, v[IO_P50], cfg->runs, 1, 1, range);
	io_cell(c[IO_P99], 48, v[IO_P99], cfg->runs, 1, 1, range);
	io_cell(c[IO_EXITS], 48, v[IO_EXITS], cfg->runs, 1, 3, range);
	io_cell(c[IO_CPU], 48, v[IO_CPU], cfg->runs, 1, 1, range);
	printf("%-34s %-5s %-22s %-20s %-24s %-20s %s\n", label,
	       io_impl_name[impl], c[IO_TPUT], c[IO_P50], c[IO_P99], c[IO_EXITS],
	       c[IO_CPU]);
}

/* iovmm/QEMU: throughput (higher is better for iovmm), latency and CPU. */
static double io_ratio(const struct io_cfg *cfg, const struct io_data *d,
		       size_t r, int f)
{
	return bench_median_of(d->v[r][IO_IOVMM][f], cfg->runs) /
	       bench_median_of(d->v[r][IO_QEMU][f], cfg->runs);
}

static void io_print_row(const struct io_cfg *cfg, size_t r,
			 const struct io_data *d)
{
	const struct io_row *row = &io_rows[r];
	char label[64], b[4][32];

	snprintf(label, sizeof(label), "%s%s%s%s", row->label,
		 d->where[r] ? " [" : "", d->where[r] ? d->where[r] : "",
		 d->where[r] ? "]" : "");
	if (d->why[r]) {
		printf("%-34s %-5s not run: %s\n", label, "-", d->why[r]);
		return;
	}
	io_print_vmm(cfg, r, IO_IOVMM, d, label);
	if (!row->qemu) {
		printf("%-34s %-5s %s\n", "", "qemu", "no such path in QEMU");
		return;
	}
	if (!cfg->qemu) {
		printf("%-34s %-5s %s\n", "", "qemu", "not run (--no-qemu)");
		return;
	}
	io_print_vmm(cfg, r, IO_QEMU, d, "");
	printf("%-34s %-5s %-22s %-20s %-24s %-20s %s\n", "", "ratio",
	       bench_fmt(b[0], 32, io_ratio(cfg, d, r, IO_TPUT), 2, "x"),
	       bench_fmt(b[1], 32, io_ratio(cfg, d, r, IO_P50), 2, "x"),
	       bench_fmt(b[2], 32, io_ratio(cfg, d, r, IO_P99), 2, "x"), "",
	       bench_fmt(b[3], 32, io_ratio(cfg, d, r, IO_CPU), 2, "x"));
}

static void io_print(const struct io_cfg *cfg, const struct io_data *d)
{
	printf("iovmm bench io: %u run%s, medians%s; network: %d B frames, %" PRIu64
	       " per throughput run, %" PRIu64 " round trips one at a time for "
	       "latency; storage: 4 KiB at one command in flight, %" PRIu64
	       " writes + reads\n", cfg->runs, cfg->runs > 1 ? "s" : "",
	       cfg->short_form || cfg->runs < 2 ? "" : " (min-max)", IO_NET_SIZE,
	       cfg->net_count, cfg->pp_count, cfg->blk_count);
	printf("network rows but vhost-user and loopback: one tap in a private "
	       "netns reflected in the kernel (tc mirred), both VMMs; ratio = "
	       "iovmm/qemu\n");
	for (int net = 1; net >= 0; net--) {
		bool any = false;

		for (size_t r = 0; r < IO_NROWS; r++)
			any |= cfg->row_on[r] && io_rows[r].net == (net == 1);
		if (!any)
			continue;
		printf("%-34s %-5s %-22s %-20s %-24s %-20s %s\n",
		       net ? "network" : "storage", "VMM",
		       net ? "Mpps" : "kIOPS (4 KiB read)", "p50 us", "p99 us",
		       "exits/op", "host CPU us/op");
		for (size_t r = 0; r < IO_NROWS; r++)
			if (cfg->row_on[r] && io_rows[r].net == (net == 1))
				io_print_row(cfg, r, d);
	}
}

/* ---- JSON ------------------------------------------------------------ */

static void io_json_vmm(FILE *f, const struct io_cfg *cfg, size_t r, int impl,
			const struct io_data *d)
{
	fputc('{', f);
	for (int k = 0; k < IO_NFIG; k++) {
		const double *v = d->v[r][impl][k];
		double lo, hi;

		bench_range(v, cfg->runs, &lo, &hi);
		fprintf(f, "%s\"%s\": {\"runs\": ", k ? ", " : "", io_fig_name[k]);
		bench_json_array(f, v, cfg->runs);
		fputs(", \"median\": ", f);
		bench_json_num(f, bench_median_of(v, cfg->runs));
		fputs(", \"min\": ", f);
		bench_json_num(f, lo);
		fputs(", \"max\": ", f);
		bench_json_num(f, hi);
		fputc('}', f);
	}
	fputc('}', f);
}

static void io_json_row(FILE *f, const struct io_cfg *cfg, size_t r,
			const struct io_data *d)
{
	const struct io_row *row = &io_rows[r];
	bool qemu = io_has_qemu(cfg, r) && !d->why[r];

	fputs("  {\"id\": ", f);
	bench_json_str(f, row->id);
	fputs(", \"label\": ", f);
	bench_json_str(f, row->label);
	fprintf(f, ", \"kind\": \"%s\", \"unit\": \"%s\", \"where\": ",
		row->net ? "net" : "storage", row->net ? "pps" : "iops");
	bench_json_str(f, d->where[r] ? d->where[r] : "host");
	fputs(", \"why\": ", f);
	bench_json_str(f, d->why[r]);
	fputs(",\n   \"iovmm\": ", f);
	if (d->why[r])
		fputs("null", f);
	else
		io_json_vmm(f, cfg, r, IO_IOVMM, d);
	fputs(",\n   \"qemu\": ", f);
	if (qemu)
		io_json_vmm(f, cfg, r, IO_QEMU, d);
	else
		fputs("null", f);
	fputs(",\n   \"ratio_throughput\": ", f);
	bench_json_num(f, qemu ? io_ratio(cfg, d, r, IO_TPUT) : NAN);
	fputs(", \"ratio_p50\": ", f);
	bench_json_num(f, qemu ? io_ratio(cfg, d, r, IO_P50) : NAN);
	fputs(", \"ratio_cpu\": ", f);
	bench_json_num(f, qemu ? io_ratio(cfg, d, r, IO_CPU) : NAN);
	fputc('}', f);
}

static int io_write_json(const struct io_cfg *cfg, const struct io_data *d)
{
	FILE *f = fopen(cfg->json, "w");
	bool first = true;

	if (!f)
		return -errno;
	fprintf(f, "{\"benchmark\": \"io\", \"runs\": %u, \"frame_size\": %d, "
		   "\"net_count\": %" PRIu64 ", \"pingpong_count\": %" PRIu64
		   ", \"blk_count\": %" PRIu64 ", \"failures\": %u,\n \"rows\": [\n",
		cfg->runs, IO_NET_SIZE, cfg->net_count, cfg->pp_count,
		cfg->blk_count, d->failures);
	for (size_t r = 0; r < IO_NROWS; r++) {
		if (!cfg->row_on[r])
			continue;
		fputs(first ? "" : ",\n", f);
		first = false;
		io_json_row(f, cfg, r, d);
	}
	fputs("\n]}\n", f);
	return fclose(f) ? -errno : 0;
}

/* tools/bench-chart.py on the JSON, when the source tree is at hand. */
static void io_chart(const struct io_cfg *cfg)
{
	char script[PATH_MAX];
	struct bench_proc p;

	snprintf(script, sizeof(script), "%s/tools/bench-chart.py", IOVMM_SOURCE_ROOT);
	if (access(script, R_OK) || !bench_have_prog("python3")) {
		fprintf(stderr, "bench io: no chart (%s or python3 missing)\n", script);
		return;
	}
	char *const argv[] = { "python3", script, (char *)cfg->json, NULL };
	if (bench_spawn(argv, 60, &p) < 0)
		return;
	fputs(p.out.p ? p.out.p : "", stdout);
	fputs(p.err.p ? p.err.p : "", stderr);
	bench_proc_free(&p);
}

/* ---- command line ---------------------------------------------------- */

static const char io_usage[] =
	"usage: iovmm bench io [options]\n"
	"  --runs N         repetitions, medians with min-max (default 3, max 20)\n"
	"  --count N        frames per network throughput run (default 200000)\n"
	"  --pingpong N     round trips per network latency run (default 20000)\n"
	"  --blk-count N    4 KiB writes, then reads, per storage run (default\n"
	"                   4000, max 16384)\n"
	"  --rows LIST      only these rows (comma-separated ids: e1000,virtio-net,\n"
	"                   vhost-net,vhost-user,net-vf,loopback-e1000,\n"
	"                   loopback-virtio,nvme,virtio-blk,nvme-vf)\n"
	"  --vf BDF         a host VF for the passthrough rows (NVMe, or a NIC the\n"
	"                   kit drives)\n"
	"  --lab            run the NVMe VF rows in the lab's L1 (real SR-IOV VF)\n"
	"  --nested         run the vhost-net rows in the nested L1 (/dev/vhost-net)\n"
	"  --short          the short form (make run): 1 run, smaller counts\n"
	"  --json FILE      default ./bench-io.json; --no-json: none\n"
	"  --no-chart       no SVG (default: tools/bench-chart.py on the JSON)\n"
	"  --no-qemu        iovmm only\n"
	"  --qemu PATH      QEMU binary (default qemu-system-x86_64)\n"
	"  --qemu-bios PATH QEMU -bios (the lab passes SeaBIOS's microvm build)\n"
	"  --kit PATH       guest kit (default <build>/guest/kit.elf)\n"
	"  --timeout SEC    per VMM run (default 120)\n"
	"  --raw            print one BENCH-IO line per measurement (for L1 runs)\n";

enum {
	IO_OPT_PINGPONG = 256, IO_OPT_BLK, IO_OPT_ROWS, IO_OPT_VF, IO_OPT_LAB,
	IO_OPT_NESTED, IO_OPT_SHORT, IO_OPT_NO_JSON, IO_OPT_NO_CHART,
	IO_OPT_NO_QEMU, IO_OPT_QEMU, IO_OPT_BIOS, IO_OPT_KIT, IO_OPT_TIMEOUT,
	IO_OPT_RAW,
};

/* DDDD:BB:DD.F, hex digits (the sysfs name of a PCI function). */
static bool io_bdf_ok(const char *s)
{
	static const char shape[] = "xxxx:xx:xx.x";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return true;
}

static int io_rows_opt(struct io_cfg *cfg, const char *list)
{
	char buf[256], *save, *w;

	snprintf(buf, sizeof(buf), "%s", list);
	memset(cfg->row_on, 0, sizeof(cfg->row_on));
	for (w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int r = bench_io_row(w);

		if (r < 0) {
			fprintf(stderr, "bench io: --rows: unknown row '%s'\n", w);
			return -EINVAL;
		}
		cfg->row_on[r] = true;
	}
	return 0;
}

/* Numeric options; `set` records which were given (for --short). */
static int io_num_opt(int opt, const char *arg, struct io_cfg *cfg,
		      unsigned *set)
{
	uint64_t v;

	switch (opt) {
	case 'r':
		if (bench_parse_num(arg, 1, IO_MAX_RUNS, &v))
			return -EINVAL;
		cfg->runs = (unsigned)v;
		*set |= 1;
		return 0;
	case 'c':
		if (bench_parse_num(arg, 1, BENCH_KIT_MAX_COUNT, &cfg->net_count))
			return -EINVAL;
		*set |= 2;
		return 0;
	case IO_OPT_PINGPONG:
		/* The kit keeps every round trip: 8 bytes each. */
		if (bench_parse_num(arg, 1, 1000000, &cfg->pp_count))
			return -EINVAL;
		*set |= 4;
		return 0;
	case IO_OPT_BLK:
		if (bench_parse_num(arg, 1, IO_DISK_MAX_OPS, &cfg->blk_count))
			return -EINVAL;
		*set |= 8;
		return 0;
	default:
		if (bench_parse_num(arg, 1, 3600, &v))
			return -EINVAL;
		cfg->timeout_s = (double)v;
		return 0;
	}
}

static int io_parse(int argc, char **argv, struct io_cfg *cfg)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "pingpong", required_argument, NULL, IO_OPT_PINGPONG },
		{ "blk-count", required_argument, NULL, IO_OPT_BLK },
		{ "rows", required_argument, NULL, IO_OPT_ROWS },
		{ "vf", required_argument, NULL, IO_OPT_VF },
		{ "lab", no_argument, NULL, IO_OPT_LAB },
		{ "nested", no_argument, NULL, IO_OPT_NESTED },
		{ "short", no_argument, NULL, IO_OPT_SHORT },
		{ "json", required_argument, NULL, 'j' },
		{ "no-json", no_argument, NULL, IO_OPT_NO_JSON },
		{ "no-chart", no_argument, NULL, IO_OPT_NO_CHART },
		{ "no-qemu", no_argument, NULL, IO_OPT_NO_QEMU },
		{ "qemu", required_argument, NULL, IO_OPT_QEMU },
		{ "qemu-bios", required_argument, NULL, IO_OPT_BIOS },
		{ "kit", required_argument, NULL, IO_OPT_KIT },
		{ "timeout", required_argument, NULL, IO_OPT_TIMEOUT },
		{ "raw", no_argument, NULL, IO_OPT_RAW },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned set = 0;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': case 'c': case IO_OPT_PINGPONG: case IO_OPT_BLK:
		case IO_OPT_TIMEOUT:
			if (io_num_opt(opt, optarg, cfg, &set)) {
				fprintf(stderr, "bench io: bad value '%s' (see --help)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case IO_OPT_ROWS:
			if (io_rows_opt(cfg, optarg))
				return -EINVAL;
			break;
		case IO_OPT_VF:
			if (!io_bdf_ok(optarg)) {
				fprintf(stderr, "bench io: --vf %s: expected a PCI "
					"address DDDD:BB:DD.F\n", optarg);
				return -EINVAL;
			}
			cfg->vf = optarg;
			break;
		case IO_OPT_LAB: cfg->lab = true; break;
		case IO_OPT_NESTED: cfg->nested = true; break;
		case IO_OPT_SHORT: cfg->short_form = true; break;
		case 'j': cfg->json = optarg; break;
		case IO_OPT_NO_JSON: cfg->json = NULL; break;
		case IO_OPT_NO_CHART: cfg->chart = false; break;
		case IO_OPT_NO_QEMU: cfg->qemu = false; break;
		case IO_OPT_QEMU: cfg->qemu_bin = optarg; break;
		case IO_OPT_BIOS: cfg->qemu_bios = optarg; break;
		case IO_OPT_KIT: snprintf(cfg->kit, sizeof(cfg->kit), "%s", optarg); break;
		case IO_OPT_RAW: cfg->raw = true; break;
		case 'h': fputs(io_usage, stdout); return 1;
		default: fputs(io_usage, stderr); return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "bench io: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (cfg->short_form) {
		/* make run: every row once, about a minute on this host. */
		cfg->runs = set & 1 ? cfg->runs : 1;
		cfg->net_count = set & 2 ? cfg->net_count : 50000;
		cfg->pp_count = set & 4 ? cfg->pp_count : 3000;
		cfg->blk_count = set & 8 ? cfg->blk_count : 1000;
	}
	return 0;
}

/* ---- set-up ---------------------------------------------------------- */

static int io_resolve(struct io_cfg *cfg)
{
	ssize_t n = readlink("/proc/self/exe", cfg->self, sizeof(cfg->self) - 1);
	int fd;

	if (n <= 0)
		return -ENOENT;
	cfg->self[n] = '\0';
	if (!cfg->kit[0] &&
	    bench_artifact("guest/kit.elf", R_OK, cfg->kit, sizeof(cfg->kit))) {
		fprintf(stderr, "bench io: guest kit not found next to iovmm; "
			"pass --kit PATH\n");
		return -ENOENT;
	}
	if (access(cfg->kit, R_OK)) {
		fprintf(stderr, "bench io: %s: %s\n", cfg->kit, strerror(errno));
		return -ENOENT;
	}
	if (bench_artifact("vhost-user/dpdk/iovmm-vswitch", X_OK, cfg->vswitch,
			   sizeof(cfg->vswitch)))
		cfg->vswitch[0] = '\0';
	if (cfg->qemu && !bench_have_prog(cfg->qemu_bin)) {
		fprintf(stderr, "bench io: %s not found: QEMU rows not run\n",
			cfg->qemu_bin);
		cfg->qemu = false;
	}
	snprintf(cfg->reflector, sizeof(cfg->reflector),
		 "%s/scripts/tap-reflector.sh", IOVMM_SOURCE_ROOT);
	cfg->taskset = bench_have_prog("taskset");
	snprintf(cfg->dir, sizeof(cfg->dir), "/tmp/iovmm-bench-io.XXXXXX");
	if (!mkdtemp(cfg->dir)) {
		fprintf(stderr, "bench io: mkdtemp: %s\n", strerror(errno));
		return -errno;
	}
	/* The storage rows' one backing file, sparse. */
	snprintf(cfg->image, sizeof(cfg->image), "%s/disk.img", cfg->dir);
	fd = open(cfg->image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)IO_DISK_MIB << 20) < 0) {
		fprintf(stderr, "bench io: %s: %s\n", cfg->image, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

static void io_cleanup(struct io_cfg *cfg)
{
	static const char *const files[] = { "disk.img", "vh.sock", "vswitch.log" };
	char path[PATH_MAX];

	io_tap_down(cfg);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->dir, files[i]);
		unlink(path);
	}
	rmdir(cfg->dir);
}

/* The rows an L1 runs: those of `be` that are on and cannot run here. */
static void io_remote_rows(struct io_cfg *cfg, bool lab, struct io_data *d)
{
	char ids[128] = "", why[192];

	for (size_t r = 0; r < IO_NROWS; r++) {
		enum io_be be = io_rows[r].be;

		if (!cfg->row_on[r] || (lab ? be != IO_BE_NVME_VF :
				      be != IO_BE_VHOST_NET) ||
		    !io_why_not(cfg, r, why, sizeof(why)))
			continue;
		snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s",
			 ids[0] ? "," : "", io_rows[r].id);
	}
	if (!ids[0])
		return;
	if (getenv("IOVMM_L1")) {
		/* One TCG L1 inside another would take hours: not from here. */
		for (size_t r = 0; r < IO_NROWS; r++) {
			if (!io_in_list(ids, io_rows[r].id))
				continue;
			snprintf(d->whybuf[r], sizeof(d->whybuf[r]), "this is an "
				 "L1 already: run `iovmm bench io %s` on the host",
				 lab ? "--lab" : "--nested");
			d->why[r] = d->whybuf[r];
		}
		return;
	}
	io_remote(cfg, lab, ids, d);
}

int bench_io_main(int argc, char **argv)
{
	struct io_cfg *cfg = calloc(1, sizeof(*cfg));
	struct io_data *d = calloc(1, sizeof(*d));
	int ret = cfg && d ? 0 : -ENOMEM;

	if (ret)
		goto out;
	*cfg = (struct io_cfg){
		.runs = 3, .net_count = 200000, .pp_count = 20000,
		.blk_count = 4000, .timeout_s = 120, .json = "bench-io.json",
		.chart = true, .qemu = true, .qemu_bin = "qemu-system-x86_64",
	};
	for (size_t r = 0; r < IO_NROWS; r++)
		cfg->row_on[r] = true;
	ret = io_parse(argc, argv, cfg);
	if (ret)
		goto out;
	if (io_resolve(cfg)) {
		ret = -EINVAL;	/* no kit, no scratch: a usage-level error */
		goto out;
	}
	io_data_init(d);
	if (cfg->lab)
		io_remote_rows(cfg, true, d);
	if (cfg->nested)
		io_remote_rows(cfg, false, d);
	io_collect(cfg, d);
	io_cleanup(cfg);
	if (cfg->raw)
		goto out;
	io_print(cfg, d);
	if (cfg->json) {
		ret = io_write_json(cfg, d);
		if (ret)
			fprintf(stderr, "bench io: %s: %s\n", cfg->json, strerror(-ret));
		else
			printf("json: %s\n", cfg->json);
		fflush(stdout);
		if (!ret && cfg->chart)
			io_chart(cfg);
	}
out:
	if (ret == -ENOMEM)
		fprintf(stderr, "bench io: out of memory\n");
	free(cfg);
	if (ret > 0 || (!ret && !d->failures)) {
		free(d);
		return 0;
	}
	free(d);
	return ret == -EINVAL ? 2 : 1;
}
