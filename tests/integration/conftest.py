"""Shared fixtures: paths to the built binaries, a fresh CA, CSR helpers."""
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PKID_BUILD", ROOT / "build"))


def binary(name):
    path = BUILD / name
    if not path.exists():
        pytest.fail(f"{path} not built; run make test")
    return str(path)


def run(args, check=False, env=None, input=None, timeout=120):
    """Run a command, return CompletedProcess with text output."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    cp = subprocess.run(args, capture_output=True, text=True, env=full_env,
                        input=input, timeout=timeout)
    if check and cp.returncode != 0:
        raise AssertionError(f"{args} failed ({cp.returncode}):\n"
                             f"{cp.stdout}\n{cp.stderr}")
    return cp


# The names test CAs allow. `pkictl ca init` refuses to guess them (it
# needs --domain, or a domain in --subject: README "Security model"), so
# pkictl() below adds these to a `ca init` that gives no --domain; a test
# of that refusal calls run([binary("pkictl"), ...]) itself.
TEST_NAMES = ["--domain", "example.com,example.test,example.org,example,"
              "localhost", "--ip-ranges",
              "10.0.0.0/8,127.0.0.0/8,192.168.0.0/16,::1/128"]


def pkictl(*args, **kw):
    args = [str(a) for a in args]
    if args[:2] == ["ca", "init"] and "--domain" not in args:
        args[2:2] = TEST_NAMES
    return run([binary("pkictl"), *args], **kw)


def openssl(*args, **kw):
    return run(["openssl", *map(str, args)], **kw)


def make_csr(tmp, name="dev", key="ec:P-256", subject="/CN=dev1.example.com",
             san="DNS:dev1.example.com,IP:10.1.2.3"):
    """Make a key and CSR with the openssl command; returns the CSR path."""
    keyfile = tmp / f"{name}.key"
    csr = tmp / f"{name}.csr"
    if key.startswith("ec:"):
        keyopt = ["-newkey", "ec", "-pkeyopt",
                  f"ec_paramgen_curve:{key[3:]}"]
    else:
        keyopt = ["-newkey", key]
    args = ["req", "-new", *keyopt, "-nodes", "-keyout", keyfile,
            "-subj", subject, "-out", csr]
    if san:
        args += ["-addext", f"subjectAltName={san}"]
    openssl(*args, check=True)
    return csr


@pytest.fixture
def ca(tmp_path):
    """A fresh CA directory made by pkictl ca init."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    return d


def cert_count(d):
    cp = pkictl("ca", "list", "--dir", d, "--json", check=True)
    return len(json.loads(cp.stdout))


def error_code(cp):
    """The catalogue code of an 'error: CODE: ...' line on stderr."""
    for line in cp.stderr.splitlines():
        if line.startswith("error: "):
            return line.split(":")[1].strip()
    return None
