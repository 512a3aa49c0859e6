/*
 * reply.c - responses on their way out: through evhttp for a request it
 * parsed, or as raw bytes for a connection pkid refuses itself
 * (refuse.c); and one access log line per answer.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include "core/clock.h"
#include "core/log.h"
#include "http/server_int.h"
#include "status/status.h"

/* Headers the server owns; a handler's copy is dropped. */
static int
reserved_header(const char *name)
{
	static const char *const own[] = { "Content-Length", "Connection",
	    "Transfer-Encoding", "Content-Type" };
	size_t i;

	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strcasecmp(name, own[i]) == 0)
			return 1;
	return 0;
}

static int
has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

static void
on_complete(struct evhttp_request *evreq, void *arg)
{
	struct pkid_http_conn *cs = arg;

	(void)evreq;
	pkid_http_conn_mark(cs, cs->rx, 0);
	pkid_http_conn_next(cs);
}

void
pkid_http_send(struct pkid_http_worker *w, struct pkid_http_conn *cs,
    struct evhttp_request *evreq, struct pkid_http_job *job)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(evreq);
	struct evbuffer *out = evhttp_request_get_output_buffer(evreq);
	struct pkid_http_resp *resp = &job->resp;
	char len[32];
	int i;

	if (resp->content_type[0] != '\0')
		evhttp_add_header(h, "Content-Type", resp->content_type);
	for (i = 0; i < resp->n_headers && i < PKID_HTTP_MAX_RESP_HEADERS;
	    i++)
		if (!reserved_header(resp->headers[i].name))
			evhttp_add_header(h, resp->headers[i].name,
			    resp->headers[i].value);
	/* The id the log, the status page and an upstream know this
	 * request by, for the person who quotes it. */
	evhttp_add_header(h, "X-Request-ID", job->trace.id);
	if (job->close || w->draining)
		evhttp_add_header(h, "Connection", "close");
	if (has_body(resp->status)) {
		/* For HEAD too: the length the GET would have (RFC 9110
		 * 8.6); evhttp then sends no body. */
		snprintf(len, sizeof(len), "%zu", resp->body.len);
		evhttp_add_header(h, "Content-Length", len);
		if (job->req.method != PKID_HTTP_HEAD && resp->body.len > 0 &&
		    evbuffer_add(out, resp->body.p, resp->body.len) != 0)
			job->close = 1;
	}
	if (cs != NULL) {
		evhttp_request_set_on_complete_cb(evreq, on_complete, cs);
		pkid_http_conn_mark(cs, evbuffer_get_length(
		    bufferevent_get_input(cs->bev)) > 0, 1);
	}
	evhttp_send_reply(evreq, resp->status,
	    pkid_http_status_text(resp->status), NULL);
}

int
pkid_http_resp_write(struct evbuffer *out, const struct pkid_http_resp *r)
{
	const char *reason = pkid_http_status_text(r->status);
	int i, rc = 0;

	rc |= evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", r->status,
	    reason != NULL ? reason : "Error") < 0;
	if (r->content_type[0] != '\0')
		rc |= evbuffer_add_printf(out, "Content-Type: %s\r\n",
		    r->content_type) < 0;
	for (i = 0; i < r->n_headers && i < PKID_HTTP_MAX_RESP_HEADERS; i++)
		if (!reserved_header(r->headers[i].name))
			rc |= evbuffer_add_printf(out, "%s: %s\r\n",
			    r->headers[i].name, r->headers[i].value) < 0;
	rc |= evbuffer_add_printf(out, "Content-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", r->body.len) < 0;
	if (r->body.len > 0)
		rc |= evbuffer_add(out, r->body.p, r->body.len) != 0;
	return rc ? -1 : 0;
}

void
pkid_http_resp_503(struct pkid_http_resp *resp, int retry_s,
    const struct pkid_err *e)
{
	char v[16];

	pkid_http_resp_error(resp, 503, e);
	snprintf(v, sizeof(v), "%d", retry_s);
	pkid_http_resp_header(resp, "Retry-After", v);
}

