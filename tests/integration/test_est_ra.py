"""Registration-authority mode: an RA pkid in front of a CA pkid on
loopback. A device enrolls with curl through the RA; each upstream failure
is produced for real and gets its own code, a 502/504 and no hang."""
import base64
import calendar
import json
import re
import socket
import threading
import time

import pytest

from conftest import binary, error_code, make_csr, openssl, pkictl, run
from server import Pkid

USER, PASSWORD = "dev", "dev-pw-long-enough"
EST = "/.well-known/est"


def ra_client_cert(ca_dir, tmp, name):
    """An RA client certificate issued by ca_dir (ra profile: clientAuth
    and id-kp-cmcRA, so it may ask for devices' names); returns (cert,
    key)."""
    csr = make_csr(tmp, name=name, subject=f"/CN={name}.ra.example",
                   san=f"DNS:{name}.ra.example")
    cert = tmp / f"{name}.pem"
    pkictl("ca", "issue", "--dir", ca_dir, "--csr", csr, "--profile",
           "ra", "--out", cert, check=True)
    return cert, tmp / f"{name}.key"


def make_ra(tmp, name, upstream, cacert, cert=None, key=None,
            timeout=None, subject=None, crl=None):
    """An RA CA dir whose [est] forwards to upstream, with a device user;
    crl: its upstream_crl (the upstream's certificates name none)."""
    d = tmp / name
    sets = ["--set", f"est.upstream={upstream}",
            "--set", f"est.upstream_cacert={cacert}"]
    if crl is not None:
        sets += ["--set", f"est.upstream_crl={crl}"]
    if subject is not None:
        sets += ["--subject", subject]
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
            timeout=None, max_s=15, path="/simpleenroll"):
    """Start an RA toward upstream_url, enroll, check code and status."""
    d = make_ra(tmp, "ra-" + want, upstream_url, cacert, cert, key,
                timeout)
    with Pkid(d) as ra:
        st, body, took = device_enroll(ra, tmp, path)
        text = body.decode()
        assert st == status, text
        assert text.startswith(f"error: {want}: "), text
        assert "\nfix: " in text, text
        assert took < max_s, took
        # A second failure of the same cause is not logged again.
        st2, _, _ = device_enroll(ra, tmp, path)
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


def test_ra_upstream_url_forms(upstream, tmp_path):
    """[est] upstream takes the server's URL with or without
    /.well-known/est and a trailing '/', and is kept normalised; a URL of
    another form is refused by ca init, pkid --check and pkid at start
    with config-bad-value saying what is wanted (issue 14)."""
    port = upstream.tls_port
    d = make_ra(tmp_path, "ra", f"https://localhost:{port}/",
                upstream.ca_dir / "root.pem", upstream.ra_cert,
                upstream.ra_key)
    conf = (d / "pkid.conf").read_text()
    assert f"upstream = https://localhost:{port}{EST}\n" in conf
    cp = run([binary("pkid"), "--check", "--dir", str(d)])
    assert cp.returncode in (0, 1), cp.stderr
    with Pkid(d, "--quiet") as ra:
        st, body, _ = device_enroll(ra, tmp_path)
        assert st == 200, body
        clean_stop(ra)
    want = "https://HOST[:PORT], optionally with /.well-known/est or " \
        "/.well-known/est/LABEL"
    for bad in (f"https://localhost:{port}/est",
                f"https://localhost:{port}{EST}/simpleenroll",
                f"https://localhost:{port}{EST}?label=x",
                f"http://localhost:{port}{EST}"):
        cp = pkictl("ca", "init", "--dir", tmp_path / "x", "--set",
                    f"est.upstream={bad}")
        assert cp.returncode == 2, cp.stderr
        assert error_code(cp) == "config-bad-value" and want in cp.stderr
        # Written by hand into pkid.conf: pkid --check and pkid refuse it.
        text = conf.replace(f"upstream = https://localhost:{port}{EST}\n",
                            f"upstream = {bad}\n")
        (d / "pkid.conf").write_text(text)
        for args in (["--check"], ["--listen", "127.0.0.1:0", "--http",
                                   "127.0.0.1:0"]):
            cp = run([binary("pkid"), "--dir", str(d), *args], timeout=30)
            assert cp.returncode == 2, (args, cp.stdout, cp.stderr)
            assert "config-bad-value" in cp.stderr and want in cp.stderr
            assert "pkid.conf:" in cp.stderr


