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
/* Largest x509-limbo corpus the limbo-harness test tool reads (a local
 * file, never network input; the published limbo.json is ~100 MiB). */
#define PKID_LIMBO_MAX_CORPUS ((size_t)1024 * 1024 * 1024)
/* Longest pattern of pkictl ca list --subject. */
#define PKID_CERT_PATTERN_MAX 256
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
/* Idle / read / write timeout of one HTTP connection, seconds: bounds a
 * kept-alive connection between requests and each read or write. */
#define PKID_HTTP_TIMEOUT_S 30
/*
 * Default deadline for a whole request head, seconds: from accept for the
 * first request (TLS handshake included), from its first byte (or the end
 * of the previous response when it was pipelined) for later ones. Every
 * EST and SCEP client sends its head in one go, well under a second even
 * over a slow link; 10 s leaves room for a loaded TLS handshake yet stops
 * a client dripping one header line every few seconds from holding a slot
 * for the 30 s read timeout again and again ([server] header_timeout).
 */
#define PKID_HTTP_HEADER_TIMEOUT_S 10
/*
 * Default deadline for a whole request body, seconds, from the end of its
 * head: the largest body (128 KiB) takes under 1 s at 1 Mbit/s; 30 s
 * allows a 64 kbit/s link ([server] body_timeout).
 */
#define PKID_HTTP_BODY_TIMEOUT_S 30
/* Largest header_timeout and body_timeout accepted, seconds. */
#define PKID_HTTP_MAX_REQ_TIMEOUT_S 3600
/* Default cap of concurrent connections over all workers. */
#define PKID_DEFAULT_MAX_CONNS 4096
/*
 * Default cap of concurrent connections from one client address over all
 * workers ([server] max_conns_per_addr, 0 = none): a client needs one or
 * two; 64 leaves room for a NAT or a proxy in front of a small fleet while
 * one address can no longer take every slot.
 */
#define PKID_DEFAULT_MAX_CONNS_PER_ADDR 64
/* Default per-client-address request rate, requests per minute. */
#define PKID_DEFAULT_RATE_PER_MIN 6000
/* Default [profile] renew_at: devices renew at this percent of their
 * certificate's lifetime (certmonger and IOS use 70-80%). */
#define PKID_DEFAULT_RENEW_AT 70
/* How often a running pkid looks whether its CA's next generation is
 * due or takes over, seconds (SIGHUP looks at once). */
#define PKID_ROLLOVER_CHECK_S 60
/* /healthz counts the certificates at most this often, seconds (the
 * count scans the store; the endpoint needs no credentials). */
#define PKID_HEALTHZ_COUNT_TTL_S 60
/* CRLs of different CA generations the server keeps made at once. */
#define PKID_CRL_CACHE_GENS 4
/* Most rows of one CA in the ca_generation table (roots, issuing CAs,
 * link, RA and TLS certificates of every generation). */
#define PKID_MAX_CA_GENERATIONS 256
/* Default [ca] rollover_margin: the next CA generation exists this long
 * before the first device can need it, seconds. */
#define PKID_DEFAULT_ROLLOVER_MARGIN_S (7 * 86400)
/* Most devices and virtual years of one fleet simulation (pkictl ca plan
 * --simulate): about 40 bytes a device, so 1,000,000 is 40 MiB. */
#define PKID_SIM_MAX_DEVICES 1000000
#define PKID_SIM_MAX_YEARS 50
/* Most attributes in the subject of a certificate pkid issues. */
#define PKID_MAX_SUBJECT_ENTRIES 32
/* Most characters of a subject attribute without an RFC 5280 upper
 * bound of its own (CN has 64, O 64, L 128, ...; policy.c). */
#define PKID_MAX_NAME_VALUE 256
/* Longest subject DN text accepted. */
#define PKID_MAX_SUBJECT_TEXT 1024
/* Longest text field stored in the database (subjects, details). */
#define PKID_MAX_DB_TEXT 4096
/* Most operations the store commits under one fsync. */
#define PKID_STORE_MAX_BATCH 512
/* Microseconds the committer waits for more writers when the last commit
 * was shared (group commit); a lone writer never waits. */
