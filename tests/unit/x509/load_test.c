/*
 * load_test.c - PEM/DER/PKCS#7 detection and the loaders of x509/load.c,
 * with the hostile cases: garbage PEM, truncated DER at every length,
 * trailing bytes, oversized CSRs, empty input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/limits.h"
#include "testcerts.h"
#include "x509/load.h"

/* Made once for the whole file. */
struct fx {
	EVP_PKEY *ca_key;	/* P-256 */
	EVP_PKEY *leaf_key;	/* P-256 */
	X509 *ca;		/* self-signed root */
	X509 *leaf;		/* issued by ca */
	X509_REQ *csr;		/* for leaf_key */
	X509_CRL *crl;		/* of ca */
};

static struct fx fx;

static int
setup(void **state)
{
	static const char *const ca_exts[] = { TC_CA_EXTS, NULL };
	static const char *const leaf_exts[] = {
		TC_LEAF_EXTS("DNS:leaf.example"), NULL };
	static const char *const csr_exts[] = { "subjectAltName",
	    "DNS:leaf.example", NULL };
	struct tc_revoked rv = { 0x1234, TC_T2030, 1 };

	(void)state;
	fx.ca_key = tc_key_ec("P-256");
	fx.leaf_key = tc_key_ec("P-256");
	fx.ca = tc_cert("Test CA", fx.ca_key, NULL, NULL, 1, TC_T2030,
	    TC_T2030 + 3650 * TC_DAY, ca_exts);
	fx.leaf = tc_cert("leaf.example", fx.leaf_key, fx.ca, fx.ca_key,
	    0x1234, TC_T2030, TC_T2030 + 365 * TC_DAY, leaf_exts);
	fx.csr = tc_csr("leaf.example", fx.leaf_key, csr_exts, NULL);
	fx.crl = tc_crl(fx.ca, fx.ca_key, TC_T2030, TC_T2030 + 7 * TC_DAY, 1,
	    &rv, 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(fx.ca_key);
	EVP_PKEY_free(fx.leaf_key);
	X509_free(fx.ca);
	X509_free(fx.leaf);
	X509_REQ_free(fx.csr);
	X509_CRL_free(fx.crl);
	return 0;
}

/* What pkid_x509_decode_all handed out. */
struct seen {
	int n;				/* objects seen */
	enum pkid_obj_kind kind[8];	/* their kinds, first 8 */
	int p7_certs;			/* certificates of the last PKCS#7 */
	int p7_crls;			/* CRLs of the last PKCS#7 */
};

static enum pkid_code
collect(struct pkid_obj *o, void *arg, struct pkid_err *e)
{
	struct seen *s = arg;

	(void)e;
	if (s->n < 8)
		s->kind[s->n] = o->kind;
	s->n++;
	if (o->kind == PKID_OBJ_PKCS7) {
		s->p7_certs = sk_X509_num(o->certs);
		s->p7_crls = sk_X509_CRL_num(o->crls);
	}
	return PKID_OK;
}

/* decode_all must fail with want, and name it in e. */
static void
decode_fails(const unsigned char *p, size_t len, enum pkid_code want)
{
	struct seen s;
	struct pkid_err e;

	memset(&s, 0, sizeof(s));
	pkid_err_clear(&e);
	if (pkid_x509_decode_all(p, len, collect, &s, &e) != want)
		fail_msg("want %s, got %s (%s)", pkid_err_id(want),
		    pkid_err_id(e.code), e.detail);
	assert_int_equal(e.code, want);
	assert_true(e.detail[0] != '\0');
}

static void
test_pem_and_der_cert(void **state)
{
	STACK_OF(X509) *sk = NULL;
	struct pkid_err e;
	unsigned char *pem, *der;
	size_t plen, dlen;

	(void)state;
	pem = tc_pem_cert(fx.leaf, &plen);
	der = tc_der_cert(fx.leaf, &dlen);
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_certs(pem, plen, &sk, &e), PKID_OK);
	assert_int_equal(sk_X509_num(sk), 1);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 0), fx.leaf), 0);
	/* appends to an existing stack */
	assert_int_equal(pkid_x509_load_certs(der, dlen, &sk, &e), PKID_OK);
	assert_int_equal(sk_X509_num(sk), 2);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 1), fx.leaf), 0);
	sk_X509_pop_free(sk, X509_free);
	OPENSSL_free(pem);
	OPENSSL_free(der);
}

