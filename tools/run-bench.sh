#!/bin/sh
# make bench: benchmarks (not tests). Prints measured rates next to the
# machine's crypto bound from `openssl speed`, measured in the same run.
set -eu
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
COUNT=${BENCH_COUNT:-20000}
THREADS=${BENCH_THREADS:-32}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
NPROC=$(nproc)
# Rounds per measurement: the bare baseline and pkid alternate, R times,
# and the tables show medians (this VM's speed drifts by tens of percent
# within a minute, so one run of each would compare different machines).
R=${BENCH_ROUNDS:-3}

echo "== openssl speed (crypto-only bound), 1 process and $NPROC processes"
openssl speed -seconds 3 ecdsap256 rsa2048 >"$tmp/speed1.txt" 2>/dev/null
openssl speed -seconds 3 -multi "$NPROC" ecdsap256 rsa2048 \
	>"$tmp/speedN.txt" 2>/dev/null

echo "== offline issuance: CSR verify + policy + sign + durable store"
for k in ec-p256 rsa-2048; do
	"$BUILD/issue_bench" --key "$k" --count "$COUNT" --threads "$THREADS" \
		--dir "$tmp" | tee -a "$tmp/issue.json"
done

/usr/bin/python3 - "$tmp" "$NPROC" <<'PYEOF'
import json, re, sys
tmp, nproc = sys.argv[1], int(sys.argv[2])

def speed(path):
    """(rsa2048 sign/s, p256 sign/s, p256 verify/s) from openssl speed."""
    text = open(path).read()
    rsa = re.search(r"rsa 2048 bits\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)",
                    text)
    ec = re.search(r"256 bits ecdsa \(nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)"
                   r"\s+([\d.]+)", text)
    if not rsa or not ec:
        sys.exit(f"bench: cannot read openssl speed output in {path}")
    return float(rsa.group(1)), float(ec.group(1)), float(ec.group(2))

s1, sn = speed(f"{tmp}/speed1.txt"), speed(f"{tmp}/speedN.txt")
runs = [json.loads(l) for l in open(f"{tmp}/issue.json")]
print()
print(f"{'CA key':9} {'issued/s':>9} {'bound/1 core':>13} {'ratio':>6} "
      f"{'bound/' + str(nproc) + ' cores':>14} {'ratio':>6} "
      f"{'certs/fsync':>12}")
for r in runs:
    rsa = r["ca_key"].startswith("rsa")
    b1 = 1 / (1 / (s1[0] if rsa else s1[1]) + 1 / s1[2])
    bn = 1 / (1 / (sn[0] if rsa else sn[1]) + 1 / sn[2])
    print(f"{r['ca_key']:9} {r['per_second']:>9.0f} {b1:>13.0f} "
          f"{r['per_second'] / b1:>6.2f} {bn:>14.0f} "
          f"{r['per_second'] / bn:>6.2f} "
          f"{r['ops'] / max(r['commits'], 1):>12.1f}")
print("\nbound = 1 / (1/sign_rate(CA key) + 1/verify_rate(EC P-256 CSR)) "
      "from openssl speed in this run;\nissued/s uses every core "
      f"({r['threads']} threads); certs/fsync shows group commit at work.")
PYEOF

# ---- HTTPS: pkid against a bare OpenSSL accept loop, same cert and TLS ----
echo
echo "== HTTPS requests, a fresh TLS connection each (client and server share the box)"
# The per-address rate limit is for fleets; one load client would trip it.
"$BUILD/pkictl" ca init --dir "$tmp/https" --domain example.com \
	--set server.rate_per_min=100000000 >/dev/null
"$BUILD/pkid" --dir "$tmp/https" --listen 127.0.0.1:0 --http off --quiet \
	>"$tmp/pkid.out" 2>"$tmp/pkid.err" &
PKID_PID=$!
"$BUILD/tls_accept" --port 0 --cert "$tmp/https/tls/server.pem" \
	--key "$tmp/https/tls/server.key" --threads "$NPROC" >"$tmp/ta.out" &
TA_PID=$!
trap 'kill $PKID_PID $TA_PID 2>/dev/null; rm -rf "$tmp"' EXIT
for i in $(seq 1 50); do
	grep -q "pkid: ready" "$tmp/pkid.out" 2>/dev/null &&
	    grep -q "port" "$tmp/ta.out" 2>/dev/null && break
	sleep 0.1
