/*
 * scep_client_test.c - the SCEP client's messages without a network
 * (scep/client.h): GetCACaps parsing, the algorithm choice, GetCACert
 * answers, a PKCSReq opened as the server would, CertReps checked for
 * signer, transactionID and recipientNonce, and the CSR builders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scep/client.h"
#include "scep/msg.h"
#include "testcerts.h"

/* Made once for the whole file. */
struct fx {
	EVP_PKEY *ca_key;	/* EC P-256: the CA's */
	X509 *ca;		/* self-signed CA */
	EVP_PKEY *ra_key;	/* RSA-2048: the RA's */
	X509 *ra;		/* RA issued by ca */
	EVP_PKEY *dev_key;	/* RSA-2048: the client's */
	X509_REQ *csr;		/* for dev_key */
	X509 *issued;		/* for dev_key, issued by ca */
	EVP_PKEY *other_key;	/* RSA-2048: someone else */
	X509 *other;		/* self-signed */
};

static struct fx F;

static int
setup(void **state)
{
	const char *const ca_ext[] = { TC_CA_EXTS, NULL };
	const char *const ra_ext[] = { "basicConstraints", "CA:FALSE",
	    "keyUsage", "critical,digitalSignature,keyEncipherment", NULL };

	(void)state;
	F.ca_key = tc_key_ec("P-256");
	F.ca = tc_cert("Test CA", F.ca_key, NULL, NULL, 1, TC_T2030 -
	    TC_DAY, TC_T2030 + 365 * TC_DAY, ca_ext);
	F.ra_key = tc_key_rsa(2048);
	F.ra = tc_cert("Test RA", F.ra_key, F.ca, F.ca_key, 2, TC_T2030 -
	    TC_DAY, TC_T2030 + 365 * TC_DAY, ra_ext);
	F.dev_key = tc_key_rsa(2048);
	F.csr = tc_csr("dev1", F.dev_key, NULL, "secret");
	F.issued = tc_cert("dev1", F.dev_key, F.ca, F.ca_key, 3, TC_T2030 -
	    TC_DAY, TC_T2030 + TC_DAY, NULL);
	F.other_key = tc_key_rsa(2048);
	F.other = tc_cert("other", F.other_key, NULL, NULL, 4, TC_T2030 -
	    TC_DAY, TC_T2030 + TC_DAY, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(F.ca_key);
	X509_free(F.ca);
	EVP_PKEY_free(F.ra_key);
	X509_free(F.ra);
	EVP_PKEY_free(F.dev_key);
	X509_REQ_free(F.csr);
	X509_free(F.issued);
	EVP_PKEY_free(F.other_key);
	X509_free(F.other);
	return 0;
}

static unsigned
caps_of(const char *s)
{
	return pkid_scep_caps_parse((const uint8_t *)s, strlen(s));
}

static void
test_caps(void **state)
{
	unsigned c;

	(void)state;
	c = caps_of("POSTPKIOperation\nSHA-256\nSHA-384\nSHA-512\nAES\n"
	    "DES3\nRenewal\nGetNextCACert\nSCEPStandard\n");
	assert_int_equal(c & PKID_SCEP_CAP_SHA512, PKID_SCEP_CAP_SHA512);
	assert_int_equal(c & PKID_SCEP_CAP_NEXTCA, PKID_SCEP_CAP_NEXTCA);
	/* micromdm: no trailing newline; CRLF and case from others. */
	c = caps_of("Renewal\nSHA-1\nSHA-256\nAES\nDES3\nSCEPStandard\n"
	    "POSTPKIOperation");
	assert_true(c & PKID_SCEP_CAP_POST);
	assert_true(c & PKID_SCEP_CAP_SHA1);
	assert_false(c & PKID_SCEP_CAP_NEXTCA);
	assert_int_equal(caps_of("aes\r\nsha-256\r\n"), PKID_SCEP_CAP_AES |
	    PKID_SCEP_CAP_SHA256);
	assert_int_equal(caps_of(""), 0);
	assert_int_equal(caps_of("AESX\nSHA-2567\n"), 0);
	/* SCEPStandard alone implies AES, SHA-256 and POST. */
	c = caps_of("SCEPStandard");
	assert_true((c & PKID_SCEP_CAP_AES) && (c & PKID_SCEP_CAP_SHA256) &&
	    (c & PKID_SCEP_CAP_POST));
}

static void
test_algs(void **state)
{
	struct pkid_scep_algs a;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_scep_algs_pick(PKID_SCEP_CAP_AES |
	    PKID_SCEP_CAP_SHA256 | PKID_SCEP_CAP_SHA512, 0, &a, &e), PKID_OK);
	assert_int_equal(EVP_MD_get_type(a.md), NID_sha512);
	assert_int_equal(EVP_CIPHER_get_nid(a.cipher), NID_aes_256_cbc);
	assert_int_equal(pkid_scep_algs_pick(PKID_SCEP_CAP_DES3 |
	    PKID_SCEP_CAP_SHA1, 0, &a, &e), PKID_E_SCEP_NO_COMMON_ALG);
	assert_non_null(strstr(e.detail, "no AES and no SHA-256"));
	pkid_err_clear(&e);
	assert_int_equal(pkid_scep_algs_pick(PKID_SCEP_CAP_DES3 |
	    PKID_SCEP_CAP_SHA1, 1, &a, &e), PKID_OK);
	assert_int_equal(EVP_CIPHER_get_nid(a.cipher), NID_des_ede3_cbc);
	assert_int_equal(EVP_MD_get_type(a.md), NID_sha1);
	assert_int_equal(a.legacy, 0);
	/* No caps at all: RFC 8894's historical DES and SHA-1. */
	assert_int_equal(pkid_scep_algs_pick(0, 1, &a, &e), PKID_OK);
	assert_int_equal(EVP_CIPHER_get_nid(a.cipher), NID_des_cbc);
	assert_int_equal(a.legacy, 1);
}

