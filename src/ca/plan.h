/*
 * plan.h - what pkictl ca plan shows (DESIGN.md "CA generations and
 * rollover"): a CA's generations, the dates of the issuing generation's
 * succession (rollover.h), and the certificates of devices issued at a
 * few sample dates; as data (pkid_ca_plan_view) and as a picture, SVG or
 * an HTML page embedding it (plan_svg.c), for pkictl and the status page.
 */
#ifndef PKID_CA_PLAN_H
#define PKID_CA_PLAN_H

#include <stdint.h>

#include "ca/ca.h"
#include "ca/rollover.h"
#include "core/buf.h"
#include "core/err.h"

/* Most generations a view holds (the store's rows for root and issuing,
 * and the planned next one). */
#define PKID_PLAN_MAX_GENS 16
/* Sample devices a view follows. */
#define PKID_PLAN_SAMPLES 4

/* One CA generation. */
struct pkid_plan_gen {
	int generation;		/* 1, 2, ...: one more each rollover */
	char role[16];		/* "root" or "issuing" */
	char state[16];		/* "current", "shadow", "retired" (the
				 * store's), or "planned": not made yet, the
				 * successor the plan will make */
	char subject[512];	/* subject DN text, "" when planned */
	int64_t not_before;	/* validity, epoch seconds */
	int64_t not_after;
	int64_t id;		/* the store's row, 0 when planned */
	int64_t activate_at;	/* a shadow's (or the planned one's)
				 * activation, 0 for the others */
};

/* A device certificate issued at a sample date. */
struct pkid_plan_sample {
	const char *why;	/* what the date is, e.g. "CA start" */
	int64_t issued;		/* issued then */
	int gen;		/* by gens[gen] */
	int64_t renew;		/* renews from here (renew_at of it) */
	int64_t end;		/* its notAfter (pkid_rollover_leaf_end) */
	int capped;		/* cut at the generation's notAfter */
	int needs_next;		/* renewing at or after activation, it
				 * asks for the next CA certificate first */
};

/* Everything the text, JSON and picture show. */
struct pkid_plan_view {
	char ca_name[64];	/* [ca] name */
	int64_t now;		/* "today" (pkid_now) */
	struct pkid_rollover_plan plan;	/* the signing generation's
					 * dates */
	int64_t must_exist_by;	/* notAfter - (L + M): the latest the next
				 * generation may appear */
	int64_t made_at;	/* when the next generation appears: the
				 * shadow's notBefore, else plan.shadow_at */
	int64_t activate_at;	/* when it takes over issuance: the
				 * shadow's scheduled activation (pkictl
				 * ca rollover --activate-at moves it), else
				 * plan.activate_at */
	enum pkid_code verdict;	/* pkid_ca_check_plan's refusal or OK */
	char verdict_detail[512]; /* its message */
	int n_gens;		/* entries in gens: roots, then the signing
				 * line, each by generation */
	struct pkid_plan_gen gens[PKID_PLAN_MAX_GENS]; /* generations */
	int cur;		/* gens[cur]: the generation signing leaves */
	int next;		/* gens[next]: its successor (a shadow from
				 * the store, else the planned one) */
	int root;		/* gens[root]: the current root, -1 none */
	int n_samples;		/* entries in samples */
	struct pkid_plan_sample samples[PKID_PLAN_SAMPLES]; /* devices */
};

/*
 * The view of ca at pkid_now(). A configuration pkid refuses
 * (pkid_ca_check_plan: rollover-overlap-too-short, ca-lifetime-too-short,
 * clock-before-ca) is still a view, with the refusal in v->verdict, so
 * the picture shows what was refused. Errors: store-*, nomem.
 */
enum pkid_code pkid_ca_plan_view(struct pkid_ca *ca,
    struct pkid_plan_view *v, struct pkid_err *e);

/*
 * The picture of v as a self-contained SVG document appended to out (no
 * external assets): generations as bars, the overlap, the sample devices'
 * lifetimes and renewal windows, markers for today, the shadow's
 * creation, the date it must exist by, activation and expiry, and a time
 * axis. Every mark carries data-t="EPOCH" (and data-t-end for spans);
 * the axis group id="axis" carries data-t0, data-t1, data-x0, data-x1:
 * x = x0 + (t - t0) * (x1 - x0) / (t1 - t0), t clamped to [t0, t1].
 * Errors: too-large, nomem (out's limit).
 */
enum pkid_code pkid_plan_svg(const struct pkid_plan_view *v,
    struct pkid_buf *out, struct pkid_err *e);
/* An HTML page embedding the same SVG, with the dates as a table. */
enum pkid_code pkid_plan_html(const struct pkid_plan_view *v,
    struct pkid_buf *out, struct pkid_err *e);

#endif
