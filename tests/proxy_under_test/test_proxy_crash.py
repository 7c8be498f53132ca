"""kill -9 during cold pulls, again and again: afterwards every cache entry verifies (INTEG-RESTART).

Each round starts the proxy on the same cache, pulls a new image whole (manifest, config and layers
at once, from a slowed upstream), kills the proxy when a random number of bytes has reached the disk,
and checks the cache. CI runs a few rounds; `PULLTHROUGH_KILLS=50 pytest
tests/proxy_under_test/test_proxy_crash.py` runs the figure that docs/reliability.md reports.
"""

from __future__ import annotations

import os
import random
import threading
from pathlib import Path

import httpx
from http_checks import ACCEPT, sha256
from proxy_checks import ProxyProcess, Rig, rule_test, unverified

from fake_upstream import Image, Match
from harness.poll import wait_until

KILLS = int(os.environ.get("PULLTHROUGH_KILLS", "3"))
RATE = 4 << 20  # bytes per second per upstream blob: a round's pull takes about half a second
SEED = int(os.environ.get("PULLTHROUGH_SEED", "10"))


@rule_test("INTEG-RESTART", "no-atomic-write")
def test_every_entry_verifies_after_kills_during_cold_pulls(tmp_path: Path, defects: frozenset[str]) -> None:
    chance = random.Random(SEED)
    cache = tmp_path / "cache"
    with Rig(tmp_path) as rig:
        rig.upstream.add_fault("slow", Match(method="GET", kind="blob"), rate=RATE)
        sizes = [[chance.randrange(20_000, 600_000), chance.randrange(1 << 20, 3 << 20)] for _ in range(KILLS)]
        images = [rig.upstream.add_image(f"team/app{n}", "v1", layers=layers) for n, layers in enumerate(sizes)]
        for round_, image in enumerate(images):
            before = _bytes_on_disk(cache)
            total = sum(layer.size for platform in image.platforms for layer in (platform.config, *platform.layers))
            threshold = before + chance.randrange(1, total)
            with ProxyProcess(rig.upstream.url, cache, defects) as proxy:
                _kill_during_a_pull(proxy, image, cache, threshold)
            assert unverified(cache) == [], f"after kill {round_ + 1}"
        rig.upstream.clear_faults()
        with ProxyProcess(rig.upstream.url, cache, defects) as proxy, httpx.Client(base_url=proxy.url) as client:
            for image in images:  # and the cache still works: every image whole and right
                _pull(client, image)
    assert unverified(cache) == []


def _kill_during_a_pull(proxy: ProxyProcess, image: Image, cache: Path, threshold: int) -> None:
    """Pull `image` through the proxy; kill -9 it once `threshold` bytes are in the cache (or the pull ended)."""
    pulling = threading.Thread(target=_pull_quietly, args=(proxy.url, image), daemon=True)
    pulling.start()
    wait_until(
        lambda: _bytes_on_disk(cache) >= threshold or not pulling.is_alive(),
        timeout=30,
        what=f"{threshold} bytes in the cache, pulling {image.repository}",
    )
    proxy.kill()
    pulling.join(timeout=10)


def _pull(client: httpx.Client, image: Image) -> None:
    got = client.get(f"/v2/{image.repository}/manifests/v1", headers=ACCEPT, timeout=10)
    assert got.status_code == 200 and sha256(got.content) == image.digest
    for blob in image.blobs:
        got = client.get(f"/v2/{image.repository}/blobs/{blob}", timeout=10)
        assert got.status_code == 200 and sha256(got.content) == blob


def _pull_quietly(url: str, image: Image) -> None:
    """The manifest, then every blob at once, as a client does; whatever the kill does to them."""
    with httpx.Client(base_url=url, timeout=10) as client:
        try:
            client.get(f"/v2/{image.repository}/manifests/v1", headers=ACCEPT)
        except httpx.TransportError:
            return
        threads = [
            threading.Thread(target=_get_quietly, args=(client, f"/v2/{image.repository}/blobs/{blob}"))
            for blob in image.blobs
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=15)


def _get_quietly(client: httpx.Client, path: str) -> None:
    try:
        client.get(path)
    except httpx.TransportError:
        pass


def _bytes_on_disk(cache: Path) -> int:
    total = 0
    for directory in (cache / "blobs", cache / "tmp"):
        for path in directory.rglob("*") if directory.is_dir() else []:
            try:
                total += path.stat().st_size if path.is_file() else 0
            except FileNotFoundError:  # renamed or removed meanwhile
                continue
    return total
