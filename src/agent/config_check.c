/*
 * config_check.c - the agent's configuration checked against the files
 * it names, before anything is renewed: each failure names the file and
 * line of the key, the path and the cause.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "core/buf.h"
#include "x509/load.h"

/* "FILE:LINE: KEY = VALUE: what" with code, for key k of id. */
static enum pkid_code
bad(const struct pkid_agent_cfg *c, const struct pkid_agent_id *id,
    enum pkid_agent_key k, enum pkid_code code, const char *what,
    struct pkid_err *e)
{
	const char *v = "";

	switch (k) {
	case PKID_AGENT_K_URL: v = id->url; break;
	case PKID_AGENT_K_CERT: v = id->cert; break;
	case PKID_AGENT_K_KEY: v = id->key; break;
	case PKID_AGENT_K_CHAIN: v = id->chain; break;
	case PKID_AGENT_K_TRUST: v = id->trust; break;
	case PKID_AGENT_K_USER: v = id->user; break;
	case PKID_AGENT_K_PASSWORD_FILE: v = id->password_file; break;
	case PKID_AGENT_K_CHALLENGE_FILE: v = id->challenge_file; break;
	case PKID_AGENT_K_NEW_KEY: v = id->new_key; break;
	case PKID_AGENT_K_HOOK: v = id->hook; break;
	default: break;
	}
	return PKID_ERR(e, code, "%s:%d: [identity %s] %s = %s: %s", c->path,
	    id->line[k] != 0 ? id->line[k] : id->line_section, id->name,
	    pkid_agent_key_name(k), v, what);
}

/* The same with the message of a nested error. */
static enum pkid_code
bad_err(const struct pkid_agent_cfg *c, const struct pkid_agent_id *id,
    enum pkid_agent_key k, const struct pkid_err *inner, struct pkid_err *e)
{
	char msg[600];

	return bad(c, id, k, inner->code, pkid_err_message(inner, msg,
	    sizeof(msg)), e);
}

/* Keys every identity needs, and those of the other protocol. */
static enum pkid_code
check_keys(const struct pkid_agent_cfg *c, const struct pkid_agent_id *id,
    struct pkid_err *e)
{
	static const enum pkid_agent_key need[] = { PKID_AGENT_K_PROTOCOL,
	    PKID_AGENT_K_URL, PKID_AGENT_K_CERT, PKID_AGENT_K_KEY,
	    PKID_AGENT_K_TRUST };
	static const enum pkid_agent_key est_only[] = { PKID_AGENT_K_LABEL,
	    PKID_AGENT_K_USER, PKID_AGENT_K_PASSWORD_FILE };
	static const enum pkid_agent_key scep_only[] = { PKID_AGENT_K_CA,
	    PKID_AGENT_K_COMPAT, PKID_AGENT_K_CHALLENGE_FILE };
	int est = id->proto == PKID_AGENT_EST;
	size_t i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (id->line[need[i]] == 0)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s:%d: "
			    "[identity %s] has no %s (each identity needs "
			    "protocol, url (or server), cert, key and trust)",
			    c->path,
			    id->line_section, id->name,
			    pkid_agent_key_name(need[i]));
	for (i = 0; i < 3; i++)
		if (id->line[est ? scep_only[i] : est_only[i]] != 0)
			return bad(c, id, est ? scep_only[i] : est_only[i],
			    PKID_E_CONFIG_UNKNOWN_KEY, est ? "a SCEP key in "
			    "an EST identity" : "an EST key in a SCEP "
			    "identity", e);
	if ((id->user[0] != '\0') != (id->password_file[0] != '\0'))
		return bad(c, id, id->user[0] != '\0' ? PKID_AGENT_K_USER :
		    PKID_AGENT_K_PASSWORD_FILE, PKID_E_CONFIG_BAD_VALUE,
		    "user and password_file go together", e);
	if (strncasecmp(id->url, est ? "https://" : "http://", est ? 8 : 7) !=
	    0)
		return bad(c, id, PKID_AGENT_K_URL, PKID_E_CONFIG_BAD_VALUE,
		    est ? "EST is served over https:// (RFC 7030 3.2.3)" :
		    "SCEP is served over http:// (RFC 8894 4.1)", e);
	if (!est && id->new_key[0] != '\0' && strncmp(id->new_key, "rsa-",
	    4) != 0)
		return bad(c, id, PKID_AGENT_K_NEW_KEY, PKID_E_CONFIG_BAD_VALUE,
		    "SCEP encrypts the certificate to the requester's key "
		    "with RSA key transport (RFC 8894 3.3.2): use rsa-2048", e);
	return PKID_OK;
}

/* A file to read: it exists and this user may read it. */
static enum pkid_code
readable(const struct pkid_agent_cfg *c, const struct pkid_agent_id *id,
    enum pkid_agent_key k, const char *path, struct pkid_err *e)
{
	char why[300];

	if (access(path, R_OK) == 0)
		return PKID_OK;
	snprintf(why, sizeof(why), "cannot be read: %s", strerror(errno));
	return bad(c, id, k, PKID_E_IO_OPEN, why, e);
}

/* The directory a file is written to exists and is writable. */
static enum pkid_code
writable_dir(const struct pkid_agent_cfg *c, const struct pkid_agent_id *id,
    enum pkid_agent_key k, const char *path, int is_dir, struct pkid_err *e)
{
	char tmp[PKID_AGENT_MAX_PATH], why[PKID_AGENT_MAX_PATH + 100];
	const char *d;

