"""pkictl enroll est / renew est against a real pkid on 127.0.0.1: HTTP
Basic and client certificates, bootstrap by fingerprint, manual approval
(202 then approve while the client polls), channel binding."""
import json
import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import binary, error_code, openssl, pkictl
from server import Pkid

USER, PASSWORD = "alice", "s3cret-pw-long-enough"


@pytest.fixture(scope="module")
def est(tmp_path_factory):
    d = tmp_path_factory.mktemp("estc") / "ca"
    pkictl("ca", "init", "--dir", d, "--set", "est.iot.profile=server",
           check=True)
    pkictl("est", "user", "add", "--dir", d, USER, input=PASSWORD + "\n",
           check=True)
    with Pkid(d, "--quiet") as srv:
        srv.server = f"https://localhost:{srv.tls_port}"
        yield srv
        rc, out, err = srv.stop()
        assert "AddressSanitizer" not in err and "runtime error" not in err


def fingerprint(pem):
    out = openssl("x509", "-in", pem, "-noout", "-fingerprint", "-sha256",
                  check=True).stdout
    return out.strip().split("=", 1)[1]


def check_cert(ca, pem, subject=None):
    cp = openssl("verify", "-CAfile", ca / "root.pem", "-untrusted",
                 ca / "issuing.pem", pem)
    assert ": OK" in cp.stdout, cp.stdout + cp.stderr
    if subject:
        got = openssl("x509", "-in", pem, "-noout", "-subject", "-nameopt",
                      "RFC2253", check=True).stdout
        assert subject in got, got


def pubkey(path, cert=False):
    if cert:
        return openssl("x509", "-in", path, "-noout", "-pubkey",
                       check=True).stdout
    return openssl("pkey", "-in", path, "-pubout", check=True).stdout


def enroll_basic(srv, tmp, name, *extra):
    out = tmp / f"{name}.pem"
    cp = pkictl("enroll", "est", "--server", srv.server, "--user", USER,
                "--password", PASSWORD, "--cacert", srv.ca_dir / "root.pem",
                "--san", f"DNS:{name}.example.com", "--out", out, *extra)
    return cp, out


def test_enroll_basic(est, tmp_path):
    cp, out = enroll_basic(est, tmp_path, "d1")
    assert cp.returncode == 0, cp.stderr
    assert "enrolled: CN=d1.example.com" in cp.stdout
    key = tmp_path / "d1.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    check_cert(est.ca_dir, out, "CN=d1.example.com")
    assert pubkey(key) == pubkey(out, cert=True)
    san = openssl("x509", "-in", out, "-noout", "-ext", "subjectAltName",
                  check=True).stdout
    assert "DNS:d1.example.com" in san


def test_enroll_orphan_when_the_write_fails(est, tmp_path):
    """The server issued, then --out cannot be written: the certificate
    (with the CA certificates) and the key made here are kept as
    d8.orphan.pem / d8.orphan.key (0600) in the current directory, and
    the serial is named (issue 14)."""
    work = tmp_path / "work"
    work.mkdir()
    cp = subprocess.run(
        [binary("pkictl"), "enroll", "est", "--server", est.server,
         "--user", USER, "--password", PASSWORD, "--cacert",
         str(est.ca_dir / "root.pem"), "--san", "DNS:d8.example.com",
         "--out", str(tmp_path / "missing" / "d8.pem")], cwd=work,
        capture_output=True, text=True, timeout=120)
    assert cp.returncode == 1, cp.stderr
    assert error_code(cp) in ("io-write", "io-open"), cp.stderr
    cert, key = work / "d8.orphan.pem", work / "d8.orphan.key"
    assert cert.exists() and key.exists(), cp.stderr
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    check_cert(est.ca_dir, cert, "CN=d8.example.com")
    assert pubkey(key) == pubkey(cert, cert=True)
    serial = openssl("x509", "-in", cert, "-noout", "-serial",
                     check=True).stdout.strip().split("=")[1].lower()
    while serial.startswith("00"):     # as pkictl prints serials
        serial = serial[2:]
    assert f"serial {serial}" in cp.stderr, cp.stderr
    assert cert.read_text().count("BEGIN CERTIFICATE") >= 2


