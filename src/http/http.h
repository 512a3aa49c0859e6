/*
 * http.h - pkid's HTTP(S) server as the protocol code sees it.
 *
 * Protocol code (est/, scep/, the CRL and status endpoints) never includes
 * a libevent header: it receives a parsed struct pkid_http_req and fills a
 * struct pkid_http_resp. The server (server.c, libevent + OpenSSL) owns
 * threads, TLS, limits and back-pressure.
 */
#ifndef PKID_HTTP_HTTP_H
#define PKID_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/trace.h"

enum pkid_http_method {
	PKID_HTTP_GET = 1,
	PKID_HTTP_POST = 2,
	PKID_HTTP_HEAD = 4,
	PKID_HTTP_OTHER = 8,
};

struct pkid_http_rctx;	/* opaque: the server's side of a request */

/* One request, valid only during the handler call (all borrowed). */
struct pkid_http_req {
	enum pkid_http_method method;	/* request method */
	const char *method_name;	/* the method as sent ("PUT"), for
					 * messages; NULL: method's name */
	const char *path;		/* decoded path, no query */
	const char *query;		/* raw query string, NULL if none */
	const char *content_type;	/* Content-Type header, NULL if none */
	const uint8_t *body;		/* request body (may be NULL) */
	size_t body_len;		/* its length, <= the body limit */
	const char *client_addr;	/* peer address text, e.g. "127.0.0.1" */
	int tls;			/* 1 when on the TLS listener */
	X509 *peer_cert;		/* TLS client certificate, or NULL */
	STACK_OF(X509) *peer_chain;	/* client's chain as sent, or NULL */
	int peer_verified;		/* 1 when peer_cert verified against
					 * the server's client_ca store */
	const struct pkid_http_rctx *rctx; /* headers, channel binding */
	const char *request_id;		/* this request's id (trace.h) */
};

/* Value of a request header, NULL when absent. Borrowed. */
const char *pkid_http_req_header(const struct pkid_http_req *r,
    const char *name);

/*
 * TLS channel binding of the request's connection: tls-unique for TLS 1.2
 * (RFC 5929), tls-exporter for TLS 1.3 (RFC 9266, 32 bytes). type receives
 * "tls-unique" or "tls-exporter". PKID_E_PROTO... on plain HTTP.
 * *outlen is the size of out on entry (PKID_HTTP_CB_MAX is enough) and
 * the length of the binding on return. Errors: no-channel-binding.
 */
#define PKID_HTTP_CB_MAX 64
enum pkid_code pkid_http_req_channel_binding(const struct pkid_http_req *r,
    uint8_t *out, size_t *outlen, const char **type, struct pkid_err *e);

#define PKID_HTTP_MAX_RESP_HEADERS 8

/* A response the handler fills; the server sends it. */
struct pkid_http_resp {
	int status;			/* HTTP status, 200 by default */
	char content_type[128];		/* Content-Type, "" for none */
	struct pkid_buf body;		/* response body (owned) */
	int n_headers;			/* extra headers used */
	struct {
		char name[64];		/* header name */
		char value[256];	/* header value */
	} headers[PKID_HTTP_MAX_RESP_HEADERS];
	enum pkid_code code;		/* catalogue code of a failure, for
					 * the access log and metrics */
};

void pkid_http_resp_init(struct pkid_http_resp *r);
void pkid_http_resp_free(struct pkid_http_resp *r);
/* Add a header; silently ignored past PKID_HTTP_MAX_RESP_HEADERS. */
void pkid_http_resp_header(struct pkid_http_resp *r, const char *name,
    const char *value);
/*
 * Replace the body with a copy of n bytes at p and set the Content-Type
 * (unchanged when content_type is NULL). Errors: too-large, out-of-memory.
 */
enum pkid_code pkid_http_resp_body(struct pkid_http_resp *r,
    const char *content_type, const void *p, size_t n, struct pkid_err *e);
/*
 * Turn an error into a response: status, text/plain body
 * "error: <code>: <message>\nfix: <remedy>\n", resp->code set.
 */
void pkid_http_resp_error(struct pkid_http_resp *r, int status,
    const struct pkid_err *e);

/* "GET", "POST", "HEAD" or "OTHER"; static text. */
const char *pkid_http_method_name(enum pkid_http_method m);

/*
 * A handler runs on a worker thread (the event loop of its connection)
 * or, for a route added with PKID_ROUTE_OFFLOAD, on one of the server's
 * handler threads; it must be thread-safe either way. What it reads of
 * the request (fields, pkid_http_req_header, channel binding) stays
 * valid and its own until it returns. A HEAD request reaches a route
 * that lists GET but not HEAD as a GET; the server sends the headers and
 * drops the body.
 */
typedef void (*pkid_http_handler)(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp);

/*
 * Routes: the longest matching prefix wins; exact routes match only their
 * path. A prefix matches whole segments: "/scep" matches "/scep" and
 * "/scep/x" but not "/scepx"; a prefix ending in '/' matches below it.
 * methods is a mask of enum pkid_http_method, optionally with
 * PKID_ROUTE_OFFLOAD; fn(ctx, ...) is called. The router is read-only
 * once the server runs.
 */
