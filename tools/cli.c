// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mac.h"
#include "core/util.h"
#include "core/vm_internal.h"
#include "tools/cli.h"

#define CLI_MIN_MEM (16 * MiB)
#define CLI_MAX_MEM (1024 * GiB)
#define CLI_DEFAULT_MEM (512 * MiB)

const char cli_run_usage[] =
	"usage: iovmm run --kernel FILE [options]\n"
	"\n"
	"Boot FILE (an ELF with a PVH entry note, or a Linux bzImage) in a new VM.\n"
	"\n"
	"  --kernel FILE        kernel image (required)\n"
	"  --initrd FILE        initial ramdisk (bzImage) / first module (PVH)\n"
	"  --cmdline STRING     kernel command line\n"
	"  --mem SIZE           guest RAM, e.g. 512M, 2G (bare number: MiB;\n"
	"                       default 512M, minimum 16M)\n"
	"  --hugepages          back guest RAM with 2 MiB hugepages\n"
	"  --cpus N             number of vCPUs (default 1, at most 64; the\n"
	"                       guest brings up the APs itself)\n"
	"  --serial stdio|file:PATH|none\n"
	"                       where COM1 goes (default stdio)\n"
	"  --net MODEL,backend=BACKEND[,mac=MAC][,queues=N][,ring=split|packed]\n"
	"                       add a NIC (repeatable). MODEL: virtio (virtio-net,\n"
	"                       served in iovmm) or e1000 (emulated 82540EM).\n"
	"                       BACKEND: tap:NAME (a Linux tap device), loopback\n"
	"                       (frames sent come back), null (sink). queues= (1-8\n"
	"                       queue pairs) and ring= are virtio only\n"
	"  --net vhost-user,socket=PATH[,server][,queues=N][,mac=MAC]\n"
	"                       add a virtio-net NIC whose rings a vhost-user back\n"
	"                       end serves (iovmm-vswitch, a DPDK vhost PMD):\n"
	"                       kicks and interrupts bypass iovmm. server: listen\n"
	"                       on PATH and wait for the back end (default: connect\n"
	"                       to it). A back end that dies is reconnected\n"
	"  --disk virtio,path=FILE[,readonly][,ring=split|packed]\n"
	"                       add a virtio-blk disk backed by a raw file\n"
	"  --device TYPE        add a device (repeatable); TYPE is one of:\n"
	"                         pci-testdev  QEMU-compatible PCI test device\n"
	"                         edu          QEMU-compatible edu device (MSI, DMA)\n"
	"  --device vfio-pci,host=BDF[,no-mmap=N][,rom=off]\n"
	"                       assign host PCI function BDF (or its sysfs path),\n"
	"                       bound to vfio-pci (iovmm vfio bind BDF); no-mmap=N\n"
	"                       traps BAR N (repeatable), rom=off hides the ROM\n"
	"  --device vfio-pci,pf=PF[,mac=MAC][,vlan=N[,qos=N]][,trust=on|off]\n"
	"                    [,spoofchk=on|off][,max-rate=M][,min-rate=M][,link=L]\n"
	"                       assign a free SR-IOV VF of PF (PCI address or\n"
	"                       network interface; iovmm sriov list): leased for\n"
	"                       this VM (two iovmm never share one), bound to\n"
	"                       vfio-pci, given the settings (iovmm sriov --help;\n"
	"                       network PFs only), all undone when the VM ends;\n"
	"                       a crashed iovmm's VF is repaired by the next user\n"
	"                       or iovmm sriov repair. Not with host=. A VF of a\n"
	"                       PF owned by vfio-pci opens with the PF's VF token\n"
	"                       (iovmm sriov token), with pf= and host= alike\n"
	"  --stats              print resource use and exit counts at the end\n"
	"  -q, --quiet          only errors on stderr\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status: the guest's isa-debug-exit code ((value << 1) | 1) when it\n"
	"wrote port 0xf4; 0 when it powered off or reset; 2 for a bad command line\n"
	"or a VM that could not be built; 4 for a fatal VM error (register dump on\n"
	"stderr); 128+N when signal N (SIGINT, SIGTERM, SIGHUP) stopped the VM,\n"
	"which is then torn down in order (pooled VFs go back at once).\n";

