"""Issue 9, security first: who may ask for which name, what plain HTTP
carries, which files are private, and what /healthz says when nothing can
be issued. Each test drives a real client (curl, strongSwan's pki,
openssl) against a running pkid; each failed on the code before the fix
it names (README "Security model")."""
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import binary, error_code, make_csr, openssl, pkictl, run
from server import Pkid
from test_est import certs_of, csr_body, curl, subject, verify
from test_scep import StrongSwan

USER, PASSWORD = "fleet", "correct-horse-battery"
need_pki = pytest.mark.skipif(shutil.which("pki") is None,
                              reason="strongSwan pki not installed")


def names_of(pem):
    """(subject, SAN text) of a PEM certificate file."""
    cp = openssl("x509", "-in", pem, "-noout", "-subject", "-ext",
                 "subjectAltName", "-nameopt", "RFC2253", check=True)
    return cp.stdout


def cert_subjects(ca):
    cp = pkictl("ca", "list", "--dir", ca, "--json", check=True)
    return [c["subject"] for c in json.loads(cp.stdout)]


def mfg_ca(base):
    """A manufacturer CA and one device certificate from it (a bootstrap
    credential, as devices ship with)."""
    key, crt = base / "mfg.key", base / "mfg.pem"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
            "-subj", "/CN=Acme Manufacturing CA", "-days", "30", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext",
            "keyUsage=critical,keyCertSign,cRLSign", check=True)
    dkey, dcsr, dcrt = base / "boot.key", base / "boot.csr", base / "boot.pem"
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", dkey, "-out",
            dcsr, "-subj", "/serialNumber=ACME-0042", check=True)
    ext = base / "boot.ext"
    ext.write_text("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                   "extendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", dcsr, "-CA", crt, "-CAkey", key,
            "-CAcreateserial", "-days", "10", "-extfile", ext, "-out", dcrt,
            check=True)
    return crt, dcrt, dkey


@pytest.fixture(scope="module")
def sec(tmp_path_factory):
    """A CA whose profiles allow example.com and 10.0.0.0/8 only, an EST
    user, a label for manufacturer certificates, a SCEP challenge."""
    base = tmp_path_factory.mktemp("sec")
    mfg, boot, boot_key = mfg_ca(base)
    d = base / "ca"
    pkictl("ca", "init", "--dir", d, "--domain", "example.com",
           "--ip-ranges", "10.0.0.0/8", "--set",
           "scep.challenge=s3cret-challenge", "--set",
           f"est.mfg.client_ca={mfg}", "--set", "est.mfg.auth=cert",
           check=True)
    pkictl("est", "user", "add", "--dir", d, USER, input=PASSWORD + "\n",
           check=True)
    with Pkid(d, stderr_path=base / "pkid.err") as srv:
        srv.boot = (boot, boot_key)
        yield srv
        _, _, err = srv.stop()
        assert "AddressSanitizer" not in err and "runtime error" not in err


def basic_enroll(srv, tmp, name, subj, san):
    csr = make_csr(tmp, name=name, subject=subj, san=san)
    st, _, _, body = curl(srv, "/simpleenroll", tmp, data=csr_body(csr),
                          user=f"{USER}:{PASSWORD}")
    assert st == 200, body
    return verify(srv.ca_dir, certs_of(body, tmp, name)[0], tmp, name), \
        tmp / f"{name}.key"


# ---- 1. EST: a client certificate of this CA renews its own names only ----

def test_est_cert_auth_keeps_identity(sec, tmp_path):
    """Item 1: a device holding CN=dev1.example.com got CN=dev2.example.com
    from simpleenroll (and serverkeygen) authenticated by its certificate.
    Now 403 identity-mismatch, whatever the EST operation."""
    leaf, key = basic_enroll(sec, tmp_path, "dev1", "/CN=dev1.example.com",
                             "DNS:dev1.example.com")
    tries = [
        ("/simpleenroll", "/CN=dev2.example.com", "DNS:dev2.example.com"),
        ("/simpleenroll", "/CN=dev1.example.com",
         "DNS:dev1.example.com,DNS:dev2.example.com"),
        ("/simpleenroll", "/CN=dev1.example.com/O=Other", "DNS:dev1.example.com"),
        ("/serverkeygen", "/CN=dev2.example.com", "DNS:dev2.example.com"),
        ("/simplereenroll", "/CN=dev2.example.com", "DNS:dev1.example.com"),
        ("/simplereenroll", "/CN=dev1.example.com", None),
    ]
    for i, (op, subj, san) in enumerate(tries):
        csr = make_csr(tmp_path, name=f"t{i}", subject=subj, san=san)
        st, _, _, body = curl(sec, op, tmp_path, data=csr_body(csr),
                              cert=leaf, key=key)
        assert st == 403 and b"identity-mismatch" in body, (op, subj, body)
    assert not any("dev2" in s for s in cert_subjects(sec.ca_dir))
    # Its own names, a new key: issued, by both operations.
    for op in ("/simpleenroll", "/simplereenroll"):
        csr = make_csr(tmp_path, name="own" + op[1:], subject=
                       "/CN=dev1.example.com", san="DNS:dev1.example.com")
        st, _, _, body = curl(sec, op, tmp_path, data=csr_body(csr),
                              cert=leaf, key=key)
        assert st == 200, body
        new = verify(sec.ca_dir, certs_of(body, tmp_path)[0], tmp_path, "n")
        assert subject(new) == subject(leaf)


