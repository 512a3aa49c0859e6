/*
 * json.c - the status page's data as one JSON object (/?format=json),
 * for scripts: the same numbers the page shows.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/clock.h"
#include "status/view.h"

static json_t *
when(int64_t t)
{
	char ts[32];

	if (t <= 0)
		return json_null();
	return json_string(pkid_time_fmt((time_t)t, ts, sizeof(ts)));
}

static json_t *
ca_obj(const struct pkid_status_view *v)
{
	json_t *o = json_object(), *gens = json_array(), *g;
	int i;

	for (i = 0; i < v->n_gens; i++) {
		g = json_pack("{s:i,s:s,s:s,s:s,s:o,s:o,s:I}", "generation",
		    v->gens[i].generation, "role", v->gens[i].role, "state",
		    v->gens[i].state, "subject", v->gens[i].subject,
		    "not_before", when(v->gens[i].not_before), "not_after",
		    when(v->gens[i].not_after), "seconds_to_expiry",
		    (json_int_t)(v->gens[i].not_after - v->now));
		if (v->gens[i].activate_at > 0)
			json_object_set_new(g, "activate_at",
			    when(v->gens[i].activate_at));
		json_array_append_new(gens, g);
	}
	json_object_set_new(o, "name", json_string(v->ca_name));
	json_object_set_new(o, "generation", json_integer(v->generation));
	json_object_set_new(o, "generations", gens);
	json_object_set_new(o, "shadow", json_boolean(v->has_shadow));
	json_object_set_new(o, "not_before", when(v->cur_nb));
	json_object_set_new(o, "not_after", when(v->cur_na));
	if (v->plan_ok) {
		json_object_set_new(o, "next_made_at", when(v->has_shadow ?
		    v->shadow_nb : v->plan.shadow_at));
		json_object_set_new(o, "activate_at", when(v->activate_at));
	}
	return o;
}

static json_t *
enroll_obj(const struct pkid_status_view *v)
{
	const struct pkid_status_snap *s = v->snap;
	json_t *o = json_object(), *per = json_array(), *tot = json_array();
	json_t *m;
	int i, p, r;

	for (i = 0; i < PKID_STATUS_MINUTES; i++) {
		m = json_object();
		json_object_set_new(m, "minute", when((s->now / 60 -
		    (PKID_STATUS_MINUTES - 1) + i) * 60));
		for (p = 0; p < PKID_PROTO_N; p++) {
			json_t *pr = json_object();

			for (r = 0; r < PKID_STATUS_RESULTS; r++)
				json_object_set_new(pr,
				    pkid_trace_result_name(r + 1),
				    json_integer(s->minutes[i][p][r]));
			json_object_set_new(m, pkid_status_proto_name(p), pr);
		}
		json_array_append_new(per, m);
	}
	for (i = 0; i < s->n_enroll; i++)
		json_array_append_new(tot, json_pack("{s:s,s:s,s:s,s:I}",
		    "protocol", pkid_status_proto_name(s->enroll[i].proto),
		    "profile", s->enroll[i].profile, "result",
		    pkid_trace_result_name(s->enroll[i].result), "count",
		    (json_int_t)s->enroll[i].n));
	json_object_set_new(o, "per_minute", per);
	json_object_set_new(o, "totals", tot);
	json_object_set_new(o, "issued_since_start",
	    json_integer((json_int_t)s->issued));
	return o;
}

static json_t *
errors_arr(const struct pkid_status_view *v)
{
	const struct pkid_status_snap *s = v->snap;
	json_t *a = json_array();
	int i;

	for (i = 0; i < s->n_errs; i++)
		json_array_append_new(a, json_pack("{s:s,s:I,s:o,s:s,s:s,"
		    "s:s,s:s,s:s}", "code", pkid_err_id(s->errs[i].code),
		    "count", (json_int_t)s->errs[i].count, "last_at",
		    when(s->errs[i].last_at), "message", s->errs[i].detail,
		    "request_id", s->errs[i].id, "client", s->errs[i].client,
		    "summary", pkid_err_summary(s->errs[i].code), "remedy",
		    pkid_err_remedy(s->errs[i].code)));
	return a;
}

static json_t *
lists_obj(const struct pkid_status_view *v)
{
	json_t *o = json_object(), *x = json_array(), *p = json_array();
	int i;

	for (i = 0; i < v->n_expiring; i++)
		json_array_append_new(x, json_pack("{s:s,s:s,s:s,s:o}",
		    "serial", v->expiring[i].serial, "subject",
		    v->expiring[i].subject, "profile", v->expiring[i].profile,
		    "not_after", when(v->expiring[i].not_after)));
	for (i = 0; i < v->n_pending; i++)
		json_array_append_new(p, json_pack("{s:I,s:s,s:s,s:s,s:s,s:o}",
		    "id", (json_int_t)v->pending[i].id, "kind",
		    v->pending[i].kind, "subject", v->pending[i].subject,
		    "profile", v->pending[i].profile, "requester",
		    v->pending[i].requester, "created_at",
		    when(v->pending[i].created_at)));
	json_object_set_new(o, "expiring_30d", json_integer(
	    (json_int_t)v->expiring_count));
	json_object_set_new(o, "expiring_30d_capped", json_boolean(
	    v->expiring_count >= PKID_STATUS_COUNT_MAX));
	json_object_set_new(o, "expiring", x);
	json_object_set_new(o, "pending_count", json_integer(
	    (json_int_t)v->pending_count));
	json_object_set_new(o, "pending", p);
	json_object_set_new(o, "issued_total", json_integer(
	    (json_int_t)v->certs_total));
	json_object_set_new(o, "revoked_total", json_integer(
	    (json_int_t)v->revoked_total));
	return o;
}

static json_t *
server_obj(const struct pkid_status_view *v)
{
	const struct pkid_server_stats *s = &v->srv;

	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "connections_open", (json_int_t)s->conns_open, "max_conns",
	    (json_int_t)s->max_conns, "max_conns_per_addr",
	    (json_int_t)s->max_conns_per_addr, "rate_per_min",
	    (json_int_t)s->rate_per_min, "handler_queued",
	    (json_int_t)s->handler_queued, "handler_queue",
	    (json_int_t)s->handler_queue, "handler_threads",
	    (json_int_t)s->handler_threads, "rejected_503",
	    (json_int_t)s->rejected_503, "requests", (json_int_t)s->requests,
	    "connections_total", (json_int_t)s->conns_total, "workers",
	    (json_int_t)s->workers);
}

static json_t *
upstream_arr(const struct pkid_status_view *v)
{
	const struct pkid_status_snap *s = v->snap;
	json_t *a = json_array(), *u, *codes;
	int i, j;

	for (i = 0; i < s->n_up; i++) {
		codes = json_object();
		for (j = 0; j < s->up[i].n_codes; j++)
			json_object_set_new(codes,
			    pkid_err_id(s->up[i].codes[j].code),
			    json_integer((json_int_t)s->up[i].codes[j].n));
		u = json_pack("{s:s,s:o,s:o,s:o,s:o}", "url", s->up[i].url,
		    "last_success", when(s->up[i].last_ok), "last_failure",
		    when(s->up[i].last_fail), "last_failure_code",
		    s->up[i].last_fail > 0 ? json_string(pkid_err_id(
		    s->up[i].last_code)) : json_null(), "failures", codes);
		json_array_append_new(a, u);
	}
	return a;
}

enum pkid_code
pkid_status_json(const struct pkid_status_view *v, struct pkid_buf *out,
    struct pkid_err *e)
{
	json_t *o = json_object(), *w = json_array();
	char *txt = NULL;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, PKID_STATUS_MAX_BODY);
	PKID_OSSL_PTR(o, PKID_E_NOMEM, "no memory");
	for (i = 0; i < v->n_warn && i < 32; i++)
		json_array_append_new(w, json_pack("{s:s,s:s,s:s}", "code",
		    pkid_err_id(v->warn[i].code), "text", v->warn[i].text,
		    "remedy", pkid_err_remedy(v->warn[i].code)));
	json_object_set_new(o, "version", json_string(v->version));
	json_object_set_new(o, "now", when(v->now));
	json_object_set_new(o, "started", when(v->started));
	json_object_set_new(o, "status", json_string(v->healthy ? "ok" :
	    "degraded"));
	if (!v->healthy)
		json_object_set_new(o, "health", json_pack("{s:s,s:s}", "code",
		    pkid_err_id(v->health_code), "message", v->health_msg));
	json_object_set_new(o, "ca", ca_obj(v));
	json_object_set_new(o, "enrollments", enroll_obj(v));
	json_object_set_new(o, "errors", errors_arr(v));
	json_object_set_new(o, "certificates", lists_obj(v));
	json_object_set_new(o, "trust_bundle_serial", v->trust_serial[0] ?
	    json_string(v->trust_serial) : json_null());
	json_object_set_new(o, "server", server_obj(v));
	json_object_set_new(o, "upstreams", upstream_arr(v));
	json_object_set_new(o, "warnings", w);
	PKID_OSSL_PTR(txt = json_dumps(o, JSON_INDENT(1)), PKID_E_NOMEM,
	    "no memory for the JSON text");
	PKID_TRY(pkid_buf_append(out, txt, strlen(txt), e));
	PKID_TRY(pkid_buf_append(out, "\n", 1, e));
	rc = PKID_OK;
out:
	free(txt);
	json_decref(o);
	return rc;
}
