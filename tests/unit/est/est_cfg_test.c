/*
 * est_cfg_test.c - the [est] and [est LABEL] sections of pkid.conf:
 * defaults, parsing, --set, refusals, and the write/parse round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/cfg.h"

static enum pkid_code
parse(const char *text, struct pkid_config *c, struct pkid_err *e)
{
	pkid_config_defaults(c);
	pkid_err_clear(e);
	return pkid_config_parse(c, "t.conf", text, strlen(text), e);
}

static void
test_defaults(void **state)
{
	static struct pkid_config c;
	const struct pkid_est_label *l;

	(void)state;
	pkid_config_defaults(&c);
	assert_int_equal(c.n_est, 1);
	l = pkid_config_est_label(&c, "");
	assert_non_null(l);
	assert_string_equal(l->profile, "device");
	assert_int_equal(l->auth, PKID_EST_AUTH_BASIC_OR_CERT);
	assert_int_equal(l->channel_binding, PKID_CB_OFF);
	assert_int_equal(l->allow_subject_change, 0);
	assert_null(pkid_config_est_label(&c, "iot"));
}

static void
test_labels(void **state)
{
	static struct pkid_config c;
	const struct pkid_est_label *l;
	struct pkid_err e;

	(void)state;
	assert_int_equal(parse("[est]\nchannel_binding = required\n"
	    "[est iot]\nprofile = server\nauth = cert\n"
	    "client_ca = /etc/mfg.pem\nallow_subject_change = yes\n", &c, &e),
	    PKID_OK);
	assert_int_equal(c.n_est, 2);
	assert_int_equal(c.est[0].channel_binding, PKID_CB_REQUIRED);
	l = pkid_config_est_label(&c, "iot");
	assert_non_null(l);
	assert_string_equal(l->profile, "server");
	assert_int_equal(l->auth, PKID_EST_AUTH_CERT);
	assert_string_equal(l->client_ca, "/etc/mfg.pem");
	assert_int_equal(l->allow_subject_change, 1);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c, "est.lab2.auth=basic-and-cert",
	    &e), PKID_OK);
	assert_int_equal(pkid_config_est_label(&c, "lab2")->auth,
	    PKID_EST_AUTH_BASIC_AND_CERT);
	assert_int_equal(pkid_config_set(&c, "est.auth=basic", &e), PKID_OK);
	assert_int_equal(c.est[0].auth, PKID_EST_AUTH_BASIC);
}

static void
test_refusals(void **state)
{
	static struct pkid_config c;
	struct pkid_err e;

	(void)state;
	assert_int_equal(parse("[est]\nauth = magic\n", &c, &e),
	    PKID_E_CONFIG_BAD_VALUE);
	assert_non_null(strstr(e.detail, "t.conf:2"));
	assert_int_equal(parse("[est]\nchannel_binding = maybe\n", &c, &e),
	    PKID_E_CONFIG_BAD_VALUE);
	assert_int_equal(parse("[est]\ncolour = blue\n", &c, &e),
	    PKID_E_CONFIG_UNKNOWN_KEY);
	assert_int_equal(parse("[est cacerts]\nauth = basic\n", &c, &e),
	    PKID_E_CONFIG_BAD_VALUE);
	assert_int_equal(parse("[est a/b]\nauth = basic\n", &c, &e),
	    PKID_E_CONFIG_BAD_VALUE);
	assert_int_equal(parse("[est x]\nallow_subject_change = 2\n", &c, &e),
	    PKID_E_CONFIG_BAD_VALUE);
	assert_int_equal(parse("[est x]\nprofile =\n", &c, &e),
	    PKID_E_CONFIG_BAD_VALUE);
}

static void
test_roundtrip(void **state)
{
	static struct pkid_config a, b;
	struct pkid_buf out;
	struct pkid_err e;

	(void)state;
	assert_int_equal(parse("[est]\nauth = cert\n[est one]\n"
	    "profile = server\nchannel_binding = optional\n[est two]\n"
	    "client_ca = /x.pem\nallow_subject_change = yes\n", &a, &e),
	    PKID_OK);
	assert_int_equal(pkid_config_write(&a, &out, &e), PKID_OK);
	assert_non_null(strstr((char *)out.p, "[est one]\n"));
	assert_int_equal(parse((char *)out.p, &b, &e), PKID_OK);
	memcpy(b.path, a.path, sizeof(a.path));
	assert_memory_equal(&a, &b, sizeof(a));
	pkid_buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
