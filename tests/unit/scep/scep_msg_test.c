/*
 * scep_msg_test.c - SCEP pkiMessages without a network (scep/msg.h): build and
 * parse round trips of PKCSReq and CertRep, envelopes, the algorithm
 * switch, wrong recipients, corrupted signatures, every truncation,
 * trailing bytes, and the small ASN.1 bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scep/msg.h"
#include "testcerts.h"

/* Made once for the whole file. */
struct fx {
	EVP_PKEY *ra_key;	/* RSA-2048: the server's */
	X509 *ra;		/* self-signed */
	EVP_PKEY *dev_key;	/* RSA-2048: the client's */
	X509 *dev;		/* self-signed, as SCEP clients make */
	EVP_PKEY *other_key;	/* RSA-2048: someone else */
	X509 *other;		/* self-signed */
	X509_REQ *csr;		/* for dev_key, with a challenge */
};

static struct fx F;

static const uint8_t nonce[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    13, 14, 15, 16 };

static int
setup(void **state)
{
	const char *const ra_ext[] = { "keyUsage",
	    "critical,digitalSignature,keyEncipherment", NULL };

	(void)state;
	F.ra_key = tc_key_rsa(2048);
	F.ra = tc_cert("Test SCEP RA", F.ra_key, NULL, NULL, 7, TC_T2030 -
	    TC_DAY, TC_T2030 + 365 * TC_DAY, ra_ext);
	F.dev_key = tc_key_rsa(2048);
	F.dev = tc_cert("dev1", F.dev_key, NULL, NULL, 9, TC_T2030 - TC_DAY,
	    TC_T2030 + TC_DAY, NULL);
	F.other_key = tc_key_rsa(2048);
	F.other = tc_cert("other", F.other_key, NULL, NULL, 11, TC_T2030 -
	    TC_DAY, TC_T2030 + TC_DAY, NULL);
	F.csr = tc_csr("dev1", F.dev_key, NULL, "secret");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(F.ra_key);
	EVP_PKEY_free(F.dev_key);
	EVP_PKEY_free(F.other_key);
	X509_free(F.ra);
	X509_free(F.dev);
	X509_free(F.other);
	X509_REQ_free(F.csr);
	return 0;
}

/* A PKCSReq from dev to recipient with cipher and md, into out. */
static void
make_req(X509 *recipient, const EVP_CIPHER *cipher, const EVP_MD *md,
    int type, struct pkid_buf *out)
{
	struct pkid_scep_out o;
	struct pkid_err e;
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(F.csr, &der);

	assert_true(n > 0);
	pkid_err_clear(&e);
	memset(&o, 0, sizeof(o));
	o.type = type;
	o.tid = "0123456789abcdef";
	o.snonce = nonce;
	o.snonce_len = sizeof(nonce);
	o.status = -1;
	o.fail_info = -1;
	o.signer = F.dev;
	o.key = F.dev_key;
	o.md = md;
	o.inner = der;
	o.inner_len = (size_t)n;
	o.recipient = recipient;
	o.cipher = cipher;
	assert_int_equal(pkid_scep_msg_build(&o, out, &e), PKID_OK);
	OPENSSL_free(der);
}

static void
test_pkcsreq_round_trip(void **state)
{
	struct pkid_scep_msg m;
	struct pkid_buf req, inner;
	struct pkid_err e;
	enum pkid_scep_fail f;
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(F.csr, &der), nid;

	(void)state;
	pkid_err_clear(&e);
	pkid_scep_msg_init(&m);
	make_req(F.ra, EVP_aes_256_cbc(), EVP_sha256(), PKID_SCEP_PKCSREQ,
	    &req);
	assert_int_equal(pkid_scep_msg_parse(req.p, req.len, 0, &m, &e),
	    PKID_OK);
	assert_int_equal(m.type, PKID_SCEP_PKCSREQ);
	assert_string_equal(m.tid, "0123456789abcdef");
	assert_int_equal(m.snonce_len, 16);
	assert_memory_equal(m.snonce, nonce, 16);
	assert_int_equal(m.rnonce_len, 0);
	assert_int_equal(m.md_nid, NID_sha256);
	assert_true(m.can_reply);
	assert_int_equal(X509_cmp(m.signer, F.dev), 0);
	assert_int_equal(pkid_scep_envelope_open(m.content.p, m.content.len,
	    F.ra, F.ra_key, 0, &inner, &nid, &f, &e), PKID_OK);
	assert_int_equal(nid, NID_aes_256_cbc);
	assert_int_equal(f, PKID_SCEP_FAIL_NONE);
	assert_int_equal(inner.len, (size_t)n);
	assert_memory_equal(inner.p, der, (size_t)n);
	pkid_buf_free(&inner);
	pkid_buf_free(&req);
	pkid_scep_msg_free(&m);
	OPENSSL_free(der);
}

