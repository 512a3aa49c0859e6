/*
 * hsm_engine.c - a CA key in a PKCS#11 token as an EVP_PKEY, through
 * OpenSSL's "pkcs11" engine (libp11; Debian: libengine-pkcs11-openssl).
 *
 * The ENGINE API is deprecated in OpenSSL 3 and Debian bookworm ships no
 * PKCS#11 provider, so the engine is used here and only here, with the
 * deprecation warnings silenced for this file. One engine per process,
 * initialised once with the module and the PIN; keys loaded through it
 * sign through the token (X509_sign and friends take them as any key).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include "ca/hsm.h"

#include <pthread.h>
#include <string.h>

#include <openssl/engine.h>
#include <openssl/err.h>

static pthread_mutex_t eng_mu = PTHREAD_MUTEX_INITIALIZER;
static ENGINE *eng;			/* the initialised engine, or NULL */
static char eng_module[1024];		/* the module it was given */

static void
ossl_err(char *buf, size_t n)
{
	unsigned long l = ERR_get_error();

	buf[0] = '\0';
	if (l != 0)
		ERR_error_string_n(l, buf, n);
	ERR_clear_error();
}

static enum pkid_code
engine_get(const char *module, const char *pin, struct pkid_err *e)
{
	char err[256];
	ENGINE *x;

	if (eng != NULL) {
		if (strcmp(eng_module, module) != 0)
			return PKID_ERR(e, PKID_E_HSM_ENGINE, "one PKCS#11 "
			    "module per process (%s is in use, not %s)",
			    eng_module, module);
		return PKID_OK;
	}
	ENGINE_load_builtin_engines();
	if ((x = ENGINE_by_id("pkcs11")) == NULL) {
		ossl_err(err, sizeof(err));
		return PKID_ERR(e, PKID_E_HSM_ENGINE, "OpenSSL's pkcs11 engine "
		    "is not installed (%s)", err);
	}
	if (!ENGINE_ctrl_cmd_string(x, "MODULE_PATH", module, 0) ||
	    !ENGINE_init(x)) {
		ossl_err(err, sizeof(err));
		ENGINE_free(x);
		return PKID_ERR(e, PKID_E_HSM_ENGINE, "the pkcs11 engine does "
		    "not start with %s (%s)", module, err);
	}
	/* ENGINE_init took a functional reference. */
	ENGINE_free(x);
	if (!ENGINE_ctrl_cmd_string(x, "PIN", pin, 0)) {
		ossl_err(err, sizeof(err));
		ENGINE_finish(x);
		return PKID_ERR(e, PKID_E_HSM_ENGINE, "the pkcs11 engine takes "
		    "no PIN (%s)", err);
	}
	eng = x;
	snprintf(eng_module, sizeof(eng_module), "%s", module);
	return PKID_OK;
}

enum pkid_code
pkid_hsm_engine_load(const char *module, const char *pin, const char *uri,
    EVP_PKEY **out, struct pkid_err *e)
{
	char err[256];
	enum pkid_code rc;

	*out = NULL;
	pthread_mutex_lock(&eng_mu);
	if ((rc = engine_get(module, pin, e)) == PKID_OK &&
	    (*out = ENGINE_load_private_key(eng, uri, NULL, NULL)) == NULL) {
		ossl_err(err, sizeof(err));
		rc = PKID_ERR(e, PKID_E_HSM_ENGINE, "the pkcs11 engine does "
		    "not load %s (%s)", uri, err);
	}
	pthread_mutex_unlock(&eng_mu);
	return rc;
}
