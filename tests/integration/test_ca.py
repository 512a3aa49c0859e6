"""pkictl ca: init, issue, chain, list, revoke, crl, checked with openssl."""
import datetime
import json
import os
import stat

import pytest

from conftest import (cert_count, error_code, make_csr, openssl, pkictl)


def test_init_layout_and_modes(ca):
    for f in ["pkid.conf", "pkid.db", "root.pem", "issuing.pem",
              "keys/root.key", "keys/issuing.key", "tls/server.pem",
              "tls/server.key"]:
        assert (ca / f).exists(), f
    for f in ["keys/root.key", "keys/issuing.key", "tls/server.key",
              "pkid.conf"]:
        assert stat.S_IMODE(os.stat(ca / f).st_mode) == 0o600, f
    txt = openssl("x509", "-in", ca / "issuing.pem", "-noout", "-text",
                  check=True).stdout
    assert "CA:TRUE, pathlen:0" in txt
    assert "Certificate Sign, CRL Sign" in txt
    openssl("verify", "-CAfile", ca / "root.pem", ca / "issuing.pem",
            check=True)
    # pkid's own TLS certificate chains to the root and names localhost.
    tls = openssl("x509", "-in", ca / "tls/server.pem", "-noout", "-text",
                  check=True).stdout
    assert "DNS:localhost" in tls and "IP Address:127.0.0.1" in tls


def test_init_refuses_existing(ca):
    cp = pkictl("ca", "init", "--dir", ca)
    assert cp.returncode == 2
    assert error_code(cp) == "ca-exists"


@pytest.mark.parametrize("key", ["ec-p384", "rsa-2048"])
def test_init_key_types(tmp_path, key):
    d = tmp_path / key
    pkictl("ca", "init", "--dir", d, "--key", key, "--subject",
           "CN=Test,O=Example", check=True)
    subj = openssl("x509", "-in", d / "issuing.pem", "-noout", "-subject",
                   check=True).stdout
    assert "CN = Test Issuing CA" in subj and "O = Example" in subj
    csr = make_csr(tmp_path)
    pkictl("ca", "issue", "--dir", d, "--csr", csr, "--out",
           tmp_path / "c.pem", check=True)
    openssl("verify", "-CAfile", d / "root.pem", "-untrusted",
            d / "issuing.pem", tmp_path / "c.pem", check=True)


def test_root_only(tmp_path):
    d = tmp_path / "r"
    pkictl("ca", "init", "--dir", d, "--root-only", check=True)
    assert not (d / "issuing.pem").exists()
    csr = make_csr(tmp_path)
    pkictl("ca", "issue", "--dir", d, "--csr", csr, "--out",
           tmp_path / "c.pem", check=True)
    openssl("verify", "-CAfile", d / "root.pem", tmp_path / "c.pem",
            check=True)


def test_issue_verifies_with_openssl(ca, tmp_path):
    csr = make_csr(tmp_path)
    out = tmp_path / "dev.pem"
    pkictl("ca", "issue", "--dir", ca, "--csr", csr, "--out", out,
           check=True)
    openssl("verify", "-CAfile", ca / "root.pem", "-untrusted",
            ca / "issuing.pem", out, check=True)
    txt = openssl("x509", "-in", out, "-noout", "-text", check=True).stdout
    assert "DNS:dev1.example.com, IP Address:10.1.2.3" in txt
    assert "X509v3 Subject Key Identifier" in txt
    assert "X509v3 Authority Key Identifier" in txt
    assert "TLS Web Client Authentication" in txt
    serial = openssl("x509", "-in", out, "-noout", "-serial",
                     check=True).stdout.strip().split("=")[1]
    # 128 random bits, positive: 16 octets with the top bit clear.
    assert len(serial) == 32 and int(serial[0], 16) < 8
    listed = json.loads(pkictl("ca", "list", "--dir", ca, "--json",
                               check=True).stdout)
    assert serial.lower() in [c["serial"] for c in listed]


def test_serials_unique(ca, tmp_path):
    csr = make_csr(tmp_path)
    serials = set()
    for i in range(20):
        out = tmp_path / f"c{i}.pem"
        pkictl("ca", "issue", "--dir", ca, "--csr", csr, "--out", out,
               check=True)
        serials.add(openssl("x509", "-in", out, "-noout", "-serial",
                            check=True).stdout)
    assert len(serials) == 20


