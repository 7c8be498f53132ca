"""The push API: what skopeo, docker and crane do to seed a registry, and what they get wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from http_checks import oci_error, sha256

from fake_upstream import FakeUpstream
from oci_wire import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST

BLOB = bytes(range(256)) * 100


@pytest.fixture
def http(upstream: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=upstream.url, timeout=5) as client:
        yield client


def _start(http: httpx.Client, name: str = "push/app") -> str:
    response = http.post(f"/v2/{name}/blobs/uploads/")
    assert response.status_code == 202
    assert response.headers["range"] == "0-0"
    assert response.headers["docker-upload-uuid"] in response.headers["location"]
    return response.headers["location"]


def _has_blob(http: httpx.Client, digest: str, name: str = "push/app") -> bool:
    return http.head(f"/v2/{name}/blobs/{digest}").status_code == 200


def test_monolithic_post_then_put(http: httpx.Client) -> None:
    location = _start(http)
    put = http.put(location, params={"digest": sha256(BLOB)}, content=BLOB)
    assert put.status_code == 201
    assert put.headers["location"] == f"/v2/push/app/blobs/{sha256(BLOB)}"
    assert put.headers["docker-content-digest"] == sha256(BLOB)
    assert http.get(put.headers["location"]).content == BLOB


def test_single_post_with_digest(http: httpx.Client) -> None:
    response = http.post("/v2/push/app/blobs/uploads/", params={"digest": sha256(BLOB)}, content=BLOB)
    assert response.status_code == 201 and response.headers["docker-content-digest"] == sha256(BLOB)
    assert _has_blob(http, sha256(BLOB))


def test_chunked_upload_with_status(http: httpx.Client) -> None:
    location = _start(http)
    first = http.patch(location, content=BLOB[:1000], headers={"Content-Range": "0-999"})
    assert first.status_code == 202 and first.headers["range"] == "0-999"
    status = http.get(first.headers["location"])
    assert status.status_code == 204 and status.headers["range"] == "0-999"
    second = http.patch(first.headers["location"], content=BLOB[1000:20000], headers={"Content-Range": "1000-19999"})
    assert second.status_code == 202 and second.headers["range"] == "0-19999"
    unranged = http.patch(second.headers["location"], content=BLOB[20000:])
    assert unranged.status_code == 202 and unranged.headers["range"] == f"0-{len(BLOB) - 1}"
    done = http.put(unranged.headers["location"], params={"digest": sha256(BLOB)})
    assert done.status_code == 201
    assert http.get(f"/v2/push/app/blobs/{sha256(BLOB)}").content == BLOB


def test_a_final_chunk_may_come_with_the_put(http: httpx.Client) -> None:
    location = _start(http)
    http.patch(location, content=BLOB[:500])
    done = http.put(location, params={"digest": sha256(BLOB)}, content=BLOB[500:])
    assert done.status_code == 201 and _has_blob(http, sha256(BLOB))


@pytest.mark.parametrize(
    ("content_range", "size"),
    [("6-105", 100), ("0-99", 100), ("5-54", 100), ("5-", 10), ("a-b", 10)],
    ids=["gap", "rewind", "short-range", "open-range", "malformed"],
)
def test_a_chunk_at_the_wrong_offset_or_length_is_416_and_changes_nothing(
    upstream: FakeUpstream, http: httpx.Client, content_range: str, size: int
) -> None:
    location = _start(http)
    http.patch(location, content=BLOB[:5], headers={"Content-Range": "0-4"})
    before = upstream.inventory()
    response = http.patch(location, content=BLOB[5 : 5 + size], headers={"Content-Range": content_range})
    oci_error(response, 416, "BLOB_UPLOAD_INVALID")
    assert upstream.inventory() == before
    assert http.get(location).headers["range"] == "0-4"


def test_a_digest_mismatch_is_refused_and_stores_nothing(upstream: FakeUpstream, http: httpx.Client) -> None:
    location = _start(http)
    wrong = sha256(b"something else")
    oci_error(http.put(location, params={"digest": wrong}, content=BLOB), 400, "DIGEST_INVALID")
    oci_error(http.post("/v2/push/app/blobs/uploads/", params={"digest": wrong}, content=BLOB), 400, "DIGEST_INVALID")
    assert not _has_blob(http, wrong) and not _has_blob(http, sha256(BLOB))
    assert list(upstream.inventory()["uploads"]) == [location.rsplit("/", 1)[1]]


def test_put_without_or_with_a_malformed_digest(upstream: FakeUpstream, http: httpx.Client) -> None:
    location = _start(http)
    before = upstream.inventory()
    oci_error(http.put(location, content=BLOB), 400, "DIGEST_INVALID")
    oci_error(http.put(location, params={"digest": "sha256:abc"}, content=BLOB), 400, "DIGEST_INVALID")
    oci_error(http.post("/v2/push/app/blobs/uploads/", params={"digest": "md5:x"}, content=BLOB), 400, "DIGEST_INVALID")
    assert upstream.inventory() == before


def test_cancel_and_unknown_uploads(upstream: FakeUpstream, http: httpx.Client) -> None:
    location = _start(http)
    assert http.delete(location).status_code == 204
    oci_error(http.get(location), 404, "BLOB_UPLOAD_UNKNOWN")
    oci_error(http.patch(location, content=b"x"), 404, "BLOB_UPLOAD_UNKNOWN")
    oci_error(http.put("/v2/push/app/blobs/uploads/nope", params={"digest": sha256(b"")}), 404, "BLOB_UPLOAD_UNKNOWN")
    other = _start(http, "push/other")
    elsewhere = other.replace("push/other", "push/app")
    oci_error(http.put(elsewhere, params={"digest": sha256(b"")}), 404, "BLOB_UPLOAD_UNKNOWN")
    assert upstream.inventory()["uploads"] == {other.rsplit("/", 1)[1]: {"repository": "push/other", "size": 0}}


def test_cross_repository_mount(upstream: FakeUpstream, http: httpx.Client) -> None:
    digest = upstream.add_blob("push/source", BLOB)
    mounted = http.post("/v2/push/app/blobs/uploads/", params={"mount": digest, "from": "push/source"})
    assert mounted.status_code == 201 and mounted.headers["location"] == f"/v2/push/app/blobs/{digest}"
    assert http.get(f"/v2/push/app/blobs/{digest}").content == BLOB
    # Not in the named source (or unknown): a normal upload starts instead, as the spec allows.
    fallback = http.post("/v2/push/third/blobs/uploads/", params={"mount": digest, "from": "push/nowhere"})
    assert fallback.status_code == 202 and not _has_blob(http, digest, "push/third")
    unknown = http.post("/v2/push/third/blobs/uploads/", params={"mount": sha256(b"?"), "from": "push/source"})
    assert unknown.status_code == 202


def _image_manifest(upstream: FakeUpstream, media_type: str = OCI_MANIFEST, **extra: Any) -> bytes:
    config = upstream.add_blob("push/app", b'{"architecture":"amd64","os":"linux"}')
    layer = upstream.add_blob("push/app", BLOB)
    kind = "oci.image" if media_type == OCI_MANIFEST else "docker.container.image"
    document = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": f"application/vnd.{kind}.config.v1+json", "digest": config, "size": 37},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": len(BLOB)}],
        **extra,
    }
    return json.dumps(document).encode()


@pytest.mark.parametrize("media_type", [OCI_MANIFEST, DOCKER_MANIFEST])
def test_manifest_put_by_tag_and_by_digest(upstream: FakeUpstream, http: httpx.Client, media_type: str) -> None:
    body = _image_manifest(upstream, media_type)
    by_tag = http.put("/v2/push/app/manifests/v1", content=body, headers={"Content-Type": media_type})
    assert by_tag.status_code == 201
    assert by_tag.headers["docker-content-digest"] == sha256(body)
    assert by_tag.headers["location"] == f"/v2/push/app/manifests/{sha256(body)}"
    got = http.get("/v2/push/app/manifests/v1")
    assert got.content == body and got.headers["content-type"] == media_type
    by_digest = http.put(f"/v2/push/app/manifests/{sha256(body)}", content=body, headers={"Content-Type": media_type})
    assert by_digest.status_code == 201 and upstream.tags("push/app") == ["v1"]


def test_an_index_needs_its_children(upstream: FakeUpstream, http: httpx.Client) -> None:
    child = _image_manifest(upstream)
    entry = {"mediaType": OCI_MANIFEST, "digest": sha256(child), "size": len(child)}
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}).encode()
    oci_error(
        http.put("/v2/push/app/manifests/v1", content=index, headers={"Content-Type": OCI_INDEX}),
        400,
        "MANIFEST_BLOB_UNKNOWN",
    )
    http.put(f"/v2/push/app/manifests/{sha256(child)}", content=child, headers={"Content-Type": OCI_MANIFEST})
    assert http.put("/v2/push/app/manifests/v1", content=index, headers={"Content-Type": OCI_INDEX}).status_code == 201


def test_a_missing_subject_is_accepted(upstream: FakeUpstream, http: httpx.Client) -> None:
    subject = {"mediaType": OCI_MANIFEST, "digest": sha256(b"absent"), "size": 6}
    body = _image_manifest(upstream, subject=subject)
    response = http.put("/v2/push/app/manifests/sbom", content=body, headers={"Content-Type": OCI_MANIFEST})
    assert response.status_code == 201 and response.headers["oci-subject"] == subject["digest"]


def test_the_media_type_may_come_from_the_body(upstream: FakeUpstream, http: httpx.Client) -> None:
    body = _image_manifest(upstream)
    response = http.put("/v2/push/app/manifests/v1", content=body)
    assert response.status_code == 201
    assert http.get("/v2/push/app/manifests/v1").headers["content-type"] == OCI_MANIFEST


def test_a_manifest_of_4_mb_is_accepted(upstream: FakeUpstream, http: httpx.Client) -> None:
    padding = "x" * (4_000_000 - len(_image_manifest(upstream)) - 40)
    body = _image_manifest(upstream, annotations={"padding": padding})
    assert len(body) >= 3_999_000
    response = http.put("/v2/push/app/manifests/big", content=body, headers={"Content-Type": OCI_MANIFEST})
    assert response.status_code == 201
    assert http.get("/v2/push/app/manifests/big").content == body


def test_bad_manifests_are_refused_and_change_nothing(upstream: FakeUpstream, http: httpx.Client) -> None:
    good = _image_manifest(upstream)
    before = upstream.inventory()
    oversized = _image_manifest(upstream, annotations={"padding": "x" * (4 << 20)})
    cases = [
        ("v1", oversized, OCI_MANIFEST, 413, "SIZE_INVALID"),
        ("v1", b"{not json", OCI_MANIFEST, 400, "MANIFEST_INVALID"),
        ("v1", b"[]", OCI_MANIFEST, 400, "MANIFEST_INVALID"),
        ("v1", good, DOCKER_MANIFEST, 400, "MANIFEST_INVALID"),
        ("v1", good, "application/vnd.docker.distribution.manifest.v1+prettyjws", 400, "MANIFEST_INVALID"),
        ("v1", good.replace(b'"schemaVersion": 2', b'"schemaVersion": 1'), OCI_MANIFEST, 400, "MANIFEST_INVALID"),
        (
            "v1",
            _image_manifest(upstream, layers=[{"digest": sha256(b"nope")}]),
            OCI_MANIFEST,
            400,
            "MANIFEST_BLOB_UNKNOWN",
        ),
        (
            "v1",
            json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": 5}).encode(),
            OCI_MANIFEST,
            400,
            "MANIFEST_INVALID",
        ),
        (sha256(b"other"), good, OCI_MANIFEST, 400, "DIGEST_INVALID"),
        ("sha256:short", good, OCI_MANIFEST, 400, "DIGEST_INVALID"),
        (".bad-tag", good, OCI_MANIFEST, 400, "MANIFEST_INVALID"),
    ]
    for reference, body, media_type, status, code in cases:
        response = http.put(f"/v2/push/app/manifests/{reference}", content=body, headers={"Content-Type": media_type})
        oci_error(response, status, code)
    assert upstream.inventory() == before


def test_delete_manifest_by_tag_and_by_digest_and_delete_blob(upstream: FakeUpstream, http: httpx.Client) -> None:
    image = upstream.add_image("push/app", "v1")
    upstream.tag("push/app", "v2", image.digest)
    assert http.delete("/v2/push/app/manifests/v2").status_code == 202
    assert upstream.tags("push/app") == ["v1"]
    assert http.get(f"/v2/push/app/manifests/{image.digest}").status_code == 200
    assert http.delete(f"/v2/push/app/manifests/{image.digest}").status_code == 202
    assert upstream.tags("push/app") == []
    oci_error(http.get(f"/v2/push/app/manifests/{image.digest}"), 404, "MANIFEST_UNKNOWN")
    oci_error(http.delete("/v2/push/app/manifests/v9"), 404, "MANIFEST_UNKNOWN")
    layer = image.platforms[0].layers[0].digest
    assert http.delete(f"/v2/push/app/blobs/{layer}").status_code == 202
    oci_error(http.get(f"/v2/push/app/blobs/{layer}"), 404, "BLOB_UNKNOWN")
    oci_error(http.delete(f"/v2/push/app/blobs/{layer}"), 404, "BLOB_UNKNOWN")


def test_the_manifest_limit_is_4_mib_exactly(upstream: FakeUpstream, http: httpx.Client) -> None:
    def sized(total: int) -> bytes:
        bare = len(_image_manifest(upstream, annotations={"padding": ""}))
        return _image_manifest(upstream, annotations={"padding": "x" * (total - bare)})

    limit, over = sized(4 << 20), sized((4 << 20) + 1)
    assert (len(limit), len(over)) == (4 << 20, (4 << 20) + 1)
    before = upstream.inventory()
    response = http.put("/v2/push/app/manifests/over", content=over, headers={"Content-Type": OCI_MANIFEST})
    oci_error(response, 413, "SIZE_INVALID")
    assert upstream.inventory() == before
    response = http.put("/v2/push/app/manifests/limit", content=limit, headers={"Content-Type": OCI_MANIFEST})
    assert response.status_code == 201


@pytest.mark.parametrize("content_range", ["9" * 4301 + "-" + "9" * 4302, "0-" + "9" * 5000, "²-3", "0-²"])
def test_a_content_range_of_absurd_or_foreign_numbers_is_416(
    upstream: FakeUpstream, http: httpx.Client, content_range: str
) -> None:
    """More digits than int() converts were a 500 (issue 10, item 2)."""
    location = _start(http)
    response = http.patch(location, content=BLOB[:5], headers={"Content-Range": content_range.encode()})
    oci_error(response, 416, "BLOB_UPLOAD_INVALID")
    assert http.get(location).headers["range"] == "0-0"
