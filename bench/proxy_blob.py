"""Benchmark: 1 GiB blob GETs through the reference proxy vs Debian's docker-registry in proxy mode.

    python -m bench.proxy_blob [--quick]

One fake upstream (`pullthrough upstream`), and in front of it the reference proxy (`pullthrough proxy`)
and docker-registry (proxy mode, started after the upstream), each a subprocess with an empty cache.
The same client (curl to /dev/null) reads, interleaved, each proxy in turn (the order alternates):
- cold: a blob neither has seen, a new one per round, pulled as a client pulls it (the image's manifest
  by tag through the proxy first, untimed, then the blob): the proxy fetches it from the upstream,
  verifies its digest and caches it while streaming it;
- cached: a blob both have cached, and in the page cache (after two warm-up GETs each).
Before each GET the upstream must be idle (docker-registry fills its cache with a second GET in the
background) and os.sync() has run, so no GET runs beside another's leftovers.

Beside each cold rate: CPU-seconds per GiB of each process from /proc (stable on a shared machine), the
proxy's during the GET and until its cache fill ends; the upstream's GETs of the blob (the journal); and
whether the blob is in the proxy's storage afterwards. Peak RSS is each proxy's VmHWM after everything.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench._proc import Cpu, cpu, run_queue_wait, thread_cpu, vm_hwm
from bench._report import Ratio, Section, Timer, median, rate_row, series, table
from bench._servers import (
    MANIFEST_ACCEPT,
    Server,
    distribution_proxy,
    fake_upstream,
    layer_digest,
    reference_proxy,
    require,
    upstream_gets,
    wait_idle,
)

_GIB = 1 << 30
_MIB = 1 << 20
REFERENCE, DISTRIBUTION = "reference proxy", "docker-registry"


@dataclass
class Cold:
    """One proxy's cold GETs."""

    rates: list[float] = field(default_factory=list)  # bytes per second
    cpu_get: list[float] = field(default_factory=list)  # the proxy's CPU-s per GiB until the client had it all
    waited: list[float] = field(default_factory=list)  # ... seconds its threads waited for a CPU meanwhile
    cpu_all: list[float] = field(default_factory=list)  # ... until the upstream was idle (its cache fill done)
    upstream_cpu: list[float] = field(default_factory=list)
    curl_cpu: list[float] = field(default_factory=list)
    threads: list[list[float]] = field(default_factory=list)  # per thread, most first
    gets: list[int] = field(default_factory=list)
    stored: list[bool] = field(default_factory=list)


def run(quick: bool = False) -> Section:
    size, rounds = (256 * _MIB, 2) if quick else (_GIB, 5)
    section = Section(
        "proxy-blob",
        "Reference proxy: blobs",
        "python -m bench.proxy_blob" + (" --quick" if quick else ""),
    )
    # A cold blob of its own for each proxy and round, so that the upstream's journal counts each one's GETs.
    images = [("bench/cached", size), *((f"bench/cold{n}-{p}", size) for n in range(rounds) for p in range(2))]
    with Timer() as timer, tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        upstream = stack.enter_context(fake_upstream(workdir, images))
        proxies = [
            stack.enter_context(reference_proxy(workdir, upstream.url)),
            stack.enter_context(distribution_proxy(workdir, upstream.url)),
        ]
        digests = {repository: layer_digest(upstream.url, repository) for repository, _ in images}
        cached: dict[str, list[float]] = {proxy.name: [] for proxy in proxies}
        cached_cpu: dict[str, list[float]] = {proxy.name: [] for proxy in proxies}
        cold = {proxy.name: Cold() for proxy in proxies}
        for round_ in range(rounds):
            for proxy in proxies if round_ % 2 == 0 else proxies[::-1]:
                repository = f"bench/cold{round_}-{proxies.index(proxy)}"
                _cold_get(proxy, upstream, repository, digests[repository], size, cold[proxy.name])
        for proxy in proxies:  # a cold GET, so it is cached, and a GET, so it is in the page cache too
            for _ in range(2):
                wait_idle(upstream.control_url)
                _curl(_blob_url(proxy, "bench/cached", digests["bench/cached"]), size)
        for round_ in range(rounds):
            for proxy in proxies if round_ % 2 == 0 else proxies[::-1]:
                wait_idle(upstream.control_url)
                before = cpu(proxy.pid)
                cached[proxy.name].append(_curl(_blob_url(proxy, "bench/cached", digests["bench/cached"]), size)[0])
                cached_cpu[proxy.name].append((cpu(proxy.pid) - before).total / (size / _GIB))
        peaks = {proxy.name: vm_hwm(proxy.pid) for proxy in proxies}
    section.load_before, section.load_after = timer.before, timer.after
    _describe(section, size, rounds, cached, cached_cpu, cold, peaks)
    return section