#define PKID_STORE_GATHER_US 300
/* Seconds /healthz reports a write's I/O failure (a full disk) after it
 * happened, so one small write that still fits does not hide it. */
#define PKID_STORE_HEALTH_WINDOW_S 60
/* Milliseconds SQLite waits on a lock before store-busy. */
#define PKID_STORE_BUSY_MS 5000
/* PostgreSQL store (pg.c): connections kept per pkid process, shared by
 * the workers; seconds a connection attempt may take; prepared
 * statements kept per connection; times a write is retried after a
 * serialization failure or a connection found dead before its BEGIN;
 * Retry-After seconds of a request refused while the database is down;
 * longest store URL. */
#define PKID_PG_POOL 8
#define PKID_PG_CONNECT_TIMEOUT_S 5
#define PKID_PG_PREPARED_MAX 96
#define PKID_PG_RETRIES 3
#define PKID_PG_RETRY_AFTER_S 2
/*
 * PostgreSQL store, failing fast: after a connection attempt failed, the
 * others fail at once (store-unavailable, 503) and one attempt at a time
 * is made, at most one per PKID_PG_RECONNECT_MS, so the handlers never
 * queue up behind connect_timeout while the database is away and it is
 * found again within that interval once it is back. Longest wait for a
 * free pooled connection, ms. TCP keepalive (idle, interval seconds,
 * probes) and TCP_USER_TIMEOUT (ms) of each connection, so a query on a
 * connection whose server vanished (host down, network cut) fails
 * instead of blocking on libpq for the kernel's retransmission timeout;
 * lock_timeout (a row held by a stuck node: store-busy, retried) and
 * idle_in_transaction_session_timeout (a frozen node does not hold its
 * locks), ms. Each keepalive setting may be overridden in [store] url.
 */
#define PKID_PG_RECONNECT_MS 100
#define PKID_PG_POOL_WAIT_MS 5000
#define PKID_PG_KEEPALIVE_IDLE_S 10
#define PKID_PG_KEEPALIVE_INTERVAL_S 3
#define PKID_PG_KEEPALIVE_COUNT 3
#define PKID_PG_TCP_USER_TIMEOUT_MS 20000
#define PKID_PG_LOCK_TIMEOUT_MS 5000
#define PKID_PG_IDLE_TX_TIMEOUT_MS 60000
#define PKID_STORE_URL_MAX 1024

/* Most EST labels ([est LABEL] sections) in one configuration. */
#define PKID_MAX_EST_LABELS 32
/* Longest EST HTTP Basic user name and password accepted. */
#define PKID_MAX_EST_USER 64
#define PKID_MAX_EST_PASSWORD 256
/* Recently verified EST passwords kept so each enrollment does not pay
 * the KDF again, and how long an entry lives, seconds. */
#define PKID_EST_AUTH_CACHE 256
#define PKID_EST_AUTH_CACHE_TTL_S 300
/*
 * EST HTTP Basic failure throttling (src/est/throttle.c), per user name
 * and per client address (IPv6 by /64), shared by all workers. The
 * FREE-th failure in a row locks the key out for BASE seconds and each
 * further one doubles that, up to MAX: while locked out, requests are
 * answered 429 + Retry-After (auth-throttled) before any KDF runs. An
 * address is charged only for failures of users not yet locked out
 * themselves, so one device with a wrong password behind a NAT does not
 * lock out its neighbours. A success clears the user's count; a key
 * without a failure for FORGET seconds starts again from zero.
 */
#define PKID_EST_THROTTLE_USER_FREE 5
#define PKID_EST_THROTTLE_ADDR_FREE 20
#define PKID_EST_THROTTLE_BASE_S 1
#define PKID_EST_THROTTLE_MAX_S 900
#define PKID_EST_THROTTLE_FORGET_S 3600
/* Slots of the user table and of the address table (about 40 bytes
 * each), and slots probed per key before the stalest one is reused. */
#define PKID_EST_THROTTLE_SLOTS 4096
#define PKID_EST_THROTTLE_PROBES 8
/* Shortest EST user password pkictl est user add takes, characters
 * (password-weak); the server sees only hashes and cannot check it. */
