"""The OCSP responder (issue 18, RFC 6960) against the openssl ocsp
client and curl: good, revoked after pkictl ca revoke, unknown serial,
another issuer (unauthorized), nonce echoed or not asked, GET with the
base64 path (RFC 6960 A.1) and its caching headers, malformed requests,
and the delegated responder certificate (id-kp-OCSPSigning,
id-pkix-ocsp-nocheck) verified by openssl."""
import base64
import os
import stat
import subprocess
import time
import urllib.parse
import urllib.request

from conftest import make_csr, openssl, pkictl
from server import Pkid


def issue(d, tmp, name):
    csr = make_csr(tmp, name=name, subject=f"/CN={name}.example.com",
                   san=f"DNS:{name}.example.com")
    out = tmp / f"{name}.pem"
    pkictl("ca", "issue", "--dir", d, "--csr", csr, "--out", out,
           check=True)
    return out


def serial_of(pem):
    return openssl("x509", "-in", pem, "-noout", "-serial",
                   check=True).stdout.strip().split("=")[1]


def ocsp(srv, d, *args):
    """openssl ocsp against srv; (returncode, stdout + stderr)."""
    url = f"http://127.0.0.1:{srv.http_port}/ocsp"
    cp = openssl("ocsp", "-issuer", d / "issuing.pem", "-url", url,
                 "-CAfile", d / "root.pem", "-timeout", "10", *args)
    return cp.returncode, cp.stdout + cp.stderr


