/*
 * est.h - pkid's EST server (RFC 7030, RFC 8951) under /.well-known/est/
 * and /.well-known/est/<label>/: cacerts, simpleenroll, simplereenroll,
 * csrattrs, serverkeygen (fullcmc answers 501).
 *
 * The handlers receive parsed requests (http/http.h) and fill responses;
 * they never see libevent. Labels, profiles and authentication come from
 * the [est] and [est LABEL] sections of pkid.conf.
 */
#ifndef PKID_EST_EST_H
#define PKID_EST_EST_H

#include "ca/ca.h"
#include "core/err.h"
#include "http/http.h"

struct pkid_est;

/*
 * EST state for ca (borrowed; must outlive the result): per-label
 * profiles, trust stores for client certificates, cached cacerts and
 * csrattrs responses, the password cache, the login throttle and the
 * dummy hash for unknown users. Errors: profile-unknown or
 * config-bad-value naming the label, io-open for a label's client_ca.
 */
struct pkid_est *pkid_est_new(struct pkid_ca *ca, struct pkid_err *e);
void pkid_est_free(struct pkid_est *est);

/*
 * The port of the HTTPS listener, for the URL an EST request on plain
 * HTTP is sent to (https-required). Call before the server runs.
 */
void pkid_est_set_https_port(struct pkid_est *est, int port);

/* Register /.well-known/est/ on r (handlers are thread-safe). */
enum pkid_code pkid_est_routes(struct pkid_est *est, struct pkid_router *r,
    struct pkid_err *e);

/* Answer one request below /.well-known/est/ (what the route calls). */
void pkid_est_handle(void *est, const struct pkid_http_req *req,
    struct pkid_http_resp *resp);

/*
 * Check HTTP Basic credentials authz (the Authorization header) of a
 * client at addr against the EST users (pkictl est user add), with the
 * EST throttle and credential cache: the status page's Basic auth. user
 * receives the name (len bytes). Errors: auth-required (no header),
 * auth-failed, auth-throttled, the store's.
 */
enum pkid_code pkid_est_user_auth(struct pkid_est *est, const char *authz,
    const char *addr, char *user, size_t len, struct pkid_err *e);

/*
 * Write the PEM of every issuer a client certificate may come from (this
 * CA's chain, each label's client_ca, each RA label's upstream_cacert,
 * [server] client_ca) to path, for
 * the TLS server to ask for client certificates (RFC 7030 3.3.2).
 */
enum pkid_code pkid_est_write_client_ca(struct pkid_ca *ca, const char *path,
    struct pkid_err *e);

#endif
