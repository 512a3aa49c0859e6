/*
 * http_tls_test.c - what a handler learns about its TLS peer: the optional
 * client certificate (with curl: from the trusted CA, self-signed, none),
 * and the channel binding checked against an OpenSSL client computing
 * the same value (tls-exporter on TLS 1.3, tls-unique on TLS 1.2 full
 * and resumed handshakes). Also the TLS failure counter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/buf.h"
#include "http_testutil.h"

static struct t_pki pki;
static struct pkid_router *router;

static void
h_peer(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	char cn[64] = "-";

	(void)ctx;
	if (req->peer_cert != NULL)
		X509_NAME_get_text_by_NID(X509_get_subject_name(req->peer_cert),
		    NID_commonName, cn, sizeof(cn));
	pkid_buf_printf(&resp->body, NULL, "cert=%d verified=%d chain=%d "
	    "cn=%s tls=%d", req->peer_cert != NULL, req->peer_verified,
	    req->peer_chain != NULL ? sk_X509_num(req->peer_chain) : 0, cn,
	    req->tls);
}

static void
h_cb(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	uint8_t cb[PKID_HTTP_CB_MAX];
	char hex[2 * PKID_HTTP_CB_MAX + 1];
	size_t len = sizeof(cb);
	const char *type = NULL;
	struct pkid_err e;

	(void)ctx;
	pkid_err_clear(&e);
	if (pkid_http_req_channel_binding(req, cb, &len, &type, &e) !=
	    PKID_OK) {
		pkid_http_resp_error(resp, 400, &e);
		return;
	}
	pkid_hex(cb, len, hex);
	pkid_buf_printf(&resp->body, NULL, "%s %s", type, hex);
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
	    pkid_router_add(router, "/peer", 0, PKID_HTTP_GET, h_peer, NULL,
	    &e) != PKID_OK ||
	    pkid_router_add(router, "/cb", 0, PKID_HTTP_GET, h_cb, NULL,
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
tls_opts(struct pkid_server_opts *o, int client_ca)
{
	memset(o, 0, sizeof(*o));
	o->listen = "127.0.0.1:0";
	o->http = "127.0.0.1:0";
	o->workers = 2;
	o->cert_file = pki.srv_cert;
	o->key_file = pki.srv_key;
	o->client_ca = client_ca ? pki.ca : NULL;
}

static void
peer_case(int port, const char *cert, const char *key, const char *want)
{
	struct t_curl r;
	char u[128], args[512];

	snprintf(u, sizeof(u), "https://127.0.0.1:%d/peer", port);
	if (cert != NULL)
		snprintf(args, sizeof(args), "--cacert '%s' --cert '%s' "
		    "--key '%s'", pki.ca, cert, key);
	else
		snprintf(args, sizeof(args), "--cacert '%s'", pki.ca);
	assert_int_equal(t_curl(pki.dir, args, u, &r), 200);
	assert_string_equal(r.body, want);
}

static void
test_client_cert(void **state)
{
	struct pkid_server_opts o;
	struct t_srv t;
	int port;

	(void)state;
	tls_opts(&o, 1);
	assert_true(t_srv_start(&t, &o, router));
	port = pkid_server_tls_port(t.s);
	/* curl's OpenSSL completes the client's chain from its --cacert
	 * store: leaf and CA arrive. */
	peer_case(port, pki.cli_cert, pki.cli_key,
	    "cert=1 verified=1 chain=2 cn=device-42 tls=1");
	/* The handshake succeeds; the handler learns it did not verify. */
	peer_case(port, pki.rogue_cert, pki.rogue_key,
	    "cert=1 verified=0 chain=1 cn=rogue tls=1");
	peer_case(port, NULL, NULL, "cert=0 verified=0 chain=0 cn=- tls=1");
	assert_true(t_wait_stats(t.s, t_open_is, 0));
	assert_int_equal(t_srv_stop(&t), PKID_OK);

	/* Without client_ca the server does not ask for a certificate. */
	tls_opts(&o, 0);
	assert_true(t_srv_start(&t, &o, router));
	peer_case(pkid_server_tls_port(t.s), pki.cli_cert, pki.cli_key,
	    "cert=0 verified=0 chain=0 cn=- tls=1");
	assert_int_equal(t_srv_stop(&t), PKID_OK);
}

/* One HTTPS GET /cb by hand; *expect gets the client's view. */
struct cb_run {
	int version;		/* TLS1_2_VERSION or TLS1_3_VERSION */
	SSL_SESSION *sess;	/* in: resume this; out: the new session */
	int resumed;		/* out: the handshake was resumed */
	char expect[160];	/* out: "type hex" per the client */
	char got[4096];		/* out: the server's response */
};

