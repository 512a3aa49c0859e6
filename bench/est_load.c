/*
 * est_load.c - event-driven load generator for pkid's HTTPS endpoints:
 * a fresh TCP+TLS connection per request, C requests in flight, until N
 * are done. Reports requests/s, p50/p99 latency, outcomes by status and
 * catalogue code, and (with --server-pid) per server CPU-second.
 *
 * usage: est_load --port P [--host localhost] --cacert ROOT.pem
 *                 [--path /.well-known/est/simpleenroll] [--get]
 *                 [--user U --password PW] [--cert C --key K] [--csr F]
 *                 [--concurrency C] [--count N] [--server-pid PID]
 * Without --get it POSTs a base64 PKCS#10 (one line): the --csr file, or
 * one of 64 fresh EC P-256 requests.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/clock.h"
#include "x509/load.h"

#define POOL 64
#define MAX_OUTCOMES 32

struct outcome {
	char what[64];		/* "200" or "400 csr-bad-signature" */
	int n;			/* how many */
};

struct load {
	struct event_base *base;	/* the one loop */
	SSL_CTX *ctx;			/* client TLS context */
	struct sockaddr_in addr;	/* server */
	const char *host;		/* SNI and Host */
	struct pkid_buf req[POOL];	/* ready requests */
	int n_req;			/* how many in req */
	int target, started, done;	/* progress */
	uint32_t *lat_us;		/* latency of each finished request */
	struct outcome out[MAX_OUTCOMES]; /* outcomes */
	int n_out;			/* used */
	int ok;				/* 2xx answers */
};

struct slot {
	struct load *L;			/* owner */
	struct bufferevent *bev;	/* the connection */
	uint64_t t0_us;			/* start */
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
count(struct load *L, const char *what)
{
	int i;

	for (i = 0; i < L->n_out; i++)
		if (strcmp(L->out[i].what, what) == 0) {
			L->out[i].n++;
			return;
		}
	if (L->n_out < MAX_OUTCOMES) {
		snprintf(L->out[L->n_out].what, sizeof(L->out[0].what), "%s",
		    what);
		L->out[L->n_out++].n = 1;
	}
}

static void start_one(struct slot *s);

/* Classify the response in buf (NULL: connection failed). */
static void
finish(struct slot *s, const char *resp, size_t len)
{
	struct load *L = s->L;
	char what[64] = "conn-error";
	const char *body, *err;

	if (resp != NULL && len > 12 && strncmp(resp, "HTTP/1.", 7) == 0) {
		snprintf(what, sizeof(what), "%.3s", resp + 9);
		if (resp[9] == '2')
			L->ok++;
		body = strstr(resp, "\r\n\r\n");
		err = body != NULL ? strstr(body, "error: ") : NULL;
		if (err != NULL && resp[9] != '2') {
			size_t k = strcspn(err + 7, ": \r\n");

			snprintf(what, sizeof(what), "%.3s %.*s", resp + 9,
			    (int)(k < 40 ? k : 40), err + 7);
		}
	}
	count(L, what);
	L->lat_us[L->done++] = (uint32_t)(now_us() - s->t0_us);
	bufferevent_free(s->bev);
	s->bev = NULL;
	if (L->done >= L->target)
		event_base_loopbreak(L->base);
	else
		start_one(s);
}

/* A whole response: headers plus Content-Length bytes. */
static int
complete(const char *p, size_t len)
{
	const char *end = NULL, *cl;
	size_t i, body = 0;

	for (i = 0; i + 3 < len; i++)
		if (memcmp(p + i, "\r\n\r\n", 4) == 0) {
			end = p + i + 4;
			break;
		}
	if (end == NULL)
		return 0;
	cl = strcasestr(p, "\r\nContent-Length:");
	if (cl != NULL && cl < end)
		body = strtoul(cl + 17, NULL, 10);
	return (size_t)(p + len - end) >= body;
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct slot *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	char *p;

	if (len > 1 << 20) {
		finish(s, NULL, 0);
		return;
	}
	p = (char *)evbuffer_pullup(in, -1);
	if (p != NULL && complete(p, len)) {
		char *copy = strndup(p, len);

		finish(s, copy, len);
		free(copy);
	}
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct slot *s = arg;
	int one = 1;

	if (what & BEV_EVENT_CONNECTED) {
		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
		    &one, sizeof(one));
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		struct evbuffer *in = bufferevent_get_input(bev);
		size_t len = evbuffer_get_length(in);
		char *p = (char *)evbuffer_pullup(in, -1);
		char *copy = p != NULL ? strndup(p, len) : NULL;

		finish(s, copy, copy != NULL ? len : 0);
		free(copy);
	}
}