static void
test_pem_chain_with_text(void **state)
{
	static const char intro[] = "Subject: leaf\nexplanatory text\n";
	STACK_OF(X509) *sk = NULL;
	struct pkid_err e;
	unsigned char *a, *b, *ab, *all;
	size_t alen, blen, ablen, len;

	(void)state;
	a = tc_pem_cert(fx.leaf, &alen);
	b = tc_pem_cert(fx.ca, &blen);
	ab = tc_cat(a, alen, b, blen, &ablen);
	all = tc_cat((const unsigned char *)intro, sizeof(intro) - 1, ab,
	    ablen, &len);
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_certs(all, len, &sk, &e), PKID_OK);
	assert_int_equal(sk_X509_num(sk), 2);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 1), fx.ca), 0);
	sk_X509_pop_free(sk, X509_free);
	OPENSSL_free(a);
	OPENSSL_free(b);
	OPENSSL_free(ab);
	OPENSSL_free(all);
}

static unsigned char *
p7_pem(const unsigned char *der, size_t dlen, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());

	assert_non_null(b);
	assert_true(PEM_write_bio(b, "PKCS7", "", der, (long)dlen) > 0);
	return tc_bio_bytes(b, len);
}

static void
test_pkcs7(void **state)
{
	X509 *certs[2];
	STACK_OF(X509) *sk = NULL;
	struct seen s;
	struct pkid_err e;
	unsigned char *der, *pem;
	size_t dlen, plen;

	(void)state;
	certs[0] = fx.leaf;
	certs[1] = fx.ca;
	der = tc_p7_der(certs, 2, fx.crl, &dlen);
	pem = p7_pem(der, dlen, &plen);
	memset(&s, 0, sizeof(s));
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_decode_all(der, dlen, collect, &s, &e),
	    PKID_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.kind[0], PKID_OBJ_PKCS7);
	assert_int_equal(s.p7_certs, 2);
	assert_int_equal(s.p7_crls, 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(pkid_x509_decode_all(pem, plen, collect, &s, &e),
	    PKID_OK);
	assert_int_equal(s.kind[0], PKID_OBJ_PKCS7);
	assert_int_equal(s.p7_certs, 2);
	assert_int_equal(pkid_x509_load_certs(pem, plen, &sk, &e), PKID_OK);
	assert_int_equal(sk_X509_num(sk), 2);
	sk_X509_pop_free(sk, X509_free);
	/* a bundle without certificates has nothing for load_certs */
	OPENSSL_free(der);
	der = tc_p7_der(NULL, 0, NULL, &dlen);
	sk = NULL;
	assert_int_equal(pkid_x509_load_certs(der, dlen, &sk, &e),
	    PKID_E_CERT_MALFORMED);
	assert_null(sk);
	OPENSSL_free(der);
	OPENSSL_free(pem);
}

static void
test_csr(void **state)
{
	X509_REQ *r = NULL;
	EVP_PKEY *k = NULL;
	struct pkid_err e;
	unsigned char *pem, *der, *two, *cert;
	size_t plen, dlen, tlen, clen;

	(void)state;
	pem = tc_pem_csr(fx.csr, &plen);
	der = tc_der_csr(fx.csr, &dlen);
	cert = tc_pem_cert(fx.leaf, &clen);
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_csr(pem, plen, &r, &e), PKID_OK);
	assert_int_equal(pkid_csr_key(r, &k, &e), PKID_OK);
	assert_int_equal(X509_REQ_verify(r, k), 1);
	EVP_PKEY_free(k);
	X509_REQ_free(r);
	assert_int_equal(pkid_x509_load_csr(der, dlen, &r, &e), PKID_OK);
	X509_REQ_free(r);
	/* a certificate is not a CSR, nor are two CSRs one */
	assert_int_equal(pkid_x509_load_csr(cert, clen, &r, &e),
	    PKID_E_CSR_MALFORMED);
	assert_null(r);
	two = tc_cat(pem, plen, pem, plen, &tlen);
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_csr(two, tlen, &r, &e),
	    PKID_E_CSR_MALFORMED);
	assert_null(r);
	OPENSSL_free(pem);
	OPENSSL_free(der);
	OPENSSL_free(two);
	OPENSSL_free(cert);
}

