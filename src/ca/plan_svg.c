/*
 * plan_svg.c - the picture of a rollover plan (plan.h): one SVG
 * document, self-contained, and an HTML page that embeds it.
 *
 * Layout, top to bottom: title and timers, the refusal when there is
 * one, marker labels (one line each, so close dates never overlap), one
 * row per generation, a row of dimension lines (overlap, L), one row per
 * sample device, the time axis. Vertical marker lines cross every row.
 */
#include "ca/plan.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"

#define W 1200		/* document width */
#define X0 250.0	/* the axis: left end */
#define X1 1150.0	/* right end */
#define ROW 34		/* row height */
#define LINE 16		/* text line height */
#define N_MARKS 5	/* today, shadow, must exist by, activation, end */
#define WRAP 150	/* characters of a line of the refusal */

/* Where things go. */
struct geo {
	int64_t t0, t1;		/* the axis's time range */
	int y_marks;		/* first marker label line */
	int y_rows;		/* top of the first row */
	int y_axis;		/* the axis line */
	int height;		/* document height */
};

/* One vertical marker. */
struct mark {
	const char *id;		/* element id */
	const char *label;	/* what it is */
	const char *color;	/* stroke */
	const char *dash;	/* stroke-dasharray, "" solid */
	int64_t t;		/* when */
};

static double
xof(const struct geo *g, int64_t t)
{
	if (t < g->t0)
		t = g->t0;
	if (t > g->t1)
		t = g->t1;
	return X0 + (double)(t - g->t0) * (X1 - X0) / (double)(g->t1 - g->t0);
}

/* The date part of a time, "2030-12-06". */
static const char *
day(int64_t t, char *buf, size_t len)
{
	char full[32];

	pkid_time_fmt((time_t)t, full, sizeof(full));
	snprintf(buf, len, "%.10s", full);
	return buf;
}

/* s with XML's five special characters escaped. */
static enum pkid_code
esc(struct pkid_buf *b, const char *s, struct pkid_err *e)
{
	enum pkid_code rc = PKID_OK;

	for (; *s != '\0' && rc == PKID_OK; s++) {
		switch (*s) {
		case '&': rc = pkid_buf_printf(b, e, "&amp;"); break;
		case '<': rc = pkid_buf_printf(b, e, "&lt;"); break;
		case '>': rc = pkid_buf_printf(b, e, "&gt;"); break;
		case '"': rc = pkid_buf_printf(b, e, "&quot;"); break;
		case '\'': rc = pkid_buf_printf(b, e, "&apos;"); break;
		default: rc = pkid_buf_append(b, s, 1, e); break;
		}
	}
	return rc;
}

/* Text at (x, y) in class cls, anchored as anchor, escaped; fill NULL
 * keeps the class's colour. */
static enum pkid_code
text_fill(struct pkid_buf *b, double x, int y, const char *cls,
    const char *anchor, const char *fill, const char *s, struct pkid_err *e)
{
	enum pkid_code rc;

	if ((rc = pkid_buf_printf(b, e, "<text x=\"%.2f\" y=\"%d\" class=\"%s\""
	    " text-anchor=\"%s\"%s%s%s>", x, y, cls, anchor, fill != NULL ?
	    " style=\"fill:" : "", fill != NULL ? fill : "", fill != NULL ?
	    "\"" : "")) != PKID_OK || (rc = esc(b, s, e)) != PKID_OK)
		return rc;
	return pkid_buf_printf(b, e, "</text>\n");
}

static enum pkid_code
text(struct pkid_buf *b, double x, int y, const char *cls,
    const char *anchor, const char *s, struct pkid_err *e)
{
	return text_fill(b, x, y, cls, anchor, NULL, s, e);
}

/* Small text starting near x, moved left as far as needed to end inside
 * the picture (about 6.2 pixels a character at 11 pixels). */
static enum pkid_code
text_fit(struct pkid_buf *b, double x, int y, const char *s,
    struct pkid_err *e)
{
	double w = 6.2 * (double)strlen(s);

	if (x + w > W - 8)
		x = W - 8 - w;
	if (x < 16)
		x = 16;
	return text(b, x, y, "small", "start", s, e);
}

