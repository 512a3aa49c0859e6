/*
 * cmd_show.c - pkictl show FILE...: what is in a certificate, CSR, CRL or
 * PKCS#7 file, PEM, DER or base64 (an EST response body), as aligned
 * "label: value" lines or as one JSON array (--json). The descriptions come from x509/show.c; this file only
 * renders them, so the text and the JSON always say the same.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/limits.h"
#include "x509/show.h"

#define SHOW_USAGE "pkictl show [--json] [--at TIME] FILE..."

/* Width of the label column: the longest label, its colon and a space. */
#define LABEL_W 21

/* How one member of a description is printed. */
enum fkind {
	F_STR,		/* a string, number or null */
	F_YES,		/* a boolean printed only when true */
	F_EXT_CSV,	/* extension values on one line */
	F_EXT_LINES,	/* extension values one per line */
	F_LINES,	/* an array of strings, one per line */
	F_OTHER,	/* other_extensions */
	F_REVOKED,	/* a CRL's revoked entries */
};

struct field {
	const char *key;	/* member of the JSON description */
	const char *label;	/* what a person reads */
	enum fkind kind;	/* how it is printed */
};

/* Text output order; members absent from an object are skipped. */
static const struct field fields[] = {
	{ "encoding", "encoding", F_STR },
	{ "subject", "subject", F_STR },
	{ "issuer", "issuer", F_STR },
	{ "self_signed", "self-signed", F_YES },
	{ "serial", "serial", F_STR },
	{ "not_before", "not before", F_STR },
	{ "not_after", "not after", F_STR },
	{ "this_update", "this update", F_STR },
	{ "next_update", "next update", F_STR },
	{ "validity", "validity", F_STR },
	{ "crl_number", "CRL number", F_EXT_CSV },
	{ "delta_crl_base", "delta of CRL number", F_EXT_CSV },
	{ "key", "key", F_STR },
	{ "signature_algorithm", "signature algorithm", F_STR },
	{ "signature", "signature", F_STR },
	{ "challenge_password", "challenge password", F_STR },
	{ "san", "SAN", F_EXT_LINES },
	{ "key_usage", "key usage", F_EXT_CSV },
	{ "ext_key_usage", "extended key usage", F_EXT_CSV },
	{ "basic_constraints", "basic constraints", F_EXT_CSV },
	{ "ski", "subject key id", F_EXT_CSV },
	{ "aki", "authority key id", F_EXT_LINES },
	{ "aia", "AIA", F_EXT_LINES },
	{ "crl_dp", "CRL DP", F_EXT_LINES },
	{ "other_extensions", "other extensions", F_OTHER },
	{ "revoked", "revoked", F_REVOKED },
	{ "fingerprint_sha256", "SHA-256 fingerprint", F_STR },
	{ "warnings", "warning", F_LINES },
};

/* Options of one run. */
struct show_opts {
	int json;		/* --json */
	int first_file;		/* argv index of the first FILE */
};

/*
 * Print text from a certificate without letting control characters reach
 * the terminal (C0, DEL, and C1 as UTF-8 C2 80..9F).
 */
static void
put_safe(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			putchar('?');
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			putchar('?');
			p++;
		} else {
			putchar(*p);
		}
	}
}

static void
label(const char *l)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s:", l);
	printf("%-*s", LABEL_W, buf);
}

static void
newline_indent(void)
{
	printf("\n%*s", LABEL_W, "");
}

static void
put_scalar(const json_t *v)
{
	if (json_is_string(v))
		put_safe(json_string_value(v));
	else if (json_is_integer(v))
		printf("%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		printf("%s", json_is_true(v) ? "yes" : "no");
	else
		printf("none");
}

/* { "critical": b, "values": [...] } */
static void
put_ext(const struct field *f, const json_t *ext)
{
	const json_t *vals = json_object_get(ext, "values");
	int crit = json_is_true(json_object_get(ext, "critical"));
	size_t i, n = json_array_size(vals);

	label(f->label);
	if (n == 0)
		printf("(empty)");
	for (i = 0; i < n; i++) {
		if (i > 0 && f->kind == F_EXT_CSV)
			printf(", ");
		else if (i > 0)
			newline_indent();
		put_scalar(json_array_get(vals, i));
	}
	if (crit && (f->kind == F_EXT_CSV || n < 2))
		printf(" (critical)");
	else if (crit)
		printf("\n%*s(critical)", LABEL_W, "");
	putchar('\n');
}

static void
put_lines(const struct field *f, const json_t *arr)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++) {
		if (i == 0)
			label(f->label);
		else
			printf("%*s", LABEL_W, "");
		put_scalar(json_array_get(arr, i));
		putchar('\n');
	}
}

