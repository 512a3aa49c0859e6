/*
 * chain.c - step 4 of the walk: the chain the server presented, described
 * and validated by pkid's verifier for the name actually used; a missing
 * issuer is named, and its AIA caIssuers URL fetched to tell a missing
 * intermediate (the server should send it) from an untrusted issuer.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "ca/policy.h"
#include "core/clock.h"
#include "diag/diag_int.h"
#include "verify/verify.h"
#include "x509/load.h"

/* Colon hex of a key identifier into out ("" when none). */
static void
keyid_text(const ASN1_OCTET_STRING *id, char *out, size_t n)
{
	char *h;

	out[0] = '\0';
	if (id == NULL)
		return;
	h = OPENSSL_buf2hexstr(ASN1_STRING_get0_data(id),
	    ASN1_STRING_length(id));
	if (h != NULL)
		snprintf(out, n, "%s", h);
	OPENSSL_free(h);
}

static void
aki_text(X509 *x, char *out, size_t n)
{
	keyid_text(X509_get0_authority_key_id(x), out, n);
}

/* First http caIssuers URI of x into out; returns 1 when found. */
static int
aia_url(X509 *x, char *out, size_t n)
{
	AUTHORITY_INFO_ACCESS *aia;
	ACCESS_DESCRIPTION *ad;
	const char *s;
	int i, found = 0;

	out[0] = '\0';
	aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	for (i = 0; !found && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		if (OBJ_obj2nid(ad->method) != NID_ad_ca_issuers ||
		    ad->location->type != GEN_URI)
			continue;
		s = (const char *)ASN1_STRING_get0_data(
		    ad->location->d.uniformResourceIdentifier);
		if (strlen(s) < n && strncasecmp(s, "http://", 7) == 0) {
			snprintf(out, n, "%s", s);
			found = 1;
		}
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	ERR_clear_error();
	return found;
}

static void
key_text(X509 *x, char *out, size_t n)
{
	EVP_PKEY *k = X509_get0_pubkey(x);

	if (k == NULL)
		snprintf(out, n, "unreadable key");
	else
		pkid_key_describe(k, out, n);
}

static void
time_text(const ASN1_TIME *t, char *out, size_t n)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		snprintf(out, n, "(unreadable)");
		return;
	}
	pkid_time_fmt(timegm(&tm), out, n);
}

static void
describe_one(X509 *x, struct pkid_diag_cert *c)
{
	memset(c, 0, sizeof(*c));
	pkid_x509_name_text(X509_get_subject_name(x), c->subject,
	    sizeof(c->subject));
	pkid_x509_name_text(X509_get_issuer_name(x), c->issuer,
	    sizeof(c->issuer));
	time_text(X509_get0_notBefore(x), c->not_before,
	    sizeof(c->not_before));
	time_text(X509_get0_notAfter(x), c->not_after, sizeof(c->not_after));
	key_text(x, c->key, sizeof(c->key));
	snprintf(c->sig_alg, sizeof(c->sig_alg), "%s",
	    OBJ_nid2ln(X509_get_signature_nid(x)));
	keyid_text(X509_get0_subject_key_id(x), c->ski, sizeof(c->ski));
	aki_text(x, c->aki, sizeof(c->aki));
	aia_url(x, c->aia, sizeof(c->aia));
	pkid_x509_fingerprint(x, c->sha256);
	ERR_clear_error();
}

void
dchain_describe(struct dctx *d, enum pkid_diag_offer offer,
    STACK_OF(X509) *sk)
{
	struct pkid_diag_chain *c = &d->r->chains[offer];
	int i, n = sk_X509_num(sk);

	c->n = 0;
	for (i = 0; i < n && i < PKID_MAX_CHAIN_DEPTH; i++)
		describe_one(sk_X509_value(sk, i), &c->certs[c->n++]);
	if (n > PKID_MAX_CHAIN_DEPTH)
		dnote(d, "the server sent %d certificates; only the first %d "
		    "are shown", n, PKID_MAX_CHAIN_DEPTH);
}

