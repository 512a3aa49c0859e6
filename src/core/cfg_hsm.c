/*
 * cfg_hsm.c - the [hsm] section of pkid.conf: the PKCS#11 module that
 * holds CA keys named by pkcs11: URIs (RFC 7512), and where the token's
 * user PIN comes from (src/ca/hsm.c).
 *
 * [hsm]
 * module =   path of the PKCS#11 module (default
 *            /usr/lib/softhsm/libsofthsm2.so, Debian's SoftHSM2)
 * pin_file = file whose first line is the user PIN (mode 0600; an
 *            absolute path)
 * pin_env =  environment variable holding the user PIN
 *
 * The PIN itself is never a value here: a configuration file is read by
 * more people and tools than a secret should be (and "pin" is refused).
 */
#include <stdio.h>
#include <string.h>

#include "core/cfg_int.h"

void
pkid_cfg_hsm_defaults(struct pkid_config *c)
{
	snprintf(c->hsm_module, sizeof(c->hsm_module), "%s",
	    PKID_HSM_DEFAULT_MODULE);
	c->hsm_pin_file[0] = '\0';
	c->hsm_pin_env[0] = '\0';
}

static enum pkid_code
set_str(char *dst, size_t n, const char *v, struct pkid_err *e)
{
	if (strlen(v) >= n)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "value longer than "
		    "%zu characters", n - 1);
	snprintf(dst, n, "%s", v);
	return PKID_OK;
}

enum pkid_code
pkid_cfg_hsm_set(struct pkid_config *c, const char *k, const char *v,
    struct pkid_err *e)
{
	size_t i;

	if (strcmp(k, "module") == 0) {
		if (v[0] != '/')
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[hsm] "
			    "module '%s' is not an absolute path", v);
		return set_str(c->hsm_module, sizeof(c->hsm_module), v, e);
	}
	if (strcmp(k, "pin_file") == 0) {
		/* pkid and pkictl run from any directory. */
		if (v[0] != '\0' && v[0] != '/')
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[hsm] "
			    "pin_file '%s' is not an absolute path", v);
		return set_str(c->hsm_pin_file, sizeof(c->hsm_pin_file), v, e);
	}
	if (strcmp(k, "pin_env") == 0) {
		for (i = 0; v[i] != '\0'; i++)
			if (!(v[i] == '_' || (v[i] >= 'A' && v[i] <= 'Z') ||
			    (v[i] >= 'a' && v[i] <= 'z') ||
			    (i > 0 && v[i] >= '0' && v[i] <= '9')))
				return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
				    "[hsm] pin_env '%s' is not an environment "
				    "variable name", v);
		return set_str(c->hsm_pin_env, sizeof(c->hsm_pin_env), v, e);
	}
	if (strcmp(k, "pin") == 0)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[hsm] takes no "
		    "PIN: name a file (pin_file = PATH, mode 0600) or an "
		    "environment variable (pin_env = NAME) that holds it");
	return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY, "unknown key '%s' in "
	    "[hsm] (known: module, pin_file, pin_env)", k);
}

enum pkid_code
pkid_cfg_hsm_write(const struct pkid_config *c, struct pkid_buf *b,
    struct pkid_err *e)
{
	/* Only a CA that uses an HSM says so. */
	if (strcmp(c->hsm_module, PKID_HSM_DEFAULT_MODULE) == 0 &&
	    c->hsm_pin_file[0] == '\0' && c->hsm_pin_env[0] == '\0')
		return PKID_OK;
	return pkid_buf_printf(b, e, "\n[hsm]\n; PKCS#11 module and where "
	    "its user PIN comes from (never the PIN itself)\nmodule = %s\n"
	    "pin_file = %s\npin_env = %s\n", c->hsm_module, c->hsm_pin_file,
	    c->hsm_pin_env);
}