static void
test_cas(void **state)
{
	struct pkid_scep_cas c;
	struct pkid_err e;
	X509 *set[3] = { F.ra, F.ca, F.other };
	unsigned char *der;
	size_t len;

	(void)state;
	pkid_err_clear(&e);
	pkid_scep_cas_init(&c);
	der = tc_p7_der(set, 3, NULL, &len);
	assert_int_equal(pkid_scep_cas_parse(der, len, &c, &e), PKID_OK);
	assert_ptr_not_equal(c.ca, c.ra);
	assert_int_equal(X509_cmp(c.ca, F.ca), 0);
	assert_int_equal(X509_cmp(c.ra, F.ra), 0);
	free(der);
	/* One DER certificate: CA and recipient at once (micromdm). */
	der = tc_der_cert(F.other, &len);
	assert_int_equal(pkid_scep_cas_parse(der, len, &c, &e), PKID_OK);
	assert_ptr_equal(c.ca, c.ra);
	free(der);
	/* An EC CA alone cannot be encrypted to. */
	der = tc_der_cert(F.ca, &len);
	assert_int_equal(pkid_scep_cas_parse(der, len, &c, &e),
	    PKID_E_SCEP_REPLY_INVALID);
	assert_null(c.certs);
	free(der);
	pkid_scep_cas_free(&c);
}

