"""pkictl as a person meets it: verify picks the purpose from the EKU,
exit codes as README states, explain by number, show of EST bodies, SCEP
--server (issue 14)."""
import json

import pytest

from conftest import error_code, make_csr, openssl, pkictl


def issue(ca, tmp_path, profile, name):
    csr = make_csr(tmp_path, name=name, subject=f"/CN={name}.example.com",
                   san=f"DNS:{name}.example.com")
    out = tmp_path / f"{name}.pem"
    pkictl("ca", "issue", "--dir", ca, "--csr", csr, "--profile", profile,
           "--out", out, check=True)
    return out


def verify(ca, cert, *args):
    return pkictl("verify", "--trust", ca / "root.pem", "--untrusted",
                  ca / "issuing.pem", *args, cert)


def test_verify_purpose_from_client_eku(ca, tmp_path):
    """A device certificate (clientAuth only) verifies without --purpose,
    and the output says client was checked and why."""
    dev = issue(ca, tmp_path, "device", "dev")
    cp = verify(ca, dev)
    assert cp.returncode == 0, cp.stderr
    assert "purpose: client (from the certificate's extKeyUsage" in \
        cp.stdout
    doc = json.loads(verify(ca, dev, "--json").stdout)
    assert doc["valid"] and doc["purpose"] == "client"
    assert doc["purpose_from"] == "eku"
    # An explicit --purpose still wins, and still fails for the wrong one.
    cp = verify(ca, dev, "--purpose", "server", "--json")
    assert cp.returncode == 1
    doc = json.loads(cp.stdout)
    assert doc["code"] == "eku-mismatch" and doc["purpose"] == "server"
    assert doc["purpose_from"] == "option"
    cp = verify(ca, dev, "--purpose", "server")
    assert "purpose: server (--purpose)" in cp.stderr


def test_verify_purpose_both_and_none(ca, tmp_path):
    """serverAuth+clientAuth: server is checked and the output says so;
    no EKU at all keeps the default (server)."""
    srv = issue(ca, tmp_path, "server", "srv")
    doc = json.loads(verify(ca, srv, "--json").stdout)
    assert doc["valid"] and doc["purpose"] == "server"
    assert doc["purpose_from"] == "eku-both"
    cp = verify(ca, srv)
    assert cp.returncode == 0
    assert "lists serverAuth and clientAuth; server checked" in cp.stdout
    # The issuing CA has no EKU: the default purpose, said so.
    cp = pkictl("verify", "--trust", ca / "root.pem", "--json",
                ca / "issuing.pem")
    doc = json.loads(cp.stdout)
    assert doc["purpose"] == "server" and doc["purpose_from"] == "default"
