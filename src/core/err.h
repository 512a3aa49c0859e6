/*
 * err.h - pkid's one error model: a stable code, a message with the facts,
 * and a remedy from the catalogue (src/core/errtab.def).
 *
 * Library code never prints or exits: it fills a caller-allocated
 * struct pkid_err and returns the code. Only the programs render it.
 */
#ifndef PKID_CORE_ERR_H
#define PKID_CORE_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* Categories live in the high bits so a code's class is visible in it. */
enum pkid_cat {
	PKID_CAT_OK = 0,
	PKID_CAT_USAGE = 1,
	PKID_CAT_IO = 2,
	PKID_CAT_PARSE = 3,
	PKID_CAT_POLICY = 4,
	PKID_CAT_VERIFY = 5,
	PKID_CAT_PROTO = 6,
	PKID_CAT_STORE = 7,
	PKID_CAT_INTERNAL = 8,
};

#define PKID_CODE_MAKE(cat, n) (((cat) << 16) | (n))

enum pkid_code {
#define PKID_ERRDEF(sym, cat, n, id, sum, rem, causes, rel) \
	PKID_E_##sym = PKID_CODE_MAKE(PKID_CAT_##cat, n),
#include "core/errtab.def"
#undef PKID_ERRDEF
};

#define PKID_OK PKID_E_OK

/* One catalogue row. */
struct pkid_errinfo {
	enum pkid_code code;	/* numeric code, frozen */
	const char *sym;	/* C symbol without PKID_E_ */
	const char *id;		/* stable kebab-case id users see */
	const char *summary;	/* what went wrong, one line */
	const char *remedy;	/* what to do about it */
	const char *causes;	/* the usual causes */
	const char *related;	/* space-separated related ids */
};

/* Runtime carrier, caller-allocated; zero it (or pkid_err_clear) before use. */
struct pkid_err {
	enum pkid_code code;	/* first error wins */
	char detail[512];	/* the facts: object, rule, observed vs expected */
	char context[256];	/* "while ..." context added by callers */
	const char *file;	/* source location of the first error */
	int line;		/* line of the same */
	unsigned long ossl_err;	/* first OpenSSL error queued, 0 if none */
	int depth;		/* chain depth for verify errors, -1 if none */
	char subject[256];	/* subject of the certificate concerned, if any */
};

void pkid_err_clear(struct pkid_err *e);

/*
 * Record an error. When e already holds one, it is kept (first error wins)
 * and only the OpenSSL queue is drained. Returns code.
 */
enum pkid_code pkid_err_set(struct pkid_err *e, enum pkid_code code,
    const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Add "while ..." context to an error without touching its root cause. */
void pkid_err_ctx(struct pkid_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Catalogue lookups; NULL when unknown. Never free the result. */
const struct pkid_errinfo *pkid_err_info(enum pkid_code code);
const struct pkid_errinfo *pkid_err_byid(const char *id);
/* The whole catalogue, in table order. */
const struct pkid_errinfo *pkid_err_table(size_t *n);

/* Stable id of a code ("internal" for unknown codes). */
const char *pkid_err_id(enum pkid_code code);
const char *pkid_err_remedy(enum pkid_code code);
const char *pkid_err_summary(enum pkid_code code);

/*
 * Person-readable message: detail, then context, then OpenSSL's reason when
 * one was recorded. Writes into buf, always NUL-terminated; returns buf.
 */
const char *pkid_err_message(const struct pkid_err *e, char *buf, size_t len);

#define PKID_ERR(e, code, ...) \
	pkid_err_set((e), (code), __FILE__, __LINE__, __VA_ARGS__)

/* The three control-flow macros (STYLE.md section 3). Need rc, e and out:. */
#define PKID_CHECK(cond, code, ...) do {				\
	if (!(cond)) {							\
		rc = PKID_ERR(e, (code), __VA_ARGS__);			\
		goto out;						\
	}								\
} while (0)

#define PKID_TRY(call) do {						\
	if ((rc = (call)) != PKID_OK)					\
		goto out;						\
} while (0)

#define PKID_OSSL(call, code, ...) do {					\
	if ((call) <= 0) {						\
		rc = PKID_ERR(e, (code), __VA_ARGS__);			\
		goto out;						\
	}								\
} while (0)

#define PKID_OSSL_PTR(ptr, code, ...) do {				\
	if ((ptr) == NULL) {						\
		rc = PKID_ERR(e, (code), __VA_ARGS__);			\
		goto out;						\
	}								\
} while (0)

#endif
