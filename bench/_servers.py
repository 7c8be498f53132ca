"""What the benchmarks share: the fake upstream, the reference proxy and docker-registry (plain or in proxy
mode), each a subprocess on loopback (so each has its own peak RSS), plus curl timings and the upstream's journal."""

from __future__ import annotations

import grp
import json
import os
import platform
import pwd
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
    storage: Path | None = None  # where it keeps what it caches


_FROM_PYPI = frozenset({"py-spy"})


def require(*tools: str) -> str | None:
    """The one-line fix for the first missing tool, or None."""
    for tool in tools:
        if which(tool) is None:
            fix = "pip install -e '.[bench]'" if tool in _FROM_PYPI else f"sudo apt-get install -y {tool}"
            return f"{tool} is not installed: {fix}"
    return None


def machine(load_before: float) -> str:
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"1-min load {load_before:.2f} before the run, {os.getloadavg()[0]:.2f} after"
    )


@contextmanager
def fake_upstream(
    workdir: Path,
    images: Sequence[tuple[str, int | Sequence[int]]],
    *,
    gzip: Sequence[str] = (),
    journal_limit: int | None = None,
) -> Iterator[Server]:
    """`pullthrough upstream` holding one image (tag v1) per (repository, layer size or sizes): plain tar
    layers, or gzip for the repositories named in `gzip`."""
    declared = "".join(
        f'[[images]]\nrepository = "{repository}"\ntag = "v1"\n'
        f"layers = {[layers] if isinstance(layers, int) else list(layers)}\n"
        f"gzip = {str(repository in gzip).lower()}\nseed = {seed}\n\n"
        for seed, (repository, layers) in enumerate(images, start=1)
    )
    limit = f"journal_limit = {journal_limit}\n" if journal_limit is not None else ""
    config = workdir / "upstream.toml"
    config.write_text(f"port = 0\ncontrol_port = 0\n{limit}\n{declared}")
    command = [*pullthrough(), "upstream", "--config", str(config)]
    with running(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)) as process:
        registry, control = _urls_from_banner(process)
        yield Server("fake upstream", process.pid, registry, control)


@contextmanager
def reference_proxy(
    workdir: Path, upstream: str, cache: str = "reference-cache", options: Sequence[str] = ()
) -> Iterator[Server]:
    port = free_port()
    command = [
        *pullthrough(),
        "proxy",
        "--upstream",
        upstream,
        "--port",
        str(port),
        "--cache-dir",
        str(workdir / cache),
    ]
    command += options
    with running(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)) as process:
        url = f"http://127.0.0.1:{port}"
        wait_ping(process, url)
        yield Server("reference proxy", process.pid, url, storage=workdir / cache)


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
        yield Server("docker-registry", process.pid, url, storage=workdir / "registry")


_NGINX = """\
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    server_tokens off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /v2/ {{ return 200 '{{}}'; }}
{locations}
    }}
}}
"""
_LOCATION = """\
        location = {path} {{
            types {{ }}
            default_type "{content_type}";
{headers}            alias {file};
        }}
"""


@contextmanager
def nginx_static(workdir: Path, files: dict[str, tuple[bytes, dict[str, str]]]) -> Iterator[Server]:
    """Debian's nginx (one worker, access log off) serving `files` (URL path -> bytes, response headers
    such as Content-Type) from disk, a file per path, each path its own exact location."""
    root = workdir / "nginx"
    root.mkdir()
    locations = []
    for number, (path, (data, headers)) in enumerate(files.items()):
        (root / f"file{number}").write_bytes(data)
        extra = "".join(f'            add_header {k} "{v}";\n' for k, v in headers.items() if k != "Content-Type")
        content_type = headers.get("Content-Type", "application/octet-stream")
        file = root / f"file{number}"
        locations.append(_LOCATION.format(path=path, content_type=content_type, headers=extra, file=file))
    user = ""
    if os.geteuid() == 0:  # the workers would otherwise drop to nobody, who cannot read a private temp dir
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    port = free_port()
    config = workdir / "nginx.conf"
    config.write_text(_NGINX.format(user=user, dir=workdir, port=port, locations="".join(locations)))
    command = [str(which("nginx")), "-c", str(config), "-g", "daemon off;"]
    with running(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)) as process:
        url = f"http://127.0.0.1:{port}"
        wait_ping(process, url)
        yield Server("nginx", _worker(process.pid), url, storage=root)


def _worker(master: int) -> int:
    """nginx's worker process (the one serving), found among the master's children."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.05)
    return master


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
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


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
    """A program on the PATH, in /usr/sbin (nginx), or beside this Python (a tool from the venv)."""
    return shutil.which(name) or shutil.which(name, path=f"/usr/sbin:/sbin:{Path(sys.executable).parent}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
