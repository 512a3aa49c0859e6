"""pkictl as a person meets it: verify picks the purpose from the EKU,
exit codes as README states, explain by number, show of EST bodies, SCEP
--server (issue 14)."""
import base64
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


# README "Exit status": 0 success, 1 the operation or check failed (an
# object that is not there too), 2 usage and configuration errors.
def test_exit_codes_as_readme(ca, tmp_path):
    missing = tmp_path / "nothing-here"
    cases = [
        # (argv, exit, code on stderr or None)
        (["ca", "revoke", "--dir", ca, "abcdef"], 1, "not-found"),
        (["ca", "approve", "--dir", ca, "99999"], 1, "not-found"),
        (["ca", "reject", "--dir", ca, "99999"], 1, "not-found"),
        (["show", missing], 1, None),
        (["verify", "--trust", ca / "root.pem", ca / "root.pem",
          "--host", "nowhere.example.com"], 1, None),
        (["ca", "issue", "--dir", ca, "--bogus"], 2, "usage"),
        (["verify"], 2, "usage"),
        (["show", "--bogus", ca / "root.pem"], 2, "usage"),
        (["explain"], 2, "usage"),
        (["explain", "no-such-code"], 2, "unknown-code"),
        (["enroll", "est", "--out", tmp_path / "x.pem"], 2, "usage"),
        (["no-such-command"], 2, "usage"),
        (["ca", "list", "--dir", missing], 2, "ca-missing"),
        (["ca", "init", "--dir", ca], 2, "ca-exists"),
    ]
    for argv, want, code in cases:
        cp = pkictl(*argv)
        assert cp.returncode == want, (argv, cp.returncode, cp.stderr)
        if code is not None:
            assert error_code(cp) == code, (argv, cp.stderr)
    # trust remove of an anchor the (empty) store does not hold.
    store = tmp_path / "store"
    store.mkdir()
    cp = pkictl("trust", "remove", "--store", store, "ab" * 32)
    assert cp.returncode == 1 and error_code(cp) == "not-found", cp.stderr


def test_explain_by_number():
    """explain accepts the number it prints beside the name, in decimal or
    in the 0x form of err_codes.txt, and answers the same as by name."""
    by_name = pkictl("explain", "weak-key", check=True).stdout
    number = by_name.splitlines()[0].split(", ")[1].rstrip(")")
    assert number.isdigit()
    cp = pkictl("explain", number)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == by_name
    cp = pkictl("explain", hex(int(number)), check=True)
    assert cp.stdout == by_name
    doc = json.loads(pkictl("explain", number, "--json",
                            check=True).stdout)
    assert doc["code"] == "weak-key" and doc["number"] == int(number)
    # Every code of the list answers to its number.
    for c in json.loads(pkictl("explain", "--list", "--json",
                               check=True).stdout):
        doc = json.loads(pkictl("explain", str(c["number"]), "--json",
                                check=True).stdout)
        assert doc["code"] == c["code"]
    for bad in ["0", "99999999", "12abc", "-5"]:
        cp = pkictl("explain", bad)
        assert cp.returncode == 2, (bad, cp.stderr)
    assert error_code(pkictl("explain", "99999999")) == "unknown-code"


def test_show_est_body(ca, tmp_path):
    """show reads an EST response body as pkid serves it (curl saves
    /cacerts), and the same base64 with CRLF lines or on one line; a cut
    body is base64-bad; a body over the file limit too-large."""
    from server import Pkid
    from conftest import run
    body = tmp_path / "cacerts.b64"
    with Pkid(ca) as srv:
        cp = run(["curl", "-sS", "--max-time", "30", "--cacert",
                  str(ca / "root.pem"), "-o", str(body),
                  srv.url("/.well-known/est/cacerts")], timeout=60)
        assert cp.returncode == 0, cp.stderr
    raw = body.read_bytes()
    assert raw.startswith(b"MII")
    der = base64.b64decode(b"".join(raw.split()))
    oneline = tmp_path / "oneline.b64"
    oneline.write_bytes(base64.b64encode(der))
    crlf = tmp_path / "crlf.b64"
    enc = base64.b64encode(der).decode()
    crlf.write_text("".join(enc[i:i + 76] + "\r\n"
                            for i in range(0, len(enc), 76)), newline="")
    root_fp = openssl("x509", "-in", ca / "root.pem", "-noout",
                      "-fingerprint", "-sha256",
                      check=True).stdout.split("=")[1].strip()
    root_fp = root_fp.replace(":", "").lower()
    for f in (body, oneline, crlf):
        cp = pkictl("show", "--json", f)
        assert cp.returncode == 0, (f, cp.stderr)
        doc = json.loads(cp.stdout)
        assert len(doc) == 1 and doc[0]["type"] == "pkcs7", doc
        assert doc[0]["encoding"] == "base64"
        fps = [c["fingerprint_sha256"] for c in doc[0]["certificates"]]
        assert root_fp in fps
        cp = pkictl("show", f, check=True)
        assert "encoding:            base64" in cp.stdout
        assert "PKCS#7 bundle" in cp.stdout
    # The text a person pastes from a log, cut short: a coded error.
    cut = tmp_path / "cut.b64"
    cut.write_bytes(b"".join(raw.split())[:101])
    cp = pkictl("show", cut)
    assert cp.returncode == 1 and error_code(cp) == "base64-bad", cp.stderr
    # Cut at a whole base64 quantum: the DER inside is short.
    cut.write_bytes(b"".join(raw.split())[:100])
    cp = pkictl("show", cut)
    assert cp.returncode == 1, cp.stderr
    assert "inside the base64" in cp.stderr
    bad = tmp_path / "bad.b64"
    bad.write_bytes(b"MIIB" + b"!" * 8 + b"\n")
    cp = pkictl("show", bad)
    assert cp.returncode == 1 and error_code(cp) == "base64-bad", cp.stderr
    big = tmp_path / "big.b64"
    big.write_bytes(b"MII" + b"A" * (16 * 1024 * 1024))
    cp = pkictl("show", big)
    assert cp.returncode == 1 and error_code(cp) == "too-large", cp.stderr
    # The base64 of something that is not DER: said so, not shown.
    notder = tmp_path / "notder.b64"
    notder.write_bytes(b"MIIBAAAA" * 4)
    cp = pkictl("show", notder)
    assert cp.returncode == 1 and error_code(cp) in (
        "unknown-format", "trailing-data"), cp.stderr
