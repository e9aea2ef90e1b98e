# Source this file: it starts a private PostgreSQL server listening only on a unix socket in a
# temporary folder, exports NEWSLETTER_TEST_DATABASE_URL, and stops the server on exit.
# Installs Debian's postgresql when no server binaries are found.

_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

PG_BIN=$(_pg_bin)
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "throwaway-postgres: please install PostgreSQL (needs root)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PG_BIN=$(_pg_bin)
fi

PG_DIR=$(mktemp -d /tmp/newsletter-pg.XXXXXX)
PG_AS=()
if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PG_DIR"   # the server refuses to run as root
    PG_AS=(runuser -u postgres --)
fi

_stop_postgres() {
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
trap _stop_postgres EXIT

"${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
"${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-c listen_addresses='' -k $PG_DIR -c fsync=off -c synchronous_commit=off" start >/dev/null
export NEWSLETTER_TEST_DATABASE_URL="postgresql+psycopg://postgres@/postgres?host=$PG_DIR"
echo "throwaway-postgres: $("$PG_BIN/postgres" --version) on $PG_DIR"
