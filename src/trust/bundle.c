/*
 * bundle.c - making a signed trust bundle (bundle.h), the TrustAnchorList
 * template and the rules both sides share (signer usage, CA anchors).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/limits.h"
#include "trust/bundle.h"
#include "trust/bundle_int.h"
#include "x509/load.h"

/*
 * TrustAnchorList ::= SEQUENCE SIZE (1..MAX) OF TrustAnchorChoice
 * (RFC 5914 4) with every element the untagged 'certificate' choice: a
 * SEQUENCE OF Certificate. Size bounds are checked by the callers.
 */
ASN1_ITEM_TEMPLATE(PKID_TA_LIST) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, TrustAnchorList,
	    X509)
static_ASN1_ITEM_TEMPLATE_END(PKID_TA_LIST)

const ASN1_ITEM *
pkid_trust_ta_list_item(void)
{
	return ASN1_ITEM_rptr(PKID_TA_LIST);
}

ASN1_OBJECT *
pkid_trust_oid(const char *dotted)
{
	/* 1: numerical form only, never a name lookup. */
	return OBJ_txt2obj(dotted, 1);
}

int
pkid_trust_is_ca(X509 *x)
{
	/* X509_check_ca: 1 basicConstraints cA=TRUE, 3 a self-signed v1
	 * certificate; 4 and 5 (keyCertSign or Netscape type without
	 * basicConstraints) are not anchors RFC 5280 would chain from. */
	int r = X509_check_ca(x);

	return r == 1 || (r == 3 && X509_get_version(x) == X509_VERSION_1);
}

/* "serverAuth, clientAuth" of an EKU into out. */
static void
eku_text(EXTENDED_KEY_USAGE *eku, char *out, size_t n)
{
	char one[96];
	size_t used = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < sk_ASN1_OBJECT_num(eku) && used < n; i++) {
		OBJ_obj2txt(one, sizeof(one), sk_ASN1_OBJECT_value(eku, i), 0);
		used += (size_t)snprintf(out + used, n - used, "%s%s",
		    i > 0 ? ", " : "", one);
	}
}

enum pkid_code
pkid_trust_signer_usable(X509 *signer, struct pkid_err *e)
{
	EXTENDED_KEY_USAGE *eku = NULL;
	ASN1_OBJECT *want = NULL;
	char sub[256], list[256];
	uint32_t ku;
	int crit = -1, i, ok = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_x509_name_text(X509_get_subject_name(signer), sub, sizeof(sub));
	PKID_OSSL_PTR(want = pkid_trust_oid(PKID_TRUST_OID_EKU), PKID_E_NOMEM,
	    "no memory");
	eku = X509_get_ext_d2i(signer, NID_ext_key_usage, &crit, NULL);
	PKID_CHECK(eku != NULL || crit == -1, PKID_E_BUNDLE_SIGNER_EKU,
	    "bundle signer '%s': its extendedKeyUsage does not decode (or "
	    "appears twice)", sub);
	for (i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);

		ok |= OBJ_cmp(o, want) == 0 ||
		    OBJ_obj2nid(o) == NID_anyExtendedKeyUsage;
	}
	if (eku != NULL && !ok) {
		eku_text(eku, list, sizeof(list));
		rc = PKID_ERR(e, PKID_E_BUNDLE_SIGNER_EKU, "bundle signer "
		    "'%s': extendedKeyUsage lists %s; a bundle signer's lists "
		    "id-pkid-kp-trustBundleSigning (%s) or "
		    "anyExtendedKeyUsage, or has none", sub, list,
		    PKID_TRUST_OID_EKU);
		goto out;
	}
	ku = X509_get_key_usage(signer);
	PKID_CHECK(ku == UINT32_MAX || (ku & KU_DIGITAL_SIGNATURE),
	    PKID_E_BUNDLE_SIGNER_EKU, "bundle signer '%s': keyUsage without "
	    "digitalSignature (RFC 5280 4.2.1.3: needed to verify "
	    "signatures other than on certificates and CRLs)", sub);
	rc = PKID_OK;
out:
	EXTENDED_KEY_USAGE_free(eku);
	ASN1_OBJECT_free(want);
	ERR_clear_error();
	return rc;
}

enum pkid_code
pkid_trust_content_sha256(STACK_OF(X509) *anchors, char out[65],
    struct pkid_err *e)
{
	unsigned char *der = NULL, md[32];
	unsigned int n = 0;
	int len, ok;

	out[0] = '\0';
	len = ASN1_item_i2d((ASN1_VALUE *)anchors, &der,
	    pkid_trust_ta_list_item());
	ok = len > 0 && EVP_Digest(der, (size_t)len, md, &n, EVP_sha256(),
	    NULL) == 1 && n == 32;
	OPENSSL_free(der);
	if (!ok)
		return PKID_ERR(e, PKID_E_CRYPTO, "digest of the "
		    "TrustAnchorList");
	pkid_hex(md, 32, out);
	return PKID_OK;
}

