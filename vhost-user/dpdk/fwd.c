// SPDX-License-Identifier: MIT
/*
 * The forwarding lcores: burst RX from the ports an lcore owns, decide
 * (L2 learning or cross-connect), batch per destination, burst TX. No lock
 * and no atomic read-modify-write per frame (vswitch.h has the ownership
 * rules); per-port counters are per lcore and summed by the main lcore.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_vhost.h>

#include "vhost-user/dpdk/vswitch.h"

#define FWD_CONTROL_MS 5	/* main lcore forwarding: control cadence */

/* Single writer: a plain read and a relaxed store keep readers tear-free. */
static inline void fwd_count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* Transmit on a port this lcore owns; consumes every mbuf. */
static void fwd_port_tx(struct vsw_lcore *lc, struct vsw_port *p,
			struct rte_mbuf **m, uint16_t n)
{
	struct vsw_counters *c = &lc->cnt[p->idx];
	uint16_t sent = 0;

	if (p->cfg->kind == VSW_PORT_VHOST) {
		int vid = __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE);
		uint32_t on = __atomic_load_n(&p->rxq_on, __ATOMIC_RELAXED);

		if (vid >= 0 && on) {
			/* Spread bursts over the enabled guest RX queues. */
			unsigned q = lc->rr[p->idx]++ % p->nq;

			for (unsigned i = 0; i < p->nq && !(on & (1u << q)); i++)
				q = (q + 1) % p->nq;
			if (on & (1u << q))
				sent = rte_vhost_enqueue_burst(vid, (uint16_t)(2 * q), m, n);
		}
		/* rte_vhost copied what it took; the mbufs stay ours. */
		rte_pktmbuf_free_bulk(m, n);
	} else {
		if (__atomic_load_n(&p->eth_started, __ATOMIC_ACQUIRE))
			sent = rte_eth_tx_burst(p->eth_id, 0, m, n);
		if (sent < n)
			rte_pktmbuf_free_bulk(m + sent, n - sent);
	}
	fwd_count(&c->tx, sent);
	if (sent < n)
		fwd_count(&c->drops, n - sent);
}

static void fwd_flush(struct vsw_lcore *lc, unsigned dst)
{
	struct vsw_txbuf *b = &lc->tx[dst];
	struct vsw_port *p = &lc->v->ports[dst];
	unsigned done;

	if (!b->n)
		return;
	if (p->owner == lc->widx) {
		fwd_port_tx(lc, p, b->m, b->n);
	} else {
		done = rte_ring_mp_enqueue_burst(p->ring, (void **)b->m, b->n, NULL);
		if (done < b->n) {
			rte_pktmbuf_free_bulk(b->m + done, b->n - done);
			fwd_count(&lc->cnt[dst].drops, b->n - done);
		}
	}
	b->n = 0;
}

static inline void fwd_push(struct vsw_lcore *lc, unsigned dst,
			    struct rte_mbuf *m)
{
	struct vsw_txbuf *b = &lc->tx[dst];

	b->m[b->n++] = m;
	if (b->n == VSW_BURST)
		fwd_flush(lc, dst);
}

/* Every up port but `in` gets the frame (one mbuf, reference-counted). */
static void fwd_flood(struct vsw_lcore *lc, unsigned in, uint32_t up,
		      struct rte_mbuf *m)
{
	uint32_t targets = up & ~(1u << in);
	int n = __builtin_popcount(targets);

	if (!n) {
		rte_pktmbuf_free(m);
		return;
	}
	if (n > 1)
		rte_mbuf_refcnt_update(m, (int16_t)(n - 1));
	while (targets) {
		unsigned dst = (unsigned)__builtin_ctz(targets);

		targets &= targets - 1;
		fwd_push(lc, dst, m);
	}
}

static void fwd_l2(struct vsw_lcore *lc, unsigned in, uint32_t up,
		   uint64_t now, struct rte_mbuf **pkts, uint16_t n)
{
	struct vsw_l2 *l2 = lc->v->l2;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *eh;
		int dst;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		if (unlikely(rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN)) {
			rte_pktmbuf_free(m);	/* a runt: nothing to switch on */
			continue;
		}
		eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		if (likely(!rte_is_multicast_ether_addr(&eh->src_addr)))
			vsw_l2_learn(l2, eh->src_addr.addr_bytes, (uint16_t)in, now);
		if (rte_is_multicast_ether_addr(&eh->dst_addr) ||
		    (dst = vsw_l2_lookup(l2, eh->dst_addr.addr_bytes, now)) < 0) {
			fwd_flood(lc, in, up, m);
		} else if ((unsigned)dst == in) {
			/* Its station is on the port it came from (a hub or
			 * a loop behind that port): not ours to forward. */
			rte_pktmbuf_free(m);
		} else if (!(up & (1u << dst))) {
			rte_pktmbuf_free(m);
			fwd_count(&lc->cnt[dst].drops, 1);
		} else {
			fwd_push(lc, (unsigned)dst, m);
		}
	}
}

/* Burst RX from one port into pkts; returns the number received. */
static uint16_t fwd_port_rx(struct vsw_lcore *lc, struct vsw_port *p,
			    struct rte_mbuf **pkts)
{
	uint16_t n = 0;

	if (p->cfg->kind == VSW_PORT_VHOST) {
		int vid = __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE);
		uint32_t on;

