// SPDX-License-Identifier: MIT
/*
 * iovmm-vswitch: main. Order: application arguments and socket paths are
 * checked first (exit 2, before any EAL output), then the EAL starts with
 * defaults that suit a switch next to a VMM (--no-huge, --in-memory, no PCI
 * scan unless a PCI port is asked for), then the pool, forwarding lcores
 * and ports. SIGINT/SIGTERM are blocked in every thread (the EAL's threads
 * inherit the mask) and taken synchronously by the main lcore.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "vhost-user/dpdk/vswitch.h"

#define MAIN_EAL_EXTRA 8
#define MAIN_MBUF_CACHE 256

static sigset_t main_signals;
static double main_t0, main_next_stats;

static double main_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* True when any of `names` ("-m" also matches "-m512") is among args. */
static bool main_has(int argc, char **argv, const char *const *names)
{
	for (int i = 1; i < argc; i++) {
		for (const char *const *n = names; *n; n++) {
			size_t len = strlen(*n);

			if (!strncmp(argv[i], *n, len) &&
			    (argv[i][len] == '\0' || argv[i][len] == '=' ||
			     ((*n)[1] != '-' && len == 2)))
				return true;
		}
	}
	return false;
}

/* EAL argv: the user's EAL words plus the defaults they did not override. */
static int main_eal_args(int argc, char **argv, const struct vsw_config *cfg,
			 char **out)
{
	static const char *const huge[] = { "--no-huge", NULL };
	static const char *const mem[] = { "-m", "--socket-mem", NULL };
	static const char *const shconf[] = { "--in-memory", "--file-prefix",
					      "--no-shconf", NULL };
	static const char *const pci[] = { "-a", "--allow", "-b", "--block",
					   "--no-pci", NULL };
	int n = 0;

	for (int i = 0; i < argc; i++)
		out[n++] = argv[i];
	if (!cfg->hugepages && !main_has(argc, argv, huge))
		out[n++] = "--no-huge";
	if (!cfg->hugepages && !main_has(argc, argv, mem)) {
		out[n++] = "-m";
		out[n++] = "256";
	}
	/* Several DPDK processes (testpmd, another switch) share a host:
	 * no runtime files unless the user names a prefix. */
	if (!main_has(argc, argv, shconf))
		out[n++] = main_has(argc, argv, huge) || !cfg->hugepages ?
				   "--no-shconf" :	/* --in-memory needs hugepages */
				   "--in-memory";
	if (!main_has(argc, argv, pci)) {
		bool any_pci = false;

		for (unsigned i = 0; i < cfg->nports; i++)
			any_pci |= cfg->ports[i].kind == VSW_PORT_ETH &&
				   cfg->ports[i].is_pci;
		/* Only the asked-for PCI devices; rte_dev_probe() attaches
		 * them (an EAL scan would grab every vfio-bound device). */
		if (!any_pci)
			out[n++] = "--no-pci";
	}
	out[n] = NULL;
	return n;
}

static unsigned main_mbufs(const struct vsw_config *cfg, unsigned nfwd)
{
	unsigned n = 4096 + nfwd * (MAIN_MBUF_CACHE * 2 + VSW_MAX_PORTS * VSW_BURST);

	if (cfg->mbufs)
		return cfg->mbufs;
	for (unsigned i = 0; i < cfg->nports; i++) {
		n += VSW_RING_SIZE;
		if (cfg->ports[i].kind == VSW_PORT_ETH)
			n += cfg->ports[i].queues * VSW_ETH_DESC + VSW_ETH_DESC;
	}
	return n < 8192 ? 8192 : n;
}

/* 1 when a stop signal is pending; prints statistics when due. */
static int main_control_step(struct vsw *v, double wait_s)
{
	struct timespec ts = {
		.tv_sec = (time_t)wait_s,
		.tv_nsec = (long)((wait_s - (double)(time_t)wait_s) * 1e9),
	};
	double now;
	int sig = sigtimedwait(&main_signals, NULL, &ts);

	if (sig == SIGINT || sig == SIGTERM) {
		fprintf(stderr, "iovmm-vswitch: %s, stopping\n", strsignal(sig));
		return 1;
	}
	now = main_now();
	vsw_events_print(v);
	if (v->cfg->stats_period > 0 && now >= main_next_stats) {
		vsw_stats_print(v, "vswitch-stats:", now - main_t0);
		main_next_stats += v->cfg->stats_period;
		if (main_next_stats < now)
			main_next_stats = now + v->cfg->stats_period;
	}
	return 0;
}

/* The main lcore forwards: a non-blocking look every few ms. */
static int main_control_poll(struct vsw *v)
{
	return main_control_step(v, 0);
}