/* The markers, in label order. */
static void
marks(const struct pkid_plan_view *v, struct mark m[N_MARKS])
{
	const struct pkid_rollover_plan *p = &v->plan;
	int late = v->made_at > v->must_exist_by;

	m[0] = (struct mark){ "mark-today", "today", "#3182ce", "", v->now };
	m[1] = (struct mark){ "mark-shadow", "next generation made",
	    late ? "#c53030" : "#2f855a", "6 3", v->made_at };
	m[2] = (struct mark){ "mark-must-exist", "next generation must exist "
	    "by", "#c53030", "2 3", v->must_exist_by };
	m[3] = (struct mark){ "mark-activate", "activation: issuance moves "
	    "to the next generation", "#6b46c1", "", v->activate_at };
	m[4] = (struct mark){ "mark-expiry", "current generation expires",
	    "#1a202c", "", p->not_after };
}

/* The time range: the signing generation, today, and some of what
 * follows its end. */
static void
layout(const struct pkid_plan_view *v, int refusal_lines, struct geo *g)
{
	const struct pkid_rollover_plan *p = &v->plan;
	int64_t span, pad;
	int rows = v->n_gens + 1 + v->n_samples;

	g->t0 = p->not_before < v->now ? p->not_before : v->now;
	g->t1 = p->not_after > v->now ? p->not_after : v->now;
	span = g->t1 - g->t0 > 86400 ? g->t1 - g->t0 : 86400;
	pad = p->leaf_max / 2 > span / 10 ? p->leaf_max / 2 : span / 10;
	if (pad > span / 3)
		pad = span / 3;
	g->t0 -= span / 50;
	g->t1 += pad;
	g->y_marks = 96 + refusal_lines * LINE;
	g->y_rows = g->y_marks + N_MARKS * LINE + 8;
	g->y_axis = g->y_rows + rows * ROW + 8;
	g->height = g->y_axis + 72;
}

/* Characters of the next line of s, at most max, broken at a space. */
static size_t
line_len(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n <= max)
		return n;
	for (i = max; i > 0; i--)
		if (s[i] == ' ')
			return i;
	return max;
}

/* Lines of the refusal: a heading and its message wrapped at WRAP. */
static int
refusal_lines(const struct pkid_plan_view *v)
{
	const char *d = v->verdict_detail;
	int n = 1;
	size_t k;

	if (v->verdict == PKID_OK)
		return 0;
	for (; *d != '\0'; n++) {
		k = line_len(d, WRAP);
		d += k;
		while (*d == ' ')
			d++;
	}
	return n;
}

static enum pkid_code
head(const struct pkid_plan_view *v, const struct geo *g, struct pkid_buf *b,
    struct pkid_err *e)
{
	const struct pkid_rollover_plan *p = &v->plan;
	char t[512], d1[16], d2[16], d3[16];
	enum pkid_code rc;

	PKID_TRY(pkid_buf_printf(b, e, "<svg xmlns=\"http://www.w3.org/2000/"
	    "svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\" "
	    "font-size=\"12\">\n<style>\n.title{font-size:18px;font-weight:"
	    "bold}\n.sub{font-size:13px;fill:#2d3748}\n.bad{fill:#c53030;"
	    "font-size:12px}\n.lbl{font-size:12px;fill:#1a202c}\n.small{"
	    "font-size:11px;fill:#4a5568}\n.tick{font-size:11px;fill:#4a5568}"
	    "\n</style>\n<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" "
	    "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
	    "<rect width=\"6\" height=\"6\" fill=\"#90cdf4\"/><line x1=\"0\" "
	    "y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#2b6cb0\" stroke-width=\"3\"/>"
	    "</pattern></defs>\n<rect width=\"100%%\" height=\"100%%\" "
	    "fill=\"#ffffff\"/>\n", W, g->height, W, g->height));
	snprintf(t, sizeof(t), "CA rollover plan: %s, %s generation %d",
	    v->ca_name, v->gens[v->cur].role, v->gens[v->cur].generation);
	PKID_TRY(text(b, 16, 28, "title", "start", t, e));
	snprintf(t, sizeof(t), "L = %s (longest leaf lifetime, profile %s, "
	    "renews at %d%%); M = %s (rollover margin); overlap = %s (%s)",
	    pkid_duration_fmt(p->leaf_max, d1, sizeof(d1)), p->leaf_profile,
	    p->renew_pct, pkid_duration_fmt(p->margin, d2, sizeof(d2)),
	    pkid_duration_fmt(p->overlap, d3, sizeof(d3)), p->derived ?
	    "derived: L + M" : "configured");
	PKID_TRY(text(b, 16, 52, "sub", "start", t, e));
	snprintf(t, sizeof(t), "valid %s to %s; today %s", day(p->not_before,
	    d1, sizeof(d1)), day(p->not_after, d2, sizeof(d2)), day(v->now,
	    d3, sizeof(d3)));
	PKID_TRY(text(b, 16, 72, "sub", "start", t, e));
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
refusal(const struct pkid_plan_view *v, struct pkid_buf *b,
    struct pkid_err *e)
{
	const char *d = v->verdict_detail;
	char line[WRAP + 32];
	size_t k;
	int y = 92;
	enum pkid_code rc;

