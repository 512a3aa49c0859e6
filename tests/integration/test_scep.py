"""SCEP (RFC 8894) against real clients: certmonger (its scep-submit helper
and its daemon) and strongSwan's pki, responses checked with openssl."""
import base64
import http.server
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import binary, cert_count, make_csr, openssl, pkictl, run
from server import Pkid

HERE = Path(__file__).resolve().parent
SCEP_SUBMIT = "/usr/lib/certmonger/scep-submit"
CAPS = ["POSTPKIOperation", "SHA-256", "SHA-384", "SHA-512", "AES", "DES3",
        "Renewal", "GetNextCACert", "SCEPStandard"]
# SCEP attribute OIDs as openssl prints them (it has no names for them).
OID_PKISTATUS = "2.16.840.1.113733.1.9.3"
OID_FAILINFO = "2.16.840.1.113733.1.9.4"

need_pki = pytest.mark.skipif(shutil.which("pki") is None,
                              reason="strongSwan pki not installed")
need_cm = pytest.mark.skipif(not Path(SCEP_SUBMIT).exists(),
                             reason="certmonger not installed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hreq(method, url, body=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/x-pki-message")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type"), err.read()


def scep_ca(tmp, name, *sets):
    d = tmp / name
    args = ["ca", "init", "--dir", d, "--set", "scep.challenge=s3cret"]
    for s in sets:
        args += ["--set", s]
    pkictl(*args, check=True)
    return d


class StrongSwan:
    """strongSwan's pki --scepca / --scep with files in one directory."""

    prefix = []     # a command to run pki under (faketime for rollover)

    def __init__(self, url, work):
        self.url, self.work = url, work
        work.mkdir(parents=True, exist_ok=True)

    def getca(self):
        cp = run([*self.prefix, "pki", "--scepca", "--url", self.url, "--caout",
                  self.work / "ca.der", "--raout", self.work / "ra.der",
                  "--force"], timeout=60)
        assert cp.returncode == 0, cp.stdout + cp.stderr
        return cp

    def key(self, name):
        k = self.work / f"{name}.key"
        cp = run([*self.prefix, "pki", "--gen", "--type", "rsa", "--size", "2048",
                  "--outform", "pem"], timeout=60)
        k.write_text(cp.stdout)
        return k

    def enroll(self, key, dn, password, *extra, enc=None, timeout=60):
        out = self.work / f"{key.stem}.crt"
        cacerts = []
        for f in sorted(self.work.glob("ca*.der")):
            cacerts += ["--cacert", f]
        cp = run([*self.prefix, "pki", "--scep", "--url", self.url, "--in",
                  key,
                  "--dn", dn, "--password", password, "--cacert-enc",
                  enc or self.work / "ra.der", "--cacert-sig",
                  self.work / "ra.der", *cacerts, "--outform", "pem",
                  *map(str, extra)], timeout=timeout)
        if cp.returncode == 0:
            out.write_text(cp.stdout)
        return cp, out


def serial_of(pem_path):
    return openssl("x509", "-in", pem_path, "-noout", "-serial",
                   check=True).stdout.strip()


def verify_chain(ca, cert):
    openssl("verify", "-CAfile", ca / "root.pem", "-untrusted",
            ca / "issuing.pem", cert, check=True)


def certrep_attrs(tmp, der):
    """pkiStatus and failInfo of a CertRep, read with openssl cms."""
    f = tmp / "rep.der"
    f.write_bytes(der)
    txt = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", f,
                  check=True).stdout
    found = {}
    lines = txt.splitlines()
    for i, line in enumerate(lines):
        for oid in (OID_PKISTATUS, OID_FAILINFO):
            if oid in line:
                for nxt in lines[i + 1:i + 6]:
                    if "PRINTABLESTRING" in nxt.upper():
                        found[oid] = nxt.split(":")[-1].strip()
                        break
    # The CertRep's own signature verifies with the RA certificate.
    openssl("cms", "-verify", "-noverify", "-inform", "DER", "-in", f,
            "-binary", "-out", "/dev/null", check=True)
    return found.get(OID_PKISTATUS), found.get(OID_FAILINFO)


