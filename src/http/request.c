/*
 * request.c - one request from evhttp to a handler and back: parse it
 * into a struct pkid_http_req, apply the limits (connection cap, rate),
 * dispatch through the router, send the response in one go and write one
 * access log line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>

#include "core/clock.h"
#include "core/log.h"
#include "http/server_int.h"

/* Per-request scratch around the struct the handler sees. */
struct reqctx {
	struct pkid_http_req req;	/* what the handler gets */
	char *path;			/* decoded path (free()) */
	STACK_OF(X509) *chain;		/* req.peer_chain (certs borrowed) */
	int close;			/* answer with Connection: close */
};

const char *
pkid_http_req_header(const struct pkid_http_req *r, const char *name)
{
	if (r == NULL || name == NULL || r->conn == NULL ||
	    r->conn->cur == NULL)
		return NULL;
	return evhttp_find_header(
	    evhttp_request_get_input_headers(r->conn->cur), name);
}

static enum pkid_http_method
method_of(struct evhttp_request *evreq)
{
	switch (evhttp_request_get_command(evreq)) {
	case EVHTTP_REQ_GET:
		return PKID_HTTP_GET;
	case EVHTTP_REQ_POST:
		return PKID_HTTP_POST;
	case EVHTTP_REQ_HEAD:
		return PKID_HTTP_HEAD;
	default:
		return PKID_HTTP_OTHER;
	}
}

/* Request line and header block within their own limits (limits.h). */
static int
check_sizes(struct evhttp_request *evreq, struct pkid_http_resp *resp)
{
	struct evkeyvalq *hdrs = evhttp_request_get_input_headers(evreq);
	const char *uri = evhttp_request_get_uri(evreq);
	struct evkeyval *kv;
	struct pkid_err e;
	size_t n = 0;

	pkid_err_clear(&e);
	if (uri != NULL && strlen(uri) > PKID_MAX_URI_LENGTH) {
		PKID_ERR(&e, PKID_E_TOO_LARGE, "request URI of %zu bytes, "
		    "more than %d", strlen(uri), PKID_MAX_URI_LENGTH);
		pkid_http_resp_error(resp, 414, &e);
		return 0;
	}
	TAILQ_FOREACH(kv, hdrs, next)
		n += strlen(kv->key) + strlen(kv->value) + 4;
	if (n > PKID_MAX_HTTP_HEADERS) {
		PKID_ERR(&e, PKID_E_TOO_LARGE, "request headers of %zu bytes, "
		    "more than %d", n, PKID_MAX_HTTP_HEADERS);
		pkid_http_resp_error(resp, 431, &e);
		return 0;
	}
	return 1;
}

/* The path, percent-decoded (RFC 3986 2.1); never '+' as space. */
static int
decode_path(struct evhttp_request *evreq, struct reqctx *rc,
    struct pkid_http_resp *resp)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(evreq);
	const char *raw = u != NULL ? evhttp_uri_get_path(u) : NULL;
	struct pkid_err e;
	size_t len = 0;

	pkid_err_clear(&e);
	if (raw == NULL || *raw == '\0')
		raw = "/";
	rc->path = evhttp_uridecode(raw, 0, &len);
	if (rc->path == NULL) {
		PKID_ERR(&e, PKID_E_NOMEM, "no memory to decode the path");
		pkid_http_resp_error(resp, 500, &e);
		return 0;
	}
	if (len != strlen(rc->path) || rc->path[0] != '/') {
		PKID_ERR(&e, PKID_E_HTTP_MALFORMED, "the request path must "
		    "start with '/' and hold no encoded NUL (%%00)");
		pkid_http_resp_error(resp, 400, &e);
		return 0;
	}
	rc->req.path = rc->path;
	rc->req.query = u != NULL ? evhttp_uri_get_query(u) : NULL;
	return 1;
}

