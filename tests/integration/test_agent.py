"""pkictl agent against a real pkid on 127.0.0.1: one pass (--once)
renews the EST and SCEP identities past renew_at and leaves the others,
writes files atomically with their modes and runs the hook; a server
answering 503 gets a back-off and no renewal; a refused configuration
renews nothing; an identity that cannot be renewed before it expires is
renewal-overdue; GetNextCACert's 404 is backed off; SIGTERM stops the
long-running mode. The agent's clock is moved with PKID_NOW (no timed
assertions)."""
import base64
import datetime
import hashlib
import http.server
import json
import os
import signal
import ssl
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import binary, error_code, openssl, pkictl, run
from server import Pkid

USER, PASSWORD = "alice", "agent-pw-long-enough"


def at(hours):
    """RFC 3339 UTC time, hours from now (PKID_NOW)."""
    t = datetime.datetime.now(datetime.timezone.utc) + \
        datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_ca(tmp, name, *sets):
    d = tmp / name
    args = ["ca", "init", "--dir", d, "--set",
            "profile.device.lifetime=1d", "--set", "scep.challenge=s3cret",
            "--set", "est.long.profile=server"]
    for s in sets:
        args += ["--set", s]
    pkictl(*args, check=True)
    pkictl("est", "user", "add", "--dir", d, USER, input=PASSWORD + "\n",
           check=True)
    return d


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("agent")
    d = make_ca(tmp, "ca")
    with Pkid(d, stderr_path=tmp / "pkid.log") as srv:
        srv.est = f"https://localhost:{srv.tls_port}"
        srv.scep = srv.url("/scep", tls=False)
        yield srv
        _, _, err = srv.stop()
        assert "Sanitizer" not in err and "runtime error" not in err


def enroll_est(srv, tmp, name, label=None):
    out = tmp / f"{name}.pem"
    args = ["enroll", "est", "--server", srv.est, "--user", USER,
            "--password", PASSWORD, "--cacert", srv.ca_dir / "root.pem",
            "--san", f"DNS:{name}.example.com", "--out", out]
    if label:
        args += ["--label", label]
    pkictl(*args, check=True)
    return out, tmp / f"{name}.key"


def enroll_scep(srv, tmp, name, env=None):
    out = tmp / f"{name}.pem"
    pkictl("enroll", "scep", "--url", srv.scep, "--challenge", "s3cret",
           "--new-key", "rsa-2048", "--subject", f"CN={name}.example.com",
           "--cacert", srv.ca_dir / "root.pem", "--out", out, check=True,
           env=env)
    return out, tmp / f"{name}.key"


def identity(name, proto, url, cert, key, trust, **kw):
    lines = [f"[identity {name}]", f"protocol = {proto}", f"url = {url}",
             f"cert = {cert}", f"key = {key}", f"trust = {trust}"]
    lines += [f"{k} = {v}" for k, v in kw.items()]
    return "\n".join(lines) + "\n"


def write_conf(tmp, *idents, agent=""):
    conf = tmp / "agent.conf"
    conf.write_text(f"[agent]\nstate_dir = {tmp / 'state'}\n{agent}\n" +
                    "\n".join(idents))
    return conf


def agent(conf, now=None, timeout=180):
    env = {"PKID_NOW": now} if now else None
    return run([binary("pkictl"), "agent", "--config", str(conf), "--once"],
               env=env, timeout=timeout)


def serial(pem):
    return openssl("x509", "-in", pem, "-noout", "-serial",
                   check=True).stdout.strip()


def mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def pubkey_of_cert(pem):
    return openssl("x509", "-in", pem, "-noout", "-pubkey",
                   check=True).stdout


def pubkey_of_key(key):
    return openssl("pkey", "-in", key, "-pubout", check=True).stdout


def no_sanitizer(cp):
    assert "Sanitizer" not in cp.stderr and "runtime error" not in \
        cp.stderr, cp.stderr


