#!/usr/bin/env python3
"""Folds `perf script` output into stacks and draws them as a flame graph SVG (no third-party tools needed).

    perf script -i perf.data | bench/flamegraph.py --title "relay, open" out.svg [--folded out.folded] [--top N]

Swift symbols are demangled with `swift demangle --simplified`; frames a frame-pointer walk could not name are
dropped. `--top N` prints the N functions with the most inclusive samples; `--stages` splits the samples by stage of
the request path (each sample goes to the stage of its frame nearest the leaf that names one), which is what
bench/README.md quotes.
"""
import argparse
import collections
import html
import re
import subprocess
import sys

OFFSET = re.compile(r"\+0x[0-9a-f]+$")


def read_samples(stream):
    """Yields each sample's frames, leaf first, as raw symbol names."""
    frames = None
    for line in stream:
        if not line.strip():
            if frames:
                yield frames
            frames = None
            continue
        if not line[0].isspace():
            frames = []
            continue
        if frames is None:
            continue
        parts = line.strip().split(" ", 1)
        if len(parts) < 2:
            continue
        symbol = OFFSET.sub("", parts[1].rsplit(" (", 1)[0])
        if symbol != "[unknown]":
            frames.append(symbol)
    if frames:
        yield frames


def demangler(symbols):
    names = sorted(symbols)
    result = subprocess.run(
        ["swift", "demangle", "--simplified", "--compact"], input="\n".join(names), capture_output=True, text=True
    )
    lines = result.stdout.split("\n") if result.returncode == 0 else names
    return {raw: (lines[i] if i < len(lines) and lines[i] else raw) for i, raw in enumerate(names)}


def short(name):
    """Drops argument lists and generic clutter so boxes stay readable."""
    name = re.sub(r"^(specialized |partial apply for |merged |outlined |protocol witness for )+", "", name)
    depth, out = 0, []
    for ch in name:
        if ch == "(":
            depth += 1
            if depth == 1:
                out.append("(…)")
            continue
        if ch == ")":
            depth -= 1
            continue
        if depth == 0:
            out.append(ch)
    return "".join(out)[:160]


def svg(folded, title, width=1800, row=16):
    root = {"name": "all", "value": 0, "children": {}}
    for stack, count in folded.items():
        root["value"] += count
        node = root
        for frame in stack:
            node = node["children"].setdefault(frame, {"name": frame, "value": 0, "children": {}})
            node["value"] += count

    def depth(node):
        return 1 + max((depth(c) for c in node["children"].values()), default=0)

    rows = depth(root)
    height = rows * row + 60
    total = root["value"] or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="11">',
        f'<rect width="100%" height="100%" fill="#fdfdf6"/>',
        f'<text x="10" y="20" font-size="15">{html.escape(title)} — {total} samples</text>',
    ]

    def colour(name):
        h = sum(map(ord, name)) % 60
        if "[k]" in name or name.startswith(("tcp_", "__x64", "do_syscall", "entry_SYSCALL", "sys_")):
            return f"rgb({200 + h // 2},{90 + h},{90})"
        if "swift_" in name or "swift::" in name or "malloc" in name or "free" in name:
            return f"rgb({120 + h},{150 + h},{220})"
        return f"rgb({220 + h // 2},{120 + h * 2},{40})"

    def draw(node, x, level):
        w = node["value"] / total * (width - 20)
        if w < 0.3:
            return
        y = height - (level + 1) * row - 10
        label = node["name"]
        pct = node["value"] * 100 / total
        out.append(
            f'<g><title>{html.escape(label)} ({node["value"]} samples, {pct:.2f}%)</title>'
            f'<rect x="{x + 10:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" fill="{colour(label)}" rx="1"/>'
        )
        if w > 40:
            chars = int(w / 6.6)
            text = label if len(label) <= chars else label[: max(chars - 1, 1)] + "…"
            out.append(f'<text x="{x + 13:.1f}" y="{y + row - 4}">{html.escape(text)}</text>')
        out.append("</g>")
        child_x = x
        for child in sorted(node["children"].values(), key=lambda c: c["name"]):
            draw(child, child_x, level + 1)
            child_x += child["value"] / total * (width - 20)

    draw(root, 0, 0)
    out.append("</svg>")
    return "\n".join(out)


