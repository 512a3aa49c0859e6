"""Packaging: make install PREFIX=... puts the programs, the systemd unit,
the man pages and the bash completion in place; the man pages render, the
unit verifies, and every pkictl subcommand has a --help that fits on a
screen with an example."""
import os
import shutil
import subprocess

import pytest

from conftest import BUILD, ROOT, binary, run

SUBCOMMANDS = ["ca init", "ca issue", "ca chain", "ca list", "ca revoke",
               "ca unrevoke",
               "ca crl", "ca pending", "ca approve", "ca reject", "ca audit",
               "ca show", "ca rollover", "ca plan", "show", "verify",
               "diagnose", "explain", "scep challenge new",
               "scep challenge list", "scep challenge revoke", "scep ra-cert",
               "scep getcaps", "scep getca", "scep getnextca",
               "est user add", "est user list", "est user del",
               "est user passwd", "enroll est",
               "enroll scep", "renew est", "renew scep", "agent",
               "trust bundle create", "trust bundle show", "trust import",
               "trust list", "trust remove", "trust export", "trust status",
               "version"]
FILES = ["sbin/pkid", "bin/pkictl", "lib/systemd/system/pkid.service",
         "share/man/man8/pkid.8", "share/man/man5/pkid.conf.5",
         "share/man/man1/pkictl.1",
         "share/bash-completion/completions/pkictl"]


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    p = tmp_path_factory.mktemp("prefix")
    cp = run(["make", "-C", str(ROOT), "install", f"PREFIX={p}",
              f"BUILD={BUILD}", "JOBS=2"], timeout=1200)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    return p


def test_install_puts_every_file(prefix):
    for f in FILES:
        assert (prefix / f).is_file(), f
    assert os.access(prefix / "sbin/pkid", os.X_OK)
    cp = run([str(prefix / "bin/pkictl"), "version"], check=True)
    assert cp.stdout.startswith("pkictl ")
    unit = (prefix / "lib/systemd/system/pkid.service").read_text()
    assert f"ExecStart={prefix}/sbin/pkid --dir /var/lib/pkid" in unit


@pytest.mark.skipif(shutil.which("man") is None, reason="no man")
@pytest.mark.parametrize("page,title", [
    ("share/man/man8/pkid.8", "pkid(8)"),
    ("share/man/man5/pkid.conf.5", "pkid.conf(5)"),
    ("share/man/man1/pkictl.1", "pkictl(1)")])
def test_man_pages_render(prefix, page, title):
    cp = run(["man", "-l", str(prefix / page)],
             env={"MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat"})
    assert cp.returncode == 0, cp.stderr
    assert title in cp.stdout and "NAME" in cp.stdout
    assert "SEE ALSO" in cp.stdout
    if title == "pkictl(1)":
        for sub in SUBCOMMANDS:
            assert sub in cp.stdout, sub
    if title == "pkid.conf(5)":
        for sec in ("[status]", "[log]", "[server]", "[est]", "[store]"):
            assert sec in cp.stdout


def test_unit_hardening(prefix):
    unit = (prefix / "lib/systemd/system/pkid.service").read_text()
    for line in ("NoNewPrivileges=yes", "ProtectSystem=strict",
                 "PrivateTmp=yes", "StateDirectory=pkid",
                 "ReadWritePaths=/var/lib/pkid", "CapabilityBoundingSet=\n",
                 "ExecReload=/bin/kill -HUP $MAINPID", "User=pkid"):
        assert line in unit, line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="no systemd-analyze")
def test_unit_verifies(prefix):
    cp = run(["systemd-analyze", "verify", "--man=no",
              str(prefix / "lib/systemd/system/pkid.service")])
    assert cp.returncode == 0, cp.stdout + cp.stderr


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_every_subcommand_has_help(sub):
    cp = run([binary("pkictl"), *sub.split(), "--help"])
    assert cp.returncode == 0, cp.stderr
    lines = cp.stdout.splitlines()
    assert 3 <= len(lines) <= 24, cp.stdout
    assert max(len(ln) for ln in lines) <= 80, cp.stdout
    assert lines[0].startswith("usage: pkictl " + sub.split()[0])
    assert "example:" in cp.stdout


def test_completion_is_valid_bash(prefix):
    f = prefix / "share/bash-completion/completions/pkictl"
    run(["bash", "-n", str(f)], check=True)
    cp = run(["bash", "-c", f". {f}; COMP_WORDS=(pkictl ca i); "
              "COMP_CWORD=2; _pkictl; echo ${COMPREPLY[@]}"], check=True)
    assert cp.stdout.split() == ["init", "issue"]
