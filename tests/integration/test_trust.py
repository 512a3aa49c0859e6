"""Signed trust bundles and trust stores (README "Trust bundles",
docs/trust-bundle.md): pkictl trust bundle create, pkid's
/trust/bundle.p7b, pkictl trust import by file and URL, once and on a
schedule, the rollback and signature refusals, a trust store holding two
CAs of one name, verify/diagnose --store, the export read by openssl
verify -CApath, and a CA rollover followed by an import without a
person. Every refusal leaves the store's files as they were."""
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import binary, error_code, make_csr, openssl, pkictl, run
from server import Pkid

EKU = "2.25.80242047988126964477632393078058325639.2"
DAY = 86400


def wait_for(pred, what, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def snapshot(store):
    """Every file of a store but status.json (the import log), with its
    bytes: what a refusal must leave untouched."""
    out = {}
    for p in sorted(Path(store).rglob("*")):
        if p.is_file() and p.name != "status.json":
            out[str(p.relative_to(store))] = p.read_bytes()
    return out


def status(store):
    cp = pkictl("trust", "status", "--store", store, "--json", check=True)
    return json.loads(cp.stdout)


def anchors(store):
    cp = pkictl("trust", "list", "--store", store, "--json", check=True)
    return json.loads(cp.stdout)


def self_signed_ca(tmp, name, cn, days=3650):
    key, crt = tmp / f"{name}.key", tmp / f"{name}.pem"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj",
            f"/CN={cn}", "-days", days, "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext",
            "keyUsage=critical,keyCertSign,cRLSign", "-out", crt,
            check=True)
    return crt, key


def issued(tmp, name, ca, ca_key, ext, days=365, cn=None):
    """A certificate from ca for a new key, with the extensions ext."""
    key, csr, crt = tmp / f"{name}.key", tmp / f"{name}.csr", \
        tmp / f"{name}.pem"
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj",
            f"/CN={cn or name}", "-out", csr, check=True)
    (tmp / f"{name}.ext").write_text(ext)
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
            "-CAcreateserial", "-days", days, "-extfile",
            tmp / f"{name}.ext", "-out", crt, check=True)
    return crt, key


SIGNER_EXT = ("basicConstraints=critical,CA:FALSE\n"
              "keyUsage=critical,digitalSignature\n"
              f"extendedKeyUsage={EKU}\n")


@pytest.fixture
def pub(tmp_path):
    """A bundle publisher: an anchor, a bundle signer under it, and two
    self-signed CAs that share one name (a renewed root)."""
    class P:
        pass
    p = P()
    p.tmp = tmp_path
    p.anchor, p.anchor_key = self_signed_ca(tmp_path, "anchor",
                                            "Publisher Anchor")
    p.signer, p.signer_key = issued(tmp_path, "signer", p.anchor,
                                    p.anchor_key, SIGNER_EXT)
    p.same1, p.same1_key = self_signed_ca(tmp_path, "same1", "Same Root")
    p.same2, p.same2_key = self_signed_ca(tmp_path, "same2", "Same Root")
    p.store = tmp_path / "store"
    return p


def create(p, serial, out, *certs, sign=None, check=False):
    cert, key = sign or (p.signer, p.signer_key)
    return pkictl("trust", "bundle", "create", "--sign-cert", cert,
                  "--sign-key", key, "--serial", serial, "--out", out,
                  *certs, check=check)


def imp(store, anchor, source, *extra, env=None, check=False):
    return pkictl("trust", "import", "--store", store, "--anchor", anchor,
                  *extra, source, env=env, check=check)


