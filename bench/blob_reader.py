"""Benchmark: the reference proxy's blob reader (proxy_under_test/_rawget.py) vs httpx streaming.

    python -m bench.blob_reader [--size BYTES] [--repeat N]

The proxy reads cold blob bodies with a small HTTP/1.1 reader of its own instead of its pooled httpx
client, for CPU: it is kept only while it costs less per GiB received. One fake upstream (a subprocess)
serves a blob; this process reads it whole, on uvloop like the proxy, with each reader in turn
(interleaved), touching nothing of the bytes. The figure is this process's CPU-seconds per GiB (stable
on a shared machine), with the wall-clock rate beside it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvloop

from bench._servers import fake_upstream, layer_digest
from proxy_under_test._rawget import get_blob
from proxy_under_test._routes import Target
from proxy_under_test._upstream import Upstream

_GIB = 1 << 30
READERS = ("proxy reader", "httpx")


@dataclass(frozen=True)
class Reading:
    reader: str
    cpu_per_gib: float
    rate: float  # bytes per second, wall clock


async def read_once(reader: str, base: str, repository: str, digest: str) -> tuple[int, float, float]:
    """(bytes, CPU-seconds, wall seconds) of one whole GET of the blob."""
    async with _opened(reader, base, repository, digest) as chunks:
        cpu, wall, size = time.process_time(), time.perf_counter(), 0
        async for chunk in chunks:
            size += len(chunk)
        return size, time.process_time() - cpu, time.perf_counter() - wall


@asynccontextmanager
async def _opened(reader: str, base: str, repository: str, digest: str) -> AsyncIterator[AsyncIterator[bytes]]:
    if reader == "httpx":
        async with httpx.AsyncClient(timeout=60, trust_env=False) as client:
            async with client.stream("GET", f"{base}/v2/{repository}/blobs/{digest}") as response:
                response.raise_for_status()
                yield response.aiter_raw()
        return
    upstream = Upstream(timeout=60, user=None, password=None)
    try:
        response = await get_blob(upstream, Target(repository, base, repository), digest)
        try:
            yield response.body()
        finally:
            response.close()
    finally:
        await upstream.aclose()


def measure(base: str, repository: str, digest: str, repeat: int, on_round: Callable[[], None]) -> list[Reading]:
    readings = []
    for round_ in range(repeat):
        for reader in READERS if round_ % 2 == 0 else READERS[::-1]:
            on_round()
            size, cpu, wall = uvloop.run(read_once(reader, base, repository, digest))
            readings.append(Reading(reader, cpu / (size / _GIB), size / wall))
    return readings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=_GIB, help="blob size in bytes (default 1 GiB)")
    parser.add_argument("--repeat", type=int, default=5, help="GETs per reader, interleaved (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        upstream = stack.enter_context(fake_upstream(Path(tmp), [("bench/blob", args.size)]))
        digest = layer_digest(upstream.url, "bench/blob")
        readings = measure(upstream.url, "bench/blob", digest, args.repeat, lambda: None)
    print(f"# {args.size} bytes, {args.repeat} GETs per reader (median)")
    print("| reader | CPU-s per GiB | GB/s |")
    print("|---|---:|---:|")
    for reader in READERS:
        mine = [r for r in readings if r.reader == reader]
        cpu = statistics.median(r.cpu_per_gib for r in mine)
        print(f"| {reader} | {cpu:.2f} | {statistics.median(r.rate for r in mine) / 1e9:.2f} |")
        print("  " + " ".join(f"{r.cpu_per_gib:.2f}" for r in mine))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
