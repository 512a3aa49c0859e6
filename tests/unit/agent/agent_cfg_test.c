/*
 * agent_cfg_test.c - pkictl agent's configuration text: defaults, every
 * key, and each refusal with its code and file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent.h"

static const char good[] =
    "; comment\n"
    "[agent]\n"
    "state_dir = /var/lib/x\n"
    "log_level = debug\n"
    "hook_timeout = 2m\n"
    "max_sleep = 10m\n"
    "\n"
    "[identity web]\n"
    "protocol = est\n"
    "url = https://ca.example.com:8443\n"
    "label = iot\n"
    "cert = /etc/pki/web.pem\n"
    "key = /etc/pki/web.key\n"
    "chain = /etc/pki/web-chain.pem\n"
    "trust = /etc/pki/ca.pem\n"
    "user = dev1\n"
    "password_file = /etc/pki/pw\n"
    "renew_at = 80%\n"
    "jitter = 2d\n"
    "hook = systemctl reload nginx\n"
    "timeout = 10s\n"
    "max_wait = 5m\n"
    "new_key = ec-p384\n"
    "\n"
    "[identity vpn]\n"
    "protocol = scep\n"
    "server = http://ca.example.com/scep\n"
    "cert = /etc/pki/vpn.pem\n"
    "key = /etc/pki/vpn.key\n"
    "trust = /etc/pki/ca.d\n"
    "challenge_file = /etc/pki/chal\n"
    "ca = main\n"
    "compat = on\n";

static void
test_good(void **state)
{
	struct pkid_agent_cfg *c = pkid_agent_cfg_new();
	const struct pkid_agent_id *w, *v;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	assert_int_equal(pkid_agent_cfg_parse(c, "a.conf", good, strlen(good),
	    &e), PKID_OK);
	assert_string_equal(c->state_dir, "/var/lib/x");
	assert_int_equal(c->log_level, PKID_LOG_DEBUG);
	assert_int_equal(c->hook_timeout_s, 120);
	assert_int_equal(c->max_sleep_s, 600);
	assert_int_equal(c->n_ids, 2);
	w = &c->ids[0];
	v = &c->ids[1];
	assert_string_equal(w->name, "web");
	assert_int_equal(w->line_section, 8);
	assert_int_equal(w->proto, PKID_AGENT_EST);
	assert_string_equal(w->label, "iot");
	assert_int_equal(w->renew_pct, 80);
	assert_int_equal(w->jitter_pct, -1);
	assert_int_equal(w->jitter_s, 2 * 86400);
	assert_int_equal(w->timeout_s, 10);
	assert_int_equal(w->max_wait_s, 300);
	assert_string_equal(w->new_key, "ec-p384");
	assert_string_equal(w->hook, "systemctl reload nginx");
	assert_int_equal(w->line[PKID_AGENT_K_CERT], 12);
	/* Defaults. */
	assert_int_equal(v->proto, PKID_AGENT_SCEP);
	/* server is url by the name pkictl enroll's option has. */
	assert_string_equal(v->url, "http://ca.example.com/scep");
	assert_int_equal(v->line[PKID_AGENT_K_URL], 27);
	assert_int_equal(v->renew_pct, 70);
	assert_int_equal(v->jitter_pct, 10);
	assert_int_equal(v->timeout_s, 30);
	assert_int_equal(v->compat, 1);
	assert_string_equal(v->ca_name, "main");
	assert_string_equal(v->chain, "");
	pkid_agent_cfg_free(c);
}

/* text is refused with code, and the message starts with "t.conf:LINE:"
 * and holds want. */
static void
refused(const char *text, enum pkid_code code, int line, const char *want)
{
	struct pkid_agent_cfg *c = pkid_agent_cfg_new();
	struct pkid_err e;
	char at[32];

	pkid_err_clear(&e);
	if (pkid_agent_cfg_parse(c, "t.conf", text, strlen(text), &e) != code)
		fail_msg("'%s': %s: %s", text, pkid_err_id(e.code), e.detail);
	snprintf(at, sizeof(at), "t.conf:%d:", line);
	if (line > 0 && strncmp(e.detail, at, strlen(at)) != 0)
		fail_msg("'%s': no %s in '%s'", text, at, e.detail);
	if (strstr(e.detail, want) == NULL)
		fail_msg("'%s': no '%s' in '%s'", text, want, e.detail);
	pkid_agent_cfg_free(c);
}

