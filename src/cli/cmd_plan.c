/*
 * cmd_plan.c - pkictl ca plan: a CA's rollover timeline as text, JSON,
 * SVG or HTML (src/ca/plan.h), or a fleet simulated against it
 * (--simulate, cmd_plan_sim.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ca/plan.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/limits.h"

static const char usage_plan[] =
    "pkictl ca plan [--dir DIR] [--svg FILE | --html FILE] [--json] "
    "[--at TIME] | ca plan --simulate [--devices N] [--years Y] "
    "[--timers ios|pkid|FILE] [--seed S] [--json]";

/* Width of the text timeline, columns. */
#define TL_COLS 64

struct plan_opts {
	const char *dir;	/* --dir */
	const char *svg;	/* --svg FILE */
	const char *html;	/* --html FILE */
	const char *at;		/* --at TIME */
	int json;		/* --json */
	struct pkictl_sim_args sim; /* --simulate and its options */
};

static int
parse_num(const char *opt, const char *v, int64_t lo, int64_t hi,
    int64_t *out)
{
	if (pkid_parse_int(v, lo, hi, out, NULL) != PKID_OK)
		return pkictl_usage_err(usage_plan, "%s takes %lld..%lld, not "
		    "'%s'", opt, (long long)lo, (long long)hi, v);
	return 0;
}

static int
parse_opt(struct plan_opts *o, int c, const char *arg)
{
	int64_t n = 0;
	int rc = 0;

	switch (c) {
	case 'd': o->dir = arg; break;
	case 's': o->svg = arg; break;
	case 'h': o->html = arg; break;
	case 'a': o->at = arg; break;
	case 'j': o->json = 1; o->sim.json = 1; break;
	case 'S': o->sim.on = 1; break;
	case 't': o->sim.timers = arg; break;
	case 'n':
		if ((rc = parse_num("--devices", arg, 1, PKID_SIM_MAX_DEVICES,
		    &n)) == 0)
			o->sim.devices = (uint32_t)n;
		break;
	case 'y':
		if ((rc = parse_num("--years", arg, 1, PKID_SIM_MAX_YEARS,
		    &n)) == 0)
			o->sim.years = (int)n;
		break;
	case 'r':
		if ((rc = parse_num("--seed", arg, 0, INT64_MAX, &n)) == 0)
			o->sim.seed = (uint64_t)n;
		break;
	default:
		rc = -1;
		break;
	}
	return rc;
}

static int
parse(int argc, char **argv, struct plan_opts *o)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "svg", required_argument, NULL, 's' },
		{ "html", required_argument, NULL, 'h' },
		{ "at", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "simulate", no_argument, NULL, 'S' },
		{ "devices", required_argument, NULL, 'n' },
		{ "years", required_argument, NULL, 'y' },
		{ "timers", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->sim.devices = 10000;
	o->sim.years = 6;
	o->sim.seed = 1;
	o->sim.timers = "pkid";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1)
		if ((rc = parse_opt(o, c, optarg)) != 0)
			return rc > 0 ? rc : pkictl_usage_err(usage_plan,
			    "unknown or incomplete option '%s'",
			    argv[optind - 1]);
	if (optind < argc)
		return pkictl_usage_err(usage_plan, "unexpected '%s'",
		    argv[optind]);
	if (o->sim.on && (o->svg != NULL || o->html != NULL))
		return pkictl_usage_err(usage_plan, "--simulate prints its "
		    "results; --svg and --html draw the plan");
	o->dir = pkictl_dir(o->dir);
	return 0;
}

static const char *
day(int64_t t, char *buf, size_t len)
{
	char full[32];

	pkid_time_fmt((time_t)t, full, sizeof(full));
	snprintf(buf, len, "%.10s", full);
	return buf;
}