/* DER TrustAnchorList of anchors into a new BIO for CMS_final. */
static enum pkid_code
content_bio(STACK_OF(X509) *anchors, BIO **out, struct pkid_err *e)
{
	unsigned char *der = NULL;
	int len;

	*out = NULL;
	len = ASN1_item_i2d((ASN1_VALUE *)anchors, &der,
	    pkid_trust_ta_list_item());
	if (len <= 0)
		return PKID_ERR(e, PKID_E_CRYPTO, "encoding the "
		    "TrustAnchorList");
	*out = BIO_new(BIO_s_mem());
	if (*out == NULL || BIO_write(*out, der, len) != len) {
		OPENSSL_free(der);
		BIO_free(*out);
		*out = NULL;
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	OPENSSL_free(der);
	return PKID_OK;
}

/* signingTime and bundleSerial on si (RFC 5652 11.3: UTCTime through
 * 2049, GeneralizedTime after; ASN1_TIME_set picks so). */
static enum pkid_code
add_attrs(CMS_SignerInfo *si, int64_t serial, time_t t, struct pkid_err *e)
{
	ASN1_TIME *at = NULL;
	ASN1_INTEGER *ai = NULL;
	ASN1_OBJECT *obj = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(at = ASN1_TIME_set(NULL, t), PKID_E_CRYPTO,
	    "signing time");
	PKID_OSSL(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime,
	    at->type, at, -1), PKID_E_CRYPTO, "adding signingTime");
	PKID_OSSL_PTR(ai = ASN1_INTEGER_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(ASN1_INTEGER_set_int64(ai, serial), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL_PTR(obj = pkid_trust_oid(PKID_TRUST_OID_SERIAL),
	    PKID_E_NOMEM, "no memory");
	PKID_OSSL(CMS_signed_add1_attr_by_OBJ(si, obj, V_ASN1_INTEGER, ai,
	    -1), PKID_E_CRYPTO, "adding bundleSerial");
	rc = PKID_OK;
out:
	ASN1_TIME_free(at);
	ASN1_INTEGER_free(ai);
	ASN1_OBJECT_free(obj);
	return rc;
}

/* The SignedData with its content type, certificates and signer. */
static enum pkid_code
build(STACK_OF(X509) *anchors, X509 *signer, EVP_PKEY *key,
    STACK_OF(X509) *chain, int64_t serial, time_t t, CMS_ContentInfo **out,
    struct pkid_err *e)
{
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	ASN1_OBJECT *ct = NULL;
	BIO *in = NULL;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(X509_check_private_key(signer, key) == 1,
	    PKID_E_KEY_MISMATCH, "the signing key does not belong to the "
	    "signer certificate");
	PKID_OSSL_PTR(cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL |
	    CMS_BINARY), PKID_E_CRYPTO, "starting the SignedData");
	PKID_OSSL_PTR(ct = pkid_trust_oid(PKID_TRUST_OID_CONTENT),
	    PKID_E_NOMEM, "no memory");
	PKID_OSSL(CMS_set1_eContentType(cms, ct), PKID_E_CRYPTO,
	    "eContentType");
	for (i = 0; i < sk_X509_num(chain); i++)
		PKID_OSSL(CMS_add1_cert(cms, sk_X509_value(chain, i)),
		    PKID_E_CRYPTO, "adding a chain certificate");
	/* No SMIMECapabilities: this is no mail. The signature is made
	 * by CMS_final, after the attributes below. */
	PKID_OSSL_PTR(si = CMS_add1_signer(cms, signer, key, EVP_sha256(),
	    CMS_BINARY | CMS_NOSMIMECAP), PKID_E_CRYPTO, "adding the signer");
	PKID_TRY(add_attrs(si, serial, t, e));
	PKID_TRY(content_bio(anchors, &in, e));
	PKID_OSSL(CMS_final(cms, in, NULL, CMS_BINARY), PKID_E_CRYPTO,
	    "signing the bundle");
	*out = cms;
	cms = NULL;
	rc = PKID_OK;
out:
	BIO_free(in);
	ASN1_OBJECT_free(ct);
	CMS_ContentInfo_free(cms);
	return rc;
}

enum pkid_code
pkid_trust_bundle_make(STACK_OF(X509) *anchors, X509 *signer, EVP_PKEY *key,
    STACK_OF(X509) *chain, int64_t serial, time_t signing_time,
    struct pkid_buf *out, struct pkid_err *e)
{
	CMS_ContentInfo *cms = NULL;
	unsigned char *der = NULL;
	int len;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, PKID_TRUST_MAX_BUNDLE_SIZE);
	PKID_CHECK(sk_X509_num(anchors) > 0, PKID_E_USAGE, "a trust bundle "
	    "holds at least one anchor (RFC 5914 4: SIZE (1..MAX))");
	PKID_CHECK(sk_X509_num(anchors) <= PKID_TRUST_MAX_ANCHORS,
	    PKID_E_TOO_LARGE, "%d anchors, more than %d",
	    sk_X509_num(anchors), PKID_TRUST_MAX_ANCHORS);
	PKID_CHECK(sk_X509_num(chain) < PKID_TRUST_MAX_SIGNER_CERTS,
	    PKID_E_TOO_LARGE, "%d chain certificates, more than %d",
	    sk_X509_num(chain), PKID_TRUST_MAX_SIGNER_CERTS - 1);
	PKID_CHECK(serial >= 0, PKID_E_USAGE, "the bundle serial is "
	    "0..9223372036854775807, not %lld", (long long)serial);
	PKID_TRY(build(anchors, signer, key, chain, serial, signing_time,
	    &cms, e));
	PKID_OSSL((len = i2d_CMS_ContentInfo(cms, &der)), PKID_E_CRYPTO,
	    "encoding the bundle");
	PKID_TRY(pkid_buf_append(out, der, (size_t)len, e));
	rc = PKID_OK;
out:
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	return rc;
}
