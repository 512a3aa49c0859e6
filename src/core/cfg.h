/*
 * cfg.h - pkid.conf: an INI file a person can read and diff.
 *
 * [ca]         name, digest, crl_next_update, crl_url, rollover_overlap,
 *              rollover_margin
 * [server]     listen, http, workers, max_conns, rate_per_min, max_body,
 *              tls_names, client_ca, and the limits that hold hostile
 *              clients (defaults in limits.h):
 *                max_conns_per_addr  connections one address may hold
 *                                    over all workers (64; 0 = no cap;
 *                                    past it 503 conn-limit)
 *                header_timeout      whole request head, from accept or
 *                                    its first byte (10s; past it 408)
 *                body_timeout        whole request body, from the end of
 *                                    the head (30s; past it 408)
 *                handler_threads     threads running EST/SCEP handlers
 *                                    off the event loops (0 = 2 per core)
 *                max_queue_delay     longest expected wait for a handler
 *                                    thread (1s; past it 503 overloaded;
 *                                    "off" = no bound)
 *                tls_tickets         TLS 1.3 session tickets per full
 *                                    handshake (0; 0-4)
 * [scep]       challenge, profile, compat, upstream_label
 * [profile N]  lifetime, key_usage, ext_key_usage, key_types, ...
 * [est], [est LABEL]  profile, auth, channel_binding, client_ca, ...
 * [trust]      extra_anchors (PEM of CA certificates /trust/bundle.p7b
 *              publishes beside the CA's own roots)
 * [status]     allow, client_ca, users, http, docs_url (cfg_status.c)
 * [log]        format (text | json)
 * [hsm]        module, pin_file, pin_env: the PKCS#11 module that holds
 *              CA keys whose key_ref is a pkcs11: URI (RFC 7512), and
 *              where its user PIN comes from (cfg_hsm.c, src/ca/hsm.c)
 *
 * Unknown sections and keys are errors naming file:line.
 */
#ifndef PKID_CORE_CFG_H
#define PKID_CORE_CFG_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/limits.h"

/* Key types a profile may allow (bit mask). */
enum pkid_keytype {
	PKID_KT_EC_P256 = 1 << 0,
	PKID_KT_EC_P384 = 1 << 1,
	PKID_KT_EC_P521 = 1 << 2,
	PKID_KT_RSA = 1 << 3,
	PKID_KT_ED25519 = 1 << 4,
};

/* Extended key usages a profile may put (bit mask). */
enum pkid_eku {
	PKID_EKU_SERVER = 1 << 0,
	PKID_EKU_CLIENT = 1 << 1,
	PKID_EKU_CODE = 1 << 2,
	PKID_EKU_EMAIL = 1 << 3,
	PKID_EKU_OCSP = 1 << 4,
	PKID_EKU_CMC_RA = 1 << 5,	/* id-kp-cmcRA (RFC 6402 2.10): the
					 * holder is a registration authority */
};

/* What happens to the CSR's subjectAltNames. */
enum pkid_san_mode {
	PKID_SAN_TAKE,		/* copy the CSR's names, each checked */
	PKID_SAN_REPLACE,	/* drop them; the CN becomes the one DNS name */
};

/* One IP range of a SAN policy. */
struct pkid_iprange {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network address */
	int prefix;		/* prefix length in bits */
};

/* A certificate profile ([profile NAME]). */
struct pkid_profile {
	char name[64];		/* section name, e.g. "device" */
	int64_t lifetime;	/* certificate lifetime, seconds */
	unsigned key_usage;	/* X509v3 KU_* bits */
	unsigned eku;		/* PKID_EKU_* bits */
	unsigned key_types;	/* PKID_KT_* bits allowed */
	int min_rsa_bits;	/* smallest RSA modulus allowed */
	enum pkid_san_mode san_mode; /* take or replace the CSR's names */
	int n_dns;		/* entries used in san_dns */
	char san_dns[PKID_MAX_SAN_RULES][256]; /* allowed DNS suffixes */
	int n_ip;		/* entries used in san_ip */
	struct pkid_iprange san_ip[PKID_MAX_SAN_RULES]; /* allowed IPs */
	int allow_any_dns;	/* "*" given: any DNS name */
	int allow_any_ip;	/* "*" given: any IP */
	char subject[256];	/* template; "{cn}" is the CSR's CN, empty
				 * keeps the CSR's subject */
	int manual_approval;	/* 1: requests wait for pkictl ca approve */
	int renew_at;		/* percent of the lifetime at which the
				 * profile's devices renew (what they are
				 * told, what the rollover plan assumes) */
	int64_t backdate;	/* notBefore this far in the past, seconds */
};

