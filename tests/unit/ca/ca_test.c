/*
 * ca_test.c - CA core: init/open, issue, manual approval, lint, names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ca/build.h"
#include "ca/ca.h"
#include "ca/policy.h"
#include "x509/load.h"

static struct pkid_requester test_rq = { "test", NULL };
static struct pkid_requester u_rq = { "u", NULL };

static char dir[256];

static int
setup(void **state)
{
	char tmpl[] = "/tmp/pkid-ca-test.XXXXXX";

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s/ca", tmpl);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf \"$(dirname '%s')\"", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static X509_REQ *
make_csr(const char *cn, const char *san)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509V3_CTX ctx;

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(r, n);
	X509_REQ_set_pubkey(r, k);
	if (san != NULL) {
		X509V3_set_ctx(&ctx, NULL, NULL, r, NULL, 0);
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, &ctx,
		    NID_subject_alt_name, san));
		X509_REQ_add_extensions(r, exts);
	}
	X509_REQ_sign(r, k, EVP_sha256());
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
	return r;
}

static struct pkid_ca *
init_open(const char **sets, int n_sets)
{
	struct pkid_ca_init_opts o;
	struct pkid_ca *ca = NULL;
	struct pkid_err e;

	memset(&o, 0, sizeof(o));
	o.domain = "example.com";
	o.ip_ranges = "10.0.0.0/8";
	o.sets = sets;
	o.n_sets = n_sets;
	pkid_err_clear(&e);
	assert_int_equal(pkid_ca_init(dir, &o, &e), PKID_OK);
	assert_int_equal(pkid_ca_open(dir, &ca, &e), PKID_OK);
	return ca;
}

static void
test_issue_and_reopen(void **state)
{
	struct pkid_ca *ca = init_open(NULL, 0);
	struct pkid_issue_result res;
	struct pkid_err e;
	X509_REQ *csr = make_csr("dev", "DNS:dev.example.com");
	X509 *again = NULL;
	EVP_PKEY *k = NULL;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_ca_issue(ca, csr, "device", &test_rq, &res, &e),
	    PKID_OK);
	assert_int_equal(strlen(res.serial), 32);
	assert_int_equal(X509_verify(res.cert, X509_get0_pubkey(ca->issuing)),
	    1);
	/* The key was copied as bytes; a decoded copy has it. */
	assert_null(X509_get0_pubkey(res.cert));
	assert_int_equal(pkid_x509_redecode(&res.cert, &e), PKID_OK);
	assert_int_equal(pkid_csr_key(csr, &k, &e), PKID_OK);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(res.cert), k), 1);
	EVP_PKEY_free(k);
	assert_int_equal(pkid_ca_cert_by_serial(ca, res.serial, &again, &e),
	    PKID_OK);
	assert_int_equal(X509_cmp(again, res.cert), 0);
	X509_free(again);
	pkid_issue_result_clear(&res);
	pkid_ca_close(ca);
	/* A second init of the same directory is refused. */
	{
		struct pkid_ca_init_opts o;

		memset(&o, 0, sizeof(o));
		pkid_err_clear(&e);
		assert_int_equal(pkid_ca_init(dir, &o, &e), PKID_E_CA_EXISTS);
	}
	X509_REQ_free(csr);
}

static void
test_manual_approval(void **state)
{
	const char *sets[] = { "profile.device.approval=manual" };
	struct pkid_ca *ca = init_open(sets, 1);
	struct pkid_enroll_result r1, r2, r3;
	struct pkid_issue_result ir;
	struct pkid_err e;
	X509_REQ *csr = make_csr("dev", NULL), *other = make_csr("b", NULL);

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_ca_enroll(ca, "est", NULL, csr, "device", &u_rq,
	    &r1, &e), PKID_OK);
	assert_int_equal(r1.state, PKID_ENROLL_PENDING);
	assert_true(r1.request_id > 0);
	/* The same CSR again is the same request, still pending. */
	assert_int_equal(pkid_ca_enroll(ca, "est", NULL, csr, "device", &u_rq,
	    &r2, &e), PKID_OK);
	assert_int_equal(r2.state, PKID_ENROLL_PENDING);
	assert_int_equal(r2.request_id, r1.request_id);
	assert_int_equal(pkid_ca_approve(ca, r1.request_id, "op", &ir, &e),
	    PKID_OK);
	assert_int_equal(pkid_ca_enroll(ca, "est", NULL, csr, "device", &u_rq,
	    &r3, &e), PKID_OK);
	assert_int_equal(r3.state, PKID_ENROLL_ISSUED);
	assert_string_equal(r3.issue.serial, ir.serial);
	assert_int_equal(X509_cmp(r3.issue.cert, ir.cert), 0);
	pkid_issue_result_clear(&r3.issue);
	pkid_issue_result_clear(&ir);
	/* Approving twice is refused. */
	assert_int_equal(pkid_ca_approve(ca, r1.request_id, "op", &ir, &e),
	    PKID_E_REQUEST_STATE);
	pkid_err_clear(&e);
	/* A rejected request answers request-rejected with the reason. */
	assert_int_equal(pkid_ca_enroll(ca, "est", NULL, other, "device", &u_rq,
	    &r1, &e), PKID_OK);
	assert_int_equal(pkid_ca_reject(ca, r1.request_id, "op",
	    "unknown device", &e), PKID_OK);
	assert_int_equal(pkid_ca_enroll(ca, "est", NULL, other, "device", &u_rq,
	    &r2, &e), PKID_E_REQUEST_REJECTED);
	assert_non_null(strstr(e.detail, "unknown device"));
	X509_REQ_free(csr);
	X509_REQ_free(other);
	pkid_ca_close(ca);
}