	if (v->verdict == PKID_OK)
		return PKID_OK;
	snprintf(line, sizeof(line), "pkid refuses this plan: %s",
	    pkid_err_id(v->verdict));
	PKID_TRY(pkid_buf_printf(b, e, "<g id=\"refusal\" data-code=\"%s\">\n",
	    pkid_err_id(v->verdict)));
	PKID_TRY(text(b, 16, y, "bad", "start", line, e));
	while (*d != '\0') {
		k = line_len(d, WRAP);
		snprintf(line, sizeof(line), "%.*s", (int)k, d);
		y += LINE;
		PKID_TRY(text(b, 16, y, "bad", "start", line, e));
		d += k;
		while (*d == ' ')
			d++;
	}
	rc = pkid_buf_printf(b, e, "</g>\n");
out:
	return rc;
}

/* The markers' lines, from their label down to the axis (drawn first:
 * the rows go over them). */
static enum pkid_code
mark_lines(const struct pkid_plan_view *v, const struct geo *g,
    struct pkid_buf *b, struct pkid_err *e)
{
	struct mark m[N_MARKS];
	double x;
	int i;
	enum pkid_code rc = PKID_OK;

	marks(v, m);
	for (i = 0; i < N_MARKS && rc == PKID_OK; i++) {
		x = xof(g, m[i].t);
		rc = pkid_buf_printf(b, e, "<line id=\"%s\" class=\"mark\" "
		    "data-t=\"%lld\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" "
		    "y2=\"%d\" stroke=\"%s\" stroke-width=\"1.5\" "
		    "stroke-dasharray=\"%s\"/>\n", m[i].id, (long long)m[i].t,
		    x, g->y_marks + i * LINE - 4, x, g->y_axis, m[i].color,
		    m[i].dash);
	}
	return rc;
}

/* The markers' labels, one line each, on a white ground (about 7
 * pixels a character) that hides the other markers' lines. */
static enum pkid_code
mark_labels(const struct pkid_plan_view *v, const struct geo *g,
    struct pkid_buf *b, struct pkid_err *e)
{
	struct mark m[N_MARKS];
	char t[160], d[16];
	double x, w;
	int i, y, left;
	enum pkid_code rc = PKID_OK;

	marks(v, m);
	for (i = 0; i < N_MARKS; i++) {
		x = xof(g, m[i].t);
		y = g->y_marks + i * LINE;
		left = x >= X1 - 330;
		snprintf(t, sizeof(t), "%s %s", m[i].label, day(m[i].t, d,
		    sizeof(d)));
		w = 7.0 * (double)strlen(t);
		PKID_TRY(pkid_buf_printf(b, e, "<rect x=\"%.2f\" y=\"%d\" "
		    "width=\"%.2f\" height=\"%d\" fill=\"#ffffff\" "
		    "fill-opacity=\"0.9\"/>\n", left ? x - 6 - w : x + 2,
		    y - 12, w + 4, LINE - 1));
		PKID_TRY(text_fill(b, left ? x - 4 : x + 4, y, "lbl", left ?
		    "end" : "start", m[i].color, t, e));
	}
out:
	return rc;
}

/* A bar from t to u at row y, clipped to the axis. */
static enum pkid_code
bar(const struct geo *g, struct pkid_buf *b, const char *id, int64_t t,
    int64_t u, int y, int h, const char *style, struct pkid_err *e)
{
	double x = xof(g, t), w = xof(g, u) - x;

	return pkid_buf_printf(b, e, "<rect id=\"%s\" data-t=\"%lld\" "
	    "data-t-end=\"%lld\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
	    "height=\"%d\" %s/>\n", id, (long long)t, (long long)u, x, y,
	    w > 0 ? w : 0, h, style);
}

/* Style of a generation's bar by its state. */
static const char *
gen_style(const struct pkid_plan_gen *p)
{
	if (strcmp(p->state, "planned") == 0)
		return "fill=\"#c6f6d5\" stroke=\"#2f855a\" "
		    "stroke-dasharray=\"5 3\"";
	if (strcmp(p->state, "shadow") == 0)
		return "fill=\"#68d391\" stroke=\"#2f855a\"";
	if (strcmp(p->state, "retired") == 0)
		return "fill=\"#cbd5e0\" stroke=\"#718096\"";
	if (strcmp(p->role, "root") == 0)
		return "fill=\"#a0aec0\" stroke=\"#4a5568\"";
	return "fill=\"#2b6cb0\" stroke=\"#1a365d\"";
}

static enum pkid_code
gen_row(const struct pkid_plan_view *v, const struct geo *g, int i, int y,
    struct pkid_buf *b, struct pkid_err *e)
{
	const struct pkid_plan_gen *p = &v->gens[i];
	int root = strcmp(p->role, "root") == 0, h = root ? 10 : 18;
	char id[48], t[160], d1[16], d2[16];
	enum pkid_code rc;

