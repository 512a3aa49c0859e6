"""Raw HTTP/1.1 over sockets for hostile-client tests: bytes curl would
never send, slow senders, many idle connections. Every wait is bounded."""
import socket
import ssl
import time


def connect(port, src=None, timeout=10.0, tls_ctx=None):
    """A connected socket to 127.0.0.1:port, from source address src."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src is not None:
        s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    if tls_ctx is not None:
        s = tls_ctx.wrap_socket(s, server_hostname="localhost")
    return s


def insecure_tls():
    """A client TLS context that skips verification (not what is tested)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Response:
    """A parsed response: status, headers (lower-case names), body."""

    def __init__(self, raw):
        self.raw = raw
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2) if lines and lines[0] else [b""]
        self.status = int(parts[1]) if len(parts) > 1 and \
            parts[1].isdigit() else 0
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            self.headers[k.strip().lower().decode()] = v.strip().decode()
        n = self.headers.get("content-length")
        if n is not None and n.isdigit():
            self.body = self.body[:int(n)]
        self.text = self.body.decode("utf-8", "replace")

    @property
    def code(self):
        """The catalogue code of a pkid error body, or None."""
        if self.text.startswith("error: "):
            return self.text.split(":")[1].strip()
        return None

    def __repr__(self):
        return f"Response({self.raw[:300]!r})"


def read_response(s, limit=10.0):
    """Read one response: until its Content-Length is there, EOF, or
    limit seconds pass. Returns a Response (status 0 when nothing came)."""
    data = b""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            r = Response(data)
            n = r.headers.get("content-length")
            if n is not None and n.isdigit() and len(rest) >= int(n):
                return r
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, ssl.SSLError, OSError):
            break
        if not chunk:
            break
        data += chunk
    return Response(data)


def exchange(port, raw, limit=10.0, tls_ctx=None):
    """Send raw bytes on a new connection, return the response."""
    s = connect(port, tls_ctx=tls_ctx)
    try:
        try:
            s.sendall(raw)
        except OSError:
            pass
        return read_response(s, limit)
    finally:
        s.close()


def closed_by_peer(s, limit=10.0):
    """True when the server closes s (EOF or reset) within limit seconds;
    any bytes it sends first are read and dropped."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            if not s.recv(65536):
                return True
        except socket.timeout:
            return False
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True
    return False
