/*
 * sim.c - the fleet simulator (sim.h): devices and a CA server of fixed
 * capacity, over the event queue of cohorts (queue.h).
 */
#include "sim/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/rollover.h"
#include "core/cfg.h"
#include "core/limits.h"
#include "sim/queue.h"
#include "sim/sim_int.h"

/* splitmix64 (Steele, Lea, Flood 2014): small, fast, seedable. */
static uint64_t
rnd(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static int64_t
uniform(struct sim *s, int64_t n)
{
	if (n <= 1)
		return 0;
	return (int64_t)((double)(rnd(s) >> 11) * 0x1.0p-53 * (double)n);
}

enum pkid_code
pkid_sim_gen_dates(const struct pkid_sim_timers *t, struct pkid_sim_gen *g,
    struct pkid_err *verdict, struct pkid_err *e)
{
	struct pkid_rollover_plan p;
	struct pkid_config *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	/* One profile of the leaf lifetime: what rollover.c reads. */
	c->rollover_overlap = t->overlap;
	c->rollover_margin = t->margin;
	c->n_profiles = 1;
	snprintf(c->profiles[0].name, sizeof(c->profiles[0].name), "device");
	c->profiles[0].lifetime = t->leaf_life;
	c->profiles[0].renew_at = t->renew_pct;
	pkid_err_clear(verdict);
	(void)pkid_rollover_plan(c, g->not_before, g->not_after, &p, verdict);
	free(c);
	g->shadow_at = p.shadow_at > g->not_before ? p.shadow_at :
	    g->not_before + 1;
	g->activate_at = t->activate_at_end ? g->not_after : p.activate_at;
	/* Nothing issues from a generation before it exists. */
	if (g->activate_at < g->shadow_at)
		g->activate_at = g->shadow_at;
	return PKID_OK;
}

/* The server's generations until the end of the run. */
static enum pkid_code
build_gens(struct sim *s, struct pkid_err *e)
{
	struct pkid_sim_result *r = s->r;
	struct pkid_sim_gen *g = r->gens, *n;
	struct pkid_err v;
	enum pkid_code rc;
	int k;

	g[0].not_before = g[0].active_from = s->t->start;
	g[0].not_after = s->t->start + s->t->ca_life;
	for (k = 0;; k++) {
		if ((rc = pkid_sim_gen_dates(s->t, &g[k], &v, e)) != PKID_OK)
			return rc;
		if (k == 0) {
			r->verdict = v.code;
			snprintf(r->verdict_detail, sizeof(r->verdict_detail),
			    "%s", v.code != PKID_OK ? v.detail : "");
			if (v.code == PKID_E_CA_LIFETIME_SHORT)
				return PKID_ERR(e, v.code, "%s", v.detail);
		}
		if (k + 1 >= PKID_SIM_MAX_GENS || g[k].shadow_at >= r->end)
			break;
		n = &g[k + 1];
		n->not_before = g[k].shadow_at;
		n->not_after = pkid_rollover_next_not_after(n->not_before,
		    g[k].not_before, g[k].not_after, 0);
		n->active_from = g[k].activate_at;
	}
	r->n_gens = k + 1;
	return PKID_OK;
}

int
sim_newest_at(const struct sim *s, int64_t t)
{
	int k;

	for (k = s->r->n_gens - 1; k > 0; k--)
		if (s->r->gens[k].not_before <= t)
			break;
	return k;
}

/* The generation that issues now. */
static int
active_gen(const struct sim *s)
{
	int k;

	for (k = s->r->n_gens - 1; k > 0; k--)
		if (s->r->gens[k].active_from <= s->now)
			break;
	return k;
}

void
sim_close_minute(struct sim *s)
{
	if (s->in_min > s->r->peak) {
		s->r->peak = s->in_min;
		s->r->peak_minute = s->minute * 60;
	}
	if (s->served_min > s->r->peak_served)
		s->r->peak_served = s->served_min;
	s->in_min = s->served_min = 0;
}

/* k requests arrive now; how many the server answers this minute. */
static uint64_t
offer(struct sim *s, uint64_t k)
{
	uint64_t cap = (uint64_t)s->t->server_per_min, room, served;
	int64_t m = s->now / 60;

	if (m != s->minute) {
		sim_close_minute(s);
		s->minute = m;
	}
	room = s->in_min < cap ? cap - s->in_min : 0;
	served = k < room ? k : room;
	s->in_min += k;
	s->served_min += served;
	s->r->requests += k;
	s->r->served += served;
	s->r->refused += k - served;
	return served;
}

static void
note(struct sim *s, uint32_t d, enum pkid_sim_step step, int gen,
    int64_t na)
{
	struct pkid_sim_trace x;

	if (s->o->trace == NULL)
		return;
	x.t = s->now;
	x.dev = d;
	x.step = step;
	x.gen = gen + 1;
	x.not_after = na;
	s->o->trace(s->o->trace_arg, &x);
}

/* Device d does kind at t, alone. */
static void
at(struct sim *s, uint32_t d, int kind, int64_t t)
{
	uint32_t id = pkid_simq_new(&s->q, t, kind);

	pkid_simq_add(&s->q, id, d);
	pkid_simq_push(&s->q, id, t);
}

/* Queue entry id at t: the GetNextCACert retry loop of fixed-period
 * timers in the ring (each entry lands at now + period, so the ring
 * stays in time order), the rest in the heap. */
static void
requeue(struct sim *s, uint32_t id, int64_t t)
{
	if (s->q.ent[id].kind == SIM_NEXTCA && !s->t->retry_backoff)
		pkid_simq_append(&s->q, id, t);
	else
		pkid_simq_push(&s->q, id, t);
}

/* The entry of kind at now + the fixed period, made when first needed:
 * every device failing at this second retries in it. */
static uint32_t
fixed_entry(struct sim *s, int kind)
{
	int64_t t = s->now + s->t->retry_base;
	uint32_t id;

	if (s->rent[kind] != PKID_SIMQ_NONE && s->rkey[kind] == t)
		return s->rent[kind];
	id = pkid_simq_new(&s->q, t, kind);
	requeue(s, id, t);
	s->rent[kind] = id;
	s->rkey[kind] = t;
	return id;
}

/* The backoff delay of device d's next try, drawn in [d/2, d]. */
static int64_t
backoff(struct sim *s, uint32_t d)
{
	int64_t dl = s->t->retry_base, half;
	int i;

	for (i = 0; i < s->dev[d].fails && dl < s->t->retry_max; i++)
		dl *= 2;
	if (dl > s->t->retry_max)
		dl = s->t->retry_max;
	if (s->dev[d].fails < UINT8_MAX)
		s->dev[d].fails++;
	half = dl / 2;
	return dl - half + uniform(s, half + 1);
}

static void
retry(struct sim *s, uint32_t d, int kind)
{
	if (!s->t->retry_backoff)
		pkid_simq_add(&s->q, fixed_entry(s, kind), d);
	else
		at(s, d, kind, s->now + backoff(s, d));
}

/* Devices of entry id join the loop: one that lacks the newest CA
 * certificate may get a 200 next time. */
static void
joining(struct sim *s, uint32_t id)
{
	uint32_t d;

	for (d = s->q.ent[id].head; d != PKID_SIMQ_NONE; d = s->q.next[d])
		if (s->dev[d].trust < s->newest)
			s->hungry = 1;
}

/* The rest of entry id was refused: each retries; with a fixed period
 * the entry moves as a whole (or joins the one already there). */
static void
refused(struct sim *s, uint32_t id)
{
	struct pkid_simq_ent *x = &s->q.ent[id];
	int64_t t = s->now + s->t->retry_base;
	int kind = x->kind;
	uint32_t d;

	if (s->o->trace != NULL)
		for (d = x->head; d != PKID_SIMQ_NONE; d = s->q.next[d])
			note(s, d, PKID_SIM_REFUSED, s->dev[d].gen, 0);
	if (x->count > 0 && !s->t->retry_backoff) {
		/* The ring's own entries are in the loop already. */
		if (kind == SIM_NEXTCA && !x->ring)
			joining(s, id);
		if (s->rent[kind] == PKID_SIMQ_NONE || s->rkey[kind] != t) {
			requeue(s, id, t);
			s->rent[kind] = id;
			s->rkey[kind] = t;
			return;
		}
		pkid_simq_splice(&s->q, s->rent[kind], id);
	}
	while ((d = pkid_simq_take(&s->q, id)) != PKID_SIMQ_NONE)
		retry(s, d, kind);
	pkid_simq_release(&s->q, id);
}

static void
lapse(struct sim *s, uint32_t d)
{
	s->r->lapses++;
	if (!s->dev[d].lapsed)
		s->r->lapsed_devices++;
	s->dev[d].lapsed = 1;
	note(s, d, PKID_SIM_LAPSED, s->dev[d].gen, s->dev[d].na);
}

/* Issue device d a certificate now, and set its renewal. */
static void
issue(struct sim *s, uint32_t d)
{
	const struct pkid_sim_timers *t = s->t;
	struct sim_dev *v = &s->dev[d];
	int g = active_gen(s);
	int64_t life, when;

	/* A device that holds the next generation's CA certificate asks
	 * that one (IOS's shadow enrollment). */
	if (v->trust > g && v->trust <= s->newest)
		g = v->trust;
	if (v->na != 0 && s->now > v->na)
		lapse(s, d);
	v->na = pkid_rollover_leaf_end(s->now, t->leaf_life,
	    s->r->gens[g].not_after);
	v->gen = (int16_t)g;
	if (v->trust < g)
		v->trust = (int16_t)g;
	v->fails = 0;
	s->r->issued++;
	note(s, d, PKID_SIM_ISSUED, g, v->na);
	life = v->na - s->now;
	when = s->now + life * t->renew_pct / 100;
	if (t->renew_jitter_pct > 0)
		when += uniform(s, (v->na - when) * t->renew_jitter_pct / 100 +
		    1);
	at(s, d, SIM_RENEW, when > s->now ? when : s->now + 1);
}

static void
do_issue(struct sim *s, uint32_t id)
{
	uint64_t i, served = offer(s, s->q.ent[id].count);

	for (i = 0; i < served; i++)
		issue(s, pkid_simq_take(&s->q, id));
	refused(s, id);
}

/* GetNextCACert answered: 200 when a newer generation exists. */
static void
answer_nextca(struct sim *s, uint32_t d, int newest)
{
	struct sim_dev *v = &s->dev[d];

	if (newest > v->trust) {
		v->trust = (int16_t)newest;
		v->fails = 0;
		s->r->nextca_ok++;
		s->r->last_ok = s->now;
		note(s, d, PKID_SIM_NEXTCA_OK, newest, 0);
		at(s, d, SIM_ISSUE, s->now);
		return;
	}
	s->r->nextca_404++;
	if (s->r->first_404 == 0)
		s->r->first_404 = s->now;
	s->r->last_404 = s->now;
	note(s, d, PKID_SIM_NEXTCA_404, v->trust, 0);
	retry(s, d, SIM_NEXTCA);
}

static void
do_nextca(struct sim *s, uint32_t id)
{
	uint64_t i, served = offer(s, s->q.ent[id].count);
	int newest = s->newest;

	for (i = 0; i < served; i++)
		answer_nextca(s, pkid_simq_take(&s->q, id), newest);
	refused(s, id);
}

/* Renewal time: ask for the next CA first when the CA that issued the
 * certificate ends within ask and no newer one is known. */
static void
do_renew(struct sim *s, uint32_t id)
{
	struct sim_dev *v;
	uint32_t d;

	while ((d = pkid_simq_take(&s->q, id)) != PKID_SIMQ_NONE) {
		v = &s->dev[d];
		if (v->trust <= v->gen &&
		    s->now >= s->r->gens[v->gen].not_after - s->ask)
			at(s, d, SIM_NEXTCA, s->now);
		else
			at(s, d, SIM_ISSUE, s->now);
	}
	pkid_simq_release(&s->q, id);
}

static enum pkid_code
setup(struct sim *s, struct pkid_err *e)
{
	uint32_t n = s->o->devices, d;
	enum pkid_code rc;
	int k;

	if (n < 1 || n > PKID_SIM_MAX_DEVICES || s->o->years < 1 ||
	    s->o->years > PKID_SIM_MAX_YEARS)
		return PKID_ERR(e, PKID_E_USAGE, "a simulation takes 1 to %d "
		    "devices and 1 to %d years, not %u and %d",
		    PKID_SIM_MAX_DEVICES, PKID_SIM_MAX_YEARS, n, s->o->years);
	s->r->end = s->t->start + (int64_t)s->o->years * 365 * 86400;
	s->ask = s->t->ask_before > 0 ? s->t->ask_before : s->t->leaf_life;
	s->rng = s->o->seed;
	s->minute = -1;
	for (k = 0; k < SIM_N; k++)
		s->rent[k] = PKID_SIMQ_NONE;
	if ((rc = build_gens(s, e)) != PKID_OK)
		return rc;
	/* A device is in one entry at most; a refused cohort and the
	 * retry entries of this second add a few. */
	if ((rc = pkid_simq_init(&s->q, n, n + SIM_N + 2, e)) != PKID_OK)
		return rc;
	if ((s->dev = calloc(n, sizeof(*s->dev))) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for %u devices",
		    n);
	for (d = 0; d < n; d++) {
		s->dev[d].trust = -1;
		at(s, d, SIM_ISSUE, s->t->start +
		    uniform(s, s->t->enroll_period));
	}
	return PKID_OK;
}

/* Run entry id (just popped). */
static void
step(struct sim *s, uint32_t id)
{
	int newest;

	s->now = s->q.ent[id].t;
	s->r->events++;
	/* A new generation: every device in the loop may get a 200. */
	if ((newest = sim_newest_at(s, s->now)) != s->newest) {
		s->newest = newest;
		s->hungry = 1;
	}
	/* Nothing in the loop (this entry aside): nobody is waiting. */
	if (s->q.ring_n == 0 && !s->q.ent[id].ring)
		s->hungry = 0;
	switch (s->q.ent[id].kind) {
	case SIM_ISSUE: do_issue(s, id); break;
	case SIM_NEXTCA: do_nextca(s, id); break;
	case SIM_RENEW: do_renew(s, id); break;
	default: pkid_simq_release(&s->q, id); break;
	}
}

/* Devices whose certificate ended before the run did and had none after
 * it lapsed too. */
static void
finish(struct sim *s)
{
	uint32_t d;

	sim_close_minute(s);
	s->now = s->r->end;
	for (d = 0; d < s->o->devices; d++)
		if (s->dev[d].na != 0 && s->dev[d].na < s->r->end)
			lapse(s, d);
}

enum pkid_code
pkid_sim_run(const struct pkid_sim_timers *t, const struct pkid_sim_opts *o,
    struct pkid_sim_result *r, struct pkid_err *e)
{
	struct sim s;
	uint32_t id;
	enum pkid_code rc;

	memset(r, 0, sizeof(*r));
	memset(&s, 0, sizeof(s));
	s.t = t;
	s.o = o;
	s.r = r;
	if ((rc = setup(&s, e)) != PKID_OK)
		goto out;
	for (;;) {
		sim_skip(&s);
		if ((id = pkid_simq_pop(&s.q)) == PKID_SIMQ_NONE ||
		    s.q.ent[id].t >= r->end)
			break;
		step(&s, id);
	}
	finish(&s);
	rc = PKID_OK;
out:
	pkid_simq_free(&s.q);
	free(s.dev);
	return rc;
}
