"""TLS 1.3 session tickets ([server] tls_tickets, issue 12): none by
default (each costs the server a session encoding and a seal per
handshake, and EST/SCEP clients rarely resume), as many as configured
when asked, and a client holding one resumes with it. Loopback only."""
import socket
import ssl

from conftest import pkictl
from server import Pkid


def handshake(port, ctx, session=None):
    """(session, resumed) after one answered GET /healthz over TLS 1.3."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    with ctx.wrap_socket(raw, server_hostname="localhost",
                         session=session) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
                  b"Connection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        assert data.startswith(b"HTTP/1.1 200"), data[:200]
        return s.session, s.session_reused


def client_ctx(ca_dir):
    ctx = ssl.create_default_context(cafile=str(ca_dir / "root.pem"))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def test_no_tickets_by_default(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    ctx = client_ctx(d)
    with Pkid(d, "--quiet") as srv:
        sess, reused = handshake(srv.tls_port, ctx)
        assert not reused
        assert not sess.has_ticket


def test_tickets_when_configured_resume(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set", "server.tls_tickets=1",
           check=True)
    ctx = client_ctx(d)
    with Pkid(d, "--quiet") as srv:
        sess, reused = handshake(srv.tls_port, ctx)
        assert not reused
        assert sess.has_ticket
        _, reused = handshake(srv.tls_port, ctx, session=sess)
        assert reused