def test_enroll_label_rsa_existing_key(est, tmp_path):
    key = tmp_path / "given.key"
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
            "rsa_keygen_bits:2048", "-out", key, check=True)
    cp, out = enroll_basic(est, tmp_path, "d2", "--label", "iot", "--key",
                           key, "--subject", "CN=d2.example.com,O=Acme")
    assert cp.returncode == 0, cp.stderr
    assert "key:" not in cp.stdout     # the given key is not rewritten
    assert pubkey(key) == pubkey(out, cert=True)
    eku = openssl("x509", "-in", out, "-noout", "-ext", "extendedKeyUsage",
                  check=True).stdout
    assert "TLS Web Server Authentication" in eku   # the iot label's profile


def test_wrong_password_and_untrusted_server(est, tmp_path):
    out = tmp_path / "x.pem"
    cp = pkictl("enroll", "est", "--server", est.server, "--user", USER,
                "--password", "wrong", "--cacert", est.ca_dir / "root.pem",
                "--san", "DNS:x.example.com", "--out", out)
    assert cp.returncode == 1 and error_code(cp) == "auth-failed", cp.stderr
    assert not out.exists()
    other = tmp_path / "other"
    pkictl("ca", "init", "--dir", other, "--subject", "CN=Other",
           check=True)
    cp = pkictl("enroll", "est", "--server", est.server, "--user", USER,
                "--password", PASSWORD, "--cacert", other / "root.pem",
                "--san", "DNS:x.example.com", "--out", out)
    assert cp.returncode == 1 and error_code(cp) == "unknown-issuer", \
        cp.stderr
    cp = pkictl("enroll", "est", "--server", est.server, "--user", USER,
                "--cacert", est.ca_dir / "root.pem", "--san",
                "DNS:x.example.com", "--out", out)
    assert cp.returncode == 2 and error_code(cp) == "usage"
    assert "needs a password" in cp.stderr


def test_client_cert_enroll_and_renew(est, tmp_path):
    cp, old = enroll_basic(est, tmp_path, "d3")
    assert cp.returncode == 0, cp.stderr
    oldkey = tmp_path / "d3.key"
    # A certificate of this CA renews its own names only: a second
    # identity is refused (README "Security model").
    new = tmp_path / "d4.pem"
    cp = pkictl("enroll", "est", "--server", est.server, "--cert", old,
                "--key", oldkey, "--cacert", est.ca_dir / "root.pem",
                "--subject", "CN=d4.example.com", "--out", new)
    assert cp.returncode == 1 and error_code(cp) == "identity-mismatch", \
        cp.stderr
    assert not new.exists()
    # Renew keeps subject and key; the trust comes from the cert file.
    ren = tmp_path / "d3-renewed.pem"
    cp = pkictl("renew", "est", "--server", est.server, "--cert", old,
                "--key", oldkey, "--out", ren)
    assert cp.returncode == 0, cp.stderr
    assert "renewed: CN=d3.example.com" in cp.stdout
    check_cert(est.ca_dir, ren, "CN=d3.example.com")
    assert pubkey(oldkey) == pubkey(ren, cert=True)
    serial = lambda p: openssl("x509", "-in", p, "-noout", "-serial",
                               check=True).stdout
    assert serial(ren) != serial(old)
    # Renew with a new key.
    ren2 = tmp_path / "d3-rekeyed.pem"
    cp = pkictl("renew", "est", "--server", est.server, "--cert", ren,
                "--key", oldkey, "--cacert", est.ca_dir / "root.pem",
                "--new-key", "ec-p256", "--out", ren2)
    assert cp.returncode == 0, cp.stderr
    assert pubkey(tmp_path / "d3-rekeyed.key") == pubkey(ren2, cert=True)


