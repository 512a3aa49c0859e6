/*
 * pass.c - one pass over the identities (agent.h): for each, decide from
 * its certificate, its trust store and its state whether to renew, to
 * ask for the next CA, to wait, or to report it overdue; do it; log the
 * decision with its reason and the next wake-up.
 *
 * The next CA is wanted once a certificate renewed now would outlive a
 * CA the identity's certificate depends on (DESIGN.md "CA generations
 * and rollover": pkid makes the next generation available from then on)
 * and the trust store holds nothing newer. Until a server has one, each
 * fetch without news backs off like a failed renewal, so a fleet does not
 * turn a missing generation into a "GetNextCACert 404 storm".
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "agent/agent_int.h"
#include "agent/schedule.h"
#include "core/clock.h"
#include "core/log.h"
#include "x509/load.h"

static uint32_t
rnd32(void)
{
	uint32_t r = 0;

	(void)RAND_bytes((unsigned char *)&r, sizeof(r));
	return r;
}

static const char *
tfmt(int64_t t, char *out, size_t len)
{
	return pkid_time_fmt((time_t)t, out, len);
}

static void
work_clear(struct pkid_agent_work *w)
{
	sk_X509_pop_free(w->held, X509_free);
	X509_free(w->leaf);
	sk_X509_pop_free(w->chain, X509_free);
	EVP_PKEY_free(w->key);
	pkid_agent_trust_free(&w->trust);
	X509_free(w->issued);
	sk_X509_pop_free(w->issued_pool, X509_free);
	EVP_PKEY_free(w->new_key);
}

/* The identity's files, as they are now. */
static enum pkid_code
work_load(struct pkid_agent_work *w, struct pkid_err *e)
{
	const struct pkid_agent_id *id = w->id;
	STACK_OF(X509) *all = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_x509_load_certs_file(id->cert, &all, e));
	w->leaf = sk_X509_shift(all);
	w->chain = all;
	all = NULL;
	if (id->chain[0] != '\0' && access(id->chain, F_OK) == 0)
		PKID_TRY(pkid_x509_load_certs_file(id->chain, &w->chain, e));
	/* What it holds: the certificate and its issuers among the files'
	 * certificates (pkictl enroll writes all of /cacerts there, next
	 * generation and link certificates included). */
	PKID_TRY(pkid_agent_issuer_path(w->leaf, w->chain, 1, &w->held, e));
	PKID_CHECK(sk_X509_unshift(w->held, w->leaf) > 0, PKID_E_NOMEM,
	    "no memory");
	X509_up_ref(w->leaf);
	PKID_TRY(pkid_agent_key_load(id->key, w->leaf, 1, &w->key, e));
	PKID_TRY(pkid_agent_trust_load(&w->trust, id->trust, e));
	rc = PKID_OK;
out:
	sk_X509_pop_free(all, X509_free);
	return rc;
}

/* What the pass knows about one identity. */
struct look {
	struct pkid_agent_state st;	/* its state */
	struct pkid_agent_plan plan;	/* its renewal point */
	int64_t nb, na;			/* its certificate's validity */
	int64_t ca_at;			/* next CA wanted from, 0 never
					 * or unknown */
	char serial[80];		/* its certificate's serial */
	uint64_t draw;			/* its jitter draw (schedule.h) */
};

static void
wake(struct pkid_agent_result *r, int64_t t)
{
	if (t > 0 && (r->next_wake == 0 || t < (int64_t)r->next_wake))
		r->next_wake = (time_t)t;
}

/* When to ask for the next CA: from when it is wanted, spread over a
 * tenth of the lifetime by the certificate's draw, so a fleet that
 * reaches that point together does not ask in one minute. */
static void
ca_at(const struct pkid_agent_work *w, struct look *l)
{
	int64_t life = l->na > l->nb ? l->na - l->nb : 0;

	l->ca_at = pkid_agent_next_ca_at(w, &w->capath);
	if (l->ca_at > 0)
		l->ca_at += (int64_t)((l->draw >> 20) % (uint64_t)(life / 10 +
		    1));
}

