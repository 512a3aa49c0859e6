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

#endif
