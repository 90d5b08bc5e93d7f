/* SPDX-License-Identifier: MIT */
/* `iovmm api` (a ch-remote-like client) and `iovmm serve`. */
#ifndef IOVMM_API_CMD_H
#define IOVMM_API_CMD_H

int api_cmd_main(int argc, char **argv);

#endif