/* Fill rc->req; on failure resp holds the error answer. */
static int
fill_req(struct pkid_http_worker *w, struct pkid_http_conn *cs,
    struct evhttp_request *evreq, struct reqctx *rc,
    struct pkid_http_resp *resp)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(evreq);
	struct evbuffer *in = evhttp_request_get_input_buffer(evreq);
	char *addr = NULL;
	ev_uint16_t port = 0;

	rc->req.method = method_of(evreq);
	evhttp_connection_get_peer(evcon, &addr, &port);
	rc->req.client_addr = addr != NULL ? addr : "?";
	rc->req.tls = cs->tls;
	rc->req.conn = cs;
	if (!check_sizes(evreq, resp) || !decode_path(evreq, rc, resp))
		return 0;
	rc->req.content_type = evhttp_find_header(
	    evhttp_request_get_input_headers(evreq), "Content-Type");
	rc->req.body_len = evbuffer_get_length(in);
	rc->req.body = rc->req.body_len > 0 ? evbuffer_pullup(in, -1) : NULL;
	if (rc->req.body_len > w->srv->max_body) {
		struct pkid_err e;

		pkid_err_clear(&e);
		PKID_ERR(&e, PKID_E_TOO_LARGE, "request body of %zu bytes, "
		    "more than %zu", rc->req.body_len, w->srv->max_body);
		pkid_http_resp_error(resp, 413, &e);
		return 0;
	}
	if (cs->tls)
		pkid_http_tls_peer(cs, w->srv->client_ca, &rc->req,
		    &rc->chain);
	return 1;
}

static void
refuse(struct pkid_http_resp *resp, int retry_s, const struct pkid_err *e)
{
	char v[16];

	pkid_http_resp_error(resp, 503, e);
	snprintf(v, sizeof(v), "%d", retry_s);
	pkid_http_resp_header(resp, "Retry-After", v);
}

/* Connection cap and per-address rate; 0 with a 503 in resp when over. */
static int
check_limits(struct pkid_http_worker *w, struct pkid_http_conn *cs,
    struct reqctx *rc, struct pkid_http_resp *resp)
{
	struct pkid_server *s = w->srv;
	struct pkid_err e;
	int wait_s = 0, retry;

	pkid_err_clear(&e);
	if (cs->over_cap) {
		retry = pkid_http_jitter(1, 4);
		PKID_ERR(&e, PKID_E_RATE_LIMITED, "the server has %llu "
		    "connections open, more than its limit of %ld; retry "
		    "after %d s", atomic_load(&s->c.conns_open),
		    s->max_conns, retry);
		refuse(resp, retry, &e);
		rc->close = 1;
		return 0;
	}
	if (!pkid_http_rate_take(s->rate, rc->req.client_addr,
	    pkid_mono_ms(), &wait_s)) {
		retry = pkid_http_jitter(wait_s, wait_s / 4 + 1);
		PKID_ERR(&e, PKID_E_RATE_LIMITED, "client %s sent more than "
		    "%d requests per minute; retry after %d s",
		    rc->req.client_addr, s->rate_per_min, retry);
		refuse(resp, retry, &e);
		rc->close = 1;
		return 0;
	}
	return 1;
}

static void
on_complete(struct evhttp_request *evreq, void *arg)
{
	struct pkid_http_conn *cs = arg;

	(void)evreq;
	pkid_http_conn_mark(cs, cs->rx, 0);
}

/* Headers the server owns; a handler's copy is dropped. */
static int
reserved_header(const char *name)
{
	static const char *const own[] = { "Content-Length", "Connection",
	    "Transfer-Encoding", "Content-Type" };
	size_t i;

	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strcasecmp(name, own[i]) == 0)
			return 1;
	return 0;
}

static int
has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

/* Headers and body into evhttp's buffers, then one send. */
static void
send_resp(struct pkid_http_worker *w, struct pkid_http_conn *cs,
    struct evhttp_request *evreq, struct reqctx *rc,
    struct pkid_http_resp *resp)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(evreq);
	struct evbuffer *out = evhttp_request_get_output_buffer(evreq);
	char len[32];
	int i;

	if (resp->content_type[0] != '\0')
		evhttp_add_header(h, "Content-Type", resp->content_type);
	for (i = 0; i < resp->n_headers && i < PKID_HTTP_MAX_RESP_HEADERS;
	    i++)
		if (!reserved_header(resp->headers[i].name))
			evhttp_add_header(h, resp->headers[i].name,
			    resp->headers[i].value);
	if (rc->close || w->draining)
		evhttp_add_header(h, "Connection", "close");
	if (has_body(resp->status)) {
		/* For HEAD too: the length the GET would have (RFC 9110
		 * 8.6); evhttp then sends no body. */
		snprintf(len, sizeof(len), "%zu", resp->body.len);
		evhttp_add_header(h, "Content-Length", len);
		if (rc->req.method != PKID_HTTP_HEAD && resp->body.len > 0 &&
		    evbuffer_add(out, resp->body.p, resp->body.len) != 0)
			rc->close = 1;
	}
	if (cs != NULL) {
		evhttp_request_set_on_complete_cb(evreq, on_complete, cs);
		pkid_http_conn_mark(cs, evbuffer_get_length(
		    bufferevent_get_input(cs->bev)) > 0, 1);
	}
	evhttp_send_reply(evreq, resp->status,
	    pkid_http_status_text(resp->status), NULL);
}

