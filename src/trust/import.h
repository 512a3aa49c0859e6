/*
 * import.h - install a signed trust bundle into a trust store, once or on
 * a schedule: the library behind 'pkictl trust import', for any program
 * that keeps a device's trust store current (the renewal agent, pkictl
 * agent, calls pkid_trust_import_scheduled when status.json says the
 * next attempt is due).
 *
 * One import: read the bundle (a file, or an http(s) URL with redirects
 * followed), verify it against the pinned anchors (bundle.h), refuse it
 * when its serial is below the one installed from the same publisher
 * (the pinned anchor its signer chained to), or equal with other
 * contents (bundle-rollback), then judge every anchor: a certificate
 * already in the store is a duplicate, one past its notAfter is skipped
 * as expired, one that is not a CA fails. A bundle with a failed anchor
 * is refused as a whole; otherwise the new anchors and the serial are
 * committed atomically under the store's lock. A refused bundle leaves
 * the store as it was (status.json records the attempt).
 *
 * Blocking: the fetch takes at most timeout_s per hop; the store lock is
 * waited for at most lock_wait_ms. Thread-safe as long as each call has
 * its own result; concurrent calls on one store serialise on its lock.
 */
#ifndef PKID_TRUST_IMPORT_H
#define PKID_TRUST_IMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "core/err.h"
#include "trust/store.h"

/* What to import. Everything is borrowed for the call. */
struct pkid_trust_import_opts {
	const char *store;		/* the store's directory */
	const char *source;		/* a bundle file, or an http:// or
					 * https:// URL */
	STACK_OF(X509) *anchors;	/* the pinned bundle anchors */
	STACK_OF(X509) *tls_trust;	/* anchors of an https server;
					 * NULL: the pinned anchors and the
					 * store's anchors */
	int timeout_s;			/* per fetch, 0: default
					 * (PKID_TRUST_FETCH_TIMEOUT_S) */
	int lock_wait_ms;		/* 0: PKID_TRUST_LOCK_WAIT_MS */
	time_t now;			/* 0: pkid_now() */
};

/* What became of one anchor of the bundle. */
enum pkid_trust_verdict {
	PKID_TRUST_INSTALLED,	/* added to the store */
	PKID_TRUST_DUPLICATE,	/* already there (or twice in the bundle) */
	PKID_TRUST_EXPIRED,	/* past its notAfter: skipped */
	PKID_TRUST_FAILED,	/* refused (code, why): the bundle is */
	PKID_TRUST_NOT_INSTALLED, /* acceptable, but the bundle was refused */
};

/* One anchor's outcome. */
struct pkid_trust_outcome {
	enum pkid_trust_verdict verdict; /* what became of it */
	enum pkid_code code;	/* expired, bundle-not-ca; PKID_OK else */
	char sha256[65];	/* its fingerprint */
	char subject[256];	/* its subject */
	char why[256];		/* the reason, for EXPIRED and FAILED */
};

/* The statistics of one import. Clear with
 * pkid_trust_import_result_clear. */
struct pkid_trust_import_result {
	int fetched;		/* the bundle was read and verified */
	int64_t serial;		/* its bundleSerial, -1 before */
	int64_t previous;	/* serial installed before from the same
				 * publisher, -1 none */
	time_t signing_time;	/* its signingTime */
	char signer[256];	/* its signer's subject */
	char publisher[65];	/* SHA-256 of the pinned anchor it chained
				 * to */
	char location[PKID_TRUST_MAX_SOURCE + 1]; /* the file, or the URL
				 * that answered (after redirects) */
	int http_status;	/* the last HTTP status of a URL fetch */
	int unchanged;		/* same serial and contents as installed:
				 * nothing to do */
	int committed;		/* the store was changed */
	int attempted;		/* anchors in the bundle */
	int installed;		/* added */
	int duplicates;		/* already in the store */
	int expired;		/* skipped as expired */
	int failed;		/* refused */
	size_t n;		/* outcomes stored (one per anchor) */
	struct pkid_trust_outcome *certs; /* owned, n entries */
};

void pkid_trust_import_result_clear(struct pkid_trust_import_result *r);

/*
 * Import o->source into o->store. r (cleared first; the caller clears it
 * after) has the statistics whenever the bundle was read, also when it
 * was refused. Errors: the fetch's (io-*, too-large, dns-failure,
 * connect-refused, connect-timeout, tls-handshake and the TLS verifier's,
 * http-status, redirect-loop), the bundle's (bundle-malformed,
 * bundle-bad-signature, bundle-signer-untrusted, bundle-signer-eku,
 * expired), bundle-rollback, bundle-not-ca, the store's (store-busy,
 * store-io, io-write).
 */
enum pkid_code pkid_trust_import(const struct pkid_trust_import_opts *o,
    struct pkid_trust_import_result *r, struct pkid_err *e);

/*
 * 1 when an import that failed with code may succeed by itself later
 * (the network, DNS, a server error): retried with back-off rather than
 * at the next interval.
 */
int pkid_trust_failure_transient(enum pkid_code code, int http_status);
/*
 * Seconds until the next attempt: interval after a success or a lasting
 * failure; after the failures-th transient failure in a row,
 * PKID_TRUST_RETRY_BASE_S doubled per failure, at most
 * PKID_TRUST_RETRY_MAX_S and the interval. Then moved by up to
 * PKID_TRUST_JITTER_PCT either way, picked by rnd. At least 1.
 */
int64_t pkid_trust_next_delay(int64_t interval, int failures, int transient,
    uint32_t rnd);
/*
 * pkid_trust_import, then DIR/status.json: the attempt, its result and
 * code, the failures in a row, and (interval > 0) the next attempt,
 * now + pkid_trust_next_delay. *st (may be NULL) receives what was
 * written. Returns the import's code (e its error); a status that cannot
 * be written fails a successful import with io-write.
 */
enum pkid_code pkid_trust_import_scheduled(
    const struct pkid_trust_import_opts *o, int64_t interval,
    struct pkid_trust_import_result *r, struct pkid_trust_status *st,
    struct pkid_err *e);

/* "installed", "duplicate", "expired", "failed", "not-installed". */
const char *pkid_trust_verdict_name(enum pkid_trust_verdict v);

#endif
