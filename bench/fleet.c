/*
 * fleet.c - a fleet of N simulated devices against pkid, event-driven:
 * EST devices enroll (simpleenroll, HTTP Basic) and renew
 * (simplereenroll over TLS with the certificate just issued); SCEP
 * devices send a PKCSReq with the challenge and then a RenewalReq signed
 * by the issued certificate. Each device has a key from a pool made once
 * (EC P-256 for EST, RSA-2048 for SCEP: the CertRep is enciphered to
 * it), reused round-robin, so ten thousand devices cost little.
 *
 * Arrival: all at once (burst), spread evenly over --over seconds
 * (uniform), or renewal-day: every device enrolls first, then all renew
 * spread over --over seconds. A 503 (or 429, 408, 202, no answer) is retried
 * after its Retry-After (else 1, 2, 4 ... s) plus up to 50 % jitter, at
 * most --retries times; the whole run stops at --time-limit. Reports
 * per operation: enrollments/s, p50/p99/max latency (from the first
 * attempt to the certificate, retries included), outcomes by HTTP status
 * and pkid's error code ("est-enroll 503 overloaded"), unique serials,
 * and, with --pid, pkid's RSS and open descriptors before, at the peak
 * and after; a table, or one JSON object with --json.
 *
 * --idle N instead opens N TLS connections, each answering one GET and
 * then held idle (with --refresh S one GET every S seconds, inside
 * pkid's idle timeout), and reports pkid's RSS and descriptors before,
 * with them, after --hold seconds, and after closing them.
 *
 * usage: fleet --devices N [--proto est|scep|mixed]
 *              [--arrival burst|uniform|renewal-day] [--over S]
 *              [--est-port P --cacert ROOT.pem --user U --password PW]
 *              [--scep-port P --ra RA.pem --challenge C] [--pid PID]
 *              [--json] ...          (see usage() for every option)
 *        fleet --idle N --est-port P --cacert ROOT.pem --pid PID
 *              [--hold S] [--refresh S]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/clock.h"
#include "est/client.h"
#include "lib/loadgen.h"
#include "scep/client.h"
#include "scep/msg.h"
#include "x509/load.h"

enum op { OP_EST_ENROLL, OP_EST_RENEW, OP_SCEP_ENROLL, OP_SCEP_RENEW,
    OP_N };
static const char *const op_name[OP_N] = { "est-enroll", "est-renew",
    "scep-enroll", "scep-renew" };

enum arrival { ARR_BURST, ARR_UNIFORM, ARR_RENEWAL_DAY };
static const char *const arr_name[] = { "burst", "uniform", "renewal-day" };

enum dstate { D_WAIT, D_BUSY, D_RENEW_DAY, D_DONE, D_FAILED, D_UNFINISHED };

struct args {
	int64_t devices, est_port, scep_port, keys, retries, limit_s;
	int64_t timeout_s, over_s, pid, idle, hold_s, conc, settle_s;
	int64_t refresh_s;
	const char *proto, *arrival, *cacert, *user, *password, *host;
	const char *ra, *challenge, *scep_path, *pool, *domain, *idle_path;
	int json, no_renew;
};

struct fleet;

struct device {
	struct fleet *F;		/* owner */
	int idx;			/* number */
	int scep;			/* SCEP device, else EST */
	int op;				/* enum op now */
	int state;			/* enum dstate */
	int tries;			/* attempts of this op */
	uint64_t t0;			/* this op's first attempt, us */
	EVP_PKEY *key;			/* from the pool (borrowed) */
	struct lg_req req;		/* this op's request */
	struct lg_call *call;		/* in flight */
	struct event *timer;		/* arrival, retry */
	X509 *cert;			/* issued last */
	X509 *signer;			/* SCEP PKCSReq: self-signed signer */
	struct pkid_scep_txn txn;	/* SCEP: this op's transaction */
};

struct opstat {
	int ok, failed, attempts, retries;
	uint64_t first_us, last_us;	/* first start, last success */
	uint32_t *lat_us;		/* per success */
};

struct fleet {
	struct args a;
	struct event_base *base;
	SSL_CTX *ctx;			/* EST client TLS */
	char basic[512];		/* Authorization of simpleenroll */
	struct pkid_scep_cas cas;	/* SCEP RA: recipient, CertRep signer */
	X509 *ra;			/* borrowed from cas */
	struct pkid_scep_algs algs;	/* AES-256-CBC, SHA-256 */
	EVP_PKEY **ec, **rsa;		/* key pool */
	int n_ec, n_rsa;		/* keys in it */
	int use_ec, use_rsa;		/* the first ones the devices use */
	struct device *dev;
	int n;				/* devices */
	int arrival;			/* enum arrival */
	int left;			/* devices not yet finished */
	int phase1_left;		/* renewal-day: enrollments to go */
	int stopping;			/* time limit reached */
	int unfinished;			/* devices cut off by it */
	uint64_t t0;			/* start, us */
	uint64_t t_end;			/* last device finished, us */
	struct opstat st[OP_N];
	struct lg_outcome out[LG_MAX_OUTCOMES];
	int n_out;
	char (*serials)[64];		/* of every certificate issued */
	int n_serials;
	int key_mismatch;		/* certificates not for the key */
	struct event *sampler, *limit;
	long rss_before, rss_peak, rss_after, fds_before, fds_peak, fds_after;
	double cpu0, cpu;		/* server CPU seconds */
	/* --idle */
	struct idle_conn *idle;		/* the connections */
	int idle_started, idle_open, idle_failed;
	struct lg_req idle_req;		/* GET --idle-path */
	struct event *hold;		/* the "with" sample, the hold */
	struct event *refresh;		/* --refresh ticks */
	int64_t tick;			/* their count */
	int idle_lost;			/* open ones closed by the server */
	int with_taken;			/* rss_with sampled */
	long rss_with, fds_with, rss_held, fds_held;
};

struct idle_conn;
static void device_go(struct device *d);

/* ---- key pool ------------------------------------------------------- */

static int
pool_add(EVP_PKEY ***v, int *n, EVP_PKEY *k)
{
	EVP_PKEY **nv = realloc(*v, (size_t)(*n + 1) * sizeof(*nv));

	if (nv == NULL)
		return -1;
	*v = nv;
	nv[(*n)++] = k;
	return 0;
}