__attribute__((format(printf, 3, 4)))
static int cli_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verrf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = {
		{ "", 20 }, { "B", 0 },
		{ "K", 10 }, { "KB", 10 }, { "KIB", 10 },
		{ "M", 20 }, { "MB", 20 }, { "MIB", 20 },
		{ "G", 30 }, { "GB", 30 }, { "GIB", 30 },
		{ "T", 40 }, { "TB", 40 }, { "TIB", 40 },
	};
	unsigned long long n;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcasecmp(end, units[i].suffix))
			continue;
		if (units[i].shift && n > (UINT64_MAX >> units[i].shift))
			return -ERANGE;
		*out = (uint64_t)n << units[i].shift;
		return 0;
	}
	return -EINVAL;
}

/* The kernel and initrd must be regular, readable files. */
static int cli_check_file(const char *what, const char *path, char *err,
			  size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return cli_error(err, errlen, "%s %s: %s", what, path,
				 strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cli_error(err, errlen, "%s %s: not a regular file", what,
				 path);
	}
	close(fd);
	return 0;
}

/* A disk must exist, be a regular file or block device, and be openable
 * with the access the guest will get. */
static int cli_check_disk(const char *path, bool readonly, char *err,
			  size_t errlen)
{
	struct stat st;
	int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);

	if (fd < 0)
		return cli_error(err, errlen, "disk %s: %s%s", path, strerror(errno),
				 errno == EACCES || errno == EROFS ?
					 " (add ,readonly for read-only access)" : "");
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		close(fd);
		return cli_error(err, errlen, "disk %s: not a file or block device",
				 path);
	}
	close(fd);
	return 0;
}

static int cli_parse_serial(const char *arg, struct vm_config *vm, char *err,
			    size_t errlen)
{
	if (!strcmp(arg, "stdio")) {
		vm->serial = VM_SERIAL_STDIO;
	} else if (!strcmp(arg, "none")) {
		vm->serial = VM_SERIAL_NONE;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		vm->serial = VM_SERIAL_FILE;
		vm->serial_path = arg + 5;
	} else {
		return cli_error(err, errlen,
				 "--serial %s: expected stdio, none or file:PATH",
				 arg);
	}
	return 0;
}

static int cli_parse_cpus(const char *arg, unsigned *out, char *err,
			  size_t errlen)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || *end || end == arg || n < 1)
		return cli_error(err, errlen,
				 "--cpus %s: expected a number from 1 to %d",
				 arg, VM_MAX_CPUS);
	if (n > VM_MAX_CPUS)
		return cli_error(err, errlen,
				 "--cpus %ld: too many CPUs (iovmm supports at most %d)",
				 n, VM_MAX_CPUS);
	*out = (unsigned)n;
	return 0;
}

static int cli_parse_mem(const char *arg, uint64_t *out, char *err,
			 size_t errlen)
{
	uint64_t size;
	int ret = cli_parse_size(arg, &size);

	if (ret == -ERANGE || (!ret && size > CLI_MAX_MEM))
		return cli_error(err, errlen, "--mem %s: too large (at most 1T)",
				 arg);
	if (ret)
		return cli_error(err, errlen,
				 "--mem %s: expected a size such as 512M or 2G",
				 arg);
	if (size < CLI_MIN_MEM)
		return cli_error(err, errlen, "--mem %s: too small (at least 16M)",
				 arg);
	if (!IS_ALIGNED(size, 2 * MiB))
		return cli_error(err, errlen,
				 "--mem %s: must be a multiple of 2M", arg);
	*out = size;
	return 0;
}

static struct vm_device_cfg *cli_new_device(struct vm_config *vm,
					    const char *type, char *err,
					    size_t errlen)
{
	struct vm_device_cfg *d;

	if (vm->nr_devices == VM_MAX_DEVICES) {
		cli_error(err, errlen, "too many devices (at most %d)",
			  VM_MAX_DEVICES);
		return NULL;
	}
	d = &vm->devices[vm->nr_devices++];
	memset(d, 0, sizeof(*d));
	snprintf(d->type, sizeof(d->type), "%s", type);
	return d;
}

