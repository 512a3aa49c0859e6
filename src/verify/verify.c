/*
 * verify.c - the verifier's context, its entry point and the findings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "x509/load.h"
#include "verify/internal.h"

void
pkid_verify_opts_init(struct pkid_verify_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->profile = PKID_PROFILE_RFC5280;
	o->purpose = PKID_PURPOSE_SERVER;
	o->max_intermediates = -1;
	o->min_rsa_bits = 2048;
}

void
pkid_verify_result_clear(struct pkid_verify_result *r)
{
	if (r == NULL)
		return;
	sk_X509_pop_free(r->path, X509_free);
	memset(r, 0, sizeof(*r));
}

struct pkid_verify_ctx *
pkid_verify_ctx_new(struct pkid_err *e)
{
	struct pkid_verify_ctx *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->trusted = sk_X509_new_null();
	c->untrusted = sk_X509_new_null();
	c->crls = sk_X509_CRL_new_null();
	if (c->trusted == NULL || c->untrusted == NULL || c->crls == NULL)
		goto fail;
	return c;
fail:
	pkid_verify_ctx_free(c);
	PKID_ERR(e, PKID_E_NOMEM, "no memory for the verifier context");
	return NULL;
}

void
pkid_verify_ctx_free(struct pkid_verify_ctx *c)
{
	if (c == NULL)
		return;
	sk_X509_pop_free(c->trusted, X509_free);
	sk_X509_pop_free(c->untrusted, X509_free);
	sk_X509_CRL_pop_free(c->crls, X509_CRL_free);
	pkid_psl_free(c->own_psl);
	free(c);
}

static enum pkid_code
add_cert(STACK_OF(X509) *sk, X509 *x, struct pkid_err *e)
{
	if (sk_X509_num(sk) >= PKID_MAX_BUNDLE_CERTS)
		return PKID_ERR(e, PKID_E_TOO_LARGE,
		    "more than %d certificates given to the verifier",
		    PKID_MAX_BUNDLE_CERTS);
	if (!X509_up_ref(x))
		return PKID_ERR(e, PKID_E_INTERNAL, "X509_up_ref failed");
	if (!sk_X509_push(sk, x)) {
		X509_free(x);
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	return PKID_OK;
}

enum pkid_code
pkid_verify_add_trusted(struct pkid_verify_ctx *c, X509 *x,
    struct pkid_err *e)
{
	return add_cert(c->trusted, x, e);
}

enum pkid_code
pkid_verify_add_untrusted(struct pkid_verify_ctx *c, X509 *x,
    struct pkid_err *e)
{
	return add_cert(c->untrusted, x, e);
}

enum pkid_code
pkid_verify_add_crl(struct pkid_verify_ctx *c, X509_CRL *crl,
    struct pkid_err *e)
{
	if (sk_X509_CRL_num(c->crls) >= PKID_MAX_BUNDLE_CERTS)
		return PKID_ERR(e, PKID_E_TOO_LARGE, "too many CRLs");
	if (!X509_CRL_up_ref(crl))
		return PKID_ERR(e, PKID_E_INTERNAL, "X509_CRL_up_ref failed");
	if (!sk_X509_CRL_push(c->crls, crl)) {
		X509_CRL_free(crl);
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	return PKID_OK;
}

void
pkid_verify_set_psl(struct pkid_verify_ctx *c, const struct pkid_psl *p)
{
	c->psl = p;
}

const struct pkid_psl *
vpsl(struct vrun *r)
{
	struct pkid_verify_ctx *c = r->c;
	struct pkid_err e;

	if (c->psl != NULL)
		return c->psl;
	if (!c->psl_tried) {
		c->psl_tried = 1;
		pkid_err_clear(&e);
		if (pkid_psl_load(PKID_VERIFY_PSL_PATH, &c->own_psl, &e) ==
		    PKID_OK)
			c->psl = c->own_psl;
	}
	if (c->psl == NULL)
		vnote(r, "public suffix list %s not available: wildcards "
		    "checked only for two labels after '*'",
		    PKID_VERIFY_PSL_PATH);
	return c->psl;
}

const char *
vname(X509 *x, char *out, size_t len)
{
	if (x == NULL) {
		snprintf(out, len, "(none)");
		return out;
	}
	pkid_x509_name_text(X509_get_subject_name(x), out, len);
	if (out[0] == '\0')
		snprintf(out, len, "(empty subject)");
	return out;
}

void
vnote(struct vrun *r, const char *fmt, ...)
{
	va_list ap;
	char buf[200];
	size_t i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (i = 0; i < r->nnotes; i++)
		if (strcmp(r->notes[i], buf) == 0)
			return;
	if (r->nnotes < PKID_VERIFY_MAX_NOTES)
		memcpy(r->notes[r->nnotes++], buf, sizeof(buf));
}

void
vfind(struct vfind_set *s, enum pkid_code code, int depth, X509 *x,
    const char *remedy, const char *fmt, ...)
{
	struct pkid_verify_finding *f;
	va_list ap;
	char name[256];
	size_t used = 0, i;

	if (s->n >= PKID_VERIFY_MAX_FINDINGS) {
		s->lost++;
		return;
	}
	f = &s->f[s->n++];
	memset(f, 0, sizeof(*f));
	f->code = code;
	f->depth = x != NULL ? depth : -1;
	if (x != NULL) {
		vname(x, name, sizeof(name));
		snprintf(f->subject, sizeof(f->subject), "%s", name);
		snprintf(f->message, sizeof(f->message), "cert[%d] %s: ",
		    depth, name);
		used = strlen(f->message);
	}
	va_start(ap, fmt);
	vsnprintf(f->message + used, sizeof(f->message) - used, fmt, ap);
	va_end(ap);
	snprintf(f->remedy, sizeof(f->remedy), "%s",
	    remedy != NULL ? remedy : pkid_err_remedy(code));
	/* The same fact reached twice (a name in subject and SAN). */
	for (i = 0; i + 1 < s->n; i++) {
		if (s->f[i].code == code &&
		    strcmp(s->f[i].message, f->message) == 0) {
			s->n--;
			return;
		}
	}
}