static void main_run(struct vsw *v)
{
	main_t0 = main_now();
	main_next_stats = main_t0 + v->cfg->stats_period;
	if (v->fwd[0]->lcore_id == rte_get_main_lcore()) {
		v->control = main_control_poll;
		vsw_fwd_main(v->fwd[0]);
		return;
	}
	for (unsigned i = 0; i < v->nfwd; i++)
		rte_eal_remote_launch(vsw_fwd_main, v->fwd[i], v->fwd[i]->lcore_id);
	for (;;) {
		double wait = 0.2;

		if (v->cfg->stats_period > 0) {
			wait = main_next_stats - main_now();
			wait = wait < 0 ? 0 : wait > 0.2 ? 0.2 : wait;
		}
		if (main_control_step(v, wait))
			break;
	}
	__atomic_store_n(&v->stop, true, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
}

static int main_setup(struct vsw *v, const struct vsw_config *cfg)
{
	char err[512] = "";
	unsigned nmbufs;
	int ret;

	v->cfg = cfg;
	v->nports = cfg->nports;
	for (unsigned i = 0; i < cfg->nports; i++) {
		v->ports[i].idx = i;
		v->ports[i].cfg = &cfg->ports[i];
		v->ports[i].peer = cfg->mode == VSW_MODE_XCONNECT ? cfg->peer[i] : -1;
		v->ports[i].vid = -1;
		v->ports[i].nq = cfg->ports[i].queues;
	}
	v->ms_div = rte_get_tsc_hz() / 1000;
	if (!v->ms_div)
		v->ms_div = 1;
	if (cfg->mode == VSW_MODE_L2 &&
	    (ret = vsw_l2_create(cfg->mac_entries, (uint64_t)cfg->age_s * 1000, &v->l2))) {
		fprintf(stderr, "iovmm-vswitch: MAC table: %s\n", strerror(-ret));
		return 1;
	}
	ret = vsw_fwd_setup(v, err, sizeof(err));
	if (ret)
		goto fail;
	nmbufs = main_mbufs(cfg, v->nfwd);
	v->pool = rte_pktmbuf_pool_create("vsw_mbufs", nmbufs, MAIN_MBUF_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!v->pool) {
		snprintf(err, sizeof(err), "cannot create %u mbufs: %s (raise -m or --mbufs less)",
			 nmbufs, rte_strerror(rte_errno));
		goto fail;
	}
	ret = vsw_ports_start(v, err, sizeof(err));
	if (ret)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "iovmm-vswitch: %s\n", err);
	return 1;
}

static void main_teardown(struct vsw *v)
{
	vsw_ports_stop(v);
	vsw_fwd_free(v);
	rte_mempool_free(v->pool);
	v->pool = NULL;
	vsw_l2_destroy(v->l2);
	v->l2 = NULL;
}

/* Splits argv at "--": EAL words before, application words after (all
 * words are the application's when there is no "--"). */
static void main_split(int argc, char **argv, int *eal_argc, char ***app_argv,
		       int *app_argc)
{
	int sep = -1;

	for (int i = 1; i < argc && sep < 0; i++)
		if (!strcmp(argv[i], "--"))
			sep = i;
	if (sep < 0) {
		*eal_argc = 1;
		*app_argv = argv;
		*app_argc = argc;
		return;
	}
	*eal_argc = sep;
	/* The application parser skips word 0: reuse "--" as it. */
	*app_argv = argv + sep;
	*app_argc = argc - sep;
}

static int main_check_sockets(const struct vsw_config *cfg)
{
	char err[512];

	for (unsigned i = 0; i < cfg->nports; i++) {
		if (cfg->ports[i].kind != VSW_PORT_VHOST)
			continue;
		if (vsw_socket_check(&cfg->ports[i], err, sizeof(err))) {
			fprintf(stderr, "iovmm-vswitch: %s\n", err);
			return -EINVAL;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct vsw_config cfg;
	static struct vsw v;
	char **eal_argv, **app_argv, err[512];
	int eal_argc, app_argc, ret;

	main_split(argc, argv, &eal_argc, &app_argv, &app_argc);
	ret = vsw_config_parse(app_argc, app_argv, &cfg, err, sizeof(err));
	if (ret)
		return ret > 0 ? 0 : (fprintf(stderr, "iovmm-vswitch: %s\n%s", err,
					      "(EAL arguments go before \"--\"; see --help)\n"), 2);
	if (main_check_sockets(&cfg))
		return 2;
	sigemptyset(&main_signals);
	sigaddset(&main_signals, SIGINT);
	sigaddset(&main_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &main_signals, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a frontend that vanishes mid-reply */

	eal_argv = calloc((size_t)argc + MAIN_EAL_EXTRA + 1, sizeof(*eal_argv));
	if (!eal_argv)
		return 1;
	eal_argc = main_eal_args(eal_argc, argv, &cfg, eal_argv);
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "iovmm-vswitch: EAL initialisation failed: %s%s\n",
			rte_strerror(rte_errno),
			cfg.hugepages ? " (--hugepages: is a pool reserved in "
					"/proc/sys/vm/nr_hugepages?)" : "");
		free(eal_argv);
		return 2;
	}
	ret = main_setup(&v, &cfg);
	if (!ret) {
		printf("iovmm-vswitch: ready: %u port%s, mode %s, %u forwarding lcore%s\n",
		       cfg.nports, cfg.nports == 1 ? "" : "s",
		       cfg.mode == VSW_MODE_L2 ? "l2" : "xconnect", v.nfwd,
		       v.nfwd == 1 ? "" : "s");
		fflush(stdout);
		main_run(&v);
		vsw_stats_print(&v, "vswitch-final:", main_now() - main_t0);
	}
	main_teardown(&v);
	rte_eal_cleanup();
	free(eal_argv);
	return ret ? 1 : 0;
}
