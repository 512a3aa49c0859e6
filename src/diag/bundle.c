/*
 * bundle.c - the unknown-issuer remedy when a trust store or a published
 * trust bundle is in play: it names the bundle import only when the
 * issuer the path lacks is in the bundle given (checked by key and
 * signature, not by name), and otherwise says what is known.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "diag/diag_int.h"
#include "x509/load.h"

#define HINT_DEFAULT "pkictl trust import --store DIR --anchor FILE URL"

/* The bundle anchor that issued top (or is top, when it is
 * self-signed), or NULL. */
static X509 *
in_bundle(STACK_OF(X509) *bundle, X509 *top)
{
	int i, self = X509_self_signed(top, 0) == 1;
	X509 *b;
	EVP_PKEY *k;

	for (i = 0; i < sk_X509_num(bundle); i++) {
		b = sk_X509_value(bundle, i);
		if (self && X509_cmp(b, top) == 0)
			return b;
		if (self || X509_check_issued(b, top) != X509_V_OK)
			continue;
		if ((k = X509_get0_pubkey(b)) != NULL && X509_verify(top, k) ==
		    1)
			return b;
	}
	ERR_clear_error();
	return NULL;
}

void
dtrust_remedy(struct dctx *d, X509 *top, int depth)
{
	const char *hint = d->o->import_hint != NULL ? d->o->import_hint :
	    HINT_DEFAULT;
	char sub[256], fp[65];
	X509 *b;

	d->trust_rem[0] = '\0';
	if (top == NULL)
		return;
	if (d->o->bundle != NULL) {
		if ((b = in_bundle(d->o->bundle, top)) == NULL) {
			dnote(d, "the trust bundle %.120s does not list the "
			    "issuer of cert[%d] either", d->o->bundle_from !=
			    NULL ? d->o->bundle_from : "given", depth);
			return;
		}
		pkid_x509_name_text(X509_get_subject_name(b), sub, sizeof(sub));
		pkid_x509_fingerprint(b, fp);
		snprintf(d->trust_rem, sizeof(d->trust_rem), "'%.80s' (SHA-256 "
		    "%.16s..) is in the trust bundle %.220s: install it with "
		    "'%.200s'", sub, fp, d->o->bundle_from != NULL ?
		    d->o->bundle_from : "given", hint);
		return;
	}
	if (d->o->store != NULL)
		snprintf(d->trust_rem, sizeof(d->trust_rem), "the trust store "
		    "%.100s does not hold the issuer; if its bundle publisher "
		    "lists it, '%.150s' installs it (diagnose --bundle URL "
		    "says whether the server's bundle does)", d->o->store,
		    hint);
}