/* How an EST label authenticates clients (RFC 7030 3.2.3, 3.3.2). */
enum pkid_est_auth {
	PKID_EST_AUTH_BASIC_OR_CERT,	/* HTTP Basic or a client cert */
	PKID_EST_AUTH_BASIC,		/* HTTP Basic only */
	PKID_EST_AUTH_CERT,		/* TLS client certificate only */
	PKID_EST_AUTH_BASIC_AND_CERT,	/* both */
};

/* TLS channel binding in the CSR's challengePassword (RFC 7030 3.5). */
enum pkid_cb_mode {
	PKID_CB_OFF,		/* not checked */
	PKID_CB_OPTIONAL,	/* checked when the CSR carries one */
	PKID_CB_REQUIRED,	/* every CSR must carry it */
};

/* How an RA checks the revocation of a device's certificate the
 * upstream issued, before it forwards a renewal (src/est/ra_crl.c). */
enum pkid_upstream_rev {
	PKID_UPSTREAM_REV_CRL,	/* the issuer's CRL; refuse when unknown */
	PKID_UPSTREAM_REV_OFF,	/* not checked (warned at start) */
};

/* How an RA authenticates to a certsrv (AD CS web enrollment) upstream. */
enum pkid_upstream_auth {
	PKID_UPSTREAM_AUTH_BASIC,	/* HTTP Basic over TLS */
	PKID_UPSTREAM_AUTH_NTLM,	/* NTLM (Windows integrated auth) */
};

/*
 * How EST answers lay out their base64 (RFC 7030 4.1.3 via RFC 2045 6.8:
 * lines of at most 76 characters; RFC 8951 3). libEST's clients need the
 * line breaks, strongSwan's pki refuses them.
 */
enum pkid_est_b64 {
	PKID_EST_B64_AUTO,	/* lines of 64, one line to a client that
				 * sends no User-Agent (strongSwan) */
	PKID_EST_B64_LINES,	/* always lines of 64 characters */
	PKID_EST_B64_ONE_LINE,	/* always one line */
};

/* An EST label: [est] (name "") or [est LABEL]. */
struct pkid_est_label {
	char name[64];		/* label in /.well-known/est/<label>/ */
	char profile[64];	/* profile certificates are issued under */
	enum pkid_est_auth auth; /* accepted client authentication */
	enum pkid_cb_mode channel_binding; /* proof-of-possession linking */
	char client_ca[1024];	/* PEM of extra trusted client cert issuers
				 * (e.g. a manufacturer CA), "" for none */
	int allow_subject_change; /* 1: reenroll may change subject/SAN */
	enum pkid_est_b64 base64; /* how base64 bodies are laid out */
	/* Registration-authority mode: forward to an upstream EST CA. */
	char upstream[1024];	/* https://HOST:PORT/.well-known/est[/L],
				 * "" when this label issues itself */
	char upstream_cacert[1024]; /* PEM of the upstream's TLS trust,
				 * and of devices' re-enrollment certs */
	char upstream_cert[1024]; /* PEM of the RA's client certificate
				 * (and its chain) for the upstream */
	char upstream_key[1024]; /* its private key */
	int upstream_timeout;	/* seconds for one upstream exchange */
	char upstream_crl[PKID_RA_CRL_MAX_URL + 1]; /* CRL URL (http or
				 * https) of devices' certificates that
				 * name no CRL distribution point, "" none */
	enum pkid_upstream_rev upstream_revocation; /* crl (default), off */
	/* upstream = certsrv+https://HOST/certsrv: AD CS web enrollment. */
	int upstream_certsrv;	/* 1: upstream is a certsrv URL */
	char upstream_template[128]; /* certificate template name */
	char upstream_user[256]; /* service account (DOMAIN\\user or UPN) */
	char upstream_password_file[1024]; /* file with its password */
	enum pkid_upstream_auth upstream_auth; /* basic (default), ntlm */
};

