/*
 * cfg_est.c - the [est] and [est LABEL] sections of pkid.conf.
 *
 * [est]                  the default label, /.well-known/est/<op>
 * profile = device       profile certificates are issued under
 * auth = basic-or-cert   basic | cert | basic-or-cert | basic-and-cert
 * channel_binding = off  off | optional | required (RFC 7030 3.5)
 * client_ca =            PEM of extra trusted client certificate issuers
 * allow_subject_change = no   simplereenroll may change subject/SAN
 * base64 = auto          auto | lines | one-line: how answers lay out their
 *                        base64 (auto: lines, one line to a client that
 *                        sends no User-Agent, as strongSwan's pki)
 * upstream =             RA mode: https://CA:PORT/.well-known/est[/LABEL]
 *                        (/.well-known/est may be left out; a trailing
 *                        '/' is dropped)
 * upstream_cacert =      PEM of the root the upstream's TLS chain ends at;
 *                        also the anchors of devices' certificates the
 *                        upstream issued, for simplereenroll here
 * upstream_cert =        PEM of this RA's client certificate (+ chain)
 * upstream_key =         its private key
 * upstream_timeout = 10s one upstream exchange, connect to last byte
 * upstream_revocation = crl  crl | off: renewals with a certificate the
 *                        upstream issued are forwarded only when its
 *                        issuer's CRL says it is not revoked
 * upstream_crl =         CRL URL (http:// or https://) for certificates
 *                        that name no CRL distribution point
 *
 * upstream = certsrv+https://HOST[:PORT]/certsrv   RA in front of Microsoft
 *                        AD CS web enrollment (src/est/certsrv.c); then:
 * upstream_template =    certificate template name (required)
 * upstream_user =        service account (DOMAIN\user or user@domain)
 * upstream_password_file = file holding its password (first line)
 * upstream_auth = basic  basic | ntlm
 * (upstream_timeout is then per phase: TLS, login, submit, fetch)
 *
 * [est LABEL] takes the same keys for /.well-known/est/LABEL/<op>.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/cfg_int.h"
#include "core/clock.h"

/* Words of the auth key, in enum pkid_est_auth order. */
static const char *const auth_names[] = {
	"basic-or-cert", "basic", "cert", "basic-and-cert", NULL,
};

/* Words of the upstream_revocation key, in enum pkid_upstream_rev
 * order. */
static const char *const rev_names[] = {
	"crl", "off", NULL,
};

/* Words of the upstream_auth key, in enum pkid_upstream_auth order. */
static const char *const uauth_names[] = {
	"basic", "ntlm", NULL,
};

/* Words of the channel_binding key, in enum pkid_cb_mode order. */
static const char *const cb_names[] = {
	"off", "optional", "required", NULL,
};

static const char *const b64_names[] = {
	"auto", "lines", "one-line", NULL,
};

/* RFC 7030 3.2.2 operation names: a label may not shadow one. */
static const char *const op_names[] = {
	"cacerts", "simpleenroll", "simplereenroll", "fullcmc",
	"serverkeygen", "csrattrs", NULL,
};

static void
label_defaults(struct pkid_est_label *l, const char *name)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->profile, sizeof(l->profile), "device");
	l->auth = PKID_EST_AUTH_BASIC_OR_CERT;
	l->channel_binding = PKID_CB_OFF;
	l->upstream_timeout = PKID_EST_UPSTREAM_TIMEOUT_S;
	l->upstream_revocation = PKID_UPSTREAM_REV_CRL;
}

void
pkid_cfg_est_defaults(struct pkid_config *c)
{
	memset(c->est, 0, sizeof(c->est));
	label_defaults(&c->est[0], "");
	c->n_est = 1;
}

const struct pkid_est_label *
pkid_config_est_label(const struct pkid_config *c, const char *name)
{
	int i;

	for (i = 0; i < c->n_est; i++)
		if (strcmp(c->est[i].name, name) == 0)
			return &c->est[i];
	return NULL;
}

static int
word_index(const char *const *tab, const char *v)
{
	int i;

	for (i = 0; tab[i] != NULL; i++)
		if (strcmp(tab[i], v) == 0)
			return i;
	return -1;
}

/* A label is one URL path segment (RFC 7030 3.2.2): letters, digits, '-',
 * '_' and '.', not an operation name. */
