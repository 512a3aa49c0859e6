/*
 * rollover.h - when the next generation of a CA must exist and when it
 * takes over issuance (DESIGN.md "CA generations and rollover").
 *
 * Pure functions of the configuration and the validity of the generation
 * that signs leaves: pkid, pkid --check, pkictl ca init/show/plan and the
 * fleet simulator all compute the same dates from them.
 *
 * With L the longest leaf lifetime of any profile and M the rollover
 * margin ([ca] rollover_margin, 7 days by default):
 *
 *   activate_at = notAfter - L   from here a leaf issued by the current
 *                                generation would be cut short at its
 *                                notAfter, so new issuance moves to the
 *                                next generation, and a device renewing
 *                                from here needs the next CA certificate
 *   shadow_at   = notAfter - overlap, overlap = L + M (derived), so the
 *                                next generation exists M before the
 *                                first device can ask for it
 *
 * A configured [ca] rollover_overlap shorter than L + M would leave
 * devices asking (SCEP GetNextCACert) before anything exists to answer:
 * the "404 storm" this module refuses (rollover-overlap-too-short).
 */
#ifndef PKID_CA_ROLLOVER_H
#define PKID_CA_ROLLOVER_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/err.h"

/* The dates of one generation's succession, epoch seconds. */
struct pkid_rollover_plan {
	int64_t not_before;	/* the current generation's validity */
	int64_t not_after;
	int64_t leaf_max;	/* L: the longest profile lifetime */
	char leaf_profile[64];	/* the profile that has it */
	int renew_pct;		/* that profile's renew_at, percent */
	int64_t margin;		/* M: [ca] rollover_margin */
	int64_t needed;		/* L + M: the least overlap that works */
	int64_t overlap;	/* notAfter - shadow_at (configured or
				 * derived) */
	int derived;		/* 1: overlap derived, 0: configured */
	int64_t shadow_at;	/* the next generation exists from here */
	int64_t activate_at;	/* new issuance moves to it from here */
};

/*
 * The plan of a generation valid from not_before to not_after under
 * configuration c. Errors: ca-lifetime-too-short when L + M does not fit
 * in the generation's life; rollover-overlap-too-short when a configured
 * overlap is below L + M; both name the dates and the fix. *out is filled
 * in either case (for pkictl ca plan to draw what was refused).
 */
enum pkid_code pkid_rollover_plan(const struct pkid_config *c,
    int64_t not_before, int64_t not_after, struct pkid_rollover_plan *out,
    struct pkid_err *e);

/*
 * The notAfter a leaf issued at now under a profile of lifetime gets from
 * a generation ending at ca_not_after: now + lifetime, cut at the CA's
 * end (a leaf never outlives its issuer).
 */
int64_t pkid_rollover_leaf_end(int64_t now, int64_t lifetime,
    int64_t ca_not_after);

/*
 * The notAfter of the generation made at created to succeed one valid
 * old_nb..old_na: as long a life as the old one had, cut at the notAfter
 * of its issuer (issuer_na; 0 for a root).
 */
int64_t pkid_rollover_next_not_after(int64_t created, int64_t old_nb,
    int64_t old_na, int64_t issuer_na);

#endif
