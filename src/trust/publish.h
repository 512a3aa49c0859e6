/*
 * publish.h - the signed trust bundle a pkid CA serves at
 * /trust/bundle.p7b (docs/trust-bundle.md "Publishing"):
 *
 *   anchors   the CA's roots among pkid_ca_published() (self-signed:
 *             the current root, a shadow root during a rollover, retired
 *             roots still valid) and [trust] extra_anchors, ordered by
 *             SHA-256 fingerprint;
 *   signer    DIR/trust/bundle-signer.pem for DIR/keys/bundle.key,
 *             issued by the current root: digitalSignature, extended key
 *             usage id-pkid-kp-trustBundleSigning, not a CA. Made at
 *             'pkictl ca init', or at first need for an older CA
 *             directory; issued again for the same key when it is not
 *             the current root's (after a root rollover) or ends within
 *             PKID_TRUST_SIGNER_RENEW_S;
 *   chain     the link certificates of the latest root key update
 *             (OldWithNew, NewWithOld), so a device that pinned the old
 *             root follows a signer issued by the new one;
 *   serial    DIR/trust/bundle.json keeps the serial and the SHA-256 of
 *             the content; new content gets max(previous + 1, now in
 *             UNIX seconds), so the serial grows even when that file is
 *             lost; DIR/trust/bundle.p7b keeps the signed bytes, reused
 *             while content and signer are the same (a stable ETag).
 * DIR/trust/lock serialises pkid and pkictl while they make these.
 */
#ifndef PKID_TRUST_PUBLISH_H
#define PKID_TRUST_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ca/ca.h"
#include "core/err.h"

/* The bundle a server answers with. */
struct pkid_trust_pub {
	uint8_t *der;		/* owned: the signed bundle */
	size_t len;		/* its length */
	int64_t serial;		/* its bundleSerial */
	int anchors;		/* anchors it carries */
	char content_sha256[65]; /* SHA-256 of its content */
	char etag[96];		/* "\"<serial>-<16 hex of its SHA-256>\"" */
};

void pkid_trust_pub_clear(struct pkid_trust_pub *p);

/*
 * The current bundle of ca, made and signed anew only when its content
 * or signer changed (serial and files as above). *out is the caller's
 * (pkid_trust_pub_clear). Errors: bundle-not-ca and the loaders' for
 * extra_anchors, store-busy (DIR/trust/lock), io-*, key-*, crypto-failed.
 */
enum pkid_code pkid_trust_publish(struct pkid_ca *ca,
    struct pkid_trust_pub *out, struct pkid_err *e);

/*
 * The anchors pkid publishes for ca (above), a new stack of new
 * references ordered by fingerprint. Errors: bundle-not-ca, the loaders'.
 */
enum pkid_code pkid_trust_published_anchors(struct pkid_ca *ca,
    STACK_OF(X509) **out, struct pkid_err *e);

/*
 * pkid's bundle signer for ca: DIR/keys/bundle.key (made, EC P-256,
 * 0600, when missing) and DIR/trust/bundle-signer.pem, issued by the
 * current root when missing, not the current root's, for another key or
 * near its end. *cert and *key are the caller's.
 */
enum pkid_code pkid_trust_signer_ensure(struct pkid_ca *ca, X509 **cert,
    EVP_PKEY **key, struct pkid_err *e);
/*
 * The same for a CA being made (pkictl ca init): a new key and a signer
 * certificate issued by root/root_key, written under dir.
 */
enum pkid_code pkid_trust_signer_init(const char *dir, const char *ca_name,
    const char *digest, X509 *root, EVP_PKEY *root_key, struct pkid_err *e);

#endif
