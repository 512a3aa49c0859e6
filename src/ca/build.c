/*
 * build.c - certificate assembly (extensions via X509V3 APIs).
 */
#include "ca/build.h"

#include <string.h>

#include <openssl/rand.h>

#include "core/cfg.h"
#include "x509/load.h"

static enum pkid_code
add_ext(X509 *x, int nid, int crit, void *value, struct pkid_err *e)
{
	if (X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_DEFAULT) != 1)
		return PKID_ERR(e, PKID_E_CRYPTO, "cannot add extension %s",
		    OBJ_nid2sn(nid));
	return PKID_OK;
}

static enum pkid_code
set_serial(X509 *x, char serial_hex[48], struct pkid_err *e)
{
	unsigned char r[16];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	/* 128 random bits, top bit clear so the DER INTEGER stays 16 octets
	 * and positive; a leading zero octet is redrawn so the length is
	 * fixed. */
	do {
		PKID_OSSL(RAND_bytes(r, sizeof(r)), PKID_E_CRYPTO,
		    "random serial");
		r[0] &= 0x7f;
	} while (r[0] == 0);
	PKID_OSSL_PTR(bn = BN_bin2bn(r, sizeof(r), NULL), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL_PTR(ai = BN_to_ASN1_INTEGER(bn, NULL), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL(X509_set_serialNumber(x, ai), PKID_E_CRYPTO, "set serial");
	pkid_x509_serial_hex(ai, serial_hex, 48);
	rc = PKID_OK;
out:
	BN_free(bn);
	ASN1_INTEGER_free(ai);
	return rc;
}

static enum pkid_code
add_key_ids(X509 *x, const struct pkid_certspec *s, struct pkid_err *e)
{
	ASN1_OCTET_STRING *ski = NULL;
	AUTHORITY_KEYID *akid = NULL;
	const ASN1_OCTET_STRING *iski;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	/* RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey. */
	PKID_OSSL(X509_pubkey_digest(x, EVP_sha1(), md, &mdlen),
	    PKID_E_CRYPTO, "key id digest");
	PKID_OSSL_PTR(ski = ASN1_OCTET_STRING_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(ASN1_OCTET_STRING_set(ski, md, (int)mdlen), PKID_E_NOMEM,
	    "no memory");
	PKID_TRY(add_ext(x, NID_subject_key_identifier, 0, ski, e));
	iski = s->issuer != NULL ? X509_get0_subject_key_id(s->issuer) : ski;
	if (iski != NULL) {
		PKID_OSSL_PTR(akid = AUTHORITY_KEYID_new(), PKID_E_NOMEM,
		    "no memory");
		PKID_OSSL_PTR(akid->keyid = ASN1_OCTET_STRING_dup(iski),
		    PKID_E_NOMEM, "no memory");
		PKID_TRY(add_ext(x, NID_authority_key_identifier, 0, akid, e));
	}
	rc = PKID_OK;
out:
	ASN1_OCTET_STRING_free(ski);
	AUTHORITY_KEYID_free(akid);
	return rc;
}

static enum pkid_code
add_usage(X509 *x, const struct pkid_certspec *s, struct pkid_err *e)
{
	static const struct { unsigned bit; int nid; } ekus[] = {
		{ PKID_EKU_SERVER, NID_server_auth },
		{ PKID_EKU_CLIENT, NID_client_auth },
		{ PKID_EKU_CODE, NID_code_sign },
		{ PKID_EKU_EMAIL, NID_email_protect },
		{ PKID_EKU_OCSP, NID_OCSP_sign },
		{ PKID_EKU_CMC_RA, NID_cmcRA },
	};
	BASIC_CONSTRAINTS *bc = NULL;
	ASN1_BIT_STRING *ku = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	unsigned bits;
	size_t i;
	int b;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(bc = BASIC_CONSTRAINTS_new(), PKID_E_NOMEM, "no memory");
	bc->ca = s->is_ca ? 0xff : 0;
	if (s->is_ca && s->pathlen >= 0) {
		PKID_OSSL_PTR(bc->pathlen = ASN1_INTEGER_new(), PKID_E_NOMEM,
		    "no memory");
		ASN1_INTEGER_set(bc->pathlen, s->pathlen);
	}
	PKID_TRY(add_ext(x, NID_basic_constraints, 1, bc, e));
	bits = s->is_ca ? (KU_KEY_CERT_SIGN | KU_CRL_SIGN) : s->key_usage;
	PKID_OSSL_PTR(ku = ASN1_BIT_STRING_new(), PKID_E_NOMEM, "no memory");
	/* KU_* bits are X.509 bit numbers in OpenSSL's byte order. */
	for (b = 0; b < 9; b++) {
		unsigned flag = b < 8 ? (0x80u >> b) : 0x8000u;

		if (bits & flag)
			ASN1_BIT_STRING_set_bit(ku, b, 1);
	}
	PKID_TRY(add_ext(x, NID_key_usage, 1, ku, e));
	if (s->eku != 0) {
		PKID_OSSL_PTR(eku = sk_ASN1_OBJECT_new_null(), PKID_E_NOMEM,
		    "no memory");
		for (i = 0; i < sizeof(ekus) / sizeof(ekus[0]); i++)
			if ((s->eku & ekus[i].bit) &&
			    !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(ekus[i].nid)))
				goto out;
		PKID_TRY(add_ext(x, NID_ext_key_usage, 0, eku, e));
	}
	rc = PKID_OK;
out:
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(ku);
	sk_ASN1_OBJECT_free(eku);	/* static objects: do not free them */
	return rc;
}

/*
 * RFC 5280 4.2.1.13: one DistributionPoint with a fullName URI, no
 * reasons and no cRLIssuer: the CA's complete CRL, signed by the issuer
 * itself, is at url.
 */
static enum pkid_code
add_crl_dp(X509 *x, const char *url, struct pkid_err *e)
{
	CRL_DIST_POINTS *cdp = NULL;
	DIST_POINT *dp = NULL;
	GENERAL_NAME *gn = NULL;
	ASN1_IA5STRING *uri = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(cdp = sk_DIST_POINT_new_null(), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL_PTR(dp = DIST_POINT_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL_PTR(dp->distpoint = DIST_POINT_NAME_new(), PKID_E_NOMEM,
	    "no memory");
	dp->distpoint->type = 0;	/* fullName */
	PKID_OSSL_PTR(dp->distpoint->name.fullname = GENERAL_NAMES_new(),
	    PKID_E_NOMEM, "no memory");
	PKID_OSSL_PTR(uri = ASN1_IA5STRING_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(ASN1_STRING_set(uri, url, -1), PKID_E_NOMEM, "no memory");
	PKID_OSSL_PTR(gn = GENERAL_NAME_new(), PKID_E_NOMEM, "no memory");
	GENERAL_NAME_set0_value(gn, GEN_URI, uri);
	uri = NULL;
	PKID_OSSL(sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn),
	    PKID_E_NOMEM, "no memory");
	gn = NULL;
	PKID_OSSL(sk_DIST_POINT_push(cdp, dp), PKID_E_NOMEM, "no memory");
	dp = NULL;
	PKID_TRY(add_ext(x, NID_crl_distribution_points, 0, cdp, e));
	rc = PKID_OK;
out:
	ASN1_IA5STRING_free(uri);
	GENERAL_NAME_free(gn);
	DIST_POINT_free(dp);
	CRL_DIST_POINTS_free(cdp);
	return rc;
}

/* One AccessDescription: method with a URI. */
static enum pkid_code
push_ad(AUTHORITY_INFO_ACCESS *aia, int nid, const char *url,
    struct pkid_err *e)
{
	ACCESS_DESCRIPTION *ad = NULL;
	ASN1_IA5STRING *uri = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(ad = ACCESS_DESCRIPTION_new(), PKID_E_NOMEM,
	    "no memory");
	ASN1_OBJECT_free(ad->method);
	ad->method = OBJ_nid2obj(nid);
	PKID_OSSL_PTR(uri = ASN1_IA5STRING_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(ASN1_STRING_set(uri, url, -1), PKID_E_NOMEM, "no memory");
	GENERAL_NAME_set0_value(ad->location, GEN_URI, uri);
	uri = NULL;
	PKID_OSSL(sk_ACCESS_DESCRIPTION_push(aia, ad), PKID_E_NOMEM,
	    "no memory");
	ad = NULL;
	rc = PKID_OK;
out:
	ASN1_IA5STRING_free(uri);
	ACCESS_DESCRIPTION_free(ad);
	return rc;
}

/*
 * RFC 5280 4.2.2.1: id-ad-ocsp with the responder's URI, then
 * id-ad-caIssuers with a URI naming the issuer's certificate (DER over
 * http); non-critical. Either may be NULL.
 */
static enum pkid_code
add_aia(X509 *x, const char *ca_url, const char *ocsp_url,
    struct pkid_err *e)
{
	AUTHORITY_INFO_ACCESS *aia = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(aia = AUTHORITY_INFO_ACCESS_new(), PKID_E_NOMEM,
	    "no memory");
	if (ocsp_url != NULL)
		PKID_TRY(push_ad(aia, NID_ad_OCSP, ocsp_url, e));
	if (ca_url != NULL)
		PKID_TRY(push_ad(aia, NID_ad_ca_issuers, ca_url, e));
	PKID_TRY(add_ext(x, NID_info_access, 0, aia, e));
	rc = PKID_OK;
out:
	AUTHORITY_INFO_ACCESS_free(aia);
	return rc;
}

/* RFC 6960 4.2.2.2.1: id-pkix-ocsp-nocheck, NULL value, non-critical. */
static enum pkid_code
add_nocheck(X509 *x, struct pkid_err *e)
{
	ASN1_NULL *n = ASN1_NULL_new();
	enum pkid_code rc;

	if (n == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	rc = add_ext(x, NID_id_pkix_OCSP_noCheck, 0, n, e);
	ASN1_NULL_free(n);
	return rc;
}

/* Copy an encoded SubjectPublicKeyInfo into x without re-encoding. */
static enum pkid_code
copy_spki(X509 *x, X509_PUBKEY *src, struct pkid_err *e)
{
	X509_PUBKEY *dst = X509_get_X509_PUBKEY(x);
	ASN1_OBJECT *kobj = NULL, *aobj = NULL;
	const ASN1_OBJECT *cobj;
	const unsigned char *pk;
	X509_ALGOR *alg;
	const void *pval;
	void *nval = NULL;
	unsigned char *enc = NULL;
	int pklen, ptype;

	if (dst == NULL || !X509_PUBKEY_get0_param(&kobj, &pk, &pklen, &alg,
	    src))
		return PKID_ERR(e, PKID_E_CRYPTO, "public key parameters");
	X509_ALGOR_get0(&cobj, &ptype, &pval, alg);
	if ((aobj = OBJ_dup(cobj)) == NULL)
		goto nomem;
	if (ptype == V_ASN1_OBJECT)
		nval = OBJ_dup(pval);
	else if (ptype == V_ASN1_SEQUENCE)
		nval = ASN1_STRING_dup(pval);
	if ((ptype == V_ASN1_OBJECT || ptype == V_ASN1_SEQUENCE) &&
	    nval == NULL)
		goto nomem;
	if ((enc = OPENSSL_memdup(pk, (size_t)pklen)) == NULL)
		goto nomem;
	if (!X509_PUBKEY_set0_param(dst, aobj, ptype, nval, enc, pklen))
		goto nomem;
	return PKID_OK;
nomem:
	ASN1_OBJECT_free(aobj);
	if (ptype == V_ASN1_OBJECT)
		ASN1_OBJECT_free(nval);
	else
		ASN1_STRING_free(nval);
	OPENSSL_free(enc);
	return PKID_ERR(e, PKID_E_NOMEM, "no memory");
}

enum pkid_code
pkid_cert_build(const struct pkid_certspec *s, X509 **out,
    char serial_hex[48], struct pkid_err *e)
{
	X509 *x = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	int empty_subject = X509_NAME_entry_count(s->subject) == 0;

	*out = NULL;
	PKID_OSSL_PTR(x = X509_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_set_version(x, X509_VERSION_3), PKID_E_CRYPTO, "version");
	PKID_TRY(set_serial(x, serial_hex, e));
	PKID_OSSL(X509_set_subject_name(x, s->subject), PKID_E_CRYPTO,
	    "subject");
	PKID_OSSL(X509_set_issuer_name(x, s->issuer != NULL ?
	    X509_get_subject_name(s->issuer) : s->subject), PKID_E_CRYPTO,
	    "issuer");
	PKID_OSSL_PTR(ASN1_TIME_set(X509_getm_notBefore(x),
	    (time_t)s->not_before), PKID_E_CRYPTO, "notBefore");
	PKID_OSSL_PTR(ASN1_TIME_set(X509_getm_notAfter(x),
	    (time_t)s->not_after), PKID_E_CRYPTO, "notAfter");
	if (s->spki != NULL)
		PKID_TRY(copy_spki(x, s->spki, e));
	else
		PKID_OSSL(X509_set_pubkey(x, s->pubkey), PKID_E_CRYPTO,
		    "public key");
	PKID_TRY(add_usage(x, s, e));
	PKID_TRY(add_key_ids(x, s, e));
	if (s->sans != NULL)
		PKID_TRY(add_ext(x, NID_subject_alt_name, empty_subject,
		    (void *)s->sans, e));
	if (s->crl_url != NULL)
		PKID_TRY(add_crl_dp(x, s->crl_url, e));
	if (s->aia_url != NULL || s->ocsp_url != NULL)
		PKID_TRY(add_aia(x, s->aia_url, s->ocsp_url, e));
	if (s->ocsp_nocheck)
		PKID_TRY(add_nocheck(x, e));
	*out = x;
	x = NULL;
	rc = PKID_OK;
out:
	X509_free(x);
	return rc;
}
