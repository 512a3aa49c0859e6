/*
 * vcache.c - the verifier's bounded cache: signature results and parsed
 * certificates, each a set-associative table of fixed size (4 ways, the
 * oldest entry of a set evicted), locked by stripes so threads that touch
 * different sets do not wait on each other.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "core/limits.h"
#include "verify/internal.h"
#include "verify/vcache.h"

#define WAYS 4		/* entries per set */
#define STRIPES 16	/* locks; set i uses lock i % STRIPES */
#define DLEN 32		/* SHA-256 */

/* A signature that verified: (issuer SPKI digest, certificate digest). */
struct sig_ent {
	uint8_t key[2 * DLEN];	/* SPKI digest then certificate digest */
	uint64_t stamp;		/* last use; 0 = empty */
};

/* A parsed certificate by the digest of its DER. */
struct cert_ent {
	uint8_t key[DLEN];	/* SHA-256 of the DER */
	uint64_t stamp;		/* last use; 0 = empty */
	X509 *x;		/* owned reference */
};

struct pkid_vcache {
	pthread_mutex_t lock[STRIPES];	/* per stripe of sets */
	EVP_MD *sha256;			/* fetched once */
	size_t sig_sets;		/* sets in sig */
	size_t cert_sets;		/* sets in cert */
	struct sig_ent *sig;		/* sig_sets * WAYS */
	struct cert_ent *cert;		/* cert_sets * WAYS */
	atomic_uint_fast64_t clock;	/* stamp source */
	atomic_uint_fast64_t n[4];	/* the stats, in struct order */
};

static size_t
sets_for(size_t entries, size_t dflt)
{
	size_t n = (entries != 0 ? entries : dflt) / WAYS;

	return n > 0 ? n : 1;
}

struct pkid_vcache *
pkid_vcache_new(size_t sig_entries, size_t cert_entries, struct pkid_err *e)
{
	struct pkid_vcache *vc;
	int i;

	if ((vc = calloc(1, sizeof(*vc))) == NULL)
		goto fail;
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_init(&vc->lock[i], NULL);
	vc->sig_sets = sets_for(sig_entries, PKID_VCACHE_SIG_ENTRIES);
	vc->cert_sets = sets_for(cert_entries, PKID_VCACHE_CERT_ENTRIES);
	vc->sig = calloc(vc->sig_sets * WAYS, sizeof(*vc->sig));
	vc->cert = calloc(vc->cert_sets * WAYS, sizeof(*vc->cert));
	vc->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (vc->sig == NULL || vc->cert == NULL || vc->sha256 == NULL)
		goto fail;
	atomic_init(&vc->clock, 1);
	return vc;
fail:
	pkid_vcache_free(vc);
	PKID_ERR(e, PKID_E_NOMEM, "no memory for the verifier cache");
	return NULL;
}

void
pkid_vcache_flush(struct pkid_vcache *vc)
{
	size_t i;

	for (i = 0; i < vc->cert_sets * WAYS; i++) {
		X509_free(vc->cert[i].x);
		vc->cert[i].x = NULL;
		vc->cert[i].stamp = 0;
	}
	memset(vc->sig, 0, vc->sig_sets * WAYS * sizeof(*vc->sig));
}

void
pkid_vcache_free(struct pkid_vcache *vc)
{
	int i;

	if (vc == NULL)
		return;
	if (vc->cert != NULL && vc->sig != NULL)
		pkid_vcache_flush(vc);
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&vc->lock[i]);
	EVP_MD_free(vc->sha256);
	free(vc->sig);
	free(vc->cert);
	free(vc);
}

void
pkid_vcache_stats(struct pkid_vcache *vc, struct pkid_vcache_stats *s)
{
	s->sig_hits = atomic_load(&vc->n[0]);
	s->sig_misses = atomic_load(&vc->n[1]);
	s->cert_hits = atomic_load(&vc->n[2]);
	s->cert_misses = atomic_load(&vc->n[3]);
}

void
pkid_verify_set_cache(struct pkid_verify_ctx *c, struct pkid_vcache *vc)
{
	c->cache = vc;
}

static size_t
set_of(const uint8_t *key, size_t nsets)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)(h % nsets);
}