/* K EC P-256 and (for SCEP) K RSA-2048 keys: from the pool file when it
 * has them, the rest made here and the file rewritten (0600). */
static int
pool_load(struct fleet *F, int want_ec, int want_rsa)
{
	const char *path = F->a.pool;
	int made = 0, fd, i;
	EVP_PKEY *k;
	FILE *f;

	if (path != NULL && (f = fopen(path, "r")) != NULL) {
		/* All of them, also those this run does not use: the file
		 * is rewritten with every key it had. */
		while ((k = PEM_read_PrivateKey(f, NULL, NULL, NULL)) != NULL) {
			if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC)
				pool_add(&F->ec, &F->n_ec, k);
			else if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA)
				pool_add(&F->rsa, &F->n_rsa, k);
			else
				EVP_PKEY_free(k);
		}
		ERR_clear_error();
		fclose(f);
	}
	while (F->n_ec < want_ec && (k = EVP_EC_gen("P-256")) != NULL &&
	    ++made)
		pool_add(&F->ec, &F->n_ec, k);
	while (F->n_rsa < want_rsa && (k = EVP_RSA_gen(2048)) != NULL &&
	    ++made)
		pool_add(&F->rsa, &F->n_rsa, k);
	if (F->n_ec < want_ec || F->n_rsa < want_rsa)
		return -1;
	F->use_ec = want_ec;
	F->use_rsa = want_rsa;
	if (path == NULL || made == 0)
		return 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "fleet: cannot write %s (the pool stays in "
		    "memory)\n", path);
		return 0;
	}
	for (i = 0; i < F->n_ec; i++)
		PEM_write_PrivateKey(f, F->ec[i], NULL, NULL, 0, NULL, NULL);
	for (i = 0; i < F->n_rsa; i++)
		PEM_write_PrivateKey(f, F->rsa[i], NULL, NULL, 0, NULL, NULL);
	fclose(f);
	return 0;
}

/* ---- requests --------------------------------------------------------- */

static int
csr_body(struct device *d, X509_REQ *csr, int base64)
{
	unsigned char *der = NULL;
	struct pkid_buf b64;
	int n;

	if ((n = i2d_X509_REQ(csr, &der)) <= 0)
		return -1;
	pkid_buf_free(&d->req.body);
	if (base64) {
		if (pkid_base64_encode(der, (size_t)n, 0, &b64, NULL) !=
		    PKID_OK) {
			OPENSSL_free(der);
			return -1;
		}
		d->req.body = b64;
	} else {
		pkid_buf_init(&d->req.body, 1 << 20);
		pkid_buf_append(&d->req.body, der, (size_t)n, NULL);
	}
	OPENSSL_free(der);
	return 0;
}

/* The request of d's current op, signed and (SCEP) enveloped. */
static int
device_prepare(struct device *d)
{
	struct fleet *F = d->F;
	struct pkid_est_csr_spec spec;
	struct pkid_buf msg;
	X509_REQ *csr = NULL;
	X509_NAME *nm = NULL;
	unsigned char *der = NULL;
	char cn[128];
	int n, rc = -1;

	pkid_buf_free(&d->req.body);	/* the last op's */
	memset(&d->req, 0, sizeof(d->req));
	d->tries = 0;
	snprintf(cn, sizeof(cn), "fleet-%ld-%d.%s", (long)getpid(), d->idx,
	    F->a.domain);
	if (!d->scep) {
		d->req.post = 1;
		snprintf(d->req.content_type, sizeof(d->req.content_type),
		    "application/pkcs10");
		memset(&spec, 0, sizeof(spec));
		if (d->op == OP_EST_ENROLL) {
			nm = X509_NAME_new();
			X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
			    (unsigned char *)cn, -1, -1, 0);
			spec.subject = nm;
			snprintf(d->req.authorization,
			    sizeof(d->req.authorization), "%s", F->basic);
			snprintf(d->req.uri, sizeof(d->req.uri),
			    "/.well-known/est/simpleenroll");
		} else {
			/* RFC 7030 4.2.2: the subject of the certificate. */
			spec.subject = X509_get_subject_name(d->cert);
			snprintf(d->req.uri, sizeof(d->req.uri),
			    "/.well-known/est/simplereenroll");
		}
		if (pkid_est_csr_build(d->key, &spec, NULL, 0, &csr, NULL) ==
		    PKID_OK && csr_body(d, csr, 1) == 0)
			rc = 0;
		goto out;
	}
	d->req.post = 1;
	snprintf(d->req.content_type, sizeof(d->req.content_type),
	    "application/x-pki-message");
	snprintf(d->req.uri, sizeof(d->req.uri), "%s?operation=PKIOperation",
	    F->a.scep_path);
	X509_free(d->signer);
	d->signer = NULL;
	if (d->op == OP_SCEP_ENROLL) {
		char subj[160];

		snprintf(subj, sizeof(subj), "CN=%s", cn);
		if (pkid_scep_csr_build(d->key, subj, NULL, 0, F->a.challenge,
		    EVP_sha256(), &csr, NULL) != PKID_OK ||
		    pkid_scep_selfsigned(d->key, X509_REQ_get_subject_name(csr),
		    EVP_sha256(), &d->signer, NULL) != PKID_OK ||
		    pkid_scep_txn_init(&d->txn, PKID_SCEP_PKCSREQ, d->signer,
		    d->key, F->ra, &F->algs, NULL) != PKID_OK)
			goto out;
	} else if (pkid_scep_csr_renewal(d->cert, d->key, NULL, EVP_sha256(),
	    &csr, NULL) != PKID_OK || pkid_scep_txn_init(&d->txn,
	    PKID_SCEP_RENEWALREQ, d->cert, d->key, F->ra, &F->algs, NULL) !=
	    PKID_OK)
		goto out;
	if ((n = i2d_X509_REQ(csr, &der)) > 0 && pkid_scep_txn_message(&d->txn,
	    d->txn.type, der, (size_t)n, &msg, NULL) == PKID_OK) {
		d->req.body = msg;
		rc = 0;
	}
