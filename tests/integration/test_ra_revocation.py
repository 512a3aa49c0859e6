"""Registration-authority mode checks the revocation of a device's
certificate from the upstream before it forwards a renewal (EST
simplereenroll, SCEP RenewalReq): the upstream pkid names its CRL in the
certificates it issues ([ca] crl_url), the RA fetches it once, keeps it
until its nextUpdate, and refuses what it revokes (revoked) or what it
cannot look up (revocation-unknown); upstream_revocation = off forwards
with a warning. Real processes on loopback: curl, pkictl, strongSwan."""
import base64
import calendar
import re
import socket
import time

import pytest

from conftest import error_code, make_csr, openssl, pkictl, run
from server import Pkid
from test_est_ra import EST, clean_stop, curl_ra, leaf_of, ra_client_cert
from test_scep import StrongSwan, need_pki


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_upstream(tmp, name, *sets, quiet=True, env=None):
    """An upstream CA whose leaf certificates name its own CRL URL (its
    plain listener on a port chosen here) and an RA client certificate
    it issued; returns the Pkid (not entered)."""
    d = tmp / name
    port = free_port()
    crl = f"http://127.0.0.1:{port}/crl/ca.crl"
    args = ["ca", "init", "--dir", d, "--subject", "CN=Upstream CA",
            "--set", f"ca.crl_url={crl}"]
    for s in sets:
        args += ["--set", s]
    pkictl(*args, check=True, env=env)
    cert, key = ra_client_cert(d, tmp, "ra-" + name)
    extra = ["--quiet"] if quiet else []
    srv = Pkid(d, *extra, "--http", f"127.0.0.1:{port}", env=env)
    srv.ra_cert, srv.ra_key, srv.crl = cert, key, crl
    return srv


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("up")
    with start_upstream(tmp, "up") as srv:
        yield srv
        clean_stop(srv)


@pytest.fixture(scope="module")
def up_nocdp(tmp_path_factory):
    """An upstream whose certificates name no CRL (no crl_url)."""
    tmp = tmp_path_factory.mktemp("upn")
    d = tmp / "ca"
    pkictl("ca", "init", "--dir", d, "--subject", "CN=Upstream CA",
           check=True)
    cert, key = ra_client_cert(d, tmp, "ra")
    with Pkid(d, "--quiet") as srv:
        srv.ra_cert, srv.ra_key = cert, key
        yield srv
        clean_stop(srv)


def make_ra(tmp, name, up, *sets, env=None, scep=False):
    """An RA (EST [est] and SCEP with a static challenge) in front of
    up; scep: with an RA certificate the upstream issued (pkictl scep
    ra-cert), which pkictl's SCEP client wants."""
    d = tmp / name
    args = ["ca", "init", "--dir", d, "--subject", "CN=RA Local CA",
            "--set", "scep.challenge=s3cret",
            "--set", f"est.upstream=https://localhost:{up.tls_port}{EST}",
            "--set", f"est.upstream_cacert={up.ca_dir / 'root.pem'}",
            "--set", f"est.upstream_cert={up.ra_cert}",
            "--set", f"est.upstream_key={up.ra_key}"]
    for s in sets:
        args += ["--set", s]
    pkictl(*args, check=True, env=env)
    if scep:
        pkictl("scep", "ra-cert", "--dir", d, check=True, env=env)
    return d


def device(up, tmp, name, rsa=False, env=None):
    """A device certificate up issued: (cert, key, serial hex)."""
    csr = make_csr(tmp, name=name, key="rsa:2048" if rsa else "ec:P-256",
                   subject=f"/CN={name}.example.test",
                   san=f"DNS:{name}.example.test")
    cert = tmp / f"{name}.pem"
    cp = pkictl("ca", "issue", "--dir", up.ca_dir, "--csr", csr, "--out",
                cert, check=True, env=env)
    serial = re.search(r"issued serial ([0-9a-f]+)",
                       cp.stdout + cp.stderr).group(1)
    return cert, tmp / f"{name}.key", serial


def revoke(up, serial, env=None):
    pkictl("ca", "revoke", "--dir", up.ca_dir, serial, "--reason",
           "superseded", check=True, env=env)


def reenroll(ra, tmp, cert, key, name):
    """curl simplereenroll through the RA with cert: (status, headers,
    body)."""
    csr = make_csr(tmp, name=f"{name}-new", subject=f"/CN={name}.example.test",
                   san=f"DNS:{name}.example.test")
    return curl_ra(ra, "/simplereenroll", tmp, csr, basic=False, cert=cert,
                   key=key)


