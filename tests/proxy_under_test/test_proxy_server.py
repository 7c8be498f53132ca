"""The proxy as a whole: real clients (skopeo, podman) pull through it cold and then with the upstream broken
in every way; the cache survives a restart; start and stop are clean."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import need_peer
from proxy_checks import Rig, pull

from fake_upstream import Image
from proxy_under_test import ProxyConfig, ReferenceProxy

PLATFORMS = ["linux/amd64", "linux/arm64"]
BREAKS: dict[str, Callable[[Rig, Image], None]] = {
    "deleted": lambda rig, image: rig.upstream.delete_repository(image.repository),
    "refused": lambda rig, image: rig.upstream.set_outage("refused"),
    "blackhole": lambda rig, image: rig.upstream.set_outage("blackhole"),
    "503": lambda rig, image: rig.upstream.add_fault("503"),
}


def _tree(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_skopeo_pulls_through_cold_then_with_the_upstream_broken(tmp_path: Path) -> None:
    skopeo = need_peer("skopeo")
    with Rig(tmp_path) as rig:
        proxy = rig.proxy()
        image = rig.upstream.add_image("team/app", "v1", layers=[2048, 300_000], platforms=PLATFORMS)
        source = f"docker://{proxy.url.removeprefix('http://')}/team/app:v1"

        def copy(into: Path) -> dict[str, str]:
            command = [skopeo, "copy", "--all", "--src-tls-verify=false", source, f"dir:{into}"]
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            return _tree(into)

        cold = copy(tmp_path / "cold")
        assert "sha256:" + cold["manifest.json"] == image.digest
        assert {blob.split(":")[1] for blob in image.blobs} <= set(cold)
        for name, breaks in BREAKS.items():
            breaks(rig, image)
            assert copy(tmp_path / name) == cold, name
            rig.upstream.reset()  # healthy again, and the same image (generations restart at reset)
            assert rig.upstream.add_image("team/app", "v1", layers=[2048, 300_000], platforms=PLATFORMS) == image


def test_podman_pulls_through_cold_then_with_the_upstream_broken(tmp_path: Path) -> None:
    podman = need_peer("podman")
    conf = tmp_path / "containers.conf"
    conf.write_text(
        f'[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "{tmp_path}/events"\n'
    )
    env = {**os.environ, "CONTAINERS_CONF": str(conf)}
    short = Path(tempfile.mkdtemp(prefix="pt-run-", dir="/tmp"))
    with Rig(tmp_path) as rig, _removed(short):
        proxy = rig.proxy()
        image = rig.upstream.add_image("team/app", "v1", layers=[2048, 300_000], platforms=PLATFORMS)
        reference = f"{proxy.url.removeprefix('http://')}/team/app:v1"

        def pulled(run: str) -> str:
            root, runroot = tmp_path / run / "root", short / run  # podman wants a runroot under 50 characters
            storage = ["--root", str(root), "--runroot", str(runroot), "--storage-driver", "vfs"]
            command = [podman, *storage, "pull", "--tls-verify=false", reference]
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
            assert done.returncode == 0, done.stderr
            inspect = [podman, *storage, "image", "inspect", "--format", "{{.Digest}} {{.ID}}", reference]
            described = subprocess.run(inspect, capture_output=True, text=True, timeout=30, env=env, check=True)
            return described.stdout.strip()

        cold = pulled("cold")
        assert cold.split()[0] == image.digest
        for name, breaks in BREAKS.items():
            breaks(rig, image)
            assert pulled(name) == cold, name
            rig.upstream.reset()  # healthy again, and the same image (generations restart at reset)
            assert rig.upstream.add_image("team/app", "v1", layers=[2048, 300_000], platforms=PLATFORMS) == image


def test_the_cache_survives_a_restart(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig:
        image = rig.upstream.add_image("team/app", "v1", layers=[2048, 300_000], platforms=PLATFORMS)
        first = rig.proxy(cache_dir=tmp_path / "cache")
        cold = pull(rig.client(first), image)
        first.stop()
        rig.upstream.set_outage("refused")
        second = rig.proxy(cache_dir=tmp_path / "cache")
        assert pull(rig.client(second), image) == cold


def test_start_and_stop_in_the_foreground(tmp_path: Path) -> None:
    async def serve_once() -> int:
        proxy = ReferenceProxy(ProxyConfig(upstream="http://127.0.0.1:9", cache_dir=tmp_path))
        answers: list[int] = []

        async def probe() -> None:
            async with httpx.AsyncClient() as client:
                answers.append((await client.get(proxy.url + "/v2/")).status_code)
            proxy.stop()

        ready: list[asyncio.Task[None]] = []
        await proxy.serve(lambda: ready.append(asyncio.ensure_future(probe())))
        await ready[0]
        return answers[0]

    assert asyncio.run(serve_once()) == 200
    with pytest.raises(OSError):  # the port is taken: the error reaches the caller
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            ReferenceProxy(ProxyConfig(upstream="http://x", cache_dir=tmp_path, port=taken.getsockname()[1])).start()


@contextmanager
def _removed(directory: Path) -> Iterator[Path]:
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