/*
 * Split "key=value,key=value" into its next pair. Keys and values are copied
 * (bounded); a bare "key" yields an empty value. Returns 1 for a pair, 0 at
 * the end, -EINVAL for a key or value that does not fit.
 */
static int cli_next_kv(const char **cursor, char *key, size_t keylen,
		       char *val, size_t vallen)
{
	const char *p = *cursor, *end, *eq;
	size_t klen, vlen;

	if (!p || !*p)
		return 0;
	end = strchr(p, ',');
	if (!end)
		end = p + strlen(p);
	eq = memchr(p, '=', (size_t)(end - p));
	klen = (size_t)((eq ? eq : end) - p);
	vlen = eq ? (size_t)(end - eq - 1) : 0;
	*cursor = *end ? end + 1 : end;
	if (klen >= keylen || vlen >= vallen)
		return -EINVAL;
	memcpy(key, p, klen);
	key[klen] = '\0';
	if (eq)
		memcpy(val, eq + 1, vlen);
	val[vlen] = '\0';
	return 1;
}

/*
 * A pf= pool's VF setting (mac, vlan, qos, vlan-proto, spoofchk, trust,
 * max-rate, min-rate, link): sriov/ parses and validates the value, so
 * `iovmm sriov set` and --device accept exactly the same things. Returns
 * -ENOENT (no message) for a key that is not a VF setting.
 */
static int cli_vfio_setting(struct vm_vfio_cfg *v, const char *key,
			    const char *val, unsigned *seen, char *err,
			    size_t errlen)
{
	static const char *const keys[] = {
		"mac", "vlan", "qos", "vlan-proto", "spoofchk", "trust",
		"max-rate", "min-rate", "link",
	};
	char msg[256] = "";
	unsigned i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(keys) && strcmp(key, keys[i]); i++)
		;
	if (i == ARRAY_SIZE(keys))
		return -ENOENT;
	if (*seen & (1u << i))
		return cli_error(err, errlen, "vfio-pci: %s= given twice", key);
	*seen |= 1u << i;
	ret = sriov_settings_parse(&v->vf_settings, key, val, msg, sizeof(msg));
	if (ret)
		return cli_error(err, errlen, "vfio-pci: %s",
				 msg[0] ? msg : "invalid VF setting");
	return 0;
}

/* host=, then the checks that need every option: exactly one of host= and
 * pf=, VF settings only with pf= and consistent among themselves. */
static int cli_vfio_check(const struct vm_vfio_cfg *v, unsigned seen,
			  char *err, size_t errlen)
{
	char msg[256] = "";

	if (v->host[0] && v->pf[0])
		return cli_error(err, errlen, "--device vfio-pci: host= and pf= exclude each other (host= assigns that function, pf= takes a free VF of the PF)");
	if (!v->host[0] && !v->pf[0])
		return cli_error(err, errlen, "--device vfio-pci: host=BDF or pf=PF is required (e.g. host=0000:01:00.1 or pf=enp59s0f0)");
	if (v->host[0] && seen)
		return cli_error(err, errlen, "--device vfio-pci: VF settings (mac=, vlan=, trust=...) need pf=; for a host= VF use iovmm sriov set");
	if (sriov_settings_check(&v->vf_settings, msg, sizeof(msg)))
		return cli_error(err, errlen, "vfio-pci: %s", msg);
	return 0;
}

/* vfio-pci options: host=BDF|PATH or pf=PF (one of them), no-mmap=N
 * (repeatable), rom=on|off, x-keep-vendor-caps[=on|off], and with pf= the
 * VF settings of cli_vfio_setting(). */
