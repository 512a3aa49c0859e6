/*
 * store.h - the one interface the rest of pkid uses for durable state:
 * CA generations, certificates, revocations, requests/transactions, CRL
 * numbers and an append-only audit log.
 *
 * Writes return only once durable (SQLite WAL with synchronous=FULL).
 * Concurrent writers share one commit: a committer thread takes every
 * write queued meanwhile and commits them under one fsync (group commit),
 * each in its own savepoint so one refused write never undoes another.
 *
 * Two implementations behind these functions (store.c picks one by the
 * URL): SQLite (sqlite*.c) and PostgreSQL (pg*.c), where several pkid
 * nodes share one database; there each write is one transaction that
 * returns once committed, and the rules that must hold across nodes are
 * the database's (unique serials, one row lock per CRL number, one
 * UPDATE per one-time challenge). The SQL stays portable.
 */
#ifndef PKID_STORE_STORE_H
#define PKID_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct pkid_store;

/* Current schema version; migrations bring older files up at open. */
#define PKID_STORE_SCHEMA 8

/*
 * A CA certificate of one generation (root, issuing, RA or TLS, and the
 * link certificates of a root key update: "oldwithnew", "newwithold",
 * RFC 4210 4.4, filed under the new generation's number).
 */
struct pkid_ca_gen {
	int64_t id;		/* row id, set by the store */
	char ca_name[64];	/* CA name, e.g. "ca" */
	int generation;		/* 1, 2, ...: rollover counts up */
	char role[16];		/* "root", "issuing", "ra", "tls" */
	char state[16];		/* "current", "shadow", "retired" */
	char subject[512];	/* subject DN text */
	int64_t not_before;	/* validity start, epoch seconds */
	int64_t not_after;	/* validity end */
	const uint8_t *der;	/* certificate DER (borrowed / store-owned) */
	size_t der_len;		/* its length */
	char key_ref[256];	/* where the key is: a file path (or URI) */
	int64_t activate_at;	/* a shadow takes over from here, epoch
				 * seconds; 0 for a generation current at
				 * once */
};

/* An issued certificate. Strings are borrowed. */
struct pkid_cert_rec {
	const char *serial;	/* lower-case hex, unique */
	int64_t ca_gen;		/* issuing CA generation id */
	const char *subject;	/* subject DN text */
	const char *sans;	/* SANs as "DNS:a, IP:b" */
	const char *profile;	/* profile name */
	const char *requester;	/* who asked: "cli:root", "est:alice" ... */
	int64_t request_id;	/* request row, 0 when none */
	int64_t not_before;	/* epoch seconds */
	int64_t not_after;	/* epoch seconds */
	int64_t issued_at;	/* epoch seconds */
	const uint8_t *der;	/* certificate DER */
	size_t der_len;		/* its length */
	const char *fingerprint; /* SHA-256 hex */
	/* Filled by reads only: */
	int revoked;		/* 1 when revoked */
	int64_t revoked_at;	/* when, epoch seconds */
	int reason;		/* CRL reason code */
};

/* An entry of the CRL. */
struct pkid_revoked {
	const char *serial;	/* hex */
	int64_t revoked_at;	/* epoch seconds */
	int reason;		/* CRL reason code (RFC 5280 5.3.1) */
};

/*
 * Open (creating and migrating) the store at url: "sqlite:PATH" or a plain
 * path is SQLite; "postgresql://USER@HOST:PORT/DB" or a libpq connection
 * string ("host=... dbname=...") is PostgreSQL (src/store/pg*.c).
 */
enum pkid_code pkid_store_open(const char *url, struct pkid_store **out,
    struct pkid_err *e);
/* Whether url names a PostgreSQL database (else a SQLite file). */
int pkid_store_url_is_pg(const char *url);
/* Finish queued writes, stop the committer, close. NULL is a no-op. */
void pkid_store_close(struct pkid_store *s);

/* CA generations. */
enum pkid_code pkid_store_ca_gen_add(struct pkid_store *s,
    struct pkid_ca_gen *g, struct pkid_err *e);
typedef enum pkid_code (*pkid_ca_gen_fn)(const struct pkid_ca_gen *g,
    void *arg, struct pkid_err *e);
