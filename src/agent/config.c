/*
 * config.c - the agent's INI file (inih): [agent] and [identity NAME]
 * sections, parsed here; the files they name are checked in
 * config_check.c before anything is renewed.
 */
#include "agent/agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "agent/agent_int.h"
#include "core/buf.h"
#include "core/clock.h"

/* inih (Debian build) splits lines longer than this; they are refused. */
#define AGENT_MAX_LINE 199

/* The default state directory (a system service's). */
#define AGENT_STATE_DIR "/var/lib/pkictl-agent"

static const char *const id_keys[PKID_AGENT_K_COUNT] = {
	"protocol", "url", "label", "cert", "key", "chain", "trust", "user",
	"password_file", "challenge_file", "ca", "compat", "new_key",
	"renew_at", "jitter", "hook", "timeout", "max_wait",
};

const char *
pkid_agent_key_name(enum pkid_agent_key k)
{
	return k >= 0 && k < PKID_AGENT_K_COUNT ? id_keys[k] : "?";
}

struct pkid_agent_cfg *
pkid_agent_cfg_new(void)
{
	struct pkid_agent_cfg *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", AGENT_STATE_DIR);
	c->log_level = PKID_LOG_INFO;
	c->hook_timeout_s = PKID_AGENT_HOOK_TIMEOUT_S;
	c->max_sleep_s = PKID_AGENT_DEFAULT_MAX_SLEEP_S;
	return c;
}

void
pkid_agent_cfg_free(struct pkid_agent_cfg *c)
{
	free(c);
}

static enum pkid_code
set_str(char *dst, size_t len, const char *k, const char *v,
    struct pkid_err *e)
{
	if (v[0] == '\0')
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s is empty", k);
	if (strlen(v) >= len)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s is longer than "
		    "%zu characters", k, len - 1);
	memcpy(dst, v, strlen(v) + 1);
	return PKID_OK;
}

/* A duration ("30s", "5m") within [min, max] seconds. */
static enum pkid_code
set_dur(int64_t *dst, const char *k, const char *v, int64_t min,
    int64_t max, struct pkid_err *e)
{
	int64_t n;

	if (pkid_duration_parse(v, &n, NULL) != PKID_OK || n < min || n > max)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s is a duration "
		    "from %llds to %llds (write 45s, 30m, 12h or 7d), not "
		    "'%s'", k, (long long)min, (long long)max, v);
	*dst = n;
	return PKID_OK;
}

static enum pkid_code
set_dur_int(int *dst, const char *k, const char *v, int64_t min,
    int64_t max, struct pkid_err *e)
{
	int64_t n = 0;
	enum pkid_code rc = set_dur(&n, k, v, min, max, e);

	if (rc == PKID_OK)
		*dst = (int)n;
	return rc;
}

/* "70%" or "70": percent within [min, max]; -1 when v is not one. */
static int
percent(const char *v, int min, int max)
{
	char num[16];
	size_t n = strlen(v);
	int64_t x;

	if (n > 0 && v[n - 1] == '%')
		n--;
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, v, n);
	num[n] = '\0';
	if (pkid_parse_int(num, min, max, &x, NULL) != PKID_OK)
		return -1;
	return (int)x;
}

static enum pkid_code
set_agent_key(struct pkid_agent_cfg *c, const char *k, const char *v,
    int line, struct pkid_err *e)
{
	static const char *const levels[] = { "debug", "info", "warn",
	    "error" };
	int i;

	if (strcmp(k, "state_dir") == 0) {
		c->line_state_dir = line;
		return set_str(c->state_dir, sizeof(c->state_dir), k, v, e);
	}
	if (strcmp(k, "log_level") == 0) {
		for (i = 0; i < 4; i++)
			if (strcmp(v, levels[i]) == 0) {
				c->log_level = (enum pkid_log_level)i;
				return PKID_OK;
			}
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "log_level is "
		    "debug, info, warn or error, not '%s'", v);
	}
	if (strcmp(k, "hook_timeout") == 0)
		return set_dur_int(&c->hook_timeout_s, k, v, 1,
		    PKID_AGENT_MAX_HOOK_TIMEOUT_S, e);
	if (strcmp(k, "max_sleep") == 0)
		return set_dur(&c->max_sleep_s, k, v, PKID_AGENT_MIN_SLEEP_S,
		    PKID_AGENT_MAX_SLEEP_S, e);
	return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY, "unknown key '%s' in "
	    "[agent] (known: state_dir, log_level, hook_timeout, max_sleep)",
	    k);
}

