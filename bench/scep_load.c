/*
 * scep_load.c - SCEP (RFC 8894) load generator: PKCSReq pkiMessages built
 * ahead of time (RSA device keys, AES-256/SHA-256, a new transactionID
 * each), POSTed over plain HTTP with a fresh connection per request, C in
 * flight. A request counts as a success only when its CertRep says
 * SUCCESS; after the clock stops, every certificate is decrypted and
 * checked: serial unique, subject the one requested.
 *
 * usage: scep_load --port P --ra RA.pem --challenge PW [--path /scep]
 *                  [--keys K] [--concurrency C] [--count N]
 *                  [--server-pid PID] [--label NAME]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "core/clock.h"
#include "lib/loadgen.h"
#include "scep/client.h"
#include "scep/msg.h"
#include "x509/load.h"

struct scep_args {
	int64_t port, keys, conc, count, pid;
	const char *ra, *challenge, *path, *label;
};

/* What the run keeps per request for the check after the clock. */
struct scep_run {
	EVP_PKEY **keys;		/* device keys */
	X509 **signers;			/* each request's self-signed signer */
	int n_keys;			/* how many */
	X509 **ra;			/* the recipient (borrowed) */
	struct pkid_buf *replies;	/* CertRep of each request */
	int count;			/* requests */
};

static X509_REQ *
make_csr(EVP_PKEY *k, int i, const char *challenge)
{
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	char cn[64];

	snprintf(cn, sizeof(cn), "scep-load-%ld-%d", (long)getpid(), i);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (unsigned char *)cn,
	    -1, -1, 0);
	X509_REQ_set_subject_name(r, n);
	X509_REQ_set_pubkey(r, k);
	X509_REQ_add1_attr_by_NID(r, NID_pkcs9_challengePassword,
	    MBSTRING_UTF8, (const unsigned char *)challenge, -1);
	X509_REQ_sign(r, k, EVP_sha256());
	X509_NAME_free(n);
	return r;
}

static int
classify(int st, const uint8_t *body, size_t blen, int idx, void *arg,
    char what[64])
{
	struct scep_run *R = arg;
	struct pkid_scep_msg m;
	struct pkid_err e;
	int ok = 0;

	pkid_err_clear(&e);
	if (st != 200) {
		snprintf(what, 64, st == 0 ? "conn-error" : "HTTP %d", st);
		return 0;
	}
	pkid_scep_msg_init(&m);
	/* compat 2: old servers sign with SHA-1 and encrypt with DES. */
	if (body == NULL || pkid_scep_msg_parse(body, blen, 2, &m, &e) !=
	    PKID_OK) {
		snprintf(what, 64, "bad CertRep: %s", pkid_err_id(e.code));
		if (getenv("SCEP_LOAD_DEBUG") != NULL)
			fprintf(stderr, "scep_load: %s\n", e.detail);
	} else if (m.status == PKID_SCEP_SUCCESS) {
		snprintf(what, 64, "SUCCESS");
		ok = 1;
		pkid_buf_init(&R->replies[idx], 1 << 16);
		(void)pkid_buf_append(&R->replies[idx], body, blen, NULL);
	} else if (m.status == PKID_SCEP_FAILURE) {
		snprintf(what, 64, "FAILURE failInfo %d", m.fail_info);
	} else {
		snprintf(what, 64, "pkiStatus %d", m.status);
	}
	pkid_scep_msg_free(&m);
	return ok;
}

/* After the run: decrypt every certificate, check serials and subjects. */
static void
check_certs(struct scep_run *R, int *unique, int *subject_ok)
{
	char **serials = calloc((size_t)R->count, sizeof(char *));
	int i, j, n = 0;

	*unique = *subject_ok = 0;
	for (i = 0; i < R->count && serials != NULL; i++) {
		struct pkid_scep_msg m;
		struct pkid_buf inner;
		const unsigned char *p;
		PKCS7 *p7 = NULL;
		int nid;
		enum pkid_scep_fail fail;
		EVP_PKEY *k = R->keys[i % R->n_keys];
		X509 *c = NULL;
		char want[64], serial[64];

		if (R->replies[i].len == 0)
			continue;
		pkid_scep_msg_init(&m);
		/* The envelope is for the request's self-signed signer. */
		if (pkid_scep_msg_parse(R->replies[i].p, R->replies[i].len, 2,
		    &m, NULL) == PKID_OK && pkid_scep_envelope_open(
		    m.content.p, m.content.len, R->signers[i], k, 2, &inner,
		    &nid, &fail, NULL) == PKID_OK) {
			p = inner.p;
			p7 = d2i_PKCS7(NULL, &p, (long)inner.len);
			if (p7 != NULL && PKCS7_type_is_signed(p7) &&
			    p7->d.sign->cert != NULL)
				c = sk_X509_value(p7->d.sign->cert, 0);
			pkid_buf_free(&inner);
		}
		if (c != NULL) {
			pkid_x509_serial_hex(X509_get0_serialNumber(c), serial,
			    sizeof(serial));
			serials[n++] = strdup(serial);
			snprintf(want, sizeof(want), "scep-load-%ld-%d",
			    (long)getpid(), i);
			if (X509_NAME_get_text_by_NID(X509_get_subject_name(c),
			    NID_commonName, serial, sizeof(serial)) > 0 &&
			    strcmp(serial, want) == 0)
				(*subject_ok)++;
		}
		PKCS7_free(p7);
		pkid_scep_msg_free(&m);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(serials[i], serials[j]) == 0)
				break;
		if (j == i)
			(*unique)++;
	}
	for (i = 0; i < n; i++)
		free(serials[i]);
	free(serials);
}