static int cli_parse_vfio(const char *opts, struct vm_config *vm, char *err,
			  size_t errlen)
{
	struct vm_device_cfg *d = cli_new_device(vm, "vfio-pci", err, errlen);
	char key[32], val[VM_VFIO_HOST_MAX];
	const char *cursor = opts;
	unsigned seen = 0;
	int ret;

	if (!d)
		return -EINVAL;
	while ((ret = cli_next_kv(&cursor, key, sizeof(key), val, sizeof(val)))) {
		char *end;
		long n;

		if (ret < 0)
			return cli_error(err, errlen, "vfio-pci: option too long");
		if (!strcmp(key, "host") || !strcmp(key, "pf")) {
			char *dst = key[0] == 'h' ? d->vfio.host : d->vfio.pf;

			if (!val[0] || dst[0])
				return cli_error(err, errlen, "vfio-pci: %s= missing or given twice", key);
			snprintf(dst, VM_VFIO_HOST_MAX, "%s", val);
		} else if (!strcmp(key, "no-mmap")) {
			n = strtol(val, &end, 10);
			if (!*val || *end || n < 0 || n > 5)
				return cli_error(err, errlen, "vfio-pci: no-mmap=%s: expected a BAR number 0-5", val);
			d->vfio.no_mmap_bars |= 1u << n;
		} else if (!strcmp(key, "rom")) {
			if (strcmp(val, "on") && strcmp(val, "off"))
				return cli_error(err, errlen, "vfio-pci: rom=%s: expected on or off", val);
			d->vfio.rom_off = !strcmp(val, "off");
		} else if (!strcmp(key, "x-keep-vendor-caps")) {
			d->vfio.keep_vendor_caps = !val[0] || !strcmp(val, "on");
		} else {
			ret = cli_vfio_setting(&d->vfio, key, val, &seen, err, errlen);
			if (ret == -ENOENT)
				return cli_error(err, errlen, "vfio-pci: unknown option '%s'", key);
			if (ret)
				return ret;
		}
	}
	return cli_vfio_check(&d->vfio, seen, err, errlen);
}

/* --device TYPE: the option-less devices of the device table. */
static int cli_parse_device(const char *arg, struct vm_config *vm, char *err,
			    size_t errlen)
{
	const char *comma = strchr(arg, ',');
	size_t type_len = comma ? (size_t)(comma - arg) : strlen(arg);
	char type[VM_DEVICE_TYPE_MAX];

	if (!type_len)
		return cli_error(err, errlen, "--device: missing device type");
	if (type_len >= sizeof(type) ||
	    (memcpy(type, arg, type_len), type[type_len] = '\0',
	     !vm_device_type_find(type)))
		return cli_error(err, errlen, "unknown device '%.*s' (see iovmm run --help)",
				 (int)type_len, arg);
	if (!strcmp(type, "virtio-net") || !strcmp(type, "e1000") ||
	    !strcmp(type, "vhost-user-net") || !strcmp(type, "virtio-blk"))
		return cli_error(err, errlen, "--device %s: use --net or --disk",
				 type);
	if (!strcmp(type, "vfio-pci"))
		return cli_parse_vfio(comma ? comma + 1 : "", vm, err, errlen);
	if (comma)
		return cli_error(err, errlen, "device %s takes no options (got '%s')",
				 type, comma + 1);
	return cli_new_device(vm, type, err, errlen) ? 0 : -EINVAL;
}

int cli_parse_mac(const char *s, uint8_t mac[6])
{
	if (mac_parse(s, mac))
		return -EINVAL;
	/* Multicast, broadcast or zero: not a station address. */
	return mac_is_station(mac) ? 0 : -EDOM;
}

int cli_check_backend(const char *s, char *err, size_t errlen)
{
	if (!strcmp(s, "loopback") || !strcmp(s, "null"))
		return 0;
	if (!strncmp(s, "tap:", 4)) {
		size_t n = strlen(s + 4);

		if (n == 0 || n > 15 || strpbrk(s + 4, "/ \t:"))
			return cli_error(err, errlen,
					 "backend=%s: invalid tap interface name", s);
		return 0;
	}
	return cli_error(err, errlen,
			 "backend=%s: unknown back end (tap:NAME, loopback or null)",
			 s);
}

