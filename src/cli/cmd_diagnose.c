/*
 * cmd_diagnose.c - pkictl diagnose: walk the way a TLS client goes (DNS,
 * TCP, TLS with SNI, the presented chain, per-algorithm certificates, the
 * clock) and say what is broken, with the facts and the fix.
 *
 *   pkictl diagnose https://HOST[:PORT] [--sni NAME] [--trust FILE|DIR]...
 *       [--store DIR] [--bundle URL|FILE [--bundle-anchor FILE]]
 *       [--timeout S] [--json]
 *
 * --bundle reads a published trust bundle (pkid serves one at
 * /trust/bundle.p7b): when the issuer a chain lacks is in it, the
 * unknown-issuer remedy names the 'pkictl trust import' that installs
 * it; --bundle-anchor checks the bundle's signer as the import would.
 *
 *   pkictl diagnose certsrv+https://HOST[:PORT]/certsrv --trust FILE
 *       --user U --password-file F [--auth basic|ntlm]
 *
 * walks the same steps to IIS, then logs in to AD CS web enrollment as the
 * RA's service account (GET /certsrv/, est/certsrv.c) and names the phase
 * that fails, with the code pkid's RA would log.
 *
 * Exit 0 when nothing is wrong, 1 with findings, 2 on a usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cli/cli.h"
#include "cli/trust_load.h"
#include "core/clock.h"
#include "diag/diag.h"
#include "est/certsrv.h"
#include "http/get.h"
#include "trust/bundle.h"

#define DIAG_USAGE "pkictl diagnose https://HOST[:PORT] [--sni NAME] " \
	"[--trust FILE|DIR]... [--store DIR] [--bundle URL|FILE " \
	"[--bundle-anchor FILE]] [--timeout S] [--json] | pkictl diagnose " \
	"certsrv+https://HOST[:PORT]/certsrv --trust FILE --user U " \
	"--password-file F [--auth basic|ntlm]"
/* Most --trust options. */
#define MAX_TRUST 32

/* The parsed command line. */
struct dargs {
	const char *trust[MAX_TRUST];	/* --trust values */
	size_t ntrust;			/* how many */
	const char *store;		/* --store */
	const char *bundle;		/* --bundle */
	const char *bundle_anchor;	/* --bundle-anchor */
	int json;			/* --json */
	const char *user;		/* --user (certsrv) */
	const char *password_file;	/* --password-file (certsrv) */
	int ntlm;			/* --auth ntlm */
	const char *certsrv_url;	/* the certsrv+https:// URL */
	char tls_url[1024];		/* https://HOST[:PORT] of it */
	struct pkid_diag_opts o;	/* what to diagnose */
};

