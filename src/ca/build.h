/*
 * build.h - assemble a to-be-signed certificate from a spec.
 */
#ifndef PKID_CA_BUILD_H
#define PKID_CA_BUILD_H

#include <stdint.h>

#include <openssl/x509v3.h>

#include "core/err.h"

/* What goes into a certificate. All pointers borrowed. */
struct pkid_certspec {
	const X509_NAME *subject;	/* subject name */
	EVP_PKEY *pubkey;		/* subject public key */
	X509_PUBKEY *spki;		/* or its encoded form, copied as is
					 * (skips OpenSSL 3.0's slow
					 * encoder/decoder round trip) */
	X509 *issuer;			/* issuer certificate, NULL = self */
	int64_t not_before;		/* epoch seconds */
	int64_t not_after;		/* epoch seconds */
	int is_ca;			/* basicConstraints cA */
	int pathlen;			/* pathLenConstraint, -1 for none */
	unsigned key_usage;		/* KU_* bits (leaf); CA gets its own */
	unsigned eku;			/* PKID_EKU_* bits, 0 = no EKU */
	const GENERAL_NAMES *sans;	/* SAN, NULL = none */
	const char *crl_url;		/* CRL distribution point URI,
					 * NULL = none */
	const char *aia_url;		/* AIA caIssuers URI, NULL = none */
	const char *ocsp_url;		/* AIA OCSP URI, NULL = none */
	int ocsp_nocheck;		/* id-pkix-ocsp-nocheck (a delegated
					 * OCSP responder, RFC 6960
					 * 4.2.2.2.1) */
};

/*
 * Build the unsigned certificate with a fresh 128-bit positive random
 * serial (RFC 5280 4.1.2.2), SKI always, AKI from the issuer's SKI, a
 * CRL distribution point when s->crl_url is set (RFC 5280 4.2.1.13), an
 * AIA caIssuers access description when s->aia_url is and an OCSP one
 * when s->ocsp_url is (4.2.2.1), id-pkix-ocsp-nocheck when asked.
 * serial_hex receives the serial in hex. Caller frees *out.
 */
enum pkid_code pkid_cert_build(const struct pkid_certspec *s, X509 **out,
    char serial_hex[48], struct pkid_err *e);

#endif
