/*
 * cmd_ca.c - pkictl ca init|issue|chain|list|revoke|unrevoke|crl|pending|
 * approve|reject|show|rollover; ca plan is cmd_plan.c, show and rollover
 * cmd_ca_gen.c, audit cmd_ca_audit.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ca/ca.h"
#include "ca/policy.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/limits.h"
#include "x509/csr.h"
#include "x509/load.h"

static const char usage_ca[] =
    "pkictl ca init [--dir DIR] [--subject DN] [--domain SUFFIX[,...]] "
    "[--ip-ranges CIDR[,...]] [--key TYPE] [--key-uri pkcs11:URI] "
    "[--days N] [--root-only] [--set SECTION.KEY=VALUE]... | "
    "ca issue [--dir DIR] --csr FILE [--profile NAME] [--out FILE] [--json] | "
    "ca chain [--dir DIR] [--out FILE] | ca list [--dir DIR] "
    "[--expiring DURATION] [--revoked] [--subject PATTERN] [--limit N] "
    "[--json] | ca revoke [--dir DIR] SERIAL [--reason R] | "
    "ca unrevoke [--dir DIR] SERIAL | "
    "ca crl [--dir DIR] [--out FILE] [--der] | "
    "ca pending [--dir DIR] [--json] | ca approve [--dir DIR] ID [--out FILE] | "
    "ca reject [--dir DIR] ID [--reason TEXT] | "
    "ca audit [--dir DIR] [--since TIME] [--limit N] [--before ID] "
    "[--json] | "
    "ca show [--dir DIR] [--json] | "
    "ca rollover [--dir DIR] [--now | --activate-at TIME] | "
    "ca plan [--dir DIR] [--svg FILE | --html FILE] [--json] | "
    "ca plan --simulate [--devices N] [--years Y] [--timers ios|pkid|FILE] "
    "[--seed S] [--json]";

/* Options every ca subcommand may take. */
struct ca_opts {
	const char *dir;	/* --dir */
	const char *out;	/* --out */
	const char *csr;	/* --csr */
	const char *profile;	/* --profile */
	const char *subject;	/* --subject */
	const char *domain;	/* --domain */
	const char *ip_ranges;	/* --ip-ranges */
	const char *key;	/* --key */
	const char *key_uri;	/* --key-uri */
	const char *reason;	/* --reason */
	const char *at;		/* --at */
	int days;		/* --days */
	int root_only;		/* --root-only */
	int now;		/* --now */
	const char *activate_at; /* --activate-at */
	int json;		/* --json */
	int der;		/* --der */
	const char *expiring;	/* --expiring DURATION (ca list) */
	int revoked;		/* --revoked (ca list) */
	int64_t limit;		/* --limit N (ca list) */
	const char *sets[64];	/* --set ... */
	int n_sets;		/* how many */
	const char *arg;	/* one positional argument */
};

