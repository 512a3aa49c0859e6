"""pkictl's administrative commands against a real CA directory and a
running pkid: `ca pending` shows what each waiting request asks for and
who sent it (EST over curl, SCEP with pkictl's own client), `ca approve`
and `ca reject` say what they did, `est user list|del|passwd`, `scep
challenge list|revoke` (never the secret), and `ca audit` pages through
the append-only audit log. Every change leaves an audit row; an unknown
id or name is `not-found`, exit 1."""
import hashlib
import json
import re
import sqlite3
import time

import pytest

from conftest import error_code, make_csr, openssl, pkictl, run
from server import Pkid
from test_est import csr_body, curl

BOB_PW = "pw-bob-long-enough"


def enroll_scep(*args, **kw):
    kw.setdefault("timeout", 120)
    return pkictl("enroll", "scep", *args, **kw)


def audit(ca, *args):
    cp = pkictl("ca", "audit", "--dir", ca, "--json", *args, check=True)
    return json.loads(cp.stdout)


def db_rows(ca, sql, *params):
    db = sqlite3.connect(ca / "pkid.db")
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def manual_ca(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--set", "scep.challenge=s3cret",
           "--set", "profile.device.approval=manual", check=True)
    pkictl("est", "user", "add", "--dir", d, "bob", "--password", BOB_PW,
           check=True)
    return d


def queue_requests(d, tmp_path, p):
    """One pending EST request (RSA 3072, bob) and one SCEP (RSA 2048)."""
    csr = make_csr(tmp_path, "est", key="rsa:3072",
                   subject="/CN=wait1.example.com",
                   san="DNS:wait1.example.com,IP:10.1.2.3")
    st, _, _, body = curl(p, "/simpleenroll", tmp_path, data=csr_body(csr),
                          user=f"bob:{BOB_PW}")
    assert st == 202, body
    cp = enroll_scep("--url", p.url("/scep", tls=False), "--challenge",
                     "s3cret", "--new-key", "rsa-2048", "--subject",
                     "CN=wait2.example.com", "--san",
                     "DNS:wait2.example.com", "--poll-interval", "1",
                     "--max-wait", "1", "--cacert", d / "root.pem",
                     "--out", tmp_path / "scep.crt")
    assert cp.returncode == 1 and error_code(cp) == "request-pending", \
        cp.stderr


def test_pending_shows_what_each_request_asks(tmp_path):
    d = manual_ca(tmp_path)
    cp = pkictl("ca", "pending", "--dir", d, check=True)
    assert "no request waits for approval" in cp.stdout
    with Pkid(d, "--quiet") as p:
        queue_requests(d, tmp_path, p)
    pend = json.loads(pkictl("ca", "pending", "--dir", d, "--json",
                             check=True).stdout)
    assert [r["kind"] for r in pend] == ["est", "scep"]
    est, scep = pend
    assert est["subject"] == "CN=wait1.example.com"
    assert est["sans"] == "DNS:wait1.example.com, IP:10.1.2.3"
    assert est["key"] == "RSA 3072" and est["key_bits"] == 3072
    assert est["requester"] == "est:user:bob"
    assert est["profile"] == "device"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", est["created"])
    # csr_body wrote the DER curl sent: its SHA-256 identifies it.
    assert est["csr_sha256"] == hashlib.sha256(
        (tmp_path / "est.der").read_bytes()).hexdigest()
    assert scep["subject"] == "CN=wait2.example.com"
    assert scep["sans"] == "DNS:wait2.example.com"
    assert scep["key"] == "RSA 2048" and scep["key_bits"] == 2048
    assert scep["requester"].startswith("scep:")
    # The SCEP transactionID, as the store keeps it.
    tid = db_rows(d, "SELECT transaction_id FROM request WHERE id = ?",
                  scep["id"])[0][0]
    assert scep["transaction_id"] == tid and len(tid) >= 32
    # The text form carries the same, one block per request.
    text = pkictl("ca", "pending", "--dir", d, check=True).stdout
    for want in (f"request {est['id']}: est, profile device",
                 "subject:     CN=wait1.example.com",
                 "SANs:        DNS:wait1.example.com, IP:10.1.2.3",
                 "key:         RSA 3072", "requester:   est:user:bob",
                 f"request {scep['id']}: scep, profile device",
                 "key:         RSA 2048", f"transaction: {tid}"):
        assert want in text, (want, text)


