/*
 * ca.h - a CA on disk: its configuration, keys, certificates and store.
 *
 * DIR/pkid.conf      configuration (INI)
 * DIR/pkid.db        store (SQLite), or the PostgreSQL database [store] url
 *                    names (several nodes share it)
 * DIR/root.pem       root CA certificate
 * DIR/issuing.pem    issuing CA certificate (absent with --root-only)
 * DIR/keys/NAME.key  CA keys, mode 0600
 * DIR/tls/server.pem pkid's own TLS certificate chain, server.key its key
 * DIR/keys/bundle.key, DIR/trust/  the trust bundle's signer and state
 *                    (src/trust/publish.h)
 */
#ifndef PKID_CA_CA_H
#define PKID_CA_CA_H

#include <stdint.h>

#include <openssl/x509.h>

#include "core/cfg.h"
#include "core/err.h"
#include "store/store.h"

struct pkid_signer;

/* An open CA. */
struct pkid_ca {
	char dir[1024];			/* its directory */
	struct pkid_config cfg;		/* pkid.conf */
	struct pkid_store *store;	/* pkid.db */
	X509 *root;			/* root certificate */
	X509 *issuing;			/* certificate that signs leaves
					 * (the root with --root-only) */
	int64_t issuing_gen;		/* its ca_generation id */
	struct pkid_signer *signer;	/* signs with the issuing key */
	char issuing_key_ref[256];	/* where that key is: a path below
					 * dir or a pkcs11: URI (hsm.h) */
	STACK_OF(X509) *chain;		/* issuing first, up to the root */
	/* Rollover (src/ca/gen.c): generations in the store. */
	int root_only;			/* the root signs leaves itself */
	int generation;			/* number of the current signing CA */
	X509 *next;			/* its shadow (same subject, new key),
					 * NULL when none */
	X509 *next_root;		/* the shadow's new root when the root
					 * rolls over too, else NULL */
	int64_t next_gen;		/* the shadow's row id */
	int64_t next_activate;		/* when it takes over, epoch s */
	STACK_OF(X509) *links;		/* OldWithNew, NewWithOld of the
					 * latest root key update (RFC 4210
					 * 4.4), while the old root lives */
	STACK_OF(X509) *retired;	/* earlier signing CAs and roots that
					 * are still valid (their leaves are) */
};

/* What pkictl ca init takes. */
struct pkid_ca_init_opts {
	const char *subject;	/* "CN=..."; NULL = "CN=pkid Demo CA" */
	const char *domain;	/* DNS suffixes the profiles allow ("a,b";
				 * "*" = any name); NULL: derived from the
				 * subject (DC= parts, or a domain name in
				 * it), else usage error */
	const char *ip_ranges;	/* IP ranges the profiles allow (CIDR
				 * list, "*" = any); NULL: none */
	const char *key;	/* ec-p256 (default), ec-p384, rsa-2048.. */
	const char *key_uri;	/* pkcs11: URI (src/ca/hsm.h): the signing
				 * CA's key in a token, made there unless
				 * present; the root's beside it, object
				 * LABEL-root (not with root_only). NULL:
				 * key files under DIR/keys */
	int days;		/* root lifetime, days (default 3650) */
	int root_only;		/* 1: no issuing CA */
	const char **sets;	/* "SECTION.KEY=VALUE" overrides */
	int n_sets;		/* how many */
};

/*
 * The DNS suffix a subject names: its DC= parts joined ("DC=example,
 * DC=com" is example.com), else the first word of a CN, O or OU that is a
 * domain name ("CN=example.com Root"). 0 and out empty when none.
 */
int pkid_ca_subject_domain(const char *subject, char *out, size_t len);
/* Create a CA in dir; ca-exists if one is there. */
enum pkid_code pkid_ca_init(const char *dir,
    const struct pkid_ca_init_opts *o, struct pkid_err *e);
/* Open the CA in dir (ca-missing when none). */
enum pkid_code pkid_ca_open(const char *dir, struct pkid_ca **out,
    struct pkid_err *e);
/* The same with the configuration read from conf instead of
 * DIR/pkid.conf (pkid --config FILE). */
