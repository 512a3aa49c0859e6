/*
 * err_test.c - the error catalogue and the pkid_err carrier.
 *
 * Walks every code of src/core/errtab.def (STYLE.md 2): a kebab-case id,
 * a summary and a remedy each, ids unique, numbers frozen by
 * tests/unit/core/err_codes.txt (checked both ways).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "core/err.h"

#define CODES_FILE "tests/unit/core/err_codes.txt"

/* [a-z0-9]+(-[a-z0-9]+)* */
static int
is_kebab(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || s[0] == '-')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '-' && (s[i + 1] == '-' || s[i + 1] == '\0'))
			return 0;
		if (s[i] != '-' && !(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9'))
			return 0;
	}
	return 1;
}

static void
test_every_code_documented(void **state)
{
	const struct pkid_errinfo *t;
	size_t n, i;

	(void)state;
	t = pkid_err_table(&n);
	assert_true(n > 10);
	for (i = 0; i < n; i++) {
		if (!is_kebab(t[i].id))
			fail_msg("%s: id '%s' is not kebab-case", t[i].sym,
			    t[i].id);
		assert_non_null(t[i].sym);
		assert_true(t[i].sym[0] != '\0');
		if (t[i].summary == NULL || t[i].summary[0] == '\0')
			fail_msg("%s: no summary", t[i].sym);
		if (t[i].remedy == NULL || t[i].remedy[0] == '\0')
			fail_msg("%s: no remedy", t[i].sym);
		assert_non_null(t[i].causes);
		assert_non_null(t[i].related);
		/* category in the high bits, one of the known ones */
		assert_true((t[i].code >> 16) <= PKID_CAT_INTERNAL);
		assert_ptr_equal(pkid_err_info(t[i].code), &t[i]);
		assert_ptr_equal(pkid_err_byid(t[i].id), &t[i]);
		assert_string_equal(pkid_err_id(t[i].code), t[i].id);
		assert_string_equal(pkid_err_summary(t[i].code), t[i].summary);
		assert_string_equal(pkid_err_remedy(t[i].code), t[i].remedy);
	}
	assert_int_equal(PKID_OK, 0);
	assert_int_equal(t[0].code, PKID_OK);
}

static void
test_ids_codes_unique(void **state)
{
	const struct pkid_errinfo *t;
	size_t n, i, j;

	(void)state;
	t = pkid_err_table(&n);
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			if (strcmp(t[i].id, t[j].id) == 0)
				fail_msg("id '%s' used twice", t[i].id);
			if (strcmp(t[i].sym, t[j].sym) == 0)
				fail_msg("symbol %s used twice", t[i].sym);
			if (t[i].code == t[j].code)
				fail_msg("%s and %s share number 0x%x",
				    t[i].sym, t[j].sym, (unsigned)t[i].code);
		}
	}
}

/* Every "related" id names a code that exists. */
static void
test_related_ids_exist(void **state)
{
	const struct pkid_errinfo *t;
	char buf[512], *tok, *save = NULL;
	size_t n, i;

	(void)state;
	t = pkid_err_table(&n);
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s", t[i].related);
		for (tok = strtok_r(buf, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save))
			if (pkid_err_byid(tok) == NULL)
				fail_msg("%s: related id '%s' unknown",
				    t[i].sym, tok);
	}
}

/* One frozen line: "0x030001 CSR_MALFORMED csr-malformed". */
struct frozen {
	unsigned long num;	/* the code's number */
	char sym[64];		/* its symbol */
	char id[64];		/* its id */
};

static size_t
read_frozen(struct frozen *out, size_t max)
{
	FILE *f = fopen(CODES_FILE, "r");
	char line[256];
	size_t n = 0;

	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root)",
		    CODES_FILE);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		assert_true(n < max);
		if (sscanf(line, "%lx %63s %63s", &out[n].num, out[n].sym,
		    out[n].id) != 3)
			fail_msg("%s: bad line '%s'", CODES_FILE, line);
		n++;
	}
	fclose(f);
	return n;
}

static void
test_numbers_frozen(void **state)
{
	static struct frozen fz[512];
	const struct pkid_errinfo *t, *info;
	size_t n, nf, i, j;

	(void)state;
	t = pkid_err_table(&n);
	nf = read_frozen(fz, 512);
	/* Every frozen code still exists with its number, symbol and id. */
	for (j = 0; j < nf; j++) {
		info = pkid_err_info((enum pkid_code)fz[j].num);
		if (info == NULL)
			fail_msg("frozen code 0x%06lx %s was removed or "
			    "renumbered", fz[j].num, fz[j].sym);
		if (strcmp(info->sym, fz[j].sym) != 0 ||
		    strcmp(info->id, fz[j].id) != 0)
			fail_msg("code 0x%06lx is now %s/%s, frozen as %s/%s",
			    fz[j].num, info->sym, info->id, fz[j].sym,
			    fz[j].id);
	}
	/* Every code of the table is frozen (add new ones to the file). */
	for (i = 0; i < n; i++) {
		for (j = 0; j < nf; j++)
			if (fz[j].num == (unsigned long)t[i].code)
				break;
		if (j == nf)
			fail_msg("code 0x%06x %s %s is missing from %s",
			    (unsigned)t[i].code, t[i].sym, t[i].id,
			    CODES_FILE);
	}
	assert_int_equal(n, nf);
}

