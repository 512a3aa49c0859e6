/*
 * diag_int.h - state shared by the files of src/diag/ (never installed).
 */
#ifndef PKID_DIAG_DIAG_INT_H
#define PKID_DIAG_DIAG_INT_H

#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "diag/diag.h"

/* One diagnosis in progress. */
struct dctx {
	const struct pkid_diag_opts *o;	/* what to do */
	struct pkid_diag_result *r;	/* what was found */
	int timeout_ms;			/* per network step */
	time_t now;			/* validation time */
	struct sockaddr_storage sa;	/* the address that connected */
	socklen_t salen;		/* its length */
	STACK_OF(X509) *presented[PKID_DIAG_NOFFERS]; /* owned chains */
	char trust_rem[640];		/* unknown-issuer remedy naming the
					 * trust bundle or store, "" none */
};

/* What one handshake gave. */
struct hs_out {
	int ok;			/* handshake completed */
	int timed_out;		/* the deadline passed */
	int alert_in;		/* alert received, -1 none */
	int alert_out;		/* alert sent, -1 none */
	int version;		/* negotiated or attempted version, 0 none */
	unsigned long reason;	/* first OpenSSL error, 0 none */
	char version_text[16];	/* SSL_get_version */
	char cipher[64];	/* negotiated cipher */
	char sys[96];		/* system error text when the socket failed */
	STACK_OF(X509) *chain;	/* owned: presented chain, leaf first */
};

/* diag.c: recording */
void dstep(struct dctx *d, enum pkid_diag_step s, int ok, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
void dfind(struct dctx *d, enum pkid_code code, enum pkid_diag_step s,
    int depth, const char *subject, const char *remedy, const char *fmt,
    ...) __attribute__((format(printf, 7, 8)));
void dnote(struct dctx *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* net.c: URL, DNS, TCP */
enum pkid_code dnet_parse_url(struct dctx *d, struct pkid_err *e);
int dnet_resolve_connect(struct dctx *d);
int dnet_connect_fd(struct dctx *d, char *why, size_t len);
int dnet_wait(int fd, int for_write, uint64_t deadline_ms);

/* bundle.c: the unknown-issuer remedy naming a trust bundle or store,
 * for the top of an incomplete path at depth (into d->trust_rem). */
void dtrust_remedy(struct dctx *d, X509 *top, int depth);

/* tls.c: handshakes */
void dtls_handshake(struct dctx *d, enum pkid_diag_offer offer,
    int relaxed, struct hs_out *h);
void dtls_hs_clear(struct hs_out *h);
int dtls_step(struct dctx *d);

/* chain.c: the presented chains */
void dchain_describe(struct dctx *d, enum pkid_diag_offer offer,
    STACK_OF(X509) *sk);
void dchain_validate(struct dctx *d, enum pkid_diag_offer offer, int emit);
void dchain_sigalgs(struct dctx *d);
void dchain_clock(struct dctx *d);

#endif
