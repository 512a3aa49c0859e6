/*
 * cfg.c - pkid.conf parsing (inih), defaults, --set and serialisation.
 */
#include "core/cfg.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ini.h>
#include <openssl/x509v3.h>

#include "core/cfg_int.h"
#include "core/clock.h"
#include "store/store.h"

/* inih (Debian build) splits lines longer than this; we refuse them. */
#define CFG_MAX_LINE 199

struct named_bit {
	const char *name;	/* the word in pkid.conf */
	unsigned bit;		/* the bit it sets */
};

static const struct named_bit ku_names[] = {
	{ "digitalSignature", KU_DIGITAL_SIGNATURE },
	{ "nonRepudiation", KU_NON_REPUDIATION },
	{ "keyEncipherment", KU_KEY_ENCIPHERMENT },
	{ "dataEncipherment", KU_DATA_ENCIPHERMENT },
	{ "keyAgreement", KU_KEY_AGREEMENT },
	{ NULL, 0 },
};

static const struct named_bit eku_names[] = {
	{ "serverAuth", PKID_EKU_SERVER },
	{ "clientAuth", PKID_EKU_CLIENT },
	{ "codeSigning", PKID_EKU_CODE },
	{ "emailProtection", PKID_EKU_EMAIL },
	{ "OCSPSigning", PKID_EKU_OCSP },
	{ "cmcRA", PKID_EKU_CMC_RA },
	{ NULL, 0 },
};

static const struct named_bit kt_names[] = {
	{ "ec-p256", PKID_KT_EC_P256 },
	{ "ec-p384", PKID_KT_EC_P384 },
	{ "ec-p521", PKID_KT_EC_P521 },
	{ "rsa", PKID_KT_RSA },
	{ "ed25519", PKID_KT_ED25519 },
	{ NULL, 0 },
};

/* Bounded copy that truncates (callers check lengths where it matters). */
static void
copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
profile_defaults(struct pkid_profile *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	copy_str(p->name, sizeof(p->name), name);
	p->lifetime = 365 * 86400;
	p->key_usage = KU_DIGITAL_SIGNATURE;
	p->eku = PKID_EKU_CLIENT;
	p->key_types = PKID_KT_EC_P256 | PKID_KT_EC_P384 | PKID_KT_RSA;
	p->min_rsa_bits = 2048;
	p->san_mode = PKID_SAN_TAKE;
	/* No name until the operator says which (README "Security model";
	 * pkictl ca init --domain writes them). */
	p->allow_any_dns = 0;
	p->allow_any_ip = 0;
	p->backdate = 300;
	p->renew_at = PKID_DEFAULT_RENEW_AT;
}

void
pkid_config_defaults(struct pkid_config *c)
{
	struct pkid_profile *p;

	memset(c, 0, sizeof(*c));
	copy_str(c->ca_name, sizeof(c->ca_name), "ca");
	copy_str(c->store_url, sizeof(c->store_url), "sqlite:pkid.db");
	copy_str(c->digest, sizeof(c->digest), "sha256");
	c->crl_next_update = 7 * 86400;
	copy_str(c->crl_url, sizeof(c->crl_url), "auto");
	copy_str(c->ca_issuers_url, sizeof(c->ca_issuers_url), "auto");
	c->ocsp_url[0] = '\0';
	c->ocsp_next_update = PKID_OCSP_DEFAULT_NEXT_UPDATE_S;
	c->rollover_overlap = 0;
	c->rollover_margin = PKID_DEFAULT_ROLLOVER_MARGIN_S;
	copy_str(c->listen, sizeof(c->listen), "127.0.0.1:8443");
	copy_str(c->http, sizeof(c->http), "127.0.0.1:8080");
	c->workers = 0;
	c->max_conns = PKID_DEFAULT_MAX_CONNS;
	c->rate_per_min = PKID_DEFAULT_RATE_PER_MIN;
	c->max_body = PKID_MAX_HTTP_BODY;
	c->max_conns_per_addr = PKID_DEFAULT_MAX_CONNS_PER_ADDR;
	c->header_timeout = PKID_HTTP_HEADER_TIMEOUT_S;
	c->body_timeout = PKID_HTTP_BODY_TIMEOUT_S;
	c->handler_threads = 0;
	c->max_queue_delay_ms = PKID_DEFAULT_MAX_QUEUE_DELAY_MS;
	c->tls_tickets = PKID_DEFAULT_TLS_TICKETS;
	copy_str(c->scep_profile, sizeof(c->scep_profile), "device");

	p = &c->profiles[c->n_profiles++];
	profile_defaults(p, "device");
	p->key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
	p->eku = PKID_EKU_CLIENT;

	p = &c->profiles[c->n_profiles++];
	profile_defaults(p, "server");
	p->lifetime = 90 * 86400;
	p->key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
	p->eku = PKID_EKU_SERVER | PKID_EKU_CLIENT;

	/* A registration authority's client certificate (pkictl ca issue
	 * --profile ra): id-kp-cmcRA lets it ask for any name a label's
	 * profile allows on behalf of devices (README "Security model").
	 * No EST label or SCEP should issue under it (pkid --check). */
	p = &c->profiles[c->n_profiles++];
	profile_defaults(p, "ra");
	p->key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
	p->eku = PKID_EKU_CLIENT | PKID_EKU_CMC_RA;

	pkid_cfg_est_defaults(c);
	pkid_cfg_status_defaults(c);
	pkid_cfg_hsm_defaults(c);
	pkid_cfg_acme_defaults(c);
}

