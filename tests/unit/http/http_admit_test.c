/*
 * http_admit_test.c - the admission estimator of the handler pool
 * (src/http/admit.c) on a clock the test moves: the EWMA of service
 * time, the wait it predicts for a new job and the bound on it, the
 * completions per second over windows, and Retry-After from the drain
 * rate with its jitter and clamps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "core/limits.h"
#include "http/admit.h"

#define EPS 1e-9

/* Before any job finished nothing is known: everything is admitted (the
 * queue bound still holds), and Retry-After is the minimum. */
static void
test_no_sample(void **state)
{
	struct pkid_http_admit a;

	(void)state;
	pkid_http_admit_init(&a, 2, 1000);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 500, 2)) < EPS);
	assert_true(pkid_http_admit_ok(&a, 500, 2));
	assert_int_equal(pkid_http_admit_retry_s(&a, 500, 5000, 0), 1);
	assert_int_equal(pkid_http_admit_retry_s(&a, 500, 5000, 1), 2);
}

static void
test_service_ewma(void **state)
{
	struct pkid_http_admit a;
	int i;

	(void)state;
	pkid_http_admit_init(&a, 2, 1000);
	pkid_http_admit_done(&a, 10000, 100);	/* 10 ms: the first sample */
	assert_true(fabs(a.svc_ms - 10.0) < EPS);
	pkid_http_admit_done(&a, 20000, 110);	/* 10 + 10 / 8 */
	assert_true(fabs(a.svc_ms - 11.25) < EPS);
	for (i = 0; i < 200; i++)
		pkid_http_admit_done(&a, 20000, 120);
	assert_true(fabs(a.svc_ms - 20.0) < 0.01);
	/* One outlier moves it by an eighth only. */
	pkid_http_admit_done(&a, 1000000, 130);
	assert_true(a.svc_ms < 20.0 + 1000.0 / 8 + 0.01);
}

/* 2 threads, 10 ms per job: a free thread means no wait; then each slot
 * ahead costs 5 ms, so 199 queued behind 2 running is exactly 1 s. */
static void
test_wait_and_bound(void **state)
{
	struct pkid_http_admit a;

	(void)state;
	pkid_http_admit_init(&a, 2, 1000);
	pkid_http_admit_done(&a, 10000, 100);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 0, 0)) < EPS);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 0, 1)) < EPS);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 0, 2) - 5.0) < EPS);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 3, 2) - 20.0) < EPS);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 199, 2) - 1000.0) < EPS);
	assert_true(pkid_http_admit_ok(&a, 199, 2));
	assert_false(pkid_http_admit_ok(&a, 200, 2));
	/* Slower jobs lower the depth admitted: 100 ms each, 20 slots. */
	pkid_http_admit_init(&a, 2, 1000);
	pkid_http_admit_done(&a, 100000, 100);
	assert_true(pkid_http_admit_ok(&a, 19, 2));
	assert_false(pkid_http_admit_ok(&a, 20, 2));
	/* One job slower than the bound: refused even with nothing queued
	 * when the only thread is busy; admitted when it is free. */
	pkid_http_admit_init(&a, 1, 50);
	pkid_http_admit_done(&a, 200000, 100);
	assert_false(pkid_http_admit_ok(&a, 0, 1));
	assert_true(pkid_http_admit_ok(&a, 0, 0));
	/* No bound: always admitted. */
	pkid_http_admit_init(&a, 1, 0);
	pkid_http_admit_done(&a, 200000, 100);
	assert_true(pkid_http_admit_ok(&a, 10000, 1));
	pkid_http_admit_init(&a, 1, -1);
	pkid_http_admit_done(&a, 200000, 100);
	assert_true(pkid_http_admit_ok(&a, 10000, 1));
}

/* 100 completions in the first 250 ms window: 400/s. */
static void
fill_400(struct pkid_http_admit *a)
{
	int i;

	pkid_http_admit_init(a, 2, 1000);
	for (i = 0; i < 100; i++)
		pkid_http_admit_done(a, 5000, 1000 + (uint64_t)i * 2);
	assert_true(fabs(a->rate) < EPS);	/* no window closed yet */
	pkid_http_admit_done(a, 5000, 1250);
	assert_true(fabs(a->rate - 400.0) < EPS);
	assert_int_equal(a->win_done, 1);
}

static void
test_rate_windows(void **state)
{
	struct pkid_http_admit a;
	int i;

	(void)state;
	fill_400(&a);
	/* A window half as busy: the EWMA moves half way. */
	for (i = 0; i < 49; i++)
		pkid_http_admit_done(&a, 5000, 1300);
	assert_true(fabs(pkid_http_admit_rate(&a, 1500) - 300.0) < EPS);
	/* Reading inside a window changes nothing. */
	assert_true(fabs(pkid_http_admit_rate(&a, 1600) - 300.0) < EPS);
	/* A second with nothing done halves it again. */
	assert_true(fabs(pkid_http_admit_rate(&a, 2500) - 150.0) < EPS);
	/* A clock read before the window's start is ignored. */
	assert_true(fabs(pkid_http_admit_rate(&a, 100) - 150.0) < EPS);
}

static void
test_retry_after(void **state)
{
	struct pkid_http_admit a;
	uint32_t r;
	int v, lo = 1000, hi = 0;

	(void)state;
	fill_400(&a);
	/* 800 queued at 400/s drain in 2 s; jitter adds 0 or 1 s. */
	assert_int_equal(pkid_http_admit_retry_s(&a, 800, 1300, 0), 2);
	assert_int_equal(pkid_http_admit_retry_s(&a, 800, 1300, 1), 3);
	assert_int_equal(pkid_http_admit_retry_s(&a, 800, 1300, 2), 2);
	/* 4000 queued: 10 s, plus up to 5 s, every value reached. */
	for (r = 0; r < 64; r++) {
		v = pkid_http_admit_retry_s(&a, 4000, 1300, r * 2654435761u);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	assert_int_equal(lo, 10);
	assert_int_equal(hi, 15);
	/* Clamped: an empty queue still waits a second, a huge one at
	 * most PKID_HTTP_ADMIT_MAX_RETRY_S. */
	assert_int_equal(pkid_http_admit_retry_s(&a, 0, 1300, 0),
	    PKID_HTTP_ADMIT_MIN_RETRY_S);
	assert_int_equal(pkid_http_admit_retry_s(&a, 10000000, 1300, 7),
	    PKID_HTTP_ADMIT_MAX_RETRY_S);
	/* No rate measured yet: the threads' capacity (2 / 10 ms = 200/s),
	 * so 400 queued drain in 2 s. */
	pkid_http_admit_init(&a, 2, 1000);
	pkid_http_admit_done(&a, 10000, 1000);
	assert_int_equal(pkid_http_admit_retry_s(&a, 400, 1100, 0), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_sample),
		cmocka_unit_test(test_service_ewma),
		cmocka_unit_test(test_wait_and_bound),
		cmocka_unit_test(test_rate_windows),
		cmocka_unit_test(test_retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