/* queues=N of --net virtio and --net vhost-user: 1..VM_NET_MAX_QUEUES pairs. */
static int cli_parse_queues(const char *val, unsigned *out, char *err,
			    size_t errlen)
{
	char *end;
	long n = strtol(val, &end, 10);

	if (!*val || *end || n < 1 || n > VM_NET_MAX_QUEUES)
		return cli_error(err, errlen, "queues=%s: expected 1 to %d", val,
				 VM_NET_MAX_QUEUES);
	*out = (unsigned)n;
	return 0;
}

static int cli_parse_mac_opt(const char *val, uint8_t mac[6], char *err,
			     size_t errlen)
{
	int ret = cli_parse_mac(val, mac);

	if (ret)
		return cli_error(err, errlen, "mac=%s: %s", val,
				 ret == -EDOM ? "not a unicast station address"
					      : "invalid MAC address (expected xx:xx:xx:xx:xx:xx)");
	return 0;
}

static int cli_net_kv(struct vm_net_cfg *net, bool virtio, const char *key,
		      const char *val, char *err, size_t errlen)
{
	if (!strcmp(key, "backend")) {
		if (cli_check_backend(val, err, errlen))
			return -EINVAL;
		snprintf(net->backend, sizeof(net->backend), "%s", val);
	} else if (!strcmp(key, "mac")) {
		if (cli_parse_mac_opt(val, net->mac, err, errlen))
			return -EINVAL;
		net->has_mac = true;
	} else if (!strcmp(key, "queues") && virtio) {
		if (cli_parse_queues(val, &net->queues, err, errlen))
			return -EINVAL;
	} else if (!strcmp(key, "ring") && virtio) {
		if (strcmp(val, "split") && strcmp(val, "packed"))
			return cli_error(err, errlen, "ring=%s: expected split or packed", val);
		net->packed = !strcmp(val, "packed");
	} else if (!strcmp(key, "queues") || !strcmp(key, "ring")) {
		return cli_error(err, errlen, "%s= conflicts with --net e1000 (virtio only)",
				 key);
	} else {
		return cli_error(err, errlen, "--net: unknown option '%s'", key);
	}
	return 0;
}

/*
 * --net vhost-user,socket=PATH[,server[=on|off]][,queues=N][,mac=M]
 * (cursor: what follows "vhost-user,"). Whether PATH exists, is a socket and
 * has a listener is the front-end's business at VM creation: it says so in
 * the same one-line style.
 */
static int cli_parse_vhost_user(const char *cursor, struct vm_config *vm,
				char *err, size_t errlen)
{
	static const char *const keys[] = { "socket", "server", "queues", "mac" };
	struct vm_device_cfg *d;
	char key[32], val[PATH_MAX];
	unsigned seen = 0;
	int ret;

	d = cli_new_device(vm, "vhost-user-net", err, errlen);
	if (!d)
		return -EINVAL;
	d->vhu.queues = 1;
	while ((ret = cli_next_kv(&cursor, key, sizeof(key), val, sizeof(val)))) {
		unsigned i;

		if (ret < 0)
			return cli_error(err, errlen, "--net vhost-user: option too long");
		for (i = 0; i < ARRAY_SIZE(keys) && strcmp(key, keys[i]); i++)
			;
		if (i == ARRAY_SIZE(keys))
			return cli_error(err, errlen,
					 "--net vhost-user: unknown option '%s' (socket=, server, queues=, mac=)",
					 key);
		if (seen & (1u << i))
			return cli_error(err, errlen, "--net vhost-user: %s= given twice", key);
		seen |= 1u << i;
		if (!strcmp(key, "socket")) {
			if (strlen(val) >= sizeof(d->vhu.socket))
				return cli_error(err, errlen,
						 "--net vhost-user: socket path too long (at most %zu bytes)",
						 sizeof(d->vhu.socket) - 1);
			snprintf(d->vhu.socket, sizeof(d->vhu.socket), "%s", val);
		} else if (!strcmp(key, "server")) {
			if (val[0] && strcmp(val, "on") && strcmp(val, "off"))
				return cli_error(err, errlen, "server=%s: expected on or off", val);
			d->vhu.server = strcmp(val, "off") != 0;
		} else if (!strcmp(key, "queues")) {
			if (cli_parse_queues(val, &d->vhu.queues, err, errlen))
				return -EINVAL;
		} else {
			if (cli_parse_mac_opt(val, d->vhu.mac, err, errlen))
				return -EINVAL;
			d->vhu.has_mac = true;
		}
	}
	if (!d->vhu.socket[0])
		return cli_error(err, errlen,
				 "--net vhost-user: socket=PATH is required (the back end's AF_UNIX socket)");
	return 0;
}

