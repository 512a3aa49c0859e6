/*
 * csr_test.c - x509/csr.c: requests decoded without OpenSSL's per-key
 * decoder give the same key, signature and bytes as d2i_X509_REQ, for EC
 * (uncompressed and compressed points, P-256 and P-384) and RSA; other key
 * types fall back to OpenSSL's decoder; bad keys and truncated DER fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/err.h>

#include "testcerts.h"
#include "x509/csr.h"

/* Decode der both ways; the fast one must agree with OpenSSL's. */
static void
same_as_openssl(const unsigned char *der, size_t len, int expect_fast)
{
	const unsigned char *p = der, *q = der;
	X509_REQ *fast, *ref;
	EVP_PKEY *k = NULL;
	struct pkid_err e;
	unsigned char *again = NULL;
	int n;

	pkid_err_clear(&e);
	fast = pkid_csr_d2i(&p, (long)len);
	assert_non_null(fast);
	assert_ptr_equal(p, der + len);
	assert_int_equal(ERR_peek_error(), 0);
	ref = d2i_X509_REQ(NULL, &q, (long)len);
	assert_non_null(ref);
	/* The fast path leaves OpenSSL's cached key empty. */
	ERR_set_mark();
	if (expect_fast)
		assert_null(X509_REQ_get0_pubkey(fast));
	else
		assert_non_null(X509_REQ_get0_pubkey(fast));
	ERR_pop_to_mark();
	assert_int_equal(pkid_csr_key(fast, &k, &e), PKID_OK);
	assert_int_equal(EVP_PKEY_eq(k, X509_REQ_get0_pubkey(ref)), 1);
	assert_int_equal(X509_REQ_verify(fast, k), 1);
	/* Nothing was re-encoded. */
	n = i2d_X509_REQ(fast, &again);
	assert_int_equal(n, (int)len);
	assert_memory_equal(again, der, len);
	OPENSSL_free(again);
	EVP_PKEY_free(k);
	X509_REQ_free(fast);
	X509_REQ_free(ref);
}

static void
csr_roundtrip(EVP_PKEY *key, int expect_fast)
{
	X509_REQ *r = tc_csr("csr.example", key, NULL, "pw");
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(r, &der);

	assert_true(n > 0);
	same_as_openssl(der, (size_t)n, expect_fast);
	OPENSSL_free(der);
	X509_REQ_free(r);
}

static void
test_ec_p256(void **state)
{
	EVP_PKEY *k = tc_key_ec("P-256");

	(void)state;
	csr_roundtrip(k, 1);
	EVP_PKEY_free(k);
}

static void
test_ec_p384_compressed(void **state)
{
	EVP_PKEY *k = tc_key_ec("P-384");

	(void)state;
	assert_int_equal(EVP_PKEY_set_utf8_string_param(k,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"), 1);
	csr_roundtrip(k, 1);
	EVP_PKEY_free(k);
}

static void
test_rsa(void **state)
{
	EVP_PKEY *k = tc_key_rsa(2048);

	(void)state;
	csr_roundtrip(k, 1);
	EVP_PKEY_free(k);
}

static void
test_ed25519_falls_back(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509_REQ *r;
	unsigned char *der = NULL;
	int n;

	(void)state;
	assert_non_null(k);
	r = X509_REQ_new();
	assert_non_null(r);
	assert_int_equal(X509_REQ_set_pubkey(r, k), 1);
	assert_true(X509_REQ_sign(r, k, NULL) > 0);
	n = i2d_X509_REQ(r, &der);
	assert_true(n > 0);
	same_as_openssl(der, (size_t)n, 0);
	OPENSSL_free(der);
	X509_REQ_free(r);
	EVP_PKEY_free(k);
}

/* A P-256 point moved off the curve: decoding succeeds (as OpenSSL's
 * does), the key does not, with csr-malformed. */
static void
test_point_off_curve(void **state)
{
	EVP_PKEY *k = tc_key_ec("P-256"), *out = NULL;
	X509_REQ *r = tc_csr("bad.example", k, NULL, NULL), *fast;
	unsigned char *der = NULL, *pt;
	const unsigned char *p;
	const unsigned char *pub;
	int n, publen;
	struct pkid_err e;

	(void)state;
	n = i2d_X509_REQ(r, &der);
	assert_true(n > 0);
	assert_int_equal(X509_PUBKEY_get0_param(NULL, &pub, &publen, NULL,
	    X509_REQ_get_X509_PUBKEY(r)), 1);
	assert_int_equal(publen, 65);
	pt = memmem(der, (size_t)n, pub, (size_t)publen);
	assert_non_null(pt);
	pt[64] ^= 0x01;		/* last byte of y */
	p = der;
	fast = pkid_csr_d2i(&p, n);
	assert_non_null(fast);
	pkid_err_clear(&e);
	assert_int_equal(pkid_csr_key(fast, &out, &e), PKID_E_CSR_MALFORMED);
	assert_null(out);
	ERR_clear_error();
	X509_REQ_free(fast);
	OPENSSL_free(der);
	X509_REQ_free(r);
	EVP_PKEY_free(k);
}

/* Every truncation of a valid request is refused, none crashes. */
static void
test_truncated(void **state)
{
	EVP_PKEY *k = tc_key_ec("P-256");
	X509_REQ *r = tc_csr("cut.example", k, NULL, NULL), *x;
	unsigned char *der = NULL;
	const unsigned char *p;
	int n, i;

	(void)state;
	n = i2d_X509_REQ(r, &der);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		p = der;
		x = pkid_csr_d2i(&p, i);
		assert_null(x);
	}
	ERR_clear_error();
	OPENSSL_free(der);
	X509_REQ_free(r);
	EVP_PKEY_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_p256),
		cmocka_unit_test(test_ec_p384_compressed),
		cmocka_unit_test(test_rsa),
		cmocka_unit_test(test_ed25519_falls_back),
		cmocka_unit_test(test_point_off_curve),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
