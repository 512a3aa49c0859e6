/*
 * msg.c - parse and verify SCEP pkiMessages, open their envelopes
 * (RFC 8894 3.1, 3.2), over OpenSSL's PKCS7 API.
 */
#include "scep/msg.h"

#include <string.h>
#include <time.h>

#include <openssl/asn1t.h>
#include <openssl/pkcs7.h>

#include "core/clock.h"
#include "scep/oid.h"

void
pkid_scep_msg_init(struct pkid_scep_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->status = -1;
	m->fail_info = -1;
	m->fail = PKID_SCEP_BADREQUEST;
	pkid_buf_init(&m->content, PKID_MAX_SCEP_MESSAGE);
}

void
pkid_scep_msg_free(struct pkid_scep_msg *m)
{
	if (m == NULL)
		return;
	X509_free(m->signer);
	m->signer = NULL;
	pkid_buf_free(&m->content);
}

/* A string-valued signed attribute as text; 0 when absent or bad. */
static int
attr_text(PKCS7_SIGNER_INFO *si, enum pkid_scep_attr a, char *out,
    size_t len)
{
	ASN1_TYPE *t = PKCS7_get_signed_attribute(si, pkid_scep_nid(a));
	int n;

	out[0] = '\0';
	if (t == NULL || (t->type != V_ASN1_PRINTABLESTRING &&
	    t->type != V_ASN1_UTF8STRING && t->type != V_ASN1_IA5STRING))
		return 0;
	n = ASN1_STRING_length(t->value.asn1_string);
	if (n <= 0 || (size_t)n >= len)
		return 0;
	memcpy(out, ASN1_STRING_get0_data(t->value.asn1_string), (size_t)n);
	out[n] = '\0';
	/* No NUL inside: it would cut the text short. */
	return strlen(out) == (size_t)n;
}

static int
attr_int(PKCS7_SIGNER_INFO *si, enum pkid_scep_attr a, int *out)
{
	char buf[8];
	int64_t v;

	if (!attr_text(si, a, buf, sizeof(buf)) ||
	    pkid_parse_int(buf, 0, 999, &v, NULL) != PKID_OK)
		return 0;
	*out = (int)v;
	return 1;
}

static size_t
attr_nonce(PKCS7_SIGNER_INFO *si, enum pkid_scep_attr a, uint8_t *out)
{
	ASN1_TYPE *t = PKCS7_get_signed_attribute(si, pkid_scep_nid(a));
	int n;

	if (t == NULL || t->type != V_ASN1_OCTET_STRING)
		return 0;
	n = ASN1_STRING_length(t->value.octet_string);
	if (n <= 0 || n > PKID_SCEP_MAX_NONCE)
		return 0;
	memcpy(out, ASN1_STRING_get0_data(t->value.octet_string), (size_t)n);
	return (size_t)n;
}

