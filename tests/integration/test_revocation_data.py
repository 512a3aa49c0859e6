"""Revocation data in certificates (issue 14): a CRL distribution point
and an AIA caIssuers URL in every issued certificate, the issuing CA's
naming the root's, and a root CRL, so that a relying party that checks
every certificate of the path (openssl verify -crl_check_all) can."""
import shutil

from conftest import make_csr, openssl, pkictl
from server import Pkid

BASE = "http://127.0.0.1:1"


def text_of(pem):
    return openssl("x509", "-in", pem, "-noout", "-text", check=True).stdout


def serial_of(pem):
    return openssl("x509", "-in", pem, "-noout", "-serial",
                   check=True).stdout.strip().split("=")[1]


def issue(d, tmp, name):
    csr = make_csr(tmp, name=name, subject=f"/CN={name}.example.com",
                   san=f"DNS:{name}.example.com")
    out = tmp / f"{name}.pem"
    pkictl("ca", "issue", "--dir", d, "--csr", csr, "--out", out,
           check=True)
    return out


def fetch(srv, tmp, path):
    st, hdr, body = srv.get(path, tls=False)
    assert st == 200, (path, body)
    f = tmp / path.strip("/").replace("/", "_")
    f.write_bytes(body)
    return f, hdr


def der_to_pem(tmp, der, kind="x509"):
    out = tmp / (der.name + ".pem")
    openssl(kind, "-inform", "DER", "-in", der, "-out", out, check=True)
    return out


def test_crl_check_all(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d,
           "--set", f"ca.crl_url={BASE}/crl/ca.crl",
           "--set", f"ca.ca_issuers_url={BASE}/ca/ca.cer", check=True)
    good, bad = issue(d, tmp_path, "good"), issue(d, tmp_path, "bad")
    pkictl("ca", "revoke", "--dir", d, serial_of(bad), "--reason",
           "keyCompromise", check=True)

    leaf = text_of(good)
    assert f"URI:{BASE}/crl/ca.crl" in leaf, leaf
    assert f"CA Issuers - URI:{BASE}/ca/ca.cer" in leaf, leaf
    iss = text_of(d / "issuing.pem")
    assert f"URI:{BASE}/crl/ca-root.crl" in iss, iss
    assert f"CA Issuers - URI:{BASE}/ca/ca-root.cer" in iss, iss
    root = text_of(d / "root.pem")
    assert "CRL Distribution" not in root and "CA Issuers" not in root

    with Pkid(d) as srv:
        crl, hdr = fetch(srv, tmp_path, "/crl/ca.crl")
        assert hdr["Content-Type"] == "application/pkix-crl"
        rcrl, _ = fetch(srv, tmp_path, "/crl/ca-root.crl")
        icer, hdr = fetch(srv, tmp_path, "/ca/ca.cer")
        assert hdr["Content-Type"] == "application/pkix-cert"
        rcer, _ = fetch(srv, tmp_path, "/ca/ca-root.cer")
        st, _, body = srv.get("/crl/ca-root-2.crl", tls=False)
        assert st == 404 and b"not-found" in body
        st, _, body = srv.get("/ca/other.cer", tls=False)
        assert st == 404 and b"/ca/ca.cer" in body

    # The certificates served are the CA's, byte for byte.
    assert der_to_pem(tmp_path, icer).read_text() == \
        (d / "issuing.pem").read_text()
    assert der_to_pem(tmp_path, rcer).read_text() == \
        (d / "root.pem").read_text()
    # The root CRL is signed by the root and revokes nothing.
    cp = openssl("crl", "-inform", "DER", "-in", rcrl, "-noout", "-text",
                 "-CAfile", d / "root.pem")
    assert "verify OK" in cp.stdout + cp.stderr, cp.stderr
    assert "No Revoked Certificates" in cp.stdout

    crls = [der_to_pem(tmp_path, crl, "crl"),
            der_to_pem(tmp_path, rcrl, "crl")]
    args = ["verify", "-crl_check_all", "-CAfile", d / "root.pem",
            "-untrusted", d / "issuing.pem"]
    for c in crls:
        args += ["-CRLfile", c]
    cp = openssl(*args, good)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    cp = openssl(*args, bad)
    assert cp.returncode != 0 and "certificate revoked" in \
        cp.stdout + cp.stderr, cp.stdout + cp.stderr
    # Without the root's CRL the issuing CA cannot be checked: that is
    # what publishing it is for.
    cp = openssl("verify", "-crl_check_all", "-CAfile", d / "root.pem",
                 "-untrusted", d / "issuing.pem", "-CRLfile", crls[0], good)
    assert cp.returncode != 0 and "unable to get certificate CRL" in \
        cp.stdout + cp.stderr


