/*
 * passwd.h - password hashes for EST HTTP Basic users, through OpenSSL's
 * KDFs. Stored text:
 *
 *   $pbkdf2-sha256$ITERATIONS$SALT$HASH      (PKCS5_PBKDF2_HMAC, SHA-256)
 *   $scrypt$ln=LOG2N,r=R,p=P$SALT$HASH       (EVP_PBE_scrypt)
 *
 * SALT and HASH are base64 without line breaks.
 */
#ifndef PKID_EST_PASSWD_H
#define PKID_EST_PASSWD_H

#include <stddef.h>

#include "core/err.h"

/* PBKDF2 iterations of new hashes (OWASP 2023 for HMAC-SHA256). */
#define PKID_PASSWD_PBKDF2_ITER 600000

/*
 * Hash pw with a fresh random salt into out (at least
 * PKID_MAX_PASSWORD_HASH bytes). Errors: crypto-failed, too-large.
 */
enum pkid_code pkid_passwd_hash(const char *pw, char *out, size_t len,
    struct pkid_err *e);
/*
 * A hash in the format of pkid_passwd_hash (same KDF, same cost) that no
 * password matches: random bytes stand for the derived key. Checking a
 * password of an unknown user against it costs what a known user's
 * costs, so the answer's timing does not tell which user names exist.
 * Errors: crypto-failed, too-large.
 */
enum pkid_code pkid_passwd_dummy(char *out, size_t len, struct pkid_err *e);
/* Characters of a UTF-8 password (bytes that start a character). */
size_t pkid_passwd_chars(const char *pw);
/*
 * Check pw against stored. PKID_OK when it matches, auth-failed when not,
 * config-bad-value when stored is not a hash this version reads (bounded
 * cost parameters). Compared in constant time.
 */
enum pkid_code pkid_passwd_verify(const char *pw, const char *stored,
    struct pkid_err *e);

#endif
