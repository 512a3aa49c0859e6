/*
 * get.c - one bounded GET (get.h): plain http with libevent's evhttp
 * client, https with pkid's HTTPS client, and redirects followed on
 * request. No header or body is parsed here: libevent does it.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "core/limits.h"
#include "http/client.h"
#include "http/get.h"

/* What one GET brought back, whatever its status. */
struct got {
	int status;		/* HTTP status */
	char location[1024];	/* Location of a redirect, "" none */
};

/* The state of one plain GET. */
struct fetch {
	struct event_base *base;	/* its own event base */
	struct pkid_buf *body;		/* response body, bounded */
	struct got *got;		/* status and Location */
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
	const char *loc;
	size_t n;

	f->done = 1;
	if (req != NULL && (f->got->status =
	    evhttp_request_get_response_code(req)) == 200) {
		in = evhttp_request_get_input_buffer(req);
		n = evbuffer_get_length(in);
		pkid_err_clear(&e);
		if (n > 0 && pkid_buf_append(f->body, evbuffer_pullup(in, -1),
		    n, &e) != PKID_OK)
			f->too_large = 1;
	} else if (req != NULL && (loc = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Location")) != NULL &&
	    strlen(loc) < sizeof(f->got->location)) {
		snprintf(f->got->location, sizeof(f->got->location), "%s", loc);
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
	return PKID_ERR(e, PKID_E_CONNECT_REFUSED, "%s: connection failed",
	    url);
}

/* Send the GET; the connection and request then belong to base. */
static enum pkid_code
start(const struct evhttp_uri *u, const char *host, struct fetch *f,
    int timeout_s, size_t max, struct evhttp_connection **conn,
    struct pkid_err *e)
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
	    host != NULL ? host : evhttp_uri_get_host(u));
	snprintf(target, sizeof(target), "%s%s%s", path != NULL &&
	    path[0] != '\0' ? path : "/", q != NULL ? "?" : "",
	    q != NULL ? q : "");
	/* On failure libevent frees req itself. */
	if (evhttp_make_request(*conn, req, EVHTTP_REQ_GET, target) != 0)
		return PKID_ERR(e, PKID_E_CONNECT_REFUSED, "cannot send the "
		    "request");
	return PKID_OK;
}

/* evhttp resolves inside the connect and reports "connection failed":
 * resolve first, so a name that does not resolve says so. */
static enum pkid_code
resolve(const char *url, const char *host, struct pkid_err *e)
{
	struct addrinfo hints, *ai = NULL;
	int g;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((g = getaddrinfo(host, NULL, &hints, &ai)) != 0)
		return PKID_ERR(e, PKID_E_DNS_FAILURE, "%s: the name '%s' does "
		    "not resolve: %s", url, host, gai_strerror(g));
	freeaddrinfo(ai);
	return PKID_OK;
}

/* http://: evhttp on an event base of its own. Any status is an
 * answer: got says which, the body is kept for a 200. */
static enum pkid_code
get_plain(const char *url, const struct evhttp_uri *u, const char *host,
    int timeout_s, size_t max, struct pkid_buf *out, struct got *got,
    struct pkid_err *e)
{
	struct evhttp_connection *conn = NULL;
	struct fetch f;
	struct timeval tv;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&f, 0, sizeof(f));
	f.body = out;
	f.got = got;
	PKID_TRY(resolve(url, evhttp_uri_get_host(u), e));
	PKID_CHECK((f.base = event_base_new()) != NULL, PKID_E_NOMEM,
	    "no memory for an event base");
	PKID_TRY(start(u, host, &f, timeout_s, max, &conn, e));
	/* The whole fetch, connect to last byte, within the budget. */
	tv.tv_sec = timeout_s + 1;
	tv.tv_usec = 0;
	event_base_loopexit(f.base, &tv);
	event_base_dispatch(f.base);
	if (!f.done || got->status == 0 || f.too_large) {
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
    int timeout_s, size_t max, struct pkid_buf *out, struct got *got,
    struct pkid_err *e)
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
	got->status = r.status;
	snprintf(got->location, sizeof(got->location), "%s", r.location);
	if (r.status == 200)
		PKID_TRY(pkid_buf_append(out, r.body.p, r.body.len, e));
	rc = PKID_OK;
out:
	pkid_https_resp_free(&r);
	pkid_https_free(h);
	return rc;
}

/* One GET of url, any status an answer (got). */
static enum pkid_code
get_once(const char *url, STACK_OF(X509) *trust, int timeout_s, size_t max,
    struct pkid_buf *out, struct got *got, struct pkid_err *e)
{
	struct evhttp_uri *u = NULL;
	const char *scheme;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(got, 0, sizeof(*got));
	pkid_buf_init(out, max);
	PKID_CHECK(strlen(url) <= PKID_DIAG_MAX_URL && (u =
	    evhttp_uri_parse(url)) != NULL, PKID_E_USAGE, "'%s' is not a "
	    "URL", url);
	scheme = evhttp_uri_get_scheme(u);
	PKID_CHECK(scheme != NULL && evhttp_uri_get_host(u) != NULL &&
	    (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https")
	    == 0), PKID_E_USAGE, "%s: not an http:// or https:// URL", url);
	if (strcasecmp(scheme, "http") == 0)
		rc = get_plain(url, u, NULL, timeout_s, max, out, got, e);
	else
		rc = get_tls(url, u, trust, timeout_s, max, out, got, e);
out:
	if (u != NULL)
		evhttp_uri_free(u);
	return rc;
}

