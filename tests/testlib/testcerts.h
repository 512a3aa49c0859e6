/*
 * testcerts.h - keys, certificates, CSRs, CRLs and PKCS#7 bundles made with
 * OpenSSL for unit tests, at fixed times so tests are deterministic.
 *
 * Header-only (static inline): CMake builds each unit test from its one
 * _test.c file, with tests/testlib on the include path. Never linked into
 * production code. A failing helper aborts: a broken fixture is not a case
 * under test.
 *
 * Ownership: every pointer returned is the caller's; free objects with
 * their OpenSSL _free and byte buffers with OPENSSL_free.
 */
#ifndef PKID_TESTLIB_TESTCERTS_H
#define PKID_TESTLIB_TESTCERTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* 2030-01-01T00:00:00Z, the epoch of every fixture. */
#define TC_T2030 ((time_t)1893456000)
#define TC_DAY ((time_t)86400)

static inline void
tc_die(const char *what, int line)
{
	fprintf(stderr, "testcerts.h:%d: %s failed\n", line, what);
	ERR_print_errors_fp(stderr);
	abort();
}

#define TC_OK(cond) do {						\
	if (!(cond))							\
		tc_die(#cond, __LINE__);				\
} while (0)

/* A fresh EC key on curve ("P-256", "P-384"). */
static inline EVP_PKEY *
tc_key_ec(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	TC_OK(k != NULL);
	return k;
}

/* A fresh RSA key of bits bits. */
static inline EVP_PKEY *
tc_key_rsa(size_t bits)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);

	TC_OK(k != NULL);
	return k;
}

static inline X509_NAME *
tc_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	TC_OK(n != NULL);
	TC_OK(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	    (const unsigned char *)"pkid test", -1, -1, 0));
	TC_OK(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0));
	return n;
}

/* Add extensions given as "name", "value" pairs ending with NULL. */
static inline void
tc_exts_to_stack(X509V3_CTX *ctx, const char *const *exts,
    STACK_OF(X509_EXTENSION) *sk, X509 *x, X509_CRL *crl)
{
	/* certificatePolicies and other "raw" extensions want a config. */
	CONF *conf = NCONF_new(NULL);
	X509_EXTENSION *ex;
	int i;

	TC_OK(conf != NULL);
	X509V3_set_nconf(ctx, conf);
	for (i = 0; exts != NULL && exts[i] != NULL; i += 2) {
		ex = X509V3_EXT_nconf(conf, ctx, exts[i], exts[i + 1]);
		TC_OK(ex != NULL);
		if (sk != NULL)
			TC_OK(sk_X509_EXTENSION_push(sk, ex));
		else if (x != NULL)
			TC_OK(X509_add_ext(x, ex, -1));
		else
			TC_OK(X509_CRL_add_ext(crl, ex, -1));
		if (sk == NULL)
			X509_EXTENSION_free(ex);
	}
	NCONF_free(conf);
}

/*
 * A certificate for cn and key, valid [nb, na], signed by issuer/ikey
 * (self-signed when issuer is NULL), with extensions exts.
 */
