/*
 * html.c - the status page (/): one HTML document with its CSS, SVG and
 * a few lines of script inline, nothing fetched from elsewhere. Every
 * value comes from the view (view.h) and every text is escaped. Numbers
 * a test or a script reads carry an id.
 */
#include <stdio.h>
#include <string.h>

#include "status/html_int.h"

static const char css[] =
    ":root{--bg:#f4f6f9;--card:#fff;--ink:#1c2433;--mute:#6b7585;"
    "--line:#e2e6ec;--ok:#1f8f4e;--warn:#b7791f;--bad:#c53030;"
    "--est:#2b6cb0;--scep:#2c9c94;--shadow:#805ad5}"
    "*{box-sizing:border-box}body{margin:0;background:var(--bg);"
    "color:var(--ink);font:14px/1.45 system-ui,-apple-system,'Segoe UI',"
    "Roboto,'DejaVu Sans',sans-serif}"
    "header{background:#1c2433;color:#fff;padding:14px 24px;display:flex;"
    "flex-wrap:wrap;align-items:center;gap:8px 18px}"
    "header h1{font-size:18px;margin:0;font-weight:600}"
    "header .meta{color:#b8c2d3;font-size:13px}header a{color:#9cc3ff}"
    ".pill{display:inline-block;padding:2px 10px;border-radius:999px;"
    "font-size:12px;font-weight:600;color:#fff}.pill.ok{background:var(--ok)}"
    ".pill.bad{background:var(--bad)}.pill.warn{background:var(--warn)}"
    "main{max-width:1280px;margin:0 auto;padding:18px;display:grid;"
    "grid-template-columns:repeat(auto-fit,minmax(min(100%,560px),1fr));"
    "gap:16px}"
    ".kpis{grid-column:1/-1;display:grid;grid-template-columns:"
    "repeat(auto-fit,minmax(150px,1fr));gap:12px}"
    ".kpi{background:var(--card);border:1px solid var(--line);"
    "border-radius:10px;padding:10px 14px}.kpi b{display:block;"
    "font-size:24px;font-weight:650}.kpi span{color:var(--mute);"
    "font-size:12px;text-transform:uppercase;letter-spacing:.04em}"
    ".kpi.alert b{color:var(--bad)}.kpi.attn b{color:var(--warn)}"
    "section{background:var(--card);border:1px solid var(--line);"
    "border-radius:10px;padding:14px 16px;min-width:0}"
    "section.wide{grid-column:1/-1}"
    "h2{font-size:15px;margin:0 0 10px;display:flex;justify-content:"
    "space-between;align-items:baseline;gap:8px}h2 small{color:var(--mute);"
    "font-weight:400;font-size:12px}"
    ".warnbox{grid-column:1/-1;background:#fff8e6;border:1px solid #f0c36d;"
    "border-radius:10px;padding:10px 16px}.warnbox h2{color:#8a5a00}"
    ".warnbox li{margin:4px 0}"
    "table{width:100%;border-collapse:collapse;font-size:13px}"
    "th{text-align:left;color:var(--mute);font-weight:500;border-bottom:"
    "1px solid var(--line);padding:4px 6px}td{padding:5px 6px;"
    "border-bottom:1px solid var(--line);vertical-align:top;"
    "overflow-wrap:anywhere}tr:last-child td{border-bottom:0}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".empty{color:var(--mute);font-style:italic;margin:6px 0}"
    "code{font:12px ui-monospace,'DejaVu Sans Mono',monospace;"
    "background:#eef1f5;padding:1px 4px;border-radius:4px}"
    ".fix{color:#2f5a2f;font-size:12px}.muted{color:var(--mute)}"
    "svg{width:100%;display:block;flex:1 1 auto;min-width:0}"
    ".plan{overflow-x:auto;margin:0 0 8px}.plan svg{height:auto;"
    "min-width:640px}"
    ".tl,.ch{display:flex;gap:8px;align-items:flex-start;margin:6px 0 2px}"
    ".tlk,.chy{display:flex;flex-direction:column;font-size:12px;"
    "flex:none;width:64px}.tlk span{height:24px;line-height:20px}"
    ".chy{height:120px;justify-content:space-between;text-align:right;"
    "width:28px;color:var(--mute)}"
    ".tla{display:flex;justify-content:space-between;color:var(--mute);"
    "font-size:12px;margin-left:72px}.chx{margin-left:36px}"
    ".tlm{flex-wrap:wrap;margin:6px 0 10px}.tlm b{font-weight:600;"
    "color:var(--ink)}.tlm .now i{background:var(--bad)}.tlm .next i,"
    ".tlm .act i{background:var(--shadow)}.tlm .cur i{background:var(--ok)}"
    ".tlm .shd i{background:var(--shadow);opacity:.6}.tlm .ret i{"
    "background:#a0aec0}"
    ".bar.current{fill:var(--ok)}.bar.shadow{fill:var(--shadow);"
    "opacity:.6}.bar.retired{fill:#a0aec0}"
    "line.mk-now{stroke:var(--bad);stroke-width:2}"
    "line.mk-next,line.mk-act{stroke:var(--shadow);stroke-width:2;"
    "stroke-dasharray:5 3}"
    ".gl{stroke:var(--line)}rect.est{fill:var(--est)}"
    "rect.scep{fill:var(--scep)}rect.bad{fill:var(--bad)}"
    ".legend{display:flex;gap:14px;font-size:12px;color:var(--mute);"
    "margin-top:4px}.legend i{display:inline-block;width:10px;height:10px;"
    "border-radius:2px;margin-right:4px;vertical-align:-1px}"
    ".meter{height:8px;background:#edf0f4;border-radius:4px;overflow:"
    "hidden;min-width:80px}.meter i{display:block;height:100%;"
    "background:var(--ok)}.meter i.hi{background:var(--warn)}"
    ".meter i.full{background:var(--bad)}"
    "footer{max-width:1280px;margin:0 auto;padding:0 18px 24px;"
    "color:var(--mute);font-size:12px}"
    "@media (max-width:600px){header{padding:12px 14px}main{padding:10px;"
    "gap:10px}.kpis{grid-template-columns:repeat(2,1fr)}"
    ".hide-s{display:none}section{padding:12px}}";

