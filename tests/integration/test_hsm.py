"""CA keys in a PKCS#11 token (SoftHSM2, a private token directory per
test): pkictl ca init --key-uri makes them inside the token, pkid issues
over EST (curl) and SCEP (pkictl's client), signs CRLs, and no CA key file
exists; a wrong PIN, a missing object, a missing token or module are each
a coded error."""
import base64
import os
import shutil

import pytest

from conftest import BUILD, error_code, make_csr, openssl, pkictl, run
from server import Pkid

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN, SO_PIN = "4711-user", "0815-so"
URI = "pkcs11:token=pkid%20test;object=ca"
USER, PASSWORD = "alice", "s3cret-pw-long-enough"

pytestmark = pytest.mark.skipif(
    shutil.which("softhsm2-util") is None or not os.path.exists(MODULE),
    reason="softhsm2 not installed (tools/deps.sh test)")


def token(tmp):
    """A SoftHSM2 config with its own token directory and one token,
    'pkid test'; returns the environment that selects it."""
    (tmp / "tokens").mkdir()
    conf = tmp / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp / 'tokens'}\n"
                    "objectstore.backend = file\nlog.level = ERROR\n")
    env = {"SOFTHSM2_CONF": str(conf)}
    run(["softhsm2-util", "--init-token", "--free", "--label", "pkid test",
         "--pin", PIN, "--so-pin", SO_PIN], env=env, check=True)
    return env


def pin_file(tmp, pin=PIN):
    f = tmp / "hsm.pin"
    f.write_text(pin + "\n")
    f.chmod(0o600)
    return f


def token_objects(env):
    cp = run(["pkcs11-tool", "--module", MODULE, "--token-label", "pkid test",
              "--login", "--pin", PIN, "-O"], env=env, check=True)
    return cp.stdout


