/*
 * bundle.h - signed trust bundles (docs/trust-bundle.md).
 *
 * A bundle is one DER CMS ContentInfo of type SignedData (RFC 5652 5):
 *   eContentType  id-ct-trustAnchorList (RFC 5914 4), the eContent an
 *                 RFC 5914 TrustAnchorList whose every element is the
 *                 'certificate' choice, i.e. a DER SEQUENCE OF Certificate
 *                 (one or more trust anchors, each a CA certificate);
 *   one SignerInfo whose signed attributes hold, besides contentType and
 *                 messageDigest, signingTime (RFC 5652 11.3) and
 *                 bundleSerial (PKID_TRUST_OID_SERIAL, INTEGER
 *                 0..2^63-1: larger is newer);
 *   certificates  the signer's certificate and any certificates between
 *                 it and the anchor the importer pins.
 * The signer chains to a pinned anchor; when it has an extendedKeyUsage
 * it lists PKID_TRUST_OID_EKU or anyExtendedKeyUsage, and when it has a
 * keyUsage it has digitalSignature.
 *
 * Everything is encoded and decoded by OpenSSL (CMS_*, ASN1 templates);
 * "bytes in, struct out", bounded by src/core/limits.h.
 */
#ifndef PKID_TRUST_BUNDLE_H
#define PKID_TRUST_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/err.h"

/*
 * pkid's private OID arc: a UUID OID (ITU-T X.667, 2.25.<UUID as an
 * integer>, UUID 3c5e0e69-cda0-4def-8646-ba7afde91687), so no
 * registration is needed and no one else allocates below it.
 */
#define PKID_TRUST_OID_ARC "2.25.80242047988126964477632393078058325639"
/* id-pkid-aa-bundleSerial: signed attribute, one INTEGER value. */
#define PKID_TRUST_OID_SERIAL PKID_TRUST_OID_ARC ".1"
/* id-pkid-kp-trustBundleSigning: the signer's extendedKeyUsage. */
#define PKID_TRUST_OID_EKU PKID_TRUST_OID_ARC ".2"
/* id-ct-trustAnchorList (RFC 5914 4): the eContentType. */
#define PKID_TRUST_OID_CONTENT "1.2.840.113549.1.9.16.1.34"

/* A bundle that decoded and verified (pkid_trust_bundle_open). */
struct pkid_trust_bundle {
	int64_t serial;			/* bundleSerial */
	time_t signing_time;		/* signingTime */
	STACK_OF(X509) *anchors;	/* owned: the TrustAnchorList */
	X509 *signer;			/* owned: the signer's certificate */
	STACK_OF(X509) *certs;		/* owned: the CMS certificates */
	X509 *pinned;			/* owned reference: the pinned anchor
					 * the signer chained to; NULL when
					 * opened without anchors */
	int authenticated;		/* the signer chained to a pinned
					 * anchor and may sign bundles */
	char content_sha256[65];	/* hex SHA-256 of the eContent */
	char signer_subject[256];	/* the signer's subject, RFC 2253 */
};

/*
 * Sign anchors (at least one; not checked to be CA certificates: the
 * caller does) into a bundle of serial (0..INT64_MAX) at signing_time,
 * with signer/key (borrowed) and chain (borrowed, may be NULL: certificates
 * to carry between the signer and the anchor importers pin). out is
 * initialised here with PKID_TRUST_MAX_BUNDLE_SIZE as its bound; the
 * caller frees it, also on failure. Errors: usage (no anchors, a serial
 * out of range), too-large, crypto-failed, key-mismatch,
 * out-of-memory.
 */
enum pkid_code pkid_trust_bundle_make(STACK_OF(X509) *anchors, X509 *signer,
    EVP_PKEY *key, STACK_OF(X509) *chain, int64_t serial,
    time_t signing_time, struct pkid_buf *out, struct pkid_err *e);

/*
 * Decode and verify the bundle in p. The signature is always verified
 * (with the signer certificate the bundle carries). With pinned (borrowed
 * anchors, not NULL) the signer must chain to one of them at time at
 * (0: pkid_now()) and be allowed to sign bundles; without, nothing
 * vouches for the signer (authenticated stays 0: only for showing what a
 * bundle holds, never for installing it). *out is the caller's (free with
 * pkid_trust_bundle_free). Errors: too-large, bundle-malformed,
 * bundle-bad-signature, bundle-signer-untrusted, bundle-signer-eku,
 * expired and not-yet-valid (the signer), out-of-memory.
 */
enum pkid_code pkid_trust_bundle_open(const uint8_t *p, size_t len,
    STACK_OF(X509) *pinned, time_t at, struct pkid_trust_bundle **out,
    struct pkid_err *e);
void pkid_trust_bundle_free(struct pkid_trust_bundle *b);

/*
 * The signer rule alone: no extendedKeyUsage, or one that lists
 * id-pkid-kp-trustBundleSigning or anyExtendedKeyUsage; digitalSignature
 * when there is a keyUsage. Errors: bundle-signer-eku.
 */
enum pkid_code pkid_trust_signer_usable(X509 *signer, struct pkid_err *e);

/*
 * 1 when x may be a trust anchor: basicConstraints cA=TRUE, or a version 1
 * self-signed certificate (RFC 5280 6.1.1 takes anchors as given, and old
 * roots have no extensions).
 */
int pkid_trust_is_ca(X509 *x);

/*
 * Hex SHA-256 of the DER TrustAnchorList of anchors, in their order: the
 * content_sha256 a bundle of them would have. Errors: crypto-failed.
 */
enum pkid_code pkid_trust_content_sha256(STACK_OF(X509) *anchors,
    char out[65], struct pkid_err *e);

/* The OIDs above as objects (caller frees), NULL on no memory. */
ASN1_OBJECT *pkid_trust_oid(const char *dotted);

#endif
