/*
 * sim_test.c - the fleet simulator: its event queue, its timer sets, one
 * device's life under IOS's and pkid's timers, the server's capacity,
 * backoff, determinism.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/queue.h"
#include "sim/sim.h"

#define DAY INT64_C(86400)

/* A trace kept for a test: the steps of every device, in order. */
struct steps {
	struct pkid_sim_trace s[64];	/* the first 64 steps */
	int n;				/* steps kept */
	uint64_t total;			/* steps seen */
	uint64_t n404;			/* NEXTCA_404 steps */
	int64_t last_404;		/* time of the last */
	uint32_t watch;			/* the device whose refusals */
	int64_t refused_at[64];		/* ... are kept: their times */
	int n_refused;			/* kept */
};

static void
keep(void *arg, const struct pkid_sim_trace *s)
{
	struct steps *k = arg;

	k->total++;
	if (s->step == PKID_SIM_NEXTCA_404) {
		k->n404++;
		k->last_404 = s->t;
		return;
	}
	if (s->step == PKID_SIM_REFUSED) {
		if (s->dev == k->watch && k->n_refused < 64)
			k->refused_at[k->n_refused++] = s->t;
		return;
	}
	if (k->n < 64)
		k->s[k->n++] = *s;
}

static void
test_queue_order(void **state)
{
	static const int64_t t[] = { 5, 3, 9, 3, 1, 3 };
	struct pkid_simq q;
	struct pkid_err e;
	uint32_t id, ids[6];
	int64_t last = -1;
	uint64_t last_seq = 0;
	size_t i;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_simq_init(&q, 6, 6, &e), PKID_OK);
	for (i = 0; i < 6; i++) {
		ids[i] = pkid_simq_new(&q, t[i], (int)i);
		pkid_simq_add(&q, ids[i], (uint32_t)i);
		pkid_simq_push(&q, ids[i], t[i]);
	}
	/* The pool is full. */
	assert_int_equal(pkid_simq_new(&q, 0, 0), PKID_SIMQ_NONE);
	/* Time order; at equal times, insertion order (kinds 1, 3, 5). */
	for (i = 0; i < 6; i++) {
		id = pkid_simq_pop(&q);
		assert_true(q.ent[id].t > last || (q.ent[id].t == last &&
		    q.ent[id].seq > last_seq));
		if (q.ent[id].t == 3)
			assert_int_equal(q.ent[id].kind, i == 1 ? 1 : i == 2 ?
			    3 : 5);
		last = q.ent[id].t;
		last_seq = q.ent[id].seq;
		pkid_simq_release(&q, id);
	}
	assert_int_equal(pkid_simq_pop(&q), PKID_SIMQ_NONE);
	pkid_simq_free(&q);
}

static void
test_queue_cohorts(void **state)
{
	struct pkid_simq q;
	struct pkid_err e;
	uint32_t a, b;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_simq_init(&q, 8, 4, &e), PKID_OK);
	a = pkid_simq_new(&q, 10, 0);
	b = pkid_simq_new(&q, 10, 0);
	pkid_simq_add(&q, a, 4);
	pkid_simq_add(&q, a, 2);
	pkid_simq_add(&q, b, 7);
	pkid_simq_add(&q, b, 1);
	/* b's devices follow a's, in their order; b is left empty. */
	pkid_simq_splice(&q, a, b);
	assert_int_equal(q.ent[a].count, 4);
	assert_int_equal(q.ent[b].count, 0);
	assert_int_equal(pkid_simq_take(&q, b), PKID_SIMQ_NONE);
	assert_int_equal(pkid_simq_take(&q, a), 4);
	assert_int_equal(pkid_simq_take(&q, a), 2);
	assert_int_equal(pkid_simq_take(&q, a), 7);
	assert_int_equal(pkid_simq_take(&q, a), 1);
	assert_int_equal(pkid_simq_take(&q, a), PKID_SIMQ_NONE);
	/* An emptied list takes devices again. */
	pkid_simq_add(&q, a, 3);
	assert_int_equal(q.ent[a].head, 3);
	assert_int_equal(q.ent[a].tail, 3);
	pkid_simq_free(&q);
}

