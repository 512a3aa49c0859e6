#!/bin/sh
# Run every libFuzzer target of a -DPKID_FUZZ=ON build for SECONDS each, on
# a copy of its seed corpus (tests/fuzz/corpus/<name>/), one after the
# other. Fails when a target crashes, leaks, times out or is missing.
#
#   tools/run-fuzz.sh BUILD_DIR SECONDS
#
# Crash inputs are kept in BUILD_DIR/fuzz-artifacts/<name>/; reproduce one
# with BUILD_DIR/<name>_fuzz FILE. PKID_FUZZ_SEED fixes libFuzzer's seed
# (default 0: a random seed, printed in the log).
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
build=$1
secs=$2
case $secs in
''|*[!0-9]*)
	echo "$0: SECONDS must be a whole number" >&2
	exit 2
	;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
seed=${PKID_FUZZ_SEED:-0}
work=$(mktemp -d "${TMPDIR:-/tmp}/pkid-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM

status=0
found=0
for bin in "$build"/*_fuzz; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	found=$((found + 1))
	name=$(basename "$bin" _fuzz)
	corpus=$work/$name/corpus
	arts=$build/fuzz-artifacts/$name
	log=$work/$name.log
	mkdir -p "$corpus" "$arts"
	if [ -d "$root/tests/fuzz/corpus/$name" ]; then
		cp -R "$root/tests/fuzz/corpus/$name/." "$corpus/"
	else
		echo "fuzz: $name: no seed corpus in tests/fuzz/corpus/$name"
	fi
	"$bin" -max_total_time="$secs" -seed="$seed" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$arts/" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	if [ $rc -eq 0 ]; then
		echo "fuzz: $name: ok, ${execs:-?} runs in ${secs}s," \
		    "corpus $(ls "$corpus" | wc -l) inputs"
	else
		echo "fuzz: $name: FAILED (exit $rc) after ${execs:-?} runs;" \
		    "artifacts in $arts"
		tail -n 40 "$log" | sed 's/^/  | /'
		status=1
	fi
done
if [ $found -eq 0 ]; then
	echo "fuzz: no *_fuzz binaries in $build (configure with" \
	    "-DPKID_FUZZ=ON and CC=clang)" >&2
	exit 1
fi
exit $status
