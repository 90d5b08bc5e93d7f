// SPDX-License-Identifier: MIT
/* The API's HTTP/1.1 request parser (api/http.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/http.h"
#include "core/util.h"

static const char *const method_names[HTTP_NR_METHODS] = {
	[HTTP_GET] = "GET",	    [HTTP_PUT] = "PUT",
	[HTTP_POST] = "POST",	    [HTTP_DELETE] = "DELETE",
	[HTTP_HEAD] = "HEAD",	    [HTTP_PATCH] = "PATCH",
	[HTTP_OPTIONS] = "OPTIONS",
};

const char *http_method_name(enum http_method m)
{
	return (unsigned)m < HTTP_NR_METHODS ? method_names[m] : "?";
}

const char *http_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
		{ 100, "Continue" },
		{ 200, "OK" },
		{ 204, "No Content" },
		{ 400, "Bad Request" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 408, "Request Timeout" },
		{ 409, "Conflict" },
		{ 411, "Length Required" },
		{ 413, "Content Too Large" },
		{ 414, "URI Too Long" },
		{ 415, "Unsupported Media Type" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" },
		{ 501, "Not Implemented" },
		{ 503, "Service Unavailable" },
		{ 505, "HTTP Version Not Supported" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

/* RFC 9110 §5.6.2 tchar. */
static bool http_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A field value: VCHAR, SP, HTAB, obs-text (§5.5); no other controls. */
static bool http_value_ok(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* The parse in progress: one field handler's view. */
struct http_ctx {
	struct http_request *req;
	const char *why;
	bool close_seen, keep_alive_seen;
};

#define HTTP_FAIL(ctx, status, msg) ((ctx)->why = (msg), -(status))

static int hdr_content_length(struct http_ctx *c, const char *v, size_t n)
{
	size_t val = 0;

	if (!n || n > 19)
		return HTTP_FAIL(c, 400, "bad Content-Length");
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return HTTP_FAIL(c, 400, "bad Content-Length");
		val = val * 10 + (size_t)(v[i] - '0');
	}
	/* §8.6: several values must agree; we take none of that: one header. */
	if (c->req->has_length)
		return HTTP_FAIL(c, 400, "more than one Content-Length");
	if (val > HTTP_MAX_BODY)
		return HTTP_FAIL(c, 413, "body larger than 64 KiB");
	c->req->has_length = true;
	c->req->content_length = val;
	return 0;
}

static int hdr_transfer_encoding(struct http_ctx *c, const char *v, size_t n)
{
	/* RFC 9112 §6.1: a coding we do not implement is a 501. */
	return HTTP_FAIL(c, 501, "Transfer-Encoding is not supported (send Content-Length)");
}

/* A comma-separated list of connection options (§7.6.1). */
static int hdr_connection(struct http_ctx *c, const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == 5 && !strncasecmp(v + s, "close", 5))
			c->close_seen = true;
		else if (e - s == 10 && !strncasecmp(v + s, "keep-alive", 10))
			c->keep_alive_seen = true;
	}
	return 0;
}

static int hdr_expect(struct http_ctx *c, const char *v, size_t n)
{
	if (n != 12 || strncasecmp(v, "100-continue", 12))
		return HTTP_FAIL(c, 400, "unsupported Expect");
	c->req->expect_continue = true;
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct http_ctx *c, const char *v, size_t n);
} http_headers[] = {
	{ "Content-Length", hdr_content_length },
	{ "Transfer-Encoding", hdr_transfer_encoding },
	{ "Connection", hdr_connection },
	{ "Expect", hdr_expect },
};

/* One "name: value" line (without its CRLF). */
static int http_parse_field(struct http_ctx *c, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	size_t nlen, vs, ve;

	if (n && (line[0] == ' ' || line[0] == '\t'))
		return HTTP_FAIL(c, 400, "obsolete line folding");
	if (!colon || colon == line)
		return HTTP_FAIL(c, 400, "malformed header line");
	nlen = (size_t)(colon - line);
	for (size_t i = 0; i < nlen; i++)
		if (!http_tchar((unsigned char)line[i]))
			return HTTP_FAIL(c, 400, "bad character in a header name");
	vs = nlen + 1;
	while (vs < n && (line[vs] == ' ' || line[vs] == '\t'))
		vs++;
	ve = n;
	while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
		ve--;
	if (!http_value_ok(line + vs, ve - vs))
		return HTTP_FAIL(c, 400, "control character in a header value");
	for (size_t i = 0; i < ARRAY_SIZE(http_headers); i++)
		if (strlen(http_headers[i].name) == nlen &&
		    !strncasecmp(http_headers[i].name, line, nlen))
			return http_headers[i].fn(c, line + vs, ve - vs);
	return 0;
}

static int http_parse_target(struct http_ctx *c, const char *t, size_t n)
{
	struct http_request *req = c->req;
	const char *q;
	size_t plen;

	if (n >= HTTP_MAX_TARGET)
		return HTTP_FAIL(c, 414, "request target too long");
	if (!n || t[0] != '/')
		return HTTP_FAIL(c, 400, "request target must be an absolute path");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return HTTP_FAIL(c, 400, "bad character in the request target");
	q = memchr(t, '?', n);
	plen = q ? (size_t)(q - t) : n;
	memcpy(req->path, t, plen);
	req->path[plen] = '\0';
	if (q) {
		memcpy(req->query, q + 1, n - plen - 1);
		req->query[n - plen - 1] = '\0';
	}
	return 0;
}

