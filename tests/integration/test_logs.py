"""One log line per request with its id, the id followed from a device
through an RA to its upstream CA, [log] format = json, escaping of what a
client sends, and no secret in any log line whatever the auth path."""
import base64
import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import make_csr, openssl, pkictl
from server import Pkid
from statuslib import curl, est_enroll, leaf_pem
from test_est_ra import ra_client_cert, make_ra, USER as RA_USER, \
    PASSWORD as RA_PW
from test_scep import StrongSwan, new_challenge

PW = "correct-horse-42"
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (debug|info|warn|error) ")


def access(log, rid):
    return [ln for ln in log.splitlines()
            if " info http id=" + rid + " " in ln]


def clean(srv):
    rc, _, err = srv.stop()
    assert "AddressSanitizer" not in err and "runtime error" not in err
    return err


def test_request_id_through_ra_to_ca(tmp_path):
    up_dir = tmp_path / "up"
    pkictl("ca", "init", "--dir", up_dir, check=True)
    cert, key = ra_client_cert(up_dir, tmp_path, "ra1")
    with Pkid(up_dir, stderr_path=tmp_path / "ca.log") as up:
        d = make_ra(tmp_path, "ra",
                    f"https://localhost:{up.tls_port}/.well-known/est",
                    up_dir / "root.pem", cert, key)
        with Pkid(d, stderr_path=tmp_path / "ra.log") as ra:
            st, h, body, _ = est_enroll(ra, tmp_path, "dev",
                                        "dev9.example.com",
                                        user=f"{RA_USER}:{RA_PW}")
            assert st == 200, body
            rid = h["x-request-id"]
            ra_log = clean(ra)
        ca_log = clean(up)
    assert re.fullmatch(r"[0-9a-f]{16}", rid)
    [ra_line] = access(ra_log, rid)
    assert "operation=simpleenroll" in ra_line and "result=issued" in ra_line
    assert 'subject="CN=dev9.example.com"' in ra_line
    assert f"upstream=https://localhost:{up.tls_port}" in ra_line
    # The CA took the RA's id: it came from a certificate it issued
    # under the ra profile (id-kp-cmcRA).
    [ca_line] = access(ca_log, rid)
    assert "proto=est operation=simpleenroll" in ca_line, ca_line
    assert "result=issued" in ca_line and "status=200" in ca_line
    assert 'subject="CN=dev9.example.com"' in ca_line
    # Each line the RA wrote for that request carries the id.
    assert any(f"id={rid} est simpleenroll" in ln
               for ln in ra_log.splitlines()), ra_log


def test_untrusted_request_id_is_not_taken(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    pkictl("est", "user", "add", "--dir", d, "alice", input=PW + "\n",
           check=True)
    body_csr = make_csr(tmp_path, name="u", subject="/CN=u.example.com",
                        san="DNS:u.example.com")
    der = tmp_path / "u.der"
    openssl("req", "-in", body_csr, "-outform", "DER", "-out", der,
            check=True)
    with Pkid(d, stderr_path=tmp_path / "p.log") as srv:
        st, h, _ = curl(srv, "/.well-known/est/simpleenroll", tmp_path,
                        "-H", "X-Request-ID: forged-by-a-device",
                        data=base64.b64encode(der.read_bytes()),
                        user=f"alice:{PW}")
        assert st == 200 and h["x-request-id"] != "forged-by-a-device"
        log = clean(srv)
    assert "forged-by-a-device" not in log


def test_json_log_format(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set", "log.format=json", check=True)
    pkictl("est", "user", "add", "--dir", d, "alice", input=PW + "\n",
           check=True)
    with Pkid(d, stderr_path=tmp_path / "p.log") as srv:
        st, h, _, _ = est_enroll(srv, tmp_path, "j", "j.example.com",
                                 user=f"alice:{PW}")
        assert st == 200
        log = clean(srv)
    lines = [json.loads(ln) for ln in log.splitlines()
             if not ln.startswith("pkid: warning")]
    req = [o for o in lines if o.get("event") == "http" and
           o.get("operation") == "simpleenroll"]
    assert len(req) == 1, lines
    o = req[0]
    assert o["id"] == h["x-request-id"] and o["status"] == 200
    assert o["subject"] == "CN=j.example.com" and o["result"] == "issued"
    assert o["client"] == "127.0.0.1" and isinstance(o["ms"], int)
    assert any(x.get("id") == o["id"] and "msg" in x for x in lines)


def test_client_text_cannot_forge_a_line(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    pkictl("est", "user", "add", "--dir", d, "alice", input=PW + "\n",
           check=True)
    k = ec.generate_private_key(ec.SECP256R1())
    cn = 'x" status=200 result=issued\n2030-01-01T00:00:00Z info forged'
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, cn)])).sign(
        k, hashes.SHA256())
    body = base64.b64encode(csr.public_bytes(serialization.Encoding.DER))
    with Pkid(d, stderr_path=tmp_path / "p.log") as srv:
        curl(srv, "/.well-known/est/simpleenroll", tmp_path, data=body,
             user=f"alice:{PW}")
        curl(srv, "/.well-known/est/simpleenroll", tmp_path, data=body,
             user='ev"il name\nforged:' + PW)
        log = clean(srv)
    for ln in log.splitlines():
        assert LINE.match(ln) or ln.startswith("pkid: "), ln
        assert "info forged" not in ln.split(" ", 2)[1], ln
    # The text sits inside its quoted field, on the request's own line.
    forged = [ln for ln in log.splitlines() if "info forged" in ln]
    assert forged and all(' info http id=' in ln and ' subject="' in ln
                          for ln in forged if "operation=simpleenroll" in ln)
    assert all(ln.index("subject=") < ln.index("info forged")
               for ln in forged if "operation=simpleenroll" in ln)


