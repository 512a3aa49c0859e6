/*
 * cmd_enroll.c - pkictl enroll PROTOCOL and pkictl renew PROTOCOL: get a
 * certificate from a CA over EST (here) or SCEP (cmd_scep_client.c).
 *
 *   pkictl enroll est --server URL [--label L]
 *       (--user U [--password-file FILE|-] | --cert C --key K)
 *       (--cacert FILE | --bootstrap-fingerprint SHA256)
 *       [--key FILE | --new-key ec-p256|rsa-2048] [--subject DN]
 *       [--san DNS:name|IP:addr]... --out FILE [--key-out FILE]
 *   pkictl renew est --server URL --cert C --key K [--cacert FILE]
 *       [--user U [--password-file FILE|-]] [--new-key TYPE]
 *       --out FILE [--key-out FILE]
 *
 * The HTTP Basic password comes from --password-file (or standard input),
 * PKID_EST_PASSWORD or --password (which the process list shows), and is
 * wiped once the request is built.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/limits.h"
#include "est/client.h"
#include "x509/load.h"

/* The SCEP commands live in another file that may not be linked in. */
int pkictl_cmd_enroll_scep(int argc, char **argv) __attribute__((weak));
int pkictl_cmd_renew_scep(int argc, char **argv) __attribute__((weak));

static const char usage_enroll[] =
    "usage: pkictl enroll est --server URL [--label L]\n"
    "         (--user U [--password-file FILE|-] | --cert C --key K)\n"
    "         (--cacert FILE | --bootstrap-fingerprint SHA256)\n"
    "         [--key FILE | --new-key ec-p256|rsa-2048] [--subject DN]\n"
    "         [--san DNS:NAME|IP:ADDR]... --out FILE [--key-out FILE]\n"
    "         [--timeout S] [--max-wait S] [--poll-interval S]\n"
    "         [--tls-max 1.2|1.3]\n"
    "       pkictl enroll scep ...   (see pkictl enroll scep --help)\n"
    "  With --user, --key FILE is the key to certify (made with --new-key\n"
    "  when the file does not exist); with --cert, --key is the client\n"
    "  certificate's key and a new key goes to --key-out (default: the\n"
    "  --out name with .key).\n"
    "  The password of --user is the first line of --password-file FILE\n"
    "  (- is standard input), else $PKID_EST_PASSWORD; --password PW works\n"
    "  too, but other users of this machine see it in the process list.\n"
    "  The server's CA must be pinned: --cacert, or the SHA-256 of a CA\n"
    "  certificate from a trusted channel with --bootstrap-fingerprint.\n";

static const char usage_renew[] =
    "usage: pkictl renew est --server URL [--label L] --cert C --key K\n"
    "         [--cacert FILE | --bootstrap-fingerprint SHA256]\n"
    "         [--user U [--password-file FILE|-]]\n"
    "         [--new-key ec-p256|rsa-2048] --out FILE [--key-out FILE]\n"
    "       pkictl renew scep ...\n"
    "  Keeps the key K unless --new-key is given; subject and names are\n"
    "  those of C. Without --cacert, the CA is the root of C's chain as\n"
    "  found in --cert (give --cacert when the file holds only the leaf).\n"
    "  --user adds HTTP Basic (labels with auth = basic-and-cert); its\n"
    "  password as for enroll: --password-file, $PKID_EST_PASSWORD, or\n"
    "  --password PW, which other users see in the process list.\n";

/* Most --san options. */
#define MAX_SAN_OPTS PKID_MAX_SAN_COUNT

/* The command line. */
struct enroll_opts {
	int renew;			/* pkictl renew */
	const char *server;		/* --server */
	const char *label;		/* --label */
	const char *user;		/* --user */
	const char *password;		/* --password, then the password */
	const char *password_file;	/* --password-file */
	const char *cert;		/* --cert */
	const char *key;		/* --key */
	const char *cacert;		/* --cacert */
	const char *fingerprint;	/* --bootstrap-fingerprint */
	const char *new_key;		/* --new-key */
	const char *subject;		/* --subject */
	const char *out;		/* --out */
	const char *key_out;		/* --key-out */
	int timeout_s;			/* --timeout */
	int max_wait_s;			/* --max-wait */
	int poll_s;			/* --poll-interval */
	int tls_max;			/* --tls-max */
	int nsan;			/* --san given */
	const char *san[MAX_SAN_OPTS];	/* --san values */
};

