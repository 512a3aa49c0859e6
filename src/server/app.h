/*
 * app.h - the pkid server's application: the open CA plus the routes every
 * protocol plugs into (EST, SCEP, CRL, health, status).
 */
#ifndef PKID_SERVER_APP_H
#define PKID_SERVER_APP_H

#include <pthread.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "ca/ca.h"
#include "core/limits.h"
#include "http/http.h"
#include "trust/publish.h"

struct pkid_acme;
struct pkid_est;
struct pkid_ocsp;
struct pkid_scep;
struct pkid_status;

/* A CRL made and kept until a revocation or half its validity. */
struct pkid_app_crl {
	int generation;			/* of the signing CA, 0: unused */
	int64_t gen_id;			/* its ca_generation row */
	uint8_t *der;			/* the CRL, DER */
	size_t len;			/* its length */
	int64_t made;			/* when it was made */
	int64_t mark;			/* store's revocation mark then */
};

/* State the handlers share. Handlers run on several worker threads. */
struct pkid_app {
	struct pkid_ca *ca;		/* the CA (thread-safe to issue) */
	pthread_mutex_t crl_mu;		/* guards the CRL cache */
	struct pkid_app_crl crls[PKID_CRL_CACHE_GENS]; /* per generation */
	int64_t started;		/* process start time */
	pthread_mutex_t count_mu;	/* guards count, count_at */
	int64_t count;			/* certificates, as last counted */
	int64_t count_at;		/* when, 0: never */
	struct pkid_est *est;		/* EST server state (est/est.h) */
	struct pkid_scep *scep;		/* SCEP server state (scep/scep.h) */
	struct pkid_ocsp *ocsp;		/* OCSP responder (ocsp/ocsp.h) */
	struct pkid_acme *acme;		/* ACME server (acme/acme.h), NULL
					 * when [acme] profiles is empty */
	struct pkid_trust_pub bundle;	/* /trust/bundle.p7b, made when the
					 * application is built; read-only */
	struct pkid_status *status;	/* process-wide counters (borrowed),
					 * NULL: no status routes */
	struct pkid_server *srv;	/* the server, for its statistics
					 * (borrowed, NULL until it runs) */
	X509_STORE *status_ca;		/* [status] client_ca, or NULL */
};

enum pkid_code pkid_app_init(struct pkid_app *app, struct pkid_ca *ca,
    struct pkid_err *e);
/* Work done off the request path, once a second (src/server/live.c):
 * the current generation's CRL made again when revocations changed, the
 * OCSP responder's certificate renewed and its kept answers re-signed. */
void pkid_app_tick(struct pkid_app *app);
void pkid_app_free(struct pkid_app *app);
/* [status] client_ca loaded into app->status_ca (status.c). */
enum pkid_code pkid_app_status_init(struct pkid_app *app, struct pkid_err *e);
/* Register /, /metrics and /errors/ when app->status is set. */
enum pkid_code pkid_app_status_routes(struct pkid_app *app,
    struct pkid_router *r, struct pkid_err *e);
/* Register /healthz, /crl/<name>.crl (generation 1) and
 * /crl/<name>-<N>.crl (generation N), /.well-known/est/, /scep,
 * /cgi-bin/pkiclient.exe, /ocsp and /trust/bundle.p7b on r. */
enum pkid_code pkid_app_routes(struct pkid_app *app, struct pkid_router *r,
    struct pkid_err *e);
/* Register /ocsp (ocsp_route.c), the responder made first. */
enum pkid_code pkid_app_ocsp_routes(struct pkid_app *app,
    struct pkid_router *r, struct pkid_err *e);
/* Make the trust bundle (trust/publish.h) and route /trust/bundle.p7b
 * (bundle.c), on both listeners: it is signed. */
enum pkid_code pkid_app_bundle_routes(struct pkid_app *app,
    struct pkid_router *r, struct pkid_err *e);

#endif
