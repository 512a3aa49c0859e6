"""x509-limbo conformance: run the harness on the dev corpus and check that
the number of right answers never drops below the committed baseline."""
import json
import sys
from pathlib import Path

from conftest import ROOT, binary, run

CORPUS = ROOT / "tests" / "data" / "limbo" / "limbo-dev.json"
BASELINE = ROOT / "tests" / "data" / "limbo" / "baseline.json"
SUMMARY = ROOT / "tools" / "limbo-summary.py"


def harness(tmp_path, *flags):
    cp = run([binary("limbo-harness"), *flags, str(CORPUS)], timeout=600)
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
