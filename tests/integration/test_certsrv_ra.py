"""RA in front of Microsoft AD CS web enrollment (issue 17): a pkid RA with
upstream = certsrv+https://... takes EST (curl, strongSwan's pki) and SCEP
(strongSwan's pki) from devices and enrolls them with a certificate
template through the certsrv double (certsrv_double.py) on loopback; each
upstream failure gets its own code, in the device's answer and the log."""
import base64
import re
import time

import pytest
from cryptography import x509

from certsrv_double import CertsrvDouble
from conftest import make_csr, openssl, pkictl, run
from server import Pkid
from test_est_ra import USER, PASSWORD, EST, clean_stop
from test_scep import StrongSwan, need_pki

SVC_USER, SVC_PW = "LAB\\svc-pkid", "Svc-pw-1234"
TEMPLATE_OID = "1.3.6.1.4.1.311.20.2"


def make_ra(tmp, name, dbl, template="PkidDevice", auth="basic",
            password=SVC_PW, timeout=None, host="localhost", extra=()):
    d = tmp / name
    pw = tmp / f"{name}.pw"
    pw.write_text(password + "\n")
    sets = ["--set", f"est.upstream={dbl.url(host)}",
            "--set", f"est.upstream_cacert={dbl.trust}",
            "--set", f"est.upstream_template={template}",
            "--set", f"est.upstream_user={SVC_USER}",
            "--set", f"est.upstream_password_file={pw}",
            "--set", f"est.upstream_auth={auth}",
            "--set", "est.upstream_revocation=off",
            "--set", "scep.challenge=s3cret"]
    if timeout is not None:
        sets += ["--set", f"est.upstream_timeout={timeout}"]
    for s in extra:
        sets += ["--set", s]
    pkictl("ca", "init", "--dir", d, *sets, check=True)
    pkictl("est", "user", "add", "--dir", d, USER, input=PASSWORD + "\n",
           check=True)
    return d


def enroll(ra, tmp, name="device", max_time=40):
    """curl as the device through the RA: (status, headers, body)."""
    csr = tmp / f"{name}.csr"
    if not csr.exists():
        csr = make_csr(tmp, name=name, subject=f"/CN={name}.example.com",
                       san=f"DNS:{name}.example.com")
    der = tmp / f"{name}.der"
    openssl("req", "-in", csr, "-outform", "DER", "-out", der, check=True)
    body = tmp / f"{name}.b64"
    body.write_bytes(base64.b64encode(der.read_bytes()))
    out, hdr = tmp / "resp.bin", tmp / "resp.hdr"
    cp = run(["curl", "-sS", "--max-time", str(max_time), "--cacert",
              str(ra.ca_dir / "root.pem"), "--user", f"{USER}:{PASSWORD}",
              "-H", "Content-Type: application/pkcs10",
              "--data-binary", f"@{body}", "-o", str(out), "-D", str(hdr),
              "-w", "%{http_code}",
              f"https://localhost:{ra.tls_port}{EST}/simpleenroll"],
             timeout=max_time + 10)
    assert cp.returncode == 0, cp.stderr
    return int(cp.stdout), hdr.read_text(), out.read_bytes()


def leaf_of(body):
    p7 = base64.b64decode(body)
    from cryptography.hazmat.primitives.serialization import pkcs7
    return pkcs7.load_der_pkcs7_certificates(p7)


def template_of(cert):
    ext = cert.extensions.get_extension_for_oid(
        x509.ObjectIdentifier(TEMPLATE_OID))
    raw = ext.value.value
    return raw[2:].decode("utf-16-be")


