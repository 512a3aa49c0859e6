/*
 * csrattrs.c - the CsrAttrs response (RFC 7030 4.5.2, RFC 8951 3.4) built
 * with OpenSSL ASN.1 templates.
 */
#include "est/csrattrs.h"

#include <string.h>

#include <openssl/obj_mac.h>

ASN1_CHOICE(PKID_ATTR_OR_OID) = {
	ASN1_SIMPLE(PKID_ATTR_OR_OID, value.oid, ASN1_OBJECT),
	ASN1_SIMPLE(PKID_ATTR_OR_OID, value.attribute, X509_ATTRIBUTE),
} ASN1_CHOICE_END(PKID_ATTR_OR_OID)

IMPLEMENT_ASN1_FUNCTIONS(PKID_ATTR_OR_OID)

ASN1_ITEM_TEMPLATE(PKID_CSR_ATTRS) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, CsrAttrs,
	    PKID_ATTR_OR_OID)
ASN1_ITEM_TEMPLATE_END(PKID_CSR_ATTRS)

IMPLEMENT_ASN1_ENCODE_FUNCTIONS_fname(PKID_CSR_ATTRS, PKID_CSR_ATTRS,
    PKID_CSR_ATTRS)

void
PKID_CSR_ATTRS_free(PKID_CSR_ATTRS *a)
{
	ASN1_item_free((ASN1_VALUE *)a, ASN1_ITEM_rptr(PKID_CSR_ATTRS));
}

/* Append a bare OID. */
static enum pkid_code
push_oid(PKID_CSR_ATTRS *sk, int nid, struct pkid_err *e)
{
	PKID_ATTR_OR_OID *a = PKID_ATTR_OR_OID_new();

	if (a == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	a->type = 0;
	a->value.oid = OBJ_nid2obj(nid);	/* static object, never freed */
	if (a->value.oid == NULL || !sk_PKID_ATTR_OR_OID_push(sk, a)) {
		PKID_ATTR_OR_OID_free(a);
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	return PKID_OK;
}

/* RFC 8951 3.4: "ecPublicKey with the curve as its value" per curve the
 * profile allows, in order of preference. */
static enum pkid_code
push_ec(PKID_CSR_ATTRS *sk, unsigned kt, struct pkid_err *e)
{
	static const struct {
		unsigned bit;	/* PKID_KT_* */
		int nid;	/* its curve */
	} curves[] = {
		{ PKID_KT_EC_P256, NID_X9_62_prime256v1 },
		{ PKID_KT_EC_P384, NID_secp384r1 },
		{ PKID_KT_EC_P521, NID_secp521r1 },
	};
	PKID_ATTR_OR_OID *a = NULL;
	X509_ATTRIBUTE *attr = NULL;
	size_t i;
	enum pkid_code rc = PKID_E_INTERNAL;

	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (!(kt & curves[i].bit))
			continue;
		if (attr == NULL)
			attr = X509_ATTRIBUTE_create_by_NID(NULL,
			    NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT,
			    OBJ_nid2obj(curves[i].nid), -1);
		else if (!X509_ATTRIBUTE_set1_data(attr, V_ASN1_OBJECT,
		    OBJ_nid2obj(curves[i].nid), -1))
			PKID_CHECK(0, PKID_E_CRYPTO, "adding a curve OID");
		PKID_OSSL_PTR(attr, PKID_E_CRYPTO, "making the ecPublicKey "
		    "attribute");
	}
	if (attr == NULL)
		return PKID_OK;
	PKID_OSSL_PTR(a = PKID_ATTR_OR_OID_new(), PKID_E_NOMEM, "no memory");
	a->type = 1;
	a->value.attribute = attr;	/* a owns attr now */
	attr = NULL;
	PKID_OSSL(sk_PKID_ATTR_OR_OID_push(sk, a), PKID_E_NOMEM, "no memory");
	a = NULL;
	rc = PKID_OK;
out:
	X509_ATTRIBUTE_free(attr);
	PKID_ATTR_OR_OID_free(a);
	return rc;
}

enum pkid_code
pkid_est_csrattrs_der(const struct pkid_profile *p, enum pkid_cb_mode cb,
    struct pkid_buf *out, struct pkid_err *e)
{
	PKID_CSR_ATTRS *sk = NULL;
	unsigned char *der = NULL;
	int len = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, 64 * 1024);
	PKID_OSSL_PTR(sk = sk_PKID_ATTR_OR_OID_new_null(), PKID_E_NOMEM,
	    "no memory");
	/* RFC 7030 3.5: the challengePassword OID asks for the TLS channel
	 * binding in the request. */
	if (cb == PKID_CB_REQUIRED)
		PKID_TRY(push_oid(sk, NID_pkcs9_challengePassword, e));
	PKID_TRY(push_ec(sk, p->key_types, e));
	if (p->key_types & PKID_KT_RSA)
		PKID_TRY(push_oid(sk, NID_rsaEncryption, e));
	if (p->key_types & PKID_KT_ED25519)
		PKID_TRY(push_oid(sk, NID_ED25519, e));
	if (p->key_types & (PKID_KT_EC_P256 | PKID_KT_EC_P384 |
	    PKID_KT_EC_P521))
		PKID_TRY(push_oid(sk, NID_ecdsa_with_SHA256, e));
	PKID_CHECK((len = i2d_PKID_CSR_ATTRS(sk, &der)) > 0, PKID_E_CRYPTO,
	    "encoding CsrAttrs");
	PKID_TRY(pkid_buf_append(out, der, (size_t)len, e));
	rc = PKID_OK;
out:
	OPENSSL_free(der);
	PKID_CSR_ATTRS_free(sk);
	if (rc != PKID_OK)
		pkid_buf_free(out);
	return rc;
}
