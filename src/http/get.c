/*
 * get.c - one bounded GET (get.h): plain http with libevent's evhttp
 * client, https with pkid's HTTPS client. No header or body is parsed
 * here: libevent does it.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "core/limits.h"
#include "http/client.h"
#include "http/get.h"

/* The state of one plain GET. */
struct fetch {
	struct event_base *base;	/* its own event base */
	struct pkid_buf *body;		/* response body, bounded */
	int status;			/* HTTP status, 0 none */
	int done;			/* the callback ran */
	int too_large;			/* the body passed the bound */
	enum evhttp_request_error err;	/* libevent's reason, when failed */
	int have_err;			/* err is set */
};

static void
on_error(enum evhttp_request_error err, void *arg)
{
	struct fetch *f = arg;

	f->err = err;
	f->have_err = 1;
}

static void
on_done(struct evhttp_request *req, void *arg)
{
	struct fetch *f = arg;
	struct evbuffer *in;
	struct pkid_err e;
	size_t n;

	f->done = 1;
	if (req != NULL && (f->status = evhttp_request_get_response_code(
	    req)) == 200) {
		in = evhttp_request_get_input_buffer(req);
		n = evbuffer_get_length(in);
		pkid_err_clear(&e);
		if (n > 0 && pkid_buf_append(f->body, evbuffer_pullup(in, -1),
		    n, &e) != PKID_OK)
			f->too_large = 1;
	}
	event_base_loopexit(f->base, NULL);
}

static enum pkid_code
fetch_failed(struct fetch *f, const char *url, int timeout_s, size_t max,
    struct pkid_err *e)
{
	if (f->too_large || (f->have_err && f->err ==
	    EVREQ_HTTP_DATA_TOO_LONG))
		return PKID_ERR(e, PKID_E_TOO_LARGE, "%s: response larger "
		    "than %zu bytes", url, max);
	if (!f->done || (f->have_err && f->err == EVREQ_HTTP_TIMEOUT))
		return PKID_ERR(e, PKID_E_CONNECT_TIMEOUT, "%s: no answer "
		    "within %d s", url, timeout_s);
	if (f->status == 0)
		return PKID_ERR(e, PKID_E_CONNECT_REFUSED, "%s: connection "
		    "failed", url);
	return PKID_ERR(e, PKID_E_NOT_FOUND, "%s: HTTP status %d", url,
	    f->status);
}

/* Send the GET; the connection and request then belong to base. */
static enum pkid_code
start(const struct evhttp_uri *u, struct fetch *f, int timeout_s,
    size_t max, struct evhttp_connection **conn, struct pkid_err *e)
{
	struct evhttp_request *req;
	char target[PKID_DIAG_MAX_URL + 2];
	const char *path = evhttp_uri_get_path(u);
	const char *q = evhttp_uri_get_query(u);
	int port = evhttp_uri_get_port(u);

	*conn = evhttp_connection_base_new(f->base, NULL,
	    evhttp_uri_get_host(u), (ev_uint16_t)(port == -1 ? 80 : port));
	if (*conn == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for a connection");
	evhttp_connection_set_timeout(*conn, timeout_s);
	evhttp_connection_set_retries(*conn, 0);
	evhttp_connection_set_max_body_size(*conn, (ev_ssize_t)max);
	evhttp_connection_set_max_headers_size(*conn, PKID_MAX_HTTP_HEADERS);
	if ((req = evhttp_request_new(on_done, f)) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for a request");
	evhttp_request_set_error_cb(req, on_error);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
	    evhttp_uri_get_host(u));
	snprintf(target, sizeof(target), "%s%s%s", path != NULL &&
	    path[0] != '\0' ? path : "/", q != NULL ? "?" : "",
	    q != NULL ? q : "");
	/* On failure libevent frees req itself. */
	if (evhttp_make_request(*conn, req, EVHTTP_REQ_GET, target) != 0)
		return PKID_ERR(e, PKID_E_CONNECT_REFUSED, "cannot send the "
		    "request");
	return PKID_OK;
}

/* http://: evhttp on an event base of its own. */
static enum pkid_code
get_plain(const char *url, const struct evhttp_uri *u, int timeout_s,
    size_t max, struct pkid_buf *out, struct pkid_err *e)
{
	struct evhttp_connection *conn = NULL;
	struct fetch f;
	struct timeval tv;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&f, 0, sizeof(f));
	f.body = out;
	PKID_CHECK((f.base = event_base_new()) != NULL, PKID_E_NOMEM,
	    "no memory for an event base");
	PKID_TRY(start(u, &f, timeout_s, max, &conn, e));
	/* The whole fetch, connect to last byte, within the budget. */
	tv.tv_sec = timeout_s + 1;
	tv.tv_usec = 0;
	event_base_loopexit(f.base, &tv);
	event_base_dispatch(f.base);
	if (!f.done || f.status != 200 || f.too_large) {
		rc = fetch_failed(&f, url, timeout_s, max, e);
		goto out;
	}
	rc = PKID_OK;
out:
	if (conn != NULL)
		evhttp_connection_free(conn);
	if (f.base != NULL)
		event_base_free(f.base);
	return rc;
}

/* https://: the HTTPS client, the server's certificate checked against
 * trust. */
static enum pkid_code
get_tls(const char *url, const struct evhttp_uri *u, STACK_OF(X509) *trust,
    int timeout_s, size_t max, struct pkid_buf *out, struct pkid_err *e)
{
	struct pkid_https_opts o;
	struct pkid_https_resp r;
	struct pkid_https *h = NULL;
	const char *path = evhttp_uri_get_path(u);
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&r, 0, sizeof(r));
	memset(&o, 0, sizeof(o));
	PKID_CHECK(trust != NULL, PKID_E_USAGE, "%s: no trust anchors for "
	    "an https URL here; give an http URL", url);
	o.url = url;
	o.trust = trust;
	o.timeout_s = timeout_s;
	o.max_body = max;
	PKID_OSSL_PTR(h = pkid_https_new(&o, e), e->code, "%s", url);
	/* The base URL is the whole URL: nothing to append but a root. */
	PKID_TRY(pkid_https_request(h, PKID_HTTP_GET, path == NULL ||
	    path[0] == '\0' ? "/" : "", NULL, NULL, 0, &r, e));
	PKID_CHECK(r.status == 200, PKID_E_NOT_FOUND, "%s: HTTP status %d",
	    url, r.status);
	PKID_TRY(pkid_buf_append(out, r.body.p, r.body.len, e));
	rc = PKID_OK;
out:
	pkid_https_resp_free(&r);
	pkid_https_free(h);
	return rc;
}

enum pkid_code
pkid_http_get(const char *url, STACK_OF(X509) *trust, int timeout_s,
    size_t max, struct pkid_buf *out, struct pkid_err *e)
{
	struct evhttp_uri *u = NULL;
	const char *scheme;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, max);
	PKID_CHECK(strlen(url) <= PKID_DIAG_MAX_URL && (u =
	    evhttp_uri_parse(url)) != NULL, PKID_E_USAGE, "'%s' is not a "
	    "URL", url);
	scheme = evhttp_uri_get_scheme(u);
	PKID_CHECK(scheme != NULL && evhttp_uri_get_host(u) != NULL &&
	    (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https")
	    == 0), PKID_E_USAGE, "%s: not an http:// or https:// URL", url);
	if (strcasecmp(scheme, "http") == 0)
		rc = get_plain(url, u, timeout_s, max, out, e);
	else
		rc = get_tls(url, u, trust, timeout_s, max, out, e);
out:
	if (u != NULL)
		evhttp_uri_free(u);
	return rc;
}
