/* SPDX-License-Identifier: MIT */
/*
 * The process sandbox: one seccomp-bpf allow-list per thread class, each
 * thread installing its own class's filter when it starts (no TSYNC, so
 * each class keeps its own), and the privilege drop (chroot, user, group,
 * capabilities) that runs after every privileged open. Policy lives in one
 * table in core/sandbox.c; docs/security.md lists it and how to extend it.
 *
 * The mode is process-wide and off until sandbox_configure() says
 * otherwise, so library users (unit tests, iovmm bench's in-process code)
 * are unaffected; `iovmm run` turns it on by default.
 */
#ifndef IOVMM_SANDBOX_H
#define IOVMM_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum sandbox_mode {
	SANDBOX_OFF,
	/*
	 * A forbidden syscall is allowed and the kernel logs it (audit
	 * record type 1326, SECCOMP, in dmesg/audit.log; comm= is the
	 * thread's name). For finding what a list lacks.
	 */
	SANDBOX_LOG,
	/*
	 * A forbidden syscall traps (SIGSYS): iovmm prints which thread, class
	 * and syscall on stderr, then the kernel kills the process
	 * (SECCOMP_RET_KILL_PROCESS, the process dies by SIGSYS).
	 */
	SANDBOX_ON,
};

enum sandbox_class {
	SANDBOX_MAIN,   /* after it started the VM's threads: waits, tears down */
	SANDBOX_SIGNAL, /* sigwait() on SIGINT/SIGTERM/SIGHUP, stops the VM */
	SANDBOX_IO,     /* the epoll I/O thread: back ends, vhost-user control */
	SANDBOX_VCPU,   /* KVM_RUN and the exit handlers (device models) */
	SANDBOX_NR_CLASSES,
};

struct sandbox_config {
	enum sandbox_mode mode;
	/*
	 * The credentials sandbox_drop_privileges() will switch to, known
	 * before any thread starts: glibc applies setresuid() to every
	 * thread by signalling it, so a thread already filtered must allow
	 * exactly these calls.
	 */
	bool has_user;
	uid_t uid;
	gid_t gid;
	const char *chroot_dir; /* NULL: none */
};

/*
 * Set the process-wide mode and credentials; with SANDBOX_ON installs the
 * SIGSYS handler. Call once from the main thread before any thread starts.
 * -errno (ENOSYS, EOPNOTSUPP) when seccomp(2) or the mode's actions are
 * unavailable (an old kernel, valgrind) and mode != off.
 */
int sandbox_configure(const struct sandbox_config *cfg);

/*
 * The calling thread names itself thread_name (borrowed, must outlive the
 * thread; at most 15 bytes shown) and installs cls's filter (a no-op when
 * off); a violation report names the thread by it.
 * Call at the thread's start, after its set-up and before it handles guest or peer
 * input. 0 or -errno (the thread must not go on: the VM is stopped).
 */
int sandbox_enter(enum sandbox_class cls, const char *thread_name);

const char *sandbox_class_name(enum sandbox_class cls);
/* "on", "log", "off": 0 or -EINVAL. */
int sandbox_parse_mode(const char *s, enum sandbox_mode *out);
/*
 * "UID:GID", "UID", "NAME" or "NAME:GROUP" (a bare name takes the user's
 * primary group). 0 or -EINVAL with a one-line reason in err.
 */
int sandbox_parse_user(const char *s, uid_t *uid, gid_t *gid, char *err,
		       size_t errlen);

/*
 * chroot() to cfg->chroot_dir and chdir("/"), then clear supplementary
 * groups and switch group and user (real, effective and saved), then check
 * that no capability is left when the user is not root. Call after every
 * privileged open and before the guest runs. 0 or -errno and a reason.
 */
int sandbox_drop_privileges(const struct sandbox_config *cfg, char *err,
			    size_t errlen);

#endif
