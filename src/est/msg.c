/*
 * msg.c - EST message encoding (RFC 7030, RFC 8951): request bodies in,
 * response bodies out, all through OpenSSL (base64, DER, PKCS#7, PKCS#8).
 */
#include "est/msg.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "core/limits.h"
#include "x509/csr.h"

int
pkid_est_media_is(const char *content_type, const char *want)
{
	size_t n = strlen(want), i = 0;

	if (content_type == NULL)
		return 0;
	while (content_type[i] == ' ' || content_type[i] == '\t')
		i++;
	if (strncasecmp(content_type + i, want, n) != 0)
		return 0;
	i += n;
	/* Only white space or parameters may follow the media type. */
	while (content_type[i] == ' ' || content_type[i] == '\t')
		i++;
	return content_type[i] == '\0' || content_type[i] == ';';
}

enum pkid_code
pkid_est_csr_decode(const uint8_t *body, size_t len, X509_REQ **out,
    struct pkid_err *e)
{
	struct pkid_buf der;
	const unsigned char *p;
	X509_REQ *csr = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	memset(&der, 0, sizeof(der));
	PKID_CHECK(body != NULL && len > 0, PKID_E_BASE64_BAD,
	    "the request body is empty; RFC 7030 4.2.1 wants a base64 "
	    "PKCS#10 request");
	PKID_TRY(pkid_base64_decode((const char *)body, len, &der,
	    PKID_MAX_CSR_SIZE, e));
	p = der.p;
	csr = pkid_csr_d2i(&p, (long)der.len);
	PKID_OSSL_PTR(csr, PKID_E_CSR_MALFORMED, "the base64 body (%zu "
	    "bytes of DER) is not a PKCS#10 request (RFC 2986)", der.len);
	/* STYLE 5: the whole input must be one object. */
	PKID_CHECK(p == der.p + der.len, PKID_E_TRAILING_DATA, "%zu bytes "
	    "follow the PKCS#10 request in the body",
	    (size_t)(der.p + der.len - p));
	*out = csr;
	csr = NULL;
	rc = PKID_OK;
out:
	X509_REQ_free(csr);
	pkid_buf_free(&der);
	return rc;
}

/* A degenerate SignedData: certificates, no signers, no content. */
static enum pkid_code
certs_p7_der(STACK_OF(X509) *certs, unsigned char **der, int *len,
    struct pkid_err *e)
{
	PKCS7 *p7 = NULL;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	*der = NULL;
	PKID_OSSL_PTR(p7 = PKCS7_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(PKCS7_set_type(p7, NID_pkcs7_signed), PKID_E_CRYPTO,
	    "making a PKCS#7 SignedData");
	/* eContentType id-data with the content absent (RFC 5652 5.2). */
	PKID_OSSL(PKCS7_set0_type_other(p7->d.sign->contents, NID_pkcs7_data,
	    NULL), PKID_E_CRYPTO, "setting the PKCS#7 content type");
	for (i = 0; i < sk_X509_num(certs); i++)
		PKID_OSSL(PKCS7_add_certificate(p7, sk_X509_value(certs, i)),
		    PKID_E_CRYPTO, "adding certificate %d to PKCS#7", i);
	PKID_CHECK((*len = i2d_PKCS7(p7, der)) > 0, PKID_E_CRYPTO,
	    "encoding the certs-only PKCS#7");
	rc = PKID_OK;
out:
	PKCS7_free(p7);
	return rc;
}

enum pkid_code
pkid_est_certs_b64(STACK_OF(X509) *certs, struct pkid_buf *out,
    struct pkid_err *e)
{
	unsigned char *der = NULL;
	int len = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, 0);
	PKID_TRY(certs_p7_der(certs, &der, &len, e));
	PKID_TRY(pkid_base64_encode(der, (size_t)len, 0, out, e));
	rc = PKID_OK;
out:
	OPENSSL_free(der);
	return rc;
}

enum pkid_code
pkid_est_b64_layout(const struct pkid_buf *in, int lines,
    struct pkid_buf *out, struct pkid_err *e)
{
	size_t i, n;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, in->len + in->len / 64 + 8);
	for (i = 0; i < in->len; i += n) {
		n = !lines || in->len - i < 64 ? in->len - i : 64;
		PKID_TRY(pkid_buf_append(out, in->p + i, n, e));
		if (lines)
			PKID_TRY(pkid_buf_append(out, "\n", 1, e));
	}
	PKID_TRY(pkid_buf_append(out, "", 0, e));
	rc = PKID_OK;
out:
	return rc;
}

enum pkid_code
pkid_est_resp_b64(struct pkid_http_resp *resp, const char *ct,
    const struct pkid_buf *b64, int lines, struct pkid_err *e)
{
	struct pkid_buf out;
	enum pkid_code rc;

	memset(&out, 0, sizeof(out));
	rc = pkid_est_b64_layout(b64, lines, &out, e);
	if (rc == PKID_OK)
		rc = pkid_http_resp_body(resp, ct, out.p, out.len, e);
	if (rc == PKID_OK)
		pkid_http_resp_header(resp, "Content-Transfer-Encoding",
		    "base64");
	pkid_buf_free(&out);
	return rc;
}

/* PKCS#8 PrivateKeyInfo DER of key, base64 on one line into out. */
static enum pkid_code
pkcs8_b64(EVP_PKEY *key, struct pkid_buf *out, struct pkid_err *e)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	unsigned char *der = NULL;
	int len = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, 0);
	PKID_OSSL_PTR(p8 = EVP_PKEY2PKCS8(key), PKID_E_CRYPTO,
	    "converting the generated key to PKCS#8");
	PKID_CHECK((len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) > 0,
	    PKID_E_CRYPTO, "encoding the PKCS#8 key");
	PKID_TRY(pkid_base64_encode(der, (size_t)len, 0, out, e));
	rc = PKID_OK;
