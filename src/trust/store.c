/*
 * store.c - the trust store's files (store.h): the lock, loading what
 * state.json lists, changes in memory, and the commit.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "core/clock.h"
#include "trust/store.h"
#include "x509/load.h"

/* Polling interval while another process holds the lock, ms. */
#define LOCK_POLL_MS 50

struct pkid_trust_store {
	char dir[1024];			/* the store's directory */
	enum pkid_trust_mode mode;	/* read or write */
	int lock_fd;			/* DIR/lock, flock'ed; -1 none */
	int exists;			/* state.json was there */
	struct pkid_trust_state st;	/* what it holds */
};

static void
path_of(char *out, size_t n, const char *dir, const char *rel)
{
	snprintf(out, n, "%s/%s", dir, rel);
}

/* Take the lock on DIR/lock within wait_ms. */
static enum pkid_code
lock_store(struct pkid_trust_store *s, int wait_ms, struct pkid_err *e)
{
	struct timespec ts = { 0, LOCK_POLL_MS * 1000000L };
	char p[1100];
	int op = s->mode == PKID_TRUST_WRITE ? LOCK_EX : LOCK_SH, waited = 0;

	path_of(p, sizeof(p), s->dir, "lock");
	s->lock_fd = open(p, (s->mode == PKID_TRUST_WRITE ? O_RDWR | O_CREAT :
	    O_RDONLY) | O_CLOEXEC, 0644);
	/* No lock file: no import ever ran; there is nothing to read. */
	if (s->lock_fd < 0 && s->mode == PKID_TRUST_READ && errno == ENOENT)
		return PKID_OK;
	if (s->lock_fd < 0)
		return PKID_ERR(e, s->mode == PKID_TRUST_WRITE ?
		    PKID_E_IO_WRITE : PKID_E_STORE_OPEN, "%s: %s", p,
		    strerror(errno));
	while (flock(s->lock_fd, op | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return PKID_ERR(e, PKID_E_IO_OPEN, "flock %s: %s", p,
			    strerror(errno));
		if (waited >= wait_ms)
			return PKID_ERR(e, PKID_E_STORE_BUSY, "the trust store "
			    "%s is locked by another process (an import or "
			    "a remove) for more than %d ms", s->dir, wait_ms);
		nanosleep(&ts, NULL);
		waited += LOCK_POLL_MS;
	}
	return PKID_OK;
}

/* Make DIR and DIR/anchors (write mode). */
static enum pkid_code
make_dirs(const char *dir, struct pkid_err *e)
{
	char p[1100];

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return PKID_ERR(e, PKID_E_IO_WRITE, "mkdir %s: %s", dir,
		    strerror(errno));
	path_of(p, sizeof(p), dir, "anchors");
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return PKID_ERR(e, PKID_E_IO_WRITE, "mkdir %s: %s", p,
		    strerror(errno));
	return PKID_OK;
}

/* Hex key identifier: the SKI extension, else RFC 5280 4.2.1.2 (1). */
static void
key_id(X509 *x, char out[129])
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (ski != NULL && ASN1_STRING_length(ski) > 0 &&
	    ASN1_STRING_length(ski) <= 64) {
		pkid_hex(ASN1_STRING_get0_data(ski),
		    (size_t)ASN1_STRING_length(ski), out);
		return;
	}
	if (X509_pubkey_digest(x, EVP_sha1(), md, &n) == 1 && n <= 64)
		pkid_hex(md, n, out);
	ERR_clear_error();
}

static int64_t
asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

enum pkid_code
pkid_trust_anchor_describe(X509 *x, struct pkid_trust_anchor *a,
    struct pkid_err *e)
{
	pkid_x509_fingerprint(x, a->sha256);
	if (a->sha256[0] == '\0')
		return PKID_ERR(e, PKID_E_CRYPTO, "fingerprint");
	key_id(x, a->ski);
	if (a->ski[0] == '\0')
		return PKID_ERR(e, PKID_E_CERT_MALFORMED, "the certificate's "
		    "public key cannot be read");
	pkid_x509_name_text(X509_get_subject_name(x), a->subject,
	    sizeof(a->subject));
	a->not_before = asn1_epoch(X509_get0_notBefore(x));
	a->not_after = asn1_epoch(X509_get0_notAfter(x));
	return PKID_OK;
}

