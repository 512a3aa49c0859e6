/*
 * cmd_ca_gen.c - pkictl ca show (the CA's generations and its rollover
 * plan) and pkictl ca rollover (make the next generation now).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ca/ca.h"
#include "ca/rollover.h"
#include "cli/cli.h"
#include "core/clock.h"

/* Rows of the store, printed or gathered as JSON. */
struct show {
	int json;		/* gather into arr, else print */
	json_t *arr;		/* the generations (json) */
};

static const char *
tfmt(int64_t t, char *buf, size_t len)
{
	if (t <= 0)
		return "-";
	return pkid_time_fmt((time_t)t, buf, len);
}

static enum pkid_code
show_cb(const struct pkid_ca_gen *g, void *arg, struct pkid_err *e)
{
	struct show *s = arg;
	char t1[32], t2[32], t3[32];
	json_t *o;

	if (!s->json) {
		printf("%-4d %-11s %-8s %-20s %-20s %-20s %s\n", g->generation,
		    g->role, g->state, tfmt(g->not_before, t1, sizeof(t1)),
		    tfmt(g->not_after, t2, sizeof(t2)),
		    tfmt(g->activate_at, t3, sizeof(t3)), g->subject);
		return PKID_OK;
	}
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "generation",
	    g->generation, "role", g->role, "state", g->state, "subject",
	    g->subject, "not_before", tfmt(g->not_before, t1, sizeof(t1)),
	    "not_after", tfmt(g->not_after, t2, sizeof(t2)), "activate_at",
	    tfmt(g->activate_at, t3, sizeof(t3)));
	if (o == NULL || json_array_append_new(s->arr, o) != 0)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	return PKID_OK;
}

static json_t *
plan_json(const struct pkid_rollover_plan *p, const struct pkid_err *pe)
{
	char t1[32], t2[32], t3[32];

	return json_pack("{s:s, s:I, s:i, s:I, s:I, s:b, s:s, s:s, s:s, "
	    "s:s}", "leaf_profile", p->leaf_profile, "leaf_max_s",
	    (json_int_t)p->leaf_max, "renew_at", p->renew_pct, "margin_s",
	    (json_int_t)p->margin, "overlap_s", (json_int_t)p->overlap,
	    "derived", p->derived, "shadow_at", tfmt(p->shadow_at, t1,
	    sizeof(t1)), "activate_at", tfmt(p->activate_at, t2, sizeof(t2)),
	    "not_after", tfmt(p->not_after, t3, sizeof(t3)), "code",
	    pkid_err_id(pe->code));
}

static void
plan_text(const struct pkid_ca *ca, const struct pkid_rollover_plan *p,
    const struct pkid_err *pe)
{
	char t1[32], t2[32], t3[32], msg[1024];

	printf("plan: longest leaf lifetime %lldd (profile %s, renews at "
	    "%d%%), margin %lldd, overlap %lldd (%s)\n",
	    (long long)(p->leaf_max / 86400), p->leaf_profile, p->renew_pct,
	    (long long)(p->margin / 86400), (long long)(p->overlap / 86400),
	    p->derived ? "derived" : "configured");
	if (ca->next != NULL)
		printf("      generation %d is current; the next one exists and "
		    "takes over at %s\n", ca->generation, tfmt(
		    ca->next_activate, t1, sizeof(t1)));
	else
		printf("      generation %d is current until %s; the next one "
		    "is made at %s and takes over at %s\n", ca->generation,
		    tfmt(p->not_after, t3, sizeof(t3)), tfmt(p->shadow_at, t1,
		    sizeof(t1)), tfmt(p->activate_at, t2, sizeof(t2)));
	if (pe->code != PKID_OK)
		printf("      refused: %s: %s\n", pkid_err_id(pe->code),
		    pkid_err_message(pe, msg, sizeof(msg)));
}

int
pkictl_ca_show(struct pkid_ca *ca, int json, struct pkid_err *e)
{
	struct pkid_rollover_plan plan;
	struct pkid_err pe;
	struct show s;
	json_t *doc;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	pkid_err_clear(&pe);
	s.json = json;
	(void)pkid_ca_check_plan(ca, &plan, &pe);
	if (json && (s.arr = json_array()) == NULL)
		return pkictl_print_err(e, json);
	if (!json)
		printf("CA %s (%s signs)\n%-4s %-11s %-8s %-20s %-20s %-20s "
		    "%s\n", ca->cfg.ca_name, ca->root_only ? "the root" :
		    "an issuing CA", "GEN", "ROLE", "STATE", "NOT BEFORE",
		    "NOT AFTER", "ACTIVATES", "SUBJECT");
	if (pkid_store_ca_gen_list(ca->store, ca->cfg.ca_name, show_cb, &s,
	    e) != PKID_OK) {
		json_decref(s.arr);
		return pkictl_print_err(e, json);
	}
	if (!json) {
		plan_text(ca, &plan, &pe);
		return 0;
	}
	doc = json_pack("{s:s, s:i, s:o, s:o}", "ca", ca->cfg.ca_name,
	    "generation", ca->generation, "generations", s.arr, "plan",
	    plan_json(&plan, &pe));
	if (doc == NULL)
		return pkictl_print_err(e, json);
	rc = json_dumpf(doc, stdout, JSON_INDENT(2)) == 0 ? 0 : 1;
	printf("\n");
	json_decref(doc);
	return rc;
}

int
pkictl_ca_rollover(struct pkid_ca *ca, int now, const char *activate_at,
    int json, struct pkid_err *e)
{
	struct pkid_rollover_opts o;
	char t1[32];
	time_t t = 0;

	memset(&o, 0, sizeof(o));
	o.actor = "cli";
	if (activate_at != NULL &&
	    pkid_time_parse(activate_at, &t, e) != PKID_OK)
		return pkictl_print_err(e, json);
	o.activate_at = now ? (int64_t)pkid_now() : (int64_t)t;
	if (pkid_ca_rollover(ca, &o, e) != PKID_OK)
		return pkictl_print_err(e, json);
	if (ca->next != NULL)
		printf("rollover: generation %d of CA %s made; it takes over "
		    "at %s\n", ca->generation + 1, ca->cfg.ca_name,
		    tfmt(ca->next_activate, t1, sizeof(t1)));
	else
		printf("rollover: generation %d of CA %s is current now\n",
		    ca->generation, ca->cfg.ca_name);
	return 0;
}
