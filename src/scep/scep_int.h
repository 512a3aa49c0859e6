/*
 * scep_int.h - internals shared by the SCEP server's files.
 */
#ifndef PKID_SCEP_SCEP_INT_H
#define PKID_SCEP_SCEP_INT_H

#include <stdatomic.h>

#include "scep/msg.h"
#include "scep/scep.h"

struct pkid_scep {
	struct pkid_ca *ca;		/* the CA (borrowed) */
	X509 *ra;			/* decrypts and signs CertReps: the
					 * RA, or the CA when RSA; NULL if
					 * neither */
	EVP_PKEY *ra_key;		/* its key */
	int compat;			/* [scep] compat */
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

#endif