/* What the command works with. */
struct enroll_run {
	STACK_OF(X509) *trust;		/* --cacert */
	STACK_OF(X509) *auth_chain;	/* --cert file: leaf, then chain */
	STACK_OF(X509) *inter;		/* auth_chain without the leaf */
	EVP_PKEY *auth_key;		/* --key with --cert */
	EVP_PKEY *key;			/* the key to certify */
	int key_new;			/* key was generated here */
	char key_path[1024];		/* where key lives or goes */
	X509_NAME *subject;		/* requested subject */
	GENERAL_NAMES *sans;		/* requested names */
	X509 *issued;			/* the result */
};

static int
int_opt(const char *usage, const char *name, const char *v, int max,
    int *out)
{
	struct pkid_err e;
	int64_t n;

	pkid_err_clear(&e);
	if (pkid_parse_int(v, 1, max, &n, &e) != PKID_OK)
		return pkictl_usage_err(usage, "%s takes 1 to %d seconds, not "
		    "'%s'", name, max, v);
	*out = (int)n;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct enroll_opts *o)
{
	static const struct option lo[] = {
		{ "server", required_argument, NULL, 's' },
		{ "label", required_argument, NULL, 'l' },
		{ "user", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "password-file", required_argument, NULL, 'f' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "bootstrap-fingerprint", required_argument, NULL, 'F' },
		{ "new-key", required_argument, NULL, 'n' },
		{ "subject", required_argument, NULL, 'S' },
		{ "san", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "key-out", required_argument, NULL, 'K' },
		{ "timeout", required_argument, NULL, 't' },
		{ "max-wait", required_argument, NULL, 'w' },
		{ "poll-interval", required_argument, NULL, 'P' },
		{ "tls-max", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *u = o->renew ? usage_renew : usage_enroll;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 's': o->server = optarg; break;
		case 'l': o->label = optarg; break;
		case 'u': o->user = optarg; break;
		case 'p': o->password = optarg; break;
		case 'f': o->password_file = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'C': o->cacert = optarg; break;
		case 'F': o->fingerprint = optarg; break;
		case 'n': o->new_key = optarg; break;
		case 'S': o->subject = optarg; break;
		case 'o': o->out = optarg; break;
		case 'K': o->key_out = optarg; break;
		case 'a':
			if (o->nsan >= MAX_SAN_OPTS)
				return pkictl_usage_err(u, "at most %d --san",
				    MAX_SAN_OPTS);
			o->san[o->nsan++] = optarg;
			break;
		case 't':
			if (int_opt(u, "--timeout", optarg,
			    PKID_EST_UPSTREAM_MAX_TIMEOUT_S, &o->timeout_s))
				return PKICTL_EXIT_USAGE;
			break;
		case 'w':
			if (int_opt(u, "--max-wait", optarg, 7 * 86400,
			    &o->max_wait_s))
				return PKICTL_EXIT_USAGE;
			break;
		case 'P':
			if (int_opt(u, "--poll-interval", optarg,
			    PKID_EST_POLL_MAX_INTERVAL_S, &o->poll_s))
				return PKICTL_EXIT_USAGE;
			break;
		case 'T':
			if (strcmp(optarg, "1.2") == 0)
				o->tls_max = TLS1_2_VERSION;
			else if (strcmp(optarg, "1.3") == 0)
				o->tls_max = TLS1_3_VERSION;
			else
				return pkictl_usage_err(u, "--tls-max is 1.2 "
				    "or 1.3, not '%s'", optarg);
			break;
		case 'h':
			fputs(u, stdout);
			return -1;
		default:
			return pkictl_usage_err(u, "unknown option");
		}
	}
	if (optind != argc)
		return pkictl_usage_err(u, "unexpected argument '%s'",
		    argv[optind]);
	return 0;
}

