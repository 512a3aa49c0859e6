"""pkictl explain: the catalogue as a user-facing reference."""
import json

from conftest import pkictl


def test_explain_one():
    cp = pkictl("explain", "weak-key", check=True)
    assert "what:" in cp.stdout and "fix:" in cp.stdout
    assert "causes:" in cp.stdout


def test_explain_list_json_complete():
    codes = json.loads(pkictl("explain", "--list", "--json",
                              check=True).stdout)
    ids = [c["code"] for c in codes]
    assert len(ids) == len(set(ids))
    for required in ["weak-key", "csr-bad-signature", "san-not-allowed",
                     "store-busy", "unknown-issuer", "expired"]:
        assert required in ids
    for c in codes:
        assert c["summary"] and c["remedy"], c


def test_explain_unknown():
    cp = pkictl("explain", "no-such-code")
    assert cp.returncode == 2 and "unknown-code" in cp.stderr


def test_error_docs_current():
    """docs/errors/ has one page per code, matching the catalogue."""
    from conftest import ROOT, binary, run
    cp = run(["/usr/bin/python3", str(ROOT / "tools/gen-error-docs.py"),
              binary("pkictl"), "--check"])
    assert cp.returncode == 0, cp.stdout


def test_checksrc_clean():
    """No banned function in src/ or bench/ (tools/checksrc.sh)."""
    from conftest import ROOT, run
    cp = run(["sh", str(ROOT / "tools/checksrc.sh")])
    assert cp.returncode == 0, cp.stdout
