"""The rule table of tools/gen-rules-corpus.py: one function per group of
rules, each adding a passing and a failing case (docs/verify-rules.md)."""
import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtensionOID, NameOID


def cert_fields(g):
    """RFC 5280 4.1.2: serial, validity, key, signature algorithm."""
    r = g.root()
    for rule, serial in (("serial-zero", "0"), ("serial-negative", "-5"),
                         ("serial-21-octets",
                          "0x80" + "11" * 19)):
        g.pair("rfc5280", f"4.1.2.2-{rule}", "RFC 5280 4.1.2.2: serial a "
               "positive integer of at most 20 octets",
               ([r], [], g.resign(g.leaf(r), r, "0x7f" + "11" * 19)),
               ([r], [], g.resign(g.leaf(r), r, serial)))
    z = g.root("pkid serial-0 root")
    z = g.resign(z, z, "0")  # still self-signed, now serial 0
    g.pair("rfc5280", "anchor-serial-zero", "a root anchor with serial 0 "
           "(Starfield Root G2): encoding not asked of an anchor",
           ([z], [], g.leaf(z)), None)
    g.simple("rfc5280", "4.1.2.5-validity", "RFC 5280 4.1.2.5: leaf "
             "within notBefore..notAfter at the validation time",
             lambda r: g.leaf(r),
             lambda r: g.leaf(r, na=datetime.datetime(2024, 12, 31)), r)
    g.pair("rfc5280", "4.1.2.5-notafter-inclusive", "RFC 5280 4.1.2.5: "
           "notAfter is inclusive",
           ([r], [], g.leaf(r, na=datetime.datetime(2025, 1, 1))),
           ([r], [], g.leaf(r, na=datetime.datetime(2024, 12, 31, 23, 59,
                                                    59))))
    old = g.root("pkid expired root", na=datetime.datetime(2024, 6, 1))
    g.pair("rfc5280", "anchor-expired", "an expired trust anchor is "
           "refused (deliberate: RFC 5280 6.1 does not ask it)",
           ([r], [], g.leaf(r)), ([old], [], g.leaf(old)))
    g.pair("rfc5280", "validation-time-fraction", "RFC 3339 validation time"
           " with a fraction, floored (notAfter 2025-01-01T00:00:00Z)",
           ([r], [], g.leaf(r, na=datetime.datetime(2025, 1, 1))),
           ([r], [], g.leaf(r, nb=datetime.datetime(2025, 1, 1, 0, 0, 1))),
           at="2025-01-01T00:00:00.999+00:00")
    g.pair("rfc5280", "6.1.3-a1-signature", "RFC 5280 6.1.3 (a)(1): the "
           "signature verifies with the issuer's key",
           ([r], [], g.leaf(r)),
           ([r], [], g.leaf(r, sign_key=g.new_key())))
    g.pair("rfc5280", "6.1.3-a4-issuer-name", "RFC 5280 6.1.3 (a)(4): the "
           "issuer name is the anchor's subject",
           ([r], [], g.leaf(r)),
           ([r], [], g.leaf(r, issuer_name=g.name("someone else"))))
    g.pair("rfc5280", "weak-digest-sha1", "SHA-1 below the anchor refused",
           ([r], [], g.leaf(r)), ([r], [], g.leaf(r, digest=hashes.SHA1())))
    rr = g.root("pkid RSA root", key=g.new_key("rsa2048"))
    g.pair("rfc5280", "weak-digest-md5", "MD5 (like MD2, MD4) refused",
           ([rr], [], g.leaf(rr)),
           ([rr], [], g.leaf(rr, digest=hashes.MD5())))


def keys(g):
    """Key algorithms and sizes (RFC 5280 4.1.2.7, BR 6.1.5)."""
    r = g.root()
    g.simple("rfc5280", "rsa-min-2048", "RSA keys of at least 2048 bits",
             lambda r: g.leaf(r, key=g.new_key("rsa2048")),
             lambda r: g.leaf(r, key=g.new_key("rsa1024")), r)
    g.simple("webpki", "6.1.5-rsa-multiple-of-8", "CABF BR 6.1.5: RSA "
             "modulus a multiple of 8",
             lambda r: g.leaf(r, key=g.new_key("rsa2048")),
             lambda r: g.leaf(r, key=g.new_key("rsa2052")), r)
    g.simple("webpki", "6.1.5-ec-curves", "CABF BR 6.1.5: EC keys on "
             "P-256, P-384 or P-521",
             lambda r: g.leaf(r), lambda r: g.leaf(r, key=g.new_key(
                 "p224")), r)
    g.simple("webpki", "6.1.5-no-dsa", "CABF BR 6.1.5: no DSA keys",
             lambda r: g.leaf(r), lambda r: g.leaf(r, key=g.new_key(
                 "dsa")), r)


