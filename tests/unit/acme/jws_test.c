/*
 * jws_test.c - the ACME JWS (src/acme/jws.c): base64url bounds and
 * alphabet, JWS made here with OpenSSL for each account key type (ES256,
 * ES384, RS256, EdDSA) parsed and verified, a changed byte refused, a key
 * of another type refused, the RFC 7638 thumbprint of RFC 7638 3.1's own
 * example, and malformed bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "acme/jws.h"
#include "core/limits.h"

static void
test_b64url(void **state)
{
	struct pkid_buf b;
	struct pkid_err e;
	char out[16];

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_b64url_decode("-_8", 3, &b, 16, &e), PKID_OK);
	assert_int_equal(b.len, 2);
	assert_int_equal(b.p[0], 0xfb);
	assert_int_equal(b.p[1], 0xff);
	pkid_buf_free(&b);
	assert_true(pkid_b64url_encode((const uint8_t *)"\xfb\xff", 2, out,
	    sizeof(out)));
	assert_string_equal(out, "-_8");
	/* Padding, the standard alphabet's + and /, a bad length. */
	assert_int_equal(pkid_b64url_decode("-_8=", 4, &b, 16, &e),
	    PKID_E_ACME_MALFORMED);
	pkid_buf_free(&b);
	assert_int_equal(pkid_b64url_decode("ab+/", 4, &b, 16, &e),
	    PKID_E_ACME_MALFORMED);
	pkid_buf_free(&b);
	assert_int_equal(pkid_b64url_decode("abcde", 5, &b, 16, &e),
	    PKID_E_ACME_MALFORMED);
	pkid_buf_free(&b);
	assert_int_equal(pkid_b64url_decode("ab\0d", 4, &b, 16, &e),
	    PKID_E_ACME_MALFORMED);
	pkid_buf_free(&b);
	/* The bound: 12 bytes fit in 12, not in 8. */
	assert_int_equal(pkid_b64url_decode("AAAAAAAAAAAAAAAA", 16, &b, 12,
	    &e), PKID_OK);
	assert_int_equal(b.len, 12);
	pkid_buf_free(&b);
	assert_int_equal(pkid_b64url_decode("AAAAAAAAAAAAAAAA", 16, &b, 8,
	    &e), PKID_E_ACME_MALFORMED);
	pkid_buf_free(&b);
	assert_false(pkid_b64url_encode((const uint8_t *)"abc", 3, out, 4));
}

static void
test_thumbprint_rfc7638(void **state)
{
	/* RFC 7638 3.1. */
	const char *jwk = "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZpt"
	    "N9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc"
	    "_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7"
	    "_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0"
	    "zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0"
	    "fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnq"
	    "DKgw\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
	json_t *j = json_loads(jwk, 0, NULL);
	struct pkid_err e;
	char t[48];

	(void)state;
	pkid_err_clear(&e);
	assert_non_null(j);
	assert_int_equal(pkid_jwk_thumbprint(j, t, &e), PKID_OK);
	assert_string_equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	json_decref(j);
}

static void
b64u_bn(const BIGNUM *bn, int len, char *out, size_t outlen)
{
	uint8_t b[512];

	assert_int_equal(BN_bn2binpad(bn, b, len), len);
	assert_true(pkid_b64url_encode(b, (size_t)len, out, outlen));
}

/* The public JWK of key, as a JSON text. */
static void
jwk_of(EVP_PKEY *key, char *out, size_t len)
{
	char x[700], y[700];
	BIGNUM *a = NULL, *b = NULL;
	uint8_t raw[32];
	size_t rl = sizeof(raw);
	int bits = EVP_PKEY_get_bits(key);

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		assert_true(EVP_PKEY_get_bn_param(key,
		    OSSL_PKEY_PARAM_EC_PUB_X, &a));
		assert_true(EVP_PKEY_get_bn_param(key,
		    OSSL_PKEY_PARAM_EC_PUB_Y, &b));
		b64u_bn(a, bits / 8, x, sizeof(x));
		b64u_bn(b, bits / 8, y, sizeof(y));
		snprintf(out, len, "{\"kty\":\"EC\",\"crv\":\"%s\","
		    "\"x\":\"%s\","
		    "\"y\":\"%s\"}", bits == 256 ? "P-256" : "P-384", x, y);
		break;
	case EVP_PKEY_RSA:
		assert_true(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N,
		    &a));
		assert_true(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E,
		    &b));
		b64u_bn(a, BN_num_bytes(a), x, sizeof(x));
		b64u_bn(b, BN_num_bytes(b), y, sizeof(y));
		snprintf(out, len, "{\"kty\":\"RSA\",\"n\":\"%s\","
		    "\"e\":\"%s\"}", x, y);
		break;
	default:
		assert_true(EVP_PKEY_get_raw_public_key(key, raw, &rl));
		assert_true(pkid_b64url_encode(raw, rl, x, sizeof(x)));
		snprintf(out, len, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
		    "\"x\":\"%s\"}", x);
	}
	BN_free(a);
	BN_free(b);
}

