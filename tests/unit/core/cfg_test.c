/*
 * cfg_test.c - pkid.conf: defaults, parsing, file:line in every error,
 * --set, and write-then-parse round trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <openssl/x509v3.h>

#include "core/cfg.h"

/* Parse text over the defaults; the config is static (it is large). */
static enum pkid_code
parse(const char *text, struct pkid_config *c, struct pkid_err *e)
{
	pkid_config_defaults(c);
	pkid_err_clear(e);
	return pkid_config_parse(c, "t.conf", text, strlen(text), e);
}

/* Expect code, with the message starting with "t.conf:LINE:". */
static void
expect_err(const char *text, enum pkid_code code, int line)
{
	static struct pkid_config c;
	struct pkid_err e;
	char where[32];

	if (parse(text, &c, &e) != code)
		fail_msg("want %s, got %s (%s) for:\n%s", pkid_err_id(code),
		    pkid_err_id(e.code), e.detail, text);
	assert_int_equal(e.code, code);
	snprintf(where, sizeof(where), "t.conf:%d: ", line);
	if (strncmp(e.detail, where, strlen(where)) != 0)
		fail_msg("want '%s...', got '%s'", where, e.detail);
}

static void
test_defaults(void **state)
{
	static struct pkid_config c;
	const struct pkid_profile *p;

	(void)state;
	pkid_config_defaults(&c);
	assert_string_equal(c.ca_name, "ca");
	assert_string_equal(c.digest, "sha256");
	assert_int_equal(c.crl_next_update, 7 * 86400);
	assert_string_equal(c.ocsp_url, "");
	assert_int_equal(c.ocsp_next_update, PKID_OCSP_DEFAULT_NEXT_UPDATE_S);
	assert_int_equal(c.max_conns, PKID_DEFAULT_MAX_CONNS);
	assert_int_equal(c.max_body, PKID_MAX_HTTP_BODY);
	assert_int_equal(c.max_conns_per_addr, PKID_DEFAULT_MAX_CONNS_PER_ADDR);
	assert_int_equal(c.header_timeout, PKID_HTTP_HEADER_TIMEOUT_S);
	assert_int_equal(c.body_timeout, PKID_HTTP_BODY_TIMEOUT_S);
	assert_int_equal(c.handler_threads, 0);
	assert_int_equal(c.max_queue_delay_ms,
	    PKID_DEFAULT_MAX_QUEUE_DELAY_MS);
	assert_int_equal(c.tls_tickets, 0);
	assert_int_equal(c.n_profiles, 3);
	assert_non_null(p = pkid_config_profile(&c, "device"));
	assert_int_equal(p->lifetime, 365 * 86400);
	assert_int_equal(p->eku, PKID_EKU_CLIENT);
	/* No name until the operator says which (issue 9 item 5). */
	assert_int_equal(p->allow_any_dns, 0);
	assert_int_equal(p->allow_any_ip, 0);
	assert_int_equal(p->n_dns, 0);
	assert_int_equal(p->n_ip, 0);
	assert_non_null(p = pkid_config_profile(&c, "ra"));
	assert_int_equal(p->eku, PKID_EKU_CLIENT | PKID_EKU_CMC_RA);
	assert_non_null(p = pkid_config_profile(&c, "server"));
	assert_int_equal(p->lifetime, 90 * 86400);
	assert_int_equal(p->eku, PKID_EKU_SERVER | PKID_EKU_CLIENT);
	assert_int_equal(p->min_rsa_bits, 2048);
	assert_null(pkid_config_profile(&c, "nope"));
}

static const char good_conf[] =
	"; a comment\n"
	"# another\n"
	"[ca]\n"
	"name = corp-ca\n"
	"digest = sha384\n"
	"crl_next_update = 2d\n"
	"ocsp_url = http://ocsp.example:8080/ocsp\n"
	"ocsp_next_update = 30m\n"
	"\n"
	"[server]\r\n"
	"listen = 0.0.0.0:9443\r\n"
	"http = off\n"
	"workers = 4\n"
	"max_conns = 100\n"
	"rate_per_min = 60\n"
	"max_body = 65536\n"
	"max_conns_per_addr = 8\n"
	"header_timeout = 5s\n"
	"body_timeout = 2m\n"
	"handler_threads = 3\n"
	"max_queue_delay = 250ms\n"
	"tls_tickets = 2\n"
	"\n"
	"[profile device]\n"
	"lifetime = 600d\n"
	"\n"
	"[profile iot]\n"
	"lifetime = 30d\n"
	"backdate = 1h\n"
	"key_usage = digitalSignature\n"
	"ext_key_usage = clientAuth, serverAuth\n"
	"key_types = ec-p256, ed25519\n"
	"min_rsa_bits = 3072\n"
	"san_mode = replace\n"
	"san_dns_suffixes = iot.example, .dev.example\n"
	"san_ip_ranges = 10.0.0.0/8, fd00::/8\n"
	"subject = CN={cn},O=Corp\n"
	"approval = manual\n";

