"""Benchmark: cached manifest GETs by digest, requests per second: the reference proxy, docker-registry
(proxy mode) and nginx serving the same bytes from disk.

    python -m bench.proxy_manifest [--quick]

One fake upstream; the reference proxy and docker-registry in front of it, each a subprocess, both pulled
the manifest once (now cached); nginx (one worker, access log off) serves the same bytes with the same
Content-Type and Docker-Content-Digest from a file. `wrk -t2 -c32` (Debian: apt-get install -y wrk)
hammers each in turn, interleaved, with the same Accept header; only 200s count. Beside each rate: the
server process's CPU per request from /proc (nginx: its worker), which load on the machine barely moves.
Targets: >= 10,000 req/s, and >= 1.5x docker-registry.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench._proc import cpu
from bench._report import Ratio, Section, Timer, median, series, table, verdict
from bench._servers import (
    MANIFEST_ACCEPT,
    Server,
    distribution_proxy,
    fake_upstream,
    manifest_digest,
    nginx_static,
    reference_proxy,
    require,
    which,
)

_REQUESTS = re.compile(r"(\d+) requests in")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
TARGET_RATE = 10_000
REFERENCE, DISTRIBUTION, NGINX = "reference proxy", "docker-registry", "nginx"


def run(quick: bool = False) -> Section:
    seconds, repeat = (2, 1) if quick else (5, 3)
    section = Section(
        "proxy-manifest",
        "Reference proxy: cached manifests",
        "python -m bench.proxy_manifest" + (" --quick" if quick else ""),
    )
    with Timer() as timer, tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        upstream = stack.enter_context(fake_upstream(workdir, [("bench/app", 4096)]))
        digest = manifest_digest(upstream.url, "bench/app")
        path = f"/v2/bench/app/manifests/{digest}"
        original = httpx.get(upstream.url + path, headers={"Accept": MANIFEST_ACCEPT}, timeout=30)
        original.raise_for_status()
        headers = {"Content-Type": original.headers["content-type"], "Docker-Content-Digest": digest}
        servers = [
            stack.enter_context(reference_proxy(workdir, upstream.url)),
            stack.enter_context(distribution_proxy(workdir, upstream.url)),
            stack.enter_context(nginx_static(workdir, {path: (original.content, headers)})),
        ]
        for server in servers:
            got = httpx.get(server.url + path, headers={"Accept": MANIFEST_ACCEPT}, timeout=30)
            if got.status_code != 200 or got.content != original.content:
                raise RuntimeError(f"{server.name} did not serve the manifest: {got.status_code}")
        rates: dict[str, list[float]] = {server.name: [] for server in servers}
        costs: dict[str, list[float]] = {server.name: [] for server in servers}
        for round_ in range(repeat):
            for server in servers if round_ % 2 == 0 else servers[::-1]:
                rate, cost = measure(server, path, seconds)
                rates[server.name].append(rate)
                costs[server.name].append(cost)
    section.load_before, section.load_after = timer.before, timer.after
    _describe(section, seconds, repeat, rates, costs)
    return section


def measure(server: Server, path: str, seconds: int, script: Path | None = None) -> tuple[float, float]:
    """(requests per second, the server's CPU-microseconds per request) of one wrk run."""
    before = cpu(server.pid)
    command = [str(which("wrk")), "-t2", "-c32", f"-d{seconds}s", "-H", f"Accept: {MANIFEST_ACCEPT}"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run(
        [*command, server.url + path], capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    spent = (cpu(server.pid) - before).total
    failed = _NON_2XX.search(output)
    if failed:
        raise RuntimeError(f"{server.name}: {failed.group(1)} answers were not 200\n{output}")
    rate, count = _RATE.search(output), _REQUESTS.search(output)
    if rate is None or count is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    return float(rate.group(1)), spent / int(count.group(1)) * 1e6


def _describe(
    section: Section, seconds: int, repeat: int, rates: dict[str, list[float]], costs: dict[str, list[float]]
) -> None:
    ours = median(rates[REFERENCE])
    section.ratios = [
        Ratio("cached manifest by digest", ours, median(rates[DISTRIBUTION]), DISTRIBUTION, 1.5),
        Ratio("cached manifest by digest", ours, median(rates[NGINX]), NGINX),
    ]
    rows = [
        [
            name,
            f"{median(rates[name]):,.0f}",
            f"{median(costs[name]):.0f}",
            f"{ours / median(rates[name]):.2f}" if name != REFERENCE else "",
        ]
        for name in (REFERENCE, DISTRIBUTION, NGINX)
    ]
    met = "✓" if ours >= TARGET_RATE else "✗"
    section.markdown = "\n".join(
        [
            table(["server", "req/s", "CPU µs per request", "reference / this"], rows),
            "",
            f"`wrk -t2 -c32 -d{seconds}s`, {repeat} runs each, interleaved (medians). Target: >= {TARGET_RATE:,} "
            f"req/s {met}; >= 1.5x docker-registry {verdict(section.ratios[0]).split()[-1]}. Per run, req/s: "
            + "; ".join(f"{name} {series(values, 1, 0)}" for name, values in rates.items())
            + ".",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one 2-second run each")
    args = parser.parse_args()
    missing = require("wrk", "docker-registry", "nginx")
    if missing:
        print(missing)
        return 2
    print(run(args.quick).markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
