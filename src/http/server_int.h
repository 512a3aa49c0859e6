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
#include "http/precheck.h"
#include "verify/ccache.h"

struct bufferevent;
struct evbuffer;
struct evbuffer_cb_info;
struct event;
struct event_base;
struct evbuffer_cb_entry;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_request;
struct evhttp_connection;
struct evkeyvalq;


/* Listener kinds, the index of the per-kind arrays below. */
enum pkid_http_kind {
	PKID_HTTP_TLS = 0,
	PKID_HTTP_PLAIN = 1,
	PKID_HTTP_KINDS = 2,
};

/*
 * Where a connection is in its current request (conn.c). Deadlines run
 * in HEAD and BODY; the pre-check reads the bytes of HEAD only.
 */
enum pkid_http_phase {
	PKID_HTTP_PH_IDLE = 0,	/* no byte of the next request yet */
	PKID_HTTP_PH_HEAD,	/* request head arriving, pre-checked */
	PKID_HTTP_PH_BODY,	/* head accepted, body arriving */
	PKID_HTTP_PH_DISPATCH,	/* evhttp has it all: handler, response */
	PKID_HTTP_PH_REFUSE,	/* pkid's refusal is written, then close */
	PKID_HTTP_PH_CLOSING,	/* evhttp's own error goes out, it closes */
};

struct pkid_http_worker;
struct pkid_http_job;
struct pkid_http_refusal;

/* One accepted connection. */
struct pkid_http_conn {
	struct pkid_http_worker *w;	/* worker owning it */
	struct pkid_http_conn *next;	/* chain in w->conns */
	struct pkid_http_conn *adopt_next; /* chain in w->adopt */
	struct pkid_http_conn *idle_prev; /* w's idle list, older */
	struct pkid_http_conn *idle_next; /* w's idle list, newer */
	struct bufferevent *bev;	/* bufferevent evhttp uses: the key */
	struct evhttp_connection *evcon; /* evhttp's connection, once
					 * adopted; NULL before */
	struct evbuffer_cb_entry *rx_cb; /* watcher of its input buffer */
	struct evbuffer_cb_entry *tx_cb; /* watcher of its output buffer */
	struct event *timer;		/* head/body deadline, refusal */
	struct pkid_http_refusal *pending; /* refusal to send from the
					 * timer callback, or NULL */
	struct pkid_http_job *job;	/* offloaded request, or NULL */
	SSL *ssl;			/* TLS state (owned by bev), or NULL */
	enum pkid_http_phase phase;	/* where its request is */
	struct pkid_http_pc pc;		/* pre-check of the current head */
	size_t body_wire;		/* chunked body bytes seen */
	char addr[64];			/* peer address text, "" before
					 * adoption */
	unsigned addr_n;		/* conns from addr when it came */
	int addr_counted;		/* counted in srv->addrs */
	int idle;			/* on w's idle list */
	int tls;			/* accepted on the TLS listener */
	int over_cap;			/* accepted past max_conns: 503 */
	int over_addr;			/* past max_conns_per_addr: 503 */
	int hs_done;			/* TLS handshake completed */
	int verify_failed;		/* a client certificate check failed */
	int verify_err;			/* first X509_V_ERR_* seen, 0 if none */
	int rx;				/* request bytes arrived, unanswered */
	int busy;			/* response queued, not yet written */
	int lingering;			/* refusal written, draining input */
	int in_tx;			/* tx_cb is rewriting the output */
	unsigned long nreq;		/* requests answered on it */
	uint64_t t0;			/* monotonic ms its request began */
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
	struct event *done_ev;		/* offloaded requests came back */
	struct pkid_http_conn *adopt;	/* conns waiting for adoption */
	struct pkid_http_conn *conns[PKID_HTTP_CONN_BUCKETS]; /* by bev */
	struct pkid_http_conn *idle_head; /* kept-alive conns with no
					 * request, oldest first */
	struct pkid_http_conn *idle_tail; /* ... newest */
	pthread_mutex_t done_mu;	/* guards done_* (pool threads) */
	int done_mu_ok;			/* done_mu was initialised */
	struct pkid_http_job *done_head; /* finished jobs, oldest first */
	struct pkid_http_job *done_tail; /* ... newest */
	int done_closed;		/* the loop is gone: free, not post */
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
	atomic_ullong closes_since_trim; /* conns closed since the last
					 * malloc_trim */
	atomic_ullong last_trim_ms;	/* monotonic ms of the last one */
};