static void
test_presets_and_dates(void **state)
{
	struct pkid_sim_timers t;
	struct pkid_sim_gen g;
	struct pkid_err e, v;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_preset("ios", &t, &e), PKID_OK);
	memset(&g, 0, sizeof(g));
	g.not_before = t.start;
	g.not_after = t.start + 1825 * DAY;
	assert_int_equal(pkid_sim_gen_dates(&t, &g, &v, &e), PKID_OK);
	assert_int_equal(g.shadow_at, g.not_after - 30 * DAY);
	assert_int_equal(g.activate_at, g.not_after);
	/* pkid would refuse IOS's overlap, with the dates. */
	assert_int_equal(v.code, PKID_E_ROLLOVER_OVERLAP_SHORT);
	assert_non_null(strstr(v.detail, "607d"));
	assert_int_equal(pkid_sim_timers_preset("pkid", &t, &e), PKID_OK);
	assert_int_equal(pkid_sim_gen_dates(&t, &g, &v, &e), PKID_OK);
	assert_int_equal(g.shadow_at, g.not_after - 607 * DAY);
	assert_int_equal(g.activate_at, g.not_after - 600 * DAY);
	assert_int_equal(v.code, PKID_OK);
	assert_int_equal(pkid_sim_timers_preset("nope", &t, &e),
	    PKID_E_USAGE);
}

static void
test_timers_ini(void **state)
{
	struct pkid_sim_timers t;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_parse("t.ini", "[timers]\n"
	    "name = mine\nca_lifetime = 1000d\noverlap = 30d\nactivate = "
	    "expiry\nleaf_lifetime = 300d\nrenew_at = 80%\nrenew_jitter = 0\n"
	    "ask_next_ca = 90d\nretry = fixed\nretry_base = 5m\nretry_max = "
	    "5m\nserver_per_min = 40\nenroll_period = 30d\nstart = "
	    "2030-01-01\n", &t, &e), PKID_OK);
	assert_string_equal(t.name, "mine");
	assert_int_equal(t.ca_life, 1000 * DAY);
	assert_int_equal(t.overlap, 30 * DAY);
	assert_int_equal(t.activate_at_end, 1);
	assert_int_equal(t.renew_pct, 80);
	assert_int_equal(t.ask_before, 90 * DAY);
	assert_int_equal(t.retry_backoff, 0);
	assert_int_equal(t.retry_base, 300);
	assert_int_equal(t.server_per_min, 40);
	assert_int_equal(t.start, INT64_C(1893456000));
	/* Keys left out keep pkid's preset. */
	assert_int_equal(pkid_sim_timers_parse("t.ini", "[timers]\n"
	    "overlap = derived\nask_next_ca = outlive\n", &t, &e), PKID_OK);
	assert_int_equal(t.overlap, 0);
	assert_int_equal(t.ask_before, 0);
	assert_int_equal(t.retry_backoff, 1);
	assert_string_equal(t.name, "t.ini");
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_parse("t.ini", "[timers]\nfoo = 1\n",
	    &t, &e), PKID_E_CONFIG_UNKNOWN_KEY);
	assert_non_null(strstr(e.detail, "t.ini:2"));
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_parse("t.ini", "[timers]\n"
	    "renew_at = 120%\n", &t, &e), PKID_E_CONFIG_BAD_VALUE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_parse("t.ini", "[other]\nname = x\n",
	    &t, &e), PKID_E_CONFIG_UNKNOWN_KEY);
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_parse("t.ini", "[timers]\n"
	    "overlap = 2000d\n", &t, &e), PKID_E_CONFIG_BAD_VALUE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_parse("t.ini", "[timers]\nretry_base"
	    " = 10m\nretry_max = 1m\n", &t, &e), PKID_E_CONFIG_BAD_VALUE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_parse("t.ini", "not ini\n", &t, &e),
	    PKID_E_CONFIG_SYNTAX);
}

/* One device enrolling at the start, traced. */
static void
one_device(struct pkid_sim_timers *t, struct steps *k,
    struct pkid_sim_result *r)
{
	struct pkid_sim_opts o;
	struct pkid_err e;

	memset(k, 0, sizeof(*k));
	memset(&o, 0, sizeof(o));
	t->enroll_period = 1;
	o.devices = 1;
	o.years = 6;
	o.seed = 7;
	o.trace = keep;
	o.trace_arg = k;
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_run(t, &o, r, &e), PKID_OK);
}

/*
 * IOS: renewals at 70% of 600 days, the third cut at the CA's end, the
 * fourth within 180 days of it: GetNextCACert answered 404 every minute
 * until the shadow is made 30 days before the end, then 200 and a
 * certificate from the shadow.
 */
