/*
 * trust.h - an identity's trust store: the CA certificates it trusts (a
 * PEM file, or a directory of PEM files), and how the agent adds the next
 * CA to it during a rollover without ever trusting on first use.
 *
 * A certificate offered by the server (EST /cacerts, RFC 7030 4.1.3;
 * SCEP GetNextCACert, RFC 8894 3.5.2 and 4.7) is added only when it is a
 * CA certificate (RFC 5280 4.2.1.9), brings a key or a validity the
 * identity does not hold yet, and either
 *   - it chains (X509_verify_cert) to what the store already trusts: the
 *     next issuing CA under a trusted root; or
 *   - it is a self-signed root whose key and name a link certificate
 *     among the offered ones certifies, that link chaining to what the
 *     store trusts: RFC 4210 4.4 NewWithOld, the new root's key signed
 *     with the old root's key; or
 *   - it is a self-signed root re-issued with a trusted root's key; or
 *   - it is a self-signed root in a SCEP GetNextCACert answer whose
 *     SignedData the current CA or RA certificate signed (RFC 8894
 *     4.7.1; checked by the SCEP client against GetCACert, whose
 *     certificates chain to the store): pkid sends the next root there
 *     without link certificates.
 * Link certificates (a key that also has its own self-signed certificate,
 * NewWithOld and OldWithNew) are not added themselves.
 *
 * An old certificate stays until it has expired, a newer one of the same
 * name is in the store, and the identity's certificate does not chain
 * through it: nothing the identity holds depends on it any more.
 */
#ifndef PKID_AGENT_TRUST_H
#define PKID_AGENT_TRUST_H

#include <time.h>

#include <openssl/x509.h>

#include "core/err.h"
#include "core/limits.h"

/* A loaded trust store. */
struct pkid_agent_trust {
	char path[PKID_AGENT_MAX_PATH];	/* the file or directory */
	int is_dir;			/* 1: a directory of PEM files */
	STACK_OF(X509) *certs;		/* the certificates (owned) */
	char *src[PKID_MAX_BUNDLE_CERTS]; /* directory: the file each came
					 * from (owned), NULL when new */
	int added;			/* certificates added since load */
	int removed;			/* certificates removed since */
	char *gone[PKID_MAX_BUNDLE_CERTS]; /* directory: the files of the
					 * removed ones, to delete or rewrite
					 * on save (owned) */
	int n_gone;			/* entries used there */
};

/*
 * Load path: a PEM (or DER) file, or every regular file of a directory
 * that holds certificates (others skipped). Errors: io-open, the
 * loaders', too-large, cert-malformed (no certificate at all).
 */
enum pkid_code pkid_agent_trust_load(struct pkid_agent_trust *t,
    const char *path, struct pkid_err *e);
void pkid_agent_trust_free(struct pkid_agent_trust *t);

/*
 * Add what of offered is new and vouched for (rules above) at now; held
 * (may be NULL) is what the identity holds besides the store (its
 * certificate and chain): a certificate that issued one of held, or
 * with the key of one of the store and lasting no longer, is nothing
 * new. signed_by_current: offered is a verified GetNextCACert
 * answer (the last rule). The added certificates are
 * logged; *added counts them. Error: too-large (more than
 * PKID_AGENT_MAX_OFFERED offered).
 */
enum pkid_code pkid_agent_trust_accept(struct pkid_agent_trust *t,
    STACK_OF(X509) *offered, STACK_OF(X509) *held, int signed_by_current,
    time_t now, int *added, struct pkid_err *e);

/*
 * Drop the certificates nothing depends on any more (rules above); leaf
 * and chain are what the identity holds. Returns how many were dropped.
 */
int pkid_agent_trust_prune(struct pkid_agent_trust *t, X509 *leaf,
    STACK_OF(X509) *chain, time_t now);

/*
 * Write the changes: a file is rewritten whole (atomically, 0644); in a
 * directory, each new certificate goes to agent-<SHA-256 prefix>.pem and
 * a dropped one's file is removed (or rewritten without it). Errors:
 * io-write.
 */
enum pkid_code pkid_agent_trust_save(struct pkid_agent_trust *t,
    struct pkid_err *e);

/* 1 when x is in the store (same DER). */
int pkid_agent_trust_has(const struct pkid_agent_trust *t, X509 *x);

#endif
