/*
 * est_throttle_test.c - the EST login throttle alone (est/throttle.h):
 * the lock-out schedule, per-user and per-address lock-outs, reset on
 * success, IPv6 /64 keys, forgetting, a flood of names that cannot push
 * a locked-out user out, and counts kept under concurrent failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "core/limits.h"
#include "est/throttle.h"

#define T0 ((time_t)1700000000)
#define UFREE PKID_EST_THROTTLE_USER_FREE
#define AFREE PKID_EST_THROTTLE_ADDR_FREE

static struct pkid_est_throttle *
new_throttle(void)
{
	struct pkid_err e;
	struct pkid_est_throttle *t;

	pkid_err_clear(&e);
	t = pkid_est_throttle_new(&e);
	assert_non_null(t);
	return t;
}

static void
test_schedule(void **state)
{
	uint32_t n;

	(void)state;
	for (n = 0; n < UFREE; n++)
		assert_int_equal(pkid_est_throttle_lock_s(n, UFREE), 0);
	assert_int_equal(pkid_est_throttle_lock_s(UFREE, UFREE),
	    PKID_EST_THROTTLE_BASE_S);
	assert_int_equal(pkid_est_throttle_lock_s(UFREE + 1, UFREE),
	    2 * PKID_EST_THROTTLE_BASE_S);
	assert_int_equal(pkid_est_throttle_lock_s(UFREE + 3, UFREE),
	    8 * PKID_EST_THROTTLE_BASE_S);
	assert_int_equal(pkid_est_throttle_lock_s(UFREE + 40, UFREE),
	    PKID_EST_THROTTLE_MAX_S);
	assert_int_equal(pkid_est_throttle_lock_s(UINT32_MAX, UFREE),
	    PKID_EST_THROTTLE_MAX_S);
	/* Doubling never exceeds the cap and never shrinks. */
	for (n = UFREE; n < UFREE + 64; n++) {
		assert_true(pkid_est_throttle_lock_s(n, UFREE) <=
		    PKID_EST_THROTTLE_MAX_S);
		assert_true(pkid_est_throttle_lock_s(n + 1, UFREE) >=
		    pkid_est_throttle_lock_s(n, UFREE));
	}
}

static void
test_user_lockout(void **state)
{
	struct pkid_est_throttle *t = new_throttle();
	struct pkid_est_lock lk;
	time_t now = T0;
	int i;

	(void)state;
	for (i = 1; i < UFREE; i++) {
		assert_int_equal(pkid_est_throttle_fail(t, "alice",
		    "192.0.2.1", now, &lk), 0);
		assert_int_equal(pkid_est_throttle_check(t, "alice",
		    "192.0.2.1", now, &lk), 0);
	}
	/* The FREE-th failure starts the first lock-out. */
	assert_int_equal(pkid_est_throttle_fail(t, "alice", "192.0.2.1", now,
	    &lk), 1);
	assert_true(lk.user_locked && !lk.addr_locked);
	assert_int_equal(lk.user_fails, UFREE);
	assert_int_equal(lk.retry_s, PKID_EST_THROTTLE_BASE_S);
	/* The user is locked out from any address; others are not. */
	assert_int_equal(pkid_est_throttle_check(t, "alice", "198.51.100.7",
	    now, &lk), 1);
	assert_true(lk.user_locked && !lk.addr_locked);
	assert_int_equal(pkid_est_throttle_check(t, "bob", "192.0.2.1", now,
	    &lk), 0);
	/* Over, then the next failure doubles it. */
	now += PKID_EST_THROTTLE_BASE_S;
	assert_int_equal(pkid_est_throttle_check(t, "alice", "192.0.2.1",
	    now, &lk), 0);
	assert_int_equal(pkid_est_throttle_fail(t, "alice", "192.0.2.1", now,
	    &lk), 1);
	assert_int_equal(lk.retry_s, 2 * PKID_EST_THROTTLE_BASE_S);
	assert_int_equal(pkid_est_throttle_check(t, "alice", NULL, now + 1,
	    &lk), 1);
	assert_int_equal(lk.retry_s, 2 * PKID_EST_THROTTLE_BASE_S - 1);
	pkid_est_throttle_free(t);
}

static void
test_success_resets_user(void **state)
{
	struct pkid_est_throttle *t = new_throttle();
	struct pkid_est_lock lk;
	int i, round;

	(void)state;
	for (round = 0; round < 3; round++) {
		for (i = 1; i < UFREE; i++)
			assert_int_equal(pkid_est_throttle_fail(t, "carol",
			    "2001:db8:1::1", T0, &lk), 0);
		pkid_est_throttle_ok(t, "carol");
		assert_int_equal(pkid_est_throttle_check(t, "carol", NULL, T0,
		    &lk), 0);
		assert_int_equal(lk.user_fails, 0);
	}
	/* The address still remembers (3 rounds of FREE - 1). */
	assert_int_equal(pkid_est_throttle_check(t, NULL, "2001:db8:1::1", T0,
	    &lk), 0);
	assert_int_equal(lk.addr_fails, 3 * (UFREE - 1));
	pkid_est_throttle_free(t);
}

