/*
 * loadgen.h - the event loop the HTTP load generators share: C requests in
 * flight, a fresh TCP (and TLS, when ctx is set) connection each, until N
 * are done; latencies, outcomes and the server's CPU time.
 */
#ifndef PKID_BENCH_LOADGEN_H
#define PKID_BENCH_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "core/buf.h"

#define LG_MAX_OUTCOMES 32

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

/* Run the load; 0 on success (whatever the outcomes), -1 on setup. */
int lg_run(const struct lg_opts *o, struct lg_result *r);
/* One JSON line on stdout: label, options, the result and, when extra is
 * not NULL, extra members ("\"k\":1,") placed first. */
void lg_print_json(const char *label, const char *extra,
    const struct lg_opts *o, const struct lg_result *r);

#endif
