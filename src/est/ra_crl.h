/*
 * ra_crl.h - revocation of certificates an upstream CA issued, from that
 * CA's CRLs, for registration-authority mode (ra.c): an EST
 * simplereenroll or a SCEP RenewalReq authenticated by such a certificate
 * is forwarded only when its issuer's CRL says it is not revoked.
 *
 * Where the CRL is (RFC 5280 4.2.1.13): the certificate's CRL
 * distribution points (fullName URIs, http:// or https://, at most
 * PKID_RA_CRL_MAX_URIS; points limited to some reasons or naming a
 * cRLIssuer are skipped), then the label's upstream_crl, tried in that
 * order until one gives an answer.
 *
 * Each URL's CRL is kept (PKID_RA_CRL_CACHE URLs per upstream, the least
 * recently used one makes room) until its nextUpdate, at most
 * PKID_RA_CRL_MAX_AGE_S; after a failed fetch that URL is not fetched
 * again for PKID_RA_CRL_RETRY_S. One thread fetches a URL at a time
 * (others wait for its result, at most the fetch's time budget plus a
 * second), without holding the cache's lock over the network.
 */
#ifndef PKID_EST_RA_CRL_H
#define PKID_EST_RA_CRL_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "core/buf.h"
#include "core/err.h"

struct pkid_ra_crl;

/*
 * How a CRL is fetched: the body at url into out (initialised by the
 * callee with max as its bound; the caller frees it). Errors as
 * pkid_http_get's; usage means the URL itself is unusable.
 */
typedef enum pkid_code (*pkid_ra_crl_fetch_fn)(void *arg, const char *url,
    size_t max, struct pkid_buf *out, struct pkid_err *e);

/*
 * A cache for the upstream named name (for messages; copied) with the
 * fallback URL (upstream_crl, "" none; copied), fetching with fetch(arg)
 * in at most timeout_s seconds. NULL with e set: out-of-memory.
 */
struct pkid_ra_crl *pkid_ra_crl_new(const char *name, const char *fallback,
    pkid_ra_crl_fetch_fn fetch, void *arg, int timeout_s,
    struct pkid_err *e);
void pkid_ra_crl_free(struct pkid_ra_crl *c);

/*
 * Is leaf, issued by issuer (a verified CA certificate of the upstream,
 * borrowed), revoked? PKID_OK when a current CRL of issuer does not list
 * it; how (may be NULL, len bytes) then says which CRL. Errors: revoked
 * (serial, date and RFC 5280 5.3.1 reason in the message);
 * revocation-unknown when no CRL gave an answer: no distribution point
 * and no upstream_crl, every fetch failed, the CRL is malformed, not
 * signed by issuer, expired or of a kind pkid does not support (the
 * message says which and where). Each cause is logged once per URL.
 */
enum pkid_code pkid_ra_crl_check(struct pkid_ra_crl *c, X509 *leaf,
    X509 *issuer, char *how, size_t len, struct pkid_err *e);

/*
 * Seconds after which a check of leaf that failed with
 * revocation-unknown may succeed: the rest of the back-off after a fetch
 * that failed for a reason that may pass (the server did not answer, an
 * expired CRL), at least 1; 0 when the cause will not pass by itself (no
 * CRL source, a CRL its issuer did not sign).
 */
int pkid_ra_crl_retry_after(struct pkid_ra_crl *c, X509 *leaf);

/* Fetches tried so far, successful or not (tests, status). */
unsigned long pkid_ra_crl_fetches(struct pkid_ra_crl *c);

/*
 * A fetched CRL: DER (RFC 5280 4.2.1.13: "a single DER encoded CRL") of
 * at most PKID_RA_CRL_MAX_SIZE bytes, wholly consumed, issued and signed
 * by issuer, of a kind pkid supports (pkid_crl_unsupported), with a
 * nextUpdate. Its times are checked by pkid_ra_crl_current. *out is the
 * caller's. Errors: too-large, crl-malformed, crl-problem.
 */
enum pkid_code pkid_ra_crl_parse(const uint8_t *der, size_t len,
    X509 *issuer, X509_CRL **out, struct pkid_err *e);

/*
 * crl is current at now: thisUpdate at most PKID_RA_CRL_SKEW_S ahead,
 * nextUpdate not reached (RFC 5280 5.1.2.4, 5.1.2.5). Error: crl-problem
 * with both dates.
 */
enum pkid_code pkid_ra_crl_current(X509_CRL *crl, time_t now,
    struct pkid_err *e);

#endif
