"""pkictl's SCEP client (RFC 8894) against real servers: pkid (automatic
and manual approval, renewal, wrong challenge, GET without POST, 503) and
micromdm/scep (Debian's `scep` package), and sscep where it exists."""
import functools
import http.server
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import binary, error_code, openssl, pkictl, run
from server import Pkid

CAPS = ["POSTPKIOperation", "SHA-256", "SHA-384", "SHA-512", "AES", "DES3",
        "Renewal", "GetNextCACert", "SCEPStandard"]
SCEPSERVER = shutil.which("scepserver")
SSCEP = shutil.which("sscep")
need_micromdm = pytest.mark.skipif(
    SCEPSERVER is None, reason="micromdm/scep not installed (apt-get "
    "install scep; tools/deps.sh test)")
need_sscep = pytest.mark.skipif(
    SSCEP is None, reason="sscep not installed (not packaged in Debian "
    "bookworm; build it from github.com/certnanny/sscep to run this)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@functools.lru_cache(maxsize=None)
def _verb_first():
    """`pkictl enroll scep` once cmd_enroll.c dispatches it, else the
    `pkictl scep enroll` alias."""
    cp = pkictl("enroll", "scep", "--help")
    return cp.returncode == 0 and "--compat allows" in cp.stdout


def enroll(*args, verb="enroll", **kw):
    kw.setdefault("timeout", 120)
    if _verb_first():
        return pkictl(verb, "scep", *args, **kw)
    return pkictl("scep", verb, *args, **kw)


def scep_ca(tmp, name, *sets):
    d = tmp / name
    args = ["ca", "init", "--dir", d, "--set", "scep.challenge=s3cret"]
    for s in sets:
        args += ["--set", s]
    pkictl(*args, check=True)
    return d


def verify_chain(ca, cert):
    openssl("verify", "-CAfile", ca / "root.pem", "-untrusted",
            ca / "issuing.pem", cert, check=True)


def x509_text(cert, *what):
    return openssl("x509", "-in", cert, "-noout", *what, check=True).stdout


def clean_exit(p):
    _, _, err = p.stop()
    assert "Sanitizer" not in err and "runtime error" not in err
    return err


@pytest.fixture
def scep(tmp_path):
    d = scep_ca(tmp_path, "ca")
    with Pkid(d) as p:
        p.scep = p.url("/scep", tls=False)
        yield d, p
    assert "Sanitizer" not in (getattr(p, "stderr", "") or "")


def test_getcaps_getca_getnextca(scep, tmp_path):
    ca, p = scep
    cp = pkictl("scep", "getcaps", p.scep, check=True)
    assert cp.stdout.split() == CAPS
    out = tmp_path / "cas.pem"
    # A file others will trust is written only against a pin.
    cp = pkictl("scep", "getca", p.scep, "--out", out)
    assert cp.returncode == 2 and error_code(cp) == "trust-not-pinned"
    assert not out.exists()
    cp = pkictl("scep", "getca", p.scep, "--out", out, "--cacert",
                ca / "root.pem", check=True)
    assert out.read_text().count("BEGIN CERTIFICATE") == 3
    assert "RA CN=pkid Demo CA Issuing CA SCEP RA" in cp.stderr
    # The issuing CA is named as such, with its fingerprint.
    fp = openssl("x509", "-in", ca / "issuing.pem", "-noout",
                 "-fingerprint", "-sha256", check=True).stdout
    fp = fp.split("=")[1].strip().replace(":", "").lower()
    assert f"SHA-256 {fp}" in cp.stderr
    cp = pkictl("scep", "getnextca", p.scep)
    assert cp.returncode == 1 and error_code(cp) == "no-next-ca"
    assert "valid until" in cp.stderr
    # Old IOS path too.
    cp = pkictl("scep", "getcaps", p.url("/cgi-bin/pkiclient.exe",
                                         tls=False), check=True)
    assert cp.stdout.split() == CAPS
    clean_exit(p)


def test_server_option_and_url_alias(scep, tmp_path):
    """The SCEP client commands name the server --server, as the EST ones
    do; --url stays as its alias; help shows --server (issue 14)."""
    ca, p = scep
    for opt in ("--server", "--url"):
        cp = pkictl("scep", "getcaps", opt, p.scep)
        assert cp.returncode == 0, cp.stderr
        assert cp.stdout.split() == CAPS
    out = tmp_path / "cas.pem"
    pkictl("scep", "getca", "--server", p.scep, "--out", out, "--cacert",
           ca / "root.pem", check=True)
    assert out.read_text().count("BEGIN CERTIFICATE") == 3
    cp = pkictl("scep", "getnextca", "--server", p.scep)
    assert cp.returncode == 1 and error_code(cp) == "no-next-ca"
    cp = pkictl("scep", "getcaps", "--server", p.scep, p.scep)
    assert cp.returncode == 2 and error_code(cp) == "usage"
    cp = pkictl("scep", "getcaps")
    assert cp.returncode == 2 and "--server URL" in cp.stderr
    # enroll scep and renew scep, verb first, with --server.
    dev = tmp_path / "dev.pem"
    cp = pkictl("enroll", "scep", "--server", p.scep, "--challenge",
                "s3cret", "--new-key", "rsa-2048", "--subject",
                "CN=dev9.example.com", "--cacert", ca / "root.pem", "--out",
                dev, timeout=120)
    assert cp.returncode == 0, cp.stderr
    verify_chain(ca, dev)
    new = tmp_path / "dev-new.pem"
    cp = pkictl("renew", "scep", "--server", p.scep, "--cert", dev, "--key",
                tmp_path / "dev.key", "--cacert", ca / "root.pem", "--out",
                new, timeout=120)
    assert cp.returncode == 0, cp.stderr
    verify_chain(ca, new)
    cp = pkictl("enroll", "scep", "--server", p.scep, "--url", p.scep,
                "--challenge", "s3cret", "--new-key", "rsa-2048",
                "--subject", "CN=dev9.example.com", "--insecure-tofu",
                "--out", tmp_path / "x.pem")
    assert cp.returncode == 2 and "give the server once" in cp.stderr
    cp = pkictl("enroll", "scep", "--challenge", "s3cret", "--out",
                tmp_path / "x.pem", "--insecure-tofu")
    assert cp.returncode == 2 and "--server and --out" in cp.stderr
    for words in (["enroll", "scep"], ["renew", "scep"],
                  ["scep", "getcaps"], ["scep", "getca"],
                  ["scep", "getnextca"]):
        cp = pkictl(*words, "--help", check=True)
        assert "--server URL" in cp.stdout, words
        assert "--url URL" not in cp.stdout, words
    top = pkictl("help", check=True).stdout
    assert "--url URL" not in top
    clean_exit(p)


def test_enroll_orphan_when_the_write_fails(scep, tmp_path):
    """The server issued, then --out cannot be written (its directory is
    missing): the certificate and the key made here are kept in the
    current directory as dev.orphan.pem / dev.orphan.key (0600), with the
    serial named (issue 14)."""
    ca, p = scep
    work = tmp_path / "work"
    work.mkdir()
    cp = subprocess.run(
        [binary("pkictl"), "enroll", "scep", "--server", p.scep,
         "--challenge", "s3cret", "--new-key", "rsa-2048", "--subject",
         "CN=dev7.example.com", "--cacert", str(ca / "root.pem"), "--out",
         str(tmp_path / "missing" / "dev.pem")], cwd=work,
        capture_output=True, text=True, timeout=120)
    assert cp.returncode == 1, cp.stderr
    assert error_code(cp) in ("io-write", "io-open"), cp.stderr
    cert, key = work / "dev.orphan.pem", work / "dev.orphan.key"
    assert cert.exists() and key.exists(), cp.stderr
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    serial = x509_text(cert, "-serial").strip().split("=")[1].lower()
    while serial.startswith("00"):     # as pkictl prints serials
        serial = serial[2:]
    assert f"serial {serial}" in cp.stderr
    assert "could not write" in cp.stderr and "dev.orphan.pem" in cp.stderr
    verify_chain(ca, cert)
    pub_c = x509_text(cert, "-pubkey")
    pub_k = openssl("pkey", "-in", key, "-pubout", check=True).stdout
    assert pub_c == pub_k
    # The CA has it: it was issued, and nothing is lost.
    listed = json.loads(pkictl("ca", "list", "--dir", ca, "--json",
                               check=True).stdout)
    assert any(c["serial"].lstrip("0") == serial.lstrip("0")
               for c in listed)
    clean_exit(p)


def test_enroll_new_key_with_sans(scep, tmp_path):
    ca, p = scep
    out = tmp_path / "dev.crt"
    cp = enroll("--url", p.scep, "--challenge", "s3cret", "--new-key",
                "rsa-2048", "--subject", "CN=dev1.example.com", "--san",
                "DNS:dev1.example.com", "--san", "IP:10.1.2.3",
                "--cacert", ca / "root.pem", "--out", out)
    assert cp.returncode == 0, cp.stderr
    key = tmp_path / "dev.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    verify_chain(ca, out)
    txt = x509_text(out, "-subject", "-ext", "subjectAltName")
    assert "dev1.example.com" in txt and "10.1.2.3" in txt
    # The certificate is for the key written beside it.
    pub1 = openssl("x509", "-in", out, "-noout", "-pubkey",
                   check=True).stdout
    pub2 = openssl("pkey", "-in", key, "-pubout", check=True).stdout
    assert pub1 == pub2
    assert "AES-256-CBC" in cp.stderr and "SHA512" in cp.stderr
    err = clean_exit(p)
    assert "scep op=PKCSReq" in err and "status=SUCCESS" in err
    assert 'method=POST path="/scep"' in err


def test_enroll_existing_key_pinned(scep, tmp_path):
    ca, p = scep
    key = tmp_path / "k.pem"
    openssl("genrsa", "-out", key, "2048", check=True)
    fp = openssl("x509", "-in", ca / "issuing.pem", "-noout",
                 "-fingerprint", "-sha256", check=True).stdout
    fp = fp.split("=")[1].strip()
    out = tmp_path / "k.crt"
    cp = enroll("--url", p.scep, "--challenge", "s3cret", "--key", key,
                "--subject", "CN=pinned.example.com", "--ca-fingerprint",
                fp, "--out", out)
    assert cp.returncode == 0, cp.stderr
    verify_chain(ca, out)
    cp = enroll("--url", p.scep, "--challenge", "s3cret", "--key", key,
                "--subject", "CN=pinned.example.com", "--ca-fingerprint",
                "00" * 32, "--out", tmp_path / "no.crt")
    assert cp.returncode == 1
    assert error_code(cp) == "fingerprint-mismatch"
    assert not (tmp_path / "no.crt").exists()
    clean_exit(p)


def test_wrong_challenge(scep, tmp_path):
    ca, p = scep
    cp = enroll("--url", p.scep, "--challenge", "wrong", "--new-key",
                "rsa-2048", "--subject", "CN=x.example.com", "--cacert",
                ca / "root.pem", "--out", tmp_path / "x.crt")
    assert cp.returncode == 1
    assert error_code(cp) == "scep-fail-bad-request"
    assert "badRequest" in cp.stderr
    assert not (tmp_path / "x.crt").exists()
    err = clean_exit(p)
    assert "code=challenge-bad" in err


def test_ec_key_refused_before_sending(scep, tmp_path):
    ca, p = scep
    cp = enroll("--url", p.scep, "--challenge", "s3cret", "--new-key",
                "ec-p256", "--subject", "CN=x", "--cacert", ca / "root.pem",
                "--out", tmp_path / "x.crt")
    assert cp.returncode == 2 and "RSA key transport" in cp.stderr
    ec = tmp_path / "ec.key"
    openssl("ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out",
            ec, check=True)
    cp = enroll("--url", p.scep, "--challenge", "s3cret", "--key", ec,
                "--subject", "CN=x", "--cacert", ca / "root.pem", "--out",
                tmp_path / "x.crt")
    assert cp.returncode == 2 and error_code(cp) == "usage"
    err = clean_exit(p)
    assert "PKIOperation" not in err and "op=PKCSReq" not in err


def _pending(ca):
    cp = pkictl("ca", "pending", "--dir", ca, "--json", check=True)
    return json.loads(cp.stdout)


def test_manual_approval_between_polls(tmp_path):
    ca = scep_ca(tmp_path, "ca", "profile.device.approval=manual")
    out = tmp_path / "m.crt"
    with Pkid(ca) as p:
        args = ["--url", p.url("/scep", tls=False), "--challenge",
                "s3cret", "--new-key", "rsa-2048", "--subject",
                "CN=m.example.test", "--poll-interval", "1", "--max-wait",
                "60", "--cacert", ca / "root.pem", "--out", out]
        cmd = [binary("pkictl"), "enroll", "scep", *map(str, args)]
        if not _verb_first():
            cmd[1:3] = ["scep", "enroll"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30
            req = []
            while time.monotonic() < deadline and not req:
                time.sleep(0.3)
                req = _pending(ca)
            assert len(req) == 1
            time.sleep(1.5)  # let it poll at least once while pending
            pkictl("ca", "approve", "--dir", ca, req[0]["id"], check=True)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 0, err
        assert "PENDING" in err and "polling in" in err
        verify_chain(ca, out)
        log = clean_exit(p)
    assert "op=PKCSReq" in log and "status=PENDING" in log
    assert "op=CertPoll" in log and "status=SUCCESS" in log


def test_pending_budget_is_bounded(tmp_path):
    ca = scep_ca(tmp_path, "ca", "profile.device.approval=manual")
    with Pkid(ca) as p:
        t0 = time.monotonic()
        cp = enroll("--url", p.url("/scep", tls=False), "--challenge",
                    "s3cret", "--new-key", "rsa-2048", "--subject",
                    "CN=slow.example.test", "--poll-interval", "1",
                    "--max-wait", "4", "--cacert", ca / "root.pem",
                    "--out", tmp_path / "s.crt")
        assert time.monotonic() - t0 < 30
        assert cp.returncode == 1 and error_code(cp) == "request-pending"
        assert len(_pending(ca)) == 1
        log = clean_exit(p)
    assert "op=CertPoll" in log


def test_renewal(scep, tmp_path):
    ca, p = scep
    old = tmp_path / "old.crt"
    cp = enroll("--url", p.scep, "--challenge", "s3cret", "--new-key",
                "rsa-2048", "--subject", "CN=ren.example.test", "--san",
                "DNS:ren.example.test", "--cacert", ca / "root.pem",
                "--out", old)
    assert cp.returncode == 0, cp.stderr
    new = tmp_path / "new.crt"
    cp = enroll("--url", p.scep, "--cert", old, "--key",
                tmp_path / "old.key", "--cacert", ca / "root.pem", "--out",
                new, verb="renew")
    assert cp.returncode == 0, cp.stderr
    verify_chain(ca, new)
    assert x509_text(new, "-serial") != x509_text(old, "-serial")
    assert "ren.example.test" in x509_text(new, "-ext", "subjectAltName")
    # Without a pin, the CA that issued --cert is the anchor.
    cp = enroll("--url", p.scep, "--cert", new, "--key",
                tmp_path / "old.key", "--out", tmp_path / "n1.crt",
                verb="renew")
    assert cp.returncode == 0, cp.stderr
    verify_chain(ca, tmp_path / "n1.crt")
    # A self-made certificate for the same key is not one of ours: it
    # pins nothing (refused here), and the server refuses it too.
    fake = tmp_path / "fake.pem"
    openssl("req", "-x509", "-key", tmp_path / "old.key", "-subj",
            "/CN=ren.example.test", "-days", "2", "-out", fake, check=True)
    cp = enroll("--url", p.scep, "--cert", fake, "--key",
                tmp_path / "old.key", "--out", tmp_path / "n2.crt",
                verb="renew")
    assert cp.returncode == 2 and error_code(cp) == "trust-not-pinned"
    cp = enroll("--url", p.scep, "--cert", fake, "--key",
                tmp_path / "old.key", "--cacert", ca / "root.pem", "--out",
                tmp_path / "n2.crt", verb="renew")
    assert cp.returncode == 1
    assert error_code(cp) == "scep-fail-bad-request"
    err = clean_exit(p)
    assert "op=RenewalReq" in err and "code=scep-renewal-signer" in err
    assert err.count("op=RenewalReq") == 3


class _Proxy(http.server.BaseHTTPRequestHandler):
    """Relays to pkid; drops POSTPKIOperation from GetCACaps (so pkictl
    must use GET) and answers the first `busy` requests 503."""
    upstream = None
    busy = 0
    seen = []

    def do_GET(self):
        type(self).seen.append(("GET", self.path))
        if type(self).busy > 0:
            type(self).busy -= 1
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if "operation=GetCACaps" in self.path:
            body = b"SHA-256\nAES\nRenewal\n"
            st, ct = 200, "text/plain"
        else:
            try:
                with urllib.request.urlopen(type(self).upstream + self.path,
                                            timeout=20) as r:
                    st, ct, body = r.status, r.headers["Content-Type"], \
                        r.read()
            except urllib.error.HTTPError as err:
                st, ct, body = err.code, err.headers["Content-Type"], \
                    err.read()
        self.send_response(st)
        self.send_header("Content-Type", ct or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        type(self).seen.append(("POST", self.path))
        self.send_response(405)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy(scep):
    ca, p = scep
    _Proxy.upstream = f"http://127.0.0.1:{p.http_port}"
    _Proxy.busy = 0
    _Proxy.seen = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield ca, p, f"http://127.0.0.1:{srv.server_port}/scep"
    finally:
        srv.shutdown()
        t.join(10)
        srv.server_close()


def test_get_when_post_not_advertised(proxy, tmp_path):
    ca, p, url = proxy
    out = tmp_path / "g.crt"
    cp = enroll("--url", url, "--challenge", "s3cret", "--new-key",
                "rsa-2048", "--subject", "CN=get.example.test", "--cacert",
                ca / "root.pem", "--out", out)
    assert cp.returncode == 0, cp.stderr
    verify_chain(ca, out)
    # SHA-256 (not 512: not listed), GET with a base64 message.
    assert "SHA256" in cp.stderr
    ops = [(m, path) for m, path in _Proxy.seen if "PKIOperation" in path]
    assert ops and all(m == "GET" and "message=" in path
                       for m, path in ops)
    clean_exit(p)


def _fp(pem):
    out = openssl("x509", "-in", pem, "-noout", "-fingerprint", "-sha256",
                  check=True).stdout
    return out.split("=")[1].strip().replace(":", "").lower()


def test_enroll_needs_pinned_ca(scep, tmp_path):
    """GetCACert comes over plain HTTP: enroll scep without --cacert or
    --ca-fingerprint is refused before anything is sent (trust-not-pinned,
    exit 2); another CA's root is refused; --insecure-tofu proceeds and
    prints, in one line, the fingerprint that then pins the next one."""
    ca, p = scep
    base = ["--url", p.scep, "--challenge", "s3cret", "--new-key",
            "rsa-2048"]
    cp = enroll(*base, "--subject", "CN=a.example.test", "--out",
                tmp_path / "a.crt")
    assert cp.returncode == 2 and error_code(cp) == "trust-not-pinned"
    assert "--insecure-tofu" in cp.stderr
    other = tmp_path / "other"
    pkictl("ca", "init", "--dir", other, "--subject", "CN=Other",
           check=True)
    cp = enroll(*base, "--subject", "CN=b.example.test", "--cacert",
                other / "root.pem", "--out", tmp_path / "b.crt")
    assert cp.returncode == 1, cp.stderr
    assert "does not chain to the pinned CA" in cp.stderr
    cp = enroll(*base, "--subject", "CN=c.example.test", "--insecure-tofu",
                "--out", tmp_path / "c.crt")
    assert cp.returncode == 0, cp.stderr
    tofu = [ln for ln in cp.stderr.splitlines() if "insecure-tofu" in ln]
    fp = _fp(ca / "issuing.pem")
    assert len(tofu) == 1 and f"--ca-fingerprint {fp}" in tofu[0], tofu
    cp = enroll(*base, "--subject", "CN=d.example.test", "--ca-fingerprint",
                fp, "--out", tmp_path / "d.crt")
    assert cp.returncode == 0, cp.stderr
    assert "insecure-tofu" not in cp.stderr
    for name in ("a", "b"):
        assert not (tmp_path / f"{name}.crt").exists()
    err = clean_exit(p)
    assert err.count("op=PKCSReq") == 2   # c and d; a and b sent nothing


class _FakeRA(_Proxy):
    """Relays to pkid, but GetCACert answers the real CA certificates
    with an RA certificate of its own (same issuer name, another key):
    what a man in the middle on plain HTTP would send to read the
    challenge password."""
    cacert = None

    def do_GET(self):
        type(self).seen.append(("GET", self.path))
        if "operation=GetCACert" not in self.path:
            return self.relay()
        self.answer(200, "application/x-x509-ca-ra-cert", type(self).cacert)

    def do_POST(self):
        type(self).seen.append(("POST", self.path))
        n = int(self.headers.get("Content-Length", "0"))
        self.relay(self.rfile.read(n))

    def relay(self, body=None):
        req = urllib.request.Request(type(self).upstream + self.path,
                                     data=body)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                st, ct, out = r.status, r.headers["Content-Type"], r.read()
        except urllib.error.HTTPError as err:
            st, ct, out = err.code, err.headers["Content-Type"], err.read()
        self.answer(st, ct or "application/octet-stream", out)

    def answer(self, st, ct, body):
        self.send_response(st)
        self.send_header("Content-Type", ct)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _fake_ra_bundle(ca, tmp):
    """DER certs-only PKCS#7: a forged RA (issuer name of the real issuing
    CA, no key identifiers, signed by another key of its type), then the
    real CA certificates."""
    subj = openssl("x509", "-in", ca / "issuing.pem", "-noout", "-subject",
                   "-nameopt", "compat", check=True).stdout
    subj = subj.split("=", 1)[1].strip()
    fca, fra = tmp / "fca", tmp / "fra"
    # The key type of the real one too (OpenSSL matches the signature
    # algorithm to the issuer's key before it calls it the issuer).
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{fca}.key",
            "-out", f"{fca}.pem", "-subj", subj, "-days", "2", check=True)
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout",
            f"{fra}.key", "-out", f"{fra}.csr", "-subj", "/CN=fake RA",
            check=True)
    ext = tmp / "ext.cnf"
    ext.write_text("[v3]\nbasicConstraints=CA:FALSE\nkeyUsage="
                   "digitalSignature,keyEncipherment\nsubjectKeyIdentifier"
                   "=none\nauthorityKeyIdentifier=none\n")
    openssl("x509", "-req", "-in", f"{fra}.csr", "-CA", f"{fca}.pem",
            "-CAkey", f"{fca}.key", "-CAcreateserial", "-out", f"{fra}.pem",
            "-days", "2", "-extfile", ext, "-extensions", "v3", check=True)
    p7 = tmp / "fake.p7b"
    openssl("crl2pkcs7", "-nocrl", "-certfile", f"{fra}.pem", "-certfile",
            ca / "issuing.pem", "-certfile", ca / "root.pem", "-outform",
            "DER", "-out", p7, check=True)
    return p7.read_bytes()


def test_pin_covers_the_ra_certificate(scep, tmp_path):
    """A pinned CA fingerprint (or --cacert) must vouch for the RA
    certificate the challenge is encrypted to, not only be somewhere in
    GetCACert: a forged RA next to the real CA is refused before any
    PKIOperation leaves."""
    ca, p = scep
    _FakeRA.upstream = f"http://127.0.0.1:{p.http_port}"
    _FakeRA.cacert = _fake_ra_bundle(ca, tmp_path)
    _FakeRA.seen = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeRA)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{srv.server_port}/scep"
        for pin in (["--ca-fingerprint", _fp(ca / "issuing.pem")],
                    ["--cacert", ca / "root.pem"]):
            cp = enroll("--url", url, "--challenge", "s3cret", "--new-key",
                        "rsa-2048", "--subject", "CN=mitm.example.test",
                        *pin, "--out", tmp_path / "m.crt")
            assert cp.returncode == 1, cp.stderr
            assert "RA certificate CN=fake RA does not chain" in cp.stderr
        assert not any("PKIOperation" in path for _, path in _FakeRA.seen)
        assert not (tmp_path / "m.crt").exists()
    finally:
        srv.shutdown()
        t.join(10)
        srv.server_close()
    clean_exit(p)


