/*
 * certsrv.c - an RA upstream that is Microsoft AD CS web enrollment
 * (upstream = certsrv+https://HOST/certsrv).
 *
 * The RA talks to IIS as a browser using the web enrollment pages does,
 * as the maintained Python client (github.com/magnuswatn/certsrv) does:
 *   login   GET  /certsrv/                      200, or 401 (account)
 *   submit  POST /certsrv/certfnsh.asp          Mode=newreq, CertRequest
 *           (PEM PKCS#10), CertAttrib=CertificateTemplate:NAME,
 *           TargetStoreFlags=0, SaveCert=yes; the page answers with a
 *           link certnew.cer?ReqID=N& (issued), "Certificate Pending" and
 *           "Your Request Id is N." (held for approval), or 'The
 *           disposition message is "..."' (denied)
 *   fetch   GET  /certsrv/certnew.cer?ReqID=N&Enc=b64   the certificate
 *           (application/pkix-cert), certnew.p7b?ReqID=N&Enc=b64 its
 *           chain; a page instead of a certificate: still pending or
 *           denied ("Disposition message:")
 *   CA      GET  /certsrv/certcarc.asp ("var nRenewals=N;"), then
 *           certnew.cer?ReqID=CACert&Renewal=N&Enc=b64
 *
 * HTTP is libcurl's (Basic, NTLM, timeouts, error codes), run on the
 * thread that handles the device's request, as ra.c's EST forward is:
 * each phase is bounded by upstream_timeout. A request AD CS holds for
 * approval is remembered here (by the SHA-256 of the request's public
 * key, PKID_CERTSRV_MAX_PENDING per label, in memory and in a state file
 * in the CA directory, pkid_certsrv_state, so a restart keeps them), so
 * the device's next try (EST: the same CSR after Retry-After; SCEP:
 * CertPoll, which sends the kept CSR again) fetches it by request id.
 *
 * TLS failures are told apart with a verify callback on curl's SSL_CTX
 * that records the first verify error, the certificate it was about and
 * the server's leaf: the missing issuer, the names the leaf carries, its
 * notBefore against this clock.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/limits.h"
#include "core/log.h"
#include "est/certsrv.h"
#include "x509/load.h"

struct pending {
	uint8_t key[32];	/* SHA-256 of the request's public key */
	long reqid;		/* its certsrv request id */
};

struct pkid_certsrv {
	const struct pkid_est_label *cfg;
	char base[1024];	/* https://HOST[:PORT]/PATH */
	char host[256];		/* HOST, for name checks */
	char password[256];
	char state[1200];	/* file keeping pending, "" none */
	pthread_mutex_t mu;	/* guards below */
	int npending;
	struct pending pending[PKID_CERTSRV_MAX_PENDING];
};

/* What the TLS verify callback saw. */
struct vrec {
	int err;		/* first X509_V_ERR, 0 none */
	char subject[256];	/* the certificate it was about */
	char issuer[256];	/* its issuer */
	X509 *leaf;		/* the server's certificate (ours) */
};

/* One upstream session: a curl handle and its connection. */
struct sess {
	CURL *h;
	const char *trust;
	const char *host;
	const char *base;
	const char *authname;	/* basic | ntlm */
	struct vrec v;
	struct pkid_buf body;
	char ctype[128];
	char auth[128];		/* WWW-Authenticate schemes offered */
	char errbuf[CURL_ERROR_SIZE];
	long status;
	int used;		/* a request completed on it */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int vrec_idx = -1;

static void
curl_setup(void)
{
	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
	vrec_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* ---- page parsing --------------------------------------------------- */

/* The first occurrence of needle (NUL-terminated) in len bytes at p. */
static const char *
find(const char *p, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0 || len < n)
		return NULL;
	return memmem(p, len, needle, n);
}

/* Digits at p (at most end), as a request id; 0 when none. */
static long
digits(const char *p, const char *end)
{
	long v = 0;
	int n = 0;

	while (p < end && *p >= '0' && *p <= '9' && n < 9) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	return n > 0 && (p == end || *p < '0' || *p > '9') ? v : 0;
}

/* Copy the message at p up to a stop character into out, printable. */
static void
message(const char *p, const char *end, const char *stop, char *out,
    size_t n)
{
	size_t i = 0;

	while (p < end && strchr(stop, *p) == NULL && i + 1 < n) {
		out[i++] = isprint((unsigned char)*p) ? *p : ' ';
		p++;
	}
	while (i > 0 && out[i - 1] == ' ')
		i--;
	out[i] = '\0';
}

/* Is the disposition message about the template? */
static int
template_msg(const char *m)
{
	return strstr(m, "0x80094800") != NULL ||
	    strstr(m, "0x80094801") != NULL ||
	    strstr(m, "0x80094012") != NULL ||
	    strcasestr(m, "certificate template") != NULL;
}

void
pkid_certsrv_parse_submit(const char *page, size_t len,
    struct certsrv_answer *a)
{
	static const char issued[] = "certnew.cer?ReqID=";
	static const char pend[] = "Your Request Id is ";
	static const char disp[] = "The disposition message is \"";
	const char *end, *p;

