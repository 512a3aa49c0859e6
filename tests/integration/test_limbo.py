"""x509-limbo conformance: run the harness on the dev corpus and on pkid's
own rules corpus (tools/gen-rules-corpus.py) and check that the number of
right answers never drops below the committed baselines; validate every
root of Debian's ca-certificates as a trust anchor."""
import concurrent.futures
import datetime
import json
import re
import sys
from pathlib import Path

import pytest
from cryptography import x509

from conftest import ROOT, binary, pkictl, run

DATA = ROOT / "tests" / "data" / "limbo"
CORPUS = DATA / "limbo-dev.json"
BASELINE = DATA / "baseline.json"
RULES = DATA / "pkid-rules.json"
RULES_BASELINE = DATA / "pkid-rules-baseline.json"
SUMMARY = ROOT / "tools" / "limbo-summary.py"
RULES_DOC = ROOT / "docs" / "verify-rules.md"
MOZILLA = Path("/usr/share/ca-certificates/mozilla")


def harness(tmp_path, *flags, corpus=CORPUS):
    cp = run([binary("limbo-harness"), *flags, str(corpus)], timeout=600)
    assert cp.returncode == 0, cp.stderr
    out = tmp_path / "results.json"
    out.write_text(cp.stdout)
    return out, json.loads(cp.stdout)


def test_limbo_no_regression(tmp_path):
    out, res = harness(tmp_path)
    assert res["version"] == 1
    assert res["harness"].startswith("pkid-")
    ids = {t["id"] for t in json.loads(CORPUS.read_text())["testcases"]}
    assert {r["id"] for r in res["results"]} == ids
    for r in res["results"]:
        assert r["actual_result"] in ("SUCCESS", "FAILURE", "SKIPPED")
        assert r["context"], r["id"]
    cp = run([sys.executable, str(SUMMARY), str(CORPUS), str(out),
              "--baseline", str(BASELINE), "--check", "--failures"])
    print(cp.stdout)
    assert cp.returncode == 0, cp.stdout + cp.stderr


def test_limbo_failures_carry_catalogue_codes(tmp_path):
    _, res = harness(tmp_path)
    for r in res["results"]:
        if r["actual_result"] == "FAILURE":
            assert r["context"] != "verify-unmapped", r["id"]
            assert " " not in r["context"], r


def test_limbo_openssl_row_runs(tmp_path):
    out, res = harness(tmp_path, "--openssl")
    assert res["harness"].startswith("openssl-")
    cp = run([sys.executable, str(SUMMARY), str(CORPUS), str(out)])
    assert cp.returncode == 0
    assert "total" in cp.stdout


def test_summary_check_detects_regression(tmp_path):
    out, res = harness(tmp_path)
    expected = {t["id"]: t["expected_result"]
                for t in json.loads(CORPUS.read_text())["testcases"]}
    # Flip one right answer: --check must fail.
    for r in res["results"]:
        if r["actual_result"] == expected[r["id"]]:
            r["actual_result"] = ("FAILURE" if r["actual_result"] == "SUCCESS"
                                  else "SUCCESS")
            break
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(res))
    cp = run([sys.executable, str(SUMMARY), str(CORPUS), str(bad),
              "--baseline", str(BASELINE), "--check"])
    assert cp.returncode != 0
    assert "REGRESSION" in cp.stdout


def test_rules_corpus_all_right(tmp_path):
    """Every rule of docs/verify-rules.md, a passing and a failing case."""
    out, res = harness(tmp_path, corpus=RULES)
    cp = run([sys.executable, str(SUMMARY), str(RULES), str(out),
              "--baseline", str(RULES_BASELINE), "--check", "--failures"])
    print(cp.stdout)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert "wrong:" not in cp.stdout and "skip:" not in cp.stdout, cp.stdout
    ids = [t["id"] for t in json.loads(RULES.read_text())["testcases"]]
    assert {r["id"] for r in res["results"]} == set(ids)
    for rule in {i.rsplit("::", 1)[0] for i in ids}:
        assert any(i.startswith(rule + "::") for i in ids)


def test_rules_limits_say_chain_too_long(tmp_path):
    """A path search cut short by a limit of src/core/limits.h (16
    certificates, 256 paths, 2048 signatures, also after a complete path
    failed) fails with chain-too-long, not with a finding of some path it
    happened to try."""
    _, res = harness(tmp_path, corpus=RULES)
    lim = {r["id"]: r["context"] for r in res["results"]
           if "::limit-" in r["id"] and r["id"].endswith("::fail")}
    assert len(lim) == 4, lim
    assert set(lim.values()) == {"chain-too-long"}, lim