def test_est_bootstrap_cert_any_name_within_limits(sec, tmp_path):
    """Item 1: a manufacturer's certificate (the label's client_ca) is a
    bootstrap credential: any name inside the profile's limits."""
    boot, bkey = sec.boot
    csr = make_csr(tmp_path, name="b1", subject="/CN=dev7.example.com",
                   san="DNS:dev7.example.com")
    st, _, _, body = curl(sec, "/mfg/simpleenroll", tmp_path,
                          data=csr_body(csr), cert=boot, key=bkey)
    assert st == 200, body
    csr = make_csr(tmp_path, name="b2", subject="/CN=dev7.evil.org",
                   san="DNS:dev7.evil.org")
    st, _, _, body = curl(sec, "/mfg/simpleenroll", tmp_path,
                          data=csr_body(csr), cert=boot, key=bkey)
    assert st == 400 and b"san-not-allowed" in body, body


# ---- 2. SCEP RenewalReq keeps the identity -------------------------------

@need_pki
def test_scep_renewal_keeps_identity(sec, tmp_path):
    """Item 2: a RenewalReq signed with one device's certificate was issued
    for another subject and SAN (RFC 8894 3.3.1.2)."""
    ss = StrongSwan(f"http://127.0.0.1:{sec.http_port}/scep",
                    tmp_path / "ss")
    ss.getca()
    old = ss.key("old")
    cp, old_crt = ss.enroll(old, "CN=ren1.example.com", "s3cret-challenge",
                            "--san", "ren1.example.com")
    assert cp.returncode == 0, cp.stderr
    for dn, san in (("CN=ren2.example.com", "ren1.example.com"),
                    ("CN=ren1.example.com", "ren2.example.com")):
        cp, _ = ss.enroll(ss.key("n"), dn, "", "--san", san, "--cert",
                          old_crt, "--key", old)
        assert cp.returncode != 0 and "badRequest" in cp.stderr, cp.stderr
    assert not any("ren2" in s for s in cert_subjects(sec.ca_dir))
    cp, new_crt = ss.enroll(ss.key("n2"), "CN=ren1.example.com", "",
                            "--san", "ren1.example.com", "--cert", old_crt,
                            "--key", old)
    assert cp.returncode == 0, cp.stderr
    assert "ren1.example.com" in names_of(new_crt)
    log = sec.read_stderr(wait=0.2)
    assert "identity-mismatch" in log


# ---- 4. the profile's limits apply to the CN -----------------------------

def issue(ca, tmp, name, subj, san=None, key=None):
    csr = make_csr(tmp, name=name, subject=subj, san=san)
    if key is not None:
        openssl("req", "-new", "-key", key, "-subj", subj, "-out", csr,
                *(["-addext", f"subjectAltName={san}"] if san else []),
                check=True)
    return pkictl("ca", "issue", "--dir", ca, "--csr", csr)


