"""Admission figures against a running stack (see bench/admission):
1. concurrency 1: median latency through an uncapped deployment (no admission) vs a capped one (admission scripts),
   and Redis commands per admitted request (INFO commandstats deltas);
2. saturation: two tenants (weights 300:100) with 16 clients each on a deployment of 4 slots for DURATION seconds:
   throughput against the ideal, queue wait, and the fairness error |observed share - target| / target."""
import http.client
import json
import os
import statistics
import subprocess
import threading
import time
from urllib.parse import urlparse

relay = urlparse(os.environ["RELAY_URL"])
keys = json.loads(os.environ["KEYS"])
redis_port = os.environ["REDIS_PORT"]
requests = int(os.environ.get("REQUESTS", "2000"))
duration = float(os.environ.get("DURATION", "60"))
latency_ms = float(os.environ.get("UPSTREAM_LATENCY_MS", "50"))
# The uncapped model to compare with `capped-wide`: it must have the same upstream, or the figure is the upstreams'
# difference, not admission's.
free_model = os.environ.get("FREE_MODEL", "open")


def commandstats():
    text = subprocess.run(["redis-cli", "-p", redis_port, "INFO", "commandstats"], capture_output=True, text=True).stdout
    stats = {}
    for line in text.splitlines():
        if line.startswith("cmdstat_"):
            name, rest = line[8:].split(":", 1)
            stats[name] = int(rest.split("calls=")[1].split(",")[0])
    return stats


def body(model):
    return json.dumps({"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": "Say hello."}]})


def sequential(model, key, count):
    connection = http.client.HTTPConnection(relay.hostname, relay.port)
    samples = []
    for index in range(count + 100):
        start = time.perf_counter()
        connection.request("POST", "/v1/chat/completions", body=body(model),
                           headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        if index >= 100:
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


# 1. Concurrency 1.
rounds = []
for _ in range(3):
    free = sequential(free_model, keys["c"], requests)
    before = commandstats()
    admitted = sequential("capped-wide", keys["c"], requests)
    after = commandstats()
    rounds.append((free, admitted, {k: after.get(k, 0) - before.get(k, 0) for k in after}))
for free, admitted, delta in rounds:
    print(f"concurrency 1: no admission {free:.3f} ms, with admission {admitted:.3f} ms, added {admitted - free:.3f} ms (median)")
delta = rounds[-1][2]
per_request = {k: v / (requests + 100) for k, v in delta.items() if v}
print("redis commands per admitted request: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(per_request.items())))
print(f"added latency of admission at concurrency 1 (median of {len(rounds)} rounds): "
      f"{statistics.median([a - f for f, a, _ in rounds]):.3f} ms")

# 2. Saturation with two weighted tenants.
counts = {"a": 0, "b": 0}
latencies = []
lock = threading.Lock()
end = time.time() + duration


def client(name, key):
    connection = http.client.HTTPConnection(relay.hostname, relay.port)
    while time.time() < end:
        start = time.perf_counter()
        connection.request("POST", "/v1/chat/completions", body=body("scarce"),
                           headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status == 200 and time.time() <= end:
            with lock:
                counts[name] += 1
                latencies.append((time.perf_counter() - start) * 1000)


threads = [threading.Thread(target=client, args=(name, keys[name])) for name in ("a", "b") for _ in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
total = counts["a"] + counts["b"]
ideal = 4 / (latency_ms / 1000) * duration
share_a = counts["a"] / total
error = abs(share_a - 0.75) / 0.75
error_b = abs(counts["b"] / total - 0.25) / 0.25
print(f"saturation ({duration:.0f} s, 4 slots, {latency_ms:.0f} ms upstream): A {counts['a']} B {counts['b']}, "
      f"throughput {total / duration:.1f}/s of ideal {ideal / duration:.1f}/s ({100 * total / ideal:.1f} %), "
      f"median request {statistics.median(latencies):.1f} ms")
print(f"fairness error: tenant A {100 * error:.2f} %, tenant B {100 * error_b:.2f} % (target shares 0.75 / 0.25)")