/* The message of an "error: CODE: MESSAGE\nfix: ..." body, into out. */
static const char *
body_detail(const struct pkid_http_resp *resp, char *out, size_t len)
{
	const char *p = (const char *)resp->body.p, *c;
	size_t n = resp->body.len, k;

	out[0] = '\0';
	if (p == NULL || n < 8 || memcmp(p, "error: ", 7) != 0)
		return NULL;
	c = memchr(p + 7, ':', n - 7);
	if (c == NULL || (size_t)(c - p) + 2 >= n)
		return NULL;
	c += 2;
	for (k = 0; k + 1 < len && (size_t)(c - p) + k < n && c[k] != '\n';
	    k++)
		out[k] = c[k];
	out[k] = '\0';
	return out;
}

void
pkid_http_account(struct pkid_http_worker *w, const char *method,
    const char *path, const char *client, int tls,
    const struct pkid_http_resp *resp, uint64_t t0,
    const struct pkid_trace *t)
{
	struct pkid_server *s = w->srv;
	struct pkid_trace own, *prev;
	struct pkid_status_req sr;
	char st[8], wk[8], ms[24], det[256];
	uint64_t took = pkid_mono_ms() - t0;
	int cls = resp->status / 100;

	if (t == NULL) {
		pkid_trace_init(&own);
		t = &own;
	}
	atomic_fetch_add(&s->c.requests, 1);
	if (cls >= 1 && cls <= 5)
		atomic_fetch_add(&s->c.status[cls], 1);
	if (resp->status == 503 && (resp->code == PKID_E_RATE_LIMITED ||
	    resp->code == PKID_E_CONN_LIMIT || resp->code == PKID_E_OVERLOADED))
		atomic_fetch_add(&s->c.rejected_503, 1);
	snprintf(st, sizeof(st), "%d", resp->status);
	snprintf(wk, sizeof(wk), "%d", w->idx);
	snprintf(ms, sizeof(ms), "%llu", (unsigned long long)took);
	{
		/* One line per request (README "Logs"); what a client sent
		 * is escaped by pkid_log_event. */
		const struct pkid_log_kv kv[] = {
			{ "method", method != NULL ? method : "-", 0, 0 },
			{ "path", path != NULL ? path : "-", 0, 1 },
			{ "status", st, 1, 0 },
			{ "code", pkid_err_id(resp->code), 0, 0 },
			{ "client", client != NULL && client[0] != '\0' ?
			    client : "?", 0, 0 },
			{ "tls", tls ? "1" : "0", 1, 0 },
			{ "worker", wk, 1, 0 },
			{ "ms", ms, 1, 0 },
			{ "proto", t->proto[0] ? t->proto : NULL, 0, 0 },
			{ "operation", t->op[0] ? t->op : NULL, 0, 0 },
			{ "subject", t->subject[0] ? t->subject : NULL, 0, 1 },
			{ "profile", t->profile[0] ? t->profile : NULL, 0, 0 },
			{ "user", t->user[0] ? t->user : NULL, 0, 1 },
			{ "result", t->result != PKID_TRACE_NONE ?
			    (t->code != PKID_OK ? pkid_err_id(t->code) :
			    pkid_trace_result_name(t->result)) : NULL, 0, 0 },
			{ "upstream", t->upstream[0] ? t->upstream : NULL, 0,
			    0 },
		};

		prev = pkid_trace_set((struct pkid_trace *)t);
		pkid_log_event(PKID_LOG_INFO, "http", kv,
		    sizeof(kv) / sizeof(kv[0]));
		pkid_trace_set(prev);
	}
	memset(&sr, 0, sizeof(sr));
	sr.path = path;
	sr.status = resp->status;
	sr.code = resp->code;
	sr.ms = took;
	sr.client = client;
	sr.t = t;
	sr.detail = t->detail[0] != '\0' ? t->detail :
	    body_detail(resp, det, sizeof(det));
	pkid_status_record(s->status, &sr);
}
