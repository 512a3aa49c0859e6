/*
 * status_test.c - the counters of the status page (bounded tables,
 * snapshots), request ids, the log line's escaping, the renderers
 * (HTML escaped, Prometheus text), [status] allow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/cfg.h"
#include "core/log.h"
#include "core/trace.h"
#include "status/status.h"
#include "status/view.h"

static char last_line[8192];

static void
sink(enum pkid_log_level lvl, const char *line, void *arg)
{
	(void)lvl;
	(void)arg;
	snprintf(last_line, sizeof(last_line), "%s", line);
}

static void
test_trace_ids(void **state)
{
	struct pkid_trace t, u;

	(void)state;
	pkid_trace_init(&t);
	pkid_trace_init(&u);
	assert_int_equal(strlen(t.id), 16);
	assert_string_not_equal(t.id, u.id);
	assert_string_equal(pkid_trace_id(), "");
	assert_false(pkid_trace_adopt_id("abc"));	/* no request */
	assert_null(pkid_trace_set(&t));
	assert_true(pkid_trace_id_ok("ra1-000123"));
	assert_true(pkid_trace_id_ok("550e8400-e29b-41d4-a716-446655440000"));
	assert_false(pkid_trace_id_ok(""));
	assert_false(pkid_trace_id_ok("a b"));
	assert_false(pkid_trace_id_ok("a\nb"));
	assert_false(pkid_trace_id_ok("a\"b"));
	assert_false(pkid_trace_id_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_false(pkid_trace_adopt_id("bad id"));
	assert_true(pkid_trace_adopt_id("good.id:1"));
	assert_string_equal(pkid_trace_id(), "good.id:1");
	pkid_trace_set(NULL);
}

static void
test_log_escapes(void **state)
{
	struct pkid_trace t;
	const struct pkid_log_kv kv[] = {
		{ "subject", "CN=a\" b\nc=d\\", 0, 0 },
		{ "status", "200", 1, 0 },
		{ "path", "/x", 0, 1 },
	};

	(void)state;
	pkid_log_set_sink(sink, NULL);
	pkid_trace_init(&t);
	snprintf(t.id, sizeof(t.id), "rid1");
	pkid_trace_set(&t);
	pkid_log_event(PKID_LOG_INFO, "http", kv, 3);
	assert_non_null(strstr(last_line, " info http id=rid1 subject=\"CN=a\\\" "
	    "b\\x0ac=d\\\\\" status=200 path=\"/x\""));
	assert_null(strchr(last_line, '\n'));
	pkid_log(PKID_LOG_INFO, "free text\nsecond %s", "line");
	assert_non_null(strstr(last_line, "info id=rid1 free text\\x0asecond "
	    "line"));
	pkid_log_set_format(PKID_LOG_JSON);
	pkid_log_event(PKID_LOG_INFO, "http", kv, 3);
	assert_non_null(strstr(last_line, "\"id\":\"rid1\",\"event\":\"http\","
	    "\"subject\":\"CN=a\\\" b\\u000ac=d\\\\\",\"status\":200,"
	    "\"path\":\"/x\"}"));
	pkid_log_set_format(PKID_LOG_TEXT);
	pkid_trace_set(NULL);
	pkid_log_set_sink(NULL, NULL);
}

static void
record(struct pkid_status *st, const char *path, int status,
    enum pkid_code code, const struct pkid_trace *t)
{
	struct pkid_status_req r;

	memset(&r, 0, sizeof(r));
	r.path = path;
	r.status = status;
	r.code = code;
	r.ms = 3;
	r.client = "127.0.0.1";
	r.t = t;
	r.detail = "the detail";
	pkid_status_record(st, &r);
}

