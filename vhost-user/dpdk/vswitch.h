/* SPDX-License-Identifier: MIT */
/*
 * iovmm-vswitch: a DPDK switch between vhost-user ports (guests of iovmm,
 * QEMU, virtio-user) and ethdev ports. See docs/vswitch.md.
 *
 * Threads and what they own:
 * - forwarding lcores (every EAL worker lcore, or the main lcore when there
 *   is none): each owns a fixed set of ports, polls their RX queues and is
 *   the only thread that transmits on them. A frame for a port owned by
 *   another lcore goes through that port's multi-producer rte_ring, which
 *   its owner drains. No lock anywhere on this path.
 * - rte_vhost's control thread ("vhost-events"): runs the device callbacks
 *   (port.c). A device going away is unpublished (vid = -1) and the
 *   callback waits for every forwarding lcore to pass a quiescent state
 *   (rte_rcu_qsbr) before rte_vhost frees it.
 * - the main lcore: statistics and signals (main.c), or forwarding too
 *   when it is the only lcore.
 */
#ifndef IOVMM_VSW_VSWITCH_H
#define IOVMM_VSW_VSWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "vhost-user/dpdk/config.h"
#include "vhost-user/dpdk/l2.h"

#define VSW_BURST 32
#define VSW_RING_SIZE 1024	/* cross-lcore TX ring per port */
#define VSW_ETH_DESC 1024	/* ethdev RX/TX descriptors per queue */

struct rte_rcu_qsbr;
struct rte_ring;
struct rte_mempool;

struct vsw_port {
	unsigned idx;
	const struct vsw_port_cfg *cfg;
	int peer;		/* xconnect peer, -1 in l2 mode */
	unsigned owner;		/* index of the forwarding lcore that owns it */
	struct rte_ring *ring;	/* cross-lcore TX (MP/SC); NULL with one lcore */

	/* vhost. `vid` is the published device (-1: none); written by the
	 * vhost thread (release), read by forwarding lcores (acquire). The
	 * queue bitmaps follow SET_VRING_ENABLE (bit q: queue pair q's guest
	 * RX vring 2q / TX vring 2q+1); written by the vhost thread only. */
	int vid;
	uint32_t rxq_on, txq_on;
	unsigned nq;		/* queue pairs in use: min(queues=, device's) */
	bool registered;	/* rte_vhost_driver_register() succeeded */
	uint64_t connects;	/* atomic: devices that came up */
	/* Timestamps for reconnection measurements (`iovmm bench reconnect`),
	 * CLOCK_MONOTONIC ns, 0 = not yet: the socket listening (main lcore,
	 * at start), and the first frame received since the device came up
	 * (written once by the owning lcore, reset by port_new_device before
	 * it publishes the device). `told` is the main lcore's: the connect
	 * count whose first frame it has reported. */
	uint64_t listen_ns;
	uint64_t first_rx_ns;
	uint64_t told;

	/* eth */
	uint16_t eth_id;
	bool eth_probed, eth_started;
};

/* Written by one forwarding lcore, read by the main lcore (relaxed). */
struct vsw_counters {
	uint64_t rx;		/* frames received from the port */
	uint64_t tx;		/* frames the port accepted */
	uint64_t drops;		/* frames for the port it could not take */
};

struct vsw_txbuf {
	uint16_t n;
	struct rte_mbuf *m[VSW_BURST];
};

struct vsw_lcore {
	struct vsw *v;
	unsigned widx;		/* forwarding index, also the RCU thread id */
	unsigned lcore_id;
	unsigned nowned;
	uint16_t owned[VSW_MAX_PORTS];
	uint32_t rr[VSW_MAX_PORTS];	/* vhost RX queue round-robin */
	struct vsw_txbuf tx[VSW_MAX_PORTS];
	struct vsw_counters cnt[VSW_MAX_PORTS];
} __rte_cache_aligned;

struct vsw {
	const struct vsw_config *cfg;
	unsigned nports;
	struct vsw_port ports[VSW_MAX_PORTS];
	struct rte_mempool *pool;
	struct vsw_l2 *l2;	/* l2 mode only */
	struct rte_rcu_qsbr *qs;
	unsigned nfwd;
	struct vsw_lcore *fwd[RTE_MAX_LCORE];
	uint64_t ms_div;	/* TSC ticks per millisecond */
	bool stop;		/* atomic: forwarding lcores return */
	/* Main lcore forwards too: called every few ms from its loop; a
	 * non-zero return stops forwarding. */
	int (*control)(struct vsw *v);
};

/* port.c */
/* Registers vhost-user sockets, probes/configures/starts ethdevs, creates
 * the cross-lcore rings. 0 or -errno with a reason in err. */
int vsw_ports_start(struct vsw *v, char *err, size_t errlen);
/* Unregisters the sockets (destroying live devices) and stops/closes the
 * ethdevs. Forwarding lcores must be stopped (offline). Idempotent. */
void vsw_ports_stop(struct vsw *v);
/* True when the port can take frames now (read by any thread). */
bool vsw_port_up(const struct vsw_port *p);

/* fwd.c */
/* Assigns ports to forwarding lcores and allocates their state. */
int vsw_fwd_setup(struct vsw *v, char *err, size_t errlen);
void vsw_fwd_free(struct vsw *v);
/* rte_eal_remote_launch() entry; arg is the struct vsw_lcore. */
int vsw_fwd_main(void *arg);

/* stats.c */
/* Prints one "TAG time=... port=N ..." line per port and a total line. */
void vsw_stats_print(struct vsw *v, const char *tag, double elapsed_s);
/* CLOCK_MONOTONIC in nanoseconds (comparable across processes). */
uint64_t vsw_mono_ns(void);
/* Prints a "vswitch-event: port=N first-frame mono_ns=T connects=C" line
 * for each port whose first frame since its latest connection has not
 * been reported yet (main lcore). */
void vsw_events_print(struct vsw *v);

#endif
