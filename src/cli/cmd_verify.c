/*
 * cmd_verify.c - pkictl verify: validate a certificate (and the chain that
 * came with it) against trust anchors and print the diagnosis.
 *
 *   pkictl verify [--trust FILE|DIR]... [--store DIR] [--untrusted FILE]...
 *       [--host NAME | --ip ADDR] [--purpose server|client|any]
 *       [--at TIME] [--crl FILE]... [--profile rfc5280|webpki]
 *       [--cn-fallback] [--json] CERT
 *
 * Without --purpose the leaf's extKeyUsage picks it (clientAuth alone:
 * client; serverAuth: server; else the default, server); the output says
 * which purpose was checked and why.
 *
 * Exit 0 when valid, 1 with every finding (most important first), 2 on a
 * usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509v3.h>

#include "cli/cli.h"
#include "cli/trust_load.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/limits.h"
#include "verify/verify.h"
#include "x509/load.h"

#define VERIFY_USAGE "pkictl verify [--trust FILE|DIR]... [--store DIR] " \
	"[--untrusted FILE]... [--host NAME | --ip ADDR] " \
	"[--purpose server|client|any] [--at TIME] [--crl FILE]... " \
	"[--profile rfc5280|webpki] [--cn-fallback] [--json] CERT"
/* Most --trust, --untrusted or --crl options. */
#define MAX_INPUTS 32

/* The parsed command line. */
struct vargs {
	const char *trust[MAX_INPUTS];		/* --trust values */
	size_t ntrust;				/* how many */
	const char *untrusted[MAX_INPUTS];	/* --untrusted values */
	size_t nuntrusted;			/* how many */
	const char *crl[MAX_INPUTS];		/* --crl values */
	size_t ncrl;				/* how many */
	const char *store;			/* --store: a trust store */
	const char *cert;			/* the certificate file */
	int json;				/* --json */
	int purpose_set;			/* --purpose was given */
	const char *purpose_from;		/* why o.purpose: option, eku,
						 * default */
	struct pkid_verify_opts o;		/* validator options */
};

static int
push(const char **arr, size_t *n, const char *v)
{
	if (*n >= MAX_INPUTS)
		return pkictl_usage_err(VERIFY_USAGE, "more than %d files "
		    "given to one option", MAX_INPUTS);
	arr[(*n)++] = v;
	return 0;
}

static int
set_enum(const char *opt, const char *v, struct vargs *a)
{
	if (strcmp(opt, "purpose") == 0) {
		if (strcmp(v, "server") == 0)
			a->o.purpose = PKID_PURPOSE_SERVER;
		else if (strcmp(v, "client") == 0)
			a->o.purpose = PKID_PURPOSE_CLIENT;
		else if (strcmp(v, "any") == 0)
			a->o.purpose = PKID_PURPOSE_ANY;
		else
			return pkictl_usage_err(VERIFY_USAGE, "--purpose "
			    "must be server, client or any, not '%s'", v);
		return 0;
	}
	if (strcmp(v, "rfc5280") == 0)
		a->o.profile = PKID_PROFILE_RFC5280;
	else if (strcmp(v, "webpki") == 0)
		a->o.profile = PKID_PROFILE_WEBPKI;
	else
		return pkictl_usage_err(VERIFY_USAGE, "--profile must be "
		    "rfc5280 or webpki, not '%s'", v);
	return 0;
}

