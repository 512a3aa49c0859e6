/*
 * ccache.c - the client certificate chain cache: a set-associative table
 * of fixed size (4 ways, a dead or the least recently used entry of a set
 * replaced), locked by stripes, with a generation that invalidation bumps.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "core/limits.h"
#include "verify/ccache.h"

#define WAYS 4		/* entries per set */
#define STRIPES 16	/* locks; set i uses lock i % STRIPES */
#define DLEN 32		/* SHA-256 */

/* A chain that verified. */
struct ent {
	uint8_t d[DLEN];	/* the key digest */
	uint64_t gen;		/* generation it belongs to */
	int64_t from;		/* valid from (latest notBefore), epoch s */
	int64_t until;		/* valid before (earliest notAfter, TTL) */
	uint64_t stamp;		/* last use; 0 = empty */
};

struct pkid_ccache {
	pthread_mutex_t lock[STRIPES];	/* per stripe of sets */
	EVP_MD *sha256;			/* fetched once */
	size_t sets;			/* sets in ent */
	struct ent *ent;		/* sets * WAYS */
	atomic_uint_fast64_t gen;	/* current generation */
	atomic_uint_fast64_t clock;	/* stamp source */
	atomic_uint_fast64_t n[4];	/* the stats, in struct order */
};

struct pkid_ccache *
pkid_ccache_new(size_t entries, struct pkid_err *e)
{
	struct pkid_ccache *cc;
	size_t n = (entries != 0 ? entries : PKID_CCACHE_ENTRIES) / WAYS;
	int i;

	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		goto fail;
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_init(&cc->lock[i], NULL);
	cc->sets = n > 0 ? n : 1;
	cc->ent = calloc(cc->sets * WAYS, sizeof(*cc->ent));
	cc->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (cc->ent == NULL || cc->sha256 == NULL)
		goto fail;
	atomic_init(&cc->gen, 1);
	atomic_init(&cc->clock, 1);
	return cc;
fail:
	pkid_ccache_free(cc);
	PKID_ERR(e, PKID_E_NOMEM, "no memory for the client certificate "
	    "cache");
	return NULL;
}

void
pkid_ccache_free(struct pkid_ccache *cc)
{
	int i;

	if (cc == NULL)
		return;
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&cc->lock[i]);
	EVP_MD_free(cc->sha256);
	free(cc->ent);
	free(cc);
}

void
pkid_ccache_invalidate(struct pkid_ccache *cc)
{
	if (cc == NULL)
		return;
	atomic_fetch_add(&cc->gen, 1);
	atomic_fetch_add(&cc->n[3], 1);
}

void
pkid_ccache_stats(struct pkid_ccache *cc, struct pkid_ccache_stats *s)
{
	s->hits = atomic_load(&cc->n[0]);
	s->misses = atomic_load(&cc->n[1]);
	s->stored = atomic_load(&cc->n[2]);
	s->invalidations = atomic_load(&cc->n[3]);
}

static int
add_cert(struct pkid_ccache *cc, EVP_MD_CTX *md, X509 *x)
{
	uint8_t d[DLEN];
	unsigned int n = 0;

	return X509_digest(x, cc->sha256, d, &n) == 1 && n == DLEN &&
	    EVP_DigestUpdate(md, d, n) == 1;
}

/* SHA-256(domain || H(leaf) || H(chain[0]) || ...) into k->d. */
static int
make_key(struct pkid_ccache *cc, unsigned domain, X509 *leaf,
    STACK_OF(X509) *chain, struct pkid_ccache_key *k)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t dom[4];
	unsigned int n = 0;
	int i, ok;

	dom[0] = (uint8_t)(domain >> 24);
	dom[1] = (uint8_t)(domain >> 16);
	dom[2] = (uint8_t)(domain >> 8);
	dom[3] = (uint8_t)domain;
	ok = md != NULL && EVP_DigestInit_ex(md, cc->sha256, NULL) == 1 &&
	    EVP_DigestUpdate(md, dom, sizeof(dom)) == 1 &&
	    add_cert(cc, md, leaf);
	for (i = 0; ok && i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);

		/* The same chain with or without the leaf repeated is the
		 * same input to X509_verify_cert. */
		if (x == leaf || X509_cmp(x, leaf) == 0)
			continue;
		ok = add_cert(cc, md, x);
	}
	ok = ok && EVP_DigestFinal_ex(md, k->d, &n) == 1 && n == DLEN;
	EVP_MD_CTX_free(md);
	return ok;
}

