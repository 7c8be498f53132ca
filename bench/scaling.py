"""Benchmark: how cost grows. Cached manifests by digest per second against the number of cached images;
the time of a cold pull against the number of layers; the fake upstream's memory against the number
of requests it has journaled.

    python -m bench.scaling [--quick]

- Manifests: the reference proxy's cache is filled with N images' manifests (100 per repository, written
  with the proxy's own Cache class), the proxy started on it, then `wrk -t2 -c32` asks for manifests
  picked at random among all N (a Lua script), after a warm-up (every manifest once, in order, then at
  random); req/s and the proxy's CPU per
  request (from /proc), and its RSS after.
- Cold pulls: images of L layers of LAYER bytes each, pulled as docker pulls (the manifest by tag, the
  config, then the layers three at a time, every digest checked) through the reference proxy and
  docker-registry (proxy mode), a fresh repository each time, interleaved, the upstream idle between.
- Fake upstream: `wrk` sends manifest GETs by digest in 1-second slices; after each slice, the journal's
  cursor (requests numbered so far) and the process's RSS. Once with the default journal limit, once
  with a limit above the number of requests (as if there were none).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench._proc import vm_rss
from bench._report import Curve, Ratio, Section, Timer, median, table
from bench._servers import (
    MANIFEST_ACCEPT,
    Server,
    distribution_proxy,
    fake_upstream,
    manifest_digest,
    reference_proxy,
    require,
    wait_idle,
    which,
)
from proxy_under_test._cache import Cache, StoredManifest

_MIB = 1 << 20
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_PER_REPOSITORY = 100
_DOWNLOADS = 3  # docker's max-concurrent-downloads
_WRK_SCRIPT = """\
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""
# Every path once, in order (each of wrk's 2 threads takes every other one), then each thread stops.
_WRK_EVERY = """\
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local threads = 0
function setup(thread)
  thread:set("first", threads)
  threads = threads + 1
end
local next_one, answered = nil, 0
request = function()
  next_one = (next_one or first) + 2
  return wrk.format("GET", paths[((next_one - 2) %% #paths) + 1])
end
response = function()
  answered = answered + 1
  if answered >= #paths / 2 then wrk.thread:stop() end
end
"""


def run(quick: bool = False) -> Section:
    section = Section("scaling", "How cost grows", "python -m bench.scaling" + (" --quick" if quick else ""))
    counts = (10, 1_000, 10_000) if quick else (10, 1_000, 100_000)
    layers = (1, 10, 30) if quick else (1, 10, 100)
    requests = 20_000 if quick else 100_000
    with Timer() as timer:
        manifests = _manifests(counts, seconds=2 if quick else 5)
        pulls = _pulls(layers, layer_size=(256 << 10) if quick else _MIB, rounds=1 if quick else 3)
        journal = _journal(requests)
    section.load_before, section.load_after = timer.before, timer.after
    _describe(section, manifests, pulls, journal, layer_size=(256 << 10) if quick else _MIB)
    return section


# ---- cached manifests against cached images --------------------------------------------------------


# The proxy's options for each series: its default memory for manifests, and enough for 100,000.
MEMORY = {"default (--manifest-memory 32)": (), "--manifest-memory 256": ("--manifest-memory", "256")}