static int
parse_opts(int argc, char **argv, struct ca_opts *o)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "csr", required_argument, NULL, 'c' },
		{ "profile", required_argument, NULL, 'p' },
		{ "subject", required_argument, NULL, 's' },
		{ "domain", required_argument, NULL, 'N' },
		{ "ip-ranges", required_argument, NULL, 'I' },
		{ "key", required_argument, NULL, 'k' },
		{ "key-uri", required_argument, NULL, 'K' },
		{ "days", required_argument, NULL, 'D' },
		{ "reason", required_argument, NULL, 'r' },
		{ "set", required_argument, NULL, 'S' },
		{ "at", required_argument, NULL, 'a' },
		{ "root-only", no_argument, NULL, 'R' },
		{ "now", no_argument, NULL, 'W' },
		{ "activate-at", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "der", no_argument, NULL, 'E' },
		{ "expiring", required_argument, NULL, 'X' },
		{ "revoked", no_argument, NULL, 'V' },
		{ "limit", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t n;
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o->dir = optarg; break;
		case 'o': o->out = optarg; break;
		case 'c': o->csr = optarg; break;
		case 'p': o->profile = optarg; break;
		case 's': o->subject = optarg; break;
		case 'N': o->domain = optarg; break;
		case 'I': o->ip_ranges = optarg; break;
		case 'k': o->key = optarg; break;
		case 'K': o->key_uri = optarg; break;
		case 'r': o->reason = optarg; break;
		case 'a': o->at = optarg; break;
		case 'R': o->root_only = 1; break;
		case 'W': o->now = 1; break;
		case 'A': o->activate_at = optarg; break;
		case 'j': o->json = 1; break;
		case 'E': o->der = 1; break;
		case 'X': o->expiring = optarg; break;
		case 'V': o->revoked = 1; break;
		case 'L':
			if (pkid_parse_int(optarg, 1, INT64_MAX, &n, NULL) !=
			    PKID_OK)
				return pkictl_usage_err(usage_ca,
				    "--limit takes a positive number, not "
				    "'%s'", optarg);
			o->limit = n;
			break;
		case 'D':
			if (pkid_parse_int(optarg, 1, 36500, &n, NULL) !=
			    PKID_OK)
				return pkictl_usage_err(usage_ca,
				    "--days takes 1..36500, not '%s'", optarg);
			o->days = (int)n;
			break;
		case 'S':
			if (o->n_sets >= 64)
				return pkictl_usage_err(usage_ca,
				    "too many --set");
			o->sets[o->n_sets++] = optarg;
			break;
		default:
			return pkictl_usage_err(usage_ca, "unknown or "
			    "incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		o->arg = argv[optind++];
	if (optind < argc)
		return pkictl_usage_err(usage_ca, "unexpected '%s'",
		    argv[optind]);
	o->dir = pkictl_dir(o->dir);
	return 0;
}

/* Write text to --out (durably) or stdout. */
static int
emit(const char *out, const void *p, size_t n, struct pkid_err *e)
{
	if (out == NULL || strcmp(out, "-") == 0) {
		fwrite(p, 1, n, stdout);
		return 0;
	}
	if (pkid_file_write(out, p, n, 0644, e) != PKID_OK)
		return pkictl_print_err(e, 0);
	return 0;
}

static int
ca_init(struct ca_opts *o, struct pkid_err *e)
{
	struct pkid_ca_init_opts io;
	int i, pg = 0;

	memset(&io, 0, sizeof(io));
	io.subject = o->subject;
	io.domain = o->domain;
	io.ip_ranges = o->ip_ranges;
	io.key = o->key;
	io.key_uri = o->key_uri;
	io.days = o->days;
	io.root_only = o->root_only;
	io.sets = o->sets;
	io.n_sets = o->n_sets;
	if (pkid_ca_init(o->dir, &io, e) != PKID_OK)
		return pkictl_print_err(e, o->json);
	printf("created CA in %s\n  root:    %s/root.pem\n", o->dir, o->dir);
	if (!o->root_only)
		printf("  issuing: %s/issuing.pem\n", o->dir);
	for (i = 0; i < o->n_sets; i++)
		if (strncmp(o->sets[i], "store.url=", 10) == 0 &&
		    strncmp(o->sets[i] + 10, "sqlite:", 7) != 0)
			pg = 1;
	printf("  config:  %s/pkid.conf\n", o->dir);
	if (pg)
		printf("  store:   PostgreSQL ([store] url in pkid.conf)\n");
	else
		printf("  store:   %s/pkid.db\n", o->dir);
	printf("  tls:     %s/tls/server.pem\n", o->dir);
	if (o->key_uri != NULL)
		printf("  CA keys: in the PKCS#11 token (%s), no key file\n",
		    o->key_uri);
	return 0;
}

static int
ca_issue(struct pkid_ca *ca, struct ca_opts *o, struct pkid_err *e)
{
	/* The operator is a bootstrap credential: any name the profile
	 * allows. */
	struct pkid_requester cli = { "cli", NULL };
	struct pkid_issue_result res;
	struct pkid_buf in, pem;
	X509_REQ *req = NULL;
	int rc = 1;

	memset(&res, 0, sizeof(res));
	pkid_buf_init(&pem, PKID_MAX_FILE_SIZE);
	if (o->csr == NULL) {
		rc = pkictl_usage_err(usage_ca, "ca issue needs --csr FILE");
		goto out;
	}
	if (pkid_buf_read_file(&in, o->csr, PKID_MAX_CSR_SIZE, e) != PKID_OK) {
		rc = pkictl_print_err(e, o->json);
		goto out;
	}
	if (pkid_x509_load_csr(in.p, in.len, &req, e) != PKID_OK ||
	    pkid_ca_issue(ca, req, o->profile != NULL ? o->profile : "device",
	    &cli, &res, e) != PKID_OK ||
	    pkid_x509_cert_pem(res.cert, &pem, e) != PKID_OK) {
		pkid_buf_free(&in);
		rc = pkictl_print_err(e, o->json);
		goto out;
	}
	pkid_buf_free(&in);
	if ((rc = emit(o->out, pem.p, pem.len, e)) != 0)
		goto out;
	if (res.capped)
		fprintf(stderr, "note: %s\n", res.note);
	if (o->out != NULL)
		fprintf(stderr, "issued serial %s to %s\n", res.serial, o->out);
	rc = 0;
out:
	X509_REQ_free(req);
	pkid_buf_free(&pem);
	pkid_issue_result_clear(&res);
	return rc;
}

static int
ca_chain(struct pkid_ca *ca, struct ca_opts *o, struct pkid_err *e)
{
	struct pkid_buf b;
	int i, rc;

	pkid_buf_init(&b, PKID_MAX_FILE_SIZE);
	for (i = 0; i < sk_X509_num(ca->chain); i++)
		if (pkid_x509_cert_pem(sk_X509_value(ca->chain, i), &b, e) !=
		    PKID_OK) {
			pkid_buf_free(&b);
			return pkictl_print_err(e, 0);
		}
	rc = emit(o->out, b.p, b.len, e);
	pkid_buf_free(&b);
	return rc;
}

/* End a listing: the error, or the JSON array (which it frees). */
static int
listing_done(enum pkid_code rc, json_t *arr, struct ca_opts *o,
    struct pkid_err *e)
{
	if (rc != PKID_OK) {
		json_decref(arr);
		return pkictl_print_err(e, o->json);
	}
	if (arr != NULL) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(arr);
	}
	return 0;
}