static void
test_pem_garbage(void **state)
{
	static const char junk[] = "-----BEGIN CERTIFICATE-----\n"
	    "aGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
	X509_REQ *r = NULL;
	struct pkid_err e;
	unsigned char *pem, *cut;
	size_t plen, i;

	(void)state;
	pem = tc_pem_cert(fx.leaf, &plen);
	/* a character outside base64 in the middle of the body */
	cut = tc_cat(pem, plen, (const unsigned char *)"", 0, &i);
	cut[plen / 2] = '!';
	decode_fails(cut, plen, PKID_E_PEM_GARBAGE);
	OPENSSL_free(cut);
	/* the END line missing */
	decode_fails(pem, plen - 26, PKID_E_PEM_GARBAGE);
	/* good base64 that is not DER */
	decode_fails((const unsigned char *)junk, sizeof(junk) - 1,
	    PKID_E_PEM_GARBAGE);
	/* the CSR loader keeps the code */
	OPENSSL_free(pem);
	pem = tc_pem_csr(fx.csr, &plen);
	pem[plen / 2] = '%';
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_csr(pem, plen, &r, &e),
	    PKID_E_PEM_GARBAGE);
	assert_null(r);
	OPENSSL_free(pem);
}

/* Every strict prefix of a DER object fails, and nothing leaks. */
static void
test_truncated_der(void **state)
{
	X509_REQ *r = NULL;
	struct seen s;
	struct pkid_err e;
	unsigned char *der[3];
	size_t len[3], i, n;

	(void)state;
	der[0] = tc_der_csr(fx.csr, &len[0]);
	der[1] = tc_der_cert(fx.leaf, &len[1]);
	der[2] = tc_der_crl(fx.crl, &len[2]);
	for (i = 0; i < 3; i++) {
		for (n = 1; n < len[i]; n++) {
			memset(&s, 0, sizeof(s));
			pkid_err_clear(&e);
			if (pkid_x509_decode_all(der[i], n, collect, &s, &e) ==
			    PKID_OK)
				fail_msg("object %zu cut at %zu of %zu bytes "
				    "decoded", i, n, len[i]);
			assert_int_equal(s.n, 0);
		}
	}
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_csr(der[0], len[0] - 1, &r, &e),
	    PKID_E_CSR_MALFORMED);
	for (i = 0; i < 3; i++)
		OPENSSL_free(der[i]);
}

static void
test_trailing_data(void **state)
{
	X509 *certs[1];
	X509_REQ *r = NULL;
	struct pkid_err e;
	unsigned char *der, *bad;
	size_t dlen, blen;

	(void)state;
	der = tc_der_cert(fx.leaf, &dlen);
	bad = tc_cat(der, dlen, (const unsigned char *)"\0\0", 2, &blen);
	decode_fails(bad, blen, PKID_E_TRAILING_DATA);
	OPENSSL_free(der);
	OPENSSL_free(bad);

	der = tc_der_csr(fx.csr, &dlen);
	bad = tc_cat(der, dlen, (const unsigned char *)"x", 1, &blen);
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_csr(bad, blen, &r, &e),
	    PKID_E_TRAILING_DATA);
	assert_null(r);
	OPENSSL_free(der);
	OPENSSL_free(bad);

	certs[0] = fx.ca;
	der = tc_p7_der(certs, 1, NULL, &dlen);
	bad = tc_cat(der, dlen, (const unsigned char *)"\x30\x00", 2, &blen);
	decode_fails(bad, blen, PKID_E_TRAILING_DATA);
	OPENSSL_free(der);
	OPENSSL_free(bad);
}

