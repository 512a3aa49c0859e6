#!/usr/bin/python3
"""Generate tests/data/limbo/pkid-rules.json: pkid's own x509-limbo-format
cases, a passing and a failing case for each rule of docs/verify-rules.md.

    tools/gen-rules-corpus.py [OUT.json]

Uses Debian's python3-cryptography (38) and, where it refuses to build a
non-conforming field, the openssl command under faketime (serial numbers)
or an edit of the TBSCertificate signed again (rewrite(): version 1 and 2
certificates with extensions, GeneralizedTime before 2050). Keys are new on
every run, so the PEM differs between runs; ids and expected results do not.
Case ids are "pkid-rfc5280::RULE::pass|fail" (RFC 5280 profile) and
"pkid-webpki::RULE::pass|fail" (CA/Browser Forum profile); every
"pkid-NS::RULE" is in the Tests column of docs/verify-rules.md
(tests/integration/test_limbo.py checks it). After a change, rewrite the
baseline:

    build/limbo-harness tests/data/limbo/pkid-rules.json > /tmp/r.json
    tools/limbo-summary.py tests/data/limbo/pkid-rules.json /tmp/r.json \
        --write-baseline tests/data/limbo/pkid-rules-baseline.json
"""
import datetime
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

NB = datetime.datetime(2024, 1, 1)
NA = datetime.datetime(2034, 1, 1)
AT = "2025-01-01T00:00:00Z"
HOST = "www.example.com"
SERVER = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT = ExtendedKeyUsageOID.CLIENT_AUTH
ANY_EKU = x509.ObjectIdentifier("2.5.29.37.0")
UNKNOWN = x509.ObjectIdentifier("1.3.6.1.4.1.55738.666.1")


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]) \
        if cn else x509.Name([])


def ku(*bits, empty=False):
    keys = ["digital_signature", "content_commitment", "key_encipherment",
            "data_encipherment", "key_agreement", "key_cert_sign",
            "crl_sign", "encipher_only", "decipher_only"]
    return x509.KeyUsage(**{k: (k in bits) for k in keys})


class Cert:
    """A certificate and its key."""

    def __init__(self, cert, key):
        self.cert, self.key = cert, key

    @property
    def pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()


def new_key(kind="ec"):
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p224":
        return ec.generate_private_key(ec.SECP224R1())
    if kind == "dsa":
        return dsa.generate_private_key(2048)
    return rsa.generate_private_key(65537, int(kind[3:]))


DEFAULT = object()


def make(subject, issuer=None, key=None, ca=False, pathlen=None, san=DEFAULT,
         bc=DEFAULT, keyusage=DEFAULT, eku=DEFAULT, aki=DEFAULT, ski=DEFAULT,
         extra=(), nb=NB, na=NA, digest=None, issuer_name=None,
         sign_key=None):
    """One certificate; issuer None makes a self-signed root. Each
    extension argument: DEFAULT for the profile's usual value, None to
    leave it out, or (value, critical)."""
    key = key or new_key()
    signer = issuer.key if issuer else key
    iname = issuer_name if issuer_name is not None else \
        (issuer.cert.subject if issuer else name(subject))
    b = (x509.CertificateBuilder().subject_name(name(subject))
         .issuer_name(iname).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(nb).not_valid_after(na))
    ipub = (issuer.key if issuer else key).public_key()
    defaults = {
        "bc": (x509.BasicConstraints(ca, pathlen), True),
        "keyusage": (ku("key_cert_sign", "crl_sign") if ca
                     else ku("digital_signature"), True),
        "eku": None if ca else (x509.ExtendedKeyUsage([SERVER]), False),
        "san": None if ca else (x509.SubjectAlternativeName(
            [x509.DNSName(HOST)]), False),
        "aki": (x509.AuthorityKeyIdentifier.from_issuer_public_key(ipub),
                False),
        "ski": (x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                False),
    }
    args = {"bc": bc, "keyusage": keyusage, "eku": eku, "san": san,
            "aki": aki, "ski": ski}
    for k, v in args.items():
        v = defaults[k] if v is DEFAULT else v
        if v is not None:
            b = b.add_extension(v[0], critical=v[1])
    for ext, crit in extra:
        b = b.add_extension(ext, critical=crit)
    if isinstance(signer, dsa.DSAPrivateKey) or digest is None:
        digest = hashes.SHA256()
    cert = b.sign(sign_key or signer, digest)
    return Cert(cert, key)