/*
 * --net virtio|e1000,backend=B[,mac=M][,queues=N][,ring=split|packed]
 * --net vhost-user,socket=PATH[,...]
 */
static int cli_parse_net(const char *arg, struct vm_config *vm, char *err,
			 size_t errlen)
{
	const char *cursor = strchr(arg, ',');
	size_t model_len = cursor ? (size_t)(cursor - arg) : strlen(arg);
	struct vm_device_cfg *d;
	char key[32], val[VM_BACKEND_MAX];
	unsigned seen = 0;
	bool virtio;
	int ret;

	if (model_len == 10 && !strncmp(arg, "vhost-user", 10))
		return cli_parse_vhost_user(cursor ? cursor + 1 : "", vm, err,
					    errlen);
	if (model_len == 6 && !strncmp(arg, "virtio", 6))
		virtio = true;
	else if (model_len == 5 && !strncmp(arg, "e1000", 5))
		virtio = false;
	else
		return cli_error(err, errlen,
				 "--net %.*s: unknown NIC model (virtio, e1000 or vhost-user)",
				 (int)model_len, arg);
	d = cli_new_device(vm, virtio ? "virtio-net" : "e1000", err, errlen);
	if (!d)
		return -EINVAL;
	d->net.queues = 1;
	if (cursor)
		cursor++;
	while ((ret = cli_next_kv(&cursor, key, sizeof(key), val, sizeof(val)))) {
		static const char *const keys[] = { "backend", "mac", "queues", "ring" };

		if (ret < 0)
			return cli_error(err, errlen, "--net: option too long");
		for (unsigned i = 0; i < ARRAY_SIZE(keys); i++) {
			if (strcmp(key, keys[i]))
				continue;
			if (seen & (1u << i))
				return cli_error(err, errlen, "--net: %s= given twice", key);
			seen |= 1u << i;
		}
		if (cli_net_kv(&d->net, virtio, key, val, err, errlen))
			return -EINVAL;
	}
	if (!d->net.backend[0])
		return cli_error(err, errlen,
				 "--net %s: backend= is required (tap:NAME, loopback or null)",
				 virtio ? "virtio" : "e1000");
	return 0;
}

/* --disk virtio,path=FILE[,readonly[=on|off]][,ring=split|packed]
 * (paths cannot contain ','). */
static int cli_parse_disk(const char *arg, struct vm_config *vm, char *err,
			  size_t errlen)
{
	const char *cursor = strchr(arg, ',');
	size_t model_len = cursor ? (size_t)(cursor - arg) : strlen(arg);
	struct vm_device_cfg *d;
	char key[32], val[PATH_MAX];
	int ret;

	if (model_len != 6 || strncmp(arg, "virtio", 6))
		return cli_error(err, errlen, "--disk %.*s: unknown disk model (virtio)",
				 (int)model_len, arg);
	d = cli_new_device(vm, "virtio-blk", err, errlen);
	if (!d)
		return -EINVAL;
	if (cursor)
		cursor++;
	while ((ret = cli_next_kv(&cursor, key, sizeof(key), val, sizeof(val)))) {
		if (ret < 0)
			return cli_error(err, errlen, "--disk: option too long");
		if (!strcmp(key, "path")) {
			if (d->disk.path)
				return cli_error(err, errlen, "--disk: path= given twice");
			d->disk.path = strdup(val);
			if (!d->disk.path)
				return -ENOMEM;
		} else if (!strcmp(key, "ring")) {
			if (strcmp(val, "split") && strcmp(val, "packed"))
				return cli_error(err, errlen,
						 "ring=%s: expected split or packed", val);
			d->disk.packed = !strcmp(val, "packed");
		} else if (!strcmp(key, "readonly")) {
			if (!*val || !strcmp(val, "on"))
				d->disk.readonly = true;
			else if (!strcmp(val, "off"))
				d->disk.readonly = false;
			else
				return cli_error(err, errlen,
						 "readonly=%s: expected on or off", val);
		} else {
			return cli_error(err, errlen, "--disk: unknown option '%s'", key);
		}
	}
	if (!d->disk.path || !*d->disk.path)
		return cli_error(err, errlen, "--disk virtio: path= is required");
	return cli_check_disk(d->disk.path, d->disk.readonly, err, errlen);
}

