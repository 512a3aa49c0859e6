"""pkictl diagnose (and pkictl verify) against real TLS servers on loopback.

Every scenario builds its certificates with the openssl command, starts
`openssl s_server` on a free 127.0.0.1 port (killed at the end of the test),
and asserts the catalogue code pkictl reports in --json.
"""
import datetime
import functools
import http.server
import json
import socket
import subprocess
import threading
import time

import pytest

from conftest import openssl, pkictl

WAIT_S = 10        # longest wait for a server to accept connections
DIAG_TIMEOUT = 5   # --timeout given to pkictl diagnose


def utc(delta):
    """openssl ca date text for now + delta (a timedelta)."""
    t = datetime.datetime.now(datetime.timezone.utc) + delta
    return t.strftime("%Y%m%d%H%M%SZ")


class Pki:
    """Keys and certificates made with `openssl ca` in one directory."""

    def __init__(self, d):
        self.d = d
        (d / "newcerts").mkdir()
        (d / "index.txt").write_text("")
        (d / "ca.cnf").write_text(
            "[ca]\ndefault_ca = dflt\n[dflt]\n"
            f"database = {d}/index.txt\nnew_certs_dir = {d}/newcerts\n"
            "default_md = sha256\npolicy = pol\nunique_subject = no\n"
            "rand_serial = yes\ncopy_extensions = none\n"
            "[pol]\ncommonName = supplied\n")

    def cert(self, name, cn, issuer=None, ca=False, san=None, aia=None,
             start=None, end=None, kind="ec"):
        """Make NAME.key and NAME.pem; issuer None means self-signed."""
        key, csr = self.d / f"{name}.key", self.d / f"{name}.csr"
        pem = self.d / f"{name}.pem"
        if kind == "ec":
            keyopt = ["-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:P-256"]
        else:
            keyopt = ["-newkey", "rsa:2048"]
        openssl("req", "-new", *keyopt, "-nodes", "-keyout", key,
                "-subj", f"/CN={cn}", "-out", csr, check=True)
        ext = ["subjectKeyIdentifier = hash"]
        if issuer is not None or not ca:
            ext.append("authorityKeyIdentifier = keyid")
        if ca:
            ext += ["basicConstraints = critical, CA:TRUE",
                    "keyUsage = critical, keyCertSign, cRLSign"]
        else:
            ext += ["basicConstraints = critical, CA:FALSE",
                    "keyUsage = critical, digitalSignature, "
                    "keyEncipherment",
                    "extendedKeyUsage = serverAuth"]
        if san:
            ext.append(f"subjectAltName = {san}")
        if aia:
            ext.append(f"authorityInfoAccess = caIssuers;URI:{aia}")
        extfile = self.d / f"{name}.ext"
        extfile.write_text("[ext]\n" + "\n".join(ext) + "\n")
        start = start or utc(datetime.timedelta(minutes=-5))
        end = end or utc(datetime.timedelta(days=30))
        args = ["ca", "-batch", "-config", self.d / "ca.cnf", "-notext",
                "-in", csr, "-out", pem, "-extfile", extfile,
                "-extensions", "ext", "-startdate", start,
                "-enddate", end]
        if issuer is None:
            args += ["-selfsign", "-keyfile", key]
        else:
            args += ["-cert", self.d / f"{issuer}.pem",
                     "-keyfile", self.d / f"{issuer}.key"]
        openssl(*args, check=True)
        return pem

    def bundle(self, name, *parts):
        """Concatenate PEM files into NAME.pem."""
        out = self.d / f"{name}.pem"
        out.write_text("".join((self.d / f"{p}.pem").read_text()
                               for p in parts))
        return out

    def der(self, name):
        out = self.d / f"{name}.der"
        openssl("x509", "-in", self.d / f"{name}.pem", "-outform", "DER",
                "-out", out, check=True)
        return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@pytest.fixture
def pki(tmp_path):
    return Pki(tmp_path)


