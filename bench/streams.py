#!/usr/bin/env python3
"""Streaming figures for bench/run, on raw asyncio sockets (HTTP/1.1 keep-alive, no client library in the way).

    streams.py ttft URL KEY MODEL COUNT      → time to first chunk: p50 and p99 in ms over COUNT sequential streams
    streams.py many URL KEY MODEL N PID      → N concurrent slow streams: relay RSS peak, relay CPU % while all are
                                               open, streams that ended with [DONE]

Prints one line of `name=value` pairs for the caller to read.
"""
import asyncio
import json
import os
import sys
import time
from urllib.parse import urlparse


def request_bytes(url, key, model):
    parsed = urlparse(url)
    body = json.dumps({
        "model": model, "stream": True,
        "messages": [{"role": "user", "content": "Stream a short answer for the benchmark."}],
    }).encode()
    head = (
        f"POST {parsed.path} HTTP/1.1\r\nHost: {parsed.netloc}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return parsed.hostname, parsed.port, head + body


async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    chunked = b"transfer-encoding: chunked" in head.lower()
    return status, chunked


async def read_stream(reader, on_first):
    """Reads one chunked SSE answer to its end; calls on_first at the first data line. True when [DONE] came."""
    status, chunked = await read_head(reader)
    if status != 200 or not chunked:
        return False
    seen_first, done = False, False
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.strip().split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return done
        data = await reader.readexactly(size + 2)
        if not seen_first and b"data:" in data:
            seen_first = True
            on_first()
        if b"[DONE]" in data:
            done = True


async def ttft(url, key, model, count):
    host, port, raw = request_bytes(url, key, model)
    reader, writer = await asyncio.open_connection(host, port)
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        first = []
        writer.write(raw)
        ok = await read_stream(reader, lambda: first.append(time.perf_counter()))
        if ok and first:
            samples.append((first[0] - start) * 1000)
    writer.close()
    samples.sort()
    if not samples:
        print("ttft_p50=- ttft_p99=- ok=0")
        return
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    print(f"ttft_p50={p(0.5):.3f} ttft_p99={p(0.99):.3f} ok={len(samples)}")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def many(url, key, model, count, pid):
    host, port, raw = request_bytes(url, key, model)
    opened = 0
    all_open = asyncio.Event()

    async def one():
        nonlocal opened
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(raw)

        def first():
            nonlocal opened
            opened += 1
            if opened == count:
                all_open.set()

        try:
            return await read_stream(reader, first)
        finally:
            writer.close()

    tasks = [asyncio.create_task(one()) for _ in range(count)]
    peak = 0.0
    try:
        await asyncio.wait_for(all_open.wait(), timeout=60)
    except asyncio.TimeoutError:
        pass
    # CPU and RSS while every stream is open and trickling.
    cpu_start, wall_start = cpu_seconds(pid), time.perf_counter()
    for _ in range(16):
        peak = max(peak, rss_mb(pid))
        await asyncio.sleep(0.25)
    cpu = (cpu_seconds(pid) - cpu_start) / (time.perf_counter() - wall_start) * 100
    results = await asyncio.gather(*tasks, return_exceptions=True)
    peak = max(peak, rss_mb(pid))
    done = sum(1 for result in results if result is True)
    print(f"open={opened} done={done} rss_peak_mb={peak:.1f} cpu_percent={cpu:.1f}")


def main():
    mode, url, key, model = sys.argv[1:5]
    if mode == "ttft":
        asyncio.run(ttft(url, key, model, int(sys.argv[5])))
    else:
        asyncio.run(many(url, key, model, int(sys.argv[5]), int(sys.argv[6])))


if __name__ == "__main__":
    main()