static void
test_parse_good(void **state)
{
	static struct pkid_config c;
	const struct pkid_profile *p;
	struct pkid_err e;

	(void)state;
	if (parse(good_conf, &c, &e) != PKID_OK)
		fail_msg("%s", e.detail);
	assert_string_equal(c.path, "t.conf");
	assert_string_equal(c.ca_name, "corp-ca");
	assert_string_equal(c.digest, "sha384");
	assert_int_equal(c.crl_next_update, 2 * 86400);
	assert_string_equal(c.ocsp_url, "http://ocsp.example:8080/ocsp");
	assert_int_equal(c.ocsp_next_update, 30 * 60);
	assert_string_equal(c.listen, "0.0.0.0:9443");
	assert_string_equal(c.http, "off");
	assert_int_equal(c.workers, 4);
	assert_int_equal(c.max_conns, 100);
	assert_int_equal(c.rate_per_min, 60);
	assert_int_equal(c.max_body, 65536);
	assert_int_equal(c.max_conns_per_addr, 8);
	assert_int_equal(c.header_timeout, 5);
	assert_int_equal(c.body_timeout, 120);
	assert_int_equal(c.handler_threads, 3);
	assert_int_equal(c.max_queue_delay_ms, 250);
	assert_int_equal(c.tls_tickets, 2);
	assert_int_equal(c.n_profiles, 4);
	assert_int_equal(pkid_config_profile(&c, "device")->lifetime,
	    600 * 86400);
	assert_non_null(p = pkid_config_profile(&c, "iot"));
	assert_int_equal(p->lifetime, 30 * 86400);
	assert_int_equal(p->backdate, 3600);
	assert_int_equal(p->key_usage, KU_DIGITAL_SIGNATURE);
	assert_int_equal(p->eku, PKID_EKU_CLIENT | PKID_EKU_SERVER);
	assert_int_equal(p->key_types, PKID_KT_EC_P256 | PKID_KT_ED25519);
	assert_int_equal(p->min_rsa_bits, 3072);
	assert_int_equal(p->san_mode, PKID_SAN_REPLACE);
	assert_int_equal(p->n_dns, 2);
	assert_string_equal(p->san_dns[0], "iot.example");
	assert_string_equal(p->san_dns[1], "dev.example");
	assert_false(p->allow_any_dns);
	assert_int_equal(p->n_ip, 2);
	assert_int_equal(p->san_ip[0].family, AF_INET);
	assert_int_equal(p->san_ip[0].prefix, 8);
	assert_int_equal(p->san_ip[1].family, AF_INET6);
	assert_string_equal(p->subject, "CN={cn},O=Corp");
	assert_true(p->manual_approval);
}

static void
test_unknown_key_and_section(void **state)
{
	(void)state;
	expect_err("[ca]\nname = x\nbogus = 1\n", PKID_E_CONFIG_UNKNOWN_KEY,
	    3);
	expect_err("[server]\n\n\nlisten_on = 1\n",
	    PKID_E_CONFIG_UNKNOWN_KEY, 4);
	expect_err("[profile device]\nlifetme = 10d\n",
	    PKID_E_CONFIG_UNKNOWN_KEY, 2);
	/* an unknown section is reported at its first key */
	expect_err("[ca]\nname = x\n\n[bogus]\nkey = 1\n",
	    PKID_E_CONFIG_UNKNOWN_KEY, 5);
}

