/*
 * app.c - /healthz and /crl/<name>.crl.
 */
#include "server/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "core/clock.h"
#include "core/log.h"
#include "est/est.h"
#include "scep/scep.h"

enum pkid_code
pkid_app_init(struct pkid_app *app, struct pkid_ca *ca, struct pkid_err *e)
{
	(void)e;
	memset(app, 0, sizeof(*app));
	app->ca = ca;
	app->started = (int64_t)pkid_now();
	pthread_mutex_init(&app->crl_mu, NULL);
	return PKID_OK;
}

void
pkid_app_free(struct pkid_app *app)
{
	if (app == NULL)
		return;
	pthread_mutex_destroy(&app->crl_mu);
	pkid_est_free(app->est);
	app->est = NULL;
	pkid_scep_free(app->scep);
	app->scep = NULL;
	OPENSSL_free(app->crl_der);
	app->crl_der = NULL;
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
	int64_t n = 0;

	(void)req;
	pkid_err_clear(&e);
	/* Healthy means certificates can be issued: the last write was made
	 * durable (not "database or disk is full"), and the store answers. */
	pkid_store_health(app->ca->store, &e);
	if (e.code != PKID_OK) {
		degraded(app, resp, &e);
		return;
	}
	if (pkid_store_cert_count(app->ca->store, &n, &e) != PKID_OK) {
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

/* Remake the cached CRL when a revocation was added or half its
 * validity has passed. Caller holds crl_mu. */
static enum pkid_code
crl_refresh(struct pkid_app *app, struct pkid_err *e)
{
	X509_CRL *crl = NULL;
	unsigned char *der = NULL;
	int64_t now = (int64_t)pkid_now(), revoked = 0;
	int len;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_store_revoked_count(app->ca->store,
	    app->ca->issuing_gen, &revoked, e));
	if (app->crl_der != NULL && revoked == app->crl_revoked &&
	    now - app->crl_made < app->ca->cfg.crl_next_update / 2)
		return PKID_OK;
	PKID_TRY(pkid_ca_crl(app->ca, &crl, e));
	PKID_CHECK((len = i2d_X509_CRL(crl, &der)) > 0, PKID_E_CRYPTO,
	    "encoding the CRL");
	OPENSSL_free(app->crl_der);
	app->crl_der = der;
	app->crl_len = (size_t)len;
	app->crl_made = now;
	app->crl_revoked = revoked;
	pkid_log(PKID_LOG_INFO, "crl ca=%s revoked=%lld bytes=%d",
	    app->ca->cfg.ca_name, (long long)revoked, len);
	rc = PKID_OK;
out:
	X509_CRL_free(crl);
	return rc;
}

static void
crl_handler(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	struct pkid_app *app = ctx;
	struct pkid_err e;
	char want[128];

	pkid_err_clear(&e);
	snprintf(want, sizeof(want), "/crl/%s.crl", app->ca->cfg.ca_name);
	if (strcmp(req->path, want) != 0) {
		PKID_ERR(&e, PKID_E_NOT_FOUND, "no CRL at %s; this server "
		    "publishes %s", req->path, want);
		pkid_http_resp_error(resp, 404, &e);
		return;
	}
	pthread_mutex_lock(&app->crl_mu);
	if (crl_refresh(app, &e) != PKID_OK) {
		pthread_mutex_unlock(&app->crl_mu);
		pkid_log_err(PKID_LOG_ERROR, &e, "crl");
		pkid_http_resp_error(resp, 500, &e);
		return;
	}
	(void)pkid_buf_append(&resp->body, app->crl_der, app->crl_len, &e);
	pthread_mutex_unlock(&app->crl_mu);
	snprintf(resp->content_type, sizeof(resp->content_type),
	    "application/pkix-crl");
}

enum pkid_code
pkid_app_routes(struct pkid_app *app, struct pkid_router *r,
    struct pkid_err *e)
{
	enum pkid_code rc;

	if ((rc = pkid_router_add(r, "/healthz", 0, PKID_HTTP_GET |
	    PKID_HTTP_HEAD, healthz, app, e)) != PKID_OK)
		return rc;
	if (app->est == NULL && (app->est = pkid_est_new(app->ca, e)) == NULL)
		return e->code;
	if ((rc = pkid_est_routes(app->est, r, e)) != PKID_OK)
		return rc;
	if ((app->scep == NULL && (rc = pkid_scep_new(app->ca, &app->scep,
	    e)) != PKID_OK) || (rc = pkid_scep_routes(app->scep, r, e)) !=
	    PKID_OK)
		return rc;
	return pkid_router_add(r, "/crl/", 1, PKID_HTTP_GET | PKID_HTTP_HEAD,
	    crl_handler, app, e);
}