done
PKID_PORT=$(sed -n 's/^pkid: https on port \([0-9]*\).*/\1/p' "$tmp/pkid.out")
TA_PORT=$(sed -n 's/^tls_accept: port \([0-9]*\)/\1/p' "$tmp/ta.out")
N=${BENCH_HTTPS_COUNT:-3000}
for c in 1 8 32 256; do
	for r in $(seq 1 "$R"); do
		"$BUILD/est_load" --port "$TA_PORT" \
		    --cacert "$tmp/https/root.pem" --get --path / \
		    --concurrency $c --count $N --server-pid $TA_PID \
		    >>"$tmp/https.json" || true
		"$BUILD/est_load" --port "$PKID_PORT" \
		    --cacert "$tmp/https/root.pem" --get --path /healthz \
		    --concurrency $c --count $N --server-pid $PKID_PID \
		    >>"$tmp/https.json" || true
	done
done
/usr/bin/python3 - "$tmp/https.json" "$R" 2 <<'PYEOF'
import json, sys
sys.path.insert(0, "tools")
from benchstats import medians
rows = medians([json.loads(l) for l in open(sys.argv[1])],
               int(sys.argv[2]), int(sys.argv[3]))
print(f"{'what':22} {'conc':>5} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
      f"{'per server CPU-s':>17} {'vs bare':>8}")
for bare, pk in zip(rows[0::2], rows[1::2]):
    for name, r in (("bare TLS accept loop", bare), ("pkid GET /healthz", pk)):
        bad = {k: v for k, v in r["outcomes"].items() if not k.startswith("2")}
        print(f"{name:22} {r['concurrency']:>5} {r['per_second']:>8.0f} "
              f"{r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} "
              f"{r['per_server_cpu_s']:>17.0f} {r['ratio']:>8.2f}"
              + (f"  errors {bad}" if bad else ""))
print(f"medians of {sys.argv[2]} alternating rounds; 'vs bare' is the median "
      "of each round's ratio")
PYEOF

echo
echo "== path validation: pkid vs OpenSSL X509_verify_cert, 3-certificate chain"
echo "   cold: every chain new (DER decoded each time, no cache); warm: the same"
echo "   intermediate and returning clients (pkid's bounded cache);"
echo "   warm-new-leaf: the same intermediate, every leaf new"
VCOUNT=${BENCH_VERIFY_COUNT:-4000}
for k in ec-p256 rsa-2048; do
	"$BUILD/verify_bench" --key "$k" --count "$VCOUNT" >>"$tmp/verify.json"
done
/usr/bin/python3 - "$tmp/verify.json" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'key':9} {'case':14} {'pkid/s':>8} {'openssl/s':>10} {'ratio':>6} "
      f"{'sig hits':>9} {'parse hits':>11}")
for r in rows:
    print(f"{r['key']:9} {r['case']:14} {r['pkid_per_s']:>8.0f} "
          f"{r['openssl_per_s']:>10.0f} {r['ratio']:>5.2f}x "
          f"{r['sig_hits']:>9} {r['parse_hits']:>11}")
PYEOF

# ---- EST: enrollments per server CPU-second against the bare handshake ----
echo
echo "== EST (RFC 7030) enrollments, a fresh TLS connection each"
echo bench-pw-long-enough | "$BUILD/pkictl" est user add --dir "$tmp/https" \
	bench --password-file - >/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$tmp/dev.key" -subj /CN=bench-reenroll -out "$tmp/dev.csr" \
	2>/dev/null
"$BUILD/pkictl" ca issue --dir "$tmp/https" --csr "$tmp/dev.csr" \
	--out "$tmp/dev.pem" 2>/dev/null
cat "$tmp/https/issuing.pem" "$tmp/https/root.pem" >"$tmp/cas.pem"
"$BUILD/tls_accept" --port 0 --cert "$tmp/https/tls/server.pem" \
	--key "$tmp/https/tls/server.key" --threads "$NPROC" \
	--client-ca "$tmp/cas.pem" >"$tmp/tam.out" &
TAM_PID=$!
trap 'kill $PKID_PID $TA_PID $TAM_PID 2>/dev/null; rm -rf "$tmp"' EXIT
for i in $(seq 1 50); do
	grep -q port "$tmp/tam.out" 2>/dev/null && break
	sleep 0.1
done
TAM_PORT=$(sed -n 's/^tls_accept: port \([0-9]*\)/\1/p' "$tmp/tam.out")
N=${BENCH_EST_COUNT:-2000}
# One request first, so the password-hash cache is warm (the KDF is meant
# to be slow; steady state is what a fleet sees between cache expiries).
"$BUILD/est_load" --port "$PKID_PORT" --cacert "$tmp/https/root.pem" \
	--user bench --password bench-pw-long-enough --concurrency 1 --count 1 \
	>/dev/null || true
