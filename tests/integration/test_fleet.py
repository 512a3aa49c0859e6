"""bench/fleet, the fleet generator (issue 12), kept working: a small
fleet enrolls and renews over EST and SCEP against a real pkid, every
device gets its certificates, and the JSON report adds up (attempts,
outcomes, serials) and agrees with the server's own store. Loopback
only; every run bounded by --time-limit and a subprocess timeout.
"""
import json
import os
import stat

from conftest import binary, cert_count, pkictl, run
from server import Pkid

PW = "fleet-pw-long-enough"
CHAL = "fleet-chal"


def make_ca(tmp_path, *sets):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set", f"scep.challenge={CHAL}",
           "--set", "server.rate_per_min=100000000",
           "--set", "server.max_conns_per_addr=0", *sets, check=True)
    pkictl("est", "user", "add", "--dir", d, "fleet", "--password-file",
           "-", input=PW + "\n", check=True)
    return d


def fleet(srv, d, tmp_path, *args, timeout=400):
    """Run bench/fleet against srv; (exit status, parsed JSON, stderr)."""
    cp = run([binary("fleet"), "--est-port", str(srv.tls_port),
              "--cacert", str(d / "root.pem"), "--user", "fleet",
              "--password", PW, "--scep-port", str(srv.http_port),
              "--ra", str(d / "scep" / "ra.pem"), "--challenge", CHAL,
              "--keys", "4", "--key-pool", str(tmp_path / "pool.pem"),
              "--pid", str(srv.proc.pid), "--settle", "0",
              # Generous bounds for a sanitizer build on a busy machine:
              # an answer later than --timeout is retried, and the retry
              # would be a second certificate in the store.
              "--timeout", "120", "--retries", "20",
              "--time-limit", "240", "--json", *map(str, args)],
             timeout=timeout)
    rep = json.loads(cp.stdout) if cp.stdout.strip() else None
    return cp.returncode, rep, cp.stderr


def check_consistent(rep):
    """The report's numbers agree with one another."""
    ops = rep["ops"]
    assert rep["ok"] == sum(o["ok"] for o in ops.values())
    assert rep["attempts"] == sum(o["attempts"] for o in ops.values())
    # Each attempt ends as the certificate, a retry or the final failure,
    # and is counted once under its outcome.
    for o in ops.values():
        assert o["attempts"] == o["ok"] + o["retries"] + o["failed"], o
    assert sum(rep["outcomes"].values()) == rep["attempts"]
    for name, o in ops.items():
        good = sum(n for k, n in rep["outcomes"].items()
                   if k in (f"{name} 200", f"{name} SUCCESS"))
        assert good == o["ok"], (name, rep["outcomes"])
        if o["ok"]:
            assert 0 < o["p50_ms"] <= o["p99_ms"] <= o["max_ms"], o
    assert rep["unique_serials"] == rep["ok"]
    assert rep["key_mismatch"] == 0


def test_fleet_enrolls_and_renews_every_device(tmp_path):
    d = make_ca(tmp_path)
    base = cert_count(d)    # pkid's own TLS certificate
    with Pkid(d, "--quiet") as srv:
        rc, rep, err = fleet(srv, d, tmp_path, "--devices", 40)
        assert rc == 0, err
        assert rep["devices"] == 40 and rep["devices_done"] == 40
        assert rep["unfinished"] == 0 and rep["failed"] == 0
        for name in ("est-enroll", "est-renew", "scep-enroll",
                     "scep-renew"):
            assert rep["ops"][name]["ok"] == 20, (name, rep["ops"])
        check_consistent(rep)
        # The server saw the connections and has its memory measured.
        s = rep["server"]
        assert s["pid"] == srv.proc.pid
        assert s["rss_before_kib"] > 0 and s["rss_peak_kib"] > 0
        assert s["conns_peak"] >= 1
        assert rep["per_second"] > 0
    # Every certificate the fleet counted is in the store, no more.
    assert cert_count(d) == base + 80
    # The key pool was written once, private, and is reused as it is.
    pool = tmp_path / "pool.pem"
    assert stat.S_IMODE(os.stat(pool).st_mode) == 0o600
    assert pool.read_text().count("BEGIN PRIVATE KEY") == 8


