/*
 * sigalgs.c - steps 5 and 6 of the walk: handshakes restricted to ECDSA
 * and to RSA signature algorithms, to catch a server that presents a
 * different certificate per algorithm (RFC 8446 4.4.2.2: the server picks
 * its certificate by the client's signature_algorithms); and the clock.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "core/clock.h"
#include "diag/diag_int.h"

static void
probe(struct dctx *d, enum pkid_diag_offer offer)
{
	struct pkid_diag_chain *c = &d->r->chains[offer];
	struct hs_out h;

	dtls_handshake(d, offer, 0, &h);
	c->tried = 1;
	if (!h.ok || h.chain == NULL) {
		snprintf(h.sys, sizeof(h.sys), "%s", h.alert_in >= 0 ?
		    SSL_alert_desc_string_long(h.alert_in) : h.sys[0] ?
		    h.sys : "handshake failed");
		snprintf(c->failure, sizeof(c->failure), "%s", h.sys);
		dtls_hs_clear(&h);
		return;
	}
	c->present = 1;
	snprintf(c->version, sizeof(c->version), "%s", h.version_text);
	snprintf(c->cipher, sizeof(c->cipher), "%s", h.cipher);
	d->presented[offer] = h.chain;
	h.chain = NULL;
	dtls_hs_clear(&h);
	dchain_describe(d, offer, d->presented[offer]);
	dchain_validate(d, offer, 0);
}

static const char *
leaf_fp(struct dctx *d, enum pkid_diag_offer o)
{
	const struct pkid_diag_chain *c = &d->r->chains[o];

	return c->present && c->n > 0 ? c->certs[0].sha256 : NULL;
}

/* "'CN=x' (EC P-256), which validates" or "... which fails: code". */
static void
verdict(struct dctx *d, enum pkid_diag_offer o, char *out, size_t n)
{
	const struct pkid_diag_chain *c = &d->r->chains[o];

	if (c->valid)
		snprintf(out, n, "'%s' (%s), which validates",
		    c->certs[0].subject, c->certs[0].key);
	else
		snprintf(out, n, "'%s' (%s), which fails with %s",
		    c->certs[0].subject, c->certs[0].key,
		    pkid_err_id(c->code));
}

static void
report_differs(struct dctx *d)
{
	const struct pkid_diag_chain *ec, *rsa;
	char ve[400], vr[400], rem[1024];

	ec = &d->r->chains[PKID_DIAG_OFFER_ECDSA];
	rsa = &d->r->chains[PKID_DIAG_OFFER_RSA];
	verdict(d, PKID_DIAG_OFFER_ECDSA, ve, sizeof(ve));
	verdict(d, PKID_DIAG_OFFER_RSA, vr, sizeof(vr));
	dstep(d, PKID_DIAG_SIGALGS, ec->valid && rsa->valid, "ECDSA offer "
	    "gets %s; RSA offer gets %s", ve, vr);
	if (ec->valid && rsa->valid)
		return;
	snprintf(rem, sizeof(rem), "fix or remove the %s certificate '%s' "
	    "on the server (%s), so that every client gets a chain that "
	    "validates", !ec->valid ? "ECDSA" : "RSA", !ec->valid ?
	    ec->certs[0].subject : rsa->certs[0].subject, !ec->valid ?
	    ec->why : rsa->why);
	dfind(d, PKID_E_CHAIN_DIFFERS_BY_ALG, PKID_DIAG_SIGALGS, 0,
	    !ec->valid ? ec->certs[0].subject : rsa->certs[0].subject, rem,
	    "%s presents different certificates per signature algorithm: "
	    "clients offering ECDSA get %s; clients offering RSA get %s",
	    d->r->addr, ve, vr);
}

void
dchain_sigalgs(struct dctx *d)
{
	const struct pkid_diag_chain *ec, *rsa;
	const char *fd, *fe, *fr;

	probe(d, PKID_DIAG_OFFER_ECDSA);
	probe(d, PKID_DIAG_OFFER_RSA);
	ec = &d->r->chains[PKID_DIAG_OFFER_ECDSA];
	rsa = &d->r->chains[PKID_DIAG_OFFER_RSA];
	fd = leaf_fp(d, PKID_DIAG_OFFER_DEFAULT);
	fe = leaf_fp(d, PKID_DIAG_OFFER_ECDSA);
	fr = leaf_fp(d, PKID_DIAG_OFFER_RSA);
	if (fe != NULL && fr != NULL && strcmp(fe, fr) != 0) {
		report_differs(d);
		return;
	}
	if (fe != NULL && fr != NULL) {
		dstep(d, PKID_DIAG_SIGALGS, 1, "ECDSA and RSA offers get the "
		    "same certificate");
		return;
	}
	if (fe == NULL && fr == NULL) {
		dstep(d, PKID_DIAG_SIGALGS, 1, "neither an ECDSA-only nor an "
		    "RSA-only offer is accepted (ECDSA: %s; RSA: %s)",
		    ec->failure, rsa->failure);
		return;
	}
	dstep(d, PKID_DIAG_SIGALGS, 1, "only %s certificates: %s offer gets "
	    "%s certificate; %s offer: %s", fe != NULL ? "ECDSA" : "RSA",
	    fe != NULL ? "the ECDSA" : "the RSA", fd != NULL &&
	    strcmp(fd, fe != NULL ? fe : fr) == 0 ? "the same" : "another",
	    fe != NULL ? "RSA" : "ECDSA", fe != NULL ? rsa->failure :
	    ec->failure);
}

/* Seconds from now to x's notBefore (> 0: in the future). */
static int
ahead_by(X509 *x, time_t now, long long *secs)
{
	int days, s;
	ASN1_TIME *t;

	if ((t = ASN1_TIME_set(NULL, now)) == NULL)
		return 0;
	if (ASN1_TIME_diff(&days, &s, t, X509_get0_notBefore(x)) != 1) {
		ASN1_TIME_free(t);
		return 0;
	}
	ASN1_TIME_free(t);
	*secs = (long long)days * 86400 + s;
	return 1;
}

void
dchain_clock(struct dctx *d)
{
	STACK_OF(X509) *sk = d->presented[PKID_DIAG_OFFER_DEFAULT];
	const struct pkid_diag_cert *c;
	char now[32], dur[48];
	long long secs;
	int i, found = 0;

	pkid_time_fmt(d->now, now, sizeof(now));
	for (i = 0; i < sk_X509_num(sk) && i < PKID_MAX_CHAIN_DEPTH; i++) {
		c = &d->r->chains[PKID_DIAG_OFFER_DEFAULT].certs[i];
		if (!ahead_by(sk_X509_value(sk, i), d->now, &secs) ||
		    secs <= 0 || secs > PKID_DIAG_SKEW_WINDOW_S)
			continue;
		found = 1;
		pkid_duration_fmt(secs, dur, sizeof(dur));
		dfind(d, PKID_E_CLOCK_SKEW, PKID_DIAG_CLOCK, i, c->subject,
		    NULL, "cert[%d] %s becomes valid at %s, only %s after "
		    "this machine's clock (%s): this machine's clock is "
		    "probably behind, or the issuing CA's ahead", i,
		    c->subject, c->not_before, dur, now);
	}
	dstep(d, PKID_DIAG_CLOCK, !found, found ? "a certificate starts "
	    "within %d hours of this machine's clock (%s)" : "no certificate "
	    "starts within %d hours of this machine's clock (%s)",
	    PKID_DIAG_SKEW_WINDOW_S / 3600, now);
}
