/*
 * build.c - build SCEP pkiMessages and degenerate SignedData (RFC 8894
 * 3.2, 3.4), and the small ASN.1 bodies of CertPoll/GetCert/GetCRL.
 */
#include "scep/msg.h"

#include <stdio.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/pkcs7.h>

#include "scep/oid.h"

/*
 * IssuerAndSubject ::= SEQUENCE { issuer Name, subject Name }
 * (RFC 8894 3.3.3). ASN.1 templates need the typedef'd name.
 */
typedef struct pkid_scep_ias_st {
	X509_NAME *issuer;	/* the CA's name */
	X509_NAME *subject;	/* the requested subject */
} PKID_SCEP_IASUBJ;

DECLARE_ASN1_FUNCTIONS(PKID_SCEP_IASUBJ)

ASN1_SEQUENCE(PKID_SCEP_IASUBJ) = {
	ASN1_SIMPLE(PKID_SCEP_IASUBJ, issuer, X509_NAME),
	ASN1_SIMPLE(PKID_SCEP_IASUBJ, subject, X509_NAME),
} ASN1_SEQUENCE_END(PKID_SCEP_IASUBJ)

IMPLEMENT_ASN1_FUNCTIONS(PKID_SCEP_IASUBJ)

/* DER of a PKCS7 into out (initialised here). */
static enum pkid_code
p7_der(PKCS7 *p7, struct pkid_buf *out, struct pkid_err *e)
{
	unsigned char *der = NULL;
	int n = i2d_PKCS7(p7, &der);
	enum pkid_code rc;

	pkid_buf_init(out, PKID_MAX_FILE_SIZE);
	if (n <= 0)
		return PKID_ERR(e, PKID_E_CRYPTO, "encoding PKCS#7");
	rc = pkid_buf_append(out, der, (size_t)n, e);
	OPENSSL_free(der);
	return rc;
}

enum pkid_code
pkid_scep_certs_only(STACK_OF(X509) *certs, X509_CRL *crl,
    struct pkid_buf *out, struct pkid_err *e)
{
	PKCS7 *p7 = PKCS7_new();
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, 1);
	PKID_OSSL_PTR(p7, PKID_E_NOMEM, "no memory");
	PKID_OSSL(PKCS7_set_type(p7, NID_pkcs7_signed), PKID_E_NOMEM,
	    "no memory");
	/* Degenerate: data content type, no content, no signers. */
	p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
	for (i = 0; i < sk_X509_num(certs); i++)
		PKID_OSSL(PKCS7_add_certificate(p7, sk_X509_value(certs, i)),
		    PKID_E_NOMEM, "no memory");
	if (crl != NULL)
		PKID_OSSL(PKCS7_add_crl(p7, crl), PKID_E_NOMEM, "no memory");
	rc = p7_der(p7, out, e);
out:
	PKCS7_free(p7);
	return rc;
}

static enum pkid_code
add_text(PKCS7_SIGNER_INFO *si, enum pkid_scep_attr a, const char *text,
    struct pkid_err *e)
{
	ASN1_PRINTABLESTRING *s = ASN1_PRINTABLESTRING_new();

