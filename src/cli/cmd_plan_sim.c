/*
 * cmd_plan_sim.c - pkictl ca plan --simulate: a fleet over virtual years
 * (src/sim/sim.h), what it measured as text or JSON.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "sim/sim.h"

/* n with thousands separators: "16,012,345". */
static const char *
num(uint64_t n, char *buf, size_t len)
{
	char raw[32];
	size_t i, k = 0, digits;

	snprintf(raw, sizeof(raw), "%" PRIu64, n);
	digits = strlen(raw);
	for (i = 0; i < digits && k + 2 < len; i++) {
		if (i > 0 && (digits - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = raw[i];
	}
	buf[k] = '\0';
	return buf;
}

static const char *
when(int64_t t, char *buf, size_t len)
{
	if (t == 0)
		return snprintf(buf, len, "-"), buf;
	return pkid_time_fmt((time_t)t, buf, len);
}

static void
print_timers(const struct pkid_sim_timers *t, const struct pkictl_sim_args *a)
{
	char d1[32], d2[32], d3[32];

	printf("fleet simulation: timers %s, %u devices, %d years (of 365 "
	    "days) from %.10s, seed %" PRIu64 "\n", t->name, a->devices,
	    a->years, when(t->start, d1, sizeof(d1)), a->seed);
	printf("  CA generations of %s; the next one made %s before the "
	    "current one ends (%s), issuing from %s\n", pkid_duration_fmt(
	    t->ca_life, d1, sizeof(d1)), t->overlap > 0 ? pkid_duration_fmt(
	    t->overlap, d2, sizeof(d2)) : "L + M", t->overlap > 0 ?
	    "configured" : "derived", t->activate_at_end ? "its end" :
	    "notAfter - L");
	printf("  device certificates of %s, renewed at %d%% of their life "
	    "plus up to %d%% of the rest\n", pkid_duration_fmt(t->leaf_life,
	    d1, sizeof(d1)), t->renew_pct, t->renew_jitter_pct);
	if (t->ask_before > 0)
		printf("  GetNextCACert: at a renewal within %s of the CA's "
		    "end", pkid_duration_fmt(t->ask_before, d1, sizeof(d1)));
	else
		printf("  GetNextCACert: at a renewal whose new certificate "
		    "would outlive the CA");
	if (t->retry_backoff)
		printf("; retries back off exponentially with jitter, %s to "
		    "%s\n", pkid_duration_fmt(t->retry_base, d2, sizeof(d2)),
		    pkid_duration_fmt(t->retry_max, d3, sizeof(d3)));
	else
		printf("; retries every %s\n", pkid_duration_fmt(
		    t->retry_base, d2, sizeof(d2)));
	printf("  the server answers %d requests per minute; devices enroll "
	    "over the first %s\n", t->server_per_min, pkid_duration_fmt(
	    t->enroll_period, d1, sizeof(d1)));
}

static void
print_gens(const struct pkid_sim_result *r)
{
	const struct pkid_sim_gen *g;
	char d1[32], d2[32], d3[32], d4[32];
	int i;

	if (r->verdict != PKID_OK)
		printf("  pkid would refuse these timers: %s\n",
		    pkid_err_id(r->verdict));
	printf("generations\n");
	for (i = 0; i < r->n_gens; i++) {
		g = &r->gens[i];
		printf("  gen %d  %.10s .. %.10s  issues from %.10s; next made "
		    "%.10s\n", i + 1, when(g->not_before, d1, sizeof(d1)),
		    when(g->not_after, d2, sizeof(d2)), when(g->active_from, d3,
		    sizeof(d3)), when(g->shadow_at, d4, sizeof(d4)));
	}
}

static void
row(const char *what, uint64_t n, const char *extra)
{
	char b[32];

	printf("  %-40s %15s%s%s\n", what, num(n, b, sizeof(b)),
	    extra[0] != '\0' ? "  " : "", extra);
}

static void
print_results(const struct pkid_sim_timers *t, const struct pkid_sim_result *r,
    uint64_t ms)
{
	char x[160], d1[32], d2[32], lbl[64];

	printf("results\n");
	snprintf(x, sizeof(x), "first %s, last %s", when(r->first_404, d1,
	    sizeof(d1)), when(r->last_404, d2, sizeof(d2)));
	row("GetNextCACert answered 404", r->nextca_404, r->nextca_404 > 0 ?
	    x : "");
	snprintf(x, sizeof(x), "last %s", when(r->last_ok, d1, sizeof(d1)));
	row("GetNextCACert answered 200", r->nextca_ok, r->nextca_ok > 0 ?
	    x : "");
	snprintf(x, sizeof(x), "in the minute from %s", when(r->peak_minute,
	    d1, sizeof(d1)));
	row("peak requests in one minute", r->peak, x);
	row("peak answered in one minute", r->peak_served, "");
	snprintf(lbl, sizeof(lbl), "requests refused (over %d/min)",
	    t->server_per_min);
	row(lbl, r->refused, "");
	snprintf(x, sizeof(x), "(%s lapses)", num(r->lapses, d1, sizeof(d1)));
	row("devices whose certificate lapsed", r->lapsed_devices, x);
	row("requests", r->requests, "");
	row("certificates issued", r->issued, "");
	row("queue entries processed", r->events, "");
	printf("  ran in %.2f s\n", (double)ms / 1000.0);
}

static json_t *
gens_json(const struct pkid_sim_result *r)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < r->n_gens; i++)
		json_array_append_new(a, json_pack("{s:I, s:I, s:I, s:I, s:I}",
		    "not_before", (json_int_t)r->gens[i].not_before,
		    "not_after", (json_int_t)r->gens[i].not_after,
		    "active_from", (json_int_t)r->gens[i].active_from,
		    "shadow_at", (json_int_t)r->gens[i].shadow_at,
		    "activate_at", (json_int_t)r->gens[i].activate_at));
	return a;
}

