"""Requests the registry must refuse cleanly (an OCI error, never a 500, nothing changed), and the journal."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from http_checks import ACCEPT, oci_error, raw_request

from fake_upstream import FakeUpstream, Image
from oci_wire import parse_error_body

GOOD_DIGEST = "sha256:" + "0" * 64


@pytest.fixture(scope="module")
def registry() -> Iterator[tuple[FakeUpstream, Image]]:
    with FakeUpstream() as upstream:
        yield upstream, upstream.add_image("team/app", "v1", layers=[4000])


@pytest.fixture(scope="module")
def http(registry: tuple[FakeUpstream, Image]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=registry[0].url, timeout=5) as client:
        yield client


@pytest.fixture(autouse=True)
def unchanged(registry: tuple[FakeUpstream, Image]) -> Iterator[None]:
    """Every bad request in this module leaves the store as it was."""
    before = registry[0].inventory()
    yield
    assert registry[0].inventory() == before


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/v2/team/app/blobs/sha256:abc", "DIGEST_INVALID"),
        ("HEAD", "/v2/team/app/blobs/sha256:abc", "DIGEST_INVALID"),
        ("GET", "/v2/team/app/blobs/md5:" + "0" * 32, "DIGEST_INVALID"),
        ("GET", "/v2/team/app/blobs/latest", "DIGEST_INVALID"),
        ("DELETE", "/v2/team/app/blobs/sha256:XYZ", "DIGEST_INVALID"),
        ("GET", "/v2/team/app/manifests/sha256:" + "G" * 64, "DIGEST_INVALID"),
        ("HEAD", "/v2/team/app/manifests/sha256:123", "DIGEST_INVALID"),
        ("DELETE", "/v2/team/app/manifests/sha256:123", "DIGEST_INVALID"),
        ("GET", "/v2/team/app/referrers/nope:1", "DIGEST_INVALID"),
        ("GET", "/v2/Team/App/manifests/v1", "NAME_INVALID"),
        ("GET", f"/v2/team/app-/blobs/{GOOD_DIGEST}", "NAME_INVALID"),
        ("GET", "/v2/team%2F..%2Fapp/tags/list", "NAME_INVALID"),
        ("GET", "/v2/%2e%2e/team/app/manifests/v1", "NAME_INVALID"),
        ("GET", "/v2/team/%2e%2e/app/manifests/v1", "NAME_INVALID"),
        ("POST", "/v2/UPPER/blobs/uploads/", "NAME_INVALID"),
        ("GET", "/v2/" + "a" * 256 + "/tags/list", "NAME_INVALID"),
        ("GET", "/v2/team/app/tags/list?n=-1", "PAGINATION_NUMBER_INVALID"),
        ("GET", "/v2/team/app/tags/list?n=abc", "PAGINATION_NUMBER_INVALID"),
        ("GET", "/v2/team/app/tags/list?n=10001", "PAGINATION_NUMBER_INVALID"),
        ("GET", "/v2/team/app/tags/list?n=%C2%B2", "PAGINATION_NUMBER_INVALID"),
        ("GET", "/v2/team/app/tags/list?n=99999999999999999999", "PAGINATION_NUMBER_INVALID"),
        ("GET", "/v2/_catalog?n=1.5", "PAGINATION_NUMBER_INVALID"),
    ],
)
def test_bad_requests_get_a_clean_400(http: httpx.Client, method: str, path: str, code: str) -> None:
    response = http.request(method, path)
    assert response.status_code == 400, response.text
    if method != "HEAD":
        oci_error(response, 400, code)


@pytest.mark.parametrize(
    "path",
    [
        "/v2/../team/app/manifests/v1",
        "/v2/team/../app/manifests/v1",
        "/v2/./team/app/manifests/v1",
        "/v2/team/app/../../etc/blobs/" + GOOD_DIGEST,
    ],
)
def test_dot_segments_that_no_client_normalised_are_invalid_names(
    registry: tuple[FakeUpstream, Image], path: str
) -> None:
    status, headers, body = raw_request(registry[0].url, path)
    assert status == 400 and headers["content-type"] == "application/json"
    assert parse_error_body(body) is not None and parse_error_body(body)[0][0] == "NAME_INVALID"  # type: ignore[index]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v2/team/app/manifests/.hidden", 404, "MANIFEST_UNKNOWN"),
        ("GET", "/v2/team/app/manifests/%2e%2e", 404, "MANIFEST_UNKNOWN"),
        ("GET", "/v2/team/app/blobs/uploads/nope", 404, "BLOB_UPLOAD_UNKNOWN"),
        ("GET", "/v2/team/app/unknown/thing", 404, "NAME_UNKNOWN"),
        ("GET", "/v2/", 200, ""),
        ("GET", "/nothing-here", 404, "NAME_UNKNOWN"),
        ("POST", "/v2/team/app/manifests/v1", 405, "UNSUPPORTED"),
        ("PUT", "/v2/team/app/tags/list", 405, "UNSUPPORTED"),
        ("PATCH", "/v2/team/app/blobs/uploads/", 405, "UNSUPPORTED"),
        ("DELETE", "/v2/_catalog", 405, "UNSUPPORTED"),
        ("TRACE", "/v2/team/app/manifests/v1", 405, "UNSUPPORTED"),
        ("DELETE", "/token", 405, "UNSUPPORTED"),
    ],
)
def test_unknown_endpoints_and_methods(http: httpx.Client, method: str, path: str, status: int, code: str) -> None:
    response = http.request(method, path)
    if code:
        oci_error(response, status, code)
    else:
        assert response.status_code == status


def test_oversized_bodies_are_refused_before_they_are_read(http: httpx.Client) -> None:
    oci_error(
        http.put(
            "/v2/team/app/manifests/v2",
            content=b"{" + b" " * (4 << 20) + b"}",
            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        ),
        413,
        "SIZE_INVALID",
    )
    oci_error(http.post("/token", content=b"a" * (65 << 10)), 413, "SIZE_INVALID")


def test_the_journal_records_each_request(registry: tuple[FakeUpstream, Image], http: httpx.Client) -> None:
    upstream, image = registry
    upstream.clear_journal()
    started = time.time()
    layer = image.platforms[0].layers[0]
    http.get("/v2/team/app/manifests/v1", headers={**ACCEPT, "User-Agent": "probe/1"})
    http.head(f"/v2/team/app/blobs/{layer.digest}")
    http.get(f"/v2/team/app/blobs/{layer.digest}", headers={"Range": "bytes=0-9"})
    http.get("/v2/team/app/tags/list?n=1")
    http.get("/v2/team/app/manifests/nope")
    entries = upstream.journal()
    assert [(e.method, e.kind, e.status) for e in entries] == [
        ("GET", "manifest", 200),
        ("HEAD", "blob", 200),
        ("GET", "blob", 206),
        ("GET", "tags", 200),
        ("GET", "manifest", 404),
    ]
    first, head, ranged, tags, missing = entries
    assert first.path == "/v2/team/app/manifests/v1" and first.repository == "team/app" and first.reference == "v1"
    assert first.bytes == image.size and first.complete and first.user_agent == "probe/1"
    assert first.auth == "none" and first.client == "127.0.0.1" and first.fault is None and first.outage is None
    assert started <= first.time <= time.time() and first.duration is not None and 0 <= first.duration < 5
    assert head.bytes == 0 and head.reference == layer.digest
    assert ranged.range == "bytes=0-9" and ranged.bytes == 10
    assert tags.path == "/v2/team/app/tags/list?n=1"
    assert missing.bytes > 0 and missing.complete
    assert upstream.journal(since=time.time() + 60) == []
    entries[0].status = 999
    assert upstream.journal()[0].status == 200, "the journal hands out copies"
    upstream.clear_journal()
    assert upstream.journal() == []
