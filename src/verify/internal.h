/*
 * internal.h - state shared by the files of src/verify/ (never installed).
 */
#ifndef PKID_VERIFY_INTERNAL_H
#define PKID_VERIFY_INTERNAL_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/limits.h"
#include "verify/verify.h"

/* A certificate's role on the path being checked (bits). */
#define VROLE_LEAF	1	/* depth 0 */
#define VROLE_ISSUER	2	/* signs the certificate below it */
#define VROLE_ANCHOR	4	/* the trust anchor ending the path */
/*
 * A trust anchor whose signature verifies with its own key (a root, named
 * by itself or not): RFC 5280 6.1.1 (d) takes it as name + key, so only
 * what it states (constraints) and what pkid uses (key, validity) are
 * checked, never how it was encoded (docs/verify-rules.md, "anchors").
 */
#define VROLE_ROOT	8

/* Context: what the caller gave. */
struct pkid_verify_ctx {
	STACK_OF(X509) *trusted;	/* owned references */
	STACK_OF(X509) *untrusted;	/* owned references */
	STACK_OF(X509_CRL) *crls;	/* owned references */
	const struct pkid_psl *psl;	/* borrowed or own_psl */
	struct pkid_psl *own_psl;	/* loaded on first need */
	int psl_tried;			/* own_psl load attempted */
	struct pkid_vcache *cache;	/* borrowed shared cache, or NULL */
};

/* One certificate of the search pool. */
struct vcert {
	X509 *x;		/* borrowed from the context or the caller */
	int trusted;		/* a trust anchor */
	int self_issued;	/* subject == issuer (RFC 5280 6.1) */
	int self_signed;	/* -1 not computed, else 0 / 1 */
};

/* Findings of one candidate path. */
struct vfind_set {
	size_t n;	/* stored */
	size_t lost;	/* dropped past the maximum */
	struct pkid_verify_finding f[PKID_VERIFY_MAX_FINDINGS];
};

/* One run of the verifier. */
struct vrun {
	struct pkid_verify_ctx *c;	/* inputs */
	const struct pkid_verify_opts *o; /* options */
	time_t at;			/* validation time */
	struct vcert *pool;		/* leaf first, then anchors, pool */
	size_t npool;			/* entries in pool */
	unsigned char *memo;		/* npool*npool signature results */
	size_t path[PKID_MAX_CHAIN_DEPTH]; /* pool indexes, leaf first */
	unsigned sig_checks;		/* signatures verified */
	unsigned paths;			/* paths evaluated */
	int budget_hit;			/* the search stopped early */
	int paths_hit;			/* ... at PKID_VERIFY_MAX_PATHS */
	int depth_hit;			/* a path hit the depth limit */
	int found;			/* a valid path was found */
	int cn_fallback_used;		/* set by the name check */
	struct vfind_set best;		/* findings of the path reported */
	size_t best_path[PKID_MAX_CHAIN_DEPTH]; /* that path */
	size_t best_len;		/* its length */
	int best_complete;		/* it ends at an anchor */
	int have_best;			/* best is set */
	size_t nnotes;			/* notes stored */
	char notes[PKID_VERIFY_MAX_NOTES][200]; /* what was not checked */
};

/* verify.c */
void vfind(struct vfind_set *s, enum pkid_code code, int depth, X509 *x,
    const char *remedy, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void vnote(struct vrun *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *vname(X509 *x, char *out, size_t len);
const struct pkid_psl *vpsl(struct vrun *r);

/* build.c */
void vbuild_search(struct vrun *r);
int vsig_ok(struct vrun *r, size_t child, size_t parent);
int vself_signed(struct vrun *r, size_t i);
int vanchor_is_root(struct vrun *r, size_t i);

/* certchk.c: checks of one certificate in a role */
void vcheck_cert(struct vrun *r, size_t idx, int depth, int role,
    struct vfind_set *s);

/* pathchk.c: checks that need the whole path */
void vcheck_path(struct vrun *r, const size_t *p, size_t n, int complete,
    struct vfind_set *s);

/* nc.c */
int vnc_syntax_ok(NAME_CONSTRAINTS *nc, char *why, size_t len);
void vcheck_nc(struct vrun *r, const size_t *p, size_t n,
    struct vfind_set *s);

/* name.c */
int vdns_syntax_ok(const char *s, size_t len, int allow_wild);
int vemail_syntax_ok(const char *s, size_t len);
void vcheck_name(struct vrun *r, X509 *leaf, struct vfind_set *s);
void vcheck_cn_copy(struct vrun *r, X509 *leaf, struct vfind_set *s);

/* crl.c */
void vcheck_crl(struct vrun *r, const size_t *p, size_t n,
    struct vfind_set *s);

#endif