const struct pkid_profile *
pkid_config_profile(const struct pkid_config *c, const char *name)
{
	int i;

	for (i = 0; i < c->n_profiles; i++)
		if (strcmp(c->profiles[i].name, name) == 0)
			return &c->profiles[i];
	return NULL;
}

/* Parse "a, b, c" of names into bits; unknown word is an error. */
static enum pkid_code
parse_bits(const struct named_bit *tab, const char *v, unsigned *out,
    struct pkid_err *e)
{
	char tmp[PKID_MAX_CONFIG_VALUE], *tok, *save = NULL;
	unsigned bits = 0;
	int i, found;

	copy_str(tmp, sizeof(tmp), v);
	for (tok = strtok_r(tmp, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		found = 0;
		for (i = 0; tab[i].name != NULL; i++) {
			if (strcmp(tab[i].name, tok) == 0) {
				bits |= tab[i].bit;
				found = 1;
			}
		}
		if (!found)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "unknown name '%s'", tok);
	}
	*out = bits;
	return PKID_OK;
}

enum pkid_code
pkid_cfg_parse_iprange(const char *s, struct pkid_iprange *r,
    struct pkid_err *e)
{
	char tmp[128], *slash;
	int64_t pfx;
	int max;

	copy_str(tmp, sizeof(tmp), s);
	slash = strchr(tmp, '/');
	if (slash != NULL)
		*slash++ = '\0';
	memset(r, 0, sizeof(*r));
	if (inet_pton(AF_INET, tmp, r->addr) == 1) {
		r->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, tmp, r->addr) == 1) {
		r->family = AF_INET6;
		max = 128;
	} else {
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
		    "'%s' is not an IP range (write 10.0.0.0/8 or fd00::/8)", s);
	}
	pfx = max;
	if (slash != NULL && pkid_parse_int(slash, 0, max, &pfx, NULL) !=
	    PKID_OK)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
		    "'%s' has a bad prefix length", s);
	r->prefix = (int)pfx;
	return PKID_OK;
}

static enum pkid_code
parse_san_lists(struct pkid_profile *p, const char *key, const char *v,
    struct pkid_err *e)
{
	char tmp[PKID_MAX_CONFIG_VALUE], *tok, *save = NULL;
	int dns = strcmp(key, "san_dns_suffixes") == 0;
	enum pkid_code rc;

	copy_str(tmp, sizeof(tmp), v);
	if (dns) {
		p->n_dns = 0;
		p->allow_any_dns = 0;
	} else {
		p->n_ip = 0;
		p->allow_any_ip = 0;
	}
	for (tok = strtok_r(tmp, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		/* ".example" means "example": strip every leading dot
		 * (".*" too), so the file pkid writes reads back the same. */
		while (dns && tok[0] == '.')
			tok++;
		if (strcmp(tok, "*") == 0) {
			if (dns)
				p->allow_any_dns = 1;
			else
				p->allow_any_ip = 1;
			continue;
		}
		if (dns) {
			if (p->n_dns >= PKID_MAX_SAN_RULES || strlen(tok) >= 255)
				return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
				    "too many or too long DNS suffixes");
			if (tok[0] == '\0')
				return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
				    "empty DNS suffix (write '*' for any name)");
			/* Only DNS name characters: anything else never
			 * matches, and ';' would turn into a comment when
			 * the list is written back. */
			if (strspn(tok, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_*") !=
			    strlen(tok))
				return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
				    "DNS suffix '%s' holds a character not "
				    "allowed in DNS names", tok);
			copy_str(p->san_dns[p->n_dns++], 256, tok);
		} else {
			if (p->n_ip >= PKID_MAX_SAN_RULES)
				return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
				    "too many IP ranges");
			if ((rc = pkid_cfg_parse_iprange(tok,
			    &p->san_ip[p->n_ip], e)) != PKID_OK)
				return rc;
			p->n_ip++;
		}
	}
	return PKID_OK;
}

/* "70%" or "70": a share of a lifetime, 1..99 percent. */
static enum pkid_code
parse_percent(const char *v, int *out, struct pkid_err *e)
{
	char num[16];
	size_t n = strlen(v);
	int64_t x;

	if (n > 0 && v[n - 1] == '%')
		n--;
	if (n == 0 || n >= sizeof(num))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "renew_at is a "
		    "percentage of the lifetime, e.g. 70%%, not '%s'", v);
	memcpy(num, v, n);
	num[n] = '\0';
	if (pkid_parse_int(num, 1, 99, &x, NULL) != PKID_OK)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "renew_at is 1%% "
		    "to 99%% of the lifetime, not '%s'", v);
	*out = (int)x;
	return PKID_OK;
}

static enum pkid_code
set_profile_key(struct pkid_profile *p, const char *k, const char *v,
    struct pkid_err *e)
{
	int64_t n;
	enum pkid_code rc = PKID_OK;