static void
test_bad_value(void **state)
{
	(void)state;
	expect_err("[server]\nworkers = many\n", PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[server]\nworkers = 257\n", PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[server]\nheader_timeout = 10\n", PKID_E_CONFIG_BAD_VALUE,
	    2);
	expect_err("[server]\nheader_timeout = 0s\n", PKID_E_CONFIG_BAD_VALUE,
	    2);
	expect_err("[server]\nbody_timeout = 2h\n", PKID_E_CONFIG_BAD_VALUE,
	    2);
	expect_err("[server]\nmax_conns_per_addr = -1\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[server]\nhandler_threads = 257\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[server]\ntls_tickets = 5\n", PKID_E_CONFIG_BAD_VALUE,
	    2);
	expect_err("[server]\nmax_queue_delay = 5ms\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[server]\nmax_queue_delay = 61s\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[server]\nmax_queue_delay = 1\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[server]\nmax_queue_delay = -1s\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[server]\nmax_queue_delay = xms\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[ca]\ndigest = md5\n", PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[ca]\nocsp_url = https://x/ocsp\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[ca]\nocsp_url = http://x/a b\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[ca]\nocsp_next_update = 59s\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[ca]\nocsp_next_update = 8d\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[ca]\nname = a b\n", PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("; c\n[profile device]\nlifetime = 10\n",
	    PKID_E_CONFIG_BAD_VALUE, 3);
	expect_err("[profile device]\nlifetime = 30s\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[profile device]\nkey_types = dsa\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[profile device]\nsan_ip_ranges = 10.0.0.0/33\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[profile device]\nsan_mode = keep\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
}

/* [est] upstream: text given, and what it is kept as (NULL: refused with
 * config-bad-value on line 2, the message holding want). */
static void
upstream_case(const char *v, const char *kept, const char *want)
{
	static struct pkid_config c;
	struct pkid_err e;
	char text[1200];

	snprintf(text, sizeof(text), "[est]\nupstream = %s\n", v);
	if (kept != NULL) {
		if (parse(text, &c, &e) != PKID_OK)
			fail_msg("'%s' refused: %s", v, e.detail);
		assert_string_equal(c.est[0].upstream, kept);
		return;
	}
	expect_err(text, PKID_E_CONFIG_BAD_VALUE, 2);
	(void)parse(text, &c, &e);
	if (strstr(e.detail, want) == NULL ||
	    strstr(e.detail, "/.well-known/est/LABEL") == NULL)
		fail_msg("'%s': no '%s' in '%s'", v, want, e.detail);
}

static void
test_est_upstream(void **state)
{
	static const char base[] = "https://ca.example:8443/.well-known/est";

	(void)state;
	upstream_case("https://ca.example:8443", base, NULL);
	upstream_case("https://ca.example:8443/", base, NULL);
	upstream_case("https://ca.example:8443/.well-known/est", base, NULL);
	upstream_case("https://ca.example:8443/.well-known/est/", base, NULL);
	upstream_case("HTTPS://ca.example:8443//", base, NULL);
	upstream_case("https://ca.example:8443/.well-known/est/iot",
	    "https://ca.example:8443/.well-known/est/iot", NULL);
	upstream_case("https://ca.example:8443/.well-known/est/iot/",
	    "https://ca.example:8443/.well-known/est/iot", NULL);
	upstream_case("https://ca.example", "https://ca.example/.well-known/est",
	    NULL);
	upstream_case("https://[::1]:8443",
	    "https://[::1]:8443/.well-known/est", NULL);
	upstream_case("http://ca.example:8080", NULL, "over https://");
	upstream_case("ca.example:8443", NULL, "over https://");
	upstream_case("https://ca.example:8443/est", NULL,
	    "its path '/est' is not /.well-known/est");
	upstream_case("https://ca.example:8443/.well-known/estx", NULL,
	    "is not /.well-known/est");
	upstream_case("https://ca.example:8443/.well-known/est/a/b", NULL,
	    "one label");
	upstream_case("https://ca.example:8443/.well-known/est/cacerts", NULL,
	    "not an operation's");
	upstream_case("https://ca.example:8443/.well-known/est?x=1", NULL,
	    "query string");
	upstream_case("https://ca.example:8443/#top", NULL, "fragment");
	upstream_case("https://user:pw@ca.example:8443", NULL, "user name");
	upstream_case("https://", NULL, "no host");
	upstream_case("https://:8443/", NULL, "no host");
	upstream_case("https://ca.example:0", NULL, "port");
	upstream_case("https://ca.example:99999", NULL, "port");
	upstream_case("https://ca.example:84x3", NULL, "port");
	upstream_case("https://[::1/", NULL, "']'");
}

/* upstream = certsrv+https://...: AD CS web enrollment, its keys, and a
 * roundtrip through the written file. */
static void
test_est_certsrv(void **state)
{
	static struct pkid_config a, b;
	static const char conf[] = "[est]\n"
	    "upstream = certsrv+https://lab-dc.example.com/certsrv/\n"
	    "upstream_cacert = /etc/pkid/lab-root.pem\n"
	    "upstream_template = PkidDevice\n"
	    "upstream_user = LAB\\svc-pkid\n"
	    "upstream_password_file = /etc/pkid/svc.pw\n"
	    "upstream_auth = ntlm\n"
	    "upstream_timeout = 5s\n";
	struct pkid_buf out;
	struct pkid_err e;

	(void)state;
	assert_int_equal(parse(conf, &a, &e), PKID_OK);
	assert_string_equal(a.est[0].upstream,
	    "certsrv+https://lab-dc.example.com/certsrv");
	assert_int_equal(a.est[0].upstream_certsrv, 1);
	assert_string_equal(a.est[0].upstream_template, "PkidDevice");
	assert_string_equal(a.est[0].upstream_user, "LAB\\svc-pkid");
	assert_string_equal(a.est[0].upstream_password_file,
	    "/etc/pkid/svc.pw");
	assert_int_equal(a.est[0].upstream_auth, PKID_UPSTREAM_AUTH_NTLM);
	assert_int_equal(a.est[0].upstream_timeout, 5);
	assert_int_equal(pkid_config_write(&a, &out, &e), PKID_OK);
	assert_non_null(strstr((char *)out.p, "upstream_auth = ntlm\n"));
	pkid_config_defaults(&b);
	if (pkid_config_parse(&b, "t.conf", (char *)out.p, out.len, &e) !=
	    PKID_OK)
		fail_msg("%s\n%s", e.detail, (char *)out.p);
	assert_memory_equal(&a.est[0], &b.est[0], sizeof(a.est[0]));
	pkid_buf_free(&out);
	/* The default path, defaults of the keys. */
	assert_int_equal(parse("[est]\nupstream = certsrv+https://dc:8443\n",
	    &a, &e), PKID_OK);
	assert_string_equal(a.est[0].upstream, "certsrv+https://dc:8443/certsrv");
	assert_int_equal(a.est[0].upstream_auth, PKID_UPSTREAM_AUTH_BASIC);
	assert_int_equal(a.est[0].upstream_timeout, 10);
	/* A plain URL again is an EST upstream. */
	assert_int_equal(parse("[est]\nupstream = certsrv+https://dc\n"
	    "upstream = https://ca.example\n", &a, &e), PKID_OK);
	assert_int_equal(a.est[0].upstream_certsrv, 0);
	expect_err("[est]\nupstream = certsrv+https://u@dc/certsrv\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[est]\nupstream = certsrv+https://dc/certsrv?x\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[est]\nupstream = certsrv+https://dc:99999/certsrv\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[est]\nupstream = certsrv+https:///certsrv\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[est]\nupstream_auth = kerberos\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[est]\nupstream_template = a&b=c\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[est]\nupstream_user = LAB\\svc:x\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[est]\nupstream_certsrv = 1\n",
	    PKID_E_CONFIG_UNKNOWN_KEY, 2);
}

static void
test_syntax(void **state)
{
	char text[600];

	(void)state;
	expect_err("[ca]\nthis is not ini\n", PKID_E_CONFIG_SYNTAX, 2);
	expect_err("[ca\nname = x\n", PKID_E_CONFIG_SYNTAX, 1);
	expect_err("name = x\n[ca]\n", PKID_E_CONFIG_SYNTAX, 1);
	/* the first error is reported, whatever kind comes after it */
	expect_err("[ca]\nnot ini\nbogus = 1\n", PKID_E_CONFIG_SYNTAX, 2);
	expect_err("[ca]\nbogus = 1\nnot ini\n", PKID_E_CONFIG_UNKNOWN_KEY,
	    2);
	/* over-long line */
	snprintf(text, sizeof(text), "[ca]\n; %0300d\nname = x\n", 0);
	expect_err(text, PKID_E_CONFIG_SYNTAX, 2);
}

/* A NUL byte in the middle is refused (the counted text is binary-safe). */
static void
test_nul_byte(void **state)
{
	static const char text[] = "[ca]\nname = x\0y\n";
	static struct pkid_config c;
	struct pkid_err e;

	(void)state;
	pkid_config_defaults(&c);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_parse(&c, "t.conf", text,
	    sizeof(text) - 1, &e), PKID_E_CONFIG_SYNTAX);
	assert_non_null(strstr(e.detail, "t.conf:2:"));
}