static void
print_timers(const struct pkid_plan_view *v)
{
	const struct pkid_rollover_plan *p = &v->plan;
	char d[32];

	printf("CA rollover plan: %s, %s generation %d; today %s\n",
	    v->ca_name, v->gens[v->cur].role, v->gens[v->cur].generation,
	    day(v->now, d, sizeof(d)));
	printf("  L        %-10s longest leaf lifetime (profile %s, renews "
	    "at %d%%)\n", pkid_duration_fmt(p->leaf_max, d, sizeof(d)),
	    p->leaf_profile, p->renew_pct);
	printf("  M        %-10s rollover margin\n", pkid_duration_fmt(
	    p->margin, d, sizeof(d)));
	printf("  overlap  %-10s %s\n\n", pkid_duration_fmt(p->overlap, d,
	    sizeof(d)), p->derived ? "derived: L + M" :
	    "configured ([ca] rollover_overlap)");
}

static void
print_gens(const struct pkid_plan_view *v)
{
	const struct pkid_plan_gen *g;
	char d1[16], d2[16];
	int i;

	printf("generations\n  %-8s %-4s %-8s %-11s %-11s %s\n", "ROLE",
	    "GEN", "STATE", "NOT BEFORE", "NOT AFTER", "SUBJECT");
	for (i = 0; i < v->n_gens; i++) {
		g = &v->gens[i];
		printf("  %-8s %-4d %-8s %-11s %-11s %s\n", g->role,
		    g->generation, g->state, day(g->not_before, d1,
		    sizeof(d1)), day(g->not_after, d2, sizeof(d2)),
		    g->subject[0] != '\0' ? g->subject :
		    "(made at the shadow date)");
	}
	putchar('\n');
}

static void
print_dates(const struct pkid_plan_view *v)
{
	const struct pkid_rollover_plan *p = &v->plan;
	int n = v->gens[v->next].generation;
	char d[32];

	printf("dates of %s generation %d\n", v->gens[v->cur].role,
	    v->gens[v->cur].generation);
	printf("  %s  next generation (%d) made          %s\n",
	    pkid_time_fmt((time_t)v->made_at, d, sizeof(d)), n, v->made_at ==
	    p->shadow_at ? "notAfter - overlap" : "as made (the store)");
	printf("  %s  next generation must exist by     notAfter - "
	    "(L + M)%s\n", pkid_time_fmt((time_t)v->must_exist_by, d,
	    sizeof(d)), v->made_at > v->must_exist_by ? "  LATE" : "");
	printf("  %s  activation: issuance moves to %d   %s\n",
	    pkid_time_fmt((time_t)v->activate_at, d, sizeof(d)), n,
	    v->activate_at == p->activate_at ? "notAfter - L" :
	    "as scheduled (the store)");
	printf("  %s  generation %d expires              notAfter\n\n",
	    pkid_time_fmt((time_t)p->not_after, d, sizeof(d)),
	    v->gens[v->cur].generation);
}

static void
print_samples(const struct pkid_plan_view *v)
{
	const struct pkid_plan_sample *s;
	char d1[16], d2[16], d3[16];
	int i;

	printf("devices issued at\n  %-11s %-6s %-12s %-11s %s\n", "ISSUED",
	    "BY", "RENEWS FROM", "EXPIRES", "AT RENEWAL");
	for (i = 0; i < v->n_samples; i++) {
		s = &v->samples[i];
		printf("  %-11s gen %-2d %-12s %-11s ", day(s->issued, d1,
		    sizeof(d1)), v->gens[s->gen].generation, day(s->renew, d2,
		    sizeof(d2)), day(s->end, d3, sizeof(d3)));
		if (s->needs_next)
			printf("asks first for gen %d's CA certificate "
			    "(GetNextCACert)", v->gens[v->next].generation);
		else
			printf("renews%s", s->capped ?
			    " (cut at the CA's end)" : "");
		printf("  [%s]\n", s->why);
	}
	putchar('\n');
}

/* Column of t on the text timeline [t0, t1]. */
static int
col(int64_t t, int64_t t0, int64_t t1)
{
	int64_t c = (t - t0) * (TL_COLS - 1) / (t1 - t0);

	return c < 0 ? 0 : c >= TL_COLS ? TL_COLS - 1 : (int)c;
}

static void
fill(char *row, int64_t a, int64_t b, int64_t t0, int64_t t1, char ch)
{
	int i, ca = col(a, t0, t1), cb = col(b, t0, t1);

	for (i = ca; i <= cb; i++)
		row[i] = ch;
}

/* A marker letter at column c, or the next free one: dates days apart
 * share a column. */