@pytest.fixture
def scep(tmp_path):
    d = scep_ca(tmp_path, "ca")
    with Pkid(d) as p:
        p.scep = p.url("/scep", tls=False)
        yield d, p
    # ASan/UBSan builds report leaks and undefined behaviour at exit.
    assert "Sanitizer" not in (getattr(p, "stderr", "") or "")
    assert "runtime error" not in (getattr(p, "stderr", "") or "")


def test_ca_init_makes_ra(scep):
    ca, _ = scep
    ra = ca / "scep/ra.pem"
    txt = openssl("x509", "-in", ra, "-noout", "-text", check=True).stdout
    assert "Digital Signature, Key Encipherment" in txt
    assert "Public-Key: (2048 bit)" in txt and "rsaEncryption" in txt
    assert oct((ca / "scep/ra.key").stat().st_mode & 0o777) == "0o600"
    verify_chain(ca, ra)


def test_getcacaps_both_paths(scep):
    _, p = scep
    for path in ["/scep", "/cgi-bin/pkiclient.exe"]:
        st, ct, body = hreq("GET", p.url(path + "?operation=GetCACaps",
                                         tls=False))
        assert st == 200 and ct.startswith("text/plain")
        assert body.decode().split() == CAPS
        assert len(body) < 1024
    # And over HTTPS.
    st, _, body = p.get("/scep?operation=GetCACaps")
    assert st == 200 and body.decode().split() == CAPS


def test_getcacert_chain_with_ra(scep, tmp_path):
    ca, p = scep
    st, ct, body = hreq("GET", p.scep + "?operation=GetCACert&message=ca")
    assert st == 200 and ct == "application/x-x509-ca-ra-cert"
    f = tmp_path / "ca.p7"
    f.write_bytes(body)
    subj = openssl("pkcs7", "-inform", "DER", "-in", f, "-print_certs",
                   "-noout", check=True).stdout
    assert "Issuing CA\n" in subj.replace(" \n", "\n") or \
        "CN = pkid Demo CA Issuing CA" in subj
    assert "SCEP RA" in subj and "Root CA" in subj


def test_getnextcacert_404_logged_once(scep):
    _, p = scep
    st, _, body = hreq("GET", p.scep + "?operation=GetNextCACert")
    assert st == 404
    assert b"no-next-ca" in body and b"valid until" in body
    _, _, err = p.stop()
    assert err.count("code=no-next-ca") == 2  # the log line and access log


def test_bad_operation_and_malformed_messages(scep):
    _, p = scep
    st, _, body = hreq("GET", p.scep + "?operation=Bogus")
    assert st == 400 and b"not-implemented" in body
    st, _, body = hreq("GET", p.scep + "?operation=PKIOperation&message=@@")
    assert st == 400 and b"base64-bad" in body
    junk = base64.b64encode(b"\x30\x03\x02\x01\x01").decode()
    st, _, body = hreq("GET", p.scep + "?operation=PKIOperation&message=" +
                       urllib.parse.quote(junk))
    assert st == 400 and b"scep-malformed" in body
    st, _, body = hreq("POST", p.scep + "?operation=PKIOperation",
                       b"not DER at all")
    assert st == 400 and b"scep-malformed" in body


@need_cm
def test_certmonger_helper_caps_and_cacert(scep):
    _, p = scep
    cp = run([SCEP_SUBMIT, "-u", p.scep, "-c"], timeout=30)
    assert cp.returncode == 0 and cp.stdout.split() == CAPS
    cp = run([SCEP_SUBMIT, "-u", p.scep, "-C"], timeout=30)
    assert cp.returncode == 0
    assert cp.stdout.count("BEGIN CERTIFICATE") == 3


@need_cm
def test_certmonger_daemon_enrolls(scep, tmp_path):
    ca, p = scep
    out = tmp_path / "cm"
    cp = run([HERE / "certmonger-scep.sh", p.scep, "s3cret", out],
             timeout=150)
    log = (out / "cm.log").read_text() if (out / "cm.log").exists() else ""
    assert cp.returncode == 0, log[-3000:]
    verify_chain(ca, out / "dev.crt")
    subj = openssl("x509", "-in", out / "dev.crt", "-noout", "-subject",
                   check=True).stdout
    assert "certmonger-test.example.test" in subj
    _, _, err = p.stop()
    assert "scep op=PKCSReq" in err and "status=SUCCESS" in err
    # No GetCACert loop: a handful of requests, not dozens.
    assert err.count('path="/scep"') < 12


