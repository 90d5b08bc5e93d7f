// SPDX-License-Identifier: MIT
/*
 * Ports: vhost-user sockets served by rte_vhost and any ethdev (a vdev or
 * a PCI device). vhost devices come and go while the switch runs; their
 * callbacks run on rte_vhost's control thread and publish/unpublish the
 * device for the forwarding lcores (see vswitch.h).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_pci.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_vhost.h>

#include "vhost-user/dpdk/vswitch.h"

#define PORT_MAX_VID 1024	/* rte_vhost's MAX_VHOST_DEVICE */

/* rte_vhost callbacks carry only a vid: the switch they belong to. */
static struct vsw *port_vsw;
/* vid -> port index + 1 (0: unknown), set when a connection opens. Written
 * and read only by rte_vhost's control thread. */
static uint8_t port_of_vid[PORT_MAX_VID];

/*
 * Offloads the switch does not carry between ports: a TSO super-frame or a
 * frame with a partial checksum from one guest would reach a port (an
 * ethdev, a guest without the matching feature) that cannot take it. Every
 * frame on the wire of this switch is a complete Ethernet frame.
 */
static const uint64_t port_no_features =
	1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM |
	1ULL << VIRTIO_NET_F_HOST_TSO4 | 1ULL << VIRTIO_NET_F_HOST_TSO6 |
	1ULL << VIRTIO_NET_F_HOST_ECN | 1ULL << VIRTIO_NET_F_HOST_UFO |
	1ULL << VIRTIO_NET_F_GUEST_TSO4 | 1ULL << VIRTIO_NET_F_GUEST_TSO6 |
	1ULL << VIRTIO_NET_F_GUEST_ECN | 1ULL << VIRTIO_NET_F_GUEST_UFO;

bool vsw_port_up(const struct vsw_port *p)
{
	if (p->cfg->kind == VSW_PORT_ETH)
		return p->eth_started;
	return __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE) >= 0 &&
	       __atomic_load_n(&p->rxq_on, __ATOMIC_RELAXED) != 0;
}

static struct vsw_port *port_by_vid(int vid)
{
	char path[VSW_DEVARGS_MAX];
	struct vsw *v = port_vsw;

	if (!v || vid < 0)
		return NULL;
	if (vid < PORT_MAX_VID && port_of_vid[vid])
		return &v->ports[port_of_vid[vid] - 1];
	if (rte_vhost_get_ifname(vid, path, sizeof(path)) < 0)
		return NULL;
	for (unsigned i = 0; i < v->nports; i++)
		if (v->cfg->ports[i].kind == VSW_PORT_VHOST &&
		    !strcmp(v->cfg->ports[i].path, path))
			return &v->ports[i];
	return NULL;
}

static int port_new_connection(int vid)
{
	struct vsw_port *p;

	if (vid >= PORT_MAX_VID)
		return 0;
	port_of_vid[vid] = 0;
	p = port_by_vid(vid);
	if (!p)
		return 0;
	port_of_vid[vid] = (uint8_t)(p->idx + 1);
	/* A fresh connection: forget the previous one's queue state, unless
	 * a device is still running on this port (a second frontend on a
	 * server socket: it is refused in port_new_device()). */
	if (__atomic_load_n(&p->vid, __ATOMIC_ACQUIRE) < 0) {
		__atomic_store_n(&p->rxq_on, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&p->txq_on, 0, __ATOMIC_RELAXED);
	}
	return 0;
}

static void port_destroy_connection(int vid)
{
	if (vid >= 0 && vid < PORT_MAX_VID)
		port_of_vid[vid] = 0;
}

static int port_vring_state_changed(int vid, uint16_t vring, int enable)
{
	struct vsw_port *p = port_by_vid(vid);
	int cur;
	uint32_t bit, *map;

	if (!p || vring / 2 >= VSW_MAX_QUEUES)
		return 0;
	cur = __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE);
	if (cur >= 0 && cur != vid)
		return 0;	/* not the connection this port serves */
	bit = 1u << (vring / 2);
	map = vring % 2 ? &p->txq_on : &p->rxq_on;
	if (enable)
		__atomic_fetch_or(map, bit, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(map, ~bit, __ATOMIC_RELEASE);
	return 0;
}

