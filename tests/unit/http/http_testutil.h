/*
 * http_testutil.h - helpers for the HTTP server tests: a throw-away PKI
 * (CA, server, client and rogue client certificates made with OpenSSL),
 * a server running in a thread, curl through popen, bounded waits.
 * Header-only (static functions): each test is its own program.
 */
#ifndef PKID_TEST_HTTP_TESTUTIL_H
#define PKID_TEST_HTTP_TESTUTIL_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "core/clock.h"
#include "core/log.h"
#include "http/http.h"

/* Helpers a test may not use: no unused warnings for them. */
#define T_FN static __attribute__((unused))
#define T_VAR static __attribute__((unused))

/* Longest any test waits for a condition, milliseconds. */
#define T_WAIT_MS 10000

/* Files of the test PKI, in one temporary directory. */
struct t_pki {
	char dir[64];		/* the directory */
	char ca[128];		/* CA certificate */
	char srv_cert[128];	/* server certificate (leaf) */
	char srv_key[128];	/* its key */
	char cli_cert[128];	/* client certificate from the CA */
	char cli_key[128];	/* its key */
	char rogue_cert[128];	/* self-signed client certificate */
	char rogue_key[128];	/* its key */
};

T_FN int
t_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (ext == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A certificate for key, issued by issuer/ikey (self-signed if NULL). */
T_FN X509 *
t_make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
    int ca, const char *san, const char *eku)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;
	unsigned char serial[8];
	BIGNUM *bn = NULL;
	int ok = 1;

	if (x == NULL)
		return NULL;
	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	ok &= bn != NULL && BN_to_ASN1_INTEGER(bn,
	    X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	ok &= X509_set_version(x, 2);
	ok &= X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL;
	ok &= X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL;
	ok &= X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	ok &= X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	ok &= X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ok &= t_add_ext(x, &v3, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	ok &= t_add_ext(x, &v3, NID_key_usage, ca ?
	    "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	ok &= t_add_ext(x, &v3, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		ok &= t_add_ext(x, &v3, NID_authority_key_identifier,
		    "keyid:always");
	if (san != NULL)
		ok &= t_add_ext(x, &v3, NID_subject_alt_name, san);
	if (eku != NULL)
		ok &= t_add_ext(x, &v3, NID_ext_key_usage, eku);
	ok &= X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

T_FN int
t_write_pem(const char *cert_path, X509 *x, const char *key_path,
    EVP_PKEY *k)
{
	FILE *f;
	int ok = 1;

	if (cert_path != NULL) {
		if ((f = fopen(cert_path, "w")) == NULL)
			return 0;
		ok &= PEM_write_X509(f, x);
		ok &= fclose(f) == 0;
	}
	if (key_path != NULL) {
		if ((f = fopen(key_path, "w")) == NULL)
			return 0;
		ok &= PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
		ok &= fclose(f) == 0;
	}
	return ok;
}

/* Make the test PKI in a new temporary directory; 1 on success. */
T_FN int
t_pki_make(struct t_pki *p)
{
	EVP_PKEY *cak = EVP_EC_gen("P-256"), *sk = EVP_EC_gen("P-256");
	EVP_PKEY *ck = EVP_EC_gen("P-256"), *rk = EVP_EC_gen("P-256");
	X509 *ca = NULL, *srv = NULL, *cli = NULL, *rogue = NULL;
	int ok = 0;

	snprintf(p->dir, sizeof(p->dir), "/tmp/pkid-http-XXXXXX");
	if (mkdtemp(p->dir) == NULL || !cak || !sk || !ck || !rk)
		goto out;
#define T_PATH(f, n) snprintf(p->f, sizeof(p->f), "%s/" n, p->dir)
	T_PATH(ca, "ca.pem");
	T_PATH(srv_cert, "server.pem");
	T_PATH(srv_key, "server.key");
	T_PATH(cli_cert, "client.pem");
	T_PATH(cli_key, "client.key");
	T_PATH(rogue_cert, "rogue.pem");
	T_PATH(rogue_key, "rogue.key");
#undef T_PATH
	ca = t_make_cert(cak, "pkid test CA", NULL, NULL, 1, NULL, NULL);
	if (ca == NULL)
		goto out;
	srv = t_make_cert(sk, "localhost", ca, cak, 0,
	    "DNS:localhost,IP:127.0.0.1", "serverAuth");
	cli = t_make_cert(ck, "device-42", ca, cak, 0, NULL, "clientAuth");
	rogue = t_make_cert(rk, "rogue", NULL, NULL, 0, NULL, "clientAuth");
	ok = srv != NULL && cli != NULL && rogue != NULL &&
	    t_write_pem(p->ca, ca, NULL, NULL) &&
	    t_write_pem(p->srv_cert, srv, p->srv_key, sk) &&
	    t_write_pem(p->cli_cert, cli, p->cli_key, ck) &&
	    t_write_pem(p->rogue_cert, rogue, p->rogue_key, rk);
out:
	X509_free(ca);
	X509_free(srv);
	X509_free(cli);
	X509_free(rogue);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(ck);
	EVP_PKEY_free(rk);
	return ok;
}

T_FN void
t_pki_remove(struct t_pki *p)
{
	char cmd[128];

	if (p->dir[0] == '\0' || strncmp(p->dir, "/tmp/pkid-http-", 15) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", p->dir);
}

/* A server running pkid_server_run in its own thread. */
struct t_srv {
	struct pkid_server *s;	/* the server */
	pthread_t thread;	/* running pkid_server_run */
	int running;		/* thread started */
	enum pkid_code rc;	/* what run returned */
	struct pkid_err err;	/* its error */
};

T_FN void *
t_srv_main(void *arg)
{
	struct t_srv *t = arg;

	t->rc = pkid_server_run(t->s, &t->err);
	return NULL;
}

/* Start a server; 1 on success, else err says why. */
T_FN int
t_srv_start(struct t_srv *t, const struct pkid_server_opts *o,
    const struct pkid_router *r)
{
	memset(t, 0, sizeof(*t));
	pkid_err_clear(&t->err);
	t->s = pkid_server_new(o, r, &t->err);
	if (t->s == NULL)
		return 0;
	if (pthread_create(&t->thread, NULL, t_srv_main, t) != 0)
		return 0;
	t->running = 1;
	return 1;
}

/* Stop, join (bounded) and free; returns run's code, -1 on timeout. */
T_FN int
t_srv_stop(struct t_srv *t)
{
	struct timespec ts;
	int rc = -1;

	if (t->running) {
		pkid_server_stop(t->s);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += T_WAIT_MS / 1000;
		if (pthread_timedjoin_np(t->thread, NULL, &ts) != 0)
			return -1;
		rc = (int)t->rc;
		t->running = 0;
	}
	pkid_server_free(t->s);
	t->s = NULL;
	return rc;
}

/* Poll the server's stats until pred holds or T_WAIT_MS pass. */
T_FN int
t_wait_stats(struct pkid_server *s,
    int (*pred)(const struct pkid_server_stats *, unsigned long long),
    unsigned long long arg)
{
	struct pkid_server_stats st;
	uint64_t end = pkid_mono_ms() + T_WAIT_MS;

	for (;;) {
		pkid_server_stats(s, &st);
		if (pred(&st, arg))
			return 1;
		if (pkid_mono_ms() > end)
			return 0;
		usleep(10000);
	}
}

T_FN int
t_open_is(const struct pkid_server_stats *st, unsigned long long n)
{
	return st->conns_open == n;
}

/* What one curl run returned. */
struct t_curl {
	int code;		/* HTTP status, 0 when curl failed */
	char body[4096];	/* response body, NUL-terminated */
	char headers[4096];	/* response headers, NUL-terminated */
};

T_FN void
t_slurp(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	out[0] = '\0';
	if (f == NULL)
		return;
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

/*
 * Run curl with args (already quoted for the shell) against url; the
 * body and headers land in files under dir and then in r.
 */
T_FN int
t_curl(const char *dir, const char *args, const char *url, struct t_curl *r)
{
	char cmd[2048], bodyf[128], hdrf[128], out[32] = "";
	FILE *p;
	size_t n;

	memset(r, 0, sizeof(*r));
	snprintf(bodyf, sizeof(bodyf), "%s/body.out", dir);
	snprintf(hdrf, sizeof(hdrf), "%s/headers.out", dir);
	unlink(bodyf);
	unlink(hdrf);
	snprintf(cmd, sizeof(cmd), "curl -s --connect-timeout 5 "
	    "--max-time 10 -o '%s' -D '%s' -w '%%{http_code}' %s '%s'",
	    bodyf, hdrf, args, url);
	p = popen(cmd, "r");
	if (p == NULL)
		return 0;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	r->code = atoi(out);
	t_slurp(bodyf, r->body, sizeof(r->body));
	t_slurp(hdrf, r->headers, sizeof(r->headers));
	return r->code;
}

/* Value of header name in raw header text (case-insensitive), or "". */
T_FN const char *
t_header(const struct t_curl *r, const char *name, char *out, size_t len)
{
	const char *line = r->headers;
	size_t nl = strlen(name);

	out[0] = '\0';
	while (line != NULL && *line != '\0') {
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			size_t i = 0;

			while (*v == ' ')
				v++;
			while (v[i] != '\0' && v[i] != '\r' && v[i] != '\n' &&
			    i + 1 < len) {
				out[i] = v[i];
				i++;
			}
			out[i] = '\0';
			return out;
		}
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return out;
}

/* A connected TCP socket to 127.0.0.1:port, or -1. */
T_FN int
t_connect(int port)
{
	struct sockaddr_in sa;
	struct timeval tv = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Log lines go here instead of stderr, so tests can look at them. */
T_VAR pthread_mutex_t t_log_mu = PTHREAD_MUTEX_INITIALIZER;
T_VAR char t_log_buf[65536];
T_VAR size_t t_log_len;

T_FN void
t_log_sink(enum pkid_log_level lvl, const char *line, void *arg)
{
	size_t n = strlen(line);

	(void)lvl;
	(void)arg;
	pthread_mutex_lock(&t_log_mu);
	if (t_log_len + n + 2 < sizeof(t_log_buf)) {
		memcpy(t_log_buf + t_log_len, line, n);
		t_log_len += n;
		t_log_buf[t_log_len++] = '\n';
		t_log_buf[t_log_len] = '\0';
	}
	pthread_mutex_unlock(&t_log_mu);
}

T_FN int
t_log_has(const char *needle)
{
	int found;

	pthread_mutex_lock(&t_log_mu);
	found = strstr(t_log_buf, needle) != NULL;
	pthread_mutex_unlock(&t_log_mu);
	return found;
}

#endif
