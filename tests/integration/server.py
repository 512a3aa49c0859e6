"""Start a real pkid on loopback ports chosen by the kernel, for tests."""
import os
import re
import signal
import subprocess
import time
import urllib.request
import ssl
from pathlib import Path

from conftest import binary


class Pkid:
    """A running pkid; use as a context manager."""

    def __init__(self, ca_dir, *extra, env=None, stderr_path=None,
                 exe=None):
        self.exe = exe
        self.ca_dir = ca_dir
        self.extra = [str(x) for x in extra]
        self.env = env
        # With stderr_path, the log goes to that file and read_stderr()
        # reads it while the server runs.
        self.stderr_path = stderr_path
        self._errf = None
        self.proc = None
        self.tls_port = self.http_port = None
        self.log = []

    def __enter__(self):
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self.started = time.monotonic()
        if self.stderr_path is not None:
            self._errf = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(
            [self.exe or binary("pkid"), "--dir", str(self.ca_dir), "--listen",
             "127.0.0.1:0", "--http", "127.0.0.1:0", *self.extra],
            stdout=subprocess.PIPE,
            stderr=self._errf if self._errf else subprocess.PIPE, text=True,
            env=env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.log.append(line)
            m = re.match(r"pkid: https on port (\d+)", line)
            if m:
                self.tls_port = int(m.group(1))
            m = re.match(r"pkid: http  on port (\d+)", line)
            if m:
                self.http_port = int(m.group(1))
            if line.startswith("pkid: ready"):
                self.ready_after = time.monotonic() - self.started
                return self
        self.stop()
        raise AssertionError("pkid did not start:\n" + "".join(self.log) +
                             self.proc.stderr.read())

    def url(self, path, tls=True):
        if tls:
            return f"https://localhost:{self.tls_port}{path}"
        return f"http://127.0.0.1:{self.http_port}{path}"

    def get(self, path, tls=True):
        """(status, headers, body bytes) of a GET."""
        ctx = ssl.create_default_context(cafile=str(self.ca_dir / "root.pem"))
        req = urllib.request.Request(self.url(path, tls))
        try:
            with urllib.request.urlopen(req, context=ctx if tls else None,
                                        timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def stop(self, sig=signal.SIGTERM):
        """Stop the server; returns (exit status, stdout rest, stderr)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        rc = self.proc.returncode
        self.proc = None
        if self._errf is not None:
            self._errf.close()
            self._errf = None
            err = self.read_stderr()
        self.stdout_rest, self.stderr = out, err
        return rc, out, err

    def read_stderr(self, wait=0.0):
        """The log so far (only with stderr_path), after wait seconds."""
        time.sleep(wait)
        if self.stderr_path is None:
            return ""
        return Path(self.stderr_path).read_text(errors="replace")

    def __exit__(self, *exc):
        self.stop()
