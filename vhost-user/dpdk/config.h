/* SPDX-License-Identifier: MIT */
/*
 * iovmm-vswitch's typed configuration, parsed once from the application
 * arguments (the words after the EAL's "--"). Pure C, no DPDK: the parser is
 * unit-tested without an EAL (tests/integ/vswitch/test_vswitch_config.c).
 */
#ifndef IOVMM_VSW_CONFIG_H
#define IOVMM_VSW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

#define VSW_MAX_PORTS 32
#define VSW_MAX_QUEUES 8	/* queue pairs per port */
#define VSW_DEVARGS_MAX 256
#define VSW_SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path))

enum vsw_port_kind {
	VSW_PORT_VHOST,		/* vhost-user socket served by rte_vhost */
	VSW_PORT_ETH,		/* any ethdev: a vdev (net_tap0,...) or a PCI address */
};

enum vsw_mode {
	VSW_MODE_L2,		/* MAC learning switch, flood unknown/broadcast */
	VSW_MODE_XCONNECT,	/* fixed pairs; a port paired with itself is a loopback */
};

struct vsw_port_cfg {
	enum vsw_port_kind kind;
	char spec[VSW_DEVARGS_MAX + 16];	/* as given, for messages */
	/* vhost: socket path; eth: devargs handed to rte_dev_probe(). */
	char path[VSW_DEVARGS_MAX];
	bool server;		/* vhost: listen (default) or connect */
	bool is_pci;		/* eth: the devargs name a PCI address */
	unsigned queues;	/* queue pairs polled, 1..VSW_MAX_QUEUES */
};

struct vsw_config {
	unsigned nports;
	struct vsw_port_cfg ports[VSW_MAX_PORTS];
	enum vsw_mode mode;
	/* xconnect: peer[i] is the port frames received on port i go to. */
	int peer[VSW_MAX_PORTS];
	double stats_period;	/* seconds, 0 = only at exit */
	unsigned age_s;		/* L2 entry lifetime, 0 = never ages */
	unsigned mac_entries;	/* L2 table capacity */
	unsigned mbufs;		/* mbuf pool size, 0 = derived from the ports */
	bool hugepages;		/* let the EAL use hugepages (no --no-huge) */
};

/*
 * Parses the application arguments argv[0..argc) (argv[0] is a program
 * name, skipped). Fills `cfg` with defaults first. Returns 0, 1 when --help
 * was asked (usage printed on stdout), or -EINVAL with a one-line reason in
 * `err` (no trailing newline). Checks that xconnect pairs name existing
 * ports, each port at most once, and that every port is connected in
 * xconnect mode. Does not touch the file system (see vsw_socket_check()).
 */
int vsw_config_parse(int argc, char **argv, struct vsw_config *cfg,
		     char *err, size_t errlen);

/* The usage text for the application arguments. */
extern const char vsw_usage[];

/*
 * Checks a vhost-user socket path before rte_vhost sees it, so a bad path
 * is a clear start-up error instead of a log line from a library thread:
 * the directory must exist; a server's path must not be taken by a file
 * that is not a socket nor by a socket someone is listening on (a stale
 * socket, left by a process that died, is removed). A client's socket may
 * not exist yet (rte_vhost keeps reconnecting). Returns 0 or -errno with a
 * reason in `err`.
 */
int vsw_socket_check(const struct vsw_port_cfg *p, char *err, size_t errlen);

#endif
