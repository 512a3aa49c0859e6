/*
 * store_pg_test.c - what only the PostgreSQL store has to show: several
 * pkid nodes (here: several stores open on one database at once, as
 * several processes would be) racing for serials, CRL numbers and a
 * one-time challenge; an unreachable database at open; the database
 * stopped and restarted under a store that stays open.
 *
 * Run by ctest as unit/store_pg_test@pg through tools/pg-test.sh run,
 * which sets PKID_TEST_PG_URL and PKID_TEST_PG_DIR; fails without them.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "store/store.h"
#include "store_backend.h"

#define NODES 2
#define THREADS 4		/* per node */
#define PER_THREAD 40

static char url[1024];

static int
setup(void **state)
{
	(void)state;
	if (tb_pg_url() == NULL || getenv("PKID_TEST_PG_DIR") == NULL) {
		fprintf(stderr, "store_pg_test: run through tools/pg-test.sh "
		    "run (PKID_TEST_PG_URL is not set)\n");
		return -1;
	}
	return tb_setup("/nonexistent", url, sizeof(url));
}

static struct pkid_store *
open_store(void)
{
	struct pkid_store *s = NULL;
	struct pkid_err e;

	pkid_err_clear(&e);
	assert_int_equal(pkid_store_open(url, &s, &e), PKID_OK);
	return s;
}

static int64_t
add_gen(struct pkid_store *s)
{
	struct pkid_ca_gen g;
	struct pkid_err e;
	static const uint8_t der[] = { 0x30, 0x00 };

	memset(&g, 0, sizeof(g));
	strcpy(g.ca_name, "ca");
	g.generation = 1;
	strcpy(g.role, "issuing");
	strcpy(g.state, "current");
	strcpy(g.subject, "CN=Test");
	g.not_after = 2000000000;
	g.der = der;
	g.der_len = sizeof(der);
	strcpy(g.key_ref, "keys/issuing.key");
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_ca_gen_add(s, &g, &e), PKID_OK);
	return g.id;
}

static enum pkid_code
add_cert(struct pkid_store *s, int64_t gen, const char *serial,
    struct pkid_err *e)
{
	struct pkid_cert_rec r;
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

	memset(&r, 0, sizeof(r));
	r.serial = serial;
	r.ca_gen = gen;
	r.subject = "CN=dev";
	r.sans = "DNS:dev";
	r.profile = "device";
	r.requester = "test";
	r.not_before = 1000;
	r.not_after = 4000000000;
	r.issued_at = 1000;
	r.der = der;
	r.der_len = sizeof(der);
	r.fingerprint = "00";
	return pkid_store_cert_add(s, &r, e);
}

/* An unreachable database: a coded error naming where, at open. */
static void
test_unreachable(void **state)
{
	struct pkid_store *s = NULL;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	/* Port 1 on loopback: nothing listens there. */
	assert_int_equal(pkid_store_open("postgresql://pkid@127.0.0.1:1/pkid",
	    &s, &e), PKID_E_STORE_UNAVAILABLE);
	assert_null(s);
	assert_non_null(strstr(e.detail, "host 127.0.0.1 port 1"));
	/* A key=value conninfo string is PostgreSQL too. */
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_open("host=127.0.0.1 port=1 dbname=pkid "
	    "user=pkid", &s, &e), PKID_E_STORE_UNAVAILABLE);
	assert_null(s);
}

struct node_arg {
	struct pkid_store *s;	/* this node's store */
	int64_t gen;		/* generation */
	int id;			/* thread number, all nodes */
	pthread_barrier_t *bar;	/* start together */
	int ok, dup;		/* serials recorded, refused as duplicates */
	int64_t crl[PER_THREAD]; /* CRL numbers taken */
	enum pkid_code take;	/* the challenge take */
	struct pkid_store *open; /* opened at once with the others */
};

/* Every thread of every node writes the same serials: each is recorded
 * once, the others store-constraint (the caller's cue to draw another
 * serial). And takes CRL numbers. */
static void *
node_worker(void *p)
{
	struct node_arg *a = p;
	struct pkid_err e;
	char serial[16], prof[64];
	int i;

	pthread_barrier_wait(a->bar);
	for (i = 0; i < PER_THREAD; i++) {
		pkid_err_clear(&e);
		snprintf(serial, sizeof(serial), "%04x", i);
		switch (add_cert(a->s, a->gen, serial, &e)) {
		case PKID_OK:
			a->ok++;
			break;
		case PKID_E_STORE_CONSTRAINT:
			a->dup++;
			break;
		default:
			return (void *)1;
		}
		pkid_err_clear(&e);
		if (pkid_store_crl_number_next(a->s, "ca", &a->crl[i], &e) !=
		    PKID_OK)
			return (void *)1;
	}
	pkid_err_clear(&e);
	a->take = pkid_store_challenge_take(a->s, "h1", 1000, prof,
	    sizeof(prof), &e);
	return NULL;
}

static void *
open_worker(void *p)
{
	struct node_arg *a = p;
	struct pkid_err e;

	pthread_barrier_wait(a->bar);
	pkid_err_clear(&e);
	if (pkid_store_open(url, &a->open, &e) != PKID_OK)
		return (void *)1;
	return NULL;
}

static int
cmp64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

