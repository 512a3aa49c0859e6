#!/bin/sh
# make run: create the demo CA on first use, then start pkid in the
# foreground (Ctrl-C / SIGTERM stops it cleanly).
set -eu
BUILD=${1:-build}
DIR=${PKID_DIR:-./var/demo}
if [ ! -f "$DIR/pkid.conf" ]; then
	echo "run: creating the demo CA in $DIR"
	"$BUILD/pkictl" ca init --dir "$DIR" --subject "CN=pkid Demo CA" \
	    --domain example.com --ip-ranges 10.0.0.0/8
fi
exec "$BUILD/pkid" --dir "$DIR"