static enum pkid_code
list_one(const struct pkid_cert_rec *r, void *arg, struct pkid_err *e)
{
	json_t *arr = arg, *o;
	char nb[32], na[32], ra[32];
	const char *status = r->revoked ? (r->reason == 6 ? "on-hold" :
	    "revoked") : r->not_after < (int64_t)pkid_now() ? "expired" :
	    "valid";

	(void)e;
	if (arr != NULL) {
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "serial", r->serial, "subject", r->subject, "sans",
		    r->sans, "profile", r->profile, "requester", r->requester,
		    "not_before", pkid_time_fmt((time_t)r->not_before, nb,
		    sizeof(nb)), "not_after", pkid_time_fmt((time_t)r->not_after,
		    na, sizeof(na)), "status", status, "sha256",
		    r->fingerprint);
		if (r->revoked) {
			json_object_set_new(o, "revoked_at", json_string(
			    pkid_time_fmt((time_t)r->revoked_at, ra,
			    sizeof(ra))));
			json_object_set_new(o, "reason", json_string(
			    pkid_ca_reason_name(r->reason)));
		}
		json_array_append_new(arr, o);
		return PKID_OK;
	}
	printf("%-34s %-8s %-20s %-10s %s\n", r->serial, status,
	    pkid_time_fmt((time_t)r->not_after, na, sizeof(na)), r->profile,
	    r->subject);
	return PKID_OK;
}

