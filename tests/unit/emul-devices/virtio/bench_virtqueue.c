// SPDX-License-Identifier: MIT
/*
 * Device-side virtqueue cost, in ns per buffer: the driver (vq_driver.h)
 * fills a 256-entry queue, then the device pops every buffer, pushes it
 * and makes one notification decision per batch - the virtio-net TX
 * pattern. Only the device side is timed. A program, not a test:
 *   bench_virtqueue [ROUNDS]
 * Prints one RESULT line per ring flavour (median of 5 runs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/gmem.h"
#include "core/layout.h"
#include "core/util.h"
#include "emul-devices/virtio/virtqueue.h"
#include "vq_driver.h"

#define QSIZE     256
#define DESC_GPA  0x100000ULL
#define AVAIL_GPA 0x200000ULL
#define USED_GPA  0x300000ULL
#define IND_GPA   0x400000ULL
#define DATA_GPA  0x1000000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* ns per buffer for one flavour over `rounds` full-queue batches. */
static double run(struct gmem *mem, bool packed, bool event_idx,
		  bool indirect, unsigned nseg, unsigned rounds)
{
	struct virtq_config c = {
		.size = QSIZE, .packed = packed, .event_idx = event_idx,
		.indirect = indirect, .desc_gpa = DESC_GPA,
		.avail_gpa = AVAIL_GPA, .used_gpa = USED_GPA,
	};
	struct drv_seg segs[4];
	static struct virtq_elem elem;
	struct drv_vq drv;
	struct virtq vq;
	uint64_t t = 0, bufs = 0;
	unsigned per_batch = indirect ? QSIZE : QSIZE / nseg;

	for (unsigned s = 0; s < nseg; s++)
		segs[s] = (struct drv_seg){ DATA_GPA + s * 2048, 1514,
					    s == nseg - 1 && nseg > 1 };
	if (drv_vq_init(&drv, mem, &c, IND_GPA) || virtq_init(&vq, mem, &c)) {
		fprintf(stderr, "bench: cannot set up the queue\n");
		exit(1);
	}
	for (unsigned r = 0; r < rounds; r++) {
		uint16_t id;
		uint32_t len;
		uint64_t t0;

		for (unsigned b = 0; b < per_batch; b++)
			if (drv_add(&drv, segs, nseg, indirect, &id))
				break;
		t0 = now_ns();
		virtq_set_kicks(&vq, false);
		while (virtq_pop(&vq, &elem) == 0) {
			virtq_push(&vq, &elem, (uint32_t)elem.in_len);
			bufs++;
		}
		virtq_set_kicks(&vq, true);
		virtq_should_notify(&vq);
		t += now_ns() - t0;
		while (drv_get_used(&drv, &id, &len) == 0)
			;
		if (event_idx && !packed)
			drv_split_set_used_event(&drv, drv.last_used);
	}
	drv_vq_free(&drv);
	return bufs ? (double)t / (double)bufs : 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		bool packed, event_idx, indirect;
		unsigned nseg;
	} cases[] = {
		{ "split-1seg", false, true, false, 1 },
		{ "split-2seg", false, true, false, 2 },
		{ "split-indirect-4seg", false, true, true, 4 },
		{ "packed-1seg", true, true, false, 1 },
		{ "packed-2seg", true, true, false, 2 },
		{ "packed-indirect-4seg", true, true, true, 4 },
	};
	struct gmem_opts o = { .size = 64 * MiB, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };
	unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 2000;
	struct gmem *mem;

	if (gmem_create(&o, &mem)) {
		fprintf(stderr, "bench: no guest memory\n");
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v[5];

		for (int k = 0; k < 5; k++)
			v[k] = (uint64_t)(1000.0 * run(mem, cases[i].packed,
						       cases[i].event_idx,
						       cases[i].indirect,
						       cases[i].nseg, rounds));
		qsort(v, 5, sizeof(v[0]), cmp_u64);
		printf("RESULT test=virtqueue-%s status=pass ns_per_buf=%.1f\n",
		       cases[i].name, (double)v[2] / 1000.0);
	}
	gmem_destroy(mem);
	return 0;
}