/* Load anchors/<sha256>.pem of a and check that it is that certificate. */
static enum pkid_code
load_anchor(const char *dir, struct pkid_trust_anchor *a,
    struct pkid_err *e)
{
	char p[1200], fp[65];
	enum pkid_code rc = PKID_E_INTERNAL;

	snprintf(p, sizeof(p), "%s/anchors/%s.pem", dir, a->sha256);
	PKID_TRY(pkid_x509_load_cert_file(p, &a->cert, e));
	pkid_x509_fingerprint(a->cert, fp);
	PKID_CHECK(strcmp(fp, a->sha256) == 0, PKID_E_STORE_IO, "%s holds "
	    "the certificate %s, not the one its name and state.json say",
	    p, fp);
	rc = PKID_OK;
out:
	if (rc != PKID_OK)
		pkid_err_ctx(e, "loading the trust store %s", dir);
	return rc;
}

/* state.json and the anchors it lists. */
static enum pkid_code
load_state(struct pkid_trust_store *s, struct pkid_err *e)
{
	struct pkid_buf b;
	char p[1100];
	struct stat sb;
	size_t i;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&b, 0, sizeof(b));
	path_of(p, sizeof(p), s->dir, "state.json");
	/* A directory with no state.json is an empty store (no import
	 * succeeded yet). */
	if (stat(p, &sb) != 0 && errno == ENOENT) {
		rc = PKID_OK;
		goto out;
	}
	s->exists = 1;
	PKID_TRY(pkid_buf_read_file(&b, p, PKID_TRUST_MAX_STATE_SIZE, e));
	if ((rc = pkid_trust_state_parse(b.p, b.len, &s->st, e)) != PKID_OK) {
		pkid_err_ctx(e, "reading %s", p);
		goto out;
	}
	for (i = 0; i < s->st.n; i++)
		PKID_TRY(load_anchor(s->dir, &s->st.a[i], e));
	rc = PKID_OK;
out:
	pkid_buf_free(&b);
	return rc;
}

enum pkid_code
pkid_trust_store_open(const char *dir, enum pkid_trust_mode mode,
    int wait_ms, struct pkid_trust_store **out, struct pkid_err *e)
{
	struct pkid_trust_store *s = NULL;
	struct stat sb;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	PKID_CHECK(strlen(dir) < 900, PKID_E_USAGE, "trust store path too "
	    "long");
	PKID_OSSL_PTR(s = calloc(1, sizeof(*s)), PKID_E_NOMEM, "no memory");
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->mode = mode;
	s->lock_fd = -1;
	if (mode == PKID_TRUST_WRITE)
		PKID_TRY(make_dirs(dir, e));
	else
		PKID_CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode),
		    PKID_E_STORE_OPEN, "no trust store at %s (not a "
		    "directory); make one with 'pkictl trust import --store "
		    "%s ...'", dir, dir);
	PKID_TRY(lock_store(s, wait_ms, e));
	PKID_TRY(load_state(s, e));
	*out = s;
	s = NULL;
	rc = PKID_OK;
out:
	pkid_trust_store_close(s);
	return rc;
}

void
pkid_trust_store_close(struct pkid_trust_store *s)
{
	if (s == NULL)
		return;
	if (s->lock_fd >= 0)
		close(s->lock_fd);	/* releases the flock */
	pkid_trust_state_clear(&s->st);
	free(s);
}

struct pkid_trust_state *
pkid_trust_store_state(struct pkid_trust_store *s)
{
	return &s->st;
}

const char *
pkid_trust_store_dir(const struct pkid_trust_store *s)
{
	return s->dir;
}

STACK_OF(X509) *
pkid_trust_store_certs(struct pkid_trust_store *s)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	size_t i;

	for (i = 0; sk != NULL && i < s->st.n; i++) {
		X509 *x = s->st.a[i].cert;

		if (!X509_up_ref(x) || !sk_X509_push(sk, x)) {
			sk_X509_pop_free(sk, X509_free);
			return NULL;
		}
	}
	return sk;
}

int
pkid_trust_store_find(struct pkid_trust_store *s, const char *sha256)
{
	size_t i;

	for (i = 0; i < s->st.n; i++)
		if (strcmp(s->st.a[i].sha256, sha256) == 0)
			return (int)i;
	return -1;
}

