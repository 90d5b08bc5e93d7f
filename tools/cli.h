/* SPDX-License-Identifier: MIT */
/* Command-line parsing for `iovmm run`: strings in, a typed vm_config out. */
#ifndef IOVMM_CLI_H
#define IOVMM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vm.h"

struct cli_run {
	struct vm_config vm;
	bool stats;  /* print iovmm-stats at exit */
	bool help;   /* --help was given: print usage, run nothing */
	bool quiet;
};

/*
 * Parse `run` arguments (argv[0] is "run"). Returns 0, or -EINVAL with a
 * one-line message in err. Strings in the result point into argv, except
 * disk paths, which cli_run_free() releases.
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

/* "52:54:00:12:34:56" -> bytes. -EINVAL malformed, -EDOM not unicast. */
int cli_parse_mac(const char *s, uint8_t mac[6]);
/* A --net back-end spec: tap:NAME, loopback or null. 0 or -EINVAL + err. */
int cli_check_backend(const char *s, char *err, size_t errlen);

extern const char cli_run_usage[];

#endif
