// SPDX-License-Identifier: MIT
/*
 * NICs: virtio-net served in iovmm and the emulated e1000, both on a
 * network back end (emul-devices/net), and virtio-net whose rings a
 * vhost-user back end or the kernel's vhost-net serves (vhost-user/net.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ioloop.h"
#include "core/util.h"
#include "emul-devices/e1000/e1000.h"
#include "emul-devices/net/backend.h"
#include "emul-devices/virtio/net.h"
#include "machine/dev_opts.h"
#include "machine/devtypes.h"
#include "vhost-user/kernel.h"
#include "vhost-user/net.h"

/* A back-end spec: tap:NAME, tap (with fd=N), loopback or null. */
static int net_check_backend(const char *s, char *err, size_t errlen)
{
	if (!strcmp(s, "loopback") || !strcmp(s, "null") || !strcmp(s, "tap"))
		return 0;
	if (!strncmp(s, "tap:", 4)) {
		size_t n = strlen(s + 4);

		if (n == 0 || n > 15 || strpbrk(s + 4, "/ \t:"))
			return machine_opt_error(err, errlen,
						 "backend=%s: invalid tap interface name", s);
		return 0;
	}
	return machine_opt_error(err, errlen,
				 "backend=%s: unknown back end (tap:NAME, tap with fd=N, loopback or null)",
				 s);
}

static const char *const net_keys[] = {
	"backend", "mac", "queues", "ring", "vhost", "vhostfd", "fd",
};

struct net_parse {
	struct machine_net_opts *o;
	bool virtio;
	bool vhost_set;   /* vhost= given */
	int fd;           /* fd=N: a tap opened by the caller; -1: none */
};

/*
 * fd=N, vhostfd=N: an open file descriptor number this process inherited;
 * below `min` refused (vhostfd: 0-2 are never a vhost-net device here).
 */
static int net_opt_fdnum(const char *key, const char *val, int min, int *fd,
			 char *err, size_t errlen)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(val, &end, 10);
	if (errno || *end || end == val || n < 0 || n > INT_MAX)
		return machine_opt_error(err, errlen,
					 "%s=%s: expected a file descriptor number", key, val);
	if (n < min)
		return machine_opt_error(err, errlen,
					 "%s=%s: 0-2 are standard input, output and error",
					 key, val);
	*fd = (int)n;
	return 0;
}

/*
 * One option of --net virtio|e1000: queues=, ring=, vhost= and vhostfd=
 * are virtio's only.
 */
static int net_opt(void *ctx, int key, const char *val, char *err,
		   size_t errlen)
{
	struct net_parse *p = ctx;
	struct machine_net_opts *o = p->o;
	int on;

	if (key >= 2 && key <= 5 && !p->virtio)
		return machine_opt_error(err, errlen,
					 "%s= conflicts with --net e1000 (virtio only)",
					 net_keys[key]);
	switch (key) {
	case 0:
		if (net_check_backend(val, err, errlen))
			return -EINVAL;
		snprintf(o->backend, sizeof(o->backend), "%s", val);
		return 0;
	case 1:
		o->has_mac = true;
		return machine_opt_mac(val, o->mac, err, errlen);
	case 2:
		return machine_opt_queues(val, &o->queues, err, errlen);
	case 3:
		return machine_opt_ring(val, &o->packed, err, errlen);
	case 4:
		on = machine_opt_bool(val, true);
		if (on < 0)
			return machine_opt_error(err, errlen,
						 "vhost=%s: expected on or off", val);
		o->vhost = on;
		p->vhost_set = true;
		return 0;
	case 5:
		return net_opt_fdnum("vhostfd", val, 3, &o->vhostfd, err, errlen);
	default:
		return net_opt_fdnum("fd", val, 0, &p->fd, err, errlen);
	}
}

/*
 * vhost-net serves one queue pair of split rings on a tap (vhost-user/
 * kernel.h); vhostfd= implies vhost=on, as in QEMU.
 */
static int net_check_vhost(struct net_parse *p, char *err, size_t errlen)
{
	struct machine_net_opts *o = p->o;

	if (o->vhostfd >= 0) {
		if (p->vhost_set && !o->vhost)
			return machine_opt_error(err, errlen,
						 "--net virtio: vhostfd= conflicts with vhost=off");
		o->vhost = true;
	}
	if (!o->vhost)
		return 0;
	if (strncmp(o->backend, "tap:", 4))
		return machine_opt_error(err, errlen,
					 "--net virtio: vhost=on needs backend=tap:NAME (the kernel's vhost-net serves a tap)");
	if (o->packed)
		return machine_opt_error(err, errlen,
					 "--net virtio: vhost=on serves split rings only (drop ring=packed)");
	if (o->queues > 1)
		return machine_opt_error(err, errlen,
					 "--net virtio: vhost=on serves one queue pair (drop queues=)");
	return 0;
}

/*
 * backend=tap,fd=N becomes the back end "tap-fd:N" (emul-devices/net);
 * fd= goes with a bare tap only, and a bare tap needs it.
 */
