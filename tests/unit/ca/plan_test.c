/*
 * plan_test.c - pkictl ca plan's data (pkid_ca_plan_view) and picture
 * (pkid_plan_svg, pkid_plan_html).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ca/plan.h"
#include "core/clock.h"

#define DAY INT64_C(86400)

static char dir[256];

static int
setup(void **state)
{
	char tmpl[] = "/tmp/pkid-plan-test.XXXXXX";
	struct pkid_ca_init_opts o;
	struct pkid_err e;

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s/ca", tmpl);
	memset(&o, 0, sizeof(o));
	o.domain = "example.com";
	pkid_err_clear(&e);
	return pkid_ca_init(dir, &o, &e) == PKID_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	pkid_clock_set(0);
	snprintf(cmd, sizeof(cmd), "rm -rf \"$(dirname '%s')\"", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct pkid_ca *
open_ca(void)
{
	struct pkid_ca *ca = NULL;
	struct pkid_err e;

	pkid_err_clear(&e);
	assert_int_equal(pkid_ca_open(dir, &ca, &e), PKID_OK);
	return ca;
}

static void
view_of(struct pkid_ca *ca, struct pkid_plan_view *v)
{
	struct pkid_err e;

	pkid_err_clear(&e);
	assert_int_equal(pkid_ca_plan_view(ca, v, &e), PKID_OK);
}

/* A fresh CA: root and issuing from the store, the planned successor
 * made at the shadow date, four sample devices. */
static void
test_view_fresh(void **state)
{
	struct pkid_ca *ca = open_ca();
	struct pkid_plan_view v;
	const struct pkid_rollover_plan *p = &v.plan;
	const struct pkid_plan_gen *c, *n;
	int i;

	(void)state;
	view_of(ca, &v);
	assert_int_equal(v.verdict, PKID_OK);
	assert_int_equal(v.n_gens, 3);
	c = &v.gens[v.cur];
	n = &v.gens[v.next];
	assert_string_equal(c->role, "issuing");
	assert_string_equal(c->state, "current");
	assert_string_equal(v.gens[v.root].role, "root");
	assert_string_equal(n->state, "planned");
	assert_int_equal(n->generation, 2);
	/* The default device profile: 365 days, margin 7 days. */
	assert_int_equal(p->leaf_max, 365 * DAY);
	assert_int_equal(p->overlap, 372 * DAY);
	assert_int_equal(p->shadow_at, c->not_after - 372 * DAY);
	assert_int_equal(p->activate_at, c->not_after - 365 * DAY);
	assert_int_equal(v.must_exist_by, p->shadow_at);
	assert_int_equal(n->not_before, p->shadow_at);
	assert_int_equal(n->not_after, pkid_rollover_next_not_after(
	    p->shadow_at, c->not_before, c->not_after,
	    v.gens[v.root].not_after));
	assert_int_equal(v.n_samples, 4);
	assert_int_equal(v.samples[0].issued, c->not_before);
	for (i = 0; i < 4; i++) {
		assert_int_equal(v.samples[i].gen, v.cur);
		assert_int_equal(v.samples[i].end, pkid_rollover_leaf_end(
		    v.samples[i].issued, p->leaf_max, c->not_after));
		/* Renewing from activation needs the next CA. */
		assert_int_equal(v.samples[i].needs_next, i >= 2);
		assert_int_equal(v.samples[i].needs_next,
		    v.samples[i].renew >= p->activate_at);
	}
	assert_int_equal(v.samples[2].renew, p->activate_at);
	pkid_ca_close(ca);
}

/* A shadow the CA made (pkid_ca_rollover) is the successor drawn, at
 * the dates the store has: made now, activation as scheduled. */
static void
test_view_shadow_made(void **state)
{
	struct pkid_ca *ca = open_ca();
	struct pkid_rollover_opts o;
	struct pkid_plan_view v;
	struct pkid_err e;
	int64_t act;
	int i;

	(void)state;
	view_of(ca, &v);
	act = v.plan.activate_at - 30 * DAY;
	memset(&o, 0, sizeof(o));
	o.activate_at = act;
	o.actor = "test";
	pkid_err_clear(&e);
	assert_int_equal(pkid_ca_rollover(ca, &o, &e), PKID_OK);
	view_of(ca, &v);
	assert_int_equal(v.n_gens, 3);
	assert_string_equal(v.gens[v.next].state, "shadow");
	assert_int_equal(v.gens[v.next].generation, 2);
	assert_string_equal(v.gens[v.next].subject, v.gens[v.cur].subject);
	assert_true(v.made_at <= (int64_t)pkid_now());
	assert_int_equal(v.made_at, v.gens[v.next].not_before);
	assert_int_equal(v.activate_at, act);
	/* Samples follow the scheduled activation, not the rule's. */
	for (i = 0; i < v.n_samples; i++)
		assert_int_equal(v.samples[i].needs_next,
		    v.samples[i].renew >= act);
	assert_int_equal(v.samples[2].renew, act);
	pkid_ca_close(ca);
}

