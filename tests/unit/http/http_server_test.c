/*
 * http_server_test.c - the HTTP server against the real curl binary: routing
 * over the network, HEAD, body limit, connection cap and rate limit
 * (503 + Retry-After), plain and TLS listeners, graceful and signal
 * stops, listen and setup failures.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>

#include <cmocka.h>

#include "http_testutil.h"

static struct t_pki pki;
static struct pkid_router *router;
static atomic_int slow_entered;

static void
h_hello(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	(void)ctx;
	(void)req;
	pkid_http_resp_body(resp, "text/plain", "hello\n", 6, NULL);
}

static void
h_echo(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	(void)ctx;
	pkid_http_resp_body(resp, "application/octet-stream", req->body,
	    req->body_len, NULL);
}

static void
h_api(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	const char *x = pkid_http_req_header(req, "X-Test");

	(void)ctx;
	pkid_buf_printf(&resp->body, NULL, "api path=%s query=%s x=%s tls=%d",
	    req->path, req->query != NULL ? req->query : "-",
	    x != NULL ? x : "-", req->tls);
	snprintf(resp->content_type, sizeof(resp->content_type),
	    "text/plain");
	pkid_http_resp_header(resp, "X-Pkid-Test", "yes");
}

static void
h_slow(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	(void)ctx;
	(void)req;
	atomic_store(&slow_entered, 1);
	usleep(300 * 1000);
	pkid_http_resp_body(resp, "text/plain", "slow\n", 5, NULL);
}

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
	    pkid_router_add(router, "/hello", 0, PKID_HTTP_GET, h_hello,
	    NULL, &e) != PKID_OK ||
	    pkid_router_add(router, "/echo", 0, PKID_HTTP_POST, h_echo,
	    NULL, &e) != PKID_OK ||
	    pkid_router_add(router, "/api/", 1, PKID_HTTP_GET, h_api, NULL,
	    &e) != PKID_OK ||
	    pkid_router_add(router, "/slow", 0, PKID_HTTP_GET, h_slow, NULL,
	    &e) != PKID_OK)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	pkid_router_free(router);
	t_pki_remove(&pki);
	pkid_log_set_sink(NULL, NULL);
	return 0;
}

static void
plain_opts(struct pkid_server_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->http = "127.0.0.1:0";
	o->workers = 2;
}

static void
tls_opts(struct pkid_server_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->listen = "127.0.0.1:0";
	o->http = "127.0.0.1:0";
	o->workers = 2;
	o->cert_file = pki.srv_cert;
	o->key_file = pki.srv_key;
}

static void
url(char *out, size_t len, const char *scheme, int port, const char *path)
{
	snprintf(out, len, "%s://127.0.0.1:%d%s", scheme, port, path);
}

static void
test_plain_routes(void **state)
{
	struct pkid_server_opts o;
	struct pkid_server_stats st;
	struct t_srv t;
	struct t_curl r;
	char u[256], h[128], args[512];
	int port;

	(void)state;
	plain_opts(&o);
	assert_true(t_srv_start(&t, &o, router));
	port = pkid_server_http_port(t.s);
	assert_true(port > 0);
	assert_int_equal(pkid_server_tls_port(t.s), 0);

	url(u, sizeof(u), "http", port, "/hello");
	assert_int_equal(t_curl(pki.dir, "", u, &r), 200);
	assert_string_equal(r.body, "hello\n");
	assert_string_equal(t_header(&r, "Content-Type", h, sizeof(h)),
	    "text/plain");
	assert_string_equal(t_header(&r, "Content-Length", h, sizeof(h)),
	    "6");
	assert_non_null(strstr(r.headers, "HTTP/1.1 200 OK"));

	/* Prefix route, decoded path, raw query, request header. */
	url(u, sizeof(u), "http", port, "/api/a%20b/c?x=1&y=%41");
	assert_int_equal(t_curl(pki.dir, "-H 'X-Test: t1'", u, &r), 200);
	assert_string_equal(r.body, "api path=/api/a b/c query=x=1&y=%41 "
	    "x=t1 tls=0");
	assert_string_equal(t_header(&r, "X-Pkid-Test", h, sizeof(h)), "yes");

	url(u, sizeof(u), "http", port, "/nope");
	assert_int_equal(t_curl(pki.dir, "", u, &r), 404);
	assert_true(strncmp(r.body, "error: no-route: ", 17) == 0);
	assert_non_null(strstr(r.body, "\nfix: "));

	url(u, sizeof(u), "http", port, "/hello");
	assert_int_equal(t_curl(pki.dir, "-d x=1", u, &r), 405);
	assert_true(strncmp(r.body, "error: method-not-allowed: ", 27) == 0);
	assert_string_equal(t_header(&r, "Allow", h, sizeof(h)), "GET, HEAD");
	assert_int_equal(t_curl(pki.dir, "-X PUT", u, &r), 405);

	/* HEAD: the GET's length, no body (curl -I writes the headers
	 * where the body would go: they must be all there is). */
	assert_int_equal(t_curl(pki.dir, "-I", u, &r), 200);
	assert_string_equal(t_header(&r, "Content-Length", h, sizeof(h)),
	    "6");
	assert_string_equal(r.body, r.headers);
	assert_null(strstr(r.body, "hello"));

	/* Two requests on one kept-alive connection: curl prints both
	 * codes, "200200". */
	snprintf(args, sizeof(args), "'%s' -o /dev/null", u);
	assert_int_equal(t_curl(pki.dir, args, u, &r), 200200);
	assert_true(t_wait_stats(t.s, t_open_is, 0));
	pkid_server_stats(t.s, &st);
	assert_int_equal(st.requests, 8);
	assert_int_equal(st.status[2], 5);
	assert_int_equal(st.status[4], 3);
	assert_int_equal(st.conns_total, 7);
	assert_int_equal(st.rejected_503, 0);
	assert_true(t_log_has("method=GET path=\"/nope\" status=404 "
	    "code=no-route client=127.0.0.1 tls=0"));
	assert_int_equal(t_srv_stop(&t), PKID_OK);
}