out:
	OPENSSL_free(der);
	X509_NAME_free(nm);
	X509_REQ_free(csr);
	return rc;
}

/* ---- answers ---------------------------------------------------------- */

/* The certificate of sk for d's key, or NULL. */
static X509 *
pick_cert(struct device *d, STACK_OF(X509) *sk)
{
	int i;

	for (i = 0; i < sk_X509_num(sk); i++)
		if (X509_check_private_key(sk_X509_value(sk, i), d->key) == 1)
			return sk_X509_value(sk, i);
	d->F->key_mismatch++;
	return NULL;
}

/* 1 when a is the certificate (into *cert); what gets the label. */
static int
classify(struct device *d, const struct lg_answer *a, X509 **cert,
    char what[64])
{
	STACK_OF(X509) *sk = NULL;
	struct pkid_scep_rep rep;
	struct pkid_err e;
	X509 *c = NULL;

	*cert = NULL;
	pkid_err_clear(&e);
	if (a->status != 200 || a->body == NULL) {
		lg_classify_http(a->status, a->body, a->len, d->idx, NULL,
		    what);
		return 0;
	}
	if (!d->scep) {
		if (pkid_est_certs_parse(a->body, a->len, &sk, &e) != PKID_OK) {
			snprintf(what, 64, "200 %s", pkid_err_id(e.code));
		} else if ((c = pick_cert(d, sk)) == NULL) {
			snprintf(what, 64, "200 not-for-the-key");
		} else {
			snprintf(what, 64, "200");
			X509_up_ref(c);
			*cert = c;
		}
		sk_X509_pop_free(sk, X509_free);
		return *cert != NULL;
	}
	memset(&rep, 0, sizeof(rep));
	if (pkid_scep_rep_check(&d->txn, &d->F->cas, 0, a->body, a->len, &rep,
	    &e) != PKID_OK) {
		snprintf(what, 64, "200 %s", pkid_err_id(e.code));
	} else if (rep.status == PKID_SCEP_SUCCESS) {
		if ((c = pick_cert(d, rep.certs)) == NULL) {
			snprintf(what, 64, "SUCCESS not-for-the-key");
		} else {
			snprintf(what, 64, "SUCCESS");
			X509_up_ref(c);
			*cert = c;
		}
	} else if (rep.status == PKID_SCEP_FAILURE) {
		snprintf(what, 64, "FAILURE %s",
		    pkid_err_id(pkid_scep_fail_code(rep.fail_info)));
	} else {
		/* This fleet does not poll (CertPoll). */
		snprintf(what, 64, "PENDING");
	}
	pkid_scep_rep_free(&rep);
	return *cert != NULL;
}

static void
end_run(struct fleet *F)
{
	int i;

	F->t_end = lg_now_us();
	if (F->sampler != NULL)
		event_del(F->sampler);
	if (F->limit != NULL)
		event_del(F->limit);
	for (i = 0; i < F->n; i++)
		if (F->dev[i].timer != NULL)
			event_del(F->dev[i].timer);
	/* Nothing left: event_base_dispatch returns once the last
	 * connections are freed. */
}

static void
device_finish(struct device *d, int state)
{
	struct fleet *F = d->F;

	d->state = state;
	if (--F->left == 0)
		end_run(F);
}

static void
renewal_day(struct fleet *F)
{
	struct timeval tv;
	uint64_t off;
	int i, k = 0, m = 0;

	for (i = 0; i < F->n; i++)
		if (F->dev[i].state == D_RENEW_DAY)
			m++;
	for (i = 0; i < F->n; i++) {
		struct device *d = &F->dev[i];

		if (d->state != D_RENEW_DAY)
			continue;
		/* Signed now, before the window: the window measures the
		 * server, not this client's RSA. */
		if (device_prepare(d) != 0) {
			device_finish(d, D_FAILED);
			continue;
		}
		d->state = D_WAIT;
		off = m > 0 ? (uint64_t)F->a.over_s * 1000000u *
		    (uint64_t)k++ / (uint64_t)m : 0;
		tv.tv_sec = (time_t)(off / 1000000u);
		tv.tv_usec = (suseconds_t)(off % 1000000u);
		evtimer_add(d->timer, &tv);
	}
}

static void
enroll_phase_done(struct fleet *F)
{
	if (F->arrival == ARR_RENEWAL_DAY && --F->phase1_left == 0 &&
	    !F->stopping)
		renewal_day(F);
}

static void
device_answer(const struct lg_answer *a, void *arg)
{
	struct device *d = arg;
	struct fleet *F = d->F;
	struct opstat *s = &F->st[d->op];
	char what[64], label[96];
	struct timeval tv;
	X509 *cert;
	long ms;
	int ok, enroll = d->op == OP_EST_ENROLL || d->op == OP_SCEP_ENROLL;

	d->call = NULL;
	ok = classify(d, a, &cert, what);
	snprintf(label, sizeof(label), "%s %s", op_name[d->op], what);
	lg_tally(F->out, &F->n_out, LG_MAX_OUTCOMES, label);
	if (ok) {
		uint64_t now = lg_now_us();

		s->lat_us[s->ok++] = (uint32_t)(now - d->t0 < UINT32_MAX ?
		    now - d->t0 : UINT32_MAX);
		s->last_us = now;
		pkid_x509_serial_hex(X509_get0_serialNumber(cert),
		    F->serials[F->n_serials++], sizeof(F->serials[0]));
		X509_free(d->cert);
		d->cert = cert;
		if (!enroll || F->a.no_renew) {
			if (enroll)
				enroll_phase_done(F);
			device_finish(d, D_DONE);
			return;
		}
		d->op++;	/* the renewal of the same protocol */
		if (F->arrival == ARR_RENEWAL_DAY) {
			d->state = D_RENEW_DAY;
			enroll_phase_done(F);
			return;
		}
		if (device_prepare(d) != 0) {
			device_finish(d, D_FAILED);
			return;
		}
		device_go(d);
		return;
	}
	/* Busy, pending or no answer: again later, a bounded number of
	 * times (RFC 9110 10.2.3; jitter keeps a fleet from returning as
	 * one). */
	if ((a->status == 0 || a->status == 503 || a->status == 429 ||
	    a->status == 408 || a->status == 202) && d->tries <=
	    F->a.retries && !F->stopping) {
		ms = a->retry_after >= 0 ? a->retry_after * 1000L :
		    1000L << (d->tries - 1 < 5 ? d->tries - 1 : 5);
		if (ms < 100)
			ms = 100;
		ms += (long)((unsigned long)random() % (unsigned long)(ms / 2 +
		    1));
		s->retries++;
		d->state = D_WAIT;
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		evtimer_add(d->timer, &tv);
		return;
	}
	s->failed++;
	if (enroll)
		enroll_phase_done(F);
	device_finish(d, D_FAILED);
}

