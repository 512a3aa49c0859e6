#!/bin/sh
# Regenerate the seed corpora in tests/fuzz/corpus/<target>/ with the
# openssl CLI: a few small valid inputs and a few broken ones per target.
# The checked-in corpus was made with this script; rerunning it makes new
# keys, so only rerun it when the seeds should change.
#
#   tests/fuzz/gen-corpus.sh
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
C=$root/tests/fuzz/corpus
W=$(mktemp -d "${TMPDIR:-/tmp}/pkid-corpus.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
cd "$W"

rm -rf "$C/csr" "$C/show" "$C/config" "$C/base64"
mkdir -p "$C/csr" "$C/show" "$C/config" "$C/base64"

# A CA, a leaf with the extensions 'pkictl show' describes, a CSR, a CRL.
openssl ecparam -genkey -name prime256v1 -noout -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -subj "/O=pkid fuzz/CN=Fuzz CA" \
    -days 3650 -set_serial 1 \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
openssl ecparam -genkey -name prime256v1 -noout -out leaf.key 2>/dev/null
openssl req -new -key leaf.key -subj "/O=pkid fuzz/CN=dev1.example" \
    -addext "subjectAltName=DNS:dev1.example,IP:192.0.2.7" -out leaf.csr
cat > ext.cnf <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:dev1.example,IP:192.0.2.7,email:a@dev1.example
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
authorityInfoAccess=OCSP;URI:http://ocsp.example/,caIssuers;URI:http://ca.example/ca.crt
crlDistributionPoints=URI:http://crl.example/ca.crl
certificatePolicies=2.23.140.1.2.1
EOF
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial 0x1234 \
    -days 365 -extfile ext.cnf -out leaf.pem 2>/dev/null
openssl genrsa -out rsa.key 1024 2>/dev/null
openssl req -new -key rsa.key -subj "/CN=rsa.example" -out rsa.csr
mkdir db
: > db/index.txt
echo 01 > db/crlnumber
cat > ca.cnf <<'EOF'
[ca]
default_ca = d
[d]
database = db/index.txt
crlnumber = db/crlnumber
default_md = sha256
default_crl_days = 7
EOF
openssl ca -config ca.cnf -cert ca.pem -keyfile ca.key -revoke leaf.pem \
    -crl_reason keyCompromise 2>/dev/null
openssl ca -config ca.cnf -cert ca.pem -keyfile ca.key -gencrl \
    -out ca.crl 2>/dev/null

# csr: PEM, DER, RSA; a certificate, truncated DER, trailing bytes, garbage
cp leaf.csr "$C/csr/ec.pem"
openssl req -in leaf.csr -outform DER -out "$C/csr/ec.der"
cp rsa.csr "$C/csr/rsa.pem"
head -c 150 "$C/csr/ec.der" > "$C/csr/truncated.der"
cp leaf.pem "$C/csr/cert-not-csr.pem"
{ cat "$C/csr/ec.der"; printf 'xx'; } > "$C/csr/trailing.der"
printf -- '-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n' \
    > "$C/csr/garbage.pem"

# show: every kind, PEM and DER, bundles; truncated, garbage, empty
cp leaf.pem "$C/show/leaf.pem"
openssl x509 -in leaf.pem -outform DER -out "$C/show/leaf.der"
cat leaf.pem ca.pem > "$C/show/chain.pem"
cp ca.crl "$C/show/crl.pem"
openssl crl -in ca.crl -outform DER -out "$C/show/crl.der"
openssl crl2pkcs7 -nocrl -certfile leaf.pem -certfile ca.pem -outform DER \
    -out "$C/show/bundle.p7b"
openssl crl2pkcs7 -in ca.crl -certfile ca.pem -out "$C/show/bundle-crl.pem"
cp leaf.csr "$C/show/csr.pem"
openssl pkey -in leaf.key -out "$C/show/key.pem"
chmod 644 "$C/show/key.pem"
openssl x509 -in ca.pem -trustout -addtrust serverAuth \
    -out "$C/show/trusted.pem"
head -c 300 "$C/show/leaf.der" > "$C/show/truncated.der"
sed '5s/./!/' leaf.pem > "$C/show/garbage.pem"
: > "$C/show/empty"
# EST response bodies: base64 of the certs-only PKCS#7, wrapped (CRLF, as
# RFC 2045 lines) and on one line, and one cut short.
openssl base64 -in "$C/show/bundle.p7b" | sed 's/$/\r/' \
    > "$C/show/est-body-wrapped.b64"
openssl base64 -A -in "$C/show/bundle.p7b" > "$C/show/est-body-oneline.b64"
head -c 101 "$C/show/est-body-oneline.b64" > "$C/show/est-body-cut.b64"

# config: a full file, each kind of error, CRLF, a key outside a section
cat > "$C/config/good.conf" <<'EOF'
; pkid configuration
[ca]
name = corp-ca
digest = sha384
crl_next_update = 2d

[server]
listen = 0.0.0.0:9443
http = off
workers = 4
max_conns = 100
rate_per_min = 60
max_body = 65536
tls_names = pki.example, 192.0.2.1
client_ca =

[profile device]
lifetime = 600d
backdate = 5m
key_usage = digitalSignature, keyEncipherment
ext_key_usage = clientAuth
key_types = ec-p256, ec-p384, rsa
min_rsa_bits = 2048
san_mode = take
san_dns_suffixes = *
san_ip_ranges = 10.0.0.0/8, fd00::/8
subject = CN={cn},O=Corp
approval = auto
EOF
printf '[ca]\nname = x\nbogus = 1\n' > "$C/config/unknown-key.conf"
printf '[server]\nworkers = many\n' > "$C/config/bad-value.conf"
printf '[ca\nname = x\n' > "$C/config/syntax.conf"
printf '[profile iot]\r\nlifetime = 30d\r\nsan_dns_suffixes = .iot.example, dev.example\r\napproval = manual\r\n' \
    > "$C/config/crlf.conf"
printf 'name = outside\n' > "$C/config/no-section.conf"

# agent_config: pkictl agent's file, good and each kind of refusal
mkdir -p "$C/agent_config"
cat > "$C/agent_config/good.conf" <<'EOF'
[agent]
state_dir = /var/lib/pkictl-agent
log_level = debug
hook_timeout = 2m

[identity web]
protocol = est
url = https://ca.example:8443
cert = /etc/pki/web.pem
key = /etc/pki/web.key
chain = /etc/pki/web-chain.pem
trust = /etc/pki/ca.pem
renew_at = 75%
jitter = 2d
hook = systemctl reload nginx ; inline comment

[identity vpn]
protocol = scep
url = http://ca.example/scep
cert = /etc/pki/vpn.pem
key = /etc/pki/vpn.key
trust = /etc/pki/ca.d
new_key = rsa-2048
compat = on
EOF
printf '[identity a]\nrenew_after = 70%%\n' > "$C/agent_config/unknown-key.conf"
printf '[identity a]\ntimeout = 30 seconds\n' > "$C/agent_config/bad-value.conf"
printf '[identity a]\nurl = x\n[identity a]\nurl = y\n' \
    > "$C/agent_config/twice.conf"
printf '[agent]\r\nlog_level = warn\r\n[identity b]\r\nprotocol = est\r\n' \
    > "$C/agent_config/crlf.conf"

# base64: good, wrapped, URL-safe, missing padding, empty, padding inside
printf 'aGVsbG8gd29ybGQ=' > "$C/base64/good"
printf 'aGVs\nbG8g\r\nd29y\nbGQ=\n' > "$C/base64/wrapped"
printf 'aGVs-G8_' > "$C/base64/urlsafe"
printf 'aGVsbG8' > "$C/base64/nopad"
: > "$C/base64/empty"
printf 'YQ==YQ==' > "$C/base64/padmiddle"
openssl req -in leaf.csr -outform DER | openssl base64 > "$C/base64/csr.b64"
# ocsp_request: first byte even = POST body (DER), odd = GET path (base64)
rm -rf "$C/ocsp_request"
mkdir -p "$C/ocsp_request"
seed() { { printf "$1"; cat "$2"; } > "$C/ocsp_request/$3"; }
openssl ocsp -issuer ca.pem -cert leaf.pem -no_nonce -reqout o1.der
openssl ocsp -issuer ca.pem -cert leaf.pem -reqout o2.der
openssl ocsp -issuer ca.pem -sha256 -serial 1 -serial 2 -serial 3 \
    -reqout o3.der
head -c 30 o2.der > o4.der
seed '\000' o1.der post-no-nonce
seed '\000' o2.der post-nonce
seed '\000' o3.der post-three-sha256
seed '\000' o4.der post-truncated
base64 -w0 o1.der > o1.b64
base64 -w0 o2.der > o2.b64
seed '\001' o1.b64 get-no-nonce
seed '\001' o2.b64 get-nonce
printf '\001MEow' > "$C/ocsp_request/get-truncated"

echo "corpus regenerated in $C"

# trust_bundle, trust_state: made with pkictl (PKICTL=build/pkictl; the
# section is skipped without it): a CA's bundle, one with the serial at
# its maximum, one with a link certificate after a root rollover,
# truncated, tampered, trailing bytes, a certs-only PKCS#7, PEM; a store's
# state.json and status.json (a refused import), and broken variants.
if [ -n "${PKICTL:-}" ]; then
	rm -rf "$C/trust_bundle" "$C/trust_state"
	mkdir -p "$C/trust_bundle" "$C/trust_state"
	B=$C/trust_bundle
	"$PKICTL" ca init --dir tca --domain example.com --root-only >/dev/null
	sign="--sign-cert tca/trust/bundle-signer.pem --sign-key tca/keys/bundle.key"
	"$PKICTL" trust bundle create $sign --serial 1 --out "$B/one.p7b" \
	    tca/root.pem >/dev/null
	"$PKICTL" trust bundle create $sign --serial 9223372036854775807 \
	    --out "$B/max.p7b" tca/root.pem ca.pem >/dev/null
	"$PKICTL" trust import --store st --anchor tca/root.pem "$B/max.p7b" \
	    >/dev/null
	cp st/state.json "$C/trust_state/state.json"
	"$PKICTL" trust import --store st --anchor tca/root.pem "$B/one.p7b" \
	    >/dev/null 2>&1 || true
	cp st/status.json "$C/trust_state/status.json"
	"$PKICTL" ca rollover --dir tca --now >/dev/null
	"$PKICTL" trust bundle create $sign --chain tca/newwithold-2.pem \
	    --serial 3 --out "$B/chain.p7b" tca/root.pem >/dev/null
	head -c 400 "$B/one.p7b" > "$B/truncated.p7b"
	{ cat "$B/one.p7b"; printf 'x'; } > "$B/trailing.p7b"
	python3 -c 'import sys; d=bytearray(open(sys.argv[1],"rb").read()); d[len(d)//2]^=1; open(sys.argv[2],"wb").write(d)' \
	    "$B/one.p7b" "$B/tampered.p7b"
	cp "$C/show/bundle.p7b" "$B/certs-only.p7b"
	openssl cms -cmsout -inform DER -in "$B/one.p7b" -outform PEM \
	    -out "$B/one.pem"
	printf '{"format":"pkid-trust-store","version":1,"anchors":[],"sources":[]}' \
	    > "$C/trust_state/empty.json"
	printf '{"format":"pkid-trust-store","version":2}' \
	    > "$C/trust_state/version.json"
	head -c 300 "$C/trust_state/state.json" > "$C/trust_state/truncated.json"
	sed 's/"serial": [0-9]*/"serial": -5/' "$C/trust_state/state.json" \
	    > "$C/trust_state/negative.json"
fi
