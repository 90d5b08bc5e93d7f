// SPDX-License-Identifier: MIT
/*
 * seccomp-bpf per thread class and the privilege drop (core/sandbox.h).
 *
 * The policy is the two tables below: which syscalls each class may make
 * (with an argument rule where one is cheap and worth it) and which ioctl
 * requests. They were derived from `strace -ff` of real runs (every kit
 * test over every emulated device, tap, vhost-user with dpdk-testpmd as
 * client and server, a back end killed and reconnected, SIGTERM and SIGINT
 * stops) plus reading the VFIO paths, which only the lab exercises. How to
 * extend a list: docs/security.md.
 *
 * Why SECCOMP_RET_TRAP before the kill in "on" mode: SECCOMP_RET_KILL_PROCESS
 * alone leaves nothing but "Bad system call" and, when auditing is on, a
 * kernel log line. So the default action traps; the SIGSYS handler writes
 * one line naming the thread, its class and the syscall, then calls
 * rt_sigaction(SIGSYS), which every filter answers with KILL_PROCESS: the
 * kernel kills the process by SIGSYS, and no thread can replace the handler
 * to survive a violation (SIGSYS blocked or ignored is forced to kill too).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/seccomp.h>
#include <linux/vfio.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sandbox.h"
#include "core/util.h"

#define C_MAIN (1u << SANDBOX_MAIN)
#define C_SIG (1u << SANDBOX_SIGNAL)
#define C_IO (1u << SANDBOX_IO)
#define C_VCPU (1u << SANDBOX_VCPU)
#define C_ALL (C_MAIN | C_SIG | C_IO | C_VCPU)

/* How a syscall's arguments are restricted (all must hold). */
enum sb_arg {
	SB_ANY,
	SB_IOCTL,      /* request (arg1) in the class's rows of sb_ioctls */
	SB_NO_EXEC,    /* mmap/mprotect: prot (arg2) without PROT_EXEC */
	SB_AF_UNIX,    /* socket: domain AF_UNIX */
	SB_AF_NETLINK, /* socket: domain AF_NETLINK */
	SB_SELF,       /* tgkill: tgid (arg0) is this process */
	SB_SETXID,     /* setres[ug]id/setgroups: only to the --user ids */
	SB_QUERY,      /* sigaltstack: arg0 NULL, i.e. only asks */
};

struct sb_syscall {
	int nr;
	unsigned classes;
	enum sb_arg arg;
};

/*
 * Every class: what glibc and the log need (malloc, stdio, futex-based
 * locks, the vDSO's fallbacks, thread exit), and SIGUSR1's return. No
 * clone/clone3, execve, open, ptrace, mount: no thread is created and no
 * file opened once a thread runs filtered, except what MAIN tears down.
 */
