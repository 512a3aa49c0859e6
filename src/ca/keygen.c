/*
 * keygen.c - key generation by name, and DN text parsing.
 */
#include <string.h>

#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include "ca/ca.h"
#include "core/clock.h"
#include "core/limits.h"

enum pkid_code
pkid_key_generate(const char *type, EVP_PKEY **out, struct pkid_err *e)
{
	int64_t bits;

	*out = NULL;
	if (strcmp(type, "ec-p256") == 0)
		*out = EVP_EC_gen("P-256");
	else if (strcmp(type, "ec-p384") == 0)
		*out = EVP_EC_gen("P-384");
	else if (strcmp(type, "ec-p521") == 0)
		*out = EVP_EC_gen("P-521");
	else if (strcmp(type, "ed25519") == 0)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (strncmp(type, "rsa-", 4) == 0 &&
	    pkid_parse_int(type + 4, 2048, 8192, &bits, NULL) == PKID_OK)
		*out = EVP_RSA_gen((unsigned)bits);
	else
		return PKID_ERR(e, PKID_E_USAGE, "unknown key type '%s' "
		    "(use ec-p256, ec-p384, ec-p521, ed25519, rsa-2048, "
		    "rsa-3072 or rsa-4096)", type);
	if (*out == NULL)
		return PKID_ERR(e, PKID_E_CRYPTO, "generating a %s key failed",
		    type);
	return PKID_OK;
}

/* Add one "KEY=VALUE" to name. */
static enum pkid_code
add_rdn(X509_NAME *name, char *kv, struct pkid_err *e)
{
	char *eq = strchr(kv, '=');

	while (*kv == ' ')
		kv++;
	if (eq == NULL || eq == kv || eq[1] == '\0')
		return PKID_ERR(e, PKID_E_SUBJECT_INVALID,
		    "'%s' is not ATTRIBUTE=value", kv);
	*eq = '\0';
	if (OBJ_txt2nid(kv) == NID_undef)
		return PKID_ERR(e, PKID_E_SUBJECT_INVALID,
		    "unknown attribute '%s' (use CN, O, OU, C, L, ST, ...)", kv);
	if (!X509_NAME_add_entry_by_txt(name, kv, MBSTRING_UTF8,
	    (unsigned char *)eq + 1, -1, -1, 0))
		return PKID_ERR(e, PKID_E_SUBJECT_INVALID,
		    "value of %s is not valid (too long for the attribute?)",
		    kv);
	return PKID_OK;
}

enum pkid_code
pkid_name_parse(const char *text, X509_NAME **out, struct pkid_err *e)
{
	char buf[PKID_MAX_SUBJECT_TEXT + 1], *p, *tok;
	X509_NAME *name = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	char sep = ',';

	*out = NULL;
	PKID_CHECK(strlen(text) <= PKID_MAX_SUBJECT_TEXT,
	    PKID_E_SUBJECT_INVALID, "subject longer than %d characters",
	    PKID_MAX_SUBJECT_TEXT);
	snprintf(buf, sizeof(buf), "%s", text);
	p = buf;
	if (*p == '/') {
		sep = '/';
		p++;
	}
	PKID_OSSL_PTR(name = X509_NAME_new(), PKID_E_NOMEM, "no memory");
	/* Split on sep, honouring "\," escapes. */
	for (tok = p; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			memmove(p, p + 1, strlen(p));
			continue;
		}
		if (*p == sep) {
			*p = '\0';
			PKID_TRY(add_rdn(name, tok, e));
			tok = p + 1;
		}
	}
	if (*tok != '\0')
		PKID_TRY(add_rdn(name, tok, e));
	*out = name;
	name = NULL;
	rc = PKID_OK;
out:
	X509_NAME_free(name);
	return rc;
}
