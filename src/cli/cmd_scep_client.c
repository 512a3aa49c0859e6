/*
 * cmd_scep_client.c - the SCEP client commands (RFC 8894):
 *   pkictl enroll scep ..., pkictl renew scep ...,
 *   pkictl scep getcaps|getca|getnextca --server URL (or URL alone).
 * --server names the server as enroll est does; --url is its alias.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "scep/client.h"
#include "scep/msg.h"
#include "x509/load.h"

static const char usage_enroll[] =
    "pkictl enroll scep --server URL --challenge PW (--key FILE | --new-key "
    "rsa-2048)\n"
    "    --subject DN [--san TYPE:value ...] --out FILE [--key-out FILE]\n"
    "    (--cacert FILE | --ca-fingerprint SHA256 | --insecure-tofu)\n"
    "    [--ca NAME] [--compat]\n"
    "    [--poll-interval 10s] [--max-wait 1h] [--timeout 30s]\n"
    "pkictl renew scep --server URL --cert FILE --key FILE --out FILE\n"
    "    [--cacert FILE | --ca-fingerprint SHA256 | --insecure-tofu]\n"
    "    [--new-key rsa-2048 --key-out FILE] [--challenge PW] [--compat]\n"
    "  SCEP's GetCACert comes over plain HTTP, unsigned: the CA and RA\n"
    "  certificates must chain to --cacert FILE (the CA certificate from\n"
    "  a trusted channel) or to the certificate of the answer with\n"
    "  --ca-fingerprint (SHA-256); renew, without either, to the CA that\n"
    "  issued --cert. --insecure-tofu takes whatever the server sends and\n"
    "  prints the fingerprint to pin next time.\n"
    "  --url is another name for --server.\n"
    "  --compat allows DES3, SHA-1 and single DES for old servers\n"
    "  (micromdm/scep, IOS); --new-key writes the key (mode 0600) to\n"
    "  --key-out, by default the --out path with .key\n";

static const char usage_get[] =
    "pkictl scep getcaps|getca|getnextca --server URL [--ca NAME] "
    "[--out FILE] [--compat]\n"
    "    [--cacert FILE | --ca-fingerprint SHA256 | --insecure-tofu]\n"
    "  getca prints the certificates with their SHA-256 fingerprints to\n"
    "  compare out of band; with --out it writes a file to be trusted,\n"
    "  so it needs --cacert or --ca-fingerprint (checked as for enroll)\n"
    "  or --insecure-tofu. getnextca checks the answer's signature with\n"
    "  the current CA or RA certificate (pinned the same way when given).\n"
    "  The URL may also come alone, without --server; --url is an alias.\n";

/* The options of enroll and renew. */
struct sc_opts {
	struct pkid_scep_client_cfg cfg; /* url, ca_name, compat, times */
	const char *challenge;		/* --challenge */
	const char *key;		/* --key */
	const char *new_key;		/* --new-key */
	const char *key_out;		/* --key-out */
	const char *subject;		/* --subject */
	const char *sans[PKID_MAX_SAN_COUNT]; /* --san, repeated */
	size_t nsans;			/* how many */
	const char *cert;		/* --cert (renew) */
	const char *out;		/* --out */
	const char *cacert;		/* --cacert */
	STACK_OF(X509) *trust;		/* its certificates (owned) */
	char key_out_buf[1024];		/* default --key-out */
};

static void
on_progress(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "scep: %s\n", msg);
}

static int
seconds(const char *opt, const char *v, int *out)
{
	int64_t s;

	if (pkid_duration_parse(v, &s, NULL) != PKID_OK || s <= 0 ||
	    s > 7 * 86400) {
		/* A bare number means seconds. */
		if (pkid_parse_int(v, 1, 7 * 86400, &s, NULL) != PKID_OK)
			return pkictl_usage_err(usage_enroll, "%s takes a "
			    "duration such as 10s, 5m or 1h, not '%s'", opt,
			    v);
	}
	*out = (int)s;
	return 0;
}

