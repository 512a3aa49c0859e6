/*
 * ocsp.h - pkid's OCSP responder (RFC 6960, with the RFC 5019 profile
 * for caching): requests parsed with OpenSSL's OCSP API, answers signed
 * by a delegated responder certificate the CA issues per generation.
 *
 * Bytes in, bytes out: the HTTP glue (src/server/ocsp_route.c) hands the
 * request's DER and gets a DER OCSPResponse with what its caching headers
 * need. Every request gets an OCSPResponse: a request pkid cannot parse
 * is answered malformedRequest, one for another issuer unauthorized.
 */
#ifndef PKID_OCSP_OCSP_H
#define PKID_OCSP_OCSP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ocsp.h>

#include "core/buf.h"
#include "core/err.h"

struct pkid_ca;
struct pkid_ocsp;

/*
 * Parse a DER OCSPRequest (RFC 6960 4.1.1) of len bytes: at most
 * PKID_OCSP_MAX_REQUEST, the whole input consumed, 1 to
 * PKID_OCSP_MAX_IDS CertIDs, a nonce (when present) of 1 to
 * PKID_OCSP_MAX_NONCE octets (RFC 8954 2.1). *out is the caller's
 * (OCSP_REQUEST_free). Errors: ocsp-malformed.
 */
enum pkid_code pkid_ocsp_request_parse(const uint8_t *der, size_t len,
    OCSP_REQUEST **out, struct pkid_err *e);
/*
 * The same for the part of a GET path after "/ocsp/" (RFC 6960 A.1:
 * base64 of the DER, URL-encoded; the server has percent-decoded it).
 * Errors: ocsp-malformed.
 */
enum pkid_code pkid_ocsp_request_from_path(const char *b64,
    OCSP_REQUEST **out, struct pkid_err *e);

/* An answer, for the HTTP glue. */
struct pkid_ocsp_answer {
	struct pkid_buf der;		/* the OCSPResponse, DER (owned) */
	int cacheable;			/* 1: a successful answer without a
					 * nonce, the same for every asker
					 * until next_update (RFC 5019 6) */
	int64_t this_update;		/* its thisUpdate, epoch s */
	int64_t next_update;		/* its nextUpdate, epoch s */
	char etag[40];			/* "\"hex\"", when cacheable */
	int presigned;			/* 1: served from the cache, no
					 * signature made for it */
	enum pkid_code code;		/* why it is not successful (the
					 * access log's code), PKID_OK */
};

void pkid_ocsp_answer_init(struct pkid_ocsp_answer *a);
void pkid_ocsp_answer_free(struct pkid_ocsp_answer *a);

/*
 * The responder of ca's current signing generation (borrowed; it must
 * outlive the responder). Its certificate is loaded from, or issued and
 * written to, DIR/ocsp/responder-N.pem and .key (0600) when first needed.
 */
struct pkid_ocsp *pkid_ocsp_new(struct pkid_ca *ca, struct pkid_err *e);
void pkid_ocsp_free(struct pkid_ocsp *o);
/*
 * Answer req (NULL: the request did not parse, *perr says why: answered
 * malformedRequest). Thread-safe. A request without a nonce for one
 * certificate is answered from the cache of pre-signed responses when
 * the certificate's status has not changed since; with a nonce, the
 * answer is signed for it. Errors only for out-of-memory; failures of
 * the responder become internalError / tryLater answers.
 */
enum pkid_code pkid_ocsp_answer(struct pkid_ocsp *o, OCSP_REQUEST *req,
    const struct pkid_err *perr, struct pkid_ocsp_answer *a,
    struct pkid_err *e);
/*
 * Housekeeping, off the request path (once a second): renew the
 * responder certificate before it expires, and re-sign the cached
 * responses whose status changed or that passed half their validity.
 */
void pkid_ocsp_tick(struct pkid_ocsp *o);

#endif
