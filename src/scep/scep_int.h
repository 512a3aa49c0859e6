/*
 * scep_int.h - internals shared by the SCEP server's files.
 */
#ifndef PKID_SCEP_SCEP_INT_H
#define PKID_SCEP_SCEP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "scep/msg.h"
#include "scep/scep.h"

struct est_upstream;

struct pkid_scep {
	struct pkid_ca *ca;		/* the CA (borrowed) */
	X509 *ra;			/* decrypts and signs CertReps: the
					 * RA, or the CA when RSA; NULL if
					 * neither */
	EVP_PKEY *ra_key;		/* its key */
	int compat;			/* [scep] compat */
	struct est_upstream *up;	/* RA mode: the upstream CA that
					 * issues (ra.c), NULL: issue here */
	atomic_ullong n_ops;		/* PKIOperation requests */
	atomic_ullong n_issued;		/* SUCCESS */
	atomic_ullong n_pending;	/* PENDING */
	atomic_ullong n_failed;		/* FAILURE */
	atomic_ullong n_bad;		/* 400 */
	atomic_ullong n_no_next_ca;	/* GetNextCACert 404 */
};

/* What a PKIOperation comes to, before the CertRep is built. */
struct scep_outcome {
	int status;			/* enum pkid_scep_status */
	enum pkid_scep_fail fail;	/* failInfo when FAILURE */
	X509 *cert;			/* SUCCESS: certificate (owned) */
	X509_CRL *crl;			/* SUCCESS of GetCRL (owned) */
	char serial[48];		/* issued serial, for the log */
	int64_t request_id;		/* request row, for the log */
};

void pkid_scep_outcome_free(struct scep_outcome *o);

/*
 * Decide a decrypted request: PKCSReq, RenewalReq, CertPoll, GetCert or
 * GetCRL. Sets o; returns PKID_OK for SUCCESS and PENDING, else the code
 * that explains the FAILURE (o->fail set), for the log.
 */
enum pkid_code pkid_scep_decide(struct pkid_scep *s,
    const struct pkid_scep_msg *m, const struct pkid_buf *inner,
    const char *client, struct scep_outcome *o, struct pkid_err *e);

/*
 * Check a CSR's challengePassword: the static [scep] challenge, else an
 * unused, unexpired one-time challenge, which is not consumed here: once
 * receives its hex SHA-256 ("" for the static one), for the store write
 * that records the accepted request (pkid_request.challenge_hash) to
 * consume. profile receives the profile to issue under. challenge-bad
 * when neither matches.
 */
enum pkid_code pkid_scep_challenge_check(struct pkid_scep *s,
    X509_REQ *csr, char *profile, size_t len, char once[65],
    struct pkid_err *e);

/* A request authorised here for the upstream CA (RA mode, ra.c). */
struct scep_ra_req {
	const char *tid;		/* transactionID */
	X509_REQ *csr;			/* the CSR (borrowed) */
	const char *profile;		/* profile it was authorised for */
	const char *requester;		/* scep:CLIENT, for the store */
	const char *challenge;		/* one-time challenge hash to consume
					 * when the upstream issues or queues
					 * it, NULL: none */
};

/*
 * RA mode when the EST label [scep] upstream_label names (default [est])
 * has upstream set: s->up is made, else left NULL. Errors:
 * config-bad-value for an unknown label, pkid_est_ra_new's.
 */
enum pkid_code pkid_scep_ra_new(struct pkid_scep *s, struct pkid_err *e);
void pkid_scep_ra_free(struct pkid_scep *s);

/*
 * RA mode: a new transaction, authorised: simpleenroll at the upstream,
 * record the transaction, fill o: SUCCESS with the upstream's
 * certificate, PENDING on its 202. An upstream failure returns its
 * upstream-* code (o: FAILURE badRequest), recorded as failed.
 */
enum pkid_code pkid_scep_ra_enroll(struct pkid_scep *s,
    const struct scep_ra_req *q, struct scep_outcome *o,
    struct pkid_err *e);

/*
 * RA mode: ask the upstream again for ra-pending request id (its
 * CSR DER in der). SUCCESS stores the certificate; an unreachable
 * upstream leaves it PENDING (logged); a refusal marks it failed.
 */
enum pkid_code pkid_scep_ra_poll(struct pkid_scep *s, int64_t id,
    const struct pkid_buf *der, struct scep_outcome *o,
    struct pkid_err *e);

/*
 * RA mode: the upstream CA's certificates (issuing CA first), from the
 * cache, fetched when there is none, when older than
 * PKID_EST_RA_CACERTS_TTL_S, or when refresh is set (a cached copy
 * failed a check); at most once per PKID_EST_RA_CACERTS_RETRY_S after a
 * failure. A cached copy is served while the upstream cannot be reached.
 * *out is the caller's (sk_X509_pop_free). Errors: the upstream-* codes
 * when no copy was ever fetched.
 */
enum pkid_code pkid_scep_ra_cacerts(struct pkid_scep *s, int refresh,
    STACK_OF(X509) **out, struct pkid_err *e);

/*
 * RA mode GetCACert (RFC 8894 4.2.1.2): the upstream's issuing CA, this
 * RA's certificate (clients encrypt to it, it signs CertReps), then the
 * rest of the upstream's chain, as certificates-only DER into out
 * (initialised here). Errors: those of pkid_scep_ra_cacerts.
 */
enum pkid_code pkid_scep_ra_ca_cert(struct pkid_scep *s,
    struct pkid_buf *out, struct pkid_err *e);

/*
 * RA mode RenewalReq (RFC 8894 3.3.1.2): the signer was issued by the
 * upstream, so it is not in the local certificate table. Accept it when
 * it is not a CA, is current and chains to the upstream's CA
 * certificates, the CSR asks for the signer's subject and its issuer's
 * CRL says it is not revoked (pkid_est_ra_revocation; unless
 * upstream_revocation = off); profile receives [scep] profile. Errors:
 * scep-renewal-signer, the upstream-* codes when its CA certificates
 * cannot be had, revoked and revocation-unknown (audited).
 */
enum pkid_code pkid_scep_ra_check_renewal(struct pkid_scep *s,
    X509 *signer, X509_REQ *csr, char *profile, size_t len,
    struct pkid_err *e);

#endif