static const struct option sc_lo[] = {
	{ "server", required_argument, NULL, 'u' },
	{ "url", required_argument, NULL, 'u' },	/* alias */
	{ "ca", required_argument, NULL, 'A' },
	{ "challenge", required_argument, NULL, 'c' },
	{ "key", required_argument, NULL, 'k' },
	{ "new-key", required_argument, NULL, 'n' },
	{ "key-out", required_argument, NULL, 'K' },
	{ "subject", required_argument, NULL, 's' },
	{ "san", required_argument, NULL, 'S' },
	{ "compat", no_argument, NULL, 'C' },
	{ "cert", required_argument, NULL, 'x' },
	{ "out", required_argument, NULL, 'o' },
	{ "ca-fingerprint", required_argument, NULL, 'f' },
	{ "cacert", required_argument, NULL, 'a' },
	{ "insecure-tofu", no_argument, NULL, 'T' },
	{ "poll-interval", required_argument, NULL, 'p' },
	{ "max-wait", required_argument, NULL, 'w' },
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

/* One option into o; nonzero (the exit status) on a bad value. */
static int
sc_opt(int c, struct sc_opts *o)
{
	switch (c) {
	case 'u':
		if (o->cfg.url != NULL)
			return pkictl_usage_err(usage_enroll, "give the "
			    "server once (--server, or its alias --url)");
		o->cfg.url = optarg;
		return 0;
	case 'A': o->cfg.ca_name = optarg; return 0;
	case 'c': o->challenge = optarg; return 0;
	case 'k': o->key = optarg; return 0;
	case 'n': o->new_key = optarg; return 0;
	case 'K': o->key_out = optarg; return 0;
	case 's': o->subject = optarg; return 0;
	case 'C': o->cfg.compat = 1; return 0;
	case 'x': o->cert = optarg; return 0;
	case 'o': o->out = optarg; return 0;
	case 'f': o->cfg.fingerprint = optarg; return 0;
	case 'a': o->cacert = optarg; return 0;
	case 'T': o->cfg.tofu = 1; return 0;
	case 'p': return seconds("--poll-interval", optarg,
	    &o->cfg.poll_interval_s);
	case 'w': return seconds("--max-wait", optarg, &o->cfg.max_wait_s);
	case 't': return seconds("--timeout", optarg, &o->cfg.timeout_s);
	case 'S':
		if (o->nsans >= PKID_MAX_SAN_COUNT)
			return pkictl_usage_err(usage_enroll, "at most %d "
			    "--san", PKID_MAX_SAN_COUNT);
		o->sans[o->nsans++] = optarg;
		return 0;
	default:
		return -1;
	}
}

/* The pin options: 0, or the exit status of a refusal, before any
 * connection. renew falls back on the issuer of --cert. */
static int
sc_pin_check(const struct sc_opts *o, int renew, const char *usage)
{
	struct pkid_err e;
	int pins = (o->cacert != NULL) + (o->cfg.fingerprint != NULL);

	if (pins > 1)
		return pkictl_usage_err(usage, "give --cacert or "
		    "--ca-fingerprint, not both");
	if (pins > 0 && o->cfg.tofu)
		return pkictl_usage_err(usage, "--insecure-tofu is for when "
		    "neither --cacert nor --ca-fingerprint is at hand");
	if (pins > 0 || o->cfg.tofu || renew)
		return 0;
	pkid_err_clear(&e);
	PKID_ERR(&e, PKID_E_TRUST_NOT_PINNED, "SCEP's GetCACert comes over "
	    "plain HTTP, unsigned (RFC 8894 4.2): give --cacert FILE or "
	    "--ca-fingerprint SHA256 (or --insecure-tofu to take what the "
	    "server sends, this once)");
	return pkictl_print_err(&e, 0);
}

/* Parse and check the options of enroll (renew == 0) or renew: 0, an
 * exit status, or -1 when --help was answered. */
static int
sc_parse(int argc, char **argv, int renew, struct sc_opts *o)
{
	const char *dot;
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->cfg.progress = on_progress;
	for (c = 1; c < argc; c++)
		if (strcmp(argv[c], "--help") == 0 ||
		    strcmp(argv[c], "-h") == 0) {
			fputs(usage_enroll, stdout);
			return -1;
		}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", sc_lo, NULL)) != -1)
		if ((rc = sc_opt(c, o)) != 0)
			return rc > 0 ? rc : pkictl_usage_err(usage_enroll,
			    "unknown or incomplete option '%s'",
			    argv[optind - 1]);
	if (optind < argc)
		return pkictl_usage_err(usage_enroll, "unexpected '%s'",
		    argv[optind]);
	if (o->cfg.url == NULL || o->out == NULL)
		return pkictl_usage_err(usage_enroll, "--server and --out are "
		    "required");
	if (renew && (o->cert == NULL || o->key == NULL))
		return pkictl_usage_err(usage_enroll, "renew needs --cert and "
		    "--key (the current certificate and its key)");
	if (!renew && (o->challenge == NULL || o->subject == NULL ||
	    (o->key == NULL) == (o->new_key == NULL)))
		return pkictl_usage_err(usage_enroll, "enroll needs "
		    "--challenge, --subject and one of --key or --new-key");
	/* RFC 8894 3.3.2: the CertRep is enveloped to the requester's
	 * certificate with PKCS#7 key transport, which needs RSA. */
	if (o->new_key != NULL && strncmp(o->new_key, "rsa-", 4) != 0)
		return pkictl_usage_err(usage_enroll, "--new-key %s: SCEP "
		    "encrypts the issued certificate to the requester's key "
		    "with RSA key transport (RFC 8894 3.3.2); use rsa-2048",
		    o->new_key);
	if (o->new_key != NULL && o->key_out == NULL) {
		dot = strrchr(o->out, '.');
		snprintf(o->key_out_buf, sizeof(o->key_out_buf), "%.*s.key",
		    dot != NULL && strchr(dot, '/') == NULL ?
		    (int)(dot - o->out) : (int)strlen(o->out), o->out);
		o->key_out = o->key_out_buf;
	}
	return sc_pin_check(o, renew, usage_enroll);
}

/* The key: --key FILE, or a new one (--new-key TYPE). */
static enum pkid_code
sc_key(const struct sc_opts *o, int renew, EVP_PKEY **key,
    struct pkid_err *e)
{
	if (o->new_key != NULL)
		return pkid_key_generate(o->new_key, key, e);
	if (renew)
		return PKID_OK;	/* the current key: the caller's */
	if (pkid_x509_load_key_file(o->key, key, e) != PKID_OK)
		return e->code;
	if (EVP_PKEY_get_base_id(*key) != EVP_PKEY_RSA)
		return PKID_ERR(e, PKID_E_USAGE, "%s is not an RSA key: SCEP "
		    "encrypts the issued certificate to the requester's key "
		    "with RSA key transport (RFC 8894 3.3.2)", o->key);
	return PKID_OK;
}

/* --insecure-tofu: what was taken, and how to pin it, in one line. */
static void
sc_tofu_note(const struct pkid_scep_client *c)
{
	char fp[65], name[256];

	pkid_x509_fingerprint(c->cas.ca, fp);
	fprintf(stderr, "pkictl: warning: --insecure-tofu: CA %s of %s taken "
	    "unchecked; pin it next time with --ca-fingerprint %s\n",
	    pkid_x509_name_text(X509_get_subject_name(c->cas.ca), name,
	    sizeof(name)), c->cfg.url, fp);
}

/* Caps, then the CA certificates checked against the pin. */
static enum pkid_code
sc_prepare(struct pkid_scep_client *c, struct pkid_err *e)
{
	if (pkid_scep_client_caps(c, NULL, e) != PKID_OK ||
	    pkid_scep_client_trust(c, e) != PKID_OK)
		return e->code;
	if (c->anchors == NULL)
		sc_tofu_note(c);
	return PKID_OK;
}

/* --cacert into o->trust and o->cfg.trust. */
static enum pkid_code
sc_load_trust(struct sc_opts *o, struct pkid_err *e)
{
	if (o->cacert == NULL)
		return PKID_OK;
	if (pkid_x509_load_certs_file(o->cacert, &o->trust, e) != PKID_OK)
		return e->code;
	o->cfg.trust = o->trust;
	return PKID_OK;
}

/* Write the certificate (and a new key, 0600) and say so. */
static enum pkid_code
sc_write(const struct sc_opts *o, X509 *cert, EVP_PKEY *new_key,
    struct pkid_err *e)
{
	struct pkid_buf pem;
	char serial[80], subj[256], until[32];
	struct tm tm;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&pem, PKID_MAX_FILE_SIZE);
	if (new_key != NULL) {
		PKID_TRY(pkid_x509_key_pem(new_key, &pem, e));
		PKID_TRY(pkid_file_write(o->key_out, pem.p, pem.len, 0600, e));
		pkid_buf_free(&pem);
		pkid_buf_init(&pem, PKID_MAX_FILE_SIZE);
	}
	PKID_TRY(pkid_x509_cert_pem(cert, &pem, e));
	PKID_TRY(pkid_file_write(o->out, pem.p, pem.len, 0644, e));
	snprintf(until, sizeof(until), "?");
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1)
		pkid_time_fmt(timegm(&tm), until, sizeof(until));
	printf("enrolled: %s serial %s, valid until %s: %s%s%s\n",
	    pkid_x509_name_text(X509_get_subject_name(cert), subj,
	    sizeof(subj)), pkid_x509_serial_hex(X509_get0_serialNumber(cert),
	    serial, sizeof(serial)), until, o->out, new_key != NULL ?
	    ", key " : "", new_key != NULL ? o->key_out : "");
	rc = PKID_OK;