static int
ca_list(struct pkid_ca *ca, struct ca_opts *o, struct pkid_err *e)
{
	struct pkid_cert_filter f;
	json_t *arr;
	int64_t d;

	memset(&f, 0, sizeof(f));
	if (o->expiring != NULL) {
		if (pkid_duration_parse(o->expiring, &d, e) != PKID_OK || d <= 0)
			return pkictl_usage_err(usage_ca, "--expiring takes a "
			    "duration such as 30d or 12h, not '%s'",
			    o->expiring);
		f.expires_from = (int64_t)pkid_now();
		f.expires_to = f.expires_from + d;
	}
	if (o->expiring != NULL && o->revoked)
		return pkictl_usage_err(usage_ca, "--expiring lists unrevoked "
		    "certificates; it cannot be combined with --revoked");
	if (o->subject != NULL && strlen(o->subject) > PKID_CERT_PATTERN_MAX)
		return pkictl_usage_err(usage_ca, "--subject: a pattern of at "
		    "most %d characters", PKID_CERT_PATTERN_MAX);
	f.revoked = o->revoked;
	f.subject = o->subject;
	f.limit = o->limit;
	arr = o->json ? json_array() : NULL;
	if (!o->json)
		printf("%-34s %-8s %-20s %-10s %s\n", "SERIAL", "STATUS",
		    "NOT AFTER", "PROFILE", "SUBJECT");
	return listing_done(pkid_store_cert_find(ca->store, &f, list_one, arr,
	    e), arr, o, e);
}

static int
ca_revoke(struct pkid_ca *ca, struct ca_opts *o, struct pkid_err *e)
{
	int reason = 0;

	if (o->arg == NULL)
		return pkictl_usage_err(usage_ca, "ca revoke needs a SERIAL");
	if (o->reason != NULL &&
	    (reason = pkid_ca_reason_code(o->reason)) < 0)
		return pkictl_usage_err(usage_ca, "unknown reason '%s' (use "
		    "keyCompromise, superseded, cessationOfOperation, "
		    "affiliationChanged, cACompromise, certificateHold, "
		    "privilegeWithdrawn, unspecified)", o->reason);
	if (pkid_ca_revoke(ca, o->arg, reason, "cli", e) != PKID_OK)
		return pkictl_print_err(e, o->json);
	printf("revoked %s (%s)\n", o->arg, pkid_ca_reason_name(reason));
	return 0;
}

static int
ca_unrevoke(struct pkid_ca *ca, struct ca_opts *o, struct pkid_err *e)
{
	if (o->arg == NULL)
		return pkictl_usage_err(usage_ca, "ca unrevoke needs a SERIAL");
	if (pkid_ca_unrevoke(ca, o->arg, "cli", e) != PKID_OK)
		return pkictl_print_err(e, o->json);
	printf("lifted the hold on %s: it is valid again; the next CRL "
	    "leaves it out\n", o->arg);
	return 0;
}

static int
ca_crl(struct pkid_ca *ca, struct ca_opts *o, struct pkid_err *e)
{
	X509_CRL *crl = NULL;
	struct pkid_buf b;
	unsigned char *der = NULL;
	int len, rc;

	if (pkid_ca_crl(ca, &crl, e) != PKID_OK)
		return pkictl_print_err(e, o->json);
	if (o->der) {
		len = i2d_X509_CRL(crl, &der);
		rc = len > 0 ? emit(o->out, der, (size_t)len, e) : 1;
		OPENSSL_free(der);
	} else {
		pkid_buf_init(&b, PKID_MAX_CRL_SIZE);
		rc = pkid_x509_crl_pem(crl, &b, e) == PKID_OK ?
		    emit(o->out, b.p, b.len, e) : pkictl_print_err(e, 0);
		pkid_buf_free(&b);
	}
	X509_CRL_free(crl);
	return rc;
}

/*
 * What an approver needs to see of a request: who sent it, over what,
 * and what it asks for (read from the stored CSR). Every string is safe
 * for a terminal.
 */
struct req_view {
	int64_t id;			/* request id */
	char kind[16];			/* "est", "scep" */
	char state[16];			/* "pending", ... */
	char tid[160];			/* SCEP transactionID, else "" */
	char profile[64];		/* profile */
	char requester[256];		/* "est:user:alice", "scep:ADDR" */
	char received[32];		/* created_at, RFC 3339 */
	char digest[65];		/* CSR SHA-256 hex */
	char subject[PKID_MAX_SUBJECT_TEXT];	/* requested subject */
	char sans[1024];		/* requested SANs */
	char key[64];			/* "EC P-256", "RSA 2048" */
	int key_bits;			/* its size, 0 when unknown */
};