@pytest.fixture
def servers(tmp_path):
    """start(args...) runs openssl s_server on a free port; returns it."""
    procs = []

    def start(*args):
        for attempt in range(3):
            port = free_port()
            log = open(tmp_path / f"s_server.{port}.log", "w")
            proc = subprocess.Popen(
                ["openssl", "s_server", "-accept", f"127.0.0.1:{port}",
                 "-www", *map(str, args)], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT)
            log.close()
            procs.append(proc)
            if wait_listening(port, proc):
                return port
        pytest.fail(f"s_server {args} did not start")

    yield start
    for p in procs:
        p.kill()
        p.wait(timeout=WAIT_S)


@pytest.fixture
def aia_server(tmp_path):
    """A loopback HTTP server for a directory; yields its base URL."""
    root = tmp_path / "aia"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    handler = functools.partial(Quiet, directory=str(root))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield root, f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(WAIT_S)


def diagnose(url, *args):
    cp = pkictl("diagnose", url, "--timeout", DIAG_TIMEOUT, "--json", *args,
                timeout=120)
    assert cp.returncode in (0, 1), cp.stderr
    doc = json.loads(cp.stdout)
    assert (cp.returncode == 0) == doc["ok"], cp.stdout
    return doc


def codes(doc):
    return [f["code"] for f in doc["findings"]]


def verify(*args):
    cp = pkictl("verify", "--json", *args)
    assert cp.returncode in (0, 1), cp.stderr
    return json.loads(cp.stdout)


@pytest.fixture
def chain(pki):
    """root -> ica -> leaf for localhost and 127.0.0.1."""
    pki.cert("root", "Diag Root", ca=True)
    pki.cert("ica", "Diag ICA", issuer="root", ca=True)
    pki.cert("leaf", "localhost", issuer="ica",
             san="DNS:localhost,IP:127.0.0.1")
    pki.bundle("leaf_ica", "leaf", "ica")
    return pki


def serve(servers, pki, leaf, extra=None, key=None):
    args = ["-cert", pki.d / f"{leaf}.pem",
            "-key", pki.d / f"{key or leaf}.key"]
    if extra:
        args += ["-cert_chain", pki.d / f"{extra}.pem"]
    return servers(*args)


def test_valid_chain(chain, servers):
    port = serve(servers, chain, "leaf", "ica")
    doc = diagnose(f"https://localhost:{port}", "--trust",
                   chain.d / "root.pem")
    assert doc["ok"] and doc["code"] == "ok", doc
    assert [s["step"] for s in doc["steps"]][:4] == ["dns", "tcp", "tls",
                                                     "chain"]
    certs = doc["chains"][0]["certs"]
    assert certs[0]["subject"] == "CN=localhost"
    assert certs[1]["subject"] == "CN=Diag ICA"
    assert certs[0]["key"] == "EC P-256"
    doc = diagnose(f"https://127.0.0.1:{port}", "--trust",
                   chain.d / "root.pem")
    assert doc["ok"] and doc["name_is_ip"], doc


def test_unknown_issuer(chain, servers, pki):
    pki.cert("other", "Other Root", ca=True)
    port = serve(servers, chain, "leaf", "ica")
    doc = diagnose(f"https://localhost:{port}", "--trust",
                   pki.d / "other.pem")
    assert doc["code"] == "unknown-issuer", doc
    assert "Diag Root" in doc["findings"][0]["message"]
    assert verify("--trust", pki.d / "other.pem", "--host", "localhost",
                  pki.d / "leaf_ica.pem")["code"] == "unknown-issuer"


def test_self_signed_leaf(pki, servers):
    pki.cert("ss", "localhost", san="DNS:localhost")
    pki.cert("root", "Diag Root", ca=True)
    port = serve(servers, pki, "ss")
    doc = diagnose(f"https://localhost:{port}", "--trust",
                   pki.d / "root.pem")
    assert doc["code"] == "self-signed-untrusted", doc
    assert doc["findings"][0]["depth"] == 0
    assert verify("--trust", pki.d / "root.pem", "--host", "localhost",
                  pki.d / "ss.pem")["code"] == "self-signed-untrusted"


