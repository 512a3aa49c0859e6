/*
 * clock.c - now, time and duration parsing.
 */
#include "core/clock.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Process-wide override set by --at; the clock abstraction's own state. */
static _Atomic long long clock_fixed;

#ifdef PKID_TEST_HOOKS
/* The time written in path (PKID_NOW_FILE), read at every call, so a
 * test can move a running server's clock; 0 when unreadable. */
static int
test_clock_file(const char *path, time_t *t)
{
	char buf[64];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return pkid_time_parse(buf, t, NULL) == PKID_OK;
}
#endif

time_t
pkid_now(void)
{
	long long f = atomic_load(&clock_fixed);

	if (f != 0)
		return (time_t)f;
#ifdef PKID_TEST_HOOKS
	{
		const char *env = getenv("PKID_NOW");
		time_t t;

		if (env != NULL && pkid_time_parse(env, &t, NULL) == PKID_OK)
			return t;
		if ((env = getenv("PKID_NOW_FILE")) != NULL &&
		    test_clock_file(env, &t))
			return t;
	}
#endif
	return time(NULL);
}

void
pkid_clock_set(time_t t)
{
	atomic_store(&clock_fixed, (long long)t);
}

uint64_t
pkid_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t
pkid_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Days in month mo (1-12) of year y, Gregorian. */
static int
days_in_month(int y, int mo)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dim[mo - 1];
}

/* n decimal digits at *p into *v; advances *p. 0 when not digits. */
static int
digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return 0;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 1;
}

/* time-offset of RFC 3339 5.6 at p, in seconds east of UTC; -1 bad. */
static long
offset_secs(const char *p)
{
	int h, m, sign;

	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0')
		return 0;
	if (p[0] != '+' && p[0] != '-')
		return -1;
	sign = p[0] == '-' ? -1 : 1;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &m) ||
	    *p != '\0' || h > 23 || m > 59)
		return -1;
	return sign * (h * 3600L + m * 60L);
}

/*
 * RFC 3339 5.6 date-time or full-date: "T" or "t", optional fraction
 * (floored: a certificate's time has whole seconds), "Z" or an offset.
 * utc_only refuses offsets other than +00:00 / -00:00.
 */
static enum pkid_code
time_parse(const char *s, int utc_only, time_t *out, struct pkid_err *e)
{
	struct tm tm;
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, f;
	long off = 0;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
	    *p++ != '-' || !digits(&p, 2, &d))
		goto bad;
	if (*p != '\0') {
		if ((*p != 'T' && *p != 't') || (p++, !digits(&p, 2, &h)) ||
		    *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
		    !digits(&p, 2, &sec))
			goto bad;
		if (*p == '.') {
			p++;
			if (!digits(&p, 1, &f))
				goto bad;
			while (digits(&p, 1, &f))
				;
		}
		if ((off = offset_secs(p)) == -1)
			goto bad;
		if (utc_only && off != 0)
			return PKID_ERR(e, PKID_E_BAD_TIME, "'%s' is not in UTC "
			    "(end it with Z)", s);
	}
	if (y < 1950 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60)
		return PKID_ERR(e, PKID_E_BAD_TIME, "'%s' is out of range", s);
	/* timegm() would quietly turn 2030-02-30 into March 2. */
	if (d > days_in_month(y, mo))
		return PKID_ERR(e, PKID_E_BAD_TIME,
		    "'%s' is not a calendar date", s);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm) - (time_t)off;
	return PKID_OK;
bad:
	return PKID_ERR(e, PKID_E_BAD_TIME, "'%s' is not an RFC 3339 %stime",
	    s, utc_only ? "UTC " : "");
}

enum pkid_code
pkid_time_parse(const char *s, time_t *out, struct pkid_err *e)
{
	return time_parse(s, 1, out, e);
}

enum pkid_code
pkid_time_parse_rfc3339(const char *s, time_t *out, struct pkid_err *e)
{
	return time_parse(s, 0, out, e);
}

const char *
pkid_time_fmt(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "@%lld", (long long)t);
	return out;
}

enum pkid_code
pkid_parse_int(const char *s, int64_t min, int64_t max, int64_t *out,
    struct pkid_err *e)
{
	char *end = NULL;
	long long v;

	if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
		    "'%s' is not a number", s != NULL ? s : "");
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
		    "'%s' is not a number", s);
	if (v < min || v > max)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
		    "%lld is out of range [%lld, %lld]", v, (long long)min,
		    (long long)max);
	*out = v;
	return PKID_OK;
}

enum pkid_code
pkid_duration_parse(const char *s, int64_t *out, struct pkid_err *e)
{
	char num[32];
	size_t len = strlen(s);
	int64_t v, mult;

	if (len < 2 || len >= sizeof(num))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
		    "'%s' is not a duration (write 600d, 12h, 30m or 45s)", s);
	switch (s[len - 1]) {
	case 'd': mult = 86400; break;
	case 'h': mult = 3600; break;
	case 'm': mult = 60; break;
	case 's': mult = 1; break;
	default:
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
		    "'%s' is not a duration (write 600d, 12h, 30m or 45s)", s);
	}
	memcpy(num, s, len - 1);
	num[len - 1] = '\0';
	if (pkid_parse_int(num, 0, INT64_C(36500) * 86400 / mult, &v, NULL) !=
	    PKID_OK)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
		    "'%s' is not a duration of at most 100 years "
		    "(write 600d, 12h, 30m or 45s)", s);
	*out = v * mult;
	return PKID_OK;
}

const char *
pkid_duration_fmt(int64_t secs, char *out, size_t len)
{
	int64_t a = secs < 0 ? -secs : secs;

	if (a >= 2 * 86400)
		snprintf(out, len, "%lld days", (long long)(a / 86400));
	else if (a >= 2 * 3600)
		snprintf(out, len, "%lld hours", (long long)(a / 3600));
	else if (a >= 120)
		snprintf(out, len, "%lld minutes", (long long)(a / 60));
	else
		snprintf(out, len, "%lld seconds", (long long)a);
	return out;
}
