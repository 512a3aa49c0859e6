/*
 * pg_int.h - internals shared by the PostgreSQL store's files: a pool of
 * libpq connections, each with its own prepared statements, and the
 * helpers that bind parameters and read binary result columns.
 */
#ifndef PKID_STORE_PG_INT_H
#define PKID_STORE_PG_INT_H

#include <pthread.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "core/err.h"
#include "core/limits.h"
#include "store/backend.h"

/* One pooled connection. */
struct pg_conn {
	PGconn *c;		/* NULL until connected, or after a loss */
	const char *prep[PKID_PG_PREPARED_MAX]; /* SQL prepared as "pN" */
	int nprep;		/* how many */
	struct pg_conn *next;	/* free list link */
};

struct pkid_pg {
	char conninfo[PKID_STORE_URL_MAX]; /* what libpq is given */
	char where[160];	/* "host H port P database D", for messages */
	pthread_mutex_t mu;	/* guards everything below */
	pthread_cond_t cv;	/* a connection came back */
	struct pg_conn conns[PKID_PG_POOL];
	struct pg_conn *free;	/* idle connections */
	uint64_t down_at;	/* last failed connect, pkid_mono_ms(); 0: up */
	int probing;		/* a connect after a failure is under way */
	struct pkid_err down;	/* why the last connect failed */
	uint64_t commits;	/* write transactions committed */
	uint64_t ops;		/* operations committed */
	struct pkid_err health;	/* last failure of a write */
	uint64_t health_at;	/* when, pkid_mono_ms(); 0: never */
	pkid_store_commit_fn commit_fn; /* commit hook, or NULL */
	void *commit_arg;	/* its argument */
};

/* Return the code of call unless it is PKID_OK. */
#define PG_TRY(call) do {						\
	enum pkid_code pg_rc_ = (call);					\
	if (pg_rc_ != PKID_OK)						\
		return pg_rc_;						\
} while (0)

/* Parameters of one statement: text, or binary for bytea. */
#define PG_MAXP 16
struct pg_params {
	const char *v[PG_MAXP];	/* values, NULL: SQL NULL */
	int len[PG_MAXP];	/* lengths of binary values */
	int fmt[PG_MAXP];	/* 0 text, 1 binary */
	char num[PG_MAXP][24];	/* room for integers as text */
	int n;			/* how many */
};

void pkid_pg_ptext(struct pg_params *p, const char *v);
void pkid_pg_pint(struct pg_params *p, int64_t v);
void pkid_pg_pblob(struct pg_params *p, const uint8_t *v, size_t len);

/*
 * Run sql on c with p (NULL: none), results in binary. Kept prepared on
 * c when cache is set (sql must then be a string literal: its address
 * names it). Returns the result of a command that succeeded, else NULL
 * with e set: store-constraint, store-busy (a serialization failure),
 * store-unavailable (the connection is lost; it is reset at its next
 * use) or store-io.
 */
PGresult *pkid_pg_run(struct pg_conn *c, const char *sql,
    const struct pg_params *p, int cache, struct pkid_err *e);
/* The same for a command whose result is not read. */
enum pkid_code pkid_pg_exec(struct pg_conn *c, const char *sql,
    const struct pg_params *p, struct pkid_err *e);

/* Column i of row r: text (NULL when SQL NULL), integer, bytea. */
const char *pkid_pg_str(const PGresult *res, int r, int i);
const char *pkid_pg_text(const PGresult *res, int r, int i);
int64_t pkid_pg_int(const PGresult *res, int r, int i);
const uint8_t *pkid_pg_blob(const PGresult *res, int r, int i, size_t *len);

/* A connection of the pool, connected; store-unavailable when the
 * database cannot be reached. Give it back with pkid_pg_release. */
enum pkid_code pkid_pg_acquire(struct pkid_pg *s, struct pg_conn **out,
    struct pkid_err *e);
void pkid_pg_release(struct pkid_pg *s, struct pg_conn *c);

/* A write: fn runs inside BEGIN ... COMMIT on one connection and
 * returns once committed (synchronous_commit); retried on a
 * serialization failure or a connection found dead at BEGIN. */
typedef enum pkid_code (*pg_wfn)(struct pg_conn *c, const void *arg,
    void *out, struct pkid_err *e);
enum pkid_code pkid_pg_write(struct pkid_pg *s, pg_wfn fn, const void *arg,
    void *out, struct pkid_err *e);

/* One read on a pooled connection, its whole result fetched (the
 * connection goes back at once); NULL with e set on failure. Again once
 * on a connection found dead. */
PGresult *pkid_pg_read(struct pkid_pg *s, const char *sql,
    const struct pg_params *p, int cache, struct pkid_err *e);
/* The code of a failed read or run: e's, else store-io. */
enum pkid_code pkid_pg_fail(const struct pkid_err *e);
/* Run a write statement, *n (if not NULL) the rows it changed. */
enum pkid_code pkid_pg_wexec(struct pg_conn *c, const char *sql,
    const struct pg_params *p, int *n, struct pkid_err *e);

/* Audit row (inside a write). */
enum pkid_code pkid_pg_audit_ins(struct pg_conn *c, const char *actor,
    const char *action, const char *object, const char *result,
    const char *detail, int64_t at, struct pkid_err *e);

#endif
