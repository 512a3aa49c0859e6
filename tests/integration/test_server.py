"""The pkid server skeleton: start, /healthz, CRLs, errors, limits, stop."""
import json
import signal
import subprocess

from conftest import make_csr, openssl, pkictl, run
from server import Pkid


def test_healthz_fast_and_clean_stop(ca):
    with Pkid(ca) as srv:
        status, headers, body = srv.get("/healthz")
        assert status == 200
        health = json.loads(body)
        assert health["status"] == "ok" and health["ca"] == "ca"
        assert srv.ready_after < 2.0
        # curl, a real client, over TLS with the CA's root as trust.
        cp = run(["curl", "-sS", "--cacert", str(ca / "root.pem"),
                  srv.url("/healthz")], check=True)
        assert '"status":"ok"' in cp.stdout
        rc, out, err = srv.stop()
    assert rc == 0, err
    assert "pkid: stopped" in out


def test_sigint_stops(ca):
    with Pkid(ca) as srv:
        rc, out, err = srv.stop(signal.SIGINT)
    assert rc == 0 and "pkid: stopped" in out


def test_http1_status_line_and_404(ca):
    with Pkid(ca) as srv:
        cp = run(["curl", "-sS", "-i", srv.url("/nope", tls=False)],
                 check=True)
        assert cp.stdout.startswith("HTTP/1.1 404")
        assert "error: no-route:" in cp.stdout and "fix: " in cp.stdout
        cp = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                  "-X", "POST", srv.url("/healthz", tls=False)], check=True)
        assert cp.stdout == "405"


def test_crl_endpoint(ca, tmp_path):
    leaf = tmp_path / "leaf.pem"
    pkictl("ca", "issue", "--dir", ca, "--csr", make_csr(tmp_path), "--out",
           leaf, check=True)
    serial = openssl("x509", "-in", leaf, "-noout", "-serial",
                     check=True).stdout.strip().split("=")[1]
    with Pkid(ca) as srv:
        status, headers, body = srv.get("/crl/ca.crl", tls=False)
        assert status == 200
        assert headers["Content-Type"] == "application/pkix-crl"
        crl = tmp_path / "ca.crl"
        crl.write_bytes(body)
        openssl("crl", "-inform", "DER", "-in", crl, "-CAfile",
                ca / "issuing.pem", "-noout", "-verify", check=True)
        text = openssl("crl", "-inform", "DER", "-in", crl, "-noout",
                       "-text", check=True).stdout
        assert serial not in text
        # A revocation made by pkictl while pkid runs shows at once.
        pkictl("ca", "revoke", "--dir", ca, serial, check=True)
        status, headers, body = srv.get("/crl/ca.crl", tls=False)
        crl.write_bytes(body)
        text = openssl("crl", "-inform", "DER", "-in", crl, "-noout",
                       "-text", check=True).stdout
        assert serial in text
        status, _, _ = srv.get("/crl/other.crl", tls=False)
        assert status == 404


def test_body_limit_413(ca, tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"A" * (200 * 1024))
    with Pkid(ca) as srv:
        cp = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                  "--data-binary", f"@{big}", "-H",
                  "Content-Type: application/pkcs10",
                  srv.url("/healthz", tls=False)])
        assert cp.stdout == "413"


def test_rate_limit_503_retry_after(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set", "server.rate_per_min=3",
           check=True)
    with Pkid(d) as srv:
        codes = []
        for _ in range(8):
            cp = run(["curl", "-sS", "-i", srv.url("/healthz", tls=False)])
            codes.append(cp.stdout.split(" ", 2)[1])
            if codes[-1] == "503":
                assert "Retry-After:" in cp.stdout
                assert "rate-limited" in cp.stdout
        assert "200" in codes and "503" in codes


def test_listen_conflict_reports_address(ca):
    with Pkid(ca) as srv:
        cp = run([str(srv.proc.args[0]), "--dir", str(ca), "--listen",
                  f"127.0.0.1:{srv.tls_port}", "--http", "off"], timeout=20)
        assert cp.returncode != 0
        assert "listen-failed" in cp.stderr
        assert str(srv.tls_port) in cp.stderr


def test_missing_ca_is_a_usage_error(tmp_path):
    cp = run([str(__import__("conftest").binary("pkid")), "--dir",
              str(tmp_path / "none")])
    assert cp.returncode == 2 and "ca-missing" in cp.stderr


def test_make_run_script_creates_demo_ca(tmp_path):
    """tools/run-demo.sh (what make run calls) makes the CA on first use."""
    import os
    import time
    from conftest import BUILD, ROOT
    env = dict(os.environ, PKID_DIR=str(tmp_path / "demo"))
    # The demo listens on the fixed ports of the README; only check the
    # first-use CA creation and that the server comes up if they are free.
    proc = subprocess.Popen(["sh", str(ROOT / "tools/run-demo.sh"),
                             str(BUILD)], cwd=str(ROOT), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 20
        lines = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("pkid: ready"):
                break
        assert (tmp_path / "demo" / "pkid.conf").exists()
        assert any("creating the demo CA" in l for l in lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)


def test_config_file_option(ca, tmp_path):
    """pkid --config FILE reads that file; its directory is the CA's."""
    conf = tmp_path / "other.conf"
    text = (ca / "pkid.conf").read_text().replace("rate_per_min = 6000",
                                                  "rate_per_min = 2")
    conf.write_text(text)
    with Pkid(ca, "--config", conf) as srv:
        codes = [srv.get("/healthz", tls=False)[0] for _ in range(4)]
        assert codes[0] == 200 and 503 in codes
    # Without --dir the CA directory is the file's own.
    from conftest import binary, run
    cp = run([binary("pkid"), "--config", str(tmp_path / "other.conf"),
              "--listen", "127.0.0.1:0", "--http", "off"], timeout=20)
    assert cp.returncode == 2 and "ca-missing" in cp.stderr


def test_fd_limit_raised_or_named(ca, tmp_path):
    """Issue 12: with 'ulimit -n 1024' max_conns (4096) was unreachable:
    accept(2) failed with EMFILE and connections waited unanswered. pkid
    raises the soft limit to the hard one, and when that is too low it
    says so (fd-limit) and serves what fits."""
    import resource
    from conftest import binary

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (512, 1024))

    proc = subprocess.Popen(
        [binary("pkid"), "--dir", str(ca), "--listen", "127.0.0.1:0",
         "--http", "off"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=low)
    try:
        for _ in range(200):
            line = proc.stdout.readline()
            if not line or line.startswith("pkid: ready"):
                break
        status = open(f"/proc/{proc.pid}/limits").read()
        soft = [ln for ln in status.splitlines()
                if ln.startswith("Max open files")][0].split()[3]
        assert soft == "1024", status
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert "code=fd-limit" in err and "serving at most 896" in err, err
