/*
 * store_admin_test.c - the store's administrative reads and changes
 * (sqlite_admin.c): EST users listed without hashes, changed and deleted
 * only when they exist; SCEP challenges revoked by an id prefix (unique,
 * unused); audit pages, newest last, bounded by since, before and limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"
#include "store/store.h"
#include "store_backend.h"

static char dbpath[1024];
static char tmpdir[64];

static int
setup(void **state)
{
	char tmpl[] = "/tmp/pkid-store-admin-test.XXXXXX";

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
	pkid_clock_set(0);
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
audits(struct pkid_store *s, const char *action)
{
	struct pkid_err e;
	int64_t n = -1;

	pkid_err_clear(&e);
	assert_int_equal(pkid_store_audit_count(s, action, "ok", &n, &e),
	    PKID_OK);
	return n;
}

/* Names seen by a listing, joined with ','. */
struct names {
	char buf[256];
	int n;
};

static enum pkid_code
user_seen(const struct pkid_user_rec *u, void *arg, struct pkid_err *e)
{
	struct names *nm = arg;
	size_t l = strlen(nm->buf);

	(void)e;
	assert_true(u->created_at > 0);
	snprintf(nm->buf + l, sizeof(nm->buf) - l, "%s%s", nm->n ? "," : "",
	    u->name);
	nm->n++;
	return PKID_OK;
}

static void
test_users(void **state)
{
	struct pkid_store *s = open_store();
	struct names nm;
	struct pkid_err e;
	char h[64];

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_user_put(s, "bob", "hash-b", &e), PKID_OK);
	assert_int_equal(pkid_store_user_put(s, "alice", "hash-a", &e),
	    PKID_OK);
	memset(&nm, 0, sizeof(nm));
	assert_int_equal(pkid_store_user_list(s, user_seen, &nm, &e), PKID_OK);
	assert_string_equal(nm.buf, "alice,bob");
	/* passwd never creates. */
	assert_int_equal(pkid_store_user_passwd(s, "carol", "hash-c", "cli",
	    &e), PKID_E_NOT_FOUND);
	assert_non_null(strstr(e.detail, "est user list"));
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_user_get(s, "carol", h, sizeof(h), &e),
	    PKID_E_NOT_FOUND);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_user_passwd(s, "alice", "hash-a2", "cli",
	    &e), PKID_OK);
	assert_int_equal(pkid_store_user_get(s, "alice", h, sizeof(h), &e),
	    PKID_OK);
	assert_string_equal(h, "hash-a2");
	assert_int_equal(pkid_store_user_del(s, "bob", "cli", &e), PKID_OK);
	assert_int_equal(pkid_store_user_del(s, "bob", "cli", &e),
	    PKID_E_NOT_FOUND);
	pkid_err_clear(&e);
	memset(&nm, 0, sizeof(nm));
	assert_int_equal(pkid_store_user_list(s, user_seen, &nm, &e), PKID_OK);
	assert_string_equal(nm.buf, "alice");
	/* Only the changes that happened are audited. */
	assert_int_equal(audits(s, "user-passwd"), 1);
	assert_int_equal(audits(s, "user-del"), 1);
	pkid_store_close(s);
}

static enum pkid_code
chal_seen(const struct pkid_challenge_rec *c, void *arg, struct pkid_err *e)
{
	struct names *nm = arg;
	size_t l = strlen(nm->buf);

	(void)e;
	assert_int_equal(strlen(c->id), PKID_CHALLENGE_ID_LEN);
	snprintf(nm->buf + l, sizeof(nm->buf) - l, "%s%s:%s", nm->n ? "," :
	    "", c->id, c->used_at != 0 ? "used" : "unused");
	nm->n++;
	return PKID_OK;
}

