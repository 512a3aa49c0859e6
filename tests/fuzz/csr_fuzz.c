/*
 * csr_fuzz.c - libFuzzer target: a CSR from outside, as EST simpleenroll
 * and SCEP PKCSReq receive it: pkid_x509_load_csr, then the
 * self-signature check (RFC 2986 4.2) every enrollment does.
 * Deterministic: no clock, no randomness.
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "x509/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkid_err e;
	X509_REQ *req = NULL;
	EVP_PKEY *pk = NULL;

	pkid_err_clear(&e);
	if (pkid_x509_load_csr(data, size, &req, &e) == PKID_OK) {
		if (pkid_csr_key(req, &pk, &e) == PKID_OK)
			(void)X509_REQ_verify(req, pk);
		EVP_PKEY_free(pk);
		pk = NULL;
		X509_REQ_free(req);
	}
	ERR_clear_error();
	return 0;
}