def extensions(g):
    """RFC 5280 4.2: criticality, AKI, SKI, AIA."""
    r = g.root()
    unk = x509.UnrecognizedExtension(g.UNKNOWN, b"\x05\x00")
    g.simple("rfc5280", "4.2-unknown-critical", "RFC 5280 4.2: an "
             "unrecognised critical extension is refused",
             lambda r: g.leaf(r, extra=[(unk, False)]),
             lambda r: g.leaf(r, extra=[(unk, True)]), r)
    anchor_unk = g.root("pkid root with critical unknown",
                        extra=[(unk, True)])
    g.pair("rfc5280", "anchor-unknown-critical", "an anchor's critical "
           "extension pkid cannot honour is refused",
           ([r], [], g.leaf(r)), ([anchor_unk], [], g.leaf(anchor_unk)))
    g.simple("rfc5280", "4.2.1.1-aki-present", "RFC 5280 4.2.1.1: AKI in "
             "every certificate that is not self-signed",
             lambda r: g.leaf(r), lambda r: g.leaf(r, aki=None), r)
    g.simple("rfc5280", "4.2.1.1-aki-matches-issuer", "RFC 5280 4.2.1.1: "
             "the AKI keyIdentifier is the issuer's SKI",
             lambda r: g.leaf(r), lambda r: g.leaf(r, aki=(
                 x509.AuthorityKeyIdentifier.from_issuer_public_key(
                     g.new_key().public_key()), False)), r)
    g.simple("rfc5280", "4.2.1.1-aki-noncritical", "RFC 5280 4.2.1.1: AKI "
             "non-critical",
             lambda r: g.leaf(r), lambda r: g.leaf(r, aki=(
                 x509.AuthorityKeyIdentifier.from_issuer_public_key(
                     r.key.public_key()), True)), r)
    g.via_ica("rfc5280", "4.2.1.2-ski-in-ca", "RFC 5280 4.2.1.2: SKI in "
              "every CA certificate", lambda r: g.ica(r),
              lambda r: g.ica(r, ski=None))
    g.simple("rfc5280", "4.2.1.2-ski-noncritical", "RFC 5280 4.2.1.2: SKI "
             "non-critical", lambda r: g.leaf(r), lambda r: g.leaf(
                 r, ski=(x509.SubjectKeyIdentifier.from_public_key(
                     g.new_key().public_key()), True)), r)
    noski = g.root("pkid root without SKI", ski=None)
    g.pair("rfc5280", "anchor-without-ski", "a root anchor without SKI "
           "(TWCA Global Root CA): not asked of an anchor",
           ([noski], [], g.leaf(noski)), None)
    xs = g.root("pkid cross signer")
    cross_ok = g.ica(xs, "pkid cross-signed root")
    cross_bad = g.ica(xs, "pkid cross-signed root", aki=None)
    g.pair("rfc5280", "anchor-cross-signed-aki", "a trusted certificate "
           "another CA signed must carry AKI (issued like any other)",
           ([cross_ok], [], g.leaf(cross_ok)),
           ([cross_bad], [], g.leaf(cross_bad)))
    aia = x509.AuthorityInformationAccess([x509.AccessDescription(
        x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
        x509.UniformResourceIdentifier("http://ca.example.com/ca.der"))])
    g.simple("rfc5280", "4.2.2.1-aia-noncritical", "RFC 5280 4.2.2.1: AIA "
             "non-critical", lambda r: g.leaf(r, extra=[(aia, False)]),
             lambda r: g.leaf(r, extra=[(aia, True)]), r)


def ca_rules(g):
    """RFC 5280 4.2.1.3, 4.2.1.9, 6.1.4 (k)-(n)."""
    g.via_ica("rfc5280", "6.1.4-k-ca", "RFC 5280 6.1.4 (k): an issuer "
              "has basicConstraints cA=TRUE", lambda r: g.ica(r),
              lambda r: g.ica(r, bc=(x509.BasicConstraints(False, None),
                                     True)))
    g.via_ica("rfc5280", "6.1.4-k-bc-present", "RFC 5280 6.1.4 (k): an "
              "issuer without basicConstraints is not a CA",
              lambda r: g.ica(r), lambda r: g.ica(r, bc=None))
    g.via_ica("rfc5280", "4.2.1.9-bc-critical", "RFC 5280 4.2.1.9: a CA's "
              "basicConstraints is critical", lambda r: g.ica(r),
              lambda r: g.ica(r, bc=(x509.BasicConstraints(True, None),
                                     False)))
    nc_root = g.root("pkid root BC non-critical",
                     bc=(x509.BasicConstraints(True, None), False))
    g.pair("rfc5280", "anchor-bc-noncritical", "a root anchor with "
           "non-critical basicConstraints (Go Daddy Class 2): accepted",
           ([nc_root], [], g.leaf(nc_root)), None)
    g.via_ica("rfc5280", "6.1.4-n-keycertsign", "RFC 5280 6.1.4 (n): an "
              "issuer's keyUsage has keyCertSign", lambda r: g.ica(r),
              lambda r: g.ica(r, keyusage=(g.ku("crl_sign"), True)))
    r = g.root()
    g.simple("rfc5280", "4.2.1.3-ku-not-empty", "RFC 5280 4.2.1.3: "
             "keyUsage asserts at least one bit", lambda r: g.leaf(r),
             lambda r: g.leaf(r, keyusage=(g.ku(), True)), r)
    g.simple("rfc5280", "4.2.1.3-keycertsign-needs-ca", "RFC 5280 "
             "4.2.1.3: keyCertSign only with cA=TRUE", lambda r: g.leaf(r),
             lambda r: g.leaf(r, keyusage=(g.ku("digital_signature",
                                                "key_cert_sign"), True)), r)
    r = g.root()
    i0 = g.ica(r, pathlen=0)
    i1 = g.ica(r, "pkid ICA pathlen 1", pathlen=1)
    i2 = g.ica(i0, "pkid ICA 2")
    i3 = g.ica(i1, "pkid ICA 3")
    g.pair("rfc5280", "6.1.4-l-pathlen", "RFC 5280 6.1.4 (l)-(m): "
           "pathLenConstraint bounds the CAs below",
           ([r], [i1, i3], g.leaf(i3)), ([r], [i0, i2], g.leaf(i2)))
    g.simple("rfc5280", "4.2.1.9-pathlen-needs-ca", "RFC 5280 4.2.1.9: "
             "pathLenConstraint only with cA=TRUE", lambda r: g.leaf(r),
             lambda r: g.leaf(r, bc=None, extra=[(
                 x509.UnrecognizedExtension(  # cA FALSE, pathLen 0
                     ExtensionOID.BASIC_CONSTRAINTS, b"\x30\x03\x02\x01\x00"),
                 True)]), r)
    r = g.root()
    i = g.ica(r)
    g.pair("rfc5280", "max-chain-depth", "the caller's bound on "
           "intermediates (x509-limbo max_chain_depth)",
           ([r], [i], g.leaf(i)), ([r], [i], g.leaf(i)))
    g.CASES[-2]["max_chain_depth"] = 1
    g.CASES[-1]["max_chain_depth"] = 0


