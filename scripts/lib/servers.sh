# Shared by scripts/test and scripts/up: install what is missing, start throwaway Postgres and Redis on free ports
# under a temporary directory, and stop them again. Source it; it defines functions and changes nothing by itself.

fw_log() { printf '\033[1m[fairway]\033[0m %s\n' "$*" >&2; }

fw_as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi
}

# fw_ensure_packages PKG… — apt-get installs the packages that are not installed yet (one apt-get update first).
fw_ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    fw_log "installing ${missing[*]}"
    fw_as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive fw_as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

fw_ensure_system_dependencies() {
    fw_ensure_packages postgresql redis-server libhiredis-dev pkg-config python3 python3-venv curl
}

fw_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

fw_pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] || { fw_log "no PostgreSQL server binaries under /usr/lib/postgresql"; return 1; }
    echo "$dir"
}

# Runs a command as the postgres user when we are root (Postgres refuses to run as root).
fw_as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# fw_start_servers DIR — starts Postgres and Redis under DIR; exports FW_PG_PORT, FW_REDIS_PORT, FW_DATABASE_URL,
# FW_REDIS_URL.
fw_start_servers() {
    local dir=$1 pg_bin
    pg_bin=$(fw_pg_bin)
    mkdir -p "$dir/pg" "$dir/redis"
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir/pg"

    FW_PG_PORT=$(fw_free_port)
    fw_as_postgres "$pg_bin/initdb" -D "$dir/pg/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/pg/initdb.log" 2>&1 \
        || { cat "$dir/pg/initdb.log" >&2; return 1; }
    fw_as_postgres "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 start \
        -o "-p $FW_PG_PORT -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c shared_buffers=256MB -c timezone=Pacific/Auckland" \
        >/dev/null || { cat "$dir/pg/server.log" >&2; return 1; }
    export FW_PG_PORT
    export FW_DATABASE_URL="postgres://postgres@127.0.0.1:$FW_PG_PORT/postgres"

    FW_REDIS_PORT=$(fw_free_port)
    redis-server --port "$FW_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --dir "$dir/redis" --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" >/dev/null
    for _ in $(seq 1 100); do
        redis-cli -p "$FW_REDIS_PORT" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    redis-cli -p "$FW_REDIS_PORT" ping >/dev/null || { cat "$dir/redis/redis.log" >&2; return 1; }
    export FW_REDIS_PORT
    export FW_REDIS_URL="redis://127.0.0.1:$FW_REDIS_PORT"
    fw_log "Postgres on 127.0.0.1:$FW_PG_PORT, Redis on 127.0.0.1:$FW_REDIS_PORT (under $dir)"
}

# fw_stop_servers DIR — stops what fw_start_servers started and removes DIR.
fw_stop_servers() {
    local dir=$1 pg_bin
    [ -d "$dir" ] || return 0
    if [ -f "$dir/redis/redis.pid" ]; then
        kill "$(cat "$dir/redis/redis.pid")" 2>/dev/null || true
    fi
    if [ -f "$dir/pg/data/postmaster.pid" ]; then
        pg_bin=$(fw_pg_bin) && fw_as_postgres "$pg_bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}
