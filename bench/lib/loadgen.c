/*
 * loadgen.c - the shared load-generator pieces: one request on a fresh
 * connection (plain or bufferevent_openssl) through libevent's evhttp
 * client, the C-in-flight loop built on it, and /proc readings of the
 * server under load.
 */
#include "loadgen.h"

#include <dirent.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>

/* ---- one request ------------------------------------------------------ */

struct lg_call {
	struct event_base *base;	/* the loop */
	struct evhttp_connection *conn;	/* this request's connection */
	struct event *later;		/* answer or free outside evhttp */
	lg_answer_fn cb;		/* the caller's */
	void *arg;			/* its argument */
	int keep;			/* stay open after the answer */
	int starting;			/* inside lg_call_start */
	int answered;			/* cb has run */
	int failed;			/* could not start: answer 0 later */
};

uint64_t
lg_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
lg_tally(struct lg_outcome *out, int *n, int max, const char *what)
{
	int i;

	for (i = 0; i < *n; i++)
		if (strcmp(out[i].what, what) == 0) {
			out[i].n++;
			return;
		}
	if (*n < max) {
		snprintf(out[*n].what, sizeof(out[0].what), "%s", what);
		out[(*n)++].n = 1;
	}
}

int
lg_classify_http(int status, const uint8_t *body, size_t len, int idx,
    void *arg, char what[64])
{
	const char *err;

	(void)idx;
	(void)arg;
	if (status == 0) {
		snprintf(what, 64, "conn-error");
		return 0;
	}
	snprintf(what, 64, "%d", status);
	err = body != NULL ? memmem(body, len, "error: ", 7) : NULL;
	if (err != NULL && status / 100 != 2) {
		/* The body is not NUL-terminated: scan within it. */
		const char *p = err + 7, *end = (const char *)body + len;
		size_t k = 0;

		while (p + k < end && k < 40 && strchr(": \r\n", p[k]) == NULL)
			k++;
		snprintf(what, 64, "%d %.*s", status, (int)k, p);
	}
	return status / 100 == 2;
}

/* Runs outside evhttp's callbacks: a failed start's answer, or the
 * connection's free after the answer. */
static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lg_call *c = arg;
	struct lg_answer a;

	(void)fd;
	(void)what;
	if (c->failed && !c->answered) {
		memset(&a, 0, sizeof(a));
		a.retry_after = -1;
		c->answered = 1;
		c->cb(&a, c->arg);
	}
	if (!c->keep || c->failed)
		lg_call_free(c);
}

static void
done_cb(struct evhttp_request *req, void *arg)
{
	struct lg_call *c = arg;
	struct lg_answer a;
	const char *ra;
	struct evbuffer *in;

	if (c->starting) {
		/* A connect that failed at once: answered from the loop,
		 * never before lg_call_start has returned. */
		c->failed = 1;
		return;
	}
	memset(&a, 0, sizeof(a));
	a.retry_after = -1;
	if (req != NULL && (a.status = evhttp_request_get_response_code(req)) >
	    0) {
		in = evhttp_request_get_input_buffer(req);
		a.len = evbuffer_get_length(in);
		a.body = evbuffer_pullup(in, -1);
		ra = evhttp_find_header(evhttp_request_get_input_headers(req),
		    "Retry-After");
		if (ra != NULL && ra[0] >= '0' && ra[0] <= '9' &&
		    strlen(ra) < 7)
			a.retry_after = (int)strtol(ra, NULL, 10);
	}
	c->answered = 1;
	c->cb(&a, c->arg);
	if (a.status == 0)
		c->failed = 1;		/* gone: freed from the loop */
	if (!c->keep || a.status == 0)
		event_active(c->later, EV_TIMEOUT, 0);
}

/* One request on c's connection; 0, or -1 when it could not start. */
static int
call_send(struct lg_call *c, const char *host, const struct lg_req *q)
{
	struct evhttp_request *req;
	struct evkeyvalq *h;

	req = evhttp_request_new(done_cb, c);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", host);
	if (!c->keep)
		evhttp_add_header(h, "Connection", "close");
	if (q->content_type[0] != '\0')
		evhttp_add_header(h, "Content-Type", q->content_type);
	if (q->authorization[0] != '\0')
		evhttp_add_header(h, "Authorization", q->authorization);
	if (q->post)
		evbuffer_add(evhttp_request_get_output_buffer(req), q->body.p,
		    q->body.len);
	c->answered = 0;
	c->starting = 1;
	if (evhttp_make_request(c->conn, req, q->post ? EVHTTP_REQ_POST :
	    EVHTTP_REQ_GET, q->uri) != 0)
		c->failed = 1;
	c->starting = 0;
	if (c->failed) {
		event_active(c->later, EV_TIMEOUT, 0);
		return -1;
	}
	return 0;
}

