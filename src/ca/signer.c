/*
 * signer.c - in-process signer over one CA key.
 */
#include "ca/signer.h"

#include <stdlib.h>
#include <string.h>

#include "x509/load.h"

struct pkid_signer {
	EVP_PKEY *key;		/* CA private key (owned) */
	X509 *cert;		/* CA certificate (borrowed) */
	const EVP_MD *md;	/* digest, NULL for Ed25519 */
};

static const EVP_MD *
pick_md(EVP_PKEY *key, const char *digest)
{
	if (EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_id(key) == EVP_PKEY_ED448)
		return NULL;
	if (digest != NULL && strcmp(digest, "sha384") == 0)
		return EVP_sha384();
	if (digest != NULL && strcmp(digest, "sha512") == 0)
		return EVP_sha512();
	return EVP_sha256();
}

struct pkid_signer *
pkid_signer_from_key(EVP_PKEY *key, X509 *cert, const char *digest,
    struct pkid_err *e)
{
	struct pkid_signer *s;

	if (cert != NULL && X509_check_private_key(cert, key) != 1) {
		PKID_ERR(e, PKID_E_KEY_MISMATCH,
		    "the CA key does not match the CA certificate");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		PKID_ERR(e, PKID_E_NOMEM, "no memory");
		return NULL;
	}
	EVP_PKEY_up_ref(key);
	s->key = key;
	s->cert = cert;
	s->md = pick_md(key, digest);
	return s;
}

struct pkid_signer *
pkid_signer_open(const char *key_path, X509 *cert, const char *digest,
    struct pkid_err *e)
{
	EVP_PKEY *key = NULL;
	struct pkid_signer *s;

	if (pkid_x509_load_key_file(key_path, &key, e) != PKID_OK)
		return NULL;
	s = pkid_signer_from_key(key, cert, digest, e);
	EVP_PKEY_free(key);
	if (s == NULL)
		pkid_err_ctx(e, "loading %s", key_path);
	return s;
}

void
pkid_signer_free(struct pkid_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->key);
	free(s);
}

enum pkid_code
pkid_signer_sign_cert(struct pkid_signer *s, X509 *tbs, struct pkid_err *e)
{
	if (X509_sign(tbs, s->key, s->md) <= 0)
		return PKID_ERR(e, PKID_E_CRYPTO, "signing the certificate "
		    "failed");
	return PKID_OK;
}

enum pkid_code
pkid_signer_sign_crl(struct pkid_signer *s, X509_CRL *crl, struct pkid_err *e)
{
	if (X509_CRL_sign(crl, s->key, s->md) <= 0)
		return PKID_ERR(e, PKID_E_CRYPTO, "signing the CRL failed");
	return PKID_OK;
}

X509 *
pkid_signer_cert(const struct pkid_signer *s)
{
	return s->cert;
}