static int
parse_args(int argc, char **argv, struct dargs *a)
{
	static const struct option lopts[] = {
		{ "sni", required_argument, NULL, 's' },
		{ "trust", required_argument, NULL, 't' },
		{ "store", required_argument, NULL, 'S' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "bundle-anchor", required_argument, NULL, 'B' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "auth", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct pkid_err e;
	int64_t v;
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			a->o.sni = optarg;
			break;
		case 't':
			if (a->ntrust >= MAX_TRUST)
				return pkictl_usage_err(DIAG_USAGE, "more "
				    "than %d --trust options", MAX_TRUST);
			a->trust[a->ntrust++] = optarg;
			break;
		case 'T':
			pkid_err_clear(&e);
			if (pkid_parse_int(optarg, 1, PKID_DIAG_MAX_TIMEOUT_S,
			    &v, &e) != PKID_OK)
				return pkictl_usage_err(DIAG_USAGE, "--timeout "
				    "takes seconds, 1 to %d",
				    PKID_DIAG_MAX_TIMEOUT_S);
			a->o.timeout_s = (int)v;
			break;
		case 'j':
			a->json = 1;
			break;
		case 'S':
			a->store = optarg;
			break;
		case 'b':
			a->bundle = optarg;
			break;
		case 'B':
			a->bundle_anchor = optarg;
			break;
		case 'u':
			a->user = optarg;
			break;
		case 'p':
			a->password_file = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "basic") != 0 &&
			    strcmp(optarg, "ntlm") != 0)
				return pkictl_usage_err(DIAG_USAGE, "--auth is "
				    "basic or ntlm, not '%s'", optarg);
			a->ntlm = strcmp(optarg, "ntlm") == 0;
			break;
		default:
			return pkictl_usage_err(DIAG_USAGE, "unknown option "
			    "or missing value: %s", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pkictl_usage_err(DIAG_USAGE, "give exactly one URL");
	if (a->bundle_anchor != NULL && a->bundle == NULL)
		return pkictl_usage_err(DIAG_USAGE, "--bundle-anchor goes with "
		    "--bundle");
	a->o.url = argv[optind];
	if (strncasecmp(a->o.url, "certsrv+https://", 16) == 0) {
		if (a->user == NULL || a->password_file == NULL ||
		    a->ntrust != 1)
			return pkictl_usage_err(DIAG_USAGE, "a certsrv+https:// "
			    "URL takes --user, --password-file and one --trust "
			    "FILE (the RA's upstream_cacert)");
		a->certsrv_url = a->o.url;
		/* The TLS steps go to https://HOST[:PORT]. */
		snprintf(a->tls_url, sizeof(a->tls_url), "https://%.*s",
		    (int)strcspn(a->o.url + 16, "/"), a->o.url + 16);
	} else if (a->user != NULL || a->password_file != NULL || a->ntlm)
		return pkictl_usage_err(DIAG_USAGE, "--user, --password-file "
		    "and --auth go with a certsrv+https:// URL");
	return 0;
}

/* certsrv: log in as the service account; 0 when it worked. */
static int
certsrv_login(const struct dargs *a)
{
	struct pkid_buf pw;
	struct pkid_err e;
	char pass[256], msg[1024];
	const char *phase = "login";
	enum pkid_code rc;

	memset(&pw, 0, sizeof(pw));
	pkid_err_clear(&e);
	if ((rc = pkid_buf_read_file(&pw, a->password_file, sizeof(pass) - 1,
	    &e)) == PKID_OK) {
		snprintf(pass, sizeof(pass), "%.*s", (int)strcspn(
		    (const char *)pw.p, "\r\n"), (const char *)pw.p);
		rc = pkid_certsrv_probe(a->certsrv_url, a->trust[0], a->user, pass,
		    a->ntlm, a->o.timeout_s > 0 ? a->o.timeout_s :
		    PKID_DIAG_TIMEOUT_S, NULL, &phase, &e);
		OPENSSL_cleanse(pass, sizeof(pass));
	}
	pkid_buf_free(&pw);
	if (rc == PKID_OK) {
		printf("login: AD CS web enrollment accepts %s (%s)\n",
		    a->user, a->ntlm ? "NTLM" : "Basic");
		printf("template: not checked: AD CS tells whether a template "
		    "may be used only when a request is submitted\n");
		return 0;
	}
	printf("%s: FAILED: %s\n", phase, pkid_err_id(e.code));
	fflush(stdout);
	pkictl_print_finding(stderr, e.code, pkid_err_message(&e, msg,
	    sizeof(msg)), pkid_err_remedy(e.code));
	return 1;
}

static json_t *
cert_json(const struct pkid_diag_cert *c, size_t depth)
{
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:s}", "depth", (int)depth, "subject", c->subject, "issuer",
	    c->issuer, "not_before", c->not_before, "not_after", c->not_after,
	    "key", c->key, "signature", c->sig_alg, "ski", c->ski, "aki",
	    c->aki, "aia", c->aia, "sha256", c->sha256);
}

static json_t *
chains_json(const struct pkid_diag_result *r)
{
	const struct pkid_diag_chain *c;
	json_t *arr = json_array(), *certs, *o;
	size_t k;
	int i;

	for (i = 0; arr != NULL && i < PKID_DIAG_NOFFERS; i++) {
		c = &r->chains[i];
		if (!c->tried)
			continue;
		certs = json_array();
		for (k = 0; certs != NULL && k < c->n; k++)
			json_array_append_new(certs, cert_json(&c->certs[k],
			    k));
		o = json_pack("{s:s, s:b, s:s, s:s, s:s, s:b, s:s, s:o}",
		    "offer", pkid_diag_offer_name(i), "present", c->present,
		    "failure", c->failure, "version", c->version, "cipher",
		    c->cipher, "valid", c->valid, "code", c->present ?
		    pkid_err_id(c->code) : "", "certs", certs);
		json_array_append_new(arr, o);
	}
	return arr;
}

