"""Benchmark: a synthetic 1 GiB blob GET from the fake upstream vs the same bytes from docker-registry.

    python bench/upstream_blob.py [--size BYTES] [--repeat N]

The fake upstream runs as a subprocess (`pullthrough upstream --config FILE`) so that its peak RSS
(VmHWM) can be read from /proc. Debian's docker-registry (filesystem storage in a temp dir) gets the
identical blob by a streamed push. Both are read with the same client (curl to /dev/null), interleaved,
for a plain tar layer and a gzip layer.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx

_KINDS = ("tar", "gzip")
_STREAM_CHUNK = 4 << 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1 << 30, help="layer size in bytes (default 1 GiB)")
    parser.add_argument("--repeat", type=int, default=5, help="GETs per server and layer kind (default 5)")
    args = parser.parse_args()
    for tool in ("curl", "docker-registry"):
        if _which(tool) is None:
            print(f"{tool} is not installed: sudo apt-get install -y {tool}", file=sys.stderr)
            return 2
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        fake = stack.enter_context(_fake_upstream(workdir, args.size))
        registry = stack.enter_context(_docker_registry(workdir))
        registry_url = registry.url
        blobs = {kind: _layer_digest(fake.url, f"bench/{kind}") for kind in _KINDS}
        for kind, digest in blobs.items():
            _copy_blob(f"{fake.url}/v2/bench/{kind}/blobs/{digest}", registry_url, f"bench/{kind}", digest)
        speeds: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.repeat):
            for kind, digest in blobs.items():
                for server, base in (("fake upstream", fake.url), ("docker-registry", registry_url)):
                    url = f"{base}/v2/bench/{kind}/blobs/{digest}"
                    speeds.setdefault((server, kind), []).append(_curl_speed(url, args.size))
        peak = _vm_hwm(fake.pid)
        registry_peak = _vm_hwm(registry.pid)
    _report(speeds, (peak, registry_peak), load_before, args)
    return 0


@dataclass(frozen=True)
class _Server:
    pid: int
    url: str


@contextmanager
def _fake_upstream(workdir: Path, size: int) -> Iterator[_Server]:
    images = "".join(
        f'[[images]]\nrepository = "bench/{kind}"\ntag = "v1"\nlayers = [{size}]\n'
        f"gzip = {str(kind == 'gzip').lower()}\nseed = 7\n\n"
        for kind in _KINDS
    )
    config = workdir / "upstream.toml"
    config.write_text(f"port = 0\ncontrol_port = 0\n\n{images}")
    command = [*_pullthrough(), "upstream", "--config", str(config)]
    with _running(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)) as process:
        yield _Server(process.pid, _url_from_banner(process))


@contextmanager
def _docker_registry(workdir: Path) -> Iterator[_Server]:
    port = _free_port()
    config = workdir / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'registry'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    command = [str(_which("docker-registry")), "serve", str(config)]
    with _running(
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    ) as process:
        url = f"http://127.0.0.1:{port}"
        _wait_ping(process, url)
        yield _Server(process.pid, url)


@contextmanager
def _running(process: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _url_from_banner(process: subprocess.Popen[str], timeout: float = 120.0) -> str:
    """The registry URL from the line `pullthrough upstream` prints once it serves."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            raise RuntimeError("pullthrough upstream exited:\n" + "".join(lines))
        lines.append(line)
        words = line.split()
        if "registry" in words:
            return words[words.index("registry") + 1]
    raise RuntimeError("pullthrough upstream did not start in time")


def _wait_ping(process: subprocess.Popen[str], url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/v2/", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("docker-registry did not start in time")


def _layer_digest(base: str, repository: str) -> str:
    accept = "application/vnd.oci.image.manifest.v1+json"
    manifest = httpx.get(f"{base}/v2/{repository}/manifests/v1", headers={"Accept": accept}, timeout=30)
    manifest.raise_for_status()
    return str(json.loads(manifest.content)["layers"][0]["digest"])


def _copy_blob(source: str, registry: str, repository: str, digest: str) -> None:
    """Push the blob into docker-registry as it streams out of the fake upstream (O(chunk) memory)."""
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


def _curl_speed(url: str, size: int) -> float:
    result = subprocess.run(
        ["curl", "-sf", "-o", "/dev/null", "-w", "%{speed_download} %{size_download}", url],
        capture_output=True,
        text=True,
        check=True,
    )
    speed, received = result.stdout.split()
    if int(received) < size:
        raise RuntimeError(f"{url}: got {received} bytes, expected at least {size}")
    return float(speed)


def _vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc status")


def _report(
    speeds: dict[tuple[str, str], list[float]], peaks: tuple[int, int], load_before: float, args: argparse.Namespace
) -> None:
    print(f"# fake upstream blob GET, {args.size} bytes, {args.repeat} GETs each (median), curl to /dev/null")
    print(
        f"# {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"1-min load {load_before:.2f} before the run, {os.getloadavg()[0]:.2f} after"
    )
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


def _pullthrough() -> list[str]:
    script = Path(sys.executable).with_name("pullthrough")
    return [str(script)] if script.exists() else [sys.executable, "-m", "harness.cli"]


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    raise SystemExit(main())
