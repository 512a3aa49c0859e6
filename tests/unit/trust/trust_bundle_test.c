/*
 * trust_bundle_test.c - signed trust bundles (src/trust/bundle.c,
 * bundle_open.c): the round trip, then the hostile cases: truncated at
 * every length, trailing bytes, bytes flipped, the wrong anchor, signers
 * whose extendedKeyUsage excludes bundle signing, an expired signer,
 * another PKCS#7, the size limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/limits.h"
#include "testcerts.h"
#include "trust/bundle.h"
#include "x509/load.h"

#define EKU_OID "2.25.80242047988126964477632393078058325639.2"
#define AT (TC_T2030 + TC_DAY)

/* Made once for the whole file. */
struct fx {
	EVP_PKEY *akey, *skey, *okey;	/* anchor, signer, other anchor */
	EVP_PKEY *k1, *k2;		/* the content CAs' keys */
	X509 *anchor;			/* pinned anchor */
	X509 *signer;			/* bundle signer under it */
	X509 *other;			/* an anchor of someone else */
	X509 *ca1, *ca2;		/* content: two CAs, one name */
	STACK_OF(X509) *pinned;		/* { anchor } */
	STACK_OF(X509) *content;	/* { ca1, ca2 } */
	struct pkid_buf good;		/* a bundle of content, serial 42 */
};

static struct fx fx;

static X509 *
redecoded(X509 *x)
{
	struct pkid_err e;

	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_redecode(&x, &e), PKID_OK);
	return x;
}

/* A signer under the anchor with extensions exts (NULL-terminated)
 * and an authorityKeyIdentifier (RFC 5280 4.2.1.1). */
static X509 *
signer_with(const char *const *exts, time_t na)
{
	const char *all[16];
	size_t n = 0;

	while (exts[n] != NULL && n < 12) {
		all[n] = exts[n];
		n++;
	}
	all[n++] = "authorityKeyIdentifier";
	all[n++] = "keyid:always";
	all[n] = NULL;
	return redecoded(tc_cert("Bundle Signer", fx.skey, fx.anchor,
	    fx.akey, 7, TC_T2030, na, all));
}

static int
setup(void **state)
{
	static const char *const ca[] = { TC_CA_EXTS, NULL };
	static const char *const sig[] = { "basicConstraints",
	    "critical,CA:FALSE", "keyUsage", "critical,digitalSignature",
	    "extendedKeyUsage", EKU_OID, NULL };
	struct pkid_err e;

	(void)state;
	fx.akey = tc_key_ec("P-256");
	fx.skey = tc_key_ec("P-256");
	fx.okey = tc_key_ec("P-256");
	fx.anchor = redecoded(tc_cert("Anchor", fx.akey, NULL, NULL, 1,
	    TC_T2030, TC_T2030 + 3650 * TC_DAY, ca));
	fx.other = redecoded(tc_cert("Anchor", fx.okey, NULL, NULL, 2,
	    TC_T2030, TC_T2030 + 3650 * TC_DAY, ca));
	fx.signer = signer_with(sig, TC_T2030 + 365 * TC_DAY);
	fx.k1 = tc_key_ec("P-256");
	fx.k2 = tc_key_ec("P-256");
	fx.ca1 = redecoded(tc_cert("Same Root", fx.k1, NULL, NULL, 3,
	    TC_T2030, TC_T2030 + 3650 * TC_DAY, ca));
	fx.ca2 = redecoded(tc_cert("Same Root", fx.k2, NULL, NULL, 4,
	    TC_T2030, TC_T2030 + 3650 * TC_DAY, ca));
	fx.pinned = sk_X509_new_null();
	fx.content = sk_X509_new_null();
	sk_X509_push(fx.pinned, fx.anchor);
	sk_X509_push(fx.content, fx.ca1);
	sk_X509_push(fx.content, fx.ca2);
	pkid_err_clear(&e);
	assert_int_equal(pkid_trust_bundle_make(fx.content, fx.signer, fx.skey,
	    NULL, 42, TC_T2030 + 3600, &fx.good, &e), PKID_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sk_X509_free(fx.pinned);
	sk_X509_free(fx.content);
	X509_free(fx.anchor);
	X509_free(fx.other);
	X509_free(fx.signer);
	X509_free(fx.ca1);
	X509_free(fx.ca2);
	EVP_PKEY_free(fx.akey);
	EVP_PKEY_free(fx.skey);
	EVP_PKEY_free(fx.okey);
	EVP_PKEY_free(fx.k1);
	EVP_PKEY_free(fx.k2);
	pkid_buf_free(&fx.good);
	return 0;
}

static enum pkid_code
open_code(const uint8_t *p, size_t len, STACK_OF(X509) *pin)
{
	struct pkid_trust_bundle *b = NULL;
	struct pkid_err e;
	enum pkid_code rc;

	pkid_err_clear(&e);
	rc = pkid_trust_bundle_open(p, len, pin, AT, &b, &e);
	assert_int_equal(rc, e.code);
	if (rc == PKID_OK)
		assert_non_null(b);
	else
		assert_null(b);
	pkid_trust_bundle_free(b);
	return rc;
}

static void
test_round_trip(void **state)
{
	struct pkid_trust_bundle *b = NULL;
	struct pkid_err e;
	char fp[65], want[65];

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_trust_bundle_open(fx.good.p, fx.good.len,
	    fx.pinned, AT, &b, &e), PKID_OK);
	assert_int_equal(b->serial, 42);
	assert_int_equal(b->signing_time, TC_T2030 + 3600);
	assert_true(b->authenticated);
	assert_int_equal(sk_X509_num(b->anchors), 2);
	assert_int_equal(X509_cmp(sk_X509_value(b->anchors, 0), fx.ca1), 0);
	assert_int_equal(X509_cmp(sk_X509_value(b->anchors, 1), fx.ca2), 0);
	pkid_x509_fingerprint(b->pinned, fp);
	pkid_x509_fingerprint(fx.anchor, want);
	assert_string_equal(fp, want);
	assert_string_equal(b->signer_subject, "CN=Bundle Signer,O=pkid test");
	assert_int_equal(pkid_trust_content_sha256(fx.content, want, &e),
	    PKID_OK);
	assert_string_equal(b->content_sha256, want);
	pkid_trust_bundle_free(b);
	/* Without anchors: the signature holds, nothing vouches. */
	assert_int_equal(pkid_trust_bundle_open(fx.good.p, fx.good.len, NULL,
	    AT, &b, &e), PKID_OK);
	assert_false(b->authenticated);
	assert_null(b->pinned);
	pkid_trust_bundle_free(b);
}

