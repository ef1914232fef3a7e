#!/usr/bin/env bash
# One command for the relay's side-by-side figures (issue 11): release builds, throwaway Postgres and Redis, Debian's
# nginx as the fixed upstream (`return 200` with a canned chat completion: the physical limit), management and one
# relay with auth and request logging on. For each path — direct to nginx, relay without admission, relay with
# admission (a `max_concurrency` deployment), relay answering from its response cache — wrk measures c=1 latency
# (p50, p99) and c=64 throughput, p99 and the relay's CPU per request (utime+stime from /proc over the requests wrk
# completed). Prints one table and writes it to bench/results/<date>-run.md.
# Not measured here yet: streaming time to first chunk, 1,000 concurrent streams, aggregator ingest (bench/ingest),
# fairness error (bench/admission), open-loop latency (wrk2).
# Environment: DURATION (c=64 seconds, default 10), LATENCY_SECONDS (c=1 seconds, default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/servers.sh
fw_ensure_system_dependencies
fw_ensure_packages wrk nginx
duration=${DURATION:-10} latency_seconds=${LATENCY_SECONDS:-5}
work=$(mktemp -d /tmp/fairway-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    fw_stop_servers "$work"
}
trap cleanup EXIT INT TERM
fw_start_servers "$work"
for product in fairway-management fairway-relay; do
    swift build -c release --scratch-path .build-release --product "$product" >/dev/null
done
bin=.build-release/release
export DATABASE_URL="$FW_DATABASE_URL" REDIS_URL="$FW_REDIS_URL" FAIRWAY_HOST=127.0.0.1 FAIRWAY_LOG_LEVEL=warning
export FAIRWAY_ADMIN_TOKEN=bench-admin-token-0123456789
management_port=$(fw_free_port); relay_port=$(fw_free_port); nginx_port=$(fw_free_port)

completion='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, from the fixed upstream."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}'
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$nginx_port;
        location / {
            default_type application/json;
            return 200 '$completion';
        }
    }
}
NGINX
nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' & pids+=($!)
FAIRWAY_PORT=$management_port "$bin/fairway-management" >"$work/management.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf "127.0.0.1:$management_port/readyz" >/dev/null && break; sleep 0.1; done
FAIRWAY_PORT=$relay_port FAIRWAY_SPILL_DIR="$work/spill" "$bin/fairway-relay" >"$work/relay.log" 2>&1 & relay_pid=$!
pids+=($relay_pid)
admin() { curl -sf -H "authorization: Bearer $FAIRWAY_ADMIN_TOKEN" -H 'content-type: application/json' "127.0.0.1:$management_port$1" -d "$2"; }
tenant=$(admin /v1/tenants '{"name":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
key=$(admin "/v1/tenants/$tenant/keys" '{"name":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
base="http://127.0.0.1:$nginx_port/v1"
admin /v1/models "{\"model_name\":\"open\",\"provider\":\"openai\",\"upstream_model\":\"up\",\"api_base\":\"$base\"}" >/dev/null
admin /v1/models "{\"model_name\":\"capped\",\"provider\":\"openai\",\"upstream_model\":\"up\",\"api_base\":\"$base\",\"max_concurrency\":1000}" >/dev/null
admin /v1/models "{\"model_name\":\"cached\",\"provider\":\"openai\",\"upstream_model\":\"up\",\"api_base\":\"$base\",\"cache_enabled\":true,\"cache_ttl_secs\":3600}" >/dev/null
for _ in $(seq 100); do curl -sf "127.0.0.1:$relay_port/readyz" >/dev/null && break; sleep 0.1; done
sleep 1

cpu_ticks() { awk '{print $14 + $15}' "/proc/$relay_pid/stat"; }
hz=$(getconf CLK_TCK)
# wrk_run URL MODEL CONNECTIONS SECONDS → wrk's output
wrk_run() {
    cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"$2","messages":[{"role":"user","content":"Say hello in one line, please, for the benchmark."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
LUA
    wrk -t 1 -c "$3" -d "${4}s" --latency -s "$work/post.lua" "$1"
}
url="http://127.0.0.1:$relay_port/v1/chat/completions"
wrk_run "$url" ${MODEL:-open} 8 2 >/dev/null
wrk_run "$url" ${MODEL:-open} 64 12 > $work/wrk.txt &
sleep 1
perf record -F 2000 -g -p $relay_pid -o /tmp/perf-${MODEL:-open}.data -- sleep 8 2>/dev/null
wait %1 || true
cat $work/wrk.txt