def from_up(up, pem):
    cp = openssl("verify", "-CAfile", up.ca_dir / "root.pem", "-untrusted",
                 up.ca_dir / "issuing.pem", pem)
    return cp.returncode == 0


def scep_renew(ra, tmp, cert, key, name):
    """pkictl renew scep through the RA (RenewalReq signed with cert)."""
    out = tmp / f"{name}-scep.pem"
    return pkictl("renew", "scep", "--url", ra.url("/scep", tls=False),
                  "--cert", cert, "--key", key, "--out", out, "--new-key",
                  "rsa-2048", "--key-out", tmp / f"{name}-scep.key"), out


def crl_fetches(log):
    """The RA's log lines of CRLs it fetched and kept."""
    return [ln for ln in log.splitlines() if "est ra: CRL " in ln and
            " revoked, nextUpdate " in ln]


def test_ca_crl_url_in_leaf_certificates(up, tmp_path):
    """[ca] crl_url puts a CRL distribution point in issued leaves (the
    issuing CA's names the root's CRL); the URL serves the CA's CRL,
    signed by the issuing CA. Without crl_url (auto on a loopback-only
    listener) no CDP."""
    cert, _, _ = device(up, tmp_path, "cdp")
    txt = openssl("x509", "-in", cert, "-noout", "-text",
                  check=True).stdout
    assert "X509v3 CRL Distribution Points" in txt, txt
    assert f"URI:{up.crl}" in txt, txt
    txt = openssl("x509", "-in", up.ca_dir / "issuing.pem", "-noout",
                  "-text", check=True).stdout
    assert f"URI:{up.crl[:-4]}-root.crl" in txt, txt
    crl = tmp_path / "ca.crl"
    cp = run(["curl", "-sS", "-o", str(crl), "-w", "%{http_code}", up.crl])
    assert cp.stdout == "200", cp.stderr
    cp = openssl("crl", "-inform", "DER", "-in", crl, "-noout", "-CAfile",
                 up.ca_dir / "issuing.pem")
    assert "verify OK" in cp.stdout + cp.stderr, cp.stdout + cp.stderr
    d = tmp_path / "plain"
    pkictl("ca", "init", "--dir", d, check=True)
    csr = make_csr(tmp_path, name="nocdp")
    pkictl("ca", "issue", "--dir", d, "--csr", csr, "--out",
           tmp_path / "nocdp.pem", check=True)
    txt = openssl("x509", "-in", tmp_path / "nocdp.pem", "-noout", "-text",
                  check=True).stdout
    assert "CRL Distribution Points" not in txt


def test_est_reenroll_revoked_refused(up, tmp_path):
    """(a)+(b) EST: with no revocation setting on the RA (the CDP of the
    upstream's certificates suffices), an unrevoked device renews, a
    revoked one gets 403 revoked with the date and reason, audited; the
    CRL is fetched once for all of it."""
    good, gkey, _ = device(up, tmp_path, "good")
    bad, bkey, bserial = device(up, tmp_path, "bad")
    revoke(up, bserial)
    d = make_ra(tmp_path, "ra", up)
    with Pkid(d) as ra:
        st, _, body = reenroll(ra, tmp_path, good, gkey, "good")
        assert st == 200, body
        assert from_up(up, leaf_of(body, tmp_path, "good-renewed"))
        for _ in range(2):
            st, h, body = reenroll(ra, tmp_path, bad, bkey, "bad")
            assert st == 403, body
            text = body.decode()
            assert text.startswith("error: revoked: "), text
            assert f"serial {bserial}" in text and "superseded" in text
            assert re.search(r"revoked on \d{4}-\d\d-\d\dT", text), text
            assert "retry-after" not in h
        # pkictl as the device: the same refusal, by its code.
        trust = tmp_path / "trust.pem"
        trust.write_text((d / "root.pem").read_text() +
                         (up.ca_dir / "root.pem").read_text())
        cp = pkictl("renew", "est", "--server",
                    f"https://localhost:{ra.tls_port}", "--cert", bad,
                    "--key", bkey, "--cacert", trust, "--new-key",
                    "ec-p256", "--out", tmp_path / "x.pem", "--key-out",
                    tmp_path / "x.key")
        assert cp.returncode != 0
        assert error_code(cp) == "revoked", cp.stderr
        # The good one again: still renews, from the kept CRL.
        st, _, body = reenroll(ra, tmp_path, good, gkey, "good")
        assert st == 200, body
        err = clean_stop(ra)
    assert len(crl_fetches(err)) == 1, err
    assert up.crl in crl_fetches(err)[0]
    rows = run(["sqlite3", str(d / "pkid.db"), "SELECT detail FROM audit "
                "WHERE result = 'refused' AND action = 'simplereenroll'"]
               ).stdout
    assert rows.count(f"serial {bserial} was revoked") >= 3, rows


