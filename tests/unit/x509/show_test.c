/*
 * show_test.c - the JSON descriptions behind 'pkictl show': every field of
 * a certificate, CSR, CRL and PKCS#7 bundle, relative validity at fixed
 * times, and hostile inputs (bytes that are not UTF-8, control characters,
 * duplicate and unknown extensions, garbage).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testcerts.h"
#include "x509/show.h"

struct fx {
	EVP_PKEY *ca_key;	/* P-256 */
	EVP_PKEY *leaf_key;	/* P-256 */
	EVP_PKEY *rsa_key;	/* RSA 2048 */
	X509 *ca;		/* self-signed, pathlen 0 */
	X509 *leaf;		/* 2030-01-01 .. 2031-01-01 */
	X509 *rsa_leaf;		/* RSA key, self-signed */
	X509_REQ *csr;		/* SAN, KU and a challenge password */
	X509_CRL *crl;		/* two entries, CRL number 7 */
};

static struct fx fx;

#define PASSWORD "s3cret-challenge"

static int
setup(void **state)
{
	static const char *const ca_exts[] = { TC_CA_EXTS, NULL };
	static const char *const leaf_exts[] = { TC_LEAF_EXTS(
	    "DNS:leaf.example,IP:10.0.0.1,email:ops@leaf.example"), NULL };
	static const char *const csr_exts[] = { "subjectAltName",
	    "DNS:dev1.example,IP:192.0.2.7", "keyUsage",
	    "critical,digitalSignature", NULL };
	struct tc_revoked rv[2] = {
		{ 0x1234, TC_T2030 + 10 * TC_DAY, 1 },
		{ 0x99, TC_T2030 + 11 * TC_DAY, -1 },
	};

	(void)state;
	fx.ca_key = tc_key_ec("P-256");
	fx.leaf_key = tc_key_ec("P-256");
	fx.rsa_key = tc_key_rsa(2048);
	fx.ca = tc_cert("Test CA", fx.ca_key, NULL, NULL, 1, TC_T2030,
	    TC_T2030 + 3650 * TC_DAY, ca_exts);
	fx.leaf = tc_cert("leaf.example", fx.leaf_key, fx.ca, fx.ca_key,
	    0x1234, TC_T2030, TC_T2030 + 365 * TC_DAY, leaf_exts);
	fx.rsa_leaf = tc_cert("rsa.example", fx.rsa_key, NULL, NULL, 5,
	    TC_T2030, TC_T2030 + 30 * TC_DAY, NULL);
	fx.csr = tc_csr("dev1.example", fx.leaf_key, csr_exts, PASSWORD);
	fx.crl = tc_crl(fx.ca, fx.ca_key, TC_T2030 + 31 * TC_DAY,
	    TC_T2030 + 38 * TC_DAY, 7, rv, 2);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(fx.ca_key);
	EVP_PKEY_free(fx.leaf_key);
	EVP_PKEY_free(fx.rsa_key);
	X509_free(fx.ca);
	X509_free(fx.leaf);
	X509_free(fx.rsa_leaf);
	X509_REQ_free(fx.csr);
	X509_CRL_free(fx.crl);
	return 0;
}

/* o[k] as a string; fails the test when absent or not a string. */
static const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	if (s == NULL)
		fail_msg("member '%s' missing or not a string", k);
	return s;
}

/* Extension k's values[i]. */
static const char *
extval(const json_t *o, const char *k, size_t i)
{
	const json_t *ext = json_object_get(o, k);
	const char *s;

	if (ext == NULL)
		fail_msg("extension '%s' missing", k);
	s = json_string_value(json_array_get(json_object_get(ext, "values"),
	    i));
	if (s == NULL)
		fail_msg("extension '%s' has no value %zu", k, i);
	return s;
}

static size_t
extn(const json_t *o, const char *k)
{
	return json_array_size(json_object_get(json_object_get(o, k),
	    "values"));
}

static int
extcrit(const json_t *o, const char *k)
{
	return json_is_true(json_object_get(json_object_get(o, k),
	    "critical"));
}