/* METHOD SP request-target SP HTTP-version (RFC 9112 §3). */
static int http_parse_line(struct http_ctx *c, const char *line, size_t n)
{
	const char *sp1 = memchr(line, ' ', n), *sp2, *ver;
	size_t mlen, vlen;
	int ret;

	if (!sp1 || sp1 == line)
		return HTTP_FAIL(c, 400, "malformed request line");
	mlen = (size_t)(sp1 - line);
	sp2 = memchr(sp1 + 1, ' ', n - mlen - 1);
	if (!sp2)
		return HTTP_FAIL(c, 400, "malformed request line");
	for (size_t i = 0; i < mlen; i++)
		if (!http_tchar((unsigned char)line[i]))
			return HTTP_FAIL(c, 400, "malformed method");
	c->req->method = HTTP_NR_METHODS;
	for (unsigned i = 0; i < HTTP_NR_METHODS; i++)
		if (strlen(method_names[i]) == mlen &&
		    !memcmp(method_names[i], line, mlen))
			c->req->method = i;
	ret = http_parse_target(c, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	if (ret)
		return ret;
	ver = sp2 + 1;
	vlen = n - (size_t)(ver - line);
	if (vlen != 8 || memcmp(ver, "HTTP/", 5) || ver[6] != '.' ||
	    ver[5] < '0' || ver[5] > '9' || ver[7] < '0' || ver[7] > '9')
		return HTTP_FAIL(c, 400, "malformed HTTP version");
	if (ver[5] != '1')
		return HTTP_FAIL(c, 505, "only HTTP/1.x is served");
	c->req->minor = (unsigned)(ver[7] - '0');
	/* After the version: a 501 for an unknown method needs a valid line. */
	if (c->req->method == HTTP_NR_METHODS)
		return HTTP_FAIL(c, 501, "unknown method");
	return 0;
}

/* The head's end (after CRLFCRLF), 0 when not in buf yet, -1 on a bare LF. */
static ssize_t http_head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (!i || buf[i - 1] != '\r')
			return -1;
		if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return (ssize_t)i + 1;
	}
	return 0;
}

static int http_parse_head(struct http_ctx *c, const char *buf, size_t head)
{
	const char *p = buf, *end = buf + head - 2; /* the last CRLF */
	unsigned fields = 0;
	bool first = true;
	int ret;

	while (p < end) {
		const char *eol = memchr(p, '\r', (size_t)(end - p));
		size_t n;

		if (!eol || eol[1] != '\n')
			return HTTP_FAIL(c, 400, "bare CR in the head");
		n = (size_t)(eol - p);
		if (first)
			ret = http_parse_line(c, p, n);
		else if (++fields > HTTP_MAX_HEADERS)
			ret = HTTP_FAIL(c, 431, "too many header fields");
		else
			ret = http_parse_field(c, p, n);
		if (ret)
			return ret;
		first = false;
		p = eol + 2;
	}
	return first ? HTTP_FAIL(c, 400, "empty request") : 0;
}

ssize_t http_parse_request(const char *buf, size_t len,
			   struct http_request *req, const char **why)
{
	struct http_ctx c = { .req = req };
	size_t scan = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	ssize_t head = http_head_end(buf, scan);
	int ret;

	memset(req, 0, sizeof(*req));
	*why = NULL;
	if (head < 0) {
		*why = "lines must end with CRLF";
		return -400;
	}
	if (!head) {
		if (len < HTTP_MAX_HEAD)
			return 0;
		*why = "request head larger than 8 KiB";
		return -431;
	}
	ret = http_parse_head(&c, buf, (size_t)head);
	if (ret) {
		*why = c.why;
		return ret;
	}
	/* §9.3: HTTP/1.1 persists unless "close"; 1.0 only with keep-alive. */
	req->keep_alive = req->minor >= 1 ? !c.close_seen :
		(c.keep_alive_seen && !c.close_seen);
	req->head_done = true;
	req->body = buf + head;
	if (len - (size_t)head < req->content_length)
		return 0;
	req->body_len = req->content_length;
	return head + (ssize_t)req->content_length;
}

ssize_t http_format_head(char *out, size_t outlen, int status,
			 const char *content_type, size_t body_len,
			 bool keep_alive, const char *extra)
{
	int n = snprintf(out, outlen,
			 "HTTP/1.1 %d %s\r\nServer: iovmm\r\n"
			 "Content-Length: %zu\r\n%s%s%s%s%s\r\n",
			 status, http_reason(status), body_len,
			 content_type ? "Content-Type: " : "",
			 content_type ? content_type : "",
			 content_type ? "\r\n" : "",
			 keep_alive ? "" : "Connection: close\r\n",
			 extra ? extra : "");

	if (n < 0 || (size_t)n >= outlen)
		return -ENOSPC;
	return n;
}
