/*
 * publish.c - the bundle a pkid CA serves (publish.h): its anchors, its
 * serial kept in DIR/trust/bundle.json, the signed bytes kept in
 * DIR/trust/bundle.p7b and made again only when something changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "trust/bundle.h"
#include "trust/publish.h"
#include "x509/load.h"

#define F_STATE "trust/bundle.json"
#define F_DER "trust/bundle.p7b"
#define F_PUBLOCK "trust/lock"
/* Polling interval while pkictl or another pkid holds the lock, ms. */
#define LOCK_POLL_MS 50

/* What DIR/trust/bundle.json remembers. */
struct pub_state {
	int64_t serial;			/* last serial, -1 none */
	char content_sha256[65];	/* its content's SHA-256 */
	char signer_sha256[65];		/* its signer's fingerprint */
};

void
pkid_trust_pub_clear(struct pkid_trust_pub *p)
{
	if (p == NULL)
		return;
	OPENSSL_free(p->der);
	memset(p, 0, sizeof(*p));
}

static int
cmp_fp(const X509 *const *a, const X509 *const *b)
{
	char fa[65], fb[65];

	pkid_x509_fingerprint((X509 *)*a, fa);
	pkid_x509_fingerprint((X509 *)*b, fb);
	return strcmp(fa, fb);
}

