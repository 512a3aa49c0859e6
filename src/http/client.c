/*
 * client.c - the HTTPS client: a session over libevent's evhttp and
 * bufferevent_openssl (libevent writes the request and parses the
 * response), one request at a time within a deadline, and the
 * classification of every failure by its phase.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>

#include "core/clock.h"
#include "core/trace.h"
#include "http/client_int.h"

/* One request in flight. */
struct call {
	struct pkid_https *h;		/* the session */
	struct pkid_https_resp *r;	/* where the answer goes */
	int done;			/* the callback ran */
	int too_large;			/* the body passed the bound */
	int have_err;			/* libevent reported err */
	enum evhttp_request_error err;	/* its reason */
	int sys_errno;			/* errno when it failed */
	int deadline;			/* the hard deadline passed */
};

static int
is_ip_literal(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

static enum pkid_code
parse_url(struct pkid_https *h, struct pkid_err *e)
{
	struct evhttp_uri *u = NULL;
	const char *scheme, *host, *path;
	enum pkid_code rc = PKID_E_INTERNAL;
	size_t n;

	PKID_CHECK(h->o.url != NULL && strlen(h->o.url) < sizeof(h->url),
	    PKID_E_USAGE, "give an https:// URL of at most %zu characters",
	    sizeof(h->url) - 1);
	snprintf(h->url, sizeof(h->url), "%s", h->o.url);
	u = evhttp_uri_parse_with_flags(h->url, EVHTTP_URI_NONCONFORMANT);
	PKID_CHECK(u != NULL, PKID_E_USAGE, "'%s' is not a URL", h->url);
	scheme = evhttp_uri_get_scheme(u);
	host = evhttp_uri_get_host(u);
	path = evhttp_uri_get_path(u);
	PKID_CHECK(scheme != NULL && strcasecmp(scheme, "https") == 0,
	    PKID_E_USAGE, "'%s': only https:// URLs (RFC 7030 3.3)", h->url);
	PKID_CHECK(host != NULL && host[0] != '\0' && strlen(host) <
	    sizeof(h->host), PKID_E_USAGE, "'%s' has no host", h->url);
	PKID_CHECK(evhttp_uri_get_userinfo(u) == NULL &&
	    evhttp_uri_get_query(u) == NULL, PKID_E_USAGE, "'%s': no user "
	    "or query in the URL", h->url);
	h->port = evhttp_uri_get_port(u);
	PKID_CHECK(h->port == -1 || (h->port > 0 && h->port < 65536),
	    PKID_E_USAGE, "'%s': port out of range", h->url);
	if (h->port == -1)
		h->port = 443;
	snprintf(h->host, sizeof(h->host), "%s", host);
	h->host_is_ip = is_ip_literal(h->host);
	snprintf(h->target, sizeof(h->target), strchr(host, ':') != NULL ?
	    "[%s]:%d" : "%s:%d", host, h->port);
	PKID_CHECK(path == NULL || strlen(path) < sizeof(h->path),
	    PKID_E_USAGE, "'%s': path too long", h->url);
	snprintf(h->path, sizeof(h->path), "%s", path != NULL ? path : "");
	n = strlen(h->path);
	while (n > 0 && h->path[n - 1] == '/')
		h->path[--n] = '\0';
	rc = PKID_OK;
out:
	if (u != NULL)
		evhttp_uri_free(u);
	return rc;
}

/* "Basic base64(user:password)" (RFC 7617 2). */
static enum pkid_code
basic_header(struct pkid_https *h, struct pkid_err *e)
{
	struct pkid_buf raw, b64;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&raw, PKID_MAX_EST_USER + PKID_MAX_EST_PASSWORD + 2);
	memset(&b64, 0, sizeof(b64));
	PKID_CHECK(strlen(h->o.user) <= PKID_MAX_EST_USER &&
	    strchr(h->o.user, ':') == NULL && h->o.password != NULL &&
	    strlen(h->o.password) <= PKID_MAX_EST_PASSWORD, PKID_E_USAGE,
	    "the user name (at most %d characters, no ':') or the password "
	    "(at most %d) is not acceptable", PKID_MAX_EST_USER,
	    PKID_MAX_EST_PASSWORD);
	PKID_TRY(pkid_buf_printf(&raw, e, "%s:%s", h->o.user,
	    h->o.password));
	PKID_TRY(pkid_base64_encode(raw.p, raw.len, 0, &b64, e));
	PKID_CHECK(b64.len + 7 < sizeof(h->auth), PKID_E_USAGE,
	    "credentials too long");
	snprintf(h->auth, sizeof(h->auth), "Basic %.*s", (int)b64.len,
	    (const char *)b64.p);
	snprintf(h->user, sizeof(h->user), "%s", h->o.user);
	rc = PKID_OK;
out:
	pkid_buf_free(&raw);
	pkid_buf_free(&b64);
	return rc;
}

