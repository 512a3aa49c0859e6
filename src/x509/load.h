/*
 * load.h - read certificates, CSRs, CRLs, keys and PKCS#7 bundles from
 * bytes: PEM or DER, detected. Every loader is "bytes in, object out",
 * bounded by src/core/limits.h, and refuses trailing bytes after DER.
 */
#ifndef PKID_X509_LOAD_H
#define PKID_X509_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/err.h"
#include "x509/csr.h"

/* What a blob turned out to hold. */
enum pkid_obj_kind {
	PKID_OBJ_NONE,
	PKID_OBJ_CERT,
	PKID_OBJ_CSR,
	PKID_OBJ_CRL,
	PKID_OBJ_PKCS7,
	PKID_OBJ_KEY,
};

/* One decoded object; exactly one pointer is set, per kind. */
struct pkid_obj {
	enum pkid_obj_kind kind;	/* which member is set */
	X509 *cert;			/* PKID_OBJ_CERT */
	X509_REQ *csr;			/* PKID_OBJ_CSR */
	X509_CRL *crl;			/* PKID_OBJ_CRL */
	STACK_OF(X509) *certs;		/* PKID_OBJ_PKCS7: its certificates */
	STACK_OF(X509_CRL) *crls;	/* PKID_OBJ_PKCS7: its CRLs */
	EVP_PKEY *key;			/* PKID_OBJ_KEY */
};

/* Free every member and reset; NULL is a no-op. */
void pkid_obj_clear(struct pkid_obj *o);

/*
 * Decode every object in p (one DER object, or any number of PEM blocks)
 * and call fn for each; fn takes ownership of the object's members.
 * Errors: unknown-format, pem-garbage, trailing-data, too-large.
 */
typedef enum pkid_code (*pkid_obj_fn)(struct pkid_obj *o, void *arg,
    struct pkid_err *e);
enum pkid_code pkid_x509_decode_all(const uint8_t *p, size_t len,
    pkid_obj_fn fn, void *arg, struct pkid_err *e);

/* One CSR, PEM or DER, at most PKID_MAX_CSR_SIZE. *out is the caller's. */
enum pkid_code pkid_x509_load_csr(const uint8_t *p, size_t len,
    X509_REQ **out, struct pkid_err *e);
/* Every certificate in PEM, DER or PKCS#7 (appended to *out, created if
 * NULL). At least one must be found. */
enum pkid_code pkid_x509_load_certs(const uint8_t *p, size_t len,
    STACK_OF(X509) **out, struct pkid_err *e);
/* Convenience: the certificates of a file. */
enum pkid_code pkid_x509_load_certs_file(const char *path,
    STACK_OF(X509) **out, struct pkid_err *e);
/* One certificate file (the first certificate in it). */
enum pkid_code pkid_x509_load_cert_file(const char *path, X509 **out,
    struct pkid_err *e);
/* One CRL, PEM or DER. */
enum pkid_code pkid_x509_load_crl(const uint8_t *p, size_t len,
    X509_CRL **out, struct pkid_err *e);
/* A private key file, unencrypted PEM or DER. */
enum pkid_code pkid_x509_load_key_file(const char *path, EVP_PKEY **out,
    struct pkid_err *e);

/* PEM text of a certificate / CRL / key appended to out. */
enum pkid_code pkid_x509_cert_pem(X509 *x, struct pkid_buf *out,
    struct pkid_err *e);
enum pkid_code pkid_x509_crl_pem(X509_CRL *crl, struct pkid_buf *out,
    struct pkid_err *e);
enum pkid_code pkid_x509_key_pem(EVP_PKEY *k, struct pkid_buf *out,
    struct pkid_err *e);

/*
 * Replace *x by a copy decoded from its own DER, so every cached field
 * (the public key included) is populated. Costly in OpenSSL 3.0.
 */
enum pkid_code pkid_x509_redecode(X509 **x, struct pkid_err *e);

/* SHA-256 fingerprint as lower-case hex (65 bytes). */
void pkid_x509_fingerprint(X509 *x, char out[65]);
/*
 * Hex SHA-256 of a SubjectPublicKeyInfo's DER into out: the key's identity
 * across certificates and requests (keyCompromise refusals). 0 on
 * success, -1 (out empty) when it cannot be encoded.
 */
int pkid_x509_spki_sha256_hex(const X509_PUBKEY *spki, char out[65]);
/* Subject (or issuer) one-line text, RFC 2253 order "CN=..,O=..". */
const char *pkid_x509_name_text(const X509_NAME *n, char *out, size_t len);
/* Serial as lower-case hex without leading zero pairs. */
const char *pkid_x509_serial_hex(const ASN1_INTEGER *s, char *out,
    size_t len);

#endif
