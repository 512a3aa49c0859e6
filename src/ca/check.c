/*
 * check.c - every check a request passes before pkid signs anything,
 * whatever the protocol (README "Security model", DESIGN.md "Who may ask
 * for which name"):
 *
 * - the request is signed by its own key (proof of possession), the key
 *   is of a type and size the profile allows, and no certificate with
 *   that key was revoked for keyCompromise;
 * - the subject is one a relying party reads one way only (no NUL, RFC
 *   5280 upper bounds, one CN), it is not the subject of one of this
 *   pkid's CA certificates, and it is not empty without a SAN;
 * - every name a relying party may match (each SAN, and the CN when it
 *   looks like a DNS name or an IP address) is inside the profile's
 *   limits;
 * - a request authenticated by a certificate this CA issued keeps exactly
 *   that certificate's subject and SANs (RFC 7030 4.2.2, RFC 8894
 *   3.3.1.2): a device renews its own names and nobody else's.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "ca/ca_int.h"
#include "ca/policy.h"
#include "x509/csr.h"
#include "x509/load.h"

void
pkid_ca_checked_free(struct pkid_ca_checked *c)
{
	if (c == NULL)
		return;
	EVP_PKEY_free(c->key);
	X509_NAME_free(c->subject);
	GENERAL_NAMES_free(c->sans);
	memset(c, 0, sizeof(*c));
}

/* The request's key was not revoked for keyCompromise (RFC 5280 5.3.1). */
static enum pkid_code
check_compromised(struct pkid_ca *ca, X509_REQ *csr, char spki[65],
    struct pkid_err *e)
{
	char serial[80];
	enum pkid_code rc;

	if (pkid_x509_spki_sha256_hex(X509_REQ_get_X509_PUBKEY(csr), spki)
	    != 0)
		return PKID_ERR(e, PKID_E_CRYPTO, "encoding the request's key");
	rc = pkid_store_key_compromised(ca->store, spki, serial,
	    sizeof(serial), e);
	if (rc == PKID_E_NOT_FOUND) {
		pkid_err_clear(e);
		return PKID_OK;
	}
	if (rc != PKID_OK)
		return rc;
	return PKID_ERR(e, PKID_E_KEY_COMPROMISED, "the request's public key "
	    "(SubjectPublicKeyInfo SHA-256 %.16s...) is the key of "
	    "certificate %s, revoked for keyCompromise", spki, serial);
}

/* Not the subject of one of this pkid's CA certificates. */
static enum pkid_code
check_reserved(struct pkid_ca *ca, const X509_NAME *subject,
    struct pkid_err *e)
{
	char text[256];
	X509 *x;
	int i;

	for (i = -1; i < sk_X509_num(ca->chain); i++) {
		x = i < 0 ? ca->root : sk_X509_value(ca->chain, i);
		if (x == NULL || X509_NAME_cmp(subject,
		    X509_get_subject_name(x)) != 0)
			continue;
		return PKID_ERR(e, PKID_E_SUBJECT_RESERVED, "the request asks "
		    "for subject %s, the subject of this pkid's %s CA "
		    "certificate", pkid_x509_name_text(subject, text,
		    sizeof(text)), x == ca->root ? "root" : "issuing");
	}
	return PKID_OK;
}

enum pkid_code
pkid_policy_same_identity(const X509_NAME *subject,
    const GENERAL_NAMES *sans, X509 *cred, struct pkid_err *e)
{
	GENERAL_NAMES *have = NULL;
	char want[256], got[256], serial[80], t1[512], t2[512];
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_x509_serial_hex(X509_get0_serialNumber(cred), serial,
	    sizeof(serial));
	pkid_x509_name_text(X509_get_subject_name(cred), got, sizeof(got));
	PKID_CHECK(X509_NAME_cmp(subject, X509_get_subject_name(cred)) == 0,
	    PKID_E_IDENTITY_MISMATCH, "the request is authenticated by "
	    "certificate %s (serial %s) and asks for subject %s: a "
	    "certificate renews only its own names", got, serial,
	    pkid_x509_name_text(subject, want, sizeof(want)));
	have = X509_get_ext_d2i(cred, NID_subject_alt_name, NULL, NULL);
	PKID_CHECK(pkid_sans_same(sans, have), PKID_E_IDENTITY_MISMATCH,
	    "the request is authenticated by certificate %s (serial %s) "
	    "whose subjectAltNames are [%s], and asks for [%s]: a "
	    "certificate renews only its own names", got, serial,
	    pkid_sans_text(have, t1, sizeof(t1)),
	    pkid_sans_text(sans, t2, sizeof(t2)));
	rc = PKID_OK;
out:
	GENERAL_NAMES_free(have);
	return rc;
}