def test_cn_within_profile_limits(sec, tmp_path):
    """Item 4: CN=evil.com (no SAN), CN=8.8.8.8, CN=www.google.com with an
    allowed SAN were issued under a profile limited to .example.com and
    10.0.0.0/8."""
    ca = sec.ca_dir
    for subj, san in (("/CN=evil.com", None), ("/CN=8.8.8.8", None),
                      ("/CN=www.google.com", "DNS:dev1.example.com"),
                      ("/CN=evil.com.", None), ("/CN=2001:db8::1", None),
                      ("/CN=*.google.com", None)):
        cp = issue(ca, tmp_path, "c", subj, san)
        assert cp.returncode == 1 and error_code(cp) == "san-not-allowed", \
            (subj, cp.stderr)
    for subj, san in (("/CN=dev3.example.com", None), ("/CN=10.1.2.3", None),
                      ("/CN=Router 17", "DNS:r17.example.com"),
                      ("/CN=SN-0042", None)):
        cp = issue(ca, tmp_path, "ok", subj, san)
        assert cp.returncode == 0, (subj, cp.stderr)
    # The same through EST, a real client.
    csr = make_csr(tmp_path, name="e", subject="/CN=evil.com", san=None)
    st, _, _, body = curl(sec, "/simpleenroll", tmp_path, data=csr_body(csr),
                          user=f"{USER}:{PASSWORD}")
    assert st == 400 and b"san-not-allowed" in body, body


# ---- 5. no profile allows every name unless told ---------------------------

def test_init_needs_domain_and_star_is_warned(tmp_path):
    """Item 5: the default profile allowed every name."""
    d = tmp_path / "nodomain"
    cp = run([binary("pkictl"), "ca", "init", "--dir", str(d)])
    assert cp.returncode == 2 and "--domain" in cp.stderr, cp.stderr
    assert not (d / "pkid.conf").exists()
    d = tmp_path / "dc"
    run([binary("pkictl"), "ca", "init", "--dir", str(d), "--subject",
         "CN=Acme Devices,DC=acme,DC=net"], check=True)
    conf = (d / "pkid.conf").read_text()
    assert "san_dns_suffixes = acme.net" in conf
    # No key is set to a wildcard (comments may name the syntax).
    values = [ln.split("=", 1)[1] for ln in conf.splitlines()
              if "=" in ln and not ln.lstrip().startswith(";")]
    assert not any("*" in v for v in values), values
    cp = run([binary("pkid"), "--check", "--dir", str(d)])
    assert cp.returncode == 0 and "0 warnings" in cp.stdout, cp.stdout
    d = tmp_path / "star"
    run([binary("pkictl"), "ca", "init", "--dir", str(d), "--domain", "*"],
        check=True)
    cp = run([binary("pkid"), "--check", "--dir", str(d)])
    assert cp.returncode == 1 and "names-unrestricted" in cp.stdout
    with Pkid(d, stderr_path=tmp_path / "star.err") as p:
        err = p.read_stderr(wait=0.5)
        assert "warning: names-unrestricted: profile device" in err


# ---- 6. a leaf never carries a CA's subject --------------------------------

def test_ca_subjects_refused(sec, tmp_path):
    """Item 6: a leaf with the issuing CA's exact subject was issued."""
    for which in ("issuing.pem", "root.pem"):
        subj = openssl("x509", "-in", sec.ca_dir / which, "-noout",
                       "-subject", "-nameopt", "compat",
                       check=True).stdout.split("=", 1)[1].strip()
        cp = issue(sec.ca_dir, tmp_path, "r", subj, "DNS:r.example.com")
        assert cp.returncode == 1 and error_code(cp) == "subject-reserved", \
            cp.stderr


# ---- 7. odd names ------------------------------------------------------------

def odd_csr(tmp, name, attrs, sans=None):
    key = ec.generate_private_key(ec.SECP256R1())
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(oid, v) for oid, v in attrs]))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(s) for s in sans]), critical=False)
    csr = b.sign(key, hashes.SHA256())
    path = tmp / f"{name}.csr"
    path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    return path


def test_odd_names_refused(sec, tmp_path):
    """Item 7: a CN with NUL, a 10,000-character CN, an empty subject with
    no SAN, two CNs were all issued."""
    CN = NameOID.COMMON_NAME
    cases = {
        "nul": odd_csr(tmp_path, "nul", [(CN, "good.example.com\0.evil.com")]),
        "long": odd_csr(tmp_path, "long", [(CN, "a" * 10000)]),
        "empty": odd_csr(tmp_path, "empty", []),
        "two": odd_csr(tmp_path, "two", [(CN, "a.example.com"),
                                         (CN, "b.example.com")]),
    }
    for name, csr in cases.items():
        cp = pkictl("ca", "issue", "--dir", sec.ca_dir, "--csr", csr)
        assert cp.returncode == 1 and error_code(cp) == "subject-invalid", \
            (name, cp.stderr)
    der = tmp_path / "nul.der"
    openssl("req", "-in", cases["nul"], "-outform", "DER", "-out", der,
            check=True)
    st, _, _, body = curl(sec, "/simpleenroll", tmp_path,
                          data=csr_body(cases["nul"]),
                          user=f"{USER}:{PASSWORD}")
    assert st == 400 and b"subject-invalid" in body, body
    # An empty subject with a SAN is fine (RFC 5280 4.1.2.6).
    ok = odd_csr(tmp_path, "sanonly", [], sans=["s.example.com"])
    cp = pkictl("ca", "issue", "--dir", sec.ca_dir, "--csr", ok)
    assert cp.returncode == 0, cp.stderr


