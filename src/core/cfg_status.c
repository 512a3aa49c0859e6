/*
 * cfg_status.c - the [status] and [log] sections of pkid.conf.
 *
 * [status]          who may see the status page (/), /metrics and the
 *                   error pages (/errors/CODE); every rule must pass:
 * allow = 127.0.0.0/8, ::1   client addresses (CIDR list; loopback by
 *                   default; "*" for any)
 * client_ca =       PEM of the issuers whose TLS client certificate is
 *                   asked for ("" = none asked)
 * users =           EST users (pkictl est user add) who may see it with
 *                   HTTP Basic ("" = none asked)
 * http = off        on: also on the plain HTTP listener (never with
 *                   users: a password must not cross the wire in clear)
 * docs_url =        base URL of the error pages the page links to; ""
 *                   links pkid's own /errors/CODE
 *
 * [log]
 * format = text     text | json: one key=value line or one JSON object
 *                   per event (core/log.h)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/cfg_int.h"

void
pkid_cfg_status_defaults(struct pkid_config *c)
{
	struct pkid_err e;

	pkid_err_clear(&e);
	c->n_status_allow = 0;
	(void)pkid_cfg_parse_iprange("127.0.0.0/8",
	    &c->status_allow[c->n_status_allow++], &e);
	(void)pkid_cfg_parse_iprange("::1/128",
	    &c->status_allow[c->n_status_allow++], &e);
	c->status_client_ca[0] = '\0';
	c->status_users[0] = '\0';
	c->status_http = 0;
	c->status_docs_url[0] = '\0';
	c->log_json = 0;
}

static enum pkid_code
set_allow(struct pkid_config *c, const char *v, struct pkid_err *e)
{
	char tmp[PKID_MAX_CONFIG_VALUE], *tok, *save = NULL;
	enum pkid_code rc;

	snprintf(tmp, sizeof(tmp), "%s", v);
	c->n_status_allow = 0;
	for (tok = strtok_r(tmp, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		if (c->n_status_allow + 2 > PKID_STATUS_MAX_ALLOW)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[status] "
			    "allow lists more than %d ranges",
			    PKID_STATUS_MAX_ALLOW - 1);
		if (strcmp(tok, "*") == 0) {
			(void)pkid_cfg_parse_iprange("0.0.0.0/0",
			    &c->status_allow[c->n_status_allow++], e);
			(void)pkid_cfg_parse_iprange("::/0",
			    &c->status_allow[c->n_status_allow++], e);
			continue;
		}
		if ((rc = pkid_cfg_parse_iprange(tok,
		    &c->status_allow[c->n_status_allow], e)) != PKID_OK)
			return rc;
		c->n_status_allow++;
	}
	return PKID_OK;
}

/* "name,name": user names as pkictl est user add takes them. */
static enum pkid_code
set_users(struct pkid_config *c, const char *v, struct pkid_err *e)
{
	size_t n = strlen(v);

	if (n >= sizeof(c->status_users))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[status] users "
		    "longer than %zu characters", sizeof(c->status_users) - 1);
	if (strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.@, ") != n)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[status] users is "
		    "a list of user names (letters, digits, '-', '_', '.', "
		    "'@'), not '%s'", v);
	snprintf(c->status_users, sizeof(c->status_users), "%s", v);
	return PKID_OK;
}

static enum pkid_code
set_onoff(int *dst, const char *k, const char *v, struct pkid_err *e)
{
	if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s is 'on' or "
		    "'off', not '%s'", k, v);
	*dst = strcmp(v, "on") == 0;
	return PKID_OK;
}

static enum pkid_code
set_str(char *dst, size_t len, const char *k, const char *v,
    struct pkid_err *e)
{
	if (strlen(v) >= len)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s longer than "
		    "%zu characters", k, len - 1);
	snprintf(dst, len, "%s", v);
	return PKID_OK;
}

enum pkid_code
pkid_cfg_status_set(struct pkid_config *c, const char *section,
    const char *k, const char *v, struct pkid_err *e)
{
	if (strcmp(section, "log") == 0) {
		if (strcmp(k, "format") != 0)
			return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY, "unknown "
			    "key '%s' in [log] (known: format)", k);
		if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[log] "
			    "format is 'text' or 'json', not '%s'", v);
		c->log_json = strcmp(v, "json") == 0;
		return PKID_OK;
	}
	if (strcmp(k, "allow") == 0)
		return set_allow(c, v, e);
	if (strcmp(k, "client_ca") == 0)
		return set_str(c->status_client_ca,
		    sizeof(c->status_client_ca), k, v, e);
	if (strcmp(k, "users") == 0)
		return set_users(c, v, e);
	if (strcmp(k, "http") == 0)
		return set_onoff(&c->status_http, k, v, e);
	if (strcmp(k, "docs_url") == 0) {
		if (v[0] != '\0' && strncmp(v, "https://", 8) != 0 &&
		    strncmp(v, "http://", 7) != 0)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[status] "
			    "docs_url is an http(s):// URL, not '%s'", v);
		return set_str(c->status_docs_url, sizeof(c->status_docs_url),
		    k, v, e);
	}
	return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY, "unknown key '%s' in "
	    "[status] (known: allow, client_ca, users, http, docs_url)", k);
}

enum pkid_code
pkid_cfg_status_write(const struct pkid_config *c, struct pkid_buf *b,
    struct pkid_err *e)
{
	char ip[INET6_ADDRSTRLEN];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_buf_printf(b, e, "\n; who may see the status page (/), "
	    "/metrics and /errors/: allow (CIDR, \"*\"),\n; and, when set, a "
	    "client certificate from client_ca or an EST user of users\n"
	    "[status]\nallow = "));
	for (i = 0; i < c->n_status_allow; i++) {
		inet_ntop(c->status_allow[i].family, c->status_allow[i].addr,
		    ip, sizeof(ip));
		PKID_TRY(pkid_buf_printf(b, e, "%s%s/%d", i > 0 ? ", " : "",
		    ip, c->status_allow[i].prefix));
	}
	PKID_TRY(pkid_buf_printf(b, e, "\nclient_ca = %s\nusers = %s\n"
	    "http = %s\ndocs_url = %s\n\n[log]\n; text or json\n"
	    "format = %s\n", c->status_client_ca, c->status_users,
	    c->status_http ? "on" : "off", c->status_docs_url,
	    c->log_json ? "json" : "text"));
	rc = PKID_OK;
out:
	return rc;
}

int
pkid_config_addr_in(const struct pkid_iprange *r, int n, const char *addr)
{
	uint8_t a[16];
	int i, fam, full, bits;

	if (addr == NULL)
		return 0;
	if (strncmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.') != NULL)
		addr += 7;	/* IPv4-mapped: the IPv4 ranges apply */
	if (inet_pton(AF_INET, addr, a) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, addr, a) == 1)
		fam = AF_INET6;
	else
		return 0;
	for (i = 0; i < n; i++) {
		if (r[i].family != fam)
			continue;
		bits = r[i].prefix;
		full = bits / 8;
		if (memcmp(a, r[i].addr, (size_t)full) != 0)
			continue;
		if (bits % 8 != 0 && ((a[full] ^ r[i].addr[full]) &
		    (uint8_t)(0xff << (8 - bits % 8))) != 0)
			continue;
		return 1;
	}
	return 0;
}