def test_scep_renewal_revoked_refused(up, tmp_path):
    """(a)+(b) SCEP: pkictl renew scep (RenewalReq) through the RA with
    an unrevoked certificate of the upstream gets a new one; with a
    revoked one, FAILURE badRequest, 'revoked' in the RA's log, audited."""
    good, gkey, _ = device(up, tmp_path, "sgood", rsa=True)
    bad, bkey, bserial = device(up, tmp_path, "sbad", rsa=True)
    revoke(up, bserial)
    d = make_ra(tmp_path, "ra", up, scep=True)
    with Pkid(d) as ra:
        cp, out = scep_renew(ra, tmp_path, good, gkey, "sgood")
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert from_up(up, out)
        cp, _ = scep_renew(ra, tmp_path, bad, bkey, "sbad")
        assert cp.returncode != 0
        assert "badRequest" in cp.stderr, cp.stderr
        err = clean_stop(ra)
    assert "op=RenewalReq" in err and "status=FAILURE" in err
    assert "code=revoked" in err, err
    assert f"serial {bserial} was revoked" in err, err
    assert "not revoked per the CRL at " + up.crl in err, err
    rows = run(["sqlite3", str(d / "pkid.db"), "SELECT detail FROM audit "
                "WHERE result = 'refused' AND action = 'RenewalReq'"]
               ).stdout
    assert "revoked: " in rows, rows


@need_pki
def test_scep_strongswan_renewal_revoked(up, tmp_path):
    """strongSwan's pki --scep RenewalReq with a revoked certificate of
    the upstream: FAILURE badRequest; with its renewed sibling: issued."""
    d = make_ra(tmp_path, "ra", up)
    with Pkid(d) as ra:
        ss = StrongSwan(ra.url("/scep", tls=False), tmp_path / "ss")
        ss.getca()
        old = ss.key("old")
        csr = tmp_path / "ss-old.csr"
        openssl("req", "-new", "-key", old, "-subj", "/CN=ss.example.test",
                "-out", csr, check=True)
        crt = tmp_path / "ss-old.pem"
        cp = pkictl("ca", "issue", "--dir", up.ca_dir, "--csr", csr,
                    "--out", crt, check=True)
        serial = re.search(r"issued serial ([0-9a-f]+)",
                           cp.stdout + cp.stderr)[1]
        revoke(up, serial)
        cp, _ = ss.enroll(ss.key("new"), "CN=ss.example.test", "", "--cert",
                          crt, "--key", old)
        assert cp.returncode != 0 and "badRequest" in cp.stderr, cp.stderr
        err = clean_stop(ra)
    assert "code=revoked" in err, err


def test_revocation_unknown(up_nocdp, tmp_path):
    """(c) No CDP and no upstream_crl: 403 revocation-unknown naming what
    to configure. upstream_crl on a closed port: 503 + Retry-After, the
    cause logged once, not fetched again per request; SCEP: FAILURE."""
    cert, key, _ = device(up_nocdp, tmp_path, "unk", rsa=True)
    d = make_ra(tmp_path, "ra0", up_nocdp)
    with Pkid(d) as ra:
        st, h, body = reenroll(ra, tmp_path, cert, key, "unk")
        text = body.decode()
        assert st == 403, text
        assert text.startswith("error: revocation-unknown: "), text
        assert "CRL distribution point" in text and "upstream_crl" in text
        assert "\nfix: " in text and "upstream_crl = URL" in text, text
        assert "retry-after" not in h
        err = clean_stop(ra)
    assert err.count("names no http(s) CRL distribution point") == 1, err
    port = free_port()
    url = f"http://127.0.0.1:{port}/crl/ca.crl"
    d = make_ra(tmp_path, "ra1", up_nocdp, f"est.upstream_crl={url}",
                scep=True)
    with Pkid(d) as ra:
        for _ in range(3):
            st, h, body = reenroll(ra, tmp_path, cert, key, "unk")
            text = body.decode()
            assert st == 503, text
            assert text.startswith("error: revocation-unknown: "), text
            assert url in text and "connect-refused" in text, text
            assert 1 <= int(h["retry-after"]) <= 30, h
        cp, _ = scep_renew(ra, tmp_path, cert, key, "unk")
        assert cp.returncode != 0
        err = clean_stop(ra)
    # Logged once per cause and cache (EST and SCEP keep one each), not
    # once per request (4).
    logged = [ln for ln in err.splitlines()
              if "revocation-unknown: connect-refused" in ln]
    assert len(logged) == 2 and "fix: " in logged[0], err
    assert "code=revocation-unknown" in err   # the SCEP FAILURE
    # Refused before anything went upstream: no certificate for unk.
    assert "forwarded upstream" not in err