def test_approve_and_reject_say_what(tmp_path):
    d = manual_ca(tmp_path)
    with Pkid(d, "--quiet") as p:
        queue_requests(d, tmp_path, p)
    est, scep = json.loads(pkictl("ca", "pending", "--dir", d, "--json",
                                  check=True).stdout)
    out = tmp_path / "approved.pem"
    cp = pkictl("ca", "approve", "--dir", d, est["id"], "--out", out,
                check=True)
    m = re.search(r"approved request (\d+): issued serial ([0-9a-f]+)",
                  cp.stdout)
    assert m and int(m.group(1)) == est["id"], cp.stdout
    serial = m.group(2)
    assert "subject:     CN=wait1.example.com" in cp.stdout
    assert "SANs:        DNS:wait1.example.com, IP:10.1.2.3" in cp.stdout
    assert "requester:   est:user:bob" in cp.stdout
    assert "key:         RSA 3072" in cp.stdout
    # The serial printed is the certificate's, in the store and the file.
    got = openssl("x509", "-in", out, "-noout", "-serial",
                  check=True).stdout.strip().split("=")[1].lower()
    assert got.lstrip("0") == serial.lstrip("0")
    listed = json.loads(pkictl("ca", "list", "--dir", d, "--json",
                               check=True).stdout)
    assert any(c["serial"] == serial and c["requester"] == "est:user:bob"
               for c in listed)
    cp = pkictl("ca", "reject", "--dir", d, scep["id"], "--reason",
                "unknown device", check=True)
    assert f"rejected request {scep['id']}: scep" in cp.stdout
    assert "subject:     CN=wait2.example.com" in cp.stdout
    assert "SANs:        DNS:wait2.example.com" in cp.stdout
    assert "reason:      unknown device" in cp.stdout
    cp = pkictl("ca", "pending", "--dir", d, check=True)
    assert "no request waits for approval" in cp.stdout
    # Twice: the request is no longer pending.
    for verb in ("approve", "reject"):
        cp = pkictl("ca", verb, "--dir", d, est["id"])
        assert cp.returncode == 1 and error_code(cp) == "request-state"
    # Unknown: not-found, exit 1, naming where the ids come from.
    for verb in ("approve", "reject"):
        cp = pkictl("ca", verb, "--dir", d, "9999")
        assert cp.returncode == 1 and error_code(cp) == "not-found"
        assert "ca pending" in cp.stderr and "fix:" in cp.stderr
    rows = audit(d)
    assert any(r["action"] == "issued" and r["object"] ==
               f"request:{est['id']}" and r["actor"] == "cli" for r in rows)
    assert any(r["action"] == "rejected" and r["object"] ==
               f"request:{scep['id']}" and r["detail"] == "unknown device"
               for r in rows)


def est_status(p, tmp_path, user, pw):
    csr = make_csr(tmp_path, f"u{time.monotonic_ns()}",
                   subject="/CN=u.example.com", san=None)
    st, _, _, _ = curl(p, "/simpleenroll", tmp_path, data=csr_body(csr),
                       user=f"{user}:{pw}")
    return st