#define PKID_EST_MIN_PASSWORD 12
/* Retry-After of an EST enrollment that waits for approval, seconds. */
#define PKID_EST_RETRY_AFTER_S 60
/* EST client: largest response body accepted (cacerts, certs-only). */
#define PKID_EST_CLIENT_MAX_RESPONSE (256 * 1024)
/* EST client: time budget of one HTTPS exchange, seconds. */
#define PKID_EST_CLIENT_TIMEOUT_S 30
/* EST client: most polls of a request answered 202, the default total
 * wait for approval and the longest pause between polls, seconds. */
#define PKID_EST_MAX_POLLS 64
#define PKID_EST_DEFAULT_MAX_WAIT_S 3600
#define PKID_EST_POLL_MAX_INTERVAL_S 600
/* EST client: retries of a request answered 503, and the first back-off
 * (doubled each time, plus up to 100% jitter), seconds. */
#define PKID_EST_503_RETRIES 5
#define PKID_EST_503_BACKOFF_S 1
/* EST and SCEP clients: longest Retry-After recorded for a caller that
 * schedules its own retries (pkictl agent), seconds; a longer one counts
 * as this long. */
#define PKID_CLIENT_MAX_RETRY_AFTER_S 86400
/* HTTPS client: most resolved addresses tried in turn. */
#define PKID_HTTPS_MAX_ADDRS 4
/* RA mode: default and largest upstream_timeout, seconds. */
#define PKID_EST_UPSTREAM_TIMEOUT_S 10
#define PKID_EST_UPSTREAM_MAX_TIMEOUT_S 300
/* RA mode: idle upstream connections kept for reuse per label, and how
 * long one may stay idle, seconds. */
#define PKID_EST_UPSTREAM_POOL 4
#define PKID_EST_UPSTREAM_IDLE_S 20
/* RA in front of AD CS web enrollment (certsrv): the largest page or
 * certificate read from it, bytes; requests kept waiting for a CA
 * manager's approval (their certsrv request ids), per label. */
#define PKID_CERTSRV_MAX_BODY (256 * 1024)
#define PKID_CERTSRV_MAX_PENDING 1024
/* Seconds an EST client is told to wait before asking again while AD CS
 * holds its request for approval (Retry-After of the 202). */
#define PKID_CERTSRV_RETRY_AFTER_S 60
/* RA mode (EST and SCEP): the upstream's CA certificates (its /cacerts:
 * intermediates of a device's certificate for simplereenroll and
 * RenewalReq, SCEP GetCACert) are kept this long, seconds, then fetched
 * again. */
#define PKID_EST_RA_CACERTS_TTL_S 3600
/* RA mode: fewest seconds between two fetches of them after a failed
 * fetch or a certificate the kept copy did not verify; also the
 * Retry-After of a 503 SCEP GetCACert while none could be fetched yet. */
#define PKID_EST_RA_CACERTS_RETRY_S 30
/* RA mode: revocation of a device's certificate from the upstream (EST
 * simplereenroll, SCEP RenewalReq) is looked up in its issuer's CRL
 * (src/est/ra_crl.c). CRL URLs kept per upstream, each with its CRL: */
#define PKID_RA_CRL_CACHE 8
/* Largest CRL the RA fetches (DER), and longest CRL URL. */
#define PKID_RA_CRL_MAX_SIZE (4 * 1024 * 1024)
#define PKID_RA_CRL_MAX_URL 1024
/* CRL distribution point URIs of one certificate tried in turn. */
#define PKID_RA_CRL_MAX_URIS 4
/* Longest a CRL is used before it is fetched again even when its
 * nextUpdate is later (a CA that publishes week-long CRLs still gets a
 * revocation to the RA within this time), seconds. */
#define PKID_RA_CRL_MAX_AGE_S 3600
/* Fewest seconds between two fetches of one CRL URL after a failed
 * fetch or an unusable CRL; also the Retry-After of an EST renewal
 * refused while the CRL could not be fetched. */
#define PKID_RA_CRL_RETRY_S 30
/* A CRL whose thisUpdate is at most this far ahead of pkid's clock is
 * taken (clock skew between the CA and the RA), seconds. */
#define PKID_RA_CRL_SKEW_S 300
/* Longest stored password hash text (user table). */
#define PKID_MAX_PASSWORD_HASH 256

