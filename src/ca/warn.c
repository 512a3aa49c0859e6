/*
 * warn.c - the settings in force that weaken security: every one is
 * opt-in, and pkid names each at start, in `pkid --check`, and (later)
 * on the status page (README "Security model").
 */
#include <stdio.h>
#include <string.h>

#include "ca/ca.h"

/* Add one warning if there is room; the count goes on regardless. */
static void
add(struct pkid_warning *w, int max, int *n, enum pkid_code code,
    const char *fmt, const char *a, const char *b)
{
	if (*n < max) {
		w[*n].code = code;
		snprintf(w[*n].text, sizeof(w[*n].text), fmt, a, b);
	}
	(*n)++;
}

static void
profile_warnings(const struct pkid_profile *p, struct pkid_warning *w,
    int max, int *n)
{
	if (p->allow_any_dns)
		add(w, max, n, PKID_E_NAMES_UNRESTRICTED, "profile %s allows "
		    "every DNS name (san_dns_suffixes = *)%s", p->name, "");
	if (p->allow_any_ip)
		add(w, max, n, PKID_E_NAMES_UNRESTRICTED, "profile %s allows "
		    "every IP address (san_ip_ranges = *)%s", p->name, "");
}

/* A protocol that hands out RA certificates to whoever enrolls. */
static void
ra_profile_warning(const struct pkid_config *c, const char *profile,
    const char *who, struct pkid_warning *w, int max, int *n)
{
	const struct pkid_profile *p = pkid_config_profile(c, profile);

	if (p != NULL && (p->eku & PKID_EKU_CMC_RA))
		add(w, max, n, PKID_E_NAMES_UNRESTRICTED, "%s issues under "
		    "profile %s, whose certificates carry id-kp-cmcRA: their "
		    "holders may then ask for any name", who, p->name);
}

static void
label_warnings(const struct pkid_config *c, const struct pkid_est_label *l,
    struct pkid_warning *w, int max, int *n)
{
	const char *name = l->name[0] != '\0' ? l->name : "(default)";
	char who[96];

	snprintf(who, sizeof(who), "EST label %s", name);
	ra_profile_warning(c, l->profile, who, w, max, n);

	if (l->allow_subject_change)
		add(w, max, n, PKID_E_IDENTITY_MISMATCH, "EST label %s lets a "
		    "client certificate ask for any name its profile allows "
		    "(allow_subject_change = yes)%s", name, "");
	if (l->upstream[0] != '\0' &&
	    l->upstream_revocation == PKID_UPSTREAM_REV_OFF)
		add(w, max, n, PKID_E_REVOCATION_UNKNOWN, "EST label %s "
		    "forwards renewals to %s without a revocation check "
		    "(upstream_revocation = off)", name, l->upstream);
}

int
pkid_ca_warnings(const struct pkid_ca *ca, struct pkid_warning *w, int max)
{
	const struct pkid_config *c = &ca->cfg;
	int i, n = 0;

	for (i = 0; i < c->n_profiles; i++)
		profile_warnings(&c->profiles[i], w, max, &n);
	for (i = 0; i < c->n_est; i++)
		label_warnings(c, &c->est[i], w, max, &n);
	ra_profile_warning(c, c->scep_profile, "SCEP", w, max, &n);
	if (c->scep_compat)
		add(w, max, &n, PKID_E_WEAK_ALGORITHM, "SCEP accepts DES3 "
		    "and SHA-1 from old clients ([scep] compat = on)%s%s", "",
		    "");
	return n;
}
