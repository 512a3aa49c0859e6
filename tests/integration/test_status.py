"""The status page (/), its JSON and /metrics, against a pkid that has
enrolled and refused over EST (curl) and SCEP (strongSwan): the page is
loaded in headless Chromium and its DOM compared with the store; /metrics
is parsed with prometheus_client and must move with real requests."""
import calendar
import json
import shutil
import time

import pytest

from conftest import pkictl
from server import Pkid
from statuslib import (CHROMIUM, Dom, curl, dump_dom, est_enroll, metric,
                       metrics, screenshot)
from test_scep import StrongSwan

PW = "correct-horse-42"
need_chromium = pytest.mark.skipif(CHROMIUM is None,
                                   reason="chromium not installed")
need_pki = pytest.mark.skipif(shutil.which("pki") is None,
                              reason="strongSwan pki not installed")


def epoch(ts):
    return calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))


def make_ca(tmp, name="ca", *sets):
    d = tmp / name
    args = ["ca", "init", "--dir", d,
            "--set", "scep.challenge=static-chal-0123",
            "--set", "profile.manual.approval=manual",
            "--set", "profile.manual.san_dns_suffixes=example.com",
            "--set", "est.pend.profile=manual",
            "--set", "profile.short.lifetime=10d",
            "--set", "profile.short.san_dns_suffixes=example.com",
            "--set", "est.short.profile=short"]
    for s in sets:
        args += ["--set", s]
    pkictl(*args, check=True)
    pkictl("est", "user", "add", "--dir", d, "alice", input=PW + "\n",
           check=True)
    return d


@pytest.fixture(scope="module")
def busy(tmp_path_factory):
    """A pkid after enrollments and refusals of both protocols."""
    tmp = tmp_path_factory.mktemp("status")
    d = make_ca(tmp)
    with Pkid(d, stderr_path=tmp / "pkid.log") as srv:
        u = f"alice:{PW}"
        for i in (1, 2):
            st, _, _, _ = est_enroll(srv, tmp, f"d{i}", f"d{i}.example.com",
                                     user=u)
            assert st == 200
        st, _, _, _ = est_enroll(srv, tmp, "s1", "s1.example.com",
                                 label="short", user=u)
        assert st == 200
        st, _, _, _ = est_enroll(srv, tmp, "p1", "p1.example.com",
                                 label="pend", user=u)
        assert st == 202
        st, _, _, _ = est_enroll(srv, tmp, "w1", "w1.example.com",
                                 user="alice:wrong-password-1")
        assert st == 401
        st, _, _, _ = est_enroll(srv, tmp, "x1", "evil.other.org", user=u)
        assert st == 400
        srv.scep_ok = srv.scep_bad = 0
        if shutil.which("pki") is not None:
            ss = StrongSwan(srv.url("/scep", tls=False), tmp / "ss")
            ss.getca()
            cp, _ = ss.enroll(ss.key("sc1"), "CN=sc1.example.com",
                              "static-chal-0123")
            assert cp.returncode == 0, cp.stderr
            cp, _ = ss.enroll(ss.key("sc2"), "CN=sc2.example.com",
                              "not-the-challenge")
            assert cp.returncode != 0
            srv.scep_ok, srv.scep_bad = 1, 1
        # Offline issuance under a short profile: in the store, not in
        # the server's counters.
        csr = tmp / "off.csr"
        from conftest import make_csr
        csr = make_csr(tmp, name="off", subject="/CN=off.example.com",
                       san="DNS:off.example.com")
        pkictl("ca", "issue", "--dir", d, "--csr", csr, "--profile",
               "short", "--out", tmp / "off.pem", check=True)
        srv.tmp = tmp
        yield srv
        rc, _, err = srv.stop()
        assert "AddressSanitizer" not in err and "runtime error" not in err