/* The server's CertRep to t's last message. */
static void
certrep(const struct pkid_scep_txn *t, X509 *signer, EVP_PKEY *key,
    int status, int fail, const uint8_t *rnonce, struct pkid_buf *out)
{
	struct pkid_scep_out o;
	struct pkid_buf inner;
	struct pkid_err e;
	STACK_OF(X509) *certs = sk_X509_new_null();
	uint8_t snonce[16] = { 9 };

	pkid_err_clear(&e);
	pkid_buf_init(&inner, 1);
	memset(&o, 0, sizeof(o));
	o.type = PKID_SCEP_CERTREP;
	o.tid = t->tid;
	o.snonce = snonce;
	o.snonce_len = sizeof(snonce);
	o.rnonce = rnonce;
	o.rnonce_len = 16;
	o.status = status;
	o.fail_info = fail;
	o.signer = signer;
	o.key = key;
	o.md = EVP_sha256();
	if (status == PKID_SCEP_SUCCESS) {
		assert_true(sk_X509_push(certs, F.issued));
		assert_int_equal(pkid_scep_certs_only(certs, NULL, &inner, &e),
		    PKID_OK);
		o.inner = inner.p;
		o.inner_len = inner.len;
		o.recipient = t->signer;
		o.cipher = EVP_aes_128_cbc();
	}
	assert_int_equal(pkid_scep_msg_build(&o, out, &e), PKID_OK);
	sk_X509_free(certs);
	pkid_buf_free(&inner);
}

static void
test_request_and_reply(void **state)
{
	struct pkid_scep_algs algs = { EVP_sha256(), EVP_aes_256_cbc(), 0 };
	struct pkid_scep_cas cas = { NULL, F.ca, F.ra };
	struct pkid_scep_txn t;
	struct pkid_scep_msg m;
	struct pkid_scep_rep r;
	struct pkid_buf req, inner, rep;
	struct pkid_err e;
	enum pkid_scep_fail fail;
	X509 *self = NULL;
	unsigned char *der = NULL;
	uint8_t bad[16];
	int n, nid;

	(void)state;
	pkid_err_clear(&e);
	pkid_scep_msg_init(&m);
	assert_int_equal(pkid_scep_selfsigned(F.dev_key,
	    X509_REQ_get_subject_name(F.csr), EVP_sha256(), &self, &e),
	    PKID_OK);
	assert_int_equal(pkid_scep_txn_init(&t, PKID_SCEP_PKCSREQ, self,
	    F.dev_key, F.ra, &algs, &e), PKID_OK);
	assert_int_equal(strlen(t.tid), 32);
	n = i2d_X509_REQ(F.csr, &der);
	assert_int_equal(pkid_scep_txn_message(&t, PKID_SCEP_PKCSREQ, der,
	    (size_t)n, &req, &e), PKID_OK);
	/* As the server sees it: signed by self, the CSR inside. */
	assert_int_equal(pkid_scep_msg_parse(req.p, req.len, 0, &m, &e),
	    PKID_OK);
	assert_int_equal(m.type, PKID_SCEP_PKCSREQ);
	assert_string_equal(m.tid, t.tid);
	assert_memory_equal(m.snonce, t.nonce, 16);
	assert_int_equal(pkid_scep_envelope_open(m.content.p, m.content.len,
	    F.ra, F.ra_key, 0, &inner, &nid, &fail, &e), PKID_OK);
	assert_int_equal(nid, NID_aes_256_cbc);
	assert_memory_equal(inner.p, der, (size_t)n);
	pkid_buf_free(&inner);
	/* SUCCESS from the RA: the certificate comes out. */
	certrep(&t, F.ra, F.ra_key, PKID_SCEP_SUCCESS, -1, t.nonce, &rep);
	assert_int_equal(pkid_scep_rep_check(&t, &cas, 0, rep.p, rep.len, &r,
	    &e), PKID_OK);
	assert_int_equal(r.status, PKID_SCEP_SUCCESS);
	assert_int_equal(sk_X509_num(r.certs), 1);
	assert_int_equal(X509_cmp(sk_X509_value(r.certs, 0), F.issued), 0);
	pkid_scep_rep_free(&r);
	pkid_buf_free(&rep);
	/* FAILURE badTime: reported, mapped to its own code. */
	certrep(&t, F.ra, F.ra_key, PKID_SCEP_FAILURE, PKID_SCEP_BADTIME,
	    t.nonce, &rep);
	assert_int_equal(pkid_scep_rep_check(&t, &cas, 0, rep.p, rep.len, &r,
	    &e), PKID_OK);
	assert_int_equal(r.status, PKID_SCEP_FAILURE);
	assert_int_equal(pkid_scep_fail_code(r.fail_info),
	    PKID_E_SCEP_FAIL_BAD_TIME);
	pkid_buf_free(&rep);
	/* A replayed reply (other nonce) and a stranger's signature. */
	memset(bad, 0x55, sizeof(bad));
	certrep(&t, F.ra, F.ra_key, PKID_SCEP_PENDING, -1, bad, &rep);
	assert_int_equal(pkid_scep_rep_check(&t, &cas, 0, rep.p, rep.len, &r,
	    &e), PKID_E_SCEP_REPLY_INVALID);
	assert_non_null(strstr(e.detail, "recipientNonce"));
	pkid_buf_free(&rep);
	pkid_err_clear(&e);
	certrep(&t, F.other, F.other_key, PKID_SCEP_PENDING, -1, t.nonce,
	    &rep);
	assert_int_equal(pkid_scep_rep_check(&t, &cas, 0, rep.p, rep.len, &r,
	    &e), PKID_E_SCEP_REPLY_INVALID);
	assert_non_null(strstr(e.detail, "neither the RA nor the CA"));
	pkid_buf_free(&rep);
	/* Every truncation fails cleanly. */
	certrep(&t, F.ra, F.ra_key, PKID_SCEP_PENDING, -1, t.nonce, &rep);
	for (n = 0; n < (int)rep.len; n += 7) {
		pkid_err_clear(&e);
		assert_int_not_equal(pkid_scep_rep_check(&t, &cas, 0, rep.p,
		    (size_t)n, &r, &e), PKID_OK);
	}
	pkid_buf_free(&rep);
	pkid_buf_free(&req);
	pkid_scep_msg_free(&m);
	OPENSSL_free(der);
	X509_free(self);
}