static void
client_view(SSL *ssl, struct cb_run *c)
{
	uint8_t b[64];
	char hex[129];
	size_t n;

	if (c->version == TLS1_3_VERSION) {
		assert_int_equal(SSL_export_keying_material(ssl, b, 32,
		    "EXPORTER-Channel-Binding", 24, NULL, 0, 0), 1);
		pkid_hex(b, 32, hex);
		snprintf(c->expect, sizeof(c->expect), "tls-exporter %s", hex);
		return;
	}
	/* RFC 5929: the first Finished; the client's in a full
	 * handshake, the server's in a resumed one. */
	n = c->resumed ? SSL_get_peer_finished(ssl, b, sizeof(b)) :
	    SSL_get_finished(ssl, b, sizeof(b));
	assert_int_equal(n, 12);
	pkid_hex(b, n, hex);
	snprintf(c->expect, sizeof(c->expect), "tls-unique %s", hex);
}

static void
cb_fetch(int port, struct cb_run *c)
{
	static const char rq[] = "GET /cb HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n";
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	size_t used = 0;
	int fd, n, i;

	assert_non_null(ctx);
	SSL_CTX_set_min_proto_version(ctx, c->version);
	SSL_CTX_set_max_proto_version(ctx, c->version);
	assert_int_equal(SSL_CTX_load_verify_locations(ctx, pki.ca, NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	fd = t_connect(port);
	assert_true(fd >= 0);
	ssl = SSL_new(ctx);
	assert_non_null(ssl);
	SSL_set_fd(ssl, fd);
	if (c->sess != NULL)
		SSL_set_session(ssl, c->sess);
	assert_int_equal(SSL_connect(ssl), 1);
	c->resumed = SSL_session_reused(ssl);
	client_view(ssl, c);
	assert_int_equal(SSL_write(ssl, rq, (int)sizeof(rq) - 1),
	    (int)sizeof(rq) - 1);
	/* Bounded: the buffer size and the socket's receive timeout. */
	for (i = 0; i < 64 && used + 1 < sizeof(c->got); i++) {
		n = SSL_read(ssl, c->got + used,
		    (int)(sizeof(c->got) - 1 - used));
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	c->got[used] = '\0';
	SSL_SESSION_free(c->sess);
	c->sess = SSL_get1_session(ssl);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	ERR_clear_error();
}

static void
assert_cb_body(const struct cb_run *c)
{
	const char *body = strstr(c->got, "\r\n\r\n");

	assert_non_null(body);
	assert_non_null(strstr(c->got, "HTTP/1.1 200 OK"));
	assert_string_equal(body + 4, c->expect);
}

static void
test_channel_binding(void **state)
{
	struct pkid_server_opts o;
	struct cb_run c;
	struct t_srv t;
	struct t_curl r;
	char u[128];
	int port;

	(void)state;
	tls_opts(&o, 0);
	assert_true(t_srv_start(&t, &o, router));
	port = pkid_server_tls_port(t.s);

	memset(&c, 0, sizeof(c));
	c.version = TLS1_3_VERSION;
	cb_fetch(port, &c);
	assert_cb_body(&c);
	SSL_SESSION_free(c.sess);

	memset(&c, 0, sizeof(c));
	c.version = TLS1_2_VERSION;
	cb_fetch(port, &c);
	assert_false(c.resumed);
	assert_cb_body(&c);
	/* Resume the session: now the server's Finished comes first. */
	cb_fetch(port, &c);
	assert_true(c.resumed);
	assert_cb_body(&c);
	SSL_SESSION_free(c.sess);

	/* Plain HTTP has no channel binding. */
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/cb",
	    pkid_server_http_port(t.s));
	assert_int_equal(t_curl(pki.dir, "", u, &r), 400);
	assert_true(strncmp(r.body, "error: no-channel-binding: ", 27) == 0);
	assert_int_equal(t_srv_stop(&t), PKID_OK);
}

static int
t_tls_failures_at_least(const struct pkid_server_stats *st,
    unsigned long long n)
{
	return st->tls_failures >= n && st->conns_open == 0;
}

static void
test_tls_failure_count(void **state)
{
	static const char rq[] = "GET /peer HTTP/1.0\r\n\r\n";
	struct pkid_server_opts o;
	struct pkid_server_stats st;
	struct t_srv t;
	char buf[512];
	ssize_t n;
	int fd, i;

	(void)state;
	tls_opts(&o, 0);
	assert_true(t_srv_start(&t, &o, router));
	/* Plain HTTP on the TLS port: no handshake, no answer. */
	fd = t_connect(pkid_server_tls_port(t.s));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, rq, sizeof(rq) - 1), sizeof(rq) - 1);
	for (i = 0; i < 16; i++) {
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
	}
	close(fd);
	/* A client that connects and leaves without a word. */
	fd = t_connect(pkid_server_tls_port(t.s));
	assert_true(fd >= 0);
	close(fd);
	assert_true(t_wait_stats(t.s, t_tls_failures_at_least, 2));
	pkid_server_stats(t.s, &st);
	assert_int_equal(st.requests, 0);
	assert_int_equal(st.conns_total, 2);
	assert_int_equal(t_srv_stop(&t), PKID_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_cert),
		cmocka_unit_test(test_channel_binding),
		cmocka_unit_test(test_tls_failure_count),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