def test_503_backoff_then_success(proxy):
    _, p, url = proxy
    _Proxy.busy = 2
    t0 = time.monotonic()
    cp = pkictl("scep", "getcaps", url, timeout=60)
    took = time.monotonic() - t0
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["SHA-256", "AES", "Renewal"]
    # Two Retry-After: 1 pauses, jitter at most 50 % each.
    assert 2.0 <= took < 10
    assert len(_Proxy.seen) == 3
    _Proxy.busy = 100
    _Proxy.seen = []
    cp = pkictl("scep", "getcaps", url, timeout=120)
    assert cp.returncode == 1 and error_code(cp) == "rate-limited"
    assert len(_Proxy.seen) == 6  # one try and five retries, no more
    clean_exit(p)


def test_connection_refused(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/scep"
    cp = pkictl("scep", "getcaps", url)
    assert cp.returncode == 1 and error_code(cp) == "connect-refused"
    cp = pkictl("scep", "getcaps", "https://127.0.0.1:1/scep")
    assert cp.returncode == 2 and error_code(cp) == "usage"


# ---- micromdm/scep 2.1.0 (Debian's scep package) ------------------------

class Micromdm:
    """scepserver on a free high port, bounded in time, killed at exit
    (it listens on every interface)."""

    def __init__(self, tmp, challenge="chal", *extra):
        self.depot = tmp / "depot"
        self.challenge = challenge
        self.extra = [str(x) for x in extra]
        self.proc = None

    def __enter__(self):
        cp = run([SCEPSERVER, "ca", "-init", "-depot", self.depot,
                  "-key-password", "capw", "-keySize", "2048",
                  "-organization", "pkid-test"], timeout=60)
        assert cp.returncode == 0, cp.stdout + cp.stderr
        self.port = free_port()
        self.proc = subprocess.Popen(
            [SCEPSERVER, "-depot", str(self.depot), "-capass", "capw",
             "-port", str(self.port), "-challenge", self.challenge,
             *self.extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.url = f"http://127.0.0.1:{self.port}/scep"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port),
                                              timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise AssertionError("scepserver did not start")

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.communicate()


@need_micromdm
def test_micromdm_enroll_needs_compat(tmp_path):
    with Micromdm(tmp_path, "chal", "-allowrenew", "0") as m:
        cp = pkictl("scep", "getcaps", m.url, check=True)
        assert "POSTPKIOperation" in cp.stdout.split()
        out = tmp_path / "m.crt"
        # Its CertRep is signed with SHA-1 and enveloped with single DES.
        cp = enroll("--url", m.url, "--challenge", "chal", "--new-key",
                    "rsa-2048", "--subject", "CN=nocompat.example.test",
                    "--cacert", m.depot / "ca.pem", "--out", out)
        assert cp.returncode == 1
        assert error_code(cp) == "scep-no-common-alg"
        assert "--compat" in cp.stderr
        cp = enroll("--url", m.url, "--challenge", "chal", "--new-key",
                    "rsa-2048", "--subject", "CN=mdm.example.test",
                    "--san", "DNS:mdm.example.test", "--compat",
                    "--cacert", m.depot / "ca.pem", "--out", out)
        assert cp.returncode == 0, cp.stderr
        openssl("verify", "-CAfile", m.depot / "ca.pem", out, check=True)
        assert "mdm.example.test" in x509_text(out, "-subject")
        # Renewal: micromdm checks the challenge on RenewalReq too.
        new = tmp_path / "m2.crt"
        cp = enroll("--url", m.url, "--cert", out, "--key",
                    tmp_path / "m.key", "--challenge", "chal", "--compat",
                    "--cacert", m.depot / "ca.pem", "--out", new,
                    verb="renew")
        assert cp.returncode == 0, cp.stderr
        openssl("verify", "-CAfile", m.depot / "ca.pem", new, check=True)
        assert x509_text(new, "-serial") != x509_text(out, "-serial")


@need_micromdm
def test_micromdm_wrong_challenge(tmp_path):
    with Micromdm(tmp_path, "chal") as m:
        cp = enroll("--url", m.url, "--challenge", "nope", "--new-key",
                    "rsa-2048", "--subject", "CN=bad.example.test",
                    "--compat", "--cacert", m.depot / "ca.pem", "--out",
                    tmp_path / "b.crt")
        assert cp.returncode == 1
        assert error_code(cp) == "scep-fail-bad-request"
        cp = pkictl("scep", "getca", m.url, "--out", tmp_path / "ca.pem",
                    "--cacert", m.depot / "ca.pem", check=True)
        assert "CA+RA" in cp.stderr
        # No GetNextCACert in micromdm: a clear error, no loop.
        cp = pkictl("scep", "getnextca", m.url, timeout=60)
        assert cp.returncode == 1
        assert error_code(cp) in ("http-status", "no-next-ca",
                                  "scep-reply-invalid", "unknown-format",
                                  "cert-malformed")


# ---- sscep (not in Debian bookworm) ---------------------------------------

@need_sscep
def test_sscep_and_pkictl_agree_on_pkid(scep, tmp_path):
    """sscep (the one client with GetNextCACert) and pkictl read the same
    CA certificates from pkid, and both enroll."""
    ca, p = scep
    cp = run([SSCEP, "getca", "-u", p.scep, "-c", tmp_path / "sscep-ca"],
             timeout=60)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    got = sorted(Path(tmp_path).glob("sscep-ca*"))
    assert got
    cp = pkictl("scep", "getca", p.scep, "--out", tmp_path / "pk.pem",
                "--cacert", ca / "root.pem", check=True)
    for f in got:
        fp = openssl("x509", "-in", f, "-noout", "-fingerprint", "-sha256",
                     check=True).stdout.split("=")[1].strip()
        assert fp.replace(":", "").lower() in cp.stderr
    out = tmp_path / "pk.crt"
    cp = enroll("--url", p.scep, "--challenge", "s3cret", "--new-key",
                "rsa-2048", "--subject", "CN=sscep-peer.example.test",
                "--cacert", ca / "root.pem", "--out", out)
    assert cp.returncode == 0, cp.stderr
    verify_chain(ca, out)
    clean_exit(p)
