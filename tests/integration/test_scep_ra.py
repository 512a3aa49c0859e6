"""SCEP in registration-authority mode: an RA pkid takes SCEP from devices
(strongSwan's pki, certmonger's scep-submit), authorises them itself and
obtains the certificate from an upstream CA pkid over EST, on loopback."""
import json
import socket
import subprocess
import time

import pytest

from conftest import error_code, make_csr, openssl, pkictl, run
from server import Pkid
from test_est_ra import clean_stop, ra_client_cert, up_url
from test_scep import HERE, StrongSwan, need_cm, need_pki, serial_of


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """The CA pkid, and an RA client certificate it issued."""
    tmp = tmp_path_factory.mktemp("up")
    d = tmp / "ca"
    # scepra: for SCEP RA certificates (decrypt and sign, no EKU).
    pkictl("ca", "init", "--dir", d, "--subject", "CN=Upstream CA",
           "--set", "profile.scepra.ext_key_usage=",
           "--set", "profile.scepra.key_usage=digitalSignature, "
           "keyEncipherment", "--set", "profile.scepra.key_types=rsa",
           check=True)
    cert, key = ra_client_cert(d, tmp, "scepra")
    with Pkid(d, "--quiet") as srv:
        srv.ra_cert, srv.ra_key = cert, key
        yield srv
        clean_stop(srv)


def make_scep_ra(tmp, name, upstream_url, up, *sets):
    """An RA CA dir: SCEP with a static challenge, [est] upstream."""
    d = tmp / name
    args = ["ca", "init", "--dir", d, "--subject", "CN=RA Local CA",
            "--set", "scep.challenge=s3cret",
            "--set", f"est.upstream={upstream_url}",
            "--set", f"est.upstream_cacert={up.ca_dir / 'root.pem'}",
            "--set", f"est.upstream_cert={up.ra_cert}",
            "--set", f"est.upstream_key={up.ra_key}"]
    for s in sets:
        args += ["--set", s]
    pkictl(*args, check=True)
    return d


def upstream_scep_ra(up_dir, d, tmp):
    """Replace the RA's SCEP RA certificate (made by ca init, issued by
    the RA's own CA) with one the upstream issued for the same key, as an
    operator does so that clients can verify CertReps against the
    upstream's CA certificates from GetCACert."""
    csr = tmp / "scep-ra.csr"
    openssl("req", "-new", "-key", d / "scep/ra.key", "-subj",
            "/CN=RA SCEP RA", "-out", csr, check=True)
    pkictl("ca", "issue", "--dir", up_dir, "--csr", csr, "--profile",
           "scepra", "--out", d / "scep/ra.pem", check=True)


def verify_upstream(up_dir, crt):
    cp = openssl("verify", "-CAfile", up_dir / "root.pem", "-untrusted",
                 up_dir / "issuing.pem", crt)
    assert cp.returncode == 0 and ": OK" in cp.stdout, cp.stdout + cp.stderr


def fingerprint(pem):
    """SHA-256 fingerprint of a certificate, as openssl prints it."""
    return openssl("x509", "-noout", "-fingerprint", "-sha256",
                   input=pem, check=True).stdout.strip()


def p7_fingerprints(tmp, der):
    """Fingerprints of the certificates of a certs-only PKCS#7 (DER),
    read with openssl pkcs7 -print_certs."""
    f = tmp / "getcacert.p7"
    f.write_bytes(der)
    out = openssl("pkcs7", "-inform", "DER", "-in", f, "-print_certs",
                  check=True).stdout
    end = "-----END CERTIFICATE-----"
    return [fingerprint(b + end + "\n") for b in out.split(end)
            if "-----BEGIN CERTIFICATE-----" in b]


def file_fp(path):
    return fingerprint(path.read_text())


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@need_pki
def test_scep_ra_strongswan_enrolls_from_upstream(upstream, tmp_path):
    d = make_scep_ra(tmp_path, "ra", up_url(upstream.tls_port), upstream)
    with Pkid(d) as ra:
        ss = StrongSwan(ra.url("/scep", tls=False), tmp_path / "ss")
        ss.getca()
        key = ss.key("dev")
        cp, crt = ss.enroll(key, "CN=ra-dev.example.test", "s3cret")
        assert cp.returncode == 0, cp.stderr
        # Issued by the upstream CA, not by the RA's own.
        verify_upstream(upstream.ca_dir, crt)
        cp2 = openssl("verify", "-CAfile", d / "root.pem", crt)
        assert cp2.returncode != 0
        first = serial_of(crt)
        # A retransmission gets the same certificate, from the local
        # transaction record (no second upstream issuance).
        cp, crt = ss.enroll(key, "CN=ra-dev.example.test", "s3cret")
        assert cp.returncode == 0, cp.stderr
        assert serial_of(crt) == first
        # Authorisation stays here: a wrong challenge never goes upstream.
        cp, _ = ss.enroll(ss.key("bad"), "CN=bad.example.test", "nope")
        assert cp.returncode != 0 and "badRequest" in cp.stderr
        err = clean_stop(ra)
    assert "registration authority" in err
    assert "scep op=PKCSReq" in err and "status=SUCCESS" in err
    assert "code=challenge-bad" in err


