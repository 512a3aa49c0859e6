/*
 * server.c - the HTTP(S) server: N worker threads, each with its own
 * event_base, evhttp objects and SO_REUSEPORT listening sockets, sharing
 * one SSL_CTX, the counters and the rate table.
 *
 * Stopping: pkid_server_stop() only sets a flag and writes one byte to a
 * pipe (both async-signal-safe). The pipe is never drained, so it stays
 * readable and every worker's one-shot stop event fires. A worker then
 * closes its listeners, lets requests in flight finish (at most
 * PKID_HTTP_DRAIN_MS) and leaves its loop; evhttp_free closes the rest.
 * Requests on the handler pool count as in flight: the worker's loop
 * answers them when the pool hands them back. The pool stops after the
 * workers.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "core/clock.h"
#include "core/log.h"
#include "http/server_int.h"

static pthread_once_t libevent_once = PTHREAD_ONCE_INIT;
static int libevent_threads_rc = -1;

/* libevent's own warnings become pkid log lines: the library never
 * prints. */
static void
libevent_log(int severity, const char *msg)
{
	enum pkid_log_level lvl = PKID_LOG_DEBUG;

	if (severity == EVENT_LOG_WARN)
		lvl = PKID_LOG_WARN;
	else if (severity == EVENT_LOG_ERR)
		lvl = PKID_LOG_ERROR;
	pkid_log(lvl, "libevent msg=\"%s\"", msg);
}

/* libevent's locking must be on before the first event_base exists. */
static void
libevent_init(void)
{
	event_set_log_callback(libevent_log);
	libevent_threads_rc = evthread_use_pthreads();
}

/*
 * accept(2) failed for a reason retrying will not fix at once (EMFILE,
 * ENFILE, ENOBUFS): pause the listener instead of spinning on it; the
 * worker's resume timer enables it again.
 */
static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();

	(void)arg;
	pkid_log(PKID_LOG_WARN, "http accept failed: %s; pausing the "
	    "listener for up to %d ms", strerror(err),
	    PKID_HTTP_ACCEPT_PAUSE_MS);
	evconnlistener_disable(lev);
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pkid_http_worker *w = arg;
	int k;

	(void)fd;
	(void)what;
	for (k = 0; k < PKID_HTTP_KINDS; k++)
		if (w->bound[k] != NULL)
			evconnlistener_enable(
			    evhttp_bound_socket_get_listener(w->bound[k]));
	pkid_http_trim_check(w->srv);
}

static int
is_off(const char *spec)
{
	return spec == NULL || *spec == '\0' || strcmp(spec, "off") == 0;
}

static void
drain_check(struct pkid_http_worker *w)
{
	struct timeval tv = { 0, PKID_HTTP_DRAIN_POLL_MS * 1000 };

	if (w->active <= 0 || pkid_mono_ms() >= w->drain_end) {
		if (w->active > 0)
			pkid_log(PKID_LOG_WARN, "http worker=%d stop: %d "
			    "requests still in flight after %d ms, closing",
			    w->idx, w->active, PKID_HTTP_DRAIN_MS);
		event_base_loopbreak(w->base);
		return;
	}
	evtimer_add(w->drain_ev, &tv);
}

static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain_check(arg);
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pkid_http_worker *w = arg;
	int k;

	(void)fd;
	(void)what;
	w->draining = 1;
	event_del(w->resume_ev);
	for (k = 0; k < PKID_HTTP_KINDS; k++) {
		if (w->bound[k] != NULL)
			evhttp_del_accept_socket(w->http[k], w->bound[k]);
		w->bound[k] = NULL;
	}
	w->drain_end = pkid_mono_ms() + PKID_HTTP_DRAIN_MS;
	drain_check(w);
}