static enum pkid_code
look_at(struct pkid_agent_work *w, struct look *l, struct pkid_err *e)
{
	const struct pkid_agent_id *id = w->id;
	unsigned char *der = NULL;
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_agent_state_load(w->cfg, id, &l->st);
	pkid_x509_serial_hex(X509_get0_serialNumber(w->leaf), l->serial,
	    sizeof(l->serial));
	if (strcmp(l->st.serial, l->serial) != 0) {
		/* Another certificate: what was counted is about the old. */
		memset(&l->st, 0, sizeof(l->st));
		snprintf(l->st.serial, sizeof(l->st.serial), "%s", l->serial);
	}
	l->nb = pkid_agent_cert_time(X509_get0_notBefore(w->leaf));
	l->na = pkid_agent_cert_time(X509_get0_notAfter(w->leaf));
	PKID_CHECK((n = i2d_X509(w->leaf, &der)) > 0, PKID_E_CRYPTO,
	    "encoding %s", id->cert);
	l->draw = pkid_agent_draw(id->name, der, (size_t)n);
	pkid_agent_plan(l->nb, l->na, id->renew_pct, id->jitter_pct,
	    id->jitter_s, l->draw, &l->plan);
	/* The CAs it depends on from the files, else as last learned. */
	if (!pkid_agent_capath_learn(w, w->chain, &w->capath))
		w->capath = l->st.capath;
	ca_at(w, l);
	rc = PKID_OK;
out:
	OPENSSL_free(der);
	return rc;
}

/* renewal-overdue: say so, count it. */
static void
overdue(const struct pkid_agent_work *w, const struct look *l,
    struct pkid_agent_result *r)
{
	struct pkid_err e;
	char t1[32], t2[32];

	pkid_err_clear(&e);
	if (w->now >= l->na)
		PKID_ERR(&e, PKID_E_RENEWAL_OVERDUE, "identity %s: %s expired "
		    "at %s and could not be renewed (%d failures in a row, "
		    "last %s)", w->id->name, w->id->cert, tfmt(l->na, t1,
		    sizeof(t1)), l->st.failures, l->st.last_code);
	else
		PKID_ERR(&e, PKID_E_RENEWAL_OVERDUE, "identity %s: %s expires "
		    "at %s, before the next try at %s (%d failures in a row, "
		    "last %s)", w->id->name, w->id->cert, tfmt(l->na, t1,
		    sizeof(t1)), tfmt(l->st.next_try, t2, sizeof(t2)),
		    l->st.failures, l->st.last_code);
	pkid_log_err(PKID_LOG_ERROR, &e, "agent:");
	if (r->overdue++ == 0)
		r->first_overdue = e;
}

static void
failed(struct pkid_agent_result *r, const struct pkid_err *e)
{
	if (r->failed++ == 0)
		r->first = *e;
}

/* A renewal that failed: count, back off, maybe overdue. */
static void
renew_failed(struct pkid_agent_work *w, struct look *l,
    const struct pkid_err *e, struct pkid_agent_result *r)
{
	char msg[1024], d[32], t[32], why[PKID_AGENT_MAX_PATH + 64];
	int64_t delay;

	if (l->st.failures < PKID_AGENT_MAX_FAILURES)
		l->st.failures++;
	delay = pkid_agent_backoff(l->st.failures, w->retry_after, rnd32(),
	    w->now, l->na);
	l->st.next_try = w->now + delay;
	snprintf(l->st.last_code, sizeof(l->st.last_code), "%s",
	    pkid_err_id(e->code));
	pkid_log(PKID_LOG_WARN, "agent: identity %s: renewal failed: %s: %s",
	    w->id->name, pkid_err_id(e->code), pkid_err_message(e, msg,
	    sizeof(msg)));
	if (w->status >= 400)
		snprintf(why, sizeof(why), "%d%s from %s", w->status,
		    w->retry_after >= 0 ? " (Retry-After honoured)" : "",
		    w->id->url);
	else
		snprintf(why, sizeof(why), "%s from %s", pkid_err_id(e->code),
		    w->id->url);
	pkid_log(PKID_LOG_WARN, "agent: identity %s: backing off %s after "
	    "%s (failure %d in a row); next try at %s", w->id->name,
	    pkid_agent_dur_text(delay, d, sizeof(d)), why, l->st.failures,
	    tfmt(l->st.next_try, t, sizeof(t)));
	failed(r, e);
	if (pkid_agent_overdue(w->now, l->st.next_try, l->na))
		overdue(w, l, r);
	wake(r, l->st.next_try);
}