static int64_t
attr_time(PKCS7_SIGNER_INFO *si)
{
	ASN1_TYPE *t = PKCS7_get_signed_attribute(si, NID_pkcs9_signingTime);
	struct tm tm;

	if (t == NULL || (t->type != V_ASN1_UTCTIME &&
	    t->type != V_ASN1_GENERALIZEDTIME) ||
	    ASN1_TIME_to_tm(t->value.utctime, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

/* Read the SCEP attributes of the one signer; sets can_reply. */
static enum pkid_code
read_attrs(PKCS7 *p7, PKCS7_SIGNER_INFO *si, struct pkid_scep_msg *m,
    struct pkid_err *e)
{
	X509 *x = PKCS7_cert_from_signer_info(p7, si);
	char tid[PKID_SCEP_MAX_TID + 2];
	size_t i;

	if (x != NULL && X509_up_ref(x))
		m->signer = x;
	if (attr_text(si, PKID_SCEP_A_TRANSACTION_ID, tid, sizeof(tid)) &&
	    strlen(tid) <= PKID_SCEP_MAX_TID) {
		for (i = 0; tid[i] != '\0'; i++)
			if (tid[i] < 0x20 || tid[i] > 0x7e)
				break;
		if (tid[i] == '\0')
			memcpy(m->tid, tid, strlen(tid) + 1);
	}
	m->snonce_len = attr_nonce(si, PKID_SCEP_A_SENDER_NONCE, m->snonce);
	m->rnonce_len = attr_nonce(si, PKID_SCEP_A_RECIPIENT_NONCE,
	    m->rnonce);
	(void)attr_int(si, PKID_SCEP_A_PKI_STATUS, &m->status);
	(void)attr_int(si, PKID_SCEP_A_FAIL_INFO, &m->fail_info);
	m->signing_time = attr_time(si);
	m->md_nid = OBJ_obj2nid(si->digest_alg->algorithm);
	m->can_reply = m->signer != NULL && m->tid[0] != '\0' &&
	    m->snonce_len > 0;
	if (m->signer == NULL)
		return PKID_ERR(e, PKID_E_SCEP_MALFORMED, "RFC 8894 3.2: the "
		    "pkiMessage does not carry its signer's certificate");
	if (m->tid[0] == '\0' || m->snonce_len == 0)
		return PKID_ERR(e, PKID_E_SCEP_MALFORMED, "RFC 8894 3.2.1: "
		    "transactionID (printable, at most %d characters) or "
		    "senderNonce (1..%d bytes) missing or malformed",
		    PKID_SCEP_MAX_TID, PKID_SCEP_MAX_NONCE);
	if (!attr_int(si, PKID_SCEP_A_MESSAGE_TYPE, &m->type)) {
		m->type = 0;
		return PKID_ERR(e, PKID_E_SCEP_UNKNOWN_TYPE, "RFC 8894 "
		    "3.2.1.2: messageType missing or not a number");
	}
	return PKID_OK;
}

static enum pkid_code
check_md(struct pkid_scep_msg *m, int compat, struct pkid_err *e)
{
	if (m->md_nid == NID_sha256 || m->md_nid == NID_sha384 ||
	    m->md_nid == NID_sha512 || (compat && m->md_nid == NID_sha1))
		return PKID_OK;
	m->fail = PKID_SCEP_BADALG;
	return PKID_ERR(e, PKID_E_SCEP_BAD_ALG, "digest %s is not accepted "
	    "(SHA-256/384/512%s)", OBJ_nid2sn(m->md_nid), compat ?
	    ", SHA-1" : "; SHA-1 only with [scep] compat = on");
}

/* Verify the signature; the signed content goes to m->content. */
static enum pkid_code
verify_sig(PKCS7 *p7, struct pkid_scep_msg *m, struct pkid_err *e)
{
	BIO *out = BIO_new(BIO_s_mem()), *in = NULL;
	char *data;
	long n;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(out, PKID_E_NOMEM, "no memory");
	/* FAILURE and PENDING CertReps may carry no content at all. */
	if (PKCS7_get_detached(p7))
		PKID_OSSL_PTR(in = BIO_new_mem_buf("", 0), PKID_E_NOMEM,
		    "no memory");
	m->fail = PKID_SCEP_BADMESSAGECHECK;
	PKID_OSSL(PKCS7_verify(p7, NULL, NULL, in, out, PKCS7_NOVERIFY |
	    PKCS7_BINARY | PKCS7_NOCHAIN), PKID_E_SCEP_BAD_SIGNATURE,
	    "RFC 8894 3.2: the signature does not verify with the signer's "
	    "certificate");
	n = BIO_get_mem_data(out, &data);
	PKID_TRY(pkid_buf_append(&m->content, data, (size_t)n, e));
	rc = PKID_OK;
out:
	BIO_free(in);
	BIO_free(out);
	return rc;
}

enum pkid_code
pkid_scep_msg_parse(const uint8_t *p, size_t len, int compat,
    struct pkid_scep_msg *m, struct pkid_err *e)
{
	const unsigned char *q = p;
	PKCS7 *p7 = NULL;
	STACK_OF(PKCS7_SIGNER_INFO) *sis;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_scep_msg_free(m);
	pkid_scep_msg_init(m);
	PKID_CHECK(len > 0 && len <= PKID_MAX_SCEP_MESSAGE,
	    PKID_E_SCEP_MALFORMED, "pkiMessage of %zu bytes (1..%d)", len,
	    PKID_MAX_SCEP_MESSAGE);
	p7 = d2i_PKCS7(NULL, &q, (long)len);
	PKID_CHECK(p7 != NULL, PKID_E_SCEP_MALFORMED, "RFC 8894 3.2: the "
	    "pkiMessage is not DER PKCS#7");
	PKID_CHECK(q == p + len, PKID_E_TRAILING_DATA, "%zu bytes after the "
	    "pkiMessage", (size_t)(p + len - q));
	PKID_CHECK(PKCS7_type_is_signed(p7) && p7->d.sign != NULL,
	    PKID_E_SCEP_MALFORMED, "RFC 8894 3.2: the pkiMessage is not "
	    "SignedData");
	sis = PKCS7_get_signer_info(p7);
	PKID_CHECK(sis != NULL && sk_PKCS7_SIGNER_INFO_num(sis) == 1,
	    PKID_E_SCEP_MALFORMED, "RFC 8894 3.2: want one signerInfo, "
	    "have %d", sis != NULL ? sk_PKCS7_SIGNER_INFO_num(sis) : 0);
	PKID_TRY(read_attrs(p7, sk_PKCS7_SIGNER_INFO_value(sis, 0), m, e));
	PKID_TRY(check_md(m, compat, e));
	PKID_TRY(verify_sig(p7, m, e));
	m->fail = PKID_SCEP_FAIL_NONE;
	rc = PKID_OK;
out:
	PKCS7_free(p7);
	return rc;
}

/* compat 2 (the client's, for replies of old servers such as
 * micromdm/scep) also takes single DES. */
static int
cipher_ok(int nid, int compat)
{
	return nid == NID_aes_128_cbc || nid == NID_aes_192_cbc ||
	    nid == NID_aes_256_cbc || (compat && nid == NID_des_ede3_cbc) ||
	    (compat >= 2 && nid == NID_des_cbc);
}

/* Is one recipientInfo for cert (issuer and serial)? */
static int
is_for(PKCS7 *p7, X509 *cert)
{
	STACK_OF(PKCS7_RECIP_INFO) *ris = p7->d.enveloped->recipientinfo;
	PKCS7_RECIP_INFO *ri;
	int i;

	for (i = 0; i < sk_PKCS7_RECIP_INFO_num(ris); i++) {
		ri = sk_PKCS7_RECIP_INFO_value(ris, i);
		if (X509_NAME_cmp(ri->issuer_and_serial->issuer,
		    X509_get_issuer_name(cert)) == 0 &&
		    ASN1_INTEGER_cmp(ri->issuer_and_serial->serial,
		    X509_get0_serialNumber(cert)) == 0)
			return 1;
	}
	return 0;
}

enum pkid_code
pkid_scep_envelope_open(const uint8_t *p, size_t len, X509 *cert,
    EVP_PKEY *key, int compat, struct pkid_buf *out, int *cipher_nid,
    enum pkid_scep_fail *fail, struct pkid_err *e)
{
	const unsigned char *q = p;
	PKCS7 *p7 = NULL;
	BIO *bio = NULL;
	char *data;
	long n;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, PKID_MAX_SCEP_MESSAGE);
	*cipher_nid = NID_undef;
	*fail = PKID_SCEP_BADMESSAGECHECK;
	p7 = len > 0 ? d2i_PKCS7(NULL, &q, (long)len) : NULL;
	PKID_CHECK(p7 != NULL && q == p + len && PKCS7_type_is_enveloped(p7)
	    && p7->d.enveloped != NULL, PKID_E_SCEP_MALFORMED, "RFC 8894 "
	    "3.2.2: the pkcsPKIEnvelope is not one DER EnvelopedData");
	*cipher_nid = OBJ_obj2nid(p7->d.enveloped->enc_data->algorithm->
	    algorithm);
	if (!cipher_ok(*cipher_nid, compat)) {
		*fail = PKID_SCEP_BADALG;
		PKID_CHECK(0, PKID_E_SCEP_BAD_ALG, "content encryption %s is "
		    "not accepted (AES-128/192/256-CBC%s)",
		    *cipher_nid != NID_undef ? OBJ_nid2sn(*cipher_nid) :
		    "(unknown)", compat ? ", DES3" :
		    "; DES3 only with [scep] compat = on");
	}
	PKID_CHECK(is_for(p7, cert), PKID_E_SCEP_WRONG_RECIPIENT, "RFC 8894 "
	    "3.2.2: the envelope has no recipientInfo for this server's "
	    "certificate (serial and issuer)");
	PKID_OSSL_PTR(bio = BIO_new(BIO_s_mem()), PKID_E_NOMEM, "no memory");
	PKID_OSSL(PKCS7_decrypt(p7, key, cert, bio, 0), PKID_E_SCEP_MALFORMED,
	    "the pkcsPKIEnvelope does not decrypt with this server's key");
	n = BIO_get_mem_data(bio, &data);
	PKID_TRY(pkid_buf_append(out, data, (size_t)n, e));
	*fail = PKID_SCEP_FAIL_NONE;
	rc = PKID_OK;
out:
	if (rc != PKID_OK)
		pkid_buf_free(out);
	BIO_free(bio);
	PKCS7_free(p7);
	return rc;
}