/* Largest SCEP pkiMessage (DER), POST body or decoded GET message. */
#define PKID_MAX_SCEP_MESSAGE (64 * 1024)
/* Longest SCEP transactionID (RFC 8894 3.2.1.1; clients send 32-64). */
#define PKID_SCEP_MAX_TID 128
/* Longest SCEP sender/recipient nonce (RFC 8894 3.2.1.5: 16 bytes). */
#define PKID_SCEP_MAX_NONCE 32
/* Longest challenge password accepted (PKCS#9: 255 characters). */
#define PKID_SCEP_MAX_CHALLENGE 255
/* Clock skew allowed on a SCEP signingTime before badTime, seconds. */
#define PKID_SCEP_MAX_SKEW_S (2 * 86400)

/* SCEP client: time budget of one HTTP exchange, seconds. */
#define PKID_SCEP_CLIENT_TIMEOUT_S 30
/* SCEP client: largest GetCACaps / GetCACert / CertRep response. */
#define PKID_SCEP_CLIENT_MAX_RESPONSE (256 * 1024)
/* SCEP client: most CertPolls of one PENDING request, and the longest
 * pause between two (the pause doubles from --poll-interval). */
#define PKID_SCEP_MAX_POLLS 64
#define PKID_SCEP_POLL_MAX_INTERVAL_S 600
/* SCEP client: default total PENDING budget, seconds (--max-wait). */
#define PKID_SCEP_DEFAULT_MAX_WAIT_S 3600
/* SCEP client: retries of one exchange answered 503, and the longest
 * Retry-After honoured, seconds (RFC 9110 10.2.3). */
#define PKID_SCEP_503_RETRIES 5
#define PKID_SCEP_MAX_RETRY_AFTER_S 300

/* pkictl diagnose: default and largest per-step network timeout, seconds. */
#define PKID_DIAG_TIMEOUT_S 10
#define PKID_DIAG_MAX_TIMEOUT_S 300
/* Longest URL pkictl diagnose accepts. */
#define PKID_DIAG_MAX_URL 2048
/* Most AIA caIssuers fetches one diagnosis does (one per missing level). */
#define PKID_AIA_MAX_FETCHES 4
/* Largest AIA caIssuers response (a DER certificate or a PKCS#7 bundle). */
#define PKID_AIA_MAX_SIZE (256 * 1024)
/* Time budget of one AIA fetch, seconds. */
#define PKID_AIA_TIMEOUT_S 5
/* Signature results the verifier cache keeps (about 80 bytes each). */
#define PKID_VCACHE_SIG_ENTRIES 8192
/* Parsed certificates the verifier cache keeps, and the largest cached. */
#define PKID_VCACHE_CERT_ENTRIES 1024
#define PKID_VCACHE_CERT_MAX_DER (16 * 1024)
/* Client certificate chains that verified, kept per cache (about 80 bytes
 * each), so a device's chain is built once, not on every handshake. */
#define PKID_CCACHE_ENTRIES 4096
/* Longest a verified chain is trusted without building it again, seconds
 * (an entry also ends at the chain's earliest notAfter and whenever the
 * trust store or revocation data change). */
#define PKID_CCACHE_TTL_S 300

/* ---- path validation (src/verify) ---- */
/* Most signature verifications one path search may do. */
#define PKID_VERIFY_MAX_SIG_CHECKS 2048
/* Most complete or dead-end paths evaluated per search. */
#define PKID_VERIFY_MAX_PATHS 256
/* Most SAN entries in a certificate being validated. */
#define PKID_VERIFY_MAX_SANS 1024
/* Most subtrees (permitted + excluded) in one nameConstraints. */
#define PKID_VERIFY_MAX_NC_SUBTREES 1024
/* Most attributes in one subject name. */
#define PKID_VERIFY_MAX_NAME_ENTRIES 128
/* Most name-vs-constraint comparisons for one certificate (OpenSSL too). */
#define PKID_VERIFY_MAX_NC_WORK (1 << 20)

/* ---- the HTTP(S) server (src/http) ---- */
/* Descriptors pkid keeps out of max_conns: store connections and their
 * WAL files, listeners, worker pipes, CRL and AIA fetches, logs. */
