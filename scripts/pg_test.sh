#!/usr/bin/env bash
# The PostgreSQL stage of `make test`: runs the tests marked `dbsensitive` (constraints, locking,
# concurrency, isolation) on a throwaway PostgreSQL cluster.
#
# - The cluster lives in a fresh `mktemp -d` directory under /tmp, listens on 127.0.0.1 only, on a
#   free port, with its unix socket inside that directory, fsync off and trust authentication.
# - initdb refuses to run as root, so as root the directory is given to the `postgres` user and
#   initdb/pg_ctl run through `runuser -u postgres --`; otherwise they run as the current user.
# - The cluster is stopped and the directory deleted on exit, whatever happens (trap EXIT).
#   A cluster left behind by an earlier run that was killed outright is stopped and removed first.
# - pytest's exit code is passed on; "no tests collected" (exit 5) is reported as a failure.
# Extra arguments go to pytest, e.g. `bash scripts/pg_test.sh -x -k lock`. pytest is interrupted
# after HOUQIN_PYTEST_TIMEOUT (default 20m) so that a hung test cannot hold CI.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=/tmp/houqin-pg.
PYTEST=.venv/bin/pytest
[[ -x $PYTEST ]] || { echo "pg_test: $PYTEST is missing: run make deps" >&2; exit 1; }

# Prefer Debian's newest server binaries; /usr/local/bin/initdb etc. are only a fallback.
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z $bindir || ! -x $bindir/initdb ]]; then
  initdb_path=$(command -v initdb || true)
  if [[ -z $initdb_path ]]; then
    echo "pg_test: PostgreSQL server binaries not found: install the Debian package postgresql" >&2
    exit 1
  fi
  bindir=$(dirname "$(readlink -f "$initdb_path")")
fi
for tool in initdb pg_ctl postgres psql; do
  [[ -x $bindir/$tool ]] || { echo "pg_test: $bindir/$tool is missing (Debian package postgresql)" >&2; exit 1; }
done

as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "pg_test: running as root needs the 'postgres' user (created by the Debian package postgresql)" >&2
    exit 1
  fi
  as_pg=(runuser -u postgres --)
fi
# Run a server tool as the cluster's owner, from a directory that user can enter.
pg() { (cd / && "${as_pg[@]}" "$bindir/$1" "${@:2}"); }

# Leftovers: a directory whose owning run is gone (killed before its trap ran).
owner_alive() {  # a live (not zombie) pg_test.sh process with that id
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q pg_test
}
for old in "$PREFIX"*; do
  [[ -d $old ]] || continue
  owner=$(cat "$old/owner.pid" 2>/dev/null || true)
  if [[ -n $owner ]] && owner_alive "$owner"; then
    continue  # another pg_test.sh is using it right now
  fi
  if [[ -z $owner && -n $(find "$old" -maxdepth 0 -mmin -1) ]]; then
    continue  # just made by another run that has not written its owner.pid yet
  fi
  echo "pg_test: removing a cluster left by an earlier run: $old"
  if [[ -f $old/data/postmaster.pid ]]; then
    pg pg_ctl -D "$old/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$old" || echo "pg_test: could not remove $old" >&2
done

tmp=$(mktemp -d "${PREFIX}XXXXXX")
echo $$ >"$tmp/owner.pid"
started=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local status=$?
  if [[ -n $started ]]; then
    pg pg_ctl -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
    echo "pg_test: PostgreSQL stopped"
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
[[ ${#as_pg[@]} -eq 0 ]] || chown postgres: "$tmp"

pg initdb -D "$tmp/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$tmp/initdb.log" 2>&1 || {
  cat "$tmp/initdb.log" >&2
  echo "pg_test: initdb failed" >&2
  exit 1
}
cat >>"$tmp/data/postgresql.conf" <<EOF
# pg_test.sh: a throwaway cluster for tests
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
EOF

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# A port found free can be taken before the server binds it: try a few.
for attempt in 1 2 3; do
  port=$(free_port)
  if pg pg_ctl -D "$tmp/data" -l "$tmp/server.log" -o "-p $port" -w -t 60 start >/dev/null; then
    started=1
    break
  fi
  echo "pg_test: PostgreSQL did not start on port $port (attempt $attempt):" >&2
  tail -n 5 "$tmp/server.log" >&2 || true
done
if [[ -z $started ]]; then
  echo "pg_test: could not start PostgreSQL" >&2
  exit 1
fi

"$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE houqin" >/dev/null
echo "pg_test: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($tmp)"
echo "pg_test: running the tests marked dbsensitive"

set +e
HOUQIN_DB_URL="postgres://postgres@127.0.0.1:$port/houqin" \
  timeout --foreground -s INT -k 60 "${HOUQIN_PYTEST_TIMEOUT:-20m}" "$PYTEST" -m "${HOUQIN_PG_MARK:-dbsensitive}" "$@"
status=$?
set -e
if [[ $status -eq 124 || $status -eq 137 ]]; then
  echo "pg_test: FAILED: pytest did not finish within ${HOUQIN_PYTEST_TIMEOUT:-20m}" >&2
elif [[ $status -eq 5 ]]; then
  echo "pg_test: FAILED: no tests marked dbsensitive were collected; the PostgreSQL stage must run tests" >&2
fi
exit "$status"
