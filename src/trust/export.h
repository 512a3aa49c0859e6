/*
 * export.h - a trust store's anchors in the forms other software reads:
 *
 *   pem-dir     a directory of <sha256>.pem files plus OpenSSL's hash
 *               links <subject hash>.0, .1, ... (what 'openssl rehash'
 *               makes; 'openssl verify -CApath', SSL_CTX_load_verify_dir);
 *               two CAs with one subject get .0 and .1 of one hash
 *   pem-bundle  one PEM file, each certificate after a comment line with
 *               its subject and fingerprint ('-CAfile', curl --cacert)
 *   p7b         a DER certs-only PKCS#7 (RFC 2315 SignedData without
 *               signers, as EST /cacerts and Windows read)
 *
 * Files are written atomically; a pem-dir is built beside PATH and
 * swapped in with one rename (renameat2 RENAME_EXCHANGE when PATH exists,
 * which must then hold only what an export writes).
 */
#ifndef PKID_TRUST_EXPORT_H
#define PKID_TRUST_EXPORT_H

#include <openssl/x509.h>

#include "core/err.h"

enum pkid_trust_export_format {
	PKID_TRUST_EXPORT_PEM_DIR,
	PKID_TRUST_EXPORT_PEM_BUNDLE,
	PKID_TRUST_EXPORT_P7B,
};

/* "pem-dir", "pem-bundle", "p7b" to a format; -1 when none. */
int pkid_trust_export_format_parse(const char *name);

/*
 * Write anchors (borrowed) to path in format f. Errors: usage (a pem-dir
 * PATH that holds other files), io-write, crypto-failed, out-of-memory.
 */
enum pkid_code pkid_trust_export(STACK_OF(X509) *anchors,
    enum pkid_trust_export_format f, const char *path, struct pkid_err *e);

#endif
