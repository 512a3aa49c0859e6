/*
 * csr.h - PKCS#10 requests decoded without OpenSSL 3.0's per-key decoder.
 *
 * d2i_X509_REQ in OpenSSL 3.0 builds an OSSL_DECODER context for the
 * public key of every request: ~90 us on this project's 2-core bench box,
 * more than the ECDSA verification of the request, and lock-bound when
 * workers decode at once. pkid_csr_d2i decodes the request in a library
 * context that holds only OpenSSL's null provider (so the key is left
 * undecoded), and pkid_csr_key builds the key from the SubjectPublicKeyInfo
 * with EVP_PKEY_fromdata (EC named curves) or d2i_PublicKey (RSA). Other
 * key types are decoded the usual way.
 *
 * A request from pkid_csr_d2i may answer NULL to X509_REQ_get0_pubkey():
 * every consumer asks pkid_csr_key instead.
 */
#ifndef PKID_X509_CSR_H
#define PKID_X509_CSR_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/err.h"

/*
 * d2i_X509_REQ's contract (advances *pp; NULL on malformed DER, with the
 * OpenSSL error queue set), without decoding an EC or RSA public key.
 */
X509_REQ *pkid_csr_d2i(const unsigned char **pp, long len);

/*
 * The request's public key, a new reference in *out.
 * Errors: csr-malformed when the key cannot be decoded (not on its curve,
 * bad RSA encoding, an algorithm OpenSSL does not know).
 */
enum pkid_code pkid_csr_key(X509_REQ *csr, EVP_PKEY **out,
    struct pkid_err *e);

#endif
