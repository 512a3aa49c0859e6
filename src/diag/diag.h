/*
 * diag.h - diagnose a TLS server the way a client meets it: DNS, TCP
 * connect, TLS handshake with SNI, the presented chain validated by pkid's
 * verifier (with AIA caIssuers to tell a missing intermediate from an
 * untrusted issuer), a handshake per signature algorithm family, and the
 * clock. The walk stops at the first broken network step.
 *
 * The library never prints: pkictl diagnose renders the result.
 */
#ifndef PKID_DIAG_DIAG_H
#define PKID_DIAG_DIAG_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "core/err.h"
#include "core/limits.h"

/* Most findings kept per diagnosis; later ones are counted. */
#define PKID_DIAG_MAX_FINDINGS 24
/* Most notes kept per diagnosis. */
#define PKID_DIAG_MAX_NOTES 8
/* Most step records (one line each of the walk). */
#define PKID_DIAG_MAX_STEPS 16
/*
 * A certificate not valid yet by at most this many seconds points at a
 * clock (ours or the CA's) rather than at a certificate issued for later.
 */
#define PKID_DIAG_SKEW_WINDOW_S (2 * 86400)

/* The steps of the walk, in order. */
enum pkid_diag_step {
	PKID_DIAG_DNS = 1,	/* getaddrinfo */
	PKID_DIAG_TCP,		/* connect with timeout */
	PKID_DIAG_TLS,		/* handshake with SNI */
	PKID_DIAG_CHAIN,	/* presented chain, validation, AIA */
	PKID_DIAG_SIGALGS,	/* ECDSA-only and RSA-only handshakes */
	PKID_DIAG_CLOCK,	/* validity against this machine's clock */
};

/* Which signature algorithms a handshake offered. */
enum pkid_diag_offer {
	PKID_DIAG_OFFER_DEFAULT = 0,	/* the library's defaults */
	PKID_DIAG_OFFER_ECDSA,		/* ECDSA signature algorithms only */
	PKID_DIAG_OFFER_RSA,		/* RSA (PSS and PKCS#1) only */
	PKID_DIAG_NOFFERS,
};

/* What to diagnose. */
struct pkid_diag_opts {
	const char *url;	/* https://HOST[:PORT] */
	const char *sni;	/* SNI and name to check; NULL: the URL host */
	int timeout_s;		/* per network step; 0: PKID_DIAG_TIMEOUT_S */
	STACK_OF(X509) *trust;	/* borrowed trust anchors */
	time_t at;		/* "now"; 0: pkid_now() */
	const char *store;	/* the trust store the anchors came from
				 * (pkictl --store), or NULL */
	STACK_OF(X509) *bundle;	/* borrowed: the anchors of a published
				 * trust bundle, or NULL. When the issuer
				 * a path lacks is among them, the
				 * unknown-issuer remedy names its import */
	const char *bundle_from; /* that bundle, for messages ("URL,
				 * serial N, signed by ..") */
	const char *import_hint; /* the command that installs it */
};

/* One certificate as the server presented it. */
struct pkid_diag_cert {
	char subject[256];	/* RFC 2253 text */
	char issuer[256];	/* RFC 2253 text */
	char not_before[32];	/* RFC 3339 */
	char not_after[32];	/* RFC 3339 */
	char key[48];		/* "EC P-256", "RSA 2048" */
	char sig_alg[48];	/* signature algorithm name */
	char ski[96];		/* subjectKeyIdentifier hex, "" if none */
	char aki[96];		/* authorityKeyIdentifier keyid, "" if none */
	char aia[256];		/* first caIssuers URI, "" if none */
	char sha256[65];	/* fingerprint */
};

/* The chain one handshake presented, and its validation. */
struct pkid_diag_chain {
	int tried;		/* this handshake was attempted */
	int present;		/* the handshake succeeded */
	char failure[256];	/* why not, when tried and not present */
	char version[16];	/* TLS version negotiated */
	char cipher[64];	/* cipher suite negotiated */
	size_t n;		/* certificates stored */
	struct pkid_diag_cert certs[PKID_MAX_CHAIN_DEPTH];
	int valid;		/* validated against the trust given */
	enum pkid_code code;	/* first validation finding, or PKID_OK */
	char why[512];		/* that finding's message */
};

/* One line of the walk. */
struct pkid_diag_steprec {
	enum pkid_diag_step step;	/* which step */
	int ok;				/* 1 passed, 0 broken */
	char text[320];			/* what was done and seen */
};

/* One thing wrong, with the facts and what to do. */
struct pkid_diag_finding {
	enum pkid_code code;		/* catalogue code */
	enum pkid_diag_step step;	/* the step that found it */
	int depth;			/* certificate depth, -1 none */
	char subject[256];		/* that certificate's subject */
	char message[640];		/* the facts */
	char remedy[640];		/* what to do */
};

/* The whole diagnosis. */
struct pkid_diag_result {
	char host[256];		/* host from the URL */
	char port[8];		/* port (default 443) */
	char name[256];		/* name sent as SNI and checked */
	int name_is_ip;		/* name is an IP literal: iPAddress check */
	char addr[80];		/* address:port connected to */
	size_t nsteps;		/* steps stored */
	struct pkid_diag_steprec steps[PKID_DIAG_MAX_STEPS];
	struct pkid_diag_chain chains[PKID_DIAG_NOFFERS]; /* per offer */
	size_t nfindings;	/* findings stored, most important first */
	size_t nlost;		/* findings dropped past the maximum */
	struct pkid_diag_finding findings[PKID_DIAG_MAX_FINDINGS];
	size_t nnotes;		/* notes stored */
	char notes[PKID_DIAG_MAX_NOTES][240]; /* what was not checked */
	enum pkid_code code;	/* PKID_OK or the first finding's code */
};

/*
 * Run the diagnosis. On return *out is the caller's (free with
 * pkid_diag_result_free) whenever the walk ran, even when it found
 * problems. Returns PKID_OK when nothing was found, else the first
 * finding's code. Usage errors (a URL that is not https://HOST[:PORT])
 * and internal failures return their code with *out NULL and e set.
 */
enum pkid_code pkid_diag_run(const struct pkid_diag_opts *o,
    struct pkid_diag_result **out, struct pkid_err *e);
void pkid_diag_result_free(struct pkid_diag_result *r);
/* "dns", "tcp", "tls", "chain", "sigalgs", "clock". */
const char *pkid_diag_step_name(enum pkid_diag_step s);
/* "default", "ecdsa", "rsa". */
const char *pkid_diag_offer_name(enum pkid_diag_offer o);

/*
 * Fetch an AIA caIssuers URL (http only, RFC 5280 4.2.2.1): a DER
 * certificate or a certs-only PKCS#7, at most PKID_AIA_MAX_SIZE bytes,
 * within timeout_s. The certificates are appended to *out (created when
 * NULL; the caller's). Errors: usage (not http), connect-timeout,
 * connect-refused, too-large, not-found (HTTP status), and the loaders'.
 */
enum pkid_code pkid_aia_fetch(const char *url, int timeout_s,
    STACK_OF(X509) **out, struct pkid_err *e);

#endif
