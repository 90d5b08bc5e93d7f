// SPDX-License-Identifier: MIT
/*
 * iovmm-vswitch application arguments -> struct vsw_config. No DPDK here:
 * this runs before rte_eal_init(), so a usage error costs no EAL start-up
 * and prints no EAL noise.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost-user/dpdk/config.h"

const char vsw_usage[] =
	"usage: iovmm-vswitch [EAL args] -- --port SPEC [--port SPEC ...]\n"
	"           [--mode l2|xconnect|loopback] [--xconnect A:B[,C:D...]]\n"
	"           [--stats-period S] [--age S] [--mac-entries N] [--mbufs N]\n"
	"           [--hugepages]\n"
	"Port SPECs (ports are numbered from 0 in the order given):\n"
	"  vhost:PATH[,server|client][,queues=N]  vhost-user socket (default\n"
	"      server: iovmm-vswitch listens; client: it connects and reconnects)\n"
	"  eth:DEVARGS   any DPDK ethdev: a vdev (eth:net_tap0,iface=t0,\n"
	"      eth:net_af_packet0,iface=eth0, eth:net_ring0) or a PCI address\n"
	"      (eth:0000:03:00.0, a device bound to vfio-pci)\n"
	"Modes: l2 (default) learns source MACs, forwards known unicast to its\n"
	"  port and floods broadcast/multicast/unknown to every other port that\n"
	"  is up; xconnect forwards each port to its fixed peer (--xconnect 0:1,\n"
	"  default pairs 0:1, 2:3, ...; 0:0 sends a port's frames back to it);\n"
	"  loopback pairs every port with itself.\n"
	"--stats-period S  print per-port counters every S seconds (default 0:\n"
	"                  only at exit)\n"
	"--age S           forget a MAC not seen for S seconds (default 300, 0 =\n"
	"                  never)\n"
	"--hugepages       let the EAL use hugepages (default: --no-huge, guest\n"
	"                  memory comes from the VMM)\n"
	"Exit status: 0 after SIGINT/SIGTERM, 1 a port failed to start, 2 bad\n"
	"arguments (EAL or application) or socket path.\n";

__attribute__((format(printf, 3, 4)))
static int cfg_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Decimal unsigned in [min, max]; 0 or -EINVAL. */
static int cfg_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* "DDDD:BB:DD.F" or "BB:DD.F" (hex), optionally followed by ",args". */
static bool cfg_is_pci(const char *s)
{
	unsigned a, b, c, d;
	int n = 0;

	if (sscanf(s, "%4x:%2x:%2x.%1x%n", &a, &b, &c, &d, &n) == 4 &&
	    (s[n] == '\0' || s[n] == ','))
		return true;
	n = 0;
	return sscanf(s, "%2x:%2x.%1x%n", &a, &b, &c, &n) == 3 &&
	       (s[n] == '\0' || s[n] == ',');
}

static int cfg_vhost_opt(const char *opt, struct vsw_port_cfg *p, char *err,
			 size_t errlen)
{
	if (!strcmp(opt, "server")) {
		p->server = true;
	} else if (!strcmp(opt, "client")) {
		p->server = false;
	} else if (!strncmp(opt, "queues=", 7)) {
		if (cfg_uint(opt + 7, 1, VSW_MAX_QUEUES, &p->queues))
			return cfg_fail(err, errlen,
					"--port %s: queues must be 1 to %d",
					p->spec, VSW_MAX_QUEUES);
	} else {
		return cfg_fail(err, errlen,
				"--port %s: unknown vhost option '%s' (server, client, queues=N)",
				p->spec, opt);
	}
	return 0;
}

