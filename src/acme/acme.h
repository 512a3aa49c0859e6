/*
 * acme.h - pkid's ACME server (RFC 8555) under /acme/PROFILE/ on the
 * HTTPS listener, for the profiles [acme] profiles names: directory,
 * newNonce, newAccount, newOrder, authorizations, http-01 challenges
 * validated by pkid itself, finalize through the CA core (the profile's
 * policy, the store, the audit log), certificate download and
 * revokeCert.
 *
 * Accounts, orders, authorizations and nonces live in memory, in
 * bounded rings under one mutex: they do not survive a restart (clients
 * register again and order anew). The certificates are issued and
 * recorded by the CA core like any other.
 */
#ifndef PKID_ACME_ACME_H
#define PKID_ACME_ACME_H

#include "core/err.h"
#include "http/http.h"

struct pkid_ca;
struct pkid_acme;

/* The server's state for ca (borrowed; it must outlive it). */
struct pkid_acme *pkid_acme_new(struct pkid_ca *ca, struct pkid_err *e);
void pkid_acme_free(struct pkid_acme *a);
/* Add the /acme/ route (handlers run on the handler threads). */
enum pkid_code pkid_acme_routes(struct pkid_acme *a, struct pkid_router *r,
    struct pkid_err *e);

#endif
