/*
 * scep_msg_fuzz.c - libFuzzer target for the SCEP pkiMessage parser
 * (scep/msg.h): the signed pkiMessage, then the small ASN.1 bodies of
 * CertPoll, GetCert and GetCRL over the same bytes. Deterministic: the
 * parsers use no clock and no randomness.
 * Seeds: tests/fuzz/corpus/scep_msg_fuzz/ (real strongSwan PKCSReq,
 * a CertRep, a GetCACert certs-only SignedData).
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "scep/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkid_scep_msg m;
	struct pkid_err e;
	X509_NAME *a = NULL, *b = NULL;
	ASN1_INTEGER *sn = NULL;

	pkid_err_clear(&e);
	pkid_scep_msg_init(&m);
	(void)pkid_scep_msg_parse(data, size, 1, &m, &e);
	pkid_scep_msg_free(&m);
	pkid_err_clear(&e);
	if (pkid_scep_iasubj_parse(data, size, &a, &b, &e) == PKID_OK) {
		X509_NAME_free(a);
		X509_NAME_free(b);
	}
	pkid_err_clear(&e);
	if (pkid_scep_ias_parse(data, size, &a, &sn, &e) == PKID_OK) {
		X509_NAME_free(a);
		ASN1_INTEGER_free(sn);
	}
	return 0;
}