/* The longest line accepted, and line numbers after it stay right. */
static void
test_line_limit(void **state)
{
	static struct pkid_config c;
	char text[600];
	struct pkid_err e;
	int n = 199 - (int)strlen("tls_names = ");

	(void)state;
	snprintf(text, sizeof(text), "[server]\ntls_names = %0*d\n", n, 0);
	assert_int_equal(parse(text, &c, &e), PKID_OK);
	assert_int_equal(strlen(c.tls_names), n);
	snprintf(text, sizeof(text), "[server]\ntls_names = %0*d\nbogus = 1\n",
	    n, 0);
	expect_err(text, PKID_E_CONFIG_UNKNOWN_KEY, 3);
	/* one more character and the line is refused */
	snprintf(text, sizeof(text), "[server]\ntls_names = %0*d\n", n + 1,
	    0);
	expect_err(text, PKID_E_CONFIG_SYNTAX, 2);
}

/* Only len bytes are read: the text need not be NUL-terminated. */
static void
test_counted_text(void **state)
{
	static struct pkid_config c;
	static const char text[] = "[ca]\nname = abcdef";
	struct pkid_err e;

	(void)state;
	pkid_config_defaults(&c);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_parse(&c, "t.conf", text,
	    sizeof(text) - 1 - 3, &e), PKID_OK);
	assert_string_equal(c.ca_name, "abc");
	assert_int_equal(pkid_config_parse(&c, "t.conf", text, 0, &e),
	    PKID_OK);
}