static int net_parse_fd(struct net_parse *p, char *err, size_t errlen)
{
	bool tap = !strcmp(p->o->backend, "tap");

	if (p->fd >= 0 && !tap)
		return machine_opt_error(err, errlen,
					 "fd= needs backend=tap (a tap the caller opened)");
	if (tap && p->fd < 0)
		return machine_opt_error(err, errlen,
					 "backend=tap needs fd=N (or backend=tap:NAME)");
	if (tap)
		snprintf(p->o->backend, sizeof(p->o->backend), "tap-fd:%d",
			 p->fd);
	return 0;
}

static int net_parse(const char *opts, bool virtio, void **out, char *err,
		     size_t errlen)
{
	struct net_parse p = { .o = calloc(1, sizeof(*p.o)), .virtio = virtio,
			       .fd = -1 };
	int ret;

	if (!p.o)
		return -ENOMEM;
	*out = p.o;
	p.o->queues = 1;
	p.o->vhostfd = -1;
	ret = machine_opt_parse(opts, "--net", net_keys, ARRAY_SIZE(net_keys),
				net_opt, &p, err, errlen);
	if (!ret && !p.o->backend[0])
		return machine_opt_error(err, errlen,
					 "--net %s: backend= is required (tap:NAME, loopback or null)",
					 virtio ? "virtio" : "e1000");
	if (!ret)
		ret = net_check_vhost(&p, err, errlen);
	return ret ? ret : net_parse_fd(&p, err, errlen);
}

static int virtio_net_parse(const char *opts, void **out, char *err,
			    size_t errlen)
{
	return net_parse(opts, true, out, err, errlen);
}

static int e1000_parse(const char *opts, void **out, char *err, size_t errlen)
{
	return net_parse(opts, false, out, err, errlen);
}

/*
 * The back end opens (a tap device this user may not create or attach to
 * fails here) and is closed again; a transient tap goes with it and is
 * made again with the device.
 */
static int net_check(const void *opts, char *err, size_t errlen)
{
	const struct machine_net_opts *o = opts;
	struct net_backend *be;
	struct ioloop *io;
	int ret;

	/* vhost=on: /dev/vhost-net, or the fd given, before /dev/kvm. */
	if (o->vhost && o->vhostfd >= 0 && fcntl(o->vhostfd, F_GETFD) < 0)
		return machine_opt_error(err, errlen,
					 "vhostfd=%d: not an open file descriptor",
					 o->vhostfd);
	if (o->vhost && o->vhostfd < 0) {
		ret = vhk_host_check(err, errlen);
		if (ret)
			return ret;
	}
	ret = ioloop_create(&io);
	if (ret) {
		snprintf(err, errlen, "I/O loop: %s", strerror(-ret));
		return ret;
	}
	ret = net_backend_create(o->backend, io, &be, err, errlen);
	if (!ret)
		net_backend_destroy(be);
	ioloop_destroy(io);
	return ret;
}

/*
 * The virtio-net device whose rings a vhost back end serves (vhost-user or
 * the kernel's vhost-net: vhost-user/net.h), with the NIC's MAC.
 */
static int vhost_dev_create(struct machine *m, struct vhu_net_config *ncfg,
			    const uint8_t *mac, struct pci_dev **dev, char *err,
			    size_t errlen)
{
	struct pci_dev_ctx ctx = machine_pci_ctx(m);
	struct vhu_net *n;
	int ret;

	machine_nic_mac(m, mac, ncfg->mac);
	ret = vhu_net_create(&ctx, ncfg, &n, err, errlen);
	if (!ret)
		*dev = vhu_net_pci(n);
	return ret;
}

/* vhost=on: the same device as vhost-user's, on the kernel's vhost-net. */
static int vhost_net_dev_create(struct machine *m,
				const struct machine_net_opts *o,
				struct pci_dev **dev, char *err, size_t errlen)
{
	struct vhu_net_config ncfg = {
		.tap = o->backend + 4,
		.vhost_fd = o->vhostfd,
		.queues = 1,
	};

	return vhost_dev_create(m, &ncfg, o->has_mac ? o->mac : NULL, dev,
				err, errlen);
}

static int virtio_net_dev_create(struct machine *m, const void *opts,
				 struct pci_dev **dev, char *err, size_t errlen)
{
	const struct machine_net_opts *o = opts;
	struct pci_dev_ctx ctx = machine_pci_ctx(m);
	struct virtio_net_config ncfg = {
		.backend = o->backend,
		.has_mac = true,
		.queues = o->queues,
		.packed = o->packed,
	};
	struct virtio_net *n;
	int ret;

	if (o->vhost)
		return vhost_net_dev_create(m, o, dev, err, errlen);
	machine_nic_mac(m, o->has_mac ? o->mac : NULL, ncfg.mac);
	ret = virtio_net_create(&ctx, &ncfg, &n, err, errlen);
	if (!ret)
		*dev = virtio_net_pci(n);
	return ret;
}

