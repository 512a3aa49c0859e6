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
/* Each of g's names against the profile's limits: san-not-allowed. */
enum pkid_code pkid_policy_names_allowed(const struct pkid_profile *p,
    const GENERAL_NAMES *g, struct pkid_err *e);
/* The CSR's requested subjectAltNames, NULL when none (caller frees). */
GENERAL_NAMES *pkid_csr_sans(X509_REQ *csr);
/* "DNS:a, IP:1.2.3.4" text of names (empty when NULL). */
const char *pkid_sans_text(const GENERAL_NAMES *g, char *out, size_t len);

/* Subject of the certificate from the profile's template (caller frees). */
enum pkid_code pkid_policy_subject(const struct pkid_profile *p,
    X509_REQ *csr, X509_NAME **out, struct pkid_err *e);

/*
 * A subject a relying party reads one way only: no NUL in any attribute,
 * each within its RFC 5280 Appendix A upper bound, nothing empty, at most
 * one CN, at most PKID_MAX_SUBJECT_ENTRIES attributes. subject-invalid.
 */
enum pkid_code pkid_policy_name_check(const X509_NAME *n, struct pkid_err *e);
/*
 * The profile's name limits (san_dns_suffixes, san_ip_ranges) on the CN
 * when it looks like a DNS name or an IP address: relying parties still
 * match a CN as the host name. san-not-allowed.
 */
enum pkid_code pkid_policy_cn(const struct pkid_profile *p,
    const X509_NAME *subject, struct pkid_err *e);
/*
 * 1 when x carries the id-kp-cmcRA extended key usage (RFC 6402 2.10): a
 * registration authority's certificate, which asks for devices' names.
 */
int pkid_cert_is_ra(X509 *x);
/* 1 when a and b hold the same names, in any order (NULL: none). */
int pkid_sans_same(const GENERAL_NAMES *a, const GENERAL_NAMES *b);

/*
 * A request authenticated by certificate cred asks for exactly cred's
 * subject and subjectAltNames (RFC 7030 4.2.2, RFC 8894 3.3.1.2: a
 * renewal keeps the identity): identity-mismatch naming both otherwise.
 */
enum pkid_code pkid_policy_same_identity(const X509_NAME *subject,
    const GENERAL_NAMES *sans, X509 *cred, struct pkid_err *e);
/*
 * The same for a request passed on as it is (RA mode: the upstream
 * applies its own profile): the CSR's subject and subjectAltNames.
 */
enum pkid_code pkid_policy_csr_same_identity(X509_REQ *csr, X509 *cred,
    struct pkid_err *e);

/* RFC 5280 musts on a built, unsigned certificate: lint-failed if not. */
enum pkid_code pkid_lint_tbs(X509 *x, struct pkid_err *e);

#endif