def root(subject="pkid rules root", **kw):
    return make(subject, None, ca=True, aki=None, **kw)


def ica(parent, subject="pkid rules ICA", **kw):
    return make(subject, parent, ca=True, **kw)


def leaf(parent, subject=HOST, **kw):
    return make(subject, parent, **kw)


def resign(c, issuer, serial):
    """Re-sign c with issuer's key under another serial (openssl accepts
    zero, negative and 20-octet serials; cryptography does not)."""
    # openssl x509 -CA wants a self-signed input: the same fields and
    # extensions but AKI, signed by c's own key; openssl adds the AKI.
    b = (x509.CertificateBuilder().subject_name(c.cert.subject)
         .issuer_name(c.cert.subject).public_key(c.key.public_key())
         .serial_number(1).not_valid_before(NB).not_valid_after(NA))
    for e in c.cert.extensions:
        if e.oid != ExtensionOID.AUTHORITY_KEY_IDENTIFIER:
            b = b.add_extension(e.value, e.critical)
    twin = Cert(b.sign(c.key, hashes.SHA256()), c.key)
    with tempfile.TemporaryDirectory() as d:
        files = {}
        for n, data in (("in", twin.pem), ("ca", issuer.pem),
                        ("ext", "[e]\nauthorityKeyIdentifier = keyid:always"
                         "\n"), ("key",
                        issuer.key.private_bytes(
                            serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode())):
            files[n] = os.path.join(d, n + ".pem")
            with open(files[n], "w") as f:
                f.write(data)
        out = os.path.join(d, "out.pem")
        # -preserve_dates does not combine with -CA in OpenSSL 3.0: fix
        # the clock instead (faketime, a test dependency in tools/deps.sh).
        subprocess.run(["faketime", "2024-06-01 00:00:00", "openssl",
                        "x509", "-in", files["in"], "-CA", files["ca"],
                        "-CAkey", files["key"], "-set_serial", serial,
                        "-days", "3500", "-extfile", files["ext"],
                        "-extensions", "e", "-out", out],
                       check=True, capture_output=True)
        with open(out, "rb") as f:
            return Cert(x509.load_pem_x509_certificate(f.read()), c.key)


def tlv(buf, i=0):
    """One DER TLV at buf[i]: (tag, header length, total length)."""
    tag, n = buf[i], buf[i + 1]
    if n < 0x80:
        return tag, 2, 2 + n
    k = n & 0x7f
    return tag, 2 + k, 2 + k + int.from_bytes(buf[i + 2:i + 2 + k], "big")


def enc(tag, body):
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(ln)]) + ln + body


def children(body):
    out, i = [], 0
    while i < len(body):
        out.append(body[i:i + tlv(body, i)[2]])
        i += len(out[-1])
    return out


class RawCert(Cert):
    """A certificate whose DER no builder would write (kept verbatim)."""

    def __init__(self, der, key):
        try:
            cert = x509.load_der_x509_certificate(der)
        except x509.InvalidVersion:  # version 2: issued, never read
            cert = None
        super().__init__(cert, key)
        self.der = der

    @property
    def pem(self):
        import base64
        b = base64.encodebytes(self.der).decode().replace("\n", "")
        return "-----BEGIN CERTIFICATE-----\n" + "\n".join(
            b[i:i + 64] for i in range(0, len(b), 64)) + \
            "\n-----END CERTIFICATE-----\n"