	memset(a, 0, sizeof(*a));
	a->disp = CERTSRV_UNKNOWN;
	if (len > PKID_CERTSRV_MAX_BODY)
		len = PKID_CERTSRV_MAX_BODY;
	end = page + len;
	if ((p = find(page, len, issued)) != NULL &&
	    (a->reqid = digits(p + sizeof(issued) - 1, end)) > 0) {
		a->disp = CERTSRV_ISSUED;
		return;
	}
	if (find(page, len, "Certificate Pending") != NULL &&
	    (p = find(page, len, pend)) != NULL &&
	    (a->reqid = digits(p + sizeof(pend) - 1, end)) > 0) {
		a->disp = CERTSRV_PENDING;
		return;
	}
	a->reqid = 0;
	if ((p = find(page, len, disp)) != NULL) {
		message(p + sizeof(disp) - 1, end, "\"\r\n<", a->msg,
		    sizeof(a->msg));
		a->disp = CERTSRV_DENIED;
		a->template = template_msg(a->msg);
	}
}

/* ---- HTTP ----------------------------------------------------------- */

static int
verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct vrec *v = ssl != NULL ? SSL_CTX_get_ex_data(
	    SSL_get_SSL_CTX(ssl), vrec_idx) : NULL;
	X509 *c = X509_STORE_CTX_get_current_cert(x);

	if (v == NULL || c == NULL)
		return ok;
	if (X509_STORE_CTX_get_error_depth(x) == 0 && v->leaf == NULL &&
	    X509_up_ref(c) == 1)
		v->leaf = c;
	if (!ok && v->err == 0) {
		v->err = X509_STORE_CTX_get_error(x);
		X509_NAME_oneline(X509_get_subject_name(c), v->subject,
		    sizeof(v->subject));
		X509_NAME_oneline(X509_get_issuer_name(c), v->issuer,
		    sizeof(v->issuer));
	}
	return ok;
}

static CURLcode
sslctx_cb(CURL *h, void *ctx, void *arg)
{
	SSL_CTX *c = ctx;

	if (SSL_CTX_set_ex_data(c, vrec_idx, arg) != 1)
		return CURLE_SSL_CERTPROBLEM;
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, verify_cb);
	return CURLE_OK;
}

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct sess *s = arg;
	struct pkid_err e;

	if (pkid_buf_append(&s->body, p, size * n, &e) != PKID_OK)
		return 0;	/* too large: curl fails the transfer */
	return size * n;
}

/* WWW-Authenticate schemes, for a 401's message. */
static size_t
header_cb(char *p, size_t size, size_t n, void *arg)
{
	static const char wa[] = "WWW-Authenticate:";
	struct sess *s = arg;
	size_t len = size * n, l, k;
	char scheme[32];

	if (len > sizeof(wa) && strncasecmp(p, wa, sizeof(wa) - 1) == 0) {
		p += sizeof(wa) - 1;
		len -= sizeof(wa) - 1;
		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		for (k = 0; k < len && k + 1 < sizeof(scheme) &&
		    isalnum((unsigned char)p[k]); k++)
			scheme[k] = p[k];
		scheme[k] = '\0';
		l = strlen(s->auth);
		if (k > 0 && strstr(s->auth, scheme) == NULL)
			snprintf(s->auth + l, sizeof(s->auth) - l, "%s%s",
			    l > 0 ? ", " : "", scheme);
	}
	return size * n;
}

static enum pkid_code
sess_open(struct sess *s, const char *base, const char *host,
    const char *trust, const char *user, const char *password, int ntlm,
    int timeout_s, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;

	pthread_once(&curl_once, curl_setup);
	memset(s, 0, sizeof(*s));
	pkid_buf_init(&s->body, PKID_CERTSRV_MAX_BODY);
	s->trust = trust;
	s->host = host;
	s->base = base;
	s->authname = ntlm ? "ntlm" : "basic";
	PKID_OSSL_PTR(s->h = curl_easy_init(), PKID_E_NOMEM, "no memory");
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(s->h, CURLOPT_CAINFO, trust);
	curl_easy_setopt(s->h, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(s->h, CURLOPT_SSL_CTX_FUNCTION, sslctx_cb);
	curl_easy_setopt(s->h, CURLOPT_SSL_CTX_DATA, &s->v);
	curl_easy_setopt(s->h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT, (long)timeout_s);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT, (long)timeout_s);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(s->h, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->errbuf);
	/* certsrv answers a browser with the right Content-Type. */
	curl_easy_setopt(s->h, CURLOPT_USERAGENT, "Mozilla/5.0 (pkid RA)");
	curl_easy_setopt(s->h, CURLOPT_HTTPAUTH, ntlm ? CURLAUTH_NTLM :
	    CURLAUTH_BASIC);
	curl_easy_setopt(s->h, CURLOPT_USERNAME, user);
	curl_easy_setopt(s->h, CURLOPT_PASSWORD, password);
	rc = PKID_OK;
out:
	return rc;
}