static enum pkid_code
req_view_fill(const struct pkid_request *r, void *arg, struct pkid_err *e)
{
	struct req_view *v = arg;
	struct pkid_err de;
	X509_REQ *csr = NULL;
	GENERAL_NAMES *g = NULL;
	EVP_PKEY *k = NULL;
	char buf[PKID_MAX_SUBJECT_TEXT];

	(void)e;
	memset(v, 0, sizeof(*v));
	v->id = r->id;
	pkictl_safe(r->kind, v->kind, sizeof(v->kind));
	pkictl_safe(r->state, v->state, sizeof(v->state));
	if (r->kind != NULL && strcmp(r->kind, "scep") == 0)
		pkictl_safe(r->transaction_id, v->tid, sizeof(v->tid));
	pkictl_safe(r->profile, v->profile, sizeof(v->profile));
	pkictl_safe(r->requester, v->requester, sizeof(v->requester));
	pkid_time_fmt((time_t)r->created_at, v->received,
	    sizeof(v->received));
	pkictl_safe(r->csr_digest, v->digest, sizeof(v->digest));
	pkid_err_clear(&de);
	/* The store's own copy, checked when it was queued; a row that no
	 * longer decodes is shown as such rather than hiding the rest. */
	if (r->csr_der == NULL || pkid_x509_load_csr(r->csr_der, r->csr_len,
	    &csr, &de) != PKID_OK) {
		snprintf(v->subject, sizeof(v->subject), "(the stored request "
		    "does not decode: %s)", pkid_err_id(de.code));
		snprintf(v->key, sizeof(v->key), "(unknown)");
		return PKID_OK;
	}
	pkictl_safe(pkid_x509_name_text(X509_REQ_get_subject_name(csr), buf,
	    sizeof(buf)), v->subject, sizeof(v->subject));
	g = pkid_csr_sans(csr);
	pkid_sans_text(g, buf, sizeof(buf));
	pkictl_safe(buf, v->sans, sizeof(v->sans));
	/* The CSR decoder leaves the key undecoded (x509/csr.h). */
	pkid_err_clear(&de);
	if (pkid_csr_key(csr, &k, &de) == PKID_OK) {
		pkid_key_describe(k, buf, sizeof(buf));
		pkictl_safe(buf, v->key, sizeof(v->key));
		v->key_bits = EVP_PKEY_get_bits(k);
		EVP_PKEY_free(k);
	} else
		snprintf(v->key, sizeof(v->key), "(undecodable: %s)",
		    pkid_err_id(de.code));
	GENERAL_NAMES_free(g);
	X509_REQ_free(csr);
	return PKID_OK;
}

static void
req_view_print(const struct req_view *v)
{
	printf("  subject:     %s\n  SANs:        %s\n  key:         %s\n"
	    "  requester:   %s\n", v->subject[0] ? v->subject : "(empty)",
	    v->sans[0] ? v->sans : "(none)", v->key, v->requester);
	if (v->tid[0] != '\0')
		printf("  transaction: %s\n", v->tid);
}

/* ca pending's listing: JSON array or text, and how many. */
struct pending_ctx {
	json_t *arr;		/* --json: the array, else NULL */
	int n;			/* requests seen */
};