const struct machine_device_type machine_virtio_net = {
	.name = "virtio-net",
	.front = MACHINE_FRONT_NET,
	.model = "virtio",
	.usage = "--net virtio,backend=BACKEND[,fd=N][,mac=MAC][,queues=N][,ring=split|packed]"
		 "[,vhost=on][,vhostfd=N]",
	.help = "virtio-net served in iovmm. BACKEND: tap:NAME (a Linux tap "
		"device), tap with fd=N (a tap device the caller opened and "
		"passed as fd N), loopback (frames sent come back), null "
		"(sink); queues=: 1-8 queue pairs. vhost=on (tap:NAME only, one "
		"queue pair, split rings): the host kernel's vhost-net serves the "
		"rings, kicks and interrupts bypass iovmm; vhostfd=N: use an "
		"inherited /dev/vhost-net fd instead of opening it",
	.nic = true,
	.parse = virtio_net_parse,
	.free_opts = free,
	.check = net_check,
	.create_pci = virtio_net_dev_create,
};

static int e1000_dev_create(struct machine *m, const void *opts,
			    struct pci_dev **dev, char *err, size_t errlen)
{
	const struct machine_net_opts *o = opts;
	struct pci_dev_ctx ctx = machine_pci_ctx(m);
	struct e1000_config ecfg = {
		.backend = o->backend,
		.has_mac = true,
	};
	struct e1000 *e;
	int ret;

	machine_nic_mac(m, o->has_mac ? o->mac : NULL, ecfg.mac);
	ret = e1000_create(&ctx, &ecfg, &e, err, errlen);
	if (ret)
		return ret;
	*dev = e1000_pci(e);
	return 0;
}

const struct machine_device_type machine_e1000 = {
	.name = "e1000",
	.front = MACHINE_FRONT_NET,
	.model = "e1000",
	.usage = "--net e1000,backend=BACKEND[,fd=N][,mac=MAC]",
	.help = "emulated Intel 82540EM on the same back ends",
	.nic = true,
	.parse = e1000_parse,
	.free_opts = free,
	.check = net_check,
	.create_pci = e1000_dev_create,
};

/* One option of --net vhost-user. */
static int vhu_opt(void *ctx, int key, const char *val, char *err,
		   size_t errlen)
{
	struct machine_vhu_opts *o = ctx;
	int on;

	switch (key) {
	case 0:
		if (strlen(val) >= sizeof(o->socket))
			return machine_opt_error(err, errlen,
						 "--net vhost-user: socket path too long (at most %zu bytes)",
						 sizeof(o->socket) - 1);
		snprintf(o->socket, sizeof(o->socket), "%s", val);
		return 0;
	case 1:
		on = machine_opt_bool(val, true);
		if (on < 0)
			return machine_opt_error(err, errlen,
						 "server=%s: expected on or off", val);
		o->server = on;
		return 0;
	case 2:
		return machine_opt_queues(val, &o->queues, err, errlen);
	default:
		o->has_mac = true;
		return machine_opt_mac(val, o->mac, err, errlen);
	}
}

/*
 * --net vhost-user,socket=PATH[,server[=on|off]][,queues=N][,mac=M].
 * Whether PATH exists, is a socket and has a listener is the front end's
 * business at VM creation: it says so in the same one-line style.
 */
static int vhu_parse(const char *opts, void **out, char *err, size_t errlen)
{
	static const char *const keys[] = { "socket", "server", "queues", "mac" };
	struct machine_vhu_opts *o = calloc(1, sizeof(*o));
	int ret;

	if (!o)
		return -ENOMEM;
	*out = o;
	o->queues = 1;
	ret = machine_opt_parse(opts, "--net vhost-user", keys, 4, vhu_opt, o,
				err, errlen);
	if (!ret && !o->socket[0])
		return machine_opt_error(err, errlen,
					 "--net vhost-user: socket=PATH is required (the back end's AF_UNIX socket)");
	return ret;
}

static int vhu_net_dev_create(struct machine *m, const void *opts,
			      struct pci_dev **dev, char *err, size_t errlen)
{
	const struct machine_vhu_opts *o = opts;
	struct vhu_net_config ncfg = {
		.socket = o->socket,
		.server = o->server,
		.queues = o->queues,
		.cancel_fd = m->cancel_fd,
	};

	return vhost_dev_create(m, &ncfg, o->has_mac ? o->mac : NULL, dev,
				err, errlen);
}

const struct machine_device_type machine_vhost_user_net = {
	.name = "vhost-user-net",
	.front = MACHINE_FRONT_NET,
	.model = "vhost-user",
	.usage = "--net vhost-user,socket=PATH[,server][,queues=N][,mac=MAC]",
	.help = "virtio-net whose rings a vhost-user back end serves "
		"(iovmm-vswitch, a DPDK vhost PMD): kicks and interrupts bypass "
		"iovmm. server: listen on PATH and wait for the back end "
		"(default: connect to it). A back end that dies is reconnected",
	.nic = true,
	.parse = vhu_parse,
	.free_opts = free,
	.create_pci = vhu_net_dev_create,
};
