/*
 * hsm_uri_fuzz.c - libFuzzer target: pkcs11: URIs (pkid_hsm_uri_parse),
 * counted, not NUL-terminated. A URI that parses is re-made with
 * pkid_hsm_uri_with_object, which must parse back to the same labels.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca/hsm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkid_hsm_uri u, v;
	struct pkid_err e;
	char out[PKID_HSM_MAX_URI + 1];

	pkid_err_clear(&e);
	if (pkid_hsm_uri_parse((const char *)data, size, &u, &e) != PKID_OK)
		return 0;
	if (u.object[0] == '\0')
		return 0;
	if (pkid_hsm_uri_with_object(&u, u.object, out, sizeof(out), &e) !=
	    PKID_OK)
		return 0;
	if (pkid_hsm_uri_parse(out, strlen(out), &v, &e) != PKID_OK ||
	    strcmp(u.token, v.token) != 0 || strcmp(u.object, v.object) != 0)
		abort();
	return 0;
}
