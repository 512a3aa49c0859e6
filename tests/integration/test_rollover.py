"""CA rollover (issue 10): a CA rolled over in virtual time while clients
enroll through EST (curl) and SCEP (strongSwan's pki, pkictl), the
GetNextCACert answer checked with openssl, link certificates of a root
key update checked with openssl verify and pkictl verify.

Virtual time: the CA is made days in the past (pkictl --at) with short
lifetimes, so its next generation is due within hours of the real clock,
and the running pkid's clock is moved forward through PKID_NOW_FILE (a
test hook): certificates it issues are backdated far enough that the
third-party clients, which use the real clock, accept them."""
import base64
import datetime as dt
import json
import re
import shutil
import time

import pytest

from conftest import error_code, make_csr, openssl, pkictl, run
from server import Pkid
from test_est import csr_body, curl
from test_scep import StrongSwan

USER, PASSWORD = "fleet", "correct-horse-battery"
DAY = 86400
need_pki = pytest.mark.skipif(shutil.which("pki") is None or
                              shutil.which("faketime") is None,
                              reason="strongSwan pki or faketime missing")


def iso(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def epoch(text):
    return int(dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=dt.timezone.utc).timestamp())


def x509_field(pem, *opts):
    return openssl("x509", "-in", pem, "-noout", *opts,
                   check=True).stdout.strip()


def aki(pem):
    txt = openssl("x509", "-in", pem, "-noout", "-ext",
                  "authorityKeyIdentifier", check=True).stdout
    return txt.split("\n", 1)[1].strip()


def ski(pem):
    txt = openssl("x509", "-in", pem, "-noout", "-ext",
                  "subjectKeyIdentifier", check=True).stdout
    return txt.split("\n", 1)[1].strip()


def not_after(pem):
    v = x509_field(pem, "-enddate").split("=", 1)[1]
    return dt.datetime.strptime(v, "%b %d %H:%M:%S %Y %Z").replace(
        tzinfo=dt.timezone.utc).timestamp()


def pems_of(text):
    return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE"
                      r"-----\n", text, re.S)


@pytest.fixture
def rolling(tmp_path):
    """A CA made 6.5 days ago whose issuing CA (10 days) is due for its
    next generation 12 hours from now and hands over 36 hours from now
    (leaves 2 days, margin 1 day), served by pkid on a movable clock."""
    real = int(time.time())
    d = tmp_path / "ca"
    sets = ["--set", "ca.rollover_margin=1d", "--set",
            "scep.challenge=s3cret-challenge"]
    for p in ("device", "server", "ra"):
        sets += ["--set", f"profile.{p}.lifetime=2d", "--set",
                 f"profile.{p}.backdate=3d"]
    pkictl("ca", "init", "--dir", d, "--days", "20", "--at",
           iso(real - int(6.5 * DAY)), *sets, check=True)
    pkictl("est", "user", "add", "--dir", d, USER, input=PASSWORD + "\n",
           check=True)
    plan = json.loads(pkictl("ca", "show", "--dir", d, "--json",
                             check=True).stdout)["plan"]
    clock = tmp_path / "now"
    clock.write_text(iso(real))
    with Pkid(d, env={"PKID_NOW_FILE": str(clock)},
              stderr_path=tmp_path / "pkid.err") as srv:
        srv.clock = clock
        srv.scep = srv.url("/scep", tls=False)
        srv.shadow_at = epoch(plan["shadow_at"])
        srv.activate_at = epoch(plan["activate_at"])
        yield srv


def est_enroll(srv, tmp, name):
    csr = make_csr(tmp, name=name, subject=f"/CN={name}.example.com",
                   san=f"DNS:{name}.example.com")
    st, _, _, body = curl(srv, "/simpleenroll", tmp, data=csr_body(csr),
                          user=f"{USER}:{PASSWORD}")
    assert st == 200, body
    out = tmp / f"{name}.pem"
    out.write_text(pems_of(_p7_to_pem(tmp, body))[0])
    return out


