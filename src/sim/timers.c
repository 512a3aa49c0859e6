/*
 * timers.c - the simulator's timer sets: the "ios" and "pkid" presets,
 * and INI files of the same parameters (sim.h).
 */
#include "sim/sim.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/limits.h"

/* Virtual day one of both presets, so their dates read the same. */
#define SIM_START "2025-01-01T00:00:00Z"

/* What both presets share: the field failure's CA and devices. */
static void
common(struct pkid_sim_timers *t)
{
	time_t start = 0;

	memset(t, 0, sizeof(*t));
	(void)pkid_time_parse(SIM_START, &start, NULL);
	t->start = (int64_t)start;
	t->ca_life = 1825 * 86400;
	t->margin = PKID_DEFAULT_ROLLOVER_MARGIN_S;
	t->leaf_life = 600 * 86400;
	t->renew_pct = 70;
	t->server_per_min = 80;
	t->enroll_period = 365 * 86400;
}

/*
 * IOS's CA server with auto-rollover and its clients: a 30-day overlap,
 * the next CA active at the current one's expiry, renewal at 70% without
 * jitter, GetNextCACert from 180 days before the CA expires (30% of 600
 * days: every renewal from there would be cut short), and the trustpoint's
 * "enrollment retry period" (default 1 minute) after every failure, with
 * no limit on the count.
 */
static void
preset_ios(struct pkid_sim_timers *t)
{
	common(t);
	snprintf(t->name, sizeof(t->name), "ios");
	t->overlap = 30 * 86400;
	t->activate_at_end = 1;
	t->ask_before = 180 * 86400;
	t->retry_base = 60;
	t->retry_max = 60;
}

/*
 * pkid: the overlap and the activation derived (rollover.h), renewal at
 * renew_at plus up to 10% of the rest of the lifetime, GetNextCACert only
 * when a new certificate would outlive the CA, and exponential backoff
 * with jitter from 1 minute to 6 hours on a 404 or a 503.
 */
static void
preset_pkid(struct pkid_sim_timers *t)
{
	common(t);
	snprintf(t->name, sizeof(t->name), "pkid");
	t->renew_jitter_pct = 10;
	t->retry_backoff = 1;
	t->retry_base = 60;
	t->retry_max = 6 * 3600;
}

enum pkid_code
pkid_sim_timers_preset(const char *name, struct pkid_sim_timers *t,
    struct pkid_err *e)
{
	if (strcmp(name, "ios") == 0)
		preset_ios(t);
	else if (strcmp(name, "pkid") == 0)
		preset_pkid(t);
	else
		return PKID_ERR(e, PKID_E_USAGE, "no timer set '%s' (ios, "
		    "pkid, or an INI file)", name);
	return PKID_OK;
}

/* "70%" or "70" into *out, lo..hi percent. */
static enum pkid_code
percent(const char *k, const char *v, int lo, int hi, int *out,
    struct pkid_err *e)
{
	char num[16];
	size_t n = strlen(v);
	int64_t x;

	if (n > 0 && v[n - 1] == '%')
		n--;
	if (n == 0 || n >= sizeof(num))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s is a "
		    "percentage (%d%%..%d%%), not '%s'", k, lo, hi, v);
	memcpy(num, v, n);
	num[n] = '\0';
	if (pkid_parse_int(num, lo, hi, &x, NULL) != PKID_OK)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s is a "
		    "percentage (%d%%..%d%%), not '%s'", k, lo, hi, v);
	*out = (int)x;
	return PKID_OK;
}

/* A duration, or the word alt (then 0). */
static enum pkid_code
duration_or(const char *v, const char *alt, int64_t *out,
    struct pkid_err *e)
{
	if (alt != NULL && strcmp(v, alt) == 0) {
		*out = 0;
		return PKID_OK;
	}
	return pkid_duration_parse(v, out, e);
}

/* One of two words: 0 for w0, 1 for w1. */
static enum pkid_code
choice(const char *k, const char *v, const char *w0, const char *w1,
    int *out, struct pkid_err *e)
{
	if (strcmp(v, w0) == 0 || strcmp(v, w1) == 0) {
		*out = strcmp(v, w1) == 0;
		return PKID_OK;
	}
	return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s is %s or %s, not "
	    "'%s'", k, w0, w1, v);
}

/* How a key's value is read. */
enum key_type {
	K_NAME,		/* text, into name */
	K_TIME,		/* RFC 3339 date, int64_t epoch seconds */
	K_DURATION,	/* "600d", int64_t seconds */
	K_DURATION_OR,	/* the same, or the word w0 for 0 */
	K_PERCENT,	/* "70%", int in lo..hi */
	K_CHOICE,	/* the word w0 (0) or w1 (1), int */
	K_COUNT,	/* a number >= 1, int */
};

