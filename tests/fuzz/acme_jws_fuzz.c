/*
 * acme_jws_fuzz.c - libFuzzer target: any bytes as the body of an ACME
 * request (src/acme/jws.c): the flattened JWS parsed, its jwk turned
 * into a key and thumbprinted, its signature checked with that key; and
 * the same bytes as base64url, whose decoding must stay within its
 * bound and encode back to the same text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme/jws.h"
#include "core/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
b64url_roundtrip(const uint8_t *data, size_t size)
{
	struct pkid_buf out;
	struct pkid_err e;
	char *back;
	size_t blen;

	pkid_err_clear(&e);
	if (pkid_b64url_decode((const char *)data, size, &out, 256, &e) ==
	    PKID_OK) {
		if (out.len > 256)
			abort();
		blen = 4 * (out.len + 2) / 3 + 1;
		if ((back = malloc(blen)) == NULL)
			abort();
		if (!pkid_b64url_encode(out.p, out.len, back, blen))
			abort();
		/* Non-canonical trailing bits may differ; the length not. */
		if (strlen(back) != size)
			abort();
		free(back);
	} else if (e.code != PKID_E_ACME_MALFORMED && e.code != PKID_E_NOMEM)
		abort();
	pkid_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkid_jws j;
	struct pkid_err e;
	char thumb[48];

	b64url_roundtrip(data, size);
	pkid_err_clear(&e);
	pkid_jws_init(&j);
	if (pkid_jws_parse(data, size, &j, &e) == PKID_OK) {
		if (j.alg == NULL || j.nonce == NULL || j.url == NULL ||
		    (j.kid == NULL) == (j.jwk == NULL))
			abort();	/* the parser promised otherwise */
		if (j.jwk != NULL) {
			if (j.jwk_key == NULL)
				abort();
			(void)pkid_jwk_thumbprint(j.jwk, thumb, &e);
			(void)pkid_jws_verify(&j, j.jwk_key, &e);
		}
	} else if (e.code == PKID_OK) {
		abort();
	}
	pkid_jws_free(&j);
	return 0;
}