def _p7_to_pem(tmp, body):
    der = tmp / "p7.der"
    der.write_bytes(base64.b64decode(body))
    return openssl("pkcs7", "-inform", "DER", "-in", der, "-print_certs",
                   check=True).stdout


def get_next(srv):
    return run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                f"http://127.0.0.1:{srv.http_port}/scep?operation="
                "GetNextCACert"])


def wait_for(pred, what, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def cacerts(srv, tmp):
    st, _, _, body = curl(srv, "/cacerts", tmp)
    assert st == 200, body
    return pems_of(_p7_to_pem(tmp, body))


@need_pki
def test_rollover_in_virtual_time(rolling, tmp_path):
    srv, ca = rolling, rolling.ca_dir
    gen1 = ski(ca / "issuing.pem")
    # Before the shadow is due: a 404 that names when it comes.
    cp = pkictl("scep", "getnextca", srv.scep, "--cacert", ca / "root.pem")
    assert error_code(cp) == "no-next-ca", cp.stderr
    d1 = est_enroll(srv, tmp_path, "d1")
    assert aki(d1) == gen1
    # The shadow is due: pkid makes it on its own and publishes it.
    srv.clock.write_text(iso(srv.shadow_at + 60))
    wait_for(lambda: get_next(srv).stdout == "200",
             "GetNextCACert to answer 200 once the shadow is due")
    raw = tmp_path / "next.p7"
    cp = run(["curl", "-sS", "-o", str(raw), f"http://127.0.0.1:"
              f"{srv.http_port}/scep?operation=GetNextCACert"], check=True)
    # openssl checks the signature and the signer's chain to the root.
    inner = tmp_path / "inner.p7"
    cp = openssl("smime", "-verify", "-inform", "DER", "-in", raw,
                 "-CAfile", ca / "root.pem", "-purpose", "any", "-binary",
                 "-out", inner)
    assert cp.returncode == 0 and "Verification successful" in cp.stderr, \
        cp.stderr
    nxt = pems_of(openssl("pkcs7", "-inform", "DER", "-in", inner,
                          "-print_certs", check=True).stdout)
    assert len(nxt) == 1
    shadow = tmp_path / "shadow.pem"
    shadow.write_text(nxt[0])
    assert ski(shadow) != gen1
    assert x509_field(shadow, "-subject") == x509_field(ca / "issuing.pem",
                                                        "-subject")
    # Made at the virtual time: checked at that time.
    openssl("verify", "-CAfile", ca / "root.pem", "-attime",
            str(srv.shadow_at + 60), shadow, check=True)
    cp = pkictl("scep", "getnextca", srv.scep, "--cacert", ca / "root.pem")
    assert cp.returncode == 0 and ski_of_text(tmp_path, cp.stdout) == \
        ski(shadow), cp.stderr
    # EST /cacerts (curl) carries it too.
    assert nxt[0] in cacerts(srv, tmp_path)
    # Until activation the current generation still issues.
    assert aki(est_enroll(srv, tmp_path, "d2")) == gen1
    # Activation: new issuance moves to the next generation.
    srv.clock.write_text(iso(srv.activate_at + 60))
    wait_for(lambda: "serving CA ca generation 2" in srv.read_stderr(),
             "pkid to serve generation 2")
    d3 = est_enroll(srv, tmp_path, "d3")
    assert aki(d3) == ski(shadow)
    assert not_after(d3) <= not_after(shadow)
    openssl("verify", "-CAfile", ca / "root.pem", "-untrusted", shadow,
            "-purpose", "any", "-attime", str(srv.activate_at + 60), d3,
            check=True)
    # strongSwan enrolls through SCEP from the new generation, on the
    # virtual clock too (libfaketime: the new CA and RA certificates begin
    # at it, and strongSwan checks them against its own clock).
    ss = FakeTimeStrongSwan(srv.scep, tmp_path / "ss",
                            iso(srv.activate_at + 120))
    ss.getca()
    cp, crt = ss.enroll(ss.key("s1"), "CN=s1.example.com", "s3cret-challenge")
    assert cp.returncode == 0, cp.stderr
    assert aki(crt) == ski(shadow)
    # A device of the old generation renews across the rollover.
    csr = make_csr(tmp_path, name="d1r", subject="/CN=d1.example.com",
                   san="DNS:d1.example.com")
    st, _, _, body = curl(srv, "/simplereenroll", tmp_path,
                          data=csr_body(csr), cert=d1,
                          key=tmp_path / "d1.key")
    assert st == 200, body
    renewed = tmp_path / "d1-new.pem"
    renewed.write_text(pems_of(_p7_to_pem(tmp_path, body))[0])
    assert aki(renewed) == ski(shadow)
    # Every leaf ends before its issuer.
    for leaf in (d1, d3, crt, renewed):
        issuer = shadow if aki(leaf) == ski(shadow) else ca / "issuing-1.pem"
        if issuer.exists():
            assert not_after(leaf) <= not_after(issuer)
    log = srv.read_stderr()
    assert "rollover: generation 2 of CA ca made" in log


class FakeTimeStrongSwan(StrongSwan):
    """strongSwan's pki run under faketime at a fixed virtual moment."""

    def __init__(self, url, work, at):
        super().__init__(url, work)
        self.prefix = ["faketime", "-f",
                       "@" + at.replace("T", " ").rstrip("Z")]


def ski_of_text(tmp, text):
    pems = pems_of(text)
    assert pems, text
    f = tmp / "p.pem"
    f.write_text(pems[0])
    return ski(f)


def test_root_key_update_links(tmp_path):
    """A root that signs leaves rolls over with OldWithNew and NewWithOld
    (RFC 4210 4.4): each verifies under the other root, a leaf of the new
    root verifies for a device that trusts only the old one, and EST
    /cacerts carries both links (RFC 7030 4.1.3)."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--root-only", check=True)
    old = tmp_path / "old-root.pem"
    shutil.copy(d / "root.pem", old)
    cp = pkictl("ca", "rollover", "--dir", d, "--now", check=True)
    assert "is current now" in cp.stdout
    new, own, nwo = d / "root.pem", d / "oldwithnew-2.pem", \
        d / "newwithold-2.pem"
    assert ski(new) != ski(old)
    openssl("verify", "-CAfile", old, nwo, check=True)
    openssl("verify", "-CAfile", new, own, check=True)
    csr = make_csr(tmp_path, name="leaf", subject="/CN=leaf.example.com",
                   san="DNS:leaf.example.com")
    leaf = tmp_path / "leaf.pem"
    pkictl("ca", "issue", "--dir", d, "--csr", csr, "--out", leaf,
           check=True)
    openssl("verify", "-CAfile", old, "-untrusted", nwo, "-purpose", "any",
            leaf, check=True)
    for trust, extra in ((old, ["--untrusted", nwo]), (new, [])):
        cp = pkictl("verify", "--trust", trust, *extra, "--purpose", "any",
                    leaf)
        assert cp.returncode == 0, cp.stdout + cp.stderr
    with Pkid(d) as srv:
        pems = cacerts(srv, tmp_path)
    assert own.read_text() in pems and nwo.read_text() in pems
    assert new.read_text() in pems and old.read_text() in pems


def test_rollover_cli(tmp_path):
    """pkictl ca show / ca rollover: a second rollover is refused with
    its date, --activate-at moves it, activation after the generation's
    end is refused and changes nothing."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    doc = json.loads(pkictl("ca", "show", "--dir", d, "--json",
                            check=True).stdout)
    assert doc["generation"] == 1 and doc["plan"]["derived"]
    roles = {(g["role"], g["state"]) for g in doc["generations"]}
    assert ("issuing", "current") in roles and ("root", "current") in roles
    cp = pkictl("ca", "rollover", "--dir", d, check=True)
    assert "generation 2" in cp.stdout
    cp = pkictl("ca", "rollover", "--dir", d)
    assert cp.returncode == 2 and error_code(cp) == "rollover-pending"
    cp = pkictl("ca", "rollover", "--dir", d, "--activate-at",
                "2099-01-01T00:00:00Z")
    assert cp.returncode == 2 and "after the current CA generation ends" \
        in cp.stderr
    cp = pkictl("ca", "rollover", "--dir", d, "--activate-at",
                iso(int(time.time()) + 3600), check=True)
    doc = json.loads(pkictl("ca", "show", "--dir", d, "--json",
                            check=True).stdout)
    shadow = [g for g in doc["generations"] if g["state"] == "shadow"]
    assert len(shadow) == 1 and shadow[0]["activate_at"] == \
        iso(int(time.time()) + 3600)[:16] + shadow[0]["activate_at"][16:]
    cp = pkictl("ca", "rollover", "--dir", d, "--now", check=True)
    doc = json.loads(pkictl("ca", "show", "--dir", d, "--json",
                            check=True).stdout)
    assert doc["generation"] == 2
    text = pkictl("ca", "show", "--dir", d, check=True).stdout
    assert "retired" in text and "plan:" in text


