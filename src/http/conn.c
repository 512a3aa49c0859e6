/*
 * conn.c - one struct pkid_http_conn per accepted connection: counted
 * against max_conns (and max_conns_per_addr) from accept to close, found
 * again by its bufferevent when a request arrives, and held to its
 * deadlines.
 *
 * libevent 2.1 tells us about a connection twice: evhttp calls our bevcb
 * right after accept(2) (no fd, no evhttp_connection yet), and calls the
 * close callback set with evhttp_connection_set_closecb when it frees the
 * connection, whatever the reason (error, timeout, Connection: close,
 * evhttp_free). Between the two there is no public way from bufferevent
 * to evhttp_connection before a first request completes (2.2 adds
 * evhttp_set_newreqcb), so the bevcb queues the new state on w->adopt and
 * activates w->adopt_ev; once evhttp has finished setting up (same loop
 * pass), adoption reads the evhttp_connection back as the bufferevent's
 * callback argument, checks it owns this bufferevent, and sets the close
 * callback. An extra bufferevent reference keeps the pointer valid until
 * then even if evhttp gave up on the connection at once.
 *
 * Request heads: evbuffer callbacks on the input buffer run as bytes are
 * added, before the bufferevent calls evhttp's read callback, so rx_cb
 * sees every byte of a head first and feeds it to the pre-check
 * (precheck.c); a refused head never reaches evhttp (refuse.c). evhttp
 * consumes exactly one request, so when a response is done what is left
 * in the input buffer is the start of the next head (conn_next).
 *
 * Deadlines: evhttp's timeout restarts with every read, so a client
 * sending a header line every few seconds would hold its slot forever.
 * cs->timer bounds the whole head (header_timeout, from accept for the
 * first request) and the whole body (body_timeout); on expiry the client
 * gets 408 request-timeout. Between requests the connection is idle and
 * only evhttp's timeout applies; at the max_conns cap the oldest idle
 * kept-alive connection is closed to serve a new client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>

#include "core/clock.h"
#include "core/log.h"
#include "http/server_int.h"

static size_t
bucket_of(const struct bufferevent *bev)
{
	uint64_t h = (uint64_t)(uintptr_t)bev;

	h *= UINT64_C(0x9E3779B97F4A7C15);	/* Fibonacci hashing */
	return (size_t)(h >> 32) & (PKID_HTTP_CONN_BUCKETS - 1);
}

struct pkid_http_conn *
pkid_http_conn_find(struct pkid_http_worker *w, struct bufferevent *bev)
{
	struct pkid_http_conn *cs;

	if (bev == NULL)
		return NULL;
	for (cs = w->conns[bucket_of(bev)]; cs != NULL; cs = cs->next)
		if (cs->bev == bev)
			return cs;
	return NULL;
}

void
pkid_http_conn_mark(struct pkid_http_conn *cs, int rx, int busy)
{
	int was = cs->rx || cs->busy;

	cs->rx = rx;
	cs->busy = busy;
	cs->w->active += (rx || busy) - was;
}

static void
arm(struct pkid_http_conn *cs, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(cs->timer, &tv);
}

static void
idle_add(struct pkid_http_conn *cs)
{
	struct pkid_http_worker *w = cs->w;

	if (cs->idle)
		return;
	cs->idle = 1;
	cs->idle_next = NULL;
	cs->idle_prev = w->idle_tail;
	if (w->idle_tail != NULL)
		w->idle_tail->idle_next = cs;
	else
		w->idle_head = cs;
	w->idle_tail = cs;
}

void
pkid_http_idle_remove(struct pkid_http_conn *cs)
{
	struct pkid_http_worker *w = cs->w;

	if (!cs->idle)
		return;
	if (cs->idle_prev != NULL)
		cs->idle_prev->idle_next = cs->idle_next;
	else
		w->idle_head = cs->idle_next;
	if (cs->idle_next != NULL)
		cs->idle_next->idle_prev = cs->idle_prev;
	else
		w->idle_tail = cs->idle_prev;
	cs->idle_prev = cs->idle_next = NULL;
	cs->idle = 0;
}

void
pkid_http_conn_close(struct pkid_http_conn *cs)
{
	/* Frees cs through close_cb. */
	if (cs->evcon != NULL)
		evhttp_connection_free(cs->evcon);
}

/* Start the pre-check of a new head with the server's limits. */
static void
head_start(struct pkid_http_conn *cs)
{
	pkid_http_pc_init(&cs->pc, PKID_MAX_URI_LENGTH, PKID_MAX_HTTP_HEADERS,
	    cs->w->srv->max_body);
	cs->body_wire = 0;
	cs->t0 = pkid_mono_ms();
}