static void
test_unknown_code(void **state)
{
	(void)state;
	assert_null(pkid_err_info((enum pkid_code)0x7fff1234));
	assert_null(pkid_err_byid("no-such-code"));
	assert_string_equal(pkid_err_id((enum pkid_code)0x7fff1234),
	    "internal");
	assert_non_null(pkid_err_remedy((enum pkid_code)0x7fff1234));
	assert_non_null(pkid_err_summary((enum pkid_code)0x7fff1234));
}

static void
test_first_error_wins(void **state)
{
	struct pkid_err e;
	enum pkid_code rc;
	int line;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(e.code, PKID_OK);
	assert_int_equal(e.depth, -1);
	line = __LINE__ + 1;
	rc = PKID_ERR(&e, PKID_E_EXPIRED, "cert[%d] expired", 0);
	assert_int_equal(rc, PKID_E_EXPIRED);
	rc = PKID_ERR(&e, PKID_E_INTERNAL, "later failure");
	/* the second error returns the first code and changes nothing */
	assert_int_equal(rc, PKID_E_EXPIRED);
	assert_int_equal(e.code, PKID_E_EXPIRED);
	assert_string_equal(e.detail, "cert[0] expired");
	assert_int_equal(e.line, line);
	assert_non_null(strstr(e.file, "err_test.c"));
	/* a NULL carrier is allowed and just returns the code */
	assert_int_equal(PKID_ERR(NULL, PKID_E_NOMEM, "x"), PKID_E_NOMEM);
	pkid_err_clear(NULL);
}

static void
test_ossl_error_drained(void **state)
{
	struct pkid_err e;
	char msg[512];

	(void)state;
	pkid_err_clear(&e);
	ERR_raise(ERR_LIB_X509, X509_R_CERT_ALREADY_IN_HASH_TABLE);
	PKID_ERR(&e, PKID_E_CRYPTO, "adding");
	assert_int_not_equal(e.ossl_err, 0);
	assert_int_equal(ERR_peek_error(), 0);
	pkid_err_message(&e, msg, sizeof(msg));
	assert_non_null(strstr(msg, "adding"));
	assert_non_null(strstr(msg, "(openssl: "));
	/* the queue is drained even when an error is already held */
	ERR_raise(ERR_LIB_X509, X509_R_CERT_ALREADY_IN_HASH_TABLE);
	PKID_ERR(&e, PKID_E_CRYPTO, "again");
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_ctx(void **state)
{
	struct pkid_err e;
	char msg[1024];
	int i;

	(void)state;
	pkid_err_clear(&e);
	PKID_ERR(&e, PKID_E_CSR_MALFORMED, "truncated");
	pkid_err_ctx(&e, "enrolling %s", "dev1");
	pkid_err_ctx(&e, "serving %s", "EST");
	assert_string_equal(e.context, "enrolling dev1; serving EST");
	assert_string_equal(e.detail, "truncated");
	assert_int_equal(e.code, PKID_E_CSR_MALFORMED);
	pkid_err_message(&e, msg, sizeof(msg));
	assert_string_equal(msg,
	    "truncated (while enrolling dev1; serving EST)");
	/* context is bounded and stays NUL-terminated */
	for (i = 0; i < 100; i++)
		pkid_err_ctx(&e, "layer %d of a very deep stack", i);
	assert_true(strlen(e.context) < sizeof(e.context));
	pkid_err_ctx(NULL, "ignored");
}

static void
test_message(void **state)
{
	struct pkid_err e;
	char msg[256], tiny[8];

	(void)state;
	pkid_err_clear(&e);
	PKID_ERR(&e, PKID_E_NOT_FOUND, "%s", "");
	/* no detail: the summary stands in */
	pkid_err_message(&e, msg, sizeof(msg));
	assert_string_equal(msg, pkid_err_summary(PKID_E_NOT_FOUND));
	pkid_err_clear(&e);
	PKID_ERR(&e, PKID_E_NOT_FOUND, "serial 01ab not found");
	pkid_err_message(&e, msg, sizeof(msg));
	assert_string_equal(msg, "serial 01ab not found");
	/* truncation, always terminated */
	assert_ptr_equal(pkid_err_message(&e, tiny, sizeof(tiny)), tiny);
	assert_string_equal(tiny, "serial ");
}

static void
test_macros(void **state)
{
	struct pkid_err err, *e = &err;
	enum pkid_code rc = PKID_E_INTERNAL;
	int reached = 0;

	(void)state;
	pkid_err_clear(e);
	PKID_CHECK(1 == 1, PKID_E_USAGE, "not taken");
	PKID_TRY(PKID_OK);
	PKID_OSSL(1, PKID_E_CRYPTO, "not taken");
	PKID_OSSL_PTR(e, PKID_E_NOMEM, "not taken");
	reached = 1;
	PKID_OSSL(0, PKID_E_CRYPTO, "openssl said %d", 0);
	reached = 2;
out:
	assert_int_equal(reached, 1);
	assert_int_equal(rc, PKID_E_CRYPTO);
	assert_string_equal(e->detail, "openssl said 0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code_documented),
		cmocka_unit_test(test_ids_codes_unique),
		cmocka_unit_test(test_related_ids_exist),
		cmocka_unit_test(test_numbers_frozen),
		cmocka_unit_test(test_unknown_code),
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_ossl_error_drained),
		cmocka_unit_test(test_ctx),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_macros),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
