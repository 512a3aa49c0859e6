/*
 * scep_int.h - internals shared by the SCEP server's files.
 */
#ifndef PKID_SCEP_SCEP_INT_H
#define PKID_SCEP_SCEP_INT_H

#include <stdatomic.h>

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
 * Check a CSR's challengePassword: the static [scep] challenge, else a
 * one-time challenge (consumed). profile receives the profile to issue
 * under. challenge-bad when neither matches.
 */
enum pkid_code pkid_scep_challenge_check(struct pkid_scep *s,
    X509_REQ *csr, char *profile, size_t len, struct pkid_err *e);

/* A request authorised here for the upstream CA (RA mode, ra.c). */
struct scep_ra_req {
	const char *tid;		/* transactionID */
	X509_REQ *csr;			/* the CSR (borrowed) */
	const char *profile;		/* profile it was authorised for */
	const char *requester;		/* scep:CLIENT, for the store */
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

#endif