struct lg_call *
lg_call_start(struct event_base *base, int port, const char *host, SSL *ssl,
    const struct lg_req *q, int timeout_s, int keep, lg_answer_fn cb,
    void *arg)
{
	struct lg_call *c;
	struct bufferevent *bev;
	evutil_socket_t fd;
	int one = 1;

	/* A server that closes first must not kill the client with
	 * SIGPIPE on its next write (OpenSSL writes with write(2)). */
	signal(SIGPIPE, SIG_IGN);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	c->base = base;
	c->cb = cb;
	c->arg = arg;
	c->keep = keep;
	c->later = event_new(base, -1, 0, later_cb, c);
	if (ssl != NULL) {
		SSL_set_tlsext_host_name(ssl, host);
		bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
		    BEV_OPT_DEFER_CALLBACKS);
	} else {
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	}
	c->conn = evhttp_connection_base_bufferevent_new(base, NULL, bev,
	    "127.0.0.1", (unsigned short)port);
	if (c->later == NULL || c->conn == NULL)
		abort();
	evhttp_connection_set_timeout(c->conn, timeout_s);
	/* No automatic reconnect: a TLS connection cannot be redone with
	 * the same SSL, and a closed kept connection is an answer 0. */
	evhttp_connection_set_retries(c->conn, 0);
	if (call_send(c, host, q) != 0)
		return c;
	/*
	 * The connect has begun, so the socket exists; nothing is written
	 * before it completes. Without TCP_NODELAY, Nagle holds the body
	 * (a second TLS record) until the server's delayed ACK: 40 ms.
	 */
	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(c->conn));
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return c;
}

int
lg_call_again(struct lg_call *c, const char *host, const struct lg_req *q)
{
	if (!c->keep || c->failed || bufferevent_getfd(
	    evhttp_connection_get_bufferevent(c->conn)) < 0)
		return -1;	/* not kept, or closed by the server */
	if (!c->answered)
		return 1;	/* the last request is still out */
	return call_send(c, host, q);
}

void
lg_call_free(struct lg_call *c)
{
	if (c == NULL)
		return;
	if (c->conn != NULL)
		evhttp_connection_free(c->conn);
	event_free(c->later);
	free(c);
}

/* ---- helpers ---------------------------------------------------------- */

