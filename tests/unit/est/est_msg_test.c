/*
 * msg_test.c - EST encodings without a network: request bodies (base64
 * CSR with and without line breaks, and broken ones), certs-only PKCS#7,
 * serverkeygen multipart, HTTP Basic, challengePassword, identity checks,
 * CsrAttrs and password hashes.
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

#include "est/csrattrs.h"
#include "ca/policy.h"
#include "est/msg.h"
#include "est/passwd.h"
#include "testcerts.h"

/* base64 of the DER of csr, wrapped at 64 columns when wrap. */
static void
csr_b64(X509_REQ *csr, int wrap, struct pkid_buf *out)
{
	unsigned char *der = NULL;
	int len = i2d_X509_REQ(csr, &der);
	struct pkid_err e;

	pkid_err_clear(&e);
	assert_true(len > 0);
	assert_int_equal(pkid_base64_encode(der, (size_t)len, wrap, out, &e),
	    PKID_OK);
	OPENSSL_free(der);
}

static void
test_media_type(void **state)
{
	(void)state;
	assert_true(pkid_est_media_is("application/pkcs10",
	    "application/pkcs10"));
	assert_true(pkid_est_media_is("Application/PKCS10; charset=x",
	    "application/pkcs10"));
	assert_true(pkid_est_media_is(" application/pkcs10 ",
	    "application/pkcs10"));
	assert_false(pkid_est_media_is("application/pkcs10x",
	    "application/pkcs10"));
	assert_false(pkid_est_media_is("application/octet-stream",
	    "application/pkcs10"));
	assert_false(pkid_est_media_is(NULL, "application/pkcs10"));
}

static void
test_csr_decode(void **state)
{
	EVP_PKEY *k = tc_key_ec("P-256");
	X509_REQ *csr = tc_csr("dev1", k, NULL, NULL), *got = NULL;
	struct pkid_buf one, wrapped, bad;
	struct pkid_err e;
	char *trail;
	size_t n;

	(void)state;
	csr_b64(csr, 0, &one);
	csr_b64(csr, 1, &wrapped);
	assert_non_null(memchr(wrapped.p, '\n', wrapped.len));
	pkid_err_clear(&e);
	assert_int_equal(pkid_est_csr_decode(one.p, one.len, &got, &e),
	    PKID_OK);
	assert_int_equal(X509_NAME_cmp(X509_REQ_get_subject_name(got),
	    X509_REQ_get_subject_name(csr)), 0);
	X509_REQ_free(got);
	assert_int_equal(pkid_est_csr_decode(wrapped.p, wrapped.len, &got,
	    &e), PKID_OK);
	X509_REQ_free(got);
	/* not base64 */
	pkid_err_clear(&e);
	assert_int_equal(pkid_est_csr_decode((const uint8_t *)"!!!!", 4, &got,
	    &e), PKID_E_BASE64_BAD);
	assert_null(got);
	pkid_err_clear(&e);
	assert_int_equal(pkid_est_csr_decode(NULL, 0, &got, &e),
	    PKID_E_BASE64_BAD);
	/* base64 of something that is not DER */
	pkid_err_clear(&e);
	assert_int_equal(pkid_est_csr_decode((const uint8_t *)"aGVsbG8gd29y",
	    12, &got, &e), PKID_E_CSR_MALFORMED);
	/* a truncated CSR */
	pkid_err_clear(&e);
	assert_int_equal(pkid_est_csr_decode(one.p, one.len / 2 / 4 * 4, &got,
	    &e), PKID_E_CSR_MALFORMED);
	/* trailing bytes after the DER: append "AAAA" (3 zero bytes) */
	n = one.len;
	trail = malloc(n + 8);
	assert_non_null(trail);
	memcpy(trail, one.p, n);
	if (one.p[n - 1] != '=') {
		memcpy(trail + n, "AAAA", 4);
		pkid_err_clear(&e);
		assert_int_equal(pkid_est_csr_decode((uint8_t *)trail, n + 4,
		    &got, &e), PKID_E_TRAILING_DATA);
	}
	free(trail);
	/* too large */
	pkid_buf_init(&bad, 1 << 20);
	while (bad.len < PKID_MAX_CSR_SIZE * 2)
		assert_int_equal(pkid_buf_append(&bad, "QUFB", 4, &e), PKID_OK);
	pkid_err_clear(&e);
	assert_int_equal(pkid_est_csr_decode(bad.p, bad.len, &got, &e),
	    PKID_E_TOO_LARGE);
	pkid_buf_free(&bad);
	pkid_buf_free(&one);
	pkid_buf_free(&wrapped);
	X509_REQ_free(csr);
	EVP_PKEY_free(k);
}