def test_bootstrap_fingerprint(est, tmp_path):
    fp = fingerprint(est.ca_dir / "root.pem")
    out = tmp_path / "b.pem"
    cp = pkictl("enroll", "est", "--server",
                f"https://127.0.0.1:{est.tls_port}", "--user", USER,
                "--password", PASSWORD, "--bootstrap-fingerprint", fp,
                "--san", "DNS:b.example.com", "--out", out)
    assert cp.returncode == 0, cp.stderr
    assert "bootstrapped trust" in cp.stderr
    check_cert(est.ca_dir, out, "CN=b.example.com")
    # One wrong digit: refused before any credential is sent.
    bad = ("00" if not fp.startswith("00") else "11") + fp[2:]
    out2 = tmp_path / "b2.pem"
    cp = pkictl("enroll", "est", "--server", est.server, "--user", USER,
                "--password", PASSWORD, "--bootstrap-fingerprint", bad,
                "--san", "DNS:b2.example.com", "--out", out2)
    assert cp.returncode == 1, cp.stderr
    assert error_code(cp) == "fingerprint-mismatch", cp.stderr
    assert not out2.exists()


def test_manual_approval_polls(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set",
           "profile.device.approval=manual", check=True)
    pkictl("est", "user", "add", "--dir", d, USER, input=PASSWORD + "\n",
           check=True)
    out = tmp_path / "m.pem"
    with Pkid(d, "--quiet") as srv:
        proc = subprocess.Popen(
            [binary("pkictl"), "enroll", "est", "--server",
             f"https://localhost:{srv.tls_port}", "--user", USER,
             "--password", PASSWORD, "--cacert", str(d / "root.pem"),
             "--san", "DNS:m.example.com", "--out", str(out),
             "--poll-interval", "1", "--max-wait", "60"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        approved = []

        def approve():
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not approved:
                pend = json.loads(pkictl("ca", "pending", "--dir", d,
                                         "--json", check=True).stdout)
                if pend:
                    pkictl("ca", "approve", "--dir", d, pend[0]["id"],
                           check=True)
                    approved.append(pend[0]["id"])
                time.sleep(0.3)

        t = threading.Thread(target=approve)
        t.start()
        t.join(40)
        so, se = proc.communicate(timeout=60)
        assert approved
        assert proc.returncode == 0, se
        assert "waits for approval (202)" in se
        check_cert(d, out, "CN=m.example.com")
        rc, _, err = srv.stop()
        assert "AddressSanitizer" not in err


def test_channel_binding_required(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set",
           "est.channel_binding=required", check=True)
    pkictl("est", "user", "add", "--dir", d, USER, input=PASSWORD + "\n",
           check=True)
    with Pkid(d, "--quiet") as srv:
        for tls in ("1.3", "1.2"):
            out = tmp_path / f"cb{tls}.pem"
            cp = pkictl("enroll", "est", "--server",
                        f"https://localhost:{srv.tls_port}", "--user", USER,
                        "--password", PASSWORD, "--cacert", d / "root.pem",
                        "--san", "DNS:cb.example.com", "--out", out,
                        "--tls-max", tls)
            assert cp.returncode == 0, cp.stderr
            check_cert(d, out)
        srv.stop()


def test_enroll_needs_pinned_ca(est, tmp_path):
    """Without --cacert or --bootstrap-fingerprint, enroll est refuses
    before it connects (trust-not-pinned, exit 2); so does renew est when
    --cert holds no CA certificate."""
    out = tmp_path / "np.pem"
    cp = pkictl("enroll", "est", "--server", est.server, "--user", USER,
                "--password-file", "-", "--san", "DNS:np.example.com",
                "--out", out, input=PASSWORD + "\n")
    assert cp.returncode == 2, cp.stderr
    assert error_code(cp) == "trust-not-pinned", cp.stderr
    assert "--bootstrap-fingerprint" in cp.stderr
    cp, full = enroll_basic(est, tmp_path, "np2")
    assert cp.returncode == 0, cp.stderr
    leaf = tmp_path / "leaf-only.pem"
    openssl("x509", "-in", full, "-out", leaf, check=True)
    cp = pkictl("renew", "est", "--server", est.server, "--cert", leaf,
                "--key", tmp_path / "np2.key", "--out", tmp_path / "r.pem")
    assert cp.returncode == 2 and error_code(cp) == "trust-not-pinned", \
        cp.stderr
    assert not out.exists() and not (tmp_path / "r.pem").exists()


def test_password_never_in_argv(tmp_path):
    """The password of enroll est from --password-file FILE, standard input
    (--password-file -) and PKID_EST_PASSWORD: a real enrollment each way;
    while pkictl waits for approval, neither its command line (what ps
    shows every user) nor its environment holds the password, and
    --password PW is wiped from the command line once read (--help says
    it is visible to others until then)."""
    assert "process list" in pkictl("enroll", "est", "--help").stdout
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set",
           "profile.device.approval=manual", check=True)
    pkictl("est", "user", "add", "--dir", d, USER, "--password-file", "-",
           input=PASSWORD + "\n", check=True)
    pwfile = tmp_path / "pw.txt"
    pwfile.write_text(PASSWORD + "\n")
    pwfile.chmod(0o600)
    secret = PASSWORD.encode()
    with Pkid(d, "--quiet") as srv:
        for how in ("file", "stdin", "env", "arg"):
            out = tmp_path / f"{how}.pem"
            cmd = [binary("pkictl"), "enroll", "est", "--server",
                   f"https://localhost:{srv.tls_port}", "--user", USER,
                   "--cacert", str(d / "root.pem"), "--san",
                   f"DNS:{how}.example.com", "--out", str(out),
                   "--poll-interval", "1", "--max-wait", "60"]
            env = dict(os.environ)
            env.pop("PKID_EST_PASSWORD", None)
            if how == "file":
                cmd += ["--password-file", str(pwfile)]
            elif how == "stdin":
                cmd += ["--password-file", "-"]
            elif how == "env":
                env["PKID_EST_PASSWORD"] = PASSWORD
            else:
                cmd += ["--password", PASSWORD]
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True,
                                    env=env)
            try:
                proc.stdin.write(PASSWORD + "\n" if how == "stdin" else "")
                proc.stdin.close()
                pend = []
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and not pend:
                    time.sleep(0.3)
                    pend = json.loads(pkictl("ca", "pending", "--dir", d,
                                             "--json", check=True).stdout)
                assert len(pend) == 1, how
                proc_dir = Path(f"/proc/{proc.pid}")
                assert secret not in (proc_dir / "cmdline").read_bytes()
                assert secret not in (proc_dir / "environ").read_bytes()
                pkictl("ca", "approve", "--dir", d, pend[0]["id"],
                       check=True)
                err = proc.stderr.read()
                proc.wait(timeout=60)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stderr.close()
            assert proc.returncode == 0, (how, err)
            check_cert(d, out, f"CN={how}.example.com")
        _, _, err = srv.stop()
        assert "AddressSanitizer" not in err


