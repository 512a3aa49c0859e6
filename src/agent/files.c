/*
 * files.c - what the agent reads and writes for an identity: its
 * certificate, key and chain (loaded each pass; written atomically with
 * temp file, fsync and rename, the key 0600), secrets, issuer paths.
 *
 * A new key is written first as KEY.next, then the certificate, then
 * KEY.next is renamed over KEY: a crash in between leaves KEY.next
 * matching the certificate, and the next load finishes the change.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "agent/agent_int.h"
#include "core/buf.h"
#include "core/log.h"
#include "x509/load.h"

enum pkid_code
pkid_agent_read_secret(const char *path, char *out, size_t len,
    struct pkid_err *e)
{
	struct pkid_buf b;
	size_t n;
	enum pkid_code rc = PKID_E_INTERNAL;

	out[0] = '\0';
	PKID_TRY(pkid_buf_read_file(&b, path, len + 2, e));
	n = strcspn((const char *)b.p, "\r\n");
	PKID_CHECK(n > 0 && n < len, PKID_E_USAGE, "%s: the first line "
	    "holds the secret (1 to %zu characters)", path, len - 1);
	memcpy(out, b.p, n);
	out[n] = '\0';
	rc = PKID_OK;
out:
	pkid_buf_free(&b);	/* wiped: pkid_buf_free clears owned bytes */
	return rc;
}

static int
self_signed(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

/* The certificate of pool that issued x (name and signature), or NULL. */
static X509 *
issuer_in(STACK_OF(X509) *pool, X509 *x)
{
	X509 *y;
	int i;

	for (i = 0; i < sk_X509_num(pool); i++) {
		y = sk_X509_value(pool, i);
		if (y != x && X509_check_issued(y, x) == X509_V_OK &&
		    X509_verify(x, X509_get0_pubkey(y)) == 1)
			return y;
	}
	return NULL;
}

enum pkid_code
pkid_agent_issuer_path(X509 *leaf, STACK_OF(X509) *pool, int with_root,
    STACK_OF(X509) **out, struct pkid_err *e)
{
	X509 *cur = leaf, *up;
	int d;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (*out == NULL)
		PKID_CHECK((*out = sk_X509_new_null()) != NULL, PKID_E_NOMEM,
		    "no memory");
	for (d = 0; d < PKID_MAX_CHAIN_DEPTH && !self_signed(cur); d++) {
		if ((up = issuer_in(pool, cur)) == NULL)
			break;
		if (self_signed(up) && !with_root)
			break;
		PKID_CHECK(sk_X509_push(*out, up), PKID_E_NOMEM, "no memory");
		X509_up_ref(up);
		cur = up;
	}
	rc = PKID_OK;
out:
	return rc;
}

/* KEY.next, where a new key waits for its certificate. */
static void
next_path(const char *key, char *out, size_t len)
{
	snprintf(out, len, "%s.next", key);
}

enum pkid_code
pkid_agent_key_load(const char *key_path, X509 *leaf, int finish,
    EVP_PKEY **out, struct pkid_err *e)
{
	char next[PKID_AGENT_MAX_PATH + 8];
	EVP_PKEY *k = NULL, *n = NULL;
	struct pkid_err e2;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	next_path(key_path, next, sizeof(next));
	PKID_TRY(pkid_x509_load_key_file(key_path, &k, e));
	if (X509_check_private_key(leaf, k) == 1) {
		if (finish)
			(void)unlink(next);	/* a stale one, if any */
		*out = k;
		k = NULL;
		rc = PKID_OK;
		goto out;
	}
	pkid_err_clear(&e2);
	if (access(next, F_OK) == 0 && pkid_x509_load_key_file(next, &n,
	    &e2) == PKID_OK && X509_check_private_key(leaf, n) == 1) {
		/* A renewal was cut short after the certificate went in. */
		if (finish) {
			PKID_CHECK(rename(next, key_path) == 0, PKID_E_IO_WRITE,
			    "%s -> %s: %s", next, key_path, strerror(errno));
			pkid_log(PKID_LOG_WARN, "agent: %s: finished the key "
			    "change of an interrupted renewal (%s)", key_path,
			    next);
		}
		*out = n;
		n = NULL;
		rc = PKID_OK;
		goto out;
	}
	rc = PKID_ERR(e, PKID_E_KEY_MISMATCH, "%s does not hold the key of "
	    "the certificate (nor does %s)", key_path, next);
out:
	EVP_PKEY_free(k);
	EVP_PKEY_free(n);
	return rc;
}

/* fsync the directory of path, so a rename in it is durable. */
static void
sync_dir(const char *path)
{
	char tmp[PKID_AGENT_MAX_PATH + 8];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s", path);
	if ((fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* The mode an existing file has (permissions only), else dflt. */
static int
mode_of(const char *path, int dflt)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return dflt;
	return (int)(st.st_mode & 0777);
}

/* PEM of x, then of every certificate of sk, into path. */
static enum pkid_code
write_certs(const char *path, X509 *x, STACK_OF(X509) *sk,
    struct pkid_err *e)
{
	struct pkid_buf b;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&b, PKID_MAX_FILE_SIZE);
	if (x != NULL)
		PKID_TRY(pkid_x509_cert_pem(x, &b, e));
	for (i = 0; i < sk_X509_num(sk); i++)
		PKID_TRY(pkid_x509_cert_pem(sk_X509_value(sk, i), &b, e));
	PKID_TRY(pkid_file_write(path, b.p, b.len, mode_of(path, 0644), e));
	rc = PKID_OK;
out:
	pkid_buf_free(&b);
	return rc;
}

enum pkid_code
pkid_agent_write_identity(struct pkid_agent_work *w, struct pkid_err *e)
{
	const struct pkid_agent_id *id = w->id;
	STACK_OF(X509) *inter = NULL;
	char next[PKID_AGENT_MAX_PATH + 8];
	struct pkid_buf b;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&b, PKID_MAX_FILE_SIZE);
	next_path(id->key, next, sizeof(next));
	/* The intermediates of the new certificate, from what the server
	 * sent and the trust store. */
	PKID_TRY(pkid_agent_issuer_path(w->issued, w->issued_pool, 0, &inter,
	    e));
	if (sk_X509_num(inter) == 0)
		PKID_TRY(pkid_agent_issuer_path(w->issued, w->trust.certs, 0,
		    &inter, e));
	if (w->new_key != NULL) {
		PKID_TRY(pkid_x509_key_pem(w->new_key, &b, e));
		PKID_TRY(pkid_file_write(next, b.p, b.len, 0600, e));
	}
	/* Without a chain file, the certificate file carries them. */
	PKID_TRY(write_certs(id->cert, w->issued, id->chain[0] != '\0' ?
	    NULL : inter, e));
	if (id->chain[0] != '\0')
		PKID_TRY(write_certs(id->chain, NULL, inter, e));
	if (w->new_key != NULL) {
		PKID_CHECK(rename(next, id->key) == 0, PKID_E_IO_WRITE,
		    "%s -> %s: %s", next, id->key, strerror(errno));
		sync_dir(id->key);
	}
	rc = PKID_OK;
out:
	pkid_buf_free(&b);
	sk_X509_pop_free(inter, X509_free);
	return rc;
}
