/*
 * renew_scep.c - one identity over SCEP (RFC 8894) with the client of
 * scep/client.h: GetCACert checked against the identity's trust store,
 * GetNextCACert (3.5.2, 4.7) for the next CA when it is wanted, then a
 * RenewalReq (3.3.1.2) signed with the current certificate; an expired
 * one with a challenge configured enrolls anew (PKCSReq).
 */
#include <string.h>

#include <openssl/crypto.h>

#include "agent/agent_int.h"
#include "ca/ca.h"
#include "core/log.h"
#include "scep/client.h"
#include "scep/msg.h"

static enum pkid_code
client(struct pkid_agent_work *w, struct pkid_scep_client **out,
    struct pkid_err *e)
{
	struct pkid_scep_client_cfg cfg;
	const struct pkid_agent_id *id = w->id;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.url = id->url;
	cfg.ca_name = id->ca_name[0] != '\0' ? id->ca_name : NULL;
	cfg.trust = w->trust.certs;
	cfg.compat = id->compat;
	cfg.timeout_s = id->timeout_s;
	cfg.max_wait_s = id->max_wait_s;
	/* The agent schedules retries itself: no 503 slept on in place. */
	cfg.busy_retries = -1;
	PKID_TRY(pkid_scep_client_new(&cfg, out, e));
	PKID_TRY(pkid_scep_client_caps(*out, NULL, e));
	PKID_TRY(pkid_scep_client_trust(*out, e));
	rc = PKID_OK;
out:
	return rc;
}

static void
note_last(struct pkid_agent_work *w, const struct pkid_scep_client *c)
{
	if (c != NULL) {
		w->status = c->last_status;
		w->retry_after = c->last_retry_after;
	}
}

/* GetNextCACert: its CA certificates into the store when vouched for.
 * A 404 (no-next-ca) is no news, logged. */
static enum pkid_code
next_ca(struct pkid_agent_work *w, struct pkid_scep_client *c, int *news,
    struct pkid_err *e)
{
	struct pkid_scep_cas next;
	struct pkid_err e2;
	char msg[600];
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_scep_cas_init(&next);
	pkid_err_clear(&e2);
	if (!(c->caps & PKID_SCEP_CAP_NEXTCA)) {
		pkid_log(PKID_LOG_INFO, "agent: identity %s: %s does not list "
		    "GetNextCACert (RFC 8894 3.5.2); the next CA comes with "
		    "GetCACert once active", w->id->name, w->id->url);
		return PKID_OK;
	}
	rc = pkid_scep_client_cacert(c, 1, &next, &e2);
	if (rc == PKID_E_NO_NEXT_CA) {
		pkid_log(PKID_LOG_INFO, "agent: identity %s: %s", w->id->name,
		    pkid_err_message(&e2, msg, sizeof(msg)));
		rc = PKID_OK;
		goto out;
	}
	if (rc != PKID_OK) {
		*e = e2;
		goto out;
	}
	rc = pkid_agent_trust_accept(&w->trust, next.certs, w->held, 1, w->now,
	    news, e);
out:
	pkid_scep_cas_free(&next);
	return rc;
}

/* Copy of GetCACert's certificates into w->issued_pool. */
static enum pkid_code
keep_pool(struct pkid_agent_work *w, const struct pkid_scep_client *c,
    struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	PKID_CHECK((w->issued_pool = sk_X509_new_null()) != NULL,
	    PKID_E_NOMEM, "no memory");
	for (i = 0; i < sk_X509_num(c->cas.certs); i++) {
		PKID_CHECK(sk_X509_push(w->issued_pool, sk_X509_value(
		    c->cas.certs, i)), PKID_E_NOMEM, "no memory");
		X509_up_ref(sk_X509_value(c->cas.certs, i));
	}
	rc = PKID_OK;
out:
	return rc;
}

/* RenewalReq signed by the current certificate, or (expired, with a
 * challenge) a PKCSReq, for the same subject and names. */
static enum pkid_code
enroll(struct pkid_agent_work *w, struct pkid_scep_client *c,
    const char *challenge, int fresh, struct pkid_err *e)
{
	X509_REQ *csr = NULL;
	EVP_PKEY *key = w->key;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (w->id->new_key[0] != '\0') {
		PKID_TRY(pkid_key_generate(w->id->new_key, &w->new_key, e));
		key = w->new_key;
	}
	PKID_TRY(pkid_scep_algs_pick(c->caps, w->id->compat, &c->algs, e));
	PKID_TRY(pkid_scep_csr_renewal(w->leaf, key, challenge[0] != '\0' ?
	    challenge : NULL, c->algs.md, &csr, e));
	PKID_TRY(pkid_scep_client_enroll(c, csr, key, fresh ? NULL : w->leaf,
	    fresh ? NULL : w->key, &w->issued, e));
	PKID_TRY(keep_pool(w, c, e));
	rc = PKID_OK;
out:
	X509_REQ_free(csr);
	return rc;
}

enum pkid_code
pkid_agent_scep_run(struct pkid_agent_work *w, int renew, int *news,
    struct pkid_err *e)
{
	struct pkid_scep_client *c = NULL;
	char chal[PKID_SCEP_MAX_CHALLENGE + 2];
	int64_t at;
	int expired = X509_cmp_time(X509_get0_notAfter(w->leaf), &w->now) < 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	*news = 0;
	chal[0] = '\0';
	if (w->id->challenge_file[0] != '\0')
		PKID_TRY(pkid_agent_read_secret(w->id->challenge_file, chal,
		    sizeof(chal), e));
	PKID_TRY(client(w, &c, e));
	(void)pkid_agent_capath_learn(w, c->cas.certs, &w->capath);
	at = pkid_agent_next_ca_at(w, &w->capath);
	w->asked_next = w->may_ask_next && at > 0 && w->now >= at;
	if (w->asked_next && (rc = next_ca(w, c, news, e)) != PKID_OK) {
		if (!renew)
			goto out;
		/* The renewal does not wait for the next CA. */
		pkid_log_err(PKID_LOG_WARN, e, "agent: GetNextCACert failed; "
		    "renewing anyway:");
		pkid_err_clear(e);
	}
	if (!renew) {
		rc = PKID_OK;
		goto out;
	}
	if (*news > 0) {
		/* A new anchor: check GetCACert against the store as it is
		 * now. */
		note_last(w, c);
		pkid_scep_client_free(c);
		c = NULL;
		PKID_TRY(client(w, &c, e));
	}
	if (expired && chal[0] != '\0')
		pkid_log(PKID_LOG_INFO, "agent: identity %s: certificate "
		    "expired; enrolling anew with the challenge (PKCSReq)",
		    w->id->name);
	rc = enroll(w, c, chal, expired && chal[0] != '\0', e);
out:
	note_last(w, c);
	OPENSSL_cleanse(chal, sizeof(chal));
	pkid_scep_client_free(c);
	return rc;
}