def test_missing_intermediate_no_aia(chain, servers):
    port = serve(servers, chain, "leaf")
    doc = diagnose(f"https://localhost:{port}", "--trust",
                   chain.d / "root.pem")
    assert doc["code"] == "missing-intermediate", doc
    assert "Diag ICA" in doc["findings"][0]["message"]
    assert "key id" in doc["findings"][0]["message"]
    assert any("AIA" in n for n in doc["notes"])
    assert verify("--trust", chain.d / "root.pem", "--host", "localhost",
                  chain.d / "leaf.pem")["code"] == "missing-intermediate"


def test_missing_issuer_no_aia_names_both_fixes(chain, servers):
    """No AIA: an untrusted root and an unsent intermediate look the same;
    the summary must not blame the name (here an IP) and the finding gives
    both fixes."""
    port = serve(servers, chain, "leaf")
    doc = diagnose(f"https://127.0.0.1:{port}", "--trust",
                   chain.d / "root.pem")
    assert doc["code"] == "missing-intermediate", doc
    step = [s for s in doc["steps"] if s["step"] == "chain"][0]
    assert not step["ok"]
    assert "127.0.0.1" not in step["text"], step
    assert "Diag ICA" in step["text"], step
    f = doc["findings"][0]
    assert "cannot be told" in f["message"], f
    assert "root" in f["message"] and "intermediate" in f["message"], f
    assert "full-chain" in f["remedy"] and "--trust" in f["remedy"], f
    cp = pkictl("diagnose", f"https://127.0.0.1:{port}", "--timeout",
                DIAG_TIMEOUT, "--trust", chain.d / "root.pem", timeout=120)
    assert cp.returncode == 1, cp.stderr
    line = [ln for ln in cp.stdout.splitlines()
            if ln.startswith("chain: FAILED")][0]
    assert "not valid for IP" not in line, cp.stdout
    assert "no path to a trust anchor" in line, cp.stdout


def test_missing_intermediate_aia(pki, servers, aia_server):
    root, base = aia_server
    pki.cert("root", "Diag Root", ca=True)
    pki.cert("ica", "Diag ICA", issuer="root", ca=True)
    (root / "ica.der").write_bytes(pki.der("ica").read_bytes())
    pki.cert("leaf", "localhost", issuer="ica", san="DNS:localhost",
             aia=f"{base}/ica.der")
    port = serve(servers, pki, "leaf")
    doc = diagnose(f"https://localhost:{port}", "--trust",
                   pki.d / "root.pem")
    assert codes(doc) == ["missing-intermediate"], doc
    assert f"{base}/ica.der" in doc["findings"][0]["message"]
    assert "Diag ICA" in doc["findings"][0]["remedy"]


def test_untrusted_issuer_told_by_aia(pki, servers, aia_server):
    root, base = aia_server
    pki.cert("root", "Diag Root", ca=True)
    pki.cert("ica", "Diag ICA", issuer="root", ca=True)
    pki.cert("other", "Other Root", ca=True)
    (root / "ica.der").write_bytes(pki.der("ica").read_bytes())
    pki.cert("leaf", "localhost", issuer="ica", san="DNS:localhost",
             aia=f"{base}/ica.der")
    port = serve(servers, pki, "leaf")
    doc = diagnose(f"https://localhost:{port}", "--trust",
                   pki.d / "other.pem")
    assert doc["code"] == "unknown-issuer", doc
    assert "Diag ICA" in doc["findings"][0]["message"]


def test_aia_fetch_fails(pki, servers, aia_server):
    _, base = aia_server
    pki.cert("root", "Diag Root", ca=True)
    pki.cert("ica", "Diag ICA", issuer="root", ca=True)
    pki.cert("leaf", "localhost", issuer="ica", san="DNS:localhost",
             aia=f"{base}/absent.der")
    port = serve(servers, pki, "leaf")
    doc = diagnose(f"https://localhost:{port}", "--trust",
                   pki.d / "root.pem")
    assert doc["code"] == "missing-intermediate", doc
    assert "AIA fetch failed" in doc["findings"][0]["message"]


