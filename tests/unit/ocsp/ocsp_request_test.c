/*
 * ocsp_request_test.c - OCSP requests from the network (src/ocsp/
 * request.c): a good request with and without a nonce, every truncation,
 * trailing bytes, too many CertIDs, nonces out of RFC 8954's bounds, and
 * the GET path's base64 (RFC 6960 A.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "core/limits.h"
#include "ocsp/ocsp.h"

/* A request for n serials of a made-up issuer, with a nonce of
 * nonce_len octets (0: none); DER into *der (OPENSSL_free). */
static int
make_req(int n, int nonce_len, unsigned char **der)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	X509_NAME *name = X509_NAME_new();
	ASN1_BIT_STRING *key = ASN1_BIT_STRING_new();
	unsigned char k[65], nonce[64];
	int i, len;

	assert_non_null(req);
	memset(k, 4, sizeof(k));
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"Test CA", -1, -1, 0));
	assert_true(ASN1_BIT_STRING_set(key, k, sizeof(k)));
	for (i = 0; i < n; i++) {
		ASN1_INTEGER *sn = ASN1_INTEGER_new();
		OCSP_CERTID *id;

		ASN1_INTEGER_set(sn, 1000 + i);
		id = OCSP_cert_id_new(EVP_sha1(), name, key, sn);
		assert_non_null(id);
		assert_non_null(OCSP_request_add0_id(req, id));
		ASN1_INTEGER_free(sn);
	}
	if (nonce_len > 0) {
		memset(nonce, 7, sizeof(nonce));
		assert_true(OCSP_request_add1_nonce(req, nonce, nonce_len));
	}
	*der = NULL;
	len = i2d_OCSP_REQUEST(req, der);
	assert_true(len > 0);
	OCSP_REQUEST_free(req);
	X509_NAME_free(name);
	ASN1_BIT_STRING_free(key);
	return len;
}

static enum pkid_code
parse(const unsigned char *der, size_t len)
{
	OCSP_REQUEST *r = NULL;
	struct pkid_err e;
	enum pkid_code rc;

	pkid_err_clear(&e);
	rc = pkid_ocsp_request_parse(der, len, &r, &e);
	assert_true((rc == PKID_OK) == (r != NULL));
	assert_int_equal(e.code, rc);
	OCSP_REQUEST_free(r);
	return rc;
}

static void
test_good(void **state)
{
	unsigned char *der;
	int len;

	(void)state;
	len = make_req(1, 0, &der);
	assert_int_equal(parse(der, (size_t)len), PKID_OK);
	OPENSSL_free(der);
	len = make_req(PKID_OCSP_MAX_IDS, 16, &der);
	assert_int_equal(parse(der, (size_t)len), PKID_OK);
	OPENSSL_free(der);
	len = make_req(1, PKID_OCSP_MAX_NONCE, &der);
	assert_int_equal(parse(der, (size_t)len), PKID_OK);
	OPENSSL_free(der);
}

static void
test_truncated_and_trailing(void **state)
{
	unsigned char *der, *more;
	int len, i;

	(void)state;
	len = make_req(2, 16, &der);
	/* Every prefix is refused: malformedRequest, never a crash. */
	for (i = 0; i < len; i++)
		assert_int_equal(parse(der, (size_t)i),
		    PKID_E_OCSP_MALFORMED);
	more = malloc((size_t)len + 1);
	assert_non_null(more);
	memcpy(more, der, (size_t)len);
	more[len] = 0;
	assert_int_equal(parse(more, (size_t)len + 1), PKID_E_OCSP_MALFORMED);
	/* One flipped byte in the outer length. */
	more[1] ^= 0x01;
	assert_int_equal(parse(more, (size_t)len), PKID_E_OCSP_MALFORMED);
	free(more);
	OPENSSL_free(der);
}

static void
test_limits(void **state)
{
	unsigned char *der;
	unsigned char big[PKID_OCSP_MAX_REQUEST + 1];
	int len;

	(void)state;
	len = make_req(PKID_OCSP_MAX_IDS + 1, 0, &der);
	assert_int_equal(parse(der, (size_t)len), PKID_E_OCSP_MALFORMED);
	OPENSSL_free(der);
	len = make_req(1, PKID_OCSP_MAX_NONCE + 1, &der);
	assert_int_equal(parse(der, (size_t)len), PKID_E_OCSP_MALFORMED);
	OPENSSL_free(der);
	memset(big, 0x30, sizeof(big));
	assert_int_equal(parse(big, sizeof(big)), PKID_E_OCSP_MALFORMED);
	assert_int_equal(parse(NULL, 0), PKID_E_OCSP_MALFORMED);
}

static enum pkid_code
from_path(const char *p)
{
	OCSP_REQUEST *r = NULL;
	struct pkid_err e;
	enum pkid_code rc;

	pkid_err_clear(&e);
	rc = pkid_ocsp_request_from_path(p, &r, &e);
	assert_true((rc == PKID_OK) == (r != NULL));
	OCSP_REQUEST_free(r);
	return rc;
}

static void
test_get_path(void **state)
{
	unsigned char *der;
	char b64[1024], bad[1024];
	int len;

	(void)state;
	len = make_req(1, 0, &der);
	assert_true(EVP_EncodeBlock((unsigned char *)b64, der, len) > 0);
	OPENSSL_free(der);
	assert_int_equal(from_path(b64), PKID_OK);
	assert_int_equal(from_path(""), PKID_E_OCSP_MALFORMED);
	assert_int_equal(from_path("!!!!"), PKID_E_OCSP_MALFORMED);
	/* A '+' a proxy turned into a space. */
	memcpy(bad, b64, strlen(b64) + 1);
	bad[4] = ' ';
	assert_int_equal(from_path(bad), PKID_E_OCSP_MALFORMED);
	/* Truncated base64. */
	memcpy(bad, b64, strlen(b64) + 1);
	bad[strlen(bad) - 6] = '\0';
	assert_int_equal(from_path(bad), PKID_E_OCSP_MALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_get_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