/* One evhttp on w->base serving the listening socket fd (taken). */
static enum pkid_code
worker_http(struct pkid_http_worker *w, int kind, int fd,
    struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	struct pkid_server *s = w->srv;
	struct evhttp *h;

	h = w->http[kind] = evhttp_new(w->base);
	PKID_CHECK(h != NULL, PKID_E_NOMEM, "worker %d: no memory for "
	    "evhttp", w->idx);
	evhttp_set_timeout(h, PKID_HTTP_TIMEOUT_S);
	/*
	 * evhttp's limits are backstops just above pkid's own, which the
	 * pre-check (precheck.c) and the body count (conn.c) apply first
	 * and answer in pkid's format. A chunked body is decoded by evhttp;
	 * one whose decoded size passes max_body reaches request.c (413).
	 */
	evhttp_set_max_body_size(h, (ev_ssize_t)(s->wire_body +
	    PKID_HTTP_EVHTTP_SLACK));
	evhttp_set_flags(h, EVHTTP_SERVER_LINGERING_CLOSE);
	/* evhttp counts the request line in its header limit. */
	evhttp_set_max_headers_size(h, PKID_MAX_HTTP_HEADERS +
	    PKID_MAX_URI_LENGTH + 2 * PKID_HTTP_MAX_METHOD +
	    PKID_HTTP_EVHTTP_SLACK);
	/* Other methods reach the router, which answers 405 in pkid's own
	 * error format naming them; CONNECT and unknown methods get 501
	 * from the pre-check. */
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH | EVHTTP_REQ_TRACE);
	evhttp_set_default_content_type(h, NULL);
	if (kind == PKID_HTTP_TLS) {
		evhttp_set_bevcb(h, pkid_http_bevcb_tls, w);
		evhttp_set_gencb(h, pkid_http_gencb_tls, w);
	} else {
		evhttp_set_bevcb(h, pkid_http_bevcb_plain, w);
		evhttp_set_gencb(h, pkid_http_gencb_plain, w);
	}
	/* Takes fd, also on failure (it may have closed it already). */
	w->bound[kind] = evhttp_accept_socket_with_handle(h, fd);
	PKID_CHECK(w->bound[kind] != NULL, PKID_E_NET_LISTEN,
	    "worker %d: cannot accept on %s", w->idx, s->addr[kind]);
	evconnlistener_set_error_cb(
	    evhttp_bound_socket_get_listener(w->bound[kind]),
	    accept_error_cb);
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
worker_init(struct pkid_http_worker *w, int *fds, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	struct timeval resume_tv = { 0, PKID_HTTP_ACCEPT_PAUSE_MS * 1000 };
	struct pkid_server *s = w->srv;
	int k, fd;

	PKID_CHECK(pthread_mutex_init(&w->done_mu, NULL) == 0,
	    PKID_E_INTERNAL, "worker %d: cannot create a mutex", w->idx);
	w->done_mu_ok = 1;
	w->base = event_base_new();
	PKID_CHECK(w->base != NULL, PKID_E_NOMEM, "worker %d: cannot "
	    "create an event base", w->idx);
	w->stop_ev = event_new(w->base, s->stop_pipe[0], EV_READ, stop_cb, w);
	w->drain_ev = evtimer_new(w->base, drain_cb, w);
	w->adopt_ev = event_new(w->base, -1, 0, pkid_http_adopt_cb, w);
	w->resume_ev = event_new(w->base, -1, EV_PERSIST, resume_cb, w);
	w->done_ev = event_new(w->base, -1, 0, pkid_http_done_cb, w);
	PKID_CHECK(w->stop_ev != NULL && w->drain_ev != NULL &&
	    w->adopt_ev != NULL && w->resume_ev != NULL && w->done_ev != NULL &&
	    event_add(w->stop_ev, NULL) == 0 &&
	    event_add(w->resume_ev, &resume_tv) == 0, PKID_E_NOMEM,
	    "worker %d: cannot create its events", w->idx);
	for (k = 0; k < PKID_HTTP_KINDS; k++) {
		if (fds[k] < 0)
			continue;
		fd = fds[k];
		fds[k] = -1;
		PKID_TRY(worker_http(w, k, fd, e));
	}
	rc = PKID_OK;
out:
	return rc;
}

