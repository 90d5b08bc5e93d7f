/* SPDX-License-Identifier: MIT */
/*
 * A small, strict HTTP/1.1 request parser (RFC 9112) for the API socket,
 * and the response head writer. Only what a local REST API needs: origin-
 * form targets, Content-Length bodies (no chunked transfer coding),
 * keep-alive and close, Expect: 100-continue. Everything has a bound:
 * the head (request line and headers), the number of headers, the target
 * and the body; a request over a bound or malformed is an error status,
 * never a read past the buffer.
 *
 * Tables drive it: the methods (name -> id) and the headers the parser
 * interprets (name -> handler); other headers are checked for syntax and
 * skipped, as RFC 9110 §5.1 asks.
 */
#ifndef IOVMM_API_HTTP_H
#define IOVMM_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HTTP_MAX_HEAD 8192         /* request line + headers + CRLFCRLF */
#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_TARGET 256        /* path and query */
#define HTTP_MAX_BODY (64 * 1024)

enum http_method {
	HTTP_GET,
	HTTP_PUT,
	HTTP_POST,
	HTTP_DELETE,
	HTTP_HEAD,
	HTTP_PATCH,
	HTTP_OPTIONS,
	HTTP_NR_METHODS,
};

struct http_request {
	enum http_method method;
	char path[HTTP_MAX_TARGET];  /* NUL-terminated, before any '?' */
	char query[HTTP_MAX_TARGET]; /* after '?', may be empty */
	unsigned minor;              /* HTTP/1.minor */
	bool head_done;              /* the head parsed; the body may be short */
	bool keep_alive;             /* the connection stays open after */
	bool expect_continue;        /* Expect: 100-continue */
	bool has_length;
	size_t content_length;
	const char *body;            /* into the caller's buffer; body_len bytes */
	size_t body_len;
};

/*
 * Parse the request at the start of buf[0, len). Returns the number of
 * bytes the whole request takes (head and body) once it is complete, 0 when
 * more bytes are needed (req->head_done says whether the head is in), or
 * -status for a request to refuse: 400 (malformed), 413 (body too large),
 * 414 (target too long), 431 (head too large), 501 (unknown method,
 * Transfer-Encoding), 505 (not HTTP/1.x); *why then names the problem in a
 * short static sentence. req->body points into buf.
 */
ssize_t http_parse_request(const char *buf, size_t len,
			   struct http_request *req, const char **why);

const char *http_method_name(enum http_method m);
/* "OK", "Not Found"...; "Unknown" for a code it does not know. */
const char *http_reason(int status);

/*
 * Write a response head into out: status line, Server, Content-Length,
 * Content-Type (when body_len or content_type), Connection: close when
 * !keep_alive, and `extra` (whole header lines, CRLF-terminated, or NULL).
 * Returns its length, or -ENOSPC.
 */
ssize_t http_format_head(char *out, size_t outlen, int status,
			 const char *content_type, size_t body_len,
			 bool keep_alive, const char *extra);

#endif
