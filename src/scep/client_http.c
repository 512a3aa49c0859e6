/*
 * client_http.c - the SCEP client's HTTP transport (RFC 8894 4.1) over
 * libevent's evhttp client: one exchange at a time, bounded in size
 * and time, 503 retried after Retry-After with jitter.
 */
#include "scep/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/rand.h>

#include "core/clock.h"

/* The state of one exchange. */
struct xfer {
	struct event_base *base;	/* borrowed */
	struct pkid_scep_http *r;	/* where the answer goes */
	int retry_after;		/* Retry-After seconds, -1 none */
	int done;			/* the callback ran */
	int too_large;			/* the body passed the bound */
	enum evhttp_request_error err;	/* libevent's reason if failed */
	int have_err;			/* err is set */
};

void
pkid_scep_sleep_jitter(long ms, int jitter_pct)
{
	struct timespec ts;
	uint32_t rnd = 0;
	long extra = 0;

	if (jitter_pct > 0 && ms > 0 &&
	    RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) == 1)
		extra = (long)(rnd % 1000) * ms * jitter_pct / 100000;
	ms += extra;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
on_error(enum evhttp_request_error err, void *arg)
{
	struct xfer *x = arg;

	x->err = err;
	x->have_err = 1;
}

static void
on_done(struct evhttp_request *req, void *arg)
{
	struct xfer *x = arg;
	struct evkeyvalq *h;
	struct evbuffer *in;
	const char *v;
	struct pkid_err e;
	int64_t n;

	x->done = 1;
	if (req == NULL || (x->r->status = evhttp_request_get_response_code(
	    req)) == 0) {
		event_base_loopexit(x->base, NULL);
		return;
	}
	h = evhttp_request_get_input_headers(req);
	if ((v = evhttp_find_header(h, "Content-Type")) != NULL)
		snprintf(x->r->ctype, sizeof(x->r->ctype), "%s", v);
	/* RFC 9110 10.2.3: delay-seconds (an HTTP-date counts as none). */
	if ((v = evhttp_find_header(h, "Retry-After")) != NULL &&
	    pkid_parse_int(v, 0, PKID_CLIENT_MAX_RETRY_AFTER_S, &n,
	    NULL) == PKID_OK)
		x->retry_after = (int)n;
	in = evhttp_request_get_input_buffer(req);
	pkid_err_clear(&e);
	if (pkid_buf_append(&x->r->body, evbuffer_pullup(in, -1),
	    evbuffer_get_length(in), &e) != PKID_OK)
		x->too_large = 1;
	event_base_loopexit(x->base, NULL);
}

/* The request target: path?operation=op[&message=<URL-encoded msg>]. */
static enum pkid_code
target(const struct evhttp_uri *u, const char *op, const char *msg,
    struct pkid_buf *out, struct pkid_err *e)
{
	const char *path = evhttp_uri_get_path(u);
	const char *q = evhttp_uri_get_query(u);
	char *enc = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, PKID_MAX_URI_LENGTH);
	/* RFC 8894 4.1: the path is the server's; pkiclient.exe is the
	 * historical one, used when the URL has none. */
	PKID_TRY(pkid_buf_printf(out, e, "%s?%s%soperation=%s",
	    path != NULL && path[0] != '\0' ? path :
	    "/cgi-bin/pkiclient.exe", q != NULL ? q : "", q != NULL &&
	    q[0] != '\0' ? "&" : "", op));
	if (msg != NULL) {
		/* Base64 has '+', '/' and '=': all are escaped. */
		PKID_OSSL_PTR(enc = evhttp_uriencode(msg, -1, 0), PKID_E_NOMEM,
		    "no memory");
		PKID_TRY(pkid_buf_printf(out, e, "&message=%s", enc));
	}
	rc = PKID_OK;
out:
	free(enc);
	return rc;
}

/* Send one request; the connection and request then belong to base. */
static enum pkid_code
start(const struct evhttp_uri *u, const char *tgt,
    const struct pkid_buf *body, int timeout_s, struct xfer *x,
    struct evhttp_connection **conn, struct pkid_err *e)
{
	struct evhttp_request *req;
	struct evkeyvalq *h;
	int port = evhttp_uri_get_port(u);