	if (strcmp(k, "lifetime") == 0) {
		rc = pkid_duration_parse(v, &n, e);
		if (rc == PKID_OK && n < 60)
			rc = PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "lifetime %s is shorter than a minute", v);
		if (rc == PKID_OK)
			p->lifetime = n;
	} else if (strcmp(k, "backdate") == 0) {
		if ((rc = pkid_duration_parse(v, &n, e)) == PKID_OK)
			p->backdate = n;
	} else if (strcmp(k, "key_usage") == 0) {
		rc = parse_bits(ku_names, v, &p->key_usage, e);
	} else if (strcmp(k, "ext_key_usage") == 0) {
		rc = parse_bits(eku_names, v, &p->eku, e);
	} else if (strcmp(k, "key_types") == 0) {
		rc = parse_bits(kt_names, v, &p->key_types, e);
		if (rc == PKID_OK && p->key_types == 0)
			rc = PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "key_types is empty");
	} else if (strcmp(k, "min_rsa_bits") == 0) {
		if ((rc = pkid_parse_int(v, 1024, 16384, &n, e)) == PKID_OK)
			p->min_rsa_bits = (int)n;
	} else if (strcmp(k, "san_mode") == 0) {
		if (strcmp(v, "take") == 0)
			p->san_mode = PKID_SAN_TAKE;
		else if (strcmp(v, "replace") == 0)
			p->san_mode = PKID_SAN_REPLACE;
		else
			rc = PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "san_mode is 'take' or 'replace', not '%s'", v);
	} else if (strcmp(k, "san_dns_suffixes") == 0 ||
	    strcmp(k, "san_ip_ranges") == 0) {
		rc = parse_san_lists(p, k, v, e);
	} else if (strcmp(k, "subject") == 0) {
		if (strlen(v) >= sizeof(p->subject))
			rc = PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "subject template too long");
		else
			copy_str(p->subject, sizeof(p->subject), v);
	} else if (strcmp(k, "renew_at") == 0) {
		rc = parse_percent(v, &p->renew_at, e);
	} else if (strcmp(k, "approval") == 0) {
		if (strcmp(v, "auto") == 0)
			p->manual_approval = 0;
		else if (strcmp(v, "manual") == 0)
			p->manual_approval = 1;
		else
			rc = PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "approval is 'auto' or 'manual', not '%s'", v);
	} else {
		rc = PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY,
		    "unknown key '%s' in [profile %s] (known: lifetime, "
		    "backdate, key_usage, ext_key_usage, key_types, "
		    "min_rsa_bits, san_mode, san_dns_suffixes, san_ip_ranges, "
		    "subject, approval, renew_at)", k, p->name);
	}
	return rc;
}

static enum pkid_code
set_str(char *dst, size_t len, const char *v, struct pkid_err *e)
{
	if (strlen(v) >= len)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
		    "value longer than %zu characters", len - 1);
	copy_str(dst, len, v);
	return PKID_OK;
}

static enum pkid_code
set_int(int *dst, const char *v, int64_t min, int64_t max,
    struct pkid_err *e)
{
	int64_t n;
	enum pkid_code rc;

	if ((rc = pkid_parse_int(v, min, max, &n, e)) == PKID_OK)
		*dst = (int)n;
	return rc;
}

/*
 * crl_url: the CRL distribution point of issued leaf certificates (RFC
 * 5280 4.2.1.13), where relying parties (an RA in front of this CA) fetch
 * the CRL pkid serves at /crl/NAME.crl: plain http, as CRLs are signed
 * and a fetch over https could need the very certificate being checked.
 * ca_issuers_url: the AIA caIssuers URI (RFC 5280 4.2.2.1) of the issuing
 * CA certificate (DER), /ca/NAME.cer, http for the same reason. Each may
 * be "auto" (the default: derived from [server] http), "off" or "" (none).
 */
static enum pkid_code
set_pub_url(char *dst, size_t len, const char *key, const char *v,
    struct pkid_err *e)
{
	size_t i;

	if (v[0] == '\0' || strcmp(v, "off") == 0) {
		dst[0] = '\0';
		return PKID_OK;
	}
	if (strcmp(v, "auto") == 0)
		return set_str(dst, len, v, e);
	if (strncmp(v, "http://", 7) != 0 || v[7] == '\0' || v[7] == '/')
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s is auto, off "
		    "or an http://HOST[:PORT]/PATH URL (RFC 5280 4.2.1.13, "
		    "4.2.2.1), not '%s'", key, v);
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s "
			    "'%s' holds a space or a non-ASCII character "
			    "(RFC 3986: percent-encode it)", key, v);
	return set_str(dst, len, v, e);
}

/* Is host (no brackets) a loopback address or name? */
static int
host_is_loopback(const char *h)
{
	return strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0 ||
	    strcmp(h, "localhost") == 0 || strncmp(h, "localhost.", 10) == 0;
}