/* Printable, quote-free copy of a path for the access log. */
static const char *
log_safe(const char *s, char *out, size_t len)
{
	size_t i;

	if (s == NULL)
		s = "-";
	for (i = 0; s[i] != '\0' && i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = c > 0x20 && c < 0x7f && c != '"' && c != '\\' ?
		    (char)c : '?';
	}
	out[i] = '\0';
	return out;
}

static void
account(struct pkid_http_worker *w, const struct reqctx *rc,
    const struct pkid_http_resp *resp, uint64_t t0)
{
	struct pkid_server *s = w->srv;
	char path[256];
	int cls = resp->status / 100;

	atomic_fetch_add(&s->c.requests, 1);
	if (cls >= 1 && cls <= 5)
		atomic_fetch_add(&s->c.status[cls], 1);
	if (resp->status == 503 && resp->code == PKID_E_RATE_LIMITED)
		atomic_fetch_add(&s->c.rejected_503, 1);
	pkid_log(PKID_LOG_INFO, "http method=%s path=\"%s\" status=%d "
	    "code=%s client=%s tls=%d worker=%d ms=%llu",
	    pkid_http_method_name(rc->req.method),
	    log_safe(rc->req.path, path, sizeof(path)), resp->status,
	    pkid_err_id(resp->code), rc->req.client_addr != NULL ?
	    rc->req.client_addr : "?", rc->req.tls, w->idx,
	    (unsigned long long)(pkid_mono_ms() - t0));
}

/* A handler that left no valid status answers 500. */
static void
check_status(struct pkid_http_resp *resp)
{
	struct pkid_err e;

	if (resp->status >= 200 && resp->status <= 599)
		return;
	pkid_err_clear(&e);
	PKID_ERR(&e, PKID_E_INTERNAL, "the handler set HTTP status %d",
	    resp->status);
	pkid_http_resp_error(resp, 500, &e);
}

static void
handle(struct pkid_http_worker *w, struct evhttp_request *evreq, int tls)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(evreq);
	struct pkid_http_conn *cs;
	struct pkid_http_resp resp;
	struct reqctx rc;
	struct pkid_err e;
	uint64_t t0 = pkid_mono_ms();

	/* Leftovers of bufferevent_openssl's reads on this thread must not
	 * pass for the cause of a handler's error. */
	ERR_clear_error();
	memset(&rc, 0, sizeof(rc));
	pkid_err_clear(&e);
	pkid_http_resp_init(&resp);
	cs = pkid_http_conn_find(w, evhttp_connection_get_bufferevent(evcon));
	if (cs == NULL) {
		/* Only when allocation failed at accept: no state, no TLS. */
		rc.req.tls = tls;
		rc.close = 1;
		PKID_ERR(&e, PKID_E_NOMEM, "no memory for the connection");
		refuse(&resp, pkid_http_jitter(1, 4), &e);
	} else {
		cs->cur = evreq;
		cs->nreq++;
		if (fill_req(w, cs, evreq, &rc, &resp) &&
		    check_limits(w, cs, &rc, &resp))
			pkid_router_dispatch(w->srv->router, &rc.req, &resp);
		cs->cur = NULL;
	}
	check_status(&resp);
	account(w, &rc, &resp, t0);
	send_resp(w, cs, evreq, &rc, &resp);
	sk_X509_free(rc.chain);
	free(rc.path);
	pkid_http_resp_free(&resp);
}

void
pkid_http_gencb_tls(struct evhttp_request *req, void *arg)
{
	handle(arg, req, 1);
}

void
pkid_http_gencb_plain(struct evhttp_request *req, void *arg)
{
	handle(arg, req, 0);
}
