/*
 * app.c - /healthz, /crl/<name>.crl and /ca/<name>.cer (src/ca/pub.c);
 * /trust/bundle.p7b: bundle.c.
 */
#include "server/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "acme/acme.h"
#include "core/clock.h"
#include "core/log.h"
#include "est/est.h"
#include "ocsp/ocsp.h"
#include "scep/scep.h"

enum pkid_code
pkid_app_init(struct pkid_app *app, struct pkid_ca *ca, struct pkid_err *e)
{
	memset(app, 0, sizeof(*app));
	app->ca = ca;
	app->started = (int64_t)pkid_now();
	pthread_mutex_init(&app->crl_mu, NULL);
	pthread_mutex_init(&app->count_mu, NULL);
	return pkid_app_status_init(app, e);
}

void
pkid_app_free(struct pkid_app *app)
{
	int i;

	if (app == NULL)
		return;
	pthread_mutex_destroy(&app->crl_mu);
	pthread_mutex_destroy(&app->count_mu);
	pkid_est_free(app->est);
	app->est = NULL;
	pkid_scep_free(app->scep);
	app->scep = NULL;
	pkid_ocsp_free(app->ocsp);
	app->ocsp = NULL;
	pkid_acme_free(app->acme);
	app->acme = NULL;
	X509_STORE_free(app->status_ca);
	app->status_ca = NULL;
	for (i = 0; i < PKID_CRL_CACHE_GENS; i++) {
		OPENSSL_free(app->crls[i].der);
		app->crls[i].der = NULL;
	}
	pkid_trust_pub_clear(&app->bundle);
}

/* 503 with the cause, as JSON for monitors: nothing can be issued. */
static void
degraded(struct pkid_app *app, struct pkid_http_resp *resp,
    const struct pkid_err *cause)
{
	struct pkid_err e;
	char msg[512], q[1100];
	size_t i, o = 0;

	pkid_err_clear(&e);
	pkid_err_message(cause, msg, sizeof(msg));
	/* JSON string: quotes, backslashes and controls escaped. */
	for (i = 0; msg[i] != '\0' && o + 7 < sizeof(q); i++) {
		unsigned char ch = (unsigned char)msg[i];

		if (ch == '"' || ch == '\\') {
			q[o++] = '\\';
			q[o++] = (char)ch;
		} else if (ch < 0x20) {
			o += (size_t)snprintf(q + o, sizeof(q) - o, "\\u%04x",
			    ch);
		} else {
			q[o++] = (char)ch;
		}
	}
	q[o] = '\0';
	resp->status = 503;
	resp->code = cause->code;
	snprintf(resp->content_type, sizeof(resp->content_type),
	    "application/json");
	(void)pkid_buf_printf(&resp->body, &e, "{\"status\":\"degraded\","
	    "\"ca\":\"%s\",\"code\":\"%s\",\"message\":\"%s\","
	    "\"remedy\":\"%s\"}\n", app->ca->cfg.ca_name,
	    pkid_err_id(cause->code), q, pkid_err_remedy(cause->code));
}

static void
healthz(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	struct pkid_app *app = ctx;
	struct pkid_err e;
	int64_t n = 0, revoked = 0;

	(void)req;
	pkid_err_clear(&e);
	/* Healthy means certificates can be issued: the last write was made
	 * durable (not "database or disk is full"), and the store answers. */
	pkid_store_health(app->ca->store, &e);
	if (e.code != PKID_OK) {
		degraded(app, resp, &e);
		return;
	}
	/* Unauthenticated: one step down each rowid B-tree, never a count
	 * that grows with the store. */
	if (pkid_store_totals(app->ca->store, &n, &revoked, &e) != PKID_OK) {
		degraded(app, resp, &e);
		return;
	}
	snprintf(resp->content_type, sizeof(resp->content_type),
	    "application/json");
	(void)pkid_buf_printf(&resp->body, &e, "{\"status\":\"ok\","
	    "\"ca\":\"%s\",\"certificates\":%lld,\"uptime_s\":%lld}\n",
	    app->ca->cfg.ca_name, (long long)n,
	    (long long)(pkid_now() - app->started));
}