/* Validate sk (leaf first) plus extra untrusted certificates. */
static enum pkid_code
run_verify(struct dctx *d, STACK_OF(X509) *sk, STACK_OF(X509) *extra,
    struct pkid_verify_result *res, struct pkid_err *e)
{
	struct pkid_verify_ctx *c = NULL;
	struct pkid_verify_opts o;
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	memset(res, 0, sizeof(*res));
	PKID_CHECK((c = pkid_verify_ctx_new(e)) != NULL, PKID_E_NOMEM,
	    "no memory");
	for (i = 0; i < sk_X509_num(d->o->trust); i++)
		PKID_TRY(pkid_verify_add_trusted(c,
		    sk_X509_value(d->o->trust, i), e));
	for (i = 1; i < sk_X509_num(sk); i++)
		PKID_TRY(pkid_verify_add_untrusted(c, sk_X509_value(sk, i),
		    e));
	for (i = 0; i < sk_X509_num(extra); i++)
		PKID_TRY(pkid_verify_add_untrusted(c, sk_X509_value(extra, i),
		    e));
	pkid_verify_opts_init(&o);
	o.purpose = PKID_PURPOSE_SERVER;
	o.at = d->now;
	if (d->r->name_is_ip)
		o.ip = d->r->name;
	else
		o.host = d->r->name;
	rc = pkid_verify_run(c, &o, sk_X509_value(sk, 0), res, e);
	/* A verdict on the chain is not a failure of the run. */
	if (res->valid || res->nfindings > 0)
		rc = PKID_OK;
out:
	pkid_verify_ctx_free(c);
	return rc;
}

/* The certificate at the top of an incomplete path, and its depth. */
static X509 *
path_top(const struct pkid_verify_result *res, int *depth)
{
	int n = sk_X509_num(res->path);

	*depth = n - 1;
	return n > 0 ? sk_X509_value(res->path, n - 1) : NULL;
}

/* What the AIA chase found. */
struct aia_chase {
	STACK_OF(X509) *extra;		/* owned: certificates fetched */
	int fetched;			/* successful fetches */
	char urls[320];			/* the URLs fetched */
	char failed[320];		/* why the last fetch failed, "" */
};

/* Follow caIssuers from the top of the path while it stays incomplete. */
static void
chase_aia(struct dctx *d, STACK_OF(X509) *sk, struct pkid_verify_result *res,
    struct aia_chase *a)
{
	struct pkid_err e;
	char url[256], seen[PKID_AIA_MAX_FETCHES][256];
	size_t used = 0;
	int i, k, dep, again;
	X509 *top;

	for (i = 0; i < PKID_AIA_MAX_FETCHES && !res->valid &&
	    !res->path_complete; i++) {
		if ((top = path_top(res, &dep)) == NULL || !aia_url(top, url,
		    sizeof(url)))
			return;
		for (k = 0, again = 0; k < i; k++)
			again |= strcmp(seen[k], url) == 0;
		if (again)
			return;
		snprintf(seen[i], sizeof(seen[i]), "%s", url);
		pkid_err_clear(&e);
		if (pkid_aia_fetch(url, d->timeout_ms / 1000, &a->extra, &e) !=
		    PKID_OK) {
			snprintf(a->failed, sizeof(a->failed), "%s: %.250s",
			    pkid_err_id(e.code), e.detail);
			return;
		}
		a->fetched++;
		used += (size_t)snprintf(a->urls + used, used <
		    sizeof(a->urls) ? sizeof(a->urls) - used : 0, "%s%s",
		    used ? ", " : "", url);
		if (used >= sizeof(a->urls))
			used = sizeof(a->urls) - 1;
		pkid_verify_result_clear(res);
		pkid_err_clear(&e);
		if (run_verify(d, sk, a->extra, res, &e) != PKID_OK)
			return;
	}
}

static int
is_trust_gap(enum pkid_code c)
{
	return c == PKID_E_MISSING_INTERMEDIATE ||
	    c == PKID_E_UNKNOWN_ISSUER || c == PKID_E_SELF_SIGNED_UNTRUSTED;
}

/* Copy the verifier's findings (but the trust gap when skip_gap). */
static void
copy_findings(struct dctx *d, const struct pkid_verify_result *res,
    int skip_gap, const char *suffix)
{
	const struct pkid_verify_finding *f;
	size_t i;

	for (i = 0; i < res->nfindings; i++) {
		f = &res->findings[i];
		if (skip_gap && is_trust_gap(f->code))
			continue;
		dfind(d, f->code, PKID_DIAG_CHAIN, f->depth, f->subject,
		    d->trust_rem[0] != '\0' && (f->code ==
		    PKID_E_UNKNOWN_ISSUER || f->code ==
		    PKID_E_SELF_SIGNED_UNTRUSTED) ? d->trust_rem : f->remedy,
		    "%s%s", f->message, suffix != NULL &&
		    (f->code == PKID_E_MISSING_INTERMEDIATE ||
		    f->code == PKID_E_UNKNOWN_ISSUER) ? suffix : "");
	}
}

