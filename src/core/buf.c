/*
 * buf.c - bounded buffers, durable file writes, base64, cursor.
 */
#include "core/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

void
pkid_buf_init(struct pkid_buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
pkid_buf_free(struct pkid_buf *b)
{
	if (b == NULL)
		return;
	if (b->cap > 0)
		OPENSSL_clear_free(b->p, b->cap);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

static enum pkid_code
buf_reserve(struct pkid_buf *b, size_t n, struct pkid_err *e)
{
	size_t want, ncap;
	uint8_t *np;

	if (n > b->max || b->len > b->max - n)
		return PKID_ERR(e, PKID_E_TOO_LARGE,
		    "input larger than the limit of %zu bytes", b->max);
	want = b->len + n + 1;
	if (want <= b->cap)
		return PKID_OK;
	ncap = b->cap > 0 ? b->cap : 256;
	while (ncap < want)
		ncap *= 2;
	np = OPENSSL_zalloc(ncap);
	if (np == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "cannot allocate %zu bytes",
		    ncap);
	if (b->len > 0)
		memcpy(np, b->p, b->len);
	if (b->cap > 0)
		OPENSSL_clear_free(b->p, b->cap);
	b->p = np;
	b->cap = ncap;
	return PKID_OK;
}

enum pkid_code
pkid_buf_append(struct pkid_buf *b, const void *p, size_t n,
    struct pkid_err *e)
{
	enum pkid_code rc;

	if ((rc = buf_reserve(b, n, e)) != PKID_OK)
		return rc;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return PKID_OK;
}

enum pkid_code
pkid_buf_printf(struct pkid_buf *b, struct pkid_err *e, const char *fmt, ...)
{
	va_list ap;
	int n;
	enum pkid_code rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return PKID_ERR(e, PKID_E_INTERNAL, "bad format");
	if ((rc = buf_reserve(b, (size_t)n, e)) != PKID_OK)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return PKID_OK;
}

enum pkid_code
pkid_buf_read_file(struct pkid_buf *b, const char *path, size_t max,
    struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	int fd = -1;
	uint8_t chunk[16384];
	ssize_t n;

	pkid_buf_init(b, max);
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = PKID_ERR(e, PKID_E_IO_OPEN, "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = PKID_ERR(e, PKID_E_IO_READ, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((rc = pkid_buf_append(b, chunk, (size_t)n, e)) != PKID_OK) {
			pkid_err_ctx(e, "reading %s", path);
			goto out;
		}
	}
	if (b->p == NULL && (rc = buf_reserve(b, 0, e)) != PKID_OK)
		goto out;
	rc = PKID_OK;
out:
	if (fd > STDIN_FILENO)
		close(fd);
	if (rc != PKID_OK)
		pkid_buf_free(b);
	return rc;
}

static int
fsync_dir_of(const char *path)
{
	char tmp[4096];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

enum pkid_code
pkid_file_write(const char *path, const void *p, size_t n, int mode,
    struct pkid_err *e)
{
	char tmp[4096];
	int fd = -1;
	size_t off = 0;
	ssize_t w;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp)) {
		rc = PKID_ERR(e, PKID_E_IO_WRITE, "path too long: %s", path);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = PKID_ERR(e, PKID_E_IO_WRITE, "%s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	while (off < n) {
		w = write(fd, (const uint8_t *)p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = PKID_ERR(e, PKID_E_IO_WRITE, "%s: %s", tmp,
			    strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		rc = PKID_ERR(e, PKID_E_IO_WRITE, "%s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = PKID_ERR(e, PKID_E_IO_WRITE, "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	(void)fsync_dir_of(path);
	rc = PKID_OK;
out:
	if (fd >= 0)
		close(fd);
	if (rc != PKID_OK)
		(void)unlink(tmp);
	return rc;
}

void
pkid_cbs_init(struct pkid_cbs *c, const uint8_t *p, size_t len)
{
	c->p = p;
	c->len = len;
}

int
pkid_cbs_get_bytes(struct pkid_cbs *c, const uint8_t **out, size_t n)
{
	if (c->len < n)
		return 0;
	*out = c->p;
	c->p += n;
	c->len -= n;
	return 1;
}

int
pkid_cbs_get_u8(struct pkid_cbs *c, uint8_t *out)
{
	const uint8_t *b;

	if (!pkid_cbs_get_bytes(c, &b, 1))
		return 0;
	*out = b[0];
	return 1;
}

int
pkid_cbs_get_u16(struct pkid_cbs *c, uint16_t *out)
{
	const uint8_t *b;

	if (!pkid_cbs_get_bytes(c, &b, 2))
		return 0;
	*out = (uint16_t)((b[0] << 8) | b[1]);
	return 1;
}

int
pkid_cbs_get_u32(struct pkid_cbs *c, uint32_t *out)
{
	const uint8_t *b;

	if (!pkid_cbs_get_bytes(c, &b, 4))
		return 0;
	*out = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
	    ((uint32_t)b[2] << 8) | b[3];
	return 1;
}

/*
 * EVP_DecodeUpdate stops quietly at '-' (it is PEM's decoder), so "QUJD-x"
 * would decode as "ABC". RFC 4648 3.3: refuse anything outside the
 * alphabet; white space and line breaks are allowed.
 */
static int
base64_alphabet_only(const char *in, size_t inlen)
{
	size_t i;
	char c;

	for (i = 0; i < inlen; i++) {
		c = in[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' ||
		    c == '=' || c == ' ' || c == '\t' || c == '\r' ||
		    c == '\n'))
			return 0;
	}
	return 1;
}

enum pkid_code
pkid_base64_decode(const char *in, size_t inlen, struct pkid_buf *out,
    size_t max, struct pkid_err *e)
{
	EVP_ENCODE_CTX *ctx = NULL;
	uint8_t *tmp = NULL;
	int n1 = 0, n2 = 0;
	size_t cap;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, max);
	if (inlen > max / 3 * 4 + 4096) {
		rc = PKID_ERR(e, PKID_E_TOO_LARGE,
		    "base64 input of %zu bytes over the limit", inlen);
		goto out;
	}
	if (inlen > INT32_MAX) {
		rc = PKID_ERR(e, PKID_E_TOO_LARGE, "base64 input too large");
		goto out;
	}
	if (!base64_alphabet_only(in, inlen)) {
		rc = PKID_ERR(e, PKID_E_BASE64_BAD, "base64 data of %zu bytes "
		    "holds a character outside the base64 alphabet", inlen);
		goto out;
	}
	cap = inlen / 4 * 3 + 4;
	PKID_OSSL_PTR(ctx = EVP_ENCODE_CTX_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL_PTR(tmp = OPENSSL_malloc(cap), PKID_E_NOMEM, "no memory");
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, tmp, &n1, (const unsigned char *)in,
	    (int)inlen) < 0 || EVP_DecodeFinal(ctx, tmp + n1, &n2) != 1) {
		rc = PKID_ERR(e, PKID_E_BASE64_BAD,
		    "base64 data of %zu bytes does not decode", inlen);
		goto out;
	}
	if ((size_t)(n1 + n2) == 0) {
		rc = PKID_ERR(e, PKID_E_BASE64_BAD, "base64 data is empty");
		goto out;
	}
	PKID_TRY(pkid_buf_append(out, tmp, (size_t)(n1 + n2), e));
	rc = PKID_OK;
out:
	EVP_ENCODE_CTX_free(ctx);
	OPENSSL_free(tmp);
	if (rc != PKID_OK)
		pkid_buf_free(out);
	return rc;
}

enum pkid_code
pkid_base64_encode(const uint8_t *in, size_t inlen, int wrap,
    struct pkid_buf *out, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	size_t enclen = (inlen + 2) / 3 * 4;
	uint8_t *tmp = NULL;
	size_t i;

	pkid_buf_init(out, enclen + 2 * (enclen / 64 + 1) + 8);
	if (inlen > INT32_MAX / 2) {
		rc = PKID_ERR(e, PKID_E_TOO_LARGE, "input too large");
		goto out;
	}
	PKID_OSSL_PTR(tmp = OPENSSL_malloc(enclen + 1), PKID_E_NOMEM,
	    "no memory");
	EVP_EncodeBlock(tmp, in, (int)inlen);
	if (!wrap) {
		PKID_TRY(pkid_buf_append(out, tmp, enclen, e));
	} else {
		for (i = 0; i < enclen; i += 64) {
			size_t n = enclen - i < 64 ? enclen - i : 64;

			PKID_TRY(pkid_buf_append(out, tmp + i, n, e));
			PKID_TRY(pkid_buf_append(out, wrap == 2 ? "\r\n" : "\n",
			    wrap == 2 ? 2 : 1, e));
		}
	}
	if (out->p == NULL)
		PKID_TRY(pkid_buf_append(out, "", 0, e));
	rc = PKID_OK;
out:
	OPENSSL_free(tmp);
	if (rc != PKID_OK)
		pkid_buf_free(out);
	return rc;
}

void
pkid_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}
