/*
 * issue_bench.c - offline issuance rate: CSR verify + policy + sign +
 * durable store (group commit), with T threads issuing at once.
 *
 * usage: issue_bench [--key ec-p256|rsa-2048] [--count N] [--threads T]
 *                    [--dir DIR] [--set SECTION.KEY=VALUE ...]
 * --set goes to the CA's pkid.conf as `pkictl ca init --set` does, so the
 * CA it leaves in DIR/ca-KEY can be served by pkid (tools/bench-store.sh
 * fills a store to a million certificates this way).
 * Prints one line of JSON: issued, seconds, per_second, commits, ops.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ca/ca.h"
#include "core/clock.h"
#include "core/err.h"

#define N_CSRS 64

struct bench {
	struct pkid_ca *ca;		/* the CA under test */
	X509_REQ *csrs[N_CSRS];		/* pre-made EC P-256 requests */
	atomic_int next;		/* next issuance number */
	int count;			/* issuances wanted */
	atomic_int failed;		/* failures seen */
};

static X509_REQ *
make_csr(int i)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	char cn[64];

	snprintf(cn, sizeof(cn), "bench-device-%d", i);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (unsigned char *)cn,
	    -1, -1, 0);
	X509_REQ_set_subject_name(r, n);
	X509_REQ_set_pubkey(r, k);
	X509_REQ_sign(r, k, EVP_sha256());
	X509_NAME_free(n);
	EVP_PKEY_free(k);
	return r;
}

static void *
worker(void *arg)
{
	struct bench *b = arg;
	struct pkid_requester rq = { "bench", NULL };
	struct pkid_issue_result res;
	struct pkid_err e;
	int i;

	while ((i = atomic_fetch_add(&b->next, 1)) < b->count) {
		pkid_err_clear(&e);
		if (pkid_ca_issue(b->ca, b->csrs[i % N_CSRS], "device",
		    &rq, &res, &e) != PKID_OK) {
			char m[512];

			if (atomic_fetch_add(&b->failed, 1) == 0)
				fprintf(stderr, "issue failed: %s: %s\n",
				    pkid_err_id(e.code),
				    pkid_err_message(&e, m, sizeof(m)));
			continue;
		}
		pkid_issue_result_clear(&res);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *key = "ec-p256", *dir = NULL, *sets[16];
	int n_sets = 0;
	char tmpl[] = "/tmp/pkid-bench.XXXXXX";
	struct pkid_ca_init_opts io;
	struct bench b;
	struct pkid_err e;
	pthread_t th[256];
	uint64_t t0, t1, commits, ops;
	int threads = 16, i;
	int64_t n;
	double secs;

	memset(&b, 0, sizeof(b));
	b.count = 20000;
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--key") == 0)
			key = argv[i + 1];
		else if (strcmp(argv[i], "--count") == 0)
			b.count = pkid_parse_int(argv[i + 1], 1, 10000000, &n,
			    NULL) == PKID_OK ? (int)n : -1;
		else if (strcmp(argv[i], "--threads") == 0)
			threads = pkid_parse_int(argv[i + 1], 1, 256, &n,
			    NULL) == PKID_OK ? (int)n : -1;
		else if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
		else if (strcmp(argv[i], "--set") == 0 && n_sets < 16)
			sets[n_sets++] = argv[i + 1];
		else
			threads = -1;
	}
	if (threads < 1 || threads > 256 || b.count < 1 || i != argc) {
		fprintf(stderr, "usage: issue_bench [--key K] [--count N] "
		    "[--threads 1..256] [--dir DIR] [--set S.K=V ...]\n");
		return 2;
	}
	if (dir == NULL && (dir = mkdtemp(tmpl)) == NULL)
		return 1;
	pkid_err_clear(&e);
	memset(&io, 0, sizeof(io));
	io.key = key;
	io.domain = "example.com";
	io.sets = sets;
	io.n_sets = n_sets;
	{
		char d[1200];

		snprintf(d, sizeof(d), "%s/ca-%s", dir, key);
		if (pkid_ca_init(d, &io, &e) != PKID_OK ||
		    pkid_ca_open(d, &b.ca, &e) != PKID_OK) {
			char m[512];

			fprintf(stderr, "%s: %s\n", pkid_err_id(e.code),
			    pkid_err_message(&e, m, sizeof(m)));
			return 1;
		}
	}
	for (i = 0; i < N_CSRS; i++)
		b.csrs[i] = make_csr(i);
	t0 = pkid_mono_ms();
	for (i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, &b);
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	t1 = pkid_mono_ms();
	pkid_store_commit_stats(b.ca->store, &commits, &ops);
	secs = (double)(t1 - t0) / 1000.0;
	printf("{\"ca_key\":\"%s\",\"threads\":%d,\"issued\":%d,"
	    "\"failed\":%d,\"seconds\":%.3f,\"per_second\":%.0f,"
	    "\"commits\":%llu,\"ops\":%llu}\n", key, threads,
	    b.count - atomic_load(&b.failed), atomic_load(&b.failed), secs,
	    (b.count - atomic_load(&b.failed)) / secs,
	    (unsigned long long)commits, (unsigned long long)ops);
	for (i = 0; i < N_CSRS; i++)
		X509_REQ_free(b.csrs[i]);
	pkid_ca_close(b.ca);
	return atomic_load(&b.failed) == 0 ? 0 : 1;
}
