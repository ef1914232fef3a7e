"""Added latency of the relay at concurrency 1: the same chat request sent N times straight to the mock upstream and
N times through the relay, over keep-alive connections; prints median and p99 of each and the difference, per run."""
import http.client
import json
import os
import statistics
import sys
import time
from urllib.parse import urlparse

relay = urlparse(os.environ["RELAY_URL"])
mock = urlparse(os.environ["MOCK_URL"])
key = os.environ["FAIRWAY_KEY"]
requests = int(os.environ.get("REQUESTS", "2000"))
runs = int(os.environ.get("RUNS", "5"))
stream = os.environ.get("STREAM", "0") == "1"


def measure(target, path, headers, body):
    connection = http.client.HTTPConnection(target.hostname, target.port)
    samples = []
    for index in range(requests + 100):
        start = time.perf_counter()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"{target.geturl()}{path} answered {response.status}")
        if index >= 100:  # warm-up
            samples.append((time.perf_counter() - start) * 1000)
    connection.close()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def body(model):
    return json.dumps({"model": model, "stream": stream, "messages": [{"role": "user", "content": "Say hello in one line."}]})


headers = {"content-type": "application/json"}
medians = []
for run in range(runs):
    direct = measure(mock, "/v1/chat/completions", headers, body("bench-up"))
    relayed = measure(relay, "/v1/chat/completions", dict(headers, authorization=f"Bearer {key}"), body("bench"))
    added = relayed[0] - direct[0]
    medians.append(added)
    print(f"run {run + 1}: direct median {direct[0]:.3f} ms p99 {direct[1]:.3f} ms | "
          f"relay median {relayed[0]:.3f} ms p99 {relayed[1]:.3f} ms | added median {added:.3f} ms")
print(f"added latency (median of {runs} run medians, {requests} requests each, stream={stream}): "
      f"{statistics.median(medians):.3f} ms")