def fingerprint(cert):
    cp = openssl("x509", "-in", cert, "-noout", "-fingerprint", "-sha256",
                 check=True)
    return cp.stdout.split("=")[1].strip().replace(":", "").lower()


def test_enroll_orphan_through_ra(upstream, tmp_path):
    """pkictl enroll est through an RA with --cacert the RA's root: the
    TLS handshake passes, the upstream issues, and the certificate does
    not verify to that --cacert. It is not lost: the serial is named, it
    is written as dev.unverified.pem with the CA certificates the server
    sent, the key made here as dev.unverified.key (0600), and the remedy
    names the upstream root and the trust file to pass (issue 14)."""
    d = make_ra(tmp_path, "ra", up_url(upstream.tls_port),
                upstream.ca_dir / "root.pem", upstream.ra_cert,
                upstream.ra_key)
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n")
    out = tmp_path / "dev.pem"
    with Pkid(d, "--quiet") as ra:
        cp = pkictl("enroll", "est", "--server",
                    f"https://localhost:{ra.tls_port}", "--user", USER,
                    "--password-file", pw, "--cacert", d / "root.pem",
                    "--san", "DNS:dev9.example.com", "--out", out,
                    timeout=60)
        clean_stop(ra)
    assert cp.returncode == 1, cp.stderr
    assert error_code(cp) in ("unknown-issuer", "path-incomplete",
                              "self-signed-untrusted"), cp.stderr
    assert not out.exists() and not (tmp_path / "dev.key").exists()
    cert = tmp_path / "dev.unverified.pem"
    key = tmp_path / "dev.unverified.key"
    assert cert.exists() and key.exists(), cp.stderr
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    # The serial named is the one the upstream CA has in its store.
    serial = openssl("x509", "-in", cert, "-noout", "-serial",
                     check=True).stdout.strip().split("=")[1].lower()
    while serial.startswith("00"):     # as pkictl prints serials
        serial = serial[2:]
    assert f"serial {serial}" in cp.stderr, cp.stderr
    listed = json.loads(pkictl("ca", "list", "--dir", upstream.ca_dir,
                               "--json", check=True).stdout)
    assert any(c["serial"].lstrip("0") == serial.lstrip("0") for c in listed)
    # Certificate and key belong together, and it is the upstream's.
    pub_c = openssl("x509", "-in", cert, "-noout", "-pubkey",
                    check=True).stdout
    pub_k = openssl("pkey", "-in", key, "-pubout", check=True).stdout
    assert pub_c == pub_k
    cp2 = openssl("verify", "-CAfile", upstream.ca_dir / "root.pem",
                  "-untrusted", cert, cert)
    assert cp2.returncode == 0, cp2.stdout + cp2.stderr
    # The remedy: the root it chains to, with its fingerprint, and the
    # --cacert bundle to pass, made from the file given.
    root_fp = fingerprint(upstream.ca_dir / "root.pem")
    assert f"SHA-256 {root_fp}" in cp.stderr, cp.stderr
    assert f"cat {d / 'root.pem'} ROOT.pem > trust.pem" in cp.stderr
    assert "--cacert trust.pem" in cp.stderr
    assert f"pkictl verify --trust ROOT.pem {cert}\n" in cp.stderr
    # Which the remedy's own check confirms, with the upstream root.
    cp3 = pkictl("verify", "--trust", upstream.ca_dir / "root.pem", cert)
    assert cp3.returncode == 0, cp3.stderr
    # A second failure does not overwrite the first orphan.
    with Pkid(d, "--quiet") as ra:
        cp = pkictl("enroll", "est", "--server",
                    f"https://localhost:{ra.tls_port}", "--user", USER,
                    "--password-file", pw, "--cacert", d / "root.pem",
                    "--san", "DNS:dev9.example.com", "--out", out,
                    timeout=60)
        clean_stop(ra)
    assert cp.returncode == 1
    assert (tmp_path / "dev.unverified-2.pem").exists(), cp.stderr
    assert (tmp_path / "dev.unverified-2.key").exists()
    assert cert.read_text() != (tmp_path / "dev.unverified-2.pem").read_text()


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