/*
 * Run the route's handler on the server's bounded pool of handler
 * threads, not on the event loop: for handlers that hash passwords, sign
 * or wait for a durable commit, so the loop keeps serving the other
 * connections of its worker meanwhile. When the pool's queue is full the
 * request is answered 503 + Retry-After (rate-limited) at once, and when
 * it would wait longer than max_queue_delay_ms, 503 + Retry-After
 * (overloaded).
 */
#define PKID_ROUTE_OFFLOAD 0x100u
struct pkid_router;
struct pkid_router *pkid_router_new(void);
void pkid_router_free(struct pkid_router *r);
enum pkid_code pkid_router_add(struct pkid_router *r, const char *path,
    int prefix, unsigned methods, pkid_http_handler fn, void *ctx,
    struct pkid_err *e);
/* Dispatch (also used by tests without a network): 404/405 itself. */
void pkid_router_dispatch(const struct pkid_router *r,
    const struct pkid_http_req *req, struct pkid_http_resp *resp);

/* Server settings. Strings are copied. */
struct pkid_server_opts {
	const char *listen;	/* TLS "ADDR:PORT", NULL/"off" = none */
	const char *http;	/* plain HTTP "ADDR:PORT", NULL/"off" = none */
	int workers;		/* threads, 0 = 2 per core (limits.h) */
	int max_conns;		/* open connections over all workers,
				 * 0 = PKID_DEFAULT_MAX_CONNS, < 0 = no cap */
	int rate_per_min;	/* requests per client address per minute,
				 * 0 = PKID_DEFAULT_RATE_PER_MIN, < 0 = off */
	size_t max_body;	/* request body limit, bytes (413 past it),
				 * 0 = PKID_MAX_HTTP_BODY */
	int max_conns_per_addr;	/* open connections from one address over
				 * all workers, 0 = PKID_DEFAULT_MAX_CONNS_
				 * PER_ADDR, < 0 = no cap */
	int header_timeout_ms;	/* deadline of a whole request head,
				 * 0 = PKID_HTTP_HEADER_TIMEOUT_S */
	int body_timeout_ms;	/* deadline of a whole request body,
				 * 0 = PKID_HTTP_BODY_TIMEOUT_S */
	int handler_threads;	/* handler pool threads, 0 = 2 per core */
	int handler_queue;	/* requests that may wait for a handler
				 * thread, 0 = PKID_HTTP_HANDLER_QUEUE */
	int max_queue_delay_ms;	/* longest a request may be expected to
				 * wait for a handler thread before it is
				 * refused 503 overloaded instead, 0 =
				 * PKID_DEFAULT_MAX_QUEUE_DELAY_MS, < 0 =
				 * no bound */
	int tls_tickets;	/* TLS 1.3 session tickets sent after each
				 * full handshake (0: none) */
	const char *cert_file;	/* server certificate chain PEM (leaf first) */
	const char *key_file;	/* server private key PEM */
	const char *client_ca;	/* PEM of issuers trusted for client certs,
				 * NULL = do not ask for client certs */
	struct pkid_status *status; /* where answered requests are counted
				 * (status/status.h, borrowed), or NULL */
};

/* Counters the status page and /metrics read (monotonic, atomically). */
struct pkid_server_stats {
	unsigned long long requests;	/* requests answered */
	unsigned long long conns_open;	/* connections now open */
	unsigned long long conns_total;	/* connections accepted */
	unsigned long long rejected_503; /* answered 503 (limits) */
	unsigned long long tls_failures; /* failed TLS handshakes */
	unsigned long long status[6];	/* by class: [2]=2xx .. [5]=5xx */
	unsigned long long handler_queued; /* requests waiting for a
					 * handler thread now */
	/* The limits in force, to show how close the server is to them. */
	long max_conns;			/* connection cap */
	long max_conns_per_addr;	/* per address, < 0: none */
	int rate_per_min;		/* per address, <= 0: none */
	int handler_threads;		/* handler pool threads */
	int handler_queue;		/* requests that may wait for one */
	int max_queue_delay_ms;		/* admission bound, ms, <= 0: none */
	unsigned long long max_body;	/* request body limit, bytes */
	int workers;			/* worker threads */
};

struct pkid_server;
struct pkid_status;
/* Bind the listeners (errors: listen-failed naming the address). */
struct pkid_server *pkid_server_new(const struct pkid_server_opts *o,
    const struct pkid_router *router, struct pkid_err *e);
/* Run the workers; returns after pkid_server_stop and a graceful drain. */
enum pkid_code pkid_server_run(struct pkid_server *s, struct pkid_err *e);
/*
 * Serve r from now on (a CA rollover, a reload): requests under way finish
 * with the router they started with. The one replaced stays the caller's:
 * free it, and what its handlers use, once pkid_server_router_busy says
 * no request uses it any more. Errors: out-of-memory.
 */
enum pkid_code pkid_server_set_router(struct pkid_server *s,
    const struct pkid_router *r, struct pkid_err *e);
/* 1 while r is in service or a request still runs with it. */
int pkid_server_router_busy(struct pkid_server *s,
    const struct pkid_router *r);
/* Ask the server to stop (safe from a signal handler). */
void pkid_server_stop(struct pkid_server *s);
void pkid_server_stats(const struct pkid_server *s,
    struct pkid_server_stats *out);
/* The bound ports (after new), for tests that listen on port 0. */
int pkid_server_tls_port(const struct pkid_server *s);
int pkid_server_http_port(const struct pkid_server *s);
void pkid_server_free(struct pkid_server *s);

#endif
