/*
 * admit.h - admission by queueing delay for the handler pool (pool.c).
 *
 * The pool keeps, under its own mutex, an estimate of how long a job it
 * accepts now would wait for a handler thread: the jobs ahead of it times
 * an EWMA of the handler service time, over the threads, plus twice the
 * spread such a sum has (its EWMA mean deviation times the square root
 * of the jobs ahead, as TCP's retransmission timer does). While every
 * thread is busy, the time since a job last started bounds the service
 * time from below (a cold start, or the threads all stuck in a slow
 * commit, before any completion tells the EWMA). A job whose wait would
 * pass the bound ([server] max_queue_delay) is refused at once (503
 * overloaded) instead of queued, and so is any job while the oldest
 * queued one has already waited longer than the bound; an admitted
 * request is answered within about the bound and a refused one learns
 * it in microseconds. Until the first job finished, one job may wait
 * per thread.
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
	double dev_ms;		/* EWMA of its deviation from svc_ms, ms */
	double rate;		/* EWMA of completions per second, 0 when
				 * unknown */
	uint64_t win_start;	/* start of the current rate window, ms */
	unsigned win_done;	/* completions in it */
	uint64_t last_start;	/* when a job last started, ms */
};

/* Set up a for n handler threads and a bound in ms (<= 0: none). */
void pkid_http_admit_init(struct pkid_http_admit *a, int n, int bound_ms);
/* A handler thread took a job at now_ms. */
void pkid_http_admit_started(struct pkid_http_admit *a, uint64_t now_ms);
/* A job finished after running service_us, at now_ms. */
void pkid_http_admit_done(struct pkid_http_admit *a, uint64_t service_us,
    uint64_t now_ms);
/*
 * Estimated wait, ms, of a job queued at now_ms behind queued others
 * while running handlers run (0 when a thread is free).
 */
double pkid_http_admit_wait_ms(const struct pkid_http_admit *a, int queued,
    int running, uint64_t now_ms);
/*
 * 1 when a job queued at now_ms would wait at most the bound, and the
 * oldest job queued has waited head_ms (0 when none) at most the bound
 * (before any job finished: when fewer jobs than threads wait).
 */
int pkid_http_admit_ok(const struct pkid_http_admit *a, int queued,
    int running, uint64_t head_ms, uint64_t now_ms);
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