static void
test_too_large(void **state)
{
	X509_REQ *r = NULL;
	struct pkid_err e;
	unsigned char *pem, *big, *huge;
	size_t plen, len;

	(void)state;
	/* RFC 7468 text before the block makes a valid CSR too big */
	pem = tc_pem_csr(fx.csr, &plen);
	assert_non_null(big = calloc(1, PKID_MAX_CSR_SIZE + 1));
	memset(big, 'x', PKID_MAX_CSR_SIZE - plen + 1);
	big[PKID_MAX_CSR_SIZE - plen] = '\n';
	memcpy(big + PKID_MAX_CSR_SIZE - plen + 1, pem, plen);
	len = PKID_MAX_CSR_SIZE + 1;
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_csr(big, len, &r, &e),
	    PKID_E_TOO_LARGE);
	assert_null(r);
	/* one byte less is accepted */
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_csr(big + 1, len - 1, &r, &e),
	    PKID_OK);
	X509_REQ_free(r);
	free(big);
	OPENSSL_free(pem);
	assert_non_null(huge = calloc(1, PKID_MAX_FILE_SIZE + 1));
	decode_fails(huge, PKID_MAX_FILE_SIZE + 1, PKID_E_TOO_LARGE);
	free(huge);
}

static void
test_empty(void **state)
{
	STACK_OF(X509) *sk = NULL;
	X509_REQ *r = NULL;
	X509_CRL *c = NULL;
	struct pkid_err e;

	(void)state;
	decode_fails((const unsigned char *)"", 0, PKID_E_UNKNOWN_FORMAT);
	decode_fails((const unsigned char *)" \n\t\r\n", 5,
	    PKID_E_UNKNOWN_FORMAT);
	decode_fails((const unsigned char *)"hello", 5, PKID_E_UNKNOWN_FORMAT);
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_csr((const uint8_t *)"", 0, &r, &e),
	    PKID_E_CSR_MALFORMED);
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_certs((const uint8_t *)"", 0, &sk,
	    &e), PKID_E_UNKNOWN_FORMAT);
	assert_null(sk);
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_crl((const uint8_t *)"", 0, &c, &e),
	    PKID_E_UNKNOWN_FORMAT);
	assert_null(c);
}

static void
test_crl(void **state)
{
	X509_CRL *c = NULL;
	struct pkid_err e;
	unsigned char *pem, *der, *cert;
	size_t plen, dlen, clen;

	(void)state;
	pem = tc_pem_crl(fx.crl, &plen);
	der = tc_der_crl(fx.crl, &dlen);
	cert = tc_der_cert(fx.ca, &clen);
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_crl(pem, plen, &c, &e), PKID_OK);
	assert_int_equal(X509_CRL_verify(c, X509_get0_pubkey(fx.ca)), 1);
	X509_CRL_free(c);
	assert_int_equal(pkid_x509_load_crl(der, dlen, &c, &e), PKID_OK);
	X509_CRL_free(c);
	assert_int_equal(pkid_x509_load_crl(cert, clen, &c, &e),
	    PKID_E_CRL_MALFORMED);
	assert_null(c);
	OPENSSL_free(pem);
	OPENSSL_free(der);
	OPENSSL_free(cert);
}

/* Write bytes to a fresh temporary file; returns its path (static). */
static const char *
tmpfile_with(const unsigned char *p, size_t len)
{
	static char path[64];
	struct pkid_err e;

	snprintf(path, sizeof(path), "/tmp/pkid-load-test-%ld.pem",
	    (long)getpid());
	pkid_err_clear(&e);
	assert_int_equal(pkid_file_write(path, p, len, 0600, &e), PKID_OK);
	return path;
}