/* Close a worker down; safe on a partly made or never started one. */
static void
worker_close(struct pkid_http_worker *w)
{
	int k;

	if (w->base == NULL)
		return;
	pkid_http_adopt_cb(-1, 0, w);
	for (k = 0; k < PKID_HTTP_KINDS; k++) {
		/* Frees listeners and connections; close callbacks run
		 * (orphaning requests still on the handler pool). */
		if (w->http[k] != NULL)
			evhttp_free(w->http[k]);
		w->http[k] = NULL;
		w->bound[k] = NULL;
	}
	/* From here the pool frees what it finishes for this worker. */
	pkid_http_done_close(w);
	pkid_http_conn_sweep_events(w);
	if (w->stop_ev != NULL)
		event_free(w->stop_ev);
	if (w->drain_ev != NULL)
		event_free(w->drain_ev);
	if (w->adopt_ev != NULL)
		event_free(w->adopt_ev);
	if (w->resume_ev != NULL)
		event_free(w->resume_ev);
	if (w->done_ev != NULL)
		event_free(w->done_ev);
	w->stop_ev = w->drain_ev = w->adopt_ev = w->resume_ev = NULL;
	w->done_ev = NULL;
	/* Runs pending bufferevent finalizers (SSL_free among them). */
	event_base_free(w->base);
	w->base = NULL;
	pkid_http_conn_sweep(w);
}

static void *
worker_main(void *arg)
{
	struct pkid_http_worker *w = arg;
	sigset_t all;

	/* Signals go to the threads the program chose; SIGPIPE from a
	 * write to a closed socket stays pending here instead of killing
	 * the process. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (event_base_dispatch(w->base) < 0)
		PKID_ERR(&w->err, PKID_E_INTERNAL, "worker %d: event loop "
		    "failed", w->idx);
	worker_close(w);
	return NULL;
}

static enum pkid_code
copy_opts(struct pkid_server *s, const struct pkid_server_opts *o,
    struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	long cores;

	if (!is_off(o->listen))
		s->addr[PKID_HTTP_TLS] = strdup(o->listen);
	if (!is_off(o->http))
		s->addr[PKID_HTTP_PLAIN] = strdup(o->http);
	PKID_CHECK((is_off(o->listen) || s->addr[PKID_HTTP_TLS] != NULL) &&
	    (is_off(o->http) || s->addr[PKID_HTTP_PLAIN] != NULL),
	    PKID_E_NOMEM, "no memory for the listen addresses");
	PKID_CHECK(s->addr[0] != NULL || s->addr[1] != NULL,
	    PKID_E_CONFIG_BAD_VALUE, "both listeners are off; set the TLS "
	    "listen address or the plain HTTP one");
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	/* A worker waits while its issuance becomes durable (the store's
	 * group commit, an fsync): two per core keep the cores busy then
	 * (SCEP on 2 cores: 790 -> 920 enrollments/s at 32 clients). */
	s->nworkers = o->workers > 0 ? o->workers : (int)(cores > 0 ?
	    PKID_HTTP_WORKERS_PER_CORE * cores : 1);
	if (s->nworkers > PKID_HTTP_MAX_WORKERS && o->workers <= 0)
		s->nworkers = PKID_HTTP_MAX_WORKERS;
	PKID_CHECK(s->nworkers <= PKID_HTTP_MAX_WORKERS,
	    PKID_E_CONFIG_BAD_VALUE, "%d workers, more than %d",
	    s->nworkers, PKID_HTTP_MAX_WORKERS);
	s->max_conns = o->max_conns > 0 ? o->max_conns :
	    o->max_conns == 0 ? PKID_DEFAULT_MAX_CONNS : -1;
	s->rate_per_min = o->rate_per_min > 0 ? o->rate_per_min :
	    o->rate_per_min == 0 ? PKID_DEFAULT_RATE_PER_MIN : 0;
	s->max_body = o->max_body > 0 ? o->max_body : PKID_MAX_HTTP_BODY;
	s->wire_body = PKID_HTTP_WIRE_BODY_FACTOR * s->max_body +
	    PKID_HTTP_WIRE_BODY_SLACK;
	s->max_per_addr = o->max_conns_per_addr > 0 ? o->max_conns_per_addr :
	    o->max_conns_per_addr == 0 ? PKID_DEFAULT_MAX_CONNS_PER_ADDR : -1;
	s->header_ms = o->header_timeout_ms > 0 ? o->header_timeout_ms :
	    PKID_HTTP_HEADER_TIMEOUT_S * 1000;
	s->body_ms = o->body_timeout_ms > 0 ? o->body_timeout_ms :
	    PKID_HTTP_BODY_TIMEOUT_S * 1000;
	s->nhandlers = o->handler_threads > 0 ? o->handler_threads :
	    (int)(cores > 0 ? PKID_HTTP_HANDLERS_PER_CORE * cores : 2);
	if (s->nhandlers > PKID_HTTP_MAX_HANDLERS && o->handler_threads <= 0)
		s->nhandlers = PKID_HTTP_MAX_HANDLERS;
	PKID_CHECK(s->nhandlers <= PKID_HTTP_MAX_HANDLERS,
	    PKID_E_CONFIG_BAD_VALUE, "%d handler threads, more than %d",
	    s->nhandlers, PKID_HTTP_MAX_HANDLERS);
	s->handler_queue = o->handler_queue > 0 ? o->handler_queue :
	    PKID_HTTP_HANDLER_QUEUE;
	s->max_delay_ms = o->max_queue_delay_ms > 0 ? o->max_queue_delay_ms :
	    o->max_queue_delay_ms == 0 ? PKID_DEFAULT_MAX_QUEUE_DELAY_MS : -1;
	s->client_ca = o->client_ca != NULL;
	s->status = o->status;
	rc = PKID_OK;
out:
	return rc;
}