/* The description must serialise, and is returned as text to search. */
static char *
dump(const json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	assert_non_null(s);
	return s;
}

static void
hex_of(const ASN1_OCTET_STRING *s, char *out)
{
	pkid_hex(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), out);
}

static void
test_cert_fields(void **state)
{
	struct pkid_err e;
	json_t *o;
	char fp[65], ski[129], caski[129];

	(void)state;
	pkid_err_clear(&e);
	o = pkid_x509_show_cert(fx.leaf, TC_T2030 + 335 * TC_DAY, &e);
	assert_non_null(o);
	assert_string_equal(str(o, "type"), "certificate");
	assert_int_equal(json_integer_value(json_object_get(o, "version")), 3);
	assert_string_equal(str(o, "subject"), "CN=leaf.example,O=pkid test");
	assert_string_equal(str(o, "issuer"), "CN=Test CA,O=pkid test");
	assert_string_equal(str(o, "serial"), "1234");
	assert_false(json_is_true(json_object_get(o, "self_signed")));
	assert_string_equal(str(o, "not_before"), "2030-01-01T00:00:00Z");
	assert_string_equal(str(o, "not_after"), "2031-01-01T00:00:00Z");
	assert_string_equal(str(o, "status"), "valid");
	assert_string_equal(str(o, "validity"), "expires in 30 days");
	assert_string_equal(str(o, "key"), "EC P-256");
	assert_string_equal(str(o, "key_type"), "EC");
	assert_int_equal(json_integer_value(json_object_get(o, "key_bits")),
	    256);
	assert_string_equal(str(o, "signature_algorithm"), "ecdsa-with-SHA256");
	assert_int_equal(extn(o, "san"), 3);
	assert_string_equal(extval(o, "san", 0), "DNS:leaf.example");
	assert_string_equal(extval(o, "san", 1), "IP:10.0.0.1");
	assert_string_equal(extval(o, "san", 2), "email:ops@leaf.example");
	assert_false(extcrit(o, "san"));
	assert_true(extcrit(o, "key_usage"));
	assert_int_equal(extn(o, "key_usage"), 2);
	assert_string_equal(extval(o, "key_usage", 0), "digitalSignature");
	assert_string_equal(extval(o, "key_usage", 1), "keyEncipherment");
	assert_string_equal(extval(o, "ext_key_usage", 0), "serverAuth");
	assert_string_equal(extval(o, "ext_key_usage", 1), "clientAuth");
	assert_string_equal(extval(o, "basic_constraints", 0), "CA:FALSE");
	assert_true(extcrit(o, "basic_constraints"));
	hex_of(X509_get0_subject_key_id(fx.leaf), ski);
	hex_of(X509_get0_subject_key_id(fx.ca), caski);
	assert_string_equal(extval(o, "ski", 0), ski);
	assert_string_equal(extval(o, "aki", 0), caski);
	assert_string_equal(str(json_object_get(o, "aki"), "key_id"), caski);
	assert_string_equal(extval(o, "aia", 0),
	    "OCSP - URI:http://ocsp.example/");
	assert_string_equal(extval(o, "aia", 1),
	    "CA Issuers - URI:http://ca.example/c");
	assert_string_equal(extval(o, "crl_dp", 0),
	    "URI:http://crl.example/ca.crl");
	assert_int_equal(json_array_size(json_object_get(o,
	    "other_extensions")), 1);
	assert_string_equal(str(json_array_get(json_object_get(o,
	    "other_extensions"), 0), "oid"), "2.5.29.32");
	pkid_x509_fingerprint(fx.leaf, fp);
	assert_string_equal(str(o, "fingerprint_sha256"), fp);
	assert_null(json_object_get(o, "warnings"));
	json_decref(o);
}

static void
validity_at(time_t now, const char *status, const char *text)
{
	struct pkid_err e;
	json_t *o;

	pkid_err_clear(&e);
	assert_non_null(o = pkid_x509_show_cert(fx.leaf, now, &e));
	assert_string_equal(str(o, "status"), status);
	assert_string_equal(str(o, "validity"), text);
	json_decref(o);
}