static enum pkid_code
pending_one(const struct pkid_request *r, void *arg, struct pkid_err *e)
{
	struct pending_ctx *c = arg;
	struct req_view v;

	req_view_fill(r, &v, e);
	c->n++;
	if (c->arr != NULL) {
		json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:s, s:o, "
		    "s:o, s:o, s:o, s:i}", "id", (json_int_t)v.id, "kind",
		    pkictl_json_str(r->kind), "transaction_id",
		    pkictl_json_str(r->transaction_id), "profile",
		    pkictl_json_str(r->profile), "requester",
		    pkictl_json_str(r->requester), "created", v.received,
		    "csr_sha256", pkictl_json_str(r->csr_digest), "subject",
		    pkictl_json_str(v.subject), "sans", pkictl_json_str(v.sans),
		    "key", pkictl_json_str(v.key), "key_bits", v.key_bits);

		if (o == NULL || json_array_append_new(c->arr, o) != 0)
			return PKID_ERR(e, PKID_E_NOMEM, "JSON of request "
			    "%lld", (long long)v.id);
		return PKID_OK;
	}
	printf("%srequest %lld: %s, profile %s, received %s\n",
	    c->n > 1 ? "\n" : "", (long long)v.id, v.kind, v.profile,
	    v.received);
	req_view_print(&v);
	printf("  csr sha256:  %s\n", v.digest);
	return PKID_OK;
}

static int
ca_pending(struct pkid_ca *ca, struct ca_opts *o, struct pkid_err *e)
{
	struct pending_ctx c = { o->json ? json_array() : NULL, 0 };
	enum pkid_code rc;

	rc = pkid_store_request_list(ca->store, "pending", pending_one, &c, e);
	if (rc == PKID_OK && !o->json)
		printf(c.n == 0 ? "no request waits for approval\n" :
		    "\napprove: pkictl ca approve ID; refuse: pkictl ca reject "
		    "ID [--reason TEXT]\n");
	return listing_done(rc, c.arr, o, e);
}

static int
request_id(struct ca_opts *o, int64_t *id)
{
	if (o->arg == NULL || pkid_parse_int(o->arg, 1, INT64_MAX, id, NULL) !=
	    PKID_OK)
		return pkictl_usage_err(usage_ca, "name a request ID (a "
		    "number from 'pkictl ca pending')");
	return 0;
}

/* The request an approval or rejection is about, read before it. */
static int
request_view(struct pkid_ca *ca, struct ca_opts *o, int64_t *id,
    struct req_view *v, struct pkid_err *e)
{
	int rc;

	if ((rc = request_id(o, id)) != 0)
		return rc;
	if (pkid_store_request_get(ca->store, *id, req_view_fill, v, e) !=
	    PKID_OK) {
		if (e->code == PKID_E_NOT_FOUND)
			pkid_err_ctx(e, "'pkictl ca pending' lists the "
			    "requests that wait");
		return pkictl_print_err(e, o->json);
	}
	return 0;
}

/* An ASN1_TIME as RFC 3339 UTC. */
static const char *
asn1_time_text(const ASN1_TIME *t, char *out, size_t len)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm) ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "?");
	return out;
}

static int
ca_approve(struct pkid_ca *ca, struct ca_opts *o, struct pkid_err *e)
{
	struct pkid_issue_result res;
	struct req_view v;
	struct pkid_buf pem;
	GENERAL_NAMES *g;
	char subj[PKID_MAX_SUBJECT_TEXT], sans[1024], buf[1024], na[32];
	int64_t id;
	int rc;

	if ((rc = request_view(ca, o, &id, &v, e)) != 0)
		return rc;
	if (pkid_ca_approve(ca, id, "cli", &res, e) != PKID_OK)
		return pkictl_print_err(e, o->json);
	/* What was issued, which the profile may have shaped. */
	pkictl_safe(pkid_x509_name_text(X509_get_subject_name(res.cert), buf,
	    sizeof(buf)), subj, sizeof(subj));
	g = X509_get_ext_d2i(res.cert, NID_subject_alt_name, NULL, NULL);
	pkictl_safe(pkid_sans_text(g, buf, sizeof(buf)), sans, sizeof(sans));
	GENERAL_NAMES_free(g);
	asn1_time_text(X509_get0_notAfter(res.cert), na, sizeof(na));
	printf("approved request %lld: issued serial %s\n"
	    "  subject:     %s\n  SANs:        %s\n  key:         %s\n"
	    "  profile:     %s\n  requester:   %s\n  not after:   %s\n",
	    (long long)id, res.serial, subj, sans[0] ? sans : "(none)", v.key,
	    v.profile, v.requester, na);
	if (res.capped)
		printf("  note:        %s\n", res.note);
	rc = 0;
	if (o->out != NULL) {
		pkid_buf_init(&pem, 1 << 16);
		rc = pkid_x509_cert_pem(res.cert, &pem, e) == PKID_OK ?
		    emit(o->out, pem.p, pem.len, e) : pkictl_print_err(e, 0);
		pkid_buf_free(&pem);
	}
	pkid_issue_result_clear(&res);
	return rc;
}