/* Bind every worker's sockets, then build the workers around them. */
static enum pkid_code
open_workers(struct pkid_server *s, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	int *fds[PKID_HTTP_KINDS] = { NULL, NULL };
	int i, k, pair[PKID_HTTP_KINDS];

	s->w = calloc((size_t)s->nworkers, sizeof(*s->w));
	PKID_CHECK(s->w != NULL, PKID_E_NOMEM, "no memory for workers");
	for (k = 0; k < PKID_HTTP_KINDS; k++) {
		fds[k] = calloc((size_t)s->nworkers, sizeof(int));
		PKID_CHECK(fds[k] != NULL, PKID_E_NOMEM, "no memory");
		for (i = 0; i < s->nworkers; i++)
			fds[k][i] = -1;
		if (s->addr[k] != NULL)
			PKID_TRY(pkid_http_listen_open(s->addr[k],
			    s->nworkers, fds[k], &s->port[k], e));
	}
	for (i = 0; i < s->nworkers; i++) {
		s->w[i].srv = s;
		s->w[i].idx = i;
		pkid_err_clear(&s->w[i].err);
		for (k = 0; k < PKID_HTTP_KINDS; k++) {
			pair[k] = fds[k][i];
			fds[k][i] = -1;
		}
		PKID_TRY(worker_init(&s->w[i], pair, e));
	}
	rc = PKID_OK;
out:
	for (k = 0; k < PKID_HTTP_KINDS; k++) {
		for (i = 0; fds[k] != NULL && i < s->nworkers; i++)
			if (fds[k][i] >= 0)
				close(fds[k][i]);
		free(fds[k]);
	}
	return rc;
}

