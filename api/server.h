/* SPDX-License-Identifier: MIT */
/*
 * The API socket: a UNIX stream socket serving HTTP/1.1 (api/http.h) and a
 * route table. One thread accepts; each connection gets its own thread (at
 * most API_MAX_CONNS), so a long-poll (iovmm.events) or a slow lifecycle
 * call (vm.boot waiting for a vhost-user back end) does not hold up the
 * others. Handlers serialise among themselves (api/vmm.c's lock); nothing
 * here runs on a vCPU or the VM's I/O thread.
 */
#ifndef IOVMM_API_SERVER_H
#define IOVMM_API_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/http.h"

#define API_MAX_CONNS 16
#define API_PREFIX "/api/v1/"

struct api_response {
	int status;
	char *body;        /* owned JSON text, or NULL for none */
	const char *allow; /* 405: the methods the path takes */
	/* Runs once the response is written (vmm.shutdown ends after it). */
	void (*after)(void *opaque);
	void *after_opaque;
};

/* Set status and a {"error": "..."} body: one sentence for a person. */
__attribute__((format(printf, 3, 4)))
void api_respond_error(struct api_response *r, int status, const char *fmt, ...);
/* Set status and body from j (a reference is taken over). */
void api_respond_json(struct api_response *r, int status, json_t *j);

typedef void (*api_handler_fn)(void *opaque, const struct http_request *req,
			       struct api_response *resp);

enum api_body {
	API_BODY_NONE, /* a non-empty body is refused (400) */
	API_BODY_JSON, /* a body is required (400 when empty) */
};

struct api_route {
	const char *name; /* "vm.info": the path is API_PREFIX + name */
	enum http_method method;
	enum api_body body;
	api_handler_fn fn;
};

/*
 * Route one parsed request: 404 for an unknown path, 405 (with Allow) for
 * a known path and another method, 400 for a body where none belongs or
 * none where one must be; otherwise the route's handler fills resp.
 */
void api_dispatch(const struct api_route *routes, size_t n, void *opaque,
		  const struct http_request *req, struct api_response *resp);

struct api_server;

/*
 * Listen on path (a stale socket file there is replaced; any other file
 * is refused; the socket is made 0600: the API is root's, or its owner's)
 * and serve routes with opaque. -errno and a reason in err.
 */
int api_server_create(const char *path, const struct api_route *routes,
		      size_t n, void *opaque, struct api_server **out,
		      char *err, size_t errlen);
/*
 * Stop accepting, let every request in progress finish and answer, close
 * every connection, remove the socket file.
 */
void api_server_destroy(struct api_server *s);
/* True once api_server_destroy() has begun (long-polls return). */
bool api_server_stopping(const struct api_server *s);

#endif
