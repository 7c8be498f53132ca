"""Settling on Harbor: what a case pulled is read from the client's own transcript, and each kind is waited for in
the shape Harbor stores it (a tag on the digest, a child under an index, a blob by itself), until its deadline."""

from __future__ import annotations

import itertools

from harness.targets.harbor_api import Artifact
from harness.targets.harbor_settle import Pulled, settle, stored, what_was_pulled
from oci_wire import INDEX_MEDIA_TYPES
from reports.model import Exchange

PATH = "pullthrough-abc123-gw0/stale-404/r1/app"
INDEX = "sha256:" + "1" * 64
CHILD = "sha256:" + "2" * 64
CONFIG = "sha256:" + "3" * 64
LAYER = "sha256:" + "4" * 64
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _exchange(method: str, section: str, reference: str, status: int = 200, media_type: str = "") -> Exchange:
    headers = {"content-type": media_type} if media_type else {}
    return Exchange(
        method, f"http://harbor.test/v2/{PATH}/{section}/{reference}", status=status, response_headers=headers
    )


def _index_pull() -> list[Exchange]:
    return [
        _exchange("HEAD", "manifests", "v1", 401),
        Exchange("GET", "http://harbor.test/service/token?scope=repository:x:pull", status=200),
        _exchange("HEAD", "manifests", "v1", media_type=OCI_INDEX),
        _exchange("GET", "manifests", "v1", media_type=OCI_INDEX),
        _exchange("GET", "manifests", CHILD, media_type=OCI_MANIFEST),
        _exchange("GET", "blobs", CONFIG),
        _exchange("GET", "blobs", LAYER),
    ]


def test_the_transcript_says_what_each_digest_was() -> None:
    assert OCI_INDEX in INDEX_MEDIA_TYPES
    assert what_was_pulled(_index_pull(), PATH, [INDEX, CHILD, CONFIG, LAYER]) == [
        Pulled(INDEX, "index", "v1"),
        Pulled(CHILD, "manifest"),
        Pulled(CONFIG, "blob"),
        Pulled(LAYER, "blob"),
    ]


def test_a_request_harbor_refused_still_says_what_was_asked() -> None:
    # A cold blob HEAD is answered 404 (Harbor never proxies it); it is a blob all the same.
    exchanges = [_exchange("HEAD", "blobs", LAYER, 404)]
    assert what_was_pulled(exchanges, PATH, [LAYER]) == [Pulled(LAYER, "blob")]


def test_an_image_pulled_by_tag_is_stored_once_its_digest_carries_the_tag() -> None:
    pulled = Pulled(CHILD, "manifest", "v1")
    assert not stored(pulled, [Artifact(CHILD, OCI_MANIFEST)], set(), lambda d: True)
    assert stored(pulled, [Artifact(CHILD, OCI_MANIFEST, ("v1",))], set(), lambda d: True)


def test_an_index_is_stored_re_serialised_under_a_digest_of_its_own() -> None:
    pulled = Pulled(INDEX, "index", "v1")
    trimmed = Artifact("sha256:" + "9" * 64, OCI_INDEX, ("v1",), (CHILD,))
    assert stored(pulled, [trimmed], {CHILD}, lambda d: False)
    assert not stored(pulled, [Artifact(trimmed.digest, OCI_INDEX, (), (CHILD,))], {CHILD}, lambda d: False)
    # Its child is listed under it once the index is stored.
    assert stored(Pulled(CHILD, "manifest"), [trimmed], {CHILD}, lambda d: False)


def test_each_kind_is_given_up_at_its_own_deadline() -> None:
    polls = itertools.count()
    blobs_seen: list[str] = []

    def blob_exists(digest: str) -> bool:
        blobs_seen.append(digest)
        return True

    def artifacts() -> list[Artifact]:
        return [Artifact(CHILD, OCI_MANIFEST)] if next(polls) > 1 else []

    pulled = [Pulled(INDEX, "index", "v1"), Pulled(CHILD, "manifest"), Pulled(LAYER, "blob")]
    settled = settle(pulled, artifacts, blob_exists, deadlines={"blob": 0.5, "manifest": 1.5, "index": 1.0})
    assert not settled.complete
    assert settled.detail == f"Harbor had not stored the index of tag v1 ({INDEX[7:19]})"
    assert blobs_seen == [LAYER]  # a stored blob is not asked about again


def test_everything_stored_is_complete() -> None:
    pulled = [Pulled(CHILD, "manifest", "v1"), Pulled(LAYER, "blob")]
    settled = settle(pulled, lambda: [Artifact(CHILD, OCI_MANIFEST, ("v1",))], lambda d: True)
    assert settled.complete and settled.waited < 2
