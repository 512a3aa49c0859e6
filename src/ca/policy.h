/*
 * policy.h - checks of a request against a profile, and the RFC 5280 lint
 * run on every certificate before it is signed.
 */
#ifndef PKID_CA_POLICY_H
#define PKID_CA_POLICY_H

#include <openssl/x509v3.h>

#include "core/cfg.h"
#include "core/err.h"

/* Key type and strength of key allowed by p? weak-key, key-type-... */
enum pkid_code pkid_policy_check_key(const struct pkid_profile *p,
    EVP_PKEY *key, struct pkid_err *e);
/* "EC P-256", "RSA 2048", "Ed25519": a person-readable key text. */
const char *pkid_key_describe(EVP_PKEY *key, char *out, size_t len);

/*
 * The SANs the certificate gets, per profile: from the CSR (take) or from
 * the CN (replace), each checked against the profile (san-not-allowed).
 * *out may be NULL (no SAN) on success; caller frees.
 */
enum pkid_code pkid_policy_sans(const struct pkid_profile *p, X509_REQ *csr,
    const X509_NAME *subject, GENERAL_NAMES **out, struct pkid_err *e);
/* "DNS:a, IP:1.2.3.4" text of names (empty when NULL). */
const char *pkid_sans_text(const GENERAL_NAMES *g, char *out, size_t len);

/* Subject of the certificate from the profile's template (caller frees). */
enum pkid_code pkid_policy_subject(const struct pkid_profile *p,
    X509_REQ *csr, X509_NAME **out, struct pkid_err *e);

/* RFC 5280 musts on a built, unsigned certificate: lint-failed if not. */
enum pkid_code pkid_lint_tbs(X509 *x, struct pkid_err *e);

#endif