def test_name_mismatch_fqdn(pki, servers):
    pki.cert("root", "Diag Root", ca=True)
    pki.cert("leaf", "other.example.test", issuer="root",
             san="DNS:other.example.test")
    port = serve(servers, pki, "leaf")
    doc = diagnose(f"https://localhost:{port}", "--trust",
                   pki.d / "root.pem")
    assert codes(doc) == ["name-mismatch"], doc
    assert "localhost" in doc["findings"][0]["message"]
    assert verify("--trust", pki.d / "root.pem", "--host", "localhost",
                  pki.d / "leaf.pem")["code"] == "name-mismatch"


@pytest.mark.parametrize("san", ["DNS:localhost", "DNS:127.0.0.1"])
def test_name_mismatch_ip(pki, servers, san):
    pki.cert("root", "Diag Root", ca=True)
    pki.cert("leaf", "127.0.0.1", issuer="root", san=san)
    port = serve(servers, pki, "leaf")
    doc = diagnose(f"https://127.0.0.1:{port}", "--trust",
                   pki.d / "root.pem")
    assert codes(doc) == ["ip-not-in-san"], doc
    assert verify("--trust", pki.d / "root.pem", "--ip", "127.0.0.1",
                  pki.d / "leaf.pem")["code"] == "ip-not-in-san"


@pytest.mark.parametrize("san,name,code", [
    ("DNS:*.example.test", "a.example.test", "ok"),
    ("DNS:*.example.test", "a.b.example.test", "name-mismatch"),
    ("DNS:*.example.test", "example.test", "name-mismatch"),
    ("DNS:w*.example.test", "www.example.test", "name-mismatch"),
    ("DNS:*.co.uk", "example.co.uk", "name-mismatch"),
])
def test_wildcards(pki, servers, san, name, code):
    pki.cert("root", "Diag Root", ca=True)
    pki.cert("leaf", "wild", issuer="root", san=san)
    port = serve(servers, pki, "leaf")
    doc = diagnose(f"https://127.0.0.1:{port}", "--sni", name, "--trust",
                   pki.d / "root.pem")
    assert doc["name"] == name
    assert doc["code"] == code, doc
    assert verify("--trust", pki.d / "root.pem", "--host", name,
                  pki.d / "leaf.pem")["code"] == code


def test_expired(pki, servers):
    pki.cert("root", "Diag Root", ca=True)
    pki.cert("leaf", "localhost", issuer="root", san="DNS:localhost",
             start=utc(datetime.timedelta(days=-30)),
             end=utc(datetime.timedelta(days=-1)))
    port = serve(servers, pki, "leaf")
    doc = diagnose(f"https://localhost:{port}", "--trust",
                   pki.d / "root.pem")
    assert codes(doc) == ["expired"], doc
    assert verify("--trust", pki.d / "root.pem", "--host", "localhost",
                  pki.d / "leaf.pem")["code"] == "expired"


def test_not_yet_valid_by_hours_is_clock(pki, servers):
    pki.cert("root", "Diag Root", ca=True)
    pki.cert("leaf", "localhost", issuer="root", san="DNS:localhost",
             start=utc(datetime.timedelta(hours=3)))
    port = serve(servers, pki, "leaf")
    doc = diagnose(f"https://localhost:{port}", "--trust",
                   pki.d / "root.pem")
    assert codes(doc) == ["not-yet-valid", "clock-skew"], doc
    assert "hour" in doc["findings"][1]["message"]
    assert verify("--trust", pki.d / "root.pem", "--host", "localhost",
                  pki.d / "leaf.pem")["code"] == "not-yet-valid"


def test_not_yet_valid_by_weeks_is_not_clock(pki, servers):
    pki.cert("root", "Diag Root", ca=True)
    pki.cert("leaf", "localhost", issuer="root", san="DNS:localhost",
             start=utc(datetime.timedelta(days=30)),
             end=utc(datetime.timedelta(days=60)))
    port = serve(servers, pki, "leaf")
    doc = diagnose(f"https://localhost:{port}", "--trust",
                   pki.d / "root.pem")
    assert codes(doc) == ["not-yet-valid"], doc


