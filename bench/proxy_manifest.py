"""Benchmark: cached manifest GETs by digest, requests per second, reference proxy vs docker-registry.

    python bench/proxy_manifest.py [--seconds S] [--connections N] [--repeat N]

One fake upstream, the reference proxy and docker-registry (proxy mode) in front of it, each a
subprocess. Both pull the manifest once (now cached), then `wrk` (Debian: apt-get install -y wrk)
hammers each in turn, interleaved, with the same Accept header. Only 200s count. Target: ratio >= 1.5.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench._servers import (
    MANIFEST_ACCEPT,
    distribution_proxy,
    fake_upstream,
    machine,
    manifest_digest,
    reference_proxy,
    require,
    which,
)

_REQUESTS = re.compile(r"^\s*(\d+) requests in")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run (default 5)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per proxy, interleaved (default 3)")
    args = parser.parse_args()
    missing = require("wrk", "docker-registry")
    if missing:
        print(missing, file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        upstream = stack.enter_context(fake_upstream(workdir, [("bench/app", 4096)]))
        proxies = [
            stack.enter_context(reference_proxy(workdir, upstream.url)),
            stack.enter_context(distribution_proxy(workdir, upstream.url)),
        ]
        digest = manifest_digest(upstream.url, "bench/app")
        rates: dict[str, list[float]] = {proxy.name: [] for proxy in proxies}
        for proxy in proxies:
            url = f"{proxy.url}/v2/bench/app/manifests/{digest}"
            warm = httpx.get(url, headers={"Accept": MANIFEST_ACCEPT}, timeout=30)
            if warm.status_code != 200 or warm.headers.get("docker-content-digest") != digest:
                raise RuntimeError(f"{proxy.name} did not serve the manifest: {warm.status_code}")
        for round_ in range(args.repeat):
            for proxy in proxies if round_ % 2 == 0 else proxies[::-1]:
                url = f"{proxy.url}/v2/bench/app/manifests/{digest}"
                rates[proxy.name].append(_wrk(url, args.seconds, args.connections))
    _report(args, rates, load_before)
    return 0


def _wrk(url: str, seconds: int, connections: int) -> float:
    command = [
        str(which("wrk")), "-t1", f"-c{connections}", f"-d{seconds}s", "-H", f"Accept: {MANIFEST_ACCEPT}", url,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    failed = _NON_2XX.search(output)
    if failed:
        raise RuntimeError(f"{url}: {failed.group(1)} answers were not 200\n{output}")
    rate = _RATE.search(output)
    if rate is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    return float(rate.group(1))


def _report(args: argparse.Namespace, rates: dict[str, list[float]], load_before: float) -> None:
    print(
        f"# cached manifest GET by digest, wrk -t1 -c{args.connections} -d{args.seconds}s, "
        f"{args.repeat} runs each (median)"
    )
    print(f"# {machine(load_before)}")
    ours, theirs = statistics.median(rates["reference proxy"]), statistics.median(rates["docker-registry"])
    print("| reference proxy req/s | docker-registry req/s | ratio | target |")
    print("|---|---|---|---|")
    print(f"| {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f} | >= 1.5 |")
    for name, values in rates.items():
        print(f"  {name}: " + " ".join(f"{v:,.0f}" for v in values))


if __name__ == "__main__":
    raise SystemExit(main())