def test_server_profile_and_stdout(ca, tmp_path):
    csr = make_csr(tmp_path, subject="/CN=www.example.com",
                   san="DNS:www.example.com")
    cp = pkictl("ca", "issue", "--dir", ca, "--csr", csr, "--profile",
                "server", check=True)
    assert cp.stdout.startswith("-----BEGIN CERTIFICATE-----")
    (tmp_path / "s.pem").write_text(cp.stdout)
    cat = tmp_path / "chain.pem"
    cat.write_text((ca / "issuing.pem").read_text())
    openssl("verify", "-CAfile", ca / "root.pem", "-untrusted", cat,
            "-purpose", "sslserver", "-verify_hostname", "www.example.com",
            tmp_path / "s.pem", check=True)


def test_chain_order(ca, tmp_path):
    out = tmp_path / "chain.pem"
    pkictl("ca", "chain", "--dir", ca, "--out", out, check=True)
    text = out.read_text()
    assert text == (ca / "issuing.pem").read_text() + \
        (ca / "root.pem").read_text()


def test_not_after_capped(tmp_path):
    """A leaf issued near the end of its issuer is cut at the issuer's
    notAfter (issued here at 100 days before it, with the clock hook)."""
    d = tmp_path / "short"
    pkictl("ca", "init", "--dir", d, "--set",
           "profile.device.lifetime=600d", check=True)
    end = openssl("x509", "-in", d / "issuing.pem", "-noout", "-enddate",
                  check=True).stdout.strip().split("=", 1)[1]
    t = datetime.datetime.strptime(end, "%b %d %H:%M:%S %Y %Z") - \
        datetime.timedelta(days=100)
    csr = make_csr(tmp_path)
    cp = pkictl("ca", "issue", "--dir", d, "--csr", csr, "--out",
                tmp_path / "c.pem", env={"PKID_NOW":
                                         t.strftime("%Y-%m-%dT%H:%M:%SZ")},
                check=True)
    assert "capped" in cp.stderr
    leaf = openssl("x509", "-in", tmp_path / "c.pem", "-noout", "-enddate",
                   check=True).stdout
    ica = openssl("x509", "-in", d / "issuing.pem", "-noout", "-enddate",
                  check=True).stdout
    assert leaf == ica


def test_ca_shorter_than_leaf_refused(tmp_path):
    """A CA generation that cannot hold a leaf lifetime plus the rollover
    margin, or an overlap shorter than needed, is refused before anything
    is written (issue 10, bad input)."""
    d = tmp_path / "short"
    cp = pkictl("ca", "init", "--dir", d, "--days", "100", "--set",
                "profile.device.lifetime=600d")
    assert cp.returncode == 2 and error_code(cp) == "ca-lifetime-too-short"
    assert "600d" in cp.stderr and not d.exists()
    cp = pkictl("ca", "init", "--dir", d, "--set", "ca.rollover_overlap=30d")
    assert cp.returncode == 2, cp.stderr
    assert error_code(cp) == "rollover-overlap-too-short"
    assert "at least 372d" in cp.stderr and not d.exists()


def test_set_lifetime_written(tmp_path):
    d = tmp_path / "x"
    pkictl("ca", "init", "--dir", d, "--set",
           "profile.device.lifetime=30d", check=True)
    assert "lifetime = 30d" in (d / "pkid.conf").read_text()


def test_clock_hook(ca, tmp_path):
    csr = make_csr(tmp_path)
    cp = pkictl("ca", "issue", "--dir", ca, "--csr", csr, "--out",
                tmp_path / "c.pem", "--at", "2027-06-01T00:00:00Z",
                check=True)
    nb = openssl("x509", "-in", tmp_path / "c.pem", "-noout", "-startdate",
                 check=True).stdout
    assert "May 31 23:55:00 2027" in nb, nb + cp.stderr
    cp = pkictl("ca", "issue", "--dir", ca, "--csr", csr, "--out",
                tmp_path / "d.pem", env={"PKID_NOW": "2027-07-01T00:00:00Z"},
                check=True)
    nb = openssl("x509", "-in", tmp_path / "d.pem", "-noout", "-startdate",
                 check=True).stdout
    assert "Jun 30 23:55:00 2027" in nb


