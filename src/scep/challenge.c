/*
 * challenge.c - SCEP challenge passwords (RFC 8894 2.3): a static one per
 * configuration, or one-time ones made by pkictl, kept only as SHA-256.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/clock.h"
#include "scep/scep_int.h"

/* Hex SHA-256 of n bytes. */
static enum pkid_code
hash_hex(const uint8_t *p, size_t n, char out[65], struct pkid_err *e)
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (!EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return PKID_ERR(e, PKID_E_CRYPTO, "SHA-256");
	pkid_hex(md, 32, out);
	return PKID_OK;
}

enum pkid_code
pkid_scep_challenge_new(struct pkid_ca *ca, const char *profile,
    int64_t ttl, char *out, size_t len, char id[PKID_CHALLENGE_ID_LEN + 1],
    struct pkid_err *e)
{
	uint8_t r[16];
	char hash[65];
	enum pkid_code rc = PKID_E_INTERNAL;

	id[0] = '\0';
	if (profile == NULL)
		profile = ca->cfg.scep_profile;
	PKID_CHECK(len >= 2 * sizeof(r) + 1, PKID_E_INTERNAL, "buffer");
	PKID_CHECK(pkid_config_profile(&ca->cfg, profile) != NULL,
	    PKID_E_PROFILE_UNKNOWN, "no profile '%s' in %s", profile,
	    ca->cfg.path);
	PKID_CHECK(ttl > 0, PKID_E_USAGE, "--ttl must be positive");
	PKID_OSSL(RAND_bytes(r, sizeof(r)), PKID_E_CRYPTO, "RAND_bytes");
	pkid_hex(r, sizeof(r), out);
	PKID_TRY(hash_hex((const uint8_t *)out, strlen(out), hash, e));
	PKID_TRY(pkid_store_challenge_add(ca->store, hash, profile,
	    (int64_t)pkid_now() + ttl, e));
	snprintf(id, PKID_CHALLENGE_ID_LEN + 1, "%.*s", PKID_CHALLENGE_ID_LEN,
	    hash);
	rc = PKID_OK;
out:
	OPENSSL_cleanse(r, sizeof(r));
	if (rc != PKID_OK && len > 0)
		out[0] = '\0';
	return rc;
}

/* The challengePassword attribute's bytes (borrowed), or NULL. */
static const ASN1_STRING *
csr_challenge(X509_REQ *csr)
{
	int i = X509_REQ_get_attr_by_NID(csr, NID_pkcs9_challengePassword,
	    -1);
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;

	if (i < 0 || (a = X509_REQ_get_attr(csr, i)) == NULL ||
	    X509_ATTRIBUTE_count(a) != 1 ||
	    (t = X509_ATTRIBUTE_get0_type(a, 0)) == NULL)
		return NULL;
	switch (t->type) {
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_UTF8STRING:
	case V_ASN1_IA5STRING:
	case V_ASN1_T61STRING:
		return t->value.asn1_string;
	default:
		return NULL;
	}
}

enum pkid_code
pkid_scep_challenge_check(struct pkid_scep *s, X509_REQ *csr,
    char *profile, size_t len, char once[65], struct pkid_err *e)
{
	const struct pkid_config *cfg = &s->ca->cfg;
	const ASN1_STRING *c = csr_challenge(csr);
	const uint8_t *p;
	size_t n, sn = strlen(cfg->scep_challenge);
	char hash[65];
	enum pkid_code rc;

	once[0] = '\0';
	snprintf(profile, len, "%s", cfg->scep_profile);
	if (c == NULL)
		return PKID_ERR(e, PKID_E_CHALLENGE_BAD, "RFC 8894 2.3: the "
		    "CSR has no challengePassword attribute");
	p = ASN1_STRING_get0_data(c);
	n = (size_t)ASN1_STRING_length(c);
	if (n == 0 || n > PKID_SCEP_MAX_CHALLENGE)
		return PKID_ERR(e, PKID_E_CHALLENGE_BAD, "challengePassword "
		    "of %zu characters (1..%d)", n, PKID_SCEP_MAX_CHALLENGE);
	/* Constant time over the static secret (STYLE.md 5). */
	if (sn > 0 && n == sn && CRYPTO_memcmp(p, cfg->scep_challenge, n) == 0)
		return PKID_OK;
	if ((rc = hash_hex(p, n, hash, e)) != PKID_OK)
		return rc;
	/* Only looked up: the commit that records the accepted request
	 * marks it used, so a refusal leaves it to a corrected retry. */
	rc = pkid_store_challenge_peek(s->ca->store, hash,
	    (int64_t)pkid_now(), profile, len, e);
	if (rc == PKID_E_CHALLENGE_BAD) {
		pkid_err_clear(e);
		return PKID_ERR(e, PKID_E_CHALLENGE_BAD, "the challenge "
		    "password matches neither the [scep] challenge nor an "
		    "unused, unexpired one-time challenge");
	}
	if (rc != PKID_OK)
		return rc;
	if (profile[0] == '\0')
		snprintf(profile, len, "%s", cfg->scep_profile);
	memcpy(once, hash, sizeof(hash));
	return PKID_OK;
}