static void
test_tls_listener(void **state)
{
	struct pkid_server_opts o;
	struct t_srv t;
	struct t_curl r;
	char u[256], args[512];

	(void)state;
	tls_opts(&o);
	assert_true(t_srv_start(&t, &o, router));
	assert_true(pkid_server_tls_port(t.s) > 0);
	assert_true(pkid_server_http_port(t.s) > 0);
	assert_int_not_equal(pkid_server_tls_port(t.s),
	    pkid_server_http_port(t.s));

	url(u, sizeof(u), "https", pkid_server_tls_port(t.s), "/api/x");
	snprintf(args, sizeof(args), "--cacert '%s'", pki.ca);
	assert_int_equal(t_curl(pki.dir, args, u, &r), 200);
	assert_string_equal(r.body, "api path=/api/x query=- x=- tls=1");
	snprintf(args, sizeof(args), "--cacert '%s' --tlsv1.2 --tls-max 1.2",
	    pki.ca);
	assert_int_equal(t_curl(pki.dir, args, u, &r), 200);
	snprintf(args, sizeof(args), "--cacert '%s' --tlsv1.3", pki.ca);
	assert_int_equal(t_curl(pki.dir, args, u, &r), 200);
	/* TLS 1.1 is refused: the handshake fails, curl gets no status. */
	snprintf(args, sizeof(args), "--cacert '%s' --tlsv1.1 --tls-max 1.1",
	    pki.ca);
	assert_int_equal(t_curl(pki.dir, args, u, &r), 0);

	url(u, sizeof(u), "http", pkid_server_http_port(t.s), "/api/x");
	assert_int_equal(t_curl(pki.dir, "", u, &r), 200);
	assert_string_equal(r.body, "api path=/api/x query=- x=- tls=0");
	assert_true(t_wait_stats(t.s, t_open_is, 0));
	assert_int_equal(t_srv_stop(&t), PKID_OK);
}