/* Relative times in the reader's terms, and a refresh every 30 s
 * unless the reader unticks it. */
static const char script[] =
    "(function(){var now=Date.now()/1000;"
    "document.querySelectorAll('[data-ago]').forEach(function(e){"
    "var s=Math.round(now-e.getAttribute('data-ago'));"
    "e.title=new Date(e.getAttribute('data-ago')*1000).toString();});"
    "var c=document.getElementById('auto');setInterval(function(){"
    "if(c&&c.checked)location.reload();},30000);})();";

enum pkid_code
pkid_status_html_esc(struct pkid_buf *out, const char *s, struct pkid_err *e)
{
	const char *rep;
	size_t n;
	enum pkid_code rc;

	for (;;) {
		n = strcspn(s, "&<>\"'");
		if ((rc = pkid_buf_append(out, s, n, e)) != PKID_OK)
			return rc;
		if (s[n] == '\0')
			return PKID_OK;
		switch (s[n]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: rep = "&#39;"; break;
		}
		if ((rc = pkid_buf_append(out, rep, strlen(rep), e)) != PKID_OK)
			return rc;
		s += n + 1;
	}
}

#define ESC(s) PKID_TRY(pkid_status_html_esc(b, (s), e))
#define OUT(...) PKID_TRY(pkid_buf_printf(b, e, __VA_ARGS__))

static enum pkid_code
head(const struct pkid_status_view *v, struct pkid_buf *b,
    struct pkid_err *e)
{
	char d[32], up[32];
	enum pkid_code rc = PKID_E_INTERNAL;

