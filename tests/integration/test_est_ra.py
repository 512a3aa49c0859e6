"""Registration-authority mode: an RA pkid in front of a CA pkid on
loopback. A device enrolls with curl through the RA; each upstream failure
is produced for real and gets its own code, a 502/504 and no hang."""
import base64
import calendar
import re
import socket
import threading
import time

import pytest

from conftest import make_csr, openssl, pkictl, run
from server import Pkid

USER, PASSWORD = "dev", "dev-pw"
EST = "/.well-known/est"


def ra_client_cert(ca_dir, tmp, name):
    """An RA client certificate issued by ca_dir (device profile:
    clientAuth); returns (cert, key)."""
    csr = make_csr(tmp, name=name, subject=f"/CN={name}.ra.example",
                   san=f"DNS:{name}.ra.example")
    cert = tmp / f"{name}.pem"
    pkictl("ca", "issue", "--dir", ca_dir, "--csr", csr, "--profile",
           "device", "--out", cert, check=True)
    return cert, tmp / f"{name}.key"


def make_ra(tmp, name, upstream, cacert, cert=None, key=None,
            timeout=None):
    """An RA CA dir whose [est] forwards to upstream, with a device user."""
    d = tmp / name
    sets = ["--set", f"est.upstream={upstream}",
            "--set", f"est.upstream_cacert={cacert}"]
    if cert is not None:
        sets += ["--set", f"est.upstream_cert={cert}",
                 "--set", f"est.upstream_key={key}"]
    if timeout is not None:
        sets += ["--set", f"est.upstream_timeout={timeout}"]
    pkictl("ca", "init", "--dir", d, *sets, check=True)
    pkictl("est", "user", "add", "--dir", d, USER, input=PASSWORD + "\n",
           check=True)
    return d


def device_enroll(ra, tmp, path="/simpleenroll", max_time=30):
    """curl as the device through the RA: (status, body bytes, seconds)."""
    csr = make_csr(tmp, name="device", subject="/CN=dev9.example.com",
                   san="DNS:dev9.example.com")
    der = tmp / "device.der"
    openssl("req", "-in", csr, "-outform", "DER", "-out", der, check=True)
    body = tmp / "device.b64"
    body.write_bytes(base64.b64encode(der.read_bytes()))
    out = tmp / "resp.bin"
    t0 = time.monotonic()
    cp = run(["curl", "-sS", "--max-time", str(max_time), "--cacert",
              str(ra.ca_dir / "root.pem"), "--user", f"{USER}:{PASSWORD}",
              "-H", "Content-Type: application/pkcs10",
              "--data-binary", f"@{body}", "-o", str(out),
              "-w", "%{http_code}",
              f"https://localhost:{ra.tls_port}{EST}{path}"],
             timeout=max_time + 10)
    assert cp.returncode == 0, cp.stderr
    return int(cp.stdout), out.read_bytes(), time.monotonic() - t0


def clean_stop(srv):
    rc, out, err = srv.stop()
    assert "AddressSanitizer" not in err and "runtime error" not in err
    return err


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """The CA pkid, and an RA client certificate it issued."""
    tmp = tmp_path_factory.mktemp("up")
    d = tmp / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    cert, key = ra_client_cert(d, tmp, "ra1")
    with Pkid(d, "--quiet") as srv:
        srv.ra_cert, srv.ra_key = cert, key
        yield srv
        clean_stop(srv)


def up_url(port, host="localhost"):
    return f"https://{host}:{port}{EST}"


def failure(tmp, upstream_url, cacert, cert, key, want, status=502,
            timeout=None, max_s=15):
    """Start an RA toward upstream_url, enroll, check code and status."""
    d = make_ra(tmp, "ra-" + want, upstream_url, cacert, cert, key,
                timeout)
    with Pkid(d) as ra:
        st, body, took = device_enroll(ra, tmp)
        text = body.decode()
        assert st == status, text
        assert text.startswith(f"error: {want}: "), text
        assert "\nfix: " in text, text
        assert took < max_s, took
        # A second failure of the same cause is not logged again.
        st2, _, _ = device_enroll(ra, tmp)
        assert st2 == status
        err = clean_stop(ra)
    logged = [ln for ln in err.splitlines() if f": {want}: " in ln and
              "est upstream" in ln]
    assert len(logged) == 1, err
    assert upstream_url in logged[0] and "fix:" in logged[0]
    return text