static void
test_body_limit(void **state)
{
	struct pkid_server_opts o;
	struct t_srv t;
	struct t_curl r;
	char u[256], big[128], args[256];
	FILE *f;
	int i;

	(void)state;
	snprintf(big, sizeof(big), "%s/big.bin", pki.dir);
	f = fopen(big, "w");
	assert_non_null(f);
	for (i = 0; i < 5000; i++)
		fputc('a' + i % 26, f);
	fclose(f);
	plain_opts(&o);
	o.max_body = 100;
	assert_true(t_srv_start(&t, &o, router));
	url(u, sizeof(u), "http", pkid_server_http_port(t.s), "/echo");
	assert_int_equal(t_curl(pki.dir, "--data-binary 0123456789", u, &r),
	    200);
	assert_string_equal(r.body, "0123456789");
	/* Refused on Content-Length, before the body is sent ... */
	snprintf(args, sizeof(args), "-H 'Expect: 100-continue' "
	    "--data-binary '@%s'", big);
	assert_int_equal(t_curl(pki.dir, args, u, &r), 413);
	/* ... and with the whole body sent at once. */
	snprintf(args, sizeof(args), "-H 'Expect:' --data-binary '@%s'", big);
	assert_int_equal(t_curl(pki.dir, args, u, &r), 413);
	/* Chunked: no length to check up front. */
	snprintf(args, sizeof(args), "-H 'Transfer-Encoding: chunked' "
	    "--data-binary '@%s'", big);
	assert_int_equal(t_curl(pki.dir, args, u, &r), 413);
	/* Just over the limit, in the first packet. */
	assert_int_equal(t_curl(pki.dir, "--data-binary "
	    "01234567890123456789012345678901234567890123456789"
	    "01234567890123456789012345678901234567890123456789x", u, &r),
	    413);
	assert_int_equal(t_curl(pki.dir, "--data-binary ok", u, &r), 200);
	assert_true(t_wait_stats(t.s, t_open_is, 0));
	assert_int_equal(t_srv_stop(&t), PKID_OK);
}

static void
test_conn_cap(void **state)
{
	struct pkid_server_opts o;
	struct pkid_server_stats st;
	struct t_srv t;
	struct t_curl r;
	char u[256], h[64];
	int fd, retry;

	(void)state;
	plain_opts(&o);
	o.max_conns = 1;
	assert_true(t_srv_start(&t, &o, router));
	url(u, sizeof(u), "http", pkid_server_http_port(t.s), "/hello");
	fd = t_connect(pkid_server_http_port(t.s));
	assert_true(fd >= 0);
	assert_true(t_wait_stats(t.s, t_open_is, 1));
	assert_int_equal(t_curl(pki.dir, "", u, &r), 503);
	retry = atoi(t_header(&r, "Retry-After", h, sizeof(h)));
	assert_true(retry >= 1 && retry <= 5);
	assert_true(strncmp(r.body, "error: rate-limited: the server has ",
	    36) == 0);
	assert_non_null(strstr(r.body, "\nfix: wait for the time in "
	    "Retry-After"));
	assert_string_equal(t_header(&r, "Connection", h, sizeof(h)),
	    "close");
	close(fd);
	assert_true(t_wait_stats(t.s, t_open_is, 0));
	assert_int_equal(t_curl(pki.dir, "", u, &r), 200);
	pkid_server_stats(t.s, &st);
	assert_int_equal(st.rejected_503, 1);
	assert_int_equal(st.status[5], 1);
	assert_true(t_log_has("status=503 code=rate-limited"));
	assert_int_equal(t_srv_stop(&t), PKID_OK);
}