out:
	pkid_buf_free(&pem);
	return rc;
}

/*
 * After the server issued, enrolling failed: the error, then the
 * certificate (and a key made here) kept under an orphan name. verified:
 * it passed the checks and only writing it failed.
 */
static void
sc_orphan(const struct sc_opts *o, X509 *cert, X509 *old, EVP_PKEY *new_key,
    const struct pkid_scep_client *c, int verified, const struct pkid_err *e)
{
	struct pkictl_orphan oo;
	char retry[1400];

	(void)pkictl_print_err(e, 0);
	if (old != NULL)
		snprintf(retry, sizeof(retry), "pkictl renew scep --server %s "
		    "--cert %s --key %s ... --out %s", o->cfg.url, o->cert,
		    o->key, o->out);
	else
		snprintf(retry, sizeof(retry), "pkictl enroll scep --server %s "
		    "... --out %s", o->cfg.url, o->out);
	memset(&oo, 0, sizeof(oo));
	oo.cert = cert;
	oo.cas = c->cas.certs;
	oo.new_key = new_key;
	oo.key_path = new_key == NULL ? o->key : NULL;
	oo.out = o->out;
	oo.verified = verified;
	oo.cacert = o->cacert;
	oo.retry = retry;
	pkictl_orphan_save(&oo);
}

