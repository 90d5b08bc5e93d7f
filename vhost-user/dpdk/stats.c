// SPDX-License-Identifier: MIT
/*
 * Per-port counters, summed over the forwarding lcores, printed as
 * "TAG key=value ..." lines (the format tools/bench.h parses):
 *   vswitch-stats: time=5.00 port=0 kind=vhost state=up rx=.. tx=.. drops=..
 *                  rx_pps=.. tx_pps=.. connects=N
 *   vswitch-stats: time=5.00 port=all rx=.. tx=.. drops=.. macs=N
 * Rates are over the interval since the previous line of the same port.
 *
 * Events, for reconnection measurements (CLOCK_MONOTONIC ns, so another
 * process can subtract its own timestamps):
 *   vswitch-event: port=0 listening mono_ns=T
 *   vswitch-event: port=0 device-up mono_ns=T    (rings set up by the front end)
 *   vswitch-event: port=0 first-frame mono_ns=T connects=C
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "vhost-user/dpdk/vswitch.h"

static struct {
	uint64_t rx, tx;
	double t;
} stats_prev[VSW_MAX_PORTS];

static void stats_sum(const struct vsw *v, unsigned port,
		      struct vsw_counters *out)
{
	out->rx = out->tx = out->drops = 0;
	for (unsigned i = 0; i < v->nfwd; i++) {
		const struct vsw_counters *c = &v->fwd[i]->cnt[port];

		out->rx += __atomic_load_n(&c->rx, __ATOMIC_RELAXED);
		out->tx += __atomic_load_n(&c->tx, __ATOMIC_RELAXED);
		out->drops += __atomic_load_n(&c->drops, __ATOMIC_RELAXED);
	}
}

static void stats_port(struct vsw *v, unsigned i, const char *tag, double t,
		       struct vsw_counters *total)
{
	struct vsw_port *p = &v->ports[i];
	struct vsw_counters c;
	double dt = t - stats_prev[i].t;
	char extra[64] = "";

	stats_sum(v, i, &c);
	total->rx += c.rx;
	total->tx += c.tx;
	total->drops += c.drops;
	if (p->cfg->kind == VSW_PORT_VHOST) {
		snprintf(extra, sizeof(extra), " connects=%" PRIu64,
			 __atomic_load_n(&p->connects, __ATOMIC_RELAXED));
	} else if (p->eth_started) {
		struct rte_eth_stats es;

		if (rte_eth_stats_get(p->eth_id, &es) == 0)
			snprintf(extra, sizeof(extra), " rx_missed=%" PRIu64,
				 es.imissed + es.rx_nombuf);
	}
	printf("%s time=%.2f port=%u kind=%s state=%s rx=%" PRIu64 " tx=%" PRIu64
	       " drops=%" PRIu64 " rx_pps=%.0f tx_pps=%.0f%s\n",
	       tag, t, i, p->cfg->kind == VSW_PORT_VHOST ? "vhost" : "eth",
	       vsw_port_up(p) ? "up" : "down", c.rx, c.tx, c.drops,
	       dt > 0 ? (double)(c.rx - stats_prev[i].rx) / dt : 0.0,
	       dt > 0 ? (double)(c.tx - stats_prev[i].tx) / dt : 0.0, extra);
	stats_prev[i].rx = c.rx;
	stats_prev[i].tx = c.tx;
	stats_prev[i].t = t;
}

void vsw_stats_print(struct vsw *v, const char *tag, double t)
{
	struct vsw_counters total = { 0 };

	for (unsigned i = 0; i < v->nports; i++)
		stats_port(v, i, tag, t, &total);
	printf("%s time=%.2f port=all rx=%" PRIu64 " tx=%" PRIu64 " drops=%" PRIu64,
	       tag, t, total.rx, total.tx, total.drops);
	if (v->l2)
		printf(" macs=%u", vsw_l2_count(v->l2, rte_rdtsc() / v->ms_div));
	printf("\n");
	fflush(stdout);
}

uint64_t vsw_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void vsw_events_print(struct vsw *v)
{
	for (unsigned i = 0; i < v->nports; i++) {
		struct vsw_port *p = &v->ports[i];
		/* Acquire pairs with port_new_device's release: a stamp read
		 * after it belongs to this connection or is the reset 0. */
		uint64_t gen = __atomic_load_n(&p->connects, __ATOMIC_ACQUIRE);
		uint64_t t = __atomic_load_n(&p->first_rx_ns, __ATOMIC_RELAXED);

		if (!t || gen == p->told)
			continue;
		p->told = gen;
		printf("vswitch-event: port=%u first-frame mono_ns=%" PRIu64
		       " connects=%" PRIu64 "\n", i, t, gen);
		fflush(stdout);
	}
}
