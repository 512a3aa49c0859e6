/*
 * vcache.h - a bounded, thread-safe cache shared by verifier contexts:
 * signature results keyed by (issuer key, certificate digest) and parsed
 * certificates keyed by the digest of their DER. A server that sees the
 * same intermediates on every handshake verifies each signature and
 * parses each certificate once instead of once per connection.
 *
 * Only successful signature checks are kept: a key is SHA-256 over the
 * issuer's SubjectPublicKeyInfo and the whole certificate (TBS, algorithm
 * and signature), so a hit means "this exact certificate verified with
 * this exact key". Memory is fixed at creation (PKID_VCACHE_* in
 * core/limits.h); old entries are evicted, never grown past.
 */
#ifndef PKID_VERIFY_VCACHE_H
#define PKID_VERIFY_VCACHE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "core/err.h"
#include "verify/verify.h"

struct pkid_vcache;

/* Counters, for benchmarks and metrics. */
struct pkid_vcache_stats {
	uint64_t sig_hits;	/* signature checks answered by the cache */
	uint64_t sig_misses;	/* signature checks done */
	uint64_t cert_hits;	/* DER parses answered by the cache */
	uint64_t cert_misses;	/* DER parses done */
};

/*
 * New cache with room for sig_entries signature results and cert_entries
 * parsed certificates (0: the PKID_VCACHE_* defaults). The caller's; free
 * with pkid_vcache_free once no context uses it. NULL with e on nomem.
 */
struct pkid_vcache *pkid_vcache_new(size_t sig_entries, size_t cert_entries,
    struct pkid_err *e);
void pkid_vcache_free(struct pkid_vcache *vc);
/* Drop every entry (keeps the memory). */
void pkid_vcache_flush(struct pkid_vcache *vc);
void pkid_vcache_stats(struct pkid_vcache *vc, struct pkid_vcache_stats *s);

/*
 * Let a verifier context use vc (borrowed: it must outlive the context;
 * NULL detaches). Any number of contexts, in any threads, may share one.
 */
void pkid_verify_set_cache(struct pkid_verify_ctx *c, struct pkid_vcache *vc);

/*
 * One DER certificate, parsed or taken from the cache; *out is a new
 * reference the caller frees. The whole input must be one certificate.
 * Errors: cert-malformed, trailing-data, too-large.
 */
enum pkid_code pkid_vcache_d2i(struct pkid_vcache *vc, const uint8_t *der,
    size_t len, X509 **out, struct pkid_err *e);

/*
 * 1 when x verifies with issuer's key (cached or checked now), else 0.
 * vc may be NULL (no caching).
 */
int pkid_vcache_sig_ok(struct pkid_vcache *vc, X509 *x, X509 *issuer);

#endif
