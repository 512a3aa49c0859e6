/*
 * limbo_harness.c - run an x509-limbo corpus (C2SP) through pkid's
 * validator, or with --openssl through plain X509_verify_cert (strict), and
 * print the x509-limbo results JSON on stdout.
 *
 *   limbo-harness [--openssl] [-v] CORPUS.json
 *
 * The profile follows the corpus' namespaces: "webpki::" cases (and
 * "pkid-webpki::" in pkid's own tests/data/limbo/pkid-rules.json) state the
 * CA/Browser Forum rules (pkid's WEBPKI profile), every other namespace
 * RFC 5280's (pkid's default profile).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/limits.h"
#include "verify/verify.h"
#include "x509/load.h"

/* One test case, decoded. */
struct lcase {
	const char *id;			/* testcase id */
	STACK_OF(X509) *trusted;	/* owned */
	STACK_OF(X509) *untrusted;	/* owned */
	X509 *leaf;			/* owned */
	STACK_OF(X509_CRL) *crls;	/* owned */
	struct pkid_verify_opts o;	/* host/ip/email borrow the JSON */
	int client;			/* CLIENT validation */
};

/* A case's result: actual_result and context. */
struct lres {
	const char *result;	/* SUCCESS, FAILURE, SKIPPED */
	char context[600];	/* code, or the skip reason */
};

static void
lcase_free(struct lcase *c)
{
	sk_X509_pop_free(c->trusted, X509_free);
	sk_X509_pop_free(c->untrusted, X509_free);
	sk_X509_CRL_pop_free(c->crls, X509_CRL_free);
	X509_free(c->leaf);
	memset(c, 0, sizeof(*c));
}

static int
load_pems(json_t *arr, STACK_OF(X509) **out)
{
	struct pkid_err e;
	size_t i;
	json_t *v;

	*out = sk_X509_new_null();
	if (*out == NULL)
		return 0;
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		pkid_err_clear(&e);
		if (s == NULL || pkid_x509_load_certs((const uint8_t *)s,
		    strlen(s), out, &e) != PKID_OK)
			return 0;
	}
	return 1;
}

static int
load_crls(json_t *arr, STACK_OF(X509_CRL) **out)
{
	struct pkid_err e;
	X509_CRL *crl;
	size_t i;
	json_t *v;

	if ((*out = sk_X509_CRL_new_null()) == NULL)
		return 0;
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		pkid_err_clear(&e);
		if (s == NULL || pkid_x509_load_crl((const uint8_t *)s,
		    strlen(s), &crl, &e) != PKID_OK)
			return 0;
		if (!sk_X509_CRL_push(*out, crl)) {
			X509_CRL_free(crl);
			return 0;
		}
	}
	return 1;
}

/* An RFC 3339 date-time (fractions floored, any offset); 0 on failure. */
static time_t
parse_time(const char *s)
{
	struct pkid_err e;
	time_t t = 0;

	pkid_err_clear(&e);
	if (pkid_time_parse_rfc3339(s, &t, &e) != PKID_OK)
		return 0;
	return t;
}

static const char *
set_peer(struct lcase *c, json_t *t)
{
	json_t *pn = json_object_get(t, "expected_peer_name");
	const char *kind, *val;

	if (!json_is_object(pn))
		return NULL;
	kind = json_string_value(json_object_get(pn, "kind"));
	val = json_string_value(json_object_get(pn, "value"));
	if (kind == NULL || val == NULL)
		return "expected_peer_name without kind or value";
	if (strcmp(kind, "DNS") == 0)
		c->o.host = val;
	else if (strcmp(kind, "IP") == 0)
		c->o.ip = val;
	else if (strcmp(kind, "RFC822") == 0)
		c->o.email = val;
	else
		return "peer name kind not supported";
	return NULL;
}

static const char *
set_usages(struct lcase *c, json_t *t)
{
	static const char *const kus[] = { "digitalSignature",
	    "contentCommitment", "keyEncipherment", "dataEncipherment",
	    "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly",
	    "decipherOnly" };
	static const unsigned bits[] = { KU_DIGITAL_SIGNATURE,
	    KU_NON_REPUDIATION, KU_KEY_ENCIPHERMENT, KU_DATA_ENCIPHERMENT,
	    KU_KEY_AGREEMENT, KU_KEY_CERT_SIGN, KU_CRL_SIGN,
	    KU_ENCIPHER_ONLY, KU_DECIPHER_ONLY };
	size_t i, k;
	json_t *v;

	json_array_foreach(json_object_get(t, "key_usage"), i, v) {
		const char *s = json_string_value(v);

		for (k = 0; k < sizeof(bits) / sizeof(bits[0]); k++)
			if (s != NULL && strcmp(s, kus[k]) == 0)
				break;
		if (k == sizeof(bits) / sizeof(bits[0]))
			return "key usage not supported";
		c->o.required_ku |= bits[k];
	}
	json_array_foreach(json_object_get(t, "extended_key_usage"), i, v) {
		const char *s = json_string_value(v);

		if (s != NULL && strcmp(s, "serverAuth") == 0)
			c->o.purpose = PKID_PURPOSE_SERVER;
		else if (s != NULL && strcmp(s, "clientAuth") == 0)
			c->o.purpose = PKID_PURPOSE_CLIENT;
		else
			return "extended key usage not supported";
	}
	return NULL;
}