/* The cache slot of generation g: its own, else a free or the oldest. */
static struct pkid_app_crl *
crl_slot(struct pkid_app *app, int g)
{
	struct pkid_app_crl *best = &app->crls[0];
	int i;

	for (i = 0; i < PKID_CRL_CACHE_GENS; i++) {
		struct pkid_app_crl *c = &app->crls[i];

		if (c->generation == g)
			return c;
		if (c->generation == 0 || (best->generation != 0 &&
		    c->made < best->made))
			best = c;
	}
	OPENSSL_free(best->der);
	memset(best, 0, sizeof(*best));
	best->generation = g;
	return best;
}

/* A kept CRL is good while no revocation was added since (the store's
 * mark) and less than half its validity has passed. */
static int
crl_fresh(const struct pkid_app *app, const struct pkid_app_crl *c,
    int64_t mark, int64_t now)
{
	return c->der != NULL && c->mark == mark &&
	    now - c->made < app->ca->cfg.crl_next_update / 2;
}

/* Make generation g's CRL (outside crl_mu: signing takes time) and keep
 * it, unless a fresh one is kept already; g < 0 is root generation -g. */
static enum pkid_code
crl_make(struct pkid_app *app, int g, struct pkid_err *e)
{
	struct pkid_app_crl *c;
	X509_CRL *crl = NULL;
	unsigned char *der = NULL;
	int64_t now = (int64_t)pkid_now(), mark = 0, gen_id = 0;
	int len;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_store_revoked_mark(app->ca->store, &mark, e));
	pthread_mutex_lock(&app->crl_mu);
	c = crl_slot(app, g);
	if (crl_fresh(app, c, mark, now)) {
		pthread_mutex_unlock(&app->crl_mu);
		return PKID_OK;
	}
	pthread_mutex_unlock(&app->crl_mu);
	if (g > 0)
		PKID_TRY(pkid_ca_crl_gen(app->ca, g, &crl, &gen_id, e));
	else
		PKID_TRY(pkid_ca_crl_root(app->ca, -g, &crl, &gen_id, e));
	PKID_CHECK((len = i2d_X509_CRL(crl, &der)) > 0, PKID_E_CRYPTO,
	    "encoding the CRL");
	pthread_mutex_lock(&app->crl_mu);
	c = crl_slot(app, g);
	OPENSSL_free(c->der);
	c->der = der;
	der = NULL;
	c->len = (size_t)len;
	c->made = now;
	c->mark = mark;
	c->gen_id = gen_id;
	pthread_mutex_unlock(&app->crl_mu);
	pkid_log(PKID_LOG_INFO, "crl ca=%s %s=%d bytes=%d",
	    app->ca->cfg.ca_name, g > 0 ? "generation" : "root_generation",
	    g > 0 ? g : -g, len);
	rc = PKID_OK;
out:
	OPENSSL_free(der);
	X509_CRL_free(crl);
	return rc;
}

void
pkid_app_tick(struct pkid_app *app)
{
	struct pkid_err e;

	/* The current generation's CRL is made here, off the request path,
	 * when revocations changed or it ages (issue 12: flat cost). */
	pkid_err_clear(&e);
	if (crl_make(app, app->ca->generation, &e) != PKID_OK)
		pkid_log_err(PKID_LOG_ERROR, &e, "crl");
	if (app->ocsp != NULL)
		pkid_ocsp_tick(app->ocsp);
}

static void
crl_handler(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	struct pkid_app *app = ctx;
	struct pkid_app_crl *c;
	struct pkid_err e;
	int root, g;

	pkid_err_clear(&e);
	/* "/crl/NAME.crl" is generation 1 (a URL in a certificate keeps
	 * naming its issuer's CRL), "/crl/NAME-N.crl" generation N,
	 * "/crl/NAME-root[-N].crl" the root's. */
	if (!pkid_ca_pub_path(app->ca->cfg.ca_name, req->path, "/crl/",
	    ".crl", &root, &g)) {
		PKID_ERR(&e, PKID_E_NOT_FOUND, "no CRL at %s; this server "
		    "publishes /crl/%s.crl (generation 1), /crl/%s-N.crl "
		    "(generation N, now %d) and /crl/%s-root.crl (the root's)",
		    req->path, app->ca->cfg.ca_name, app->ca->cfg.ca_name,
		    app->ca->generation, app->ca->cfg.ca_name);
		pkid_http_resp_error(resp, 404, &e);
		return;
	}
	if (root)
		g = -g;
	/* Served as kept; made here only when none is (a generation asked
	 * for the first time, or before the first tick). */
	if (crl_make(app, g, &e) != PKID_OK) {
		if (e.code != PKID_E_NOT_FOUND)
			pkid_log_err(PKID_LOG_ERROR, &e, "crl");
		pkid_http_resp_error(resp, e.code == PKID_E_NOT_FOUND ? 404 :
		    500, &e);
		return;
	}
	pthread_mutex_lock(&app->crl_mu);
	c = crl_slot(app, g);
	if (c->der == NULL) {
		/* Pushed out by other generations meanwhile: rare. */
		pthread_mutex_unlock(&app->crl_mu);
		PKID_ERR(&e, PKID_E_RATE_LIMITED, "the CRL of %sgeneration %d "
		    "is being made; retry in a second", g < 0 ? "root " : "",
		    g < 0 ? -g : g);
		pkid_http_resp_error(resp, 503, &e);
		pkid_http_resp_header(resp, "Retry-After", "1");
		return;
	}
	(void)pkid_buf_append(&resp->body, c->der, c->len, &e);
	pthread_mutex_unlock(&app->crl_mu);
	snprintf(resp->content_type, sizeof(resp->content_type),
	    "application/pkix-crl");
}

