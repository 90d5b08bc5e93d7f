// SPDX-License-Identifier: MIT
/*
 * `iovmm demo` (what `make run` shows): boot the guest kit on iovmm once per
 * kit test, print what each measured, then the exit-cost comparison against
 * the raw KVM floor and QEMU, then the I/O paths side by side on one kit
 * test (emulated e1000, virtio-net in the VMM, vhost-user to iovmm-vswitch),
 * then emulated vs paravirtual NICs against QEMU (bench net, one short run).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "tools/bench.h"
#include "tools/demo.h"

struct demo_test {
	const char *name;
	const char *what;
	const char *params;   /* kit command line after test=NAME */
	const char *device;   /* --device, or NULL */
	const char *cpus;
	const char *show[3];  /* RESULT keys worth a column */
};

static const struct demo_test demo_tests[] = {
	{ "hello", "boot, ACPI, PCI enumeration", "", "pci-testdev", "1",
	  { "tsc_khz", "pci_devices" } },
	{ "pio", "port I/O exit from CPL0", "count=5000", "pci-testdev", "1",
	  { "ns_per_op", "device_count" } },
	{ "mmio", "MMIO exit from CPL3", "count=5000", "pci-testdev", "1",
	  { "ns_per_op", "device_count" } },
	{ "ioeventfd", "MMIO write to a KVM ioeventfd", "count=20000",
	  "pci-testdev", "1", { "ns_per_op", "device_count" } },
	{ "irq", "edu MSI via irqfd to an IDT handler", "count=1000", "edu",
	  "1", { "ns_per_op", "irqs" } },
	{ "smp", "APs started by the guest (INIT/SIPI)", "", NULL, "4",
	  { "cpus" } },
};

static void demo_row(const struct demo_test *t, const struct bench_proc *p)
{
	struct bench_kvs kvs;
	char figures[160] = "";
	size_t off = 0;
	const char *status = "error";

	if (bench_find_line(p->out.p ? p->out.p : "", p->out.len, "RESULT",
			    t->name, &kvs) == 0) {
		const char *st = bench_kv_get(&kvs, "status");

		status = st ? st : "?";
		for (size_t i = 0; i < ARRAY_SIZE(t->show) && t->show[i]; i++) {
			const char *v = bench_kv_get(&kvs, t->show[i]);

			if (v && off < sizeof(figures))
				off += (size_t)snprintf(figures + off,
							sizeof(figures) - off,
							"%s=%s ", t->show[i], v);
		}
	}
	printf("  %-10s %-38s %-5s %s\n", t->name, t->what, status, figures);
}

static int demo_kit(const char *self, const char *kit)
{
	int failures = 0;

	printf("The guest kit on iovmm (%s):\n", kit);
	printf("  %-10s %-38s %-5s %s\n", "test", "what", "", "figures");
	for (size_t i = 0; i < ARRAY_SIZE(demo_tests); i++) {
		const struct demo_test *t = &demo_tests[i];
		char cmdline[128];
		char *argv[16];
		int argc = 0;
		struct bench_proc p;

		snprintf(cmdline, sizeof(cmdline), "test=%s %s", t->name,
			 t->params);
		argv[argc++] = (char *)self;
		argv[argc++] = "run";
		argv[argc++] = "--kernel";
		argv[argc++] = (char *)kit;
		argv[argc++] = "--mem";
		argv[argc++] = "256M";
		argv[argc++] = "--cpus";
		argv[argc++] = (char *)t->cpus;
		argv[argc++] = "--cmdline";
		argv[argc++] = cmdline;
		if (t->device) {
			argv[argc++] = "--device";
			argv[argc++] = (char *)t->device;
		}
		argv[argc] = NULL;
		if (bench_spawn(argv, 60, &p) < 0) {
			printf("  %-10s cannot run %s\n", t->name, self);
			failures++;
			continue;
		}
		demo_row(t, &p);
		if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 1)
			failures++;
		bench_proc_free(&p);
	}
	return failures;
}

/* ---- the I/O paths on one workload ---- */

#define DEMO_NET_COUNT 200000u

struct demo_path {
	const char *name;
	const char *what;
	const char *net;     /* --net, or NULL: vhost-user to the switch */
};

static const struct demo_path demo_paths[] = {
	{ "emulated", "e1000: every register access exits",
	  "e1000,backend=loopback" },
	{ "virtio", "virtio-net in iovmm: kicks via ioeventfd",
	  "virtio,backend=loopback" },
	{ "vhost-user", "rings served by iovmm-vswitch, no VMM", NULL },
};