@pytest.mark.parametrize("auth", ["basic", "ntlm"])
def test_est_enroll_through_certsrv(tmp_path, auth):
    """curl enrolls through the RA; AD CS (the double) issues with the
    configured template; /cacerts is the AD CS CA certificate."""
    with CertsrvDouble(tmp_path, auth=auth) as dbl:
        d = make_ra(tmp_path, "ra", dbl, auth=auth)
        with Pkid(d) as ra:
            st, _, body = enroll(ra, tmp_path)
            assert st == 200, body
            certs = leaf_of(body)
            assert certs[0].subject.rfc4514_string() == \
                "CN=device.example.com"
            assert certs[0].issuer.rfc4514_string() == "CN=LAB Issuing CA"
            assert template_of(certs[0]) == "PkidDevice"
            # The chain from certnew.p7b follows the leaf.
            assert [c.subject.rfc4514_string() for c in certs[1:]] == \
                ["CN=LAB Issuing CA"]
            req = list(dbl.requests.values())[-1]
            assert req.template == "PkidDevice"
            if auth == "ntlm":
                assert req.requester == SVC_USER
            st, _, body = ra.get(f"{EST}/cacerts")
            assert st == 200
            cas = leaf_of(body)
            assert cas[0].subject.rfc4514_string() == "CN=LAB Issuing CA"
            err = clean_stop(ra)
        assert "AD CS web enrollment" in err
        assert "issued (template PkidDevice)" in err
    # The double saw the pages a browser uses.
    seen = "\n".join(dbl.log)
    assert "POST /certsrv/certfnsh.asp" in seen
    assert "GET /certsrv/certnew.cer?ReqID=" in seen
    assert "GET /certsrv/certnew.cer?ReqID=CACert&Renewal=0&Enc=b64" in seen


def test_pending_then_issued(tmp_path):
    """AD CS holds the request for approval: 202 + Retry-After; after the
    CA manager approves, the same request fetches it by request id."""
    with CertsrvDouble(tmp_path) as dbl:
        dbl.pending = True
        d = make_ra(tmp_path, "ra", dbl)
        with Pkid(d) as ra:
            st, hdr, body = enroll(ra, tmp_path)
            assert st == 202, body
            assert re.search(r"(?im)^retry-after: \d+", hdr), hdr
            assert len(dbl.requests) == 1
            rid = list(dbl.requests)[0]
            st, _, _ = enroll(ra, tmp_path)
            assert st == 202
            # Still one request upstream: the second try polled by id.
            assert len(dbl.requests) == 1
            dbl.approve(rid)
            st, _, body = enroll(ra, tmp_path)
            assert st == 200, body
            assert template_of(leaf_of(body)[0]) == "PkidDevice"
            assert len(dbl.requests) == 1
            err = clean_stop(ra)
        assert f"request {rid} (template PkidDevice) waits" in err
        assert f"request {rid} issued after approval" in err
    assert f"GET /certsrv/certnew.cer?ReqID={rid}&Enc=b64" in \
        "\n".join(dbl.log)


def test_pending_across_restart(tmp_path):
    """The AD CS request id of a held request survives a restart of the
    RA (DIR/certsrv-est.pending): the device's try after the approval
    fetches it instead of submitting again."""
    with CertsrvDouble(tmp_path) as dbl:
        dbl.pending = True
        d = make_ra(tmp_path, "ra", dbl)
        with Pkid(d) as ra:
            st, _, _ = enroll(ra, tmp_path)
            assert st == 202
            clean_stop(ra)
        rid = list(dbl.requests)[0]
        kept = (d / "certsrv-est.pending").read_text()
        assert kept.endswith(f" {rid}\n")
        assert oct((d / "certsrv-est.pending").stat().st_mode & 0o777) \
            == "0o600"
        dbl.approve(rid)
        with Pkid(d) as ra:
            st, _, body = enroll(ra, tmp_path)
            assert st == 200, body
            log = clean_stop(ra)
        assert len(dbl.requests) == 1
        assert "1 request(s) waiting for approval" in log
        assert (d / "certsrv-est.pending").read_text() == ""