def test_renew_with_basic_and_cert(tmp_path):
    """renew est --user: on a label with auth = basic-and-cert the renewal
    sends both the certificate and HTTP Basic, the password from
    PKID_EST_PASSWORD; without the password the server refuses."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set", "est.auth=basic-and-cert",
           check=True)
    pkictl("est", "user", "add", "--dir", d, USER, "--password-file", "-",
           input=PASSWORD + "\n", check=True)
    key, csr = tmp_path / "r.key", tmp_path / "r.csr"
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj",
            "/CN=r.example.com", "-addext",
            "subjectAltName=DNS:r.example.com", "-out", csr, check=True)
    cert = tmp_path / "r.pem"
    pkictl("ca", "issue", "--dir", d, "--csr", csr, "--out", cert,
           check=True)
    with Pkid(d, "--quiet") as srv:
        base = ["renew", "est", "--server",
                f"https://localhost:{srv.tls_port}", "--cert", cert,
                "--key", key, "--cacert", d / "root.pem"]
        cp = pkictl(*base, "--out", tmp_path / "n0.pem")
        assert cp.returncode == 1 and error_code(cp) == "auth-required", \
            cp.stderr
        cp = pkictl(*base, "--user", USER, "--out", tmp_path / "n1.pem",
                    env={"PKID_EST_PASSWORD": PASSWORD})
        assert cp.returncode == 0, cp.stderr
        check_cert(d, tmp_path / "n1.pem", "CN=r.example.com")
        srv.stop()