static void
sess_close(struct sess *s)
{
	if (s->h != NULL)
		curl_easy_cleanup(s->h);
	X509_free(s->v.leaf);
	pkid_buf_free(&s->body);
	memset(s, 0, sizeof(*s));
}

/* The names the server's certificate carries, for a mismatch. */
static void
leaf_names(X509 *leaf, char *out, size_t n)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	size_t l = 0;
	int i;
	char ip[64];
	const unsigned char *a;

	out[0] = '\0';
	if (leaf == NULL)
		return;
	gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && l + 1 < n; i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS)
			snprintf(out + l, n - l, "%sDNS:%.*s", l ? ", " : "",
			    ASN1_STRING_length(g->d.dNSName),
			    (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		else if (g->type == GEN_IPADD &&
		    ASN1_STRING_length(g->d.iPAddress) == 4) {
			a = ASN1_STRING_get0_data(g->d.iPAddress);
			snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a[0], a[1],
			    a[2], a[3]);
			snprintf(out + l, n - l, "%sIP:%s", l ? ", " : "", ip);
		} else
			continue;
		l = strlen(out);
	}
	GENERAL_NAMES_free(gens);
	if (l == 0)
		snprintf(out, n, "no subjectAltName; subject %s",
		    X509_NAME_oneline(X509_get_subject_name(leaf), ip,
		    sizeof(ip)));
}

/* The code and message for a TLS verification failure. */
static enum pkid_code
tls_fail(struct sess *s, const char *phase, struct pkid_err *e)
{
	char names[512], nb[64];
	const ASN1_TIME *t;
	struct tm tm;

	if (s->v.err == X509_V_ERR_CERT_NOT_YET_VALID ||
	    s->v.err == X509_V_ERR_CERT_HAS_EXPIRED) {
		t = s->v.leaf != NULL ? (s->v.err ==
		    X509_V_ERR_CERT_NOT_YET_VALID ? X509_get0_notBefore(
		    s->v.leaf) : X509_get0_notAfter(s->v.leaf)) : NULL;
		nb[0] = '\0';
		if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1)
			strftime(nb, sizeof(nb), "%Y-%m-%dT%H:%M:%SZ", &tm);
		return PKID_ERR(e, PKID_E_UPSTREAM_CLOCK, "upstream %s, %s "
		    "phase: the TLS certificate of %s (%s) is %s %s, and "
		    "this machine's clock says %lld (UTC seconds)%s", s->base,
		    phase, s->host, s->v.subject, s->v.err ==
		    X509_V_ERR_CERT_NOT_YET_VALID ? "valid only from" :
		    "expired at", nb, (long long)time(NULL), s->v.err ==
		    X509_V_ERR_CERT_NOT_YET_VALID ? ": this RA's clock is "
		    "behind the certificate's notBefore" : "");
	}
	if (s->v.err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    s->v.err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	    s->v.err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	    s->v.err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
		return PKID_ERR(e, PKID_E_UPSTREAM_UNTRUSTED, "upstream %s, %s "
		    "phase: the TLS chain of %s does not end at an anchor of "
		    "upstream_cacert %s: missing issuer %s (of %s)", s->base,
		    phase, s->host, s->trust, s->v.issuer, s->v.subject);
	if (s->v.err != 0)
		return PKID_ERR(e, PKID_E_UPSTREAM_UNTRUSTED, "upstream %s, %s "
		    "phase: the TLS certificate %s of %s does not verify: %s",
		    s->base, phase, s->v.subject, s->host,
		    X509_verify_cert_error_string(s->v.err));
	leaf_names(s->v.leaf, names, sizeof(names));
	return PKID_ERR(e, PKID_E_UPSTREAM_NAME_MISMATCH, "upstream %s, %s "
	    "phase: its TLS certificate is not valid for the host used, %s; "
	    "it carries %s", s->base, phase, s->host, names);
}

/*
 * One request on s: GET path (relative to base), or POST form. phase
 * names it in messages. PKID_OK with s->status, s->body, s->ctype.
 */