def san_rules(g):
    """RFC 5280 4.2.1.6 and RFC 9525 name matching."""
    r = g.root()
    san = x509.SubjectAlternativeName
    g.simple("rfc5280", "4.2.1.6-empty-subject-critical-san", "RFC 5280 "
             "4.2.1.6: an empty subject needs a critical SAN",
             lambda r: g.leaf(r, subject=None, san=(san(
                 [x509.DNSName(g.HOST)]), True)),
             lambda r: g.leaf(r, subject=None), r)
    bad_ip = x509.UnrecognizedExtension(
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        b"\x30\x18\x82\x0f" + g.HOST.encode() + b"\x87\x05\x7f\0\0\1\1")
    g.simple("rfc5280", "4.2.1.6-ip-length", "RFC 5280 4.2.1.6: an "
             "iPAddress SAN is 4 or 16 octets", lambda r: g.leaf(r),
             lambda r: g.leaf(r, san=None, extra=[(bad_ip, False)]), r)
    g.simple("rfc5280", "4.2.1.6-rfc822-mailbox", "RFC 5280 4.2.1.6: an "
             "rfc822Name is a mailbox", lambda r: g.leaf(r, san=(san(
                 [x509.DNSName(g.HOST), x509.RFC822Name("a@example.com")]),
                 False)),
             lambda r: g.leaf(r, san=None, extra=[(
                 x509.UnrecognizedExtension(  # rfc822Name "a@@b"
                     ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
                     b"\x30\x17\x82\x0f" + g.HOST.encode() +
                     b"\x81\x04a@@b"), False)]), r)
    g.simple("rfc5280", "9525-dns", "RFC 9525 6.3: the host matches a "
             "dNSName SAN", lambda r: g.leaf(r), lambda r: g.leaf(
                 r, san=(san([x509.DNSName("other.example.com")]), False)),
             r)
    g.simple("rfc5280", "9525-wildcard", "RFC 9525 6.3: '*' matches one "
             "whole leftmost label",
             lambda r: g.leaf(r, san=(san([x509.DNSName("*.example.com")]),
                                      False)),
             lambda r: g.leaf(r, san=(san([x509.DNSName("*.com")]),
                                      False)), r)
    ip = ipaddress.ip_address("192.0.2.7")
    g.simple("rfc5280", "9525-ip", "RFC 9525 6.2: an IP matches only an "
             "iPAddress SAN",
             lambda r: g.leaf(r, san=(san([x509.IPAddress(ip)]), False)),
             lambda r: g.leaf(r, san=(san([x509.DNSName(str(ip))]),
                                      False)),
             r, kind="IP", host=str(ip))