#define PKID_FD_RESERVE 128
/* Buckets of one worker's connection table (a power of two). */
#define PKID_HTTP_CONN_BUCKETS 1024
/* Slots of the per-client-address rate table, shared by all workers. */
#define PKID_HTTP_RATE_SLOTS 4096
/* Slots probed for one address before the stalest one is reused. */
#define PKID_HTTP_RATE_PROBES 8
/* Most worker threads. */
#define PKID_HTTP_MAX_WORKERS 256
/* Default workers per core (a worker blocks while its write is made
 * durable, so one per core leaves the cores idle during fsyncs). */
#define PKID_HTTP_WORKERS_PER_CORE 2
/* Most routes in one router. */
#define PKID_HTTP_MAX_ROUTES 256
/* Longest route path. */
#define PKID_HTTP_MAX_ROUTE_PATH 1024
/* How long a stop waits for in-flight requests, milliseconds. */
#define PKID_HTTP_DRAIN_MS 5000
/* How often a draining worker looks again, milliseconds. */
#define PKID_HTTP_DRAIN_POLL_MS 20
/* Largest response body a handler may build (a big CRL). */
#define PKID_HTTP_MAX_RESP_BODY PKID_MAX_CRL_SIZE
/* listen(2) backlog of each worker's socket. */
#define PKID_HTTP_BACKLOG 511
/* Idle timeout of a connection accepted past max_conns, seconds: it gets
 * its 503 quickly or goes, so a flood cannot pin descriptors for long. */
#define PKID_HTTP_OVERCAP_TIMEOUT_S 5
/* How long a connection past max_conns or max_conns_per_addr may take to
 * send its request (answered 503) before it is closed, milliseconds. */
#define PKID_HTTP_OVERCAP_GRACE_MS 1000
/* Buckets of the per-address connection count table (a power of two);
 * entries exist only while their address has connections open. */
#define PKID_HTTP_ADDR_BUCKETS 4096
/* Longest method token the request pre-check accepts (RFC 9110 9.1). */
#define PKID_HTTP_MAX_METHOD 16
/* Most header fields in one request. */
#define PKID_HTTP_MAX_HEADER_COUNT 100
/*
 * Chunked bodies: most body bytes on the wire before the request is
 * refused as too large, as a multiple of max_body plus slack. The chunk
 * framing of an honest client adds a few per cent; evhttp's own body
 * limit sits just above this, so pkid answers first, in its own format.
 */
#define PKID_HTTP_WIRE_BODY_FACTOR 2
#define PKID_HTTP_WIRE_BODY_SLACK (16 * 1024)
/* What pkid's limits leave to evhttp as a backstop: its header limit is
 * ours plus this, bytes. */
#define PKID_HTTP_EVHTTP_SLACK 1024
/* A refused connection: longest its answer may take to be written, and
 * how long what the client still sends is read and dropped after it (so
 * the client reads the answer instead of a reset), milliseconds. */
#define PKID_HTTP_REFUSE_WRITE_MS 5000
#define PKID_HTTP_LINGER_MS 2000
/* Default handler threads per core: EST and SCEP handlers hash passwords,
 * sign and wait for durable commits there, off the event loops. */
#define PKID_HTTP_HANDLERS_PER_CORE 2
/* Most handler threads ([server] handler_threads). */
#define PKID_HTTP_MAX_HANDLERS 256
/*
 * Requests waiting for a handler thread over all workers; past it they
 * are answered 503 + Retry-After at once. 256 at about 10 ms each is a
 * few seconds of work, beyond which a client is better told to retry.
 */
#define PKID_HTTP_HANDLER_QUEUE 256
/*
 * Admission by queueing delay (src/http/admit.c): the longest a request
 * may be expected to wait for a handler thread before it is refused 503
 * overloaded instead of queued ([server] max_queue_delay), ms, and the
 * most that key takes, seconds.
 */
#define PKID_DEFAULT_MAX_QUEUE_DELAY_MS 1000
/*
 * TLS 1.3 session tickets sent after a full handshake ([server]
 * tls_tickets): none by default (EST/SCEP clients rarely resume; two
 * tickets, OpenSSL's default, cost a mutual-TLS re-enrollment about a
 * quarter of its server CPU), at most a few for clients that do resume.
 */
