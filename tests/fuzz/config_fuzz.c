/*
 * config_fuzz.c - libFuzzer target: pkid.conf text (pkid_config_parse),
 * over the defaults as pkid_config_load does. The input is not
 * NUL-terminated: the parser must honour its length. A configuration that
 * parses must also survive pkid_config_write: the file written reads back
 * to a configuration that writes the same file again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Large (profiles): static, and the fuzzer runs one input at a time. */
static struct pkid_config a, b;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkid_buf out1, out2;
	struct pkid_err e;

	pkid_config_defaults(&a);
	pkid_err_clear(&e);
	if (pkid_config_parse(&a, "fuzz.conf", (const char *)data, size,
	    &e) != PKID_OK)
		return 0;
	pkid_err_clear(&e);
	if (pkid_config_write(&a, &out1, &e) != PKID_OK)
		return 0;
	pkid_config_defaults(&b);
	pkid_err_clear(&e);
	/* Values written back may make a line longer than the limit; that
	 * is refused cleanly. Whatever is accepted must be a fixpoint. */
	if (pkid_config_parse(&b, "fuzz.conf", (const char *)out1.p,
	    out1.len, &e) == PKID_OK) {
		pkid_err_clear(&e);
		if (pkid_config_write(&b, &out2, &e) != PKID_OK)
			abort();
		if (out1.len != out2.len ||
		    memcmp(out1.p, out2.p, out1.len) != 0)
			abort();
		pkid_buf_free(&out2);
	}
	pkid_buf_free(&out1);
	return 0;
}
