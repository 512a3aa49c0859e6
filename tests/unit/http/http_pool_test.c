/*
 * http_pool_test.c - handlers off the event loop (PKID_ROUTE_OFFLOAD): a
 * slow offloaded handler does not hold up another route on the same
 * worker, a full queue answers 503 at once, so does a request that
 * would wait past max_queue_delay (overloaded), a stop answers the requests
 * in flight, and what an offloaded handler reads (headers, TLS peer and
 * channel binding) is its own even when the client goes away.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>

#include <cmocka.h>

#include "core/limits.h"
#include "http_testutil.h"

static struct t_pki pki;
static struct pkid_router *router;

/* The gate slow handlers wait at (bounded: a test that forgets to open
 * it, or a server that runs handlers on its loop, still ends). */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;
static atomic_int slow_in;		/* slow handlers entered */
static atomic_int slow_out;		/* slow handlers returned */

static void
gate_set(int open)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = open;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

static void
gate_wait(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 8;
	pthread_mutex_lock(&gate_mu);
	while (!gate_open)
		if (pthread_cond_timedwait(&gate_cv, &gate_mu, &ts) != 0)
			break;
	pthread_mutex_unlock(&gate_mu);
}

static void
h_fast(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	(void)ctx;
	(void)req;
	pkid_http_resp_body(resp, "text/plain", "fast\n", 5, NULL);
}

/* Waits at the gate, then answers what it read of its request. */
static void
h_slow(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	const char *x = pkid_http_req_header(req, "X-Test");
	uint8_t cb[PKID_HTTP_CB_MAX];
	size_t cblen = sizeof(cb);
	const char *type = NULL;
	struct pkid_err e;

	(void)ctx;
	atomic_fetch_add(&slow_in, 1);
	gate_wait();
	pkid_err_clear(&e);
	if (pkid_http_req_channel_binding(req, cb, &cblen, &type, &e) !=
	    PKID_OK)
		type = pkid_err_id(e.code);
	pkid_buf_printf(&resp->body, NULL, "slow x=%s q=%s body=%.*s "
	    "cb=%s peer=%s\n", x != NULL ? x : "-",
	    req->query != NULL ? req->query : "-", (int)req->body_len,
	    req->body != NULL ? (const char *)req->body : "",
	    type != NULL ? type : "-", req->peer_cert != NULL ? "yes" : "no");
	snprintf(resp->content_type, sizeof(resp->content_type),
	    "text/plain");
	atomic_fetch_add(&slow_out, 1);
}

/* Takes 200 ms, then waits at the gate: its service time teaches the
 * pool's estimator how slow jobs are. */
static void
h_sleep(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	(void)ctx;
	(void)req;
	usleep(200 * 1000);
	atomic_fetch_add(&slow_in, 1);
	gate_wait();
	pkid_http_resp_body(resp, "text/plain", "slept\n", 6, NULL);
	atomic_fetch_add(&slow_out, 1);
}

#ifndef PKID_ROUTE_OFFLOAD
#define PKID_ROUTE_OFFLOAD 0	/* lets this test run on older servers */
#endif

static int
group_setup(void **state)
{
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	pkid_log_set_sink(t_log_sink, NULL);
	if (!t_pki_make(&pki))
		return -1;
	router = pkid_router_new();
	if (router == NULL ||
	    pkid_router_add(router, "/fast", 0, PKID_HTTP_GET, h_fast, NULL,
	    &e) != PKID_OK ||
	    pkid_router_add(router, "/slow", 0, PKID_HTTP_GET |
	    PKID_HTTP_POST | PKID_ROUTE_OFFLOAD, h_slow, NULL, &e) != PKID_OK ||
	    pkid_router_add(router, "/sleep", 0, PKID_HTTP_GET |
	    PKID_ROUTE_OFFLOAD, h_sleep, NULL, &e) != PKID_OK)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	gate_set(1);
	pkid_router_free(router);
	t_pki_remove(&pki);
	pkid_log_set_sink(NULL, NULL);
	return 0;
}

