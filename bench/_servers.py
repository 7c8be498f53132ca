"""What the benchmarks share: the fake upstream, the reference proxy and docker-registry (plain or in proxy
mode), each a subprocess on loopback (so each has its own peak RSS), plus curl timings and the upstream's journal."""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

MANIFEST_ACCEPT = "application/vnd.oci.image.manifest.v1+json"


@dataclass(frozen=True)
class Server:
    name: str
    pid: int
    url: str
    control_url: str = ""


def require(*tools: str) -> str | None:
    """The one-line fix for the first missing tool, or None."""
    for tool in tools:
        if which(tool) is None:
            return f"{tool} is not installed: sudo apt-get install -y {tool}"
    return None


def machine(load_before: float) -> str:
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"1-min load {load_before:.2f} before the run, {os.getloadavg()[0]:.2f} after"
    )


@contextmanager
def fake_upstream(workdir: Path, images: Sequence[tuple[str, int]], *, gzip: Sequence[str] = ()) -> Iterator[Server]:
    """`pullthrough upstream` holding one single-layer image per (repository, layer size): a plain tar layer,
    or gzip for the repositories named in `gzip`."""
    declared = "".join(
        f'[[images]]\nrepository = "{repository}"\ntag = "v1"\nlayers = [{size}]\n'
        f"gzip = {str(repository in gzip).lower()}\nseed = {seed}\n\n"
        for seed, (repository, size) in enumerate(images, start=1)
    )
    config = workdir / "upstream.toml"
    config.write_text(f"port = 0\ncontrol_port = 0\n\n{declared}")
    command = [*pullthrough(), "upstream", "--config", str(config)]
    with running(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)) as process:
        registry, control = _urls_from_banner(process)
        yield Server("fake upstream", process.pid, registry, control)


@contextmanager
def reference_proxy(workdir: Path, upstream: str) -> Iterator[Server]:
    port = free_port()
    options = ["--upstream", upstream, "--port", str(port), "--cache-dir", str(workdir / "reference-cache")]
    command = [*pullthrough(), "proxy", *options]
    with running(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)) as process:
        url = f"http://127.0.0.1:{port}"
        wait_ping(process, url)
        yield Server("reference proxy", process.pid, url)


@contextmanager
def distribution_proxy(workdir: Path, upstream: str) -> Iterator[Server]:
    """Debian's docker-registry in proxy mode; it must start after the upstream (it checks it at start)."""
    with docker_registry(workdir, proxy=upstream) as server:
        yield server


@contextmanager
def docker_registry(workdir: Path, *, proxy: str | None = None) -> Iterator[Server]:
    """Debian's docker-registry on filesystem storage in `workdir`; a pull-through cache of `proxy` if given."""
    port = free_port()
    config = workdir / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'registry'}\n"
        "  delete:\n    enabled: true\n  cache:\n    blobdescriptor: inmemory\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: loopback-bench-secret\n"
        + (f"proxy:\n  remoteurl: {proxy}\n" if proxy else "")
    )
    command = [str(which("docker-registry")), "serve", str(config)]
    with running(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)) as process:
        url = f"http://127.0.0.1:{port}"
        wait_ping(process, url)
        yield Server("docker-registry", process.pid, url)


def layer_digest(base: str, repository: str) -> str:
    manifest = httpx.get(f"{base}/v2/{repository}/manifests/v1", headers={"Accept": MANIFEST_ACCEPT}, timeout=30)
    manifest.raise_for_status()
    return str(json.loads(manifest.content)["layers"][0]["digest"])


def manifest_digest(base: str, repository: str) -> str:
    manifest = httpx.get(f"{base}/v2/{repository}/manifests/v1", headers={"Accept": MANIFEST_ACCEPT}, timeout=30)
    manifest.raise_for_status()
    return manifest.headers["docker-content-digest"]


def curl_speed(url: str, size: int) -> float:
    """Bytes per second of one GET to /dev/null; fails unless the whole body (`size` bytes) arrived."""
    result = subprocess.run(
        ["curl", "-sf", "-o", "/dev/null", "-w", "%{speed_download} %{size_download}", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    speed, received = result.stdout.split()
    if int(received) != size:
        raise RuntimeError(f"{url}: got {received} bytes, expected {size}")
    return float(speed)


def upstream_gets(control_url: str, digest: str) -> int:
    """GETs of `digest` the fake upstream has seen, once none is still sending (its journal)."""
    entries = wait_idle(control_url)
    return sum(1 for e in entries if e["method"] == "GET" and e.get("reference") == digest)


def wait_idle(control_url: str, timeout: float = 120.0) -> list[dict[str, Any]]:
    """Poll the fake upstream's journal until no answer is still being sent (a proxy's background
    fetch included), then flush every dirty page to disk, so that no measurement runs beside the
    leftovers of another (a background cache fill, an fsync, the kernel's writeback); the journal."""
    deadline = time.monotonic() + timeout
    while True:
        entries: list[dict[str, Any]] = httpx.get(f"{control_url}/_control/journal", timeout=30).json()
        if all(e.get("complete", True) for e in entries) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    os.sync()
    return entries


@contextmanager
def running(process: subprocess.Popen[Any]) -> Iterator[subprocess.Popen[Any]]:
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ping(process: subprocess.Popen[Any], url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/v2/", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer in time")


def _urls_from_banner(process: subprocess.Popen[str], timeout: float = 120.0) -> tuple[str, str]:
    """The registry and control URLs from the line `pullthrough upstream` prints once it serves."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            raise RuntimeError("pullthrough upstream exited:\n" + "".join(lines))
        lines.append(line)
        words = line.split()
        if "registry" in words and "control" in words:
            return words[words.index("registry") + 1], words[words.index("control") + 1].removesuffix("/_control/")
    raise RuntimeError("pullthrough upstream did not start in time")


def pullthrough() -> list[str]:
    script = Path(sys.executable).with_name("pullthrough")
    return [str(script)] if script.exists() else [sys.executable, "-m", "harness.cli"]


def which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
