/*
 * est_client_test.c - the EST client's messages without a network: the
 * CSR it builds (checked by the server's own readers), CsrAttrs asking
 * for channel binding or not, certs-only bodies, and the RA keys of
 * [est] in pkid.conf.
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
#include <openssl/x509v3.h>

#include "core/cfg.h"
#include "est/client.h"
#include "est/csrattrs.h"
#include "est/msg.h"
#include "testcerts.h"

static void
test_csr_build(void **state)
{
	EVP_PKEY *k = tc_key_ec("P-256");
	X509_NAME *n = tc_name("dev7");
	GENERAL_NAMES *g = GENERAL_NAMES_new();
	GENERAL_NAME *gn = a2i_GENERAL_NAME(NULL, NULL, NULL, GEN_DNS,
	    "dev7.example.com", 0);
	struct pkid_est_csr_spec spec = { n, g };
	uint8_t cb[32];
	char pw[256];
	X509_REQ *csr = NULL;
	struct pkid_err e;
	int present = 0;

	(void)state;
	memset(cb, 0xab, sizeof(cb));
	pkid_err_clear(&e);
	assert_non_null(gn);
	assert_true(sk_GENERAL_NAME_push(g, gn) > 0);
	assert_int_equal(pkid_est_csr_build(k, &spec, cb, sizeof(cb), &csr,
	    &e), PKID_OK);
	assert_int_equal(X509_REQ_verify(csr, k), 1);
	assert_int_equal(pkid_est_csr_challenge(csr, pw, sizeof(pw),
	    &present, &e), PKID_OK);
	assert_true(present);
	/* RFC 7030 3.5: base64 of the binding, 32 bytes -> 44 chars. */
	assert_int_equal(strlen(pw), 44);
	assert_int_equal(strncmp(pw, "q6ur", 4), 0);
	X509_REQ_free(csr);
	/* Without a binding: no challengePassword. */
	assert_int_equal(pkid_est_csr_build(k, &spec, NULL, 0, &csr, &e),
	    PKID_OK);
	assert_int_equal(pkid_est_csr_challenge(csr, pw, sizeof(pw),
	    &present, &e), PKID_OK);
	assert_false(present);
	X509_REQ_free(csr);
	GENERAL_NAMES_free(g);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
}

/* The server's csrattrs for cb mode, base64, as the client sees it. */
static int
wants(enum pkid_cb_mode cb)
{
	struct pkid_config c;
	struct pkid_buf der, b64;
	struct pkid_err e;
	int w;

	pkid_config_defaults(&c);
	pkid_err_clear(&e);
	memset(&b64, 0, sizeof(b64));
	assert_int_equal(pkid_est_csrattrs_der(pkid_config_profile(&c,
	    "device"), cb, &der, &e), PKID_OK);
	assert_int_equal(pkid_base64_encode(der.p, der.len, 0, &b64, &e),
	    PKID_OK);
	w = pkid_est_csrattrs_wants_cb(b64.p, b64.len);
	pkid_buf_free(&der);
	pkid_buf_free(&b64);
	return w;
}

static void
test_csrattrs_binding(void **state)
{
	(void)state;
	assert_int_equal(wants(PKID_CB_REQUIRED), 1);
	assert_int_equal(wants(PKID_CB_OFF), 0);
	assert_int_equal(pkid_est_csrattrs_wants_cb((const uint8_t *)"", 0),
	    0);
	assert_int_equal(pkid_est_csrattrs_wants_cb((const uint8_t *)"!!",
	    2), -1);
	assert_int_equal(pkid_est_csrattrs_wants_cb((const uint8_t *)"MAMC",
	    4), -1);
}

static void
test_certs_parse(void **state)
{
	EVP_PKEY *k = tc_key_ec("P-256");
	X509 *x = tc_cert("ca", k, NULL, NULL, 1, 0, 86400, NULL);
	STACK_OF(X509) *in = sk_X509_new_null(), *out = NULL;
	struct pkid_buf b64;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	assert_true(sk_X509_push(in, x) > 0);
	assert_int_equal(pkid_est_certs_b64(in, &b64, &e), PKID_OK);
	assert_int_equal(pkid_est_certs_parse(b64.p, b64.len, &out, &e),
	    PKID_OK);
	assert_int_equal(sk_X509_num(out), 1);
	assert_int_equal(X509_cmp(sk_X509_value(out, 0), x), 0);
	sk_X509_pop_free(out, X509_free);
	out = NULL;
	assert_int_not_equal(pkid_est_certs_parse((const uint8_t *)"@@", 2,
	    &out, &e), PKID_OK);
	assert_null(out);
	pkid_buf_free(&b64);
	sk_X509_pop_free(in, X509_free);
	EVP_PKEY_free(k);
}

static enum pkid_code
parse(struct pkid_config *c, const char *text, struct pkid_err *e)
{
	pkid_config_defaults(c);
	pkid_err_clear(e);
	return pkid_config_parse(c, "t.conf", text, strlen(text), e);
}

static void
test_cfg_upstream(void **state)
{
	struct pkid_config c;
	struct pkid_err e;
	struct pkid_buf out;

	(void)state;
	assert_int_equal(parse(&c, "[est]\n", &e), PKID_OK);
	assert_int_equal(c.est[0].upstream_timeout, 10);
	assert_int_equal(parse(&c, "[est ra]\nupstream = https://ca:8443/"
	    ".well-known/est/x\nupstream_cacert = /r.pem\nupstream_cert = "
	    "/c.pem\nupstream_key = /k.pem\nupstream_timeout = 2s\n", &e),
	    PKID_OK);
	assert_string_equal(c.est[1].upstream,
	    "https://ca:8443/.well-known/est/x");
	assert_int_equal(c.est[1].upstream_timeout, 2);
	pkid_buf_init(&out, 1 << 20);
	assert_int_equal(pkid_config_write(&c, &out, &e), PKID_OK);
	assert_non_null(strstr((char *)out.p, "upstream_timeout = 2s"));
	pkid_buf_free(&out);
	assert_int_equal(parse(&c, "[est]\nupstream_timeout = 7\n", &e),
	    PKID_OK);
	assert_int_equal(c.est[0].upstream_timeout, 7);
	assert_int_equal(parse(&c, "[est]\nupstream = http://ca/\n", &e),
	    PKID_E_CONFIG_BAD_VALUE);
	assert_int_equal(parse(&c, "[est]\nupstream_timeout = 0\n", &e),
	    PKID_E_CONFIG_BAD_VALUE);
	assert_int_equal(parse(&c, "[est]\nupstream_timeout = 10h\n", &e),
	    PKID_E_CONFIG_BAD_VALUE);
	assert_int_equal(parse(&c, "[est]\nupstream_x = 1\n", &e),
	    PKID_E_CONFIG_UNKNOWN_KEY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csr_build),
		cmocka_unit_test(test_csrattrs_binding),
		cmocka_unit_test(test_certs_parse),
		cmocka_unit_test(test_cfg_upstream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