static void
start_one(struct slot *s)
{
	struct load *L = s->L;
	struct timeval tv = { 30, 0 };
	struct pkid_buf *r;
	SSL *ssl;

	if (L->started >= L->target)
		return;
	r = &L->req[L->started % L->n_req];
	L->started++;
	s->t0_us = now_us();
	ssl = SSL_new(L->ctx);
	SSL_set_tlsext_host_name(ssl, L->host);
	s->bev = bufferevent_openssl_socket_new(L->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(s->bev, read_cb, NULL, event_cb, s);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	bufferevent_write(s->bev, r->p, r->len);
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&L->addr,
	    sizeof(L->addr)) != 0)
		finish(s, NULL, 0);
}

struct args {
	const char *host, *cacert, *path, *user, *password, *cert, *key;
	const char *csr;	/* fixed CSR file */
	int64_t port, conc, count, pid;
	int get;		/* GET instead of POST */
};

static int
build_requests(struct load *L, const struct args *a)
{
	struct pkid_buf csr, b64, auth, cred;
	char hdr[1024] = "";
	int i;

	if (a->user != NULL) {
		char up[512];

		snprintf(up, sizeof(up), "%s:%s", a->user, a->password != NULL ?
		    a->password : "");
		if (pkid_base64_encode((uint8_t *)up, strlen(up), 0, &cred,
		    NULL) != PKID_OK)
			return -1;
		snprintf(hdr, sizeof(hdr), "Authorization: Basic %s\r\n",
		    (char *)cred.p);
		pkid_buf_free(&cred);
	}
	L->n_req = a->get || a->csr != NULL ? 1 : POOL;
	for (i = 0; i < L->n_req; i++) {
		pkid_buf_init(&L->req[i], 1 << 20);
		if (a->get) {
			pkid_buf_printf(&L->req[i], NULL, "GET %s HTTP/1.1\r\n"
			    "Host: %s\r\n%sConnection: close\r\n\r\n", a->path,
			    L->host, hdr);
			continue;
		}
		if (a->csr != NULL) {
			X509_REQ *x = NULL;
			unsigned char *der = NULL;
			int n;

			if (pkid_buf_read_file(&auth, a->csr, 1 << 16, NULL) !=
			    PKID_OK || pkid_x509_load_csr(auth.p, auth.len, &x,
			    NULL) != PKID_OK)
				return -1;
			pkid_buf_free(&auth);
			n = i2d_X509_REQ(x, &der);
			pkid_buf_init(&csr, 1 << 16);
			pkid_buf_append(&csr, der, (size_t)n, NULL);
			OPENSSL_free(der);
			X509_REQ_free(x);
		} else {
			EVP_PKEY *k = EVP_EC_gen("P-256");
			X509_REQ *x = X509_REQ_new();
			X509_NAME *nm = X509_NAME_new();
			unsigned char *der = NULL;
			char cn[64];
			int n;

			snprintf(cn, sizeof(cn), "load-%d.example.com", i);
			X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
			    (unsigned char *)cn, -1, -1, 0);
			X509_REQ_set_subject_name(x, nm);
			X509_REQ_set_pubkey(x, k);
			X509_REQ_sign(x, k, EVP_sha256());
			n = i2d_X509_REQ(x, &der);
			pkid_buf_init(&csr, 1 << 16);
			pkid_buf_append(&csr, der, (size_t)n, NULL);
			OPENSSL_free(der);
			X509_NAME_free(nm);
			X509_REQ_free(x);
			EVP_PKEY_free(k);
		}
		if (pkid_base64_encode(csr.p, csr.len, 0, &b64, NULL) !=
		    PKID_OK)
			return -1;
		pkid_buf_printf(&L->req[i], NULL, "POST %s HTTP/1.1\r\nHost: %s"
		    "\r\n%sContent-Type: application/pkcs10\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		    a->path, L->host, hdr, b64.len, (char *)b64.p);
		pkid_buf_free(&b64);
		pkid_buf_free(&csr);
	}
	return 0;
}

