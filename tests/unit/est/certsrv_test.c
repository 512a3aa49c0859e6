/*
 * certsrv_test.c - reading AD CS web enrollment's answer to a submission
 * (pkid_certsrv_parse_submit, est/certsrv.c): the markers of the pages as
 * the maintained certsrv client reads them (issued link, Certificate
 * Pending with its request id, the disposition message of a denial), a
 * template denial told from another, and malformed pages: cut short,
 * overlong ids, no markers, bytes that are not text. Also the state file
 * of requests held for approval (pkid_certsrv_state).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/cfg.h"
#include "core/limits.h"
#include "est/certsrv.h"

static void
parse(const char *page, struct certsrv_answer *a)
{
	/* An exact-size copy without NUL: the parser must not need one. */
	size_t n = strlen(page);
	char *p = malloc(n > 0 ? n : 1);

	assert_non_null(p);
	memcpy(p, page, n);
	pkid_certsrv_parse_submit(p, n, a);
	free(p);
}

static void
test_issued(void **state)
{
	struct certsrv_answer a;

	(void)state;
	parse("<html><h3>Certificate Issued</h3><a href=\"certnew.cer?"
	    "ReqID=42&amp;Enc=b64\">Download</a></html>", &a);
	assert_int_equal(a.disp, CERTSRV_ISSUED);
	assert_int_equal(a.reqid, 42);
	/* The link is what counts, as in the certsrv client. */
	parse("certnew.cer?ReqID=7&", &a);
	assert_int_equal(a.disp, CERTSRV_ISSUED);
	assert_int_equal(a.reqid, 7);
}

static void
test_pending(void **state)
{
	struct certsrv_answer a;

	(void)state;
	parse("<h3>Certificate Pending</h3><p>Your certificate request has "
	    "been received. However, you must wait for an administrator to "
	    "issue the certificate you requested.</p><p>Your Request Id is "
	    "1234.</p>", &a);
	assert_int_equal(a.disp, CERTSRV_PENDING);
	assert_int_equal(a.reqid, 1234);
	/* Without the heading it is not pending. */
	parse("<p>Your Request Id is 1234.</p>", &a);
	assert_int_equal(a.disp, CERTSRV_UNKNOWN);
	assert_int_equal(a.reqid, 0);
}

static void
test_denied(void **state)
{
	struct certsrv_answer a;

	(void)state;
	parse("<h3>Certificate Request Denied</h3><p>Your Request Id is 9."
	    "</p><p>The disposition message is \"Denied by Policy Module  "
	    "0x80094811, The public key does not meet the minimum size "
	    "required\".</p>", &a);
	assert_int_equal(a.disp, CERTSRV_DENIED);
	assert_int_equal(a.reqid, 0);
	assert_int_equal(a.template, 0);
	assert_string_equal(a.msg, "Denied by Policy Module  0x80094811, The "
	    "public key does not meet the minimum size required");
	parse("The disposition message is \"Denied by Policy Module  "
	    "0x80094800, The requested certificate template is not "
	    "supported by this CA.\"", &a);
	assert_int_equal(a.disp, CERTSRV_DENIED);
	assert_int_equal(a.template, 1);
	parse("The disposition message is \"0x80094012 The permissions on "
	    "the certificate template do not allow the current user to "
	    "enroll\"", &a);
	assert_int_equal(a.template, 1);
}