static int port_new_device(int vid)
{
	struct vsw_port *p = port_by_vid(vid);
	uint64_t features = 0;
	uint16_t nvrings;
	uint32_t all;

	if (!p) {
		fprintf(stderr, "iovmm-vswitch: vhost device %d on an unknown socket\n", vid);
		return -1;
	}
	if (__atomic_load_n(&p->vid, __ATOMIC_ACQUIRE) >= 0) {
		fprintf(stderr, "iovmm-vswitch: port %u (%s): refusing a second frontend\n",
			p->idx, p->cfg->spec);
		return -1;
	}
	rte_vhost_get_negotiated_features(vid, &features);
	nvrings = rte_vhost_get_vring_num(vid);
	p->nq = RTE_MIN(p->cfg->queues, (unsigned)nvrings / 2);
	if (!p->nq)
		p->nq = 1;
	all = (1u << p->nq) - 1;
	/* Without VHOST_USER_F_PROTOCOL_FEATURES rings start enabled and no
	 * SET_VRING_ENABLE follows (vhost-user spec, "Ring states"). */
	if (!(features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES))) {
		__atomic_store_n(&p->rxq_on, all, __ATOMIC_RELAXED);
		__atomic_store_n(&p->txq_on, all, __ATOMIC_RELAXED);
	}
	/* The lcores poll: the guest need not kick (best effort: a frontend
	 * may ignore VRING_USED_F_NO_NOTIFY / the avail event). */
	for (uint16_t q = 0; q < nvrings && q < 2 * VSW_MAX_QUEUES; q++)
		rte_vhost_enable_guest_notification(vid, q, 0);
	__atomic_store_n(&p->first_rx_ns, 0, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->connects, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&p->vid, vid, __ATOMIC_RELEASE);
	fprintf(stderr, "iovmm-vswitch: port %u (%s): device up (vid %d, %u queue pair%s, features 0x%llx)\n",
		p->idx, p->cfg->spec, vid, p->nq, p->nq == 1 ? "" : "s",
		(unsigned long long)features);
	printf("vswitch-event: port=%u device-up mono_ns=%" PRIu64 "\n", p->idx,
	       vsw_mono_ns());
	fflush(stdout);
	return 0;
}

static void port_destroy_device(int vid)
{
	struct vsw_port *p = port_by_vid(vid);
	struct vsw *v = port_vsw;

	if (!p || __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE) != vid)
		return;
	__atomic_store_n(&p->vid, -1, __ATOMIC_RELEASE);
	/* rte_vhost frees the device when we return: wait until no lcore can
	 * still be inside an enqueue/dequeue on it. Every lcore reports a
	 * quiescent state once per polling loop (or is offline). */
	rte_rcu_qsbr_synchronize(v->qs, RTE_QSBR_THRID_INVALID);
	__atomic_store_n(&p->rxq_on, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->txq_on, 0, __ATOMIC_RELAXED);
	if (v->l2)
		vsw_l2_flush_port(v->l2, (uint16_t)p->idx);
	fprintf(stderr, "iovmm-vswitch: port %u (%s): device down (vid %d)\n",
		p->idx, p->cfg->spec, vid);
}

static const struct rte_vhost_device_ops port_vhost_ops = {
	.new_device = port_new_device,
	.destroy_device = port_destroy_device,
	.vring_state_changed = port_vring_state_changed,
	.new_connection = port_new_connection,
	.destroy_connection = port_destroy_connection,
};