def test_est_users_list_passwd_del(ca, tmp_path):
    pkictl("est", "user", "add", "--dir", ca, "bob", input=BOB_PW + "\n",
           check=True)
    pkictl("est", "user", "add", "--dir", ca, "alice", "--password",
           "alice-pw-long-enough", check=True)
    hashes = [h for (h,) in db_rows(ca, "SELECT password_hash FROM "
                                    "app_user")]
    assert len(hashes) == 2
    cp = pkictl("est", "user", "list", "--dir", ca, check=True)
    names = [ln.split()[0] for ln in cp.stdout.splitlines()[1:]]
    assert names == ["alice", "bob"]
    users = json.loads(pkictl("est", "user", "list", "--dir", ca, "--json",
                              check=True).stdout)
    assert [u["name"] for u in users] == ["alice", "bob"]
    assert set(users[0]) == {"name", "created"}
    for out in (cp.stdout, json.dumps(users)):
        for h in hashes:
            assert h not in out
            assert h.split("$")[-1] not in out
        assert "pbkdf2" not in out.lower()

    new_pw = "bob-new-pw-long-enough"
    with Pkid(ca, "--quiet") as p:
        assert est_status(p, tmp_path, "bob", BOB_PW) == 200
        # A new password from standard input, as est user add reads it.
        cp = pkictl("est", "user", "passwd", "--dir", ca, "bob",
                    input=new_pw + "\n", check=True)
        assert "bob" in cp.stdout and new_pw not in cp.stdout
        assert est_status(p, tmp_path, "bob", new_pw) == 200
        assert est_status(p, tmp_path, "bob", BOB_PW) == 401
        cp = pkictl("est", "user", "del", "--dir", ca, "alice", check=True)
        assert "alice" in cp.stdout
        assert est_status(p, tmp_path, "alice", "alice-pw-long-enough") == \
            401
    users = json.loads(pkictl("est", "user", "list", "--dir", ca, "--json",
                              check=True).stdout)
    assert [u["name"] for u in users] == ["bob"]
    # A weak password is refused, and changes nothing.
    before = db_rows(ca, "SELECT password_hash FROM app_user")
    cp = pkictl("est", "user", "passwd", "--dir", ca, "bob", "--password",
                "short")
    assert cp.returncode == 2 and error_code(cp) == "password-weak"
    assert db_rows(ca, "SELECT password_hash FROM app_user") == before
    # Unknown names: not-found, exit 1; passwd creates nobody.
    for args in (["del", "alice"], ["passwd", "carol", "--password",
                                    "carol-pw-long-enough"]):
        cp = pkictl("est", "user", *args[:1], "--dir", ca, *args[1:])
        assert cp.returncode == 1 and error_code(cp) == "not-found", \
            cp.stderr
        assert "est user list" in cp.stderr
    assert [n for (n,) in db_rows(ca, "SELECT name FROM app_user")] == \
        ["bob"]
    cp = pkictl("est", "user", "del", "--dir", ca, "no:colon")
    assert cp.returncode == 2 and error_code(cp) == "usage"
    rows = audit(ca)
    assert [(r["action"], r["object"]) for r in rows
            if r["action"] in ("user-passwd", "user-del")] == \
        [("user-passwd", "bob"), ("user-del", "alice")]


def new_challenge(ca, *extra):
    cp = pkictl("scep", "challenge", "new", "--dir", ca, *extra, check=True)
    lines = cp.stdout.strip().splitlines()
    m = re.match(r"one-time SCEP challenge ([0-9a-f]{12}) for profile",
                 lines[0])
    assert m, cp.stdout
    return m.group(1), lines[-1]


