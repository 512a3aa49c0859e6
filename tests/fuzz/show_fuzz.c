/*
 * show_fuzz.c - libFuzzer target: the 'pkictl show' path on any bytes:
 * pkid_x509_decode_all (PEM, DER, PKCS#7 detection) and the JSON
 * description of every object, serialised as the CLI does.
 * Deterministic: the reference time is fixed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/err.h>

#include "x509/show.h"

/* 2030-01-01T00:00:00Z */
#define FUZZ_NOW ((time_t)1893456000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkid_err e;
	json_t *arr = json_array();
	char *s;

	if (arr == NULL)
		return 0;
	pkid_err_clear(&e);
	(void)pkid_x509_show_all(data, size, FUZZ_NOW, arr, &e);
	/* Every description must be valid JSON: dumping cannot fail. */
	s = json_dumps(arr, JSON_COMPACT);
	if (s == NULL)
		abort();
	free(s);
	json_decref(arr);
	ERR_clear_error();
	return 0;
}
