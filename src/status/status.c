/*
 * status.c - the process-wide counters of the status page and /metrics
 * (status.h).
 */
#include "status/status.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

static const char *const ep_names[PKID_EP_N] = {
	"est", "scep", "crl", "healthz", "status", "metrics", "other",
};

static const int http_codes[PKID_STATUS_HTTP_N] = {
	200, 202, 204, 301, 304, 400, 401, 403, 404, 405, 408, 411, 413,
	414, 415, 417, 429, 431, 500, 501, 502, 503, 504, 505,
};

/* "proto_op" of the operations timed; the endpoints without a protocol
 * by their own name; "other" last. */
static const char *const op_names[PKID_STATUS_OPS_N] = {
	"est_cacerts", "est_csrattrs", "est_simpleenroll",
	"est_simplereenroll", "est_serverkeygen", "scep_GetCACaps",
	"scep_GetCACert", "scep_GetNextCACert", "scep_PKCSReq",
	"scep_RenewalReq", "scep_CertPoll", "scep_GetCert", "scep_GetCRL",
	"est_other", "scep_other", "crl", "healthz", "status", "metrics",
	"errors", "none", "other",
};

const double pkid_status_req_bounds[PKID_STATUS_BUCKETS - 1] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5,
};
const double pkid_status_commit_bounds[PKID_STATUS_BUCKETS - 1] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 1,
};

struct hist {
	atomic_ullong b[PKID_STATUS_BUCKETS];	/* per bucket */
	atomic_ullong sum_us;			/* sum, us */
	atomic_ullong count;			/* observations */
};

/* One minute of the ring. */
struct minute {
	int64_t at;		/* epoch minute it holds, 0: none */
	uint32_t n[PKID_PROTO_N][PKID_STATUS_RESULTS];	/* enrollments */
	uint32_t n503;		/* 503s answered */
};

struct pkid_status {
	int64_t started;			/* epoch s */
	atomic_ullong req[PKID_EP_N][PKID_STATUS_HTTP_N + 1];
	struct hist lat[PKID_STATUS_OPS_N];	/* per operation */
	struct hist commit;			/* store commits */
	atomic_ullong issued;			/* certificates returned */
	pthread_mutex_t mu;			/* guards below */
	struct minute ring[PKID_STATUS_MINUTES]; /* by epoch minute */
	int n_enroll;				/* rows used */
	struct pkid_status_enroll enroll[PKID_STATUS_ENROLL_KEYS];
	size_t n_codes;				/* catalogue rows */
	struct pkid_status_err *errs;		/* one per catalogue row */
	int n_up;				/* rows used */
	struct pkid_status_upstream up[PKID_STATUS_UPSTREAMS];
};

struct pkid_status *
pkid_status_new(void)
{
	struct pkid_status *st = calloc(1, sizeof(*st));
	const struct pkid_errinfo *tab;
	size_t i;

	if (st == NULL)
		return NULL;
	tab = pkid_err_table(&st->n_codes);
	st->errs = calloc(st->n_codes, sizeof(*st->errs));
	if (st->errs == NULL) {
		free(st);
		return NULL;
	}
	for (i = 0; i < st->n_codes; i++)
		st->errs[i].code = tab[i].code;
	st->started = (int64_t)pkid_now();
	pthread_mutex_init(&st->mu, NULL);
	return st;
}

void
pkid_status_free(struct pkid_status *st)
{
	if (st == NULL)
		return;
	pthread_mutex_destroy(&st->mu);
	free(st->errs);
	free(st);
}

const char *
pkid_status_ep_name(int ep)
{
	return ep >= 0 && ep < PKID_EP_N ? ep_names[ep] : "other";
}

int
pkid_status_http_code(int i)
{
	return i >= 0 && i < PKID_STATUS_HTTP_N ? http_codes[i] : 0;
}

const char *
pkid_status_op_name(int i)
{
	return i >= 0 && i < PKID_STATUS_OPS_N ? op_names[i] : "other";
}

const char *
pkid_status_proto_name(int p)
{
	return p == PKID_PROTO_SCEP ? "scep" : "est";
}

static int
ep_of(const char *path)
{
	if (path == NULL)
		return PKID_EP_OTHER;
	if (strncmp(path, "/.well-known/est", 16) == 0)
		return PKID_EP_EST;
	if (strncmp(path, "/scep", 5) == 0 ||
	    strcmp(path, "/cgi-bin/pkiclient.exe") == 0)
		return PKID_EP_SCEP;
	if (strncmp(path, "/crl/", 5) == 0)
		return PKID_EP_CRL;
	if (strcmp(path, "/healthz") == 0)
		return PKID_EP_HEALTHZ;
	if (strcmp(path, "/") == 0 || strncmp(path, "/errors/", 8) == 0)
		return PKID_EP_STATUS;
	if (strcmp(path, "/metrics") == 0)
		return PKID_EP_METRICS;
	return PKID_EP_OTHER;
}