static void
test_counters(void **state)
{
	struct pkid_status *st = pkid_status_new();
	struct pkid_status_snap *s;
	struct pkid_trace t;
	char prof[32];
	int i, found = 0;

	(void)state;
	assert_non_null(st);
	pkid_trace_init(&t);
	snprintf(t.proto, sizeof(t.proto), "est");
	snprintf(t.op, sizeof(t.op), "simpleenroll");
	snprintf(t.profile, sizeof(t.profile), "device");
	t.result = PKID_TRACE_ISSUED;
	record(st, "/.well-known/est/simpleenroll", 200, PKID_OK, &t);
	record(st, "/.well-known/est/simpleenroll", 200, PKID_OK, &t);
	t.result = PKID_TRACE_REFUSED;
	t.code = PKID_E_AUTH_FAILED;
	record(st, "/.well-known/est/simpleenroll", 401, PKID_E_AUTH_FAILED,
	    &t);
	record(st, "/nothing", 404, PKID_E_NO_ROUTE, NULL);
	/* More profiles than rows: the table stays bounded. */
	t.result = PKID_TRACE_ISSUED;
	t.code = PKID_OK;
	for (i = 0; i < PKID_STATUS_ENROLL_KEYS + 10; i++) {
		snprintf(prof, sizeof(prof), "p%d", i);
		snprintf(t.profile, sizeof(t.profile), "%s", prof);
		record(st, "/.well-known/est/simpleenroll", 200, PKID_OK, &t);
	}
	pkid_status_commit(st, 1500, 3);
	s = pkid_status_snap(st);
	assert_non_null(s);
	assert_int_equal(s->issued, 2 + PKID_STATUS_ENROLL_KEYS + 10);
	assert_int_equal(s->n_enroll, PKID_STATUS_ENROLL_KEYS);
	assert_int_equal(s->n_errs, 2);
	for (i = 0; i < s->n_errs; i++)
		if (s->errs[i].code == PKID_E_AUTH_FAILED) {
			found = 1;
			assert_int_equal(s->errs[i].count, 1);
			assert_string_equal(s->errs[i].detail, "the detail");
		}
	assert_true(found);
	assert_int_equal(s->minutes[PKID_STATUS_MINUTES - 1][PKID_PROTO_EST]
	    [PKID_TRACE_ISSUED - 1], 2 + PKID_STATUS_ENROLL_KEYS + 10);
	assert_int_equal(s->commit.count, 1);
	assert_int_equal(pkid_status_http_code(0), 200);
	assert_int_equal(s->req[PKID_EP_EST][0], 2 + PKID_STATUS_ENROLL_KEYS +
	    10);
	assert_int_equal(pkid_status_http_code(6), 401);
	assert_int_equal(s->req[PKID_EP_EST][6], 1);
	assert_int_equal(s->req[PKID_EP_OTHER][8], 1);	/* 404 */
	pkid_status_snap_free(s);
	pkid_status_free(st);
}

static void
test_renderers(void **state)
{
	struct pkid_status *st = pkid_status_new();
	struct pkid_status_view *v = calloc(1, sizeof(*v));
	struct pkid_buf b;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	v->snap = pkid_status_snap(st);
	snprintf(v->ca_name, sizeof(v->ca_name), "ca");
	snprintf(v->version, sizeof(v->version), "0");
	v->now = v->snap->now;
	v->cur_nb = v->now - 86400;
	v->cur_na = v->now + 86400 * 300;
	v->healthy = 1;
	v->n_pending = 1;
	v->pending_count = 1;
	snprintf(v->pending[0].subject, sizeof(v->pending[0].subject),
	    "CN=<script>alert(1)</script>");
	assert_int_equal(pkid_status_html(v, &b, &e), PKID_OK);
	assert_null(strstr((char *)b.p, "<script>alert"));
	assert_non_null(strstr((char *)b.p, "CN=&lt;script&gt;alert(1)"));
	pkid_buf_free(&b);
	assert_int_equal(pkid_status_metrics(v, &b, &e), PKID_OK);
	assert_non_null(strstr((char *)b.p, "# TYPE pkid_requests_pending "
	    "gauge\npkid_requests_pending 1\n"));
	pkid_buf_free(&b);
	assert_int_equal(pkid_status_json(v, &b, &e), PKID_OK);
	assert_non_null(strstr((char *)b.p, "\"pending_count\": 1"));
	pkid_buf_free(&b);
	pkid_status_snap_free(v->snap);
	free(v);
	pkid_status_free(st);
}

static void
test_allow(void **state)
{
	struct pkid_config c;
	struct pkid_err e;

	(void)state;
	pkid_config_defaults(&c);
	assert_true(pkid_config_addr_in(c.status_allow, c.n_status_allow,
	    "127.0.0.1"));
	assert_true(pkid_config_addr_in(c.status_allow, c.n_status_allow,
	    "::1"));
	assert_true(pkid_config_addr_in(c.status_allow, c.n_status_allow,
	    "::ffff:127.0.0.5"));
	assert_false(pkid_config_addr_in(c.status_allow, c.n_status_allow,
	    "10.0.0.1"));
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c, "status.allow=10.20.0.0/14",
	    &e), PKID_OK);
	assert_true(pkid_config_addr_in(c.status_allow, c.n_status_allow,
	    "10.23.255.1"));
	assert_false(pkid_config_addr_in(c.status_allow, c.n_status_allow,
	    "10.24.0.1"));
	assert_false(pkid_config_addr_in(c.status_allow, c.n_status_allow,
	    "127.0.0.1"));
	assert_int_equal(pkid_config_set(&c, "log.format=yaml", &e),
	    PKID_E_CONFIG_BAD_VALUE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c, "status.users=a;b", &e),
	    PKID_E_CONFIG_BAD_VALUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trace_ids),
		cmocka_unit_test(test_log_escapes),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_renderers),
		cmocka_unit_test(test_allow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
