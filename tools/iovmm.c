// SPDX-License-Identifier: MIT
/* iovmm: the command-line front end. Subcommands dispatch from one table. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sandbox.h"
#include "core/util.h"
#include "api/vmm.h"
#include "core/vm.h"
#include "machine/machine.h"
#include "tools/api_cmd.h"
#include "tools/bench.h"
#include "tools/cli.h"
#include "tools/demo.h"
#include "tools/nested.h"
#include "tools/sriov_cmd.h"
#include "tools/stats.h"
#include "tools/testhook.h"
#include "tools/vfio_cmd.h"

/*
 * SIGINT, SIGTERM and SIGHUP end the VM the orderly way (vm_request_stop),
 * so what it borrowed from the host goes back at once: a pooled VF's
 * settings, driver and lease (docs/sriov.md), assigned devices reset. They
 * are blocked before machine_create() (every thread it starts inherits the mask)
 * and taken by one thread with sigwait(). Exit status 128 + signal number,
 * as a shell reports a killed command.
 *
 * A signal while the VM is still being built is kept for when
 * machine_create() returns (the VM is then destroyed without running), and
 * it signals machine_config.cancel_fd so that a step waiting without a
 * bound (a vhost-user server waiting for its back end) gives up and
 * machine_create() unwinds.
 */
struct run_signals {
	sigset_t set;
	pthread_t thread;
	int cancel_fd;        /* eventfd: machine_config.cancel_fd */
	pthread_mutex_t lock;
	struct vm *vm;        /* lock; NULL while machine_create() runs */
	struct api_vmm *api;  /* lock; with the API, signals go to it */
	int pending;          /* lock; a signal that came during machine_create() */
	atomic_bool done;
	sem_t started;        /* posted once the thread is filtered */
	int start_ret;        /* its sandbox_enter(), read after started */
	/*
	 * Under the API the thread hands signals to the API's VMM, whose
	 * calls are not on the signal class's list: left unfiltered, like
	 * the API's own threads (docs/security.md).
	 */
	bool unfiltered;
};

static void *run_signal_thread(void *arg)
{
	struct run_signals *rs = arg;
	uint64_t one = 1;
	struct api_vmm *api;
	struct vm *vm;
	int sig;

	rs->start_ret = rs->unfiltered ? 0 :
			sandbox_enter(SANDBOX_SIGNAL, "iovmm-signal");
	sem_post(&rs->started);
	if (rs->start_ret)
		return NULL;
	while (!sigwait(&rs->set, &sig) && !atomic_load(&rs->done)) {
		pthread_mutex_lock(&rs->lock);
		vm = rs->vm;
		api = rs->api;
		if (!vm && !api && !rs->pending) {
			rs->pending = sig;
			if (write(rs->cancel_fd, &one, sizeof(one)) < 0)
				log_err("run", "cancel eventfd: %s", strerror(errno));
		}
		pthread_mutex_unlock(&rs->lock);
		log_info("run", "%s: stopping the VM", strsignal(sig));
		if (api)
			api_vmm_signal(api, sig);
		else if (vm)
			vm_request_stop(vm, 128 + sig);
	}
	return NULL;
}

static int run_signals_start(struct run_signals *rs)
{
	int ret;

	sigemptyset(&rs->set);
	sigaddset(&rs->set, SIGINT);
	sigaddset(&rs->set, SIGTERM);
	sigaddset(&rs->set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &rs->set, NULL);
	rs->cancel_fd = eventfd(0, EFD_CLOEXEC);
	if (rs->cancel_fd < 0)
		return -errno;
	pthread_mutex_init(&rs->lock, NULL);
	sem_init(&rs->started, 0, 0);
	ret = -pthread_create(&rs->thread, NULL, run_signal_thread, rs);
	if (!ret) {
		pthread_setname_np(rs->thread, "iovmm-signal");
		while (sem_wait(&rs->started) < 0 && errno == EINTR)
			;
		ret = rs->start_ret;
		if (ret)
			pthread_join(rs->thread, NULL);
	}
	sem_destroy(&rs->started);
	if (ret) {
		pthread_mutex_destroy(&rs->lock);
		close(rs->cancel_fd);
	}
	return ret;
}

