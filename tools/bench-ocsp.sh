#!/bin/sh
# OCSP responder benchmark (part of make bench; runs alone too):
# responses per server CPU-second over plain HTTP with keep-alive (how
# OCSP clients and caches reach a responder), measured with wrk:
#   GET /crl/NAME.crl  the bare HTTP path of pkid (a kept CRL, no store
#                      read, no signature): the limit
#   GET /ocsp/BASE64   pre-signed: one indexed store read, no signature
#   POST with a nonce  a fresh ECDSA P-256 signature per response
#
#   tools/bench-ocsp.sh [BUILD_DIR]
set -eu
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=${BENCH_OCSP_SECONDS:-5}
CONNS=${BENCH_OCSP_CONNS:-16}
R=${BENCH_ROUNDS:-3}
command -v wrk >/dev/null || { echo "bench-ocsp: wrk not installed"; exit 0; }
tmp=$(mktemp -d)
PKID_PID=
trap '[ -n "$PKID_PID" ] && kill $PKID_PID 2>/dev/null; rm -rf "$tmp"' EXIT

"$BUILD/pkictl" ca init --dir "$tmp/ca" --domain example.com \
	--set server.rate_per_min=100000000 >/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$tmp/leaf.key" -subj /CN=dev.example.com \
	-out "$tmp/leaf.csr" 2>/dev/null
"$BUILD/pkictl" ca issue --dir "$tmp/ca" --csr "$tmp/leaf.csr" \
	--out "$tmp/leaf.pem" >/dev/null 2>&1
openssl ocsp -issuer "$tmp/ca/issuing.pem" -cert "$tmp/leaf.pem" \
	-no_nonce -reqout "$tmp/get.der"
openssl ocsp -issuer "$tmp/ca/issuing.pem" -cert "$tmp/leaf.pem" \
	-reqout "$tmp/nonce.der"
B64=$(/usr/bin/python3 -c 'import base64, sys, urllib.parse
print(urllib.parse.quote(base64.b64encode(open(sys.argv[1], "rb").read()),
    safe=""))' "$tmp/get.der")
cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/ocsp-request"
local f = io.open("$tmp/nonce.der", "rb")
wrk.body = f:read("*all")
f:close()
LUA

"$BUILD/pkid" --dir "$tmp/ca" --listen 127.0.0.1:0 --http 127.0.0.1:0 \
	--quiet >"$tmp/pkid.out" 2>"$tmp/pkid.err" &
PKID_PID=$!
for i in $(seq 1 100); do
	grep -q "pkid: ready" "$tmp/pkid.out" 2>/dev/null && break
	sleep 0.1
done
PORT=$(sed -n 's/^pkid: http  on port \([0-9]*\).*/\1/p' "$tmp/pkid.out")
BASE=http://127.0.0.1:$PORT
# The first answer issues the responder certificate; a nonce-less one is
# then kept pre-signed.
curl -sf -o /dev/null "$BASE/ocsp/$B64"
curl -sf -o /dev/null "$BASE/crl/ca.crl"

TCK=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$PKID_PID/stat"; }
# One wrk run: prints "name requests/s per-server-CPU-s non2xx"
run() {
	name=$1
	shift
	c0=$(cpu)
	wrk -t 1 -c "$CONNS" -d "${SECS}s" "$@" >"$tmp/wrk.out" 2>&1
	c1=$(cpu)
	/usr/bin/python3 - "$name" "$tmp/wrk.out" "$c0" "$c1" "$TCK" <<'PYEOF'
import re, sys
name, path, c0, c1, tck = sys.argv[1:]
t = open(path).read()
n = int(re.search(r"(\d+) requests in", t).group(1))
secs = float(re.search(r"requests in ([\d.]+)s", t).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
cpu = (int(c1) - int(c0)) / int(tck)
print(f"{name} {n / secs:.0f} {n / max(cpu, 1e-9):.0f} "
      f"{bad.group(1) if bad else 0}")
PYEOF
}
: >"$tmp/rows"
for r in $(seq 1 "$R"); do
	run crl "$BASE/crl/ca.crl" >>"$tmp/rows"
	run get "$BASE/ocsp/$B64" >>"$tmp/rows"
	run post -s "$tmp/post.lua" "$BASE/ocsp" >>"$tmp/rows"
done
# The answers were right: good, signed by the responder, nonce echoed.
curl -sf -o "$tmp/resp.der" "$BASE/ocsp/$B64"
openssl ocsp -respin "$tmp/resp.der" -issuer "$tmp/ca/issuing.pem" \
	-cert "$tmp/leaf.pem" -CAfile "$tmp/ca/root.pem" 2>&1 |
	grep -q ": good" || { echo "bench-ocsp: wrong answer"; exit 1; }

echo "== OCSP responder: $CONNS keep-alive connections, ${SECS}s each," \
	"median of $R rounds"
/usr/bin/python3 - "$tmp/rows" "$(nproc)" <<'PYEOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
names = {"crl": "GET /crl/ca.crl (bare HTTP)",
         "get": "GET /ocsp/B64 pre-signed",
         "post": "POST /ocsp with nonce"}
base = None
print(f"{'what':30} {'resp/s':>8} {'per server CPU-s':>17} {'vs bare':>8}"
      f" {'non-2xx':>8}")
for k in ("crl", "get", "post"):
    rs = [r for r in rows if r[0] == k]
    rate = statistics.median(float(r[1]) for r in rs)
    cpu = statistics.median(float(r[2]) for r in rs)
    bad = sum(int(r[3]) for r in rs)
    if k == "crl":
        base = cpu
    print(f"{names[k]:30} {rate:>8.0f} {cpu:>17.0f} {cpu / base:>8.2f}"
          f" {bad:>8}")
print(f"client (wrk, 1 thread) and server share {sys.argv[2]} cores")
PYEOF