static struct ent *
set_of(struct pkid_ccache *cc, const uint8_t *d, pthread_mutex_t **l)
{
	uint64_t h;
	size_t s;

	memcpy(&h, d, sizeof(h));
	s = (size_t)(h % cc->sets);
	*l = &cc->lock[s % STRIPES];
	return &cc->ent[s * WAYS];
}

int
pkid_ccache_lookup(struct pkid_ccache *cc, unsigned domain, X509 *leaf,
    STACK_OF(X509) *chain, time_t now, struct pkid_ccache_key *k)
{
	pthread_mutex_t *l;
	struct ent *set;
	int i, hit = 0;

	memset(k, 0, sizeof(*k));
	if (cc == NULL || leaf == NULL)
		return 0;
	k->gen = atomic_load(&cc->gen);
	k->ok = make_key(cc, domain, leaf, chain, k);
	ERR_clear_error();
	if (!k->ok)
		return 0;
	set = set_of(cc, k->d, &l);
	pthread_mutex_lock(l);
	for (i = 0; i < WAYS && !hit; i++) {
		if (set[i].stamp == 0 || set[i].gen != k->gen ||
		    memcmp(set[i].d, k->d, DLEN) != 0)
			continue;
		if ((int64_t)now >= set[i].from && (int64_t)now < set[i].until) {
			set[i].stamp = atomic_fetch_add(&cc->clock, 1);
			hit = 1;
		}
	}
	pthread_mutex_unlock(l);
	atomic_fetch_add(&cc->n[hit ? 0 : 1], 1);
	return hit;
}

static int
tm_of(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	*out = (int64_t)timegm(&tm);
	return 1;
}

/* Latest notBefore and earliest notAfter over the verified chain. */
static int
chain_window(X509_STORE_CTX *ctx, int64_t *from, int64_t *until)
{
	STACK_OF(X509) *sk = X509_STORE_CTX_get0_chain(ctx);
	int64_t nb, na;
	int i;

	if (sk_X509_num(sk) <= 0)
		return 0;
	for (i = 0; i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);

		if (!tm_of(X509_get0_notBefore(x), &nb) ||
		    !tm_of(X509_get0_notAfter(x), &na))
			return 0;
		if (nb > *from)
			*from = nb;
		if (na < *until)
			*until = na;
	}
	return 1;
}

void
pkid_ccache_store(struct pkid_ccache *cc, const struct pkid_ccache_key *k,
    X509_STORE_CTX *ctx, time_t now)
{
	int64_t from = INT64_MIN, until = (int64_t)now + PKID_CCACHE_TTL_S;
	pthread_mutex_t *l;
	struct ent *set;
	int i, victim = 0;

	if (cc == NULL || !k->ok || !chain_window(ctx, &from, &until) ||
	    (int64_t)now < from || (int64_t)now >= until)
		return;
	set = set_of(cc, k->d, &l);
	pthread_mutex_lock(l);
	/* A result from before an invalidation must not come back. */
	if (atomic_load(&cc->gen) != k->gen)
		goto out;
	for (i = 0; i < WAYS; i++) {
		if (set[i].stamp == 0 || set[i].gen != k->gen ||
		    memcmp(set[i].d, k->d, DLEN) == 0) {
			victim = i;
			break;
		}
		if (set[i].stamp < set[victim].stamp)
			victim = i;
	}
	memcpy(set[victim].d, k->d, DLEN);
	set[victim].gen = k->gen;
	set[victim].from = from;
	set[victim].until = until;
	set[victim].stamp = atomic_fetch_add(&cc->clock, 1);
	atomic_fetch_add(&cc->n[2], 1);
out:
	pthread_mutex_unlock(l);
}

int
pkid_ccache_verify(struct pkid_ccache *cc, unsigned domain,
    X509_STORE_CTX *ctx, time_t now, int *hit)
{
	struct pkid_ccache_key k;
	int r;

	*hit = pkid_ccache_lookup(cc, domain, X509_STORE_CTX_get0_cert(ctx),
	    X509_STORE_CTX_get0_untrusted(ctx), now, &k);
	if (*hit)
		return 1;
	r = X509_verify_cert(ctx);
	if (r == 1 && X509_STORE_CTX_get_error(ctx) == X509_V_OK)
		pkid_ccache_store(cc, &k, ctx, now);
	return r;
}
