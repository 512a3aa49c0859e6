/*
 * store_test.c - the SQLite store: migrations, records, constraints,
 * revocation, CRL numbers, append-only audit, group commit.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store_backend.h"

static char dbpath[1024];
static char tmpdir[64];

static int
setup(void **state)
{
	char tmpl[] = "/tmp/pkid-store-test.XXXXXX";

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
	return tb_setup(tmpdir, dbpath, sizeof(dbpath));
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct pkid_store *
open_store(void)
{
	struct pkid_store *s = NULL;
	struct pkid_err e;

	pkid_err_clear(&e);
	assert_int_equal(pkid_store_open(dbpath, &s, &e), PKID_OK);
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
	assert_true(g.id > 0);
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

static void
test_open_migrates_and_reopens(void **state)
{
	struct pkid_store *s;
	struct pkid_err e;
	int64_t gen, n = 0;

	(void)state;
	s = open_store();
	gen = add_gen(s);
	pkid_err_clear(&e);
	assert_int_equal(add_cert(s, gen, "0a", &e), PKID_OK);
	pkid_store_close(s);
	/* Reopening keeps everything and does not re-run migrations. */
	s = open_store();
	assert_int_equal(pkid_store_cert_count(s, &n, &e), PKID_OK);
	assert_int_equal(n, 1);
	pkid_store_close(s);
}

static void
test_duplicate_serial_refused(void **state)
{
	struct pkid_store *s = open_store();
	struct pkid_err e;
	int64_t gen = add_gen(s), n = 0;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(add_cert(s, gen, "0b", &e), PKID_OK);
	assert_int_equal(add_cert(s, gen, "0b", &e), PKID_E_STORE_CONSTRAINT);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_cert_count(s, &n, &e), PKID_OK);
	assert_int_equal(n, 1);
	/* One issue audit row only: the refused insert rolled back whole. */
	assert_int_equal(pkid_store_audit_count(s, "issue", "ok", &n, &e),
	    PKID_OK);
	assert_int_equal(n, 1);
	pkid_store_close(s);
}

static enum pkid_code
collect(const struct pkid_revoked *r, void *arg, struct pkid_err *e)
{
	int *n = arg;

	(void)e;
	assert_string_equal(r->serial, "0c");
	assert_int_equal(r->reason, 1);
	(*n)++;
	return PKID_OK;
}

static void
test_revoke(void **state)
{
	struct pkid_store *s = open_store();
	struct pkid_err e;
	int64_t gen = add_gen(s), num = 0;
	int n = 0;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(add_cert(s, gen, "0c", &e), PKID_OK);
	assert_int_equal(pkid_store_revoke(s, "0c", 1, 2000, "t", &e), PKID_OK);
	assert_int_equal(pkid_store_revoke(s, "0c", 1, 2000, "t", &e),
	    PKID_E_REVOKED_ALREADY);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_revoke(s, "ff", 1, 2000, "t", &e),
	    PKID_E_NOT_FOUND);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_revoked_list(s, gen, collect, &n, &e),
	    PKID_OK);
	assert_int_equal(n, 1);
	assert_int_equal(pkid_store_crl_number_next(s, "ca", &num, &e),
	    PKID_OK);
	assert_int_equal(num, 1);
	assert_int_equal(pkid_store_crl_number_next(s, "ca", &num, &e),
	    PKID_OK);
	assert_int_equal(num, 2);
	pkid_store_close(s);
}

/* The revoked mark (what a kept CRL is checked against) changes with every
 * revocation and every lifted hold, even when the newest revocation is the
 * one lifted and then made again: rowids are never reused. */