enum pkid_code pkid_ca_open_config(const char *dir, const char *conf,
    struct pkid_ca **out, struct pkid_err *e);
void pkid_ca_close(struct pkid_ca *ca);

/*
 * Who asks for a certificate, and which names their credential allows
 * (README "Security model"). Borrowed by the calls that take it.
 */
struct pkid_requester {
	const char *who;	/* for the store and the audit log, e.g.
				 * "est:user:alice", "scep:10.0.0.7", "cli" */
	X509 *bound;		/* NULL: a bootstrap credential (EST user,
				 * SCEP challenge, a manufacturer certificate
				 * from a label's client_ca, the operator):
				 * any name inside the profile's limits.
				 * Else the certificate, issued by this CA,
				 * that authenticated the request: the new
				 * certificate keeps exactly its subject and
				 * subjectAltNames, else identity-mismatch */
};

/* The result of an issuance. */
struct pkid_issue_result {
	X509 *cert;		/* the certificate (caller frees). Its
				 * SubjectPublicKeyInfo was copied from the
				 * CSR as bytes (OpenSSL 3.0's encoder and
				 * decoder would cost 3x the issuance rate),
				 * so X509_get0_pubkey() is NULL on this
				 * object: encode it, or decode a copy with
				 * pkid_x509_redecode() to read the key. */
	char serial[48];	/* its serial, hex */
	int capped;		/* notAfter was capped at the issuer's */
	char note[256];		/* a person-readable note (e.g. the cap) */
	int64_t request_id;	/* the request row stored with it, or 0 */
};

/*
 * Every check pkid_ca_issue makes before signing (src/ca/check.c: proof
 * of possession, key policy, keyCompromise, subject sanity, the
 * profile's name limits on SANs and CN, CA subjects, rq's identity
 * binding), without issuing. Refusals are not audited here.
 */
enum pkid_code pkid_ca_check(struct pkid_ca *ca, X509_REQ *csr,
    const char *profile, const struct pkid_requester *rq,
    struct pkid_err *e);
/*
 * Issue a certificate for csr under profile, asked by rq. Runs
 * pkid_ca_check's checks, lints the TBS certificate, signs, and stores
 * the record durably before returning. rq->who goes to the store and
 * audit log. Refusals are audited and leave no certificate.
 */
enum pkid_code pkid_ca_issue(struct pkid_ca *ca, X509_REQ *csr,
    const char *profile, const struct pkid_requester *rq,
    struct pkid_issue_result *res, struct pkid_err *e);
/*
 * The same, storing record (its cert_serial set to the new serial) in the
 * same durable commit as the certificate: a protocol's transaction record
 * and the certificate it answers never exist one without the other.
 * res->request_id receives the row's id. record NULL is pkid_ca_issue.
 */
enum pkid_code pkid_ca_issue_record(struct pkid_ca *ca, X509_REQ *csr,
    const char *profile, const struct pkid_requester *rq,
    const struct pkid_request *record, struct pkid_issue_result *res,
    struct pkid_err *e);
void pkid_issue_result_clear(struct pkid_issue_result *r);

/* How an enrollment ended. */
enum pkid_enroll_state {
	PKID_ENROLL_ISSUED,	/* issue holds the certificate */
	PKID_ENROLL_PENDING,	/* waits for pkictl ca approve */
	PKID_ENROLL_REJECTED,	/* an operator said no */
};

struct pkid_enroll_result {
	enum pkid_enroll_state state;	/* outcome */
	int64_t request_id;		/* request row, 0 when none */
	struct pkid_issue_result issue;	/* when ISSUED */
};

/*
 * Enroll csr under profile for rq. Auto-approved profiles issue at once.
 * With approval = manual, the first call checks the request as
 * pkid_ca_check does, stores it pending keyed by (kind, tid) (tid NULL:
 * the CSR's SHA-256) and returns PENDING; once an operator approved it,
 * the same call returns the certificate; once rejected, request-rejected.
 */
enum pkid_code pkid_ca_enroll(struct pkid_ca *ca, const char *kind,
    const char *tid, X509_REQ *csr, const char *profile,
    const struct pkid_requester *rq, struct pkid_enroll_result *res,
    struct pkid_err *e);
