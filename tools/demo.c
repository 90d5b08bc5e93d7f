// SPDX-License-Identifier: MIT
/*
 * `iovmm demo` (what `make run` shows): boot the guest kit on iovmm once per
 * kit test, print what each measured, then the exit-cost comparison against
 * the raw KVM floor and QEMU, then every I/O path side by side against
 * QEMU: bench io's short form (emulated, virtio, vhost-net, vhost-user and
 * passthrough; network and storage; the passthrough row through the lab's
 * L1 where the host has no VFIO).
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

/* ---- the I/O paths side by side: bench io's short form ---- */

/*
 * The passthrough rows need VFIO: on a host without it (this project's
 * development machines) bench io runs the NVMe VF row in the lab's L1
 * (--lab, one boot, about two minutes); with --vf there is nothing to
 * borrow from the lab. IOVMM_DEMO_NO_LAB=1 leaves the lab out.
 */
static int demo_io(void)
{
	const char *no_lab = getenv("IOVMM_DEMO_NO_LAB");
	bool lab = access("/dev/vfio/vfio", R_OK | W_OK) != 0 &&
		   !(no_lab && !strcmp(no_lab, "1")) && !getenv("IOVMM_L1");
	char *argv[] = { "io", "--short", "--json", "bench-io.json",
			 lab ? "--lab" : NULL, NULL };

	return bench_io_main(lab ? 5 : 4, argv) != 0;
}

int demo_main(int argc, char **argv)
{
	char self[PATH_MAX], kit[PATH_MAX];
	char *bench_argv[] = { "bench", "exits", "--runs", "3", NULL };
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
	printf("\nI/O paths side by side, iovmm vs QEMU on the same guest kit "
	       "test and the same back end (iovmm bench io --short):\n");
	fflush(stdout);
	failures += demo_io();
	return failures ? 1 : 0;
}