static int port_vhost_start(struct vsw_port *p, char *err, size_t errlen)
{
	const struct vsw_port_cfg *c = p->cfg;
	uint64_t flags = c->server ? 0 : RTE_VHOST_USER_CLIENT;
	/* main.c ran vsw_socket_check() before the EAL started. */
	if (rte_vhost_driver_register(c->path, flags)) {
		snprintf(err, errlen, "%s: rte_vhost cannot register the socket", c->spec);
		return -EINVAL;
	}
	p->registered = true;
	if (rte_vhost_driver_disable_features(c->path, port_no_features) ||
	    rte_vhost_driver_callback_register(c->path, &port_vhost_ops)) {
		snprintf(err, errlen, "%s: rte_vhost set-up failed", c->spec);
		return -EINVAL;
	}
	if (rte_vhost_driver_start(c->path)) {
		snprintf(err, errlen, "%s: cannot %s %s (see the vhost log above)",
			 c->spec, c->server ? "listen on" : "connect to", c->path);
		return -EIO;
	}
	if (c->server) {
		p->listen_ns = vsw_mono_ns();
		printf("vswitch-event: port=%u listening mono_ns=%" PRIu64 "\n",
		       p->idx, p->listen_ns);
		fflush(stdout);
	}
	return 0;
}

/* The ethdev name rte_dev_probe() gives a devargs string. */
static void port_eth_name(const struct vsw_port_cfg *c, char *name, size_t len)
{
	struct rte_pci_addr addr;
	const char *comma = strchr(c->path, ',');
	size_t n = comma ? (size_t)(comma - c->path) : strlen(c->path);

	snprintf(name, len, "%.*s", (int)n, c->path);
	if (c->is_pci && rte_pci_addr_parse(name, &addr) == 0)
		rte_pci_device_name(&addr, name, len);
}

static int port_eth_configure(struct vsw_port *p, struct vsw *v, char *err,
			      size_t errlen)
{
	const struct vsw_port_cfg *c = p->cfg;
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t nrx = VSW_ETH_DESC, ntx = VSW_ETH_DESC;
	int ret;

	ret = rte_eth_dev_info_get(p->eth_id, &info);
	if (ret)
		goto fail;
	if (c->queues > info.max_rx_queues || info.max_tx_queues < 1) {
		snprintf(err, errlen, "%s: has %u RX queues, %u asked", c->spec,
			 info.max_rx_queues, c->queues);
		return -EINVAL;
	}
	p->nq = c->queues;
	if (p->nq > 1)
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	ret = rte_eth_dev_configure(p->eth_id, (uint16_t)p->nq, 1, &conf);
	if (!ret)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(p->eth_id, &nrx, &ntx);
	for (unsigned q = 0; !ret && q < p->nq; q++)
		ret = rte_eth_rx_queue_setup(p->eth_id, (uint16_t)q, nrx,
					     rte_eth_dev_socket_id(p->eth_id),
					     NULL, v->pool);
	if (!ret)
		ret = rte_eth_tx_queue_setup(p->eth_id, 0, ntx,
					     rte_eth_dev_socket_id(p->eth_id), NULL);
	if (ret)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: cannot configure: %s", c->spec, rte_strerror(-ret));
	return ret;
}

static int port_eth_start(struct vsw_port *p, struct vsw *v, char *err,
			  size_t errlen)
{
	const struct vsw_port_cfg *c = p->cfg;
	char name[RTE_ETH_NAME_MAX_LEN];
	int ret;

	ret = rte_dev_probe(c->path);
	if (ret && ret != -EEXIST) {
		snprintf(err, errlen,
			 "%s: cannot attach the device (%s): check the driver name and its arguments",
			 c->spec, rte_strerror(-ret));
		return ret;
	}
	port_eth_name(c, name, sizeof(name));
	if (rte_eth_dev_get_port_by_name(name, &p->eth_id)) {
		snprintf(err, errlen, "%s: attached, but no ethdev named %s", c->spec, name);
		return -ENODEV;
	}
	p->eth_probed = true;	/* closed at exit whoever probed it */
	ret = port_eth_configure(p, v, err, errlen);
	if (ret)
		return ret;
	ret = rte_eth_dev_start(p->eth_id);
	if (ret) {
		snprintf(err, errlen, "%s: will not start: %s", c->spec, rte_strerror(-ret));
		return ret;
	}
	/* A switch port sees every frame; some PMDs (net_ring) have no such
	 * mode and need none. */
	ret = rte_eth_promiscuous_enable(p->eth_id);
	if (ret && ret != -ENOTSUP)
		fprintf(stderr, "iovmm-vswitch: %s: promiscuous mode: %s\n", c->spec,
			rte_strerror(-ret));
	__atomic_store_n(&p->eth_started, true, __ATOMIC_RELEASE);
	return 0;
}

