/*
 * scep.h - the SCEP server (RFC 8894) as the application sees it: one
 * context per CA, one handler for /scep and /cgi-bin/pkiclient.exe.
 */
#ifndef PKID_SCEP_SCEP_H
#define PKID_SCEP_SCEP_H

#include "ca/ca.h"
#include "core/err.h"
#include "http/http.h"

struct pkid_scep;

/* Counters for the status page and metrics (monotonic). */
struct pkid_scep_stats {
	unsigned long long operations;	/* PKIOperation requests */
	unsigned long long issued;	/* CertRep SUCCESS */
	unsigned long long pending;	/* CertRep PENDING */
	unsigned long long failed;	/* CertRep FAILURE */
	unsigned long long bad_requests; /* answered 400 (no CertRep) */
	unsigned long long no_next_ca;	/* GetNextCACert before a shadow */
	int compat;			/* DES3 and SHA-1 accepted */
};

/*
 * Make the SCEP context of ca (borrowed; must outlive it). Loads the RA
 * certificate and key (DIR/scep/ra.pem, ra.key), or the issuing CA's key
 * when it is RSA. Without either, PKIOperation answers scep-unavailable
 * (logged once here). Caller frees with pkid_scep_free.
 */
enum pkid_code pkid_scep_new(struct pkid_ca *ca, struct pkid_scep **out,
    struct pkid_err *e);
void pkid_scep_free(struct pkid_scep *s);

/* Register /scep and /cgi-bin/pkiclient.exe (GET, POST) on r. */
enum pkid_code pkid_scep_routes(struct pkid_scep *s, struct pkid_router *r,
    struct pkid_err *e);

/* The HTTP handler itself (ctx: struct pkid_scep *); thread-safe. */
void pkid_scep_handle(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp);

void pkid_scep_get_stats(const struct pkid_scep *s,
    struct pkid_scep_stats *out);

/*
 * Registration-authority mode: a new RSA-2048 SCEP RA key and its
 * certificate from the upstream CA ([scep] upstream_label's EST label),
 * enrolled over EST with the RA's upstream credentials, written to
 * DIR/scep/ra.key and DIR/scep/ra.pem (where pkid loads them at start).
 * Subject: the current RA certificate's. *out: the certificate (the
 * caller's). Errors: config-bad-value when no upstream is configured,
 * request-pending when the upstream holds it for approval (nothing is
 * written), upstream-bad-response when it lacks digitalSignature or
 * keyEncipherment, the upstream-* codes, io-write.
 */
enum pkid_code pkid_scep_ra_cert_enroll(struct pkid_ca *ca, X509 **out,
    struct pkid_err *e);

/*
 * Make a one-time challenge for profile (NULL: [scep] profile) valid ttl
 * seconds; its text (hex of 16 random bytes: PrintableString-safe) goes
 * to out (at least 33 bytes). Only its SHA-256 is stored; id receives
 * the challenge's id, the first PKID_CHALLENGE_ID_LEN hex digits of that
 * hash (pkictl scep challenge list|revoke).
 */
enum pkid_code pkid_scep_challenge_new(struct pkid_ca *ca,
    const char *profile, int64_t ttl, char *out, size_t len,
    char id[PKID_CHALLENGE_ID_LEN + 1], struct pkid_err *e);

#endif
