/*
 * buf.h - bounded byte buffers and a bounds-checked read cursor.
 */
#ifndef PKID_CORE_BUF_H
#define PKID_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Owned when cap > 0; a borrowed slice when cap == 0. */
struct pkid_buf {
	uint8_t *p;	/* data, NUL-terminated when owned */
	size_t len;	/* bytes used */
	size_t cap;	/* bytes allocated, 0 when borrowed */
	size_t max;	/* the most this buffer may grow to */
};

/* Start an empty owned buffer that may grow to max bytes. */
void pkid_buf_init(struct pkid_buf *b, size_t max);
/* Free an owned buffer (secrets are wiped); a borrowed one is only reset. */
void pkid_buf_free(struct pkid_buf *b);
/* Append; PKID_E_TOO_LARGE past max, PKID_E_NOMEM on allocation failure. */
enum pkid_code pkid_buf_append(struct pkid_buf *b, const void *p, size_t n,
    struct pkid_err *e);
enum pkid_code pkid_buf_printf(struct pkid_buf *b, struct pkid_err *e,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Read a whole file of at most max bytes ("-" reads stdin). */
enum pkid_code pkid_buf_read_file(struct pkid_buf *b, const char *path,
    size_t max, struct pkid_err *e);
/*
 * Write a file atomically and durably: temp file, fsync, rename, fsync of
 * the directory. mode as for open(2).
 */
enum pkid_code pkid_file_write(const char *path, const void *p, size_t n,
    int mode, struct pkid_err *e);

/* Bounds-checked cursor over borrowed bytes; every get fails when short. */
struct pkid_cbs {
	const uint8_t *p;	/* next unread byte */
	size_t len;		/* bytes left */
};

void pkid_cbs_init(struct pkid_cbs *c, const uint8_t *p, size_t len);
int pkid_cbs_get_u8(struct pkid_cbs *c, uint8_t *out);
int pkid_cbs_get_u16(struct pkid_cbs *c, uint16_t *out);
int pkid_cbs_get_u32(struct pkid_cbs *c, uint32_t *out);
int pkid_cbs_get_bytes(struct pkid_cbs *c, const uint8_t **out, size_t n);

/*
 * Base64 (RFC 4648, standard alphabet) through OpenSSL's EVP_Encode*.
 * Decoding accepts line breaks and surrounding white space.
 */
enum pkid_code pkid_base64_decode(const char *in, size_t inlen,
    struct pkid_buf *out, size_t max, struct pkid_err *e);
/* Encode on one line when wrap == 0, else in lines of 64 characters,
 * each ended by "\n" (wrap == 1) or "\r\n" (wrap == 2, RFC 2045). */
enum pkid_code pkid_base64_encode(const uint8_t *in, size_t inlen,
    int wrap, struct pkid_buf *out, struct pkid_err *e);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void pkid_hex(const uint8_t *p, size_t n, char *out);

#endif