static int
check_opts(const struct enroll_opts *o)
{
	const char *u = o->renew ? usage_renew : usage_enroll;

	if (o->server == NULL || o->out == NULL)
		return pkictl_usage_err(u, "--server and --out are required");
	if (o->renew && (o->cert == NULL || o->key == NULL))
		return pkictl_usage_err(u, "renew needs --cert and --key");
	if (o->renew && (o->subject != NULL || o->nsan > 0))
		return pkictl_usage_err(u, "renew takes the identity from "
		    "--cert: no --subject or --san");
	if (!o->renew && (o->user != NULL) == (o->cert != NULL))
		return pkictl_usage_err(u, "give either --user (and its "
		    "password), or --cert and --key");
	if (o->user == NULL && (o->password != NULL ||
	    o->password_file != NULL))
		return pkictl_usage_err(u, "a password goes with --user");
	if (o->cert != NULL && o->key == NULL)
		return pkictl_usage_err(u, "--cert needs --key");
	if (o->cacert != NULL && o->fingerprint != NULL)
		return pkictl_usage_err(u, "give --cacert or "
		    "--bootstrap-fingerprint, not both");
	if (!o->renew && o->subject == NULL && o->nsan == 0)
		return pkictl_usage_err(u, "give --subject DN or at least one "
		    "--san");
	return 0;
}

static void
run_clear(struct enroll_run *r)
{
	sk_X509_pop_free(r->trust, X509_free);
	sk_X509_pop_free(r->auth_chain, X509_free);
	sk_X509_free(r->inter);	/* members belong to auth_chain */
	EVP_PKEY_free(r->auth_key);
	EVP_PKEY_free(r->key);
	X509_NAME_free(r->subject);
	GENERAL_NAMES_free(r->sans);
	X509_free(r->issued);
}

