"""Hostile HTTP clients (issue "Security first", holding the server):
malformed requests answered in pkid's error format, NUL bytes, slow
senders, one address holding every slot, idle keep-alive connections at
the cap. Raw sockets for what curl would never send; all on loopback,
every wait bounded."""
import threading
import time

import pytest

from conftest import pkictl, run
from httpraw import (closed_by_peer, connect, exchange, insecure_tls,
                     read_response)
from server import Pkid

KIB = 1024
H = b"Host: x\r\n"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile") / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    with Pkid(d, "--workers", "2") as s:
        yield s


def pkid_error(r, status, code):
    """r is a pkid error response: status, text body, catalogue code."""
    assert r.status == status, r
    assert r.headers.get("content-type", "").startswith("text/plain"), r
    assert r.code == code, r
    assert "\nfix: " in r.text, r
    assert "<html" not in r.text.lower(), r


def chunked(total, size=8 * KIB):
    out = b""
    while total > 0:
        n = min(size, total)
        out += b"%x\r\n" % n + b"A" * n + b"\r\n"
        total -= n
    return out + b"0\r\n\r\n"


# (name, raw request, status, code, text the body must hold)
MALFORMED = [
    ("body-over-limit-cl",
     b"POST /scep HTTP/1.1\r\n" + H + b"Content-Length: 200000\r\n\r\n" +
     b"A" * 1000, 413, "too-large", "200000"),
    ("body-over-limit-chunked",
     b"POST /scep HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
     + chunked(140 * KIB), 413, "too-large", "bytes"),
    ("content-length-not-a-number",
     b"POST /scep HTTP/1.1\r\n" + H + b"Content-Length: abc\r\n\r\nabc",
     400, "http-malformed", "Content-Length"),
    ("content-length-negative",
     b"POST /scep HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n",
     400, "http-malformed", "Content-Length"),
    ("content-length-and-transfer-encoding",
     b"POST /scep HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
     400, "http-malformed", "Transfer-Encoding"),
    ("headers-over-limit",
     b"GET /healthz HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * (17 * KIB) +
     b"\r\n\r\n", 431, "too-large", "header"),
    ("headers-far-over-limit",
     b"GET /healthz HTTP/1.1\r\n" + H +
     b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 1000) for i in range(120)) +
     b"\r\n", 431, "too-large", "header"),
    ("uri-far-over-limit",
     b"GET /scep?message=" + b"A" * (120 * KIB) + b" HTTP/1.1\r\n" + H +
     b"\r\n", 414, "too-large", "URI"),
    ("garbage-request-line", b"HELLO\r\n\r\n", 400, "http-malformed",
     "request line"),
    ("tls-on-plain-port",
     bytes.fromhex("160301020001000001fc0303") + b"\x00" * 40 + b"\r\n\r\n",
     400, "http-malformed", "TLS"),
    ("http-0.9", b"GET /healthz\r\n", 505, "http-malformed", "HTTP/0.9"),
    ("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505,
     "http-malformed", "HTTP/2"),
    ("http-version-3", b"GET /healthz HTTP/3.0\r\n" + H + b"\r\n", 505,
     "http-malformed", "HTTP/3.0"),
    ("trace", b"TRACE /healthz HTTP/1.1\r\n" + H + b"\r\n", 405,
     "method-not-allowed", "TRACE is not allowed"),
    ("connect", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com"
     b"\r\n\r\n", 501, "method-not-allowed", "CONNECT"),
    ("put", b"PUT /healthz HTTP/1.1\r\n" + H + b"Content-Length: 2\r\n"
     b"\r\nhi", 405, "method-not-allowed", "PUT is not allowed"),
    ("delete", b"DELETE /healthz HTTP/1.1\r\n" + H + b"\r\n", 405,
     "method-not-allowed", "DELETE is not allowed"),
    ("unknown-method", b"BREW /healthz HTTP/1.1\r\n" + H + b"\r\n", 501,
     "method-not-allowed", "BREW"),
    ("expect-not-100-continue",
     b"POST /scep HTTP/1.1\r\n" + H + b"Expect: 200-ok\r\n"
     b"Content-Length: 2\r\n\r\nhi", 417, "http-malformed", "Expect"),
    ("bad-chunk-size",
     b"POST /scep HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
     b"zz\r\nhello\r\n0\r\n\r\n", 400, "http-malformed", ""),
    ("obsolete-line-folding",
     b"GET /healthz HTTP/1.1\r\n" + H + b"X-A: a\r\n b\r\n\r\n", 400,
     "http-malformed", "fold"),
    ("space-before-colon",
     b"GET /healthz HTTP/1.1\r\n" + H + b"X-A : a\r\n\r\n", 400,
     "http-malformed", "header"),
]


@pytest.mark.parametrize("name,raw,status,code,needle", MALFORMED,
                         ids=[m[0] for m in MALFORMED])