	snprintf(id, sizeof(id), "gen-%s-%d", p->role, p->generation);
	snprintf(t, sizeof(t), "%s gen %d (%s)", p->role, p->generation,
	    p->state);
	PKID_TRY(text(b, 16, y + 14, "lbl", "start", t, e));
	PKID_TRY(bar(g, b, id, p->not_before, p->not_after, y + 18 - h, h,
	    gen_style(p), e));
	if (i == v->cur && !root)
		PKID_TRY(bar(g, b, "overlap", v->made_at, p->not_after,
		    y + 18 - h, h, "fill=\"url(#hatch)\" stroke=\"#1a365d\"",
		    e));
	snprintf(t, sizeof(t), "%s to %s%s", day(p->not_before, d1,
	    sizeof(d1)), day(p->not_after, d2, sizeof(d2)), p->not_after >
	    g->t1 ? " (continues)" : "");
	rc = text_fit(b, xof(g, p->not_before) + 4, y + 30, t, e);
out:
	return rc;
}

/* A dimension line from t to u at height y, labelled. */
static enum pkid_code
dim(const struct geo *g, struct pkid_buf *b, const char *id, int64_t t,
    int64_t u, int y, const char *label, struct pkid_err *e)
{
	double x = xof(g, t), x2 = xof(g, u);
	enum pkid_code rc;

	PKID_TRY(pkid_buf_printf(b, e, "<g id=\"%s\" data-t=\"%lld\" "
	    "data-t-end=\"%lld\"><line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" "
	    "y2=\"%d\" stroke=\"#2d3748\"/><line x1=\"%.2f\" y1=\"%d\" "
	    "x2=\"%.2f\" y2=\"%d\" stroke=\"#2d3748\"/><line x1=\"%.2f\" "
	    "y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#2d3748\"/>", id,
	    (long long)t, (long long)u, x, y, x2, y, x, y - 4, x, y + 4, x2,
	    y - 4, x2, y + 4));
	PKID_TRY(text(b, x - 4, y + 4, "small", "end", label, e));
	rc = pkid_buf_printf(b, e, "</g>\n");
out:
	return rc;
}

/* Devices ask for the next CA from activation on; when it comes later,
 * the months between are the "404 storm": shaded, and said in the next
 * generation's row (at y). */
static enum pkid_code
gap(const struct pkid_plan_view *v, const struct geo *g, int y,
    struct pkid_buf *b, struct pkid_err *e)
{
	double xa = xof(g, v->activate_at), xs = xof(g, v->made_at), w, x;
	char t[160], d1[16], d2[16];
	enum pkid_code rc;

	PKID_TRY(pkid_buf_printf(b, e, "<rect id=\"gap\" data-t=\"%lld\" "
	    "data-t-end=\"%lld\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
	    "height=\"%d\" fill=\"#feb2b2\" fill-opacity=\"0.45\"/>\n",
	    (long long)v->activate_at, (long long)v->made_at, xa, g->y_rows,
	    xs - xa, g->y_axis - g->y_rows));
	snprintf(t, sizeof(t), "404 window %s to %s: devices ask, no next CA "
	    "yet", day(v->activate_at, d1, sizeof(d1)), day(v->made_at, d2,
	    sizeof(d2)));
	/* Inside the window, else left of it, else right of it. */
	w = 6.6 * (double)strlen(t);
	if (w < xs - xa - 12)
		x = xa + 6;
	else if (xa - 6 - w >= X0)
		x = xa - 6 - w;
	else if (xs + 6 + w <= W - 8)
		x = xs + 6;
	else
		x = X0;
	rc = text(b, x, y + 14, "bad", "start", t, e);
out:
	return rc;
}

/* The overlap and L as dimension lines, and a gap when the next
 * generation comes after devices start needing it. */
static enum pkid_code
timers_row(const struct pkid_plan_view *v, const struct geo *g, int y,
    struct pkid_buf *b, struct pkid_err *e)
{
	const struct pkid_rollover_plan *p = &v->plan;
	char t[96], d[32];
	enum pkid_code rc;