static enum pkid_code
sess_do(struct sess *s, const char *phase, const char *path,
    const char *form, struct pkid_err *e)
{
	char url[2048], *ct = NULL;
	const char *ph = phase;
	curl_off_t tls = 0;
	long nconn = 0;
	CURLcode cc;

	s->body.len = 0;
	s->ctype[0] = s->auth[0] = s->errbuf[0] = '\0';
	snprintf(url, sizeof(url), "%s/%s", s->base, path);
	curl_easy_setopt(s->h, CURLOPT_URL, url);
	if (form != NULL) {
		curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, form);
	} else
		curl_easy_setopt(s->h, CURLOPT_HTTPGET, 1L);
	cc = curl_easy_perform(s->h);
	curl_easy_getinfo(s->h, CURLINFO_NUM_CONNECTS, &nconn);
	curl_easy_getinfo(s->h, CURLINFO_APPCONNECT_TIME_T, &tls);
	/* A new connection that did not finish its handshake failed in the
	 * TLS phase (or before), whichever request it was for. */
	if (cc != CURLE_OK && (nconn > 0 || !s->used) && tls == 0)
		ph = "TLS";
	switch (cc) {
	case CURLE_OK:
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		return PKID_ERR(e, PKID_E_UPSTREAM_DNS, "upstream %s: cannot "
		    "resolve %s: %s", s->base, s->host, s->errbuf);
	case CURLE_COULDNT_CONNECT:
		return PKID_ERR(e, PKID_E_UPSTREAM_REFUSED, "upstream %s: %s",
		    s->base, s->errbuf);
	case CURLE_OPERATION_TIMEDOUT:
		return PKID_ERR(e, PKID_E_UPSTREAM_TIMEOUT, "upstream %s, %s "
		    "phase (%s): no answer within upstream_timeout: %s",
		    s->base, ph, path[0] ? path : "/", s->errbuf);
	case CURLE_PEER_FAILED_VERIFICATION:
		return tls_fail(s, ph, e);
	case CURLE_SSL_CONNECT_ERROR:
		if (s->v.err != 0)
			return tls_fail(s, ph, e);
		return PKID_ERR(e, PKID_E_UPSTREAM_TLS, "upstream %s, TLS "
		    "phase: %s", s->base, s->errbuf);
	case CURLE_WRITE_ERROR:
		return PKID_ERR(e, PKID_E_UPSTREAM_BAD_RESPONSE, "upstream "
		    "%s, %s phase: the answer to %s is larger than %d bytes",
		    s->base, ph, path, PKID_CERTSRV_MAX_BODY);
	default:
		return PKID_ERR(e, PKID_E_UPSTREAM_BAD_RESPONSE, "upstream "
		    "%s, %s phase: %s (curl %d)", s->base, ph, s->errbuf[0] ?
		    s->errbuf : curl_easy_strerror(cc), (int)cc);
	}
	s->used = 1;
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
	if (curl_easy_getinfo(s->h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
	    ct != NULL)
		snprintf(s->ctype, sizeof(s->ctype), "%s", ct);
	if (s->status == 401)
		return PKID_ERR(e, PKID_E_UPSTREAM_LOGIN_FAILED, "upstream %s, "
		    "%s phase: IIS refused the service account with 401 "
		    "(upstream_auth = %s; IIS offers %s)", s->base, phase,
		    s->authname,
		    s->auth[0] ? s->auth : "no scheme");
	if (s->status != 200)
		return PKID_ERR(e, PKID_E_UPSTREAM_BAD_RESPONSE, "upstream %s, "
		    "%s phase: %s answered %ld", s->base, phase,
		    path[0] ? path : "/", s->status);
	return PKID_OK;
}

/* ---- the upstream --------------------------------------------------- */

/* HOST of https://HOST[:PORT]/..., IPv6 without its brackets. */
static void
url_host(const char *url, char *out, size_t n)
{
	const char *a = strstr(url, "://"), *end;

	a = a != NULL ? a + 3 : url;
	if (*a == '[') {
		a++;
		end = strchr(a, ']');
	} else
		end = a + strcspn(a, ":/");
	if (end == NULL)
		end = a + strlen(a);
	snprintf(out, n, "%.*s", (int)(end - a), a);
}

struct pkid_certsrv *
pkid_certsrv_new(const struct pkid_est_label *cfg, struct pkid_err *e)
{
	struct pkid_certsrv *cs = calloc(1, sizeof(*cs));
	struct pkid_buf pw;
	const char *name = cfg->name[0] ? cfg->name : "(default)";
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&pw, 0, sizeof(pw));
	PKID_OSSL_PTR(cs, PKID_E_NOMEM, "no memory");
	pthread_mutex_init(&cs->mu, NULL);
	cs->cfg = cfg;
	PKID_CHECK(strncmp(cfg->upstream, "certsrv+", 8) == 0,
	    PKID_E_CONFIG_BAD_VALUE, "EST label %s: upstream %s is not a "
	    "certsrv+https:// URL", name, cfg->upstream);
	snprintf(cs->base, sizeof(cs->base), "%s", cfg->upstream + 8);
	url_host(cs->base, cs->host, sizeof(cs->host));
	PKID_CHECK(cfg->upstream_template[0] != '\0', PKID_E_CONFIG_BAD_VALUE,
	    "EST label %s has upstream = %s but no upstream_template (the "
	    "AD CS certificate template to enroll with)", name,
	    cfg->upstream);
	PKID_CHECK(cfg->upstream_user[0] != '\0' &&
	    cfg->upstream_password_file[0] != '\0', PKID_E_CONFIG_BAD_VALUE,
	    "EST label %s has upstream = %s but no upstream_user and "
	    "upstream_password_file (the service account that enrolls)",
	    name, cfg->upstream);
	PKID_TRY(pkid_buf_read_file(&pw, cfg->upstream_password_file,
	    sizeof(cs->password) - 1, e));
	snprintf(cs->password, sizeof(cs->password), "%.*s",
	    (int)strcspn((const char *)pw.p, "\r\n"), (const char *)pw.p);
	PKID_CHECK(cs->password[0] != '\0', PKID_E_CONFIG_BAD_VALUE,
	    "EST label %s: upstream_password_file %s holds no password on its "
	    "first line", name, cfg->upstream_password_file);
	pkid_log(PKID_LOG_INFO, "est label %s: AD CS web enrollment at %s, "
	    "template %s, as %s (%s), each phase at most %d s", name,
	    cs->base, cfg->upstream_template, cfg->upstream_user,
	    cfg->upstream_auth == PKID_UPSTREAM_AUTH_NTLM ? "NTLM" : "Basic",
	    cfg->upstream_timeout);
	rc = PKID_OK;
