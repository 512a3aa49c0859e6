/*
 * aia.c - fetch an AIA caIssuers URL (RFC 5280 4.2.2.1) with libevent's
 * HTTP client: http only, one GET, bounded in size and time.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "core/buf.h"
#include "core/limits.h"
#include "diag/diag.h"
#include "x509/load.h"

/* The state of one fetch. */
struct fetch {
	struct event_base *base;	/* borrowed */
	struct pkid_buf body;		/* response body, bounded */
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
		if (pkid_buf_append(&f->body, evbuffer_pullup(in, -1), n, &e)
		    != PKID_OK)
			f->too_large = 1;
	}
	event_base_loopexit(f->base, NULL);
}

static enum pkid_code
fetch_failed(struct fetch *f, const char *url, int timeout_s,
    struct pkid_err *e)
{
	if (f->too_large || (f->have_err && f->err ==
	    EVREQ_HTTP_DATA_TOO_LONG))
		return PKID_ERR(e, PKID_E_TOO_LARGE, "%s: response larger "
		    "than %d bytes", url, PKID_AIA_MAX_SIZE);
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
start(struct evhttp_uri *u, struct fetch *f, int timeout_s,
    struct evhttp_connection **conn, struct pkid_err *e)
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
	evhttp_connection_set_max_body_size(*conn, PKID_AIA_MAX_SIZE);
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

enum pkid_code
pkid_aia_fetch(const char *url, int timeout_s, STACK_OF(X509) **out,
    struct pkid_err *e)
{
	struct evhttp_connection *conn = NULL;
	struct evhttp_uri *u = NULL;
	struct fetch f;
	struct timeval tv;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&f, 0, sizeof(f));
	pkid_buf_init(&f.body, PKID_AIA_MAX_SIZE);
	PKID_CHECK(strlen(url) <= PKID_DIAG_MAX_URL && (u =
	    evhttp_uri_parse(url)) != NULL, PKID_E_USAGE, "'%s' is not a "
	    "URL", url);
	PKID_CHECK(evhttp_uri_get_scheme(u) != NULL &&
	    strcasecmp(evhttp_uri_get_scheme(u), "http") == 0 &&
	    evhttp_uri_get_host(u) != NULL, PKID_E_USAGE, "%s: only http "
	    "caIssuers URLs are fetched (RFC 5280 4.2.2.1)", url);
	PKID_CHECK((f.base = event_base_new()) != NULL, PKID_E_NOMEM,
	    "no memory for an event base");
	PKID_TRY(start(u, &f, timeout_s, &conn, e));
	/* The whole fetch, connect to last byte, within the budget. */
	tv.tv_sec = timeout_s + 1;
	tv.tv_usec = 0;
	event_base_loopexit(f.base, &tv);
	event_base_dispatch(f.base);
	if (!f.done || f.status != 200 || f.too_large) {
		rc = fetch_failed(&f, url, timeout_s, e);
		goto out;
	}
	PKID_TRY(pkid_x509_load_certs(f.body.p, f.body.len, out, e));
	rc = PKID_OK;
out:
	if (conn != NULL)
		evhttp_connection_free(conn);
	if (f.base != NULL)
		event_base_free(f.base);
	if (u != NULL)
		evhttp_uri_free(u);
	pkid_buf_free(&f.body);
	return rc;
}