	PKID_TRY(text(b, 16, y + 14, "lbl", "start", "timers", e));
	/* The overlap drawn is the one there is (a shadow made by hand
	 * early or late); the rule's is named when it differs. */
	snprintf(t, sizeof(t), "overlap %s", pkid_duration_fmt(p->not_after -
	    v->made_at, d, sizeof(d)));
	if (p->not_after - v->made_at != p->overlap)
		snprintf(t + strlen(t), sizeof(t) - strlen(t), " (plan: %s)",
		    pkid_duration_fmt(p->overlap, d, sizeof(d)));
	PKID_TRY(dim(g, b, "dim-overlap", v->made_at, p->not_after, y + 8,
	    t, e));
	snprintf(t, sizeof(t), "L %s", pkid_duration_fmt(p->leaf_max, d,
	    sizeof(d)));
	PKID_TRY(dim(g, b, "dim-leaf", p->activate_at, p->not_after, y + 24,
	    t, e));
	rc = v->made_at > v->activate_at ? gap(v, g, y - ROW, b, e) :
	    PKID_OK;
out:
	return rc;
}

static enum pkid_code
sample_row(const struct pkid_plan_view *v, const struct geo *g, int i,
    int y, struct pkid_buf *b, struct pkid_err *e)
{
	const struct pkid_plan_sample *s = &v->samples[i];
	const struct pkid_plan_gen *n = &v->gens[v->next];
	char id[32], t[200], d1[16];
	enum pkid_code rc;

	snprintf(t, sizeof(t), "device issued %s", day(s->issued, d1,
	    sizeof(d1)));
	PKID_TRY(text(b, 16, y + 14, "lbl", "start", t, e));
	snprintf(id, sizeof(id), "leaf-%d", i + 1);
	PKID_TRY(bar(g, b, id, s->issued, s->end, y + 8, 4,
	    "fill=\"#4a5568\"", e));
	snprintf(id, sizeof(id), "renew-%d", i + 1);
	PKID_TRY(bar(g, b, id, s->renew, s->end, y + 4, 12, s->needs_next ?
	    "fill=\"#805ad5\"" : "fill=\"#dd6b20\"", e));
	if (s->needs_next)
		snprintf(t, sizeof(t), "%s: renews from %s, asks first for gen "
		    "%d's CA certificate", s->why, day(s->renew, d1,
		    sizeof(d1)), n->generation);
	else
		snprintf(t, sizeof(t), "%s: renews from %s%s", s->why,
		    day(s->renew, d1, sizeof(d1)), s->capped ?
		    " (cut at the CA's end)" : "");
	rc = text_fit(b, xof(g, s->issued) + 4, y + 30, t, e);
out:
	return rc;
}

/* Tick step in months: about a dozen ticks over the range. */
static int
tick_months(const struct geo *g)
{
	static const int steps[] = { 1, 3, 6, 12, 24, 60, 120 };
	int64_t months = (g->t1 - g->t0) / (86400 * 30);
	size_t i;

	for (i = 0; i + 1 < sizeof(steps) / sizeof(steps[0]); i++)
		if (months / steps[i] <= 12)
			break;
	return steps[i];
}

static enum pkid_code
tick(const struct geo *g, struct pkid_buf *b, int64_t t, const char *lbl,
    struct pkid_err *e)
{
	int y = g->y_axis;
	enum pkid_code rc;