static void
test_set(void **state)
{
	static struct pkid_config c;
	struct pkid_err e;

	(void)state;
	pkid_config_defaults(&c);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c, "profile.device.lifetime=600d",
	    &e), PKID_OK);
	assert_int_equal(pkid_config_profile(&c, "device")->lifetime,
	    INT64_C(600) * 86400);
	assert_int_equal(pkid_config_set(&c, "ca.name=other", &e), PKID_OK);
	assert_string_equal(c.ca_name, "other");
	assert_int_equal(pkid_config_set(&c, "server.workers=3", &e),
	    PKID_OK);
	assert_int_equal(c.workers, 3);
	assert_int_equal(pkid_config_set(&c, "profile.new.lifetime=1d", &e),
	    PKID_OK);
	assert_int_equal(c.n_profiles, 4);
	assert_int_equal(pkid_config_set(&c, "nokey", &e),
	    PKID_E_CONFIG_SYNTAX);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c, "ca.bogus=1", &e),
	    PKID_E_CONFIG_UNKNOWN_KEY);
	assert_non_null(strstr(e.context, "--set ca.bogus=1"));
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c, "a.b.c=1", &e),
	    PKID_E_CONFIG_UNKNOWN_KEY);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c, "profile.device.lifetime=1y",
	    &e), PKID_E_CONFIG_BAD_VALUE);
}

/* [store] url: SQLite by default, PostgreSQL as a URL or conninfo
 * string; anything else refused; written and read back. */
static void
test_store_url(void **state)
{
	static struct pkid_config c, d;
	struct pkid_buf out;
	struct pkid_err e;

	(void)state;
	pkid_config_defaults(&c);
	assert_string_equal(c.store_url, "sqlite:pkid.db");
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c, "store.url=sqlite:/var/x.db",
	    &e), PKID_OK);
	assert_int_equal(pkid_config_set(&c, "store.url=host=db.example "
	    "dbname=pkid user=pkid", &e), PKID_OK);
	assert_int_equal(pkid_config_set(&c, "store.url=host=/run/postgresql "
	    "dbname=pkid", &e), PKID_OK);
	assert_int_equal(pkid_config_set(&c,
	    "store.url=postgresql://pkid@db.example:5432/pkid", &e), PKID_OK);
	assert_string_equal(c.store_url,
	    "postgresql://pkid@db.example:5432/pkid");
	assert_int_equal(pkid_config_set(&c, "store.url=mysql://db/pkid", &e),
	    PKID_E_CONFIG_BAD_VALUE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c, "store.url=sqlite:", &e),
	    PKID_E_CONFIG_BAD_VALUE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c, "store.path=x", &e),
	    PKID_E_CONFIG_UNKNOWN_KEY);
	pkid_err_clear(&e);
	expect_err("[store]\nurl = /var/lib/pkid.db\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	assert_int_equal(pkid_config_write(&c, &out, &e), PKID_OK);
	assert_non_null(strstr((char *)out.p, "[store]\nurl = "
	    "postgresql://pkid@db.example:5432/pkid\n"));
	pkid_config_defaults(&d);
	assert_int_equal(pkid_config_parse(&d, "", (char *)out.p, out.len,
	    &e), PKID_OK);
	assert_string_equal(d.store_url, c.store_url);
	pkid_buf_free(&out);
}

