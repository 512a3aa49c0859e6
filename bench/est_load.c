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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/clock.h"
#include "x509/load.h"
#include "lib/loadgen.h"

#define POOL 64

/* Requests and their pool. */
struct load {
	const char *host;		/* Host header */
	struct lg_req req[POOL];	/* ready requests */
	int n_req;			/* how many in req */
};

struct args {
	const char *host, *cacert, *path, *user, *password, *cert, *key;
	const char *csr;	/* fixed CSR file */
	int64_t port, conc, count, pid;
	int get;		/* GET instead of POST */
	int wrap;		/* base64 wrapped at 64 columns (libEST's
				 * example server wants it) */
};

static int
build_requests(struct load *L, const struct args *a)
{
	struct pkid_buf csr, b64, auth, cred;
	char hdr[512] = "";
	int i;

	if (a->user != NULL) {
		char up[512];

		snprintf(up, sizeof(up), "%s:%s", a->user, a->password != NULL ?
		    a->password : "");
		if (pkid_base64_encode((uint8_t *)up, strlen(up), 0, &cred,
		    NULL) != PKID_OK)
			return -1;
		snprintf(hdr, sizeof(hdr), "Basic %s", (char *)cred.p);
		pkid_buf_free(&cred);
	}
	L->n_req = a->get || a->csr != NULL ? 1 : POOL;
	for (i = 0; i < L->n_req; i++) {
		struct lg_req *q = &L->req[i];

		memset(q, 0, sizeof(*q));
		snprintf(q->uri, sizeof(q->uri), "%s", a->path);
		snprintf(q->authorization, sizeof(q->authorization), "%s", hdr);
		pkid_buf_init(&q->body, 1 << 20);
		if (a->get)
			continue;
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
		if (pkid_base64_encode(csr.p, csr.len, a->wrap, &b64, NULL) !=
		    PKID_OK)
			return -1;
		q->post = 1;
		snprintf(q->content_type, sizeof(q->content_type),
		    "application/pkcs10");
		pkid_buf_append(&q->body, b64.p, b64.len, NULL);
		pkid_buf_free(&b64);
		pkid_buf_free(&csr);
	}
	return 0;
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
		if (strcmp(argv[i], "--wrap64") == 0) {
			a->wrap = 1;
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
		/* A number out of range is a usage error, never silently the
		 * default (issue 12: --concurrency 8000 ran 8 clients). */
		else if (strcmp(argv[i - 1], "--port") == 0) {
			if (pkid_parse_int(v, 1, 65535, &a->port, NULL) != 0)
				return -1;
		} else if (strcmp(argv[i - 1], "--concurrency") == 0) {
			if (pkid_parse_int(v, 1, 100000, &a->conc, NULL) != 0)
				return -1;
		} else if (strcmp(argv[i - 1], "--count") == 0) {
			if (pkid_parse_int(v, 1, 10000000, &a->count, NULL) != 0)
				return -1;
		} else if (strcmp(argv[i - 1], "--server-pid") == 0) {
			if (pkid_parse_int(v, 1, INT32_MAX, &a->pid, NULL) != 0)
				return -1;
		} else {
			return -1;
		}
	}
	return a->port > 0 && a->cacert != NULL ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct args a;
	struct load L;
	struct lg_opts o;
	struct lg_result r;
	SSL_CTX *ctx;
	int i;

	if (parse_args(argc, argv, &a) != 0) {
		fprintf(stderr, "usage: est_load --port P --cacert F [--host H] "
		    "[--path P] [--get] [--wrap64] [--user U --password PW] [--cert C "
		    "--key K] [--csr F] [--concurrency C] [--count N] "
		    "[--server-pid PID]\n");
		return 2;
	}
	memset(&L, 0, sizeof(L));
	L.host = a.host;
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_load_verify_locations(ctx, a.cacert, NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (a.cert != NULL && (SSL_CTX_use_certificate_chain_file(ctx,
	    a.cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx, a.key,
	    SSL_FILETYPE_PEM) != 1)) {
		fprintf(stderr, "est_load: cannot load %s\n", a.cert);
		return 1;
	}
	if (build_requests(&L, &a) != 0) {
		fprintf(stderr, "est_load: cannot build requests\n");
		return 1;
	}
	memset(&o, 0, sizeof(o));
	o.port = (int)a.port;
	o.host = a.host;
	o.ctx = ctx;
	o.concurrency = (int)a.conc;
	o.count = (int)a.count;
	o.server_pid = a.pid;
	o.reqs = L.req;
	o.n_reqs = L.n_req;
	if (lg_run(&o, &r) != 0) {
		fprintf(stderr, "est_load: cannot run\n");
		return 1;
	}
	lg_print_json(a.path, NULL, &o, &r);
	for (i = 0; i < L.n_req; i++)
		pkid_buf_free(&L.req[i].body);
	SSL_CTX_free(ctx);
	return r.ok == r.done ? 0 : 1;
}