static void
put_other(const struct field *f, const json_t *arr)
{
	const json_t *x;
	const char *name, *oid;
	size_t i;

	for (i = 0; i < json_array_size(arr); i++) {
		x = json_array_get(arr, i);
		name = json_string_value(json_object_get(x, "name"));
		oid = json_string_value(json_object_get(x, "oid"));
		if (i == 0)
			label(f->label);
		else
			printf("%*s", LABEL_W, "");
		put_safe(name);
		if (oid != NULL && name != NULL && strcmp(oid, name) != 0) {
			printf(" (");
			put_safe(oid);
			printf(")");
		}
		if (json_is_true(json_object_get(x, "critical")))
			printf(", critical");
		putchar('\n');
	}
}

/* "revoked: N entries" and one "serial  date  reason" line each. */
static void
put_revoked(const struct field *f, const json_t *o, const json_t *arr)
{
	const json_t *r;
	json_int_t n = json_integer_value(json_object_get(o,
	    "revoked_count"));
	size_t i;

	label(f->label);
	printf("%lld %s\n", (long long)n, n == 1 ? "entry" : "entries");
	for (i = 0; i < json_array_size(arr); i++) {
		r = json_array_get(arr, i);
		printf("%*s", LABEL_W, "");
		put_safe(json_string_value(json_object_get(r, "serial")));
		printf("  ");
		put_scalar(json_object_get(r, "date"));
		if (json_object_get(r, "reason") != NULL) {
			printf("  ");
			put_scalar(json_object_get(r, "reason"));
		}
		putchar('\n');
	}
	if ((json_int_t)json_array_size(arr) < n)
		printf("%*s... %lld more not listed\n", LABEL_W, "",
		    (long long)(n - (json_int_t)json_array_size(arr)));
}

static void
put_field(const struct field *f, const json_t *o, const json_t *v)
{
	switch (f->kind) {
	case F_YES:
		if (json_is_true(v)) {
			label(f->label);
			printf("yes\n");
		}
		break;
	case F_EXT_CSV:
	case F_EXT_LINES:
		put_ext(f, v);
		break;
	case F_LINES:
		put_lines(f, v);
		break;
	case F_OTHER:
		put_other(f, v);
		break;
	case F_REVOKED:
		put_revoked(f, o, v);
		break;
	case F_STR:
	default:
		label(f->label);
		put_scalar(v);
		putchar('\n');
		break;
	}
}

static const char *
type_text(const char *type)
{
	static const char *const map[][2] = {
		{ "certificate", "certificate" },
		{ "csr", "certificate request (PKCS#10)" },
		{ "crl", "CRL" },
		{ "pkcs7", "PKCS#7 bundle" },
		{ "private-key", "private key (only its type is shown)" },
	};
	size_t i;

	for (i = 0; type != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(type, map[i][0]) == 0)
			return map[i][1];
	return type != NULL ? type : "unknown";
}

/* One description; item > 0 numbers the members of a PKCS#7 bundle. */
static void
print_obj(const json_t *o, const char *file, size_t item, size_t nitems)
{
	const json_t *certs, *crls, *v;
	size_t i, nc, nr;

	label("file");
	put_safe(file);
	if (item > 0)
		printf(" (bundle item %zu of %zu)", item, nitems);
	putchar('\n');
	label("type");
	printf("%s\n", type_text(json_string_value(json_object_get(o,
	    "type"))));
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if ((v = json_object_get(o, fields[i].key)) != NULL)
			put_field(&fields[i], o, v);
	certs = json_object_get(o, "certificates");
	crls = json_object_get(o, "crls");
	if (certs == NULL && crls == NULL)
		return;
	nc = json_array_size(certs);
	nr = json_array_size(crls);
	label("contents");
	printf("%zu certificate%s, %zu CRL%s\n", nc, nc == 1 ? "" : "s", nr,
	    nr == 1 ? "" : "s");
	for (i = 0; i < nc + nr; i++) {
		putchar('\n');
		print_obj(i < nc ? json_array_get(certs, i) :
		    json_array_get(crls, i - nc), file, i + 1, nc + nr);
	}
}

/* A JSON string even for bytes that are not UTF-8 (a file name). */
static json_t *
json_text(const char *s)
{
	char buf[1024];
	json_t *j = json_string(s);
	size_t i;

	if (j != NULL)
		return j;
	snprintf(buf, sizeof(buf), "%s", s);
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] >= 0x80)
			buf[i] = '?';
	return json_string(buf);
}