/* The next-CA fetch came back: news or not, its own back-off. */
static void
next_ca_done(struct pkid_agent_work *w, struct look *l, int news)
{
	char d[32];
	int64_t delay;

	if (news > 0) {
		l->st.ca_failures = 0;
		l->st.ca_next_try = 0;
		return;
	}
	if (l->st.ca_failures < PKID_AGENT_MAX_FAILURES)
		l->st.ca_failures++;
	delay = pkid_agent_backoff(l->st.ca_failures, w->retry_after, rnd32(),
	    w->now, l->na);
	l->st.ca_next_try = w->now + delay;
	pkid_log(PKID_LOG_INFO, "agent: identity %s: no next CA from %s yet; "
	    "asking again in %s (try %d)", w->id->name, w->id->url,
	    pkid_agent_dur_text(delay, d, sizeof(d)), l->st.ca_failures);
}

/* After a renewal: files, trust store, hook, state, next point. */
static enum pkid_code
renewed(struct pkid_agent_work *w, struct look *l,
    struct pkid_agent_result *r, struct pkid_err *e)
{
	struct pkid_agent_plan p;
	char sub[256], serial[80], t1[32], t2[32], j[32];
	unsigned char *der = NULL;
	int64_t nb, na;
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_agent_write_identity(w, e));
	(void)pkid_agent_trust_prune(&w->trust, w->issued, w->issued_pool,
	    w->now);
	PKID_TRY(pkid_agent_trust_save(&w->trust, e));
	PKID_CHECK((n = i2d_X509(w->issued, &der)) > 0, PKID_E_CRYPTO,
	    "encoding the new certificate");
	nb = pkid_agent_cert_time(X509_get0_notBefore(w->issued));
	na = pkid_agent_cert_time(X509_get0_notAfter(w->issued));
	pkid_agent_plan(nb, na, w->id->renew_pct, w->id->jitter_pct,
	    w->id->jitter_s, pkid_agent_draw(w->id->name, der, (size_t)n), &p);
	pkid_x509_serial_hex(X509_get0_serialNumber(w->issued), serial,
	    sizeof(serial));
	memset(&l->st, 0, sizeof(l->st));
	snprintf(l->st.serial, sizeof(l->st.serial), "%s", serial);
	pkid_log(PKID_LOG_INFO, "agent: identity %s: renewed %s: serial %s, "
	    "valid until %s%s; renews at %s (%d%% of lifetime + %s jitter)",
	    w->id->name, pkid_x509_name_text(X509_get_subject_name(w->issued),
	    sub, sizeof(sub)), serial, tfmt(na, t1, sizeof(t1)),
	    w->new_key != NULL ? ", new key" : "", tfmt(p.renew_at, t2,
	    sizeof(t2)), w->id->renew_pct, pkid_agent_dur_text(p.jitter, j,
	    sizeof(j)));
	r->renewed++;
	wake(r, p.renew_at);
	(void)pkid_agent_hook_run(w->id, "renewed", w->cfg->hook_timeout_s);
	rc = PKID_OK;
out:
	OPENSSL_free(der);
	return rc;
}

/* Not due: when it will be, and why. */
static void
not_due(const struct pkid_agent_work *w, const struct look *l,
    struct pkid_agent_result *r)
{
	char t[32], j[32], c[32], ca[80] = "";
	int64_t ca_wake = 0;

	if (l->ca_at > 0) {
		ca_wake = l->ca_at > l->st.ca_next_try ? l->ca_at :
		    l->st.ca_next_try;
		snprintf(ca, sizeof(ca), "; next CA wanted from %s",
		    tfmt(ca_wake, c, sizeof(c)));
	} else if (w->capath.end == 0 && l->st.ca_next_try > 0) {
		/* The CAs it depends on are not known yet: ask again. */
		ca_wake = l->st.ca_next_try;
		snprintf(ca, sizeof(ca), "; its CA path asked again at %s",
		    tfmt(ca_wake, c, sizeof(c)));
	}
	pkid_log(PKID_LOG_INFO, "agent: identity %s: renews at %s (%d%% of "
	    "lifetime + %s jitter)%s", w->id->name, tfmt(l->plan.renew_at, t,
	    sizeof(t)), w->id->renew_pct, pkid_agent_dur_text(l->plan.jitter,
	    j, sizeof(j)), ca);
	r->not_due++;
	wake(r, l->plan.renew_at);
	wake(r, ca_wake);
}

/* Waiting after a failure. */
static void
backing_off(const struct pkid_agent_work *w, const struct look *l,
    struct pkid_agent_result *r)
{
	char t[32], d[32];