static void
opts(struct pkid_server_opts *o, int handlers, int queue)
{
	memset(o, 0, sizeof(*o));
	o->listen = "127.0.0.1:0";
	o->http = "127.0.0.1:0";
	o->workers = 1;
	o->cert_file = pki.srv_cert;
	o->key_file = pki.srv_key;
	o->client_ca = pki.ca;
	o->handler_threads = handlers;
	o->handler_queue = queue;
}

/* A raw request on its own thread; the answer lands in out. */
struct bg_req {
	int port;		/* plain HTTP port */
	const char *raw;	/* request bytes */
	int close_early;	/* close right after sending */
	char out[2048];		/* response, NUL-terminated */
	pthread_t th;		/* the thread */
};

static void *
bg_main(void *arg)
{
	struct bg_req *b = arg;
	size_t used = 0;
	ssize_t n;
	int fd = t_connect(b->port);

	b->out[0] = '\0';
	if (fd < 0)
		return NULL;
	if (write(fd, b->raw, strlen(b->raw)) < 0 || b->close_early) {
		close(fd);
		return NULL;
	}
	while (used + 1 < sizeof(b->out) &&
	    (n = read(fd, b->out + used, sizeof(b->out) - 1 - used)) > 0) {
		used += (size_t)n;
		b->out[used] = '\0';
		if (strstr(b->out, "\r\n\r\n") != NULL &&
		    strchr(strstr(b->out, "\r\n\r\n") + 4, '\n') != NULL)
			break;
	}
	close(fd);
	return NULL;
}

static void
bg_start(struct bg_req *b, int port, const char *raw)
{
	memset(b, 0, sizeof(*b));
	b->port = port;
	b->raw = raw;
	assert_int_equal(pthread_create(&b->th, NULL, bg_main, b), 0);
}

static void
wait_in(int n)
{
	uint64_t end = pkid_mono_ms() + T_WAIT_MS;

	while (atomic_load(&slow_in) < n && pkid_mono_ms() < end)
		usleep(5000);
	assert_true(atomic_load(&slow_in) >= n);
}

static void
reset(void)
{
	gate_set(0);
	atomic_store(&slow_in, 0);
	atomic_store(&slow_out, 0);
}

static void
test_slow_does_not_block_fast(void **state)
{
	struct pkid_server_opts o;
	struct t_srv t;
	struct t_curl r;
	struct bg_req b;
	char u[128], args[256];
	int hp;

	(void)state;
	reset();
	opts(&o, 2, 0);
	assert_true(t_srv_start(&t, &o, router));
	hp = pkid_server_http_port(t.s);
	bg_start(&b, hp, "GET /slow?a=1 HTTP/1.1\r\nHost: x\r\n"
	    "X-Test: t1\r\n\r\n");
	wait_in(1);
	/* One worker, its handler blocked on a pool thread: the loop
	 * still answers another route, over plain HTTP and over TLS. */
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/fast", hp);
	assert_int_equal(t_curl(pki.dir, "", u, &r), 200);
	assert_string_equal(r.body, "fast\n");
	snprintf(u, sizeof(u), "https://127.0.0.1:%d/fast",
	    pkid_server_tls_port(t.s));
	snprintf(args, sizeof(args), "--cacert '%s'", pki.ca);
	assert_int_equal(t_curl(pki.dir, args, u, &r), 200);
	assert_int_equal(atomic_load(&slow_out), 0);
	gate_set(1);
	assert_int_equal(pthread_join(b.th, NULL), 0);
	assert_non_null(strstr(b.out, "HTTP/1.1 200 OK"));
	assert_non_null(strstr(b.out, "slow x=t1 q=a=1 body= "
	    "cb=no-channel-binding peer=no"));
	assert_int_equal(t_srv_stop(&t), PKID_OK);
}