static int port_ring(struct vsw_port *p, char *err, size_t errlen)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "vsw_tx%u", p->idx);
	p->ring = rte_ring_create(name, VSW_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (!p->ring) {
		snprintf(err, errlen, "%s: cannot create its TX ring: %s",
			 p->cfg->spec, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

/*
 * DPDK 22.11 quirk: rte_vhost's "vhost-events" thread polls a list of fds
 * it rebuilds once per poll() of up to one second, and a server socket
 * added by rte_vhost_driver_start() does not wake it (fd_man.c's
 * fdset_add() writes nothing to the notify pipe; later DPDK releases
 * queue the add through that pipe). Started right after the thread
 * itself, the listening socket was first polled ~1 s later, so a front end
 * connecting to a freshly (re)started switch waited up to a second before
 * its first message was read: measured with `iovmm bench reconnect`
 * (docs/benchmarks.md), where it was most of the reconnection time.
 * A signal with a no-op handler makes the thread's poll() return EINTR
 * (never restarted, signal(7)), and its next pass includes the socket.
 * Two pokes a few ms apart cover a thread caught between building its
 * list and entering poll().
 */
static void port_noop_handler(int sig)
{
	(void)sig;
}

static void port_wake_vhost_events(void)
{
	struct sigaction sa = { .sa_handler = port_noop_handler };
	char path[300], comm[32];
	struct dirent *d;
	DIR *dir;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGURG, &sa, NULL))
		return;
	dir = opendir("/proc/self/task");
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "vhost-events", 12)) {
			pid_t tid = (pid_t)atoi(d->d_name);

			for (int i = 0; i < 2; i++) {
				syscall(SYS_tgkill, getpid(), tid, SIGURG);
				usleep(2000);
			}
		}
		fclose(f);
	}
	closedir(dir);
}

int vsw_ports_start(struct vsw *v, char *err, size_t errlen)
{
	bool server = false;
	int ret;

	port_vsw = v;
	for (unsigned i = 0; i < v->nports; i++) {
		struct vsw_port *p = &v->ports[i];

		if (v->nfwd > 1 && (ret = port_ring(p, err, errlen)))
			return ret;
		if (p->cfg->kind == VSW_PORT_VHOST)
			ret = port_vhost_start(p, err, errlen);
		else
			ret = port_eth_start(p, v, err, errlen);
		if (ret)
			return ret;
		server |= p->cfg->kind == VSW_PORT_VHOST && p->cfg->server;
	}
	if (server)
		port_wake_vhost_events();
	return 0;
}

void vsw_ports_stop(struct vsw *v)
{
	for (unsigned i = 0; i < v->nports; i++) {
		struct vsw_port *p = &v->ports[i];

		if (p->registered) {
			/* Destroys a live device (port_destroy_device runs here:
			 * every lcore is offline, so the RCU wait is immediate). */
			rte_vhost_driver_unregister(p->cfg->path);
			p->registered = false;
		}
		if (p->eth_started) {
			__atomic_store_n(&p->eth_started, false, __ATOMIC_RELEASE);
			rte_eth_dev_stop(p->eth_id);
		}
		if (p->eth_probed) {
			rte_eth_dev_close(p->eth_id);
			p->eth_probed = false;
		}
		rte_ring_free(p->ring);
		p->ring = NULL;
	}
}