static void
test_certs_b64(void **state)
{
	EVP_PKEY *k = tc_key_ec("P-256");
	const char *const ca_exts[] = { TC_CA_EXTS, NULL };
	X509 *root = tc_cert("Root", k, NULL, NULL, 1, TC_T2030,
	    TC_T2030 + 365 * TC_DAY, ca_exts);
	STACK_OF(X509) *sk = sk_X509_new_null();
	struct pkid_buf b64, der;
	struct pkid_err e;
	const unsigned char *p;
	PKCS7 *p7;

	(void)state;
	pkid_err_clear(&e);
	sk_X509_push(sk, root);
	sk_X509_push(sk, root);
	assert_int_equal(pkid_est_certs_b64(sk, &b64, &e), PKID_OK);
	/* one line, no line break at all (strongSwan) */
	assert_null(memchr(b64.p, '\n', b64.len));
	assert_null(memchr(b64.p, '\r', b64.len));
	assert_int_equal(pkid_base64_decode((char *)b64.p, b64.len, &der,
	    1 << 20, &e), PKID_OK);
	p = der.p;
	p7 = d2i_PKCS7(NULL, &p, (long)der.len);
	assert_non_null(p7);
	assert_ptr_equal(p, der.p + der.len);
	assert_true(PKCS7_type_is_signed(p7));
	assert_int_equal(sk_X509_num(p7->d.sign->cert), 2);
	assert_int_equal(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info), 0);
	/* content type id-data, content absent (certs-only) */
	assert_int_equal(OBJ_obj2nid(p7->d.sign->contents->type),
	    NID_pkcs7_data);
	assert_null(p7->d.sign->contents->d.data);
	PKCS7_free(p7);
	pkid_buf_free(&der);
	pkid_buf_free(&b64);
	sk_X509_free(sk);
	X509_free(root);
	EVP_PKEY_free(k);
}

/* base64 between the part's blank line and its CRLF, decoded. */
static void
part_body(const char *body, const char *ct, struct pkid_buf *out)
{
	const char *p = strstr(body, ct), *q, *end;
	struct pkid_err e;

	pkid_err_clear(&e);
	assert_non_null(p);
	q = strstr(p, "\r\n\r\n");
	assert_non_null(q);
	q += 4;
	end = strstr(q, "\r\n");
	assert_non_null(end);
	assert_int_equal(pkid_base64_decode(q, (size_t)(end - q), out,
	    1 << 20, &e), PKID_OK);
}

static void
test_serverkeygen_multipart(void **state)
{
	EVP_PKEY *k = tc_key_ec("P-256"), *k2;
	X509 *x = tc_cert("dev", k, NULL, NULL, 7, TC_T2030, TC_T2030 +
	    TC_DAY, NULL);
	struct pkid_http_resp resp;
	struct pkid_buf key, p7;
	struct pkid_err e;
	const unsigned char *p;
	PKCS8_PRIV_KEY_INFO *p8;

	(void)state;
	pkid_err_clear(&e);
	pkid_http_resp_init(&resp);
	/* In lines of 64 (RFC 2045), as libEST's estclient -q needs. */
	assert_int_equal(pkid_est_resp_serverkeygen(&resp, k, x, "pkid-b1",
	    1, &e), PKID_OK);
	assert_string_equal(resp.content_type,
	    "multipart/mixed; boundary=pkid-b1");
	assert_int_equal(pkid_buf_append(&resp.body, "", 1, &e), PKID_OK);
	assert_non_null(strstr((char *)resp.body.p, "--pkid-b1--\r\n"));
	part_body((char *)resp.body.p, "Content-Type: application/pkcs8",
	    &key);
	p = key.p;
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)key.len);
	assert_non_null(p8);	/* really PKCS#8, not PKCS#1 */
	k2 = EVP_PKCS82PKEY(p8);
	assert_non_null(k2);
	assert_int_equal(EVP_PKEY_eq(k, k2), 1);
	part_body((char *)resp.body.p, "smime-type=certs-only", &p7);
	assert_true(p7.len > 100);
	/* a too long boundary is refused */
	assert_int_equal(pkid_est_resp_serverkeygen(&resp, k, x,
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "456789X", 0, &e), PKID_E_INTERNAL);
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_PKEY_free(k2);
	pkid_buf_free(&key);
	pkid_buf_free(&p7);
	pkid_http_resp_free(&resp);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_basic_parse(void **state)
{
	char u[65], p[257];

	(void)state;
	/* "alice:s3cret:x" */
	assert_int_equal(pkid_est_basic_parse("Basic YWxpY2U6czNjcmV0Ong=",
	    u, sizeof(u), p, sizeof(p)), 0);
	assert_string_equal(u, "alice");
	assert_string_equal(p, "s3cret:x");
	assert_int_equal(pkid_est_basic_parse("basic   YWxpY2U6",
	    u, sizeof(u), p, sizeof(p)), 0);
	assert_string_equal(p, "");
	/* no colon, empty user, wrong scheme, bad base64, control char */
	assert_int_equal(pkid_est_basic_parse("Basic YWxpY2U=", u, sizeof(u),
	    p, sizeof(p)), -1);
	assert_int_equal(pkid_est_basic_parse("Basic OnB3", u, sizeof(u), p,
	    sizeof(p)), -1);
	assert_int_equal(pkid_est_basic_parse("Bearer abc", u, sizeof(u), p,
	    sizeof(p)), -1);
	assert_int_equal(pkid_est_basic_parse("Basic ***", u, sizeof(u), p,
	    sizeof(p)), -1);
	assert_int_equal(pkid_est_basic_parse("Basic YQo6Yg==", u, sizeof(u),
	    p, sizeof(p)), -1);
	assert_int_equal(pkid_est_basic_parse(NULL, u, sizeof(u), p,
	    sizeof(p)), -1);
	/* user longer than its buffer */
	assert_int_equal(pkid_est_basic_parse("Basic YWxpY2U6eA==", u, 3, p,
	    sizeof(p)), -1);
}

