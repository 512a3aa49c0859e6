/*
 * show.h - describe certificates, CSRs, CRLs, PKCS#7 bundles and private
 * keys as JSON, for 'pkictl show' and anything else that wants to tell a
 * person what an object is. Library code: builds json_t, never prints.
 *
 * Every description is an object with a "type" member ("certificate",
 * "csr", "crl", "pkcs7", "private-key") and the facts a person asks for
 * first: names, serial, validity relative to a given time, key, signature
 * algorithm, the common extensions and a SHA-256 fingerprint. Extensions
 * are objects { "critical": bool, "values": [ "text", ... ] } so text
 * renderers can print them without knowing each one. Members that do not
 * apply are absent, never null, except "next_update" of a CRL.
 *
 * Secrets are never described: a private key shows its type and size only,
 * a CSR's challenge password only its presence.
 */
#ifndef PKID_X509_SHOW_H
#define PKID_X509_SHOW_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "core/err.h"
#include "core/limits.h"
#include "x509/load.h"


/*
 * Describe one certificate. now is the reference time for the relative
 * validity text ("expires in 30 days"). Returns a new reference the caller
 * json_decref()s, or NULL with e set (out-of-memory only: anything odd in
 * the certificate is reported in its "warnings" member).
 */
json_t *pkid_x509_show_cert(X509 *x, time_t now, struct pkid_err *e);
/* Describe one CSR, its extension request and whether it verifies. */
json_t *pkid_x509_show_csr(X509_REQ *r, time_t now, struct pkid_err *e);
/* Describe one CRL, its revoked entries included. */
json_t *pkid_x509_show_crl(X509_CRL *crl, time_t now, struct pkid_err *e);
/* Describe any decoded object (a PKCS#7 as its certificates and CRLs). */
json_t *pkid_x509_show_obj(const struct pkid_obj *o, time_t now,
    struct pkid_err *e);

/*
 * Decode every object in p (PEM blocks or one DER object, as
 * pkid_x509_decode_all, or the base64 of one DER object with or without
 * line breaks, as an EST response body is) and append one description
 * each to the JSON array arr (borrowed); those read from base64 carry
 * "encoding": "base64". On error the objects decoded before it stay in
 * arr. Errors: those of pkid_x509_decode_all, base64-bad, out-of-memory.
 */
enum pkid_code pkid_x509_show_all(const uint8_t *p, size_t len, time_t now,
    json_t *arr, struct pkid_err *e);

#endif
