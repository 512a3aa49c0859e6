/*
 * backend.h - the two implementations of store.h: SQLite (sqlite*.c,
 * struct pkid_sq) and PostgreSQL (pg*.c, struct pkid_pg). store.c opens
 * one of them by the store URL and forwards every pkid_store_* call.
 * The functions mean what their pkid_store_* namesakes in store.h say.
 */
#ifndef PKID_STORE_BACKEND_H
#define PKID_STORE_BACKEND_H

#include "store/store.h"

struct pkid_sq;
struct pkid_pg;

/* ---- SQLite ---- */
enum pkid_code pkid_sqs_open(const char *path, struct pkid_sq **out,
    struct pkid_err *e);
void pkid_sqs_close(struct pkid_sq *s);
enum pkid_code pkid_sqs_ca_gen_add(struct pkid_sq *s, struct pkid_ca_gen *g,
    struct pkid_err *e);
enum pkid_code pkid_sqs_ca_gen_list(struct pkid_sq *s, const char *ca_name,
    pkid_ca_gen_fn fn, void *arg, struct pkid_err *e);
enum pkid_code pkid_sqs_ca_gen_reschedule(struct pkid_sq *s, int64_t id,
    int64_t at, const char *actor, struct pkid_err *e);
enum pkid_code pkid_sqs_ca_gen_activate(struct pkid_sq *s, const char *ca_name,
    const char *role, int64_t id, const char *actor, struct pkid_err *e);
enum pkid_code pkid_sqs_cert_add(struct pkid_sq *s,
    const struct pkid_cert_rec *r, struct pkid_err *e);
enum pkid_code pkid_sqs_cert_add_request(struct pkid_sq *s,
    const struct pkid_cert_rec *r, const struct pkid_request *req,
    int64_t *req_id, struct pkid_err *e);
enum pkid_code pkid_sqs_cert_get(struct pkid_sq *s, const char *serial,
    pkid_cert_fn fn, void *arg, struct pkid_err *e);
enum pkid_code pkid_sqs_cert_find(struct pkid_sq *s,
    const struct pkid_cert_filter *f, pkid_cert_fn fn, void *arg,
    struct pkid_err *e);
enum pkid_code pkid_sqs_cert_list(struct pkid_sq *s, pkid_cert_fn fn,
    void *arg, struct pkid_err *e);
enum pkid_code pkid_sqs_cert_count(struct pkid_sq *s, int64_t *n,
    struct pkid_err *e);
enum pkid_code pkid_sqs_request_add(struct pkid_sq *s,
    const struct pkid_request *r, int64_t *id, struct pkid_err *e);
enum pkid_code pkid_sqs_request_find(struct pkid_sq *s, const char *kind,
    const char *transaction_id, pkid_request_fn fn, void *arg,
    struct pkid_err *e);
enum pkid_code pkid_sqs_request_get(struct pkid_sq *s, int64_t id,
    pkid_request_fn fn, void *arg, struct pkid_err *e);
enum pkid_code pkid_sqs_request_list(struct pkid_sq *s, const char *state,
    pkid_request_fn fn, void *arg, struct pkid_err *e);
enum pkid_code pkid_sqs_request_set(struct pkid_sq *s, int64_t id,
    const char *state, const char *cert_serial, const char *detail,
    const char *actor, struct pkid_err *e);
enum pkid_code pkid_sqs_request_retire(struct pkid_sq *s, int64_t id,
    const char *actor, struct pkid_err *e);
enum pkid_code pkid_sqs_request_set_cert(struct pkid_sq *s, int64_t id,
    const char *cert_serial, const uint8_t *der, size_t len, const char *actor,
    struct pkid_err *e);
enum pkid_code pkid_sqs_user_put(struct pkid_sq *s, const char *name,
    const char *hash, struct pkid_err *e);
enum pkid_code pkid_sqs_user_get(struct pkid_sq *s, const char *name,
    char *out, size_t len, struct pkid_err *e);
enum pkid_code pkid_sqs_challenge_add(struct pkid_sq *s, const char *hash,
    const char *profile, int64_t expires_at, struct pkid_err *e);
enum pkid_code pkid_sqs_challenge_peek(struct pkid_sq *s, const char *hash,
    int64_t now, char *profile, size_t len, struct pkid_err *e);
enum pkid_code pkid_sqs_challenge_take(struct pkid_sq *s, const char *hash,
    int64_t now, char *profile, size_t len, struct pkid_err *e);
enum pkid_code pkid_sqs_revoke(struct pkid_sq *s, const char *serial,
    int reason, int64_t when, const char *actor, struct pkid_err *e);
enum pkid_code pkid_sqs_unrevoke(struct pkid_sq *s, const char *serial,
    int64_t when, const char *actor, struct pkid_err *e);
enum pkid_code pkid_sqs_revoked_list(struct pkid_sq *s, int64_t ca_gen,
    pkid_revoked_fn fn, void *arg, struct pkid_err *e);
enum pkid_code pkid_sqs_revoked_mark(struct pkid_sq *s, int64_t *mark,
    struct pkid_err *e);
