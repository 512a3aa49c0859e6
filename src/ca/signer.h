/*
 * signer.h - the only way pkid uses a CA private key.
 *
 * Narrow on purpose (DESIGN.md "Keys and privilege"): sign this
 * certificate, sign this CRL. Today the key is in-process; the interface
 * is shaped so a separate signer process (the OpenSSH monitor pattern) can
 * take its place without changing callers.
 */
#ifndef PKID_CA_SIGNER_H
#define PKID_CA_SIGNER_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/err.h"

struct pkid_signer;

/*
 * Load the key at key_path for the CA certificate cert (checked to match:
 * key-mismatch otherwise). digest: "sha256", "sha384" or "sha512"
 * (ignored for Ed25519). cert is borrowed and must outlive the signer.
 */
struct pkid_signer *pkid_signer_open(const char *key_path, X509 *cert,
    const char *digest, struct pkid_err *e);
/* Wrap a key already in memory (takes a reference on key). */
struct pkid_signer *pkid_signer_from_key(EVP_PKEY *key, X509 *cert,
    const char *digest, struct pkid_err *e);
void pkid_signer_free(struct pkid_signer *s);

/* Sign a to-be-signed certificate in place. */
enum pkid_code pkid_signer_sign_cert(struct pkid_signer *s, X509 *tbs,
    struct pkid_err *e);
/* Sign a CRL in place. */
enum pkid_code pkid_signer_sign_crl(struct pkid_signer *s, X509_CRL *crl,
    struct pkid_err *e);
/* The CA certificate this signer signs for (borrowed). */
X509 *pkid_signer_cert(const struct pkid_signer *s);

#endif