def post(srv, body, ctype="application/ocsp-request"):
    req = urllib.request.Request(
        f"http://127.0.0.1:{srv.http_port}/ocsp", data=body,
        headers={"Content-Type": ctype}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, dict(r.headers), r.read()


def resp_status(tmp, der):
    f = tmp / "resp.der"
    f.write_bytes(der)
    cp = openssl("ocsp", "-respin", f, "-resp_text", "-noverify")
    return cp.stdout + cp.stderr


def make_ca(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--subject",
           "CN=OCSP Test CA,DC=example,DC=com",
           "--set", "ca.ocsp_url=http://127.0.0.1:1/ocsp", check=True)
    return d


def test_good_revoked_unknown_nonce(tmp_path):
    d = make_ca(tmp_path)
    leaf = issue(d, tmp_path, "good")
    bad = issue(d, tmp_path, "bad")
    text = openssl("x509", "-in", leaf, "-noout", "-text",
                   check=True).stdout
    assert "OCSP - URI:http://127.0.0.1:1/ocsp" in text, text

    with Pkid(d, stderr_path=tmp_path / "log") as srv:
        rc, out = ocsp(srv, d, "-cert", leaf, "-cert", bad, "-resp_text")
        assert rc == 0, out
        assert "Response verify OK" in out, out
        assert f"{leaf}: good" in out and f"{bad}: good" in out, out
        # A fresh nonce, echoed (openssl checks it matches).
        assert "OCSP Nonce" in out and "WARNING: no nonce" not in out, out
        assert "This Update:" in out and "Next Update:" in out, out

        pkictl("ca", "revoke", "--dir", d, serial_of(bad), "--reason",
               "keyCompromise", check=True)
        rc, out = ocsp(srv, d, "-cert", bad, "-no_nonce", "-resp_text")
        assert rc == 0 and "Response verify OK" in out, out
        assert f"{bad}: revoked" in out, out
        assert "Reason: keyCompromise" in out, out
        assert "Revocation Time:" in out, out
        # None asked, none sent.
        assert "OCSP Nonce" not in out, out
        rc, out = ocsp(srv, d, "-cert", leaf)
        assert rc == 0 and f"{leaf}: good" in out, out

        # A serial this CA never issued.
        rc, out = ocsp(srv, d, "-serial", "0x1234abcd")
        assert rc == 0 and "Response verify OK" in out, out
        assert "0x1234abcd: unknown" in out, out

        # Asked about the root's certificates: not this responder's
        # issuer (RFC 6960 2.3 unauthorized).
        url = f"http://127.0.0.1:{srv.http_port}/ocsp"
        cp = openssl("ocsp", "-issuer", d / "root.pem", "-serial", "0x1",
                     "-url", url, "-CAfile", d / "root.pem")
        assert "Responder Error: unauthorized" in cp.stdout + cp.stderr, \
            cp.stdout + cp.stderr


def test_responder_certificate(tmp_path):
    d = make_ca(tmp_path)
    leaf = issue(d, tmp_path, "dev")
    with Pkid(d, stderr_path=tmp_path / "log") as srv:
        rc, out = ocsp(srv, d, "-cert", leaf, "-resp_text")
        assert rc == 0 and "Response verify OK" in out, out
        # The responder certificate pkid issued, kept in the CA dir.
        pem = d / "ocsp" / "responder-1.pem"
        key = d / "ocsp" / "responder-1.key"
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
        text = openssl("x509", "-in", pem, "-noout", "-text",
                       check=True).stdout
        assert "OCSP Signing" in text, text
        assert "OCSP No Check" in text, text
        cp = openssl("x509", "-in", pem, "-noout", "-startdate",
                     "-enddate", check=True)
        # A short life: at most 7 days.
        cp = openssl("x509", "-in", pem, "-noout", "-checkend",
                     str(8 * 86400))
        assert cp.returncode != 0, "responder certificate lives > 8 days"
        cp = openssl("verify", "-CAfile", d / "root.pem", "-untrusted",
                     d / "issuing.pem", "-purpose", "ocsphelper", pem)
        assert cp.returncode == 0, cp.stdout + cp.stderr
        # It is recorded like every certificate the CA signs.
        listed = pkictl("ca", "list", "--dir", d, check=True).stdout
        assert serial_of(pem).lower() in listed.lower(), listed
    # A restart keeps it (no new issuance).
    before = pem.read_bytes()
    with Pkid(d, stderr_path=tmp_path / "log2") as srv:
        rc, out = ocsp(srv, d, "-cert", leaf)
        assert rc == 0 and "Response verify OK" in out, out
    assert pem.read_bytes() == before


def test_get_cached_with_headers(tmp_path):
    d = make_ca(tmp_path)
    leaf = issue(d, tmp_path, "dev")
    req = tmp_path / "req.der"
    openssl("ocsp", "-issuer", d / "issuing.pem", "-cert", leaf,
            "-no_nonce", "-reqout", req, check=True)
    b64 = base64.b64encode(req.read_bytes()).decode()
    path = "/ocsp/" + urllib.parse.quote(b64, safe="")
    with Pkid(d, stderr_path=tmp_path / "log") as srv:
        url = f"http://127.0.0.1:{srv.http_port}{path}"
        out = tmp_path / "resp.der"
        hdr = subprocess.run(["curl", "-s", "-D", "-", "-o", str(out),
                              "--max-time", "10", url],
                             capture_output=True, text=True, check=True
                             ).stdout
        assert hdr.startswith("HTTP/1.1 200"), hdr
        h = {k.strip().lower(): v.strip() for k, v in
             (ln.split(":", 1) for ln in hdr.splitlines()[1:] if ":" in ln)}
        assert h["content-type"] == "application/ocsp-response", h
        assert "max-age=" in h["cache-control"], h
        assert "public" in h["cache-control"], h
        assert int(h["cache-control"].split("max-age=")[1].split(",")[0]) \
            > 3000, h
        assert "last-modified" in h and "expires" in h, h
        etag = h["etag"]
        cp = openssl("ocsp", "-respin", out, "-issuer", d / "issuing.pem",
                     "-cert", leaf, "-CAfile", d / "root.pem")
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert "Response verify OK" in cp.stdout + cp.stderr
        assert f"{leaf}: good" in cp.stdout, cp.stdout
        first = out.read_bytes()
        # The same bytes again: pre-signed, served from the cache.
        st, h2, body = srv.get(path, tls=False)
        assert st == 200 and body == first and h2["ETag"] == etag
        # A cache revalidating gets 304.
        cp = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                             "%{http_code}", "-H", f"If-None-Match: {etag}",
                             "--max-time", "10", url],
                            capture_output=True, text=True, check=True)
        assert cp.stdout == "304", cp.stdout
        # The unescaped base64 path works too ('/' and '+' kept).
        st, _, body = srv.get("/ocsp/" + b64, tls=False)
        assert st == 200 and body == first

        # A revocation is answered at once, with a fresh signature.
        pkictl("ca", "revoke", "--dir", d, serial_of(leaf), "--reason",
               "superseded", check=True)
        st, h3, body = srv.get(path, tls=False)
        assert st == 200 and body != first and h3["ETag"] != etag
        assert "superseded" in resp_status(tmp_path, body)
        assert "Cert Status: revoked" in resp_status(tmp_path, body)
        log = srv.read_stderr(0.2)
        assert "ocsp responder ca=ca generation=1" in log, log