def test_pending_then_denied(tmp_path):
    """A CA manager denies a held request: the device's next try gets
    upstream-denied with the CA's message; a try after that is a new
    submission (the request id was forgotten)."""
    with CertsrvDouble(tmp_path) as dbl:
        dbl.pending = True
        d = make_ra(tmp_path, "ra", dbl)
        with Pkid(d) as ra:
            st, _, _ = enroll(ra, tmp_path)
            assert st == 202
            rid = list(dbl.requests)[0]
            dbl.reject(rid, "Denied by the CA manager: not a lab device")
            st, _, body = enroll(ra, tmp_path)
            assert st == 403, body
            assert body.startswith(b"error: upstream-denied: ")
            assert b"not a lab device" in body
            st, _, _ = enroll(ra, tmp_path)
            assert st == 202
            assert len(dbl.requests) == 2
            clean_stop(ra)


def failing(tmp, dbl, want, status=502, max_s=30, **kw):
    """Enroll through an RA toward dbl; the code in the answer and the
    log. Returns (answer text, log)."""
    d = make_ra(tmp, "ra-" + want, dbl, **kw)
    with Pkid(d) as ra:
        t0 = time.monotonic()
        st, _, body = enroll(ra, tmp)
        took = time.monotonic() - t0
        text = body.decode()
        assert st == status, text
        assert text.startswith(f"error: {want}: "), text
        assert "\nfix: " in text
        assert took < max_s, took
        err = clean_stop(ra)
    logged = [ln for ln in err.splitlines() if f": {want}: " in ln]
    assert logged, err
    return text, logged[0]


def test_untrusted(tmp_path):
    with CertsrvDouble(tmp_path, tls="untrusted") as dbl:
        text, _ = failing(tmp_path, dbl, "upstream-untrusted")
    assert "missing issuer /CN=Some Other Root" in text


def test_name_mismatch(tmp_path):
    with CertsrvDouble(tmp_path, tls="wrong-name") as dbl:
        text, _ = failing(tmp_path, dbl, "upstream-name-mismatch")
    assert "host used, localhost" in text and "DNS:lab-dc" in text


def test_clock_behind(tmp_path):
    with CertsrvDouble(tmp_path, tls="not-yet-valid") as dbl:
        text, _ = failing(tmp_path, dbl, "upstream-clock")
    assert "valid only from" in text and "behind" in text


def test_dns(tmp_path):
    with CertsrvDouble(tmp_path) as dbl:
        text, _ = failing(tmp_path, dbl, "upstream-dns",
                          host="no-such-host.invalid")
    assert "no-such-host.invalid" in text


def test_login_401(tmp_path):
    with CertsrvDouble(tmp_path) as dbl:
        text, log = failing(tmp_path, dbl, "upstream-login-failed",
                            password="wrong-password")
    assert "login phase" in text and "Basic" in text
    assert "upstream_user" in log or "fix:" in log


def test_ntlm_required(tmp_path):
    """IIS with only Windows authentication: Basic gets 401 naming what
    IIS offers; NTLM enrolls."""
    with CertsrvDouble(tmp_path, auth="ntlm") as dbl:
        text, _ = failing(tmp_path, dbl, "upstream-login-failed")
        assert "IIS offers Negotiate, NTLM" in text
        assert "upstream_auth = basic" in text


def test_ntlm_wrong_password(tmp_path):
    with CertsrvDouble(tmp_path, auth="ntlm") as dbl:
        failing(tmp_path, dbl, "upstream-login-failed", auth="ntlm",
                password="wrong-password")


def test_slow_login(tmp_path):
    with CertsrvDouble(tmp_path) as dbl:
        dbl.slow_login = 4
        text, _ = failing(tmp_path, dbl, "upstream-timeout", status=504,
                          timeout="2s")
    assert "login phase" in text


def test_slow_submit(tmp_path):
    with CertsrvDouble(tmp_path) as dbl:
        dbl.slow_submit = 4
        text, _ = failing(tmp_path, dbl, "upstream-timeout", status=504,
                          timeout="2s")
    assert "submit phase" in text


def test_slow_fetch(tmp_path):
    with CertsrvDouble(tmp_path) as dbl:
        dbl.slow_fetch = 4
        text, _ = failing(tmp_path, dbl, "upstream-timeout", status=504,
                          timeout="2s")
    assert "fetch phase" in text


