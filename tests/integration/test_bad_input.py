"""Every bad input gets its own code, exit status, and leaves no certificate
record behind (issue 2, 'Bad input gets a clear error')."""
import sqlite3

import pytest

from conftest import cert_count, error_code, make_csr, openssl, pkictl


def audit_refusals(ca, code):
    db = sqlite3.connect(ca / "pkid.db")
    try:
        return db.execute("SELECT COUNT(*) FROM audit WHERE action='issue' "
                          "AND result=?", (code,)).fetchone()[0]
    finally:
        db.close()


def refused(ca, csr, code, status=1, *extra):
    before = cert_count(ca)
    cp = pkictl("ca", "issue", "--dir", ca, "--csr", csr, *extra)
    assert cp.returncode == status, cp.stderr
    assert error_code(cp) == code, cp.stderr
    assert "\nfix: " in cp.stderr
    assert cert_count(ca) == before
    return cp


def test_truncated_der(ca, tmp_path):
    csr = make_csr(tmp_path)
    der = tmp_path / "c.der"
    openssl("req", "-in", csr, "-outform", "DER", "-out", der, check=True)
    t = tmp_path / "t.der"
    t.write_bytes(der.read_bytes()[:80])
    refused(ca, t, "csr-malformed")


def test_not_der_at_all(ca, tmp_path):
    t = tmp_path / "x.csr"
    t.write_bytes(b"\x00\x01garbage" * 10)
    refused(ca, t, "csr-malformed")


def test_pem_garbage(ca, tmp_path):
    t = tmp_path / "g.csr"
    t.write_text("-----BEGIN CERTIFICATE REQUEST-----\nMIIB!!notbase64\n"
                 "-----END CERTIFICATE REQUEST-----\n")
    refused(ca, t, "pem-garbage")


def test_trailing_bytes(ca, tmp_path):
    csr = make_csr(tmp_path)
    der = tmp_path / "c.der"
    openssl("req", "-in", csr, "-outform", "DER", "-out", der, check=True)
    t = tmp_path / "trail.der"
    t.write_bytes(der.read_bytes() + b"\x00\x00")
    refused(ca, t, "trailing-data")


def test_bad_signature(ca, tmp_path):
    csr = make_csr(tmp_path)
    der = tmp_path / "c.der"
    openssl("req", "-in", csr, "-outform", "DER", "-out", der, check=True)
    b = bytearray(der.read_bytes())
    b[-6] ^= 0x55
    t = tmp_path / "bad.der"
    t.write_bytes(bytes(b))
    refused(ca, t, "csr-bad-signature")
    assert audit_refusals(ca, "csr-bad-signature") == 1


def test_rsa_1024(ca, tmp_path):
    csr = make_csr(tmp_path, key="rsa:1024")
    refused(ca, csr, "weak-key")


def test_curve_not_allowed(ca, tmp_path):
    csr = make_csr(tmp_path, key="ec:secp256k1")
    refused(ca, csr, "key-type-not-allowed")


def test_p384_not_allowed_when_profile_says(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set",
           "profile.device.key_types=ec-p256", check=True)
    refused(d, make_csr(tmp_path, key="ec:P-384"), "key-type-not-allowed")


def test_san_outside_profile(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d,
           "--set", "profile.device.san_dns_suffixes=devices.example.com",
           "--set", "profile.device.san_ip_ranges=10.0.0.0/8", check=True)
    ok = make_csr(tmp_path, name="ok", subject="/CN=a",
                  san="DNS:a.devices.example.com,IP:10.9.9.9")
    pkictl("ca", "issue", "--dir", d, "--csr", ok, check=True)
    cp = refused(d, make_csr(tmp_path, name="b", subject="/CN=b",
                             san="DNS:evil.example.org"), "san-not-allowed")
    assert "evil.example.org" in cp.stderr
    cp = refused(d, make_csr(tmp_path, name="c", subject="/CN=c",
                             san="IP:192.168.1.1"), "san-not-allowed")
    assert "192.168.1.1" in cp.stderr


def test_over_size_limit(ca, tmp_path):
    t = tmp_path / "big.csr"
    t.write_bytes(b"A" * (64 * 1024 + 1))
    refused(ca, t, "too-large")


def test_unknown_profile(ca, tmp_path):
    refused(ca, make_csr(tmp_path), "profile-unknown", 2, "--profile",
            "nope")


def test_config_unknown_key(ca, tmp_path):
    conf = ca / "pkid.conf"
    lines = conf.read_text().splitlines()
    lines.insert(5, "colour = blue")
    conf.write_text("\n".join(lines) + "\n")
    cp = pkictl("ca", "list", "--dir", ca)
    assert cp.returncode == 2
    assert error_code(cp) == "config-unknown-key"
    assert "pkid.conf:6:" in cp.stderr and "colour" in cp.stderr


def test_config_bad_value(ca):
    conf = ca / "pkid.conf"
    text = conf.read_text().replace("lifetime = 365d", "lifetime = forever",
                                    1)
    conf.write_text(text)
    cp = pkictl("ca", "list", "--dir", ca)
    assert cp.returncode == 2 and error_code(cp) == "config-bad-value"
    line = [i + 1 for i, l in enumerate(text.splitlines())
            if "forever" in l][0]
    assert f"pkid.conf:{line}:" in cp.stderr


def test_config_syntax(ca):
    conf = ca / "pkid.conf"
    conf.write_text(conf.read_text() + "[broken\n")
    cp = pkictl("ca", "list", "--dir", ca)
    assert cp.returncode == 2 and error_code(cp) == "config-syntax"


def test_set_bad_value_refused(tmp_path):
    cp = pkictl("ca", "init", "--dir", tmp_path / "x", "--set",
                "profile.device.lifetime=12")
    assert cp.returncode == 2 and error_code(cp) == "config-bad-value"
    assert not (tmp_path / "x").exists()