static void
device_go(struct device *d)
{
	struct fleet *F = d->F;
	struct opstat *s = &F->st[d->op];
	SSL *ssl = NULL;
	uint64_t now = lg_now_us();

	if (d->tries++ == 0)
		d->t0 = now;
	if (s->first_us == 0)
		s->first_us = now;
	s->attempts++;
	d->state = D_BUSY;
	if (!d->scep) {
		ssl = SSL_new(F->ctx);
		/* The renewal authenticates with the certificate it renews
		 * (RFC 7030 3.3.2). */
		if (d->op == OP_EST_RENEW && (SSL_use_certificate(ssl,
		    d->cert) != 1 || SSL_use_PrivateKey(ssl, d->key) != 1)) {
			SSL_free(ssl);
			s->failed++;
			device_finish(d, D_FAILED);
			return;
		}
	}
	d->call = lg_call_start(F->base, (int)(d->scep ? F->a.scep_port :
	    F->a.est_port), d->scep ? "127.0.0.1" : F->a.host, ssl, &d->req,
	    (int)F->a.timeout_s, 0, device_answer, d);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	device_go(arg);
}

/* ---- the server, from /proc ------------------------------------------ */

static void
sample(struct fleet *F)
{
	long rss, fds;

	if (F->a.pid <= 0)
		return;
	rss = lg_proc_rss_kib(F->a.pid);
	fds = lg_proc_fds(F->a.pid);
	if (rss > F->rss_peak)
		F->rss_peak = rss;
	if (fds > F->fds_peak)
		F->fds_peak = fds;
}

static void
sample_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sample(arg);
}

static void
limit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fleet *F = arg;
	int i;

	(void)fd;
	(void)what;
	F->stopping = 1;
	for (i = 0; i < F->n; i++) {
		struct device *d = &F->dev[i];

		if (d->state == D_DONE || d->state == D_FAILED ||
		    d->state == D_UNFINISHED)
			continue;
		lg_call_free(d->call);
		d->call = NULL;
		d->state = D_UNFINISHED;
		F->unfinished++;
	}
	F->left = 0;
	end_run(F);
}

/* RSS after the load: sampled every 0.5 s for up to settle s, until it
 * stops falling. */
static void
settle(struct fleet *F, long *rss, long *fds)
{
	long last = -1, now;
	int i;

	*rss = *fds = -1;
	if (F->a.pid <= 0)
		return;
	for (i = 0; i <= 2 * F->a.settle_s; i++) {
		now = lg_proc_rss_kib(F->a.pid);
		if (i > 2 && last >= 0 && now >= last)
			break;
		last = now;
		if (i < 2 * F->a.settle_s)
			usleep(500000);
	}
	*rss = last;
	*fds = lg_proc_fds(F->a.pid);
}

