/*
 * bundle_forge.c - test helper, never installed: signs a trust bundle
 * that 'pkictl trust bundle create' refuses to make (a non-CA anchor, a
 * signer whose extendedKeyUsage excludes bundle signing) with pkid's own
 * builder, so the integration tests can check that an import refuses it.
 *
 * usage: bundle_forge SIGNER.pem SIGNER.key SERIAL OUT.p7b CERT...
 * Each CERT file's certificates become anchors, unchecked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "trust/bundle.h"
#include "x509/load.h"

int
main(int argc, char **argv)
{
	STACK_OF(X509) *anchors = NULL;
	X509 *signer = NULL;
	EVP_PKEY *key = NULL;
	struct pkid_buf der;
	struct pkid_err e;
	int64_t serial;
	int i, rc = 1;

	pkid_err_clear(&e);
	if (argc < 6) {
		fprintf(stderr, "usage: bundle_forge SIGNER.pem SIGNER.key "
		    "SERIAL OUT.p7b CERT...\n");
		return 2;
	}
	memset(&der, 0, sizeof(der));
	if (pkid_x509_load_cert_file(argv[1], &signer, &e) != PKID_OK ||
	    pkid_x509_load_key_file(argv[2], &key, &e) != PKID_OK ||
	    pkid_parse_int(argv[3], 0, INT64_MAX, &serial, &e) != PKID_OK)
		goto out;
	for (i = 5; i < argc; i++)
		if (pkid_x509_load_certs_file(argv[i], &anchors, &e) !=
		    PKID_OK)
			goto out;
	if (pkid_trust_bundle_make(anchors, signer, key, NULL, serial,
	    pkid_now(), &der, &e) != PKID_OK ||
	    pkid_file_write(argv[4], der.p, der.len, 0644, &e) != PKID_OK)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "bundle_forge: %s: %s\n", pkid_err_id(e.code),
		    e.detail);
	pkid_buf_free(&der);
	sk_X509_pop_free(anchors, X509_free);
	X509_free(signer);
	EVP_PKEY_free(key);
	return rc;
}