#define PKID_DEFAULT_TLS_TICKETS 0
#define PKID_MAX_TLS_TICKETS 4
#define PKID_HTTP_MAX_QUEUE_DELAY_S 60
/* Weight of a new sample in the EWMA of handler service time, and in the
 * EWMA of completions per second measured over windows of this many ms. */
#define PKID_HTTP_ADMIT_SVC_ALPHA 0.25
#define PKID_HTTP_ADMIT_RATE_ALPHA 0.5
/* Deviations of service time added to the estimated wait (per square
 * root of the jobs ahead), so that few admitted requests wait past the
 * bound when service times vary. */
#define PKID_HTTP_ADMIT_DEV_K 2.0
#define PKID_HTTP_ADMIT_WINDOW_MS 250
/* Retry-After of an overloaded refusal, seconds: the drain time plus
 * jitter, within these. */
#define PKID_HTTP_ADMIT_MIN_RETRY_S 1
#define PKID_HTTP_ADMIT_MAX_RETRY_S 60
/* TLS 1.2 sessions the server keeps for resumption (about 1 KiB each). */
#define PKID_TLS_SESSION_CACHE 4096
/* Connections closed since the last malloc_trim(0) before the server
 * returns freed heap to the system, and the fewest ms between two. */
#define PKID_HTTP_TRIM_CLOSES 256
#define PKID_HTTP_TRIM_INTERVAL_MS 1000
/* Most a listener pauses after accept(2) failed (EMFILE...), ms. */
#define PKID_HTTP_ACCEPT_PAUSE_MS 500
/* Longest Retry-After the server sends, seconds. */
#define PKID_HTTP_MAX_RETRY_S 120

/* ---- pkictl agent (src/agent) ---- */
/* Most [identity NAME] sections in one agent configuration. */
#define PKID_AGENT_MAX_IDENTITIES 64
/* Longest identity name (letters, digits, '.', '_', '-'): it names the
 * state file and goes into the hook's environment. */
#define PKID_AGENT_MAX_NAME 64
/* Default jitter: up to this percent of the window between the renewal
 * point (renew_at) and notAfter, drawn once per certificate. */
#define PKID_AGENT_DEFAULT_JITTER_PCT 10
/* Most jitter accepted, percent of that window: the rest of the window is
 * left for retries. */
#define PKID_AGENT_MAX_JITTER_PCT 50
/* Back-off after a failed try: the first pause, seconds, doubled at each
 * failure in a row up to the cap (6 hours, certmonger waits 8), then up
 * to half of it drawn at random so a fleet does not retry in step; never
 * longer than half the time left before notAfter (but at least the
 * first pause), so an identity keeps trying while it can. */
#define PKID_AGENT_BACKOFF_MIN_S 60
#define PKID_AGENT_BACKOFF_MAX_S (6 * 3600)
/* Longest Retry-After the agent honours, seconds (a longer one counts as
 * this long). */
#define PKID_AGENT_MAX_RETRY_AFTER_S 86400
/* Failures in a row counted (the back-off stops growing long before). */
#define PKID_AGENT_MAX_FAILURES 1000
/* The long-running mode sleeps at most this long between passes, seconds
 * ([agent] max_sleep): certificate files replaced by hand are noticed. */
#define PKID_AGENT_DEFAULT_MAX_SLEEP_S 3600
#define PKID_AGENT_MAX_SLEEP_S 86400
/* Shortest sleep between passes, seconds (a clock that jumps back must
 * not turn the loop into a busy one). */
#define PKID_AGENT_MIN_SLEEP_S 1
/* A hook may run this long by default ([agent] hook_timeout), and at most
 * this long, seconds; then its process group is killed. */
#define PKID_AGENT_HOOK_TIMEOUT_S 60
#define PKID_AGENT_MAX_HOOK_TIMEOUT_S 3600
/* How often a running hook is looked at, milliseconds. */
#define PKID_AGENT_HOOK_POLL_MS 20
/* Default time budget of one HTTP exchange ([identity] timeout) and of
 * waiting for approval (202 / PENDING) within one pass ([identity]
 * max_wait), seconds; a request still pending is tried again at the
 * next pass, after the server's Retry-After. */
