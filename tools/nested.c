// SPDX-License-Identifier: MIT
/* Re-running `iovmm demo` and `iovmm bench` inside the lab's L1 (nested.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tools/nested.h"
#include "tools/nested-paths.h"	/* IOVMM_SOURCE_ROOT, IOVMM_BUILD_ROOT */

int nested_kvm_usable(const char *dev)
{
	int fd, api, err;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	err = api < 0 ? -errno : api == KVM_API_VERSION ? 0 : -EPROTO;
	close(fd);
	return err;
}

static bool nested_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

void nested_maybe_reexec(int argc, char **argv)
{
	static const char runner[] = IOVMM_SOURCE_ROOT "/tests/nested/run.sh";
	const char *in_lab = getenv("IOVMM_IN_LAB");
	char exe[PATH_MAX];
	char **args;
	ssize_t n;
	int usable;

	/* Inside L1 already: its /dev/kvm is the one to use (or to fail on). */
	if (getenv("IOVMM_L1") || nested_wants_help(argc, argv))
		return;
	usable = nested_kvm_usable("/dev/kvm");
	if (usable == 0 && !(in_lab && !strcmp(in_lab, "1")))
		return;
	if (access(runner, X_OK) || access(IOVMM_BUILD_ROOT, W_OK)) {
		fprintf(stderr, "iovmm %s: %s%s, and no lab runner at %s to run "
			"nested (an installed iovmm cannot; use the build tree)\n",
			argv[1], usable ? "no usable /dev/kvm here: " :
			"IOVMM_IN_LAB=1 asks for the lab",
			usable ? strerror(-usable) : "", runner);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		fprintf(stderr, "iovmm %s: /proc/self/exe: %s\n", argv[1],
			strerror(errno));
		return;
	}
	exe[n] = '\0';

	/* run.sh --build BUILD -- EXE ARGS...: it prints why it runs nested. */
	args = calloc((size_t)argc + 6, sizeof(*args));
	if (!args) {
		fprintf(stderr, "iovmm %s: out of memory\n", argv[1]);
		return;
	}
	args[0] = (char *)runner;
	args[1] = "--build";
	args[2] = IOVMM_BUILD_ROOT;
	args[3] = "--";
	args[4] = exe;
	for (int i = 1; i < argc; i++)
		args[4 + i] = argv[i];
	fflush(NULL);
	execv(runner, args);
	fprintf(stderr, "iovmm %s: cannot start %s: %s\n", argv[1], runner,
		strerror(errno));
	free(args);
}