enum pkid_code
pkid_http_get(const char *url, STACK_OF(X509) *trust, int timeout_s,
    size_t max, struct pkid_buf *out, struct pkid_err *e)
{
	struct got got;
	enum pkid_code rc;

	if ((rc = get_once(url, trust, timeout_s, max, out, &got, e)) !=
	    PKID_OK)
		return rc;
	if (got.status != 200)
		return PKID_ERR(e, PKID_E_NOT_FOUND, "%s: HTTP status %d", url,
		    got.status);
	return PKID_OK;
}

enum pkid_code
pkid_http_get_host(const char *url, const char *host, int timeout_s,
    size_t max, struct pkid_buf *out, struct pkid_err *e)
{
	struct evhttp_uri *u = NULL;
	const char *scheme;
	struct got got;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&got, 0, sizeof(got));
	pkid_buf_init(out, max);
	PKID_CHECK(strlen(url) <= PKID_DIAG_MAX_URL && (u =
	    evhttp_uri_parse(url)) != NULL, PKID_E_USAGE, "'%s' is not a "
	    "URL", url);
	scheme = evhttp_uri_get_scheme(u);
	PKID_CHECK(scheme != NULL && evhttp_uri_get_host(u) != NULL &&
	    strcasecmp(scheme, "http") == 0, PKID_E_USAGE, "%s: not an "
	    "http:// URL", url);
	PKID_TRY(get_plain(url, u, host, timeout_s, max, out, &got, e));
	PKID_CHECK(got.status == 200, PKID_E_NOT_FOUND, "%s: HTTP status %d",
	    url, got.status);
	rc = PKID_OK;
out:
	if (u != NULL)
		evhttp_uri_free(u);
	return rc;
}

/* The URL a redirect from cur to loc leads to, into next. */
static enum pkid_code
redirect_target(const char *cur, const char *loc, char *next, size_t n,
    struct pkid_err *e)
{
	struct evhttp_uri *u = NULL, *l = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(loc[0] != '\0', PKID_E_HTTP_STATUS, "%s: a redirect "
	    "without a Location", cur);
	if (strstr(loc, "://") != NULL) {
		PKID_CHECK(strlen(loc) < n, PKID_E_HTTP_STATUS, "%s: Location "
		    "too long", cur);
		snprintf(next, n, "%s", loc);
		rc = PKID_OK;
		goto out;
	}
	/* A path on the same server: the current URL with its path and
	 * query replaced (RFC 9110 10.2.2). */
	PKID_CHECK(loc[0] == '/' && loc[1] != '/' && (u = evhttp_uri_parse(
	    cur)) != NULL && (l = evhttp_uri_parse(loc)) != NULL,
	    PKID_E_HTTP_STATUS, "%s: redirect to '%.200s', which is neither "
	    "an absolute URL nor a path on this server", cur, loc);
	evhttp_uri_set_path(u, evhttp_uri_get_path(l));
	evhttp_uri_set_query(u, evhttp_uri_get_query(l));
	evhttp_uri_set_fragment(u, NULL);
	PKID_CHECK(evhttp_uri_join(u, next, n) != NULL, PKID_E_HTTP_STATUS,
	    "%s: Location too long", cur);
	rc = PKID_OK;
out:
	if (u != NULL)
		evhttp_uri_free(u);
	if (l != NULL)
		evhttp_uri_free(l);
	return rc;
}

static int
is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 ||
	    status == 307 || status == 308;
}

enum pkid_code
pkid_http_get_follow(const char *url, STACK_OF(X509) *trust, int timeout_s,
    size_t max, int max_redirects, struct pkid_buf *out,
    struct pkid_http_follow *info, struct pkid_err *e)
{
	char seen[PKID_TRUST_MAX_REDIRECTS + 1][PKID_DIAG_MAX_URL + 1];
	struct got got;
	int hop, k;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (max_redirects > PKID_TRUST_MAX_REDIRECTS)
		max_redirects = PKID_TRUST_MAX_REDIRECTS;
	PKID_CHECK(strlen(url) <= PKID_DIAG_MAX_URL, PKID_E_USAGE, "URL "
	    "longer than %d bytes", PKID_DIAG_MAX_URL);
	snprintf(seen[0], sizeof(seen[0]), "%s", url);
	memset(&got, 0, sizeof(got));
	for (hop = 0;; hop++) {
		if (hop > 0)
			pkid_buf_free(out);
		rc = get_once(seen[hop], trust, timeout_s, max, out, &got, e);
		if (info != NULL) {
			info->status = got.status;
			info->redirects = hop;
			snprintf(info->url, sizeof(info->url), "%.*s",
			    PKID_DIAG_MAX_URL, seen[hop]);
		}
		if (rc != PKID_OK)
			goto out;
		if (got.status == 200)
			break;
		PKID_CHECK(is_redirect(got.status), PKID_E_HTTP_STATUS,
		    "%s: HTTP status %d", seen[hop], got.status);
		PKID_CHECK(hop < max_redirects, PKID_E_REDIRECT_LOOP, "%s: "
		    "still redirected after %d redirects (the most followed)",
		    url, max_redirects);
		PKID_TRY(redirect_target(seen[hop], got.location,
		    seen[hop + 1], sizeof(seen[hop + 1]), e));
		for (k = 0; k <= hop; k++)
			PKID_CHECK(strcmp(seen[k], seen[hop + 1]) != 0,
			    PKID_E_REDIRECT_LOOP, "%s: redirected back to %s, "
			    "met %d redirect%s before", url, seen[hop + 1],
			    hop + 1 - k, hop + 1 - k == 1 ? "" : "s");
	}
	rc = PKID_OK;
out:
	return rc;
}