/*
 * pkid_ca_enroll for a profile with approval = manual whose request came
 * with a one-time SCEP challenge: challenge (its hex SHA-256, NULL: none)
 * is marked used in the commit that stores the pending request, and
 * challenge-bad is returned (nothing stored) when another request used
 * it meanwhile. An auto-approved profile is an internal error here: the
 * caller passes the challenge in pkid_ca_issue_record's record.
 */
enum pkid_code pkid_ca_enroll_challenge(struct pkid_ca *ca, const char *kind,
    const char *tid, X509_REQ *csr, const char *profile,
    const struct pkid_requester *rq, const char *challenge,
    struct pkid_enroll_result *res, struct pkid_err *e);
/* Issue a pending request (pkictl ca approve). */
enum pkid_code pkid_ca_approve(struct pkid_ca *ca, int64_t id,
    const char *actor, struct pkid_issue_result *res, struct pkid_err *e);
/* Refuse a pending request with a reason (pkictl ca reject). */
enum pkid_code pkid_ca_reject(struct pkid_ca *ca, int64_t id,
    const char *actor, const char *reason, struct pkid_err *e);
/* A certificate the CA issued, by serial (caller frees). */
enum pkid_code pkid_ca_cert_by_serial(struct pkid_ca *ca, const char *serial,
    X509 **out, struct pkid_err *e);
/* Hex SHA-256 of a CSR's DER. */
void pkid_csr_digest(X509_REQ *csr, char out[65]);

/* PEM of the SCEP RA certificate x or its key k (0600) to DIR/scep/file. */
enum pkid_code pkid_ca_ra_write(const char *dir, const char *file, X509 *x,
    EVP_PKEY *k, struct pkid_err *e);

/* What pkictl ca rollover and pkid's own schedule ask for. */
struct pkid_rollover_opts {
	int64_t activate_at;	/* when the shadow takes over; 0: derived
				 * (the plan's activate_at, or now if that
				 * has passed) */
	const char *actor;	/* for the audit log */
};
/*
 * Make the next generation of the signing CA now: a new key of the same
 * type, a certificate with the same subject and a new key identifier,
 * issued by the current root (or, when the root itself must roll over
 * because the new generation would not outlive the next rollover, by a
 * new root, with the link certificates OldWithNew and NewWithOld, RFC
 * 4210 4.4). Stored as "shadow", published at once (SCEP GetNextCACert,
 * EST /cacerts), current from o->activate_at. When a shadow exists
 * already, o->activate_at moves its activation (rollover-pending when
 * none is given). ca is reloaded: a shadow due now is current at once.
 */
enum pkid_code pkid_ca_rollover(struct pkid_ca *ca,
    const struct pkid_rollover_opts *o, struct pkid_err *e);
/*
 * 1 when a shadow is due under the plan and none exists (pkid makes it
 * then), or one's activation has come and ca does not show it yet.
 */
int pkid_ca_rollover_due(const struct pkid_ca *ca);
/*
 * What a client may need of this CA's certificates, in this order: the
 * current chain (signing CA first), the next generation and its new root,
 * the link certificates of a root key update, and the retired generations
 * still valid (RFC 7030 4.1.3: EST /cacerts carries the Root CA Key Update
 * certificates). A new stack of new references (sk_X509_pop_free), NULL
 * when out of memory.
 */
STACK_OF(X509) *pkid_ca_published(const struct pkid_ca *ca);
/* 1 when x was issued by one of ca's signing generations (current,
 * retired but valid, or shadow). */
int pkid_ca_issued_by_us(const struct pkid_ca *ca, X509 *x);

struct pkid_rollover_plan;
/*
 * The rollover plan of the generation that signs leaves (rollover.h):
 * clock-before-ca when the clock is before its notBefore, else what
 * pkid_rollover_plan says (ca-lifetime-too-short,
 * rollover-overlap-too-short). pkid refuses to start on either.
 */
enum pkid_code pkid_ca_check_plan(struct pkid_ca *ca,
    struct pkid_rollover_plan *plan, struct pkid_err *e);