/* A chunked body passed the wire bound: 413 (lengths were checked). */
static int
body_bytes(struct pkid_http_conn *cs, size_t n, int later)
{
	struct pkid_server *s = cs->w->srv;
	struct pkid_err e;

	cs->body_wire += n;
	if (cs->pc.body != PKID_HTTP_PC_CHUNKED || cs->body_wire <=
	    s->wire_body)
		return 1;
	pkid_err_clear(&e);
	PKID_ERR(&e, PKID_E_TOO_LARGE, "chunked request body of more than "
	    "%zu bytes on the wire; the limit is %zu bytes", s->wire_body,
	    s->max_body);
	if (later)
		pkid_http_refuse_later(cs, 413, &e, 0);
	else
		pkid_http_refuse(cs, 413, &e, 0);
	return 0;
}

/* The pre-check accepted a whole head: on to its body or the handler. */
static void
head_done(struct pkid_http_conn *cs, size_t rest, int later)
{
	if (cs->pc.body == PKID_HTTP_PC_NOBODY) {
		cs->phase = PKID_HTTP_PH_DISPATCH;
		event_del(cs->timer);
		return;
	}
	cs->phase = PKID_HTTP_PH_BODY;
	arm(cs, cs->w->srv->body_ms);
	(void)body_bytes(cs, rest, later);
}

/*
 * Pre-check n bytes of buf from offset off (the head's newest bytes).
 * later: called inside evhttp (conn_next), so a refusal waits for the
 * timer callback and the bytes are dropped now, before evhttp reads them.
 */
static void
scan(struct pkid_http_conn *cs, struct evbuffer *buf, size_t off,
    size_t n, int later)
{
	struct evbuffer_ptr pos;
	enum pkid_http_pc_rc rc = PKID_HTTP_PC_MORE;
	uint8_t tmp[1024];
	struct pkid_err e;
	size_t used = 0, k;
	ev_ssize_t got = 0;
	int status = 400;

	pkid_err_clear(&e);
	if (evbuffer_ptr_set(buf, &pos, off, EVBUFFER_PTR_SET) != 0)
		return;
	while (n > 0 && rc == PKID_HTTP_PC_MORE) {
		k = n < sizeof(tmp) ? n : sizeof(tmp);
		got = evbuffer_copyout_from(buf, &pos, tmp, k);
		if (got <= 0)
			return;
		rc = pkid_http_pc_feed(&cs->pc, tmp, (size_t)got, &used,
		    &status, &e);
		n -= (size_t)got;
		(void)evbuffer_ptr_set(buf, &pos, (size_t)got,
		    EVBUFFER_PTR_ADD);
	}
	if (rc == PKID_HTTP_PC_DONE) {
		head_done(cs, n + (size_t)got - used, later);
	} else if (rc == PKID_HTTP_PC_FAIL && later) {
		evbuffer_drain(buf, evbuffer_get_length(buf));
		pkid_http_refuse_later(cs, status, &e, 0);
	} else if (rc == PKID_HTTP_PC_FAIL) {
		pkid_http_refuse(cs, status, &e, 0);
	}
}

/* Input arrived: check a head's bytes, count a body's. */
static void
rx_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct pkid_http_conn *cs = arg;
	size_t len;

	if (info->n_added == 0 || cs->phase >= PKID_HTTP_PH_REFUSE)
		return;
	if (!cs->rx)
		pkid_http_conn_mark(cs, 1, cs->busy);
	len = evbuffer_get_length(buf);
	switch (cs->phase) {
	case PKID_HTTP_PH_IDLE:
		/* A kept-alive connection's next request: its head's
		 * deadline starts now (the first one's ran from accept). */
		pkid_http_idle_remove(cs);
		cs->phase = PKID_HTTP_PH_HEAD;
		if (!evtimer_pending(cs->timer, NULL))
			arm(cs, cs->w->srv->header_ms);
		if (cs->nreq > 0)
			cs->t0 = pkid_mono_ms();
		/* FALLTHROUGH */
	case PKID_HTTP_PH_HEAD:
		if (len >= info->n_added)
			scan(cs, buf, len - info->n_added, info->n_added, 0);
		break;
	case PKID_HTTP_PH_BODY:
		(void)body_bytes(cs, info->n_added, 0);
		break;
	default:
		/* Pipelined bytes while a request is handled: looked at
		 * when its response is done (conn_next). */
		break;
	}
}