enum pkid_code
pkid_policy_csr_same_identity(X509_REQ *csr, X509 *cred, struct pkid_err *e)
{
	GENERAL_NAMES *sans = pkid_csr_sans(csr);
	enum pkid_code rc;

	rc = pkid_policy_same_identity(X509_REQ_get_subject_name(csr), sans,
	    cred, e);
	GENERAL_NAMES_free(sans);
	return rc;
}

/* The names the certificate gets, each checked. */
static enum pkid_code
check_names(struct pkid_ca *ca, const struct pkid_profile *p, X509_REQ *csr,
    const struct pkid_requester *rq, struct pkid_ca_checked *c,
    struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;

	/* The request's own subject first: a template may drop an odd
	 * attribute, but a NUL in the CN would cut the template's text. */
	PKID_TRY(pkid_policy_name_check(X509_REQ_get_subject_name(csr), e));
	PKID_TRY(pkid_policy_subject(p, csr, &c->subject, e));
	PKID_TRY(pkid_policy_name_check(c->subject, e));
	PKID_TRY(pkid_policy_sans(p, csr, c->subject, &c->sans, e));
	if (rq != NULL && rq->bound != NULL)
		PKID_TRY(pkid_policy_same_identity(c->subject, c->sans,
		    rq->bound, e));
	PKID_TRY(pkid_policy_cn(p, c->subject, e));
	PKID_CHECK(X509_NAME_entry_count(c->subject) > 0 || c->sans != NULL,
	    PKID_E_SUBJECT_INVALID, "the request has an empty subject and no "
	    "subjectAltName: the certificate would name nobody (RFC 5280 "
	    "4.1.2.6)");
	PKID_TRY(check_reserved(ca, c->subject, e));
	rc = PKID_OK;
out:
	return rc;
}

enum pkid_code
pkid_ca_check_request(struct pkid_ca *ca, const struct pkid_profile *p,
    X509_REQ *csr, const struct pkid_requester *rq,
    struct pkid_ca_checked *c, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(c, 0, sizeof(*c));
	PKID_TRY(pkid_csr_key(csr, &c->key, e));
	PKID_CHECK(X509_REQ_verify(csr, c->key) == 1,
	    PKID_E_CSR_BAD_SIGNATURE, "the request's signature does not "
	    "verify with its own public key");
	PKID_TRY(pkid_policy_check_key(p, c->key, e));
	PKID_TRY(check_compromised(ca, csr, c->spki, e));
	PKID_TRY(check_names(ca, p, csr, rq, c, e));
	rc = PKID_OK;
out:
	if (rc != PKID_OK)
		pkid_ca_checked_free(c);
	return rc;
}

enum pkid_code
pkid_ca_check(struct pkid_ca *ca, X509_REQ *csr, const char *profile,
    const struct pkid_requester *rq, struct pkid_err *e)
{
	const struct pkid_profile *p = pkid_config_profile(&ca->cfg, profile);
	struct pkid_ca_checked c;
	enum pkid_code rc;

	if (p == NULL)
		return PKID_ERR(e, PKID_E_PROFILE_UNKNOWN, "no profile '%s' in "
		    "%s", profile, ca->cfg.path);
	rc = pkid_ca_check_request(ca, p, csr, rq, &c, e);
	pkid_ca_checked_free(&c);
	return rc;
}
