/*
 * renew_est.c - one identity over EST (RFC 7030) with the client of
 * est/client.h: /cacerts for the next CA (4.1.3: during a rollover it
 * carries the new CA certificate and, for a root key update, the link
 * certificates), then simplereenroll (4.2.2) authenticated by the
 * current certificate; an expired one with an EST user configured
 * enrolls anew (simpleenroll, HTTP Basic).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "agent/agent_int.h"
#include "ca/ca.h"
#include "core/log.h"
#include "est/client.h"

/* The client's options for w; password borrowed (may be ""). */
static void
est_opts(const struct pkid_agent_work *w, int with_cert, const char *pw,
    struct pkid_est_client_opts *o)
{
	const struct pkid_agent_id *id = w->id;

	memset(o, 0, sizeof(*o));
	o->server = id->url;
	o->label = id->label[0] != '\0' ? id->label : NULL;
	o->trust = w->trust.certs;
	if (with_cert) {
		o->cert = w->leaf;
		o->chain = w->chain;
		o->cert_key = w->key;
	}
	if (id->user[0] != '\0') {
		o->user = id->user;
		o->password = pw;
	}
	o->timeout_s = id->timeout_s;
	o->max_wait_s = id->max_wait_s;
	/* The agent schedules retries itself: no 503 slept on in place. */
	o->busy_retries = -1;
}

static void
note_last(struct pkid_agent_work *w, const struct pkid_est_client *c)
{
	if (c != NULL)
		pkid_est_client_last(c, &w->status, &w->retry_after);
}

/* GET /cacerts and add what is new and vouched for to the trust store. */
static enum pkid_code
fetch_cas(struct pkid_agent_work *w, struct pkid_est_client *c, int *news,
    struct pkid_err *e)
{
	STACK_OF(X509) *cas = NULL;
	int64_t at;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_est_client_cacerts(c, &cas, e));
	(void)pkid_agent_capath_learn(w, cas, &w->capath);
	/* RFC 7030 4.1.3: /cacerts is read anyway (the issued certificate
	 * is checked with it); during a rollover it carries the next CA. */
	at = pkid_agent_next_ca_at(w, &w->capath);
	w->asked_next = w->may_ask_next && at > 0 && w->now >= at;
	PKID_TRY(pkid_agent_trust_accept(&w->trust, cas, w->held, 0, w->now,
	    news, e));
	rc = PKID_OK;
out:
	return rc;
}

/* Copy of the client's /cacerts into w->issued_pool. */
static enum pkid_code
keep_pool(struct pkid_agent_work *w, struct pkid_est_client *c,
    struct pkid_err *e)
{
	STACK_OF(X509) *cas = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	PKID_TRY(pkid_est_client_cacerts(c, &cas, e));
	PKID_CHECK((w->issued_pool = sk_X509_new_null()) != NULL,
	    PKID_E_NOMEM, "no memory");
	for (i = 0; i < sk_X509_num(cas); i++) {
		PKID_CHECK(sk_X509_push(w->issued_pool, sk_X509_value(cas, i)),
		    PKID_E_NOMEM, "no memory");
		X509_up_ref(sk_X509_value(cas, i));
	}
	rc = PKID_OK;
out:
	return rc;
}

/* simplereenroll (or, expired with a user, simpleenroll) with c. */
static enum pkid_code
enroll(struct pkid_agent_work *w, struct pkid_est_client *c, int reenroll,
    struct pkid_err *e)
{
	struct pkid_est_csr_spec spec;
	GENERAL_NAMES *sans = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (w->id->new_key[0] != '\0')
		PKID_TRY(pkid_key_generate(w->id->new_key, &w->new_key, e));
	/* RFC 7030 4.2.2: the same subject and subjectAltName. */
	sans = X509_get_ext_d2i(w->leaf, NID_subject_alt_name, NULL, NULL);
	spec.subject = X509_get_subject_name(w->leaf);
	spec.sans = sans;
	PKID_TRY(pkid_est_client_enroll(c, reenroll, w->new_key != NULL ?
	    w->new_key : w->key, &spec, &w->issued, e));
	PKID_TRY(keep_pool(w, c, e));
	rc = PKID_OK;
out:
	GENERAL_NAMES_free(sans);
	return rc;
}

enum pkid_code
pkid_agent_est_run(struct pkid_agent_work *w, int renew, int *news,
    struct pkid_err *e)
{
	struct pkid_est_client_opts o;
	struct pkid_est_client *c = NULL;
	char pw[PKID_MAX_EST_PASSWORD + 1];
	int expired = X509_cmp_time(X509_get0_notAfter(w->leaf), &w->now) < 0;
	int with_cert = !(expired && w->id->user[0] != '\0');
	enum pkid_code rc = PKID_E_INTERNAL;

	*news = 0;
	pw[0] = '\0';
	if (w->id->user[0] != '\0')
		PKID_TRY(pkid_agent_read_secret(w->id->password_file, pw,
		    sizeof(pw), e));
	est_opts(w, with_cert, pw, &o);
	PKID_CHECK((c = pkid_est_client_new(&o, e)) != NULL, e->code,
	    "EST client");
	PKID_TRY(fetch_cas(w, c, news, e));
	if (!renew) {
		rc = PKID_OK;
		goto out;
	}
	if (*news > 0) {
		/* A new anchor: judge the server and what it issues by the
		 * store as it is now. */
		pkid_est_client_free(c);
		PKID_CHECK((c = pkid_est_client_new(&o, e)) != NULL, e->code,
		    "EST client");
	}
	if (!with_cert)
		pkid_log(PKID_LOG_INFO, "agent: identity %s: certificate "
		    "expired; enrolling anew as EST user %s (simpleenroll)",
		    w->id->name, w->id->user);
	rc = enroll(w, c, with_cert, e);
out:
	note_last(w, c);
	OPENSSL_cleanse(pw, sizeof(pw));
	pkid_est_client_free(c);
	return rc;
}
