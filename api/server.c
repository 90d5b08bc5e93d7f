// SPDX-License-Identifier: MIT
/* The API socket and its connections (api/server.h). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/server.h"
#include "core/log.h"
#include "core/util.h"

#define API_IDLE_TIMEOUT_S 60

struct api_server {
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct api_route *routes;
	size_t nr_routes;
	void *opaque;
	pthread_t acceptor;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;              /* lock (read racily by api_server_stopping) */
	unsigned nr_conns;          /* lock */
	int conns[API_MAX_CONNS];   /* lock; -1 when free */
};

struct api_conn {
	struct api_server *srv;
	int fd;
	unsigned slot;
};

static const char who[] = "api";

void api_respond_error(struct api_response *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_respond_json(r, status, json_pack("{s:s}", "error", msg));
}

void api_respond_json(struct api_response *r, int status, json_t *j)
{
	free(r->body);
	r->status = status;
	r->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!r->body && status != 204) {
		r->status = 500;
		r->body = strdup("{\"error\":\"out of memory\"}");
	}
}

void api_dispatch(const struct api_route *routes, size_t n, void *opaque,
		  const struct http_request *req, struct api_response *resp)
{
	const struct api_route *found = NULL;
	bool path_known = false;
	const char *name;

	resp->status = 500;
	if (strncmp(req->path, API_PREFIX, strlen(API_PREFIX))) {
		api_respond_error(resp, 404, "%s: the API lives under %s",
				  req->path, API_PREFIX);
		return;
	}
	name = req->path + strlen(API_PREFIX);
	for (size_t i = 0; i < n && !found; i++) {
		if (strcmp(routes[i].name, name))
			continue;
		path_known = true;
		resp->allow = http_method_name(routes[i].method);
		if (routes[i].method == req->method)
			found = &routes[i];
	}
	if (!path_known) {
		api_respond_error(resp, 404, "%s: no such endpoint", req->path);
		return;
	}
	if (!found) {
		api_respond_error(resp, 405, "%s takes %s, not %s", name,
				  resp->allow, http_method_name(req->method));
		return;
	}
	resp->allow = NULL;
	if (found->body == API_BODY_NONE && req->body_len) {
		api_respond_error(resp, 400, "%s takes no request body", name);
		return;
	}
	if (found->body == API_BODY_JSON && !req->body_len) {
		api_respond_error(resp, 400, "%s needs a JSON request body", name);
		return;
	}
	found->fn(opaque, req, resp);
}

static int api_send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EPIPE;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int api_send(int fd, const struct api_response *r, bool keep_alive)
{
	char head[512], allow[64] = "";
	size_t blen = r->body ? strlen(r->body) : 0;
	ssize_t hlen;

	if (r->allow)
		snprintf(allow, sizeof(allow), "Allow: %s\r\n", r->allow);
	hlen = http_format_head(head, sizeof(head), r->status,
				blen ? "application/json" : NULL, blen,
				keep_alive, allow);
	if (hlen < 0)
		return (int)hlen;
	if (api_send_all(fd, head, (size_t)hlen))
		return -EPIPE;
	return blen ? api_send_all(fd, r->body, blen) : 0;
}

/* One request out of buf: answer it; false when the connection must end. */
static bool api_serve_one(struct api_server *s, int fd,
			  const struct http_request *req, ssize_t parsed,
			  const char *why)
{
	struct api_response resp = { .status = 500 };
	bool keep_alive = parsed > 0 && req->keep_alive;

	if (parsed < 0)
		api_respond_error(&resp, (int)-parsed, "%s", why);
	else
		api_dispatch(s->routes, s->nr_routes, s->opaque, req, &resp);
	if (api_send(fd, &resp, keep_alive))
		keep_alive = false;
	if (resp.after)
		resp.after(resp.after_opaque);
	free(resp.body);
	return keep_alive;
}

static void api_conn_loop(struct api_server *s, int fd, char *buf, size_t cap)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct http_request req;
	bool sent_continue = false;
	const char *why;
	size_t have = 0;

	for (;;) {
		ssize_t n = http_parse_request(buf, have, &req, &why);

		if (n != 0) {
			if (!api_serve_one(s, fd, &req, n, why) || n < 0)
				return;
			memmove(buf, buf + n, have - (size_t)n);
			have -= (size_t)n;
			sent_continue = false;
			continue;
		}
		if (req.head_done && req.expect_continue && !sent_continue) {
			if (api_send_all(fd, cont, sizeof(cont) - 1))
				return;
			sent_continue = true;
		}
		/* cap holds the largest head and body: never full here. */
		n = recv(fd, buf + have, cap - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* closed, idle timeout or shut down */
		have += (size_t)n;
	}
}