def test_malformed(tmp_path):
    d = make_ca(tmp_path)
    leaf = issue(d, tmp_path, "dev")
    req = tmp_path / "req.der"
    openssl("ocsp", "-issuer", d / "issuing.pem", "-cert", leaf,
            "-reqout", req, check=True)
    der = req.read_bytes()
    with Pkid(d, stderr_path=tmp_path / "log") as srv:
        for body in (der[:-3], der[:10], b"", b"hello", der + b"\0",
                     base64.b64encode(der)):
            st, h, out = post(srv, body)
            assert st == 200, st
            assert h["Content-Type"] == "application/ocsp-response"
            assert "malformedrequest" in resp_status(tmp_path, out), body
        for path in ("/ocsp", "/ocsp/", "/ocsp/%21%21%21",
                     "/ocsp/" + base64.b64encode(der[:-5]).decode(),
                     "/ocsp/" + "A" * 7000):
            st, h, out = srv.get(path, tls=False)
            assert st == 200, (path, st)
            assert "malformedrequest" in resp_status(tmp_path, out), path
            assert h.get("Cache-Control") == "no-store", h
        # Nine CertIDs: more than one request takes.
        args = []
        for i in range(9):
            args += ["-serial", str(i + 1)]
        openssl("ocsp", "-issuer", d / "issuing.pem", *args, "-reqout",
                tmp_path / "nine.der", check=True)
        st, _, out = post(srv, (tmp_path / "nine.der").read_bytes())
        assert "malformedrequest" in resp_status(tmp_path, out)
        log = srv.read_stderr(0.2)
        assert "code=ocsp-malformed" in log, log
        # Nothing was issued for them: one certificate plus none.
        rc, out = ocsp(srv, d, "-cert", leaf)
        assert rc == 0 and f"{leaf}: good" in out, out


def test_ocsp_url_config(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    leaf = issue(d, tmp_path, "dev")
    text = openssl("x509", "-in", leaf, "-noout", "-text",
                   check=True).stdout
    assert "OCSP - URI" not in text, text
    cp = pkictl("ca", "init", "--dir", tmp_path / "bad", "--set",
                "ca.ocsp_url=https://x/ocsp")
    assert cp.returncode != 0 and "config-bad-value" in cp.stderr
    cp = pkictl("ca", "init", "--dir", tmp_path / "bad2", "--set",
                "ca.ocsp_next_update=10s")
    assert cp.returncode != 0 and "config-bad-value" in cp.stderr
    d2 = tmp_path / "ca2"
    pkictl("ca", "init", "--dir", d2, "--set",
           "server.http=192.0.2.1:8080", "--set", "ca.ocsp_url=auto",
           check=True)
    leaf = issue(d2, tmp_path, "dev2")
    text = openssl("x509", "-in", leaf, "-noout", "-text",
                   check=True).stdout
    assert "OCSP - URI:http://192.0.2.1:8080/ocsp" in text, text
    conf = (d2 / "pkid.conf").read_text()
    assert "ocsp_url = auto" in conf and "ocsp_next_update = 1h" in conf


def test_each_generation_answers(tmp_path):
    """After a rollover the retired generation's certificates are
    answered too, each by a responder its own generation issued."""
    import shutil
    d = make_ca(tmp_path)
    old = tmp_path / "issuing-1.pem"
    shutil.copy(d / "issuing.pem", old)
    a = issue(d, tmp_path, "a")
    pkictl("ca", "rollover", "--dir", d, "--now", check=True)
    b = issue(d, tmp_path, "b")
    pkictl("ca", "revoke", "--dir", d, serial_of(a), check=True)
    with Pkid(d, stderr_path=tmp_path / "log") as srv:
        url = f"http://127.0.0.1:{srv.http_port}/ocsp"
        for issuer, leaf, want in ((old, a, "revoked"),
                                   (d / "issuing.pem", b, "good")):
            cp = openssl("ocsp", "-issuer", issuer, "-cert", leaf, "-url",
                         url, "-CAfile", d / "root.pem", "-timeout", "10")
            out = cp.stdout + cp.stderr
            assert cp.returncode == 0 and "Response verify OK" in out, out
            assert f"{leaf}: {want}" in out, out
        # b asked under the old issuer: not that generation's.
        cp = openssl("ocsp", "-issuer", old, "-cert", b, "-url", url,
                     "-CAfile", d / "root.pem", "-timeout", "10")
        assert "unknown" in cp.stdout, cp.stdout + cp.stderr
    for g, issuer in ((1, old), (2, d / "issuing.pem")):
        pem = d / "ocsp" / f"responder-{g}.pem"
        cp = openssl("verify", "-CAfile", d / "root.pem", "-untrusted",
                     issuer, "-partial_chain", pem)
        assert cp.returncode == 0, cp.stdout + cp.stderr