/* The issuer the first path lacked: "'CN=X' (key id AB:..)". */
static void
missing_issuer(X509 *top, char *out, size_t n)
{
	char iss[256], kid[96];

	pkid_x509_name_text(X509_get_issuer_name(top), iss, sizeof(iss));
	aki_text(top, kid, sizeof(kid));
	snprintf(out, n, "'%s' (key id %s)", iss, kid[0] != '\0' ? kid :
	    "unknown: no authorityKeyIdentifier");
}

static void
emit_after_aia(struct dctx *d, X509 *top0, int dep0,
    const struct pkid_verify_result *res, const struct aia_chase *a)
{
	char iss[360], sub[256], rem[800], last[256];
	X509 *top;
	int dep;

	missing_issuer(top0, iss, sizeof(iss));
	pkid_x509_name_text(X509_get_subject_name(top0), sub, sizeof(sub));
	if (res->path_complete) {
		snprintf(rem, sizeof(rem), "configure the server to send the "
		    "intermediate %s after its own certificate (a full-chain "
		    "file); clients that do not fetch AIA fail", iss);
		dfind(d, PKID_E_MISSING_INTERMEDIATE, PKID_DIAG_CHAIN, dep0,
		    sub, rem, "cert[%d] %s: its issuer %s was not sent by the "
		    "server; fetched from its AIA caIssuers URL (%s), the path "
		    "then reaches a trust anchor", dep0, sub, iss, a->urls);
		copy_findings(d, res, 1, NULL);
		return;
	}
	top = path_top(res, &dep);
	last[0] = '\0';
	if (top != NULL)
		pkid_x509_name_text(X509_get_subject_name(top), last,
		    sizeof(last));
	snprintf(rem, sizeof(rem), "if '%s' is meant to be trusted, add its "
	    "root CA to the trust store (--trust); otherwise get a "
	    "certificate from a CA the clients trust", last);
	dtrust_remedy(d, top, dep);
	if (d->trust_rem[0] != '\0')
		snprintf(rem, sizeof(rem), "%s", d->trust_rem);
	dfind(d, PKID_E_UNKNOWN_ISSUER, PKID_DIAG_CHAIN, dep0, sub, rem,
	    "cert[%d] %s: its issuer %s was fetched from AIA (%s), but the "
	    "chain it starts ends at '%s', which no trust anchor given "
	    "issued", dep0, sub, iss, a->urls, last);
	copy_findings(d, res, 1, NULL);
}

/*
 * No AIA: the absent issuer may be a root the client does not trust or an
 * intermediate the server did not send; nothing here tells which, so say
 * so and give both fixes.
 */
static void
emit_no_aia(struct dctx *d, X509 *top, int dep,
    const struct pkid_verify_result *res, const char *iss)
{
	char sub[256], rem[800];

	if (!is_trust_gap(res->findings[0].code)) {
		copy_findings(d, res, 0, NULL);
		return;
	}
	pkid_x509_name_text(X509_get_subject_name(top), sub, sizeof(sub));
	snprintf(rem, sizeof(rem), "if %s is an intermediate CA, configure "
	    "the server to send it after its own certificate (a full-chain "
	    "file); if it is a root CA, add it to the trust store (--trust) "
	    "or get a certificate from a CA the clients trust", iss);
	/* The issuer is in the trust bundle given: that tells which. */
	if (d->trust_rem[0] != '\0')
		snprintf(rem, sizeof(rem), "%s", d->trust_rem);
	dfind(d, res->findings[0].code, PKID_DIAG_CHAIN, dep, sub, rem,
	    "cert[%d] %s: its issuer %s was not sent by the server and is "
	    "not a trust anchor, and cert[%d] has no AIA caIssuers URL: it "
	    "cannot be told whether that issuer is a root this client does "
	    "not trust or an intermediate the server failed to send", dep,
	    sub, iss, dep);
	copy_findings(d, res, 1, NULL);
}

