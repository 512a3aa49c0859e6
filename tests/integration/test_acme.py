"""The ACME server (issue 18, RFC 8555) against real clients: Debian's
certbot obtains (http-01, standalone), renews and revokes a certificate
whose chain openssl verify accepts, and which pkictl ca list shows;
dehydrated (webroot) does the same; lego obtains one. Bad input, with a
small JWS client made here (the cryptography package certbot depends
on): malformed JWS, replayed nonce, wrong url, unknown kid,
onlyReturnExisting, an identifier the profile forbids, a challenge
answered with the wrong key authorization, unanswered or unreachable,
finalize before the order is ready, a CSR whose names differ from the
order's, revokeCert by another account and by the certificate's key.
Each answer is application/problem+json with the RFC 8555 type and
pkid's code in the detail, and carries a fresh Replay-Nonce."""
import base64
import hashlib
import http.server
import json
import shutil
import socket
import ssl
import threading
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, padding
from cryptography.hazmat.primitives.asymmetric.utils import \
    decode_dss_signature
from cryptography.x509.oid import NameOID

from conftest import openssl, pkictl, run
from server import Pkid

NAMES = ["www.example.com", "api.example.com", "a.example.com",
         "b.example.com", "c.example.com", "d.example.com"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def acme(tmp_path):
    """A CA serving ACME for profile server; http-01 validated on a free
    port of 127.0.0.1 (the test-only [acme] keys)."""
    d = tmp_path / "ca"
    vport = free_port()
    pkictl("ca", "init", "--dir", d, "--subject",
           "CN=ACME Test CA,DC=example,DC=com",
           "--set", "acme.profiles=server",
           "--set", f"acme.validation_ports=http:{vport}",
           "--set", "acme.resolve=" +
           ",".join(f"{n}=127.0.0.1" for n in NAMES) +
           ",e.example.com=127.0.0.2", check=True)
    with Pkid(d, stderr_path=tmp_path / "log") as srv:
        srv.vport = vport
        srv.dir = d
        srv.directory = srv.url("/acme/server/directory")
        yield srv
        rc, _, err = srv.stop()
        assert rc == 0, err
        assert "Sanitizer" not in err and "runtime error" not in err, err


def certbot(srv, tmp, *args):
    env = {"REQUESTS_CA_BUNDLE": str(srv.dir / "root.pem")}
    cb = tmp / "cb"
    return run(["certbot", *args, "--config-dir", cb / "c", "--work-dir",
                cb / "w", "--logs-dir", cb / "l", "--non-interactive"],
               env=env, timeout=180)


def ca_list(srv):
    return pkictl("ca", "list", "--dir", srv.dir, check=True).stdout


def serial(pem):
    return openssl("x509", "-in", pem, "-noout", "-serial",
                   check=True).stdout.strip().split("=")[1].lower()


@pytest.mark.skipif(shutil.which("certbot") is None, reason="no certbot")
def test_certbot_obtain_renew_revoke(acme, tmp_path):
    srv = acme
    cp = certbot(srv, tmp_path, "certonly", "--standalone",
                 "--http-01-port", str(srv.vport), "--server",
                 srv.directory, "--register-unsafely-without-email",
                 "--agree-tos", "-d", "www.example.com", "-d",
                 "api.example.com")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    live = tmp_path / "cb" / "c" / "live" / "www.example.com"
    cp = openssl("verify", "-CAfile", srv.dir / "root.pem", "-untrusted",
                 live / "chain.pem", live / "cert.pem")
    assert cp.returncode == 0 and ": OK" in cp.stdout, cp.stdout + cp.stderr
    text = openssl("x509", "-in", live / "cert.pem", "-noout", "-text",
                   check=True).stdout
    assert "DNS:www.example.com" in text and "DNS:api.example.com" in text
    assert "TLS Web Server Authentication" in text, text
    first = serial(live / "cert.pem")
    assert first in ca_list(srv).replace(":", "").lower()

    # Renewal: a new certificate, recorded too.
    cp = certbot(srv, tmp_path, "renew", "--force-renewal",
                 "--no-random-sleep-on-renew")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    second = serial(live / "cert.pem")
    assert second != first
    assert openssl("verify", "-CAfile", srv.dir / "root.pem", "-untrusted",
                   live / "chain.pem", live / "cert.pem").returncode == 0

    # Revocation by the account that ordered it.
    cp = certbot(srv, tmp_path, "revoke", "--cert-path", live / "cert.pem",
                 "--server", srv.directory, "--no-delete-after-revoke",
                 "--reason", "superseded")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    rows = [r for r in ca_list(srv).splitlines() if second in r.lower()]
    assert rows and "revoked" in rows[0], ca_list(srv)


@pytest.mark.skipif(shutil.which("lego") is None, reason="no lego")
def test_lego_obtain(acme, tmp_path):
    srv = acme
    cp = run(["lego", "--server", srv.directory, "--accept-tos", "--email",
              "ops@example.com", "--domains", "c.example.com", "--http",
              "--http.port", f"127.0.0.1:{srv.vport}", "--path",
              tmp_path / "lego", "run"],
             env={"LEGO_CA_CERTIFICATES": str(srv.dir / "root.pem")},
             timeout=180)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    crt = tmp_path / "lego" / "certificates" / "c.example.com.crt"
    # lego's .crt is the leaf then the chain.
    pems = crt.read_text().split("-----END CERTIFICATE-----")
    leaf, chain = tmp_path / "leaf.pem", tmp_path / "chain.pem"
    leaf.write_text(pems[0] + "-----END CERTIFICATE-----\n")
    chain.write_text("-----END CERTIFICATE-----".join(pems[1:]))
    cp = openssl("verify", "-CAfile", srv.dir / "root.pem", "-untrusted",
                 chain, leaf)
    assert cp.returncode == 0, cp.stdout + cp.stderr


@pytest.mark.skipif(shutil.which("dehydrated") is None,
                    reason="no dehydrated")
def test_dehydrated_obtain_renew_revoke(acme, tmp_path):
    """dehydrated (curl underneath) with a webroot served here."""
    srv = acme
    www = tmp_path / "www"
    wk = www / ".well-known" / "acme-challenge"
    wk.mkdir(parents=True)
    (tmp_path / "dh").mkdir()
    conf = tmp_path / "dh.conf"
    conf.write_text(f'CA="{srv.directory}"\nCHALLENGETYPE="http-01"\n'
                    f'BASEDIR="{tmp_path}/dh"\nWELLKNOWN="{wk}"\n')

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(www), **kw)

        def log_message(self, *a):
            pass

    web = http.server.ThreadingHTTPServer(("127.0.0.1", srv.vport), Quiet)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    env = {"CURL_CA_BUNDLE": str(srv.dir / "root.pem")}
    try:
        def dh(*args):
            cp = run(["dehydrated", "-f", conf, *args], env=env,
                     timeout=180)
            assert cp.returncode == 0, cp.stdout + cp.stderr
            return cp.stdout
        dh("--register", "--accept-terms")
        dh("-c", "-d", "b.example.com")
        live = tmp_path / "dh" / "certs" / "b.example.com"
        first = serial(live / "cert.pem")
        cp = openssl("verify", "-CAfile", srv.dir / "root.pem",
                     "-untrusted", live / "chain.pem", live / "cert.pem")
        assert cp.returncode == 0, cp.stdout + cp.stderr
        dh("-c", "-d", "b.example.com", "--force")
        second = serial(live / "cert.pem")
        assert second != first
        dh("--revoke", live / "cert.pem")
        rows = [r for r in ca_list(srv).splitlines()
                if second in r.lower()]
        assert rows and "revoked" in rows[0], ca_list(srv)
    finally:
        web.shutdown()
        web.server_close()


