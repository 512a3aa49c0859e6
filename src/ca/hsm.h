/*
 * hsm.h - CA keys in a PKCS#11 token (an HSM, SoftHSM2 in tests).
 *
 * A CA generation's key_ref (the store's ca_generation row) is either a
 * path below the CA directory or a pkcs11: URI (RFC 7512) naming a
 * private key object in a token: pkcs11:token=LABEL;object=LABEL[;id=%xx].
 * The module and the source of the user PIN are [hsm] in pkid.conf; the
 * PIN is read from a file or an environment variable, never from the
 * configuration text, and never logged.
 *
 * Keys are used through OpenSSL's PKCS#11 engine (Debian's
 * libengine-pkcs11-openssl, libp11); the token is reached directly
 * (dlopen of the module) only to tell a missing token, a wrong PIN and a
 * missing object apart, and to generate a key inside the token.
 */
#ifndef PKID_CA_HSM_H
#define PKID_CA_HSM_H

#include <stddef.h>

#include <openssl/evp.h>

#include "core/cfg.h"
#include "core/err.h"

/* Longest pkcs11: URI accepted (it must fit a store key_ref). */
#define PKID_HSM_MAX_URI 255
/* Longest PIN, token and object label, id (bytes). */
#define PKID_HSM_MAX_PIN 128
#define PKID_HSM_MAX_LABEL 64
#define PKID_HSM_MAX_ID 64

/* A parsed pkcs11: URI (the attributes pkid uses). */
struct pkid_hsm_uri {
	char token[PKID_HSM_MAX_LABEL + 1];	/* token label */
	char object[PKID_HSM_MAX_LABEL + 1];	/* key label, "" none */
	unsigned char id[PKID_HSM_MAX_ID];	/* CKA_ID */
	size_t id_len;				/* 0: none given */
};

/* 1 when ref is a pkcs11: URI rather than a file path. */
int pkid_hsm_is_uri(const char *ref);
/*
 * Parse a pkcs11: URI: path attributes token (required), object and/or id
 * (one at least), type (must be "private"); percent-escapes decoded.
 * A pin-value or any other query attribute is refused (usage), as are
 * other attributes and over-long values.
 */
enum pkid_code pkid_hsm_uri_parse(const char *s, size_t len,
    struct pkid_hsm_uri *u, struct pkid_err *e);
/* The URI of the same token with object=LABEL (no id) into out. */
enum pkid_code pkid_hsm_uri_with_object(const struct pkid_hsm_uri *u,
    const char *label, char *out, size_t n, struct pkid_err *e);

/*
 * The user PIN from [hsm] pin_env, else pin_file (first line; a file
 * others may read is refused). hsm-pin when neither is set or empty.
 */
enum pkid_code pkid_hsm_pin(const struct pkid_config *cfg, char *pin,
    size_t n, struct pkid_err *e);

/*
 * Check that the token, the PIN and the key object the URI names are
 * there: hsm-module, hsm-token, hsm-pin or hsm-object otherwise.
 */
enum pkid_code pkid_hsm_check(const struct pkid_config *cfg,
    const char *uri, struct pkid_err *e);
/*
 * Make a private key of type (ec-p256, ec-p384, ec-p521, rsa-N) inside
 * the token, labelled as the URI's object, unless one with that label is
 * there already (*created 0 then). Non-extractable, sensitive.
 */
enum pkid_code pkid_hsm_keygen(const struct pkid_config *cfg,
    const char *uri, const char *type, int *created, struct pkid_err *e);
/* The key the URI names, as an EVP_PKEY backed by the token (checked
 * with pkid_hsm_check first). */
enum pkid_code pkid_hsm_load_key(const struct pkid_config *cfg,
    const char *uri, EVP_PKEY **out, struct pkid_err *e);

/* Engine half (hsm_engine.c): load through OpenSSL's pkcs11 engine. */
enum pkid_code pkid_hsm_engine_load(const char *module, const char *pin,
    const char *uri, EVP_PKEY **out, struct pkid_err *e);

/*
 * A CA key by its key_ref: a pkcs11: URI (above), or a path relative to
 * dir (an unencrypted PEM file).
 */
enum pkid_code pkid_ca_key_load(const struct pkid_config *cfg,
    const char *dir, const char *ref, EVP_PKEY **out, struct pkid_err *e);

#endif