static const struct sb_syscall sb_syscalls[] = {
	{ SCMP_SYS(read), C_ALL, SB_ANY },
	{ SCMP_SYS(write), C_ALL, SB_ANY },
	{ SCMP_SYS(readv), C_ALL, SB_ANY },
	{ SCMP_SYS(writev), C_ALL, SB_ANY },
	{ SCMP_SYS(close), C_ALL, SB_ANY },
	{ SCMP_SYS(fstat), C_ALL, SB_ANY },
	{ SCMP_SYS(newfstatat), C_ALL, SB_ANY },
	{ SCMP_SYS(lseek), C_ALL, SB_ANY },
	{ SCMP_SYS(futex), C_ALL, SB_ANY },
	{ SCMP_SYS(mmap), C_ALL, SB_NO_EXEC },
	{ SCMP_SYS(mprotect), C_ALL, SB_NO_EXEC },
	{ SCMP_SYS(munmap), C_ALL, SB_ANY },
	{ SCMP_SYS(mremap), C_ALL, SB_ANY },
	{ SCMP_SYS(madvise), C_ALL, SB_ANY },
	{ SCMP_SYS(brk), C_ALL, SB_ANY },
	{ SCMP_SYS(rt_sigreturn), C_ALL, SB_ANY },
	{ SCMP_SYS(rt_sigprocmask), C_ALL, SB_ANY },
	{ SCMP_SYS(restart_syscall), C_ALL, SB_ANY },
	{ SCMP_SYS(clock_gettime), C_ALL, SB_ANY },
	{ SCMP_SYS(clock_nanosleep), C_ALL, SB_ANY },
	{ SCMP_SYS(nanosleep), C_ALL, SB_ANY },
	{ SCMP_SYS(gettimeofday), C_ALL, SB_ANY },
	{ SCMP_SYS(time), C_ALL, SB_ANY },
	{ SCMP_SYS(getpid), C_ALL, SB_ANY },
	{ SCMP_SYS(gettid), C_ALL, SB_ANY },
	{ SCMP_SYS(tgkill), C_ALL, SB_SELF },
	{ SCMP_SYS(sched_yield), C_ALL, SB_ANY },
	{ SCMP_SYS(getrandom), C_ALL, SB_ANY },
	{ SCMP_SYS(exit), C_ALL, SB_ANY },
	{ SCMP_SYS(exit_group), C_ALL, SB_ANY },
	/* Which alternate stack is set (ASan asks at any time). */
	{ SCMP_SYS(sigaltstack), C_ALL, SB_QUERY },
	/* Signal thread: sigwait(). */
	{ SCMP_SYS(rt_sigtimedwait), C_SIG, SB_ANY },
	/*
	 * glibc runs setresuid() & co. on every thread (SIGSETXID), so the
	 * signal thread, filtered before the drop, must allow the drop.
	 */
	{ SCMP_SYS(setresuid), C_SIG, SB_SETXID },
	{ SCMP_SYS(setresgid), C_SIG, SB_SETXID },
	{ SCMP_SYS(setgroups), C_SIG, SB_SETXID },
	/* Device models, vCPU and I/O thread alike. */
	{ SCMP_SYS(ioctl), C_MAIN | C_IO | C_VCPU, SB_IOCTL },
	{ SCMP_SYS(pread64), C_MAIN | C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(pwrite64), C_MAIN | C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(preadv), C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(pwritev), C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(fdatasync), C_MAIN | C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(fsync), C_MAIN | C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(fallocate), C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(eventfd2), C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(fcntl), C_MAIN | C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(dup), C_MAIN | C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(epoll_ctl), C_MAIN | C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(poll), C_MAIN | C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(ppoll), C_MAIN | C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(sendmsg), C_MAIN | C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(recvmsg), C_MAIN | C_IO | C_VCPU, SB_ANY },
	{ SCMP_SYS(timerfd_settime), C_IO | C_VCPU, SB_ANY },
	/* I/O thread: the loop, and vhost-user reconnection. */
	{ SCMP_SYS(epoll_wait), C_IO, SB_ANY },
	{ SCMP_SYS(epoll_pwait), C_IO, SB_ANY },
	{ SCMP_SYS(socket), C_IO | C_MAIN, SB_AF_UNIX },
	{ SCMP_SYS(connect), C_IO, SB_ANY },
	{ SCMP_SYS(accept4), C_IO, SB_ANY },
	{ SCMP_SYS(getsockopt), C_IO, SB_ANY },
	{ SCMP_SYS(sendto), C_IO | C_MAIN, SB_ANY },
	{ SCMP_SYS(recvfrom), C_IO | C_MAIN, SB_ANY },
	/*
	 * Main thread, tear-down: the vhost-user server socket, --stats
	 * (/proc/self), a pooled VF given back (sysfs, rtnetlink, the lease).
	 */
	{ SCMP_SYS(openat), C_MAIN, SB_ANY },
	{ SCMP_SYS(unlink), C_MAIN, SB_ANY },
	{ SCMP_SYS(unlinkat), C_MAIN, SB_ANY },
	{ SCMP_SYS(readlink), C_MAIN, SB_ANY },
	{ SCMP_SYS(readlinkat), C_MAIN, SB_ANY },
	{ SCMP_SYS(getdents64), C_MAIN, SB_ANY },
	{ SCMP_SYS(flock), C_MAIN, SB_ANY },
	{ SCMP_SYS(ftruncate), C_MAIN, SB_ANY },
	{ SCMP_SYS(mincore), C_MAIN, SB_ANY },
	{ SCMP_SYS(getrusage), C_MAIN, SB_ANY },
	{ SCMP_SYS(socket), C_MAIN, SB_AF_NETLINK },
	{ SCMP_SYS(bind), C_MAIN, SB_ANY },
	{ SCMP_SYS(getsockname), C_MAIN, SB_ANY },
	{ SCMP_SYS(setsockopt), C_MAIN, SB_ANY },
};