int
pkid_config_pub_url(const struct pkid_config *c, enum pkid_pub_kind kind,
    char *buf, size_t len, const char **why)
{
	const char *u = kind == PKID_PUB_CRL ? c->crl_url :
	    kind == PKID_PUB_OCSP ? c->ocsp_url : c->ca_issuers_url;
	const char *colon, *why_local;
	char host[256];
	size_t n;
	int v6;

	if (why == NULL)
		why = &why_local;
	*why = NULL;
	buf[0] = '\0';
	if (u[0] == '\0') {
		*why = "not configured";
		return 0;
	}
	if (strcmp(u, "auto") != 0) {
		snprintf(buf, len, "%s", u);
		return 1;
	}
	if (c->http[0] == '\0' || strcmp(c->http, "off") == 0) {
		*why = "auto, and the plain HTTP listener is off";
		return 0;
	}
	if ((colon = strrchr(c->http, ':')) == NULL) {
		*why = "auto, and [server] http has no port";
		return 0;
	}
	n = (size_t)(colon - c->http);
	v6 = n >= 2 && c->http[0] == '[' && c->http[n - 1] == ']';
	if (v6)
		snprintf(host, sizeof(host), "%.*s", (int)(n - 2), c->http + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)n, c->http);
	if (host_is_loopback(host)) {
		*why = "auto, and [server] http listens on loopback only";
		return 0;
	}
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "::") == 0 || strcmp(host, "*") == 0) {
		/* Every address: the server's first name is how others reach
		 * it. */
		n = strcspn(c->tls_names, ", ");
		if (n == 0 || n >= sizeof(host)) {
			*why = "auto, and [server] http listens on every "
			    "address with no tls_names to name the host";
			return 0;
		}
		snprintf(host, sizeof(host), "%.*s", (int)n, c->tls_names);
		v6 = strchr(host, ':') != NULL;
		if (host_is_loopback(host)) {
			*why = "auto, and the first tls_names is loopback";
			return 0;
		}
	}
	if (kind == PKID_PUB_OCSP) {
		/* One responder answers for every generation. */
		snprintf(buf, len, "http://%s%s%s:%s/ocsp", v6 ? "[" : "",
		    host, v6 ? "]" : "", colon + 1);
		return 1;
	}
	snprintf(buf, len, "http://%s%s%s:%s/%s/%s.%s", v6 ? "[" : "", host,
	    v6 ? "]" : "", colon + 1, kind == PKID_PUB_CRL ? "crl" : "ca",
	    c->ca_name, kind == PKID_PUB_CRL ? "crl" : "cer");
	return 1;
}

/* An OCSP response's validity: a minute to a week (RFC 5019 4: caches
 * keep it until nextUpdate, so a revocation shows within it). */
static enum pkid_code
set_ocsp_next_update(struct pkid_config *c, const char *v,
    struct pkid_err *e)
{
	int64_t d;
	enum pkid_code rc;

	if ((rc = pkid_duration_parse(v, &d, e)) != PKID_OK)
		return rc;
	if (d < 60 || d > 7 * 86400)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "ocsp_next_update "
		    "is from 1m to 7d (a revocation shows within it), not "
		    "'%s'", v);
	c->ocsp_next_update = d;
	return PKID_OK;
}

static enum pkid_code
set_ca_key(struct pkid_config *c, const char *k, const char *v,
    struct pkid_err *e)
{
	if (strcmp(k, "name") == 0) {
		size_t i;

		for (i = 0; v[i] != '\0'; i++)
			if (!(v[i] == '-' || v[i] == '_' ||
			    (v[i] >= 'a' && v[i] <= 'z') ||
			    (v[i] >= 'A' && v[i] <= 'Z') ||
			    (v[i] >= '0' && v[i] <= '9')))
				return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
				    "CA name '%s' may hold only letters, "
				    "digits, '-' and '_'", v);
		if (v[0] == '\0')
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "CA name is empty");
		return set_str(c->ca_name, sizeof(c->ca_name), v, e);
	}
	if (strcmp(k, "digest") == 0) {
		if (strcmp(v, "sha256") != 0 && strcmp(v, "sha384") != 0 &&
		    strcmp(v, "sha512") != 0)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "digest is sha256, sha384 or sha512, not '%s'", v);
		return set_str(c->digest, sizeof(c->digest), v, e);
	}
	if (strcmp(k, "crl_next_update") == 0)
		return pkid_duration_parse(v, &c->crl_next_update, e);
	if (strcmp(k, "crl_url") == 0)
		return set_pub_url(c->crl_url, sizeof(c->crl_url), k, v, e);
	if (strcmp(k, "ca_issuers_url") == 0)
		return set_pub_url(c->ca_issuers_url,
		    sizeof(c->ca_issuers_url), k, v, e);
	if (strcmp(k, "ocsp_url") == 0)
		return set_pub_url(c->ocsp_url, sizeof(c->ocsp_url), k, v, e);
	if (strcmp(k, "ocsp_next_update") == 0)
		return set_ocsp_next_update(c, v, e);
	if (strcmp(k, "rollover_overlap") == 0)
		return strcmp(v, "derived") == 0 || v[0] == '\0' ?
		    (c->rollover_overlap = 0, PKID_OK) :
		    pkid_duration_parse(v, &c->rollover_overlap, e);
	if (strcmp(k, "rollover_margin") == 0)
		return pkid_duration_parse(v, &c->rollover_margin, e);
	return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY,
	    "unknown key '%s' in [ca] (known: name, digest, crl_next_update, "
	    "crl_url, ca_issuers_url, ocsp_url, ocsp_next_update, "
	    "rollover_overlap, rollover_margin)", k);
}

/* A request deadline: a duration from 1 s to an hour. */
static enum pkid_code
set_req_timeout(int *dst, const char *k, const char *v, struct pkid_err *e)
{
	int64_t n;
	enum pkid_code rc;

	if ((rc = pkid_duration_parse(v, &n, e)) != PKID_OK)
		return rc;
	if (n < 1 || n > PKID_HTTP_MAX_REQ_TIMEOUT_S)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "%s %s is not "
		    "between 1s and %ds", k, v, PKID_HTTP_MAX_REQ_TIMEOUT_S);
	*dst = (int)n;
	return PKID_OK;
}

