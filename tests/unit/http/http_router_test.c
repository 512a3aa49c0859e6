/*
 * http_router_test.c - the router and the response helpers without a network:
 * longest match, exact versus prefix, segment boundaries, 404 and 405 in
 * pkid's error format, HEAD as GET, registration errors, header rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"

/* Each handler writes its name, the method it saw and the path. */
static void
h_named(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	pkid_buf_printf(&resp->body, NULL, "%s %s %s", (const char *)ctx,
	    pkid_http_method_name(req->method), req->path);
}

static struct pkid_router *
make_router(void)
{
	struct pkid_router *r = pkid_router_new();
	struct pkid_err e;

	pkid_err_clear(&e);
	assert_non_null(r);
	assert_int_equal(pkid_router_add(r, "/", 1, PKID_HTTP_GET, h_named,
	    "root", &e), PKID_OK);
	assert_int_equal(pkid_router_add(r, "/.well-known/est/", 1,
	    PKID_HTTP_GET | PKID_HTTP_POST, h_named, "est", &e), PKID_OK);
	assert_int_equal(pkid_router_add(r,
	    "/.well-known/est/simpleenroll", 0, PKID_HTTP_POST, h_named,
	    "enroll", &e), PKID_OK);
	assert_int_equal(pkid_router_add(r, "/scep", 1, PKID_HTTP_GET |
	    PKID_HTTP_POST, h_named, "scep", &e), PKID_OK);
	assert_int_equal(pkid_router_add(r, "/healthz", 0, PKID_HTTP_GET |
	    PKID_HTTP_HEAD, h_named, "health", &e), PKID_OK);
	assert_int_equal(pkid_router_add(r, "/any", 0, PKID_HTTP_OTHER,
	    h_named, "any", &e), PKID_OK);
	return r;
}

/* Dispatch method+path; returns the status, body copied to out. */
static int
run(const struct pkid_router *r, enum pkid_http_method m,
    const char *path, char *out, size_t len, struct pkid_http_resp *keep)
{
	struct pkid_http_req req;
	struct pkid_http_resp resp;
	int status;

	memset(&req, 0, sizeof(req));
	req.method = m;
	req.path = path;
	req.client_addr = "192.0.2.7";
	pkid_http_resp_init(&resp);
	pkid_router_dispatch(r, &req, &resp);
	snprintf(out, len, "%.*s", (int)resp.body.len,
	    resp.body.p != NULL ? (const char *)resp.body.p : "");
	status = resp.status;
	if (keep != NULL)
		*keep = resp;
	else
		pkid_http_resp_free(&resp);
	return status;
}

static void
test_longest_match(void **state)
{
	struct pkid_router *r = make_router();
	char b[512];

	(void)state;
	assert_int_equal(run(r, PKID_HTTP_GET, "/", b, sizeof(b), NULL), 200);
	assert_string_equal(b, "root GET /");
	assert_int_equal(run(r, PKID_HTTP_GET, "/status/x", b, sizeof(b),
	    NULL), 200);
	assert_string_equal(b, "root GET /status/x");
	assert_int_equal(run(r, PKID_HTTP_GET, "/.well-known/est/cacerts",
	    b, sizeof(b), NULL), 200);
	assert_string_equal(b, "est GET /.well-known/est/cacerts");
	assert_int_equal(run(r, PKID_HTTP_POST,
	    "/.well-known/est/simpleenroll", b, sizeof(b), NULL), 200);
	assert_string_equal(b, "enroll POST /.well-known/est/simpleenroll");
	/* Exact routes match their path only. */
	assert_int_equal(run(r, PKID_HTTP_POST,
	    "/.well-known/est/simpleenroll/x", b, sizeof(b), NULL), 200);
	assert_string_equal(b, "est POST /.well-known/est/simpleenroll/x");
	/* Prefixes match whole segments. */
	assert_int_equal(run(r, PKID_HTTP_GET, "/scep", b, sizeof(b), NULL),
	    200);
	assert_string_equal(b, "scep GET /scep");
	assert_int_equal(run(r, PKID_HTTP_GET, "/scep/pkiclient.exe", b,
	    sizeof(b), NULL), 200);
	assert_string_equal(b, "scep GET /scep/pkiclient.exe");
	assert_int_equal(run(r, PKID_HTTP_GET, "/scepx", b, sizeof(b), NULL),
	    200);
	assert_string_equal(b, "root GET /scepx");
	assert_int_equal(run(r, PKID_HTTP_OTHER, "/any", b, sizeof(b),
	    NULL), 200);
	pkid_router_free(r);
}

