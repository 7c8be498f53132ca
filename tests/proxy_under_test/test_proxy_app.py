"""The application's edges: ping, unknown endpoints, push refused (PROTO-NO-PUSH), OCI error bodies (PROTO-ERRORS)."""

from __future__ import annotations

from pathlib import Path

import pytest
from http_checks import ACCEPT, oci_error
from proxy_checks import Rig, rule_test

from oci_wire import ErrorCode, parse_error_body

DIGEST = "sha256:" + "c" * 64
WRITES = [
    ("POST", "/v2/team/app/blobs/uploads/"),
    ("PATCH", "/v2/team/app/blobs/uploads/0123abcd"),
    ("PUT", f"/v2/team/app/blobs/uploads/0123abcd?digest={DIGEST}"),
    ("PUT", "/v2/team/app/manifests/v1"),
    ("DELETE", "/v2/team/app/manifests/v1"),
    ("DELETE", f"/v2/team/app/blobs/{DIGEST}"),
]


@rule_test("PROTO-NO-PUSH", "allow-push")
@pytest.mark.parametrize(("method", "path"), WRITES)
def test_writes_are_refused_and_never_reach_the_upstream(
    tmp_path: Path, defects: frozenset[str], method: str, path: str
) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        rig.upstream.add_image("team/app", "v1")
        got = client.request(method, path, content=b"{}", headers={"Content-Type": "application/octet-stream"})
        oci_error(got, 405, "UNSUPPORTED")
        assert got.headers["allow"] == "GET, HEAD"
        assert rig.upstream_requests() == []


@rule_test("PROTO-ERRORS", "plain-errors")
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v2/team/app/manifests/v9", 404),
        ("GET", "/v2/team/app/blobs/sha256:bad", 400),
        ("GET", "/v2/BAD/manifests/v1", 400),
        ("POST", "/v2/team/app/blobs/uploads/", 405),
        ("GET", "/v2/team/app/referrers/" + DIGEST, 404),
        ("GET", "/nowhere", 404),
        ("GET", "/v2/team/app/tags/list?n=-1", 400),
    ],
)
def test_errors_are_oci_bodies_with_a_code_for_their_status(
    tmp_path: Path, defects: frozenset[str], method: str, path: str, status: int
) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        rig.upstream.add_image("team/app", "v1")
        got = client.request(method, path, headers=ACCEPT)
        assert got.status_code == status
        assert got.headers["content-type"] == "application/json"
        assert got.headers["docker-distribution-api-version"] == "registry/2.0"
        errors = parse_error_body(got.content)
        assert errors is not None, got.text
        assert ErrorCode(errors[0][0]).status == status, errors
        head = client.head(path) if method == "GET" else None
        if head is not None:
            assert head.status_code == status and head.content == b""
            assert int(head.headers["content-length"]) == len(got.content)


def test_ping_answers_without_the_upstream(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy())
        rig.upstream.set_outage("refused")
        for path in ("/v2/", "/v2"):
            got = client.get(path)
            assert got.status_code == 200 and got.json() == {}
            assert got.headers["docker-distribution-api-version"] == "registry/2.0"
        assert client.head("/v2/").status_code == 200
