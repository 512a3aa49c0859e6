/*
 * ocsp_int.h - the responder's state, shared by responder.c (its
 * certificate) and answer.c (responses and their cache).
 */
#ifndef PKID_OCSP_OCSP_INT_H
#define PKID_OCSP_OCSP_INT_H

#include <pthread.h>
#include <stdint.h>

#include <openssl/ocsp.h>

#include "core/limits.h"
#include "ocsp/ocsp.h"

/* A pre-signed response: one certificate, one CertID hash, no nonce. */
struct pkid_ocsp_entry {
	char serial[48];		/* lower-case hex, "" = free slot */
	OCSP_CERTID *cid;		/* the CertID as asked (owned) */
	int status;			/* V_OCSP_CERTSTATUS_* it states */
	int64_t revoked_at;		/* when revoked, epoch s */
	int reason;			/* CRL reason, 0 none */
	uint8_t *der;			/* the OCSPResponse (owned) */
	size_t len;			/* its length */
	int64_t this_update;		/* its thisUpdate */
	int64_t next_update;		/* its nextUpdate */
	int64_t refresh_at;		/* served until then, re-signed on
					 * the request path after */
	int64_t resign_at;		/* re-signed by the tick from then */
	char etag[40];			/* quoted hex of its SHA-256 */
	int64_t used;			/* last served, for replacement */
	int gen;			/* index in pkid_ocsp.gens */
};

/* A signing generation the responder answers for, with its own
 * delegated responder certificate. */
struct pkid_ocsp_gen {
	int generation;			/* its number */
	int64_t gen_id;			/* its ca_generation row */
	X509 *issuer;			/* its certificate (owned reference) */
	X509 *rcert;			/* responder certificate, NULL until
					 * first needed; under mu */
	EVP_PKEY *rkey;			/* its key; under mu */
	int64_t r_not_after;		/* its notAfter; under mu */
};

struct pkid_ocsp {
	struct pkid_ca *ca;		/* the CA (borrowed) */
	pthread_mutex_t mu;		/* guards what follows */
	struct pkid_ocsp_gen gens[PKID_OCSP_MAX_GENS]; /* [0]: the current
					 * generation, then retired ones
					 * still valid */
	int n_gens;			/* entries used */
	pthread_mutex_t issue_mu;	/* one issuance at a time */
	int64_t mark;			/* store's revocation mark at the last
					 * refresh */
	int sweep;			/* 1: a recheck of every kept
					 * response is under way */
	int refresh_next;		/* where that sweep resumes */
	struct pkid_ocsp_entry *cache;	/* PKID_OCSP_CACHE_SLOTS entries */
};

/* The status of a certificate, as the store has it. */
struct pkid_ocsp_status {
	int status;			/* V_OCSP_CERTSTATUS_* */
	int64_t revoked_at;		/* when revoked */
	int reason;			/* CRL reason code, 0 none */
};

/*
 * References to the responder certificate and key (issued or loaded
 * first when there is none, renewed when force or close to its end);
 * the caller frees both. responder.c.
 */
enum pkid_code pkid_ocsp_responder_get(struct pkid_ocsp *o,
    struct pkid_ocsp_gen *g, int force, X509 **cert, EVP_PKEY **key,
    struct pkid_err *e);
/* 1 when g's responder certificate exists and should be renewed now. */
int pkid_ocsp_responder_due(struct pkid_ocsp *o, struct pkid_ocsp_gen *g);

#endif
