#!/bin/sh
# Run every test against the binaries in BUILD (make test uses the ASan+UBSan
# build): unit tests through ctest, integration tests through pytest, then
# print one summary line "N passed, N failed".
set -u
BUILD=${1:-build-san}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PKID_BUILD="$ROOT/$BUILD"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
PY=/usr/bin/python3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== unit tests (ctest, $BUILD)"
ctest --test-dir "$BUILD" --output-on-failure --output-junit "$out/ctest.xml" \
	-j2 --timeout 300
echo "== integration tests (pytest)"
"$PY" -m pytest -q -p no:cacheprovider --junitxml="$out/pytest.xml" \
	tests/integration
"$PY" - "$out/ctest.xml" "$out/pytest.xml" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except Exception as exc:
        print(f"tests: cannot read {path}: {exc}")
        failed += 1
        continue
    for case in root.iter("testcase"):
        status = case.get("status")
        if case.find("failure") is not None or case.find("error") is not None \
                or status == "fail":
            failed += 1
        elif case.find("skipped") is not None or status in ("notrun",
                                                              "disabled"):
            skipped += 1
        else:
            passed += 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
PYEOF