struct pkid_http_rate;
struct pkid_http_addrs;
struct pkid_http_pool;

struct pkid_server {
	struct pkid_http_routes *routes; /* routes in service (newest first;
					 * older ones kept until freed) */
	pthread_mutex_t routes_mu;	/* guards routes */
	int routes_mu_ok;		/* routes_mu was initialised */
	char *addr[PKID_HTTP_KINDS];	/* "ADDR:PORT" per kind, NULL = off */
	int port[PKID_HTTP_KINDS];	/* bound port per kind, 0 = off */
	int nworkers;			/* worker threads */
	long max_conns;			/* connection cap over all workers */
	long max_per_addr;		/* per address, < 0 = no cap */
	int rate_per_min;		/* per address, <= 0 means unlimited */
	size_t max_body;		/* request body limit, bytes */
	size_t wire_body;		/* chunked body limit on the wire */
	int header_ms;			/* whole-head deadline, ms */
	int body_ms;			/* whole-body deadline, ms */
	int nhandlers;			/* handler pool threads */
	int handler_queue;		/* jobs that may wait for one */
	int max_delay_ms;		/* longest expected wait admitted */
	int client_ca;			/* client certificates are asked for */
	SSL_CTX *ssl_ctx;		/* shared by all workers, or NULL */
	struct pkid_ccache *ccache;	/* verified client chains, or NULL */
	struct pkid_http_worker *w;	/* nworkers workers */
	struct pkid_http_rate *rate;	/* per-address token buckets */
	struct pkid_http_addrs *addrs;	/* per-address connection counts */
	struct pkid_http_pool *pool;	/* handler threads */
	int stop_pipe[2];		/* written by pkid_server_stop */
	int ran;			/* pkid_server_run was called */
	struct pkid_http_counters c;	/* statistics */
	struct pkid_status *status;	/* counters of the status page, or
					 * NULL (borrowed) */
};

/*
 * What a handler may ask about its request beyond struct pkid_http_req:
 * its headers and the TLS channel binding. On the event loop these are
 * live views of the connection; for a request run on the handler pool
 * they are copies taken before it left the loop (the connection's SSL
 * is never touched off its loop).
 */
struct pkid_http_rctx {
	const struct evkeyvalq *headers; /* request headers, or NULL */
	SSL *ssl;			/* live TLS state (loop only) */
	int cb_ready;			/* cb_* hold the precomputed binding */
	struct pkid_err cb_err;		/* why there is none (cb_ready) */
	uint8_t cb[PKID_HTTP_CB_MAX];	/* the binding (cb_ready, no error) */
	size_t cb_len;			/* its length */
	const char *cb_type;		/* "tls-unique" or "tls-exporter" */
};

/*
 * A router in service and how many requests use it: pkid swaps in a new
 * one (CA rollover, reload) while requests under way finish with the one
 * they started with (server.c).
 */
struct pkid_http_routes {
	const struct pkid_router *r;	/* the router (borrowed) */
	atomic_long users;		/* requests using it now */
	struct pkid_http_routes *next;	/* the one it replaced */
};
/* The router in service, counted as used until pkid_http_routes_put. */
struct pkid_http_routes *pkid_http_routes_take(struct pkid_server *s);
void pkid_http_routes_put(struct pkid_http_routes *rt);

/* The route a request resolved to (router.c). */
struct pkid_http_route_hit {
	pkid_http_handler fn;		/* the handler */
	void *ctx;			/* its first argument */
	int offload;			/* run it on the handler pool */
	enum pkid_http_method method;	/* method the handler sees (GET for
					 * a HEAD on a GET route) */
};