static void
test_address_lockout(void **state)
{
	struct pkid_est_throttle *t = new_throttle();
	struct pkid_est_lock lk;
	char user[32];
	int i, started = 0;

	(void)state;
	/* A spray: one failure each for many users from one address. */
	for (i = 1; i <= AFREE; i++) {
		snprintf(user, sizeof(user), "user%d", i);
		started = pkid_est_throttle_fail(t, user, "203.0.113.9", T0,
		    &lk);
		assert_int_equal(started, i == AFREE);
	}
	assert_true(lk.addr_locked && !lk.user_locked);
	assert_int_equal(pkid_est_throttle_check(t, "newcomer",
	    "203.0.113.9", T0, &lk), 1);
	assert_true(lk.addr_locked && !lk.user_locked);
	/* The same users from elsewhere are not locked out. */
	assert_int_equal(pkid_est_throttle_check(t, "user1", "203.0.113.10",
	    T0, &lk), 0);
	pkid_est_throttle_free(t);
}

static void
test_address_spared_by_one_bad_user(void **state)
{
	struct pkid_est_throttle *t = new_throttle();
	struct pkid_est_lock lk;
	time_t now = T0;
	int i;

	(void)state;
	/* One device retries a wrong password for hours behind a NAT: its
	 * user is locked out, its neighbours are not. */
	for (i = 0; i < 3 * AFREE; i++) {
		pkid_est_throttle_fail(t, "device7", "192.0.2.77", now, &lk);
		now += lk.retry_s > 0 ? lk.retry_s : 1;
	}
	assert_int_equal(pkid_est_throttle_check(t, "device8", "192.0.2.77",
	    now, &lk), 0);
	assert_int_equal(lk.addr_fails, UFREE);
	pkid_est_throttle_free(t);
}

static void
test_ipv6_prefix(void **state)
{
	struct pkid_est_throttle *t = new_throttle();
	struct pkid_est_lock lk;
	char user[32], addr[64];
	int i;

	(void)state;
	/* Every host of one /64 is one address. */
	for (i = 1; i <= AFREE; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		snprintf(addr, sizeof(addr), "2001:db8:0:1::%x", i);
		pkid_est_throttle_fail(t, user, addr, T0, &lk);
	}
	assert_int_equal(pkid_est_throttle_check(t, "x",
	    "2001:db8:0:1:ffff:ffff:ffff:ffff", T0, &lk), 1);
	assert_int_equal(pkid_est_throttle_check(t, "x", "2001:db8:0:2::1",
	    T0, &lk), 0);
	/* An IPv4-mapped address is one IPv4 host, not a /64. */
	assert_int_equal(pkid_est_throttle_check(t, "x", "::ffff:192.0.2.1",
	    T0, &lk), 0);
	pkid_est_throttle_free(t);
}

static void
test_forget(void **state)
{
	struct pkid_est_throttle *t = new_throttle();
	struct pkid_est_lock lk;
	time_t now = T0;
	int i;

	(void)state;
	for (i = 0; i < UFREE + 3; i++) {
		pkid_est_throttle_fail(t, "dave", "192.0.2.4", now, &lk);
		now += lk.retry_s;
	}
	assert_int_equal(lk.user_fails, UFREE + 3);
	/* Quiet for FORGET seconds: the next failure is the first again. */
	now += PKID_EST_THROTTLE_FORGET_S;
	assert_int_equal(pkid_est_throttle_fail(t, "dave", "192.0.2.4", now,
	    &lk), 0);
	assert_int_equal(lk.user_fails, 1);
	pkid_est_throttle_free(t);
}

static void
test_flood_keeps_lockout(void **state)
{
	struct pkid_est_throttle *t = new_throttle();
	struct pkid_est_lock lk;
	char user[32], addr[32];
	int i;

	(void)state;
	for (i = 0; i < UFREE + 6; i++)
		pkid_est_throttle_fail(t, "victim", "192.0.2.5", T0, &lk);
	assert_int_equal(lk.retry_s, pkid_est_throttle_lock_s(UFREE + 6,
	    UFREE));
	/* Far more names and addresses than slots: memory stays fixed,
	 * and the lock-out stays. */
	for (i = 0; i < 8 * PKID_EST_THROTTLE_SLOTS; i++) {
		snprintf(user, sizeof(user), "spoof%d", i);
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		pkid_est_throttle_fail(t, user, addr, T0, &lk);
	}
	assert_int_equal(pkid_est_throttle_check(t, "victim", NULL, T0, &lk),
	    1);
	assert_true(lk.user_locked);
	pkid_est_throttle_free(t);
}

#define NTHREADS 8
#define PER_THREAD 2000

static void *
hammer(void *arg)
{
	struct pkid_est_throttle *t = arg;
	struct pkid_est_lock lk;
	int i;

	for (i = 0; i < PER_THREAD; i++)
		pkid_est_throttle_fail(t, "shared", NULL, T0, &lk);
	return NULL;
}

static void
test_threads(void **state)
{
	struct pkid_est_throttle *t = new_throttle();
	struct pkid_est_lock lk;
	pthread_t th[NTHREADS];
	int i;

	(void)state;
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, t), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	/* Every failure of every thread was counted. */
	assert_int_equal(pkid_est_throttle_check(t, "shared", NULL, T0, &lk),
	    1);
	assert_int_equal(lk.user_fails, NTHREADS * PER_THREAD);
	assert_int_equal(lk.retry_s, PKID_EST_THROTTLE_MAX_S);
	pkid_est_throttle_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_user_lockout),
		cmocka_unit_test(test_success_resets_user),
		cmocka_unit_test(test_address_lockout),
		cmocka_unit_test(test_address_spared_by_one_bad_user),
		cmocka_unit_test(test_ipv6_prefix),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_flood_keeps_lockout),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