/* The VM exists (vm non-NULL) or not: returns a signal already taken. */
static int run_signals_built(struct run_signals *rs, struct vm *vm)
{
	int sig;

	pthread_mutex_lock(&rs->lock);
	rs->vm = vm;
	sig = rs->pending;
	pthread_mutex_unlock(&rs->lock);
	return sig;
}

static void run_signals_stop(struct run_signals *rs)
{
	atomic_store(&rs->done, true);
	pthread_kill(rs->thread, SIGTERM);
	pthread_join(rs->thread, NULL);
	pthread_mutex_destroy(&rs->lock);
	close(rs->cancel_fd);
}

/*
 * The VMM under the API socket (docs/api.md): `iovmm serve` (cli NULL: no
 * VM until vm.create and vm.boot) or `iovmm run --api-socket` (the command
 * line's VM, booted at once; the process ends with it). Signals go to the
 * API's VMM, which stops the VM in the same order as without the API.
 */
static int run_api(const char *socket, struct cli_run *cli, const char *cmd)
{
	struct run_signals rs = { .unfiltered = true };
	struct api_vmm *v;
	char err[512] = "";
	int ret, sig;

	ret = run_signals_start(&rs);
	if (ret) {
		fprintf(stderr, "iovmm %s: signal thread: %s\n", cmd, strerror(-ret));
		return VM_EXIT_FATAL;
	}
	ret = api_vmm_create(socket, &v, err, sizeof(err));
	if (ret) {
		run_signals_stop(&rs);
		fprintf(stderr, "iovmm %s: %s\n", cmd, err[0] ? err : strerror(-ret));
		return VM_EXIT_CONFIG;
	}
	pthread_mutex_lock(&rs.lock);
	rs.api = v;
	sig = rs.pending;
	pthread_mutex_unlock(&rs.lock);
	if (sig)
		api_vmm_signal(v, sig);
	else if (cli)
		ret = api_vmm_boot_config(v, &cli->machine, err, sizeof(err));
	if (ret && ret != -ECANCELED)
		fprintf(stderr, "iovmm %s: %s\n", cmd, err[0] ? err : strerror(-ret));
	ret = ret && ret != -ECANCELED ? VM_EXIT_CONFIG : api_vmm_main(v);
	run_signals_stop(&rs);
	api_vmm_destroy(v);
	return ret;
}

static const char serve_usage[] =
	"usage: iovmm serve --api-socket PATH [-q]\n"
	"\n"
	"Serve the control API (Cloud Hypervisor's REST API over a UNIX socket)\n"
	"with no VM until vm.create and vm.boot; run until vmm.shutdown or\n"
	"SIGINT/SIGTERM/SIGHUP (a running VM is stopped in order first). Exit\n"
	"status 0 after vmm.shutdown, 128+N after signal N. See docs/api.md\n"
	"and `iovmm api --help`.\n";

static int cmd_serve(int argc, char **argv)
{
	const char *socket = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--api-socket") && i + 1 < argc) {
			socket = argv[++i];
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			log_set_level(LOG_ERR);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(serve_usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "iovmm serve: unexpected argument '%s'\n%s",
				argv[i], serve_usage);
			return VM_EXIT_CONFIG;
		}
	}
	if (!socket) {
		fprintf(stderr, "iovmm serve: --api-socket PATH is required\n");
		return VM_EXIT_CONFIG;
	}
	return run_api(socket, NULL, "serve");
}

