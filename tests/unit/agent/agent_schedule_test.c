/*
 * agent_schedule_test.c - when pkictl agent renews, retries and sleeps,
 * with a fixed clock: the renewal point, the jitter's bounds and its
 * stability, the back-off's growth and cap, Retry-After, overdue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/schedule.h"
#include "core/limits.h"

#define T0 ((int64_t)1893456000)	/* 2030-01-01T00:00:00Z */
#define DAY ((int64_t)86400)

static void
test_renew_point(void **state)
{
	struct pkid_agent_plan p;

	(void)state;
	/* 100 days at 70 %: day 70, and jitter up to 10 % of 30 days. */
	pkid_agent_plan(T0, T0 + 100 * DAY, 70, 10, 0, 0, &p);
	assert_int_equal(p.base, T0 + 70 * DAY);
	assert_int_equal(p.jitter_max, 3 * DAY);
	assert_int_equal(p.jitter, 0);
	assert_int_equal(p.renew_at, T0 + 70 * DAY);
	/* The largest draw lands on the bound, not past it. */
	pkid_agent_plan(T0, T0 + 100 * DAY, 70, 10, 0, 3 * DAY, &p);
	assert_int_equal(p.renew_at, T0 + 73 * DAY);
	pkid_agent_plan(T0, T0 + 100 * DAY, 70, 10, 0, 3 * DAY + 1, &p);
	assert_int_equal(p.renew_at, T0 + 70 * DAY);
	/* No jitter, another share, an odd lifetime. */
	pkid_agent_plan(T0, T0 + 100 * DAY, 80, 0, 0, 12345, &p);
	assert_int_equal(p.renew_at, T0 + 80 * DAY);
	pkid_agent_plan(T0, T0 + 999, 50, 0, 0, 0, &p);
	assert_int_equal(p.renew_at, T0 + 499);
	/* Jitter in seconds, at most the window after the base. */
	pkid_agent_plan(T0, T0 + 100 * DAY, 70, -1, 6 * 3600, UINT64_MAX, &p);
	assert_int_equal(p.jitter_max, 6 * 3600);
	assert_true(p.jitter >= 0 && p.jitter <= 6 * 3600);
	pkid_agent_plan(T0, T0 + 10 * DAY, 90, -1, 30 * DAY, 5 * DAY, &p);
	assert_int_equal(p.jitter_max, DAY);
	/* A certificate with no life renews at once. */
	pkid_agent_plan(T0, T0, 70, 10, 0, 99, &p);
	assert_int_equal(p.renew_at, T0);
}

static void
test_jitter_bounds_and_spread(void **state)
{
	struct pkid_agent_plan p;
	uint8_t der[32];
	int64_t lo = INT64_MAX, hi = 0;
	int i;

	(void)state;
	/* 1000 certificates enrolled in the same second: every renewal
	 * point inside [base, base + 10 % of the window], and spread over
	 * most of it, not bunched in one minute. */
	for (i = 0; i < 1000; i++) {
		memset(der, 0, sizeof(der));
		memcpy(der, &i, sizeof(i));
		pkid_agent_plan(T0, T0 + 365 * DAY, 70, 10, 0,
		    pkid_agent_draw("dev", der, sizeof(der)), &p);
		assert_true(p.renew_at >= p.base);
		assert_true(p.renew_at <= p.base + p.jitter_max);
		lo = p.jitter < lo ? p.jitter : lo;
		hi = p.jitter > hi ? p.jitter : hi;
	}
	assert_int_equal(p.jitter_max, (365 * DAY - p.base + T0) / 10);
	assert_true(lo < p.jitter_max / 20);
	assert_true(hi > p.jitter_max - p.jitter_max / 20);
}

static void
test_jitter_stable(void **state)
{
	const uint8_t a[] = "certificate A", b[] = "certificate B";
	uint64_t d1, d2;

	(void)state;
	/* A restart draws the same jitter; another certificate or another
	 * identity a different one. */
	d1 = pkid_agent_draw("web", a, sizeof(a));
	d2 = pkid_agent_draw("web", a, sizeof(a));
	assert_true(d1 == d2);
	assert_true(d1 != pkid_agent_draw("web", b, sizeof(b)));
	assert_true(d1 != pkid_agent_draw("vpn", a, sizeof(a)));
	assert_true(d1 != 0);
}

