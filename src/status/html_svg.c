/*
 * html_svg.c - the status page's two pictures, inline SVG: the CA's
 * generations on a time line, and enrollments per minute.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "status/html_int.h"

const char *
pkid_status_day_time(int64_t t, char *buf, size_t len)
{
	char ts[32];

	pkid_time_fmt((time_t)t, ts, sizeof(ts));
	/* 2026-12-07T19:34:16Z -> 2026-12-07 19:34 */
	snprintf(buf, len, "%.10s %.5s", ts, strlen(ts) >= 16 ? ts + 11 : "");
	return buf;
}

const char *
pkid_status_span(int64_t s, char *buf, size_t len)
{
	int64_t a = s < 0 ? -s : s;

	if (a >= 2 * 86400)
		snprintf(buf, len, "%lld d", (long long)(a / 86400));
	else if (a >= 2 * 3600)
		snprintf(buf, len, "%lld h", (long long)(a / 3600));
	else if (a >= 120)
		snprintf(buf, len, "%lld min", (long long)(a / 60));
	else
		snprintf(buf, len, "%lld s", (long long)a);
	return buf;
}

/*
 * The pictures stretch to the width they get (preserveAspectRatio none,
 * a fixed height in CSS pixels) and carry no text: labels are HTML around
 * them, so they stay legible from a phone to a wide screen.
 */

/* Geometry of the time line: x in 0..1000 of the SVG. */
struct geo {
	int64_t t0, t1;		/* time at the left and right edge */
};

static double
xof(const struct geo *g, int64_t t)
{
	if (t < g->t0)
		t = g->t0;
	if (t > g->t1)
		t = g->t1;
	return (double)(t - g->t0) * 1000.0 / (double)(g->t1 - g->t0);
}

/* A signing or root generation (not the RA's or TLS certificates). */
static int
drawn(const struct pkid_status_gen *x)
{
	return strcmp(x->role, "issuing") == 0 || strcmp(x->role, "root") == 0;
}

/* From the signing CA's start to the end of it or of its successor. */
static void
span_of(const struct pkid_status_view *v, struct geo *g)
{
	int i;

	g->t0 = v->cur_nb;
	g->t1 = v->cur_na;
	for (i = 0; i < v->n_gens; i++)
		if (strcmp(v->gens[i].role, "issuing") == 0 &&
		    strcmp(v->gens[i].state, "shadow") == 0 &&
		    v->gens[i].not_after > g->t1)
			g->t1 = v->gens[i].not_after;
	if (g->t1 <= g->t0)
		g->t1 = g->t0 + 86400;
}

static enum pkid_code
vline(struct pkid_buf *b, const struct geo *g, int64_t t, int h,
    const char *cls, const char *id, struct pkid_err *e)
{
	return pkid_buf_printf(b, e, "<line id=\"%s\" class=\"%s\" x1=\"%.1f\" "
	    "y1=\"0\" x2=\"%.1f\" y2=\"%d\" data-t=\"%lld\" "
	    "vector-effect=\"non-scaling-stroke\"/>", id, cls, xof(g, t),
	    xof(g, t), h, (long long)t);
}

static enum pkid_code
legend_item(struct pkid_buf *b, const char *cls, const char *what,
    int64_t t, struct pkid_err *e)
{
	char d[32];

	return pkid_buf_printf(b, e, "<span class=\"%s\"><i></i>%s <b>%s</b>"
	    "</span>", cls, what, pkid_status_day_time(t, d, sizeof(d)));
}

enum pkid_code
pkid_status_svg_timeline(const struct pkid_status_view *v,
    struct pkid_buf *b, struct pkid_err *e)
{
	struct geo g;
	char d1[32], d2[32];
	int i, y = 4, rows = 0, h;
	enum pkid_code rc = PKID_E_INTERNAL;