def store_facts(d):
    certs = json.loads(pkictl("ca", "list", "--dir", d, "--json",
                              check=True).stdout)
    pending = json.loads(pkictl("ca", "pending", "--dir", d, "--json",
                                check=True).stdout)
    now = time.time()
    soon = [c for c in certs if c["status"] == "valid" and
            now <= epoch(c["not_after"]) < now + 30 * 86400]
    return certs, pending, soon


@need_chromium
def test_page_in_chromium_matches_store(busy):
    tmp = busy.tmp
    certs, pending, soon = store_facts(busy.ca_dir)
    dom = Dom(dump_dom(busy.url("/"), tmp))
    assert dom.by_id["health"] == "healthy"
    assert dom.by_id["ca-name"] == "ca"
    assert int(dom.by_id["certs-total"]) == len(certs)
    assert int(dom.by_id["expiring-count"]) == len(soon) == 2
    assert int(dom.by_id["pending-count"]) == len(pending) == 1
    rows = {a["data-serial"] for a in dom.with_class("tr", "exp")}
    assert rows == {c["serial"] for c in soon}
    assert [int(a["data-id"]) for a in dom.with_class("tr", "pend")] == \
        [p["id"] for p in pending]
    codes = {a["data-code"] for a in dom.with_class("tr", "err")}
    assert {"auth-failed", "san-not-allowed"} <= codes, codes
    if busy.scep_ok:
        assert "challenge-bad" in codes
    # Enrollments of this hour: EST 3 issued + 1 pending, SCEP 1; refused:
    # wrong password, name outside the profile, wrong challenge.
    assert int(dom.by_id["enrolled-hour"]) == 4 + busy.scep_ok
    assert int(dom.by_id["refused-hour"]) == 2 + busy.scep_bad
    assert int(dom.by_id["issued-since-start"]) == 3 + busy.scep_ok
    assert dom.by_id["generation"] == "1"
    # The serial of the trust bundle pkid publishes (/trust/bundle.p7b).
    st, h, _ = curl(busy, "/trust/bundle.p7b", tmp)
    assert st == 200 and dom.by_id["trust-serial"] == \
        h["x-pkid-bundle-serial"]
    # The rollover picture of pkictl ca plan, and the generations.
    assert "CA rollover plan: ca" in dom.by_id["plan"]
    gens = [a["data-state"] for t, a in dom.elems
            if t == "tr" and "data-state" in a]
    assert gens == ["current"] * 3
    # The links of the error codes lead to their catalogue pages.
    st, h, body = curl(busy, "/errors/auth-failed", tmp)
    assert st == 200 and b"check the user name and password" in body
    # No external asset: no src= and no stylesheet link.
    page = curl(busy, "/", tmp)[2].decode()
    assert " src=" not in page and "stylesheet" not in page
    assert "<svg" in page and "<style>" in page


@need_chromium
def test_screenshots_desktop_and_phone(busy):
    for name, w, h in (("status-desktop.png", 1280, 1500),
                       ("status-phone.png", 390, 2400)):
        out = screenshot(busy.url("/"), busy.tmp, name, w, h)
        assert out.stat().st_size > 20000


def test_json_matches_page(busy):
    st, h, body = curl(busy, "/?format=json", busy.tmp)
    assert st == 200 and h["content-type"] == "application/json"
    j = json.loads(body)
    certs, pending, soon = store_facts(busy.ca_dir)
    assert j["status"] == "ok"
    assert j["certificates"]["issued_total"] == len(certs)
    assert j["certificates"]["expiring_30d"] == len(soon)
    assert [p["id"] for p in j["certificates"]["pending"]] == \
        [p["id"] for p in pending]
    assert j["ca"]["generation"] == 1 and j["ca"]["shadow"] is False
    assert {e["code"] for e in j["errors"]} >= {"auth-failed"}
    err = next(e for e in j["errors"] if e["code"] == "auth-failed")
    assert err["count"] == 1 and err["remedy"] and err["request_id"]
    assert j["server"]["max_conns"] == 4096
    assert j["warnings"] == []
    st, bh, _ = curl(busy, "/trust/bundle.p7b", busy.tmp)
    assert st == 200 and j["trust_bundle_serial"] == \
        bh["x-pkid-bundle-serial"]
    # The secrets the requests used are nowhere on the page.
    page = curl(busy, "/", busy.tmp)[2]
    for secret in (PW, "wrong-password-1", "static-chal-0123"):
        assert secret.encode() not in body + page