	if ((rc = pkid_buf_printf(b, e, "<line class=\"tick\" data-t=\"%lld\" "
	    "x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#1a202c\"/>"
	    "\n", (long long)t, xof(g, t), y, xof(g, t), y + 6)) != PKID_OK)
		return rc;
	return text(b, xof(g, t), y + 20, "tick", "middle", lbl, e);
}

/* Ticks on the first of every step-th month. */
static enum pkid_code
month_ticks(const struct geo *g, struct pkid_buf *b, struct pkid_err *e)
{
	int step = tick_months(g);
	time_t tt = (time_t)g->t0;
	struct tm tm;
	char lbl[32];
	int64_t t;
	enum pkid_code rc = PKID_OK;

	gmtime_r(&tt, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mon = (tm.tm_mon / step) * step % 12;
	while (rc == PKID_OK) {
		tm.tm_mon += step;
		t = (int64_t)timegm(&tm);	/* normalises tm too */
		if (t > g->t1)
			break;
		if (step >= 12)
			snprintf(lbl, sizeof(lbl), "%d", tm.tm_year + 1900);
		else
			snprintf(lbl, sizeof(lbl), "%d-%02d", tm.tm_year +
			    1900, tm.tm_mon + 1);
		rc = tick(g, b, t, lbl, e);
	}
	return rc;
}

/* Ticks at midnight every few days, for a range of under 60 days. */
static enum pkid_code
day_ticks(const struct geo *g, struct pkid_buf *b, struct pkid_err *e)
{
	int64_t days = (g->t1 - g->t0) / 86400, step, t;
	char lbl[32], d[32];
	enum pkid_code rc = PKID_OK;

	step = days <= 12 ? 1 : days <= 24 ? 2 : 7;
	for (t = g->t0 - g->t0 % 86400 + 86400; t <= g->t1 && rc == PKID_OK;
	    t += step * 86400) {
		snprintf(lbl, sizeof(lbl), "%.10s", pkid_time_fmt((time_t)t,
		    d, sizeof(d)));
		rc = tick(g, b, t, lbl, e);
	}
	return rc;
}

static enum pkid_code
axis(const struct geo *g, struct pkid_buf *b, struct pkid_err *e)
{
	int y = g->y_axis;
	enum pkid_code rc;

	PKID_TRY(pkid_buf_printf(b, e, "<g id=\"axis\" data-t0=\"%lld\" "
	    "data-t1=\"%lld\" data-x0=\"%.2f\" data-x1=\"%.2f\">\n<line "
	    "x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" "
	    "stroke=\"#1a202c\"/>\n",
	    (long long)g->t0, (long long)g->t1, X0, X1, X0, y, X1, y));
	PKID_TRY(g->t1 - g->t0 < 60 * 86400 ? day_ticks(g, b, e) :
	    month_ticks(g, b, e));
	PKID_TRY(text(b, X1, y + 36, "tick", "end", "time (UTC)", e));
	rc = pkid_buf_printf(b, e, "</g>\n");
out:
	return rc;
}

/* What the colours mean, in one line under the axis. */
static enum pkid_code
legend(const struct pkid_plan_view *v, const struct geo *g,
    struct pkid_buf *b, struct pkid_err *e)
{
	static const struct {
		const char *style;	/* the swatch */
		const char *what;	/* its meaning */
	} item[] = {
		{ "fill=\"#2b6cb0\"", "CA generation" },
		{ "fill=\"url(#hatch)\"", "overlap: the next one exists" },
		{ NULL, NULL },	/* the next generation: planned, made */
		{ "fill=\"#4a5568\"", "device certificate" },
		{ "fill=\"#dd6b20\"", "renewal window" },
		{ "fill=\"#805ad5\"", "renewal that needs the next CA first" },
		{ "fill=\"#feb2b2\"", "404 window" },
	};
	const struct pkid_plan_gen *nx = &v->gens[v->next];
	const char *style, *what;
	size_t i, n = sizeof(item) / sizeof(item[0]);
	double x = 16;
	int y = g->y_axis + 56;
	enum pkid_code rc = PKID_OK;

	if (v->made_at <= v->activate_at)
		n--;
	PKID_TRY(pkid_buf_printf(b, e, "<g id=\"legend\">\n"));
	for (i = 0; i < n; i++) {
		style = item[i].style != NULL ? item[i].style : gen_style(nx);
		what = item[i].what;
		if (what == NULL)
			what = strcmp(nx->state, "shadow") != 0 ?
			    "planned next generation" :
			    "next generation (made)";
		PKID_TRY(pkid_buf_printf(b, e, "<rect x=\"%.2f\" y=\"%d\" "
		    "width=\"14\" height=\"10\" %s/>\n", x, y - 9, style));
		PKID_TRY(text(b, x + 18, y, "small", "start", what, e));
		x += 18 + 6.2 * (double)strlen(what) + 18;
	}
	rc = pkid_buf_printf(b, e, "</g>\n");
out:
	return rc;
}

/* Generation rows: roots first, then the signing line. */
static enum pkid_code
gen_rows(const struct pkid_plan_view *v, const struct geo *g, int *y,
    struct pkid_buf *b, struct pkid_err *e)
{
	int pass, i;
	enum pkid_code rc = PKID_OK;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < v->n_gens && rc == PKID_OK; i++) {
			if ((strcmp(v->gens[i].role, "root") == 0) != !pass)
				continue;
			rc = gen_row(v, g, i, *y, b, e);
			*y += ROW;
		}
	return rc;
}

enum pkid_code
pkid_plan_svg(const struct pkid_plan_view *v, struct pkid_buf *out,
    struct pkid_err *e)
{
	struct geo g;
	int y, i;
	enum pkid_code rc;