#define PKID_AGENT_TIMEOUT_S 30
#define PKID_AGENT_MAX_WAIT_S 60
/* The largest timeout and max_wait accepted, seconds. */
#define PKID_AGENT_MAX_TIMEOUT_S 300
#define PKID_AGENT_MAX_APPROVAL_WAIT_S 3600
/* CA certificates of one answer (EST /cacerts, GetNextCACert) the agent
 * considers for the trust store; a rollover offers about six. Each may
 * cost a path search, so a hostile answer cannot make it spin. */
#define PKID_AGENT_MAX_OFFERED 32
/* Largest state file read (one per identity, JSON). */
#define PKID_AGENT_MAX_STATE_SIZE (16 * 1024)
/* Longest path in the agent configuration. */
#define PKID_AGENT_MAX_PATH 1024

/* ---- pkictl show (src/x509/show.c) ---- */
/*
 * Most revoked entries of one CRL listed in its description; the count is
 * always exact and "revoked_truncated" says when entries were left out.
 * Person-readable output of a larger CRL is not readable anyway.
 */
#define PKID_SHOW_MAX_REVOKED 10000

/* ---- trust store and signed trust bundles (src/trust) ---- */
/* Largest signed trust bundle read from a file or fetched (DER). */
#define PKID_TRUST_MAX_BUNDLE_SIZE (4 * 1024 * 1024)
/* Most trust anchors in one bundle, and in one trust store. */
#define PKID_TRUST_MAX_ANCHORS 1024
/* Most certificates in a bundle's CMS certificates field: the signer
 * and the chain from it to a pinned anchor (link certificates). */
#define PKID_TRUST_MAX_SIGNER_CERTS 16
/* Largest state.json or status.json of a trust store (about 700 bytes
 * per anchor). */
#define PKID_TRUST_MAX_STATE_SIZE (2 * 1024 * 1024)
/* Most bundle publishers (pinned anchors) whose installed serial one
 * store remembers. */
#define PKID_TRUST_MAX_SOURCES 16
/* Longest bundle source (a file path or an http(s) URL). */
#define PKID_TRUST_MAX_SOURCE 2048
/* Most redirects followed when a bundle is fetched by URL. */
#define PKID_TRUST_MAX_REDIRECTS 5
/* Default time budget of one bundle fetch (each redirect gets its own),
 * seconds. */
#define PKID_TRUST_FETCH_TIMEOUT_S 30
/* Longest wait for a trust store's lock (another import or a remove
 * holds it), milliseconds; then store-busy. */
#define PKID_TRUST_LOCK_WAIT_MS 30000
/* pkictl trust import --every: shortest and longest interval, seconds. */
#define PKID_TRUST_MIN_INTERVAL_S 1
#define PKID_TRUST_MAX_INTERVAL_S (366 * 86400)
/* Auto-import after a failure that may pass by itself (DNS, connect,
 * timeout, TLS, HTTP 5xx): the first retry after this many seconds,
 * doubled per failure in a row, never more than the interval or
 * PKID_TRUST_RETRY_MAX_S. */
#define PKID_TRUST_RETRY_BASE_S 60
#define PKID_TRUST_RETRY_MAX_S (6 * 3600)
/* Every scheduled delay is moved by up to this percentage either way,
 * so a fleet started together does not fetch together. */
#define PKID_TRUST_JITTER_PCT 10
/* Lifetime of pkid's bundle-signing certificate (capped at the root's),
 * and how long before its end it is issued again, seconds. */
#define PKID_TRUST_SIGNER_LIFETIME_S (2 * 365 * 86400)
#define PKID_TRUST_SIGNER_RENEW_S (30 * 86400)
/* ---- status page, /metrics, request log (src/status) ---- */
/* Minutes of enrollments per minute kept for the status page's chart. */
#define PKID_STATUS_MINUTES 60
/* (protocol, profile, result) rows of enrollment totals kept; past it
 * new profiles count under "other". */
#define PKID_STATUS_ENROLL_KEYS 128
/* Upstreams (RA mode) whose health is kept. */
#define PKID_STATUS_UPSTREAMS 8
/* Distinct failure codes counted per upstream. */
#define PKID_STATUS_UPSTREAM_CODES 8
/* Rows of each list on the status page: errors, expiring certificates,
 * pending requests (each an indexed query with this LIMIT). */