def nc_rules(g):
    """RFC 5280 4.2.1.10 on every name form pkid evaluates."""
    san = x509.SubjectAlternativeName

    def nc_pair(rule, desc, nc, good_names, bad_names, crit=True,
                subject=g.HOST, **kw):
        r = g.root()
        i = g.ica(r, extra=[(nc, crit)])
        good = g.leaf(i, subject=subject, san=(san(good_names), False))
        bad = g.leaf(i, subject=subject, san=(san(bad_names), False))
        g.pair("rfc5280", rule, desc, ([r], [i], good), ([r], [i], bad),
               **kw)

    perm = x509.NameConstraints
    nc_pair("4.2.1.10-dns-permitted", "dNSName permitted subtree",
            perm([x509.DNSName("example.com")], None),
            [x509.DNSName(g.HOST)], [x509.DNSName(g.HOST),
                                     x509.DNSName("www.example.org")])
    nc_pair("4.2.1.10-dns-excluded", "dNSName excluded subtree",
            perm(None, [x509.DNSName("bad.example.com")]),
            [x509.DNSName(g.HOST)], [x509.DNSName(g.HOST),
                                     x509.DNSName("x.bad.example.com")])
    net = ipaddress.ip_network("192.0.2.0/24")
    nc_pair("4.2.1.10-ip-permitted", "iPAddress permitted subtree",
            perm([x509.IPAddress(net)], None),
            [x509.IPAddress(ipaddress.ip_address("192.0.2.7"))],
            [x509.IPAddress(ipaddress.ip_address("198.51.100.7"))],
            kind="IP", host=None)
    nc_pair("4.2.1.10-email-permitted", "rfc822Name permitted subtree",
            perm([x509.RFC822Name("example.com")], None),
            [x509.DNSName(g.HOST), x509.RFC822Name("a@example.com")],
            [x509.DNSName(g.HOST), x509.RFC822Name("a@example.org")],
            host=None)
    dn = x509.DirectoryName(x509.Name([x509.NameAttribute(
        NameOID.ORGANIZATION_NAME, "pkid")]))
    r = g.root()
    i = g.ica(r, extra=[(perm([dn], None), True)])
    inside = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                           "pkid"),
                        x509.NameAttribute(NameOID.COMMON_NAME, g.HOST)])
    b = g.leaf(i, subject="outside")
    good_cert = _with_subject(g, i, inside)
    g.pair("rfc5280", "4.2.1.10-dn-permitted", "directoryName permitted "
           "subtree (the subject)", ([r], [i], good_cert), ([r], [i], b))
    uri = x509.UniformResourceIdentifier
    nc_pair("4.2.1.10-uri-unsupported", "a uniformResourceIdentifier "
            "constraint pkid cannot evaluate refuses URI names (fail "
            "closed); other names pass",
            perm([uri("example.com")], None), [x509.DNSName(g.HOST)],
            [x509.DNSName(g.HOST), uri("https://example.com/")])
    r = g.root()
    dns_nc = perm([x509.DNSName("example.com")], None)
    crit = g.ica(r, extra=[(dns_nc, True)])
    loose = g.ica(r, "pkid ICA loose NC", extra=[(dns_nc, False)])
    g.pair("rfc5280", "4.2.1.10-critical", "RFC 5280 4.2.1.10: "
           "nameConstraints critical (the CA/Browser Forum allows "
           "non-critical)", ([r], [crit], g.leaf(crit)),
           ([r], [loose], g.leaf(loose)))
    g.pair("webpki", "4.2.1.10-noncritical-ok", "CABF BR 7.1.2.10.8: "
           "nameConstraints may be non-critical",
           ([r], [loose], g.leaf(loose)), None)
    nc_pair("4.2.1.10-malformed-dns-san", "a malformed dNSName cannot be "
            "within a DNS subtree", perm([x509.DNSName("example.com")],
                                         None),
            [x509.DNSName(g.HOST)], [x509.DNSName(g.HOST),
                                     x509.DNSName(".example.com")])
    r = g.root()
    nc = perm([x509.DNSName("example.com")], None)
    g.pair("rfc5280", "4.2.1.10-only-in-ca", "RFC 5280 4.2.1.10: "
           "nameConstraints only in a CA certificate",
           ([r], [], g.leaf(r)), ([r], [], g.leaf(r, extra=[(nc, True)])))