def test_ra_enroll_through_upstream(upstream, tmp_path):
    d = make_ra(tmp_path, "ra", up_url(upstream.tls_port),
                upstream.ca_dir / "root.pem", upstream.ra_cert,
                upstream.ra_key)
    with Pkid(d, "--quiet") as ra:
        st, body, _ = device_enroll(ra, tmp_path)
        assert st == 200, body
        p7 = tmp_path / "r.p7"
        p7.write_bytes(base64.b64decode(body))
        pems = openssl("pkcs7", "-inform", "DER", "-in", p7,
                       "-print_certs", check=True).stdout
        leaf = tmp_path / "leaf.pem"
        leaf.write_text(re.search(r"-----BEGIN CERTIFICATE-----.*?-----END "
                                  r"CERTIFICATE-----\n", pems, re.S)[0])
        # Issued by the upstream CA, not by the RA's own.
        cp = openssl("verify", "-CAfile", upstream.ca_dir / "root.pem",
                     "-untrusted", upstream.ca_dir / "issuing.pem", leaf)
        assert ": OK" in cp.stdout, cp.stdout + cp.stderr
        cp = openssl("verify", "-CAfile", d / "root.pem", leaf)
        assert cp.returncode != 0
        # cacerts through the RA are the upstream's.
        st, _, body = ra.get(f"{EST}/cacerts")
        assert st == 200
        assert base64.b64decode(body) == base64.b64decode(
            upstream.get(f"{EST}/cacerts")[2])
        # The device still has to authenticate to the RA.
        cp = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                  "--cacert", str(d / "root.pem"), "-H",
                  "Content-Type: application/pkcs10", "--data-binary", "x",
                  f"https://localhost:{ra.tls_port}{EST}/simpleenroll"])
        assert cp.stdout == "401"
        clean_stop(ra)


def test_ra_upstream_untrusted(upstream, tmp_path):
    other = tmp_path / "other"
    pkictl("ca", "init", "--dir", other, "--subject", "CN=Other CA",
           check=True)
    text = failure(tmp_path, up_url(upstream.tls_port), other / "root.pem",
                   upstream.ra_cert, upstream.ra_key, "upstream-untrusted")
    # The missing issuer is named.
    assert "issuer /CN=pkid Demo CA Root CA" in text, text


def test_ra_upstream_name_mismatch(tmp_path):
    up2 = tmp_path / "up2"
    pkictl("ca", "init", "--dir", up2, check=True)
    cert, key = ra_client_cert(up2, tmp_path, "ra2")
    with Pkid(up2, "--listen", "127.0.0.2:0", "--quiet") as srv:
        text = failure(tmp_path, up_url(srv.tls_port, "127.0.0.2"),
                       up2 / "root.pem", cert, key,
                       "upstream-name-mismatch")
        clean_stop(srv)
    assert "127.0.0.2" in text and "127.0.0.1" in text


def test_ra_upstream_refused(upstream, tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    failure(tmp_path, up_url(port, "127.0.0.1"),
            upstream.ca_dir / "root.pem", upstream.ra_cert, upstream.ra_key,
            "upstream-refused")


def test_ra_upstream_timeout(upstream, tmp_path):
    """A listener that accepts and never answers: 504 within the
    upstream_timeout, the phase named."""
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(16)
    lsn.settimeout(0.2)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                held.append(lsn.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        text = failure(tmp_path, up_url(lsn.getsockname()[1], "127.0.0.1"),
                       upstream.ca_dir / "root.pem", upstream.ra_cert,
                       upstream.ra_key, "upstream-timeout", status=504,
                       timeout="2s", max_s=8)
        assert "TLS phase" in text
    finally:
        stop.set()
        t.join(5)
        for c in held:
            c.close()
        lsn.close()


def test_ra_upstream_auth_failed(upstream, tmp_path):
    # A client certificate from a CA the upstream does not trust.
    other = tmp_path / "other"
    pkictl("ca", "init", "--dir", other, check=True)
    cert, key = ra_client_cert(other, tmp_path, "rogue")
    failure(tmp_path, up_url(upstream.tls_port),
            upstream.ca_dir / "root.pem", cert, key, "upstream-auth-failed")


def test_ra_upstream_clock(tmp_path):
    """An upstream whose certificates start tomorrow (its clock runs a day
    ahead): the RA says upstream-clock."""
    ahead = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                          time.gmtime(time.time() + 86400 * 3))
    up3 = tmp_path / "up3"
    env = {"PKID_NOW": ahead}
    pkictl("ca", "init", "--dir", up3, check=True, env=env)
    # Only test-hook builds honour PKID_NOW; elsewhere the CA starts now.
    start = openssl("x509", "-in", up3 / "root.pem", "-noout",
                    "-startdate", check=True).stdout.split("=", 1)[1]
    if calendar.timegm(time.strptime(start.strip(),
                                     "%b %d %H:%M:%S %Y %Z")) < \
            time.time() + 86400:
        pytest.skip("PKID_NOW needs a PKID_TEST_HOOKS=ON build")
    cert, key = ra_client_cert(up3, tmp_path, "ra3")
    with Pkid(up3, "--quiet", env=env) as srv:
        text = failure(tmp_path, up_url(srv.tls_port), up3 / "root.pem",
                       cert, key, "upstream-clock")
        clean_stop(srv)
    assert "NTP" in text or "clock" in text