static void
test_refusals(void **state)
{
	(void)state;
	refused("[identity a]\nprotocol = est\ncertificate = x\n",
	    PKID_E_CONFIG_UNKNOWN_KEY, 3, "unknown key 'certificate'");
	refused("[agent]\nstate = /x\n", PKID_E_CONFIG_UNKNOWN_KEY, 2,
	    "unknown key 'state'");
	refused("[identity a]\ntimeout = 5x\n", PKID_E_CONFIG_BAD_VALUE, 2,
	    "timeout is a duration");
	refused("[identity a]\ntimeout = 3600s\n", PKID_E_CONFIG_BAD_VALUE, 2,
	    "timeout is a duration");
	refused("[agent]\nhook_timeout = 0s\n[identity a]\nprotocol = est\n",
	    PKID_E_CONFIG_BAD_VALUE, 2, "hook_timeout");
	refused("[identity a]\nrenew_at = 100%\n", PKID_E_CONFIG_BAD_VALUE, 2,
	    "renew_at is 1% to 99%");
	refused("[identity a]\njitter = lots\n", PKID_E_CONFIG_BAD_VALUE, 2,
	    "jitter is 0% to 50%");
	refused("[identity a]\njitter = 60%\n", PKID_E_CONFIG_BAD_VALUE, 2,
	    "jitter");
	refused("[identity a]\nprotocol = acme\n", PKID_E_CONFIG_BAD_VALUE, 2,
	    "protocol is est or scep");
	refused("[identity a]\nnew_key = dsa\n", PKID_E_CONFIG_BAD_VALUE, 2,
	    "new_key is");
	refused("[identity a]\ncompat = yes\n", PKID_E_CONFIG_BAD_VALUE, 2,
	    "compat is on or off");
	refused("[identity a]\nurl = x\nserver = y\n",
	    PKID_E_CONFIG_BAD_VALUE, 3, "url and server are one key");
	refused("[identity a]\nurl = x\n\nurl = y\n", PKID_E_CONFIG_BAD_VALUE,
	    4, "given twice");
	refused("[identity a]\nurl = x\n[identity a]\nurl = y\n",
	    PKID_E_CONFIG_BAD_VALUE, 4, "given twice (first on line 1)");
	refused("[identity a/b]\nurl = x\n", PKID_E_CONFIG_BAD_VALUE, 2,
	    "identity name 'a/b'");
	refused("[identity .hidden]\nurl = x\n", PKID_E_CONFIG_BAD_VALUE, 2,
	    "identity name");
	refused("[identities]\nurl = x\n", PKID_E_CONFIG_UNKNOWN_KEY, 2,
	    "unknown section [identities]");
	refused("url = x\n[identity a]\n", PKID_E_CONFIG_SYNTAX, 1,
	    "outside any [section]");
	refused("[identity a]\nthis is not a key\n", PKID_E_CONFIG_SYNTAX, 2,
	    "not a [section] or key = value");
	refused("[agent]\nlog_level = debug\n", PKID_E_CONFIG_BAD_VALUE, 0,
	    "no [identity NAME] section");
	refused("[agent]\nlog_level = loud\n", PKID_E_CONFIG_BAD_VALUE, 2,
	    "log_level is debug, info, warn or error");
	refused("[identity a]\nurl =\n", PKID_E_CONFIG_BAD_VALUE, 2,
	    "url is empty");
}

static void
test_bounds(void **state)
{
	char *big = malloc(300);
	char *many = malloc(100 * 32);
	size_t i, n = 0;

	(void)state;
	/* A line inih would split is refused, named. */
	snprintf(big, 300, "[identity a]\nhook = %0250d\n", 7);
	refused(big, PKID_E_CONFIG_SYNTAX, 2, "longer than 199");
	/* More identities than the bound. */
	for (i = 0; i <= PKID_AGENT_MAX_IDENTITIES; i++)
		n += (size_t)snprintf(many + n, 100 * 32 - n,
		    "[identity i%zu]\nurl = x\n", i);
	refused(many, PKID_E_CONFIG_BAD_VALUE, 2 * PKID_AGENT_MAX_IDENTITIES +
	    2, "more than 64 identities");
	{
		static const char nul[] = "[identity a]\nurl = x\0y\n";
		struct pkid_agent_cfg *c = pkid_agent_cfg_new();
		struct pkid_err e;

		pkid_err_clear(&e);
		assert_int_equal(pkid_agent_cfg_parse(c, "t.conf", nul,
		    sizeof(nul) - 1, &e), PKID_E_CONFIG_SYNTAX);
		assert_non_null(strstr(e.detail, "t.conf:2: NUL byte"));
		pkid_agent_cfg_free(c);
	}
	free(big);
	free(many);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