static void
test_truncated_every_length(void **state)
{
	size_t n;

	(void)state;
	for (n = 0; n < fx.good.len; n++) {
		enum pkid_code rc = open_code(fx.good.p, n, fx.pinned);

		assert_true(rc == PKID_E_BUNDLE_MALFORMED);
	}
}

static void
test_trailing_and_flipped(void **state)
{
	uint8_t *p = malloc(fx.good.len + 1);
	size_t i;

	(void)state;
	assert_non_null(p);
	memcpy(p, fx.good.p, fx.good.len);
	p[fx.good.len] = 0;
	assert_int_equal(open_code(p, fx.good.len + 1, fx.pinned),
	    PKID_E_BUNDLE_MALFORMED);
	/* Flip one bit in many places: refused, or (a field no signature
	 * covers, e.g. the SignedData version) accepted with exactly the
	 * signed serial and content. */
	for (i = 0; i < fx.good.len; i += 3) {
		struct pkid_trust_bundle *b = NULL;
		struct pkid_err e;
		enum pkid_code rc;

		memcpy(p, fx.good.p, fx.good.len);
		p[i] ^= 0x01;
		pkid_err_clear(&e);
		rc = pkid_trust_bundle_open(p, fx.good.len, fx.pinned, AT, &b,
		    &e);
		assert_true(rc == PKID_E_BUNDLE_MALFORMED ||
		    rc == PKID_E_BUNDLE_BAD_SIGNATURE ||
		    rc == PKID_E_BUNDLE_SIGNER_UNTRUSTED ||
		    rc == PKID_E_BUNDLE_SIGNER_EKU ||
		    rc == PKID_E_NOT_YET_VALID || rc == PKID_E_EXPIRED ||
		    rc == PKID_OK);
		if (rc == PKID_OK) {
			assert_int_equal(b->serial, 42);
			assert_int_equal(sk_X509_num(b->anchors), 2);
			assert_int_equal(X509_cmp(sk_X509_value(b->anchors, 0),
			    fx.ca1), 0);
		}
		pkid_trust_bundle_free(b);
	}
	free(p);
}

