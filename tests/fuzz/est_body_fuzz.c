/*
 * est_body_fuzz.c - libFuzzer target: the EST request body path (RFC 7030
 * 4.2.1, RFC 8951 3): base64 with or without line breaks, PKCS#10 DER,
 * the self-signature, the challengePassword read for channel binding,
 * and the HTTP Basic header parser on the same bytes.
 * Deterministic: no clock, no randomness, no store.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "core/limits.h"
#include "est/msg.h"
#include "x509/csr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The Authorization header as evhttp hands it over: NUL-terminated. */
static void
basic(const uint8_t *data, size_t size)
{
	char hdr[1024], u[PKID_MAX_EST_USER + 1], p[PKID_MAX_EST_PASSWORD + 1];

	if (size >= sizeof(hdr))
		size = sizeof(hdr) - 1;
	memcpy(hdr, data, size);
	hdr[size] = '\0';
	(void)pkid_est_basic_parse(hdr, u, sizeof(u), p, sizeof(p));
	(void)pkid_est_media_is(hdr, PKID_EST_CT_PKCS10);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkid_err e;
	X509_REQ *req = NULL;
	EVP_PKEY *pk = NULL;
	char pw[256];
	int present;

	pkid_err_clear(&e);
	if (pkid_est_csr_decode(data, size, &req, &e) == PKID_OK) {
		if (pkid_csr_key(req, &pk, &e) == PKID_OK)
			(void)X509_REQ_verify(req, pk);
		EVP_PKEY_free(pk);
		pk = NULL;
		pkid_err_clear(&e);
		(void)pkid_est_csr_challenge(req, pw, sizeof(pw), &present,
		    &e);
		X509_REQ_free(req);
	}
	basic(data, size);
	ERR_clear_error();
	return 0;
}