static int
ca_reject(struct pkid_ca *ca, struct ca_opts *o, struct pkid_err *e)
{
	struct req_view v;
	char why[256];
	int64_t id;
	int rc;

	if ((rc = request_view(ca, o, &id, &v, e)) != 0)
		return rc;
	if (pkid_ca_reject(ca, id, "cli", o->reason, e) != PKID_OK)
		return pkictl_print_err(e, o->json);
	printf("rejected request %lld: %s, profile %s, received %s\n",
	    (long long)id, v.kind, v.profile, v.received);
	req_view_print(&v);
	printf("  reason:      %s\n", pkictl_safe(o->reason != NULL ?
	    o->reason : "rejected by the operator", why, sizeof(why)));
	return 0;
}

/* The subcommands that act on an open CA. */
static int
ca_show(struct pkid_ca *ca, struct ca_opts *o, struct pkid_err *e)
{
	return pkictl_ca_show(ca, o->json, e);
}

static int
ca_rollover(struct pkid_ca *ca, struct ca_opts *o, struct pkid_err *e)
{
	if (o->now && o->activate_at != NULL)
		return pkictl_usage_err(usage_ca, "give --now or --activate-at, "
		    "not both");
	return pkictl_ca_rollover(ca, o->now, o->activate_at, o->json, e);
}

static const struct {
	const char *name;	/* subcommand */
	int (*fn)(struct pkid_ca *, struct ca_opts *, struct pkid_err *);
} ca_cmds[] = {
	{ "show", ca_show },
	{ "rollover", ca_rollover },
	{ "issue", ca_issue },
	{ "chain", ca_chain },
	{ "list", ca_list },
	{ "revoke", ca_revoke },
	{ "unrevoke", ca_unrevoke },
	{ "crl", ca_crl },
	{ "pending", ca_pending },
	{ "approve", ca_approve },
	{ "reject", ca_reject },
};

int
pkictl_cmd_ca(int argc, char **argv)
{
	struct ca_opts o;
	struct pkid_ca *ca = NULL;
	struct pkid_err e;
	const char *sub;
	time_t at;
	size_t k;
	int rc;

	pkid_err_clear(&e);
	if (argc < 2)
		return pkictl_usage_err(usage_ca, "name a ca subcommand");
	sub = argv[1];
	/* plan has options of its own (cmd_plan.c). */
	if (strcmp(sub, "plan") == 0)
		return pkictl_cmd_ca_plan(argc - 1, argv + 1);
	if (strcmp(sub, "audit") == 0)
		return pkictl_cmd_ca_audit(argc - 1, argv + 1);
	if ((rc = parse_opts(argc - 1, argv + 1, &o)) != 0)
		return rc;
	if (o.at != NULL) {
		if (pkid_time_parse(o.at, &at, &e) != PKID_OK)
			return pkictl_print_err(&e, o.json);
		pkid_clock_set(at);
	}
	if (strcmp(sub, "init") == 0)
		return ca_init(&o, &e);
	for (k = 0; k < sizeof(ca_cmds) / sizeof(ca_cmds[0]); k++)
		if (strcmp(sub, ca_cmds[k].name) == 0)
			break;
	if (k == sizeof(ca_cmds) / sizeof(ca_cmds[0]))
		return pkictl_usage_err(usage_ca, "unknown ca subcommand '%s'",
		    sub);
	if (pkid_ca_open(o.dir, &ca, &e) != PKID_OK)
		return pkictl_print_err(&e, o.json);
	rc = ca_cmds[k].fn(ca, &o, &e);
	pkid_ca_close(ca);
	return rc;
}