static void
test_backoff_growth_and_cap(void **state)
{
	int64_t far = T0 + 365 * DAY, prev = 0, lo, hi;
	int f;

	(void)state;
	/* rnd 0 gives the lower edge (half the step), UINT32_MAX somewhere
	 * in [half, step]; the step doubles from 60 s to the 6 h cap. */
	assert_int_equal(pkid_agent_backoff(1, -1, 0, T0, far), 30);
	assert_int_equal(pkid_agent_backoff(2, -1, 0, T0, far), 60);
	assert_int_equal(pkid_agent_backoff(3, -1, 0, T0, far), 120);
	assert_int_equal(pkid_agent_backoff(1, -1, 30, T0, far), 60);
	for (f = 1; f <= 40; f++) {
		lo = pkid_agent_backoff(f, -1, 0, T0, far);
		hi = pkid_agent_backoff(f, -1, UINT32_MAX, T0, far);
		assert_true(lo >= prev);
		assert_true(hi >= lo && hi <= 2 * lo);
		assert_true(hi <= PKID_AGENT_BACKOFF_MAX_S);
		prev = lo;
	}
	assert_int_equal(prev, PKID_AGENT_BACKOFF_MAX_S / 2);
	assert_int_equal(pkid_agent_backoff(PKID_AGENT_MAX_FAILURES, -1, 0, T0,
	    far), PKID_AGENT_BACKOFF_MAX_S / 2);
}

static void
test_backoff_retry_after(void **state)
{
	int64_t far = T0 + 365 * DAY;

	(void)state;
	/* The server's Retry-After is the least wait... */
	assert_int_equal(pkid_agent_backoff(1, 120, 0, T0, far), 120);
	assert_int_equal(pkid_agent_backoff(1, 0, 0, T0, far), 30);
	/* ...but our own back-off still grows past it... */
	assert_int_equal(pkid_agent_backoff(5, 120, 0, T0, far), 480);
	/* ...and a year-long one counts as a day. */
	assert_int_equal(pkid_agent_backoff(1, 365 * DAY, 0, T0, far),
	    PKID_AGENT_MAX_RETRY_AFTER_S);
}

static void
test_backoff_near_expiry(void **state)
{
	(void)state;
	/* Half of the 1000 s left, not the 6 h the failures earned. */
	assert_int_equal(pkid_agent_backoff(30, -1, 0, T0, T0 + 1000), 500);
	/* Never less than the first step. */
	assert_int_equal(pkid_agent_backoff(30, -1, 0, T0, T0 + 50), 60);
	/* Expired: the plain back-off. */
	assert_int_equal(pkid_agent_backoff(3, -1, 0, T0, T0 - 10), 120);
	/* A Retry-After past the end is still honoured (and overdue). */
	assert_int_equal(pkid_agent_backoff(1, 3600, 0, T0, T0 + 1000),
	    3600);
}

static void
test_overdue(void **state)
{
	(void)state;
	assert_false(pkid_agent_overdue(T0, T0 + 60, T0 + 3600));
	assert_true(pkid_agent_overdue(T0, T0 + 3600, T0 + 3600));
	assert_true(pkid_agent_overdue(T0, T0 + 7200, T0 + 3600));
	assert_true(pkid_agent_overdue(T0 + 3600, 0, T0 + 3600));
	assert_true(pkid_agent_overdue(T0 + 4000, T0 + 4060, T0 + 3600));
}

static void
test_sleep(void **state)
{
	(void)state;
	assert_int_equal(pkid_agent_sleep_s(T0, T0 + 90, 3600), 90);
	assert_int_equal(pkid_agent_sleep_s(T0, T0 + 9 * DAY, 3600), 3600);
	assert_int_equal(pkid_agent_sleep_s(T0, T0 - 50, 3600),
	    PKID_AGENT_MIN_SLEEP_S);
	assert_int_equal(pkid_agent_sleep_s(T0, 0, 600), 600);
}

static void
test_dur_text(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(pkid_agent_dur_text(3 * DAY + 5 * 3600, b,
	    sizeof(b)), "3.2 d");
	assert_string_equal(pkid_agent_dur_text(5 * 3600, b, sizeof(b)),
	    "5.0 h");
	assert_string_equal(pkid_agent_dur_text(720, b, sizeof(b)),
	    "12 min");
	assert_string_equal(pkid_agent_dur_text(45, b, sizeof(b)), "45 s");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_renew_point),
		cmocka_unit_test(test_jitter_bounds_and_spread),
		cmocka_unit_test(test_jitter_stable),
		cmocka_unit_test(test_backoff_growth_and_cap),
		cmocka_unit_test(test_backoff_retry_after),
		cmocka_unit_test(test_backoff_near_expiry),
		cmocka_unit_test(test_overdue),
		cmocka_unit_test(test_sleep),
		cmocka_unit_test(test_dur_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