def _with_subject(g, issuer, subject):
    """A leaf with a full X.509 Name as subject (DN constraint cases)."""
    c = g.leaf(issuer)
    key = g.new_key()
    b = (x509.CertificateBuilder().subject_name(subject)
         .issuer_name(issuer.cert.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(g.NB).not_valid_after(g.NA))
    for e in c.cert.extensions:
        if e.oid == ExtensionOID.SUBJECT_KEY_IDENTIFIER:
            e = x509.Extension(e.oid, False,
                               x509.SubjectKeyIdentifier.from_public_key(
                                   key.public_key()))
        b = b.add_extension(e.value, e.critical)
    return g.Cert(b.sign(issuer.key, hashes.SHA256()), key)


def eku_policy(g):
    """RFC 5280 4.2.1.11, 4.2.1.12; BR 7.1.2.7.10."""
    eku = x509.ExtendedKeyUsage
    r = g.root()
    g.simple("rfc5280", "4.2.1.12-leaf-eku", "RFC 5280 4.2.1.12: the leaf "
             "EKU allows serverAuth", lambda r: g.leaf(r),
             lambda r: g.leaf(r, eku=(eku([g.CLIENT]), False)), r)
    g.simple("rfc5280", "4.2.1.12-eku-not-empty", "RFC 5280 4.2.1.12: "
             "extKeyUsage lists a purpose", lambda r: g.leaf(r),
             lambda r: g.leaf(r, eku=(x509.UnrecognizedExtension(
                 ExtensionOID.EXTENDED_KEY_USAGE, b"\x30\x00"), False)), r)
    g.via_ica("rfc5280", "4.2.1.12-ca-eku-restricts", "an intermediate's "
              "EKU restricts the path (as browsers and OpenSSL do)",
              lambda r: g.ica(r, eku=(eku([g.SERVER]), False)),
              lambda r: g.ica(r, eku=(eku([g.CLIENT]), False)))
    g.simple("rfc5280", "4.2.1.12-anyeku-rfc5280", "RFC 5280: "
             "anyExtendedKeyUsage in a leaf allows TLS",
             lambda r: g.leaf(r, eku=(eku([g.ANY_EKU]), False)), None, r)
    g.simple("webpki", "7.1.2.7.10-no-anyeku", "CABF BR 7.1.2.7.10: no "
             "anyExtendedKeyUsage in a subscriber certificate",
             lambda r: g.leaf(r),
             lambda r: g.leaf(r, eku=(eku([g.SERVER, g.ANY_EKU]), False)),
             r)
    pc = x509.PolicyConstraints(require_explicit_policy=None,
                                inhibit_policy_mapping=0)
    g.via_ica("rfc5280", "4.2.1.11-pc-critical", "RFC 5280 4.2.1.11: "
              "policyConstraints critical",
              lambda r: g.ica(r, extra=[(pc, True)]),
              lambda r: g.ica(r, extra=[(pc, False)]))
    g.via_ica("rfc5280", "4.2.1.11-pc-not-empty", "RFC 5280 4.2.1.11: "
              "policyConstraints has at least one field",
              lambda r: g.ica(r, extra=[(pc, True)]),
              lambda r: g.ica(r, extra=[(x509.UnrecognizedExtension(
                  ExtensionOID.POLICY_CONSTRAINTS, b"\x30\x00"), True)]))


def webpki_rules(g):
    """CABF BR 7.1.2 profiles and 7.1.4.3."""
    r = g.root()
    eku = x509.ExtendedKeyUsage
    san = x509.SubjectAlternativeName
    g.simple("webpki", "7.1.2.7.6-eku-required", "CABF BR 7.1.2.7.6: "
             "extKeyUsage present and non-critical", lambda r: g.leaf(r),
             lambda r: g.leaf(r, eku=None), r)
    g.simple("webpki", "7.1.2.7.6-eku-noncritical", "CABF BR 7.1.2.7.6: "
             "extKeyUsage non-critical", lambda r: g.leaf(r),
             lambda r: g.leaf(r, eku=(eku([g.SERVER]), True)), r)
    g.simple("webpki", "7.1.2.7.8-leaf-not-ca", "CABF BR 7.1.2.7.8: a "
             "subscriber certificate is not a CA", lambda r: g.leaf(r),
             lambda r: g.leaf(r, bc=(x509.BasicConstraints(True, None),
                                     True), keyusage=(g.ku(
                                         "digital_signature"), True)), r)
    g.simple("webpki", "7.1.2.7.12-san-required", "CABF BR 7.1.2.7.12: "
             "subjectAltName present", lambda r: g.leaf(r),
             lambda r: g.leaf(r, san=None), r)
    g.simple("webpki", "7.1.2.7.11-ku-for-tls", "CABF BR 7.1.2.7.11: the "
             "leaf keyUsage allows a TLS key use", lambda r: g.leaf(r),
             lambda r: g.leaf(r, keyusage=(g.ku("content_commitment"),
                                           True)), r)
    g.simple("webpki", "7.1.4.3-cn-copies-san", "CABF BR 7.1.4.3: the CN "
             "is a character-for-character copy of a SAN",
             lambda r: g.leaf(r), lambda r: g.leaf(r, subject="WWW.example"
                                                   ".com"), r)
    g.simple("webpki", "7.1.4.3-cn-wildcard-fqdn", "CN naming the FQDN "
             "portion of a wildcard SAN (accepted) or another domain",
             lambda r: g.leaf(r, subject="example.com", san=(san(
                 [x509.DNSName("*.example.com")]), False)),
             lambda r: g.leaf(r, subject="example.org", san=(san(
                 [x509.DNSName("*.example.com")]), False)), r)
    ip6 = ipaddress.ip_address("2001:db8::1")
    g.simple("webpki", "7.1.4.3-cn-ip-text", "CABF BR 7.1.4.3: an IP CN "
             "is the RFC 5952 text of an iPAddress SAN",
             lambda r: g.leaf(r, subject="2001:db8::1", san=(san(
                 [x509.IPAddress(ip6)]), False)),
             lambda r: g.leaf(r, subject="2001:DB8:0:0:0:0:0:1", san=(san(
                 [x509.IPAddress(ip6)]), False)),
             r, kind="IP", host="2001:db8::1")
    eku_root = g.root("pkid root with EKU", extra=[(eku([g.SERVER]),
                                                     False)])
    g.pair("webpki", "7.1.2.1.2-root-no-eku", "CABF BR 7.1.2.1.2: a root "
           "has no extKeyUsage", ([r], [], g.leaf(r)),
           ([eku_root], [], g.leaf(eku_root)))
    _root_akid(g)


def _root_akid(g):
    """BR 7.1.2.1.3: a root's AKI names its own key (and, in roots that
    predate the profile, may name its own issuer and serial)."""
    def with_aki(label, issuer_dn, serial, keyid_of=None):
        key = g.new_key()
        subj = g.name(label)
        kid = x509.SubjectKeyIdentifier.from_public_key(
            (keyid_of or key).public_key()).digest
        aki = x509.AuthorityKeyIdentifier(
            kid, [x509.DirectoryName(issuer_dn or subj)] if serial else
            None, serial)
        b = (x509.CertificateBuilder().subject_name(subj).issuer_name(subj)
             .public_key(key.public_key()).serial_number(4242)
             .not_valid_before(g.NB).not_valid_after(g.NA)
             .add_extension(x509.BasicConstraints(True, None), True)
             .add_extension(g.ku("key_cert_sign", "crl_sign"), True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                 key.public_key()), False)
             .add_extension(aki, False))
        return g.Cert(b.sign(key, hashes.SHA256()), key)
    own = with_aki("pkid root AKI names itself", None, 4242)
    other = with_aki("pkid root AKI names another", g.name("another"), 7)
    g.pair("webpki", "7.1.2.1.3-root-aki-self", "a root AKI naming its "
           "own issuer and serial (QuoVadis Root CA 2) is accepted; "
           "another's is refused", ([own], [], g.leaf(own)),
           ([other], [], g.leaf(other)))
    mism = with_aki("pkid root AKI other key", None, None, g.new_key())
    g.pair("webpki", "7.1.2.1.3-root-aki-keyid", "CABF BR 7.1.2.1.3: a "
           "root AKI keyIdentifier equals its SKI", None,
           ([mism], [], g.leaf(mism)))


