/*
 * store_backend.h - the store's unit tests run against SQLite (a file in a
 * temporary directory) and, when PKID_TEST_PG_URL names a database
 * (tools/pg-test.sh run, as ctest's unit/<name>@pg tests do), against
 * PostgreSQL, whose schema is emptied before each case.
 */
#ifndef PKID_TEST_STORE_BACKEND_H
#define PKID_TEST_STORE_BACKEND_H

#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>
#include <sqlite3.h>

/* The PostgreSQL URL, or NULL for SQLite. */
static inline const char *
tb_pg_url(void)
{
	const char *u = getenv("PKID_TEST_PG_URL");

	return u != NULL && u[0] != '\0' ? u : NULL;
}

/* Run sql on the store at url (a path or the PostgreSQL URL) outside
 * pkid: 0 when it succeeded. */
static inline int
tb_exec(const char *url, const char *sql)
{
	PGconn *c;
	PGresult *r;
	sqlite3 *db;
	int rc;

	if (tb_pg_url() == NULL) {
		if (sqlite3_open(url, &db) != SQLITE_OK)
			return -1;
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ?
		    0 : -1;
		sqlite3_close(db);
		return rc;
	}
	if ((c = PQconnectdb(url)) == NULL)
		return -1;
	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return -1;
	}
	r = PQexec(c, sql);
	rc = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
	PQclear(r);
	PQfinish(c);
	return rc;
}

/*
 * Where the case's store is: url receives the PostgreSQL URL (its schema
 * emptied) or dir/pkid.db. 0 on success.
 */
static inline int
tb_setup(const char *dir, char *url, size_t len)
{
	if (tb_pg_url() == NULL) {
		snprintf(url, len, "%s/pkid.db", dir);
		return 0;
	}
	snprintf(url, len, "%s", tb_pg_url());
	return tb_exec(url, "SET client_min_messages = warning; "
	    "DROP SCHEMA IF EXISTS public CASCADE; "
	    "CREATE SCHEMA public");
}

#endif
