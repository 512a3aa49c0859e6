#!/bin/sh
# Cost against the store's size (issue 12 item 1): a store filled through
# the real issuance path (bench/issue_bench: CSR check, policy, sign,
# durable group commit) to BENCH_STORE_CERTS certificates (1,000,000) and
# an empty one, each served by its own pkid, measured side by side in
# alternating rounds: EST simpleenroll, SCEP PKCSReq, GET /healthz, a CRL
# fetch and `pkictl ca list --expiring 30d`. Part of `make bench`; alone:
#   tools/bench-store.sh build        (BENCH_STORE_CERTS=100000 for a
#                                     quicker look)
set -eu
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${BENCH_STORE_CERTS:-1000000}
R=${BENCH_ROUNDS:-3}
tmp=$(mktemp -d)
PIDS=
trap 'kill $PIDS 2>/dev/null; rm -rf "$tmp"' EXIT

echo "== cost against the store's size: empty vs $N certificates"
SETS="--set scep.challenge=bench-chal --set server.rate_per_min=100000000
    --set server.max_queue_delay=off"
# shellcheck disable=SC2086
"$BUILD/issue_bench" --count 1 --threads 1 --dir "$tmp/empty" $SETS \
	>/dev/null
t0=$(date +%s)
# shellcheck disable=SC2086
"$BUILD/issue_bench" --count "$N" --threads 16 --dir "$tmp/full" $SETS \
	>"$tmp/fill.json"
t1=$(date +%s)
echo "filled: $(cat "$tmp/fill.json") in $((t1 - t0)) s;" \
	"store $(du -m "$tmp/full/ca-ec-p256/pkid.db" | cut -f1) MiB"

start() {	# start NAME: pkid on the CA NAME, sets NAME_TLS NAME_HTTP NAME_PID
	d="$tmp/$1/ca-ec-p256"
	echo bench-pw-long-enough | "$BUILD/pkictl" est user add --dir "$d" \
		bench --password-file - >/dev/null
	"$BUILD/pkid" --dir "$d" --listen 127.0.0.1:0 --http 127.0.0.1:0 \
		--quiet >"$tmp/$1.out" 2>"$tmp/$1.err" &
	pid=$!
	PIDS="$PIDS $pid"
	for i in $(seq 1 100); do
		grep -q "pkid: ready" "$tmp/$1.out" 2>/dev/null && break
		sleep 0.1
	done
	eval "${1}_PID=$pid"
	eval "${1}_TLS=$(sed -n 's/^pkid: https on port \([0-9]*\).*/\1/p' \
		"$tmp/$1.out")"
	eval "${1}_HTTP=$(sed -n 's/^pkid: http  on port \([0-9]*\).*/\1/p' \
		"$tmp/$1.out")"
}
start empty
start full

C=${BENCH_STORE_CONC:-8}
EN=${BENCH_STORE_EST:-1000}
SN=${BENCH_STORE_SCEP:-500}
HN=${BENCH_STORE_GET:-2000}
measure() {	# measure NAME: one round of every operation against NAME
	eval "pid=\$${1}_PID tls=\$${1}_TLS http=\$${1}_HTTP"
	d="$tmp/$1/ca-ec-p256"
	"$BUILD/est_load" --port "$tls" --cacert "$d/root.pem" \
		--user bench --password bench-pw-long-enough --concurrency "$C" \
		--count "$EN" --server-pid "$pid" | sed "s/^{/{\"op\":\"est\",\"store\":\"$1\",/"
	"$BUILD/scep_load" --port "$http" --ra "$d/scep/ra.pem" \
		--challenge bench-chal --concurrency "$C" --count "$SN" \
		--server-pid "$pid" --label "$1" |
		sed "s/^{/{\"op\":\"scep\",\"store\":\"$1\",/"
	"$BUILD/est_load" --port "$tls" --cacert "$d/root.pem" --get \
		--path /healthz --concurrency "$C" --count "$HN" \
		--server-pid "$pid" | sed "s/^{/{\"op\":\"healthz\",\"store\":\"$1\",/"
	"$BUILD/est_load" --port "$tls" --cacert "$d/root.pem" --get \
		--path /crl/ca.crl --concurrency "$C" --count "$HN" \
		--server-pid "$pid" | sed "s/^{/{\"op\":\"crl\",\"store\":\"$1\",/"
	/usr/bin/python3 - "$BUILD/pkictl" "$d" "$1" <<'PYEOF'
import json, resource, subprocess, sys, time
exe, d, name = sys.argv[1:]
t = time.monotonic()
before = resource.getrusage(resource.RUSAGE_CHILDREN)
n = 5
for _ in range(n):
    cp = subprocess.run([exe, "ca", "list", "--dir", d, "--expiring",
                         "30d"], capture_output=True)
    assert cp.returncode == 0, cp.stderr
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
print(json.dumps({"op": "list", "store": name,
                  "ms_wall": (time.monotonic() - t) * 1000 / n,
                  "ms_cpu": cpu * 1000 / n}))
PYEOF
}
# Warm both (password-hash cache, first CRL), then alternate the stores.
for s in empty full; do
	eval "tls=\$${s}_TLS"
	"$BUILD/est_load" --port "$tls" \
		--cacert "$tmp/$s/ca-ec-p256/root.pem" --user bench \
		--password bench-pw-long-enough --concurrency 1 --count 1 \
		>/dev/null || true
done
for r in $(seq 1 "$R"); do
	measure empty >>"$tmp/rows.json"
	measure full >>"$tmp/rows.json"
done
/usr/bin/python3 - "$tmp/rows.json" "$N" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
names = {"est": "EST simpleenroll", "scep": "SCEP PKCSReq",
         "healthz": "GET /healthz", "crl": "GET /crl/ca.crl",
         "list": "ca list --expiring 30d"}
print(f"{'operation':24} {'empty: per CPU-s':>17} {f'{n:,}: per CPU-s':>20}"
      f" {'ratio':>6} {'empty p99':>10} {'full p99':>9}")
for op in names:
    mine = {s: [r for r in rows if r["op"] == op and r["store"] == s]
            for s in ("empty", "full")}
    if op == "list":
        e = statistics.median(r["ms_cpu"] for r in mine["empty"])
        f = statistics.median(r["ms_cpu"] for r in mine["full"])
        print(f"{names[op]:24} {e:>14.1f} ms {f:>17.1f} ms "
              f"{e / f if f else 0:>6.2f}   (CPU per run, median)")
        continue
    ratios = [b["per_server_cpu_s"] / a["per_server_cpu_s"]
              for a, b in zip(mine["empty"], mine["full"])
              if a["per_server_cpu_s"]]
    e = statistics.median(r["per_server_cpu_s"] for r in mine["empty"])
    f = statistics.median(r["per_server_cpu_s"] for r in mine["full"])
    ep = statistics.median(r["p99_ms"] for r in mine["empty"])
    fp = statistics.median(r["p99_ms"] for r in mine["full"])
    bad = {o: c for s in mine for r in mine[s]
           for o, c in r.get("outcomes", {}).items() if not o.startswith("2") and o != "SUCCESS"}
    print(f"{names[op]:24} {e:>17.0f} {f:>20.0f} "
          f"{statistics.median(ratios):>6.2f} {ep:>8.1f}ms {fp:>7.1f}ms"
          + (f"  errors {bad}" if bad else ""))
print("per CPU-s: answers per CPU-second of that store's pkid; ratio: full "
      "over empty, the median of the per-round ratios (1.00: no cost from "
      f"the store's size); {len(rows) // 10} alternating rounds")
PYEOF