def crl_rules(g):
    """RFC 5280 6.3 with the CRLs given."""
    r = g.root()
    good, bad = g.leaf(r), g.leaf(r)
    now = datetime.datetime(2024, 12, 1)
    b = (x509.CertificateRevocationListBuilder().issuer_name(r.cert.subject)
         .last_update(now).next_update(datetime.datetime(2025, 2, 1))
         .add_extension(x509.CRLNumber(1), False)
         .add_revoked_certificate(x509.RevokedCertificateBuilder()
                                  .serial_number(bad.cert.serial_number)
                                  .revocation_date(now).build()))
    crl = b.sign(r.key, hashes.SHA256())
    g.pair("rfc5280", "6.3-revoked", "RFC 5280 6.3: a serial on the "
           "issuer's CRL is revoked", ([r], [], good), ([r], [], bad),
           crls=[crl])

    def crl_of(last, nxt, *ext):
        b = (x509.CertificateRevocationListBuilder()
             .issuer_name(r.cert.subject).last_update(last)
             .next_update(nxt).add_extension(x509.CRLNumber(2), False))
        for e in ext:
            b = b.add_extension(e, True)
        return b.sign(r.key, hashes.SHA256())

    def unusable(rule, desc, bad_crl):
        """The good leaf with the usable CRL, then with one that is not."""
        for res, sfx, c in (("SUCCESS", "pass", crl),
                            ("FAILURE", "fail", bad_crl)):
            g.case(f"pkid-rfc5280::{rule}::{sfx}", desc, res, [r],
                   peer=good, crls=[c])
    unusable("6.3-crl-next-update", "RFC 5280 6.3.3 (a), 5.1.2.5: a "
             "CRL past its nextUpdate cannot be used (fail closed)",
             crl_of(now, datetime.datetime(2024, 12, 31)))
    unusable("6.3-crl-this-update", "RFC 5280 5.1.2.4: a CRL issued "
             "after the validation time cannot be used",
             crl_of(datetime.datetime(2025, 1, 2),
                    datetime.datetime(2025, 2, 1)))
    unusable("6.3-crl-delta-unsupported", "RFC 5280 5.2.4: pkid takes "
             "complete CRLs only; a delta CRL fails closed",
             crl_of(now, datetime.datetime(2025, 2, 1),
                    x509.DeltaCRLIndicator(1)))


def encoding(g):
    """RFC 5280 4.1.2.1 and 4.1.2.5: what the builders refuse to write,
    made by editing the TBSCertificate and signing it again."""
    r = g.root()

    def v1(tbs):
        return tbs[1:] if tbs[0][0] == 0xa0 else tbs

    def v2(tbs):
        return [b"\xa0\x03\x02\x01\x01"] + v1(tbs)
    for rule, edit in (("4.1.2.1-v1-extensions", v1),
                       ("4.1.2.1-v2-extensions", v2)):
        g.pair("rfc5280", rule, "RFC 5280 4.1.2.1: extensions only in a "
               "version 3 certificate",
               ([r], [], g.leaf(r)),
               ([r], [], g.rewrite(g.leaf(r), r, edit)))

    def gen_after(tbs):
        f = g.fields(tbs)
        val = g.children(tbs[f["validity"]][2:])
        tbs[f["validity"]] = g.enc(0x30, val[0] + g.generalized(val[1]))
        return tbs
    g.pair("rfc5280", "4.1.2.5-generalized-before-2050", "RFC 5280 "
           "4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 "
           "(notAfter 2034 as GeneralizedTime refused)",
           ([r], [], g.leaf(r, na=datetime.datetime(2050, 1, 1))),
           ([r], [], g.rewrite(g.leaf(r), r, gen_after)))
    gr = g.root("pkid root GeneralizedTime 2034")
    gr = g.rewrite(gr, gr, gen_after)
    g.pair("rfc5280", "anchor-generalized-time", "a root anchor with "
           "GeneralizedTime before 2050 (Certum Trusted Network CA 2): "
           "encoding not asked of an anchor", ([gr], [], g.leaf(gr)), None)


