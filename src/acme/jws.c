/*
 * jws.c - JWS of ACME requests (RFC 8555 6.2, RFC 7515, RFC 7518, RFC
 * 8037, RFC 7638): parsed with jansson, keys built and signatures
 * checked with OpenSSL. Every input is bounded before it is decoded.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "acme/jws.h"
#include "core/limits.h"

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

enum pkid_code
pkid_b64url_decode(const char *in, size_t len, struct pkid_buf *out,
    size_t max, struct pkid_err *e)
{
	char *std = NULL;
	size_t i;
	enum pkid_code rc;

	pkid_buf_init(out, max + 3);
	if (len == 0)
		return PKID_OK;
	if (len % 4 == 1 || len / 4 * 3 > max + 3)
		return PKID_ERR(e, PKID_E_ACME_MALFORMED, "base64url of %zu "
		    "characters: not a valid length, or more than %zu bytes",
		    len, max);
	if ((std = malloc(len + 3)) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	for (i = 0; i < len; i++) {
		if (in[i] == '\0' || strchr(b64url_chars, in[i]) == NULL) {
			free(std);
			return PKID_ERR(e, PKID_E_ACME_MALFORMED, "base64url "
			    "(RFC 7515 2, no padding) has a character "
			    "0x%02x at %zu", (unsigned char)in[i], i);
		}
		std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	}
	while (i % 4 != 0)
		std[i++] = '=';
	rc = pkid_base64_decode(std, i, out, max, e);
	free(std);
	if (rc != PKID_OK)
		return PKID_ERR(e, PKID_E_ACME_MALFORMED, "base64url does not "
		    "decode (or is more than %zu bytes)", max);
	return PKID_OK;
}

int
pkid_b64url_encode(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;
	uint32_t v;

	if (outlen < 4 * (n + 2) / 3 + 1)
		return 0;
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64url_chars[v >> 18 & 63];
		out[o++] = b64url_chars[v >> 12 & 63];
		out[o++] = b64url_chars[v >> 6 & 63];
		out[o++] = b64url_chars[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		out[o++] = b64url_chars[v >> 18 & 63];
		out[o++] = b64url_chars[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = b64url_chars[v >> 18 & 63];
		out[o++] = b64url_chars[v >> 12 & 63];
		out[o++] = b64url_chars[v >> 6 & 63];
	}
	out[o] = '\0';
	return 1;
}

void
pkid_jws_init(struct pkid_jws *j)
{
	memset(j, 0, sizeof(*j));
	pkid_buf_init(&j->input, PKID_ACME_MAX_JWS);
	pkid_buf_init(&j->sig, 1024);
}

void
pkid_jws_free(struct pkid_jws *j)
{
	json_decref(j->header);
	json_decref(j->payload);
	EVP_PKEY_free(j->jwk_key);
	pkid_buf_free(&j->input);
	pkid_buf_free(&j->sig);
	memset(j, 0, sizeof(*j));
}

/* The decoded bytes of base64url member k of o (at most max). */
static enum pkid_code
member_b64(const json_t *o, const char *k, size_t max, struct pkid_buf *out,
    struct pkid_err *e)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_string(v)) {
		pkid_buf_init(out, max);
		return PKID_ERR(e, PKID_E_ACME_MALFORMED, "JWK member '%s' "
		    "is missing or not a string", k);
	}
	return pkid_b64url_decode(json_string_value(v),
	    json_string_length(v), out, max, e);
}

static enum pkid_code
ec_key(const json_t *jwk, EVP_PKEY **out, struct pkid_err *e)
{
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	const char *group;
	struct pkid_buf x, y;
	uint8_t pub[1 + 2 * 66];
	size_t clen;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&x, 0);
	pkid_buf_init(&y, 0);
	if (crv != NULL && strcmp(crv, "P-256") == 0) {
		group = "prime256v1";
		clen = 32;
	} else if (crv != NULL && strcmp(crv, "P-384") == 0) {
		group = "secp384r1";
		clen = 48;
	} else {
		rc = PKID_ERR(e, PKID_E_ACME_MALFORMED, "EC JWK curve '%s' "
		    "(P-256 and P-384 are accepted)", crv ? crv : "(none)");
		goto out;
	}
	PKID_TRY(member_b64(jwk, "x", clen, &x, e));
	PKID_TRY(member_b64(jwk, "y", clen, &y, e));
	PKID_CHECK(x.len == clen && y.len == clen, PKID_E_ACME_MALFORMED,
	    "EC JWK coordinates of %zu and %zu bytes, not %zu", x.len, y.len,
	    clen);
	pub[0] = 0x04;
	memcpy(pub + 1, x.p, clen);
	memcpy(pub + 1 + clen, y.p, clen);
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * clen);
	params[2] = OSSL_PARAM_construct_end();
	PKID_CHECK((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) !=
	    NULL && EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) > 0,
	    PKID_E_ACME_MALFORMED, "EC JWK is not a point on %s", crv);
	rc = PKID_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	pkid_buf_free(&x);
	pkid_buf_free(&y);
	return rc;
}

