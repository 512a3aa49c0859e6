/*
 * cfg_acme.c - the [acme] section of pkid.conf: which profiles pkid's
 * ACME server (RFC 8555, src/acme/) serves, and two TEST-ONLY keys that
 * let clients on one machine pass validation (as Let's Encrypt's test
 * server pebble does).
 *
 * [acme]
 * profiles =          profiles served at /acme/NAME/ ("device, web");
 *                     "" (the default) turns ACME off
 * validation_ports =  TEST ONLY: "http:PORT", the port http-01 is
 *                     validated on instead of 80
 * resolve =           TEST ONLY: "NAME=IP,NAME=IP": addresses used for
 *                     these names instead of DNS when validating
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg_int.h"

void
pkid_cfg_acme_defaults(struct pkid_config *c)
{
	c->acme_profiles[0] = '\0';
	c->acme_http_port = 80;
	c->acme_resolve[0] = '\0';
}

static enum pkid_code
set_ports(struct pkid_config *c, const char *v, struct pkid_err *e)
{
	char *end;
	long port;

	if (strncmp(v, "http:", 5) != 0 || !isdigit((unsigned char)v[5]))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[acme] "
		    "validation_ports is 'http:PORT', not '%s'", v);
	port = strtol(v + 5, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[acme] "
		    "validation_ports: '%s' is not a port 1-65535", v + 5);
	c->acme_http_port = (int)port;
	return PKID_OK;
}

/* "name=1.2.3.4,name=::1": each entry checked, the text kept. */
static enum pkid_code
set_resolve(struct pkid_config *c, const char *v, struct pkid_err *e)
{
	char tmp[sizeof(c->acme_resolve)], *tok, *save = NULL, *eq;
	unsigned char a[16];

	if (strlen(v) >= sizeof(tmp))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[acme] resolve "
		    "longer than %zu characters", sizeof(tmp) - 1);
	snprintf(tmp, sizeof(tmp), "%s", v);
	for (tok = strtok_r(tmp, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		if ((eq = strchr(tok, '=')) == NULL || eq == tok ||
		    (inet_pton(AF_INET, eq + 1, a) != 1 &&
		    inet_pton(AF_INET6, eq + 1, a) != 1))
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[acme] "
			    "resolve is a list of NAME=IP, not '%s'", tok);
	}
	snprintf(c->acme_resolve, sizeof(c->acme_resolve), "%s", v);
	return PKID_OK;
}

enum pkid_code
pkid_cfg_acme_set(struct pkid_config *c, const char *k, const char *v,
    struct pkid_err *e)
{
	if (strcmp(k, "profiles") == 0) {
		if (strlen(v) >= sizeof(c->acme_profiles))
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[acme] "
			    "profiles longer than %zu characters",
			    sizeof(c->acme_profiles) - 1);
		snprintf(c->acme_profiles, sizeof(c->acme_profiles), "%s", v);
		return PKID_OK;
	}
	if (strcmp(k, "validation_ports") == 0)
		return set_ports(c, v, e);
	if (strcmp(k, "resolve") == 0)
		return set_resolve(c, v, e);
	return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY, "unknown key '%s' in "
	    "[acme] (known: profiles, validation_ports, resolve)", k);
}

enum pkid_code
pkid_cfg_acme_write(const struct pkid_config *c, struct pkid_buf *b,
    struct pkid_err *e)
{
	if (c->acme_profiles[0] == '\0' && c->acme_http_port == 80 &&
	    c->acme_resolve[0] == '\0')
		return PKID_OK;
	return pkid_buf_printf(b, e, "\n[acme]\n; profiles served at "
	    "/acme/NAME/ (RFC 8555)\nprofiles = %s\n; TEST ONLY\n"
	    "validation_ports = http:%d\nresolve = %s\n", c->acme_profiles,
	    c->acme_http_port, c->acme_resolve);
}
