/*
 * nextca.c - when an identity wants the next CA (DESIGN.md "CA
 * generations and rollover"): once a certificate renewed now would
 * outlive a CA its certificate depends on, and the trust store holds no
 * other CA certificate lasting longer, pkid has (or will have) the next
 * generation to publish, and the agent asks for it.
 *
 * The CAs a certificate depends on are its issuer path up to the root
 * (or to a certificate of the store). A certificate file without its
 * chain does not tell them; the path is then learned from the server's
 * CA certificates and kept in the state file.
 */
#include <string.h>

#include <openssl/x509v3.h>

#include "agent/agent_int.h"
#include "x509/load.h"

int64_t
pkid_agent_cert_time(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

int
pkid_agent_capath_learn(const struct pkid_agent_work *w,
    STACK_OF(X509) *pool, struct pkid_agent_capath *out)
{
	STACK_OF(X509) *all = NULL, *path = NULL;
	struct pkid_agent_capath p;
	struct pkid_err e;
	X509 *top, *x;
	int64_t na;
	int i, ok = 0;

	memset(&p, 0, sizeof(p));
	pkid_err_clear(&e);
	if ((all = sk_X509_new_null()) == NULL)
		return 0;
	for (i = 0; i < sk_X509_num(pool); i++)
		(void)sk_X509_push(all, sk_X509_value(pool, i));
	for (i = 0; i < sk_X509_num(w->trust.certs); i++)
		(void)sk_X509_push(all, sk_X509_value(w->trust.certs, i));
	if (pkid_agent_issuer_path(w->leaf, all, 1, &path, &e) != PKID_OK ||
	    sk_X509_num(path) == 0)
		goto out;
	/* Complete: up to a root, or to a certificate of the store. */
	top = sk_X509_value(path, sk_X509_num(path) - 1);
	if (X509_check_issued(top, top) != X509_V_OK &&
	    !pkid_agent_trust_has(&w->trust, top))
		goto out;
	for (i = 0; i < sk_X509_num(path) && i < PKID_MAX_CHAIN_DEPTH; i++) {
		x = sk_X509_value(path, i);
		na = pkid_agent_cert_time(X509_get0_notAfter(x));
		if (p.end == 0 || na < p.end)
			p.end = na;
		pkid_x509_fingerprint(x, p.fp[p.n++]);
	}
	*out = p;
	ok = 1;
out:
	sk_X509_free(all);
	sk_X509_pop_free(path, X509_free);
	return ok;
}

static int
on_path(const struct pkid_agent_capath *p, X509 *x)
{
	char fp[65];
	int i;

	pkid_x509_fingerprint(x, fp);
	for (i = 0; i < p->n; i++)
		if (strcmp(p->fp[i], fp) == 0)
			return 1;
	return 0;
}

int64_t
pkid_agent_next_ca_at(const struct pkid_agent_work *w,
    const struct pkid_agent_capath *p)
{
	int64_t life;
	X509 *x;
	int i;

	if (p->end == 0)
		return 0;
	for (i = 0; i < sk_X509_num(w->trust.certs); i++) {
		x = sk_X509_value(w->trust.certs, i);
		if (X509_check_ca(x) >= 1 && !on_path(p, x) &&
		    pkid_agent_cert_time(X509_get0_notAfter(x)) > p->end)
			return 0;	/* the next CA is in the store */
	}
	life = pkid_agent_cert_time(X509_get0_notAfter(w->leaf)) -
	    pkid_agent_cert_time(X509_get0_notBefore(w->leaf));
	return p->end - (life > 0 ? life : 0);
}