def test_tls_timeout(tmp_path):
    """A port that accepts but never speaks TLS: the TLS phase."""
    import socket
    with CertsrvDouble(tmp_path) as dbl, socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen(8)
        dbl.port = mute.getsockname()[1]
        text, _ = failing(tmp_path, dbl, "upstream-timeout", status=504,
                          timeout="2s")
    assert "TLS phase" in text


def test_denied(tmp_path):
    with CertsrvDouble(tmp_path) as dbl:
        dbl.deny = ("Denied by Policy Module  0x80094811, The public key "
                    "does not meet the minimum size required")
        text, log = failing(tmp_path, dbl, "upstream-denied", status=403)
    assert "minimum size required" in text and "0x80094811" in log


def test_unknown_template(tmp_path):
    with CertsrvDouble(tmp_path) as dbl:
        text, _ = failing(tmp_path, dbl, "upstream-template",
                          template="NoSuchTemplate")
    assert "NoSuchTemplate" in text and "0x80094800" in text


@need_pki
def test_scep_and_pki_est_through_certsrv(tmp_path):
    """strongSwan's pki enrolls over SCEP (GetCACert is the AD CS CA) and
    over EST through the RA into the double."""
    with CertsrvDouble(tmp_path, auth="ntlm") as dbl:
        d = make_ra(tmp_path, "ra", dbl, auth="ntlm")
        with Pkid(d) as ra:
            ss = StrongSwan(ra.url("/scep", tls=False), tmp_path / "ss")
            ss.getca()
            key = ss.key("dev")
            cp, crt = ss.enroll(key, "CN=scep-dev.example.test", "s3cret")
            assert cp.returncode == 0, cp.stderr
            cert = x509.load_pem_x509_certificate(crt.read_bytes()) \
                if crt.read_bytes().startswith(b"-----") else \
                x509.load_der_x509_certificate(crt.read_bytes())
            assert cert.issuer.rfc4514_string() == "CN=LAB Issuing CA"
            assert template_of(cert) == "PkidDevice"
            # strongSwan's pki over EST.
            key = tmp_path / "sw.key"
            key.write_bytes(run(["pki", "--gen", "--type", "ecdsa",
                                 "--size", "256", "--outform", "pem"],
                                check=True).stdout.encode())
            req = tmp_path / "sw.req"
            cp = run(["pki", "--req", "--in", str(key), "--type", "priv",
                      "--dn", "CN=sw1.example.com", "--san",
                      "sw1.example.com", "--outform", "pem"], check=True)
            req.write_text(cp.stdout)
            cp = run(["pki", "--est", "--url",
                      f"https://localhost:{ra.tls_port}", "--cacert",
                      str(d / "root.pem"), "--userpass",
                      f"{USER}:{PASSWORD}", "--in", str(req),
                      "--outform", "pem"], timeout=60)
            assert cp.returncode == 0, cp.stdout + cp.stderr
            cert = x509.load_pem_x509_certificate(re.search(
                r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n",
                cp.stdout, re.S).group(0).encode())
            assert cert.subject.rfc4514_string() == "CN=sw1.example.com"
            assert cert.issuer.rfc4514_string() == "CN=LAB Issuing CA"
            assert template_of(cert) == "PkidDevice"
            err = clean_stop(ra)
        assert "issued (template PkidDevice)" in err


def diagnose(dbl, tmp, password=SVC_PW, auth="basic", host="localhost",
             timeout="3"):
    pw = tmp / "diag.pw"
    pw.write_text(password + "\n")
    return pkictl("diagnose", dbl.url(host), "--trust", dbl.trust,
                  "--user", SVC_USER, "--password-file", pw, "--auth", auth,
                  "--timeout", timeout, timeout=60)