/*
 * Every generation of ca_name (all CAs when NULL), oldest first. fn runs
 * with the store's read lock held: it must not call the store.
 */
enum pkid_code pkid_store_ca_gen_list(struct pkid_store *s,
    const char *ca_name, pkid_ca_gen_fn fn, void *arg, struct pkid_err *e);
/* Move the activation of shadow row id to at (audited with actor);
 * not-found unless id is a shadow. */
enum pkid_code pkid_store_ca_gen_reschedule(struct pkid_store *s, int64_t id,
    int64_t at, const char *actor, struct pkid_err *e);
/*
 * Activation of a rollover, in one commit: every "current" row of
 * (ca_name, role) becomes "retired" and row id "current"; audited with
 * actor. not-found unless id is a "shadow" row of that CA and role.
 */
enum pkid_code pkid_store_ca_gen_activate(struct pkid_store *s,
    const char *ca_name, const char *role, int64_t id, const char *actor,
    struct pkid_err *e);

/*
 * Record an issued certificate and its audit entry in one durable commit.
 * store-constraint when the serial exists.
 */
enum pkid_code pkid_store_cert_add(struct pkid_store *s,
    const struct pkid_cert_rec *r, struct pkid_err *e);
struct pkid_request;
/*
 * The same, and the request row req (its cert_serial set to r's) in the
 * same commit: a transaction record never lacks its certificate, nor a
 * certificate its record. req NULL is pkid_store_cert_add.
 */
enum pkid_code pkid_store_cert_add_request(struct pkid_store *s,
    const struct pkid_cert_rec *r, const struct pkid_request *req,
    int64_t *req_id, struct pkid_err *e);
typedef enum pkid_code (*pkid_cert_fn)(const struct pkid_cert_rec *r,
    void *arg, struct pkid_err *e);
/* One certificate by serial (not-found when absent). */
enum pkid_code pkid_store_cert_get(struct pkid_store *s, const char *serial,
    pkid_cert_fn fn, void *arg, struct pkid_err *e);
/* What pkid_store_cert_find selects (all given must hold). */
struct pkid_cert_filter {
	int64_t expires_from;	/* with expires_to > 0: unrevoked, notAfter */
	int64_t expires_to;	/* in [from, to), soonest first */
	int revoked;		/* only revoked (on hold included) */
	const char *subject;	/* pattern on subject or SANs, '*' any run,
				 * case-insensitive for ASCII; no '*': the
				 * pattern anywhere; NULL: any */
	int64_t limit;		/* at most this many; 0: all */
};
/* The certificates f selects, issuance order (or notAfter order). */
enum pkid_code pkid_store_cert_find(struct pkid_store *s,
    const struct pkid_cert_filter *f, pkid_cert_fn fn, void *arg,
    struct pkid_err *e);
/* All certificates, oldest first. */
enum pkid_code pkid_store_cert_list(struct pkid_store *s, pkid_cert_fn fn,
    void *arg, struct pkid_err *e);
/* Number of certificates issued. */
enum pkid_code pkid_store_cert_count(struct pkid_store *s, int64_t *n,
    struct pkid_err *e);

/*
 * An enrollment request kept across retries, restarts and nodes: EST
 * requests that wait for approval, SCEP transactions (transactionID).
 */
struct pkid_request {
	int64_t id;		/* row id, set by the store */
	const char *kind;	/* "est", "scep" */
	const char *transaction_id; /* unique per kind: SCEP transactionID,
				 * EST: hex SHA-256 of the CSR */
	const char *state;	/* "pending", "issued", "rejected", "failed" */
	const char *profile;	/* profile to issue under */
	const char *requester;	/* who asked */
	const uint8_t *csr_der;	/* the request (PKCS#10 DER) */
	size_t csr_len;		/* its length */
	const char *csr_digest;	/* hex SHA-256 of csr_der */
	const char *cert_serial; /* issued certificate, NULL until issued */
	int64_t created_at;	/* epoch seconds */
	int64_t updated_at;	/* epoch seconds */
	const char *detail;	/* reason of a rejection or failure */
	const uint8_t *cert_der; /* certificate an upstream CA issued (RA
				 * mode), NULL when issued here or none */
	size_t cert_len;	/* its length */
	const char *challenge_hash; /* writes only: a one-time SCEP
				 * challenge (hex SHA-256) to mark used in
				 * the commit that adds this row, NULL: none.
				 * Not stored in the row. */
};