static void
test_queue_full_503(void **state)
{
	static const char req[] = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
	struct pkid_server_opts o;
	struct pkid_server_stats st;
	struct t_srv t;
	struct t_curl r;
	struct bg_req b[3];
	char u[128], h[32];
	uint64_t t0;
	int hp, i, retry;

	(void)state;
	reset();
	opts(&o, 1, 2);	/* one thread, two may wait */
	o.max_queue_delay_ms = -1;	/* the queue bound alone */
	assert_true(t_srv_start(&t, &o, router));
	hp = pkid_server_http_port(t.s);
	bg_start(&b[0], hp, req);
	wait_in(1);
	bg_start(&b[1], hp, req);
	bg_start(&b[2], hp, req);
	/* Both wait for the one thread. */
	t0 = pkid_mono_ms();
	do {
		pkid_server_stats(t.s, &st);
		if (st.handler_queued == 2)
			break;
		usleep(5000);
	} while (pkid_mono_ms() - t0 < T_WAIT_MS);
	assert_int_equal(st.handler_queued, 2);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/slow", hp);
	assert_int_equal(t_curl(pki.dir, "", u, &r), 503);
	assert_true(strncmp(r.body, "error: rate-limited: 2 requests are "
	    "waiting for a handler thread", 58) == 0);
	retry = atoi(t_header(&r, "Retry-After", h, sizeof(h)));
	assert_true(retry >= 1 && retry <= 3);
	assert_int_equal(atomic_load(&slow_out), 0);
	gate_set(1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(b[i].th, NULL), 0);
		assert_non_null(strstr(b[i].out, "HTTP/1.1 200 OK"));
	}
	assert_int_equal(atomic_load(&slow_out), 3);
	pkid_server_stats(t.s, &st);
	assert_int_equal(st.rejected_503, 1);
	assert_int_equal(t_srv_stop(&t), PKID_OK);
}

/*
 * One thread, jobs of 200 ms, a bound of 50 ms: once the pool has seen
 * one such job, a request arriving while the thread is busy would wait
 * about 200 ms, so it is answered 503 overloaded at once, with a
 * Retry-After from the drain rate, and counted as a refusal.
 */
static void
test_overloaded_503(void **state)
{
	static const char req[] = "GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n";
	struct pkid_server_opts o;
	struct pkid_server_stats st;
	struct t_srv t;
	struct t_curl r;
	struct bg_req b;
	char u[128], h[32];
	uint64_t t0;
	int hp, retry;

	(void)state;
	reset();
	opts(&o, 1, 0);
	o.max_queue_delay_ms = 50;
	assert_true(t_srv_start(&t, &o, router));
	hp = pkid_server_http_port(t.s);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/sleep", hp);
	gate_set(1);
	/* Nothing measured yet: admitted. */
	assert_int_equal(t_curl(pki.dir, "", u, &r), 200);
	assert_string_equal(r.body, "slept\n");
	gate_set(0);
	atomic_store(&slow_in, 0);
	bg_start(&b, hp, req);
	wait_in(1);
	t0 = pkid_mono_ms();
	assert_int_equal(t_curl(pki.dir, "", u, &r), 503);
	assert_true(pkid_mono_ms() - t0 < T_WAIT_MS);
	assert_true(strncmp(r.body, "error: overloaded: a request now would "
	    "wait about ", 50) == 0);
	assert_non_null(strstr(r.body, "more than max_queue_delay 50 ms"));
	retry = atoi(t_header(&r, "Retry-After", h, sizeof(h)));
	assert_true(retry >= PKID_HTTP_ADMIT_MIN_RETRY_S &&
	    retry <= PKID_HTTP_ADMIT_MAX_RETRY_S);
	/* The refused request never reached the handler. */
	assert_int_equal(atomic_load(&slow_in), 1);
	gate_set(1);
	assert_int_equal(pthread_join(b.th, NULL), 0);
	assert_non_null(strstr(b.out, "HTTP/1.1 200 OK"));
	pkid_server_stats(t.s, &st);
	assert_int_equal(st.rejected_503, 1);
	assert_int_equal(st.max_queue_delay_ms, 50);
	assert_int_equal(t_srv_stop(&t), PKID_OK);
}

