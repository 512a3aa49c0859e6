/*
 * clock_test.c - now, RFC 3339 times, durations, bounded integers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/clock.h"

#define T2030 ((time_t)1893456000)

static void
time_ok(const char *s, time_t want)
{
	struct pkid_err e;
	time_t t = 0;

	pkid_err_clear(&e);
	if (pkid_time_parse(s, &t, &e) != PKID_OK)
		fail_msg("'%s' refused: %s", s, e.detail);
	assert_int_equal(t, want);
}

static void
time_bad(const char *s)
{
	struct pkid_err e;
	time_t t = 42;

	pkid_err_clear(&e);
	if (pkid_time_parse(s, &t, &e) != PKID_E_BAD_TIME)
		fail_msg("'%s' accepted as %lld", s, (long long)t);
	assert_int_equal(e.code, PKID_E_BAD_TIME);
	assert_int_equal(t, 42);
	assert_true(e.detail[0] != '\0');
}

static void
test_time_parse_good(void **state)
{
	(void)state;
	time_ok("2030-01-01T00:00:00Z", T2030);
	time_ok("2030-01-01", T2030);
	time_ok("2030-01-02T03:04:05Z", T2030 + 86400 + 3 * 3600 + 4 * 60 + 5);
	time_ok("1970-01-01T00:00:00Z", 0);
	time_ok("2028-02-29", (time_t)1835395200);
	time_ok("2000-02-29", (time_t)951782400);
	time_ok("9999-12-31T23:59:59Z", (time_t)253402300799);
	/* RFC 3339 5.6: fractions are floored, UTC offsets, lower case. */
	time_ok("2030-01-01T00:00:00.999Z", T2030);
	time_ok("2030-01-01T00:00:00.000000001Z", T2030);
	time_ok("2030-01-01T00:00:00+00:00", T2030);
	time_ok("2030-01-01T00:00:00.5-00:00", T2030);
	time_ok("2030-01-01t00:00:01z", T2030 + 1);
}

static void
rfc3339_ok(const char *s, time_t want)
{
	struct pkid_err e;
	time_t t = 0;

	pkid_err_clear(&e);
	if (pkid_time_parse_rfc3339(s, &t, &e) != PKID_OK)
		fail_msg("'%s' refused: %s", s, e.detail);
	assert_int_equal(t, want);
}

static void
test_time_parse_rfc3339(void **state)
{
	struct pkid_err e;
	time_t t = 42;

	(void)state;
	rfc3339_ok("2030-01-01T01:00:00+01:00", T2030);
	rfc3339_ok("2029-12-31T19:30:00.25-04:30", T2030);
	rfc3339_ok("2024-03-01T00:00:00.999+00:00", (time_t)1709251200);
	rfc3339_ok("2030-01-01", T2030);
	pkid_err_clear(&e);
	assert_int_equal(pkid_time_parse_rfc3339("2030-01-01T00:00:00+24:00",
	    &t, &e), PKID_E_BAD_TIME);
	assert_int_equal(pkid_time_parse_rfc3339("2030-01-01T00:00:00+0100",
	    &t, &e), PKID_E_BAD_TIME);
	assert_int_equal(t, 42);
}

static void
test_time_parse_bad(void **state)
{
	(void)state;
	time_bad("");
	time_bad("yesterday");
	time_bad("2030-01-01T00:00:00");
	time_bad("2030-01-01 00:00:00Z");
	time_bad("2030-01-01T00:00:00Zjunk");
	time_bad("2030-01-01T00:00:00+01:00");
	time_bad("2030-13-01");
	time_bad("2030-00-10");
	time_bad("2030-01-32");
	time_bad("2030-01-00");
	time_bad("2030-02-30");
	time_bad("2029-02-29");
	time_bad("2100-02-29");
	time_bad("2030-04-31");
	time_bad("2030-01-01T24:00:00Z");
	time_bad("2030-01-01T23:60:00Z");
	time_bad("1949-12-31");
	time_bad("2030/01/01");
	time_bad("2030-01-01T00:00:00.Z");
	time_bad("2030-01-01T00:00:00.5");
	time_bad("2030-01-01T00:00:00-01:00");
	time_bad("2030-1-01");
	time_bad("+2030-01-01");
}

static void
test_time_fmt(void **state)
{
	char buf[32];
	struct pkid_err e;
	time_t t;

	(void)state;
	assert_string_equal(pkid_time_fmt(T2030, buf, sizeof(buf)),
	    "2030-01-01T00:00:00Z");
	pkid_err_clear(&e);
	assert_int_equal(pkid_time_parse(pkid_time_fmt(T2030 + 12345, buf,
	    sizeof(buf)), &t, &e), PKID_OK);
	assert_int_equal(t, T2030 + 12345);
}

