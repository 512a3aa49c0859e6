/*
 * clock.h - the one source of "now", and time/duration text.
 *
 * Every use of the current time in pkid goes through pkid_now(). Tests set
 * it with PKID_NOW=2030-01-01T00:00:00Z, or PKID_NOW_FILE=PATH (a file
 * holding such a time, read at every call, so a test moves a running
 * server's clock), both honoured only in builds with PKID_TEST_HOOKS;
 * commands with an --at option call pkid_clock_set().
 */
#ifndef PKID_CORE_CLOCK_H
#define PKID_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"

/* Current time, seconds since the epoch (UTC). */
time_t pkid_now(void);
/* Fix "now" for this process (an --at option); 0 returns to the clock. */
void pkid_clock_set(time_t t);
/* Monotonic milliseconds, for deadlines and latency. */
uint64_t pkid_mono_ms(void);
/* The same in microseconds. */
uint64_t pkid_mono_us(void);

/*
 * Parse RFC 3339 UTC ("2030-01-01T00:00:00Z", "...00.999Z", "+00:00", or
 * a bare date); fractions of a second are floored. Other offsets are
 * refused: config and command lines state times in UTC.
 */
enum pkid_code pkid_time_parse(const char *s, time_t *out, struct pkid_err *e);
/* Any RFC 3339 5.6 date-time, offsets included ("...T01:00:00+01:00"). */
enum pkid_code pkid_time_parse_rfc3339(const char *s, time_t *out,
    struct pkid_err *e);
/* Format as RFC 3339 UTC into out (at least 21 bytes). */
const char *pkid_time_fmt(time_t t, char *out, size_t len);
/* Parse a duration: "600d", "12h", "30m", "45s"; result in seconds. */
enum pkid_code pkid_duration_parse(const char *s, int64_t *out,
    struct pkid_err *e);
/* "3 days", "5 hours", "12 minutes": the coarsest unit that fits. */
const char *pkid_duration_fmt(int64_t secs, char *out, size_t len);
/*
 * strtonum-style integer parse: decimal only, within [min, max],
 * PKID_E_CONFIG_BAD_VALUE on anything else.
 */
enum pkid_code pkid_parse_int(const char *s, int64_t min, int64_t max,
    int64_t *out, struct pkid_err *e);

#endif
