/*
 * request.c - OCSP requests from the network (RFC 6960 4.1.1, A.1),
 * bounded and parsed with OpenSSL's d2i_OCSP_REQUEST.
 */
#include "ocsp/ocsp.h"

#include <string.h>

#include <openssl/x509v3.h>

#include "core/limits.h"

/* RFC 8954 2.1: Nonce ::= OCTET STRING (SIZE(1..32)), the extension's
 * value being its DER. */
static enum pkid_code
check_nonce(OCSP_REQUEST *req, struct pkid_err *e)
{
	X509_EXTENSION *ext;
	ASN1_OCTET_STRING *n = NULL;
	const unsigned char *p;
	const ASN1_OCTET_STRING *v;
	int i, len;

	if ((i = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce,
	    -1)) < 0)
		return PKID_OK;
	if (OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, i) >= 0)
		return PKID_ERR(e, PKID_E_OCSP_MALFORMED, "OCSP request: two "
		    "nonce extensions (RFC 5280 4.2: each at most once)");
	ext = OCSP_REQUEST_get_ext(req, i);
	v = X509_EXTENSION_get_data(ext);
	p = ASN1_STRING_get0_data(v);
	n = d2i_ASN1_OCTET_STRING(NULL, &p, ASN1_STRING_length(v));
	if (n == NULL || p != ASN1_STRING_get0_data(v) +
	    ASN1_STRING_length(v)) {
		ASN1_OCTET_STRING_free(n);
		return PKID_ERR(e, PKID_E_OCSP_MALFORMED, "OCSP request: the "
		    "nonce is not a DER OCTET STRING (RFC 8954 2.1)");
	}
	len = ASN1_STRING_length(n);
	ASN1_OCTET_STRING_free(n);
	if (len < 1 || len > PKID_OCSP_MAX_NONCE)
		return PKID_ERR(e, PKID_E_OCSP_MALFORMED, "OCSP request: a "
		    "nonce of %d octets, want 1 to %d (RFC 8954 2.1)", len,
		    PKID_OCSP_MAX_NONCE);
	return PKID_OK;
}

enum pkid_code
pkid_ocsp_request_parse(const uint8_t *der, size_t len, OCSP_REQUEST **out,
    struct pkid_err *e)
{
	OCSP_REQUEST *req = NULL;
	const unsigned char *p = der;
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	PKID_CHECK(len > 0, PKID_E_OCSP_MALFORMED, "OCSP request: empty "
	    "(RFC 6960 A.1: a DER OCSPRequest)");
	PKID_CHECK(len <= PKID_OCSP_MAX_REQUEST, PKID_E_OCSP_MALFORMED,
	    "OCSP request: %zu bytes, at most %d taken", len,
	    PKID_OCSP_MAX_REQUEST);
	req = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	PKID_CHECK(req != NULL, PKID_E_OCSP_MALFORMED, "OCSP request: %zu "
	    "bytes that are not a DER OCSPRequest (RFC 6960 4.1.1)", len);
	PKID_CHECK(p == der + len, PKID_E_OCSP_MALFORMED, "OCSP request: "
	    "%zu bytes after the OCSPRequest", (size_t)(der + len - p));
	n = OCSP_request_onereq_count(req);
	PKID_CHECK(n >= 1 && n <= PKID_OCSP_MAX_IDS, PKID_E_OCSP_MALFORMED,
	    "OCSP request: %d certificates asked for, want 1 to %d", n,
	    PKID_OCSP_MAX_IDS);
	PKID_TRY(check_nonce(req, e));
	*out = req;
	req = NULL;
	rc = PKID_OK;
out:
	OCSP_REQUEST_free(req);
	return rc;
}

enum pkid_code
pkid_ocsp_request_from_path(const char *b64, OCSP_REQUEST **out,
    struct pkid_err *e)
{
	struct pkid_buf der;
	size_t n = strlen(b64);
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	pkid_buf_init(&der, PKID_OCSP_MAX_REQUEST);
	PKID_CHECK(n > 0, PKID_E_OCSP_MALFORMED, "OCSP GET without a "
	    "request: /ocsp/BASE64 (RFC 6960 A.1)");
	PKID_CHECK(n <= PKID_OCSP_MAX_GET_B64, PKID_E_OCSP_MALFORMED,
	    "OCSP GET: %zu characters of base64, at most %d taken", n,
	    PKID_OCSP_MAX_GET_B64);
	/* Standard alphabet only: a space is a '+' a proxy rewrote. */
	PKID_CHECK(strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789+/=") == n, PKID_E_OCSP_MALFORMED,
	    "OCSP GET: the path holds a character outside base64 (RFC 6960 "
	    "A.1; '+' must reach the server as '+' or %%2B)");
	if (pkid_base64_decode(b64, n, &der, PKID_OCSP_MAX_REQUEST, e) !=
	    PKID_OK) {
		pkid_err_clear(e);
		PKID_ERR(e, PKID_E_OCSP_MALFORMED, "OCSP GET: the path is "
		    "not base64 (RFC 6960 A.1)");
		rc = PKID_E_OCSP_MALFORMED;
		goto out;
	}
	rc = pkid_ocsp_request_parse(der.p, der.len, out, e);
out:
	pkid_buf_free(&der);
	return rc;
}