static void
test_unrevoke_mark(void **state)
{
	struct pkid_store *s = open_store();
	struct pkid_err e;
	int64_t gen = add_gen(s), m[8];
	int n = 0, i;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(add_cert(s, gen, "0a", &e), PKID_OK);
	assert_int_equal(add_cert(s, gen, "0c", &e), PKID_OK);
	assert_int_equal(pkid_store_revoked_mark(s, &m[0], &e), PKID_OK);
	assert_int_equal(pkid_store_revoke(s, "0a", 6, 2000, "t", &e), PKID_OK);
	assert_int_equal(pkid_store_revoked_mark(s, &m[1], &e), PKID_OK);
	assert_int_equal(pkid_store_unrevoke(s, "0a", 2001, "t", &e), PKID_OK);
	assert_int_equal(pkid_store_revoked_mark(s, &m[2], &e), PKID_OK);
	assert_int_equal(pkid_store_revoked_list(s, gen, collect, &n, &e),
	    PKID_OK);
	assert_int_equal(n, 0);
	assert_int_equal(pkid_store_revoke(s, "0a", 6, 2002, "t", &e), PKID_OK);
	assert_int_equal(pkid_store_revoked_mark(s, &m[3], &e), PKID_OK);
	assert_int_equal(pkid_store_unrevoke(s, "0a", 2003, "t", &e), PKID_OK);
	assert_int_equal(pkid_store_revoked_mark(s, &m[4], &e), PKID_OK);
	assert_int_equal(pkid_store_revoke(s, "0c", 1, 2004, "t", &e), PKID_OK);
	assert_int_equal(pkid_store_revoked_mark(s, &m[5], &e), PKID_OK);
	for (i = 1; i <= 5; i++)
		assert_true(m[i] > m[i - 1]);
	assert_int_equal(pkid_store_unrevoke(s, "0c", 2005, "t", &e),
	    PKID_E_REVOCATION_FINAL);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_unrevoke(s, "0a", 2005, "t", &e),
	    PKID_E_NOT_REVOKED);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_unrevoke(s, "ff", 2005, "t", &e),
	    PKID_E_NOT_FOUND);
	pkid_err_clear(&e);
	n = 0;
	assert_int_equal(pkid_store_revoked_list(s, gen, collect, &n, &e),
	    PKID_OK);
	assert_int_equal(n, 1);
	pkid_store_close(s);
}

static void
test_audit_append_only(void **state)
{
	struct pkid_store *s = open_store();
	struct pkid_err e;
	int64_t n = 0;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_audit(s, "me", "test", "obj", "ok", "d",
	    &e), PKID_OK);
	assert_int_equal(pkid_store_audit_count(s, "test", "ok", &n, &e),
	    PKID_OK);
	assert_int_equal(n, 1);
	pkid_store_close(s);
	/* Refused by the database itself (a trigger on either). */
	assert_int_equal(tb_exec(dbpath, "SELECT COUNT(*) FROM audit"), 0);
	assert_int_not_equal(tb_exec(dbpath, "UPDATE audit SET actor='x'"), 0);
	assert_int_not_equal(tb_exec(dbpath, "DELETE FROM audit"), 0);
}

static void
test_newer_schema_refused(void **state)
{
	struct pkid_store *s = open_store();
	struct pkid_err e;

	(void)state;
	pkid_store_close(s);
	assert_int_equal(tb_exec(dbpath, "UPDATE schema_version SET "
	    "version = 99"), 0);
	pkid_err_clear(&e);
	s = NULL;
	assert_int_equal(pkid_store_open(dbpath, &s, &e), PKID_E_STORE_SCHEMA);
	assert_null(s);
	assert_non_null(strstr(e.detail, "99"));
}

struct gc_arg {
	struct pkid_store *s;	/* shared store */
	int64_t gen;		/* generation */
	int base;		/* first serial number */
};

static void *
gc_worker(void *p)
{
	struct gc_arg *a = p;
	struct pkid_err e;
	char serial[32];
	int i;

	for (i = 0; i < 50; i++) {
		pkid_err_clear(&e);
		snprintf(serial, sizeof(serial), "%04x", a->base + i);
		if (add_cert(a->s, a->gen, serial, &e) != PKID_OK)
			return (void *)1;
	}
	return NULL;
}

static void
test_group_commit(void **state)
{
	struct pkid_store *s = open_store();
	struct gc_arg args[16];
	pthread_t th[16];
	uint64_t commits, ops;
	int64_t gen = add_gen(s), n = 0;
	struct pkid_err e;
	void *r;
	int i;

	(void)state;
	for (i = 0; i < 16; i++) {
		args[i].s = s;
		args[i].gen = gen;
		args[i].base = i * 100;
		pthread_create(&th[i], NULL, gc_worker, &args[i]);
	}
	for (i = 0; i < 16; i++) {
		pthread_join(th[i], &r);
		assert_null(r);
	}
	pkid_store_commit_stats(s, &commits, &ops);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_cert_count(s, &n, &e), PKID_OK);
	assert_int_equal(n, 800);
	/* 800 certificates plus the generation; sharing commits means
	 * fewer commits than operations. */
	assert_int_equal(ops, 801);
	if (tb_pg_url() == NULL)
		assert_true(commits < ops);
	else	/* one transaction each; the server groups the fsyncs */
		assert_int_equal(commits, ops);
	pkid_store_close(s);
}

