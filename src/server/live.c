/*
 * live.c - the running pkid's CA, application and router, and their
 * replacement after a rollover or a reload (live.h).
 */
#include "server/live.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/rollover.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "est/est.h"
#include "status/status.h"

/* One application with what it stands on. */
struct served {
	struct pkid_ca *ca;		/* the CA */
	struct pkid_app *app;		/* its handlers' state */
	struct pkid_router *router;	/* its routes */
};

struct pkid_live {
	char dir[1024];			/* CA directory */
	char conf[1024];		/* configuration file, "" = dir's */
	struct pkid_server *srv;	/* the server (borrowed) */
	struct pkid_status *status;	/* counters (borrowed) */
	struct served cur;		/* in service */
	struct served old;		/* replaced, freed once idle */
	pthread_t th;			/* housekeeping thread */
	int started;			/* th was started */
	atomic_int stop;		/* ask th to end */
	volatile sig_atomic_t reload;	/* SIGHUP seen */
};

static void
served_free(struct served *s)
{
	pkid_router_free(s->router);
	if (s->app != NULL) {
		pkid_app_free(s->app);
		free(s->app);
	}
	pkid_ca_close(s->ca);
	memset(s, 0, sizeof(*s));
}

enum pkid_code
pkid_live_build(struct pkid_ca *ca, struct pkid_status *st,
    struct pkid_app **app, struct pkid_router **router, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;

	*router = NULL;
	PKID_OSSL_PTR(*app = calloc(1, sizeof(**app)), PKID_E_NOMEM,
	    "no memory");
	PKID_TRY(pkid_app_init(*app, ca, e));
	(*app)->status = st;
	/* Commits of every store opened count in one histogram. */
	if (st != NULL)
		pkid_store_set_commit_hook(ca->store, pkid_status_commit, st);
	PKID_OSSL_PTR(*router = pkid_router_new(), PKID_E_NOMEM,
	    "no memory for the router");
	rc = pkid_app_routes(*app, *router, e);
out:
	return rc;
}

struct pkid_live *
pkid_live_new(const char *dir, const char *conf, struct pkid_ca *ca,
    struct pkid_app *app, struct pkid_router *router, struct pkid_server *srv,
    struct pkid_err *e)
{
	struct pkid_live *l = calloc(1, sizeof(*l));
	struct served s = { ca, app, router };

	if (l == NULL) {
		served_free(&s);
		PKID_ERR(e, PKID_E_NOMEM, "no memory");
		return NULL;
	}
	snprintf(l->dir, sizeof(l->dir), "%s", dir);
	snprintf(l->conf, sizeof(l->conf), "%s", conf != NULL ? conf : "");
	l->srv = srv;
	l->status = app != NULL ? app->status : NULL;
	l->cur = s;
	return l;
}

/*
 * Open the CA again (which makes current a shadow whose time came), make
 * the next generation when the plan says it is due, and swap in a new
 * application when anything changed (always on SIGHUP).
 */
static enum pkid_code
refresh(struct pkid_live *l, int forced, struct pkid_err *e)
{
	struct served n;
	struct pkid_rollover_opts ro = { 0, "pkid" };
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&n, 0, sizeof(n));
	PKID_TRY(pkid_ca_open_config(l->dir, l->conf[0] != '\0' ? l->conf :
	    NULL, &n.ca, e));
	if (n.ca->next == NULL && pkid_ca_rollover_due(n.ca))
		PKID_TRY(pkid_ca_rollover(n.ca, &ro, e));
	if (!forced && n.ca->generation == l->cur.ca->generation &&
	    n.ca->next_gen == l->cur.ca->next_gen &&
	    n.ca->next_activate == l->cur.ca->next_activate) {
		rc = PKID_OK;
		goto out;
	}
	PKID_TRY(pkid_live_build(n.ca, l->status, &n.app, &n.router, e));
	n.app->srv = l->srv;
	if (n.app->est != NULL)
		pkid_est_set_https_port(n.app->est,
		    pkid_server_tls_port(l->srv));
	PKID_TRY(pkid_server_set_router(l->srv, n.router, e));
	l->old = l->cur;
	l->cur = n;
	memset(&n, 0, sizeof(n));
	pkid_log(PKID_LOG_INFO, "reload: serving CA %s generation %d%s",
	    l->cur.ca->cfg.ca_name, l->cur.ca->generation, l->cur.ca->next !=
	    NULL ? " (the next one is published)" : "");
	rc = PKID_OK;
out:
	served_free(&n);
	return rc;
}

static void *
housekeeping(void *arg)
{
	struct pkid_live *l = arg;
	struct timespec tick = { 1, 0 };
	struct pkid_err e;
	unsigned n = 0, rest = 0;
	int forced;

	while (!atomic_load(&l->stop)) {
		nanosleep(&tick, NULL);
		if (l->old.router != NULL &&
		    !pkid_server_router_busy(l->srv, l->old.router))
			served_free(&l->old);
		pkid_app_tick(l->cur.app);
		forced = l->reload != 0;
		n++;
		if (l->old.router != NULL || (!forced && (rest > 0 ? (--rest,
		    1) : n % PKID_ROLLOVER_CHECK_S != 0 &&
		    !pkid_ca_rollover_due(l->cur.ca))))
			continue;
		l->reload = 0;
		pkid_err_clear(&e);
		if (refresh(l, forced, &e) != PKID_OK) {
			pkid_log_err(PKID_LOG_ERROR, &e, "reload (tried again "
			    "in a minute)");
			rest = PKID_ROLLOVER_CHECK_S;
		}
	}
	return NULL;
}

enum pkid_code
pkid_live_start(struct pkid_live *l, struct pkid_err *e)
{
	if (pthread_create(&l->th, NULL, housekeeping, l) != 0)
		return PKID_ERR(e, PKID_E_INTERNAL, "cannot start the "
		    "housekeeping thread");
	l->started = 1;
	return PKID_OK;
}

void
pkid_live_reload(struct pkid_live *l)
{
	if (l != NULL)
		l->reload = 1;
}

void
pkid_live_free(struct pkid_live *l)
{
	if (l == NULL)
		return;
	atomic_store(&l->stop, 1);
	if (l->started)
		pthread_join(l->th, NULL);
	served_free(&l->old);
	served_free(&l->cur);
	free(l);
}
