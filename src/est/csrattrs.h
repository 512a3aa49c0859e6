/*
 * csrattrs.h - the CSR attributes response (RFC 7030 4.5.2, clarified by
 * RFC 8951 3.4): what a profile wants in a request, as an ASN.1
 * template, never encoded by hand.
 *
 *   CsrAttrs ::= SEQUENCE SIZE (0..MAX) OF AttrOrOID
 *   AttrOrOID ::= CHOICE { oid OBJECT IDENTIFIER, attribute Attribute }
 */
#ifndef PKID_EST_CSRATTRS_H
#define PKID_EST_CSRATTRS_H

#include <openssl/asn1t.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/cfg.h"
#include "core/err.h"

/* One AttrOrOID. */
typedef struct pkid_attr_or_oid_st {
	int type;			/* 0: oid, 1: attribute */
	union {
		ASN1_OBJECT *oid;	/* a bare OID */
		X509_ATTRIBUTE *attribute; /* an attribute with values */
	} value;
} PKID_ATTR_OR_OID;

DECLARE_ASN1_FUNCTIONS(PKID_ATTR_OR_OID)
DEFINE_STACK_OF(PKID_ATTR_OR_OID)

/* CsrAttrs is a STACK_OF(PKID_ATTR_OR_OID). */
typedef STACK_OF(PKID_ATTR_OR_OID) PKID_CSR_ATTRS;
DECLARE_ASN1_ENCODE_FUNCTIONS_only(PKID_CSR_ATTRS, PKID_CSR_ATTRS)
DECLARE_ASN1_ITEM(PKID_CSR_ATTRS)
void PKID_CSR_ATTRS_free(PKID_CSR_ATTRS *a);

/*
 * The CsrAttrs DER for profile p (key types and curves it allows) and
 * channel binding mode cb (challengePassword OID when required), into
 * out (initialised here). Errors: crypto-failed, out-of-memory.
 */
enum pkid_code pkid_est_csrattrs_der(const struct pkid_profile *p,
    enum pkid_cb_mode cb, struct pkid_buf *out, struct pkid_err *e);

#endif