def rewrite(c, signer, edit):
    """c with its TBSCertificate's fields edited (edit takes and returns
    the list of field TLVs), signed again with signer's key (SHA-256).
    For what the builders refuse: version 1 or 2 certificates with
    extensions, GeneralizedTime before 2050."""
    der = c.cert.public_bytes(serialization.Encoding.DER)
    _, h, _ = tlv(der)
    outer = children(der[h:])
    _, th, _ = tlv(outer[0])
    tbs = enc(0x30, b"".join(edit(children(outer[0][th:]))))
    k = signer.key
    if isinstance(k, ec.EllipticCurvePrivateKey):
        sig = k.sign(tbs, ec.ECDSA(hashes.SHA256()))
    else:
        sig = k.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    body = tbs + outer[1] + enc(0x03, b"\0" + sig)
    return RawCert(enc(0x30, body), c.key)


def fields(tbs):
    """Index of the TBS fields by name (version may be absent)."""
    off = 1 if tbs[0][0] == 0xa0 else 0
    names = ["serial", "signature", "issuer", "validity", "subject", "spki"]
    return {n: i + off for i, n in enumerate(names)}


def generalized(t):
    """A UTCTime TLV as the GeneralizedTime of the same instant."""
    y = int(t[2:4])
    return enc(0x18, (b"20" if y < 50 else b"19") + t[2:])


CASES = []


def case(cid, desc, result, trusted, chain=(), peer=None, kind="DNS",
         host=HOST, at=AT, validation="SERVER", crls=(), max_depth=None,
         key_usage=()):
    """Record a testcase: trusted and chain are Cert lists, peer the leaf."""
    pn = None if host is None else {"kind": kind, "value": host}
    CASES.append({
        "id": cid, "conflicts_with": [], "features": [],
        "importance": "undetermined", "description": desc,
        "validation_kind": validation,
        "trusted_certs": [c.pem for c in trusted],
        "untrusted_intermediates": [c.pem for c in chain],
        "peer_certificate": peer.pem, "peer_certificate_key": None,
        "validation_time": at, "signature_algorithms": [],
        "key_usage": list(key_usage),
        "extended_key_usage": [], "expected_result": result,
        "expected_peer_name": pn, "expected_peer_names": [],
        "max_chain_depth": max_depth,
        "crls": [c.public_bytes(serialization.Encoding.PEM).decode()
                 for c in crls]})


def pair(ns, rule, desc, good, bad, **kw):
    """good and bad are (trusted, chain, peer) triples."""
    for res, what in (("SUCCESS", good), ("FAILURE", bad)):
        if what is None:
            continue
        t, ch, p = what
        suffix = "pass" if res == "SUCCESS" else "fail"
        case(f"pkid-{ns}::{rule}::{suffix}", desc, res, t, ch, p, **kw)


def simple(ns, rule, desc, leaf_good, leaf_bad, r, **kw):
    """Root -> leaf, good and bad leaves."""
    pair(ns, rule, desc, ([r], [], leaf_good(r)) if leaf_good else None,
         ([r], [], leaf_bad(r)) if leaf_bad else None, **kw)


def via_ica(ns, rule, desc, ica_good, ica_bad, **kw):
    """Root -> ICA -> leaf, good and bad intermediates."""
    r = root()
    good, bad = ica_good(r), ica_bad(r)
    pair(ns, rule, desc, ([r], [good], leaf(good)), ([r], [bad], leaf(bad)),
         **kw)


from rules_cases import register  # noqa: E402  (the rule table)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "tests", "data", "limbo",
        "pkid-rules.json")
    register(sys.modules[__name__])
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate ids"
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"version": 1, "testcases": CASES}, f, indent=1)
        f.write("\n")
    print(f"{len(CASES)} cases written to {out}")


if __name__ == "__main__":
    main()