# Stage of a frame, by the types it names; checked from the leaf towards the root.
STAGES = [
    ("JSON parsing and writing", re.compile(r"JSONParser|JSONWriter|\bJSON\.|canonicalBytes|SplicedJSON")),
    ("Redis client (events, admission, cooldowns)", re.compile(r"Redis[A-Z]|RequestLogEmitter|hiredis|redisReader")),
    ("upstream HTTP client (UpstreamHTTP; AsyncHTTPClient for MCP)", re.compile(
        r"Upstream(HTTPClient|Connection|Exchange|ResponseMachine|ResponseBody)|HTTPRequestEncoder|HTTPResponseDecoder"
        r"|HTTPClient|Transaction|HTTPConnectionPool|HTTP1Connection|HTTP1ClientChannelHandler|RequestBag")),
    ("HTTP server (Hummingbird, NIO HTTP/1 server)", re.compile(
        r"HTTPChannelHandler|ApplicationProtocol|Router|RouterResponder|NIOAsyncWriter|NIOAsyncChannel|HTTPServerPipelineHandler"
        r"|HTTP1ToHTTPServerCodec|HTTPResponseEncoder|HTTPRequestDecoder|ResponseWriter|MetricsMiddleware|Hummingbird"
        r"|RelayHTTPChannel|RequestCollector|RequestInbox|ChannelBodyWriter|HTTPDateHeader|ClientPresence")),
    ("relay logic (auth, routing, admission, event)", re.compile(
        r"RelayPipeline|UpstreamCall|Authenticator|ConfigCache|ParsedRequest|OpenAIProvider|RequestRecord|RequestCancellation"
        r"|InFlightRequests|FairShareAdmission|RedisAdmission|RedisTicket|UpstreamRouter|RelayRoutes|APIKeySecret|UpstreamStream")),
    ("Swift concurrency runtime (task switches, enqueue)", re.compile(r"swift_task|swift_job_run|AsyncTask|runJobInEstablishedExecutorContext")),
    ("NIO event loop (epoll, scheduling)", re.compile(r"SelectableEventLoop|Selector\.|epoll")),
]


def stages(folded):
    counts, total = collections.Counter(), sum(folded.values()) or 1
    for stack, count in folded.items():
        stage = "other"
        for frame in reversed(stack):
            found = next((name for name, pattern in STAGES if pattern.search(frame)), None)
            if found:
                stage = found
                break
        counts[stage] += count
    return [(name, count * 100 / total) for name, count in counts.most_common()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("svg")
    parser.add_argument("--title", default="flame graph")
    parser.add_argument("--folded")
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--stages", action="store_true")
    args = parser.parse_args()
    samples = list(read_samples(sys.stdin))
    names = demangler({frame for sample in samples for frame in sample})
    folded = collections.Counter(tuple(short(names[f]) for f in reversed(sample)) for sample in samples)
    with open(args.svg, "w") as handle:
        handle.write(svg(folded, args.title))
    if args.folded:
        with open(args.folded, "w") as handle:
            for stack, count in folded.most_common():
                handle.write(";".join(stack) + f" {count}\n")
    if args.stages:
        for name, share in stages(folded):
            print(f"{share:6.2f}%  {name}")
    if args.top:
        inclusive = collections.Counter()
        for stack, count in folded.items():
            for frame in set(stack):
                inclusive[frame] += count
        total = sum(folded.values()) or 1
        for frame, count in inclusive.most_common(args.top):
            print(f"{count * 100 / total:6.2f}%  {frame}")


if __name__ == "__main__":
    main()
