/*
 * certsrv.h - an RA upstream that is Microsoft AD CS web enrollment
 * (upstream = certsrv+https://HOST/certsrv, certsrv.c): the EST and SCEP
 * RA (ra.c) submit requests through its pages with a service account.
 */
#ifndef PKID_EST_CERTSRV_H
#define PKID_EST_CERTSRV_H

#include <openssl/x509.h>

#include "core/buf.h"
#include "core/cfg.h"
#include "core/err.h"

struct pkid_certsrv;

/* What a certfnsh.asp answer says (pkid_certsrv_parse_submit). */
enum certsrv_disp {
	CERTSRV_ISSUED,		/* "certnew.cer?ReqID=N&": fetch it */
	CERTSRV_PENDING,	/* "Certificate Pending", "Request Id is N" */
	CERTSRV_DENIED,		/* 'The disposition message is "..."' */
	CERTSRV_UNKNOWN,	/* none of these */
};

struct certsrv_answer {
	enum certsrv_disp disp;
	long reqid;		/* issued or pending: the request id, else 0 */
	char msg[256];		/* denied: the CA's disposition message */
	int template;		/* denied for the template (0x80094800,
				 * 0x80094801, 0x80094012) */
};

/*
 * Read a certfnsh.asp page (len bytes, not NUL-terminated, at most
 * PKID_CERTSRV_MAX_BODY) into a. Never fails: CERTSRV_UNKNOWN when it
 * holds none of the markers.
 */
void pkid_certsrv_parse_submit(const char *page, size_t len,
    struct certsrv_answer *a);

/*
 * A certsrv upstream for cfg (borrowed; must outlive it): reads
 * upstream_password_file. NULL with e set: config-bad-value (no template,
 * no user), io-open.
 */
struct pkid_certsrv *pkid_certsrv_new(const struct pkid_est_label *cfg,
    struct pkid_err *e);
void pkid_certsrv_free(struct pkid_certsrv *cs);

/*
 * Keep the AD CS request ids of requests held for approval in path (a
 * file of lines "SHA256HEX REQID", rewritten on each change), reading
 * those kept there before. A file that cannot be read or written is
 * logged; then they are kept in memory only.
 */
void pkid_certsrv_state(struct pkid_certsrv *cs, const char *path);
/* Replace the pending requests with those of a state file's text (len
 * bytes); malformed lines are skipped and logged. For tests too. */
void pkid_certsrv_state_parse(struct pkid_certsrv *cs, const char *p,
    size_t len);
/* How many requests are held for approval. */
int pkid_certsrv_npending(struct pkid_certsrv *cs);

/*
 * Enroll csr with the template: login (GET /certsrv/), submit
 * (certfnsh.asp) or, for a request AD CS holds for approval, the kept
 * request id; then fetch (certnew.cer, and the chain from certnew.p7b).
 * PKID_OK with *certs (the caller's, the issued certificate first), or
 * with *certs NULL while AD CS holds the request (ask again later).
 * Blocks the calling thread, each phase at most upstream_timeout.
 * Errors: upstream-untrusted, -name-mismatch, -clock, -dns, -refused,
 * -tls, -timeout (naming the phase), -login-failed, -template, -denied,
 * -bad-response.
 */
enum pkid_code pkid_certsrv_enroll(struct pkid_certsrv *cs, X509_REQ *csr,
    STACK_OF(X509) **certs, struct pkid_err *e);

/* The CA certificate (certcarc.asp's newest renewal, certnew.cer?ReqID=
 * CACert), into *out (the caller's). Errors: as pkid_certsrv_enroll. */
enum pkid_code pkid_certsrv_cacerts(struct pkid_certsrv *cs,
    STACK_OF(X509) **out, struct pkid_err *e);

/*
 * One phase of pkictl diagnose: reach base (https://HOST/certsrv) with
 * trust (PEM file), user and password under auth, login only. *phase
 * names the phase that failed (or the last that passed). Errors: as
 * pkid_certsrv_enroll.
 */
enum pkid_code pkid_certsrv_probe(const char *url, const char *trust,
    const char *user, const char *password, int ntlm, int timeout_s,
    const char *template, const char **phase, struct pkid_err *e);

#endif