struct pkid_https *
pkid_https_new(const struct pkid_https_opts *o, struct pkid_err *e)
{
	struct pkid_https *h = calloc(1, sizeof(*h));
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(h, PKID_E_NOMEM, "no memory");
	h->o = *o;
	h->alert_in = -1;
	if (h->o.timeout_s <= 0)
		h->o.timeout_s = PKID_EST_CLIENT_TIMEOUT_S;
	if (h->o.max_body == 0)
		h->o.max_body = PKID_EST_CLIENT_MAX_RESPONSE;
	PKID_TRY(parse_url(h, e));
	h->o.url = h->url;
	if (o->user != NULL)
		PKID_TRY(basic_header(h, e));
	h->o.user = h->o.password = NULL;	/* not kept past here */
	PKID_OSSL_PTR(h->base = event_base_new(), PKID_E_NOMEM,
	    "no memory for an event base");
	PKID_OSSL_PTR(h->ctx = pkid_https_ctx_new(h, e), e->code,
	    "cannot set up TLS");
	rc = PKID_OK;
out:
	if (rc != PKID_OK) {
		pkid_https_free(h);
		h = NULL;
	}
	return h;
}

static void
drop_conn(struct pkid_https *h)
{
	if (h->conn != NULL)
		evhttp_connection_free(h->conn);	/* frees bev and SSL */
	h->conn = NULL;
	h->ssl = NULL;
	h->bev = NULL;
	h->conn_dead = h->conn_used = 0;
}

void
pkid_https_free(struct pkid_https *h)
{
	if (h == NULL)
		return;
	drop_conn(h);
	if (h->base != NULL)
		event_base_free(h->base);
	SSL_CTX_free(h->ctx);
	sk_X509_pop_free(h->peer, X509_free);
	OPENSSL_cleanse(h->auth, sizeof(h->auth));
	free(h);
}

void
pkid_https_resp_free(struct pkid_https_resp *r)
{
	if (r != NULL)
		pkid_buf_free(&r->body);
}

enum pkid_https_phase
pkid_https_phase(const struct pkid_https *h)
{
	return h->phase;
}

const char *
pkid_https_phase_name(enum pkid_https_phase p)
{
	switch (p) {
	case PKID_HTTPS_DNS:
		return "dns";
	case PKID_HTTPS_CONNECT:
		return "connect";
	case PKID_HTTPS_TLS:
		return "TLS";
	case PKID_HTTPS_RESPONSE:
		return "response";
	case PKID_HTTPS_OK:
	default:
		return "none";
	}
}

STACK_OF(X509) *
pkid_https_peer_chain(const struct pkid_https *h)
{
	return h->peer;
}

const char *
pkid_https_target(const struct pkid_https *h)
{
	return h->target;
}

/* Resolve the host once per session; numeric addresses for libevent. */
static enum pkid_code
resolve(struct pkid_https *h, struct pkid_err *e)
{
	struct addrinfo hints, *ai = NULL, *p;
	char port[8];
	int g;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	snprintf(port, sizeof(port), "%d", h->port);
	g = getaddrinfo(h->host, port, &hints, &ai);
	if (g != 0 || ai == NULL) {
		h->phase = PKID_HTTPS_DNS;
		return PKID_ERR(e, PKID_E_DNS_FAILURE, "the name '%s' cannot "
		    "be resolved: %s", h->host, g == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(g));
	}
	for (p = ai; p != NULL && h->naddrs < PKID_HTTPS_MAX_ADDRS;
	    p = p->ai_next)
		if (getnameinfo(p->ai_addr, p->ai_addrlen,
		    h->addrs[h->naddrs], sizeof(h->addrs[0]), NULL, 0,
		    NI_NUMERICHOST) == 0)
			h->naddrs++;
	freeaddrinfo(ai);
	if (h->naddrs == 0) {
		h->phase = PKID_HTTPS_DNS;
		return PKID_ERR(e, PKID_E_DNS_FAILURE, "the name '%s' has no "
		    "usable address", h->host);
	}
	return PKID_OK;
}

