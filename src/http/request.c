/*
 * request.c - one request from evhttp to a handler and back: parse it
 * into a struct pkid_http_req, apply the limits (connection caps, rate),
 * resolve the route, run the handler (on the loop, or on the handler pool
 * for an offloaded route), send the response in one go and write one
 * access log line.
 *
 * An offloaded request leaves the loop as a job that owns copies of all
 * its handler reads: path, query, Content-Type, body, headers, client
 * address, references to the peer certificates, and the TLS channel
 * binding computed beforehand, so nothing of the connection (its evhttp
 * request, its SSL) is touched off the loop. evhttp stops reading the
 * connection while a request is in a handler, so the connection stays
 * until the answer is sent; if it is freed all the same (the server
 * stopping after its drain), the job is orphaned and its answer dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>

#include "core/clock.h"
#include "core/log.h"
#include "http/server_int.h"

const char *
pkid_http_req_header(const struct pkid_http_req *r, const char *name)
{
	if (r == NULL || name == NULL || r->rctx == NULL ||
	    r->rctx->headers == NULL)
		return NULL;
	return evhttp_find_header(r->rctx->headers, name);
}

static enum pkid_http_method
method_of(struct evhttp_request *evreq, const char **name)
{
	switch (evhttp_request_get_command(evreq)) {
	case EVHTTP_REQ_GET:
		*name = "GET";
		return PKID_HTTP_GET;
	case EVHTTP_REQ_POST:
		*name = "POST";
		return PKID_HTTP_POST;
	case EVHTTP_REQ_HEAD:
		*name = "HEAD";
		return PKID_HTTP_HEAD;
	case EVHTTP_REQ_PUT:
		*name = "PUT";
		return PKID_HTTP_OTHER;
	case EVHTTP_REQ_DELETE:
		*name = "DELETE";
		return PKID_HTTP_OTHER;
	case EVHTTP_REQ_OPTIONS:
		*name = "OPTIONS";
		return PKID_HTTP_OTHER;
	case EVHTTP_REQ_PATCH:
		*name = "PATCH";
		return PKID_HTTP_OTHER;
	case EVHTTP_REQ_TRACE:
		*name = "TRACE";
		return PKID_HTTP_OTHER;
	default:
		*name = "OTHER";
		return PKID_HTTP_OTHER;
	}
}

/* Request line and header block within their own limits (limits.h);
 * the pre-check refused larger ones before evhttp parsed them. */
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

/* The path, percent-decoded (RFC 3986 2.1); never '+' as space. The
 * query goes to handlers raw, so an encoded NUL in it is refused here
 * too (the pre-check refuses it first). */
static int
decode_path(struct evhttp_request *evreq, struct pkid_http_job *job,
    struct pkid_http_resp *resp)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(evreq);
	const char *raw = u != NULL ? evhttp_uri_get_path(u) : NULL;
	const char *q = u != NULL ? evhttp_uri_get_query(u) : NULL;
	struct pkid_err e;
	size_t len = 0;

	pkid_err_clear(&e);
	if (raw == NULL || *raw == '\0')
		raw = "/";
	job->path = evhttp_uridecode(raw, 0, &len);
	if (job->path == NULL) {
		PKID_ERR(&e, PKID_E_NOMEM, "no memory to decode the path");
		pkid_http_resp_error(resp, 500, &e);
		return 0;
	}
	if (len != strlen(job->path) || job->path[0] != '/' ||
	    (q != NULL && strstr(q, "%00") != NULL)) {
		PKID_ERR(&e, PKID_E_HTTP_MALFORMED, "the request path must "
		    "start with '/', and neither path nor query may hold an "
		    "encoded NUL (%%00)");
		pkid_http_resp_error(resp, 400, &e);
		return 0;
	}
	job->req.path = job->path;
	job->req.query = q;
	return 1;
}