for c in 1 8 32 256; do
    for r in $(seq 1 "$R"); do
	"$BUILD/est_load" --port "$TA_PORT" --cacert "$tmp/https/root.pem" \
	    --get --path / --concurrency $c --count $N --server-pid $TA_PID \
	    >>"$tmp/est.json" || true
	"$BUILD/est_load" --port "$PKID_PORT" --cacert "$tmp/https/root.pem" \
	    --user bench --password bench-pw-long-enough --concurrency $c \
	    --count $N \
	    --server-pid $PKID_PID >>"$tmp/est.json" || true
	"$BUILD/est_load" --port "$TAM_PORT" --cacert "$tmp/https/root.pem" \
	    --cert "$tmp/dev.pem" --key "$tmp/dev.key" --get --path / \
	    --concurrency $c --count $N --server-pid $TAM_PID \
	    >>"$tmp/est.json" || true
	"$BUILD/est_load" --port "$PKID_PORT" --cacert "$tmp/https/root.pem" \
	    --cert "$tmp/dev.pem" --key "$tmp/dev.key" --csr "$tmp/dev.csr" \
	    --path /.well-known/est/simplereenroll --concurrency $c \
	    --count $N --server-pid $PKID_PID >>"$tmp/est.json" || true
    done
done
/usr/bin/python3 - "$tmp/est.json" "$R" 4 <<'PYEOF'
import json, sys
sys.path.insert(0, "tools")
from benchstats import medians
rows = medians([json.loads(l) for l in open(sys.argv[1])],
               int(sys.argv[2]), int(sys.argv[3]))
names = ["bare TLS", "EST simpleenroll, Basic", "bare mutual TLS",
         "EST simplereenroll, cert"]
print(f"{'what':26} {'conc':>5} {'enroll/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
      f"{'per server CPU-s':>17} {'vs bare':>8}")
for i in range(0, len(rows), 4):
    quad = rows[i:i + 4]
    for k, r in enumerate(quad):
        bad = {o: n for o, n in r["outcomes"].items() if not o.startswith("2")}
        print(f"{names[k]:26} {r['concurrency']:>5} {r['per_second']:>9.0f} "
              f"{r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} "
              f"{r['per_server_cpu_s']:>17.0f} {r['ratio']:>8.2f}"
              + (f"  errors {bad}" if bad else ""))
print("per server CPU-s: answers per CPU-second used by the server process "
      "(client and server share the machine); medians of "
      f"{sys.argv[2]} alternating rounds, 'vs bare' the median of each "
      "round's ratio")
PYEOF

# ---- EST side by side with libEST's example server (optional) ----
# LIBEST_DIR: a libEST source tree built beside the project (never part of
# it), with example/server's createCA.sh already run.
if [ -n "${LIBEST_DIR:-}" ] && [ -x "$LIBEST_DIR/example/server/estserver" ]; then
	echo
	echo "== EST simpleenroll: pkid vs libEST's example server (Basic auth)"
	LE_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	(cd "$LIBEST_DIR/example/server" &&
	    EST_TRUSTED_CERTS=./trustedcerts.crt \
	    EST_CACERTS_RESP=./estCA/cacert.crt \
	    EST_OPENSSL_CACONFIG=./estExampleCA.cnf \
	    LD_LIBRARY_PATH="$LIBEST_DIR/src/est/.libs" \
	    exec ./estserver -c estCA/private/estservercertandkey.pem \
	    -k estCA/private/estservercertandkey.pem -r estrealm \
	    -p "$LE_PORT") >"$tmp/libest.log" 2>&1 &
	LE_PID=$!
	trap 'kill $PKID_PID $TA_PID $TAM_PID $LE_PID 2>/dev/null; rm -rf "$tmp"' EXIT
	sleep 1
	for c in 1 8 32; do
		"$BUILD/est_load" --port "$LE_PORT" --host 127.0.0.1 \
		    --cacert "$LIBEST_DIR/example/server/estCA/cacert.crt" \
		    --user estuser --password estpwd --wrap64 --concurrency $c \
		    --count 300 --server-pid $LE_PID >>"$tmp/le.json" || true
		"$BUILD/est_load" --port "$PKID_PORT" \
		    --cacert "$tmp/https/root.pem" --user bench \
		    --password bench-pw-long-enough --concurrency $c --count 1000 \
		    --server-pid $PKID_PID >>"$tmp/le.json" || true
	done
	kill $LE_PID 2>/dev/null
	/usr/bin/python3 - "$tmp/le.json" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'conc':>5} {'libEST ok/s':>12} {'pkid ok/s':>10} {'ratio':>6} "
      f"{'libEST p99':>11} {'pkid p99':>9}")