static void
test_one_device_ios(void **state)
{
	struct pkid_sim_timers t;
	struct pkid_sim_result r;
	struct pkid_err e;
	struct steps k;
	int64_t s0, na, ask, shadow;
	int i;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_preset("ios", &t, &e), PKID_OK);
	one_device(&t, &k, &r);
	s0 = t.start;
	na = s0 + 1825 * DAY;
	shadow = na - 30 * DAY;
	for (i = 0; i < 3; i++) {
		assert_int_equal(k.s[i].step, PKID_SIM_ISSUED);
		assert_int_equal(k.s[i].t, s0 + i * 420 * DAY);
		assert_int_equal(k.s[i].gen, 1);
		assert_int_equal(k.s[i].not_after, s0 + (i * 420 + 600) * DAY);
	}
	assert_int_equal(k.s[3].t, s0 + 1260 * DAY);
	assert_int_equal(k.s[3].not_after, na);	/* cut at the CA's end */
	ask = k.s[3].t + (na - k.s[3].t) * 70 / 100;
	assert_true(ask >= na - 180 * DAY);
	/* A 404 every minute from its renewal until the shadow exists. */
	assert_int_equal(k.n404, (uint64_t)((shadow - ask + 59) / 60));
	assert_int_equal(r.nextca_404, k.n404);
	assert_true(k.last_404 < shadow);
	assert_int_equal(k.s[4].step, PKID_SIM_NEXTCA_OK);
	assert_true(k.s[4].t >= shadow && k.s[4].t < shadow + 60);
	assert_int_equal(k.s[4].gen, 2);
	assert_int_equal(k.s[5].step, PKID_SIM_ISSUED);
	assert_int_equal(k.s[5].gen, 2);
	assert_int_equal(k.s[5].not_after, k.s[5].t + 600 * DAY);
	assert_int_equal(k.n, 6);
	assert_int_equal(r.lapsed_devices, 0);
	assert_int_equal(r.refused, 0);
	assert_int_equal(r.issued, 5);
	/* GetNextCACert, then the request, in one minute. */
	assert_int_equal(r.peak, 2);
	assert_int_equal(r.n_gens, 2);
}

/*
 * pkid: renewals at 70-73%; the first renewal whose certificate would
 * outlive the CA comes after activation, when the next generation has
 * existed for M already: 200 at once, never a 404.
 */
static void
test_one_device_pkid(void **state)
{
	struct pkid_sim_timers t;
	struct pkid_sim_result r;
	struct pkid_err e;
	struct steps k;
	int64_t life = 600 * DAY, prev, gap;
	int i, asked = 0;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_preset("pkid", &t, &e), PKID_OK);
	one_device(&t, &k, &r);
	assert_int_equal(k.s[0].step, PKID_SIM_ISSUED);
	assert_int_equal(k.s[0].t, t.start);
	prev = k.s[0].t;
	for (i = 1; i < k.n; i++) {
		if (k.s[i].step == PKID_SIM_NEXTCA_OK) {
			assert_true(k.s[i].t >= r.gens[0].activate_at);
			assert_true(k.s[i].t >= r.gens[1].not_before +
			    t.margin);
			asked++;
			continue;
		}
		assert_int_equal(k.s[i].step, PKID_SIM_ISSUED);
		/* Never cut short: a full lifetime each time. */
		assert_int_equal(k.s[i].not_after, k.s[i].t + life);
		assert_int_equal(k.s[i].gen, asked ? 2 : 1);
		gap = k.s[i].t - prev;
		assert_true(gap >= life * 70 / 100);
		assert_true(gap <= life * 70 / 100 + life * 30 / 100 / 10 + 1);
		prev = k.s[i].t;
	}
	assert_int_equal(asked, 1);
	assert_int_equal(k.n404, 0);
	assert_int_equal(r.nextca_404, 0);
	assert_int_equal(r.lapsed_devices, 0);
}

/* Three devices at the same second, a server of one request a minute:
 * one each minute, the others refused and retried a minute later. */
static void
test_capacity(void **state)
{
	struct pkid_sim_timers t;
	struct pkid_sim_result r;
	struct pkid_sim_opts o;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_preset("ios", &t, &e), PKID_OK);
	t.server_per_min = 1;
	t.enroll_period = 1;
	memset(&o, 0, sizeof(o));
	o.devices = 3;
	o.years = 1;	/* before any renewal (600-day leaves) */
	assert_int_equal(pkid_sim_run(&t, &o, &r, &e), PKID_OK);
	assert_int_equal(r.issued, 3);
	assert_int_equal(r.requests, 6);	/* 3, then 2, then 1 */
	assert_int_equal(r.refused, 3);
	assert_int_equal(r.peak, 3);
	assert_int_equal(r.peak_minute, t.start);
	assert_int_equal(r.peak_served, 1);
	/* Three entries, then the refused ones move as one cohort: one
	 * entry a minute (alone they would be 2, then 1: 6 in all). */
	assert_int_equal(r.events, 5);
}