def anchors(g):
    """What an anchor states binds the path (RFC 5937, docs: Trust
    anchors): cA, pathLenConstraint, extKeyUsage; a version 1 root."""
    r = g.root()
    notca = g.root("pkid root cA FALSE", bc=(x509.BasicConstraints(
        False, None), True), keyusage=None)
    g.pair("rfc5280", "anchor-not-ca", "RFC 5280 6.1.4 (k) applied to the "
           "anchor: a root anchor with cA=FALSE issues nothing",
           ([r], [], g.leaf(r)), ([notca], [], g.leaf(notca)))
    v1 = g.root("pkid version 1 root", bc=None, keyusage=None, ski=None)
    v1 = g.rewrite(v1, v1, lambda t: [f for f in t if f[0] < 0xa0])
    g.pair("rfc5280", "anchor-v1", "a version 1 root anchor (no "
           "basicConstraints) is taken as a CA", ([v1], [], g.leaf(v1)),
           None)
    p0 = g.root("pkid root pathlen 0", pathlen=0)
    p1 = g.root("pkid root pathlen 1", pathlen=1)
    i0, i1 = g.ica(p0), g.ica(p1)
    g.pair("rfc5280", "anchor-pathlen", "RFC 5280 6.1.4 (l)-(m): the "
           "anchor's pathLenConstraint bounds the CAs below it",
           ([p1], [i1], g.leaf(i1)), ([p0], [i0], g.leaf(i0)))
    eku = x509.ExtendedKeyUsage
    es = g.root("pkid root EKU server", extra=[(eku([g.SERVER]), False)])
    ec = g.root("pkid root EKU client", extra=[(eku([g.CLIENT]), False)])
    g.pair("rfc5280", "anchor-eku-restricts", "an anchor's extKeyUsage "
           "restricts the path (rfc5280 profile; webpki forbids it)",
           ([es], [], g.leaf(es)), ([ec], [], g.leaf(ec)))


def usage_names(g):
    """The caller's required keyUsage; mailbox (RFC 8398) matching."""
    r = g.root()
    leaf = g.leaf(r, keyusage=(g.ku("digital_signature"), True))
    g.pair("rfc5280", "4.2.1.3-leaf-required-ku", "RFC 5280 4.2.1.3: the "
           "leaf has the keyUsage bits the caller requires (x509-limbo "
           "key_usage)", ([r], [], leaf), None,
           key_usage=["digitalSignature"])
    g.pair("rfc5280", "4.2.1.3-leaf-required-ku", "RFC 5280 4.2.1.3: the "
           "leaf has the keyUsage bits the caller requires (x509-limbo "
           "key_usage)", None, ([r], [], leaf),
           key_usage=["digitalSignature", "keyEncipherment"])
    san = x509.SubjectAlternativeName
    mail = g.leaf(r, subject="mail user", eku=(x509.ExtendedKeyUsage(
        [g.CLIENT]), False), san=(san([x509.RFC822Name(
            "user@EXAMPLE.com")]), False))
    g.pair("rfc5280", "8398-mailbox", "RFC 8398: a mailbox matches an "
           "rfc822Name SAN, local part exactly, domain in any case",
           ([r], [], mail), None, kind="RFC822", host="user@example.com",
           validation="CLIENT")
    g.pair("rfc5280", "8398-mailbox", "RFC 8398: a mailbox matches an "
           "rfc822Name SAN, local part exactly, domain in any case",
           None, ([r], [], mail), kind="RFC822", host="User@example.com",
           validation="CLIENT")