static void
test_rate_limit(void **state)
{
	struct pkid_server_opts o;
	struct t_srv t;
	struct t_curl r;
	char u[256], h[64];
	int retry;

	(void)state;
	plain_opts(&o);
	o.rate_per_min = 2;
	assert_true(t_srv_start(&t, &o, router));
	url(u, sizeof(u), "http", pkid_server_http_port(t.s), "/hello");
	assert_int_equal(t_curl(pki.dir, "", u, &r), 200);
	assert_int_equal(t_curl(pki.dir, "", u, &r), 200);
	assert_int_equal(t_curl(pki.dir, "", u, &r), 503);
	/* One token per 30 s, plus up to a quarter of jitter. */
	retry = atoi(t_header(&r, "Retry-After", h, sizeof(h)));
	assert_true(retry >= 29 && retry <= 39);
	assert_non_null(strstr(r.body, "client 127.0.0.1 sent more than 2 "
	    "requests per minute"));
	assert_int_equal(t_srv_stop(&t), PKID_OK);
}

struct bg_curl {
	const char *url;	/* what to fetch */
	struct t_curl r;	/* what came back */
	char dir[128];		/* where curl writes */
};

static void *
bg_curl_main(void *arg)
{
	struct bg_curl *b = arg;

	t_curl(b->dir, "", b->url, &b->r);
	return NULL;
}

static void
test_graceful_stop(void **state)
{
	struct pkid_server_opts o;
	struct bg_curl b;
	struct t_srv t;
	pthread_t th;
	char u[256];
	uint64_t t0, end;
	int idle, port;

	(void)state;
	plain_opts(&o);
	assert_true(t_srv_start(&t, &o, router));
	port = pkid_server_http_port(t.s);
	url(u, sizeof(u), "http", port, "/slow");
	/* An idle connection must not hold the stop up. */
	idle = t_connect(port);
	assert_true(idle >= 0);
	memset(&b, 0, sizeof(b));
	b.url = u;
	snprintf(b.dir, sizeof(b.dir), "%s/bg", pki.dir);
	assert_int_equal(mkdir(b.dir, 0700), 0);
	atomic_store(&slow_entered, 0);
	assert_int_equal(pthread_create(&th, NULL, bg_curl_main, &b), 0);
	end = pkid_mono_ms() + T_WAIT_MS;
	while (!atomic_load(&slow_entered) && pkid_mono_ms() < end)
		usleep(5000);
	assert_true(atomic_load(&slow_entered));
	t0 = pkid_mono_ms();
	/* Stop while the handler runs: the answer must still go out. */
	assert_int_equal(t_srv_stop(&t), PKID_OK);
	assert_true(pkid_mono_ms() - t0 < 2000);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(b.r.code, 200);
	assert_string_equal(b.r.body, "slow\n");
	/* Closed by the server; and nobody listens any more. */
	assert_int_equal(read(idle, u, sizeof(u)), 0);
	close(idle);
	assert_int_equal(t_connect(port), -1);
}

static void
test_drain_deadline(void **state)
{
	static const char part[] = "GET /hello HTTP/1.1\r\nHost: x\r\n";
	struct pkid_server_opts o;
	struct t_srv t;
	uint64_t t0, took;
	char buf[64];
	int fd;

	(void)state;
	plain_opts(&o);
	assert_true(t_srv_start(&t, &o, router));
	fd = t_connect(pkid_server_http_port(t.s));
	assert_true(fd >= 0);
	assert_true(t_wait_stats(t.s, t_open_is, 1));
	/* Half a request: in flight, never finished. */
	assert_int_equal(write(fd, part, sizeof(part) - 1), sizeof(part) - 1);
	usleep(100 * 1000);
	t0 = pkid_mono_ms();
	assert_int_equal(t_srv_stop(&t), PKID_OK);
	took = pkid_mono_ms() - t0;
	/* The drain waits for it, but no longer than 5 s. */
	assert_true(took >= 4500 && took < 8000);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	close(fd);
}

static void
test_stop_before_run(void **state)
{
	struct pkid_server_opts o;
	struct pkid_server *s;
	struct pkid_err e;
	uint64_t t0;

	(void)state;
	pkid_err_clear(&e);
	plain_opts(&o);
	s = pkid_server_new(&o, router, &e);
	assert_non_null(s);
	pkid_server_stop(s);
	t0 = pkid_mono_ms();
	assert_int_equal(pkid_server_run(s, &e), PKID_OK);
	assert_true(pkid_mono_ms() - t0 < 2000);
	/* It ran once; a second run is refused. */
	assert_int_equal(pkid_server_run(s, &e), PKID_E_INTERNAL);
	pkid_server_free(s);
}