@need_pki
def test_strongswan_enroll_and_retransmission(scep, tmp_path):
    ca, p = scep
    ss = StrongSwan(p.scep, tmp_path / "ss")
    ss.getca()
    key = ss.key("dev")
    cp, crt = ss.enroll(key, "CN=ss-dev.example.test", "s3cret")
    assert cp.returncode == 0, cp.stderr
    verify_chain(ca, crt)
    first = serial_of(crt)
    # Same key and DN: strongSwan resends the same transaction (its
    # transactionID is the key's hash), and gets the same certificate.
    cp, crt = ss.enroll(key, "CN=ss-dev.example.test", "s3cret")
    assert cp.returncode == 0, cp.stderr
    assert serial_of(crt) == first
    # Another CSR under that transactionID is refused.
    cp, _ = ss.enroll(key, "CN=else.example.test", "s3cret")
    assert cp.returncode != 0 and "badRequest" in cp.stderr
    _, _, err = p.stop()
    assert "code=scep-transaction-conflict" in err


@need_pki
def test_strongswan_wrong_challenge(scep, tmp_path):
    _, p = scep
    ss = StrongSwan(p.scep, tmp_path / "ss")
    ss.getca()
    cp, _ = ss.enroll(ss.key("dev"), "CN=x.example.test", "wrong")
    assert cp.returncode != 0 and "badRequest" in cp.stderr
    _, _, err = p.stop()
    assert "code=challenge-bad" in err


@need_pki
def test_one_time_challenge_is_consumed(scep, tmp_path):
    ca, p = scep
    cp = pkictl("scep", "challenge", "new", "--dir", ca, "--ttl", "10m",
                check=True)
    pw = cp.stdout.strip().splitlines()[-1]
    assert len(pw) == 32
    ss = StrongSwan(p.scep, tmp_path / "ss")
    ss.getca()
    cp, crt = ss.enroll(ss.key("a"), "CN=a.example.test", pw)
    assert cp.returncode == 0, cp.stderr
    cp, _ = ss.enroll(ss.key("b"), "CN=b.example.test", pw)
    assert cp.returncode != 0 and "badRequest" in cp.stderr


def new_challenge(ca, *extra):
    cp = pkictl("scep", "challenge", "new", "--dir", ca, "--ttl", "10m",
                *extra, check=True)
    return cp.stdout.strip().splitlines()[-1]


@need_pki
def test_one_time_challenge_survives_refusal(tmp_path):
    """A request the profile refuses (a SAN outside its suffixes) leaves
    the one-time challenge usable: the corrected request, same key and
    so same transactionID, gets the certificate; its retransmission gets
    the same one; only then is the challenge used up."""
    ca = scep_ca(tmp_path, "ca", "profile.device.san_dns_suffixes="
                 ".example.test")
    pw = new_challenge(ca)
    before = cert_count(ca)
    with Pkid(ca) as p:
        ss = StrongSwan(p.url("/scep", tls=False), tmp_path / "ss")
        ss.getca()
        key = ss.key("dev")
        dn = "CN=fix.example.test"
        cp, _ = ss.enroll(key, dn, pw, "--san", "fix.example.org")
        assert cp.returncode != 0 and "badRequest" in cp.stderr
        cp, crt = ss.enroll(key, dn, pw, "--san", "fix.example.test")
        assert cp.returncode == 0, cp.stderr
        verify_chain(ca, crt)
        first = serial_of(crt)
        cp, crt = ss.enroll(key, dn, pw, "--san", "fix.example.test")
        assert cp.returncode == 0, cp.stderr
        assert serial_of(crt) == first
        # Used up now: another device cannot use it.
        cp, _ = ss.enroll(ss.key("b"), "CN=b.example.test", pw, "--san",
                          "b.example.test")
        assert cp.returncode != 0 and "badRequest" in cp.stderr
        _, _, err = p.stop()
    assert "code=san-not-allowed" in err
    assert err.count("code=challenge-bad") == 1, err
    assert cert_count(ca) == before + 1


