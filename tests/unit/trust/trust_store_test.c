/*
 * trust_store_test.c - the trust store (src/trust/store.c, state.c) and the
 * import schedule (import.c): state.json and status.json refused when
 * malformed, the round trip, two CAs of one name, removal by SKI and
 * fingerprint, the lock, leftovers of a crash, a damaged anchor file,
 * and the back-off arithmetic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/limits.h"
#include "testcerts.h"
#include "trust/import.h"
#include "trust/store.h"
#include "x509/load.h"

static char dir[64];
static EVP_PKEY *k1, *k2;
static X509 *ca1, *ca2;	/* one name, two keys */

static int
setup(void **state)
{
	static const char *const ca[] = { TC_CA_EXTS, NULL };

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pkid-trust-test.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	k1 = tc_key_ec("P-256");
	k2 = tc_key_ec("P-256");
	ca1 = tc_cert("Same Root", k1, NULL, NULL, 1, TC_T2030,
	    TC_T2030 + 3650 * TC_DAY, ca);
	ca2 = tc_cert("Same Root", k2, NULL, NULL, 2, TC_T2030,
	    TC_T2030 + 3650 * TC_DAY, ca);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	X509_free(ca1);
	X509_free(ca2);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static enum pkid_code
parse(const char *text)
{
	struct pkid_trust_state st;
	struct pkid_err e;
	enum pkid_code rc;

	memset(&st, 0, sizeof(st));
	pkid_err_clear(&e);
	rc = pkid_trust_state_parse((const uint8_t *)text, strlen(text), &st,
	    &e);
	assert_int_equal(rc, e.code);
	pkid_trust_state_clear(&st);
	return rc;
}

#define HEAD "{\"format\":\"pkid-trust-store\",\"version\":1,"
#define FP "\"" \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\""
#define ANCHOR "{\"sha256\":" FP ",\"ski\":\"ab\",\"subject\":\"CN=x\"," \
	"\"not_before\":\"2030-01-01T00:00:00Z\",\"not_after\":" \
	"\"2031-01-01T00:00:00Z\",\"source\":\"s\",\"added\":" \
	"\"2030-01-01T00:00:00Z\"}"

static void
test_state_malformed(void **state)
{
	char *big;

	(void)state;
	assert_int_equal(parse(HEAD "\"anchors\":[" ANCHOR "],\"sources\":[]}"),
	    PKID_OK);
	assert_int_equal(parse(""), PKID_E_STORE_IO);
	assert_int_equal(parse("[]"), PKID_E_STORE_IO);
	assert_int_equal(parse("{\"format\":\"other\",\"version\":1}"),
	    PKID_E_STORE_IO);
	assert_int_equal(parse("{\"format\":\"pkid-trust-store\","
	    "\"version\":2,\"anchors\":[],\"sources\":[]}"),
	    PKID_E_STORE_SCHEMA);
	assert_int_equal(parse(HEAD "\"anchors\":[" ANCHOR "," ANCHOR "],"
	    "\"sources\":[]}"), PKID_E_STORE_IO);
	assert_int_equal(parse(HEAD "\"anchors\":[{\"sha256\":\"../x\"}],"
	    "\"sources\":[]}"), PKID_E_STORE_IO);
	assert_int_equal(parse(HEAD "\"anchors\":{},\"sources\":[]}"),
	    PKID_E_STORE_IO);
	assert_int_equal(parse(HEAD "\"anchors\":[],\"sources\":[{\"anchor\":"
	    FP ",\"serial\":-1}]}"), PKID_E_STORE_IO);
	assert_int_equal(parse(HEAD "\"anchors\":[],\"anchors\":[],"
	    "\"sources\":[]}"), PKID_E_STORE_IO);
	big = calloc(1, PKID_TRUST_MAX_STATE_SIZE + 2);
	assert_non_null(big);
	memset(big, ' ', PKID_TRUST_MAX_STATE_SIZE + 1);
	assert_int_equal(parse(big), PKID_E_TOO_LARGE);
	free(big);
}

static void
test_status_round_trip(void **state)
{
	struct pkid_trust_status a, b;
	struct pkid_buf buf;
	struct pkid_err e;

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(a.source, sizeof(a.source), "http://127.0.0.1/b.p7b");
	snprintf(a.result, sizeof(a.result), "failed");
	snprintf(a.code, sizeof(a.code), "connect-refused");
	snprintf(a.message, sizeof(a.message), "no \"answer\"");
	a.last_attempt = TC_T2030;
	a.next_attempt = TC_T2030 + 60;
	a.failures = 3;
	a.serial = -1;
	pkid_err_clear(&e);
	assert_int_equal(pkid_trust_status_write(&a, &buf, &e), PKID_OK);
	assert_int_equal(pkid_trust_status_parse(buf.p, buf.len, &b, &e),
	    PKID_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	pkid_buf_free(&buf);
	assert_int_equal(pkid_trust_status_parse((const uint8_t *)"{}", 2,
	    &b, &e), PKID_E_STORE_IO);
}

static void
test_store_round_trip(void **state)
{
	struct pkid_trust_store *s = NULL, *r = NULL;
	struct pkid_trust_state *st;
	struct pkid_trust_source *src;
	struct pkid_err e;
	char removed[65], fp1[65];

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_trust_store_open(dir, PKID_TRUST_WRITE, 0, &s,
	    &e), PKID_OK);
	assert_int_equal(pkid_trust_store_add(s, ca1, "test", TC_T2030, &e),
	    PKID_OK);
	assert_int_equal(pkid_trust_store_add(s, ca2, "test", TC_T2030, &e),
	    PKID_OK);
	assert_int_equal(pkid_trust_store_add(s, ca1, "again", TC_T2030, &e),
	    PKID_OK);
	src = pkid_trust_store_source(s, "00000000000000000000000000000000"
	    "00000000000000000000000000000000", 1);
	assert_non_null(src);
	src->serial = 9;
	memset(src->content_sha256, 'a', 64);
	assert_int_equal(pkid_trust_store_commit(s, &e), PKID_OK);
	/* The lock: a second writer or a reader waits, then store-busy. */
	assert_int_equal(pkid_trust_store_open(dir, PKID_TRUST_WRITE, 0, &r,
	    &e), PKID_E_STORE_BUSY);
	pkid_err_clear(&e);
	assert_int_equal(pkid_trust_store_open(dir, PKID_TRUST_READ, 100, &r,
	    &e), PKID_E_STORE_BUSY);
	pkid_trust_store_close(s);
	pkid_err_clear(&e);
	assert_int_equal(pkid_trust_store_open(dir, PKID_TRUST_READ, 0, &r,
	    &e), PKID_OK);
	st = pkid_trust_store_state(r);
	assert_int_equal(st->n, 2);
	assert_string_equal(st->a[0].subject, st->a[1].subject);
	assert_string_not_equal(st->a[0].ski, st->a[1].ski);
	assert_int_equal(st->nsrc, 1);
	assert_int_equal(st->src[0].serial, 9);
	pkid_trust_store_close(r);
	/* Removal: by SKI (with colons, upper case), then fingerprint. */
	assert_int_equal(pkid_trust_store_open(dir, PKID_TRUST_WRITE, 0, &s,
	    &e), PKID_OK);
	pkid_x509_fingerprint(ca1, fp1);
	assert_int_equal(pkid_trust_store_remove(s, "zz", removed, &e),
	    PKID_E_USAGE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_trust_store_remove(s, fp1, removed, &e),
	    PKID_OK);
	assert_string_equal(removed, fp1);
	assert_int_equal(pkid_trust_store_remove(s, fp1, removed, &e),
	    PKID_E_NOT_FOUND);
	assert_int_equal(pkid_trust_store_commit(s, &e), PKID_OK);
	pkid_trust_store_close(s);
}

static void
test_leftovers_and_damage(void **state)
{
	struct pkid_trust_store *s = NULL;
	struct pkid_err e;
	char p[256], fp[65];
	FILE *f;

	(void)state;
	/* A crash between an anchor file and state.json: ignored, then
	 * swept by the next commit. */
	snprintf(p, sizeof(p), "%s/anchors/%064d.pem", dir, 7);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("junk", f);
	fclose(f);
	pkid_err_clear(&e);
	assert_int_equal(pkid_trust_store_open(dir, PKID_TRUST_WRITE, 0, &s,
	    &e), PKID_OK);
	assert_int_equal(pkid_trust_store_state(s)->n, 1);
	assert_int_equal(pkid_trust_store_commit(s, &e), PKID_OK);
	pkid_trust_store_close(s);
	assert_int_not_equal(access(p, F_OK), 0);
	/* A listed anchor file replaced: refused, named. */
	pkid_x509_fingerprint(ca2, fp);
	snprintf(p, sizeof(p), "%s/anchors/%s.pem", dir, fp);
	f = fopen(p, "w");
	assert_non_null(f);
	PEM_write_X509(f, ca1);
	fclose(f);
	assert_int_equal(pkid_trust_store_open(dir, PKID_TRUST_READ, 0, &s,
	    &e), PKID_E_STORE_IO);
	assert_non_null(strstr(e.detail, fp));
}

static void
test_schedule(void **state)
{
	uint32_t r;

	(void)state;
	/* Success: the interval, jittered by at most 10%. */
	for (r = 0; r < 1000; r += 37) {
		int64_t d = pkid_trust_next_delay(86400, 0, 0, r);

		assert_true(d >= 86400 - 8640 && d <= 86400 + 8640);
	}
	/* Transient failures back off from 60 s, doubling, capped. */
	assert_int_equal(pkid_trust_next_delay(86400, 1, 1, 6), 60);
	assert_int_equal(pkid_trust_next_delay(86400, 2, 1, 12), 120);
	assert_int_equal(pkid_trust_next_delay(86400, 40, 1,
	    PKID_TRUST_RETRY_MAX_S / 10), PKID_TRUST_RETRY_MAX_S);
	/* Never longer than the interval; never below 1 s. */
	assert_int_equal(pkid_trust_next_delay(2, 5, 1, 0), 2);
	assert_int_equal(pkid_trust_next_delay(1, 0, 0, 0), 1);
	/* Lasting failures wait for the interval. */
	assert_true(pkid_trust_next_delay(3600, 3, 0, 0) >= 3240);
	assert_true(pkid_trust_failure_transient(PKID_E_CONNECT_REFUSED, 0));
	assert_true(pkid_trust_failure_transient(PKID_E_HTTP_STATUS, 503));
	assert_false(pkid_trust_failure_transient(PKID_E_HTTP_STATUS, 404));
	assert_false(pkid_trust_failure_transient(PKID_E_BUNDLE_ROLLBACK,
	    0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_malformed),
		cmocka_unit_test(test_status_round_trip),
		cmocka_unit_test(test_store_round_trip),
		cmocka_unit_test(test_leftovers_and_damage),
		cmocka_unit_test(test_schedule),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
