#!/bin/sh
# pg-bench.sh [BUILD]: EST simpleenroll (a fresh TLS connection each, EC
# P-256 CSRs, HTTP Basic) against one pkid on SQLite, one pkid on
# PostgreSQL, and two pkid nodes sharing that PostgreSQL (loaded at once:
# their combined rate). A private PostgreSQL (tools/pg-test.sh) on this
# machine, so the nodes and the database share its cores.
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
load "$SQ" "$tmp/sq" "$N" >"$tmp/sq.json"
load "$PA" "$tmp/pga" "$N" >"$tmp/pg1.json"
load "$PA" "$tmp/pga" "$N" >"$tmp/two.json" &
L1=$!
load "$PB" "$tmp/pgb" "$N" >>"$tmp/two.b.json"
wait $L1
psql "$URL" -tAc "SELECT COUNT(*), COUNT(DISTINCT serial) FROM certificate" \
    >"$tmp/count"
/usr/bin/python3 - "$tmp" "$C" <<'PYEOF'
import json, sys
tmp, conc = sys.argv[1], sys.argv[2]
def one(p):
    return json.loads(open(p).read().strip().splitlines()[-1])
sq, pg1 = one(f"{tmp}/sq.json"), one(f"{tmp}/pg1.json")
a, b = one(f"{tmp}/two.json"), one(f"{tmp}/two.b.json")
print(f"{'EST simpleenroll, conc ' + conc:34} {'req/s':>7} {'p50 ms':>7} "
      f"{'p99 ms':>7}  outcomes")
for name, r in (("1 node, SQLite", sq), ("1 node, PostgreSQL", pg1),
                ("2 nodes, one PostgreSQL: node A", a),
                ("2 nodes, one PostgreSQL: node B", b)):
    print(f"{name:34} {r['per_second']:>7.0f} {r['p50_ms']:>7.1f} "
          f"{r['p99_ms']:>7.1f}  {r['outcomes']}")
print(f"{'2 nodes, combined':34} {a['per_second'] + b['per_second']:>7.0f}")
n, d = open(f"{tmp}/count").read().strip().split("|")
print(f"PostgreSQL holds {n} certificates, {d} distinct serials")
PYEOF