/* protocol, compat, new_key, renew_at, jitter, timeout, max_wait. */
static enum pkid_code
set_id_value(struct pkid_agent_id *id, enum pkid_agent_key k,
    const char *v, struct pkid_err *e)
{
	int64_t n;

	switch (k) {
	case PKID_AGENT_K_PROTOCOL:
		if (strcmp(v, "est") != 0 && strcmp(v, "scep") != 0)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "protocol "
			    "is est or scep, not '%s'", v);
		id->proto = strcmp(v, "est") == 0 ? PKID_AGENT_EST :
		    PKID_AGENT_SCEP;
		return PKID_OK;
	case PKID_AGENT_K_COMPAT:
		if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "compat is "
			    "on or off, not '%s'", v);
		id->compat = strcmp(v, "on") == 0;
		return PKID_OK;
	case PKID_AGENT_K_NEW_KEY:
		if (strcmp(v, "ec-p256") != 0 && strcmp(v, "ec-p384") != 0 &&
		    strcmp(v, "rsa-2048") != 0 && strcmp(v, "rsa-3072") != 0 &&
		    strcmp(v, "rsa-4096") != 0)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "new_key is ec-p256, ec-p384, rsa-2048, rsa-3072 "
			    "or rsa-4096, not '%s'", v);
		return set_str(id->new_key, sizeof(id->new_key), "new_key", v,
		    e);
	case PKID_AGENT_K_RENEW_AT:
		if ((id->renew_pct = percent(v, 1, 99)) < 0)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "renew_at "
			    "is 1%% to 99%% of the lifetime, not '%s'", v);
		return PKID_OK;
	case PKID_AGENT_K_JITTER:
		/* A share of the window after renew_at, or a duration. */
		if ((id->jitter_pct = percent(v, 0,
		    PKID_AGENT_MAX_JITTER_PCT)) >= 0)
			return PKID_OK;
		if (pkid_duration_parse(v, &n, NULL) == PKID_OK) {
			id->jitter_s = n;
			return PKID_OK;
		}
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "jitter is 0%% to "
		    "%d%% of the time left after renew_at, or a duration such "
		    "as 6h or 2d, not '%s'", PKID_AGENT_MAX_JITTER_PCT, v);
	case PKID_AGENT_K_TIMEOUT:
		return set_dur_int(&id->timeout_s, "timeout", v, 1,
		    PKID_AGENT_MAX_TIMEOUT_S, e);
	case PKID_AGENT_K_MAX_WAIT:
		return set_dur_int(&id->max_wait_s, "max_wait", v, 1,
		    PKID_AGENT_MAX_APPROVAL_WAIT_S, e);
	default:
		return PKID_ERR(e, PKID_E_INTERNAL, "key %d", (int)k);
	}
}

static enum pkid_code
set_id_key(struct pkid_agent_id *id, const char *k, const char *v,
    int line, struct pkid_err *e)
{
	enum pkid_agent_key key;
	char *dst = NULL;
	size_t len = 0;

	for (key = 0; key < PKID_AGENT_K_COUNT; key++)
		if (strcmp(k, id_keys[key]) == 0)
			break;
	/* server: the name pkictl enroll's option has (--server). */
	if (strcmp(k, "server") == 0)
		key = PKID_AGENT_K_URL;
	if (key == PKID_AGENT_K_COUNT)
		return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY, "unknown key "
		    "'%s' in [identity %s] (known: protocol, url or server, "
		    "label, cert, "
		    "key, chain, trust, user, password_file, challenge_file, "
		    "ca, compat, new_key, renew_at, jitter, hook, timeout, "
		    "max_wait)", k, id->name);
	if (id->line[key] != 0)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s is given "
		    "twice in [identity %s] (first on line %d%s)", k, id->name,
		    id->line[key], key == PKID_AGENT_K_URL ? "; url and server "
		    "are one key" : "");
	id->line[key] = line;
	switch (key) {
	case PKID_AGENT_K_URL: dst = id->url; len = sizeof(id->url); break;
	case PKID_AGENT_K_LABEL: dst = id->label; len = sizeof(id->label);
		break;
	case PKID_AGENT_K_CERT: dst = id->cert; len = sizeof(id->cert); break;
	case PKID_AGENT_K_KEY: dst = id->key; len = sizeof(id->key); break;
	case PKID_AGENT_K_CHAIN: dst = id->chain; len = sizeof(id->chain);
		break;
	case PKID_AGENT_K_TRUST: dst = id->trust; len = sizeof(id->trust);
		break;
	case PKID_AGENT_K_USER: dst = id->user; len = sizeof(id->user); break;
	case PKID_AGENT_K_PASSWORD_FILE: dst = id->password_file;
		len = sizeof(id->password_file); break;
	case PKID_AGENT_K_CHALLENGE_FILE: dst = id->challenge_file;
		len = sizeof(id->challenge_file); break;
	case PKID_AGENT_K_CA: dst = id->ca_name; len = sizeof(id->ca_name);
		break;
	case PKID_AGENT_K_HOOK: dst = id->hook; len = sizeof(id->hook); break;
	default:
		return set_id_value(id, key, v, e);
	}
	return set_str(dst, len, k, v, e);
}

