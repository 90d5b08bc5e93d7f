// SPDX-License-Identifier: MIT
/* api/http.c: the request parser's verdicts, table-driven, and dispatch. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "api/server.h"
#include "core/util.h"

static const struct {
	const char *req;
	ssize_t want; /* 1: complete (all of it); 0: needs more; < 0: -status */
} cases[] = {
	{ "GET /api/v1/vm.info HTTP/1.1\r\nHost: x\r\n\r\n", 1 },
	{ "GET /api/v1/vm.info HTTP/1.0\r\n\r\n", 1 },
	{ "PUT /a HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 1 },
	{ "PUT /a HTTP/1.1\r\ncontent-length:   2  \r\n\r\n{}", 1 },
	/* incomplete: no end of head, a short body */
	{ "GET /a HTTP/1.1\r\nHost: x\r\n", 0 },
	{ "PUT /a HTTP/1.1\r\nContent-Length: 5\r\n\r\n{}", 0 },
	{ "", 0 },
	/* malformed */
	{ "GET /a HTTP/1.1\nHost: x\n\n", -400 },
	{ "GET /a HTTP/1.1\r\nHost: x\n\r\n", -400 },
	{ "GET a HTTP/1.1\r\n\r\n", -400 },
	{ "GET  /a HTTP/1.1\r\n\r\n", -400 },
	{ "GET /a HTTP/1.1 \r\n\r\n", -400 },
	{ "GET /a\r\n\r\n", -400 },
	{ "GET /a FTP/1.1\r\n\r\n", -400 },
	{ "GET /a HTTP/2.0\r\n\r\n", -505 },
	{ "BREW /a HTTP/1.1\r\n\r\n", -501 },
	{ "G(T /a HTTP/1.1\r\n\r\n", -400 },
	{ "GET /a HTTP/1.1\r\nBad Name: x\r\n\r\n", -400 },
	{ "GET /a HTTP/1.1\r\n: x\r\n\r\n", -400 },
	{ "GET /a HTTP/1.1\r\nNoColon\r\n\r\n", -400 },
	{ "GET /a HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", -400 },
	{ "GET /a HTTP/1.1\r\nA: b\x01\r\n\r\n", -400 },
	{ "GET /a HTTP/1.1\r\nA: b\rc\r\n\r\n", -400 },
	{ "GET /a\x7f HTTP/1.1\r\n\r\n", -400 },
	{ "\r\n\r\n", -400 },
	{ "PUT /a HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -400 },
	{ "PUT /a HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", -400 },
	{ "PUT /a HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", -400 },
	{ "PUT /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", -400 },
	{ "PUT /a HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", -413 },
	{ "PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", -501 },
	{ "PUT /a HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", -400 },
};

START_TEST(test_table)
{
	struct http_request req;
	const char *why;
	size_t len = strlen(cases[_i].req);
	ssize_t got = http_parse_request(cases[_i].req, len, &req, &why);
	ssize_t want = cases[_i].want == 1 ? (ssize_t)len : cases[_i].want;

	ck_assert_msg(got == want, "case %d '%s': got %zd want %zd (%s)",
		      _i, cases[_i].req, got, want, why ? why : "");
	if (got < 0)
		ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(test_fields)
{
	static const char r[] =
		"PUT /api/v1/iovmm.events?after=3&timeout=1 HTTP/1.1\r\n"
		"Connection: close\r\nExpect: 100-continue\r\n"
		"Content-Length: 4\r\n\r\nabcdGET";
	struct http_request req;
	const char *why;

	ck_assert_int_eq(http_parse_request(r, strlen(r), &req, &why),
			 strlen(r) - 3);
	ck_assert_int_eq(req.method, HTTP_PUT);
	ck_assert_str_eq(req.path, "/api/v1/iovmm.events");
	ck_assert_str_eq(req.query, "after=3&timeout=1");
	ck_assert(!req.keep_alive);
	ck_assert(req.expect_continue);
	ck_assert_uint_eq(req.body_len, 4);
	ck_assert(!memcmp(req.body, "abcd", 4));
}
END_TEST

START_TEST(test_keep_alive)
{
	static const char a[] = "GET / HTTP/1.1\r\n\r\n";
	static const char b[] = "GET / HTTP/1.0\r\n\r\n";
	static const char c[] = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
	static const char d[] = "GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n";
	struct http_request req;
	const char *why;

	http_parse_request(a, strlen(a), &req, &why);
	ck_assert(req.keep_alive);
	http_parse_request(b, strlen(b), &req, &why);
	ck_assert(!req.keep_alive);
	http_parse_request(c, strlen(c), &req, &why);
	ck_assert(req.keep_alive);
	http_parse_request(d, strlen(d), &req, &why);
	ck_assert(!req.keep_alive);
}
END_TEST

/* Bounds: the head, the header count, the target. */
START_TEST(test_limits)
{
	static char buf[HTTP_MAX_HEAD + 4096];
	struct http_request req;
	const char *why;
	size_t n;

	/* A head that never ends: more bytes are wanted until the bound. */
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
	while (n < HTTP_MAX_HEAD - 8)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "A: b\r\n");
	ck_assert_int_eq(http_parse_request(buf, n, &req, &why), 0);
	memset(buf + n, 'x', HTTP_MAX_HEAD - n);
	ck_assert_int_eq(http_parse_request(buf, HTTP_MAX_HEAD, &req, &why), -431);

	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "A: b\r\n");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
	ck_assert_int_eq(http_parse_request(buf, n, &req, &why), -431);

	n = (size_t)snprintf(buf, sizeof(buf), "GET /");
	memset(buf + n, 'a', HTTP_MAX_TARGET);
	n += HTTP_MAX_TARGET;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, " HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(http_parse_request(buf, n, &req, &why), -414);
}
END_TEST

START_TEST(test_format)
{
	char out[256];
	ssize_t n = http_format_head(out, sizeof(out), 404, "application/json",
				     12, false, "Allow: GET\r\n");

	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(out, "HTTP/1.1 404 Not Found\r\nServer: iovmm\r\n"
		"Content-Length: 12\r\nContent-Type: application/json\r\n"
		"Connection: close\r\nAllow: GET\r\n\r\n");
	ck_assert_int_eq(http_format_head(out, 16, 200, NULL, 0, true, NULL),
			 -ENOSPC);
}
END_TEST

/* ---- dispatch: 404, 405 with Allow, body rules, the handler ---- */

static int called;

static void h_test(void *opaque, const struct http_request *req,
		   struct api_response *r)
{
	called++;
	r->status = 204;
}

static const struct api_route routes[] = {
	{ "vm.info", HTTP_GET, API_BODY_NONE, h_test },
	{ "vm.create", HTTP_PUT, API_BODY_JSON, h_test },
};

static int dispatch(const char *raw, struct api_response *r)
{
	struct http_request req;
	const char *why;

	memset(r, 0, sizeof(*r));
	ck_assert_int_gt(http_parse_request(raw, strlen(raw), &req, &why), 0);
	api_dispatch(routes, ARRAY_SIZE(routes), NULL, &req, r);
	free(r->body);
	return r->status;
}

START_TEST(test_dispatch)
{
	struct api_response r;

	called = 0;
	ck_assert_int_eq(dispatch("GET /api/v1/vm.info HTTP/1.1\r\n\r\n", &r), 204);
	ck_assert_int_eq(dispatch("GET /vm.info HTTP/1.1\r\n\r\n", &r), 404);
	ck_assert_int_eq(dispatch("GET /api/v1/vm.nope HTTP/1.1\r\n\r\n", &r), 404);
	ck_assert_int_eq(dispatch("GET /api/v1/ HTTP/1.1\r\n\r\n", &r), 404);
	ck_assert_int_eq(dispatch("PUT /api/v1/vm.info HTTP/1.1\r\n\r\n", &r), 405);
	ck_assert_str_eq(r.allow, "GET");
	ck_assert_int_eq(dispatch("GET /api/v1/vm.info HTTP/1.1\r\n"
				  "Content-Length: 2\r\n\r\n{}", &r), 400);
	ck_assert_int_eq(dispatch("PUT /api/v1/vm.create HTTP/1.1\r\n\r\n", &r), 400);
	ck_assert_int_eq(dispatch("PUT /api/v1/vm.create HTTP/1.1\r\n"
				  "Content-Length: 2\r\n\r\n{}", &r), 204);
	ck_assert_int_eq(called, 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("api-http");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_table, 0, ARRAY_SIZE(cases));
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_keep_alive);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_dispatch);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
