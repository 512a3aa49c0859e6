/*
 * trust_load.h - what pkictl verify and pkictl diagnose share: loading
 * trust anchors from FILE|DIR (default: the system store) or a trust
 * store (src/trust/store.h), and rendering
 * findings and certificate paths as text or JSON.
 */
#ifndef PKID_CLI_TRUST_LOAD_H
#define PKID_CLI_TRUST_LOAD_H

#include <stdio.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "core/err.h"
#include "verify/verify.h"

/* The system trust store (Debian ca-certificates). */
#define PKICTL_SYSTEM_TRUST "/etc/ssl/certs/ca-certificates.crt"

/*
 * Every certificate of each path (a file, or each regular file of a
 * directory; files there that hold no certificate are skipped), appended
 * to *out (created when NULL; the caller's). n == 0 loads
 * PKICTL_SYSTEM_TRUST. Errors: the loaders', too-large.
 */
enum pkid_code pkictl_trust_load(const char *const *paths, size_t n,
    STACK_OF(X509) **out, struct pkid_err *e);
/*
 * The anchors of --trust paths and a --store trust store (NULL: none):
 * pkictl_trust_load of the paths when there are any or no store is
 * given (so --store alone does not add the system store), then every
 * anchor of the store. *out as for pkictl_trust_load. Errors: its, and
 * the store's (store-open, store-busy, store-io).
 */
enum pkid_code pkictl_trust_load_all(const char *const *paths, size_t n,
    const char *store, STACK_OF(X509) **out, struct pkid_err *e);
/* Add every certificate of sk to c as trusted or untrusted. */
enum pkid_code pkictl_verify_add_all(struct pkid_verify_ctx *c,
    STACK_OF(X509) *sk, int trusted, struct pkid_err *e);

/* "error: <code>: <message>" then "fix: <remedy>" on out. */
void pkictl_print_finding(FILE *out, enum pkid_code code,
    const char *message, const char *remedy);
/* {"code","message","remedy","depth","subject"}; NULL on no memory. */
json_t *pkictl_finding_json(enum pkid_code code, const char *message,
    const char *remedy, int depth, const char *subject);
/* [{"depth","subject","issuer","sha256"}] of a path, leaf first. */
json_t *pkictl_path_json(STACK_OF(X509) *path);
/* Print a JSON document on stdout, indented; takes the reference. */
void pkictl_json_out(json_t *o);

#endif
