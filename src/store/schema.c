/*
 * schema.c - migration steps of the store schema.
 */
#include "store/schema.h"

const char *const pkid_schema_steps[] = {
	/* 0 -> 1: the foundation tables. */
	"CREATE TABLE schema_version (version INTEGER NOT NULL);"
	"INSERT INTO schema_version (version) VALUES (1);"
	"CREATE TABLE ca_generation ("
	" id INTEGER PRIMARY KEY,"
	" ca_name TEXT NOT NULL,"
	" generation INTEGER NOT NULL,"
	" role TEXT NOT NULL,"
	" state TEXT NOT NULL,"
	" subject TEXT NOT NULL,"
	" not_before BIGINT NOT NULL,"
	" not_after BIGINT NOT NULL,"
	" cert_der BLOB NOT NULL,"
	" key_ref TEXT NOT NULL,"
	" UNIQUE (ca_name, role, generation));"
	"CREATE TABLE certificate ("
	" serial TEXT PRIMARY KEY,"
	" ca_gen INTEGER NOT NULL REFERENCES ca_generation (id),"
	" subject TEXT NOT NULL,"
	" sans TEXT NOT NULL,"
	" profile TEXT NOT NULL,"
	" requester TEXT NOT NULL,"
	" request_id INTEGER,"
	" not_before BIGINT NOT NULL,"
	" not_after BIGINT NOT NULL,"
	" issued_at BIGINT NOT NULL,"
	" der BLOB NOT NULL,"
	" fingerprint TEXT NOT NULL);"
	"CREATE INDEX certificate_ca ON certificate (ca_gen);"
	"CREATE TABLE revocation ("
	" serial TEXT PRIMARY KEY REFERENCES certificate (serial),"
	" revoked_at BIGINT NOT NULL,"
	" reason INTEGER NOT NULL);"
	"CREATE TABLE request ("
	" id INTEGER PRIMARY KEY,"
	" kind TEXT NOT NULL,"
	" transaction_id TEXT,"
	" state TEXT NOT NULL,"
	" profile TEXT NOT NULL,"
	" requester TEXT NOT NULL,"
	" csr_der BLOB,"
	" csr_digest TEXT,"
	" cert_serial TEXT,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" detail TEXT NOT NULL,"
	" UNIQUE (kind, transaction_id));"
	"CREATE TABLE crl_state ("
	" ca_name TEXT PRIMARY KEY,"
	" crl_number BIGINT NOT NULL);"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" at BIGINT NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" object TEXT NOT NULL,"
	" result TEXT NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
	/* 1 -> 2: users for HTTP Basic (EST), request lookup by state. */
	"CREATE TABLE app_user ("
	" name TEXT PRIMARY KEY,"
	" password_hash TEXT NOT NULL,"
	" created_at BIGINT NOT NULL);"
	"CREATE INDEX request_state ON request (state);"
	"UPDATE schema_version SET version = 2;",
	/* 2 -> 3: SCEP one-time challenge passwords, stored hashed. */
	"CREATE TABLE scep_challenge ("
	" hash TEXT PRIMARY KEY,"
	" profile TEXT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" expires_at BIGINT NOT NULL,"
	" used_at BIGINT);"
	"UPDATE schema_version SET version = 3;",
	/* 3 -> 4: the certificate an upstream CA issued for a request (SCEP
	 * registration-authority mode), so a retransmission gets it again. */
	("ALTER TABLE request ADD COLUMN cert_der BLOB;"
	"UPDATE schema_version SET version = 4;"),
	/* 4 -> 5: the keys revoked for keyCompromise, by the SHA-256 of
	 * their SubjectPublicKeyInfo, so such a key is never certified
	 * again (one read of a table that is small or empty per issuance).
	 * The revocations made before are read from the certificates
	 * (pkid_spki_sha256 is registered by sqlite.c). */
	("CREATE TABLE compromised_key ("
	" spki_sha256 TEXT PRIMARY KEY,"
	" serial TEXT NOT NULL,"
	" revoked_at BIGINT NOT NULL);"
	"INSERT INTO compromised_key (spki_sha256, serial, revoked_at)"
	" SELECT k, MIN(serial), MIN(revoked_at) FROM"
	" (SELECT pkid_spki_sha256(c.der) AS k, c.serial AS serial,"
	" r.revoked_at AS revoked_at FROM certificate c JOIN revocation r"
	" ON r.serial = c.serial WHERE r.reason = 1)"
	" WHERE k IS NOT NULL GROUP BY k;"
	"UPDATE schema_version SET version = 5;"),
	/* 5 -> 6: CA rollover. A generation made ahead of its time (state
	 * "shadow") takes over issuance at activate_at (src/ca/rollover.c);
	 * 0 for the generations made current at once. */
	("ALTER TABLE ca_generation ADD COLUMN activate_at BIGINT NOT NULL"
	" DEFAULT 0;"
	"UPDATE schema_version SET version = 6;"),
	/* 6 -> 7: certificates by notAfter, so the status page lists those
	 * that expire soon with a range query and a LIMIT, never a scan. */
	("CREATE INDEX certificate_not_after ON certificate (not_after);"
	"UPDATE schema_version SET version = 7;"),
	/* 7 -> 8: certificateHold lifted (pkictl ca unrevoke). The
	 * revocation row goes; this row keeps what it was. A revocation's
	 * rowid is never reused (pkid_store_revoke sets it past every rowid
	 * here too), so MAX(rowid) of revocation plus MAX(id) here grows
	 * with every revocation and every lift (pkid_store_revoked_mark). */
	("CREATE TABLE revocation_lifted ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" serial TEXT NOT NULL,"
	" rev_rowid INTEGER NOT NULL,"
	" revoked_at BIGINT NOT NULL,"
	" reason INTEGER NOT NULL,"
	" lifted_at BIGINT NOT NULL,"
	" actor TEXT NOT NULL);"
	"UPDATE schema_version SET version = 8;"),
};

const size_t pkid_schema_count =
    sizeof(pkid_schema_steps) / sizeof(pkid_schema_steps[0]);
