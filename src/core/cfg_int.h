/*
 * cfg_int.h - pieces of the configuration parser split out of cfg.c by
 * section; private to src/core/cfg*.c.
 */
#ifndef PKID_CORE_CFG_INT_H
#define PKID_CORE_CFG_INT_H

#include "core/cfg.h"

/* [est] defaults: the default label issues under "device", Basic or a
 * client certificate, no channel binding. */
void pkid_cfg_est_defaults(struct pkid_config *c);
/* One key of [est] or [est LABEL] (section is "est" or "est LABEL"). */
enum pkid_code pkid_cfg_est_set(struct pkid_config *c, const char *section,
    const char *k, const char *v, struct pkid_err *e);
/* Append the [est] sections as INI text. */
enum pkid_code pkid_cfg_est_write(const struct pkid_config *c,
    struct pkid_buf *b, struct pkid_err *e);

/* One key of [trust]. */
enum pkid_code pkid_cfg_trust_set(struct pkid_config *c, const char *k,
    const char *v, struct pkid_err *e);
/* Append the [trust] section as INI text. */
enum pkid_code pkid_cfg_trust_write(const struct pkid_config *c,
    struct pkid_buf *b, struct pkid_err *e);
/* [status] and [log] (cfg_status.c): defaults, one key, INI text. */
void pkid_cfg_status_defaults(struct pkid_config *c);
enum pkid_code pkid_cfg_status_set(struct pkid_config *c, const char *section,
    const char *k, const char *v, struct pkid_err *e);
enum pkid_code pkid_cfg_status_write(const struct pkid_config *c,
    struct pkid_buf *b, struct pkid_err *e);
/* [acme] (cfg_acme.c): defaults, one key, INI text (only when set). */
void pkid_cfg_acme_defaults(struct pkid_config *c);
enum pkid_code pkid_cfg_acme_set(struct pkid_config *c, const char *k,
    const char *v, struct pkid_err *e);
enum pkid_code pkid_cfg_acme_write(const struct pkid_config *c,
    struct pkid_buf *b, struct pkid_err *e);
/* [hsm] (cfg_hsm.c): defaults, one key, INI text (only when set). */
void pkid_cfg_hsm_defaults(struct pkid_config *c);
enum pkid_code pkid_cfg_hsm_set(struct pkid_config *c, const char *k,
    const char *v, struct pkid_err *e);
enum pkid_code pkid_cfg_hsm_write(const struct pkid_config *c,
    struct pkid_buf *b, struct pkid_err *e);
/* "10.0.0.0/8" or "fd00::/8" (a bare address is a /32 or /128). */
enum pkid_code pkid_cfg_parse_iprange(const char *s, struct pkid_iprange *r,
    struct pkid_err *e);

#endif
