"""Benchmark: a synthetic 1 GiB blob GET from the fake upstream vs the same bytes from docker-registry.

    python -m bench.upstream_blob [--quick]

The fake upstream runs as a subprocess (`pullthrough upstream --config FILE`) so that its peak RSS
(VmHWM) can be read from /proc. Debian's docker-registry (filesystem storage in a temp dir) gets the
identical blob by a streamed push. Both are read with the same client (curl to /dev/null), interleaved,
for a plain tar layer and a gzip layer.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urljoin

import httpx

from bench._proc import vm_hwm
from bench._report import Ratio, Section, Timer, median, rate_row, series, table
from bench._servers import curl_speed, docker_registry, fake_upstream, layer_digest, require

_KINDS = ("tar", "gzip")
_MIB = 1 << 20
_STREAM_CHUNK = 4 << 20


def run(quick: bool = False) -> Section:
    size, repeat = (256 << 20, 2) if quick else (1 << 30, 5)
    section = Section(
        "upstream-blob", "Fake upstream: blobs", "python -m bench.upstream_blob" + (" --quick" if quick else "")
    )
    with Timer() as timer, tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        images = [(f"bench/{kind}", size) for kind in _KINDS]
        fake = stack.enter_context(fake_upstream(workdir, images, gzip=["bench/gzip"]))
        registry = stack.enter_context(docker_registry(workdir))
        blobs = {kind: layer_digest(fake.url, f"bench/{kind}") for kind in _KINDS}
        sizes = {}
        for kind, digest in blobs.items():
            source = f"{fake.url}/v2/bench/{kind}/blobs/{digest}"
            sizes[kind] = _copy_blob(source, registry.url, f"bench/{kind}", digest)
        speeds: dict[tuple[str, str], list[float]] = {}
        for round_ in range(repeat):
            for kind, digest in blobs.items():
                servers = (("fake upstream", fake.url), ("docker-registry", registry.url))
                for server, base in servers if round_ % 2 == 0 else servers[::-1]:
                    url = f"{base}/v2/bench/{kind}/blobs/{digest}"
                    speeds.setdefault((server, kind), []).append(curl_speed(url, sizes[kind]))
        peaks = (vm_hwm(fake.pid), vm_hwm(registry.pid))
    section.load_before, section.load_after = timer.before, timer.after
    _describe(section, size, repeat, speeds, peaks)
    return section


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


def _describe(
    section: Section,
    size: int,
    repeat: int,
    speeds: dict[tuple[str, str], list[float]],
    peaks: tuple[int, int],
) -> None:
    what = f"{size >> 20} MiB" if size < 1 << 30 else f"{size >> 30} GiB"
    section.ratios = [
        Ratio(
            f"{kind} layer, {what}, served",
            median(speeds[("fake upstream", kind)]),
            median(speeds[("docker-registry", kind)]),
            "docker-registry",
            1.0,
        )
        for kind in _KINDS
    ]
    rows = [rate_row(ratio) for ratio in section.ratios]
    rows.append(["peak RSS (VmHWM)", f"{peaks[0] / _MIB:.1f} MiB", f"{peaks[1] / _MIB:.1f} MiB", "", "<= 100 MiB"])
    absolute = min(median(speeds[("fake upstream", kind)]) for kind in _KINDS) >= 2e9
    section.markdown = "\n".join(
        [
            table(["layer", "fake upstream", "docker-registry", "ratio", "target"], rows, "lrrrl"),
            "",
            f"curl to /dev/null, {repeat} GETs each, interleaved (medians); the fake upstream must also reach "
            f"2 GB/s ({'✓' if absolute else '✗'}). Per GET, GB/s: "
            + "; ".join(f"{server} {kind} {series(values, 1e9)}" for (server, kind), values in sorted(speeds.items()))
            + ".",
        ]
    )


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