def test_dual_certificate_one_untrusted(pki, servers):
    pki.cert("root", "Diag Root", ca=True, kind="rsa")
    pki.cert("rsa", "localhost", issuer="root", san="DNS:localhost",
             kind="rsa")
    pki.cert("ec", "localhost", san="DNS:localhost")
    port = servers("-cert", pki.d / "rsa.pem", "-key", pki.d / "rsa.key",
                   "-dcert", pki.d / "ec.pem", "-dkey", pki.d / "ec.key")
    doc = diagnose(f"https://localhost:{port}", "--trust",
                   pki.d / "root.pem")
    assert doc["code"] == "chain-differs-by-algorithm", doc
    f = doc["findings"][0]
    assert "ECDSA" in f["remedy"] and "self-signed-untrusted" in \
        f["message"]
    offers = {c["offer"]: c for c in doc["chains"]}
    assert offers["rsa"]["valid"] and not offers["ecdsa"]["valid"]
    assert offers["ecdsa"]["code"] == "self-signed-untrusted"


def test_dual_certificate_both_trusted(pki, servers):
    pki.cert("root", "Diag Root", ca=True)
    pki.cert("rsa", "localhost", issuer="root", san="DNS:localhost",
             kind="rsa")
    pki.cert("ec", "localhost", issuer="root", san="DNS:localhost")
    port = servers("-cert", pki.d / "rsa.pem", "-key", pki.d / "rsa.key",
                   "-dcert", pki.d / "ec.pem", "-dkey", pki.d / "ec.key")
    doc = diagnose(f"https://localhost:{port}", "--trust",
                   pki.d / "root.pem")
    assert doc["ok"], doc
    step = [s for s in doc["steps"] if s["step"] == "sigalgs"][0]
    assert "validates" in step["text"]


def test_closed_port():
    doc = diagnose(f"https://127.0.0.1:{free_port()}")
    assert codes(doc) == ["connect-refused"], doc
    assert "127.0.0.1:" in doc["findings"][0]["message"]


def test_unresolvable_name():
    doc = diagnose("https://no-such-host.invalid")
    assert codes(doc) == ["dns-failure"], doc
    assert "no-such-host.invalid" in doc["findings"][0]["message"]


def test_old_tls_version(pki, servers):
    pki.cert("leaf", "localhost", san="DNS:localhost")
    port = servers("-cert", pki.d / "leaf.pem", "-key", pki.d / "leaf.key",
                   "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0")
    doc = diagnose(f"https://localhost:{port}")
    assert codes(doc) == ["tls-version"], doc
    assert "TLSv1" in doc["findings"][0]["message"]


def test_no_shared_cipher(pki, servers):
    pki.cert("leaf", "localhost", san="DNS:localhost")
    port = servers("-cert", pki.d / "leaf.pem", "-key", pki.d / "leaf.key",
                   "-tls1_2", "-cipher", "ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0")
    doc = diagnose(f"https://localhost:{port}")
    assert codes(doc) == ["no-shared-cipher"], doc
    assert "NULL" in doc["findings"][0]["message"]


def test_usage():
    cp = pkictl("diagnose", "http://localhost")
    assert cp.returncode == 2
    cp = pkictl("diagnose")
    assert cp.returncode == 2


def test_silent_port_times_out():
    """A listener that never speaks TLS: the handshake step times out."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        port = s.getsockname()[1]
        cp = pkictl("diagnose", f"https://127.0.0.1:{port}", "--timeout",
                    1, "--json", timeout=60)
    doc = json.loads(cp.stdout)
    assert cp.returncode == 1
    assert codes(doc) == ["connect-timeout"], doc
    assert doc["steps"][-1]["step"] == "tls"


def test_plain_http_port(aia_server):
    """Plain HTTP where TLS was expected is named as such."""
    _, base = aia_server
    doc = diagnose(base.replace("http://", "https://"))
    assert codes(doc) == ["tls-handshake"], doc
    assert "not answer with TLS" in doc["findings"][0]["message"]