static void
print_json(const struct pkid_diag_result *r, const char *url)
{
	json_t *st = json_array(), *f = json_array(), *n = json_array(), *o;
	const struct pkid_diag_finding *x;
	size_t i;

	for (i = 0; st != NULL && i < r->nsteps; i++)
		json_array_append_new(st, json_pack("{s:s, s:b, s:s}", "step",
		    pkid_diag_step_name(r->steps[i].step), "ok",
		    r->steps[i].ok, "text", r->steps[i].text));
	for (i = 0; f != NULL && i < r->nfindings; i++) {
		x = &r->findings[i];
		o = pkictl_finding_json(x->code, x->message, x->remedy,
		    x->depth, x->subject);
		if (o != NULL)
			json_object_set_new(o, "step", json_string(
			    pkid_diag_step_name(x->step)));
		json_array_append_new(f, o);
	}
	for (i = 0; n != NULL && i < r->nnotes; i++)
		json_array_append_new(n, json_string(r->notes[i]));
	pkictl_json_out(json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:b, s:s, "
	    "s:o, s:o, s:o, s:o}", "url", url, "host", r->host, "port",
	    r->port, "name", r->name, "name_is_ip", r->name_is_ip, "address",
	    r->addr, "ok", r->nfindings == 0, "code", pkid_err_id(r->code),
	    "steps", st, "chains", chains_json(r), "findings", f, "notes",
	    n));
}

static void
print_chain(const struct pkid_diag_chain *c)
{
	const struct pkid_diag_cert *x;
	size_t k;

	printf("chain: the server sent %zu certificate%s\n", c->n,
	    c->n == 1 ? "" : "s");
	for (k = 0; k < c->n; k++) {
		x = &c->certs[k];
		printf("  [%zu] %s\n      issuer %s\n      valid %s .. %s, "
		    "key %s, %s\n", k, x->subject, x->issuer, x->not_before,
		    x->not_after, x->key, x->sig_alg);
		if (x->ski[0] != '\0' || x->aki[0] != '\0')
			printf("      ski %s, aki %s\n", x->ski[0] ? x->ski :
			    "-", x->aki[0] ? x->aki : "-");
		if (x->aia[0] != '\0')
			printf("      caIssuers %s\n", x->aia);
	}
}

static void
print_text(const struct pkid_diag_result *r)
{
	const struct pkid_diag_finding *x;
	size_t i;
	int chain_shown = 0;

	for (i = 0; i < r->nsteps; i++) {
		if (r->steps[i].step == PKID_DIAG_CHAIN && !chain_shown) {
			print_chain(&r->chains[PKID_DIAG_OFFER_DEFAULT]);
			chain_shown = 1;
		}
		printf("%s: %s%s\n", pkid_diag_step_name(r->steps[i].step),
		    r->steps[i].ok ? "" : "FAILED: ", r->steps[i].text);
	}
	for (i = 0; i < r->nnotes; i++)
		printf("note: %s\n", r->notes[i]);
	if (r->nfindings == 0)
		printf("ok: no problem found with %s\n", r->name);
	fflush(stdout);
	for (i = 0; i < r->nfindings; i++) {
		x = &r->findings[i];
		pkictl_print_finding(stderr, x->code, x->message, x->remedy);
	}
	if (r->nlost > 0)
		fprintf(stderr, "note: %zu more findings not shown\n",
		    r->nlost);
}

/* What --bundle found, for the diagnosis and its remedies. */
struct dbundle {
	struct pkid_trust_bundle *b;	/* the bundle, NULL when none */
	char from[600];			/* "URL (serial N, signed by ..)" */
	char hint[800];			/* the import command */
	struct pkid_err why;		/* why it could not be used */
};

