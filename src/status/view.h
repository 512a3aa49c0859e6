/*
 * view.h - everything the status page, its JSON and /metrics show, taken
 * at once by the server (src/server/status.c: counters, the CA in
 * memory, a few bounded store queries) and rendered here as HTML
 * (html.c), JSON (json.c) or Prometheus text (metrics.c): structs in,
 * text out, so each renderer is tested without a server.
 */
#ifndef PKID_STATUS_VIEW_H
#define PKID_STATUS_VIEW_H

#include <stdint.h>

#include "ca/ca.h"
#include "ca/rollover.h"
#include "core/buf.h"
#include "core/limits.h"
#include "http/http.h"
#include "status/status.h"

/* One CA certificate of the store's generations. */
struct pkid_status_gen {
	int generation;		/* 1, 2, ... */
	char role[16];		/* root, issuing, ... */
	char state[16];		/* current, shadow, retired */
	char subject[256];	/* subject DN */
	int64_t not_before;	/* validity, epoch s */
	int64_t not_after;
	int64_t activate_at;	/* a shadow's activation, 0 otherwise */
};

/* A certificate that expires soon. */
struct pkid_status_cert {
	char serial[48];	/* hex */
	char subject[256];	/* subject DN */
	char profile[64];	/* profile */
	int64_t not_after;	/* expiry, epoch s */
};

/* A request waiting for approval. */
struct pkid_status_pending {
	int64_t id;		/* request id (pkictl ca approve ID) */
	char kind[8];		/* est, scep */
	char subject[256];	/* the CSR's subject */
	char profile[64];	/* profile */
	char requester[128];	/* who asked */
	int64_t created_at;	/* when */
};

struct pkid_status_view {
	char ca_name[64];		/* [ca] name */
	char version[32];		/* pkid version */
	int64_t now;			/* when taken */
	int64_t started;		/* process start */
	int healthy;			/* 1: writes are durable */
	enum pkid_code health_code;	/* else why not */
	char health_msg[256];		/* its message */
	int generation;			/* signing generation now */
	int n_gens;			/* rows in gens */
	struct pkid_status_gen gens[PKID_STATUS_MAX_GENS];
	int plan_ok;			/* plan holds the signing CA's dates */
	struct pkid_rollover_plan plan;	/* rollover.h */
	int64_t cur_nb, cur_na;		/* the signing CA's validity */
	int has_shadow;			/* a next generation exists */
	int64_t shadow_nb;		/* its notBefore (made) */
	int64_t activate_at;		/* when it takes over (or planned) */
	const char *plan_svg;		/* the rollover picture of pkictl ca
					 * plan (src/ca/plan_svg.c), or NULL:
					 * the validity bars are drawn */
	struct pkid_buf plan_buf;	/* owns plan_svg */
	int64_t certs_total;		/* certificates ever issued */
	int64_t revoked_total;		/* revocations ever made */
	int64_t expiring_count;		/* expiring in the window (capped at
					 * PKID_STATUS_COUNT_MAX) */
	int n_expiring;			/* rows in expiring */
	struct pkid_status_cert expiring[PKID_STATUS_LIST_MAX];
	int64_t pending_count;		/* waiting for approval (capped) */
	int n_pending;			/* rows in pending */
	struct pkid_status_pending pending[PKID_STATUS_LIST_MAX];
	char trust_serial[64];		/* trust bundle serial, "" none */
	struct pkid_server_stats srv;	/* connections and limits */
	int n_warn;			/* rows in warn (may exceed 32) */
	struct pkid_warning warn[32];	/* settings weakening security */
	int ra_mode;			/* some label forwards upstream */
	char docs_url[256];		/* error page base, "" = /errors/ */
	struct pkid_status_snap *snap;	/* counters (owned) */
};

/* The page: one HTML document, inline CSS and SVG, no external asset. */
enum pkid_code pkid_status_html(const struct pkid_status_view *v,
    struct pkid_buf *out, struct pkid_err *e);
/* The same data as one JSON object. */
enum pkid_code pkid_status_json(const struct pkid_status_view *v,
    struct pkid_buf *out, struct pkid_err *e);
/* Prometheus text exposition format 0.0.4. */
enum pkid_code pkid_status_metrics(const struct pkid_status_view *v,
    struct pkid_buf *out, struct pkid_err *e);
/* The catalogue page of one code (/errors/CODE), as HTML. */
enum pkid_code pkid_status_error_page(const struct pkid_errinfo *ei,
    struct pkid_buf *out, struct pkid_err *e);
/* Append s to out with HTML's special characters escaped. */
enum pkid_code pkid_status_html_esc(struct pkid_buf *out, const char *s,
    struct pkid_err *e);

#endif
