/*
 * bundle_open.c - decoding and verifying a signed trust bundle
 * (bundle.h): structure first, then the signature, then the signer's
 * chain to a pinned anchor and its usage, then the TrustAnchorList.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "core/clock.h"
#include "core/limits.h"
#include "trust/bundle.h"
#include "trust/bundle_int.h"
#include "verify/verify.h"
#include "x509/load.h"

void
pkid_trust_bundle_free(struct pkid_trust_bundle *b)
{
	if (b == NULL)
		return;
	sk_X509_pop_free(b->anchors, X509_free);
	sk_X509_pop_free(b->certs, X509_free);
	X509_free(b->signer);
	X509_free(b->pinned);
	free(b);
}

/* The one value of the signed attribute obj, or NULL (and e set). */
static ASN1_TYPE *
one_attr(CMS_SignerInfo *si, const ASN1_OBJECT *obj, const char *name,
    struct pkid_err *e)
{
	X509_ATTRIBUTE *a;
	int i = CMS_signed_get_attr_by_OBJ(si, obj, -1);

	if (i < 0) {
		PKID_ERR(e, PKID_E_BUNDLE_MALFORMED, "the signer info has no "
		    "%s signed attribute", name);
		return NULL;
	}
	if (CMS_signed_get_attr_by_OBJ(si, obj, i) >= 0 ||
	    (a = CMS_signed_get_attr(si, i)) == NULL ||
	    X509_ATTRIBUTE_count(a) != 1) {
		PKID_ERR(e, PKID_E_BUNDLE_MALFORMED, "the %s signed attribute "
		    "appears twice or has other than one value", name);
		return NULL;
	}
	return X509_ATTRIBUTE_get0_type(a, 0);
}

/* bundleSerial and signingTime. */
static enum pkid_code
read_attrs(CMS_SignerInfo *si, struct pkid_trust_bundle *b,
    struct pkid_err *e)
{
	ASN1_OBJECT *obj = NULL;
	ASN1_TYPE *t;
	struct tm tm;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(obj = pkid_trust_oid(PKID_TRUST_OID_SERIAL),
	    PKID_E_NOMEM, "no memory");
	if ((t = one_attr(si, obj, "bundleSerial", e)) == NULL) {
		rc = e->code;
		goto out;
	}
	PKID_CHECK(t->type == V_ASN1_INTEGER && ASN1_INTEGER_get_int64(
	    &b->serial, t->value.integer) == 1 && b->serial >= 0,
	    PKID_E_BUNDLE_MALFORMED, "bundleSerial is not an INTEGER "
	    "0..9223372036854775807");
	if ((t = one_attr(si, OBJ_nid2obj(NID_pkcs9_signingTime),
	    "signingTime", e)) == NULL) {
		rc = e->code;
		goto out;
	}
	memset(&tm, 0, sizeof(tm));
	PKID_CHECK((t->type == V_ASN1_UTCTIME || t->type ==
	    V_ASN1_GENERALIZEDTIME) && ASN1_TIME_to_tm(t->value.utctime,
	    &tm) == 1, PKID_E_BUNDLE_MALFORMED, "signingTime is not a valid "
	    "UTCTime or GeneralizedTime (RFC 5652 11.3)");
	b->signing_time = timegm(&tm);
	rc = PKID_OK;
out:
	ASN1_OBJECT_free(obj);
	return rc;
}

/* The SignedData's shape: content type, one signer, bounded certs. */
static enum pkid_code
check_shape(CMS_ContentInfo *cms, CMS_SignerInfo **si,
    struct pkid_trust_bundle *b, struct pkid_err *e)
{
	STACK_OF(CMS_SignerInfo) *sis;
	ASN1_OBJECT *want = NULL;
	ASN1_OCTET_STRING **pos;
	char got[96];
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_signed,
	    PKID_E_BUNDLE_MALFORMED, "a CMS %s, not a SignedData",
	    OBJ_nid2sn(OBJ_obj2nid(CMS_get0_type(cms))));
	PKID_OSSL_PTR(want = pkid_trust_oid(PKID_TRUST_OID_CONTENT),
	    PKID_E_NOMEM, "no memory");
	OBJ_obj2txt(got, sizeof(got), CMS_get0_eContentType(cms), 1);
	PKID_CHECK(OBJ_cmp(CMS_get0_eContentType(cms), want) == 0,
	    PKID_E_BUNDLE_MALFORMED, "eContentType %s, want "
	    "id-ct-trustAnchorList %s (a certs-only PKCS#7 is no signed "
	    "bundle)", got, PKID_TRUST_OID_CONTENT);
	pos = CMS_get0_content(cms);
	PKID_CHECK(pos != NULL && *pos != NULL, PKID_E_BUNDLE_MALFORMED,
	    "the SignedData does not carry its content (detached)");
	sis = CMS_get0_SignerInfos(cms);
	PKID_CHECK(sk_CMS_SignerInfo_num(sis) == 1, PKID_E_BUNDLE_MALFORMED,
	    "%d signer infos, want exactly one", sk_CMS_SignerInfo_num(sis));
	*si = sk_CMS_SignerInfo_value(sis, 0);
	PKID_OSSL_PTR(b->certs = CMS_get1_certs(cms),
	    PKID_E_BUNDLE_SIGNER_UNTRUSTED, "the bundle carries no "
	    "certificate: its signer cannot be known");
	PKID_CHECK(sk_X509_num(b->certs) <= PKID_TRUST_MAX_SIGNER_CERTS,
	    PKID_E_BUNDLE_MALFORMED, "%d certificates beside the content, "
	    "more than %d", sk_X509_num(b->certs),
	    PKID_TRUST_MAX_SIGNER_CERTS);
	rc = PKID_OK;