/* 1 when the key is present (its stamp refreshed); else remember it. */
static int
sig_lookup_or_insert(struct pkid_vcache *vc, const uint8_t *key, int insert)
{
	/* The certificate digest spreads entries: issuers repeat. */
	size_t s = set_of(key + DLEN, vc->sig_sets), i, victim = 0;
	struct sig_ent *set = &vc->sig[s * WAYS];
	pthread_mutex_t *l = &vc->lock[s % STRIPES];
	uint64_t now = atomic_fetch_add(&vc->clock, 1);
	int found = 0;

	pthread_mutex_lock(l);
	for (i = 0; i < WAYS; i++) {
		if (set[i].stamp != 0 && memcmp(set[i].key, key,
		    sizeof(set[i].key)) == 0) {
			set[i].stamp = now;
			found = 1;
			break;
		}
		if (set[i].stamp < set[victim].stamp)
			victim = i;
	}
	if (!found && insert) {
		memcpy(set[victim].key, key, sizeof(set[victim].key));
		set[victim].stamp = now;
	}
	pthread_mutex_unlock(l);
	return found;
}

int
pkid_vcache_sig_ok(struct pkid_vcache *vc, X509 *x, X509 *issuer)
{
	uint8_t key[2 * DLEN];
	unsigned int n1 = 0, n2 = 0;
	EVP_PKEY *k = X509_get0_pubkey(issuer);
	int ok, keyed;

	if (k == NULL)
		return 0;
	keyed = vc != NULL &&
	    X509_pubkey_digest(issuer, vc->sha256, key, &n1) == 1 &&
	    X509_digest(x, vc->sha256, key + DLEN, &n2) == 1 &&
	    n1 == DLEN && n2 == DLEN;
	if (keyed && sig_lookup_or_insert(vc, key, 0)) {
		atomic_fetch_add(&vc->n[0], 1);
		return 1;
	}
	ok = X509_verify(x, k) == 1;
	ERR_clear_error();
	if (vc != NULL)
		atomic_fetch_add(&vc->n[1], 1);
	if (ok && keyed)
		sig_lookup_or_insert(vc, key, 1);
	return ok;
}

static X509 *
cert_lookup(struct pkid_vcache *vc, const uint8_t *key)
{
	size_t s = set_of(key, vc->cert_sets), i;
	struct cert_ent *set = &vc->cert[s * WAYS];
	pthread_mutex_t *l = &vc->lock[s % STRIPES];
	X509 *x = NULL;

	pthread_mutex_lock(l);
	for (i = 0; i < WAYS; i++) {
		if (set[i].x != NULL && memcmp(set[i].key, key, DLEN) == 0 &&
		    X509_up_ref(set[i].x) == 1) {
			set[i].stamp = atomic_fetch_add(&vc->clock, 1);
			x = set[i].x;
			break;
		}
	}
	pthread_mutex_unlock(l);
	return x;
}

static void
cert_insert(struct pkid_vcache *vc, const uint8_t *key, X509 *x)
{
	size_t s = set_of(key, vc->cert_sets), i, victim = 0;
	struct cert_ent *set = &vc->cert[s * WAYS];
	pthread_mutex_t *l = &vc->lock[s % STRIPES];
	X509 *old;

	if (X509_up_ref(x) != 1)
		return;
	pthread_mutex_lock(l);
	for (i = 1; i < WAYS; i++)
		if (set[i].stamp < set[victim].stamp)
			victim = i;
	old = set[victim].x;
	memcpy(set[victim].key, key, DLEN);
	set[victim].x = x;
	set[victim].stamp = atomic_fetch_add(&vc->clock, 1);
	pthread_mutex_unlock(l);
	X509_free(old);
}

enum pkid_code
pkid_vcache_d2i(struct pkid_vcache *vc, const uint8_t *der, size_t len,
    X509 **out, struct pkid_err *e)
{
	uint8_t key[DLEN];
	const unsigned char *p = der;
	int cacheable;
	X509 *x;

	*out = NULL;
	if (len > PKID_MAX_CERT_SIZE)
		return PKID_ERR(e, PKID_E_TOO_LARGE, "certificate of %zu "
		    "bytes, at most %d", len, PKID_MAX_CERT_SIZE);
	cacheable = vc != NULL && len <= PKID_VCACHE_CERT_MAX_DER &&
	    EVP_Digest(der, len, key, NULL, vc->sha256, NULL) == 1;
	if (cacheable && (*out = cert_lookup(vc, key)) != NULL) {
		atomic_fetch_add(&vc->n[2], 1);
		return PKID_OK;
	}
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return PKID_ERR(e, PKID_E_CERT_MALFORMED, "DER certificate "
		    "does not decode");
	if (p != der + len) {
		X509_free(x);
		return PKID_ERR(e, PKID_E_TRAILING_DATA, "%zu bytes after the "
		    "certificate", (size_t)(der + len - p));
	}
	if (vc != NULL)
		atomic_fetch_add(&vc->n[3], 1);
	if (cacheable)
		cert_insert(vc, key, x);
	*out = x;
	return PKID_OK;
}
