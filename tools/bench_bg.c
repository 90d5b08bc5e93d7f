// SPDX-License-Identifier: MIT
/*
 * Background helpers of the benchmark drivers: a back end (iovmm-vswitch,
 * dpdk-testpmd) started before a measurement and stopped after it, with
 * its output in a log file that the driver polls for a "ready" line.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/bench.h"

#define BENCH_LOG_MAX (2u << 20)

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_sleep(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * The log is truncated here, before fork(), so nobody reads the previous
 * run's output as this one's.
 */
int bench_bg_start(char *const argv[], const char *log, struct bench_bg *bg)
{
	int out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (out < 0)
		return -errno;
	snprintf(bg->log, sizeof(bg->log), "%s", log);
	bg->pid = fork();
	if (bg->pid < 0) {
		close(out);
		return -errno;
	}
	if (bg->pid == 0) {
		int in = open("/dev/null", O_RDONLY);

		if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
		    dup2(out, 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		dprintf(2, "bench: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out);
	return 0;
}

int bench_bg_stop(struct bench_bg *bg)
{
	int status = 0;

	if (bg->pid <= 0)
		return 0;
	kill(bg->pid, SIGINT);
	for (int i = 0; i < 200; i++) {
		if (waitpid(bg->pid, &status, WNOHANG) == bg->pid) {
			bg->pid = 0;
			return status;
		}
		bench_sleep(0.05);
	}
	kill(bg->pid, SIGKILL);
	waitpid(bg->pid, &status, 0);
	bg->pid = 0;
	return status;
}

char *bench_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(BENCH_LOG_MAX + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, BENCH_LOG_MAX, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

int bench_bg_wait(struct bench_bg *bg, const char *needle, double timeout_s)
{
	double end = bench_now() + timeout_s;
	int status;

	while (bench_now() < end) {
		char *log = bench_slurp(bg->log);
		bool found = log && strstr(log, needle);

		free(log);
		if (found)
			return 0;
		if (waitpid(bg->pid, &status, WNOHANG) == bg->pid) {
			bg->pid = 0;
			return -ECHILD;
		}
		bench_sleep(0.05);
	}
	return -ETIMEDOUT;
}

int bench_bg_wait_exit(struct bench_bg *bg, double timeout_s, int *status)
{
	double end = bench_now() + timeout_s;

	while (bg->pid > 0) {
		if (waitpid(bg->pid, status, WNOHANG) == bg->pid) {
			bg->pid = 0;
			return 0;
		}
		if (bench_now() >= end)
			return -ETIMEDOUT;
		bench_sleep(0.05);
	}
	return -ECHILD;
}

void bench_bg_show_log(const char *who, const char *what, const char *path)
{
	char *log = bench_slurp(path);
	size_t len = log ? strlen(log) : 0;
	const char *p = log ? log + len : NULL;

	for (int lines = 0; p && p > log && lines < 15; p--)
		if (p[-1] == '\n')
			lines++;
	fprintf(stderr, "%s: %s; end of %s:\n%s\n", who, what, path,
		p ? p : "(no log)");
	free(log);
}

int bench_vswitch_start(const char *vswitch, const char *sock, const char *log,
			struct bench_bg *bg)
{
	char port[PATH_MAX + 8];
	int ret;

	snprintf(port, sizeof(port), "vhost:%s", sock);
	char *const argv[] = { (char *)vswitch, "--lcores", "0@1,1@0", "--",
			       "--port", port, "--mode", "loopback", NULL };
	ret = bench_bg_start(argv, log, bg);
	if (!ret)
		ret = bench_bg_wait(bg, "iovmm-vswitch: ready", 30);
	return ret;
}