static void
on_close(struct evhttp_connection *c, void *arg)
{
	struct pkid_https *h = arg;

	h->conn_dead = 1;
}

/* A fresh connection to the current address. */
static enum pkid_code
open_conn(struct pkid_https *h, struct pkid_err *e)
{
	struct bufferevent *bev = NULL;
	SSL *ssl = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	drop_conn(h);
	h->tls_started = h->hs_done = h->verified_bad = 0;
	h->server_spoke = h->tcp_up = 0;
	h->alert_in = -1;
	pkid_err_clear(&h->verr);
	PKID_OSSL_PTR(ssl = pkid_https_ssl_new(h, e), e->code, "no TLS");
	bev = bufferevent_openssl_socket_new(h->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	PKID_OSSL_PTR(bev, PKID_E_NOMEM, "no memory for a connection");
	h->ssl = ssl;
	ssl = NULL;	/* bev owns it now */
	/* A server may close without close_notify after its last byte. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	h->conn = evhttp_connection_base_bufferevent_new(h->base, NULL, bev,
	    h->addrs[h->cur], (ev_uint16_t)h->port);
	if (h->conn == NULL) {
		bufferevent_free(bev);
		h->ssl = NULL;
		PKID_CHECK(0, PKID_E_NOMEM, "no memory for a connection");
	}
	h->bev = bev;
	evhttp_connection_set_retries(h->conn, 0);
	evhttp_connection_set_max_body_size(h->conn,
	    (ev_ssize_t)h->o.max_body);
	evhttp_connection_set_max_headers_size(h->conn,
	    PKID_MAX_HTTP_HEADERS);
	evhttp_connection_set_closecb(h->conn, on_close, h);
	rc = PKID_OK;
out:
	SSL_free(ssl);
	return rc;
}

static void
on_error(enum evhttp_request_error err, void *arg)
{
	struct call *c = arg;

	c->have_err = 1;
	c->err = err;
	c->sys_errno = errno;
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	evutil_socket_t s;

	c->deadline = 1;
	/* Was the TCP connection up? Then the wait was for TLS or HTTP. */
	if (c->h->bev != NULL && (s = bufferevent_getfd(c->h->bev)) >= 0 &&
	    getpeername(s, (struct sockaddr *)&ss, &len) == 0)
		c->h->tcp_up = 1;
	event_base_loopbreak(c->h->base);
}

static void
copy_header(struct evhttp_request *req, const char *name, char *out,
    size_t n)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(
	    req), name);

	/* A value that does not fit is dropped, never cut. */
	snprintf(out, n, "%s", v != NULL && strlen(v) < n ? v : "");
}

static void
on_done(struct evhttp_request *req, void *arg)
{
	struct call *c = arg;
	struct evbuffer *in;
	struct pkid_err e;
	size_t n;

	c->done = 1;
	event_base_loopbreak(c->h->base);
	if (req == NULL || (c->r->status = evhttp_request_get_response_code(
	    req)) == 0) {
		c->r->status = 0;
		return;
	}
	copy_header(req, "Content-Type", c->r->content_type,
	    sizeof(c->r->content_type));
	copy_header(req, "Retry-After", c->r->retry_after,
	    sizeof(c->r->retry_after));
	copy_header(req, "Location", c->r->location,
	    sizeof(c->r->location));
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(in);
	pkid_err_clear(&e);
	if (n > 0 && pkid_buf_append(&c->r->body, evbuffer_pullup(in, -1), n,
	    &e) != PKID_OK)
		c->too_large = 1;
}