/*
 * One request on its way through a handler: on the loop's stack when run
 * inline, allocated when offloaded (then it owns copies of everything
 * the handler reads, see request.c).
 */
struct pkid_http_job {
	struct pkid_http_job *next;	/* pool queue or w->done list */
	struct pkid_http_worker *w;	/* worker that answers */
	struct pkid_http_conn *cs;	/* its connection, NULL once closed */
	struct evhttp_request *evreq;	/* request to answer, NULL once
					 * evhttp freed it */
	struct pkid_http_route_hit hit;	/* the route */
	struct pkid_http_routes *rt;	/* the router it came from (a use
					 * counted until the job ends) */
	struct pkid_http_req req;	/* the request as it came */
	struct pkid_http_req hreq;	/* what the handler sees */
	struct pkid_http_rctx x;	/* req.rctx */
	struct evkeyvalq *hdrs;		/* owned header copy, or NULL */
	int owned;			/* req's strings, body, certs owned */
	char *path;			/* decoded path (free()) */
	STACK_OF(X509) *chain;		/* req.peer_chain */
	struct pkid_http_resp resp;	/* the answer */
	int close;			/* answer with Connection: close */
	uint64_t t0;			/* monotonic ms it arrived */
	uint64_t q_ms;			/* monotonic ms it was queued */
	struct pkid_trace trace;	/* its id and annotations, current on
					 * the thread running its handler */
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
/* evhttp handed the whole request to pkid: stop its deadline. */
void pkid_http_conn_dispatched(struct pkid_http_conn *cs);
/* Its response was written and the connection stays: look at what the
 * client sent meanwhile (pipelined) as the next request's head. */
void pkid_http_conn_next(struct pkid_http_conn *cs);
/* Take cs off w's idle list (no-op when not on it). */
void pkid_http_idle_remove(struct pkid_http_conn *cs);
/* Close cs now, without an answer (evhttp_connection_free). */
void pkid_http_conn_close(struct pkid_http_conn *cs);
/* Free timers of states evhttp never closed (before event_base_free). */
void pkid_http_conn_sweep_events(struct pkid_http_worker *w);
/* Free states evhttp never closed (after event_base_free). */
void pkid_http_conn_sweep(struct pkid_http_worker *w);

/* refuse.c: pkid answers and closes a connection itself. */
/*
 * Take cs away from evhttp, drop what it sent, answer status with e in
 * pkid's format (Retry-After retry_s when > 0, Connection: close), and
 * close once it is written (after a short linger). Loop thread only,
 * never inside an evhttp callback for cs.
 */
void pkid_http_refuse(struct pkid_http_conn *cs, int status,
    const struct pkid_err *e, int retry_s);
/* The same from cs's timer callback: for callers inside evhttp's. */
void pkid_http_refuse_later(struct pkid_http_conn *cs, int status,
    const struct pkid_err *e, int retry_s);
/* cs->timer fired while refusing: finish (or send what was deferred). */
int pkid_http_refuse_timer(struct pkid_http_conn *cs);
/* Output buffer watcher: rewrites evhttp's own error pages. */
void pkid_http_tx_cb(struct evbuffer *buf,
    const struct evbuffer_cb_info *info, void *arg);

/* reply.c: responses and the access log. */
/* Send resp for evreq (evhttp_send_reply), HEAD without its body. */
void pkid_http_send(struct pkid_http_worker *w, struct pkid_http_conn *cs,
    struct evhttp_request *evreq, struct pkid_http_job *job);
/* One access log line and the counters for an answered request. */
void pkid_http_account(struct pkid_http_worker *w, const char *method,
    const char *path, const char *client, int tls,
    const struct pkid_http_resp *resp, uint64_t t0,
    const struct pkid_trace *t);
/* Run the job's handler with its trace current on this thread. */
void pkid_http_job_run(struct pkid_http_job *job);
/* Append resp as a whole HTTP/1.1 message with Connection: close. */
int pkid_http_resp_write(struct evbuffer *out,
    const struct pkid_http_resp *resp);
/* resp = 503 + Retry-After retry_s with e. */
void pkid_http_resp_503(struct pkid_http_resp *resp, int retry_s,
    const struct pkid_err *e);

/* request.c: evhttp's generic callbacks (arg is the worker). */
void pkid_http_gencb_tls(struct evhttp_request *req, void *arg);
void pkid_http_gencb_plain(struct evhttp_request *req, void *arg);
/* Event callback of w->done_ev: answer requests the pool finished. */
void pkid_http_done_cb(evutil_socket_t fd, short what, void *arg);
/* Free w's finished jobs and refuse new ones (the loop is ending). */
void pkid_http_done_close(struct pkid_http_worker *w);
/* Free an offloaded job and what it owns (not its evreq). */
void pkid_http_job_free(struct pkid_http_job *job);

/* pool.c: the handler threads. */
/*
 * *out receives a pool of n threads (not started), a queue bound and the
 * longest expected wait it admits a job to, ms (<= 0: no such bound).
 */
enum pkid_code pkid_http_pool_new(int n, int max_queued, int max_delay_ms,
    struct pkid_http_pool **out, struct pkid_err *e);
enum pkid_code pkid_http_pool_start(struct pkid_http_pool *p,
    struct pkid_err *e);
enum pkid_http_submit {
	PKID_HTTP_SUBMIT_OK = 0,	/* queued */
	PKID_HTTP_SUBMIT_FULL,		/* queue full or pool stopped */
	PKID_HTTP_SUBMIT_LATE,		/* it would wait past the bound */
};
/* Why a job was not queued, for its 503. */
struct pkid_http_refused {
	int queued;			/* jobs waiting then */
	int wait_ms;			/* the wait estimated for it */
	int bound_ms;			/* the bound */
	int retry_s;			/* Retry-After: drain time + jitter */
};
/* Queue job, or say why not in *why (then the job is still the
 * caller's). */
enum pkid_http_submit pkid_http_pool_submit(struct pkid_http_pool *p,
    struct pkid_http_job *job, struct pkid_http_refused *why);
/* Requests waiting in p's queue now. */
int pkid_http_pool_queued(struct pkid_http_pool *p);
/* Stop the threads (the running handlers finish) and join them; jobs
 * still queued are freed. */
void pkid_http_pool_stop(struct pkid_http_pool *p);
void pkid_http_pool_free(struct pkid_http_pool *p);

/* router.c */
/*
 * Resolve req: 1 with *hit filled when a handler should run; 0 when
 * resp holds the answer (404 no-route, 405 with Allow).
 */
int pkid_router_route(const struct pkid_router *r,
    const struct pkid_http_req *req, struct pkid_http_resp *resp,
    struct pkid_http_route_hit *hit);

/* tls.c: the channel binding of ssl into x (loop thread). */
void pkid_http_tls_cb_snapshot(SSL *ssl, const char *client,
    struct pkid_http_rctx *x);

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
/* Per-address connection counts shared by all workers. */
enum pkid_code pkid_http_addrs_new(struct pkid_http_addrs **out,
    struct pkid_err *e);
void pkid_http_addrs_free(struct pkid_http_addrs *a);
/* One more connection from addr: the new count, 0 when not counted (no
 * memory; then do not call pkid_http_addrs_del). */
unsigned pkid_http_addrs_add(struct pkid_http_addrs *a, const char *addr);
void pkid_http_addrs_del(struct pkid_http_addrs *a, const char *addr);
/* Return freed heap to the system when many connections closed lately
 * (malloc_trim), at most every PKID_HTTP_TRIM_INTERVAL_MS. */
void pkid_http_trim_check(struct pkid_server *s);

/* resp.c: reason phrase of a status, NULL for evhttp's own. */
const char *pkid_http_status_text(int status);

#endif