struct req_seen {
	char state[16];		/* request state */
	uint8_t cert[8];	/* upstream certificate bytes */
	size_t cert_len;	/* their number */
};

static enum pkid_code
req_copy(const struct pkid_request *r, void *arg, struct pkid_err *e)
{
	struct req_seen *q = arg;

	(void)e;
	snprintf(q->state, sizeof(q->state), "%s", r->state);
	q->cert_len = r->cert_der != NULL ? r->cert_len : 0;
	if (q->cert_len > 0 && q->cert_len <= sizeof(q->cert))
		memcpy(q->cert, r->cert_der, q->cert_len);
	return PKID_OK;
}

/* SCEP RA mode: a request waits for the upstream, then holds the
 * certificate the upstream issued (schema 4). */
static void
test_request_upstream_cert(void **state)
{
	struct pkid_store *s = open_store();
	struct pkid_request r;
	struct req_seen q;
	struct pkid_err e;
	static const uint8_t csr[] = { 0x30, 0x01, 0x00 };
	static const uint8_t der[] = { 0x30, 0x02, 0x05, 0x00 };
	int64_t id = 0;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.kind = "scep";
	r.transaction_id = "T1";
	r.state = "ra-pending";
	r.profile = "device";
	r.requester = "scep:127.0.0.1";
	r.csr_der = csr;
	r.csr_len = sizeof(csr);
	r.csr_digest = "00";
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_request_add(s, &r, &id, &e), PKID_OK);
	memset(&q, 0, sizeof(q));
	assert_int_equal(pkid_store_request_find(s, "scep", "T1", req_copy,
	    &q, &e), PKID_OK);
	assert_string_equal(q.state, "ra-pending");
	assert_int_equal(q.cert_len, 0);
	assert_int_equal(pkid_store_request_set_cert(s, id, "0a", NULL, 0,
	    "test", &e), PKID_E_USAGE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_request_set_cert(s, id, "0a", der,
	    sizeof(der), "test", &e), PKID_OK);
	memset(&q, 0, sizeof(q));
	assert_int_equal(pkid_store_request_get(s, id, req_copy, &q, &e),
	    PKID_OK);
	assert_string_equal(q.state, "issued");
	assert_int_equal(q.cert_len, sizeof(der));
	assert_memory_equal(q.cert, der, sizeof(der));
	pkid_store_close(s);
}

/* A failed request frees its transaction id for a new request; any
 * other state keeps it. */
static void
test_request_retire(void **state)
{
	struct pkid_store *s = open_store();
	struct pkid_request r;
	struct req_seen q;
	struct pkid_err e;
	static const uint8_t csr[] = { 0x30, 0x01, 0x00 };
	int64_t id = 0, id2 = 0;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.kind = "scep";
	r.transaction_id = "T9";
	r.state = "issued";
	r.profile = "device";
	r.requester = "scep:127.0.0.1";
	r.csr_der = csr;
	r.csr_len = sizeof(csr);
	r.csr_digest = "00";
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_request_add(s, &r, &id, &e), PKID_OK);
	assert_int_equal(pkid_store_request_retire(s, id, "test", &e),
	    PKID_E_REQUEST_STATE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_request_set(s, id, "failed", NULL,
	    "refused upstream", "test", &e), PKID_OK);
	assert_int_equal(pkid_store_request_retire(s, id, "test", &e),
	    PKID_OK);
	/* The id is free: a new request takes it; the old row stays. */
	r.state = "ra-pending";
	r.csr_digest = "01";
	assert_int_equal(pkid_store_request_add(s, &r, &id2, &e), PKID_OK);
	memset(&q, 0, sizeof(q));
	assert_int_equal(pkid_store_request_find(s, "scep", "T9", req_copy,
	    &q, &e), PKID_OK);
	assert_string_equal(q.state, "ra-pending");
	memset(&q, 0, sizeof(q));
	assert_int_equal(pkid_store_request_get(s, id, req_copy, &q, &e),
	    PKID_OK);
	assert_string_equal(q.state, "failed");
	assert_int_equal(pkid_store_request_retire(s, 999999, "test", &e),
	    PKID_E_REQUEST_STATE);
	pkid_store_close(s);
}