/* Headers and body; on failure libevent has freed req. */
static enum pkid_code
send_req(struct pkid_https *h, struct call *c, enum pkid_http_method m,
    const char *path, const char *ctype, const uint8_t *body, size_t len,
    struct pkid_err *e)
{
	struct evhttp_request *req;
	struct evkeyvalq *hd;
	char target[1200];
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(snprintf(target, sizeof(target), "%s%s", h->path, path) <
	    (int)sizeof(target), PKID_E_USAGE, "path too long");
	if ((req = evhttp_request_new(on_done, c)) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for a request");
	evhttp_request_set_error_cb(req, on_error);
	hd = evhttp_request_get_output_headers(req);
	evhttp_add_header(hd, "Host", h->port == 443 ? h->host : h->target);
	evhttp_add_header(hd, "User-Agent", "pkid/" PKID_VERSION);
	evhttp_add_header(hd, "Accept", "*/*");
	/* RA mode: the request being served goes upstream under its id,
	 * so the upstream's log names the same request (core/trace.h). */
	if (pkid_trace_id()[0] != '\0')
		evhttp_add_header(hd, "X-Request-ID", pkid_trace_id());
	if (h->auth[0] != '\0')
		evhttp_add_header(hd, "Authorization", h->auth);
	if (ctype != NULL) {
		evhttp_add_header(hd, "Content-Type", ctype);
		/* RFC 8951 3: EST bodies are base64. */
		evhttp_add_header(hd, "Content-Transfer-Encoding", "base64");
		if (evbuffer_add(evhttp_request_get_output_buffer(req), body,
		    len) != 0) {
			evhttp_request_free(req);
			return PKID_ERR(e, PKID_E_NOMEM, "no memory");
		}
	}
	if (evhttp_make_request(h->conn, req, m == PKID_HTTP_POST ?
	    EVHTTP_REQ_POST : m == PKID_HTTP_HEAD ? EVHTTP_REQ_HEAD :
	    EVHTTP_REQ_GET, target) != 0)
		return PKID_ERR(e, PKID_E_CONNECT_REFUSED, "cannot send the "
		    "request to %s", h->target);
	rc = PKID_OK;
out:
	return rc;
}

/* Which phase a failed call died in, from the handshake's progress. */
static enum pkid_https_phase
phase_of(const struct pkid_https *h)
{
	if (h->verified_bad)
		return PKID_HTTPS_TLS;
	if (h->hs_done)
		return PKID_HTTPS_RESPONSE;
	if (h->server_spoke || h->tcp_up)
		return PKID_HTTPS_TLS;
	return PKID_HTTPS_CONNECT;
}

static void
tls_reason(struct pkid_https *h, char *out, size_t n)
{
	unsigned long r = ERR_peek_last_error();

	if (h->alert_in >= 0)
		snprintf(out, n, "the server sent the alert '%s' (%d)",
		    SSL_alert_desc_string_long(h->alert_in), h->alert_in);
	else if (r != 0 && ERR_reason_error_string(r) != NULL)
		snprintf(out, n, "OpenSSL: %s", ERR_reason_error_string(r));
	else
		snprintf(out, n, "the server closed the connection");
}

/* Turn a failed call into a classified error. */
static enum pkid_code
classify(struct pkid_https *h, const struct call *c, int timed_out,
    struct pkid_err *e)
{
	char why[160];
	const char *a = h->addrs[h->cur];