/* Push a new reference to x unless an equal certificate is there. */
static enum pkid_code
push_unique(STACK_OF(X509) *sk, X509 *x, struct pkid_err *e)
{
	int i;

	for (i = 0; i < sk_X509_num(sk); i++)
		if (X509_cmp(sk_X509_value(sk, i), x) == 0)
			return PKID_OK;
	if (sk_X509_num(sk) >= PKID_TRUST_MAX_ANCHORS)
		return PKID_ERR(e, PKID_E_TOO_LARGE, "more than %d anchors to "
		    "publish", PKID_TRUST_MAX_ANCHORS);
	if (!X509_up_ref(x))
		return PKID_ERR(e, PKID_E_INTERNAL, "reference");
	if (!sk_X509_push(sk, x)) {
		X509_free(x);
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	return PKID_OK;
}

/* [trust] extra_anchors: CA certificates only. */
static enum pkid_code
add_extra(struct pkid_ca *ca, STACK_OF(X509) *sk, struct pkid_err *e)
{
	const char *f = ca->cfg.trust_extra_anchors;
	STACK_OF(X509) *more = NULL;
	char p[2200], sub[256];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (f[0] == '\0')
		return PKID_OK;
	snprintf(p, sizeof(p), "%s%s%s", f[0] == '/' ? "" : ca->dir,
	    f[0] == '/' ? "" : "/", f);
	if ((rc = pkid_x509_load_certs_file(p, &more, e)) != PKID_OK) {
		pkid_err_ctx(e, "[trust] extra_anchors in %s", ca->cfg.path);
		goto out;
	}
	for (i = 0; i < sk_X509_num(more); i++) {
		X509 *x = sk_X509_value(more, i);

		pkid_x509_name_text(X509_get_subject_name(x), sub, sizeof(sub));
		PKID_CHECK(pkid_trust_is_ca(x), PKID_E_BUNDLE_NOT_CA,
		    "[trust] extra_anchors %s: certificate %d '%s' is not a "
		    "CA certificate; only CAs are trust anchors", p, i + 1,
		    sub);
		PKID_TRY(push_unique(sk, x, e));
	}
	rc = PKID_OK;
out:
	sk_X509_pop_free(more, X509_free);
	return rc;
}

enum pkid_code
pkid_trust_published_anchors(struct pkid_ca *ca, STACK_OF(X509) **out,
    struct pkid_err *e)
{
	STACK_OF(X509) *pub = NULL, *sk = NULL;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	PKID_OSSL_PTR(pub = pkid_ca_published(ca), PKID_E_NOMEM, "no memory");
	PKID_OSSL_PTR(sk = sk_X509_new(cmp_fp), PKID_E_NOMEM, "no memory");
	/* Roots only: link certificates and signing CAs chain to them. */
	for (i = 0; i < sk_X509_num(pub); i++)
		if (X509_self_signed(sk_X509_value(pub, i), 1) == 1)
			PKID_TRY(push_unique(sk, sk_X509_value(pub, i), e));
	PKID_TRY(add_extra(ca, sk, e));
	sk_X509_sort(sk);
	*out = sk;
	sk = NULL;
	rc = PKID_OK;
out:
	sk_X509_pop_free(pub, X509_free);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* DIR/trust/bundle.json; anything unreadable is "none". */
static void
read_state(const char *dir, struct pub_state *st)
{
	struct pkid_buf b;
	struct pkid_err ignore;
	json_t *doc = NULL;
	const char *h, *s;
	char p[1200];

	memset(st, 0, sizeof(*st));
	st->serial = -1;
	memset(&b, 0, sizeof(b));
	snprintf(p, sizeof(p), "%s/%s", dir, F_STATE);
	pkid_err_clear(&ignore);
	if (pkid_buf_read_file(&b, p, 64 * 1024, &ignore) != PKID_OK)
		return;
	doc = json_loadb((const char *)b.p, b.len, 0, NULL);
	h = json_string_value(json_object_get(doc, "content_sha256"));
	s = json_string_value(json_object_get(doc, "signer_sha256"));
	if (json_is_integer(json_object_get(doc, "serial")) && h != NULL &&
	    s != NULL && strlen(h) == 64 && strlen(s) == 64) {
		st->serial = json_integer_value(json_object_get(doc,
		    "serial"));
		memcpy(st->content_sha256, h, 65);
		memcpy(st->signer_sha256, s, 65);
	}
	json_decref(doc);
	pkid_buf_free(&b);
}

static enum pkid_code
write_state(const char *dir, const struct pub_state *st, struct pkid_err *e)
{
	char p[1200], when[32];
	char *text;
	json_t *doc;
	enum pkid_code rc;

	doc = json_pack("{s:I, s:s, s:s, s:s}", "serial",
	    (json_int_t)st->serial, "content_sha256", st->content_sha256,
	    "signer_sha256", st->signer_sha256, "made",
	    pkid_time_fmt(pkid_now(), when, sizeof(when)));
	text = doc != NULL ? json_dumps(doc, JSON_INDENT(1) |
	    JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	if (text == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	snprintf(p, sizeof(p), "%s/%s", dir, F_STATE);
	rc = pkid_file_write(p, text, strlen(text), 0644, e);
	free(text);
	return rc;
}

/* The kept bundle when it is the one state names: same content, same
 * signer, same serial. */
static int
reuse(const char *dir, const struct pub_state *st, struct pkid_buf *der)
{
	struct pkid_trust_bundle *b = NULL;
	struct pkid_err ignore;
	char p[1200], fp[65];
	int ok;

	snprintf(p, sizeof(p), "%s/%s", dir, F_DER);
	pkid_err_clear(&ignore);
	if (pkid_buf_read_file(der, p, PKID_TRUST_MAX_BUNDLE_SIZE, &ignore) !=
	    PKID_OK)
		return 0;
	if (pkid_trust_bundle_open(der->p, der->len, NULL, 0, &b, &ignore) !=
	    PKID_OK)
		return 0;
	pkid_x509_fingerprint(b->signer, fp);
	ok = b->serial == st->serial && strcmp(b->content_sha256,
	    st->content_sha256) == 0 && strcmp(fp, st->signer_sha256) == 0;
	pkid_trust_bundle_free(b);
	return ok;
}

/* DIR/trust/lock, exclusive, within PKID_TRUST_LOCK_WAIT_MS. */
static enum pkid_code
lock_pub(const char *dir, int *fd, struct pkid_err *e)
{
	struct timespec ts = { 0, LOCK_POLL_MS * 1000000L };
	char p[1200];
	int waited = 0;

	snprintf(p, sizeof(p), "%s/trust", dir);
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return PKID_ERR(e, PKID_E_IO_WRITE, "mkdir %s: %s", p,
		    strerror(errno));
	snprintf(p, sizeof(p), "%s/%s", dir, F_PUBLOCK);
	if ((*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return PKID_ERR(e, PKID_E_IO_WRITE, "%s: %s", p,
		    strerror(errno));
	while (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		if (waited >= PKID_TRUST_LOCK_WAIT_MS)
			return PKID_ERR(e, PKID_E_STORE_BUSY, "%s is held by "
			    "another process", p);
		nanosleep(&ts, NULL);
		waited += LOCK_POLL_MS;
	}
	return PKID_OK;
}

/* Sign anchors anew as the next serial and keep the result. */
static enum pkid_code
remake(struct pkid_ca *ca, STACK_OF(X509) *anchors, X509 *cert,
    EVP_PKEY *key, int keep, struct pub_state *st, struct pkid_buf *der,
    struct pkid_err *e)
{
	int64_t now = (int64_t)pkid_now();
	char p[1200];
	enum pkid_code rc = PKID_E_INTERNAL;

	/* New content grows the serial, even when bundle.json was lost:
	 * never below the clock. The same content under a new signer
	 * keeps it (importers see it unchanged). */
	if (!keep || st->serial < 0)
		st->serial = st->serial + 1 > now ? st->serial + 1 : now;
	pkid_buf_free(der);
	PKID_TRY(pkid_trust_bundle_make(anchors, cert, key, ca->links,
	    st->serial, (time_t)now, der, e));
	snprintf(p, sizeof(p), "%s/%s", ca->dir, F_DER);
	PKID_TRY(pkid_file_write(p, der->p, der->len, 0644, e));
	PKID_TRY(write_state(ca->dir, st, e));
	pkid_log(PKID_LOG_INFO, "trust: bundle serial %lld signed: %d anchors",
	    (long long)st->serial, sk_X509_num(anchors));
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
fill_pub(const struct pub_state *st, int n, struct pkid_buf *der,
    struct pkid_trust_pub *out, struct pkid_err *e)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char hex[65];

	if (EVP_Digest(der->p, der->len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return PKID_ERR(e, PKID_E_CRYPTO, "digest");
	pkid_hex(md, 32, hex);
	if ((out->der = OPENSSL_memdup(der->p, der->len)) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	out->len = der->len;
	out->serial = st->serial;
	out->anchors = n;
	memcpy(out->content_sha256, st->content_sha256, 65);
	snprintf(out->etag, sizeof(out->etag), "\"%lld-%.16s\"",
	    (long long)st->serial, hex);
	return PKID_OK;
}

enum pkid_code
pkid_trust_publish(struct pkid_ca *ca, struct pkid_trust_pub *out,
    struct pkid_err *e)
{
	STACK_OF(X509) *anchors = NULL;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	struct pub_state st;
	struct pkid_buf der;
	char hash[65], sfp[65];
	int fd = -1, keep;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(out, 0, sizeof(*out));
	memset(&der, 0, sizeof(der));
	PKID_TRY(lock_pub(ca->dir, &fd, e));
	PKID_TRY(pkid_trust_signer_ensure(ca, &cert, &key, e));
	PKID_TRY(pkid_trust_published_anchors(ca, &anchors, e));
	PKID_TRY(pkid_trust_content_sha256(anchors, hash, e));
	pkid_x509_fingerprint(cert, sfp);
	read_state(ca->dir, &st);
	if (strcmp(st.content_sha256, hash) != 0 ||
	    strcmp(st.signer_sha256, sfp) != 0 || !reuse(ca->dir, &st, &der)) {
		keep = strcmp(st.content_sha256, hash) == 0;
		memcpy(st.content_sha256, hash, 65);
		memcpy(st.signer_sha256, sfp, 65);
		PKID_TRY(remake(ca, anchors, cert, key, keep, &st, &der, e));
	}
	PKID_TRY(fill_pub(&st, sk_X509_num(anchors), &der, out, e));
	rc = PKID_OK;
out:
	if (fd >= 0)
		close(fd);
	pkid_buf_free(&der);
	sk_X509_pop_free(anchors, X509_free);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}
