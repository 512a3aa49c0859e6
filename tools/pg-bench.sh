#!/bin/sh
# pg-bench.sh [BUILD]: EST simpleenroll (a fresh TLS connection each, EC
# P-256 CSRs, HTTP Basic) against one pkid on SQLite, one pkid on
# PostgreSQL, and two pkid nodes sharing that PostgreSQL (loaded at once:
# their combined rate). A private PostgreSQL (tools/pg-test.sh) on this
# machine, so the nodes and the database share its cores. With each
# row, the store's commit latency over that run (mean and p99, from the
# pkid_store_commit_duration_seconds histogram of each node's /metrics).
set -eu
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${BENCH_EST_COUNT:-2000}
C=${BENCH_CONC:-32}
tmp=$(mktemp -d /tmp/pkid-pgbench.XXXXXX)
chmod 711 "$tmp"	# the postgres user reaches $tmp/pg
cleanup() {
	for f in "$tmp"/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
	done
	tools/pg-test.sh stop "$tmp/pg" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
URL=$(tools/pg-test.sh start "$tmp/pg")
PW=bench-pw-long-enough

# mkca DIR [--set ...]: a CA with EST user "bench", no rate limits.
mkca() {
	d=$1
	shift
	"$BUILD/pkictl" ca init --dir "$d" --domain example.com \
	    --ip-ranges 127.0.0.0/8 --set server.max_conns_per_addr=0 \
	    --set server.rate_per_min=100000000 "$@" >/dev/null
	echo "$PW" | "$BUILD/pkictl" est user add --dir "$d" bench \
	    --password-file - >/dev/null
}
mkca "$tmp/sq"
mkca "$tmp/pga" --set "store.url=$URL"
cp -a "$tmp/pga" "$tmp/pgb"

# start DIR: a pkid on a kernel-chosen port, written to DIR.port.
start() {
	"$BUILD/pkid" --dir "$1" --listen 127.0.0.1:0 --http 127.0.0.1:0 \
	    --quiet >"$1.out" 2>"$1.err" &
	echo $! >"$1.pid"
	for i in $(seq 1 200); do
		grep -q "^pkid: ready" "$1.out" 2>/dev/null && break
		sleep 0.1
	done
	sed -n 's/^pkid: https on port \([0-9]*\).*/\1/p' "$1.out" >"$1.port"
}
load() {	# PORT DIR COUNT
	"$BUILD/est_load" --port "$1" --cacert "$2/root.pem" --user bench \
	    --password "$PW" --concurrency "$C" --count "$3" \
	    --server-pid "$(cat "$2.pid")" || true
}
start "$tmp/sq"
start "$tmp/pga"
start "$tmp/pgb"
SQ=$(cat "$tmp/sq.port")
PA=$(cat "$tmp/pga.port")
PB=$(cat "$tmp/pgb.port")
for p in "$SQ:sq" "$PA:pga" "$PB:pgb"; do	# warm the password cache
	"$BUILD/est_load" --port "${p%%:*}" --cacert "$tmp/${p#*:}/root.pem" \
	    --user bench --password "$PW" --concurrency 1 --count 1 \
	    >/dev/null || true
done
# metrics DIR PORT OUT: the node's /metrics (loopback may see it).
metrics() {
	curl -s --max-time 30 --cacert "$1/root.pem" \
	    "https://localhost:$2/metrics" >"$3" || true
}
metrics "$tmp/sq" "$SQ" "$tmp/sq.m0"
metrics "$tmp/pga" "$PA" "$tmp/pga.m0"
load "$SQ" "$tmp/sq" "$N" >"$tmp/sq.json"
metrics "$tmp/sq" "$SQ" "$tmp/sq.m1"
load "$PA" "$tmp/pga" "$N" >"$tmp/pg1.json"
metrics "$tmp/pga" "$PA" "$tmp/pga.m1"
metrics "$tmp/pgb" "$PB" "$tmp/pgb.m1"
load "$PA" "$tmp/pga" "$N" >"$tmp/two.json" &
L1=$!
load "$PB" "$tmp/pgb" "$N" >>"$tmp/two.b.json"
wait $L1
metrics "$tmp/pga" "$PA" "$tmp/pga.m2"
metrics "$tmp/pgb" "$PB" "$tmp/pgb.m2"
psql "$URL" -tAc "SELECT COUNT(*), COUNT(DISTINCT serial) FROM certificate" \
    >"$tmp/count"
/usr/bin/python3 - "$tmp" "$C" <<'PYEOF'
import json, os, re, sys
tmp, conc = sys.argv[1], sys.argv[2]
H = "pkid_store_commit_duration_seconds"
def one(p):
    return json.loads(open(p).read().strip().splitlines()[-1])
def hist(p):
    """{le: count}, sum, count of the commit histogram in a scrape."""
    b, sm, n = {}, 0.0, 0
    if not os.path.exists(p):
        return b, sm, n
    for ln in open(p):
        m = re.match(H + r'_bucket\{le="([^"]+)"\} (\S+)', ln)
        if m:
            b[m.group(1)] = float(m.group(2))
        elif ln.startswith(H + "_sum "):
            sm = float(ln.split()[1])
        elif ln.startswith(H + "_count "):
            n = float(ln.split()[1])
    return b, sm, n
def commits(*pairs):
    """Mean and p99 (a bucket's bound) commit ms between scrapes."""
    b, sm, n = {}, 0.0, 0.0
    for p0, p1 in pairs:
        b0, s0, n0 = hist(p0)
        b1, s1, n1 = hist(p1)
        for le, v in b1.items():
            b[le] = b.get(le, 0) + v - b0.get(le, 0)
        sm, n = sm + s1 - s0, n + n1 - n0
    if n <= 0:
        return "      -       -"
    p99 = "inf"
    for le in sorted((x for x in b if x != "+Inf"), key=float):
        if b[le] >= 0.99 * n:
            p99 = f"{float(le) * 1000:.0f}"
            break
    return f"{sm / n * 1000:>7.1f} {p99:>7}"
sq, pg1 = one(f"{tmp}/sq.json"), one(f"{tmp}/pg1.json")
a, b = one(f"{tmp}/two.json"), one(f"{tmp}/two.b.json")
print(f"{'EST simpleenroll, conc ' + conc:34} {'req/s':>7} {'p50 ms':>7} "
      f"{'p99 ms':>7} {'commit':>7} {'p99':>7}  outcomes")
print(f"{'':34} {'':>7} {'':>7} {'':>7} {'mean ms':>7} {'<= ms':>7}")
for name, r, c in (
        ("1 node, SQLite", sq, ((f"{tmp}/sq.m0", f"{tmp}/sq.m1"),)),
        ("1 node, PostgreSQL", pg1, ((f"{tmp}/pga.m0", f"{tmp}/pga.m1"),)),
        ("2 nodes, one PostgreSQL: node A", a,
         ((f"{tmp}/pga.m1", f"{tmp}/pga.m2"),)),
        ("2 nodes, one PostgreSQL: node B", b,
         ((f"{tmp}/pgb.m1", f"{tmp}/pgb.m2"),))):
    print(f"{name:34} {r['per_second']:>7.0f} {r['p50_ms']:>7.1f} "
          f"{r['p99_ms']:>7.1f} {commits(*c)}  {r['outcomes']}")
print(f"{'2 nodes, combined':34} {a['per_second'] + b['per_second']:>7.0f}"
      f" {'':>7} {'':>7} "
      f"{commits((f'{tmp}/pga.m1', f'{tmp}/pga.m2'), (f'{tmp}/pgb.m1', f'{tmp}/pgb.m2'))}")
n, d = open(f"{tmp}/count").read().strip().split("|")
print(f"PostgreSQL holds {n} certificates, {d} distinct serials")
PYEOF
