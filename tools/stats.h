/* SPDX-License-Identifier: MIT */
/* `iovmm run --stats`: one machine-readable line of resource use. */
#ifndef IOVMM_STATS_H
#define IOVMM_STATS_H

#include <stdio.h>

struct machine;

/*
 * Prints "iovmm-stats: rss_hwm_kb=.. rss_anon_kb=.. rss_file_kb=..
 * rss_shmem_kb=.. guest_ram_touched_kb=.. exits=..". Guest RAM is a memfd,
 * so it is counted as shmem; rss_hwm_kb - rss_shmem_kb is what iovmm costs
 * beyond the guest's own memory. With assigned devices a second line,
 * "iovmm-vfio: dma_entries=.. dma_mib=.. dma_map_us=..", reports how guest
 * RAM was mapped for DMA.
 */
void stats_print(FILE *out, const struct machine *m);

#endif
