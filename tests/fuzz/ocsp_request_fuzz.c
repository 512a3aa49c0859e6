/*
 * ocsp_request_fuzz.c - libFuzzer target: any bytes as an OCSP request
 * (src/ocsp/request.c), as a POST body (DER) when the first byte is even,
 * else as the base64 path of a GET (RFC 6960 A.1); a request that parses
 * is then read as the responder reads it: each CertID's hash, issuer
 * hashes and serial, and its nonce copied into a response.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ocsp.h>

#include "core/limits.h"
#include "ocsp/ocsp.h"
#include "x509/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
read_as_responder(OCSP_REQUEST *req)
{
	OCSP_BASICRESP *bs;
	int i, n = OCSP_request_onereq_count(req);

	if (n < 1 || n > PKID_OCSP_MAX_IDS)
		abort();	/* the parser promised otherwise */
	for (i = 0; i < n; i++) {
		OCSP_CERTID *id = OCSP_onereq_get0_id(
		    OCSP_request_onereq_get0(req, i));
		ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
		ASN1_OBJECT *md = NULL;
		ASN1_INTEGER *sn = NULL;
		char hex[48];

		if (id == NULL || !OCSP_id_get0_info(&nh, &md, &kh, &sn, id))
			abort();
		(void)EVP_get_digestbyobj(md);
		if (sn != NULL && ASN1_STRING_length(sn) <= 20)
			(void)pkid_x509_serial_hex(sn, hex, sizeof(hex));
	}
	if ((bs = OCSP_BASICRESP_new()) == NULL)
		abort();
	(void)OCSP_copy_nonce(bs, req);
	OCSP_BASICRESP_free(bs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	OCSP_REQUEST *req = NULL;
	struct pkid_err e;
	char *path;

	if (size < 1)
		return 0;
	pkid_err_clear(&e);
	if ((data[0] & 1) == 0) {
		(void)pkid_ocsp_request_parse(data + 1, size - 1, &req, &e);
	} else {
		if ((path = malloc(size)) == NULL)
			return 0;
		memcpy(path, data + 1, size - 1);
		path[size - 1] = '\0';
		(void)pkid_ocsp_request_from_path(path, &req, &e);
		free(path);
	}
	if ((req != NULL) != (e.code == PKID_OK))
		abort();
	if (req != NULL)
		read_as_responder(req);
	OCSP_REQUEST_free(req);
	return 0;
}