@need_cm
def test_scep_ra_certmonger_enrolls(upstream, tmp_path):
    """certmonger (its daemon drives scep-submit: GetCACaps, GetCACert,
    PKCSReq by GET) through the RA; the certificate is the upstream's."""
    d = make_scep_ra(tmp_path, "ra", up_url(upstream.tls_port), upstream)
    # certmonger checks the CertRep signer against GetCACert's CAs: the
    # upstream's, so the RA certificate must be the upstream's too.
    upstream_scep_ra(upstream.ca_dir, d, tmp_path)
    verify_upstream(upstream.ca_dir, d / "scep/ra.pem")
    with Pkid(d) as ra:
        out = tmp_path / "cm"
        cp = run([HERE / "certmonger-scep.sh", ra.url("/scep", tls=False),
                  "s3cret", out], timeout=150)
        log = (out / "cm.log").read_text() if (out / "cm.log").exists() \
            else ""
        assert cp.returncode == 0, log[-3000:]
        verify_upstream(upstream.ca_dir, out / "dev.crt")
        err = clean_stop(ra)
    assert "scep op=PKCSReq" in err and "status=SUCCESS" in err
    assert "does not chain to the CA certificates of upstream" not in err


@need_cm
def test_scep_ra_cert_from_upstream_certmonger(upstream, tmp_path):
    """pkictl scep ra-cert replaces the RA certificate ca init made with
    one the upstream issued (over EST, the RA's upstream credentials, the
    upstream's default profile), for a new RSA-2048 key: certmonger then
    enrolls through the RA with no certificate copied by hand."""
    d = make_scep_ra(tmp_path, "ra", up_url(upstream.tls_port), upstream)
    old_key = (d / "scep/ra.key").read_bytes()
    cp = pkictl("scep", "ra-cert", "--dir", d)
    assert cp.returncode == 0, cp.stderr
    assert "SCEP RA certificate" in cp.stdout
    ra = d / "scep/ra.pem"
    verify_upstream(upstream.ca_dir, ra)
    assert (d / "scep/ra.key").read_bytes() != old_key
    assert oct((d / "scep/ra.key").stat().st_mode & 0o777) == "0o600"
    txt = openssl("x509", "-in", ra, "-noout", "-text", check=True).stdout
    assert "Digital Signature, Key Encipherment" in txt
    assert "Public-Key: (2048 bit)" in txt and "rsaEncryption" in txt
    assert "RA Local CA Issuing CA SCEP RA" in txt
    with Pkid(d) as srv:
        out = tmp_path / "cm"
        cp = run([HERE / "certmonger-scep.sh", srv.url("/scep", tls=False),
                  "s3cret", out], timeout=150)
        log = (out / "cm.log").read_text() if (out / "cm.log").exists() \
            else ""
        assert cp.returncode == 0, log[-3000:]
        verify_upstream(upstream.ca_dir, out / "dev.crt")
        err = clean_stop(srv)
    assert "scep op=PKCSReq" in err and "status=SUCCESS" in err
    assert "does not chain to the CA certificates of upstream" not in err