static enum pkid_code
check_label_name(const char *name, struct pkid_err *e)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= sizeof(((struct pkid_est_label *)0)->name))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
		    "EST label '%s' is empty or longer than 63 characters",
		    name);
	for (i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    (ch == '.' && i > 0)))
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "EST label '%s' may hold only letters, digits, "
			    "'-', '_' and '.'", name);
	}
	if (word_index(op_names, name) >= 0)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "EST label '%s' "
		    "is an EST operation name (RFC 7030 3.2.2); pick another",
		    name);
	return PKID_OK;
}

static struct pkid_est_label *
label_get_or_add(struct pkid_config *c, const char *name, struct pkid_err *e)
{
	int i;

	if (c->n_est == 0)
		pkid_cfg_est_defaults(c);
	for (i = 0; i < c->n_est; i++)
		if (strcmp(c->est[i].name, name) == 0)
			return &c->est[i];
	if (check_label_name(name, e) != PKID_OK)
		return NULL;
	if (c->n_est >= PKID_MAX_EST_LABELS) {
		PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "more than %d EST labels",
		    PKID_MAX_EST_LABELS - 1);
		return NULL;
	}
	label_defaults(&c->est[c->n_est], name);
	return &c->est[c->n_est++];
}

static enum pkid_code
set_word(const char *const *tab, const char *k, const char *v, int *out,
    struct pkid_err *e)
{
	int i = word_index(tab, v);

	if (i < 0 && tab[2] == NULL)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s is %s or %s, "
		    "not '%s'", k, tab[0], tab[1], v);
	if (i < 0)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s is one of "
		    "%s, %s, %s%s%s, not '%s'", k, tab[0], tab[1], tab[2],
		    tab[3] != NULL ? ", " : "", tab[3] != NULL ? tab[3] : "",
		    v);
	*out = i;
	return PKID_OK;
}

/* A path-valued key into its field. */
static enum pkid_code
set_path(char *dst, size_t n, const char *k, const char *v,
    struct pkid_err *e)
{
	if (strlen(v) >= n)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s is longer than "
		    "%zu characters", k, n - 1);
	snprintf(dst, n, "%s", v);
	return PKID_OK;
}

/* upstream_timeout: "10s", "2m" or plain seconds. */
static enum pkid_code
set_timeout(struct pkid_est_label *l, const char *v, struct pkid_err *e)
{
	int64_t s;
	enum pkid_code rc;

	if (v[0] != '\0' && strspn(v, "0123456789") == strlen(v))
		rc = pkid_parse_int(v, 1, PKID_EST_UPSTREAM_MAX_TIMEOUT_S, &s,
		    e);
	else
		rc = pkid_duration_parse(v, &s, e);
	if (rc != PKID_OK || s < 1 || s > PKID_EST_UPSTREAM_MAX_TIMEOUT_S) {
		pkid_err_clear(e);
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "upstream_timeout "
		    "is 1s to %ds, not '%s'", PKID_EST_UPSTREAM_MAX_TIMEOUT_S,
		    v);
	}
	l->upstream_timeout = (int)s;
	return PKID_OK;
}

/* upstream_crl: where the CRL of devices' certificates is when they
 * name no distribution point (RFC 5280 4.2.1.13: http; https too). */
static enum pkid_code
set_crl(struct pkid_est_label *l, const char *v, struct pkid_err *e)
{
	if (v[0] != '\0' && strncmp(v, "http://", 7) != 0 &&
	    strncmp(v, "https://", 8) != 0)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "upstream_crl is "
		    "an http:// or https:// URL, not '%s'", v);
	return set_path(l->upstream_crl, sizeof(l->upstream_crl),
	    "upstream_crl", v, e);
}

#define UPSTREAM_FORM "https://HOST[:PORT], optionally with " \
	"/.well-known/est or /.well-known/est/LABEL (RFC 7030 3.2.2)"

