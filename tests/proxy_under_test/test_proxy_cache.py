"""The on-disk cache: whole files or none (INTEG-RESTART), a crash's leftovers dropped, one proxy per directory."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import httpx
import pytest
from http_checks import ACCEPT, sha256
from proxy_checks import ProxyProcess, Rig, rule_test

from fake_upstream import Match
from harness.poll import wait_until
from oci_wire import OCI_INDEX
from proxy_under_test import Cache, CacheLocked
from proxy_under_test._cache import StoredManifest, UnsafePath

MANIFEST_MEMORY = 32 << 20  # the default bound


def _has_bytes(cache: Path) -> bool:
    return any(p.is_file() and p.name != ".lock" and p.stat().st_size > 0 for p in cache.rglob("*"))


@rule_test("INTEG-RESTART", "no-atomic-write")
def test_a_kill_during_a_cold_pull_leaves_nothing_a_reader_gets(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        image = rig.upstream.add_image("team/app", "v1", layers=[4 << 20])
        path = f"/v2/team/app/blobs/{image.blobs[-1]}"
        rig.upstream.add_fault("slow", Match(method="GET", kind="blob"), rate=1 << 20)
        cache = tmp_path / "cache"
        with ProxyProcess(rig.upstream.url, cache, defects) as first:
            pulling = threading.Thread(target=_pull_quietly, args=(first.url + path,), daemon=True)
            pulling.start()
            wait_until(lambda: _has_bytes(cache), what="part of the blob on disk")
            first.kill()
            pulling.join(timeout=10)
        rig.upstream.clear_faults()
        rig.upstream.set_outage("refused")
        with ProxyProcess(rig.upstream.url, cache, defects) as second:
            got = httpx.get(second.url + path, timeout=10)
            assert got.status_code == 502, (got.status_code, len(got.content))
            assert Cache(cache).verify() == []
            rig.upstream.set_outage("none")
            got = httpx.get(second.url + path, timeout=10)
            assert got.status_code == 200 and sha256(got.content) == image.blobs[-1]


def _pull_quietly(url: str) -> None:
    try:
        httpx.get(url, timeout=10)
    except httpx.TransportError:
        pass


def test_opening_drops_leftover_temp_files_and_keeps_content(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.open()
    manifest = StoredManifest(sha256(b"{}"), "application/vnd.oci.image.manifest.v1+json", b"{}")
    cache.put_manifest("team/app", manifest)
    cache.set_tag("team/app", "v1", manifest.digest, manifest.media_type)
    (tmp_path / "tmp" / "blob-left-by-a-crash").write_bytes(b"partial")
    cache.close()
    reopened = Cache(tmp_path)
    reopened.open()
    assert list((tmp_path / "tmp").iterdir()) == []
    assert reopened.tag("team/app", "v1") == (manifest.digest, manifest.media_type)
    assert reopened.manifest("team/app", manifest.digest) == manifest
    assert reopened.manifest("team/other", manifest.digest) is None
    assert reopened.tags("team/app") == ["v1"] and reopened.tags("team/none") is None
    assert reopened.repositories() == ["team/app"]
    reopened.close()


def test_one_proxy_per_directory(tmp_path: Path) -> None:
    first = Cache(tmp_path)
    first.open()
    with pytest.raises(CacheLocked):
        Cache(tmp_path).open()
    first.close()
    Cache(tmp_path).open()


def test_verify_finds_content_that_does_not_match_its_name(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.open()
    good = StoredManifest(sha256(b"good"), "application/json", b"good")
    cache.put_manifest("a", good)
    assert cache.verify() == []
    bad = cache.content_path(sha256(b"bad"))
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"not bad")
    assert cache.verify() == [str(bad)]


def test_a_torn_tag_record_reads_as_absent(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.open()
    cache.set_tag("a", "v1", "sha256:" + "1" * 64, "x")
    record = tmp_path / "repositories" / "a" / "_tags" / "v1"
    record.write_bytes(record.read_bytes()[:10])
    assert cache.tag("a", "v1") is None


@pytest.mark.parametrize(
    ("name", "digest"),
    [("..", "sha256:" + "1" * 64), ("a/../b", "sha256:" + "1" * 64), ("a/_tags", "sha256:" + "1" * 64),
     ("/etc", "sha256:" + "1" * 64), ("a", "sha256:../x"), ("a", "md5:" + "1" * 32), ("a", "sha256:" + "A" * 64)],
)  # fmt: skip
def test_paths_outside_the_cache_are_refused(tmp_path: Path, name: str, digest: str) -> None:
    cache = Cache(tmp_path / "cache")
    cache.open()
    with pytest.raises(UnsafePath):
        cache.link_blob(name, digest)
    with pytest.raises(UnsafePath):
        cache.set_tag(name if digest.endswith("1" * 64) else "a", "../v1", digest, "x")
    assert sorted(os.listdir(tmp_path)) == ["cache"]


def test_a_repository_linked_outside_the_cache_is_refused_every_time(tmp_path: Path) -> None:
    """A name's directory is checked once and remembered only when it passed: a symlink out of the cache
    keeps failing, and a manifest read through it is refused rather than read."""
    cache = Cache(tmp_path / "cache", manifest_memory=1)  # nothing kept in memory: every read goes to disk
    cache.open()
    outside = tmp_path / "outside"
    (outside / "_manifests" / "sha256").mkdir(parents=True)
    (outside / "_manifests" / "sha256" / ("1" * 64)).write_text("application/vnd.oci.image.manifest.v1+json")
    (tmp_path / "cache" / "repositories" / "evil").symlink_to(outside)
    for _ in range(2):
        with pytest.raises(UnsafePath):
            cache.manifest("evil", "sha256:" + "1" * 64)
    cache.put_manifest("good", StoredManifest("sha256:" + "2" * 64, "x", b"{}"))
    assert cache.manifest("good", "sha256:" + "2" * 64) == StoredManifest("sha256:" + "2" * 64, "x", b"{}")


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def test_manifests_held_in_memory_are_bounded_in_bytes(tmp_path: Path) -> None:
    """60 distinct 4 MB indexes took the proxy from 43 to 283 MB of RSS, and kept it (issue 10, item 5)."""
    with Rig(tmp_path) as rig:
        image = rig.upstream.add_image("team/app", "v1")
        child = {"mediaType": image.media_type, "digest": image.digest, "size": image.size}
        digests = []
        for number in range(60):
            document = {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [child],
                "annotations": {"number": str(number), "padding": "x" * (4_000_000 - 400)},
            }
            body = json.dumps(document).encode()
            digests.append(rig.upstream.add_manifest("team/app", f"big{number}", body, OCI_INDEX))
        with ProxyProcess(rig.upstream.url, tmp_path / "cache") as proxy, httpx.Client(timeout=30) as client:
            assert client.get(f"{proxy.url}/v2/team/app/manifests/v1", headers=ACCEPT).status_code == 200
            assert proxy.process is not None
            before = _rss(proxy.process.pid)
            for digest in [*digests, *digests[:20]]:  # the last 20: read back from the disk cache into memory
                got = client.get(f"{proxy.url}/v2/team/app/manifests/{digest}", headers=ACCEPT)
                assert got.status_code == 200 and sha256(got.content) == digest
            grown = _rss(proxy.process.pid) - before
        # The slack is the allocator's: freed 4 MB buffers kept in the read threads' arenas grew to 40 MiB on a
        # loaded machine. Unbounded, the same pulls grow 240 MiB.
        assert grown < MANIFEST_MEMORY + (64 << 20), f"RSS grew {grown >> 20} MiB for 240 MB of manifests"
