/*
 * limits.h - every bound on outside input, in one place (STYLE.md 6).
 */
#ifndef PKID_CORE_LIMITS_H
#define PKID_CORE_LIMITS_H

/* Largest CSR accepted, PEM or DER (issue 2: 64 KiB). */
#define PKID_MAX_CSR_SIZE (64 * 1024)
/* Largest single certificate file or DER certificate. */
#define PKID_MAX_CERT_SIZE (64 * 1024)
/* Largest file pkictl show / verify loads (bundles, CRLs). */
#define PKID_MAX_FILE_SIZE (16 * 1024 * 1024)
/* Largest CRL read. */
#define PKID_MAX_CRL_SIZE (16 * 1024 * 1024)
/* Most certificates in one bundle or chain file. */
#define PKID_MAX_BUNDLE_CERTS 1024
/* Longest chain the verifier builds (certificates, leaf included). */
#define PKID_MAX_CHAIN_DEPTH 16
/* Most SAN entries in a CSR or certificate. */
#define PKID_MAX_SAN_COUNT 64
/* Most extensions in a CSR's extension request. */
#define PKID_MAX_EXT_COUNT 32
/* Largest configuration file. */
#define PKID_MAX_CONFIG_SIZE (256 * 1024)
/* Longest configuration value. */
#define PKID_MAX_CONFIG_VALUE 1024
/* Most profiles in one configuration. */
#define PKID_MAX_PROFILES 32
/* Most DNS suffixes or IP ranges in one profile's SAN policy. */
#define PKID_MAX_SAN_RULES 32
/* Largest HTTP request body (CSR in base64 plus slack). */
#define PKID_MAX_HTTP_BODY (128 * 1024)
/* Largest HTTP header block. */
#define PKID_MAX_HTTP_HEADERS (16 * 1024)
/* Longest request URI (SCEP GET carries a base64 message in it). */
#define PKID_MAX_URI_LENGTH (96 * 1024)
/* Idle / read / write timeout of one HTTP connection, seconds. */
#define PKID_HTTP_TIMEOUT_S 30
/* Default cap of concurrent connections over all workers. */
#define PKID_DEFAULT_MAX_CONNS 4096
/* Default per-client-address request rate, requests per minute. */
#define PKID_DEFAULT_RATE_PER_MIN 6000
/* Longest subject DN text accepted. */
#define PKID_MAX_SUBJECT_TEXT 1024
/* Longest text field stored in the database (subjects, details). */
#define PKID_MAX_DB_TEXT 4096
/* Most operations the store commits under one fsync. */
#define PKID_STORE_MAX_BATCH 512
/* Microseconds the committer waits for more writers when the last commit
 * was shared (group commit); a lone writer never waits. */
#define PKID_STORE_GATHER_US 300
/* Milliseconds SQLite waits on a lock before store-busy. */
#define PKID_STORE_BUSY_MS 5000

#endif
