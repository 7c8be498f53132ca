"""The pull API as a client sees it: ping, manifests, blobs, ranges, tags, catalog, referrers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urljoin

import httpx
import pytest
from http_checks import ACCEPT, oci_error, sha256

from fake_upstream import FakeUpstream, Image
from oci_wire import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST

IMAGES = {
    "docker": dict(media_type="docker", platforms=None),
    "docker-list": dict(media_type="docker", platforms=["linux/amd64", "linux/arm64"]),
    "oci": dict(media_type="oci", platforms=None),
    "oci-index": dict(media_type="oci", platforms=["linux/amd64", "linux/arm/v7"]),
}
TYPES = {"docker": DOCKER_MANIFEST, "docker-list": DOCKER_MANIFEST_LIST, "oci": OCI_MANIFEST, "oci-index": OCI_INDEX}


@pytest.fixture(scope="module")
def registry() -> Iterator[tuple[FakeUpstream, dict[str, Image]]]:
    with FakeUpstream() as upstream:
        images = {
            name: upstream.add_image(f"pull/{name}", "v1", layers=[3000, 70_000], **options)  # type: ignore[arg-type]
            for name, options in IMAGES.items()
        }
        for tag in ("a", "b", "c", "d", "e"):
            upstream.tag("pull/oci", tag, images["oci"].digest)
        yield upstream, images


@pytest.fixture(scope="module")
def http(registry: tuple[FakeUpstream, dict[str, Image]]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=registry[0].url, timeout=5) as client:
        yield client


def test_ping(http: httpx.Client) -> None:
    for method in ("GET", "HEAD"):
        response = http.request(method, "/v2/")
        assert response.status_code == 200
        assert response.headers["docker-distribution-api-version"] == "registry/2.0"
    assert http.get("/v2/").json() == {}


@pytest.mark.parametrize("kind", IMAGES)
@pytest.mark.parametrize("by", ["tag", "digest"])
def test_manifest_get_and_head_agree_and_the_digest_holds(
    registry: tuple[FakeUpstream, dict[str, Image]], http: httpx.Client, kind: str, by: str
) -> None:
    image = registry[1][kind]
    reference = "v1" if by == "tag" else image.digest
    got = http.get(f"/v2/pull/{kind}/manifests/{reference}", headers=ACCEPT)
    assert got.status_code == 200
    assert sha256(got.content) == got.headers["docker-content-digest"] == image.digest
    assert got.headers["content-type"] == TYPES[kind] == json.loads(got.content)["mediaType"] == image.media_type
    assert int(got.headers["content-length"]) == len(got.content) == image.size
    assert got.headers["etag"] == f'"{image.digest}"'
    assert got.headers["docker-distribution-api-version"] == "registry/2.0"
    head = http.head(f"/v2/pull/{kind}/manifests/{reference}", headers=ACCEPT)
    assert head.status_code == 200 and head.content == b""
    for header in ("content-type", "content-length", "docker-content-digest", "etag"):
        assert head.headers[header] == got.headers[header]


def test_the_children_of_an_index_are_served_by_digest(
    registry: tuple[FakeUpstream, dict[str, Image]], http: httpx.Client
) -> None:
    image = registry[1]["oci-index"]
    index = http.get("/v2/pull/oci-index/manifests/v1", headers=ACCEPT).json()
    assert [entry["digest"] for entry in index["manifests"]] == list(image.manifests.values())
    for platform in image.platforms:
        child = http.get(f"/v2/pull/oci-index/manifests/{platform.manifest}", headers=ACCEPT)
        assert child.status_code == 200 and sha256(child.content) == platform.manifest
        assert len(child.content) == platform.manifest_size


def test_without_strict_accept_the_stored_type_is_served_anyway(http: httpx.Client) -> None:
    response = http.get("/v2/pull/oci-index/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
    assert response.status_code == 200 and response.headers["content-type"] == OCI_INDEX


def test_strict_accept_answers_manifest_unknown_for_an_excluded_type() -> None:
    with FakeUpstream(strict_accept=True) as upstream, httpx.Client(base_url=upstream.url) as http:
        upstream.add_image("strict/app", "v1", media_type="docker")
        for method in ("GET", "HEAD"):
            excluded = http.request(method, "/v2/strict/app/manifests/v1", headers={"Accept": OCI_MANIFEST})
            assert excluded.status_code == 404
        oci_error(http.get("/v2/strict/app/manifests/v1", headers={"Accept": OCI_MANIFEST}), 404, "MANIFEST_UNKNOWN")
        assert http.get("/v2/strict/app/manifests/v1", headers={"Accept": DOCKER_MANIFEST}).status_code == 200
        assert http.get("/v2/strict/app/manifests/v1").status_code == 200


def test_unknown_manifests(http: httpx.Client) -> None:
    oci_error(http.get("/v2/pull/oci/manifests/nope"), 404, "MANIFEST_UNKNOWN")
    oci_error(http.get("/v2/pull/oci/manifests/sha256:" + "0" * 64), 404, "MANIFEST_UNKNOWN")
    oci_error(http.get("/v2/pull/nothing/manifests/v1"), 404, "NAME_UNKNOWN")
    head = http.head("/v2/pull/oci/manifests/nope")
    assert head.status_code == 404 and head.content == b"" and int(head.headers["content-length"]) > 0


def test_blob_get_and_head(registry: tuple[FakeUpstream, dict[str, Image]], http: httpx.Client) -> None:
    platform = registry[1]["docker"].platforms[0]
    for blob in (platform.config, *platform.layers):
        got = http.get(f"/v2/pull/docker/blobs/{blob.digest}")
        assert got.status_code == 200
        assert sha256(got.content) == got.headers["docker-content-digest"] == blob.digest
        assert int(got.headers["content-length"]) == len(got.content) == blob.size
        assert got.headers["content-type"] == "application/octet-stream"
        head = http.head(f"/v2/pull/docker/blobs/{blob.digest}")
        assert head.status_code == 200 and head.content == b""
        for header in ("content-type", "content-length", "docker-content-digest", "etag", "accept-ranges"):
            assert head.headers[header] == got.headers[header]


def test_a_blob_of_another_repository_is_unknown_here(
    registry: tuple[FakeUpstream, dict[str, Image]], http: httpx.Client
) -> None:
    layer = registry[1]["docker"].platforms[0].layers[1]
    oci_error(http.get(f"/v2/pull/oci/blobs/{layer.digest}"), 404, "BLOB_UNKNOWN")
    oci_error(http.get("/v2/pull/docker/blobs/sha256:" + "0" * 64), 404, "BLOB_UNKNOWN")


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=100-", 100, None),
        ("bytes=-50", -50, None),
        ("bytes=10-10", 10, 11),
        ("bytes=60000-99999999", 60000, None),
    ],
)
def test_range(
    registry: tuple[FakeUpstream, dict[str, Image]], http: httpx.Client, header: str, start: int, end: int | None
) -> None:
    layer = registry[1]["docker"].platforms[0].layers[1]
    whole = http.get(f"/v2/pull/docker/blobs/{layer.digest}").content
    part = http.get(f"/v2/pull/docker/blobs/{layer.digest}", headers={"Range": header})
    assert part.status_code == 206
    expected = whole[start:end]
    first = start if start >= 0 else len(whole) + start
    assert part.content == expected
    assert part.headers["content-range"] == f"bytes {first}-{first + len(expected) - 1}/{len(whole)}"
    assert int(part.headers["content-length"]) == len(expected)
    assert part.headers["docker-content-digest"] == layer.digest


def test_unsatisfiable_and_ignored_ranges(registry: tuple[FakeUpstream, dict[str, Image]], http: httpx.Client) -> None:
    layer = registry[1]["docker"].platforms[0].layers[1]
    url = f"/v2/pull/docker/blobs/{layer.digest}"
    beyond = http.get(url, headers={"Range": f"bytes={layer.size}-"})
    oci_error(beyond, 416, "RANGE_INVALID")
    assert beyond.headers["content-range"] == f"bytes */{layer.size}"
    huge = "9" * 4301  # more digits than int() converts: was a 500 (issue 10, item 2)
    oci_error(http.get(url, headers={"Range": f"bytes={huge}-"}), 416, "RANGE_INVALID")
    assert len(http.get(url, headers={"Range": f"bytes=0-{huge}"}).content) == layer.size
    for ignored in ("bytes=5-2", "bytes=0-1,5-9", "items=0-5", "bytes=x-", "bytes=²-"):
        response = http.get(url, headers={"Range": ignored.encode()})
        assert response.status_code == 200 and len(response.content) == layer.size, ignored


def _follow(http: httpx.Client, url: str) -> tuple[list[list[str]], list[str]]:
    pages, links = [], []
    next_url: str | None = url
    while next_url is not None:
        response = http.get(next_url)
        assert response.status_code == 200
        key = "tags" if "/tags/list" in next_url else "repositories"
        pages.append(response.json()[key])
        link = response.headers.get("link")
        next_url = None
        if link is not None:
            assert link.endswith('>; rel="next"') and link.startswith("<")
            links.append(link)
            next_url = urljoin(str(response.url), link[1 : link.index(">")])
    return pages, links


def test_tags_list_is_sorted_and_paginates_with_link(http: httpx.Client) -> None:
    assert http.get("/v2/pull/oci/tags/list").json() == {"name": "pull/oci", "tags": ["a", "b", "c", "d", "e", "v1"]}
    pages, links = _follow(http, "/v2/pull/oci/tags/list?n=4")
    assert pages == [["a", "b", "c", "d"], ["e", "v1"]]
    assert links == ['</v2/pull/oci/tags/list?n=4&last=d>; rel="next"']
    assert _follow(http, "/v2/pull/oci/tags/list?n=2&last=b")[0] == [["c", "d"], ["e", "v1"]]
    assert _follow(http, "/v2/pull/oci/tags/list?n=6")[0] == [["a", "b", "c", "d", "e", "v1"]]
    empty = http.get("/v2/pull/oci/tags/list?n=0")
    assert empty.json()["tags"] == [] and "link" not in empty.headers
    assert http.get("/v2/pull/oci/tags/list?last=d").json()["tags"] == ["e", "v1"]
    oci_error(http.get("/v2/pull/none/tags/list"), 404, "NAME_UNKNOWN")


def test_catalog_paginates(http: httpx.Client) -> None:
    everything = http.get("/v2/_catalog").json()["repositories"]
    assert everything == sorted(f"pull/{name}" for name in IMAGES)
    pages, _ = _follow(http, "/v2/_catalog?n=3")
    assert pages == [everything[:3], everything[3:]]


def test_referrers(registry: tuple[FakeUpstream, dict[str, Image]], http: httpx.Client) -> None:
    upstream, images = registry
    subject = images["oci"]
    empty_config = b"{}"
    config_digest = upstream.add_blob("pull/oci", empty_config, "application/vnd.oci.empty.v1+json")
    sbom = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/spdx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config_digest, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": config_digest, "size": 2}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject.digest, "size": subject.size},
        "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
    }
    body = json.dumps(sbom).encode()
    put = http.put(f"/v2/pull/oci/manifests/{sha256(body)}", content=body, headers={"Content-Type": OCI_MANIFEST})
    assert put.status_code == 201 and put.headers["oci-subject"] == subject.digest
    found = http.get(f"/v2/pull/oci/referrers/{subject.digest}")
    assert found.status_code == 200 and found.headers["content-type"] == OCI_INDEX
    assert found.json() == {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": sha256(body),
                "size": len(body),
                "artifactType": "application/spdx+json",
                "annotations": sbom["annotations"],
            }
        ],
    }
    filtered = http.get(f"/v2/pull/oci/referrers/{subject.digest}?artifactType=application/spdx%2Bjson")
    assert filtered.headers["oci-filters-applied"] == "artifactType" and len(filtered.json()["manifests"]) == 1
    other = http.get(f"/v2/pull/oci/referrers/{subject.digest}?artifactType=application/vnd.example")
    assert other.json()["manifests"] == []
    none = http.get(f"/v2/pull/oci/referrers/{images['docker'].digest}")
    assert none.status_code == 200 and none.json()["manifests"] == []
    oci_error(http.get("/v2/pull/oci/referrers/sha256:xyz"), 400, "DIGEST_INVALID")