/* /ca/NAME[-root][-N].cer: a CA certificate, DER (RFC 5280 4.2.2.1, RFC
 * 2585 application/pkix-cert), for AIA caIssuers. */
static void
cacert_handler(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	struct pkid_app *app = ctx;
	struct pkid_err e;
	unsigned char *der = NULL;
	size_t len = 0;
	int root, g;

	pkid_err_clear(&e);
	if (!pkid_ca_pub_path(app->ca->cfg.ca_name, req->path, "/ca/",
	    ".cer", &root, &g)) {
		PKID_ERR(&e, PKID_E_NOT_FOUND, "no CA certificate at %s; this "
		    "server publishes /ca/%s.cer (issuing CA, generation 1), "
		    "/ca/%s-N.cer (generation N, now %d) and /ca/%s-root.cer",
		    req->path, app->ca->cfg.ca_name, app->ca->cfg.ca_name,
		    app->ca->generation, app->ca->cfg.ca_name);
		pkid_http_resp_error(resp, 404, &e);
		return;
	}
	if (pkid_ca_gen_der(app->ca, root, g, &der, &len, &e) != PKID_OK) {
		if (e.code != PKID_E_NOT_FOUND)
			pkid_log_err(PKID_LOG_ERROR, &e, "ca certificate");
		pkid_http_resp_error(resp, e.code == PKID_E_NOT_FOUND ? 404 :
		    500, &e);
		return;
	}
	(void)pkid_buf_append(&resp->body, der, len, &e);
	OPENSSL_free(der);
	snprintf(resp->content_type, sizeof(resp->content_type),
	    "application/pkix-cert");
}

enum pkid_code
pkid_app_routes(struct pkid_app *app, struct pkid_router *r,
    struct pkid_err *e)
{
	enum pkid_code rc;

	if ((rc = pkid_router_add(r, "/healthz", 0, PKID_HTTP_GET |
	    PKID_HTTP_HEAD, healthz, app, e)) != PKID_OK ||
	    (rc = pkid_app_status_routes(app, r, e)) != PKID_OK)
		return rc;
	if (app->est == NULL && (app->est = pkid_est_new(app->ca, e)) == NULL)
		return e->code;
	if ((rc = pkid_est_routes(app->est, r, e)) != PKID_OK)
		return rc;
	if ((app->scep == NULL && (rc = pkid_scep_new(app->ca, &app->scep,
	    e)) != PKID_OK) || (rc = pkid_scep_routes(app->scep, r, e)) !=
	    PKID_OK)
		return rc;
	if ((rc = pkid_router_add(r, "/ca/", 1, PKID_HTTP_GET |
	    PKID_HTTP_HEAD, cacert_handler, app, e)) != PKID_OK)
		return rc;
	if ((rc = pkid_router_add(r, "/crl/", 1, PKID_HTTP_GET |
	    PKID_HTTP_HEAD, crl_handler, app, e)) != PKID_OK)
		return rc;
	if ((rc = pkid_app_ocsp_routes(app, r, e)) != PKID_OK)
		return rc;
	if (app->ca->cfg.acme_profiles[0] != '\0') {
		if (app->acme == NULL && (app->acme = pkid_acme_new(app->ca,
		    e)) == NULL)
			return e->code;
		if ((rc = pkid_acme_routes(app->acme, r, e)) != PKID_OK)
			return rc;
	}
	return pkid_app_bundle_routes(app, r, e);
}
