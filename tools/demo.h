/* SPDX-License-Identifier: MIT */
#ifndef IOVMM_TOOLS_DEMO_H
#define IOVMM_TOOLS_DEMO_H

/* `iovmm demo`: the kit's tests on iovmm, then the exit-cost table. */
int demo_main(int argc, char **argv);

#endif