/* max_queue_delay: "off", "250ms" or a duration, 10 ms to a minute. */
static enum pkid_code
set_queue_delay(int *dst, const char *v, struct pkid_err *e)
{
	size_t len = strlen(v);
	int64_t n;
	char num[32];

	if (strcmp(v, "off") == 0) {
		*dst = -1;
		return PKID_OK;
	}
	if (len > 2 && len < sizeof(num) && strcmp(v + len - 2, "ms") == 0) {
		memcpy(num, v, len - 2);
		num[len - 2] = '\0';
		if (pkid_parse_int(num, 0, INT32_MAX, &n, NULL) != PKID_OK)
			n = -1;
	} else {
		if (pkid_duration_parse(v, &n, NULL) != PKID_OK ||
		    n > PKID_HTTP_MAX_QUEUE_DELAY_S)
			n = -1;
		else
			n *= 1000;
	}
	if (n < 10 || n > PKID_HTTP_MAX_QUEUE_DELAY_S * 1000)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "max_queue_delay "
		    "%s is not between 10ms and %ds, nor off (write 1s or "
		    "500ms)", v, PKID_HTTP_MAX_QUEUE_DELAY_S);
	*dst = (int)n;
	return PKID_OK;
}

/* [server] keys that hold clients to limits (issue "Security first"). */
static enum pkid_code
set_server_limit(struct pkid_config *c, const char *k, const char *v,
    struct pkid_err *e)
{
	if (strcmp(k, "max_conns_per_addr") == 0)
		return set_int(&c->max_conns_per_addr, v, 0, 1000000, e);
	if (strcmp(k, "header_timeout") == 0)
		return set_req_timeout(&c->header_timeout, k, v, e);
	if (strcmp(k, "body_timeout") == 0)
		return set_req_timeout(&c->body_timeout, k, v, e);
	if (strcmp(k, "handler_threads") == 0)
		return set_int(&c->handler_threads, v, 0,
		    PKID_HTTP_MAX_HANDLERS, e);
	if (strcmp(k, "max_queue_delay") == 0)
		return set_queue_delay(&c->max_queue_delay_ms, v, e);
	if (strcmp(k, "tls_tickets") == 0)
		return set_int(&c->tls_tickets, v, 0, PKID_MAX_TLS_TICKETS, e);
	return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY,
	    "unknown key '%s' in [server] (known: listen, http, workers, "
	    "max_conns, max_conns_per_addr, rate_per_min, max_body, "
	    "header_timeout, body_timeout, handler_threads, max_queue_delay, "
	    "tls_tickets, tls_names, client_ca)", k);
}

static enum pkid_code
set_server_key(struct pkid_config *c, const char *k, const char *v,
    struct pkid_err *e)
{
	if (strcmp(k, "listen") == 0)
		return set_str(c->listen, sizeof(c->listen), v, e);
	if (strcmp(k, "http") == 0)
		return set_str(c->http, sizeof(c->http), v, e);
	if (strcmp(k, "workers") == 0)
		return set_int(&c->workers, v, 0, 256, e);
	if (strcmp(k, "max_conns") == 0)
		return set_int(&c->max_conns, v, 1, 1000000, e);
	if (strcmp(k, "rate_per_min") == 0)
		return set_int(&c->rate_per_min, v, 1, 100000000, e);
	if (strcmp(k, "max_body") == 0)
		return pkid_parse_int(v, 1024, 64 * 1024 * 1024, &c->max_body,
		    e);
	if (strcmp(k, "tls_names") == 0)
		return set_str(c->tls_names, sizeof(c->tls_names), v, e);
	if (strcmp(k, "client_ca") == 0)
		return set_str(c->client_ca, sizeof(c->client_ca), v, e);
	return set_server_limit(c, k, v, e);
}

static enum pkid_code
set_scep_key(struct pkid_config *c, const char *k, const char *v,
    struct pkid_err *e)
{
	if (strcmp(k, "challenge") == 0)
		return set_str(c->scep_challenge, sizeof(c->scep_challenge), v,
		    e);
	if (strcmp(k, "profile") == 0)
		return set_str(c->scep_profile, sizeof(c->scep_profile), v, e);
	if (strcmp(k, "compat") == 0) {
		if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
			return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
			    "compat is 'on' or 'off', not '%s'", v);
		c->scep_compat = strcmp(v, "on") == 0;
		return PKID_OK;
	}
	if (strcmp(k, "upstream_label") == 0)
		return set_str(c->scep_upstream_label,
		    sizeof(c->scep_upstream_label), v, e);
	return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY,
	    "unknown key '%s' in [scep] (known: challenge, profile, compat, "
	    "upstream_label)", k);
}

static struct pkid_profile *
profile_get_or_add(struct pkid_config *c, const char *name,
    struct pkid_err *e)
{
	int i;

	for (i = 0; i < c->n_profiles; i++)
		if (strcmp(c->profiles[i].name, name) == 0)
			return &c->profiles[i];
	/* ']' or a line break (through --set) would not read back. */
	if (c->n_profiles >= PKID_MAX_PROFILES || strlen(name) >= 64 ||
	    name[0] == '\0' || strpbrk(name, "]\r\n") != NULL) {
		PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
		    "profile name '%s' is empty, too long, or too many profiles",
		    name);
		return NULL;
	}
	profile_defaults(&c->profiles[c->n_profiles], name);
	return &c->profiles[c->n_profiles++];
}

/*
 * A value pkid_config_write can write back as it is: inih would read a ';'
 * at the start or after white space as a comment, drop surrounding white
 * space, and a line break (possible through --set) would start a new line.
 */