@need_pki
def test_one_time_challenge_pending_uses_it(tmp_path):
    """Manual approval: the request queued as PENDING uses the challenge
    (in the commit that queues it); another request with it is refused."""
    ca = scep_ca(tmp_path, "ca", "profile.device.approval=manual")
    pw = new_challenge(ca)
    with Pkid(ca) as p:
        ss = StrongSwan(p.url("/scep", tls=False), tmp_path / "ss")
        ss.getca()
        cp, _ = ss.enroll(ss.key("a"), "CN=a.example.test", pw,
                          "--interval", "1", "--maxpolltime", "1")
        assert "PENDING" in cp.stderr or "pending" in cp.stderr
        cp, _ = ss.enroll(ss.key("b"), "CN=b.example.test", pw,
                          "--interval", "1", "--maxpolltime", "1")
        assert cp.returncode != 0 and "badRequest" in cp.stderr
        _, _, err = p.stop()
    assert "code=challenge-bad" in err
    assert len(_pending(ca)) == 1


@need_pki
def test_one_time_challenge_concurrent_one_wins(tmp_path):
    """Several devices send PKCSReqs with one one-time challenge at the
    same time: exactly one gets a certificate, every other a CertRep
    FAILURE badRequest with challenge-bad in pkid's log (whether it lost
    at the check or at the commit)."""
    n = 4
    ca = scep_ca(tmp_path, "ca")
    pw = new_challenge(ca)
    before = cert_count(ca)
    with Pkid(ca, "--workers", n) as p:
        url = p.url("/scep", tls=False)
        ss = StrongSwan(url, tmp_path / "ss")
        ss.getca()
        keys = [ss.key(f"k{i}") for i in range(n)]
        procs = [subprocess.Popen(
            ["pki", "--scep", "--url", url, "--in", str(k), "--dn",
             f"CN=race{i}.example.test", "--password", pw,
             "--cacert-enc", str(ss.work / "ra.der"), "--cacert-sig",
             str(ss.work / "ra.der"), "--cacert", str(ss.work / "ca.der"),
             "--cacert", str(ss.work / "ca-1.der"), "--outform", "pem"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i, k in enumerate(keys)]
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            results.append((proc.returncode, out, err))
        _, _, log = p.stop()
    won = [r for r in results if r[0] == 0]
    assert len(won) == 1, results
    for rc, _, err in results:
        if rc != 0:
            assert "badRequest" in err, err
    assert log.count("code=challenge-bad") == n - 1, log
    assert log.count("status=SUCCESS") == 1, log
    assert cert_count(ca) == before + 1


@need_cm
def test_one_time_challenge_certmonger_after_refusal(tmp_path):
    """pkictl's request with a SAN the profile refuses leaves the
    one-time challenge to certmonger, which enrolls with it; then it is
    used up, for pkictl too."""
    ca = scep_ca(tmp_path, "ca", "profile.device.san_dns_suffixes="
                 ".example.test")
    pw = new_challenge(ca)
    before = cert_count(ca)
    with Pkid(ca) as p:
        url = p.url("/scep", tls=False)
        cp = pkictl("enroll", "scep", "--url", url, "--challenge", pw,
                    "--new-key", "rsa-2048", "--subject",
                    "CN=x.example.test", "--san", "DNS:x.example.org",
                    "--cacert", ca / "root.pem", "--out", tmp_path / "x.crt",
                    timeout=120)
        assert cp.returncode == 1 and "badRequest" in cp.stderr, cp.stderr
        out = tmp_path / "cm"
        cp = run([HERE / "certmonger-scep.sh", url, pw, out], timeout=150)
        log = (out / "cm.log").read_text() if (out / "cm.log").exists() \
            else ""
        assert cp.returncode == 0, log[-3000:]
        verify_chain(ca, out / "dev.crt")
        cp = pkictl("enroll", "scep", "--url", url, "--challenge", pw,
                    "--new-key", "rsa-2048", "--subject",
                    "CN=y.example.test", "--cacert", ca / "root.pem",
                    "--out", tmp_path / "y.crt", timeout=120)
        assert cp.returncode == 1 and "badRequest" in cp.stderr, cp.stderr
        _, _, err = p.stop()
    assert "code=san-not-allowed" in err
    assert err.count("code=challenge-bad") == 1, err
    assert cert_count(ca) == before + 1


@need_pki
def test_des3_and_sha1_need_compat(tmp_path):
    for compat in ["off", "on"]:
        ca = scep_ca(tmp_path, "ca-" + compat, f"scep.compat={compat}")
        with Pkid(ca) as p:
            ss = StrongSwan(p.url("/scep", tls=False), tmp_path / compat)
            ss.getca()
            cp1, _ = ss.enroll(ss.key("d"), "CN=d.example.test", "s3cret",
                               "--cipher", "des3")
            cp2, _ = ss.enroll(ss.key("s"), "CN=s.example.test", "s3cret",
                               "--digest", "sha1")
            if compat == "off":
                for cp in (cp1, cp2):
                    assert cp.returncode != 0 and "badAlg" in cp.stderr
                _, _, err = p.stop()
                assert "code=scep-bad-alg" in err
            else:
                assert cp1.returncode == 0, cp1.stderr
                assert cp2.returncode == 0, cp2.stderr


@need_pki
def test_wrong_recipient(scep, tmp_path):
    _, p = scep
    ss = StrongSwan(p.scep, tmp_path / "ss")
    ss.getca()
    other = tmp_path / "other.pem"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
            tmp_path / "other.key", "-subj", "/CN=not the RA", "-days", "2",
            "-out", other, check=True)
    cp, _ = ss.enroll(ss.key("d"), "CN=d.example.test", "s3cret",
                      enc=other)
    assert cp.returncode != 0 and "badMessageCheck" in cp.stderr
    _, _, err = p.stop()
    assert "code=scep-wrong-recipient" in err


class _Capture(http.server.BaseHTTPRequestHandler):
    """Answers GetCACaps; records a PKIOperation POST body, answers 500."""
    body = None

    def do_GET(self):
        body = "\n".join(CAPS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        type(self).body = self.rfile.read(n)
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args):
        pass


@need_pki
def test_corrupted_signature_gets_badmessagecheck(scep, tmp_path):
    """A real strongSwan pkiMessage, captured, then one signature bit
    flipped: CertRep FAILURE badMessageCheck, checked with openssl cms."""
    _, p = scep
    ss = StrongSwan(p.scep, tmp_path / "ss")
    ss.getca()
    srv = http.server.HTTPServer(("127.0.0.1", 0), _Capture)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    cap = StrongSwan(f"http://127.0.0.1:{srv.server_port}/scep", ss.work)
    try:
        cap.enroll(ss.key("d"), "CN=d.example.test", "s3cret", timeout=30)
    finally:
        srv.shutdown()
        t.join(10)
        srv.server_close()
    msg = _Capture.body
    assert msg and msg[0] == 0x30
    # Intact, it enrolls; over GET with base64 too (certmonger's way).
    st, ct, rep = hreq("GET", p.scep + "?operation=PKIOperation&message=" +
                       urllib.parse.quote(base64.b64encode(msg).decode()))
    assert st == 200 and ct == "application/x-pki-message"
    assert certrep_attrs(tmp_path, rep) == ("0", None)
    bad = msg[:-1] + bytes([msg[-1] ^ 1])
    st, ct, rep = hreq("POST", p.scep + "?operation=PKIOperation", bad)
    assert st == 200 and ct == "application/x-pki-message"
    assert certrep_attrs(tmp_path, rep) == ("2", "1")
    _, _, err = p.stop()
    assert "code=scep-bad-signature" in err


def _pending(ca):
    cp = pkictl("ca", "pending", "--dir", ca, "--json", check=True)
    return json.loads(cp.stdout)


@need_pki
def test_manual_approval_pending_then_poll_after_restart(tmp_path):
    ca = scep_ca(tmp_path, "ca", "profile.device.approval=manual")
    port = free_port()
    url = f"http://127.0.0.1:{port}/scep"
    ss = StrongSwan(url, tmp_path / "ss")
    key = None
    with Pkid(ca, "--http", f"127.0.0.1:{port}"):
        ss.getca()
        key = ss.key("dev")
        # One poll, then give up: the request stays pending in the store.
        cp, _ = ss.enroll(key, "CN=m.example.test", "s3cret",
                          "--interval", "1", "--maxpolltime", "1")
        assert cp.returncode != 0
        assert "PENDING" in cp.stderr or "pending" in cp.stderr
        assert len(_pending(ca)) == 1
    # A new server process: the transaction is still there; strongSwan
    # comes back and polls (CertPoll) while the operator approves.
    with Pkid(ca, "--http", f"127.0.0.1:{port}") as p:
        proc = subprocess.Popen(
            ["pki", "--scep", "--url", url, "--in", str(key), "--dn",
             "CN=m.example.test", "--password", "s3cret", "--cacert-enc",
             str(ss.work / "ra.der"), "--cacert-sig",
             str(ss.work / "ra.der"), "--cacert", str(ss.work / "ca.der"),
             "--cacert", str(ss.work / "ca-1.der"), "--outform", "pem",
             "--interval", "1", "--maxpolltime", "60"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(2)
            req = _pending(ca)
            assert len(req) == 1
            pkictl("ca", "approve", "--dir", ca, req[0]["id"], check=True)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 0, err
        crt = tmp_path / "m.crt"
        crt.write_text(out)
        verify_chain(ca, crt)
        _, _, log = p.stop()
        assert "op=CertPoll" in log and "status=SUCCESS" in log


@need_pki
def test_strongswan_renewal(scep, tmp_path):
    """RenewalReq signed with the current certificate: no challenge; a
    certificate that is not ours cannot renew."""
    ca, p = scep
    ss = StrongSwan(p.scep, tmp_path / "ss")
    ss.getca()
    old = ss.key("old")
    cp, old_crt = ss.enroll(old, "CN=ren.example.test", "s3cret")
    assert cp.returncode == 0, cp.stderr
    cp, new_crt = ss.enroll(ss.key("new"), "CN=ren.example.test", "",
                            "--cert", old_crt, "--key", old)
    assert cp.returncode == 0, cp.stderr
    verify_chain(ca, new_crt)
    assert serial_of(new_crt) != serial_of(old_crt)
    # A self-made certificate is not one of ours.
    fake = tmp_path / "fake.pem"
    openssl("req", "-x509", "-key", old, "-subj", "/CN=ren.example.test",
            "-days", "2", "-out", fake, check=True)
    cp, _ = ss.enroll(ss.key("n2"), "CN=ren.example.test", "",
                      "--cert", fake, "--key", old)
    assert cp.returncode != 0 and "badRequest" in cp.stderr
    _, _, err = p.stop()
    assert "op=RenewalReq" in err and "code=scep-renewal-signer" in err


def _forge(tmp, msgtype, ca, signer_key, csr):
    """A pkiMessage no real client sends, built by pkid's own builder
    (tests/testlib/scep_forge.c), signed by a self-signed certificate of
    signer_key and encrypted to the RA."""
    signer = tmp / f"signer-{msgtype}.pem"
    openssl("req", "-x509", "-key", signer_key, "-subj", "/CN=forged",
            "-days", "2", "-out", signer, check=True)
    out = tmp / f"forged-{msgtype}.der"
    run([binary("scep_forge"), str(msgtype), ca / "scep/ra.pem", signer,
         signer_key, csr, out], check=True)
    return out.read_bytes()


def test_unknown_message_type_and_key_mismatch(scep, tmp_path):
    """RFC 8894 3.2.1.2: an unknown messageType is a FAILURE badRequest;
    RFC 8894 2.3: a PKCSReq signed with another key than its CSR's is a
    FAILURE badMessageCheck; each with its code in pkid's log."""
    ca, p = scep
    csr = make_csr(tmp_path, name="dev", subject="/CN=forge.example.test")
    msg = _forge(tmp_path, 99, ca, tmp_path / "dev.key", csr)
    st, ct, rep = hreq("POST", p.scep + "?operation=PKIOperation", msg)
    assert st == 200 and ct == "application/x-pki-message"
    assert certrep_attrs(tmp_path, rep) == ("2", "2")
    make_csr(tmp_path, name="other", subject="/CN=other.example.test")
    msg = _forge(tmp_path, 19, ca, tmp_path / "other.key", csr)
    st, ct, rep = hreq("POST", p.scep + "?operation=PKIOperation", msg)
    assert st == 200 and ct == "application/x-pki-message"
    assert certrep_attrs(tmp_path, rep) == ("2", "1")
    _, _, err = p.stop()
    assert "code=scep-unknown-type" in err, err
    assert "code=scep-key-mismatch" in err, err