/* upstream's authority HOST[:PORT] (n bytes at a): why not, or NULL. */
static const char *
upstream_authority(const char *a, size_t n)
{
	const char *port = NULL, *end = a + n;
	size_t i;
	long pv = 0;

	if (n == 0)
		return "it names no host";
	for (i = 0; i < n; i++)
		if (a[i] == '@')
			return "it holds a user name (the RA authenticates "
			    "with upstream_cert, never with a URL)";
		else if ((unsigned char)a[i] <= ' ' || a[i] == '\\' ||
		    (unsigned char)a[i] >= 0x7f)
			return "its host holds a space or another character "
			    "a URL cannot";
	if (a[0] == '[') {
		const char *rb = memchr(a, ']', n);

		if (rb == NULL)
			return "its IPv6 address lacks the closing ']'";
		if (rb + 1 < end && rb[1] != ':')
			return "something follows the IPv6 address";
		port = rb + 1 < end ? rb + 1 : NULL;
	} else {
		port = memchr(a, ':', n);
		if (port == a)
			return "it names no host";
	}
	if (port == NULL)
		return NULL;
	if (port + 1 == end || (size_t)(end - port - 1) > 5)
		return "its port is not a number from 1 to 65535";
	for (port++; port < end; port++) {
		if (*port < '0' || *port > '9')
			return "its port is not a number from 1 to 65535";
		pv = pv * 10 + (*port - '0');
	}
	return pv >= 1 && pv <= 65535 ? NULL : "its port is not a number "
	    "from 1 to 65535";
}

#define CERTSRV_FORM "certsrv+https://HOST[:PORT][/PATH] (AD CS web " \
	"enrollment; PATH defaults to /certsrv)"

/* upstream = certsrv+https://...: kept as certsrv+https://HOST[:PORT]/PATH
 * without trailing '/'. */
static enum pkid_code
set_certsrv(struct pkid_est_label *l, const char *v, struct pkid_err *e)
{
	const char *rest = v + 16, *slash, *why = NULL;
	char path[1024], out[sizeof(l->upstream)];
	size_t alen, plen, i;

	slash = strchr(rest, '/');
	alen = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	if (strchr(v, '?') != NULL)
		why = "it has a query string ('?')";
	else if (strchr(v, '#') != NULL)
		why = "it has a fragment ('#')";
	else
		why = upstream_authority(rest, alen);
	snprintf(path, sizeof(path), "%s", slash != NULL ? slash : "");
	plen = strlen(path);
	while (plen > 0 && path[plen - 1] == '/')
		path[--plen] = '\0';
	for (i = 0; why == NULL && i < plen; i++)
		if ((unsigned char)path[i] <= ' ' ||
		    (unsigned char)path[i] >= 0x7f || path[i] == '\\')
			why = "its path holds a space or another character a "
			    "URL cannot";
	if (why != NULL)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "upstream is "
		    CERTSRV_FORM ", not '%s': %s", v, why);
	if ((size_t)snprintf(out, sizeof(out), "certsrv+https://%.*s%s",
	    (int)alen, rest, plen > 0 ? path : "/certsrv") >= sizeof(out))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "upstream is "
		    "longer than %zu characters", sizeof(out) - 1);
	memcpy(l->upstream, out, strlen(out) + 1);
	l->upstream_certsrv = 1;
	return PKID_OK;
}

/*
 * upstream: the EST server's URL, given with or without its
 * /.well-known/est (and a label), with or without a trailing '/', kept
 * as https://HOST[:PORT]/.well-known/est[/LABEL], the base the RA adds
 * /<op> to. Anything else (another scheme, a query, a fragment, another
 * path) is refused, saying what is wanted.
 */