/* enroll (old == NULL) or renew (old and old_key): the shared part.
 * *printed: the error was printed here (with the orphan it left). */
static int
sc_run(const struct sc_opts *o, EVP_PKEY *key, X509 *old,
    EVP_PKEY *old_key, int *printed, struct pkid_err *e)
{
	struct pkid_scep_client *c = NULL;
	X509_REQ *csr = NULL;
	X509 *cert = NULL;
	EVP_PKEY *new_key = o->new_key != NULL ? key : NULL;
	int rc = PKICTL_EXIT_FAIL;

	if (pkid_scep_client_new(&o->cfg, &c, e) != PKID_OK ||
	    sc_prepare(c, e) != PKID_OK ||
	    pkid_scep_algs_pick(c->caps, o->cfg.compat, &c->algs, e) !=
	    PKID_OK)
		goto out;
	if (old != NULL) {
		if (pkid_scep_csr_renewal(old, key, o->challenge, c->algs.md,
		    &csr, e) != PKID_OK)
			goto out;
	} else if (pkid_scep_csr_build(key, o->subject, o->sans, o->nsans,
	    o->challenge, c->algs.md, &csr, e) != PKID_OK) {
		goto out;
	}
	if (pkid_scep_client_enroll(c, csr, key, old, old_key, &cert, e) !=
	    PKID_OK) {
		if (c->unverified != NULL) {
			sc_orphan(o, c->unverified, old, new_key, c, 0, e);
			*printed = 1;
		}
		goto out;
	}
	if (sc_write(o, cert, new_key, e) != PKID_OK) {
		sc_orphan(o, cert, old, new_key, c, 1, e);
		*printed = 1;
		goto out;
	}
	rc = PKICTL_EXIT_OK;
out:
	X509_free(cert);
	X509_REQ_free(csr);
	pkid_scep_client_free(c);
	return rc;
}