out:
	ASN1_OBJECT_free(want);
	return rc;
}

/* The signer's certificate among the CMS certificates. */
static enum pkid_code
find_signer(CMS_SignerInfo *si, struct pkid_trust_bundle *b,
    struct pkid_err *e)
{
	int i;

	for (i = 0; i < sk_X509_num(b->certs); i++) {
		X509 *x = sk_X509_value(b->certs, i);

		if (CMS_SignerInfo_cert_cmp(si, x) != 0)
			continue;
		if (!X509_up_ref(x))
			return PKID_ERR(e, PKID_E_INTERNAL, "reference");
		b->signer = x;
		pkid_x509_name_text(X509_get_subject_name(x),
		    b->signer_subject, sizeof(b->signer_subject));
		return PKID_OK;
	}
	return PKID_ERR(e, PKID_E_BUNDLE_SIGNER_UNTRUSTED, "none of the %d "
	    "certificates the bundle carries is its signer's",
	    sk_X509_num(b->certs));
}

/* The signature over the signed attributes and the content digest. */
static enum pkid_code
check_signature(CMS_ContentInfo *cms, struct pkid_trust_bundle *b,
    struct pkid_err *e)
{
	STACK_OF(X509) *one = sk_X509_new_null();
	BIO *sink = BIO_new(BIO_s_null());
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(one != NULL && sink != NULL ? one : NULL, PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL(sk_X509_push(one, b->signer), PKID_E_NOMEM, "no memory");
	/* The chain is checked below with pkid's verifier, against the
	 * pinned anchors only. */
	if (CMS_verify(cms, one, NULL, NULL, sink, CMS_BINARY |
	    CMS_NO_SIGNER_CERT_VERIFY | CMS_NOINTERN) != 1) {
		rc = PKID_ERR(e, PKID_E_BUNDLE_BAD_SIGNATURE, "the signature "
		    "of '%s' over the bundle does not verify (content or "
		    "signed attributes changed after signing)",
		    b->signer_subject);
		goto out;
	}
	rc = PKID_OK;
out:
	sk_X509_free(one);	/* b->signer stays b's */
	BIO_free(sink);
	return rc;
}

/* The verifier's finding on the signer's chain as a bundle error. */
static enum pkid_code
chain_failed(const struct pkid_verify_result *res,
    const struct pkid_trust_bundle *b, struct pkid_err *e)
{
	const struct pkid_verify_finding *f = &res->findings[0];
	char iss[256];

	pkid_x509_name_text(X509_get_issuer_name(b->signer), iss,
	    sizeof(iss));
	if (res->nfindings > 0 && (f->code == PKID_E_EXPIRED ||
	    f->code == PKID_E_NOT_YET_VALID))
		return PKID_ERR(e, f->code, "bundle signer '%s'%s: %s",
		    b->signer_subject, f->depth > 0 ? "'s chain" : "",
		    f->message);
	return PKID_ERR(e, PKID_E_BUNDLE_SIGNER_UNTRUSTED, "bundle signer "
	    "'%s' (issuer '%s') does not chain to a pinned anchor: %s: %s",
	    b->signer_subject, iss, pkid_err_id(res->code),
	    res->nfindings > 0 ? f->message : "no path");
}

/* The signer chains to one of pinned at time at; b->pinned is that. */
static enum pkid_code
check_chain(STACK_OF(X509) *pinned, time_t at, struct pkid_trust_bundle *b,
    struct pkid_err *e)
{
	struct pkid_verify_ctx *c = NULL;
	struct pkid_verify_result res;
	struct pkid_verify_opts o;
	struct pkid_err ve;
	X509 *top;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&res, 0, sizeof(res));
	PKID_OSSL_PTR(c = pkid_verify_ctx_new(e), PKID_E_NOMEM, "no memory");
	for (i = 0; i < sk_X509_num(pinned); i++)
		PKID_TRY(pkid_verify_add_trusted(c, sk_X509_value(pinned, i),
		    e));
	for (i = 0; i < sk_X509_num(b->certs); i++)
		PKID_TRY(pkid_verify_add_untrusted(c, sk_X509_value(b->certs,
		    i), e));
	pkid_verify_opts_init(&o);
	o.purpose = PKID_PURPOSE_ANY;
	o.at = at;
	pkid_err_clear(&ve);
	if (pkid_verify_run(c, &o, b->signer, &res, &ve) != PKID_OK ||
	    !res.valid) {
		rc = res.nfindings > 0 || ve.code == PKID_OK ||
		    (ve.code >> 16) == PKID_CAT_VERIFY ? chain_failed(&res, b,
		    e) : PKID_ERR(e, ve.code, "%s", ve.detail);
		goto out;
	}
	top = sk_X509_value(res.path, sk_X509_num(res.path) - 1);
	PKID_OSSL(X509_up_ref(top), PKID_E_INTERNAL, "reference");
	b->pinned = top;
	rc = PKID_OK;
out:
	pkid_verify_result_clear(&res);
	pkid_verify_ctx_free(c);
	return rc;
}

