/*
 * bundle.c - /trust/bundle.p7b: the CA's signed trust bundle
 * (trust/publish.h), made once per application (at start, at each
 * reload or rollover), served on HTTPS and plain HTTP alike (it is
 * signed; README "Security model"), with an ETag so a fleet polling it
 * gets 304 Not Modified until it changes (RFC 9110 13.1.2).
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "server/app.h"

#define BUNDLE_PATH "/trust/bundle.p7b"

/* 1 when the If-None-Match value names etag (or is "*"). Weak tags
 * compare weakly (RFC 9110 13.1.2). */
static int
none_match(const char *v, const char *etag)
{
	size_t n, elen = strlen(etag);

	while (v != NULL && *v != '\0') {
		v += strspn(v, " \t,");
		n = strcspn(v, ",");
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == 1 && v[0] == '*')
			return 1;
		if (n > 2 && strncmp(v, "W/", 2) == 0) {
			v += 2;
			n -= 2;
		}
		if (n == elen && strncmp(v, etag, n) == 0)
			return 1;
		v += n;
	}
	return 0;
}

static void
bundle_handler(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	struct pkid_app *app = ctx;
	const struct pkid_trust_pub *b = &app->bundle;
	struct pkid_err e;
	char serial[32];

	pkid_err_clear(&e);
	pkid_http_resp_header(resp, "ETag", b->etag);
	pkid_http_resp_header(resp, "Cache-Control", "no-cache");
	snprintf(serial, sizeof(serial), "%lld", (long long)b->serial);
	pkid_http_resp_header(resp, "X-Pkid-Bundle-Serial", serial);
	if (none_match(pkid_http_req_header(req, "If-None-Match"), b->etag)) {
		resp->status = 304;
		return;
	}
	if (pkid_http_resp_body(resp, "application/pkcs7-mime", b->der,
	    b->len, &e) != PKID_OK) {
		pkid_log_err(PKID_LOG_ERROR, &e, "trust bundle");
		pkid_http_resp_error(resp, 500, &e);
	}
}

enum pkid_code
pkid_app_bundle_routes(struct pkid_app *app, struct pkid_router *r,
    struct pkid_err *e)
{
	enum pkid_code rc;

	pkid_trust_pub_clear(&app->bundle);
	if ((rc = pkid_trust_publish(app->ca, &app->bundle, e)) != PKID_OK) {
		pkid_err_ctx(e, "making the trust bundle %s", BUNDLE_PATH);
		return rc;
	}
	return pkid_router_add(r, BUNDLE_PATH, 0, PKID_HTTP_GET |
	    PKID_HTTP_HEAD, bundle_handler, app, e);
}
