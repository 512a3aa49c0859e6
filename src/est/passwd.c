/*
 * passwd.c - PBKDF2-HMAC-SHA256 and scrypt password hashes (OpenSSL's
 * KDFs), compared with CRYPTO_memcmp.
 */
#include "est/passwd.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/limits.h"

#define SALT_LEN 16
#define HASH_LEN 32
/* Bounds on stored cost parameters, so a planted hash cannot stall us. */
#define PBKDF2_MIN_ITER 1000
#define PBKDF2_MAX_ITER 10000000
#define SCRYPT_MAX_LN 20
#define SCRYPT_MAX_R 32
#define SCRYPT_MAX_P 16
#define SCRYPT_MAXMEM (1200ULL * 1024 * 1024)

/* The fields of a stored hash, split at '$'. */
struct parsed {
	char scheme[16];	/* "pbkdf2-sha256" or "scrypt" */
	char params[64];	/* iterations, or ln=..,r=..,p=.. */
	struct pkid_buf salt;	/* decoded salt */
	struct pkid_buf hash;	/* decoded hash */
};

static enum pkid_code
b64_field(const char *s, size_t n, struct pkid_buf *out, struct pkid_err *e)
{
	return pkid_base64_decode(s, n, out, 256, e);
}

/* Split "$a$b$c$d" into its four fields. */
static enum pkid_code
parse_stored(const char *stored, struct parsed *p, struct pkid_err *e)
{
	const char *f[4];
	size_t n[4];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(stored[0] == '$', PKID_E_CONFIG_BAD_VALUE,
	    "stored password hash does not start with '$'");
	f[0] = stored + 1;
	for (i = 1; i < 4; i++) {
		f[i] = strchr(f[i - 1], '$');
		PKID_CHECK(f[i] != NULL, PKID_E_CONFIG_BAD_VALUE,
		    "stored password hash has fewer than 4 fields");
		n[i - 1] = (size_t)(f[i] - f[i - 1]);
		f[i]++;
	}
	PKID_CHECK(strchr(f[3], '$') == NULL, PKID_E_CONFIG_BAD_VALUE,
	    "stored password hash has more than 4 fields");
	n[3] = strlen(f[3]);
	PKID_CHECK(n[0] < sizeof(p->scheme) && n[1] < sizeof(p->params),
	    PKID_E_CONFIG_BAD_VALUE, "stored password hash fields too long");
	memcpy(p->scheme, f[0], n[0]);
	p->scheme[n[0]] = '\0';
	memcpy(p->params, f[1], n[1]);
	p->params[n[1]] = '\0';
	PKID_TRY(b64_field(f[2], n[2], &p->salt, e));
	PKID_TRY(b64_field(f[3], n[3], &p->hash, e));
	rc = PKID_OK;
out:
	return rc;
}

/* "ln=15,r=8,p=1" with each within its bound. */
static enum pkid_code
scrypt_params(const char *s, int64_t *ln, int64_t *r, int64_t *p,
    struct pkid_err *e)
{
	char tmp[64], *tok, *save = NULL;
	int seen = 0;

	snprintf(tmp, sizeof(tmp), "%s", s);
	for (tok = strtok_r(tmp, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strncmp(tok, "ln=", 3) == 0 && pkid_parse_int(tok + 3, 1,
		    SCRYPT_MAX_LN, ln, e) == PKID_OK)
			seen |= 1;
		else if (strncmp(tok, "r=", 2) == 0 && pkid_parse_int(tok + 2,
		    1, SCRYPT_MAX_R, r, e) == PKID_OK)
			seen |= 2;
		else if (strncmp(tok, "p=", 2) == 0 && pkid_parse_int(tok + 2,
		    1, SCRYPT_MAX_P, p, e) == PKID_OK)
			seen |= 4;
		else
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "scrypt "
			    "parameter '%s' unknown or out of bounds", tok);
	}
	if (seen != 7)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
		    "scrypt hash lacks ln, r or p");
	return PKID_OK;
}

static enum pkid_code
derive(const struct parsed *p, const char *pw, uint8_t *dk, size_t dklen,
    struct pkid_err *e)
{
	int64_t iter, ln, r, par;