/*
 * Close gently: after an early answer (a 413 before the body was read) the
 * client may still be sending; closing with unread data would reset the
 * connection and could lose the answer. Read what comes, bounded in bytes
 * and time, until the client closes.
 */
static void api_linger(int fd, char *buf, size_t cap)
{
	struct timeval tv = { .tv_sec = 1 };
	size_t total = 0;
	ssize_t n;

	shutdown(fd, SHUT_WR);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (total < 2 * cap && (n = recv(fd, buf, cap, 0)) > 0)
		total += (size_t)n;
}

static void *api_conn_thread(void *arg)
{
	struct api_conn *c = arg;
	struct api_server *s = c->srv;
	size_t cap = HTTP_MAX_HEAD + HTTP_MAX_BODY;
	char *buf = malloc(cap);

	if (buf) {
		api_conn_loop(s, c->fd, buf, cap);
		if (!api_server_stopping(s))
			api_linger(c->fd, buf, cap);
	}
	free(buf);
	pthread_mutex_lock(&s->lock);
	s->conns[c->slot] = -1;
	s->nr_conns--;
	close(c->fd);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	free(c);
	return NULL;
}

/* Too many connections: one 503 and close, from the acceptor. */
static void api_refuse(int fd)
{
	struct api_response r = { 0 };

	api_respond_error(&r, 503, "too many API connections (at most %d)",
			  API_MAX_CONNS);
	api_send(fd, &r, false);
	free(r.body);
	close(fd);
}

static int api_conn_start(struct api_server *s, int fd)
{
	struct timeval tv = { .tv_sec = API_IDLE_TIMEOUT_S };
	struct api_conn *c = calloc(1, sizeof(*c));
	pthread_attr_t attr;
	pthread_t t;
	unsigned slot = 0;
	int ret;

	if (!c)
		return -ENOMEM;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_mutex_lock(&s->lock);
	while (slot < API_MAX_CONNS && s->conns[slot] >= 0)
		slot++;
	if (slot == API_MAX_CONNS || s->stopping) {
		pthread_mutex_unlock(&s->lock);
		free(c);
		return -EBUSY;
	}
	*c = (struct api_conn){ .srv = s, .fd = fd, .slot = slot };
	s->conns[slot] = fd;
	s->nr_conns++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = -pthread_create(&t, &attr, api_conn_thread, c);
	pthread_attr_destroy(&attr);
	if (ret) {
		s->conns[slot] = -1;
		s->nr_conns--;
		free(c);
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static void *api_accept_thread(void *arg)
{
	struct api_server *s = arg;

	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (!api_server_stopping(s))
				log_err(who, "accept: %m");
			return NULL;
		}
		if (api_conn_start(s, fd))
			api_refuse(fd);
	}
}

static int api_listen(struct api_server *s, const char *path, char *err,
		      size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_errf(err, errlen, "API socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_errf(err, errlen, "API socket %s: exists and is not a socket", path);
			return -EEXIST;
		}
		unlink(path); /* a previous run's */
	}
	strcpy(sa.sun_path, path);
	strcpy(s->path, path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 ||
	    bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(s->listen_fd, 16) < 0) {
		ret = -errno;
		log_errf(err, errlen, "API socket %s: %s", path, strerror(-ret));
		return ret;
	}
	return 0;
}

int api_server_create(const char *path, const struct api_route *routes,
		      size_t n, void *opaque, struct api_server **out,
		      char *err, size_t errlen)
{
	struct api_server *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->listen_fd = -1;
	s->routes = routes;
	s->nr_routes = n;
	s->opaque = opaque;
	for (unsigned i = 0; i < API_MAX_CONNS; i++)
		s->conns[i] = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	ret = api_listen(s, path, err, errlen);
	if (!ret) {
		ret = -pthread_create(&s->acceptor, NULL, api_accept_thread, s);
		if (ret)
			log_errf(err, errlen, "API thread: %s", strerror(-ret));
	}
	if (ret) {
		if (s->listen_fd >= 0) {
			close(s->listen_fd);
			unlink(s->path);
		}
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return ret;
	}
	pthread_setname_np(s->acceptor, "iovmm-api");
	*out = s;
	return 0;
}

bool api_server_stopping(const struct api_server *s)
{
	return __atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE);
}

void api_server_destroy(struct api_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	__atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
	/* Wakes accept(); a connection's pending reads end, its writes not. */
	shutdown(s->listen_fd, SHUT_RDWR);
	for (unsigned i = 0; i < API_MAX_CONNS; i++)
		if (s->conns[i] >= 0)
			shutdown(s->conns[i], SHUT_RD);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->acceptor, NULL);
	pthread_mutex_lock(&s->lock);
	while (s->nr_conns)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	close(s->listen_fd);
	unlink(s->path);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
