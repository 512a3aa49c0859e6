/*
 * metrics.c - /metrics in the Prometheus text exposition format 0.0.4:
 * "# HELP", "# TYPE", then one "name{label="value"} number" per series;
 * histograms as cumulative _bucket{le=..} series with _sum and _count.
 */
#include <stdio.h>
#include <string.h>

#include "status/view.h"

/* A label value: backslash, double quote and line feed escaped. */
static const char *
lv(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			out[o++] = '\\';
			out[o++] = *s;
		} else if (*s == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
	return out;
}

static enum pkid_code
head(struct pkid_buf *b, const char *name, const char *type,
    const char *help, struct pkid_err *e)
{
	return pkid_buf_printf(b, e, "# HELP %s %s\n# TYPE %s %s\n", name,
	    help, name, type);
}

/* One histogram series: buckets cumulative, bounds in seconds. */
static enum pkid_code
hist(struct pkid_buf *b, const char *name, const char *labels,
    const struct pkid_status_hist *h, const double *bounds,
    struct pkid_err *e)
{
	uint64_t cum = 0;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	for (i = 0; i < PKID_STATUS_BUCKETS; i++) {
		cum += h->b[i];
		if (i < PKID_STATUS_BUCKETS - 1)
			PKID_TRY(pkid_buf_printf(b, e, "%s_bucket{%s%sle=\"%g\"} "
			    "%llu\n", name, labels, labels[0] ? "," : "",
			    bounds[i], (unsigned long long)cum));
		else
			PKID_TRY(pkid_buf_printf(b, e, "%s_bucket{%s%sle=\"+Inf\"}"
			    " %llu\n", name, labels, labels[0] ? "," : "",
			    (unsigned long long)cum));
	}
	PKID_TRY(pkid_buf_printf(b, e, "%s_sum%s%s%s %.6f\n%s_count%s%s%s "
	    "%llu\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
	    (double)h->sum_us / 1e6, name, labels[0] ? "{" : "", labels,
	    labels[0] ? "}" : "", (unsigned long long)h->count));
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
requests(const struct pkid_status_view *v, struct pkid_buf *b,
    struct pkid_err *e)
{
	const struct pkid_status_snap *s = v->snap;
	char lab[64];
	int ep, c;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(head(b, "pkid_http_requests_total", "counter", "HTTP "
	    "requests answered, by endpoint and status", e));
	for (ep = 0; ep < PKID_EP_N; ep++)
		for (c = 0; c <= PKID_STATUS_HTTP_N; c++) {
			if (s->req[ep][c] == 0)
				continue;
			if (c < PKID_STATUS_HTTP_N)
				snprintf(lab, sizeof(lab), "%d",
				    pkid_status_http_code(c));
			else
				snprintf(lab, sizeof(lab), "other");
			PKID_TRY(pkid_buf_printf(b, e, "pkid_http_requests_total"
			    "{endpoint=\"%s\",status=\"%s\"} %llu\n",
			    pkid_status_ep_name(ep), lab,
			    (unsigned long long)s->req[ep][c]));
		}
	PKID_TRY(head(b, "pkid_request_duration_seconds", "histogram",
	    "time from a request's first byte to its answer, by operation",
	    e));
	for (c = 0; c < PKID_STATUS_OPS_N; c++) {
		if (s->lat[c].count == 0)
			continue;
		snprintf(lab, sizeof(lab), "operation=\"%s\"",
		    pkid_status_op_name(c));
		PKID_TRY(hist(b, "pkid_request_duration_seconds", lab,
		    &s->lat[c], pkid_status_req_bounds, e));
	}
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
enrollments(const struct pkid_status_view *v, struct pkid_buf *b,
    struct pkid_err *e)
{
	const struct pkid_status_snap *s = v->snap;
	char p[160];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(head(b, "pkid_enrollments_total", "counter", "enrollments "
	    "since start, by protocol, profile and result", e));
	for (i = 0; i < s->n_enroll; i++)
		PKID_TRY(pkid_buf_printf(b, e, "pkid_enrollments_total{protocol="
		    "\"%s\",profile=\"%s\",result=\"%s\"} %llu\n",
		    pkid_status_proto_name(s->enroll[i].proto),
		    lv(s->enroll[i].profile, p, sizeof(p)),
		    pkid_trace_result_name(s->enroll[i].result),
		    (unsigned long long)s->enroll[i].n));
	PKID_TRY(head(b, "pkid_errors_total", "counter", "failures since "
	    "start, by catalogue code (pkictl explain CODE)", e));
	for (i = 0; i < s->n_errs; i++)
		PKID_TRY(pkid_buf_printf(b, e, "pkid_errors_total{code=\"%s\"} "
		    "%llu\n", pkid_err_id(s->errs[i].code),
		    (unsigned long long)s->errs[i].count));
	PKID_TRY(head(b, "pkid_certificates_issued_total", "counter",
	    "certificates returned to clients since start", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_certificates_issued_total %llu\n",
	    (unsigned long long)s->issued));
	PKID_TRY(head(b, "pkid_certificates", "gauge", "certificates in the "
	    "store: ever issued, and revoked", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_certificates{state=\"issued\"} "
	    "%lld\npkid_certificates{state=\"revoked\"} %lld\n",
	    (long long)v->certs_total, (long long)v->revoked_total));
	PKID_TRY(head(b, "pkid_certificates_expiring", "gauge", "unrevoked "
	    "certificates expiring within 30 days (counted up to 1000)", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_certificates_expiring %lld\n",
	    (long long)v->expiring_count));
	PKID_TRY(head(b, "pkid_requests_pending", "gauge", "requests waiting "
	    "for approval (counted up to 1000)", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_requests_pending %lld\n",
	    (long long)v->pending_count));
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
server(const struct pkid_status_view *v, struct pkid_buf *b,
    struct pkid_err *e)
{
	const struct pkid_server_stats *s = &v->srv;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(head(b, "pkid_connections_open", "gauge", "connections open "
	    "now", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_connections_open %llu\n",
	    s->conns_open));
	PKID_TRY(head(b, "pkid_connections_max", "gauge", "[server] "
	    "max_conns", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_connections_max %ld\n",
	    s->max_conns));
	PKID_TRY(head(b, "pkid_connections_total", "counter", "connections "
	    "accepted", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_connections_total %llu\n",
	    s->conns_total));
	PKID_TRY(head(b, "pkid_http_503_limits_total", "counter", "503 "
	    "answers sent because a limit was reached (connections, rate, "
	    "queueing delay)", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_http_503_limits_total %llu\n",
	    s->rejected_503));
	PKID_TRY(head(b, "pkid_tls_handshake_failures_total", "counter",
	    "connections closed before their TLS handshake completed", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_tls_handshake_failures_total "
	    "%llu\n", s->tls_failures));
	PKID_TRY(head(b, "pkid_handler_queue", "gauge", "requests waiting for "
	    "a handler thread now", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_handler_queue %llu\n",
	    s->handler_queued));
	PKID_TRY(head(b, "pkid_handler_queue_max", "gauge", "requests that "
	    "may wait for a handler thread before 503", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_handler_queue_max %d\n",
	    s->handler_queue));
	PKID_TRY(head(b, "pkid_handler_queue_delay_max_seconds", "gauge",
	    "longest expected wait for a handler thread before 503 "
	    "overloaded (max_queue_delay; 0: no bound)", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_handler_queue_delay_max_seconds "
	    "%.3f\n", s->max_queue_delay_ms > 0 ?
	    (double)s->max_queue_delay_ms / 1000.0 : 0.0));
	PKID_TRY(head(b, "pkid_store_commit_duration_seconds", "histogram",
	    "durable store commits (BEGIN to COMMIT, fsync included)", e));
	PKID_TRY(hist(b, "pkid_store_commit_duration_seconds", "",
	    &v->snap->commit, pkid_status_commit_bounds, e));
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
ca(const struct pkid_status_view *v, struct pkid_buf *b, struct pkid_err *e)
{
	const struct pkid_status_snap *s = v->snap;
	char u[512];
	int i, j;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(head(b, "pkid_ca_expiry_seconds", "gauge", "seconds until a "
	    "CA certificate of each generation expires (negative: expired)",
	    e));
	for (i = 0; i < v->n_gens; i++)
		PKID_TRY(pkid_buf_printf(b, e, "pkid_ca_expiry_seconds{ca=\"%s\","
		    "role=\"%s\",generation=\"%d\",state=\"%s\"} %lld\n",
		    v->ca_name, v->gens[i].role, v->gens[i].generation,
		    v->gens[i].state, (long long)(v->gens[i].not_after -
		    v->now)));
	PKID_TRY(head(b, "pkid_ca_shadow", "gauge", "1 when the next CA "
	    "generation exists (published), else 0", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_ca_shadow{ca=\"%s\"} %d\n",
	    v->ca_name, v->has_shadow));
	PKID_TRY(head(b, "pkid_upstream_failures_total", "counter", "RA mode: "
	    "failed upstream calls, by upstream and code", e));
	for (i = 0; i < s->n_up; i++)
		for (j = 0; j < s->up[i].n_codes; j++)
			PKID_TRY(pkid_buf_printf(b, e,
			    "pkid_upstream_failures_total{upstream=\"%s\","
			    "code=\"%s\"} %llu\n", lv(s->up[i].url, u,
			    sizeof(u)), pkid_err_id(s->up[i].codes[j].code),
			    (unsigned long long)s->up[i].codes[j].n));
	PKID_TRY(head(b, "pkid_upstream_last_success_timestamp_seconds",
	    "gauge", "RA mode: when each upstream last answered", e));
	for (i = 0; i < s->n_up; i++)
		PKID_TRY(pkid_buf_printf(b, e, "pkid_upstream_last_success_"
		    "timestamp_seconds{upstream=\"%s\"} %lld\n",
		    lv(s->up[i].url, u, sizeof(u)),
		    (long long)s->up[i].last_ok));
	PKID_TRY(head(b, "pkid_security_warnings", "gauge", "settings in "
	    "force that weaken security (pkid --check)", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_security_warnings %d\n",
	    v->n_warn));
	PKID_TRY(head(b, "pkid_start_time_seconds", "gauge", "when pkid "
	    "started, epoch seconds", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_start_time_seconds %lld\n",
	    (long long)v->started));
	PKID_TRY(head(b, "pkid_build_info", "gauge", "pkid's version", e));
	PKID_TRY(pkid_buf_printf(b, e, "pkid_build_info{version=\"%s\"} 1\n",
	    v->version));
	rc = PKID_OK;
out:
	return rc;
}

enum pkid_code
pkid_status_metrics(const struct pkid_status_view *v, struct pkid_buf *out,
    struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, PKID_STATUS_MAX_BODY);
	PKID_TRY(requests(v, out, e));
	PKID_TRY(enrollments(v, out, e));
	PKID_TRY(server(v, out, e));
	PKID_TRY(ca(v, out, e));
	rc = PKID_OK;
out:
	return rc;
}