def serverkeygen_key(h, body):
    m = re.match(r"multipart/mixed; boundary=(\S+)$", h["content-type"])
    for p in body.split(b"--" + m.group(1).encode())[1:-1]:
        head, _, data = p.partition(b"\r\n\r\n")
        if b"application/pkcs8" in head:
            return data.strip().decode()
    raise AssertionError("no key part")


def key_fragments(path):
    """Pieces of a PEM private key that would show it leaked."""
    body = "".join(ln for ln in Path(path).read_text().splitlines()
                   if not ln.startswith("-----"))
    return [body[i:i + 24] for i in range(0, len(body) - 24, 24)]


@pytest.mark.skipif(shutil.which("pki") is None, reason="no strongSwan pki")
def test_no_secret_in_any_log(tmp_path):
    d = tmp_path / "ca"
    static = "static-chal-0123"
    pkictl("ca", "init", "--dir", d, "--set", f"scep.challenge={static}",
           check=True)
    pkictl("est", "user", "add", "--dir", d, "alice", input=PW + "\n",
           check=True)
    secrets = [PW, "wrong-password-9", static,
               base64.b64encode(f"alice:{PW}".encode()).decode(),
               base64.b64encode(b"alice:wrong-password-9").decode(),
               base64.b64encode(f"{RA_USER}:{RA_PW}".encode()).decode(),
               RA_PW]
    logs = []
    with Pkid(d, stderr_path=tmp_path / "ca.log") as srv:
        u = f"alice:{PW}"
        st, _, body, k1 = est_enroll(srv, tmp_path, "e1", "e1.example.com",
                                     user=u)
        assert st == 200
        st, _, _, _ = est_enroll(srv, tmp_path, "e2", "e2.example.com",
                                 user="alice:wrong-password-9")
        assert st == 401
        leaf = leaf_pem(body, tmp_path, "e1")
        st, _, _, k2 = est_enroll(srv, tmp_path, "e1b", "e1.example.com",
                                  cert=leaf, key=k1, op="simplereenroll")
        assert st == 200
        st, h, body, k3 = est_enroll(srv, tmp_path, "kg", "kg.example.com",
                                     user=u, op="serverkeygen")
        assert st == 200, body
        secrets.append(serverkeygen_key(h, body)[:40])
        once = new_challenge(d)
        secrets.append(once)
        ss = StrongSwan(srv.url("/scep", tls=False), tmp_path / "ss")
        ss.getca()
        for i, pw in enumerate((static, once, "not-it-" + once)):
            kk = ss.key(f"sc{i}")
            ss.enroll(kk, f"CN=sc{i}.example.com", pw)
            secrets += key_fragments(kk)
        for kf in (k1, k2, k3):
            secrets += key_fragments(kf)
        # RA mode: the RA's upstream credentials (its client key).
        cert, key = ra_client_cert(d, tmp_path, "ra1")
        secrets += key_fragments(key)
        ra_dir = make_ra(tmp_path, "ra",
                         f"https://localhost:{srv.tls_port}/.well-known/est",
                         d / "root.pem", cert, key)
        with Pkid(ra_dir, stderr_path=tmp_path / "ra.log") as ra:
            st, _, _, k4 = est_enroll(ra, tmp_path, "rd", "rd.example.com",
                                      user=f"{RA_USER}:{RA_PW}")
            assert st == 200
            st, _, _, _ = est_enroll(ra, tmp_path, "rk", "rk.example.com",
                                     user=f"{RA_USER}:{RA_PW}",
                                     op="serverkeygen")
            assert st == 200
            secrets += key_fragments(k4)
            logs.append(clean(ra))
        logs.append(clean(srv))
    for f in list(d.glob("keys/*.key")) + [d / "tls/server.key"]:
        secrets += key_fragments(f)
    text = "\n".join(logs)
    assert "PRIVATE KEY" not in text
    assert "Authorization" not in text and "Basic " not in text
    for s in secrets:
        assert s not in text, f"secret {s[:12]}... in the logs"
    # Every auth path left its access line.
    for op in ("simpleenroll", "simplereenroll", "serverkeygen",
               "PKCSReq"):
        assert f"operation={op}" in text, op