/* ---- report ----------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int
unique_serials(struct fleet *F)
{
	int i, u = 0;

	qsort(F->serials, (size_t)F->n_serials, sizeof(F->serials[0]),
	    cmp_str);
	for (i = 0; i < F->n_serials; i++)
		if (i == 0 || strcmp(F->serials[i], F->serials[i - 1]) != 0)
			u++;
	return u;
}

static double
op_rate(const struct opstat *s)
{
	double sec = (double)(s->last_us - s->first_us) / 1e6;

	return s->ok > 0 && sec > 0 ? s->ok / sec : 0;
}

static void
report(struct fleet *F)
{
	double sec = (double)(F->t_end - F->t0) / 1e6;
	int i, ok = 0, failed = 0, attempts = 0, done = 0, uniq;

	uniq = unique_serials(F);
	for (i = 0; i < F->n; i++)
		done += F->dev[i].state == D_DONE;
	for (i = 0; i < OP_N; i++) {
		struct opstat *s = &F->st[i];

		lg_sort_u32(s->lat_us, (size_t)s->ok);
		ok += s->ok;
		failed += s->failed;
		attempts += s->attempts;
	}
	if (F->a.json) {
		printf("{\"mode\":\"fleet\",\"devices\":%d,\"proto\":\"%s\","
		    "\"arrival\":\"%s\",\"over_s\":%lld,\"renew\":%s,"
		    "\"seconds\":%.3f,\"devices_done\":%d,\"unfinished\":%d,"
		    "\"ok\":%d,\"failed\":%d,\"attempts\":%d,"
		    "\"per_second\":%.1f,\"unique_serials\":%d,"
		    "\"key_mismatch\":%d,\"ops\":{", F->n, F->a.proto,
		    arr_name[F->arrival], (long long)F->a.over_s,
		    F->a.no_renew ? "false" : "true", sec, done, F->unfinished,
		    ok, failed, attempts, sec > 0 ? ok / sec : 0, uniq,
		    F->key_mismatch);
		for (i = 0; i < OP_N; i++) {
			struct opstat *s = &F->st[i];

			printf("%s\"%s\":{\"ok\":%d,\"failed\":%d,"
			    "\"attempts\":%d,\"retries\":%d,"
			    "\"per_second\":%.1f,"
			    "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}",
			    i ? "," : "", op_name[i], s->ok, s->failed,
			    s->attempts, s->retries, op_rate(s),
			    lg_quantile(s->lat_us, (size_t)s->ok, 0.5) / 1e3,
			    lg_quantile(s->lat_us, (size_t)s->ok, 0.99) / 1e3,
			    lg_quantile(s->lat_us, (size_t)s->ok, 1) / 1e3);
		}
		printf("},\"outcomes\":{");
		for (i = 0; i < F->n_out; i++)
			printf("%s\"%s\":%d", i ? "," : "", F->out[i].what,
			    F->out[i].n);
		printf("},\"server\":{\"pid\":%lld,\"rss_before_kib\":%ld,"
		    "\"rss_peak_kib\":%ld,\"rss_after_kib\":%ld,"
		    "\"fds_before\":%ld,\"fds_peak\":%ld,\"fds_after\":%ld,"
		    "\"conns_peak\":%ld,\"cpu_s\":%.3f,"
		    "\"per_server_cpu_s\":%.1f}}\n", (long long)F->a.pid,
		    F->rss_before, F->rss_peak, F->rss_after, F->fds_before,
		    F->fds_peak, F->fds_after, F->fds_peak - F->fds_before,
		    F->cpu, F->cpu > 0 ? ok / F->cpu : 0);
		return;
	}
	printf("fleet: %d devices (%s), arrival %s", F->n, F->a.proto,
	    arr_name[F->arrival]);
	if (F->arrival != ARR_BURST)
		printf(" over %lld s", (long long)F->a.over_s);
	printf(", %.1f s: %d devices done, %d failed, %d unfinished\n", sec,
	    done, F->n - done - F->unfinished, F->unfinished);
	printf("%-12s %6s %6s %8s %7s %8s %8s %8s %8s\n", "operation", "ok",
	    "failed", "attempts", "retries", "per s", "p50 ms", "p99 ms",
	    "max ms");
	for (i = 0; i < OP_N; i++) {
		struct opstat *s = &F->st[i];

		if (s->attempts == 0)
			continue;
		printf("%-12s %6d %6d %8d %7d %8.1f %8.1f %8.1f %8.1f\n",
		    op_name[i], s->ok, s->failed, s->attempts, s->retries,
		    op_rate(s),
		    lg_quantile(s->lat_us, (size_t)s->ok, 0.5) / 1e3,
		    lg_quantile(s->lat_us, (size_t)s->ok, 0.99) / 1e3,
		    lg_quantile(s->lat_us, (size_t)s->ok, 1) / 1e3);
	}
	printf("all: %d certificates (%d unique serials) in %.1f s, %.1f "
	    "enrollments/s", ok, uniq, sec, sec > 0 ? ok / sec : 0);
	if (F->cpu > 0)
		printf(", %.0f per server CPU-second", ok / F->cpu);
	printf("\noutcomes:");
	for (i = 0; i < F->n_out; i++)
		printf("%s %s: %d", i ? "," : "", F->out[i].what, F->out[i].n);
	printf("\n");
	if (F->a.pid > 0)
		printf("pkid: RSS %.1f MiB before, %.1f peak, %.1f after; "
		    "descriptors %ld before, %ld peak (%ld connections), %ld "
		    "after\n", F->rss_before / 1024.0, F->rss_peak / 1024.0,
		    F->rss_after / 1024.0, F->fds_before, F->fds_peak,
		    F->fds_peak - F->fds_before, F->fds_after);
}

/* ---- --idle: connections held open ------------------------------------ */

struct idle_conn {
	struct fleet *F;		/* owner */
	struct lg_call *call;		/* kept open (NULL: none) */
	int state;			/* 0 opening, 1 open, 2 gone */
};

static void idle_open_more(struct fleet *F);

static void
idle_close_all(struct fleet *F)
{
	int i;

	for (i = 0; i < F->idle_started; i++) {
		lg_call_free(F->idle[i].call);
		F->idle[i].call = NULL;
	}
	if (F->sampler != NULL)
		event_del(F->sampler);
	if (F->limit != NULL)
		event_del(F->limit);
	if (F->hold != NULL)
		event_del(F->hold);
	if (F->refresh != NULL)
		event_del(F->refresh);
}

/* After the hold: RSS with every connection idle, then close them. */
static void
idle_hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fleet *F = arg;

	(void)fd;
	(void)what;
	if (!F->with_taken) {
		/* One second after the last answer: the with figure. */
		F->with_taken = 1;
		sample(F);
		F->rss_with = lg_proc_rss_kib(F->a.pid);
		F->fds_with = lg_proc_fds(F->a.pid);
		if (F->a.hold_s > 0) {
			struct timeval tv = { (time_t)F->a.hold_s, 0 };

			evtimer_add(F->hold, &tv);
			return;
		}
	}
	sample(F);
	F->rss_held = lg_proc_rss_kib(F->a.pid);
	F->fds_held = lg_proc_fds(F->a.pid);
	idle_close_all(F);
}

static void
idle_answer(const struct lg_answer *a, void *arg)
{
	struct idle_conn *ic = arg;
	struct fleet *F = ic->F;
	char what[64];

	if (a->status == 0)
		ic->call = NULL;	/* loadgen frees it */
	if (ic->state != 0) {
		/* A --refresh answer. */
		if (a->status != 200 && ic->state == 1) {
			ic->state = 2;
			F->idle_lost++;
		}
		return;
	}
	lg_classify_http(a->status, a->body, a->len, 0, NULL, what);
	lg_tally(F->out, &F->n_out, LG_MAX_OUTCOMES, what);
	ic->state = a->status == 200 ? 1 : 2;
	if (a->status == 200)
		F->idle_open++;
	else
		F->idle_failed++;
	if (F->idle_open + F->idle_failed == (int)F->a.idle) {
		struct timeval tv = { 1, 0 };

		F->t_end = lg_now_us();
		evtimer_add(F->hold, &tv);
		return;
	}
	idle_open_more(F);
}

static void
idle_open_more(struct fleet *F)
{
	while (F->idle_started < (int)F->a.idle && F->idle_started -
	    F->idle_open - F->idle_failed < (int)F->a.conc) {
		struct idle_conn *ic = &F->idle[F->idle_started++];

		ic->F = F;
		ic->call = lg_call_start(F->base, (int)F->a.est_port,
		    F->a.host, SSL_new(F->ctx), &F->idle_req,
		    (int)F->a.timeout_s, 1, idle_answer, ic);
	}
}

/* Once a second: one request on every --refresh'th open connection,
 * so each is used once per --refresh seconds (pkid closes a kept-alive
 * connection after PKID_HTTP_TIMEOUT_S idle). */
