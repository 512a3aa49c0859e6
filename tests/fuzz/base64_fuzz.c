/*
 * base64_fuzz.c - libFuzzer target: pkid_base64_decode on any bytes (EST
 * bodies and SCEP messages arrive in base64), and encode/decode round
 * trips of the same bytes, wrapped and not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
roundtrip(const uint8_t *data, size_t size, int wrap)
{
	struct pkid_buf enc, dec;
	struct pkid_err e;

	pkid_err_clear(&e);
	if (pkid_base64_encode(data, size, wrap, &enc, &e) != PKID_OK)
		abort();
	if (size == 0) {
		pkid_buf_free(&enc);
		return;
	}
	if (pkid_base64_decode((const char *)enc.p, enc.len, &dec, size,
	    &e) != PKID_OK || dec.len != size ||
	    memcmp(dec.p, data, size) != 0)
		abort();
	pkid_buf_free(&enc);
	pkid_buf_free(&dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkid_buf out;
	struct pkid_err e;

	pkid_err_clear(&e);
	if (pkid_base64_decode((const char *)data, size, &out, 65536, &e) ==
	    PKID_OK) {
		if (out.len == 0 || out.len > 65536)
			abort();
		pkid_buf_free(&out);
	}
	roundtrip(data, size, 0);
	roundtrip(data, size, 1);
	return 0;
}