for le, pk in zip(rows[0::2], rows[1::2]):
    lr, pr = le["ok"] / le["seconds"], pk["ok"] / pk["seconds"]
    print(f"{le['concurrency']:>5} {lr:>12.0f} {pr:>10.0f} "
          f"{pr / lr if lr else 0:>6.1f} {le['p99_ms']:>11.1f} "
          f"{pk['p99_ms']:>9.1f}")
print("libEST's example server signs with `openssl ca` (a process per "
      "enrollment); its CPU counts its children")
PYEOF
fi

# ---- SCEP: pkid against micromdm/scep (Debian's scep), same client ----
echo
echo "== SCEP (RFC 8894) PKCSReq, RSA-2048 devices, a fresh connection each"
"$BUILD/pkictl" ca init --dir "$tmp/scep" --domain example.com \
	--set scep.challenge=bench-chal \
	--set server.rate_per_min=100000000 >/dev/null
"$BUILD/pkid" --dir "$tmp/scep" --listen off --http 127.0.0.1:0 --quiet \
	>"$tmp/pkid-scep.out" 2>"$tmp/pkid-scep.err" &
SCEP_PID=$!
MD_PID=
trap 'kill $PKID_PID $TA_PID $TAM_PID $SCEP_PID $MD_PID 2>/dev/null; rm -rf "$tmp"' EXIT
for i in $(seq 1 50); do
	grep -q "pkid: ready" "$tmp/pkid-scep.out" 2>/dev/null && break
	sleep 0.1
done
SCEP_PORT=$(sed -n 's/^pkid: http  on port \([0-9]*\).*/\1/p' "$tmp/pkid-scep.out")
SN=${BENCH_SCEP_COUNT:-2000}
if command -v scepserver >/dev/null; then
	MD_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	scepserver ca -init -depot "$tmp/depot" -key-password capw \
	    -keySize 2048 -organization pkid-bench >/dev/null 2>&1
	# micromdm listens on every interface: a high port, killed at exit.
	scepserver -depot "$tmp/depot" -capass capw -port "$MD_PORT" \
	    -challenge bench-chal >"$tmp/md.log" 2>&1 &
	MD_PID=$!
	for i in $(seq 1 50); do
		/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $MD_PORT), 1)" 2>/dev/null && break
		sleep 0.1
	done
else
	echo "(scepserver not installed: apt-get install scep for the comparison)"
fi
for c in 1 8 32 256; do
    for r in $(seq 1 "$R"); do
	"$BUILD/scep_load" --port "$SCEP_PORT" --ra "$tmp/scep/scep/ra.pem" \
	    --challenge bench-chal --concurrency $c --count $SN \
	    --server-pid $SCEP_PID --label pkid >>"$tmp/scep.json" || true
	[ -z "$MD_PID" ] || "$BUILD/scep_load" --port "$MD_PORT" \
	    --ra "$tmp/depot/ca.pem" --challenge bench-chal --concurrency $c \
	    --count $SN --server-pid $MD_PID --label micromdm \
	    >>"$tmp/scep.json" || true
    done
done
/usr/bin/python3 - "$tmp/scep.json" "$R" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds = int(sys.argv[2])
med = statistics.median
print(f"{'server':9} {'conc':>5} {'ok/s':>7} {'p50 ms':>7} {'p99 ms':>8} "
      f"{'ok/server CPU-s':>16} {'ok':>6} {'unique serials':>15} "
      f"{'pkid x':>7}")
by = {}
for r in rows:
    by.setdefault((r["concurrency"], r["label"]), []).append(r)
for (conc, label), runs in by.items():
    mine = by[(conc, "pkid")]
    rates = [r["ok"] / r["seconds"] for r in runs]
    # pkid x: the median over rounds of pkid's ok/s over this row's, in
    # the same round (the two run back to back)
    xs = [(m["ok"] / m["seconds"]) / (r["ok"] / r["seconds"])
          for m, r in zip(mine, runs) if r["ok"]]
    bad = {}
    for r in runs:
        for o, n in r["outcomes"].items():
            if o != "SUCCESS":
                bad[o] = bad.get(o, 0) + n
    print(f"{label:9} {conc:>5} {med(rates):>7.0f} "
          f"{med(r['p50_ms'] for r in runs):>7.2f} "
          f"{med(r['p99_ms'] for r in runs):>8.2f} "
          f"{med(r['per_server_cpu_s'] for r in runs):>16.0f} "
          f"{sum(r['ok'] for r in runs):>6} "
          f"{sum(r['unique_serials'] for r in runs):>15} "
          f"{med(xs) if xs else 0:>7.2f}"
          + (f"  {bad}" if bad else ""))
