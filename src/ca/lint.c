/*
 * lint.c - RFC 5280 musts checked on every certificate before signing.
 * A failure here means a profile or code bug: pkid refuses to sign.
 */
#include <openssl/x509v3.h>

#include "ca/policy.h"

static enum pkid_code
lint_serial(X509 *x, struct pkid_err *e)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	unsigned char *der = NULL;
	int len;

	/* RFC 5280 4.1.2.2: positive, at most 20 octets. */
	if (ASN1_STRING_type(s) == V_ASN1_NEG_INTEGER)
		return PKID_ERR(e, PKID_E_LINT_FAILED,
		    "RFC 5280 4.1.2.2: serial number is negative");
	len = i2d_ASN1_INTEGER((ASN1_INTEGER *)s, &der);
	OPENSSL_free(der);
	if (len <= 2 || len - 2 > 20)
		return PKID_ERR(e, PKID_E_LINT_FAILED,
		    "RFC 5280 4.1.2.2: serial number of %d octets, want 1..20",
		    len - 2);
	if (ASN1_INTEGER_get(s) == 0 && ASN1_STRING_length(s) <= 1)
		return PKID_ERR(e, PKID_E_LINT_FAILED,
		    "RFC 5280 4.1.2.2: serial number is zero");
	return PKID_OK;
}

static enum pkid_code
lint_unique_exts(X509 *x, struct pkid_err *e)
{
	int i, j, n = X509_get_ext_count(x);

	/* RFC 5280 4.2: a certificate MUST NOT include more than one
	 * instance of a particular extension. */
	for (i = 0; i < n; i++) {
		const ASN1_OBJECT *a = X509_EXTENSION_get_object(
		    X509_get_ext(x, i));

		for (j = i + 1; j < n; j++)
			if (OBJ_cmp(a, X509_EXTENSION_get_object(
			    X509_get_ext(x, j))) == 0)
				return PKID_ERR(e, PKID_E_LINT_FAILED,
				    "RFC 5280 4.2: extension %s appears twice",
				    OBJ_nid2sn(OBJ_obj2nid(a)));
	}
	return PKID_OK;
}

static enum pkid_code
lint_ca_flags(X509 *x, struct pkid_err *e)
{
	BASIC_CONSTRAINTS *bc;
	int crit = 0, is_ca = 0, idx;
	uint32_t ku = X509_get_key_usage(x);

	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	if (bc != NULL)
		is_ca = bc->ca != 0;
	BASIC_CONSTRAINTS_free(bc);
	/* 4.2.1.9: a CA MUST mark basicConstraints critical. */
	if (is_ca && !crit)
		return PKID_ERR(e, PKID_E_LINT_FAILED, "RFC 5280 4.2.1.9: "
		    "basicConstraints of a CA must be critical");
	/* 4.2.1.3: keyCertSign only when cA is TRUE. */
	if ((ku & KU_KEY_CERT_SIGN) && !is_ca && ku != UINT32_MAX)
		return PKID_ERR(e, PKID_E_LINT_FAILED, "RFC 5280 4.2.1.3: "
		    "keyCertSign set but basicConstraints cA is FALSE");
	if (is_ca && (ku == UINT32_MAX || !(ku & KU_KEY_CERT_SIGN)))
		return PKID_ERR(e, PKID_E_LINT_FAILED, "RFC 5280 4.2.1.3: "
		    "a CA certificate must have keyUsage keyCertSign");
	/* 4.2.1.3: when present, keyUsage SHOULD be critical; we insist, and
	 * it MUST NOT be empty. */
	idx = X509_get_ext_by_NID(x, NID_key_usage, -1);
	if (idx >= 0 && ku == 0)
		return PKID_ERR(e, PKID_E_LINT_FAILED, "RFC 5280 4.2.1.3: "
		    "keyUsage present with no bit set");
	return PKID_OK;
}

static enum pkid_code
lint_names(X509 *x, struct pkid_err *e)
{
	const X509_NAME *subj = X509_get_subject_name(x);
	int idx = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);

	/* 4.2.1.6: empty subject requires a critical SAN. */
	if (X509_NAME_entry_count(subj) == 0) {
		if (idx < 0)
			return PKID_ERR(e, PKID_E_LINT_FAILED, "RFC 5280 "
			    "4.2.1.6: empty subject and no subjectAltName");
		if (!X509_EXTENSION_get_critical(X509_get_ext(x, idx)))
			return PKID_ERR(e, PKID_E_LINT_FAILED, "RFC 5280 "
			    "4.2.1.6: empty subject needs a critical SAN");
	}
	if (idx >= 0) {
		GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name,
		    NULL, NULL);
		int n = g != NULL ? sk_GENERAL_NAME_num(g) : 0;

		GENERAL_NAMES_free(g);
		if (n == 0)
			return PKID_ERR(e, PKID_E_LINT_FAILED, "RFC 5280 "
			    "4.2.1.6: subjectAltName with no name");
	}
	return PKID_OK;
}

static enum pkid_code
lint_keyids(X509 *x, struct pkid_err *e)
{
	/* 4.2.1.1 / 4.2.1.2: AKI and SKI, which pkid always sets. */
	if (X509_get_ext_by_NID(x, NID_subject_key_identifier, -1) < 0)
		return PKID_ERR(e, PKID_E_LINT_FAILED,
		    "RFC 5280 4.2.1.2: subjectKeyIdentifier missing");
	if (X509_get_ext_by_NID(x, NID_authority_key_identifier, -1) < 0 &&
	    X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_issuer_name(x)) != 0)
		return PKID_ERR(e, PKID_E_LINT_FAILED,
		    "RFC 5280 4.2.1.1: authorityKeyIdentifier missing");
	return PKID_OK;
}

enum pkid_code
pkid_lint_tbs(X509 *x, struct pkid_err *e)
{
	enum pkid_code rc;

	if (X509_get_version(x) != X509_VERSION_3)
		return PKID_ERR(e, PKID_E_LINT_FAILED,
		    "RFC 5280 4.1.2.1: extensions need version 3");
	if (ASN1_TIME_compare(X509_get0_notBefore(x),
	    X509_get0_notAfter(x)) >= 0)
		return PKID_ERR(e, PKID_E_LINT_FAILED,
		    "RFC 5280 4.1.2.5: notBefore is not before notAfter");
	X509_check_purpose(x, -1, 0);	/* caches extension flags */
	if ((X509_get_extension_flags(x) & EXFLAG_INVALID) != 0)
		return PKID_ERR(e, PKID_E_LINT_FAILED,
		    "RFC 5280 4.2: an extension does not decode");
	if ((rc = lint_serial(x, e)) != PKID_OK ||
	    (rc = lint_unique_exts(x, e)) != PKID_OK ||
	    (rc = lint_ca_flags(x, e)) != PKID_OK ||
	    (rc = lint_names(x, e)) != PKID_OK ||
	    (rc = lint_keyids(x, e)) != PKID_OK)
		return rc;
	return PKID_OK;
}