static int
value_writable(const char *v)
{
	size_t i, n = strlen(v);

	if (n > 0 && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' ||
	    v[n - 1] == '\t'))
		return 0;
	for (i = 0; i < n; i++) {
		if (v[i] == '\n' || v[i] == '\r')
			return 0;
		if (v[i] == ';' && (i == 0 || v[i - 1] == ' ' ||
		    v[i - 1] == '\t'))
			return 0;
	}
	return 1;
}

/* [store] url: where the CA's records are (store.h). */
static enum pkid_code
set_store_key(struct pkid_config *c, const char *k, const char *v,
    struct pkid_err *e)
{
	if (strcmp(k, "url") != 0)
		return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY, "unknown key '%s' "
		    "in [store] (known: url)", k);
	if (strlen(v) >= sizeof(c->store_url))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[store] url is "
		    "longer than %zu characters", sizeof(c->store_url) - 1);
	if (!(strncmp(v, "sqlite:", 7) == 0 && v[7] != '\0') &&
	    !(strncmp(v, "sqlite:", 7) != 0 && pkid_store_url_is_pg(v)))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[store] url is "
		    "sqlite:PATH (relative to the CA directory), "
		    "postgresql://USER@HOST:PORT/DB or a libpq connection "
		    "string (host=... dbname=...), not '%s'", v);
	copy_str(c->store_url, sizeof(c->store_url), v);
	return PKID_OK;
}

/* Set one key of one section, "profile NAME" included. */
static enum pkid_code
config_set_kv(struct pkid_config *c, const char *section, const char *k,
    const char *v, struct pkid_err *e)
{
	struct pkid_profile *p;

	if (strlen(v) >= PKID_MAX_CONFIG_VALUE)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "value too long");
	if (!value_writable(v))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "value '%s' has a "
		    "line break, surrounding spaces or a ';' that would read "
		    "back as a comment", v);
	if (strcmp(section, "ca") == 0)
		return set_ca_key(c, k, v, e);
	if (strcmp(section, "server") == 0)
		return set_server_key(c, k, v, e);
	if (strcmp(section, "scep") == 0)
		return set_scep_key(c, k, v, e);
	if (strncmp(section, "profile ", 8) == 0) {
		if ((p = profile_get_or_add(c, section + 8, e)) == NULL)
			return e->code;
		return set_profile_key(p, k, v, e);
	}
	if (strcmp(section, "est") == 0 || strncmp(section, "est ", 4) == 0)
		return pkid_cfg_est_set(c, section, k, v, e);
	if (strcmp(section, "trust") == 0)
		return pkid_cfg_trust_set(c, k, v, e);
	if (strcmp(section, "status") == 0 || strcmp(section, "log") == 0)
		return pkid_cfg_status_set(c, section, k, v, e);
	if (strcmp(section, "hsm") == 0)
		return pkid_cfg_hsm_set(c, k, v, e);
	if (strcmp(section, "acme") == 0)
		return pkid_cfg_acme_set(c, k, v, e);
	if (strcmp(section, "store") == 0)
		return set_store_key(c, k, v, e);
	return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY,
	    "unknown section [%s] (known: [ca], [server], [scep], "
	    "[profile NAME], [est], [est LABEL], [trust], [status], [log], "
	    "[hsm], [acme], [store])", section);
}

/*
 * Hands inih one line at a time from a counted buffer: the text need not be
 * NUL-terminated, and each line is one inih line, so inih's line numbers and
 * ours agree (lines longer than CFG_MAX_LINE were refused before).
 */
struct line_reader {
	const char *p;		/* next unread byte */
	size_t left;		/* bytes not yet read */
	int line;		/* lines handed out so far */
};

static char *
read_line(char *str, int num, void *stream)
{
	struct line_reader *r = stream;
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
	return str;
}

struct parse_ctx {
	struct pkid_config *c;	/* being filled */
	struct line_reader rd;	/* the input, and the current line */
	struct pkid_err err;	/* first error of a handler */
	int err_line;		/* the line it was on */
};

static int
ini_cb(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *pc = user;
	struct pkid_err *e = &pc->err;

	if (e->code != PKID_OK)
		return 0;
	pc->err_line = pc->rd.line;
	if (section[0] == '\0')
		return PKID_ERR(e, PKID_E_CONFIG_SYNTAX,
		    "key '%s' outside any [section]", name), 0;
	return config_set_kv(pc->c, section, name, value, e) == PKID_OK;
}

enum pkid_code
pkid_config_parse(struct pkid_config *c, const char *name, const char *text,
    size_t len, struct pkid_err *e)
{
	struct parse_ctx pc;
	struct pkid_err local;
	size_t i, col = 0;
	int line = 1, r;

	if (e == NULL) {
		pkid_err_clear(&local);
		e = &local;
	}
	copy_str(c->path, sizeof(c->path), name);
	if (len > PKID_MAX_CONFIG_SIZE)
		return PKID_ERR(e, PKID_E_CONFIG_SYNTAX,
		    "%s: larger than %d bytes", name, PKID_MAX_CONFIG_SIZE);
	for (i = 0; i < len; i++) {
		if (text[i] == '\0')
			return PKID_ERR(e, PKID_E_CONFIG_SYNTAX,
			    "%s:%d: NUL byte in configuration", name, line);
		if (text[i] == '\n') {
			line++;
			col = 0;
		} else if (++col > CFG_MAX_LINE) {
			return PKID_ERR(e, PKID_E_CONFIG_SYNTAX,
			    "%s:%d: line longer than %d characters", name,
			    line, CFG_MAX_LINE);
		}
	}
	memset(&pc, 0, sizeof(pc));
	pc.c = c;
	pc.rd.p = text;
	pc.rd.left = len;
	pkid_err_clear(&pc.err);
	r = ini_parse_stream(read_line, &pc.rd, ini_cb, &pc);
	if (r == 0)
		return PKID_OK;
	if (r < 0)
		return PKID_ERR(e, PKID_E_NOMEM, "%s: cannot parse: no memory",
		    name);
	/* inih reports the first failing line; it is a syntax error unless
	 * a handler failed on that very line. */
	if (pc.err.code == PKID_OK || pc.err_line != r)
		return PKID_ERR(e, PKID_E_CONFIG_SYNTAX, "%s:%d: not a "
		    "[section] or key = value line", name, r);
	if (e->code != PKID_OK)
		return e->code;
	/* Prefix the location to the handler's message. */
	{
		char tmp[sizeof(e->detail) + 1200];

		snprintf(tmp, sizeof(tmp), "%s:%d: %s", name, r,
		    pc.err.detail);
		*e = pc.err;
		copy_str(e->detail, sizeof(e->detail), tmp);
	}
	return e->code;
}

