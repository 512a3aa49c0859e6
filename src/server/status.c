/*
 * status.c - pkid's status page (/), /metrics and the error pages
 * (/errors/CODE): who may see them ([status]), and the view they show,
 * taken from the process-wide counters (status/status.h), the CA in
 * memory and a few bounded, indexed store queries: the cost of a page
 * does not grow with the store (DESIGN.md "src/status").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "ca/ca_int.h"
#include "ca/plan.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/trace.h"
#include "est/est.h"
#include "http/query.h"
#include "server/app.h"
#include "status/view.h"
#include "x509/load.h"

enum pkid_code
pkid_app_status_init(struct pkid_app *app, struct pkid_err *e)
{
	const char *f = app->ca->cfg.status_client_ca;
	STACK_OF(X509) *certs = NULL;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (f[0] == '\0')
		return PKID_OK;
	PKID_TRY(pkid_x509_load_certs_file(f, &certs, e));
	PKID_OSSL_PTR(app->status_ca = X509_STORE_new(), PKID_E_NOMEM,
	    "no memory");
	for (i = 0; i < sk_X509_num(certs); i++)
		PKID_OSSL(X509_STORE_add_cert(app->status_ca,
		    sk_X509_value(certs, i)), PKID_E_CRYPTO, "adding %s "
		    "certificate %d to a store", f, i);
	rc = PKID_OK;
out:
	if (rc != PKID_OK)
		pkid_err_ctx(e, "loading [status] client_ca");
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

/* The client certificate chains to [status] client_ca. */
static enum pkid_code
check_cert(struct pkid_app *app, const struct pkid_http_req *req,
    struct pkid_err *e)
{
	X509_STORE_CTX *ctx = NULL;
	int ok;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(req->peer_cert != NULL, PKID_E_AUTH_REQUIRED, "the status "
	    "page wants a TLS client certificate from [status] client_ca");
	PKID_OSSL_PTR(ctx = X509_STORE_CTX_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_STORE_CTX_init(ctx, app->status_ca, req->peer_cert,
	    req->peer_chain), PKID_E_CRYPTO, "X509_STORE_CTX_init");
	X509_STORE_CTX_set_time(ctx, 0, pkid_now());
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	ok = X509_verify_cert(ctx);
	PKID_CHECK(ok == 1, PKID_E_FORBIDDEN, "the client certificate does "
	    "not chain to [status] client_ca: %s",
	    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	rc = PKID_OK;
out:
	X509_STORE_CTX_free(ctx);
	return rc;
}

/* user is one of the comma-separated names of list. */
static int
listed(const char *list, const char *user)
{
	size_t n = strlen(user);
	const char *p = list;

	while (*p != '\0') {
		p += strspn(p, ", ");
		if (strncmp(p, user, n) == 0 && (p[n] == '\0' || p[n] == ',' ||
		    p[n] == ' '))
			return 1;
		p += strcspn(p, ", ");
	}
	return 0;
}

/*
 * [status]: the listener, the client's address, then a client
 * certificate from client_ca and an EST user of users when they are set.
 * Fills resp with the refusal and returns 0 when it is refused.
 */
static int
allowed(struct pkid_app *app, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	const struct pkid_config *c = &app->ca->cfg;
	char user[PKID_MAX_EST_USER + 1];
	struct pkid_err e;
	int status = 403;

	pkid_err_clear(&e);
	if (!req->tls && (!c->status_http || c->status_users[0] != '\0')) {
		PKID_ERR(&e, PKID_E_HTTPS_REQUIRED, "the status page and "
		    "/metrics are served over HTTPS%s", c->status_users[0] ?
		    " ([status] users sends a password)" : " ([status] http = "
		    "on serves them on the plain listener too)");
	} else if (!pkid_config_addr_in(c->status_allow, c->n_status_allow,
	    req->client_addr)) {
		PKID_ERR(&e, PKID_E_FORBIDDEN, "client %s is not in [status] "
		    "allow", req->client_addr);
	} else if (app->status_ca != NULL && check_cert(app, req, &e) !=
	    PKID_OK) {
		status = 403;
	} else if (c->status_users[0] != '\0') {
		if (app->est == NULL || pkid_est_user_auth(app->est,
		    pkid_http_req_header(req, "Authorization"),
		    req->client_addr, user, sizeof(user), &e) != PKID_OK) {
			status = e.code == PKID_E_AUTH_THROTTLED ? 429 : 401;
		} else if (!listed(c->status_users, user)) {
			PKID_ERR(&e, PKID_E_FORBIDDEN, "user '%s' is not in "
			    "[status] users", user);
		} else {
			pkid_trace_user(user);
			return 1;
		}
	} else {
		return 1;
	}
	if (e.code == PKID_E_AUTH_REQUIRED || e.code == PKID_E_AUTH_FAILED)
		status = 401;
	pkid_http_resp_error(resp, status, &e);
	if (status == 401)
		pkid_http_resp_header(resp, "WWW-Authenticate",
		    "Basic realm=\"pkid status\"");
	if (status == 429)
		pkid_http_resp_header(resp, "Retry-After", "1");
	return 0;
}

/* Copy the CA generation rows; the newest PKID_STATUS_MAX_GENS stay. */
static enum pkid_code
gen_copy(const struct pkid_ca_gen *g, void *arg, struct pkid_err *e)
{
	struct pkid_status_view *v = arg;
	struct pkid_status_gen *x;

	(void)e;
	if (v->n_gens == PKID_STATUS_MAX_GENS) {
		memmove(&v->gens[0], &v->gens[1], sizeof(v->gens[0]) *
		    (PKID_STATUS_MAX_GENS - 1));
		v->n_gens--;
	}
	x = &v->gens[v->n_gens++];
	x->generation = g->generation;
	snprintf(x->role, sizeof(x->role), "%s", g->role);
	snprintf(x->state, sizeof(x->state), "%s", g->state);
	snprintf(x->subject, sizeof(x->subject), "%.255s", g->subject);
	x->not_before = g->not_before;
	x->not_after = g->not_after;
	x->activate_at = g->activate_at;
	return PKID_OK;
}

static enum pkid_code
exp_copy(const struct pkid_cert_rec *r, void *arg, struct pkid_err *e)
{
	struct pkid_status_view *v = arg;
	struct pkid_status_cert *x = &v->expiring[v->n_expiring];

	(void)e;
	if (v->n_expiring >= PKID_STATUS_LIST_MAX)
		return PKID_OK;
	snprintf(x->serial, sizeof(x->serial), "%s", r->serial);
	snprintf(x->subject, sizeof(x->subject), "%s", r->subject);
	snprintf(x->profile, sizeof(x->profile), "%s", r->profile);
	x->not_after = r->not_after;
	v->n_expiring++;
	return PKID_OK;
}

static enum pkid_code
pend_copy(const struct pkid_request *r, void *arg, struct pkid_err *e)
{
	struct pkid_status_view *v = arg;
	struct pkid_status_pending *x = &v->pending[v->n_pending];
	const unsigned char *p = r->csr_der;
	X509_REQ *csr = NULL;

	(void)e;
	if (v->n_pending >= PKID_STATUS_LIST_MAX)
		return PKID_OK;
	x->id = r->id;
	snprintf(x->kind, sizeof(x->kind), "%s", r->kind);
	snprintf(x->profile, sizeof(x->profile), "%s", r->profile);
	snprintf(x->requester, sizeof(x->requester), "%s", r->requester);
	x->created_at = r->created_at;
	snprintf(x->subject, sizeof(x->subject), "?");
	if (p != NULL && (csr = d2i_X509_REQ(NULL, &p, (long)r->csr_len)) !=
	    NULL)
		pkid_x509_name_text(X509_REQ_get_subject_name(csr), x->subject,
		    sizeof(x->subject));
	X509_REQ_free(csr);
	v->n_pending++;
	return PKID_OK;
}

/* The rollover's dates and the CA generations. */
static void
ca_view(struct pkid_app *app, struct pkid_status_view *v)
{
	struct pkid_ca *ca = app->ca;
	struct pkid_err e;

	pkid_err_clear(&e);
	v->generation = ca->generation;
	v->cur_nb = pkid_ca_cert_nb(ca->issuing);
	v->cur_na = pkid_ca_cert_na(ca->issuing);
	(void)pkid_store_ca_gen_list(ca->store, ca->cfg.ca_name, gen_copy, v,
	    &e);
	pkid_err_clear(&e);
	v->plan_ok = pkid_ca_check_plan(ca, &v->plan, &e) == PKID_OK ||
	    v->plan.not_after > 0;
	v->has_shadow = ca->next != NULL;
	if (v->has_shadow)
		v->shadow_nb = pkid_ca_cert_nb(ca->next);
	v->activate_at = v->has_shadow && ca->next_activate > 0 ?
	    ca->next_activate : v->plan.activate_at;
	if (app->bundle.der != NULL)
		snprintf(v->trust_serial, sizeof(v->trust_serial), "%lld",
		    (long long)app->bundle.serial);
}

/* The rollover picture pkictl ca plan draws; without it (an error, a
 * store read failing) the page draws the generations' validity. */
static void
plan_picture(struct pkid_app *app, struct pkid_status_view *v)
{
	struct pkid_plan_view *pv = calloc(1, sizeof(*pv));
	struct pkid_err e;

	pkid_err_clear(&e);
	pkid_buf_init(&v->plan_buf, PKID_STATUS_MAX_BODY);
	if (pv != NULL && pkid_ca_plan_view(app->ca, pv, &e) == PKID_OK &&
	    pkid_plan_svg(pv, &v->plan_buf, &e) == PKID_OK &&
	    v->plan_buf.len > 0)
		v->plan_svg = (const char *)v->plan_buf.p;
	free(pv);
}

/* Everything the page shows; v->snap and v->plan_buf are the caller's
 * to free. */
static enum pkid_code
gather(struct pkid_app *app, struct pkid_status_view *v, int picture,
    struct pkid_err *e)
{
	struct pkid_ca *ca = app->ca;
	struct pkid_err he;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(v, 0, sizeof(*v));
	PKID_OSSL_PTR(v->snap = pkid_status_snap(app->status), PKID_E_NOMEM,
	    "no memory for the status snapshot");
	snprintf(v->ca_name, sizeof(v->ca_name), "%s", ca->cfg.ca_name);
	snprintf(v->version, sizeof(v->version), "%s", PKID_VERSION);
	v->now = v->snap->now;
	v->started = v->snap->started;
	pkid_err_clear(&he);
	pkid_store_health(ca->store, &he);
	v->healthy = he.code == PKID_OK;
	v->health_code = he.code;
	pkid_err_message(&he, v->health_msg, sizeof(v->health_msg));
	ca_view(app, v);
	if (picture)
		plan_picture(app, v);
	PKID_TRY(pkid_store_totals(ca->store, &v->certs_total,
	    &v->revoked_total, e));
	PKID_TRY(pkid_store_cert_expiring(ca->store, v->now, v->now +
	    PKID_STATUS_EXPIRY_WINDOW_S, PKID_STATUS_LIST_MAX,
	    PKID_STATUS_COUNT_MAX, exp_copy, v, &v->expiring_count, e));
	PKID_TRY(pkid_store_request_recent(ca->store, "pending",
	    PKID_STATUS_LIST_MAX, PKID_STATUS_COUNT_MAX, pend_copy, v,
	    &v->pending_count, e));
	pkid_server_stats(app->srv, &v->srv);
	v->n_warn = pkid_ca_warnings(ca, v->warn, 32);
	for (i = 0; i < ca->cfg.n_est; i++)
		v->ra_mode |= ca->cfg.est[i].upstream[0] != '\0';
	snprintf(v->docs_url, sizeof(v->docs_url), "%s",
	    ca->cfg.status_docs_url);
	rc = PKID_OK;
out:
	return rc;
}

/* Render v with fn into resp as content type ct. */
static void
answer(struct pkid_app *app, struct pkid_http_resp *resp, const char *ct,
    enum pkid_code (*fn)(const struct pkid_status_view *,
    struct pkid_buf *, struct pkid_err *))
{
	struct pkid_status_view *v = calloc(1, sizeof(*v));
	struct pkid_buf b;
	struct pkid_err e;