static void
id_defaults(struct pkid_agent_id *id)
{
	memset(id, 0, sizeof(*id));
	id->renew_pct = PKID_DEFAULT_RENEW_AT;
	id->jitter_pct = PKID_AGENT_DEFAULT_JITTER_PCT;
	id->timeout_s = PKID_AGENT_TIMEOUT_S;
	id->max_wait_s = PKID_AGENT_MAX_WAIT_S;
}

/* [identity NAME]: a new identity, or an error for a bad or repeated
 * name. */
static struct pkid_agent_id *
id_start(struct pkid_agent_cfg *c, const char *name, int line,
    struct pkid_err *e)
{
	struct pkid_agent_id *id;
	size_t n = strlen(name);
	int i;

	if (n == 0 || n > PKID_AGENT_MAX_NAME || strspn(name,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "._-") != n || name[0] == '.') {
		PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "identity name '%s': 1 to "
		    "%d letters, digits, '.', '_' or '-', not starting with "
		    "'.' (it names the state file)", name, PKID_AGENT_MAX_NAME);
		return NULL;
	}
	for (i = 0; i < c->n_ids; i++)
		if (strcmp(c->ids[i].name, name) == 0) {
			PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[identity %s] "
			    "is given twice (first on line %d)", name,
			    c->ids[i].line_section);
			return NULL;
		}
	if (c->n_ids >= PKID_AGENT_MAX_IDENTITIES) {
		PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "more than %d identities",
		    PKID_AGENT_MAX_IDENTITIES);
		return NULL;
	}
	id = &c->ids[c->n_ids++];
	id_defaults(id);
	memcpy(id->name, name, n + 1);
	id->line_section = line;
	return id;
}

/* Hands inih one line at a time from a counted buffer, so inih's line
 * numbers and ours agree (as src/core/cfg.c does). */
struct reader {
	const char *p;		/* next unread byte */
	size_t left;		/* bytes not yet read */
	int line;		/* lines handed out so far */
	int section_line;	/* line of the last [section] header */
};

static char *
read_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	size_t n = 0;

	if (r->left == 0 || num < 2)
		return NULL;
	while (r->left > 0 && *r->p != '\n') {
		if (n < (size_t)num - 1)
			str[n++] = *r->p;
		r->p++;
		r->left--;
	}
	if (r->left > 0) {
		r->p++;
		r->left--;
	}
	str[n] = '\0';
	r->line++;
	if (str[strspn(str, " \t")] == '[')
		r->section_line = r->line;
	return str;
}

struct parse_ctx {
	struct pkid_agent_cfg *c;	/* being filled */
	struct reader rd;		/* the input and its current line */
	char section[PKID_AGENT_MAX_NAME + 16]; /* the current section */
	int section_line;		/* the line of its header */
	struct pkid_agent_id *id;	/* its identity, NULL for [agent] */
	struct pkid_err err;		/* the first error of a handler */
	int err_line;			/* its line */
};