def test_same_name_cas_coexist_and_verify(pub, tmp_path):
    """Two CAs with one CN are two anchors (keyed by SHA-256 and SKI);
    each verifies its own leaf with verify --store, and the pem-dir
    export gives openssl the hash links .0 and .1 of that one name."""
    b = tmp_path / "b.p7b"
    cp = create(pub, 7, b, pub.same1, pub.same2)
    assert cp.returncode == 0, cp.stderr
    # The documented inspection: openssl checks the signature and chain.
    content = tmp_path / "content.der"
    cp = openssl("cms", "-verify", "-inform", "DER", "-in", b, "-CAfile",
                 pub.anchor, "-purpose", "any", "-binary", "-out", content)
    assert cp.returncode == 0, cp.stderr
    assert "1.2.840.113549.1.9.16.1.34" in openssl(
        "cms", "-cmsout", "-print", "-inform", "DER", "-in", b,
        check=True).stdout
    cp = imp(pub.store, pub.anchor, b)
    assert cp.returncode == 0, cp.stderr
    assert "attempted 2, installed 2, duplicates 0, expired 0, failed 0" \
        in cp.stdout
    listed = anchors(pub.store)
    assert [a["subject"] for a in listed] == ["CN=Same Root"] * 2
    assert listed[0]["ski"] != listed[1]["ski"]
    assert listed[0]["sha256"] != listed[1]["sha256"]
    for i, (ca, key) in enumerate(((pub.same1, pub.same1_key),
                                   (pub.same2, pub.same2_key))):
        leaf, _ = issued(tmp_path, f"leaf{i}", ca, key,
                         "basicConstraints=critical,CA:FALSE\n"
                         "subjectAltName=DNS:leaf.example.com\n",
                         cn="leaf.example.com")
        cp = pkictl("verify", "--store", pub.store, "--purpose", "any",
                    leaf)
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert "Same Root" in cp.stdout
    out = tmp_path / "pemdir"
    pkictl("trust", "export", "--store", pub.store, "--format", "pem-dir",
           "--out", out, check=True)
    names = sorted(os.listdir(out))
    links = [n for n in names if not n.endswith(".pem")]
    assert len(links) == 2 and links[0][:9] == links[1][:9] and \
        {n[-2:] for n in links} == {".0", ".1"}, names
    for i in range(2):
        openssl("verify", "-CApath", out, tmp_path / f"leaf{i}.pem",
                check=True)
    # Exported again over the earlier export: swapped in whole.
    pkictl("trust", "export", "--store", pub.store, "--format", "pem-dir",
           "--out", out, check=True)
    assert sorted(os.listdir(out)) == names
    bundle_pem, p7b = tmp_path / "all.pem", tmp_path / "all.p7b"
    pkictl("trust", "export", "--store", pub.store, "--format",
           "pem-bundle", "--out", bundle_pem, check=True)
    assert bundle_pem.read_text().count("BEGIN CERTIFICATE") == 2
    pkictl("trust", "export", "--store", pub.store, "--format", "p7b",
           "--out", p7b, check=True)
    text = openssl("pkcs7", "-inform", "DER", "-in", p7b, "-print_certs",
                   check=True).stdout
    assert text.count("subject=CN = Same Root") == 2, text
    cp = pkictl("verify", "--trust", bundle_pem,
                "--purpose", "any", tmp_path / "leaf1.pem")
    assert cp.returncode == 0, cp.stderr
    # Removal by SKI, then by fingerprint.
    pkictl("trust", "remove", "--store", pub.store, listed[0]["ski"],
           check=True)
    pkictl("trust", "remove", "--store", pub.store, listed[1]["sha256"],
           check=True)
    assert anchors(pub.store) == []
    assert not list((pub.store / "anchors").iterdir())


def test_rollback_and_tampering_refused(pub, tmp_path):
    """An older serial, the same serial with other contents, and a bundle
    with one byte changed are refused; the store stays byte-identical."""
    new, old, same = (tmp_path / n for n in ("new.p7b", "old.p7b",
                                              "same.p7b"))
    create(pub, 5, new, pub.same1, check=True)
    create(pub, 4, old, pub.same1, pub.same2, check=True)
    create(pub, 5, same, pub.same2, check=True)
    imp(pub.store, pub.anchor, new, check=True)
    before = snapshot(pub.store)
    for b in (old, same):
        cp = imp(pub.store, pub.anchor, b)
        assert cp.returncode == 1 and error_code(cp) == "bundle-rollback", \
            cp.stderr
        assert snapshot(pub.store) == before
    st = status(pub.store)
    assert st["result"] == "failed" and st["code"] == "bundle-rollback"
    # The same bundle again: nothing to do.
    cp = imp(pub.store, pub.anchor, new, check=True)
    assert "nothing to do" in cp.stdout and snapshot(pub.store) == before
    data = bytearray(new.read_bytes())
    tampered = tmp_path / "tampered.p7b"
    for off in (len(data) // 3, len(data) // 2):
        d = bytearray(data)
        d[off] ^= 0x01
        tampered.write_bytes(bytes(d))
        cp = imp(pub.store, pub.anchor, tampered)
        assert cp.returncode == 1 and error_code(cp) in (
            "bundle-bad-signature", "bundle-malformed",
            "bundle-signer-untrusted"), cp.stderr
        assert snapshot(pub.store) == before
    # A byte inside the content: the signature no longer verifies.
    content = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER",
                              "-in", str(new), "-noverify", "-binary"],
                             capture_output=True).stdout
    i = bytes(data).find(content[40:80])
    assert i > 0
    d = bytearray(data)
    d[i] ^= 0x01
    tampered.write_bytes(bytes(d))
    cp = imp(pub.store, pub.anchor, tampered)
    assert error_code(cp) == "bundle-bad-signature", cp.stderr
    assert snapshot(pub.store) == before


