// SPDX-License-Identifier: MIT
/*
 * core/sandbox.c: each case runs in a child process that installs one
 * class's filter and then makes calls; the parent reads how the child
 * ended and what it wrote on stderr. No KVM needed.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/sandbox.h"

typedef int (*probe_fn)(void);

struct outcome {
	int status;      /* waitpid status */
	char err[512];   /* what the child wrote on stderr */
};

/* Child: configure mode, enter cls, run probe, exit with its result. */
static void run_child(enum sandbox_mode mode, enum sandbox_class cls,
		      probe_fn probe, struct outcome *o)
{
	struct sandbox_config cfg = { .mode = mode };
	int p[2];
	pid_t pid;
	ssize_t n;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		if (sandbox_configure(&cfg) || sandbox_enter(cls, "t-thread"))
			_exit(100);
		_exit(probe());
	}
	close(p[1]);
	memset(o, 0, sizeof(*o));
	n = read(p[0], o->err, sizeof(o->err) - 1);
	(void)n;
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &o->status, 0), pid);
}

static int probe_allowed(void)
{
	char buf[8];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0); /* io: AF_UNIX is fine */
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (fd < 0 || m == MAP_FAILED)
		return 1;
	close(fd);
	munmap(m, 4096);
	snprintf(buf, sizeof(buf), "%d", getpid());
	free(malloc(1 << 20));
	return 0;
}

static int probe_inet(void)
{
	return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 2;
}

static int probe_exec_map(void)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return m == MAP_FAILED ? 2 : 0;
}

static int probe_open(void)
{
	int fd = open("/dev/null", O_RDONLY);

	return fd >= 0 ? 0 : 2;
}

/* An ioctl request no class lists. */
static int probe_tty_ioctl(void)
{
	struct winsize ws;

	ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
	return 0;
}

/* KVM_RUN on a non-KVM fd: allowed through the filter (ENOTTY). */
static int probe_kvm_run(void)
{
	return ioctl(STDIN_FILENO, KVM_RUN, 0) < 0 && errno == ENOTTY ? 0 : 2;
}

static int probe_replace_sigsys(void)
{
	signal(SIGSYS, SIG_IGN);
	return 0;
}

static void assert_killed(const struct outcome *o, const char *cls,
			  const char *call)
{
	char want[128];

	ck_assert_msg(WIFSIGNALED(o->status) && WTERMSIG(o->status) == SIGSYS,
		      "not killed by SIGSYS (status 0x%x), stderr: %s",
		      o->status, o->err);
	snprintf(want, sizeof(want),
		 "thread t-thread (class %s) made a forbidden system call %s (",
		 cls, call);
	ck_assert_msg(strstr(o->err, want), "'%s' lacks '%s'", o->err, want);
}

static void assert_exit(const struct outcome *o, int code)
{
	ck_assert_msg(WIFEXITED(o->status) && WEXITSTATUS(o->status) == code,
		      "status 0x%x (want exit %d), stderr: %s", o->status, code,
		      o->err);
}

/* Calls a class allows, and anything in log and off modes. */
START_TEST(test_allowed_calls)
{
	static const struct {
		enum sandbox_mode mode;
		enum sandbox_class cls;
		probe_fn probe;
	} cases[] = {
		{ SANDBOX_ON, SANDBOX_IO, probe_allowed },
		{ SANDBOX_ON, SANDBOX_VCPU, probe_kvm_run },
		{ SANDBOX_LOG, SANDBOX_IO, probe_inet },
		{ SANDBOX_OFF, SANDBOX_VCPU, probe_open },
	};
	struct outcome o;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_child(cases[i].mode, cases[i].cls, cases[i].probe, &o);
		assert_exit(&o, 0);
	}
}
END_TEST

/* Each forbidden call kills the process and names thread, class, call. */
START_TEST(test_forbidden_calls_kill)
{
	static const struct {
		enum sandbox_class cls;
		probe_fn probe;
		const char *call;
	} cases[] = {
		{ SANDBOX_IO, probe_inet, "socket" },      /* AF_UNIX only */
		{ SANDBOX_VCPU, probe_exec_map, "mmap" },  /* no PROT_EXEC */
		{ SANDBOX_VCPU, probe_open, "openat" },
		{ SANDBOX_VCPU, probe_tty_ioctl, "ioctl" }, /* request not listed */
		{ SANDBOX_IO, probe_kvm_run, "ioctl" },    /* KVM_RUN: vCPUs only */
		{ SANDBOX_SIGNAL, probe_allowed, "socket" },
	};
	struct outcome o;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_child(SANDBOX_ON, cases[i].cls, cases[i].probe, &o);
		assert_killed(&o, sandbox_class_name(cases[i].cls), cases[i].call);
	}
	/* The handler cannot be replaced: the attempt itself kills. */
	run_child(SANDBOX_ON, SANDBOX_MAIN, probe_replace_sigsys, &o);
	ck_assert_msg(WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGSYS,
		      "status 0x%x", o.status);
}
END_TEST

START_TEST(test_parse)
{
	enum sandbox_mode m;
	char err[128];
	uid_t u;
	gid_t g;

	ck_assert_int_eq(sandbox_parse_mode("on", &m), 0);
	ck_assert_int_eq(m, SANDBOX_ON);
	ck_assert_int_eq(sandbox_parse_mode("log", &m), 0);
	ck_assert_int_eq(m, SANDBOX_LOG);
	ck_assert_int_eq(sandbox_parse_mode("off", &m), 0);
	ck_assert_int_eq(m, SANDBOX_OFF);
	ck_assert_int_eq(sandbox_parse_mode("yes", &m), -EINVAL);
	ck_assert_int_eq(sandbox_parse_user("123:456", &u, &g, err, sizeof(err)), 0);
	ck_assert_uint_eq(u, 123);
	ck_assert_uint_eq(g, 456);
	ck_assert_int_eq(sandbox_parse_user("0", &u, &g, err, sizeof(err)), 0);
	ck_assert_uint_eq(u, 0);
	ck_assert_uint_eq(g, 0);
	ck_assert_int_eq(sandbox_parse_user("", &u, &g, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(sandbox_class_name(SANDBOX_VCPU), "vcpu");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("seccomp");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_allowed_calls);
	tcase_add_test(tc, test_forbidden_calls_kill);
	tcase_add_test(tc, test_parse);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