static void
test_cert_validity(void **state)
{
	time_t na = TC_T2030 + 365 * TC_DAY;

	(void)state;
	validity_at(na + 3 * TC_DAY, "expired", "expired 3 days ago");
	validity_at(na + 5 * 3600, "expired", "expired 5 hours ago");
	validity_at(TC_T2030 - 12 * 3600, "not-yet-valid",
	    "not yet valid for 12 hours");
	validity_at(TC_T2030, "valid", "expires in 365 days");
	validity_at(na, "valid", "expires in 0 seconds");
	validity_at(na + 1, "expired", "expired 1 seconds ago");
}

static void
test_ca_and_rsa(void **state)
{
	struct pkid_err e;
	json_t *o;

	(void)state;
	pkid_err_clear(&e);
	assert_non_null(o = pkid_x509_show_cert(fx.ca, TC_T2030, &e));
	assert_true(json_is_true(json_object_get(o, "self_signed")));
	assert_true(json_is_true(json_object_get(json_object_get(o,
	    "basic_constraints"), "ca")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o,
	    "basic_constraints"), "path_len")), 0);
	assert_string_equal(extval(o, "basic_constraints", 0), "CA:TRUE");
	assert_string_equal(extval(o, "basic_constraints", 1), "pathlen:0");
	assert_string_equal(extval(o, "key_usage", 0), "keyCertSign");
	assert_string_equal(extval(o, "key_usage", 1), "cRLSign");
	json_decref(o);

	assert_non_null(o = pkid_x509_show_cert(fx.rsa_leaf, TC_T2030, &e));
	assert_string_equal(str(o, "key"), "RSA 2048");
	assert_string_equal(str(o, "key_type"), "RSA");
	assert_string_equal(str(o, "signature_algorithm"),
	    "sha256WithRSAEncryption");
	/* no extensions: none described */
	assert_null(json_object_get(o, "san"));
	assert_null(json_object_get(o, "other_extensions"));
	json_decref(o);
}

static void
test_csr(void **state)
{
	struct pkid_err e;
	json_t *o;
	char *s;

	(void)state;
	pkid_err_clear(&e);
	assert_non_null(o = pkid_x509_show_csr(fx.csr, TC_T2030, &e));
	assert_string_equal(str(o, "type"), "csr");
	assert_string_equal(str(o, "subject"), "CN=dev1.example,O=pkid test");
	assert_string_equal(str(o, "key"), "EC P-256");
	assert_string_equal(str(o, "signature"), "valid");
	assert_true(json_is_true(json_object_get(o, "signature_valid")));
	assert_string_equal(extval(o, "san", 0), "DNS:dev1.example");
	assert_string_equal(extval(o, "san", 1), "IP:192.0.2.7");
	assert_true(extcrit(o, "key_usage"));
	assert_non_null(json_object_get(o, "challenge_password"));
	/* the password itself never appears */
	s = dump(o);
	assert_null(strstr(s, PASSWORD));
	free(s);
	json_decref(o);
}

static void
test_csr_tampered(void **state)
{
	static const char cn[] = "dev1.example";
	const unsigned char *q;
	unsigned char *der, *hit = NULL;
	struct pkid_err e;
	X509_REQ *r;
	json_t *o;
	size_t len, i;

	(void)state;
	der = tc_der_csr(fx.csr, &len);
	for (i = 0; i + sizeof(cn) - 1 <= len && hit == NULL; i++)
		if (memcmp(der + i, cn, sizeof(cn) - 1) == 0)
			hit = der + i;
	assert_non_null(hit);
	hit[0] = 'x';
	q = der;
	assert_non_null(r = d2i_X509_REQ(NULL, &q, (long)len));
	pkid_err_clear(&e);
	assert_non_null(o = pkid_x509_show_csr(r, TC_T2030, &e));
	assert_string_equal(str(o, "subject"), "CN=xev1.example,O=pkid test");
	assert_false(json_is_true(json_object_get(o, "signature_valid")));
	assert_non_null(strstr(str(o, "signature"), "invalid"));
	json_decref(o);
	X509_REQ_free(r);
	OPENSSL_free(der);
}

