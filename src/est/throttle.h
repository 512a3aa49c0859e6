/*
 * throttle.h - failed EST HTTP Basic logins, counted per user name and
 * per client address, so a password guesser is refused before the KDF
 * runs (limits.h: PKID_EST_THROTTLE_*).
 *
 * Two fixed-size tables under one mutex, shared by every worker thread.
 * Keys are kept as a keyed hash (HMAC-SHA256 under a random key made at
 * start, truncated to 128 bits): the tables hold no user names (a user
 * field may hold a mistyped password), and nobody outside can aim a name
 * at another's slots. A key hashes to PKID_EST_THROTTLE_PROBES slots;
 * when all are taken, the stalest one not locked out is reused (else the
 * one whose lock-out ends first), so spoofed names cannot grow memory or
 * push a locked-out user out of the table.
 */
#ifndef PKID_EST_THROTTLE_H
#define PKID_EST_THROTTLE_H

#include <stdint.h>
#include <time.h>

#include "core/err.h"

struct pkid_est_throttle;

/* What a check or a failure found. */
struct pkid_est_lock {
	int retry_s;		/* seconds the lock-out lasts, 0: none */
	int user_locked;	/* the user name is locked out */
	int addr_locked;	/* the client address is locked out */
	uint32_t user_fails;	/* the user's failures in a row */
	uint32_t addr_fails;	/* the address's failures in a row */
};

/* A new, empty throttle (caller frees). Errors: out-of-memory,
 * crypto-failed (no random key). */
struct pkid_est_throttle *pkid_est_throttle_new(struct pkid_err *e);
void pkid_est_throttle_free(struct pkid_est_throttle *t);

/*
 * 1 when user or addr (either may be NULL) is locked out at now, with
 * lk filled (retry_s: the later of the two ends); 0 when neither is.
 */
int pkid_est_throttle_check(struct pkid_est_throttle *t, const char *user,
    const char *addr, time_t now, struct pkid_est_lock *lk);

/*
 * Count one failed password of user from addr at now. The
 * PKID_EST_THROTTLE_*_FREE-th failure in a row and each one after it
 * start a lock-out of BASE_S, doubled per failure, at most MAX_S.
 * Returns 1 when this failure started a lock-out (the caller audits it,
 * once per lock-out), with lk filled; 0 otherwise (lk holds the counts).
 */
int pkid_est_throttle_fail(struct pkid_est_throttle *t, const char *user,
    const char *addr, time_t now, struct pkid_est_lock *lk);

/* A verified password: user's count starts again from zero (the
 * address's does not: one valid account must not launder guesses). */
void pkid_est_throttle_ok(struct pkid_est_throttle *t, const char *user);

/* Seconds the n-th failure in a row locks out for, with free failures
 * allowed (0: none yet). Exposed for the unit tests. */
int pkid_est_throttle_lock_s(uint32_t n, uint32_t free_fails);

#endif
