"""Overload (issue 12, item 3): EST simpleenroll clients from Python
threads offer pkid many times what it can sustain, for a bounded time.
pkid runs with one handler thread so that a 2-core machine saturates it
even under ASan. Every attempt must get an HTTP answer (200 or 503, no
reset or close without one); the 503s carry Retry-After and the code
overloaded; admitted requests are answered within the max_queue_delay
bound plus a tolerance for the TLS handshake and the handler's own time;
and the server is healthy and enrolls afterwards.

Two loads: handlers made 100 ms slower (PKID_TEST_DELAY_MS, a slow disk
or upstream; builds with PKID_TEST_HOOKS), where the capacity is steady
and the latency bound is tight; and the real CPU cost alone, where the
clients' handshakes and the handler share two noisy cores and the bound
is looser. Clients pause 0.2-0.5 s after a 503 (less than Retry-After:
the load stays many times the capacity without a handshake storm).

Before the load one enrollment warms the server up: the first check of
a password runs PBKDF2 (600,000 iterations, seconds under ASan) and
later ones hit the credential cache; the test measures the steady state.
The numbers measured are printed (pytest -s shows them)."""
import base64
import json
import os
import re
import ssl
import time
import urllib.request

import pytest

from conftest import pkictl
from estload import Load, csr_pool, pct
from server import Pkid

USER, PASSWORD = "load", "load-password-long-enough"
BOUND_S = 1.0
CLIENTS = int(os.environ.get("PKID_OVERLOAD_CLIENTS", "48"))
SECONDS = float(os.environ.get("PKID_OVERLOAD_SECONDS", "10"))
PAUSE_503 = (0.2, 0.5)


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    d = tmp_path_factory.mktemp("overload") / "ca"
    pkictl("ca", "init", "--dir", d,
           "--set", "server.handler_threads=1",
           "--set", "server.max_queue_delay=1s",
           "--set", "server.max_conns_per_addr=0",
           "--set", "server.rate_per_min=100000000", check=True)
    pkictl("est", "user", "add", "--dir", d, USER, input=PASSWORD + "\n",
           check=True)
    return d


def healthz(srv):
    ctx = ssl.create_default_context(cafile=str(srv.ca_dir / "root.pem"))
    with urllib.request.urlopen(srv.url("/healthz"), context=ctx,
                                timeout=10) as r:
        return r.status, json.loads(r.read())


def metric(srv, name):
    st, _, body = srv.get("/metrics")
    if st != 200:
        return None
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def enroll_once(srv, csr):
    """One simpleenroll on its own connection: the Attempt."""
    one = Load(srv.tls_port, str(srv.ca_dir / "root.pem"), USER, PASSWORD,
               [csr], clients=1)
    ctx = ssl.create_default_context(cafile=str(srv.ca_dir / "root.pem"))
    auth = "Basic " + base64.b64encode(
        f"{USER}:{PASSWORD}".encode()).decode()
    return one._one(ctx, csr, auth)


def served_ms(log, status):
    """Server-side times (ms, from accept) of simpleenrolls answered
    status in the access log text."""
    return [int(m.group(1)) for m in re.finditer(
        r'path="/.well-known/est/simpleenroll" status=%d .*? ms=(\d+)'
        % status, log)]


