/*
 * trust_bundle_fuzz.c - libFuzzer target: a signed trust bundle from any
 * bytes (pkid_trust_bundle_open): decoded and its signature checked
 * without anchors, then, when that holds, again with the signer's own
 * certificate and the bundle's other certificates as the pinned anchors,
 * so the chain and signer-usage checks run too. Deterministic: the time
 * is the bundle's own signingTime.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>

#include "trust/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkid_trust_bundle *b = NULL, *b2 = NULL;
	struct pkid_err e;

	pkid_err_clear(&e);
	if (pkid_trust_bundle_open(data, size, NULL, (time_t)1893456000, &b,
	    &e) != PKID_OK) {
		/* Failures leave nothing behind and say why. */
		if (b != NULL || e.code == PKID_OK)
			abort();
		ERR_clear_error();
		return 0;
	}
	if (b->authenticated || sk_X509_num(b->anchors) < 1 || b->serial < 0)
		abort();
	pkid_err_clear(&e);
	(void)pkid_trust_bundle_open(data, size, b->certs,
	    b->signing_time + 60, &b2, &e);
	if (b2 != NULL && (!b2->authenticated || b2->serial != b->serial))
		abort();
	pkid_trust_bundle_free(b2);
	pkid_trust_bundle_free(b);
	ERR_clear_error();
	return 0;
}
