"""OciError: the clean error answer both servers give, for GET and for HEAD."""

from __future__ import annotations

import json

from oci_wire import ErrorCode
from serving import OciError
from serving._errors import raw_error


def test_the_body_status_and_headers() -> None:
    error = OciError(ErrorCode.TOOMANYREQUESTS, "slow down", headers={"Retry-After": "30"}, detail={"limit": 1})
    response = error.response()
    assert response.status_code == 429
    assert json.loads(response.body) == {
        "errors": [{"code": "TOOMANYREQUESTS", "message": "slow down", "detail": {"limit": 1}}]
    }
    assert response.headers["content-type"] == "application/json"
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"
    assert response.headers["retry-after"] == "30"
    assert str(error) == "slow down" and OciError(ErrorCode.NAME_UNKNOWN, "x", status=410).status == 410


def test_head_has_no_body_but_the_length_of_one() -> None:
    get, head = (OciError(ErrorCode.BLOB_UNKNOWN, "gone").response(head=flag) for flag in (False, True))
    assert head.body == b"" and head.headers["content-length"] == str(len(get.body)) == get.headers["content-length"]


def test_a_raw_answer_closes_the_connection() -> None:
    data = raw_error(431, ErrorCode.SIZE_INVALID, "too big", b"test")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"connection: close" in head and f"content-length: {len(body)}".encode() in head
    assert json.loads(body)["errors"][0] == {"code": "SIZE_INVALID", "message": "too big"}