def test_verify_rules_doc_covers_every_rule():
    """docs/verify-rules.md names every rule of pkid-rules.json, and every
    case id (pkid-rules.json, limbo-dev.json) and test it cites exists."""
    doc = RULES_DOC.read_text()
    rules = {t["id"].rsplit("::", 1)[0]
             for t in json.loads(RULES.read_text())["testcases"]}
    missing = sorted(r for r in rules if f"`{r}`" not in doc)
    assert not missing, "rules not in docs/verify-rules.md: %s" % missing
    limbo = {t["id"] for t in json.loads(CORPUS.read_text())["testcases"]}
    cited = set(re.findall(r"`((?:pkid-)?[a-z0-9]+::[^`\s]+)`", doc))
    assert len(cited) > len(rules)
    stale = sorted(cited - rules - limbo)
    assert not stale, "unknown case ids in docs/verify-rules.md: %s" % stale
    unit = (ROOT / "tests" / "unit" / "verify" / "verify_test.c").read_text()
    here = Path(__file__).read_text()
    for src, pat in ((unit, r"`verify_test\.c:(\w+)`"),
                     (here, r"`test_limbo\.py::(\w+)`")):
        names = set(re.findall(pat, doc))
        assert names
        gone = sorted(n for n in names if f"{n}(" not in src)
        assert not gone, "tests cited but absent: %s" % gone


def test_harness_reads_corpus_over_16_mib(tmp_path):
    """The published limbo.json is tens of MiB: the harness must read it."""
    cases = json.loads(RULES.read_text())["testcases"][:2]
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"version": 1, "testcases": cases,
                               "padding": " " * (17 << 20)}))
    assert big.stat().st_size > 16 << 20
    _, res = harness(tmp_path, corpus=big)
    assert [r["id"] for r in res["results"]] == [c["id"] for c in cases]
    assert all(r["actual_result"] != "SKIPPED" for r in res["results"])


def test_fractional_validation_time_understood(tmp_path):
    _, res = harness(tmp_path, corpus=RULES)
    frac = [r for r in res["results"]
            if "validation-time-fraction" in r["id"]]
    assert len(frac) == 2
    assert all(r["actual_result"] != "SKIPPED" for r in frac), frac


def mozilla_roots():
    return sorted(MOZILLA.glob("*.crt"))


def root_self_check(path, profile):
    """The root as leaf and as the only anchor, within its validity."""
    c = x509.load_pem_x509_certificate(path.read_bytes())
    mid = c.not_valid_before + (c.not_valid_after - c.not_valid_before) / 2
    cp = pkictl("verify", "--trust", path, "--purpose", "any", "--profile",
                profile, "--at", mid.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "--json", path)
    return path.name, profile, cp.returncode, cp.stdout


@pytest.mark.skipif(not MOZILLA.is_dir(), reason="ca-certificates missing")
def test_every_debian_root_is_a_valid_anchor():
    """Each root of ca-certificates validates as a trust anchor under both
    profiles (serial 0, non-critical basicConstraints, no SKI, an AKI
    naming itself: real roots, docs/verify-rules.md "Trust anchors")."""
    roots = mozilla_roots()
    assert len(roots) > 100
    jobs = [(p, prof) for p in roots for prof in ("rfc5280", "webpki")]
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda a: root_self_check(*a), jobs))
    bad = [(n, prof, out[:600]) for n, prof, rc, out in results if rc != 0]
    assert not bad, bad


@pytest.mark.skipif(not MOZILLA.is_dir(), reason="ca-certificates missing")
def test_online_chains_with_debian_store(tmp_path):
    """The real chains of x509-limbo's online:: cases, against the whole
    Debian store as anchors (pkictl verify --trust DIR)."""
    cases = [t for t in json.loads(CORPUS.read_text())["testcases"]
             if t["id"].startswith("online::")]
    assert cases
    for t in cases:
        leaf = tmp_path / "leaf.pem"
        chain = tmp_path / "chain.pem"
        leaf.write_text(t["peer_certificate"])
        chain.write_text("".join(t["untrusted_intermediates"]) or
                         t["peer_certificate"])
        cp = pkictl("verify", "--trust", MOZILLA, "--untrusted", chain,
                    "--host", t["expected_peer_name"]["value"],
                    "--profile", "webpki", "--at", t["validation_time"],
                    "--json", leaf)
        assert cp.returncode == 0, (t["id"], cp.stdout[:1500])