/* The JSON array entry for a file that failed. */
static json_t *
err_entry(const char *path, const struct pkid_err *e)
{
	char msg[1024];
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	pkid_err_message(e, msg, sizeof(msg));
	if (json_object_set_new(o, "file", json_text(path)) != 0 ||
	    json_object_set_new(o, "type", json_string("error")) != 0 ||
	    json_object_set_new(o, "code", json_string(pkid_err_id(e->code)))
	    != 0 ||
	    json_object_set_new(o, "message", json_text(msg)) != 0 ||
	    json_object_set_new(o, "remedy",
	    json_string(pkid_err_remedy(e->code))) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Replace arr[i] by a copy that starts with "file": path. */
static int
tag_file(json_t *arr, size_t i, const char *path)
{
	json_t *o = json_object();

	if (o == NULL || json_object_set_new(o, "file", json_text(path)) != 0 ||
	    json_object_update(o, json_array_get(arr, i)) != 0) {
		json_decref(o);
		return -1;
	}
	return json_array_set_new(arr, i, o);
}

/*
 * Describe one file into arr (each entry tagged with "file"). On error the
 * objects before the failure are still in arr.
 */
static enum pkid_code
show_file(const char *path, json_t *arr, struct pkid_err *e)
{
	struct pkid_buf b;
	size_t i;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&b, PKID_MAX_FILE_SIZE);
	PKID_TRY(pkid_buf_read_file(&b, path, PKID_MAX_FILE_SIZE, e));
	rc = pkid_x509_show_all(b.p, b.len, pkid_now(), arr, e);
	if (rc != PKID_OK)
		pkid_err_ctx(e, "reading %s", path);
	for (i = 0; i < json_array_size(arr); i++)
		if (tag_file(arr, i, path) != 0 && rc == PKID_OK)
			rc = PKID_ERR(e, PKID_E_NOMEM, "no memory");
out:
	pkid_buf_free(&b);
	return rc;
}

/* Returns -1 to go on, else the exit status (help, usage error). */
static int
parse_opts(int argc, char **argv, struct show_opts *so)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "at", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pkid_err e;
	time_t at;
	int c, have_at = 0;

	memset(so, 0, sizeof(*so));
	opterr = 0;
	optind = 0;	/* glibc: start afresh, whatever ran getopt before */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			so->json = 1;
			break;
		case 'a':
			pkid_err_clear(&e);
			if (have_at++)
				return pkictl_usage_err(SHOW_USAGE,
				    "--at given twice");
			if (pkid_time_parse(optarg, &at, &e) != PKID_OK)
				return pkictl_usage_err(SHOW_USAGE,
				    "--at: %s", e.detail);
			pkid_clock_set(at);
			break;
		case 'h':
			printf("usage: %s\n", SHOW_USAGE);
			return PKICTL_EXIT_OK;
		case ':':
			return pkictl_usage_err(SHOW_USAGE, "%s needs a value",
			    argv[optind - 1]);
		default:
			return pkictl_usage_err(SHOW_USAGE,
			    "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return pkictl_usage_err(SHOW_USAGE, "no FILE given");
	so->first_file = optind;
	return -1;
}

/* Text mode: print each file's objects as they come. */
static int
show_text(int argc, char **argv, const struct show_opts *so)
{
	struct pkid_err e;
	json_t *arr;
	size_t i, printed = 0;
	int f, status = PKICTL_EXIT_OK;

	for (f = so->first_file; f < argc; f++) {
		pkid_err_clear(&e);
		if ((arr = json_array()) == NULL ||
		    show_file(argv[f], arr, &e) != PKID_OK) {
			if (arr == NULL)
				PKID_ERR(&e, PKID_E_NOMEM, "no memory");
			status = PKICTL_EXIT_FAIL;
		}
		for (i = 0; i < json_array_size(arr); i++) {
			if (printed++ > 0)
				putchar('\n');
			print_obj(json_array_get(arr, i), argv[f], 0, 0);
		}
		json_decref(arr);
		fflush(stdout);
		if (e.code != PKID_OK)
			(void)pkictl_print_err(&e, 0);
	}
	return status;
}

/*
 * JSON mode: one array on stdout with every object of every file, and an
 * {"type": "error", ...} entry for a file that failed (also on stderr).
 */
static int
show_json(int argc, char **argv, const struct show_opts *so)
{
	struct pkid_err e;
	json_t *all = json_array(), *arr = NULL;
	int f, status = PKICTL_EXIT_OK;

	for (f = so->first_file; all != NULL && f < argc; f++) {
		pkid_err_clear(&e);
		if ((arr = json_array()) == NULL ||
		    show_file(argv[f], arr, &e) != PKID_OK) {
			if (arr == NULL)
				PKID_ERR(&e, PKID_E_NOMEM, "no memory");
			status = PKICTL_EXIT_FAIL;
		}
		if (arr != NULL && json_array_extend(all, arr) != 0)
			PKID_ERR(&e, PKID_E_NOMEM, "no memory");
		json_decref(arr);
		if (e.code != PKID_OK) {
			if (json_array_append_new(all, err_entry(argv[f], &e)))
				status = PKICTL_EXIT_FAIL;
			(void)pkictl_print_err(&e, 0);
		}
	}
	if (all == NULL || json_dumpf(all, stdout, JSON_INDENT(2)) != 0) {
		fprintf(stderr, "error: out-of-memory: cannot write JSON\n");
		status = PKICTL_EXIT_FAIL;
	}
	putchar('\n');
	json_decref(all);
	return status;
}

int
pkictl_cmd_show(int argc, char **argv)
{
	struct show_opts so;
	int r;

	if ((r = parse_opts(argc, argv, &so)) >= 0)
		return r;
	if (so.json)
		return show_json(argc, argv, &so);
	return show_text(argc, argv, &so);
}