static void
test_crl(void **state)
{
	struct pkid_err e;
	const json_t *rv, *r;
	json_t *o;
	char caski[129];

	(void)state;
	pkid_err_clear(&e);
	o = pkid_x509_show_crl(fx.crl, TC_T2030 + 32 * TC_DAY, &e);
	assert_non_null(o);
	assert_string_equal(str(o, "type"), "crl");
	assert_int_equal(json_integer_value(json_object_get(o, "version")), 2);
	assert_string_equal(str(o, "issuer"), "CN=Test CA,O=pkid test");
	assert_string_equal(str(o, "this_update"), "2030-02-01T00:00:00Z");
	assert_string_equal(str(o, "next_update"), "2030-02-08T00:00:00Z");
	assert_string_equal(str(o, "status"), "current");
	assert_string_equal(str(o, "validity"), "next update in 6 days");
	assert_string_equal(extval(o, "crl_number", 0), "7");
	hex_of(X509_get0_subject_key_id(fx.ca), caski);
	assert_string_equal(extval(o, "aki", 0), caski);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "revoked_count")), 2);
	rv = json_object_get(o, "revoked");
	assert_int_equal(json_array_size(rv), 2);
	/* X509_CRL_sort orders by serial */
	r = json_array_get(rv, 0);
	assert_string_equal(str(r, "serial"), "99");
	assert_string_equal(str(r, "date"), "2030-01-12T00:00:00Z");
	assert_null(json_object_get(r, "reason"));
	r = json_array_get(rv, 1);
	assert_string_equal(str(r, "serial"), "1234");
	assert_string_equal(str(r, "reason"), "keyCompromise");
	assert_non_null(json_object_get(o, "fingerprint_sha256"));
	json_decref(o);

	o = pkid_x509_show_crl(fx.crl, TC_T2030 + 40 * TC_DAY, &e);
	assert_string_equal(str(o, "status"), "stale");
	assert_string_equal(str(o, "validity"),
	    "next update overdue by 2 days");
	json_decref(o);
}

/* pkid_x509_show_all on the bytes; returns the array, checks rc. */
static json_t *
show_bytes(const unsigned char *p, size_t len, enum pkid_code want)
{
	struct pkid_err e;
	json_t *arr = json_array();

	assert_non_null(arr);
	pkid_err_clear(&e);
	if (pkid_x509_show_all(p, len, TC_T2030, arr, &e) != want)
		fail_msg("want %s, got %s (%s)", pkid_err_id(want),
		    pkid_err_id(e.code), e.detail);
	return arr;
}

static void
test_show_all_mixed_pem(void **state)
{
	unsigned char *a, *b, *c, *ab, *abc;
	size_t al, bl, cl, abl, abcl;
	json_t *arr;

	(void)state;
	a = tc_pem_cert(fx.leaf, &al);
	b = tc_pem_csr(fx.csr, &bl);
	c = tc_pem_crl(fx.crl, &cl);
	ab = tc_cat(a, al, b, bl, &abl);
	abc = tc_cat(ab, abl, c, cl, &abcl);
	arr = show_bytes(abc, abcl, PKID_OK);
	assert_int_equal(json_array_size(arr), 3);
	assert_string_equal(str(json_array_get(arr, 0), "type"),
	    "certificate");
	assert_string_equal(str(json_array_get(arr, 1), "type"), "csr");
	assert_string_equal(str(json_array_get(arr, 2), "type"), "crl");
	json_decref(arr);
	OPENSSL_free(a);
	OPENSSL_free(b);
	OPENSSL_free(c);
	OPENSSL_free(ab);
	OPENSSL_free(abc);
}

