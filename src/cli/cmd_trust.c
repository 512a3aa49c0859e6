/*
 * cmd_trust.c - pkictl trust: signed trust bundles and trust stores
 * (README "Trust bundles", docs/trust-bundle.md).
 *
 *   trust bundle create --sign-cert C --sign-key K [--chain FILE]
 *       --serial N --out BUNDLE.p7b CERT|DIR...
 *   trust bundle show [--anchor FILE]... [--json] BUNDLE.p7b
 *   trust import ... (cmd_trust_import.c)
 *   trust list --store DIR [--json]
 *   trust remove --store DIR SHA256|SKI
 *   trust export --store DIR --format pem-dir|pem-bundle|p7b --out PATH
 *   trust status --store DIR [--json]
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/trust_cli.h"
#include "cli/trust_load.h"
#include "core/clock.h"
#include "core/limits.h"
#include "trust/bundle.h"
#include "trust/export.h"
#include "trust/store.h"
#include "x509/load.h"

static int
push_arg(const char **arr, int *n, const char *v)
{
	if (*n >= TRUST_MAX_ARGS)
		return pkictl_usage_err(TRUST_USAGE, "more than %d values for "
		    "one option or arguments", TRUST_MAX_ARGS);
	arr[(*n)++] = v;
	return 0;
}

static int
parse_num(const char *opt, const char *v, struct trust_opts *o)
{
	int64_t n;

	if (strcmp(opt, "serial") == 0) {
		if (pkid_parse_int(v, 0, INT64_MAX, &o->serial, NULL) !=
		    PKID_OK)
			return pkictl_usage_err(TRUST_USAGE, "--serial takes "
			    "0..9223372036854775807, not '%s'", v);
		return 0;
	}
	if (strcmp(opt, "timeout") == 0) {
		if (pkid_parse_int(v, 1, 300, &n, NULL) != PKID_OK)
			return pkictl_usage_err(TRUST_USAGE, "--timeout takes "
			    "1..300 seconds, not '%s'", v);
		o->timeout_s = (int)n;
		return 0;
	}
	if (pkid_duration_parse(v, &o->every, NULL) != PKID_OK ||
	    o->every < PKID_TRUST_MIN_INTERVAL_S ||
	    o->every > PKID_TRUST_MAX_INTERVAL_S)
		return pkictl_usage_err(TRUST_USAGE, "--every takes a duration "
		    "of %ds to 366d (24h, 30m), not '%s'",
		    PKID_TRUST_MIN_INTERVAL_S, v);
	return 0;
}

static int
parse_opts(int argc, char **argv, struct trust_opts *o)
{
	static const struct option lo[] = {
		{ "store", required_argument, NULL, 's' },
		{ "anchor", required_argument, NULL, 'a' },
		{ "tls-trust", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "every", required_argument, NULL, 'E' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "sign-cert", required_argument, NULL, 'c' },
		{ "sign-key", required_argument, NULL, 'k' },
		{ "chain", required_argument, NULL, 'C' },
		{ "serial", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc = 0;

	memset(o, 0, sizeof(*o));
	o->serial = -1;
	optind = 1;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->store = optarg; break;
		case 'a': rc = push_arg(o->anchors, &o->nanchors, optarg);
			break;
		case 't': o->tls_trust = optarg; break;
		case 'T': rc = parse_num("timeout", optarg, o); break;
		case 'E': rc = parse_num("every", optarg, o); break;
		case 'j': o->json = 1; break;
		case 'f': o->format = optarg; break;
		case 'o': o->out = optarg; break;
		case 'c': o->sign_cert = optarg; break;
		case 'k': o->sign_key = optarg; break;
		case 'C': o->chain = optarg; break;
		case 'n': rc = parse_num("serial", optarg, o); break;
		default:
			return pkictl_usage_err(TRUST_USAGE, "unknown or "
			    "incomplete option '%s'", argv[optind - 1]);
		}
	}
	while (rc == 0 && optind < argc)
		rc = push_arg(o->args, &o->nargs, argv[optind++]);
	return rc;
}

static const char *
tfmt(int64_t t, char *buf, size_t n)
{
	return t == 0 ? "never" : pkid_time_fmt((time_t)t, buf, n);
}

/* The signer and key of bundle create, checked to be usable. */
static enum pkid_code
load_signer(const struct trust_opts *o, X509 **cert, EVP_PKEY **key,
    STACK_OF(X509) **chain, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_x509_load_cert_file(o->sign_cert, cert, e));
	PKID_TRY(pkid_x509_load_key_file(o->sign_key, key, e));
	PKID_TRY(pkid_trust_signer_usable(*cert, e));
	if (o->chain != NULL)
		PKID_TRY(pkid_x509_load_certs_file(o->chain, chain, e));
	rc = PKID_OK;
