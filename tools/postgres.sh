#!/usr/bin/env bash
# Starts and stops a throw-away PostgreSQL for tests (sourced by tools/test.sh).
# PostgreSQL refuses to run as root, so it runs as the postgres user, in a data directory that
# user can reach, on a free port bound to 127.0.0.1 only. Exports HLMHUB_TEST_POSTGRES, the
# connection string the test projects read. POSTGRES_DURABLE=1 starts it with PostgreSQL's durable defaults;
# POSTGRES_SETTINGS adds server settings (for benchmarks), e.g. POSTGRES_SETTINGS="-c shared_buffers=4GB".

postgres_start() {
    local bin_dir
    bin_dir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    POSTGRES_BIN_DIR="$bin_dir"
    POSTGRES_DIR="$(mktemp -d /tmp/hlmhub-pg.XXXXXX)"
    chmod 0755 "$POSTGRES_DIR"
    local data_dir="$POSTGRES_DIR/data" socket_dir="$POSTGRES_DIR/socket"
    mkdir -p "$socket_dir"
    local run_as=()
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$POSTGRES_DIR" "$socket_dir"
        run_as=(runuser -u postgres --)
    fi
    POSTGRES_RUN_AS=("${run_as[@]}")
    POSTGRES_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
        || /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
    "${run_as[@]}" "$bin_dir/initdb" -D "$data_dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$POSTGRES_DIR/initdb.log" 2>&1 \
        || { cat "$POSTGRES_DIR/initdb.log"; return 1; }
    # Tests throw the database away, so by default nothing is flushed to disk. POSTGRES_DURABLE=1 keeps PostgreSQL's
    # own defaults (fsync, synchronous_commit and full_page_writes on), as a production server runs: for benchmarks.
    local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${POSTGRES_DURABLE:-0}" = "1" ] && durability=""
    "${run_as[@]}" "$bin_dir/pg_ctl" -D "$data_dir" -l "$POSTGRES_DIR/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $POSTGRES_PORT -k $socket_dir $durability -c max_connections=200 ${POSTGRES_SETTINGS:-}" start >/dev/null \
        || { cat "$POSTGRES_DIR/server.log"; return 1; }
    export HLMHUB_TEST_POSTGRES="Host=127.0.0.1;Port=$POSTGRES_PORT;Username=postgres;Database=postgres;Pooling=true"
    echo "postgres.sh: PostgreSQL running on 127.0.0.1:$POSTGRES_PORT (data in $data_dir)"
}

postgres_stop() {
    if [ -n "${POSTGRES_DIR:-}" ] && [ -d "$POSTGRES_DIR/data" ]; then
        "${POSTGRES_RUN_AS[@]}" "$POSTGRES_BIN_DIR/pg_ctl" -D "$POSTGRES_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$POSTGRES_DIR"
    fi
}