def test_ra_upstream_dns(upstream, tmp_path, monkeypatch):
    # RFC 6761: a name under .invalid never resolves. A resolver that does
    # not answer at all gives up after 1 s (glibc RES_OPTIONS), not 5 s x 2.
    monkeypatch.setenv("RES_OPTIONS", "timeout:1 attempts:1")
    text = failure(tmp_path, up_url(upstream.tls_port, "upstream.invalid"),
                   upstream.ca_dir / "root.pem", upstream.ra_cert,
                   upstream.ra_key, "upstream-dns")
    assert "upstream.invalid" in text, text


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


# serverkeygen and simplereenroll through the RA.

def curl_ra(ra, path, tmp, csr=None, basic=True, cert=None, key=None):
    """curl as the device: (status, headers with lower-case names, body)."""
    hdr, out = tmp / "h.txt", tmp / "b.bin"
    for f in (hdr, out):
        if f.exists():
            f.unlink()
    cmd = ["curl", "-sS", "--max-time", "30", "--cacert",
           str(ra.ca_dir / "root.pem"), "-D", str(hdr), "-o", str(out),
           "-w", "%{http_code}"]
    if basic:
        cmd += ["--user", f"{USER}:{PASSWORD}"]
    if cert is not None:
        cmd += ["--cert", str(cert), "--key", str(key)]
    if csr is not None:
        der = csr.with_suffix(".der")
        openssl("req", "-in", csr, "-outform", "DER", "-out", der,
                check=True)
        body = csr.with_suffix(".b64")
        body.write_bytes(base64.b64encode(der.read_bytes()))
        cmd += ["-H", "Content-Type: application/pkcs10", "--data-binary",
                f"@{body}"]
    cmd.append(f"https://localhost:{ra.tls_port}{EST}{path}")
    cp = run(cmd, timeout=60)
    assert cp.returncode == 0, cp.stderr
    headers = {}
    for line in hdr.read_bytes().decode().split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return int(cp.stdout), headers, out.read_bytes()


def leaf_of(p7_b64, tmp, name):
    """The first certificate of a base64 certs-only PKCS#7, as a file."""
    p7 = tmp / f"{name}.p7"
    p7.write_bytes(base64.b64decode(p7_b64))
    pems = openssl("pkcs7", "-inform", "DER", "-in", p7, "-print_certs",
                   check=True).stdout
    leaf = tmp / f"{name}.pem"
    leaf.write_text(re.search(r"-----BEGIN CERTIFICATE-----.*?-----END "
                              r"CERTIFICATE-----\n", pems, re.S)[0])
    return leaf


def from_upstream(upstream, leaf):
    """leaf verifies to the upstream CA (root + issuing)."""
    cp = openssl("verify", "-CAfile", upstream.ca_dir / "root.pem",
                 "-untrusted", upstream.ca_dir / "issuing.pem", leaf)
    return cp.returncode == 0 and ": OK" in cp.stdout


def names_of(pem):
    return openssl("x509", "-in", pem, "-noout", "-subject", "-ext",
                   "subjectAltName", "-nameopt", "RFC2253",
                   check=True).stdout