/* Read and open --bundle; a failure is reported, not fatal. */
static void
load_bundle(const struct dargs *a, STACK_OF(X509) *tls, struct dbundle *d)
{
	STACK_OF(X509) *pin = NULL;
	struct pkid_buf raw;
	const char *one[1];

	memset(&raw, 0, sizeof(raw));
	pkid_err_clear(&d->why);
	one[0] = a->bundle_anchor;
	if (a->bundle_anchor != NULL && pkictl_trust_load(one, 1, &pin,
	    &d->why) != PKID_OK)
		goto out;
	if (strncmp(a->bundle, "http://", 7) == 0 || strncmp(a->bundle,
	    "https://", 8) == 0) {
		if (pkid_http_get_follow(a->bundle, tls, a->o.timeout_s > 0 ?
		    a->o.timeout_s : PKID_DIAG_TIMEOUT_S,
		    PKID_TRUST_MAX_BUNDLE_SIZE, PKID_TRUST_MAX_REDIRECTS, &raw,
		    NULL, &d->why) != PKID_OK)
			goto out;
	} else if (pkid_buf_read_file(&raw, a->bundle,
	    PKID_TRUST_MAX_BUNDLE_SIZE, &d->why) != PKID_OK) {
		goto out;
	}
	if (pkid_trust_bundle_open(raw.p, raw.len, pin, 0, &d->b, &d->why) !=
	    PKID_OK)
		goto out;
	snprintf(d->from, sizeof(d->from), "%.120s (serial %lld, signer "
	    "'%.60s' %s)", a->bundle, (long long)d->b->serial,
	    d->b->signer_subject, d->b->authenticated ? "checked" :
	    "unchecked: the import checks it");
out:
	snprintf(d->hint, sizeof(d->hint), "pkictl trust import --store "
	    "%.200s --anchor %.200s %.300s", a->store != NULL ? a->store :
	    "DIR", a->bundle_anchor != NULL ? a->bundle_anchor : "FILE",
	    a->bundle != NULL ? a->bundle : "URL");
	sk_X509_pop_free(pin, X509_free);
	pkid_buf_free(&raw);
}

int
pkictl_cmd_diagnose(int argc, char **argv)
{
	struct pkid_diag_result *r = NULL;
	STACK_OF(X509) *anchors = NULL;
	struct dbundle db;
	struct pkid_err e;
	struct dargs a;
	char msg[1024];
	int rc;

	memset(&db, 0, sizeof(db));
	pkid_err_clear(&e);
	if ((rc = parse_args(argc, argv, &a)) != 0)
		return rc;
	if (pkictl_trust_load_all(a.trust, a.ntrust, a.store, &anchors, &e) !=
	    PKID_OK) {
		rc = pkictl_print_err(&e, a.json);
		goto out;
	}
	a.o.trust = anchors;
	a.o.store = a.store;
	if (a.tls_url[0] != '\0')
		a.o.url = a.tls_url;
	if (a.bundle != NULL) {
		load_bundle(&a, anchors, &db);
		a.o.bundle = db.b != NULL ? db.b->anchors : NULL;
		a.o.bundle_from = db.from;
	}
	if (a.store != NULL || a.bundle != NULL) {
		if (a.bundle == NULL)
			snprintf(db.hint, sizeof(db.hint), "pkictl trust "
			    "import --store %.200s --anchor FILE URL", a.store);
		a.o.import_hint = db.hint;
	}
	pkid_diag_run(&a.o, &r, &e);
	if (r == NULL) {
		rc = pkictl_print_err(&e, a.json);
		goto out;
	}
	if (a.bundle != NULL && db.b == NULL && r->nnotes <
	    PKID_DIAG_MAX_NOTES)
		snprintf(r->notes[r->nnotes++], sizeof(r->notes[0]), "the "
		    "trust bundle %.60s cannot be used: %s: %.120s", a.bundle,
		    pkid_err_id(db.why.code), pkid_err_message(&db.why, msg,
		    sizeof(msg)));
	if (a.json)
		print_json(r, a.o.url);
	else
		print_text(r);
	rc = r->nfindings == 0 ? PKICTL_EXIT_OK : PKICTL_EXIT_FAIL;
	/* certsrv: the login phase, once TLS is sound. */
	if (a.tls_url[0] != '\0' && !a.json && rc == PKICTL_EXIT_OK &&
	    certsrv_login(&a) != 0)
		rc = PKICTL_EXIT_FAIL;
out:
	pkid_trust_bundle_free(db.b);
	pkid_diag_result_free(r);
	sk_X509_pop_free(anchors, X509_free);
	return rc;
}