/*
 * ioctl requests per class. KVM_RUN only on vCPU threads; the I/O thread
 * may rewire interrupts (a vhost-user back end that came back, a level
 * INTx from a received frame) and set tap offloads (virtio-net control
 * queue); the vCPU threads also move BARs (memory slots) and drive
 * assigned functions (VFIO MSI/MSI-X, resets); the main thread undoes it
 * all at tear-down. No thread may create VMs, vCPUs or change CPUID.
 */
static const struct {
	unsigned long req;
	unsigned classes;
} sb_ioctls[] = {
	{ KVM_RUN, C_VCPU },
	{ KVM_GET_REGS, C_VCPU },
	{ KVM_GET_SREGS, C_VCPU },
	{ KVM_SET_USER_MEMORY_REGION, C_VCPU | C_MAIN },
	{ KVM_IRQFD, C_VCPU | C_IO | C_MAIN },
	{ KVM_IOEVENTFD, C_VCPU | C_IO | C_MAIN },
	{ KVM_IRQ_LINE, C_VCPU | C_IO | C_MAIN },
	{ KVM_SIGNAL_MSI, C_VCPU | C_IO | C_MAIN },
	{ KVM_SET_GSI_ROUTING, C_VCPU | C_IO | C_MAIN },
	{ TUNSETOFFLOAD, C_VCPU | C_IO },
	/*
	 * Kernel vhost-net (vhost-user/kernel.c): the rings are handed over at
	 * DRIVER_OK and taken back at a reset (vCPU thread, or the I/O thread
	 * after a ring error) and at tear-down (main).
	 */
	{ TUNSETVNETHDRSZ, C_VCPU | C_IO | C_MAIN },
	{ VHOST_SET_FEATURES, C_VCPU | C_IO | C_MAIN },
	{ VHOST_SET_MEM_TABLE, C_VCPU | C_IO | C_MAIN },
	{ VHOST_SET_VRING_NUM, C_VCPU | C_IO | C_MAIN },
	{ VHOST_SET_VRING_ADDR, C_VCPU | C_IO | C_MAIN },
	{ VHOST_SET_VRING_BASE, C_VCPU | C_IO | C_MAIN },
	{ VHOST_GET_VRING_BASE, C_VCPU | C_IO | C_MAIN },
	{ VHOST_SET_VRING_KICK, C_VCPU | C_IO | C_MAIN },
	{ VHOST_SET_VRING_CALL, C_VCPU | C_IO | C_MAIN },
	{ VHOST_SET_VRING_ERR, C_VCPU | C_IO | C_MAIN },
	{ VHOST_NET_SET_BACKEND, C_VCPU | C_IO | C_MAIN },
	{ VFIO_DEVICE_SET_IRQS, C_VCPU | C_MAIN },
	{ VFIO_DEVICE_GET_IRQ_INFO, C_VCPU | C_MAIN },
	{ VFIO_DEVICE_RESET, C_VCPU | C_MAIN },
	{ VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, C_VCPU | C_MAIN },
	{ VFIO_DEVICE_PCI_HOT_RESET, C_VCPU | C_MAIN },
	{ VFIO_IOMMU_UNMAP_DMA, C_MAIN },
	{ VFIO_GROUP_UNSET_CONTAINER, C_MAIN },
};

