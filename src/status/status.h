/*
 * status.h - what a running pkid counts for its status page and /metrics
 * (DESIGN.md "src/status": reads counters, never scans the store).
 *
 * One process-wide object, made by pkid's main and handed to the server
 * (every answered request is recorded) and to each application built
 * over it: it survives the swap of application and router at a rollover
 * or a reload (server/live.c), so counters keep counting. Everything is
 * bounded: fixed tables of endpoints, HTTP statuses, operations, codes
 * of the catalogue, a ring of PKID_STATUS_MINUTES minutes, and small
 * capped tables for (protocol, profile, result) and upstreams. Hot
 * counters are atomics; the tables changed per enrollment or per error
 * take a mutex held for a few stores.
 */
#ifndef PKID_STATUS_STATUS_H
#define PKID_STATUS_STATUS_H

#include <stdint.h>

#include "core/err.h"
#include "core/limits.h"
#include "core/trace.h"

/* Endpoints requests are counted by. */
enum pkid_status_ep {
	PKID_EP_EST, PKID_EP_SCEP, PKID_EP_CRL, PKID_EP_HEALTHZ,
	PKID_EP_STATUS, PKID_EP_METRICS, PKID_EP_OTHER, PKID_EP_N,
};
/* HTTP statuses counted one by one; the rest as "other". */
#define PKID_STATUS_HTTP_N 24
/* Operations with a latency histogram; "other" last. */
#define PKID_STATUS_OPS_N 22
/* Latency histogram buckets (upper bounds) plus +Inf. */
#define PKID_STATUS_BUCKETS 12
/* Protocols enrollments are counted by. */
enum pkid_status_proto { PKID_PROTO_EST, PKID_PROTO_SCEP, PKID_PROTO_N };
/* Enrollment results (enum pkid_trace_result less NONE). */
#define PKID_STATUS_RESULTS 4

/* One answered request, as the server hands it over. */
struct pkid_status_req {
	const char *path;		/* request path */
	int status;			/* HTTP status sent */
	enum pkid_code code;		/* catalogue code of the answer */
	uint64_t ms;			/* from its first byte to the answer */
	const char *client;		/* client address */
	const struct pkid_trace *t;	/* its annotations, or NULL */
	const char *detail;		/* message of a failure, or NULL */
};

/* An error code's last occurrence. */
struct pkid_status_err {
	enum pkid_code code;		/* the code */
	uint64_t count;			/* occurrences since start */
	int64_t last_at;		/* last one, epoch seconds */
	char detail[256];		/* its message */
	char id[PKID_TRACE_ID_MAX + 1];	/* its request id */
	char client[64];		/* its client address */
};

/* Totals of one (protocol, profile, result). */
struct pkid_status_enroll {
	int proto;			/* enum pkid_status_proto */
	char profile[64];		/* profile ("other" past the table) */
	int result;			/* enum pkid_trace_result */
	uint64_t n;			/* enrollments */
};

/* One upstream's health (RA mode). */
struct pkid_status_upstream {
	char url[256];			/* the upstream */
	int64_t last_ok;		/* last answer, epoch s, 0: never */
	int64_t last_fail;		/* last failure, epoch s, 0: never */
	enum pkid_code last_code;	/* its code */
	int n_codes;			/* entries in codes */
	struct {
		enum pkid_code code;	/* an upstream-* code */
		uint64_t n;		/* failures with it */
	} codes[PKID_STATUS_UPSTREAM_CODES];
};

/* A histogram: counts per bucket (cumulative on output), sum, count. */
struct pkid_status_hist {
	uint64_t b[PKID_STATUS_BUCKETS];	/* per bucket, not cumulative;
						 * the last is +Inf */
	uint64_t sum_us;			/* sum of observations, us */
	uint64_t count;				/* observations */
};

/* A copy of everything, taken at once for one page or scrape. */
struct pkid_status_snap {
	int64_t started;			/* process start, epoch s */
	int64_t now;				/* when taken */
	uint64_t req[PKID_EP_N][PKID_STATUS_HTTP_N + 1]; /* by status */
	struct pkid_status_hist lat[PKID_STATUS_OPS_N]; /* per op */
	struct pkid_status_hist commit;		/* store commits */
	uint64_t issued;			/* certificates returned */
	/* enrollments per minute, oldest first, [m][proto][result-1] */
	uint32_t minutes[PKID_STATUS_MINUTES][PKID_PROTO_N]
	    [PKID_STATUS_RESULTS];
	uint32_t minute_503[PKID_STATUS_MINUTES]; /* 503s per minute */
	int n_enroll;				/* rows in enroll */
	struct pkid_status_enroll enroll[PKID_STATUS_ENROLL_KEYS];
	int n_errs;				/* rows in errs, newest first */
	struct pkid_status_err *errs;		/* one per code seen */
	int n_up;				/* rows in up */
	struct pkid_status_upstream up[PKID_STATUS_UPSTREAMS];
};

struct pkid_status;

/* A new status object (NULL when out of memory). */
struct pkid_status *pkid_status_new(void);
void pkid_status_free(struct pkid_status *st);
/* Count one answered request (thread-safe; NULL st: no-op). */
void pkid_status_record(struct pkid_status *st,
    const struct pkid_status_req *r);
/* The store's commit hook: one commit of ops writes took us. */
void pkid_status_commit(void *st, uint64_t us, unsigned ops);
/* A snapshot (pkid_status_snap_free); NULL when out of memory. */
struct pkid_status_snap *pkid_status_snap(struct pkid_status *st);
void pkid_status_snap_free(struct pkid_status_snap *s);

/* Names for output: endpoint, HTTP status of column i ("other" last),
 * operation i, protocol, and the buckets' upper bounds in seconds of
 * requests and of store commits. */
const char *pkid_status_ep_name(int ep);
int pkid_status_http_code(int i);
const char *pkid_status_op_name(int i);
const char *pkid_status_proto_name(int p);
extern const double pkid_status_req_bounds[PKID_STATUS_BUCKETS - 1];
extern const double pkid_status_commit_bounds[PKID_STATUS_BUCKETS - 1];

#endif
