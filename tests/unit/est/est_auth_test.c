/*
 * est_auth_test.c - EST HTTP Basic on a real CA directory, without a
 * network: an unknown user runs the password KDF like a known one (the
 * dummy hash, same scheme and cost) and gets the same answer; a user
 * locked out is refused before the KDF, with a Retry-After, and the
 * lock-out is audited once; a success clears the user's count; unknown
 * names are counted like known ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "ca/ca.h"
#include "core/buf.h"
#include "core/clock.h"
#include "est/est_int.h"
#include "est/passwd.h"

#define T0 ((time_t)1900000000)
#define GOOD "correct-horse-battery"

static char dir[256];
static struct pkid_ca *ca;
static struct pkid_est *est;

/* A PBKDF2 hash of pw at the lowest cost passwd.c reads (fast tests:
 * what is counted here is KDF runs, not their cost). */
static void
cheap_hash(const char *pw, char *out, size_t len)
{
	static const uint8_t salt[16] = "pkid-unit-salt!";
	uint8_t dk[32];
	struct pkid_buf s, h;
	struct pkid_err e;

	pkid_err_clear(&e);
	assert_int_equal(PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt,
	    sizeof(salt), 1000, EVP_sha256(), sizeof(dk), dk), 1);
	assert_int_equal(pkid_base64_encode(salt, sizeof(salt), 0, &s, &e),
	    PKID_OK);
	assert_int_equal(pkid_base64_encode(dk, sizeof(dk), 0, &h, &e),
	    PKID_OK);
	snprintf(out, len, "$pbkdf2-sha256$1000$%s$%s", (char *)s.p,
	    (char *)h.p);
	pkid_buf_free(&s);
	pkid_buf_free(&h);
}