struct pkid_server *
pkid_server_new(const struct pkid_server_opts *o,
    const struct pkid_router *router, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	struct pkid_server *s = NULL;

	PKID_CHECK(o != NULL && router != NULL, PKID_E_INTERNAL,
	    "server: options and router are required");
	pthread_once(&libevent_once, libevent_init);
	PKID_CHECK(libevent_threads_rc == 0, PKID_E_INTERNAL,
	    "libevent has no pthreads support");
	s = calloc(1, sizeof(*s));
	PKID_CHECK(s != NULL, PKID_E_NOMEM, "no memory for the server");
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	pthread_mutex_init(&s->routes_mu, NULL);
	s->routes_mu_ok = 1;
	PKID_OSSL_PTR(s->routes = calloc(1, sizeof(*s->routes)), PKID_E_NOMEM,
	    "no memory");
	s->routes->r = router;
	PKID_TRY(copy_opts(s, o, e));
	PKID_CHECK(pipe2(s->stop_pipe, O_NONBLOCK | O_CLOEXEC) == 0,
	    PKID_E_INTERNAL, "cannot create the stop pipe: %s",
	    strerror(errno));
	if (s->addr[PKID_HTTP_TLS] != NULL && o->client_ca != NULL)
		PKID_OSSL_PTR(s->ccache = pkid_ccache_new(0, e), e->code,
		    "client certificate cache");
	if (s->addr[PKID_HTTP_TLS] != NULL)
		PKID_TRY(pkid_http_tls_ctx_new(o, s->ccache, &s->ssl_ctx, e));
	PKID_TRY(pkid_http_rate_new(s->rate_per_min, &s->rate, e));
	PKID_TRY(pkid_http_addrs_new(&s->addrs, e));
	PKID_TRY(pkid_http_pool_new(s->nhandlers, s->handler_queue,
	    s->max_delay_ms, &s->pool, e));
	PKID_TRY(open_workers(s, e));
	rc = PKID_OK;
out:
	if (rc != PKID_OK) {
		pkid_server_free(s);
		return NULL;
	}
	return s;
}

enum pkid_code
pkid_server_run(struct pkid_server *s, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	int i, failed = -1, err = 0;

	PKID_CHECK(s != NULL && !s->ran, PKID_E_INTERNAL,
	    "pkid_server_run: no server, or it already ran");
	s->ran = 1;
	if (pkid_http_pool_start(s->pool, e) != PKID_OK) {
		pkid_http_pool_stop(s->pool);
		rc = e->code;
		goto out;
	}
	for (i = 0; i < s->nworkers && failed < 0; i++) {
		err = pthread_create(&s->w[i].thread, NULL, worker_main,
		    &s->w[i]);
		s->w[i].started = err == 0;
		if (err != 0)
			failed = i;
	}
	/* Without all its workers the server stops at once. */
	if (failed >= 0)
		pkid_server_stop(s);
	for (i = 0; i < s->nworkers; i++)
		if (s->w[i].started)
			pthread_join(s->w[i].thread, NULL);
	/* The workers answered what the pool finished in time (drain). */
	pkid_http_pool_stop(s->pool);
	PKID_CHECK(failed < 0, PKID_E_INTERNAL, "cannot start worker thread "
	    "%d: %s", failed, strerror(err));
	for (i = 0; i < s->nworkers; i++)
		PKID_CHECK(s->w[i].err.code == PKID_OK, s->w[i].err.code,
		    "%s", s->w[i].err.detail);
	rc = PKID_OK;
out:
	return rc;
}

void
pkid_server_stop(struct pkid_server *s)
{
	int saved = errno;
	ssize_t n;

	if (s == NULL)
		return;
	/* A full pipe (EAGAIN) is fine: it is readable already. */
	n = write(s->stop_pipe[1], "s", 1);
	(void)n;
	errno = saved;
}

