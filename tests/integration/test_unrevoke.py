"""certificateHold can be lifted (pkictl ca unrevoke), other reasons are
final; pkictl ca list filters (--expiring, --revoked, --subject, --json)
(issue 14)."""
import json
import sqlite3
import time

from conftest import openssl, pkictl
from server import Pkid
from test_revocation_data import der_to_pem, fetch, issue, serial_of


def crl_serials(srv, tmp, name="ca"):
    crl, _ = fetch(srv, tmp, f"/crl/{name}.crl")
    text = openssl("crl", "-inform", "DER", "-in", crl, "-noout", "-text",
                   check=True).stdout
    return text, crl


def wait_crl(srv, tmp, pred):
    """The served CRL once pred(text) holds (pkid rebuilds it when it sees
    the revocations change), bounded."""
    for _ in range(300):
        text, crl = crl_serials(srv, tmp)
        if pred(text):
            return text, crl
        time.sleep(0.2)
    raise AssertionError("CRL never changed: " + text)


def listing(d, *args):
    cp = pkictl("ca", "list", "--dir", d, "--json", *args, check=True)
    return {c["subject"]: c for c in json.loads(cp.stdout)}


def test_hold_lifted(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    held = issue(d, tmp_path, "held")
    final = issue(d, tmp_path, "final")
    good = issue(d, tmp_path, "good")
    hs, fs, gs = serial_of(held), serial_of(final), serial_of(good)
    pkictl("ca", "revoke", "--dir", d, hs, "--reason", "certificateHold",
           check=True)
    pkictl("ca", "revoke", "--dir", d, fs, "--reason", "keyCompromise",
           check=True)

    rev = listing(d, "--revoked")
    assert set(rev) == {"CN=held.example.com", "CN=final.example.com"}
    assert rev["CN=held.example.com"]["status"] == "on-hold"
    assert rev["CN=held.example.com"]["reason"] == "certificateHold"
    assert rev["CN=final.example.com"]["status"] == "revoked"

    with Pkid(d) as srv:
        text, crl = crl_serials(srv, tmp_path)
        assert hs.upper() in text.upper() and "Certificate Hold" in text
        args = ["verify", "-crl_check", "-CAfile", d / "root.pem",
                "-untrusted", d / "issuing.pem", "-CRLfile",
                der_to_pem(tmp_path, crl, "crl")]
        cp = openssl(*args, held)
        assert cp.returncode != 0 and "certificate revoked" in \
            cp.stdout + cp.stderr

        # Lift the hold while pkid runs: the next CRL leaves it out.
        cp = pkictl("ca", "unrevoke", "--dir", d, hs.lower())
        assert cp.returncode == 0, cp.stderr
        assert "valid again" in cp.stdout
        text, crl = wait_crl(srv, tmp_path,
                             lambda t: hs.upper() not in t.upper())
        assert fs.upper() in text.upper()
        args[-1] = der_to_pem(tmp_path, crl, "crl")
        cp = openssl(*args, held)
        assert cp.returncode == 0, cp.stdout + cp.stderr

        # Held again: listed again, in a CRL with a higher number.
        n1 = int(text.split("X509v3 CRL Number:")[1].split()[0])
        pkictl("ca", "revoke", "--dir", d, hs, "--reason",
               "certificateHold", check=True)
        text, _ = wait_crl(srv, tmp_path, lambda t: hs.upper() in t.upper())
        n2 = int(text.split("X509v3 CRL Number:")[1].split()[0])
        assert n2 > n1
        pkictl("ca", "unrevoke", "--dir", d, hs, check=True)
        wait_crl(srv, tmp_path, lambda t: hs.upper() not in t.upper())

    # Other reasons are final; a valid certificate has nothing to lift;
    # an unknown serial is not found. Each exits 1 with its code.
    for serial, code in ((fs, "revocation-final"), (gs, "not-revoked"),
                         ("0badc0de", "not-found")):
        cp = pkictl("ca", "unrevoke", "--dir", d, serial)
        assert cp.returncode == 1, \
            (serial, cp.returncode, cp.stderr)
        assert code in cp.stderr, cp.stderr
    cp = pkictl("ca", "unrevoke", "--dir", d)
    assert cp.returncode == 2

    assert listing(d, "--revoked").keys() == {"CN=final.example.com"}
    db = sqlite3.connect(d / "pkid.db")
    acts = [r[0] for r in db.execute(
        "SELECT action FROM audit WHERE object = ? ORDER BY id",
        (hs.lower(),))]
    lifted = db.execute("SELECT serial, reason, actor FROM "
                        "revocation_lifted ORDER BY id").fetchall()
    db.close()
    assert acts.count("unrevoke") == 2 and acts.count("revoke") == 2, acts
    assert len(lifted) == 2 and all(r[1] == 6 for r in lifted), lifted


def test_list_filters(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    for n in ("r1", "r2", "lab-a", "lab-b"):
        issue(d, tmp_path, n)
    pkictl("ca", "revoke", "--dir", d, serial_of(tmp_path / "r2.pem"),
           check=True)
    all_ = listing(d)
    mine = {"CN=r1.example.com", "CN=r2.example.com",
            "CN=lab-a.example.com", "CN=lab-b.example.com"}
    assert mine <= set(all_)    # and pkid's own TLS certificate
    assert all_["CN=r2.example.com"]["status"] == "revoked"

    # --expiring: unrevoked certificates expiring within the window.
    assert listing(d, "--expiring", "1d") == {}
    exp = listing(d, "--expiring", "36500d")
    assert set(exp) == set(all_) - {"CN=r2.example.com"}
    cp = pkictl("ca", "list", "--dir", d, "--json", "--expiring", "36500d",
                check=True)
    order = [c["not_after"] for c in json.loads(cp.stdout)]
    assert order == sorted(order)

    # --subject: a substring, or a '*' pattern over subject and SANs.
    assert set(listing(d, "--subject", "lab-")) == {
        "CN=lab-a.example.com", "CN=lab-b.example.com"}
    assert set(listing(d, "--subject", "CN=r*")) == {
        "CN=r1.example.com", "CN=r2.example.com"}
    assert set(listing(d, "--subject", "DNS:lab-b*")) == {
        "CN=lab-b.example.com"}
    assert listing(d, "--subject", "%") == {}
    assert set(listing(d, "--revoked", "--subject", "r")) == {
        "CN=r2.example.com"}
    assert len(listing(d, "--limit", "2")) == 2

    # The text form has the header and one row each.
    cp = pkictl("ca", "list", "--dir", d, "--subject", "lab-", check=True)
    assert len(cp.stdout.splitlines()) == 3
    for bad in (["--expiring", "soon"], ["--expiring", "30d", "--revoked"],
                ["--subject", "x" * 300], ["--limit", "0"]):
        cp = pkictl("ca", "list", "--dir", d, *bad)
        assert cp.returncode == 2, (bad, cp.stderr)