out:
	return rc;
}

static int
bundle_create(struct trust_opts *o)
{
	STACK_OF(X509) *anchors = NULL, *chain = NULL;
	X509 *signer = NULL;
	EVP_PKEY *key = NULL;
	struct pkid_buf der;
	struct pkid_err e;
	char sub[256];
	int i, rc = PKICTL_EXIT_OK;

	memset(&der, 0, sizeof(der));
	pkid_err_clear(&e);
	if (o->sign_cert == NULL || o->sign_key == NULL || o->serial < 0 ||
	    o->out == NULL || o->nargs < 2)
		return pkictl_usage_err(TRUST_USAGE, "bundle create needs "
		    "--sign-cert, --sign-key, --serial, --out and at least one "
		    "CERT");
	if (load_signer(o, &signer, &key, &chain, &e) != PKID_OK ||
	    pkictl_trust_load(o->args + 1, (size_t)o->nargs - 1, &anchors,
	    &e) != PKID_OK)
		goto fail;
	for (i = 0; i < sk_X509_num(anchors); i++) {
		if (pkid_trust_is_ca(sk_X509_value(anchors, i)))
			continue;
		pkid_x509_name_text(X509_get_subject_name(sk_X509_value(
		    anchors, i)), sub, sizeof(sub));
		PKID_ERR(&e, PKID_E_BUNDLE_NOT_CA, "certificate %d '%s' is not "
		    "a CA certificate: a trust bundle lists only anchors",
		    i + 1, sub);
		goto fail;
	}
	if (pkid_trust_bundle_make(anchors, signer, key, chain, o->serial,
	    pkid_now(), &der, &e) != PKID_OK ||
	    pkid_file_write(o->out, der.p, der.len, 0644, &e) != PKID_OK)
		goto fail;
	printf("bundle: %s: serial %lld, %d anchors, signed by '%s'\n",
	    o->out, (long long)o->serial, sk_X509_num(anchors),
	    pkid_x509_name_text(X509_get_subject_name(signer), sub,
	    sizeof(sub)));
	goto out;
fail:
	rc = pkictl_print_err(&e, 0);
out:
	pkid_buf_free(&der);
	sk_X509_pop_free(anchors, X509_free);
	sk_X509_pop_free(chain, X509_free);
	X509_free(signer);
	EVP_PKEY_free(key);
	return rc;
}

static json_t *
anchor_json(X509 *x)
{
	struct pkid_trust_anchor a;
	struct pkid_err e;
	char nb[32], na[32];

	memset(&a, 0, sizeof(a));
	pkid_err_clear(&e);
	(void)pkid_trust_anchor_describe(x, &a, &e);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "subject",
	    a.subject, "sha256", a.sha256, "ski", a.ski, "not_before",
	    tfmt(a.not_before, nb, sizeof(nb)), "not_after",
	    tfmt(a.not_after, na, sizeof(na)), "ca", pkid_trust_is_ca(x));
}