void
pkid_http_conn_dispatched(struct pkid_http_conn *cs)
{
	pkid_http_idle_remove(cs);
	if (cs->phase < PKID_HTTP_PH_REFUSE)
		cs->phase = PKID_HTTP_PH_DISPATCH;
	event_del(cs->timer);
}

void
pkid_http_conn_next(struct pkid_http_conn *cs)
{
	struct evbuffer *in = bufferevent_get_input(cs->bev);
	size_t len = evbuffer_get_length(in);

	if (cs->phase >= PKID_HTTP_PH_REFUSE)
		return;
	event_del(cs->timer);
	head_start(cs);
	if (len == 0) {
		cs->phase = PKID_HTTP_PH_IDLE;
		idle_add(cs);
		return;
	}
	/* Pipelined: the head's deadline runs from the end of the previous
	 * response (RFC 9112 9.3.2). */
	cs->phase = PKID_HTTP_PH_HEAD;
	arm(cs, cs->w->srv->header_ms);
	scan(cs, in, 0, len, 1);
}

static void
timer_log(struct pkid_http_conn *cs, const char *why)
{
	pkid_log(PKID_LOG_INFO, "http close client=%s tls=%d worker=%d "
	    "reason=\"%s\"", cs->addr[0] != '\0' ? cs->addr : "?", cs->tls,
	    cs->w->idx, why);
}

/* A deadline passed (or a refusal was deferred to here). */
static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pkid_http_conn *cs = arg;
	struct pkid_server *s = cs->w->srv;
	struct pkid_err e;

	(void)fd;
	(void)what;
	if (pkid_http_refuse_timer(cs) || cs->phase >= PKID_HTTP_PH_DISPATCH)
		return;
	pkid_err_clear(&e);
	if ((cs->over_cap || cs->over_addr) && cs->phase ==
	    PKID_HTTP_PH_IDLE) {
		timer_log(cs, "past the connection limit, no request");
		pkid_http_conn_close(cs);
		return;
	}
	if (cs->ssl != NULL && !cs->hs_done) {
		/* No TLS session to answer on. */
		timer_log(cs, "TLS handshake not done by header_timeout");
		pkid_http_conn_close(cs);
		return;
	}
	if (cs->phase == PKID_HTTP_PH_BODY)
		PKID_ERR(&e, PKID_E_REQUEST_TIMEOUT, "the request body was not "
		    "complete %d ms after its head (body_timeout; %zu bytes "
		    "came)", s->body_ms, cs->body_wire);
	else if (cs->phase == PKID_HTTP_PH_HEAD)
		PKID_ERR(&e, PKID_E_REQUEST_TIMEOUT, "the request head was not "
		    "complete within %d ms (header_timeout)", s->header_ms);
	else
		PKID_ERR(&e, PKID_E_REQUEST_TIMEOUT, "no request within %d ms "
		    "of connecting (header_timeout)", s->header_ms);
	pkid_http_refuse(cs, 408, &e, 0);
}

static void
conn_unlink(struct pkid_http_conn *cs)
{
	struct pkid_http_conn **pp = &cs->w->conns[bucket_of(cs->bev)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == cs) {
			*pp = cs->next;
			return;
		}
	}
}

/* An offloaded request outlived its connection: the job answers no one.
 * evhttp frees the request with the connection unless it detached it
 * (a read error), then the job frees it. */
static void
orphan_job(struct pkid_http_conn *cs)
{
	struct pkid_http_job *job = cs->job;

	if (job == NULL)
		return;
	cs->job = NULL;
	job->cs = NULL;
	if (job->evreq != NULL &&
	    evhttp_request_get_connection(job->evreq) != NULL)
		job->evreq = NULL;
}

/* The connection is gone (bev still allocated): uncount and free. */
static void
conn_release(struct pkid_http_conn *cs)
{
	struct pkid_server *s = cs->w->srv;

	conn_unlink(cs);
	pkid_http_idle_remove(cs);
	orphan_job(cs);
	pkid_http_conn_mark(cs, 0, 0);
	if (cs->rx_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(cs->bev),
		    cs->rx_cb);
	if (cs->tx_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(cs->bev),
		    cs->tx_cb);
	if (cs->timer != NULL)
		event_free(cs->timer);
	free(cs->pending);
	if (cs->ssl != NULL) {
		if (!cs->hs_done)
			atomic_fetch_add(&s->c.tls_failures, 1);
		SSL_set_app_data(cs->ssl, NULL);
	}
	if (cs->addr_counted)
		pkid_http_addrs_del(s->addrs, cs->addr);
	atomic_fetch_sub(&s->c.conns_open, 1);
	atomic_fetch_add(&s->c.closes_since_trim, 1);
	free(cs);
}