static inline X509 *
tc_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
    long serial, time_t nb, time_t na, const char *const *exts)
{
	X509V3_CTX ctx;
	X509_NAME *n = tc_name(cn);
	X509 *x = X509_new();

	TC_OK(x != NULL);
	TC_OK(X509_set_version(x, X509_VERSION_3));
	TC_OK(ASN1_INTEGER_set(X509_get_serialNumber(x), serial));
	TC_OK(X509_set_subject_name(x, n));
	TC_OK(X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n));
	TC_OK(ASN1_TIME_set(X509_getm_notBefore(x), nb) != NULL);
	TC_OK(ASN1_TIME_set(X509_getm_notAfter(x), na) != NULL);
	TC_OK(X509_set_pubkey(x, key));
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	tc_exts_to_stack(&ctx, exts, NULL, x, NULL);
	TC_OK(X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

/* A CSR for cn signed by key, with an extension request and password. */
static inline X509_REQ *
tc_csr(const char *cn, EVP_PKEY *key, const char *const *exts,
    const char *password)
{
	STACK_OF(X509_EXTENSION) *sk = NULL;
	X509V3_CTX ctx;
	X509_NAME *n = tc_name(cn);
	X509_REQ *r = X509_REQ_new();

	TC_OK(r != NULL);
	TC_OK(X509_REQ_set_version(r, X509_REQ_VERSION_1));
	TC_OK(X509_REQ_set_subject_name(r, n));
	TC_OK(X509_REQ_set_pubkey(r, key));
	if (exts != NULL) {
		TC_OK((sk = sk_X509_EXTENSION_new_null()) != NULL);
		X509V3_set_ctx(&ctx, NULL, NULL, r, NULL, 0);
		tc_exts_to_stack(&ctx, exts, sk, NULL, NULL);
		TC_OK(X509_REQ_add_extensions(r, sk));
		sk_X509_EXTENSION_pop_free(sk, X509_EXTENSION_free);
	}
	if (password != NULL)
		TC_OK(X509_REQ_add1_attr_by_NID(r, NID_pkcs9_challengePassword,
		    MBSTRING_UTF8, (const unsigned char *)password, -1));
	TC_OK(X509_REQ_sign(r, key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return r;
}

/* One revoked entry for tc_crl; reason -1 for none. */
struct tc_revoked {
	long serial;	/* serial of the revoked certificate */
	time_t when;	/* revocation date */
	int reason;	/* CRLReason, -1 for no reason extension */
};

/* A v2 CRL of issuer with CRL number num and an AKI. */
static inline X509_CRL *
tc_crl(X509 *issuer, EVP_PKEY *ikey, time_t this_upd, time_t next_upd,
    long num, const struct tc_revoked *rv, size_t nrv)
{
	static const char *const aki[] = { "authorityKeyIdentifier",
	    "keyid:always", NULL };
	X509V3_CTX ctx;
	X509_CRL *c = X509_CRL_new();
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *n = ASN1_INTEGER_new();
	size_t i;

	TC_OK(c != NULL && n != NULL);
	TC_OK(X509_CRL_set_version(c, X509_CRL_VERSION_2));
	TC_OK(X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer)));
	TC_OK((t = ASN1_TIME_set(NULL, this_upd)) != NULL);
	TC_OK(X509_CRL_set1_lastUpdate(c, t));
	TC_OK(ASN1_TIME_set(t, next_upd) != NULL);
	TC_OK(X509_CRL_set1_nextUpdate(c, t));
	for (i = 0; i < nrv; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();
		ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();

		TC_OK(r != NULL && s != NULL && e != NULL);
		TC_OK(ASN1_INTEGER_set(s, rv[i].serial));
		TC_OK(X509_REVOKED_set_serialNumber(r, s));
		TC_OK(ASN1_TIME_set(t, rv[i].when) != NULL);
		TC_OK(X509_REVOKED_set_revocationDate(r, t));
		if (rv[i].reason >= 0) {
			TC_OK(ASN1_ENUMERATED_set(e, rv[i].reason));
			TC_OK(X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0,
			    0));
		}
		TC_OK(X509_CRL_add0_revoked(c, r));
		ASN1_INTEGER_free(s);
		ASN1_ENUMERATED_free(e);
	}
	TC_OK(ASN1_INTEGER_set(n, num));
	TC_OK(X509_CRL_add1_ext_i2d(c, NID_crl_number, n, 0, 0));
	X509V3_set_ctx(&ctx, issuer, NULL, NULL, c, 0);
	tc_exts_to_stack(&ctx, aki, NULL, NULL, c);
	TC_OK(X509_CRL_sort(c));
	TC_OK(X509_CRL_sign(c, ikey, EVP_sha256()) > 0);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(n);
	return c;
}