def _cold_get(proxy: Server, upstream: Server, repository: str, digest: str, size: int, into: Cold) -> None:
    manifest = httpx.get(f"{proxy.url}/v2/{repository}/manifests/v1", headers={"Accept": MANIFEST_ACCEPT}, timeout=60)
    manifest.raise_for_status()  # as a client pulls: the manifest first, so the proxy knows the blob's size
    wait_idle(upstream.control_url)
    gib = size / _GIB
    before = (cpu(proxy.pid), cpu(upstream.pid), thread_cpu(proxy.pid))
    waited = run_queue_wait(proxy.pid)
    rate, curl_seconds = _curl(_blob_url(proxy, repository, digest), size)
    during = cpu(proxy.pid)
    into.waited.append((run_queue_wait(proxy.pid) - waited) / gib)
    gets = upstream_gets(upstream.control_url, digest)  # waits for the upstream to be idle
    after = (cpu(proxy.pid), cpu(upstream.pid), thread_cpu(proxy.pid))
    into.rates.append(rate)
    into.cpu_get.append((during - before[0]).total / gib)
    into.cpu_all.append((after[0] - before[0]).total / gib)
    into.upstream_cpu.append((after[1] - before[1]).total / gib)
    into.curl_cpu.append(curl_seconds / gib)
    zero = Cpu(0, 0)
    spent = [(used - before[2].get(tid, (name, zero))[1]).total / gib for tid, (name, used) in after[2].items()]
    into.threads.append(sorted(spent, reverse=True))
    into.gets.append(gets)
    into.stored.append(_stored(proxy, digest, size))


def _curl(url: str, size: int) -> tuple[float, float]:
    """(bytes per second, curl's CPU-seconds) of one GET to /dev/null; fails unless all `size` bytes came."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        ["curl", "-sf", "-o", "/dev/null", "-w", "%{speed_download} %{size_download}", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    speed, received = result.stdout.split()
    if int(received) != size:
        raise RuntimeError(f"{url}: got {received} bytes, expected {size}")
    return float(speed), (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def _stored(proxy: Server, digest: str, size: int, timeout: float = 30.0) -> bool:
    """Whether the blob is whole in the proxy's storage (its content-addressed file) within `timeout`
    seconds: a proxy may rename it into place a little after the upstream's answer ended."""
    assert proxy.storage is not None
    hex_part = digest.partition(":")[2]
    if proxy.name == REFERENCE:
        path = proxy.storage / "blobs" / "sha256" / hex_part[:2] / hex_part
    else:
        path = proxy.storage / "docker/registry/v2/blobs/sha256" / hex_part[:2] / hex_part / "data"
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_size == size):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _blob_url(proxy: Server, repository: str, digest: str) -> str:
    return f"{proxy.url}/v2/{repository}/blobs/{digest}"