def test_bad_bundles_refused(pub, tmp_path):
    """Each malformed or unauthorised bundle has its own code and leaves
    the store byte-identical; the statistics name the refused anchor."""
    good = tmp_path / "good.p7b"
    create(pub, 1, good, pub.same1, check=True)
    imp(pub.store, pub.anchor, good, check=True)
    before = snapshot(pub.store)
    cases = []
    trunc = tmp_path / "trunc.p7b"
    trunc.write_bytes(good.read_bytes()[:200])
    cases.append(("bundle-malformed", trunc))
    pem = tmp_path / "pem.p7b"
    pem.write_text(pub.same1.read_text())
    cases.append(("bundle-malformed", pem))
    big = tmp_path / "big.p7b"
    big.write_bytes(b"\x30" * (4 * 1024 * 1024 + 1))
    cases.append(("too-large", big))
    # A signer under another anchor.
    other, other_key = self_signed_ca(tmp_path, "other", "Other Anchor")
    osig, osig_key = issued(tmp_path, "osig", other, other_key, SIGNER_EXT)
    unknown = tmp_path / "unknown.p7b"
    create(pub, 2, unknown, pub.same2, sign=(osig, osig_key), check=True)
    cases.append(("bundle-signer-untrusted", unknown))
    # A signer whose EKU is TLS only (create refuses to make it).
    tls, tls_key = issued(tmp_path, "tlssig", pub.anchor, pub.anchor_key,
                          "basicConstraints=critical,CA:FALSE\n"
                          "extendedKeyUsage=serverAuth\n")
    cp = create(pub, 2, tmp_path / "x.p7b", pub.same2, sign=(tls, tls_key))
    assert error_code(cp) == "bundle-signer-eku", cp.stderr
    eku = tmp_path / "eku.p7b"
    run([binary("bundle_forge"), tls, tls_key, "2", eku, pub.same2],
        check=True)
    cases.append(("bundle-signer-eku", eku))
    # A leaf among the anchors (create refuses to make it).
    leaf, _ = issued(tmp_path, "leaf", pub.same1, pub.same1_key,
                     "basicConstraints=critical,CA:FALSE\n")
    cp = create(pub, 2, tmp_path / "y.p7b", leaf)
    assert error_code(cp) == "bundle-not-ca", cp.stderr
    notca = tmp_path / "notca.p7b"
    run([binary("bundle_forge"), pub.signer, pub.signer_key, "2", notca,
         pub.same2, leaf], check=True)
    cases.append(("bundle-not-ca", notca))
    for code, bundle in cases:
        cp = imp(pub.store, pub.anchor, bundle)
        assert cp.returncode == 1 and error_code(cp) == code, \
            (code, cp.stdout, cp.stderr)
        assert snapshot(pub.store) == before, code
        assert status(pub.store)["code"] == code
    cp = imp(pub.store, pub.anchor, notca)
    assert "attempted 2, installed 0, duplicates 0, expired 0, failed 1" \
        in cp.stdout, cp.stdout
    assert "failed        CN=leaf" in cp.stdout and "not a CA" in cp.stdout
    assert "not-installed CN=Same Root" in cp.stdout
    # A signer whose certificate ended: expired (the import's clock is
    # moved two days on; the signer lived one).
    short, short_key = issued(tmp_path, "short", pub.anchor,
                              pub.anchor_key, SIGNER_EXT, days=1)
    late = tmp_path / "late.p7b"
    create(pub, 9, late, pub.same2, sign=(short, short_key), check=True)
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                          time.gmtime(time.time() + 2 * DAY))
    cp = imp(pub.store, pub.anchor, late, env={"PKID_NOW": later})
    assert error_code(cp) == "expired" and "bundle signer" in cp.stderr, \
        cp.stderr
    assert snapshot(pub.store) == before