static void
test_lint_refuses_bad_tbs(void **state)
{
	struct pkid_certspec s;
	struct pkid_err e;
	X509_NAME *empty = X509_NAME_new();
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = NULL;
	char serial[48];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.subject = empty;
	s.pubkey = k;
	s.not_before = 1000;
	s.not_after = 2000;
	s.pathlen = -1;
	s.key_usage = KU_DIGITAL_SIGNATURE;
	pkid_err_clear(&e);
	/* Empty subject and no SAN: RFC 5280 4.2.1.6. */
	assert_int_equal(pkid_cert_build(&s, &x, serial, &e), PKID_OK);
	assert_int_equal(pkid_lint_tbs(x, &e), PKID_E_LINT_FAILED);
	assert_non_null(strstr(e.detail, "4.2.1.6"));
	X509_free(x);
	/* notBefore after notAfter: 4.1.2.5. */
	s.not_before = 3000;
	pkid_err_clear(&e);
	assert_int_equal(pkid_cert_build(&s, &x, serial, &e), PKID_OK);
	assert_int_equal(pkid_lint_tbs(x, &e), PKID_E_LINT_FAILED);
	assert_non_null(strstr(e.detail, "4.1.2.5"));
	X509_free(x);
	X509_NAME_free(empty);
	EVP_PKEY_free(k);
}

static void
test_name_parse(void **state)
{
	X509_NAME *n = NULL;
	struct pkid_err e;
	char buf[256];

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_name_parse("CN=a\\,b,O=Org", &n, &e), PKID_OK);
	X509_NAME_oneline(n, buf, sizeof(buf));
	assert_string_equal(buf, "/CN=a,b/O=Org");
	X509_NAME_free(n);
	assert_int_equal(pkid_name_parse("/CN=x/OU=y", &n, &e), PKID_OK);
	X509_NAME_free(n);
	assert_int_equal(pkid_name_parse("XX=1", &n, &e),
	    PKID_E_SUBJECT_INVALID);
	pkid_err_clear(&e);
	assert_int_equal(pkid_name_parse("CN", &n, &e), PKID_E_SUBJECT_INVALID);
}

static void
test_san_policy(void **state)
{
	struct pkid_config c;
	struct pkid_profile *p;
	GENERAL_NAMES *g = NULL;
	struct pkid_err e;
	X509_REQ *ok = make_csr("a", "DNS:a.dev.example.com, IP:10.2.3.4");
	X509_REQ *bad = make_csr("b", "DNS:a.dev.example.com.evil.org");
	X509_REQ *badip = make_csr("c", "IP:10.2.3.4, IP:11.0.0.1");

	(void)state;
	pkid_config_defaults(&c);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c,
	    "profile.device.san_dns_suffixes=dev.example.com", &e), PKID_OK);
	assert_int_equal(pkid_config_set(&c,
	    "profile.device.san_ip_ranges=10.0.0.0/8", &e), PKID_OK);
	p = (struct pkid_profile *)pkid_config_profile(&c, "device");
	assert_int_equal(pkid_policy_sans(p, ok, X509_REQ_get_subject_name(ok),
	    &g, &e), PKID_OK);
	assert_int_equal(sk_GENERAL_NAME_num(g), 2);
	GENERAL_NAMES_free(g);
	assert_int_equal(pkid_policy_sans(p, bad,
	    X509_REQ_get_subject_name(bad), &g, &e), PKID_E_SAN_NOT_ALLOWED);
	pkid_err_clear(&e);
	assert_int_equal(pkid_policy_sans(p, badip,
	    X509_REQ_get_subject_name(badip), &g, &e), PKID_E_SAN_NOT_ALLOWED);
	assert_non_null(strstr(e.detail, "11.0.0.1"));
	/* replace mode: the CN becomes the only DNS name. */
	pkid_err_clear(&e);
	p->san_mode = PKID_SAN_REPLACE;
	p->allow_any_dns = 1;
	assert_int_equal(pkid_policy_sans(p, badip,
	    X509_REQ_get_subject_name(badip), &g, &e), PKID_OK);
	assert_int_equal(sk_GENERAL_NAME_num(g), 1);
	assert_int_equal(sk_GENERAL_NAME_value(g, 0)->type, GEN_DNS);
	GENERAL_NAMES_free(g);
	X509_REQ_free(ok);
	X509_REQ_free(bad);
	X509_REQ_free(badip);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_issue_and_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_manual_approval, setup,
		    teardown),
		cmocka_unit_test(test_lint_refuses_bad_tbs),
		cmocka_unit_test(test_name_parse),
		cmocka_unit_test(test_san_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