static void
put_mark(char *row, int c, char ch)
{
	while (c < TL_COLS - 1 && row[c] != ' ')
		c++;
	row[c] = ch;
}

static void
timeline_line(const char *label, const char *row)
{
	printf("  %-18s|%s|\n", label, row);
}

static void
print_timeline(const struct pkid_plan_view *v)
{
	const struct pkid_rollover_plan *p = &v->plan;
	int64_t t0 = p->not_before < v->now ? p->not_before : v->now;
	int64_t t1 = (p->not_after > v->now ? p->not_after : v->now) +
	    p->leaf_max / 3;
	char row[TL_COLS + 1], lbl[32], d1[16], d2[16];
	const struct pkid_plan_gen *g;
	int i;

	row[TL_COLS] = '\0';
	printf("timeline %s .. %s\n", day(t0, d1, sizeof(d1)), day(t1, d2,
	    sizeof(d2)));
	for (i = 0; i < v->n_gens; i++) {
		g = &v->gens[i];
		memset(row, ' ', TL_COLS);
		fill(row, g->not_before, g->not_after, t0, t1,
		    strcmp(g->state, "planned") == 0 ? '~' : '=');
		if (i == v->cur)
			fill(row, v->made_at, p->not_after, t0, t1, '#');
		snprintf(lbl, sizeof(lbl), "%s %d", g->role, g->generation);
		timeline_line(lbl, row);
	}
	for (i = 0; i < v->n_samples; i++) {
		memset(row, ' ', TL_COLS);
		fill(row, v->samples[i].issued, v->samples[i].end, t0, t1, '-');
		fill(row, v->samples[i].renew, v->samples[i].end, t0, t1,
		    v->samples[i].needs_next ? 'R' : 'r');
		snprintf(lbl, sizeof(lbl), "device %s", day(
		    v->samples[i].issued, d1, sizeof(d1)));
		timeline_line(lbl, row);
	}
	memset(row, ' ', TL_COLS);
	put_mark(row, col(v->now, t0, t1), 'T');
	put_mark(row, col(v->made_at, t0, t1), 'S');
	put_mark(row, col(v->activate_at, t0, t1), 'A');
	put_mark(row, col(p->not_after, t0, t1), 'X');
	timeline_line("marks", row);
	printf("  = valid  # overlap  ~ planned  - device certificate  r its "
	    "renewal window\n  R a renewal that asks for the next CA first  "
	    "T today  S next generation made\n  A activation  X expiry\n");
}

static json_t *
plan_json(const struct pkid_plan_view *v)
{
	const struct pkid_rollover_plan *p = &v->plan;

	return json_pack("{s:I, s:I, s:I, s:s, s:i, s:I, s:I, s:I, s:b, s:I, "
	    "s:I, s:I}", "not_before", (json_int_t)p->not_before, "not_after",
	    (json_int_t)p->not_after, "leaf_max", (json_int_t)p->leaf_max,
	    "leaf_profile", p->leaf_profile, "renew_pct", p->renew_pct,
	    "margin", (json_int_t)p->margin, "needed", (json_int_t)p->needed,
	    "overlap", (json_int_t)p->overlap, "derived", p->derived,
	    "shadow_at", (json_int_t)p->shadow_at, "activate_at",
	    (json_int_t)p->activate_at, "must_exist_by",
	    (json_int_t)v->must_exist_by);
}

