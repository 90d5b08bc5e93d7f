/* SPDX-License-Identifier: MIT */
/*
 * `iovmm bench io` (tools/bench_io.c): the samples it keeps, and the parser
 * of the "BENCH-IO ..." lines a run inside the lab's or the nested L1 prints
 * with --raw, exposed for the unit tests in tests/bench/.
 */
#ifndef IOVMM_TOOLS_BENCH_IO_H
#define IOVMM_TOOLS_BENCH_IO_H

#include <stddef.h>

#define IO_MAX_RUNS 20
#define IO_MAX_ROWS 16

enum { IO_IOVMM, IO_QEMU, IO_NIMPL };
/* Figures per row and VMM; the names are the JSON keys and raw-line keys. */
enum { IO_TPUT, IO_P50, IO_P99, IO_EXITS, IO_CPU, IO_NFIG };

struct io_data {
	/* [row][vmm][figure][run]; NaN: not measured or failed. */
	double v[IO_MAX_ROWS][IO_NIMPL][IO_NFIG][IO_MAX_RUNS];
	const char *why[IO_MAX_ROWS];	/* not run, and why; NULL: ran */
	char whybuf[IO_MAX_ROWS][192];
	const char *where[IO_MAX_ROWS];	/* NULL: this host; else "lab L1"... */
	unsigned failures;
};

/* Index of row `id` ("e1000", "nvme-vf", ...) or -1. */
int bench_io_row(const char *id);

/*
 * Reads every "BENCH-IO row=ID impl=iovmm|qemu run=K fig=value..." line of
 * `buf` into d (figures by name: throughput, lat_p50_us, lat_p99_us,
 * exits_per_op, cpu_us_per_op; K < runs), and "BENCH-IO row=ID
 * status=skip" as "not run there". Each row named gets where = `where`.
 * Lines that do not parse, unknown rows, VMMs, figures or runs out of range
 * are ignored and counted. Returns the number of ignored lines; *rows
 * (optional) gets how many distinct rows were read.
 */
unsigned bench_io_parse_raw(const char *buf, size_t len, const char *where,
			    unsigned runs, struct io_data *d, unsigned *rows);

#endif
