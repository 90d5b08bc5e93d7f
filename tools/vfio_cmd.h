/* SPDX-License-Identifier: MIT */
#ifndef IOVMM_TOOLS_VFIO_CMD_H
#define IOVMM_TOOLS_VFIO_CMD_H

/*
 * `iovmm vfio list|bind|unbind`: host devices for passthrough (argv[0] is
 * "vfio"). Exit status: 0 done, 1 refused or failed (a message on stderr
 * says why), 2 usage error.
 */
int vfio_cmd_main(int argc, char **argv);

#endif
