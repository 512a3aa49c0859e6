/*
 * agent_int.h - what the agent's files share (src/agent/ only).
 */
#ifndef PKID_AGENT_AGENT_INT_H
#define PKID_AGENT_AGENT_INT_H

#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "agent/agent.h"
#include "agent/trust.h"

/* The CA certificates an identity's certificate depends on (nextca.c). */
struct pkid_agent_capath {
	int64_t end;		/* their earliest notAfter, 0 unknown */
	int n;			/* entries used in fp */
	char fp[PKID_MAX_CHAIN_DEPTH][65]; /* their SHA-256, issuer first */
};

/* An identity's state between passes and restarts (state.c): one JSON
 * file, state_dir/NAME.json. */
struct pkid_agent_state {
	char serial[80];	/* certificate the counts are about (hex) */
	int failures;		/* renewals failed in a row */
	int64_t next_try;	/* no renewal before this, 0: none pending */
	char last_code[64];	/* catalogue id of the last failure */
	int ca_failures;	/* next-CA fetches without news in a row */
	int64_t ca_next_try;	/* no next-CA fetch before this */
	struct pkid_agent_capath capath; /* as last learned */
};

/* Read NAME's state (zeroed when there is none or it cannot be read: a
 * lost state file costs one early retry, never a refusal). */
void pkid_agent_state_load(const struct pkid_agent_cfg *c,
    const struct pkid_agent_id *id, struct pkid_agent_state *s);
/* Write it atomically (0600). Errors: io-write. */
enum pkid_code pkid_agent_state_save(const struct pkid_agent_cfg *c,
    const struct pkid_agent_id *id, const struct pkid_agent_state *s,
    struct pkid_err *e);

/* What a pass works with for one identity. */
struct pkid_agent_work {
	const struct pkid_agent_cfg *cfg;	/* the configuration */
	const struct pkid_agent_id *id;		/* the identity */
	time_t now;				/* the pass's time */
	X509 *leaf;				/* its certificate (owned) */
	STACK_OF(X509) *chain;			/* its intermediates
						 * (owned) */
	EVP_PKEY *key;				/* its key (owned) */
	STACK_OF(X509) *held;			/* leaf, then its issuers
						 * among chain (owned) */
	struct pkid_agent_trust trust;		/* its trust store */
	/* What a renewal brought (owned; NULL until then). */
	X509 *issued;				/* the new certificate */
	STACK_OF(X509) *issued_pool;		/* the CA certificates the
						 * server sent with it */
	EVP_PKEY *new_key;			/* a new key, NULL: kept */
	/* Why the last exchange failed, for the back-off. */
	int status;				/* HTTP status, 0 none */
	int retry_after;			/* Retry-After s, -1 none */
	/* The next CA (nextca.c). */
	struct pkid_agent_capath capath;	/* the CAs the certificate
						 * depends on; updated from
						 * what the server sends */
	int may_ask_next;			/* not backing off the next
						 * CA: ask when it is wanted */
	int asked_next;				/* wanted and asked */
};

/* The time of an ASN1_TIME, 0 when it cannot be read. */
int64_t pkid_agent_cert_time(const ASN1_TIME *t);
/*
 * The issuer path of w->leaf through pool and the trust store, root
 * included, into *out: 1 when it ends at a self-signed certificate or
 * one of the store, else 0 (*out untouched).
 */
int pkid_agent_capath_learn(const struct pkid_agent_work *w,
    STACK_OF(X509) *pool, struct pkid_agent_capath *out);
/*
 * From when w wants the next CA: the end of p minus the lifetime of
 * w->leaf; 0 when p is unknown or the store holds a CA certificate off
 * the path that ends later (the next CA is there).
 */
int64_t pkid_agent_next_ca_at(const struct pkid_agent_work *w,
    const struct pkid_agent_capath *p);

/*
 * EST (renew_est.c) and SCEP (renew_scep.c): fetch the CA certificates
 * (EST /cacerts, SCEP GetCACert), learn w->capath from them, and when
 * the next CA is wanted and w->may_ask_next, ask for it (EST: /cacerts
 * carries it; SCEP: GetNextCACert) and set w->asked_next; add what is
 * new and vouched for to the trust store (*news: certificates added).
 * Then, when renew is set, renew into w->issued, w->issued_pool and
 * w->new_key. A server without a next CA yet is *news == 0 and PKID_OK
 * (SCEP 404: no-next-ca is logged, not returned); when renewing, a
 * failed GetNextCACert is logged and the renewal goes on.
 */
enum pkid_code pkid_agent_est_run(struct pkid_agent_work *w, int renew,
    int *news, struct pkid_err *e);
enum pkid_code pkid_agent_scep_run(struct pkid_agent_work *w, int renew,
    int *news, struct pkid_err *e);

/* The first line of path into out (wiped by the caller). Errors:
 * io-open, io-read, usage (empty). */
enum pkid_code pkid_agent_read_secret(const char *path, char *out,
    size_t len, struct pkid_err *e);

/*
 * The certificates of pool that issued leaf, nearest first (by name and
 * signature), up to the self-signed root when with_root, else without
 * it, appended to *out (created when NULL; the caller's).
 */
enum pkid_code pkid_agent_issuer_path(X509 *leaf, STACK_OF(X509) *pool,
    int with_root, STACK_OF(X509) **out, struct pkid_err *e);

/*
 * The key of key_path that belongs to leaf into *out (the caller's).
 * When it does not but key_path.next does (a renewal cut short between
 * the certificate and the key), that one; with finish it is renamed
 * over key_path (and a stale .next is removed). Errors: the loader's,
 * key-mismatch, io-write.
 */
enum pkid_code pkid_agent_key_load(const char *key_path, X509 *leaf,
    int finish, EVP_PKEY **out, struct pkid_err *e);

/*
 * Write what a renewal brought, each file atomically: a new key to
 * KEY.next (0600), the certificate (followed by its intermediates when
 * no chain file is configured), the chain, then KEY.next over KEY.
 * Existing files keep their mode. Errors: io-write.
 */
enum pkid_code pkid_agent_write_identity(struct pkid_agent_work *w,
    struct pkid_err *e);

/*
 * Run an identity's hook through /bin/sh -c with PKID_AGENT_* variables
 * (event, identity, paths) for at most timeout_s; then its process group
 * is killed. Returns 0 when it exited 0; otherwise logs why.
 */
int pkid_agent_hook_run(const struct pkid_agent_id *id, const char *event,
    int timeout_s);

/* The name of a key of [identity NAME]. */
const char *pkid_agent_key_name(enum pkid_agent_key k);

#endif