void
pkid_server_stats(const struct pkid_server *s, struct pkid_server_stats *out)
{
	struct pkid_server *m = (struct pkid_server *)s;
	int i;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return;
	out->requests = atomic_load(&m->c.requests);
	out->conns_open = atomic_load(&m->c.conns_open);
	out->conns_total = atomic_load(&m->c.conns_total);
	out->rejected_503 = atomic_load(&m->c.rejected_503);
	out->tls_failures = atomic_load(&m->c.tls_failures);
	for (i = 0; i < 6; i++)
		out->status[i] = atomic_load(&m->c.status[i]);
	out->handler_queued = (unsigned long long)pkid_http_pool_queued(
	    m->pool);
	out->max_conns = m->max_conns;
	out->max_conns_per_addr = m->max_per_addr;
	out->rate_per_min = m->rate_per_min;
	out->handler_threads = m->nhandlers;
	out->handler_queue = m->handler_queue;
	out->max_queue_delay_ms = m->max_delay_ms;
	out->max_body = (unsigned long long)m->max_body;
	out->workers = m->nworkers;
}

int
pkid_server_tls_port(const struct pkid_server *s)
{
	return s != NULL ? s->port[PKID_HTTP_TLS] : 0;
}

int
pkid_server_http_port(const struct pkid_server *s)
{
	return s != NULL ? s->port[PKID_HTTP_PLAIN] : 0;
}

struct pkid_http_routes *
pkid_http_routes_take(struct pkid_server *s)
{
	struct pkid_http_routes *rt;

	pthread_mutex_lock(&s->routes_mu);
	rt = s->routes;
	atomic_fetch_add(&rt->users, 1);
	pthread_mutex_unlock(&s->routes_mu);
	return rt;
}

void
pkid_http_routes_put(struct pkid_http_routes *rt)
{
	if (rt != NULL)
		atomic_fetch_sub(&rt->users, 1);
}

enum pkid_code
pkid_server_set_router(struct pkid_server *s, const struct pkid_router *r,
    struct pkid_err *e)
{
	struct pkid_http_routes *rt = calloc(1, sizeof(*rt));

	if (rt == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for the router");
	rt->r = r;
	pthread_mutex_lock(&s->routes_mu);
	rt->next = s->routes;
	s->routes = rt;
	pthread_mutex_unlock(&s->routes_mu);
	return PKID_OK;
}

int
pkid_server_router_busy(struct pkid_server *s, const struct pkid_router *r)
{
	struct pkid_http_routes *rt;
	long n = 0;

	pthread_mutex_lock(&s->routes_mu);
	for (rt = s->routes; rt != NULL; rt = rt->next)
		if (rt->r == r)
			n += atomic_load(&rt->users) + (rt == s->routes);
	pthread_mutex_unlock(&s->routes_mu);
	return n > 0;
}

void
pkid_server_free(struct pkid_server *s)
{
	int i, k;

	if (s == NULL)
		return;
	for (i = 0; s->w != NULL && i < s->nworkers; i++)
		worker_close(&s->w[i]);
	pkid_http_pool_free(s->pool);
	for (i = 0; s->w != NULL && i < s->nworkers; i++)
		if (s->w[i].done_mu_ok)
			pthread_mutex_destroy(&s->w[i].done_mu);
	free(s->w);
	SSL_CTX_free(s->ssl_ctx);
	pkid_ccache_free(s->ccache);	/* after the SSL_CTX that uses it */
	pkid_http_rate_free(s->rate);
	pkid_http_addrs_free(s->addrs);
	while (s->routes != NULL) {
		struct pkid_http_routes *n = s->routes->next;

		free(s->routes);
		s->routes = n;
	}
	if (s->routes_mu_ok)
		pthread_mutex_destroy(&s->routes_mu);
	for (k = 0; k < PKID_HTTP_KINDS; k++)
		free(s->addr[k]);
	if (s->stop_pipe[0] >= 0)
		close(s->stop_pipe[0]);
	if (s->stop_pipe[1] >= 0)
		close(s->stop_pipe[1]);
	free(s);
}