static int cmd_run(int argc, char **argv)
{
	struct run_signals rs = { 0 };
	struct machine *m = NULL;
	struct cli_run opts;
	char err[512] = "";
	int ret, status, sig;

	if (cli_parse_run(argc, argv, &opts, err, sizeof(err))) {
		fprintf(stderr, "iovmm run: %s\n", err);
		cli_run_free(&opts);
		return VM_EXIT_CONFIG;
	}
	if (opts.help) {
		cli_print_run_usage(stdout);
		cli_run_free(&opts);
		return 0;
	}
	if (opts.quiet)
		log_set_level(LOG_ERR);
	ret = sandbox_configure(&opts.sandbox);
	if (ret) {
		fprintf(stderr, "iovmm run: seccomp filters unavailable here (%s): "
			"--seccomp=off runs without them\n", strerror(-ret));
		cli_run_free(&opts);
		return VM_EXIT_CONFIG;
	}
	if (opts.api_socket) {
		if (opts.sandbox.has_user || opts.sandbox.chroot_dir) {
			fprintf(stderr, "iovmm run: --user and --chroot do not go with "
				"--api-socket yet (the API builds and tears down VMs "
				"with the privileges it started with)\n");
			cli_run_free(&opts);
			return VM_EXIT_CONFIG;
		}
		status = run_api(opts.api_socket, &opts, "run");
		cli_run_free(&opts);
		return status;
	}
	ret = run_signals_start(&rs);
	if (ret) {
		fprintf(stderr, "iovmm run: signal thread: %s\n", strerror(-ret));
		cli_run_free(&opts);
		return VM_EXIT_FATAL;
	}
	opts.machine.cancel_fd = rs.cancel_fd;
	ret = machine_create(&opts.machine, &m, err, sizeof(err));
	sig = run_signals_built(&rs, ret ? NULL : machine_vm(m));
	if (ret) {
		run_signals_stop(&rs);
		if (sig)
			fprintf(stderr, "iovmm run: %s while building the VM\n",
				strsignal(sig));
		else
			fprintf(stderr, "iovmm run: %s\n",
				err[0] ? err : strerror(-ret));
		cli_run_free(&opts);
		return sig ? 128 + sig : VM_EXIT_CONFIG;
	}
	/*
	 * Every privileged open is done (KVM, VFIO, taps, hugetlbfs, disks,
	 * vhost-user sockets): give up the privileges before the guest runs.
	 */
	testhook_after_create(m);
	if (!sig && sandbox_drop_privileges(&opts.sandbox, err, sizeof(err))) {
		fprintf(stderr, "iovmm run: %s\n", err);
		status = VM_EXIT_CONFIG;
	} else {
		/* Stopped before it ran: destroyed in order all the same. */
		status = sig ? 128 + sig : machine_run(m);
	}
	run_signals_stop(&rs);
	if (opts.stats)
		stats_print(stderr, m);
	machine_destroy(m);
	cli_run_free(&opts);
	return status;
}

static int cmd_version(int argc, char **argv)
{
	printf("iovmm %s\n", IOVMM_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "run", cmd_run, "boot a kernel in a new VM (iovmm run --help)" },
	{ "serve", cmd_serve,
	  "serve the control API, no VM until vm.create (docs/api.md)" },
	{ "api", api_cmd_main,
	  "one request to an API socket (iovmm api --help)" },
	{ "demo", demo_main, "run the guest kit's tests and the exit-cost table" },
	{ "bench", bench_main, "measure and compare (iovmm bench --help)" },
	{ "vfio", vfio_cmd_main, "host VFIO devices: list, bind, unbind" },
	{ "sriov", sriov_cmd_main,
	  "SR-IOV VFs: list, show, create, destroy, set, token, repair" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "this text" },
};

static int cmd_help(int argc, char **argv)
{
	printf("usage: iovmm COMMAND [ARGS]\n\n"
	       "iovmm is a KVM virtual machine monitor built around I/O.\n\n"
	       "commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-8s %s\n", commands[i].name, commands[i].summary);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cmd_help(0, NULL);
		return VM_EXIT_CONFIG;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(0, NULL);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(0, NULL);
	/* No usable KVM here: the KVM commands run inside the lab's L1. */
	if (!strcmp(argv[1], "demo") || !strcmp(argv[1], "bench"))
		nested_maybe_reexec(argc, argv);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "iovmm: unknown command '%s' (see iovmm --help)\n",
		argv[1]);
	return VM_EXIT_CONFIG;
}