enum pkid_code
pkid_config_load(struct pkid_config *c, const char *path, struct pkid_err *e)
{
	struct pkid_buf b;
	enum pkid_code rc;

	if ((rc = pkid_buf_read_file(&b, path, PKID_MAX_CONFIG_SIZE, e)) !=
	    PKID_OK)
		return rc;
	rc = pkid_config_parse(c, path, (const char *)b.p, b.len, e);
	pkid_buf_free(&b);
	return rc;
}

enum pkid_code
pkid_config_set(struct pkid_config *c, const char *assign,
    struct pkid_err *e)
{
	char tmp[PKID_MAX_CONFIG_VALUE + 128];
	char section[PKID_MAX_CONFIG_VALUE + 160];
	char *eq, *dot, *key;

	if (strlen(assign) >= sizeof(tmp))
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "--set too long");
	copy_str(tmp, sizeof(tmp), assign);
	eq = strchr(tmp, '=');
	if (eq == NULL)
		return PKID_ERR(e, PKID_E_CONFIG_SYNTAX,
		    "--set '%s' is not SECTION.KEY=VALUE", assign);
	*eq = '\0';
	key = strrchr(tmp, '.');
	if (key == NULL)
		return PKID_ERR(e, PKID_E_CONFIG_SYNTAX,
		    "--set '%s' is not SECTION.KEY=VALUE", assign);
	*key++ = '\0';
	if (strncmp(tmp, "profile.", 8) == 0) {
		snprintf(section, sizeof(section), "profile %s", tmp + 8);
	} else if (strncmp(tmp, "est.", 4) == 0) {
		snprintf(section, sizeof(section), "est %s", tmp + 4);
	} else {
		if ((dot = strchr(tmp, '.')) != NULL)
			return PKID_ERR(e, PKID_E_CONFIG_UNKNOWN_KEY,
			    "--set '%s': unknown section '%s'", assign, tmp);
		copy_str(section, sizeof(section), tmp);
	}
	if (config_set_kv(c, section, key, eq + 1, e) != PKID_OK) {
		pkid_err_ctx(e, "applying --set %s", assign);
		return e->code;
	}
	return PKID_OK;
}

static enum pkid_code
write_bits(struct pkid_buf *b, const char *key, const struct named_bit *tab,
    unsigned bits, struct pkid_err *e)
{
	int i, first = 1;
	enum pkid_code rc;

	if ((rc = pkid_buf_printf(b, e, "%s = ", key)) != PKID_OK)
		return rc;
	for (i = 0; tab[i].name != NULL; i++) {
		if (!(bits & tab[i].bit))
			continue;
		if ((rc = pkid_buf_printf(b, e, "%s%s", first ? "" : ", ",
		    tab[i].name)) != PKID_OK)
			return rc;
		first = 0;
	}
	return pkid_buf_printf(b, e, "\n");
}

static const char *
dur_text(int64_t s, char *buf, size_t len)
{
	if (s % 86400 == 0)
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, len, "%llds", (long long)s);
	return buf;
}

/* max_queue_delay as written: "off", "1s" or "250ms". */
static const char *
qdelay_text(int ms, char *buf, size_t len)
{
	if (ms < 0)
		snprintf(buf, len, "off");
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%ds", ms / 1000);
	else
		snprintf(buf, len, "%dms", ms);
	return buf;
}

static enum pkid_code
write_san(struct pkid_buf *b, const struct pkid_profile *p,
    struct pkid_err *e)
{
	char ip[INET6_ADDRSTRLEN];
	int i;
	enum pkid_code rc = PKID_OK;

	rc = pkid_buf_printf(b, e, "san_dns_suffixes = %s",
	    p->allow_any_dns ? "*" : "");
	for (i = 0; rc == PKID_OK && i < p->n_dns; i++)
		rc = pkid_buf_printf(b, e, "%s%s",
		    (i > 0 || p->allow_any_dns) ? ", " : "", p->san_dns[i]);
	if (rc == PKID_OK)
		rc = pkid_buf_printf(b, e, "\nsan_ip_ranges = %s",
		    p->allow_any_ip ? "*" : "");
	for (i = 0; rc == PKID_OK && i < p->n_ip; i++) {
		inet_ntop(p->san_ip[i].family, p->san_ip[i].addr, ip,
		    sizeof(ip));
		rc = pkid_buf_printf(b, e, "%s%s/%d",
		    (i > 0 || p->allow_any_ip) ? ", " : "", ip,
		    p->san_ip[i].prefix);
	}
	if (rc == PKID_OK)
		rc = pkid_buf_printf(b, e, "\n");
	return rc;
}

