"""Blobs through the reference proxy: from the cache without asking (FRESH-1/3), ranges, HEAD parity and
digest headers (PROTO-*), HEAD economy (ECON-HEAD), and isolation between repositories (SEC-ISOLATION)."""

from __future__ import annotations

from pathlib import Path

import pytest
from http_checks import ACCEPT, oci_error, sha256
from proxy_checks import Rig, pull, rule_test

from fake_upstream import Match


@rule_test("FRESH-1", "refetch-blobs", "no-cache-large-blobs")
def test_an_unchanged_tag_fetches_no_blob_again(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("team/app", "v1", layers=[2048, 70_000])
        first = pull(client, image)
        rig.upstream.clear_journal()
        assert pull(client, image) == first
        fetched = [e.path for e in rig.upstream_requests(kind="blob")]
        assert fetched == [], fetched


@rule_test("FRESH-3", "no-cache-config")
def test_a_cold_pull_caches_the_whole_image(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("team/app", "v1", layers=[2048, 70_000])
        first = pull(client, image)
        rig.upstream.set_outage("refused")
        assert pull(client, image) == first


@rule_test("PROTO-RANGE", "ignore-range")
@pytest.mark.parametrize(
    ("header", "start", "end"), [("bytes=0-99", 0, 100), ("bytes=1000-", 1000, 5000), ("bytes=-10", 4990, 5000)]
)
def test_ranges_of_cached_blobs(tmp_path: Path, defects: frozenset[str], header: str, start: int, end: int) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("team/app", "v1", layers=[5000], gzip=False)
        layer = image.platforms[0].layers[0]
        assert layer.size == 5000
        whole = client.get(f"/v2/team/app/blobs/{layer.digest}").content
        got = client.get(f"/v2/team/app/blobs/{layer.digest}", headers={"Range": header})
        assert got.status_code == 206, got.status_code
        assert got.headers["content-range"] == f"bytes {start}-{end - 1}/5000"
        assert got.content == whole[start:end]
        unsatisfiable = client.get(f"/v2/team/app/blobs/{layer.digest}", headers={"Range": "bytes=6000-"})
        oci_error(unsatisfiable, 416, "RANGE_INVALID")
        assert unsatisfiable.headers["content-range"] == "bytes */5000"


@rule_test("PROTO-HEAD", "head-no-length")
@pytest.mark.parametrize("what", ["tag", "digest", "config", "layer", "cold-blob", "cold-digest"])
def test_head_answers_like_get(tmp_path: Path, defects: frozenset[str], what: str) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("team/app", "v1", layers=[70_000])
        platform = image.platforms[0]
        path = {
            "tag": "manifests/v1",
            "digest": f"manifests/{image.digest}",
            "config": f"blobs/{platform.config.digest}",
            "layer": f"blobs/{platform.layers[0].digest}",
            "cold-blob": f"blobs/{platform.layers[0].digest}",
            "cold-digest": f"manifests/{image.digest}",
        }[what]
        if not what.startswith("cold"):
            pull(client, image)
        head = client.head(f"/v2/team/app/{path}", headers=ACCEPT)
        get = client.get(f"/v2/team/app/{path}", headers=ACCEPT)
        assert head.status_code == get.status_code == 200
        assert head.content == b""
        for header in ("content-type", "content-length", "docker-content-digest"):
            assert head.headers.get(header) == get.headers.get(header), header
        assert int(head.headers["content-length"]) == len(get.content)


@rule_test("PROTO-DIGEST-HEADER", "wrong-digest-header", "no-digest-header-cached")
@pytest.mark.parametrize("layer", [70_000, 3 << 20], ids=["answered-whole", "streamed"])
def test_every_answer_names_its_digest(tmp_path: Path, defects: frozenset[str], layer: int) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("team/app", "v1", layers=[2048, layer])
        for _ in ("cold", "cached"):
            for path in ["manifests/v1", f"manifests/{image.digest}", *(f"blobs/{b}" for b in image.blobs)]:
                got = client.get(f"/v2/team/app/{path}", headers=ACCEPT)
                assert got.status_code == 200
                assert got.headers.get("docker-content-digest") == sha256(got.content), path
        for path, digest in [("manifests/v1", image.digest), *((f"blobs/{b}", b) for b in image.blobs)]:
            head = client.head(f"/v2/team/app/{path}", headers=ACCEPT)
            assert head.headers.get("docker-content-digest") == digest, f"HEAD {path}"


@rule_test("ECON-HEAD", "head-as-get")
@pytest.mark.parametrize("what", ["blob", "manifest"])
def test_a_cold_head_costs_at_most_a_head(tmp_path: Path, defects: frozenset[str], what: str) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("team/app", "v1", layers=[300_000])
        digest = image.platforms[0].layers[0].digest if what == "blob" else image.digest
        plural = "blobs" if what == "blob" else "manifests"
        head = client.head(f"/v2/team/app/{plural}/{digest}", headers=ACCEPT)
        assert head.status_code == 200 and head.headers["docker-content-digest"] == digest
        assert [e.method for e in rig.upstream_requests(kind=what)] == ["HEAD"]


@rule_test("SEC-ISOLATION", "cross-repo-blobs")
@pytest.mark.parametrize("what", ["blob", "manifest"])
def test_content_cached_for_one_repository_needs_the_upstream_for_another(
    tmp_path: Path, defects: frozenset[str], what: str
) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("private/a", "v1", layers=[4096])
        rig.upstream.add_image("public/b", "v1", layers=[1000])
        pull(client, image)
        digest = image.platforms[0].layers[0].digest if what == "blob" else image.digest
        plural = "blobs" if what == "blob" else "manifests"
        for method in ("GET", "HEAD"):
            got = client.request(method, f"/v2/public/b/{plural}/{digest}", headers=ACCEPT)
            assert got.status_code == 404, (method, got.status_code)
        rig.upstream.set_outage("refused")
        oci_error(client.get(f"/v2/public/b/{plural}/{digest}", headers=ACCEPT), 502, "UNAVAILABLE")


def test_content_the_upstream_confirms_is_linked_without_a_download(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy())
        first = rig.upstream.add_image("team/a", "v1", layers=[70_000], seed=7)
        second = rig.upstream.add_image("team/b", "v1", layers=[70_000], seed=7)
        assert first.blobs == second.blobs
        pull(client, first)
        rig.upstream.clear_journal()
        blob = first.blobs[-1]
        assert sha256(client.get(f"/v2/team/b/blobs/{blob}").content) == blob
        assert [(e.method, e.repository) for e in rig.upstream_requests()] == [("HEAD", "team/b")]
        rig.upstream.set_outage("refused")
        assert sha256(client.get(f"/v2/team/b/blobs/{blob}").content) == blob


def test_a_blob_unknown_upstream_is_404(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy())
        rig.upstream.add_image("team/app", "v1")
        missing = "sha256:" + "0" * 64
        oci_error(client.get(f"/v2/team/app/blobs/{missing}"), 404, "BLOB_UNKNOWN")
        head = client.head(f"/v2/team/app/blobs/{missing}")
        assert head.status_code == 404 and head.content == b""
        rig.upstream.add_fault("404", Match(kind="blob"))
        oci_error(client.get(f"/v2/team/app/blobs/{missing}"), 404, "BLOB_UNKNOWN")


@pytest.mark.parametrize("header", [f"bytes={'9' * 4301}-", f"bytes=0-{'9' * 4301}", f"bytes=-{'9' * 5000}"])
def test_a_range_with_huge_numbers_is_answered_cleanly(tmp_path: Path, header: str) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy())
        image = rig.upstream.add_image("team/app", "v1", layers=[5000], gzip=False)
        layer = image.platforms[0].layers[0].digest
        whole = client.get(f"/v2/team/app/blobs/{layer}")
        got = client.get(f"/v2/team/app/blobs/{layer}", headers={"Range": header})
        assert got.status_code in (200, 206, 416), (got.status_code, got.text[:200])
        if got.status_code == 416:
            oci_error(got, 416, "RANGE_INVALID")
        else:
            assert whole.content.endswith(got.content) or whole.content.startswith(got.content)