def test_fleet_arrival_patterns(tmp_path):
    d = make_ca(tmp_path)
    base = cert_count(d)
    with Pkid(d, "--quiet") as srv:
        before = (tmp_path / "pool.pem").exists()
        rc, rep, err = fleet(srv, d, tmp_path, "--devices", 12,
                             "--proto", "est", "--arrival", "uniform",
                             "--over", 2)
        assert not before
        assert rc == 0, err
        assert rep["arrival"] == "uniform" and rep["proto"] == "est"
        assert rep["ops"]["est-enroll"]["ok"] == 12
        assert rep["ops"]["est-renew"]["ok"] == 12
        assert rep["ops"]["scep-enroll"]["attempts"] == 0
        # Spread over 2 s: the run cannot be shorter than the spread.
        assert rep["seconds"] >= 1.8
        check_consistent(rep)
        pool = (tmp_path / "pool.pem").read_bytes()

        rc, rep, err = fleet(srv, d, tmp_path, "--devices", 10,
                             "--proto", "scep", "--arrival", "renewal-day",
                             "--over", 1)
        assert rc == 0, err
        assert rep["ops"]["scep-enroll"]["ok"] == 10
        assert rep["ops"]["scep-renew"]["ok"] == 10
        check_consistent(rep)
        # The EST keys came from the file; only RSA keys were added.
        text = (tmp_path / "pool.pem").read_bytes()
        assert text.startswith(pool)

        rc, rep, err = fleet(srv, d, tmp_path, "--devices", 6,
                             "--no-renew")
        assert rc == 0, err
        assert rep["renew"] is False and rep["ok"] == 6
        assert rep["ops"]["est-renew"]["attempts"] == 0
        check_consistent(rep)
    assert cert_count(d) == base + 24 + 20 + 6


def test_fleet_retries_after_503(tmp_path):
    """Past max_conns pkid answers 503 with Retry-After; the devices come
    back after it (plus jitter) and all get their certificates."""
    d = make_ca(tmp_path, "--set", "server.max_conns=4")
    with Pkid(d, "--quiet", "--workers", "1") as srv:
        rc, rep, err = fleet(srv, d, tmp_path, "--devices", 16,
                             "--proto", "est", "--no-renew")
        assert rc == 0, (err, rep)
        assert rep["devices_done"] == 16
        o = rep["ops"]["est-enroll"]
        assert o["ok"] == 16 and o["retries"] > 0, rep
        refused = {k: n for k, n in rep["outcomes"].items()
                   if k != "est-enroll 200"}
        assert sum(refused.values()) == o["retries"], rep["outcomes"]
        # A retried device waited at least a Retry-After of 1 s.
        assert o["max_ms"] >= 1000, o
        check_consistent(rep)


def test_fleet_time_limit_and_usage(tmp_path):
    # Nothing listens on the ports: every attempt fails to connect and
    # is retried until the time limit ends the run.
    d = make_ca(tmp_path)
    cp = run([binary("fleet"), "--devices", "3", "--proto", "est",
              "--est-port", "1", "--cacert", str(d / "root.pem"),
              "--user", "fleet", "--password", PW, "--keys", "1",
              "--time-limit", "2", "--json"], timeout=60)
    assert cp.returncode == 1
    rep = json.loads(cp.stdout)
    assert rep["unfinished"] == 3 and rep["devices_done"] == 0
    assert rep["outcomes"].get("est-enroll conn-error", 0) >= 3
    assert 1.5 <= rep["seconds"] < 10
    # Bad numbers are refused, never replaced by a default.
    for args in (["--devices", "0"], ["--devices", "x"],
                 ["--arrival", "sometimes"], ["--proto", "ftp"]):
        cp = run([binary("fleet"), "--est-port", "1", "--cacert",
                  str(d / "root.pem"), "--user", "u", "--password", "p",
                  *args], timeout=30)
        assert cp.returncode != 0, args
        assert "fleet:" in cp.stderr and cp.stdout == "", (args, cp.stderr)
    # The load generators too (--concurrency 8000 once ran 8 clients).
    for prog, need in (("est_load", ["--cacert", "x"]),
                       ("scep_load", ["--ra", "x", "--challenge", "x"])):
        for conc in ("200000", "0", "many"):
            cp = run([binary(prog), "--port", "1", *need,
                      "--concurrency", conc], timeout=30)
            assert cp.returncode == 2 and "usage" in cp.stderr, (prog, conc)


def test_fleet_idle_connections(tmp_path):
    """--idle: connections held open, then closed; pkid's descriptors
    follow (RSS is not asserted: sanitizer builds keep freed memory)."""
    d = make_ca(tmp_path, "--set", "server.header_timeout=120s")
    with Pkid(d, "--quiet") as srv:
        cp = run([binary("fleet"), "--idle", "60", "--est-port",
                  str(srv.tls_port), "--cacert", str(d / "root.pem"),
                  "--pid", str(srv.proc.pid), "--hold", "2",
                  "--refresh", "1", "--settle", "2", "--json"], timeout=120)
        assert cp.returncode == 0, cp.stderr
        rep = json.loads(cp.stdout)
        assert rep["open"] == 60 and rep["failed"] == 0
        assert rep["lost"] == 0
        s = rep["server"]
        assert s["conns_with"] == 60, s
        assert s["fds_held"] == s["fds_with"], s
        assert s["fds_after"] <= s["fds_before"] + 2, s
        assert rep["outcomes"] == {"200": 60}