/* A flattened JWS of payload signed by key with alg. */
static char *
make_jws(EVP_PKEY *key, const char *alg, const char *payload)
{
	char jwk[2048], hdr[3000], ph[4096], pp[1024], sb[1024], *in, *out;
	const EVP_MD *md = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t sig[1024], raw[96];
	const uint8_t *sp = sig;
	size_t sl = sizeof(sig), half = 0, n;
	ECDSA_SIG *es;

	jwk_of(key, jwk, sizeof(jwk));
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"nonce\":\"n\","
	    "\"url\":\"https://h/acme/p/new-account\",\"jwk\":%s}", alg, jwk);
	assert_true(pkid_b64url_encode((const uint8_t *)hdr, strlen(hdr), ph,
	    sizeof(ph)));
	assert_true(pkid_b64url_encode((const uint8_t *)payload,
	    strlen(payload), pp, sizeof(pp)));
	in = malloc(strlen(ph) + strlen(pp) + 2);
	snprintf(in, strlen(ph) + strlen(pp) + 2, "%s.%s", ph, pp);
	if (strcmp(alg, "ES256") == 0 || strcmp(alg, "RS256") == 0)
		md = EVP_sha256();
	else if (strcmp(alg, "ES384") == 0)
		md = EVP_sha384();
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, key), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &sl, (uint8_t *)in,
	    strlen(in)), 1);
	if (alg[0] == 'E' && alg[1] == 'S') {
		half = strcmp(alg, "ES256") == 0 ? 32 : 48;
		assert_non_null(es = d2i_ECDSA_SIG(NULL, &sp, (long)sl));
		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)half);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + half, (int)half);
		ECDSA_SIG_free(es);
		memcpy(sig, raw, 2 * half);
		sl = 2 * half;
	}
	assert_true(pkid_b64url_encode(sig, sl, sb, sizeof(sb)));
	n = strlen(ph) + strlen(pp) + strlen(sb) + 64;
	out = malloc(n);
	snprintf(out, n, "{\"protected\":\"%s\",\"payload\":\"%s\","
	    "\"signature\":\"%s\"}", ph, pp, sb);
	free(in);
	EVP_MD_CTX_free(ctx);
	return out;
}

static void
roundtrip(EVP_PKEY *key, const char *alg, EVP_PKEY *other)
{
	struct pkid_jws j;
	struct pkid_err e;
	char *body = make_jws(key, alg, "{\"termsOfServiceAgreed\":true}");
	char *p;

	pkid_err_clear(&e);
	pkid_jws_init(&j);
	assert_int_equal(pkid_jws_parse((uint8_t *)body, strlen(body), &j,
	    &e), PKID_OK);
	assert_string_equal(j.alg, alg);
	assert_null(j.kid);
	assert_non_null(j.payload);
	assert_int_equal(pkid_jws_verify(&j, j.jwk_key, &e), PKID_OK);
	assert_int_equal(pkid_jws_verify(&j, key, &e), PKID_OK);
	/* A key of another type or curve is refused before verifying. */
	assert_int_not_equal(pkid_jws_verify(&j, other, &e), PKID_OK);
	pkid_jws_free(&j);
	/* One changed byte of the signing input. */
	p = strstr(body, "\"payload\":\"") + 11;
	*p = *p == 'e' ? 'f' : 'e';
	pkid_jws_init(&j);
	if (pkid_jws_parse((uint8_t *)body, strlen(body), &j, &e) == PKID_OK)
		assert_int_equal(pkid_jws_verify(&j, j.jwk_key, &e),
		    PKID_E_ACME_UNAUTHORIZED);
	pkid_jws_free(&j);
	free(body);
}

static void
test_algs(void **state)
{
	EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	(void)state;
	assert_non_null(p256);
	assert_non_null(p384);
	assert_non_null(rsa);
	assert_non_null(ed);
	roundtrip(p256, "ES256", p384);
	roundtrip(p384, "ES384", p256);
	roundtrip(rsa, "RS256", ed);
	roundtrip(ed, "EdDSA", rsa);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
}

