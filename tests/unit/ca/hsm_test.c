/*
 * hsm_test.c - the pkcs11: URI parser (RFC 7512) and the PIN sources of
 * src/ca/hsm.c. The token itself is tested with SoftHSM2 in
 * tests/integration/test_hsm.py.
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

#include "ca/hsm.h"

static enum pkid_code
parse(const char *s, struct pkid_hsm_uri *u, struct pkid_err *e)
{
	pkid_err_clear(e);
	return pkid_hsm_uri_parse(s, strlen(s), u, e);
}

static void
test_uri_good(void **state)
{
	struct pkid_hsm_uri u;
	struct pkid_err e;
	char out[PKID_HSM_MAX_URI + 1];

	(void)state;
	assert_true(pkid_hsm_is_uri("pkcs11:token=a;object=b"));
	assert_false(pkid_hsm_is_uri("keys/issuing.key"));
	assert_int_equal(parse("pkcs11:token=pkid;object=ca", &u, &e),
	    PKID_OK);
	assert_string_equal(u.token, "pkid");
	assert_string_equal(u.object, "ca");
	assert_int_equal(u.id_len, 0);
	assert_int_equal(parse("pkcs11:token=My%20HSM;id=%01%ab;"
	    "type=private", &u, &e), PKID_OK);
	assert_string_equal(u.token, "My HSM");
	assert_string_equal(u.object, "");
	assert_int_equal(u.id_len, 2);
	assert_int_equal(u.id[0], 1);
	assert_int_equal(u.id[1], 0xab);
	/* Empty attributes between ';' are skipped. */
	assert_int_equal(parse("pkcs11:;token=t;;object=o;", &u, &e), PKID_OK);
	assert_string_equal(u.object, "o");
	/* with_object encodes what needs it and parses back. */
	assert_int_equal(parse("pkcs11:token=My%20HSM;object=ca", &u, &e),
	    PKID_OK);
	assert_int_equal(pkid_hsm_uri_with_object(&u, "ca root;x", out,
	    sizeof(out), &e), PKID_OK);
	assert_string_equal(out, "pkcs11:token=My%20HSM;object=ca%20root%3Bx");
	assert_int_equal(parse(out, &u, &e), PKID_OK);
	assert_string_equal(u.object, "ca root;x");
}

static void
test_uri_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"pkcs11",
		"file:token=a;object=b",
		"pkcs11:",
		"pkcs11:object=ca",			/* no token */
		"pkcs11:token=t",			/* no object/id */
		"pkcs11:token=t;object=o?pin-value=1234",
		"pkcs11:token=t;object=o?module-path=/x.so",
		"pkcs11:token=t;object=o;slot-id=1",	/* not supported */
		"pkcs11:token=t;object=o;type=cert",
		"pkcs11:token=t;object",		/* no '=' */
		"pkcs11:token=t;object=%4",		/* short escape */
		"pkcs11:token=t;object=%zz",
		"pkcs11:token=t;object=a%00b",		/* NUL in a label */
		"pkcs11:token=t;id=",
	};
	struct pkid_hsm_uri u;
	struct pkid_err e;
	char big[400];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &u, &e) != PKID_E_USAGE)
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_int_equal(parse("pkcs11:token=t;object=o?pin-value=1234", &u,
	    &e), PKID_E_USAGE);
	assert_null(strstr(e.detail, "1234"));
	/* Over-long URI and label. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "pkcs11:token=t;object=", 22);
	assert_int_equal(parse(big, &u, &e), PKID_E_USAGE);
	big[22 + PKID_HSM_MAX_LABEL + 1] = '\0';
	assert_int_equal(parse(big, &u, &e), PKID_E_USAGE);
	big[22 + PKID_HSM_MAX_LABEL] = '\0';
	assert_int_equal(parse(big, &u, &e), PKID_OK);
	/* The input is counted, not NUL-terminated. */
	assert_int_equal(pkid_hsm_uri_parse("pkcs11:token=t;object=o%41",
	    24, &u, &e), PKID_E_USAGE);
}

/* pkid_hsm_pin with a fresh error (the first error wins). */
static enum pkid_code
get_pin(const struct pkid_config *c, char *pin, size_t n, struct pkid_err *e)
{
	pkid_err_clear(e);
	return pkid_hsm_pin(c, pin, n, e);
}

static void
test_pin(void **state)
{
	static struct pkid_config c;
	char dir[] = "/tmp/pkid-hsm-test-XXXXXX", path[256], pin[64];
	struct pkid_err e;
	FILE *f;

	(void)state;
	pkid_config_defaults(&c);
	pkid_err_clear(&e);
	assert_int_equal(get_pin(&c, pin, sizeof(pin), &e),
	    PKID_E_HSM_PIN);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pin", dir);
	snprintf(c.hsm_pin_file, sizeof(c.hsm_pin_file), "%s", path);
	assert_int_equal(get_pin(&c, pin, sizeof(pin), &e),
	    PKID_E_HSM_PIN);	/* missing */
	assert_non_null(f = fopen(path, "w"));
	fputs("12 34\r\nsecond line\n", f);
	fclose(f);
	chmod(path, 0644);
	assert_int_equal(get_pin(&c, pin, sizeof(pin), &e),
	    PKID_E_HSM_PIN);	/* others may read it */
	assert_non_null(strstr(e.detail, "chmod 600"));
	chmod(path, 0600);
	assert_int_equal(get_pin(&c, pin, sizeof(pin), &e), PKID_OK);
	assert_string_equal(pin, "12 34");
	/* The environment wins over the file. */
	snprintf(c.hsm_pin_env, sizeof(c.hsm_pin_env), "PKID_HSM_TEST_PIN");
	unsetenv("PKID_HSM_TEST_PIN");
	assert_int_equal(get_pin(&c, pin, sizeof(pin), &e),
	    PKID_E_HSM_PIN);
	assert_non_null(strstr(e.detail, "PKID_HSM_TEST_PIN"));
	setenv("PKID_HSM_TEST_PIN", "9876", 1);
	assert_int_equal(get_pin(&c, pin, sizeof(pin), &e), PKID_OK);
	assert_string_equal(pin, "9876");
	unsetenv("PKID_HSM_TEST_PIN");
	c.hsm_pin_env[0] = '\0';
	assert_non_null(f = fopen(path, "w"));
	fputs("\n", f);
	fclose(f);
	assert_int_equal(get_pin(&c, pin, sizeof(pin), &e),
	    PKID_E_HSM_PIN);	/* empty */
	unlink(path);
	rmdir(dir);
}

static void
test_module_missing(void **state)
{
	static struct pkid_config c;
	struct pkid_err e;

	(void)state;
	pkid_config_defaults(&c);
	snprintf(c.hsm_module, sizeof(c.hsm_module), "/nonexistent/p11.so");
	setenv("PKID_HSM_TEST_PIN", "1", 1);
	snprintf(c.hsm_pin_env, sizeof(c.hsm_pin_env), "PKID_HSM_TEST_PIN");
	pkid_err_clear(&e);
	assert_int_equal(pkid_hsm_check(&c, "pkcs11:token=t;object=o", &e),
	    PKID_E_HSM_MODULE);
	assert_non_null(strstr(e.detail, "/nonexistent/p11.so"));
	unsetenv("PKID_HSM_TEST_PIN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_good),
		cmocka_unit_test(test_uri_bad),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_module_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