	h->phase = phase_of(h);
	if (h->verified_bad) {
		*e = h->verr;
		pkid_err_ctx(e, "checking the TLS certificate of %s",
		    h->target);
		return e->code;
	}
	timed_out |= c->have_err && c->err == EVREQ_HTTP_TIMEOUT;
	if (timed_out)
		return PKID_ERR(e, PKID_E_CONNECT_TIMEOUT, "%s (%s): no answer "
		    "within %d s in the %s phase", h->target, a,
		    h->o.timeout_s, pkid_https_phase_name(h->phase));
	if (c->too_large || (c->have_err && c->err ==
	    EVREQ_HTTP_DATA_TOO_LONG))
		return PKID_ERR(e, PKID_E_TOO_LARGE, "%s: response larger "
		    "than %zu bytes", h->target, h->o.max_body);
	if (h->phase == PKID_HTTPS_CONNECT)
		return PKID_ERR(e, PKID_E_CONNECT_REFUSED, "%s (%s) refused "
		    "the connection (%s): nothing listens on port %d there",
		    h->target, a, c->sys_errno != 0 ? strerror(c->sys_errno) :
		    "connection refused", h->port);
	tls_reason(h, why, sizeof(why));
	if (h->phase == PKID_HTTPS_TLS)
		return PKID_ERR(e, PKID_E_TLS_HANDSHAKE, "TLS handshake with "
		    "%s (%s) failed: %s", h->target, a, why);
	return PKID_ERR(e, h->alert_in >= 0 ? PKID_E_TLS_HANDSHAKE :
	    PKID_E_HTTP_MALFORMED, "%s (%s) sent no HTTP response: %s",
	    h->target, a, why);
}

/* One attempt on the current address; 1 when the caller may retry on
 * the next address (connection refused before any byte). */
static enum pkid_code
attempt(struct pkid_https *h, enum pkid_http_method m, const char *path,
    const char *ctype, const uint8_t *body, size_t len,
    struct pkid_https_resp *r, int *next, struct pkid_err *e)
{
	struct call c;
	struct timeval tv;
	struct event *tmo = NULL;
	uint64_t t0 = pkid_mono_ms();
	enum pkid_code rc = PKID_E_INTERNAL;
	int reused;

	*next = 0;
	memset(&c, 0, sizeof(c));
	c.h = h;
	c.r = r;
	if (h->conn == NULL || h->conn_dead)
		PKID_TRY(open_conn(h, e));
	reused = h->conn_used;
	/* libevent's own timeouts a second later: the deadline timer below
	 * fires first and sees where the connection stands. */
	evhttp_connection_set_timeout(h->conn, h->o.timeout_s + 1);
	ERR_clear_error();
	PKID_TRY(send_req(h, &c, m, path, ctype, body, len, e));
	/* The hard deadline: libevent's per-phase timeouts restart. */
	tv.tv_sec = h->o.timeout_s;
	tv.tv_usec = 0;
	PKID_OSSL_PTR(tmo = evtimer_new(h->base, on_deadline, &c),
	    PKID_E_NOMEM, "no memory for a timer");
	PKID_CHECK(evtimer_add(tmo, &tv) == 0, PKID_E_INTERNAL, "no timer");
	event_base_dispatch(h->base);
	if (c.done && r->status != 0 && !c.too_large) {
		h->conn_used = 1;
		h->phase = PKID_HTTPS_OK;
		rc = PKID_OK;
		goto out;
	}
	rc = classify(h, &c, c.deadline || !c.done || pkid_mono_ms() - t0 >=
	    (uint64_t)h->o.timeout_s * 1000, e);
	*next = rc == PKID_E_CONNECT_REFUSED && h->cur + 1 < h->naddrs;
	/* A kept-alive connection the server had closed: try once more. */
	if (reused && h->phase == PKID_HTTPS_RESPONSE && c.have_err &&
	    c.err == EVREQ_HTTP_EOF)
		*next = 2;
	drop_conn(h);
out:
	if (tmo != NULL)
		event_free(tmo);
	return rc;
}

enum pkid_code
pkid_https_request(struct pkid_https *h, enum pkid_http_method m,
    const char *path, const char *ctype, const uint8_t *body, size_t len,
    struct pkid_https_resp *r, struct pkid_err *e)
{
	struct pkid_err first;
	enum pkid_code rc = PKID_E_INTERNAL;
	int next = 0, tries;

	memset(r, 0, sizeof(*r));
	pkid_buf_init(&r->body, h->o.max_body);
	h->phase = PKID_HTTPS_OK;
	if (h->naddrs == 0)
		PKID_TRY(resolve(h, e));
	pkid_err_clear(&first);
	for (tries = 0; tries <= PKID_HTTPS_MAX_ADDRS; tries++) {
		pkid_buf_free(&r->body);
		pkid_buf_init(&r->body, h->o.max_body);
		r->status = 0;
		pkid_err_clear(e);
		if ((rc = attempt(h, m, path, ctype, body, len, r, &next,
		    e)) == PKID_OK || next == 0)
			break;
		if (first.code == PKID_OK)
			first = *e;
		if (next == 1)
			h->cur++;
	}
	/* Report the first address's refusal when all of them refused. */
	if (rc == PKID_E_CONNECT_REFUSED && first.code == rc)
		*e = first;
out:
	return rc;
}