def _describe(
    section: Section,
    size: int,
    rounds: int,
    cached: dict[str, list[float]],
    cached_cpu: dict[str, list[float]],
    cold: dict[str, Cold],
    peaks: dict[str, int],
) -> None:
    ours, theirs = cold[REFERENCE], cold[DISTRIBUTION]
    what = f"{size // _MIB} MiB" if size < _GIB else f"{size // _GIB} GiB"
    ratios = [
        Ratio(f"cached {what} blob GET", median(cached[REFERENCE]), median(cached[DISTRIBUTION]), DISTRIBUTION, 1.0),
        Ratio(f"cold {what} blob GET", median(ours.rates), median(theirs.rates), DISTRIBUTION, 1.0),
    ]
    section.ratios = ratios
    rows = [rate_row(ratio) for ratio in ratios]
    rows += [
        [
            "CPU-s per GiB, the proxy, during the cached GET",
            _cpu(cached_cpu[REFERENCE]),
            _cpu(cached_cpu[DISTRIBUTION]),
            "",
            "",
        ],
        ["CPU-s per GiB, the proxy, during the cold GET", _cpu(ours.cpu_get), _cpu(theirs.cpu_get), "", ""],
        ["CPU-s per GiB, the proxy, until its cache fill ended", _cpu(ours.cpu_all), _cpu(theirs.cpu_all), "", ""],
        [
            "s per GiB the proxy's threads waited for a CPU, during the cold GET",
            _cpu(ours.waited),
            _cpu(theirs.waited),
            "",
            "",
        ],
        ["wall s per GiB, the cold GET", _per_gib(ours.rates), _per_gib(theirs.rates), "", ""],
        ["CPU-s per GiB, the fake upstream, per cold GET", _cpu(ours.upstream_cpu), _cpu(theirs.upstream_cpu), "", ""],
        ["CPU-s per GiB, curl", _cpu(ours.curl_cpu), _cpu(theirs.curl_cpu), "", ""],
        [
            "CPU-s per GiB, the proxy and the upstream, the blob served and cached",
            _same_work(ours),
            _same_work(theirs),
            "",
            "",
        ],
        [
            "upstream GETs per cold blob",
            _counts(ours.gets),
            _counts(theirs.gets),
            "",
            "1 ✓" if set(ours.gets) == {1} else "1 ✗",
        ],
        ["blob cached whole afterwards", _yes(ours.stored), _yes(theirs.stored), "", ""],
        [
            "peak RSS (VmHWM), cold and cached GETs",
            f"{peaks[REFERENCE] / _MIB:.1f} MiB",
            f"{peaks[DISTRIBUTION] / _MIB:.1f} MiB",
            "",
            "<= 100 MiB " + ("✓" if peaks[REFERENCE] <= 100 * _MIB else "✗"),
        ],
    ]
    threads = [median([t[n] if n < len(t) else 0.0 for t in ours.threads]) for n in range(3)]
    section.markdown = "\n".join(
        [
            table(["measure", REFERENCE, DISTRIBUTION, "ratio", "target"], rows, "lrrrl"),
            "",
            f"Medians of {rounds} rounds. Per round, GB/s: cold {series(ours.rates, 1e9)} "
            f"(docker-registry {series(theirs.rates, 1e9)}); cached {series(cached[REFERENCE], 1e9)} "
            f"(docker-registry {series(cached[DISTRIBUTION], 1e9)}). The reference proxy's CPU-s per GiB "
            f"by thread (cold, median, busiest first): {' '.join(f'{t:.2f}' for t in threads)}.",
        ]
    )


def _cpu(values: list[float]) -> str:
    return f"{median(values):.2f}"


def _same_work(cold: Cold) -> str:
    """The CPU both processes spent until the blob was served and cached, whichever way the proxy did it."""
    return _cpu([proxy + upstream for proxy, upstream in zip(cold.cpu_all, cold.upstream_cpu, strict=True)])


def _per_gib(rates: list[float]) -> str:
    return f"{median([_GIB / rate for rate in rates]):.2f}"


def _counts(values: list[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else " ".join(map(str, values))


def _yes(values: list[bool]) -> str:
    return "yes" if all(values) else f"{sum(values)} of {len(values)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="256 MiB, 2 rounds")
    args = parser.parse_args()
    missing = require("curl", "docker-registry")
    if missing:
        print(missing)
        return 2
    print(run(args.quick).markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