int
pkictl_cmd_enroll_scep(int argc, char **argv)
{
	struct sc_opts o;
	struct pkid_err e;
	EVP_PKEY *key = NULL;
	int rc, printed = 0;

	if ((rc = sc_parse(argc, argv, 0, &o)) != 0)
		return rc < 0 ? PKICTL_EXIT_OK : rc;
	pkid_err_clear(&e);
	if (sc_load_trust(&o, &e) != PKID_OK ||
	    sc_key(&o, 0, &key, &e) != PKID_OK ||
	    sc_run(&o, key, NULL, NULL, &printed, &e) != PKICTL_EXIT_OK)
		rc = printed ? pkictl_exit_for(e.code) :
		    pkictl_print_err(&e, 0);
	EVP_PKEY_free(key);
	sk_X509_pop_free(o.trust, X509_free);
	return rc;
}

int
pkictl_cmd_renew_scep(int argc, char **argv)
{
	struct sc_opts o;
	struct pkid_err e;
	EVP_PKEY *key = NULL, *old_key = NULL;
	X509 *old = NULL;
	int rc, printed = 0;

	if ((rc = sc_parse(argc, argv, 1, &o)) != 0)
		return rc < 0 ? PKICTL_EXIT_OK : rc;
	pkid_err_clear(&e);
	if (sc_load_trust(&o, &e) != PKID_OK ||
	    pkid_x509_load_cert_file(o.cert, &old, &e) != PKID_OK ||
	    pkid_x509_load_key_file(o.key, &old_key, &e) != PKID_OK ||
	    sc_key(&o, 1, &key, &e) != PKID_OK) {
		rc = pkictl_print_err(&e, 0);
		goto out;
	}
	if (X509_check_private_key(old, old_key) != 1) {
		PKID_ERR(&e, PKID_E_KEY_MISMATCH, "%s does not belong to %s",
		    o.key, o.cert);
		rc = pkictl_print_err(&e, 0);
		goto out;
	}
	/* No pin given: the CA that issued the certificate being renewed
	 * (its key signed it) is the anchor. */
	if (o.cacert == NULL && o.cfg.fingerprint == NULL && !o.cfg.tofu)
		o.cfg.issued_by = old;
	/* RFC 8894 3.3.1.2: the same key unless --new-key. */
	if (sc_run(&o, key != NULL ? key : old_key, old, old_key, &printed,
	    &e) != PKICTL_EXIT_OK)
		rc = printed ? pkictl_exit_for(e.code) :
		    pkictl_print_err(&e, 0);
out:
	EVP_PKEY_free(key);
	EVP_PKEY_free(old_key);
	X509_free(old);
	sk_X509_pop_free(o.trust, X509_free);
	return rc;
}

/* PEM of certs (or a summary to stderr), to out or stdout. */
static enum pkid_code
get_print(const struct pkid_scep_cas *cas, const char *out,
    struct pkid_err *e)
{
	struct pkid_buf pem;
	char fp[65], name[256];
	X509 *x;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&pem, PKID_MAX_FILE_SIZE);
	for (i = 0; i < sk_X509_num(cas->certs); i++) {
		x = sk_X509_value(cas->certs, i);
		pkid_x509_fingerprint(x, fp);
		fprintf(stderr, "scep: %s%s %s\n  SHA-256 %s\n", x == cas->ca ?
		    "CA" : "", x == cas->ra ? (x == cas->ca ? "+RA" : "RA") :
		    (x == cas->ca ? "" : "chain"), pkid_x509_name_text(
		    X509_get_subject_name(x), name, sizeof(name)), fp);
		PKID_TRY(pkid_x509_cert_pem(x, &pem, e));
	}
	if (out != NULL)
		PKID_TRY(pkid_file_write(out, pem.p, pem.len, 0644, e));
	else
		fwrite(pem.p, 1, pem.len, stdout);
	rc = PKID_OK;
out:
	pkid_buf_free(&pem);
	return rc;
}

/* check: getca's answer checked against the pin (or taken on first use
 * with the fingerprint shown) before it is printed or written. */