/* "webpki::..." (x509-limbo) or "pkid-webpki::..." (pkid-rules.json). */
static int
webpki_ns(const char *id)
{
	return strncmp(id, "webpki::", 8) == 0 ||
	    strncmp(id, "pkid-webpki::", 13) == 0;
}

/* NULL when the case is ready, else why it is skipped. */
static const char *
lcase_load(struct lcase *c, json_t *t)
{
	const char *kind, *tm, *why;
	STACK_OF(X509) *peer = NULL;
	json_t *depth;

	memset(c, 0, sizeof(*c));
	pkid_verify_opts_init(&c->o);
	c->id = json_string_value(json_object_get(t, "id"));
	if (c->id == NULL)
		return "testcase without id";
	kind = json_string_value(json_object_get(t, "validation_kind"));
	if (kind == NULL || (strcmp(kind, "SERVER") != 0 &&
	    strcmp(kind, "CLIENT") != 0))
		return "validation kind not supported";
	c->client = strcmp(kind, "CLIENT") == 0;
	c->o.purpose = c->client ? PKID_PURPOSE_CLIENT : PKID_PURPOSE_SERVER;
	c->o.profile = webpki_ns(c->id) ? PKID_PROFILE_WEBPKI :
	    PKID_PROFILE_RFC5280;
	if (json_array_size(json_object_get(t, "signature_algorithms")) > 0)
		return "signature algorithm restrictions not supported";
	if ((why = set_usages(c, t)) != NULL || (why = set_peer(c, t)) != NULL)
		return why;
	if ((tm = json_string_value(json_object_get(t, "validation_time"))) &&
	    (c->o.at = parse_time(tm)) == 0)
		return "validation_time not understood";
	depth = json_object_get(t, "max_chain_depth");
	if (json_is_integer(depth))
		c->o.max_intermediates = (int)json_integer_value(depth);
	if (!load_pems(json_object_get(t, "trusted_certs"), &c->trusted) ||
	    !load_pems(json_object_get(t, "untrusted_intermediates"),
	    &c->untrusted) || !load_crls(json_object_get(t, "crls"), &c->crls))
		return NULL; /* undecodable input: the case fails */
	tm = json_string_value(json_object_get(t, "peer_certificate"));
	if (tm != NULL) {
		struct pkid_err e;

		pkid_err_clear(&e);
		if (pkid_x509_load_certs((const uint8_t *)tm, strlen(tm),
		    &peer, &e) == PKID_OK)
			c->leaf = sk_X509_shift(peer);
		sk_X509_pop_free(peer, X509_free);
	}
	return NULL;
}

static void
run_pkid(struct lcase *c, int verbose, struct lres *r)
{
	struct pkid_verify_ctx *ctx = NULL;
	struct pkid_verify_result res;
	struct pkid_err e;
	int i, ok = 1;

	memset(&res, 0, sizeof(res));
	pkid_err_clear(&e);
	r->result = "FAILURE";
	if (c->leaf == NULL || c->trusted == NULL || c->crls == NULL) {
		snprintf(r->context, sizeof(r->context), "cert-malformed");
		return;
	}
	if ((ctx = pkid_verify_ctx_new(&e)) == NULL)
		goto out;
	for (i = 0; ok && i < sk_X509_num(c->trusted); i++)
		ok = pkid_verify_add_trusted(ctx, sk_X509_value(c->trusted, i),
		    &e) == PKID_OK;
	for (i = 0; ok && i < sk_X509_num(c->untrusted); i++)
		ok = pkid_verify_add_untrusted(ctx,
		    sk_X509_value(c->untrusted, i), &e) == PKID_OK;
	for (i = 0; ok && i < sk_X509_CRL_num(c->crls); i++)
		ok = pkid_verify_add_crl(ctx, sk_X509_CRL_value(c->crls, i),
		    &e) == PKID_OK;
	if (ok && pkid_verify_run(ctx, &c->o, c->leaf, &res, &e) == PKID_OK)
		r->result = "SUCCESS";
out:
	snprintf(r->context, sizeof(r->context), "%s", r->result[0] == 'S' ?
	    "ok" : pkid_err_id(e.code));
	if (verbose)
		for (size_t k = 0; k < res.nfindings; k++)
			fprintf(stderr, "%s: %s: %s\n", c->id,
			    pkid_err_id(res.findings[k].code),
			    res.findings[k].message);
	pkid_verify_result_clear(&res);
	pkid_verify_ctx_free(ctx);
}

