/*
 * export.c - trust anchors as a PEM directory with OpenSSL hash links, a
 * PEM bundle or a certs-only PKCS#7 (export.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pkcs7.h>

#include "core/buf.h"
#include "core/limits.h"
#include "trust/export.h"
#include "x509/load.h"

int
pkid_trust_export_format_parse(const char *name)
{
	if (strcmp(name, "pem-dir") == 0)
		return PKID_TRUST_EXPORT_PEM_DIR;
	if (strcmp(name, "pem-bundle") == 0)
		return PKID_TRUST_EXPORT_PEM_BUNDLE;
	if (strcmp(name, "p7b") == 0)
		return PKID_TRUST_EXPORT_P7B;
	return -1;
}

static enum pkid_code
pem_bundle(STACK_OF(X509) *sk, const char *path, struct pkid_err *e)
{
	struct pkid_buf b;
	char sub[256], fp[65];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&b, PKID_MAX_FILE_SIZE);
	for (i = 0; i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);

		pkid_x509_name_text(X509_get_subject_name(x), sub, sizeof(sub));
		pkid_x509_fingerprint(x, fp);
		/* RFC 7468 5.2: text outside the blocks is ignored. */
		PKID_TRY(pkid_buf_printf(&b, e, "# %s\n# SHA-256 %s\n", sub,
		    fp));
		PKID_TRY(pkid_x509_cert_pem(x, &b, e));
	}
	rc = pkid_file_write(path, b.p, b.len, 0644, e);
out:
	pkid_buf_free(&b);
	return rc;
}

static enum pkid_code
p7b(STACK_OF(X509) *sk, const char *path, struct pkid_err *e)
{
	PKCS7 *p7 = NULL;
	unsigned char *der = NULL;
	int i, len;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(p7 = PKCS7_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(PKCS7_set_type(p7, NID_pkcs7_signed), PKID_E_CRYPTO,
	    "PKCS#7 type");
	PKID_OSSL(PKCS7_content_new(p7, NID_pkcs7_data), PKID_E_CRYPTO,
	    "PKCS#7 content");
	for (i = 0; i < sk_X509_num(sk); i++)
		PKID_OSSL(PKCS7_add_certificate(p7, sk_X509_value(sk, i)),
		    PKID_E_CRYPTO, "PKCS#7 certificate");
	PKID_OSSL((len = i2d_PKCS7(p7, &der)), PKID_E_CRYPTO, "encoding");
	rc = pkid_file_write(path, der, (size_t)len, 0644, e);
out:
	OPENSSL_free(der);
	PKCS7_free(p7);
	return rc;
}

/* A name a pem-dir export writes: <64 hex>.pem or <8 hex>.<digits>. */
static int
export_name(const char *n)
{
	size_t i, len = strlen(n);

	if (len == 68 && strcmp(n + 64, ".pem") == 0) {
		for (i = 0; i < 64; i++)
			if (!isxdigit((unsigned char)n[i]))
				return 0;
		return 1;
	}
	if (len < 10 || len > 14 || n[8] != '.')
		return 0;
	for (i = 0; i < len; i++)
		if (i != 8 && !(i < 8 ? isxdigit((unsigned char)n[i]) :
		    isdigit((unsigned char)n[i])))
			return 0;
	return 1;
}

/* Remove the files of an export directory, then the directory; with
 * check only, say whether everything in it is an export's. */
static int
clear_dir(const char *dir, int check_only)
{
	char f[2400];
	struct dirent *de;
	DIR *d = opendir(dir);
	int ok = 1;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!export_name(de->d_name)) {
			ok = 0;
			continue;
		}
		if (check_only)
			continue;
		snprintf(f, sizeof(f), "%.2100s/%.255s", dir, de->d_name);
		(void)unlink(f);
	}
	closedir(d);
	if (!check_only)
		(void)rmdir(dir);
	return ok;
}

static void
fsync_path(const char *p)
{
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* The files and hash links into the new directory tmp. */
static enum pkid_code
fill_dir(STACK_OF(X509) *sk, const char *tmp, struct pkid_err *e)
{
	struct pkid_buf b;
	char fp[65], f[2300], link[2300], name[80];
	unsigned long h;
	int i, k, n;
	enum pkid_code rc = PKID_OK;

	for (i = 0; rc == PKID_OK && i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);

		pkid_x509_fingerprint(x, fp);
		snprintf(name, sizeof(name), "%s.pem", fp);
		snprintf(f, sizeof(f), "%.2100s/%.79s", tmp, name);
		memset(&b, 0, sizeof(b));
		if ((rc = pkid_x509_cert_pem(x, &b, e)) == PKID_OK)
			rc = pkid_file_write(f, b.p, b.len, 0644, e);
		pkid_buf_free(&b);
		/* OpenSSL's CApath lookup: <hash>.0, .1.. per subject hash
		 * (X509_LOOKUP_hash_dir), in the order of the anchors. */
		h = X509_subject_name_hash(x);
		for (k = 0, n = 0; k < i; k++)
			n += X509_subject_name_hash(sk_X509_value(sk, k)) == h;
		snprintf(link, sizeof(link), "%.2100s/%08lx.%d", tmp, h, n);
		if (rc == PKID_OK && symlink(name, link) != 0)
			rc = PKID_ERR(e, PKID_E_IO_WRITE, "symlink %s: %s",
			    link, strerror(errno));
	}
	return rc;
}

static enum pkid_code
pem_dir(STACK_OF(X509) *sk, const char *path, struct pkid_err *e)
{
	char tmp[2100], parent[2100], *slash;
	struct stat st;
	int exists = lstat(path, &st) == 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(!exists || (S_ISDIR(st.st_mode) && clear_dir(path, 1)),
	    PKID_E_USAGE, "%s exists and is not an earlier pem-dir export "
	    "(it holds other files); give a new or empty directory", path);
	snprintf(tmp, sizeof(tmp), "%.2000s.tmp-%ld", path, (long)getpid());
	PKID_CHECK(mkdir(tmp, 0755) == 0, PKID_E_IO_WRITE, "mkdir %s: %s",
	    tmp, strerror(errno));
	PKID_TRY(fill_dir(sk, tmp, e));
	fsync_path(tmp);
	if (!exists)
		PKID_CHECK(rename(tmp, path) == 0, PKID_E_IO_WRITE, "rename %s: "
		    "%s", path, strerror(errno));
	else
		PKID_CHECK(renameat2(AT_FDCWD, tmp, AT_FDCWD, path,
		    RENAME_EXCHANGE) == 0, PKID_E_IO_WRITE, "swapping %s in: "
		    "%s", path, strerror(errno));
	/* tmp now holds the old export (or nothing). */
	snprintf(parent, sizeof(parent), "%.2000s", path);
	slash = strrchr(parent, '/');
	if (slash == NULL)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';
	fsync_path(parent);
	rc = PKID_OK;
out:
	clear_dir(tmp, 0);
	return rc;
}

enum pkid_code
pkid_trust_export(STACK_OF(X509) *anchors, enum pkid_trust_export_format f,
    const char *path, struct pkid_err *e)
{
	if (strlen(path) > 2000)
		return PKID_ERR(e, PKID_E_USAGE, "path too long");
	switch (f) {
	case PKID_TRUST_EXPORT_PEM_DIR:
		return pem_dir(anchors, path, e);
	case PKID_TRUST_EXPORT_PEM_BUNDLE:
		return pem_bundle(anchors, path, e);
	case PKID_TRUST_EXPORT_P7B:
		return p7b(anchors, path, e);
	default:
		return PKID_ERR(e, PKID_E_USAGE, "unknown export format %d", f);
	}
}
