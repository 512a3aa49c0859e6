/*
 * plan.c - the data of pkictl ca plan (plan.h): generations from the
 * store, dates from pkid_ca_check_plan, sample devices from rollover.h.
 */
#include "ca/plan.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"

static int
is_ca_role(const char *role)
{
	return strcmp(role, "root") == 0 || strcmp(role, "issuing") == 0;
}

/* Make room by dropping the first retired row; 0 when there is none. */
static int
drop_retired(struct pkid_plan_view *v)
{
	int i;

	for (i = 0; i < v->n_gens; i++)
		if (strcmp(v->gens[i].state, "retired") == 0) {
			memmove(&v->gens[i], &v->gens[i + 1],
			    (size_t)(v->n_gens - i - 1) * sizeof(v->gens[0]));
			v->n_gens--;
			return 1;
		}
	return 0;
}

static enum pkid_code
add_gen(const struct pkid_ca_gen *g, void *arg, struct pkid_err *e)
{
	struct pkid_plan_view *v = arg;
	struct pkid_plan_gen *p;

	(void)e;
	if (!is_ca_role(g->role))
		return PKID_OK;
	/* Full (one slot stays for the planned successor): the oldest
	 * retired row makes room; rows come oldest first, so the signing
	 * generation finds room unless 15 are current or shadow. */
	if (v->n_gens >= PKID_PLAN_MAX_GENS - 1 && !drop_retired(v))
		return PKID_OK;
	p = &v->gens[v->n_gens];
	p->generation = g->generation;
	snprintf(p->role, sizeof(p->role), "%s", g->role);
	snprintf(p->state, sizeof(p->state), "%s", g->state);
	snprintf(p->subject, sizeof(p->subject), "%s", g->subject);
	p->not_before = g->not_before;
	p->not_after = g->not_after;
	p->id = g->id;
	p->activate_at = g->activate_at;
	v->n_gens++;
	return PKID_OK;
}

/* Roots first, then by generation. */
static int
gen_order(const void *a, const void *b)
{
	const struct pkid_plan_gen *x = a, *y = b;
	int rx = strcmp(x->role, "root") == 0;
	int ry = strcmp(y->role, "root") == 0;

	if (rx != ry)
		return ry - rx;
	return (x->generation > y->generation) -
	    (x->generation < y->generation);
}

/* Sort the rows; find the signing generation and the current root. */
static void
order(struct pkid_plan_view *v, int64_t issuing_id)
{
	int i;

	qsort(v->gens, (size_t)v->n_gens, sizeof(v->gens[0]), gen_order);
	for (i = 0; i < v->n_gens; i++) {
		if (v->gens[i].id == issuing_id)
			v->cur = i;
		if (strcmp(v->gens[i].role, "root") == 0 &&
		    strcmp(v->gens[i].state, "current") == 0)
			v->root = i;
	}
}

/* The successor of gens[cur]: the store's shadow row, else planned. */
static void
next_gen(struct pkid_plan_view *v)
{
	const struct pkid_plan_gen *c = &v->gens[v->cur];
	struct pkid_plan_gen *n, next;
	int64_t issuer_na = 0;
	int i;

	for (i = 0; i < v->n_gens; i++)
		if (strcmp(v->gens[i].role, c->role) == 0 &&
		    strcmp(v->gens[i].state, "shadow") == 0) {
			v->next = i;
			return;
		}
	if (strcmp(c->role, "issuing") == 0 && v->root >= 0)
		issuer_na = v->gens[v->root].not_after;
	n = &next;
	memset(n, 0, sizeof(*n));
	n->generation = c->generation + 1;
	snprintf(n->role, sizeof(n->role), "%s", c->role);
	snprintf(n->state, sizeof(n->state), "planned");
	n->not_before = v->plan.shadow_at;
	n->not_after = pkid_rollover_next_not_after(n->not_before,
	    c->not_before, c->not_after, issuer_na);
	n->activate_at = v->plan.activate_at;
	v->gens[v->n_gens] = next;
	v->next = v->n_gens++;
}