static void
test_challenge_revoke_by_prefix(void **state)
{
	/* Two hashes sharing 8 digits, and one other. */
	static const char a1[] = "aaaaaaaa111111111111111111111111"
	    "11111111111111111111111111111111";
	static const char a2[] = "aaaaaaaa222222222222222222222222"
	    "22222222222222222222222222222222";
	static const char b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	struct pkid_challenge_rec out;
	struct pkid_store *s = open_store();
	struct names nm;
	struct pkid_err e;
	char prof[64];

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(strlen(a1), 64);
	assert_int_equal(strlen(b), 64);
	pkid_clock_set(1000000);
	assert_int_equal(pkid_store_challenge_add(s, a1, "device", 2000000,
	    &e), PKID_OK);
	assert_int_equal(pkid_store_challenge_add(s, a2, "server", 2000000,
	    &e), PKID_OK);
	assert_int_equal(pkid_store_challenge_add(s, b, "device", 2000000,
	    &e), PKID_OK);
	assert_int_equal(pkid_store_challenge_take(s, b, 1000001, prof,
	    sizeof(prof), &e), PKID_OK);
	memset(&nm, 0, sizeof(nm));
	assert_int_equal(pkid_store_challenge_list(s, chal_seen, &nm, &e),
	    PKID_OK);
	assert_string_equal(nm.buf, "aaaaaaaa1111:unused,aaaaaaaa2222:unused,"
	    "bbbbbbbbbbbb:used");
	/* Ambiguous, too short, not hex: usage. */
	assert_int_equal(pkid_store_challenge_revoke(s, "aaaaaaaa", "cli",
	    &out, &e), PKID_E_USAGE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_challenge_revoke(s, "aaaaaaa", "cli",
	    &out, &e), PKID_E_USAGE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_challenge_revoke(s, "aaaaaaag", "cli",
	    &out, &e), PKID_E_USAGE);
	pkid_err_clear(&e);
	/* Unique, in either case: revoked, and only it. */
	assert_int_equal(pkid_store_challenge_revoke(s, "AAAAAAAA2", "cli",
	    &out, &e), PKID_OK);
	assert_string_equal(out.id, "aaaaaaaa2222");
	assert_string_equal(out.profile, "server");
	assert_int_equal(out.expires_at, 2000000);
	assert_int_equal(pkid_store_challenge_peek(s, a2, 1000002, prof,
	    sizeof(prof), &e), PKID_E_CHALLENGE_BAD);
	pkid_err_clear(&e);
	assert_int_equal(pkid_store_challenge_peek(s, a1, 1000002, prof,
	    sizeof(prof), &e), PKID_OK);
	assert_int_equal(pkid_store_challenge_revoke(s, "aaaaaaaa2", "cli",
	    &out, &e), PKID_E_NOT_FOUND);
	pkid_err_clear(&e);
	/* Now unique: the 8-digit prefix names a1. The full hash too. */
	assert_int_equal(pkid_store_challenge_revoke(s, a1, "cli", &out, &e),
	    PKID_OK);
	/* Used: nothing to revoke, and it stays listed. */
	assert_int_equal(pkid_store_challenge_revoke(s, "bbbbbbbb", "cli",
	    &out, &e), PKID_E_REQUEST_STATE);
	pkid_err_clear(&e);
	memset(&nm, 0, sizeof(nm));
	assert_int_equal(pkid_store_challenge_list(s, chal_seen, &nm, &e),
	    PKID_OK);
	assert_string_equal(nm.buf, "bbbbbbbbbbbb:used");
	assert_int_equal(audits(s, "scep-challenge-revoke"), 2);
	pkid_store_close(s);
}

/* A page's rows, in the order given. */
struct page {
	int64_t id[64];
	int64_t at[64];
	int n;
};

static enum pkid_code
audit_seen(const struct pkid_audit_rec *a, void *arg, struct pkid_err *e)
{
	struct page *p = arg;

	(void)e;
	assert_true(p->n < 64);
	assert_string_equal(a->action, "probe");
	p->id[p->n] = a->id;
	p->at[p->n] = a->at;
	p->n++;
	return PKID_OK;
}

static void
get_page(struct pkid_store *s, int64_t since, int64_t before, int limit,
    struct page *p, int64_t *older)
{
	struct pkid_err e;

	pkid_err_clear(&e);
	memset(p, 0, sizeof(*p));
	assert_int_equal(pkid_store_audit_page(s, since, before, limit,
	    audit_seen, p, older, &e), PKID_OK);
}

static void
test_audit_pages(void **state)
{
	struct pkid_store *s = open_store();
	struct pkid_err e;
	struct page p;
	int64_t older, first;
	int i;

	(void)state;
	pkid_err_clear(&e);
	for (i = 0; i < 20; i++) {
		pkid_clock_set(5000 + i);
		assert_int_equal(pkid_store_audit(s, "t", "probe", "o", "ok",
		    "", &e), PKID_OK);
	}
	/* The newest five, oldest first, and the way back. */
	get_page(s, INT64_MIN, 0, 5, &p, &older);
	assert_int_equal(p.n, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(p.at[i], 5015 + i);
	for (i = 1; i < 5; i++)
		assert_int_equal(p.id[i], p.id[i - 1] + 1);
	assert_int_equal(older, p.id[0]);
	first = p.id[0] - 15;
	get_page(s, INT64_MIN, older, 5, &p, &older);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.at[0], 5010);
	assert_int_equal(p.at[4], 5014);
	/* The last page: nothing older. */
	get_page(s, INT64_MIN, first + 5, 5, &p, &older);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.at[0], 5000);
	assert_int_equal(older, 0);
	get_page(s, INT64_MIN, first, 5, &p, &older);
	assert_int_equal(p.n, 0);
	assert_int_equal(older, 0);
	/* since cuts the window; older only when a row past it matches. */
	get_page(s, 5015, 0, 50, &p, &older);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.at[0], 5015);
	assert_int_equal(older, 0);
	get_page(s, 5015, 0, 5, &p, &older);
	assert_int_equal(p.n, 5);
	assert_int_equal(older, 0);
	get_page(s, 5014, 0, 5, &p, &older);
	assert_int_equal(p.n, 5);
	assert_int_equal(older, p.id[0]);
	get_page(s, 5018, 0, 5, &p, &older);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.at[0], 5018);
	assert_int_equal(older, 0);
	get_page(s, 6000, 0, 5, &p, &older);
	assert_int_equal(p.n, 0);
	/* A page of one. */
	get_page(s, INT64_MIN, 0, 1, &p, &older);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.at[0], 5019);
	assert_int_equal(pkid_store_audit_page(s, INT64_MIN, 0, 0, audit_seen,
	    &p, &older, &e), PKID_E_INTERNAL);
	pkid_store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_challenge_revoke_by_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_pages, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