def upstream_count(upstream):
    return len(json.loads(pkictl("ca", "list", "--dir", upstream.ca_dir,
                                 "--json", check=True).stdout))


@pytest.fixture(scope="module")
def ra_dev(upstream, tmp_path_factory):
    """An RA (own CA 'RA Local CA') in front of the upstream, and a device
    certificate the upstream issued through it: (ra, leaf, key). The
    upstream's certificates name no CRL: the RA gets it from
    upstream_crl (test_ra_revocation.py tests revocation)."""
    tmp = tmp_path_factory.mktemp("ra_dev")
    d = make_ra(tmp, "ra", up_url(upstream.tls_port),
                upstream.ca_dir / "root.pem", upstream.ra_cert,
                upstream.ra_key, subject="CN=RA Local CA",
                crl=upstream.url("/crl/ca.crl", tls=False))
    with Pkid(d, "--quiet") as ra:
        st, body, _ = device_enroll(ra, tmp)
        assert st == 200, body
        leaf = leaf_of(body, tmp, "dev9")
        assert from_upstream(upstream, leaf)
        ra.tmp = tmp
        yield ra, leaf, tmp / "device.key"
        clean_stop(ra)


def test_ra_serverkeygen_through_upstream(upstream, ra_dev, tmp_path):
    """curl asks the RA for serverkeygen: the RA makes the key, the
    upstream issues for it over simpleenroll, the device gets PKCS#8 key
    and certs-only PKCS#7 in one multipart/mixed answer."""
    ra = ra_dev[0]
    before = upstream_count(upstream)
    csr = make_csr(tmp_path, name="skg", subject="/CN=skg.example.com",
                   san="DNS:skg.example.com")
    st, h, body = curl_ra(ra, "/serverkeygen", tmp_path, csr)
    assert st == 200, body
    m = re.match(r"multipart/mixed; boundary=(\S+)$", h["content-type"])
    assert m, h
    assert "content-transfer-encoding" not in h, h
    parts = body.split(b"--" + m.group(1).encode())
    assert parts[0] == b"" and parts[-1].strip() == b"--"
    got = {}
    for p in parts[1:-1]:
        head, _, data = p.partition(b"\r\n\r\n")
        ct = re.search(rb"Content-Type: ([^\r]+)", head).group(1).decode()
        assert b"Content-Transfer-Encoding: base64" in head
        got[ct] = data.strip()
    assert set(got) == {"application/pkcs8",
                        "application/pkcs7-mime; smime-type=certs-only"}
    keyder = tmp_path / "skg.p8"
    keyder.write_bytes(base64.b64decode(got["application/pkcs8"]))
    cp = openssl("pkey", "-inform", "DER", "-in", keyder, "-noout",
                 "-text", check=True)
    # The label's profile (device) wants EC P-256 first.
    assert "prime256v1" in cp.stdout or "P-256" in cp.stdout, cp.stdout
    pub_key = openssl("pkey", "-inform", "DER", "-in", keyder, "-pubout",
                      check=True).stdout
    leaf = leaf_of(got["application/pkcs7-mime; smime-type=certs-only"],
                   tmp_path, "skg")
    pub_cert = openssl("x509", "-in", leaf, "-noout", "-pubkey",
                       check=True).stdout
    assert pub_key == pub_cert
    # Issued by the upstream for the device's names, not by the RA.
    assert from_upstream(upstream, leaf)
    assert "CN=skg.example.com" in names_of(leaf)
    assert "DNS:skg.example.com" in names_of(leaf)
    cp = openssl("verify", "-CAfile", ra.ca_dir / "root.pem", leaf)
    assert cp.returncode != 0
    assert upstream_count(upstream) == before + 1
    # The key stays out of the RA's and the upstream's files.
    raw = keyder.read_bytes()
    for d in (ra.ca_dir, upstream.ca_dir):
        for f in d.rglob("*"):
            if f.is_file():
                data = f.read_bytes()
                assert raw not in data and got["application/pkcs8"] not \
                    in data, f