print(f"medians of {rounds} rounds (ok and unique serials summed over them); "
      "ok = CertRep SUCCESS; unique serials counted per round from the "
      "decrypted certificates; pkid x = median of pkid's ok/s over this "
      "row's, same round")
PYEOF

# ---- Fleet: N devices at once over EST and SCEP, and idle connections ----
echo
echo "== Fleet (bench/fleet): devices enrolling and renewing at once"
# Descriptors for every device and every idle connection, here and in
# the pkid started below (it inherits the soft limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$BUILD/pkictl" ca init --dir "$tmp/fleet" --domain example.com \
	--set scep.challenge=fleet-chal \
	--set server.rate_per_min=100000000 \
	--set server.max_conns_per_addr=0 \
	--set server.max_conns=$((${BENCH_IDLE:-10000} + 1024)) >/dev/null
echo fleet-pw-long-enough | "$BUILD/pkictl" est user add --dir "$tmp/fleet" \
	fleet --password-file - >/dev/null
"$BUILD/pkid" --dir "$tmp/fleet" --listen 127.0.0.1:0 --http 127.0.0.1:0 \
	--quiet >"$tmp/pkid-fleet.out" 2>"$tmp/pkid-fleet.err" &
FLEET_PID=$!
trap 'kill $PKID_PID $TA_PID $TAM_PID $SCEP_PID $MD_PID $FLEET_PID 2>/dev/null; rm -rf "$tmp"' EXIT
for i in $(seq 1 50); do
	grep -q "pkid: ready" "$tmp/pkid-fleet.out" 2>/dev/null && break
	sleep 0.1
done
FT=$(sed -n 's/^pkid: https on port \([0-9]*\).*/\1/p' "$tmp/pkid-fleet.out")
FH=$(sed -n 's/^pkid: http  on port \([0-9]*\).*/\1/p' "$tmp/pkid-fleet.out")
FLEET_ARGS="--est-port $FT --cacert $tmp/fleet/root.pem --user fleet
    --password fleet-pw-long-enough --scep-port $FH
    --ra $tmp/fleet/scep/ra.pem --challenge fleet-chal
    --key-pool $tmp/fleet-keys.pem --pid $FLEET_PID"
# One device first: the key pool is made (64 EC and 64 RSA keys, not
# timed) and the password-hash cache is warm, as in the EST table.
# shellcheck disable=SC2086
"$BUILD/fleet" --devices 2 --proto mixed $FLEET_ARGS --settle 0 >/dev/null ||
    true
FD=${BENCH_FLEET_DEVICES:-2000}
echo "   $FD devices, half EST (simpleenroll, then simplereenroll with the"
echo "   new certificate), half SCEP (PKCSReq, then RenewalReq), all at once;"
echo "   latency from a device's first attempt to its certificate, Retry-After"
echo "   waits included"
# shellcheck disable=SC2086
"$BUILD/fleet" --devices "$FD" --proto mixed --arrival burst \
    --time-limit 180 --settle 5 $FLEET_ARGS || true
NI=${BENCH_IDLE:-10000}
echo
echo "== Fleet: $NI idle TLS connections held open (one GET /healthz each,"
echo "   then one every 20 s so pkid's 30 s idle timeout keeps them)"
"$BUILD/fleet" --idle "$NI" --est-port "$FT" --cacert "$tmp/fleet/root.pem" \
    --pid "$FLEET_PID" --hold 10 --refresh 20 --settle 15 \
    --time-limit 600 || true

# ---- OCSP: responses per server CPU-second (tools/bench-ocsp.sh) ----
echo
"$ROOT/tools/bench-ocsp.sh" "$BUILD"

# ---- Cost against the store's size (BENCH_STORE_CERTS=0 skips it) ----
if [ "${BENCH_STORE_CERTS:-1000000}" != 0 ]; then
	echo
	tools/bench-store.sh "$BUILD" || true
fi

# ---- Two nodes on one PostgreSQL next to one on SQLite, with the store's
# commit latency (tools/pg-bench.sh; BENCH_PG=0 skips it) ----
if [ "${BENCH_PG:-1}" != 0 ]; then
	echo
	echo "== EST over two pkid nodes sharing one PostgreSQL (private server"
	echo "   on this machine), next to one node on SQLite"
	tools/pg-bench.sh "$BUILD" || true
fi
