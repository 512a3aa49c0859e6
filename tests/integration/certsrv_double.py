"""A test double of Microsoft AD CS web enrollment (/certsrv), for pkid's
certsrv RA (src/est/certsrv.c). Stdlib http.server + ssl; the CA is a real
one made with python3-cryptography (OpenSSL underneath).

Where each behaviour comes from (README "Fronting AD CS" repeats this):
  - the pages and form fields (GET /certsrv/ as the credential check,
    POST certfnsh.asp with Mode=newreq, CertRequest, CertAttrib=
    CertificateTemplate:NAME, TargetStoreFlags=0, SaveCert=yes; the
    answer's "certnew.cer?ReqID=N&" link, "Certificate Pending" with
    "Your Request Id is N.", 'The disposition message is "..."';
    certnew.cer?ReqID=N&Enc=b64 answered as application/pkix-cert, else a
    page with "Disposition message:"; certcarc.asp's "var nRenewals=N;"
    and certnew.cer?ReqID=CACert&Renewal=N&Enc=b64; certnew.p7b): the
    maintained Python client github.com/magnuswatn/certsrv (certsrv.py).
  - the disposition texts and codes (0x80094800 CERTSRV_E_UNSUPPORTED_
    CERT_TYPE "The requested certificate template is not supported by
    this CA.", 0x80094012 CERTSRV_E_TEMPLATE_DENIED, "Taken Under
    Submission"): Microsoft's published CERTSRV_E_* / CR_DISP_* values as
    quoted by public clients (certipy, PowerShell PKI scripts).
  - NTLM (MS-NLMP): the challenge/response check below is written from the
    protocol description (NTLMv2: HMAC-MD5 over the NT hash); IIS's
    connection-bound authentication (one handshake per TCP connection).
  - certnew.p7b?Enc=b64 as a PKCS#7 in BEGIN CERTIFICATE lines: how AD CS
    is commonly reported to answer; not checked against a real server.

Switches (attributes of CertsrvDouble, set before or while it serves):
  tls = "good" | "untrusted" | "wrong-name" | "not-yet-valid"  (at start)
  auth = "basic" | "ntlm"   what IIS accepts (ntlm: NTLM required)
  reject_all = True         401 for every credential
  slow_login = seconds      GET /certsrv/ answers that late
  slow_submit = seconds     POST certfnsh.asp answers that late
  slow_fetch = seconds      certnew.cer answers that late
  pending = True            requests wait for approve(reqid)
  deny = "message"          every request denied with this message
  templates = {...}         templates the CA knows
"""
import base64
import datetime
import hmac
import http.server
import re
import socketserver
import ssl
import struct
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives.serialization import pkcs7


# ---- MD4 (RFC 1320), for the NT hash: hashlib's OpenSSL 3 lacks it ----

def _rol(x, n):
    x &= 0xffffffff
    return ((x << n) | (x >> (32 - n))) & 0xffffffff


def md4(data):
    msg = bytearray(data)
    ml = len(data) * 8
    msg.append(0x80)
    while len(msg) % 64 != 56:
        msg.append(0)
    msg += struct.pack("<Q", ml)
    a, b, c, d = 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476
    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", bytes(msg[off:off + 64]))
        aa, bb, cc, dd = a, b, c, d
        f = lambda x_, y, z: (x_ & y) | (~x_ & z)
        g = lambda x_, y, z: (x_ & y) | (x_ & z) | (y & z)
        h = lambda x_, y, z: x_ ^ y ^ z
        for i in range(16):
            k, s = i, (3, 7, 11, 19)[i % 4]
            if i % 4 == 0:
                a = _rol(a + f(b, c, d) + x[k], s)
            elif i % 4 == 1:
                d = _rol(d + f(a, b, c) + x[k], s)
            elif i % 4 == 2:
                c = _rol(c + f(d, a, b) + x[k], s)
            else:
                b = _rol(b + f(c, d, a) + x[k], s)
        for i in range(16):
            k, s = (i % 4) * 4 + i // 4, (3, 5, 9, 13)[i % 4]
            t = 0x5a827999
            if i % 4 == 0:
                a = _rol(a + g(b, c, d) + x[k] + t, s)
            elif i % 4 == 1:
                d = _rol(d + g(a, b, c) + x[k] + t, s)
            elif i % 4 == 2:
                c = _rol(c + g(d, a, b) + x[k] + t, s)
            else:
                b = _rol(b + g(c, d, a) + x[k] + t, s)
        order = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)
        for i in range(16):
            k, s = order[i], (3, 9, 11, 15)[i % 4]
            t = 0x6ed9eba1
            if i % 4 == 0:
                a = _rol(a + h(b, c, d) + x[k] + t, s)
            elif i % 4 == 1:
                d = _rol(d + h(a, b, c) + x[k] + t, s)
            elif i % 4 == 2:
                c = _rol(c + h(d, a, b) + x[k] + t, s)
            else:
                b = _rol(b + h(c, d, a) + x[k] + t, s)
        a, b = (a + aa) & 0xffffffff, (b + bb) & 0xffffffff
        c, d = (c + cc) & 0xffffffff, (d + dd) & 0xffffffff
    return struct.pack("<4I", a, b, c, d)


