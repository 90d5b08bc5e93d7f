/* SPDX-License-Identifier: MIT */
/*
 * Command-line parsing for `iovmm run`: strings in, a typed machine_config
 * out. Device options are parsed by their types (machine/devices.c).
 */
#ifndef IOVMM_CLI_H
#define IOVMM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "core/sandbox.h"
#include "machine/machine.h"

struct cli_run {
	struct machine_config machine;
	/* --seccomp (default on), --user, --chroot (docs/security.md) */
	struct sandbox_config sandbox;
	bool stats;  /* print iovmm-stats at exit */
	bool help;   /* --help was given: print usage, run nothing */
	bool quiet;
	const char *api_socket; /* --api-socket PATH: serve the API (docs/api.md) */
};

/*
 * Parse `run` arguments (argv[0] is "run"). Returns 0, or -EINVAL with a
 * one-line message in err. Strings in the result point into argv; device
 * options are the types' own, which cli_run_free() releases.
 */
int cli_parse_run(int argc, char **argv, struct cli_run *out, char *err,
		  size_t errlen);
/* Free what cli_parse_run() allocated (also after it failed). */
void cli_run_free(struct cli_run *run);

/*
 * Parse a memory size: a number with an optional K/M/G/T suffix (binary
 * units; "KiB"-style and "B" suffixes accepted); a bare number means MiB, as
 * with QEMU's -m. -EINVAL for junk, -ERANGE for overflow.
 */
int cli_parse_size(const char *s, uint64_t *out);

/* `iovmm run --help`: the options above and every device type's. */
void cli_print_run_usage(FILE *out);

#endif