static void
run_openssl(struct lcase *c, struct lres *r)
{
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *vp;
	unsigned long flags = X509_V_FLAG_X509_STRICT;
	int i, ok = 0, verr;

	r->result = "FAILURE";
	snprintf(r->context, sizeof(r->context), "cert-malformed");
	if (c->leaf == NULL || c->trusted == NULL || c->crls == NULL)
		return;
	if ((st = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL)
		goto out;
	for (i = 0; i < sk_X509_num(c->trusted); i++)
		X509_STORE_add_cert(st, sk_X509_value(c->trusted, i));
	if (!X509_STORE_CTX_init(ctx, st, c->leaf, c->untrusted))
		goto out;
	vp = X509_STORE_CTX_get0_param(ctx);
	if (sk_X509_CRL_num(c->crls) > 0) {
		X509_STORE_CTX_set0_crls(ctx, c->crls);
		flags |= X509_V_FLAG_CRL_CHECK;
	}
	X509_VERIFY_PARAM_set_flags(vp, flags);
	if (c->o.at != 0)
		X509_VERIFY_PARAM_set_time(vp, c->o.at);
	if (c->o.max_intermediates >= 0)
		X509_VERIFY_PARAM_set_depth(vp, c->o.max_intermediates);
	if (c->o.host != NULL)
		X509_VERIFY_PARAM_set1_host(vp, c->o.host, 0);
	if (c->o.ip != NULL)
		X509_VERIFY_PARAM_set1_ip_asc(vp, c->o.ip);
	if (c->o.email != NULL)
		X509_VERIFY_PARAM_set1_email(vp, c->o.email, 0);
	X509_STORE_CTX_set_purpose(ctx, c->o.purpose == PKID_PURPOSE_CLIENT ?
	    X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER);
	ok = X509_verify_cert(ctx) == 1;
out:
	verr = ctx != NULL ? X509_STORE_CTX_get_error(ctx) :
	    X509_V_ERR_UNSPECIFIED;
	r->result = ok ? "SUCCESS" : "FAILURE";
	snprintf(r->context, sizeof(r->context), "%s", ok ? "ok" :
	    pkid_err_id(pkid_verify_map_x509_err(verr)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	ERR_clear_error();
}

static json_t *
run_case(json_t *t, int openssl, int verbose)
{
	struct lcase c;
	struct lres r;
	const char *skip;

	memset(&r, 0, sizeof(r));
	skip = lcase_load(&c, t);
	if (skip != NULL) {
		r.result = "SKIPPED";
		snprintf(r.context, sizeof(r.context), "%s", skip);
	} else if (openssl) {
		run_openssl(&c, &r);
	} else {
		run_pkid(&c, verbose, &r);
	}
	lcase_free(&c);
	return json_pack("{s:s, s:s, s:s}", "id",
	    json_string_value(json_object_get(t, "id")), "actual_result",
	    r.result, "context", r.context);
}

int
main(int argc, char **argv)
{
	struct pkid_buf b;
	struct pkid_err e;
	json_t *root = NULL, *out = NULL, *results, *t;
	json_error_t je;
	int openssl = 0, verbose = 0, a, rc = 2;
	size_t i;

	for (a = 1; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "--openssl") == 0)
			openssl = 1;
		else if (strcmp(argv[a], "-v") == 0)
			verbose = 1;
		else
			break;
	}
	if (a != argc - 1) {
		fprintf(stderr, "usage: limbo-harness [--openssl] [-v] "
		    "CORPUS.json\n");
		return 2;
	}
	pkid_err_clear(&e);
	memset(&b, 0, sizeof(b));
	/* The published limbo.json is tens of MiB: this tool, not a network
	 * parser, reads up to PKID_LIMBO_MAX_CORPUS. */
	if (pkid_buf_read_file(&b, argv[a], PKID_LIMBO_MAX_CORPUS, &e) !=
	    PKID_OK) {
		fprintf(stderr, "error: %s: %s\n", pkid_err_id(e.code),
		    e.detail);
		return 1;
	}
	root = json_loadb((const char *)b.p, b.len, 0, &je);
	pkid_buf_free(&b);
	if (root == NULL || !json_is_array(json_object_get(root,
	    "testcases"))) {
		fprintf(stderr, "error: %s: not an x509-limbo corpus (%s)\n",
		    argv[a], root == NULL ? je.text : "no testcases");
		goto out;
	}
	results = json_array();
	out = json_pack("{s:i, s:s, s:o}", "version", 1, "harness",
	    openssl ? "openssl-" OPENSSL_VERSION_STR " X509_verify_cert strict"
	    : "pkid-" PKID_VERSION, "results", results);
	json_array_foreach(json_object_get(root, "testcases"), i, t)
		json_array_append_new(results, run_case(t, openssl, verbose));
	json_dumpf(out, stdout, JSON_INDENT(1));
	fputc('\n', stdout);
	rc = 0;
out:
	json_decref(out);
	json_decref(root);
	return rc;
}