static json_t *
result_json(const struct pkid_sim_result *r)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I}", "nextca_404",
	    (json_int_t)r->nextca_404, "last_ok", (json_int_t)r->last_ok,
	    "nextca_ok", (json_int_t)r->nextca_ok, "peak_per_minute",
	    (json_int_t)r->peak, "peak_minute", (json_int_t)r->peak_minute,
	    "peak_served_per_minute", (json_int_t)r->peak_served, "refused",
	    (json_int_t)r->refused, "lapsed_devices",
	    (json_int_t)r->lapsed_devices, "lapses", (json_int_t)r->lapses,
	    "requests", (json_int_t)r->requests, "served",
	    (json_int_t)r->served, "issued", (json_int_t)r->issued,
	    "first_404", (json_int_t)r->first_404, "last_404",
	    (json_int_t)r->last_404, "events", (json_int_t)r->events, "end",
	    (json_int_t)r->end);
}

static void
print_json(const struct pkid_sim_timers *t, const struct pkictl_sim_args *a,
    const struct pkid_sim_result *r, uint64_t ms)
{
	json_t *o = json_pack("{s:s, s:I, s:i, s:I, s:I}", "timers", t->name,
	    "devices", (json_int_t)a->devices, "years", a->years, "seed",
	    (json_int_t)a->seed, "start", (json_int_t)t->start);

	json_object_set_new(o, "refused_by_pkid", r->verdict == PKID_OK ?
	    json_null() : json_string(pkid_err_id(r->verdict)));
	json_object_set_new(o, "generations", gens_json(r));
	json_object_set_new(o, "results", result_json(r));
	json_object_set_new(o, "elapsed_ms", json_integer((json_int_t)ms));
	json_dumpf(o, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(o);
}

int
pkictl_plan_simulate(const struct pkictl_sim_args *a)
{
	struct pkid_sim_timers t;
	struct pkid_sim_result r;
	struct pkid_sim_opts o;
	struct pkid_err e;
	uint64_t t0;
	enum pkid_code rc;

	pkid_err_clear(&e);
	rc = strcmp(a->timers, "ios") == 0 || strcmp(a->timers, "pkid") == 0 ?
	    pkid_sim_timers_preset(a->timers, &t, &e) :
	    pkid_sim_timers_load(a->timers, &t, &e);
	if (rc != PKID_OK)
		return pkictl_print_err(&e, a->json);
	memset(&o, 0, sizeof(o));
	o.devices = a->devices;
	o.years = a->years;
	o.seed = a->seed;
	t0 = pkid_mono_ms();
	if (pkid_sim_run(&t, &o, &r, &e) != PKID_OK)
		return pkictl_print_err(&e, a->json);
	if (a->json) {
		print_json(&t, a, &r, pkid_mono_ms() - t0);
		return 0;
	}
	print_timers(&t, a);
	print_gens(&r);
	print_results(&t, &r, pkid_mono_ms() - t0);
	return 0;
}