/* The whole configuration. */
struct pkid_config {
	char path[1024];	/* file it was read from, for messages */
	/* [ca] */
	char ca_name[64];	/* CA name used in URLs (/crl/<name>.crl) */
	char digest[16];	/* sha256, sha384 or sha512 */
	int64_t crl_next_update; /* nextUpdate - thisUpdate, seconds */
	int64_t rollover_overlap; /* current notAfter - shadow creation,
				 * seconds; 0: derived (src/ca/rollover.c) */
	int64_t rollover_margin; /* shadow ahead of the first device that
				 * needs it, seconds */
	char crl_url[PKID_RA_CRL_MAX_URL + 1]; /* http:// URI issued leaf
				 * certificates name as their CRL
				 * distribution point, "" for none,
				 * "auto": pkid_config_pub_url() */
	char ca_issuers_url[PKID_RA_CRL_MAX_URL + 1]; /* http:// URI of the
				 * issuing CA certificate (AIA
				 * caIssuers), "" for none, "auto" */
	char ocsp_url[PKID_RA_CRL_MAX_URL + 1]; /* http:// URI of pkid's
				 * OCSP responder (AIA OCSP, RFC 5280
				 * 4.2.2.1), "" for none (default),
				 * "auto" */
	int64_t ocsp_next_update; /* nextUpdate - thisUpdate of an OCSP
				 * response, seconds */
	/* [server] */
	char listen[128];	/* TLS listener ADDR:PORT */
	char http[128];		/* plain HTTP listener, "off" for none */
	int workers;		/* worker threads, 0 = 2 per core */
	int max_conns;		/* connection cap over all workers */
	int max_conns_per_addr;	/* per client address, 0 = no cap */
	int rate_per_min;	/* requests per client address per minute */
	int header_timeout;	/* whole request head deadline, seconds */
	int body_timeout;	/* whole request body deadline, seconds */
	int handler_threads;	/* handler pool threads, 0 = 2 per core */
	int max_queue_delay_ms;	/* admission bound, ms, -1 = off */
	int tls_tickets;	/* TLS 1.3 session tickets per handshake */
	int64_t max_body;	/* request body limit, bytes */
	char tls_names[512];	/* extra names for the server certificate */
	char client_ca[1024];	/* PEM file of issuers for client certs */
	/* [scep] */
	char scep_challenge[128]; /* static challenge password, "" = none */
	char scep_profile[64];	/* profile SCEP enrolls under by default */
	int scep_compat;	/* 1: also accept DES3 and SHA-1 (old clients) */
	char scep_upstream_label[64]; /* EST label whose upstream issues SCEP
				 * requests (RA mode); "" is [est] */
	/* [profile ...] */
	int n_profiles;		/* entries used in profiles */
	struct pkid_profile profiles[PKID_MAX_PROFILES];
	/* [trust] */
	char trust_extra_anchors[1024]; /* PEM file of extra anchors the
				 * signed trust bundle carries, "" none;
				 * relative to the CA directory */
	/* [est] and [est LABEL] */
	int n_est;		/* entries used in est; est[0] is [est] */
	struct pkid_est_label est[PKID_MAX_EST_LABELS];
	/* [status]: who may see /, /metrics and /errors/ (cfg_status.c) */
	int n_status_allow;	/* entries used in status_allow */
	struct pkid_iprange status_allow[PKID_STATUS_MAX_ALLOW]; /* client
				 * addresses allowed (loopback by default) */
	char status_client_ca[1024]; /* PEM of issuers whose client
				 * certificates may see it, "" = none asked */
	char status_users[512];	/* EST users (pkictl est user add) who may
				 * see it with HTTP Basic, "" = none asked */
	int status_http;	/* 1: also on the plain HTTP listener */
	char status_docs_url[256]; /* base URL of the error pages linked
				 * ("" = pkid's own /errors/CODE) */
	/* [log] */
	int log_json;		/* 1: one JSON object per line */
	/* [acme] (cfg_acme.c) */
	char acme_profiles[256]; /* profiles served at /acme/NAME/, "" =
				 * ACME off */
	int acme_http_port;	/* TEST ONLY: port http-01 is validated on
				 * (validation_ports = http:PORT), 80 */
	char acme_resolve[512];	/* TEST ONLY: "NAME=IP,..." used instead
				 * of DNS for validation, "" = none */
	/* [hsm] (cfg_hsm.c) */
	char hsm_module[1024];	/* PKCS#11 module path */
	char hsm_pin_file[1024]; /* file holding the user PIN, "" none */
	char hsm_pin_env[64];	/* environment variable holding it, "" none */
	/* [store] */
	char store_url[PKID_STORE_URL_MAX]; /* "sqlite:PATH" (relative to
				 * the CA directory) or a PostgreSQL URL or
				 * conninfo string */
};