static void
test_cert_with_request_one_commit(void **state)
{
	struct pkid_store *s = open_store();
	struct pkid_cert_rec r;
	struct pkid_request q;
	struct pkid_err e;
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	int64_t gen = add_gen(s), id = 0, n = 0;
	uint64_t c0, c1, o0, o1;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.serial = "0d";
	r.ca_gen = gen;
	r.subject = "CN=dev";
	r.profile = "device";
	r.requester = "test";
	r.not_after = 4000000000;
	r.der = der;
	r.der_len = sizeof(der);
	r.fingerprint = "00";
	memset(&q, 0, sizeof(q));
	q.kind = "scep";
	q.transaction_id = "tid-1";
	q.state = "issued";
	q.profile = "device";
	q.requester = "test";
	q.cert_serial = "0d";
	pkid_err_clear(&e);
	pkid_store_commit_stats(s, &c0, &o0);
	assert_int_equal(pkid_store_cert_add_request(s, &r, &q, &id, &e),
	    PKID_OK);
	pkid_store_commit_stats(s, &c1, &o1);
	assert_true(id > 0);
	assert_int_equal(c1 - c0, 1);	/* one fsync for both rows */
	/* The same transaction id again: refused whole, no certificate. */
	r.serial = "0e";
	assert_int_equal(pkid_store_cert_add_request(s, &r, &q, &id, &e),
	    PKID_E_REQUEST_STATE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_cert_count(s, &n, &e), PKID_OK);
	assert_int_equal(n, 1);
	pkid_store_close(s);
}

/* A certificate record and its SCEP request row for one test. */
struct chal_req {
	struct pkid_cert_rec c;	/* the certificate */
	struct pkid_request q;	/* its request, with the challenge */
	char serial[8];		/* its serial */
	char tid[16];		/* its transaction id */
};

static void
chal_req_init(struct chal_req *a, int64_t gen, int i, const char *hash)
{
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

	memset(a, 0, sizeof(*a));
	snprintf(a->serial, sizeof(a->serial), "%02x", 0x40 + i);
	snprintf(a->tid, sizeof(a->tid), "tid-%d", i);
	a->c.serial = a->serial;
	a->c.ca_gen = gen;
	a->c.subject = "CN=dev";
	a->c.profile = "device";
	a->c.requester = "test";
	a->c.not_after = 4000000000;
	a->c.der = der;
	a->c.der_len = sizeof(der);
	a->c.fingerprint = "00";
	a->q.kind = "scep";
	a->q.transaction_id = a->tid;
	a->q.state = "issued";
	a->q.profile = "device";
	a->q.requester = "test";
	a->q.cert_serial = a->serial;
	a->q.challenge_hash = hash;
}

static int
req_exists(struct pkid_store *s, const char *tid)
{
	struct req_seen q;
	struct pkid_err e;

	pkid_err_clear(&e);
	return pkid_store_request_find(s, "scep", tid, req_copy, &q, &e) ==
	    PKID_OK;
}

/* A one-time challenge is looked up without being used, and used only
 * by the commit that records an accepted request: a refused request
 * leaves it usable, a second accepted one is refused whole. */
