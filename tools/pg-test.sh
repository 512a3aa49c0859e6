#!/bin/sh
# pg-test.sh - a private PostgreSQL for the tests: initdb into a temporary
# directory as an unprivileged user (initdb refuses root: as root it runs
# as "postgres"), listening on 127.0.0.1 at a free port and on a Unix
# socket in that directory, with a database "pkid" owned by the
# superuser "pkid" (trust authentication: loopback only).
#
#   tools/pg-test.sh start DIR    start one in DIR (created); prints its URL
#   tools/pg-test.sh url DIR      the URL of the one in DIR
#   tools/pg-test.sh restart DIR  restart it (same port and data)
#   tools/pg-test.sh down DIR     stop it, keeping its data
#   tools/pg-test.sh up DIR       start it again after down
#   tools/pg-test.sh stop DIR     stop it and remove DIR
#   tools/pg-test.sh run CMD ...  start one, run CMD with PKID_TEST_PG_URL
#                                 and PKID_TEST_PG_DIR set, stop it; CMD's
#                                 exit status
#
# Nothing is skipped: without PostgreSQL (tools/deps.sh test installs it)
# this fails.
set -eu

bindir() {
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
		if [ -x "$d/initdb" ]; then
			echo "$d"
			return 0
		fi
	done
	if command -v initdb >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return 0
	fi
	echo "pg-test.sh: no initdb: install PostgreSQL (tools/deps.sh test)" >&2
	return 1
}

# Run as the owner of the cluster.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
	dir=$1
	bin=$(bindir)
	mkdir -p "$dir"
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$dir"
	fi
	chmod 700 "$dir"
	as_pg "$bin/initdb" -D "$dir/data" -U pkid -A trust -E UTF8 \
	    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		return 1
	}
	port=$(free_port)
	echo "$port" >"$dir/port"
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
	    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on \
	    -c max_connections=200" start >/dev/null || {
		cat "$dir/server.log" >&2
		return 1
	}
	as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U pkid pkid
	url "$dir"
}

url() {
	echo "postgresql://pkid@127.0.0.1:$(cat "$1/port")/pkid"
}

stop() {
	dir=$1
	bin=$(bindir)
	if [ -d "$dir/data" ]; then
		as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop \
		    >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}

restart() {
	dir=$1
	bin=$(bindir)
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w \
	    -t 60 restart >/dev/null
}

down() {
	as_pg "$(bindir)/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null
}

up() {
	port=$(cat "$1/port")
	as_pg "$(bindir)/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
	    -o "-c listen_addresses=127.0.0.1 -p $port -k $1 -c fsync=on \
	    -c max_connections=200" start >/dev/null
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
start) start "$1" ;;
url) url "$1" ;;
stop) stop "$1" ;;
restart) restart "$1" ;;
down) down "$1" ;;
up) up "$1" ;;
run)
	dir=$(mktemp -d /tmp/pkid-pg.XXXXXX)
	trap 'stop "$dir"' EXIT INT TERM
	PKID_TEST_PG_URL=$(start "$dir")
	PKID_TEST_PG_DIR=$dir
	export PKID_TEST_PG_URL PKID_TEST_PG_DIR
	set +e
	"$@"
	rc=$?
	set -e
	exit $rc
	;;
*)
	echo "usage: pg-test.sh start|url|restart|down|up|stop DIR | run CMD ..." >&2
	exit 2
	;;
esac
