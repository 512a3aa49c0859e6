/*
 * bundle_int.h - what the files of src/trust/ share (never installed).
 */
#ifndef PKID_TRUST_BUNDLE_INT_H
#define PKID_TRUST_BUNDLE_INT_H

#include <openssl/asn1.h>

/* The ASN.1 item of a TrustAnchorList of Certificates (SEQUENCE OF
 * Certificate): ASN1_item_i2d / ASN1_item_d2i give STACK_OF(X509). */
const ASN1_ITEM *pkid_trust_ta_list_item(void);

#endif