def test_metrics_parse_and_move(busy):
    tmp = busy.tmp
    m0 = metrics(busy, tmp)
    est0 = metric(m0, "pkid_enrollments_total", protocol="est",
                  profile="device", result="issued")
    assert est0 == 2
    assert metric(m0, "pkid_errors_total", code="auth-failed") == 1
    assert metric(m0, "pkid_ca_shadow", ca="ca") == 0
    assert metric(m0, "pkid_connections_max") == 4096
    assert any(k[0] == "pkid_ca_expiry_seconds" and v > 0
               for k, v in m0.items())
    lat0 = metric(m0, "pkid_request_duration_seconds_count",
                  operation="est_simpleenroll")
    st, _, _, _ = est_enroll(busy, tmp, "m1", "m1.example.com",
                             user=f"alice:{PW}")
    assert st == 200
    if busy.scep_ok:
        ss = StrongSwan(busy.url("/scep", tls=False), tmp / "ss")
        cp, _ = ss.enroll(ss.key("sc3"), "CN=sc3.example.com",
                          "static-chal-0123")
        assert cp.returncode == 0, cp.stderr
    m1 = metrics(busy, tmp)
    assert metric(m1, "pkid_enrollments_total", protocol="est",
                  profile="device", result="issued") == est0 + 1
    assert metric(m1, "pkid_request_duration_seconds_count",
                  operation="est_simpleenroll") == lat0 + 1
    assert metric(m1, "pkid_certificates_issued_total") == \
        metric(m0, "pkid_certificates_issued_total") + 1 + busy.scep_ok
    if busy.scep_ok:
        assert metric(m1, "pkid_enrollments_total", protocol="scep",
                      profile="device", result="issued") == 2
    assert metric(m1, "pkid_http_requests_total", endpoint="est",
                  status="200") > metric(m0, "pkid_http_requests_total",
                                         endpoint="est", status="200")
    assert metric(m1, "pkid_store_commit_duration_seconds_count") > \
        metric(m0, "pkid_store_commit_duration_seconds_count")
    assert metric(m1, "pkid_certificates", state="issued") == \
        len(store_facts(busy.ca_dir)[0])


def test_access_rules(tmp_path):
    d = make_ca(tmp_path, "acl", "status.users=alice",
                "status.allow=127.0.0.1/32")
    with Pkid(d) as srv:
        st, h, body = curl(srv, "/", tmp_path)
        assert st == 401 and "basic" in h["www-authenticate"].lower()
        st, _, _ = curl(srv, "/metrics", tmp_path,
                        user="alice:wrong-password-2")
        assert st == 401
        st, _, body = curl(srv, "/", tmp_path, user=f"alice:{PW}")
        assert st == 200 and b"<svg" in body
        st, _, body = curl(srv, "/metrics", tmp_path, plain=True)
        assert st == 403 and body.startswith(b"error: https-required:")
    d2 = make_ca(tmp_path, "acl2", "status.allow=127.0.0.2/32")
    with Pkid(d2) as srv:
        st, _, body = curl(srv, "/", tmp_path)
        assert st == 403 and b"not in [status] allow" in body
        st, _, body = curl(srv, "/errors/auth-failed", tmp_path)
        assert st == 403
    d3 = make_ca(tmp_path, "acl3", "status.http=on")
    with Pkid(d3) as srv:
        st, _, body = curl(srv, "/metrics", tmp_path, plain=True)
        assert st == 200 and b"pkid_build_info" in body