static void
close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct pkid_http_conn *cs = arg;

	(void)evcon;
	/*
	 * evhttp is about to close the socket and bufferevent_openssl
	 * sends no close_notify. Send it (one try, the socket is
	 * non-blocking): without it OpenSSL drops the session from the
	 * cache and peers see a truncated stream (RFC 8446 6.1).
	 */
	if (cs->ssl != NULL && SSL_is_init_finished(cs->ssl))
		(void)SSL_shutdown(cs->ssl);
	ERR_clear_error();
	conn_release(cs);
}

/* Count the new connection and queue it for adoption. */
static struct bufferevent *
conn_start(struct pkid_http_worker *w, struct pkid_http_conn *cs,
    struct bufferevent *bev)
{
	struct pkid_server *s = w->srv;
	unsigned long long open;
	size_t b = bucket_of(bev);

	cs->w = w;
	cs->bev = bev;
	cs->next = w->conns[b];
	w->conns[b] = cs;
	open = atomic_fetch_add(&s->c.conns_open, 1) + 1;
	atomic_fetch_add(&s->c.conns_total, 1);
	/* Past the cap the connection is still served, with a 503 and
	 * Retry-After, so clients back off instead of retrying SYNs. */
	cs->over_cap = s->max_conns >= 0 &&
	    open > (unsigned long long)s->max_conns;
	head_start(cs);
	cs->rx_cb = evbuffer_add_cb(bufferevent_get_input(bev), rx_cb, cs);
	cs->tx_cb = evbuffer_add_cb(bufferevent_get_output(bev),
	    pkid_http_tx_cb, cs);
	bufferevent_incref(bev);	/* dropped by adoption */
	cs->adopt_next = w->adopt;
	w->adopt = cs;
	event_active(w->adopt_ev, EV_TIMEOUT, 1);
	return bev;
}

/* A new state with its timer, or NULL. */
static struct pkid_http_conn *
conn_new(struct pkid_http_worker *w)
{
	struct pkid_http_conn *cs = calloc(1, sizeof(*cs));

	if (cs == NULL)
		return NULL;
	cs->timer = evtimer_new(w->base, timer_cb, cs);
	if (cs->timer == NULL) {
		free(cs);
		return NULL;
	}
	return cs;
}

static void
conn_abandon(struct pkid_http_conn *cs)
{
	event_free(cs->timer);
	free(cs);
}

struct bufferevent *
pkid_http_bevcb_tls(struct event_base *base, void *arg)
{
	struct pkid_http_worker *w = arg;
	struct pkid_http_conn *cs;
	struct bufferevent *bev;
	SSL *ssl;

	/* Returning NULL makes evhttp use a plain bufferevent; such a
	 * connection has no state and request.c refuses it. */
	if ((cs = conn_new(w)) == NULL)
		return NULL;
	ssl = SSL_new(w->srv->ssl_ctx);
	if (ssl == NULL) {
		conn_abandon(cs);
		return NULL;
	}
	/* Frees ssl on failure; owns it (BEV_OPT_CLOSE_ON_FREE) on
	 * success. evhttp sets the fd right after we return. */
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		conn_abandon(cs);
		return NULL;
	}
	cs->ssl = ssl;
	cs->tls = 1;
	SSL_set_app_data(ssl, cs);
	return conn_start(w, cs, bev);
}

struct bufferevent *
pkid_http_bevcb_plain(struct event_base *base, void *arg)
{
	struct pkid_http_worker *w = arg;
	struct pkid_http_conn *cs;
	struct bufferevent *bev;

	if ((cs = conn_new(w)) == NULL)
		return NULL;
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		conn_abandon(cs);
		return NULL;
	}
	return conn_start(w, cs, bev);
}

static void
set_nodelay(struct bufferevent *bev)
{
	evutil_socket_t fd = bufferevent_getfd(bev);
	int one = 1;

	/* Responses go out in one write; do not let Nagle hold the tail. */
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
}

/* At the max_conns cap: close this worker's oldest idle kept-alive
 * connection so the new one is served. 1 when one was closed. */
