/*
 * msg.h - EST (RFC 7030, RFC 8951) message encoding: request bodies in,
 * response bodies out. No network, no store: "bytes in, struct out", so
 * every function here is testable alone and fuzzable.
 */
#ifndef PKID_EST_MSG_H
#define PKID_EST_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/err.h"
#include "http/http.h"

/* RFC 7030 4.1.3, 4.2.3: the certs-only response media type. */
#define PKID_EST_CT_CERTS "application/pkcs7-mime; smime-type=certs-only"
/* RFC 7030 4.2.1: the request media type. */
#define PKID_EST_CT_PKCS10 "application/pkcs10"

/*
 * 1 when the media type of content_type (parameters ignored, case
 * insensitive, RFC 9110 8.3.1) is want; 0 otherwise or when NULL.
 */
int pkid_est_media_is(const char *content_type, const char *want);

/*
 * The body of simpleenroll / simplereenroll / serverkeygen: base64 (RFC
 * 8951 3: with or without line breaks) of a PKCS#10 DER. *out is the
 * caller's. Errors: base64-bad, csr-malformed, trailing-data, too-large.
 * The CSR signature is not checked here.
 */
enum pkid_code pkid_est_csr_decode(const uint8_t *body, size_t len,
    X509_REQ **out, struct pkid_err *e);

/*
 * certs-only PKCS#7 (a SignedData without signers, RFC 7030 4.1.3) of
 * certs as base64 on one line into out (initialised here). Errors:
 * crypto-failed, out-of-memory.
 */
enum pkid_code pkid_est_certs_b64(STACK_OF(X509) *certs,
    struct pkid_buf *out, struct pkid_err *e);

/*
 * Send b64 (one line) as an EST base64 body of type ct with its
 * Content-Transfer-Encoding header (RFC 8951 3); with lines set, in lines
 * of 64 characters (RFC 2045 6.8), which libEST's clients need.
 */
enum pkid_code pkid_est_resp_b64(struct pkid_http_resp *resp,
    const char *ct, const struct pkid_buf *b64, int lines,
    struct pkid_err *e);
/* One-line base64 in into out, in lines of 64 characters when lines is
 * set, else as it is. */
enum pkid_code pkid_est_b64_layout(const struct pkid_buf *in, int lines,
    struct pkid_buf *out, struct pkid_err *e);

/*
 * The serverkeygen response (RFC 7030 4.4.2): multipart/mixed with the
 * private key as PKCS#8 (application/pkcs8) and cert as certs-only
 * PKCS#7, both base64. boundary is the part delimiter (at most 70
 * characters of RFC 2046 bchars without space).
 */
enum pkid_code pkid_est_resp_serverkeygen(struct pkid_http_resp *resp,
    EVP_PKEY *key, X509 *cert, const char *boundary, int lines,
    struct pkid_err *e);

/*
 * HTTP Basic credentials (RFC 7617) of an Authorization header value.
 * Returns 0 and fills user and pw (NUL-terminated) when hdr is Basic with
 * valid base64 of "user:password" within the limits; -1 otherwise.
 */
int pkid_est_basic_parse(const char *hdr, char *user, size_t ulen,
    char *pw, size_t plen);

/*
 * The CSR's challengePassword (PKCS#9) as text into out; *present says
 * whether the attribute exists. Errors: csr-malformed when it is not one
 * string value or does not fit.
 */
enum pkid_code pkid_est_csr_challenge(X509_REQ *csr, char *out, size_t len,
    int *present, struct pkid_err *e);

#endif
