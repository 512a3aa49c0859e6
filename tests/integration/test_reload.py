"""SIGHUP: pkid reads pkid.conf again and serves the new EST labels,
profiles and [status] rules while it runs (pkid(8) SIGNALS)."""
import signal
import time

from conftest import openssl, pkictl
from server import Pkid
from statuslib import curl, est_enroll, leaf_pem

PW = "correct-horse-42"


def reloaded(srv, n):
    """Wait (bounded) for the n-th 'reload: serving' line."""
    for _ in range(300):
        if srv.read_stderr().count("reload: serving CA") >= n:
            return
        time.sleep(0.1)
    raise AssertionError("no reload:\n" + srv.read_stderr())


def days_left(pem):
    end = openssl("x509", "-in", pem, "-noout", "-enddate",
                  check=True).stdout.split("=", 1)[1].strip()
    return (time.mktime(time.strptime(end, "%b %d %H:%M:%S %Y %Z")) -
            time.time()) / 86400


def test_sighup_applies_labels_profiles_and_status(tmp_path):
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, check=True)
    pkictl("est", "user", "add", "--dir", d, "alice", input=PW + "\n",
           check=True)
    u = f"alice:{PW}"
    with Pkid(d, stderr_path=tmp_path / "p.log") as srv:
        st, _, body, _ = est_enroll(srv, tmp_path, "a", "a.example.com",
                                    label="lab", user=u)
        assert st == 404 and b"no EST label 'lab'" in body
        assert curl(srv, "/", tmp_path)[0] == 200
        conf = d / "pkid.conf"
        text = conf.read_text()
        text = text.replace("[status]\nallow = 127.0.0.0/8, ::1/128",
                            "[status]\nallow = 127.0.0.2/32")
        assert "allow = 127.0.0.2/32" in text
        text += ("\n[profile short]\nlifetime = 10d\nkey_types = ec-p256\n"
                 "san_dns_suffixes = example.com\n\n[est lab]\n"
                 "profile = short\n")
        conf.write_text(text)
        srv.proc.send_signal(signal.SIGHUP)
        reloaded(srv, 1)
        st, h, body, _ = est_enroll(srv, tmp_path, "b", "b.example.com",
                                    label="lab", user=u)
        assert st == 200, body
        assert 9 < days_left(leaf_pem(body, tmp_path, "b")) <= 10
        st, _, body = curl(srv, "/", tmp_path)
        assert st == 403 and b"[status] allow" in body
        rc, _, err = srv.stop()
    assert rc == 0 and "AddressSanitizer" not in err
