// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/ioloop.h"
#include "core/vm.h"
#include "machine/machine.h"
#include "tools/stats.h"

static long status_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	long v = -1;

	if (p)
		sscanf(p + strlen(key), " %ld", &v);
	return v;
}

void stats_print(FILE *out, const struct machine *m)
{
	const struct vm *vm = machine_vm(m);
	char buf[4096];
	size_t n = 0;
	unsigned dma_entries;
	uint64_t dma_bytes, dma_ns;
	FILE *f = fopen("/proc/self/status", "r");

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	fprintf(out,
		"iovmm-stats: rss_hwm_kb=%ld rss_anon_kb=%ld rss_file_kb=%ld "
		"rss_shmem_kb=%ld guest_ram_touched_kb=%" PRIu64
		" exits=%" PRIu64 " io_events=%" PRIu64 "\n",
		status_kb(buf, "VmHWM:"), status_kb(buf, "RssAnon:"),
		status_kb(buf, "RssFile:"), status_kb(buf, "RssShmem:"),
		vm_guest_ram_resident(vm) >> 10, vm_exit_count(vm),
		ioloop_event_count(vm_parts(vm)->io));
	machine_vfio_dma_stats(m, &dma_entries, &dma_bytes, &dma_ns);
	if (dma_entries)
		fprintf(out, "iovmm-vfio: dma_entries=%u dma_mib=%" PRIu64
			" dma_map_us=%" PRIu64 "\n", dma_entries, dma_bytes >> 20,
			dma_ns / 1000);
}