def overload(ca, tmp_path, env, p99_limit, ratio, must_saturate=True):
    csrs = csr_pool(tmp_path, 16)
    with Pkid(ca, env=env, stderr_path=tmp_path / "pkid.log") as srv:
        a = enroll_once(srv, csrs[0])
        assert a.status == 200, (a.status, a.body[:200], a.error)
        log0 = len(srv.read_stderr())
        load = Load(srv.tls_port, str(ca / "root.pem"), USER, PASSWORD,
                    csrs, clients=CLIENTS, pause_503=PAUSE_503)
        t0 = time.monotonic()
        attempts = load.run(SECONDS)
        wall = time.monotonic() - t0
        log = srv.read_stderr(0.5)[log0:]
        served = served_ms(log, 200)

        failed = [a for a in attempts if a.status == 0]
        by_status = {}
        for a in attempts:
            by_status[a.status] = by_status.get(a.status, 0) + 1
        ok = [a for a in attempts if a.status in (200, 202)]
        refused = [a for a in attempts if a.status == 503]
        codes = {}
        for a in refused:
            codes[a.code] = codes.get(a.code, 0) + 1
        lat = [a.took for a in ok]
        print(f"\noverload {env}: {CLIENTS} clients for {wall:.1f} s: "
              f"{len(attempts) / wall:.1f} requests/s offered, "
              f"{len(ok) / wall:.1f}/s admitted, {len(refused)} 503 "
              f"({100.0 * len(refused) / max(1, len(attempts)):.0f}%), "
              f"statuses {by_status}, codes {codes}; admitted p50 "
              f"{pct(lat, 50) * 1000:.0f} ms p99 {pct(lat, 99) * 1000:.0f} "
              f"ms max {max(lat, default=0) * 1000:.0f} ms; 503 p50 "
              f"{pct([a.took for a in refused], 50) * 1000:.0f} ms; "
              f"server-side admitted p50 {pct(served, 50):.0f} ms p99 "
              f"{pct(served, 99):.0f} ms, 503 p50 "
              f"{pct(served_ms(log, 503), 50):.0f} ms")

        # Every attempt got an answer, and only these.
        assert not failed, [a.error for a in failed[:5]]
        assert set(by_status) <= {200, 202, 503}, by_status
        # Overloaded for real: ratio times more offered than admitted.
        # With the real cost the clients share the cores with pkid; on a
        # machine busy with other work they may not get there, and then
        # there is no overload to look at.
        if not must_saturate and (not refused or
                                  len(attempts) < ratio * len(ok)):
            pytest.skip(f"the clients offered {len(attempts)} requests for "
                        f"{len(ok)} admitted ({by_status}): not overloaded")
        assert ok and refused, by_status
        assert len(attempts) >= ratio * len(ok), by_status
        assert codes.get("overloaded", 0) > 0, codes
        for a in refused:
            assert a.code in ("overloaded", "rate-limited"), a.body[:200]
            assert a.retry_after is not None, a.body[:200]
            assert 1 <= int(a.retry_after) <= 60, a.retry_after
        # Latency: as the clients saw it (their own scheduling and the
        # kernel's accept queue included), and as pkid served it (from
        # accept: TLS handshake, queue, handler).
        assert pct(lat, 99) < p99_limit, pct(lat, 99)
        assert len(served) == len(ok), (len(served), len(ok))
        assert pct(served, 99) < 3000, pct(served, 99)
        for a in ok:
            assert a.body.strip(), a.body
        # The refusals were counted.
        rejected = metric(srv, "pkid_http_503_limits_total")
        assert rejected is not None and rejected >= len(refused), rejected
        assert metric(srv, "pkid_handler_queue_delay_max_seconds") == 1.0

        # Healthy afterwards, and a fresh enrollment succeeds.
        time.sleep(1.5)
        st, h = healthz(srv)
        assert st == 200 and h["status"] == "ok", h
        a = enroll_once(srv, csr_pool(tmp_path, 1, prefix="after")[0])
        assert a.status == 200, (a.status, a.body[:200], a.error)
        assert a.body.strip(), a.body
        rc, out, err = srv.stop()
        assert "AddressSanitizer" not in err and "runtime error" not in err


def test_overload_slow_handler(ca, tmp_path):
    """Jobs of 100 ms more on one thread: about 7 enrollments/s."""
    overload(ca, tmp_path, {"PKID_TEST_DELAY_MS": "100"}, 4.0, 5)


def test_overload_cpu(ca, tmp_path):
    """The real cost alone. The clients' own handshakes share the two
    cores, so they offer less than twice what is admitted here."""
    overload(ca, tmp_path, None, 5.0, 1.2, must_saturate=False)