/* Fill job->req; on failure resp holds the error answer. */
static int
fill_req(struct pkid_http_worker *w, struct pkid_http_conn *cs,
    struct evhttp_request *evreq, struct pkid_http_job *job)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(evreq);
	struct pkid_http_req *req = &job->req;
	struct pkid_err e;

	req->method = method_of(evreq, &req->method_name);
	req->client_addr = cs->addr[0] != '\0' ? cs->addr : "?";
	req->tls = cs->tls;
	job->x.headers = evhttp_request_get_input_headers(evreq);
	job->x.ssl = cs->ssl;
	req->rctx = &job->x;
	if (!check_sizes(evreq, &job->resp) ||
	    !decode_path(evreq, job, &job->resp))
		return 0;
	req->content_type = evhttp_find_header(job->x.headers,
	    "Content-Type");
	req->body_len = evbuffer_get_length(in);
	req->body = req->body_len > 0 ? evbuffer_pullup(in, -1) : NULL;
	if (req->body_len > w->srv->max_body) {
		pkid_err_clear(&e);
		PKID_ERR(&e, PKID_E_TOO_LARGE, "request body of %zu bytes, "
		    "more than %zu", req->body_len, w->srv->max_body);
		pkid_http_resp_error(&job->resp, 413, &e);
		return 0;
	}
	if (cs->tls)
		pkid_http_tls_peer(cs, w->srv->client_ca, req, &job->chain);
	return 1;
}

/* Connection caps and per-address rate; 0 with a 503 in resp when over. */
static int
check_limits(struct pkid_http_worker *w, struct pkid_http_conn *cs,
    struct pkid_http_job *job)
{
	struct pkid_server *s = w->srv;
	struct pkid_err e;
	int wait_s = 0, retry;

	pkid_err_clear(&e);
	if (cs->over_addr) {
		retry = pkid_http_jitter(1, 4);
		PKID_ERR(&e, PKID_E_CONN_LIMIT, "client %s has %u connections "
		    "open, more than max_conns_per_addr %ld; retry after %d s",
		    cs->addr, cs->addr_n, s->max_per_addr, retry);
	} else if (cs->over_cap) {
		retry = pkid_http_jitter(1, 4);
		PKID_ERR(&e, PKID_E_RATE_LIMITED, "the server has %llu "
		    "connections open, more than its limit of %ld; retry "
		    "after %d s", atomic_load(&s->c.conns_open),
		    s->max_conns, retry);
	} else if (!pkid_http_rate_take(s->rate, job->req.client_addr,
	    pkid_mono_ms(), &wait_s)) {
		retry = pkid_http_jitter(wait_s, wait_s / 4 + 1);
		PKID_ERR(&e, PKID_E_RATE_LIMITED, "client %s sent more than "
		    "%d requests per minute; retry after %d s",
		    job->req.client_addr, s->rate_per_min, retry);
	} else {
		return 1;
	}
	pkid_http_resp_503(&job->resp, retry, &e);
	job->close = 1;
	return 0;
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

/* Account, send, release what the job borrowed or owns. */
static void
finish(struct pkid_http_worker *w, struct pkid_http_conn *cs,
    struct pkid_http_job *job)
{
	check_status(&job->resp);
	pkid_http_account(w, job->req.method_name != NULL ?
	    job->req.method_name : pkid_http_method_name(job->req.method),
	    job->req.path, job->req.client_addr, job->req.tls, &job->resp,
	    job->t0, &job->trace);
	pkid_http_send(w, cs, job->evreq, job);
}

static void
job_release(struct pkid_http_job *job)
{
	if (job->owned) {
		free((char *)job->req.query);
		free((char *)job->req.content_type);
		free((char *)job->req.client_addr);
		free((uint8_t *)job->req.body);
		X509_free(job->req.peer_cert);
		sk_X509_pop_free(job->chain, X509_free);
		if (job->hdrs != NULL)
			evhttp_clear_headers(job->hdrs);
		free(job->hdrs);
		OPENSSL_cleanse(job->x.cb, sizeof(job->x.cb));
	} else {
		sk_X509_free(job->chain);
	}
	free(job->path);
	pkid_http_resp_free(&job->resp);
	pkid_http_routes_put(job->rt);
	job->rt = NULL;
}

void
pkid_http_job_free(struct pkid_http_job *job)
{
	if (job == NULL)
		return;
	job_release(job);
	free(job);
}

/* Copy a string, or NULL for NULL; 0 when out of memory. */
static int
dup_str(const char **dst, const char *src)
{
	if (src == NULL) {
		*dst = NULL;
		return 1;
	}
	*dst = strdup(src);
	return *dst != NULL;
}

/*
 * Fill j, a shallow copy of a job on the loop's stack, with copies of
 * everything its handler reads (see the top); the original keeps what it
 * borrowed or owned. 0 when out of memory (then free j).
 */
static int
job_own(struct pkid_http_job *j, struct pkid_http_conn *cs)
{
	struct pkid_http_req *r = &j->req;
	const struct evkeyvalq *src = j->x.headers;
	STACK_OF(X509) *chain = r->peer_chain;
	const char *path = r->path, *q = r->query, *ct = r->content_type;
	const char *addr = r->client_addr;
	const uint8_t *body = r->body;
	X509 *cert = r->peer_cert;
	struct evkeyval *kv;
	int ok;

	/* Owned or NULL from here on, so pkid_http_job_free is right. */
	j->owned = 1;
	j->path = NULL;
	r->path = r->query = r->content_type = r->client_addr = NULL;
	r->body = NULL;
	r->peer_cert = NULL;
	r->peer_chain = j->chain = NULL;
	j->hdrs = NULL;
	pkid_http_resp_init(&j->resp);
	ok = dup_str((const char **)&j->path, path) & dup_str(&r->query, q) &
	    dup_str(&r->content_type, ct) & dup_str(&r->client_addr, addr);
	r->path = j->path;
	if (body != NULL && (r->body = malloc(r->body_len)) != NULL)
		memcpy((uint8_t *)r->body, body, r->body_len);
	ok = ok && (body == NULL || r->body != NULL);
	if (cert != NULL && X509_up_ref(cert) == 1)
		r->peer_cert = cert;
	if (chain != NULL)
		ok = ok && (j->chain = X509_chain_up_ref(chain)) != NULL;
	r->peer_chain = j->chain;
	j->hdrs = calloc(1, sizeof(*j->hdrs));
	ok = ok && j->hdrs != NULL;
	if (j->hdrs != NULL) {
		TAILQ_INIT(j->hdrs);
		TAILQ_FOREACH(kv, src, next)
			ok = ok && evhttp_add_header(j->hdrs, kv->key,
			    kv->value) == 0;
	}
	j->x.headers = j->hdrs;
	j->x.ssl = NULL;
	if (cs->tls)
		pkid_http_tls_cb_snapshot(cs->ssl, cs->addr, &j->x);
	r->rctx = &j->x;
	return ok;
}

/* The 503 of a job the pool did not take. */
static void
refused(struct pkid_http_worker *w, struct pkid_http_job *job,
    enum pkid_http_submit why, const struct pkid_http_refused *r)
{
	struct pkid_err e;
	int retry;