static void *
open_later(void *arg)
{
	(void)arg;
	usleep(300 * 1000);
	gate_set(1);
	return NULL;
}

static void
test_drain_answers_in_flight(void **state)
{
	struct pkid_server_opts o;
	struct t_srv t;
	struct bg_req b;
	pthread_t opener;
	uint64_t t0;

	(void)state;
	reset();
	opts(&o, 2, 0);
	assert_true(t_srv_start(&t, &o, router));
	bg_start(&b, pkid_server_http_port(t.s), "POST /slow HTTP/1.1\r\n"
	    "Host: x\r\nContent-Length: 5\r\n\r\nhello");
	wait_in(1);
	/* Stop while the handler runs on the pool: it finishes, and the
	 * worker answers it before its loop ends. */
	assert_int_equal(pthread_create(&opener, NULL, open_later, NULL), 0);
	t0 = pkid_mono_ms();
	assert_int_equal(t_srv_stop(&t), PKID_OK);
	assert_true(pkid_mono_ms() - t0 < 4000);
	assert_int_equal(pthread_join(opener, NULL), 0);
	assert_int_equal(pthread_join(b.th, NULL), 0);
	assert_non_null(strstr(b.out, "HTTP/1.1 200 OK"));
	assert_non_null(strstr(b.out, "Connection: close"));
	assert_non_null(strstr(b.out, "body=hello "));
}

static void
test_client_gone_and_tls_view(void **state)
{
	struct pkid_server_opts o;
	struct t_srv t;
	struct t_curl r;
	struct bg_req b;
	char u[128], args[512];

	(void)state;
	reset();
	opts(&o, 2, 0);
	assert_true(t_srv_start(&t, &o, router));
	/* The client sends and leaves while its handler waits. */
	memset(&b, 0, sizeof(b));
	b.port = pkid_server_http_port(t.s);
	b.raw = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
	b.close_early = 1;
	assert_int_equal(pthread_create(&b.th, NULL, bg_main, &b), 0);
	assert_int_equal(pthread_join(b.th, NULL), 0);
	wait_in(1);
	gate_set(1);
	assert_true(t_wait_stats(t.s, t_open_is, 0));
	/* Over TLS with a client certificate: the handler on the pool sees
	 * the peer certificate and the channel binding taken on the loop. */
	snprintf(u, sizeof(u), "https://127.0.0.1:%d/slow?b=2",
	    pkid_server_tls_port(t.s));
	snprintf(args, sizeof(args), "--cacert '%s' --cert '%s' --key '%s' "
	    "-H 'X-Test: t2' --tlsv1.3", pki.ca, pki.cli_cert, pki.cli_key);
	assert_int_equal(t_curl(pki.dir, args, u, &r), 200);
	assert_string_equal(r.body, "slow x=t2 q=b=2 body= cb=tls-exporter "
	    "peer=yes\n");
	snprintf(args, sizeof(args), "--cacert '%s' --cert '%s' --key '%s' "
	    "--tlsv1.2 --tls-max 1.2", pki.ca, pki.cli_cert, pki.cli_key);
	assert_int_equal(t_curl(pki.dir, args, u, &r), 200);
	assert_non_null(strstr(r.body, "cb=tls-unique peer=yes"));
	assert_int_equal(t_srv_stop(&t), PKID_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_does_not_block_fast),
		cmocka_unit_test(test_queue_full_503),
		cmocka_unit_test(test_overloaded_503),
		cmocka_unit_test(test_drain_answers_in_flight),
		cmocka_unit_test(test_client_gone_and_tls_view),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
