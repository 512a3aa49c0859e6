"""EST simpleenroll load from Python threads, for the overload and crash
tests: every client opens a fresh TLS connection per request (as devices
do), and every attempt is recorded with its outcome, so a test can check
that each one got an HTTP answer and what the answers were."""
import base64
import http.client
import random
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

from conftest import make_csr, openssl

EST = "/.well-known/est"


def csr_pool(tmp, n, prefix="load"):
    """n base64 DER CSRs (one line each) of fresh EC P-256 keys."""
    out = []
    for i in range(n):
        csr = make_csr(tmp, name=f"{prefix}{i}",
                       subject=f"/CN={prefix}{i}.example.com",
                       san=f"DNS:{prefix}{i}.example.com")
        der = csr.with_suffix(".der")
        openssl("req", "-in", csr, "-outform", "DER", "-out", der,
                check=True)
        out.append(base64.b64encode(der.read_bytes()) + b"\n")
    return out


@dataclass
class Attempt:
    t0: float                  # monotonic start (before connect)
    t1: float                  # monotonic end (answer read, or failure)
    status: int                # HTTP status, 0 when no answer came
    retry_after: str = None    # Retry-After header, if any
    code: str = None           # catalogue code of an error body
    body: bytes = b""          # body (certificates for a 200)
    error: str = None          # why no answer (exception text)

    @property
    def took(self):
        return self.t1 - self.t0


@dataclass
class Load:
    """Clients posting simpleenroll to port until stop is set."""
    port: int
    cafile: str
    user: str
    password: str
    csrs: list
    clients: int = 32
    # Pause after a 503 before the next attempt, seconds (uniform in
    # [lo, hi]): 0 keeps the pressure on; honouring Retry-After is the
    # caller's choice.
    pause_503: tuple = (0.0, 0.0)
    timeout: float = 30.0
    attempts: list = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def _one(self, ctx, body, auth):
        t0 = time.monotonic()
        conn = http.client.HTTPSConnection("localhost", self.port,
                                           context=ctx, timeout=self.timeout)
        try:
            conn.request("POST", EST + "/simpleenroll", body=body, headers={
                "Content-Type": "application/pkcs10",
                "Authorization": auth, "Connection": "close"})
            r = conn.getresponse()
            data = r.read()
            a = Attempt(t0, time.monotonic(), r.status,
                        r.getheader("Retry-After"), body=data)
            m = re.match(rb"error: ([a-z0-9-]+):", data)
            if r.status != 200 and m:
                a.code = m.group(1).decode()
            return a
        except (OSError, http.client.HTTPException, ssl.SSLError) as err:
            return Attempt(t0, time.monotonic(), 0,
                           error=f"{type(err).__name__}: {err}")
        finally:
            conn.close()

    def _client(self, idx):
        ctx = ssl.create_default_context(cafile=self.cafile)
        auth = "Basic " + base64.b64encode(
            f"{self.user}:{self.password}".encode()).decode()
        rnd = random.Random(idx)
        i = idx
        while not self.stop.is_set():
            a = self._one(ctx, self.csrs[i % len(self.csrs)], auth)
            i += self.clients
            self.attempts.append(a)   # list.append is atomic
            if a.status == 503 and self.pause_503[1] > 0:
                self.stop.wait(rnd.uniform(*self.pause_503))

    def run(self, seconds):
        """Run the clients for seconds; returns the attempts."""
        threads = [threading.Thread(target=self._client, args=(i,),
                                    daemon=True)
                   for i in range(self.clients)]
        for t in threads:
            t.start()
        self.stop.wait(seconds)
        self.stop.set()
        for t in threads:
            t.join(self.timeout + 10)
        return self.attempts

    def start(self):
        """Start the clients in the background; stop with finish()."""
        self._threads = [threading.Thread(target=self._client, args=(i,),
                                          daemon=True)
                         for i in range(self.clients)]
        for t in self._threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self._threads:
            t.join(self.timeout + 10)
        return self.attempts


def pct(values, p):
    """The p-th percentile (nearest rank) of values, 0 for none."""
    if not values:
        return 0.0
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def wait_port(port, deadline=10):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False