/* Inputs config_fuzz found that did not read back as written. */
static void
test_writable_values(void **state)
{
	static struct pkid_config c;
	const struct pkid_profile *p;
	struct pkid_err e;

	(void)state;
	assert_int_equal(parse("[profile device]\n"
	    "san_dns_suffixes = ..a.example, .*\n", &c, &e), PKID_OK);
	p = pkid_config_profile(&c, "device");
	assert_int_equal(p->n_dns, 1);
	assert_string_equal(p->san_dns[0], "a.example");
	assert_true(p->allow_any_dns);
	expect_err("[profile device]\nsan_dns_suffixes = .\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[profile device]\nsan_dns_suffixes = a,;b\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	/* "=;x" keeps ";x", which "= ;x" would read back as a comment */
	expect_err("[server]\nlisten =;x\n", PKID_E_CONFIG_BAD_VALUE, 2);
	assert_int_equal(parse("[server]\nlisten = a;b\n", &c, &e), PKID_OK);
	assert_string_equal(c.listen, "a;b");
	/* --set values do not pass through inih */
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c, "server.listen= x", &e),
	    PKID_E_CONFIG_BAD_VALUE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c,
	    "server.listen=x\n[ca]\nname = evil", &e), PKID_E_CONFIG_BAD_VALUE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&c, "profile.a]b.lifetime=1d", &e),
	    PKID_E_CONFIG_BAD_VALUE);
}

static void
test_roundtrip(void **state)
{
	static struct pkid_config a, b;
	char dir[] = "/tmp/pkid-cfg-test-XXXXXX", path[256];
	struct pkid_buf out;
	struct pkid_err e;

	(void)state;
	assert_int_equal(parse(good_conf, &a, &e), PKID_OK);
	assert_int_equal(pkid_config_set(&a, "profile.server.backdate=90s",
	    &e), PKID_OK);
	assert_int_equal(pkid_config_write(&a, &out, &e), PKID_OK);
	pkid_config_defaults(&b);
	if (pkid_config_parse(&b, "t.conf", (char *)out.p, out.len, &e) !=
	    PKID_OK)
		fail_msg("%s\n%s", e.detail, (char *)out.p);
	assert_memory_equal(&a, &b, sizeof(a));
	/* the same through a file */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pkid.conf", dir);
	assert_int_equal(pkid_file_write(path, out.p, out.len, 0600, &e),
	    PKID_OK);
	pkid_config_defaults(&b);
	assert_int_equal(pkid_config_load(&b, path, &e), PKID_OK);
	assert_string_equal(b.path, path);
	memcpy(b.path, a.path, sizeof(b.path));
	assert_memory_equal(&a, &b, sizeof(a));
	pkid_buf_free(&out);
	unlink(path);
	assert_int_equal(pkid_config_load(&b, path, &e), PKID_E_IO_OPEN);
	rmdir(dir);
	/* max_queue_delay in its three forms */
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&a, "server.max_queue_delay=off",
	    &e), PKID_OK);
	assert_int_equal(a.max_queue_delay_ms, -1);
	assert_int_equal(pkid_config_write(&a, &out, &e), PKID_OK);
	assert_non_null(strstr((char *)out.p, "max_queue_delay = off\n"));
	pkid_config_defaults(&b);
	assert_int_equal(pkid_config_parse(&b, "", (char *)out.p, out.len,
	    &e), PKID_OK);
	assert_int_equal(b.max_queue_delay_ms, -1);
	pkid_buf_free(&out);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&a, "server.max_queue_delay=2m",
	    &e), PKID_E_CONFIG_BAD_VALUE);
	pkid_err_clear(&e);
	assert_int_equal(pkid_config_set(&a, "server.max_queue_delay=1m",
	    &e), PKID_OK);
	assert_int_equal(a.max_queue_delay_ms, 60000);
	assert_int_equal(pkid_config_write(&a, &out, &e), PKID_OK);
	assert_non_null(strstr((char *)out.p, "max_queue_delay = 60s\n"));
	pkid_buf_free(&out);
	/* the defaults round-trip too */
	pkid_config_defaults(&a);
	assert_int_equal(pkid_config_write(&a, &out, &e), PKID_OK);
	pkid_config_defaults(&b);
	assert_int_equal(pkid_config_parse(&b, "", (char *)out.p, out.len,
	    &e), PKID_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	pkid_buf_free(&out);
}

