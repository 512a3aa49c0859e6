/*
 * build.c - path building: depth-first over issuer candidates found by
 * AKI/SKI then by name, with backtracking, loop detection, a depth limit
 * and a work budget. Every complete path (and every dead end) is checked;
 * the first path that passes every check wins, else the best failing one
 * is reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "verify/internal.h"
#include "verify/vcache.h"

/* Why a partial path stopped. */
enum dead_kind {
	DEAD_NONE,	/* not a dead end: complete path */
	DEAD_NOISSUER,	/* no certificate names the issuer */
	DEAD_BADSIG,	/* a named issuer's key does not verify it */
	DEAD_LOOP,	/* every candidate is already on the path */
	DEAD_DEPTH,	/* PKID_MAX_CHAIN_DEPTH reached */
	DEAD_BUDGET,	/* signature budget spent */
};

/*
 * Signature check with a per-run memo keyed by (child, parent), backed by
 * the context's shared cache keyed by (issuer key digest, certificate
 * digest) when one is set (vcache.c).
 */
int
vsig_ok(struct vrun *r, size_t child, size_t parent)
{
	unsigned char *m = &r->memo[child * r->npool + parent];

	if (*m != 0)
		return *m == 1;
	if (r->sig_checks >= PKID_VERIFY_MAX_SIG_CHECKS) {
		r->budget_hit = 1;
		return 0;
	}
	r->sig_checks++;
	*m = pkid_vcache_sig_ok(r->c->cache, r->pool[child].x,
	    r->pool[parent].x) ? 1 : 2;
	return *m == 1;
}

int
vself_signed(struct vrun *r, size_t i)
{
	struct vcert *v = &r->pool[i];

	if (v->self_signed < 0)
		v->self_signed = v->self_issued && vsig_ok(r, i, i);
	return v->self_signed;
}

/*
 * A trust anchor that no other CA issued: self-issued, or its AKI names
 * its own key, or (no AKI to tell) its signature verifies with its own
 * key. Names and key identifiers answer the common case without a
 * signature check.
 */
int
vanchor_is_root(struct vrun *r, size_t i)
{
	X509 *x = r->pool[i].x;
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);

	if (r->pool[i].self_issued)
		return 1;
	if (aki != NULL)
		return ski != NULL && ASN1_OCTET_STRING_cmp(aki, ski) == 0;
	return vsig_ok(r, i, i);
}

static int
on_path(struct vrun *r, size_t n, size_t cand)
{
	X509 *x = r->pool[cand].x;
	EVP_PKEY *k = X509_get0_pubkey(x);
	size_t i;

	for (i = 0; i < n; i++) {
		X509 *y = r->pool[r->path[i]].x;

		if (r->path[i] == cand)
			return 1;
		/* Same subject and key: the same CA again (a loop). */
		if (X509_NAME_cmp(X509_get_subject_name(x),
		    X509_get_subject_name(y)) == 0 && k != NULL &&
		    EVP_PKEY_eq(k, X509_get0_pubkey(y)) == 1)
			return 1;
	}
	return 0;
}

/* Lower is tried first: AKI=SKI match, anchor, valid now, pool order. */
static int
cand_score(struct vrun *r, const AUTHORITY_KEYID *akid, size_t j)
{
	X509 *x = r->pool[j].x;
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
	int s = 0;

	if (akid == NULL || akid->keyid == NULL || ski == NULL ||
	    ASN1_OCTET_STRING_cmp(akid->keyid, ski) != 0)
		s += 4;
	if (!r->pool[j].trusted)
		s += 2;
	if (ASN1_TIME_cmp_time_t(X509_get0_notAfter(x), r->at) < 0 ||
	    ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), r->at) > 0)
		s += 1;
	return s;
}

