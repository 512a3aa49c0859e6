/*
 * server_int.h - private glue between the files of src/http: the server,
 * its workers, their connections and the shared limits. Only src/http
 * includes this header; protocol code sees http.h alone.
 *
 * Threads: every worker owns one event_base and everything hanging off it
 * (its evhttp objects, connections, their struct pkid_http_conn). Only the
 * counters, the rate table and the SSL_CTX are shared between workers.
 */
#ifndef PKID_HTTP_SERVER_INT_H
#define PKID_HTTP_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <event2/util.h>
#include <openssl/ssl.h>

#include "core/limits.h"
#include "http/http.h"
#include "verify/ccache.h"

struct bufferevent;
struct event;
struct event_base;
struct evbuffer_cb_entry;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_request;


/* Listener kinds, the index of the per-kind arrays below. */
enum pkid_http_kind {
	PKID_HTTP_TLS = 0,
	PKID_HTTP_PLAIN = 1,
	PKID_HTTP_KINDS = 2,
};

struct pkid_http_worker;

/* One accepted connection: the opaque struct pkid_http_conn of http.h. */
struct pkid_http_conn {
	struct pkid_http_worker *w;	/* worker owning it */
	struct pkid_http_conn *next;	/* chain in w->conns */
	struct pkid_http_conn *adopt_next; /* chain in w->adopt */
	struct bufferevent *bev;	/* bufferevent evhttp uses: the key */
	struct evbuffer_cb_entry *rx_cb; /* watcher of its input buffer */
	SSL *ssl;			/* TLS state (owned by bev), or NULL */
	struct evhttp_request *cur;	/* request in its handler, or NULL */
	int tls;			/* accepted on the TLS listener */
	int over_cap;			/* accepted past max_conns: 503 */
	int hs_done;			/* TLS handshake completed */
	int verify_failed;		/* a client certificate check failed */
	int verify_err;			/* first X509_V_ERR_* seen, 0 if none */
	int rx;				/* request bytes arrived, unanswered */
	int busy;			/* response queued, not yet written */
	unsigned long nreq;		/* requests answered on it */
};

/* One worker thread and its event loop. */
struct pkid_http_worker {
	struct pkid_server *srv;	/* the server */
	int idx;			/* worker number, for logs */
	struct event_base *base;	/* its own event loop */
	struct evhttp *http[PKID_HTTP_KINDS];	/* NULL when off */
	struct evhttp_bound_socket *bound[PKID_HTTP_KINDS]; /* listeners */
	struct event *stop_ev;		/* the stop pipe became readable */
	struct event *drain_ev;		/* drain poll timer */
	struct event *adopt_ev;		/* adopt freshly accepted conns */
	struct event *resume_ev;	/* re-enables paused listeners */
	struct pkid_http_conn *adopt;	/* conns waiting for adoption */
	struct pkid_http_conn *conns[PKID_HTTP_CONN_BUCKETS]; /* by bev */
	int active;			/* conns with rx or busy set */
	int draining;			/* stop seen, listeners closed */
	uint64_t drain_end;		/* monotonic ms when draining ends */
	pthread_t thread;		/* its thread */
	int started;			/* thread was started */
	struct pkid_err err;		/* why its loop failed */
};

/* Counters behind struct pkid_server_stats. */
struct pkid_http_counters {
	atomic_ullong requests;		/* requests answered */
	atomic_ullong conns_open;	/* connections now open */
	atomic_ullong conns_total;	/* connections accepted */
	atomic_ullong rejected_503;	/* answered 503 (limits) */
	atomic_ullong tls_failures;	/* failed TLS handshakes */
	atomic_ullong status[6];	/* by class: [2]=2xx .. [5]=5xx */
};

struct pkid_http_rate;

struct pkid_server {
	const struct pkid_router *router; /* routes (borrowed) */
	char *addr[PKID_HTTP_KINDS];	/* "ADDR:PORT" per kind, NULL = off */
	int port[PKID_HTTP_KINDS];	/* bound port per kind, 0 = off */
	int nworkers;			/* worker threads */
	long max_conns;			/* connection cap over all workers */
	int rate_per_min;		/* per address, <= 0 means unlimited */
	size_t max_body;		/* request body limit, bytes */
	int client_ca;			/* client certificates are asked for */
	SSL_CTX *ssl_ctx;		/* shared by all workers, or NULL */
	struct pkid_ccache *ccache;	/* verified client chains, or NULL */
	struct pkid_http_worker *w;	/* nworkers workers */
	struct pkid_http_rate *rate;	/* per-address token buckets */
	int stop_pipe[2];		/* written by pkid_server_stop */
	int ran;			/* pkid_server_run was called */
	struct pkid_http_counters c;	/* statistics */
};

/* listen.c: n sockets bound to spec with SO_REUSEPORT, listening. */
enum pkid_code pkid_http_listen_open(const char *spec, int n, int *fds,
    int *port, struct pkid_err *e);

/* tls.c */
/*
 * *out receives the server's SSL_CTX (the caller frees it). Client chains
 * that verified are remembered in cc (borrowed, must outlive the SSL_CTX;
 * NULL: every handshake builds the chain).
 */
enum pkid_code pkid_http_tls_ctx_new(const struct pkid_server_opts *o,
    struct pkid_ccache *cc, SSL_CTX **out, struct pkid_err *e);
/*
 * Fill the peer fields of req from the connection. *chain receives a new
 * stack (free with sk_X509_free, the certificates are borrowed) or NULL.
 */
void pkid_http_tls_peer(struct pkid_http_conn *cs, int client_ca,
    struct pkid_http_req *req, STACK_OF(X509) **chain);

/* conn.c: bufferevent factories evhttp calls per accepted socket. */
struct bufferevent *pkid_http_bevcb_tls(struct event_base *base, void *arg);
struct bufferevent *pkid_http_bevcb_plain(struct event_base *base,
    void *arg);
/* Event callback of w->adopt_ev; also called at teardown. */
void pkid_http_adopt_cb(evutil_socket_t fd, short what, void *arg);
/* The state of the connection using bev, NULL when not tracked. */
struct pkid_http_conn *pkid_http_conn_find(struct pkid_http_worker *w,
    struct bufferevent *bev);
/* Set the rx and busy flags, keeping w->active right. */
void pkid_http_conn_mark(struct pkid_http_conn *cs, int rx, int busy);
/* Free states evhttp never closed (after event_base_free). */
void pkid_http_conn_sweep(struct pkid_http_worker *w);

/* request.c: evhttp's generic callbacks (arg is the worker). */
void pkid_http_gencb_tls(struct evhttp_request *req, void *arg);
void pkid_http_gencb_plain(struct evhttp_request *req, void *arg);

/* limit.c */
/* *out receives a new table (pkid_http_rate_free); per_min <= 0: off. */
enum pkid_code pkid_http_rate_new(int per_min, struct pkid_http_rate **out,
    struct pkid_err *e);
void pkid_http_rate_free(struct pkid_http_rate *r);
/*
 * Take one token for addr. 1 when allowed; 0 when over the rate, with
 * *wait_s the seconds until the next token.
 */
int pkid_http_rate_take(struct pkid_http_rate *r, const char *addr,
    uint64_t now_ms, int *wait_s);
/* base_s plus up to spread_s random seconds, capped. */
int pkid_http_jitter(int base_s, int spread_s);

/* resp.c: reason phrase of a status, NULL for evhttp's own. */
const char *pkid_http_status_text(int status);

#endif