#define PKID_STATUS_LIST_MAX 20
/* Most rows counted for "expiring in 30 days" and "pending": past it the
 * page says "N+" (the count stops at the LIMIT; no full scan). */
#define PKID_STATUS_COUNT_MAX 1000
/* The window "expiring soon" looks ahead, seconds. */
#define PKID_STATUS_EXPIRY_WINDOW_S (30 * 86400)
/* CA generations shown (rows of the ca_generation table). */
#define PKID_STATUS_MAX_GENS 32
/* Address ranges of [status] allow. */
#define PKID_STATUS_MAX_ALLOW 16
/* Largest status page, JSON or /metrics answer, bytes. */
#define PKID_STATUS_MAX_BODY (1024 * 1024)

/* pkictl ca audit: entries a page shows unless --limit says, and the
 * most --limit takes (each page is one indexed read of that many rows). */
#define PKID_AUDIT_PAGE_DEFAULT 50
#define PKID_AUDIT_PAGE_MAX 10000

/* OCSP responder (src/ocsp/, RFC 6960). Largest OCSP request, DER (a
 * POST body, or decoded from a GET path): one CertID is ~80 bytes, a
 * nonce and a few extensions fit easily; signed requests are refused. */
#define PKID_OCSP_MAX_REQUEST 4096
/* Longest base64 in a GET path (RFC 6960 A.1: 255 bytes is the norm). */
#define PKID_OCSP_MAX_GET_B64 (((PKID_OCSP_MAX_REQUEST + 2) / 3) * 4)
/* Most CertIDs in one request (openssl ocsp sends one per -cert). */
#define PKID_OCSP_MAX_IDS 8
/* Longest nonce echoed (RFC 8954 2.1: 1 to 32 octets). */
#define PKID_OCSP_MAX_NONCE 32
/* Default [ca] ocsp_next_update: an hour (caches serve a response
 * that long, so a revocation shows within it). */
#define PKID_OCSP_DEFAULT_NEXT_UPDATE_S 3600
/* Lifetime of the delegated responder certificate: short, as it carries
 * id-pkix-ocsp-nocheck and so cannot itself be checked (RFC 6960
 * 4.2.2.2.1). */
#define PKID_OCSP_RESPONDER_LIFETIME_S (7 * 86400)
/* It is renewed when less than this is left. */
#define PKID_OCSP_RESPONDER_RENEW_S (2 * 86400)
/* Signing generations the responder answers for (the current one and
 * the retired ones whose certificates still live). */
#define PKID_OCSP_MAX_GENS 8
/* Pre-signed responses kept (one per serial asked for, 4-way set
 * associative, the oldest of a set replaced). */
#define PKID_OCSP_CACHE_SLOTS 8192
/* Most responses re-signed per housekeeping tick (once a second), so a
 * change of revocations never stalls the thread for long. */
#define PKID_OCSP_REFRESH_PER_TICK 2048

/* ACME server (src/acme/, RFC 8555). Largest JWS body: a CSR with an
 * RSA-4096 key and a few names is ~2 kB, base64url twice. */
#define PKID_ACME_MAX_JWS 16384
/* Longest protected header, decoded, and a JWK's base64url member. */
#define PKID_ACME_MAX_HEADER 4096
/* Largest CSR in finalize, DER. */
#define PKID_ACME_MAX_CSR 8192
/* Nonces outstanding (a ring: the oldest is forgotten, its use answered
 * badNonce, which clients retry). */
#define PKID_ACME_MAX_NONCES 4096
/* Accounts, orders and authorizations kept in memory (rings: the oldest
 * is forgotten when full). They do not survive a restart. */
#define PKID_ACME_MAX_ACCOUNTS 1024
#define PKID_ACME_MAX_ORDERS 1024
/* Identifiers in one order. */
#define PKID_ACME_MAX_IDS 8
/* Lifetime of an order and its authorizations, seconds. */
#define PKID_ACME_ORDER_LIFETIME_S 3600
/* http-01 validation: connect to last byte, and the body's bound. */
#define PKID_ACME_VALIDATE_TIMEOUT_S 10
#define PKID_ACME_VALIDATE_MAX_BODY 1024
/* Smallest RSA account key. */
#define PKID_ACME_MIN_RSA_BITS 2048

#endif
