/*
 * ca_int.h - internals shared by the CA's files.
 */
#ifndef PKID_CA_CA_INT_H
#define PKID_CA_CA_INT_H

#include <stdint.h>

#include <openssl/x509.h>

#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "core/cfg.h"
#include "core/err.h"
#include "store/store.h"

/* A request that passed every check (check.c), ready to be signed. */
struct pkid_ca_checked {
	EVP_PKEY *key;		/* the request's public key */
	X509_NAME *subject;	/* the certificate's subject */
	GENERAL_NAMES *sans;	/* its subjectAltNames, NULL: none */
	char spki[65];		/* hex SHA-256 of its SubjectPublicKeyInfo */
};

/*
 * Run every check of check.c on csr under profile p for requester rq
 * (NULL: a bootstrap credential). On success c holds the certificate's
 * contents (free with pkid_ca_checked_free); on failure it is empty.
 */
enum pkid_code pkid_ca_check_request(struct pkid_ca *ca,
    const struct pkid_profile *p, X509_REQ *csr,
    const struct pkid_requester *rq, struct pkid_ca_checked *c,
    struct pkid_err *e);
void pkid_ca_checked_free(struct pkid_ca_checked *c);

/*
 * Issue pkid's own TLS server certificate (localhost, 127.0.0.1, ::1 and
 * cfg->tls_names) from issuer/key, record it in the store as generation
 * gen's issuance, then write DIR/tls/server.pem (leaf and issuer) and
 * DIR/tls/server.key.
 */
enum pkid_code pkid_ca_init_tls(const char *dir,
    const struct pkid_config *cfg, struct pkid_store *st, int64_t gen,
    X509 *issuer, EVP_PKEY *issuer_key, struct pkid_err *e);

/*
 * The same for the key reuse (a new EC P-256 key when NULL): a rollover
 * re-issues pkid's TLS certificate from the new signing CA for the key it
 * has, so the chain it serves ends at the current root. The running
 * server keeps its certificate until it starts again.
 */
enum pkid_code pkid_ca_issue_tls(const char *dir,
    const struct pkid_config *cfg, struct pkid_store *st, int64_t gen,
    X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *reuse,
    struct pkid_err *e);

/*
 * Make the SCEP RA certificate (RSA-2048, digitalSignature and
 * keyEncipherment) issued by issuer/key, write DIR/scep/ra.pem and
 * DIR/scep/ra.key (0600), and record it as a ca_generation of role "ra".
 */
enum pkid_code pkid_ca_init_ra(const char *dir,
    const struct pkid_config *cfg, struct pkid_store *st, X509 *issuer,
    EVP_PKEY *issuer_key, struct pkid_err *e);

/* Make one CA certificate (a root when issuer is NULL) and sign it with
 * issuer_key under cfg's digest; pathlen < 0: none. root_gen > 0: the
 * issuer is root generation root_gen, whose CRL and certificate URLs
 * (pub.c) the certificate names. *out receives it. */
enum pkid_code pkid_ca_make_cert(const X509_NAME *subject, EVP_PKEY *key,
    X509 *issuer, EVP_PKEY *issuer_key, int64_t nb, int64_t na,
    int pathlen, const struct pkid_config *cfg, int root_gen, X509 **out,
    struct pkid_err *e);
/* PEM of cert, extra and key (each may be NULL) to DIR/file; 0600 when
 * a key is written, else 0644. */
enum pkid_code pkid_ca_write_pem(const char *dir, const char *file,
    X509 *cert, EVP_PKEY *key, X509 *extra, struct pkid_err *e);
/* notBefore / notAfter of x, epoch seconds (0 when unreadable). */
int64_t pkid_ca_cert_nb(X509 *x);
int64_t pkid_ca_cert_na(X509 *x);
/*
 * Load the generations of ca->cfg.ca_name from the store into ca (root,
 * issuing, signer, chain, next, links, retired), making current first any
 * shadow whose activate_at has come (gen.c).
 */
enum pkid_code pkid_ca_gens_load(struct pkid_ca *ca, struct pkid_err *e);
/* The private key of the current root (its ca_generation row's key_ref;
 * the caller frees). Errors: store-schema, io-open, key-malformed,
 * key-mismatch. */
enum pkid_code pkid_ca_root_key(struct pkid_ca *ca, EVP_PKEY **out,
    struct pkid_err *e);
/* Free what pkid_ca_gens_load set. */
void pkid_ca_gens_free(struct pkid_ca *ca);

/*
 * The SCEP RA certificate issued by issuer/issuer_key for the key reuse
 * (a new RSA-2048 key written to DIR/scep/ra.key when NULL): DIR/scep/
 * ra.pem and a "ra" row of that generation. A rollover re-issues it for
 * the same key, so clients' cached copies still encrypt to it.
 */
enum pkid_code pkid_ca_issue_ra(const char *dir,
    const struct pkid_config *cfg, struct pkid_store *st, X509 *issuer,
    EVP_PKEY *issuer_key, EVP_PKEY *reuse, int generation,
    struct pkid_err *e);
/* pkid_ca_record_gen for generation n. */
enum pkid_code pkid_ca_record_gen_n(struct pkid_store *st,
    const char *ca_name, const char *role, int n, X509 *x,
    const char *key_ref, int64_t *id, struct pkid_err *e);

/* Record a CA certificate of generation 1 in the store; *id its row. */
enum pkid_code pkid_ca_record_gen(struct pkid_store *st,
    const char *ca_name, const char *role, X509 *x, const char *key_ref,
    int64_t *id, struct pkid_err *e);

#endif