static void
test_show_all_pkcs7_and_key(void **state)
{
	X509 *certs[2];
	BIO *b;
	unsigned char *der, *pem;
	size_t dlen, plen;
	const json_t *p7;
	json_t *arr;
	char *s;

	(void)state;
	certs[0] = fx.leaf;
	certs[1] = fx.ca;
	der = tc_p7_der(certs, 2, fx.crl, &dlen);
	arr = show_bytes(der, dlen, PKID_OK);
	assert_int_equal(json_array_size(arr), 1);
	p7 = json_array_get(arr, 0);
	assert_string_equal(str(p7, "type"), "pkcs7");
	assert_int_equal(json_array_size(json_object_get(p7, "certificates")),
	    2);
	assert_int_equal(json_array_size(json_object_get(p7, "crls")), 1);
	assert_string_equal(str(json_array_get(json_object_get(p7,
	    "certificates"), 1), "subject"), "CN=Test CA,O=pkid test");
	json_decref(arr);
	OPENSSL_free(der);

	/* a private key: its type, never its secret */
	assert_non_null(b = BIO_new(BIO_s_mem()));
	assert_true(PEM_write_bio_PrivateKey(b, fx.leaf_key, NULL, NULL, 0,
	    NULL, NULL));
	pem = tc_bio_bytes(b, &plen);
	arr = show_bytes(pem, plen, PKID_OK);
	assert_string_equal(str(json_array_get(arr, 0), "type"),
	    "private-key");
	assert_string_equal(str(json_array_get(arr, 0), "key"), "EC P-256");
	s = dump(arr);
	assert_int_equal(strlen(s), strlen("[{\"type\":\"private-key\","
	    "\"key\":\"EC P-256\",\"key_type\":\"EC\",\"key_bits\":256}]"));
	free(s);
	json_decref(arr);
	OPENSSL_free(pem);
}

static void
test_show_all_errors(void **state)
{
	static const char junk[] = "-----BEGIN CERTIFICATE-----\n"
	    "!!!!\n-----END CERTIFICATE-----\n";
	unsigned char *a, *ab, *der, *cut;
	size_t al, abl, dlen, clen;
	json_t *arr;

	(void)state;
	arr = show_bytes((const unsigned char *)junk, sizeof(junk) - 1,
	    PKID_E_PEM_GARBAGE);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* the objects before a bad block are kept */
	a = tc_pem_cert(fx.leaf, &al);
	ab = tc_cat(a, al, (const unsigned char *)junk, sizeof(junk) - 1,
	    &abl);
	arr = show_bytes(ab, abl, PKID_E_PEM_GARBAGE);
	assert_int_equal(json_array_size(arr), 1);
	json_decref(arr);
	arr = show_bytes((const unsigned char *)"", 0, PKID_E_UNKNOWN_FORMAT);
	json_decref(arr);
	der = tc_der_cert(fx.leaf, &dlen);
	cut = tc_cat(der, dlen, (const unsigned char *)"zz", 2, &clen);
	arr = show_bytes(cut, clen, PKID_E_TRAILING_DATA);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	arr = show_bytes(der, dlen / 2, PKID_E_UNKNOWN_FORMAT);
	json_decref(arr);
	OPENSSL_free(a);
	OPENSSL_free(ab);
	OPENSSL_free(der);
	OPENSSL_free(cut);
}

/*
 * A SAN with a line break in a DNS name (to fake a line of text output)
 * and an SmtpUTF8Mailbox that is not UTF-8 (OpenSSL prints it raw).
 */