enum pkid_code pkid_sqs_revoked_count(struct pkid_sq *s, int64_t ca_gen,
    int64_t *n, struct pkid_err *e);
enum pkid_code pkid_sqs_key_compromised(struct pkid_sq *s,
    const char *spki_sha256, char *serial, size_t len, struct pkid_err *e);
enum pkid_code pkid_sqs_crl_number_next(struct pkid_sq *s, const char *ca_name,
    int64_t *out, struct pkid_err *e);
enum pkid_code pkid_sqs_audit(struct pkid_sq *s, const char *actor,
    const char *action, const char *object, const char *result,
    const char *detail, struct pkid_err *e);
enum pkid_code pkid_sqs_audit_count(struct pkid_sq *s, const char *action,
    const char *result, int64_t *n, struct pkid_err *e);
void pkid_sqs_health(struct pkid_sq *s, struct pkid_err *last);
void pkid_sqs_commit_stats(struct pkid_sq *s, uint64_t *commits, uint64_t *ops);
void pkid_sqs_set_commit_hook(struct pkid_sq *s, pkid_store_commit_fn fn,
    void *arg);
enum pkid_code pkid_sqs_cert_expiring(struct pkid_sq *s, int64_t from,
    int64_t to, int limit, int count_max, pkid_cert_fn fn, void *arg,
    int64_t *count, struct pkid_err *e);
enum pkid_code pkid_sqs_request_recent(struct pkid_sq *s, const char *state,
    int limit, int count_max, pkid_request_fn fn, void *arg, int64_t *count,
    struct pkid_err *e);
enum pkid_code pkid_sqs_totals(struct pkid_sq *s, int64_t *certs,
    int64_t *revoked, struct pkid_err *e);
enum pkid_code pkid_sqs_user_list(struct pkid_sq *s, pkid_user_fn fn,
    void *arg, struct pkid_err *e);
enum pkid_code pkid_sqs_user_passwd(struct pkid_sq *s, const char *name,
    const char *hash, const char *actor, struct pkid_err *e);
enum pkid_code pkid_sqs_user_del(struct pkid_sq *s, const char *name,
    const char *actor, struct pkid_err *e);
enum pkid_code pkid_sqs_challenge_list(struct pkid_sq *s, pkid_challenge_fn fn,
    void *arg, struct pkid_err *e);
enum pkid_code pkid_sqs_challenge_revoke(struct pkid_sq *s, const char *id,
    const char *actor, struct pkid_challenge_rec *out, struct pkid_err *e);
enum pkid_code pkid_sqs_audit_page(struct pkid_sq *s, int64_t since,
    int64_t before, int limit, pkid_audit_fn fn, void *arg, int64_t *older,
    struct pkid_err *e);

/* ---- PostgreSQL ---- */
/* conninfo: a postgresql:// URL or a libpq "key=value" string. */
enum pkid_code pkid_pgs_open(const char *conninfo, struct pkid_pg **out,
    struct pkid_err *e);
void pkid_pgs_close(struct pkid_pg *s);
enum pkid_code pkid_pgs_ca_gen_add(struct pkid_pg *s, struct pkid_ca_gen *g,
    struct pkid_err *e);
enum pkid_code pkid_pgs_ca_gen_list(struct pkid_pg *s, const char *ca_name,
    pkid_ca_gen_fn fn, void *arg, struct pkid_err *e);
enum pkid_code pkid_pgs_ca_gen_reschedule(struct pkid_pg *s, int64_t id,
    int64_t at, const char *actor, struct pkid_err *e);
enum pkid_code pkid_pgs_ca_gen_activate(struct pkid_pg *s, const char *ca_name,
    const char *role, int64_t id, const char *actor, struct pkid_err *e);
enum pkid_code pkid_pgs_cert_add(struct pkid_pg *s,
    const struct pkid_cert_rec *r, struct pkid_err *e);
enum pkid_code pkid_pgs_cert_add_request(struct pkid_pg *s,
    const struct pkid_cert_rec *r, const struct pkid_request *req,
    int64_t *req_id, struct pkid_err *e);
enum pkid_code pkid_pgs_cert_get(struct pkid_pg *s, const char *serial,
    pkid_cert_fn fn, void *arg, struct pkid_err *e);
enum pkid_code pkid_pgs_cert_find(struct pkid_pg *s,
    const struct pkid_cert_filter *f, pkid_cert_fn fn, void *arg,
    struct pkid_err *e);
enum pkid_code pkid_pgs_cert_list(struct pkid_pg *s, pkid_cert_fn fn,
    void *arg, struct pkid_err *e);
enum pkid_code pkid_pgs_cert_count(struct pkid_pg *s, int64_t *n,
    struct pkid_err *e);
enum pkid_code pkid_pgs_request_add(struct pkid_pg *s,
    const struct pkid_request *r, int64_t *id, struct pkid_err *e);
enum pkid_code pkid_pgs_request_find(struct pkid_pg *s, const char *kind,
    const char *transaction_id, pkid_request_fn fn, void *arg,
    struct pkid_err *e);