static void
test_not_found(void **state)
{
	struct pkid_router *r = pkid_router_new();
	struct pkid_http_resp resp;
	struct pkid_err e;
	char b[1024];

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_router_add(r, "/healthz", 0, PKID_HTTP_GET,
	    h_named, "health", &e), PKID_OK);
	assert_int_equal(run(r, PKID_HTTP_GET, "/healthz/x", b, sizeof(b),
	    &resp), 404);
	assert_int_equal(resp.code, PKID_E_NO_ROUTE);
	assert_string_equal(resp.content_type, "text/plain; charset=utf-8");
	assert_true(strncmp(b, "error: no-route: no endpoint at "
	    "'/healthz/x'\nfix: check the URL", 60) == 0);
	assert_int_equal(b[strlen(b) - 1], '\n');
	pkid_http_resp_free(&resp);
	/* An empty router answers 404 too. */
	pkid_router_free(r);
	r = pkid_router_new();
	assert_int_equal(run(r, PKID_HTTP_GET, "/", b, sizeof(b), NULL), 404);
	pkid_router_free(r);
}

static void
test_method_not_allowed(void **state)
{
	struct pkid_router *r = make_router();
	struct pkid_http_resp resp;
	char b[1024];

	(void)state;
	assert_int_equal(run(r, PKID_HTTP_GET,
	    "/.well-known/est/simpleenroll", b, sizeof(b), &resp), 405);
	assert_int_equal(resp.code, PKID_E_METHOD_NOT_ALLOWED);
	assert_int_equal(resp.n_headers, 1);
	assert_string_equal(resp.headers[0].name, "Allow");
	assert_string_equal(resp.headers[0].value, "POST");
	assert_non_null(strstr(b, "error: method-not-allowed: GET is not "
	    "allowed on '/.well-known/est/simpleenroll'; allowed: POST\n"));
	pkid_http_resp_free(&resp);
	assert_int_equal(run(r, PKID_HTTP_OTHER, "/scep", b, sizeof(b),
	    &resp), 405);
	assert_string_equal(resp.headers[0].value, "GET, HEAD, POST");
	pkid_http_resp_free(&resp);
	pkid_router_free(r);
}

static void
test_method_named_and_offload_flag(void **state)
{
	struct pkid_router *r = make_router();
	struct pkid_http_req req;
	struct pkid_http_resp resp;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	/* 405 names the method as sent, not "OTHER". */
	memset(&req, 0, sizeof(req));
	req.method = PKID_HTTP_OTHER;
	req.method_name = "DELETE";
	req.path = "/healthz";
	pkid_http_resp_init(&resp);
	pkid_router_dispatch(r, &req, &resp);
	assert_int_equal(resp.status, 405);
	assert_non_null(strstr((const char *)resp.body.p, "method-not-"
	    "allowed: DELETE is not allowed on '/healthz'; allowed: GET, "
	    "HEAD\n"));
	pkid_http_resp_free(&resp);
	/* PKID_ROUTE_OFFLOAD is a flag, not a method; dispatch without a
	 * server runs the handler in place. */
	assert_int_equal(pkid_router_add(r, "/slow", 0, PKID_HTTP_POST |
	    PKID_ROUTE_OFFLOAD, h_named, "slow", &e), PKID_OK);
	req.method = PKID_HTTP_POST;
	req.method_name = NULL;
	req.path = "/slow";
	pkid_http_resp_init(&resp);
	pkid_router_dispatch(r, &req, &resp);
	assert_int_equal(resp.status, 200);
	assert_string_equal((const char *)resp.body.p, "slow POST /slow");
	pkid_http_resp_free(&resp);
	req.method = PKID_HTTP_GET;
	pkid_http_resp_init(&resp);
	pkid_router_dispatch(r, &req, &resp);
	assert_int_equal(resp.status, 405);
	assert_string_equal(resp.headers[0].value, "POST");
	pkid_http_resp_free(&resp);
	assert_int_equal(pkid_router_add(r, "/bad", 0, PKID_ROUTE_OFFLOAD,
	    h_named, "bad", &e), PKID_E_INTERNAL);
	pkid_router_free(r);
}

static void
test_head(void **state)
{
	struct pkid_router *r = make_router();
	char b[512];

	(void)state;
	/* A GET route serves HEAD as GET ... */
	assert_int_equal(run(r, PKID_HTTP_HEAD, "/scep", b, sizeof(b), NULL),
	    200);
	assert_string_equal(b, "scep GET /scep");
	/* ... a route that lists HEAD sees HEAD. */
	assert_int_equal(run(r, PKID_HTTP_HEAD, "/healthz", b, sizeof(b),
	    NULL), 200);
	assert_string_equal(b, "health HEAD /healthz");
	pkid_router_free(r);
}