def test_scep_ra_cert_needs_upstream(tmp_path):
    """Without an upstream there is nothing to enroll at: a usage-level
    configuration error, and the RA files stay as they were."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    before = (d / "scep/ra.pem").read_bytes()
    cp = pkictl("scep", "ra-cert", "--dir", d)
    assert cp.returncode != 0
    assert error_code(cp) == "config-bad-value", cp.stderr
    assert (d / "scep/ra.pem").read_bytes() == before


@need_pki
def test_scep_ra_upstream_refused(upstream, tmp_path):
    """A closed upstream port: CertRep FAILURE badRequest, pkid logs
    upstream-refused, and a retransmission gets the same FAILURE."""
    port = closed_port()
    d = make_scep_ra(tmp_path, "ra", up_url(port, "127.0.0.1"), upstream)
    with Pkid(d) as ra:
        ss = StrongSwan(ra.url("/scep", tls=False), tmp_path / "ss")
        # GetCACert needs the upstream's CAs: 503, Retry-After.
        for _ in range(2):
            st, hdr, body = ra.get("/scep?operation=GetCACert", tls=False)
            assert st == 503, body
            assert int(hdr.get("Retry-After", "0")) > 0, hdr
            assert body.startswith(b"error: upstream-refused: "), body
        # The device already has the RA certificate.
        openssl("x509", "-in", d / "scep/ra.pem", "-outform", "DER",
                "-out", ss.work / "ra.der", check=True)
        key = ss.key("dev")
        t0 = time.monotonic()
        cp, _ = ss.enroll(key, "CN=ra-dev.example.test", "s3cret")
        assert cp.returncode != 0 and "badRequest" in cp.stderr, cp.stderr
        assert time.monotonic() - t0 < 30
        cp, _ = ss.enroll(key, "CN=ra-dev.example.test", "s3cret")
        assert cp.returncode != 0 and "badRequest" in cp.stderr, cp.stderr
        err = clean_stop(ra)
    assert "code=upstream-refused" in err, err
    # The unreachable upstream is logged once, not per request.
    assert err.count("upstream-refused: ") == 1, err
    assert "status=FAILURE" in err
    # The second answer comes from the transaction record: failed.
    assert "is failed" in err, err


@need_pki
def test_scep_ra_corrected_after_upstream_refusal(tmp_path):
    """The upstream refuses a SAN its profile does not allow: FAILURE,
    and a retransmission gets it again from the failed transaction. The
    corrected request from the same key (so, for strongSwan, the same
    transactionID) is issued; the failed row stays, renamed."""
    up_dir = tmp_path / "up"
    pkictl("ca", "init", "--dir", up_dir, "--subject", "CN=Upstream CA",
           "--set", "profile.device.san_dns_suffixes=.example.test, "
           ".ra.example", check=True)
    cert, key = ra_client_cert(up_dir, tmp_path, "scepra")
    with Pkid(up_dir) as up:
        up.ra_cert, up.ra_key = cert, key
        d = make_scep_ra(tmp_path, "ra", up_url(up.tls_port), up)
        with Pkid(d) as ra:
            ss = StrongSwan(ra.url("/scep", tls=False), tmp_path / "ss")
            ss.getca()
            dev = ss.key("dev")
            dn = "CN=fix.example.test"
            for _ in range(2):
                cp, _ = ss.enroll(dev, dn, "s3cret", "--san",
                                  "fix.example.org")
                assert cp.returncode != 0 and "badRequest" in cp.stderr, \
                    cp.stderr
            cp, crt = ss.enroll(dev, dn, "s3cret", "--san",
                                "fix.example.test")
            assert cp.returncode == 0, cp.stderr
            verify_upstream(up_dir, crt)
            first = serial_of(crt)
            # Its retransmission: the same certificate.
            cp, crt = ss.enroll(dev, dn, "s3cret", "--san",
                                "fix.example.test")
            assert cp.returncode == 0, cp.stderr
            assert serial_of(crt) == first
            err = clean_stop(ra)
        clean_stop(up)
    assert "is failed" in err, err
    assert "scep-transaction-conflict" not in err, err
    rows = run(["sqlite3", str(d / "pkid.db"), "SELECT state, "
                "transaction_id FROM request WHERE kind = 'scep' ORDER BY "
                "id"]).stdout.split()
    assert len(rows) == 2, rows
    failed, issued = (r.split("|") for r in rows)
    assert failed[0] == "failed" and issued[0] == "issued", rows
    assert failed[1].startswith(issued[1] + "#"), rows


@need_pki
def test_scep_ra_upstream_pending_then_poll(tmp_path):
    """The upstream's profile needs approval: the RA answers PENDING;
    strongSwan polls (CertPoll), the RA asks the upstream again, and once
    the upstream's operator approved, the certificate arrives."""
    up_dir = tmp_path / "up"
    pkictl("ca", "init", "--dir", up_dir, "--subject", "CN=Upstream CA",
           "--set", "profile.device.approval=manual", check=True)
    cert, key = ra_client_cert(up_dir, tmp_path, "scepra")
    with Pkid(up_dir) as up:
        up.ra_cert, up.ra_key = cert, key
        d = make_scep_ra(tmp_path, "ra", up_url(up.tls_port), up)
        with Pkid(d) as ra:
            url = ra.url("/scep", tls=False)
            ss = StrongSwan(url, tmp_path / "ss")
            ss.getca()
            dev = ss.key("dev")
            cacerts = []
            for f in sorted(ss.work.glob("ca*.der")):
                cacerts += ["--cacert", str(f)]
            proc = subprocess.Popen(
                ["pki", "--scep", "--url", url, "--in", str(dev), "--dn",
                 "CN=pend.example.test", "--password", "s3cret",
                 "--cacert-enc", str(ss.work / "ra.der"), "--cacert-sig",
                 str(ss.work / "ra.der"), *cacerts, "--outform", "pem",
                 "--interval", "1", "--maxpolltime", "60"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                req = []
                for _ in range(40):
                    cp = pkictl("ca", "pending", "--dir", up_dir, "--json",
                                check=True)
                    req = json.loads(cp.stdout)
                    if req:
                        break
                    time.sleep(0.25)
                assert len(req) == 1
                pkictl("ca", "approve", "--dir", up_dir, req[0]["id"],
                       check=True)
                out, perr = proc.communicate(timeout=60)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
            if proc.returncode != 0:
                assert False, perr + clean_stop(ra)
            crt = tmp_path / "pend.crt"
            crt.write_text(out)
            verify_upstream(up_dir, crt)
            err = clean_stop(ra)
        clean_stop(up)
    assert "status=PENDING" in err
    assert "op=CertPoll" in err and "status=SUCCESS" in err


def test_scep_ra_getcacert_is_upstream_chain(upstream, tmp_path):
    """GetCACert through the RA: the upstream's issuing CA and root and
    this RA's certificate (clients encrypt to it), never the RA pkid's
    own CA."""
    d = make_scep_ra(tmp_path, "ra", up_url(upstream.tls_port), upstream)
    with Pkid(d) as ra:
        st, hdr, body = ra.get("/scep?operation=GetCACert", tls=False)
        assert st == 200, body
        assert hdr["Content-Type"] == "application/x-x509-ca-ra-cert"
        fps = p7_fingerprints(tmp_path, body)
        # Again, from the cache: the same answer.
        st, _, body2 = ra.get("/scep?operation=GetCACert", tls=False)
        assert st == 200 and body2 == body
        err = clean_stop(ra)
    up = upstream.ca_dir
    want = [file_fp(up / "issuing.pem"), file_fp(d / "scep/ra.pem"),
            file_fp(up / "root.pem")]
    assert fps == want, fps
    assert file_fp(d / "root.pem") not in fps
    assert file_fp(d / "issuing.pem") not in fps
    # One fetch for both requests.
    assert err.count("CA certificate(s) from upstream") == 1, err
    # The RA certificate ca init made is the RA's own CA's: told once.
    assert err.count("does not chain to the CA certificates of "
                     "upstream") == 1, err


@need_pki
def test_scep_ra_strongswan_renewal(upstream, tmp_path):
    """RenewalReq through the RA, signed with a certificate the upstream
    issued (not in the RA's table): accepted because it chains to the
    upstream's CAs, the new certificate comes from the upstream. A
    self-made signer, one of the RA's own CA and another subject are
    refused."""
    # The upstream's certificates name no CRL: upstream_crl says where
    # (test_ra_revocation.py tests revocation).
    d = make_scep_ra(tmp_path, "ra", up_url(upstream.tls_port), upstream,
                     "est.upstream_crl=" +
                     upstream.url("/crl/ca.crl", tls=False))
    with Pkid(d) as ra:
        ss = StrongSwan(ra.url("/scep", tls=False), tmp_path / "ss")
        ss.getca()
        old = ss.key("old")
        dn = "CN=ren.ra.example.test"
        cp, old_crt = ss.enroll(old, dn, "s3cret")
        assert cp.returncode == 0, cp.stderr
        cp, new_crt = ss.enroll(ss.key("new"), dn, "", "--cert", old_crt,
                                "--key", old)
        assert cp.returncode == 0, cp.stderr
        verify_upstream(upstream.ca_dir, new_crt)
        assert serial_of(new_crt) != serial_of(old_crt)
        # Self-made: does not chain to the upstream.
        fake = tmp_path / "fake.pem"
        openssl("req", "-x509", "-key", old, "-subj", "/" + dn, "-days",
                "2", "-out", fake, check=True)
        cp, _ = ss.enroll(ss.key("n2"), dn, "", "--cert", fake, "--key",
                          old)
        assert cp.returncode != 0 and "badRequest" in cp.stderr
        # Issued by the RA pkid's own CA: not the upstream's either.
        csr = make_csr(tmp_path, name="loc", key="rsa:2048",
                       subject="/CN=loc.ra.example.test", san=None)
        loc = tmp_path / "loc.pem"
        pkictl("ca", "issue", "--dir", d, "--csr", csr, "--profile",
               "device", "--out", loc, check=True)
        cp, _ = ss.enroll(ss.key("n3"), "CN=loc.ra.example.test", "",
                          "--cert", loc, "--key", tmp_path / "loc.key")
        assert cp.returncode != 0 and "badRequest" in cp.stderr
        # The upstream's certificate, but another subject.
        cp, _ = ss.enroll(ss.key("n4"), "CN=other.ra.example.test", "",
                          "--cert", new_crt, "--key", ss.work / "new.key")
        assert cp.returncode != 0 and "badRequest" in cp.stderr
        err = clean_stop(ra)
    assert "op=RenewalReq" in err and "status=SUCCESS" in err
    assert err.count("code=scep-renewal-signer") == 2, err
    assert "does not verify against" in err
    # Another subject: a renewal keeps its identity (issue 9 item 2).
    assert "code=identity-mismatch" in err and "asks for subject" in err