enum pkid_code pkid_pgs_request_get(struct pkid_pg *s, int64_t id,
    pkid_request_fn fn, void *arg, struct pkid_err *e);
enum pkid_code pkid_pgs_request_list(struct pkid_pg *s, const char *state,
    pkid_request_fn fn, void *arg, struct pkid_err *e);
enum pkid_code pkid_pgs_request_set(struct pkid_pg *s, int64_t id,
    const char *state, const char *cert_serial, const char *detail,
    const char *actor, struct pkid_err *e);
enum pkid_code pkid_pgs_request_retire(struct pkid_pg *s, int64_t id,
    const char *actor, struct pkid_err *e);
enum pkid_code pkid_pgs_request_set_cert(struct pkid_pg *s, int64_t id,
    const char *cert_serial, const uint8_t *der, size_t len, const char *actor,
    struct pkid_err *e);
enum pkid_code pkid_pgs_user_put(struct pkid_pg *s, const char *name,
    const char *hash, struct pkid_err *e);
enum pkid_code pkid_pgs_user_get(struct pkid_pg *s, const char *name,
    char *out, size_t len, struct pkid_err *e);
enum pkid_code pkid_pgs_challenge_add(struct pkid_pg *s, const char *hash,
    const char *profile, int64_t expires_at, struct pkid_err *e);
enum pkid_code pkid_pgs_challenge_peek(struct pkid_pg *s, const char *hash,
    int64_t now, char *profile, size_t len, struct pkid_err *e);
enum pkid_code pkid_pgs_challenge_take(struct pkid_pg *s, const char *hash,
    int64_t now, char *profile, size_t len, struct pkid_err *e);
enum pkid_code pkid_pgs_revoke(struct pkid_pg *s, const char *serial,
    int reason, int64_t when, const char *actor, struct pkid_err *e);
enum pkid_code pkid_pgs_unrevoke(struct pkid_pg *s, const char *serial,
    int64_t when, const char *actor, struct pkid_err *e);
enum pkid_code pkid_pgs_revoked_list(struct pkid_pg *s, int64_t ca_gen,
    pkid_revoked_fn fn, void *arg, struct pkid_err *e);
enum pkid_code pkid_pgs_revoked_mark(struct pkid_pg *s, int64_t *mark,
    struct pkid_err *e);
enum pkid_code pkid_pgs_revoked_count(struct pkid_pg *s, int64_t ca_gen,
    int64_t *n, struct pkid_err *e);
enum pkid_code pkid_pgs_key_compromised(struct pkid_pg *s,
    const char *spki_sha256, char *serial, size_t len, struct pkid_err *e);
enum pkid_code pkid_pgs_crl_number_next(struct pkid_pg *s, const char *ca_name,
    int64_t *out, struct pkid_err *e);
enum pkid_code pkid_pgs_audit(struct pkid_pg *s, const char *actor,
    const char *action, const char *object, const char *result,
    const char *detail, struct pkid_err *e);
enum pkid_code pkid_pgs_audit_count(struct pkid_pg *s, const char *action,
    const char *result, int64_t *n, struct pkid_err *e);
void pkid_pgs_health(struct pkid_pg *s, struct pkid_err *last);
void pkid_pgs_commit_stats(struct pkid_pg *s, uint64_t *commits, uint64_t *ops);
void pkid_pgs_set_commit_hook(struct pkid_pg *s, pkid_store_commit_fn fn,
    void *arg);
enum pkid_code pkid_pgs_cert_expiring(struct pkid_pg *s, int64_t from,
    int64_t to, int limit, int count_max, pkid_cert_fn fn, void *arg,
    int64_t *count, struct pkid_err *e);
enum pkid_code pkid_pgs_request_recent(struct pkid_pg *s, const char *state,
    int limit, int count_max, pkid_request_fn fn, void *arg, int64_t *count,
    struct pkid_err *e);
enum pkid_code pkid_pgs_totals(struct pkid_pg *s, int64_t *certs,
    int64_t *revoked, struct pkid_err *e);
enum pkid_code pkid_pgs_user_list(struct pkid_pg *s, pkid_user_fn fn,
    void *arg, struct pkid_err *e);
enum pkid_code pkid_pgs_user_passwd(struct pkid_pg *s, const char *name,
    const char *hash, const char *actor, struct pkid_err *e);
enum pkid_code pkid_pgs_user_del(struct pkid_pg *s, const char *name,
    const char *actor, struct pkid_err *e);
enum pkid_code pkid_pgs_challenge_list(struct pkid_pg *s, pkid_challenge_fn fn,
    void *arg, struct pkid_err *e);
enum pkid_code pkid_pgs_challenge_revoke(struct pkid_pg *s, const char *id,
    const char *actor, struct pkid_challenge_rec *out, struct pkid_err *e);
enum pkid_code pkid_pgs_audit_page(struct pkid_pg *s, int64_t since,
    int64_t before, int limit, pkid_audit_fn fn, void *arg, int64_t *older,
    struct pkid_err *e);

#endif