def test_urls_follow_generations(tmp_path):
    """After a rollover the new issuing CA's leaves name its own CRL and
    certificate (-2), while the issuing CA still names the root's."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d,
           "--set", f"ca.crl_url={BASE}/crl/ca.crl",
           "--set", f"ca.ca_issuers_url={BASE}/ca/ca.cer", check=True)
    pkictl("ca", "rollover", "--dir", d, "--now", check=True)
    leaf = text_of(issue(d, tmp_path, "b"))
    assert f"URI:{BASE}/crl/ca-2.crl" in leaf
    assert f"CA Issuers - URI:{BASE}/ca/ca-2.cer" in leaf
    assert f"URI:{BASE}/crl/ca-root.crl" in text_of(d / "issuing.pem")
    with Pkid(d) as srv:
        icer, _ = fetch(srv, tmp_path, "/ca/ca-2.cer")
        old, _ = fetch(srv, tmp_path, "/ca/ca.cer")
    assert der_to_pem(tmp_path, icer).read_text() == \
        (d / "issuing.pem").read_text()
    assert der_to_pem(tmp_path, old).read_text() != \
        (d / "issuing.pem").read_text()


def test_root_only_links_name_root_crls(tmp_path):
    """A root that signs leaves: its leaves name /crl/ca-N.crl, and
    after its key update the link certificates name the CRL of the root
    that signed them (/crl/ca-root[-N].crl, served for that root)."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--root-only",
           "--set", f"ca.crl_url={BASE}/crl/ca.crl", check=True)
    old = tmp_path / "old-root.pem"
    shutil.copy(d / "root.pem", old)
    pkictl("ca", "rollover", "--dir", d, "--now", check=True)
    assert f"URI:{BASE}/crl/ca-2.crl" in text_of(issue(d, tmp_path, "c"))
    assert f"URI:{BASE}/crl/ca-root-2.crl" in \
        text_of(d / "oldwithnew-2.pem")
    assert f"URI:{BASE}/crl/ca-root.crl" in text_of(d / "newwithold-2.pem")
    with Pkid(d) as srv:
        for path, signer in (("/crl/ca-root.crl", old),
                             ("/crl/ca-root-2.crl", d / "root.pem"),
                             ("/crl/ca-2.crl", d / "root.pem")):
            crl, _ = fetch(srv, tmp_path, path)
            cp = openssl("crl", "-inform", "DER", "-in", crl, "-noout",
                         "-CAfile", signer)
            assert "verify OK" in cp.stdout + cp.stderr, (path, cp.stderr)


def test_auto_urls(tmp_path):
    """crl_url and ca_issuers_url default to auto: the plain listener's
    address, unless it is loopback only (a demo no one else reaches);
    on every address, the first tls_names."""
    cases = (
        ([], None),
        (["--set", "server.http=192.0.2.7:8080"], "http://192.0.2.7:8080"),
        (["--set", "server.http=0.0.0.0:80", "--set",
          "server.tls_names=pki.example.com"], "http://pki.example.com:80"),
        (["--set", "server.http=[2001:db8::5]:8080"],
         "http://[2001:db8::5]:8080"),
        (["--set", "server.http=192.0.2.7:8080", "--set", "ca.crl_url=off",
          "--set", "ca.ca_issuers_url=off"], None),
    )
    for i, (sets, base) in enumerate(cases):
        d = tmp_path / f"ca{i}"
        pkictl("ca", "init", "--dir", d, *sets, check=True)
        conf = (d / "pkid.conf").read_text()
        assert ("crl_url = off" if "ca.crl_url=off" in sets else
                "crl_url = auto") in conf
        leaf = text_of(issue(d, tmp_path, f"a{i}"))
        iss = text_of(d / "issuing.pem")
        if base is None:
            assert "CRL Distribution" not in leaf, (sets, leaf)
            assert "CA Issuers" not in leaf, (sets, leaf)
            assert "CRL Distribution" not in iss
        else:
            assert f"URI:{base}/crl/ca.crl" in leaf, (sets, leaf)
            assert f"CA Issuers - URI:{base}/ca/ca.cer" in leaf
            assert f"URI:{base}/crl/ca-root.crl" in iss


def test_bad_url_refused(tmp_path):
    for v in ("https://x/crl", "ftp://x", "http://", "http://a b/c"):
        cp = pkictl("ca", "init", "--dir", tmp_path / "x", "--set",
                    f"ca.ca_issuers_url={v}")
        assert cp.returncode == 2, (v, cp.stderr)
        assert "config-bad-value" in cp.stderr, cp.stderr
