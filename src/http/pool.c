/*
 * pool.c - the handler threads: a fixed number of threads taking jobs
 * (offloaded requests, request.c) from one bounded queue shared by all
 * workers. A finished job goes back to the worker that owns its
 * connection: onto that worker's done list, under its mutex, and
 * event_active() on its done event wakes its loop (libevent's locking is
 * on, server.c: evthread_use_pthreads before any event base).
 *
 * A full queue is the caller's answer (503), never a wait: the event loop
 * must not block. So is a job that would wait longer than the bound of
 * admit.c (503 overloaded): the pool measures each job's service time
 * and the completions per second to estimate that wait in O(1) when the
 * job is submitted, before any work is done for it.
 *
 * PKID_TEST_DELAY_MS=N (builds with PKID_TEST_HOOKS only) makes every
 * job N ms slower, as a slow disk or upstream CA would: the overload test
 * saturates the pool with it without spending the machine's CPU.
 *
 * Stopping lets each thread finish the handler it runs; jobs still
 * queued then are freed unanswered (by then the workers have drained and
 * closed their connections).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "core/clock.h"
#include "http/admit.h"
#include "http/server_int.h"

struct pkid_http_pool {
	pthread_mutex_t mu;		/* guards the fields below */
	pthread_cond_t cv;		/* work arrived, or stop */
	struct pkid_http_job *head;	/* queued jobs, oldest first */
	struct pkid_http_job *tail;	/* ... newest */
	int queued;			/* jobs queued */
	int max_queued;			/* bound on queued */
	int running;			/* jobs in a handler now */
	struct pkid_http_admit adm;	/* admission by queueing delay */
	int delay_ms;			/* test hook: added to every job */
	int n;				/* threads to run */
	pthread_t *threads;		/* n threads */
	int started;			/* threads started */
	int stop;			/* stop asked */
};

enum pkid_code
pkid_http_pool_new(int n, int max_queued, int max_delay_ms,
    struct pkid_http_pool **out, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	struct pkid_http_pool *p = NULL;
	int mu = 0;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	PKID_CHECK(p != NULL, PKID_E_NOMEM, "no memory for the handler pool");
	p->threads = calloc((size_t)n, sizeof(*p->threads));
	PKID_CHECK(p->threads != NULL, PKID_E_NOMEM,
	    "no memory for %d handler threads", n);
	PKID_CHECK(pthread_mutex_init(&p->mu, NULL) == 0, PKID_E_INTERNAL,
	    "cannot create the handler pool's mutex");
	mu = 1;
	PKID_CHECK(pthread_cond_init(&p->cv, NULL) == 0, PKID_E_INTERNAL,
	    "cannot create the handler pool's condition");
	p->n = n;
	p->max_queued = max_queued;
	pkid_http_admit_init(&p->adm, n, max_delay_ms);
#ifdef PKID_TEST_HOOKS
	{
		const char *d = getenv("PKID_TEST_DELAY_MS");
		int64_t v;

		if (d != NULL && pkid_parse_int(d, 0, 60000, &v, NULL) ==
		    PKID_OK)
			p->delay_ms = (int)v;
	}
#endif
	*out = p;
	p = NULL;
	rc = PKID_OK;
out:
	if (p != NULL) {
		if (mu)
			pthread_mutex_destroy(&p->mu);
		free(p->threads);
		free(p);
	}
	return rc;
}

/* Give a finished job back to its worker's loop. */
static void
post(struct pkid_http_job *job)
{
	struct pkid_http_worker *w = job->w;

	pthread_mutex_lock(&w->done_mu);
	if (w->done_closed) {
		pthread_mutex_unlock(&w->done_mu);
		/* The loop is gone and its connections with it. */
		pkid_http_job_free(job);
		return;
	}
	job->next = NULL;
	if (w->done_tail != NULL)
		w->done_tail->next = job;
	else
		w->done_head = job;
	w->done_tail = job;
	event_active(w->done_ev, EV_READ, 1);
	pthread_mutex_unlock(&w->done_mu);
}

static void *
pool_main(void *arg)
{
	struct pkid_http_pool *p = arg;
	struct pkid_http_job *job;
	uint64_t t0;
	sigset_t all;

	/* Signals go to the threads the program chose. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->stop && p->head == NULL)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		job = p->head;
		p->head = job->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued--;
		p->running++;
		pkid_http_admit_started(&p->adm, pkid_mono_ms());
		pthread_mutex_unlock(&p->mu);
		job->next = NULL;
		t0 = pkid_mono_us();
		ERR_clear_error();
		if (p->delay_ms > 0)
			usleep((useconds_t)p->delay_ms * 1000);
		pkid_http_job_run(job);
		ERR_clear_error();
		pthread_mutex_lock(&p->mu);
		p->running--;
		pkid_http_admit_done(&p->adm, pkid_mono_us() - t0,
		    pkid_mono_ms());
		pthread_mutex_unlock(&p->mu);
		post(job);
	}
	return NULL;
}

enum pkid_code
pkid_http_pool_start(struct pkid_http_pool *p, struct pkid_err *e)
{
	int err;

	for (; p->started < p->n; p->started++) {
		err = pthread_create(&p->threads[p->started], NULL, pool_main,
		    p);
		if (err != 0)
			return PKID_ERR(e, PKID_E_INTERNAL, "cannot start "
			    "handler thread %d of %d: %s", p->started + 1, p->n,
			    strerror(err));
	}
	return PKID_OK;
}

enum pkid_http_submit
pkid_http_pool_submit(struct pkid_http_pool *p, struct pkid_http_job *job,
    struct pkid_http_refused *why)
{
	enum pkid_http_submit ok = PKID_HTTP_SUBMIT_OK;
	uint64_t now = pkid_mono_ms(), head;
	uint32_t rnd = 0;
	double wait;

	memset(why, 0, sizeof(*why));
	pthread_mutex_lock(&p->mu);
	head = p->head != NULL && now > p->head->q_ms ? now - p->head->q_ms :
	    0;
	if (p->stop || p->started == 0 || p->queued >= p->max_queued)
		ok = PKID_HTTP_SUBMIT_FULL;
	else if (!pkid_http_admit_ok(&p->adm, p->queued, p->running, head,
	    now))
		ok = PKID_HTTP_SUBMIT_LATE;
	if (ok != PKID_HTTP_SUBMIT_OK) {
		(void)RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
		wait = pkid_http_admit_wait_ms(&p->adm, p->queued, p->running,
		    now);
		why->queued = p->queued;
		why->wait_ms = (int)(wait > (double)head ? wait : (double)head);
		why->bound_ms = p->adm.bound_ms;
		why->retry_s = pkid_http_admit_retry_s(&p->adm, p->queued,
		    now, rnd);
	} else {
		job->next = NULL;
		job->q_ms = now;
		if (p->tail != NULL)
			p->tail->next = job;
		else
			p->head = job;
		p->tail = job;
		p->queued++;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return ok;
}

int
pkid_http_pool_queued(struct pkid_http_pool *p)
{
	int n;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->mu);
	n = p->queued;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
pkid_http_pool_stop(struct pkid_http_pool *p)
{
	struct pkid_http_job *job;
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->started; i++)
		pthread_join(p->threads[i], NULL);
	p->started = 0;
	while ((job = p->head) != NULL) {
		p->head = job->next;
		pkid_http_job_free(job);
	}
	p->tail = NULL;
	p->queued = 0;
}

void
pkid_http_pool_free(struct pkid_http_pool *p)
{
	if (p == NULL)
		return;
	pkid_http_pool_stop(p);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p);
}
