/*
 * scep_forge.c - test helper, never installed: builds a pkiMessage that
 * real SCEP clients refuse to send (an unknown messageType, a PKCSReq
 * signed with another key than its CSR's) with pkid's own builder, so
 * the integration tests can check the server's FAILURE for each.
 *
 * usage: scep_forge TYPE RA.pem SIGNER.pem SIGNER.key CSR.pem OUT.der
 *   TYPE    messageType number (19 PKCSReq, 99 unknown, ...)
 *   RA.pem  the certificate the request is encrypted to
 * Writes the DER pkiMessage (AES-128-CBC, SHA-256) to OUT.der.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/buf.h"
#include "core/limits.h"
#include "scep/msg.h"
#include "x509/load.h"

static enum pkid_code
forge(char **argv, struct pkid_buf *der, struct pkid_err *e)
{
	struct pkid_scep_out o;
	struct pkid_buf csrb, inner;
	X509 *ra = NULL, *signer = NULL;
	EVP_PKEY *key = NULL;
	X509_REQ *csr = NULL;
	unsigned char *p = NULL;
	uint8_t nonce[16], rnd[8];
	char tid[32];
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&o, 0, sizeof(o));
	pkid_buf_init(&csrb, PKID_MAX_CSR_SIZE);
	pkid_buf_init(&inner, PKID_MAX_CSR_SIZE);
	PKID_TRY(pkid_x509_load_cert_file(argv[2], &ra, e));
	PKID_TRY(pkid_x509_load_cert_file(argv[3], &signer, e));
	PKID_TRY(pkid_x509_load_key_file(argv[4], &key, e));
	PKID_TRY(pkid_buf_read_file(&csrb, argv[5], PKID_MAX_CSR_SIZE, e));
	PKID_TRY(pkid_x509_load_csr(csrb.p, csrb.len, &csr, e));
	PKID_OSSL((n = i2d_X509_REQ(csr, &p)), PKID_E_CRYPTO, "CSR");
	PKID_TRY(pkid_buf_append(&inner, p, (size_t)n, e));
	PKID_OSSL(RAND_bytes(nonce, sizeof(nonce)), PKID_E_CRYPTO, "RAND");
	PKID_OSSL(RAND_bytes(rnd, sizeof(rnd)), PKID_E_CRYPTO, "RAND");
	pkid_hex(rnd, sizeof(rnd), tid);
	o.type = (int)strtol(argv[1], NULL, 10);
	o.tid = tid;
	o.snonce = nonce;
	o.snonce_len = sizeof(nonce);
	o.status = -1;
	o.fail_info = -1;
	o.signer = signer;
	o.key = key;
	o.md = EVP_sha256();
	o.inner = inner.p;
	o.inner_len = inner.len;
	o.recipient = ra;
	o.cipher = EVP_aes_128_cbc();
	rc = pkid_scep_msg_build(&o, der, e);
out:
	OPENSSL_free(p);
	X509_free(ra);
	X509_free(signer);
	EVP_PKEY_free(key);
	X509_REQ_free(csr);
	pkid_buf_free(&csrb);
	pkid_buf_free(&inner);
	return rc;
}

int
main(int argc, char **argv)
{
	struct pkid_buf der;
	struct pkid_err e;
	char msg[1024];

	pkid_err_clear(&e);
	memset(&der, 0, sizeof(der));
	if (argc != 7) {
		fprintf(stderr, "usage: scep_forge TYPE RA.pem SIGNER.pem "
		    "SIGNER.key CSR.pem OUT.der\n");
		return 2;
	}
	if (forge(argv, &der, &e) != PKID_OK ||
	    pkid_file_write(argv[6], der.p, der.len, 0644, &e) != PKID_OK) {
		fprintf(stderr, "scep_forge: %s: %s\n", pkid_err_id(e.code),
		    pkid_err_message(&e, msg, sizeof(msg)));
		pkid_buf_free(&der);
		return 1;
	}
	pkid_buf_free(&der);
	return 0;
}