	span_of(v, &g);
	for (i = 0; i < v->n_gens; i++)
		rows += drawn(&v->gens[i]);
	h = rows * 24 + 6;
	PKID_TRY(pkid_buf_printf(b, e, "<div class=\"tl\"><div class=\"tlk\">"));
	for (i = 0; i < v->n_gens; i++)
		if (drawn(&v->gens[i]))
			PKID_TRY(pkid_buf_printf(b, e, "<span>%s %d</span>",
			    v->gens[i].role, v->gens[i].generation));
	PKID_TRY(pkid_buf_printf(b, e, "</div><svg id=\"timeline\" "
	    "viewBox=\"0 0 1000 %d\" preserveAspectRatio=\"none\" "
	    "style=\"height:%dpx\" role=\"img\" aria-label=\"CA generations "
	    "on a time line\" data-t0=\"%lld\" data-t1=\"%lld\">", h, h,
	    (long long)g.t0, (long long)g.t1));
	for (i = 0; i < v->n_gens; i++) {
		const struct pkid_status_gen *x = &v->gens[i];
		double a, z;

		if (!drawn(x))
			continue;
		a = xof(&g, x->not_before);
		z = xof(&g, x->not_after);
		PKID_TRY(pkid_buf_printf(b, e, "<rect class=\"bar %s\" "
		    "x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"16\"><title>"
		    "%s generation %d (%s): %s to %s</title></rect>", x->state,
		    a, y, z - a < 2 ? 2 : z - a, x->role, x->generation,
		    x->state, pkid_status_day_time(x->not_before, d1,
		    sizeof(d1)), pkid_status_day_time(x->not_after, d2,
		    sizeof(d2))));
		y += 24;
	}
	if (v->plan_ok) {
		PKID_TRY(vline(b, &g, v->has_shadow ? v->shadow_nb :
		    v->plan.shadow_at, h, "mk-next", "mk-next", e));
		PKID_TRY(vline(b, &g, v->activate_at, h, "mk-act", "mk-act",
		    e));
	}
	PKID_TRY(vline(b, &g, v->now, h, "mk-now", "mk-now", e));
	PKID_TRY(pkid_buf_printf(b, e, "</svg></div><div class=\"tla\"><span>"
	    "%s</span><span>%s</span></div><div class=\"legend tlm\">",
	    pkid_status_day_time(g.t0, d1, sizeof(d1)),
	    pkid_status_day_time(g.t1, d2, sizeof(d2))));
	PKID_TRY(legend_item(b, "now", "now", v->now, e));
	if (v->plan_ok) {
		PKID_TRY(legend_item(b, "next", v->has_shadow ? "next made" :
		    "next generation due", v->has_shadow ? v->shadow_nb :
		    v->plan.shadow_at, e));
		PKID_TRY(legend_item(b, "act", "activation", v->activate_at,
		    e));
	}
	PKID_TRY(pkid_buf_printf(b, e, "<span class=\"cur\"><i></i>current"
	    "</span><span class=\"shd\"><i></i>shadow</span><span "
	    "class=\"ret\"><i></i>retired</span></div>"));
	rc = PKID_OK;
out:
	return rc;
}

/* Enrollments of minute i: by protocol (issued or pending) and failed. */
static void
minute_n(const struct pkid_status_snap *s, int i, unsigned *est,
    unsigned *scep, unsigned *bad)
{
	*est = s->minutes[i][PKID_PROTO_EST][0] +
	    s->minutes[i][PKID_PROTO_EST][1];
	*scep = s->minutes[i][PKID_PROTO_SCEP][0] +
	    s->minutes[i][PKID_PROTO_SCEP][1];
	*bad = s->minutes[i][PKID_PROTO_EST][2] +
	    s->minutes[i][PKID_PROTO_EST][3] +
	    s->minutes[i][PKID_PROTO_SCEP][2] +
	    s->minutes[i][PKID_PROTO_SCEP][3];
}

/* A bar segment from y (bottom) up h, with a tooltip. */
static enum pkid_code
seg(struct pkid_buf *b, const char *cls, double x, double w, double *y,
    double h, unsigned n, int ago, const char *what, struct pkid_err *e)
{
	if (n == 0)
		return PKID_OK;
	*y -= h;
	return pkid_buf_printf(b, e, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" "
	    "width=\"%.1f\" height=\"%.1f\"><title>%u %s, %d min ago</title>"
	    "</rect>", cls, x, *y, w, h, n, what, ago);
}

enum pkid_code
pkid_status_svg_minutes(const struct pkid_status_view *v,
    struct pkid_buf *b, struct pkid_err *e)
{
	const struct pkid_status_snap *s = v->snap;
	unsigned est, scep, bad, max = 1, t;
	double w = 1000.0 / PKID_STATUS_MINUTES, y, k;
	int i, ago;
	enum pkid_code rc = PKID_E_INTERNAL;

	for (i = 0; i < PKID_STATUS_MINUTES; i++) {
		minute_n(s, i, &est, &scep, &bad);
		if ((t = est + scep + bad) > max)
			max = t;
	}
	k = 118.0 / max;
	PKID_TRY(pkid_buf_printf(b, e, "<div class=\"ch\"><div class=\"chy\">"
	    "<span>%u</span><span>0</span></div><svg id=\"per-minute\" "
	    "viewBox=\"0 0 1000 120\" preserveAspectRatio=\"none\" "
	    "style=\"height:120px\" role=\"img\" aria-label=\"enrollments "
	    "per minute, last hour\" data-max=\"%u\"><line class=\"gl\" "
	    "x1=\"0\" y1=\"1\" x2=\"1000\" y2=\"1\" vector-effect=\""
	    "non-scaling-stroke\"/><line class=\"gl\" x1=\"0\" y1=\"119\" "
	    "x2=\"1000\" y2=\"119\" vector-effect=\"non-scaling-stroke\"/>",
	    max, max));
	for (i = 0; i < PKID_STATUS_MINUTES; i++) {
		minute_n(s, i, &est, &scep, &bad);
		ago = PKID_STATUS_MINUTES - 1 - i;
		y = 119;
		PKID_TRY(seg(b, "est", i * w + 2, w - 4, &y, est * k, est,
		    ago, "EST", e));
		PKID_TRY(seg(b, "scep", i * w + 2, w - 4, &y, scep * k, scep,
		    ago, "SCEP", e));
		PKID_TRY(seg(b, "bad", i * w + 2, w - 4, &y, bad * k, bad,
		    ago, "refused or failed", e));
	}
	PKID_TRY(pkid_buf_printf(b, e, "</svg></div><div class=\"tla chx\">"
	    "<span>-60 min</span><span>-30 min</span><span>now</span></div>"));
	rc = PKID_OK;
out:
	return rc;
}