static int
parse_args(int argc, char **argv, struct vargs *a)
{
	static const struct option lopts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "store", required_argument, NULL, 's' },
		{ "untrusted", required_argument, NULL, 'u' },
		{ "host", required_argument, NULL, 'H' },
		{ "ip", required_argument, NULL, 'I' },
		{ "purpose", required_argument, NULL, 'p' },
		{ "at", required_argument, NULL, 'a' },
		{ "crl", required_argument, NULL, 'c' },
		{ "profile", required_argument, NULL, 'P' },
		{ "cn-fallback", no_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct pkid_err e;
	int ch, rc = 0;

	memset(a, 0, sizeof(*a));
	pkid_verify_opts_init(&a->o);
	optind = 1;
	opterr = 0;
	while (rc == 0 && (ch = getopt_long(argc, argv, "", lopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 't':
			rc = push(a->trust, &a->ntrust, optarg);
			break;
		case 'u':
			rc = push(a->untrusted, &a->nuntrusted, optarg);
			break;
		case 's':
			a->store = optarg;
			break;
		case 'c':
			rc = push(a->crl, &a->ncrl, optarg);
			break;
		case 'H':
			a->o.host = optarg;
			break;
		case 'I':
			a->o.ip = optarg;
			break;
		case 'p':
			rc = set_enum("purpose", optarg, a);
			a->purpose_set = 1;
			break;
		case 'P':
			rc = set_enum("profile", optarg, a);
			break;
		case 'a':
			pkid_err_clear(&e);
			if (pkid_time_parse(optarg, &a->o.at, &e) != PKID_OK)
				rc = pkictl_usage_err(VERIFY_USAGE, "--at: %s",
				    e.detail);
			break;
		case 'F':
			a->o.cn_fallback = 1;
			break;
		case 'j':
			a->json = 1;
			break;
		default:
			rc = pkictl_usage_err(VERIFY_USAGE, "unknown option "
			    "or missing value: %s", argv[optind - 1]);
			break;
		}
	}
	if (rc != 0)
		return rc;
	if (optind != argc - 1)
		return pkictl_usage_err(VERIFY_USAGE, "give exactly one "
		    "certificate file");
	if (a->o.host != NULL && a->o.ip != NULL)
		return pkictl_usage_err(VERIFY_USAGE, "--host and --ip "
		    "exclude each other");
	a->cert = argv[optind];
	return 0;
}

/* The certificates of an --untrusted file, added to c. */
static enum pkid_code
add_untrusted_file(struct pkid_verify_ctx *c, const char *path,
    struct pkid_err *e)
{
	STACK_OF(X509) *sk = NULL;
	enum pkid_code rc;

	if ((rc = pkid_x509_load_certs_file(path, &sk, e)) == PKID_OK)
		rc = pkictl_verify_add_all(c, sk, 0, e);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static enum pkid_code
add_crl_file(struct pkid_verify_ctx *c, const char *path, struct pkid_err *e)
{
	struct pkid_buf b;
	X509_CRL *crl = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&b, 0, sizeof(b));
	PKID_TRY(pkid_buf_read_file(&b, path, PKID_MAX_CRL_SIZE, e));
	PKID_TRY(pkid_x509_load_crl(b.p, b.len, &crl, e));
	PKID_TRY(pkid_verify_add_crl(c, crl, e));
	rc = PKID_OK;
out:
	if (rc != PKID_OK)
		pkid_err_ctx(e, "reading CRL %s", path);
	X509_CRL_free(crl);
	pkid_buf_free(&b);
	return rc;
}

/*
 * Without --purpose, the purpose the leaf's extKeyUsage states: clientAuth
 * alone means client, serverAuth (alone or with clientAuth) server; no
 * extKeyUsage, anyExtendedKeyUsage or neither of the two keep the default
 * (server). Sets a->purpose_from to say which.
 */
static void
pick_purpose(struct vargs *a, X509 *leaf)
{
	uint32_t xku;

	if (a->purpose_set) {
		a->purpose_from = "option";
		return;
	}
	a->purpose_from = "default";
	if (!(X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE))
		return;
	xku = X509_get_extended_key_usage(leaf);
	if (xku & XKU_ANYEKU)
		return;
	if ((xku & XKU_SSL_SERVER) && (xku & XKU_SSL_CLIENT)) {
		a->o.purpose = PKID_PURPOSE_SERVER;
		a->purpose_from = "eku-both";
	} else if (xku & XKU_SSL_SERVER) {
		a->o.purpose = PKID_PURPOSE_SERVER;
		a->purpose_from = "eku";
	} else if (xku & XKU_SSL_CLIENT) {
		a->o.purpose = PKID_PURPOSE_CLIENT;
		a->purpose_from = "eku";
	}
}

static const char *
purpose_name(enum pkid_verify_purpose p)
{
	return p == PKID_PURPOSE_SERVER ? "server" : p ==
	    PKID_PURPOSE_CLIENT ? "client" : "any";
}

/* Load everything; *leaf is the first certificate of the CERT file. */
static enum pkid_code
load_inputs(struct vargs *a, struct pkid_verify_ctx *c, X509 **leaf,
    struct pkid_err *e)
{
	STACK_OF(X509) *sk = NULL, *anchors = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	size_t i;
	int k;

	PKID_TRY(pkictl_trust_load_all(a->trust, a->ntrust, a->store, &anchors,
	    e));
	PKID_TRY(pkictl_verify_add_all(c, anchors, 1, e));
	for (i = 0; i < a->nuntrusted; i++)
		PKID_TRY(add_untrusted_file(c, a->untrusted[i], e));
	for (i = 0; i < a->ncrl; i++)
		PKID_TRY(add_crl_file(c, a->crl[i], e));
	PKID_TRY(pkid_x509_load_certs_file(a->cert, &sk, e));
	/* The rest of the CERT file is the chain the peer sent. */
	for (k = 1; k < sk_X509_num(sk); k++)
		PKID_TRY(pkid_verify_add_untrusted(c, sk_X509_value(sk, k), e));
	*leaf = sk_X509_shift(sk);
	rc = PKID_OK;
out:
	sk_X509_pop_free(anchors, X509_free);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static void
print_json(const struct pkid_verify_result *r, const struct vargs *a)
{
	json_t *o, *f = json_array(), *n = json_array();
	size_t i;

	for (i = 0; i < r->nfindings; i++) {
		const struct pkid_verify_finding *x = &r->findings[i];

		json_array_append_new(f, pkictl_finding_json(x->code,
		    x->message, x->remedy, x->depth, x->subject));
	}
	for (i = 0; i < r->nnotes; i++)
		json_array_append_new(n, json_string(r->notes[i]));
	o = json_pack("{s:b, s:s, s:o, s:o, s:b, s:b, s:o}", "valid",
	    r->valid, "code", pkid_err_id(r->code), "findings", f, "path",
	    pkictl_path_json(r->path), "path_complete", r->path_complete,
	    "cn_fallback_used", r->cn_fallback_used, "notes", n);
	if (o != NULL) {
		json_object_set_new(o, "purpose",
		    json_string(purpose_name(a->o.purpose)));
		json_object_set_new(o, "purpose_from",
		    json_string(a->purpose_from));
	}
	pkictl_json_out(o);
}

static void
print_purpose(FILE *out, const struct vargs *a)
{
	const char *p = purpose_name(a->o.purpose);

	if (strcmp(a->purpose_from, "option") == 0)
		fprintf(out, "purpose: %s (--purpose)\n", p);
	else if (strcmp(a->purpose_from, "eku") == 0)
		fprintf(out, "purpose: %s (from the certificate's "
		    "extKeyUsage; --purpose to choose)\n", p);
	else if (strcmp(a->purpose_from, "eku-both") == 0)
		fprintf(out, "purpose: %s (the certificate's extKeyUsage "
		    "lists serverAuth and clientAuth; server checked, "
		    "--purpose client checks the other)\n", p);
	else
		fprintf(out, "purpose: %s (default: the certificate names no "
		    "TLS extKeyUsage; --purpose to choose)\n", p);
}

static void
print_text(const struct pkid_verify_result *r, const struct vargs *a)
{
	const char *cert = a->cert;
	FILE *out = r->valid ? stdout : stderr;
	char sub[256];
	size_t i;
	int k;

	if (r->valid)
		fprintf(out, "ok: %s is valid\n", cert);
	for (i = 0; i < r->nfindings; i++)
		pkictl_print_finding(out, r->findings[i].code,
		    r->findings[i].message, r->findings[i].remedy);
	if (r->nlost > 0)
		fprintf(out, "note: %zu more findings not shown\n", r->nlost);
	fprintf(out, "path%s:", r->valid ? "" : r->path_complete ?
	    " tried" : " tried (incomplete)");
	for (k = 0; k < sk_X509_num(r->path); k++) {
		pkid_x509_name_text(X509_get_subject_name(
		    sk_X509_value(r->path, k)), sub, sizeof(sub));
		fprintf(out, "%s [%d] %s", k ? " <-" : "", k, sub);
	}
	fputc('\n', out);
	print_purpose(out, a);
	for (i = 0; i < r->nnotes; i++)
		fprintf(out, "note: %s\n", r->notes[i]);
}

int
pkictl_cmd_verify(int argc, char **argv)
{
	struct pkid_verify_ctx *c = NULL;
	struct pkid_verify_result res;
	struct pkid_err e;
	struct vargs a;
	X509 *leaf = NULL;
	int rc;

	memset(&res, 0, sizeof(res));
	pkid_err_clear(&e);
	if ((rc = parse_args(argc, argv, &a)) != 0)
		return rc;
	if ((c = pkid_verify_ctx_new(&e)) == NULL ||
	    load_inputs(&a, c, &leaf, &e) != PKID_OK) {
		rc = pkictl_print_err(&e, a.json);
		goto out;
	}
	pick_purpose(&a, leaf);
	if (pkid_verify_run(c, &a.o, leaf, &res, &e) != PKID_OK &&
	    res.nfindings == 0) {
		/* An internal failure, not a verdict on the certificate. */
		rc = pkictl_print_err(&e, a.json);
		goto out;
	}
	if (a.json)
		print_json(&res, &a);
	else
		print_text(&res, &a);
	rc = res.valid ? PKICTL_EXIT_OK : PKICTL_EXIT_FAIL;
out:
	pkid_verify_result_clear(&res);
	pkid_verify_ctx_free(c);
	X509_free(leaf);
	return rc;
}