# ---- a small ACME client for the bad-input tests -------------------------

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Client:
    def __init__(self, srv, key=None):
        self.srv = srv
        self.key = key or ec.generate_private_key(ec.SECP256R1())
        self.kid = None
        self.ctx = ssl.create_default_context(
            cafile=str(srv.dir / "root.pem"))
        self.dir = json.loads(self.raw("GET", srv.directory)[2])
        self.nonce = None

    def raw(self, method, url, body=None, ctype="application/jose+json"):
        req = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": ctype})
        try:
            with urllib.request.urlopen(req, context=self.ctx,
                                        timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    def jwk(self):
        if isinstance(self.key, rsa.RSAPrivateKey):
            n = self.key.public_key().public_numbers()
            return {"e": b64u(n.e.to_bytes(3, "big")), "kty": "RSA",
                    "n": b64u(n.n.to_bytes(256, "big"))}
        n = self.key.public_key().public_numbers()
        return {"crv": "P-256", "kty": "EC",
                "x": b64u(n.x.to_bytes(32, "big")),
                "y": b64u(n.y.to_bytes(32, "big"))}

    def thumb(self):
        j = json.dumps(self.jwk(), sort_keys=True, separators=(",", ":"))
        return b64u(hashlib.sha256(j.encode()).digest())

    def get_nonce(self):
        st, h, _ = self.raw("HEAD", self.dir["newNonce"])
        assert st == 200 and h["Replay-Nonce"], st
        return h["Replay-Nonce"]

    def jws(self, url, payload, nonce=None, use_jwk=None, sign_url=None):
        prot = {"alg": "ES256" if isinstance(self.key,
                ec.EllipticCurvePrivateKey) else "RS256",
                "nonce": nonce or self.nonce or self.get_nonce(),
                "url": sign_url or url}
        if use_jwk or (use_jwk is None and self.kid is None):
            prot["jwk"] = self.jwk()
        else:
            prot["kid"] = self.kid
        p = b64u(json.dumps(prot).encode())
        pl = "" if payload is None else b64u(json.dumps(payload).encode())
        data = f"{p}.{pl}".encode()
        if isinstance(self.key, rsa.RSAPrivateKey):
            sig = self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        else:
            r, s = decode_dss_signature(
                self.key.sign(data, ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return json.dumps({"protected": p, "payload": pl,
                           "signature": b64u(sig)}).encode()

    def post(self, url, payload, **kw):
        st, h, body = self.raw("POST", url, self.jws(url, payload, **kw))
        self.nonce = h.get("Replay-Nonce")
        ctype = h.get("Content-Type", "")
        doc = json.loads(body) if "json" in ctype else body
        return st, h, doc

    def register(self):
        st, h, doc = self.post(self.dir["newAccount"],
                               {"termsOfServiceAgreed": True})
        assert st == 201, (st, doc)
        self.kid = h["Location"]
        return doc


def problem(resp, st, type_, code):
    status, h, doc = resp
    assert status == st, (status, doc)
    assert h["Content-Type"] == "application/problem+json", h
    assert doc["type"] == "urn:ietf:params:acme:error:" + type_, doc
    assert doc["detail"].startswith(code + ":"), doc
    assert "fix:" in doc["detail"], doc
    assert h.get("Replay-Nonce"), "a problem carries a fresh nonce"


class Http01(http.server.BaseHTTPRequestHandler):
    answers = {}

    def do_GET(self):
        tok = self.path.rsplit("/", 1)[-1]
        body = self.answers.get(tok, "").encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture
def http01(acme):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", acme.vport), Http01)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    Http01.answers = {}
    yield Http01.answers
    srv.shutdown()
    srv.server_close()


def make_csr(names, cn=None, key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    b = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else []))
    b = b.add_extension(x509.SubjectAlternativeName(
        [x509.DNSName(n) for n in names]), critical=False)
    return b64u(b.sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.DER))


def order(c, names):
    st, h, doc = c.post(c.dir["newOrder"], {"identifiers": [
        {"type": "dns", "value": n} for n in names]})
    assert st == 201, (st, doc)
    return h["Location"], doc


def test_jws_nonce_url_account(acme):
    c = Client(acme)
    # Not a JWS at all.
    st, h, body = c.raw("POST", c.dir["newAccount"], b"{}")
    problem((st, h, json.loads(body)), 400, "malformed", "acme-malformed")
    st, h, body = c.raw("POST", c.dir["newAccount"], b"\x00" * 10)
    problem((st, h, json.loads(body)), 400, "malformed", "acme-malformed")
    # Padded base64 is not base64url.
    body = json.loads(c.jws(c.dir["newAccount"], {}))
    body["protected"] += "=="
    st, h, b = c.raw("POST", c.dir["newAccount"], json.dumps(body).encode())
    problem((st, h, json.loads(b)), 400, "malformed", "acme-malformed")
    # alg none is refused.
    prot = b64u(json.dumps({"alg": "none", "nonce": c.get_nonce(),
                            "url": c.dir["newAccount"],
                            "jwk": c.jwk()}).encode())
    st, h, b = c.raw("POST", c.dir["newAccount"], json.dumps(
        {"protected": prot, "payload": "", "signature": "AA"}).encode())
    problem((st, h, json.loads(b)), 400, "malformed", "acme-malformed")
    # A signature by another key.
    other = Client(acme)
    data = json.loads(c.jws(c.dir["newAccount"], {}))
    data["signature"] = json.loads(other.jws(c.dir["newAccount"],
                                             {}))["signature"]
    st, h, b = c.raw("POST", c.dir["newAccount"], json.dumps(data).encode())
    problem((st, h, json.loads(b)), 403, "unauthorized", "acme-unauthorized")

    # onlyReturnExisting for a key never registered.
    problem(c.post(c.dir["newAccount"], {"onlyReturnExisting": True}), 400,
            "accountDoesNotExist", "acme-unauthorized")
    acct = c.register()
    assert acct["status"] == "valid"
    st, h, _ = c.post(c.dir["newAccount"], {"onlyReturnExisting": True},
                      use_jwk=True)
    assert st == 200 and h["Location"] == c.kid

    # A nonce is good once.
    n = c.get_nonce()
    st, _, _ = c.post(c.kid, None, nonce=n)
    assert st == 200
    problem(c.post(c.kid, None, nonce=n), 400, "badNonce", "acme-bad-nonce")
    problem(c.post(c.kid, None, nonce="AAAAAAAAAAAAAAAAAAAAAA"), 400,
            "badNonce", "acme-bad-nonce")
    # The url header must be the URL requested.
    problem(c.post(c.kid, None, sign_url=c.dir["newOrder"]), 403,
            "unauthorized", "acme-unauthorized")
    # An unknown kid.
    c2 = Client(acme)
    c2.kid = c.kid.rsplit("/", 1)[0] + "/AAAAAAAAAAAAAAAAAAAAAA"
    problem(c2.post(c2.dir["newOrder"], {"identifiers": [
        {"type": "dns", "value": "a.example.com"}]}), 400,
        "accountDoesNotExist", "acme-unauthorized")
    # GET of a resource is not how ACME reads it.
    st, _, _ = c.raw("GET", c.kid)
    assert st == 405
    # A profile ACME does not serve.
    st, _, _ = c.raw("GET", acme.url("/acme/device/directory"))
    assert st == 404


def test_rsa_account(acme):
    c = Client(acme, key=rsa.generate_private_key(65537, 2048))
    c.register()
    st, _, doc = c.post(c.kid, None)
    assert st == 200 and doc["status"] == "valid", doc


def test_order_policy_validation_finalize(acme, http01, tmp_path):
    c = Client(acme)
    c.register()
    # A name outside the profile's san_dns_suffixes.
    problem(c.post(c.dir["newOrder"], {"identifiers": [
        {"type": "dns", "value": "www.example.net"}]}), 400,
        "rejectedIdentifier", "san-not-allowed")
    problem(c.post(c.dir["newOrder"], {"identifiers": [
        {"type": "ip", "value": "127.0.0.1"}]}), 400,
        "unsupportedIdentifier", "san-not-allowed")
    problem(c.post(c.dir["newOrder"], {"nothing": 1}), 400, "malformed",
            "acme-malformed")

    # The wrong key authorization: the challenge and order are invalid.
    loc, o = order(c, ["a.example.com"])
    st, _, az = c.post(o["authorizations"][0], None)
    assert st == 200 and az["status"] == "pending", az
    ch = az["challenges"][0]
    assert ch["type"] == "http-01"
    http01[ch["token"]] = ch["token"] + ".wrongthumbprint"
    st, _, ch2 = c.post(ch["url"], {})
    assert st == 200 and ch2["status"] == "invalid", ch2
    assert "acme-validation-failed" in ch2["error"]["detail"], ch2
    assert ch2["error"]["type"].endswith(":incorrectResponse"), ch2
    st, _, o = c.post(loc, None)
    assert o["status"] == "invalid", o
    problem(c.post(o["finalize"], {"csr": make_csr(["a.example.com"])}),
            403, "orderNotReady", "acme-order-not-ready")

    # Nothing listening for a name: invalid too.
    loc, o = order(c, ["b.example.com"])
    _, _, az = c.post(o["authorizations"][0], None)
    st, _, ch = c.post(az["challenges"][0]["url"], {})
    assert ch["status"] == "invalid", ch
    assert ch["error"]["type"].endswith(":incorrectResponse"), ch

    # An address where nothing listens: connection.
    loc, o = order(c, ["e.example.com"])
    _, _, az = c.post(o["authorizations"][0], None)
    st, _, ch = c.post(az["challenges"][0]["url"], {})
    assert ch["status"] == "invalid", ch
    assert ch["error"]["type"] == "urn:ietf:params:acme:error:connection", ch
    assert "connect" in ch["error"]["detail"], ch

    # Finalize before validation: orderNotReady.
    loc, o = order(c, ["d.example.com", "www.example.com"])
    problem(c.post(o["finalize"], {"csr": make_csr(["d.example.com"])}),
            403, "orderNotReady", "acme-order-not-ready")
    for a in o["authorizations"]:
        _, _, az = c.post(a, None)
        ch = az["challenges"][0]
        http01[ch["token"]] = ch["token"] + "." + c.thumb()
        st, _, ch2 = c.post(ch["url"], {})
        assert st == 200 and ch2["status"] == "valid", ch2
    st, _, o = c.post(loc, None)
    assert o["status"] == "ready", o
    # A CSR whose names differ from the order: badCSR, order still ready.
    problem(c.post(o["finalize"], {"csr": make_csr(["d.example.com"])}),
            400, "badCSR", "acme-csr-mismatch")
    problem(c.post(o["finalize"], {"csr": make_csr(
        ["d.example.com", "www.example.com", "c.example.com"])}),
        400, "badCSR", "acme-csr-mismatch")
    problem(c.post(o["finalize"], {"csr": make_csr(
        ["d.example.com", "www.example.com"], cn="other.example.com")}),
        400, "badCSR", "acme-csr-mismatch")
    problem(c.post(o["finalize"], {"csr": b64u(b"\x30\x03\x02\x01\x00")}),
            400, "badCSR", "csr-malformed")
    # Another account cannot read or finalize the order.
    other = Client(acme)
    other.register()
    problem(other.post(loc, None), 404, "malformed", "not-found")
    # The right CSR: valid, and the chain verifies.
    ckey = ec.generate_private_key(ec.SECP256R1())
    st, _, o = c.post(o["finalize"], {"csr": make_csr(
        ["www.example.com", "d.example.com"], cn="d.example.com",
        key=ckey)})
    assert st == 200 and o["status"] == "valid", o
    st, h, pem = c.post(o["certificate"], None)
    assert st == 200, pem
    assert h["Content-Type"] == "application/pem-certificate-chain"
    end = b"-----END CERTIFICATE-----\n"
    certs = [x509.load_pem_x509_certificate(p + end)
             for p in pem.split(end) if p.strip()]
    assert len(certs) == 2
    san = certs[0].extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert sorted(san) == ["d.example.com", "www.example.com"]
    leaf, chain = tmp_path / "leaf.pem", tmp_path / "chain.pem"
    leaf.write_bytes(certs[0].public_bytes(serialization.Encoding.PEM))
    chain.write_bytes(certs[1].public_bytes(serialization.Encoding.PEM))
    cp = openssl("verify", "-CAfile", acme.dir / "root.pem", "-untrusted",
                 chain, leaf)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    # A second finalize of a valid order.
    problem(c.post(o["finalize"], {"csr": make_csr(
        ["www.example.com", "d.example.com"])}), 403, "orderNotReady",
        "acme-order-not-ready")

    # revokeCert: not by another account; by the certificate's own key
    # (RFC 8555 7.6); then it is already revoked.
    der = b64u(certs[0].public_bytes(serialization.Encoding.DER))
    problem(other.post(other.dir["revokeCert"], {"certificate": der}),
            403, "unauthorized", "acme-unauthorized")
    bykey = Client(acme, key=ckey)
    st, _, _ = bykey.post(bykey.dir["revokeCert"], {"certificate": der,
                                                    "reason": 1},
                          use_jwk=True)
    assert st == 200
    sn = format(certs[0].serial_number, "x")
    rows = [r for r in pkictl("ca", "list", "--dir", acme.dir,
                              check=True).stdout.splitlines()
            if sn in r.lower().replace(":", "")]
    assert rows and "revoked" in rows[0], rows
    problem(c.post(c.dir["revokeCert"], {"certificate": der}), 400,
            "alreadyRevoked", "already-revoked")
