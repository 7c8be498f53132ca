"""Benchmark: a synthetic 1 GiB blob GET from the fake upstream vs the same bytes from docker-registry.

    python bench/upstream_blob.py [--size BYTES] [--repeat N]

The fake upstream runs as a subprocess (`pullthrough upstream --config FILE`) so that its peak RSS
(VmHWM) can be read from /proc. Debian's docker-registry (filesystem storage in a temp dir) gets the
identical blob by a streamed push. Both are read with the same client (curl to /dev/null), interleaved,
for a plain tar layer and a gzip layer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urljoin

import httpx

from bench._proc import vm_hwm
from bench._servers import curl_speed, docker_registry, fake_upstream, layer_digest, machine, require

_KINDS = ("tar", "gzip")
_STREAM_CHUNK = 4 << 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1 << 30, help="layer size in bytes (default 1 GiB)")
    parser.add_argument("--repeat", type=int, default=5, help="GETs per server and layer kind (default 5)")
    args = parser.parse_args()
    missing = require("curl", "docker-registry")
    if missing:
        print(missing, file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        images = [(f"bench/{kind}", args.size) for kind in _KINDS]
        fake = stack.enter_context(fake_upstream(workdir, images, gzip=["bench/gzip"]))
        registry = stack.enter_context(docker_registry(workdir))
        blobs = {kind: layer_digest(fake.url, f"bench/{kind}") for kind in _KINDS}
        sizes = {}
        for kind, digest in blobs.items():
            source = f"{fake.url}/v2/bench/{kind}/blobs/{digest}"
            sizes[kind] = _copy_blob(source, registry.url, f"bench/{kind}", digest)
        speeds: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.repeat):
            for kind, digest in blobs.items():
                for server, base in (("fake upstream", fake.url), ("docker-registry", registry.url)):
                    url = f"{base}/v2/bench/{kind}/blobs/{digest}"
                    speeds.setdefault((server, kind), []).append(curl_speed(url, sizes[kind]))
        peaks = (vm_hwm(fake.pid), vm_hwm(registry.pid))
    _report(speeds, peaks, load_before, args)
    return 0


def _copy_blob(source: str, registry: str, repository: str, digest: str) -> int:
    """Push the blob into docker-registry as it streams out of the fake upstream (O(chunk) memory); its size."""
    with httpx.Client(timeout=120) as client:
        started = client.post(f"{registry}/v2/{repository}/blobs/uploads/")
        started.raise_for_status()
        location = urljoin(registry + "/", started.headers["location"])
        with client.stream("GET", source) as download:
            download.raise_for_status()
            length = download.headers["content-length"]

            def body() -> Iterator[bytes]:
                yield from download.iter_raw(_STREAM_CHUNK)

            separator = "&" if "?" in location else "?"
            pushed = client.put(
                f"{location}{separator}digest={digest}",
                content=body(),
                headers={"Content-Type": "application/octet-stream", "Content-Length": length},
            )
        pushed.raise_for_status()
    return int(length)


def _report(
    speeds: dict[tuple[str, str], list[float]], peaks: tuple[int, int], load_before: float, args: argparse.Namespace
) -> None:
    print(f"# fake upstream blob GET, {args.size} bytes, {args.repeat} GETs each (median), curl to /dev/null")
    print(f"# {machine(load_before)}")
    print("| layer | fake upstream GB/s | docker-registry GB/s | ratio |")
    print("|---|---|---|---|")
    for kind in _KINDS:
        fake = statistics.median(speeds[("fake upstream", kind)]) / 1e9
        registry = statistics.median(speeds[("docker-registry", kind)]) / 1e9
        print(f"| {kind} | {fake:.2f} | {registry:.2f} | {fake / registry:.2f} |")
    fake_mib, registry_mib = (peak / (1 << 20) for peak in peaks)
    print(f"peak RSS (VmHWM): fake upstream {fake_mib:.1f} MiB, docker-registry {registry_mib:.1f} MiB")
    for (server, kind), values in sorted(speeds.items()):
        print(f"  {server} {kind}: " + " ".join(f"{v / 1e9:.2f}" for v in values))


if __name__ == "__main__":
    raise SystemExit(main())