def test_reload_keeps_every_write(tmp_path):
    """A reload (SIGHUP, as after a rollover) opens the store a second
    time in the same process and closes the old one. Opening and closing
    a descriptor of the database dropped the process's POSIX locks, so the
    next pkictl reset SQLite's WAL under pkid: certificates pkid issued
    afterwards were lost to every other process. Each one must stay."""
    import signal
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    pkictl("est", "user", "add", "--dir", d, USER, input=PASSWORD + "\n",
           check=True)
    count = lambda: len(json.loads(pkictl(  # noqa: E731
        "ca", "list", "--dir", d, "--json", check=True).stdout))
    with Pkid(d, stderr_path=tmp_path / "pkid.err") as srv:
        for i in range(3):
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: srv.read_stderr().count("reload: serving")
                     > i, "the reload")
            before = count()
            est_enroll(srv, tmp_path, f"r{i}")
            assert count() == before + 1
        time.sleep(1.5)   # the replaced store is closed once idle
        before = count()
        est_enroll(srv, tmp_path, "last")
        assert count() == before + 1


def test_crl_of_each_generation(tmp_path):
    """Each generation's CRL stays published, signed by that generation,
    at the URL its certificates name (/crl/ca.crl is generation 1,
    /crl/ca-N.crl generation N)."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set",
           "ca.crl_url=http://127.0.0.1:1/crl/ca.crl", check=True)
    old = tmp_path / "issuing-1.pem"
    shutil.copy(d / "issuing.pem", old)

    def issue(name):
        csr = make_csr(tmp_path, name=name, subject=f"/CN={name}.example.com",
                       san=f"DNS:{name}.example.com")
        out = tmp_path / f"{name}.pem"
        pkictl("ca", "issue", "--dir", d, "--csr", csr, "--out", out,
               check=True)
        return out

    a = issue("a")
    pkictl("ca", "rollover", "--dir", d, "--now", check=True)
    b = issue("b")
    txt = openssl("x509", "-in", b, "-noout", "-text", check=True).stdout
    assert "URI:http://127.0.0.1:1/crl/ca-2.crl" in txt, txt
    for leaf in (a, b):
        serial = x509_field(leaf, "-serial").split("=")[1]
        pkictl("ca", "revoke", "--dir", d, serial, check=True)
    with Pkid(d) as srv:
        for path, issuer, leaf, other in (("/crl/ca.crl", old, a, b),
                                          ("/crl/ca-2.crl",
                                           d / "issuing.pem", b, a)):
            st, _, body = srv.get(path, tls=False)
            assert st == 200, body
            crl = tmp_path / "g.crl"
            crl.write_bytes(body)
            cp = openssl("crl", "-inform", "DER", "-in", crl, "-noout",
                         "-text", "-CAfile", issuer)
            assert "verify OK" in cp.stdout + cp.stderr, cp.stderr
            sn = lambda p: x509_field(p, "-serial").split("=")[1]  # noqa
            assert sn(leaf) in cp.stdout and sn(other) not in cp.stdout
        st, _, body = srv.get("/crl/ca-3.crl", tls=False)
        assert st == 404 and b"not-found" in body
