/*
 * ocsp_route.c - /ocsp on pkid's HTTP server (RFC 6960 appendix A.1):
 * POST with an application/ocsp-request body, or GET /ocsp/BASE64; the
 * answer is always 200 application/ocsp-response (an unsuccessful
 * OCSPResponse says what went wrong). GET answers without a nonce carry
 * the caching headers of RFC 5019 6.2, so an HTTP cache or CDN can
 * serve them until nextUpdate.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "ocsp/ocsp.h"
#include "server/app.h"

/* An HTTP-date (RFC 9110 5.6.7). */
static void
http_date(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		snprintf(buf, len, "Thu, 01 Jan 1970 00:00:00 GMT");
}

static void
cache_headers(struct pkid_http_resp *resp, const struct pkid_ocsp_answer *a,
    int get)
{
	char v[128];
	int64_t now = (int64_t)pkid_now(), age;

	if (!get || !a->cacheable) {
		/* Bound to one request (a nonce) or a failure. */
		pkid_http_resp_header(resp, "Cache-Control", "no-store");
		return;
	}
	age = a->next_update - now;
	if (age < 0)
		age = 0;
	snprintf(v, sizeof(v), "max-age=%lld, public, no-transform, "
	    "must-revalidate", (long long)age);
	pkid_http_resp_header(resp, "Cache-Control", v);
	http_date(a->this_update, v, sizeof(v));
	pkid_http_resp_header(resp, "Last-Modified", v);
	http_date(a->next_update, v, sizeof(v));
	pkid_http_resp_header(resp, "Expires", v);
	pkid_http_resp_header(resp, "ETag", a->etag);
}

static void
ocsp_handler(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	struct pkid_app *app = ctx;
	struct pkid_ocsp_answer a;
	struct pkid_err perr, e;
	OCSP_REQUEST *oreq = NULL;
	const char *inm;
	int get = req->method != PKID_HTTP_POST, parsed;

	pkid_err_clear(&perr);
	pkid_err_clear(&e);
	pkid_ocsp_answer_init(&a);
	if (!get)
		(void)pkid_ocsp_request_parse(req->body, req->body_len, &oreq,
		    &perr);
	else if (strncmp(req->path, "/ocsp/", 6) == 0)
		(void)pkid_ocsp_request_from_path(req->path + 6, &oreq, &perr);
	else
		PKID_ERR(&perr, PKID_E_OCSP_MALFORMED, "OCSP GET without a "
		    "request: /ocsp/BASE64 (RFC 6960 A.1), or POST /ocsp");
	parsed = oreq != NULL;
	if (pkid_ocsp_answer(app->ocsp, oreq, &perr, &a, &e) != PKID_OK) {
		OCSP_REQUEST_free(oreq);
		pkid_ocsp_answer_free(&a);
		pkid_http_resp_error(resp, 500, &e);
		return;
	}
	OCSP_REQUEST_free(oreq);
	resp->code = a.code;
	if (a.code != PKID_OK)
		pkid_log(PKID_LOG_INFO, "ocsp client=%s refused: %s: %s",
		    req->client_addr, pkid_err_id(a.code),
		    !parsed ? perr.detail :
		    e.detail);
	cache_headers(resp, &a, get);
	/* RFC 9110 13.1.2: the cache already holds these bytes. */
	if (get && a.cacheable && (inm = pkid_http_req_header(req,
	    "If-None-Match")) != NULL && strcmp(inm, a.etag) == 0) {
		resp->status = 304;
		pkid_ocsp_answer_free(&a);
		return;
	}
	if (pkid_http_resp_body(resp, "application/ocsp-response", a.der.p,
	    a.der.len, &e) != PKID_OK)
		pkid_http_resp_error(resp, 500, &e);
	pkid_ocsp_answer_free(&a);
}

enum pkid_code
pkid_app_ocsp_routes(struct pkid_app *app, struct pkid_router *r,
    struct pkid_err *e)
{
	if (app->ocsp == NULL && (app->ocsp = pkid_ocsp_new(app->ca, e)) ==
	    NULL)
		return e->code;
	/* Not offloaded: a pre-signed answer costs one indexed read, and
	 * a signature with the responder's P-256 key tens of
	 * microseconds, less than the TLS handshakes the loop serves. */
	return pkid_router_add(r, "/ocsp", 1, PKID_HTTP_GET | PKID_HTTP_HEAD |
	    PKID_HTTP_POST, ocsp_handler, app, e);
}