def test_once_renews_what_is_due(pki, tmp_path):
    """Past renew_at (the agent's clock 20 h on, 1-day certificates): the
    EST and the SCEP identity are renewed, the 90-day one is not; files
    are replaced whole with their modes; the hook sees the identity."""
    ca = pki.ca_dir
    e_cert, e_key = enroll_est(pki, tmp_path, "e1")
    r_cert, r_key = enroll_est(pki, tmp_path, "e2")
    s_cert, s_key = enroll_scep(pki, tmp_path, "s1")
    l_cert, l_key = enroll_est(pki, tmp_path, "l1", label="long")
    trust_dir = tmp_path / "trust.d"
    trust_dir.mkdir()
    (trust_dir / "root.pem").write_bytes((ca / "root.pem").read_bytes())
    trust = tmp_path / "trust.pem"
    trust.write_bytes((ca / "root.pem").read_bytes())
    hook_out = tmp_path / "hook.out"
    hook = tmp_path / "hook.sh"
    hook.write_text("#!/bin/sh\necho \"$PKID_AGENT_EVENT $PKID_AGENT_IDENTITY"
                    " $PKID_AGENT_CERT $PKID_AGENT_KEY $PKID_AGENT_CHAIN\""
                    f" >> {hook_out}\n")
    hook.chmod(0o755)
    chain = tmp_path / "e1-chain.pem"
    long_before = l_cert.read_bytes()
    old = {p: serial(p) for p in (e_cert, r_cert, s_cert)}
    old_e2_key = r_key.read_bytes()
    conf = write_conf(
        tmp_path,
        identity("e1", "est", pki.est, e_cert, e_key, trust, chain=chain,
                 hook=hook),
        identity("e2", "est", pki.est, r_cert, r_key, trust,
                 new_key="ec-p256"),
        identity("s1", "scep", pki.scep, s_cert, s_key, trust_dir,
                 hook=hook),
        identity("l1", "est", pki.est, l_cert, l_key, trust,
                 label="long"))
    cp = agent(conf, at(20))
    no_sanitizer(cp)
    assert cp.returncode == 0, cp.stderr
    for p in (e_cert, r_cert, s_cert):
        assert serial(p) != old[p], p
        openssl("verify", "-CAfile", ca / "root.pem", "-untrusted",
                ca / "issuing.pem", p, check=True)
    assert l_cert.read_bytes() == long_before
    log = cp.stderr
    assert "identity e1: renewed CN=e1.example.com" in log
    assert "identity s1: renewed CN=s1.example.com" in log
    assert "identity l1: renews at" in log and "(70% of lifetime +" in log
    assert "identity l1: renewed" not in log
    # Same key unless new_key; a new key is 0600 and the certificate's.
    assert pubkey_of_key(e_key) == pubkey_of_cert(e_cert)
    assert pubkey_of_key(s_key) == pubkey_of_cert(s_cert)
    assert r_key.read_bytes() != old_e2_key
    assert pubkey_of_key(r_key) == pubkey_of_cert(r_cert)
    assert "new key" in log
    for k in (e_key, r_key, s_key):
        assert mode(k) == 0o600, k
    for c in (e_cert, s_cert, chain):
        assert mode(c) == 0o644, c
    # With chain =, the certificate alone and its issuing CA beside it.
    assert e_cert.read_text().count("BEGIN CERTIFICATE") == 1
    assert chain.read_text().count("BEGIN CERTIFICATE") == 1
    assert "Issuing CA" in openssl("x509", "-in", chain, "-noout",
                                   "-subject", check=True).stdout
    # Nothing half-written left behind; the state is per identity.
    leftovers = [p.name for p in tmp_path.rglob("*") if ".tmp." in p.name
                 or p.name.endswith(".next")]
    assert leftovers == []
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == \
        ["e1.json", "e2.json", "l1.json", "s1.json"]
    assert mode(tmp_path / "state" / "e1.json") == 0o600
    hooks = hook_out.read_text().splitlines()
    assert f"renewed e1 {e_cert} {e_key} {chain}" in hooks
    assert f"renewed s1 {s_cert} {s_key} " in hooks    # no chain file
    assert len(hooks) == 2
    # The trust store held the root; nothing new to add, nothing removed.
    assert trust.read_bytes() == (ca / "root.pem").read_bytes()
    assert sorted(os.listdir(trust_dir)) == ["root.pem"]


