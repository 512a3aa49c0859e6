"""Every command a message names exists (issue 14): walk `pkictl --help`,
`pkictl help` and every command's --help, then the strings compiled into
pkictl and pkid, the man pages' sources and the README; each
`pkictl WORD [WORD]` they name must answer --help with exit 0 (and an
`explain CODE` must name a code)."""
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, binary, pkictl, run

# "pkictl WORD [WORD]": the words a person would type.
REF = re.compile(r"\bpkictl((?: [a-z][a-z0-9-]*){1,2})")
# Prose that follows the tool's name ("pkictl uses AES ...") is no command.
PROSE = {"uses", "sends", "reads", "is", "has", "command", "does", "as",
         "and", "or", "while", "ignores", "subcommand", "itself"}


def table():
    """The commands of `pkictl help`, as word lists."""
    cp = pkictl("help", check=True)
    cmds = []
    for line in cp.stdout.splitlines()[1:]:
        assert line.startswith("  "), line
        cmds.append(re.split(r"\s{2,}", line.strip())[0].split())
    assert len(cmds) >= 30, cp.stdout
    return cmds


def refs(text):
    """(first word, second word or None) of each pkictl reference."""
    out = set()
    for m in REF.finditer(text):
        words = m.group(1).split()
        out.add((words[0], words[1] if len(words) > 1 else None))
    return out


def check_refs(found, where):
    """Each reference names a command that exists; returns how many were
    checked (prose skipped)."""
    tops = {c[0] for c in table()} | {"help", "version"}
    bad, checked = [], 0
    for w1, w2 in sorted(found, key=lambda r: (r[0], r[1] or "")):
        if w1 in PROSE:
            continue
        checked += 1
        if w1 not in tops:
            bad.append(f"pkictl {w1} (no such command)")
            continue
        words = [w1] + ([w2] if w2 else [])
        cp = pkictl(*words, "--help")
        if cp.returncode != 0:
            bad.append(f"pkictl {' '.join(words)}: {cp.stderr.strip()}")
        if w1 == "explain" and w2:
            cp = pkictl("explain", w2)
            if cp.returncode != 0:
                bad.append(f"pkictl explain {w2}: {cp.stderr.strip()}")
    assert not bad, f"{where} names commands that do not exist:\n" + \
        "\n".join(bad)
    return checked


def test_help_walk():
    """pkictl --help lists every command of the help table; each one's
    --help fits a screen with an example; every command named in any of
    them exists."""
    top = pkictl("--help", check=True).stdout
    found = refs(top)
    for cmd in table():
        # Every command appears in the short usage too (as "ca ...|plan").
        line = [ln for ln in top.splitlines()
                if re.match(rf"{re.escape(cmd[0])}\b", ln.strip())]
        assert line, f"pkictl --help does not list {cmd[0]}"
        if len(cmd) > 1:
            assert any(re.search(rf"\b{re.escape(cmd[1])}\b", ln)
                       for ln in line), f"pkictl --help omits {cmd}"
        cp = pkictl(*cmd, "--help")
        assert cp.returncode == 0, (cmd, cp.stderr)
        assert "example:" in cp.stdout, cmd
        assert len(cp.stdout.splitlines()) <= 24, cmd
        found |= refs(cp.stdout)
    found |= refs(pkictl("help", check=True).stdout)
    assert check_refs(found, "--help") >= 20


def test_unknown_command_help_fails():
    """--help of a command that does not exist says so (exit 2), so a
    walk like the one above can tell."""
    for words in (["frobnicate"], ["ca", "frobnicate"],
                  ["trust", "frobnicate"], ["enroll", "acme"]):
        cp = pkictl(*words, "--help")
        assert cp.returncode == 2, (words, cp.stdout)
        assert "no command 'pkictl" in cp.stderr
        assert "pkictl help" in cp.stderr
    cp = pkictl("help", "frobnicate")
    assert cp.returncode == 2
    # The alias pkictl scep enroll|renew answers as enroll|renew scep.
    cp = pkictl("scep", "enroll", "--help", check=True)
    assert cp.stdout == pkictl("enroll", "scep", "--help").stdout


@pytest.mark.skipif(shutil.which("strings") is None,
                    reason="binutils' strings not installed")
def test_compiled_strings_name_real_commands():
    """The messages compiled into pkictl and pkid (errors, remedies, the
    generated pkid.conf, usage texts) name only commands that exist."""
    found = set()
    for exe in ("pkictl", "pkid"):
        cp = run(["strings", "-n", "6", binary(exe)], check=True)
        found |= refs(cp.stdout)
    assert ("explain", "config-unknown-key") not in found
    assert check_refs(found, "the binaries") >= 20


def test_docs_name_real_commands():
    """README and the man pages' sources too."""
    text = (ROOT / "README.md").read_text()
    for p in sorted((ROOT / "docs").rglob("*.scd")):
        text += p.read_text()
    check_refs(refs(text), "README.md and docs/man")


def test_generated_conf_points_at_the_key_list(tmp_path):
    """The pkid.conf ca init writes names where the keys are listed, and
    that page lists every key of every section pkid reads."""
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    conf = (d / "pkid.conf").read_text()
    assert "'man 5 pkid.conf' lists what each section takes" in conf
    assert "explain config-unknown-key" not in conf
    man = (ROOT / "docs/man/pkid.conf.5.scd").read_text()
    section = None
    for line in conf.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]").split()[0]
            assert f"# [{section}" in man, section
        elif "=" in line and not line.startswith(";"):
            key = line.split("=")[0].strip()
            assert f"*{key}*" in man, (section, key)
    # An unknown key's remedy points there too.
    (d / "pkid.conf").write_text(conf.replace("[ca]\n", "[ca]\nbogus = 1\n",
                                              1))
    cp = run([binary("pkid"), "--check", "--dir", str(d)])
    assert cp.returncode == 2 and "config-unknown-key" in cp.stderr
    assert "man 5 pkid.conf" in cp.stderr, cp.stderr
    assert "known: name, digest" in cp.stderr
