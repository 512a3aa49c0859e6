/*
 * schedule.h - when the agent renews, retries and wakes up: pure
 * functions of the certificate's validity, the failures in a row and the
 * time, so they are tested with a fixed clock (tests/unit/agent/).
 *
 * Renewal point: notBefore + renew_at % of the lifetime (certmonger and
 * IOS renew at 70-80 %), plus a jitter drawn once per certificate, up to
 * jitter % of the window left between that point and notAfter (default
 * 10 %), so a fleet enrolled on one day does not renew in one minute.
 * The draw is a hash of the identity's name and the certificate (its
 * serial is random, RFC 5280 4.1.2.2 and CA/B BR 7.1), so a restart draws
 * the same jitter and a new certificate a new one.
 *
 * Back-off after a failure: exponential from PKID_AGENT_BACKOFF_MIN_S to
 * PKID_AGENT_BACKOFF_MAX_S with "equal jitter" (half fixed, half random),
 * at least the server's Retry-After (RFC 9110 10.2.3), and no longer than
 * half the time left before notAfter while that is more than the first
 * step, so an identity keeps trying while it can.
 */
#ifndef PKID_AGENT_SCHEDULE_H
#define PKID_AGENT_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

/* When a certificate is renewed, and why. */
struct pkid_agent_plan {
	int64_t base;		/* notBefore + renew_pct % of lifetime */
	int64_t jitter_max;	/* the most jitter it could get */
	int64_t jitter;		/* the jitter drawn, 0 .. jitter_max */
	int64_t renew_at;	/* base + jitter: the renewal point */
};

/*
 * The renewal point of a certificate valid nb..na renewed at renew_pct
 * (1-99) of its lifetime. Jitter: jitter_pct (0-100) % of na - base, or,
 * when jitter_pct < 0, jitter_s seconds (at most na - base); the amount
 * is draw modulo (jitter_max + 1). A certificate with na <= nb has its
 * renewal point at nb.
 */
void pkid_agent_plan(int64_t nb, int64_t na, int renew_pct, int jitter_pct,
    int64_t jitter_s, uint64_t draw, struct pkid_agent_plan *out);

/*
 * A 64-bit draw from the identity's name and the certificate's DER:
 * the first 8 bytes of SHA-256(name NUL der), big-endian.
 */
uint64_t pkid_agent_draw(const char *name, const uint8_t *der, size_t len);

/*
 * Seconds to wait after the failures-th failure in a row (>= 1) at now,
 * for a certificate ending at not_after; retry_after is the server's
 * Retry-After in seconds (< 0: none; capped at
 * PKID_AGENT_MAX_RETRY_AFTER_S); rnd is a random draw for the jitter.
 */
int64_t pkid_agent_backoff(int failures, int64_t retry_after, uint32_t rnd,
    int64_t now, int64_t not_after);

/*
 * 1 when an identity whose next try is at next_try cannot be renewed
 * before not_after: the certificate has expired at now, or the next try
 * comes at or after its end.
 */
int pkid_agent_overdue(int64_t now, int64_t next_try, int64_t not_after);

/*
 * How long the long-running mode sleeps at now before wake (0: nothing
 * scheduled): wake - now within [PKID_AGENT_MIN_SLEEP_S, max_sleep].
 */
int64_t pkid_agent_sleep_s(int64_t now, int64_t wake, int64_t max_sleep);

/* "3.2 d", "5.0 h", "12 min", "45 s": a duration for a log line. */
const char *pkid_agent_dur_text(int64_t secs, char *out, size_t len);

#endif