def test_not_due_is_left_alone(pki, tmp_path):
    cert, key = enroll_est(pki, tmp_path, "n1")
    before = cert.read_bytes()
    conf = write_conf(tmp_path, identity("n1", "est", pki.est, cert, key,
                                         pki.ca_dir / "root.pem"))
    cp = agent(conf, at(1))
    no_sanitizer(cp)
    assert cp.returncode == 0, cp.stderr
    assert cert.read_bytes() == before
    assert "identity n1: renews at" in cp.stderr
    assert "renewal due" not in cp.stderr


class _Busy(http.server.BaseHTTPRequestHandler):
    """Every request answered 503 with Retry-After: 120, as pkid does
    when rate-limited."""
    seen = []

    def do_GET(self):
        type(self).seen.append(self.path)
        body = b"error: rate-limited: busy; retry after 120 s\n"
        self.send_response(503)
        self.send_header("Retry-After", "120")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


def _busy_server(ca, tls):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ca / "tls" / "server.pem",
                            ca / "tls" / "server.key")
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def test_503_backs_off_without_renewing(pki, tmp_path):
    ca = pki.ca_dir
    e_cert, e_key = enroll_est(pki, tmp_path, "b1")
    s_cert, s_key = enroll_scep(pki, tmp_path, "b2")
    before = (e_cert.read_bytes(), s_cert.read_bytes())
    https, plain = _busy_server(ca, True), _busy_server(ca, False)
    _Busy.seen = []
    try:
        est_url = f"https://localhost:{https.server_port}"
        scep_url = f"http://127.0.0.1:{plain.server_port}/scep"
        conf = write_conf(
            tmp_path,
            identity("b1", "est", est_url, e_cert, e_key, ca / "root.pem"),
            identity("b2", "scep", scep_url, s_cert, s_key,
                     ca / "root.pem"))
        now = at(20)
        cp = agent(conf, now)
        no_sanitizer(cp)
        assert cp.returncode == 1 and error_code(cp) == "rate-limited", \
            cp.stderr
        assert (e_cert.read_bytes(), s_cert.read_bytes()) == before
        # One request each, no retry slept on in place; Retry-After 120.
        assert len(_Busy.seen) == 2, _Busy.seen
        assert f"identity b1: backing off 2 min after 503 (Retry-After " \
            f"honoured) from {est_url}" in cp.stderr
        assert f"identity b2: backing off 2 min after 503 (Retry-After " \
            f"honoured) from {scep_url}" in cp.stderr
        st = json.loads((tmp_path / "state" / "b1.json").read_text())
        assert st["failures"] == 1 and st["last_code"] == "rate-limited"
        # A second pass at the same time waits: nothing is sent.
        cp = agent(conf, now)
        assert cp.returncode == 0, cp.stderr
        assert "identity b1: backing off until" in cp.stderr
        assert len(_Busy.seen) == 2
    finally:
        for s in (https, plain):
            s.shutdown()
            s.server_close()


