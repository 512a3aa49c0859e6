/*
 * est_int.h - the EST server's state, shared by the files of src/est only.
 */
#ifndef PKID_EST_EST_INT_H
#define PKID_EST_EST_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <openssl/x509_vfy.h>

#include "core/limits.h"
#include "est/est.h"
#include "est/ra.h"
#include "est/throttle.h"
#include "verify/ccache.h"

/* One configured label, ready to serve. */
struct est_label {
	const struct pkid_est_label *cfg;	/* its [est ...] section */
	const struct pkid_profile *profile;	/* its profile */
	X509_STORE *extra;			/* client_ca anchors or NULL */
	struct pkid_buf csrattrs;		/* csrattrs response, base64 */
	struct est_upstream *up;		/* RA mode (ra.c), or NULL */
};

/* A password verified recently (keyed MAC, never the password). */
struct est_cred {
	char user[PKID_MAX_EST_USER + 1];	/* user name, "" when free */
	uint8_t mac[32];	/* HMAC(key, user, password, stored hash) */
	int64_t until;		/* expiry, epoch seconds */
};

/* Bounded cache of verified credentials (PKID_EST_AUTH_CACHE). */
struct est_cred_cache {
	pthread_mutex_t mu;			/* guards everything below */
	uint8_t key[32];			/* random MAC key */
	int off;				/* 1: no key, no caching */
	size_t next;				/* next slot to replace */
	struct est_cred ent[PKID_EST_AUTH_CACHE]; /* the entries */
};

struct pkid_est {
	struct pkid_ca *ca;			/* the CA (borrowed) */
	X509_STORE *own;			/* this CA's roots as anchors
						 * (every generation) */
	STACK_OF(X509) *inter;			/* its other CA certificates,
						 * intermediates */
	struct pkid_buf cacerts;		/* cacerts response, base64 */
	int n_labels;				/* labels used */
	struct est_label labels[PKID_MAX_EST_LABELS]; /* [0] = [est] */
	struct est_cred_cache creds;		/* verified passwords */
	struct pkid_ccache *chains;		/* verified client chains */
	int https_port;				/* HTTPS listener, 0: unknown */
	struct pkid_est_throttle *throttle;	/* failed-login lock-outs */
	char dummy[PKID_MAX_PASSWORD_HASH + 1];	/* for unknown users */
	atomic_ulong kdf_runs;			/* password KDF runs */
};

/* What authentication established about a request. */
struct est_peer {
	char who[400];		/* requester: est:user:U, est:cert:DN */
	int cert_own;		/* client cert verified to this CA */
	int retry_s;		/* auth-throttled: Retry-After, seconds */
};

/* Operations, RFC 7030 3.2.2. */
enum est_op {
	EST_CACERTS,
	EST_SIMPLEENROLL,
	EST_SIMPLEREENROLL,
	EST_FULLCMC,
	EST_SERVERKEYGEN,
	EST_CSRATTRS,
};

/*
 * Authenticate a request for op on label (RFC 7030 3.2.3, 3.3.2).
 * PKID_OK fills peer; auth-required / auth-failed mean 401, forbidden
 * means 403, auth-throttled 429 with Retry-After peer->retry_s.
 */
enum pkid_code pkid_est_authenticate(struct pkid_est *est,
    const struct est_label *l, enum est_op op,
    const struct pkid_http_req *req, struct est_peer *peer,
    struct pkid_err *e);

/*
 * HTTP Basic credentials authz (the Authorization header) from client
 * address addr, for label l: throttle (throttle.h), then the store and
 * the password KDF. PKID_OK fills peer->who. Errors: auth-failed (one
 * message for an unknown user and a wrong password), auth-throttled
 * (peer->retry_s set; nothing was checked), the store's.
 */
enum pkid_code pkid_est_basic_check(struct pkid_est *est,
    const struct est_label *l, const char *authz, const char *addr,
    struct est_peer *peer, struct pkid_err *e);

/* Verify a client certificate to this CA (store: unrevoked, known). */
enum pkid_code pkid_est_cert_verify_own(struct pkid_est *est, X509 *leaf,
    struct pkid_err *e);

void pkid_est_creds_init(struct est_cred_cache *c);
void pkid_est_creds_free(struct est_cred_cache *c);

#endif
