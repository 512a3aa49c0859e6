/*
 * trust_state_fuzz.c - libFuzzer target: a trust store's state.json and
 * status.json (pkid_trust_state_parse, pkid_trust_status_parse) from any
 * bytes. Whatever parses must write back to text that parses to the same
 * text again (a fixpoint), so a store never rewrites itself into
 * something it cannot read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trust/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
state_round(const uint8_t *data, size_t size)
{
	struct pkid_trust_state a, b;
	struct pkid_buf t1, t2;
	struct pkid_err e;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	pkid_err_clear(&e);
	if (pkid_trust_state_parse(data, size, &a, &e) != PKID_OK) {
		if (a.n != 0 || a.a != NULL)
			abort();
		return;
	}
	if (pkid_trust_state_write(&a, &t1, &e) != PKID_OK ||
	    pkid_trust_state_parse(t1.p, t1.len, &b, &e) != PKID_OK ||
	    pkid_trust_state_write(&b, &t2, &e) != PKID_OK)
		abort();
	if (t1.len != t2.len || memcmp(t1.p, t2.p, t1.len) != 0)
		abort();
	pkid_buf_free(&t1);
	pkid_buf_free(&t2);
	pkid_trust_state_clear(&a);
	pkid_trust_state_clear(&b);
}

static void
status_round(const uint8_t *data, size_t size)
{
	struct pkid_trust_status a, b;
	struct pkid_buf t1, t2;
	struct pkid_err e;

	pkid_err_clear(&e);
	if (pkid_trust_status_parse(data, size, &a, &e) != PKID_OK)
		return;
	if (pkid_trust_status_write(&a, &t1, &e) != PKID_OK ||
	    pkid_trust_status_parse(t1.p, t1.len, &b, &e) != PKID_OK ||
	    pkid_trust_status_write(&b, &t2, &e) != PKID_OK)
		abort();
	if (t1.len != t2.len || memcmp(t1.p, t2.p, t1.len) != 0)
		abort();
	pkid_buf_free(&t1);
	pkid_buf_free(&t2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	state_round(data, size);
	status_round(data, size);
	return 0;
}