# ---- 8. a key revoked for keyCompromise is never certified again ----------

def test_compromised_key_refused(sec, tmp_path):
    """Item 8: a key revoked for keyCompromise was issued again."""
    leaf, key = basic_enroll(sec, tmp_path, "kc", "/CN=kc.example.com",
                             "DNS:kc.example.com")
    serial = openssl("x509", "-in", leaf, "-noout", "-serial",
                     check=True).stdout.strip().split("=")[1]
    pkictl("ca", "revoke", "--dir", sec.ca_dir, serial, "--reason",
           "keyCompromise", check=True)
    # Through EST with the same key and a fresh request.
    csr = tmp_path / "again.csr"
    openssl("req", "-new", "-key", key, "-subj", "/CN=kc2.example.com",
            "-out", csr, check=True)
    st, _, _, body = curl(sec, "/simpleenroll", tmp_path, data=csr_body(csr),
                          user=f"{USER}:{PASSWORD}")
    assert st == 403 and b"key-compromised" in body, body
    cp = issue(sec.ca_dir, tmp_path, "k", "/CN=kc3.example.com", key=key)
    assert error_code(cp) == "key-compromised", cp.stderr
    # Another reason does not bar the key.
    leaf2, key2 = basic_enroll(sec, tmp_path, "sup", "/CN=sup.example.com",
                               "DNS:sup.example.com")
    serial = openssl("x509", "-in", leaf2, "-noout", "-serial",
                     check=True).stdout.strip().split("=")[1]
    pkictl("ca", "revoke", "--dir", sec.ca_dir, serial, "--reason",
           "superseded", check=True)
    cp = issue(sec.ca_dir, tmp_path, "s", "/CN=sup2.example.com", key=key2)
    assert cp.returncode == 0, cp.stderr


