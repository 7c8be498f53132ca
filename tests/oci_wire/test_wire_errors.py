from __future__ import annotations

import json
import re

import pytest

from oci_wire import ErrorCode, error_body, parse_error_body

SPEC_STATUSES = {
    "BLOB_UNKNOWN": 404,
    "BLOB_UPLOAD_INVALID": 400,
    "BLOB_UPLOAD_UNKNOWN": 404,
    "DIGEST_INVALID": 400,
    "MANIFEST_BLOB_UNKNOWN": 400,
    "MANIFEST_INVALID": 400,
    "MANIFEST_UNKNOWN": 404,
    "NAME_INVALID": 400,
    "NAME_UNKNOWN": 404,
    "SIZE_INVALID": 400,
    "UNAUTHORIZED": 401,
    "DENIED": 403,
    "UNSUPPORTED": 405,
    "TOOMANYREQUESTS": 429,
}


def test_every_spec_code_exists_with_its_status() -> None:
    for code, status in SPEC_STATUSES.items():
        assert ErrorCode(code).status == status


def test_codes_are_upper_case_and_underscores() -> None:
    for code in ErrorCode:
        assert re.fullmatch(r"[A-Z_]+", code.value)
        assert 400 <= code.status <= 599


def test_error_body_round_trips() -> None:
    body = error_body(ErrorCode.MANIFEST_UNKNOWN, "manifest unknown", detail={"Tag": "v1"})
    assert json.loads(body) == {
        "errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": {"Tag": "v1"}}]
    }
    assert parse_error_body(body) == [("MANIFEST_UNKNOWN", "manifest unknown")]
    assert "detail" not in json.loads(error_body(ErrorCode.DENIED, "no"))["errors"][0]


@pytest.mark.parametrize(
    "body",
    [b"", b"Too Many Requests (HAP429).", b"[]", b'{"errors": []}', b'{"errors": [{"message": "x"}]}', b"\xff", b"{}"],
)
def test_parse_error_body_rejects_what_is_not_an_oci_error(body: bytes) -> None:
    assert parse_error_body(body) is None