static void
test_certrep_round_trip(void **state)
{
	struct pkid_scep_out o;
	struct pkid_scep_msg m;
	struct pkid_buf inner, rep, got;
	struct pkid_err e;
	STACK_OF(X509) *certs = sk_X509_new_null();
	enum pkid_scep_fail f;
	const unsigned char *q;
	PKCS7 *p7;
	int nid;

	(void)state;
	pkid_err_clear(&e);
	pkid_scep_msg_init(&m);
	sk_X509_push(certs, F.other);
	assert_int_equal(pkid_scep_certs_only(certs, NULL, &inner, &e),
	    PKID_OK);
	memset(&o, 0, sizeof(o));
	o.type = PKID_SCEP_CERTREP;
	o.tid = "t1";
	o.snonce = nonce;
	o.snonce_len = 16;
	o.rnonce = nonce + 8;
	o.rnonce_len = 8;
	o.status = PKID_SCEP_SUCCESS;
	o.fail_info = -1;
	o.signer = F.ra;
	o.key = F.ra_key;
	o.md = EVP_sha256();
	o.inner = inner.p;
	o.inner_len = inner.len;
	o.recipient = F.dev;
	o.cipher = EVP_aes_128_cbc();
	assert_int_equal(pkid_scep_msg_build(&o, &rep, &e), PKID_OK);
	assert_int_equal(pkid_scep_msg_parse(rep.p, rep.len, 0, &m, &e),
	    PKID_OK);
	assert_int_equal(m.type, PKID_SCEP_CERTREP);
	assert_int_equal(m.status, PKID_SCEP_SUCCESS);
	assert_int_equal(m.fail_info, -1);
	assert_int_equal(m.rnonce_len, 8);
	assert_memory_equal(m.rnonce, nonce + 8, 8);
	assert_int_equal(pkid_scep_envelope_open(m.content.p, m.content.len,
	    F.dev, F.dev_key, 0, &got, &nid, &f, &e), PKID_OK);
	assert_int_equal(nid, NID_aes_128_cbc);
	q = got.p;
	p7 = d2i_PKCS7(NULL, &q, (long)got.len);
	assert_non_null(p7);
	assert_true(PKCS7_type_is_signed(p7));
	assert_int_equal(sk_X509_num(p7->d.sign->cert), 1);
	assert_int_equal(X509_cmp(sk_X509_value(p7->d.sign->cert, 0),
	    F.other), 0);
	assert_int_equal(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info),
	    0);
	PKCS7_free(p7);
	sk_X509_free(certs);
	pkid_buf_free(&got);
	pkid_buf_free(&inner);
	pkid_buf_free(&rep);
	pkid_scep_msg_free(&m);
}

/* FAILURE and PENDING carry no envelope; the signature still verifies. */
static void
test_failure_without_content(void **state)
{
	struct pkid_scep_out o;
	struct pkid_scep_msg m;
	struct pkid_buf rep;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	pkid_scep_msg_init(&m);
	memset(&o, 0, sizeof(o));
	o.type = PKID_SCEP_CERTREP;
	o.tid = "t2";
	o.snonce = nonce;
	o.snonce_len = 16;
	o.status = PKID_SCEP_FAILURE;
	o.fail_info = PKID_SCEP_BADCERTID;
	o.signer = F.ra;
	o.key = F.ra_key;
	o.md = EVP_sha512();
	assert_int_equal(pkid_scep_msg_build(&o, &rep, &e), PKID_OK);
	assert_int_equal(pkid_scep_msg_parse(rep.p, rep.len, 0, &m, &e),
	    PKID_OK);
	assert_int_equal(m.status, PKID_SCEP_FAILURE);
	assert_int_equal(m.fail_info, PKID_SCEP_BADCERTID);
	assert_int_equal(m.md_nid, NID_sha512);
	assert_int_equal(m.content.len, 0);
	assert_string_equal(pkid_scep_fail_name(m.fail_info), "badCertId");
	pkid_buf_free(&rep);
	pkid_scep_msg_free(&m);
}

/* DES3 and SHA-1 only with compat; the failure says badAlg. */
static void
test_algorithms_need_compat(void **state)
{
	struct pkid_scep_msg m;
	struct pkid_buf req, inner;
	struct pkid_err e;
	enum pkid_scep_fail f;
	int nid;

	(void)state;
	pkid_err_clear(&e);
	pkid_scep_msg_init(&m);
	make_req(F.ra, EVP_des_ede3_cbc(), EVP_sha1(), PKID_SCEP_PKCSREQ,
	    &req);
	assert_int_equal(pkid_scep_msg_parse(req.p, req.len, 0, &m, &e),
	    PKID_E_SCEP_BAD_ALG);
	assert_true(m.can_reply);
	assert_int_equal(m.fail, PKID_SCEP_BADALG);
	pkid_err_clear(&e);
	assert_int_equal(pkid_scep_msg_parse(req.p, req.len, 1, &m, &e),
	    PKID_OK);
	assert_int_equal(pkid_scep_envelope_open(m.content.p, m.content.len,
	    F.ra, F.ra_key, 0, &inner, &nid, &f, &e), PKID_E_SCEP_BAD_ALG);
	assert_int_equal(f, PKID_SCEP_BADALG);
	assert_int_equal(nid, NID_des_ede3_cbc);
	pkid_err_clear(&e);
	assert_int_equal(pkid_scep_envelope_open(m.content.p, m.content.len,
	    F.ra, F.ra_key, 1, &inner, &nid, &f, &e), PKID_OK);
	pkid_buf_free(&inner);
	pkid_buf_free(&req);
	pkid_scep_msg_free(&m);
}

