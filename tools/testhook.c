// SPDX-License-Identifier: MIT
/*
 * Test hooks, linked only into the integ tests' iovmm-testhooks binary
 * (tools/testhook.h): a device thread making a syscall its seccomp class
 * forbids, so tests/integ/seccomp.sh can see the kill and its message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/ioloop.h"
#include "core/log.h"
#include "core/vm.h"
#include "machine/machine.h"
#include "tools/testhook.h"

static const char who[] = "testhook";

/* On the I/O thread: what an attacker running there would try first. */
static int testhook_execve(void *opaque, int fd, uint32_t events)
{
	char *const argv[] = { "iovmm-testhook", NULL };
	long ret;

	(void)opaque;
	(void)events;
	log_info(who, "I/O thread: execve(\"/nonexistent/iovmm-testhook\")");
	ret = syscall(SYS_execve, "/nonexistent/iovmm-testhook", argv, NULL);
	log_info(who, "execve returned %ld (%s): not filtered", ret,
		 ret < 0 ? strerror(errno) : "?");
	close(fd);
	return -1; /* drop the handler */
}

void testhook_after_create(struct machine *m)
{
	const char *what = getenv("IOVMM_TEST_FORBIDDEN_SYSCALL");
	uint64_t one = 1;
	int fd;

	if (!what)
		return;
	if (strcmp(what, "io")) {
		log_err(who, "IOVMM_TEST_FORBIDDEN_SYSCALL=%s: only io", what);
		return;
	}
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0 || write(fd, &one, sizeof(one)) != sizeof(one) ||
	    ioloop_add(vm_parts(machine_vm(m))->io, fd, EPOLLIN,
		       testhook_execve, NULL) < 0) {
		log_err(who, "cannot arm the hook: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
	}
}