static enum pkid_code
rsa_key(const json_t *jwk, EVP_PKEY **out, struct pkid_err *e)
{
	struct pkid_buf n, ex;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&n, 0);
	pkid_buf_init(&ex, 0);
	PKID_TRY(member_b64(jwk, "n", 1024, &n, e));
	PKID_TRY(member_b64(jwk, "e", 8, &ex, e));
	PKID_CHECK(n.len > 0 && ex.len > 0 && n.p[0] != 0,
	    PKID_E_ACME_MALFORMED, "RSA JWK with an empty or zero-led n or e");
	PKID_CHECK(n.len * 8 >= PKID_ACME_MIN_RSA_BITS, PKID_E_ACME_MALFORMED,
	    "RSA JWK of %zu bits; at least %d are accepted", n.len * 8,
	    PKID_ACME_MIN_RSA_BITS);
	PKID_CHECK((bn = BN_bin2bn(n.p, (int)n.len, NULL)) != NULL &&
	    (be = BN_bin2bn(ex.p, (int)ex.len, NULL)) != NULL &&
	    (bld = OSSL_PARAM_BLD_new()) != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL,
	    PKID_E_NOMEM, "no memory");
	PKID_CHECK((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) !=
	    NULL && EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) > 0,
	    PKID_E_ACME_MALFORMED, "RSA JWK is not an RSA public key");
	rc = PKID_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	pkid_buf_free(&n);
	pkid_buf_free(&ex);
	return rc;
}

enum pkid_code
pkid_jwk_key(const json_t *jwk, EVP_PKEY **out, struct pkid_err *e)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	struct pkid_buf x;
	enum pkid_code rc;

	*out = NULL;
	if (!json_is_object(jwk) || kty == NULL)
		return PKID_ERR(e, PKID_E_ACME_MALFORMED, "jwk is not a JSON "
		    "object with a kty");
	if (strcmp(kty, "EC") == 0)
		return ec_key(jwk, out, e);
	if (strcmp(kty, "RSA") == 0)
		return rsa_key(jwk, out, e);
	if (strcmp(kty, "OKP") == 0 && crv != NULL &&
	    strcmp(crv, "Ed25519") == 0) {
		if ((rc = member_b64(jwk, "x", 32, &x, e)) == PKID_OK &&
		    (x.len != 32 || (*out = EVP_PKEY_new_raw_public_key(
		    EVP_PKEY_ED25519, NULL, x.p, x.len)) == NULL))
			rc = PKID_ERR(e, PKID_E_ACME_MALFORMED, "Ed25519 JWK "
			    "x of %zu bytes is not a public key", x.len);
		pkid_buf_free(&x);
		return rc;
	}
	return PKID_ERR(e, PKID_E_ACME_MALFORMED, "JWK kty '%s' (EC P-256, "
	    "P-384, RSA and OKP Ed25519 are accepted)", kty);
}

enum pkid_code
pkid_jwk_thumbprint(const json_t *jwk, char out[48], struct pkid_err *e)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	const char *m[3];
	char text[PKID_ACME_MAX_HEADER];
	uint8_t md[32];
	int n, i;

	if (kty == NULL)
		return PKID_ERR(e, PKID_E_ACME_MALFORMED, "JWK without kty");
	/* RFC 7638 3.2: the required members only, in lexical order. */
	if (strcmp(kty, "EC") == 0) {
		m[0] = "crv"; m[1] = "x"; m[2] = "y";
	} else if (strcmp(kty, "RSA") == 0) {
		m[0] = "e"; m[1] = "n"; m[2] = NULL;
	} else {
		m[0] = "crv"; m[1] = "x"; m[2] = NULL;
	}
	for (i = 0; i < 3; i++)
		if (m[i] != NULL &&
		    !json_is_string(json_object_get(jwk, m[i])))
			return PKID_ERR(e, PKID_E_ACME_MALFORMED, "JWK "
			    "without %s", m[i]);
