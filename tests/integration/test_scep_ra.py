"""SCEP in registration-authority mode: an RA pkid takes SCEP from devices
(strongSwan's pki, certmonger's scep-submit), authorises them itself and
obtains the certificate from an upstream CA pkid over EST, on loopback."""
import json
import socket
import subprocess
import time

import pytest

from conftest import openssl, pkictl, run
from server import Pkid
from test_est_ra import clean_stop, ra_client_cert, up_url
from test_scep import HERE, StrongSwan, need_cm, need_pki, serial_of


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """The CA pkid, and an RA client certificate it issued."""
    tmp = tmp_path_factory.mktemp("up")
    d = tmp / "ca"
    pkictl("ca", "init", "--dir", d, "--subject", "CN=Upstream CA",
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


def verify_upstream(up_dir, crt):
    cp = openssl("verify", "-CAfile", up_dir / "root.pem", "-untrusted",
                 up_dir / "issuing.pem", crt)
    assert cp.returncode == 0 and ": OK" in cp.stdout, cp.stdout + cp.stderr


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


@need_pki
def test_scep_ra_upstream_refused(upstream, tmp_path):
    """A closed upstream port: CertRep FAILURE badRequest, pkid logs
    upstream-refused, and a retransmission gets the same FAILURE."""
    port = closed_port()
    d = make_scep_ra(tmp_path, "ra", up_url(port, "127.0.0.1"), upstream)
    with Pkid(d) as ra:
        ss = StrongSwan(ra.url("/scep", tls=False), tmp_path / "ss")
        ss.getca()
        key = ss.key("dev")
        t0 = time.monotonic()
        cp, _ = ss.enroll(key, "CN=ra-dev.example.test", "s3cret")
        assert cp.returncode != 0 and "badRequest" in cp.stderr, cp.stderr
        assert time.monotonic() - t0 < 30
        cp, _ = ss.enroll(key, "CN=ra-dev.example.test", "s3cret")
        assert cp.returncode != 0 and "badRequest" in cp.stderr, cp.stderr
        err = clean_stop(ra)
    assert "code=upstream-refused" in err, err
    assert "status=FAILURE" in err
    # The second answer comes from the transaction record: failed.
    assert "is failed" in err, err


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