assert md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d"


# ---- NTLM server side (MS-NLMP) -----------------------------------------

NEG_UNICODE, NEG_NTLM, NEG_TARGET_INFO = 0x1, 0x200, 0x800000
NEG_REQUEST_TARGET, NEG_ESS = 0x4, 0x80000


def ntlm_challenge(chal, domain="LAB"):
    """A Type-2 message with the server challenge and target info."""
    dom = domain.encode("utf-16-le")
    # MsvAvNbDomainName, then MsvAvEOL.
    info = struct.pack("<HH", 2, len(dom)) + dom + struct.pack("<HH", 0, 0)
    flags = (NEG_UNICODE | NEG_NTLM | NEG_TARGET_INFO | NEG_REQUEST_TARGET |
             NEG_ESS | 0x00010000 | 0x20000000 | 0x80000000 | 0x02000000)
    off = 48
    return (b"NTLMSSP\0" + struct.pack("<I", 2) +
            struct.pack("<HHI", len(dom), len(dom), off) +
            struct.pack("<I", flags) + chal + b"\0" * 8 +
            struct.pack("<HHI", len(info), len(info), off + len(dom)) +
            dom + info)


def _field(msg, at):
    ln, _, off = struct.unpack("<HHI", msg[at:at + 8])
    return msg[off:off + ln]


def ntlm_check(msg, chal, users):
    """The user a Type-3 message proves (NTLMv2), or None."""
    if not msg.startswith(b"NTLMSSP\0") or struct.unpack(
            "<I", msg[8:12])[0] != 3:
        return None
    nt = _field(msg, 20)
    dom = _field(msg, 28).decode("utf-16-le", "replace")
    user = _field(msg, 36).decode("utf-16-le", "replace")
    for (udom, uname), pw in users.items():
        if uname.lower() != user.lower():
            continue
        nthash = md4(pw.encode("utf-16-le"))
        if len(nt) > 24:
            v2 = hmac.new(nthash, (user.upper() + dom).encode("utf-16-le"),
                          "md5").digest()
            proof = hmac.new(v2, chal + nt[16:], "md5").digest()
            if hmac.compare_digest(proof, nt[:16]):
                return f"{dom}\\{user}"
    return None


# ---- the CA and TLS certificates ----------------------------------------

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(cn))
            .issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(days=1))
            .not_valid_after(_now() + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False,
                key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def make_leaf(ca, cn, sans, not_before=None, server=True):
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    nb = not_before or (_now() - datetime.timedelta(hours=1))
    names = []
    for s in sans:
        if re.match(r"^[0-9.]+$", s):
            import ipaddress
            names.append(x509.IPAddress(ipaddress.ip_address(s)))
        else:
            names.append(x509.DNSName(s))
    b = (x509.CertificateBuilder().subject_name(_name(cn))
         .issuer_name(ca_cert.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(nb)
         .not_valid_after(nb + datetime.timedelta(days=30))
         .add_extension(x509.SubjectAlternativeName(names), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             ca_key.public_key()), critical=False)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(
             key.public_key()), critical=False)
         .add_extension(x509.KeyUsage(
             digital_signature=True, content_commitment=False,
             key_encipherment=False, data_encipherment=False,
             key_agreement=False, key_cert_sign=False, crl_sign=False,
             encipher_only=False, decipher_only=False), critical=True))
    if server:
        b = b.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return b.sign(ca_key, hashes.SHA256()), key


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


class Request:
    def __init__(self, reqid, csr, template, requester):
        self.reqid, self.csr, self.template = reqid, csr, template
        self.requester = requester
        self.state = "pending"     # pending | issued | denied
        self.cert = None
        self.message = ""