static int
setup(void **state)
{
	char tmpl[] = "/tmp/pkid-est-auth-test.XXXXXX";
	char hash[PKID_MAX_PASSWORD_HASH + 1];
	struct pkid_ca_init_opts o;
	struct pkid_err e;

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s/ca", tmpl);
	memset(&o, 0, sizeof(o));
	o.domain = "example.com";
	pkid_err_clear(&e);
	pkid_clock_set(T0);
	cheap_hash(GOOD, hash, sizeof(hash));
	if (pkid_ca_init(dir, &o, &e) != PKID_OK ||
	    pkid_ca_open(dir, &ca, &e) != PKID_OK ||
	    pkid_store_user_put(ca->store, "alice", hash, &e) != PKID_OK ||
	    pkid_store_user_put(ca->store, "bob", hash, &e) != PKID_OK ||
	    (est = pkid_est_new(ca, &e)) == NULL) {
		fprintf(stderr, "setup: %s\n", e.detail);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	pkid_est_free(est);
	pkid_ca_close(ca);
	pkid_clock_set(0);
	snprintf(cmd, sizeof(cmd), "rm -rf \"$(dirname '%s')\"", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* "Basic base64(user:pw)" into out. */
static const char *
basic(const char *user, const char *pw, char *out, size_t len)
{
	char raw[256];
	struct pkid_buf b;
	struct pkid_err e;

	pkid_err_clear(&e);
	snprintf(raw, sizeof(raw), "%s:%s", user, pw);
	assert_int_equal(pkid_base64_encode((const uint8_t *)raw, strlen(raw),
	    0, &b, &e), PKID_OK);
	snprintf(out, len, "Basic %s", (char *)b.p);
	pkid_buf_free(&b);
	return out;
}

/* One login; returns the code, e and peer filled. */
static enum pkid_code
login(const char *user, const char *pw, const char *addr,
    struct est_peer *peer, struct pkid_err *e)
{
	char hdr[512];

	memset(peer, 0, sizeof(*peer));
	pkid_err_clear(e);
	return pkid_est_basic_check(est, &est->labels[0], basic(user, pw, hdr,
	    sizeof(hdr)), addr, peer, e);
}

static int64_t
audited(const char *action, const char *result)
{
	struct pkid_err e;
	int64_t n = -1;

	pkid_err_clear(&e);
	assert_int_equal(pkid_store_audit_count(ca->store, action, result, &n,
	    &e), PKID_OK);
	return n;
}

static void
test_unknown_user_runs_the_kdf(void **state)
{
	char fresh[PKID_MAX_PASSWORD_HASH + 1], want[64];
	struct est_peer p;
	struct pkid_err e;
	unsigned long k0;

	(void)state;
	/* The dummy has the scheme and cost of a hash made today. */
	pkid_err_clear(&e);
	assert_int_equal(pkid_passwd_hash(GOOD, fresh, sizeof(fresh), &e),
	    PKID_OK);
	snprintf(want, sizeof(want), "$pbkdf2-sha256$%d$",
	    PKID_PASSWD_PBKDF2_ITER);
	assert_memory_equal(est->dummy, want, strlen(want));
	assert_memory_equal(fresh, want, strlen(want));
	assert_int_equal(strlen(est->dummy), strlen(fresh));

	k0 = atomic_load(&est->kdf_runs);
	assert_int_equal(login("alice", "wrong-password", "192.0.2.10", &p,
	    &e), PKID_E_AUTH_FAILED);
	assert_string_equal(e.detail, "user 'alice' is unknown or the "
	    "password is wrong");
	assert_int_equal(atomic_load(&est->kdf_runs), k0 + 1);
	assert_int_equal(login("mallory", "wrong-password", "192.0.2.10", &p,
	    &e), PKID_E_AUTH_FAILED);
	assert_string_equal(e.detail, "user 'mallory' is unknown or the "
	    "password is wrong");
	assert_int_equal(atomic_load(&est->kdf_runs), k0 + 2);
	/* The right password for an unknown name still fails. */
	assert_int_equal(login("mallory", GOOD, "192.0.2.10", &p, &e),
	    PKID_E_AUTH_FAILED);
	assert_int_equal(atomic_load(&est->kdf_runs), k0 + 3);
	assert_int_equal(login("alice", GOOD, "192.0.2.10", &p, &e), PKID_OK);
	assert_string_equal(p.who, "est:user:alice");
}

static void
test_lockout_before_kdf(void **state)
{
	struct est_peer p;
	struct pkid_err e;
	unsigned long k0;
	int64_t a0 = audited("auth-throttle", "locked");
	int i;

	(void)state;
	for (i = 0; i < PKID_EST_THROTTLE_USER_FREE; i++)
		assert_int_equal(login("bob", "guess", "192.0.2.20", &p, &e),
		    PKID_E_AUTH_FAILED);
	assert_int_equal(audited("auth-throttle", "locked"), a0 + 1);
	/* Locked out: even the right password, from anywhere, is refused
	 * without running the KDF. */
	k0 = atomic_load(&est->kdf_runs);
	for (i = 0; i < 50; i++) {
		assert_int_equal(login("bob", i == 0 ? GOOD : "guess",
		    i % 2 ? "192.0.2.20" : "198.51.100.20", &p, &e),
		    PKID_E_AUTH_THROTTLED);
		assert_int_equal(p.retry_s, PKID_EST_THROTTLE_BASE_S);
	}
	assert_int_equal(atomic_load(&est->kdf_runs), k0);
	assert_non_null(strstr(e.detail, "the password was not checked"));
	/* Once per lock-out, not once per refusal. */
	assert_int_equal(audited("auth-throttle", "locked"), a0 + 1);
	/* After it, one more failure doubles it (and is audited). */
	pkid_clock_set(T0 + PKID_EST_THROTTLE_BASE_S);
	assert_int_equal(login("bob", "guess", "192.0.2.20", &p, &e),
	    PKID_E_AUTH_FAILED);
	assert_int_equal(login("bob", GOOD, "192.0.2.20", &p, &e),
	    PKID_E_AUTH_THROTTLED);
	assert_int_equal(p.retry_s, 2 * PKID_EST_THROTTLE_BASE_S);
	assert_int_equal(audited("auth-throttle", "locked"), a0 + 2);
	/* Its end: the right password gets in and clears the count. */
	pkid_clock_set(T0 + 3 * PKID_EST_THROTTLE_BASE_S);
	assert_int_equal(login("bob", GOOD, "192.0.2.20", &p, &e), PKID_OK);
	for (i = 0; i < PKID_EST_THROTTLE_USER_FREE - 1; i++)
		assert_int_equal(login("bob", "guess", "192.0.2.21", &p, &e),
		    PKID_E_AUTH_FAILED);
	assert_int_equal(login("bob", GOOD, "192.0.2.21", &p, &e), PKID_OK);
	pkid_clock_set(T0);
}

static void
test_unknown_user_counted_alike(void **state)
{
	struct pkid_est_lock lk;

	(void)state;
	/* The failures of the first test: a name that does not exist is
	 * counted like one that does (2 for mallory; alice's success
	 * cleared hers), so lock-outs do not tell which names exist. */
	assert_int_equal(pkid_est_throttle_check(est->throttle, "mallory",
	    NULL, T0, &lk), 0);
	assert_int_equal(lk.user_fails, 2);
	assert_int_equal(pkid_est_throttle_check(est->throttle, NULL,
	    "192.0.2.10", T0, &lk), 0);
	assert_int_equal(lk.addr_fails, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_user_runs_the_kdf),
		cmocka_unit_test(test_unknown_user_counted_alike),
		cmocka_unit_test(test_lockout_before_kdf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
