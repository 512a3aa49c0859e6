"""pkictl agent through a CA rollover of a real pkid (issue 10): the agent
fetches the next CA ahead of activation (SCEP GetNextCACert, EST
/cacerts), installs it in each identity's trust store, and after
activation renews from the new generation.

Virtual time as in test_rollover.py: the CA is made 1.5 days in the past
(pkictl ca init --at) with a 3-day issuing CA (or root) and 1-day
certificates, so its next generation exists when pkid starts and takes
over 12 hours from now; pkid's clock moves with PKID_NOW_FILE, the
agent's with PKID_NOW."""
import datetime as dt
import json
import time

from conftest import openssl, pkictl
from server import Pkid
from test_agent import (PASSWORD, USER, agent, enroll_est, enroll_scep,
                        identity, no_sanitizer, serial, write_conf)

DAY = 86400


def iso(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def epoch(text):
    return int(dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=dt.timezone.utc).timestamp())


def ext(pem, name):
    txt = openssl("x509", "-in", pem, "-noout", "-ext", name,
                  check=True).stdout
    return txt.split("\n", 1)[1].strip()


def fps(pem_text):
    """SHA-256 fingerprints (openssl's form) of the certificates of a
    PEM text, in order."""
    out = []
    for block in pem_text.split("-----END CERTIFICATE-----")[:-1]:
        cp = openssl("x509", "-noout", "-fingerprint", "-sha256",
                     input=block + "-----END CERTIFICATE-----\n",
                     check=True)
        out.append(cp.stdout.strip().split("=", 1)[1])
    return out


def wait_for(pred, what, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def rolling_ca(tmp, *extra):
    real = int(time.time())
    d = tmp / "ca"
    sets = ["ca.rollover_margin=1d", "scep.challenge=s3cret"]
    for p in ("device", "server", "ra"):
        sets.append(f"profile.{p}.lifetime=1d")
    pkictl("ca", "init", "--dir", d, "--days", "6" if not extra else "3",
           "--at", iso(real - int(1.5 * DAY)), *extra,
           *[a for s in sets for a in ("--set", s)], check=True)
    pkictl("est", "user", "add", "--dir", d, USER, input=PASSWORD + "\n",
           check=True)
    plan = json.loads(pkictl("ca", "show", "--dir", d, "--json",
                             check=True).stdout)["plan"]
    return d, real, epoch(plan["shadow_at"]), epoch(plan["activate_at"])


def through_rollover(tmp_path, root_only):
    extra = ["--root-only"] if root_only else []
    ca, real, shadow_at, activate_at = rolling_ca(tmp_path, *extra)
    assert shadow_at < real < activate_at
    clock = tmp_path / "now"
    clock.write_text(iso(real) + "\n")
    log = tmp_path / "pkid.log"
    with Pkid(ca, env={"PKID_NOW_FILE": str(clock)},
              stderr_path=log) as srv:
        srv.est = f"https://localhost:{srv.tls_port}"
        srv.scep = srv.url("/scep", tls=False)
        e_cert, e_key = enroll_est(srv, tmp_path, "e1")
        s_cert, s_key = enroll_scep(srv, tmp_path, "s1")
        gen1 = ext(e_cert, "authorityKeyIdentifier")
        trust = tmp_path / "trust.pem"
        trust.write_bytes((ca / "root.pem").read_bytes())
        tdir = tmp_path / "trust.d"
        tdir.mkdir()
        (tdir / "root.pem").write_bytes((ca / "root.pem").read_bytes())
        events = tmp_path / "events"
        hook = f"echo $PKID_AGENT_EVENT $PKID_AGENT_IDENTITY >> {events}"
        conf = write_conf(
            tmp_path,
            identity("e1", "est", srv.est, e_cert, e_key, trust,
                     jitter="0%", hook=hook),
            identity("s1", "scep", srv.scep, s_cert, s_key, tdir,
                     jitter="0%", hook=hook))
        before = (e_cert.read_bytes(), s_cert.read_bytes())
        # 15 h on: a certificate renewed now would outlive the current
        # CA, so the agent asks for the next one; not due yet (70 % of
        # a day is 16.8 h).
        cp = agent(conf, iso(real + 15 * 3600))
        no_sanitizer(cp)
        assert cp.returncode == 0, cp.stderr
        assert (e_cert.read_bytes(), s_cert.read_bytes()) == before
        assert "identity e1: renews at" in cp.stderr
        added = [ln for ln in cp.stderr.splitlines()
                 if "trust store" in ln and ": added " in ln]
        assert len(added) == 2, cp.stderr
        first = cp.stderr
        assert events.read_text().split() == ["trust-updated", "e1",
                                              "trust-updated", "s1"]
        assert len(fps(trust.read_text())) == 2
        assert len(list(tdir.iterdir())) == 2
        # pkid activates the next generation.
        clock.write_text(iso(activate_at + 60) + "\n")
        wait_for(lambda: "reload: serving CA ca generation 2" in
                 srv.read_stderr(), "pkid to serve generation 2")
        old = (serial(e_cert), serial(s_cert))
        cp = agent(conf, iso(real + 17 * 3600))
        no_sanitizer(cp)
        assert cp.returncode == 0, cp.stderr
        assert (serial(e_cert), serial(s_cert)) != old
        assert "identity e1: renewed" in cp.stderr
        assert "identity s1: renewed" in cp.stderr
        _, _, err = srv.stop()
        assert "Sanitizer" not in err and "runtime error" not in err
    # Both are from the new generation: issued by the CA the agent
    # installed before activation, not by generation 1.
    for cert in (e_cert, s_cert):
        assert ext(cert, "authorityKeyIdentifier") != gen1
    return ca, trust, tdir, e_cert, s_cert, first


def test_issuing_ca_rollover(tmp_path):
    """The issuing CA rolls over under the same root: its next
    generation chains to the trusted root and is installed; the
    renewed certificates chain through it."""
    ca, trust, tdir, e_cert, s_cert, log = through_rollover(tmp_path, False)
    assert log.count("issued under a trusted CA") == 2, log
    roots = fps((ca / "root.pem").read_text())
    store = fps(trust.read_text())
    assert store[0] == roots[0] and len(store) == 2
    for cert in (e_cert, s_cert):
        akid = ext(cert, "authorityKeyIdentifier")
        new_issuer = [p for p in (tdir.iterdir()) if p.name != "root.pem"]
        assert akid == ext(new_issuer[0], "subjectKeyIdentifier")
        openssl("verify", "-CAfile", trust, "-partial_chain", "-purpose",
                "any", "-no_check_time", cert, check=True)


def test_root_key_update(tmp_path):
    """A CA whose root signs the certificates rolls its root: the new
    root comes through EST /cacerts linked by NewWithOld, and through
    SCEP GetNextCACert signed by the current RA; the renewed
    certificates chain to it."""
    ca, trust, tdir, e_cert, s_cert, log = through_rollover(tmp_path, True)
    assert "new root linked from a trusted one (NewWithOld)" in log, log
    assert "new root in a GetNextCACert answer signed by the current CA " \
        "or RA" in log, log
    store = fps(trust.read_text())
    assert len(store) == 2
    for cert in (e_cert, s_cert):
        openssl("verify", "-CAfile", trust, "-purpose", "any",
                "-no_check_time", cert, check=True)
