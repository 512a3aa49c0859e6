#!/bin/sh
# checksrc: ban functions that have safer forms in pkid (STYLE.md 9):
# strcpy strcat sprintf vsprintf gets atoi atol strtok alloca, and memcmp on
# secrets (use CRYPTO_memcmp; a line may say /* not secret */ to pass).
# Usage: tools/checksrc.sh [DIR...]  (default src bench)
set -u
cd "$(dirname "$0")/.."
dirs=${*:-src bench}
bad=0
for f in $(find $dirs -name '*.c' -o -name '*.h' | sort); do
	out=$(grep -nE '(^|[^_[:alnum:]])(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok|alloca)[[:space:]]*\(' "$f" |
	    grep -vE '(snprintf|vsnprintf|strtok_r)[[:space:]]*\(' )
	if [ -n "$out" ]; then
		echo "$out" | sed "s|^|$f:|"
		bad=1
	fi
	out=$(grep -niE 'memcmp[[:space:]]*\(.*(pass|secret|challenge|hmac|nonce|token)' "$f" |
	    grep -v CRYPTO_memcmp | grep -v 'not secret')
	if [ -n "$out" ]; then
		echo "$out" | sed "s|^|$f: memcmp on a secret: |"
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "checksrc: ok"
exit $bad