#define JV(k) json_string_value(json_object_get(jwk, (k)))
	if (strcmp(kty, "EC") == 0)
		n = snprintf(text, sizeof(text), "{\"crv\":\"%s\",\"kty\":"
		    "\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", JV("crv"), JV("x"),
		    JV("y"));
	else if (strcmp(kty, "RSA") == 0)
		n = snprintf(text, sizeof(text), "{\"e\":\"%s\",\"kty\":"
		    "\"RSA\",\"n\":\"%s\"}", JV("e"), JV("n"));
	else
		n = snprintf(text, sizeof(text), "{\"crv\":\"%s\",\"kty\":"
		    "\"%s\",\"x\":\"%s\"}", JV("crv"), kty, JV("x"));
#undef JV
	if (n < 0 || (size_t)n >= sizeof(text))
		return PKID_ERR(e, PKID_E_ACME_MALFORMED, "JWK too large");
	if (EVP_Digest(text, (size_t)n, md, NULL, EVP_sha256(), NULL) != 1)
		return PKID_ERR(e, PKID_E_CRYPTO, "SHA-256 failed");
	(void)pkid_b64url_encode(md, sizeof(md), out, 48);
	return PKID_OK;
}

/* A string member of the header, or NULL. */
static const char *
hstr(const json_t *h, const char *k)
{
	return json_string_value(json_object_get(h, k));
}

enum pkid_code
pkid_jws_parse(const uint8_t *body, size_t len, struct pkid_jws *j,
    struct pkid_err *e)
{
	json_t *root = NULL, *prot, *pay, *sig;
	json_error_t je;
	struct pkid_buf hb, pb;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&hb, 0);
	pkid_buf_init(&pb, 0);
	PKID_CHECK(len > 0 && len <= PKID_ACME_MAX_JWS, PKID_E_ACME_MALFORMED,
	    "JWS body of %zu bytes (1 to %d)", len, PKID_ACME_MAX_JWS);
	root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES,
	    &je);
	PKID_CHECK(json_is_object(root), PKID_E_ACME_MALFORMED, "the body "
	    "is not a JSON object (flattened JWS, RFC 7515 7.2.2): %s",
	    root == NULL ? je.text : "not an object");
	prot = json_object_get(root, "protected");
	pay = json_object_get(root, "payload");
	sig = json_object_get(root, "signature");
	PKID_CHECK(json_is_string(prot) && json_is_string(pay) &&
	    json_is_string(sig) && json_object_size(root) == 3,
	    PKID_E_ACME_MALFORMED, "a flattened JWS has exactly the string "
	    "members protected, payload and signature");
	PKID_TRY(pkid_b64url_decode(json_string_value(prot),
	    json_string_length(prot), &hb, PKID_ACME_MAX_HEADER, e));
	PKID_TRY(pkid_b64url_decode(json_string_value(pay),
	    json_string_length(pay), &pb, PKID_ACME_MAX_JWS, e));
	pkid_buf_free(&j->sig);
	PKID_TRY(pkid_b64url_decode(json_string_value(sig),
	    json_string_length(sig), &j->sig, 1024, e));
	PKID_CHECK(j->sig.len > 0, PKID_E_ACME_MALFORMED, "empty signature");
	j->header = json_loadb((const char *)hb.p, hb.len,
	    JSON_REJECT_DUPLICATES, &je);
	PKID_CHECK(json_is_object(j->header), PKID_E_ACME_MALFORMED, "the "
	    "protected header is not a JSON object");
	if (pb.len > 0) {
		j->payload = json_loadb((const char *)pb.p, pb.len,
		    JSON_REJECT_DUPLICATES, &je);
		PKID_CHECK(json_is_object(j->payload), PKID_E_ACME_MALFORMED,
		    "the payload is not a JSON object");
	}
	j->alg = hstr(j->header, "alg");
	j->nonce = hstr(j->header, "nonce");
	j->url = hstr(j->header, "url");
	j->kid = hstr(j->header, "kid");
	j->jwk = json_object_get(j->header, "jwk");
	PKID_CHECK(j->alg != NULL && (strcmp(j->alg, "ES256") == 0 ||
	    strcmp(j->alg, "ES384") == 0 || strcmp(j->alg, "RS256") == 0 ||
	    strcmp(j->alg, "EdDSA") == 0), PKID_E_ACME_MALFORMED,
	    "protected header alg '%s' (ES256, ES384, RS256 and EdDSA are "
	    "accepted; RFC 8555 6.2 forbids none and MACs)",
	    j->alg != NULL ? j->alg : "(none)");
	PKID_CHECK(j->nonce != NULL && j->url != NULL, PKID_E_ACME_MALFORMED,
	    "the protected header needs nonce and url (RFC 8555 6.4, 6.5)");
	PKID_CHECK((j->kid != NULL) != (j->jwk != NULL),
	    PKID_E_ACME_MALFORMED, "the protected header needs exactly one "
	    "of jwk and kid (RFC 8555 6.2)");
	if (j->jwk != NULL)
		PKID_TRY(pkid_jwk_key(j->jwk, &j->jwk_key, e));
	/* The signing input: the two members as sent (RFC 7515 5.2). */
	PKID_TRY(pkid_buf_append(&j->input, json_string_value(prot),
	    json_string_length(prot), e));
	PKID_TRY(pkid_buf_append(&j->input, ".", 1, e));
	PKID_TRY(pkid_buf_append(&j->input, json_string_value(pay),
	    json_string_length(pay), e));
	rc = PKID_OK;