static void
show_bundle(const struct pkid_trust_bundle *b, int json)
{
	json_t *arr = json_array();
	char t[32], sub[256];
	int i;

	if (json) {
		for (i = 0; i < sk_X509_num(b->anchors); i++)
			json_array_append_new(arr, anchor_json(sk_X509_value(
			    b->anchors, i)));
		pkictl_json_out(json_pack("{s:I, s:s, s:s, s:b, s:s, s:o}",
		    "serial", (json_int_t)b->serial, "signing_time",
		    tfmt(b->signing_time, t, sizeof(t)), "signer",
		    b->signer_subject, "authenticated", b->authenticated,
		    "content_sha256", b->content_sha256, "anchors", arr));
		return;
	}
	json_decref(arr);
	printf("bundle: serial %lld, signed %s by '%s'%s\n",
	    (long long)b->serial, tfmt(b->signing_time, t, sizeof(t)),
	    b->signer_subject, b->authenticated ? ", chains to the anchor "
	    "given" : " (signature checked; no --anchor: signer not "
	    "authenticated)");
	for (i = 0; i < sk_X509_num(b->anchors); i++) {
		X509 *x = sk_X509_value(b->anchors, i);
		char fp[65];

		pkid_x509_fingerprint(x, fp);
		printf("  %s  %s\n", fp, pkid_x509_name_text(
		    X509_get_subject_name(x), sub, sizeof(sub)));
	}
}

static int
bundle_show(struct trust_opts *o)
{
	struct pkid_trust_bundle *b = NULL;
	STACK_OF(X509) *anchors = NULL;
	struct pkid_buf raw;
	struct pkid_err e;
	int rc = PKICTL_EXIT_OK;

	memset(&raw, 0, sizeof(raw));
	pkid_err_clear(&e);
	if (o->nargs != 2)
		return pkictl_usage_err(TRUST_USAGE, "bundle show takes one "
		    "bundle file");
	if ((o->nanchors > 0 && pkictl_trust_load(o->anchors,
	    (size_t)o->nanchors, &anchors, &e) != PKID_OK) ||
	    pkid_buf_read_file(&raw, o->args[1], PKID_TRUST_MAX_BUNDLE_SIZE,
	    &e) != PKID_OK || pkid_trust_bundle_open(raw.p, raw.len, anchors,
	    0, &b, &e) != PKID_OK)
		rc = pkictl_print_err(&e, o->json);
	else
		show_bundle(b, o->json);
	pkid_trust_bundle_free(b);
	sk_X509_pop_free(anchors, X509_free);
	pkid_buf_free(&raw);
	return rc;
}

static int
need_store(const struct trust_opts *o, int nargs)
{
	if (o->store == NULL)
		return pkictl_usage_err(TRUST_USAGE, "give --store DIR");
	if (o->nargs != nargs)
		return pkictl_usage_err(TRUST_USAGE, "%s takes %d argument%s",
		    o->args[0], nargs - 1, nargs == 2 ? "" : "s");
	return 0;
}

static void
list_out(struct pkid_trust_state *st, int json)
{
	json_t *arr = json_array();
	char nb[32], na[32], ad[32];
	size_t i;

	for (i = 0; i < st->n; i++) {
		const struct pkid_trust_anchor *a = &st->a[i];

		tfmt(a->not_before, nb, sizeof(nb));
		tfmt(a->not_after, na, sizeof(na));
		tfmt(a->added, ad, sizeof(ad));
		if (json)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, "
			    "s:s, s:s, s:s, s:s}", "subject", a->subject,
			    "sha256", a->sha256, "ski", a->ski, "not_before",
			    nb, "not_after", na, "source", a->source, "added",
			    ad));
		else
			printf("%s  %s\n    ski %s\n    valid %s .. %s\n    "
			    "source %s (added %s)\n", a->sha256, a->subject,
			    a->ski, nb, na, a->source, ad);
	}
	if (json)
		pkictl_json_out(arr);
	else
		json_decref(arr);
	if (!json && st->n == 0)
		printf("(no anchors)\n");
}