	if (s == NULL || !ASN1_STRING_set(s, text, (int)strlen(text)) ||
	    !PKCS7_add_signed_attribute(si, pkid_scep_nid(a),
	    V_ASN1_PRINTABLESTRING, s)) {
		ASN1_STRING_free(s);
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	return PKID_OK;
}

static enum pkid_code
add_octets(PKCS7_SIGNER_INFO *si, enum pkid_scep_attr a, const uint8_t *p,
    size_t n, struct pkid_err *e)
{
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();

	if (s == NULL || !ASN1_OCTET_STRING_set(s, p, (int)n) ||
	    !PKCS7_add_signed_attribute(si, pkid_scep_nid(a),
	    V_ASN1_OCTET_STRING, s)) {
		ASN1_OCTET_STRING_free(s);
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	return PKID_OK;
}

static enum pkid_code
add_attrs(PKCS7_SIGNER_INFO *si, const struct pkid_scep_out *o,
    struct pkid_err *e)
{
	char num[16];
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL(PKCS7_add_attrib_content_type(si, NULL), PKID_E_NOMEM,
	    "no memory");
	snprintf(num, sizeof(num), "%d", o->type);
	PKID_TRY(add_text(si, PKID_SCEP_A_MESSAGE_TYPE, num, e));
	PKID_TRY(add_text(si, PKID_SCEP_A_TRANSACTION_ID, o->tid, e));
	PKID_TRY(add_octets(si, PKID_SCEP_A_SENDER_NONCE, o->snonce,
	    o->snonce_len, e));
	if (o->rnonce != NULL)
		PKID_TRY(add_octets(si, PKID_SCEP_A_RECIPIENT_NONCE, o->rnonce,
		    o->rnonce_len, e));
	if (o->status >= 0) {
		snprintf(num, sizeof(num), "%d", o->status);
		PKID_TRY(add_text(si, PKID_SCEP_A_PKI_STATUS, num, e));
	}
	if (o->fail_info >= 0) {
		snprintf(num, sizeof(num), "%d", o->fail_info);
		PKID_TRY(add_text(si, PKID_SCEP_A_FAIL_INFO, num, e));
	}
	rc = PKID_OK;
out:
	return rc;
}

/* Encrypt inner to the recipient: the pkcsPKIEnvelope (RFC 8894 3.2.2). */
static enum pkid_code
envelope(const struct pkid_scep_out *o, struct pkid_buf *out,
    struct pkid_err *e)
{
	STACK_OF(X509) *rcpt = sk_X509_new_null();
	BIO *in = NULL;
	PKCS7 *p7 = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, 1);
	PKID_OSSL_PTR(rcpt, PKID_E_NOMEM, "no memory");
	PKID_OSSL(sk_X509_push(rcpt, o->recipient), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL_PTR(in = BIO_new_mem_buf(o->inner, (int)o->inner_len),
	    PKID_E_NOMEM, "no memory");
	PKID_OSSL_PTR(p7 = PKCS7_encrypt(rcpt, in, o->cipher, PKCS7_BINARY),
	    PKID_E_CRYPTO, "encrypting to the recipient (it needs an RSA "
	    "key for PKCS#7 key transport)");
	rc = p7_der(p7, out, e);
out:
	PKCS7_free(p7);
	BIO_free(in);
	sk_X509_free(rcpt);
	return rc;
}

enum pkid_code
pkid_scep_msg_build(const struct pkid_scep_out *o, struct pkid_buf *out,
    struct pkid_err *e)
{
	struct pkid_buf env;
	PKCS7 *p7 = PKCS7_new();
	PKCS7_SIGNER_INFO *si;
	BIO *bio = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, 1);
	pkid_buf_init(&env, 1);
	PKID_OSSL_PTR(p7, PKID_E_NOMEM, "no memory");
	if (o->inner != NULL)
		PKID_TRY(envelope(o, &env, e));
	PKID_OSSL(PKCS7_set_type(p7, NID_pkcs7_signed), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL_PTR(si = PKCS7_add_signature(p7, o->signer, o->key, o->md),
	    PKID_E_CRYPTO, "signer key and digest do not go together");
	PKID_OSSL(PKCS7_add_certificate(p7, o->signer), PKID_E_NOMEM,
	    "no memory");
	PKID_TRY(add_attrs(si, o, e));
	PKID_OSSL(PKCS7_content_new(p7, NID_pkcs7_data), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL_PTR(bio = PKCS7_dataInit(p7, NULL), PKID_E_CRYPTO,
	    "PKCS7_dataInit");
	if (env.len > 0)
		PKID_OSSL(BIO_write(bio, env.p, (int)env.len) == (int)env.len,
		    PKID_E_CRYPTO, "BIO_write");
	(void)BIO_flush(bio);
	PKID_OSSL(PKCS7_dataFinal(p7, bio), PKID_E_CRYPTO, "signing the "
	    "pkiMessage");
	rc = p7_der(p7, out, e);
out:
	BIO_free_all(bio);
	PKCS7_free(p7);
	pkid_buf_free(&env);
	return rc;
}

enum pkid_code
pkid_scep_ias_parse(const uint8_t *p, size_t len, X509_NAME **issuer,
    ASN1_INTEGER **serial, struct pkid_err *e)
{
	const unsigned char *q = p;
	PKCS7_ISSUER_AND_SERIAL *ias = d2i_PKCS7_ISSUER_AND_SERIAL(NULL, &q,
	    (long)len);
	enum pkid_code rc = PKID_E_INTERNAL;

	*issuer = NULL;
	*serial = NULL;
	PKID_CHECK(ias != NULL && q == p + len, PKID_E_SCEP_MALFORMED,
	    "RFC 8894 3.3.4: want one DER IssuerAndSerialNumber");
	PKID_OSSL_PTR(*issuer = X509_NAME_dup(ias->issuer), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL_PTR(*serial = ASN1_INTEGER_dup(ias->serial), PKID_E_NOMEM,
	    "no memory");
	rc = PKID_OK;
out:
	if (rc != PKID_OK) {
		X509_NAME_free(*issuer);
		ASN1_INTEGER_free(*serial);
		*issuer = NULL;
		*serial = NULL;
	}
	PKCS7_ISSUER_AND_SERIAL_free(ias);
	return rc;
}

enum pkid_code
pkid_scep_iasubj_parse(const uint8_t *p, size_t len, X509_NAME **issuer,
    X509_NAME **subject, struct pkid_err *e)
{
	const unsigned char *q = p;
	PKID_SCEP_IASUBJ *v = d2i_PKID_SCEP_IASUBJ(NULL, &q, (long)len);
	enum pkid_code rc = PKID_E_INTERNAL;

	*issuer = NULL;
	*subject = NULL;
	PKID_CHECK(v != NULL && q == p + len, PKID_E_SCEP_MALFORMED,
	    "RFC 8894 3.3.3: want one DER IssuerAndSubject");
	PKID_OSSL_PTR(*issuer = X509_NAME_dup(v->issuer), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL_PTR(*subject = X509_NAME_dup(v->subject), PKID_E_NOMEM,
	    "no memory");
	rc = PKID_OK;
out:
	if (rc != PKID_OK) {
		X509_NAME_free(*issuer);
		X509_NAME_free(*subject);
		*issuer = NULL;
		*subject = NULL;
	}
	PKID_SCEP_IASUBJ_free(v);
	return rc;
}

enum pkid_code
pkid_scep_iasubj_encode(const X509_NAME *issuer, const X509_NAME *subject,
    struct pkid_buf *out, struct pkid_err *e)
{
	PKID_SCEP_IASUBJ *v = PKID_SCEP_IASUBJ_new();
	unsigned char *der = NULL;
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, PKID_MAX_SCEP_MESSAGE);
	PKID_OSSL_PTR(v, PKID_E_NOMEM, "no memory");
	X509_NAME_free(v->issuer);
	X509_NAME_free(v->subject);
	v->issuer = X509_NAME_dup(issuer);
	v->subject = X509_NAME_dup(subject);
	PKID_CHECK(v->issuer != NULL && v->subject != NULL, PKID_E_NOMEM,
	    "no memory");
	PKID_CHECK((n = i2d_PKID_SCEP_IASUBJ(v, &der)) > 0, PKID_E_CRYPTO,
	    "encoding IssuerAndSubject");
	rc = pkid_buf_append(out, der, (size_t)n, e);
out:
	OPENSSL_free(der);
	PKID_SCEP_IASUBJ_free(v);
	return rc;
}

const char *
pkid_scep_type_name(int type)
{
	switch (type) {
	case PKID_SCEP_CERTREP: return "CertRep";
	case PKID_SCEP_RENEWALREQ: return "RenewalReq";
	case PKID_SCEP_PKCSREQ: return "PKCSReq";
	case PKID_SCEP_CERTPOLL: return "CertPoll";
	case PKID_SCEP_GETCERT: return "GetCert";
	case PKID_SCEP_GETCRL: return "GetCRL";
	default: return "unknown";
	}
}

const char *
pkid_scep_fail_name(int fail)
{
	static const char *const names[] = { "badAlg", "badMessageCheck",
	    "badRequest", "badTime", "badCertId" };

	if (fail < 0 || fail > PKID_SCEP_BADCERTID)
		return "none";
	return names[fail];
}
