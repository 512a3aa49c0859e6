/*
 * jws.h - the JSON Web Signature of ACME requests (RFC 8555 6.2, RFC
 * 7515 flattened JSON serialization): base64url, JWK to an OpenSSL key
 * (RFC 7517/7518: EC P-256 and P-384, RSA, Ed25519), signatures ES256,
 * ES384, RS256 and EdDSA, and the JWK thumbprint (RFC 7638).
 */
#ifndef PKID_ACME_JWS_H
#define PKID_ACME_JWS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/buf.h"
#include "core/err.h"

/*
 * base64url without padding (RFC 7515 2) of len characters into out
 * (initialised here, bound max; the caller frees it, also on failure).
 * Errors: acme-malformed (another character, '=', a length no encoding
 * has, more than max bytes).
 */
enum pkid_code pkid_b64url_decode(const char *in, size_t len,
    struct pkid_buf *out, size_t max, struct pkid_err *e);
/* base64url without padding of n bytes into out (NUL-terminated;
 * outlen >= 4 * (n + 2) / 3 + 1). 0 when out is too small. */
int pkid_b64url_encode(const uint8_t *p, size_t n, char *out,
    size_t outlen);

/* A parsed JWS: what the handlers need (all owned). */
struct pkid_jws {
	json_t *header;		/* the protected header */
	json_t *payload;	/* the payload's JSON, NULL when the payload
				 * is "" (POST-as-GET, RFC 8555 6.3) */
	const char *alg;	/* header members (borrowed from header) */
	const char *nonce;
	const char *url;
	const char *kid;	/* NULL when jwk */
	json_t *jwk;		/* borrowed from header, NULL when kid */
	EVP_PKEY *jwk_key;	/* the jwk's key, NULL when kid */
	struct pkid_buf input;	/* signing input: protected "." payload */
	struct pkid_buf sig;	/* the signature, decoded */
};

void pkid_jws_init(struct pkid_jws *j);
void pkid_jws_free(struct pkid_jws *j);
/*
 * Parse a flattened JWS of len bytes (at most PKID_ACME_MAX_JWS): the
 * members protected, payload and signature only, a protected header with
 * alg, nonce, url and exactly one of jwk and kid, no "none" or MAC
 * algorithm. Not verified here. Errors: acme-malformed.
 */
enum pkid_code pkid_jws_parse(const uint8_t *body, size_t len,
    struct pkid_jws *j, struct pkid_err *e);
/* Verify j's signature with key (its alg must fit the key). Errors:
 * acme-unauthorized (bad signature), acme-malformed (alg and key). */
enum pkid_code pkid_jws_verify(const struct pkid_jws *j, EVP_PKEY *key,
    struct pkid_err *e);
/* The public key of a JWK. Errors: acme-malformed (kty, crv, members,
 * an RSA key under PKID_ACME_MIN_RSA_BITS, a point not on the curve). */
enum pkid_code pkid_jwk_key(const json_t *jwk, EVP_PKEY **out,
    struct pkid_err *e);
/* RFC 7638 thumbprint (SHA-256, base64url: 43 characters + NUL). */
enum pkid_code pkid_jwk_thumbprint(const json_t *jwk, char out[48],
    struct pkid_err *e);

#endif
