#!/usr/bin/env bash
# Run the database-sensitive tests (marker dbsensitive) on a throwaway PostgreSQL cluster.
# The cluster lives in a temporary directory, listens on 127.0.0.1 only, and is removed at exit.
# initdb refuses to run as root, so as root the cluster runs as the `postgres` user.
set -euo pipefail
cd "$(dirname "$0")/.."

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
  echo "PostgreSQL server binaries not found: install the Debian package postgresql" >&2
  exit 1
fi

tmp=$(mktemp -d /tmp/houqin-pg.XXXXXX)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres: "$tmp"
  as_pg=(runuser -u postgres --)
fi

cleanup() {
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

"${as_pg[@]}" "$bindir/initdb" -D "$tmp/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_pg[@]}" "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 start \
  -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
"$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE houqin" >/dev/null

echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port: running tests marked dbsensitive"
set +e
HOUQIN_DB_URL="postgres://postgres@127.0.0.1:$port/houqin" .venv/bin/pytest -p no:cacheprovider -m dbsensitive "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then
  echo "No database-sensitive tests were collected: that is a failure" >&2
  exit 1
fi
exit $status
