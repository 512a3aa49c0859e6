/*
 * diag.c - pkid_diag_run: the walk a client makes, step by step, and the
 * recording of steps, findings and notes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "diag/diag_int.h"

const char *
pkid_diag_step_name(enum pkid_diag_step s)
{
	switch (s) {
	case PKID_DIAG_DNS:
		return "dns";
	case PKID_DIAG_TCP:
		return "tcp";
	case PKID_DIAG_TLS:
		return "tls";
	case PKID_DIAG_CHAIN:
		return "chain";
	case PKID_DIAG_SIGALGS:
		return "sigalgs";
	case PKID_DIAG_CLOCK:
		return "clock";
	default:
		return "unknown";
	}
}

const char *
pkid_diag_offer_name(enum pkid_diag_offer o)
{
	switch (o) {
	case PKID_DIAG_OFFER_ECDSA:
		return "ecdsa";
	case PKID_DIAG_OFFER_RSA:
		return "rsa";
	case PKID_DIAG_OFFER_DEFAULT:
	default:
		return "default";
	}
}

void
dstep(struct dctx *d, enum pkid_diag_step s, int ok, const char *fmt, ...)
{
	struct pkid_diag_steprec *p;
	va_list ap;

	if (d->r->nsteps >= PKID_DIAG_MAX_STEPS)
		return;
	p = &d->r->steps[d->r->nsteps++];
	p->step = s;
	p->ok = ok;
	va_start(ap, fmt);
	vsnprintf(p->text, sizeof(p->text), fmt, ap);
	va_end(ap);
}

void
dfind(struct dctx *d, enum pkid_code code, enum pkid_diag_step s, int depth,
    const char *subject, const char *remedy, const char *fmt, ...)
{
	struct pkid_diag_finding *f;
	va_list ap;

	if (d->r->nfindings >= PKID_DIAG_MAX_FINDINGS) {
		d->r->nlost++;
		return;
	}
	f = &d->r->findings[d->r->nfindings++];
	memset(f, 0, sizeof(*f));
	f->code = code;
	f->step = s;
	f->depth = depth;
	snprintf(f->subject, sizeof(f->subject), "%s",
	    subject != NULL ? subject : "");
	snprintf(f->remedy, sizeof(f->remedy), "%s",
	    remedy != NULL ? remedy : pkid_err_remedy(code));
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

void
dnote(struct dctx *d, const char *fmt, ...)
{
	va_list ap;
	char buf[240];
	size_t i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (i = 0; i < d->r->nnotes; i++)
		if (strcmp(d->r->notes[i], buf) == 0)
			return;
	if (d->r->nnotes < PKID_DIAG_MAX_NOTES)
		memcpy(d->r->notes[d->r->nnotes++], buf, sizeof(buf));
}

void
pkid_diag_result_free(struct pkid_diag_result *r)
{
	free(r);
}

/*
 * chain-differs-by-algorithm explains the chain findings that follow it,
 * so it is reported first; the rest keep the order of the walk.
 */
static void
order_findings(struct pkid_diag_result *r)
{
	struct pkid_diag_finding tmp;
	size_t i, j;

	for (i = 1; i < r->nfindings; i++) {
		if (r->findings[i].code != PKID_E_CHAIN_DIFFERS_BY_ALG)
			continue;
		tmp = r->findings[i];
		for (j = i; j > 0 && r->findings[j - 1].code !=
		    PKID_E_CHAIN_DIFFERS_BY_ALG; j--)
			r->findings[j] = r->findings[j - 1];
		r->findings[j] = tmp;
	}
}

/* Steps 1-3; returns 1 when a TLS session was made. */
static int
walk_network(struct dctx *d)
{
	if (!dnet_resolve_connect(d))
		return 0;
	return dtls_step(d);
}

static void
walk(struct dctx *d)
{
	if (!walk_network(d))
		return;
	dchain_describe(d, PKID_DIAG_OFFER_DEFAULT,
	    d->presented[PKID_DIAG_OFFER_DEFAULT]);
	dchain_validate(d, PKID_DIAG_OFFER_DEFAULT, 1);
	dchain_sigalgs(d);
	dchain_clock(d);
}

enum pkid_code
pkid_diag_run(const struct pkid_diag_opts *o, struct pkid_diag_result **out,
    struct pkid_err *e)
{
	struct pkid_diag_result *r = NULL;
	struct dctx d;
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	*out = NULL;
	memset(&d, 0, sizeof(d));
	PKID_CHECK((r = calloc(1, sizeof(*r))) != NULL, PKID_E_NOMEM,
	    "no memory for the diagnosis");
	d.o = o;
	d.r = r;
	PKID_CHECK(o->timeout_s >= 0 && o->timeout_s <=
	    PKID_DIAG_MAX_TIMEOUT_S, PKID_E_USAGE, "timeout %d s is outside "
	    "0..%d", o->timeout_s, PKID_DIAG_MAX_TIMEOUT_S);
	d.timeout_ms = 1000 * (o->timeout_s > 0 ? o->timeout_s :
	    PKID_DIAG_TIMEOUT_S);
	d.now = o->at != 0 ? o->at : pkid_now();
	PKID_TRY(dnet_parse_url(&d, e));
	walk(&d);
	order_findings(r);
	r->code = r->nfindings > 0 ? r->findings[0].code : PKID_OK;
	rc = r->code;
	*out = r;
	r = NULL;
out:
	for (i = 0; i < PKID_DIAG_NOFFERS; i++)
		sk_X509_pop_free(d.presented[i], X509_free);
	free(r);
	return rc;
}