	*conn = evhttp_connection_base_new(x->base, NULL,
	    evhttp_uri_get_host(u), (ev_uint16_t)(port == -1 ? 80 : port));
	if (*conn == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for a connection");
	evhttp_connection_set_timeout(*conn, timeout_s);
	evhttp_connection_set_retries(*conn, 0);
	evhttp_connection_set_max_body_size(*conn,
	    PKID_SCEP_CLIENT_MAX_RESPONSE);
	evhttp_connection_set_max_headers_size(*conn, PKID_MAX_HTTP_HEADERS);
	if ((req = evhttp_request_new(on_done, x)) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for a request");
	evhttp_request_set_error_cb(req, on_error);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", evhttp_uri_get_host(u));
	evhttp_add_header(h, "Connection", "close");
	if (body != NULL) {
		evhttp_add_header(h, "Content-Type",
		    "application/x-pki-message");
		if (evbuffer_add(evhttp_request_get_output_buffer(req),
		    body->p, body->len) != 0) {
			evhttp_request_free(req);
			return PKID_ERR(e, PKID_E_NOMEM, "no memory");
		}
	}
	/* On failure libevent frees req itself. */
	if (evhttp_make_request(*conn, req, body != NULL ? EVHTTP_REQ_POST :
	    EVHTTP_REQ_GET, tgt) != 0)
		return PKID_ERR(e, PKID_E_CONNECT_REFUSED, "cannot send the "
		    "request");
	return PKID_OK;
}

/* Why an exchange brought no answer. */
static enum pkid_code
xfer_failed(const struct xfer *x, const char *url, int timeout_s,
    struct pkid_err *e)
{
	if (x->too_large || (x->have_err && x->err ==
	    EVREQ_HTTP_DATA_TOO_LONG))
		return PKID_ERR(e, PKID_E_TOO_LARGE, "%s: response larger "
		    "than %d bytes", url, PKID_SCEP_CLIENT_MAX_RESPONSE);
	if (!x->done || (x->have_err && x->err == EVREQ_HTTP_TIMEOUT))
		return PKID_ERR(e, PKID_E_CONNECT_TIMEOUT, "%s: no answer "
		    "within %d s", url, timeout_s);
	return PKID_ERR(e, PKID_E_CONNECT_REFUSED, "%s: connection failed "
	    "or closed without an answer", url);
}

/* One try: the answer (any status) into r, or a transport error. */
static enum pkid_code
exchange_once(const char *url, const struct evhttp_uri *u, const char *tgt,
    const struct pkid_buf *body, int timeout_s, struct pkid_scep_http *r,
    int *retry_after, struct pkid_err *e)
{
	struct evhttp_connection *conn = NULL;
	struct xfer x;
	struct timeval tv;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&x, 0, sizeof(x));
	x.r = r;
	x.retry_after = -1;
	r->status = 0;
	r->retry_after = -1;
	r->ctype[0] = '\0';
	pkid_buf_free(&r->body);
	pkid_buf_init(&r->body, PKID_SCEP_CLIENT_MAX_RESPONSE);
	PKID_CHECK((x.base = event_base_new()) != NULL, PKID_E_NOMEM,
	    "no memory for an event base");
	PKID_TRY(start(u, tgt, body, timeout_s, &x, &conn, e));
	/* The whole exchange, connect to last byte, within the budget. */
	tv.tv_sec = timeout_s + 1;
	tv.tv_usec = 0;
	event_base_loopexit(x.base, &tv);
	event_base_dispatch(x.base);
	if (!x.done || r->status == 0 || x.too_large) {
		rc = xfer_failed(&x, url, timeout_s, e);
		goto out;
	}
	*retry_after = x.retry_after;
	r->retry_after = x.retry_after;
	rc = PKID_OK;
out:
	if (conn != NULL)
		evhttp_connection_free(conn);
	if (x.base != NULL)
		event_base_free(x.base);
	return rc;
}

enum pkid_code
pkid_scep_http_do(const char *url, const char *op, const char *msg,
    const struct pkid_buf *body, int timeout_s, int retries,
    struct pkid_scep_http *r, struct pkid_err *e)
{
	struct evhttp_uri *u = NULL;
	struct pkid_buf tgt;
	int tries, wait_s = -1;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
	pkid_buf_init(&r->body, PKID_SCEP_CLIENT_MAX_RESPONSE);
	pkid_buf_init(&tgt, 1);
	if (retries == 0)
		retries = PKID_SCEP_503_RETRIES;
	else if (retries < 0)
		retries = 0;
	PKID_CHECK(strlen(url) <= PKID_DIAG_MAX_URL && (u =
	    evhttp_uri_parse(url)) != NULL, PKID_E_USAGE, "'%s' is not a "
	    "URL", url);
	PKID_CHECK(evhttp_uri_get_scheme(u) != NULL &&
	    strcasecmp(evhttp_uri_get_scheme(u), "http") == 0 &&
	    evhttp_uri_get_host(u) != NULL, PKID_E_USAGE, "%s: want an "
	    "http:// URL (SCEP protects its payload with CMS, RFC 8894 4.1)",
	    url);
	PKID_TRY(target(u, op, msg, &tgt, e));
	for (tries = 0; ; tries++) {
		PKID_TRY(exchange_once(url, u, (const char *)tgt.p, body,
		    timeout_s, r, &wait_s, e));
		if (r->status != 503 || tries >= retries)
			break;
		/* Busy: come back after Retry-After, not in lock-step with
		 * the rest of the fleet (up to 50 % more). */
		if (wait_s < 0)
			wait_s = 1 << (tries < 5 ? tries : 5);
		if (wait_s > PKID_SCEP_MAX_RETRY_AFTER_S)
			wait_s = PKID_SCEP_MAX_RETRY_AFTER_S;
		pkid_scep_sleep_jitter(wait_s * 1000L, 50);
	}
	PKID_CHECK(r->status != 503, PKID_E_RATE_LIMITED, "%s: still 503 "
	    "(busy) after %d retries", url, retries);
	rc = PKID_OK;
out:
	if (rc != PKID_OK)
		pkid_buf_free(&r->body);
	pkid_buf_free(&tgt);
	if (u != NULL)
		evhttp_uri_free(u);
	return rc;
}