/*
 * Add a request; store-constraint when (kind, transaction_id) exists,
 * challenge-bad when r->challenge_hash is set and that challenge is no
 * longer unused and unexpired (the row is then not added). The same holds
 * for the request of pkid_store_cert_add_request (nor is the certificate
 * recorded then).
 */
enum pkid_code pkid_store_request_add(struct pkid_store *s,
    const struct pkid_request *r, int64_t *id, struct pkid_err *e);
typedef enum pkid_code (*pkid_request_fn)(const struct pkid_request *r,
    void *arg, struct pkid_err *e);
/* One request by (kind, transaction id); not-found when absent. */
enum pkid_code pkid_store_request_find(struct pkid_store *s, const char *kind,
    const char *transaction_id, pkid_request_fn fn, void *arg,
    struct pkid_err *e);
/* One request by id; not-found when absent. */
enum pkid_code pkid_store_request_get(struct pkid_store *s, int64_t id,
    pkid_request_fn fn, void *arg, struct pkid_err *e);
/* Requests in state (all when NULL), oldest first. */
enum pkid_code pkid_store_request_list(struct pkid_store *s,
    const char *state, pkid_request_fn fn, void *arg, struct pkid_err *e);
/*
 * Move request id to state, with the issued serial and a detail; audited
 * with actor. not-found when absent.
 */
enum pkid_code pkid_store_request_set(struct pkid_store *s, int64_t id,
    const char *state, const char *cert_serial, const char *detail,
    const char *actor, struct pkid_err *e);
/*
 * Free the transaction id of failed request id for a new request: the
 * row stays, its transaction id becomes "<id>#<request id>"; audited
 * with actor. request-state unless request id exists and is "failed".
 */
enum pkid_code pkid_store_request_retire(struct pkid_store *s, int64_t id,
    const char *actor, struct pkid_err *e);
/*
 * Move request id to "issued" with the certificate an upstream CA issued
 * for it (der, len bytes, copied) and its serial; audited with actor.
 * not-found when absent.
 */
enum pkid_code pkid_store_request_set_cert(struct pkid_store *s, int64_t id,
    const char *cert_serial, const uint8_t *der, size_t len,
    const char *actor, struct pkid_err *e);

/* Set (create or replace) a user's password hash (EST HTTP Basic). */
enum pkid_code pkid_store_user_put(struct pkid_store *s, const char *name,
    const char *hash, struct pkid_err *e);
/* A user's password hash into out; not-found when no such user. */
enum pkid_code pkid_store_user_get(struct pkid_store *s, const char *name,
    char *out, size_t len, struct pkid_err *e);

/*
 * SCEP one-time challenge passwords, kept as hex SHA-256 (never the text).
 * Add one valid until expires_at (epoch seconds) for profile.
 */
enum pkid_code pkid_store_challenge_add(struct pkid_store *s,
    const char *hash, const char *profile, int64_t expires_at,
    struct pkid_err *e);
/*
 * Look a challenge up without using it: when it exists, is unused and
 * unexpired at now, copies its profile into profile (len bytes);
 * challenge-bad otherwise. SCEP marks it used only with the request row
 * of an accepted enrollment (pkid_request.challenge_hash), so a refused
 * request leaves it usable.
 */
enum pkid_code pkid_store_challenge_peek(struct pkid_store *s,
    const char *hash, int64_t now, char *profile, size_t len,
    struct pkid_err *e);
/*
 * Consume a challenge: marks it used when it exists, is unused and
 * unexpired at now, and copies its profile into profile (len bytes);
 * challenge-bad otherwise. Atomic: two takes never both succeed.
 */
enum pkid_code pkid_store_challenge_take(struct pkid_store *s,
    const char *hash, int64_t now, char *profile, size_t len,
    struct pkid_err *e);

/*
 * Revoke; not-found or already-revoked. actor goes to the audit log. With
 * reason keyCompromise (1) the certificate's key is refused from then on
 * (pkid_store_key_compromised).
 */
enum pkid_code pkid_store_revoke(struct pkid_store *s, const char *serial,
    int reason, int64_t when, const char *actor, struct pkid_err *e);
