"""Helpers of the status page, metrics and log tests: enroll with curl
(EST) and strongSwan (SCEP), read the page in headless Chromium, parse the
DOM and /metrics."""
import base64
import html.parser
import os
import shutil
import subprocess
from pathlib import Path

from conftest import BUILD, make_csr, openssl, run

EST = "/.well-known/est"
ARTIFACTS = BUILD / "test-artifacts"
CHROMIUM = shutil.which("chromium")


def curl(srv, url_path, tmp, *args, data=None, ctype="application/pkcs10",
         user=None, cert=None, key=None, plain=False):
    """(status, headers with lower-case names, body bytes)."""
    hdr, body = tmp / "h.txt", tmp / "b.bin"
    for f in (hdr, body):
        if f.exists():
            f.unlink()
    cmd = ["curl", "-sS", "--max-time", "60", "--cacert",
           str(srv.ca_dir / "root.pem"), "-D", str(hdr), "-o", str(body),
           "-w", "%{http_code}", *args]
    if user is not None:
        cmd += ["--user", user]
    if cert is not None:
        cmd += ["--cert", str(cert), "--key", str(key)]
    if data is not None:
        src = tmp / "req.body"
        src.write_bytes(data)
        cmd += ["-H", f"Content-Type: {ctype}", "--data-binary", f"@{src}"]
    cmd.append(srv.url(url_path, tls=not plain))
    cp = run(cmd, timeout=90)
    assert cp.returncode == 0, cp.stderr
    headers = {}
    for line in hdr.read_bytes().decode().split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return int(cp.stdout), headers, body.read_bytes()


def csr_b64(tmp, name, cn, san=None):
    """(base64 body of a new EC CSR for cn, key path)."""
    csr = make_csr(tmp, name=name, subject=f"/CN={cn}",
                   san=san if san is not None else f"DNS:{cn}")
    der = tmp / f"{name}.der"
    openssl("req", "-in", csr, "-outform", "DER", "-out", der, check=True)
    return base64.b64encode(der.read_bytes()) + b"\n", tmp / f"{name}.key"


def est_enroll(srv, tmp, name, cn, label="", user=None, cert=None,
               key=None, op="simpleenroll", san=None):
    """EST enrollment with curl: (status, headers, body, key path)."""
    body, k = csr_b64(tmp, name, cn, san)
    path = f"{EST}/{label + '/' if label else ''}{op}"
    st, h, b = curl(srv, path, tmp, data=body, user=user, cert=cert,
                    key=key)
    return st, h, b, k


def leaf_pem(body, tmp, name):
    """The certificate of an EST certs-only answer, PEM, in a file."""
    p7 = tmp / f"{name}.p7"
    p7.write_bytes(base64.b64decode(body))
    pem = openssl("pkcs7", "-inform", "DER", "-in", p7, "-print_certs",
                  check=True).stdout
    out = tmp / f"{name}.pem"
    out.write_text(pem)
    return out


def chromium(url, tmp, *extra, timeout=120):
    """Run headless Chromium on url; returns CompletedProcess."""
    prof = tmp / "chromium-profile"
    prof.mkdir(exist_ok=True)
    return run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--no-first-run", "--hide-scrollbars",
                f"--user-data-dir={prof}", "--ignore-certificate-errors",
                *extra, url], timeout=timeout)


def dump_dom(url, tmp):
    cp = chromium(url, tmp, "--dump-dom")
    assert cp.returncode == 0, cp.stderr
    return cp.stdout


def screenshot(url, tmp, name, width, height):
    """A PNG of url at width x height, kept in build/test-artifacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / name
    if out.exists():
        out.unlink()
    cp = chromium(url, tmp, f"--window-size={width},{height}",
                  f"--screenshot={out}")
    assert cp.returncode == 0 and out.exists(), cp.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return out


class Dom(html.parser.HTMLParser):
    """Text by element id, and the attributes of every element."""

    def __init__(self, text):
        super().__init__()
        self.by_id, self.elems, self._open = {}, [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elems.append((tag, a))
        if tag in ("br", "input", "meta", "link", "line", "rect", "img"):
            return
        self._open.append([a.get("id"), ""])

    def handle_endtag(self, tag):
        if tag in ("br", "input", "meta", "link", "line", "rect", "img"):
            return
        if self._open:
            ident, text = self._open.pop()
            if ident is not None:
                self.by_id[ident] = text.strip()
            if self._open:
                self._open[-1][1] += text

    def handle_data(self, data):
        if self._open:
            self._open[-1][1] += data

    def with_class(self, tag, cls):
        return [a for t, a in self.elems
                if t == tag and cls in (a.get("class") or "").split()]


def metrics(srv, tmp):
    """Parsed /metrics: {(name, frozenset(labels.items())): value}."""
    from prometheus_client.parser import text_string_to_metric_families
    st, h, body = curl(srv, "/metrics", tmp)
    assert st == 200, body
    assert h["content-type"].startswith("text/plain; version=0.0.4")
    out = {}
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def metric(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0)