/* vhost:PATH[,server|client][,queues=N]; the path itself has no comma. */
static int cfg_vhost_port(const char *rest, struct vsw_port_cfg *p, char *err,
			  size_t errlen)
{
	char buf[sizeof(p->spec)], *save = NULL, *tok;
	int ret;

	snprintf(buf, sizeof(buf), "%s", rest);
	tok = strtok_r(buf, ",", &save);
	if (!tok || rest[0] == ',')
		return cfg_fail(err, errlen, "--port %s: no socket path", p->spec);
	if (strlen(tok) >= VSW_SUN_PATH_MAX)
		return cfg_fail(err, errlen,
				"--port %s: socket path longer than %zu bytes",
				p->spec, VSW_SUN_PATH_MAX - 1);
	snprintf(p->path, sizeof(p->path), "%s", tok);
	p->server = true;
	while ((tok = strtok_r(NULL, ",", &save))) {
		ret = cfg_vhost_opt(tok, p, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

static int cfg_port(const char *spec, struct vsw_config *cfg, char *err,
		    size_t errlen)
{
	struct vsw_port_cfg *p;

	if (cfg->nports >= VSW_MAX_PORTS)
		return cfg_fail(err, errlen, "at most %d ports", VSW_MAX_PORTS);
	if (strlen(spec) >= VSW_DEVARGS_MAX)
		return cfg_fail(err, errlen, "--port %.40s...: too long", spec);
	p = &cfg->ports[cfg->nports];
	memset(p, 0, sizeof(*p));
	snprintf(p->spec, sizeof(p->spec), "%s", spec);
	p->queues = 1;
	if (!strncmp(spec, "vhost:", 6)) {
		p->kind = VSW_PORT_VHOST;
		int ret = cfg_vhost_port(spec + 6, p, err, errlen);
		if (ret)
			return ret;
	} else if (!strncmp(spec, "eth:", 4)) {
		p->kind = VSW_PORT_ETH;
		if (!spec[4] || spec[4] == ',')
			return cfg_fail(err, errlen, "--port %s: no device", spec);
		snprintf(p->path, sizeof(p->path), "%s", spec + 4);
		p->is_pci = cfg_is_pci(p->path);
	} else {
		return cfg_fail(err, errlen,
				"--port %s: expected vhost:PATH or eth:DEVARGS", spec);
	}
	for (unsigned i = 0; i < cfg->nports; i++)
		if (cfg->ports[i].kind == p->kind && !strcmp(cfg->ports[i].path, p->path))
			return cfg_fail(err, errlen, "--port %s: given twice", spec);
	cfg->nports++;
	return 0;
}

/* "A:B[,C:D...]" into pairs[]; the ports are checked once all are known. */
static int cfg_xconnect(const char *s, unsigned pairs[][2], unsigned *npairs,
			char *err, size_t errlen)
{
	const char *p = s;

	*npairs = 0;
	while (*p) {
		unsigned a, b;
		int n = 0;

		if (*npairs >= VSW_MAX_PORTS ||
		    sscanf(p, "%u:%u%n", &a, &b, &n) != 2 || n == 0 ||
		    (p[n] != ',' && p[n] != '\0') || p[0] == '-' ||
		    strchr(p, '-') || a >= VSW_MAX_PORTS || b >= VSW_MAX_PORTS)
			return cfg_fail(err, errlen,
					"--xconnect %s: expected A:B[,C:D...] with port numbers",
					s);
		pairs[*npairs][0] = a;
		pairs[*npairs][1] = b;
		(*npairs)++;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!*npairs)
		return cfg_fail(err, errlen, "--xconnect: no pair given");
	return 0;
}

static int cfg_apply_pairs(struct vsw_config *cfg, unsigned pairs[][2],
			   unsigned npairs, char *err, size_t errlen)
{
	for (unsigned i = 0; i < npairs; i++) {
		unsigned a = pairs[i][0], b = pairs[i][1];

		if (a >= cfg->nports || b >= cfg->nports)
			return cfg_fail(err, errlen,
					"--xconnect %u:%u: there are only %u ports (0 to %u)",
					a, b, cfg->nports, cfg->nports - 1);
		if (cfg->peer[a] >= 0 || cfg->peer[b] >= 0)
			return cfg_fail(err, errlen,
					"--xconnect %u:%u: port %u is already paired",
					a, b, cfg->peer[a] >= 0 ? a : b);
		cfg->peer[a] = (int)b;
		cfg->peer[b] = (int)a;
	}
	return 0;
}

/* The pairs of xconnect/loopback mode, checked against the ports. */
static int cfg_finish_pairs(struct vsw_config *cfg, const char *mode,
			    unsigned pairs[][2], unsigned npairs, bool given,
			    char *err, size_t errlen)
{
	if (!strcmp(mode, "loopback")) {
		if (given)
			return cfg_fail(err, errlen,
					"--xconnect makes no sense with --mode loopback");
		for (unsigned i = 0; i < cfg->nports; i++)
			cfg->peer[i] = (int)i;
		return 0;
	}
	if (!given) {
		if (cfg->nports == 1) {
			cfg->peer[0] = 0;
			return 0;
		}
		if (cfg->nports % 2)
			return cfg_fail(err, errlen,
					"xconnect: %u ports do not make pairs; give --xconnect",
					cfg->nports);
		for (unsigned i = 0; i < cfg->nports; i += 2) {
			cfg->peer[i] = (int)i + 1;
			cfg->peer[i + 1] = (int)i;
		}
		return 0;
	}
	int ret = cfg_apply_pairs(cfg, pairs, npairs, err, errlen);
	if (ret)
		return ret;
	for (unsigned i = 0; i < cfg->nports; i++)
		if (cfg->peer[i] < 0)
			return cfg_fail(err, errlen,
					"xconnect: port %u (%s) is in no pair", i,
					cfg->ports[i].spec);
	return 0;
}

static int cfg_period(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 86400)
		return -EINVAL;
	*out = v;
	return 0;
}

enum { OPT_PORT = 256, OPT_MODE, OPT_XCONNECT, OPT_STATS, OPT_AGE,
       OPT_MACS, OPT_MBUFS, OPT_HUGE, OPT_HELP };

static int cfg_option(int opt, const char *arg, struct vsw_config *cfg,
		      const char **mode, char *err, size_t errlen)
{
	switch (opt) {
	case OPT_PORT:
		return cfg_port(arg, cfg, err, errlen);
	case OPT_MODE:
		if (strcmp(arg, "l2") && strcmp(arg, "xconnect") &&
		    strcmp(arg, "loopback"))
			return cfg_fail(err, errlen,
					"--mode %s: expected l2, xconnect or loopback", arg);
		*mode = arg;
		return 0;
	case OPT_STATS:
		if (cfg_period(arg, &cfg->stats_period))
			return cfg_fail(err, errlen,
					"--stats-period %s: seconds, 0 to 86400", arg);
		return 0;
	case OPT_AGE:
		if (cfg_uint(arg, 0, 86400 * 365, &cfg->age_s))
			return cfg_fail(err, errlen, "--age %s: seconds", arg);
		return 0;
	case OPT_MACS:
		if (cfg_uint(arg, 16, 1u << 24, &cfg->mac_entries))
			return cfg_fail(err, errlen, "--mac-entries %s: 16 to %u",
					arg, 1u << 24);
		return 0;
	case OPT_MBUFS:
		if (cfg_uint(arg, 1024, 1u << 22, &cfg->mbufs))
			return cfg_fail(err, errlen, "--mbufs %s: 1024 to %u",
					arg, 1u << 22);
		return 0;
	case OPT_HUGE:
		cfg->hugepages = true;
		return 0;
	}
	return cfg_fail(err, errlen, "unknown option (see --help)");
}

int vsw_config_parse(int argc, char **argv, struct vsw_config *cfg,
		     char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, OPT_PORT },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "xconnect", required_argument, NULL, OPT_XCONNECT },
		{ "stats-period", required_argument, NULL, OPT_STATS },
		{ "age", required_argument, NULL, OPT_AGE },
		{ "mac-entries", required_argument, NULL, OPT_MACS },
		{ "mbufs", required_argument, NULL, OPT_MBUFS },
		{ "hugepages", no_argument, NULL, OPT_HUGE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ 0 },
	};
	unsigned pairs[VSW_MAX_PORTS][2], npairs = 0;
	const char *mode = "l2", *xc = NULL;
	int opt, ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->age_s = 300;
	cfg->mac_entries = 4096;
	for (unsigned i = 0; i < VSW_MAX_PORTS; i++)
		cfg->peer[i] = -1;
	optind = 0;	/* glibc: full re-initialisation, argv[0] skipped */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (opt == OPT_HELP) {
			fputs(vsw_usage, stdout);
			return 1;
		}
		if (opt == '?' || opt == ':')
			return cfg_fail(err, errlen, "unknown option or missing value: %s",
					argv[optind - 1]);
		if (opt == OPT_XCONNECT) {
			xc = optarg;
			continue;
		}
		ret = cfg_option(opt, optarg, cfg, &mode, err, errlen);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return cfg_fail(err, errlen, "unexpected argument '%s'", argv[optind]);
	if (!cfg->nports)
		return cfg_fail(err, errlen, "no --port given");
	if (xc && (ret = cfg_xconnect(xc, pairs, &npairs, err, errlen)))
		return ret;
	if (!strcmp(mode, "l2")) {
		if (xc)
			return cfg_fail(err, errlen, "--xconnect needs --mode xconnect");
		cfg->mode = VSW_MODE_L2;
		return 0;
	}
	cfg->mode = VSW_MODE_XCONNECT;
	return cfg_finish_pairs(cfg, mode, pairs, npairs, xc != NULL, err, errlen);
}

