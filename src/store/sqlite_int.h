/*
 * sqlite_int.h - internals shared by the SQLite store's files.
 */
#ifndef PKID_STORE_SQLITE_INT_H
#define PKID_STORE_SQLITE_INT_H

#include <pthread.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/err.h"
#include "store/backend.h"

struct wop;
typedef enum pkid_code (*wop_fn)(struct pkid_sq *s, struct wop *w);

/* One queued write: applied by the committer inside a savepoint. */
struct wop {
	wop_fn apply;		/* does the SQL on s->wdb */
	const void *arg;	/* the caller's input (borrowed) */
	void *out;		/* the caller's output, if any */
	enum pkid_code rc;	/* result after commit */
	struct pkid_err err;	/* the error when rc != OK */
	int done;		/* set by the committer */
	struct wop *next;	/* queue link */
};

/* Statements the committer keeps prepared on the write connection. */
enum wstmt {
	WS_CERT_INSERT,
	WS_AUDIT_INSERT,
	WS_BEGIN,
	WS_COMMIT,
	WS_SAVEPOINT,
	WS_ROLLBACK_TO,
	WS_RELEASE,
	WS_REQUEST_INSERT,
	WS_MAX,
};

/* Statements kept prepared on the read connection (hot lookups). */
enum rstmt {
	RS_CERT_BY_SERIAL,
	RS_USER_GET,
	RS_REQ_BY_TXN,
	RS_REQ_BY_ID,
	RS_KEY_COMPROMISED,
	RS_MAX,
};

struct pkid_sq {
	sqlite3 *wdb;			/* write connection (committer only) */
	sqlite3 *rdb;			/* read connection */
	pthread_mutex_t rmu;		/* serialises rdb */
	pthread_mutex_t mu;		/* guards the queue */
	pthread_cond_t work_cv;		/* queue got work */
	pthread_cond_t done_cv;		/* a batch finished */
	struct wop *head, *tail;	/* pending writes */
	int stopping;			/* close requested */
	pthread_t committer;		/* the committer thread */
	int have_thread;		/* committer started */
	sqlite3_stmt *ws[WS_MAX];	/* cached write statements */
	sqlite3_stmt *rs[RS_MAX];	/* cached read statements (rmu) */
	uint64_t commits;		/* commits done */
	uint64_t ops;			/* operations committed */
	struct pkid_err health;		/* last I/O failure of a write (mu) */
	uint64_t health_at;		/* when, pkid_mono_ms(); 0: never */
	pkid_store_commit_fn commit_fn;	/* commit hook, or NULL */
	void *commit_arg;		/* its argument */
};


/* The audit row a write carries with it. */
struct audit_arg {
	const char *actor;	/* who */
	const char *action;	/* what, e.g. "issue" */
	const char *object;	/* on what, e.g. a serial */
	const char *result;	/* "ok" or a catalogue id */
	const char *detail;	/* free text */
	int64_t at;		/* when */
};

enum pkid_code pkid_sq_db_err(struct pkid_err *e, sqlite3 *db, int r,
    const char *what);
/* Prepare sql on the read connection; the caller holds s->rmu. */
enum pkid_code pkid_sq_rprepare(struct pkid_sq *s, const char *sql,
    sqlite3_stmt **st, struct pkid_err *e);
/* Column i as text, "" when NULL (valid until the next step). */
const char *pkid_sq_text(sqlite3_stmt *st, int i);
enum pkid_code pkid_sq_exec_sql(sqlite3 *db, const char *sql,
    struct pkid_err *e);
sqlite3_stmt *pkid_sq_wstmt(struct pkid_sq *s, enum wstmt which,
    struct pkid_err *e);
/* Queue a write and wait until it is durable (or failed). */
enum pkid_code pkid_sq_submit(struct pkid_sq *s, wop_fn fn,
    const void *arg, void *out, struct pkid_err *e);
/*
 * A cached statement of the read connection, prepared from sql (always
 * the same text for one slot) on first use; the caller holds s->rmu and
 * ends with pkid_sq_rdone so no read transaction stays open.
 */
sqlite3_stmt *pkid_sq_rstmt(struct pkid_sq *s, enum rstmt which,
    const char *sql, struct pkid_err *e);
void pkid_sq_rdone(sqlite3_stmt *st);
int pkid_sq_bind_text(sqlite3_stmt *st, int i, const char *v);
enum pkid_code pkid_sq_step_done(sqlite3 *db, sqlite3_stmt *st,
    const char *what, struct pkid_err *e);
/* Insert one request row on the write connection (committer only). */
enum pkid_code pkid_sq_request_insert(struct pkid_sq *s,
    const struct pkid_request *r, int64_t *id, struct pkid_err *e);
/*
 * Mark one-time challenge hash used at now (committer only):
 * challenge-bad unless it exists, is unused and unexpired.
 */
enum pkid_code pkid_sq_challenge_use(struct pkid_sq *s, const char *hash,
    int64_t now, struct pkid_err *e);
enum pkid_code pkid_sq_audit_insert(struct pkid_sq *s,
    const struct audit_arg *a, struct pkid_err *e);
/* The "ok" audit row of a write that succeeded (committer only). */
enum pkid_code pkid_sq_audit_ok(struct pkid_sq *s, const char *actor,
    const char *action, const char *object, const char *detail, int64_t at,
    struct pkid_err *e);

#endif