def test_ra_serverkeygen_needs_auth(ra_dev, tmp_path):
    ra = ra_dev[0]
    csr = make_csr(tmp_path, name="na", subject="/CN=na.example.com",
                   san="DNS:na.example.com")
    st, _, body = curl_ra(ra, "/serverkeygen", tmp_path, csr, basic=False)
    assert st == 401, body


def test_ra_serverkeygen_upstream_policy_relayed(upstream, ra_dev,
                                                 tmp_path):
    """The upstream's refusal of the request (its policy: a SAN the
    profile does not allow) reaches the device as the upstream said it."""
    ra = ra_dev[0]
    csr = make_csr(tmp_path, name="bad", subject="/CN=bad.example.com",
                   san="email:x@bad.example.com")
    before = upstream_count(upstream)
    st, h, body = curl_ra(ra, "/serverkeygen", tmp_path, csr)
    direct = make_csr(tmp_path, name="bad2", subject="/CN=bad.example.com",
                      san="email:x@bad.example.com")
    want, _, wbody = curl_ra(upstream, "/simpleenroll", tmp_path, direct,
                             basic=False, cert=upstream.ra_cert,
                             key=upstream.ra_key)
    assert want // 100 == 4, wbody
    assert st == want, body
    assert body.split(b":")[:2] == wbody.split(b":")[:2], (body, wbody)
    assert upstream_count(upstream) == before


def test_ra_serverkeygen_upstream_refused(upstream, tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    failure(tmp_path, up_url(port, "127.0.0.1"),
            upstream.ca_dir / "root.pem", upstream.ra_cert, upstream.ra_key,
            "upstream-refused", path="/serverkeygen")


def test_ra_reenroll_with_upstream_cert(upstream, ra_dev, tmp_path):
    """The device re-enrolls through the RA with the certificate the
    upstream issued (curl, then pkictl renew est): no client_ca set."""
    ra, leaf, key = ra_dev
    # The handshake asks for certificates under the upstream's root too.
    cp = run(["openssl", "s_client", "-connect",
              f"127.0.0.1:{ra.tls_port}", "-showcerts"], input="")
    names = cp.stdout.split("Acceptable client certificate CA names", 1)
    assert len(names) == 2, cp.stdout
    assert "CN = RA Local CA" in names[1], names[1]
    assert "CN = pkid Demo CA Root CA" in names[1], names[1]
    before = upstream_count(upstream)
    csr = make_csr(tmp_path, name="re", subject="/CN=dev9.example.com",
                   san="DNS:dev9.example.com")
    st, _, body = curl_ra(ra, "/simplereenroll", tmp_path, csr, basic=False,
                          cert=leaf, key=key)
    assert st == 200, body
    new = leaf_of(body, tmp_path, "re")
    assert from_upstream(upstream, new)
    assert names_of(new) == names_of(leaf)
    assert openssl("x509", "-in", new, "-noout", "-pubkey").stdout == \
        openssl("pkey", "-in", tmp_path / "re.key", "-pubout").stdout
    assert upstream_count(upstream) == before + 1
    # pkictl as the device, with the certificate it just got.
    trust = tmp_path / "trust.pem"
    trust.write_text((ra.ca_dir / "root.pem").read_text() +
                     (upstream.ca_dir / "root.pem").read_text())
    out = tmp_path / "renewed.pem"
    cp = pkictl("renew", "est", "--server",
                f"https://localhost:{ra.tls_port}", "--cert", new,
                "--key", tmp_path / "re.key", "--cacert", trust,
                "--new-key", "ec-p256", "--out", out, "--key-out",
                tmp_path / "renewed.key")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert from_upstream(upstream, out)
    assert names_of(out) == names_of(leaf)
    assert upstream_count(upstream) == before + 2


def test_ra_reenroll_refused(upstream, ra_dev, tmp_path):
    ra, leaf, key = ra_dev
    before = upstream_count(upstream)
    # A different subject: RFC 7030 4.2.2, 403, nothing goes upstream.
    csr = make_csr(tmp_path, name="x", subject="/CN=evil.example.com",
                   san="DNS:dev9.example.com")
    st, _, body = curl_ra(ra, "/simplereenroll", tmp_path, csr, basic=False,
                          cert=leaf, key=key)
    assert st == 403 and body.startswith(b"error: identity-mismatch: "), \
        body
    # A different SAN.
    csr = make_csr(tmp_path, name="y", subject="/CN=dev9.example.com",
                   san="DNS:evil.example.com")
    st, _, body = curl_ra(ra, "/simplereenroll", tmp_path, csr, basic=False,
                          cert=leaf, key=key)
    assert st == 403 and body.startswith(b"error: identity-mismatch: "), \
        body
    # A certificate neither CA issued (self-signed, same names).
    fkey, fcert = tmp_path / "f.key", tmp_path / "f.pem"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", fkey, "-out",
            fcert, "-subj", "/CN=dev9.example.com", "-addext",
            "subjectAltName=DNS:dev9.example.com", "-days", "2",
            check=True)
    csr = make_csr(tmp_path, name="z", subject="/CN=dev9.example.com",
                   san="DNS:dev9.example.com")
    st, _, body = curl_ra(ra, "/simplereenroll", tmp_path, csr, basic=False,
                          cert=fcert, key=fkey)
    assert st == 403, body
    assert b"does not verify to upstream" in body, body
    # No client certificate.
    st, _, body = curl_ra(ra, "/simplereenroll", tmp_path, csr)
    assert st == 401, body
    assert upstream_count(upstream) == before