out:
	pkid_buf_free(&pw);
	if (rc != PKID_OK) {
		pkid_certsrv_free(cs);
		cs = NULL;
	}
	return cs;
}

void
pkid_certsrv_free(struct pkid_certsrv *cs)
{
	if (cs == NULL)
		return;
	OPENSSL_cleanse(cs->password, sizeof(cs->password));
	pthread_mutex_destroy(&cs->mu);
	free(cs);
}

static enum pkid_code
open_cs(struct pkid_certsrv *cs, struct sess *s, struct pkid_err *e)
{
	return sess_open(s, cs->base, cs->host, cs->cfg->upstream_cacert,
	    cs->cfg->upstream_user, cs->password, cs->cfg->upstream_auth ==
	    PKID_UPSTREAM_AUTH_NTLM, cs->cfg->upstream_timeout, e);
}

/* The certificates of a b64 (PEM-like) body: certsrv's Enc=b64 wraps a
 * certificate or a PKCS#7 alike in BEGIN CERTIFICATE lines. */
static enum pkid_code
certs_of(const struct pkid_buf *b, STACK_OF(X509) **out, struct pkid_err *e)
{
	struct pkid_buf clean, der;
	const char *p = (const char *)b->p, *end = p + b->len, *nl;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&clean, PKID_CERTSRV_MAX_BODY);
	memset(&der, 0, sizeof(der));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl != NULL ? nl + 1 : end;
		if (*p != '-')
			PKID_TRY(pkid_buf_append(&clean, p, (size_t)(nl - p),
			    e));
		p = nl;
	}
	PKID_TRY(pkid_base64_decode(clean.p != NULL ? (const char *)clean.p :
	    "", clean.len, &der, PKID_CERTSRV_MAX_BODY, e));
	PKID_TRY(pkid_x509_load_certs(der.p, der.len, out, e));
	rc = PKID_OK;
out:
	pkid_buf_free(&clean);
	pkid_buf_free(&der);
	return rc;
}

static int
is_cert(const struct sess *s)
{
	return strncasecmp(s->ctype, "application/pkix-cert", 21) == 0 ||
	    strncasecmp(s->ctype, "application/x-pkcs7-certificates", 32) ==
	    0 || (s->body.len > 11 && memcmp(s->body.p, "-----BEGIN ", 11) ==
	    0);
}

/* The SHA-256 of csr's public key. */
static enum pkid_code
key_id(X509_REQ *csr, uint8_t out[32], struct pkid_err *e)
{
	unsigned char *der = NULL;
	unsigned int n = 32;
	int len;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL((len = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(csr),
	    &der)),
	    PKID_E_CRYPTO, "encoding the request's key");
	PKID_OSSL(EVP_Digest(der, (size_t)len, out, &n, EVP_sha256(), NULL),
	    PKID_E_CRYPTO, "hashing the request's key");
	rc = PKID_OK;
out:
	OPENSSL_free(der);
	return rc;
}

/* Write the pending requests to the state file (cs->mu held). */
static void
save(struct pkid_certsrv *cs)
{
	struct pkid_buf b;
	struct pkid_err e;
	char hex[65];
	int i;
	enum pkid_code rc = PKID_OK;

	if (cs->state[0] == '\0')
		return;
	pkid_buf_init(&b, (size_t)PKID_CERTSRV_MAX_PENDING * 80 + 1);
	pkid_err_clear(&e);
	for (i = 0; rc == PKID_OK && i < cs->npending; i++) {
		pkid_hex(cs->pending[i].key, 32, hex);
		rc = pkid_buf_printf(&b, &e, "%s %ld\n", hex,
		    cs->pending[i].reqid);
	}
	if (rc == PKID_OK)
		rc = pkid_file_write(cs->state, b.p != NULL ? b.p :
		    (const uint8_t *)"", b.len, 0600, &e);
	if (rc != PKID_OK)
		pkid_log_err(PKID_LOG_WARN, &e, "certsrv: keeping the AD CS "
		    "request ids of pending requests across a restart");
	pkid_buf_free(&b);
}