static void
idle_refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fleet *F = arg;
	int i;

	(void)fd;
	(void)what;
	F->tick++;
	for (i = (int)(F->tick % F->a.refresh_s); i < F->idle_started;
	    i += (int)F->a.refresh_s) {
		struct idle_conn *ic = &F->idle[i];

		if (ic->state == 1 && lg_call_again(ic->call, F->a.host,
		    &F->idle_req) < 0) {
			ic->state = 2;
			F->idle_lost++;
		}
	}
}

static void
idle_limit_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	((struct fleet *)arg)->stopping = 1;
	idle_close_all(arg);
}

static int
run_idle(struct fleet *F)
{
	struct timeval tv = { 0, 200000 };
	double sec, per;
	long conns;
	int i;

	if (F->a.pid <= 0) {
		fprintf(stderr, "fleet: --idle measures pkid: give --pid\n");
		return -1;
	}
	if (lg_nofile((long)F->a.idle + 64, "fleet") != 0)
		return -1;
	if ((F->idle = calloc((size_t)F->a.idle, sizeof(*F->idle))) == NULL)
		return -1;
	snprintf(F->idle_req.uri, sizeof(F->idle_req.uri), "%s",
	    F->a.idle_path);
	F->base = event_base_new();
	F->hold = evtimer_new(F->base, idle_hold_cb, F);
	F->sampler = event_new(F->base, -1, EV_PERSIST, sample_cb, F);
	F->limit = evtimer_new(F->base, idle_limit_cb, F);
	F->rss_before = F->rss_peak = lg_proc_rss_kib(F->a.pid);
	F->fds_before = F->fds_peak = lg_proc_fds(F->a.pid);
	event_add(F->sampler, &tv);
	if (F->a.refresh_s > 0) {
		F->refresh = event_new(F->base, -1, EV_PERSIST,
		    idle_refresh_cb, F);
		tv.tv_sec = 1;
		tv.tv_usec = 0;
		event_add(F->refresh, &tv);
	}
	tv.tv_sec = (time_t)F->a.limit_s;
	tv.tv_usec = 0;
	evtimer_add(F->limit, &tv);
	F->t0 = lg_now_us();
	idle_open_more(F);
	event_base_dispatch(F->base);
	settle(F, &F->rss_after, &F->fds_after);
	sec = (double)(F->t_end - F->t0) / 1e6;
	/* What pkid holds at the "with" sample: its descriptors beyond the
	 * ones it had before (listeners, store, log) are the connections. */
	conns = F->fds_with - F->fds_before;
	per = conns > 0 ? (double)(F->rss_with - F->rss_before) /
	    (double)conns : 0;
	if (F->a.json) {
		printf("{\"mode\":\"idle\",\"connections\":%lld,\"open\":%d,"
		    "\"failed\":%d,\"lost\":%d,\"stopped\":%s,"
		    "\"seconds_to_open\":%.3f,\"hold_s\":%lld,"
		    "\"refresh_s\":%lld,\"outcomes\":{", (long long)F->a.idle,
		    F->idle_open, F->idle_failed, F->idle_lost, F->stopping ?
		    "true" : "false", sec, (long long)F->a.hold_s,
		    (long long)F->a.refresh_s);
		for (i = 0; i < F->n_out; i++)
			printf("%s\"%s\":%d", i ? "," : "", F->out[i].what,
			    F->out[i].n);
		printf("},\"server\":{\"pid\":%lld,\"rss_before_kib\":%ld,"
		    "\"rss_with_kib\":%ld,\"rss_held_kib\":%ld,"
		    "\"rss_peak_kib\":%ld,\"rss_after_kib\":%ld,"
		    "\"conns_with\":%ld,\"per_conn_kib\":%.1f,"
		    "\"fds_before\":%ld,\"fds_with\":%ld,\"fds_held\":%ld,"
		    "\"fds_after\":%ld}}\n", (long long)F->a.pid, F->rss_before,
		    F->rss_with, F->rss_held, F->rss_peak, F->rss_after, conns,
		    per, F->fds_before, F->fds_with, F->fds_held,
		    F->fds_after);
	} else {
		printf("idle: %d of %lld TLS connections opened (%d failed) in "
		    "%.1f s, held %lld s, %d closed by the server meanwhile\n",
		    F->idle_open, (long long)F->a.idle, F->idle_failed, sec,
		    (long long)F->a.hold_s, F->idle_lost);
		printf("pkid: RSS %.1f MiB before, %.1f MiB with %ld open "
		    "(%.1f KiB each), %.1f MiB after the hold, %.1f MiB peak, "
		    "%.1f MiB after closing; descriptors %ld, %ld, %ld, %ld\n",
		    F->rss_before / 1024.0, F->rss_with / 1024.0, conns, per,
		    F->rss_held / 1024.0, F->rss_peak / 1024.0,
		    F->rss_after / 1024.0, F->fds_before, F->fds_with,
		    F->fds_held, F->fds_after);
	}
	return F->idle_open == (int)F->a.idle && F->idle_lost == 0 &&
	    !F->stopping ? 0 : 1;
}