/*
 * Lift a certificateHold (reason 6): the certificate is valid again and the
 * next CRL leaves it out; the revocation is kept in revocation_lifted and
 * the audit log. not-found, not-revoked, or revocation-final for any other
 * reason (those are final, RFC 5280 5.3.1).
 */
enum pkid_code pkid_store_unrevoke(struct pkid_store *s, const char *serial,
    int64_t when, const char *actor, struct pkid_err *e);
typedef enum pkid_code (*pkid_revoked_fn)(const struct pkid_revoked *r,
    void *arg, struct pkid_err *e);
/* Revoked, unexpired-at-'now' certificates issued by generation ca_gen. */
enum pkid_code pkid_store_revoked_list(struct pkid_store *s, int64_t ca_gen,
    pkid_revoked_fn fn, void *arg, struct pkid_err *e);

/*
 * A value that grows with every revocation of any generation (the newest
 * revocation row), read in constant time: what a kept CRL is checked
 * against, without counting the revocations.
 */
enum pkid_code pkid_store_revoked_mark(struct pkid_store *s, int64_t *mark,
    struct pkid_err *e);
/* How many revocations generation ca_gen has (to notice CRL changes). */
enum pkid_code pkid_store_revoked_count(struct pkid_store *s, int64_t ca_gen,
    int64_t *n, struct pkid_err *e);

/*
 * A certificate whose key has SubjectPublicKeyInfo SHA-256 spki_sha256
 * (hex) and that was revoked for keyCompromise: its serial into serial
 * (len bytes); not-found when there is none.
 */
enum pkid_code pkid_store_key_compromised(struct pkid_store *s,
    const char *spki_sha256, char *serial, size_t len, struct pkid_err *e);

/* Take the next CRL number of ca_name (1, 2, ...), durably. */
enum pkid_code pkid_store_crl_number_next(struct pkid_store *s,
    const char *ca_name, int64_t *out, struct pkid_err *e);

/* Append to the audit log (never updated or deleted). */
enum pkid_code pkid_store_audit(struct pkid_store *s, const char *actor,
    const char *action, const char *object, const char *result,
    const char *detail, struct pkid_err *e);
/* Number of audit rows with this action and result (for tests/status). */
enum pkid_code pkid_store_audit_count(struct pkid_store *s,
    const char *action, const char *result, int64_t *n, struct pkid_err *e);

/*
 * Whether writes are durable: last receives the latest I/O failure of a
 * write (store-io: a full disk, a failed commit) when it happened less
 * than PKID_STORE_HEALTH_WINDOW_S ago (a tiny write that still fits does
 * not hide a full disk), else is cleared.
 */
void pkid_store_health(struct pkid_store *s, struct pkid_err *last);

/* Commits done and operations committed, to show group commit at work. */
void pkid_store_commit_stats(struct pkid_store *s, uint64_t *commits,
    uint64_t *ops);

/*
 * Called by the committer after each durable commit with its duration in
 * microseconds (BEGIN to COMMIT, fsync included) and the writes it
 * carried (status/: store commit latency). Set before the store is used;
 * fn must be quick and thread-safe. NULL fn: none.
 */
typedef void (*pkid_store_commit_fn)(void *arg, uint64_t us, unsigned ops);
void pkid_store_set_commit_hook(struct pkid_store *s, pkid_store_commit_fn fn,
    void *arg);

/* ---- bounded reads for the status page (sqlite_status.c) ---- */
/*
 * Unrevoked certificates whose notAfter is in [from, to), soonest first,
 * at most limit of them to fn (only serial, subject, profile, not_after
 * and requester are filled), through the not_after index; *count
 * receives how many there are, counted no further than count_max.
 */
enum pkid_code pkid_store_cert_expiring(struct pkid_store *s, int64_t from,
    int64_t to, int limit, int count_max, pkid_cert_fn fn, void *arg,
    int64_t *count, struct pkid_err *e);
/*
 * Requests in state, oldest first, at most limit of them to fn, through
 * the state index; *count as above.
 */
enum pkid_code pkid_store_request_recent(struct pkid_store *s,
    const char *state, int limit, int count_max, pkid_request_fn fn,
    void *arg, int64_t *count, struct pkid_err *e);