/* Lower ranks are reported first: what blocks trust, then the rest. */
static int
rank(enum pkid_code c)
{
	switch (c) {
	case PKID_E_UNKNOWN_ISSUER:
	case PKID_E_SELF_SIGNED_UNTRUSTED:
	case PKID_E_MISSING_INTERMEDIATE:
	case PKID_E_CHAIN_TOO_LONG:
		return 0;
	case PKID_E_BAD_SIGNATURE:
		return 1;
	case PKID_E_REVOKED:
		return 2;
	case PKID_E_EXPIRED:
	case PKID_E_NOT_YET_VALID:
		return 3;
	case PKID_E_NAME_MISMATCH:
	case PKID_E_IP_NOT_IN_SAN:
		return 4;
	case PKID_E_NOT_A_CA:
	case PKID_E_PATH_LENGTH_EXCEEDED:
	case PKID_E_NAME_CONSTRAINTS:
		return 5;
	case PKID_E_EKU_MISMATCH:
	case PKID_E_KEY_USAGE:
		return 6;
	case PKID_E_UNHANDLED_CRITICAL:
	case PKID_E_WEAK_ALGORITHM:
	case PKID_E_CERT_INVALID:
	case PKID_E_POLICY_FAILED:
		return 7;
	case PKID_E_CRL_PROBLEM:
		return 8;
	default:
		return 9;
	}
}

static int
find_cmp(const void *a, const void *b)
{
	const struct pkid_verify_finding *x = a, *y = b;
	int d = rank(x->code) - rank(y->code);

	if (d != 0)
		return d;
	return x->depth - y->depth;
}

/* Stable sort (insertion; at most PKID_VERIFY_MAX_FINDINGS items). */
static void
sort_findings(struct vfind_set *s)
{
	struct pkid_verify_finding tmp;
	size_t i, j;

	for (i = 1; i < s->n; i++) {
		tmp = s->f[i];
		for (j = i; j > 0 && find_cmp(&s->f[j - 1], &tmp) > 0; j--)
			s->f[j] = s->f[j - 1];
		s->f[j] = tmp;
	}
}

