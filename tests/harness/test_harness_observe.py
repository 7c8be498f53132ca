from __future__ import annotations

import hashlib
import json

import pytest

from harness.client import Answer
from harness.observe import classify, kind_of, upstream_counts
from reports.model import Kind, UpstreamRequest

BODY = b'{"schemaVersion":2}'
DIGEST = "sha256:" + hashlib.sha256(BODY).hexdigest()
OTHER = "sha256:" + "1" * 64


def _answer(status: int | None, body: bytes = b"", method: str = "GET", **extra: object) -> Answer:
    headers = {"content-length": str(len(body))} if status is not None else {}
    headers.update(extra.pop("headers", {}))  # type: ignore[arg-type]
    answer = Answer(
        method,
        "http://proxy/v2/a/manifests/x",
        status=status,
        headers=headers,
        body=body,
        body_bytes=len(body),
        complete=status is not None,
        **extra,
    )  # type: ignore[arg-type]
    if status is not None and method == "GET":
        answer.body_digest = "sha256:" + hashlib.sha256(body).hexdigest()
    return answer


def test_served_cached_fresh_or_plain() -> None:
    answer = _answer(200, BODY, headers={"docker-content-digest": DIGEST})
    assert classify(answer, cached=DIGEST).label == "served-cached"
    assert classify(answer, cached=OTHER, fresh=DIGEST).label == "served-fresh"
    assert classify(answer).label == "served"


def test_wrong_bytes_under_the_asked_digest() -> None:
    observation = classify(_answer(200, BODY, headers={"docker-content-digest": OTHER}), asked=OTHER)
    assert observation.kind is Kind.WRONG_BYTES
    lying = classify(_answer(200, BODY, headers={"docker-content-digest": OTHER}), asked=DIGEST)
    assert lying.kind is Kind.WRONG_BYTES and "Docker-Content-Digest says" in lying.detail


def test_served_cached_needs_the_digest_header() -> None:
    bare = _answer(200, BODY)
    assert classify(bare, cached=DIGEST).kind is Kind.SERVED_WITHOUT_DIGEST
    assert classify(bare, asked=DIGEST, cached=DIGEST).label == "served-without-digest"
    head = _answer(200, method="HEAD")
    assert classify(head, asked=DIGEST, cached=DIGEST).kind is Kind.SERVED_WITHOUT_DIGEST
    head.headers["docker-content-digest"] = DIGEST
    assert classify(head, asked=DIGEST, cached=DIGEST).kind is Kind.SERVED_CACHED


def test_a_transfer_that_broke_is_visibly_aborted() -> None:
    broken = _answer(200, BODY[:5], headers={"content-length": str(len(BODY))})
    broken.complete, broken.error = False, "closed"
    observation = classify(broken, asked=DIGEST, size=len(BODY))
    assert observation.kind is Kind.ABORTED
    assert observation.detail == f"visibly aborted after 5 of {len(BODY)} bytes (closed)"


def test_a_clean_end_short_of_the_content_is_short_not_aborted() -> None:
    cut = _answer(200, BODY[:5], headers={"docker-content-digest": DIGEST})
    assert classify(cut, asked=DIGEST, size=len(BODY)).kind is Kind.SHORT
    assert classify(cut, asked=DIGEST).kind is Kind.WRONG_BYTES  # size unknown: just other bytes
    by_tag = _answer(200, BODY[:5])
    assert classify(by_tag, size=len(BODY), cached=DIGEST).kind is Kind.SHORT


def test_a_stall_after_the_headers_is_a_hang() -> None:
    stalled = _answer(200, BODY[:5])
    stalled.complete, stalled.error = False, "timeout"
    observation = classify(stalled, asked=DIGEST, size=len(BODY))
    assert (observation.kind, observation.status) == (Kind.HANG, 200)


def test_errors_are_clean_only_with_an_oci_body() -> None:
    body = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "nope"}]}).encode()
    assert classify(_answer(404, body)).label == "not-found(MANIFEST_UNKNOWN)"
    unavailable = json.dumps({"errors": [{"code": "UNAVAILABLE", "message": "upstream refused"}]}).encode()
    observation = classify(_answer(503, unavailable))
    assert (observation.label, observation.error_code, observation.detail) == (
        "clean-error(503 UNAVAILABLE)",
        "UNAVAILABLE",
        "upstream refused",
    )
    assert classify(_answer(502, b"<html>bad gateway</html>")).label == "unclean-error(502)"
    assert classify(_answer(404, method="HEAD")).label == "not-found"


def test_no_answer_is_a_hang_or_a_connection_error() -> None:
    assert classify(_answer(None, error="timeout")).kind == "hang"
    assert classify(_answer(None, error="refused")).label == "connection-error(refused)"
    assert classify(_answer(None, error="reset")).label == "connection-error(reset)"


def test_redirects_are_their_own_kind() -> None:
    assert classify(_answer(301, headers={"location": "/v2/"})).label == "redirect(301)"


def test_upstream_requests_are_counted_by_method_and_kind() -> None:
    entries = [
        UpstreamRequest(0, "HEAD", "/v2/a/manifests/v1", 200, 0, "none", "x"),
        UpstreamRequest(0, "GET", "/v2/a/blobs/sha256:1", 200, 9, "none", "x"),
        UpstreamRequest(0, "GET", "/v2/a/blobs/sha256:2", 200, 9, "none", "x"),
    ]
    assert upstream_counts(entries) == {"GET blob": 2, "HEAD manifest": 1}
    assert classify(_answer(200, BODY), upstream=entries).upstream == {"GET blob": 2, "HEAD manifest": 1}


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/v2/", "ping"),
        ("/v2/a/tags/list?n=1", "tags"),
        ("/token?scope=x", "token"),
        ("/v2/a/blobs/uploads/", "upload"),
        ("/v2/a/b/manifests/v1", "manifest"),
    ],
)
def test_kind_of_paths(path: str, kind: str) -> None:
    assert kind_of(path) == kind
