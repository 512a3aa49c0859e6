/*
 * admit.c - admission by queueing delay (see admit.h): an EWMA of the
 * handler service time says how long a job queued now would wait, an
 * EWMA of completions per second says when a refused client should come
 * back. The pool calls these under its mutex.
 *
 * The wait of a new job: with n threads and running jobs on them, it
 * starts at once while running < n and nothing is queued; otherwise the
 * queued jobs ahead and the new one need queued + running - n + 1 thread
 * slots to free up, which n threads do at n per service time, give or
 * take the spread of that many service times. The
 * service time is the EWMA, or longer while all threads are busy and
 * none took a job for longer than that: nothing finished meanwhile (a
 * freed thread takes the next job at once), so the jobs running now are
 * at least that slow.
 */
#include <math.h>

#include "core/limits.h"
#include "http/admit.h"

void
pkid_http_admit_init(struct pkid_http_admit *a, int n, int bound_ms)
{
	a->n = n > 0 ? n : 1;
	a->bound_ms = bound_ms;
	a->svc_ms = 0;
	a->dev_ms = 0;
	a->rate = 0;
	a->win_start = 0;
	a->win_done = 0;
	a->last_start = 0;
}

/* Close the rate window when it is long enough: its completions per
 * second go into the EWMA (an idle window brings the rate down). */
static void
roll(struct pkid_http_admit *a, uint64_t now_ms)
{
	uint64_t el;
	double sample;

	if (now_ms < a->win_start)
		return;
	el = now_ms - a->win_start;
	if (el < PKID_HTTP_ADMIT_WINDOW_MS)
		return;
	sample = (double)a->win_done * 1000.0 / (double)el;
	if (a->rate <= 0)
		a->rate = sample;
	else
		a->rate += (sample - a->rate) * PKID_HTTP_ADMIT_RATE_ALPHA;
	a->win_start = now_ms;
	a->win_done = 0;
}

void
pkid_http_admit_started(struct pkid_http_admit *a, uint64_t now_ms)
{
	a->last_start = now_ms;
}

void
pkid_http_admit_done(struct pkid_http_admit *a, uint64_t service_us,
    uint64_t now_ms)
{
	double s = (double)service_us / 1000.0;

	if (a->svc_ms <= 0) {
		a->svc_ms = s;
	} else {
		a->dev_ms += (fabs(s - a->svc_ms) - a->dev_ms) *
		    PKID_HTTP_ADMIT_SVC_ALPHA;
		a->svc_ms += (s - a->svc_ms) * PKID_HTTP_ADMIT_SVC_ALPHA;
	}
	roll(a, now_ms);
	a->win_done++;
}

double
pkid_http_admit_wait_ms(const struct pkid_http_admit *a, int queued,
    int running, uint64_t now_ms)
{
	int slots = queued + running - a->n + 1;
	double svc = a->svc_ms;

	if (slots <= 0)
		return 0;
	if (running >= a->n && a->last_start != 0 && now_ms > a->last_start &&
	    (double)(now_ms - a->last_start) > svc)
		svc = (double)(now_ms - a->last_start);
	return ((double)slots * svc + PKID_HTTP_ADMIT_DEV_K *
	    sqrt((double)slots) * a->dev_ms) / (double)a->n;
}

int
pkid_http_admit_ok(const struct pkid_http_admit *a, int queued, int running,
    uint64_t head_ms, uint64_t now_ms)
{
	if (a->bound_ms <= 0)
		return 1;
	if (head_ms > (uint64_t)a->bound_ms)
		return 0;
	/* Until a job finished, how long one takes is unknown: one job
	 * may wait per thread. */
	if (a->svc_ms <= 0 && queued >= a->n)
		return 0;
	return pkid_http_admit_wait_ms(a, queued, running, now_ms) <=
	    (double)a->bound_ms;
}

double
pkid_http_admit_rate(struct pkid_http_admit *a, uint64_t now_ms)
{
	roll(a, now_ms);
	return a->rate;
}

int
pkid_http_admit_retry_s(struct pkid_http_admit *a, int queued,
    uint64_t now_ms, uint32_t rnd)
{
	double rate = pkid_http_admit_rate(a, now_ms), drain;
	long base, spread, r;

	/* No completion measured yet: what the threads can do. */
	if (rate <= 0 && a->svc_ms > 0)
		rate = (double)a->n * 1000.0 / a->svc_ms;
	drain = rate > 0 ? (double)(queued > 0 ? queued : 1) / rate : 1;
	if (drain > PKID_HTTP_ADMIT_MAX_RETRY_S)
		drain = PKID_HTTP_ADMIT_MAX_RETRY_S;
	base = (long)ceil(drain);
	if (base < PKID_HTTP_ADMIT_MIN_RETRY_S)
		base = PKID_HTTP_ADMIT_MIN_RETRY_S;
	/* Spread the returns: up to half the drain time, at least 1 s. */
	spread = base / 2 > 1 ? base / 2 : 1;
	r = base + (long)(rnd % (uint32_t)(spread + 1));
	if (r > PKID_HTTP_ADMIT_MAX_RETRY_S)
		r = PKID_HTTP_ADMIT_MAX_RETRY_S;
	return (int)r;
}