void cli_run_free(struct cli_run *run)
{
	for (unsigned i = 0; i < run->vm.nr_devices; i++) {
		if (!strcmp(run->vm.devices[i].type, "virtio-blk")) {
			free((char *)run->vm.devices[i].disk.path);
			run->vm.devices[i].disk.path = NULL;
		}
	}
	run->vm.nr_devices = 0;
}

enum {
	OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS,
	OPT_SERIAL, OPT_DEVICE, OPT_HUGEPAGES, OPT_STATS, OPT_NET, OPT_DISK,
};

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "append", required_argument, NULL, OPT_CMDLINE },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "net", required_argument, NULL, OPT_NET },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "hugepages", no_argument, NULL, OPT_HUGEPAGES },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static int cli_parse_one(int opt, const char *arg, struct cli_run *out, char *err,
			 size_t errlen)
{
	struct vm_config *vm = &out->vm;

	switch (opt) {
	case OPT_KERNEL: vm->kernel = arg; return 0;
	case OPT_INITRD: vm->initrd = arg; return 0;
	case OPT_CMDLINE: vm->cmdline = arg; return 0;
	case OPT_MEM: return cli_parse_mem(arg, &vm->mem_size, err, errlen);
	case OPT_CPUS: return cli_parse_cpus(arg, &vm->ncpus, err, errlen);
	case OPT_SERIAL: return cli_parse_serial(arg, vm, err, errlen);
	case OPT_DEVICE: return cli_parse_device(arg, vm, err, errlen);
	case OPT_NET: return cli_parse_net(arg, vm, err, errlen);
	case OPT_DISK: return cli_parse_disk(arg, vm, err, errlen);
	case OPT_HUGEPAGES: vm->hugepages = true; return 0;
	case OPT_STATS: out->stats = true; return 0;
	case 'q': out->quiet = true; return 0;
	case 'h': out->help = true; return 0;
	default: return cli_error(err, errlen, "unknown option (see iovmm run --help)");
	}
}

int cli_parse_run(int argc, char **argv, struct cli_run *out, char *err,
		  size_t errlen)
{
	int opt, ret;

	memset(out, 0, sizeof(*out));
	out->vm.mem_size = CLI_DEFAULT_MEM;
	out->vm.ncpus = 1;
	out->vm.cancel_fd = -1;
	out->vm.serial = VM_SERIAL_STDIO;

	optind = 0; /* full re-initialisation: parse may run more than once */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:qh", run_options, NULL)) != -1) {
		if (opt == ':')
			return cli_error(err, errlen,
					 "%s: missing argument (see iovmm run --help)",
					 argv[optind - 1]);
		if (opt == '?')
			return cli_error(err, errlen,
					 "%s: unknown option (see iovmm run --help)",
					 argv[optind - 1]);
		ret = cli_parse_one(opt, optarg, out, err, errlen);
		if (ret)
			return ret;
	}
	if (out->help)
		return 0;
	if (optind < argc)
		return cli_error(err, errlen, "unexpected argument '%s'",
				 argv[optind]);
	if (!out->vm.kernel)
		return cli_error(err, errlen, "--kernel FILE is required");
	ret = cli_check_file("kernel", out->vm.kernel, err, errlen);
	if (!ret && out->vm.initrd)
		ret = cli_check_file("initrd", out->vm.initrd, err, errlen);
	if (!ret && out->vm.hugepages && !IS_ALIGNED(out->vm.mem_size, 2 * MiB))
		ret = cli_error(err, errlen, "--hugepages needs --mem in 2M units");
	return ret;
}