	pkid_err_clear(&e);
	if (why == PKID_HTTP_SUBMIT_LATE) {
		PKID_ERR(&e, PKID_E_OVERLOADED, "a request now would wait "
		    "about %d ms for a handler thread (%d queued), more than "
		    "max_queue_delay %d ms; retry after %d s", r->wait_ms,
		    r->queued, r->bound_ms, r->retry_s);
		retry = r->retry_s;
	} else {
		retry = pkid_http_jitter(1, 2);
		PKID_ERR(&e, PKID_E_RATE_LIMITED, "%d requests are waiting for "
		    "a handler thread already; retry after %d s",
		    w->srv->handler_queue, retry);
	}
	pkid_http_resp_503(&job->resp, retry, &e);
}

/*
 * Hand the request to the pool as a copy of job owning its data. 1 when
 * queued; 0 with the answer in job->resp (queue full, the wait past
 * max_queue_delay, no memory).
 */
static int
offload(struct pkid_http_worker *w, struct pkid_http_conn *cs,
    struct pkid_http_job *job)
{
	struct pkid_http_refused r;
	enum pkid_http_submit why;
	struct pkid_http_job *j;
	struct pkid_err e;
	int retry = pkid_http_jitter(1, 2);

	pkid_err_clear(&e);
	j = malloc(sizeof(*j));
	if (j != NULL) {
		*j = *job;
		job->rt = NULL;		/* the copy holds the router now */
	}
	if (j == NULL || !job_own(j, cs)) {
		pkid_http_job_free(j);
		PKID_ERR(&e, PKID_E_NOMEM, "no memory to queue the request");
		pkid_http_resp_503(&job->resp, retry, &e);
		return 0;
	}
	j->hreq = j->req;
	j->hreq.method = j->hit.method;
	j->w = w;
	j->cs = cs;
	j->next = NULL;
	why = pkid_http_pool_submit(w->srv->pool, j, &r);
	if (why != PKID_HTTP_SUBMIT_OK) {
		pkid_http_job_free(j);
		refused(w, job, why, &r);
		return 0;
	}
	cs->job = j;
	pkid_http_conn_mark(cs, cs->rx, 1);
	return 1;
}

/* Parse, check, route; run inline or hand to the pool (then 1). */
static int
handle_conn(struct pkid_http_worker *w, struct pkid_http_conn *cs,
    struct evhttp_request *evreq, struct pkid_http_job *job)
{
	pkid_http_conn_dispatched(cs);
	cs->nreq++;
	job->t0 = cs->t0;
	if (!fill_req(w, cs, evreq, job) || !check_limits(w, cs, job))
		return 0;
	job->rt = pkid_http_routes_take(w->srv);
	if (!pkid_router_route(job->rt->r, &job->req, &job->resp, &job->hit))
		return 0;
	if (job->hit.offload && w->srv->pool != NULL) {
		if (offload(w, cs, job))
			return 1;
		job->close = 1;
		return 0;
	}
	job->hreq = job->req;
	job->hreq.method = job->hit.method;
	pkid_http_job_run(job);
	return 0;
}

void
pkid_http_job_run(struct pkid_http_job *job)
{
	struct pkid_trace *prev = pkid_trace_set(&job->trace);

	/* The id as it is now: a handler may adopt a trusted peer's. */
	job->hreq.request_id = job->trace.id;
	job->hit.fn(job->hit.ctx, &job->hreq, &job->resp);
	pkid_trace_set(prev);
}

static void
handle(struct pkid_http_worker *w, struct evhttp_request *evreq, int tls)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(evreq);
	struct pkid_http_conn *cs;
	struct pkid_http_job job;
	struct pkid_err e;

