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
#include "core/vm.h"
#include "machine/machine.h"
#include "tools/cli.h"

#define CLI_MIN_MEM (16 * MiB)
#define CLI_MAX_MEM (1024 * GiB)
#define CLI_DEFAULT_MEM (512 * MiB)
/* tools/meson.build: SANDBOX_LOG in sanitizer builds. */
#ifndef CLI_SECCOMP_DEFAULT
#define CLI_SECCOMP_DEFAULT SANDBOX_ON
#endif

static const char usage_head[] =
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
	"  --seccomp on|log|off per-thread seccomp filters (default on, log in\n"
	"                       sanitizer builds; on: a forbidden syscall\n"
	"                       kills iovmm; log: allowed and logged by the\n"
	"                       kernel; docs/security.md)\n"
	"  --user UID[:GID]|NAME[:GROUP]\n"
	"                       run as this user once every device is open\n"
	"                       (supplementary groups cleared, no capability)\n"
	"  --chroot DIR         chroot to DIR then, before --user\n"
	"  --kvm-fd N           use inherited fd N, an open /dev/kvm\n"
	"  --stats              print resource use and exit counts at the end\n"
	"  --api-socket PATH    serve the control API on this UNIX socket\n"
	"                       (Cloud Hypervisor's REST API; docs/api.md)\n"
	"  -q, --quiet          only errors on stderr\n"
	"  -h, --help           this text\n"
	"\n"
	"Devices (--device, --net and --disk are repeatable):\n";

static const char usage_tail[] =
	"\n"
	"Exit status: the guest's isa-debug-exit code ((value << 1) | 1) when it\n"
	"wrote port 0xf4; 0 when it powered off or reset; 2 for a bad command line\n"
	"or a VM that could not be built; 4 for a fatal VM error (register dump on\n"
	"stderr); 128+N when signal N (SIGINT, SIGTERM, SIGHUP) stopped the VM,\n"
	"which is then torn down in order (pooled VFs go back at once).\n";

void cli_print_run_usage(FILE *out)
{
	fputs(usage_head, out);
	machine_print_usage(out);
	fputs(usage_tail, out);
}

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

static int cli_parse_serial(const char *arg, struct machine_config *m,
			    char *err, size_t errlen)
{
	if (!strcmp(arg, "stdio")) {
		m->serial = LEGACY_SERIAL_STDIO;
	} else if (!strcmp(arg, "none")) {
		m->serial = LEGACY_SERIAL_NONE;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		m->serial = LEGACY_SERIAL_FILE;
		m->serial_path = arg + 5;
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

void cli_run_free(struct cli_run *run)
{
	machine_config_free(&run->machine);
}

enum {
	OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS,
	OPT_SERIAL, OPT_DEVICE, OPT_HUGEPAGES, OPT_STATS, OPT_NET, OPT_DISK,
	OPT_API_SOCKET,
	OPT_SECCOMP, OPT_USER, OPT_CHROOT, OPT_KVM_FD,
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
	{ "api-socket", required_argument, NULL, OPT_API_SOCKET },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "user", required_argument, NULL, OPT_USER },
	{ "chroot", required_argument, NULL, OPT_CHROOT },
	{ "kvm-fd", required_argument, NULL, OPT_KVM_FD },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static int cli_parse_kvm_fd(const char *arg, struct vm_config *vm, char *err,
			    size_t errlen)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || *end || end == arg || n < 0 || n > INT_MAX ||
	    fcntl((int)n, F_GETFD) < 0)
		return cli_error(err, errlen,
				 "--kvm-fd %s: not an open file descriptor", arg);
	vm->has_kvm_fd = true;
	vm->kvm_fd = (int)n;
	return 0;
}

/* --seccomp, --user, --chroot, --kvm-fd (docs/security.md). */
static int cli_parse_sandbox(int opt, const char *arg, struct cli_run *out,
			     char *err, size_t errlen)
{
	struct sandbox_config *sb = &out->sandbox;
	struct stat st;

	switch (opt) {
	case OPT_SECCOMP:
		if (sandbox_parse_mode(arg, &sb->mode))
			return cli_error(err, errlen,
					 "--seccomp %s: expected on, log or off", arg);
		return 0;
	case OPT_USER:
		sb->has_user = true;
		return sandbox_parse_user(arg, &sb->uid, &sb->gid, err, errlen);
	case OPT_CHROOT:
		if (stat(arg, &st) < 0 || !S_ISDIR(st.st_mode))
			return cli_error(err, errlen, "--chroot %s: not a directory",
					 arg);
		sb->chroot_dir = arg;
		return 0;
	default:
		return cli_parse_kvm_fd(arg, &out->machine.vm, err, errlen);
	}
}

static int cli_parse_one(int opt, const char *arg, struct cli_run *out, char *err,
			 size_t errlen)
{
	struct machine_config *m = &out->machine;
	struct vm_config *vm = &m->vm;

	switch (opt) {
	case OPT_KERNEL: vm->kernel = arg; return 0;
	case OPT_INITRD: vm->initrd = arg; return 0;
	case OPT_CMDLINE: vm->cmdline = arg; return 0;
	case OPT_MEM: return cli_parse_mem(arg, &vm->mem_size, err, errlen);
	case OPT_CPUS: return cli_parse_cpus(arg, &vm->ncpus, err, errlen);
	case OPT_SERIAL: return cli_parse_serial(arg, m, err, errlen);
	case OPT_DEVICE:
		return machine_config_add(m, MACHINE_FRONT_DEVICE, arg, err, errlen);
	case OPT_NET:
		return machine_config_add(m, MACHINE_FRONT_NET, arg, err, errlen);
	case OPT_DISK:
		return machine_config_add(m, MACHINE_FRONT_DISK, arg, err, errlen);
	case OPT_HUGEPAGES: vm->hugepages = true; return 0;
	case OPT_STATS: out->stats = true; return 0;
	case OPT_API_SOCKET: out->api_socket = arg; return 0;
	case OPT_SECCOMP: case OPT_USER: case OPT_CHROOT: case OPT_KVM_FD:
		return cli_parse_sandbox(opt, arg, out, err, errlen);
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
	machine_config_init(&out->machine);
	out->machine.vm.mem_size = CLI_DEFAULT_MEM;
	out->machine.vm.ncpus = 1;
	out->sandbox.mode = CLI_SECCOMP_DEFAULT;

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
	if (!out->machine.vm.kernel)
		return cli_error(err, errlen, "--kernel FILE is required");
	ret = cli_check_file("kernel", out->machine.vm.kernel, err, errlen);
	if (!ret && out->machine.vm.initrd)
		ret = cli_check_file("initrd", out->machine.vm.initrd, err, errlen);
	if (!ret && out->machine.vm.hugepages &&
	    !IS_ALIGNED(out->machine.vm.mem_size, 2 * MiB))
		ret = cli_error(err, errlen, "--hugepages needs --mem in 2M units");
	if (!ret && out->stats && out->api_socket)
		ret = cli_error(err, errlen,
				"--stats with --api-socket: ask the API (vm.counters, iovmm.io-stats)");
	return ret;
}
