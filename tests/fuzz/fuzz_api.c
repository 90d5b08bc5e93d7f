// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the API's request path (api/http.c, api/server.c's
 * dispatch, api/config.c): the input is one raw HTTP request as a client
 * sends it on the API socket. A complete request is routed through the
 * real dispatcher; vm.create's body goes through the real VmConfig parser
 * and the device table's option parsers (machine_config_add), and so does
 * the whole input taken as a VmConfig on its own. Nothing here builds a
 * VM. Every verdict must be a status or an error sentence: no crash, no
 * out-of-bounds read, no leak (ASan/LSan), no UB (UBSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.h"
#include "api/http.h"
#include "api/server.h"
#include "core/util.h"

static void fuzz_create(void *opaque, const struct http_request *req,
			struct api_response *r)
{
	struct api_vm_config cfg;
	char err[512];

	if (api_config_parse(req->body, req->body_len, &cfg, err, sizeof(err)))
		api_respond_error(r, 400, "vm.create: %s", err);
	else
		api_respond_json(r, 200, json_incref(cfg.json));
	api_config_free(&cfg);
}

static void fuzz_ok(void *opaque, const struct http_request *req,
		    struct api_response *r)
{
	r->status = 204;
}

static const struct api_route routes[] = {
	{ "vmm.ping", HTTP_GET, API_BODY_NONE, fuzz_ok },
	{ "vm.create", HTTP_PUT, API_BODY_JSON, fuzz_create },
	{ "vm.boot", HTTP_PUT, API_BODY_NONE, fuzz_ok },
	{ "iovmm.events", HTTP_GET, API_BODY_NONE, fuzz_ok },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_response resp = { 0 };
	struct http_request req;
	struct api_vm_config cfg;
	const char *why;
	char err[512];
	char *buf;
	ssize_t n;

	/* An exact-size copy, so ASan sees any read past the request. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	n = http_parse_request(buf, size, &req, &why);
	if (n > 0) {
		if ((size_t)n > size || req.body + req.body_len > buf + size)
			__builtin_trap();
		api_dispatch(routes, ARRAY_SIZE(routes), NULL, &req, &resp);
		free(resp.body);
	} else if (n < 0 && (!why || n < -599 || n > -400)) {
		__builtin_trap();
	}
	api_config_parse(buf, size, &cfg, err, sizeof(err));
	api_config_free(&cfg);
	free(buf);
	return 0;
}