out:
	json_decref(root);
	pkid_buf_free(&hb);
	pkid_buf_free(&pb);
	return rc;
}

enum pkid_code
pkid_jws_verify(const struct pkid_jws *j, EVP_PKEY *key, struct pkid_err *e)
{
	const EVP_MD *md = NULL;
	EVP_MD_CTX *ctx = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	uint8_t *der = NULL;
	const uint8_t *sp = j->sig.p;
	size_t slen = j->sig.len, half = 0;
	int base = EVP_PKEY_get_base_id(key), dlen, ok;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (strcmp(j->alg, "ES256") == 0 && base == EVP_PKEY_EC &&
	    EVP_PKEY_get_bits(key) == 256) {
		md = EVP_sha256();
		half = 32;
	} else if (strcmp(j->alg, "ES384") == 0 && base == EVP_PKEY_EC &&
	    EVP_PKEY_get_bits(key) == 384) {
		md = EVP_sha384();
		half = 48;
	} else if (strcmp(j->alg, "RS256") == 0 && base == EVP_PKEY_RSA) {
		md = EVP_sha256();
	} else if (strcmp(j->alg, "EdDSA") == 0 && base == EVP_PKEY_ED25519) {
		md = NULL;
	} else {
		return PKID_ERR(e, PKID_E_ACME_MALFORMED, "alg %s does not "
		    "fit the account's key", j->alg);
	}
	if (half > 0) {
		/* JWS ECDSA signatures are r || s (RFC 7518 3.4). */
		PKID_CHECK(slen == 2 * half, PKID_E_ACME_UNAUTHORIZED,
		    "%s signature of %zu bytes, not %zu", j->alg, slen,
		    2 * half);
		PKID_CHECK((es = ECDSA_SIG_new()) != NULL &&
		    (r = BN_bin2bn(sp, (int)half, NULL)) != NULL &&
		    (s = BN_bin2bn(sp + half, (int)half, NULL)) != NULL &&
		    ECDSA_SIG_set0(es, r, s) == 1, PKID_E_NOMEM, "no memory");
		r = s = NULL;
		PKID_CHECK((dlen = i2d_ECDSA_SIG(es, &der)) > 0, PKID_E_NOMEM,
		    "no memory");
		sp = der;
		slen = (size_t)dlen;
	}
	PKID_CHECK((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1,
	    PKID_E_CRYPTO, "cannot verify with the account's key");
	ok = EVP_DigestVerify(ctx, sp, slen, j->input.p, j->input.len);
	PKID_CHECK(ok == 1, PKID_E_ACME_UNAUTHORIZED, "the JWS signature "
	    "(%s) does not verify with the account's key", j->alg);
	rc = PKID_OK;
out:
	EVP_MD_CTX_free(ctx);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	OPENSSL_free(der);
	return rc;
}