static const char *const sb_class_names[SANDBOX_NR_CLASSES] = {
	[SANDBOX_MAIN] = "main",
	[SANDBOX_SIGNAL] = "signal",
	[SANDBOX_IO] = "io",
	[SANDBOX_VCPU] = "vcpu",
};

static struct sandbox_config sb_cfg; /* set once before any thread starts */

/* For the SIGSYS handler, which may not allocate: names resolved up front. */
#define SB_MAX_NR 512
static char sb_nr_names[SB_MAX_NR][24];
static __thread const char *sb_thread_name;
static __thread enum sandbox_class sb_thread_class;

const char *sandbox_class_name(enum sandbox_class cls)
{
	return cls < SANDBOX_NR_CLASSES ? sb_class_names[cls] : "?";
}

int sandbox_parse_mode(const char *s, enum sandbox_mode *out)
{
	if (!strcmp(s, "on"))
		*out = SANDBOX_ON;
	else if (!strcmp(s, "log"))
		*out = SANDBOX_LOG;
	else if (!strcmp(s, "off"))
		*out = SANDBOX_OFF;
	else
		return -EINVAL;
	return 0;
}

/* Append s to buf at *n (async-signal-safe). */
static void sb_put(char *buf, size_t len, size_t *n, const char *s)
{
	while (*s && *n + 1 < len)
		buf[(*n)++] = *s++;
}

static void sb_put_num(char *buf, size_t len, size_t *n, long v)
{
	char tmp[24];
	int i = (int)sizeof(tmp) - 1;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u && i > 1);
	if (v < 0)
		tmp[--i] = '-';
	sb_put(buf, len, n, &tmp[i]);
}

static void sb_sigsys(int sig, siginfo_t *si, void *uctx)
{
	int nr = si->si_syscall;
	char msg[256];
	size_t n = 0;

	(void)sig;
	(void)uctx;
	sb_put(msg, sizeof(msg), &n, "iovmm: seccomp: thread ");
	sb_put(msg, sizeof(msg), &n, sb_thread_name ? sb_thread_name : "?");
	sb_put(msg, sizeof(msg), &n, " (class ");
	sb_put(msg, sizeof(msg), &n, sandbox_class_name(sb_thread_class));
	sb_put(msg, sizeof(msg), &n, ") made a forbidden system call ");
	sb_put(msg, sizeof(msg), &n, nr >= 0 && nr < SB_MAX_NR &&
	       sb_nr_names[nr][0] ? sb_nr_names[nr] : "?");
	sb_put(msg, sizeof(msg), &n, " (");
	sb_put_num(msg, sizeof(msg), &n, nr);
	sb_put(msg, sizeof(msg), &n, "); killing the process (docs/security.md)\n");
	if (write(STDERR_FILENO, msg, n) < 0) {
		/* nothing more to say */
	}
	/* Every filter kills the process on rt_sigaction(SIGSYS, ...). */
	syscall(SYS_rt_sigaction, SIGSYS, NULL, NULL, 8);
	_exit(128 + SIGSYS); /* not reached */
}