/* The PKCS#11 module [hsm] module defaults to (Debian's SoftHSM2). */
#define PKID_HSM_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"

/* 1 when the address text addr is inside one of the n ranges r. */
int pkid_config_addr_in(const struct pkid_iprange *r, int n,
    const char *addr);

/* Fill c with defaults, including the device and server profiles. */
void pkid_config_defaults(struct pkid_config *c);
/*
 * Read path over the defaults. Errors: config-syntax, config-unknown-key,
 * config-bad-value, each naming path:line; io-open when unreadable.
 */
enum pkid_code pkid_config_load(struct pkid_config *c, const char *path,
    struct pkid_err *e);
/* Parse config text (for tests and the fuzzer); name is used in messages. */
enum pkid_code pkid_config_parse(struct pkid_config *c, const char *name,
    const char *text, size_t len, struct pkid_err *e);
/*
 * Apply one "SECTION.KEY=VALUE" (profile sections as profile.NAME.KEY),
 * as pkictl ca init --set does.
 */
enum pkid_code pkid_config_set(struct pkid_config *c, const char *assign,
    struct pkid_err *e);
/* Serialise as INI text (the file pkictl ca init writes). */
enum pkid_code pkid_config_write(const struct pkid_config *c,
    struct pkid_buf *out, struct pkid_err *e);
/* EST label by name ("" is [est]), NULL when none. Borrowed. */
/* Which published URL pkid_config_pub_url() resolves. */
enum pkid_pub_kind {
	PKID_PUB_CRL,		/* [ca] crl_url: /crl/NAME.crl */
	PKID_PUB_CA_ISSUERS,	/* [ca] ca_issuers_url: /ca/NAME.cer */
	PKID_PUB_OCSP,		/* [ca] ocsp_url: /ocsp */
};

/*
 * The generation-1 URL of kind as issued certificates carry it: the
 * configured one, or with "auto" http://HOST:PORT/crl/NAME.crl (or
 * /ca/NAME.cer, /ocsp) on the plain HTTP listener, HOST being its address or,
 * when it listens on every address, the first of tls_names. "" (returns
 * 0) when none is configured, the listener is off, or it listens on
 * loopback only (a demo no one else reaches); why in *why when given.
 */
int pkid_config_pub_url(const struct pkid_config *c, enum pkid_pub_kind kind,
    char *buf, size_t len, const char **why);

const struct pkid_est_label *pkid_config_est_label(
    const struct pkid_config *c, const char *name);
/* Profile by name, NULL when none. Borrowed pointer into c. */
const struct pkid_profile *pkid_config_profile(const struct pkid_config *c,
    const char *name);

#endif
