// SPDX-License-Identifier: MIT
/*
 * kvm-stats: run a VMM (iovmm or QEMU) and report what KVM itself counted
 * for its VM, so both VMMs are measured the same way (lab benchmark
 * vfio-nvme-bench, docs/benchmarks.md "Lab: passthrough").
 *
 *   kvm-stats [--timeout S] [--first PREFIX] [--] CMD [ARG...]
 *
 * KVM keeps per-VM counters in debugfs, /sys/kernel/debug/kvm/PID-FD/
 * (exits, io_exits, mmio_exits, ...: the vCPU counters summed over the
 * VM's vCPUs), but removes that directory when the VM is destroyed, i.e.
 * the moment the VMM exits, so a sample taken "after the run" finds
 * nothing and one taken before the end misses the end. Instead this
 * helper takes its own reference to the VM: it watches /proc/PID/fd of
 * the VMM for an "anon_inode:kvm-vm" file and duplicates it with
 * pidfd_getfd(2). The VM (and its counters) then outlives the VMM, the
 * counters are read once it has exited (they are final: no vCPU runs any
 * more), and the reference is dropped. Holding the VM also holds what
 * the VM holds (a VFIO group added to the KVM VFIO device), so it is
 * dropped before this helper exits, and the next VMM can open the group.
 *
 * The VMM's stdout and stderr are relayed unchanged. Its first complete
 * stdout line starting with PREFIX (any line without --first) is timed
 * from just before fork(): "time to the first guest line", as
 * `iovmm bench exits` measures it. The /proc scan runs every millisecond
 * until the VM is found (before the guest starts), then every 200 ms.
 *
 * Last line, on stdout:
 *   kvm-stats: status=N vm=PID-FD vms=N first_line_ms=X wall_ms=X
 *              exits=N io_exits=N mmio_exits=N ...
 * (vm=none and no counters when no VM was seen; first_line_ms=none when no
 * such line came). Exit status: the VMM's, 128+SIG when it was killed by
 * a signal, 124 when --timeout (default 120 s) killed it, 125 when this
 * helper failed (debugfs not mounted, no pidfd_getfd...).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

#define KVM_DEBUGFS "/sys/kernel/debug/kvm"
#define MAX_VMS 4

/* The counters printed, in this order (x86 names; absent ones skipped).
 * exits: every VM exit KVM handled, in the kernel or not; io_exits: every
 * port I/O exit; mmio_exits: MMIO exits that went to the VMM. */
static const char *const counters[] = {
	"exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits",
	"irq_window_exits", "request_irq_exits", "signal_exits",
	"irq_injections", "insn_emulation", "nested_run",
};

struct held_vm {
	int fd_in_vmm;	/* the VM's fd number in the VMM */
	int fd;		/* our duplicate: keeps the VM alive */
	char dir[320];	/* its debugfs directory, "" if not found */
	uint64_t exits;
};

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * KVM names a VM's directory "TID-FD" after the thread that created it
 * (task_pid_nr(current) in kvm_create_vm_debugfs()): the process id when
 * the main thread did, else one of its threads. Look while they exist.
 */
static void find_debugfs_dir(pid_t pid, struct held_vm *vm)
{
	char path[96];
	struct dirent *de;
	DIR *d;

	snprintf(vm->dir, sizeof(vm->dir), KVM_DEBUGFS "/%d-%d", (int)pid,
		 vm->fd_in_vmm);
	if (access(vm->dir, R_OK) == 0)
		return;
	vm->dir[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(vm->dir, sizeof(vm->dir), KVM_DEBUGFS "/%s-%d",
			 de->d_name, vm->fd_in_vmm);
		if (access(vm->dir, R_OK) == 0)
			break;
		vm->dir[0] = '\0';
	}
	closedir(d);
}

/* Duplicate every kvm-vm fd of PID not held yet. */
static void scan_vms(pid_t pid, int pidfd, struct held_vm *vms, int *nvms)
{
	char dir[64], path[320], target[64];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL && *nvms < MAX_VMS) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		ssize_t n;
		bool known = false;

		if (*end || end == de->d_name)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, "anon_inode:kvm-vm") != 0)
			continue;
		for (int i = 0; i < *nvms; i++)
			known |= vms[i].fd_in_vmm == (int)fd;
		if (known)
			continue;
		n = syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
		if (n < 0) {
			fprintf(stderr, "kvm-stats: pidfd_getfd(%ld): %s\n",
				fd, strerror(errno));
			continue;
		}
		vms[*nvms].fd_in_vmm = (int)fd;
		vms[*nvms].fd = (int)n;
		vms[*nvms].exits = 0;
		find_debugfs_dir(pid, &vms[*nvms]);
		(*nvms)++;
	}
	closedir(d);
}

static int read_u64(const char *path, uint64_t *v)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*v = strtoull(buf, NULL, 10);
	return 0;
}