/* [hsm]: module, pin_file, pin_env; never a PIN; written only when set,
 * and read back the same. */
static void
test_hsm(void **state)
{
	static struct pkid_config a, b;
	struct pkid_buf out;
	struct pkid_err e;

	(void)state;
	pkid_config_defaults(&a);
	assert_string_equal(a.hsm_module, PKID_HSM_DEFAULT_MODULE);
	assert_int_equal(pkid_config_write(&a, &out, &e), PKID_OK);
	assert_null(strstr((char *)out.p, "[hsm]"));
	pkid_buf_free(&out);
	assert_int_equal(parse("[hsm]\nmodule = /opt/hsm/lib.so\n"
	    "pin_file = /etc/pkid/hsm.pin\npin_env = PKID_PIN\n", &a, &e),
	    PKID_OK);
	assert_string_equal(a.hsm_module, "/opt/hsm/lib.so");
	assert_string_equal(a.hsm_pin_file, "/etc/pkid/hsm.pin");
	assert_string_equal(a.hsm_pin_env, "PKID_PIN");
	assert_int_equal(pkid_config_write(&a, &out, &e), PKID_OK);
	assert_non_null(strstr((char *)out.p, "[hsm]\n"));
	pkid_config_defaults(&b);
	assert_int_equal(pkid_config_parse(&b, "t.conf", (char *)out.p,
	    out.len, &e), PKID_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	pkid_buf_free(&out);
	/* The PIN is not configuration text. */
	expect_err("[hsm]\npin = 1234\n", PKID_E_CONFIG_BAD_VALUE, 2);
	assert_null(strstr(e.detail, "1234"));
	expect_err("[hsm]\nmodule = libsofthsm2.so\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[hsm]\npin_file = hsm.pin\n", PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[hsm]\npin_env = 1BAD\n", PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[hsm]\npin_env = A-B\n", PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[hsm]\nslot = 1\n", PKID_E_CONFIG_UNKNOWN_KEY, 2);
	pkid_config_defaults(&a);
	assert_int_equal(pkid_config_set(&a, "hsm.pin_env=HSM_PIN", &e),
	    PKID_OK);
	assert_string_equal(a.hsm_pin_env, "HSM_PIN");
}

static void
test_acme(void **state)
{
	static struct pkid_config c;
	struct pkid_err e;
	struct pkid_buf b;

	(void)state;
	pkid_config_defaults(&c);
	assert_string_equal(c.acme_profiles, "");
	assert_int_equal(c.acme_http_port, 80);
	assert_int_equal(parse("[acme]\nprofiles = device\nvalidation_ports = "
	    "http:5002\nresolve = a.example.com=127.0.0.1,b=::1\n", &c, &e),
	    PKID_OK);
	assert_string_equal(c.acme_profiles, "device");
	assert_int_equal(c.acme_http_port, 5002);
	assert_string_equal(c.acme_resolve, "a.example.com=127.0.0.1,b=::1");
	pkid_buf_init(&b, 1 << 20);
	assert_int_equal(pkid_config_write(&c, &b, &e), PKID_OK);
	assert_non_null(memmem(b.p, b.len, "validation_ports = http:5002",
	    28));
	pkid_buf_free(&b);
	expect_err("[acme]\nvalidation_ports = tls:5001\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[acme]\nvalidation_ports = http:70000\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[acme]\nresolve = a.example.com\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[acme]\nresolve = a=300.1.1.1\n",
	    PKID_E_CONFIG_BAD_VALUE, 2);
	expect_err("[acme]\nbogus = 1\n", PKID_E_CONFIG_UNKNOWN_KEY, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hsm),
		cmocka_unit_test(test_acme),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_unknown_key_and_section),
		cmocka_unit_test(test_bad_value),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_counted_text),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_writable_values),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_store_url),
		cmocka_unit_test(test_est_upstream),
		cmocka_unit_test(test_est_certsrv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