	if (strcmp(p->scheme, "pbkdf2-sha256") == 0) {
		if (pkid_parse_int(p->params, PBKDF2_MIN_ITER,
		    PBKDF2_MAX_ITER, &iter, e) != PKID_OK)
			return e->code;
		if (PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), p->salt.p,
		    (int)p->salt.len, (int)iter, EVP_sha256(), (int)dklen,
		    dk) != 1)
			return PKID_ERR(e, PKID_E_CRYPTO, "PBKDF2 failed");
		return PKID_OK;
	}
	if (strcmp(p->scheme, "scrypt") == 0) {
		if (scrypt_params(p->params, &ln, &r, &par, e) != PKID_OK)
			return e->code;
		if (EVP_PBE_scrypt(pw, strlen(pw), p->salt.p, p->salt.len,
		    (uint64_t)1 << ln, (uint64_t)r, (uint64_t)par,
		    SCRYPT_MAXMEM, dk, dklen) != 1)
			return PKID_ERR(e, PKID_E_CRYPTO, "scrypt failed");
		return PKID_OK;
	}
	return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "password hash scheme "
	    "'%s' unknown (known: pbkdf2-sha256, scrypt)", p->scheme);
}

enum pkid_code
pkid_passwd_verify(const char *pw, const char *stored, struct pkid_err *e)
{
	struct parsed p;
	uint8_t dk[64];
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&p, 0, sizeof(p));
	PKID_TRY(parse_stored(stored, &p, e));
	PKID_CHECK(p.hash.len >= 16 && p.hash.len <= sizeof(dk),
	    PKID_E_CONFIG_BAD_VALUE, "stored password hash of %zu bytes",
	    p.hash.len);
	PKID_TRY(derive(&p, pw, dk, p.hash.len, e));
	PKID_CHECK(CRYPTO_memcmp(dk, p.hash.p, p.hash.len) == 0,
	    PKID_E_AUTH_FAILED, "wrong password");
	rc = PKID_OK;
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	pkid_buf_free(&p.salt);
	pkid_buf_free(&p.hash);
	return rc;
}

/* "$pbkdf2-sha256$ITER$salt$hash" of the base64 of salt and dk. */
static enum pkid_code
format_hash(const uint8_t *salt, const uint8_t *dk, char *out, size_t len,
    struct pkid_err *e)
{
	struct pkid_buf s, h;
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&s, 0, sizeof(s));
	memset(&h, 0, sizeof(h));
	PKID_TRY(pkid_base64_encode(salt, SALT_LEN, 0, &s, e));
	PKID_TRY(pkid_base64_encode(dk, HASH_LEN, 0, &h, e));
	n = snprintf(out, len, "$pbkdf2-sha256$%d$%s$%s",
	    PKID_PASSWD_PBKDF2_ITER, (const char *)s.p, (const char *)h.p);
	PKID_CHECK(n > 0 && (size_t)n < len, PKID_E_TOO_LARGE,
	    "password hash does not fit in %zu bytes", len);
	rc = PKID_OK;
out:
	pkid_buf_free(&s);
	pkid_buf_free(&h);
	return rc;
}

enum pkid_code
pkid_passwd_dummy(char *out, size_t len, struct pkid_err *e)
{
	uint8_t salt[SALT_LEN], dk[HASH_LEN];
	enum pkid_code rc = PKID_E_INTERNAL;

	/* Random bytes in place of a derived key: verifying against it
	 * costs what a real hash costs and matches no password. */
	PKID_OSSL(RAND_bytes(salt, sizeof(salt)), PKID_E_CRYPTO,
	    "no random salt");
	PKID_OSSL(RAND_bytes(dk, sizeof(dk)), PKID_E_CRYPTO,
	    "no random bytes");
	PKID_TRY(format_hash(salt, dk, out, len, e));
	rc = PKID_OK;
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	return rc;
}

enum pkid_code
pkid_passwd_hash(const char *pw, char *out, size_t len, struct pkid_err *e)
{
	uint8_t salt[SALT_LEN], dk[HASH_LEN];
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(strlen(pw) <= PKID_MAX_EST_PASSWORD, PKID_E_TOO_LARGE,
	    "password longer than %d bytes", PKID_MAX_EST_PASSWORD);
	PKID_OSSL(RAND_bytes(salt, sizeof(salt)), PKID_E_CRYPTO,
	    "no random salt");
	PKID_OSSL(PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, sizeof(salt),
	    PKID_PASSWD_PBKDF2_ITER, EVP_sha256(), sizeof(dk), dk),
	    PKID_E_CRYPTO, "PBKDF2 failed");
	PKID_TRY(format_hash(salt, dk, out, len, e));
	rc = PKID_OK;
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	return rc;
}

size_t
pkid_passwd_chars(const char *pw)
{
	size_t n = 0;

	/* UTF-8: count every byte but continuation bytes (10xxxxxx). */
	for (; *pw != '\0'; pw++)
		if (((unsigned char)*pw & 0xc0) != 0x80)
			n++;
	return n;
}