def test_revoke_and_crl(ca, tmp_path):
    csr = make_csr(tmp_path)
    leaf = tmp_path / "leaf.pem"
    pkictl("ca", "issue", "--dir", ca, "--csr", csr, "--out", leaf,
           check=True)
    serial = openssl("x509", "-in", leaf, "-noout", "-serial",
                     check=True).stdout.strip().split("=")[1]
    pkictl("ca", "revoke", "--dir", ca, serial, "--reason", "keyCompromise",
           check=True)
    cp = pkictl("ca", "revoke", "--dir", ca, serial)
    assert cp.returncode == 1 and error_code(cp) == "already-revoked"
    cp = pkictl("ca", "revoke", "--dir", ca, "abcdef")
    assert cp.returncode == 1 and error_code(cp) == "not-found"
    crl = tmp_path / "ca.crl"
    pkictl("ca", "crl", "--dir", ca, "--out", crl, check=True)
    openssl("crl", "-in", crl, "-CAfile", ca / "issuing.pem", "-noout",
            "-verify", check=True)
    text = openssl("crl", "-in", crl, "-noout", "-text", check=True).stdout
    assert "X509v3 CRL Number: \n                1" in text
    assert "Key Compromise" in text and serial in text
    bundle = tmp_path / "all.pem"
    bundle.write_text((ca / "issuing.pem").read_text() +
                      (ca / "root.pem").read_text())
    cp = openssl("verify", "-crl_check", "-CRLfile", crl, "-CAfile", bundle,
                 leaf)
    assert cp.returncode != 0 and "revoked" in (cp.stdout + cp.stderr)
    pkictl("ca", "crl", "--dir", ca, "--out", crl, check=True)
    text = openssl("crl", "-in", crl, "-noout", "-text", check=True).stdout
    assert "X509v3 CRL Number: \n                2" in text



def test_crl_entries_from_stored_serials(ca, tmp_path):
    """The CRL's entries are made from the stored hex serials directly
    (issue 12: a 100,000-entry CRL under a second): odd-length and
    leading-zero serials, every reason, unspecified omitted, and only the
    unexpired certificates of the generation listed."""
    import sqlite3
    db = sqlite3.connect(ca / "pkid.db")
    gen = db.execute("SELECT id FROM ca_generation WHERE role = 'issuing'"
                     " AND state = 'current'").fetchone()[0]
    rows = [("abc", 0, 2000000000), ("000102", 1, 2000000000),
            ("7f", 4, 2000000000), ("80", 6, 2000000000),
            ("0000", 9, 2000000000), ("dead", 1, 1000000000)]
    for serial, reason, not_after in rows:
        db.execute("INSERT INTO certificate (serial, ca_gen, subject, sans,"
                   " profile, requester, not_before, not_after, issued_at,"
                   " der, fingerprint) VALUES (?, ?, 'CN=t', '', 'device',"
                   " 'test', 1, ?, 1, x'00', 'f')", (serial, gen, not_after))
        db.execute("INSERT INTO revocation (serial, revoked_at, reason)"
                   " VALUES (?, 1700000000, ?)", (serial, reason))
    db.commit()
    db.close()
    crl = tmp_path / "ca.crl"
    pkictl("ca", "crl", "--dir", ca, "--out", crl, check=True)
    openssl("crl", "-in", crl, "-CAfile", ca / "issuing.pem", "-noout",
            "-verify", check=True)
    text = openssl("crl", "-in", crl, "-noout", "-text", check=True).stdout
    entries = text.split("Revoked Certificates:")[1].split(
        "Signature Algorithm")[0]
    got = {}
    for block in entries.split("Serial Number: ")[1:]:
        lines = block.split("\n")
        reason = [lines[i + 1].strip() for i, l in enumerate(lines)
                  if "CRL Reason Code" in l]
        got[lines[0].strip()] = reason[0] if reason else None
    assert got == {"0ABC": None, "0102": "Key Compromise",
                   "7F": "Superseded", "80": "Certificate Hold",
                   "00": "Privilege Withdrawn"}, text
    assert "Nov 14 22:13:20 2023 GMT" in entries


def test_error_json_shape(ca, tmp_path):
    bad = tmp_path / "bad.csr"
    bad.write_text("not a csr")
    cp = pkictl("ca", "issue", "--dir", ca, "--csr", bad, "--json")
    assert cp.returncode == 1
    obj = json.loads(cp.stdout)
    assert set(obj) >= {"code", "message", "remedy"}
    assert obj["code"] == "csr-malformed"


def test_missing_ca(tmp_path):
    cp = pkictl("ca", "list", "--dir", tmp_path / "none")
    assert cp.returncode == 2 and error_code(cp) == "ca-missing"


def test_pkid_dir_env(ca):
    cp = pkictl("ca", "list", env={"PKID_DIR": str(ca)}, check=True)
    assert "CN=localhost" in cp.stdout