/* 0 when someone accepts connections on `path`, else -errno of connect(). */
static int cfg_probe_listener(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd, ret = 0;

	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int vsw_socket_check(const struct vsw_port_cfg *p, char *err, size_t errlen)
{
	char dir[sizeof(p->path)], *slash;
	struct stat st;
	int ret;

	snprintf(dir, sizeof(dir), "%s", p->path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ret = -ENOENT;
		snprintf(err, errlen, "%s: directory %s does not exist", p->spec, dir);
		return ret;
	}
	if (lstat(p->path, &st) < 0) {
		if (errno == ENOENT)
			return 0;	/* a server creates it, a client waits */
		ret = -errno;
		snprintf(err, errlen, "%s: %s", p->spec, strerror(errno));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: %s exists and is not a socket", p->spec,
			 p->path);
		return -EEXIST;
	}
	if (!p->server)
		return 0;
	ret = cfg_probe_listener(p->path);
	if (ret == 0) {
		snprintf(err, errlen, "%s: another process is listening on %s",
			 p->spec, p->path);
		return -EADDRINUSE;
	}
	/* Nobody listens: a stale socket left by a process that died. */
	if (ret == -ECONNREFUSED && unlink(p->path) == 0)
		return 0;
	snprintf(err, errlen, "%s: cannot reuse %s: %s", p->spec, p->path,
		 strerror(-ret == ECONNREFUSED ? errno : -ret));
	return -EADDRINUSE;
}