/* What pkid refuses is still drawn, with the refusal. */
static void
test_view_refused(void **state)
{
	struct pkid_ca *ca = open_ca();
	struct pkid_plan_view v;
	int64_t na;

	(void)state;
	ca->cfg.rollover_overlap = 30 * DAY;
	view_of(ca, &v);
	na = v.gens[v.cur].not_after;
	assert_int_equal(v.verdict, PKID_E_ROLLOVER_OVERLAP_SHORT);
	assert_non_null(strstr(v.verdict_detail, "372d"));
	assert_int_equal(v.plan.shadow_at, na - 30 * DAY);
	assert_true(v.plan.shadow_at > v.must_exist_by);
	/* A clock before the CA: no dates from pkid_ca_check_plan, made
	 * here to draw. */
	ca->cfg.rollover_overlap = 0;
	pkid_clock_set((time_t)(v.gens[v.cur].not_before - DAY));
	view_of(ca, &v);
	assert_int_equal(v.verdict, PKID_E_CLOCK_BEFORE_CA);
	assert_int_equal(v.plan.shadow_at, na - 372 * DAY);
	assert_int_equal(v.n_samples, 4);
	pkid_clock_set(0);
	pkid_ca_close(ca);
}

/* A view of a generation valid 1000 days from day 0 at t0. */
static void
synthetic(struct pkid_plan_view *v, int64_t t0)
{
	struct pkid_rollover_plan *p = &v->plan;

	memset(v, 0, sizeof(*v));
	snprintf(v->ca_name, sizeof(v->ca_name), "a&b<c>");
	v->now = t0 + 10 * DAY;
	p->not_before = t0;
	p->not_after = t0 + 1000 * DAY;
	p->leaf_max = 200 * DAY;
	snprintf(p->leaf_profile, sizeof(p->leaf_profile), "device");
	p->renew_pct = 70;
	p->margin = 7 * DAY;
	p->needed = 207 * DAY;
	p->overlap = 30 * DAY;
	p->shadow_at = p->not_after - 30 * DAY;
	p->activate_at = p->not_after - 200 * DAY;
	v->must_exist_by = p->not_after - 207 * DAY;
	v->verdict = PKID_E_ROLLOVER_OVERLAP_SHORT;
	snprintf(v->verdict_detail, sizeof(v->verdict_detail), "too <late>");
	v->n_gens = 2;
	v->cur = 0;
	v->next = 1;
	v->root = -1;
	snprintf(v->gens[0].role, sizeof(v->gens[0].role), "issuing");
	snprintf(v->gens[0].state, sizeof(v->gens[0].state), "current");
	v->gens[0].generation = 1;
	v->gens[0].not_before = p->not_before;
	v->gens[0].not_after = p->not_after;
	v->gens[1] = v->gens[0];
	snprintf(v->gens[1].state, sizeof(v->gens[1].state), "planned");
	v->gens[1].generation = 2;
	v->gens[1].not_before = p->shadow_at;
	v->gens[1].not_after = p->shadow_at + 1000 * DAY;
	v->gens[1].activate_at = p->activate_at;
	v->made_at = p->shadow_at;
	v->activate_at = p->activate_at;
}

static void
test_svg(void **state)
{
	struct pkid_plan_view v;
	struct pkid_buf b;
	struct pkid_err e;
	char want[96];
	const char *s;

	(void)state;
	synthetic(&v, INT64_C(1893456000));
	pkid_err_clear(&e);
	pkid_buf_init(&b, 1 << 20);
	assert_int_equal(pkid_plan_svg(&v, &b, &e), PKID_OK);
	s = (const char *)b.p;
	assert_true(strncmp(s, "<svg xmlns=\"http://www.w3.org/2000/svg\"",
	    39) == 0);
	assert_non_null(strstr(s, "</svg>\n"));
	/* Text is escaped; nothing refers outside the document. */
	assert_non_null(strstr(s, "a&amp;b&lt;c&gt;"));
	assert_non_null(strstr(s, "too &lt;late&gt;"));
	assert_null(strstr(s, "href"));
	/* The marks carry their dates. */
	snprintf(want, sizeof(want), "id=\"mark-shadow\" class=\"mark\" "
	    "data-t=\"%lld\"", (long long)v.plan.shadow_at);
	assert_non_null(strstr(s, want));
	snprintf(want, sizeof(want), "id=\"gap\" data-t=\"%lld\" "
	    "data-t-end=\"%lld\"", (long long)v.plan.activate_at,
	    (long long)v.plan.shadow_at);
	assert_non_null(strstr(s, want));
	assert_non_null(strstr(s, "data-code=\"rollover-overlap-too-short\""));
	pkid_buf_free(&b);
	/* The HTML page embeds the same picture. */
	pkid_buf_init(&b, 1 << 20);
	assert_int_equal(pkid_plan_html(&v, &b, &e), PKID_OK);
	s = (const char *)b.p;
	assert_true(strncmp(s, "<!DOCTYPE html>", 15) == 0);
	assert_non_null(strstr(s, "<svg xmlns="));
	assert_non_null(strstr(s, "</html>\n"));
	pkid_buf_free(&b);
	/* A buffer too small fails cleanly. */
	pkid_buf_init(&b, 256);
	pkid_err_clear(&e);
	assert_int_not_equal(pkid_plan_svg(&v, &b, &e), PKID_OK);
	pkid_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_view_fresh, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_view_shadow_made, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_view_refused, setup,
		    teardown),
		cmocka_unit_test(test_svg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