enum pkid_code
pkid_trust_store_add(struct pkid_trust_store *s, X509 *x, const char *source,
    int64_t now, struct pkid_err *e)
{
	struct pkid_trust_anchor a, *na;
	size_t cap;

	memset(&a, 0, sizeof(a));
	if (pkid_trust_anchor_describe(x, &a, e) != PKID_OK)
		return e->code;
	if (pkid_trust_store_find(s, a.sha256) >= 0)
		return PKID_OK;
	if (s->st.n >= PKID_TRUST_MAX_ANCHORS)
		return PKID_ERR(e, PKID_E_TOO_LARGE, "the trust store %s holds "
		    "%d anchors, the most it may", s->dir,
		    PKID_TRUST_MAX_ANCHORS);
	if (s->st.n == s->st.cap) {
		cap = s->st.cap == 0 ? 16 : s->st.cap * 2;
		if ((na = realloc(s->st.a, cap * sizeof(*na))) == NULL)
			return PKID_ERR(e, PKID_E_NOMEM, "no memory");
		s->st.a = na;
		s->st.cap = cap;
	}
	if (!X509_up_ref(x))
		return PKID_ERR(e, PKID_E_INTERNAL, "reference");
	a.cert = x;
	snprintf(a.source, sizeof(a.source), "%s", source);
	a.added = now;
	a.fresh = 1;
	s->st.a[s->st.n++] = a;
	return PKID_OK;
}

/* id without colons, lower-case, into out; 0 when not hex. */
static int
norm_hex(const char *id, char *out, size_t n)
{
	size_t o = 0;

	for (; *id != '\0'; id++) {
		if (*id == ':')
			continue;
		if (!isxdigit((unsigned char)*id) || o + 1 >= n)
			return 0;
		out[o++] = (char)tolower((unsigned char)*id);
	}
	out[o] = '\0';
	return o > 0;
}

enum pkid_code
pkid_trust_store_remove(struct pkid_trust_store *s, const char *id,
    char removed[65], struct pkid_err *e)
{
	char want[200];
	size_t i, hit = 0, nhit = 0;

	removed[0] = '\0';
	if (!norm_hex(id, want, sizeof(want)))
		return PKID_ERR(e, PKID_E_USAGE, "'%s' is neither a SHA-256 "
		    "fingerprint nor an SKI (hex, colons allowed)", id);
	for (i = 0; i < s->st.n; i++) {
		if (strcmp(s->st.a[i].sha256, want) == 0) {
			hit = i;
			nhit = 1;
			break;
		}
		if (strcmp(s->st.a[i].ski, want) == 0) {
			hit = i;
			nhit++;
		}
	}
	if (nhit == 0)
		return PKID_ERR(e, PKID_E_NOT_FOUND, "no anchor in %s has the "
		    "fingerprint or SKI %s ('pkictl trust list --store %s' "
		    "shows them)", s->dir, want, s->dir);
	if (nhit > 1)
		return PKID_ERR(e, PKID_E_USAGE, "%zu anchors share the SKI %s "
		    "(certificates of one key); give the SHA-256 fingerprint",
		    nhit, want);
	memcpy(removed, s->st.a[hit].sha256, 65);
	X509_free(s->st.a[hit].cert);
	memmove(&s->st.a[hit], &s->st.a[hit + 1], (s->st.n - hit - 1) *
	    sizeof(s->st.a[0]));
	s->st.n--;
	return PKID_OK;
}

struct pkid_trust_source *
pkid_trust_store_source(struct pkid_trust_store *s, const char *anchor,
    int create)
{
	struct pkid_trust_source *r;
	size_t i;

	for (i = 0; i < s->st.nsrc; i++)
		if (strcmp(s->st.src[i].anchor, anchor) == 0)
			return &s->st.src[i];
	if (!create || s->st.nsrc >= PKID_TRUST_MAX_SOURCES)
		return NULL;
	r = &s->st.src[s->st.nsrc++];
	memset(r, 0, sizeof(*r));
	snprintf(r->anchor, sizeof(r->anchor), "%s", anchor);
	r->serial = -1;
	return r;
}