def limits(g):
    """The path search's limits (src/core/limits.h): 16 certificates,
    256 evaluated paths, 2048 signature checks. Each pass case is a valid
    path found just within the limit, each fail case the same graph one
    step larger, whose only valid path lies beyond it."""
    def chain(n):
        r = g.root()
        cas = [r]
        for k in range(n):
            cas.append(g.ica(cas[-1], f"pkid depth ICA {k + 1}"))
        return [r], cas[:0:-1], g.leaf(cas[-1])
    g.pair("rfc5280", "limit-16-certificates", "at most 16 certificates "
           "in a path (PKID_MAX_CHAIN_DEPTH): 14 intermediates pass, 15 "
           "do not", chain(14), chain(15))

    def layers(n):
        """n levels of two CAs with the same name and key: 2^n paths.
        The first of each pair has a clientAuth-only EKU (the path fails),
        so the one valid path is the last tried."""
        r = g.root()
        above, inter = r, []
        for k in range(n, 0, -1):
            key = g.new_key()
            bad = g.ica(above, f"pkid layer {k}", key=key, eku=(
                x509.ExtendedKeyUsage([g.CLIENT]), False))
            good = g.ica(above, f"pkid layer {k}", key=key)
            inter = [bad, good] + inter
            above = good
        return [r], inter, g.leaf(above)
    g.pair("rfc5280", "limit-256-paths", "at most 256 paths evaluated "
           "(PKID_VERIFY_MAX_PATHS): the valid path as the 256th passes, "
           "as the 512th it is not reached", layers(8), layers(9))

    def decoys(d, detour=False):
        """14 self-issued CAs all named X and a root named X, all with
        the same SKI, behind d decoys named X with that SKI and other
        keys: every step checks the root's and every decoy's signature
        first, 14 * (d + 2) + 1 checks in all. With detour, a complete
        path that fails (a clientAuth-only twin of the leaf's issuer,
        signed by the root) is tried first."""
        kid = b"\x42" * 20
        ski = (x509.SubjectKeyIdentifier(kid), False)
        aki = (x509.AuthorityKeyIdentifier(kid, None, None), False)
        r = g.root("pkid budget X", ski=ski)
        cas = [r]
        for _ in range(14):
            cas.append(g.ica(cas[-1], "pkid budget X", ski=ski, aki=aki))
        fake = [g.root("pkid budget X", ski=ski) for _ in range(d)]
        if detour:
            fake.insert(0, g.ica(r, "pkid budget X", key=cas[-1].key,
                                 ski=ski, aki=aki, eku=(
                                     x509.ExtendedKeyUsage([g.CLIENT]),
                                     False)))
        return [r], fake + cas[:0:-1], g.leaf(cas[-1], aki=aki)
    g.pair("rfc5280", "limit-2048-signatures", "at most 2048 signature "
           "checks per search (PKID_VERIFY_MAX_SIG_CHECKS): about 1430 "
           "pass, 2130 do not", decoys(100), decoys(150))
    g.pair("rfc5280", "limit-2048-signatures-after-a-path", "the "
           "signature budget spent after a complete path failed: the "
           "search still says it stopped", decoys(100, True),
           decoys(150, True))


def anchor_exempt(g):
    """Issuance encoding not asked of a root anchor (docs: Trust
    anchors); the same fields below the anchor fail in the cases of
    their rules (4.2.2.1-aia-noncritical, 4.2.1.11-pc-critical,
    4.2.1.6-ip-length)."""
    aia = x509.AuthorityInformationAccess([x509.AccessDescription(
        x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
        x509.UniformResourceIdentifier("http://ca.example.com/ca.der"))])
    pc = x509.PolicyConstraints(require_explicit_policy=None,
                                inhibit_policy_mapping=0)
    bad_ip = x509.UnrecognizedExtension(
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x07\x87\x05\x7f\0\0\1\1")
    for rule, desc, kw in (
            ("anchor-aia-critical", "critical AIA", {
                "extra": [(aia, True)]}),
            ("anchor-pc-noncritical", "non-critical policyConstraints", {
                "extra": [(pc, False)]}),
            ("anchor-san-ip-length", "a 5-octet iPAddress SAN", {
                "extra": [(bad_ip, False)]}),
            ("anchor-empty-issuer", "an empty issuer name", {
                "issuer_name": g.name(None)})):
        a = g.root(f"pkid root {rule}", **kw)
        g.pair("rfc5280", rule, f"a root anchor with {desc}: encoding "
               "not asked of an anchor", ([a], [], g.leaf(a)), None)


def anchor_crl(g):
    """RFC 5280 6.3: nothing above the anchor issues its CRL, so its own
    serial on its CRL does not revoke it; the leaf's does."""
    r = g.root()
    leaf = g.leaf(r)
    now = datetime.datetime(2024, 12, 1)

    def crl(serial):
        return (x509.CertificateRevocationListBuilder()
                .issuer_name(r.cert.subject).last_update(now)
                .next_update(datetime.datetime(2025, 2, 1))
                .add_extension(x509.CRLNumber(1), False)
                .add_revoked_certificate(x509.RevokedCertificateBuilder()
                                         .serial_number(serial)
                                         .revocation_date(now).build())
                .sign(r.key, hashes.SHA256()))
    for res, sfx, c in (("SUCCESS", "pass", crl(r.cert.serial_number)),
                        ("FAILURE", "fail", crl(leaf.cert.serial_number))):
        g.case(f"pkid-rfc5280::anchor-not-revoked::{sfx}", "the anchor "
               "is not checked for revocation (its serial on its own CRL "
               "is ignored; the leaf's is not)", res, [r], peer=leaf,
               crls=[c])


def key_decodes(g):
    """RFC 5280 4.1.2.7: a key OpenSSL parses but cannot use (an EC point
    off the curve), edited into the SubjectPublicKeyInfo."""
    r = g.root()

    def off_curve(tbs):
        f = g.fields(tbs)
        spki = tbs[f["spki"]]
        # The BIT STRING of a P-256 key ends the SPKI: 0x00, 0x04, X, Y.
        tbs[f["spki"]] = spki[:-32] + b"\x01" * 32
        return tbs
    g.pair("rfc5280", "4.1.2.7-key-decodes", "RFC 5280 4.1.2.7: the "
           "public key decodes (an EC point off the curve does not)",
           ([r], [], g.leaf(r)), ([r], [], g.rewrite(g.leaf(r), r,
                                                      off_curve)))


def register(g):
    for f in (cert_fields, keys, extensions, ca_rules, san_rules, nc_rules,
              eku_policy, webpki_rules, crl_rules, encoding, anchors,
              usage_names, limits, anchor_exempt, anchor_crl,
              key_decodes):
        f(g)