/* utime + stime of a process, seconds; -1 when unreadable. */
static double
proc_cpu(int64_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* Fields after the ")" of the command: state is 3rd, utime 14th. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->host = "localhost";
	a->path = "/.well-known/est/simpleenroll";
	a->conc = 8;
	a->count = 1000;
	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--get") == 0) {
			a->get = 1;
			continue;
		}
		if (v == NULL)
			return -1;
		i++;
		if (strcmp(argv[i - 1], "--host") == 0) a->host = v;
		else if (strcmp(argv[i - 1], "--cacert") == 0) a->cacert = v;
		else if (strcmp(argv[i - 1], "--path") == 0) a->path = v;
		else if (strcmp(argv[i - 1], "--user") == 0) a->user = v;
		else if (strcmp(argv[i - 1], "--password") == 0) a->password = v;
		else if (strcmp(argv[i - 1], "--cert") == 0) a->cert = v;
		else if (strcmp(argv[i - 1], "--key") == 0) a->key = v;
		else if (strcmp(argv[i - 1], "--csr") == 0) a->csr = v;
		else if (strcmp(argv[i - 1], "--port") == 0)
			pkid_parse_int(v, 1, 65535, &a->port, NULL);
		else if (strcmp(argv[i - 1], "--concurrency") == 0)
			pkid_parse_int(v, 1, 4096, &a->conc, NULL);
		else if (strcmp(argv[i - 1], "--count") == 0)
			pkid_parse_int(v, 1, 10000000, &a->count, NULL);
		else if (strcmp(argv[i - 1], "--server-pid") == 0)
			pkid_parse_int(v, 1, INT32_MAX, &a->pid, NULL);
		else
			return -1;
	}
	return a->port > 0 && a->cacert != NULL ? 0 : -1;
}

static void
report(struct load *L, const struct args *a, double secs, double cpu)
{
	int i;

	qsort(L->lat_us, (size_t)L->done, sizeof(uint32_t), cmp_u32);
	printf("{\"path\":\"%s\",\"concurrency\":%lld,\"count\":%d,"
	    "\"ok\":%d,\"seconds\":%.3f,\"per_second\":%.1f,"
	    "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"server_cpu_s\":%.3f,"
	    "\"per_server_cpu_s\":%.1f,\"outcomes\":{", a->path,
	    (long long)a->conc, L->done, L->ok, secs, L->done / secs,
	    L->lat_us[L->done / 2] / 1000.0,
	    L->lat_us[(size_t)((L->done - 1) * 0.99)] / 1000.0, cpu,
	    cpu > 0 ? L->ok / cpu : 0.0);
	for (i = 0; i < L->n_out; i++)
		printf("%s\"%s\":%d", i ? "," : "", L->out[i].what,
		    L->out[i].n);
	printf("}}\n");
}

int
main(int argc, char **argv)
{
	struct args a;
	struct load L;
	struct slot *slots;
	double cpu0 = 0, cpu1 = 0;
	uint64_t t0;
	int i;

	if (parse_args(argc, argv, &a) != 0) {
		fprintf(stderr, "usage: est_load --port P --cacert F [--host H] "
		    "[--path P] [--get] [--user U --password PW] [--cert C "
		    "--key K] [--csr F] [--concurrency C] [--count N] "
		    "[--server-pid PID]\n");
		return 2;
	}
	memset(&L, 0, sizeof(L));
	L.host = a.host;
	L.target = (int)a.count;
	L.base = event_base_new();
	L.ctx = SSL_CTX_new(TLS_client_method());
	L.lat_us = calloc((size_t)a.count, sizeof(uint32_t));
	slots = calloc((size_t)a.conc, sizeof(*slots));
	SSL_CTX_load_verify_locations(L.ctx, a.cacert, NULL);
	SSL_CTX_set_verify(L.ctx, SSL_VERIFY_PEER, NULL);
	if (a.cert != NULL && (SSL_CTX_use_certificate_chain_file(L.ctx,
	    a.cert) != 1 || SSL_CTX_use_PrivateKey_file(L.ctx, a.key,
	    SSL_FILETYPE_PEM) != 1)) {
		fprintf(stderr, "est_load: cannot load %s\n", a.cert);
		return 1;
	}
	if (build_requests(&L, &a) != 0) {
		fprintf(stderr, "est_load: cannot build requests\n");
		return 1;
	}
	L.addr.sin_family = AF_INET;
	L.addr.sin_port = htons((uint16_t)a.port);
	L.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (a.pid > 0)
		cpu0 = proc_cpu(a.pid);
	t0 = now_us();
	for (i = 0; i < a.conc; i++) {
		slots[i].L = &L;
		start_one(&slots[i]);
	}
	event_base_dispatch(L.base);
	if (a.pid > 0)
		cpu1 = proc_cpu(a.pid);
	report(&L, &a, (double)(now_us() - t0) / 1e6, a.pid > 0 ? cpu1 - cpu0 :
	    0);
	for (i = 0; i < a.conc; i++)
		if (slots[i].bev != NULL)
			bufferevent_free(slots[i].bev);
	for (i = 0; i < L.n_req; i++)
		pkid_buf_free(&L.req[i]);
	free(slots);
	free(L.lat_us);
	SSL_CTX_free(L.ctx);
	event_base_free(L.base);
	return L.ok == L.done ? 0 : 1;
}