static void
test_two_nodes(void **state)
{
	struct pkid_store *node[NODES];
	struct node_arg args[NODES * THREADS];
	pthread_t th[NODES * THREADS];
	pthread_barrier_t bar;
	static int64_t all[NODES * THREADS * PER_THREAD];
	struct pkid_err e;
	int64_t gen, n = 0;
	void *r;
	int i, j, k = 0, ok = 0, won = 0;

	(void)state;
	memset(args, 0, sizeof(args));
	/* The nodes start together on an empty database: one creates the
	 * schema, the others wait on its lock and find it made. */
	pthread_barrier_init(&bar, NULL, NODES);
	for (i = 0; i < NODES; i++) {
		args[i].bar = &bar;
		pthread_create(&th[i], NULL, open_worker, &args[i]);
	}
	for (i = 0; i < NODES; i++) {
		pthread_join(th[i], &r);
		assert_null(r);
		node[i] = args[i].open;
	}
	pthread_barrier_destroy(&bar);
	gen = add_gen(node[0]);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_challenge_add(node[1], "h1", "device",
	    4000000000, &e), PKID_OK);
	memset(args, 0, sizeof(args));
	pthread_barrier_init(&bar, NULL, NODES * THREADS);
	for (i = 0; i < NODES * THREADS; i++) {
		args[i].s = node[i % NODES];
		args[i].gen = gen;
		args[i].id = i;
		args[i].bar = &bar;
		pthread_create(&th[i], NULL, node_worker, &args[i]);
	}
	for (i = 0; i < NODES * THREADS; i++) {
		pthread_join(th[i], &r);
		assert_null(r);
	}
	pthread_barrier_destroy(&bar);
	for (i = 0; i < NODES * THREADS; i++) {
		ok += args[i].ok;
		assert_int_equal(args[i].ok + args[i].dup, PER_THREAD);
		for (j = 0; j < PER_THREAD; j++) {
			/* Each thread sees its numbers grow. */
			if (j > 0)
				assert_true(args[i].crl[j] > args[i].crl[j -
				    1]);
			all[k++] = args[i].crl[j];
		}
		if (args[i].take == PKID_OK)
			won++;
		else
			assert_int_equal(args[i].take, PKID_E_CHALLENGE_BAD);
	}
	/* Each serial once. */
	assert_int_equal(ok, PER_THREAD);
	assert_int_equal(pkid_store_cert_count(node[1], &n, &e), PKID_OK);
	assert_int_equal(n, PER_THREAD);
	/* CRL numbers: never twice, none skipped: 1 .. all of them. */
	qsort(all, (size_t)k, sizeof(all[0]), cmp64);
	for (i = 0; i < k; i++)
		assert_int_equal(all[i], i + 1);
	/* The one-time challenge: one taker across the nodes. */
	assert_int_equal(won, 1);
	for (i = 0; i < NODES; i++)
		pkid_store_close(node[i]);
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
pg_ctl(const char *what)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "tools/pg-test.sh %s '%s'", what,
	    getenv("PKID_TEST_PG_DIR"));
	return system(cmd);
}

/*
 * The database goes away under an open store: writes fail
 * store-unavailable (the code the HTTP layer answers 503 with
 * Retry-After), health says so, nothing is half-written; once it is
 * back the same store works again by itself.
 */
static void
test_restart(void **state)
{
	struct pkid_store *s = open_store();
	struct pkid_err e, h;
	int64_t gen = add_gen(s), n = 0;
	double t0;
	int i;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(add_cert(s, gen, "01", &e), PKID_OK);
	/* A restart between two uses: the stale connection is noticed
	 * at BEGIN and replaced; the caller sees nothing. */
	assert_int_equal(pg_ctl("restart"), 0);
	pkid_err_clear(&e);
	assert_int_equal(add_cert(s, gen, "02", &e), PKID_OK);
	assert_int_equal(pg_ctl("down"), 0);
	pkid_err_clear(&e);
	assert_int_equal(add_cert(s, gen, "03", &e), PKID_E_STORE_UNAVAILABLE);
	assert_non_null(strstr(e.detail, "127.0.0.1"));
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_cert_count(s, &n, &e),
	    PKID_E_STORE_UNAVAILABLE);
	pkid_store_health(s, &h);
	assert_int_equal(h.code, PKID_E_STORE_UNAVAILABLE);
	/* While it is away every call fails at once, naming where. */
	t0 = mono_s();
	for (i = 0; i < 200; i++) {
		pkid_err_clear(&e);
		assert_int_equal(pkid_store_cert_count(s, &n, &e),
		    PKID_E_STORE_UNAVAILABLE);
		assert_non_null(strstr(e.detail, "127.0.0.1"));
	}
	assert_true(mono_s() - t0 < 2.0);
	assert_int_equal(pg_ctl("up"), 0);
	/* Found again within a reconnect interval of its return. */
	t0 = mono_s();
	do {
		pkid_err_clear(&e);
		if (add_cert(s, gen, "04", &e) == PKID_OK)
			break;
		assert_int_equal(e.code, PKID_E_STORE_UNAVAILABLE);
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	} while (mono_s() - t0 < 2.0);
	assert_int_equal(e.code, PKID_OK);
	/* Back: /healthz need not wait out its window. */
	pkid_store_health(s, &h);
	assert_int_equal(h.code, PKID_OK);
	assert_int_equal(pkid_store_cert_count(s, &n, &e), PKID_OK);
	assert_int_equal(n, 3);
	/* The refused one left no trace, not even its audit row. */
	assert_int_equal(pkid_store_audit_count(s, "issue", "ok", &n, &e),
	    PKID_OK);
	assert_int_equal(n, 3);
	pkid_store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_unreachable, setup),
		cmocka_unit_test_setup(test_two_nodes, setup),
		cmocka_unit_test_setup(test_restart, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
