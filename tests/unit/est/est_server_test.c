/*
 * server_test.c - the EST handlers on a real CA directory, without a
 * network: routing, methods, status codes, certificate authentication,
 * re-enrollment identity, serverkeygen, audit of refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>

#include "ca/ca.h"
#include "core/clock.h"
#include "est/est.h"
#include "testcerts.h"

static struct pkid_requester test_rq = { "test", NULL };

static char dir[256];
static struct pkid_ca *ca;
static struct pkid_est *est;

static int
setup(void **state)
{
	char tmpl[] = "/tmp/pkid-est-test.XXXXXX";
	struct pkid_ca_init_opts o;
	struct pkid_err e;

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s/ca", tmpl);
	memset(&o, 0, sizeof(o));
	o.domain = "example.com,example";
	o.ip_ranges = "10.0.0.0/8";
	pkid_err_clear(&e);
	if (pkid_ca_init(dir, &o, &e) != PKID_OK ||
	    pkid_ca_open(dir, &ca, &e) != PKID_OK ||
	    (est = pkid_est_new(ca, &e)) == NULL) {
		fprintf(stderr, "setup: %s\n", e.detail);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	pkid_est_free(est);
	pkid_ca_close(ca);
	snprintf(cmd, sizeof(cmd), "rm -rf \"$(dirname '%s')\"", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Run one request; the caller frees resp. */
static void
call(enum pkid_http_method m, const char *path, const char *ct,
    const char *body, X509 *peer, struct pkid_http_resp *resp)
{
	struct pkid_http_req req;

	memset(&req, 0, sizeof(req));
	req.method = m;
	req.path = path;
	req.content_type = ct;
	req.body = (const uint8_t *)body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.client_addr = "127.0.0.1";
	req.tls = 1;
	req.peer_cert = peer;
	pkid_http_resp_init(resp);
	pkid_est_handle(est, &req, resp);
}

