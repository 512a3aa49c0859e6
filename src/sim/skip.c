/*
 * skip.c - counting whole periods of the GetNextCACert retry loop
 * instead of running them (sim_int.h).
 *
 * With IOS's timers thousands of devices ask every minute for months
 * while nothing changes: every answer is a 404 or a refusal, and both
 * mean "again in a minute". The loop's entries sit in the queue's ring,
 * in time order, within one period. When nothing else happens before a
 * time `until` (no other event, no new generation, the end of the run)
 * and no device in the loop can get a 200, each period until then is
 * the same: per calendar minute, the same cohorts ask, the server
 * answers the first server_per_min of them (404), refuses the rest. The
 * period's counts are made once from the ring, multiplied, and the
 * ring's entries moved on by the periods skipped: the results are those
 * of running every minute (sim_test.c compares both).
 *
 * Only for a period that is a whole number of minutes, so each period's
 * calendar minutes repeat; never with a trace, which wants every step.
 */
#include "sim/sim_int.h"

/* The first generation made after t; INT64_MAX when none. */
static int64_t
next_made(const struct sim *s, int64_t t)
{
	int k;

	for (k = 0; k < s->r->n_gens; k++)
		if (s->r->gens[k].not_before > t)
			return s->r->gens[k].not_before;
	return INT64_MAX;
}

/* What one period of the loop does. */
struct period {
	uint64_t requests;	/* offered */
	uint64_t served;	/* answered: each a 404 */
	int64_t first;		/* time of its first answer, 0: none */
	int64_t last;		/* time of its last answer */
};

/*
 * Count the minute of the period made of ring entries [i, j): the first
 * cap requests are answered. Peaks go to the result (this is the first
 * period skipped, where a peak first occurs).
 */
static void
count_minute(struct sim *s, uint32_t i, uint32_t j, struct period *p)
{
	const struct pkid_simq_ent *x;
	uint64_t cap = (uint64_t)s->t->server_per_min, n = 0, seen = 0;
	uint64_t served;
	uint32_t k;

	for (k = i; k < j; k++)
		n += s->q.ent[PKID_SIMQ_RING(&s->q, k)].count;
	served = n < cap ? n : cap;
	/* The entries answered: the first, up to the served-th request. */
	for (k = i; seen < served; k++) {
		x = &s->q.ent[PKID_SIMQ_RING(&s->q, k)];
		if (p->first == 0)
			p->first = x->t;
		p->last = x->t;
		seen += x->count;
	}
	p->requests += n;
	p->served += served;
	x = &s->q.ent[PKID_SIMQ_RING(&s->q, i)];
	if (n > s->r->peak) {
		s->r->peak = n;
		s->r->peak_minute = x->t - x->t % 60;
	}
	if (served > s->r->peak_served)
		s->r->peak_served = served;
}

/* One period's counts, minute by minute. */
static void
count_period(struct sim *s, struct period *p)
{
	uint32_t i = 0, j;
	int64_t m;

	while (i < s->q.ring_n) {
		m = s->q.ent[PKID_SIMQ_RING(&s->q, i)].t / 60;
		for (j = i + 1; j < s->q.ring_n &&
		    s->q.ent[PKID_SIMQ_RING(&s->q, j)].t / 60 == m; j++)
			;
		count_minute(s, i, j, p);
		i = j;
	}
}

/* How many periods can be counted from the ring's first entry on: all
 * of their minutes end before the minute of the next change. */
static int64_t
periods(struct sim *s)
{
	const struct pkid_simq *q = &s->q;
	int64_t p = s->t->retry_base, heap = pkid_simq_heap_next(q);
	int64_t t, w0, until;

	if (s->t->retry_backoff || p % 60 != 0 || s->o->trace != NULL ||
	    s->hungry || q->ring_n == 0)
		return 0;
	t = q->ent[PKID_SIMQ_RING(q, 0)].t;
	w0 = t - t % 60;
	/* The loop goes first, in a minute not begun, all in one period,
	 * and every device in it has the newest CA certificate. */
	if (heap <= t || t / 60 <= s->minute ||
	    q->ent[PKID_SIMQ_RING(q, q->ring_n - 1)].t >= w0 + p ||
	    sim_newest_at(s, t) != s->newest)
		return 0;
	until = next_made(s, t);
	until = heap < until ? heap : until;
	until = s->r->end < until ? s->r->end : until;
	return (until - until % 60 - w0) / p;
}

void
sim_skip(struct sim *s)
{
	struct pkid_simq *q = &s->q;
	struct pkid_sim_result *r = s->r;
	struct pkid_simq_ent *x;
	struct period per = { 0, 0, 0, 0 };
	int64_t k = periods(s), shift;
	uint32_t i;

	if (k < 1)
		return;
	shift = k * s->t->retry_base;
	sim_close_minute(s);
	count_period(s, &per);
	r->requests += (uint64_t)k * per.requests;
	r->served += (uint64_t)k * per.served;
	r->refused += (uint64_t)k * (per.requests - per.served);
	r->nextca_404 += (uint64_t)k * per.served;
	if (per.served > 0) {
		if (r->first_404 == 0)
			r->first_404 = per.first;
		r->last_404 = per.last + shift - s->t->retry_base;
	}
	/* On by k periods; fresh insertion numbers in ring order, as
	 * running them would have given. */
	for (i = 0; i < q->ring_n; i++) {
		x = &q->ent[PKID_SIMQ_RING(q, i)];
		x->t += shift;
		x->seq = q->seq++;
	}
	s->rent[SIM_NEXTCA] = PKID_SIMQ_NONE;
}