static void
test_wrong_recipient(void **state)
{
	struct pkid_scep_msg m;
	struct pkid_buf req, inner;
	struct pkid_err e;
	enum pkid_scep_fail f;
	int nid;

	(void)state;
	pkid_err_clear(&e);
	pkid_scep_msg_init(&m);
	make_req(F.other, EVP_aes_128_cbc(), EVP_sha256(), PKID_SCEP_PKCSREQ,
	    &req);
	assert_int_equal(pkid_scep_msg_parse(req.p, req.len, 0, &m, &e),
	    PKID_OK);
	assert_int_equal(pkid_scep_envelope_open(m.content.p, m.content.len,
	    F.ra, F.ra_key, 0, &inner, &nid, &f, &e),
	    PKID_E_SCEP_WRONG_RECIPIENT);
	assert_int_equal(f, PKID_SCEP_BADMESSAGECHECK);
	assert_int_equal(inner.len, 0);
	pkid_buf_free(&req);
	pkid_scep_msg_free(&m);
}

/* The signature is the last field of the DER: flip its last byte. */
static void
test_bad_signature(void **state)
{
	struct pkid_scep_msg m;
	struct pkid_buf req;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	pkid_scep_msg_init(&m);
	make_req(F.ra, EVP_aes_128_cbc(), EVP_sha256(), PKID_SCEP_PKCSREQ,
	    &req);
	req.p[req.len - 1] ^= 0x01;
	assert_int_equal(pkid_scep_msg_parse(req.p, req.len, 0, &m, &e),
	    PKID_E_SCEP_BAD_SIGNATURE);
	assert_true(m.can_reply);
	assert_int_equal(m.fail, PKID_SCEP_BADMESSAGECHECK);
	pkid_buf_free(&req);
	pkid_scep_msg_free(&m);
}

/* Every truncation fails cleanly; trailing bytes are refused. */
static void
test_truncated_and_trailing(void **state)
{
	struct pkid_scep_msg m;
	struct pkid_buf req;
	struct pkid_err e;
	size_t i;

	(void)state;
	pkid_scep_msg_init(&m);
	make_req(F.ra, EVP_aes_128_cbc(), EVP_sha256(), PKID_SCEP_PKCSREQ,
	    &req);
	for (i = 0; i < req.len; i++) {
		pkid_err_clear(&e);
		assert_int_not_equal(pkid_scep_msg_parse(req.p, i, 0, &m, &e),
		    PKID_OK);
		assert_false(m.can_reply);
	}
	pkid_err_clear(&e);
	assert_int_equal(pkid_buf_append(&req, "\0", 1, &e), PKID_OK);
	assert_int_equal(pkid_scep_msg_parse(req.p, req.len, 0, &m, &e),
	    PKID_E_TRAILING_DATA);
	pkid_buf_free(&req);
	pkid_scep_msg_free(&m);
}

static void
test_issuer_and_subject(void **state)
{
	struct pkid_buf b;
	struct pkid_err e;
	X509_NAME *iss = NULL, *subj = NULL;
	ASN1_INTEGER *sn = NULL;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_scep_iasubj_encode(X509_get_subject_name(F.ra),
	    X509_get_subject_name(F.dev), &b, &e), PKID_OK);
	assert_int_equal(pkid_scep_iasubj_parse(b.p, b.len, &iss, &subj, &e),
	    PKID_OK);
	assert_int_equal(X509_NAME_cmp(iss, X509_get_subject_name(F.ra)), 0);
	assert_int_equal(X509_NAME_cmp(subj, X509_get_subject_name(F.dev)),
	    0);
	X509_NAME_free(iss);
	X509_NAME_free(subj);
	/* IssuerAndSubject is not IssuerAndSerialNumber. */
	assert_int_equal(pkid_scep_ias_parse(b.p, b.len, &iss, &sn, &e),
	    PKID_E_SCEP_MALFORMED);
	assert_null(iss);
	assert_int_equal(pkid_scep_iasubj_parse(b.p, b.len - 1, &iss, &subj,
	    &e), PKID_E_SCEP_MALFORMED);
	pkid_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkcsreq_round_trip),
		cmocka_unit_test(test_certrep_round_trip),
		cmocka_unit_test(test_failure_without_content),
		cmocka_unit_test(test_algorithms_need_compat),
		cmocka_unit_test(test_wrong_recipient),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_issuer_and_subject),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