static enum pkid_code
write_profile(struct pkid_buf *b, const struct pkid_profile *p,
    struct pkid_err *e)
{
	char d1[32], d2[32];
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_buf_printf(b, e, "\n[profile %s]\nlifetime = %s\n"
	    "backdate = %s\n", p->name, dur_text(p->lifetime, d1, sizeof(d1)),
	    dur_text(p->backdate, d2, sizeof(d2))));
	PKID_TRY(write_bits(b, "key_usage", ku_names, p->key_usage, e));
	PKID_TRY(write_bits(b, "ext_key_usage", eku_names, p->eku, e));
	PKID_TRY(write_bits(b, "key_types", kt_names, p->key_types, e));
	PKID_TRY(pkid_buf_printf(b, e, "min_rsa_bits = %d\nsan_mode = %s\n",
	    p->min_rsa_bits, p->san_mode == PKID_SAN_TAKE ? "take" :
	    "replace"));
	PKID_TRY(write_san(b, p, e));
	PKID_TRY(pkid_buf_printf(b, e, "subject = %s\napproval = %s\n"
	    "renew_at = %d%%\n", p->subject, p->manual_approval ? "manual" :
	    "auto", p->renew_at));
	rc = PKID_OK;
out:
	return rc;
}

enum pkid_code
pkid_config_write(const struct pkid_config *c, struct pkid_buf *b,
    struct pkid_err *e)
{
	char d[32], d2[32], qd[16];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(b, PKID_MAX_CONFIG_SIZE);
	PKID_TRY(pkid_buf_printf(b, e,
	    "; pkid configuration. Durations: 600d, 12h, 30m, 45s.\n"
	    "; 'man 5 pkid.conf' lists what each section takes.\n\n"
	    "[ca]\nname = %s\ndigest = %s\ncrl_next_update = %s\n"
	    "; auto: http://HOST:PORT/crl/NAME.crl and /ca/NAME.cer on the "
	    "[server] http\n; listener unless it is loopback only; off: "
	    "none\ncrl_url = %s\nca_issuers_url = %s\n", c->ca_name, c->digest,
	    dur_text(c->crl_next_update, d, sizeof(d)),
	    c->crl_url[0] != '\0' ? c->crl_url : "off",
	    c->ca_issuers_url[0] != '\0' ? c->ca_issuers_url : "off"));
	PKID_TRY(pkid_buf_printf(b, e, "; the AIA OCSP URL of issued "
	    "certificates (auto: http://HOST:PORT/ocsp)\nocsp_url = %s\n"
	    "ocsp_next_update = %s\n", c->ocsp_url[0] != '\0' ? c->ocsp_url :
	    "off", dur_text(c->ocsp_next_update, d, sizeof(d))));
	PKID_TRY(pkid_buf_printf(b, e, "; derived: the longest profile "
	    "lifetime plus rollover_margin\nrollover_overlap = %s\n"
	    "rollover_margin = %s\n", c->rollover_overlap > 0 ?
	    dur_text(c->rollover_overlap, d, sizeof(d)) : "derived",
	    dur_text(c->rollover_margin, d2, sizeof(d2))));
	PKID_TRY(pkid_buf_printf(b, e, "\n[server]\nlisten = %s\nhttp = %s\n"
	    "workers = %d\nmax_conns = %d\nmax_conns_per_addr = %d\n"
	    "rate_per_min = %d\nmax_body = %lld\nheader_timeout = %ds\n"
	    "body_timeout = %ds\nhandler_threads = %d\n"
	    "max_queue_delay = %s\ntls_tickets = %d\ntls_names = %s\n"
	    "client_ca = %s\n",
	    c->listen, c->http, c->workers, c->max_conns,
	    c->max_conns_per_addr, c->rate_per_min, (long long)c->max_body,
	    c->header_timeout, c->body_timeout, c->handler_threads,
	    qdelay_text(c->max_queue_delay_ms, qd, sizeof(qd)), c->tls_tickets,
	    c->tls_names,
	    c->client_ca));
	PKID_TRY(pkid_buf_printf(b, e, "\n[scep]\nchallenge = %s\n"
	    "profile = %s\ncompat = %s\nupstream_label = %s\n",
	    c->scep_challenge, c->scep_profile, c->scep_compat ? "on" : "off",
	    c->scep_upstream_label));
	for (i = 0; i < c->n_profiles; i++)
		PKID_TRY(write_profile(b, &c->profiles[i], e));
	PKID_TRY(pkid_cfg_est_write(c, b, e));
	PKID_TRY(pkid_cfg_trust_write(c, b, e));
	PKID_TRY(pkid_cfg_status_write(c, b, e));
	PKID_TRY(pkid_cfg_hsm_write(c, b, e));
	PKID_TRY(pkid_cfg_acme_write(c, b, e));
	PKID_TRY(pkid_buf_printf(b, e, "\n; where the records are: "
	    "sqlite:PATH (relative to this directory) or\n; "
	    "postgresql://USER@HOST:PORT/DB, shared by several pkid nodes "
	    "(a password\n; belongs in ~/.pgpass, not here)\n[store]\n"
	    "url = %s\n", c->store_url));
	rc = PKID_OK;
out:
	if (rc != PKID_OK)
		pkid_buf_free(b);
	return rc;
}
