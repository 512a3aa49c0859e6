/*
 * verify.h - certificate path validation: path building over trust anchors
 * and an untrusted pool, RFC 5280 checks on each candidate path, the
 * RFC 9525 name check, CRL revocation, and a structured diagnosis.
 *
 * Built on OpenSSL primitives (X509_verify, X509_check_akid,
 * X509_get_ext_d2i, GENERAL_NAMES, NAME_CONSTRAINTS); no DER is parsed
 * here. The library never prints: the caller renders the result.
 */
#ifndef PKID_VERIFY_VERIFY_H
#define PKID_VERIFY_VERIFY_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "core/err.h"
#include "core/limits.h"

/* Most findings kept per result; later ones are counted, not stored. */
#define PKID_VERIFY_MAX_FINDINGS 16
/* Most notes ("what was not checked") kept per result. */
#define PKID_VERIFY_MAX_NOTES 8
/* Default public suffix list (Debian package publicsuffix). */
#define PKID_VERIFY_PSL_PATH "/usr/share/publicsuffix/public_suffix_list.dat"

/* What the end-entity key is for. */
enum pkid_verify_purpose {
	PKID_PURPOSE_ANY = 0,	/* no EKU requirement */
	PKID_PURPOSE_SERVER,	/* id-kp-serverAuth */
	PKID_PURPOSE_CLIENT,	/* id-kp-clientAuth */
};

/*
 * Rule set. RFC5280 is the profile of RFC 5280 itself (private PKIs,
 * devices); WEBPKI adds the CA/Browser Forum Baseline Requirements
 * (EKU required in leaves, no CA leaf, CN must copy a SAN, key sizes).
 */
enum pkid_verify_profile {
	PKID_PROFILE_RFC5280 = 0,
	PKID_PROFILE_WEBPKI,
};

/* What to validate for; pkid_verify_opts_init sets the defaults. */
struct pkid_verify_opts {
	enum pkid_verify_profile profile; /* rule set */
	enum pkid_verify_purpose purpose; /* EKU wanted of the path */
	time_t at;		/* validation time; 0 means pkid_now() */
	int max_intermediates;	/* non-self-issued CAs, -1 no limit */
	const char *host;	/* DNS name to match, or NULL */
	const char *ip;		/* IP address text to match, or NULL */
	const char *email;	/* rfc822 mailbox to match, or NULL */
	int cn_fallback;	/* match host against CN when no SAN (legacy) */
	int allow_sha1;		/* accept SHA-1 below the trust anchor */
	int min_rsa_bits;	/* 0 means 2048 */
	unsigned required_ku;	/* KU_* bits the leaf must have, 0 none */
};

/* Fill opts with the defaults (RFC5280 profile, server purpose). */
void pkid_verify_opts_init(struct pkid_verify_opts *o);

/* One thing wrong, with the facts and what to do. */
struct pkid_verify_finding {
	enum pkid_code code;	/* catalogue code (VERIFY category) */
	int depth;		/* certificate depth, 0 = leaf, -1 none */
	char subject[256];	/* that certificate's subject, RFC 2253 */
	char message[512];	/* the facts, citing the rule */
	char remedy[320];	/* what to change, naming cert or name */
};

/* Outcome of one validation. */
struct pkid_verify_result {
	int valid;		/* 1 when a path passed every check */
	enum pkid_code code;	/* PKID_OK or the first finding's code */
	size_t nfindings;	/* findings stored, most important first */
	size_t nlost;		/* findings dropped past the maximum */
	struct pkid_verify_finding findings[PKID_VERIFY_MAX_FINDINGS];
	STACK_OF(X509) *path;	/* owned: the path reported, leaf first */
	int path_complete;	/* path ends at a trust anchor */
	int cn_fallback_used;	/* the name matched the CN only */
	size_t nnotes;		/* notes stored */
	char notes[PKID_VERIFY_MAX_NOTES][200]; /* what was not checked */
	unsigned sig_checks;	/* signatures verified during the search */
	unsigned paths_tried;	/* paths evaluated */
};

/* Release the path and zero the result; NULL is a no-op. */
void pkid_verify_result_clear(struct pkid_verify_result *r);

/* A public suffix list (opaque); shareable between contexts. */
struct pkid_psl;

/*
 * Load a public suffix list file (publicsuffix.org format). The result is
 * the caller's; free with pkid_psl_free. Errors: io, too-large, nomem.
 */
enum pkid_code pkid_psl_load(const char *path, struct pkid_psl **out,
    struct pkid_err *e);
void pkid_psl_free(struct pkid_psl *p);
/* 1 when domain (lower-case A-labels, no trailing dot) is a suffix. */
int pkid_psl_is_suffix(const struct pkid_psl *p, const char *domain);

/*
 * Why a complete CRL signed by issuer cannot be used, whatever the time
 * (RFC 5280 5.2: issuer without cRLSign, cRLNumber missing or critical,
 * delta or indirect CRLs, an unknown critical extension), or NULL when it
 * can. buf (len bytes) may hold the text; the result is static or buf.
 */
const char *pkid_crl_unsupported(X509_CRL *crl, X509 *issuer, char *buf,
    size_t len);
/* RFC 5280 5.3.1 CRLReason name of a reasonCode value ("unspecified" for
 * none or an unknown value); static. */
const char *pkid_crl_reason_name(long reason);

/* The verifier's inputs: anchors, untrusted pool, CRLs (opaque). */
struct pkid_verify_ctx;

/* New empty context, or NULL with e set (nomem). */
struct pkid_verify_ctx *pkid_verify_ctx_new(struct pkid_err *e);
void pkid_verify_ctx_free(struct pkid_verify_ctx *c);
/*
 * Add a trust anchor / an untrusted certificate / a CRL. The context takes
 * its own reference (up_ref); the caller keeps its own. Errors: nomem,
 * too-large (past PKID_MAX_BUNDLE_CERTS).
 */
enum pkid_code pkid_verify_add_trusted(struct pkid_verify_ctx *c, X509 *x,
    struct pkid_err *e);
enum pkid_code pkid_verify_add_untrusted(struct pkid_verify_ctx *c, X509 *x,
    struct pkid_err *e);
enum pkid_code pkid_verify_add_crl(struct pkid_verify_ctx *c, X509_CRL *crl,
    struct pkid_err *e);
/*
 * Use this public suffix list for the wildcard rule (borrowed: it must
 * outlive the context). Without one, the context loads
 * PKID_VERIFY_PSL_PATH on first need; when that file is missing only the
 * "at least two labels after the wildcard" rule applies (noted).
 */
void pkid_verify_set_psl(struct pkid_verify_ctx *c, const struct pkid_psl *p);

/*
 * Validate leaf. Fills res (cleared first; the caller clears it after).
 * Returns PKID_OK when valid, else the first finding's code, which is also
 * recorded in e with its depth and subject. Internal failures (nomem)
 * return their own code with res->valid == 0.
 */
enum pkid_code pkid_verify_run(struct pkid_verify_ctx *c,
    const struct pkid_verify_opts *o, X509 *leaf,
    struct pkid_verify_result *res, struct pkid_err *e);

/*
 * The catalogue code for an OpenSSL X509_V_ERR_* value (for callers that
 * run X509_verify_cert, e.g. a TLS handshake); verify-unmapped if none.
 */
enum pkid_code pkid_verify_map_x509_err(int verr);

#endif