static json_t *
view_json(const struct pkid_plan_view *v)
{
	json_t *o = json_object(), *gens = json_array(), *sm = json_array();
	const struct pkid_plan_sample *s;
	const struct pkid_plan_gen *g;
	int i;

	for (i = 0; i < v->n_gens; i++) {
		g = &v->gens[i];
		json_array_append_new(gens, json_pack("{s:s, s:i, s:s, s:s, "
		    "s:I, s:I}", "role", g->role, "generation", g->generation,
		    "state", g->state, "subject", g->subject, "not_before",
		    (json_int_t)g->not_before, "not_after",
		    (json_int_t)g->not_after));
	}
	for (i = 0; i < v->n_samples; i++) {
		s = &v->samples[i];
		json_array_append_new(sm, json_pack("{s:s, s:I, s:i, s:I, "
		    "s:I, s:b, s:b}", "why", s->why, "issued",
		    (json_int_t)s->issued, "generation",
		    v->gens[s->gen].generation, "renew", (json_int_t)s->renew,
		    "end", (json_int_t)s->end, "capped", s->capped,
		    "needs_next", s->needs_next));
	}
	json_object_set_new(o, "ca", json_string(v->ca_name));
	json_object_set_new(o, "now", json_integer((json_int_t)v->now));
	json_object_set_new(o, "plan", plan_json(v));
	json_object_set_new(o, "next", json_pack("{s:i, s:s, s:I, s:I}",
	    "generation", v->gens[v->next].generation, "state",
	    v->gens[v->next].state, "made_at", (json_int_t)v->made_at,
	    "activate_at", (json_int_t)v->activate_at));
	json_object_set_new(o, "refused", v->verdict == PKID_OK ? json_null() :
	    json_pack("{s:s, s:s, s:s}", "code", pkid_err_id(v->verdict),
	    "message", v->verdict_detail, "remedy",
	    pkid_err_remedy(v->verdict)));
	json_object_set_new(o, "generations", gens);
	json_object_set_new(o, "samples", sm);
	return o;
}

/* --svg / --html: the picture to a file. */
static int
write_picture(const struct pkid_plan_view *v, const char *path, int html,
    struct pkid_err *e)
{
	struct pkid_buf b;
	enum pkid_code rc;

	pkid_buf_init(&b, PKID_MAX_FILE_SIZE);
	rc = html ? pkid_plan_html(v, &b, e) : pkid_plan_svg(v, &b, e);
	if (rc == PKID_OK)
		rc = pkid_file_write(path, b.p, b.len, 0644, e);
	pkid_buf_free(&b);
	if (rc != PKID_OK)
		return pkictl_print_err(e, 0);
	fprintf(stderr, "wrote %s\n", path);
	return 0;
}

static int
show(const struct plan_opts *o, const struct pkid_plan_view *v,
    struct pkid_err *e)
{
	json_t *j;
	int rc;

	if (o->svg != NULL && (rc = write_picture(v, o->svg, 0, e)) != 0)
		return rc;
	if (o->html != NULL && (rc = write_picture(v, o->html, 1, e)) != 0)
		return rc;
	if (o->json) {
		j = view_json(v);
		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
	} else {
		print_timers(v);
		print_gens(v);
		print_dates(v);
		print_samples(v);
		print_timeline(v);
	}
	if (v->verdict == PKID_OK)
		return 0;
	/* Drawn, and still refused: say so as every command does. */
	if (!o->json)
		fprintf(stderr, "error: %s: %s\nfix: %s\n",
		    pkid_err_id(v->verdict), v->verdict_detail,
		    pkid_err_remedy(v->verdict));
	return pkictl_exit_for(v->verdict);
}

int
pkictl_cmd_ca_plan(int argc, char **argv)
{
	struct plan_opts o;
	struct pkid_plan_view *v = NULL;
	struct pkid_ca *ca = NULL;
	struct pkid_err e;
	time_t at;
	int rc;

	pkid_err_clear(&e);
	if ((rc = parse(argc, argv, &o)) != 0)
		return rc;
	if (o.sim.on)
		return pkictl_plan_simulate(&o.sim);
	if (o.at != NULL && pkid_time_parse(o.at, &at, &e) != PKID_OK)
		return pkictl_print_err(&e, o.json);
	if (pkid_ca_open(o.dir, &ca, &e) != PKID_OK)
		return pkictl_print_err(&e, o.json);
	/* --at moves "today" only once the CA is open: opening it at a
	 * later time would make a shadow due by then current in the store,
	 * and a plan changes nothing. */
	if (o.at != NULL)
		pkid_clock_set(at);
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		PKID_ERR(&e, PKID_E_NOMEM, "no memory");
		rc = pkictl_print_err(&e, o.json);
		goto out;
	}
	rc = pkid_ca_plan_view(ca, v, &e) != PKID_OK ?
	    pkictl_print_err(&e, o.json) : show(&o, v, &e);
out:
	free(v);
	pkid_ca_close(ca);
	return rc;
}