static void
test_pkcsreq_build(void **state)
{
	struct pkid_scep_msg m;
	struct pkid_buf req;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	pkid_scep_msg_init(&m);
	assert_int_equal(pkid_scep_pkcsreq_build(F.csr, F.dev_key, F.ra, &req,
	    NULL, &e), PKID_OK);
	assert_int_equal(pkid_scep_msg_parse(req.p, req.len, 0, &m, &e),
	    PKID_OK);
	assert_int_equal(m.type, PKID_SCEP_PKCSREQ);
	assert_int_equal(m.md_nid, NID_sha256);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(m.signer), F.dev_key),
	    1);
	pkid_buf_free(&req);
	pkid_scep_msg_free(&m);
}

static void
test_csr_build(void **state)
{
	const char *const sans[] = { "DNS:a.example", "IP:10.0.0.1" };
	const char *const bad[] = { "a.example" };
	X509_REQ *csr = NULL;
	struct pkid_err e;
	int i;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_scep_csr_build(F.dev_key, "CN=a.example,O=T",
	    sans, 2, "pw", EVP_sha256(), &csr, &e), PKID_OK);
	assert_int_equal(X509_REQ_verify(csr, F.dev_key), 1);
	i = X509_REQ_get_attr_by_NID(csr, NID_pkcs9_challengePassword, -1);
	assert_true(i >= 0);
	X509_REQ_free(csr);
	assert_int_equal(pkid_scep_csr_build(F.dev_key, "CN=a", bad, 1, NULL,
	    EVP_sha256(), &csr, &e), PKID_E_USAGE);
	assert_null(csr);
	pkid_err_clear(&e);
	assert_int_equal(pkid_scep_csr_renewal(F.issued, F.dev_key, NULL,
	    EVP_sha256(), &csr, &e), PKID_OK);
	assert_int_equal(X509_NAME_cmp(X509_REQ_get_subject_name(csr),
	    X509_get_subject_name(F.issued)), 0);
	X509_REQ_free(csr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_algs),
		cmocka_unit_test(test_cas),
		cmocka_unit_test(test_request_and_reply),
		cmocka_unit_test(test_pkcsreq_build),
		cmocka_unit_test(test_csr_build),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