static enum pkid_code
get_run(struct pkid_scep_client *c, const char *op, const char *out,
    int check, struct pkid_err *e)
{
	struct pkid_scep_cas next;
	struct pkid_buf raw;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_scep_cas_init(&next);
	pkid_buf_init(&raw, 1);
	if (strcmp(op, "getcaps") == 0) {
		PKID_TRY(pkid_scep_client_caps(c, &raw, e));
		PKID_CHECK(raw.len > 0, PKID_E_HTTP_STATUS, "%s: GetCACaps "
		    "gave no capabilities (RFC 8894 3.5.1: assume none)",
		    c->cfg.url);
		fwrite(raw.p, 1, raw.len, stdout);
		if (raw.p[raw.len - 1] != '\n')
			putchar('\n');
	} else if (strcmp(op, "getca") == 0) {
		PKID_TRY(pkid_scep_client_cacert(c, 0, NULL, e));
		if (check)
			PKID_TRY(pkid_scep_client_trust(c, e));
		if (check && c->anchors == NULL)
			sc_tofu_note(c);
		PKID_TRY(get_print(&c->cas, out, e));
	} else {
		/* The next CA is signed by the current one: check that one
		 * against the pin first. */
		if (check) {
			PKID_TRY(pkid_scep_client_cacert(c, 0, NULL, e));
			PKID_TRY(pkid_scep_client_trust(c, e));
		}
		PKID_TRY(pkid_scep_client_cacert(c, 1, &next, e));
		PKID_TRY(get_print(&next, out, e));
	}
	rc = PKID_OK;
out:
	pkid_buf_free(&raw);
	pkid_scep_cas_free(&next);
	return rc;
}

/* The options of get into o: 0, an exit status, or -1 for --help. */
static int
get_parse(int argc, char **argv, struct sc_opts *o)
{
	static const struct option lo[] = {
		{ "server", required_argument, NULL, 'u' },
		{ "url", required_argument, NULL, 'u' },	/* alias */
		{ "ca", required_argument, NULL, 'A' },
		{ "out", required_argument, NULL, 'o' },
		{ "compat", no_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 't' },
		{ "cacert", required_argument, NULL, 'a' },
		{ "ca-fingerprint", required_argument, NULL, 'f' },
		{ "insecure-tofu", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	for (ch = 1; ch < argc; ch++)
		if (strcmp(argv[ch], "--help") == 0 ||
		    strcmp(argv[ch], "-h") == 0) {
			fputs(usage_get, stdout);
			return -1;
		}
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 0 || strchr("uAoCtafT", ch) == NULL)
			return pkictl_usage_err(usage_get, "unknown or "
			    "incomplete option '%s'", argv[optind - 1]);
		if (sc_opt(ch, o) != 0)
			return PKICTL_EXIT_USAGE;
	}
	if (optind + 1 == argc && o->cfg.url == NULL)
		o->cfg.url = argv[optind++];
	if (optind != argc)
		return pkictl_usage_err(usage_get, "unexpected '%s'%s",
		    argv[optind], o->cfg.url != NULL ? " (the server is "
		    "already given)" : "");
	if (o->cfg.url == NULL)
		return pkictl_usage_err(usage_get, "name the server: --server "
		    "URL");
	return 0;
}

int
pkictl_cmd_scep_get(int argc, char **argv)
{
	struct sc_opts o;
	struct pkid_scep_client *c = NULL;
	struct pkid_err e;
	int rc, check;

	if ((rc = get_parse(argc, argv, &o)) != 0)
		return rc < 0 ? PKICTL_EXIT_OK : rc;
	check = o.cacert != NULL || o.cfg.fingerprint != NULL || o.cfg.tofu;
	if (check && strcmp(argv[0], "getcaps") == 0)
		return pkictl_usage_err(usage_get, "--cacert, "
		    "--ca-fingerprint and --insecure-tofu go with getca and "
		    "getnextca");
	/* A file written by getca is one others then trust (--cacert):
	 * it needs a pin, as enroll does. */
	if (o.out != NULL && strcmp(argv[0], "getca") == 0)
		check = 1;
	if (check && (rc = sc_pin_check(&o, 0, usage_get)) != 0)
		return rc;
	pkid_err_clear(&e);
	rc = PKICTL_EXIT_OK;
	if (sc_load_trust(&o, &e) != PKID_OK ||
	    pkid_scep_client_new(&o.cfg, &c, &e) != PKID_OK ||
	    get_run(c, argv[0], o.out, check, &e) != PKID_OK)
		rc = pkictl_print_err(&e, 0);
	pkid_scep_client_free(c);
	sk_X509_pop_free(o.trust, X509_free);
	return rc;
}
