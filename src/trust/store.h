/*
 * store.h - a trust store on disk (README "Trust bundles"):
 *
 *   DIR/state.json            the store: every anchor (SHA-256, SKI,
 *                             subject, validity, source) and, per bundle
 *                             publisher, the serial installed; the one
 *                             file whose rename commits a change
 *   DIR/anchors/<sha256>.pem  one PEM certificate per anchor, named by
 *                             its SHA-256 fingerprint (never by subject:
 *                             two CAs with one name are two files)
 *   DIR/status.json           the last import attempt and the next one
 *                             (pkictl trust status); not trust data
 *   DIR/lock                  flock(2): shared by readers, exclusive for
 *                             a change, so concurrent imports serialise
 *
 * A change writes the new anchor files first, then state.json (temporary
 * file, fsync, rename, fsync of the directory), then removes files
 * state.json no longer names: a crash at any point leaves the old store
 * or the new one, and files no state names are ignored and cleaned up by
 * the next change. Readers load only what state.json lists and check
 * each file's fingerprint against its name.
 */
#ifndef PKID_TRUST_STORE_H
#define PKID_TRUST_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/limits.h"

/* One trust anchor. */
struct pkid_trust_anchor {
	X509 *cert;		/* owned; NULL in a state only parsed */
	char sha256[65];	/* fingerprint, lower-case hex: its key */
	char ski[129];		/* subjectKeyIdentifier, lower-case hex (RFC
				 * 5280 4.2.1.2 method 1 when it has none) */
	char subject[256];	/* RFC 2253 text, for people only */
	int64_t not_before;	/* validity, epoch seconds */
	int64_t not_after;	/* validity, epoch seconds */
	char source[PKID_TRUST_MAX_SOURCE + 64]; /* "bundle SOURCE serial N",
				 * "file PATH" */
	int64_t added;		/* when it was installed */
	int fresh;		/* added since the store was opened: its
				 * file is written at commit */
};

/* What the store installed from one bundle publisher. */
struct pkid_trust_source {
	char anchor[65];	/* SHA-256 of the pinned anchor the bundle's
				 * signer chained to: the publisher */
	int64_t serial;		/* the bundleSerial installed */
	char content_sha256[65]; /* SHA-256 of that bundle's content */
	char location[PKID_TRUST_MAX_SOURCE + 1]; /* file or URL */
	char signer[256];	/* the signer's subject */
	int64_t signing_time;	/* its signingTime */
	int64_t installed_at;	/* when it was installed */
};

/* The contents of state.json. */
struct pkid_trust_state {
	size_t n;		/* anchors used */
	size_t cap;		/* anchors allocated */
	struct pkid_trust_anchor *a; /* owned array */
	size_t nsrc;		/* sources used */
	struct pkid_trust_source src[PKID_TRUST_MAX_SOURCES]; /* publishers */
};

/* Free the anchors (and their certificates) and zero the state. */
void pkid_trust_state_clear(struct pkid_trust_state *st);
/*
 * Parse state.json text (at most PKID_TRUST_MAX_STATE_SIZE bytes) into st
 * (cleared first); certificates are not loaded. Errors: too-large,
 * store-io (not the format: the message says where), store-schema (a
 * version this pkid does not know), out-of-memory.
 */
enum pkid_code pkid_trust_state_parse(const uint8_t *p, size_t len,
    struct pkid_trust_state *st, struct pkid_err *e);
/* state.json text of st into out (initialised here). */
enum pkid_code pkid_trust_state_write(const struct pkid_trust_state *st,
    struct pkid_buf *out, struct pkid_err *e);

/* The last import attempt and the next (DIR/status.json). */
struct pkid_trust_status {
	char source[PKID_TRUST_MAX_SOURCE + 1]; /* what was imported */
	int64_t last_attempt;	/* when, epoch seconds; 0: never */
	char result[16];	/* "installed", "unchanged", "failed" */
	char code[48];		/* catalogue id of the failure, "ok" */
	char message[512];	/* its message */
	int failures;		/* failed attempts in a row */
	int64_t next_attempt;	/* when the next is due, 0: none planned */
	int64_t last_success;	/* last attempt that did not fail, 0 */
	int64_t serial;		/* serial of the last bundle read, -1 */
	int attempted;		/* anchors in that bundle */
	int installed;		/* of them installed */
	int duplicates;		/* already in the store */
	int expired;		/* past their notAfter, skipped */
	int failed;		/* refused (the whole bundle then is) */
};