/* Revoke a serial (hex) with an RFC 5280 reason code. */
enum pkid_code pkid_ca_revoke(struct pkid_ca *ca, const char *serial,
    int reason, const char *actor, struct pkid_err *e);
/* Lift a certificateHold; other reasons are final (revocation-final). */
enum pkid_code pkid_ca_unrevoke(struct pkid_ca *ca, const char *serial,
    const char *actor, struct pkid_err *e);
/* Reason name ("keyCompromise", ...) to code; -1 when unknown. */
int pkid_ca_reason_code(const char *name);
const char *pkid_ca_reason_name(int code);

/* A fresh CRL of the issuing CA (caller frees), CRL number taken. */
enum pkid_code pkid_ca_crl(struct pkid_ca *ca, X509_CRL **out,
    struct pkid_err *e);
/*
 * The same for generation number generation of the signing CA (current,
 * or retired while it is valid, so its certificates' revocations stay
 * published); *gen_id receives its row. not-found for a generation that
 * never signed or has ended.
 */
enum pkid_code pkid_ca_crl_gen(struct pkid_ca *ca, int generation,
    X509_CRL **out, int64_t *gen_id, struct pkid_err *e);
/*
 * The certificate and a new signer of signing generation number
 * generation (retired while valid; the current one too, through a second
 * signer), for what it signs besides certificates: its OCSP responder's
 * (src/ocsp/). *gen_id receives its row. The caller frees *cert and *sg
 * (*sg borrows *cert: free it first). not-found as for CRLs.
 */
enum pkid_code pkid_ca_gen_signer(struct pkid_ca *ca, int generation,
    X509 **cert, struct pkid_signer **sg, int64_t *gen_id,
    struct pkid_err *e);
/*
 * The CRL of root generation number generation (the issuing CA
 * certificates it revoked: none today), so that a relying party that
 * checks every certificate of the path (openssl verify -crl_check_all)
 * finds one for the issuing CA too. not-found as above.
 */
enum pkid_code pkid_ca_crl_root(struct pkid_ca *ca, int generation,
    X509_CRL **out, int64_t *gen_id, struct pkid_err *e);
/*
 * The DER certificate of the issuing CA (root 0) or root (root 1) of
 * generation number generation, as /ca/ serves it; not-found when there
 * is none. Caller frees *der with OPENSSL_free.
 */
enum pkid_code pkid_ca_gen_der(struct pkid_ca *ca, int root, int generation,
    unsigned char **der, size_t *len, struct pkid_err *e);

/*
 * The URL (pub.c) of the CRL (PKID_PUB_CRL) or the certificate
 * (PKID_PUB_CA_ISSUERS) of the issuing CA (root 0; the root with
 * --root-only) or the root (root 1) of generation number generation, in
 * buf; NULL when [ca] crl_url / ca_issuers_url gives none.
 */
const char *pkid_ca_pub_url(const struct pkid_config *cfg,
    enum pkid_pub_kind kind, int root, int generation, char *buf,
    size_t len);
/*
 * Parse a request path dir NAME [-root] [-N] ext ("/crl/", "ca",
 * ".crl"): 1 with *root and *generation set, else 0.
 */
int pkid_ca_pub_path(const char *name, const char *path, const char *dir,
    const char *ext, int *root, int *generation);

/* A setting in force that weakens security (warn.c). */
struct pkid_warning {
	enum pkid_code code;	/* catalogue code naming the risk */
	char text[320];		/* what is set, and where */
};
/*
 * The settings of ca that weaken security: up to max into w; returns how
 * many there are (may exceed max).
 */
int pkid_ca_warnings(const struct pkid_ca *ca, struct pkid_warning *w,
    int max);

/* Generate a key: "ec-p256", "ec-p384", "ec-p521", "rsa-2048", ... */
enum pkid_code pkid_key_generate(const char *type, EVP_PKEY **out,
    struct pkid_err *e);
/* Parse "CN=a,O=b" (or "/CN=a/O=b") into a name (caller frees). */
enum pkid_code pkid_name_parse(const char *text, X509_NAME **out,
    struct pkid_err *e);

#endif