/* Leaf first, then anchors, then the untrusted pool, without duplicates. */
static enum pkid_code
pool_add(struct vrun *r, X509 *x, int trusted)
{
	size_t i;

	for (i = 0; i < r->npool; i++) {
		if (X509_cmp(r->pool[i].x, x) == 0) {
			r->pool[i].trusted |= trusted;
			return PKID_OK;
		}
	}
	r->pool[r->npool].x = x;
	r->pool[r->npool].trusted = trusted;
	r->pool[r->npool].self_issued = X509_NAME_cmp(
	    X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
	r->pool[r->npool].self_signed = -1;
	r->npool++;
	return PKID_OK;
}

static enum pkid_code
pool_build(struct vrun *r, X509 *leaf, struct pkid_err *e)
{
	struct pkid_verify_ctx *c = r->c;
	size_t max;
	int i;

	max = 1 + (size_t)sk_X509_num(c->trusted) +
	    (size_t)sk_X509_num(c->untrusted);
	r->pool = calloc(max, sizeof(*r->pool));
	r->memo = calloc(max * max, 1);
	if (r->pool == NULL || r->memo == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for %zu certs",
		    max);
	pool_add(r, leaf, 0);
	for (i = 0; i < sk_X509_num(c->trusted); i++)
		pool_add(r, sk_X509_value(c->trusted, i), 1);
	for (i = 0; i < sk_X509_num(c->untrusted); i++)
		pool_add(r, sk_X509_value(c->untrusted, i), 0);
	return PKID_OK;
}

static enum pkid_code
fill_result(struct vrun *r, struct pkid_verify_result *res,
    struct pkid_err *e)
{
	size_t i;

	res->valid = r->found;
	res->sig_checks = r->sig_checks;
	res->paths_tried = r->paths;
	res->cn_fallback_used = r->cn_fallback_used;
	res->path_complete = r->best_complete;
	sort_findings(&r->best);
	res->nfindings = r->best.n;
	res->nlost = r->best.lost;
	memcpy(res->findings, r->best.f, sizeof(res->findings));
	res->nnotes = r->nnotes;
	memcpy(res->notes, r->notes, sizeof(res->notes));
	if ((res->path = sk_X509_new_null()) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	for (i = 0; i < r->best_len; i++) {
		X509 *x = r->pool[r->best_path[i]].x;

		if (!X509_up_ref(x))
			return PKID_ERR(e, PKID_E_INTERNAL, "X509_up_ref");
		if (!sk_X509_push(res->path, x)) {
			X509_free(x);
			return PKID_ERR(e, PKID_E_NOMEM, "no memory");
		}
	}
	return PKID_OK;
}

enum pkid_code
pkid_verify_run(struct pkid_verify_ctx *c, const struct pkid_verify_opts *o,
    X509 *leaf, struct pkid_verify_result *res, struct pkid_err *e)
{
	struct vrun *r = NULL;
	struct pkid_verify_finding *f;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(res, 0, sizeof(*res));
	PKID_CHECK((r = calloc(1, sizeof(*r))) != NULL, PKID_E_NOMEM,
	    "no memory for the verifier run");
	r->c = c;
	r->o = o;
	r->at = o->at != 0 ? o->at : pkid_now();
	PKID_TRY(pool_build(r, leaf, e));
	vbuild_search(r);
	if (sk_X509_CRL_num(c->crls) == 0)
		vnote(r, "revocation not checked: no CRL given");
	PKID_TRY(fill_result(r, res, e));
	if (res->valid) {
		res->code = PKID_OK;
		rc = PKID_OK;
		goto out;
	}
	if (res->nfindings == 0) {
		/* Never a silent generic failure (STYLE.md 2). */
		vfind(&r->best, PKID_E_VERIFY_UNMAPPED, 0, leaf, NULL,
		    "no valid path and no specific reason recorded");
		res->findings[0] = r->best.f[r->best.n - 1];
		res->nfindings = 1;
	}
	f = &res->findings[0];
	res->code = f->code;
	rc = PKID_ERR(e, f->code, "%s", f->message);
	if (e != NULL && e->code == f->code) {
		e->depth = f->depth;
		snprintf(e->subject, sizeof(e->subject), "%s", f->subject);
	}
out:
	if (r != NULL) {
		free(r->pool);
		free(r->memo);
		free(r);
	}
	return rc;
}
