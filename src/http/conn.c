/*
 * conn.c - one struct pkid_http_conn per accepted connection: counted
 * against max_conns from accept to close, found again by its bufferevent
 * when a request arrives.
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
 */
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

/* Input arrived: a request is on its way (for the drain at stop). */
static void
rx_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct pkid_http_conn *cs = arg;

	(void)buf;
	if (info->n_added > 0 && !cs->rx)
		pkid_http_conn_mark(cs, 1, cs->busy);
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

/* The connection is gone (bev still allocated): uncount and free. */
static void
conn_release(struct pkid_http_conn *cs)
{
	struct pkid_server *s = cs->w->srv;

	conn_unlink(cs);
	pkid_http_conn_mark(cs, 0, 0);
	if (cs->rx_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(cs->bev),
		    cs->rx_cb);
	if (cs->ssl != NULL) {
		if (!cs->hs_done)
			atomic_fetch_add(&s->c.tls_failures, 1);
		SSL_set_app_data(cs->ssl, NULL);
	}
	atomic_fetch_sub(&s->c.conns_open, 1);
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
	cs->rx_cb = evbuffer_add_cb(bufferevent_get_input(bev), rx_cb, cs);
	bufferevent_incref(bev);	/* dropped by adoption */
	cs->adopt_next = w->adopt;
	w->adopt = cs;
	event_active(w->adopt_ev, EV_TIMEOUT, 1);
	return bev;
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
	cs = calloc(1, sizeof(*cs));
	if (cs == NULL)
		return NULL;
	ssl = SSL_new(w->srv->ssl_ctx);
	if (ssl == NULL) {
		free(cs);
		return NULL;
	}
	/* Frees ssl on failure; owns it (BEV_OPT_CLOSE_ON_FREE) on
	 * success. evhttp sets the fd right after we return. */
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		free(cs);
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

	cs = calloc(1, sizeof(*cs));
	if (cs == NULL)
		return NULL;
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		free(cs);
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
		evhttp_connection_set_closecb(evcon, close_cb, cs);
		set_nodelay(bev);
		if (cs->over_cap)
			evhttp_connection_set_timeout(evcon,
			    PKID_HTTP_OVERCAP_TIMEOUT_S);
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
pkid_http_conn_sweep(struct pkid_http_worker *w)
{
	struct pkid_http_conn *cs;
	size_t b;

	/* Only states evhttp never closed remain; their bufferevents are
	 * gone, so free the memory and fix the counter, nothing else. */
	for (b = 0; b < PKID_HTTP_CONN_BUCKETS; b++) {
		while ((cs = w->conns[b]) != NULL) {
			w->conns[b] = cs->next;
			atomic_fetch_sub(&w->srv->c.conns_open, 1);
			free(cs);
		}
	}
	w->active = 0;
}