static void
test_challenge_and_identity(void **state)
{
	EVP_PKEY *k = tc_key_ec("P-256");
	const char *const san1[] = { "subjectAltName",
	    "DNS:a.example,IP:10.0.0.1", NULL };
	const char *const san2[] = { "subjectAltName",
	    "IP:10.0.0.1,DNS:a.example", NULL };
	const char *const san3[] = { "subjectAltName", "DNS:b.example", NULL };
	X509_REQ *c1 = tc_csr("dev", k, san2, "cb-value");
	X509_REQ *c2 = tc_csr("other", k, san1, NULL);
	X509_REQ *c3 = tc_csr("dev", k, san3, NULL);
	X509 *old = tc_cert("dev", k, NULL, NULL, 3, TC_T2030, TC_T2030 +
	    TC_DAY, san1);
	struct pkid_err e;
	char pw[64];
	int present = 0;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_est_csr_challenge(c1, pw, sizeof(pw), &present,
	    &e), PKID_OK);
	assert_int_equal(present, 1);
	assert_string_equal(pw, "cb-value");
	assert_int_equal(pkid_est_csr_challenge(c2, pw, sizeof(pw), &present,
	    &e), PKID_OK);
	assert_int_equal(present, 0);
	assert_int_equal(pkid_est_csr_challenge(c1, pw, 4, &present, &e),
	    PKID_E_CSR_MALFORMED);
	/* same names in another order: the same identity */
	pkid_err_clear(&e);
	assert_int_equal(pkid_policy_csr_same_identity(c1, old, &e), PKID_OK);
	assert_int_equal(pkid_policy_csr_same_identity(c2, old, &e),
	    PKID_E_IDENTITY_MISMATCH);
	assert_non_null(strstr(e.detail, "renews only its own names"));
	pkid_err_clear(&e);
	assert_int_equal(pkid_policy_csr_same_identity(c3, old, &e),
	    PKID_E_IDENTITY_MISMATCH);
	X509_REQ_free(c1);
	X509_REQ_free(c2);
	X509_REQ_free(c3);
	X509_free(old);
	EVP_PKEY_free(k);
}

static PKID_CSR_ATTRS *
attrs_of(const struct pkid_profile *p, enum pkid_cb_mode cb)
{
	struct pkid_buf der;
	struct pkid_err e;
	const unsigned char *q;
	PKID_CSR_ATTRS *a;

	pkid_err_clear(&e);
	assert_int_equal(pkid_est_csrattrs_der(p, cb, &der, &e), PKID_OK);
	q = der.p;
	a = d2i_PKID_CSR_ATTRS(NULL, &q, (long)der.len);
	assert_non_null(a);
	assert_ptr_equal(q, der.p + der.len);
	assert_int_equal(der.p[0], 0x30);	/* a SEQUENCE */
	pkid_buf_free(&der);
	return a;
}