/* Issuer candidates of path[n-1], best first; returns how many. */
static size_t
candidates(struct vrun *r, size_t n, size_t *out, int *score)
{
	X509 *cur = r->pool[r->path[n - 1]].x;
	AUTHORITY_KEYID *akid;
	size_t j, k, m = 0;
	int s;

	akid = X509_get_ext_d2i(cur, NID_authority_key_identifier, NULL,
	    NULL);
	for (j = 0; j < r->npool; j++) {
		X509 *x = r->pool[j].x;

		if (X509_NAME_cmp(X509_get_subject_name(x),
		    X509_get_issuer_name(cur)) != 0)
			continue;
		s = cand_score(r, akid, j);
		/* AKI is a hint (RFC 5280 4.2.1.1): a mismatch goes last. */
		if (akid != NULL && X509_check_akid(x, akid) != X509_V_OK)
			s += 8;
		for (k = m; k > 0 && score[k - 1] > s; k--) {
			out[k] = out[k - 1];
			score[k] = score[k - 1];
		}
		out[k] = j;
		score[k] = s;
		m++;
	}
	AUTHORITY_KEYID_free(akid);
	ERR_clear_error();
	return m;
}

static int
better(struct vrun *r, const struct vfind_set *s, size_t n, int complete)
{
	size_t cnt = s->n + s->lost, bcnt = r->best.n + r->best.lost;

	if (!r->have_best)
		return 1;
	if (complete != r->best_complete)
		return complete;
	if (!complete && n != r->best_len)
		return n > r->best_len;
	return cnt < bcnt;
}

static void
dead_end(struct vrun *r, size_t n, enum dead_kind why, size_t other,
    struct vfind_set *s)
{
	size_t top = r->path[n - 1];
	X509 *x = r->pool[top].x, *o = r->pool[other].x;
	char iss[256], rem[640], osub[256];
	int d = (int)n - 1;

	vname(o, osub, sizeof(osub));
	iss[0] = '\0';
	X509_NAME_oneline(X509_get_issuer_name(x), iss, sizeof(iss));
	if (why != DEAD_DEPTH && why != DEAD_BUDGET && vself_signed(r, top))
		why = DEAD_NOISSUER;
	switch (why) {
	case DEAD_BADSIG:
		snprintf(rem, sizeof(rem), "the certificate named '%s' has a "
		    "different key than the one that signed cert[%d]; find "
		    "the right issuer certificate", osub, d);
		vfind(s, PKID_E_BAD_SIGNATURE, d, x, rem, "RFC 5280 6.1.3 "
		    "(a)(1): signature does not verify with the key of '%s'",
		    osub);
		break;
	case DEAD_LOOP:
		vfind(s, PKID_E_CHAIN_TOO_LONG, d, x, NULL, "every issuer "
		    "candidate named %s is already on the path (a "
		    "cross-signing loop) and none is trusted", iss);
		break;
	case DEAD_DEPTH:
		vfind(s, PKID_E_CHAIN_TOO_LONG, d, x, NULL, "no trust anchor "
		    "within %d certificates", PKID_MAX_CHAIN_DEPTH);
		break;
	case DEAD_BUDGET:
		vfind(s, PKID_E_CHAIN_TOO_LONG, d, x, NULL, "path search "
		    "stopped after %u signature checks without reaching a "
		    "trust anchor", r->sig_checks);
		break;
	case DEAD_NOISSUER:
	default:
		if (vself_signed(r, top)) {
			snprintf(rem, sizeof(rem), "replace it with a "
			    "CA-issued certificate, or trust this exact "
			    "certificate (--trust) if it is meant to be "
			    "pinned");
			vfind(s, PKID_E_SELF_SIGNED_UNTRUSTED, d, x, rem,
			    "self-signed and not in the trust store");
			break;
		}
		snprintf(rem, sizeof(rem), d == 0 ?
		    "have the peer send the intermediate '%s' with its "
		    "certificate (or pass it with --untrusted), or trust "
		    "that CA" : "add the CA '%s' to the trust store "
		    "(--trust), or use a chain that ends at a trusted root",
		    iss);
		vfind(s, d == 0 ? PKID_E_MISSING_INTERMEDIATE :
		    PKID_E_UNKNOWN_ISSUER, d, x, rem, "RFC 5280 6.1: no "
		    "certificate given or trusted is its issuer %s", iss);
		break;
	}
}