/* ---- main ------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
"usage: fleet --devices N [--proto est|scep|mixed]\n"
"             [--arrival burst|uniform|renewal-day] [--over SECONDS]\n"
"             [--no-renew] [--retries R] [--time-limit S] [--timeout S]\n"
"             [--est-port P --cacert ROOT.pem --user U --password PW\n"
"              [--host localhost]]\n"
"             [--scep-port P --ra RA.pem --challenge C [--scep-path /scep]]\n"
"             [--keys K] [--key-pool FILE] [--domain example.com]\n"
"             [--pid PKID_PID] [--settle S] [--json]\n"
"       fleet --idle N --est-port P --cacert ROOT.pem [--idle-path /healthz]\n"
"             [--concurrency C] [--hold S] [--refresh S] [--pid PKID_PID]\n"
"             [--json]\n");
}

static int
num(const char *v, int64_t lo, int64_t hi, int64_t *out, const char *opt)
{
	if (v == NULL || pkid_parse_int(v, lo, hi, out, NULL) != PKID_OK) {
		fprintf(stderr, "fleet: %s wants a number from %lld to %lld\n",
		    opt, (long long)lo, (long long)hi);
		return -1;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->devices = 100;
	a->keys = 64;
	a->retries = 8;
	a->limit_s = 600;
	a->timeout_s = 30;
	a->hold_s = 5;
	a->conc = 256;
	a->settle_s = 10;
	a->arrival = "burst";
	a->host = "localhost";
	a->scep_path = "/scep";
	a->domain = "example.com";
	a->idle_path = "/healthz";
	for (i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int r = 0;

		if (strcmp(k, "--json") == 0) {
			a->json = 1;
			continue;
		}
		if (strcmp(k, "--no-renew") == 0) {
			a->no_renew = 1;
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, "fleet: %s wants a value\n", k);
			return -1;
		}
		i++;
		if (strcmp(k, "--devices") == 0)
			r = num(v, 1, 1000000, &a->devices, k);
		else if (strcmp(k, "--est-port") == 0)
			r = num(v, 1, 65535, &a->est_port, k);
		else if (strcmp(k, "--scep-port") == 0)
			r = num(v, 1, 65535, &a->scep_port, k);
		else if (strcmp(k, "--keys") == 0)
			r = num(v, 1, 4096, &a->keys, k);
		else if (strcmp(k, "--retries") == 0)
			r = num(v, 0, 100, &a->retries, k);
		else if (strcmp(k, "--time-limit") == 0)
			r = num(v, 1, 86400, &a->limit_s, k);
		else if (strcmp(k, "--timeout") == 0)
			r = num(v, 1, 3600, &a->timeout_s, k);
		else if (strcmp(k, "--over") == 0)
			r = num(v, 0, 86400, &a->over_s, k);
		else if (strcmp(k, "--pid") == 0)
			r = num(v, 1, INT32_MAX, &a->pid, k);
		else if (strcmp(k, "--idle") == 0)
			r = num(v, 1, 1000000, &a->idle, k);
		else if (strcmp(k, "--hold") == 0)
			r = num(v, 0, 86400, &a->hold_s, k);
		else if (strcmp(k, "--concurrency") == 0)
			r = num(v, 1, 100000, &a->conc, k);
		else if (strcmp(k, "--refresh") == 0)
			r = num(v, 1, 3600, &a->refresh_s, k);
		else if (strcmp(k, "--settle") == 0)
			r = num(v, 0, 600, &a->settle_s, k);
		else if (strcmp(k, "--proto") == 0)
			a->proto = v;
		else if (strcmp(k, "--arrival") == 0)
			a->arrival = v;
		else if (strcmp(k, "--cacert") == 0)
			a->cacert = v;
		else if (strcmp(k, "--user") == 0)
			a->user = v;
		else if (strcmp(k, "--password") == 0)
			a->password = v;
		else if (strcmp(k, "--host") == 0)
			a->host = v;
		else if (strcmp(k, "--ra") == 0)
			a->ra = v;
		else if (strcmp(k, "--challenge") == 0)
			a->challenge = v;
		else if (strcmp(k, "--scep-path") == 0)
			a->scep_path = v;
		else if (strcmp(k, "--key-pool") == 0)
			a->pool = v;
		else if (strcmp(k, "--domain") == 0)
			a->domain = v;
		else if (strcmp(k, "--idle-path") == 0)
			a->idle_path = v;
		else {
			fprintf(stderr, "fleet: unknown option %s\n", k);
			return -1;
		}
		if (r != 0)
			return -1;
	}
	if (a->proto == NULL)
		a->proto = a->est_port && a->scep_port ? "mixed" :
		    a->scep_port ? "scep" : "est";
	if (strcmp(a->proto, "est") != 0 && strcmp(a->proto, "scep") != 0 &&
	    strcmp(a->proto, "mixed") != 0) {
		fprintf(stderr, "fleet: --proto is est, scep or mixed\n");
		return -1;
	}
	if ((a->idle || strcmp(a->proto, "scep") != 0) && (a->est_port == 0 ||
	    a->cacert == NULL)) {
		fprintf(stderr, "fleet: EST needs --est-port and --cacert\n");
		return -1;
	}
	if (!a->idle && strcmp(a->proto, "scep") != 0 && a->user == NULL) {
		fprintf(stderr, "fleet: EST enrollment needs --user and "
		    "--password\n");
		return -1;
	}
	if (!a->idle && strcmp(a->proto, "est") != 0 && (a->scep_port == 0 ||
	    a->ra == NULL || a->challenge == NULL)) {
		fprintf(stderr, "fleet: SCEP needs --scep-port, --ra and "
		    "--challenge\n");
		return -1;
	}
	return 0;
}

static int
setup(struct fleet *F)
{
	const struct args *a = &F->a;
	struct pkid_buf cred;
	X509 *ra = NULL;
	char up[512];

	if (a->est_port) {
		F->ctx = SSL_CTX_new(TLS_client_method());
		if (F->ctx == NULL || SSL_CTX_load_verify_locations(F->ctx,
		    a->cacert, NULL) != 1) {
			fprintf(stderr, "fleet: cannot read %s\n", a->cacert);
			return -1;
		}
		SSL_CTX_set_verify(F->ctx, SSL_VERIFY_PEER, NULL);
	}
	if (a->user != NULL) {
		snprintf(up, sizeof(up), "%s:%s", a->user, a->password != NULL ?
		    a->password : "");
		if (pkid_base64_encode((uint8_t *)up, strlen(up), 0, &cred,
		    NULL) != PKID_OK)
			return -1;
		snprintf(F->basic, sizeof(F->basic), "Basic %s",
		    (char *)cred.p);
		pkid_buf_free(&cred);
	}
	pkid_scep_cas_init(&F->cas);
	if (a->ra != NULL) {
		if (pkid_x509_load_cert_file(a->ra, &ra, NULL) != PKID_OK) {
			fprintf(stderr, "fleet: cannot read %s\n", a->ra);
			return -1;
		}
		/* The RA both receives the envelope and signs the CertRep. */
		F->cas.certs = sk_X509_new_null();
		sk_X509_push(F->cas.certs, ra);
		F->cas.ra = F->cas.ca = F->ra = ra;
	}
	F->algs.md = EVP_sha256();
	F->algs.cipher = EVP_aes_256_cbc();
	return 0;
}