/* One state line "HEX64 REQID" (n bytes at p, no newline) into *out. */
static int
state_line(const char *p, size_t n, struct pending *out)
{
	int i, hi, lo;

	if (n < 66 || n > 64 + 1 + 9 || p[64] != ' ')
		return 0;
	for (i = 0; i < 32; i++) {
		if ((hi = OPENSSL_hexchar2int((unsigned char)p[2 * i])) < 0 ||
		    (lo = OPENSSL_hexchar2int(
		    (unsigned char)p[2 * i + 1])) < 0)
			return 0;
		out->key[i] = (uint8_t)(hi << 4 | lo);
	}
	out->reqid = digits(p + 65, p + n);
	return out->reqid > 0;
}

void
pkid_certsrv_state_parse(struct pkid_certsrv *cs, const char *p, size_t len)
{
	const char *end = p + len, *nl;
	int bad = 0;

	pthread_mutex_lock(&cs->mu);
	cs->npending = 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (cs->npending < PKID_CERTSRV_MAX_PENDING &&
		    state_line(p, (size_t)(nl - p),
		    &cs->pending[cs->npending]))
			cs->npending++;
		else
			bad++;
		p = nl < end ? nl + 1 : end;
	}
	pthread_mutex_unlock(&cs->mu);
	if (bad > 0)
		pkid_log(PKID_LOG_WARN, "certsrv: %d line(s) of %s skipped "
		    "(not 'SHA256HEX REQID', or more than %d)", bad,
		    cs->state[0] ? cs->state : "the state",
		    PKID_CERTSRV_MAX_PENDING);
}

int
pkid_certsrv_npending(struct pkid_certsrv *cs)
{
	int n;

	pthread_mutex_lock(&cs->mu);
	n = cs->npending;
	pthread_mutex_unlock(&cs->mu);
	return n;
}

void
pkid_certsrv_state(struct pkid_certsrv *cs, const char *path)
{
	struct pkid_buf b;
	struct pkid_err e;

	snprintf(cs->state, sizeof(cs->state), "%s", path);
	memset(&b, 0, sizeof(b));
	pkid_err_clear(&e);
	if (pkid_buf_read_file(&b, path, (size_t)PKID_CERTSRV_MAX_PENDING *
	    80, &e) == PKID_OK) {
		pkid_certsrv_state_parse(cs, (const char *)b.p, b.len);
		if (cs->npending > 0)
			pkid_log(PKID_LOG_INFO, "certsrv %s: %d request(s) "
			    "waiting for approval, from %s", cs->base,
			    cs->npending, path);
	} else if (e.code != PKID_E_IO_OPEN)
		pkid_log_err(PKID_LOG_WARN, &e, "certsrv: reading the pending "
		    "requests");
	pkid_buf_free(&b);
}

/* The kept request id for key (0 none); with set, keep or (reqid 0)
 * forget it. */
static long
pending(struct pkid_certsrv *cs, const uint8_t key[32], int set, long reqid)
{
	long found = 0;
	int i;

	pthread_mutex_lock(&cs->mu);
	for (i = 0; i < cs->npending; i++)
		if (memcmp(cs->pending[i].key, key, 32) == 0)
			break;
	if (i < cs->npending)
		found = cs->pending[i].reqid;
	if (set && reqid == 0 && i < cs->npending)
		cs->pending[i] = cs->pending[--cs->npending];
	else if (set && reqid != 0) {
		if (i == cs->npending && cs->npending ==
		    PKID_CERTSRV_MAX_PENDING) {
			/* Full: the oldest is forgotten (its device's next
			 * try submits anew). */
			memmove(&cs->pending[0], &cs->pending[1],
			    sizeof(cs->pending[0]) * (size_t)(--cs->npending));
			i = cs->npending;
		}
		memcpy(cs->pending[i].key, key, 32);
		cs->pending[i].reqid = reqid;
		if (i == cs->npending)
			cs->npending++;
	}
	if (set)
		save(cs);
	pthread_mutex_unlock(&cs->mu);
	return found;
}

/* application/x-www-form-urlencoded value of v appended to b. */
static enum pkid_code
form_add(struct pkid_buf *b, CURL *h, const char *k, const char *v,
    struct pkid_err *e)
{
	char *esc = curl_easy_escape(h, v, 0);
	enum pkid_code rc;