def test_ra_reenroll_own_cert(upstream, ra_dev, tmp_path):
    """A certificate of the RA's own CA still re-enrolls (checked here
    first); the upstream issues the new one."""
    ra = ra_dev[0]
    csr = make_csr(tmp_path, name="own", subject="/CN=own.example.com",
                   san="DNS:own.example.com")
    own = tmp_path / "own.pem"
    pkictl("ca", "issue", "--dir", ra.ca_dir, "--csr", csr, "--out", own,
           check=True)
    csr = make_csr(tmp_path, name="own2", subject="/CN=own.example.com",
                   san="DNS:own.example.com")
    st, _, body = curl_ra(ra, "/simplereenroll", tmp_path, csr, basic=False,
                          cert=own, key=tmp_path / "own.key")
    assert st == 200, body
    assert from_upstream(upstream, leaf_of(body, tmp_path, "own2"))


def test_ra_serverkeygen_upstream_pending(tmp_path):
    """An upstream that holds requests for approval (202): the RA keeps
    no generated key waiting, so serverkeygen says 501, not 202."""
    up = tmp_path / "upm"
    pkictl("ca", "init", "--dir", up, "--set",
           "profile.device.approval=manual", check=True)
    cert, key = ra_client_cert(up, tmp_path, "ram")
    with Pkid(up, "--quiet") as srv:
        d = make_ra(tmp_path, "ra", up_url(srv.tls_port), up / "root.pem",
                    cert, key)
        with Pkid(d, "--quiet") as ra:
            csr = make_csr(tmp_path, name="p", subject="/CN=p.example.com",
                           san="DNS:p.example.com")
            st, h, body = curl_ra(ra, "/serverkeygen", tmp_path, csr)
            assert st == 501, body
            assert body.startswith(b"error: not-implemented: "), body
            assert b"202" in body and b"simpleenroll" in body, body
            assert "retry-after" not in h, h
            # simpleenroll through the same RA waits as the upstream says.
            st, h, body = curl_ra(ra, "/simpleenroll", tmp_path, csr)
            assert st == 202 and int(h["retry-after"]) > 0, body
            clean_stop(ra)
        clean_stop(srv)