/* The TrustAnchorList in the eContent, and its SHA-256. */
static enum pkid_code
read_content(CMS_ContentInfo *cms, struct pkid_trust_bundle *b,
    struct pkid_err *e)
{
	ASN1_OCTET_STRING *os = *CMS_get0_content(cms);
	const unsigned char *p = ASN1_STRING_get0_data(os), *q = p;
	long len = ASN1_STRING_length(os);
	unsigned char md[32];
	unsigned int mdlen = 0;
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL(EVP_Digest(p, (size_t)len, md, &mdlen, EVP_sha256(), NULL),
	    PKID_E_CRYPTO, "content digest");
	pkid_hex(md, 32, b->content_sha256);
	b->anchors = (STACK_OF(X509) *)ASN1_item_d2i(NULL, &q, len,
	    pkid_trust_ta_list_item());
	PKID_CHECK(b->anchors != NULL, PKID_E_BUNDLE_MALFORMED, "the content "
	    "is not a TrustAnchorList of certificates (RFC 5914 4)");
	PKID_CHECK(q == p + len, PKID_E_BUNDLE_MALFORMED, "%ld bytes after "
	    "the TrustAnchorList", (long)(p + len - q));
	n = sk_X509_num(b->anchors);
	PKID_CHECK(n >= 1 && n <= PKID_TRUST_MAX_ANCHORS,
	    PKID_E_BUNDLE_MALFORMED, "%d anchors; a bundle holds 1 to %d", n,
	    PKID_TRUST_MAX_ANCHORS);
	rc = PKID_OK;
out:
	return rc;
}

enum pkid_code
pkid_trust_bundle_open(const uint8_t *p, size_t len, STACK_OF(X509) *pinned,
    time_t at, struct pkid_trust_bundle **out, struct pkid_err *e)
{
	struct pkid_trust_bundle *b = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si = NULL;
	const unsigned char *q = p;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	PKID_CHECK(len <= PKID_TRUST_MAX_BUNDLE_SIZE, PKID_E_TOO_LARGE,
	    "bundle of %zu bytes, over the limit of %d", len,
	    PKID_TRUST_MAX_BUNDLE_SIZE);
	PKID_OSSL_PTR(b = calloc(1, sizeof(*b)), PKID_E_NOMEM, "no memory");
	cms = d2i_CMS_ContentInfo(NULL, &q, (long)len);
	PKID_CHECK(cms != NULL, PKID_E_BUNDLE_MALFORMED, "%zu bytes that are "
	    "not a DER CMS ContentInfo (truncated, PEM or another format)",
	    len);
	PKID_CHECK(q == p + len, PKID_E_BUNDLE_MALFORMED, "%zu bytes after "
	    "the end of the CMS ContentInfo", (size_t)(p + len - q));
	PKID_TRY(check_shape(cms, &si, b, e));
	PKID_TRY(read_attrs(si, b, e));
	PKID_TRY(find_signer(si, b, e));
	PKID_TRY(check_signature(cms, b, e));
	if (pinned != NULL) {
		PKID_TRY(check_chain(pinned, at != 0 ? at : pkid_now(), b, e));
		PKID_TRY(pkid_trust_signer_usable(b->signer, e));
		b->authenticated = 1;
	}
	PKID_TRY(read_content(cms, b, e));
	*out = b;
	b = NULL;
	rc = PKID_OK;
out:
	ERR_clear_error();
	CMS_ContentInfo_free(cms);
	pkid_trust_bundle_free(b);
	return rc;
}