def test_diagnose_certsrv(tmp_path):
    """pkictl diagnose certsrv+https://... walks DNS, TCP, TLS (chain,
    name, clock), then the login, and names the phase that fails."""
    with CertsrvDouble(tmp_path, auth="ntlm") as dbl:
        cp = diagnose(dbl, tmp_path, auth="ntlm")
        assert cp.returncode == 0, cp.stdout + cp.stderr
        for step in ("dns:", "tcp:", "tls:"):
            assert step in cp.stdout, cp.stdout
        assert f"login: AD CS web enrollment accepts {SVC_USER} (NTLM)" \
            in cp.stdout
        cp = diagnose(dbl, tmp_path, auth="ntlm", password="nope")
        assert cp.returncode == 1
        assert "login: FAILED: upstream-login-failed" in cp.stdout
        assert "upstream-login-failed" in cp.stderr
        cp = diagnose(dbl, tmp_path, auth="basic")
        assert cp.returncode == 1 and "IIS offers Negotiate, NTLM" in \
            cp.stderr, cp.stderr
        dbl.slow_login = 5
        cp = diagnose(dbl, tmp_path, auth="ntlm", timeout="2")
        assert cp.returncode == 1
        assert "login: FAILED: upstream-timeout" in cp.stdout, cp.stdout
        assert "login phase" in cp.stderr
    with CertsrvDouble(tmp_path, tls="wrong-name") as dbl:
        cp = diagnose(dbl, tmp_path)
        assert cp.returncode == 1
        assert "name-mismatch" in cp.stderr, cp.stdout + cp.stderr
        assert "login:" not in cp.stdout


@need_pki
def test_scep_pending_then_issued(tmp_path):
    """AD CS holds a SCEP device's request: PENDING; strongSwan polls
    (CertPoll) while the CA manager approves, and gets the certificate."""
    import subprocess
    with CertsrvDouble(tmp_path) as dbl:
        dbl.pending = True
        d = make_ra(tmp_path, "ra", dbl)
        with Pkid(d) as ra:
            ss = StrongSwan(ra.url("/scep", tls=False), tmp_path / "ss")
            ss.getca()
            key = ss.key("dev")
            proc = subprocess.Popen(
                ["pki", "--scep", "--url", ra.url("/scep", tls=False),
                 "--in", str(key), "--dn", "CN=wait.example.test",
                 "--password", "s3cret", "--cacert-enc",
                 str(ss.work / "ra.der"), "--cacert-sig",
                 str(ss.work / "ra.der"), "--cacert",
                 str(ss.work / "ca.der"), "--outform", "pem",
                 "--interval", "1", "--maxpolltime", "60"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                deadline = time.monotonic() + 30
                while not dbl.requests and time.monotonic() < deadline:
                    time.sleep(0.2)
                assert len(dbl.requests) == 1
                rid = list(dbl.requests)[0]
                time.sleep(2)       # at least one PENDING poll
                dbl.approve(rid)
                out, err = proc.communicate(timeout=60)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
            assert proc.returncode == 0, err
            cert = x509.load_pem_x509_certificate(out.encode())
            assert cert.issuer.rfc4514_string() == "CN=LAB Issuing CA"
            assert template_of(cert) == "PkidDevice"
            assert len(dbl.requests) == 1
            log = clean_stop(ra)
        assert f"request {rid} issued after approval" in log
        assert "status=PENDING" in log


@need_pki
def test_scep_denied_code_in_log(tmp_path):
    """A denial reaches a SCEP device as FAILURE (badRequest: SCEP has no
    text for it); pkid's log has the code and the CA's message."""
    with CertsrvDouble(tmp_path) as dbl:
        dbl.deny = "Denied by Policy Module  0x80094811, key too small"
        d = make_ra(tmp_path, "ra", dbl)
        with Pkid(d) as ra:
            ss = StrongSwan(ra.url("/scep", tls=False), tmp_path / "ss")
            ss.getca()
            cp, _ = ss.enroll(ss.key("dev"), "CN=no.example.test", "s3cret")
            assert cp.returncode != 0
            assert "badRequest" in cp.stderr or "FAILURE" in \
                cp.stderr.upper(), cp.stderr
            log = clean_stop(ra)
    assert "upstream-denied" in log and "key too small" in log