	if (esc == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	rc = pkid_buf_printf(b, e, "%s%s=%s", b->len > 0 ? "&" : "", k, esc);
	curl_free(esc);
	return rc;
}

/* The denial page of certnew.cer: its disposition message. */
static void
fetch_msg(const struct pkid_buf *b, char *out, size_t n)
{
	static const char dm[] = "Disposition message:";
	const char *p = find((const char *)b->p, b->len, dm), *end;

	snprintf(out, n, "no certificate and no disposition message");
	if (p == NULL)
		return;
	end = (const char *)b->p + b->len;
	p += sizeof(dm) - 1;
	/* Skip the markup and white space between label and message. */
	while (p < end && (*p == '<' || isspace((unsigned char)*p))) {
		if (*p == '<')
			while (p < end && *p != '>')
				p++;
		if (p < end)
			p++;
	}
	message(p, end, "<\r\n", out, n);
}

/* Fetch the certificate of reqid (and its chain) into *certs; NULL while
 * it is still pending. */
static enum pkid_code
fetch(struct pkid_certsrv *cs, struct sess *s, long reqid,
    STACK_OF(X509) **certs, struct pkid_err *e)
{
	STACK_OF(X509) *leaf = NULL, *chain = NULL;
	struct pkid_err ce;
	char path[64], msg[256];
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	*certs = NULL;
	snprintf(path, sizeof(path), "certnew.cer?ReqID=%ld&Enc=b64", reqid);
	PKID_TRY(sess_do(s, "fetch", path, NULL, e));
	if (!is_cert(s)) {
		fetch_msg(&s->body, msg, sizeof(msg));
		if (strcasestr(msg, "pending") != NULL ||
		    strcasestr(msg, "Under Submission") != NULL) {
			rc = PKID_OK;
			goto out;
		}
		PKID_CHECK(0, template_msg(msg) ? PKID_E_UPSTREAM_TEMPLATE :
		    PKID_E_UPSTREAM_DENIED, "upstream %s: request %ld "
		    "(template %s): the CA says: %s", cs->base, reqid,
		    cs->cfg->upstream_template, msg);
	}
	if (certs_of(&s->body, &leaf, e) != PKID_OK) {
		pkid_err_clear(e);
		PKID_CHECK(0, PKID_E_UPSTREAM_BAD_RESPONSE, "upstream %s, "
		    "fetch phase: certnew.cer?ReqID=%ld holds no certificate "
		    "(%s)", cs->base, reqid, s->ctype);
	}
	/* The chain: the issuing CA's certificates after the leaf. */
	pkid_err_clear(&ce);
	snprintf(path, sizeof(path), "certnew.p7b?ReqID=%ld&Enc=b64", reqid);
	if (sess_do(s, "fetch", path, NULL, &ce) == PKID_OK &&
	    certs_of(&s->body, &chain, &ce) == PKID_OK) {
		for (i = 0; i < sk_X509_num(chain); i++)
			if (X509_cmp(sk_X509_value(chain, i),
			    sk_X509_value(leaf, 0)) != 0 && X509_up_ref(
			    sk_X509_value(chain, i)) == 1 &&
			    sk_X509_push(leaf, sk_X509_value(chain, i)) <= 0)
				X509_free(sk_X509_value(chain, i));
	} else
		pkid_log_err(PKID_LOG_WARN, &ce, "certsrv: no chain for a "
		    "request, the certificate alone goes to the device");
	*certs = leaf;
	leaf = NULL;
	rc = PKID_OK;
out:
	sk_X509_pop_free(leaf, X509_free);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

enum pkid_code
pkid_certsrv_enroll(struct pkid_certsrv *cs, X509_REQ *csr,
    STACK_OF(X509) **certs, struct pkid_err *e)
{
	struct sess s;
	struct certsrv_answer a;
	struct pkid_buf form;
	uint8_t key[32];
	char attr[160], *pem = NULL;
	long reqid;
	BIO *bio = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	*certs = NULL;
	memset(&s, 0, sizeof(s));
	pkid_buf_init(&form, 4 * PKID_CERTSRV_MAX_BODY);
	PKID_TRY(key_id(csr, key, e));
	PKID_TRY(open_cs(cs, &s, e));
	PKID_TRY(sess_do(&s, "login", "", NULL, e));
	if ((reqid = pending(cs, key, 0, 0)) > 0) {
		if ((rc = fetch(cs, &s, reqid, certs, e)) != PKID_OK) {
			/* Denied by the CA manager: forgotten, so a request
			 * for the key after the fix is submitted anew. */
			if (e->code == PKID_E_UPSTREAM_DENIED ||
			    e->code == PKID_E_UPSTREAM_TEMPLATE)
				(void)pending(cs, key, 1, 0);
			goto out;
		}
		if (*certs != NULL) {
			(void)pending(cs, key, 1, 0);
			pkid_log(PKID_LOG_INFO, "certsrv %s: request %ld "
			    "issued after approval", cs->base, reqid);
		}
		rc = PKID_OK;
		goto out;
	}
	PKID_OSSL_PTR(bio = BIO_new(BIO_s_mem()), PKID_E_NOMEM, "no memory");
	PKID_OSSL(PEM_write_bio_X509_REQ(bio, csr), PKID_E_CRYPTO,
	    "encoding the request");
	PKID_OSSL(BIO_write(bio, "", 1), PKID_E_NOMEM, "no memory");
	PKID_OSSL(BIO_get_mem_data(bio, &pem), PKID_E_CRYPTO,
	    "encoding the request");
	snprintf(attr, sizeof(attr), "CertificateTemplate:%s",
	    cs->cfg->upstream_template);
	PKID_TRY(form_add(&form, s.h, "Mode", "newreq", e));
	PKID_TRY(form_add(&form, s.h, "CertRequest", pem, e));
	PKID_TRY(form_add(&form, s.h, "CertAttrib", attr, e));
	PKID_TRY(form_add(&form, s.h, "TargetStoreFlags", "0", e));
	PKID_TRY(form_add(&form, s.h, "SaveCert", "yes", e));
	PKID_TRY(sess_do(&s, "submit", "certfnsh.asp", (const char *)form.p,
	    e));
	pkid_certsrv_parse_submit((const char *)s.body.p, s.body.len, &a);
	switch (a.disp) {
	case CERTSRV_ISSUED:
		PKID_TRY(fetch(cs, &s, a.reqid, certs, e));
		PKID_CHECK(*certs != NULL, PKID_E_UPSTREAM_BAD_RESPONSE,
		    "upstream %s: request %ld was issued, then certnew.cer "
		    "said it is pending", cs->base, a.reqid);
		pkid_log(PKID_LOG_INFO, "certsrv %s: request %ld issued "
		    "(template %s)", cs->base, a.reqid,
		    cs->cfg->upstream_template);
		break;
	case CERTSRV_PENDING:
		(void)pending(cs, key, 1, a.reqid);
		pkid_log(PKID_LOG_INFO, "certsrv %s: request %ld (template "
		    "%s) waits for a CA manager's approval", cs->base, a.reqid,
		    cs->cfg->upstream_template);
		break;
	case CERTSRV_DENIED:
		PKID_CHECK(0, a.template ? PKID_E_UPSTREAM_TEMPLATE :
		    PKID_E_UPSTREAM_DENIED, "upstream %s denied the request "
		    "(template %s); the CA says: %s", cs->base,
		    cs->cfg->upstream_template, a.msg);
		break;
	default:
		PKID_CHECK(0, PKID_E_UPSTREAM_BAD_RESPONSE, "upstream %s, "
		    "submit phase: certfnsh.asp answered a page without a "
		    "request id, 'Certificate Pending' or a disposition "
		    "message (%zu bytes)", cs->base, s.body.len);
	}
	rc = PKID_OK;
out:
	BIO_free(bio);
	pkid_buf_free(&form);
	sess_close(&s);
	return rc;
}

enum pkid_code
pkid_certsrv_cacerts(struct pkid_certsrv *cs, STACK_OF(X509) **out,
    struct pkid_err *e)
{
	static const char nr[] = "var nRenewals=";
	struct sess s;
	const char *p;
	char path[80];
	long renewals = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	PKID_TRY(open_cs(cs, &s, e));
	PKID_TRY(sess_do(&s, "login", "certcarc.asp", NULL, e));
	if ((p = find((const char *)s.body.p, s.body.len, nr)) != NULL)
		renewals = digits(p + sizeof(nr) - 1,
		    (const char *)s.body.p + s.body.len);
	snprintf(path, sizeof(path), "certnew.cer?ReqID=CACert&Renewal=%ld&"
	    "Enc=b64", renewals);
	PKID_TRY(sess_do(&s, "fetch", path, NULL, e));
	if (certs_of(&s.body, out, e) != PKID_OK) {
		pkid_err_clear(e);
		PKID_CHECK(0, PKID_E_UPSTREAM_BAD_RESPONSE, "upstream %s, "
		    "fetch phase: %s holds no certificate (%s)", cs->base,
		    path, s.ctype);
	}
	rc = PKID_OK;
out:
	sess_close(&s);
	return rc;
}

enum pkid_code
pkid_certsrv_probe(const char *url, const char *trust, const char *user,
    const char *password, int ntlm, int timeout_s, const char *template,
    const char **phase, struct pkid_err *e)
{
	struct sess s;
	char base[1024], host[256];
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&s, 0, sizeof(s));
	snprintf(base, sizeof(base), "%s", strncmp(url, "certsrv+", 8) == 0 ?
	    url + 8 : url);
	while (base[0] != '\0' && base[strlen(base) - 1] == '/')
		base[strlen(base) - 1] = '\0';
	url_host(base, host, sizeof(host));
	*phase = "TLS";
	PKID_TRY(sess_open(&s, base, host, trust, user, password, ntlm,
	    timeout_s, e));
	*phase = "login";
	rc = sess_do(&s, "login", "", NULL, e);
	if (rc != PKID_OK && (e->code == PKID_E_UPSTREAM_DNS ||
	    e->code == PKID_E_UPSTREAM_REFUSED || s.v.err != 0 ||
	    e->code == PKID_E_UPSTREAM_NAME_MISMATCH ||
	    e->code == PKID_E_UPSTREAM_TLS))
		*phase = e->code == PKID_E_UPSTREAM_DNS ? "DNS" :
		    e->code == PKID_E_UPSTREAM_REFUSED ? "TCP" : "TLS";
	else if (rc != PKID_OK && e->code == PKID_E_UPSTREAM_TIMEOUT &&
	    strstr(e->detail, "TLS phase") != NULL)
		*phase = "TLS";
	(void)template;
out:
	sess_close(&s);
	return rc;
}