/* Relay one chunk of the VMM's stdout and time the first matching line. */
struct line_watch {
	const char *prefix;
	char line[256];
	size_t len;		/* bytes of the current line kept (capped) */
	double first_ms;	/* < 0: not seen yet */
};

static void watch_stdout(struct line_watch *w, const char *p, size_t n,
			 const struct timespec *t0)
{
	for (size_t i = 0; i < n && w->first_ms < 0; i++) {
		if (p[i] == '\n') {
			size_t plen = strlen(w->prefix);

			if (w->len >= plen &&
			    memcmp(w->line, w->prefix, plen) == 0)
				w->first_ms = ms_since(t0);
			w->len = 0;
		} else if (w->len < sizeof(w->line)) {
			w->line[w->len++] = p[i];
		}
	}
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: kvm-stats [--timeout S] [--first PREFIX] "
		"[--] CMD [ARG...]\n");
	exit(125);
}

static void print_counters(struct held_vm *vms, int nvms)
{
	char path[400];
	int best = -1;

	for (int i = 0; i < nvms; i++) {
		snprintf(path, sizeof(path), "%s/exits", vms[i].dir);
		if (vms[i].dir[0] && read_u64(path, &vms[i].exits) == 0 &&
		    (best < 0 || vms[i].exits > vms[best].exits))
			best = i;
	}
	if (best < 0) {
		printf(" vm=none");
		return;
	}
	printf(" vm=%s vms=%d", strrchr(vms[best].dir, '/') + 1, nvms);
	for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
		uint64_t v;

		snprintf(path, sizeof(path), "%s/%s", vms[best].dir,
			 counters[c]);
		if (read_u64(path, &v) == 0)
			printf(" %s=%llu", counters[c], (unsigned long long)v);
	}
}

int main(int argc, char **argv)
{
	struct line_watch watch = { .prefix = "", .first_ms = -1 };
	struct held_vm vms[MAX_VMS];
	int nvms = 0, out[2], err[2], pidfd, status = 0, rc;
	double timeout_ms = 120e3, wall_ms, next_scan = 0;
	bool killed = false;
	struct timespec t0;
	struct pollfd pfd[2];
	pid_t pid;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			timeout_ms = atof(argv[++i]) * 1e3;
		} else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc) {
			watch.prefix = argv[++i];
		} else {
			usage();
		}
	}
	if (i >= argc || timeout_ms <= 0)
		usage();
	if (access(KVM_DEBUGFS, R_OK) != 0) {
		fprintf(stderr, "kvm-stats: %s: %s (mount debugfs)\n",
			KVM_DEBUGFS, strerror(errno));
		return 125;
	}
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		perror("kvm-stats: pipe2");
		return 125;
	}
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("kvm-stats: fork");
		return 125;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 ||
		    dup2(err[1], 2) < 0)
			_exit(125);
		execvp(argv[i], argv + i);
		fprintf(stderr, "kvm-stats: %s: %s\n", argv[i], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		fprintf(stderr, "kvm-stats: pidfd_open: %s\n", strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 125;
	}
	pfd[0] = (struct pollfd){ .fd = out[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = err[0], .events = POLLIN };
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		double now = ms_since(&t0), left = timeout_ms - now;
		int wait_ms;

		if (left <= 0 && !killed) {
			fprintf(stderr, "kvm-stats: timeout, killing %d\n",
				(int)pid);
			kill(pid, SIGKILL);
			killed = true;
		}
		if (now >= next_scan) {
			scan_vms(pid, pidfd, vms, &nvms);
			next_scan = now + (nvms ? 200 : 1);
		}
		wait_ms = (int)(next_scan - now) + 1;
		if (!killed && left < wait_ms)
			wait_ms = (int)left + 1;
		if (poll(pfd, 2, wait_ms) < 0 && errno != EINTR)
			break;
		for (int k = 0; k < 2; k++) {
			char chunk[4096];
			ssize_t n;

			if (pfd[k].fd < 0 || !pfd[k].revents)
				continue;
			n = read(pfd[k].fd, chunk, sizeof(chunk));
			if (n <= 0) {
				close(pfd[k].fd);
				pfd[k].fd = -1;
				continue;
			}
			if (k == 0)
				watch_stdout(&watch, chunk, (size_t)n, &t0);
			write_all(k == 0 ? 1 : 2, chunk, (size_t)n);
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	wall_ms = ms_since(&t0);
	if (killed)
		rc = 124;
	else if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	else
		rc = WEXITSTATUS(status);
	printf("kvm-stats: status=%d", rc);
	print_counters(vms, nvms);
	if (watch.first_ms >= 0)
		printf(" first_line_ms=%.1f", watch.first_ms);
	else
		printf(" first_line_ms=none");
	printf(" wall_ms=%.1f\n", wall_ms);
	fflush(stdout);
	/* Drop the VMs (and the VFIO groups their KVM devices hold). */
	for (int v = 0; v < nvms; v++)
		close(vms[v].fd);
	close(pidfd);
	return rc;
}