	OUT("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,"
	    "initial-scale=1\"><link rel=\"icon\" href=\"data:,\">"
	    "<title>pkid %s: ", v->healthy ? "ok" :
	    "DEGRADED");
	ESC(v->ca_name);
	OUT("</title><style>%s</style></head><body><header><h1>pkid &middot; "
	    "CA <span id=\"ca-name\">", css);
	ESC(v->ca_name);
	OUT("</span></h1><span id=\"health\" class=\"pill %s\">%s</span>"
	    "<span class=\"meta\">generation <b id=\"generation\">%d</b> "
	    "&middot; up %s &middot; %s UTC &middot; v%s</span><span "
	    "class=\"meta\"><a href=\"/?format=json\">JSON</a> &middot; "
	    "<a href=\"/metrics\">metrics</a> &middot; <label><input "
	    "type=\"checkbox\" id=\"auto\" checked> refresh</label></span>"
	    "</header>", v->healthy ? "ok" : "bad", v->healthy ? "healthy" :
	    "degraded", v->generation, pkid_status_span(v->now - v->started,
	    up, sizeof(up)), pkid_status_day_time(v->now, d, sizeof(d)),
	    v->version);
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
health_and_warnings(const struct pkid_status_view *v, struct pkid_buf *b,
    struct pkid_err *e)
{
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (!v->healthy) {
		OUT("<div class=\"warnbox\" id=\"degraded\"><h2>Writes are "
		    "failing: nothing can be issued</h2><p><code>%s</code> ",
		    pkid_err_id(v->health_code));
		ESC(v->health_msg);
		OUT("</p><p class=\"fix\">fix: ");
		ESC(pkid_err_remedy(v->health_code));
		OUT("</p></div>");
	}
	if (v->n_warn == 0) {
		rc = PKID_OK;
		goto out;
	}
	OUT("<div class=\"warnbox\" id=\"warnings\"><h2>Settings in force "
	    "that weaken security <small>%d</small></h2><ul>", v->n_warn);
	for (i = 0; i < v->n_warn && i < 32; i++) {
		OUT("<li><code>%s</code> ", pkid_err_id(v->warn[i].code));
		ESC(v->warn[i].text);
		OUT("<br><span class=\"fix\">fix: ");
		ESC(pkid_err_remedy(v->warn[i].code));
		OUT("</span></li>");
	}
	OUT("</ul></div>");
	rc = PKID_OK;
out:
	return rc;
}

/* Enrollments and errors of the last hour, from the minute ring. */
static void
hour_totals(const struct pkid_status_snap *s, uint64_t *ok, uint64_t *bad)
{
	int i, p;

	*ok = *bad = 0;
	for (i = 0; i < PKID_STATUS_MINUTES; i++)
		for (p = 0; p < PKID_PROTO_N; p++) {
			*ok += s->minutes[i][p][0] + s->minutes[i][p][1];
			*bad += s->minutes[i][p][2] + s->minutes[i][p][3];
		}
}

static enum pkid_code
kpis(const struct pkid_status_view *v, struct pkid_buf *b,
    struct pkid_err *e)
{
	uint64_t ok, bad;
	enum pkid_code rc = PKID_E_INTERNAL;