def test_refused_config_renews_nothing(pki, tmp_path):
    cert, key = enroll_est(pki, tmp_path, "c1")
    before = cert.read_bytes()
    root = pki.ca_dir / "root.pem"
    good = identity("c1", "est", pki.est, cert, key, root)
    missing = tmp_path / "nope" / "c2.pem"
    conf = write_conf(tmp_path, good, identity("c2", "est", pki.est, missing,
                                               key, root))
    cp = agent(conf, at(20))
    no_sanitizer(cp)
    assert cp.returncode == 2 and error_code(cp) == "io-open", cp.stderr
    line = conf.read_text().splitlines().index(f"cert = {missing}") + 1
    assert f"{conf}:{line}: [identity c2] cert = {missing}: cannot be " \
        f"read" in cp.stderr
    assert "fix: " in cp.stderr
    assert cert.read_bytes() == before
    assert not (tmp_path / "state" / "c1.json").exists()
    # An unknown key and a bad duration, named with their lines.
    conf = write_conf(tmp_path, good + "renew_after = 70%\n")
    cp = agent(conf, at(20))
    assert cp.returncode == 2 and error_code(cp) == "config-unknown-key"
    assert f"{conf}:10: unknown key 'renew_after'" in cp.stderr
    conf = write_conf(tmp_path, good + "timeout = 30 seconds\n")
    cp = agent(conf, at(20))
    assert cp.returncode == 2 and error_code(cp) == "config-bad-value"
    assert f"{conf}:10: timeout is a duration" in cp.stderr
    # A key that is not the certificate's.
    other = tmp_path / "other.key"
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-out", other, check=True)
    conf = write_conf(tmp_path, identity("c1", "est", pki.est, cert, other,
                                         root))
    cp = agent(conf, at(20))
    assert cp.returncode == 2 and error_code(cp) == "key-mismatch"
    assert cert.read_bytes() == before


def test_expired_identity_is_overdue(tmp_path):
    """The server's clock (PKID_NOW_FILE) and the agent's both 25 h on:
    the 1-day certificate has expired, pkid refuses it as the client
    certificate, and the agent says renewal-overdue."""
    ca = make_ca(tmp_path, "ca")
    clock = tmp_path / "now"
    with Pkid(ca, "--quiet", env={"PKID_NOW_FILE": str(clock)}) as srv:
        srv.est = f"https://localhost:{srv.tls_port}"
        cert, key = enroll_est(srv, tmp_path, "x1")
        before = cert.read_bytes()
        conf = write_conf(tmp_path, identity("x1", "est", srv.est, cert, key,
                                             ca / "root.pem"))
        now = at(25)
        clock.write_text(now + "\n")
        cp = agent(conf, now)
        no_sanitizer(cp)
        assert cp.returncode == 1, cp.stderr
        assert error_code(cp) == "renewal-overdue", cp.stderr
        assert "identity x1: renewal failed" in cp.stderr
        assert f"{cert} expired at" in cp.stderr
        assert cert.read_bytes() == before
        # Still overdue while it backs off.
        cp = agent(conf, now)
        assert cp.returncode == 1 and error_code(cp) == "renewal-overdue"
        assert "identity x1: backing off until" in cp.stderr
        _, _, err = srv.stop()
        assert "Sanitizer" not in err


def test_next_ca_404_backs_off(tmp_path):
    """A 3-day issuing CA and a certificate of one day: from a day before
    the CA's end a renewed certificate would outlive it, so the agent
    asks GetNextCACert; pkid has no next CA yet (404 no-next-ca), which
    is no failure but is not asked again before its back-off."""
    clock = tmp_path / "now"
    ca2 = tmp_path / "ca6"
    sets = ["profile.device.lifetime=1d", "profile.server.lifetime=1d",
            "profile.ra.lifetime=1d", "scep.challenge=s3cret",
            "ca.rollover_margin=1h"]
    pkictl("ca", "init", "--dir", ca2, "--days", "6",
           *[a for s in sets for a in ("--set", s)], check=True)
    log = tmp_path / "pkid.log"
    with Pkid(ca2, env={"PKID_NOW_FILE": str(clock)},
              stderr_path=log) as srv:
        srv.scep = srv.url("/scep", tls=False)
        # Enrolled 46 h on (OpenSSL signs SCEP messages at the real time,
        # pkid allows 48 h of skew): the certificate ends two hours
        # before the CA, so from 48 h on a renewed one would outlive it.
        # pkid's clock stays there, an hour before it makes the next
        # generation (72 h - L - M = 47 h): at 47 h, the shadow could
        # be made before the agent asks, and it would find it in
        # /cacerts instead of a 404.
        enrolled = at(46)
        clock.write_text(enrolled + "\n")
        cert, key = enroll_scep(srv, tmp_path, "n1",
                                env={"PKID_NOW": enrolled})
        conf = write_conf(tmp_path, identity("n1", "scep", srv.scep, cert,
                                             key, ca2 / "root.pem"))
        now = at(51)
        cp = agent(conf, now)
        no_sanitizer(cp)
        assert cp.returncode == 0, cp.stderr
        assert "identity n1: no next CA from" in cp.stderr
        assert "no next CA certificate exists" in cp.stderr
        assert "identity n1: renews at" in cp.stderr
        st = json.loads((tmp_path / "state" / "n1.json").read_text())
        assert st["ca_failures"] == 1 and st["ca_next_try"] > 0
        asked = srv.read_stderr().count("scep GetNextCACert")
        assert asked == 1
        cp = agent(conf, now)
        assert cp.returncode == 0, cp.stderr
        assert srv.read_stderr().count("scep GetNextCACert") == 1
        assert "next CA wanted from" in cp.stderr
        _, _, err = srv.stop()
        assert "Sanitizer" not in err