/* The keys of [timers]. */
static const struct key {
	const char *name;	/* the key */
	enum key_type type;	/* its value's form */
	size_t off;		/* its field in pkid_sim_timers */
	const char *w0, *w1;	/* the words of K_DURATION_OR, K_CHOICE */
	int lo, hi;		/* the range of K_PERCENT */
} keys[] = {
#define F(f) offsetof(struct pkid_sim_timers, f)
	{ "name", K_NAME, F(name), NULL, NULL, 0, 0 },
	{ "start", K_TIME, F(start), NULL, NULL, 0, 0 },
	{ "ca_lifetime", K_DURATION, F(ca_life), NULL, NULL, 0, 0 },
	{ "overlap", K_DURATION_OR, F(overlap), "derived", NULL, 0, 0 },
	{ "margin", K_DURATION, F(margin), NULL, NULL, 0, 0 },
	{ "activate", K_CHOICE, F(activate_at_end), "derived", "expiry", 0,
	    0 },
	{ "leaf_lifetime", K_DURATION, F(leaf_life), NULL, NULL, 0, 0 },
	{ "renew_at", K_PERCENT, F(renew_pct), NULL, NULL, 1, 99 },
	{ "renew_jitter", K_PERCENT, F(renew_jitter_pct), NULL, NULL, 0,
	    100 },
	{ "ask_next_ca", K_DURATION_OR, F(ask_before), "outlive", NULL, 0,
	    0 },
	{ "retry", K_CHOICE, F(retry_backoff), "fixed", "backoff", 0, 0 },
	{ "retry_base", K_DURATION, F(retry_base), NULL, NULL, 0, 0 },
	{ "retry_max", K_DURATION, F(retry_max), NULL, NULL, 0, 0 },
	{ "server_per_min", K_COUNT, F(server_per_min), NULL, NULL, 0, 0 },
	{ "enroll_period", K_DURATION, F(enroll_period), NULL, NULL, 0, 0 },
#undef F
};

/* v into the field at p, read as k says. */
static enum pkid_code
set_value(const struct key *k, void *p, const char *v, struct pkid_err *e)
{
	time_t ts;
	int64_t n;

	switch (k->type) {
	case K_NAME:
		snprintf(p, sizeof(((struct pkid_sim_timers *)0)->name), "%s",
		    v);
		return PKID_OK;
	case K_TIME:
		if (pkid_time_parse(v, &ts, e) != PKID_OK)
			return e->code;
		*(int64_t *)p = (int64_t)ts;
		return PKID_OK;
	case K_DURATION:
		return pkid_duration_parse(v, p, e);
	case K_DURATION_OR:
		return duration_or(v, k->w0, p, e);
	case K_PERCENT:
		return percent(k->name, v, k->lo, k->hi, p, e);
	case K_CHOICE:
		return choice(k->name, v, k->w0, k->w1, p, e);
	case K_COUNT:
		if (pkid_parse_int(v, 1, 1000000000, &n, e) != PKID_OK)
			return e->code;
		*(int *)p = (int)n;
		return PKID_OK;
	default:
		return PKID_ERR(e, PKID_E_INTERNAL, "key type %d", k->type);
	}
}

static enum pkid_code
set_key(struct pkid_sim_timers *t, const char *k, const char *v,
    struct pkid_err *e)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(k, keys[i].name) == 0)
			return set_value(&keys[i], (char *)t + keys[i].off, v,
			    e);
	return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY, "unknown key '%s' in "
	    "[timers] (known: name, start, ca_lifetime, overlap, margin, "
	    "activate, leaf_lifetime, renew_at, renew_jitter, ask_next_ca, "
	    "retry, retry_base, retry_max, server_per_min, enroll_period)", k);
}

/* What the parser carries between lines. */
struct parse_ctx {
	struct pkid_sim_timers *t;	/* being filled */
	struct pkid_err err;		/* the first failure */
};

static int
ini_cb(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *pc = user;

	if (pc->err.code != PKID_OK)
		return 0;
	if (strcmp(section, "timers") != 0)
		return PKID_ERR(&pc->err, PKID_E_CONFIG_UNKNOWN_KEY, "key '%s' "
		    "outside [timers]", name), 0;
	return set_key(pc->t, name, value, &pc->err) == PKID_OK;
}

/* Timers that cannot run: a usage error naming the key. */
static enum pkid_code
check(const char *name, const struct pkid_sim_timers *t, struct pkid_err *e)
{
	if (t->ca_life < 86400 || t->leaf_life < 60)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s: ca_lifetime "
		    "is at least 1d and leaf_lifetime at least 1m", name);
	if (t->overlap >= t->ca_life)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s: overlap "
		    "must be shorter than ca_lifetime", name);
	if (t->retry_base < 1 || t->retry_max < t->retry_base)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s: retry_base "
		    "is at least 1s and retry_max at least retry_base", name);
	if (t->enroll_period < 1)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s: "
		    "enroll_period is at least 1s", name);
	return PKID_OK;
}

enum pkid_code
pkid_sim_timers_parse(const char *name, const char *text,
    struct pkid_sim_timers *t, struct pkid_err *e)
{
	struct parse_ctx pc;
	int r;

	preset_pkid(t);
	snprintf(t->name, sizeof(t->name), "%s", name);
	memset(&pc, 0, sizeof(pc));
	pc.t = t;
	pkid_err_clear(&pc.err);
	r = ini_parse_string(text, ini_cb, &pc);
	if (r < 0)
		return PKID_ERR(e, PKID_E_NOMEM, "%s: no memory", name);
	if (r > 0 && pc.err.code == PKID_OK)
		return PKID_ERR(e, PKID_E_CONFIG_SYNTAX, "%s:%d: not a "
		    "[section] or key = value line", name, r);
	if (r > 0)
		return PKID_ERR(e, pc.err.code, "%s:%d: %s", name, r,
		    pc.err.detail);
	return check(name, t, e);
}

enum pkid_code
pkid_sim_timers_load(const char *path, struct pkid_sim_timers *t,
    struct pkid_err *e)
{
	struct pkid_buf b;
	enum pkid_code rc;

	if ((rc = pkid_buf_read_file(&b, path, PKID_MAX_CONFIG_SIZE, e)) !=
	    PKID_OK)
		return rc;
	if (strlen((const char *)b.p) != b.len)
		rc = PKID_ERR(e, PKID_E_CONFIG_SYNTAX, "%s: NUL byte", path);
	else
		rc = pkid_sim_timers_parse(path, (const char *)b.p, t, e);
	pkid_buf_free(&b);
	return rc;
}
