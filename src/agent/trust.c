/*
 * trust.c - an identity's trust store and its updates (trust.h).
 */
#include "agent/trust.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "core/buf.h"
#include "core/log.h"
#include "verify/verify.h"
#include "x509/load.h"

/* Append the certificates of path to t, each noted as coming from src. */
static enum pkid_code
load_file(struct pkid_agent_trust *t, const char *path, const char *src,
    struct pkid_err *e)
{
	STACK_OF(X509) *sk = NULL;
	X509 *x;
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_x509_load_certs_file(path, &sk, e));
	while (sk_X509_num(sk) > 0) {
		n = sk_X509_num(t->certs);
		PKID_CHECK(n < PKID_MAX_BUNDLE_CERTS, PKID_E_TOO_LARGE, "%s: "
		    "more than %d trusted certificates", t->path,
		    PKID_MAX_BUNDLE_CERTS);
		x = sk_X509_shift(sk);
		if (!sk_X509_push(t->certs, x)) {
			X509_free(x);
			PKID_CHECK(0, PKID_E_NOMEM, "no memory");
		}
		if (src != NULL)
			PKID_CHECK((t->src[n] = strdup(src)) != NULL,
			    PKID_E_NOMEM, "no memory");
	}
	rc = PKID_OK;
out:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* Every regular file of a directory that holds certificates. */
static enum pkid_code
load_dir(struct pkid_agent_trust *t, struct pkid_err *e)
{
	struct pkid_err skip;
	struct dirent *de;
	struct stat st;
	char file[PKID_AGENT_MAX_PATH + 256];
	DIR *d;
	enum pkid_code rc = PKID_OK;

	if ((d = opendir(t->path)) == NULL)
		return PKID_ERR(e, PKID_E_IO_OPEN, "cannot open directory %s: "
		    "%s", t->path, strerror(errno));
	while (rc == PKID_OK && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", t->path, de->d_name);
		if (stat(file, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		pkid_err_clear(&skip);
		rc = load_file(t, file, file, &skip);
		/* A README or a key beside the certificates is skipped; a
		 * store too large is not. */
		if (rc != PKID_OK && rc != PKID_E_TOO_LARGE &&
		    rc != PKID_E_NOMEM)
			rc = PKID_OK;
		else if (rc != PKID_OK)
			*e = skip;
	}
	closedir(d);
	return rc;
}

enum pkid_code
pkid_agent_trust_load(struct pkid_agent_trust *t, const char *path,
    struct pkid_err *e)
{
	struct stat st;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s", path);
	PKID_CHECK((t->certs = sk_X509_new_null()) != NULL, PKID_E_NOMEM,
	    "no memory");
	PKID_CHECK(stat(path, &st) == 0, PKID_E_IO_OPEN, "trust store %s: %s",
	    path, strerror(errno));
	t->is_dir = S_ISDIR(st.st_mode);
	if (t->is_dir)
		PKID_TRY(load_dir(t, e));
	else
		PKID_TRY(load_file(t, path, NULL, e));
	PKID_CHECK(sk_X509_num(t->certs) > 0, PKID_E_CERT_MALFORMED, "trust "
	    "store %s holds no certificate", path);
	rc = PKID_OK;
out:
	return rc;
}

void
pkid_agent_trust_free(struct pkid_agent_trust *t)
{
	int i;

	for (i = 0; i < PKID_MAX_BUNDLE_CERTS; i++)
		free(t->src[i]);
	for (i = 0; i < t->n_gone; i++)
		free(t->gone[i]);
	sk_X509_pop_free(t->certs, X509_free);
	memset(t, 0, sizeof(*t));
}

int
pkid_agent_trust_has(const struct pkid_agent_trust *t, X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(t->certs); i++)
		if (X509_cmp(sk_X509_value(t->certs, i), x) == 0)
			return 1;
	return 0;
}

static int
self_signed(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK &&
	    X509_verify(x, X509_get0_pubkey(x)) == 1;
}

/* Does x chain to the store's certificates (any of them an anchor),
 * with pool as intermediates, at now? pkid's verifier: it backtracks
 * over CAs of one name (two generations of "Root"). */
static int
chains(const struct pkid_agent_trust *t, X509 *x, STACK_OF(X509) *pool,
    time_t now)
{
	struct pkid_verify_ctx *vc;
	struct pkid_verify_result res;
	struct pkid_verify_opts vo;
	struct pkid_err e;
	int i, ok = 0;

	pkid_err_clear(&e);
	memset(&res, 0, sizeof(res));
	if ((vc = pkid_verify_ctx_new(&e)) == NULL)
		return 0;
	for (i = 0; i < sk_X509_num(t->certs); i++)
		if (pkid_verify_add_trusted(vc, sk_X509_value(t->certs, i),
		    &e) != PKID_OK)
			goto out;
	for (i = 0; i < sk_X509_num(pool); i++)
		if (sk_X509_value(pool, i) != x && pkid_verify_add_untrusted(vc,
		    sk_X509_value(pool, i), &e) != PKID_OK)
			goto out;
	pkid_verify_opts_init(&vo);
	vo.purpose = PKID_PURPOSE_ANY;
	vo.at = now;
	ok = pkid_verify_run(vc, &vo, x, &res, &e) == PKID_OK && res.valid;
out:
	pkid_verify_result_clear(&res);
	pkid_verify_ctx_free(vc);
	return ok;
}

/* Is l signed directly by a CA certificate of the store, and both valid
 * at now? A link is signed with the old root's own key (RFC 4210
 * 4.4.1), so one step is the whole path; its name may equal its
 * issuer's (both "Root"), which path builders take for self-signed. */
static int
signed_by_store(const struct pkid_agent_trust *t, X509 *l, time_t now)
{
	X509 *y;
	int i;

	if (X509_cmp_time(X509_get0_notBefore(l), &now) > 0 ||
	    X509_cmp_time(X509_get0_notAfter(l), &now) < 0)
		return 0;
	for (i = 0; i < sk_X509_num(t->certs); i++) {
		y = sk_X509_value(t->certs, i);
		if (X509_check_ca(y) >= 1 && X509_NAME_cmp(
		    X509_get_subject_name(y), X509_get_issuer_name(l)) == 0 &&
		    X509_cmp_time(X509_get0_notAfter(y), &now) >= 0 &&
		    X509_verify(l, X509_get0_pubkey(y)) == 1)
			return 1;
	}
	return 0;
}

/* A certificate of pool or t other than x for the same key: x is a link
 * (RFC 4210 4.4) when that one is self-signed and x is not. */
static int
is_link(const struct pkid_agent_trust *t, X509 *x, STACK_OF(X509) *pool)
{
	STACK_OF(X509) *sets[2] = { pool, t->certs };
	X509 *y;
	int s, i;

	if (self_signed(x))
		return 0;
	for (s = 0; s < 2; s++)
		for (i = 0; i < sk_X509_num(sets[s]); i++) {
			y = sk_X509_value(sets[s], i);
			if (y != x && self_signed(y) && EVP_PKEY_eq(
			    X509_get0_pubkey(x), X509_get0_pubkey(y)) == 1)
				return 1;
		}
	return 0;
}

/* The link of pool, chaining to t, that certifies the self-signed x's
 * key and name (NewWithOld), or NULL. */
static X509 *
linked_by(const struct pkid_agent_trust *t, X509 *x, STACK_OF(X509) *pool,
    time_t now)
{
	X509 *l;
	int i;

	for (i = 0; i < sk_X509_num(pool); i++) {
		l = sk_X509_value(pool, i);
		if (l == x || self_signed(l) || X509_NAME_cmp(
		    X509_get_subject_name(l), X509_get_subject_name(x)) != 0 ||
		    EVP_PKEY_eq(X509_get0_pubkey(l), X509_get0_pubkey(x)) != 1)
			continue;
		if (signed_by_store(t, l, now))
			return l;
	}
	return NULL;
}

/* A self-signed certificate of t with x's name and key. */
static int
same_key_root(const struct pkid_agent_trust *t, X509 *x)
{
	X509 *y;
	int i;

	for (i = 0; i < sk_X509_num(t->certs); i++) {
		y = sk_X509_value(t->certs, i);
		if (self_signed(y) && X509_NAME_cmp(X509_get_subject_name(y),
		    X509_get_subject_name(x)) == 0 && EVP_PKEY_eq(
		    X509_get0_pubkey(y), X509_get0_pubkey(x)) == 1)
			return 1;
	}
	return 0;
}

/* Nothing new in x: it issued a certificate the identity holds (the
 * CA it chains to now, sent again), or a certificate of the store has
 * its key and lasts at least as long. A CA certificate that merely sits
 * in the identity's files (pkictl enroll writes all of /cacerts there)
 * is not in the store: it is news. */
static int
known(const struct pkid_agent_trust *t, STACK_OF(X509) *held, X509 *x)
{
	X509 *y;
	int i;

	for (i = 0; i < sk_X509_num(held); i++) {
		y = sk_X509_value(held, i);
		if (y != x && X509_cmp(y, x) != 0 &&
		    X509_check_issued(x, y) == X509_V_OK &&
		    X509_verify(y, X509_get0_pubkey(x)) == 1)
			return 1;
	}
	for (i = 0; i < sk_X509_num(t->certs); i++) {
		y = sk_X509_value(t->certs, i);
		if (EVP_PKEY_eq(X509_get0_pubkey(y), X509_get0_pubkey(x)) ==
		    1 && ASN1_TIME_compare(X509_get0_notAfter(y),
		    X509_get0_notAfter(x)) >= 0)
			return 1;
	}
	return 0;
}

/* Should x of offered be added, and why (for the log)? */
static const char *
admit(const struct pkid_agent_trust *t, STACK_OF(X509) *held, X509 *x,
    STACK_OF(X509) *offered, int signed_by_current, time_t now)
{
	if (X509_check_ca(x) < 1 || known(t, held, x) ||
	    X509_cmp_time(X509_get0_notAfter(x), &now) < 0 ||
	    is_link(t, x, offered))
		return NULL;
	if (!self_signed(x) && chains(t, x, offered, now))
		return "issued under a trusted CA";
	if (self_signed(x) && linked_by(t, x, offered, now) != NULL)
		return "new root linked from a trusted one (NewWithOld)";
	if (self_signed(x) && same_key_root(t, x))
		return "a trusted root re-issued with its own key";
	if (self_signed(x) && signed_by_current &&
	    X509_cmp_time(X509_get0_notBefore(x), &now) <= 0)
		return "new root in a GetNextCACert answer signed by the "
		    "current CA or RA (RFC 8894 4.7.1)";
	return NULL;
}

static enum pkid_code
add_cert(struct pkid_agent_trust *t, X509 *x, const char *why,
    struct pkid_err *e)
{
	char name[256], fp[65];

	if (sk_X509_num(t->certs) >= PKID_MAX_BUNDLE_CERTS)
		return PKID_ERR(e, PKID_E_TOO_LARGE, "%s: more than %d trusted "
		    "certificates", t->path, PKID_MAX_BUNDLE_CERTS);
	if (!sk_X509_push(t->certs, x))
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	X509_up_ref(x);
	t->added++;
	pkid_x509_fingerprint(x, fp);
	pkid_log(PKID_LOG_INFO, "agent: trust store %s: added %s (SHA-256 "
	    "%.16s...): %s", t->path, pkid_x509_name_text(
	    X509_get_subject_name(x), name, sizeof(name)), fp, why);
	return PKID_OK;
}

enum pkid_code
pkid_agent_trust_accept(struct pkid_agent_trust *t, STACK_OF(X509) *offered,
    STACK_OF(X509) *held, int signed_by_current, time_t now, int *added,
    struct pkid_err *e)
{
	const char *why;
	int round, i, progress = 1;
	enum pkid_code rc = PKID_OK;

	*added = 0;
	if (sk_X509_num(offered) > PKID_AGENT_MAX_OFFERED)
		return PKID_ERR(e, PKID_E_TOO_LARGE, "the server offered %d CA "
		    "certificates, more than the %d the agent looks at",
		    sk_X509_num(offered), PKID_AGENT_MAX_OFFERED);
	/* A new root first, then the CA it issued: one round per level. */
	for (round = 0; progress && round < PKID_MAX_CHAIN_DEPTH; round++) {
		progress = 0;
		for (i = 0; rc == PKID_OK && i < sk_X509_num(offered); i++) {
			X509 *x = sk_X509_value(offered, i);

			if ((why = admit(t, held, x, offered,
			    signed_by_current, now)) == NULL)
				continue;
			rc = add_cert(t, x, why, e);
			progress = 1;
			(*added)++;
		}
	}
	return rc;
}

/* Is c on the issuer path of leaf (by name and signature, any time)? */
static int
depends_on(const struct pkid_agent_trust *t, X509 *leaf,
    STACK_OF(X509) *chain, X509 *c)
{
	STACK_OF(X509) *sets[2] = { chain, t->certs };
	X509 *cur = leaf, *up;
	int d, s, i;

	for (d = 0; cur != NULL && d < PKID_MAX_CHAIN_DEPTH; d++) {
		if (X509_cmp(cur, c) == 0)
			return 1;
		if (self_signed(cur))
			return 0;
		up = NULL;
		for (s = 0; s < 2 && up == NULL; s++)
			for (i = 0; i < sk_X509_num(sets[s]) && up == NULL;
			    i++) {
				X509 *y = sk_X509_value(sets[s], i);

				if (X509_check_issued(y, cur) == X509_V_OK &&
				    X509_verify(cur, X509_get0_pubkey(y)) == 1)
					up = y;
			}
		cur = up;
	}
	return 0;
}

/* A newer certificate of the same name as x in t. */
static int
superseded(const struct pkid_agent_trust *t, X509 *x)
{
	X509 *y;
	int i;

	for (i = 0; i < sk_X509_num(t->certs); i++) {
		y = sk_X509_value(t->certs, i);
		if (y != x && X509_NAME_cmp(X509_get_subject_name(y),
		    X509_get_subject_name(x)) == 0 && ASN1_TIME_compare(
		    X509_get0_notAfter(y), X509_get0_notAfter(x)) > 0)
			return 1;
	}
	return 0;
}

static void
drop(struct pkid_agent_trust *t, int i)
{
	char name[256];
	X509 *x = sk_X509_delete(t->certs, i);
	int n = sk_X509_num(t->certs);

	pkid_log(PKID_LOG_INFO, "agent: trust store %s: removed %s: expired, "
	    "superseded, and nothing the identity holds depends on it",
	    t->path, pkid_x509_name_text(X509_get_subject_name(x), name,
	    sizeof(name)));
	X509_free(x);
	if (t->src[i] != NULL && t->n_gone < PKID_MAX_BUNDLE_CERTS)
		t->gone[t->n_gone++] = t->src[i];
	else
		free(t->src[i]);
	memmove(&t->src[i], &t->src[i + 1], (size_t)(n - i) *
	    sizeof(t->src[0]));
	t->src[n] = NULL;
	t->removed++;
}

int
pkid_agent_trust_prune(struct pkid_agent_trust *t, X509 *leaf,
    STACK_OF(X509) *chain, time_t now)
{
	X509 *x;
	int i, n = 0;

	for (i = sk_X509_num(t->certs) - 1; i >= 0; i--) {
		x = sk_X509_value(t->certs, i);
		if (sk_X509_num(t->certs) <= 1 ||
		    X509_cmp_time(X509_get0_notAfter(x), &now) >= 0 ||
		    !superseded(t, x) || depends_on(t, leaf, chain, x))
			continue;
		drop(t, i);
		n++;
	}
	return n;
}

/* The certificates of t that came from src (NULL: the new ones), PEM. */
static enum pkid_code
pem_of(const struct pkid_agent_trust *t, const char *src, int all,
    struct pkid_buf *b, struct pkid_err *e)
{
	int i;
	enum pkid_code rc = PKID_OK;

	pkid_buf_init(b, PKID_MAX_FILE_SIZE);
	for (i = 0; rc == PKID_OK && i < sk_X509_num(t->certs); i++)
		if (all || (src == NULL ? t->src[i] == NULL : t->src[i] !=
		    NULL && strcmp(t->src[i], src) == 0))
			rc = pkid_x509_cert_pem(sk_X509_value(t->certs, i), b,
			    e);
	return rc;
}

/* Directory: delete or rewrite the files of dropped certificates. */
static enum pkid_code
save_gone(struct pkid_agent_trust *t, struct pkid_err *e)
{
	struct pkid_buf b;
	enum pkid_code rc = PKID_OK;
	int i;

	for (i = 0; rc == PKID_OK && i < t->n_gone; i++) {
		rc = pem_of(t, t->gone[i], 0, &b, e);
		if (rc == PKID_OK && b.len == 0 && unlink(t->gone[i]) != 0 &&
		    errno != ENOENT)
			rc = PKID_ERR(e, PKID_E_IO_WRITE, "removing %s: %s",
			    t->gone[i], strerror(errno));
		else if (rc == PKID_OK && b.len > 0)
			rc = pkid_file_write(t->gone[i], b.p, b.len, 0644, e);
		pkid_buf_free(&b);
	}
	for (i = 0; i < t->n_gone; i++) {
		free(t->gone[i]);
		t->gone[i] = NULL;
	}
	t->n_gone = 0;
	return rc;
}

/* Directory: each new certificate in a file of its own. */
static enum pkid_code
save_new(struct pkid_agent_trust *t, struct pkid_err *e)
{
	struct pkid_buf b;
	char fp[65], file[PKID_AGENT_MAX_PATH + 64];
	X509 *x;
	int i;
	enum pkid_code rc = PKID_OK;

	for (i = 0; rc == PKID_OK && i < sk_X509_num(t->certs); i++) {
		if (t->src[i] != NULL)
			continue;
		x = sk_X509_value(t->certs, i);
		pkid_x509_fingerprint(x, fp);
		snprintf(file, sizeof(file), "%s/agent-%.16s.pem", t->path, fp);
		pkid_buf_init(&b, PKID_MAX_CERT_SIZE * 2);
		rc = pkid_x509_cert_pem(x, &b, e);
		if (rc == PKID_OK)
			rc = pkid_file_write(file, b.p, b.len, 0644, e);
		if (rc == PKID_OK && (t->src[i] = strdup(file)) == NULL)
			rc = PKID_ERR(e, PKID_E_NOMEM, "no memory");
		pkid_buf_free(&b);
	}
	return rc;
}

enum pkid_code
pkid_agent_trust_save(struct pkid_agent_trust *t, struct pkid_err *e)
{
	struct pkid_buf b;
	enum pkid_code rc;

	if (t->added == 0 && t->removed == 0)
		return PKID_OK;
	if (t->is_dir) {
		rc = save_new(t, e);
		if (rc == PKID_OK)
			rc = save_gone(t, e);
	} else {
		rc = pem_of(t, NULL, 1, &b, e);
		if (rc == PKID_OK)
			rc = pkid_file_write(t->path, b.p, b.len, 0644, e);
		pkid_buf_free(&b);
	}
	if (rc == PKID_OK)
		t->added = t->removed = 0;
	return rc;
}