static void
test_csrattrs(void **state)
{
	struct pkid_config c;
	struct pkid_profile p;
	PKID_CSR_ATTRS *a;
	PKID_ATTR_OR_OID *x;
	X509_ATTRIBUTE *attr;

	(void)state;
	pkid_config_defaults(&c);
	p = *pkid_config_profile(&c, "device");
	p.key_types = PKID_KT_EC_P256 | PKID_KT_EC_P384;
	a = attrs_of(&p, PKID_CB_REQUIRED);
	assert_int_equal(sk_PKID_ATTR_OR_OID_num(a), 3);
	x = sk_PKID_ATTR_OR_OID_value(a, 0);
	assert_int_equal(x->type, 0);
	assert_int_equal(OBJ_obj2nid(x->value.oid),
	    NID_pkcs9_challengePassword);
	x = sk_PKID_ATTR_OR_OID_value(a, 1);
	assert_int_equal(x->type, 1);
	attr = x->value.attribute;
	assert_int_equal(OBJ_obj2nid(X509_ATTRIBUTE_get0_object(attr)),
	    NID_X9_62_id_ecPublicKey);
	assert_int_equal(X509_ATTRIBUTE_count(attr), 2);
	PKID_CSR_ATTRS_free(a);
	/* RSA only, no channel binding: just rsaEncryption */
	p.key_types = PKID_KT_RSA;
	a = attrs_of(&p, PKID_CB_OPTIONAL);
	assert_int_equal(sk_PKID_ATTR_OR_OID_num(a), 1);
	x = sk_PKID_ATTR_OR_OID_value(a, 0);
	assert_int_equal(OBJ_obj2nid(x->value.oid), NID_rsaEncryption);
	PKID_CSR_ATTRS_free(a);
}

static void
test_passwd(void **state)
{
	char h[PKID_MAX_PASSWORD_HASH + 1];
	uint8_t salt[8] = "saltsalt", dk[32];
	struct pkid_buf hb;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_passwd_hash("pw one", h, sizeof(h), &e),
	    PKID_OK);
	assert_memory_equal(h, "$pbkdf2-sha256$600000$", 22);
	assert_int_equal(pkid_passwd_verify("pw one", h, &e), PKID_OK);
	assert_int_equal(pkid_passwd_verify("pw two", h, &e),
	    PKID_E_AUTH_FAILED);
	/* scrypt, computed here */
	assert_int_equal(EVP_PBE_scrypt("s", 1, salt, 8, 1024, 8, 1, 0, dk,
	    32), 1);
	assert_int_equal(pkid_base64_encode(dk, 32, 0, &hb, &e), PKID_OK);
	snprintf(h, sizeof(h), "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ=$%s",
	    (char *)hb.p);
	pkid_buf_free(&hb);
	pkid_err_clear(&e);
	assert_int_equal(pkid_passwd_verify("s", h, &e), PKID_OK);
	assert_int_equal(pkid_passwd_verify("t", h, &e), PKID_E_AUTH_FAILED);
	/* malformed or too costly hashes */
	pkid_err_clear(&e);
	assert_int_equal(pkid_passwd_verify("s", "plain", &e),
	    PKID_E_CONFIG_BAD_VALUE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_passwd_verify("s", "$md5$1$c2FsdA==$c2FsdA==",
	    &e), PKID_E_CONFIG_BAD_VALUE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_passwd_verify("s", "$pbkdf2-sha256$999999999$"
	    "c2FsdA==$c2FsdHNhbHRzYWx0c2FsdA==", &e),
	    PKID_E_CONFIG_BAD_VALUE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_passwd_verify("s", "$scrypt$ln=30,r=8,p=1$"
	    "c2FsdA==$c2FsdHNhbHRzYWx0c2FsdA==", &e),
	    PKID_E_CONFIG_BAD_VALUE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_passwd_verify("s", "$pbkdf2-sha256$1000$a$b$c",
	    &e), PKID_E_CONFIG_BAD_VALUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_media_type),
		cmocka_unit_test(test_csr_decode),
		cmocka_unit_test(test_certs_b64),
		cmocka_unit_test(test_serverkeygen_multipart),
		cmocka_unit_test(test_basic_parse),
		cmocka_unit_test(test_challenge_and_identity),
		cmocka_unit_test(test_csrattrs),
		cmocka_unit_test(test_passwd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
