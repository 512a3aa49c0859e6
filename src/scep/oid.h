/*
 * oid.h - the SCEP attribute OIDs (RFC 8894 3.2.1), registered with
 * OpenSSL once (OBJ_create) so they print by name and work with the
 * PKCS7 attribute functions.
 */
#ifndef PKID_SCEP_OID_H
#define PKID_SCEP_OID_H

/* The attributes, indexes into pkid_scep_nid(). */
enum pkid_scep_attr {
	PKID_SCEP_A_MESSAGE_TYPE,	/* 2.16.840.1.113733.1.9.2 */
	PKID_SCEP_A_PKI_STATUS,		/* .3 */
	PKID_SCEP_A_FAIL_INFO,		/* .4 */
	PKID_SCEP_A_SENDER_NONCE,	/* .5 */
	PKID_SCEP_A_RECIPIENT_NONCE,	/* .6 */
	PKID_SCEP_A_TRANSACTION_ID,	/* .7 */
	PKID_SCEP_A_MAX,
};

/* The NID of an attribute (registered on first use; NID_undef on OOM). */
int pkid_scep_nid(enum pkid_scep_attr a);

#endif
