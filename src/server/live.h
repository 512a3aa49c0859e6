/*
 * live.h - what a running pkid serves, and its replacement without a
 * restart: when the CA's next generation is due (rollover.h) pkid makes
 * it; when a shadow's activation comes, or on SIGHUP, pkid opens the CA
 * again, builds a new application and router, and swaps them in while
 * requests under way finish with the old ones (freed once idle).
 *
 * One housekeeping thread does this; nothing here runs on the workers.
 * The TLS certificate and the listeners stay as they were started.
 */
#ifndef PKID_SERVER_LIVE_H
#define PKID_SERVER_LIVE_H

#include "ca/ca.h"
#include "core/err.h"
#include "http/http.h"
#include "server/app.h"

struct pkid_live;

/*
 * Take ca (opened from dir with configuration conf, NULL: dir's), the
 * application and router built on it, served by srv (borrowed, must
 * outlive the result). Ownership of ca, app and router passes to the
 * result in every case (NULL on out-of-memory, with e set).
 */
struct pkid_live *pkid_live_new(const char *dir, const char *conf,
    struct pkid_ca *ca, struct pkid_app *app, struct pkid_router *router,
    struct pkid_server *srv, struct pkid_err *e);
/* Start the housekeeping thread. */
enum pkid_code pkid_live_start(struct pkid_live *l, struct pkid_err *e);
/* Ask for a reload at the next tick (safe from a signal handler). */
void pkid_live_reload(struct pkid_live *l);
/* Stop the thread (after the server stopped) and free everything. */
void pkid_live_free(struct pkid_live *l);
/* Build an application and its router over ca (pkid and pkid --check),
 * counting in st (borrowed; NULL: no status page, no counters). */
enum pkid_code pkid_live_build(struct pkid_ca *ca, struct pkid_status *st,
    struct pkid_app **app, struct pkid_router **router, struct pkid_err *e);

#endif
