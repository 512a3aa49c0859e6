/*
 * cfg_trust.c - the [trust] section of pkid.conf.
 *
 * [trust]
 * extra_anchors =   PEM file of CA certificates the signed trust bundle
 *                   (/trust/bundle.p7b) carries beside the CA's own roots
 *                   (a path relative to the CA directory, or absolute)
 */
#include <stdio.h>
#include <string.h>

#include "core/cfg_int.h"

enum pkid_code
pkid_cfg_trust_set(struct pkid_config *c, const char *k, const char *v,
    struct pkid_err *e)
{
	if (strcmp(k, "extra_anchors") == 0) {
		if (strlen(v) >= sizeof(c->trust_extra_anchors))
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "value "
			    "longer than %zu characters",
			    sizeof(c->trust_extra_anchors) - 1);
		snprintf(c->trust_extra_anchors,
		    sizeof(c->trust_extra_anchors), "%s", v);
		return PKID_OK;
	}
	return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY, "unknown key '%s' in "
	    "[trust] (known: extra_anchors)", k);
}

enum pkid_code
pkid_cfg_trust_write(const struct pkid_config *c, struct pkid_buf *b,
    struct pkid_err *e)
{
	return pkid_buf_printf(b, e, "\n[trust]\n; CA certificates the signed "
	    "trust bundle carries beside this CA's roots\nextra_anchors = "
	    "%s\n", c->trust_extra_anchors);
}