static void
test_malformed(void **state)
{
	struct certsrv_answer a;
	char big[600], *huge;
	size_t n = PKID_CERTSRV_MAX_BODY + 100;

	(void)state;
	parse("", &a);
	assert_int_equal(a.disp, CERTSRV_UNKNOWN);
	parse("certnew.cer?ReqID=", &a);
	assert_int_equal(a.disp, CERTSRV_UNKNOWN);
	parse("certnew.cer?ReqID=x1&", &a);
	assert_int_equal(a.disp, CERTSRV_UNKNOWN);
	/* An id of more digits than fit is no id. */
	parse("certnew.cer?ReqID=123456789012345&", &a);
	assert_int_equal(a.disp, CERTSRV_UNKNOWN);
	parse("Certificate Pending Your Request Id is ", &a);
	assert_int_equal(a.disp, CERTSRV_UNKNOWN);
	/* A message cut short, one without its closing quote, one too long,
	 * one with control bytes. */
	parse("The disposition message is \"", &a);
	assert_int_equal(a.disp, CERTSRV_DENIED);
	assert_string_equal(a.msg, "");
	parse("The disposition message is \"no end", &a);
	assert_string_equal(a.msg, "no end");
	memcpy(big, "The disposition message is \"", 28);
	memset(big + 28, 'x', sizeof(big) - 29);
	big[sizeof(big) - 1] = '\0';
	parse(big, &a);
	assert_int_equal(strlen(a.msg), sizeof(a.msg) - 1);
	parse("The disposition message is \"a\tb\x01" "c\"", &a);
	assert_string_equal(a.msg, "a b c");
	/* Past PKID_CERTSRV_MAX_BODY nothing is read. */
	huge = malloc(n);
	assert_non_null(huge);
	memset(huge, ' ', n);
	memcpy(huge + n - 30, "certnew.cer?ReqID=5&", 20);
	pkid_certsrv_parse_submit(huge, n, &a);
	assert_int_equal(a.disp, CERTSRV_UNKNOWN);
	free(huge);
}

/* The state file of requests held for approval: good lines kept, each
 * malformed one skipped, never more than PKID_CERTSRV_MAX_PENDING. */
static void
test_state(void **state)
{
	static struct pkid_est_label l;
	static const char key[] = "00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff";
	struct pkid_certsrv *cs;
	struct pkid_err e;
	char dir[] = "/tmp/pkid-certsrv-XXXXXX", pw[256], st[256], *big;
	FILE *f;
	size_t i, n = (size_t)(PKID_CERTSRV_MAX_PENDING + 5) * 75 + 1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(pw, sizeof(pw), "%s/pw", dir);
	assert_non_null(f = fopen(pw, "w"));
	fputs("secret\n", f);
	fclose(f);
	memset(&l, 0, sizeof(l));
	snprintf(l.upstream, sizeof(l.upstream),
	    "certsrv+https://dc.example/certsrv");
	l.upstream_certsrv = 1;
	snprintf(l.upstream_template, sizeof(l.upstream_template), "T");
	snprintf(l.upstream_user, sizeof(l.upstream_user), "LAB\\svc");
	snprintf(l.upstream_password_file, sizeof(l.upstream_password_file),
	    "%s", pw);
	l.upstream_timeout = 10;
	pkid_err_clear(&e);
	assert_non_null(cs = pkid_certsrv_new(&l, &e));
	/* No state file yet: nothing pending. */
	snprintf(st, sizeof(st), "%s/certsrv.pending", dir);
	pkid_certsrv_state(cs, st);
	assert_int_equal(pkid_certsrv_npending(cs), 0);
	/* Two good lines, then broken ones. */
	assert_non_null(f = fopen(st, "w"));
	fprintf(f, "%s 12\n%s 13\n", key, key);
	fputs("zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	    " 14\n", f);
	fprintf(f, "%s\n%s 0\n%s x1\n%s 1234567890123\n%.60s 5\n\n", key,
	    key, key, key, key);
	fprintf(f, "%s 77", key);	/* no final newline: kept */
	fclose(f);
	pkid_certsrv_state(cs, st);
	assert_int_equal(pkid_certsrv_npending(cs), 3);
	/* Past the bound, the rest is skipped. */
	assert_non_null(big = malloc(n));
	big[0] = '\0';
	for (i = 0; i < PKID_CERTSRV_MAX_PENDING + 5; i++)
		snprintf(big + strlen(big), n - strlen(big), "%s %zu\n", key,
		    i + 1);
	pkid_certsrv_state_parse(cs, big, strlen(big));
	assert_int_equal(pkid_certsrv_npending(cs), PKID_CERTSRV_MAX_PENDING);
	pkid_certsrv_state_parse(cs, "", 0);
	assert_int_equal(pkid_certsrv_npending(cs), 0);
	free(big);
	pkid_certsrv_free(cs);
	unlink(st);
	unlink(pw);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issued),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_denied),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
