#!/bin/sh
# Run every test against the binaries in BUILD (make test uses the ASan+UBSan
# build): unit tests (cmocka) through ctest, integration tests through
# pytest, then one summary line "N passed, N failed" counting test cases.
set -u
BUILD=${1:-build-san}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PKID_BUILD="$ROOT/$BUILD"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
PY=/usr/bin/python3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rm -rf "$BUILD/cmocka"
mkdir -p "$BUILD/cmocka"

echo "== unit tests (cmocka via ctest, $BUILD)"
ctest --test-dir "$BUILD" --output-on-failure --output-junit "$out/ctest.xml" \
	-j2 --timeout 300
echo "== integration tests (pytest)"
"$PY" -m pytest -q -p no:cacheprovider --junitxml="$out/pytest.xml" \
	tests/integration
"$PY" - "$out/ctest.xml" "$BUILD/cmocka" "$out/pytest.xml" <<'PYEOF'
import glob, os, sys, xml.etree.ElementTree as ET
ctest, cmocka_dir, pytest_xml = sys.argv[1:]

def cases(path):
    """(passed, failed, skipped, failed names) of a JUnit XML file."""
    p = f = s = 0
    names = []
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            f += 1
            names.append(case.get("name"))
        elif case.find("skipped") is not None:
            s += 1
        else:
            p += 1
    return p, f, s, names

passed = failed = skipped = 0
xml_failed_bins = set()
for path in sorted(glob.glob(os.path.join(cmocka_dir, "*.xml"))):
    try:
        p, f, s, names = cases(path)
    except ET.ParseError as exc:
        print(f"tests: {path}: {exc}")
        failed += 1
        continue
    passed, failed, skipped = passed + p, failed + f, skipped + s
    if f:
        xml_failed_bins.add(os.path.basename(path)[:-4])
        for n in names:
            print(f"FAILED unit {os.path.basename(path)[:-4]}::{n}")
# A unit binary that crashed or leaked (ctest failure) counts once more
# unless its own XML already shows the failure.
root = ET.parse(ctest).getroot()
for case in root.iter("testcase"):
    if case.get("status") == "fail":
        name = case.get("name", "").split("/")[-1]
        if name not in xml_failed_bins:
            print(f"FAILED unit binary {name} (crash, leak or sanitizer)")
            failed += 1
p, f, s, names = cases(pytest_xml)
passed, failed, skipped = passed + p, failed + f, skipped + s
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
PYEOF