static int
run_fleet(struct fleet *F)
{
	struct timeval tv;
	int i, est = strcmp(F->a.proto, "scep") != 0;
	int scep = strcmp(F->a.proto, "est") != 0;
	int64_t ops = F->a.no_renew ? 1 : 2;

	F->n = (int)F->a.devices;
	if (strcmp(F->a.arrival, "burst") == 0)
		F->arrival = ARR_BURST;
	else if (strcmp(F->a.arrival, "uniform") == 0)
		F->arrival = ARR_UNIFORM;
	else if (strcmp(F->a.arrival, "renewal-day") == 0 && !F->a.no_renew)
		F->arrival = ARR_RENEWAL_DAY;
	else {
		fprintf(stderr, "fleet: --arrival is burst, uniform or "
		    "renewal-day (which renews)\n");
		return -1;
	}
	if (lg_nofile((long)F->n + 64, "fleet") != 0)
		return -1;
	if (pool_load(F, est ? (int)F->a.keys : 0, scep ? (int)F->a.keys :
	    0) != 0) {
		fprintf(stderr, "fleet: cannot make the key pool\n");
		return -1;
	}
	F->dev = calloc((size_t)F->n, sizeof(*F->dev));
	F->serials = calloc((size_t)(F->n * ops), sizeof(F->serials[0]));
	for (i = 0; i < OP_N; i++)
		F->st[i].lat_us = calloc((size_t)F->n, sizeof(uint32_t));
	if (F->dev == NULL || F->serials == NULL || F->st[OP_N - 1].lat_us ==
	    NULL)
		return -1;
	F->base = event_base_new();
	for (i = 0; i < F->n; i++) {
		struct device *d = &F->dev[i];

		d->F = F;
		d->idx = i;
		d->scep = strcmp(F->a.proto, "mixed") == 0 ? i % 2 : scep;
		d->op = d->scep ? OP_SCEP_ENROLL : OP_EST_ENROLL;
		d->key = d->scep ? F->rsa[(i / 2) % F->use_rsa] :
		    F->ec[(i / 2) % F->use_ec];
		if ((d->timer = evtimer_new(F->base, timer_cb, d)) == NULL ||
		    device_prepare(d) != 0) {
			fprintf(stderr, "fleet: cannot build device %d's "
			    "request\n", i);
			return -1;
		}
	}
	F->left = F->phase1_left = F->n;
	if (F->a.pid > 0) {
		F->rss_before = F->rss_peak = lg_proc_rss_kib(F->a.pid);
		F->fds_before = F->fds_peak = lg_proc_fds(F->a.pid);
		F->cpu0 = lg_proc_cpu(F->a.pid);
		F->sampler = event_new(F->base, -1, EV_PERSIST, sample_cb, F);
		tv.tv_sec = 0;
		tv.tv_usec = 200000;
		event_add(F->sampler, &tv);
	}
	F->limit = evtimer_new(F->base, limit_cb, F);
	tv.tv_sec = (time_t)F->a.limit_s;
	tv.tv_usec = 0;
	evtimer_add(F->limit, &tv);
	F->t0 = lg_now_us();
	for (i = 0; i < F->n; i++) {
		uint64_t off = F->arrival == ARR_UNIFORM ?
		    (uint64_t)F->a.over_s * 1000000u * (uint64_t)i /
		    (uint64_t)F->n : 0;

		tv.tv_sec = (time_t)(off / 1000000u);
		tv.tv_usec = (suseconds_t)(off % 1000000u);
		evtimer_add(F->dev[i].timer, &tv);
	}
	event_base_dispatch(F->base);
	if (F->t_end == 0)
		F->t_end = lg_now_us();
	if (F->a.pid > 0) {
		sample(F);
		F->cpu = lg_proc_cpu(F->a.pid) - F->cpu0;
		settle(F, &F->rss_after, &F->fds_after);
	}
	report(F);
	return 0;
}

static void
cleanup(struct fleet *F)
{
	int i;

	for (i = 0; F->dev != NULL && i < F->n; i++) {
		struct device *d = &F->dev[i];

		lg_call_free(d->call);
		if (d->timer != NULL)
			event_free(d->timer);
		pkid_buf_free(&d->req.body);
		X509_free(d->cert);
		X509_free(d->signer);
	}
	free(F->dev);
	free(F->serials);
	for (i = 0; i < OP_N; i++)
		free(F->st[i].lat_us);
	for (i = 0; i < F->n_ec; i++)
		EVP_PKEY_free(F->ec[i]);
	for (i = 0; i < F->n_rsa; i++)
		EVP_PKEY_free(F->rsa[i]);
	free(F->ec);
	free(F->rsa);
	for (i = 0; F->idle != NULL && i < F->idle_started; i++)
		lg_call_free(F->idle[i].call);
	free(F->idle);
	if (F->sampler != NULL)
		event_free(F->sampler);
	if (F->limit != NULL)
		event_free(F->limit);
	if (F->hold != NULL)
		event_free(F->hold);
	if (F->refresh != NULL)
		event_free(F->refresh);
	pkid_scep_cas_free(&F->cas);
	SSL_CTX_free(F->ctx);
	if (F->base != NULL)
		event_base_free(F->base);
}

int
main(int argc, char **argv)
{
	static struct fleet F;
	int rc;

	if (parse_args(argc, argv, &F.a) != 0) {
		usage();
		return 2;
	}
	srandom((unsigned)getpid() ^ (unsigned)lg_now_us());
	if (setup(&F) != 0)
		return 1;
	rc = F.a.idle ? run_idle(&F) : run_fleet(&F);
	if (rc == 0 && !F.a.idle) {
		/* 0 only when every device has all its certificates. */
		int i, done = 0;

		for (i = 0; i < F.n; i++)
			done += F.dev[i].state == D_DONE;
		rc = done == F.n ? 0 : 1;
	} else if (rc != 0) {
		rc = 1;
	}
	cleanup(&F);
	return rc;
}
