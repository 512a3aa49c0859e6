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
 * Make the SCEP RA certificate (RSA-2048, digitalSignature and
 * keyEncipherment) issued by issuer/key, write DIR/scep/ra.pem and
 * DIR/scep/ra.key (0600), and record it as a ca_generation of role "ra".
 */
enum pkid_code pkid_ca_init_ra(const char *dir,
    const struct pkid_config *cfg, struct pkid_store *st, X509 *issuer,
    EVP_PKEY *issuer_key, struct pkid_err *e);

/* Record a CA certificate of generation 1 in the store; *id its row. */
enum pkid_code pkid_ca_record_gen(struct pkid_store *st,
    const char *ca_name, const char *role, X509 *x, const char *key_ref,
    int64_t *id, struct pkid_err *e);

#endif