/* Backoff: each refusal doubles the wait, drawn in [d/2, d]. */
static void
test_backoff(void **state)
{
	struct pkid_sim_timers t;
	struct pkid_sim_result r;
	struct pkid_sim_opts o;
	struct pkid_err e;
	struct steps k;
	int64_t d, w;
	int i;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_preset("pkid", &t, &e), PKID_OK);
	t.server_per_min = 1;
	t.enroll_period = 1;
	t.retry_max = 3600;
	memset(&k, 0, sizeof(k));
	k.watch = 199;	/* the last in line */
	memset(&o, 0, sizeof(o));
	o.devices = 200;
	o.years = 1;
	o.seed = 3;
	o.trace = keep;
	o.trace_arg = &k;
	assert_int_equal(pkid_sim_run(&t, &o, &r, &e), PKID_OK);
	assert_true(k.n_refused >= 6);
	for (i = 1, d = 60; i < k.n_refused; i++) {
		w = k.refused_at[i] - k.refused_at[i - 1];
		assert_true(w >= d - d / 2 && w <= d);
		d = d * 2 < t.retry_max ? d * 2 : t.retry_max;
	}
	assert_int_equal(r.issued, 200);
}

static void
test_deterministic(void **state)
{
	struct pkid_sim_timers t;
	struct pkid_sim_result a, b;
	struct pkid_sim_opts o;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_preset("pkid", &t, &e), PKID_OK);
	memset(&o, 0, sizeof(o));
	o.devices = 500;
	o.years = 6;
	o.seed = 42;
	assert_int_equal(pkid_sim_run(&t, &o, &a, &e), PKID_OK);
	assert_int_equal(pkid_sim_run(&t, &o, &b, &e), PKID_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(a.nextca_404, 0);
	assert_int_equal(a.lapsed_devices, 0);
}

static void
test_refusals(void **state)
{
	struct pkid_sim_timers t;
	struct pkid_sim_result r;
	struct pkid_sim_opts o;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_preset("pkid", &t, &e), PKID_OK);
	memset(&o, 0, sizeof(o));
	o.devices = 0;
	o.years = 6;
	assert_int_equal(pkid_sim_run(&t, &o, &r, &e), PKID_E_USAGE);
	/* A generation shorter than L + M cannot roll over at all. */
	t.ca_life = 500 * DAY;
	o.devices = 1;
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_run(&t, &o, &r, &e),
	    PKID_E_CA_LIFETIME_SHORT);
}

static void
no_trace(void *arg, const struct pkid_sim_trace *s)
{
	(void)arg;
	(void)s;
}

/*
 * Counting whole periods of the retry loop (skip.c) gives what running
 * every minute gives: IOS-like timers scaled down to a CA of 60 days, so
 * a year holds several rollovers (and several storms), and a server of
 * 10 requests a minute for 80 devices. A trace turns the counting off.
 */
static void
test_skip_exact(void **state)
{
	struct pkid_sim_timers t;
	struct pkid_sim_result run, skip;
	struct pkid_sim_opts o;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_sim_timers_preset("ios", &t, &e), PKID_OK);
	t.ca_life = 60 * DAY;
	t.overlap = 1 * DAY;
	t.leaf_life = 20 * DAY;
	t.ask_before = 6 * DAY;
	t.enroll_period = 10 * DAY;
	t.server_per_min = 10;
	memset(&o, 0, sizeof(o));
	o.devices = 80;
	o.years = 1;
	o.seed = 9;
	o.trace = no_trace;
	assert_int_equal(pkid_sim_run(&t, &o, &run, &e), PKID_OK);
	o.trace = NULL;
	assert_int_equal(pkid_sim_run(&t, &o, &skip, &e), PKID_OK);
	assert_true(skip.events < run.events / 10);
	assert_true(run.nextca_404 > 0 && run.refused > 0);
	assert_true(run.n_gens >= 6);
	skip.events = run.events;
	assert_memory_equal(&run, &skip, sizeof(run));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_order),
		cmocka_unit_test(test_queue_cohorts),
		cmocka_unit_test(test_presets_and_dates),
		cmocka_unit_test(test_timers_ini),
		cmocka_unit_test(test_one_device_ios),
		cmocka_unit_test(test_one_device_pkid),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_skip_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
