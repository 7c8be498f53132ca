"""Benchmark: 1 GiB blob GETs through the reference proxy vs Debian's docker-registry in proxy mode.

    python bench/proxy_blob.py [--size BYTES] [--repeat N]

One fake upstream (`pullthrough upstream`), and in front of it the reference proxy (`pullthrough proxy`)
and docker-registry (proxy mode, started after the upstream), each a subprocess with an empty cache.
The same client (curl to /dev/null) reads, interleaved:
- cached: a blob both proxies have cached, and in the page cache (after two warm-up GETs each);
- cold: a blob neither has seen, a new one per round, so the proxy fetches it from the upstream, checks
  its digest and caches it while streaming it.
Peak RSS is the proxies' VmHWM after all of it (targets: cached and cold ratios >= 1.0, RSS <= 100 MiB).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench._proc import vm_hwm
from bench._servers import (
    Server,
    curl_speed,
    distribution_proxy,
    fake_upstream,
    layer_digest,
    machine,
    reference_proxy,
    require,
    wait_idle,
)

_MIB = 1 << 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1 << 30, help="blob size in bytes (default 1 GiB)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of each measurement (default 5)")
    args = parser.parse_args()
    missing = require("curl", "docker-registry")
    if missing:
        print(missing, file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    images = [("bench/cached", args.size), *((f"bench/cold{n}", args.size) for n in range(args.repeat))]
    with tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        upstream = stack.enter_context(fake_upstream(workdir, images))
        proxies = [
            stack.enter_context(reference_proxy(workdir, upstream.url)),
            stack.enter_context(distribution_proxy(workdir, upstream.url)),
        ]
        digests = {repository: layer_digest(upstream.url, repository) for repository, _ in images}
        cached: dict[str, list[float]] = {proxy.name: [] for proxy in proxies}
        cold: dict[str, list[float]] = {proxy.name: [] for proxy in proxies}
        for proxy in proxies:  # warm-up: a cold GET, so it is cached, and a GET, so it is in the page cache too
            for _ in range(2):
                wait_idle(upstream.control_url)
                curl_speed(_blob(proxy, "bench/cached", digests), args.size)
        for round_ in range(args.repeat):
            order = proxies if round_ % 2 == 0 else proxies[::-1]
            for proxy in order:
                wait_idle(upstream.control_url)
                cached[proxy.name].append(curl_speed(_blob(proxy, "bench/cached", digests), args.size))
            for proxy in order:
                wait_idle(upstream.control_url)
                cold[proxy.name].append(curl_speed(_blob(proxy, f"bench/cold{round_}", digests), args.size))
        peaks = {proxy.name: vm_hwm(proxy.pid) for proxy in proxies}
    _report(args, cached, cold, peaks, load_before)
    return 0


def _blob(proxy: Server, repository: str, digests: dict[str, str]) -> str:
    return f"{proxy.url}/v2/{repository}/blobs/{digests[repository]}"


def _report(
    args: argparse.Namespace,
    cached: dict[str, list[float]],
    cold: dict[str, list[float]],
    peaks: dict[str, int],
    load_before: float,
) -> None:
    print(f"# blob GET through the proxy, {args.size} bytes, {args.repeat} rounds (median), curl to /dev/null")
    print(f"# {machine(load_before)}")
    print("# before each GET: the upstream idle (no proxy's background fetch still running) and os.sync()")
    print("| blob | reference proxy GB/s | docker-registry GB/s | ratio | target |")
    print("|---|---|---|---|---|")
    for what, speeds in (("cached", cached), ("cold (verified, cached)", cold)):
        ours = statistics.median(speeds["reference proxy"]) / 1e9
        theirs = statistics.median(speeds["docker-registry"]) / 1e9
        print(f"| {what} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f} | >= 1.0 |")
    ours_mib, theirs_mib = peaks["reference proxy"] / _MIB, peaks["docker-registry"] / _MIB
    print(f"peak RSS (VmHWM): reference proxy {ours_mib:.1f} MiB (target <= 100), docker-registry {theirs_mib:.1f} MiB")
    for label, speeds in (("cached", cached), ("cold", cold)):
        for name, values in speeds.items():
            print(f"  {label} {name}: " + " ".join(f"{v / 1e9:.2f}" for v in values))


if __name__ == "__main__":
    raise SystemExit(main())