def test_malformed_answered_in_pkid_format(srv, name, raw, status, code,
                                           needle):
    r = exchange(srv.http_port, raw)
    pkid_error(r, status, code)
    assert needle in r.text, r
    if status == 405:
        assert r.headers.get("allow") == "GET, HEAD", r


TLS_MALFORMED = [
    ("trace", b"TRACE /healthz HTTP/1.1\r\n" + H + b"\r\n", 405,
     "method-not-allowed"),
    ("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505,
     "http-malformed"),
    ("headers-far-over-limit", b"GET /healthz HTTP/1.1\r\n" + H +
     b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 1000) for i in range(120)) +
     b"\r\n", 431, "too-large"),
    ("nul-in-header", b"GET /healthz HTTP/1.1\r\n" + H +
     b"X-A: a\x00b\r\n\r\n", 400, "http-malformed"),
]


@pytest.mark.parametrize("name,raw,status,code", TLS_MALFORMED,
                         ids=[m[0] for m in TLS_MALFORMED])
def test_malformed_over_tls(srv, name, raw, status, code):
    r = exchange(srv.tls_port, raw, tls_ctx=insecure_tls())
    pkid_error(r, status, code)


def test_nul_bytes_refused(srv):
    # Today's baseline: the same request without the NUL is served.
    ok = exchange(srv.http_port, b"GET /scep?operation=GetCACaps "
                  b"HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
    assert ok.status == 200 and b"POSTPKIOperation" in ok.body
    for raw in [
        # An encoded NUL in the query never reaches a handler.
        b"GET /scep?operation=GetCACaps%00x HTTP/1.1\r\n" + H + b"\r\n",
        b"GET /scep?x=1&operation=GetCACaps%00 HTTP/1.1\r\n" + H +
        b"\r\n",
        # A raw NUL in a header value, and in a header name.
        b"GET /scep?operation=GetCACaps HTTP/1.1\r\n" + H +
        b"Content-Type: application/pkcs10\x00x\r\n\r\n",
        b"GET /scep?operation=GetCACaps HTTP/1.1\r\n" + H +
        b"X-A\x00B: c\r\n\r\n",
        # A raw NUL in the request target.
        b"GET /scep?operation=GetCACaps\x00 HTTP/1.1\r\n" + H + b"\r\n",
    ]:
        r = exchange(srv.http_port, raw)
        pkid_error(r, 400, "http-malformed")
        assert b"POSTPKIOperation" not in r.body


def test_connection_closed_after_refusal(srv):
    """A refused request ends the connection: what follows it on the
    same connection is never taken as a request (no smuggling)."""
    s = connect(srv.http_port)
    try:
        s.sendall(b"POST /scep HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                  b"GET /healthz HTTP/1.1\r\n" + H + b"\r\n")
        r = read_response(s)
        pkid_error(r, 400, "http-malformed")
        assert r.headers.get("connection") == "close"
        assert closed_by_peer(s)
    finally:
        s.close()


def drip(s, stop, got):
    """Send a request head one header line a second until stop is set or
    the server answers; got[0] receives the answer."""
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        i = 0
        while not stop.is_set():
            s.sendall(b"X-Drip-%d: %s\r\n" % (i, b"z" * 20))
            i += 1
            s.settimeout(1.0)
            try:
                data = s.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            got[0] = data + read_response(s, 2).raw
            break
    except OSError:
        pass


def test_slow_headers_do_not_hold_the_slots(tmp_path):
    """20 clients each sending one header line a second hold all 20
    slots; the whole-head deadline (10 s by default) answers them 408 and
    frees the slots for a client that behaves."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set", "server.max_conns=20",
           check=True)
    with Pkid(d, "--workers", "2") as srv:
        stop = threading.Event()
        socks, threads, got = [], [], []
        try:
            for i in range(20):
                s = connect(srv.http_port)
                socks.append(s)
                got.append([None])
                t = threading.Thread(target=drip, args=(s, stop, got[i]),
                                     daemon=True)
                t.start()
                threads.append(t)
            time.sleep(1.0)
            url = srv.url("/healthz", tls=False)
            cp = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                      url])
            assert cp.stdout == "503"   # the slots are all taken
            served_at = None
            t0 = time.monotonic()
            while time.monotonic() - t0 < 20:
                cp = run(["curl", "-s", "-o", "/dev/null", "-w",
                          "%{http_code}", url])
                if cp.stdout == "200":
                    served_at = time.monotonic() - t0
                    break
                time.sleep(0.5)
            assert served_at is not None, "the slow clients kept the slots"
            print(f"slow headers: a new client served {served_at:.1f} s "
                  "after the 20 slow ones filled every slot")
        finally:
            stop.set()
            for t in threads:
                t.join(10)
            for s in socks:
                s.close()
        answered = [g[0] for g in got if g[0]]
        assert len(answered) == 20
        for raw in answered:
            assert raw.startswith(b"HTTP/1.1 408 "), raw[:200]
            assert b"error: request-timeout: " in raw, raw[:400]


def test_slow_body_and_silent_connection(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set", "server.header_timeout=2s",
           "--set", "server.body_timeout=3s", check=True)
    with Pkid(d, "--workers", "1") as srv:
        # The body trickles in a byte a second: 408 once 3 s have passed
        # since the head (the read timeout alone never fires).
        s = connect(srv.http_port)
        t0 = time.monotonic()
        s.sendall(b"POST /scep HTTP/1.1\r\n" + H +
                  b"Content-Length: 100\r\n\r\n")
        r = None
        for _ in range(20):
            s.sendall(b"x")
            s.settimeout(1.0)
            try:
                data = s.recv(4096)
            except TimeoutError:
                continue
            r = read_response_from(s, data)
            break
        s.close()
        assert r is not None, "no answer while the body trickled in"
        pkid_error(r, 408, "request-timeout")
        print(f"slow body: 408 after {time.monotonic() - t0:.1f} s")
        assert 2.0 < time.monotonic() - t0 < 15
        # A connection that sends nothing is closed at the head deadline.
        s = connect(srv.http_port)
        t0 = time.monotonic()
        assert closed_by_peer(s, 12)
        s.close()
        assert time.monotonic() - t0 < 12
        # A slow head on a kept-alive connection: the first request is
        # served, the second trickles and gets 408.
        s = connect(srv.http_port)
        s.sendall(b"GET /healthz HTTP/1.1\r\n" + H + b"\r\n")
        assert read_response(s).status == 200
        s.sendall(b"GET /healthz HTTP/1.1\r\n")
        r = None
        for i in range(20):
            s.sendall(b"X-%d: y\r\n" % i)
            s.settimeout(1.0)
            try:
                data = s.recv(4096)
            except TimeoutError:
                continue
            r = read_response_from(s, data)
            break
        s.close()
        assert r is not None
        pkid_error(r, 408, "request-timeout")


def read_response_from(s, first):
    """A response whose first bytes were already read."""
    from httpraw import Response
    rest = read_response(s, 3).raw
    return Response(first + rest)


def test_one_address_cannot_take_every_slot(tmp_path):
    """100 silent connections from 127.0.0.2 with max_conns 100: past the
    per-address cap (64 by default) they are closed at once, so a client
    from another address is served."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set", "server.max_conns=100",
           check=True)
    with Pkid(d, "--workers", "2") as srv:
        socks = []
        try:
            for _ in range(100):
                socks.append(connect(srv.http_port, src="127.0.0.2"))
            time.sleep(0.5)
            url = srv.url("/healthz", tls=False)
            served = False
            t0 = time.monotonic()
            while time.monotonic() - t0 < 8:
                cp = run(["curl", "-s", "-o", "/dev/null", "-w",
                          "%{http_code}", url])
                if cp.stdout == "200":
                    served = True
                    break
                time.sleep(0.25)
            assert served, "silent connections from one address hold " \
                "every slot"
            # Those past the cap were closed (which ones depends on the
            # order the workers accepted them in).
            closed = sum(1 for s in socks if closed_by_peer(s, 0.05))
            assert closed >= 36
        finally:
            for s in socks:
                s.close()


def test_per_address_cap_503(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set", "server.max_conns_per_addr=3",
           check=True)
    with Pkid(d, "--workers", "2") as srv:
        socks = [connect(srv.http_port) for _ in range(3)]
        try:
            time.sleep(0.3)
            cp = run(["curl", "-s", "-i", srv.url("/healthz", tls=False)])
            assert cp.stdout.startswith("HTTP/1.1 503"), cp.stdout
            assert "Retry-After:" in cp.stdout
            assert "error: conn-limit: " in cp.stdout
            assert "127.0.0.1" in cp.stdout
            # Another address is not affected.
            cp = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                      "--interface", "127.0.0.3",
                      srv.url("/healthz", tls=False)])
            assert cp.stdout == "200"
        finally:
            for s in socks:
                s.close()
        # Once they are closed the address is served again.
        ok = False
        for _ in range(40):
            cp = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                      srv.url("/healthz", tls=False)])
            if cp.stdout == "200":
                ok = True
                break
            time.sleep(0.25)
        assert ok


def test_idle_keepalive_closed_first_at_the_cap(tmp_path):
    """At max_conns, a new client is served by closing a kept-alive
    connection that has no request in progress."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set", "server.max_conns=4",
           check=True)
    with Pkid(d, "--workers", "1") as srv:
        idle = []
        try:
            for _ in range(4):
                s = connect(srv.http_port)
                s.sendall(b"GET /healthz HTTP/1.1\r\n" + H + b"\r\n")
                assert read_response(s).status == 200
                idle.append(s)
            for _ in range(3):
                cp = run(["curl", "-s", "-o", "/dev/null", "-w",
                          "%{http_code}", srv.url("/healthz", tls=False)])
                assert cp.stdout == "200"
            closed = sum(1 for s in idle if closed_by_peer(s, 1))
            assert closed >= 1
        finally:
            for s in idle:
                s.close()