static void
dur_ok(const char *s, int64_t want)
{
	struct pkid_err e;
	int64_t v = -1;

	pkid_err_clear(&e);
	if (pkid_duration_parse(s, &v, &e) != PKID_OK)
		fail_msg("'%s' refused: %s", s, e.detail);
	assert_int_equal(v, want);
}

static void
dur_bad(const char *s)
{
	struct pkid_err e;
	int64_t v = -1;

	pkid_err_clear(&e);
	if (pkid_duration_parse(s, &v, &e) != PKID_E_CONFIG_BAD_VALUE)
		fail_msg("'%s' accepted as %lld", s, (long long)v);
	assert_int_equal(v, -1);
}

static void
test_durations(void **state)
{
	char buf[32];

	(void)state;
	dur_ok("600d", INT64_C(600) * 86400);
	dur_ok("12h", 12 * 3600);
	dur_ok("30m", 30 * 60);
	dur_ok("45s", 45);
	dur_ok("0s", 0);
	dur_ok("36500d", INT64_C(36500) * 86400);
	dur_bad("");
	dur_bad("d");
	dur_bad("10");
	dur_bad("10x");
	dur_bad("10D");
	dur_bad("-5d");
	dur_bad("+5d");
	dur_bad("1.5d");
	dur_bad(" 5d");
	dur_bad("36501d");
	dur_bad("99999999999999999999999s");
	dur_bad("12345678901234567890123456789012345d");

	assert_string_equal(pkid_duration_fmt(3 * 86400, buf, sizeof(buf)),
	    "3 days");
	assert_string_equal(pkid_duration_fmt(-3 * 86400, buf, sizeof(buf)),
	    "3 days");
	assert_string_equal(pkid_duration_fmt(86400, buf, sizeof(buf)),
	    "24 hours");
	assert_string_equal(pkid_duration_fmt(5 * 3600 + 59, buf,
	    sizeof(buf)), "5 hours");
	assert_string_equal(pkid_duration_fmt(12 * 60, buf, sizeof(buf)),
	    "12 minutes");
	assert_string_equal(pkid_duration_fmt(30, buf, sizeof(buf)),
	    "30 seconds");
}

static void
int_ok(const char *s, int64_t min, int64_t max, int64_t want)
{
	struct pkid_err e;
	int64_t v = 0;

	pkid_err_clear(&e);
	if (pkid_parse_int(s, min, max, &v, &e) != PKID_OK)
		fail_msg("'%s' refused: %s", s, e.detail);
	assert_int_equal(v, want);
}

static void
int_bad(const char *s, int64_t min, int64_t max)
{
	struct pkid_err e;
	int64_t v = 77;

	pkid_err_clear(&e);
	if (pkid_parse_int(s, min, max, &v, &e) != PKID_E_CONFIG_BAD_VALUE)
		fail_msg("'%s' accepted as %lld", s != NULL ? s : "(null)",
		    (long long)v);
	assert_int_equal(v, 77);
}

static void
test_parse_int(void **state)
{
	(void)state;
	int_ok("0", 0, 10, 0);
	int_ok("10", 0, 10, 10);
	int_ok("-5", -5, 5, -5);
	int_ok("9223372036854775807", 0, INT64_MAX, INT64_MAX);
	int_ok("-9223372036854775808", INT64_MIN, 0, INT64_MIN);
	int_bad("11", 0, 10);
	int_bad("-1", 0, 10);
	int_bad("-6", -5, 5);
	int_bad("9223372036854775808", 0, INT64_MAX);
	int_bad("", 0, 10);
	int_bad(NULL, 0, 10);
	int_bad("-", 0, 10);
	int_bad("1a", 0, 10);
	int_bad(" 1", 0, 10);
	int_bad("1 ", 0, 10);
	int_bad("+1", 0, 10);
	int_bad("0x10", 0, 100);
}

static void
test_now(void **state)
{
	time_t before, t;
	uint64_t m1, m2;

	(void)state;
	unsetenv("PKID_NOW");
	before = time(NULL);
	t = pkid_now();
	assert_true(t >= before && t <= time(NULL));
	pkid_clock_set(T2030);
	assert_int_equal(pkid_now(), T2030);
	pkid_clock_set(0);
	assert_true(pkid_now() >= before);
#ifdef PKID_TEST_HOOKS
	setenv("PKID_NOW", "2030-01-01T00:00:10Z", 1);
	assert_int_equal(pkid_now(), T2030 + 10);
	/* --at wins over the environment */
	pkid_clock_set(T2030 + 99);
	assert_int_equal(pkid_now(), T2030 + 99);
	pkid_clock_set(0);
	unsetenv("PKID_NOW");
#endif
	m1 = pkid_mono_ms();
	m2 = pkid_mono_ms();
	assert_true(m2 >= m1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_parse_good),
		cmocka_unit_test(test_time_parse_bad),
		cmocka_unit_test(test_time_parse_rfc3339),
		cmocka_unit_test(test_time_fmt),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