class CertsrvDouble:
    """Serve /certsrv on 127.0.0.1; use as a context manager."""

    def __init__(self, tmp, tls="good", auth="basic",
                 user=("LAB", "svc-pkid"), password="Svc-pw-1234"):
        self.tmp = tmp
        self.tls_root = make_ca("Double TLS Root")
        self.other_root = make_ca("Some Other Root")
        self.ca = make_ca("LAB Issuing CA")
        self.tls = tls
        self.auth = auth
        self.users = {user: password}
        self.reject_all = False
        self.slow_login = 0
        self.slow_submit = 0
        self.slow_fetch = 0
        self.pending = False
        self.deny = None
        self.templates = {"PkidDevice", "WebServer"}
        self.requests = {}
        self.next_id = 10
        self.log = []
        self.lock = threading.Lock()
        (tmp / "tls-root.pem").write_bytes(pem(self.tls_root[0]))
        (tmp / "ca.pem").write_bytes(pem(self.ca[0]))
        self.trust = tmp / "tls-root.pem"

    def _tls_files(self):
        if self.tls == "untrusted":
            cert, key = make_leaf(self.other_root, "lab-dc.example.com",
                                  ["localhost", "127.0.0.1"])
            issuer = self.other_root[0]
        elif self.tls == "wrong-name":
            cert, key = make_leaf(self.tls_root, "lab-dc", ["lab-dc"])
            issuer = self.tls_root[0]
        elif self.tls == "not-yet-valid":
            cert, key = make_leaf(self.tls_root, "localhost",
                                  ["localhost", "127.0.0.1"],
                                  not_before=_now() +
                                  datetime.timedelta(days=2))
            issuer = self.tls_root[0]
        else:
            cert, key = make_leaf(self.tls_root, "localhost",
                                  ["localhost", "127.0.0.1"])
            issuer = self.tls_root[0]
        cf, kf = self.tmp / "tls-cert.pem", self.tmp / "tls-key.pem"
        cf.write_bytes(pem(cert) + (pem(issuer) if self.tls != "untrusted"
                                    else b""))
        kf.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        return cf, kf

    def __enter__(self):
        cf, kf = self._tls_files()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cf, kf)
        double = self

        class Handler(_Handler):
            pass
        Handler.double = double

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def get_request(self):
                sock, addr = self.socket.accept()
                sock.settimeout(30)
                try:
                    return ctx.wrap_socket(sock, server_side=True), addr
                except (ssl.SSLError, OSError):
                    sock.close()
                    raise

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, host="localhost"):
        return f"certsrv+https://{host}:{self.port}/certsrv"

    def approve(self, reqid):
        with self.lock:
            r = self.requests[reqid]
            self._issue(r)

    def reject(self, reqid, message):
        with self.lock:
            r = self.requests[reqid]
            r.state, r.message = "denied", message

    def _issue(self, r):
        ca_cert, ca_key = self.ca
        csr = r.csr
        b = (x509.CertificateBuilder().subject_name(csr.subject)
             .issuer_name(ca_cert.subject).public_key(csr.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(_now() - datetime.timedelta(minutes=5))
             .not_valid_after(_now() + datetime.timedelta(days=90))
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                 ca_key.public_key()), critical=False)
             # The template, as AD CS records it (szOID_ENROLL_CERTTYPE_
             # EXTENSION, a BMPString of the name).
             .add_extension(x509.UnrecognizedExtension(
                 x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2"),
                 b"\x1e" + bytes([2 * len(r.template)]) +
                 r.template.encode("utf-16-be")), critical=False))
        try:
            san = csr.extensions.get_extension_for_class(
                x509.SubjectAlternativeName)
            b = b.add_extension(san.value, critical=False)
        except x509.ExtensionNotFound:
            pass
        r.cert = b.sign(ca_key, hashes.SHA256())
        r.state = "issued"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    double = None
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""

    def log_message(self, fmt, *args):
        self.double.log.append(fmt % args)

    # -- plumbing --
    def _send(self, status, body, ctype="text/html", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _auth(self):
        """The authenticated user, or None after answering 401."""
        d = self.double
        if getattr(self, "user", None):
            return self.user          # an NTLM-authenticated connection
        h = self.headers.get("Authorization", "")
        offer = [("WWW-Authenticate", "Negotiate"),
                 ("WWW-Authenticate", "NTLM")]
        if d.auth == "basic":
            offer.append(("WWW-Authenticate", 'Basic realm="lab-dc"'))
        deny = "<html><body><h1>401 - Unauthorized: Access is denied due " \
            "to invalid credentials.</h1></body></html>"
        if h.startswith("Basic ") and d.auth == "basic" and not d.reject_all:
            try:
                u, _, p = base64.b64decode(h[6:]).decode().partition(":")
            except ValueError:
                u, p = "", None
            name = u.split("\\")[-1]
            for (dom, un), pw in d.users.items():
                if un.lower() == name.lower() and pw == p:
                    return u
        elif h.startswith("NTLM "):
            msg = base64.b64decode(h[5:])
            kind = struct.unpack("<I", msg[8:12])[0] if len(msg) >= 12 \
                else 0
            if kind == 1:
                self.chal = bytes(range(8, 16))
                t2 = base64.b64encode(ntlm_challenge(self.chal)).decode()
                self._send(401, deny, headers=[("WWW-Authenticate",
                                                f"NTLM {t2}")])
                return None
            if kind == 3 and getattr(self, "chal", None) and \
                    not d.reject_all:
                u = ntlm_check(msg, self.chal, d.users)
                if u is not None:
                    self.user = u
                    return u
        self.close_connection = False
        self._send(401, deny, headers=offer)
        return None

    # -- pages --
    def do_GET(self):
        d = self.double
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if not u.path.startswith("/certsrv"):
            return self._send(404, "not found")
        if self._auth() is None:
            return
        page = u.path[len("/certsrv"):].lstrip("/")
        if page in ("", "default.asp"):
            if d.slow_login:
                time.sleep(d.slow_login)
            return self._send(200, "<html><head><title>Microsoft Active "
                              "Directory Certificate Services</title>"
                              "</head><body>Welcome</body></html>")
        if page == "certcarc.asp":
            return self._send(200, "<html><script>var nRenewals=0;"
                              "</script></html>")
        if page in ("certnew.cer", "certnew.p7b"):
            if d.slow_fetch:
                time.sleep(d.slow_fetch)
            return self._cert(page, q)
        return self._send(404, "not found")

    def _cert(self, page, q):
        d = self.double
        rid = q.get("ReqID", "")
        if rid == "CACert":
            return self._send(200, pem(d.ca[0]), "application/pkix-cert")
        with d.lock:
            r = d.requests.get(int(rid)) if rid.isdigit() else None
        if r is None or r.state != "issued":
            msg = "Taken Under Submission" if r is not None and \
                r.state == "pending" else (r.message if r is not None else
                                           "The parameter is incorrect.")
            return self._send(
                200, "<html><body><p>Your certificate request was "
                "not issued.</p><table><tr><td>Disposition message:</td>"
                f"\r\n\t\t<td>{msg}</td></tr></table></body></html>")
        if page == "certnew.cer":
            return self._send(200, pem(r.cert), "application/pkix-cert")
        p7 = pkcs7.serialize_certificates([r.cert, d.ca[0]],
                                          serialization.Encoding.DER)
        b64 = base64.encodebytes(p7).decode()
        return self._send(200, "-----BEGIN CERTIFICATE-----\r\n" + b64 +
                          "-----END CERTIFICATE-----\r\n",
                          "application/x-pkcs7-certificates")

    def do_POST(self):
        d = self.double
        body = self._body()
        u = urllib.parse.urlsplit(self.path)
        if not u.path.startswith("/certsrv"):
            return self._send(404, "not found")
        if self._auth() is None:
            return
        if u.path != "/certsrv/certfnsh.asp":
            return self._send(404, "not found")
        if d.slow_submit:
            time.sleep(d.slow_submit)
        f = dict(urllib.parse.parse_qsl(body.decode()))
        if f.get("Mode") != "newreq" or "CertRequest" not in f or \
                f.get("TargetStoreFlags") != "0" or \
                f.get("SaveCert") != "yes":
            return self._send(200, "<html>The disposition message is "
                              "\"Error Parsing Request  The request is "
                              "empty. 0x80094004\"</html>")
        attrs = dict(a.split(":", 1) for a in
                     f.get("CertAttrib", "").splitlines() if ":" in a)
        template = attrs.get("CertificateTemplate", "")
        try:
            csr = x509.load_pem_x509_csr(f["CertRequest"].encode())
        except ValueError:
            return self._send(200, "<html>The disposition message is "
                              "\"Error Parsing Request  ASN1 bad tag value "
                              "met. 0x8009310b\"</html>")
        with d.lock:
            rid = d.next_id
            d.next_id += 1
            r = Request(rid, csr, template, getattr(self, "user", None))
            d.requests[rid] = r
            if template not in d.templates:
                r.state = "denied"
                r.message = ("Denied by Policy Module  0x80094800, The "
                             "requested certificate template is not "
                             "supported by this CA.")
            elif d.deny:
                r.state, r.message = "denied", d.deny
            elif not d.pending:
                d._issue(r)
        if r.state == "issued":
            return self._send(200, "<html><body><h3>Certificate Issued"
                              "</h3><p>The certificate you requested was "
                              "issued to you.</p><a href=\"certnew.cer?"
                              f"ReqID={rid}&amp;Enc=b64\">Download "
                              "certificate</a></body></html>")
        if r.state == "pending":
            return self._send(200, "<html><body><h3>Certificate Pending"
                              "</h3><p>Your certificate request has been "
                              "received. However, you must wait for an "
                              "administrator to issue the certificate you "
                              f"requested.</p><p>Your Request Id is {rid}."
                              "</p></body></html>")
        return self._send(200, "<html><body><h3>Certificate Request Denied"
                          "</h3><p>Your Request Id is " + str(rid) +
                          ".</p><p>The disposition message is \"" +
                          r.message + "\".</p></body></html>")