static enum pkid_code
set_upstream(struct pkid_est_label *l, const char *v, struct pkid_err *e)
{
	static const char wk[] = "/.well-known/est";
	const char *rest, *slash, *why = NULL;
	char path[1024], label[64], out[sizeof(l->upstream)];
	size_t alen, plen;
	struct pkid_err le;

	l->upstream_certsrv = 0;
	if (v[0] == '\0') {
		l->upstream[0] = '\0';
		return PKID_OK;
	}
	if (strncasecmp(v, "certsrv+https://", 16) == 0)
		return set_certsrv(l, v, e);
	if (strlen(v) >= sizeof(out))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "upstream is "
		    "longer than %zu characters", sizeof(out) - 1);
	if (strncasecmp(v, "https://", 8) != 0)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "upstream is "
		    UPSTREAM_FORM ", not '%s': EST is served over https:// "
		    "(RFC 7030 3.3)", v);
	rest = v + 8;
	slash = strchr(rest, '/');
	alen = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	if (strchr(v, '?') != NULL)
		why = "it has a query string ('?')";
	else if (strchr(v, '#') != NULL)
		why = "it has a fragment ('#')";
	else
		why = upstream_authority(rest, alen);
	if (why != NULL)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "upstream is "
		    UPSTREAM_FORM ", not '%s': %s", v, why);
	/* The path without its trailing slashes. */
	snprintf(path, sizeof(path), "%s", slash != NULL ? slash : "");
	plen = strlen(path);
	while (plen > 0 && path[plen - 1] == '/')
		path[--plen] = '\0';
	label[0] = '\0';
	if (plen > 0 && strcmp(path, wk) != 0) {
		if (strncmp(path, wk, sizeof(wk) - 1) != 0 ||
		    path[sizeof(wk) - 1] != '/')
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "upstream "
			    "is " UPSTREAM_FORM ", not '%s': its path '%s' is "
			    "not %s", v, slash, wk);
		if (strchr(path + sizeof(wk), '/') != NULL ||
		    strlen(path + sizeof(wk)) >= sizeof(label))
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "upstream "
			    "is " UPSTREAM_FORM ", not '%s': after %s/ comes "
			    "one label, without '/'", v, wk);
		snprintf(label, sizeof(label), "%s", path + sizeof(wk));
		pkid_err_clear(&le);
		if (check_label_name(label, &le) != PKID_OK)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "upstream "
			    "is " UPSTREAM_FORM ", not '%s': %s%s", v,
			    le.detail, word_index(op_names, label) >= 0 ?
			    " (give the server's base URL, not an "
			    "operation's)" : "");
	}
	if ((size_t)snprintf(out, sizeof(out), "https://%.*s%s%s%s",
	    (int)alen, rest, wk, label[0] ? "/" : "", label) >= sizeof(out))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "upstream is "
		    "longer than %zu characters with %s", sizeof(out) - 1, wk);
	memcpy(l->upstream, out, strlen(out) + 1);
	return PKID_OK;
}

/* The registration-authority keys. */
static enum pkid_code
upstream_set(struct pkid_est_label *l, const char *k, const char *v,
    struct pkid_err *e)
{
	int n;
	enum pkid_code rc;

	if (strcmp(k, "upstream") == 0)
		return set_upstream(l, v, e);
	if (strcmp(k, "upstream_cacert") == 0)
		return set_path(l->upstream_cacert,
		    sizeof(l->upstream_cacert), k, v, e);
	if (strcmp(k, "upstream_cert") == 0)
		return set_path(l->upstream_cert, sizeof(l->upstream_cert), k,
		    v, e);
	if (strcmp(k, "upstream_key") == 0)
		return set_path(l->upstream_key, sizeof(l->upstream_key), k,
		    v, e);
	if (strcmp(k, "upstream_timeout") == 0)
		return set_timeout(l, v, e);
	if (strcmp(k, "upstream_crl") == 0)
		return set_crl(l, v, e);
	if (strcmp(k, "upstream_revocation") == 0) {
		if ((rc = set_word(rev_names, k, v, &n, e)) == PKID_OK)
			l->upstream_revocation = (enum pkid_upstream_rev)n;
		return rc;
	}
	if (strcmp(k, "upstream_auth") == 0) {
		if ((rc = set_word(uauth_names, k, v, &n, e)) == PKID_OK)
			l->upstream_auth = (enum pkid_upstream_auth)n;
		return rc;
	}
	if (strcmp(k, "upstream_template") == 0) {
		if (strlen(v) >= sizeof(l->upstream_template) ||
		    strpbrk(v, "&=%+\r\n") != NULL)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "upstream_template is a template name of at most "
			    "%zu characters without &, =, %%, +, not '%s'",
			    sizeof(l->upstream_template) - 1, v);
		snprintf(l->upstream_template, sizeof(l->upstream_template),
		    "%s", v);
		return PKID_OK;
	}
	if (strcmp(k, "upstream_user") == 0) {
		if (strlen(v) >= sizeof(l->upstream_user) ||
		    strpbrk(v, ":\r\n") != NULL)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "upstream_user is DOMAIN\\user or user@domain "
			    "of at most %zu characters without ':', not '%s'",
			    sizeof(l->upstream_user) - 1, v);
		snprintf(l->upstream_user, sizeof(l->upstream_user), "%s", v);
		return PKID_OK;
	}
	if (strcmp(k, "upstream_password_file") == 0)
		return set_path(l->upstream_password_file,
		    sizeof(l->upstream_password_file), k, v, e);
	return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY, "unknown key '%s' in "
	    "[est%s%s] (known: profile, auth, channel_binding, client_ca, "
	    "allow_subject_change, base64, upstream, upstream_cacert, "
	    "upstream_cert, "
	    "upstream_key, upstream_timeout, upstream_revocation, "
	    "upstream_crl, upstream_template, upstream_user, "
	    "upstream_password_file, upstream_auth)", k,
	    l->name[0] ? " " : "", l->name);
}