def test_expired_anchor_skipped_and_counted(pub, tmp_path):
    """An anchor past its notAfter is skipped and counted; the rest of
    the bundle installs."""
    brief, _ = self_signed_ca(tmp_path, "brief", "Brief Root", days=1)
    b = tmp_path / "b.p7b"
    create(pub, 3, b, pub.same1, brief, pub.same1, check=True)
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                          time.gmtime(time.time() + 2 * DAY))
    cp = imp(pub.store, pub.anchor, b, "--json", env={"PKID_NOW": later})
    doc = json.loads(cp.stdout)
    assert cp.returncode == 0 and doc["ok"], cp.stdout
    assert (doc["attempted"], doc["installed"], doc["duplicates"],
            doc["expired"], doc["failed"]) == (3, 1, 1, 1, 0)
    exp = [c for c in doc["certificates"] if c["verdict"] == "expired"]
    assert exp[0]["subject"] == "CN=Brief Root" and \
        exp[0]["code"] == "expired"


class Redirector(http.server.BaseHTTPRequestHandler):
    """/loop redirects to itself; /to redirects to the target."""
    target = ""

    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", "/loop" if self.path == "/loop" else
                         Redirector.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def redirector():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_served_bundle_and_import_by_url(ca, tmp_path, redirector):
    """pkid serves its signed bundle on HTTPS and plain HTTP with an ETag
    (304 for If-None-Match); imports by http and https URL, through a
    redirect; a 404, a redirect loop, TLS on the plain port and a server
    that is down are each refused with their code, the store untouched."""
    store = tmp_path / "store"
    root = ca / "root.pem"
    with Pkid(ca) as srv:
        st, hd, body = srv.get("/trust/bundle.p7b", tls=False)
        assert st == 200 and hd["Content-Type"] == "application/pkcs7-mime"
        etag = hd["ETag"]
        st2, hd2, body2 = srv.get("/trust/bundle.p7b", tls=True)
        assert st2 == 200 and body2 == body and hd2["ETag"] == etag
        cp = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                  "-H", f"If-None-Match: {etag}",
                  srv.url("/trust/bundle.p7b", tls=False)], check=True)
        assert cp.stdout == "304"
        f = tmp_path / "served.p7b"
        f.write_bytes(body)
        shown = json.loads(pkictl("trust", "bundle", "show", "--anchor",
                                  root, "--json", f, check=True).stdout)
        assert shown["authenticated"] and \
            str(shown["serial"]) == hd["X-Pkid-Bundle-Serial"]
        assert [a["subject"] for a in shown["anchors"]] == \
            ["CN=pkid Demo CA Root CA"]
        cp = imp(store, root, srv.url("/trust/bundle.p7b", tls=False))
        assert cp.returncode == 0 and "installed 1" in cp.stdout, cp.stderr
        cp = imp(store, root, srv.url("/trust/bundle.p7b", tls=True))
        assert cp.returncode == 0 and "nothing to do" in cp.stdout, \
            cp.stderr
        Redirector.target = srv.url("/trust/bundle.p7b", tls=False)
        rport = redirector.server_address[1]
        cp = imp(store, root, f"http://127.0.0.1:{rport}/to")
        assert cp.returncode == 0, cp.stderr
        before = snapshot(store)
        bad = {
            "http-status": srv.url("/trust/missing.p7b", tls=False),
            "redirect-loop": f"http://127.0.0.1:{rport}/loop",
            "tls-handshake": f"https://127.0.0.1:{srv.http_port}"
                             "/trust/bundle.p7b",
            "connect-refused": f"http://127.0.0.1:{free_port()}"
                               "/trust/bundle.p7b",
        }
        for code, url in bad.items():
            cp = imp(store, root, url, "--timeout", "5")
            assert cp.returncode == 1 and error_code(cp) == code, \
                (code, cp.stderr)
            assert snapshot(store) == before
        doc = status(store)
        assert doc["result"] == "failed" and doc["failures"] == 1 and \
            doc["code"] == "connect-refused"
    # The server's certificate is checked for https: another anchor fails.
    other = tmp_path / "other"
    pkictl("ca", "init", "--dir", other, "--subject", "CN=Other CA",
           check=True)
    with Pkid(ca) as srv:
        cp = imp(tmp_path / "s2", other / "root.pem",
                 srv.url("/trust/bundle.p7b", tls=True))
        assert error_code(cp) == "unknown-issuer", cp.stderr


