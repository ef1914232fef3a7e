# Shared by scripts/up and scripts/down: the local stack's state directory, its processes and its persistent Postgres
# and Redis. Source it after servers.sh; it defines functions and changes nothing by itself.
#
# Layout of $FW_STATE (default .fairway/, ignored by git):
#   pg/data  redis/  spill/   data that survives `scripts/down` and a second `scripts/up`
#   logs/    one log per process        pids/   one pid file per process
#   stack.env  ports and the admin token; demo.env  the demo tenant, key and models

FW_STATE=${FAIRWAY_UP_DIR:-$PWD/.fairway}

fw_state_init() {
    mkdir -p "$FW_STATE/pg" "$FW_STATE/redis" "$FW_STATE/logs" "$FW_STATE/pids" "$FW_STATE/spill"
    chmod 755 "$FW_STATE"
    [ "$(id -u)" = 0 ] && chown postgres "$FW_STATE/pg"
    return 0
}

# fw_pid_alive NAME — true when the process recorded as NAME runs.
fw_pid_alive() {
    local file="$FW_STATE/pids/$1.pid"
    [ -f "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null
}

# fw_spawn NAME COMMAND… — starts COMMAND in the background (its own session, so Ctrl-C in the terminal does not
# reach it directly), logging to logs/NAME.log and recording its pid.
fw_spawn() {
    local name=$1; shift
    setsid "$@" >>"$FW_STATE/logs/$name.log" 2>&1 < /dev/null &
    echo $! > "$FW_STATE/pids/$name.pid"
}

# fw_wait_ready NAME URL — waits for URL to answer 2xx (60 s), else prints the log and fails.
fw_wait_ready() {
    local name=$1 url=$2
    for _ in $(seq 1 300); do
        curl -fsS "$url" >/dev/null 2>&1 && return 0
        fw_pid_alive "$name" || break
        sleep 0.2
    done
    fw_log "$name did not become ready; the end of its log:"; tail -n 40 "$FW_STATE/logs/$name.log" >&2; return 1
}

# fw_stack_postgres_start PORT — Postgres on PORT with its data kept under pg/data (initialised on first use).
fw_stack_postgres_start() {
    local port=$1 pg_bin
    pg_bin=$(fw_pg_bin)
    if [ ! -f "$FW_STATE/pg/data/PG_VERSION" ]; then
        fw_as_postgres "$pg_bin/initdb" -D "$FW_STATE/pg/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
            >"$FW_STATE/logs/initdb.log" 2>&1 || { cat "$FW_STATE/logs/initdb.log" >&2; return 1; }
    fi
    # Its log lives in pg/ (which the postgres user owns); logs/postgres.log points at it.
    ln -sf ../pg/server.log "$FW_STATE/logs/postgres.log"
    fw_as_postgres "$pg_bin/pg_ctl" -D "$FW_STATE/pg/data" -l "$FW_STATE/pg/server.log" -w -t 60 start \
        -o "-p $port -k $FW_STATE/pg -c listen_addresses=127.0.0.1" >/dev/null \
        || { tail -n 40 "$FW_STATE/pg/server.log" >&2; return 1; }
}

# fw_stack_redis_start PORT — Redis on PORT with an append-only file under redis/.
fw_stack_redis_start() {
    local port=$1
    redis-server --port "$port" --bind 127.0.0.1 --appendonly yes --save '' --daemonize yes --dir "$FW_STATE/redis" \
        --pidfile "$FW_STATE/pids/redis.pid" --logfile "$FW_STATE/logs/redis.log" >/dev/null
    for _ in $(seq 1 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    tail -n 40 "$FW_STATE/logs/redis.log" >&2; return 1
}

# fw_stack_stop — stops every process of the stack (services first, so they flush into Redis and Postgres), waits
# for each to exit, and leaves the data in place.
fw_stack_stop() {
    local file pid name
    for name in relay-1 relay-2 aggregator management mock; do
        file="$FW_STATE/pids/$name.pid"
        [ -f "$file" ] && kill -TERM "$(cat "$file")" 2>/dev/null || true
    done
    for name in relay-1 relay-2 aggregator management mock; do
        file="$FW_STATE/pids/$name.pid"
        [ -f "$file" ] || continue
        pid=$(cat "$file")
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
        rm -f "$file"
    done
    if [ -f "$FW_STATE/pids/redis.pid" ]; then
        pid=$(cat "$FW_STATE/pids/redis.pid")
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        rm -f "$FW_STATE/pids/redis.pid"
    fi
    if [ -f "$FW_STATE/pg/data/postmaster.pid" ]; then
        fw_as_postgres "$(fw_pg_bin)/pg_ctl" -D "$FW_STATE/pg/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    fi
}