static enum pkid_code
label_set(struct pkid_est_label *l, const char *k, const char *v,
    struct pkid_err *e)
{
	int n;
	enum pkid_code rc;

	if (strcmp(k, "profile") == 0) {
		if (v[0] == '\0' || strlen(v) >= sizeof(l->profile))
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "profile name '%s' is empty or too long", v);
		snprintf(l->profile, sizeof(l->profile), "%s", v);
		return PKID_OK;
	}
	if (strcmp(k, "auth") == 0) {
		if ((rc = set_word(auth_names, k, v, &n, e)) == PKID_OK)
			l->auth = (enum pkid_est_auth)n;
		return rc;
	}
	if (strcmp(k, "channel_binding") == 0) {
		if ((rc = set_word(cb_names, k, v, &n, e)) == PKID_OK)
			l->channel_binding = (enum pkid_cb_mode)n;
		return rc;
	}
	if (strcmp(k, "client_ca") == 0) {
		if (strlen(v) >= sizeof(l->client_ca))
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "client_ca path too long");
		snprintf(l->client_ca, sizeof(l->client_ca), "%s", v);
		return PKID_OK;
	}
	if (strcmp(k, "base64") == 0) {
		if ((rc = set_word(b64_names, k, v, &n, e)) == PKID_OK)
			l->base64 = (enum pkid_est_b64)n;
		return rc;
	}
	if (strcmp(k, "allow_subject_change") == 0) {
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
			l->allow_subject_change = 1;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
			l->allow_subject_change = 0;
		else
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "allow_subject_change is yes or no, not '%s'", v);
		return PKID_OK;
	}
	return upstream_set(l, k, v, e);
}

enum pkid_code
pkid_cfg_est_set(struct pkid_config *c, const char *section, const char *k,
    const char *v, struct pkid_err *e)
{
	struct pkid_est_label *l;

	if (strcmp(section, "est") == 0)
		l = label_get_or_add(c, "", e);
	else
		l = label_get_or_add(c, section + 4, e);
	if (l == NULL)
		return e->code;
	return label_set(l, k, v, e);
}

enum pkid_code
pkid_cfg_est_write(const struct pkid_config *c, struct pkid_buf *b,
    struct pkid_err *e)
{
	const struct pkid_est_label *l;
	int i;
	enum pkid_code rc = PKID_OK;

	for (i = 0; rc == PKID_OK && i < c->n_est; i++) {
		l = &c->est[i];
		rc = pkid_buf_printf(b, e, "\n[est%s%s]\nprofile = %s\n"
		    "auth = %s\nchannel_binding = %s\nclient_ca = %s\n"
		    "allow_subject_change = %s\nbase64 = %s\n",
		    l->name[0] ? " " : "", l->name, l->profile,
		    auth_names[l->auth], cb_names[l->channel_binding],
		    l->client_ca, l->allow_subject_change ? "yes" : "no",
		    b64_names[l->base64]);
		if (rc == PKID_OK && l->upstream[0] != '\0')
			rc = pkid_buf_printf(b, e, "upstream = %s\n"
			    "upstream_cacert = %s\nupstream_cert = %s\n"
			    "upstream_key = %s\nupstream_timeout = %ds\n"
			    "upstream_revocation = %s\nupstream_crl = %s\n",
			    l->upstream, l->upstream_cacert, l->upstream_cert,
			    l->upstream_key, l->upstream_timeout,
			    rev_names[l->upstream_revocation],
			    l->upstream_crl);
		if (rc == PKID_OK && l->upstream_certsrv)
			rc = pkid_buf_printf(b, e, "upstream_template = %s\n"
			    "upstream_user = %s\nupstream_password_file = "
			    "%s\nupstream_auth = %s\n", l->upstream_template,
			    l->upstream_user, l->upstream_password_file,
			    uauth_names[l->upstream_auth]);
	}
	return rc;
}
