/*
 * agent_config_fuzz.c - libFuzzer target: pkictl agent's configuration
 * text (pkid_agent_cfg_parse). The input is not NUL-terminated: the
 * parser must honour its length. Nothing the text names is opened.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkid_agent_cfg *c = pkid_agent_cfg_new();
	struct pkid_err e;
	int i;

	if (c == NULL)
		return 0;
	pkid_err_clear(&e);
	if (pkid_agent_cfg_parse(c, "fuzz.conf", (const char *)data, size,
	    &e) == PKID_OK) {
		/* What parsed is within its bounds. */
		if (c->n_ids < 1 || c->n_ids > PKID_AGENT_MAX_IDENTITIES)
			abort();
		for (i = 0; i < c->n_ids; i++)
			if (c->ids[i].renew_pct < 1 ||
			    c->ids[i].renew_pct > 99 ||
			    c->ids[i].jitter_pct > PKID_AGENT_MAX_JITTER_PCT)
				abort();
	} else if (e.code == PKID_OK || e.detail[0] == '\0') {
		abort();	/* a refusal always says why */
	}
	pkid_agent_cfg_free(c);
	return 0;
}