static struct pkid_server *sig_server;

static void
on_sigusr1(int sig)
{
	(void)sig;
	pkid_server_stop(sig_server);
}

static void
test_signal_stop(void **state)
{
	struct pkid_server_opts o;
	struct sigaction sa, old;
	struct timespec ts;
	struct t_srv t;
	struct t_curl r;
	char u[256];

	(void)state;
	plain_opts(&o);
	assert_true(t_srv_start(&t, &o, router));
	url(u, sizeof(u), "http", pkid_server_http_port(t.s), "/hello");
	assert_int_equal(t_curl(pki.dir, "", u, &r), 200);
	sig_server = t.s;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	assert_int_equal(kill(getpid(), SIGUSR1), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += T_WAIT_MS / 1000;
	assert_int_equal(pthread_timedjoin_np(t.thread, NULL, &ts), 0);
	t.running = 0;
	assert_int_equal(t.rc, PKID_OK);
	sigaction(SIGUSR1, &old, NULL);
	assert_int_equal(t_srv_stop(&t), -1);	/* not running: just free */
}

static void
expect_new_fails(const struct pkid_server_opts *o, enum pkid_code code,
    const char *needle)
{
	struct pkid_server *s;
	struct pkid_err e;

	pkid_err_clear(&e);
	s = pkid_server_new(o, router, &e);
	assert_null(s);
	assert_int_equal(e.code, code);
	if (strstr(e.detail, needle) == NULL)
		fail_msg("detail '%s' lacks '%s'", e.detail, needle);
}

static void
test_setup_errors(void **state)
{
	struct pkid_server_opts o;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char spec[64], needle[128];
	int fd;

	(void)state;
	/* A port someone else listens on. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", ntohs(sa.sin_port));
	snprintf(needle, sizeof(needle), "cannot listen on %s: ", spec);
	plain_opts(&o);
	o.http = spec;
	expect_new_fails(&o, PKID_E_NET_LISTEN, needle);
	expect_new_fails(&o, PKID_E_NET_LISTEN, "Address already in use");
	close(fd);

	plain_opts(&o);
	o.http = "off";
	expect_new_fails(&o, PKID_E_CONFIG_BAD_VALUE, "both listeners");
	o.http = "127.0.0.1";
	expect_new_fails(&o, PKID_E_CONFIG_BAD_VALUE, "has no port");
	o.http = "127.0.0.1:70000";
	expect_new_fails(&o, PKID_E_CONFIG_BAD_VALUE, "'70000'");
	o.http = "192.0.2.1:0";	/* TEST-NET: not on this machine */
	expect_new_fails(&o, PKID_E_NET_LISTEN, "cannot listen on "
	    "192.0.2.1:0: Cannot assign requested address");

	tls_opts(&o);
	o.cert_file = "/nonexistent/server.pem";
	expect_new_fails(&o, PKID_E_IO_OPEN, "/nonexistent/server.pem");
	tls_opts(&o);
	o.key_file = pki.cli_key;
	expect_new_fails(&o, PKID_E_KEY_MISMATCH, "does not match");
	tls_opts(&o);
	o.cert_file = pki.srv_key;
	expect_new_fails(&o, PKID_E_CERT_MALFORMED, "server certificate");
	tls_opts(&o);
	o.cert_file = NULL;
	expect_new_fails(&o, PKID_E_CONFIG_BAD_VALUE, "server certificate");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_routes),
		cmocka_unit_test(test_tls_listener),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_conn_cap),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_graceful_stop),
		cmocka_unit_test(test_drain_deadline),
		cmocka_unit_test(test_stop_before_run),
		cmocka_unit_test(test_signal_stop),
		cmocka_unit_test(test_setup_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
