#!/bin/sh
# Install the Debian packages pkid needs to build and test (when root), or
# print the one apt-get line to run. Usage: tools/deps.sh [build|test]
set -eu
want="build-essential cmake pkg-config libssl-dev libevent-dev \
libsqlite3-dev libpq-dev libjansson-dev libinih-dev libcurl4-openssl-dev openssl scdoc"
# CA keys in a PKCS#11 token: the header to reach a module, the engine
# that signs through it (src/ca/hsm*.c).
want="$want libp11-kit-dev libengine-pkcs11-openssl"
if [ "${1:-build}" = test ]; then
	want="$want libcmocka-dev python3-pytest curl clang libclang-rt-14-dev \
certmonger dbus strongswan-pki libstrongswan-standard-plugins \
libstrongswan-extra-plugins sqlite3 postgresql \
publicsuffix scep python3-cryptography faketime chromium \
python3-prometheus-client man-db systemd ca-certificates wrk"
	# tests/integration/test_hsm.py: a token to keep CA keys in.
	want="$want softhsm2 opensc"
	# tests/integration/test_acme.py: ACME clients against pkid.
	want="$want certbot lego dehydrated"
fi
missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "deps: missing packages; run:"
	echo "  sudo apt-get install -y$missing"
	exit 1
fi