def test_scep_challenges_list_and_revoke(tmp_path):
    ca = tmp_path / "ca"
    pkictl("ca", "init", "--dir", ca, check=True)
    id1, pw1 = new_challenge(ca, "--ttl", "10m")
    id2, pw2 = new_challenge(ca, "--ttl", "10m")
    id3, pw3 = new_challenge(ca, "--ttl", "1s")
    time.sleep(1.5)
    hashes = [h for (h,) in db_rows(ca, "SELECT hash FROM scep_challenge")]
    text = pkictl("scep", "challenge", "list", "--dir", ca,
                  check=True).stdout
    js = pkictl("scep", "challenge", "list", "--dir", ca, "--json",
                check=True).stdout
    for out in (text, js):
        for secret in (pw1, pw2, pw3, *hashes):
            assert secret not in out
    lst = {c["id"]: c for c in json.loads(js)}
    assert set(lst) == {id1, id2, id3}
    assert lst[id1]["state"] == "unused" and lst[id1]["used"] is None
    assert lst[id3]["state"] == "expired"
    assert lst[id1]["profile"] == "device"
    assert re.search(rf"^{id1}\s+unused\s+device\s", text, re.M), text

    cp = pkictl("scep", "challenge", "revoke", "--dir", ca, id1[:8].upper(),
                check=True)
    assert f"revoked SCEP challenge {id1}" in cp.stdout
    with Pkid(ca, "--quiet") as p:
        url = p.url("/scep", tls=False)
        common = ["--url", url, "--new-key", "rsa-2048", "--cacert",
                  ca / "root.pem"]
        cp = enroll_scep(*common, "--challenge", pw1, "--subject",
                         "CN=r.example.com", "--out", tmp_path / "r.crt")
        assert cp.returncode == 1 and \
            error_code(cp) == "scep-fail-bad-request", cp.stderr
        cp = enroll_scep(*common, "--challenge", pw2, "--subject",
                         "CN=ok.example.com", "--out", tmp_path / "ok.crt")
        assert cp.returncode == 0, cp.stderr
    lst = {c["id"]: c for c in json.loads(pkictl(
        "scep", "challenge", "list", "--dir", ca, "--json",
        check=True).stdout)}
    assert set(lst) == {id2, id3}
    assert lst[id2]["state"] == "used" and lst[id2]["used"]
    # A used challenge: nothing to revoke; unknown and malformed ids.
    cp = pkictl("scep", "challenge", "revoke", "--dir", ca, id2)
    assert cp.returncode == 1 and error_code(cp) == "request-state"
    cp = pkictl("scep", "challenge", "revoke", "--dir", ca, id1)
    assert cp.returncode == 1 and error_code(cp) == "not-found"
    assert "scep challenge list" in cp.stderr
    for bad in ("abc", "zzzzzzzzzz", "0" * 65):
        cp = pkictl("scep", "challenge", "revoke", "--dir", ca, bad)
        assert cp.returncode == 2 and error_code(cp) == "usage", bad
    cp = pkictl("scep", "challenge", "revoke", "--dir", ca)
    assert cp.returncode == 2
    # The expired one can still be revoked (cleanup).
    pkictl("scep", "challenge", "revoke", "--dir", ca, id3, check=True)
    rows = audit(ca)
    assert [r["object"] for r in rows
            if r["action"] == "scep-challenge-revoke"] == [id1, id3]
    assert [r["detail"] for r in rows
            if r["action"] == "scep-challenge-new"] == [id1, id2, id3]


def clock_hooks(tmp_path):
    d = tmp_path / "hooks"
    pkictl("ca", "init", "--dir", d, "--root-only", check=True,
           env={"PKID_NOW": "2031-01-01T00:00:00Z"})
    start = openssl("x509", "-in", d / "root.pem", "-noout", "-startdate",
                    check=True).stdout
    return "2030" in start or "2031" in start