static int
status_col(int status)
{
	int i;

	for (i = 0; i < PKID_STATUS_HTTP_N; i++)
		if (http_codes[i] == status)
			return i;
	return PKID_STATUS_HTTP_N;
}

static int
op_index(const char *name)
{
	int i;

	for (i = 0; i < PKID_STATUS_OPS_N; i++)
		if (strcmp(op_names[i], name) == 0)
			return i;
	return PKID_STATUS_OPS_N - 1;
}

/* The operation of a request: "proto_op", else its endpoint's. */
static int
op_of(const struct pkid_status_req *r, int ep)
{
	char name[40];
	int i;

	if (r->t != NULL && r->t->proto[0] != '\0') {
		snprintf(name, sizeof(name), "%s_%s", r->t->proto, r->t->op);
		i = op_index(name);
		if (i != PKID_STATUS_OPS_N - 1)
			return i;
		snprintf(name, sizeof(name), "%s_other", r->t->proto);
		return op_index(name);
	}
	switch (ep) {
	case PKID_EP_CRL:
		return op_index("crl");
	case PKID_EP_HEALTHZ:
		return op_index("healthz");
	case PKID_EP_STATUS:
		return op_index(strcmp(r->path, "/") == 0 ? "status" :
		    "errors");
	case PKID_EP_METRICS:
		return op_index("metrics");
	case PKID_EP_EST:
		return op_index("est_other");
	case PKID_EP_SCEP:
		return op_index("scep_other");
	default:
		return op_index(r->path == NULL || strcmp(r->path, "-") == 0 ?
		    "none" : "other");
	}
}

static void
observe(struct hist *h, const double *bounds, uint64_t us)
{
	double s = (double)us / 1e6;
	int i;

	for (i = 0; i < PKID_STATUS_BUCKETS - 1 && s > bounds[i]; i++)
		;
	atomic_fetch_add(&h->b[i], 1);
	atomic_fetch_add(&h->sum_us, us);
	atomic_fetch_add(&h->count, 1);
}

void
pkid_status_commit(void *arg, uint64_t us, unsigned ops)
{
	struct pkid_status *st = arg;

	(void)ops;
	if (st != NULL)
		observe(&st->commit, pkid_status_commit_bounds, us);
}

/* The ring's minute for now (mu held), cleared when it is new. */
static struct minute *
minute_now(struct pkid_status *st, int64_t now)
{
	int64_t m = now / 60;
	struct minute *slot = &st->ring[m % PKID_STATUS_MINUTES];

	if (slot->at != m) {
		memset(slot, 0, sizeof(*slot));
		slot->at = m;
	}
	return slot;
}

/* Count (proto, profile, result) (mu held). */
static void
enroll_add(struct pkid_status *st, int proto, const char *profile,
    int result)
{
	struct pkid_status_enroll *e;
	int i;

	if (profile[0] == '\0')
		profile = "-";
	for (i = 0; i < st->n_enroll; i++) {
		e = &st->enroll[i];
		if (e->proto == proto && e->result == result &&
		    strcmp(e->profile, profile) == 0) {
			e->n++;
			return;
		}
	}
	if (st->n_enroll >= PKID_STATUS_ENROLL_KEYS) {
		/* Full: the last row of this kind absorbs the rest. */
		profile = "other";
		for (i = 0; i < st->n_enroll; i++) {
			e = &st->enroll[i];
			if (e->proto == proto && e->result == result &&
			    strcmp(e->profile, profile) == 0) {
				e->n++;
				return;
			}
		}
		e = &st->enroll[st->n_enroll - 1];
	} else {
		e = &st->enroll[st->n_enroll++];
	}
	e->proto = proto;
	e->result = result;
	snprintf(e->profile, sizeof(e->profile), "%s", profile);
	e->n = 1;
}

/* An error of code (mu held). */
static void
err_add(struct pkid_status *st, enum pkid_code code,
    const struct pkid_status_req *r, int64_t now)
{
	struct pkid_status_err *e = NULL;
	size_t i;

	for (i = 0; i < st->n_codes && e == NULL; i++)
		if (st->errs[i].code == code)
			e = &st->errs[i];
	if (e == NULL)
		return;
	e->count++;
	e->last_at = now;
	snprintf(e->detail, sizeof(e->detail), "%s", r->detail != NULL ?
	    r->detail : "");
	snprintf(e->id, sizeof(e->id), "%s", r->t != NULL ? r->t->id : "");
	snprintf(e->client, sizeof(e->client), "%s", r->client != NULL ?
	    r->client : "");
}