static void
test_add_errors(void **state)
{
	struct pkid_router *r = pkid_router_new();
	struct pkid_err e;
	char longpath[1100];
	int i;

	(void)state;
#define ADD_FAILS(path, prefix, m, fn, needle) do {			\
	pkid_err_clear(&e);						\
	assert_int_equal(pkid_router_add(r, path, prefix, m, fn, NULL,	\
	    &e), PKID_E_INTERNAL);					\
	assert_non_null(strstr(e.detail, needle));			\
} while (0)
	ADD_FAILS("healthz", 0, PKID_HTTP_GET, h_named, "starts with '/'");
	ADD_FAILS("/x", 0, 0, h_named, "method mask");
	ADD_FAILS("/x", 0, 64, h_named, "method mask");
	ADD_FAILS("/x", 0, PKID_HTTP_GET, NULL, "handler are required");
	ADD_FAILS(NULL, 0, PKID_HTTP_GET, h_named, "required");
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ADD_FAILS(longpath, 0, PKID_HTTP_GET, h_named, "more than 1024");
	pkid_err_clear(&e);
	assert_int_equal(pkid_router_add(r, "/x", 0, PKID_HTTP_GET, h_named,
	    NULL, &e), PKID_OK);
	ADD_FAILS("/x", 0, PKID_HTTP_GET, h_named, "registered twice");
	/* The same path as a prefix is a different route. */
	assert_int_equal(pkid_router_add(r, "/x", 1, PKID_HTTP_GET, h_named,
	    NULL, &e), PKID_OK);
	for (i = 2; i < 256; i++) {
		char p[32];

		snprintf(p, sizeof(p), "/r%d", i);
		assert_int_equal(pkid_router_add(r, p, 0, PKID_HTTP_GET,
		    h_named, NULL, &e), PKID_OK);
	}
	ADD_FAILS("/one-too-many", 0, PKID_HTTP_GET, h_named,
	    "already holds 256 routes");
#undef ADD_FAILS
	pkid_router_free(r);
	pkid_router_free(NULL);
}

static void
test_resp_helpers(void **state)
{
	struct pkid_http_resp resp;
	struct pkid_err e;
	char big[300];
	int i;

	(void)state;
	pkid_http_resp_init(&resp);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.code, PKID_OK);
	/* Bad names and values are refused, not sent. */
	pkid_http_resp_header(&resp, "Bad Name", "x");
	pkid_http_resp_header(&resp, "X-Split", "a\r\nSet-Cookie: x");
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pkid_http_resp_header(&resp, "X-Big", big);
	assert_int_equal(resp.n_headers, 0);
	for (i = 0; i < PKID_HTTP_MAX_RESP_HEADERS + 3; i++)
		pkid_http_resp_header(&resp, "X-N", "1");
	assert_int_equal(resp.n_headers, PKID_HTTP_MAX_RESP_HEADERS);

	pkid_err_clear(&e);
	assert_int_equal(pkid_http_resp_body(&resp, "application/pkcs7-mime",
	    "abc", 3, &e), PKID_OK);
	assert_int_equal(resp.body.len, 3);
	assert_string_equal(resp.content_type, "application/pkcs7-mime");

	PKID_ERR(&e, PKID_E_CSR_MALFORMED, "CSR of 12 bytes: not DER");
	pkid_http_resp_error(&resp, 400, &e);
	assert_int_equal(resp.status, 400);
	assert_int_equal(resp.code, PKID_E_CSR_MALFORMED);
	assert_string_equal((const char *)resp.body.p, "error: csr-malformed: "
	    "CSR of 12 bytes: not DER\nfix: send a PKCS#10 request in PEM or "
	    "DER, e.g. made by 'openssl req -new'\n");
	/* No error given: still a well-formed internal error. */
	pkid_http_resp_error(&resp, 500, NULL);
	assert_int_equal(resp.code, PKID_E_INTERNAL);
	assert_true(strncmp((const char *)resp.body.p, "error: internal: ",
	    17) == 0);
	pkid_http_resp_free(&resp);
	pkid_http_resp_free(&resp);	/* twice is harmless */
	pkid_http_resp_free(NULL);
}

static void
test_no_conn(void **state)
{
	struct pkid_http_req req;
	uint8_t cb[PKID_HTTP_CB_MAX];
	size_t len = sizeof(cb);
	const char *type = "x";
	struct pkid_err e;

	(void)state;
	memset(&req, 0, sizeof(req));
	req.client_addr = "192.0.2.7";
	pkid_err_clear(&e);
	assert_null(pkid_http_req_header(&req, "Host"));
	assert_int_equal(pkid_http_req_channel_binding(&req, cb, &len, &type,
	    &e), PKID_E_NO_CHANNEL_BINDING);
	assert_null(type);
	assert_non_null(strstr(e.detail, "plain HTTP from 192.0.2.7"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_longest_match),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_method_named_and_offload_flag),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_add_errors),
		cmocka_unit_test(test_resp_helpers),
		cmocka_unit_test(test_no_conn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
