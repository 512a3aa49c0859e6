/*
 * loadgen.h - what the HTTP load generators share: one request on a fresh
 * TCP (and TLS) connection with its answer to a callback (lg_call_*); on
 * top of it a loop of C requests in flight until N are done (lg_run);
 * latencies, outcomes, and the server's CPU time, memory and descriptors
 * from /proc.
 */
#ifndef PKID_BENCH_LOADGEN_H
#define PKID_BENCH_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "core/buf.h"

#include <event2/event.h>

#define LG_MAX_OUTCOMES 64

/* One request; libevent's evhttp client writes it and parses the answer
 * (chunked bodies included). */
struct lg_req {
	int post;			/* POST, else GET */
	char uri[512];			/* path and query */
	char content_type[64];		/* "" for none */
	char authorization[512];	/* "" for none */
	struct pkid_buf body;		/* POST body */
};

/*
 * Classify one answer: status (0 when the connection failed) and body;
 * write a short label into what ("200", "400 csr-malformed", "SUCCESS")
 * and return 1 for a success. idx is the request's index.
 */
typedef int (*lg_classify_fn)(int status, const uint8_t *body, size_t len,
    int idx, void *arg, char what[64]);

struct lg_opts {
	int port;			/* server port on 127.0.0.1 */
	const char *host;		/* SNI and Host header */
	SSL_CTX *ctx;			/* TLS client context, NULL = plain */
	int concurrency;		/* requests in flight */
	int count;			/* requests in all */
	int64_t server_pid;		/* for CPU time, 0 = none */
	lg_classify_fn classify;	/* NULL: 2xx is success */
	void *arg;			/* for classify */
	const struct lg_req *reqs;	/* the requests */
	int n_reqs;			/* request i sends reqs[i % n_reqs] */
};

struct lg_outcome {
	char what[64];			/* label */
	int n;				/* how many */
};

struct lg_result {
	int done;			/* requests finished */
	int ok;				/* successes */
	double seconds;			/* wall time */
	double server_cpu;		/* server CPU seconds, 0 if unknown */
	double p50_ms, p99_ms;		/* latency */
	struct lg_outcome out[LG_MAX_OUTCOMES]; /* outcomes */
	int n_out;			/* used */
};

/* ---- one request ------------------------------------------------------ */

/* An answer: status 0 when none came (connect, TLS or read failed). */
struct lg_answer {
	int status;			/* HTTP status, 0: none */
	const uint8_t *body;		/* body (valid during the callback) */
	size_t len;			/* its length */
	int retry_after;		/* Retry-After seconds, -1: none */
};

typedef void (*lg_answer_fn)(const struct lg_answer *a, void *arg);

struct lg_call;

/*
 * Send q on a fresh connection to 127.0.0.1:port, over TLS with ssl
 * when not NULL (the call owns ssl from here; host is its SNI and the
 * Host header). cb runs once, from the loop, with the answer. The
 * connection closes after it ("Connection: close"), unless keep is set:
 * then it stays open, idle, until lg_call_free. Never NULL.
 */
struct lg_call *lg_call_start(struct event_base *base, int port,
    const char *host, SSL *ssl, const struct lg_req *q, int timeout_s,
    int keep, lg_answer_fn cb, void *arg);
/* Another request on a kept call's connection; cb runs again. 1 (and
 * nothing sent) while the last one is unanswered, -1 when the
 * connection is closed or not kept. */
int lg_call_again(struct lg_call *c, const char *host,
    const struct lg_req *q);
/* Close a kept call, or abandon one in flight (cb is not called). */
void lg_call_free(struct lg_call *c);

/* ---- helpers ---------------------------------------------------------- */

/* Monotonic clock, microseconds. */
uint64_t lg_now_us(void);
/* Count one more what in out (n used of max). */
void lg_tally(struct lg_outcome *out, int *n, int max, const char *what);
/* Default classifier: the status, plus pkid's "error: CODE" of the
 * body ("503 overloaded"), "conn-error" for none; 1 for a 2xx. */
int lg_classify_http(int status, const uint8_t *body, size_t len, int idx,
    void *arg, char what[64]);
/* Raise the soft descriptor limit to the hard one; -1 (with a message)
 * when need descriptors still do not fit. */
int lg_nofile(long need, const char *who);
/* CPU seconds of a process and its waited-for children, -1 unknown. */
double lg_proc_cpu(int64_t pid);
/* Resident set (VmRSS) in KiB, -1 unknown. */
long lg_proc_rss_kib(int64_t pid);
/* Open descriptors of a process, -1 unknown. */
long lg_proc_fds(int64_t pid);
/* The q-quantile (0..1) of n sorted values, 0 when n is 0. */
uint32_t lg_quantile(const uint32_t *sorted, size_t n, double q);
/* Sort n latencies ascending. */
void lg_sort_u32(uint32_t *v, size_t n);

/* ---- C in flight until N done --------------------------------------- */

/* Run the load; 0 on success (whatever the outcomes), -1 on setup. */
int lg_run(const struct lg_opts *o, struct lg_result *r);
/* One JSON line on stdout: label, options, the result and, when extra is
 * not NULL, extra members ("\"k\":1,") placed first. */
void lg_print_json(const char *label, const char *extra,
    const struct lg_opts *o, const struct lg_result *r);

#endif