int sandbox_configure(const struct sandbox_config *cfg)
{
	struct sigaction sa = { .sa_sigaction = sb_sigsys,
				.sa_flags = SA_SIGINFO };

	uint32_t act = cfg->mode == SANDBOX_ON ? SECCOMP_RET_TRAP :
						 SECCOMP_RET_LOG;

	sb_cfg = *cfg;
	if (cfg->mode == SANDBOX_OFF)
		return 0;
	/*
	 * Refused here rather than in the first thread: a kernel without
	 * seccomp filters or these actions (LOG and KILL_PROCESS: 4.14),
	 * or valgrind, which does not implement seccomp(2).
	 */
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0,
		    &(uint32_t){ SECCOMP_RET_KILL_PROCESS }) < 0)
		return -errno;
	for (int nr = 0; nr < SB_MAX_NR; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (name)
			snprintf(sb_nr_names[nr], sizeof(sb_nr_names[nr]), "%s",
				 name);
		free(name);
	}
	sigemptyset(&sa.sa_mask);
	if (cfg->mode == SANDBOX_ON && sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	return 0;
}

static int sb_add_ioctls(scmp_filter_ctx ctx, unsigned cls_bit)
{
	for (size_t i = 0; i < ARRAY_SIZE(sb_ioctls); i++) {
		int ret;

		if (!(sb_ioctls[i].classes & cls_bit))
			continue;
		/* Compare the low 32 bits: the kernel's cmd is an unsigned int. */
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL,
					       (uint32_t)sb_ioctls[i].req));
		if (ret)
			return ret;
	}
	return 0;
}

static int sb_add_setxid(scmp_filter_ctx ctx, int nr)
{
	if (!sb_cfg.has_user)
		return 0;
	if (nr == SCMP_SYS(setgroups))
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A0(SCMP_CMP_EQ, 0));
	{
		scmp_datum_t id = nr == SCMP_SYS(setresuid) ? sb_cfg.uid :
							     sb_cfg.gid;

		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 3,
					SCMP_A0(SCMP_CMP_EQ, id),
					SCMP_A1(SCMP_CMP_EQ, id),
					SCMP_A2(SCMP_CMP_EQ, id));
	}
}

static int sb_add_rule(scmp_filter_ctx ctx, const struct sb_syscall *s,
		       unsigned cls_bit)
{
	switch (s->arg) {
	case SB_IOCTL:
		return sb_add_ioctls(ctx, cls_bit);
	case SB_NO_EXEC:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, s->nr, 1,
					SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case SB_AF_UNIX:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, s->nr, 1,
					SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	case SB_AF_NETLINK:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, s->nr, 1,
					SCMP_A0(SCMP_CMP_EQ, AF_NETLINK));
	case SB_SELF:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, s->nr, 1,
					SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	case SB_SETXID:
		return sb_add_setxid(ctx, s->nr);
	case SB_QUERY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, s->nr, 1,
					SCMP_A0(SCMP_CMP_EQ, 0));
	default:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, s->nr, 0);
	}
}

static int sb_build(scmp_filter_ctx ctx, enum sandbox_class cls)
{
	unsigned bit = 1u << cls;
	int ret;

	if ((ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 0)) ||
	    (ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) ||
	    (ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
				    SCMP_ACT_KILL_PROCESS)) ||
	    (ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)))
		return ret;
	/* The SIGSYS handler cannot be replaced; it ends the process here. */
	ret = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS,
			       SCMP_SYS(rt_sigaction), 1,
			       SCMP_A0(SCMP_CMP_EQ, SIGSYS));
	for (size_t i = 0; !ret && i < ARRAY_SIZE(sb_syscalls); i++)
		if (sb_syscalls[i].classes & bit)
			ret = sb_add_rule(ctx, &sb_syscalls[i], bit);
	return ret;
}

int sandbox_enter(enum sandbox_class cls, const char *thread_name)
{
	scmp_filter_ctx ctx;
	int ret;

	if (sb_cfg.mode == SANDBOX_OFF)
		return 0;
	if (cls >= SANDBOX_NR_CLASSES)
		return -EINVAL;
	sb_thread_name = thread_name;
	sb_thread_class = cls;
	/*
	 * The thread names itself: its creator's pthread_setname_np() goes
	 * through /proc, which a --chroot jail lacks, and the kernel's
	 * seccomp log records name the thread by this comm.
	 */
	prctl(PR_SET_NAME, thread_name, 0, 0, 0);
	ctx = seccomp_init(sb_cfg.mode == SANDBOX_ON ? SCMP_ACT_TRAP :
						       SCMP_ACT_LOG);
	if (!ctx)
		return -ENOMEM;
	ret = sb_build(ctx, cls);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret)
		log_err("sandbox", "%s: cannot install the %s seccomp filter: %s",
			thread_name, sandbox_class_name(cls), strerror(-ret));
	return ret;
}

