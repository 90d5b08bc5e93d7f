// SPDX-License-Identifier: MIT
/*
 * `iovmm api SOCKET VERB [BODY]`: one request to an iovmm (or Cloud
 * Hypervisor) API socket, for scripts, as ch-remote is. The response body
 * goes to stdout; the exit status is 0 for a 2xx answer, 1 for any other
 * answer (the status and the server's sentence on stderr), 2 for a bad
 * command line or a socket that does not answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/util.h"
#include "tools/api_cmd.h"

#define API_CMD_MAX_BODY (64 * 1024)
#define API_CMD_MAX_RESPONSE (1024 * 1024)

static const char api_cmd_usage[] =
	"usage: iovmm api SOCKET VERB [JSON | @FILE | -]\n"
	"\n"
	"Send one request to the API socket of `iovmm serve` or\n"
	"`iovmm run --api-socket` and print the response body.\n"
	"VERB is the endpoint, e.g. vmm.ping, vm.create, vm.boot, vm.info,\n"
	"vm.counters, vm.pause, vm.resume, vm.reboot, vm.shutdown,\n"
	"vmm.shutdown, iovmm.io-stats, 'iovmm.events?after=0&timeout=5'.\n"
	"The body (vm.create's VmConfig) is given inline, read from FILE, or\n"
	"from stdin (-). See docs/api.md.\n"
	"\n"
	"Exit status: 0 for a 2xx answer, 1 for an error answer, 2 for a bad\n"
	"command line or an API socket that does not answer.\n";

/* The endpoints read with GET (CH's API: everything else is PUT). */
static const char *const api_get_verbs[] = {
	"vmm.ping", "vm.info", "vm.counters", "vm.balloon-stats",
	"iovmm.io-stats", "iovmm.events",
};

static const char *api_cmd_method(const char *verb)
{
	size_t n = strcspn(verb, "?");

	for (size_t i = 0; i < ARRAY_SIZE(api_get_verbs); i++)
		if (strlen(api_get_verbs[i]) == n &&
		    !strncmp(api_get_verbs[i], verb, n))
			return "GET";
	return "PUT";
}

/* Read all of fd (bounded) into a NUL-terminated buffer. */
static char *api_cmd_slurp(int fd, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1), *nb;
	ssize_t r;

	while (buf) {
		if (n == cap) {
			if (cap >= max)
				break;
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb)
				break;
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		n += (size_t)r;
	}
	free(buf);
	return NULL;
}

static char *api_cmd_body(const char *arg, size_t *len)
{
	int fd;
	char *body;

	if (arg[0] != '@' && strcmp(arg, "-")) {
		*len = strlen(arg);
		return strdup(arg);
	}
	fd = strcmp(arg, "-") ? open(arg + 1, O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0) {
		fprintf(stderr, "iovmm api: %s: %s\n", arg + 1, strerror(errno));
		return NULL;
	}
	body = api_cmd_slurp(fd, API_CMD_MAX_BODY, len);
	if (fd)
		close(fd);
	if (!body)
		fprintf(stderr, "iovmm api: body larger than 64 KiB\n");
	return body;
}

static int api_cmd_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "iovmm api: %s: path too long\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	fprintf(stderr, "iovmm api: cannot connect to %s: %s\n", path,
		strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int api_cmd_send(int fd, const char *verb, const char *body,
			size_t blen)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "%s /api/v1/%s HTTP/1.1\r\nHost: localhost\r\n"
			 "Accept: application/json\r\nConnection: close\r\n"
			 "%sContent-Length: %zu\r\n\r\n",
			 api_cmd_method(verb), verb,
			 blen ? "Content-Type: application/json\r\n" : "", blen);

	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	/* A server that refuses early (413) may close first: no SIGPIPE. */
	if (send(fd, head, (size_t)n, MSG_NOSIGNAL) != n ||
	    (blen && send(fd, body, blen, MSG_NOSIGNAL) != (ssize_t)blen))
		return -1;
	return 0;
}

/* Print the body; 0 for 2xx, 1 for another status, 2 for no answer. */
static int api_cmd_answer(const char *verb, const char *resp, size_t len)
{
	const char *body = strstr(resp, "\r\n\r\n");
	int status;

	if (len < 12 || sscanf(resp, "HTTP/1.%*1d %3d", &status) != 1 || !body) {
		fprintf(stderr, "iovmm api: %s: no HTTP answer\n", verb);
		return 2;
	}
	body += 4;
	if (status >= 200 && status < 300) {
		if (*body)
			printf("%s\n", body);
		return 0;
	}
	fprintf(stderr, "iovmm api: %s: HTTP %d%s%s\n", verb, status,
		*body ? ": " : "", body);
	return 1;
}

int api_cmd_main(int argc, char **argv)
{
	char *body = NULL, *resp = NULL;
	size_t blen = 0, rlen = 0;
	int fd, ret = 2;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(api_cmd_usage, stdout);
		return 0;
	}
	if (argc < 3 || argc > 4) {
		fputs(api_cmd_usage, stderr);
		return 2;
	}
	if (argc == 4 && !(body = api_cmd_body(argv[3], &blen)))
		return 2;
	fd = api_cmd_connect(argv[1]);
	if (fd >= 0) {
		/* Even when sending failed, the server may have answered. */
		api_cmd_send(fd, argv[2], body, blen);
		resp = api_cmd_slurp(fd, API_CMD_MAX_RESPONSE, &rlen);
		if (resp)
			ret = api_cmd_answer(argv[2], resp, rlen);
		else
			fprintf(stderr, "iovmm api: %s: no answer from %s\n",
				argv[2], argv[1]);
		close(fd);
	}
	free(resp);
	free(body);
	return ret;
}