/*
 * Certificates ever recorded and revocations ever made: the largest row
 * ids of their tables (rows are never deleted), O(log n), unlike
 * pkid_store_cert_count's scan.
 */
enum pkid_code pkid_store_totals(struct pkid_store *s, int64_t *certs,
    int64_t *revoked, struct pkid_err *e);

/* ---- administration (sqlite_admin.c) ---- */
/* An EST user as listed: never the password hash. Strings borrowed. */
struct pkid_user_rec {
	const char *name;	/* user name */
	int64_t created_at;	/* when added, epoch seconds */
};
typedef enum pkid_code (*pkid_user_fn)(const struct pkid_user_rec *u,
    void *arg, struct pkid_err *e);
/* Every EST user, by name. fn runs with the read lock held. */
enum pkid_code pkid_store_user_list(struct pkid_store *s, pkid_user_fn fn,
    void *arg, struct pkid_err *e);
/* Replace an existing user's password hash; audited ("user-passwd") with
 * actor. not-found when there is no such user (nothing is created). */
enum pkid_code pkid_store_user_passwd(struct pkid_store *s, const char *name,
    const char *hash, const char *actor, struct pkid_err *e);
/* Delete a user; audited ("user-del") with actor. not-found when none. */
enum pkid_code pkid_store_user_del(struct pkid_store *s, const char *name,
    const char *actor, struct pkid_err *e);

/* Hex digits of a challenge's hash that name it (its id), and the fewest
 * pkid_store_challenge_revoke accepts. The hash is of a 128-bit random
 * secret: a prefix of it says nothing about the secret. */
#define PKID_CHALLENGE_ID_LEN 12
#define PKID_CHALLENGE_ID_MIN 8
/* A one-time SCEP challenge as listed: never its secret nor full hash. */
struct pkid_challenge_rec {
	char id[PKID_CHALLENGE_ID_LEN + 1]; /* its hash's first hex digits */
	const char *profile;	/* profile it enrolls under (borrowed) */
	int64_t created_at;	/* epoch seconds */
	int64_t expires_at;	/* epoch seconds */
	int64_t used_at;	/* epoch seconds, 0: unused */
};
typedef enum pkid_code (*pkid_challenge_fn)(const struct pkid_challenge_rec *c,
    void *arg, struct pkid_err *e);
/* Every one-time challenge, oldest first. fn runs with the read lock. */
enum pkid_code pkid_store_challenge_list(struct pkid_store *s,
    pkid_challenge_fn fn, void *arg, struct pkid_err *e);
/*
 * Revoke (delete) the unused challenge whose hash begins with id
 * (PKID_CHALLENGE_ID_MIN to 64 hex digits, either case); audited
 * ("scep-challenge-revoke") with actor. out receives what was revoked
 * (its profile valid until the next call). not-found when none matches,
 * usage when id is malformed or names more than one, request-state when
 * it was used already (revoking it would change nothing).
 */
enum pkid_code pkid_store_challenge_revoke(struct pkid_store *s,
    const char *id, const char *actor, struct pkid_challenge_rec *out,
    struct pkid_err *e);

/* An audit row. Strings borrowed. */
struct pkid_audit_rec {
	int64_t id;		/* row id: grows with every entry */
	int64_t at;		/* epoch seconds */
	const char *actor;	/* who */
	const char *action;	/* what */
	const char *object;	/* on what */
	const char *result;	/* "ok" or a catalogue id */
	const char *detail;	/* free text */
};
typedef enum pkid_code (*pkid_audit_fn)(const struct pkid_audit_rec *a,
    void *arg, struct pkid_err *e);
/*
 * One page of the audit log, oldest first: the newest limit (>= 1)
 * entries with id below before (0: the newest of all) and at >= since.
 * An indexed walk of at most limit rows backwards, never a scan; it
 * relies on entries being appended in time order (the clock set back
 * makes since approximate). *older receives the id of the oldest entry
 * given when older ones match too (pass it as before for the next page),
 * else 0.
 */
enum pkid_code pkid_store_audit_page(struct pkid_store *s, int64_t since,
    int64_t before, int limit, pkid_audit_fn fn, void *arg, int64_t *older,
    struct pkid_err *e);

#endif
