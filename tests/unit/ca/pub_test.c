/*
 * pub_test.c - the published URLs of CA generations (src/ca/pub.c) and
 * [ca] crl_url / ca_issuers_url = auto (src/core/cfg.c): derivation,
 * and the request paths /crl/ and /ca/ accept, malformed ones included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ca/ca.h"

static void
conf(struct pkid_config *c, const char *text)
{
	struct pkid_err e;

	pkid_config_defaults(c);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_parse(c, "t.conf", text, strlen(text),
	    &e), PKID_OK);
}

static void
test_auto(void **state)
{
	static struct pkid_config c;
	const char *why;
	char u[1100];

	(void)state;
	conf(&c, "");
	assert_string_equal(c.crl_url, "auto");
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_CRL, u, sizeof(u),
	    &why), 0);
	assert_string_equal(u, "");
	assert_non_null(strstr(why, "loopback"));
	conf(&c, "[server]\nhttp = 10.0.0.1:8080\n");
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_CRL, u, sizeof(u),
	    NULL), 1);
	assert_string_equal(u, "http://10.0.0.1:8080/crl/ca.crl");
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_CA_ISSUERS, u,
	    sizeof(u), NULL), 1);
	assert_string_equal(u, "http://10.0.0.1:8080/ca/ca.cer");
	conf(&c, "[ca]\nname = acme\n[server]\nhttp = [::]:80\n"
	    "tls_names = pki.example.com,10.1.1.1\n");
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_CRL, u, sizeof(u),
	    NULL), 1);
	assert_string_equal(u, "http://pki.example.com:80/crl/acme.crl");
	conf(&c, "[server]\nhttp = 0.0.0.0:80\n");
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_CRL, u, sizeof(u),
	    &why), 0);
	assert_non_null(strstr(why, "tls_names"));
	conf(&c, "[server]\nhttp = [::1]:80\n");
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_CRL, u, sizeof(u),
	    NULL), 0);
	conf(&c, "[server]\nhttp = off\n");
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_CRL, u, sizeof(u),
	    &why), 0);
	assert_non_null(strstr(why, "off"));
	conf(&c, "[ca]\ncrl_url = off\nca_issuers_url = http://x/a.crt\n"
	    "[server]\nhttp = 10.0.0.1:80\n");
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_CRL, u, sizeof(u),
	    NULL), 0);
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_CA_ISSUERS, u,
	    sizeof(u), NULL), 1);
	assert_string_equal(u, "http://x/a.crt");
}

/* [ca] ocsp_url: off by default, auto is /ocsp on the http listener
 * (one URL for every generation), or as given. */
static void
test_ocsp_url(void **state)
{
	static struct pkid_config c;
	const char *why;
	char u[1100];

	(void)state;
	conf(&c, "[server]\nhttp = 10.0.0.1:8080\n");
	assert_string_equal(c.ocsp_url, "");
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_OCSP, u, sizeof(u),
	    &why), 0);
	assert_non_null(strstr(why, "not configured"));
	conf(&c, "[ca]\nocsp_url = auto\n[server]\nhttp = 10.0.0.1:8080\n");
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_OCSP, u, sizeof(u),
	    NULL), 1);
	assert_string_equal(u, "http://10.0.0.1:8080/ocsp");
	conf(&c, "[ca]\nocsp_url = auto\n[server]\nhttp = [::]:80\n"
	    "tls_names = pki.example.com\n");
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_OCSP, u, sizeof(u),
	    NULL), 1);
	assert_string_equal(u, "http://pki.example.com:80/ocsp");
	conf(&c, "[ca]\nocsp_url = auto\n");
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_OCSP, u, sizeof(u),
	    &why), 0);
	assert_non_null(strstr(why, "loopback"));
	conf(&c, "[ca]\nocsp_url = http://ocsp.example.com/\n");
	assert_int_equal(pkid_config_pub_url(&c, PKID_PUB_OCSP, u, sizeof(u),
	    NULL), 1);
	assert_string_equal(u, "http://ocsp.example.com/");
}

static void
test_generations(void **state)
{
	static struct pkid_config c;
	char u[1100];

	(void)state;
	conf(&c, "[ca]\ncrl_url = http://h:1/crl/ca.crl\n"
	    "ca_issuers_url = http://h:1/pki/ca\n");
	assert_string_equal(pkid_ca_pub_url(&c, PKID_PUB_CRL, 0, 1, u,
	    sizeof(u)), "http://h:1/crl/ca.crl");
	assert_string_equal(pkid_ca_pub_url(&c, PKID_PUB_CRL, 0, 3, u,
	    sizeof(u)), "http://h:1/crl/ca-3.crl");
	assert_string_equal(pkid_ca_pub_url(&c, PKID_PUB_CRL, 1, 1, u,
	    sizeof(u)), "http://h:1/crl/ca-root.crl");
	assert_string_equal(pkid_ca_pub_url(&c, PKID_PUB_CRL, 1, 2, u,
	    sizeof(u)), "http://h:1/crl/ca-root-2.crl");
	/* No extension in the last segment: the suffix goes at the end. */
	assert_string_equal(pkid_ca_pub_url(&c, PKID_PUB_CA_ISSUERS, 1, 2, u,
	    sizeof(u)), "http://h:1/pki/ca-root-2");
	/* Too small a buffer gives none rather than a cut URL. */
	assert_null(pkid_ca_pub_url(&c, PKID_PUB_CRL, 1, 2, u, 10));
}

static void
test_paths(void **state)
{
	static const char *bad[] = { "/crl/ca", "/crl/ca.crlx", "/crl/ca-.crl",
	    "/crl/ca-0.crl", "/crl/ca--1.crl", "/crl/ca-root-.crl",
	    "/crl/ca-rootx.crl", "/crl/ca-1x.crl", "/crl/ca-99999999999.crl",
	    "/crl/cb.crl", "/crl/ca.cer", "/ca/ca.crl", "/crl/ca-root-root.crl",
	    "/crl/ca-2.crl/x", "/crl/", "" };
	size_t i;
	int r, g;

	(void)state;
	assert_int_equal(pkid_ca_pub_path("ca", "/crl/ca.crl", "/crl/",
	    ".crl", &r, &g), 1);
	assert_int_equal(r, 0);
	assert_int_equal(g, 1);
	assert_int_equal(pkid_ca_pub_path("ca", "/crl/ca-12.crl", "/crl/",
	    ".crl", &r, &g), 1);
	assert_int_equal(g, 12);
	assert_int_equal(pkid_ca_pub_path("ca", "/ca/ca-root.cer", "/ca/",
	    ".cer", &r, &g), 1);
	assert_int_equal(r, 1);
	assert_int_equal(g, 1);
	assert_int_equal(pkid_ca_pub_path("ca", "/crl/ca-root-4.crl", "/crl/",
	    ".crl", &r, &g), 1);
	assert_int_equal(r, 1);
	assert_int_equal(g, 4);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pkid_ca_pub_path("ca", bad[i], "/crl/", ".crl",
		    &r, &g), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto),
		cmocka_unit_test(test_generations),
		cmocka_unit_test(test_ocsp_url),
		cmocka_unit_test(test_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