	hour_totals(v->snap, &ok, &bad);
	OUT("<div class=\"kpis\">"
	    "<div class=\"kpi\"><b id=\"certs-total\">%lld</b><span>"
	    "certificates issued</span></div>"
	    "<div class=\"kpi\"><b id=\"enrolled-hour\">%llu</b><span>"
	    "enrollments, last hour</span></div>"
	    "<div class=\"kpi%s\"><b id=\"refused-hour\">%llu</b><span>"
	    "refused or failed, last hour</span></div>"
	    "<div class=\"kpi%s\"><b id=\"expiring-count\">%lld%s</b><span>"
	    "expiring in 30 days</span></div>"
	    "<div class=\"kpi%s\"><b id=\"pending-count\">%lld%s</b><span>"
	    "waiting for approval</span></div>"
	    "<div class=\"kpi\"><b id=\"revoked-total\">%lld</b><span>"
	    "revoked</span></div></div>", (long long)v->certs_total,
	    (unsigned long long)ok, bad > 0 ? " alert" : "",
	    (unsigned long long)bad, v->expiring_count > 0 ? " attn" : "",
	    (long long)v->expiring_count, v->expiring_count >=
	    PKID_STATUS_COUNT_MAX ? "+" : "", v->pending_count > 0 ?
	    " attn" : "", (long long)v->pending_count, v->pending_count >=
	    PKID_STATUS_COUNT_MAX ? "+" : "", (long long)v->revoked_total);
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
ca_section(const struct pkid_status_view *v, struct pkid_buf *b,
    struct pkid_err *e)
{
	char d1[32], d2[32], left[32];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	OUT("<section class=\"wide\" id=\"ca\"><h2>CA generations and "
	    "rollover <small>%s</small></h2>", v->has_shadow ? "the next "
	    "generation is published" : "no next generation yet");
	if (v->plan_svg != NULL) {
		/* pkictl ca plan's picture: scrolls sideways on a phone. */
		OUT("<div class=\"plan\" id=\"plan\">");
		PKID_TRY(pkid_buf_append(b, v->plan_svg, strlen(v->plan_svg),
		    e));
		OUT("</div>");
	} else
		PKID_TRY(pkid_status_svg_timeline(v, b, e));
	OUT("<table id=\"generations\"><tr><th>role</th><th class=\"n\">"
	    "gen.</th><th>state</th><th class=\"hide-s\">subject</th><th "
	    "class=\"hide-s\">"
	    "valid from</th><th>until</th><th class=\"n\">left</th></tr>");
	for (i = 0; i < v->n_gens; i++) {
		const struct pkid_status_gen *g = &v->gens[i];

		OUT("<tr data-state=\"%s\"><td>%s</td><td class=\"n\">%d</td>"
		    "<td>%s", g->state, g->role, g->generation, g->state);
		if (g->activate_at > 0 && strcmp(g->state, "shadow") == 0)
			OUT(" (from %s)", pkid_status_day_time(g->activate_at,
			    d1, sizeof(d1)));
		OUT("</td><td class=\"hide-s\">");
		ESC(g->subject);
		OUT("</td><td class=\"hide-s\">%s</td><td>%s</td><td "
		    "class=\"n\">%s%s</td></tr>", pkid_status_day_time(
		    g->not_before, d1, sizeof(d1)), pkid_status_day_time(
		    g->not_after, d2, sizeof(d2)), g->not_after < v->now ?
		    "-" : "", pkid_status_span(g->not_after - v->now, left,
		    sizeof(left)));
	}
	OUT("</table>");
	if (v->plan_ok)
		OUT("<p class=\"muted\">Devices renew at %d%% of a lifetime of "
		    "up to %s (profile <code>%s</code>); the next generation "
		    "is made %s before this one ends and takes over issuance "
		    "on <b id=\"activate-at\">%s</b>.</p>", v->plan.renew_pct,
		    pkid_status_span(v->plan.leaf_max, d1, sizeof(d1)),
		    v->plan.leaf_profile, pkid_status_span(v->plan.overlap,
		    d2, sizeof(d2)), pkid_status_day_time(v->activate_at,
		    left, sizeof(left)));
	OUT("</section>");
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
enroll_section(const struct pkid_status_view *v, struct pkid_buf *b,
    struct pkid_err *e)
{
	const struct pkid_status_snap *s = v->snap;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	OUT("<section id=\"enrollments\"><h2>Enrollments per minute "
	    "<small>last hour</small></h2>");
	PKID_TRY(pkid_status_svg_minutes(v, b, e));
	OUT("<div class=\"legend\"><span><i style=\"background:#2b6cb0\">"
	    "</i>EST</span><span><i style=\"background:#2c9c94\"></i>SCEP"
	    "</span><span><i style=\"background:#c53030\"></i>refused or "
	    "failed</span></div><h2 style=\"margin-top:12px\">Since start "
	    "<small>issued <b id=\"issued-since-start\">%llu</b></small></h2>",
	    (unsigned long long)s->issued);
	if (s->n_enroll == 0) {
		OUT("<p class=\"empty\">No enrollment since pkid started.</p>");
	} else {
		OUT("<table id=\"enroll-totals\"><tr><th>protocol</th><th>"
		    "profile</th><th>result</th><th class=\"n\">count</th>"
		    "</tr>");
		for (i = 0; i < s->n_enroll; i++) {
			OUT("<tr><td>%s</td><td>", pkid_status_proto_name(
			    s->enroll[i].proto));
			ESC(s->enroll[i].profile);
			OUT("</td><td>%s</td><td class=\"n\">%llu</td></tr>",
			    pkid_trace_result_name(s->enroll[i].result),
			    (unsigned long long)s->enroll[i].n);
		}
		OUT("</table>");
	}
	OUT("</section>");
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
errors_section(const struct pkid_status_view *v, struct pkid_buf *b,
    struct pkid_err *e)
{
	const struct pkid_status_snap *s = v->snap;
	char ago[32];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	OUT("<section id=\"errors\"><h2>Errors by code <small>since start, "
	    "latest first</small></h2>");
	if (s->n_errs == 0)
		OUT("<p class=\"empty\">No error since pkid started.</p>");
	for (i = 0; i < s->n_errs && i < PKID_STATUS_LIST_MAX; i++) {
		const char *id = pkid_err_id(s->errs[i].code);

		if (i == 0)
			OUT("<table><tr><th>code</th><th class=\"n\">count</th>"
			    "<th>last</th></tr>");
		OUT("<tr class=\"err\" data-code=\"%s\"><td><a href=\"", id);
		if (v->docs_url[0] != '\0') {
			ESC(v->docs_url);
			OUT("%s.md\">", id);
		} else {
			OUT("/errors/%s\">", id);
		}
		OUT("<code>%s</code></a><br><span class=\"muted\">", id);
		ESC(pkid_err_summary(s->errs[i].code));
		OUT("</span><br><span class=\"fix\">fix: ");
		ESC(pkid_err_remedy(s->errs[i].code));
		OUT("</span></td><td class=\"n count\">%llu</td><td><span "
		    "data-ago=\"%lld\">%s ago</span><br><span class=\"muted\">",
		    (unsigned long long)s->errs[i].count,
		    (long long)s->errs[i].last_at, pkid_status_span(v->now -
		    s->errs[i].last_at, ago, sizeof(ago)));
		ESC(s->errs[i].detail);
		OUT("</span><br><span class=\"muted\">request <code>");
		ESC(s->errs[i].id);
		OUT("</code> from ");
		ESC(s->errs[i].client);
		OUT("</span></td></tr>");
	}
	if (s->n_errs > 0)
		OUT("</table>");
	OUT("</section>");
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
lists_section(const struct pkid_status_view *v, struct pkid_buf *b,
    struct pkid_err *e)
{
	char d[32], left[32];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	OUT("<section id=\"expiring\"><h2>Expiring in 30 days <small>%lld%s, "
	    "soonest first</small></h2>", (long long)v->expiring_count,
	    v->expiring_count >= PKID_STATUS_COUNT_MAX ? "+" : "");
	if (v->n_expiring == 0)
		OUT("<p class=\"empty\">None.</p>");
	else
		OUT("<table><tr><th>subject</th><th class=\"hide-s\">serial"
		    "</th><th>profile</th><th class=\"n\">expires in</th></tr>");
	for (i = 0; i < v->n_expiring; i++) {
		OUT("<tr class=\"exp\" data-serial=\"%s\"><td>",
		    v->expiring[i].serial);
		ESC(v->expiring[i].subject);
		OUT("</td><td class=\"hide-s\"><code>%.16s&hellip;</code></td>"
		    "<td>", v->expiring[i].serial);
		ESC(v->expiring[i].profile);
		OUT("</td><td class=\"n\" title=\"%s\">%s</td></tr>",
		    pkid_status_day_time(v->expiring[i].not_after, d,
		    sizeof(d)), pkid_status_span(v->expiring[i].not_after -
		    v->now, left, sizeof(left)));
	}
	if (v->n_expiring > 0)
		OUT("</table>");
	OUT("</section><section id=\"pending\"><h2>Waiting for approval "
	    "<small>pkictl ca approve ID</small></h2>");
	if (v->n_pending == 0)
		OUT("<p class=\"empty\">None.</p>");
	else
		OUT("<table><tr><th class=\"n\">id</th><th>subject</th><th>"
		    "profile</th><th class=\"hide-s\">asked by</th><th "
		    "class=\"n\">waiting</th></tr>");
	for (i = 0; i < v->n_pending; i++) {
		OUT("<tr class=\"pend\" data-id=\"%lld\"><td class=\"n\">%lld "
		    "<span class=\"muted\">%s</span></td><td>",
		    (long long)v->pending[i].id, (long long)v->pending[i].id,
		    v->pending[i].kind);
		ESC(v->pending[i].subject);
		OUT("</td><td>");
		ESC(v->pending[i].profile);
		OUT("</td><td class=\"hide-s\">");
		ESC(v->pending[i].requester);
		OUT("</td><td class=\"n\">%s</td></tr>", pkid_status_span(
		    v->now - v->pending[i].created_at, left, sizeof(left)));
	}
	if (v->n_pending > 0)
		OUT("</table>");
	OUT("</section>");
	rc = PKID_OK;
out:
	return rc;
}

/* One row of the limits table with a meter. */
static enum pkid_code
meter(struct pkid_buf *b, const char *id, const char *what,
    unsigned long long have, long long max, const char *note,
    struct pkid_err *e)
{
	double f = max > 0 ? (double)have / (double)max : 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	OUT("<tr><td>%s</td><td class=\"n\"><span id=\"%s\">%llu</span> / "
	    "%lld</td><td style=\"width:35%%\"><div class=\"meter\"><i "
	    "class=\"%s\" style=\"width:%.1f%%\"></i></div></td><td "
	    "class=\"muted hide-s\">%s</td></tr>", what, id, have, max,
	    f >= 0.95 ? "full" : f >= 0.7 ? "hi" : "", f > 1 ? 100 : f * 100,
	    note);
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
limits_section(const struct pkid_status_view *v, struct pkid_buf *b,
    struct pkid_err *e)
{
	const struct pkid_server_stats *s = &v->srv;
	char note[96];
	uint64_t n503 = 0;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	for (i = 0; i < PKID_STATUS_MINUTES; i++)
		n503 += v->snap->minute_503[i];
	OUT("<section id=\"limits\"><h2>Load and limits <small>past a limit: "
	    "503 + Retry-After</small></h2><table>");
	PKID_TRY(meter(b, "conns-open", "connections open", s->conns_open,
	    s->max_conns, "[server] max_conns", e));
	PKID_TRY(meter(b, "handler-queued", "waiting for a handler",
	    s->handler_queued, s->handler_queue, "handler queue", e));
	snprintf(note, sizeof(note), "per address: %ld connections, %d "
	    "requests/min", s->max_conns_per_addr, s->rate_per_min);
	OUT("<tr><td>503 answers, last hour</td><td class=\"n\"><span "
	    "id=\"n503-hour\">%llu</span></td><td colspan=\"2\" "
	    "class=\"muted\">%llu for limits since start; %s</td></tr>",
	    (unsigned long long)n503, s->rejected_503, note);
	OUT("<tr><td>requests answered</td><td class=\"n\" id=\"requests\">"
	    "%llu</td><td colspan=\"2\" class=\"muted\">%llu connections, "
	    "%d workers, %d handler threads</td></tr></table>", s->requests,
	    s->conns_total, s->workers, s->handler_threads);
	OUT("<p class=\"muted\">Trust bundle serial: <b id=\"trust-serial\">"
	    "%s</b></p></section>", v->trust_serial[0] != '\0' ?
	    v->trust_serial : "none published");
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
upstream_section(const struct pkid_status_view *v, struct pkid_buf *b,
    struct pkid_err *e)
{
	const struct pkid_status_snap *s = v->snap;
	char a1[32], a2[32];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (!v->ra_mode && s->n_up == 0)
		return PKID_OK;
	OUT("<section id=\"upstream\"><h2>Upstream CA <small>registration "
	    "authority mode</small></h2>");
	if (s->n_up == 0)
		OUT("<p class=\"empty\">No request went upstream yet.</p>");
	for (i = 0; i < s->n_up; i++) {
		const struct pkid_status_upstream *u = &s->up[i];
		int ok = u->last_ok >= u->last_fail;

		OUT("<p><span class=\"pill %s\">%s</span> <code>", ok ? "ok" :
		    "bad", ok ? "answering" : "failing");
		ESC(u->url);
		OUT("</code></p><table><tr><td>last success</td><td "
		    "class=\"up-ok\">%s</td></tr><tr><td>last failure</td><td "
		    "class=\"up-fail\">%s%s%s%s</td></tr></table>",
		    u->last_ok > 0 ? pkid_status_span(v->now - u->last_ok, a1,
		    sizeof(a1)) : "never", u->last_ok > 0 ? " ago" : "",
		    u->last_fail > 0 ? pkid_status_span(v->now - u->last_fail,
		    a2, sizeof(a2)) : "never", u->last_fail > 0 ? " ago: " : "",
		    u->last_fail > 0 ? pkid_err_id(u->last_code) : "");
	}
	OUT("</section>");
	rc = PKID_OK;
out:
	return rc;
}

enum pkid_code
pkid_status_html(const struct pkid_status_view *v, struct pkid_buf *out,
    struct pkid_err *e)
{
	struct pkid_buf *b = out;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, PKID_STATUS_MAX_BODY);
	PKID_TRY(head(v, b, e));
	OUT("<main>");
	PKID_TRY(health_and_warnings(v, b, e));
	PKID_TRY(kpis(v, b, e));
	PKID_TRY(ca_section(v, b, e));
	PKID_TRY(enroll_section(v, b, e));
	PKID_TRY(errors_section(v, b, e));
	PKID_TRY(lists_section(v, b, e));
	PKID_TRY(limits_section(v, b, e));
	PKID_TRY(upstream_section(v, b, e));
	OUT("</main><footer>pkid %s &middot; counters since start, lists "
	    "from the store (at most %d rows each) &middot; <a href=\"/?"
	    "format=json\">the same as JSON</a></footer><script>%s</script>"
	    "</body></html>\n", v->version, PKID_STATUS_LIST_MAX, script);
	rc = PKID_OK;
out:
	return rc;
}

enum pkid_code
pkid_status_error_page(const struct pkid_errinfo *ei, struct pkid_buf *out,
    struct pkid_err *e)
{
	struct pkid_buf *b = out;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, PKID_STATUS_MAX_BODY);
	OUT("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,"
	    "initial-scale=1\"><title>pkid error %s</title><style>%s</style>"
	    "</head><body><header><h1>pkid &middot; error <code>%s</code>"
	    "</h1><span class=\"meta\"><a href=\"/\">status</a></span>"
	    "</header><main><section class=\"wide\"><h2>What it means</h2><p>",
	    ei->id, css, ei->id);
	ESC(ei->summary);
	OUT("</p><h2>Usual causes</h2><p>");
	ESC(ei->causes != NULL && ei->causes[0] ? ei->causes : "-");
	OUT("</p><h2>What to do</h2><p class=\"fix\">");
	ESC(ei->remedy);
	OUT("</p><p class=\"muted\">Category %u, number %u; "
	    "<code>pkictl explain %s</code> prints the same.</p></section>"
	    "</main></body></html>\n", (unsigned)ei->code >> 16,
	    (unsigned)ei->code, ei->id);
	rc = PKID_OK;
out:
	return rc;
}