/* Check path[0..n-1]; returns 1 when it is valid (the search stops). */
static int
eval_path(struct vrun *r, size_t n, enum dead_kind why, size_t other)
{
	static const struct vfind_set zero;
	struct vfind_set *s = &r->best;
	struct vfind_set cur = zero;
	int complete = why == DEAD_NONE;

	r->paths++;
	vcheck_path(r, r->path, n, complete, &cur);
	if (!complete)
		dead_end(r, n, why, other, &cur);
	if (complete && cur.n == 0)
		r->found = 1;
	if (!r->found && !better(r, &cur, n, complete))
		return 0;
	*s = cur;
	memcpy(r->best_path, r->path, n * sizeof(r->path[0]));
	r->best_len = n;
	r->best_complete = complete;
	r->have_best = 1;
	return r->found;
}

static int
search(struct vrun *r, size_t n)
{
	size_t *cand = NULL;
	int *score = NULL;
	size_t m, i, cur = r->path[n - 1], badsig = 0;
	int extended = 0, looped = 0, have_badsig = 0, rv = 0;

	if (r->pool[cur].trusted)
		return eval_path(r, n, DEAD_NONE, 0);
	if (r->paths >= PKID_VERIFY_MAX_PATHS) {
		r->paths_hit = 1;
		return 0;
	}
	if (n >= PKID_MAX_CHAIN_DEPTH) {
		r->depth_hit = 1;
		return eval_path(r, n, DEAD_DEPTH, cur);
	}
	cand = calloc(r->npool, sizeof(*cand));
	score = calloc(r->npool, sizeof(*score));
	if (cand == NULL || score == NULL) {
		r->budget_hit = 1;
		goto out;
	}
	m = candidates(r, n, cand, score);
	for (i = 0; i < m && !r->found; i++) {
		if (on_path(r, n, cand[i])) {
			looped = 1;
			continue;
		}
		if (!vsig_ok(r, cur, cand[i])) {
			if (!have_badsig)
				badsig = cand[i];
			have_badsig = 1;
			continue;
		}
		extended = 1;
		r->path[n] = cand[i];
		if (search(r, n + 1))
			break;
	}
out:
	free(cand);
	free(score);
	if (extended || r->found)
		rv = r->found;
	else if (r->budget_hit)
		rv = eval_path(r, n, DEAD_BUDGET, cur);
	else if (have_badsig)
		rv = eval_path(r, n, DEAD_BADSIG, badsig);
	else
		rv = eval_path(r, n, looped ? DEAD_LOOP : DEAD_NOISSUER, cur);
	return rv;
}

static int
has_code(const struct vfind_set *s, enum pkid_code code)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->f[i].code == code)
			return 1;
	return 0;
}

void
vbuild_search(struct vrun *r)
{
	r->path[0] = 0;
	search(r, 1);
	if (r->budget_hit)
		vnote(r, "path search stopped after %u signature checks",
		    r->sig_checks);
	/*
	 * The paths not tried may hold a valid one: say so, first, also
	 * when the best path reported is a complete one tried earlier.
	 */
	if (r->found || !r->have_best || has_code(&r->best,
	    PKID_E_CHAIN_TOO_LONG))
		return;
	if (r->paths_hit)
		vfind(&r->best, PKID_E_CHAIN_TOO_LONG, 0, r->pool[0].x, NULL,
		    "path search stopped after %u paths without a valid one "
		    "(at most %d are tried); the best path tried is shown",
		    r->paths, PKID_VERIFY_MAX_PATHS);
	else if (r->budget_hit)
		vfind(&r->best, PKID_E_CHAIN_TOO_LONG, 0, r->pool[0].x, NULL,
		    "path search stopped after %u signature checks without "
		    "a valid path; the best path tried is shown",
		    r->sig_checks);
}