def test_signer_made_at_first_need(tmp_path):
    """A CA directory from before bundles (no signer) gets one when pkid
    starts: issued by the root, with the bundle-signing EKU."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    shutil.rmtree(d / "trust")
    (d / "keys" / "bundle.key").unlink()
    with Pkid(d) as srv:
        st, _, _ = srv.get("/trust/bundle.p7b", tls=False)
        assert st == 200
    text = openssl("x509", "-in", d / "trust" / "bundle-signer.pem",
                   "-noout", "-text", check=True).stdout
    assert EKU in text and "Digital Signature" in text
    openssl("verify", "-CAfile", d / "root.pem", "-purpose", "any",
            d / "trust" / "bundle-signer.pem", check=True)
    assert oct((d / "keys" / "bundle.key").stat().st_mode)[-3:] == "600"


def test_auto_import_with_server_down(ca, tmp_path):
    """--every against a server that is down: the failure, its code and
    the next attempt are in trust status; SIGTERM ends the loop."""
    store = tmp_path / "store"
    url = f"http://127.0.0.1:{free_port()}/trust/bundle.p7b"
    cp = imp(store, ca / "root.pem", url)
    assert error_code(cp) == "connect-refused"
    one = status(store)
    assert one["result"] == "failed" and one["next_attempt"] is None
    proc = subprocess.Popen([binary("pkictl"), "trust", "import", "--store",
                             str(store), "--anchor", str(ca / "root.pem"),
                             "--every", "24h", url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_for(lambda: status(store)["failures"] == 2,
                 "the scheduled attempt")
        doc = status(store)
        assert doc["code"] == "connect-refused" and doc["result"] == "failed"
        assert doc["next_attempt"] > doc["last_attempt"]
        text = pkictl("trust", "status", "--store", store,
                      check=True).stdout
        assert "next attempt: " + doc["next_attempt"] in text
        assert "connect-refused" in text
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "next attempt:" in out and "connect-refused" in err


def test_rollover_followed_without_a_person(tmp_path):
    """A root that rolls over: the published bundle then carries the new
    root (the serial grows, the ETag changes), and a scheduled import
    pinned to the old root installs it on its own."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--root-only", check=True)
    old_root = tmp_path / "old-root.pem"
    shutil.copy(d / "root.pem", old_root)
    store = tmp_path / "store"
    with Pkid(d, stderr_path=tmp_path / "pkid.err") as srv:
        url = srv.url("/trust/bundle.p7b", tls=False)
        _, hd1, _ = srv.get("/trust/bundle.p7b", tls=False)
        proc = subprocess.Popen([binary("pkictl"), "trust", "import",
                                 "--store", str(store), "--anchor",
                                 str(old_root), "--every", "1s", url],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: (store / "state.json").exists() and
                     len(anchors(store)) == 1, "the first import")
            pkictl("ca", "rollover", "--dir", d, "--now", check=True)
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: srv.get("/trust/bundle.p7b", tls=False)[1]
                     ["ETag"] != hd1["ETag"], "a new bundle")
            _, hd2, _ = srv.get("/trust/bundle.p7b", tls=False)
            assert int(hd2["X-Pkid-Bundle-Serial"]) > \
                int(hd1["X-Pkid-Bundle-Serial"])
            wait_for(lambda: len(anchors(store)) == 2,
                     "the new root in the store")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
    fps = {a["sha256"] for a in anchors(store)}
    new_fp = openssl("x509", "-in", d / "root.pem", "-noout",
                     "-fingerprint", "-sha256", check=True).stdout
    assert new_fp.split("=")[1].strip().replace(":", "").lower() in fps
    assert status(store)["serial"] == int(hd2["X-Pkid-Bundle-Serial"])
    # A leaf of the new root verifies with the store alone.
    csr = make_csr(tmp_path, name="n", subject="/CN=n.example.com",
                   san="DNS:n.example.com")
    leaf = tmp_path / "n.pem"
    pkictl("ca", "issue", "--dir", d, "--csr", csr, "--out", leaf,
           check=True)
    cp = pkictl("verify", "--store", store, "--purpose", "any", leaf)
    assert cp.returncode == 0, cp.stdout + cp.stderr