static void
add_evil_san(X509 *x)
{
	static const char evil[] = "a.example\nsubject: CN=evil";
	GENERAL_NAMES *gns = GENERAL_NAMES_new();
	GENERAL_NAME *dns = GENERAL_NAME_new(), *mbox = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
	ASN1_UTF8STRING *u8 = ASN1_UTF8STRING_new();
	ASN1_TYPE *t = ASN1_TYPE_new();

	assert_true(gns != NULL && dns != NULL && mbox != NULL);
	assert_true(ia5 != NULL && u8 != NULL && t != NULL);
	assert_true(ASN1_STRING_set(ia5, evil, sizeof(evil) - 1));
	GENERAL_NAME_set0_value(dns, GEN_DNS, ia5);
	assert_true(ASN1_STRING_set(u8, "\xff\xfe@x", 4));
	ASN1_TYPE_set(t, V_ASN1_UTF8STRING, u8);
	assert_true(GENERAL_NAME_set0_othername(mbox,
	    OBJ_nid2obj(NID_id_on_SmtpUTF8Mailbox), t));
	assert_true(sk_GENERAL_NAME_push(gns, dns));
	assert_true(sk_GENERAL_NAME_push(gns, mbox));
	assert_true(X509_add1_ext_i2d(x, NID_subject_alt_name, gns, 0,
	    X509V3_ADD_APPEND));
	GENERAL_NAMES_free(gns);
}

/* An unknown critical extension and a duplicated basicConstraints. */
static void
add_odd_exts(X509 *x)
{
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
	ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
	X509_EXTENSION *ex;

	assert_true(oid != NULL && val != NULL && bc != NULL);
	assert_true(ASN1_OCTET_STRING_set(val, (const unsigned char *)"\5\0",
	    2));
	assert_non_null(ex = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, val));
	assert_true(X509_add_ext(x, ex, -1));
	assert_true(X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1,
	    X509V3_ADD_APPEND));
	assert_true(X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1,
	    X509V3_ADD_APPEND));
	X509_EXTENSION_free(ex);
	ASN1_OBJECT_free(oid);
	ASN1_OCTET_STRING_free(val);
	BASIC_CONSTRAINTS_free(bc);
}

/*
 * Hostile strings: control characters in a name, bytes that are not
 * UTF-8, a line break in a SAN, odd extensions. The description must stay
 * valid JSON and show what is there.
 */
static void
test_hostile(void **state)
{
	static const unsigned char t61[] = "\xff\x1b[31mred";
	X509_NAME *n = X509_NAME_new();
	X509 *x = X509_dup(fx.rsa_leaf);
	const json_t *other;
	struct pkid_err e;
	json_t *o;
	char *s;

	(void)state;
	assert_true(n != NULL && x != NULL);
	assert_true(X509_NAME_add_entry_by_NID(n, NID_commonName,
	    V_ASN1_T61STRING, t61, sizeof(t61) - 1, -1, 0));
	assert_true(X509_set_subject_name(x, n));
	add_evil_san(x);
	add_odd_exts(x);
	assert_true(X509_sign(x, fx.rsa_key, EVP_sha256()) > 0);

	pkid_err_clear(&e);
	assert_non_null(o = pkid_x509_show_cert(x, TC_T2030, &e));
	s = dump(o);
	/* RFC 2253 escapes the control character */
	assert_string_equal(str(o, "subject"), "CN=\xc3\xbf\\1B[31mred");
	assert_string_equal(extval(o, "san", 0),
	    "DNS:a.example\nsubject: CN=evil");
	assert_non_null(strstr(extval(o, "san", 1), "\\xff\\xfe@x"));
	assert_non_null(strstr(s, "Basic Constraints appears more than once"));
	assert_null(json_object_get(o, "basic_constraints"));
	other = json_array_get(json_object_get(o, "other_extensions"), 0);
	assert_string_equal(str(other, "oid"), "1.3.6.1.4.1.99999.1");
	assert_true(json_is_true(json_object_get(other, "critical")));
	free(s);
	json_decref(o);
	X509_NAME_free(n);
	X509_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cert_fields),
		cmocka_unit_test(test_cert_validity),
		cmocka_unit_test(test_ca_and_rsa),
		cmocka_unit_test(test_csr),
		cmocka_unit_test(test_csr_tampered),
		cmocka_unit_test(test_crl),
		cmocka_unit_test(test_show_all_mixed_pem),
		cmocka_unit_test(test_show_all_pkcs7_and_key),
		cmocka_unit_test(test_show_all_errors),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