def _manifests(counts: tuple[int, ...], seconds: int) -> dict[str, list[tuple[int, float, float, int]]]:
    """By series: (images cached, req/s, CPU µs per request, the proxy's RSS after) for each count."""
    from bench.proxy_manifest import measure  # one wrk measurement for both benchmarks

    found: dict[str, list[tuple[int, float, float, int]]] = {label: [] for label in MEMORY}
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
            workdir = Path(tmp)
            paths = _fill(workdir / "reference-cache", count)
            listing = workdir / "paths.txt"
            listing.write_text("\n".join(paths) + "\n")
            script = workdir / "random.lua"
            script.write_text(_WRK_SCRIPT % listing)
            every = workdir / "every.lua"
            every.write_text(_WRK_EVERY % listing)
            upstream = stack.enter_context(fake_upstream(workdir, []))
            for label, options in MEMORY.items():
                with reference_proxy(workdir, upstream.url, options=options) as proxy:
                    # Warm-up: every manifest asked for once (the page cache, and the proxy's memory as far as
                    # it holds them), then at random, as measured. wrk runs for all its -d even when its
                    # threads stopped: long enough at 1,500 req/s.
                    measure(proxy, "/", max(2, -(-count // 1500)), every)
                    measure(proxy, "/", 2, script)
                    rate, cost = measure(proxy, "/", seconds, script)
                    found[label].append((count, rate, cost, vm_rss(proxy.pid)))
            asked = [e for e in wait_idle(upstream.control_url) if e.get("kind") == "manifest"]
            if asked:
                raise RuntimeError(f"the proxy asked the upstream for {len(asked)} cached manifests")
    return found


def _fill(root: Path, count: int) -> list[str]:
    """Cache `count` images' manifests as the proxy stores them; their URL paths."""
    cache = Cache(root, atomic=False)  # the same layout; no fsync per file, or 100,000 take minutes
    cache.open()
    randomness = random.Random(count)
    paths = []
    try:
        for number in range(count):
            repository = f"scale/r{number // _PER_REPOSITORY}"
            body = _manifest(randomness)
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            cache.put_manifest(repository, StoredManifest(digest, _OCI_MANIFEST, body))
            paths.append(f"/v2/{repository}/manifests/{digest}")
    finally:
        cache.close()
    return paths


def _manifest(randomness: random.Random) -> bytes:
    def descriptor(media_type: str, size: int) -> dict[str, object]:
        return {"mediaType": media_type, "digest": "sha256:" + randomness.randbytes(32).hex(), "size": size}

    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": _OCI_MANIFEST,
            "config": descriptor("application/vnd.oci.image.config.v1+json", randomness.randrange(500, 5000)),
            "layers": [
                descriptor("application/vnd.oci.image.layer.v1.tar+gzip", randomness.randrange(1 << 20, 1 << 26))
                for _ in range(randomness.randrange(1, 8))
            ],
        },
        indent=3,
    ).encode()


# ---- cold pulls against layers ---------------------------------------------------------------------


def _pulls(layers: tuple[int, ...], layer_size: int, rounds: int) -> dict[str, list[tuple[int, float]]]:
    """Seconds of a whole cold pull (median of `rounds`), by proxy, for each number of layers."""
    images = [(f"bench/l{count}-{n}", [layer_size] * count) for count in layers for n in range(rounds)]
    found: dict[str, list[tuple[int, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        upstream = stack.enter_context(fake_upstream(workdir, images))
        proxies = [
            stack.enter_context(reference_proxy(workdir, upstream.url)),
            stack.enter_context(distribution_proxy(workdir, upstream.url)),
        ]
        for count in layers:
            times: dict[str, list[float]] = {proxy.name: [] for proxy in proxies}
            for n in range(rounds):
                for proxy in proxies if n % 2 == 0 else proxies[::-1]:
                    wait_idle(upstream.control_url)
                    times[proxy.name].append(asyncio.run(pull(proxy, f"bench/l{count}-{n}", count)))
            for name, values in times.items():
                found.setdefault(name, []).append((count, median(values)))
    return found


async def pull(proxy: Server, repository: str, layers: int) -> float:
    """Seconds to pull the image tagged v1 as docker does; fails on any wrong digest."""
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=_DOWNLOADS + 1)
    async with httpx.AsyncClient(base_url=proxy.url, timeout=120, limits=limits) as client:
        answer = await client.get(f"/v2/{repository}/manifests/v1", headers={"Accept": MANIFEST_ACCEPT})
        answer.raise_for_status()
        manifest = json.loads(answer.content)
        descriptors = [manifest["config"], *manifest["layers"]]
        if len(manifest["layers"]) != layers:
            raise RuntimeError(f"{repository}: {len(manifest['layers'])} layers, expected {layers}")
        slots = asyncio.Semaphore(_DOWNLOADS)

        async def fetch(digest: str) -> None:
            async with slots, client.stream("GET", f"/v2/{repository}/blobs/{digest}") as response:
                response.raise_for_status()
                hasher = hashlib.sha256()
                async for chunk in response.aiter_raw():
                    hasher.update(chunk)
            if f"sha256:{hasher.hexdigest()}" != digest:
                raise RuntimeError(f"{proxy.name} sent wrong bytes for {digest}")

        await asyncio.gather(*(fetch(d["digest"]) for d in descriptors))
    return time.perf_counter() - started


# ---- the fake upstream's memory against its journal ------------------------------------------------


def _journal(requests: int) -> dict[str, list[tuple[int, float]]]:
    """(requests journaled, RSS in MiB) after each 1-second slice, for each journal limit."""
    found = {}
    for label, limit in (("default journal limit (10,000)", None), ("no limit (1,000,000)", 1_000_000)):
        with tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
            upstream = stack.enter_context(fake_upstream(Path(tmp), [("bench/app", 4096)], journal_limit=limit))
            url = f"{upstream.url}/v2/bench/app/manifests/{manifest_digest(upstream.url, 'bench/app')}"
            points = [(_cursor(upstream), vm_rss(upstream.pid) / _MIB)]
            while points[-1][0] < requests:
                command = [str(which("wrk")), "-t2", "-c32", "-d1s", "-H", f"Accept: {MANIFEST_ACCEPT}", url]
                subprocess.run(command, capture_output=True, check=True, timeout=60)
                points.append((_cursor(upstream), vm_rss(upstream.pid) / _MIB))
            found[label] = points
    return found


def _cursor(upstream: Server) -> int:
    return int(httpx.get(f"{upstream.control_url}/_control/journal/cursor", timeout=30).json()["cursor"])


# ---- the report ------------------------------------------------------------------------------------


def _describe(
    section: Section,
    manifests: dict[str, list[tuple[int, float, float, int]]],
    pulls: dict[str, list[tuple[int, float]]],
    journal: dict[str, list[tuple[int, float]]],
    layer_size: int,
) -> None:
    section.curves = [
        Curve(
            "scaling-manifests",
            "Cached manifests by digest, at random among N images",
            "images cached (N)",
            "requests per second",
            {label: [(count, rate) for count, rate, _, _ in points] for label, points in manifests.items()},
            log_x=True,
        ),
        Curve(
            "scaling-pull",
            f"Cold pull of an image of L layers ({layer_size // 1024} KiB each)",
            "layers (L)",
            "seconds",
            {name: [(float(n), seconds) for n, seconds in points] for name, points in pulls.items()},
        ),
        Curve(
            "scaling-journal",
            "The fake upstream's RSS while it journals requests",
            "requests journaled",
            "RSS (MiB)",
            {label: [(float(n), rss) for n, rss in points] for label, points in journal.items()},
        ),
    ]
    largest, (ours, theirs) = (
        pulls["reference proxy"][-1][0],
        (pulls[n][-1][1] for n in ("reference proxy", "docker-registry")),
    )
    section.ratios = [
        Ratio(f"cold pull of {largest} layers, seconds (peer's / ours)", 1 / ours, 1 / theirs, "docker-registry")
    ]
    rows = [
        [f"{count:,}", label, f"{rate:,.0f}", f"{cost:.0f}", f"{rss / _MIB:.1f}"]
        for label, points in manifests.items()
        for count, rate, cost, rss in points
    ]
    rows.sort(key=lambda row: int(str(row[0]).replace(",", "")))
    pull_rows = []
    names = list(pulls)
    for index, (count, _) in enumerate(pulls[names[0]]):
        cells: list[object] = [count]
        for name in names:
            seconds = pulls[name][index][1]
            cells += [f"{seconds:.2f}", f"{seconds / count * 1000:.0f}"]
        pull_rows.append(cells)
    journal_rows = [
        [label, f"{points[-1][0]:,}", f"{points[0][1]:.1f}", f"{points[-1][1]:.1f}"]
        for label, points in journal.items()
    ]
    header = ["layers"] + [f"{name} {what}" for name in names for what in ("s", "ms per layer")]
    manifest_header = ["images cached", "proxy memory for manifests", "req/s", "CPU µs per request", "RSS after (MiB)"]
    section.markdown = "\n".join(
        [
            table(manifest_header, rows, "llrrr"),
            "",
            "![manifests against cached images](bench/scaling-manifests.svg)",
            "",
            table(header, pull_rows),
            "",
            "![cold pull time against layers](bench/scaling-pull.svg)",
            "",
            table(["fake upstream", "requests journaled", "RSS before (MiB)", "RSS after (MiB)"], journal_rows),
            "",
            "![fake upstream RSS against requests journaled](bench/scaling-journal.svg)",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    args = parser.parse_args()
    missing = require("wrk", "docker-registry")
    if missing:
        print(missing)
        return 2
    print(run(args.quick).markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