def test_diagnose_names_the_bundle_import(ca, tmp_path):
    """diagnose --store: an unknown issuer that the server's published
    bundle lists gets a remedy naming the import; one it does not list
    gets no such claim."""
    empty = tmp_path / "empty"
    empty.mkdir()
    with Pkid(ca) as srv:
        burl = srv.url("/trust/bundle.p7b", tls=False)
        cp = pkictl("diagnose", f"https://localhost:{srv.tls_port}",
                    "--store", empty, "--bundle", burl, "--bundle-anchor",
                    ca / "root.pem", "--json")
        doc = json.loads(cp.stdout)
        f = [x for x in doc["findings"] if x["code"] == "unknown-issuer"]
        assert f, doc["findings"]
        assert "is in the trust bundle" in f[0]["remedy"] and \
            f"pkictl trust import --store {empty}" in f[0]["remedy"] and \
            burl in f[0]["remedy"], f[0]["remedy"]
        cp = pkictl("diagnose", f"https://localhost:{srv.tls_port}",
                    "--store", empty)
        assert "does not hold the issuer" in cp.stderr, cp.stderr
        other = tmp_path / "other"
        pkictl("ca", "init", "--dir", other, check=True)
        ob = tmp_path / "other.p7b"
        pkictl("trust", "bundle", "create", "--sign-cert",
               other / "trust" / "bundle-signer.pem", "--sign-key",
               other / "keys" / "bundle.key", "--serial", 1, "--out", ob,
               other / "root.pem", check=True)
        cp = pkictl("diagnose", f"https://localhost:{srv.tls_port}",
                    "--store", empty, "--bundle", ob)
        assert "is in the trust bundle" not in cp.stderr
        assert "does not list the issuer" in cp.stdout, cp.stdout
        # Once imported, the same diagnosis passes the chain.
        imp(empty, ca / "root.pem", burl, check=True)
        cp = pkictl("diagnose", f"https://localhost:{srv.tls_port}",
                    "--store", empty, "--json")
        doc = json.loads(cp.stdout)
        assert doc["chains"][0]["valid"], doc


def test_extra_anchors(tmp_path):
    """[trust] extra_anchors: its CAs are published beside the CA's root;
    a certificate there that is not a CA stops pkid --check."""
    extra, extra_key = self_signed_ca(tmp_path, "extra", "Partner Root")
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set",
           "trust.extra_anchors=partner.pem", check=True)
    shutil.copy(extra, d / "partner.pem")
    assert "extra_anchors = partner.pem" in (d / "pkid.conf").read_text()
    with Pkid(d) as srv:
        _, _, body = srv.get("/trust/bundle.p7b", tls=False)
    f = tmp_path / "b.p7b"
    f.write_bytes(body)
    shown = json.loads(pkictl("trust", "bundle", "show", "--anchor",
                              d / "root.pem", "--json", f,
                              check=True).stdout)
    assert sorted(a["subject"] for a in shown["anchors"]) == \
        ["CN=Partner Root", "CN=pkid Demo CA Root CA"]
    leaf, _ = issued(tmp_path, "pleaf", extra, extra_key,
                     "basicConstraints=critical,CA:FALSE\n")
    shutil.copy(leaf, d / "partner.pem")
    cp = run([binary("pkid"), "--dir", str(d), "--check"])
    assert cp.returncode == 1 and error_code(cp) == "bundle-not-ca", \
        cp.stdout + cp.stderr