static int
reap_idle(struct pkid_http_worker *w)
{
	struct pkid_http_conn *old = w->idle_head;

	if (old == NULL)
		return 0;
	pkid_http_idle_remove(old);
	timer_log(old, "idle, closed for a new client at max_conns");
	pkid_http_conn_close(old);
	return 1;
}

/* The connection has its peer address now: count it, set its limits. */
static void
adopt_limits(struct pkid_http_conn *cs, struct evhttp_connection *evcon)
{
	struct pkid_server *s = cs->w->srv;
	char *addr = NULL;
	ev_uint16_t port = 0;

	evhttp_connection_get_peer(evcon, &addr, &port);
	snprintf(cs->addr, sizeof(cs->addr), "%s", addr != NULL ? addr : "?");
	cs->addr_n = pkid_http_addrs_add(s->addrs, cs->addr);
	cs->addr_counted = cs->addr_n > 0;
	cs->over_addr = s->max_per_addr >= 0 &&
	    cs->addr_n > (unsigned long)s->max_per_addr;
	if (cs->over_cap && !cs->over_addr && reap_idle(cs->w))
		cs->over_cap = 0;
	/* Past a limit the request must come at once; it is answered 503,
	 * and a connection that sends nothing is closed. */
	if (cs->over_cap || cs->over_addr) {
		evhttp_connection_set_timeout(evcon,
		    PKID_HTTP_OVERCAP_TIMEOUT_S);
		arm(cs, PKID_HTTP_OVERCAP_GRACE_MS);
	} else {
		arm(cs, s->header_ms);
	}
	/* Bound what a client may queue while a request is handled (evhttp
	 * reads on for close detection): one head and one body. */
	bufferevent_setwatermark(cs->bev, EV_READ, 0, PKID_MAX_URI_LENGTH +
	    PKID_MAX_HTTP_HEADERS + s->wire_body + 4096);
}

static void
adopt_one(struct pkid_http_conn *cs)
{
	struct bufferevent *bev = cs->bev;
	struct evhttp_connection *evcon;
	bufferevent_event_cb evcb = NULL;
	void *cbarg = NULL;

	bufferevent_getcb(bev, NULL, NULL, &evcb, &cbarg);
	evcon = cbarg;
	if (evcb == NULL) {
		/* bufferevent_free() cleared the callbacks: evhttp dropped
		 * the connection before we got here. */
		conn_release(cs);
	} else if (evcon != NULL &&
	    evhttp_connection_get_bufferevent(evcon) == bev) {
		cs->evcon = evcon;
		evhttp_connection_set_closecb(evcon, close_cb, cs);
		set_nodelay(bev);
		adopt_limits(cs, evcon);
	} else {
		/* Not the libevent 2.1 layout we know: refuse to track
		 * rather than guess; the connection is uncounted now. */
		pkid_log(PKID_LOG_ERROR, "http worker=%d cannot track a "
		    "connection: unexpected libevent layout", cs->w->idx);
		conn_release(cs);
	}
	bufferevent_decref(bev);
}

void
pkid_http_adopt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pkid_http_worker *w = arg;
	struct pkid_http_conn *cs;

	(void)fd;
	(void)what;
	while ((cs = w->adopt) != NULL) {
		w->adopt = cs->adopt_next;
		cs->adopt_next = NULL;
		adopt_one(cs);
	}
}

void
pkid_http_conn_sweep_events(struct pkid_http_worker *w)
{
	struct pkid_http_conn *cs;
	size_t b;

	for (b = 0; b < PKID_HTTP_CONN_BUCKETS; b++) {
		for (cs = w->conns[b]; cs != NULL; cs = cs->next) {
			if (cs->timer != NULL)
				event_free(cs->timer);
			cs->timer = NULL;
		}
	}
}

void
pkid_http_conn_sweep(struct pkid_http_worker *w)
{
	struct pkid_http_conn *cs;
	size_t b;

	/* Only states evhttp never closed remain; their bufferevents are
	 * gone, so free the memory and fix the counters, nothing else. */
	for (b = 0; b < PKID_HTTP_CONN_BUCKETS; b++) {
		while ((cs = w->conns[b]) != NULL) {
			w->conns[b] = cs->next;
			if (cs->job != NULL)
				cs->job->cs = NULL;
			if (cs->addr_counted)
				pkid_http_addrs_del(w->srv->addrs, cs->addr);
			atomic_fetch_sub(&w->srv->c.conns_open, 1);
			free(cs->pending);
			free(cs);
		}
	}
	w->idle_head = w->idle_tail = NULL;
	w->active = 0;
}