def test_audit_pages_since_and_limit(tmp_path):
    if not clock_hooks(tmp_path):
        pytest.skip("needs PKID_TEST_HOOKS=ON (PKID_NOW)")
    ca = tmp_path / "ca"
    at = lambda day: {"PKID_NOW": f"2030-01-{day:02d}T12:00:00Z"}  # noqa
    pkictl("ca", "init", "--dir", ca, check=True, env=at(1))
    base = len(audit(ca, "--limit", "10000"))
    for day in range(2, 12):
        pkictl("est", "user", "add", "--dir", ca, f"u{day}", "--password",
               "a-long-enough-pw", check=True, env=at(day))
    rows = audit(ca, "--limit", "10000")
    assert len(rows) == base + 10
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids)            # newest last
    # --limit: the newest N; stderr names the page before.
    cp = pkictl("ca", "audit", "--dir", ca, "--json", "--limit", "3",
                check=True)
    page = json.loads(cp.stdout)
    assert [r["object"] for r in page] == ["u9", "u10", "u11"]
    m = re.search(r"pkictl ca audit --before (\d+)", cp.stderr)
    assert m and int(m.group(1)) == page[0]["id"]
    page2 = audit(ca, "--limit", "3", "--before", m.group(1))
    assert [r["object"] for r in page2] == ["u6", "u7", "u8"]
    # --since as RFC 3339 (offsets allowed) and as a duration back.
    since = audit(ca, "--since", "2030-01-09T00:00:00Z")
    assert [r["object"] for r in since] == ["u9", "u10", "u11"]
    since = audit(ca, "--since", "2030-01-09T01:00:00+01:00")
    assert [r["object"] for r in since] == ["u9", "u10", "u11"]
    cp = pkictl("ca", "audit", "--dir", ca, "--json", "--since", "3d",
                check=True, env=at(12))
    assert [r["object"] for r in json.loads(cp.stdout)] == \
        ["u9", "u10", "u11"]
    assert "older" not in cp.stderr       # nothing older matches
    cp = pkictl("ca", "audit", "--dir", ca, "--json", "--since", "5d",
                "--limit", "2", check=True, env=at(12))
    assert [r["object"] for r in json.loads(cp.stdout)] == ["u10", "u11"]
    assert "--before" in cp.stderr and "--since 5d" in cp.stderr
    # Text: one line per entry, the header first, times in UTC.
    cp = pkictl("ca", "audit", "--dir", ca, "--limit", "2", check=True)
    lines = cp.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "TIME", "ACTOR"]
    assert len(lines) == 3 and "2030-01-11T12:00:00Z" in lines[2]
    assert "user-set" in lines[2] and "u11" in lines[2]
    cp = pkictl("ca", "audit", "--dir", ca, "--since",
                "2031-01-01T00:00:00Z", check=True)
    assert "no audit entries" in cp.stdout
    # Bad input.
    for args in (["--since", "yesterday"], ["--since", "2030-13-01"]):
        cp = pkictl("ca", "audit", "--dir", ca, *args)
        assert cp.returncode == 2 and error_code(cp) == "bad-time", args
    for args in (["--limit", "0"], ["--limit", "10001"], ["--before", "x"],
                 ["extra"]):
        cp = pkictl("ca", "audit", "--dir", ca, *args)
        assert cp.returncode == 2 and error_code(cp) == "usage", args


def test_audit_page_reads_only_its_rows(ca):
    """A page of a long log: the newest rows, whatever the length (the
    query walks the primary key backwards; its plan has no scan)."""
    db = sqlite3.connect(ca / "pkid.db")
    try:
        with db:
            db.executemany(
                "INSERT INTO audit (at, actor, action, object, result, "
                "detail) VALUES (?, 'test', 'bulk', ?, 'ok', '')",
                ((1, f"o{i}") for i in range(200000)))
    finally:
        db.close()
    t0 = time.monotonic()
    cp = pkictl("ca", "audit", "--dir", ca, "--json", "--limit", "5",
                "--since", "1970-01-01T00:00:01Z", check=True)
    elapsed = time.monotonic() - t0
    page = json.loads(cp.stdout)
    assert [r["object"] for r in page] == [f"o{i}" for i in
                                          range(199995, 200000)]
    assert "--before" in cp.stderr
    # Generous: a scan of 200,000 rows under ASan would be slower than
    # the whole process start; this only catches a gross regression.
    assert elapsed < 30, elapsed


def test_help_and_completion_name_the_new_commands():
    for words in (["ca", "audit"], ["est", "user", "list"],
                  ["est", "user", "del"], ["est", "user", "passwd"],
                  ["scep", "challenge", "list"],
                  ["scep", "challenge", "revoke"]):
        cp = pkictl(*words, "--help", check=True)
        assert cp.stdout.startswith("usage: pkictl " + " ".join(words))
    from conftest import ROOT
    f = ROOT / "dist" / "pkictl.bash"
    for words, want in ((["est", "user", ""], ["add", "list", "del",
                                                "passwd"]),
                        (["scep", "challenge", ""], ["new", "list",
                                                     "revoke"]),
                        (["scep", "challenge", "re"], ["revoke"]),
                        (["ca", "au"], ["audit"])):
        cword = len(words)
        arr = " ".join(["pkictl", *(f"'{w}'" for w in words)])
        cp = run(["bash", "-c", f". {f}; COMP_WORDS=({arr}); "
                  f"COMP_CWORD={cword}; _pkictl; echo ${{COMPREPLY[@]}}"],
                 check=True)
        assert cp.stdout.split() == want, (line, cp.stdout)