/* The successor, when it appears and when it takes over. */
static void
find_next(struct pkid_plan_view *v)
{
	const struct pkid_plan_gen *n;

	next_gen(v);
	n = &v->gens[v->next];
	v->made_at = n->not_before;
	v->activate_at = n->activate_at > 0 ? n->activate_at :
	    v->plan.activate_at;
}

/* One sample device issued at t, if t falls in the generation's life
 * and after the previous sample. */
static void
add_sample(struct pkid_plan_view *v, const char *why, int64_t t)
{
	const struct pkid_rollover_plan *p = &v->plan;
	struct pkid_plan_sample *s;
	int64_t ca_na;

	if (v->n_samples >= PKID_PLAN_SAMPLES || t < p->not_before ||
	    t >= p->not_after || (v->n_samples > 0 &&
	    t <= v->samples[v->n_samples - 1].issued))
		return;
	s = &v->samples[v->n_samples++];
	s->why = why;
	s->issued = t;
	s->gen = t < v->activate_at ? v->cur : v->next;
	ca_na = v->gens[s->gen].not_after;
	s->end = pkid_rollover_leaf_end(t, p->leaf_max, ca_na);
	s->capped = s->end < t + p->leaf_max;
	s->renew = t + (s->end - t) * p->renew_pct / 100;
	/* From activation new certificates come from the next generation:
	 * a device renewing then needs its CA certificate first. */
	s->needs_next = s->gen == v->cur && s->renew >= v->activate_at;
}

/* The sample dates: the CA's start, then nearer and nearer activation. */
static void
samples(struct pkid_plan_view *v)
{
	const struct pkid_rollover_plan *p = &v->plan;

	add_sample(v, "CA start", p->not_before);
	add_sample(v, "renews before activation", v->activate_at -
	    p->leaf_max);
	add_sample(v, "first to renew at activation", v->activate_at -
	    p->leaf_max * p->renew_pct / 100);
	add_sample(v, "last issued by this generation", v->activate_at -
	    86400);
}

/* The dates, and the refusal when pkid would refuse them. */
static void
dates(struct pkid_ca *ca, struct pkid_plan_view *v)
{
	const struct pkid_plan_gen *c = &v->gens[v->cur];
	struct pkid_err ve;

	pkid_err_clear(&ve);
	if (pkid_ca_check_plan(ca, &v->plan, &ve) == PKID_E_CLOCK_BEFORE_CA) {
		struct pkid_err ignored;

		/* Refused before any date was made: make them to draw. */
		pkid_err_clear(&ignored);
		(void)pkid_rollover_plan(&ca->cfg, c->not_before,
		    c->not_after, &v->plan, &ignored);
	}
	v->verdict = ve.code;
	if (ve.code != PKID_OK)
		pkid_err_message(&ve, v->verdict_detail,
		    sizeof(v->verdict_detail));
	v->must_exist_by = v->plan.not_after - v->plan.needed;
}

enum pkid_code
pkid_ca_plan_view(struct pkid_ca *ca, struct pkid_plan_view *v,
    struct pkid_err *e)
{
	enum pkid_code rc;

	memset(v, 0, sizeof(*v));
	snprintf(v->ca_name, sizeof(v->ca_name), "%s", ca->cfg.ca_name);
	v->now = (int64_t)pkid_now();
	v->cur = v->root = -1;
	if ((rc = pkid_store_ca_gen_list(ca->store, ca->cfg.ca_name, add_gen,
	    v, e)) != PKID_OK)
		return rc;
	order(v, ca->issuing_gen);
	if (v->cur < 0)
		return PKID_ERR(e, PKID_E_STORE_SCHEMA, "the store has no row "
		    "for the generation that signs leaves (id %lld)",
		    (long long)ca->issuing_gen);
	dates(ca, v);
	find_next(v);
	samples(v);
	return PKID_OK;
}
