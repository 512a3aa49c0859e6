/*
 * ra.h - registration-authority mode (ra.c): the upstream EST CA of a
 * label with upstream = URL, for the EST server and for SCEP's RA mode
 * (src/scep/ra.c), which authorise here and let the upstream issue.
 */
#ifndef PKID_EST_RA_H
#define PKID_EST_RA_H

#include <openssl/x509.h>

#include "core/buf.h"
#include "core/cfg.h"
#include "core/err.h"
#include "http/http.h"

struct est_upstream;

/*
 * The upstream of cfg (borrowed; must outlive the result): its trust,
 * the RA's client certificate and key, a pool of kept-alive connections.
 * NULL with e set: io-open, the loaders' codes, config-bad-value.
 */
struct est_upstream *pkid_est_ra_new(const struct pkid_est_label *cfg,
    struct pkid_err *e);
void pkid_est_ra_free(struct est_upstream *up);

/*
 * Forward op ("cacerts", "simpleenroll", "simplereenroll") with the
 * base64 CSR body (NULL for cacerts) to the upstream and fill resp with
 * its answer (200, 202 and client errors relayed). Blocks the calling
 * worker thread for at most upstream_timeout. Errors: the upstream-*
 * codes, each logged once per cause with the URL and the fix.
 */
enum pkid_code pkid_est_ra_forward(struct est_upstream *up, const char *op,
    const struct pkid_buf *body, struct pkid_http_resp *resp,
    struct pkid_err *e);

/*
 * simpleenroll csr with the upstream (RFC 7030 4.2.1) for a caller that
 * is not an EST client (SCEP RA mode). PKID_OK with *cert (the caller's,
 * the issued certificate for the CSR's key) on 200, or *cert NULL on 202
 * (pending upstream: send the same CSR again later). Errors: the
 * upstream-* codes of pkid_est_ra_forward; upstream-bad-response when
 * the upstream refused the request (4xx, quoted) or its answer holds no
 * certificate for the CSR's key.
 */
enum pkid_code pkid_est_ra_enroll(struct est_upstream *up, X509_REQ *csr,
    X509 **cert, struct pkid_err *e);

/*
 * simpleenroll csr, whose key the RA generated (serverkeygen in RA mode,
 * RFC 7030 4.4), with the upstream. PKID_OK with *cert (the caller's,
 * the issued certificate for the CSR's key) on 200, or with *cert NULL
 * and resp holding the upstream's client error (4xx) as
 * pkid_est_ra_forward relays it. Only the CSR goes upstream. Errors: the
 * upstream-* codes of pkid_est_ra_forward; upstream-bad-response when
 * the answer holds no certificate for the CSR's key; not-implemented
 * when the upstream holds the request for approval (202): the RA keeps
 * no generated key waiting.
 */
enum pkid_code pkid_est_ra_keygen(struct est_upstream *up, X509_REQ *csr,
    struct pkid_http_resp *resp, X509 **cert, struct pkid_err *e);

/*
 * Verify a device's TLS client certificate leaf (sent: the chain it sent,
 * leaf first, or NULL) for simplereenroll in RA mode: it must chain, for
 * TLS client use at pkid's clock, to an anchor of upstream_cacert (the
 * anchors tls/client-ca.pem lists for this label too), with the
 * upstream's CA certificates (its /cacerts, kept
 * PKID_EST_RA_CACERTS_TTL_S, fetched again once when the kept copy does
 * not verify leaf) as intermediates; then its revocation
 * (pkid_est_ra_revocation). Errors: the verify codes of
 * pkid_verify_map_x509_err, out-of-memory, crypto-error, and those of
 * pkid_est_ra_revocation.
 */
enum pkid_code pkid_est_ra_verify_client(struct est_upstream *up,
    X509 *leaf, STACK_OF(X509) *sent, struct pkid_err *e);

/*
 * Revocation of leaf, a certificate the upstream issued that has been
 * verified (EST re-enrollment, SCEP RenewalReq), from its issuer's CRL
 * (ra_crl.h: distribution points, then upstream_crl; the issuer is one
 * of the upstream's CA certificates, pkid_est_ra_cas, or upstream_cacert).
 * PKID_OK when not revoked, or when upstream_revocation = off; how (may
 * be NULL, len bytes) says which. Errors: revoked; revocation-unknown
 * (the message says why, each cause is logged once).
 */
enum pkid_code pkid_est_ra_revocation(struct est_upstream *up, X509 *leaf,
    char *how, size_t len, struct pkid_err *e);

/*
 * Seconds after which a renewal with leaf refused as revocation-unknown
 * may pass (a CRL server that did not answer, an expired CRL): an EST
 * 503's Retry-After. 0 when retrying will not help (nothing to fetch, a
 * CRL its issuer did not sign) or up or leaf is NULL.
 */
int pkid_est_ra_retry_after(struct est_upstream *up, X509 *leaf);

/*
 * The upstream's CA certificates (RFC 7030 4.1), in its order (pkid:
 * issuing CA first, up to the root); *out is the caller's
 * (sk_X509_pop_free). Trusted as far as the TLS channel is: the upstream
 * authenticated with upstream_cacert. Errors: the upstream-* codes of
 * pkid_est_ra_forward; upstream-bad-response when the answer is not 200
 * with at least one certificate.
 */
enum pkid_code pkid_est_ra_cacerts(struct est_upstream *up,
    STACK_OF(X509) **out, struct pkid_err *e);

/*
 * The same, kept in up (EST re-enrollment and SCEP RA mode use this one
 * cache code, each with its own upstream object): fetched when there is no copy, when it is older than
 * PKID_EST_RA_CACERTS_TTL_S, or when refresh is set (the kept copy failed
 * a check); at most once per PKID_EST_RA_CACERTS_RETRY_S after a failure.
 * A kept copy is served while the upstream cannot be reached. *fetched
 * (may be NULL) is 1 when this call brought a new copy. Errors: the
 * upstream-* codes when no copy was ever fetched.
 */
enum pkid_code pkid_est_ra_cas(struct est_upstream *up, int refresh,
    STACK_OF(X509) **out, int *fetched, struct pkid_err *e);

/* An AD CS (certsrv) upstream keeps the request ids of requests held
 * for approval in path across restarts (certsrv.h); others: nothing. */
void pkid_est_ra_state(struct est_upstream *up, const char *path);

/* The upstream URL, for messages (borrowed). */
const char *pkid_est_ra_url(const struct est_upstream *up);

#endif
