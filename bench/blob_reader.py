"""Benchmark: the reference proxy's blob reader (proxy_under_test/_rawget.py) vs httpx streaming.

    python -m bench.blob_reader [--quick]

The proxy reads cold blob bodies with a small HTTP/1.1 reader of its own instead of its pooled httpx
client, for CPU: it is kept only while it costs less per GiB received. One fake upstream (a subprocess)
serves a blob; this process reads it whole, on uvloop like the proxy, with each reader in turn
(interleaved), touching nothing of the bytes. The figure is this process's CPU-seconds per GiB (stable
on a shared machine), with the wall-clock rate beside it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvloop

from bench._report import Ratio, Section, Timer, median, series, table
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
        raw = await get_blob(upstream, Target(repository, base, repository), digest)
        try:
            yield raw.body()
        finally:
            raw.close()
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


def run(quick: bool = False) -> Section:
    size, repeat = (256 << 20, 2) if quick else (_GIB, 5)
    section = Section(
        "blob-reader",
        "Reference proxy: the blob reader",
        "python -m bench.blob_reader" + (" --quick" if quick else ""),
    )
    with Timer() as timer, tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        upstream = stack.enter_context(fake_upstream(Path(tmp), [("bench/blob", size)]))
        digest = layer_digest(upstream.url, "bench/blob")
        readings = measure(upstream.url, "bench/blob", digest, repeat, lambda: None)
    section.load_before, section.load_after = timer.before, timer.after
    cpu = {reader: median([r.cpu_per_gib for r in readings if r.reader == reader]) for reader in READERS}
    rate = {reader: median([r.rate for r in readings if r.reader == reader]) for reader in READERS}
    ours, theirs = cpu[READERS[0]], cpu[READERS[1]]
    section.ratios = [Ratio("blob reader, CPU per GiB (peer's / ours)", 1 / ours, 1 / theirs, "httpx", 1.0)]
    rows = [[reader, f"{cpu[reader]:.2f}", f"{rate[reader] / 1e9:.2f}"] for reader in READERS]
    section.markdown = "\n".join(
        [
            f"One {size >> 20} MiB blob from the fake upstream, read whole in this process (uvloop), {repeat} GETs "
            "per reader, interleaved (medians). The reader stays while it costs less CPU than httpx: "
            + ("✓" if ours < theirs else "✗ (replace it with httpx)")
            + ".",
            "",
            table(["reader", "CPU-s per GiB", "GB/s"], rows),
            "",
            "Per GET, CPU-s per GiB: "
            + "; ".join(
                f"{reader} {series([r.cpu_per_gib for r in readings if r.reader == reader])}" for reader in READERS
            )
            + ".",
        ]
    )
    return section


def _per_get(readings: list[Reading], reader: str) -> str:
    return f"{reader} {series([r.cpu_per_gib for r in readings if r.reader == reader])}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="256 MiB, 2 GETs per reader")
    args = parser.parse_args()
    print(run(args.quick).markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
