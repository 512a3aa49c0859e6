/*
 * admit.h - admission by queueing delay for the handler pool (pool.c).
 *
 * The pool keeps, under its own mutex, an estimate of how long a job it
 * accepts now would wait for a handler thread: the jobs ahead of it times
 * an EWMA of the handler service time, over the threads. A job whose wait
 * would pass the bound ([server] max_queue_delay) is refused at once (503
 * overloaded) instead of queued, so an admitted request is answered
 * within about the bound and a refused one learns it in microseconds.
 * Retry-After follows the current drain rate: the jobs queued over an
 * EWMA of completions per second, with jitter, clamped.
 *
 * Everything here is O(1), takes "now" from its caller (monotonic ms,
 * pkid_mono_ms() in the server, a fixed clock in tests) and does no
 * locking: the caller holds the pool's mutex.
 */
#ifndef PKID_HTTP_ADMIT_H
#define PKID_HTTP_ADMIT_H

#include <stdint.h>

struct pkid_http_admit {
	int n;			/* handler threads */
	int bound_ms;		/* longest wait admitted, ms; <= 0: no bound */
	double svc_ms;		/* EWMA of a job's service time, ms; 0 when
				 * no job finished yet */
	double rate;		/* EWMA of completions per second, 0 when
				 * unknown */
	uint64_t win_start;	/* start of the current rate window, ms */
	unsigned win_done;	/* completions in it */
};

/* Set up a for n handler threads and a bound in ms (<= 0: none). */
void pkid_http_admit_init(struct pkid_http_admit *a, int n, int bound_ms);
/* A job finished after running service_us, at now_ms. */
void pkid_http_admit_done(struct pkid_http_admit *a, uint64_t service_us,
    uint64_t now_ms);
/*
 * Estimated wait, ms, of a job queued now behind queued others while
 * running handlers run (0 when a thread is free).
 */
double pkid_http_admit_wait_ms(const struct pkid_http_admit *a, int queued,
    int running);
/* 1 when a job queued now would wait at most the bound. */
int pkid_http_admit_ok(const struct pkid_http_admit *a, int queued,
    int running);
/* Completions per second now (the EWMA, with the window under way). */
double pkid_http_admit_rate(struct pkid_http_admit *a, uint64_t now_ms);
/*
 * Retry-After seconds for a refused job: the time to drain queued jobs
 * at the current rate, plus jitter from rnd (any 32 random bits) of up
 * to half that and at least one second, within [PKID_HTTP_ADMIT_MIN_
 * RETRY_S, PKID_HTTP_ADMIT_MAX_RETRY_S].
 */
int pkid_http_admit_retry_s(struct pkid_http_admit *a, int queued,
    uint64_t now_ms, uint32_t rnd);

#endif
