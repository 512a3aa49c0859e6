/*
 * loadgen.c - the shared load-generator loop: libevent's evhttp client on
 * a fresh connection (plain or bufferevent_openssl) per request.
 */
#include "loadgen.h"

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

struct lg {
	const struct lg_opts *o;	/* options */
	struct lg_result *r;		/* result being filled */
	struct event_base *base;	/* the loop */
	int started;			/* requests started */
	uint32_t *lat_us;		/* latency per finished request */
};

struct lg_slot {
	struct lg *L;			/* owner */
	struct evhttp_connection *conn;	/* this request's connection */
	uint64_t t0_us;			/* start */
	int idx;			/* request index */
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
count(struct lg_result *r, const char *what)
{
	int i;

	for (i = 0; i < r->n_out; i++)
		if (strcmp(r->out[i].what, what) == 0) {
			r->out[i].n++;
			return;
		}
	if (r->n_out < LG_MAX_OUTCOMES) {
		snprintf(r->out[r->n_out].what, sizeof(r->out[0].what), "%s",
		    what);
		r->out[r->n_out++].n = 1;
	}
}

/* Default classifier: the status, plus pkid's "error: CODE" if any. */
static int
classify_http(int status, const uint8_t *body, size_t len, int idx,
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
		size_t k = strcspn(err + 7, ": \r\n");

		snprintf(what, 64, "%d %.*s", status, (int)(k < 40 ? k : 40),
		    err + 7);
	}
	return status / 100 == 2;
}

static void start_one(struct lg_slot *s);

/* Runs outside evhttp's callbacks: free the connection, go on. */
static void
next_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lg_slot *s = arg;
	struct lg *L = s->L;

	(void)fd;
	(void)what;
	evhttp_connection_free(s->conn);
	s->conn = NULL;
	if (L->r->done >= L->o->count)
		event_base_loopbreak(L->base);
	else
		start_one(s);
}

static void
done_cb(struct evhttp_request *req, void *arg)
{
	struct lg_slot *s = arg;
	struct lg *L = s->L;
	lg_classify_fn fn = L->o->classify != NULL ? L->o->classify :
	    classify_http;
	struct evbuffer *in;
	const uint8_t *body = NULL;
	size_t len = 0;
	int status = 0;
	char what[64] = "conn-error";

	if (req != NULL && (status = evhttp_request_get_response_code(req)) >
	    0) {
		in = evhttp_request_get_input_buffer(req);
		len = evbuffer_get_length(in);
		body = evbuffer_pullup(in, -1);
	}
	if (fn(status, body, len, s->idx, L->o->arg, what))
		L->r->ok++;
	count(L->r, what);
	L->lat_us[L->r->done++] = (uint32_t)(now_us() - s->t0_us);
	event_base_once(L->base, -1, EV_TIMEOUT, next_cb, s, NULL);
}

static void
start_one(struct lg_slot *s)
{
	struct lg *L = s->L;
	const struct lg_req *q;
	struct evhttp_request *req;
	struct evkeyvalq *h;
	struct bufferevent *bev;
	evutil_socket_t fd;
	int one = 1;

	if (L->started >= L->o->count)
		return;
	s->idx = L->started++;
	q = &L->o->reqs[s->idx % L->o->n_reqs];
	s->t0_us = now_us();
	if (L->o->ctx != NULL) {
		SSL *ssl = SSL_new(L->o->ctx);

		SSL_set_tlsext_host_name(ssl, L->o->host);
		bev = bufferevent_openssl_socket_new(L->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
		    BEV_OPT_DEFER_CALLBACKS);
	} else {
		bev = bufferevent_socket_new(L->base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
	}
	s->conn = evhttp_connection_base_bufferevent_new(L->base, NULL, bev,
	    "127.0.0.1", (unsigned short)L->o->port);
	evhttp_connection_set_timeout(s->conn, 30);
	req = evhttp_request_new(done_cb, s);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", L->o->host);
	evhttp_add_header(h, "Connection", "close");
	if (q->content_type[0] != '\0')
		evhttp_add_header(h, "Content-Type", q->content_type);
	if (q->authorization[0] != '\0')
		evhttp_add_header(h, "Authorization", q->authorization);
	if (q->post)
		evbuffer_add(evhttp_request_get_output_buffer(req), q->body.p,
		    q->body.len);
	if (evhttp_make_request(s->conn, req, q->post ? EVHTTP_REQ_POST :
	    EVHTTP_REQ_GET, q->uri) != 0) {
		done_cb(NULL, s);
		return;
	}
	/*
	 * The connect has begun, so the socket exists; nothing is written
	 * before it completes. Without TCP_NODELAY, Nagle holds the body
	 * (a second TLS record) until the server's delayed ACK: 40 ms.
	 */
	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(s->conn));
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* utime + stime of a process and of its waited-for children (a server
 * that forks helpers pays for them too), seconds; -1 when unreadable. */
static double
proc_cpu(int64_t pid)
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

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
lg_run(const struct lg_opts *o, struct lg_result *r)
{
	struct lg L;
	struct lg_slot *slots;
	double cpu0 = 0;
	struct rlimit rl;
	uint64_t t0;
	int i;

	memset(r, 0, sizeof(*r));
	memset(&L, 0, sizeof(L));
	L.o = o;
	L.r = r;
	if (o->count < 1 || o->concurrency < 1 || o->n_reqs < 1)
		return -1;
	/* One descriptor per client in flight: take the hard limit, and
	 * refuse rather than fail accept-side mid-run. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur !=
		    RLIM_INFINITY && (rlim_t)o->concurrency + 64 > rl.rlim_cur) {
			fprintf(stderr, "loadgen: %d clients need %d descriptors; "
			    "the limit is %llu (ulimit -n)\n", o->concurrency,
			    o->concurrency + 64, (unsigned long long)rl.rlim_cur);
			return -1;
		}
	}
	L.base = event_base_new();
	L.lat_us = calloc((size_t)o->count, sizeof(uint32_t));
	slots = calloc((size_t)o->concurrency, sizeof(*slots));
	if (L.base == NULL || L.lat_us == NULL || slots == NULL)
		return -1;
	if (o->server_pid > 0)
		cpu0 = proc_cpu(o->server_pid);
	t0 = now_us();
	for (i = 0; i < o->concurrency; i++) {
		slots[i].L = &L;
		start_one(&slots[i]);
	}
	event_base_dispatch(L.base);
	r->seconds = (double)(now_us() - t0) / 1e6;
	if (o->server_pid > 0)
		r->server_cpu = proc_cpu(o->server_pid) - cpu0;
	qsort(L.lat_us, (size_t)r->done, sizeof(uint32_t), cmp_u32);
	if (r->done > 0) {
		r->p50_ms = L.lat_us[r->done / 2] / 1000.0;
		r->p99_ms = L.lat_us[(size_t)((r->done - 1) * 0.99)] / 1000.0;
	}
	for (i = 0; i < o->concurrency; i++)
		if (slots[i].conn != NULL)
			evhttp_connection_free(slots[i].conn);
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