	layout(v, refusal_lines(v), &g);
	PKID_TRY(head(v, &g, out, e));
	PKID_TRY(refusal(v, out, e));
	y = g.y_rows;
	PKID_TRY(timers_row(v, &g, g.y_rows + (v->n_gens) * ROW, out, e));
	PKID_TRY(mark_lines(v, &g, out, e));
	PKID_TRY(gen_rows(v, &g, &y, out, e));
	y += ROW;
	for (i = 0; i < v->n_samples; i++, y += ROW)
		PKID_TRY(sample_row(v, &g, i, y, out, e));
	PKID_TRY(mark_labels(v, &g, out, e));
	PKID_TRY(axis(&g, out, e));
	PKID_TRY(legend(v, &g, out, e));
	rc = pkid_buf_printf(out, e, "</svg>\n");
out:
	return rc;
}

/* One row of the HTML table of dates. */
static enum pkid_code
date_row(struct pkid_buf *b, int64_t t, const char *what, const char *rule,
    struct pkid_err *e)
{
	char d[32];
	enum pkid_code rc;

	PKID_TRY(pkid_buf_printf(b, e, "<tr><td>%s</td><td>", pkid_time_fmt(
	    (time_t)t, d, sizeof(d))));
	PKID_TRY(esc(b, what, e));
	PKID_TRY(pkid_buf_printf(b, e, "</td><td>%s</td></tr>\n", rule));
out:
	return rc;
}

enum pkid_code
pkid_plan_html(const struct pkid_plan_view *v, struct pkid_buf *out,
    struct pkid_err *e)
{
	const struct pkid_rollover_plan *p = &v->plan;
	enum pkid_code rc;

	PKID_TRY(pkid_buf_printf(out, e, "<!DOCTYPE html>\n<html lang=\"en\">"
	    "<head><meta charset=\"utf-8\"><title>CA rollover plan: "));
	PKID_TRY(esc(out, v->ca_name, e));
	PKID_TRY(pkid_buf_printf(out, e, "</title>\n<style>body{font-family:"
	    "'DejaVu Sans',Arial,sans-serif;margin:16px;color:#1a202c}"
	    "svg{max-width:100%%;height:auto}table{border-collapse:collapse;"
	    "margin-top:12px;font-size:13px}td,th{padding:3px 12px;"
	    "text-align:left;border-bottom:1px solid #e2e8f0}</style>"
	    "</head>\n<body>\n"));
	PKID_TRY(pkid_plan_svg(v, out, e));
	PKID_TRY(pkid_buf_printf(out, e, "<table>\n<tr><th>date (UTC)</th>"
	    "<th>what</th><th>rule</th></tr>\n"));
	PKID_TRY(date_row(out, v->made_at, "next generation made",
	    v->made_at == p->shadow_at ? "notAfter - overlap" :
	    "as made (the store)", e));
	PKID_TRY(date_row(out, v->must_exist_by, "next generation must exist "
	    "by", "notAfter - (L + M)", e));
	PKID_TRY(date_row(out, v->activate_at, "activation: issuance moves to "
	    "the next generation", v->activate_at == p->activate_at ?
	    "notAfter - L" : "as scheduled (the store)", e));
	PKID_TRY(date_row(out, p->not_after, "current generation expires",
	    "notAfter", e));
	rc = pkid_buf_printf(out, e, "</table>\n</body>\n</html>\n");
out:
	return rc;
}