static int
self_signed(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

/* --cert: the leaf, its intermediates; renew without --cacert trusts the
 * self-signed certificates the file carries (written by enroll). */
static enum pkid_code
load_auth(const struct enroll_opts *o, struct enroll_run *r,
    struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	PKID_TRY(pkid_x509_load_certs_file(o->cert, &r->auth_chain, e));
	PKID_TRY(pkid_x509_load_key_file(o->key, &r->auth_key, e));
	PKID_OSSL_PTR(r->inter = sk_X509_new_null(), PKID_E_NOMEM,
	    "no memory");
	for (i = 1; i < sk_X509_num(r->auth_chain); i++) {
		X509 *x = sk_X509_value(r->auth_chain, i);

		if (self_signed(x) && o->cacert == NULL &&
		    o->fingerprint == NULL) {
			if (r->trust == NULL)
				PKID_OSSL_PTR(r->trust = sk_X509_new_null(),
				    PKID_E_NOMEM, "no memory");
			PKID_OSSL(sk_X509_push(r->trust, x), PKID_E_NOMEM,
			    "no memory");
			X509_up_ref(x);
			continue;
		}
		PKID_OSSL(sk_X509_push(r->inter, x), PKID_E_NOMEM,
		    "no memory");
	}
	PKID_CHECK(r->trust != NULL || o->cacert != NULL ||
	    o->fingerprint != NULL, PKID_E_TRUST_NOT_PINNED, "%s holds no "
	    "CA certificate to trust the EST server by: give --cacert FILE "
	    "or --bootstrap-fingerprint SHA256", o->cert);
	rc = PKID_OK;
out:
	return rc;
}

/* "dev.pem" -> "dev.key"; anything else gets ".key" appended. */
static void
derive_key_path(const char *out, char *buf, size_t n)
{
	size_t l = strlen(out);

	if (l > 4 && (strcmp(out + l - 4, ".pem") == 0 ||
	    strcmp(out + l - 4, ".crt") == 0))
		snprintf(buf, n, "%.*s.key", (int)(l - 4), out);
	else
		snprintf(buf, n, "%s.key", out);
}

/* The key to certify: loaded, reused (renew) or generated. */
static enum pkid_code
pick_key(const struct enroll_opts *o, struct enroll_run *r,
    struct pkid_err *e)
{
	const char *path = o->cert == NULL ? o->key : o->key_out;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (o->renew && o->new_key == NULL) {
		EVP_PKEY_up_ref(r->auth_key);
		r->key = r->auth_key;
		return PKID_OK;
	}
	if (path != NULL)
		snprintf(r->key_path, sizeof(r->key_path), "%s", path);
	else
		derive_key_path(o->out, r->key_path, sizeof(r->key_path));
	if (o->cert == NULL && o->key != NULL && access(o->key, F_OK) == 0) {
		PKID_CHECK(o->new_key == NULL, PKID_E_USAGE, "%s exists: drop "
		    "--new-key to certify it, or remove it", o->key);
		return pkid_x509_load_key_file(o->key, &r->key, e);
	}
	PKID_CHECK(access(r->key_path, F_OK) != 0, PKID_E_USAGE, "%s exists; "
	    "a new key is not written over it (give --key-out)", r->key_path);
	PKID_TRY(pkid_key_generate(o->new_key != NULL ? o->new_key :
	    "ec-p256", &r->key, e));
	r->key_new = 1;
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
add_san(GENERAL_NAMES *g, const char *v, struct pkid_err *e)
{
	GENERAL_NAME *gn = NULL;
	int type = 0;

	if (strncmp(v, "DNS:", 4) == 0)
		type = GEN_DNS;
	else if (strncmp(v, "IP:", 3) == 0)
		type = GEN_IPADD;
	if (type == 0)
		return PKID_ERR(e, PKID_E_USAGE, "--san '%s': write DNS:NAME "
		    "or IP:ADDRESS", v);
	gn = a2i_GENERAL_NAME(NULL, NULL, NULL, type, v + (type == GEN_DNS ?
	    4 : 3), 0);
	if (gn == NULL)
		return PKID_ERR(e, PKID_E_USAGE, "--san '%s' is not a valid "
		    "name or address", v);
	if (!sk_GENERAL_NAME_push(g, gn)) {
		GENERAL_NAME_free(gn);
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	return PKID_OK;
}

/* Subject and names: the options, or (renew) those of the old cert. */
static enum pkid_code
identity(const struct enroll_opts *o, struct enroll_run *r,
    struct pkid_err *e)
{
	X509 *old;
	char cn[300];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (o->renew) {
		old = sk_X509_value(r->auth_chain, 0);
		PKID_OSSL_PTR(r->subject = X509_NAME_dup(
		    X509_get_subject_name(old)), PKID_E_NOMEM, "no memory");
		r->sans = X509_get_ext_d2i(old, NID_subject_alt_name, NULL,
		    NULL);
		return PKID_OK;
	}
	PKID_OSSL_PTR(r->sans = GENERAL_NAMES_new(), PKID_E_NOMEM,
	    "no memory");
	for (i = 0; i < o->nsan; i++)
		PKID_TRY(add_san(r->sans, o->san[i], e));
	if (o->subject != NULL) {
		PKID_TRY(pkid_name_parse(o->subject, &r->subject, e));
	} else {
		/* No --subject: CN is the first name given. */
		snprintf(cn, sizeof(cn), "CN=%s", strchr(o->san[0], ':') + 1);
		PKID_TRY(pkid_name_parse(cn, &r->subject, e));
	}
	rc = PKID_OK;
out:
	return rc;
}

static void
progress(void *arg, const char *msg)
{
	fprintf(stderr, "pkictl: %s\n", msg);
}

/* Certificate (then the CA certificates) and, when new, the key (0600). */
static enum pkid_code
write_out(const struct enroll_opts *o, struct enroll_run *r,
    STACK_OF(X509) *ca, struct pkid_err *e)
{
	struct pkid_buf b;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&b, PKID_MAX_FILE_SIZE);
	if (r->key_new) {
		PKID_TRY(pkid_x509_key_pem(r->key, &b, e));
		PKID_TRY(pkid_file_write(r->key_path, b.p, b.len, 0600, e));
		pkid_buf_free(&b);
		pkid_buf_init(&b, PKID_MAX_FILE_SIZE);
	}
	PKID_TRY(pkid_x509_cert_pem(r->issued, &b, e));
	for (i = 0; i < sk_X509_num(ca); i++)
		PKID_TRY(pkid_x509_cert_pem(sk_X509_value(ca, i), &b, e));
	PKID_TRY(pkid_file_write(o->out, b.p, b.len, 0644, e));
	rc = PKID_OK;
out:
	pkid_buf_free(&b);
	return rc;
}

static void
report(const struct enroll_opts *o, const struct enroll_run *r)
{
	char sub[256], serial[80], na[32];
	const ASN1_TIME *t = X509_get0_notAfter(r->issued);
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	pkid_x509_name_text(X509_get_subject_name(r->issued), sub,
	    sizeof(sub));
	pkid_x509_serial_hex(X509_get0_serialNumber(r->issued), serial,
	    sizeof(serial));
	if (ASN1_TIME_to_tm(t, &tm) == 1)
		pkid_time_fmt(timegm(&tm), na, sizeof(na));
	else
		snprintf(na, sizeof(na), "?");
	printf("%s: %s, serial %s, valid until %s\n", o->renew ? "renewed" :
	    "enrolled", sub, serial, na);
	printf("certificate: %s\n", o->out);
	if (r->key_new)
		printf("key: %s (new, mode 0600)\n", r->key_path);
}

/* Before any connection: the server's CA is pinned, the password of
 * --user is at hand (in pw, which the caller wipes). */
static enum pkid_code
resolve_opts(struct enroll_opts *o, char *pw, size_t len,
    struct pkid_err *e)
{
	if (!o->renew && o->cacert == NULL && o->fingerprint == NULL)
		return PKID_ERR(e, PKID_E_TRUST_NOT_PINNED, "enroll est has "
		    "no way to tell the EST server's CA from an impostor: "
		    "give --cacert FILE or --bootstrap-fingerprint SHA256 "
		    "(RFC 7030 4.1.1)");
	if (o->user == NULL)
		return PKID_OK;
	if (pkictl_password(o->password, o->password_file,
	    "PKID_EST_PASSWORD", pw, len, e) != PKID_OK)
		return e->code;
	if (pw[0] == '\0')
		return PKID_ERR(e, PKID_E_USAGE, "--user %s needs a password: "
		    "--password-file FILE (- for standard input), "
		    "PKID_EST_PASSWORD, or --password", o->user);
	o->password = pw;
	return PKID_OK;
}

/*
 * After the server issued, enrolling failed: the error, then the
 * certificate (and a key made here) kept under an orphan name. verified:
 * it passed the checks and only writing it failed.
 */
static void
orphan(const struct enroll_opts *o, const struct enroll_run *r, X509 *cert,
    STACK_OF(X509) *cas, int verified, const struct pkid_err *e)
{
	struct pkictl_orphan oo;
	char retry[1400];

	(void)pkictl_print_err(e, 0);
	if (o->renew)
		snprintf(retry, sizeof(retry), "pkictl renew est --server %s "
		    "--cert %s --key %s ... --out %s", o->server, o->cert,
		    o->key, o->out);
	else
		snprintf(retry, sizeof(retry), "pkictl enroll est --server %s "
		    "... --out %s", o->server, o->out);
	memset(&oo, 0, sizeof(oo));
	oo.cert = cert;
	oo.cas = cas;
	oo.new_key = r->key_new ? r->key : NULL;
	oo.key_path = r->key_new ? NULL : r->key_path[0] != '\0' ?
	    r->key_path : o->key;
	oo.out = o->out;
	oo.verified = verified;
	oo.cacert = o->cacert;
	oo.retry = retry;
	pkictl_orphan_save(&oo);
}

/* pw: the password (o->password points to it), wiped once the client
 * holds its Authorization header. *printed: the error was printed here
 * (with the orphan it left). */
static enum pkid_code
enroll_est(const struct enroll_opts *o, struct enroll_run *r, char *pw,
    size_t pwlen, int *printed, struct pkid_err *e)
{
	struct pkid_est_client_opts co;
	struct pkid_est_client *c = NULL;
	struct pkid_est_csr_spec spec;
	STACK_OF(X509) *ca = NULL;
	X509 *unverified;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (o->cacert != NULL)
		PKID_TRY(pkid_x509_load_certs_file(o->cacert, &r->trust, e));
	if (o->cert != NULL)
		PKID_TRY(load_auth(o, r, e));
	PKID_TRY(pick_key(o, r, e));
	PKID_TRY(identity(o, r, e));
	memset(&co, 0, sizeof(co));
	co.server = o->server;
	co.label = o->label;
	co.trust = r->trust;
	co.fingerprint = o->fingerprint;
	co.cert = o->cert != NULL ? sk_X509_value(r->auth_chain, 0) : NULL;
	co.chain = r->inter;
	co.cert_key = r->auth_key;
	co.user = o->user;
	co.password = o->password;
	co.timeout_s = o->timeout_s;
	co.tls_max = o->tls_max;
	co.max_wait_s = o->max_wait_s;
	co.poll_interval_s = o->poll_s;
	co.note = progress;
	c = pkid_est_client_new(&co, e);
	OPENSSL_cleanse(pw, pwlen);
	PKID_OSSL_PTR(c, e->code, "EST client");
	spec.subject = r->subject;
	spec.sans = r->sans;
	if ((rc = pkid_est_client_enroll(c, o->renew, r->key, &spec,
	    &r->issued, e)) != PKID_OK) {
		if ((unverified = pkid_est_client_unverified(c, &ca)) != NULL) {
			orphan(o, r, unverified, ca, 0, e);
			*printed = 1;
		}
		goto out;
	}
	if ((rc = pkid_est_client_cacerts(c, &ca, e)) != PKID_OK ||
	    (rc = write_out(o, r, ca, e)) != PKID_OK) {
		orphan(o, r, r->issued, ca, 1, e);
		*printed = 1;
		goto out;
	}
	report(o, r);
	rc = PKID_OK;
out:
	pkid_est_client_free(c);
	return rc;
}

static int
est_main(int renew, int argc, char **argv)
{
	struct enroll_opts o;
	struct enroll_run r;
	struct pkid_err e;
	char pw[PKID_MAX_EST_PASSWORD + 1];
	int rc, printed = 0;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	pw[0] = '\0';
	o.renew = renew;
	if ((rc = parse_opts(argc, argv, &o)) != 0)
		return rc < 0 ? PKICTL_EXIT_OK : rc;
	if ((rc = check_opts(&o)) != 0)
		return rc;
	pkid_err_clear(&e);
	rc = PKICTL_EXIT_OK;
	if (resolve_opts(&o, pw, sizeof(pw), &e) != PKID_OK ||
	    enroll_est(&o, &r, pw, sizeof(pw), &printed, &e) != PKID_OK)
		rc = printed ? pkictl_exit_for(e.code) :
		    pkictl_print_err(&e, 0);
	OPENSSL_cleanse(pw, sizeof(pw));
	run_clear(&r);
	return rc;
}

/* argv[0] is "enroll" or "renew", argv[1] the protocol. */
static int
dispatch(int renew, int argc, char **argv)
{
	const char *u = renew ? usage_renew : usage_enroll;
	int (*scep)(int, char **) = renew ? pkictl_cmd_renew_scep :
	    pkictl_cmd_enroll_scep;

	if (argc < 2)
		return pkictl_usage_err(u, "name the protocol: est or scep");
	if (strcmp(argv[1], "est") == 0)
		return est_main(renew, argc - 1, argv + 1);
	if (strcmp(argv[1], "scep") == 0)
		return scep(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(u, stdout);
		return PKICTL_EXIT_OK;
	}
	return pkictl_usage_err(u, "unknown protocol '%s': est or scep",
	    argv[1]);
}

int
pkictl_cmd_enroll(int argc, char **argv)
{
	return dispatch(0, argc, argv);
}

int
pkictl_cmd_renew(int argc, char **argv)
{
	return dispatch(1, argc, argv);
}