int sandbox_parse_user(const char *s, uid_t *uid, gid_t *gid, char *err,
		       size_t errlen)
{
	char name[256], *colon, *end;
	const char *group = NULL;
	struct passwd *pw;
	struct group *gr;
	unsigned long n;

	if (!*s || strlen(s) >= sizeof(name))
		goto bad;
	snprintf(name, sizeof(name), "%s", s);
	colon = strchr(name, ':');
	if (colon) {
		*colon = '\0';
		group = colon + 1;
		if (!*group || !*name)
			goto bad;
	}
	errno = 0;
	n = strtoul(name, &end, 10);
	if (!*end && !errno && n < (uid_t)-1) {
		*uid = (uid_t)n;
		pw = getpwuid(*uid);
	} else {
		pw = getpwnam(name);
		if (!pw) {
			log_errf(err, errlen, "--user %s: no such user", s);
			return -EINVAL;
		}
		*uid = pw->pw_uid;
	}
	if (!group) {
		if (!pw) {
			log_errf(err, errlen,
				 "--user %s: uid %lu has no passwd entry: give UID:GID",
				 s, n);
			return -EINVAL;
		}
		*gid = pw->pw_gid;
		return 0;
	}
	errno = 0;
	n = strtoul(group, &end, 10);
	if (!*end && !errno && n < (gid_t)-1) {
		*gid = (gid_t)n;
		return 0;
	}
	gr = getgrnam(group);
	if (!gr) {
		log_errf(err, errlen, "--user %s: no such group '%s'", s, group);
		return -EINVAL;
	}
	*gid = gr->gr_gid;
	return 0;
bad:
	log_errf(err, errlen, "--user %s: expected UID[:GID] or NAME[:GROUP]", s);
	return -EINVAL;
}

/* After a switch away from root no capability may be left in any set. */
static int sb_check_no_caps(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted ||
		    data[i].inheritable)
			return -EPERM;
	return 0;
}

int sandbox_drop_privileges(const struct sandbox_config *cfg, char *err,
			    size_t errlen)
{
	uid_t r, e, s;
	int ret;

	if (cfg->chroot_dir &&
	    (chroot(cfg->chroot_dir) < 0 || chdir("/") < 0)) {
		ret = -errno;
		log_errf(err, errlen, "--chroot %s: %s", cfg->chroot_dir,
			 strerror(-ret));
		return ret;
	}
	if (!cfg->has_user)
		return 0;
	/* Groups before the user: setgroups/setgid need the privilege. */
	if (setgroups(0, NULL) < 0 ||
	    setresgid(cfg->gid, cfg->gid, cfg->gid) < 0 ||
	    setresuid(cfg->uid, cfg->uid, cfg->uid) < 0) {
		ret = -errno;
		log_errf(err, errlen, "--user %u:%u: %s", (unsigned)cfg->uid,
			 (unsigned)cfg->gid, strerror(-ret));
		return ret;
	}
	if (getresuid(&r, &e, &s) < 0 || r != cfg->uid || e != cfg->uid ||
	    s != cfg->uid) {
		log_errf(err, errlen, "--user: the user did not change");
		return -EPERM;
	}
	if (cfg->uid != 0 && (ret = sb_check_no_caps())) {
		log_errf(err, errlen, "--user: capabilities left after the switch: %s",
			 strerror(-ret));
		return ret;
	}
	return 0;
}