	/* Leftovers of bufferevent_openssl's reads on this thread must not
	 * pass for the cause of a handler's error. */
	ERR_clear_error();
	memset(&job, 0, sizeof(job));
	pkid_err_clear(&e);
	pkid_http_resp_init(&job.resp);
	pkid_trace_init(&job.trace);
	job.t0 = pkid_mono_ms();
	job.evreq = evreq;
	cs = pkid_http_conn_find(w, evhttp_connection_get_bufferevent(evcon));
	if (cs == NULL) {
		/* Only when allocation failed at accept: no state, no TLS. */
		job.req.tls = tls;
		job.close = 1;
		PKID_ERR(&e, PKID_E_NOMEM, "no memory for the connection");
		pkid_http_resp_503(&job.resp, pkid_http_jitter(1, 4), &e);
	} else if (handle_conn(w, cs, evreq, &job)) {
		job_release(&job);	/* the pool's copy answers */
		return;
	}
	finish(w, cs, &job);
	job_release(&job);
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

/* Take w's finished jobs (all of them, oldest first). */
static struct pkid_http_job *
done_take(struct pkid_http_worker *w, int close)
{
	struct pkid_http_job *list;

	pthread_mutex_lock(&w->done_mu);
	list = w->done_head;
	w->done_head = w->done_tail = NULL;
	if (close)
		w->done_closed = 1;
	pthread_mutex_unlock(&w->done_mu);
	return list;
}

/* A job whose connection went away: drop the answer. */
static void
done_orphan(struct pkid_http_job *job)
{
	/* A request evhttp detached from its connection is ours to free. */
	if (job->evreq != NULL)
		evhttp_request_free(job->evreq);
	pkid_http_job_free(job);
}

void
pkid_http_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pkid_http_worker *w = arg;
	struct pkid_http_job *job, *next;

	(void)fd;
	(void)what;
	for (job = done_take(w, 0); job != NULL; job = next) {
		next = job->next;
		job->next = NULL;
		if (job->cs == NULL) {
			done_orphan(job);
			continue;
		}
		job->cs->job = NULL;
		finish(w, job->cs, job);
		pkid_http_job_free(job);
	}
}

void
pkid_http_done_close(struct pkid_http_worker *w)
{
	struct pkid_http_job *job, *next;

	if (!w->done_mu_ok)
		return;
	for (job = done_take(w, 1); job != NULL; job = next) {
		next = job->next;
		if (job->cs != NULL)
			job->cs->job = NULL;
		job->cs = NULL;
		done_orphan(job);
	}
}
