#!/usr/bin/env bash
# Starts a throw-away PostgreSQL for the store tests and prints, on stdout only:
#   export IR110_TEST_POSTGRES_URL=postgres://ir110:…@127.0.0.1:55432/ir110
# Use it as:  eval "$(bash .ci/postgres.sh)"
#
# Idempotent: installs Debian's `postgresql` if its binaries are missing, initialises a cluster
# once under $IR110_PG_DIR (default /tmp/ir110-postgres), starts it if it is
# not running, listening on 127.0.0.1:55432 only (unix socket in that folder), and creates the
# role and database `ir110` if they do not exist. Running it again changes nothing.
# Test server only: fsync is off, so a machine crash may lose it (it holds nothing of value).
set -euo pipefail

# Everything but the final export goes to stderr, so that `eval` sees only that line.
exec 3>&1 1>&2

PORT="${IR110_PG_PORT:-55432}"
# Not under $TMPDIR: that may be a folder the server user cannot enter (e.g. /root/tmp).
BASE="${IR110_PG_DIR:-/tmp/ir110-postgres}"
DATA="$BASE/data"
LOG="$BASE/postgres.log"
PASSWORD="${IR110_PG_PASSWORD:-ir110-test}"

say() { echo "postgres.sh: $*"; }

find_bindir() {
    # Newest installed server version first.
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

BIN="$(find_bindir || true)"
if [ -z "$BIN" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        say "PostgreSQL server binaries not found and not root: install the 'postgresql' package"
        exit 1
    fi
    say "installing Debian package postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends postgresql postgresql-client
    BIN="$(find_bindir || true)"
    if [ -z "$BIN" ]; then
        say "postgresql was installed but no server binaries were found under /usr/lib/postgresql"
        exit 1
    fi
fi
say "using $BIN"

# The server refuses to run as root: run it as the package's `postgres` user (or a dedicated
# one when that is missing); as a normal user, run it as that user.
if [ "$(id -u)" -eq 0 ]; then
    RUN_USER=postgres
    if ! id "$RUN_USER" >/dev/null 2>&1; then
        RUN_USER=ir110pg
        id "$RUN_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /bin/sh "$RUN_USER"
    fi
    as_user() { runuser -u "$RUN_USER" -- "$@"; }
else
    RUN_USER="$(id -un)"
    as_user() { "$@"; }
fi

mkdir -p "$BASE"
if [ "$(id -u)" -eq 0 ]; then
    chown "$RUN_USER" "$BASE"
fi
chmod 700 "$BASE"

if [ ! -s "$DATA/PG_VERSION" ]; then
    say "initialising a cluster in $DATA"
    rm -rf "$DATA"
    as_user "$BIN/initdb" -D "$DATA" --username=postgres --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --no-locale >"$BASE/initdb.log" 2>&1 || {
        cat "$BASE/initdb.log"
        exit 1
    }
fi

# A server killed with its machine session leaves postmaster.pid and a socket lock behind; if
# their PID now belongs to some other process, PostgreSQL would refuse to start. Remove them
# when that PID is not a running postgres.
pid_is_postgres() {
    local pid
    pid="$(head -n 1 "$1" 2>/dev/null || true)"
    [ -n "$pid" ] && [ "$(ps -o comm= -p "$pid" 2>/dev/null || true)" = "postgres" ]
}
for lock in "$DATA/postmaster.pid" "$BASE/.s.PGSQL.$PORT.lock"; do
    if [ -f "$lock" ] && ! pid_is_postgres "$lock"; then
        say "removing stale $lock"
        rm -f "$lock"
    fi
done

if [ -f "$DATA/postmaster.pid" ] && as_user "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    say "server already running"
else
    say "starting the server on 127.0.0.1:$PORT (log: $LOG)"
    # The server outlives this script: it must not inherit our stdout (fd 3), or
    # `eval "$(bash .ci/postgres.sh)"` would wait for it forever. Its output goes to $LOG.
    as_user "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $BASE -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        </dev/null 3>&- || {
        say "the server did not start; its log:"
        tail -n 30 "$LOG" || true
        exit 1
    }
fi

for _ in $(seq 1 60); do
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
        break
    fi
    sleep 0.5
done
if ! "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    say "the server is not accepting connections on 127.0.0.1:$PORT; its log:"
    tail -n 30 "$LOG" || true
    exit 1
fi

psql_admin() {
    as_user "$BIN/psql" -h "$BASE" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
}

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'ir110'")" != "1" ]; then
    say "creating role ir110"
    psql_admin -c "CREATE ROLE ir110 LOGIN PASSWORD '$PASSWORD'"
else
    psql_admin -c "ALTER ROLE ir110 LOGIN PASSWORD '$PASSWORD'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'ir110'")" != "1" ]; then
    say "creating database ir110"
    psql_admin -c "CREATE DATABASE ir110 OWNER ir110"
fi

say "ready"
echo "export IR110_TEST_POSTGRES_URL=postgres://ir110:$PASSWORD@127.0.0.1:$PORT/ir110" >&3