		if (vid < 0)
			return 0;
		on = __atomic_load_n(&p->txq_on, __ATOMIC_RELAXED);
		for (unsigned q = 0; q < p->nq && n < VSW_BURST; q++)
			if (on & (1u << q))
				n += rte_vhost_dequeue_burst(vid, (uint16_t)(2 * q + 1),
							     lc->v->pool, pkts + n,
							     (uint16_t)(VSW_BURST - n));
	} else if (__atomic_load_n(&p->eth_started, __ATOMIC_ACQUIRE)) {
		for (unsigned q = 0; q < p->nq && n < VSW_BURST; q++)
			n += rte_eth_rx_burst(p->eth_id, (uint16_t)q, pkts + n,
					      (uint16_t)(VSW_BURST - n));
	}
	return n;
}

static uint32_t fwd_up_ports(const struct vsw *v)
{
	uint32_t up = 0;

	for (unsigned i = 0; i < v->nports; i++)
		if (vsw_port_up(&v->ports[i]))
			up |= 1u << i;
	return up;
}

/* One pass over the lcore's ports; returns the frames received. */
static unsigned fwd_poll(struct vsw_lcore *lc, uint64_t now)
{
	struct vsw *v = lc->v;
	struct rte_mbuf *pkts[VSW_BURST];
	uint32_t up = v->l2 ? fwd_up_ports(v) : 0;
	unsigned total = 0;

	for (unsigned k = 0; k < lc->nowned; k++) {
		unsigned in = lc->owned[k];
		struct vsw_port *p = &v->ports[in];
		uint16_t n = fwd_port_rx(lc, p, pkts);

		if (!n)
			continue;
		total += n;
		fwd_count(&lc->cnt[in].rx, n);
		if (unlikely(!__atomic_load_n(&p->first_rx_ns, __ATOMIC_RELAXED)))
			__atomic_store_n(&p->first_rx_ns, vsw_mono_ns(), __ATOMIC_RELAXED);
		if (v->l2) {
			fwd_l2(lc, in, up, now, pkts, n);
		} else {
			/* xconnect: the whole burst goes to the peer. */
			for (uint16_t i = 0; i < n; i++)
				fwd_push(lc, (unsigned)p->peer, pkts[i]);
		}
	}
	for (unsigned dst = 0; dst < v->nports; dst++)
		fwd_flush(lc, dst);
	/* Frames other lcores queued for our ports. */
	for (unsigned k = 0; k < lc->nowned; k++) {
		struct vsw_port *p = &v->ports[lc->owned[k]];
		unsigned n;

		if (!p->ring)
			continue;
		n = rte_ring_sc_dequeue_burst(p->ring, (void **)pkts, VSW_BURST, NULL);
		if (n)
			fwd_port_tx(lc, p, pkts, (uint16_t)n);
	}
	return total;
}

int vsw_fwd_main(void *arg)
{
	struct vsw_lcore *lc = arg;
	struct vsw *v = lc->v;
	uint64_t next_control = 0;

	rte_rcu_qsbr_thread_online(v->qs, lc->widx);
	fprintf(stderr, "iovmm-vswitch: lcore %u forwards %u port%s\n",
		lc->lcore_id, lc->nowned, lc->nowned == 1 ? "" : "s");
	while (!__atomic_load_n(&v->stop, __ATOMIC_RELAXED)) {
		uint64_t now = rte_rdtsc() / v->ms_div;

		fwd_poll(lc, now);
		/* Nothing of a device unpublished before this point is used
		 * after it (port_destroy_device waits for this). */
		rte_rcu_qsbr_quiescent(v->qs, lc->widx);
		if (v->control && now >= next_control) {
			next_control = now + FWD_CONTROL_MS;
			if (v->control(v))
				break;
		}
	}
	/* Offline: a device may now go away without waiting for us. */
	rte_rcu_qsbr_thread_offline(v->qs, lc->widx);
	return 0;
}

int vsw_fwd_setup(struct vsw *v, char *err, size_t errlen)
{
	unsigned lcore, n = 0, ids[RTE_MAX_LCORE];
	size_t sz;

	RTE_LCORE_FOREACH_WORKER(lcore)
		ids[n++] = lcore;
	if (!n)
		ids[n++] = rte_get_main_lcore();
	v->nfwd = n;
	for (unsigned i = 0; i < n; i++) {
		struct vsw_lcore *lc = rte_zmalloc("vsw_lcore", sizeof(*lc),
						   RTE_CACHE_LINE_SIZE);
		if (!lc) {
			snprintf(err, errlen, "out of memory for lcore state");
			return -ENOMEM;
		}
		lc->v = v;
		lc->widx = i;
		lc->lcore_id = ids[i];
		v->fwd[i] = lc;
	}
	/* Round-robin: port i is polled and transmitted on by lcore i % n. */
	for (unsigned i = 0; i < v->nports; i++) {
		struct vsw_lcore *lc = v->fwd[i % n];

		v->ports[i].owner = lc->widx;
		lc->owned[lc->nowned++] = (uint16_t)i;
	}
	sz = rte_rcu_qsbr_get_memsize(n);
	v->qs = rte_zmalloc("vsw_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (!v->qs || rte_rcu_qsbr_init(v->qs, n)) {
		snprintf(err, errlen, "cannot set up RCU state");
		return -ENOMEM;
	}
	/* Registered (but offline) before any device can appear, so a
	 * destroy_device racing with an lcore's start is still covered. */
	for (unsigned i = 0; i < n; i++)
		rte_rcu_qsbr_thread_register(v->qs, i);
	return 0;
}

void vsw_fwd_free(struct vsw *v)
{
	for (unsigned i = 0; i < v->nfwd; i++) {
		rte_free(v->fwd[i]);
		v->fwd[i] = NULL;
	}
	v->nfwd = 0;
	rte_free(v->qs);
	v->qs = NULL;
}