static int
store_cmd(struct trust_opts *o)
{
	struct pkid_trust_store *s = NULL;
	STACK_OF(X509) *sk = NULL;
	struct pkid_err e;
	char removed[65];
	const char *cmd = o->args[0];
	int fmt = -1, rc = PKICTL_EXIT_OK, write = strcmp(cmd, "remove") == 0;

	pkid_err_clear(&e);
	if ((rc = need_store(o, write ? 2 : 1)) != 0)
		return rc;
	if (strcmp(cmd, "export") == 0 && (o->format == NULL || o->out ==
	    NULL || (fmt = pkid_trust_export_format_parse(o->format)) < 0))
		return pkictl_usage_err(TRUST_USAGE, "export needs --format "
		    "pem-dir|pem-bundle|p7b and --out PATH");
	if (pkid_trust_store_open(o->store, write ? PKID_TRUST_WRITE :
	    PKID_TRUST_READ, PKID_TRUST_LOCK_WAIT_MS, &s, &e) != PKID_OK)
		goto fail;
	if (strcmp(cmd, "list") == 0) {
		list_out(pkid_trust_store_state(s), o->json);
	} else if (write) {
		if (pkid_trust_store_remove(s, o->args[1], removed, &e) !=
		    PKID_OK || pkid_trust_store_commit(s, &e) != PKID_OK)
			goto fail;
		printf("removed %s from %s\n", removed, o->store);
	} else {
		if ((sk = pkid_trust_store_certs(s)) == NULL) {
			PKID_ERR(&e, PKID_E_NOMEM, "no memory");
			goto fail;
		}
		if (pkid_trust_export(sk, (enum pkid_trust_export_format)fmt,
		    o->out, &e) != PKID_OK)
			goto fail;
		printf("exported %d anchors to %s (%s)\n", sk_X509_num(sk),
		    o->out, o->format);
	}
	goto out;
fail:
	rc = pkictl_print_err(&e, o->json);
out:
	sk_X509_pop_free(sk, X509_free);
	pkid_trust_store_close(s);
	return rc;
}

static void
status_text(const struct trust_opts *o, const struct pkid_trust_status *st,
    struct pkid_trust_state *ss)
{
	char a[32], b[32];
	size_t i;

	printf("store: %s, %zu anchors\n", o->store, ss->n);
	for (i = 0; i < ss->nsrc; i++)
		printf("bundle: serial %lld from %s, signed %s by '%s', "
		    "installed %s (publisher anchor %.16s..)\n",
		    (long long)ss->src[i].serial, ss->src[i].location,
		    tfmt(ss->src[i].signing_time, a, sizeof(a)),
		    ss->src[i].signer, tfmt(ss->src[i].installed_at, b,
		    sizeof(b)), ss->src[i].anchor);
	if (st->last_attempt == 0) {
		printf("last attempt: never\n");
		return;
	}
	printf("last attempt: %s from %s: %s (%s)\n", tfmt(st->last_attempt,
	    a, sizeof(a)), st->source, st->result, st->code);
	if (st->message[0] != '\0')
		printf("  %s\n  fix: %s\n", st->message, pkid_err_remedy(
		    pkid_err_byid(st->code) != NULL ? pkid_err_byid(
		    st->code)->code : PKID_E_INTERNAL));
	printf("counts: attempted %d, installed %d, duplicates %d, expired "
	    "%d, failed %d\n", st->attempted, st->installed, st->duplicates,
	    st->expired, st->failed);
	printf("failures in a row: %d; last success: %s\n", st->failures,
	    tfmt(st->last_success, a, sizeof(a)));
	printf("next attempt: %s\n", st->next_attempt == 0 ? "none "
	    "scheduled (not run with --every)" : tfmt(st->next_attempt, a,
	    sizeof(a)));
}

