/*
 * orphan.c - a certificate the server issued that pkictl then could not
 * accept (its chain does not verify to the trust given) or could not
 * write where asked: written anyway, under a name that says so, with its
 * key when pkictl made it, and a remedy naming the trust file to pass.
 * Nothing issued is lost; nothing unverified takes the place of --out.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/limits.h"
#include "x509/load.h"

/* Most CA certificates followed up from the leaf to its root. */
#define ORPHAN_MAX_DEPTH 8

/* out without a .pem, .crt or .cer ending, into base. */
static void
strip_ext(const char *out, char *base, size_t n)
{
	size_t l = strlen(out);

	if (l > 4 && (strcmp(out + l - 4, ".pem") == 0 ||
	    strcmp(out + l - 4, ".crt") == 0 ||
	    strcmp(out + l - 4, ".cer") == 0))
		l -= 4;
	snprintf(base, n, "%.*s", (int)l, out);
}

/* base.WHAT.EXT that does not exist yet (base.WHAT-2.EXT, ...). */
static int
free_name(const char *base, const char *what, const char *ext, char *buf,
    size_t n)
{
	int i;

	for (i = 1; i < 10; i++) {
		if (i == 1)
			snprintf(buf, n, "%s.%s.%s", base, what, ext);
		else
			snprintf(buf, n, "%s.%s-%d.%s", base, what, i, ext);
		if (access(buf, F_OK) != 0)
			return 0;
	}
	return -1;
}

/* Write p under base (then under its last component, in the current
 * directory); the name written into path. */
static int
save(const char *base, const char *what, const char *ext,
    const struct pkid_buf *b, int mode, char *path, size_t n)
{
	const char *slash = strrchr(base, '/');
	struct pkid_err e;

	pkid_err_clear(&e);
	if (free_name(base, what, ext, path, n) == 0 &&
	    pkid_file_write(path, b->p, b->len, mode, &e) == PKID_OK)
		return 0;
	if (slash == NULL)
		return -1;
	pkid_err_clear(&e);
	if (free_name(slash + 1, what, ext, path, n) == 0 &&
	    pkid_file_write(path, b->p, b->len, mode, &e) == PKID_OK)
		return 0;
	return -1;
}

/* The root x chains to through cas (self-signed, or the last found). */
static X509 *
top_of(X509 *x, STACK_OF(X509) *cas)
{
	X509 *cur = x, *up;
	int d, i;

	for (d = 0; d < ORPHAN_MAX_DEPTH; d++) {
		if (cur != x && X509_check_issued(cur, cur) == X509_V_OK)
			return cur;
		for (up = NULL, i = 0; i < sk_X509_num(cas) && up == NULL;
		    i++)
			if (sk_X509_value(cas, i) != cur &&
			    X509_check_issued(sk_X509_value(cas, i), cur) ==
			    X509_V_OK)
				up = sk_X509_value(cas, i);
		if (up == NULL)
			return cur == x ? NULL : cur;
		cur = up;
	}
	return cur;
}

static void
remedy(const struct pkictl_orphan *o, const char *cert_path)
{
	X509 *root = top_of(o->cert, o->cas);
	char name[256], fp[65];
	const char *cacert = o->cacert != NULL ? o->cacert : "CACERT.pem";

	if (o->verified) {
		fprintf(stderr, "fix: the certificate is valid: move %s (and "
		    "its key) to where it belongs, after fixing what stopped "
		    "the write\n", cert_path);
		return;
	}
	if (root == NULL) {
		pkid_x509_name_text(X509_get_issuer_name(o->cert), name,
		    sizeof(name));
		fprintf(stderr, "fix: it was issued by %s, whose root %s does "
		    "not hold and the server did not send;\n  get that root "
		    "(ROOT.pem) from a trusted channel, then check the "
		    "certificate:\n", name, cacert);
	} else {
		pkid_x509_name_text(X509_get_subject_name(root), name,
		    sizeof(name));
		pkid_x509_fingerprint(root, fp);
		fprintf(stderr, "fix: it chains to %s (SHA-256 %s), which %s "
		    "does not hold;\n  get that root (ROOT.pem) from a "
		    "trusted channel, compare its fingerprint, then check the "
		    "certificate:\n", name, fp, cacert);
	}
	fprintf(stderr, "    pkictl verify --trust ROOT.pem %s\n  and next "
	    "time pass --cacert with a bundle that holds it:\n    cat %s "
	    "ROOT.pem > trust.pem\n    %s --cacert trust.pem\n", cert_path,
	    cacert, o->retry);
}

void
pkictl_orphan_save(const struct pkictl_orphan *o)
{
	struct pkid_buf b;
	struct pkid_err e;
	char base[1024], cert_path[1100], key_path[1100];
	char serial[80], sub[256], iss[256];
	const char *what = o->verified ? "orphan" : "unverified";
	int i, ncas = 0, cert_ok, key_ok = 1;

	if (o->cert == NULL)
		return;
	strip_ext(o->out, base, sizeof(base));
	pkid_x509_serial_hex(X509_get0_serialNumber(o->cert), serial,
	    sizeof(serial));
	pkid_x509_name_text(X509_get_subject_name(o->cert), sub, sizeof(sub));
	pkid_x509_name_text(X509_get_issuer_name(o->cert), iss, sizeof(iss));
	pkid_err_clear(&e);
	pkid_buf_init(&b, PKID_MAX_FILE_SIZE);
	/* The certificate, then what the server sent as its CAs. */
	cert_ok = pkid_x509_cert_pem(o->cert, &b, &e) == PKID_OK;
	for (i = 0; cert_ok && i < sk_X509_num(o->cas) && i <
	    PKID_MAX_BUNDLE_CERTS; i++, ncas++)
		cert_ok = pkid_x509_cert_pem(sk_X509_value(o->cas, i), &b,
		    &e) == PKID_OK;
	cert_ok = cert_ok && save(base, what, "pem", &b, 0644, cert_path,
	    sizeof(cert_path)) == 0;
	pkid_buf_free(&b);
	if (o->new_key != NULL) {
		pkid_buf_init(&b, PKID_MAX_FILE_SIZE);
		key_ok = pkid_x509_key_pem(o->new_key, &b, &e) == PKID_OK &&
		    save(base, what, "key", &b, 0600, key_path,
		    sizeof(key_path)) == 0;
		pkid_buf_free(&b);
	}
	fprintf(stderr, "orphan: the server issued serial %s (%s, issuer "
	    "%s), but pkictl %s it; it is kept:\n", serial, sub, iss,
	    o->verified ? "could not write" : "could not verify");
	if (cert_ok)
		fprintf(stderr, "  certificate: %s (with the %d CA "
		    "certificate%s the server sent%s)\n", cert_path, ncas,
		    ncas == 1 ? "" : "s", o->verified ? "" : ", unchecked");
	else
		fprintf(stderr, "  certificate: could not be written; "
		    "'pkictl ca list' on the CA shows serial %s\n", serial);
	if (o->new_key != NULL && key_ok)
		fprintf(stderr, "  key: %s (made here, mode 0600)\n", key_path);
	else if (o->new_key != NULL)
		fprintf(stderr, "  key: could not be written: the certificate "
		    "is of no use without it\n");
	else if (o->key_path != NULL)
		fprintf(stderr, "  key: %s (yours, unchanged)\n", o->key_path);
	remedy(o, cert_ok ? cert_path : "CERT.pem");
}