int
lg_nofile(long need, const char *who)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur !=
	    RLIM_INFINITY && (rlim_t)need > rl.rlim_cur) {
		fprintf(stderr, "%s: %ld connections need %ld descriptors; the "
		    "limit is %llu (ulimit -n; raise the hard limit)\n", who,
		    need - 64, need, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

/* utime + stime of a process and of its waited-for children (a server
 * that forks helpers pays for them too), seconds; -1 when unreadable. */
double
lg_proc_cpu(int64_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long ut = 0, st = 0;
	long cut = 0, cst = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* Fields after the ")" of the command: utime is the 14th. */
	if (p == NULL || (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
	    "%ld %ld", &ut, &st, &cut, &cst) != 4)
		return -1;
	return (double)(ut + st + (unsigned long)cut + (unsigned long)cst) /
	    (double)sysconf(_SC_CLK_TCK);
}

long
lg_proc_rss_kib(int64_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%lld/status", (long long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

long
lg_proc_fds(int64_t pid)
{
	char path[64];
	struct dirent *de;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%lld/fd", (long long)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void
lg_sort_u32(uint32_t *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_u32);
}

uint32_t
lg_quantile(const uint32_t *sorted, size_t n, double q)
{
	if (n == 0)
		return 0;
	return sorted[(size_t)((double)(n - 1) * q)];
}

/* ---- C in flight until N done --------------------------------------- */

struct lg {
	const struct lg_opts *o;	/* options */
	struct lg_result *r;		/* result being filled */
	struct event_base *base;	/* the loop */
	int started;			/* requests started */
	uint32_t *lat_us;		/* latency per finished request */
};

struct lg_slot {
	struct lg *L;			/* owner */
	uint64_t t0_us;			/* start */
	int idx;			/* request index */
};

static void start_one(struct lg_slot *s);

static void
slot_answer(const struct lg_answer *a, void *arg)
{
	struct lg_slot *s = arg;
	struct lg *L = s->L;
	lg_classify_fn fn = L->o->classify != NULL ? L->o->classify :
	    lg_classify_http;
	char what[64] = "conn-error";

	if (fn(a->status, a->body, a->len, s->idx, L->o->arg, what))
		L->r->ok++;
	lg_tally(L->r->out, &L->r->n_out, LG_MAX_OUTCOMES, what);
	L->lat_us[L->r->done++] = (uint32_t)(lg_now_us() - s->t0_us);
	start_one(s);
}

static void
start_one(struct lg_slot *s)
{
	struct lg *L = s->L;

	if (L->started >= L->o->count)
		return;
	s->idx = L->started++;
	s->t0_us = lg_now_us();
	(void)lg_call_start(L->base, L->o->port, L->o->host, L->o->ctx !=
	    NULL ? SSL_new(L->o->ctx) : NULL, &L->o->reqs[s->idx %
	    L->o->n_reqs], 30, 0, slot_answer, s);
}

int
lg_run(const struct lg_opts *o, struct lg_result *r)
{
	struct lg L;
	struct lg_slot *slots;
	double cpu0 = 0;
	uint64_t t0;
	int i;

	memset(r, 0, sizeof(*r));
	memset(&L, 0, sizeof(L));
	L.o = o;
	L.r = r;
	if (o->count < 1 || o->concurrency < 1 || o->n_reqs < 1)
		return -1;
	/* One descriptor per client in flight: take the hard limit, and
	 * refuse rather than fail mid-run. */
	if (lg_nofile((long)o->concurrency + 64, "loadgen") != 0)
		return -1;
	L.base = event_base_new();
	L.lat_us = calloc((size_t)o->count, sizeof(uint32_t));
	slots = calloc((size_t)o->concurrency, sizeof(*slots));
	if (L.base == NULL || L.lat_us == NULL || slots == NULL)
		return -1;
	if (o->server_pid > 0)
		cpu0 = lg_proc_cpu(o->server_pid);
	t0 = lg_now_us();
	for (i = 0; i < o->concurrency; i++) {
		slots[i].L = &L;
		start_one(&slots[i]);
	}
	/* Returns once every call has answered and freed its connection. */
	event_base_dispatch(L.base);
	r->seconds = (double)(lg_now_us() - t0) / 1e6;
	if (o->server_pid > 0)
		r->server_cpu = lg_proc_cpu(o->server_pid) - cpu0;
	lg_sort_u32(L.lat_us, (size_t)r->done);
	r->p50_ms = lg_quantile(L.lat_us, (size_t)r->done, 0.5) / 1000.0;
	r->p99_ms = lg_quantile(L.lat_us, (size_t)r->done, 0.99) / 1000.0;
	free(slots);
	free(L.lat_us);
	event_base_free(L.base);
	return 0;
}

void
lg_print_json(const char *label, const char *extra, const struct lg_opts *o,
    const struct lg_result *r)
{
	int i;

	printf("{%s\"path\":\"%s\",\"concurrency\":%d,\"count\":%d,"
	    "\"ok\":%d,\"seconds\":%.3f,\"per_second\":%.1f,"
	    "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"server_cpu_s\":%.3f,"
	    "\"per_server_cpu_s\":%.1f,\"outcomes\":{", extra != NULL ? extra :
	    "", label, o->concurrency, r->done, r->ok, r->seconds,
	    r->seconds > 0 ? r->done / r->seconds : 0.0, r->p50_ms, r->p99_ms,
	    r->server_cpu, r->server_cpu > 0 ? r->ok / r->server_cpu : 0.0);
	for (i = 0; i < r->n_out; i++)
		printf("%s\"%s\":%d", i ? "," : "", r->out[i].what,
		    r->out[i].n);
	printf("}}\n");
	fflush(stdout);
}