	snprintf(tmp, sizeof(tmp), "%s", path);
	d = is_dir ? tmp : dirname(tmp);
	if (access(d, W_OK) == 0)
		return PKID_OK;
	snprintf(why, sizeof(why), "directory %s is not writable: %s", d,
	    strerror(errno));
	return bad(c, id, k, PKID_E_IO_OPEN, why, e);
}

/* Certificate, key (matching), trust store: they load. */
static enum pkid_code
check_pki(const struct pkid_agent_cfg *c, const struct pkid_agent_id *id,
    struct pkid_err *e)
{
	struct pkid_agent_trust t;
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL;
	struct pkid_err in;
	struct stat st;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&t, 0, sizeof(t));
	pkid_err_clear(&in);
	PKID_TRY(readable(c, id, PKID_AGENT_K_CERT, id->cert, e));
	if (pkid_x509_load_certs_file(id->cert, &certs, &in) != PKID_OK) {
		rc = bad_err(c, id, PKID_AGENT_K_CERT, &in, e);
		goto out;
	}
	PKID_TRY(readable(c, id, PKID_AGENT_K_KEY, id->key, e));
	if (pkid_agent_key_load(id->key, sk_X509_value(certs, 0), 0, &key,
	    &in) != PKID_OK) {
		rc = bad_err(c, id, PKID_AGENT_K_KEY, &in, e);
		goto out;
	}
	PKID_TRY(readable(c, id, PKID_AGENT_K_TRUST, id->trust, e));
	if (pkid_agent_trust_load(&t, id->trust, &in) != PKID_OK) {
		rc = bad_err(c, id, PKID_AGENT_K_TRUST, &in, e);
		goto out;
	}
	PKID_TRY(writable_dir(c, id, PKID_AGENT_K_CERT, id->cert, 0, e));
	PKID_TRY(writable_dir(c, id, PKID_AGENT_K_KEY, id->key, 0, e));
	PKID_TRY(writable_dir(c, id, PKID_AGENT_K_TRUST, id->trust,
	    stat(id->trust, &st) == 0 && S_ISDIR(st.st_mode), e));
	if (id->chain[0] != '\0')
		PKID_TRY(writable_dir(c, id, PKID_AGENT_K_CHAIN, id->chain, 0,
		    e));
	rc = PKID_OK;
out:
	pkid_agent_trust_free(&t);
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	return rc;
}

/* Secrets are readable; a hook named by path is executable. */
static enum pkid_code
check_aux(const struct pkid_agent_cfg *c, const struct pkid_agent_id *id,
    struct pkid_err *e)
{
	char prog[PKID_MAX_CONFIG_VALUE], why[PKID_MAX_CONFIG_VALUE + 100];
	size_t n;

	if (id->password_file[0] != '\0' && readable(c, id,
	    PKID_AGENT_K_PASSWORD_FILE, id->password_file, e) != PKID_OK)
		return e->code;
	if (id->challenge_file[0] != '\0' && readable(c, id,
	    PKID_AGENT_K_CHALLENGE_FILE, id->challenge_file, e) != PKID_OK)
		return e->code;
	n = strcspn(id->hook, " \t");
	if (id->hook[0] == '\0' || memchr(id->hook, '/', n) == NULL)
		return PKID_OK;	/* a shell command: the shell finds it */
	snprintf(prog, sizeof(prog), "%.*s", (int)n, id->hook);
	if (access(prog, X_OK) == 0)
		return PKID_OK;
	snprintf(why, sizeof(why), "%s cannot be run: %s", prog,
	    strerror(errno));
	return bad(c, id, PKID_AGENT_K_HOOK, PKID_E_IO_OPEN, why, e);
}

/* state_dir: made (0700) when missing, writable. */
static enum pkid_code
check_state_dir(const struct pkid_agent_cfg *c, struct pkid_err *e)
{
	if (mkdir(c->state_dir, 0700) != 0 && errno != EEXIST)
		return PKID_ERR(e, PKID_E_IO_OPEN, "%s:%d: [agent] state_dir = "
		    "%s: cannot be made: %s%s", c->path, c->line_state_dir,
		    c->state_dir, strerror(errno), c->line_state_dir == 0 ?
		    " (the default; set state_dir in [agent])" : "");
	if (access(c->state_dir, W_OK | X_OK) != 0)
		return PKID_ERR(e, PKID_E_IO_OPEN, "%s:%d: [agent] state_dir = "
		    "%s: not a writable directory: %s", c->path,
		    c->line_state_dir, c->state_dir, strerror(errno));
	return PKID_OK;
}

enum pkid_code
pkid_agent_cfg_load(struct pkid_agent_cfg *c, const char *path,
    struct pkid_err *e)
{
	struct pkid_buf b;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&b, 0, sizeof(b));
	PKID_TRY(pkid_buf_read_file(&b, path, PKID_MAX_CONFIG_SIZE, e));
	PKID_TRY(pkid_agent_cfg_parse(c, path, (const char *)b.p, b.len, e));
	for (i = 0; i < c->n_ids; i++) {
		PKID_TRY(check_keys(c, &c->ids[i], e));
		PKID_TRY(check_pki(c, &c->ids[i], e));
		PKID_TRY(check_aux(c, &c->ids[i], e));
	}
	PKID_TRY(check_state_dir(c, e));
	rc = PKID_OK;
out:
	pkid_buf_free(&b);
	return rc;
}