static const char *
header(const struct pkid_http_resp *r, const char *name)
{
	int i;

	for (i = 0; i < r->n_headers; i++)
		if (strcmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* Body as a NUL-terminated string (appends a NUL). */
static const char *
text(struct pkid_http_resp *r)
{
	struct pkid_err e;

	pkid_err_clear(&e);
	assert_int_equal(pkid_buf_append(&r->body, "", 1, &e), PKID_OK);
	r->body.len--;
	return (const char *)r->body.p;
}

/* base64 DER of a CSR (malloc'd). */
static char *
csr_text(X509_REQ *csr)
{
	unsigned char *der = NULL;
	int len = i2d_X509_REQ(csr, &der);
	struct pkid_buf b;
	struct pkid_err e;
	char *s;

	pkid_err_clear(&e);
	assert_int_equal(pkid_base64_encode(der, (size_t)len, 1, &b, &e),
	    PKID_OK);
	s = strdup((char *)b.p);
	pkid_buf_free(&b);
	OPENSSL_free(der);
	return s;
}

/* A certificate from this CA for cn with SAN san (key in *key). */
static X509 *
issue(const char *cn, const char *san, EVP_PKEY **key)
{
	const char *const exts[] = { "subjectAltName", san, NULL };
	struct pkid_issue_result res;
	struct pkid_err e;
	X509_REQ *csr;
	X509 *x;
	unsigned char *der = NULL;
	const unsigned char *p;
	int len;

	*key = tc_key_ec("P-256");
	csr = tc_csr(cn, *key, exts, NULL);
	pkid_err_clear(&e);
	memset(&res, 0, sizeof(res));
	assert_int_equal(pkid_ca_issue(ca, csr, "device", &test_rq, &res, &e),
	    PKID_OK);
	/* Through DER, as a TLS peer certificate arrives (the object
	 * pkid_ca_issue returns carries its key undecoded). */
	assert_true((len = i2d_X509(res.cert, &der)) > 0);
	p = der;
	x = d2i_X509(NULL, &p, len);
	assert_non_null(x);
	OPENSSL_free(der);
	pkid_issue_result_clear(&res);
	X509_REQ_free(csr);
	return x;
}

static int64_t
certs(void)
{
	struct pkid_err e;
	int64_t n = -1;

	pkid_err_clear(&e);
	assert_int_equal(pkid_store_cert_count(ca->store, &n, &e), PKID_OK);
	return n;
}

static void
test_cacerts_csrattrs(void **state)
{
	struct pkid_http_resp r;
	struct pkid_buf der;
	struct pkid_err e;
	const unsigned char *p;
	PKCS7 *p7;

	(void)state;
	pkid_err_clear(&e);
	call(PKID_HTTP_GET, "/.well-known/est/cacerts", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type,
	    "application/pkcs7-mime; smime-type=certs-only");
	assert_string_equal(header(&r, "Content-Transfer-Encoding"), "base64");
	assert_null(memchr(r.body.p, '\n', r.body.len));
	assert_int_equal(pkid_base64_decode((char *)r.body.p, r.body.len, &der,
	    1 << 20, &e), PKID_OK);
	p = der.p;
	p7 = d2i_PKCS7(NULL, &p, (long)der.len);
	assert_non_null(p7);
	assert_int_equal(sk_X509_num(p7->d.sign->cert), 2);
	PKCS7_free(p7);
	pkid_buf_free(&der);
	pkid_http_resp_free(&r);
	call(PKID_HTTP_GET, "/.well-known/est/csrattrs", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "application/csrattrs");
	pkid_http_resp_free(&r);
}

static void
test_routes_and_methods(void **state)
{
	struct pkid_http_resp r;

	(void)state;
	call(PKID_HTTP_GET, "/.well-known/est/nolabel/cacerts", NULL, NULL,
	    NULL, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(text(&r), "no-route"));
	pkid_http_resp_free(&r);
	call(PKID_HTTP_GET, "/.well-known/est/bogus", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	pkid_http_resp_free(&r);
	call(PKID_HTTP_GET, "/.well-known/est/simpleenroll", NULL, NULL, NULL,
	    &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(header(&r, "Allow"), "POST");
	pkid_http_resp_free(&r);
	call(PKID_HTTP_POST, "/.well-known/est/fullcmc",
	    "application/pkcs7-mime", "x", NULL, &r);
	assert_int_equal(r.status, 501);
	assert_non_null(strstr(text(&r), "fullcmc"));
	pkid_http_resp_free(&r);
	call(PKID_HTTP_POST, "/.well-known/est/simpleenroll",
	    "application/pkcs10", "AAAA", NULL, &r);
	assert_int_equal(r.status, 401);
	assert_string_equal(header(&r, "WWW-Authenticate"),
	    "Basic realm=\"pkid EST\"");
	assert_non_null(strstr(text(&r), "auth-required"));
	pkid_http_resp_free(&r);
}

/*
 * Issue 9 item 1: simpleenroll authenticated by a certificate this CA
 * issued (CN=dev1) asked for another name (CN=new1) and got it. The
 * certificate may only renew its own subject and SANs.
 */
static void
test_enroll_with_cert(void **state)
{
	const char *const san[] = { "subjectAltName", "DNS:dev1.example",
	    NULL };
	const char *const san2[] = { "subjectAltName",
	    "DNS:dev1.example,DNS:dev9.example", NULL };
	EVP_PKEY *k, *k2 = tc_key_ec("P-256"), *k3 = tc_key_ec("P-256");
	X509 *me = issue("dev1", "DNS:dev1.example", &k);
	X509_REQ *csr = tc_csr("dev1", k2, san, NULL);
	X509_REQ *other = tc_csr("new1", k2, NULL, NULL);
	X509_REQ *more = tc_csr("dev1", k2, san2, NULL);
	X509_REQ *bad = tc_csr("dev1", k2, san, NULL);
	struct pkid_http_resp r;
	struct pkid_err e;
	int64_t n0, refused = 0;
	char *b64 = csr_text(csr), *badb64, *b_other = csr_text(other);
	char *b_more = csr_text(more);

	(void)state;
	/* a CSR whose signature does not match its key */
	assert_int_equal(X509_REQ_set_pubkey(bad, k3), 1);
	badb64 = csr_text(bad);
	n0 = certs();
	call(PKID_HTTP_POST, "/.well-known/est/simpleenroll",
	    "application/pkcs10", b_other, me, &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(text(&r), "identity-mismatch"));
	pkid_http_resp_free(&r);
	call(PKID_HTTP_POST, "/.well-known/est/simpleenroll",
	    "application/pkcs10", b_more, me, &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(text(&r), "identity-mismatch"));
	pkid_http_resp_free(&r);
	call(PKID_HTTP_POST, "/.well-known/est/serverkeygen",
	    "application/pkcs10", b_other, me, &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(text(&r), "identity-mismatch"));
	pkid_http_resp_free(&r);
	assert_int_equal(certs(), n0);
	call(PKID_HTTP_POST, "/.well-known/est/simpleenroll",
	    "application/pkcs10", b64, me, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Transfer-Encoding"), "base64");
	pkid_http_resp_free(&r);
	assert_int_equal(certs(), n0 + 1);
	call(PKID_HTTP_POST, "/.well-known/est/simpleenroll",
	    "application/octet-stream", b64, me, &r);
	assert_int_equal(r.status, 415);
	pkid_http_resp_free(&r);
	call(PKID_HTTP_POST, "/.well-known/est/simpleenroll",
	    "application/pkcs10", "%%%notbase64", me, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(text(&r), "base64-bad"));
	pkid_http_resp_free(&r);
	call(PKID_HTTP_POST, "/.well-known/est/simpleenroll",
	    "application/pkcs10", badb64, me, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(text(&r), "csr-bad-signature"));
	pkid_http_resp_free(&r);
	assert_int_equal(certs(), n0 + 1);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_audit_count(ca->store, "simpleenroll",
	    "refused", &refused, &e), PKID_OK);
	assert_true(refused >= 5);
	free(b64);
	free(badb64);
	free(b_other);
	free(b_more);
	X509_REQ_free(other);
	X509_REQ_free(more);
	X509_REQ_free(csr);
	X509_REQ_free(bad);
	X509_free(me);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
}

static void
test_reenroll(void **state)
{
	const char *const san[] = { "subjectAltName", "DNS:dev2.example",
	    NULL };
	const char *const ca_exts[] = { TC_CA_EXTS, NULL };
	EVP_PKEY *k, *k2 = tc_key_ec("P-256");
	X509 *me = issue("dev2", "DNS:dev2.example", &k);
	X509 *foreign = tc_cert("dev2", k, NULL, NULL, 99, pkid_now() - 60,
	    pkid_now() + 86400, ca_exts);
	X509_REQ *same = tc_csr("dev2", k2, san, NULL);
	X509_REQ *other = tc_csr("dev3", k2, san, NULL);
	char *b_same = csr_text(same), *b_other = csr_text(other);
	struct pkid_http_resp r;
	int64_t n0 = certs();

	(void)state;
	call(PKID_HTTP_POST, "/.well-known/est/simplereenroll",
	    "application/pkcs10", b_same, NULL, &r);
	assert_int_equal(r.status, 401);
	pkid_http_resp_free(&r);
	call(PKID_HTTP_POST, "/.well-known/est/simplereenroll",
	    "application/pkcs10", b_same, foreign, &r);
	assert_int_equal(r.status, 403);
	pkid_http_resp_free(&r);
	call(PKID_HTTP_POST, "/.well-known/est/simplereenroll",
	    "application/pkcs10", b_other, me, &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(text(&r), "identity-mismatch"));
	pkid_http_resp_free(&r);
	assert_int_equal(certs(), n0);
	call(PKID_HTTP_POST, "/.well-known/est/simplereenroll",
	    "application/pkcs10", b_same, me, &r);
	assert_int_equal(r.status, 200);
	pkid_http_resp_free(&r);
	assert_int_equal(certs(), n0 + 1);
	/* serverkeygen with the same credentials */
	call(PKID_HTTP_POST, "/.well-known/est/serverkeygen",
	    "application/pkcs10", b_same, me, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.content_type, "multipart/mixed; boundary="));
	assert_non_null(strstr(text(&r), "application/pkcs8"));
	pkid_http_resp_free(&r);
	free(b_same);
	free(b_other);
	X509_REQ_free(same);
	X509_REQ_free(other);
	X509_free(me);
	X509_free(foreign);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cacerts_csrattrs),
		cmocka_unit_test(test_routes_and_methods),
		cmocka_unit_test(test_enroll_with_cert),
		cmocka_unit_test(test_reenroll),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