def test_compromised_key_found_after_migration(tmp_path):
    """A store from before schema 5 learns its compromised keys at open."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    cp = issue(d, tmp_path, "m", "/CN=m.example.com")
    assert cp.returncode == 0, cp.stderr
    listing = json.loads(pkictl("ca", "list", "--dir", d, "--json",
                                check=True).stdout)
    # Issued in the second ca init ran, it sorts by serial among the
    # certificates of init: pick it by name.
    serial = [c for c in listing if c["subject"] == "CN=m.example.com"][0][
        "serial"]
    pkictl("ca", "revoke", "--dir", d, serial, "--reason", "keyCompromise",
           check=True)
    db = sqlite3.connect(d / "pkid.db")
    # Back to schema 4: no compromised_key table (5), no activate_at (6),
    # no not_after index (7), no revocation_lifted (8).
    db.executescript("DROP TABLE compromised_key;"
                     "ALTER TABLE ca_generation DROP COLUMN activate_at;"
                     "DROP INDEX certificate_not_after;"
                     "DROP TABLE revocation_lifted;"
                     "UPDATE schema_version SET version = 4;")
    db.close()
    cp = issue(d, tmp_path, "m2", "/CN=m2.example.com", key=tmp_path / "m.key")
    assert error_code(cp) == "key-compromised", cp.stderr


# ---- 9. EST only over HTTPS ------------------------------------------------

def test_est_refused_on_plain_http(sec, tmp_path):
    """Item 9: EST answered on the plain-HTTP listener, Basic credentials
    and server-generated keys in clear. SCEP and CRLs stay there."""
    before = len(cert_subjects(sec.ca_dir))
    csr = make_csr(tmp_path, name="p", subject="/CN=plain.example.com",
                   san="DNS:plain.example.com")
    src = tmp_path / "body"
    src.write_bytes(csr_body(csr))
    for op in ("cacerts", "simpleenroll", "serverkeygen"):
        cmd = ["curl", "-sS", "--max-time", "20", "-o", str(tmp_path / "o"),
               "-w", "%{http_code}",
               f"http://127.0.0.1:{sec.http_port}/.well-known/est/{op}"]
        if op != "cacerts":
            cmd[1:1] = ["--user", f"{USER}:{PASSWORD}", "-H",
                        "Content-Type: application/pkcs10",
                        "--data-binary", f"@{src}"]
        cp = run(cmd, timeout=30)
        body = (tmp_path / "o").read_bytes()
        assert cp.stdout == "403", (op, cp.stdout, body)
        assert b"https-required" in body and \
            f"https://127.0.0.1:{sec.tls_port}/.well-known/est/{op}".encode() \
            in body, body
        assert b"PRIVATE KEY" not in body
    assert len(cert_subjects(sec.ca_dir)) == before
    cp = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
              f"http://127.0.0.1:{sec.http_port}/scep?operation=GetCACaps"])
    assert cp.stdout == "200"
    cp = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
              f"http://127.0.0.1:{sec.http_port}/crl/ca.crl"])
    assert cp.stdout == "200"


# ---- 12. the store is private ------------------------------------------------

def test_store_files_private(sec, tmp_path):
    """Item 12: pkid.db and its -wal/-shm files were 0644."""
    basic_enroll(sec, tmp_path, "fm", "/CN=fm.example.com",
                 "DNS:fm.example.com")
    seen = 0
    for sfx in ("", "-wal", "-shm"):
        f = sec.ca_dir / f"pkid.db{sfx}"
        if f.exists():
            seen += 1
            assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, \
                (f, oct(f.stat().st_mode))
    assert seen >= 2
    # A store left readable by others is tightened at the next open.
    d = tmp_path / "loose"
    pkictl("ca", "init", "--dir", d, check=True)
    os.chmod(d / "pkid.db", 0o644)
    pkictl("ca", "list", "--dir", d, check=True)
    assert stat.S_IMODE((d / "pkid.db").stat().st_mode) == 0o600


# ---- a SCEP reply that cannot be encrypted is refused before issuing ---------

def test_scep_ec_renewal_refused_before_issuing(sec, tmp_path):
    """A RenewalReq signed with an EC certificate was issued and stored,
    then answered 500 crypto-failed: now FAILURE badAlg, nothing issued.
    (pkictl is the client here: strongSwan's pki loads only RSA old keys.)"""
    ec_key = tmp_path / "ec.key"
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-out", ec_key, check=True)
    cp = issue(sec.ca_dir, tmp_path, "ecd", "/CN=ecdev.example.com",
               key=ec_key)
    assert cp.returncode == 0, cp.stderr
    ec_crt = tmp_path / "ecd.pem"
    ec_crt.write_text(cp.stdout)
    before = len(cert_subjects(sec.ca_dir))
    fp = openssl("x509", "-in", sec.ca_dir / "root.pem", "-noout",
                 "-fingerprint", "-sha256", check=True).stdout
    cp = pkictl("renew", "scep", "--url",
                f"http://127.0.0.1:{sec.http_port}/scep", "--cert", ec_crt,
                "--key", ec_key, "--new-key", "rsa-2048", "--out",
                tmp_path / "r.pem", "--ca-fingerprint",
                fp.split("=", 1)[1].strip())
    assert cp.returncode == 1 and "badAlg" in cp.stderr, cp.stderr
    assert len(cert_subjects(sec.ca_dir)) == before
    log = sec.read_stderr(wait=0.2)
    assert "code=scep-recipient-key" in log


# ---- /healthz tells when nothing can be issued --------------------------------

def test_healthz_degraded_when_store_full(tmp_path):
    """/healthz said "ok" while every write failed with store-io (disk
    full). The store may grow by 4 pages here (PKID_TEST_STORE_PAGES)."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    pkictl("est", "user", "add", "--dir", d, USER, input=PASSWORD + "\n",
           check=True)
    with Pkid(d, env={"PKID_TEST_STORE_PAGES": "4"}) as p:
        st, _, body = p.get("/healthz")
        assert st == 200 and json.loads(body)["status"] == "ok"
        failed = False
        for i in range(60):
            csr = make_csr(tmp_path, name=f"f{i}",
                           subject=f"/CN=f{i}.example.com",
                           san=f"DNS:f{i}.example.com")
            st, _, _, body = curl(p, "/simpleenroll", tmp_path,
                                  data=csr_body(csr),
                                  user=f"{USER}:{PASSWORD}")
            if st >= 500:
                assert b"store-io" in body, body
                failed = True
                break
            assert st == 200, body
        assert failed, "the store never filled up"
        st, _, body = p.get("/healthz")
        doc = json.loads(body)
        assert st == 503 and doc["status"] == "degraded", body
        assert doc["code"] == "store-io" and "full" in doc["message"]