static void
emit_findings(struct dctx *d, STACK_OF(X509) *sk,
    struct pkid_verify_result *res)
{
	struct aia_chase a;
	char iss[360], url[256], suffix[800];
	X509 *top0;
	int dep0;

	memset(&a, 0, sizeof(a));
	top0 = path_top(res, &dep0);
	if (!res->path_complete)
		dtrust_remedy(d, top0, dep0);
	/* A self-signed top has no issuer to look for. */
	if (top0 == NULL || res->path_complete ||
	    res->findings[0].code == PKID_E_SELF_SIGNED_UNTRUSTED) {
		copy_findings(d, res, 0, NULL);
		return;
	}
	X509_up_ref(top0);
	missing_issuer(top0, iss, sizeof(iss));
	if (!aia_url(top0, url, sizeof(url))) {
		dnote(d, "cert[%d] has no AIA caIssuers URL: a missing "
		    "intermediate cannot be told from an untrusted issuer",
		    dep0);
		emit_no_aia(d, top0, dep0, res, iss);
		X509_free(top0);
		return;
	}
	chase_aia(d, sk, res, &a);
	if (a.fetched > 0) {
		emit_after_aia(d, top0, dep0, res, &a);
	} else {
		snprintf(suffix, sizeof(suffix), "; missing issuer %s%s%s",
		    iss, a.failed[0] ? "; AIA fetch failed: " : "", a.failed);
		copy_findings(d, res, 0, suffix);
	}
	X509_free(top0);
	sk_X509_pop_free(a.extra, X509_free);
}

/* The chain step's summary: the name only when the name is the problem. */
static void
chain_failed_step(struct dctx *d, const struct pkid_verify_result *res)
{
	char iss[256];
	X509 *top;
	int dep;

	if (res->code == PKID_E_NAME_MISMATCH ||
	    res->code == PKID_E_IP_NOT_IN_SAN) {
		dstep(d, PKID_DIAG_CHAIN, 0, "not valid for %s '%s': %s",
		    d->r->name_is_ip ? "IP" : "name", d->r->name,
		    pkid_err_id(res->code));
		return;
	}
	top = path_top(res, &dep);
	if (is_trust_gap(res->code) && top != NULL &&
	    res->code != PKID_E_SELF_SIGNED_UNTRUSTED) {
		pkid_x509_name_text(X509_get_issuer_name(top), iss,
		    sizeof(iss));
		dstep(d, PKID_DIAG_CHAIN, 0, "no path to a trust anchor: the "
		    "issuer '%s' of cert[%d] was not sent and is not trusted "
		    "(%s)", iss, dep, pkid_err_id(res->code));
		return;
	}
	dstep(d, PKID_DIAG_CHAIN, 0, "not valid: %s", pkid_err_id(res->code));
}

void
dchain_validate(struct dctx *d, enum pkid_diag_offer offer, int emit)
{
	struct pkid_diag_chain *c = &d->r->chains[offer];
	STACK_OF(X509) *sk = d->presented[offer];
	struct pkid_verify_result res;
	struct pkid_err e;
	char anchor[256];
	int n;

	pkid_err_clear(&e);
	if (run_verify(d, sk, NULL, &res, &e) != PKID_OK) {
		dnote(d, "validation of the %s chain failed to run: %s",
		    pkid_diag_offer_name(offer), e.detail);
		pkid_verify_result_clear(&res);
		return;
	}
	c->valid = res.valid;
	c->code = res.code;
	if (res.nfindings > 0)
		snprintf(c->why, sizeof(c->why), "%s", res.findings[0].message);
	n = sk_X509_num(res.path);
	anchor[0] = '\0';
	if (n > 0)
		pkid_x509_name_text(X509_get_subject_name(
		    sk_X509_value(res.path, n - 1)), anchor, sizeof(anchor));
	if (emit && res.valid)
		dstep(d, PKID_DIAG_CHAIN, 1, "valid for %s '%s': %d "
		    "certificates up to the trust anchor '%s'",
		    d->r->name_is_ip ? "IP" : "name", d->r->name, n, anchor);
	else if (emit)
		chain_failed_step(d, &res);
	if (emit && !res.valid)
		emit_findings(d, sk, &res);
	pkid_verify_result_clear(&res);
}