/* The anchor files of fresh anchors. */
static enum pkid_code
write_fresh(struct pkid_trust_store *s, struct pkid_err *e)
{
	struct pkid_buf b;
	char p[1200];
	size_t i;
	enum pkid_code rc = PKID_OK;

	for (i = 0; rc == PKID_OK && i < s->st.n; i++) {
		if (!s->st.a[i].fresh)
			continue;
		memset(&b, 0, sizeof(b));
		snprintf(p, sizeof(p), "%s/anchors/%s.pem", s->dir,
		    s->st.a[i].sha256);
		rc = pkid_x509_cert_pem(s->st.a[i].cert, &b, e);
		if (rc == PKID_OK)
			rc = pkid_file_write(p, b.p, b.len, 0644, e);
		pkid_buf_free(&b);
	}
	return rc;
}

/* A name in anchors/ the store may remove: an anchor file or a
 * temporary file of pkid_file_write. */
static int
ours(const char *name)
{
	size_t n = strlen(name);

	if (n == 68 && strcmp(name + 64, ".pem") == 0)
		return 1;
	return n > 68 && strncmp(name + 64, ".pem.tmp.", 9) == 0;
}

/* Remove the files of anchors/ state.json does not name. */
static void
sweep(struct pkid_trust_store *s)
{
	char p[1100], f[1400], fp[65];
	struct dirent *de;
	DIR *d;
	int fd;

	path_of(p, sizeof(p), s->dir, "anchors");
	if ((d = opendir(p)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!ours(de->d_name))
			continue;
		memcpy(fp, de->d_name, 64);
		fp[64] = '\0';
		if (strlen(de->d_name) == 68 &&
		    pkid_trust_store_find(s, fp) >= 0)
			continue;
		snprintf(f, sizeof(f), "%s/%s", p, de->d_name);
		(void)unlink(f);
	}
	closedir(d);
	if ((fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

enum pkid_code
pkid_trust_store_commit(struct pkid_trust_store *s, struct pkid_err *e)
{
	struct pkid_buf b;
	char p[1100];
	size_t i;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&b, 0, sizeof(b));
	PKID_CHECK(s->mode == PKID_TRUST_WRITE, PKID_E_USAGE, "the trust "
	    "store was opened for reading");
	PKID_TRY(write_fresh(s, e));
	PKID_TRY(pkid_trust_state_write(&s->st, &b, e));
	path_of(p, sizeof(p), s->dir, "state.json");
	/* The commit point: rename over state.json, then the directory's
	 * fsync (pkid_file_write). */
	PKID_TRY(pkid_file_write(p, b.p, b.len, 0644, e));
	for (i = 0; i < s->st.n; i++)
		s->st.a[i].fresh = 0;
	s->exists = 1;
	sweep(s);
	rc = PKID_OK;
out:
	pkid_buf_free(&b);
	return rc;
}

enum pkid_code
pkid_trust_status_load(const char *dir, struct pkid_trust_status *s,
    struct pkid_err *e)
{
	struct pkid_buf b;
	char p[1100];
	struct stat sb;
	enum pkid_code rc;

	memset(s, 0, sizeof(*s));
	s->serial = -1;
	path_of(p, sizeof(p), dir, "status.json");
	if (stat(p, &sb) != 0 && errno == ENOENT)
		return PKID_OK;
	memset(&b, 0, sizeof(b));
	if ((rc = pkid_buf_read_file(&b, p, PKID_TRUST_MAX_STATE_SIZE, e)) ==
	    PKID_OK && (rc = pkid_trust_status_parse(b.p, b.len, s, e)) !=
	    PKID_OK)
		pkid_err_ctx(e, "reading %s", p);
	pkid_buf_free(&b);
	return rc;
}

enum pkid_code
pkid_trust_status_save(const char *dir, const struct pkid_trust_status *s,
    struct pkid_err *e)
{
	struct pkid_buf b;
	char p[1100];
	enum pkid_code rc;

	memset(&b, 0, sizeof(b));
	path_of(p, sizeof(p), dir, "status.json");
	if ((rc = make_dirs(dir, e)) == PKID_OK &&
	    (rc = pkid_trust_status_write(s, &b, e)) == PKID_OK)
		rc = pkid_file_write(p, b.p, b.len, 0644, e);
	pkid_buf_free(&b);
	return rc;
}