static int
parse(int argc, char **argv, struct scep_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->path = "/scep";
	a->label = "scep";
	a->keys = 16;
	a->conc = 8;
	a->count = 1000;
	if ((argc - 1) % 2 != 0)
		return -1;	/* an option without its value */
	for (i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--ra") == 0) a->ra = v;
		else if (strcmp(k, "--challenge") == 0) a->challenge = v;
		else if (strcmp(k, "--path") == 0) a->path = v;
		else if (strcmp(k, "--label") == 0) a->label = v;
		/* A number out of range is a usage error, never silently the
		 * default (issue 12). */
		else if (strcmp(k, "--port") == 0) {
			if (pkid_parse_int(v, 1, 65535, &a->port, NULL) != 0)
				return -1;
		} else if (strcmp(k, "--keys") == 0) {
			if (pkid_parse_int(v, 1, 1024, &a->keys, NULL) != 0)
				return -1;
		} else if (strcmp(k, "--concurrency") == 0) {
			if (pkid_parse_int(v, 1, 100000, &a->conc, NULL) != 0)
				return -1;
		} else if (strcmp(k, "--count") == 0) {
			if (pkid_parse_int(v, 1, 1000000, &a->count, NULL) != 0)
				return -1;
		} else if (strcmp(k, "--server-pid") == 0) {
			if (pkid_parse_int(v, 1, INT32_MAX, &a->pid, NULL) != 0)
				return -1;
		} else
			return -1;
	}
	return a->port > 0 && a->ra != NULL && a->challenge != NULL ? 0 : -1;
}

/* Build every request: a pkiMessage each, wrapped in an HTTP POST. */
static int
build(const struct scep_args *a, X509 *ra, struct scep_run *R,
    struct lg_req *reqs)
{
	struct pkid_buf msg;
	int i;

	for (i = 0; i < R->n_keys; i++)
		if ((R->keys[i] = EVP_RSA_gen(2048)) == NULL)
			return -1;
	for (i = 0; i < R->count; i++) {
		X509_REQ *csr = make_csr(R->keys[i % R->n_keys], i,
		    a->challenge);

		if (pkid_scep_pkcsreq_build(csr, R->keys[i % R->n_keys], ra,
		    &msg, &R->signers[i], NULL) != PKID_OK) {
			X509_REQ_free(csr);
			return -1;
		}
		X509_REQ_free(csr);
		memset(&reqs[i], 0, sizeof(reqs[i]));
		reqs[i].post = 1;
		snprintf(reqs[i].uri, sizeof(reqs[i].uri),
		    "%s?operation=PKIOperation", a->path);
		snprintf(reqs[i].content_type, sizeof(reqs[i].content_type),
		    "application/x-pki-message");
		reqs[i].body = msg;	/* reqs[i] owns it now */
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct scep_args a;
	struct scep_run R;
	struct lg_opts o;
	struct lg_result r;
	struct lg_req *reqs;
	X509 *ra = NULL;
	OSSL_PROVIDER *legacy, *deflt;
	int i, unique, subject_ok;

	if (parse(argc, argv, &a) != 0) {
		fprintf(stderr, "usage: scep_load --port P --ra RA.pem "
		    "--challenge PW [--path /scep] [--keys K] [--concurrency C] "
		    "[--count N] [--server-pid PID] [--label NAME]\n");
		return 2;
	}
	/* Old servers answer with single DES. */
	legacy = OSSL_PROVIDER_load(NULL, "legacy");
	deflt = OSSL_PROVIDER_load(NULL, "default");
	if (pkid_x509_load_cert_file(a.ra, &ra, NULL) != PKID_OK) {
		fprintf(stderr, "scep_load: cannot read %s\n", a.ra);
		return 1;
	}
	memset(&R, 0, sizeof(R));
	R.n_keys = (int)a.keys;
	R.count = (int)a.count;
	R.keys = calloc((size_t)R.n_keys, sizeof(EVP_PKEY *));
	R.replies = calloc((size_t)R.count, sizeof(struct pkid_buf));
	R.signers = calloc((size_t)R.count, sizeof(X509 *));
	reqs = calloc((size_t)R.count, sizeof(struct lg_req));
	if (R.keys == NULL || R.replies == NULL || R.signers == NULL ||
	    reqs == NULL ||
	    build(&a, ra, &R, reqs) != 0) {
		fprintf(stderr, "scep_load: cannot build requests\n");
		return 1;
	}
	memset(&o, 0, sizeof(o));
	o.port = (int)a.port;
	o.host = "127.0.0.1";
	o.concurrency = (int)a.conc;
	o.count = R.count;
	o.server_pid = a.pid;
	o.classify = classify;
	o.arg = &R;
	o.reqs = reqs;
	o.n_reqs = R.count;
	if (lg_run(&o, &r) != 0)
		return 1;
	check_certs(&R, &unique, &subject_ok);
	{
		char extra[160];

		snprintf(extra, sizeof(extra), "\"label\":\"%.40s\","
		    "\"unique_serials\":%d,\"subject_ok\":%d,", a.label,
		    unique, subject_ok);
		lg_print_json(a.path, extra, &o, &r);
	}
	for (i = 0; i < R.count; i++) {
		pkid_buf_free(&reqs[i].body);
		pkid_buf_free(&R.replies[i]);
		X509_free(R.signers[i]);
	}
	for (i = 0; i < R.n_keys; i++)
		EVP_PKEY_free(R.keys[i]);
	free(R.keys);
	free(R.replies);
	free(R.signers);
	free(reqs);
	X509_free(ra);
	if (legacy != NULL)
		OSSL_PROVIDER_unload(legacy);
	if (deflt != NULL)
		OSSL_PROVIDER_unload(deflt);
	return r.ok == r.done && unique == r.ok ? 0 : 1;
}
