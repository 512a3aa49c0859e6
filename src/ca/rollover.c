/*
 * rollover.c - the dates of a CA generation's succession (rollover.h).
 */
#include "ca/rollover.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "core/clock.h"

int64_t
pkid_rollover_leaf_end(int64_t now, int64_t lifetime, int64_t ca_not_after)
{
	int64_t end = now + lifetime;

	return end < ca_not_after ? end : ca_not_after;
}

int64_t
pkid_rollover_next_not_after(int64_t created, int64_t old_nb, int64_t old_na,
    int64_t issuer_na)
{
	int64_t na = created + (old_na - old_nb);

	return issuer_na > 0 && na > issuer_na ? issuer_na : na;
}

/* A duration in days, "600d" or "7.5d". */
static const char *
days(int64_t s, char *buf, size_t len)
{
	if (s % 86400 == 0)
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
	else
		snprintf(buf, len, "%.1fd", (double)s / 86400.0);
	return buf;
}

enum pkid_code
pkid_rollover_plan(const struct pkid_config *c, int64_t not_before,
    int64_t not_after, struct pkid_rollover_plan *out, struct pkid_err *e)
{
	const struct pkid_profile *p;
	char t1[32], t2[32], t3[32], t4[32], d1[32], d2[32], d3[32];
	int i;

	/* Not a cryptographic failure: no stale OpenSSL error may pass for
	 * the cause of a refusal here. */
	ERR_clear_error();
	memset(out, 0, sizeof(*out));
	out->not_before = not_before;
	out->not_after = not_after;
	out->margin = c->rollover_margin;
	out->renew_pct = PKID_DEFAULT_RENEW_AT;
	for (i = 0; i < c->n_profiles; i++) {
		p = &c->profiles[i];
		if (p->lifetime <= out->leaf_max)
			continue;
		out->leaf_max = p->lifetime;
		out->renew_pct = p->renew_at;
		snprintf(out->leaf_profile, sizeof(out->leaf_profile), "%s",
		    p->name);
	}
	out->needed = out->leaf_max + out->margin;
	out->derived = c->rollover_overlap <= 0;
	out->overlap = out->derived ? out->needed : c->rollover_overlap;
	out->shadow_at = not_after - out->overlap;
	out->activate_at = not_after - out->leaf_max;
	if (out->needed > not_after - not_before)
		return PKID_ERR(e, PKID_E_CA_LIFETIME_SHORT, "the CA generation "
		    "valid %s to %s lives %s; profile %s's lifetime %s plus "
		    "the rollover margin %s need %s", pkid_time_fmt(
		    (time_t)not_before, t1, sizeof(t1)), pkid_time_fmt(
		    (time_t)not_after, t2, sizeof(t2)), days(not_after -
		    not_before, d1, sizeof(d1)), out->leaf_profile,
		    days(out->leaf_max, d2, sizeof(d2)), days(out->margin, d3,
		    sizeof(d3)), days(out->needed, t4, sizeof(t4)));
	if (out->overlap < out->needed)
		return PKID_ERR(e, PKID_E_ROLLOVER_OVERLAP_SHORT, "devices "
		    "renewing from %s (the CA's notAfter %s minus profile "
		    "%s's lifetime %s) need the next CA certificate, so it must "
		    "exist by %s; rollover_overlap = %s makes it only at %s. "
		    "Set rollover_overlap to at least %s, or remove it",
		    pkid_time_fmt((time_t)out->activate_at, t1, sizeof(t1)),
		    pkid_time_fmt((time_t)not_after, t2, sizeof(t2)),
		    out->leaf_profile, days(out->leaf_max, d1, sizeof(d1)),
		    pkid_time_fmt((time_t)(not_after - out->needed), t3,
		    sizeof(t3)), days(out->overlap, d2, sizeof(d2)),
		    pkid_time_fmt((time_t)out->shadow_at, d3, sizeof(d3)),
		    days(out->needed, t4, sizeof(t4)));
	return PKID_OK;
}