static void
status_json(const struct pkid_trust_status *st, struct pkid_trust_state *ss)
{
	char a[32], b[32], c[32], d[32];
	json_t *src = json_array();
	size_t i;

	for (i = 0; i < ss->nsrc; i++)
		json_array_append_new(src, json_pack("{s:s, s:I, s:s, s:s, "
		    "s:s}", "anchor", ss->src[i].anchor, "serial",
		    (json_int_t)ss->src[i].serial, "location",
		    ss->src[i].location, "signer", ss->src[i].signer,
		    "installed_at", tfmt(ss->src[i].installed_at, a,
		    sizeof(a))));
	pkictl_json_out(json_pack("{s:i, s:o, s:s, s:s?, s:s, s:s, s:s, "
	    "s:i, s:s?, s:s?, s:I, s:i, s:i, s:i, s:i, s:i}", "anchors",
	    (int)ss->n, "bundles", src, "source", st->source, "last_attempt",
	    st->last_attempt ? tfmt(st->last_attempt, b, sizeof(b)) : NULL,
	    "result", st->result, "code", st->code, "message", st->message,
	    "failures", st->failures, "next_attempt", st->next_attempt ?
	    tfmt(st->next_attempt, c, sizeof(c)) : NULL, "last_success",
	    st->last_success ? tfmt(st->last_success, d, sizeof(d)) : NULL,
	    "serial", (json_int_t)st->serial, "attempted", st->attempted,
	    "installed", st->installed, "duplicates", st->duplicates,
	    "expired", st->expired, "failed", st->failed));
}

static int
status_cmd(struct trust_opts *o)
{
	struct pkid_trust_store *s = NULL;
	struct pkid_trust_status st;
	struct pkid_err e;
	int rc;

	pkid_err_clear(&e);
	if ((rc = need_store(o, 1)) != 0)
		return rc;
	if (pkid_trust_store_open(o->store, PKID_TRUST_READ,
	    PKID_TRUST_LOCK_WAIT_MS, &s, &e) != PKID_OK ||
	    pkid_trust_status_load(o->store, &st, &e) != PKID_OK) {
		pkid_trust_store_close(s);
		return pkictl_print_err(&e, o->json);
	}
	if (o->json)
		status_json(&st, pkid_trust_store_state(s));
	else
		status_text(o, &st, pkid_trust_store_state(s));
	pkid_trust_store_close(s);
	return PKICTL_EXIT_OK;
}

int
pkictl_cmd_trust(int argc, char **argv)
{
	struct trust_opts o;
	int rc;

	if ((rc = parse_opts(argc, argv, &o)) != 0)
		return rc;
	if (o.nargs == 0)
		return pkictl_usage_err(TRUST_USAGE, "give a trust subcommand");
	if (strcmp(o.args[0], "bundle") == 0 && o.nargs >= 2 &&
	    strcmp(o.args[1], "create") == 0) {
		o.nargs--;
		memmove(o.args, o.args + 1, sizeof(o.args[0]) * (size_t)o.nargs);
		return bundle_create(&o);
	}
	if (strcmp(o.args[0], "bundle") == 0 && o.nargs >= 2 &&
	    strcmp(o.args[1], "show") == 0) {
		o.nargs--;
		memmove(o.args, o.args + 1, sizeof(o.args[0]) * (size_t)o.nargs);
		return bundle_show(&o);
	}
	if (strcmp(o.args[0], "import") == 0)
		return pkictl_trust_import(&o);
	if (strcmp(o.args[0], "status") == 0)
		return status_cmd(&o);
	if (strcmp(o.args[0], "list") == 0 || strcmp(o.args[0], "remove") ==
	    0 || strcmp(o.args[0], "export") == 0)
		return store_cmd(&o);
	return pkictl_usage_err(TRUST_USAGE, "unknown trust subcommand '%s'",
	    o.args[0]);
}