/* Parse / write status.json (bounded like state.json). Errors as for
 * the state. */
enum pkid_code pkid_trust_status_parse(const uint8_t *p, size_t len,
    struct pkid_trust_status *s, struct pkid_err *e);
enum pkid_code pkid_trust_status_write(const struct pkid_trust_status *s,
    struct pkid_buf *out, struct pkid_err *e);
/*
 * Read DIR/status.json (a store never imported into: *s zeroed with
 * serial -1, PKID_OK) / write it atomically. Errors: io-*, the parser's.
 */
enum pkid_code pkid_trust_status_load(const char *dir,
    struct pkid_trust_status *s, struct pkid_err *e);
enum pkid_code pkid_trust_status_save(const char *dir,
    const struct pkid_trust_status *s, struct pkid_err *e);

/* How a store is opened. */
enum pkid_trust_mode {
	PKID_TRUST_READ = 0,	/* shared lock; the directory must exist */
	PKID_TRUST_WRITE = 1,	/* exclusive lock; made when missing */
};

struct pkid_trust_store;

/*
 * Open the store in dir, waiting at most wait_ms for its lock (held until
 * close), and load every anchor state.json lists. A directory without
 * state.json is an empty store; a missing directory is made in write
 * mode and is store-open in read mode. Errors:
 * store-open, store-busy (the lock), store-io (a damaged state or anchor
 * file: the message names it), store-schema, io-*, out-of-memory.
 */
enum pkid_code pkid_trust_store_open(const char *dir,
    enum pkid_trust_mode mode, int wait_ms, struct pkid_trust_store **out,
    struct pkid_err *e);
/* Release the lock and free; uncommitted changes are dropped. */
void pkid_trust_store_close(struct pkid_trust_store *s);
/* The state as loaded and changed so far (borrowed). */
struct pkid_trust_state *pkid_trust_store_state(struct pkid_trust_store *s);
/* The store's directory (borrowed). */
const char *pkid_trust_store_dir(const struct pkid_trust_store *s);
/* Every anchor certificate: a new stack of new references (the caller
 * pops and frees), NULL on no memory. */
STACK_OF(X509) *pkid_trust_store_certs(struct pkid_trust_store *s);
/* Index of the anchor with this fingerprint, -1 when none. */
int pkid_trust_store_find(struct pkid_trust_store *s, const char *sha256);
/*
 * Add x (a reference is taken) with source text and install time; a
 * certificate already there is left as it is. Errors: too-large (past
 * PKID_TRUST_MAX_ANCHORS), out-of-memory.
 */
enum pkid_code pkid_trust_store_add(struct pkid_trust_store *s, X509 *x,
    const char *source, int64_t now, struct pkid_err *e);
/*
 * Remove the anchor whose SHA-256 fingerprint or SKI is id (hex, colons
 * and case ignored); removed receives its fingerprint. Errors: not-found,
 * usage (an SKI several anchors share: give the fingerprint).
 */
enum pkid_code pkid_trust_store_remove(struct pkid_trust_store *s,
    const char *id, char removed[65], struct pkid_err *e);
/* The record of publisher anchor_sha256, added empty (serial -1) when
 * create is set and there is room; NULL otherwise. Borrowed. */
struct pkid_trust_source *pkid_trust_store_source(struct pkid_trust_store *s,
    const char *anchor_sha256, int create);
/*
 * Make the changes durable (store opened for writing): new anchor files,
 * then state.json, then the removal of files it no longer names.
 * Errors: io-write, usage (read mode), out-of-memory.
 */
enum pkid_code pkid_trust_store_commit(struct pkid_trust_store *s,
    struct pkid_err *e);

/* Fill an anchor's fields (not source/added) from x (not referenced). */
enum pkid_code pkid_trust_anchor_describe(X509 *x,
    struct pkid_trust_anchor *a, struct pkid_err *e);

#endif