	pkid_log(PKID_LOG_INFO, "agent: identity %s: backing off until %s "
	    "(%s left) after %s (failure %d in a row)", w->id->name,
	    tfmt(l->st.next_try, t, sizeof(t)), pkid_agent_dur_text(
	    l->st.next_try - w->now, d, sizeof(d)), l->st.last_code[0] ?
	    l->st.last_code : "a failure", l->st.failures);
	r->backing_off++;
	if (pkid_agent_overdue(w->now, l->st.next_try, l->na))
		overdue(w, l, r);
	wake(r, l->st.next_try);
}

/* Fetch (and maybe renew); then the outcome. */
static void
act(struct pkid_agent_work *w, struct look *l, int due,
    struct pkid_agent_result *r)
{
	struct pkid_err e;
	char t[32];
	int news = 0;
	enum pkid_code rc;

	pkid_err_clear(&e);
	w->status = 0;
	w->retry_after = -1;
	if (due)
		pkid_log(PKID_LOG_INFO, "agent: identity %s: renewal due since "
		    "%s; renewing at %s", w->id->name, tfmt(l->plan.renew_at,
		    t, sizeof(t)), w->id->url);
	w->may_ask_next = w->now >= l->st.ca_next_try;
	rc = w->id->proto == PKID_AGENT_EST ?
	    pkid_agent_est_run(w, due, &news, &e) :
	    pkid_agent_scep_run(w, due, &news, &e);
	l->st.capath = w->capath;
	ca_at(w, l);
	/* The next CA asked for, or a fetch for it (or for the CAs' end)
	 * that failed or did not tell: its own back-off. */
	if (w->asked_next || (!due && (rc != PKID_OK ||
	    w->capath.end == 0)))
		next_ca_done(w, l, news);
	if (news > 0 && pkid_agent_trust_save(&w->trust, &e) != PKID_OK)
		rc = e.code;
	if (due && rc == PKID_OK)
		rc = renewed(w, l, r, &e);
	else if (news > 0)
		(void)pkid_agent_hook_run(w->id, "trust-updated",
		    w->cfg->hook_timeout_s);
	if (due && rc != PKID_OK) {
		renew_failed(w, l, &e, r);
	} else if (!due) {
		if (rc != PKID_OK) {
			pkid_log_err(PKID_LOG_WARN, &e, "agent: next CA:");
			failed(r, &e);
		}
		not_due(w, l, r);
	}
}

static void
identity_pass(const struct pkid_agent_cfg *c, const struct pkid_agent_id *id,
    struct pkid_agent_result *r)
{
	struct pkid_agent_work w;
	struct look l;
	struct pkid_err e;
	int due, want_next;

	memset(&w, 0, sizeof(w));
	memset(&l, 0, sizeof(l));
	pkid_err_clear(&e);
	w.cfg = c;
	w.id = id;
	w.now = pkid_now();
	if (work_load(&w, &e) != PKID_OK || look_at(&w, &l, &e) != PKID_OK) {
		pkid_err_ctx(&e, "identity %s", id->name);
		pkid_log_err(PKID_LOG_ERROR, &e, "agent:");
		failed(r, &e);
		goto out;
	}
	due = w.now >= l.plan.renew_at || w.now >= l.na;
	/* The next CA wanted, or the CAs' end not known (a certificate
	 * file without its chain): one exchange tells. */
	want_next = (l.ca_at > 0 ? w.now >= l.ca_at : w.capath.end == 0) &&
	    w.now >= l.st.ca_next_try;
	if (l.st.next_try > w.now)
		backing_off(&w, &l, r);
	else if (!due && !want_next)
		not_due(&w, &l, r);
	else
		act(&w, &l, due, r);
	if (pkid_agent_state_save(c, id, &l.st, &e) != PKID_OK) {
		pkid_log_err(PKID_LOG_ERROR, &e, "agent: state:");
		failed(r, &e);
	}
out:
	work_clear(&w);
}

enum pkid_code
pkid_agent_pass(const struct pkid_agent_cfg *c,
    const volatile sig_atomic_t *stop, struct pkid_agent_result *r)
{
	char t[32];
	int i;

	memset(r, 0, sizeof(*r));
	pkid_err_clear(&r->first);
	pkid_err_clear(&r->first_overdue);
	for (i = 0; i < c->n_ids && (stop == NULL || !*stop); i++)
		identity_pass(c, &c->ids[i], r);
	pkid_log(PKID_LOG_INFO, "agent: pass done: %d renewed, %d not due, "
	    "%d backing off, %d failed, %d overdue; next wake-up %s",
	    r->renewed, r->not_due, r->backing_off, r->failed, r->overdue,
	    r->next_wake != 0 ? tfmt(r->next_wake, t, sizeof(t)) : "none");
	return PKID_OK;
}
