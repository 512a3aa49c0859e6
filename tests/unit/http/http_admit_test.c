/*
 * http_admit_test.c - the admission estimator of the handler pool
 * (src/http/admit.c) on a clock the test moves: the EWMA of service
 * time, the wait it predicts for a new job and the bound on it (with
 * the stall and queue-head checks), the
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

/* Before any job finished nothing is known: one job may wait per
 * thread, and Retry-After is the minimum. */
static void
test_no_sample(void **state)
{
	struct pkid_http_admit a;

	(void)state;
	pkid_http_admit_init(&a, 2, 1000);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 500, 2, 100)) < EPS);
	assert_true(pkid_http_admit_ok(&a, 0, 2, 0, 100));
	assert_true(pkid_http_admit_ok(&a, 1, 2, 0, 100));
	assert_false(pkid_http_admit_ok(&a, 2, 2, 0, 100));
	assert_false(pkid_http_admit_ok(&a, 500, 2, 0, 100));
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
	pkid_http_admit_done(&a, 20000, 110);	/* 10 + 10 / 4 */
	assert_true(fabs(a.svc_ms - 12.5) < EPS);
	for (i = 0; i < 200; i++)
		pkid_http_admit_done(&a, 20000, 120);
	assert_true(fabs(a.svc_ms - 20.0) < 0.01);
	assert_true(a.dev_ms < 0.01);
	/* One outlier moves it by a quarter only. */
	pkid_http_admit_done(&a, 1000000, 130);
	assert_true(a.svc_ms < 20.0 + 1000.0 / 4 + 0.01);
}

/* Varying service times widen the estimate: jobs of 10 and 30 ms in
 * turn average 20 ms with a mean deviation of about 10 ms, so 9 jobs
 * ahead on one thread are 10 x 20 ms plus 2 x sqrt(10) x 10 ms. */
static void
test_spread(void **state)
{
	struct pkid_http_admit a;
	double w, want;
	int i;

	(void)state;
	pkid_http_admit_init(&a, 1, 1000);
	for (i = 0; i < 400; i++)
		pkid_http_admit_done(&a, i % 2 ? 30000 : 10000, 100);
	assert_true(fabs(a.svc_ms - 20.0) < 2.5);
	assert_true(fabs(a.dev_ms - 10.0) < 2.5);
	w = pkid_http_admit_wait_ms(&a, 9, 1, 100);
	want = 10 * a.svc_ms + 2.0 * sqrt(10.0) * a.dev_ms;
	assert_true(fabs(w - want) < EPS);
	assert_true(w > 240 && w < 300);
	/* Hence fewer admitted than the mean alone allows (49). */
	assert_false(pkid_http_admit_ok(&a, 45, 1, 0, 100));
	assert_true(pkid_http_admit_ok(&a, 35, 1, 0, 100));
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
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 0, 0, 100)) < EPS);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 0, 1, 100)) < EPS);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 0, 2, 100) - 5.0) < EPS);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 3, 2, 100) - 20.0) < EPS);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 199, 2, 100) - 1000.0) <
	    EPS);
	assert_true(pkid_http_admit_ok(&a, 199, 2, 0, 100));
	assert_false(pkid_http_admit_ok(&a, 200, 2, 0, 100));
	/* Slower jobs lower the depth admitted: 100 ms each, 20 slots. */
	pkid_http_admit_init(&a, 2, 1000);
	pkid_http_admit_done(&a, 100000, 100);
	assert_true(pkid_http_admit_ok(&a, 19, 2, 0, 100));
	assert_false(pkid_http_admit_ok(&a, 20, 2, 0, 100));
	/* One job slower than the bound: refused even with nothing queued
	 * when the only thread is busy; admitted when it is free. */
	pkid_http_admit_init(&a, 1, 50);
	pkid_http_admit_done(&a, 200000, 100);
	assert_false(pkid_http_admit_ok(&a, 0, 1, 0, 100));
	assert_true(pkid_http_admit_ok(&a, 0, 0, 0, 100));
	/* No bound: always admitted. */
	pkid_http_admit_init(&a, 1, 0);
	pkid_http_admit_done(&a, 200000, 100);
	assert_true(pkid_http_admit_ok(&a, 10000, 1, 0, 100));
	pkid_http_admit_init(&a, 1, -1);
	pkid_http_admit_done(&a, 200000, 100);
	assert_true(pkid_http_admit_ok(&a, 10000, 1, 0, 100));
}

/*
 * Before any job finished, or while every thread has been stuck longer
 * than the EWMA says, the time since a job last started stands for the
 * service time; a queue head that waited past the bound refuses too.
 */
static void
test_stall_and_head(void **state)
{
	struct pkid_http_admit a;

	(void)state;
	/* Cold start: one thread took a job 300 ms ago, none finished. */
	pkid_http_admit_init(&a, 1, 1000);
	pkid_http_admit_started(&a, 1000);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 0, 1, 1300) - 300.0) <
	    EPS);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 2, 1, 1300) - 900.0) <
	    EPS);
	assert_true(pkid_http_admit_ok(&a, 0, 1, 0, 1300));
	assert_false(pkid_http_admit_ok(&a, 0, 1, 0, 2001));
	/* ... and one job waits per thread until one finished. */
	assert_false(pkid_http_admit_ok(&a, 1, 1, 0, 1300));
	/* A free thread: no wait whatever the clock says. */
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 0, 0, 9000)) < EPS);
	/* 10 ms jobs on 2 threads, both stuck for 2 s (a slow commit). */
	pkid_http_admit_init(&a, 2, 1000);
	pkid_http_admit_done(&a, 10000, 1000);
	pkid_http_admit_started(&a, 1000);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 0, 2, 1005) - 5.0) <
	    EPS);
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 0, 2, 3000) - 1000.0) <
	    EPS);
	assert_false(pkid_http_admit_ok(&a, 1, 2, 0, 3000));
	/* One of them free again: the stall no longer counts. */
	assert_true(fabs(pkid_http_admit_wait_ms(&a, 0, 1, 3000)) < EPS);
	/* The oldest queued job waited past the bound: refused, whatever
	 * the estimate. */
	assert_true(pkid_http_admit_ok(&a, 1, 2, 1000, 1005));
	assert_false(pkid_http_admit_ok(&a, 1, 2, 1001, 1005));
	/* No bound: neither check. */
	pkid_http_admit_init(&a, 2, -1);
	pkid_http_admit_started(&a, 1000);
	assert_true(pkid_http_admit_ok(&a, 100, 2, 5000, 60000));
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
		cmocka_unit_test(test_stall_and_head),
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_rate_windows),
		cmocka_unit_test(test_retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