@pytest.fixture(scope="module")
def hsm_ca(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hsm")
    env = token(tmp)
    d = tmp / "ca"
    cp = pkictl("ca", "init", "--dir", d, "--key-uri", URI,
                "--set", f"hsm.pin_file={pin_file(tmp)}",
                "--set", "scep.challenge=s3cret", env=env, check=True)
    assert "no key file" in cp.stdout
    pkictl("est", "user", "add", "--dir", d, USER, input=PASSWORD + "\n",
           env=env, check=True)
    return tmp, d, env


def test_init_keys_in_token_none_on_disk(hsm_ca):
    _, d, env = hsm_ca
    assert not (d / "keys/root.key").exists()
    assert not (d / "keys/issuing.key").exists()
    objs = token_objects(env)
    # Both CA keys are private key objects in the token, not extractable.
    assert objs.count("Private Key Object; EC") == 2, objs
    assert "label:      ca\n" in objs and "label:      ca-root" in objs
    assert "never extractable" in objs
    openssl("verify", "-CAfile", d / "root.pem", d / "issuing.pem",
            check=True)
    openssl("verify", "-CAfile", d / "root.pem", "-untrusted",
            d / "issuing.pem", d / "tls/server.pem", check=True)
    conf = (d / "pkid.conf").read_text()
    assert "[hsm]" in conf and PIN not in conf
    # The store records where each key is.
    cp = pkictl("ca", "show", "--dir", d, "--json", env=env, check=True)
    assert PIN not in cp.stdout + cp.stderr


def test_existing_object_is_used(hsm_ca, tmp_path):
    tmp, _, env = hsm_ca
    d = tmp_path / "again"
    cp = pkictl("ca", "init", "--dir", d, "--key-uri", URI, "--set",
                f"hsm.pin_file={tmp / 'hsm.pin'}", env=env, check=True)
    assert "using the existing CA key" in cp.stderr
    # The same key: both issuing CAs carry the same public key.
    pubs = [openssl("x509", "-in", x / "issuing.pem", "-noout", "-pubkey",
                    check=True).stdout for x in (hsm_ca[1], d)]
    assert pubs[0] == pubs[1]
    assert token_objects(env).count("Private Key Object") == 2


def test_issue_crl_est_scep(hsm_ca, tmp_path):
    tmp, d, env = hsm_ca
    # Offline issuance and a CRL, signed in the token.
    csr = make_csr(tmp_path, name="off")
    pkictl("ca", "issue", "--dir", d, "--csr", csr, "--out",
           tmp_path / "off.pem", env=env, check=True)
    openssl("verify", "-CAfile", d / "root.pem", "-untrusted",
            d / "issuing.pem", tmp_path / "off.pem", check=True)
    serial = openssl("x509", "-in", tmp_path / "off.pem", "-noout",
                     "-serial", check=True).stdout.split("=")[1].strip()
    pkictl("ca", "revoke", "--dir", d, serial.lower(), env=env, check=True)
    pkictl("ca", "crl", "--dir", d, "--out", tmp_path / "c.crl", env=env,
           check=True)
    txt = openssl("crl", "-in", tmp_path / "c.crl", "-CAfile",
                  d / "issuing.pem", "-noout", "-text", check=True)
    assert "verify OK" in txt.stderr + txt.stdout
    assert serial.upper() in txt.stdout.upper()
    with Pkid(d, "--quiet", env=env) as srv:
        # EST with curl and an openssl CSR.
        csr = make_csr(tmp_path, name="est", subject="/CN=est.example.com",
                       san="DNS:est.example.com")
        der = tmp_path / "est.der"
        openssl("req", "-in", csr, "-outform", "DER", "-out", der,
                check=True)
        body = tmp_path / "est.body"
        body.write_bytes(base64.b64encode(der.read_bytes()))
        out = tmp_path / "est.p7"
        cp = run(["curl", "-sS", "--max-time", "60", "--cacert",
                  d / "root.pem", "--user", f"{USER}:{PASSWORD}",
                  "-H", "Content-Type: application/pkcs10",
                  "--data-binary", f"@{body}", "-o", out, "-w",
                  "%{http_code}", f"https://localhost:{srv.tls_port}"
                  "/.well-known/est/simpleenroll"], timeout=90)
        assert cp.stdout == "200", cp.stderr
        p7 = tmp_path / "est.p7.der"
        p7.write_bytes(base64.b64decode(out.read_bytes()))
        pem = openssl("pkcs7", "-inform", "DER", "-in", p7, "-print_certs",
                      check=True).stdout
        (tmp_path / "est.pem").write_text(pem)
        openssl("verify", "-CAfile", d / "root.pem", "-untrusted",
                d / "issuing.pem", tmp_path / "est.pem", check=True)
        # SCEP: the RA key is a file, the certificate is signed in the
        # token.
        cp = pkictl("enroll", "scep", "--server", srv.url("/scep", tls=False),
                    "--challenge", "s3cret", "--new-key", "rsa-2048",
                    "--subject", "CN=scep.example.com", "--cacert",
                    d / "root.pem", "--out", tmp_path / "scep.pem", env=env)
        assert cp.returncode == 0, cp.stderr
        openssl("verify", "-CAfile", d / "root.pem", "-untrusted",
                d / "issuing.pem", tmp_path / "scep.pem", check=True)
        # The CRL pkid serves is signed in the token too.
        st, _, crl = srv.get("/crl/ca.crl", tls=False)
        assert st == 200
        (tmp_path / "srv.crl").write_bytes(crl)
        cp = openssl("crl", "-inform", "DER", "-in", tmp_path / "srv.crl",
                     "-CAfile", d / "issuing.pem", "-noout")
        assert "verify OK" in cp.stdout + cp.stderr
        rc, _, err = srv.stop()
    assert PIN not in err
    assert "AddressSanitizer" not in err and "runtime error" not in err
    # Still no CA key on disk after serving.
    assert not any(p.name in ("root.key", "issuing.key")
                   for p in d.rglob("*.key"))


def test_wrong_pin(hsm_ca, tmp_path):
    tmp, d, env = hsm_ca
    bad = tmp_path / "bad.pin"
    bad.write_text("0000\n")
    bad.chmod(0o600)
    conf = tmp_path / "pkid.conf"
    conf.write_text((d / "pkid.conf").read_text().replace(
        str(tmp / "hsm.pin"), str(bad)))
    shutil.copytree(d, tmp_path / "ca")
    (tmp_path / "ca/pkid.conf").write_text(conf.read_text())
    cp = pkictl("ca", "crl", "--dir", tmp_path / "ca", env=env)
    assert cp.returncode != 0 and error_code(cp) == "hsm-pin", cp.stderr
    assert "0000" not in cp.stderr
    # pkid refuses to start with the same code, and no PIN in its log.
    cp = run([str(BUILD / "pkid"), "--dir", str(tmp_path / "ca"),
              "--check"], env=env, timeout=60)
    assert cp.returncode != 0 and "hsm-pin" in cp.stderr, cp.stderr
    assert "0000" not in cp.stderr and PIN not in cp.stderr
    # The PIN from the environment instead, and a world-readable file.
    txt = (d / "pkid.conf").read_text().replace(
        "pin_env = \n", "pin_env = PKID_TEST_PIN\n")
    (tmp_path / "ca/pkid.conf").write_text(txt)
    cp = pkictl("ca", "crl", "--dir", tmp_path / "ca",
                env={**env, "PKID_TEST_PIN": "nope"})
    assert error_code(cp) == "hsm-pin"
    cp = pkictl("ca", "crl", "--dir", tmp_path / "ca",
                env={**env, "PKID_TEST_PIN": PIN})
    assert cp.returncode == 0, cp.stderr
    cp = pkictl("ca", "crl", "--dir", tmp_path / "ca", env=env)
    assert error_code(cp) == "hsm-pin" and "PKID_TEST_PIN" in cp.stderr
    (tmp / "hsm.pin").chmod(0o644)
    try:
        cp = pkictl("ca", "crl", "--dir", d, env=env)
        assert error_code(cp) == "hsm-pin" and "chmod 600" in cp.stderr
    finally:
        (tmp / "hsm.pin").chmod(0o600)


def test_missing_object_token_module(tmp_path):
    env = token(tmp_path)
    d = tmp_path / "ca"
    pin = pin_file(tmp_path)
    pkictl("ca", "init", "--dir", d, "--root-only", "--key-uri",
           "pkcs11:token=pkid%20test;object=gone", "--set",
           f"hsm.pin_file={pin}", env=env, check=True)
    pkictl("ca", "crl", "--dir", d, env=env, check=True)
    run(["pkcs11-tool", "--module", MODULE, "--token-label", "pkid test",
         "--login", "--pin", PIN, "--delete-object", "--type", "privkey",
         "--label", "gone"], env=env, check=True)
    cp = pkictl("ca", "crl", "--dir", d, env=env)
    assert error_code(cp) == "hsm-object", cp.stderr
    assert "fix:" in cp.stderr
    cp = pkictl("ca", "init", "--dir", tmp_path / "x", "--key-uri",
                "pkcs11:token=absent;object=ca", "--set",
                f"hsm.pin_file={pin}", env=env)
    assert error_code(cp) == "hsm-token", cp.stderr
    assert not (tmp_path / "x/pkid.conf").exists()
    cp = pkictl("ca", "init", "--dir", tmp_path / "y", "--key-uri", URI,
                "--set", f"hsm.pin_file={pin}", "--set",
                "hsm.module=/nonexistent/libpkcs11.so", env=env)
    assert error_code(cp) == "hsm-module", cp.stderr
    # No PIN source at all; a PIN in the URI or the config is refused.
    cp = pkictl("ca", "init", "--dir", tmp_path / "z", "--key-uri", URI,
                env=env)
    assert error_code(cp) == "hsm-pin", cp.stderr
    cp = pkictl("ca", "init", "--dir", tmp_path / "z", "--key-uri",
                URI + "?pin-value=" + PIN, env=env)
    assert error_code(cp) == "usage" and "refused" in cp.stderr
    cp = pkictl("ca", "init", "--dir", tmp_path / "z", "--key-uri", URI,
                "--set", "hsm.pin=" + PIN, env=env)
    assert error_code(cp) == "config-bad-value"
    cp = pkictl("ca", "init", "--dir", tmp_path / "z", "--key-uri", URI,
                "--key", "ed25519", "--set", f"hsm.pin_file={pin}", env=env)
    assert error_code(cp) == "usage" and "PKCS#11" in cp.stderr


def test_rsa_ca_in_token_answers_scep(tmp_path):
    """An RSA CA decrypts SCEP with its own key: in the token here."""
    env = token(tmp_path)
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--key", "rsa-2048", "--key-uri", URI,
           "--set", f"hsm.pin_file={pin_file(tmp_path)}", "--set",
           "scep.challenge=s3cret", env=env, check=True)
    assert not (d / "scep/ra.key").exists()
    assert not list((d / "keys").glob("root*.key"))
    with Pkid(d, "--quiet", env=env) as srv:
        cp = pkictl("enroll", "scep", "--server", srv.url("/scep", tls=False),
                    "--challenge", "s3cret", "--new-key", "rsa-2048",
                    "--subject", "CN=rsa.example.com", "--cacert",
                    d / "root.pem", "--out", tmp_path / "s.pem", env=env)
        assert cp.returncode == 0, cp.stderr
        srv.stop()
    openssl("verify", "-CAfile", d / "root.pem", "-untrusted",
            d / "issuing.pem", tmp_path / "s.pem", check=True)


@pytest.mark.parametrize("root_only", [False, True])
def test_rollover_keeps_keys_in_token(tmp_path, root_only):
    """The next generation's key is made in the same token (ca -> ca-g2),
    not as a file, and signs once current."""
    env = token(tmp_path)
    d = tmp_path / "ca"
    pkictl("ca", "init", "--dir", d, "--key-uri", URI, "--set",
           f"hsm.pin_file={pin_file(tmp_path)}",
           *(["--root-only"] if root_only else []), env=env, check=True)
    cp = pkictl("ca", "rollover", "--dir", d, "--now", env=env)
    assert cp.returncode == 0, cp.stderr
    assert "object=ca-g2 in the token" in cp.stderr
    assert not list((d / "keys").glob("root*.key"))
    assert not list((d / "keys").glob("issuing*.key"))
    assert "label:      ca-g2" in token_objects(env)
    csr = make_csr(tmp_path)
    pkictl("ca", "issue", "--dir", d, "--csr", csr, "--out",
           tmp_path / "c.pem", env=env, check=True)
    chain = [] if root_only else ["-untrusted", d / "issuing.pem"]
    openssl("verify", "-CAfile", d / "root.pem", *chain, tmp_path / "c.pem",
            check=True)
