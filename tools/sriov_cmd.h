/* SPDX-License-Identifier: MIT */
#ifndef IOVMM_TOOLS_SRIOV_CMD_H
#define IOVMM_TOOLS_SRIOV_CMD_H

struct sriov_env;

/*
 * `iovmm sriov list|show|create|destroy|set|token|repair` (argv[0] is
 * "sriov"). Exit status: 0 done, 1 refused or failed (a message on stderr
 * says why), 2 usage error.
 */
int sriov_cmd_main(int argc, char **argv);

/* The same against a given environment (the unit tests' fake host). */
int sriov_cmd_run(const struct sriov_env *env, int argc, char **argv);

#endif