def test_upstream_crl_over_https(up_nocdp, tmp_path):
    """upstream_crl may be https: the CRL server's certificate is checked
    against upstream_cacert (here the upstream serves its own CRL)."""
    good, gkey, _ = device(up_nocdp, tmp_path, "hgood")
    bad, bkey, serial = device(up_nocdp, tmp_path, "hbad")
    revoke(up_nocdp, serial)
    url = up_nocdp.url("/crl/ca.crl")
    assert url.startswith("https://")
    d = make_ra(tmp_path, "ra", up_nocdp, f"est.upstream_crl={url}")
    with Pkid(d) as ra:
        st, _, body = reenroll(ra, tmp_path, good, gkey, "hgood")
        assert st == 200, body
        st, _, body = reenroll(ra, tmp_path, bad, bkey, "hbad")
        assert st == 403 and body.startswith(b"error: revoked: "), body
        err = clean_stop(ra)
    assert len(crl_fetches(err)) == 1 and url in crl_fetches(err)[0], err


def test_revocation_off_forwards_with_warning(up, tmp_path):
    """(d) upstream_revocation = off: a revoked certificate renews, and
    pkid says at start that it will."""
    cert, key, serial = device(up, tmp_path, "offdev")
    revoke(up, serial)
    d = make_ra(tmp_path, "ra", up, "est.upstream_revocation=off")
    with Pkid(d) as ra:
        st, _, body = reenroll(ra, tmp_path, cert, key, "offdev")
        assert st == 200, body
        assert from_up(up, leaf_of(body, tmp_path, "off-renewed"))
        err = clean_stop(ra)
    assert "renewals through label (default) are forwarded without a " \
        "revocation check" in err, err
    assert crl_fetches(err) == []


def hooks_honoured(tmp):
    """A test-hook build (PKID_TEST_HOOKS=ON) honours PKID_NOW (probe: a
    CA made 2 days ahead); such a build reads PKID_NOW_FILE too."""
    d = tmp / "probe"
    pkictl("ca", "init", "--dir", d, "--root-only", check=True,
           env={"PKID_NOW": time.strftime(
               "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2 * 86400))})
    start = openssl("x509", "-in", d / "root.pem", "-noout", "-startdate",
                    check=True).stdout.split("=", 1)[1].strip()
    return calendar.timegm(time.strptime(start, "%b %d %H:%M:%S %Y %Z")) > \
        time.time() + 86400


def test_crl_fetched_once_until_next_update(tmp_path):
    """(e) Both pkids read one clock file. The CRL (nextUpdate 30 min)
    is fetched once for several renewals, still once 10 min later, and
    again once the clock passes its nextUpdate; the upstream's access
    log agrees."""
    if not hooks_honoured(tmp_path):
        pytest.skip("PKID_NOW_FILE needs a PKID_TEST_HOOKS=ON build")
    clock = tmp_path / "clock"
    t0 = int(time.time())

    def at(secs):
        clock.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                       time.gmtime(t0 + secs)))

    at(0)
    env = {"PKID_NOW_FILE": str(clock)}
    upsrv = start_upstream(tmp_path, "upc", "ca.crl_next_update=30m",
                           quiet=False, env=env)
    with upsrv as up:
        cert, key, _ = device(up, tmp_path, "clk", env=env)
        d = make_ra(tmp_path, "ra", up, env=env)
        with Pkid(d, env=env) as ra:
            for _ in range(3):
                st, _, body = reenroll(ra, tmp_path, cert, key, "clk")
                assert st == 200, body
            at(600)
            st, _, body = reenroll(ra, tmp_path, cert, key, "clk")
            assert st == 200, body
            at(40 * 60)
            for _ in range(2):
                st, _, body = reenroll(ra, tmp_path, cert, key, "clk")
                assert st == 200, body
            err = clean_stop(ra)
        uperr = clean_stop(up)
    fetched = crl_fetches(err)
    assert len(fetched) == 2, err
    served = [ln for ln in uperr.splitlines()
              if 'path="/crl/ca.crl" status=200' in ln]
    assert len(served) == 2, uperr
