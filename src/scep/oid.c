/*
 * oid.c - register the SCEP attribute OIDs once per process.
 *
 * OpenSSL's object table is process-wide; the NIDs it hands back are
 * kept here, written once under CRYPTO_THREAD_run_once and read-only
 * afterwards (the one exception to "no mutable globals").
 */
#include "scep/oid.h"

#include <openssl/crypto.h>
#include <openssl/objects.h>

static const struct {
	const char *oid;	/* dotted OID */
	const char *sn;		/* short name */
	const char *ln;		/* long name */
} attrs[PKID_SCEP_A_MAX] = {
	{ "2.16.840.1.113733.1.9.2", "messageType", "SCEP messageType" },
	{ "2.16.840.1.113733.1.9.3", "pkiStatus", "SCEP pkiStatus" },
	{ "2.16.840.1.113733.1.9.4", "failInfo", "SCEP failInfo" },
	{ "2.16.840.1.113733.1.9.5", "senderNonce", "SCEP senderNonce" },
	{ "2.16.840.1.113733.1.9.6", "recipientNonce",
	    "SCEP recipientNonce" },
	{ "2.16.840.1.113733.1.9.7", "transactionID", "SCEP transactionID" },
};

static int nids[PKID_SCEP_A_MAX];
static CRYPTO_ONCE once = CRYPTO_ONCE_STATIC_INIT;

static void
register_oids(void)
{
	int i, n;

	for (i = 0; i < PKID_SCEP_A_MAX; i++) {
		/* A newer OpenSSL may know them already. */
		n = OBJ_txt2nid(attrs[i].oid);
		if (n == NID_undef)
			n = OBJ_create(attrs[i].oid, attrs[i].sn, attrs[i].ln);
		nids[i] = n;
	}
}

int
pkid_scep_nid(enum pkid_scep_attr a)
{
	if (!CRYPTO_THREAD_run_once(&once, register_oids) ||
	    a < 0 || a >= PKID_SCEP_A_MAX)
		return NID_undef;
	return nids[a];
}