static void
test_wrong_anchor(void **state)
{
	STACK_OF(X509) *pin = sk_X509_new_null();

	(void)state;
	sk_X509_push(pin, fx.other);
	assert_int_equal(open_code(fx.good.p, fx.good.len, pin),
	    PKID_E_BUNDLE_SIGNER_UNTRUSTED);
	sk_X509_free(pin);
}

/* A bundle by a signer with exts, opened against the anchor. */
static enum pkid_code
signer_case(const char *const *exts, time_t na, time_t at)
{
	struct pkid_trust_bundle *b = NULL;
	struct pkid_buf der;
	struct pkid_err e;
	X509 *s = signer_with(exts, na);
	enum pkid_code rc;

	pkid_err_clear(&e);
	assert_int_equal(pkid_trust_bundle_make(fx.content, s, fx.skey, NULL,
	    1, TC_T2030, &der, &e), PKID_OK);
	pkid_err_clear(&e);
	rc = pkid_trust_bundle_open(der.p, der.len, fx.pinned, at, &b, &e);
	pkid_trust_bundle_free(b);
	pkid_buf_free(&der);
	X509_free(s);
	return rc;
}

static void
test_signer_rules(void **state)
{
	static const char *const tls[] = { "extendedKeyUsage", "serverAuth",
	    NULL };
	static const char *const any[] = { "extendedKeyUsage",
	    "anyExtendedKeyUsage,serverAuth", NULL };
	static const char *const none[] = { "basicConstraints", "CA:FALSE",
	    NULL };
	static const char *const ku[] = { "keyUsage", "keyEncipherment",
	    NULL };
	time_t na = TC_T2030 + 30 * TC_DAY;

	(void)state;
	assert_int_equal(signer_case(tls, na, AT), PKID_E_BUNDLE_SIGNER_EKU);
	assert_int_equal(signer_case(any, na, AT), PKID_OK);
	assert_int_equal(signer_case(none, na, AT), PKID_OK);
	assert_int_equal(signer_case(ku, na, AT), PKID_E_BUNDLE_SIGNER_EKU);
	assert_int_equal(signer_case(none, na, na + TC_DAY), PKID_E_EXPIRED);
}

static void
test_not_a_bundle(void **state)
{
	X509 *certs[1];
	unsigned char *p7;
	size_t len;
	uint8_t *big;
	struct pkid_buf der;
	struct pkid_err e;

	(void)state;
	certs[0] = fx.ca1;
	p7 = tc_p7_der(certs, 1, NULL, &len);
	assert_int_equal(open_code(p7, len, fx.pinned),
	    PKID_E_BUNDLE_MALFORMED);
	OPENSSL_free(p7);
	big = calloc(1, PKID_TRUST_MAX_BUNDLE_SIZE + 1);
	assert_non_null(big);
	assert_int_equal(open_code(big, PKID_TRUST_MAX_BUNDLE_SIZE + 1,
	    fx.pinned), PKID_E_TOO_LARGE);
	free(big);
	assert_int_equal(open_code((const uint8_t *)"", 0, fx.pinned),
	    PKID_E_BUNDLE_MALFORMED);
	/* The builder's own bounds. */
	pkid_err_clear(&e);
	assert_int_equal(pkid_trust_bundle_make(fx.content, fx.signer,
	    fx.skey, NULL, -1, TC_T2030, &der, &e), PKID_E_USAGE);
	pkid_buf_free(&der);
	pkid_err_clear(&e);
	assert_int_equal(pkid_trust_bundle_make(fx.content, fx.signer,
	    fx.akey, NULL, 1, TC_T2030, &der, &e), PKID_E_KEY_MISMATCH);
	pkid_buf_free(&der);
}

static void
test_is_ca(void **state)
{
	static const char *const leaf[] = { "basicConstraints",
	    "critical,CA:FALSE", NULL };
	X509 *x;

	(void)state;
	assert_true(pkid_trust_is_ca(fx.anchor));
	assert_false(pkid_trust_is_ca(fx.signer));
	x = tc_cert("leaf", fx.skey, fx.anchor, fx.akey, 9, TC_T2030,
	    TC_T2030 + TC_DAY, leaf);
	assert_false(pkid_trust_is_ca(x));
	X509_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_every_length),
		cmocka_unit_test(test_trailing_and_flipped),
		cmocka_unit_test(test_wrong_anchor),
		cmocka_unit_test(test_signer_rules),
		cmocka_unit_test(test_not_a_bundle),
		cmocka_unit_test(test_is_ca),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