/* DER encodings; *len is set, free the result with OPENSSL_free. */
#define TC_DER(fname, type, i2d)					\
static inline unsigned char *						\
fname(type *x, size_t *len)						\
{									\
	unsigned char *p = NULL;					\
	int n = i2d(x, &p);						\
									\
	TC_OK(n > 0);							\
	*len = (size_t)n;						\
	return p;							\
}
TC_DER(tc_der_cert, X509, i2d_X509)
TC_DER(tc_der_csr, X509_REQ, i2d_X509_REQ)
TC_DER(tc_der_crl, X509_CRL, i2d_X509_CRL)
#undef TC_DER

/* The bytes written to a memory BIO, NUL-terminated, as OPENSSL_malloc. */
static inline unsigned char *
tc_bio_bytes(BIO *b, size_t *len)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);
	unsigned char *out;

	TC_OK(n >= 0);
	TC_OK((out = OPENSSL_malloc((size_t)n + 1)) != NULL);
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	BIO_free(b);
	return out;
}

/* PEM encodings; *len is set, free with OPENSSL_free. */
#define TC_PEM(fname, type, call)					\
static inline unsigned char *						\
fname(type *x, size_t *len)						\
{									\
	BIO *b = BIO_new(BIO_s_mem());					\
									\
	TC_OK(b != NULL);						\
	TC_OK(call(b, x));						\
	return tc_bio_bytes(b, len);					\
}
TC_PEM(tc_pem_cert, X509, PEM_write_bio_X509)
TC_PEM(tc_pem_csr, X509_REQ, PEM_write_bio_X509_REQ)
TC_PEM(tc_pem_crl, X509_CRL, PEM_write_bio_X509_CRL)
#undef TC_PEM

/* A certs-only PKCS#7 SignedData (RFC 2315 9.1) of certs and crl. */
static inline unsigned char *
tc_p7_der(X509 **certs, size_t ncerts, X509_CRL *crl, size_t *len)
{
	PKCS7 *p7 = PKCS7_new();
	unsigned char *p = NULL;
	size_t i;
	int n;

	TC_OK(p7 != NULL);
	TC_OK(PKCS7_set_type(p7, NID_pkcs7_signed));
	TC_OK(PKCS7_content_new(p7, NID_pkcs7_data));
	for (i = 0; i < ncerts; i++)
		TC_OK(PKCS7_add_certificate(p7, certs[i]));
	if (crl != NULL)
		TC_OK(PKCS7_add_crl(p7, crl));
	TC_OK((n = i2d_PKCS7(p7, &p)) > 0);
	PKCS7_free(p7);
	*len = (size_t)n;
	return p;
}

/* Concatenate two buffers (OPENSSL_malloc, NUL-terminated). */
static inline unsigned char *
tc_cat(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen, size_t *len)
{
	unsigned char *p = OPENSSL_malloc(alen + blen + 1);

	TC_OK(p != NULL);
	memcpy(p, a, alen);
	memcpy(p + alen, b, blen);
	p[alen + blen] = '\0';
	*len = alen + blen;
	return p;
}

/* Extensions of a typical TLS leaf, for tc_cert. */
#define TC_LEAF_EXTS(san)						\
	"basicConstraints", "critical,CA:FALSE",			\
	"keyUsage", "critical,digitalSignature,keyEncipherment",	\
	"extendedKeyUsage", "serverAuth,clientAuth",			\
	"subjectAltName", (san),					\
	"subjectKeyIdentifier", "hash",					\
	"authorityKeyIdentifier", "keyid:always",			\
	"authorityInfoAccess",						\
	"OCSP;URI:http://ocsp.example/,caIssuers;URI:http://ca.example/c", \
	"crlDistributionPoints", "URI:http://crl.example/ca.crl",	\
	"certificatePolicies", "2.23.140.1.2.1"

/* Extensions of a root CA, for tc_cert. */
#define TC_CA_EXTS							\
	"basicConstraints", "critical,CA:TRUE,pathlen:0",		\
	"keyUsage", "critical,keyCertSign,cRLSign",			\
	"subjectKeyIdentifier", "hash",					\
	"authorityKeyIdentifier", "keyid:always"

#endif