/* One row: the kit's net-loopback over p; false when it did not pass. */
static bool demo_path_row(const char *self, const char *kit,
			  const struct demo_path *p, const char *sock)
{
	char net[PATH_MAX + 64], cmdline[128], figures[96] = "";
	const char *nic = p->net && !strncmp(p->net, "e1000", 5) ? "e1000"
								 : "virtio";
	/* vhost-user: the switch's forwarding lcore has CPU 0, keep the
	 * vCPU off it. The others need both CPUs (vCPU and I/O thread). */
	bool pin = !p->net && access("/usr/bin/taskset", X_OK) == 0;
	struct bench_kvs res, stats;
	struct bench_proc pr;
	const char *status = "error";
	uint64_t exits;
	char *argv[20];
	int a = 0;

	if (p->net)
		snprintf(net, sizeof(net), "%s", p->net);
	else
		snprintf(net, sizeof(net), "vhost-user,socket=%s", sock);
	snprintf(cmdline, sizeof(cmdline),
		 "test=net-loopback nic=%s count=%u size=64", nic, DEMO_NET_COUNT);
	if (pin) {
		argv[a++] = "taskset";
		argv[a++] = "-c";
		argv[a++] = "1";
	}
	char *const run[] = { (char *)self, "run", "--kernel", (char *)kit,
			      "--mem", "256M", "--net", net, "--cmdline",
			      cmdline, "--stats", NULL };
	for (size_t i = 0; run[i]; i++)
		argv[a++] = run[i];
	argv[a] = NULL;
	if (bench_spawn(argv, 120, &pr) < 0) {
		printf("  %-11s cannot run %s\n", p->name, self);
		return false;
	}
	if (!bench_find_line(pr.out.p ? pr.out.p : "", pr.out.len, "RESULT",
			     "net-loopback", &res)) {
		const char *st = bench_kv_get(&res, "status");
		const char *pps = bench_kv_get(&res, "pps");

		status = st ? st : "?";
		if (!bench_find_line(pr.err.p ? pr.err.p : "", pr.err.len,
				     "iovmm-stats:", NULL, &stats) &&
		    !bench_kv_get_u64(&stats, "exits", &exits))
			snprintf(figures, sizeof(figures), "%10s pps %8.4f exits/pkt",
				 pps ? pps : "-", (double)exits / DEMO_NET_COUNT);
	}
	printf("  %-11s %-40s %-5s %s\n", p->name, p->what, status, figures);
	bench_proc_free(&pr);
	return !strcmp(status, "pass");
}

/*
 * The same kit test over each path iovmm offers here. The vhost-user row
 * needs iovmm-vswitch (DPDK) and root; without them it says why instead.
 * Passthrough needs an IOMMU and a device: the lab tier runs it.
 */
static int demo_io_paths(const char *self, const char *kit)
{
	char vswitch[PATH_MAX], dir[] = "/tmp/iovmm-demo.XXXXXX";
	char sock[PATH_MAX], log[PATH_MAX], port[PATH_MAX + 8];
	struct bench_bg bg = { 0 };
	int failures = 0;

	printf("  %-11s %-40s %-5s %s\n", "path", "what", "", "net-loopback, 64 B");
	for (size_t i = 0; i < ARRAY_SIZE(demo_paths); i++) {
		const struct demo_path *p = &demo_paths[i];

		if (p->net) {
			failures += !demo_path_row(self, kit, p, "");
			continue;
		}
		if (bench_artifact("vhost-user/dpdk/iovmm-vswitch", X_OK, vswitch,
				   sizeof(vswitch)) || geteuid() != 0 || !mkdtemp(dir)) {
			printf("  %-11s %-40s %-5s %s\n", p->name, p->what, "skip",
			       "needs iovmm-vswitch (libdpdk-dev) and root");
			continue;
		}
		snprintf(sock, sizeof(sock), "%s/vh.sock", dir);
		snprintf(log, sizeof(log), "%s/vswitch.log", dir);
		snprintf(port, sizeof(port), "vhost:%s", sock);
		char *const argv[] = { vswitch, "--lcores", "0@1,1@0", "--",
				       "--port", port, "--mode", "loopback", NULL };
		if (bench_bg_start(argv, log, &bg) ||
		    bench_bg_wait(&bg, "iovmm-vswitch: ready", 30)) {
			bench_bg_show_log("iovmm demo", "iovmm-vswitch did not start", log);
			failures++;
		} else {
			failures += !demo_path_row(self, kit, p, sock);
		}
		bench_bg_stop(&bg);
		unlink(sock);
		unlink(log);
		rmdir(dir);
	}
	printf("  %-11s %-40s %-5s %s\n", "passthrough", "VFIO: guest MMIO and DMA hit the device",
	       "lab", "make lab (needs an IOMMU: runs in an emulated host)");
	return failures;
}

int demo_main(int argc, char **argv)
{
	char self[PATH_MAX], kit[PATH_MAX];
	char *bench_argv[] = { "bench", "exits", "--runs", "3", NULL };
	char *net_argv[] = { "net", "--runs", "1", "--count", "30000",
			     "--json", "bench-net-demo.json", NULL };
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int failures;

	if (argc > 1) {
		fprintf(stderr, "usage: iovmm demo\n");
		return 2;
	}
	if (n <= 0 || bench_artifact("guest/kit.elf", R_OK, kit, sizeof(kit))) {
		fprintf(stderr, "iovmm demo: the guest kit (guest/kit.elf) is "
				"not next to this iovmm; run it from the build dir\n");
		return 2;
	}
	self[n] = '\0';
	failures = demo_kit(self, kit);
	printf("\nExit costs, iovmm vs a raw KVM loop vs QEMU on the same kit "
	       "(medians of 3 runs):\n");
	fflush(stdout);
	if (bench_main(4, bench_argv) != 0)
		failures++;
	printf("\nI/O paths on iovmm, the same guest kit test over each:\n");
	fflush(stdout);
	failures += demo_io_paths(self, kit);
	printf("\nEmulated (e1000) vs paravirtual (virtio-net in the VMM) I/O, "
	       "guest kit net-loopback, iovmm vs QEMU:\n");
	fflush(stdout);
	if (bench_net_main(7, net_argv) != 0)
		failures++;
	return failures ? 1 : 0;
}