static void
expect_malformed(const char *body)
{
	struct pkid_jws j;
	struct pkid_err e;

	pkid_err_clear(&e);
	pkid_jws_init(&j);
	assert_int_equal(pkid_jws_parse((const uint8_t *)body, strlen(body),
	    &j, &e), PKID_E_ACME_MALFORMED);
	pkid_jws_free(&j);
}

static void
test_malformed(void **state)
{
	/* {"alg":"none","nonce":"n","url":"u","kid":"k"} */
	const char *none = "eyJhbGciOiJub25lIiwibm9uY2UiOiJuIiwidXJsIjoidSIs"
	    "ImtpZCI6ImsifQ";
	/* {"alg":"ES256","nonce":"n","url":"u"}: neither jwk nor kid */
	const char *nokey = "eyJhbGciOiJFUzI1NiIsIm5vbmNlIjoibiIsInVybCI6In"
	    "UifQ";
	/* {"alg":"ES256","nonce":"n","url":"u","kid":"k"} */
	const char *kid = "eyJhbGciOiJFUzI1NiIsIm5vbmNlIjoibiIsInVybCI6InUi"
	    "LCJraWQiOiJrIn0";
	char b[512];
	struct pkid_jws j;
	struct pkid_err e;

	(void)state;
	expect_malformed("");
	expect_malformed("[]");
	expect_malformed("{\"protected\":\"\",\"payload\":\"\"}");
	expect_malformed("{\"protected\":1,\"payload\":\"\","
	    "\"signature\":\"AA\"}");
	snprintf(b, sizeof(b), "{\"protected\":\"%s\",\"payload\":\"\","
	    "\"signature\":\"AA\"}", none);
	expect_malformed(b);
	snprintf(b, sizeof(b), "{\"protected\":\"%s\",\"payload\":\"\","
	    "\"signature\":\"AA\"}", nokey);
	expect_malformed(b);
	snprintf(b, sizeof(b), "{\"protected\":\"%s\",\"payload\":\"\","
	    "\"signature\":\"AA\",\"extra\":1}", kid);
	expect_malformed(b);
	snprintf(b, sizeof(b), "{\"protected\":\"%s\",\"payload\":\"\","
	    "\"signature\":\"\"}", kid);
	expect_malformed(b);
	/* Duplicate members are refused. */
	snprintf(b, sizeof(b), "{\"protected\":\"%s\",\"payload\":\"\","
	    "\"payload\":\"\",\"signature\":\"AA\"}", kid);
	expect_malformed(b);
	/* A good kid request (POST-as-GET: no payload). */
	snprintf(b, sizeof(b), "{\"protected\":\"%s\",\"payload\":\"\","
	    "\"signature\":\"AA\"}", kid);
	pkid_err_clear(&e);
	pkid_jws_init(&j);
	assert_int_equal(pkid_jws_parse((uint8_t *)b, strlen(b), &j, &e),
	    PKID_OK);
	assert_string_equal(j.kid, "k");
	assert_null(j.payload);
	assert_null(j.jwk_key);
	pkid_jws_free(&j);
	/* Over the size limit. */
	{
		size_t n = PKID_ACME_MAX_JWS + 1;
		char *big = malloc(n + 1);

		memset(big, ' ', n);
		big[n] = '\0';
		expect_malformed(big);
		free(big);
	}
}

static void
test_bad_jwk(void **state)
{
	const char *bad[] = {
		"{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}",
		"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}",
		/* 32 zero bytes each: not a point on P-256. */
		"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAA"
		"AAAAAAAAAAAAAAAAAAAAAAA\",\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		"AAAAAAAAAAAAAAA\"}",
		"{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
		"{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"}",
		"{\"kty\":\"oct\",\"k\":\"AA\"}",
		"{\"crv\":\"P-256\"}",
	};
	struct pkid_err e;
	EVP_PKEY *k;
	json_t *j;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pkid_err_clear(&e);
		assert_non_null(j = json_loads(bad[i], 0, NULL));
		if (pkid_jwk_key(j, &k, &e) != PKID_E_ACME_MALFORMED)
			fail_msg("accepted %s", bad[i]);
		assert_null(k);
		json_decref(j);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_thumbprint_rfc7638),
		cmocka_unit_test(test_algs),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bad_jwk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