/* openssl ecparam -genkey writes EC PARAMETERS before the key. */
static void
test_key_file(void **state)
{
	EVP_PKEY *k = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	struct pkid_err e;
	unsigned char *pem, *cert;
	size_t plen, clen;
	const char *path;

	(void)state;
	assert_true(PEM_write_bio_Parameters(b, fx.leaf_key));
	assert_true(PEM_write_bio_PrivateKey(b, fx.leaf_key, NULL, NULL, 0,
	    NULL, NULL));
	pem = tc_bio_bytes(b, &plen);
	assert_non_null(strstr((char *)pem, "EC PARAMETERS"));
	path = tmpfile_with(pem, plen);
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_key_file(path, &k, &e), PKID_OK);
	assert_int_equal(EVP_PKEY_eq(k, fx.leaf_key), 1);
	EVP_PKEY_free(k);
	/* a certificate file holds no key */
	cert = tc_pem_cert(fx.leaf, &clen);
	path = tmpfile_with(cert, clen);
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_key_file(path, &k, &e),
	    PKID_E_KEY_MALFORMED);
	assert_null(k);
	unlink(path);
	OPENSSL_free(pem);
	OPENSSL_free(cert);
	/* only blocks pkid does not read */
	b = BIO_new(BIO_s_mem());
	assert_true(PEM_write_bio_PUBKEY(b, fx.leaf_key));
	pem = tc_bio_bytes(b, &plen);
	decode_fails(pem, plen, PKID_E_UNKNOWN_FORMAT);
	OPENSSL_free(pem);
}

/* openssl x509 -trustout: the certificate followed by trust settings. */
static void
test_trusted_certificate(void **state)
{
	STACK_OF(X509) *sk = NULL;
	X509 *x = X509_dup(fx.ca);
	BIO *b = BIO_new(BIO_s_mem());
	struct pkid_err e;
	unsigned char *pem;
	size_t plen;

	(void)state;
	assert_true(X509_add1_trust_object(x, OBJ_nid2obj(NID_server_auth)));
	assert_true(PEM_write_bio_X509_AUX(b, x));
	pem = tc_bio_bytes(b, &plen);
	pkid_err_clear(&e);
	assert_int_equal(pkid_x509_load_certs(pem, plen, &sk, &e), PKID_OK);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 0), fx.ca), 0);
	sk_X509_pop_free(sk, X509_free);
	X509_free(x);
	OPENSSL_free(pem);
}

static void
test_helpers(void **state)
{
	struct pkid_buf out;
	struct pkid_err e;
	unsigned char md[32];
	unsigned int mdlen = 0;
	char fp[65], want[65], name[256], serial[64];
	X509 *x = NULL;
	const char *path;

	(void)state;
	pkid_err_clear(&e);
	pkid_buf_init(&out, 0);
	assert_int_equal(pkid_x509_cert_pem(fx.leaf, &out, &e), PKID_OK);
	path = tmpfile_with(out.p, out.len);
	assert_int_equal(pkid_x509_load_cert_file(path, &x, &e), PKID_OK);
	assert_int_equal(X509_cmp(x, fx.leaf), 0);
	X509_free(x);
	unlink(path);
	pkid_buf_free(&out);
	assert_int_equal(pkid_x509_load_cert_file("/nonexistent/x.pem", &x,
	    &e), PKID_E_IO_OPEN);
	assert_null(x);

	pkid_x509_fingerprint(fx.leaf, fp);
	assert_true(X509_digest(fx.leaf, EVP_sha256(), md, &mdlen));
	pkid_hex(md, mdlen, want);
	assert_string_equal(fp, want);
	assert_string_equal(pkid_x509_name_text(X509_get_subject_name(
	    fx.leaf), name, sizeof(name)), "CN=leaf.example,O=pkid test");
	assert_string_equal(pkid_x509_serial_hex(X509_get0_serialNumber(
	    fx.leaf), serial, sizeof(serial)), "1234");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pem_and_der_cert),
		cmocka_unit_test(test_pem_chain_with_text),
		cmocka_unit_test(test_pkcs7),
		cmocka_unit_test(test_csr),
		cmocka_unit_test(test_pem_garbage),
		cmocka_unit_test(test_truncated_der),
		cmocka_unit_test(test_trailing_data),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_crl),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_trusted_certificate),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