	pkid_err_clear(&e);
	pkid_buf_init(&b, 1);
	if (v == NULL)
		PKID_ERR(&e, PKID_E_NOMEM, "no memory for the status view");
	if (e.code != PKID_OK || gather(app, v, fn == pkid_status_html, &e) !=
	    PKID_OK ||
	    fn(v, &b, &e) != PKID_OK) {
		pkid_log_err(PKID_LOG_ERROR, &e, "status");
		pkid_http_resp_error(resp, 500, &e);
	} else {
		pkid_buf_free(&resp->body);
		resp->body = b;
		pkid_buf_init(&b, 1);
		snprintf(resp->content_type, sizeof(resp->content_type), "%s",
		    ct);
		pkid_http_resp_header(resp, "Cache-Control", "no-store");
	}
	pkid_buf_free(&b);
	if (v != NULL) {
		pkid_status_snap_free(v->snap);
		pkid_buf_free(&v->plan_buf);
	}
	free(v);
}

static void
page(void *ctx, const struct pkid_http_req *req, struct pkid_http_resp *resp)
{
	struct pkid_app *app = ctx;
	struct pkid_err e;
	char *fmt = NULL;

	if (!allowed(app, req, resp))
		return;
	pkid_err_clear(&e);
	(void)pkid_http_query_get(req->query, "format", 16, &fmt, &e);
	if (fmt != NULL && strcmp(fmt, "json") == 0)
		answer(app, resp, "application/json", pkid_status_json);
	else
		answer(app, resp, "text/html; charset=utf-8", pkid_status_html);
	free(fmt);
}

static void
metrics(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	struct pkid_app *app = ctx;

	if (!allowed(app, req, resp))
		return;
	answer(app, resp, "text/plain; version=0.0.4; charset=utf-8",
	    pkid_status_metrics);
}

static void
error_page(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	struct pkid_app *app = ctx;
	const struct pkid_errinfo *ei;
	struct pkid_buf b;
	struct pkid_err e;

	if (!allowed(app, req, resp))
		return;
	pkid_err_clear(&e);
	ei = pkid_err_byid(req->path + strlen("/errors/"));
	if (ei == NULL) {
		PKID_ERR(&e, PKID_E_NOT_FOUND, "no error code '%.64s' "
		    "(pkictl explain --list)", req->path + strlen("/errors/"));
		pkid_http_resp_error(resp, 404, &e);
		return;
	}
	if (pkid_status_error_page(ei, &b, &e) != PKID_OK) {
		pkid_http_resp_error(resp, 500, &e);
		pkid_buf_free(&b);
		return;
	}
	pkid_buf_free(&resp->body);
	resp->body = b;
	snprintf(resp->content_type, sizeof(resp->content_type),
	    "text/html; charset=utf-8");
}

enum pkid_code
pkid_app_status_routes(struct pkid_app *app, struct pkid_router *r,
    struct pkid_err *e)
{
	/* Off the event loop: store queries, rendering, a password KDF. */
	unsigned m = PKID_HTTP_GET | PKID_HTTP_HEAD | PKID_ROUTE_OFFLOAD;
	enum pkid_code rc;

	if (app->status == NULL)
		return PKID_OK;
	if ((rc = pkid_router_add(r, "/", 0, m, page, app, e)) != PKID_OK ||
	    (rc = pkid_router_add(r, "/metrics", 0, m, metrics, app, e)) !=
	    PKID_OK)
		return rc;
	return pkid_router_add(r, "/errors/", 1, m, error_page, app, e);
}