def test_long_running_stops_on_sigterm(pki, tmp_path):
    cert, key = enroll_est(pki, tmp_path, "d1")
    conf = write_conf(tmp_path, identity("d1", "est", pki.est, cert, key,
                                         pki.ca_dir / "root.pem"))
    proc = subprocess.Popen([binary("pkictl"), "agent", "--config",
                             str(conf)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "agent: sleeping" in line:
                break
        assert any("agent: sleeping" in ln for ln in lines), lines
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, "".join(lines) + err
    assert "agent: stopping on a signal" in err
    assert "Sanitizer" not in err


def test_expired_with_credential_enrolls_anew(tmp_path):
    """An expired certificate no longer authenticates a renewal; with an
    EST user (password_file) or a SCEP challenge (challenge_file) the
    agent enrolls anew for the same names instead."""
    ca = make_ca(tmp_path, "ca")
    clock = tmp_path / "now"
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n")
    chal = tmp_path / "chal"
    chal.write_text("s3cret\n")
    with Pkid(ca, "--quiet", env={"PKID_NOW_FILE": str(clock)}) as srv:
        srv.est = f"https://localhost:{srv.tls_port}"
        srv.scep = srv.url("/scep", tls=False)
        e_cert, e_key = enroll_est(srv, tmp_path, "y1")
        s_cert, s_key = enroll_scep(srv, tmp_path, "y2")
        old = (serial(e_cert), serial(s_cert))
        root = ca / "root.pem"
        conf = write_conf(
            tmp_path,
            identity("y1", "est", srv.est, e_cert, e_key, root, user=USER,
                     password_file=pw),
            identity("y2", "scep", srv.scep, s_cert, s_key, root,
                     challenge_file=chal))
        now = at(25)
        clock.write_text(now + "\n")
        cp = agent(conf, now)
        no_sanitizer(cp)
        assert cp.returncode == 0, cp.stderr
        assert "identity y1: certificate expired; enrolling anew as EST " \
            f"user {USER}" in cp.stderr
        assert "identity y2: certificate expired; enrolling anew with the " \
            "challenge" in cp.stderr
        assert (serial(e_cert), serial(s_cert)) != old
        for c in (e_cert, s_cert):
            subj = openssl("x509", "-in", c, "-noout", "-subject",
                           check=True).stdout
            assert f"CN = {c.stem}.example.com" in subj
        _, _, err = srv.stop()
        assert "Sanitizer" not in err


class _CaCerts(http.server.BaseHTTPRequestHandler):
    """A stand-in EST server: /cacerts answers the certificates it is
    given (RFC 7030 4.1.3, certs-only PKCS#7 in base64), anything else
    404."""
    body = b""
    seen = []

    def do_GET(self):
        type(self).seen.append(self.path)
        if self.path.endswith("/cacerts"):
            st, ct, body = 200, "application/pkcs7-mime", type(self).body
        else:
            st, ct, body = 404, "text/plain", b"error: no-route: x\n"
        self.send_response(st)
        self.send_header("Content-Type", ct)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _root_key_update(ca, w):
    """RFC 4210 4.4 certificates of a root key update under the same
    name: NewWithNew (the new root), NewWithOld and OldWithNew (links),
    and a new issuing CA under the new root."""
    ext = w / "ext.cnf"
    ext.write_text("[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage="
                   "critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"
                   "authorityKeyIdentifier=keyid:always\n")
    subj = openssl("x509", "-in", ca / "root.pem", "-noout", "-subject",
                   "-nameopt", "compat", check=True).stdout.split("=", 1)[1]
    isubj = openssl("x509", "-in", ca / "issuing.pem", "-noout", "-subject",
                    "-nameopt", "compat", check=True).stdout.split("=", 1)[1]
    serials = {"new_with_new": 101, "new_with_old": 102, "old_with_new": 103,
               "issuing2": 104}

    def csr(name, subject):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                w / f"{name}.key", "-subj", subject.strip(), "-out",
                w / f"{name}.csr", check=True)

    def sign(name, csrname, ca_pem=None, ca_key=None, self_key=None):
        args = ["x509", "-req", "-in", w / f"{csrname}.csr", "-days", "3650",
                "-extfile", ext, "-extensions", "ca", "-out",
                w / f"{name}.pem", "-set_serial", str(serials[name])]
        if self_key:
            args += ["-signkey", self_key]
        else:
            args += ["-CA", ca_pem, "-CAkey", ca_key]
        openssl(*args, check=True)
        return w / f"{name}.pem"

    csr("r2", subj)
    csr("i2", isubj)
    openssl("x509", "-x509toreq", "-in", ca / "root.pem", "-signkey",
            ca / "keys" / "root.key", "-out", w / "r1.csr", check=True)
    out = {
        "new_with_new": sign("new_with_new", "r2", self_key=w / "r2.key"),
        "new_with_old": sign("new_with_old", "r2", ca / "root.pem",
                             ca / "keys" / "root.key"),
    }
    out["old_with_new"] = sign("old_with_new", "r1", out["new_with_new"],
                               w / "r2.key")
    out["issuing2"] = sign("issuing2", "i2", out["new_with_new"],
                           w / "r2.key")
    return out


def _p7_b64(w, name, pems):
    args = ["crl2pkcs7", "-nocrl", "-outform", "DER", "-out",
            w / f"{name}.p7b"]
    for p in pems:
        args += ["-certfile", p]
    openssl(*args, check=True)
    return base64.encodebytes((w / f"{name}.p7b").read_bytes())


def _fps(pem_text):
    """SHA-256 fingerprints of the certificates in a PEM text."""
    out = []
    for block in pem_text.split("-----END CERTIFICATE-----")[:-1]:
        der = ssl.PEM_cert_to_DER_cert(block.strip() +
                                        "\n-----END CERTIFICATE-----\n")
        out.append(hashlib.sha256(der).hexdigest())
    return out


def test_root_key_update_via_est_cacerts(tmp_path):
    """The next CA over EST /cacerts during a root key update. Until
    pkid publishes rollovers itself (the lead's `pkictl ca rollover`),
    a stand-in server answers /cacerts as RFC 7030 4.1.3 describes: the
    current CAs, the new root, both link certificates and the new
    issuing CA. The new root is installed because NewWithOld links it
    from the trusted one, the new issuing CA because it chains to it;
    the links are not; a new root without a link never is."""
    ca = tmp_path / "ca"
    sets = ["profile.device.lifetime=1d", "profile.server.lifetime=1d",
            "profile.ra.lifetime=1d", "ca.rollover_margin=1h"]
    pkictl("ca", "init", "--dir", ca, "--days", "6",
           *[a for s in sets for a in ("--set", s)], check=True)
    pkictl("est", "user", "add", "--dir", ca, USER, input=PASSWORD + "\n",
           check=True)
    clock = tmp_path / "now"
    enrolled = at(47)
    clock.write_text(enrolled + "\n")
    with Pkid(ca, "--quiet", env={"PKID_NOW_FILE": str(clock)}) as srv:
        srv.est = f"https://localhost:{srv.tls_port}"
        out = tmp_path / "r1.pem"
        pkictl("enroll", "est", "--server", srv.est, "--user", USER,
               "--password", PASSWORD, "--cacert", ca / "root.pem", "--san",
               "DNS:r1.example.com", "--out", out, check=True,
               env={"PKID_NOW": enrolled})
        srv.stop()
    # The identity holds its certificate alone (no chain): the agent
    # learns the CAs it depends on from /cacerts.
    leaf = openssl("x509", "-in", out, check=True).stdout
    out.write_text(leaf)
    new = _root_key_update(ca, tmp_path)
    _CaCerts.body = _p7_b64(tmp_path, "rollover", [
        ca / "issuing.pem", ca / "root.pem", new["new_with_new"],
        new["new_with_old"], new["old_with_new"], new["issuing2"]])
    _CaCerts.seen = []
    fake = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CaCerts)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ca / "tls" / "server.pem", ca / "tls" / "server.key")
    fake.socket = ctx.wrap_socket(fake.socket, server_side=True)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    try:
        url = f"https://localhost:{fake.server_port}"
        trust = tmp_path / "trust.pem"
        trust.write_bytes((ca / "root.pem").read_bytes())
        tdir = tmp_path / "trust.d"
        tdir.mkdir()
        (tdir / "root.pem").write_bytes((ca / "root.pem").read_bytes())
        hook_out = tmp_path / "hook.out"
        hook = f"echo $PKID_AGENT_EVENT $PKID_AGENT_IDENTITY >> {hook_out}"
        key = tmp_path / "r1.key"
        conf = write_conf(
            tmp_path,
            identity("f", "est", url, out, key, trust, hook=hook),
            identity("d", "est", url, out, key, tdir, hook=hook))
        cp = agent(conf, at(51))
        no_sanitizer(cp)
        assert cp.returncode == 0, cp.stderr
        assert "new root linked from a trusted one (NewWithOld)" in \
            cp.stderr
        want = _fps((ca / "root.pem").read_text() +
                    new["new_with_new"].read_text() +
                    new["issuing2"].read_text())
        assert _fps(trust.read_text()) == want
        files = sorted(os.listdir(tdir))
        assert len(files) == 3 and "root.pem" in files, files
        got = []
        for f in files:
            got += _fps((tdir / f).read_text())
        assert sorted(got) == sorted(want)
        assert hook_out.read_text().split("\n")[:2] == \
            ["trust-updated f", "trust-updated d"]
        assert out.read_text() == leaf          # not due: not renewed
        assert [p for p in _CaCerts.seen if "cacerts" in p] and \
            all(p.endswith("/cacerts") for p in _CaCerts.seen)
        # Nothing new the next time: no hook, nothing written.
        before = trust.read_bytes()
        cp = agent(conf, at(51))
        assert cp.returncode == 0, cp.stderr
        assert trust.read_bytes() == before
        assert len(hook_out.read_text().splitlines()) == 2
        # A new root nobody links from the trusted one: never taken.
        bogus = tmp_path / "bogus"
        bogus.mkdir()
        other = _root_key_update(ca, bogus)
        _CaCerts.body = _p7_b64(tmp_path, "bogus", [
            ca / "issuing.pem", ca / "root.pem", other["new_with_new"],
            other["issuing2"]])
        trust.write_bytes((ca / "root.pem").read_bytes())
        for f in files:
            if f != "root.pem":
                (tdir / f).unlink()
        for name in ("f", "d"):
            (tmp_path / "state" / f"{name}.json").unlink()
        cp = agent(conf, at(51))
        assert cp.returncode == 0, cp.stderr
        assert trust.read_bytes() == (ca / "root.pem").read_bytes()
        assert os.listdir(tdir) == ["root.pem"]
        assert "identity f: no next CA from" in cp.stderr
    finally:
        fake.shutdown()
        fake.server_close()
