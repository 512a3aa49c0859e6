/*
 * client_msg.c - what the EST client puts on and takes off the wire:
 * the PKCS#10 request (with the channel binding as challengePassword,
 * RFC 7030 3.5), certs-only responses and CsrAttrs (RFC 7030 4.5.2).
 * Bytes in, objects out; no network.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "core/limits.h"
#include "est/client.h"
#include "est/csrattrs.h"
#include "x509/load.h"

enum pkid_code
pkid_est_certs_parse(const uint8_t *body, size_t len, STACK_OF(X509) **out,
    struct pkid_err *e)
{
	struct pkid_buf der;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&der, 0, sizeof(der));
	PKID_TRY(pkid_base64_decode((const char *)body, len, &der,
	    PKID_EST_CLIENT_MAX_RESPONSE, e));
	PKID_CHECK(der.len > 0, PKID_E_BASE64_BAD, "the response body is "
	    "empty");
	PKID_TRY(pkid_x509_load_certs(der.p, der.len, out, e));
	rc = PKID_OK;
out:
	pkid_buf_free(&der);
	return rc;
}

static int
entry_is_cb(const PKID_ATTR_OR_OID *a)
{
	const ASN1_OBJECT *o = a->type == 0 ? a->value.oid :
	    X509_ATTRIBUTE_get0_object(a->value.attribute);

	return o != NULL && OBJ_obj2nid(o) == NID_pkcs9_challengePassword;
}

int
pkid_est_csrattrs_wants_cb(const uint8_t *body, size_t len)
{
	struct pkid_buf der;
	struct pkid_err e;
	PKID_CSR_ATTRS *attrs = NULL;
	const unsigned char *p;
	int i, want = -1;

	memset(&der, 0, sizeof(der));
	pkid_err_clear(&e);
	if (len == 0)
		return 0;	/* RFC 7030 4.5.2: nothing asked */
	if (pkid_base64_decode((const char *)body, len, &der,
	    PKID_MAX_CSR_SIZE, &e) != PKID_OK)
		goto out;
	p = der.p;
	attrs = d2i_PKID_CSR_ATTRS(NULL, &p, (long)der.len);
	if (attrs == NULL || p != der.p + der.len)
		goto out;
	want = 0;
	for (i = 0; i < sk_PKID_ATTR_OR_OID_num(attrs); i++)
		want |= entry_is_cb(sk_PKID_ATTR_OR_OID_value(attrs, i));
out:
	PKID_CSR_ATTRS_free(attrs);
	pkid_buf_free(&der);
	ERR_clear_error();
	return want;
}

static enum pkid_code
add_sans(X509_REQ *r, GENERAL_NAMES *sans, struct pkid_err *e)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(exts = sk_X509_EXTENSION_new_null(), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL_PTR(ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, sans),
	    PKID_E_CRYPTO, "encoding subjectAltName");
	PKID_OSSL(sk_X509_EXTENSION_push(exts, ext), PKID_E_NOMEM,
	    "no memory");
	ext = NULL;
	PKID_OSSL(X509_REQ_add_extensions(r, exts), PKID_E_CRYPTO,
	    "adding the extension request");
	rc = PKID_OK;
out:
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

enum pkid_code
pkid_est_csr_build(EVP_PKEY *key, const struct pkid_est_csr_spec *spec,
    const uint8_t *cb, size_t cblen, X509_REQ **out, struct pkid_err *e)
{
	X509_REQ *r = NULL;
	struct pkid_buf b64;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	memset(&b64, 0, sizeof(b64));
	PKID_OSSL_PTR(r = X509_REQ_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_REQ_set_version(r, X509_REQ_VERSION_1), PKID_E_CRYPTO,
	    "setting the version");
	if (spec->subject != NULL)
		PKID_OSSL(X509_REQ_set_subject_name(r, spec->subject),
		    PKID_E_CRYPTO, "setting the subject");
	PKID_OSSL(X509_REQ_set_pubkey(r, key), PKID_E_CRYPTO,
	    "setting the public key");
	if (spec->sans != NULL && sk_GENERAL_NAME_num(spec->sans) > 0)
		PKID_TRY(add_sans(r, spec->sans, e));
	if (cb != NULL) {
		/* RFC 7030 3.5: the binding, base64, as challengePassword. */
		PKID_TRY(pkid_base64_encode(cb, cblen, 0, &b64, e));
		PKID_OSSL(X509_REQ_add1_attr_by_NID(r,
		    NID_pkcs9_challengePassword, MBSTRING_UTF8, b64.p,
		    (int)b64.len), PKID_E_CRYPTO, "adding challengePassword");
	}
	PKID_OSSL(X509_REQ_sign(r, key, EVP_PKEY_get_id(key) ==
	    EVP_PKEY_ED25519 ? NULL : EVP_sha256()), PKID_E_CRYPTO,
	    "signing the request");
	*out = r;
	r = NULL;
	rc = PKID_OK;
out:
	X509_REQ_free(r);
	pkid_buf_free(&b64);
	return rc;
}
