/*
 * ccache.h - a bounded, thread-safe cache of client certificate chains
 * that verified, so a server that sees the same device certificate on
 * every connection builds and checks its chain once, not per handshake.
 *
 * A key is SHA-256 over a caller-chosen domain (which trust store and
 * purpose the result is for), the leaf's DER and every untrusted
 * certificate the client presented, in order. Only successes are kept.
 * An entry never outlives the verified chain (the earliest notAfter in
 * it), nor PKID_CCACHE_TTL_S, nor a generation: pkid_ccache_invalidate
 * (the trust store or a CRL changed) bumps the generation and every older
 * entry is dead at once, including results of checks still in flight.
 *
 * What is not cached: the TLS handshake still checks the client's
 * signature (CertificateVerify) every time, and callers check revocation
 * in their own store each time (est/auth.c).
 */
#ifndef PKID_VERIFY_CCACHE_H
#define PKID_VERIFY_CCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509_vfy.h>

#include "core/err.h"

struct pkid_ccache;

/* A lookup key with the generation seen when it was computed. */
struct pkid_ccache_key {
	uint8_t d[32];		/* SHA-256 of domain, leaf, chain */
	uint64_t gen;		/* cache generation at lookup */
	int ok;			/* 1 when d is set (digest worked) */
};

/* Counters, for benchmarks and tests. */
struct pkid_ccache_stats {
	uint64_t hits;		/* chains answered by the cache */
	uint64_t misses;	/* chains verified */
	uint64_t stored;	/* results stored */
	uint64_t invalidations;	/* generation bumps */
};

/*
 * New cache with room for entries results (0: PKID_CCACHE_ENTRIES); the
 * caller frees it with pkid_ccache_free. NULL with e set on nomem.
 */
struct pkid_ccache *pkid_ccache_new(size_t entries, struct pkid_err *e);
void pkid_ccache_free(struct pkid_ccache *cc);
/* Forget every result: trust anchors or revocation data changed. */
void pkid_ccache_invalidate(struct pkid_ccache *cc);
void pkid_ccache_stats(struct pkid_ccache *cc, struct pkid_ccache_stats *s);

/*
 * Fill k for (domain, leaf, chain); chain is what the peer sent besides
 * the leaf (may be NULL; a copy of the leaf in it is skipped). Returns
 * 1 when a live entry says this chain verified at now, else 0.
 */
int pkid_ccache_lookup(struct pkid_ccache *cc, unsigned domain, X509 *leaf,
    STACK_OF(X509) *chain, time_t now, struct pkid_ccache_key *k);

/*
 * Remember that the chain of a successful X509_verify_cert in ctx (the
 * caller has checked there was no error) verified, under k from the
 * lookup before it. Kept until the earliest notAfter of the verified
 * chain or now + PKID_CCACHE_TTL_S, whichever is first; dropped if the
 * generation moved since the lookup.
 */
void pkid_ccache_store(struct pkid_ccache *cc,
    const struct pkid_ccache_key *k, X509_STORE_CTX *ctx, time_t now);

/*
 * X509_verify_cert(ctx) through the cache: 1 on a hit or a clean
 * verification (stored), else X509_verify_cert's answer. ctx must be
 * initialised (cert, untrusted, time); cc may be NULL. *hit says which.
 */
int pkid_ccache_verify(struct pkid_ccache *cc, unsigned domain,
    X509_STORE_CTX *ctx, time_t now, int *hit);

#endif
