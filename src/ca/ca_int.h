/*
 * ca_int.h - internals shared by the CA's files.
 */
#ifndef PKID_CA_CA_INT_H
#define PKID_CA_CA_INT_H

#include <stdint.h>

#include <openssl/x509.h>

#include "core/cfg.h"
#include "core/err.h"
#include "store/store.h"

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
