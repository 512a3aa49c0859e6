/*
 * state.c - an identity's state between passes: state_dir/NAME.json,
 * written atomically, read leniently (a damaged file is a fresh start).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/agent_int.h"
#include "core/buf.h"
#include "core/log.h"

static void
state_path(const struct pkid_agent_cfg *c, const struct pkid_agent_id *id,
    char *out, size_t len)
{
	snprintf(out, len, "%s/%s.json", c->state_dir, id->name);
}

static int64_t
get_int(json_t *o, const char *k, int64_t min, int64_t max)
{
	json_t *v = json_object_get(o, k);
	json_int_t n;

	if (!json_is_integer(v))
		return 0;
	n = json_integer_value(v);
	return n < min ? min : n > max ? max : (int64_t)n;
}

static void
get_str(json_t *o, const char *k, char *out, size_t len)
{
	json_t *v = json_object_get(o, k);

	if (json_is_string(v))
		snprintf(out, len, "%s", json_string_value(v));
}

/* "ca_end" and "ca_path" (SHA-256 hex, issuer first); all or nothing. */
static void
get_capath(json_t *o, struct pkid_agent_capath *p)
{
	json_t *a = json_object_get(o, "ca_path"), *v;
	size_t i;

	memset(p, 0, sizeof(*p));
	if (!json_is_array(a) || json_array_size(a) > PKID_MAX_CHAIN_DEPTH)
		return;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) != 64) {
			memset(p, 0, sizeof(*p));
			return;
		}
		memcpy(p->fp[p->n++], json_string_value(v), 65);
	}
	p->end = get_int(o, "ca_end", 0, INT64_MAX / 2);
}

void
pkid_agent_state_load(const struct pkid_agent_cfg *c,
    const struct pkid_agent_id *id, struct pkid_agent_state *s)
{
	char path[PKID_AGENT_MAX_PATH + PKID_AGENT_MAX_NAME + 8];
	struct pkid_buf b;
	struct pkid_err e;
	json_error_t je;
	json_t *o = NULL;

	memset(s, 0, sizeof(*s));
	state_path(c, id, path, sizeof(path));
	pkid_err_clear(&e);
	if (pkid_buf_read_file(&b, path, PKID_AGENT_MAX_STATE_SIZE, &e) !=
	    PKID_OK)
		return;	/* none yet */
	o = json_loadb((const char *)b.p, b.len, JSON_REJECT_DUPLICATES, &je);
	pkid_buf_free(&b);
	if (!json_is_object(o)) {
		pkid_log(PKID_LOG_WARN, "agent: identity %s: state file %s "
		    "unreadable (%s); starting afresh", id->name, path,
		    je.text);
		json_decref(o);
		return;
	}
	get_str(o, "serial", s->serial, sizeof(s->serial));
	get_str(o, "last_code", s->last_code, sizeof(s->last_code));
	s->failures = (int)get_int(o, "failures", 0, PKID_AGENT_MAX_FAILURES);
	s->next_try = get_int(o, "next_try", 0, INT64_MAX / 2);
	s->ca_failures = (int)get_int(o, "ca_failures", 0,
	    PKID_AGENT_MAX_FAILURES);
	s->ca_next_try = get_int(o, "ca_next_try", 0, INT64_MAX / 2);
	get_capath(o, &s->capath);
	json_decref(o);
}

enum pkid_code
pkid_agent_state_save(const struct pkid_agent_cfg *c,
    const struct pkid_agent_id *id, const struct pkid_agent_state *s,
    struct pkid_err *e)
{
	char path[PKID_AGENT_MAX_PATH + PKID_AGENT_MAX_NAME + 8];
	json_t *o;
	char *text = NULL;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	state_path(c, id, path, sizeof(path));
	o = json_pack("{s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:[]}", "serial",
	    s->serial, "failures", (json_int_t)s->failures, "next_try",
	    (json_int_t)s->next_try, "last_code", s->last_code,
	    "ca_failures", (json_int_t)s->ca_failures, "ca_next_try",
	    (json_int_t)s->ca_next_try, "ca_end", (json_int_t)s->capath.end,
	    "ca_path");
	PKID_CHECK(o != NULL, PKID_E_NOMEM, "no memory");
	for (i = 0; i < s->capath.n && i < PKID_MAX_CHAIN_DEPTH; i++)
		PKID_CHECK(json_array_append_new(json_object_get(o, "ca_path"),
		    json_string(s->capath.fp[i])) == 0, PKID_E_NOMEM,
		    "no memory");
	PKID_CHECK((text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS)) !=
	    NULL, PKID_E_NOMEM, "no memory");
	PKID_TRY(pkid_file_write(path, text, strlen(text), 0600, e));
	rc = PKID_OK;
out:
	free(text);
	json_decref(o);
	return rc;
}