/* RA mode: the upstream's answer or failure (mu held). */
static void
upstream_add(struct pkid_status *st, const struct pkid_trace *t,
    int64_t now)
{
	struct pkid_status_upstream *u = NULL;
	int i;

	for (i = 0; i < st->n_up && u == NULL; i++)
		if (strcmp(st->up[i].url, t->upstream) == 0)
			u = &st->up[i];
	if (u == NULL) {
		if (st->n_up >= PKID_STATUS_UPSTREAMS)
			return;
		u = &st->up[st->n_up++];
		snprintf(u->url, sizeof(u->url), "%s", t->upstream);
	}
	if (t->up_code == PKID_OK) {
		u->last_ok = now;
		return;
	}
	u->last_fail = now;
	u->last_code = t->up_code;
	for (i = 0; i < u->n_codes; i++)
		if (u->codes[i].code == t->up_code) {
			u->codes[i].n++;
			return;
		}
	if (u->n_codes < PKID_STATUS_UPSTREAM_CODES) {
		u->codes[u->n_codes].code = t->up_code;
		u->codes[u->n_codes++].n = 1;
	}
}

void
pkid_status_record(struct pkid_status *st, const struct pkid_status_req *r)
{
	const struct pkid_trace *t = r->t;
	int64_t now = (int64_t)pkid_now();
	int ep = ep_of(r->path), proto = -1;
	enum pkid_code code = r->code;
	struct minute *m;

	if (st == NULL)
		return;
	atomic_fetch_add(&st->req[ep][status_col(r->status)], 1);
	observe(&st->lat[op_of(r, ep)], pkid_status_req_bounds, r->ms * 1000);
	if (t != NULL && t->code != PKID_OK)
		code = t->code;
	if (t != NULL && t->result != PKID_TRACE_NONE)
		proto = strcmp(t->proto, "scep") == 0 ? PKID_PROTO_SCEP :
		    PKID_PROTO_EST;
	if (t != NULL && t->result == PKID_TRACE_ISSUED)
		atomic_fetch_add(&st->issued, 1);
	if (proto < 0 && code == PKID_OK && r->status != 503 &&
	    (t == NULL || t->upstream[0] == '\0'))
		return;
	pthread_mutex_lock(&st->mu);
	m = minute_now(st, now);
	if (r->status == 503)
		m->n503++;
	if (proto >= 0) {
		m->n[proto][t->result - 1]++;
		enroll_add(st, proto, t->profile, (int)t->result);
	}
	if (code != PKID_OK)
		err_add(st, code, r, now);
	if (t != NULL && t->upstream[0] != '\0')
		upstream_add(st, t, now);
	pthread_mutex_unlock(&st->mu);
}

static void
hist_copy(struct pkid_status_hist *o, struct hist *h)
{
	int i;

	for (i = 0; i < PKID_STATUS_BUCKETS; i++)
		o->b[i] = atomic_load(&h->b[i]);
	o->sum_us = atomic_load(&h->sum_us);
	o->count = atomic_load(&h->count);
}

static int
err_newer(const void *a, const void *b)
{
	const struct pkid_status_err *x = a, *y = b;

	return (x->last_at < y->last_at) - (x->last_at > y->last_at);
}

/* The ring, oldest minute first, into s (mu held). */
static void
ring_copy(struct pkid_status *st, struct pkid_status_snap *s)
{
	int64_t cur = s->now / 60;
	int i;

	for (i = 0; i < PKID_STATUS_MINUTES; i++) {
		int64_t m = cur - (PKID_STATUS_MINUTES - 1) + i;
		const struct minute *r = &st->ring[m % PKID_STATUS_MINUTES];

		if (r->at != m)
			continue;
		memcpy(s->minutes[i], r->n, sizeof(s->minutes[i]));
		s->minute_503[i] = r->n503;
	}
}

struct pkid_status_snap *
pkid_status_snap(struct pkid_status *st)
{
	struct pkid_status_snap *s = calloc(1, sizeof(*s));
	size_t i;
	int e, c;

	if (s == NULL || (s->errs = calloc(st->n_codes, sizeof(*s->errs))) ==
	    NULL) {
		free(s);
		return NULL;
	}
	s->started = st->started;
	s->now = (int64_t)pkid_now();
	for (e = 0; e < PKID_EP_N; e++)
		for (c = 0; c <= PKID_STATUS_HTTP_N; c++)
			s->req[e][c] = atomic_load(&st->req[e][c]);
	for (i = 0; i < PKID_STATUS_OPS_N; i++)
		hist_copy(&s->lat[i], &st->lat[i]);
	hist_copy(&s->commit, &st->commit);
	s->issued = atomic_load(&st->issued);
	pthread_mutex_lock(&st->mu);
	ring_copy(st, s);
	s->n_enroll = st->n_enroll;
	memcpy(s->enroll, st->enroll, sizeof(s->enroll));
	for (i = 0; i < st->n_codes; i++)
		if (st->errs[i].count > 0)
			s->errs[s->n_errs++] = st->errs[i];
	s->n_up = st->n_up;
	memcpy(s->up, st->up, sizeof(s->up));
	pthread_mutex_unlock(&st->mu);
	qsort(s->errs, (size_t)s->n_errs, sizeof(*s->errs), err_newer);
	return s;
}

void
pkid_status_snap_free(struct pkid_status_snap *s)
{
	if (s == NULL)
		return;
	free(s->errs);
	free(s);
}