/* A new section: [agent] or [identity NAME]. */
static int
section_start(struct parse_ctx *pc, const char *section, struct pkid_err *e)
{
	snprintf(pc->section, sizeof(pc->section), "%s", section);
	pc->section_line = pc->rd.section_line;
	pc->id = NULL;
	if (strcmp(section, "agent") == 0)
		return 1;
	if (strncmp(section, "identity ", 9) == 0) {
		pc->id = id_start(pc->c, section + 9, pc->rd.section_line,
		    e);
		return pc->id != NULL;
	}
	PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY, "unknown section [%s] (known: "
	    "[agent], [identity NAME])", section);
	return 0;
}

static int
ini_cb(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *pc = user;
	struct pkid_err *e = &pc->err;

	if (e->code != PKID_OK)
		return 0;
	pc->err_line = pc->rd.line;
	if (section[0] == '\0')
		return PKID_ERR(e, PKID_E_CONFIG_SYNTAX, "key '%s' outside any "
		    "[section]", name), 0;
	/* A header again with the same name is another section too. */
	if ((strcmp(section, pc->section) != 0 || pc->rd.section_line !=
	    pc->section_line) && !section_start(pc, section, e))
		return 0;
	if (strlen(value) >= PKID_MAX_CONFIG_VALUE)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "value too long"),
		    0;
	if (pc->id == NULL)
		return set_agent_key(pc->c, name, value, pc->rd.line, e) ==
		    PKID_OK;
	return set_id_key(pc->id, name, value, pc->rd.line, e) == PKID_OK;
}

/* Lines too long for inih, NUL bytes. */
static enum pkid_code
precheck(const char *name, const char *text, size_t len, struct pkid_err *e)
{
	size_t i, col = 0;
	int line = 1;

	if (len > PKID_MAX_CONFIG_SIZE)
		return PKID_ERR(e, PKID_E_CONFIG_SYNTAX, "%s: larger than %d "
		    "bytes", name, PKID_MAX_CONFIG_SIZE);
	for (i = 0; i < len; i++) {
		if (text[i] == '\0')
			return PKID_ERR(e, PKID_E_CONFIG_SYNTAX, "%s:%d: NUL "
			    "byte", name, line);
		if (text[i] == '\n') {
			line++;
			col = 0;
		} else if (++col > AGENT_MAX_LINE) {
			return PKID_ERR(e, PKID_E_CONFIG_SYNTAX, "%s:%d: line "
			    "longer than %d characters", name, line,
			    AGENT_MAX_LINE);
		}
	}
	return PKID_OK;
}

/* The handler's error with "name:line: " before its message. */
static enum pkid_code
located(struct pkid_err *e, const struct pkid_err *from, const char *name,
    int line)
{
	char tmp[sizeof(e->detail) + PKID_AGENT_MAX_PATH + 16];
	size_t n;

	snprintf(tmp, sizeof(tmp), "%s:%d: %s", name, line, from->detail);
	*e = *from;
	n = strlen(tmp);
	if (n >= sizeof(e->detail))
		n = sizeof(e->detail) - 1;	/* cut, as PKID_ERR would */
	memcpy(e->detail, tmp, n);
	e->detail[n] = '\0';
	return e->code;
}

enum pkid_code
pkid_agent_cfg_parse(struct pkid_agent_cfg *c, const char *name,
    const char *text, size_t len, struct pkid_err *e)
{
	struct parse_ctx *pc = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	int r;

	snprintf(c->path, sizeof(c->path), "%s", name);
	PKID_TRY(precheck(name, text, len, e));
	PKID_CHECK((pc = calloc(1, sizeof(*pc))) != NULL, PKID_E_NOMEM,
	    "no memory");
	pc->c = c;
	pc->rd.p = text;
	pc->rd.left = len;
	pkid_err_clear(&pc->err);
	r = ini_parse_stream(read_line, &pc->rd, ini_cb, pc);
	PKID_CHECK(r >= 0, PKID_E_NOMEM, "%s: cannot parse: no memory", name);
	if (r > 0 && (pc->err.code == PKID_OK || pc->err_line != r)) {
		rc = PKID_ERR(e, PKID_E_CONFIG_SYNTAX, "%s:%d: not a [section] "
		    "or key = value line", name, r);
		goto out;
	}
	if (r > 0) {
		rc = located(e, &pc->err, name, r);
		goto out;
	}
	PKID_CHECK(c->n_ids > 0, PKID_E_CONFIG_BAD_VALUE, "%s: no [identity "
	    "NAME] section: nothing to renew", name);
	rc = PKID_OK;
out:
	free(pc);
	return rc;
}