out:
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)len);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return rc;
}

enum pkid_code
pkid_est_resp_serverkeygen(struct pkid_http_resp *resp, EVP_PKEY *key,
    X509 *cert, const char *boundary, int lines, struct pkid_err *e)
{
	struct pkid_buf k, c, kl, cl;
	STACK_OF(X509) *one = NULL;
	char ct[128];
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&k, 0, sizeof(k));
	memset(&c, 0, sizeof(c));
	memset(&kl, 0, sizeof(kl));
	memset(&cl, 0, sizeof(cl));
	PKID_CHECK(strlen(boundary) > 0 && strlen(boundary) <= 70,
	    PKID_E_INTERNAL, "multipart boundary of bad length");
	PKID_OSSL_PTR(one = sk_X509_new_null(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(sk_X509_push(one, cert), PKID_E_NOMEM, "no memory");
	PKID_TRY(pkcs8_b64(key, &k, e));
	PKID_TRY(pkid_est_certs_b64(one, &c, e));
	PKID_TRY(pkid_est_b64_layout(&k, lines, &kl, e));
	PKID_TRY(pkid_est_b64_layout(&c, lines, &cl, e));
	pkid_buf_free(&resp->body);
	/* RFC 7030 4.4.2: the key part first, then the certificate. */
	PKID_TRY(pkid_buf_printf(&resp->body, e, "--%s\r\n"
	    "Content-Type: application/pkcs8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
	    "--%s\r\nContent-Type: " PKID_EST_CT_CERTS "\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--%s--\r\n",
	    boundary, (const char *)kl.p, boundary, (const char *)cl.p,
	    boundary));
	snprintf(ct, sizeof(ct), "multipart/mixed; boundary=%s", boundary);
	snprintf(resp->content_type, sizeof(resp->content_type), "%s", ct);
	rc = PKID_OK;
out:
	pkid_buf_free(&k);	/* wiped: it held the private key */
	pkid_buf_free(&kl);
	pkid_buf_free(&c);
	pkid_buf_free(&cl);
	sk_X509_free(one);
	return rc;
}

int
pkid_est_basic_parse(const char *hdr, char *user, size_t ulen, char *pw,
    size_t plen)
{
	struct pkid_buf dec;
	struct pkid_err e;
	const char *colon;
	size_t n, i;
	int r = -1;

	pkid_err_clear(&e);
	memset(&dec, 0, sizeof(dec));
	if (hdr == NULL || strncasecmp(hdr, "Basic ", 6) != 0)
		return -1;
	hdr += 6;
	while (*hdr == ' ')
		hdr++;
	n = strlen(hdr);
	if (n == 0 || n > 4 * (PKID_MAX_EST_USER + PKID_MAX_EST_PASSWORD))
		return -1;
	if (pkid_base64_decode(hdr, n, &dec, PKID_MAX_EST_USER +
	    PKID_MAX_EST_PASSWORD + 1, &e) != PKID_OK)
		return -1;
	colon = memchr(dec.p, ':', dec.len);
	if (colon == NULL)
		goto out;
	n = (size_t)(colon - (const char *)dec.p);
	/* No control characters (RFC 7617 2: CTLs are not allowed). */
	for (i = 0; i < dec.len; i++)
		if (dec.p[i] < 0x20 || dec.p[i] == 0x7f)
			goto out;
	if (n == 0 || n >= ulen || n > PKID_MAX_EST_USER ||
	    dec.len - n - 1 >= plen || dec.len - n - 1 > PKID_MAX_EST_PASSWORD)
		goto out;
	memcpy(user, dec.p, n);
	user[n] = '\0';
	memcpy(pw, colon + 1, dec.len - n - 1);
	pw[dec.len - n - 1] = '\0';
	r = 0;
out:
	pkid_buf_free(&dec);	/* wiped: it held the password */
	return r;
}

enum pkid_code
pkid_est_csr_challenge(X509_REQ *csr, char *out, size_t len, int *present,
    struct pkid_err *e)
{
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	int idx, n;
	enum pkid_code rc = PKID_E_INTERNAL;

	*present = 0;
	out[0] = '\0';
	idx = X509_REQ_get_attr_by_NID(csr, NID_pkcs9_challengePassword, -1);
	if (idx < 0)
		return PKID_OK;
	a = X509_REQ_get_attr(csr, idx);
	PKID_CHECK(a != NULL && X509_ATTRIBUTE_count(a) == 1,
	    PKID_E_CSR_MALFORMED, "challengePassword must hold one value "
	    "(RFC 2985 5.4.1)");
	t = X509_ATTRIBUTE_get0_type(a, 0);
	PKID_CHECK(t != NULL && (t->type == V_ASN1_UTF8STRING ||
	    t->type == V_ASN1_PRINTABLESTRING || t->type == V_ASN1_IA5STRING),
	    PKID_E_CSR_MALFORMED, "challengePassword is not a string "
	    "(RFC 2985 5.4.1)");
	n = ASN1_STRING_length(t->value.asn1_string);
	PKID_CHECK(n >= 0 && (size_t)n < len, PKID_E_CSR_MALFORMED,
	    "challengePassword of %d bytes is too long", n);
	memcpy(out, ASN1_STRING_get0_data(t->value.asn1_string), (size_t)n);
	out[n] = '\0';
	PKID_CHECK(strlen(out) == (size_t)n, PKID_E_CSR_MALFORMED,
	    "challengePassword holds a NUL byte");
	*present = 1;
	rc = PKID_OK;
out:
	return rc;
}
