/*
 * trust_load.c - trust anchors from FILE|DIR and the rendering of
 * findings, shared by pkictl verify and pkictl diagnose.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/trust_load.h"
#include "core/limits.h"
#include "trust/store.h"
#include "x509/load.h"

/* Move the certificates of a file to the end of *out. */
static enum pkid_code
load_file(const char *path, STACK_OF(X509) **out, struct pkid_err *e)
{
	STACK_OF(X509) *sk = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	X509 *x;

	PKID_TRY(pkid_x509_load_certs_file(path, &sk, e));
	if (*out == NULL)
		PKID_CHECK((*out = sk_X509_new_null()) != NULL, PKID_E_NOMEM,
		    "no memory");
	while (sk_X509_num(sk) > 0) {
		PKID_CHECK(sk_X509_num(*out) < PKID_MAX_BUNDLE_CERTS,
		    PKID_E_TOO_LARGE, "more than %d trusted certificates",
		    PKID_MAX_BUNDLE_CERTS);
		x = sk_X509_shift(sk);
		if (!sk_X509_push(*out, x)) {
			X509_free(x);
			rc = PKID_ERR(e, PKID_E_NOMEM, "no memory");
			goto out;
		}
	}
	rc = PKID_OK;
out:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static enum pkid_code
load_dir(const char *path, STACK_OF(X509) **out, struct pkid_err *e)
{
	struct pkid_err skip;
	struct dirent *de;
	struct stat st;
	char file[4096];
	DIR *d;
	enum pkid_code rc = PKID_OK;

	if ((d = opendir(path)) == NULL)
		return PKID_ERR(e, PKID_E_IO_OPEN, "cannot open directory %s",
		    path);
	while (rc == PKID_OK && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		if (stat(file, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		/* Files that hold no certificate are not trust anchors. */
		pkid_err_clear(&skip);
		if (load_file(file, out, &skip) == PKID_E_TOO_LARGE)
			rc = PKID_ERR(e, PKID_E_TOO_LARGE, "%s", skip.detail);
	}
	closedir(d);
	return rc;
}

enum pkid_code
pkictl_trust_load(const char *const *paths, size_t n, STACK_OF(X509) **out,
    struct pkid_err *e)
{
	static const char *const sys[] = { PKICTL_SYSTEM_TRUST };
	struct stat st;
	enum pkid_code rc = PKID_OK;
	size_t i;

	if (n == 0) {
		paths = sys;
		n = 1;
	}
	if (*out == NULL && (*out = sk_X509_new_null()) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	for (i = 0; rc == PKID_OK && i < n; i++) {
		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			rc = load_dir(paths[i], out, e);
		else
			rc = load_file(paths[i], out, e);
		if (rc != PKID_OK)
			pkid_err_ctx(e, "loading trust from %s", paths[i]);
	}
	return rc;
}

enum pkid_code
pkictl_trust_load_all(const char *const *paths, size_t n, const char *store,
    STACK_OF(X509) **out, struct pkid_err *e)
{
	struct pkid_trust_store *s = NULL;
	STACK_OF(X509) *sk = NULL;
	X509 *x;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (n > 0 || store == NULL)
		PKID_TRY(pkictl_trust_load(paths, n, out, e));
	if (store == NULL) {
		rc = PKID_OK;
		goto out;
	}
	if (*out == NULL)
		PKID_CHECK((*out = sk_X509_new_null()) != NULL, PKID_E_NOMEM,
		    "no memory");
	PKID_TRY(pkid_trust_store_open(store, PKID_TRUST_READ,
	    PKID_TRUST_LOCK_WAIT_MS, &s, e));
	PKID_CHECK((sk = pkid_trust_store_certs(s)) != NULL, PKID_E_NOMEM,
	    "no memory");
	while ((x = sk_X509_shift(sk)) != NULL) {
		if (!sk_X509_push(*out, x)) {
			X509_free(x);
			rc = PKID_ERR(e, PKID_E_NOMEM, "no memory");
			goto out;
		}
	}
	rc = PKID_OK;
out:
	sk_X509_pop_free(sk, X509_free);
	pkid_trust_store_close(s);
	return rc;
}

enum pkid_code
pkictl_verify_add_all(struct pkid_verify_ctx *c, STACK_OF(X509) *sk,
    int trusted, struct pkid_err *e)
{
	enum pkid_code rc = PKID_OK;
	int i;

	for (i = 0; rc == PKID_OK && i < sk_X509_num(sk); i++)
		rc = trusted ? pkid_verify_add_trusted(c, sk_X509_value(sk, i),
		    e) : pkid_verify_add_untrusted(c, sk_X509_value(sk, i), e);
	return rc;
}

void
pkictl_print_finding(FILE *out, enum pkid_code code, const char *message,
    const char *remedy)
{
	fprintf(out, "error: %s: %s\nfix: %s\n", pkid_err_id(code), message,
	    remedy != NULL && remedy[0] != '\0' ? remedy :
	    pkid_err_remedy(code));
}

json_t *
pkictl_finding_json(enum pkid_code code, const char *message,
    const char *remedy, int depth, const char *subject)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:s}", "code",
	    pkid_err_id(code), "message", message, "remedy",
	    remedy != NULL && remedy[0] != '\0' ? remedy :
	    pkid_err_remedy(code), "depth", depth, "subject",
	    subject != NULL ? subject : "");
}

json_t *
pkictl_path_json(STACK_OF(X509) *path)
{
	json_t *arr = json_array();
	char sub[256], iss[256], fp[65];
	int i;

	for (i = 0; arr != NULL && i < sk_X509_num(path); i++) {
		X509 *x = sk_X509_value(path, i);

		pkid_x509_name_text(X509_get_subject_name(x), sub, sizeof(sub));
		pkid_x509_name_text(X509_get_issuer_name(x), iss, sizeof(iss));
		pkid_x509_fingerprint(x, fp);
		json_array_append_new(arr, json_pack("{s:i, s:s, s:s, s:s}",
		    "depth", i, "subject", sub, "issuer", iss, "sha256", fp));
	}
	return arr;
}

void
pkictl_json_out(json_t *o)
{
	if (o != NULL) {
		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	json_decref(o);
}