static void
test_challenge_used_with_request(void **state)
{
	struct pkid_store *s = open_store();
	struct chal_req a, b;
	struct pkid_request p;
	struct pkid_err e;
	char prof[64];
	int64_t gen = add_gen(s), id = 0, n = 0;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_challenge_add(s, "h1", "server",
	    4000000000, &e), PKID_OK);
	assert_int_equal(pkid_store_challenge_add(s, "old", "device", 900,
	    &e), PKID_OK);
	/* Looking does not use it up. */
	assert_int_equal(pkid_store_challenge_peek(s, "h1", 1000, prof,
	    sizeof(prof), &e), PKID_OK);
	assert_string_equal(prof, "server");
	assert_int_equal(pkid_store_challenge_peek(s, "h1", 1000, prof,
	    sizeof(prof), &e), PKID_OK);
	assert_int_equal(pkid_store_challenge_peek(s, "old", 1000, prof,
	    sizeof(prof), &e), PKID_E_CHALLENGE_BAD);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_challenge_peek(s, "nope", 1000, prof,
	    sizeof(prof), &e), PKID_E_CHALLENGE_BAD);
	pkid_err_clear(&e);
	/* The accepted request uses it, in its own commit. */
	chal_req_init(&a, gen, 1, "h1");
	assert_int_equal(pkid_store_cert_add_request(s, &a.c, &a.q, &id, &e),
	    PKID_OK);
	assert_int_equal(pkid_store_challenge_peek(s, "h1", 1000, prof,
	    sizeof(prof), &e), PKID_E_CHALLENGE_BAD);
	pkid_err_clear(&e);
	/* Another request with it: neither its certificate nor its row. */
	chal_req_init(&b, gen, 2, "h1");
	assert_int_equal(pkid_store_cert_add_request(s, &b.c, &b.q, &id, &e),
	    PKID_E_CHALLENGE_BAD);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_cert_count(s, &n, &e), PKID_OK);
	assert_int_equal(n, 1);
	assert_true(req_exists(s, "tid-1"));
	assert_false(req_exists(s, "tid-2"));
	/* A pending request row (manual approval) is refused the same. */
	p = b.q;
	p.state = "pending";
	p.cert_serial = NULL;
	assert_int_equal(pkid_store_request_add(s, &p, &id, &e),
	    PKID_E_CHALLENGE_BAD);
	pkid_err_clear(&e);
	assert_false(req_exists(s, "tid-2"));
	/* An expired one cannot be used by a write either. */
	p.challenge_hash = "old";
	assert_int_equal(pkid_store_request_add(s, &p, &id, &e),
	    PKID_E_CHALLENGE_BAD);
	pkid_err_clear(&e);
	p.challenge_hash = NULL;
	assert_int_equal(pkid_store_request_add(s, &p, &id, &e), PKID_OK);
	pkid_store_close(s);
}

#define RACERS 8

struct race_arg {
	struct pkid_store *s;		/* the store */
	pthread_barrier_t *bar;		/* all have checked before any writes */
	struct chal_req r;		/* this racer's request */
	enum pkid_code peek, add;	/* what each step returned */
};

static void *
race_worker(void *p)
{
	struct race_arg *a = p;
	struct pkid_err e;
	char prof[64];
	int64_t id = 0;

	pkid_err_clear(&e);
	a->peek = pkid_store_challenge_peek(a->s, "h2", 1000, prof,
	    sizeof(prof), &e);
	pthread_barrier_wait(a->bar);
	pkid_err_clear(&e);
	a->add = pkid_store_cert_add_request(a->s, &a->r.c, &a->r.q, &id, &e);
	return NULL;
}

/* Requests that all passed the challenge check at once: exactly one gets
 * its certificate recorded, the others challenge-bad. */
static void
test_challenge_race(void **state)
{
	struct pkid_store *s = open_store();
	struct race_arg args[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t bar;
	struct pkid_err e;
	int64_t gen = add_gen(s), n = 0;
	int i, won = 0;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_challenge_add(s, "h2", "device",
	    4000000000, &e), PKID_OK);
	pthread_barrier_init(&bar, NULL, RACERS);
	for (i = 0; i < RACERS; i++) {
		args[i].s = s;
		args[i].bar = &bar;
		chal_req_init(&args[i].r, gen, i, "h2");
		pthread_create(&th[i], NULL, race_worker, &args[i]);
	}
	for (i = 0; i < RACERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	for (i = 0; i < RACERS; i++) {
		assert_int_equal(args[i].peek, PKID_OK);
		if (args[i].add == PKID_OK)
			won++;
		else
			assert_int_equal(args[i].add, PKID_E_CHALLENGE_BAD);
	}
	assert_int_equal(won, 1);
	assert_int_equal(pkid_store_cert_count(s, &n, &e), PKID_OK);
	assert_int_equal(n, 1);
	pkid_store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_migrates_and_reopens,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_serial_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unrevoke_mark, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_audit_append_only, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_upstream_cert,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_cert_with_request_one_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_challenge_used_with_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_challenge_race, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_request_retire, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
